//! Raster image files: PGM/PPM through the raw-code reader in `pnm`, PNG through the `image`
//! crate.
//!
//! Pixel codes are never rescaled: a PGM with maxval 15 yields codes 0..=15 and declares a
//! 4-bit depth; an 8-bit PNG declares 8 bits, a 16-bit PNG 16 bits. The caller compares the
//! declared depth with the model's (see [`super::check_depth`]).

use std::path::Path;

use image::{DynamicImage, ImageFormat};

use super::pnm::{self, Raster};
use super::{Image, InputError};
use crate::model::limits::MAX_SIDE;

/// Decode PGM/PPM or PNG bytes; `path` only names the file in errors.
pub fn decode(bytes: &[u8], path: &Path) -> Result<Raster, InputError> {
    let bad = |message: String| InputError::Malformed {
        path: path.to_path_buf(),
        message,
    };
    if pnm::is_pnm(bytes) {
        return pnm::decode(bytes, path);
    }
    match image::guess_format(bytes) {
        Ok(ImageFormat::Png) => {}
        Ok(other) => {
            return Err(bad(format!(
                "{other:?} images are not supported; use PGM/PPM (P2/P3/P5/P6), PNG or IDX"
            )))
        }
        Err(_) => {
            return Err(bad(
                "unrecognized file format; expected PGM/PPM (P2/P3/P5/P6), PNG or IDX".into(),
            ))
        }
    }
    let declared = png_bit_depth(bytes).ok_or_else(|| bad("bad PNG data: no IHDR chunk".into()))?;
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), ImageFormat::Png);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE as u32);
    limits.max_image_height = Some(MAX_SIDE as u32);
    limits.max_alloc = Some(PNG_MAX_ALLOC);
    reader.limits(limits);
    let dynamic = reader
        .decode()
        .map_err(|e| bad(format!("bad PNG data: {e}")))?;
    let (w, h) = (dynamic.width() as usize, dynamic.height() as usize);
    let (channels, pixels, depth): (usize, Vec<u16>, u32) = match dynamic {
        DynamicImage::ImageLuma8(b) => (1, b.into_raw().into_iter().map(u16::from).collect(), 8),
        DynamicImage::ImageRgb8(b) => (3, b.into_raw().into_iter().map(u16::from).collect(), 8),
        DynamicImage::ImageLuma16(b) => (1, b.into_raw(), 16),
        DynamicImage::ImageRgb16(b) => (3, b.into_raw(), 16),
        other => {
            return Err(bad(format!(
                "{:?} PNG pixels are not supported; use grayscale or RGB without alpha",
                other.color()
            )))
        }
    };
    // The decoder widens 1, 2 and 4-bit samples to 8 bits (code v becomes v * 255 / max);
    // undo that exactly, so the codes are as stored and the depth is the one declared.
    let (pixels, depth) = if declared < 8 {
        let scale = 255 / ((1u16 << declared) - 1);
        (pixels.into_iter().map(|p| p / scale).collect(), declared)
    } else {
        (pixels, depth)
    };
    Ok(Raster {
        image: Image {
            height: h,
            width: w,
            channels,
            pixels,
        },
        depth,
    })
}

/// Largest allocation the PNG decoder may make, in bytes.
const PNG_MAX_ALLOC: u64 = 1 << 27;

/// The bit depth in the PNG header (IHDR is the first chunk: signature, length, "IHDR",
/// width, height, then the depth byte at offset 24).
fn png_bit_depth(bytes: &[u8]) -> Option<u32> {
    (bytes.len() > 24 && &bytes[12..16] == b"IHDR").then(|| u32::from(bytes[24]))
}
