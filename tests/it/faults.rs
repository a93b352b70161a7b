//! Faults and hostile input (issue 12): what reqlock does when the index,
//! the files it serves or the cache misbehave. Every test runs the binary
//! against a loopback index that injects the fault.

use crate::common::dists::wheel;
use crate::common::filled_index::Index;

/// `a 1.0` requires `b>=2`, and the file pins `b==1.0`: a declared
/// conflict, when the metadata can be read.
fn conflicting_pins() -> Index {
    let index = Index::with_requirements("a==1.0\nb==1.0\n");
    index.publish("a", "a-1.0-py3-none-any.whl", &wheel("a", &["b>=2"]));
    index.publish("b", "b-1.0-py3-none-any.whl", &wheel("b", &[]));
    index
}

fn codes(run: &crate::common::Run) -> Vec<(String, String, String)> {
    run.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| {
            (
                finding["rule"].as_str().unwrap().to_string(),
                finding["severity"].as_str().unwrap().to_string(),
                finding["package"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn metadata_the_file_host_will_not_serve_is_a_finding_not_an_all_clear() {
    let healthy = conflicting_pins();
    let run = healthy.run("audit", &["--format", "json", "--strict"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(codes(&run).contains(&("declared-conflict".into(), "error".into(), "b".into())));

    let failing = conflicting_pins();
    failing.fault("files/a-1.0-py3-none-any.whl.metadata", "status 503");
    failing.fault("files/a-1.0-py3-none-any.whl", "status 503");
    let run = failing.run("audit", &["--format", "json"]);
    let found = codes(&run);
    assert!(
        found.contains(&("metadata-unavailable".into(), "warning".into(), "a".into())),
        "{found:?}\n{}",
        run.stderr
    );
    let message = run.json()["findings"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("a-1.0-py3-none-any.whl"), "{message}");
    assert!(message.contains("503"), "{message}");
    assert_eq!(run.code, 0, "a warning by default");
    let strict = failing.run(
        "audit",
        &["--format", "json", "--strict", "--fail-on", "warning"],
    );
    assert_eq!(strict.code, 1, "{}", strict.stderr);
    assert!(codes(&strict).contains(&("metadata-unavailable".into(), "error".into(), "a".into())));
}

#[test]
fn a_wheel_whose_metadata_inflates_past_the_limit_is_not_read_and_says_so() {
    let index = Index::with_requirements("a==1.0\nb==1.0\n");
    let metadata = {
        let mut text =
            b"Metadata-Version: 2.1\nName: a\nVersion: 1.0\nRequires-Dist: b>=2\nDescription: "
                .to_vec();
        text.resize(text.len() + (65 << 20), b' ');
        text
    };
    let bomb = reqlock::testing::zip::zip(
        &[
            ("a/__init__.py", b""),
            ("a-1.0.dist-info/METADATA", &metadata),
            (
                "a-1.0.dist-info/WHEEL",
                b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            ),
            ("a-1.0.dist-info/RECORD", b""),
        ],
        reqlock::testing::zip::Method::Deflated,
    );
    assert!(bomb.len() < 1 << 20, "a small file: {}", bomb.len());
    index.publish("a", "a-1.0-py3-none-any.whl", &bomb);
    index.publish("b", "b-1.0-py3-none-any.whl", &wheel("b", &[]));
    let run = index.run("audit", &["--format", "json", "--strict"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found = codes(&run);
    assert!(
        found.contains(&("metadata-unavailable".into(), "error".into(), "a".into())),
        "{found:?}"
    );
}

#[test]
fn offline_with_an_empty_cache_says_nothing_was_checked_and_strict_fails() {
    let index = conflicting_pins();
    let run = index.run("audit", &["--format", "json", "--offline"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("nothing was checked against an index"),
        "{}",
        run.stderr
    );
    let found = codes(&run);
    assert_eq!(
        found,
        [
            ("not-resolved-offline".into(), "warning".into(), "a".into()),
            ("not-resolved-offline".into(), "warning".into(), "b".into())
        ]
    );
    let strict = index.run("audit", &["--format", "json", "--offline", "--strict"]);
    assert_eq!(strict.code, 1, "{}", strict.stderr);
}

/// Serve `a 1.0` with a `.metadata` file holding `metadata`, the page
/// advertising `advertised` as its sha256 (or the right one).
fn with_metadata_file(metadata: &str, advertised: Option<&str>) -> Index {
    let index = Index::with_requirements("a==1.0\nb==1.0\n");
    let wheel_body = wheel("a", &[]);
    index.host("a-1.0-py3-none-any.whl", &wheel_body);
    index.host("a-1.0-py3-none-any.whl.metadata", metadata.as_bytes());
    let advertised = advertised
        .map(str::to_string)
        .unwrap_or_else(|| crate::common::dists::sha256(metadata.as_bytes()));
    let page = serde_json::json!({
        "meta": {"api-version": "1.1"},
        "name": "a",
        "files": [{
            "filename": "a-1.0-py3-none-any.whl",
            "url": "../../files/a-1.0-py3-none-any.whl",
            "hashes": {"sha256": crate::common::dists::sha256(&wheel_body)},
            "core-metadata": {"sha256": advertised},
        }],
    });
    index.local_page("a", &page.to_string());
    index.publish("b", "b-1.0-py3-none-any.whl", &wheel("b", &[]));
    index
}

fn finding_of(run: &crate::common::Run, rule: &str) -> serde_json::Value {
    run.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|finding| finding["rule"] == rule)
        .cloned()
        .unwrap_or_else(|| panic!("no {rule} finding: {}", run.stdout))
}

#[test]
fn metadata_of_another_project_is_not_used() {
    // pip: "Requested a==1.0 ... has inconsistent name".
    let index = with_metadata_file(
        "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\nRequires-Dist: b>=2\n",
        None,
    );
    let run = index.run("audit", &["--format", "json"]);
    let finding = finding_of(&run, "metadata-unavailable");
    assert_eq!(finding["package"], "a");
    let message = finding["message"].as_str().unwrap();
    assert!(message.contains("is for evil 1.0, not a 1.0"), "{message}");
    assert!(
        !run.stdout.contains("declared-conflict"),
        "the foreign Requires-Dist must not be used: {}",
        run.stdout
    );
    let lock = index.lock(&[]);
    assert_ne!(lock.code, 0, "{}", lock.stdout);
    assert!(lock.stderr.contains("is for evil 1.0"), "{}", lock.stderr);
}

#[test]
fn metadata_that_is_not_the_advertised_file_is_not_used() {
    let metadata = "Metadata-Version: 2.1\nName: a\nVersion: 1.0\nRequires-Dist: b>=2\n";
    let index = with_metadata_file(metadata, Some(&"0".repeat(64)));
    let run = index.run("audit", &["--format", "json"]);
    let finding = finding_of(&run, "metadata-unavailable");
    let message = finding["message"].as_str().unwrap();
    assert!(message.contains("but the index gives 0000"), "{message}");
    // With the right hash, the same file is used: the conflict shows.
    let good = with_metadata_file(metadata, None);
    let run = good.run("audit", &["--format", "json"]);
    assert_eq!(finding_of(&run, "declared-conflict")["package"], "b");
}

/// Every cached wheel-metadata entry under the cache folder.
fn cached_metadata_entries(index: &Index) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.components().any(|part| part.as_os_str() == "metadata") {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(index.cache.path(), &mut found);
    found
}

#[test]
fn a_damaged_or_foreign_metadata_cache_entry_is_never_trusted() {
    let index = Index::with_requirements("app\n");
    index.publish("app", "app-1.0-py3-none-any.whl", &wheel("app", &["dep"]));
    index.publish("dep", "dep-1.0-py3-none-any.whl", &wheel("dep", &[]));
    let first = index.lock(&[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(first.stdout.contains("dep==1.0"), "{}", first.stdout);
    let entries = cached_metadata_entries(&index);
    assert_eq!(entries.len(), 2, "{entries:?}");
    let app_entry = entries
        .iter()
        .find(|path| std::fs::read_to_string(path).unwrap().contains("Name: app"))
        .unwrap()
        .clone();

    // Cut before its Requires-Dist: offline it is a miss, not a lock
    // without `dep`.
    let whole = std::fs::read_to_string(&app_entry).unwrap();
    let cut = &whole[..whole.find("Requires-Dist").unwrap()];
    std::fs::write(&app_entry, cut).unwrap();
    let offline = index.lock(&["--offline"]);
    assert_ne!(offline.code, 0, "{}", offline.stdout);
    assert!(!offline.stdout.contains("app=="), "{}", offline.stdout);
    // Online it is fetched again, and the lock is whole.
    let online = index.lock(&[]);
    assert_eq!(online.code, 0, "{}", online.stderr);
    assert!(online.stdout.contains("dep==1.0"), "{}", online.stdout);

    // An entry naming another project, with a digest that matches: still
    // not app's metadata.
    let foreign = "Metadata-Version: 2.1\nName: other\nVersion: 1.0\nRequires-Dist: evil\n";
    let digest = crate::common::dists::sha256(foreign.as_bytes());
    std::fs::write(
        &app_entry,
        format!("reqlock-metadata-v1 sha256={digest}\n{foreign}"),
    )
    .unwrap();
    let run = index.lock(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("dep==1.0") && !run.stdout.contains("evil"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_release_that_requires_a_version_of_itself_it_is_not_cannot_be_locked() {
    // pip: ResolutionImpossible, directly and through another package.
    for requirements in ["selfimp\n", "app\n"] {
        let index = Index::with_requirements(requirements);
        index.publish(
            "selfimp",
            "selfimp-1.0-py3-none-any.whl",
            &wheel("selfimp", &["selfimp>=99"]),
        );
        index.publish(
            "app",
            "app-1.0-py3-none-any.whl",
            &wheel("app", &["selfimp"]),
        );
        let run = index.lock(&[]);
        assert_eq!(
            run.code, 1,
            "{requirements}: {}\n{}",
            run.stdout, run.stderr
        );
        assert!(
            run.stderr.contains("selfimp==1.0 requires itself at >=99"),
            "{}",
            run.stderr
        );
        let deep = index.run("audit", &["--deep", "--format", "json"]);
        assert!(
            codes(&deep)
                .iter()
                .any(|(rule, _, _)| rule == "unresolvable"),
            "{}",
            deep.stdout
        );
    }
}

#[test]
fn a_release_may_require_itself_with_extras() {
    let index = Index::with_requirements("selfext\n");
    let metadata_wheel =
        crate::common::dists::wheel("selfext", &["selfext[fast]", "speedy ; extra == 'fast'"]);
    index.publish("selfext", "selfext-1.0-py3-none-any.whl", &metadata_wheel);
    index.publish(
        "speedy",
        "speedy-1.0-py3-none-any.whl",
        &wheel("speedy", &[]),
    );
    let run = index.lock(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("selfext==1.0") && run.stdout.contains("speedy==1.0"),
        "{}",
        run.stdout
    );
}

#[test]
fn lockfiles_go_through_symlinks_and_into_devices_without_replacing_them() {
    use std::os::unix::fs::PermissionsExt;
    let index = Index::with_requirements("app\n");
    index.publish("app", "app-1.0-py3-none-any.whl", &wheel("app", &[]));

    // A device: written to, not renamed over (the test's stdout is a pipe).
    let run = index.lock(&["-o", "/dev/stdout"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("app==1.0"), "{}", run.stdout);
    assert!(!std::fs::symlink_metadata("/dev/stdout").unwrap().is_file());
    let dashed = index.lock(&["-o", "-"]);
    assert!(dashed.stdout.contains("app==1.0"), "{}", dashed.stdout);
    let check = index.lock(&["--check", "-o", "/dev/null"]);
    assert_eq!(check.code, 2, "{}", check.stderr);
    assert!(
        check.stderr.contains("not a regular file"),
        "{}",
        check.stderr
    );

    // A symlink: its target is replaced, the link stays, so does the mode.
    let real = index.dir.path().join("real.lock");
    std::fs::write(&real, "app==1.0\n").unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = index.dir.path().join("requirements.lock");
    std::os::unix::fs::symlink("real.lock", &link).unwrap();
    let run = index.lock(&["-o", "requirements.lock"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&real)
        .unwrap()
        .contains("--hash=sha256:"));
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[test]
fn temporaries_of_killed_runs_are_cleaned_up() {
    let index = Index::with_requirements("app\n");
    index.publish("app", "app-1.0-py3-none-any.whl", &wheel("app", &[]));
    assert_eq!(index.lock(&["-o", "requirements.lock"]).code, 0);
    let hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    let plant = |path: std::path::PathBuf| {
        std::fs::write(&path, b"half").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(hours_ago)
            .unwrap();
        path
    };
    // No process has this id (above the kernel's pid_max).
    let entry = cached_metadata_entries(&index)
        .pop()
        .expect("a cached entry");
    let in_cache = plant(entry.parent().unwrap().join(".tmp-99999999-7"));
    let beside = plant(index.dir.path().join(".requirements.lock.99999999.tmp"));
    let unrelated = plant(index.dir.path().join(".notes.99999999.tmp"));
    std::fs::remove_file(&entry).unwrap();
    let run = index.lock(&["-o", "requirements.lock"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!beside.exists(), "beside the lockfile");
    assert!(!in_cache.exists(), "in the cache: {}", in_cache.display());
    assert!(unrelated.exists(), "not reqlock's to remove");
}

#[test]
fn an_index_that_asks_to_retry_later_is_waited_for() {
    // Busy for 2.5 s, asking for 3: the backoff alone (0.25 + 0.5 + 1 s)
    // gives up before it is ready, as reqlock did before honouring it.
    let index = Index::with_requirements("a==1.0\n");
    index.publish("a", "a-1.0-py3-none-any.whl", &wheel("a", &[]));
    index.fault("simple/a.json", "status 429 retry-after 3 for-ms 2500");
    let run = index.run("audit", &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.json()["requirements"][0]["status"],
        "resolved",
        "{}",
        run.stdout
    );
}
