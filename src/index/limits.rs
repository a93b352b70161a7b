//! How much one distribution file may cost to read. An sdist or a direct
//! reference's archive is downloaded whole into memory and unpacked to
//! disk; without bounds a hostile or broken file (a decompression bomb, a
//! zip whose directory claims millions of entries, a server that never
//! stops sending) would exhaust the memory or the disk before any check
//! could refuse it. Each bound is far above what real distributions need,
//! so only such files reach it.

/// The most an sdist download may be: the largest sdists published are a
/// few hundred MiB (vendored sources and data); more is not a source
/// distribution reqlock should hold in memory.
pub const MAX_SDIST_DOWNLOAD: u64 = 1 << 30;

/// The most any other whole distribution download may be (a direct
/// reference's archive, a wheel from a server that ignores range requests):
/// CUDA builds of a wheel exceed 2 GiB, and a direct reference is hashed
/// whole, so this bound is higher than the sdist one.
pub const MAX_ARCHIVE_DOWNLOAD: u64 = 4 << 30;

/// What a download may exceed the size the index gives by before it is cut
/// off: the index's `size` is exact, so anything beyond it fails the hash
/// anyway; the slack only spares a rounding index a spurious error.
pub const SIZE_SLACK: u64 = 1 << 20;

/// The most an sdist may unpack to: real ones stay under a few GiB even
/// with bundled data; a few KiB of gzip can claim far more than the disk.
pub const MAX_UNPACKED: u64 = 4 << 30;

/// The most entries an archive may hold: big source trees have tens of
/// thousands of files; a zip's directory can claim millions, each costing
/// memory to list and an inode to unpack.
pub const MAX_ENTRIES: usize = 100_000;

/// The most a single metadata file (`PKG-INFO`, `METADATA`) may inflate
/// to: core metadata is kilobytes, its long description a few MiB at most,
/// and the file is held in memory whole.
pub const MAX_METADATA: u64 = 64 << 20;

/// The most one project page (or find-links page) may be, counted after
/// HTTP decompression, while it streams in. The largest real simple pages
/// are tens of MiB (projects with thousands of releases, each with dozens
/// of wheels); a page is held in memory whole while it is parsed, and a
/// few KiB of gzip can inflate to gigabytes, so a bound well above the
/// largest real page stops a bomb before it grows the process.
pub const MAX_PAGE: u64 = 256 << 20;

/// The bounds on unpacking one archive, passed as a value so that tests can
/// make them small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Total bytes of the unpacked entries.
    pub unpacked: u64,
    /// Number of entries, folders and links included.
    pub entries: usize,
    /// Bytes of the one metadata file read out of the archive.
    pub metadata: u64,
}

impl ArchiveLimits {
    pub const DEFAULT: ArchiveLimits = ArchiveLimits {
        unpacked: MAX_UNPACKED,
        entries: MAX_ENTRIES,
        metadata: MAX_METADATA,
    };
}

/// The download bound for a file the index says is `size` bytes (when it
/// says), under `cap`.
pub fn download_limit(size: Option<u64>, cap: u64) -> u64 {
    size.map_or(cap, |size| size.saturating_add(SIZE_SLACK).min(cap))
}

/// `bytes` for a person: `1 GiB`, `64 MiB`, `512 bytes`.
pub fn human(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, unit) in UNITS {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{} {unit}", bytes / size);
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_size_lowers_the_download_limit() {
        assert_eq!(download_limit(None, MAX_SDIST_DOWNLOAD), MAX_SDIST_DOWNLOAD);
        assert_eq!(download_limit(Some(10), 1 << 30), 10 + SIZE_SLACK);
        assert_eq!(download_limit(Some(u64::MAX), 1 << 30), 1 << 30);
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human(MAX_SDIST_DOWNLOAD), "1 GiB");
        assert_eq!(human(MAX_METADATA), "64 MiB");
        assert_eq!(human(MAX_PAGE), "256 MiB");
        assert_eq!(human(1000), "1000 bytes");
    }
}
