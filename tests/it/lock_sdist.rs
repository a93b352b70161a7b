//! `reqlock lock` over releases that have only an sdist, against a real
//! HTTP index on loopback whose sdists and wheels each test makes: static
//! `PKG-INFO` (no build), PEP 517 builds through in-tree backends in an
//! isolated environment (requirements installed from the same index),
//! the metadata cache, `--no-build` and a failing backend.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::dists::{
    python_with_pip, sha256, tar_gz_sdist, wheel_with_module, zip, zip_sdist,
};
use crate::common::filled_index::Index;

/// PKG-INFO that PEP 643 lets a locker trust.
fn static_pkg_info(name: &str, requires: &[&str]) -> String {
    let mut text = format!("Metadata-Version: 2.2\nName: {name}\nVersion: 1.0\n");
    for requirement in requires {
        text.push_str(&format!("Requires-Dist: {requirement}\n"));
    }
    text
}

/// An in-tree backend: `pyproject.toml` and `backend.py`, plus PKG-INFO
/// too old to trust, so that a build is needed.
fn in_tree_sdist(name: &str, requires: &str, backend: &str) -> Vec<u8> {
    let pkg_info = format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n");
    crate::common::dists::in_tree_sdist(name, &pkg_info, requires, backend)
}

/// Python code of `prepare_metadata_for_build_wheel` writing METADATA for
/// `name` 1.0 whose `Requires-Dist` lines are the Python list `requires`.
fn prepare_hook(name: &str, requires: &str) -> String {
    format!(
        r#"
import os

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    dist_info = "{name}-1.0.dist-info"
    os.makedirs(os.path.join(metadata_directory, dist_info))
    lines = ["Metadata-Version: 2.1", "Name: {name}", "Version: 1.0"]
    lines += ["Requires-Dist: " + requirement for requirement in {requires}]
    with open(os.path.join(metadata_directory, dist_info, "METADATA"), "w") as out:
        out.write("\n".join(lines) + "\n")
    return dist_info
"#
    )
}

/// Serve `dep` as a `.zip` sdist with a static PKG-INFO and no
/// dependencies, for the built packages to depend on.
fn publish_dep(index: &Index, name: &str) {
    let pkg_info = static_pkg_info(name, &[]);
    index.publish(
        name,
        &format!("{name}-1.0.zip"),
        &zip_sdist(name, "1.0", &[("PKG-INFO", &pkg_info)]),
    );
}

fn read_marker(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn a_static_pkg_info_is_used_without_a_build_even_with_no_python() {
    let index = Index::with_requirements("solo\n");
    let pkg_info = static_pkg_info("solo", &["dep>=1"]);
    // A setup.py that would fail if anything ran it.
    index.publish(
        "solo",
        "solo-1.0.tar.gz",
        &tar_gz_sdist(
            "solo",
            "1.0",
            &[
                ("PKG-INFO", &pkg_info),
                ("setup.py", "raise SystemExit('must not run')\n"),
            ],
        ),
    );
    publish_dep(&index, "dep");
    let no_python = tempfile::tempdir().unwrap();
    let run = index.lock_with(&["--no-build"], |command| {
        command.env("PATH", no_python.path());
    });
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("solo==1.0"), "{}", run.stdout);
    assert!(run.stdout.contains("dep==1.0"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("read metadata of solo 1.0 from its sdist's PKG-INFO"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("built metadata"), "{}", run.stderr);
}

#[test]
fn an_in_tree_backend_is_built_once_and_then_answered_from_the_cache() {
    if !python_with_pip() {
        return;
    }
    let index = Index::with_requirements("built\n");
    let marker: PathBuf = index.dir.path().join("calls.txt");
    let backend = format!(
        "MARKER = {marker:?}\n{}\n_prepare = prepare_metadata_for_build_wheel\n\ndef prepare_metadata_for_build_wheel(directory, config_settings=None):\n    with open(MARKER, 'a') as out:\n        out.write('prepare\\n')\n    return _prepare(directory)\n",
        prepare_hook("built", "['dep>=1; python_version >= \"3\"']"),
        marker = marker.display().to_string(),
    );
    index.publish(
        "built",
        "built-1.0.tar.gz",
        &in_tree_sdist("built", "[]", &backend),
    );
    publish_dep(&index, "dep");
    let run = index.lock(&["-o", "requirements.lock"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lockfile = std::fs::read_to_string(index.dir.path().join("requirements.lock")).unwrap();
    assert!(lockfile.contains("built==1.0"), "{lockfile}");
    assert!(lockfile.contains("dep==1.0"), "{lockfile}");
    assert!(
        run.stderr
            .contains("built metadata of built 1.0 from its sdist (backend)"),
        "{}",
        run.stderr
    );
    assert_eq!(read_marker(&marker), "prepare\n");

    // The metadata is cached by the sdist's hash: no download, no build.
    let again = index.lock(&["--offline", "-o", "requirements.lock"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(!again.stderr.contains("built metadata"), "{}", again.stderr);
    assert_eq!(read_marker(&marker), "prepare\n");
    assert_eq!(index.file_requests("built-1.0.tar.gz"), 1);
}

#[test]
fn build_requirements_are_installed_from_the_locks_index() {
    if !python_with_pip() {
        return;
    }
    let index = Index::with_requirements("needs-helpers\n");
    // `helper` comes from `requires`, `helper-two` from the backend's
    // get_requires_for_build_wheel; each says which dependency to declare.
    let backend = format!(
        "import helper\n\ndef get_requires_for_build_wheel(config_settings=None):\n    return ['helper-two']\n{}\n_prepare = prepare_metadata_for_build_wheel\n\ndef prepare_metadata_for_build_wheel(directory, config_settings=None):\n    import helper_two\n    global REQUIRES\n    REQUIRES = [helper.DEPENDENCY, helper_two.DEPENDENCY]\n    return _prepare(directory)\n",
        prepare_hook("needs-helpers", "REQUIRES"),
    );
    index.publish(
        "needs-helpers",
        "needs_helpers-1.0.tar.gz",
        &in_tree_sdist("needs-helpers", "[\"helper\"]", &backend),
    );
    index.publish(
        "helper",
        "helper-1.0-py3-none-any.whl",
        &wheel_with_module("helper", &[], "DEPENDENCY = 'dep'\n"),
    );
    index.publish(
        "helper-two",
        "helper_two-1.0-py3-none-any.whl",
        &wheel_with_module("helper_two", &[], "DEPENDENCY = 'other'\n"),
    );
    publish_dep(&index, "dep");
    publish_dep(&index, "other");
    let run = index.lock(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("dep==1.0"), "{}", run.stdout);
    assert!(run.stdout.contains("other==1.0"), "{}", run.stdout);
    // Build requirements are not dependencies of the locked set.
    assert!(
        !run.stdout.lines().any(|line| line.starts_with("helper")),
        "{}",
        run.stdout
    );
    assert_eq!(index.file_requests("helper-1.0-py3-none-any.whl"), 1);
    assert_eq!(index.file_requests("helper_two-1.0-py3-none-any.whl"), 1);
}

#[test]
fn a_backend_without_prepare_metadata_is_asked_for_a_wheel() {
    if !python_with_pip() {
        return;
    }
    let index = Index::with_requirements("wheel-only\n");
    let backend = r#"
import os
import zipfile

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = "wheel_only-1.0-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as wheel:
        wheel.writestr("wheel_only/__init__.py", "")
        wheel.writestr(
            "wheel_only-1.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: wheel-only\nVersion: 1.0\nRequires-Dist: dep\n",
        )
    return name
"#;
    index.publish(
        "wheel-only",
        "wheel_only-1.0.tar.gz",
        &in_tree_sdist("wheel-only", "[]", backend),
    );
    publish_dep(&index, "dep");
    let run = index.lock(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("dep==1.0"), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("built metadata of wheel-only 1.0 from its sdist (backend)"),
        "{}",
        run.stderr
    );
}

#[test]
fn no_build_refuses_an_sdist_that_needs_a_build() {
    let index = Index::with_requirements("built\n");
    index.publish(
        "built",
        "built-1.0.tar.gz",
        &in_tree_sdist("built", "[]", &prepare_hook("built", "[]")),
    );
    let run = index.lock(&["--no-build", "-o", "requirements.lock"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("built 1.0 has only an sdist and its PKG-INFO does not declare its dependencies statically; `--no-build` forbids running its build backend"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("= help: drop `--no-build`"),
        "{}",
        run.stderr
    );
    assert!(!index.dir.path().join("requirements.lock").exists());
}

#[test]
fn a_failing_backend_shows_its_output_and_no_lockfile_is_written() {
    if !python_with_pip() {
        return;
    }
    let index = Index::with_requirements("broken\n");
    let backend = r#"
import sys

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    print("checking for a C compiler... none found", file=sys.stderr)
    raise RuntimeError("the compiler exploded")
"#;
    index.publish(
        "broken",
        "broken-1.0.tar.gz",
        &in_tree_sdist("broken", "[]", backend),
    );
    let run = index.lock(&["-o", "requirements.lock"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("could not build the metadata of broken 1.0 from its sdist"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("checking for a C compiler... none found"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("RuntimeError: the compiler exploded"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("= help: pin a version of broken"),
        "{}",
        run.stderr
    );
    assert!(!index.dir.path().join("requirements.lock").exists());
}

#[test]
fn an_sdist_that_does_not_match_the_index_hash_is_refused() {
    let index = Index::with_requirements("solo\n");
    let pkg_info = static_pkg_info("solo", &[]);
    index.publish_with_hash(
        "solo",
        "solo-1.0.tar.gz",
        &tar_gz_sdist("solo", "1.0", &[("PKG-INFO", &pkg_info)]),
        &"0".repeat(64),
    );
    let run = index.lock(&[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("solo-1.0.tar.gz does not match the index's hash"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn a_wheel_without_a_metadata_file_costs_two_range_reads() {
    let index = Index::with_requirements("big\n");
    let dist_info = "big-1.0.dist-info";
    // METADATA first and a module too big for the first read after it, so
    // the entry must be read on its own: header and data in one request.
    let files = [
        (
            format!("{dist_info}/METADATA"),
            "Metadata-Version: 2.1\nName: big\nVersion: 1.0\nRequires-Dist: dep\n".to_string(),
        ),
        ("big/__init__.py".to_string(), "#".repeat(200 * 1024)),
        (
            format!("{dist_info}/WHEEL"),
            "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n".to_string(),
        ),
    ];
    index.publish("big", "big-1.0-py3-none-any.whl", &zip(&files));
    publish_dep(&index, "dep");
    let run = index.lock(&["--no-build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("dep==1.0"), "{}", run.stdout);
    assert_eq!(index.file_requests("big-1.0-py3-none-any.whl.metadata"), 1);
    assert_eq!(index.file_requests("big-1.0-py3-none-any.whl"), 2);
}

#[test]
fn a_hanging_backend_is_stopped_at_the_build_timeout() {
    if !python_with_pip() {
        return;
    }
    let index = Index::with_requirements("slow\n");
    // A hook that would wait far longer than the test runs, as a setup.py
    // waiting on a server that never answers does.
    let backend = r#"
import time

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    print("waiting for the server...", flush=True)
    time.sleep(600)
"#;
    index.publish(
        "slow",
        "slow-1.0.tar.gz",
        &in_tree_sdist("slow", "[]", backend),
    );
    let run = index.lock(&["--build-timeout", "2", "-o", "requirements.lock"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "could not build the metadata of slow 1.0 from its sdist: `prepare_metadata_for_build_wheel` of the build backend `backend` did not finish within 2s (the build time limit) and was stopped"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("waiting for the server..."),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("= help: ") && run.stderr.contains("`--build-timeout SECONDS`"),
        "{}",
        run.stderr
    );
    assert!(!index.dir.path().join("requirements.lock").exists());
}

#[test]
fn a_download_past_its_limit_is_refused() {
    use reqlock::index::client::{ClientSettings, FetchError, IndexClient};
    let index = Index::with_requirements("");
    index.publish("blob", "blob-1.0.tar.gz", &[7u8; 100]);
    let client = IndexClient::new(ClientSettings::default(), None).unwrap();
    let url = index.server.url("files/blob-1.0.tar.gz");
    let whole = client.fetch_bytes(&url, None, 100).unwrap().unwrap();
    assert_eq!(whole.body.len(), 100);
    assert_eq!(
        client.fetch_bytes(&url, None, 99),
        Err(FetchError::TooLarge {
            url: url.clone(),
            limit: 99
        })
    );
}

#[test]
fn a_partial_answer_that_does_not_say_where_it_lies_is_refused() {
    use reqlock::index::client::{ClientSettings, FetchError, IndexClient};
    let index = Index::with_requirements("");
    index.publish("unsized", "unsized-1.0.tar.gz", &[7u8; 100]);
    let client = IndexClient::new(ClientSettings::default(), None).unwrap();
    let url = index.server.url("files/unsized-1.0.tar.gz");
    assert!(matches!(
        client.fetch_bytes(&url, Some("bytes=10-19"), 100),
        Err(FetchError::Malformed { message, .. }) if message.contains("bytes 10-19/*")
    ));
    assert_eq!(
        client
            .fetch_bytes(&url, None, 100)
            .unwrap()
            .unwrap()
            .body
            .len(),
        100
    );
}

#[test]
fn an_sdist_larger_than_the_index_says_is_not_downloaded_whole() {
    let index = Index::with_requirements("solo\n");
    let pkg_info = static_pkg_info("solo", &[]);
    // Stored, so the file is as large as its contents: past the size the
    // page gives, plus the slack.
    let filler = "#".repeat(1200 * 1024);
    let body = zip_sdist(
        "solo",
        "1.0",
        &[("PKG-INFO", &pkg_info), ("data.txt", &filler)],
    );
    index.publish("solo", "solo-1.0.zip", &body);
    let page_path = index.root.path().join("simple/solo.json");
    let mut page: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&page_path).unwrap()).unwrap();
    page["files"][0]["size"] = serde_json::json!(100);
    std::fs::write(&page_path, page.to_string()).unwrap();
    let run = index.lock(&[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "solo-1.0.zip is larger than 1048676 bytes, the most reqlock downloads for this sdist"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("= help: reqlock holds an sdist in memory"),
        "{}",
        run.stderr
    );
}

/// A wheel of `name` 1.0 whose METADATA requires `requires`.
fn metadata_wheel(name: &str, requires: &str) -> Vec<u8> {
    zip(&[
        (
            format!("{name}-1.0.dist-info/METADATA"),
            format!(
                "Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\nRequires-Dist: {requires}\n"
            ),
        ),
        (
            format!("{name}-1.0.dist-info/WHEEL"),
            "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n".to_string(),
        ),
    ])
}

#[test]
fn a_server_refusing_an_unadvertised_metadata_file_is_read_inside_the_wheel() {
    let index = Index::with_requirements("guarded\n");
    std::fs::write(
        index
            .root
            .path()
            .join("files")
            .join(crate::common::index_server::REFUSE_MISSING),
        "",
    )
    .unwrap();
    index.publish(
        "guarded",
        "guarded-1.0-py3-none-any.whl",
        &metadata_wheel("guarded", "dep"),
    );
    publish_dep(&index, "dep");
    let run = index.lock(&["--no-build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("dep==1.0"), "{}", run.stdout);
    assert_eq!(
        index.file_requests("guarded-1.0-py3-none-any.whl.metadata"),
        1
    );
}

#[test]
fn an_unreadable_wheel_gives_way_to_the_next_of_its_release() {
    let index = Index::with_requirements("pair\n");
    let good = metadata_wheel("pair", "dep");
    let files = index.root.path().join("files");
    std::fs::write(
        files.join("pair-1.0-cp312-cp312-manylinux_2_28_x86_64.whl"),
        b"not a zip",
    )
    .unwrap();
    std::fs::write(files.join("pair-1.0-py3-none-any.whl"), &good).unwrap();
    let page = serde_json::json!({
        "meta": {"api-version": "1.1"},
        "name": "pair",
        "files": [
            {"filename": "pair-1.0-cp312-cp312-manylinux_2_28_x86_64.whl",
             "url": "../../files/pair-1.0-cp312-cp312-manylinux_2_28_x86_64.whl",
             "hashes": {"sha256": sha256(b"not a zip")}},
            {"filename": "pair-1.0-py3-none-any.whl",
             "url": "../../files/pair-1.0-py3-none-any.whl",
             "hashes": {"sha256": sha256(&good)}},
        ],
    });
    std::fs::write(
        index.root.path().join("simple").join("pair.json"),
        page.to_string(),
    )
    .unwrap();
    publish_dep(&index, "dep");
    let run = index.lock(&["--no-build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("dep==1.0"), "{}", run.stdout);
}

#[cfg(unix)]
#[test]
fn an_interrupted_lock_stops_the_build_it_started() {
    if !python_with_pip() {
        return;
    }
    let index = Index::with_requirements("stuck\n");
    let pid_file = index.dir.path().join("hook.pid");
    let backend = format!(
        r#"
import os, time

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    with open({pid_file:?}, "w") as out:
        out.write(str(os.getpid()))
    time.sleep(600)
"#
    );
    index.publish(
        "stuck",
        "stuck-1.0.tar.gz",
        &in_tree_sdist("stuck", "[]", &backend),
    );
    let mut lock = index
        .command("lock", &[], "requirements.txt")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("reqlock starts");
    let hook = (0..600).find_map(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::fs::read_to_string(&pid_file)
            .ok()
            .filter(|pid| !pid.is_empty())
    });
    let hook = hook.expect("the hook started");
    let status = Command::new("kill")
        .args(["-INT", &lock.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = lock.wait().expect("reqlock ends");
    assert!(!exit.success());
    // Gone, or a zombie waiting for init to reap it: not running.
    let running = (0..50).all(|_| {
        let state = std::fs::read_to_string(format!("/proc/{hook}/stat")).unwrap_or_default();
        let alive = state
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'));
        if alive {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        alive
    });
    assert!(!running, "the hook (pid {hook}) still runs");
}
