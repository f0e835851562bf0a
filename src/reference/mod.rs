//! Bit-exact integer inference over a validated `Model` (API fixed; implementation in
//! progress on the `reference` branch).

use crate::input::Image;
use crate::model::Model;

/// What the classifier says about one image.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Prediction {
    /// Argmax of `scores`, ties to the lowest index.
    pub class: usize,
    /// `a_k + bias_k` per class.
    pub scores: Vec<i64>,
}

/// A binary tensor (y, x, c), channel fastest, as the reference model hands it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitTensor {
    pub shape: crate::model::Shape,
    /// Bit (y, x, c) at index `(y * width + x) * channels + c`.
    pub bits: crate::model::Bits,
}

/// Every intermediate tensor of one inference, to localize an RTL mismatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// The front end's binary planes.
    pub front_end: BitTensor,
    /// Output of each layer but the classifier, in order.
    pub layers: Vec<BitTensor>,
    pub prediction: Prediction,
}

/// Classify one image. The image must match `model.input` (callers check with a typed error).
pub fn infer(model: &Model, image: &Image) -> Prediction {
    trace(model, image).prediction
}

/// Classify one image and keep every intermediate tensor.
pub fn trace(model: &Model, image: &Image) -> Trace {
    let _ = (model, image);
    todo!("reference model")
}
