//! `METADATA` read out of a wheel on a server without downloading it, with
//! the range-reading [`zip`](super::zip) reader.

use super::cache::Cache;
use super::client::{Bytes, FetchError, IndexClient};
use super::limits::{MAX_ARCHIVE_DOWNLOAD, MAX_ENTRIES, MAX_METADATA};
use super::metadata::{check_identity, Inconsistent};
use super::page::DistFile;
use super::zip::{self, Archive, Fetch};
use crate::requirements::canonical_name;
use pep508_rs::pep440_rs::Version;
use sha2::{Digest, Sha256};

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Why the metadata could not be read out of the wheel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read METADATA from {wheel}: {reason}")]
pub struct WheelMetadataError {
    pub wheel: String,
    pub reason: String,
}

/// The text of `<name>-<version>.dist-info/METADATA` in the wheel `wheel`;
/// `fetch` answers HTTP `Range` values for the wheel's URL.
pub fn read(wheel: &str, fetch: &mut Fetch) -> Result<String, WheelMetadataError> {
    let tail = fetch(&zip::tail_range()).map_err(|reason| WheelMetadataError {
        wheel: wheel.to_string(),
        reason,
    })?;
    read_from_tail(wheel, tail, fetch)
}

/// [`read`], given the answer to [`zip::tail_range`] already.
pub fn read_from_tail(
    wheel: &str,
    tail: Bytes,
    fetch: &mut Fetch,
) -> Result<String, WheelMetadataError> {
    let failed = |reason: String| WheelMetadataError {
        wheel: wheel.to_string(),
        reason,
    };
    let archive =
        Archive::from_tail(tail, fetch, MAX_ENTRIES).map_err(|err| failed(err.to_string()))?;
    let entry = archive
        .entries
        .iter()
        .find(|entry| {
            entry
                .name
                .strip_suffix("/METADATA")
                .is_some_and(|dir| dir.ends_with(".dist-info") && !dir.contains('/'))
        })
        .ok_or_else(|| failed("the wheel has no .dist-info/METADATA".into()))?;
    let bytes = archive
        .read(entry, fetch, MAX_METADATA)
        .map_err(|err| failed(err.to_string()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The most a wheel's tail may be when it is asked for before knowing
/// whether it is needed: a range read sends 64 KiB; a server that ignores
/// ranges sends the whole wheel, which past this is asked for again only
/// if the `.metadata` file turns out to be missing.
const SPECULATIVE_TAIL: u64 = 8 * 1024 * 1024;

/// Why a wheel's core metadata could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataFetchError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Wheel(#[from] WheelMetadataError),
    /// The `.metadata` file is not the one the index's page advertises
    /// (pip refuses it too).
    #[error("the metadata file {url} has sha256 {found}, but the index gives {expected}")]
    HashMismatch {
        url: String,
        expected: String,
        found: String,
    },
    /// The metadata is another release's (pip: "inconsistent Name").
    #[error("{filename}: {source}")]
    Inconsistent {
        filename: String,
        source: Inconsistent,
    },
}

/// The project (normalized) and version a wheel's file name gives.
fn identity(filename: &str) -> Option<(String, Version)> {
    let project = canonical_name(filename.split('-').next()?);
    let version = super::filename::parse(filename, &project)?.version;
    Some((project, version))
}

/// Check that `text` is the metadata of the wheel `filename`.
fn check(filename: &str, text: &str) -> Result<(), MetadataFetchError> {
    let Some((project, version)) = identity(filename) else {
        // A name that is not a wheel's: nothing to compare with.
        return Ok(());
    };
    check_identity(text, &project, &version).map_err(|source| MetadataFetchError::Inconsistent {
        filename: filename.to_string(),
        source,
    })
}

/// The cached core metadata of the wheel `file`, when the entry is whole
/// and is that wheel's (anything else is a miss, and is fetched again).
pub fn cached_metadata(cache: Option<&Cache>, file: &DistFile) -> Option<String> {
    let (cache, url, hash) = (cache?, file.url.as_deref()?, file.sha256()?);
    let text = cache.read_metadata(&cache.wheel_metadata_path(url, &hash))?;
    check(&file.filename, &text).ok()?;
    Some(text)
}

/// The core metadata of the wheel `file`, as [`cached_metadata`] has it,
/// else its `.metadata` file (checked against the sha256 the page gives
/// for it), else `METADATA` read out of the wheel with range requests.
/// Either must name the wheel's own project and version. What is read is
/// cached with its digest. Offline, only the cache answers.
pub fn read_metadata(
    client: &IndexClient,
    cache: Option<&Cache>,
    file: &DistFile,
) -> Result<String, MetadataFetchError> {
    if let Some(text) = cached_metadata(cache, file) {
        return Ok(text);
    }
    let filename = file.filename.as_str();
    let Some(url) = file.url.as_deref() else {
        return Err(WheelMetadataError {
            wheel: filename.to_string(),
            reason: "the index gives no URL for it".to_string(),
        }
        .into());
    };
    let cached_at = file
        .sha256()
        .zip(cache)
        .map(|(hash, cache)| cache.wheel_metadata_path(url, &hash));
    let mut fetch = |range: &str| -> Result<Bytes, String> {
        client
            // A server that ignores the range sends the whole wheel.
            .fetch_bytes(url, Some(range), MAX_ARCHIVE_DOWNLOAD)
            .map_err(|err| err.to_string())?
            .ok_or_else(|| format!("{url} answered 404"))
    };
    // Most wheels on the reachable index have no `.metadata` file, and
    // none says whether it has: the end of the wheel, where its directory
    // is, is asked for at the same time rather than after a 404.
    // A server that ignores ranges sends the whole wheel: that guess is
    // bounded, so that it wastes little when the `.metadata` file exists.
    let (from_index, tail) = std::thread::scope(|scope| {
        let tail =
            scope.spawn(|| client.fetch_bytes(url, Some(&zip::tail_range()), SPECULATIVE_TAIL));
        let from_index = client.fetch_bytes(&format!("{url}.metadata"), None, MAX_METADATA);
        (from_index, tail.join())
    });
    // The `.metadata` file was never advertised, so a server that refuses
    // it (some answer 403 for what they do not have) has not said more
    // than a 404 would.
    let refused = |err: &FetchError| match err {
        FetchError::Denied { .. } => true,
        FetchError::Status { status, .. } => (400..500).contains(status),
        _ => false,
    };
    let bytes = match from_index {
        Ok(Some(found)) => {
            if let Some(expected) = &file.metadata_sha256 {
                let found_hash = hex_sha256(&found.body);
                if !found_hash.eq_ignore_ascii_case(expected) {
                    return Err(MetadataFetchError::HashMismatch {
                        url: format!("{url}.metadata"),
                        expected: expected.clone(),
                        found: found_hash,
                    });
                }
            }
            found.body
        }
        Err(err) if !refused(&err) => return Err(err.into()),
        // No `.metadata` file: read METADATA out of the wheel itself.
        Ok(None) | Err(_) => {
            let tail = match tail {
                Ok(Ok(Some(tail))) => Ok(tail),
                // Past the guess's bound (the server ignored the range):
                // again, with the bound of a whole wheel.
                Ok(Err(FetchError::TooLarge { .. })) => fetch(&zip::tail_range()),
                Ok(Ok(None)) => Err(format!("{url} answered 404")),
                Ok(Err(err)) => Err(err.to_string()),
                Err(_) => Err("the range read stopped unexpectedly".into()),
            }
            .map_err(|reason| WheelMetadataError {
                wheel: filename.to_string(),
                reason,
            })?;
            read_from_tail(filename, tail, &mut fetch)?.into_bytes()
        }
    };
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    // Only the headers matter; the description after the first empty line
    // is often most of the file.
    if let Some(end) = text.find("\n\n").or_else(|| text.find("\r\n\r\n")) {
        text.truncate(end + 1);
    }
    check(filename, &text)?;
    if let (Some(path), Some(cache)) = (&cached_at, cache) {
        // Not caching only costs the next run a request.
        let _ = cache.write_metadata(path, &text);
    }
    Ok(text)
}
