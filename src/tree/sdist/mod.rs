//! The core metadata of a release that has only an sdist, as pip and uv
//! get it: download the sdist (checked against the index's hash), use its
//! `PKG-INFO` when PEP 643 says it is reliable, else unpack it and ask its
//! build backend ([`super::build`]). The result is cached by the sdist's
//! hash like a wheel's metadata, so nothing is built twice.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use pep508_rs::pep440_rs::Version;
use pep508_rs::PackageName;
use sha2::{Digest, Sha256};

use super::build::{Build, BuildError, PipSources, DEFAULT_BUILD_TIMEOUT};
use super::source::DistFile;
use crate::index::cache::Cache;
use crate::index::client::{FetchError, IndexClient};
use crate::index::limits::{self, human, ArchiveLimits};
use crate::index::metadata::{self, DistMetadata};
use crate::index::IndexUrl;
mod archive;
#[allow(unused_imports)]
use archive::*;

/// Whether, and with what, sdists may be built.
#[derive(Clone)]
pub struct BuildPolicy {
    /// `false` under `--no-build`: a build that would be needed is an error.
    pub allow_builds: bool,
    /// The interpreter that creates build environments and runs pip.
    pub python: PathBuf,
    /// Extra certificate authorities for the indexes, passed on to pip.
    pub pip_cert: Option<PathBuf>,
    /// How long each build step may take (`--build-timeout`).
    pub timeout: Duration,
    /// Told where each sdist's metadata came from (not for cache hits).
    pub report: Arc<dyn Fn(&Report) + Send + Sync>,
}

impl Default for BuildPolicy {
    fn default() -> BuildPolicy {
        BuildPolicy {
            allow_builds: true,
            python: PathBuf::from("python3"),
            pip_cert: None,
            timeout: DEFAULT_BUILD_TIMEOUT,
            report: Arc::new(|_| {}),
        }
    }
}

/// Where an sdist's metadata came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    PkgInfo {
        name: PackageName,
        version: Version,
    },
    Built {
        name: PackageName,
        version: Version,
        backend: String,
    },
    /// A local project folder (a direct reference).
    Project {
        name: PackageName,
        version: Version,
        path: String,
        backend: String,
    },
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Report::PkgInfo { name, version } => {
                write!(
                    f,
                    "read metadata of {name} {version} from its sdist's PKG-INFO"
                )
            }
            Report::Built {
                name,
                version,
                backend,
            } => write!(
                f,
                "built metadata of {name} {version} from its sdist ({backend})"
            ),
            Report::Project {
                name,
                version,
                path,
                backend,
            } => write!(
                f,
                "built metadata of {name} {version} from {path} ({backend})"
            ),
        }
    }
}

/// Why an sdist gave no metadata.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdistError {
    #[error("could not download {filename}: {reason}")]
    Download { filename: String, reason: String },
    #[error("{filename} is larger than {}, the most reqlock downloads for this sdist", human(*.limit))]
    DownloadTooLarge { filename: String, limit: u64 },
    #[error("{filename} unpacks to more than {}, the most reqlock unpacks from one archive (a decompression bomb?)", human(*.limit))]
    UnpackedTooLarge { filename: String, limit: u64 },
    #[error(
        "{filename} holds more than {limit} entries, the most reqlock unpacks from one archive"
    )]
    TooManyEntries { filename: String, limit: usize },
    #[error("`{entry}` in {filename} inflates to more than {}, the most reqlock reads of one metadata file", human(*.limit))]
    MetadataTooLarge {
        filename: String,
        entry: String,
        limit: u64,
    },
    #[error(
        "{filename} does not match the index's hash: expected {expected}, downloaded {actual}"
    )]
    HashMismatch {
        filename: String,
        expected: String,
        actual: String,
    },
    #[error("{filename} is not a .tar.gz or .zip sdist, the only kinds reqlock reads")]
    UnsupportedFormat { filename: String },
    #[error("cannot unpack {filename}: {reason}")]
    Archive { filename: String, reason: String },
    #[error(
        "{filename} holds `{entry}`, which points outside the sdist (an absolute path or `..`)"
    )]
    UnsafePath { filename: String, entry: String },
    #[error("{name} {version} has only an sdist and its PKG-INFO does not declare its dependencies statically; `--no-build` forbids running its build backend")]
    BuildForbidden { name: PackageName, version: Version },
    #[error("could not build the metadata of {name} {version} from its sdist: {source}")]
    Build {
        name: PackageName,
        version: Version,
        source: BuildError,
    },
    #[error("the sdist of {name} {version} describes {found}")]
    Inconsistent {
        name: PackageName,
        version: Version,
        found: String,
    },
}

impl SdistError {
    /// What the user can do about it, for the `help:` line.
    pub fn help(&self) -> String {
        match self {
            SdistError::Download { .. } => {
                "the sdist is downloaded once, then its metadata is cached: check that the index is reachable, and run without `--offline` the first time".into()
            }
            SdistError::HashMismatch { .. } => {
                "the file differs from what the index's page says; run again with `--refresh`, and if it persists tell the index's maintainers".into()
            }
            SdistError::DownloadTooLarge { .. } => {
                "reqlock holds an sdist in memory to read it, and the size the index gives bounds the download: pin a version of the package that has wheels, or tell the index's maintainers if the size it gives is wrong".into()
            }
            SdistError::UnsupportedFormat { .. }
            | SdistError::Archive { .. }
            | SdistError::UnsafePath { .. }
            | SdistError::UnpackedTooLarge { .. }
            | SdistError::TooManyEntries { .. }
            | SdistError::MetadataTooLarge { .. }
            | SdistError::Inconsistent { .. } => {
                "pin another version of the package, one with wheels or a well-formed sdist".into()
            }
            SdistError::BuildForbidden { name, .. } => format!(
                "drop `--no-build` to let reqlock run the sdist's build backend (that runs its code), or pin a version of {name} that has wheels"
            ),
            SdistError::Build { name, source, .. } => source.help().unwrap_or_else(|| format!(
                "pin a version of {name} that has wheels, or make its build requirements installable from the lock's indexes; `--no-build` refuses builds altogether"
            )),
        }
    }
}

/// What reading an sdist needs.
pub struct SdistSource<'a> {
    pub client: &'a IndexClient,
    pub cache: Option<&'a Cache>,
    pub indexes: &'a [IndexUrl],
    pub find_links: &'a [String],
    pub policy: &'a BuildPolicy,
}

/// The kinds of sdist reqlock unpacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    TarGz,
    Zip,
}

fn format_of(filename: &str) -> Option<Format> {
    let lower = filename.to_ascii_lowercase();
    if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
        Some(Format::TarGz)
    } else if lower.ends_with(".zip") {
        Some(Format::Zip)
    } else {
        None
    }
}

/// The sdist to read among a release's files: one reqlock can unpack when
/// there is one (`.tar.gz` first, as the standard format), else any, so
/// that the error names it.
pub fn preferred<'f>(files: impl IntoIterator<Item = &'f DistFile>) -> Option<&'f DistFile> {
    let sdists: Vec<&DistFile> = files
        .into_iter()
        .filter(|file| !file.is_wheel() && file.url.is_some())
        .collect();
    [Some(Format::TarGz), Some(Format::Zip)]
        .iter()
        .find_map(|wanted| {
            sdists
                .iter()
                .find(|file| format_of(&file.filename) == *wanted)
        })
        .or(sdists.first())
        .copied()
}

/// `sha256:<hex>` of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256:{hex}")
}

/// The cached metadata of the sdist with `hash`, when the entry is whole
/// and is `name` `version`'s (else a miss: it is read again).
fn cached(
    cache: Option<&Cache>,
    hash: &str,
    name: &PackageName,
    version: &Version,
) -> Option<String> {
    let cache = cache?;
    let text = cache.read_metadata(&cache.metadata_path(hash))?;
    crate::index::metadata::check_identity(&text, name.as_ref(), version).ok()?;
    Some(text)
}

/// The core metadata headers of `name` `version` from its sdist `file`:
/// from the cache, else from `PKG-INFO` when reliable, else from a build.
/// Offline, only the cache answers (the download is refused).
pub fn read_metadata(
    source: &SdistSource,
    name: &PackageName,
    version: &Version,
    file: &DistFile,
) -> Result<String, SdistError> {
    let filename = file.filename.clone();
    let index_hash = file.sha256();
    if let Some(text) = index_hash
        .as_deref()
        .and_then(|hash| cached(source.cache, hash, name, version))
    {
        return Ok(text);
    }
    let url = file.url.as_deref().unwrap_or_default();
    let download = |reason: String| SdistError::Download {
        filename: filename.clone(),
        reason,
    };
    let body = source
        .client
        .fetch_bytes(
            url,
            None,
            limits::download_limit(file.size, limits::MAX_SDIST_DOWNLOAD),
        )
        .map_err(|err| match err {
            FetchError::TooLarge { limit, .. } => SdistError::DownloadTooLarge {
                filename: filename.clone(),
                limit,
            },
            err => download(err.to_string()),
        })?
        .ok_or_else(|| download("the index answered 404".into()))?
        .body;
    let actual = sha256(&body);
    match &index_hash {
        Some(expected) if *expected != actual => {
            return Err(SdistError::HashMismatch {
                filename,
                expected: expected.clone(),
                actual,
            })
        }
        // Without an index hash the cache could not be asked before.
        None => {
            if let Some(text) = cached(source.cache, &actual, name, version) {
                return Ok(text);
            }
        }
        Some(_) => {}
    }
    let (text, backend) =
        archive_metadata(source, &filename, body).map_err(|failure| match failure {
            Failure::Sdist(err) => err,
            Failure::Forbidden => SdistError::BuildForbidden {
                name: name.clone(),
                version: version.clone(),
            },
            Failure::Build(err) => SdistError::Build {
                name: name.clone(),
                version: version.clone(),
                source: err,
            },
        })?;
    let report = match backend {
        None => Report::PkgInfo {
            name: name.clone(),
            version: version.clone(),
        },
        Some(backend) => Report::Built {
            name: name.clone(),
            version: version.clone(),
            backend,
        },
    };
    // pip refuses an sdist whose metadata names another release too: the
    // lock would pin something it never looked at.
    if let Ok(parsed) = DistMetadata::parse(&text) {
        if parsed.name != *name || parsed.version != *version {
            return Err(SdistError::Inconsistent {
                name: name.clone(),
                version: version.clone(),
                found: format!("{} {}", parsed.name, parsed.version),
            });
        }
    }
    if let Some(cache) = source.cache {
        // Not caching only costs the next run a download (and a build).
        let _ = cache.write_metadata(&cache.metadata_path(&actual), &text);
    }
    (source.policy.report)(&report);
    Ok(text)
}

/// Why an sdist's bytes gave no metadata, before the release is named.
pub(crate) enum Failure {
    Sdist(SdistError),
    /// A build is needed and the policy forbids it.
    Forbidden,
    Build(BuildError),
}

/// The core metadata headers of the sdist `body` (named `filename`): its
/// `PKG-INFO` when PEP 643 makes it reliable, else what its build backend
/// prepares (with the backend's name), as the policy allows.
pub(crate) fn archive_metadata(
    source: &SdistSource,
    filename: &str,
    body: Vec<u8>,
) -> Result<(String, Option<String>), Failure> {
    let format = format_of(filename).ok_or_else(|| {
        Failure::Sdist(SdistError::UnsupportedFormat {
            filename: filename.to_string(),
        })
    })?;
    let pkg_info = pkg_info(format, &body, ArchiveLimits::DEFAULT)
        .map_err(|err| Failure::Sdist(err.into_sdist_error(filename)))?;
    let reliable = pkg_info
        .as_deref()
        .map(metadata::header_block)
        .filter(|text| {
            DistMetadata::parse(text).is_ok_and(|parsed| parsed.dependencies_are_static())
        });
    if let Some(text) = reliable {
        return Ok((text, None));
    }
    if !source.policy.allow_builds {
        return Err(Failure::Forbidden);
    }
    let prepared = build(source, filename, format, body)?;
    Ok((
        metadata::header_block(&prepared.metadata),
        Some(prepared.backend),
    ))
}

/// Unpack the sdist into a scratch folder and ask its backend.
fn build(
    source: &SdistSource,
    filename: &str,
    format: Format,
    body: Vec<u8>,
) -> Result<super::build::Prepared, Failure> {
    let scratch = tempfile::Builder::new()
        .prefix("reqlock-build-")
        .tempdir()
        .map_err(|err| Failure::Build(BuildError::Io(format!("no scratch folder: {err}"))))?;
    let unpacked = scratch.path().join("src");
    let root = unpack(format, body, &unpacked, ArchiveLimits::DEFAULT)
        .map_err(|err| Failure::Sdist(err.into_sdist_error(filename)))?;
    build_in(source, &root, scratch.path(), false).map_err(Failure::Build)
}

/// Ask the backend of the source tree at `root` for its metadata, with
/// `work` as scratch space; `editable` asks the PEP 660 hooks.
fn build_in(
    source: &SdistSource,
    root: &Path,
    work: &Path,
    editable: bool,
) -> Result<super::build::Prepared, BuildError> {
    Build {
        root,
        work,
        python: &source.policy.python,
        sources: PipSources {
            indexes: source.indexes,
            find_links: source.find_links,
            cert: source.policy.pip_cert.as_deref(),
        },
        editable,
        timeout: source.policy.timeout,
    }
    .prepare_metadata()
}

/// The metadata of a local project folder from its backend, built in place
/// as pip does (a backend may leave files there, `*.egg-info` say).
pub(crate) fn project_metadata(
    source: &SdistSource,
    root: &Path,
    editable: bool,
) -> Result<super::build::Prepared, BuildError> {
    let scratch = tempfile::Builder::new()
        .prefix("reqlock-build-")
        .tempdir()
        .map_err(|err| BuildError::Io(format!("no scratch folder: {err}")))?;
    build_in(source, root, scratch.path(), editable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (path, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            // `set_path` refuses `..`; a hostile archive is written raw.
            let name = &mut header.as_old_mut().name;
            name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_cksum();
            builder.append(&header, *data).expect("append");
        }
        builder
            .into_inner()
            .and_then(|encoder| encoder.finish())
            .expect("finish")
    }

    fn zip_file(entries: &[(&str, &[u8])]) -> Vec<u8> {
        crate::testing::zip::stored(entries)
    }

    const PKG_INFO: &[u8] = b"Metadata-Version: 2.2\nName: demo\nVersion: 1.0\n";

    #[test]
    fn reads_the_top_level_pkg_info_of_both_formats() {
        let entries: &[(&str, &[u8])] = &[
            ("demo-1.0/sub/PKG-INFO", b"Name: wrong\n"),
            ("demo-1.0/PKG-INFO", PKG_INFO),
        ];
        for (format, body) in [
            (Format::TarGz, tar_gz(entries)),
            (Format::Zip, zip_file(entries)),
        ] {
            let text = pkg_info(format, &body, ArchiveLimits::DEFAULT)
                .expect("readable")
                .expect("found");
            assert_eq!(text.as_bytes(), PKG_INFO, "{format:?}");
        }
        let none = tar_gz(&[("demo-1.0/setup.py", b"")]);
        assert_eq!(
            pkg_info(Format::TarGz, &none, ArchiveLimits::DEFAULT),
            Ok(None)
        );
    }

    #[test]
    fn unpacks_into_the_top_folder() {
        let entries: &[(&str, &[u8])] = &[
            ("demo-1.0/PKG-INFO", PKG_INFO),
            ("demo-1.0/src/demo/__init__.py", b"x = 1\n"),
        ];
        for (format, body) in [
            (Format::TarGz, tar_gz(entries)),
            (Format::Zip, zip_file(entries)),
        ] {
            let dir = tempfile::tempdir().expect("temp dir");
            let root = unpack(format, body, dir.path(), ArchiveLimits::DEFAULT).expect("unpacked");
            assert_eq!(root, dir.path().join("demo-1.0"), "{format:?}");
            let module = std::fs::read_to_string(root.join("src/demo/__init__.py"));
            assert_eq!(module.expect("written"), "x = 1\n");
        }
    }

    #[test]
    fn refuses_entries_that_leave_the_folder() {
        for hostile in ["demo-1.0/../../escaped.py", "/tmp/escaped.py", ".."] {
            let entries: &[(&str, &[u8])] = &[("demo-1.0/PKG-INFO", PKG_INFO), (hostile, b"")];
            for (format, body) in [
                (Format::TarGz, tar_gz(entries)),
                (Format::Zip, zip_file(entries)),
            ] {
                let dir = tempfile::tempdir().expect("temp dir");
                let into = dir.path().join("src");
                let result = unpack(format, body, &into, ArchiveLimits::DEFAULT);
                assert!(
                    matches!(&result, Err(Unpack::Unsafe(entry)) if entry.contains("..") || entry.starts_with('/')),
                    "{hostile} {format:?}: {result:?}"
                );
                assert!(!dir.path().join("escaped.py").exists());
            }
        }
    }

    #[test]
    fn refuses_links_that_leave_the_folder() {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        builder
            .append_link(&mut header, "demo-1.0/etc", "/etc")
            .expect("append");
        let body = builder
            .into_inner()
            .and_then(|encoder| encoder.finish())
            .expect("finish");
        let dir = tempfile::tempdir().expect("temp dir");
        let result = unpack(Format::TarGz, body, dir.path(), ArchiveLimits::DEFAULT);
        assert!(matches!(result, Err(Unpack::Unsafe(_))), "{result:?}");
    }

    /// Both formats of the same entries, to check each limit on each.
    fn both_formats(entries: &[(&str, &[u8])]) -> [(Format, Vec<u8>); 2] {
        [
            (Format::TarGz, tar_gz(entries)),
            (Format::Zip, zip_file(entries)),
        ]
    }

    #[test]
    fn an_archive_that_unpacks_past_the_limit_is_refused_before_it_is_written() {
        // 64 KiB of zeros: a few hundred bytes of gzip, as a bomb is.
        let zeros = vec![0u8; 64 * 1024];
        let entries: &[(&str, &[u8])] =
            &[("demo-1.0/PKG-INFO", PKG_INFO), ("demo-1.0/big", &zeros)];
        let limits = ArchiveLimits {
            unpacked: 32 * 1024,
            ..ArchiveLimits::DEFAULT
        };
        for (format, body) in both_formats(entries) {
            let dir = tempfile::tempdir().expect("temp dir");
            let result = unpack(format, body, dir.path(), limits);
            assert_eq!(result, Err(Unpack::TooLarge(32 * 1024)), "{format:?}");
            let written = std::fs::metadata(dir.path().join("demo-1.0/big")).map(|m| m.len());
            assert!(written.is_err(), "{format:?}: {written:?}");
        }
        // Reading PKG-INFO out of a tar stops at the bound too, even when
        // the bomb comes before it.
        let bomb_first = tar_gz(&[("demo-1.0/big", &zeros), ("demo-1.0/PKG-INFO", PKG_INFO)]);
        assert_eq!(
            pkg_info(Format::TarGz, &bomb_first, limits),
            Err(Unpack::TooLarge(32 * 1024))
        );
        assert_eq!(
            Unpack::TooLarge(4 << 30)
                .into_sdist_error("demo-1.0.tar.gz")
                .to_string(),
            "demo-1.0.tar.gz unpacks to more than 4 GiB, the most reqlock unpacks from one archive (a decompression bomb?)"
        );
    }

    #[test]
    fn an_archive_with_too_many_entries_is_refused() {
        let entries: &[(&str, &[u8])] = &[
            ("demo-1.0/PKG-INFO", PKG_INFO),
            ("demo-1.0/a.py", b""),
            ("demo-1.0/b.py", b""),
        ];
        let limits = ArchiveLimits {
            entries: 2,
            ..ArchiveLimits::DEFAULT
        };
        for (format, body) in both_formats(entries) {
            let dir = tempfile::tempdir().expect("temp dir");
            let result = unpack(format, body.clone(), dir.path(), limits);
            assert_eq!(result, Err(Unpack::TooManyEntries(2)), "{format:?}");
            let at_the_limit = ArchiveLimits {
                entries: 3,
                ..limits
            };
            assert!(
                unpack(format, body, dir.path(), at_the_limit).is_ok(),
                "{format:?}"
            );
        }
        assert_eq!(
            Unpack::TooManyEntries(100_000)
                .into_sdist_error("demo-1.0.zip")
                .to_string(),
            "demo-1.0.zip holds more than 100000 entries, the most reqlock unpacks from one archive"
        );
    }

    #[test]
    fn a_pkg_info_past_the_metadata_limit_is_refused() {
        let limits = ArchiveLimits {
            metadata: 10,
            ..ArchiveLimits::DEFAULT
        };
        for (format, body) in both_formats(&[("demo-1.0/PKG-INFO", PKG_INFO)]) {
            let result = pkg_info(format, &body, limits);
            assert!(
                matches!(&result, Err(Unpack::MetadataTooLarge { entry, limit: 10 }) if entry == "demo-1.0/PKG-INFO"),
                "{format:?}: {result:?}"
            );
        }
    }

    #[test]
    fn prefers_a_tar_gz_and_names_an_unsupported_sdist() {
        let file = |filename: &str| DistFile {
            url: Some(format!("http://127.0.0.1:9/{filename}")),
            ..DistFile::named(filename)
        };
        let files = [
            file("demo-1.0-py3-none-any.whl"),
            file("demo-1.0.tar.bz2"),
            file("demo-1.0.zip"),
            file("demo-1.0.tar.gz"),
        ];
        assert_eq!(
            preferred(&files).map(|f| f.filename.as_str()),
            Some("demo-1.0.tar.gz")
        );
        assert_eq!(
            preferred(&files[..2]).map(|f| f.filename.as_str()),
            Some("demo-1.0.tar.bz2")
        );
        assert_eq!(preferred(&files[..1]), None);
    }

    #[test]
    fn hashes_as_the_index_writes_them() {
        assert_eq!(
            sha256(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
