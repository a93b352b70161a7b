//! `reqlock lock` against a real HTTP index on loopback: metadata from
//! `.metadata` files and from inside wheels (range reads), the metadata
//! cache, `--check`, and pip accepting the lockfile in hash-checking mode.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::index_server::IndexServer;
use crate::common::{reqlock, run, Run};

fn lock(dir: &Path, cache: &Path, args: &[&str]) -> Run {
    run(reqlock(cache)
        .arg("lock")
        .args([
            "--python-version",
            "3.12",
            "--platform",
            "manylinux_2_28_x86_64",
        ])
        .args(args)
        .current_dir(dir))
}

/// A project requiring `alpha`, a private cache, and the loopback index
/// serving the `locking` fixtures.
struct Project {
    server: IndexServer,
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
    index: String,
}

impl Project {
    fn new() -> Project {
        let server = IndexServer::start();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("requirements.txt"), "alpha\n").unwrap();
        let index = server.url("locking");
        Project {
            server,
            dir,
            cache: tempfile::tempdir().unwrap(),
            index,
        }
    }

    fn lock(&self, args: &[&str]) -> Run {
        lock(self.dir.path(), self.cache.path(), args)
    }
}

#[test]
fn locks_the_tree_reading_metadata_from_metadata_files_and_from_inside_wheels() {
    let project = Project::new();
    let run = project.lock(&["--index-url", &project.index, "requirements.txt"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // beta 2.0 has no `.metadata` file: gamma is only known from the
    // METADATA inside its wheel, read with range requests.
    assert!(run.stdout.contains("gamma==1.0"), "{}", run.stdout);
    let lockfile = run
        .stdout
        .replace(&project.server.port.to_string(), "[port]");
    insta::assert_snapshot!("lock_from_index", lockfile);
    assert!(
        project
            .server
            .requests()
            .iter()
            .any(|r| r.path == "/files/beta-2.0-py3-none-any.whl"),
        "the wheel itself was read"
    );
    // The workers that fetch ahead and the resolver share their answers:
    // each page is asked for once.
    let mut pages: Vec<String> = project
        .server
        .page_requests()
        .into_iter()
        .map(|request| request.path)
        .collect();
    pages.sort();
    assert_eq!(
        pages,
        ["/locking/alpha/", "/locking/beta/", "/locking/gamma/"]
    );

    // With --refresh every page is asked for again, once: a release's
    // files are then read back from what this run stored.
    let before = project.server.page_requests().len();
    let refreshed = project.lock(&[
        "--refresh",
        "--index-url",
        &project.index,
        "requirements.txt",
    ]);
    assert_eq!(refreshed.code, 0, "{}", refreshed.stderr);
    assert_eq!(refreshed.stdout, run.stdout);
    assert_eq!(project.server.page_requests().len(), before + 3);

    // Pages and metadata are cached: offline gives the same lockfile.
    let offline = project.lock(&[
        "--offline",
        "--index-url",
        &project.index,
        "requirements.txt",
    ]);
    assert_eq!(offline.code, 0, "{}", offline.stderr);
    assert_eq!(offline.stdout, run.stdout);
}

#[test]
fn check_reports_drift_and_writes_are_atomic_and_exact() {
    let project = Project::new();
    let args = [
        "--index-url",
        project.index.as_str(),
        "-o",
        "requirements.lock",
        "requirements.txt",
    ];
    let written = project.lock(&args);
    assert_eq!(written.code, 0, "{}", written.stderr);
    assert!(written.stdout.is_empty(), "with -o nothing goes to stdout");
    let mut check_args = args.to_vec();
    check_args.insert(0, "--check");
    let checked = project.lock(&check_args);
    assert_eq!(checked.code, 0, "{}", checked.stderr);

    let path = project.dir.path().join("requirements.lock");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("gamma==1.0", "gamma==0.9")).unwrap();
    let drifted = project.lock(&check_args);
    assert_eq!(drifted.code, 1, "{}", drifted.stderr);
    assert!(drifted.stdout.contains("-gamma==0.9"), "{}", drifted.stdout);
    assert!(drifted.stdout.contains("+gamma==1.0"), "{}", drifted.stdout);
}

#[test]
fn pip_accepts_the_lockfile_in_hash_checking_mode() {
    let pip = Command::new("python3")
        .args(["-m", "pip", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !pip.is_ok_and(|status| status.success()) {
        eprintln!("skipped: python3 -m pip is not available");
        return;
    }
    let project = Project::new();
    let run = project.lock(&[
        "--index-url",
        &project.index,
        "-o",
        "requirements.lock",
        "requirements.txt",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let output = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--require-hashes",
            "--no-cache-dir",
        ])
        .args([
            "--disable-pip-version-check",
            "--index-url",
            &project.index,
            "-d",
            "downloads",
        ])
        .args(["-r", "requirements.lock"])
        .current_dir(project.dir.path())
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
    let downloaded = std::fs::read_dir(project.dir.path().join("downloads"))
        .unwrap()
        .count();
    assert_eq!(downloaded, 3, "alpha, beta and gamma");
}

#[test]
fn exclude_newer_and_pylock_output() {
    let project = Project::new();
    // beta 2.0 was uploaded on 2024-01-02: before that, beta 1.0 (no gamma).
    let older = project.lock(&[
        "--index-url",
        &project.index,
        "--exclude-newer",
        "2024-01-01T12:00:00Z",
        "requirements.txt",
    ]);
    assert_eq!(older.code, 0, "{}", older.stderr);
    assert!(older.stdout.contains("beta==1.0"), "{}", older.stdout);
    assert!(!older.stdout.contains("gamma"), "{}", older.stdout);

    let pylock = project.lock(&[
        "--index-url",
        &project.index,
        "--format",
        "pylock",
        "requirements.txt",
    ]);
    assert_eq!(pylock.code, 0, "{}", pylock.stderr);
    let document: toml::Value = toml::from_str(&pylock.stdout).expect("pylock.toml is TOML");
    let names: Vec<&str> = document["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|package| package["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alpha", "beta", "gamma"]);
    let bad = project.lock(&["--exclude-newer", "last tuesday", "requirements.txt"]);
    assert_eq!(bad.code, 2);
}
