//! A page grouped by release while it streams in, written in the cache's
//! form as it goes: the stored entry, and the files the caller wants.

use rustc_hash::FxHashMap;

use super::*;
use crate::index::page::{self, DistFile, FileView, ProjectPage, VersionFilter};

/// A page being grouped by release while it is read: what the cache will
/// store (unless there is no cache), and the files of the releases the
/// caller's filter wants, which are the only ones copied out of the page.
pub struct Grouping<'f> {
    project: Option<&'f str>,
    filter: &'f VersionFilter,
    serialize: bool,
    releases: Vec<Release>,
    by_key: FxHashMap<String, usize>,
    /// The last file's version text and release: a release's files are
    /// mostly listed together, so most names are looked up only once.
    last: Option<(String, usize)>,
    /// Every file as the cache stores it, in page order; each release
    /// knows its files' spans, and they are put together at the end.
    data: Vec<u8>,
    wanted: Vec<DistFile>,
}

pub(super) struct Release {
    pub(super) key: String,
    pub(super) wanted: bool,
    /// Where this release's files are in `data`; adjacent files share one.
    pub(super) spans: Vec<(usize, usize)>,
}

/// Write `file` as the JSON array a [`StoredFile`] reads back. Written by
/// hand rather than through serde: this runs for every file of every page
/// fetched, and nearly none of their strings needs an escape.
pub(super) fn write_stored_file(out: &mut Vec<u8>, file: &FileView<'_>) {
    out.push(b'[');
    write_json_str(out, &file.filename);
    out.push(b',');
    write_json_str(out, &file.url);
    out.extend_from_slice(b",{");
    for (at, (algorithm, digest)) in file.hashes.iter().enumerate() {
        if at > 0 {
            out.push(b',');
        }
        write_json_str(out, algorithm);
        out.push(b':');
        write_json_str(out, digest);
    }
    out.extend_from_slice(b"},");
    write_json_option(out, file.requires_python.as_deref());
    out.push(b',');
    write_json_option(out, file.yanked.as_deref());
    out.push(b',');
    // The metadata's advertised sha256 when there is one, else whether
    // the index serves it at all.
    match (&file.metadata_sha256, file.core_metadata) {
        (Some(sha256), true) => write_json_str(out, sha256),
        (_, true) => out.extend_from_slice(b"true"),
        (_, false) => out.extend_from_slice(b"false"),
    }
    out.push(b',');
    match file.size {
        Some(size) => write_decimal(out, size),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b',');
    write_json_option(out, file.upload_time.as_deref());
    out.push(b']');
}

pub(super) fn write_json_option(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => write_json_str(out, text),
        None => out.extend_from_slice(b"null"),
    }
}

/// `text` as a JSON string, escaped as serde_json escapes it. Whether it
/// needs an escape at all is checked without a branch per byte, so the
/// common case is one copy.
pub(super) fn write_json_str(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    let plain = text.bytes().fold(true, |plain, b| {
        plain & (b >= 0x20 && b != b'"' && b != b'\\')
    });
    if plain {
        out.extend_from_slice(text.as_bytes());
    } else {
        for b in text.bytes() {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                0..=0x1f => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 0xf)]);
                }
                _ => out.push(b),
            }
        }
    }
    out.push(b'"');
}

pub(super) fn write_decimal(out: &mut Vec<u8>, mut number: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (number % 10) as u8;
        number /= 10;
        if number == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

impl<'f> Grouping<'f> {
    /// `project` names the project the files belong to (`None` for a
    /// find-links page, whose files then form one group); `serialize` is
    /// false when nothing will be stored; `size_hint` is about how many
    /// bytes the page has (what is stored is smaller).
    pub fn new(
        project: Option<&'f str>,
        filter: &'f VersionFilter,
        serialize: bool,
        size_hint: usize,
    ) -> Self {
        Grouping {
            project,
            filter,
            serialize,
            releases: Vec::new(),
            by_key: FxHashMap::default(),
            last: None,
            data: Vec::with_capacity(if serialize { size_hint } else { 0 }),
            wanted: Vec::new(),
        }
    }

    pub fn push(&mut self, file: &FileView<'_>) {
        let text = self
            .project
            .and_then(|project| crate::index::filename::version_text(&file.filename, project))
            .unwrap_or("");
        let release = match &self.last {
            Some((last_text, release)) if last_text == text => *release,
            _ => {
                let key = if text.is_empty() {
                    String::new()
                } else {
                    page::normalized_version(text)
                };
                let release = match self.by_key.get(&key) {
                    Some(&release) => release,
                    None => {
                        self.releases.push(Release {
                            wanted: self.filter.wants(&key),
                            key: key.clone(),
                            spans: Vec::new(),
                        });
                        self.by_key.insert(key, self.releases.len() - 1);
                        self.releases.len() - 1
                    }
                };
                self.last = Some((text.to_string(), release));
                release
            }
        };
        let release = &mut self.releases[release];
        if release.wanted {
            self.wanted.push(file.to_dist_file());
        }
        if self.serialize {
            // A file right after one of its release's joins that span.
            let joins = release
                .spans
                .last()
                .is_some_and(|&(_, end)| end == self.data.len());
            if joins {
                self.data.push(b',');
            }
            let start = self.data.len();
            write_stored_file(&mut self.data, file);
            match release.spans.last_mut() {
                Some((_, end)) if joins => *end = self.data.len(),
                _ => release.spans.push((start, self.data.len())),
            }
        }
    }

    /// What to store, and the files the filter wants (in page order) with
    /// the versions it does not.
    pub fn finish(mut self) -> (StoredPage, ProjectPage) {
        self.releases.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        let mut stored = StoredPage::default();
        let mut omitted_versions = Vec::new();
        let mut offset = 0u64;
        for release in self.releases {
            if !release.wanted {
                omitted_versions.push(release.key.clone());
            }
            if self.serialize {
                // Brackets around the release, a comma between its pieces.
                let length = 2
                    + release.spans.len().saturating_sub(1)
                    + release
                        .spans
                        .iter()
                        .map(|(from, to)| to - from)
                        .sum::<usize>();
                stored.releases.push((release.key, offset, length as u64));
                stored.spans.push(release.spans);
                offset += length as u64;
            }
        }
        stored.data = self.data;
        (
            stored,
            ProjectPage {
                files: self.wanted,
                omitted_versions,
            },
        )
    }
}
