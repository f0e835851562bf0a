//! Logic cells of a stage: LUTs, flip-flops and carry cells, from the stage's structure.
//!
//! Each stage is described by a few counts that its RTL scales with (`Features`): XNOR lanes,
//! accumulator bits, the line-buffer word, the output word, counter bits, and the bits of the
//! memories the family keeps in soft logic. The cells are a linear function of those counts
//! with non-negative constants, one set per family and cell kind, fitted to Yosys 0.23's
//! per-module counts (`cargo bench --bench cost_fit`, then `scripts/cost-fit.py`; see
//! [`ICE40`]); `tests/cost.rs` and `cargo bench --bench cost` check the result against
//! whole-design runs.

use super::memory::{acc_width, schedule_size, score_width, Memory, Role};
use super::ram::{Placed, RamFamily};
use super::widths::bits_for;
use crate::model::{FrontEnd, LayerKind, Model};
use crate::plan::{Handoff, Placement, Plan};

/// Number of structural counts per stage.
pub const FEATURES: usize = 15;

/// What a stage's logic scales with (each entry documented at [`features`]).
pub type Features = [f64; FEATURES];

/// Counts of window stage or residual `idx` whose memories are placed as `placed`.
///
/// 0: MAC stage (1 or 0); 1: max-pool stage; 2: residual stage; 3: XNOR lanes (pe x simd);
/// 4: accumulator bits (pe x accumulator width); 5: pop-count pipeline bits
/// (`pipeline_bits`); 6: line-buffer words read per step and skip-FIFO word (channels, x
/// taps); 7: output word bits; 8: counter and address bits; 9: ROM bits in soft logic; 10: RAM bits in soft logic; 11: read-mux bits
/// after block-RAM banks and LUT RAM cells; 12: skid-register bits (the output word, when a
/// window stage hands off through a skid register: `Handoff::Skid`, not fully pruned); 13:
/// XNOR lanes of constant weights (a weight ROM of one word, or one in logic of at most 8
/// words), counted here instead of in 3; 14: the classifier's argmax-tree registers.
///
pub fn features(
    model: &Model,
    plan: &Plan,
    idx: usize,
    mems: &[(Memory, Placed)],
    fam: RamFamily,
) -> Features {
    let l = &model.layers[idx];
    let lp = &plan.layers[idx];
    let mut f = [0.0; FEATURES];
    let c = l.input.channels as f64;
    let pixels = (l.output.height * l.output.width) as u64;
    f[8] = (bits_for(l.input.width as u64) + bits_for(l.input.height as u64 * 2)) as f64
        + bits_for(pixels) as f64;
    match &l.kind {
        LayerKind::Residual(_) => {
            f[2] = 1.0;
            f[6] = if lp.rows > 0 { c } else { 0.0 };
            f[7] = l.output.channels as f64;
            f[8] = if lp.rows > 0 {
                2.0 * bits_for(lp.rows as u64) as f64
            } else {
                0.0
            };
        }
        LayerKind::MaxPool(m) => {
            f[1] = 1.0;
            // A narrow ring reads one 16-bit group per step, and holds the input pixel in a
            // register while it writes its groups.
            f[6] = match super::ring::layer_ring(model, plan, idx, fam) {
                Some(n) => n.group_bits as f64 + c,
                None => c,
            };
            f[7] = c * (m.kernel * m.kernel) as f64;
        }
        kind => {
            let w = kind.weights().expect("a MAC layer has weights");
            // A lane XNORs SIMD bits of each of the step's taps.
            let (pe, simd) = (lp.pe, lp.simd * lp.taps);
            let (_, entries) = schedule_size(w, pe);
            f[0] = 1.0;
            // A weight ROM of one word is a constant: its lanes' XNORs are wires (or
            // inverters folded into the pop count's leaves).
            // So is the XNOR with a weight from a ROM in logic of at most 8 words: the
            // weight bit's three address bits and the activation fit one LUT4.
            let (_, depth) = super::memory::weight_rom_shape(w, lp);
            let in_logic = mems
                .iter()
                .any(|(m, p)| m.role == Role::Weights && matches!(p, Placed::Logic));
            let folded = depth == 1 || (in_logic && depth <= 8);
            f[if folded { 13 } else { 3 }] = (pe * simd) as f64;
            f[4] = (pe as u32 * acc_width(w, simd)) as f64;
            f[5] = pipeline_bits(l, lp, plan.popcount_stages) as f64;
            f[6] = c * lp.taps as f64;
            let ring = super::ring::layer_ring(model, plan, idx, fam);
            // A one-tap stage's narrow ring (`LayerPlan::ring_groups`) reads one group per
            // step: its read registers are a group wide, and its chunk select picks among
            // the group's chunks only, which pays for the writer's group mux (Yosys 0.23,
            // fashion-up5k's fc1 on iCE40: 408 LUT4 and 452 flip-flops narrow, 407 and 501
            // as whole words).
            if lp.ring_groups > 1 {
                f[6] = ring.map_or(c, |n| n.group_bits as f64);
            }
            // A held narrow ring's holding register: one input pixel.
            if ring.is_some_and(|n| n.held) {
                f[6] += c;
            }
            f[7] = match kind {
                LayerKind::Classifier(cl) => {
                    let sw = score_width(w, &cl.bias);
                    let (groups, _) = schedule_size(w, pe);
                    let serial = pe == 1
                        && groups > 1
                        && (0..w.out_blocks).all(|ob| w.kept_in_blocks(ob) > 0);
                    f[14] =
                        super::pipeline::argmax_tree_registers(w.out_channels, sw, serial) as f64;
                    (w.out_channels as u32 * sw) as f64
                }
                // A word of the output handed on in words (`plan::words`).
                _ => (w.out_channels / lp.out_words) as f64,
            };
            let steps =
                entries * (w.kernel_h * w.kernel_w / lp.taps) * (w.in_per_block() / lp.simd);
            f[8] += bits_for(steps as u64) as f64;
        }
    }
    f[12] = skid_bits(model, plan, idx) as f64;
    for (m, p) in mems {
        match p {
            Placed::Logic if m.shape.rom => f[9] += m.bits() as f64,
            Placed::Logic => f[10] += m.bits() as f64,
            Placed::LutRam(n) => f[11] += *n as f64,
            // The store's own logic is counted apart (`spram::logic_cells`).
            Placed::Block(_) | Placed::Spram(_) => {}
        }
    }
    // Banks of one table are joined by a mux after their registers.
    let banks = mems
        .iter()
        .filter(|(m, p)| m.shape.rom && matches!(p, Placed::Block(_)))
        .count();
    if banks > 1 {
        let width = mems
            .iter()
            .find(|(m, _)| m.shape.rom)
            .map_or(0, |(m, _)| m.shape.width);
        f[11] += ((banks - 1) as u32 * width) as f64;
    }
    f
}

/// Flip-flops that the pop-count pipeline adds to a MAC stage: each lane's tree registers,
/// and per cycle of its latency the delayed controls (valid, first, last, pixel end) and,
/// when the stage visits several groups, the group-table word (`rtl::window::mac`).
fn pipeline_bits(l: &crate::model::Layer, lp: &crate::plan::LayerPlan, stages: u32) -> u64 {
    let w = l.kind.weights().expect("a MAC layer has weights");
    let (tree, latency) = super::pipeline::popcount_registers((lp.simd * lp.taps) as u32, stages);
    let (groups, _) = schedule_size(w, lp.pe);
    let table = if groups > 1 {
        super::memory::group_table_width(l, lp) as u64
    } else {
        0
    };
    lp.pe as u64 * tree + latency as u64 * (CONTROLS + table)
}

/// Control bits a MAC stage delays alongside its pop counts.
const CONTROLS: u64 = 4;

/// Bits of layer `idx`'s skid register: its output word (a classifier's scores and class), or
/// 0 with the held hand-off, for a residual, and for a fully pruned layer (whose constant
/// stage always holds).
pub fn skid_bits(model: &Model, plan: &Plan, idx: usize) -> u64 {
    let l = &model.layers[idx];
    if plan.handoff != Handoff::Skid || l.kind.fully_pruned() {
        return 0;
    }
    match &l.kind {
        LayerKind::Residual(_) => 0,
        LayerKind::MaxPool(_) => l.input.channels as u64,
        LayerKind::Classifier(c) => {
            let w = &c.weights;
            let class = bits_for(w.out_channels.saturating_sub(1) as u64) as u64;
            w.out_channels as u64 * score_width(w, &c.bias) as u64 + class
        }
        LayerKind::Conv(_) | LayerKind::Dense(_) => {
            (l.output.channels / plan.layers[idx].out_words) as u64
        }
    }
}

/// Comparator bits of the digital front end (C x M comparators of B bits), or 0.
pub fn front_end_bits(model: &Model, plan: &Plan) -> u64 {
    match (&model.front_end, plan.front_end) {
        (FrontEnd::Thermometer(t), Placement::Digital) => {
            (t.levels * model.input.channels) as u64 * model.input.bits as u64
        }
        _ => 0,
    }
}

/// Constants: `[luts, ffs, carry]`, each a row over [`Features`], one set per family.
///
/// Fitted by non-negative least squares (`scripts/cost-fit.py`) to Yosys 0.23's per-module
/// counts in benches/data (`cargo bench --bench cost_fit`: the shipped models with their hw
/// files, at other pop-count depths, at 4 and 16 times their frame rates and at the other
/// hand-off, fashion-default's UP5K file, the UP5K folds, and twelve random models; 56
/// designs on iCE40, 53 on ECP5). Non-negative because every count adds cells: an
/// unconstrained fit took large designs towards zero, and a negative pipeline constant made
/// each pop-count stage lower the estimate. Against the summed modules the mean error is 5.5%
/// (iCE40) and 5.6% (ECP5), every shipped model at its hw file within 7%
/// (docs/benchmarks.md, "Per-module fit").
type Fit = [[f64; FEATURES]; 3];

const ICE40: Fit = [
    [
        59.544, 41.830, 0.000, 2.257, 3.729, 0.000, 0.234, 0.505, 4.978, 0.101, 0.000, 0.190,
        0.949, 0.406, 0.356,
    ],
    [
        58.189, 0.000, 0.000, 2.200, 0.908, 0.618, 0.333, 0.637, 3.100, 0.046, 1.129, 1.309, 1.350,
        0.285, 0.647,
    ],
    [
        1.420, 3.301, 0.000, 0.825, 1.697, 0.003, 0.002, 0.041, 2.263, 0.006, 0.000, 0.000, 0.000,
        0.505, 0.211,
    ],
];
const ECP5: Fit = [
    [
        50.601, 32.513, 0.000, 3.374, 2.542, 0.000, 0.786, 0.370, 4.981, 0.053, 0.000, 0.784,
        0.848, 0.868, 0.353,
    ],
    [
        77.632, 18.386, 0.631, 1.011, 1.165, 0.603, 0.365, 0.514, 2.033, 0.056, 0.000, 0.818,
        1.289, 0.103, 0.644,
    ],
    [
        0.000, 5.319, 0.000, 0.262, 0.833, 0.000, 0.004, 0.006, 1.300, 0.002, 0.000, 0.000, 0.000,
        0.134, 0.136,
    ],
];

/// (luts, ffs, carry) of a stage with these features.
pub fn cells(fam: RamFamily, f: &Features) -> (u64, u64, u64) {
    let fit = match fam {
        RamFamily::Ice40 => &ICE40,
        RamFamily::Ecp5 => &ECP5,
    };
    let dot = |row: &[f64; FEATURES]| {
        let v: f64 = row.iter().zip(f).map(|(a, b)| a * b).sum();
        v.max(0.0).round() as u64
    };
    (dot(&fit[0]), dot(&fit[1]), dot(&fit[2]))
}

/// iCE40 logic cells (what nextpnr places and the UP5K has 5,280 of) for these cells: a
/// logic cell holds one LUT4, one flip-flop and one carry, and nextpnr pairs a flip-flop with
/// the LUT that feeds it, mostly in the accumulators and counters whose sum LUT also drives a
/// carry; the other flip-flops (line-buffer words, read registers, skid registers) take a cell
/// each. So: LUTs + flip-flops - carry cells, never fewer than the LUTs or the flip-flops.
/// Against nextpnr-ice40 0.4 on whole board tops (Yosys counts, docs/benchmarks.md):
/// fashion-up5k-pruned held 4,855 for 4,921 measured and skid 5,743 for 5,818; tiny 1,660
/// for 1,656; fm6 2,718 for 2,661.
pub fn ice40_logic_cells(c: &super::Cells) -> u64 {
    (c.luts + c.ffs)
        .saturating_sub(c.carry)
        .max(c.luts)
        .max(c.ffs)
}

/// Front-end constants per family: luts = a + b x comparator bits, ffs = c + d x planes,
/// carry = e x comparator bits (the top's glue and output register included in a and c).
const FRONT_END: [(RamFamily, [f64; 5]); 2] = [
    (RamFamily::Ice40, [17.726, 0.347, 11.158, 0.981, 0.779]),
    (RamFamily::Ecp5, [17.644, 0.297, 11.158, 0.981, 0.434]),
];

/// Cells of the front end (and the top's glue) on iCE40 and ECP5.
pub fn front_end_cells(model: &Model, plan: &Plan) -> (super::Cells, super::Cells) {
    let bits = front_end_bits(model, plan) as f64;
    let planes = model.front_end.output_shape(&model.input).channels as f64;
    let cells = |k: &[f64; 5]| super::Cells {
        luts: (k[0] + k[1] * bits).round() as u64,
        ffs: (k[2] + k[3] * planes).round() as u64,
        carry: (k[4] * bits).round() as u64,
        ..super::Cells::default()
    };
    (cells(&FRONT_END[0].1), cells(&FRONT_END[1].1))
}
