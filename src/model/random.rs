//! Seeded random valid models and images, for tests and fuzzing (API fixed; implementation in
//! progress on the `reference` branch).

use super::{InputSpec, Model};
use crate::input::Image;

/// Shape options for `random_model`; `Default` gives a small model that exercises every
/// layer kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RandomOptions {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub bits: u32,
    /// Number of conv / pool / residual / dense layers before the classifier.
    pub layers: usize,
    pub max_channels: usize,
    pub classes: usize,
}

impl Default for RandomOptions {
    fn default() -> Self {
        RandomOptions {
            height: 9,
            width: 7,
            channels: 1,
            bits: 8,
            layers: 5,
            max_channels: 16,
            classes: 4,
        }
    }
}

/// A valid random model: same seed and options, same model.
pub fn random_model(seed: u64, opts: &RandomOptions) -> Model {
    let _ = (seed, opts);
    todo!("random models")
}

/// A random image for `input`: same seed, same image.
pub fn random_image(seed: u64, input: &InputSpec) -> Image {
    let _ = (seed, input);
    todo!("random images")
}
