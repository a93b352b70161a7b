//! The disk cache of parsed project pages, shared by concurrent processes.
//!
//! Entries are compact JSON of the parsed page (a warm audit reads
//! kilobytes, not the raw pages) plus what HTTP needs to revalidate. Writes
//! go to a temporary file renamed into place, so a reader sees the old
//! entry or the new one, never half of one. Credentials never reach the
//! cache: keys and stored URLs are the public URLs.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::index::page::ProjectPage;

/// Bumped whenever [`Entry`] changes shape; old entries are then ignored.
const LAYOUT: &str = "pages-v1";

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

    /// The entry for a page, if any readable one exists. A damaged entry
    /// is a miss, not an error: the cache only ever saves a request.
    pub fn load(&self, url: &Url) -> Option<Entry> {
        let bytes = std::fs::read(self.path_of(url)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn store(&self, url: &Url, entry: &Entry) -> std::io::Result<()> {
        let path = self.path_of(url);
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir)?;
        let bytes = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        // The process id and a counter keep temporary names apart between
        // processes and between tasks of one process.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let unique = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temporary = dir.join(format!(".tmp-{}-{unique}", std::process::id()));
        let written = std::fs::File::create(&temporary).and_then(|mut file| {
            file.write_all(&bytes)?;
            file.sync_all()
        });
        match written.and_then(|()| std::fs::rename(&temporary, &path)) {
            Ok(()) => Ok(()),
            Err(err) => {
                let _ = std::fs::remove_file(&temporary);
                Err(err)
            }
        }
    }
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
        assert!(cache.load(&url).is_none());
        let mut entry = Entry::new(Answer::NotFound);
        cache.store(&url, &entry).unwrap();
        let loaded = cache.load(&url).unwrap();
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
        cache.store(&url, &Entry::new(Answer::NotFound)).unwrap();
        std::fs::write(cache.path_of(&url), b"{\"fetched_at\":").unwrap();
        assert!(cache.load(&url).is_none());
    }
}
