//! Direct references: requirements that name a file, a folder or a URL
//! instead of a release on an index (`name @ https://.../name-1.0.whl`,
//! `./vendor/pkg-1.0.tar.gz`, `-e ./libs/mypkg`), as pip and uv lock them.
//! Each one is the only candidate of its package: its version and
//! dependencies come from its own metadata, read here once before the
//! resolution starts.
//!
//! Archives (wheels and sdists, remote or local) are hashed, checked
//! against the hashes the line gives (`#sha256=` on the URL, `--hash`
//! options) and their metadata is cached by that hash like an index file's;
//! project folders change under the lock, so their backend is asked every
//! time and nothing is cached.

use std::io::Read;
use std::path::{Path, PathBuf};

use pep508_rs::PackageName;
use reqwest::Url;

use super::build::BuildError;
use super::sdist::{self, SdistError, SdistSource};
use crate::index::cache::Cache;
use crate::index::client::{Bytes, FetchError, IndexClient};
use crate::index::limits::{human, MAX_ARCHIVE_DOWNLOAD};
use crate::index::metadata::{self, DistMetadata, MetadataError};
use crate::requirements::requirement::{is_url, is_vcs_url, url_scheme};
use crate::requirements::Requirement;

/// Where a direct reference points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An `http(s)` URL, without its fragment.
    Remote(String),
    /// A local archive, absolute.
    File(PathBuf),
    /// A local project folder, absolute.
    Directory(PathBuf),
}

/// What a direct reference is, as the resolver reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectReference {
    /// The URL or path as the requirement line wrote it, for the lockfile.
    pub given: String,
    pub location: Location,
    pub editable: bool,
    /// The name the line gives (`name @ ...`, `#egg=`, a wheel's file name).
    pub declared_name: Option<PackageName>,
    /// `sha256:<hex>` the archive must have: the URL's `#sha256=` fragment
    /// and the line's `--hash` options.
    pub expected_hashes: Vec<String>,
}

/// A direct reference with what its metadata says.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectDist {
    pub reference: DirectReference,
    pub metadata: DistMetadata,
    /// `sha256:<hex>` of the archive; `None` for a folder (pip cannot hash
    /// one).
    pub hash: Option<String>,
}

/// A direct reference that cannot be locked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectError {
    #[error("VCS requirements cannot be locked yet")]
    Vcs,
    #[error("`{0}` URLs are not supported; reqlock reads http(s) and file URLs and local paths")]
    Scheme(String),
    #[error("{0} does not exist")]
    Missing(PathBuf),
    #[error("an editable requirement must be a local project folder, and {0} is not one")]
    EditableNotFolder(String),
    #[error("{0} is neither a wheel nor a .tar.gz or .zip sdist")]
    UnsupportedArchive(String),
    #[error("could not read {what}: {reason}")]
    Read { what: String, reason: String },
    #[error("{what} is larger than {}, the most reqlock reads of one archive", human(*.limit))]
    TooLarge { what: String, limit: u64 },
    /// `--offline`, and the cache does not hold the archive's metadata.
    #[error("{0} is not in the cache (offline)")]
    NotCached(String),
    #[error("{file} does not match its hash: expected {expected}, got {actual}")]
    HashMismatch {
        file: String,
        expected: String,
        actual: String,
    },
    #[error(transparent)]
    Sdist(SdistError),
    #[error(
        "building the metadata of {0} needs its build backend, and `--no-build` forbids running it"
    )]
    BuildForbidden(String),
    #[error("could not build the metadata of {what}: {source}")]
    Build { what: String, source: BuildError },
    #[error("the metadata of {what} is unusable: {source}")]
    Metadata { what: String, source: MetadataError },
    #[error("the line names `{declared}` but {what} is `{found}`")]
    NameMismatch {
        declared: PackageName,
        what: String,
        found: PackageName,
    },
}

impl DirectError {
    /// What the user can do about it, for the `help:` line.
    pub fn help(&self) -> String {
        match self {
            DirectError::Vcs => "pin a released version (`name==1.2.3`) or a wheel URL of the same code instead".into(),
            DirectError::Scheme(_) | DirectError::UnsupportedArchive(_) => {
                "point the line at a wheel, a .tar.gz or .zip sdist, or a project folder".into()
            }
            DirectError::Missing(_) => {
                "relative paths are read from the current folder, as pip reads them: run reqlock where you run pip".into()
            }
            DirectError::EditableNotFolder(_) => {
                "drop `-e` for an archive, or point it at a folder with pyproject.toml or setup.py".into()
            }
            DirectError::Read { .. } => "check that the file or URL can be read from here".into(),
            DirectError::TooLarge { .. } => {
                "reqlock holds a direct reference's archive in memory to hash and read it: point the line at the right file, or install this one in a separate step".into()
            }
            DirectError::NotCached(_) => {
                "run once without `--offline`; an archive URL with a `#sha256=` fragment is then answered from the cache".into()
            }
            DirectError::HashMismatch { .. } => {
                "the file changed since its hash was written: check where it comes from, then update the hash".into()
            }
            DirectError::Sdist(err) => err.help(),
            DirectError::BuildForbidden(_) => {
                "drop `--no-build` to let reqlock run the project's build backend (that runs its code), or point the line at a wheel".into()
            }
            DirectError::Build { source, .. } => source.help().unwrap_or_else(|| {
                "fix the project's build (the backend's output is above), or point the line at a wheel".into()
            }),
            DirectError::Metadata { .. } => "point the line at a well-formed distribution".into(),
            DirectError::NameMismatch { .. } => {
                "correct the name before `@` (or in `#egg=`), or point the line at the distribution you meant".into()
            }
        }
    }
}

/// The archive kinds a direct reference may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Archive {
    Wheel,
    Sdist,
}

fn archive_kind(filename: &str) -> Option<Archive> {
    let lower = filename.to_ascii_lowercase();
    if lower.ends_with(".whl") {
        Some(Archive::Wheel)
    } else if [".tar.gz", ".tgz", ".zip"]
        .iter()
        .any(|extension| lower.ends_with(extension))
    {
        Some(Archive::Sdist)
    } else {
        None
    }
}

/// `sha256:<hex>` from a URL fragment's `sha256=<hex>` parameter.
fn fragment_hash(url: &str) -> Option<String> {
    let (_, fragment) = url.split_once('#')?;
    fragment
        .split('&')
        .find_map(|part| part.strip_prefix("sha256="))
        .map(|digest| format!("sha256:{}", digest.to_ascii_lowercase()))
}

/// `path` made absolute against `working_dir` with `.` and `..` folded,
/// without touching the file system (a missing file still gets a name).
fn absolute(working_dir: &Path, path: &Path) -> PathBuf {
    let mut joined = working_dir.join(path);
    if joined.as_os_str().is_empty() {
        joined = PathBuf::from(".");
    }
    let joined = std::path::absolute(&joined).unwrap_or(joined);
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Where a URL points, for comparing a dependency's URL with a line's.
fn url_location(text: &str) -> Option<Location> {
    let without_fragment = text.split('#').next().unwrap_or(text);
    match url_scheme(text)?.as_str() {
        // Parsed, so that two spellings of one URL compare equal.
        "http" | "https" => Some(Location::Remote(
            Url::parse(without_fragment)
                .map(String::from)
                .unwrap_or_else(|_| without_fragment.to_string()),
        )),
        "file" => {
            let path = Url::parse(without_fragment).ok()?.to_file_path().ok()?;
            Some(Location::File(absolute(Path::new("/"), &path)))
        }
        _ => None,
    }
}

impl Location {
    fn path(&self) -> Option<&Path> {
        match self {
            Location::Remote(_) => None,
            Location::File(path) | Location::Directory(path) => Some(path),
        }
    }

    /// The file name of an archive.
    fn filename(&self) -> String {
        match self {
            Location::Remote(url) => {
                let path = url.split('?').next().unwrap_or(url);
                let last = path.rsplit('/').next().unwrap_or(path);
                percent_encoding::percent_decode_str(last)
                    .decode_utf8_lossy()
                    .into_owned()
            }
            Location::File(path) | Location::Directory(path) => path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
        }
    }
}

impl DirectReference {
    /// Read a requirement line with a URL, a path or `-e`; relative paths
    /// resolve against `working_dir`, as pip resolves them against its
    /// current folder.
    pub fn from_requirement(
        requirement: &Requirement,
        working_dir: &Path,
    ) -> Result<DirectReference, DirectError> {
        let given = requirement.url.clone().unwrap_or_default();
        if is_vcs_url(&given) {
            return Err(DirectError::Vcs);
        }
        let location = if is_url(&given) {
            match url_location(&given) {
                Some(Location::File(path)) if path.is_dir() => Location::Directory(path),
                Some(location) => location,
                None => return Err(DirectError::Scheme(url_scheme(&given).unwrap_or_default())),
            }
        } else {
            let path = absolute(working_dir, Path::new(&given));
            if path.is_dir() {
                Location::Directory(path)
            } else {
                Location::File(path)
            }
        };
        if let Location::File(path) = &location {
            if !path.exists() {
                return Err(DirectError::Missing(path.clone()));
            }
        }
        if requirement.editable && !matches!(location, Location::Directory(_)) {
            return Err(DirectError::EditableNotFolder(given));
        }
        if !matches!(location, Location::Directory(_))
            && archive_kind(&location.filename()).is_none()
        {
            return Err(DirectError::UnsupportedArchive(location.filename()));
        }
        let mut expected_hashes: Vec<String> = fragment_hash(&given).into_iter().collect();
        expected_hashes.extend(
            requirement
                .hashes
                .iter()
                .filter(|hash| hash.starts_with("sha256:"))
                .map(|hash| hash.to_ascii_lowercase()),
        );
        expected_hashes.sort();
        expected_hashes.dedup();
        Ok(DirectReference {
            given,
            location,
            editable: requirement.editable,
            declared_name: requirement.name.clone(),
            expected_hashes,
        })
    }

    /// The reference as the lockfile and messages show it: a URL without
    /// its credentials (pip finds them again in `.netrc` or a keyring).
    pub fn shown(&self) -> String {
        crate::redact::text(&self.given)
    }

    /// Whether a dependency's `name @ url` points where this line does
    /// (pip's rule: a URL a dependency names is allowed only when the
    /// requirements name it too).
    pub fn is_same_place(&self, url: &str) -> bool {
        let Some(other) = url_location(url) else {
            return false;
        };
        match (&self.location, &other) {
            (Location::Remote(mine), Location::Remote(theirs)) => mine == theirs,
            _ => match (self.location.path(), other.path()) {
                (Some(mine), Some(theirs)) => mine == theirs,
                _ => false,
            },
        }
    }

    /// The path to write in a lockfile in `lock_dir`: relative to it when
    /// possible (PEP 751), for a local reference.
    pub fn path_from(&self, lock_dir: &Path) -> Option<String> {
        let path = self.location.path()?;
        let base = absolute(Path::new("/"), &absolute(Path::new(""), lock_dir));
        let common = path
            .components()
            .zip(base.components())
            .take_while(|(a, b)| a == b)
            .count();
        if common == 0 {
            return Some(path.display().to_string());
        }
        let mut relative = PathBuf::new();
        for _ in base.components().skip(common) {
            relative.push("..");
        }
        for part in path.components().skip(common) {
            relative.push(part);
        }
        let text = relative.to_string_lossy().replace('\\', "/");
        Some(if text.starts_with("..") {
            text
        } else if text.is_empty() {
            ".".to_string()
        } else {
            format!("./{text}")
        })
    }

    /// The URL a remote reference downloads, without its fragment.
    pub fn remote_url(&self) -> Option<&str> {
        match &self.location {
            Location::Remote(url) => Some(url),
            _ => None,
        }
    }

    pub fn is_directory(&self) -> bool {
        matches!(self.location, Location::Directory(_))
    }

    /// The archive's file name; `None` for a folder.
    pub fn archive_filename(&self) -> Option<String> {
        (!self.is_directory()).then(|| self.location.filename())
    }
}

/// What reading a direct reference needs: the index client and cache for
/// downloads and cached metadata, and the build policy.
pub struct DirectSource<'a> {
    pub client: &'a IndexClient,
    pub cache: Option<&'a Cache>,
    pub sdists: SdistSource<'a>,
}

impl DirectSource<'_> {
    /// The metadata (and hash) of `reference`.
    pub fn read(&self, reference: &DirectReference) -> Result<DirectDist, DirectError> {
        let what = reference.shown();
        let read_error = |reason: String| DirectError::Read {
            what: what.clone(),
            reason,
        };
        let (text, hash) = match &reference.location {
            Location::Directory(root) => (self.project(reference, root)?, None),
            Location::Remote(url) => {
                let (text, hash) = self.archive(reference, || {
                    match self.client.fetch_bytes(url, None, MAX_ARCHIVE_DOWNLOAD) {
                        Ok(Some(found)) => Ok(found.body),
                        Ok(None) => Err(read_error("the server answered 404".into())),
                        Err(FetchError::NotCached { .. }) => {
                            Err(DirectError::NotCached(what.clone()))
                        }
                        Err(FetchError::TooLarge { limit, .. }) => Err(DirectError::TooLarge {
                            what: what.clone(),
                            limit,
                        }),
                        Err(err) => Err(read_error(err.to_string())),
                    }
                })?;
                (text, Some(hash))
            }
            Location::File(path) => {
                let (text, hash) =
                    self.archive(reference, || read_local(path, &what, MAX_ARCHIVE_DOWNLOAD))?;
                (text, Some(hash))
            }
        };
        let metadata = DistMetadata::parse(&text).map_err(|source| DirectError::Metadata {
            what: what.clone(),
            source,
        })?;
        if let Some(declared) = &reference.declared_name {
            if *declared != metadata.name {
                return Err(DirectError::NameMismatch {
                    declared: declared.clone(),
                    what,
                    found: metadata.name,
                });
            }
        }
        Ok(DirectDist {
            reference: reference.clone(),
            metadata,
            hash,
        })
    }

    fn project(&self, reference: &DirectReference, root: &Path) -> Result<String, DirectError> {
        let what = reference.shown();
        if !self.sdists.policy.allow_builds {
            return Err(DirectError::BuildForbidden(what));
        }
        let prepared =
            sdist::project_metadata(&self.sdists, root, reference.editable).map_err(|source| {
                DirectError::Build {
                    what: what.clone(),
                    source,
                }
            })?;
        let text = metadata::header_block(&prepared.metadata);
        if let Ok(parsed) = DistMetadata::parse(&text) {
            (self.sdists.policy.report)(&sdist::Report::Project {
                name: parsed.name,
                version: parsed.version,
                path: what,
                backend: prepared.backend,
            });
        }
        Ok(text)
    }

    /// The metadata headers and the hash of an archive whose bytes `load`
    /// reads (only when the cache cannot answer).
    fn archive(
        &self,
        reference: &DirectReference,
        load: impl FnOnce() -> Result<Vec<u8>, DirectError>,
    ) -> Result<(String, String), DirectError> {
        let filename = reference.location.filename();
        let what = reference.shown();
        // With a hash in hand the cache may answer without a download.
        if let Some(expected) = reference.expected_hashes.first() {
            if let Some(text) = self.cached(expected) {
                return Ok((text, expected.clone()));
            }
        }
        let body = load()?;
        let actual = sdist::sha256(&body);
        if let Some(expected) = reference
            .expected_hashes
            .iter()
            .find(|expected| **expected != actual)
        {
            return Err(DirectError::HashMismatch {
                file: filename,
                expected: expected.clone(),
                actual,
            });
        }
        if let Some(text) = self.cached(&actual) {
            return Ok((text, actual));
        }
        let text = match archive_kind(&filename) {
            Some(Archive::Wheel) => {
                wheel_metadata(&filename, body).map_err(|reason| DirectError::Read {
                    what: what.clone(),
                    reason,
                })?
            }
            Some(Archive::Sdist) => {
                let (text, backend) = sdist::archive_metadata(&self.sdists, &filename, body)
                    .map_err(|failure| match failure {
                        sdist::Failure::Sdist(err) => DirectError::Sdist(err),
                        sdist::Failure::Forbidden => DirectError::BuildForbidden(what.clone()),
                        sdist::Failure::Build(source) => DirectError::Build {
                            what: what.clone(),
                            source,
                        },
                    })?;
                if let Ok(parsed) = DistMetadata::parse(&text) {
                    let (name, version) = (parsed.name, parsed.version);
                    (self.sdists.policy.report)(&match backend {
                        None => sdist::Report::PkgInfo { name, version },
                        Some(backend) => sdist::Report::Built {
                            name,
                            version,
                            backend,
                        },
                    });
                }
                text
            }
            None => return Err(DirectError::UnsupportedArchive(filename)),
        };
        if let Some(cache) = self.cache {
            // Not caching only costs the next run a download (and a build).
            let _ = cache.write_metadata(&cache.metadata_path(&actual), &text);
        }
        Ok((text, actual))
    }

    fn cached(&self, hash: &str) -> Option<String> {
        let cache = self.cache?;
        cache.read_metadata(&cache.metadata_path(hash))
    }
}

/// The bytes of the local archive `path` (the line's `what`), at most
/// `limit` of them: a file past it is refused once that much was read, so a
/// device or a file still growing cannot fill the memory.
fn read_local(path: &Path, what: &str, limit: u64) -> Result<Vec<u8>, DirectError> {
    let read_error = |err: std::io::Error| DirectError::Read {
        what: what.to_string(),
        reason: err.to_string(),
    };
    let mut body = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(limit.saturating_add(1)).read_to_end(&mut body))
        .map_err(read_error)?;
    if body.len() as u64 > limit {
        return Err(DirectError::TooLarge {
            what: what.to_string(),
            limit,
        });
    }
    Ok(body)
}

/// `METADATA` of a wheel held in memory, headers only.
fn wheel_metadata(filename: &str, body: Vec<u8>) -> Result<String, String> {
    let total = body.len() as u64;
    // The whole wheel is in memory: the first read is all of it.
    let mut whole = Some(Bytes {
        start: 0,
        total,
        body,
    });
    let text = crate::index::wheel::read(filename, &mut |_| {
        whole.take().ok_or_else(|| "the wheel is truncated".into())
    })
    .map_err(|err| err.to_string())?;
    Ok(metadata::header_block(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sha256_fragments() {
        assert_eq!(
            fragment_hash("https://files.example.invalid/a-1.0.whl#sha256=ABC&egg=a").as_deref(),
            Some("sha256:abc")
        );
        assert_eq!(
            fragment_hash("https://files.example.invalid/a-1.0.whl#md5=00"),
            None
        );
    }

    #[test]
    fn compares_places_without_fragments() {
        let reference = DirectReference {
            given: "https://files.example.invalid/a-1.0-py3-none-any.whl#sha256=00".into(),
            location: Location::Remote(
                "https://files.example.invalid/a-1.0-py3-none-any.whl".into(),
            ),
            editable: false,
            declared_name: None,
            expected_hashes: Vec::new(),
        };
        assert!(reference.is_same_place("https://files.example.invalid/a-1.0-py3-none-any.whl"));
        assert!(!reference.is_same_place("https://files.example.invalid/a-2.0-py3-none-any.whl"));
        let local = DirectReference {
            location: Location::File(PathBuf::from("/srv/wheels/a-1.0-py3-none-any.whl")),
            ..reference
        };
        assert!(local.is_same_place("file:///srv/wheels/./a-1.0-py3-none-any.whl"));
    }

    #[test]
    fn a_local_archive_past_the_limit_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a-1.0-py3-none-any.whl");
        std::fs::write(&path, [0u8; 100]).expect("written");
        assert_eq!(
            read_local(&path, "./a.whl", 100).map(|body| body.len()),
            Ok(100)
        );
        assert_eq!(
            read_local(&path, "./a.whl", 99),
            Err(DirectError::TooLarge {
                what: "./a.whl".into(),
                limit: 99
            })
        );
        assert_eq!(
            DirectError::TooLarge {
                what: "./a.whl".into(),
                limit: 4 << 30
            }
            .to_string(),
            "./a.whl is larger than 4 GiB, the most reqlock reads of one archive"
        );
    }

    #[test]
    fn writes_paths_relative_to_the_lockfile() {
        let reference = DirectReference {
            given: "./libs/pkg".into(),
            location: Location::Directory(PathBuf::from("/work/project/libs/pkg")),
            editable: true,
            declared_name: None,
            expected_hashes: Vec::new(),
        };
        assert_eq!(
            reference.path_from(Path::new("/work/project")).as_deref(),
            Some("./libs/pkg")
        );
        assert_eq!(
            reference
                .path_from(Path::new("/work/project/locks"))
                .as_deref(),
            Some("../libs/pkg")
        );
    }
}
