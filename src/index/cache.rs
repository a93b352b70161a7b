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
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::index::page::{self, DistFile, ProjectPage, VersionFilter};

/// Bumped whenever [`Entry`] changes shape; old entries are then ignored.
const LAYOUT: &str = "pages-v3";

/// What the index answered for a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer {
    Found(ProjectPage),
    /// A 404: the index does not know the project.
    NotFound,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// Seconds since the Unix epoch.
    pub fetched_at: u64,
    /// From `Cache-Control: max-age`; `Some(0)` for `no-cache`/`no-store`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    pub answer: Answer,
}

impl Entry {
    pub fn new(answer: Answer) -> Entry {
        Entry {
            fetched_at: now(),
            max_age: None,
            etag: None,
            last_modified: None,
            answer,
        }
    }

    /// The server's freshness lifetime when it gave one, else `ttl` (the
    /// real index sends no caching headers at all).
    pub fn is_fresh(&self, ttl: Duration) -> bool {
        let lifetime = self.max_age.unwrap_or(ttl.as_secs());
        now().saturating_sub(self.fetched_at) < lifetime
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
        let text = url.as_str();
        let readable: String = url
            .host_str()
            .unwrap_or("local")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        self.root
            .join(LAYOUT)
            .join(readable)
            .join(format!("{:016x}.json", fnv1a(text.as_bytes())))
    }

    /// The entry for a page with the files of the releases `filter` wants,
    /// if a readable entry exists. A damaged entry is a miss, not an error:
    /// the cache only ever saves a request.
    pub fn load(&self, url: &Url, filter: &VersionFilter) -> Option<Entry> {
        let file = std::fs::File::open(self.path_of(url)).ok()?;
        let mut reader = BufReader::new(file);
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let header: Header = serde_json::from_str(&line).ok()?;
        let answer = if header.found {
            let mut found = ProjectPage::default();
            for (version, offset, length) in &header.releases {
                if !filter.wants(version) {
                    found.omitted_versions.push(version.clone());
                    continue;
                }
                reader
                    .seek(SeekFrom::Start(line.len() as u64 + offset))
                    .ok()?;
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
            fetched_at: header.fetched_at,
            max_age: header.max_age,
            etag: header.etag,
            last_modified: header.last_modified,
            answer,
        })
    }

    /// Store a whole page; `project` names the project its files belong to
    /// (`None` for a find-links page), so that they can be grouped by release.
    pub fn store(&self, url: &Url, project: Option<&str>, entry: &Entry) -> std::io::Result<()> {
        let mut data = Vec::new();
        let mut releases = Vec::new();
        if let Answer::Found(found) = &entry.answer {
            let mut by_release: BTreeMap<String, Vec<StoredFile>> = BTreeMap::new();
            for file in &found.files {
                by_release
                    .entry(page::version_key(&file.filename, project))
                    .or_default()
                    .push(StoredFile::from(file));
            }
            for (version, files) in by_release {
                let start = data.len() as u64;
                serde_json::to_writer(&mut data, &files).map_err(std::io::Error::other)?;
                releases.push((version, start, data.len() as u64 - start));
            }
        }
        let header = Header {
            fetched_at: entry.fetched_at,
            max_age: entry.max_age,
            etag: entry.etag.clone(),
            last_modified: entry.last_modified.clone(),
            found: matches!(entry.answer, Answer::Found(_)),
            releases,
        };
        let mut bytes = serde_json::to_vec(&header).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        bytes.extend(data);
        self.write_atomically(&self.path_of(url), &bytes)
    }

    /// Where the core metadata of the file with `hash` (`sha256:...`) is
    /// kept: a file's metadata never changes, so it never goes stale.
    pub fn metadata_path(&self, hash: &str) -> PathBuf {
        let name: String = hash
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        self.root.join("metadata").join(name)
    }

    /// Where an answer of the local Python to `script` is remembered.
    pub fn local_python_path(&self, script: &str) -> PathBuf {
        self.root
            .join("local-python")
            .join(format!("{:016x}.json", fnv1a(script.as_bytes())))
    }

    pub fn write_atomically(&self, path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir)?;
        // The process id and a counter keep temporary names apart between
        // processes and between tasks of one process.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let unique = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temporary = dir.join(format!(".tmp-{}-{unique}", std::process::id()));
        // No fsync: the rename keeps readers from seeing half an entry, and
        // an entry a crash damaged is only a cache miss.
        let written = std::fs::File::create(&temporary).and_then(|mut file| file.write_all(bytes));
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
#[derive(Serialize, Deserialize)]
struct StoredFile(
    String,
    String,
    BTreeMap<String, String>,
    Option<String>,
    Option<String>,
    bool,
    Option<u64>,
    Option<String>,
);

impl From<&DistFile> for StoredFile {
    fn from(file: &DistFile) -> StoredFile {
        StoredFile(
            file.filename.clone(),
            file.url.clone(),
            file.hashes.clone(),
            file.requires_python.clone(),
            file.yanked.clone(),
            file.core_metadata,
            file.size,
            file.upload_time.clone(),
        )
    }
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
        DistFile {
            filename,
            url,
            hashes,
            requires_python,
            yanked,
            core_metadata,
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

/// A stable hash for file names (std's hasher may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_freshness() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path().to_path_buf());
        let url = Url::parse("http://127.0.0.1:9/simple/demo/").unwrap();
        assert!(cache.load(&url, &VersionFilter::all()).is_none());
        let mut entry = Entry::new(Answer::NotFound);
        cache.store(&url, Some("demo"), &entry).unwrap();
        let loaded = cache.load(&url, &VersionFilter::all()).unwrap();
        assert_eq!(loaded.answer, Answer::NotFound);
        assert!(loaded.is_fresh(Duration::from_secs(600)));
        assert!(!loaded.is_fresh(Duration::ZERO));
        entry.max_age = Some(0);
        assert!(!entry.is_fresh(Duration::from_secs(600)));
        entry.fetched_at -= 100;
        entry.max_age = None;
        assert!(!entry.is_fresh(Duration::from_secs(60)));
    }

    #[test]
    fn damaged_entries_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path().to_path_buf());
        let url = Url::parse("http://127.0.0.1:9/simple/demo/").unwrap();
        cache
            .store(&url, Some("demo"), &Entry::new(Answer::NotFound))
            .unwrap();
        std::fs::write(cache.path_of(&url), b"{\"fetched_at\":").unwrap();
        assert!(cache.load(&url, &VersionFilter::all()).is_none());
    }

    fn file(filename: &str) -> DistFile {
        DistFile {
            filename: filename.into(),
            url: format!("http://127.0.0.1:9/files/{filename}"),
            hashes: BTreeMap::new(),
            requires_python: None,
            yanked: None,
            core_metadata: false,
            size: None,
            upload_time: None,
        }
    }

    #[test]
    fn a_filtered_read_returns_the_wanted_releases_and_names_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path().to_path_buf());
        let url = Url::parse("http://127.0.0.1:9/simple/demo/").unwrap();
        let page = ProjectPage {
            files: vec![
                file("demo-1.0.tar.gz"),
                file("demo-1.0-py3-none-any.whl"),
                file("demo-2.0-py3-none-any.whl"),
                file("unrelated-name.zip"),
            ],
            omitted_versions: Vec::new(),
        };
        cache
            .store(&url, Some("demo"), &Entry::new(Answer::Found(page.clone())))
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
        assert_eq!(all.files.len(), page.files.len());
        assert!(all.omitted_versions.is_empty());
    }
}
