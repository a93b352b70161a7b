//! Where reqlock once read, resolved or locked a file differently from pip
//! (issue 12, item 7), checked against what a current pip does: `===`
//! compares text, `--prefer-binary` in a file ranks releases with a wheel
//! first, a long hash list is a legitimate line, a no-break space between
//! name and specifier is an error.

use std::path::{Path, PathBuf};

use reqlock::compat::CompatDb;
use reqlock::requirements::{parse_text, ParseSettings, RequirementSet};
use reqlock::target::Target;
use reqlock::testing::InMemorySource;
use reqlock::tree::resolve::{resolve, LockError, ResolveOptions};

use crate::common::dists::zip;
use crate::common::filled_index::Index;

fn requirements(text: &str) -> RequirementSet {
    let settings = ParseSettings {
        working_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        lookup_var: Box::new(|_| None),
    };
    parse_text(Path::new("requirements.in"), text, &settings).expect("valid requirements")
}

/// The pins a lock of `text` gives on `source`, or the error.
fn lock(source: &str, text: &str) -> Result<Vec<String>, LockError> {
    let source = InMemorySource::from_fixture(source).expect("valid fixture");
    let target =
        Target::from_flags(Some("3.11"), Some("manylinux_2_28_x86_64")).expect("valid target");
    let compat = CompatDb::bundled().expect("bundled database");
    let resolution = resolve(
        &source,
        &requirements(text),
        &target,
        &compat,
        &ResolveOptions::default(),
    )?;
    Ok(resolution
        .packages
        .iter()
        .map(|package| format!("{}=={}", package.name, package.version))
        .collect())
}

const POST_RELEASE: &str = r#"
default-index = "https://pkgs.example.invalid/simple"
[[release]]
name = "foo"
version = "1.0.post2"
files = [{ filename = "foo-1.0.post2-py3-none-any.whl" }]
"#;

/// pip 26: `foo===1.0-2` finds no release (`1.0-2` is not the text of
/// `1.0.post2`); `foo===1.0.post2` and `foo===1.0.POST2` install it.
#[test]
fn arbitrary_equality_locks_the_text_as_written_not_the_version() {
    assert!(
        matches!(
            lock(POST_RELEASE, "foo===1.0-2\n"),
            Err(LockError::NoSolution { .. })
        ),
        "{:?}",
        lock(POST_RELEASE, "foo===1.0-2\n")
    );
    for spelled in ["foo===1.0.post2\n", "foo===1.0.POST2\n"] {
        assert_eq!(
            lock(POST_RELEASE, spelled).expect("resolvable"),
            ["foo==1.0.post2"]
        );
    }
    let release = r#"
default-index = "https://pkgs.example.invalid/simple"
[[release]]
name = "foo"
version = "1.0.0"
files = [{ filename = "foo-1.0.0-py3-none-any.whl" }]
"#;
    // `1.0.0` equals `1.0` as a version, not as text.
    assert!(lock(release, "foo===1.0\n").is_err());
    assert_eq!(
        lock(release, "foo===1.0.0\n").expect("resolvable"),
        ["foo==1.0.0"]
    );
}

/// `app` needs `lib`; the newest `lib` has only an sdist (with static
/// metadata, so nothing is built), the one before it a wheel.
const SDIST_ONLY_NEWEST: &str = r#"
default-index = "https://pkgs.example.invalid/simple"
[[release]]
name = "app"
version = "1.0"
requires-dist = ["lib"]
files = [{ filename = "app-1.0-py3-none-any.whl" }]
[[release]]
name = "lib"
version = "1.0"
files = [{ filename = "lib-1.0-py3-none-any.whl" }, { filename = "lib-1.0.tar.gz" }]
[[release]]
name = "lib"
version = "2.0"
files = [{ filename = "lib-2.0-cp311-cp311-win_amd64.whl" }, { filename = "lib-2.0.tar.gz" }]
[[release]]
name = "lib"
version = "3.0"
files = [{ filename = "lib-3.0.tar.gz" }]
"#;

/// pip: "Prefer binary packages over source packages, even if the source
/// packages are newer" — its candidate order puts releases with a wheel
/// for the target first, for every package of the tree.
#[test]
fn prefer_binary_in_the_file_orders_the_locks_candidates_wheels_first() {
    assert_eq!(
        lock(SDIST_ONLY_NEWEST, "app\n").expect("resolvable"),
        ["app==1.0", "lib==3.0"]
    );
    assert_eq!(
        lock(SDIST_ONLY_NEWEST, "--prefer-binary\napp\n").expect("resolvable"),
        ["app==1.0", "lib==1.0"]
    );
    // Only a preference: a range no wheel fits still takes the sdist.
    assert_eq!(
        lock(SDIST_ONLY_NEWEST, "--prefer-binary\napp\nlib>=2\n").expect("resolvable"),
        ["app==1.0", "lib==3.0"]
    );
}

/// A wheel of `name` at `version`, as a stored zip.
fn wheel(name: &str, version: &str) -> Vec<u8> {
    let info = format!("{name}-{version}.dist-info");
    zip(&[
        (
            format!("{info}/METADATA"),
            format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"),
        ),
        (
            format!("{info}/WHEEL"),
            "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n".to_string(),
        ),
        (format!("{info}/RECORD"), String::new()),
    ])
}

#[test]
fn prefer_binary_in_the_file_changes_what_the_audit_says_pip_installs() {
    let index = Index::new();
    index.publish_files(
        "lib",
        &[
            ("lib-1.0-py3-none-any.whl", &wheel("lib", "1.0")),
            ("lib-2.0.tar.gz", b"not built: only named"),
        ],
    );
    let resolved = |text: &str| {
        index.requirements(text);
        let run = index.run("audit", &["--format", "json"]);
        let document = run.json();
        let requirement = document["requirements"]
            .as_array()
            .expect("requirements")
            .iter()
            .find(|requirement| requirement["name"] == "lib")
            .cloned()
            .expect("lib is listed");
        let rules: Vec<String> = document["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|finding| finding["rule"].as_str().unwrap_or_default().to_string())
            .collect();
        (requirement["resolved"]["version"].clone(), rules)
    };
    let (plain, rules) = resolved("lib>=1\n");
    assert_eq!(plain, "2.0");
    assert!(
        rules.contains(&"no-compatible-wheel".to_string()),
        "{rules:?}"
    );
    let (preferring, rules) = resolved("--prefer-binary\nlib>=1\n");
    assert_eq!(preferring, "1.0");
    assert!(
        !rules.contains(&"no-compatible-wheel".to_string()),
        "{rules:?}"
    );
}

/// pip parses a requirement with thousands of hashes (one for every file
/// of every platform, joined by continuations); so does reqlock.
#[test]
fn a_line_with_five_thousand_hashes_is_a_requirement() {
    let dir = tempfile::tempdir().unwrap();
    let hashes: Vec<String> = (0..5_000u32)
        .map(|n| format!("    --hash=sha256:{n:064x}"))
        .collect();
    let text = format!("foo==1.0 \\\n{}\n", hashes.join(" \\\n"));
    assert!(text.len() > 256 << 10, "past the old limit: {}", text.len());
    std::fs::write(dir.path().join("requirements.txt"), text).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let run = crate::common::run(
        crate::common::reqlock(cache.path())
            .args(["list", "--format", "json", "requirements.txt"])
            .current_dir(dir.path()),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let requirement = &run.json()["requirements"][0];
    assert_eq!(requirement["name"], "foo");
    assert_eq!(requirement["hashes"].as_array().map(Vec::len), Some(5_000));
    assert_eq!(
        requirement["hashes"][4_999],
        format!("sha256:{:064x}", 4_999)
    );
}

/// pip 26: "Invalid requirement: 'requests\xa0==2.31.0': Expected
/// semicolon (after name with no version specifier) or end".
#[test]
fn a_no_break_space_between_name_and_specifier_is_an_error_at_its_column() {
    let cache = tempfile::tempdir().unwrap();
    let run = crate::common::run(crate::common::reqlock(cache.path()).args([
        "list",
        "--format",
        "json",
        "tests/fixtures/errors/no-break-space.txt",
    ]));
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains(
            "no-break-space.txt:2:9: error: invalid requirement: U+00A0 NO-BREAK SPACE where pip accepts only a space or a tab"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("help: retype it as an ordinary space"),
        "{}",
        run.stderr
    );
}
