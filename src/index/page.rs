//! A project's page of the simple repository API, in either form: PEP 691
//! JSON or PEP 503 HTML (with PEP 592 yanking, PEP 658/714 metadata and
//! `data-requires-python`). Both parse into one compact [`ProjectPage`],
//! which is also what the cache stores.

use std::collections::BTreeMap;
use std::str::FromStr;

use pep508_rs::pep440_rs::{Operator, Version, VersionSpecifiers};

use percent_encoding::percent_decode_str;
use reqwest::Url;
use serde::{Deserialize, Serialize};

/// One downloadable file of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistFile {
    pub filename: String,
    /// Absolute, and never with credentials.
    pub url: String,
    /// Algorithm → hex digest.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hashes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_python: Option<String>,
    /// `Some(reason)` when yanked; the reason may be empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yanked: Option<String>,
    /// The index serves the file's metadata separately (PEP 658/714).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub core_metadata: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_time: Option<String>,
}

/// Every file an index lists for one project, or, when read through a
/// [`VersionFilter`], the files of the wanted versions and the names of
/// the others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectPage {
    pub files: Vec<DistFile>,
    /// Versions the page lists whose files were left out by a filter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub omitted_versions: Vec<String>,
}

/// Which releases of a project a reader needs: a warm audit of a pin reads
/// one release's files, not the whole page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VersionFilter {
    /// `None`: every release; else the releases any of these admit.
    wanted: Option<Vec<VersionSpecifiers>>,
}

impl VersionFilter {
    pub fn all() -> VersionFilter {
        VersionFilter { wanted: None }
    }

    /// No release's files, only the list of versions.
    pub fn names_only() -> VersionFilter {
        VersionFilter {
            wanted: Some(Vec::new()),
        }
    }

    /// The releases any of `specifiers` admits (an empty set admits all).
    pub fn admitted_by(specifiers: Vec<VersionSpecifiers>) -> VersionFilter {
        if specifiers.iter().any(|s| s.is_empty()) {
            return VersionFilter::all();
        }
        VersionFilter {
            wanted: Some(specifiers),
        }
    }

    /// Whether the files of `version` are needed; a version that does not
    /// parse is kept, so nothing is lost.
    pub fn wants(&self, version: &str) -> bool {
        let Some(wanted) = &self.wanted else {
            return true;
        };
        if wanted.is_empty() {
            return false;
        }
        // Parsing every version of a big project for each pin is most of a
        // warm audit: a pin's major release number rules most out unparsed.
        let major = version
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap_or("");
        if !major.is_empty()
            && !version.contains('!')
            && wanted
                .iter()
                .all(|specifiers| excluded_by_major(specifiers, major))
        {
            return false;
        }
        match Version::from_str(version) {
            Ok(version) => wanted
                .iter()
                .any(|specifiers| specifiers.contains(&version)),
            Err(_) => true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the page is not valid PEP 691 JSON: {0}")]
pub struct PageError(#[from] serde_json::Error);

#[derive(Deserialize)]
struct JsonPage {
    files: Vec<JsonFile>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum BoolOrString {
    Bool(bool),
    String(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum BoolOrHashes {
    Bool(bool),
    // A map of hashes; only its presence matters here.
    Hashes(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
    #[serde(default, rename = "requires-python")]
    requires_python: Option<String>,
    #[serde(default)]
    yanked: Option<BoolOrString>,
    #[serde(default, rename = "core-metadata")]
    core_metadata: Option<BoolOrHashes>,
    // PEP 714 renamed it; older servers only send the old key.
    #[serde(default, rename = "dist-info-metadata")]
    dist_info_metadata: Option<BoolOrHashes>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default, rename = "upload-time")]
    upload_time: Option<String>,
}

fn absolute(base: &Url, href: &str) -> Option<Url> {
    base.join(href).ok()
}

/// Parse a PEP 691 JSON page fetched from `base` (used for relative URLs).
pub fn parse_json(body: &[u8], base: &Url) -> Result<ProjectPage, PageError> {
    let page: JsonPage = serde_json::from_slice(body)?;
    let files = page
        .files
        .into_iter()
        .filter_map(|file| {
            let url = absolute(base, &file.url)?;
            let has_metadata = |value: &Option<BoolOrHashes>| match value {
                Some(BoolOrHashes::Bool(present)) => *present,
                Some(BoolOrHashes::Hashes(_)) => true,
                None => false,
            };
            Some(DistFile {
                filename: file.filename,
                url: without_fragment(url),
                hashes: file.hashes,
                requires_python: file.requires_python.filter(|s| !s.trim().is_empty()),
                yanked: match file.yanked {
                    Some(BoolOrString::Bool(true)) => Some(String::new()),
                    Some(BoolOrString::String(reason)) => Some(reason),
                    Some(BoolOrString::Bool(false)) | None => None,
                },
                core_metadata: has_metadata(&file.core_metadata)
                    || has_metadata(&file.dist_info_metadata),
                size: file.size,
                upload_time: file.upload_time,
            })
        })
        .collect();
    Ok(ProjectPage {
        files,
        omitted_versions: Vec::new(),
    })
}

fn without_fragment(mut url: Url) -> String {
    url.set_fragment(None);
    url.to_string()
}

/// Parse a PEP 503 HTML page (or a find-links page) fetched from `base`.
/// Anchors are read leniently, as pip does: a page it cannot make sense of
/// simply lists no files.
pub fn parse_html(body: &str, base: &Url) -> ProjectPage {
    // `<base href>` changes what relative links resolve against.
    let base = anchors(body, "base")
        .into_iter()
        .find_map(|(attributes, _)| attribute(&attributes, "href").and_then(|h| absolute(base, &h)))
        .unwrap_or_else(|| base.clone());
    let files = anchors(body, "a")
        .into_iter()
        .filter_map(|(attributes, _text)| {
            let href = attribute(&attributes, "href")?;
            let url = absolute(&base, &href)?;
            let mut hashes = BTreeMap::new();
            if let Some((algorithm, digest)) = url.fragment().and_then(|f| f.split_once('=')) {
                hashes.insert(algorithm.to_string(), digest.to_string());
            }
            let filename = url
                .path_segments()
                .and_then(|mut segments| segments.next_back())
                .map(|last| percent_decode_str(last).decode_utf8_lossy().into_owned())
                .filter(|name| !name.is_empty())?;
            Some(DistFile {
                filename,
                hashes,
                requires_python: attribute(&attributes, "data-requires-python")
                    .filter(|s| !s.trim().is_empty()),
                yanked: attribute(&attributes, "data-yanked"),
                core_metadata: attribute(&attributes, "data-core-metadata")
                    .or_else(|| attribute(&attributes, "data-dist-info-metadata"))
                    .is_some_and(|value| value != "false"),
                size: None,
                upload_time: None,
                url: without_fragment(url),
            })
        })
        .collect();
    ProjectPage {
        files,
        omitted_versions: Vec::new(),
    }
}

/// `(attributes, inner text)` of every `<tag ...>` element, with attribute
/// names lower-cased and values entity-decoded.
fn anchors(body: &str, tag: &str) -> Vec<(Vec<(String, String)>, String)> {
    let lower = body.to_ascii_lowercase();
    let open = format!("<{tag}");
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(start) = lower[at..].find(&open).map(|i| i + at) {
        let after_name = start + open.len();
        at = after_name;
        let Some(next) = lower[after_name..].chars().next() else {
            break;
        };
        if !(next.is_ascii_whitespace() || next == '>' || next == '/') {
            continue;
        }
        let (attributes, end) = parse_attributes(body, after_name);
        at = end;
        let close = format!("</{tag}");
        let text = match lower[end..].find(&close) {
            Some(i) if tag == "a" => decode_entities(body[end..end + i].trim()),
            _ => String::new(),
        };
        found.push((attributes, text));
    }
    found
}

/// Attributes from `at` up to the closing `>`; returns them and the index
/// after the `>`.
fn parse_attributes(body: &str, mut at: usize) -> (Vec<(String, String)>, usize) {
    let bytes = body.as_bytes();
    let mut attributes = Vec::new();
    loop {
        while at < bytes.len() && (bytes[at].is_ascii_whitespace() || bytes[at] == b'/') {
            at += 1;
        }
        if at >= bytes.len() {
            return (attributes, at);
        }
        if bytes[at] == b'>' {
            return (attributes, at + 1);
        }
        let name_start = at;
        while at < bytes.len()
            && !bytes[at].is_ascii_whitespace()
            && !matches!(bytes[at], b'=' | b'>' | b'/')
        {
            at += 1;
        }
        let name = body[name_start..at].to_ascii_lowercase();
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if at < bytes.len() && bytes[at] == b'=' {
            at += 1;
            while at < bytes.len() && bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            let value = if at < bytes.len() && matches!(bytes[at], b'"' | b'\'') {
                let quote = bytes[at];
                let start = at + 1;
                let end = bytes[start..]
                    .iter()
                    .position(|&b| b == quote)
                    .map_or(bytes.len(), |i| start + i);
                at = (end + 1).min(bytes.len());
                &body[start..end]
            } else {
                let start = at;
                while at < bytes.len() && !bytes[at].is_ascii_whitespace() && bytes[at] != b'>' {
                    at += 1;
                }
                &body[start..at]
            };
            attributes.push((name, decode_entities(value)));
        } else if !name.is_empty() {
            attributes.push((name, String::new()));
        } else {
            at += 1;
        }
    }
}

fn attribute(attributes: &[(String, String)], name: &str) -> Option<String> {
    attributes
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
}

/// The character references that appear in index pages (`&gt;=3.8`).
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|&i| i <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether `specifiers` is one `==` pin (no wildcard, no epoch) whose major
/// release number is not `major`, so that no version with that major
/// release can match.
fn excluded_by_major(specifiers: &VersionSpecifiers, major: &str) -> bool {
    let mut specs = specifiers.iter();
    let (Some(spec), None) = (specs.next(), specs.next()) else {
        return false;
    };
    let pinned = spec.version();
    *spec.operator() == Operator::Equal
        && pinned.epoch() == 0
        && major.parse::<u64>().ok() != pinned.release().first().copied()
}

/// The version a file belongs to, as text (`""` when the name does not
/// parse, or no project is known, e.g. on a find-links page).
pub fn version_key(filename: &str, project: Option<&str>) -> String {
    project
        .and_then(|project| crate::index::filename::parse(filename, project))
        .map(|parsed| parsed.version.to_string())
        .unwrap_or_default()
}

impl ProjectPage {
    /// Only the files of the versions `filter` wants; the other versions
    /// are named in `omitted_versions`.
    pub fn filtered(self, project: Option<&str>, filter: &VersionFilter) -> ProjectPage {
        if filter.wanted.is_none() {
            return self;
        }
        let mut omitted: std::collections::BTreeSet<String> =
            self.omitted_versions.into_iter().collect();
        let mut files = Vec::new();
        for file in self.files {
            let version = version_key(&file.filename, project);
            if filter.wants(&version) {
                files.push(file);
            } else {
                omitted.insert(version);
            }
        }
        ProjectPage {
            files,
            omitted_versions: omitted.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://127.0.0.1:1/simple/demo/").unwrap()
    }

    #[test]
    fn filters_want_what_their_specifiers_admit() {
        let pin = VersionFilter::admitted_by(vec!["==2.1.0".parse().unwrap()]);
        assert!(pin.wants("2.1.0"));
        assert!(pin.wants("2.1"));
        assert!(pin.wants("2.1.0+cu121"));
        assert!(!pin.wants("2.2.0"));
        assert!(!pin.wants("12.1.0"));
        assert!(!pin.wants("1!2.1.0"));
        assert!(pin.wants("not-a-version"));
        let range =
            VersionFilter::admitted_by(vec![">=1.5".parse().unwrap(), "==0.9".parse().unwrap()]);
        assert!(range.wants("1.6") && range.wants("0.9") && !range.wants("1.0"));
        assert!(VersionFilter::admitted_by(vec![VersionSpecifiers::empty()]).wants("0.1"));
        assert!(!VersionFilter::names_only().wants("1.0"));
    }

    #[test]
    fn json_page() {
        let body = br#"{"meta":{"api-version":"1.1"},"name":"demo","files":[
            {"filename":"demo-1.0.tar.gz","url":"../../files/demo-1.0.tar.gz#sha256=ab",
             "hashes":{"sha256":"ab"},"requires-python":">=3.8","yanked":"broken",
             "core-metadata":{"sha256":"cd"},"size":10,"upload-time":"2024-01-01T00:00:00Z"},
            {"filename":"demo-1.1-py3-none-any.whl","url":"https://files.invalid/demo-1.1-py3-none-any.whl",
             "hashes":{},"yanked":false,"dist-info-metadata":true}],"versions":["1.0","1.1"]}"#;
        let page = parse_json(body, &base()).unwrap();
        assert_eq!(
            page.files[0].url,
            "http://127.0.0.1:1/files/demo-1.0.tar.gz"
        );
        assert_eq!(page.files[0].yanked.as_deref(), Some("broken"));
        assert_eq!(page.files[0].requires_python.as_deref(), Some(">=3.8"));
        assert!(page.files[0].core_metadata && page.files[1].core_metadata);
        assert_eq!(page.files[1].yanked, None);
        assert!(parse_json(b"{\"files\": [", &base()).is_err());
    }

    #[test]
    fn html_page() {
        let body = r#"<!DOCTYPE html><html><body>
            <a href="../../files/demo-1.0.tar.gz#sha256=ab" data-requires-python="&gt;=3.8" data-yanked="">demo-1.0.tar.gz</a><br/>
            <A HREF='demo-2.0%2Bcpu-py3-none-any.whl' data-core-metadata="sha256=ff">x</A>
            <a>no href</a></body></html>"#;
        let page = parse_html(body, &base());
        assert_eq!(page.files.len(), 2);
        assert_eq!(page.files[0].filename, "demo-1.0.tar.gz");
        assert_eq!(page.files[0].hashes["sha256"], "ab");
        assert_eq!(page.files[0].requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(page.files[0].yanked.as_deref(), Some(""));
        assert_eq!(page.files[1].filename, "demo-2.0+cpu-py3-none-any.whl");
        assert_eq!(
            page.files[1].url,
            "http://127.0.0.1:1/simple/demo/demo-2.0%2Bcpu-py3-none-any.whl"
        );
        assert!(page.files[1].core_metadata);
    }

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("&lt;4,&#62;=3&#x2E;8 & more"),
            "<4,>=3.8 & more"
        );
    }
}
