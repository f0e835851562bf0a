//! Fashion-MNIST for training: the train / validation / test split and batch assembly.
//!
//! The split is fixed by the config (validation = the last `validation` training images), so
//! the test set is only touched for the final figures. Pixels stay integer codes of `bits` bits
//! here (8 for the dataset itself; the sensor's depth with `[sensor]`, which is applied to every
//! image by its index in its file before the split); the front end turns them into planes
//! inside the network, exactly as the hardware compares them.

use super::TrainError;
use crate::sensor::{SensorConfig, Stream};
use std::path::{Path, PathBuf};

/// The default location (Debian package `dataset-fashion-mnist`).
pub const DEFAULT_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Images of 28 x 28 pixel codes with their labels.
#[derive(Debug, Clone, Default)]
pub struct Split {
    pub pixels: Vec<u16>,
    pub labels: Vec<u8>,
}

pub const SIDE: usize = 28;
pub const PIXELS: usize = SIDE * SIDE;

impl Split {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    pub fn image(&self, i: usize) -> &[u16] {
        &self.pixels[i * PIXELS..(i + 1) * PIXELS]
    }
    fn take(&self, range: std::ops::Range<usize>) -> Split {
        Split {
            pixels: self.pixels[range.start * PIXELS..range.end * PIXELS].to_vec(),
            labels: self.labels[range].to_vec(),
        }
    }
}

pub struct Dataset {
    pub train: Split,
    pub validation: Split,
    pub test: Split,
    /// Bit depth of the pixel codes (the model's input bits).
    pub bits: u32,
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

fn load_split(dir: &Path, prefix: &str) -> Result<Split, TrainError> {
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
    let mut pixels = Vec::with_capacity(images.len() * PIXELS);
    for (i, im) in images.iter().enumerate() {
        if im.height != SIDE || im.width != SIDE || im.channels != 1 {
            return Err(TrainError::Data(format!(
                "{}: image {i} is {}x{}x{}, expected 28x28x1",
                img.display(),
                im.height,
                im.width,
                im.channels
            )));
        }
        pixels.extend(im.pixels.iter().map(|&p| p.min(255)));
    }
    Ok(Split { pixels, labels })
}

/// The images of a split as the sensor delivers them; the split starts at image `first` of
/// its file, and each image is seeded by its index in the file.
fn through_sensor(split: &mut Split, sensor: &SensorConfig, stream: Stream, first: usize) {
    let codes: Vec<u16> = (0..split.len())
        .flat_map(|i| sensor.apply(split.image(i), 8, stream, (first + i) as u64))
        .collect();
    split.pixels = codes;
}

/// Load and split the data as the config says, through the sensor if there is one.
pub fn load(
    dir: &Path,
    cfg: &super::config::DataConfig,
    sensor: Option<&SensorConfig>,
) -> Result<Dataset, TrainError> {
    let all = load_split(dir, "train")?;
    let test = load_split(dir, "t10k")?;
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
        through_sensor(&mut train, s, Stream::Train, 0);
        through_sensor(&mut validation, s, Stream::Train, n_train);
        through_sensor(&mut test, s, Stream::Test, 0);
    }
    Ok(Dataset {
        train,
        validation,
        test,
        bits: sensor.map_or(8, |s| s.bits),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(px: &[u16]) -> Split {
        Split {
            pixels: px.to_vec(),
            labels: vec![0; px.len() / PIXELS],
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
