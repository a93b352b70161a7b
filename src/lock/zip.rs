//! A small zip reader that works over range reads: one suffix read for the
//! central directory, then one ranged read per entry (its local header and
//! data together). A wheel on a server
//! is read this way without downloading it (a server that ignores ranges
//! sends the whole file, which works too); a zip sdist already in memory
//! is read through the same code with the whole file as the first read.
//!
//! Only what wheels and sdists use: stored and deflated entries, no zip64.

use std::io::Read;

use crate::index::client::Bytes;

/// How much of the end of a file to ask for first: the central directory
/// of a wheel is almost always smaller.
const TAIL: u64 = 64 * 1024;

/// How long a local header's extra field is assumed to be at most, so that
/// one read gets an entry's header and data; a longer one costs a read.
const EXTRA_FIELD_ROOM: u64 = 512;

const END_OF_DIRECTORY: u32 = 0x0605_4b50;
const DIRECTORY_ENTRY: u32 = 0x0201_4b50;
const LOCAL_HEADER: u32 = 0x0403_4b50;

/// Answers an HTTP `Range` value (`bytes=-65536`, `bytes=10-99`) for the
/// file, or an error message.
pub type Fetch<'a> = dyn FnMut(&str) -> Result<Bytes, String> + 'a;

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
    /// Read the central directory of the file `fetch` serves.
    pub fn open(fetch: &mut Fetch) -> Result<Archive, String> {
        let tail = fetch(&tail_range())?;
        Archive::from_tail(tail, fetch)
    }

    /// Read the central directory of a file held whole in memory.
    pub fn from_memory(body: Vec<u8>) -> Result<Archive, String> {
        let total = body.len() as u64;
        Archive::from_tail(
            Bytes {
                start: 0,
                total,
                body,
            },
            &mut nothing_more,
        )
    }

    /// Read the central directory from the end of the file (an answer to
    /// [`tail_range`]), fetching more if the directory starts earlier.
    pub fn from_tail(tail: Bytes, fetch: &mut Fetch) -> Result<Archive, String> {
        let body = &tail.body;
        let end = (0..body.len().saturating_sub(21))
            .rev()
            .find(|&at| u32_at(body, at) == Some(END_OF_DIRECTORY))
            .ok_or("no zip end-of-directory record (not a zip, or a zip64 file)")?;
        let truncated = || "truncated end record".to_string();
        let directory_size = u32_at(body, end + 12).ok_or_else(truncated)?;
        let directory_start = u32_at(body, end + 16).ok_or_else(truncated)?;
        if directory_start == u32::MAX {
            return Err("zip64 files are not supported".into());
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
                return Err("truncated central directory".into());
            };
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

    /// The uncompressed contents of `entry`.
    pub fn read(&self, entry: &Entry, fetch: &mut Fetch) -> Result<Vec<u8>, String> {
        // The local header repeats the name and may carry another extra
        // field; its own lengths say where the data starts. Both are read
        // at once, with room for an extra field, as the file allows.
        let start = u64::from(entry.local_header);
        let compressed = u64::from(entry.compressed);
        let guess = 30 + entry.name.len() as u64 + EXTRA_FIELD_ROOM + compressed;
        let first = span(
            &self.have,
            start,
            guess.min(self.have.total.saturating_sub(start)),
            fetch,
        )?;
        if u32_at(&first, 0) != Some(LOCAL_HEADER) {
            return Err(format!("the local header of {} is missing", entry.name));
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
                flate2::read::DeflateDecoder::new(data.as_slice())
                    .read_to_end(&mut inflated)
                    .map_err(|err| format!("cannot inflate {}: {err}", entry.name))?;
                Ok(inflated)
            }
            other => Err(format!("{} is compressed with method {other}", entry.name)),
        }
    }
}
