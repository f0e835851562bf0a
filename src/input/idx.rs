//! IDX files (the MNIST container): image sets (magic 0x00000803, u8, N x H x W) and label
//! sets (magic 0x00000801, u8, N), plain or gzip-compressed.
//!
//! This is the one IDX reader of the project: the CLI reads inputs and labels with it and
//! training reuses it. Gzip is detected by its magic bytes, never by the file extension.
//! The reader streams: it reads and checks the header (magic, non-zero dimensions, at most
//! [`MAX_PIXELS`] data bytes) before it inflates or allocates anything for the data, so a
//! small gzip file that declares or inflates to gigabytes is refused after a few bytes.
//! Every malformed file (short header, wrong magic, zero or oversized dimensions, too few or
//! too many data bytes) is an [`InputError`], never a panic.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::{Image, InputError, MAX_PIXELS};

/// Magic number of an IDX file of unsigned bytes with three dimensions (images).
pub const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with one dimension (labels).
pub const IDX_LABELS_MAGIC: u32 = 0x0000_0801;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Trailing bytes counted past the declared data before the count is given as "more than".
const TRAILING_COUNTED: u64 = 1 << 20;

/// Whether `bytes` start like an IDX file of unsigned bytes (two zero bytes, type 0x08).
pub fn looks_like_idx(bytes: &[u8]) -> bool {
    bytes.len() >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0x08
}

/// Open a file for reading, inflating it on the fly when it starts with the gzip magic.
pub fn open_maybe_gzip(path: &Path) -> Result<Box<dyn BufRead>, InputError> {
    let file = std::fs::File::open(path).map_err(|e| InputError::io(path, e))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(InputError::Malformed {
            path: path.to_path_buf(),
            message: "is a directory, not an image or label file".into(),
        });
    }
    let mut raw = BufReader::new(file);
    let head = raw.fill_buf().map_err(|e| InputError::io(path, e))?;
    if head.starts_with(&GZIP_MAGIC) {
        Ok(Box::new(BufReader::new(
            flate2::bufread::MultiGzDecoder::new(raw),
        )))
    } else {
        Ok(Box::new(raw))
    }
}

/// Read an IDX image set: one single-channel [`Image`] per item, pixels 0..=255.
pub fn read_idx_images(path: &Path) -> Result<Vec<Image>, InputError> {
    read_images_from(&mut open_maybe_gzip(path)?, path)
}

/// Read an IDX label set: one byte per item.
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>, InputError> {
    let mut r = open_maybe_gzip(path)?;
    let dims = read_header(&mut r, path, IDX_LABELS_MAGIC, "labels")?;
    let mut data = read_data(&mut r, path, dims[0], &dims, "labels")?;
    check_end(&mut r, path, dims[0], &dims, "labels")?;
    data.shrink_to_fit();
    Ok(data)
}

/// Decode IDX image-set bytes (already inflated); `path` only names the file in errors.
pub fn parse_idx_images(bytes: &[u8], path: &Path) -> Result<Vec<Image>, InputError> {
    read_images_from(&mut &bytes[..], path)
}

/// Read an image set from a stream: header first, then image by image.
pub(crate) fn read_images_from(r: &mut dyn Read, path: &Path) -> Result<Vec<Image>, InputError> {
    let dims = read_header(r, path, IDX_IMAGES_MAGIC, "images")?;
    let (n, h, w) = (dims[0], dims[1], dims[2]);
    let mut images = Vec::with_capacity(n);
    let mut buf = vec![0u8; h * w];
    for i in 0..n {
        let got = read_full(r, &mut buf).map_err(|e| gzip_or_io(path, e))?;
        if got < buf.len() {
            return Err(count_error(path, &dims, i * h * w + got, "images", true));
        }
        images.push(Image {
            height: h,
            width: w,
            channels: 1,
            pixels: buf.iter().map(|&p| u16::from(p)).collect(),
        });
    }
    check_end(r, path, n * h * w, &dims, "images")?;
    Ok(images)
}

/// Read and check the header against `magic`; return the dimensions. The data they declare
/// is non-empty and at most [`MAX_PIXELS`] bytes.
fn read_header(
    r: &mut dyn Read,
    path: &Path,
    magic: u32,
    what: &str,
) -> Result<Vec<usize>, InputError> {
    let bad = |message: String| InputError::Malformed {
        path: path.to_path_buf(),
        message,
    };
    let ndims = (magic & 0xff) as usize;
    let header = 4 + 4 * ndims;
    let mut head = vec![0u8; header];
    let got = read_full(r, &mut head[..4]).map_err(|e| gzip_or_io(path, e))?;
    if got < 4 {
        return Err(bad(format!(
            "truncated IDX header: {got} bytes, a header needs at least 4"
        )));
    }
    let found = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    if found != magic {
        return Err(bad(format!(
            "bad IDX magic 0x{found:08x}; expected 0x{magic:08x} (unsigned-byte {what}, {} dimension{})",
            magic & 0xff,
            if magic & 0xff == 1 { "" } else { "s" }
        )));
    }
    let got = 4 + read_full(r, &mut head[4..]).map_err(|e| gzip_or_io(path, e))?;
    if got < header {
        return Err(bad(format!(
            "truncated IDX header: {got} bytes, {ndims} dimensions need {header}"
        )));
    }
    let dims: Vec<usize> = (0..ndims)
        .map(|i| {
            let b = &head[4 + 4 * i..8 + 4 * i];
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
        })
        .collect();
    if dims[0] == 0 {
        return Err(bad(format!("the IDX file holds no {what} (count 0)")));
    }
    if let Some(i) = dims.iter().skip(1).position(|&d| d == 0) {
        return Err(bad(format!(
            "IDX dimension {} is zero (dimensions {dims:?})",
            i + 1
        )));
    }
    let total = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&t| t <= MAX_PIXELS);
    if total.is_none() {
        return Err(bad(format!(
            "IDX dimensions {dims:?} declare more data bytes than the limit of {MAX_PIXELS}; \
             split the file"
        )));
    }
    Ok(dims)
}

/// Read exactly `len` data bytes (checked against the limit by `read_header`).
fn read_data(
    r: &mut dyn Read,
    path: &Path,
    len: usize,
    dims: &[usize],
    what: &str,
) -> Result<Vec<u8>, InputError> {
    let mut data = vec![0u8; len];
    let got = read_full(r, &mut data).map_err(|e| gzip_or_io(path, e))?;
    if got < len {
        return Err(count_error(path, dims, got, what, true));
    }
    Ok(data)
}

/// After the declared data the stream must end; count what follows, up to a bound.
fn check_end(
    r: &mut dyn Read,
    path: &Path,
    expected: usize,
    dims: &[usize],
    what: &str,
) -> Result<(), InputError> {
    let extra = std::io::copy(&mut r.take(TRAILING_COUNTED), &mut std::io::sink())
        .map_err(|e| gzip_or_io(path, e))?;
    if extra > 0 {
        return Err(count_error(
            path,
            dims,
            expected + extra as usize,
            what,
            false,
        ));
    }
    Ok(())
}

fn count_error(
    path: &Path,
    dims: &[usize],
    found: usize,
    what: &str,
    truncated: bool,
) -> InputError {
    let expected: usize = dims.iter().product();
    let dims_text: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    let more = if !truncated && found - expected >= TRAILING_COUNTED as usize {
        "more than "
    } else {
        ""
    };
    InputError::Malformed {
        path: path.to_path_buf(),
        message: format!(
            "IDX {what} of dimensions {} need {expected} data bytes after the header, found \
             {more}{found}{}",
            dims_text.join(" x "),
            if truncated {
                " (truncated)"
            } else {
                " (trailing bytes)"
            }
        ),
    }
}

/// Fill `buf` as far as the stream goes; the count read (short only at the end).
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A read error inside a gzip stream is corrupt data; other errors are I/O.
pub(crate) fn gzip_or_io(path: &Path, e: std::io::Error) -> InputError {
    if matches!(
        e.kind(),
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData
    ) || e.kind() == std::io::ErrorKind::UnexpectedEof
    {
        InputError::Malformed {
            path: path.to_path_buf(),
            message: format!("gzip data is corrupt or truncated: {e}"),
        }
    } else {
        InputError::io(path, e)
    }
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
                "more data bytes than the limit",
            ),
        ] {
            let e = parse_idx_images(&bytes, p).unwrap_err().to_string();
            assert!(e.contains(needle), "{e:?} should contain {needle:?}");
            assert!(e.contains("f.idx"), "{e}");
        }
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn an_empty_set_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("none.idx");
        std::fs::write(&f, idx(IDX_IMAGES_MAGIC, &[0, 28, 28], &[])).unwrap();
        let e = read_idx_images(&f).unwrap_err().to_string();
        assert!(e.contains("holds no images"), "{e}");
        std::fs::write(&f, idx(IDX_LABELS_MAGIC, &[0], &[])).unwrap();
        let e = read_idx_labels(&f).unwrap_err().to_string();
        assert!(e.contains("holds no labels"), "{e}");
    }

    /// A gzip bomb: a header that declares 4.2 GB, and one whose 64 MB of zeros follow a
    /// header declaring one image. Both are refused without inflating the data whole.
    #[test]
    fn gzip_bombs_are_refused_from_the_header_or_the_first_extra_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("bomb.idx.gz");
        let mut bytes = idx(IDX_IMAGES_MAGIC, &[5_357_142, 28, 28], &[]);
        bytes.extend(vec![0u8; 1 << 20]);
        std::fs::write(&f, gzip(&bytes)).unwrap();
        let e = read_idx_images(&f).unwrap_err().to_string();
        assert!(e.contains("more data bytes than the limit"), "{e}");

        let mut bytes = idx(IDX_IMAGES_MAGIC, &[1, 2, 2], &[1, 2, 3, 4]);
        bytes.extend(vec![0u8; 64 << 20]);
        std::fs::write(&f, gzip(&bytes)).unwrap();
        let e = read_idx_images(&f).unwrap_err().to_string();
        assert!(
            e.contains("found more than 1048580 (trailing bytes)"),
            "{e}"
        );
    }
}
