//! Fashion-MNIST for training: the train / validation / test split and batch assembly.
//!
//! The split is fixed by the config (validation = the last `validation` training images), so
//! the test set is only touched for the final figures. Pixels stay 8-bit integers here; the
//! front end turns them into planes inside the network, exactly as the hardware compares them.

use super::TrainError;
use std::path::{Path, PathBuf};

/// The default location (Debian package `dataset-fashion-mnist`).
pub const DEFAULT_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Images of 28 x 28 8-bit pixels with their labels.
#[derive(Debug, Clone, Default)]
pub struct Split {
    pub pixels: Vec<u8>,
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
    pub fn image(&self, i: usize) -> &[u8] {
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
        pixels.extend(im.pixels.iter().map(|&p| p.min(255) as u8));
    }
    Ok(Split { pixels, labels })
}

/// Load and split the data as the config says.
pub fn load(dir: &Path, cfg: &super::config::DataConfig) -> Result<Dataset, TrainError> {
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
    let validation = all.take(n_train..all.len());
    let train_n = if cfg.train_subset == 0 {
        n_train
    } else {
        cfg.train_subset.min(n_train)
    };
    let train = all.take(0..train_n);
    let test_n = if cfg.test_subset == 0 {
        test.len()
    } else {
        cfg.test_subset.min(test.len())
    };
    Ok(Dataset {
        train,
        validation,
        test: test.take(0..test_n),
    })
}
