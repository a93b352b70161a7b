//! The lock resolver's [`PackageSource`] over the real indexes: the same
//! client, cache and index discovery as `reqlock audit`.
//!
//! A release's dependencies come from a wheel's PEP 658/714 `.metadata`
//! file, asked for even when the page does not advertise it (the reachable
//! index serves one for many wheels without saying so), else from the
//! `METADATA` inside the wheel, read with HTTP range requests. Metadata is
//! cached on disk by the file's hash, so it is never fetched twice.
//! A release with only an sdist is read by [`super::sdist`], which may run
//! its build backend as [`BuildPolicy`] allows.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use indicatif::ProgressBar;
use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::PackageName;

use super::metadata::DistMetadata;
use super::sdist::{self, BuildPolicy, SdistSource};
use super::source::{Candidate, DistFile, PackageSource, SourceError};
use super::wheel_metadata;
use crate::index::cache::{Answer, Cache};
use crate::index::client::{Bytes, IndexClient};
use crate::index::filename;
use crate::index::page::{self, VersionFilter};
use crate::index::IndexUrl;

pub struct IndexSource<'a> {
    client: &'a IndexClient,
    cache: Option<Cache>,
    indexes: Vec<IndexUrl>,
    find_links: Vec<String>,
    builds: BuildPolicy,
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
            builds: BuildPolicy::default(),
            candidates: RefCell::default(),
        }
    }

    /// Whether and how sdists may be built for their metadata.
    pub fn with_builds(mut self, builds: BuildPolicy) -> IndexSource<'a> {
        self.builds = builds;
        self
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
                Some(Err(err)) => return Err(SourceError::Index(err.to_string())),
            }
        }
        for (location, found) in self.find_links.iter().zip(&fetched.find_links) {
            match found {
                Ok(found) => pages.push((location.clone(), found)),
                Err(err) => return Err(SourceError::Index(err.to_string())),
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
        .map_err(|err| SourceError::Index(err.to_string()))
    }
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
) -> Result<String, String> {
    if let Some(text) = cached_wheel_metadata(cache, hash) {
        return Ok(text);
    }
    let cached_at = hash
        .zip(cache)
        .map(|(hash, cache)| cache.metadata_path(hash));
    let from_index = client
        .fetch_bytes(&format!("{url}.metadata"), None)
        .map_err(|err| err.to_string())?;
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
            wheel_metadata::read(filename, &mut fetch)
                .map_err(|err| err.to_string())?
                .into_bytes()
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
        // No wheel to read: the sdist says, or its build backend does.
        match sdist::preferred(files.iter().copied()) {
            Some(file) => {
                let source = SdistSource {
                    client: self.client,
                    cache: self.cache.as_ref(),
                    indexes: &self.indexes,
                    find_links: &self.find_links,
                    policy: &self.builds,
                };
                let text = sdist::read_metadata(&source, name, version, file)?;
                DistMetadata::parse(&text).map_err(|source| SourceError::InvalidMetadata {
                    name: name.clone(),
                    version: version.clone(),
                    source,
                })
            }
            None => Err(SourceError::Index(format!(
                "no wheel or sdist of {name} {version} has a download URL to read its metadata from"
            ))),
        }
    }
}
