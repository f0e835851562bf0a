//! Energy per frame of the same design built as an ASIC: an estimate from operation counts.
//!
//! The use the design is made for is always-on inference inside a sensor, where energy per
//! frame is the figure that matters. The counts per frame follow from the plan exactly:
//! XNOR-popcount operations (binary MACs), accumulator and bias additions, comparisons
//! (thermometer front end, thresholds, argmax), bits read from and written to memories, and
//! flip-flop bits clocked. Each is weighed by a per-operation energy from
//!
//!   M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014,
//!   Digest of Technical Papers, pp. 10-14 (45 nm, 0.9 V): integer add 0.03 pJ (8 bit) and
//!   0.1 pJ (32 bit); 64-bit cache read 10 pJ (8 KB), 20 pJ (32 KB), 100 pJ (1 MB).
//!
//! How the figures are used:
//! - an adder costs 0.03 pJ / 8 = 3.75 fJ per bit (the 8-bit add); a comparison of `n` bits is
//!   an `n`-bit subtraction, so the same per bit;
//! - one XNOR-popcount operation (an XNOR and its share of the pop-count tree, about one
//!   full adder per input bit) costs one adder bit;
//! - a memory bit read or written costs 1/64 of the 64-bit access of the smallest cache in the
//!   table that holds the memory (8 KB, 32 KB, else 1 MB);
//! - a flip-flop bit clocked costs one adder bit: an assumption (the table has no register
//!   entry), stated here and in the output.
//!
//! Idle stages are taken as clock-gated: a stage's registers count for its busy cycles only.
//! This is an estimate: no wires, no clock tree, no leakage.

use super::memory::{acc_width, layer_memories, schedule_size, score_width, Role};
use super::ram::RamFamily;
use super::PartCost;
use crate::model::{FrontEnd, LayerKind, Model};
use crate::plan::{Placement, Plan};
use serde::Serialize;

/// 8-bit integer add, pJ (Horowitz 2014).
pub const ADD8_PJ: f64 = 0.03;
/// One adder bit, pJ: the 8-bit add over 8.
pub const ADDER_BIT_PJ: f64 = ADD8_PJ / 8.0;
/// 64-bit reads of an 8 KB, 32 KB and 1 MB cache, pJ (Horowitz 2014), with the bits each
/// holds.
pub const CACHE_64BIT_PJ: [(u64, f64); 3] = [
    (8 * 1024 * 8, 10.0),
    (32 * 1024 * 8, 20.0),
    (1024 * 1024 * 8, 100.0),
];

/// Operations and bits per frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FrameCounts {
    /// Binary MACs: one XNOR and its pop count each.
    pub xnor_popcount: u64,
    /// Accumulator and bias additions, and the bits they add.
    pub additions: u64,
    pub addition_bits: u64,
    /// Comparisons (thermometer, thresholds, argmax), and their bits.
    pub comparisons: u64,
    pub comparison_bits: u64,
    pub memory_bits_read: u64,
    pub memory_bits_written: u64,
    /// Flip-flop bits clocked (estimated flip-flops x busy cycles).
    pub register_bits: u64,
}

/// Energy of one frame, by what spends it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameEnergy {
    pub counts: FrameCounts,
    pub xnor_popcount_pj: f64,
    pub arithmetic_pj: f64,
    pub memory_pj: f64,
    pub register_pj: f64,
    pub total_pj: f64,
    /// What the figure is: always printed with it.
    pub note: &'static str,
}

/// The words printed beside the figure.
pub const NOTE: &str = "estimate: 45 nm ASIC operation energies (Horowitz, ISSCC 2014); \
     flip-flop bit = one adder bit (assumed); no wires, clock tree or leakage";

/// Energy per bit of one access to a memory of `bits` bits.
pub fn memory_bit_pj(bits: u64) -> f64 {
    let pj = CACHE_64BIT_PJ
        .iter()
        .find(|(cap, _)| bits <= *cap)
        .map_or(CACHE_64BIT_PJ[2].1, |c| c.1);
    pj / 64.0
}

/// Count and weigh one frame of `model` under `plan`; `parts` are the cost model's parts
/// (front end first, then the layers), whose flip-flops are clocked.
pub fn frame_energy(model: &Model, plan: &Plan, parts: &[PartCost]) -> FrameEnergy {
    let mut n = FrameCounts::default();
    let mut memory_pj = 0.0;
    let input_pixels = (model.input.height * model.input.width) as u64;
    if let (FrontEnd::Thermometer(t), Placement::Digital) = (&model.front_end, plan.front_end) {
        let cmp = input_pixels * (t.levels * model.input.channels) as u64;
        n.comparisons += cmp;
        n.comparison_bits += cmp * model.input.bits as u64;
    }
    for idx in 0..model.layers.len() {
        let (read, written, pj) = layer_memory_traffic(model, plan, idx);
        n.memory_bits_read += read;
        n.memory_bits_written += written;
        memory_pj += pj;
        layer_ops(model, plan, idx, &mut n);
    }
    n.register_bits = parts.first().map_or(0, |p| p.ecp5.ffs) * input_pixels;
    for (idx, p) in parts.iter().skip(1).enumerate() {
        n.register_bits += p.ecp5.ffs * plan.layers[idx].cycles_per_frame;
    }
    let xnor_popcount_pj = n.xnor_popcount as f64 * ADDER_BIT_PJ;
    let arithmetic_pj = (n.addition_bits + n.comparison_bits) as f64 * ADDER_BIT_PJ;
    let register_pj = n.register_bits as f64 * ADDER_BIT_PJ;
    FrameEnergy {
        counts: n,
        xnor_popcount_pj,
        arithmetic_pj,
        memory_pj,
        register_pj,
        total_pj: xnor_popcount_pj + arithmetic_pj + memory_pj + register_pj,
        note: NOTE,
    }
}

/// Issue steps per output pixel of a MAC layer (without the hand-off cycle).
fn steps(model: &Model, plan: &Plan, idx: usize) -> u64 {
    let lp = &plan.layers[idx];
    let pixels = (model.layers[idx].output.height * model.layers[idx].output.width) as u64;
    (lp.cycles_per_frame / pixels).saturating_sub(plan.handoff.cycles_per_pixel())
}

/// Arithmetic of layer `idx` per frame.
fn layer_ops(model: &Model, plan: &Plan, idx: usize, n: &mut FrameCounts) {
    let l = &model.layers[idx];
    let lp = &plan.layers[idx];
    let pixels = (l.output.height * l.output.width) as u64;
    let Some(w) = l.kind.weights() else {
        return;
    };
    let s = steps(model, plan, idx);
    let (pe, simd) = (lp.pe as u64, (lp.simd * lp.taps) as u64);
    n.xnor_popcount += pixels * s * pe * simd;
    let aw = acc_width(w, lp.simd * lp.taps) as u64;
    n.additions += pixels * s * pe;
    n.addition_bits += pixels * s * pe * aw;
    let k = w.out_channels as u64;
    match &l.kind {
        LayerKind::Classifier(c) => {
            let sw = score_width(w, &c.bias) as u64;
            n.additions += pixels * k;
            n.addition_bits += pixels * k * sw;
            n.comparisons += pixels * k.saturating_sub(1);
            n.comparison_bits += pixels * k.saturating_sub(1) * sw;
        }
        _ => {
            n.comparisons += pixels * k;
            n.comparison_bits += pixels * k * (aw + 1);
        }
    }
}

/// Bits read and written per frame in layer `idx`'s memories, and their energy.
fn layer_memory_traffic(model: &Model, plan: &Plan, idx: usize) -> (u64, u64, f64) {
    let l = &model.layers[idx];
    let lp = &plan.layers[idx];
    let pixels = (l.output.height * l.output.width) as u64;
    let in_pixels = (l.input.height * l.input.width) as u64;
    let mems = layer_memories(model, plan, idx, RamFamily::Ecp5);
    let reads_per_pixel = match &l.kind {
        LayerKind::MaxPool(m) => (m.kernel * m.kernel) as u64,
        LayerKind::Residual(_) => 1,
        _ => steps(model, plan, idx),
    };
    let groups = l
        .kind
        .weights()
        .map_or(0, |w| schedule_size(w, lp.pe).0 as u64);
    let (mut read, mut written, mut pj) = (0, 0, 0.0);
    // Banks of one table: one bank is read per step, and the access costs as in the whole
    // table.
    let mut table_bits = std::collections::BTreeMap::new();
    for m in &mems {
        *table_bits.entry(m.role as u8).or_insert(0u64) += m.bits();
    }
    let mut seen = std::collections::BTreeSet::new();
    for m in &mems {
        if !seen.insert(m.role as u8) {
            continue;
        }
        let w = m.shape.width as u64;
        let (r, wr) = match m.role {
            Role::LineBuffer => (pixels * reads_per_pixel * w, in_pixels * w),
            Role::SkipFifo => (pixels * w, pixels * w),
            Role::Weights | Role::EntryTable => (pixels * reads_per_pixel * w, 0),
            Role::GroupTable => (pixels * groups * w, 0),
        };
        read += r;
        written += wr;
        pj += (r + wr) as f64 * memory_bit_pj(table_bits[&(m.role as u8)]);
    }
    (read, written, pj)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `models/tiny.toml` under the default hardware configuration, counted by hand from its
    /// plan (conv1 pe 4 simd 3, 9 steps; conv2 pe 2 simd 2, 27 steps over 3 kept tiles; fc1
    /// pe 2 simd 4, 36 steps; head pe 1 simd 1, 24 steps; 36 pixels into a 3-level GLT).
    #[test]
    fn tiny_counts_match_the_hand_count() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/tiny.toml");
        let m = crate::model::load(&path).unwrap();
        let p = crate::plan::set_folding(&m, &Default::default()).unwrap();
        let c = crate::plan::cost::estimate(&m, &p);
        let n = c.energy.counts;
        // XNOR-popcount: 36 x 9 x 12 + 36 x 27 x 4 + 36 x 8 + 24 x 1.
        assert_eq!(n.xnor_popcount, 3888 + 3888 + 288 + 24);
        // Accumulates (6-, 7-, 7-, 5-bit accumulators), plus the head's 3 bias adds (5 bits).
        assert_eq!(n.additions, 1296 + 1944 + 72 + 24 + 3);
        assert_eq!(n.addition_bits, 7776 + 13608 + 504 + 120 + 15);
        // Comparisons: 36 x 3 thermometer (4 bits), 36 x 4 thresholds twice (7 and 8 bits),
        // 8 thresholds (8 bits), 2 argmax steps (5 bits).
        assert_eq!(n.comparisons, 108 + 144 + 144 + 8 + 2);
        assert_eq!(n.comparison_bits, 432 + 1008 + 1152 + 64 + 10);
        // Reads: conv1 line buffer + weights; conv2 line buffer, entry table, weights, group
        // table; the skip FIFO; pool1; fc1 line buffer, weights, group table; head likewise.
        assert_eq!(
            n.memory_bits_read,
            (972 + 3888)
                + (3888 + 2916 + 3888 + 1296)
                + 144
                + 144
                + (144 + 288 + 72)
                + (192 + 24 + 15)
        );
        // Writes: each line buffer takes its input frame once; the FIFO its 36 pixels.
        assert_eq!(n.memory_bits_written, 108 + 144 + 144 + 144 + 36 + 8);
        let e = &c.energy;
        let mem_pj = (17871 + 584) as f64 * 10.0 / 64.0;
        assert!((e.memory_pj - mem_pj).abs() < 1e-6, "{}", e.memory_pj);
        let sum = e.xnor_popcount_pj + e.arithmetic_pj + e.memory_pj + e.register_pj;
        assert!((e.total_pj - sum).abs() < 1e-9);
        assert!((e.xnor_popcount_pj - 8088.0 * 0.03 / 8.0).abs() < 1e-9);
    }

    #[test]
    fn memory_energy_follows_the_cache_size() {
        assert_eq!(memory_bit_pj(1), 10.0 / 64.0);
        assert_eq!(memory_bit_pj(8 * 1024 * 8 + 1), 20.0 / 64.0);
        assert_eq!(memory_bit_pj(64 * 1024 * 8), 100.0 / 64.0);
        assert_eq!(memory_bit_pj(1 << 30), 100.0 / 64.0);
    }
}
