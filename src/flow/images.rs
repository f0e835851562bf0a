//! The images a flow co-simulates: the user's, the Fashion-MNIST test set, or seeded random
//! images.

use std::path::{Path, PathBuf};

use crate::input::{self, Image};
use crate::model::Model;
use crate::random::random_image;

use super::FlowError;

/// Where Debian's `dataset-fashion-mnist` puts the test set.
pub const FASHION_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Random images simulated when the model is not Fashion-MNIST's and no images are given.
const RANDOM_IMAGES: usize = 16;

/// Images to simulate, their labels if known, and a phrase that says what they are.
pub struct ImageSet {
    pub what: String,
    pub images: Vec<Image>,
    pub labels: Option<Vec<u8>>,
}

/// Whether `m` takes Fashion-MNIST's images (28x28 8-bit grayscale, 10 classes).
pub fn is_fashion_mnist(m: &Model) -> bool {
    let i = &m.input;
    (i.height, i.width, i.channels, i.bits) == (28, 28, 1, 8) && m.classes() == 10
}

/// The images of a run: `images` (with `labels`), else the Fashion-MNIST test set for a
/// Fashion-MNIST model, else seeded random images; at most `frames` of them.
pub fn choose(
    m: &Model,
    images: Option<&Path>,
    labels: Option<&Path>,
    frames: Option<usize>,
    seed: u64,
) -> Result<ImageSet, FlowError> {
    let limit = |n: usize| frames.unwrap_or(n).min(n);
    if let Some(path) = images {
        let mut images = input::load_images_for(path, &m.input)?;
        let mut labels = match labels {
            Some(l) => Some(input::load_labels_for(l, images.len(), m.classes())?),
            None => None,
        };
        let n = limit(images.len());
        images.truncate(n);
        if let Some(l) = &mut labels {
            l.truncate(n);
        }
        return Ok(ImageSet {
            what: path.display().to_string(),
            images,
            labels,
        });
    }
    if is_fashion_mnist(m) {
        return fashion_test_set(m, limit);
    }
    let n = frames.unwrap_or(RANDOM_IMAGES);
    let images = (0..n)
        .map(|i| {
            random_image(
                seed.wrapping_mul(1_000_003).wrapping_add(i as u64),
                &m.input,
            )
        })
        .collect();
    Ok(ImageSet {
        what: format!("{n} random images (seed {seed})"),
        images,
        labels: None,
    })
}

fn fashion_test_set(m: &Model, limit: impl Fn(usize) -> usize) -> Result<ImageSet, FlowError> {
    let dir = PathBuf::from(FASHION_DIR);
    let images_path = dir.join("t10k-images-idx3-ubyte.gz");
    if !images_path.exists() {
        return Err(FlowError::Options(format!(
            "{} is missing: install the Debian package dataset-fashion-mnist \
             (scripts/setup.sh does), or pass --images",
            images_path.display()
        )));
    }
    let mut images = input::load_images_for(&images_path, &m.input)?;
    let mut labels = input::idx::read_idx_labels(&dir.join("t10k-labels-idx1-ubyte.gz"))?;
    let all = images.len();
    let n = limit(all);
    images.truncate(n);
    labels.truncate(n);
    Ok(ImageSet {
        what: if n == all {
            format!("Fashion-MNIST test set, all {n}")
        } else {
            format!("Fashion-MNIST test set, first {n}")
        },
        images,
        labels: Some(labels),
    })
}
