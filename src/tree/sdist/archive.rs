//! Reading an sdist archive within its limits: its top-level `PKG-INFO`,
//! and unpacking it with every entry checked before it is written.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::*;
use crate::index::limits::ArchiveLimits;
use crate::index::zip::{self, ZipError};

/// Whether `path` (an archive entry or a link target) stays inside the
/// folder it is unpacked into.
pub(super) fn stays_inside(path: &Path) -> bool {
    !path.as_os_str().is_empty()
        && path
            .components()
            .all(|part| matches!(part, Component::Normal(_) | Component::CurDir))
}

/// Whether `path` is `<top folder>/PKG-INFO`.
pub(super) fn is_top_pkg_info(path: &Path) -> bool {
    let parts: Vec<Component> = path
        .components()
        .filter(|part| *part != Component::CurDir)
        .collect();
    matches!(parts.as_slice(), [Component::Normal(_), Component::Normal(file)] if *file == "PKG-INFO")
}

/// The text of the sdist's top-level `PKG-INFO`, if it has one, read
/// within `limits`.
pub(super) fn pkg_info(
    format: Format,
    body: &[u8],
    limits: ArchiveLimits,
) -> Result<Option<String>, Unpack> {
    match format {
        Format::TarGz => {
            let stream = Capped::new(flate2::read::GzDecoder::new(body), limits.unpacked);
            let exceeded = stream.exceeded_flag();
            let failed = |err: std::io::Error| stream_failure(&exceeded, limits, err);
            let mut archive = tar::Archive::new(stream);
            for (count, entry) in archive.entries().map_err(failed)?.enumerate() {
                if count == limits.entries {
                    return Err(Unpack::TooManyEntries(limits.entries));
                }
                let entry = entry.map_err(failed)?;
                let path = entry.path().map_err(failed)?.into_owned();
                if entry.header().entry_type().is_file() && is_top_pkg_info(&path) {
                    let mut bytes = Vec::new();
                    entry
                        .take(limits.metadata.saturating_add(1))
                        .read_to_end(&mut bytes)
                        .map_err(failed)?;
                    if bytes.len() as u64 > limits.metadata {
                        return Err(Unpack::MetadataTooLarge {
                            entry: path.display().to_string(),
                            limit: limits.metadata,
                        });
                    }
                    return Ok(Some(String::from_utf8_lossy(&bytes).into_owned()));
                }
            }
            Ok(None)
        }
        Format::Zip => {
            let archive = zip::Archive::from_memory(body.to_vec(), limits.entries)
                .map_err(|err| Unpack::from_zip(err, limits))?;
            match archive
                .entries
                .iter()
                .find(|entry| is_top_pkg_info(Path::new(&entry.name)))
            {
                Some(entry) => {
                    let bytes = archive
                        .read(entry, &mut zip::nothing_more, limits.metadata)
                        .map_err(|err| match err {
                            ZipError::EntryTooLarge { entry, limit } => {
                                Unpack::MetadataTooLarge { entry, limit }
                            }
                            err => Unpack::from_zip(err, limits),
                        })?;
                    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
                }
                None => Ok(None),
            }
        }
    }
}

/// Why an sdist could not be read or unpacked.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Unpack {
    /// An entry (or link target) that would land outside the folder.
    Unsafe(String),
    /// The entries add up to more than this many bytes.
    TooLarge(u64),
    /// More entries than this.
    TooManyEntries(usize),
    /// The metadata file `entry` inflates to more than `limit` bytes.
    MetadataTooLarge {
        entry: String,
        limit: u64,
    },
    Failed(String),
}

impl Unpack {
    /// A zip reader's error, the limits it was given known.
    pub(super) fn from_zip(err: ZipError, limits: ArchiveLimits) -> Unpack {
        match err {
            ZipError::Malformed(reason) => Unpack::Failed(reason),
            ZipError::TooManyEntries(limit) => Unpack::TooManyEntries(limit),
            // An entry larger than what is left of the total.
            ZipError::EntryTooLarge { .. } => Unpack::TooLarge(limits.unpacked),
        }
    }

    pub(super) fn into_sdist_error(self, filename: &str) -> SdistError {
        let filename = filename.to_string();
        match self {
            Unpack::Unsafe(entry) => SdistError::UnsafePath { filename, entry },
            Unpack::TooLarge(limit) => SdistError::UnpackedTooLarge { filename, limit },
            Unpack::TooManyEntries(limit) => SdistError::TooManyEntries { filename, limit },
            Unpack::MetadataTooLarge { entry, limit } => SdistError::MetadataTooLarge {
                filename,
                entry,
                limit,
            },
            Unpack::Failed(reason) => SdistError::Archive { filename, reason },
        }
    }
}

/// A reader that fails once more than `limit` bytes came out of `inner`:
/// the decompressed stream of a `.tar.gz`, bounded before a bomb fills the
/// disk or the memory. The tar reader wraps the error in its own, so the
/// flag says that the limit, not the data, stopped it.
pub(super) struct Capped<R> {
    pub(super) inner: R,
    pub(super) left: u64,
    pub(super) exceeded: std::rc::Rc<std::cell::Cell<bool>>,
}

impl<R: Read> Capped<R> {
    pub(super) fn new(inner: R, limit: u64) -> Capped<R> {
        Capped {
            inner,
            left: limit,
            exceeded: std::rc::Rc::default(),
        }
    }

    pub(super) fn exceeded_flag(&self) -> std::rc::Rc<std::cell::Cell<bool>> {
        std::rc::Rc::clone(&self.exceeded)
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        match self.left.checked_sub(read as u64) {
            Some(left) => {
                self.left = left;
                Ok(read)
            }
            None => {
                self.exceeded.set(true);
                Err(std::io::Error::other(
                    "the archive unpacks to more than allowed",
                ))
            }
        }
    }
}

/// An error reading a capped `.tar.gz` stream: the limit, when the flag
/// says it was reached, else what the data did wrong.
pub(super) fn stream_failure(
    exceeded: &std::cell::Cell<bool>,
    limits: ArchiveLimits,
    err: std::io::Error,
) -> Unpack {
    if exceeded.get() {
        Unpack::TooLarge(limits.unpacked)
    } else {
        Unpack::Failed(err.to_string())
    }
}

/// Unpack the sdist into `into` and return its root: the one top-level
/// folder sdists have (`name-version/`), else `into` itself. Every entry
/// is checked first: one with an absolute path or `..` is an error, not
/// something to skip, because such an sdist is broken or hostile; so is
/// one past `limits` (counted before it is written).
pub(super) fn unpack(
    format: Format,
    body: Vec<u8>,
    into: &Path,
    limits: ArchiveLimits,
) -> Result<PathBuf, Unpack> {
    let failed = |err: std::io::Error| Unpack::Failed(err.to_string());
    std::fs::create_dir_all(into).map_err(failed)?;
    let mut tops: Vec<PathBuf> = Vec::new();
    let mut note_top = |path: &Path| {
        if let Some(Component::Normal(first)) =
            path.components().find(|part| *part != Component::CurDir)
        {
            let first = PathBuf::from(first);
            if !tops.contains(&first) {
                tops.push(first);
            }
        }
    };
    match format {
        Format::TarGz => {
            // The decompressed stream bounds the total, headers and
            // skipped entries included: what is written is part of it.
            let stream = Capped::new(
                flate2::read::GzDecoder::new(body.as_slice()),
                limits.unpacked,
            );
            let exceeded = stream.exceeded_flag();
            let failed = |err: std::io::Error| stream_failure(&exceeded, limits, err);
            let mut archive = tar::Archive::new(stream);
            // What the headers announce, checked before an entry is
            // written; the stream's bound catches headers that lie.
            let mut announced: u64 = 0;
            for (count, entry) in archive.entries().map_err(failed)?.enumerate() {
                if count == limits.entries {
                    return Err(Unpack::TooManyEntries(limits.entries));
                }
                let mut entry = entry.map_err(failed)?;
                announced = announced.saturating_add(entry.size());
                if announced > limits.unpacked {
                    return Err(Unpack::TooLarge(limits.unpacked));
                }
                let kind = entry.header().entry_type();
                // Global pax headers and the like describe the archive, not
                // files in it.
                if !(kind.is_file() || kind.is_dir() || kind.is_symlink() || kind.is_hard_link()) {
                    continue;
                }
                let path = entry.path().map_err(failed)?.into_owned();
                if !stays_inside(&path) {
                    return Err(Unpack::Unsafe(path.display().to_string()));
                }
                if let Some(target) = entry.link_name().map_err(failed)? {
                    if !stays_inside(&target) {
                        return Err(Unpack::Unsafe(format!(
                            "{} -> {}",
                            path.display(),
                            target.display()
                        )));
                    }
                }
                note_top(&path);
                // `unpack_in` also refuses to write through a link that
                // leads outside `into`.
                if !entry.unpack_in(into).map_err(failed)? {
                    return Err(Unpack::Unsafe(path.display().to_string()));
                }
            }
        }
        Format::Zip => {
            let archive = zip::Archive::from_memory(body, limits.entries)
                .map_err(|err| Unpack::from_zip(err, limits))?;
            let mut left = limits.unpacked;
            for entry in &archive.entries {
                let path = Path::new(&entry.name);
                if !stays_inside(path) {
                    return Err(Unpack::Unsafe(entry.name.clone()));
                }
                note_top(path);
                let target = into.join(path);
                if entry.is_dir() {
                    std::fs::create_dir_all(&target).map_err(failed)?;
                    continue;
                }
                let bytes = archive
                    .read(entry, &mut zip::nothing_more, left)
                    .map_err(|err| Unpack::from_zip(err, limits))?;
                left -= bytes.len() as u64;
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent).map_err(failed)?;
                }
                std::fs::write(&target, bytes).map_err(failed)?;
            }
        }
    }
    Ok(match tops.as_slice() {
        [only] if into.join(only).is_dir() => into.join(only),
        _ => into.to_path_buf(),
    })
}
