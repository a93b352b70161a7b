//! Hostile requirements files (issue 12): input that once overflowed the
//! stack or was read differently from pip. Every test runs the binary and
//! wants a diagnostic at the file, line and column, never an abort.

use std::path::Path;

use crate::common::{reqlock, run, Run};

fn list(dir: &Path, file: &str) -> Run {
    let cache = tempfile::tempdir().unwrap();
    run(reqlock(cache.path())
        .args(["list", "--format", "json", file])
        .current_dir(dir))
}

/// `0.txt` includes `1.txt`, which includes `2.txt`, ... `levels` files in
/// all; the last one holds a requirement.
fn include_chain(dir: &Path, levels: usize, option: &str) {
    for level in 0..levels - 1 {
        std::fs::write(
            dir.join(format!("{level}.txt")),
            format!("{option} {}.txt\n", level + 1),
        )
        .unwrap();
    }
    std::fs::write(dir.join(format!("{}.txt", levels - 1)), "six==1.16.0\n").unwrap();
}

#[test]
fn a_chain_of_thousands_of_includes_is_an_error_at_the_include_not_an_abort() {
    for option in ["-r", "-c"] {
        let dir = tempfile::tempdir().unwrap();
        include_chain(dir.path(), 4_000, option);
        let run = list(dir.path(), "0.txt");
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains(
                "99.txt:1:1: error: `-r`/`-c` includes nest more than 100 files deep: `100.txt` is not read"
            ),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("help: flatten the includes"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn a_chain_of_a_hundred_includes_is_read() {
    let dir = tempfile::tempdir().unwrap();
    include_chain(dir.path(), 100, "-r");
    let run = list(dir.path(), "0.txt");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["requirements"][0]["name"], "six");
}

#[test]
fn a_marker_nested_twenty_thousand_deep_is_an_error_at_its_column_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let marker = format!(
        "{}python_version > '3'{}",
        "(".repeat(20_000),
        ")".repeat(20_000)
    );
    std::fs::write(
        dir.path().join("requirements.txt"),
        format!("six==1.16.0\nfoo==1.0 ; {marker}\n"),
    )
    .unwrap();
    let run = list(dir.path(), "requirements.txt");
    assert_eq!(run.code, 2, "{}", run.stderr);
    // The 101st parenthesis, after `foo==1.0 ; ` and a hundred others.
    assert!(
        run.stderr.contains(
            "requirements.txt:2:112: error: invalid marker: parentheses nest more than 100 levels deep"
        ),
        "{}",
        &run.stderr[..run.stderr.len().min(2000)]
    );
}

#[test]
fn a_marker_nested_a_hundred_deep_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let marker = format!("{}python_version > '3'{}", "(".repeat(100), ")".repeat(100));
    std::fs::write(
        dir.path().join("requirements.txt"),
        format!("foo==1.0 ; {marker}\n"),
    )
    .unwrap();
    let run = list(dir.path(), "requirements.txt");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["requirements"][0]["name"], "foo");
}

/// A release whose `Requires-Dist` nests its marker 20,000 deep: the lock
/// says its metadata is invalid, the audit goes on; neither aborts.
#[test]
fn a_requires_dist_nested_twenty_thousand_deep_is_invalid_metadata_not_an_abort() {
    use crate::common::dists::wheel;
    use crate::common::filled_index::Index;
    let marker = format!("{}extra == 'x'{}", "(".repeat(20_000), ")".repeat(20_000));
    let index = Index::with_requirements("a==1.0\nb==1.0\n");
    index.publish(
        "a",
        "a-1.0-py3-none-any.whl",
        &wheel("a", &[&format!("b ; {marker}")]),
    );
    index.publish("b", "b-1.0-py3-none-any.whl", &wheel("b", &[]));
    let audit = index.run("audit", &["--format", "json"]);
    assert_eq!(audit.code, 0, "{}", audit.stderr);
    let lock = index.lock(&[]);
    assert!(lock.code != 0 && lock.code < 100, "{}", lock.stderr);
    assert!(
        lock.stderr.contains("nests more than 100 parentheses deep"),
        "{}",
        lock.stderr
    );
}
