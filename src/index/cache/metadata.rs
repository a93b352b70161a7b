//! Cached core metadata, kept with a checksum of what was verified: an
//! entry cut short (a dependency silently gone), damaged or written by an
//! older layout is a miss, never trusted. The first line is
//! `reqlock-metadata-v2 <crc32> <length>` of the rest. A CRC, not a
//! cryptographic digest: it guards against damage, and whoever can write
//! the cache could write a matching digest as well; what the entry says
//! is checked against the release it is read for on every read.

use std::path::Path;

use super::Cache;

const MAGIC: &str = "reqlock-metadata-v2 ";

/// `<crc32 hex> <length>` of `bytes`.
fn checksum(bytes: &[u8]) -> String {
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    format!("{:08x} {}", crc.sum(), bytes.len())
}

impl Cache {
    /// The metadata text kept at `path`, when the entry is whole.
    pub fn read_metadata(&self, path: &Path) -> Option<String> {
        let mut bytes = std::fs::read(path).ok()?;
        let newline = bytes.iter().position(|&byte| byte == b'\n')?;
        let head = std::str::from_utf8(&bytes[..newline]).ok()?;
        let sum = head.strip_prefix(MAGIC)?;
        if sum != checksum(&bytes[newline + 1..]) {
            return None;
        }
        bytes.drain(..=newline);
        String::from_utf8(bytes).ok()
    }

    /// Keep `text` (already verified) at `path`, with its digest.
    pub fn write_metadata(&self, path: &Path, text: &str) -> std::io::Result<()> {
        let mut entry = format!("{MAGIC}{}\n", checksum(text.as_bytes())).into_bytes();
        entry.extend_from_slice(text.as_bytes());
        self.write_atomically(path, &entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_or_foreign_entry_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::at(dir.path().to_path_buf());
        let path = dir.path().join("m");
        let text = "Metadata-Version: 2.1\nName: a\nVersion: 1.0\nRequires-Dist: b\n";
        cache.write_metadata(&path, text).unwrap();
        assert_eq!(cache.read_metadata(&path).as_deref(), Some(text));
        // Cut before its Requires-Dist.
        let whole = std::fs::read(&path).unwrap();
        std::fs::write(&path, &whole[..whole.len() - 12]).unwrap();
        assert_eq!(cache.read_metadata(&path), None);
        // An entry of the old layout: the text alone.
        std::fs::write(&path, text).unwrap();
        assert_eq!(cache.read_metadata(&path), None);
        std::fs::write(&path, b"\xff\xfe").unwrap();
        assert_eq!(cache.read_metadata(&path), None);
    }
}
