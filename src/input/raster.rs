//! Raster image files: PGM/PPM through the raw-code reader in `pnm`, PNG through the `image`
//! crate.
//!
//! Pixel codes are never rescaled: a PGM with maxval 15 yields codes 0..=15 and declares a
//! 4-bit depth; an 8-bit PNG declares 8 bits, a 16-bit PNG 16 bits. The caller compares the
//! declared depth with the model's (see [`super::check_depth`]).

use std::path::Path;

use image::{DynamicImage, ImageFormat};

use super::{pnm, Image, InputError};

/// One decoded raster file and the bit depth its header declares.
#[derive(Debug)]
pub struct Raster {
    pub image: Image,
    pub depth: u32,
}

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
    let dynamic = image::load_from_memory_with_format(bytes, ImageFormat::Png)
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
