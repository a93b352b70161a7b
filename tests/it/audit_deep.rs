//! `reqlock audit --deep` against a real HTTP index on loopback serving the
//! `locking` fixtures: `alpha` 1.0 requires `beta>=1`; `beta` 2.0 (the
//! newest) requires `gamma`, `beta` 1.0 requires nothing. Hermetic: the
//! only server asked is the one started here (or none, with `--offline`).

use serde_json::Value;

use crate::common::index_server::IndexServer;
use crate::common::{reqlock, run, Run};

/// A project folder, a private cache, and the loopback index.
struct Project {
    server: IndexServer,
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
    index: String,
}

impl Project {
    fn new(requirements: &str) -> Project {
        let server = IndexServer::start();
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("requirements.txt"), requirements).expect("write");
        let index = server.url("locking");
        Project {
            server,
            dir,
            cache: tempfile::tempdir().expect("temp dir"),
            index,
        }
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join(name), text).expect("write");
    }

    fn audit(&self, args: &[&str]) -> Run {
        run(reqlock(self.cache.path())
            .arg("audit")
            .args([
                "--python-version",
                "3.12",
                "--platform",
                "manylinux_2_28_x86_64",
                "--index-url",
                &self.index,
            ])
            .args(args)
            .arg("requirements.txt")
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env("NETRC", self.dir.path().join("no-netrc"))
            .env_remove("VIRTUAL_ENV")
            .env("NO_COLOR", "1"))
    }

    fn request_paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self
            .server
            .requests()
            .into_iter()
            .map(|request| request.path)
            .collect();
        paths.sort();
        paths.dedup();
        paths
    }
}

/// The findings of the given rules, as `(rule, package, line)`.
fn findings(document: &Value, rules: &[&str]) -> Vec<(String, String, u64)> {
    document["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| rules.contains(&f["rule"].as_str().unwrap_or_default()))
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["package"].as_str().unwrap_or("-").to_string(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn finding<'a>(document: &'a Value, rule: &str, package: &str) -> &'a Value {
    document["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == rule && f["package"] == package)
        .unwrap_or_else(|| panic!("a `{rule}` finding for {package}: {document:#}"))
}

fn text(finding: &Value) -> String {
    format!("{} / {}", finding["message"], finding["help"])
}

/// `(name, version, pinned)` of the JSON closure.
fn closure(document: &Value) -> Vec<(String, String, bool)> {
    document["closure"]
        .as_array()
        .unwrap_or_else(|| panic!("a closure array: {document:#}"))
        .iter()
        .map(|package| {
            (
                package["name"].as_str().expect("name").to_string(),
                package["version"].as_str().expect("version").to_string(),
                package["pinned"].as_bool().expect("pinned"),
            )
        })
        .collect()
}

fn entry(name: &str, version: &str, pinned: bool) -> (String, String, bool) {
    (name.to_string(), version.to_string(), pinned)
}

fn unpinned(package: &str, line: u64) -> (String, String, u64) {
    ("unpinned-transitive".to_string(), package.to_string(), line)
}

#[test]
fn exact_top_level_pins_whose_dependencies_float_are_reported() {
    let project = Project::new("# the app\nalpha==1.0\n");
    let run = project.audit(&["--deep", "--format", "json"]);
    assert_eq!(run.code, 0, "warnings do not fail: {}", run.stderr);
    let document = run.json();
    assert_eq!(
        findings(&document, &["unpinned-transitive"]),
        [unpinned("beta", 2), unpinned("gamma", 2)]
    );
    let gamma = text(finding(&document, "unpinned-transitive", "gamma"));
    assert!(
        gamma.contains("`alpha -> beta -> gamma` resolves it to 1.0 today"),
        "{gamma}"
    );
    assert!(gamma.contains("`gamma==1.0`"), "{gamma}");
    assert!(gamma.contains("-c constraints.txt"), "{gamma}");
    let beta = text(finding(&document, "unpinned-transitive", "beta"));
    assert!(
        beta.contains("`alpha -> beta` resolves it to 2.0"),
        "{beta}"
    );
    assert_eq!(document["findings"][0]["severity"], "warning");

    assert_eq!(
        closure(&document),
        [
            entry("alpha", "1.0", true),
            entry("beta", "2.0", false),
            entry("gamma", "1.0", false)
        ]
    );
    let packages = document["closure"].as_array().expect("closure");
    assert_eq!(
        packages[0]["via"],
        serde_json::json!(["-r requirements.txt"])
    );
    assert_eq!(packages[2]["via"], serde_json::json!(["beta"]));
    assert_eq!(packages[2]["index"], project.index.as_str());
    assert!(
        run.stderr
            .contains("deep: resolved the dependency tree: 3 package(s) in the closure, 2 not pinned by any line"),
        "{}",
        run.stderr
    );

    let table = project.audit(&["--deep"]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    insta::assert_snapshot!("deep_table", table.stdout);
    let github = project.audit(&["--deep", "--format", "github"]);
    insta::assert_snapshot!("deep_github", github.stdout);
    let sarif: Value =
        serde_json::from_str(&project.audit(&["--deep", "--format", "sarif"]).stdout)
            .expect("SARIF is JSON");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["ruleId"], "unpinned-transitive");
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    let index = results[0]["ruleIndex"].as_u64().expect("rule index") as usize;
    assert_eq!(rules[index]["id"], "unpinned-transitive");

    let strict_gate = project.audit(&["--deep", "--fail-on", "warning"]);
    assert_eq!(strict_gate.code, 1, "{}", strict_gate.stderr);
}

#[test]
fn dependencies_pinned_in_a_constraints_file_do_not_float() {
    let project = Project::new("alpha==1.0\n-c constraints.txt\n");
    project.write("constraints.txt", "beta==2.0\ngamma===1.0\n");
    let run = project.audit(&["--deep", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let document = run.json();
    assert_eq!(findings(&document, &["unpinned-transitive"]), []);
    assert_eq!(
        closure(&document),
        [
            entry("alpha", "1.0", true),
            entry("beta", "2.0", true),
            entry("gamma", "1.0", true)
        ]
    );

    // A range is not a pin, nor is a wildcard.
    project.write("constraints.txt", "beta>=2\ngamma==1.*\n");
    let loose = project.audit(&["--deep", "--format", "json"]);
    assert_eq!(
        findings(&loose.json(), &["unpinned-transitive"]),
        [unpinned("beta", 1), unpinned("gamma", 1)]
    );
}

#[test]
fn an_ignore_comment_on_the_top_level_line_suppresses_it() {
    let project = Project::new("alpha==1.0  # reqlock: ignore[unpinned-transitive]\n");
    let run = project.audit(&["--deep", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let document = run.json();
    assert_eq!(findings(&document, &["unpinned-transitive"]), []);
    assert_eq!(document["summary"]["suppressed"], 2);
    assert!(!run.stderr.contains("names no rule"), "{}", run.stderr);
}

#[test]
fn a_dependency_named_by_its_own_line_is_not_transitive() {
    // gamma has its own pin on line 1; beta comes in through line 2.
    let project = Project::new("gamma==1.0\nalpha==1.0\n");
    let document = project.audit(&["--deep", "--format", "json"]).json();
    assert_eq!(
        findings(&document, &["unpinned-transitive"]),
        [unpinned("beta", 2)]
    );
}

#[test]
fn compat_rules_hit_only_by_the_tree_are_reported_at_the_line_that_pulls_it_in() {
    let project = Project::new("alpha==1.0\n");
    // `reported` rules are advice, not constraints on the resolver, so the
    // tree still holds gamma 1.0.
    project.write(
        "rules.toml",
        r#"
[[broken]]
id = "alpha-gamma"
packages = { alpha = "==1.0", gamma = ">=1" }
evidence = "reported"
symptom = "ImportError: gamma moved a module alpha imports"
fix = "pin gamma<1"
source = "tests/audit_deep.rs"
"#,
    );
    let db = ["--no-default-db", "--db", "rules.toml"];
    let plain = project.audit(&[&db[..], &["--format", "json"]].concat());
    assert_eq!(findings(&plain.json(), &["known-broken"]), []);

    let run = project.audit(&[&db[..], &["--deep", "--format", "json"]].concat());
    let document = run.json();
    assert_eq!(
        findings(&document, &["known-broken"]),
        [("known-broken".to_string(), "gamma".to_string(), 1)]
    );
    let broken = finding(&document, "known-broken", "gamma");
    assert_eq!(broken["severity"], "warning", "a reported rule");
    let message = text(broken);
    assert!(
        message.contains("`gamma==1.0` with `alpha==1.0` (requirements.txt:1)"),
        "{message}"
    );
    assert!(
        message.contains("(pulled in by alpha -> beta -> gamma)"),
        "{message}"
    );
    assert!(message.contains("ImportError"), "{message}");
}

#[test]
fn verified_rules_steer_the_tree_and_direct_findings_are_not_repeated() {
    let project = Project::new("alpha==1.0\n");
    // The resolver refuses a verified broken pair: it takes beta 1.0, which
    // needs no gamma, and there is nothing to report.
    project.write(
        "rules.toml",
        r#"
[[broken]]
id = "alpha-beta2"
packages = { alpha = "==1.0", beta = ">=2" }
evidence = "verified"
symptom = "beta 2 dropped what alpha uses"
fix = "pin beta<2"
source = "tests/audit_deep.rs"
"#,
    );
    let db = ["--no-default-db", "--db", "rules.toml"];
    let document = project
        .audit(&[&db[..], &["--deep", "--format", "json"]].concat())
        .json();
    assert_eq!(findings(&document, &["known-broken"]), []);
    assert_eq!(
        closure(&document),
        [entry("alpha", "1.0", true), entry("beta", "1.0", false)]
    );

    // Pinned directly, the pair is found once, by the direct check, and the
    // tree cannot be resolved.
    project.write("requirements.txt", "alpha==1.0\nbeta==2.0\n");
    let run = project.audit(&[&db[..], &["--deep", "--format", "json"]].concat());
    assert_eq!(run.code, 1);
    let document = run.json();
    assert_eq!(
        findings(&document, &["known-broken", "unresolvable"]),
        [
            ("unresolvable".to_string(), "-".to_string(), 1),
            ("known-broken".to_string(), "beta".to_string(), 2)
        ]
    );
}

#[test]
fn an_unsatisfiable_set_is_one_finding_and_the_rest_of_the_audit_stands() {
    let project = Project::new("alpha>=1\n-c constraints.txt\n");
    project.write("constraints.txt", "beta<1\n");
    let run = project.audit(&["--deep", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let document = run.json();
    assert_eq!(
        findings(&document, &["unresolvable", "loose-range"]),
        [
            ("loose-range".to_string(), "alpha".to_string(), 1),
            ("unresolvable".to_string(), "-".to_string(), 1)
        ]
    );
    let unresolvable = document["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "unresolvable")
        .expect("unresolvable");
    assert_eq!(unresolvable["severity"], "error");
    let message = unresolvable["message"].as_str().expect("message");
    assert!(message.contains("beta"), "{message}");
    assert!(message.contains("alpha"), "{message}");
    assert!(document["closure"].is_null(), "{document:#}");
    assert!(
        run.stderr
            .contains("deep: the dependency tree was not resolved"),
        "{}",
        run.stderr
    );

    let never = project.audit(&["--deep", "--fail-on", "never"]);
    assert_eq!(never.code, 0, "{}", never.stderr);
    assert!(never.stdout.contains("unresolvable"), "{}", never.stdout);
}

#[test]
fn offline_with_an_empty_cache_asks_nothing_and_says_so() {
    let project = Project::new("alpha==1.0\n");
    let run = project.audit(&["--deep", "--offline", "--format", "json"]);
    assert_eq!(run.code, 0, "info findings do not fail: {}", run.stderr);
    assert_eq!(project.request_paths(), Vec::<String>::new());
    let document = run.json();
    let offline: Vec<&Value> = document["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "not-resolved-offline")
        .collect();
    assert!(
        offline.iter().any(|f| f["message"]
            .as_str()
            .is_some_and(|m| m.contains("the dependency tree was not resolved"))),
        "{document:#}"
    );
    assert!(offline.iter().all(|f| f["severity"] == "warning"));
    assert!(document["closure"].is_null());

    // Once online, the cache holds the whole tree.
    let online = project.audit(&["--deep", "--format", "json"]);
    let asked = project.request_paths().len();
    let warm = project.audit(&["--deep", "--offline", "--format", "json"]);
    assert_eq!(project.request_paths().len(), asked);
    assert_eq!(closure(&warm.json()), closure(&online.json()));
    assert_eq!(
        findings(&warm.json(), &["unpinned-transitive"]),
        [unpinned("beta", 1), unpinned("gamma", 1)]
    );
}

#[test]
fn plain_audit_does_not_run_the_resolver() {
    let project = Project::new("alpha==1.0\n");
    let run = project.audit(&["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The pin's page and its metadata (for `declared-conflict`; the end of
    // the wheel is asked for at the same time), nothing of what it depends
    // on.
    let asked = project.request_paths();
    assert!(asked.contains(&"/locking/alpha/".to_string()), "{asked:?}");
    assert!(asked.iter().all(|path| path.contains("alpha")), "{asked:?}");
    let document = run.json();
    assert!(document.get("closure").is_none(), "{document:#}");
    assert!(!run.stderr.contains("deep:"), "{}", run.stderr);
}

#[test]
fn vcs_requirements_are_left_out_of_the_tree() {
    let project = Project::new(
        "alpha==1.0\ndemo @ git+https://vcs.invalid/o/demo.git@0123456789abcdef0123456789abcdef01234567\n",
    );
    let run = project.audit(&["--deep", "--format", "json"]);
    let document = run.json();
    assert_eq!(findings(&document, &["unresolvable"]), []);
    assert_eq!(closure(&document).len(), 3);
    assert!(
        run.stderr.contains(
            "deep: VCS requirements cannot be resolved yet, left out of the dependency tree"
        ),
        "{}",
        run.stderr
    );
}
