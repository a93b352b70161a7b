//! Zip archives for fixtures: wheels, zip sdists, hostile archives. The
//! same entries always give the same bytes, so hashes in snapshots stay.

/// How an entry is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Stored,
    Deflated,
}

/// A zip of `entries` (name, contents), each stored with `method`, with the
/// CRCs pip checks and Unix mode 0644.
pub fn zip(entries: &[(&str, &[u8])], method: Method) -> Vec<u8> {
    let mut body = Vec::new();
    let mut directory = Vec::new();
    for (name, data) in entries {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let packed = match method {
            Method::Stored => data.to_vec(),
            Method::Deflated => deflate(data),
        };
        let (method_id, crc, packed_size, size) = (
            match method {
                Method::Stored => 0u16,
                Method::Deflated => 8,
            },
            crc.sum(),
            packed.len() as u32,
            data.len() as u32,
        );
        let offset = body.len() as u32;
        let name_length = name.len() as u16;
        body.extend(0x0403_4b50u32.to_le_bytes());
        // version needed, flags (bit 11: UTF-8 names), method, time, date
        body.extend([20, 0, 0, 0]);
        body.extend(method_id.to_le_bytes());
        body.extend([0, 0, 0x21, 0]);
        body.extend(crc.to_le_bytes());
        body.extend(packed_size.to_le_bytes());
        body.extend(size.to_le_bytes());
        body.extend(name_length.to_le_bytes());
        body.extend([0, 0]);
        body.extend(name.as_bytes());
        body.extend(&packed);
        directory.extend(0x0201_4b50u32.to_le_bytes());
        directory.extend([20, 3, 20, 0, 0, 0]);
        directory.extend(method_id.to_le_bytes());
        directory.extend([0, 0, 0x21, 0]);
        directory.extend(crc.to_le_bytes());
        directory.extend(packed_size.to_le_bytes());
        directory.extend(size.to_le_bytes());
        directory.extend(name_length.to_le_bytes());
        directory.extend([0; 8]);
        directory.extend((0o100_644u32 << 16).to_le_bytes());
        directory.extend(offset.to_le_bytes());
        directory.extend(name.as_bytes());
    }
    let start = body.len() as u32;
    let count = entries.len() as u16;
    body.extend(&directory);
    body.extend(0x0605_4b50u32.to_le_bytes());
    body.extend([0; 4]);
    body.extend(count.to_le_bytes());
    body.extend(count.to_le_bytes());
    body.extend((directory.len() as u32).to_le_bytes());
    body.extend(start.to_le_bytes());
    body.extend([0, 0]);
    body
}

/// A stored zip of `entries`.
pub fn stored(entries: &[(&str, &[u8])]) -> Vec<u8> {
    zip(entries, Method::Stored)
}

fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}
