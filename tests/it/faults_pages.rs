//! Hostile index pages and page cache entries (issue 12): bombs, pages
//! that cannot be read, headers that lie. Every test runs the binary
//! against a loopback index and wants a clear answer, never an abort.

use std::path::{Path, PathBuf};

use crate::common::dists::wheel;
use crate::common::filled_index::Index;
use crate::common::Run;

fn findings(run: &Run) -> Vec<(String, String, String)> {
    run.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| {
            (
                finding["rule"].as_str().unwrap().to_string(),
                finding["package"].as_str().unwrap_or_default().to_string(),
                finding["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Every page entry under the cache folder.
fn page_entries(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(page_entries(&path));
        } else if path.extension().is_some_and(|ext| ext == "json")
            && path.components().any(|part| part.as_os_str() == "pages-v3")
        {
            found.push(path);
        }
    }
    found
}

#[test]
fn a_cache_entry_whose_header_claims_a_petabyte_is_a_miss_not_an_abort() {
    let index = Index::with_requirements("a==1.0\n");
    index.publish("a", "a-1.0-py3-none-any.whl", &wheel("a", &[]));
    let run = index.run("audit", &["--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let entries = page_entries(index.cache.path());
    assert_eq!(entries.len(), 1, "{entries:?}");
    let text = std::fs::read_to_string(&entries[0]).unwrap();
    let (header, files) = text.split_once('\n').unwrap();
    let mut header: serde_json::Value = serde_json::from_str(header).unwrap();
    for release in header["releases"].as_array_mut().unwrap() {
        release[2] = serde_json::json!(1_000_000_000_000_000u64);
    }
    std::fs::write(&entries[0], format!("{header}\n{files}")).unwrap();

    // Offline, the damaged entry is a miss: nothing was resolved, and so
    // said, not a crash.
    let offline = index.run("audit", &["--format", "json", "--offline"]);
    assert_eq!(offline.code, 0, "{}", offline.stderr);
    let found = findings(&offline);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "not-resolved-offline");
    // Online, it is fetched again and the audit is what a clean cache gives.
    let online = index.run("audit", &["--format", "json"]);
    assert_eq!(online.code, 0, "{}", online.stderr);
    assert_eq!(findings(&online), findings(&run));
    assert_eq!(index.server.page_requests().len(), 2);
}
