//! The validated model: what a trained fully-binarized network computes, fixed to the bit.
//!
//! A `Model` is only ever built by [`load`] / [`parse`] (or by code that then calls
//! [`Model::validate`]), so every later stage (reference model, plan, RTL) may rely on the
//! invariants written on these types: shapes chain, weight lengths match the kept tiles,
//! thresholds are ordered. The text format is described in `docs/model-format.md`; the serde
//! schema lives in `schema.rs`, the checks in `validate.rs`.

pub mod annotate;
mod bits;
mod error;
mod image;
pub mod limits;
mod locate;
mod schema;
pub mod toml_lines;
mod validate;
mod write;

pub use bits::{Bits, HexError};
pub use error::{Diagnostic, LayerRef, ModelErrors};
pub use image::Image;
pub use validate::{load, parse};
pub use write::to_toml;

/// The only `format_version` this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A validated fully-binarized network.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub meta: Meta,
    pub input: InputSpec,
    pub front_end: FrontEnd,
    /// Layers in execution order; the last one is the classifier.
    pub layers: Vec<Layer>,
}

/// Free-text facts about the model; nothing here changes what it computes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Meta {
    pub name: String,
    pub description: String,
    pub provenance: String,
    /// Class names, one per classifier output, or empty when unnamed.
    pub classes: Vec<String>,
}

/// The image as the sensor delivers it: `channels` values of `bits` bits per pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputSpec {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    /// Pixel bit depth B, 1..=16; pixel values are 0..2^B - 1.
    pub bits: u32,
}

impl InputSpec {
    pub fn max_pixel(&self) -> u32 {
        (1u32 << self.bits) - 1
    }
}

/// How pixels become binary planes: the block that replaces the ADC.
#[derive(Debug, Clone, PartialEq)]
pub enum FrontEnd {
    /// Thermometer code: plane k of channel c is `pixel_c >= thresholds[c][k]`.
    Thermometer(Thermometer),
    /// Natural-binary ADC code: plane k of channel c is bit k of the pixel (k = 0 is the LSB).
    Binary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThermometerKind {
    /// Learned thresholds (GLT), as stored in the file.
    Glt,
    /// Evenly spaced thresholds derived from M and the bit depth.
    Uniform,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Thermometer {
    pub kind: ThermometerKind,
    /// M, the number of thresholds (planes) per channel, 1..=255.
    pub levels: usize,
    /// Whether one set of thresholds serves every channel (as written in the file).
    pub shared: bool,
    /// One strictly increasing list of M thresholds per input channel, each in 0..=2^B - 1
    /// (a shared set is repeated here, so consumers never branch on `shared`).
    pub thresholds: Vec<Vec<u32>>,
}

/// The uniform thermometer rule: `t_k = floor((k + 1) * 2^B / (M + 1))` for k in 0..M.
/// Strictly increasing and inside 1..=2^B - 1 whenever M <= 2^B - 1.
pub fn uniform_thresholds(levels: usize, bits: u32) -> Vec<u32> {
    let range = 1u64 << bits;
    (0..levels as u64)
        .map(|k| ((k + 1) * range / (levels as u64 + 1)) as u32)
        .collect()
}

impl FrontEnd {
    /// Binary planes produced per input channel (M, or B for the binary code).
    pub fn planes_per_channel(&self, input: &InputSpec) -> usize {
        match self {
            FrontEnd::Thermometer(t) => t.levels,
            FrontEnd::Binary => input.bits as usize,
        }
    }

    /// Comparators a thermometer front end needs (C x M); zero for the binary ADC code.
    pub fn comparators(&self, input: &InputSpec) -> usize {
        match self {
            FrontEnd::Thermometer(t) => t.levels * input.channels,
            FrontEnd::Binary => 0,
        }
    }

    /// The front end's output shape: channel index is `c * planes + k`.
    pub fn output_shape(&self, input: &InputSpec) -> Shape {
        Shape {
            height: input.height,
            width: input.width,
            channels: input.channels * self.planes_per_channel(input),
        }
    }

    /// Plane bit `k` of one pixel value `v` on channel `c` (`_input` is kept so callers need
    /// not know which front ends read the pixel depth; none does today).
    pub fn plane(&self, _input: &InputSpec, c: usize, k: usize, v: u32) -> bool {
        match self {
            FrontEnd::Thermometer(t) => v >= t.thresholds[c][k],
            FrontEnd::Binary => (v >> k) & 1 == 1,
        }
    }
}

/// Height x width x channels of a binary tensor. Tensors are indexed (y, x, c), channel fastest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
}

impl Shape {
    /// `1 x 1 x channels`: the output of a dense or classifier layer.
    pub fn vector(channels: usize) -> Shape {
        Shape {
            height: 1,
            width: 1,
            channels,
        }
    }
    pub fn len(&self) -> usize {
        self.height * self.width * self.channels
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}x{}", self.height, self.width, self.channels)
    }
}

/// One layer with the shapes it reads and writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Unique among the model's layers.
    pub name: String,
    pub input: Shape,
    /// For the classifier: 1 x 1 x classes (the scores).
    pub output: Shape,
    pub kind: LayerKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LayerKind {
    Conv(Conv),
    MaxPool(MaxPool),
    Residual(Residual),
    Dense(Dense),
    Classifier(Classifier),
}

impl LayerKind {
    /// The `kind` string used in the file.
    pub fn tag(&self) -> &'static str {
        match self {
            LayerKind::Conv(_) => "conv",
            LayerKind::MaxPool(_) => "maxpool",
            LayerKind::Residual(_) => "residual",
            LayerKind::Dense(_) => "dense",
            LayerKind::Classifier(_) => "classifier",
        }
    }

    /// The binary weights of the layer, if it has any.
    pub fn weights(&self) -> Option<&BlockWeights> {
        match self {
            LayerKind::Conv(c) => Some(&c.weights),
            LayerKind::Dense(d) => Some(&d.weights),
            LayerKind::Classifier(c) => Some(&c.weights),
            LayerKind::MaxPool(_) | LayerKind::Residual(_) => None,
        }
    }

    /// A weighted layer whose mask keeps no tile: every sum is a = 0 (N = 0), so its output
    /// is the same at every position and for every input (docs/model-format.md).
    pub fn fully_pruned(&self) -> bool {
        self.weights().is_some_and(|w| w.kept_tiles() == 0)
    }
}

/// How taps that fall outside the image contribute to a convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PadMode {
    /// Padded taps hold -1 (bit 0) and count in N.
    MinusOne,
    /// Padded taps hold +1 (bit 1) and count in N.
    PlusOne,
    /// Padded taps contribute nothing: N counts only taps inside the image.
    Zero,
}

impl PadMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PadMode::MinusOne => "minus_one",
            PadMode::PlusOne => "plus_one",
            PadMode::Zero => "zero",
        }
    }
}

/// Binary 2-D convolution with a block mask and threshold activations.
#[derive(Debug, Clone, PartialEq)]
pub struct Conv {
    pub stride: usize,
    /// Same padding on all four sides.
    pub padding: usize,
    pub pad_mode: PadMode,
    /// `kernel_h x kernel_w` window over the input channels.
    pub weights: BlockWeights,
    pub activation: Thresholds,
}

/// Max-pool over binary values, which is OR. No padding; output = floor((H - k) / s) + 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPool {
    pub kernel: usize,
    pub stride: usize,
}

/// Bitwise combine of the current tensor with the output of an earlier layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Residual {
    /// Index into `Model::layers` of the layer whose output is combined.
    pub with: usize,
    pub op: ResidualOp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResidualOp {
    Or,
    And,
    Xor,
    Xnor,
}

impl ResidualOp {
    pub fn apply(self, a: bool, b: bool) -> bool {
        match self {
            ResidualOp::Or => a | b,
            ResidualOp::And => a & b,
            ResidualOp::Xor => a ^ b,
            ResidualOp::Xnor => !(a ^ b),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ResidualOp::Or => "or",
            ResidualOp::And => "and",
            ResidualOp::Xor => "xor",
            ResidualOp::Xnor => "xnor",
        }
    }
}

/// Binary fully connected layer with threshold activations. It is the convolution whose
/// window is the whole input (kernel = H x W, no padding), so its weight row order is the
/// flattening order: (y, x, c), channel fastest, per input block.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    pub weights: BlockWeights,
    pub activation: Thresholds,
}

/// The last layer: a dense layer whose integer scores `a_k + bias_k` are the output; the class
/// is the argmax, ties to the lowest index.
#[derive(Debug, Clone, PartialEq)]
pub struct Classifier {
    pub weights: BlockWeights,
    pub bias: Vec<i64>,
}

/// Per-output-channel threshold activation folded from batch norm.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    pub thresholds: Vec<i64>,
    pub directions: Vec<Direction>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Output bit = a >= t (batch-norm scale > 0).
    Up,
    /// Output bit = a <= t (batch-norm scale < 0).
    Down,
}

impl Thresholds {
    /// The output bit of channel `o` for signed sum `a`.
    pub fn fire(&self, o: usize, a: i64) -> bool {
        match self.directions[o] {
            Direction::Up => a >= self.thresholds[o],
            Direction::Down => a <= self.thresholds[o],
        }
    }
}

/// Weights of a binary layer cut into (out-block, in-block) tiles, storing kept tiles only.
///
/// Invariants: `in_channels % in_blocks == 0`, `out_channels % out_blocks == 0`,
/// `mask.len() == out_blocks * in_blocks`, and `bits.len() == kept tiles * out-per-block *
/// row_len()`. Stream order: kept tiles in mask order (out-block major), then the tile's
/// output channels ascending, then the row (ky, kx, input channel within the block), channel
/// fastest.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockWeights {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub in_blocks: usize,
    pub out_blocks: usize,
    /// Kept flag of tile (ob, ib) at `ob * in_blocks + ib`.
    pub mask: Vec<bool>,
    pub bits: Bits,
}

impl BlockWeights {
    pub fn in_per_block(&self) -> usize {
        self.in_channels / self.in_blocks
    }
    pub fn out_per_block(&self) -> usize {
        self.out_channels / self.out_blocks
    }
    /// Bits in one output channel's row of one tile: kernel_h * kernel_w * in_per_block.
    pub fn row_len(&self) -> usize {
        self.kernel_h * self.kernel_w * self.in_per_block()
    }
    pub fn kept(&self, ob: usize, ib: usize) -> bool {
        self.mask[ob * self.in_blocks + ib]
    }
    pub fn kept_tiles(&self) -> usize {
        self.mask.iter().filter(|&&k| k).count()
    }
    pub fn total_tiles(&self) -> usize {
        self.mask.len()
    }
    /// Bits stored for the kept tiles (what `bits.len()` must be).
    pub fn stored_bits(&self) -> usize {
        self.kept_tiles() * self.out_per_block() * self.row_len()
    }
    /// Position of tile (ob, ib) among kept tiles, or None when pruned.
    pub fn tile_index(&self, ob: usize, ib: usize) -> Option<usize> {
        if !self.kept(ob, ib) {
            return None;
        }
        let flat = ob * self.in_blocks + ib;
        Some(self.mask[..flat].iter().filter(|&&k| k).count())
    }
    /// First stream bit of output channel `o`'s row in in-block `ib`, or None when pruned.
    pub fn row_start(&self, o: usize, ib: usize) -> Option<usize> {
        let opb = self.out_per_block();
        let t = self.tile_index(o / opb, ib)?;
        Some((t * opb + o % opb) * self.row_len())
    }
    /// Weight bit of output `o` at tap (ky, kx) and input channel `ci`, or None when its tile
    /// is pruned.
    pub fn weight(&self, o: usize, ky: usize, kx: usize, ci: usize) -> Option<bool> {
        let ipb = self.in_per_block();
        let start = self.row_start(o, ci / ipb)?;
        Some(
            self.bits
                .get(start + (ky * self.kernel_w + kx) * ipb + ci % ipb),
        )
    }
    /// Number of kept in-blocks of out-block `ob`.
    pub fn kept_in_blocks(&self, ob: usize) -> usize {
        (0..self.in_blocks).filter(|&ib| self.kept(ob, ib)).count()
    }
}

/// Summary figures of a model, as `bnngen check` prints them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub weight_bits_stored: usize,
    pub weight_bits_dense: usize,
    pub kept_tiles: usize,
    pub total_tiles: usize,
    pub binary_macs_per_frame: u64,
    pub comparators: usize,
}

impl Model {
    /// Shape of the front end's output (the first layer's input).
    pub fn front_end_shape(&self) -> Shape {
        self.front_end.output_shape(&self.input)
    }

    /// Number of classes (classifier outputs).
    pub fn classes(&self) -> usize {
        self.layers.last().map(|l| l.output.channels).unwrap_or(0)
    }

    /// Binary MACs one frame costs in a layer, counting kept tiles only (every tap position
    /// of the window, padded or not, as the hardware visits it).
    pub fn layer_macs(layer: &Layer) -> u64 {
        let Some(w) = layer.kind.weights() else {
            return 0;
        };
        let pixels = (layer.output.height * layer.output.width) as u64;
        pixels * (w.stored_bits() as u64)
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            weight_bits_stored: 0,
            weight_bits_dense: 0,
            kept_tiles: 0,
            total_tiles: 0,
            binary_macs_per_frame: 0,
            comparators: self.front_end.comparators(&self.input),
        };
        for l in &self.layers {
            if let Some(w) = l.kind.weights() {
                s.weight_bits_stored += w.stored_bits();
                s.weight_bits_dense += w.out_channels * w.kernel_h * w.kernel_w * w.in_channels;
                s.kept_tiles += w.kept_tiles();
                s.total_tiles += w.total_tiles();
            }
            s.binary_macs_per_frame += Self::layer_macs(l);
        }
        s
    }

    /// Index of the layer named `name`.
    pub fn layer_index(&self, name: &str) -> Option<usize> {
        self.layers.iter().position(|l| l.name == name)
    }
}
