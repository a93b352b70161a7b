//! The real binary, run on fixture files: output snapshots and exit codes.

use crate::common::{reqlock as hermetic, run, Run};

/// Runs the binary hermetically: audits here test the offline rules, so
/// they get `--offline`, an empty cache, an index nobody listens on and a
/// fixed target (the local python3 must not change snapshots).
fn reqlock(args: &[&str]) -> Run {
    let cache = tempfile::tempdir().expect("temp dir");
    let mut args = args.to_vec();
    if args.first() == Some(&"audit") {
        args.splice(
            1..1,
            [
                "--offline",
                "--python-version",
                "3.12",
                "--platform",
                "manylinux_2_28_x86_64",
            ],
        );
    }
    run(hermetic(cache.path())
        .args(&args)
        .env("PIP_INDEX_URL", "http://127.0.0.1:9/simple/")
        .env_remove("NO_COLOR")
        .env("REQLOCK_TEST_INDEX", "https://env-index.invalid")
        .env("REQLOCK_TEST_VERSION", "1.26.4"))
}

#[test]
fn list_json_of_every_feature() {
    let run = reqlock(&[
        "list",
        "--format",
        "json",
        "tests/fixtures/parser/everything.txt",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("list_everything_json", run.stdout);
    insta::assert_snapshot!("list_everything_stderr", run.stderr);
}

#[test]
fn list_table() {
    let run = reqlock(&[
        "list",
        "tests/fixtures/parser/crlf.txt",
        "tests/fixtures/parser/bom.txt",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("list_table", run.stdout);
}

#[test]
fn list_expands_environment_variables() {
    let run = reqlock(&[
        "list",
        "--format",
        "json",
        "tests/fixtures/parser/env-vars.txt",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(document["requirements"][0]["specifier"], "==1.26.4");
    assert_eq!(
        document["options"]["extra_index_urls"][0],
        "https://env-index.invalid/simple"
    );
    assert_eq!(
        document["requirements"][1]["url"],
        "https://files.invalid/${REQLOCK_TEST_UNSET_VARIABLE}/pandas.tar.gz"
    );
}

#[test]
fn pip_quirks_are_reported_as_warnings() {
    let run = reqlock(&[
        "list",
        "--format",
        "json",
        "tests/fixtures/parser/pip-quirks.txt",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("pip_quirks_json", run.stdout);
    insta::assert_snapshot!("pip_quirks_stderr", run.stderr);
}

#[test]
fn every_invalid_line_is_reported_with_a_caret() {
    let run = reqlock(&["list", "tests/fixtures/errors/invalid-lines.txt"]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty());
    insta::assert_snapshot!("invalid_lines_stderr", run.stderr);
}

#[test]
fn input_errors_exit_2_with_a_location() {
    for (file, expected) in [
        ("cycle-a.txt", "include cycle: tests/fixtures/errors/cycle-a.txt -> tests/fixtures/errors/cycle-b.txt -> tests/fixtures/errors/cycle-a.txt"),
        ("missing-include.txt", "missing-include.txt:1:1: error: could not open requirements file `tests/fixtures/errors/does-not-exist.txt`: no such file"),
        ("latin1-undeclared.txt", "latin1-undeclared.txt:2:4: error: the file is not valid UTF-8"),
        ("binary.txt", "binary.txt:2:1: error: this is a binary file"),
        ("single-equals.txt", "did you mean `==`?"),
        ("direct-ref-no-scheme.txt", "direct-ref-no-scheme.txt:1:7: error: invalid requirement: Not a URL (missing scheme)"),
        ("bad-hashes.txt", "allowed hash algorithms for --hash are sha256, sha384, sha512"),
        ("unclosed-quote.txt", "no closing quotation"),
        ("no-such-file.txt", "could not open requirements file `tests/fixtures/errors/no-such-file.txt`"),
    ] {
        let path = format!("tests/fixtures/errors/{file}");
        for command in ["list", "audit"] {
            let run = reqlock(&[command, &path]);
            assert_eq!(run.code, 2, "{command} {file}: {}", run.stderr);
            assert!(run.stderr.contains(expected), "{command} {file}: {}", run.stderr);
            assert!(run.stdout.is_empty(), "{command} {file} wrote to stdout");
        }
    }
}

#[test]
fn both_bad_hashes_are_reported() {
    let run = reqlock(&["list", "tests/fixtures/errors/bad-hashes.txt"]);
    assert_eq!(run.stderr.matches(": error: ").count(), 2, "{}", run.stderr);
}

#[test]
fn legacy_versions_are_rejected_like_newer_pip() {
    let run = reqlock(&["list", "tests/fixtures/divergent/legacy-version.txt"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("legacy-version.txt:3:"),
        "{}",
        run.stderr
    );
}

#[test]
fn audit_json_reports_every_offline_rule() {
    let run = reqlock(&[
        "audit",
        "--format",
        "json",
        "tests/fixtures/audit/rules.txt",
    ]);
    assert_eq!(run.code, 1, "conflicting pins are errors: {}", run.stderr);
    insta::assert_snapshot!("audit_rules_json", run.stdout);
    insta::assert_snapshot!("audit_rules_stderr", run.stderr);
}

#[test]
fn audit_table() {
    let run = reqlock(&["audit", "tests/fixtures/audit/rules.txt"]);
    insta::assert_snapshot!("audit_rules_table", run.stdout);
}

#[test]
fn strict_turns_loose_ranges_into_failures() {
    // Offline with an empty cache nothing was checked, which the gate
    // does not pass; what the file itself says is clean.
    let clean = reqlock(&[
        "audit",
        "--strict",
        "--format",
        "json",
        "tests/fixtures/audit/clean.txt",
    ]);
    assert_eq!(clean.code, 1, "{}", clean.stderr);
    let document: serde_json::Value = serde_json::from_str(&clean.stdout).unwrap();
    assert!(
        offline_rule_findings(&document).is_empty(),
        "{}",
        clean.stdout
    );
    let loose = reqlock(&["audit", "examples/ofa-ve/requirements.txt"]);
    assert_eq!(loose.code, 0, "loose ranges are warnings by default");
    let strict = reqlock(&[
        "audit",
        "--strict",
        "--format",
        "json",
        "examples/ofa-ve/requirements.txt",
    ]);
    assert_eq!(strict.code, 1);
    let document: serde_json::Value = serde_json::from_str(&strict.stdout).unwrap();
    let first = &offline_rule_findings(&document)[0];
    assert_eq!(first["rule"], "loose-range");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["package"], "gradio");
}

/// The findings other than "not resolved offline", which every `--offline`
/// run with an empty cache reports for each package.
fn offline_rule_findings(document: &serde_json::Value) -> Vec<&serde_json::Value> {
    document["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] != "not-resolved-offline")
        .collect()
}

#[test]
fn fail_on_sets_the_threshold() {
    let ofa = "examples/ofa-ve/requirements.txt";
    assert_eq!(reqlock(&["audit", "--fail-on", "warning", ofa]).code, 1);
    assert_eq!(reqlock(&["audit", "--fail-on", "error", ofa]).code, 0);
    let rules = "tests/fixtures/audit/rules.txt";
    assert_eq!(reqlock(&["audit", "--fail-on", "never", rules]).code, 0);
    assert_eq!(reqlock(&["audit", "--fail-on", "sometimes", rules]).code, 2);
}

#[test]
fn hash_checking_mode_needs_a_hash_everywhere() {
    let run = reqlock(&[
        "audit",
        "--format",
        "json",
        "tests/fixtures/audit/hash-mode.txt",
    ]);
    assert_eq!(run.code, 1);
    let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let rules: Vec<(&str, &str)> = offline_rule_findings(&document)
        .into_iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["package"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rules,
        vec![("missing-hash", "idna"), ("missing-hash", "editable")]
    );
}

#[test]
fn audit_reads_requirements_txt_by_default() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("requirements.txt"), "flask>=2\n").unwrap();
    let output = run(hermetic(dir.path())
        .args(["audit", "--offline", "--strict"])
        .current_dir(dir.path())
        .env("PIP_INDEX_URL", "http://127.0.0.1:9/simple/"));
    assert_eq!(output.code, 1);
    assert!(output.stdout.contains("loose-range"));
}

#[test]
fn offline_flag_is_accepted() {
    let run = reqlock(&["audit", "tests/fixtures/audit/clean.txt"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn sarif_and_github_annotations_carry_every_finding() {
    let json = reqlock(&[
        "audit",
        "--format",
        "json",
        "tests/fixtures/audit/rules.txt",
    ]);
    let findings = serde_json::from_str::<serde_json::Value>(&json.stdout).unwrap()["findings"]
        .as_array()
        .unwrap()
        .len();
    let sarif = reqlock(&[
        "audit",
        "--format",
        "sarif",
        "tests/fixtures/audit/rules.txt",
    ]);
    assert_eq!(sarif.code, 1, "the exit code does not depend on the format");
    let document: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    assert_eq!(document["version"], "2.1.0");
    let results = document["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), findings);
    let rules = document["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
    insta::assert_snapshot!("audit_rules_sarif", sarif.stdout);

    let github = reqlock(&[
        "audit",
        "--format",
        "github",
        "tests/fixtures/audit/rules.txt",
    ]);
    assert_eq!(github.code, 1);
    assert_eq!(github.stdout.lines().count(), findings);
    insta::assert_snapshot!("audit_rules_github", github.stdout);
}

#[test]
fn list_refuses_audit_only_formats() {
    let run = reqlock(&["list", "--format", "sarif", "tests/fixtures/parser/bom.txt"]);
    assert_eq!(run.code, 2);
}

#[test]
fn an_absurdly_long_line_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requirements.txt");
    std::fs::write(
        &path,
        format!("six==1.16.0\n{}==1.0\n", "a".repeat(17 << 20)),
    )
    .unwrap();
    let run = reqlock(&["list", path.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains(":2:1: error: line is 17825797 bytes long; the limit is 16 MiB"),
        "{}",
        run.stderr
    );
}

#[test]
fn audit_reads_pylock_toml_as_hashed_pins() {
    let run = reqlock(&[
        "audit",
        "--format",
        "json",
        "--fail-on",
        "never",
        "tests/fixtures/audit/pylock.toml",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(document["requirements"][1]["specifier"], "==0.17.0");
    assert_eq!(document["requirements"][1]["line"], 11);
    let rules: Vec<(&str, &str)> = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] != "not-resolved-offline")
        .map(|f| (f["rule"].as_str().unwrap(), f["package"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rules,
        [("mismatched-family", "torchvision")],
        "pins, with hashes: nothing else"
    );
}
