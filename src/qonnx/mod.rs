//! QONNX import and export: bnngen's model format to and from the graphs the FPGA ML ecosystem
//! (FINN, Brevitas, hls4ml, qonnx) exchanges, ONNX plus QONNX's custom operators.
//!
//! This module sits beside `model`: it reads and writes `Model` only, and nothing in the plan,
//! RTL or reference model knows it exists. Export writes one fixed, exact node pattern per
//! layer kind (docs/import.md lists them); import reads that subset back so that
//! `import(export(m)) == m`, and refuses anything else naming the node and why. Every number
//! in the exported graph is an integer that float32 holds exactly, so qonnx's executor
//! computes bnngen's integer scores to the bit (the affine map from its float outputs to
//! bnngen's scores is the identity).
//!
//! Files: `proto.rs` (the ONNX protobuf messages), `graph.rs` (building a graph),
//! `export.rs`, `import.rs` (node patterns back to layers), `scores.rs` (the classifier's
//! scores), `tensor.rs` (bounded reads of constant tensors).

mod activation;
mod blocks;
pub mod export;
mod front_end;
mod graph;
pub mod import;
mod layers;
pub mod proto;
mod score_map;
mod scores;
mod tensor;
mod walk;

pub use export::{export, ExportError};
pub use import::{import, import_file, import_file_scored, ImportError, ImportOptions};
pub use score_map::ScoreMap;

/// The domain of QONNX's general custom operators (MultiThreshold, BipolarQuant, IntQuant).
pub const QONNX_DOMAIN: &str = "qonnx.custom_op.general";
/// The older name of that domain, which FINN and older Brevitas releases write.
pub const FINN_DOMAIN: &str = "finn.custom_op.general";
/// The standard ONNX operator set version the export uses.
pub const ONNX_OPSET: i64 = 13;

/// Metadata keys (`ModelProto.metadata_props`) under which the export records what the graph
/// alone does not say: how the file spelled things that compute the same. The importer uses
/// them when they agree with the graph and ignores them otherwise.
pub mod keys {
    /// Pixel bit depth B of the input.
    pub const INPUT_BITS: &str = "bnngen.input_bits";
    /// `glt`, `glt_shared`, `uniform` or `binary`.
    pub const FRONT_END: &str = "bnngen.front_end";
    pub const PROVENANCE: &str = "bnngen.provenance";
    /// Class names as a JSON list of strings.
    pub const CLASSES: &str = "bnngen.classes";
    /// Prefix of `bnngen.blocks.<layer name>` = `<in_blocks>x<out_blocks>`.
    pub const BLOCKS_PREFIX: &str = "bnngen.blocks.";
    /// Prefix of `bnngen.pad_mode.<layer name>` = `minus_one`, `plus_one` or `zero`, for a
    /// conv without padding (the mode changes nothing then, but the model file states it).
    pub const PAD_MODE_PREFIX: &str = "bnngen.pad_mode.";
}

/// Largest integer magnitude up to which every integer is exact in float32 (2^24): sums,
/// thresholds and scores in an exported graph stay within it.
pub const F32_EXACT: i64 = 1 << 24;
