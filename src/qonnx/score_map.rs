//! The map from bnngen's integer scores to an imported file's float scores: its own file
//! because the walk holds it and `scores.rs`, which reads it from the graph, uses the walk.

/// The affine map from bnngen's integer scores to the file's float scores:
/// `file score = scale * bnngen score + offset`, the same for every class.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreMap {
    /// Positive; 1 for bnngen's own export.
    pub scale: f64,
    /// 0 unless a normalization of the scores (TensorNorm) follows the classifier.
    pub offset: f64,
}
