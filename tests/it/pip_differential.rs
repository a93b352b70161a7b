//! Differential test: reqlock's parser against pip's own parser, over the
//! shared corpus of real requirements files and our own fixtures. Every file
//! pip accepts must yield the same requirements; every file pip rejects must
//! make reqlock exit 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::{json, Value};

const ENV: &[(&str, &str)] = &[
    ("REQLOCK_TEST_INDEX", "https://env-index.invalid"),
    ("REQLOCK_TEST_VERSION", "1.26.4"),
];

fn pip_available() -> bool {
    Command::new("python3")
        .args(["-c", "import pip._internal.req.req_file"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn requirement_files(root: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            requirement_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "txt") {
            found.push(path);
        }
    }
}

fn corpus_dir() -> PathBuf {
    std::env::var_os("REQLOCK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"))
}

/// What reqlock makes of a file: its JSON document, or null when it exits 2.
fn reqlock_view(path: &Path) -> Value {
    let output = Command::cargo_bin("reqlock")
        .expect("binary built")
        .args(["list", "--format", "json"])
        .arg(path)
        .envs(ENV.iter().copied())
        .output()
        .expect("reqlock runs");
    match output.status.code() {
        Some(0) => serde_json::from_slice(&output.stdout).expect("valid JSON on stdout"),
        Some(2) => Value::Null,
        other => panic!(
            "reqlock exited {other:?} on {}: {}",
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

fn differential(files: &[PathBuf]) -> Vec<String> {
    let jobs: Vec<Value> = files
        .iter()
        .map(|path| json!({"path": path, "reqlock": reqlock_view(path)}))
        .collect();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/common/pip_view.py");
    let mut child = Command::new("python3")
        .arg(script)
        .envs(ENV.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let stdin = child.stdin.take().expect("stdin piped");
    serde_json::to_writer(stdin, &jobs).expect("jobs written");
    let output = child.wait_with_output().expect("pip_view finishes");
    assert!(output.status.success(), "pip_view.py failed");
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).expect("pip_view JSON");
    let mut failures = Vec::new();
    for (result, job) in results.iter().zip(&jobs) {
        let path = result["path"].as_str().unwrap_or_default();
        if result["pip"] == "rejected" && !job["reqlock"].is_null() {
            failures.push(format!(
                "{path}: pip rejects it ({}) but reqlock accepted it",
                result["pip_error"]
            ));
        }
        for mismatch in result["mismatches"].as_array().into_iter().flatten() {
            failures.push(format!("{path}: {}", mismatch.as_str().unwrap_or_default()));
        }
    }
    failures
}

#[test]
fn parser_agrees_with_pip_on_fixtures() {
    if !pip_available() {
        eprintln!("skipped: python3 with pip is not available");
        return;
    }
    let mut files = Vec::new();
    requirement_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parser"),
        &mut files,
    );
    requirement_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/errors"),
        &mut files,
    );
    assert!(files.len() >= 15, "fixtures missing: {files:?}");
    let failures = differential(&files);
    assert!(
        failures.is_empty(),
        "reqlock and pip disagree:\n{}",
        failures.join("\n")
    );
}

#[test]
fn parser_agrees_with_pip_on_the_shared_corpus() {
    let corpus = corpus_dir();
    if !corpus.is_dir() {
        eprintln!(
            "skipped: no corpus at {} (set REQLOCK_CORPUS)",
            corpus.display()
        );
        return;
    }
    if !pip_available() {
        eprintln!("skipped: python3 with pip is not available");
        return;
    }
    let mut files = Vec::new();
    requirement_files(&corpus, &mut files);
    let failures = differential(&files);
    assert!(
        failures.is_empty(),
        "reqlock and pip disagree:\n{}",
        failures.join("\n")
    );
}
