//! A small zip reader that works over range reads: one suffix read for the
//! central directory, then one ranged read per entry (its local header and
//! data together). A wheel on a server
//! is read this way without downloading it (a server that ignores ranges
//! sends the whole file, which works too); a zip sdist already in memory
//! is read through the same code with the whole file as the first read.
//!
//! Only what wheels and sdists use: stored and deflated entries, no zip64.
//! The caller bounds how many entries a directory may list and how much
//! one entry may inflate to, so that a zip bomb costs nothing.

use std::io::Read;

use super::limits::human;
use crate::index::client::Bytes;

/// How much of the end of a file to ask for first: the central directory
/// of a wheel is almost always smaller.
const TAIL: u64 = 64 * 1024;

/// How long a local header's extra field is assumed to be at most, so that
/// one read gets an entry's header and data; a longer one costs a read.
const EXTRA_FIELD_ROOM: u64 = 512;

/// The largest central directory read: a hundred thousand entries with
/// long names fit, and a file that claims more is not fetched to find out.
const MAX_DIRECTORY: u64 = 64 * 1024 * 1024;

const END_OF_DIRECTORY: u32 = 0x0605_4b50;
const DIRECTORY_ENTRY: u32 = 0x0201_4b50;
const LOCAL_HEADER: u32 = 0x0403_4b50;

/// Answers an HTTP `Range` value (`bytes=-65536`, `bytes=10-99`) for the
/// file, or an error message.
pub type Fetch<'a> = dyn FnMut(&str) -> Result<Bytes, String> + 'a;

/// Why a zip could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZipError {
    #[error("{0}")]
    Malformed(String),
    #[error("its directory lists more than {0} entries")]
    TooManyEntries(usize),
    #[error("{entry} inflates to more than {}", human(*.limit))]
    EntryTooLarge { entry: String, limit: u64 },
}

impl From<String> for ZipError {
    fn from(reason: String) -> ZipError {
        ZipError::Malformed(reason)
    }
}

/// One entry of the central directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The path inside the archive, `/`-separated; folders end with `/`.
    pub name: String,
    method: u16,
    compressed: u32,
    local_header: u32,
}

impl Entry {
    pub fn is_dir(&self) -> bool {
        self.name.ends_with('/')
    }
}

/// A zip file whose central directory has been read.
pub struct Archive {
    /// The part of the file read so far (at least the directory).
    have: Bytes,
    pub entries: Vec<Entry>,
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The bytes `start..start + length` of the file, from `have` when it holds
/// them, else from `fetch`.
fn span(have: &Bytes, start: u64, length: u64, fetch: &mut Fetch) -> Result<Vec<u8>, String> {
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

/// The `Range` value [`Archive::from_tail`] wants first.
pub fn tail_range() -> String {
    format!("bytes=-{TAIL}")
}

/// For a file held whole in memory: it has nothing more to give.
pub fn nothing_more(_: &str) -> Result<Bytes, String> {
    Err("the archive is truncated".into())
}

impl Archive {
    /// Read the central directory of a file held whole in memory; more
    /// than `max_entries` entries is an error.
    pub fn from_memory(body: Vec<u8>, max_entries: usize) -> Result<Archive, ZipError> {
        let total = body.len() as u64;
        Archive::from_tail(
            Bytes {
                start: 0,
                total,
                body,
            },
            &mut nothing_more,
            max_entries,
        )
    }

    /// Read the central directory from the end of the file (an answer to
    /// [`tail_range`]), fetching more if the directory starts earlier;
    /// more than `max_entries` entries is an error.
    pub fn from_tail(
        tail: Bytes,
        fetch: &mut Fetch,
        max_entries: usize,
    ) -> Result<Archive, ZipError> {
        let body = &tail.body;
        let end = (0..body.len().saturating_sub(21))
            .rev()
            .find(|&at| u32_at(body, at) == Some(END_OF_DIRECTORY))
            .ok_or_else(|| {
                ZipError::Malformed(
                    "no zip end-of-directory record (not a zip, or a zip64 file)".into(),
                )
            })?;
        let truncated = || "truncated end record".to_string();
        let directory_size = u32_at(body, end + 12).ok_or_else(truncated)?;
        let directory_start = u32_at(body, end + 16).ok_or_else(truncated)?;
        if directory_start == u32::MAX {
            return Err(ZipError::Malformed("zip64 files are not supported".into()));
        }
        if u64::from(directory_size) > MAX_DIRECTORY {
            return Err(ZipError::Malformed(format!(
                "its directory claims {}, more than the {} reqlock reads",
                human(u64::from(directory_size)),
                human(MAX_DIRECTORY)
            )));
        }
        let directory = span(
            &tail,
            u64::from(directory_start),
            u64::from(directory_size),
            fetch,
        )?;
        let mut entries = Vec::new();
        let mut at = 0;
        while u32_at(&directory, at) == Some(DIRECTORY_ENTRY) {
            let field = |offset: usize| u16_at(&directory, at + offset).map(usize::from);
            let (Some(method), Some(name_length), Some(extra_length), Some(comment_length)) =
                (u16_at(&directory, at + 10), field(28), field(30), field(32))
            else {
                break;
            };
            let (Some(compressed), Some(local_header), Some(name)) = (
                u32_at(&directory, at + 20),
                u32_at(&directory, at + 42),
                directory.get(at + 46..at + 46 + name_length),
            ) else {
                return Err(ZipError::Malformed("truncated central directory".into()));
            };
            if entries.len() == max_entries {
                return Err(ZipError::TooManyEntries(max_entries));
            }
            entries.push(Entry {
                name: String::from_utf8_lossy(name).into_owned(),
                method,
                compressed,
                local_header,
            });
            at += 46 + name_length + extra_length + comment_length;
        }
        Ok(Archive {
            have: tail,
            entries,
        })
    }

    /// The uncompressed contents of `entry`, at most `limit` bytes of them
    /// (more is an error, found without inflating more than that).
    pub fn read(&self, entry: &Entry, fetch: &mut Fetch, limit: u64) -> Result<Vec<u8>, ZipError> {
        let too_large = || ZipError::EntryTooLarge {
            entry: entry.name.clone(),
            limit,
        };
        let start = u64::from(entry.local_header);
        let compressed = u64::from(entry.compressed);
        // A stored entry is as large as its data, and deflate never grows
        // data by more than a few bytes per 16 KiB block: an entry whose
        // data is larger than that inflates past the limit, and is not
        // fetched to find out.
        let most_data = match entry.method {
            0 => limit,
            _ => limit.saturating_add(limit / 1000).saturating_add(1024),
        };
        if compressed > most_data {
            return Err(too_large());
        }
        // The local header repeats the name and may carry another extra
        // field; its own lengths say where the data starts. Both are read
        // at once, with room for an extra field, as the file allows.
        let guess = 30 + entry.name.len() as u64 + EXTRA_FIELD_ROOM + compressed;
        let first = span(
            &self.have,
            start,
            guess.min(self.have.total.saturating_sub(start)),
            fetch,
        )?;
        if u32_at(&first, 0) != Some(LOCAL_HEADER) {
            return Err(ZipError::Malformed(format!(
                "the local header of {} is missing",
                entry.name
            )));
        }
        let skip = 30
            + u64::from(u16_at(&first, 26).unwrap_or(0))
            + u64::from(u16_at(&first, 28).unwrap_or(0));
        let data = match usize::try_from(skip + compressed) {
            Ok(end) if end <= first.len() => first[skip as usize..end].to_vec(),
            _ => span(&self.have, start + skip, compressed, fetch)?,
        };
        match entry.method {
            0 => Ok(data),
            8 => {
                let mut inflated = Vec::new();
                // One byte past the limit tells a bomb from an entry of
                // exactly `limit` bytes.
                flate2::read::DeflateDecoder::new(data.as_slice())
                    .take(limit.saturating_add(1))
                    .read_to_end(&mut inflated)
                    .map_err(|err| format!("cannot inflate {}: {err}", entry.name))?;
                if inflated.len() as u64 > limit {
                    return Err(too_large());
                }
                Ok(inflated)
            }
            other => Err(ZipError::Malformed(format!(
                "{} is compressed with method {other}",
                entry.name
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zip of one deflated entry `name` holding `data`.
    fn deflated(name: &str, data: &[u8]) -> Vec<u8> {
        crate::testing::zip::zip(&[(name, data)], crate::testing::zip::Method::Deflated)
    }

    #[test]
    fn a_deflated_entry_is_inflated_no_further_than_the_limit() {
        let zeros = vec![0u8; 64 * 1024];
        let archive = Archive::from_memory(deflated("bomb", &zeros), 10).expect("a zip");
        let entry = &archive.entries[0];
        let whole = archive.read(entry, &mut nothing_more, 64 * 1024);
        assert_eq!(whole.map(|bytes| bytes.len()), Ok(64 * 1024));
        assert_eq!(
            archive.read(entry, &mut nothing_more, 1000),
            Err(ZipError::EntryTooLarge {
                entry: "bomb".into(),
                limit: 1000
            })
        );
    }

    #[test]
    fn sizes_an_archive_claims_past_the_limits_are_not_fetched() {
        let mut fetches = 0;
        let mut counting = |_: &str| -> Result<Bytes, String> {
            fetches += 1;
            Err("not fetched".into())
        };
        // An entry whose data alone is past what the limit can inflate from.
        let archive = Archive::from_memory(deflated("big", &[7u8; 4096]), 10).expect("a zip");
        let mut entry = archive.entries[0].clone();
        entry.compressed = u32::MAX;
        assert_eq!(
            archive.read(&entry, &mut counting, 1000),
            Err(ZipError::EntryTooLarge {
                entry: "big".into(),
                limit: 1000
            })
        );
        // A directory that claims more than reqlock reads.
        let mut body = deflated("one", b"1");
        let end = body.len() - 22;
        body[end + 12..end + 16].copy_from_slice(&u32::MAX.to_le_bytes());
        let total = body.len() as u64;
        let tail = Bytes {
            start: 0,
            total,
            body,
        };
        assert!(matches!(
            Archive::from_tail(tail, &mut counting, 10),
            Err(ZipError::Malformed(reason)) if reason.contains("directory claims")
        ));
        assert_eq!(fetches, 0);
    }

    #[test]
    fn a_directory_past_the_entry_limit_is_refused() {
        let body = deflated("one", b"1");
        assert!(Archive::from_memory(body.clone(), 1).is_ok());
        assert_eq!(
            Archive::from_memory(body, 0).map(|archive| archive.entries.len()),
            Err(ZipError::TooManyEntries(0))
        );
    }
}
