//! The memories a layer's stage declares, with the shapes and `ram_style` marks the RTL gives
//! them (`rtl/window/line_buffer.rs`, `rtl/window/mac.rs`, `rtl/bank.rs`, `rtl/stream.rs`).
//!
//! Why a list and not a formula: block RAM comes in whole blocks, so a count is exact only if
//! every memory is counted with its own width and depth and placed by the family's rule
//! (`ram.rs`). The shapes here follow the generator's: a change there changes this list, and
//! the comparison with Yosys (`tests/cost.rs`) shows it.

use super::layout::RomLayout;
use super::ram::{RamFamily, Shape, Style, BLOCK_RAM_BITS};
use super::widths::{bits_for, popcount_width, signed_bits_for};
use crate::model::{BlockWeights, LayerKind, Model};
use crate::plan::{LayerPlan, Plan};

/// What a memory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Input rows of a window stage.
    LineBuffer,
    /// Pixels a residual waits for on its skip path.
    SkipFifo,
    /// Weight words (one bank of the weight ROM).
    Weights,
    /// Per-step flags of the kept tiles.
    EntryTable,
    /// Per-group thresholds or biases.
    GroupTable,
}

/// One memory array of the generated RTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    pub role: Role,
    pub shape: Shape,
}

impl Memory {
    fn new(role: Role, width: u32, depth: usize, rom: bool, style: Style, used: Vec<bool>) -> Self {
        Memory {
            role,
            shape: Shape {
                width,
                depth,
                rom,
                style,
                used,
            },
        }
    }

    pub fn bits(&self) -> u64 {
        self.shape.width as u64 * self.shape.depth as u64
    }
}

/// Every column of a `width`-bit word.
fn all(width: u32) -> Vec<bool> {
    vec![true; width as usize]
}

/// The style `ModuleBuilder::memory` gives an unmarked memory of this size.
fn default_style(width: u32, depth: usize) -> Style {
    if width as usize * depth >= BLOCK_RAM_BITS {
        Style::Block
    } else {
        Style::Auto
    }
}

/// A table read through `rtl::build::rom` (one word: a constant, no memory).
fn rom(out: &mut Vec<Memory>, role: Role, width: u32, depth: usize) {
    if depth > 1 && width > 0 {
        let style = default_style(width, depth);
        out.push(Memory::new(role, width, depth, true, style, all(width)));
    }
}

/// A table read through `rtl::bank::rom2`: the memories of its `RomLayout`.
fn rom2(out: &mut Vec<Memory>, role: Role, layout: RomLayout) {
    let (width, style) = (layout.width, layout.style());
    for d in layout.memory_depths() {
        out.push(Memory::new(role, width, d, true, style, all(width)));
    }
}

/// Largest number of taps one output channel sums: its kept in-blocks times a tile row.
pub(super) fn max_taps(w: &BlockWeights) -> usize {
    let kept = (0..w.out_blocks).map(|ob| w.kept_in_blocks(ob));
    kept.max().unwrap_or(0) * w.row_len()
}

/// Width of a lane's accumulator (`mac.rs`, `accumulate`) for `simd` bits per lane and step
/// (SIMD x taps).
pub(super) fn acc_width(w: &BlockWeights, simd: usize) -> u32 {
    let n = max_taps(w) as i64;
    signed_bits_for(-n, n).max(popcount_width(simd as u32) + 1)
}

/// Width of a classifier score (`window::score_layout`).
pub(super) fn score_width(w: &BlockWeights, bias: &[i64]) -> u32 {
    let n = max_taps(w) as i64;
    let lo = bias.iter().map(|&b| b - n).min().unwrap_or(0);
    let hi = bias.iter().map(|&b| b + n).max().unwrap_or(0);
    signed_bits_for(lo, hi)
        .max(signed_bits_for(-n, n))
        .max(popcount_width(w.in_per_block() as u32) + 1)
}

/// The (out-group, entry) counts of a MAC stage's schedule (`window/schedule.rs`): a group
/// per `pe` output channels of each out-block with a kept tile, an entry per kept tile of
/// each group.
pub(super) fn schedule_size(w: &BlockWeights, pe: usize) -> (usize, usize) {
    let per_block = w.out_per_block() / pe;
    let mut groups = 0;
    let mut entries = 0;
    for ob in 0..w.out_blocks {
        let kept = w.kept_in_blocks(ob);
        if kept > 0 {
            groups += per_block;
            entries += per_block * kept;
        }
    }
    (groups, entries)
}

/// Which input channels a stage reads: a MAC layer only those of in-blocks that some
/// out-block keeps, every other stage all. Synthesis removes a block RAM none of whose
/// columns is read (the placement is still chosen on the declared width); measured on
/// Yosys 0.23, the flattened and the per-module runs agree, so no use further downstream is
/// traced.
fn read_channels(model: &Model, idx: usize) -> Vec<bool> {
    let l = &model.layers[idx];
    match l.kind.weights() {
        Some(w) => (0..w.in_channels)
            .map(|c| (0..w.out_blocks).any(|ob| w.kept(ob, c / w.in_per_block())))
            .collect(),
        None => vec![true; l.input.channels],
    }
}

/// Width and depth of a MAC layer's weight ROM (`rtl/window/mac.rs`, `weight_rom`): one
/// PE x (taps x SIMD) word per issue step of the kept tiles.
pub fn weight_rom_shape(w: &BlockWeights, lp: &LayerPlan) -> (u32, usize) {
    let (_, entries) = schedule_size(w, lp.pe);
    let chunks = w.in_per_block() / lp.simd;
    let steps = entries * (w.kernel_h * w.kernel_w / lp.taps) * chunks;
    ((lp.pe * lp.simd * lp.taps) as u32, steps)
}

/// How a MAC layer's weight ROM is laid out for `ram`: by the family's rule, or in logic when
/// the plan moved it there.
pub fn weight_rom_layout(w: &BlockWeights, lp: &LayerPlan, ram: RamFamily) -> RomLayout {
    let (width, depth) = weight_rom_shape(w, lp);
    RomLayout::weights(width, depth, ram, lp.weights_in_logic)
}

/// Memories of layer `idx` when its RTL is generated for `ram`.
pub fn layer_memories(model: &Model, plan: &Plan, idx: usize, ram: RamFamily) -> Vec<Memory> {
    let l = &model.layers[idx];
    let lp: &LayerPlan = &plan.layers[idx];
    let mut out = Vec::new();
    if let LayerKind::Residual(_) = &l.kind {
        let width = l.output.channels as u32;
        if lp.rows > 0 {
            let style = default_style(width, lp.rows);
            let u = all(width);
            out.push(Memory::new(Role::SkipFifo, width, lp.rows, false, style, u));
        }
        return out;
    }
    // Every other stage is a window stage with a line buffer of `rows` slots, each a power
    // of two pixels wide; a narrow ring holds groups of chunks instead, or a max-pool's
    // 16-bit groups (`ring.rs`).
    let words = lp.rows * l.input.width.next_power_of_two();
    let narrow = super::ring::layer_ring(model, plan, idx, ram);
    if let Some(n) = narrow {
        let depth = n.depth(words);
        let style = default_style(n.group_bits, depth);
        let u = all(n.group_bits);
        out.push(Memory::new(
            Role::LineBuffer,
            n.group_bits,
            depth,
            false,
            style,
            u,
        ));
    }
    let (c, depth) = (l.input.channels as u32, words);
    let style = default_style(c, depth);
    // One copy of the ring per kernel tap a step takes (`rtl::window::line_buffer`).
    for _ in 0..(lp.taps * usize::from(narrow.is_none())) {
        out.push(Memory::new(
            Role::LineBuffer,
            c,
            depth,
            false,
            style,
            read_channels(model, idx),
        ));
    }
    let Some(w) = l.kind.weights() else {
        return out;
    };
    let pe = lp.pe;
    let (groups, entries) = schedule_size(w, pe);
    let multi_ib = w.in_blocks > 1;
    let multi_ent = (0..w.out_blocks).any(|ob| w.kept_in_blocks(ob) > 1);
    let ent_w = if multi_ib {
        bits_for(w.in_blocks as u64 - 1)
    } else {
        0
    } + if multi_ent {
        1 + u32::from(groups > 1)
    } else {
        0
    };
    if multi_ib || multi_ent {
        rom2(
            &mut out,
            Role::EntryTable,
            RomLayout::new(ent_w, entries, ram),
        );
    }
    rom2(&mut out, Role::Weights, weight_rom_layout(w, lp, ram));
    rom(&mut out, Role::GroupTable, group_table_width(l, lp), groups);
    out
}

/// Bits of a MAC stage's group-table word: per lane, a threshold and its direction, or a
/// classifier's bias.
pub fn group_table_width(l: &crate::model::Layer, lp: &LayerPlan) -> u32 {
    let w = l.kind.weights().expect("a MAC layer has weights");
    match &l.kind {
        LayerKind::Classifier(c) => lp.pe as u32 * score_width(w, &c.bias),
        _ => lp.pe as u32 * (acc_width(w, lp.simd * lp.taps) + 2),
    }
}
