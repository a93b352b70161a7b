//! The disk cache of parsed project pages, shared by concurrent processes.
//!
//! An entry is one file: a header line (what HTTP needs to revalidate, and
//! where each release's files start) followed by the parsed files grouped
//! by release. A reader that needs one release (an audit of a pin) reads
//! the header and that release: kilobytes, not the megabytes of a big
//! project's page. Writes go to a temporary file renamed into place, so a
//! reader sees the old entry or the new one, never half of one.
//! Credentials never reach the cache: keys and stored URLs are public.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IoSlice, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::index::page::{DistFile, ProjectPage, VersionFilter};

mod grouping;
mod metadata;
pub mod sweep;

pub use grouping::Grouping;
#[cfg(test)]
use grouping::{write_decimal, write_json_str};

/// Bumped whenever [`Entry`] changes shape; old entries are then ignored.
const LAYOUT: &str = "pages-v4";

/// What the index answered for a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer {
    Found(ProjectPage),
    /// A 404: the index does not know the project.
    NotFound,
}

/// What HTTP needs to tell whether a cached page is fresh or to
/// revalidate it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    /// Seconds since the Unix epoch.
    pub fetched_at: u64,
    /// From `Cache-Control: max-age`; `Some(0)` for `no-cache`/`no-store`.
    pub max_age: Option<u64>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    /// Fetched now, with no caching headers (yet).
    pub fn new() -> Validators {
        Validators {
            fetched_at: now(),
            max_age: None,
            etag: None,
            last_modified: None,
        }
    }

    /// The server's freshness lifetime when it gave one, else `ttl` (the
    /// real index sends no caching headers at all).
    pub fn is_fresh(&self, ttl: Duration) -> bool {
        let lifetime = self.max_age.unwrap_or(ttl.as_secs());
        now().saturating_sub(self.fetched_at) < lifetime
    }
}

impl Default for Validators {
    fn default() -> Validators {
        Validators::new()
    }
}

/// A cached page, read with the files of the releases a filter wants.
#[derive(Debug, Clone)]
pub struct Entry {
    pub validators: Validators,
    pub answer: Answer,
}

/// A page's files grouped by release and serialized as an entry keeps
/// them, built by a [`Grouping`]: the files stay where grouping wrote
/// them, in page order, and the entry is written from the pieces, so a
/// page of megabytes is not copied once more to put its releases in order.
#[derive(Debug, Default)]
pub struct StoredPage {
    /// Each release's version, and the offset and length of its files
    /// after the header.
    releases: Vec<(String, u64, u64)>,
    /// Each release's pieces of `data`, in the order of `releases`.
    spans: Vec<Vec<(usize, usize)>>,
    data: Vec<u8>,
}

impl StoredPage {
    /// The entry's bytes after the header: each release as a JSON array.
    fn parts(&self) -> Vec<IoSlice<'_>> {
        let mut parts = Vec::new();
        for spans in &self.spans {
            parts.push(IoSlice::new(b"["));
            for (at, &(from, to)) in spans.iter().enumerate() {
                if at > 0 {
                    parts.push(IoSlice::new(b","));
                }
                parts.push(IoSlice::new(&self.data[from..to]));
            }
            parts.push(IoSlice::new(b"]"));
        }
        parts
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// `REQLOCK_CACHE_DIR` when set, else the user's cache folder; both
    /// with a `reqlock` subfolder. `None` when there is no cache folder.
    pub fn from_environment() -> Option<Cache> {
        let base = std::env::var_os("REQLOCK_CACHE_DIR")
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
            .or_else(dirs::cache_dir)?;
        Some(Cache::at(base.join("reqlock")))
    }

    pub fn at(root: PathBuf) -> Cache {
        Cache { root }
    }

    fn path_of(&self, url: &Url) -> PathBuf {
        self.root
            .join(LAYOUT)
            .join(host_folder(url))
            .join(format!("{:016x}.json", fnv1a(url.as_str().as_bytes())))
    }

    /// The entry for a page with the files of the releases `filter` wants,
    /// if a readable entry exists. A damaged entry is a miss, not an error:
    /// the cache only ever saves a request.
    pub fn load(&self, url: &Url, filter: &VersionFilter) -> Option<Entry> {
        let file = std::fs::File::open(self.path_of(url)).ok()?;
        // The header's offsets and lengths are checked against this before
        // anything is allocated from them: a damaged header may claim more
        // than any memory holds.
        let size = file.metadata().ok()?.len();
        let mut reader = BufReader::new(file);
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let header: HeaderView = serde_json::from_str(&line).ok()?;
        let answer = if header.found {
            let mut found = ProjectPage::default();
            for (version, offset, length) in &header.releases {
                if !filter.wants(version) {
                    found.omitted_versions.push((*version).to_string());
                    continue;
                }
                let start = (line.len() as u64).checked_add(*offset)?;
                if start.checked_add(*length)? > size {
                    return None;
                }
                reader.seek(SeekFrom::Start(start)).ok()?;
                let mut bytes = vec![0; usize::try_from(*length).ok()?];
                reader.read_exact(&mut bytes).ok()?;
                let files: Vec<StoredFile> = serde_json::from_slice(&bytes).ok()?;
                found.files.extend(files.into_iter().map(DistFile::from));
            }
            Answer::Found(found)
        } else {
            Answer::NotFound
        };
        Some(Entry {
            validators: Validators {
                fetched_at: header.fetched_at,
                max_age: header.max_age,
                etag: header.etag,
                last_modified: header.last_modified,
            },
            answer,
        })
    }

    /// Store a page (`None`: the index does not know the project).
    pub fn store(
        &self,
        url: &Url,
        validators: &Validators,
        page: Option<&StoredPage>,
    ) -> std::io::Result<()> {
        let header = Header {
            fetched_at: validators.fetched_at,
            max_age: validators.max_age,
            etag: validators.etag.clone(),
            last_modified: validators.last_modified.clone(),
            found: page.is_some(),
            releases: page.map(|page| page.releases.clone()).unwrap_or_default(),
        };
        let mut line = serde_json::to_vec(&header).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut parts = vec![IoSlice::new(&line)];
        if let Some(page) = page {
            parts.extend(page.parts());
        }
        self.write_parts_atomically(&self.path_of(url), &mut parts)
    }

    /// Give an entry new validators (the index answered "not modified"),
    /// keeping its files as they are.
    pub fn revalidate(&self, url: &Url, validators: &Validators) -> std::io::Result<()> {
        let path = self.path_of(url);
        let bytes = std::fs::read(&path)?;
        let damaged = || std::io::Error::new(std::io::ErrorKind::InvalidData, "damaged entry");
        let newline = bytes.iter().position(|&b| b == b'\n').ok_or_else(damaged)?;
        let mut header: Header =
            serde_json::from_slice(&bytes[..newline]).map_err(|_| damaged())?;
        header.fetched_at = validators.fetched_at;
        header.max_age = validators.max_age;
        header.etag = validators.etag.clone();
        header.last_modified = validators.last_modified.clone();
        let mut updated = serde_json::to_vec(&header).map_err(std::io::Error::other)?;
        updated.extend_from_slice(&bytes[newline..]);
        self.write_atomically(&path, &updated)
    }

    /// Where the core metadata of the file with `hash` (`sha256:...`) is
    /// kept: a file's metadata never changes, so it never goes stale.
    pub fn metadata_path(&self, hash: &str) -> PathBuf {
        self.root.join("metadata").join(digest_name(hash))
    }

    /// Where the core metadata of the wheel at `url` with `hash` is kept.
    /// The hash is the one the index claims, and what is kept was not
    /// checked against the file, so each host has its own: an index cannot
    /// answer for a file another index lists.
    pub fn wheel_metadata_path(&self, url: &str, hash: &str) -> PathBuf {
        let folder = Url::parse(url).map_or_else(|_| "local".to_string(), |url| host_folder(&url));
        self.root
            .join("metadata")
            .join(folder)
            .join(digest_name(hash))
    }

    /// Where an answer of the local Python to `script` is remembered.
    pub fn local_python_path(&self, script: &str) -> PathBuf {
        self.root
            .join("local-python")
            .join(format!("{:016x}.json", fnv1a(script.as_bytes())))
    }

    pub fn write_atomically(&self, path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
        self.write_parts_atomically(path, &mut [IoSlice::new(bytes)])
    }

    /// Write `parts` one after the other as the file at `path`.
    fn write_parts_atomically(
        &self,
        path: &std::path::Path,
        parts: &mut [IoSlice<'_>],
    ) -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir)?;
        sweep::sweep(dir, &sweep::cache_temporary);
        // The process id and a counter keep temporary names apart between
        // processes and between tasks of one process.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let unique = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temporary = dir.join(format!(".tmp-{}-{unique}", std::process::id()));
        // No fsync: the rename keeps readers from seeing half an entry, and
        // an entry a crash damaged is only a cache miss.
        let written = std::fs::File::create(&temporary).and_then(|mut file| {
            let mut rest = parts;
            while !rest.is_empty() {
                // At most IOV_MAX pieces per call; the kernel takes fewer.
                let count = rest.len().min(1024);
                match file.write_vectored(&rest[..count]) {
                    Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                    Ok(written) => IoSlice::advance_slices(&mut rest, written),
                    Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(err) => return Err(err),
                }
            }
            Ok(())
        });
        match written.and_then(|()| std::fs::rename(&temporary, path)) {
            Ok(()) => Ok(()),
            Err(err) => {
                let _ = std::fs::remove_file(&temporary);
                Err(err)
            }
        }
    }
}

/// A file as the cache stores it: a JSON array, not an object, because
/// the keys would be most of the bytes a warm audit reads and parses.
/// [`Grouping::push`] writes the same array from a borrowed file.
#[derive(Deserialize)]
struct StoredFile(
    String,
    String,
    BTreeMap<String, String>,
    Option<String>,
    Option<String>,
    StoredMetadata,
    Option<u64>,
    Option<String>,
);

/// Whether the index serves a file's metadata: `true`/`false`, or the
/// metadata's sha256 (so it is served, and that is its hash).
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredMetadata {
    Served(bool),
    Sha256(String),
}

impl From<StoredFile> for DistFile {
    fn from(stored: StoredFile) -> DistFile {
        let StoredFile(
            filename,
            url,
            hashes,
            requires_python,
            yanked,
            core_metadata,
            size,
            upload_time,
        ) = stored;
        let (core_metadata, metadata_sha256) = match core_metadata {
            StoredMetadata::Served(served) => (served, None),
            StoredMetadata::Sha256(sha256) => (true, Some(sha256)),
        };
        DistFile {
            filename,
            url: Some(url),
            hashes,
            requires_python,
            yanked,
            core_metadata,
            metadata_sha256,
            size,
            upload_time,
        }
    }
}

/// The first line of an entry: everything but the files.
#[derive(Serialize, Deserialize)]
struct Header {
    fetched_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_age: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_modified: Option<String>,
    found: bool,
    /// Each release's version, and the byte offset and length of its files
    /// after the header line.
    releases: Vec<(String, u64, u64)>,
}

/// [`Header`] as a reader sees it: the versions borrowed from the line (a
/// big project lists thousands). Versions are normalized PEP 440 text,
/// never escaped; an entry that had one would read as a miss.
#[derive(Deserialize)]
struct HeaderView<'a> {
    fetched_at: u64,
    #[serde(default)]
    max_age: Option<u64>,
    #[serde(default)]
    etag: Option<String>,
    #[serde(default)]
    last_modified: Option<String>,
    found: bool,
    #[serde(borrow)]
    releases: Vec<(&'a str, u64, u64)>,
}

/// A folder name for the host of `url` (`local` for one without a host).
fn host_folder(url: &Url) -> String {
    url.host_str()
        .unwrap_or("local")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// A file name for a digest (`sha256:...`), in lowercase: an index may
/// write a digest in capitals.
fn digest_name(hash: &str) -> String {
    hash.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// A stable hash for file names (std's hasher may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::page::FileView;

    fn stored(project: Option<&str>, files: &[DistFile]) -> StoredPage {
        let all = VersionFilter::all();
        let mut grouping = Grouping::new(project, &all, true, 0);
        for file in files {
            grouping.push(&FileView::from(file));
        }
        grouping.finish().0
    }

    #[test]
    fn metadata_is_kept_under_the_lowercase_digest() {
        let cache = Cache::at(PathBuf::from("/cache"));
        assert_eq!(
            cache.metadata_path("sha256:ABCdef01"),
            cache.metadata_path("sha256:abcdef01")
        );
    }

    #[test]
    fn wheel_metadata_of_one_hash_is_kept_apart_per_host() {
        let cache = Cache::at(PathBuf::from("/cache"));
        let first = cache.wheel_metadata_path("https://one.example.invalid/a.whl", "sha256:ab");
        let second = cache.wheel_metadata_path("https://two.example.invalid/a.whl", "sha256:ab");
        assert_ne!(first, second);
        assert_eq!(
            first,
            cache.wheel_metadata_path("https://ONE.example.invalid/b.whl", "sha256:AB")
        );
    }

    #[test]
    fn round_trip_and_freshness() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path().to_path_buf());
        let url = Url::parse("http://127.0.0.1:9/simple/demo/").unwrap();
        assert!(cache.load(&url, &VersionFilter::all()).is_none());
        let mut validators = Validators::new();
        cache.store(&url, &validators, None).unwrap();
        let loaded = cache.load(&url, &VersionFilter::all()).unwrap();
        assert_eq!(loaded.answer, Answer::NotFound);
        assert!(loaded.validators.is_fresh(Duration::from_secs(600)));
        assert!(!loaded.validators.is_fresh(Duration::ZERO));
        validators.max_age = Some(0);
        assert!(!validators.is_fresh(Duration::from_secs(600)));
        validators.fetched_at -= 100;
        validators.max_age = None;
        assert!(!validators.is_fresh(Duration::from_secs(60)));
    }

    #[test]
    fn damaged_entries_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path().to_path_buf());
        let url = Url::parse("http://127.0.0.1:9/simple/demo/").unwrap();
        cache.store(&url, &Validators::new(), None).unwrap();
        std::fs::write(cache.path_of(&url), b"{\"fetched_at\":").unwrap();
        assert!(cache.load(&url, &VersionFilter::all()).is_none());
        assert!(cache.revalidate(&url, &Validators::new()).is_err());
    }

    #[test]
    fn a_header_claiming_more_than_the_file_holds_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path().to_path_buf());
        let url = Url::parse("http://127.0.0.1:9/simple/demo/").unwrap();
        let page = stored(Some("demo"), &[file("demo-1.0.tar.gz")]);
        cache.store(&url, &Validators::new(), Some(&page)).unwrap();
        assert!(cache.load(&url, &VersionFilter::all()).is_some());
        let entry = std::fs::read_to_string(cache.path_of(&url)).unwrap();
        let (header, files) = entry.split_once('\n').unwrap();
        let length = files.len();
        for (claimed, offset) in [
            (1_000_000_000_000_000u64, 0u64),
            (u64::MAX, 0),
            (length as u64 + 1, 0),
            (length as u64, 1),
            (1, u64::MAX),
        ] {
            let damaged = header.replace(
                &format!("[\"1.0\",0,{length}]"),
                &format!("[\"1.0\",{offset},{claimed}]"),
            );
            assert_ne!(damaged, header, "the header names the release");
            std::fs::write(cache.path_of(&url), format!("{damaged}\n{files}")).unwrap();
            assert!(
                cache.load(&url, &VersionFilter::all()).is_none(),
                "{damaged}"
            );
            // A reader that does not want the release is not hurt by it.
            assert!(cache.load(&url, &VersionFilter::names_only()).is_some());
        }
    }

    fn file(filename: &str) -> DistFile {
        DistFile {
            filename: filename.into(),
            url: Some(format!("http://127.0.0.1:9/files/{filename}")),
            hashes: BTreeMap::new(),
            requires_python: None,
            yanked: None,
            core_metadata: false,
            metadata_sha256: None,
            size: None,
            upload_time: None,
        }
    }

    #[test]
    fn every_field_survives_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path().to_path_buf());
        let url = Url::parse("http://127.0.0.1:9/simple/demo/").unwrap();
        let full = DistFile {
            hashes: [
                ("md5".to_string(), "ef".to_string()),
                ("sha256".to_string(), "ab".to_string()),
            ]
            .into(),
            requires_python: Some(">=3.8, <4".into()),
            yanked: Some("broken \"build\"".into()),
            core_metadata: true,
            metadata_sha256: Some("cd".into()),
            size: Some(1234),
            upload_time: Some("2024-01-01T00:00:00Z".into()),
            ..file("demo-1.0-py3-none-any.whl")
        };
        let yanked_without_reason = DistFile {
            yanked: Some(String::new()),
            ..file("demo-1.0.tar.gz")
        };
        let files = [full, yanked_without_reason, file("demo-2.0.tar.gz")];
        cache
            .store(
                &url,
                &Validators::new(),
                Some(&stored(Some("demo"), &files)),
            )
            .unwrap();
        let Answer::Found(read) = cache.load(&url, &VersionFilter::all()).unwrap().answer else {
            panic!("found");
        };
        assert_eq!(read.files, files);
    }

    proptest::proptest! {
        /// Whatever a string holds, it is written as serde_json writes it.
        #[test]
        fn strings_read_back(text in proptest::prelude::any::<String>()) {
            let mut out = Vec::new();
            write_json_str(&mut out, &text);
            // Byte for byte what serde_json writes, so entries do not change.
            proptest::prop_assert_eq!(&out, &serde_json::to_vec(&text).unwrap());
        }

        #[test]
        fn numbers_read_back(number in proptest::prelude::any::<u64>()) {
            let mut out = Vec::new();
            write_decimal(&mut out, number);
            proptest::prop_assert_eq!(serde_json::from_slice::<u64>(&out).unwrap(), number);
        }
    }

    #[test]
    fn escapes_and_extremes_read_back() {
        for text in [
            "",
            "plain",
            "q\"uote",
            "back\\slash",
            "tab\tnew\nline\u{1}\u{1f}",
            "é\u{7f}",
        ] {
            let mut out = Vec::new();
            write_json_str(&mut out, text);
            assert_eq!(serde_json::from_slice::<String>(&out).unwrap(), text);
        }
        for number in [0, 9, 10, u64::MAX] {
            let mut out = Vec::new();
            write_decimal(&mut out, number);
            assert_eq!(out, number.to_string().as_bytes());
        }
    }

    #[test]
    fn revalidating_keeps_the_files_and_takes_the_new_validators() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path().to_path_buf());
        let url = Url::parse("http://127.0.0.1:9/simple/demo/").unwrap();
        let files = [file("demo-1.0.tar.gz"), file("demo-2.0.tar.gz")];
        let old = Validators {
            fetched_at: 1,
            etag: Some("\"old\"".into()),
            ..Validators::new()
        };
        cache
            .store(&url, &old, Some(&stored(Some("demo"), &files)))
            .unwrap();
        let new = Validators {
            etag: Some("\"new\"".into()),
            max_age: Some(60),
            ..Validators::new()
        };
        cache.revalidate(&url, &new).unwrap();
        let entry = cache.load(&url, &VersionFilter::all()).unwrap();
        assert_eq!(entry.validators, new);
        assert_eq!(
            entry.answer,
            Answer::Found(ProjectPage {
                files: files.to_vec(),
                omitted_versions: Vec::new(),
            })
        );
    }

    #[test]
    fn a_filtered_read_returns_the_wanted_releases_and_names_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path().to_path_buf());
        let url = Url::parse("http://127.0.0.1:9/simple/demo/").unwrap();
        let files = [
            file("demo-1.0.tar.gz"),
            file("demo-2.0-py3-none-any.whl"),
            file("demo-1.0-py3-none-any.whl"),
            file("unrelated-name.zip"),
        ];
        cache
            .store(
                &url,
                &Validators::new(),
                Some(&stored(Some("demo"), &files)),
            )
            .unwrap();
        let pin = VersionFilter::admitted_by(vec!["==1.0".parse().unwrap()]);
        let Answer::Found(read) = cache.load(&url, &pin).unwrap().answer else {
            panic!("found");
        };
        let names: Vec<&str> = read.files.iter().map(|f| f.filename.as_str()).collect();
        // The file whose version cannot be read is always kept.
        assert_eq!(
            names,
            [
                "unrelated-name.zip",
                "demo-1.0.tar.gz",
                "demo-1.0-py3-none-any.whl"
            ]
        );
        assert_eq!(read.omitted_versions, ["2.0"]);
        let Answer::Found(all) = cache.load(&url, &VersionFilter::all()).unwrap().answer else {
            panic!("found");
        };
        assert_eq!(all.files.len(), files.len());
        assert!(all.omitted_versions.is_empty());
    }

    #[test]
    fn grouping_gives_the_wanted_files_in_page_order() {
        let files = [
            file("Demo-1.0.tar.gz"),
            file("demo-2.0rc1-py3-none-any.whl"),
            file("demo-1.0-py3-none-any.whl"),
            file("demo-2.0RC1.tar.gz"),
            file("other-1.0.tar.gz"),
        ];
        let pin = VersionFilter::admitted_by(vec!["==1.0".parse().unwrap()]);
        let mut grouping = Grouping::new(Some("demo"), &pin, true, 0);
        for file in &files {
            grouping.push(&FileView::from(file));
        }
        let (stored, page) = grouping.finish();
        let names: Vec<&str> = page.files.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(
            names,
            [
                "Demo-1.0.tar.gz",
                "demo-1.0-py3-none-any.whl",
                "other-1.0.tar.gz"
            ]
        );
        assert_eq!(page.omitted_versions, ["2.0rc1"]);
        // Both spellings of 2.0rc1 are one release; the other project's
        // file has no version and is a group of its own.
        let versions: Vec<&str> = stored.releases.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(versions, ["", "1.0", "2.0rc1"]);
        let names_only = VersionFilter::names_only();
        let mut grouping = Grouping::new(Some("demo"), &names_only, false, 0);
        for file in &files {
            grouping.push(&FileView::from(file));
        }
        let (stored, page) = grouping.finish();
        assert!(page.files.is_empty() && stored.parts().is_empty());
        assert_eq!(page.omitted_versions, ["", "1.0", "2.0rc1"]);
    }
}
