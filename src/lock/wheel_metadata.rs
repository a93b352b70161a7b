//! `METADATA` read out of a wheel on a server without downloading it: one
//! suffix range read for the zip's central directory, one ranged read for
//! the entry (a server that ignores ranges sends the whole wheel, which
//! works too).

use std::io::Read;

use crate::index::client::Bytes;

/// How much of the end of a wheel to ask for first: the central directory
/// of a wheel is almost always smaller.
const TAIL: u64 = 64 * 1024;

const END_OF_DIRECTORY: u32 = 0x0605_4b50;
const DIRECTORY_ENTRY: u32 = 0x0201_4b50;
const LOCAL_HEADER: u32 = 0x0403_4b50;

/// Why the metadata could not be read out of the wheel.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read METADATA from {wheel}: {reason}")]
pub struct WheelMetadataError {
    pub wheel: String,
    pub reason: String,
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The bytes `start..start + length` of the file, from `have` when it holds
/// them, else from `fetch` (which gets an HTTP `Range` value).
fn span(
    have: &Bytes,
    start: u64,
    length: u64,
    fetch: &mut dyn FnMut(&str) -> Result<Bytes, String>,
) -> Result<Vec<u8>, String> {
    let end = start + length;
    if start >= have.start && end <= have.start + have.body.len() as u64 {
        let from = usize::try_from(start - have.start).map_err(|err| err.to_string())?;
        let to = usize::try_from(end - have.start).map_err(|err| err.to_string())?;
        return Ok(have.body[from..to].to_vec());
    }
    let fetched = fetch(&format!("bytes={start}-{}", end.saturating_sub(1)))?;
    span(&fetched, start, length, &mut |_| {
        Err("the server did not send the range it was asked for".into())
    })
}

/// The text of `<name>-<version>.dist-info/METADATA` in the wheel `wheel`;
/// `fetch` answers HTTP `Range` values for the wheel's URL.
pub fn read(
    wheel: &str,
    fetch: &mut dyn FnMut(&str) -> Result<Bytes, String>,
) -> Result<String, WheelMetadataError> {
    let failed = |reason: String| WheelMetadataError {
        wheel: wheel.to_string(),
        reason,
    };
    let tail = fetch(&format!("bytes=-{TAIL}")).map_err(failed)?;
    let body = &tail.body;
    let end = (0..body.len().saturating_sub(21))
        .rev()
        .find(|&at| u32_at(body, at) == Some(END_OF_DIRECTORY))
        .ok_or_else(|| {
            failed("no zip end-of-directory record (not a zip, or a zip64 wheel)".into())
        })?;
    let directory_size =
        u32_at(body, end + 12).ok_or_else(|| failed("truncated end record".into()))?;
    let directory_start =
        u32_at(body, end + 16).ok_or_else(|| failed("truncated end record".into()))?;
    if directory_start == u32::MAX {
        return Err(failed("zip64 wheels are not supported".into()));
    }
    let directory = span(
        &tail,
        u64::from(directory_start),
        u64::from(directory_size),
        fetch,
    )
    .map_err(failed)?;
    let mut at = 0;
    while u32_at(&directory, at) == Some(DIRECTORY_ENTRY) {
        let field = |offset: usize| u16_at(&directory, at + offset).map(usize::from);
        let (Some(method), Some(name_length), Some(extra_length), Some(comment_length)) =
            (field(10), field(28), field(30), field(32))
        else {
            break;
        };
        let compressed = u32_at(&directory, at + 20).unwrap_or(0);
        let local = u32_at(&directory, at + 42).unwrap_or(0);
        let name = directory
            .get(at + 46..at + 46 + name_length)
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let is_metadata = name
            .strip_suffix("/METADATA")
            .is_some_and(|dir| dir.ends_with(".dist-info") && !dir.contains('/'));
        if is_metadata {
            // The local header repeats the name and may carry another extra
            // field; its own lengths say where the data starts.
            let header = span(&tail, u64::from(local), 30, fetch).map_err(failed)?;
            if u32_at(&header, 0) != Some(LOCAL_HEADER) {
                return Err(failed(
                    "the METADATA entry's local header is missing".into(),
                ));
            }
            let skip = 30
                + u64::from(u16_at(&header, 26).unwrap_or(0))
                + u64::from(u16_at(&header, 28).unwrap_or(0));
            let data = span(&tail, u64::from(local) + skip, u64::from(compressed), fetch)
                .map_err(failed)?;
            let text = match method {
                0 => data,
                8 => {
                    let mut inflated = Vec::new();
                    flate2::read::DeflateDecoder::new(data.as_slice())
                        .read_to_end(&mut inflated)
                        .map_err(|err| failed(format!("cannot inflate METADATA: {err}")))?;
                    inflated
                }
                other => {
                    return Err(failed(format!(
                        "METADATA is compressed with method {other}"
                    )))
                }
            };
            return Ok(String::from_utf8_lossy(&text).into_owned());
        }
        at += 46 + name_length + extra_length + comment_length;
    }
    Err(failed("the wheel has no .dist-info/METADATA".into()))
}
