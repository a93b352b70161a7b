//! `METADATA` read out of a wheel on a server without downloading it, with
//! the range-reading [`zip`](super::zip) reader.

use super::limits::{MAX_ENTRIES, MAX_METADATA};
use super::zip::{self, Archive, Fetch};
use crate::index::client::Bytes;

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
