//! What a window stage is asked to build: its geometry, its operation (max-pool OR, or an
//! XNOR-popcount MAC with thresholds or classifier scores), and the widths both the stage and
//! the top derive from them. Every part of the stage reads these; none of them is read back.

use crate::model::{BlockWeights, PadMode, Shape, Thresholds};
use crate::plan::Handoff;
use crate::rtl::bank::RamFamily;
use crate::rtl::netlist::{bits_for, signed_bits_for};
use crate::rtl::popcount_tree::popcount_width;

/// What the stage computes over its window.
pub enum WindowOp<'a> {
    /// Binary max-pool: OR of the window, all channels at once (`groups` 1), or one 16-bit
    /// group of channels per step from a narrow ring (`LayerPlan::ring_groups`).
    Or { groups: usize },
    /// XNOR-popcount over kept tiles, folded onto `pe` x `simd` x `taps` lanes (`taps`
    /// kernel taps per cycle, a legal count of `plan::tap_shape`).
    Mac {
        w: &'a BlockWeights,
        pe: usize,
        simd: usize,
        taps: usize,
        pop_stages: u32,
        out: MacOut<'a>,
    },
}

pub enum MacOut<'a> {
    Threshold(&'a Thresholds),
    /// Classifier scores `a + bias`, plus the argmax class.
    Scores(&'a [i64]),
}

/// Geometry and operation of one window stage.
pub struct WindowSpec<'a> {
    pub module: String,
    pub input: Shape,
    pub out_h: usize,
    pub out_w: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: usize,
    pub pad: usize,
    pub pad_mode: PadMode,
    /// Line-buffer rows (row slots of the ring).
    pub rows: usize,
    /// Block-RAM geometry for weight-ROM banks.
    pub ram: RamFamily,
    /// `Some(base)`: the weight ROM is in SPRAM at image address `base`, and the stage has
    /// the load bus ports (`spram.rs`).
    pub spram: Option<crate::plan::cost::spram::SpramStore>,
    /// The weight ROM is kept in logic at any size (`LayerPlan::weights_in_logic`).
    pub weights_in_logic: bool,
    /// `GenOptions::ecp5_cells`: block-RAM tables and line buffers as ECP5 cells.
    pub ecp5_cells: bool,
    /// `GenOptions::rw_poison`: invert a line-buffer read that hits the row being written.
    pub rw_poison: bool,
    /// How the output word is handed on (the plan's choice).
    pub handoff: Handoff,
    /// The line buffer is a narrow ring (`plan::cost::ring::layer_ring`).
    pub ring: Option<crate::plan::cost::ring::NarrowRing>,
    /// Words the output pixel is handed on in, one after another (`plan::words`): a dense
    /// layer's PE groups, a word's worth at a time. 1: one word of all channels.
    pub out_words: usize,
    pub op: WindowOp<'a>,
}

/// Width of a classifier score and of the class index for a layer with these weights/bias.
pub fn score_layout(w: &BlockWeights, bias: &[i64]) -> (u32, u32) {
    let n = max_taps(w) as i64;
    let lo = bias.iter().map(|&b| b - n).min().unwrap_or(0);
    let hi = bias.iter().map(|&b| b + n).max().unwrap_or(0);
    // At least as wide as the accumulator (see `datapath`), so sign extension never narrows.
    let s = signed_bits_for(lo, hi)
        .max(signed_bits_for(-n, n))
        .max(popcount_width(w.in_per_block() as u32) + 1);
    let cw = bits_for(w.out_channels.saturating_sub(1) as u64);
    (s, cw)
}

/// Largest N (counted taps) of any output: kept in-blocks x row length.
pub(super) fn max_taps(w: &BlockWeights) -> usize {
    (0..w.out_blocks)
        .map(|ob| w.kept_in_blocks(ob))
        .max()
        .unwrap_or(0)
        * w.row_len()
}

impl WindowSpec<'_> {
    /// Kernel taps per cycle as (rows, columns) of the window (`plan::tap_shape`); (1, 1)
    /// for max-pool.
    pub fn tap_shape(&self) -> (usize, usize) {
        match &self.op {
            WindowOp::Or { .. } => (1, 1),
            WindowOp::Mac { taps, .. } => crate::plan::tap_shape(self.kh, self.kw, *taps)
                .unwrap_or_else(|| panic!("{}: taps {taps} not checked by the plan", self.module)),
        }
    }

    pub fn out_width(&self) -> u32 {
        match &self.op {
            WindowOp::Or { .. } => self.input.channels as u32,
            WindowOp::Mac {
                w,
                out: MacOut::Threshold(_),
                ..
            } => (w.out_channels / self.out_words) as u32,
            WindowOp::Mac {
                w,
                out: MacOut::Scores(bias),
                ..
            } => {
                let (s, cw) = score_layout(w, bias);
                cw + s * w.out_channels as u32
            }
        }
    }
}
