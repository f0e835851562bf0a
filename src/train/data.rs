//! The training data: Fashion-MNIST's IDX files or an image-folder dataset
//! (`input::folder`), split into train / validation / test.
//!
//! The split is fixed by the config (validation = the last `validation` training images), so
//! the test set is only touched for the final figures. An image folder lists its training
//! images class by class, so they are first put in a fixed seeded order (the same for every
//! run and seed) before the split, or the validation set would be the last classes only.
//! Pixels stay integer codes of `bits` bits here (the data's declared depth; the sensor's
//! depth with `[sensor]`, which is applied to every image by its index in its split before
//! the split into train and validation); the front end turns them into planes inside the
//! network, exactly as the hardware compares them. The input shape, bit depth and class names
//! come from the data: Fashion-MNIST is 28 x 28 x 1 at 8 bits with its 10 class names.

use super::rng::Rng;
use super::TrainError;
use crate::input::folder;
use crate::sensor::{SensorConfig, Stream};
use std::path::{Path, PathBuf};

/// The default location (Debian package `dataset-fashion-mnist`).
pub const DEFAULT_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Fashion-MNIST's class names, in label order.
pub const FASHION_CLASSES: [&str; 10] = [
    "t-shirt/top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
];

/// Images of `per_image` pixel codes each, (y, x, c) with the channel fastest, and their labels.
#[derive(Debug, Clone, Default)]
pub struct Split {
    pub pixels: Vec<u16>,
    pub labels: Vec<u8>,
    /// Pixel codes per image (height x width x channels).
    pub per_image: usize,
}

/// The shape of every image of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageShape {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
}

impl ImageShape {
    pub fn pixels(&self) -> usize {
        self.height * self.width * self.channels
    }
}

impl Split {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    pub fn image(&self, i: usize) -> &[u16] {
        &self.pixels[i * self.per_image..(i + 1) * self.per_image]
    }
    fn take(&self, range: std::ops::Range<usize>) -> Split {
        let n = self.per_image;
        Split {
            pixels: self.pixels[range.start * n..range.end * n].to_vec(),
            labels: self.labels[range].to_vec(),
            per_image: n,
        }
    }
}

pub struct Dataset {
    pub train: Split,
    pub validation: Split,
    pub test: Split,
    /// Bit depth of the pixel codes (the model's input bits).
    pub bits: u32,
    pub shape: ImageShape,
    /// Class names in label order (the model file's `meta.classes`).
    pub classes: Vec<String>,
}

impl Dataset {
    /// Keep the top `bits` bits of every code (the natural-binary ADC with fewer bits).
    pub fn requantize(&mut self, bits: u32) -> Result<(), TrainError> {
        if bits == 0 || bits > self.bits {
            return Err(TrainError::Config(format!(
                "front_end.levels: the binary front end takes 1..={} bit planes of this {}-bit data, found {bits}",
                self.bits, self.bits
            )));
        }
        let shift = self.bits - bits;
        for split in [&mut self.train, &mut self.validation, &mut self.test] {
            split.pixels.iter_mut().for_each(|p| *p >>= shift);
        }
        self.bits = bits;
        Ok(())
    }
}

fn find(dir: &Path, stem: &str) -> Result<PathBuf, TrainError> {
    for name in [format!("{stem}.gz"), stem.to_string()] {
        let p = dir.join(&name);
        if p.exists() {
            return Ok(p);
        }
    }
    Err(TrainError::Data(format!(
        "Fashion-MNIST file {stem}(.gz) not found in {}: install the Debian package \
         `dataset-fashion-mnist` (apt-get install dataset-fashion-mnist) or pass --data DIR",
        dir.display()
    )))
}

/// One split of IDX data (`PREFIX-images-idx3-ubyte` and `PREFIX-labels-idx1-ubyte`, plain or
/// gzip) and the shape of its images.
fn load_idx_split(dir: &Path, prefix: &str) -> Result<(Split, ImageShape), TrainError> {
    let img = find(dir, &format!("{prefix}-images-idx3-ubyte"))?;
    let lab = find(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
    // Errors from the shared reader already name the file.
    let images =
        crate::input::idx::read_idx_images(&img).map_err(|e| TrainError::Data(e.to_string()))?;
    let labels =
        crate::input::idx::read_idx_labels(&lab).map_err(|e| TrainError::Data(e.to_string()))?;
    if images.len() != labels.len() {
        return Err(TrainError::Data(format!(
            "{}: {} images but {} labels",
            dir.display(),
            images.len(),
            labels.len()
        )));
    }
    // The IDX header gives every image of a file the same shape; the reader refuses an empty set.
    let shape = images.first().map_or(
        ImageShape {
            height: 0,
            width: 0,
            channels: 1,
        },
        |im| ImageShape {
            height: im.height,
            width: im.width,
            channels: im.channels,
        },
    );
    let pixels = images
        .iter()
        .flat_map(|im| im.pixels.iter().map(|&p| p.min(255)))
        .collect();
    let split = Split {
        pixels,
        labels,
        per_image: shape.pixels(),
    };
    Ok((split, shape))
}

/// Class names of IDX data: `data.classes` when given, Fashion-MNIST's for 28 x 28 images with
/// labels 0..=9, else the label numbers. Every label must name a class.
fn idx_classes(
    named: &[String],
    shape: ImageShape,
    splits: [(&Split, &str); 2],
    dir: &Path,
) -> Result<Vec<String>, TrainError> {
    let top = splits
        .iter()
        .flat_map(|(s, _)| s.labels.iter().copied())
        .max()
        .map_or(0, |l| usize::from(l) + 1);
    let classes: Vec<String> = if !named.is_empty() {
        named.to_vec()
    } else if top <= FASHION_CLASSES.len() && (shape.height, shape.width) == (28, 28) {
        FASHION_CLASSES.iter().map(|s| s.to_string()).collect()
    } else {
        (0..top.max(2)).map(|k| k.to_string()).collect()
    };
    for (split, prefix) in splits {
        if let Some(i) = split
            .labels
            .iter()
            .position(|&l| usize::from(l) >= classes.len())
        {
            return Err(TrainError::Data(format!(
                "{}: {prefix} label {i} is {}, but data.classes names {} classes",
                dir.display(),
                split.labels[i],
                classes.len()
            )));
        }
    }
    Ok(classes)
}

/// The training and test images of the data at `dir` with their depth, shape and class names:
/// an image folder when `dir` has `train/` and `test/`, else IDX files named as
/// Fashion-MNIST's (`train-*` and `t10k-*`).
fn load_files(
    dir: &Path,
    named: &[String],
) -> Result<(Split, Split, u32, ImageShape, Vec<String>), TrainError> {
    if !folder::is_dataset(dir) {
        let (train, shape) = load_idx_split(dir, "train")?;
        let (test, test_shape) = load_idx_split(dir, "t10k")?;
        if test_shape != shape {
            return Err(TrainError::Data(format!(
                "{}: the test images are {}x{}, the training images {}x{}",
                dir.display(),
                test_shape.height,
                test_shape.width,
                shape.height,
                shape.width
            )));
        }
        let classes = idx_classes(named, shape, [(&train, "train"), (&test, "t10k")], dir)?;
        return Ok((train, test, 8, shape, classes));
    }
    // Errors from the folder reader already name the file.
    let (train, test) = folder::read_dataset(dir).map_err(|e| TrainError::Data(e.to_string()))?;
    if !named.is_empty() && named != train.classes {
        return Err(TrainError::Config(format!(
            "data.classes: {named:?}, but the class folders of {} are {:?} (an image folder's \
             classes are its folder names)",
            dir.display(),
            train.classes
        )));
    }
    let first = &train.images[0];
    let shape = ImageShape {
        height: first.height,
        width: first.width,
        channels: first.channels,
    };
    let to_split = |set: folder::LabelledSet, order: &[usize]| Split {
        pixels: order
            .iter()
            .flat_map(|&i| set.images[i].pixels.iter().copied())
            .collect(),
        labels: order.iter().map(|&i| set.labels[i]).collect(),
        per_image: shape.pixels(),
    };
    let mut order: Vec<usize> = (0..train.images.len()).collect();
    Rng::new(FOLDER_ORDER_SEED).shuffle(&mut order);
    let test_order: Vec<usize> = (0..test.images.len()).collect();
    let (depth, classes) = (train.depth, train.classes.clone());
    Ok((
        to_split(train, &order),
        to_split(test, &test_order),
        depth,
        shape,
        classes,
    ))
}

/// The seed of the fixed order of an image folder's training images.
const FOLDER_ORDER_SEED: u64 = 0x666f_6c64_6572;

/// The images of a split as the sensor delivers them from `bits`-bit codes; the split starts
/// at image `first` of its file, and each image is seeded by its index in the file.
fn through_sensor(
    split: &mut Split,
    sensor: &SensorConfig,
    bits: u32,
    stream: Stream,
    first: usize,
) {
    let codes: Vec<u16> = (0..split.len())
        .flat_map(|i| sensor.apply(split.image(i), bits, stream, (first + i) as u64))
        .collect();
    split.pixels = codes;
}

/// Load and split the data as the config says, through the sensor if there is one.
pub fn load(
    dir: &Path,
    cfg: &super::config::DataConfig,
    sensor: Option<&SensorConfig>,
) -> Result<Dataset, TrainError> {
    let (all, test, bits, shape, classes) = load_files(dir, &cfg.classes)?;
    if cfg.validation >= all.len() {
        return Err(TrainError::Config(format!(
            "data.validation: {} leaves no training images out of {}",
            cfg.validation,
            all.len()
        )));
    }
    let n_train = all.len() - cfg.validation;
    let mut validation = all.take(n_train..all.len());
    let train_n = if cfg.train_subset == 0 {
        n_train
    } else {
        cfg.train_subset.min(n_train)
    };
    let mut train = all.take(0..train_n);
    let test_n = if cfg.test_subset == 0 {
        test.len()
    } else {
        cfg.test_subset.min(test.len())
    };
    let mut test = test.take(0..test_n);
    if let Some(s) = sensor {
        through_sensor(&mut train, s, bits, Stream::Train, 0);
        through_sensor(&mut validation, s, bits, Stream::Train, n_train);
        through_sensor(&mut test, s, bits, Stream::Test, 0);
    }
    Ok(Dataset {
        train,
        validation,
        test,
        bits: sensor.map_or(bits, |s| s.bits),
        shape,
        classes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIXELS: usize = 28 * 28;

    fn split(px: &[u16]) -> Split {
        Split {
            pixels: px.to_vec(),
            labels: vec![0; px.len() / PIXELS],
            per_image: PIXELS,
        }
    }

    #[test]
    fn requantize_keeps_the_top_bits_and_refuses_more_than_there_are() {
        let mut px = vec![0u16; PIXELS];
        px[..4].copy_from_slice(&[1023, 512, 511, 3]);
        let mut ds = Dataset {
            train: split(&px),
            validation: split(&px),
            test: split(&px),
            bits: 10,
            shape: ImageShape {
                height: 28,
                width: 28,
                channels: 1,
            },
            classes: Vec::new(),
        };
        ds.requantize(2).unwrap();
        assert_eq!(ds.bits, 2);
        for s in [&ds.train, &ds.validation, &ds.test] {
            assert_eq!(&s.pixels[..4], &[3, 2, 1, 0]);
        }
        let e = ds.requantize(3).unwrap_err().to_string();
        assert!(
            e.contains("front_end.levels") && e.contains("found 3"),
            "{e}"
        );
    }
}
