//! PGM and PPM files (P2, P3, P5, P6) read with their raw sample codes.
//!
//! The `image` crate rescales samples whose maxval is not 255 or 65535 to the full 8/16-bit
//! range; sensor data must not be rescaled (thresholds are in pixel codes), so this small
//! reader keeps the codes as stored and reports the depth the maxval declares.

use std::path::Path;

use super::{Image, InputError};

/// One decoded raster file (PNM here, PNG in `raster.rs`) and the bit depth its header
/// declares.
#[derive(Debug)]
pub struct Raster {
    pub image: Image,
    pub depth: u32,
}

/// Whether `bytes` start with a PGM/PPM magic this reader handles.
pub fn is_pnm(bytes: &[u8]) -> bool {
    bytes.len() >= 2 && bytes[0] == b'P' && matches!(bytes[1], b'2' | b'3' | b'5' | b'6')
}

/// Bits needed to hold every code up to `maxval`.
fn bits_for(maxval: u32) -> u32 {
    32 - maxval.leading_zeros()
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    /// Skip whitespace and `#` comments (to end of line).
    fn skip_space(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            if b == b'#' {
                while self.bytes.get(self.pos).is_some_and(|&c| c != b'\n') {
                    self.pos += 1;
                }
            } else if b.is_ascii_whitespace() {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// Read one unsigned decimal number, or None when there is none.
    fn number(&mut self) -> Option<u32> {
        self.skip_space();
        let start = self.pos;
        while self.bytes.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        std::str::from_utf8(&self.bytes[start..self.pos])
            .ok()?
            .parse()
            .ok()
    }
}

/// Decode a P2/P3/P5/P6 file; `path` only names the file in errors.
pub fn decode(bytes: &[u8], path: &Path) -> Result<Raster, InputError> {
    let bad = |message: String| InputError::Malformed {
        path: path.to_path_buf(),
        message,
    };
    assert!(is_pnm(bytes), "caller checks the magic");
    let (channels, ascii) = match bytes[1] {
        b'2' => (1, true),
        b'3' => (3, true),
        b'5' => (1, false),
        _ => (3, false),
    };
    let mut c = Cursor { bytes, pos: 2 };
    let mut header = [0u32; 3];
    for (value, field) in header.iter_mut().zip(["width", "height", "maxval"]) {
        *value = c
            .number()
            .ok_or_else(|| bad(format!("bad PNM header: missing {field}")))?;
    }
    let [w, h, maxval] = header;
    if w == 0 || h == 0 {
        return Err(bad(format!("bad PNM header: size {w}x{h} is empty")));
    }
    if !(1..=65535).contains(&maxval) {
        return Err(bad(format!(
            "bad PNM header: maxval {maxval} outside 1..=65535"
        )));
    }
    let count = (w as usize)
        .checked_mul(h as usize)
        .and_then(|n| n.checked_mul(channels))
        .ok_or_else(|| bad(format!("bad PNM header: size {w}x{h} overflows")))?;
    // Grow as samples arrive: a lying header must not cause a huge allocation.
    let mut pixels = Vec::with_capacity(count.min(1 << 16));
    if ascii {
        for i in 0..count {
            let v = c.number().ok_or_else(|| {
                bad(format!(
                    "PNM data truncated or not a number at sample {i} of {count}"
                ))
            })?;
            pixels.push(v);
        }
    } else {
        // Exactly one whitespace byte separates the header from binary data.
        let start = c.pos + 1;
        let width = if maxval > 255 { 2 } else { 1 };
        let data = bytes.get(start..).unwrap_or(&[]);
        let need = count.saturating_mul(width);
        if data.len() < need {
            return Err(bad(format!(
                "PNM data truncated: {w}x{h}x{channels} samples need {need} bytes, found {}",
                data.len()
            )));
        }
        pixels.extend(data.chunks_exact(width).take(count).map(|s| match s {
            [b] => u32::from(*b),
            [hi, lo] => u32::from(u16::from_be_bytes([*hi, *lo])),
            _ => unreachable!("chunks_exact"),
        }));
    }
    if let Some(i) = pixels.iter().position(|&v| v > maxval) {
        return Err(bad(format!(
            "PNM sample {i} is {}, above the header's maxval {maxval}",
            pixels[i]
        )));
    }
    Ok(Raster {
        image: Image {
            height: h as usize,
            width: w as usize,
            channels,
            pixels: pixels.into_iter().map(|v| v as u16).collect(),
        },
        depth: bits_for(maxval),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ascii_and_binary_with_comments() {
        let p = Path::new("x.pgm");
        let r = decode(b"P2 # gray\n2 1\n# max\n1000\n7 1000\n", p).unwrap();
        assert_eq!((r.image.pixels.clone(), r.depth), (vec![7, 1000], 10));
        let r = decode(b"P6\n1 1\n65535\n\x01\x02\x03\x04\x05\x06", p).unwrap();
        assert_eq!((r.image.channels, r.depth), (3, 16));
        assert_eq!(r.image.pixels, vec![0x0102, 0x0304, 0x0506]);
    }

    #[test]
    fn rejects_bad_files() {
        let p = Path::new("x.pgm");
        for (bytes, needle) in [
            (&b"P5\n2 2\n255\n\x00"[..], "truncated"),
            (b"P5\n2\n", "missing height"),
            (b"P2\n1 1\n15\n16\n", "above the header's maxval 15"),
            (b"P5\n0 1\n255\n", "empty"),
            (b"P5\n1 1\n70000\n", "maxval 70000"),
        ] {
            let e = decode(bytes, p).unwrap_err().to_string();
            assert!(
                e.contains(needle) && e.contains("x.pgm"),
                "{e:?} lacks {needle:?}"
            );
        }
    }
}
