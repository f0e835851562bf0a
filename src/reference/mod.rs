//! Bit-exact integer inference over a validated `Model` (API placeholder; implementation in
//! progress).

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

/// Classify one image. The image must match `model.input` (callers check with a typed error).
pub fn infer(model: &Model, image: &Image) -> Prediction {
    let _ = (model, image);
    todo!("reference model")
}
