//! A project's page of the simple repository API, in either form: PEP 691
//! JSON or PEP 503 HTML (with PEP 592 yanking, PEP 658/714 metadata and
//! `data-requires-python`). A JSON page is read file by file into
//! borrowed [`FileView`]s, which the cache's grouping stores and copies
//! out only for the releases a [`VersionFilter`] wants; an HTML page
//! parses into a [`ProjectPage`].

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use pep508_rs::pep440_rs::{Operator, Version, VersionSpecifiers};

use reqwest::Url;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

mod html;
mod unreadable;
mod url;

pub use html::parse_html;
pub use unreadable::{empty_html_problem, Unreadable};
use url::{absolute, resolve, without_fragment};

/// One file of a release: as an index page lists it, as the resolver
/// considers it, as a lockfile records it. The one representation of its
/// hashes is the page's: algorithm → hex digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistFile {
    pub filename: String,
    /// Absolute, and never with credentials; `None` only for a file known
    /// by its name alone (a lockfile entry without a URL, a test fixture).
    pub url: Option<String>,
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
    /// The hex sha256 the index gives for that metadata file, checked
    /// before it is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_sha256: Option<String>,
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
        // warm audit: a pin's release numbers rule most out unparsed.
        if !version.contains('!')
            && wanted
                .iter()
                .all(|specifiers| excluded_by_release(specifiers, version))
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
pub struct PageError(#[from] pub serde_json::Error);

/// A file as a page lists it, borrowing from the page's bytes where it
/// can: most files of a big page are only grouped and stored, never kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileView<'a> {
    pub filename: Cow<'a, str>,
    /// Absolute, without fragment, as [`DistFile::url`].
    pub url: Cow<'a, str>,
    /// Algorithm → hex digest, in the page's order.
    pub hashes: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    pub requires_python: Option<Cow<'a, str>>,
    pub yanked: Option<Cow<'a, str>>,
    pub core_metadata: bool,
    pub metadata_sha256: Option<Cow<'a, str>>,
    pub size: Option<u64>,
    pub upload_time: Option<Cow<'a, str>>,
}

impl DistFile {
    /// A file known by name only: no URL, no hash, nothing else.
    pub fn named(filename: &str) -> DistFile {
        DistFile {
            filename: filename.to_string(),
            url: None,
            hashes: BTreeMap::new(),
            requires_python: None,
            yanked: None,
            core_metadata: false,
            metadata_sha256: None,
            size: None,
            upload_time: None,
        }
    }

    pub fn is_wheel(&self) -> bool {
        self.filename.to_ascii_lowercase().ends_with(".whl")
    }

    /// `sha256:<hex>`, lowercase as pip compares it, when the file has one.
    pub fn sha256(&self) -> Option<String> {
        self.hashes
            .get("sha256")
            .map(|digest| format!("sha256:{}", digest.to_ascii_lowercase()))
    }
}

impl FileView<'_> {
    pub fn to_dist_file(&self) -> DistFile {
        DistFile {
            filename: self.filename.clone().into_owned(),
            url: Some(self.url.clone().into_owned()),
            hashes: self
                .hashes
                .iter()
                .map(|(algorithm, digest)| (algorithm.to_string(), digest.to_string()))
                .collect(),
            requires_python: self.requires_python.as_deref().map(str::to_string),
            yanked: self.yanked.as_deref().map(str::to_string),
            core_metadata: self.core_metadata,
            metadata_sha256: self.metadata_sha256.as_deref().map(str::to_ascii_lowercase),
            size: self.size,
            upload_time: self.upload_time.as_deref().map(str::to_string),
        }
    }
}

impl<'a> From<&'a DistFile> for FileView<'a> {
    fn from(file: &'a DistFile) -> FileView<'a> {
        FileView {
            filename: Cow::Borrowed(&file.filename),
            url: Cow::Borrowed(file.url.as_deref().unwrap_or_default()),
            hashes: file
                .hashes
                .iter()
                .map(|(algorithm, digest)| (Cow::Borrowed(&**algorithm), Cow::Borrowed(&**digest)))
                .collect(),
            requires_python: file.requires_python.as_deref().map(Cow::Borrowed),
            yanked: file.yanked.as_deref().map(Cow::Borrowed),
            core_metadata: file.core_metadata,
            metadata_sha256: file.metadata_sha256.as_deref().map(Cow::Borrowed),
            size: file.size,
            upload_time: file.upload_time.as_deref().map(Cow::Borrowed),
        }
    }
}

/// A JSON string, borrowed from the page unless it had escapes (serde's
/// own `Cow` impl always copies).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Text<'a>, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text.to_string())))
            }
            fn visit_string<E: de::Error>(self, text: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// PEP 592 `yanked`: `false`, `true` or the reason (`Some("")` for `true`).
#[derive(Default)]
struct Yanked<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Yanked<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Yanked<'a>, D::Error> {
        struct YankedVisitor;
        impl<'de> Visitor<'de> for YankedVisitor {
            type Value = Yanked<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a boolean or a reason")
            }
            fn visit_bool<E: de::Error>(self, yanked: bool) -> Result<Yanked<'de>, E> {
                Ok(Yanked(yanked.then_some(Cow::Borrowed(""))))
            }
            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Yanked<'de>, E> {
                Ok(Yanked(Some(Cow::Borrowed(text))))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Yanked<'de>, E> {
                Ok(Yanked(Some(Cow::Owned(text.to_string()))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Yanked<'de>, E> {
                Ok(Yanked(None))
            }
        }
        deserializer.deserialize_any(YankedVisitor)
    }
}

/// A file's `hashes` map, kept as a list: a map per file would cost an
/// allocation per file of a page that is mostly only stored.
#[derive(Default)]
struct Hashes<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Hashes<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Hashes<'a>, D::Error> {
        struct HashesVisitor;
        impl<'de> Visitor<'de> for HashesVisitor {
            type Value = Hashes<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of hashes")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Hashes<'de>, A::Error> {
                let mut hashes = Vec::new();
                while let Some((algorithm, digest)) = map.next_entry::<Text<'de>, Text<'de>>()? {
                    hashes.push((algorithm.0, digest.0));
                }
                Ok(Hashes(hashes))
            }
        }
        deserializer.deserialize_map(HashesVisitor)
    }
}

/// PEP 658/714 metadata: `true`/`false` or a map of hashes, of which only
/// the presence matters.
#[derive(Default)]
struct Presence(bool, Option<String>);

impl<'de> Deserialize<'de> for Presence {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Presence, D::Error> {
        struct PresenceVisitor;
        impl<'de> Visitor<'de> for PresenceVisitor {
            type Value = Presence;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a boolean or a map of hashes")
            }
            fn visit_bool<E: de::Error>(self, present: bool) -> Result<Presence, E> {
                Ok(Presence(present, None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Presence, A::Error> {
                let mut sha256 = None;
                while let Some(algorithm) = map.next_key::<Cow<'de, str>>()? {
                    if algorithm == "sha256" {
                        sha256 = map.next_value::<Option<String>>()?;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Presence(true, sha256))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Presence, E> {
                Ok(Presence(false, None))
            }
        }
        deserializer.deserialize_any(PresenceVisitor)
    }
}

#[derive(Deserialize)]
struct JsonFile<'a> {
    #[serde(borrow)]
    filename: Text<'a>,
    #[serde(borrow)]
    url: Text<'a>,
    #[serde(default, borrow)]
    hashes: Hashes<'a>,
    #[serde(default, borrow, rename = "requires-python")]
    requires_python: Option<Text<'a>>,
    #[serde(default, borrow)]
    yanked: Yanked<'a>,
    #[serde(default, rename = "core-metadata")]
    core_metadata: Presence,
    // PEP 714 renamed it; older servers only send the old key.
    #[serde(default, rename = "dist-info-metadata")]
    dist_info_metadata: Presence,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default, borrow, rename = "upload-time")]
    upload_time: Option<Text<'a>>,
}

/// The page object: only `files` is read, each file handed on as soon as
/// it is parsed, so that no list of the whole page is ever built.
struct PageSeed<'s, F> {
    base: &'s Url,
    each: &'s mut F,
}

impl<'de, F: FnMut(FileView<'de>)> DeserializeSeed<'de> for PageSeed<'_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, F: FnMut(FileView<'de>)> Visitor<'de> for PageSeed<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a PEP 691 project page")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut has_files = false;
        while let Some(key) = map.next_key::<Text<'de>>()? {
            if key.0 == "files" {
                map.next_value_seed(FilesSeed {
                    base: self.base,
                    each: &mut *self.each,
                })?;
                has_files = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if has_files {
            Ok(())
        } else {
            Err(de::Error::missing_field("files"))
        }
    }
}

struct FilesSeed<'s, F> {
    base: &'s Url,
    each: &'s mut F,
}

impl<'de, F: FnMut(FileView<'de>)> DeserializeSeed<'de> for FilesSeed<'_, F> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(FileView<'de>)> Visitor<'de> for FilesSeed<'_, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of files")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut files: A) -> Result<(), A::Error> {
        while let Some(file) = files.next_element::<JsonFile<'de>>()? {
            // A URL that cannot be resolved is a file pip could not fetch.
            let Some(url) = resolve(self.base, file.url.0) else {
                continue;
            };
            (self.each)(FileView {
                filename: file.filename.0,
                url,
                hashes: file.hashes.0,
                requires_python: file
                    .requires_python
                    .map(|text| text.0)
                    .filter(|s| !s.trim().is_empty()),
                yanked: file.yanked.0,
                core_metadata: file.core_metadata.0 || file.dist_info_metadata.0,
                metadata_sha256: file
                    .core_metadata
                    .1
                    .or(file.dist_info_metadata.1)
                    .map(Cow::Owned),
                size: file.size,
                upload_time: file.upload_time.map(|text| text.0),
            });
        }
        Ok(())
    }
}

/// Parse a PEP 691 JSON page fetched from `base` (used for relative URLs),
/// handing each file to `each` as it is read.
pub fn parse_json<'a>(
    body: &'a [u8],
    base: &Url,
    mut each: impl FnMut(FileView<'a>),
) -> Result<(), PageError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    PageSeed {
        base,
        each: &mut each,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(())
}

/// Whether `specifiers` is one `==` pin (no wildcard, no epoch) whose major
/// release number is not `major`, so that no version with that major
/// release can match.
fn excluded_by_release(specifiers: &VersionSpecifiers, version: &str) -> bool {
    let mut specs = specifiers.iter();
    let (Some(spec), None) = (specs.next(), specs.next()) else {
        return false;
    };
    let pinned = spec.version();
    if *spec.operator() != Operator::Equal || pinned.epoch() != 0 {
        return false;
    }
    // The leading release numbers of the text (`1.26.4rc1+x` → 1, 26, 4):
    // `==` needs them equal to the pin's, missing numbers counting as 0.
    let pinned = pinned.release();
    let mut compared = 0;
    for segment in version.split('.') {
        let digits = segment.len()
            - segment
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .len();
        let Ok(number) = segment[..digits].parse::<u64>() else {
            break;
        };
        if number != pinned.get(compared).copied().unwrap_or(0) {
            return true;
        }
        compared += 1;
        if digits < segment.len() {
            break;
        }
    }
    compared > 0 && pinned.iter().skip(compared).any(|&number| number != 0)
}

/// A version in the normalized form releases are known by in the cache
/// (`1.0.0RC1` is `1.0.0rc1`), or `""` when it does not parse.
pub fn normalized_version(text: &str) -> String {
    Version::from_str(text).map_or_else(|_| String::new(), |version| version.to_string())
}

#[cfg(test)]
mod tests {
    use super::html::decode_entities;
    use super::url::is_normalized_absolute;
    use super::*;

    fn base() -> Url {
        Url::parse("http://127.0.0.1:1/simple/demo/").unwrap()
    }

    #[test]
    fn the_release_shortcut_agrees_with_the_specifiers() {
        let versions = [
            "1",
            "1.0",
            "1.0.0",
            "1.0.1",
            "1.0rc1",
            "1.0.post1",
            "1.0.dev3",
            "1.0+cu121",
            "1.0.0+cpu",
            "1.1",
            "10.0",
            "0.0",
            "0.0.1",
            "2.1.0",
            "2.1.0a2",
            "1!1.0",
        ];
        let pins = [
            "==1.0",
            "==1",
            "==1.0.0",
            "==1.0+cu121",
            "==0",
            "==2.1",
            "==1.0rc1",
            "==1.0.*",
        ];
        for pin in pins {
            let specifiers: VersionSpecifiers = pin.parse().unwrap();
            let filter = VersionFilter::admitted_by(vec![specifiers.clone()]);
            for text in versions {
                let version = Version::from_str(text).unwrap();
                assert_eq!(
                    filter.wants(&version.to_string()),
                    specifiers.contains(&version),
                    "{pin} vs {text}"
                );
            }
        }
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

    fn json_files(body: &[u8]) -> Result<Vec<DistFile>, PageError> {
        let mut files = Vec::new();
        parse_json(body, &base(), |file| files.push(file.to_dist_file()))?;
        Ok(files)
    }

    #[test]
    fn json_page() {
        let body = br#"{"meta":{"api-version":"1.1"},"name":"demo","files":[
            {"filename":"demo-1.0.tar.gz","url":"../../files/demo-1.0.tar.gz#sha256=ab",
             "hashes":{"sha256":"ab"},"requires-python":">=3.8","yanked":"broken",
             "core-metadata":{"sha256":"cd"},"size":10,"upload-time":"2024-01-01T00:00:00Z"},
            {"filename":"demo-1.1-py3-none-any.whl","url":"https://files.invalid/demo-1.1-py3-none-any.whl",
             "hashes":{},"yanked":false,"dist-info-metadata":true}],"versions":["1.0","1.1"]}"#;
        let files = json_files(body).unwrap();
        assert_eq!(
            files[0].url.as_deref().unwrap_or_default(),
            "http://127.0.0.1:1/files/demo-1.0.tar.gz"
        );
        assert_eq!(files[0].hashes["sha256"], "ab");
        assert_eq!(files[0].yanked.as_deref(), Some("broken"));
        assert_eq!(files[0].requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(files[0].size, Some(10));
        assert_eq!(
            files[0].upload_time.as_deref(),
            Some("2024-01-01T00:00:00Z")
        );
        assert!(files[0].core_metadata && files[1].core_metadata);
        assert_eq!(files[0].metadata_sha256.as_deref(), Some("cd"));
        assert_eq!(files[1].metadata_sha256, None);
        assert_eq!(files[1].yanked, None);
        assert_eq!(
            files[1].url.as_deref().unwrap_or_default(),
            "https://files.invalid/demo-1.1-py3-none-any.whl"
        );
        assert!(json_files(b"{\"files\": [").is_err());
        assert!(json_files(b"{\"name\": \"demo\"}").is_err());
        assert!(json_files(b"{\"files\": []} trailing").is_err());
    }

    #[test]
    fn json_page_escapes_nulls_and_fragments() {
        // Escaped strings cannot be borrowed from the page, and null is
        // what some servers send for an absent field.
        let body = br#"{"files":[
            {"filename":"demo-1.0.tar.gz","url":"https:\/\/files.invalid\/a\/demo-1.0.tar.gz#sha256=ab",
             "hashes":{"sha\u0032\u0035\u0036":"ab"},"requires-python":"\u003e=3.8",
             "yanked":"reason with \"quotes\"","core-metadata":null,"upload-time":null},
            {"filename":"demo-1.1.tar.gz","url":"https://FILES.invalid/a/./b/../demo-1.1.tar.gz",
             "yanked":true,"requires-python":" ","core-metadata":false,"dist-info-metadata":{"sha256":"x"}},
            {"filename":"demo-1.2.tar.gz","url":"http://[::1",
             "yanked":null}]}"#;
        let files = json_files(body).unwrap();
        assert_eq!(files.len(), 2, "a URL that does not resolve is skipped");
        assert_eq!(
            files[0].url.as_deref().unwrap_or_default(),
            "https://files.invalid/a/demo-1.0.tar.gz"
        );
        assert_eq!(files[0].hashes["sha256"], "ab");
        assert_eq!(files[0].requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(files[0].yanked.as_deref(), Some("reason with \"quotes\""));
        assert!(!files[0].core_metadata);
        assert_eq!(files[0].upload_time, None);
        // Not in the parser's own form: parsed, so it comes out normalized.
        assert_eq!(
            files[1].url.as_deref().unwrap_or_default(),
            "https://files.invalid/a/demo-1.1.tar.gz"
        );
        assert_eq!(files[1].yanked.as_deref(), Some(""));
        assert_eq!(files[1].requires_python, None);
        assert!(files[1].core_metadata);
    }

    #[test]
    fn urls_the_parser_would_change_are_not_taken_as_they_are() {
        for url in [
            "https://files.invalid/a/b.whl",
            "http://files.invalid/packages/ab/cd/x-1.0%2Bcpu-py3-none-any.whl",
            "https://a-b.c0.invalid/~x/@y/;z=1/",
            "https://files.invalid/.well-known/..x/a.whl",
        ] {
            assert!(is_normalized_absolute(url), "{url}");
        }
        for url in [
            "https://files.invalid",
            "HTTPS://files.invalid/a",
            "https://Files.invalid/a",
            "https://files.invalid:443/a",
            "https://user@files.invalid/a",
            "https://127.0.0.1/a",
            "https://1.2.3/a",
            "https://xn--nxasmq6b.invalid/a",
            "https://files.invalid/a/../b",
            "https://files.invalid/a/.",
            "https://files.invalid/a/%2E%2e/b",
            "https://files.invalid/a b",
            "https://files.invalid/a?b=c",
            "https://files.invalid/a%zz",
            "https://files.invalid/a\\b",
            "files.invalid/a",
        ] {
            assert!(!is_normalized_absolute(url), "{url}");
        }
    }

    proptest::proptest! {
        /// Whatever the cheap check accepts, the URL parser gives back as it was.
        #[test]
        fn accepted_urls_are_what_the_parser_would_write(
            url in "(https?|HTTP|ftp)://([a-z][a-z0-9.-]{0,10}|[a-zA-Z0-9.:@-]{0,12})\
                (/([a-zA-Z0-9%._~!$&'()*+,;=:@-]{0,10}|[a-zA-Z0-9%._~!$&'()*+,;=:@\\[\\]|^?# -]{0,10})){0,4}"
        ) {
            if is_normalized_absolute(&url) {
                let parsed = Url::parse(&url).map(without_fragment);
                proptest::prop_assert_eq!(parsed.as_deref(), Ok(url.as_str()));
            }
        }
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
            page.files[1].url.as_deref().unwrap_or_default(),
            "http://127.0.0.1:1/simple/demo/demo-2.0%2Bcpu-py3-none-any.whl"
        );
        assert!(page.files[1].core_metadata);
        assert_eq!(page.files[1].metadata_sha256.as_deref(), Some("ff"));
    }

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("&lt;4,&#62;=3&#x2E;8 & more"),
            "<4,>=3.8 & more"
        );
    }
}
