//! A minimal private IDX reader for training, used until the shared one in `input::idx`
//! lands on main (only one IDX reader may remain then; this file is deleted at the switch).

use flate2::read::GzDecoder;
use std::io::Read;
use std::path::Path;

fn read_all(path: &Path) -> Result<Vec<u8>, String> {
    let raw = std::fs::read(path).map_err(|e| e.to_string())?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        GzDecoder::new(&raw[..]).read_to_end(&mut out).map_err(|e| format!("gzip: {e}"))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

fn be32(b: &[u8], at: usize) -> Result<usize, String> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize)
        .ok_or_else(|| "truncated IDX header".to_string())
}

/// (count, rows, cols, pixels) of an unsigned-byte rank-3 IDX file.
pub fn read_images(path: &Path) -> Result<(usize, usize, usize, Vec<u8>), String> {
    let b = read_all(path)?;
    if be32(&b, 0)? != 0x0803 {
        return Err("not an unsigned-byte rank-3 IDX file (magic 0x00000803)".into());
    }
    let (n, r, c) = (be32(&b, 4)?, be32(&b, 8)?, be32(&b, 12)?);
    let body = &b[16..];
    if body.len() != n * r * c {
        return Err(format!("expected {} pixel bytes, found {}", n * r * c, body.len()));
    }
    Ok((n, r, c, body.to_vec()))
}

/// Labels of an unsigned-byte rank-1 IDX file.
pub fn read_labels(path: &Path) -> Result<Vec<u8>, String> {
    let b = read_all(path)?;
    if be32(&b, 0)? != 0x0801 {
        return Err("not an unsigned-byte rank-1 IDX file (magic 0x00000801)".into());
    }
    let n = be32(&b, 4)?;
    if b.len() - 8 != n {
        return Err(format!("expected {n} labels, found {}", b.len() - 8));
    }
    Ok(b[8..].to_vec())
}
