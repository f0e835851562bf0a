//! Input images: the pixels a sensor delivers, and the loaders that read them from files.
//!
//! Owns file decoding (PGM/PPM through `pnm`, PNG through `raster`, IDX image and label sets
//! through `idx`, folders of class folders through `folder`) and the check of decoded images
//! against a model's [`InputSpec`]. Pixel codes are taken as
//! stored, never rescaled: a file whose declared bit depth differs from the model's is an
//! error, because the thermometer thresholds are in pixel codes and a silent rescale would
//! change what the network sees.

pub mod folder;
pub mod idx;
mod pnm;
mod raster;

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::model::annotate::{Annotated, FileKind};
use crate::model::InputSpec;
use crate::sensor::{SensorConfig, Stream};

/// Largest number of pixel codes (bytes of an IDX file's data, images x pixels of a random
/// run) one command reads into memory from one file or option. Fashion-MNIST's training set,
/// 60,000 x 28 x 28 = 47,040,000, fits.
pub const MAX_PIXELS: usize = 1 << 26;

/// Largest PGM/PPM/PNG file read, in bytes (after inflating gzip).
pub const MAX_RASTER_BYTES: u64 = 1 << 26;

pub use idx::{read_idx_images, read_idx_labels};

/// The image type lives with the model it feeds, below every reader of it.
pub use crate::model::Image;

/// Why input images could not be read or do not fit the model. Every variant names the file;
/// per-image problems also name the image index (0-based within the file) and the field.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{}: cannot read the file: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Malformed { path: PathBuf, message: String },
    #[error(
        "{}: the file holds {found}-bit pixels but the model takes {expected}-bit pixels; \
         convert the data first (bnngen never rescales pixel codes)",
        path.display()
    )]
    Depth {
        path: PathBuf,
        found: u32,
        expected: u32,
    },
    #[error(
        "{}: the sensor gives {sensor}-bit codes but the model takes {model}-bit pixels; use the \
         sensor the model was trained with (its `[sensor] bits` is the model's `[input] bits`)",
        path.display()
    )]
    SensorBits {
        path: PathBuf,
        sensor: u32,
        model: u32,
    },
    #[error("{}: image {index}: {field} is {found}, the model expects {expected}", path.display())]
    Shape {
        path: PathBuf,
        index: usize,
        field: &'static str,
        expected: usize,
        found: usize,
    },
    #[error(
        "{}: image {index}: pixel (y {y}, x {x}, channel {c}) is {value}, above the largest \
         {bits}-bit code {max}",
        path.display()
    )]
    PixelRange {
        path: PathBuf,
        index: usize,
        y: usize,
        x: usize,
        c: usize,
        value: u16,
        bits: u32,
        max: u32,
    },
    #[error("{}: {message}", path.display())]
    Labels { path: PathBuf, message: String },
}

impl InputError {
    /// The error as a diagnostic with a code and a help line that says what to change.
    /// Image files are binary (PNG, IDX), so the diagnostic carries no source lines; the
    /// message names the file, the image and the field.
    pub fn annotated(&self) -> Annotated {
        let (what, help) = match self {
            InputError::Io { .. } => ("unreadable", "check the path and that the file is readable"),
            InputError::Malformed { .. } => (
                "malformed",
                "give a PGM/PPM, PNG or IDX file (plain or gzip); bnngen reads the format \
                 from the content, not the extension",
            ),
            InputError::Depth { .. } => (
                "depth",
                "convert the images to the model's `[input] bits` first; bnngen never \
                 rescales pixel codes",
            ),
            InputError::SensorBits { .. } => (
                "sensor_bits",
                "use a sensor file whose `bits` equals the model's `[input] bits`",
            ),
            InputError::Shape { .. } => (
                "shape",
                "resize or crop the images to the model's `[input]` height, width and \
                 channels",
            ),
            InputError::PixelRange { .. } => (
                "pixel_range",
                "store pixel codes within the model's bit depth, or convert the image",
            ),
            InputError::Labels { .. } => (
                "labels",
                "give an IDX label file with one label per image, each below the number of \
                 classes",
            ),
        };
        Annotated::plain(FileKind::Image, what, self.to_string(), Some(help.into()))
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        InputError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Images read from one file together with the bit depth the file declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSet {
    pub images: Vec<Image>,
    /// Bits per pixel code as the file declares it: PNM from its maxval, PNG 8 or 16, IDX 8.
    pub depth: u32,
}

/// Read every image in a file: PGM/PPM or PNG (one image), or an IDX image set (plain or
/// gzip), recognized by content, not extension.
pub fn load_images(path: &Path) -> Result<Vec<Image>, InputError> {
    Ok(load_image_set(path)?.images)
}

/// Like [`load_images`], keeping the declared bit depth.
pub fn load_image_set(path: &Path) -> Result<ImageSet, InputError> {
    read_image_set(&mut idx::open_maybe_gzip(path)?, path)
}

/// Decode file contents (already inflated); `path` only names the file in errors.
#[cfg(test)]
fn decode_image_set(bytes: &[u8], path: &Path) -> Result<ImageSet, InputError> {
    read_image_set(&mut &bytes[..], path)
}

/// Read an image set from a stream: an IDX set is streamed (header checked first), a raster
/// file is read whole up to [`MAX_RASTER_BYTES`].
fn read_image_set(r: &mut dyn Read, path: &Path) -> Result<ImageSet, InputError> {
    let mut head = Vec::new();
    r.take(4)
        .read_to_end(&mut head)
        .map_err(|e| idx::gzip_or_io(path, e))?;
    let mut whole = head.as_slice().chain(r);
    if idx::looks_like_idx(&head) {
        let images = idx::read_images_from(&mut whole, path)?;
        return Ok(ImageSet { images, depth: 8 });
    }
    let mut bytes = Vec::new();
    whole
        .take(MAX_RASTER_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| idx::gzip_or_io(path, e))?;
    if bytes.len() as u64 > MAX_RASTER_BYTES {
        return Err(InputError::Malformed {
            path: path.to_path_buf(),
            message: format!(
                "larger than the {} MiB limit for PGM/PPM/PNG files",
                MAX_RASTER_BYTES >> 20
            ),
        });
    }
    let r = raster::decode(&bytes, path)?;
    Ok(ImageSet {
        images: vec![r.image],
        depth: r.depth,
    })
}

/// Read the images of a file and check each against the model's input.
pub fn load_images_for(path: &Path, spec: &InputSpec) -> Result<Vec<Image>, InputError> {
    let set = load_image_set(path)?;
    check_depth(path, set.depth, spec)?;
    for (index, image) in set.images.iter().enumerate() {
        check_image(path, index, image, spec)?;
    }
    Ok(set.images)
}

/// Read the images of a file as `sensor` would deliver them (docs/sensor.md), then check each
/// against the model's input. Image `i` of the file gets the exposure and noise of test image
/// `i` (`sensor::Stream::Test`), the same as in training, so a model trained through the
/// sensor meets the test images it was scored on. Without a sensor, [`load_images_for`].
pub fn load_images_through(
    path: &Path,
    spec: &InputSpec,
    sensor: Option<&SensorConfig>,
) -> Result<Vec<Image>, InputError> {
    let Some(sensor) = sensor else {
        return load_images_for(path, spec);
    };
    if sensor.bits != spec.bits {
        return Err(InputError::SensorBits {
            path: path.to_path_buf(),
            sensor: sensor.bits,
            model: spec.bits,
        });
    }
    let set = load_image_set(path)?;
    let mut images = set.images;
    for (index, image) in images.iter_mut().enumerate() {
        image.pixels = sensor.apply(&image.pixels, set.depth, Stream::Test, index as u64);
        check_image(path, index, image, spec)?;
    }
    Ok(images)
}

/// Images with their labels, when the labels are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labelled {
    pub images: Vec<Image>,
    pub labels: Option<Vec<u8>>,
}

/// Read the images at `path` for a model as `sensor` would deliver them, with labels when the
/// path says them: a folder (an image-folder dataset, whose `test/` split is read, or a folder
/// of class folders) gives the labels of its folder names, mapped to the model's class names
/// (`meta.classes`) or, without names, by position; a file gives images only
/// ([`load_images_through`]).
pub fn load_labelled_through(
    path: &Path,
    model: &crate::model::Model,
    sensor: Option<&SensorConfig>,
) -> Result<Labelled, InputError> {
    if !path.is_dir() {
        let images = load_images_through(path, &model.input, sensor)?;
        return Ok(Labelled {
            images,
            labels: None,
        });
    }
    let spec = &model.input;
    let dir = folder::evaluation_dir(path);
    let set = folder::read_split(&dir)?;
    let labels = folder::labels_for_model(&set, &dir, &model.meta.classes, model.classes())?;
    if let Some(s) = sensor.filter(|s| s.bits != spec.bits) {
        return Err(InputError::SensorBits {
            path: dir,
            sensor: s.bits,
            model: spec.bits,
        });
    }
    if sensor.is_none() {
        check_depth(&set.files[0], set.depth, spec)?;
    }
    let mut images = set.images;
    for (index, image) in images.iter_mut().enumerate() {
        let file = &set.files[index];
        if let Some(s) = sensor {
            image.pixels = s.apply(&image.pixels, set.depth, Stream::Test, index as u64);
        }
        check_image(file, 0, image, spec)?;
    }
    Ok(Labelled {
        images,
        labels: Some(labels),
    })
}

/// A file's declared depth must equal the model's, except that a 16-bit container may carry
/// 9..=16-bit codes (sensor data is commonly stored that way; each code is range-checked).
pub fn check_depth(path: &Path, depth: u32, spec: &InputSpec) -> Result<(), InputError> {
    if depth == spec.bits || (depth == 16 && spec.bits > 8) {
        Ok(())
    } else {
        Err(InputError::Depth {
            path: path.to_path_buf(),
            found: depth,
            expected: spec.bits,
        })
    }
}

/// Check one image's shape and pixel codes against the model's input.
pub fn check_image(
    path: &Path,
    index: usize,
    image: &Image,
    spec: &InputSpec,
) -> Result<(), InputError> {
    for (field, expected, found) in [
        ("height", spec.height, image.height),
        ("width", spec.width, image.width),
        ("channels", spec.channels, image.channels),
    ] {
        if expected != found {
            return Err(InputError::Shape {
                path: path.to_path_buf(),
                index,
                field,
                expected,
                found,
            });
        }
    }
    assert_eq!(
        image.pixels.len(),
        image.height * image.width * image.channels
    );
    let max = spec.max_pixel();
    if let Some(i) = image.pixels.iter().position(|&p| u32::from(p) > max) {
        let c = i % image.channels;
        let x = (i / image.channels) % image.width;
        let y = i / image.channels / image.width;
        return Err(InputError::PixelRange {
            path: path.to_path_buf(),
            index,
            y,
            x,
            c,
            value: image.pixels[i],
            bits: spec.bits,
            max,
        });
    }
    Ok(())
}

/// Read an IDX label file and check it against the number of images and classes.
pub fn load_labels_for(path: &Path, images: usize, classes: usize) -> Result<Vec<u8>, InputError> {
    let labels = read_idx_labels(path)?;
    let bad = |message: String| InputError::Labels {
        path: path.to_path_buf(),
        message,
    };
    if labels.len() != images {
        return Err(bad(format!("{} labels for {images} images", labels.len())));
    }
    if let Some(i) = labels.iter().position(|&l| usize::from(l) >= classes) {
        return Err(bad(format!(
            "label {i} is {}, but the model has {classes} classes (0..={})",
            labels[i],
            classes - 1
        )));
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(bits: u32) -> InputSpec {
        InputSpec {
            height: 2,
            width: 3,
            channels: 1,
            bits,
        }
    }

    #[test]
    fn check_names_field_index_and_pixel() {
        let p = Path::new("in.pgm");
        let img = Image {
            height: 2,
            width: 3,
            channels: 1,
            pixels: vec![0, 1, 2, 3, 16, 5],
        };
        assert!(check_image(p, 0, &img, &spec(5)).is_ok());
        let e = check_image(p, 4, &img, &spec(4)).unwrap_err().to_string();
        assert_eq!(
            e,
            "in.pgm: image 4: pixel (y 1, x 1, channel 0) is 16, above the largest 4-bit code 15"
        );
        let wide = Image {
            height: 2,
            width: 4,
            channels: 1,
            pixels: vec![0; 8],
        };
        let e = check_image(p, 2, &wide, &spec(4)).unwrap_err().to_string();
        assert_eq!(e, "in.pgm: image 2: width is 4, the model expects 3");
    }

    #[test]
    fn depth_must_match_except_16_bit_containers() {
        let p = Path::new("a.png");
        assert!(check_depth(p, 8, &spec(8)).is_ok());
        assert!(check_depth(p, 16, &spec(12)).is_ok());
        assert!(check_depth(p, 8, &spec(4)).is_err());
        assert!(check_depth(p, 16, &spec(8)).is_err());
        assert!(check_depth(p, 4, &spec(8)).is_err());
    }

    /// `f` holds the 4-bit codes 0, 1, 2, 13, 14, 15 (3 x 2): they load as stored with depth
    /// 4, fit a 4-bit model, and an 8-bit model refuses them.
    fn keeps_4_bit_codes_and_refuses_8_bits(f: &Path) {
        let set = load_image_set(f).unwrap();
        assert_eq!(set.depth, 4);
        assert_eq!(set.images[0].pixels, vec![0, 1, 2, 13, 14, 15]);
        assert_eq!(load_images_for(f, &spec(4)).unwrap().len(), 1);
        let e = load_images_for(f, &spec(8)).unwrap_err();
        assert!(
            matches!(
                e,
                InputError::Depth {
                    found: 4,
                    expected: 8,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn pgm_keeps_raw_codes_and_declares_depth_from_maxval() {
        let dir = std::env::temp_dir().join(format!("bnngen-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("four_bit.pgm");
        let mut bytes = b"P5\n3 2\n15\n".to_vec();
        bytes.extend_from_slice(&[0, 1, 2, 13, 14, 15]);
        std::fs::write(&f, bytes).unwrap();
        keeps_4_bit_codes_and_refuses_8_bits(&f);
        std::fs::write(&f, b"P5\n3 2\n15\n\x00").unwrap();
        assert!(matches!(
            load_image_set(&f),
            Err(InputError::Malformed { .. })
        ));
        std::fs::write(&f, b"hello").unwrap();
        assert!(matches!(
            load_image_set(&f),
            Err(InputError::Malformed { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A 4-bit grayscale PNG: the decoder widens it to 8 bits (code 1 becomes 17); the
    /// loader restores the stored codes and declares 4 bits, so an 8-bit model refuses it.
    #[test]
    fn a_4_bit_png_keeps_its_codes_and_its_depth() {
        let mut bytes = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut bytes, 3, 2);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::Four);
            let mut w = enc.write_header().unwrap();
            // Rows of 3 four-bit samples, packed MSB first and padded to whole bytes.
            w.write_image_data(&[0x01, 0x20, 0xde, 0xf0]).unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("four.png");
        std::fs::write(&f, &bytes).unwrap();
        keeps_4_bit_codes_and_refuses_8_bits(&f);
    }

    fn valid_files() -> Vec<Vec<u8>> {
        let mut idx = 0x0803u32.to_be_bytes().to_vec();
        for d in [2u32, 3, 2] {
            idx.extend(d.to_be_bytes());
        }
        idx.extend(0..12u8);
        let mut png = Vec::new();
        image::GrayImage::from_raw(2, 2, vec![0, 1, 2, 3])
            .unwrap()
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        vec![
            idx,
            b"P5\n2 2\n255\n\x00\x01\x02\x03".to_vec(),
            b"P3\n1 1\n7\n1 2 3\n".to_vec(),
            b"P5\n1 2\n4095\n\x00\x01\x0f\xff".to_vec(),
            png,
        ]
    }

    proptest::proptest! {
        /// Truncated or corrupted files give an error or images, never a panic.
        #[test]
        fn malformed_files_never_panic(
            which in 0usize..5,
            cut in 0usize..200,
            flips in proptest::collection::vec((0usize..200, proptest::num::u8::ANY), 0..4),
        ) {
            let mut bytes = valid_files()[which].clone();
            for (at, v) in flips {
                if !bytes.is_empty() {
                    let n = bytes.len();
                    bytes[at % n] = v;
                }
            }
            bytes.truncate(cut);
            if let Ok(set) = decode_image_set(&bytes, Path::new("fuzz")) {
                for img in &set.images {
                    proptest::prop_assert_eq!(
                        img.pixels.len(),
                        img.height * img.width * img.channels
                    );
                }
            }
        }
    }
}
