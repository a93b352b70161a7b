//! Where a lockfile goes. A regular file (or a new one) is replaced
//! atomically: written to a temporary file beside it and renamed over it,
//! keeping the old file's permissions. A symlink is followed, so the file
//! it points at is replaced and the link stays a link. Anything else that
//! already exists (a terminal, `/dev/stdout`, a FIFO, a device) is written
//! to directly, never renamed over and never read as "the old lockfile":
//! a rename there would replace the device node itself.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The most an existing lockfile may be to be read back (for preferences
/// or `--check`): the largest real lockfiles are a few MiB of hashes.
pub const MAX_LOCKFILE: u64 = 64 << 20;

/// What `-o PATH` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A regular file, or none yet: replaced atomically. The path is the
    /// symlinks' final target.
    File(PathBuf),
    /// An existing non-regular file (device, FIFO, socket): written to.
    Special(PathBuf),
}

impl Destination {
    pub fn of(path: &Path) -> io::Result<Destination> {
        // The kernel follows the links (`/dev/stdout` ends in a pipe or a
        // terminal that no path names).
        match fs::metadata(path) {
            Ok(metadata) if metadata.is_file() => Ok(Destination::File(fs::canonicalize(path)?)),
            Ok(metadata) if metadata.is_dir() => Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "it is a folder",
            )),
            Ok(_) => Ok(Destination::Special(path.to_path_buf())),
            // A new file, or a link to one: created where the links lead.
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                Ok(Destination::File(follow_links(path)?))
            }
            Err(err) => Err(err),
        }
    }

    /// The lockfile there now, for preferences and `--check`: `None` when
    /// there is none or it is not a regular file; an error when it cannot
    /// be read or exceeds [`MAX_LOCKFILE`].
    pub fn read_existing(&self) -> io::Result<Option<String>> {
        let Destination::File(path) = self else {
            return Ok(None);
        };
        let file = match File::open(path) {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err),
        };
        let mut bytes = Vec::new();
        file.take(MAX_LOCKFILE + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_LOCKFILE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "it is larger than {} MiB, which no lockfile is",
                    MAX_LOCKFILE >> 20
                ),
            ));
        }
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8"))
    }

    /// Write `contents` here.
    pub fn write(&self, contents: &str) -> io::Result<()> {
        match self {
            Destination::Special(path) => {
                let mut file = OpenOptions::new().write(true).open(path)?;
                file.write_all(contents.as_bytes())?;
                file.flush()
            }
            Destination::File(path) => replace(path, contents),
        }
    }
}

/// Where the symlinks from `path` lead (relative links from their
/// folder), up to a bound, so a loop is an error rather than a hang: a
/// dangling link gives the file it points at, which is then created.
fn follow_links(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                let link = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            Ok(_) => return Ok(current),
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(current),
            Err(err) => return Err(err),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// Replace the regular file `path` atomically, keeping its permissions.
fn replace(path: &Path, contents: &str) -> io::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let temporary = directory.join(format!(
        ".{}.{}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let lockfile = file_name.to_string_lossy();
    crate::index::cache::sweep::sweep(directory, &|name| {
        crate::index::cache::sweep::lockfile_temporary(&lockfile, name)
    });
    let permissions = fs::metadata(path)
        .ok()
        .map(|metadata| metadata.permissions());
    let written = File::create(&temporary).and_then(|mut file| {
        file.write_all(contents.as_bytes())?;
        if let Some(permissions) = permissions {
            file.set_permissions(permissions)?;
        }
        file.sync_all()
    });
    match written.and_then(|()| fs::rename(&temporary, path)) {
        Ok(()) => Ok(()),
        Err(err) => {
            // The temporary file is ours; a failure to remove it changes
            // nothing about the error to report.
            let _ = fs::remove_file(&temporary);
            Err(err)
        }
    }
}

/// What `--check` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    UpToDate,
    Missing,
    /// A unified diff from the file on disk to the would-be lockfile.
    Differs(String),
}

/// Compare the would-be lockfile with the one at `destination` (`shown`
/// names it in the diff). Only a regular file can be checked.
pub fn check(destination: &Destination, shown: &Path, expected: &str) -> io::Result<CheckOutcome> {
    if let Destination::Special(_) = destination {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is not a regular file, so there is no lockfile to compare with",
        ));
    }
    let Some(current) = destination.read_existing()? else {
        return Ok(CheckOutcome::Missing);
    };
    if current == expected {
        return Ok(CheckOutcome::UpToDate);
    }
    let shown = shown.display().to_string();
    let diff = similar::TextDiff::from_lines(current.as_str(), expected)
        .unified_diff()
        .context_radius(3)
        .header(&shown, &format!("{shown} (regenerated)"))
        .to_string();
    Ok(CheckOutcome::Differs(diff))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_symlink_is_followed_and_stays_a_link_and_the_mode_stays() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.lock");
        fs::write(&real, "old\n").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.path().join("link.lock");
        std::os::unix::fs::symlink("real.lock", &link).unwrap();
        let destination = Destination::of(&link).unwrap();
        assert_eq!(destination, Destination::File(real.clone()));
        assert_eq!(
            destination.read_existing().unwrap().as_deref(),
            Some("old\n")
        );
        destination.write("new\n").unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "new\n");
        assert_eq!(
            fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn devices_are_written_to_and_never_read_back() {
        let destination = Destination::of(Path::new("/dev/null")).unwrap();
        assert_eq!(
            destination,
            Destination::Special(PathBuf::from("/dev/null"))
        );
        assert_eq!(destination.read_existing().unwrap(), None);
        destination.write("x\n").unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device());
        assert!(check(&destination, Path::new("/dev/null"), "x\n").is_err());
    }

    #[test]
    fn writes_atomically_and_checks() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("requirements.txt");
        let destination = Destination::of(&path).unwrap();
        assert_eq!(
            check(&destination, &path, "a==1\n").unwrap(),
            CheckOutcome::Missing
        );
        destination.write("a==1\n").unwrap();
        destination.write("a==1\nb==2\n").unwrap();
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file is left"
        );
        assert_eq!(
            check(&destination, &path, "a==1\nb==2\n").unwrap(),
            CheckOutcome::UpToDate
        );
        let CheckOutcome::Differs(diff) = check(&destination, &path, "a==1\nb==3\n").unwrap()
        else {
            panic!("the files differ");
        };
        assert!(diff.contains("-b==2\n+b==3\n"), "{diff}");
    }

    #[test]
    fn a_link_loop_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        std::os::unix::fs::symlink("b", &a).unwrap();
        std::os::unix::fs::symlink("a", dir.path().join("b")).unwrap();
        assert!(Destination::of(&a).is_err());
    }
}
