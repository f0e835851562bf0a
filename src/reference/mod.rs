//! Bit-exact integer inference over a validated `Model`: the judge the RTL is compared with.
//!
//! It reads only `Model` and knows nothing of hardware. Tensors are packed into `u64` words
//! and every weighted layer is XNOR + popcount over packed windows, so it is fast enough to
//! run whole test sets. [`Engine`] prepares a model once (weight rows packed per out-block) for
//! many images; [`infer`] and [`trace`] are the one-shot conveniences.
//!
//! Files: `tensor.rs` (packed layout), `front_end.rs` (pixels to planes), `conv.rs` (conv,
//! dense, classifier sums), `bitwise.rs` (max-pool, residual), `kernel.rs` (popcount loops
//! with run-time CPU dispatch), `engine.rs` (the prepared model).

mod bitwise;
mod conv;
mod engine;
mod front_end;
pub mod kernel;
mod tensor;

pub use engine::{argmax, Engine};

use crate::model::Image;
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
    Engine::new(model).trace(image)
}
