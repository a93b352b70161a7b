//! `reqlock audit` against a real HTTP index on loopback: resolution,
//! index findings, discovery, credentials and the cache. Hermetic: the only
//! server asked is the one started here (or none, with `--offline`).

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

use serde_json::Value;
use tempfile::TempDir;

use crate::common::index_server::IndexServer;
use crate::common::{reqlock, run, Run};

/// A project folder with a requirements file, a private cache and home.
struct Workspace {
    dir: TempDir,
    cache: TempDir,
}

impl Workspace {
    fn new(requirements: &str) -> Workspace {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("requirements.txt"), requirements).expect("write");
        Workspace {
            dir,
            cache: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = reqlock(self.cache.path());
        command
            .arg("audit")
            .args([
                "--python-version",
                "3.12",
                "--platform",
                "manylinux_2_28_x86_64",
            ])
            .args(args)
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env("NETRC", self.dir.path().join("no-netrc"))
            .env_remove("VIRTUAL_ENV")
            .env("NO_COLOR", "1");
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        run(&mut self.command(args))
    }
}

/// `(rule, line)` of the findings of the given rules.
fn findings<'a>(document: &'a Value, rules: &[&str]) -> Vec<(&'a str, u64)> {
    document["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| rules.contains(&f["rule"].as_str().unwrap_or_default()))
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn finding_on_line(document: &Value, line: u64) -> &Value {
    document["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["line"] == line && f["rule"] != "duplicate" && f["rule"] != "conflicting-pins")
        .unwrap_or_else(|| panic!("a finding on line {line}: {document:#}"))
}

const INDEX_RULES: &[&str] = &[
    "unknown-package",
    "no-matching-version",
    "yanked",
    "requires-python",
    "no-compatible-wheel",
    "local-version-unavailable",
    "index-unreachable",
    "unreadable-page",
    "dependency-confusion",
    "not-resolved-offline",
];

#[test]
fn resolves_what_pip_would_pick_from_json_and_html_pages() {
    let server = IndexServer::start();
    let workspace = Workspace::new("demo>=1.0\ntorch==2.2.0\nonlysdist\n");
    let run = workspace.run(&["--format", "json", "--index-url", &server.url("simple")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let stdout = run.stdout.replace(&server.port.to_string(), "[port]");
    insta::assert_snapshot!("resolved_json", stdout);
    let stderr = run.stderr.replace(&server.port.to_string(), "[port]");
    insta::assert_snapshot!("resolved_stderr", stderr);
}

#[test]
fn table_says_what_a_range_resolves_to() {
    let server = IndexServer::start();
    let workspace = Workspace::new("demo>=1.0\n");
    let run = workspace.run(&["--index-url", &server.url("simple")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("today it resolves to 1.1"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("2 installable release(s)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("`demo==1.1`"), "{}", run.stdout);
}

#[test]
fn every_index_rule_on_one_file() {
    let server = IndexServer::start();
    let workspace = Workspace::new(
        "demo==1.2\n\
         demo==1.3\n\
         demo==9.9\n\
         demo>=2.0rc1\n\
         torch==2.1.0\n\
         torch==2.1.0+cu121\n\
         nosuchpkg==1.0\n\
         broken==1.0\n\
         flaky==1.0\n\
         slow==1.0\n\
         six==1.0; python_version < \"3\"\n\
         private==3.0\n\
         down==1.0\n",
    );
    let run = workspace.run(&["--format", "json", "--index-url", &server.url("simple")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let document = run.json();
    assert_eq!(
        findings(&document, INDEX_RULES),
        [
            ("yanked", 1),
            ("requires-python", 2),
            ("no-matching-version", 3),
            ("no-compatible-wheel", 5),
            ("local-version-unavailable", 6),
            ("unknown-package", 7),
            ("unreadable-page", 8),
            ("index-unreachable", 12),
            ("index-unreachable", 13),
        ]
    );
    let text = |line| {
        let finding = finding_on_line(&document, line);
        format!(
            "{} {} {}",
            finding["severity"], finding["message"], finding["help"]
        )
    };
    assert!(text(1).contains("broken build, use 1.1"), "{}", text(1));
    assert!(text(2).contains(">=3.13"), "{}", text(2));
    assert!(
        text(3).contains("nearest existing releases: 1.3, 2.0rc1"),
        "{}",
        text(3)
    );
    assert!(text(5).starts_with("\"error\""), "{}", text(5));
    assert!(
        text(6).contains("`/whl/cu121` folder of the PyTorch index"),
        "{}",
        text(6)
    );
    assert!(
        text(8).contains("cannot read: it is not valid PEP 691 JSON"),
        "{}",
        text(8)
    );
    assert!(text(12).contains("HTTP 401"), "{}", text(12));
    assert!(text(13).contains("HTTP 503"), "{}", text(13));
    let requirements = document["requirements"].as_array().expect("requirements");
    let resolved = |line: usize| requirements[line - 1]["resolved"]["version"].clone();
    assert_eq!(
        resolved(1),
        "1.2",
        "a pin to a yanked release still resolves"
    );
    assert_eq!(
        resolved(4),
        "2.0rc1",
        "a specifier naming a pre-release admits them"
    );
    assert_eq!(resolved(9), "1.0", "a 500 is retried");
    assert_eq!(resolved(10), "1.0");
    assert_eq!(requirements[10]["status"], "skipped");
    assert!(run
        .stderr
        .contains("skipped (markers exclude the target): six"));
}

#[test]
fn extra_indexes_merge_and_warn_about_dependency_confusion() {
    let server = IndexServer::start();
    let workspace = Workspace::new("shared>=1.0\ntorch==2.1.0\ntorch==2.1.0+cu121\n");
    let run = workspace.run(&[
        "--format",
        "json",
        "--index-url",
        &server.url("simple"),
        "--extra-index-url",
        &server.url("second"),
    ]);
    let document = run.json();
    assert_eq!(
        findings(&document, INDEX_RULES),
        [
            ("dependency-confusion", 1),
            ("dependency-confusion", 2),
            ("dependency-confusion", 3)
        ],
        "{}",
        run.stderr
    );
    let requirements = document["requirements"].as_array().expect("requirements");
    assert_eq!(requirements[0]["resolved"]["version"], "99.0");
    assert_eq!(requirements[0]["resolved"]["index"], server.url("second"));
    // `==2.1.0` admits the local build `2.1.0+cu121`, as PEP 440 says.
    assert_eq!(requirements[1]["resolved"]["version"], "2.1.0+cu121");
    assert_eq!(requirements[2]["resolved"]["version"], "2.1.0+cu121");
    assert_eq!(document["indexes"][1]["source"], "the command line");
}

#[test]
fn only_binary_forbids_building_sdists() {
    let server = IndexServer::start();
    let workspace = Workspace::new("--only-binary :all:\nonlysdist==0.5\n");
    let run = workspace.run(&["--format", "json", "--index-url", &server.url("simple")]);
    assert_eq!(run.code, 1);
    let document = run.json();
    assert_eq!(
        findings(&document, INDEX_RULES),
        [("no-compatible-wheel", 2)]
    );
    assert!(finding_on_line(&document, 2)["message"]
        .as_str()
        .unwrap_or_default()
        .contains("--only-binary"));
}

#[test]
fn find_links_folder_without_an_index() {
    let workspace = Workspace::new("--no-index\n--find-links wheels\nlocalonly>=0.1\n");
    let wheels = workspace.dir.path().join("wheels");
    std::fs::create_dir(&wheels).expect("mkdir");
    for name in ["localonly-0.1-py3-none-any.whl", "localonly-0.2.tar.gz"] {
        std::fs::write(wheels.join(name), b"").expect("write");
    }
    let run = workspace.run(&["--format", "json"]);
    let document = run.json();
    assert_eq!(document["indexes"], Value::Array(Vec::new()));
    let resolved = &document["requirements"][0]["resolved"];
    assert_eq!(resolved["version"], "0.2", "{}", run.stderr);
    assert_eq!(resolved["needs_build"], true);
    assert_eq!(
        findings(&document, INDEX_RULES),
        [("no-compatible-wheel", 3)]
    );
}

#[test]
fn find_links_html_page_on_a_server() {
    let server = IndexServer::start();
    let page = format!("{}torch/", server.url("simple"));
    let workspace = Workspace::new(&format!("--no-index\n--find-links {page}\ntorch==2.2.0\n"));
    let document = workspace.run(&["--format", "json"]).json();
    assert_eq!(document["find_links"][0], page);
    assert_eq!(document["requirements"][0]["resolved"]["index"], page);
    assert_eq!(document["requirements"][0]["resolved"]["version"], "2.2.0");

    let from_flag = Workspace::new("--no-index\ntorch==2.2.0\n");
    let document = from_flag
        .run(&["--format", "json", "--find-links", &page])
        .json();
    assert_eq!(document["requirements"][0]["resolved"]["version"], "2.2.0");
}

#[test]
fn an_unreachable_extra_index_is_a_finding_not_a_crash() {
    let server = IndexServer::start();
    // A port that was just free: nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let workspace = Workspace::new("demo==1.1\n");
    let run = workspace.run(&[
        "--format",
        "json",
        "--index-url",
        &server.url("simple"),
        "--extra-index-url",
        &format!("http://127.0.0.1:{closed}/simple/"),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let document = run.json();
    assert_eq!(findings(&document, INDEX_RULES), [("index-unreachable", 1)]);
    let message = document["findings"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("could not reach"), "{message}");
    assert_eq!(document["requirements"][0]["resolved"]["version"], "1.1");
}

#[test]
fn the_cache_answers_warm_runs_and_offline_runs() {
    let server = IndexServer::start();
    let workspace = Workspace::new("demo==1.1\ntorch==2.2.0\n");
    let index = server.url("simple");
    let cold = workspace.run(&["--index-url", &index]);
    assert_eq!(cold.code, 0, "{}", cold.stderr);
    assert_eq!(server.page_requests().len(), 2);

    let warm = workspace.run(&["--index-url", &index]);
    assert_eq!(warm.code, 0, "{}", warm.stderr);
    assert_eq!(
        server.page_requests().len(),
        2,
        "fresh entries answer warm runs"
    );

    let offline = workspace.run(&["--offline", "--format", "json", "--index-url", &index]);
    assert_eq!(
        offline.json()["requirements"][0]["resolved"]["version"],
        "1.1"
    );
    assert_eq!(server.page_requests().len(), 2, "--offline never asks");

    workspace.run(&["--refresh", "--index-url", &index]);
    assert_eq!(server.page_requests().len(), 4, "--refresh asks again");
    workspace.run(&["--cache-ttl", "0", "--index-url", &index]);
    assert_eq!(
        server.page_requests().len(),
        6,
        "entries older than the TTL are stale"
    );

    let entries = walk(workspace.cache.path());
    assert!(
        entries
            .iter()
            .all(|path| path.starts_with(workspace.cache.path().join("reqlock"))),
        "{entries:?}"
    );
    let cold_offline = Workspace::new("demo==1.1\n");
    let run = cold_offline.run(&["--offline", "--format", "json", "--index-url", &index]);
    assert_eq!(run.code, 0, "an info finding does not fail: {}", run.stderr);
    assert_eq!(
        findings(&run.json(), INDEX_RULES),
        [("not-resolved-offline", 1)]
    );
    assert_eq!(server.page_requests().len(), 6);
}

#[test]
fn stale_entries_are_revalidated_with_their_etag() {
    let server = IndexServer::start();
    let workspace = Workspace::new("etagged==1.0\n");
    let index = server.url("simple");
    for _ in 0..2 {
        let run = workspace.run(&["--format", "json", "--index-url", &index]);
        assert_eq!(
            run.json()["requirements"][0]["resolved"]["version"],
            "1.0",
            "{}",
            run.stderr
        );
    }
    let requests = server.page_requests();
    assert_eq!(requests.len(), 2, "max-age=0 beats the TTL: {requests:?}");
    assert_eq!(requests[0].if_none_match, None);
    assert_eq!(requests[1].if_none_match.as_deref(), Some("\"v1\""));
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn concurrent_processes_share_the_cache() {
    let server = IndexServer::start();
    let workspace = Workspace::new("demo>=1.0\ntorch==2.2.0\nflaky==1.0\n");
    let index = server.url("simple");
    let children: Vec<_> = (0..4)
        .map(|_| {
            workspace
                .command(&["--refresh", "--format", "json", "--index-url", &index])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("wait");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let offline = workspace.run(&["--offline", "--format", "json", "--index-url", &index]);
    assert_eq!(
        offline.json()["requirements"][2]["resolved"]["version"],
        "1.0"
    );
}

#[test]
fn credentials_come_from_the_url_or_netrc_and_are_never_shown() {
    let server = IndexServer::start();
    let workspace = Workspace::new("private==3.0\n");
    let with_userinfo = format!("http://alice:s3cret@127.0.0.1:{}/simple/", server.port);
    let run = workspace.run(&["--format", "json", "--index-url", &with_userinfo]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["requirements"][0]["resolved"]["version"], "3.0");
    // The index's login goes with the request for its file's metadata too,
    // whose URL carries none (as pip sends it to the index's host).
    assert!(server.requests().iter().any(|request| {
        request.path == "/files/private-3.0-py3-none-any.whl.metadata"
            && request.authorization.as_deref() == Some("Basic YWxpY2U6czNjcmV0")
    }));
    for text in [&run.stdout, &run.stderr] {
        assert!(
            !text.contains("s3cret") && !text.contains("alice"),
            "{text}"
        );
    }
    for file in walk(workspace.cache.path()) {
        let stored = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            !stored.contains("s3cret") && !stored.contains("alice"),
            "{file:?}"
        );
    }

    let netrc = workspace.dir.path().join("netrc");
    std::fs::write(&netrc, "machine 127.0.0.1 login alice password s3cret\n").expect("write");
    let fresh = Workspace::new("private==3.0\n");
    let run = run_with(
        &fresh,
        &["--index-url", &server.url("simple")],
        ("NETRC", &netrc),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);

    let wrong = format!("http://alice:wrong@127.0.0.1:{}/simple/", server.port);
    let denied = Workspace::new("private==3.0\n").run(&["--index-url", &wrong]);
    assert_eq!(denied.code, 1);
    assert!(
        denied.stdout.contains("refused access (HTTP 401)"),
        "{}",
        denied.stdout
    );
    assert!(!denied.stdout.contains("wrong") && !denied.stderr.contains("wrong"));
    assert!(server
        .requests()
        .iter()
        .all(|request| !request.path.contains("s3cret")));
    assert!(server.requests()[0].authorization.is_some());
}

fn run_with(workspace: &Workspace, args: &[&str], (name, value): (&str, &Path)) -> Run {
    let mut command = workspace.command(args);
    command.env(name, value);
    run(&mut command)
}

#[test]
fn discovery_says_where_the_index_came_from() {
    let server = IndexServer::start();
    let index = server.url("simple");
    let from_file = Workspace::new(&format!("--index-url {index}\ndemo==1.1\n"));
    let document = from_file.run(&["--format", "json"]).json();
    assert_eq!(document["indexes"][0]["source"], "the requirements files");
    assert_eq!(document["requirements"][0]["resolved"]["index"], index);

    let from_env = Workspace::new("demo==1.1\n");
    let mut command = from_env.command(&["--format", "json"]);
    command.env("PIP_INDEX_URL", &index);
    let run = run(&mut command);
    assert_eq!(
        run.json()["indexes"][0]["source"],
        "the environment variable PIP_INDEX_URL"
    );
    assert!(run.stderr.contains(&format!(
        "index: {index} (from the environment variable PIP_INDEX_URL)"
    )));

    let from_config = Workspace::new("demo==1.1\n");
    let config = from_config.dir.path().join("pip.conf");
    std::fs::write(&config, format!("[global]\nindex-url = {index}\n")).expect("write");
    let run = run_with(
        &from_config,
        &["--format", "json"],
        ("PIP_CONFIG_FILE", &config),
    );
    let source = run.json()["indexes"][0]["source"].clone();
    assert!(
        source
            .as_str()
            .unwrap_or_default()
            .starts_with("pip's configuration file"),
        "{source}"
    );
}

#[test]
fn no_index_anywhere_is_a_usage_error() {
    let workspace = Workspace::new("demo==1.1\n");
    let empty = tempfile::tempdir().expect("temp dir");
    // Without python3 on PATH there is no pip to name a default either.
    let run = run_with(&workspace, &["--offline"], ("PATH", empty.path()));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--index-url") && run.stderr.contains("PIP_INDEX_URL"));
    assert!(run.stdout.is_empty());
}

#[test]
fn pips_built_in_default_is_the_last_resort() {
    let has_pip = std::process::Command::new("python3")
        .args(["-c", "import pip"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !has_pip {
        eprintln!("skipped: no python3 with pip");
        return;
    }
    // `--offline`: naming the default must not mean asking it.
    let run = Workspace::new("demo==1.1\n").run(&["--offline", "--format", "json"]);
    assert_eq!(run.json()["indexes"][0]["source"], "pip's built-in default");
    assert!(run.stderr.contains("(from pip's built-in default)"));
}

#[test]
fn bad_target_flags_are_usage_errors() {
    let workspace = Workspace::new("demo==1.1\n");
    assert_eq!(
        workspace
            .run(&["--offline", "--python-version", "three"])
            .code,
        2
    );
    assert_eq!(
        workspace
            .run(&["--offline", "--platform", "plan9_mips"])
            .code,
        2
    );
}

/// Opt-in: `REQLOCK_LIVE_TESTS=1 cargo test --test index live` asks the
/// index pip is configured with on this machine.
#[test]
fn live_index_resolves_a_well_known_package() {
    if std::env::var_os("REQLOCK_LIVE_TESTS").is_none() {
        return;
    }
    let workspace = Workspace::new("pip>=23\n");
    let output = Command::cargo_bin("reqlock")
        .expect("binary built")
        .args(["audit", "--format", "json", "--refresh", "requirements.txt"])
        .current_dir(workspace.dir.path())
        .output()
        .expect("reqlock runs");
    let document: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(document["requirements"][0]["status"], "resolved");
}

#[test]
fn compat_checks_use_what_a_loose_range_resolves_to_today() {
    let server = IndexServer::start();
    let workspace = Workspace::new("torch==2.1.0\nnumpy>=1.24\n");
    let run = workspace.run(&["--format", "json", "--index-url", &server.url("simple")]);
    let document = run.json();
    let broken = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "known-broken")
        .unwrap_or_else(|| panic!("a known-broken finding: {document:#}"));
    assert_eq!(
        findings(&document, &["known-broken", "range-admits-broken"]),
        [("known-broken", 2)]
    );
    assert!(
        broken["message"]
            .as_str()
            .unwrap()
            .starts_with("`numpy>=1.24` (resolves to 2.1.0 today) with `torch==2.1.0`"),
        "{broken:#}"
    );

    let workspace = Workspace::new("torch==2.1.0\nnumpy>=1.24,!=2.1.0\n");
    let run = workspace.run(&["--format", "json", "--index-url", &server.url("simple")]);
    let document = run.json();
    assert_eq!(
        findings(&document, &["known-broken", "range-admits-broken"]),
        [("range-admits-broken", 2)],
        "resolves to 1.26.4 today, but admits numpy 2.0"
    );
}

#[test]
fn an_unreachable_index_is_not_read_as_a_missing_release() {
    let server = IndexServer::start();
    // The `+cu121` build might be on the index that cannot be read.
    let workspace = Workspace::new("torch==2.1.0+cu121\n");
    let run = workspace.run(&[
        "--format",
        "json",
        "--index-url",
        &server.url("simple"),
        "--extra-index-url",
        "http://127.0.0.1:9/unreachable/",
        "--timeout",
        "2s",
    ]);
    let document = run.json();
    assert_eq!(
        findings(
            &document,
            &["local-version-unavailable", "index-unreachable"]
        ),
        [("index-unreachable", 1)],
        "{}",
        run.stderr
    );
}

#[test]
fn pips_cert_setting_is_honoured_and_a_bad_bundle_is_a_usage_error() {
    let server = IndexServer::start();
    let workspace = Workspace::new("demo==1.0\n");
    let missing = workspace.dir.path().join("no-such-bundle.pem");
    let run = run_with(
        &workspace,
        &["--index-url", &server.url("simple")],
        ("PIP_CERT", &missing),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("could not read the certificate bundle"),
        "{}",
        run.stderr
    );
}

#[test]
fn db_check_reports_releases_the_index_never_had() {
    let server = IndexServer::start();
    let workspace = Workspace::new("");
    let db = workspace.dir.path().join("claims.toml");
    std::fs::write(
        &db,
        "[[verified_set]]\nid = \"claims\"\nevidence = \"reported\"\nsource = \"a blog post\"\n\
         anchors = [\"demo\"]\npins = { demo = \"1.1\", torch = \"2.1.0+cu121\" }\n\n\
         [[broken]]\nid = \"imaginary\"\nevidence = \"reported\"\nsource = \"a forum\"\nsymptom = \"s\"\nfix = \"f\"\n\
         packages = { demo = \"==9.9\", nosuchproject = \"==1.0\" }\n",
    )
    .unwrap();
    let mut command = reqlock(workspace.cache.path());
    command
        .args(["db", "check", "--no-default-db", "--db"])
        .arg(&db)
        .args(["--index-url", &server.url("simple")]);
    let checked = run(&mut command);
    assert_eq!(checked.code, 1, "{}", checked.stderr);
    let stderr = checked.stderr.replace(&server.port.to_string(), "[port]");
    insta::assert_snapshot!("db_check_against_index", stderr);

    let mut command = reqlock(workspace.cache.path());
    command
        .args(["db", "check", "--no-default-db", "--db"])
        .arg(&db)
        .args(["--index-url", "http://127.0.0.1:9/simple/", "--offline"]);
    assert_eq!(run(&mut command).code, 0, "--offline never asks the index");
}

/// Opt-in: the bundled database against the index pip is configured with.
/// The OFA-VE article's `ofa==1.0.2` and `gradio==6.0.3` were never released.
#[test]
fn live_db_check_finds_the_articles_unreleased_versions() {
    if std::env::var_os("REQLOCK_LIVE_TESTS").is_none() {
        return;
    }
    let output = Command::cargo_bin("reqlock")
        .expect("binary built")
        .args(["db", "check"])
        .output()
        .expect("reqlock runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("names ofa==1.0.2, which was never released"),
        "{stderr}"
    );
    assert!(
        stderr.contains("names gradio==6.0.3, which was never released"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 problem(s) against the index"),
        "{stderr}"
    );
}

/// Starting Python and importing pip costs more than a warm audit, so its
/// answers (pip's default index, the target) are remembered per interpreter.
#[test]
fn the_local_pythons_answers_are_remembered() {
    let Ok(real) = which_python3() else {
        return;
    };
    let workspace = Workspace::new("six==1.16.0\n");
    let bin = workspace.dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let counter = workspace.dir.path().join("python-runs");
    let wrapper = bin.join("python3");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho run >> '{}'\nexec '{}' \"$@\"\n",
            counter.display(),
            real.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let audit = || {
        let mut command = reqlock(workspace.cache.path());
        command
            .args([
                "audit",
                "--offline",
                "--fail-on",
                "never",
                "requirements.txt",
            ])
            .current_dir(workspace.dir.path())
            .env("PATH", &path);
        run(&mut command)
    };
    let runs = || {
        std::fs::read_to_string(&counter)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let first = audit();
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stderr.contains("(from pip's built-in default)"),
        "{}",
        first.stderr
    );
    assert!(runs() >= 1, "python3 asked on the first run");
    let after_first = runs();
    let second = audit();
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(runs(), after_first, "python3 not asked again");
    assert_eq!(first.stderr, second.stderr);
}

fn which_python3() -> Result<std::path::PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("python3"))
        .find(|candidate| candidate.is_file())
        .ok_or(())
}

#[test]
fn declared_conflicts_come_from_the_pinned_releases_metadata() {
    let server = IndexServer::start();
    // alpha 1.0 requires beta>=1 (its `.metadata` file says so).
    let workspace = Workspace::new("alpha==1.0\nbeta==0.5\n");
    let index = server.url("locking");
    let run = workspace.run(&["--format", "json", "--index-url", &index]);
    let document = run.json();
    assert_eq!(
        findings(&document, &["declared-conflict"]),
        [("declared-conflict", 2)],
        "{}",
        run.stderr
    );
    let conflict = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "declared-conflict")
        .unwrap();
    assert!(
        conflict["message"]
            .as_str()
            .unwrap()
            .starts_with("`beta==0.5` is excluded by `alpha==1.0` (requirements.txt:1), which requires `beta>=1`"),
        "{conflict:#}"
    );
    // The metadata is cached: offline finds the same conflict.
    let offline = workspace.run(&["--format", "json", "--offline", "--index-url", &index]);
    assert_eq!(
        findings(&offline.json(), &["declared-conflict"]),
        [("declared-conflict", 2)]
    );

    // A pin that fits is not a conflict.
    let fine = Workspace::new("alpha==1.0\nbeta==2.0\n");
    let run = fine.run(&["--format", "json", "--index-url", &index]);
    assert!(findings(&run.json(), &["declared-conflict"]).is_empty());
}
