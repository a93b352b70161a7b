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
            && path
                .components()
                .any(|part| part.as_os_str().to_string_lossy().starts_with("pages-v"))
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

/// An index whose `project` page is `simple/<project>.html` holding `body`,
/// answered as `fault` says, for `requirements.txt` = `<project>==1.0`.
fn serving_html(project: &str, body: &[u8], fault: Option<&str>) -> Index {
    let index = Index::with_requirements(&format!("{project}==1.0\n"));
    std::fs::write(
        index.root.path().join(format!("simple/{project}.html")),
        body,
    )
    .unwrap();
    if let Some(fault) = fault {
        index.fault(&format!("simple/{project}.html"), fault);
    }
    index
}

#[test]
fn a_gzip_page_that_inflates_past_the_limit_is_refused_by_name_and_limit() {
    use std::io::Write;
    // 300 MiB of zeros after a page's start: about 300 KiB of gzip.
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(b"<!DOCTYPE html><html><body>\n").unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..300 {
        gzip.write_all(&zeros).unwrap();
    }
    let bomb = gzip.finish().unwrap();
    assert!(bomb.len() < 2 << 20, "a small file: {}", bomb.len());
    let index = serving_html("bomb", &bomb, Some("encoding gzip"));
    let run = index.run("audit", &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let found = findings(&run);
    assert_eq!(found.len(), 1, "{found:?}");
    let (rule, package, message) = &found[0];
    assert_eq!(
        (rule.as_str(), package.as_str()),
        ("unreadable-page", "bomb")
    );
    let url = format!("{}bomb/", index.server.url("simple"));
    assert_eq!(
        message,
        &format!(
            "`bomb` could not be checked: {url} sent a page reqlock cannot read: it is larger than 256 MiB after decompression, the most reqlock reads for one page"
        )
    );
    // A bomb is not asked for again.
    assert_eq!(index.server.page_requests().len(), 1);
}

#[test]
fn a_page_that_is_not_a_page_says_why_instead_of_unknown_package() {
    let cases: [(&str, &[u8], Option<&str>, &str); 4] = [
        (
            "garbage",
            b"\x13\x37 lorem ipsum, no markup at all \xff",
            None,
            "it is served as HTML but holds no HTML",
        ),
        (
            "jsonish",
            br#"{"meta": {"api-version": "1.1"}, "name": "jsonish", "files": []}"#,
            None,
            "it is served as HTML but holds JSON (the server sends the wrong Content-Type)",
        ),
        (
            "picture",
            b"\x89PNG\r\n\x1a\n",
            Some("content-type image/png"),
            "its Content-Type `image/png` is neither HTML nor JSON",
        ),
        ("nothing", b"", None, "it is served as HTML but is empty"),
    ];
    for (project, body, fault, why) in cases {
        let index = serving_html(project, body, fault);
        let run = index.run("audit", &["--format", "json"]);
        assert_eq!(run.code, 1, "{project}: {}", run.stderr);
        let found = findings(&run);
        assert_eq!(found.len(), 1, "{project}: {found:?}");
        assert_eq!(found[0].0, "unreadable-page", "{project}: {found:?}");
        assert!(found[0].2.ends_with(why), "{project}: {}", found[0].2);
    }
}

#[test]
fn an_empty_but_real_html_page_is_still_a_project_without_files() {
    let index = serving_html(
        "emptied",
        b"<!DOCTYPE html><html><head><title>Links for emptied</title></head><body></body></html>",
        None,
    );
    let run = index.run("audit", &["--format", "json"]);
    let found = findings(&run);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "unknown-package");
}
