//! IDX files (the MNIST container): image sets (magic 0x00000803, u8, N x H x W) and label
//! sets (magic 0x00000801, u8, N), plain or gzip-compressed.
//!
//! This is the one IDX reader of the project: the CLI reads inputs and labels with it and
//! training reuses it. Gzip is detected by its magic bytes, never by the file extension.
//! Every malformed file (short header, wrong magic, zero or overflowing dimensions, too few
//! or too many data bytes) is an [`InputError`], never a panic.

use std::io::Read;
use std::path::Path;

use super::{Image, InputError};

/// Magic number of an IDX file of unsigned bytes with three dimensions (images).
pub const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with one dimension (labels).
pub const IDX_LABELS_MAGIC: u32 = 0x0000_0801;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether `bytes` start like an IDX file of unsigned bytes (two zero bytes, type 0x08).
pub fn looks_like_idx(bytes: &[u8]) -> bool {
    bytes.len() >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0x08
}

/// Read a file whole, inflating it first when it starts with the gzip magic.
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>, InputError> {
    let raw = std::fs::read(path).map_err(|e| InputError::io(path, e))?;
    if raw.starts_with(&GZIP_MAGIC) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| InputError::Malformed {
                path: path.to_path_buf(),
                message: format!("gzip data is corrupt or truncated: {e}"),
            })?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Read an IDX image set: one single-channel [`Image`] per item, pixels 0..=255.
pub fn read_idx_images(path: &Path) -> Result<Vec<Image>, InputError> {
    let bytes = read_maybe_gzip(path)?;
    parse_idx_images(&bytes, path)
}

/// Read an IDX label set: one byte per item.
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>, InputError> {
    let bytes = read_maybe_gzip(path)?;
    let (dims, data) = parse_idx(&bytes, path, IDX_LABELS_MAGIC, "labels")?;
    debug_assert_eq!(dims.len(), 1);
    Ok(data.to_vec())
}

/// Decode IDX image-set bytes (already inflated); `path` only names the file in errors.
pub fn parse_idx_images(bytes: &[u8], path: &Path) -> Result<Vec<Image>, InputError> {
    let (dims, data) = parse_idx(bytes, path, IDX_IMAGES_MAGIC, "images")?;
    let (h, w) = (dims[1], dims[2]);
    Ok(data
        .chunks_exact(h * w)
        .map(|c| Image {
            height: h,
            width: w,
            channels: 1,
            pixels: c.iter().map(|&p| u16::from(p)).collect(),
        })
        .collect())
}

/// Check the header against `magic` and return the dimensions and the data bytes.
fn parse_idx<'a>(
    bytes: &'a [u8],
    path: &Path,
    magic: u32,
    what: &str,
) -> Result<(Vec<usize>, &'a [u8]), InputError> {
    let bad = |message: String| InputError::Malformed {
        path: path.to_path_buf(),
        message,
    };
    if bytes.len() < 4 {
        return Err(bad(format!(
            "truncated IDX header: {} bytes, a header needs at least 4",
            bytes.len()
        )));
    }
    let found = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if found != magic {
        return Err(bad(format!(
            "bad IDX magic 0x{found:08x}; expected 0x{magic:08x} (unsigned-byte {what}, {} dimension{})",
            magic & 0xff,
            if magic & 0xff == 1 { "" } else { "s" }
        )));
    }
    let ndims = (magic & 0xff) as usize;
    let header = 4 + 4 * ndims;
    if bytes.len() < header {
        return Err(bad(format!(
            "truncated IDX header: {} bytes, {ndims} dimensions need {header}",
            bytes.len()
        )));
    }
    let dims: Vec<usize> = (0..ndims)
        .map(|i| {
            let b = &bytes[4 + 4 * i..8 + 4 * i];
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
        })
        .collect();
    if let Some(i) = dims.iter().skip(1).position(|&d| d == 0) {
        return Err(bad(format!(
            "IDX dimension {} is zero (dimensions {dims:?})",
            i + 1
        )));
    }
    let expected = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| bad(format!("IDX dimensions {dims:?} overflow")))?;
    let data = &bytes[header..];
    if data.len() != expected {
        let dims_text: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
        return Err(bad(format!(
            "IDX {what} of dimensions {} need {expected} data bytes after the header, found {}{}",
            dims_text.join(" x "),
            data.len(),
            if data.len() < expected {
                " (truncated)"
            } else {
                " (trailing bytes)"
            }
        )));
    }
    Ok((dims, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut v = magic.to_be_bytes().to_vec();
        for d in dims {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn reads_images_in_row_major_order() {
        let bytes = idx(
            IDX_IMAGES_MAGIC,
            &[2, 2, 3],
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255],
        );
        let imgs = parse_idx_images(&bytes, Path::new("x")).unwrap();
        assert_eq!(imgs.len(), 2);
        assert_eq!((imgs[1].height, imgs[1].width, imgs[1].channels), (2, 3, 1));
        assert_eq!(imgs[0].pixel(1, 0, 0), 3);
        assert_eq!(imgs[1].pixel(1, 2, 0), 255);
    }

    #[test]
    fn rejects_malformed_headers_and_lengths() {
        let p = Path::new("f.idx");
        for (bytes, needle) in [
            (vec![0, 0, 8], "truncated IDX header"),
            (
                idx(IDX_LABELS_MAGIC, &[3], &[1, 2, 3]),
                "bad IDX magic 0x00000801",
            ),
            (idx(IDX_IMAGES_MAGIC, &[1, 2], &[]), "truncated IDX header"),
            (
                idx(IDX_IMAGES_MAGIC, &[1, 0, 2], &[]),
                "dimension 1 is zero",
            ),
            (
                idx(IDX_IMAGES_MAGIC, &[2, 2, 2], &[0; 7]),
                "found 7 (truncated)",
            ),
            (idx(IDX_IMAGES_MAGIC, &[1, 2, 2], &[0; 5]), "trailing bytes"),
            (
                idx(IDX_IMAGES_MAGIC, &[u32::MAX, u32::MAX, u32::MAX], &[]),
                "overflow",
            ),
        ] {
            let e = parse_idx_images(&bytes, p).unwrap_err().to_string();
            assert!(e.contains(needle), "{e:?} should contain {needle:?}");
            assert!(e.contains("f.idx"), "{e}");
        }
    }
}
