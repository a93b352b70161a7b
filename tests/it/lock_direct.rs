//! `reqlock lock` and `audit --deep` over direct references, against a real
//! HTTP index on loopback whose wheels, sdists and projects each test
//! makes: a remote wheel URL, local wheel and sdist paths, a local project
//! folder (plain and `-e`) with an in-tree backend, hash fragments, VCS
//! URLs, URL dependencies, and pip reading the lockfile.

use std::process::Command;

use crate::common::dists::{in_tree_pyproject, python_with_pip, sha256, wheel};
use crate::common::filled_index::Index;
use assert_cmd::cargo::CommandCargoExt;

/// An in-tree PEP 517 backend (`backend-path = ["."]`, nothing to install)
/// for `name` 1.0 depending on `dep`. Each metadata hook appends its name
/// to `calls.txt` in the project; `build_wheel` makes a real wheel,
/// so that pip can install what the backend describes.
fn backend(name: &str) -> String {
    let module = name.replace('-', "_");
    format!(
        r#"
import os
import zipfile

METADATA = "Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\nRequires-Dist: dep\n"
DIST_INFO = "{module}-1.0.dist-info"


def _note(hook):
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "calls.txt"), "a") as out:
        out.write(hook + "\n")


def _prepare(directory, hook):
    _note(hook)
    os.makedirs(os.path.join(directory, DIST_INFO))
    with open(os.path.join(directory, DIST_INFO, "METADATA"), "w") as out:
        out.write(METADATA)
    return DIST_INFO


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    return _prepare(metadata_directory, "wheel")


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    return _prepare(metadata_directory, "editable")


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = "{module}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as wheel:
        wheel.writestr("{module}/__init__.py", "")
        wheel.writestr(DIST_INFO + "/METADATA", METADATA)
        wheel.writestr(DIST_INFO + "/WHEEL", "Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(DIST_INFO + "/RECORD", "")
    return name


def build_sdist(sdist_directory, config_settings=None):
    raise RuntimeError("not needed")
"#
    )
}

/// A `.tar.gz` sdist of `name` 1.0 with a PKG-INFO reqlock may trust
/// (`Requires-Dist: dep`) and the in-tree backend pip builds it with.
fn sdist(name: &str) -> Vec<u8> {
    let pkg_info =
        format!("Metadata-Version: 2.2\nName: {name}\nVersion: 1.0\nRequires-Dist: dep\n");
    crate::common::dists::in_tree_sdist(&name.replace('-', "_"), &pkg_info, "[]", &backend(name))
}

/// `libs/<name>/`: a project folder with the in-tree backend.
fn project_folder(index: &Index, name: &str) {
    index.local(
        &format!("libs/{name}/pyproject.toml"),
        in_tree_pyproject("[]").as_bytes(),
    );
    index.local(&format!("libs/{name}/backend.py"), backend(name).as_bytes());
}

#[test]
fn remote_and_local_archives_are_locked_with_their_hashes_and_pip_accepts_them() {
    let index = Index::new();
    index.publish("dep", "dep-1.0-py3-none-any.whl", &wheel("dep", &[]));
    let remote = index.host("tool-1.0-py3-none-any.whl", &wheel("tool", &["dep>=1"]));
    let local_wheel = wheel("local-wheel", &["dep"]);
    index.local("vendor/local_wheel-1.0-py3-none-any.whl", &local_wheel);
    let local_sdist = sdist("local-sdist");
    index.local("vendor/local_sdist-1.0.tar.gz", &local_sdist);
    index.requirements(&format!(
        "zeta==0 ; python_version < '3'\ntool @ {remote}\n./vendor/local_wheel-1.0-py3-none-any.whl\n./vendor/local_sdist-1.0.tar.gz\n"
    ));
    let run = index.lock(&["-o", "requirements.lock"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("read metadata of local-sdist 1.0 from its sdist's PKG-INFO"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("no --hash"), "{}", run.stderr);
    let lockfile = std::fs::read_to_string(index.dir.path().join("requirements.lock")).unwrap();
    for (body, what) in [(&local_wheel, "local wheel"), (&local_sdist, "local sdist")] {
        assert!(
            lockfile.contains(&format!("--hash=sha256:{}", sha256(body))),
            "{what}: {lockfile}"
        );
    }
    insta::assert_snapshot!("lock_direct_archives", index.portless(&lockfile));

    // The remote wheel's metadata is cached by its hash; with that hash
    // on the URL, offline needs nothing more.
    let hash = sha256(&wheel("tool", &["dep>=1"]));
    index.requirements(&format!("tool @ {remote}#sha256={hash}\n"));
    let online = index.lock(&[]);
    assert_eq!(online.code, 0, "{}", online.stderr);
    let offline = index.lock(&["--offline"]);
    assert_eq!(offline.code, 0, "{}", offline.stderr);
    assert_eq!(offline.stdout, online.stdout);

    if !python_with_pip() {
        return;
    }
    let output = Command::new("python3")
        .args(["-m", "pip", "download", "--no-deps", "--require-hashes"])
        .args([
            "--no-cache-dir",
            "--disable-pip-version-check",
            "-d",
            "downloads",
        ])
        .args(["-r", "requirements.lock"])
        .current_dir(index.dir.path())
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env_remove("PIP_FIND_LINKS")
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .output()
        .expect("pip runs");
    assert!(
        output.status.success(),
        "pip refused the lockfile:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_project_folder_is_built_every_time_plain_and_editable() {
    if !python_with_pip() {
        return;
    }
    let index = Index::new();
    index.publish("dep", "dep-1.0-py3-none-any.whl", &wheel("dep", &[]));
    project_folder(&index, "mypkg");
    project_folder(&index, "editpkg");
    index.requirements("./libs/mypkg\n-e ./libs/editpkg\n");
    let run = index.lock(&["-o", "requirements.lock"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lockfile = std::fs::read_to_string(index.dir.path().join("requirements.lock")).unwrap();
    insta::assert_snapshot!("lock_direct_folders", index.portless(&lockfile));
    assert!(
        run.stderr
            .contains("built metadata of mypkg 1.0 from ./libs/mypkg (backend)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("warning: no --hash for -e ./libs/editpkg, ./libs/mypkg"),
        "{}",
        run.stderr
    );
    let calls = |name: &str| {
        std::fs::read_to_string(index.dir.path().join("libs").join(name).join("calls.txt"))
            .unwrap_or_default()
    };
    // The editable project was asked with the PEP 660 hook, the plain one
    // with the wheel hook.
    assert_eq!(calls("mypkg"), "wheel\n");
    assert_eq!(calls("editpkg"), "editable\n");

    // Folders change under the lock: never cached, built again.
    let again = index.lock(&[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(calls("mypkg"), "wheel\nwheel\n");

    let pylock = index.lock(&["--format", "pylock", "-o", "pylock.toml"]);
    assert_eq!(pylock.code, 0, "{}", pylock.stderr);
    let document: toml::Value =
        toml::from_str(&std::fs::read_to_string(index.dir.path().join("pylock.toml")).unwrap())
            .expect("pylock.toml is TOML");
    let packages = document["packages"].as_array().unwrap();
    let editpkg = packages
        .iter()
        .find(|package| package["name"].as_str() == Some("editpkg"))
        .expect("editpkg");
    assert_eq!(
        editpkg["directory"]["path"].as_str(),
        Some("./libs/editpkg")
    );
    assert_eq!(editpkg["directory"]["editable"].as_bool(), Some(true));
    assert!(editpkg.get("version").is_none(), "{editpkg}");

    let forbidden = index.lock(&["--no-build"]);
    assert_eq!(forbidden.code, 2, "{}", forbidden.stderr);
    assert!(
        forbidden.stderr.contains("requirements.txt:1: `./libs/mypkg`: building the metadata of ./libs/mypkg needs its build backend, and `--no-build` forbids running it"),
        "{}",
        forbidden.stderr
    );
    assert!(
        forbidden.stderr.contains("= help: drop `--no-build`"),
        "{}",
        forbidden.stderr
    );
}

#[test]
fn a_hash_fragment_that_does_not_match_is_refused() {
    let index = Index::new();
    let remote = index.host("tool-1.0-py3-none-any.whl", &wheel("tool", &[]));
    index.requirements(&format!("tool @ {remote}#sha256={}\n", "0".repeat(64)));
    let run = index.lock(&["-o", "requirements.lock"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "requirements.txt:1: `tool`: tool-1.0-py3-none-any.whl does not match its hash: expected sha256:{}",
            "0".repeat(64)
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("= help: the file changed"),
        "{}",
        run.stderr
    );
    assert!(!index.dir.path().join("requirements.lock").exists());
}

#[test]
fn a_vcs_url_cannot_be_locked_yet() {
    let index = Index::new();
    index.requirements("\ngit+https://vcs.invalid/o/demo.git@v1#egg=demo\n");
    let run = index.lock(&[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("requirements.txt:2: `demo`: VCS requirements cannot be locked yet"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("= help: pin a released version"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn a_dependency_url_is_allowed_only_when_a_line_names_it() {
    let index = Index::new();
    let helper = index.host("helper-1.0-py3-none-any.whl", &wheel("helper", &[]));
    let tool = index.host(
        "tool-1.0-py3-none-any.whl",
        &wheel("tool", &[&format!("helper @ {helper}")]),
    );
    index.requirements(&format!("tool @ {tool}\n"));
    let refused = index.lock(&[]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains(&format!(
            "depends on `helper @ {helper}`, which is not on an index (a dependency's URL is allowed only when a requirement line names the same URL)"
        )),
        "{}",
        refused.stderr
    );

    index.requirements(&format!("tool @ {tool}\nhelper @ {helper}\n"));
    let allowed = index.lock(&[]);
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
    assert!(
        allowed.stdout.contains(&format!("helper @ {helper}")),
        "{}",
        allowed.stdout
    );
    assert!(
        allowed
            .stdout
            .contains("    # via\n    #   -r requirements.txt\n    #   tool\n"),
        "{}",
        allowed.stdout
    );
}

#[test]
fn audit_deep_covers_the_dependencies_of_a_direct_reference() {
    let index = Index::new();
    index.publish("dep", "dep-1.0-py3-none-any.whl", &wheel("dep", &[]));
    let tool = index.host("tool-1.0-py3-none-any.whl", &wheel("tool", &["dep"]));
    index.requirements(&format!("tool @ {tool}\n"));
    let run = index.run("audit", &["--deep", "--format", "json"]);
    let document: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let closure: Vec<(String, bool)> = document["closure"]
        .as_array()
        .unwrap_or_else(|| panic!("a closure: {document:#}\n{}", run.stderr))
        .iter()
        .map(|package| {
            (
                package["name"].as_str().unwrap().to_string(),
                package["pinned"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        closure,
        [("dep".to_string(), false), ("tool".to_string(), true)]
    );
    let transitive: Vec<&serde_json::Value> = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|finding| finding["rule"] == "unpinned-transitive")
        .collect();
    assert_eq!(transitive.len(), 1, "{document:#}");
    assert_eq!(transitive[0]["package"], "dep");
    assert_eq!(transitive[0]["line"], 1);
    assert!(!run.stderr.contains("left out"), "{}", run.stderr);
}

#[test]
fn a_file_url_is_kept_as_written_with_its_extras() {
    let index = Index::new();
    index.publish("dep", "dep-1.0-py3-none-any.whl", &wheel("dep", &[]));
    index.local("vendor/w-1.0-py3-none-any.whl", &wheel("w", &["dep"]));
    let url = format!(
        "file://{}",
        index
            .dir
            .path()
            .join("vendor/w-1.0-py3-none-any.whl")
            .display()
    );
    index.requirements(&format!("w[extra] @ {url}\n"));
    let run = index.lock(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains(&format!("w[extra] @ {url} \\\n    --hash=sha256:")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("dep==1.0"), "{}", run.stdout);
}

#[test]
fn audit_reads_the_direct_references_of_a_pylock() {
    let index = Index::new();
    index.publish("dep", "dep-1.0-py3-none-any.whl", &wheel("dep", &[]));
    let remote = index.host("tool-1.0-py3-none-any.whl", &wheel("tool", &["dep"]));
    let local_wheel = wheel("local-wheel", &[]);
    index.local("vendor/local_wheel-1.0-py3-none-any.whl", &local_wheel);
    index.requirements(&format!(
        "tool @ {remote}\n./vendor/local_wheel-1.0-py3-none-any.whl\n"
    ));
    let lock = index.lock(&["--format", "pylock", "-o", "pylock.toml"]);
    assert_eq!(lock.code, 0, "{}", lock.stderr);
    // What `lock` writes for a project folder (see
    // a_project_folder_is_built_every_time_plain_and_editable), and an
    // archive another tool wrote without hashes.
    let path = index.dir.path().join("pylock.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!(
        "\n[[packages]]\nname = \"mypkg\"\n[packages.directory]\npath = \"./libs/mypkg\"\neditable = true\n\n[[packages]]\nname = \"loose\"\nversion = \"1.0\"\n[packages.archive]\nurl = \"http://127.0.0.1:{}/files/loose-1.0-py3-none-any.whl\"\n",
        index.server.port
    ));
    std::fs::write(&path, text).unwrap();

    let list = Command::cargo_bin("reqlock")
        .unwrap()
        .args(["list", "--format", "json", "pylock.toml"])
        .current_dir(index.dir.path())
        .output()
        .unwrap();
    assert!(
        list.status.success(),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&list.stdout).expect("JSON");
    let requirement = |name: &str| {
        listed["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|requirement| requirement["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {listed:#}"))
            .clone()
    };
    let tool = requirement("tool");
    assert_eq!(tool["url"], serde_json::json!(remote));
    assert_eq!(tool["specifier"], "");
    let tool_hash = format!("sha256:{}", sha256(&wheel("tool", &["dep"])));
    assert_eq!(tool["hashes"], serde_json::json!([tool_hash]));
    let local = requirement("local-wheel");
    assert_eq!(local["url"], "./vendor/local_wheel-1.0-py3-none-any.whl");
    assert_eq!(
        local["hashes"],
        serde_json::json!([format!("sha256:{}", sha256(&local_wheel))])
    );
    let mypkg = requirement("mypkg");
    assert_eq!(mypkg["url"], "./libs/mypkg");
    assert_eq!(mypkg["editable"], true);
    assert_eq!(requirement("dep")["specifier"], "==1.0");

    let audit = index.run_on("audit", &["--offline", "--format", "json"], "pylock.toml");
    let document: serde_json::Value = serde_json::from_str(&audit.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}\n{}", audit.stdout, audit.stderr));
    let mut findings: Vec<(String, String)> = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| {
            (
                finding["rule"].as_str().unwrap().to_string(),
                finding["package"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    findings.sort();
    // Hashed archives and index pins pass hash-checking mode; the editable
    // folder and the unhashed archive do not, and that archive's URL can
    // change under the lock, as in a requirements file.
    assert_eq!(
        findings,
        [
            ("missing-hash".to_string(), "loose".to_string()),
            ("missing-hash".to_string(), "mypkg".to_string()),
            ("unpinned-url".to_string(), "loose".to_string()),
        ],
        "{document:#}"
    );
    assert!(!audit.stderr.contains("left out"), "{}", audit.stderr);
}

#[test]
fn credentials_of_a_direct_url_stay_out_of_the_lockfile() {
    let index = Index::new();
    index.publish("dep", "dep-1.0-py3-none-any.whl", &wheel("dep", &[]));
    let remote = index.host("tool-1.0-py3-none-any.whl", &wheel("tool", &["dep>=1"]));
    let with_token = remote.replacen("://", "://ci:s3cr3t@", 1);
    index.requirements(&format!("tool @ {with_token}\n"));
    let run = index.lock(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(&format!("tool @ {remote}")),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("s3cr3t"), "{}", run.stdout);
    assert!(!run.stderr.contains("s3cr3t"), "{}", run.stderr);
}
