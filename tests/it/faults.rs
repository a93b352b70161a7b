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
