//! The lock resolver's [`PackageSource`] over the real indexes: the same
//! client, cache and index discovery as `reqlock audit`.
//!
//! A project's versions come from its page read without files; a release's
//! files are read from the cache only when the resolver considers that
//! release, so a warm lock parses kilobytes instead of every release of
//! every page. A release's dependencies come from a wheel's PEP 658/714
//! `.metadata` file, asked for even when the page does not advertise it
//! (the reachable index serves one for many wheels without saying so),
//! else from the `METADATA` inside the wheel, read with HTTP range
//! requests. Metadata is cached on disk by the file's hash, so it is never
//! fetched twice.
//!
//! The resolver asks for one thing at a time; most of a cold lock would be
//! waiting for answers in turn. [`IndexSource::with_prefetch`] runs workers
//! that fetch the pages and likely releases' metadata of the packages the
//! resolver announced, so that its questions find the answers ready.
//! A release with only an sdist is read by [`super::sdist`], which may run
//! its build backend as [`BuildPolicy`] allows; the prefetch workers never
//! do, since the resolver may not want that release.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use indicatif::ProgressBar;
use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, PackageName};

use super::direct::{DirectDist, DirectError, DirectReference, DirectSource};
use super::sdist::{self, BuildPolicy, SdistSource};
use super::source::{Candidate, DistFile, Foresight, PackageSource, SourceError, Wanted};
use crate::index::cache::{Answer, Cache};
use crate::index::client::{FetchError, IndexClient};
use crate::index::filename;
use crate::index::metadata::DistMetadata;
use crate::index::page::{self, ProjectPage, VersionFilter};
use crate::index::wheel as wheel_metadata;
use crate::index::IndexUrl;

/// A package to work ahead on, and how to anticipate the resolver.
type Prefetch = (Wanted, Arc<dyn Foresight>);

/// How many packages the prefetch workers fetch at once.
const PREFETCH_WORKERS: usize = 16;

pub struct IndexSource<'a> {
    client: &'a IndexClient,
    cache: Option<Cache>,
    indexes: Vec<IndexUrl>,
    find_links: Vec<String>,
    builds: BuildPolicy,
    /// Each find-links location's page, read once for all projects.
    find_links_pages: OnceLock<Result<Vec<(String, ProjectPage)>, SourceError>>,
    projects: Memo<PackageName, Result<Arc<Project>, SourceError>>,
    releases: Memo<(PackageName, Version), Result<Candidate, SourceError>>,
    metadata: Memo<(PackageName, Version), Result<DistMetadata, SourceError>>,
    /// Where announced packages go while [`IndexSource::with_prefetch`] runs.
    prefetch: Mutex<Option<mpsc::Sender<Prefetch>>>,
    /// What was announced, so that each is worked on once.
    announced: Mutex<HashSet<(PackageName, Vec<ExtraName>)>>,
    /// Set when resolution is over: queued prefetches are dropped.
    finished: AtomicBool,
    /// Counts the releases whose metadata was read.
    progress: ProgressBar,
    /// When this source was made (seconds since the Unix epoch): cache
    /// entries written since are this run's own.
    started: u64,
}

/// A project's versions on each page that lists it, in priority order
/// (indexes in the order given, then find-links locations).
struct Project {
    pages: Vec<ProjectVersions>,
}

struct ProjectVersions {
    /// The index URL or find-links location.
    location: String,
    /// The position in the index list; `None` for a find-links page.
    index: Option<usize>,
    /// Each version with the files in hand; they are all in hand when
    /// `complete`, else they are read from the cache when asked for.
    releases: BTreeMap<Version, Vec<page::DistFile>>,
    complete: bool,
}

/// Ends [`IndexSource::with_prefetch`]'s workers when dropped: queued
/// work is dropped, and dropping the sender ends each worker once it is
/// idle.
struct StopPrefetch<'s, 'a>(&'s IndexSource<'a>);

impl Drop for StopPrefetch<'_, '_> {
    fn drop(&mut self) {
        self.0.finished.store(true, Ordering::Relaxed);
        *locked(&self.0.prefetch) = None;
    }
}

/// Answers computed once and shared by the resolver and the prefetch
/// workers: whoever asks second waits for the first answer.
struct Memo<K, V> {
    cells: Mutex<HashMap<K, Arc<OnceLock<V>>>>,
}

impl<K, V> Default for Memo<K, V> {
    fn default() -> Memo<K, V> {
        Memo {
            cells: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Memo<K, V> {
    fn get_or(&self, key: &K, compute: impl FnOnce() -> V) -> V {
        let cell = Arc::clone(locked(&self.cells).entry(key.clone()).or_default());
        cell.get_or_init(compute).clone()
    }
}

/// A poisoned lock only means another thread panicked; the map it guards
/// is still whole (entries are inserted in one step).
fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
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
            find_links_pages: OnceLock::new(),
            projects: Memo::default(),
            releases: Memo::default(),
            metadata: Memo::default(),
            prefetch: Mutex::new(None),
            announced: Mutex::new(HashSet::new()),
            finished: AtomicBool::new(false),
            progress: ProgressBar::hidden(),
            started: crate::index::cache::now(),
        }
    }

    /// Whether and how sdists may be built for their metadata.
    pub fn with_builds(mut self, builds: BuildPolicy) -> IndexSource<'a> {
        self.builds = builds;
        self
    }

    /// Count each release whose metadata is read on `progress`.
    pub fn with_progress(mut self, progress: ProgressBar) -> IndexSource<'a> {
        self.progress = progress;
        self
    }

    /// Run `resolution` while workers act on [`PackageSource::prefetch`]
    /// hints; what they have not started when it returns is dropped.
    pub fn with_prefetch<R>(&self, resolution: impl FnOnce() -> R) -> R {
        let (sender, receiver) = mpsc::channel::<Prefetch>();
        let receiver = Mutex::new(receiver);
        *locked(&self.prefetch) = Some(sender);
        self.finished.store(false, Ordering::Relaxed);
        std::thread::scope(|scope| {
            for _ in 0..PREFETCH_WORKERS {
                scope.spawn(|| loop {
                    let next = locked(&receiver).recv();
                    let Ok((wanted, foresight)) = next else {
                        break;
                    };
                    if !self.finished.load(Ordering::Relaxed) {
                        self.work_ahead(&wanted, &foresight);
                    }
                });
            }
            // Also when the resolution panics: the workers must stop for
            // the scope to end, and the panic to go on.
            let _stop = StopPrefetch(self);
            resolution()
        })
    }

    /// Fetch what the resolver will likely ask about `wanted`, then go on
    /// with the requirements of the release it will likely take: the
    /// whole tree is fetched at the network's pace, not the resolver's.
    fn work_ahead(&self, wanted: &Wanted, foresight: &Arc<dyn Foresight>) {
        // Errors are remembered with the answers: the resolver meets them
        // if it asks the same question.
        let Ok(versions) = self.versions(&wanted.name) else {
            return;
        };
        // Once resolution is over, nothing more is fetched for it.
        let over = || self.finished.load(Ordering::Relaxed);
        let Some(version) = foresight.pick(wanted, &versions).filter(|_| !over()) else {
            return;
        };
        // An sdist may need a build, which runs its code: only for a
        // release the resolver has chosen.
        let has_wheel = self
            .release(&wanted.name, &version)
            .is_ok_and(|release| release.files.iter().any(DistFile::is_wheel));
        if !has_wheel || over() {
            return;
        }
        if let Ok(metadata) = self.metadata(&wanted.name, &version) {
            for next in foresight.requirements(wanted, &metadata) {
                self.prefetch(next, foresight);
            }
        }
    }

    fn project(&self, name: &PackageName) -> Result<Arc<Project>, SourceError> {
        self.projects
            .get_or(name, || self.fetch_project(name).map(Arc::new))
    }

    fn fetch_project(&self, name: &PackageName) -> Result<Project, SourceError> {
        let project = name.to_string();
        // With a cache, a release's files are read from it when needed;
        // without one, everything must be kept from the only read.
        let complete = self.cache.is_none();
        let filter = if complete {
            VersionFilter::all()
        } else {
            VersionFilter::names_only()
        };
        let fetched = self.client.fetch_all(
            &self.indexes,
            &[],
            &[(project.clone(), filter)],
            &ProgressBar::hidden(),
        );
        let mut pages = Vec::new();
        for (position, index) in self.indexes.iter().enumerate() {
            match fetched.pages.get(&(position, project.clone())) {
                Some(Ok(Answer::Found(found))) => pages.push(ProjectVersions {
                    location: index.to_string(),
                    index: Some(position),
                    releases: releases_of(found, &project, true),
                    complete,
                }),
                Some(Ok(Answer::NotFound)) | None => {}
                Some(Err(err)) => return Err(fetch_error(err)),
            }
        }
        for (location, found) in self.find_links_pages()? {
            let releases = releases_of(found, &project, false);
            if !releases.is_empty() {
                pages.push(ProjectVersions {
                    location: location.clone(),
                    index: None,
                    releases,
                    complete: true,
                });
            }
        }
        Ok(Project { pages })
    }

    fn find_links_pages(&self) -> Result<&Vec<(String, ProjectPage)>, SourceError> {
        self.find_links_pages
            .get_or_init(|| {
                if self.find_links.is_empty() {
                    return Ok(Vec::new());
                }
                let fetched =
                    self.client
                        .fetch_all(&[], &self.find_links, &[], &ProgressBar::hidden());
                self.find_links
                    .iter()
                    .zip(fetched.find_links)
                    .map(|(location, page)| match page {
                        Ok(page) => Ok((location.clone(), page)),
                        Err(err) => Err(fetch_error(&err)),
                    })
                    .collect()
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    fn fetch_release(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Candidate, SourceError> {
        let project = self.project(name)?;
        let unknown = || SourceError::UnknownRelease {
            name: name.clone(),
            version: version.clone(),
        };
        let found = project
            .pages
            .iter()
            .find(|page| page.releases.contains_key(version))
            .ok_or_else(unknown)?;
        let files = match (found.complete, found.index) {
            (false, Some(position)) => {
                let pin = VersionSpecifiers::from_str(&format!("=={version}"))
                    .map_err(|err| SourceError::Index(err.to_string()))?;
                let text = name.to_string();
                let filter = VersionFilter::admitted_by(vec![pin]);
                // What this run fetched is read back from the cache, even
                // when the rules would call it stale (`--refresh`).
                let answer = match self.client.cached_page(
                    &self.indexes[position],
                    &text,
                    &filter,
                    self.started,
                ) {
                    Some(Ok(answer)) => answer,
                    Some(Err(err)) => return Err(fetch_error(&err)),
                    None => {
                        let mut fetched = self.client.fetch_all(
                            &self.indexes[position..=position],
                            &[],
                            &[(text.clone(), filter)],
                            &ProgressBar::hidden(),
                        );
                        match fetched.pages.remove(&(0, text.clone())) {
                            Some(Ok(answer)) => answer,
                            None => Answer::NotFound,
                            Some(Err(err)) => return Err(fetch_error(&err)),
                        }
                    }
                };
                match answer {
                    Answer::Found(page) => releases_of(&page, &text, true)
                        .remove(version)
                        .ok_or_else(unknown)?,
                    Answer::NotFound => return Err(unknown()),
                }
            }
            _ => found.releases.get(version).cloned().unwrap_or_default(),
        };
        Ok(candidate(version.clone(), &files, &found.location))
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

impl PackageSource for IndexSource<'_> {
    fn versions(&self, name: &PackageName) -> Result<Vec<Version>, SourceError> {
        let project = self.project(name)?;
        Ok(project
            .pages
            .iter()
            .flat_map(|page| page.releases.keys().cloned())
            .collect())
    }

    fn release(&self, name: &PackageName, version: &Version) -> Result<Candidate, SourceError> {
        let key = (name.clone(), version.clone());
        self.releases
            .get_or(&key, || self.fetch_release(name, version))
    }

    fn metadata(&self, name: &PackageName, version: &Version) -> Result<DistMetadata, SourceError> {
        let key = (name.clone(), version.clone());
        self.metadata.get_or(&key, || {
            let metadata = self.fetch_metadata(name, version);
            self.progress.inc(1);
            metadata
        })
    }

    fn prefetch(&self, wanted: Wanted, foresight: &Arc<dyn Foresight>) {
        if let Some(sender) = locked(&self.prefetch).as_ref() {
            let key = (wanted.name.clone(), wanted.extras.clone());
            if locked(&self.announced).insert(key) {
                // A closed channel means resolution is over: nothing to do.
                let _ = sender.send((wanted, Arc::clone(foresight)));
            }
        }
    }

    fn direct(&self, reference: &DirectReference) -> Result<DirectDist, DirectError> {
        DirectSource {
            client: self.client,
            cache: self.cache.as_ref(),
            sdists: self.sdist_source(),
        }
        .read(reference)
    }
}

impl IndexSource<'_> {
    fn fetch_metadata(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<DistMetadata, SourceError> {
        let release = self.release(name, version)?;
        // Wheels first: their metadata is static, an sdist's may not be.
        // Any wheel says the same, so one that cannot be read (a zip64
        // archive, a file gone from the server) gives way to the next.
        let mut unreadable = None;
        for file in release.files.iter().filter(|file| file.is_wheel()) {
            match self.file_metadata(file) {
                Ok(Some(text)) => {
                    return DistMetadata::parse(&text).map_err(|source| {
                        SourceError::InvalidMetadata {
                            name: name.clone(),
                            version: version.clone(),
                            source,
                        }
                    })
                }
                Ok(None) => {}
                Err(err @ SourceError::NotCached(_)) => return Err(err),
                Err(err) => {
                    unreadable.get_or_insert(err);
                }
            }
        }
        if let Some(err) = unreadable {
            return Err(err);
        }
        // No wheel to read: the sdist says, or its build backend does.
        match sdist::preferred(release.files.iter()) {
            Some(file) => {
                let text = sdist::read_metadata(&self.sdist_source(), name, version, file)?;
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

    fn sdist_source(&self) -> SdistSource<'_> {
        SdistSource {
            client: self.client,
            cache: self.cache.as_ref(),
            indexes: &self.indexes,
            find_links: &self.find_links,
            policy: &self.builds,
        }
    }

    fn file_metadata(&self, file: &DistFile) -> Result<Option<String>, SourceError> {
        if file.url.is_none() {
            return Ok(None);
        }
        wheel_metadata::read_metadata(self.client, self.cache.as_ref(), file)
            .map(Some)
            .map_err(|err| match err {
                wheel_metadata::MetadataFetchError::Fetch(err) => fetch_error(&err),
                // Another wheel of the release may still be read.
                err => SourceError::Index(err.to_string()),
            })
    }
}

/// A page's files grouped by version; with `named_versions`, the versions
/// a filter left without files are included too.
fn releases_of(
    page: &ProjectPage,
    project: &str,
    named_versions: bool,
) -> BTreeMap<Version, Vec<page::DistFile>> {
    let mut releases: BTreeMap<Version, Vec<page::DistFile>> = BTreeMap::new();
    if named_versions {
        for version in &page.omitted_versions {
            if let Ok(version) = Version::from_str(version) {
                releases.entry(version).or_default();
            }
        }
    }
    for file in &page.files {
        if let Some(parsed) = filename::parse(&file.filename, project) {
            releases
                .entry(parsed.version)
                .or_default()
                .push(file.clone());
        }
    }
    releases
}

/// A release as the resolver sees it: yanked when every file is, with the
/// first `requires-python` a file gives, and sha256 hashes only.
fn candidate(version: Version, files: &[page::DistFile], location: &str) -> Candidate {
    let yanked = if !files.is_empty() && files.iter().all(|file| file.yanked.is_some()) {
        files.iter().find_map(|file| file.yanked.clone())
    } else {
        None
    };
    let requires_python = files
        .iter()
        .find_map(|file| file.requires_python.as_deref())
        .and_then(|text| VersionSpecifiers::from_str(text).ok());
    Candidate {
        version,
        yanked,
        requires_python,
        files: files
            .iter()
            .map(|file| page::DistFile {
                filename: file.filename.clone(),
                url: file.url.clone(),
                hashes: file
                    .hashes
                    .iter()
                    .filter(|(algorithm, _)| algorithm.as_str() == "sha256")
                    .map(|(algorithm, digest)| (algorithm.clone(), digest.clone()))
                    .collect(),
                // Summarized for the release above; not needed per file.
                requires_python: None,
                yanked: None,
                core_metadata: file.core_metadata,
                metadata_sha256: file.metadata_sha256.clone(),
                size: file.size,
                upload_time: file.upload_time.clone(),
            })
            .collect(),
        index: location.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::client::ClientSettings;

    #[test]
    fn a_panicking_resolution_stops_the_workers_and_goes_on_panicking() {
        let client = IndexClient::new(ClientSettings::default(), None).expect("client");
        let source = IndexSource::new(&client, None, Vec::new(), Vec::new());
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            source.with_prefetch(|| panic!("a resolver bug"))
        }));
        assert!(outcome.is_err());
        assert!(locked(&source.prefetch).is_none());
        // The source still works afterwards.
        assert_eq!(source.with_prefetch(|| 7), 7);
    }
}
