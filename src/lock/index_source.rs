//! The lock resolver's [`PackageSource`] over the real indexes: the same
//! client, cache and index discovery as `reqlock audit`.
//!
//! A release's dependencies come from a wheel's PEP 658/714 `.metadata`
//! file, asked for even when the page does not advertise it (the reachable
//! index serves one for many wheels without saying so), else from the
//! `METADATA` inside the wheel, read with HTTP range requests. Metadata is
//! cached on disk by the file's hash, so it is never fetched twice.
//! Building sdists is not done yet: a release with only an sdist is an
//! error that names it.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use indicatif::ProgressBar;
use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::PackageName;

use super::metadata::DistMetadata;
use super::source::{Candidate, DistFile, PackageSource, SourceError};
use super::wheel_metadata::{self, WheelMetadataError};
use crate::index::cache::{Answer, Cache};
use crate::index::client::{Bytes, FetchError, IndexClient};
use crate::index::filename;
use crate::index::page::{self, VersionFilter};
use crate::index::IndexUrl;

pub struct IndexSource<'a> {
    client: &'a IndexClient,
    cache: Option<Cache>,
    indexes: Vec<IndexUrl>,
    find_links: Vec<String>,
    candidates: RefCell<HashMap<PackageName, Vec<Candidate>>>,
}

impl<'a> IndexSource<'a> {
    pub fn new(
        client: &'a IndexClient,
        cache: Option<Cache>,
        indexes: Vec<IndexUrl>,
        find_links: Vec<String>,
    ) -> IndexSource<'a> {
        IndexSource {
            client,
            cache,
            indexes,
            find_links,
            candidates: RefCell::default(),
        }
    }

    fn fetch_candidates(&self, name: &PackageName) -> Result<Vec<Candidate>, SourceError> {
        let project = name.to_string();
        let fetched = self.client.fetch_all(
            &self.indexes,
            &self.find_links,
            &[(project.clone(), VersionFilter::all())],
            &ProgressBar::hidden(),
        );
        let mut pages: Vec<(String, &page::ProjectPage)> = Vec::new();
        for (position, index) in self.indexes.iter().enumerate() {
            match fetched.pages.get(&(position, project.clone())) {
                Some(Ok(Answer::Found(found))) => pages.push((index.to_string(), found)),
                Some(Ok(Answer::NotFound)) | None => {}
                Some(Err(err)) => return Err(fetch_error(err)),
            }
        }
        for (location, found) in self.find_links.iter().zip(&fetched.find_links) {
            match found {
                Ok(found) => pages.push((location.clone(), found)),
                Err(err) => return Err(fetch_error(err)),
            }
        }
        let mut candidates = Vec::new();
        for (index, found) in pages {
            let mut releases: BTreeMap<Version, Vec<&page::DistFile>> = BTreeMap::new();
            for file in &found.files {
                if let Some(parsed) = filename::parse(&file.filename, &project) {
                    releases.entry(parsed.version).or_default().push(file);
                }
            }
            for (version, files) in releases {
                let yanked = if files.iter().all(|file| file.yanked.is_some()) {
                    files.iter().find_map(|file| file.yanked.clone())
                } else {
                    None
                };
                let requires_python = files
                    .iter()
                    .find_map(|file| file.requires_python.as_deref())
                    .and_then(|text| VersionSpecifiers::from_str(text).ok());
                candidates.push(Candidate {
                    version,
                    yanked,
                    requires_python,
                    files: files
                        .iter()
                        .map(|file| DistFile {
                            filename: file.filename.clone(),
                            url: Some(file.url.clone()),
                            hashes: file
                                .hashes
                                .iter()
                                .filter(|(algorithm, _)| algorithm.as_str() == "sha256")
                                .map(|(algorithm, digest)| format!("{algorithm}:{digest}"))
                                .collect(),
                            upload_time: file.upload_time.clone(),
                        })
                        .collect(),
                    index: index.clone(),
                });
            }
        }
        Ok(candidates)
    }

    fn file_metadata(&self, file: &DistFile) -> Result<Option<String>, SourceError> {
        let Some(url) = &file.url else {
            return Ok(None);
        };
        read_wheel_metadata(
            self.client,
            self.cache.as_ref(),
            url,
            &file.filename,
            file.hashes.first().map(String::as_str),
        )
        .map(Some)
        .map_err(|err| match err {
            MetadataFetchError::Fetch(err) => fetch_error(&err),
            MetadataFetchError::Wheel(err) => SourceError::Index(err.to_string()),
        })
    }
}

/// An offline cache miss stays apart from an index that failed: `audit
/// --deep` reports the first as not resolved, the second as an error.
fn fetch_error(err: &FetchError) -> SourceError {
    match err {
        FetchError::NotCached { .. } => SourceError::NotCached(err.to_string()),
        _ => SourceError::Index(err.to_string()),
    }
}

/// Why a wheel's core metadata could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataFetchError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Wheel(#[from] WheelMetadataError),
}

/// The cached core metadata of the wheel with `hash` (`sha256:...`).
pub fn cached_wheel_metadata(cache: Option<&Cache>, hash: Option<&str>) -> Option<String> {
    let path = cache?.metadata_path(hash?);
    std::fs::read_to_string(path).ok()
}

/// The core metadata of the wheel at `url`, as [`cached_wheel_metadata`]
/// has it, else its `.metadata` file, else `METADATA` read out of the wheel
/// with range requests; what is read is cached. Offline, only the cache
/// answers.
pub fn read_wheel_metadata(
    client: &IndexClient,
    cache: Option<&Cache>,
    url: &str,
    filename: &str,
    hash: Option<&str>,
) -> Result<String, MetadataFetchError> {
    if let Some(text) = cached_wheel_metadata(cache, hash) {
        return Ok(text);
    }
    let cached_at = hash
        .zip(cache)
        .map(|(hash, cache)| cache.metadata_path(hash));
    let from_index = client.fetch_bytes(&format!("{url}.metadata"), None)?;
    let bytes = match from_index {
        Some(found) => found.body,
        // No `.metadata` file: read METADATA out of the wheel itself.
        None => {
            let mut fetch = |range: &str| -> Result<Bytes, String> {
                client
                    .fetch_bytes(url, Some(range))
                    .map_err(|err| err.to_string())?
                    .ok_or_else(|| format!("{url} answered 404"))
            };
            wheel_metadata::read(filename, &mut fetch)?.into_bytes()
        }
    };
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    // Only the headers matter; the description after the first empty line
    // is often most of the file.
    if let Some(end) = text.find("\n\n").or_else(|| text.find("\r\n\r\n")) {
        text.truncate(end + 1);
    }
    if let (Some(path), Some(cache)) = (&cached_at, cache) {
        // Not caching only costs the next run a request.
        let _ = cache.write_atomically(path, text.as_bytes());
    }
    Ok(text)
}

impl PackageSource for IndexSource<'_> {
    fn candidates(&self, name: &PackageName) -> Result<Vec<Candidate>, SourceError> {
        if let Some(known) = self.candidates.borrow().get(name) {
            return Ok(known.clone());
        }
        let fetched = self.fetch_candidates(name)?;
        self.candidates
            .borrow_mut()
            .insert(name.clone(), fetched.clone());
        Ok(fetched)
    }

    fn metadata(&self, name: &PackageName, version: &Version) -> Result<DistMetadata, SourceError> {
        let candidates = self.candidates(name)?;
        let files: Vec<&DistFile> = candidates
            .iter()
            .filter(|candidate| &candidate.version == version)
            .flat_map(|candidate| &candidate.files)
            .collect();
        if files.is_empty() {
            return Err(SourceError::UnknownRelease {
                name: name.clone(),
                version: version.clone(),
            });
        }
        // Only wheels: their metadata is static, an sdist's may not be.
        for file in files.iter().filter(|file| file.is_wheel()) {
            if let Some(text) = self.file_metadata(file)? {
                return DistMetadata::parse(&text).map_err(|source| SourceError::InvalidMetadata {
                    name: name.clone(),
                    version: version.clone(),
                    source,
                });
            }
        }
        let only_sdists = files.iter().all(|file| !file.is_wheel());
        Err(SourceError::Index(if only_sdists {
            format!(
                "{name} {version} has only an sdist; reading its dependencies needs a build, which `reqlock lock` does not run yet"
            )
        } else {
            format!("no wheel of {name} {version} has a download URL to read its metadata from")
        }))
    }
}
