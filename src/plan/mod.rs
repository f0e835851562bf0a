//! The plan: how each layer of a model is folded onto hardware, and what that costs.
//!
//! Read-only cost analysis (`layer_cost`) is kept apart from the one transformation
//! (`set_folding`), which picks per layer the smallest PE x SIMD lane count meeting the target
//! cycle budget. The plan is a TOML file the user can edit and feed back (`--plan`); the
//! hardware configuration (`HwConfig`, docs/hw-config.md) says how to build, never what was
//! trained.

pub mod cost;
pub mod device;
mod files;
pub mod fit;
mod spram_fold;
pub mod sweep;
pub mod words;

use crate::model::{LayerKind, Model};
pub use files::{
    check_reachable, fold_hw_file, fold_hw_file_with, load_hw, load_plan, FileProblem,
    MAX_CLOCK_MHZ, MAX_CONFIG_BYTES, MAX_POPCOUNT_STAGES,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where the thermometer comparators sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    /// Comparators in the generated RTL; pixels arrive as B-bit codes.
    Digital,
    /// Comparators in the sensor's readout; the RTL receives the binary planes.
    Sensor,
}

/// How a window stage hands its output word to its consumer (`src/rtl/window/`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Handoff {
    /// A skid register beside the output registers: the stage hands on a word every cycle.
    /// Costs one flip-flop and one 2-way mux per output bit.
    #[default]
    Skid,
    /// The output registers hold the word until it is taken and the stage advances the cycle
    /// after: one cycle more per output pixel, no extra register (for a nearly full device).
    Hold,
}

impl Handoff {
    /// Cycles a window stage spends per output pixel on top of its steps.
    pub fn cycles_per_pixel(self) -> u64 {
        match self {
            Handoff::Skid => 0,
            Handoff::Hold => 1,
        }
    }
}

/// Where the weight ROMs go (`weights` in hardware and plan files).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightStore {
    /// In block RAM or logic, initialized by the bitstream.
    #[default]
    Bram,
    /// The largest weight ROMs in the iCE40 UP5K's SPRAM (`cost::spram`), loaded from the
    /// board's SPI flash after reset; the rest in block RAM.
    Spram,
}

impl WeightStore {
    /// The value as hardware and plan files and `--weights` write it.
    pub fn name(self) -> &'static str {
        match self {
            WeightStore::Bram => "bram",
            WeightStore::Spram => "spram",
        }
    }

    /// The default, which plan files leave out (so older plan files keep their meaning).
    pub fn is_bram(&self) -> bool {
        *self == WeightStore::Bram
    }
}

/// The only `format_version` of plan files this build reads and writes.
pub const PLAN_FORMAT_VERSION: u32 = 1;

/// Hardware configuration (TOML). Every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HwConfig {
    /// Target clock in MHz (for frames/s and latency figures, and the fps budget).
    pub clock_mhz: f64,
    /// Target frames per second; when absent the budget is the input rate (one pixel per
    /// cycle), so no stage is slower than the sensor.
    pub fps: Option<f64>,
    /// Where the thermometer comparators sit: `digital` or `sensor`.
    pub front_end: Placement,
    /// Pipeline registers in each pop-count adder tree (0 = combinational). Absent: 1, except
    /// that folding to a device chooses it from the depth of the trees it folds to
    /// (`fit::popcount_stages_for`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub popcount_stages: Option<u32>,
    /// How window stages hand on their output: `skid` (a word every cycle) or `hold`.
    pub handoff: Handoff,
    /// Explicit folding per layer name, overriding the automatic choice.
    pub layers: BTreeMap<String, Fold>,
    /// When the `fps` target cannot be reached, build the fastest folding found instead of
    /// failing (the CLI's check, `check_reachable`).
    pub best_effort: bool,
    /// Fold to this device: the fastest folding whose estimate fits its budgets (`fit`).
    #[serde(skip_serializing)]
    pub device: Option<device::Device>,
    /// Where the weight ROMs go: `bram` or `spram` (ice40-up5k only). Unset: block RAM, except
    /// that folding to a device with SPRAM takes `spram` when no folding fits in block RAM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<WeightStore>,
    /// Folding to a device: most logic (iCE40 logic cells, ECP5 LUTs) the estimate may use,
    /// in percent of the device's.
    pub max_logic_percent: f64,
    /// Folding to a device: most block RAMs the estimate may use, in percent of the device's.
    pub max_bram_percent: f64,
    /// Hand a dense layer's output on in words of this many channels instead of one word of
    /// all of them, where its consumer can read them so (`words::out_words`): the output,
    /// skid and consumer's holding registers shrink to this width. Absent: one word.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dense_word_bits: Option<usize>,
}

impl Default for HwConfig {
    fn default() -> Self {
        HwConfig {
            clock_mhz: 100.0,
            fps: None,
            front_end: Placement::Digital,
            popcount_stages: None,
            handoff: Handoff::Skid,
            layers: BTreeMap::new(),
            best_effort: false,
            device: None,
            weights: None,
            max_logic_percent: fit::DEFAULT_MAX_LOGIC_PERCENT,
            max_bram_percent: fit::DEFAULT_MAX_BRAM_PERCENT,
            dense_word_bits: None,
        }
    }
}

impl Plan {
    /// Words each layer hands its output pixel on in (`words.rs`).
    pub fn out_words(&self) -> Vec<usize> {
        self.layers.iter().map(|l| l.out_words).collect()
    }

    /// Each layer's (PE, SIMD, taps).
    pub fn folds(&self) -> Vec<Fold> {
        (self.layers.iter())
            .map(|l| Fold {
                pe: l.pe,
                simd: l.simd,
                taps: l.taps,
            })
            .collect()
    }
}

impl HwConfig {
    /// Pipeline registers in each pop-count tree: `popcount_stages`, or 1 when absent.
    pub fn popcount(&self) -> u32 {
        self.popcount_stages.unwrap_or(1)
    }
}

/// Lanes of one layer: `pe` output channels x `simd` input channels x `taps` kernel taps per
/// cycle. `taps` is absent from files written before it existed, and written only when it is
/// not 1, so every older hardware and plan file keeps its meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fold {
    pub pe: usize,
    pub simd: usize,
    #[serde(default = "one_tap", skip_serializing_if = "is_one_tap")]
    pub taps: usize,
}

impl Fold {
    /// `pe` x `simd` lanes, one kernel tap per cycle.
    pub fn lanes(pe: usize, simd: usize) -> Fold {
        Fold { pe, simd, taps: 1 }
    }
}

fn one_tap() -> usize {
    1
}

fn is_one_tap(t: &usize) -> bool {
    *t == 1
}

/// The kernel taps a layer takes per cycle, as (rows, columns) of its window: `taps` dividing
/// the kernel width is a run of columns of one row; a multiple of the width dividing the whole
/// window is that many whole rows. `None` for any other count (`check_fold` says so).
pub fn tap_shape(kh: usize, kw: usize, taps: usize) -> Option<(usize, usize)> {
    if taps == 0 {
        None
    } else if taps <= kw && kw.is_multiple_of(taps) {
        Some((1, taps))
    } else if taps.is_multiple_of(kw) && kh.is_multiple_of(taps / kw) {
        Some((taps / kw, kw))
    } else {
        None
    }
}

/// The legal tap counts of a kh x kw window, ascending (`tap_shape`).
pub fn tap_counts(kh: usize, kw: usize) -> Vec<usize> {
    (1..=kh * kw)
        .filter(|&t| tap_shape(kh, kw, t).is_some())
        .collect()
}

/// A plan error: bad hardware config or plan file, with where and what.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{path}: cannot read the file: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// Problems in a hardware or plan file, each with its line and field.
    #[error("{}", files::render(path, problems))]
    File {
        path: String,
        problems: Vec<FileProblem>,
    },
    #[error("layer `{layer}`: {message}")]
    Fold { layer: String, message: String },
    #[error("plan is for model `{found}`, not `{expected}`")]
    Model { expected: String, found: String },
    #[error(transparent)]
    Fit(#[from] fit::FitError),
}

/// One layer of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerPlan {
    pub name: String,
    pub kind: StageKind,
    /// Output channels per cycle (1 for layers without weights).
    pub pe: usize,
    /// Input channels per cycle (1 for layers without weights).
    pub simd: usize,
    /// Kernel taps per cycle (1 for layers without weights; absent in files: 1).
    #[serde(default = "one_tap", skip_serializing_if = "is_one_tap")]
    pub taps: usize,
    /// XNOR lanes (pe x simd x taps; 0 for layers without weights and fully pruned layers).
    pub lanes: usize,
    /// Cycles per frame at full rate, from the kept work only.
    pub cycles_per_frame: u64,
    /// Weight ROM bits (kept tiles only).
    pub weight_bits: u64,
    /// Line-buffer / skip-FIFO bits.
    pub buffer_bits: u64,
    /// Line-buffer rows (window stages; 0 for a fully pruned layer, which has none) or skip
    /// FIFO depth in pixels (residual; 0 when the residual combines the layer just before
    /// with itself, which needs no FIFO).
    pub rows: usize,
    /// The weight ROM is kept in logic (LUTs) instead of block RAM: chosen by the fold to a
    /// device short of blocks (`fit::move_weights_to_logic`), or written in a plan file
    /// (`weights_in_logic = true`). Absent in files: false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub weights_in_logic: bool,
    /// The line buffer holds each pixel as this many 16-bit groups instead of one whole word:
    /// a max-pool's (`cost::ring::pool_ring_groups`), which then reads each kernel tap once
    /// per group, or a one-tap MAC stage's (`cost::ring::mac_ring_groups`), whose step reads
    /// its chunk from one group. Chosen where that saves block RAM and leaves the pipeline's
    /// interval alone (`narrow_rings`), unless the fold to a device keeps whole words, which
    /// fit it with less logic (`fit`). In a plan file: absent or 1, whole words; otherwise
    /// the count the folding gives.
    #[serde(default = "one_tap", skip_serializing_if = "is_one_tap")]
    pub ring_groups: usize,
    /// A dense layer hands its output on in this many words, one after another
    /// (`words.rs`, `HwConfig::dense_word_bits`). Absent in files: 1, one word.
    #[serde(default = "one_tap", skip_serializing_if = "is_one_tap")]
    pub out_words: usize,
}

/// What a layer's stage is, written in plan files as the layer kind's tag (`kind = "conv"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageKind {
    Conv,
    MaxPool,
    Residual,
    Dense,
    Classifier,
}

impl StageKind {
    pub fn of(kind: &LayerKind) -> StageKind {
        match kind {
            LayerKind::Conv(_) => StageKind::Conv,
            LayerKind::MaxPool(_) => StageKind::MaxPool,
            LayerKind::Residual(_) => StageKind::Residual,
            LayerKind::Dense(_) => StageKind::Dense,
            LayerKind::Classifier(_) => StageKind::Classifier,
        }
    }

    /// The tag as in plan and model files (`LayerKind::tag`).
    pub fn as_str(self) -> &'static str {
        match self {
            StageKind::Conv => "conv",
            StageKind::MaxPool => "maxpool",
            StageKind::Residual => "residual",
            StageKind::Dense => "dense",
            StageKind::Classifier => "classifier",
        }
    }
}

impl std::fmt::Display for StageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// The folding of a whole model and its figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub format_version: u32,
    pub model: String,
    pub clock_mhz: f64,
    pub front_end: Placement,
    pub popcount_stages: u32,
    /// How window stages hand on their output (absent in older plan files: `skid`).
    #[serde(default)]
    pub handoff: Handoff,
    /// Where the weight ROMs go (absent: `bram`; written only when `spram`).
    #[serde(default, skip_serializing_if = "WeightStore::is_bram")]
    pub weights: WeightStore,
    /// Cycles per frame of the slowest stage (the pipeline's initiation interval).
    pub cycles_per_frame: u64,
    pub fps: f64,
    /// Sum of the stages' frame times and pipeline depths (plus the front end's register),
    /// an upper bound on one frame's latency.
    pub latency_us: f64,
    pub weight_bits: u64,
    pub buffer_bits: u64,
    pub layers: Vec<LayerPlan>,
}

/// Divisors of n, ascending.
fn divisors(n: usize) -> Vec<usize> {
    (1..=n).filter(|d| n.is_multiple_of(*d)).collect()
}

/// Line-buffer rows of a window stage: the window plus a stride of prefetch plus room for the
/// next frame's first window, capped at two frames (with the skid hand-off, two frames and a
/// stride), and never fewer than four. The stage's loop from releasing a row to accepting the
/// next one's first pixel takes about four cycles; with fewer slots than that, an input of one
/// or two rows (a 1x1 input after a dense layer) would wait on it every frame and miss the
/// planned cycles. A window of the whole frame (dense, classifier) releases its rows only when
/// the frame is done, and with the skid hand-off it may take exactly one frame time: with two
/// frames of rows the writer would wait on that release at every frame and lose a cycle. Each
/// row slot is a power of two words wide (the RTL addresses the buffer as {slot, column}),
/// which the buffer bits count.
pub fn window_rows(in_h: usize, kh: usize, stride: usize, handoff: Handoff) -> usize {
    let cap = match handoff {
        Handoff::Skid => 2 * in_h + stride,
        Handoff::Hold => 2 * in_h,
    };
    (2 * kh + stride).min(cap).max(4)
}

/// Window geometry (kh, kw, stride, pad) of a layer, if it is a window stage.
pub fn window_of(l: &crate::model::Layer) -> Option<(usize, usize, usize, usize)> {
    match &l.kind {
        LayerKind::Conv(c) => Some((c.weights.kernel_h, c.weights.kernel_w, c.stride, c.padding)),
        LayerKind::MaxPool(m) => Some((m.kernel, m.kernel, m.stride, 0)),
        LayerKind::Dense(_) | LayerKind::Classifier(_) => {
            Some((l.input.height, l.input.width, 1, 0))
        }
        LayerKind::Residual(_) => None,
    }
}

/// Cycles per frame, weight bits and buffer bits of one layer at a folding (read-only).
///
/// A window stage takes one step per cycle: kept MACs / lanes per output pixel (max-pool:
/// k x k taps), plus `handoff`'s cycles per output pixel (none with the skid register). A
/// residual and the front end take one cycle per pixel. A stage taking `taps` kernel taps per
/// cycle keeps one line-buffer copy per tap (`rtl::window::line_buffer`), so its buffer bits
/// are `taps` times those of one copy.
pub fn layer_cost(
    model: &Model,
    idx: usize,
    fold: Fold,
    handoff: Handoff,
) -> (u64, u64, u64, usize) {
    let extra = handoff.cycles_per_pixel();
    let l = &model.layers[idx];
    let pixels = (l.output.height * l.output.width) as u64;
    match &l.kind {
        // A residual with the layer just before reads one stream: no fork, no skip FIFO.
        LayerKind::Residual(r) if r.with + 1 == idx => (pixels, 0, 0, 0),
        LayerKind::Residual(r) => {
            let depth = skip_depth(model, r.with, idx);
            (pixels, 0, (depth * l.output.channels) as u64, depth)
        }
        // A fully pruned layer's output is a constant: no line buffer and no weights, one
        // issue cycle and one held hand-off cycle per output pixel whatever `handoff` says
        // (`rtl::window::lower_constant`: the stage is never the one that needs the skid).
        kind if kind.fully_pruned() => (pixels * 2, 0, 0, 0),
        LayerKind::MaxPool(m) => {
            let (kh, _, s, _) = window_of(l).unwrap();
            let rows = window_rows(l.input.height, kh, s, handoff);
            let buf = (rows * l.input.width.next_power_of_two() * l.input.channels) as u64;
            (
                pixels * ((m.kernel * m.kernel) as u64 + extra),
                0,
                buf,
                rows,
            )
        }
        _ => {
            let w = l.kind.weights().unwrap();
            let (kh, _, s, _) = window_of(l).unwrap();
            let rows = window_rows(l.input.height, kh, s, handoff);
            let buf =
                (rows * l.input.width.next_power_of_two() * l.input.channels * fold.taps) as u64;
            let steps = (w.kept_tiles() * w.out_per_block() / fold.pe
                * (w.kernel_h * w.kernel_w / fold.taps)
                * w.in_per_block()
                / fold.simd) as u64;
            (
                pixels * (steps.max(1) + extra),
                w.stored_bits() as u64,
                buf,
                rows,
            )
        }
    }
}

/// Store each max-pool's ring, and each one-tap MAC stage's, as 16-bit groups
/// (`LayerPlan::ring_groups`) where that takes fewer block RAMs (`cost::ring`) and leaves the
/// pipeline's rate alone: the interval, and so every other stage's timing, is unchanged.
///
/// Cycles of a narrow pool: it issues k x k taps for each of its `g` groups per output pixel,
/// plus the hand-off's cycle; its writer takes an input pixel into a holding register in one
/// cycle and stores it over `g` cycles, taking the next pixel with the last group, so it
/// accepts at most one pixel per `g` cycles. The stage takes the larger of the two, and must
/// stay within half the interval `ii` of the pipeline without it, so that the pool never sets
/// the rate. A MAC stage reads one chunk per step either way, so only its writer's `g` cycles
/// per input pixel could add to its cycles; it takes the narrow ring where they do not.
fn narrow_rings(model: &Model, handoff: Handoff, layers: &mut [LayerPlan], ii: u64) {
    for (l, lp) in model.layers.iter().zip(layers.iter_mut()) {
        let words = lp.rows * l.input.width.next_power_of_two();
        let c = l.input.channels;
        let inp = (l.input.height * l.input.width) as u64;
        let (ring, cycles) = match &l.kind {
            LayerKind::MaxPool(m) => {
                let g = cost::ring::pool_ring_groups(c, words);
                let out = (l.output.height * l.output.width) as u64;
                let taps = (m.kernel * m.kernel) as u64;
                let cycles =
                    (out * (taps * g as u64 + handoff.cycles_per_pixel())).max(inp * g as u64);
                (cost::ring::pool_ring(g), cycles)
            }
            kind => {
                let Some(w) = kind.weights().filter(|_| lp.rows > 0) else {
                    continue;
                };
                // Only where the writer's cycles stay within the stage's: then its cycles,
                // and so the plan's, do not depend on the family (`mac_ring_groups`).
                let g = cost::ring::mac_ring_groups(w, lp.simd, lp.taps, c, words);
                if inp * g as u64 > lp.cycles_per_frame {
                    continue;
                }
                (cost::ring::mac_ring(lp.simd, g), lp.cycles_per_frame)
            }
        };
        let Some(ring) = ring else {
            continue;
        };
        if cycles == lp.cycles_per_frame || 2 * cycles <= ii {
            lp.ring_groups = ring.groups;
            lp.cycles_per_frame = cycles;
            lp.buffer_bits = ring.group_bits as u64 * ring.depth(words) as u64;
        }
    }
}

/// `plan` with the narrow rings of the stages `which` picks stored as whole words again
/// (`LayerPlan::ring_groups` 1), their cycles and buffer bits as `layer_cost` gives them.
/// Why: a narrow ring saves blocks but costs logic (a holding register and a group mux), so
/// a design short of logic and not of blocks is better without it.
pub fn widen_rings(model: &Model, mut plan: Plan, which: impl Fn(usize) -> bool) -> Plan {
    let folds = plan.folds();
    for (i, lp) in plan.layers.iter_mut().enumerate() {
        if lp.ring_groups == 1 || !which(i) {
            continue;
        }
        let (cycles, _, buffer, _) = layer_cost(model, i, folds[i], plan.handoff);
        let cycles = cycles + (lp.out_words as u64 - 1) * plan.handoff.cycles_per_pixel();
        plan.latency_us += (cycles as f64 - lp.cycles_per_frame as f64) / plan.clock_mhz;
        plan.buffer_bits = plan.buffer_bits + buffer - lp.buffer_bits;
        lp.ring_groups = 1;
        lp.cycles_per_frame = cycles;
        lp.buffer_bits = buffer;
    }
    plan
}

/// Pipeline registers between a stage's issue and its output word, in cycles
/// (`src/rtl/window/`; the output is the last pipeline register, and the skid register
/// beside it adds no latency): issue, two read stages (block-RAM register, fabric register),
/// XNOR, pop count, accumulate, output stage, threshold/score register, argmax levels (none
/// when the classifier runs one lane and compares serially, so this is then an upper bound);
/// max-pool: issue, two read stages.
pub fn pipeline_depth(model: &Model, hw: &HwConfig, idx: usize) -> u64 {
    let l = &model.layers[idx];
    match &l.kind {
        LayerKind::Residual(_) => 1,
        // Issue decision, output register.
        kind if kind.fully_pruned() => 2,
        LayerKind::MaxPool(_) => 3,
        kind => {
            let pop = hw.popcount() as u64;
            let argmax = match kind {
                LayerKind::Classifier(c) => (c.weights.out_channels.max(1) as u64)
                    .next_power_of_two()
                    .trailing_zeros() as u64,
                _ => 0,
            };
            6 + pop + argmax
        }
    }
}

/// Depth (pixels) of the skip FIFO that aligns layer `with`'s output with residual `at`: the
/// rows the main path must see before it emits the matching pixel, plus slack.
pub fn skip_depth(model: &Model, with: usize, at: usize) -> usize {
    let shape = model.layers[with].output;
    let mut rows = 1;
    for l in &model.layers[with + 1..at] {
        rows += match &l.kind {
            LayerKind::Conv(c) => c.weights.kernel_h + 1,
            LayerKind::MaxPool(m) => m.kernel + 1,
            LayerKind::Dense(_) | LayerKind::Classifier(_) => shape.height + 1,
            LayerKind::Residual(_) => 1,
        };
    }
    let frame = shape.height * shape.width;
    (rows * shape.width).min(frame * (at - with)) + 8
}

/// Is `fold` legal for layer `idx` (pe divides the out-block, simd the in-block, taps is a
/// run of one kernel row or whole rows: `tap_shape`)?
pub(crate) fn check_fold(model: &Model, idx: usize, fold: Fold) -> Result<(), PlanError> {
    let l = &model.layers[idx];
    let Some(w) = l.kind.weights() else {
        return Ok(());
    };
    let fail = |message: String| {
        Err(PlanError::Fold {
            layer: l.name.clone(),
            message,
        })
    };
    if fold.pe == 0 || w.out_per_block() % fold.pe != 0 {
        return fail(format!(
            "pe {} must divide the {} output channels per block",
            fold.pe,
            w.out_per_block()
        ));
    }
    if fold.simd == 0 || w.in_per_block() % fold.simd != 0 {
        return fail(format!(
            "simd {} must divide the {} input channels per block",
            fold.simd,
            w.in_per_block()
        ));
    }
    if tap_shape(w.kernel_h, w.kernel_w, fold.taps).is_none() {
        return fail(format!(
            "taps {} must be one of {:?}: a divisor of the kernel width {} (part of a \
             row) or that width times a divisor of the kernel height {} (whole rows)",
            fold.taps,
            tap_counts(w.kernel_h, w.kernel_w),
            w.kernel_w,
            w.kernel_h
        ));
    }
    Ok(())
}

/// Choose each layer's folding: explicit folds from `hw.layers`, else the fewest kernel taps per
/// cycle at which some PE x SIMD folding fits the budget, with the smallest lane count there
/// (ties: more SIMD), else the widest folding. So taps above 1 (a line-buffer copy each) are
/// used only where PE x SIMD at its maximum cannot meet the budget, and only for an explicit
/// `fps` target: without one the budget is the input rate, a goal, and the folding stays at
/// one tap per cycle as it always was (the widest PE x SIMD when that misses the input rate).
pub fn set_folding(model: &Model, hw: &HwConfig) -> Result<Plan, PlanError> {
    for name in hw.layers.keys() {
        if model.layer_index(name).is_none() {
            return Err(PlanError::Fold {
                layer: name.clone(),
                message: "no such layer in the model".into(),
            });
        }
    }
    let input_cycles = (model.input.height * model.input.width) as u64;
    let budget = match hw.fps {
        Some(f) if f > 0.0 => ((hw.clock_mhz * 1e6 / f).floor() as u64).max(1),
        _ => input_cycles,
    };
    let mut folds = Vec::new();
    for (i, l) in model.layers.iter().enumerate() {
        let fold = if let Some(f) = hw.layers.get(&l.name) {
            if l.kind.weights().is_none() {
                return Err(PlanError::Fold {
                    layer: l.name.clone(),
                    message: format!(
                        "a {} layer has no weights and no folding; only conv, dense and \
                         classifier layers take pe, simd and taps",
                        l.kind.tag()
                    ),
                });
            }
            check_fold(model, i, *f)?;
            *f
        } else if let Some(w) = l.kind.weights() {
            let taps = match hw.fps {
                Some(_) => tap_counts(w.kernel_h, w.kernel_w),
                None => vec![1],
            };
            // The pipeline never beats the input rate, so taps (line-buffer copies) are not
            // spent on a budget below it.
            let tap_budget = |t: usize| {
                if t == 1 {
                    budget
                } else {
                    budget.max(input_cycles)
                }
            };
            taps.iter()
                .find_map(|&t| fit_lanes(model, i, t, tap_budget(t), hw.handoff))
                .unwrap_or(Fold {
                    pe: w.out_per_block(),
                    simd: w.in_per_block(),
                    taps: *taps.last().expect("taps 1 is always legal"),
                })
        } else {
            Fold::lanes(1, 1)
        };
        folds.push(fold);
    }
    Ok(plan_from_folds(model, hw, &folds))
}

/// The smallest PE x SIMD folding (ties: more SIMD) of layer `idx` at `taps` taps per cycle
/// whose cycles per frame fit `budget`, if any.
fn fit_lanes(
    model: &Model,
    idx: usize,
    taps: usize,
    budget: u64,
    handoff: Handoff,
) -> Option<Fold> {
    let w = model.layers[idx].kind.weights()?;
    let mut best: Option<(usize, usize, Fold)> = None;
    for pe in divisors(w.out_per_block()) {
        for simd in divisors(w.in_per_block()) {
            let f = Fold { pe, simd, taps };
            let (cyc, ..) = layer_cost(model, idx, f, handoff);
            let key = (pe * simd, usize::MAX - simd);
            if cyc <= budget && best.is_none_or(|(l, s, _)| key < (l, s)) {
                best = Some((key.0, key.1, f));
            }
        }
    }
    best.map(|b| b.2)
}

/// Figures of a plan with these folds.
///
/// A dense layer handing its output on in words (`words::out_words`) spends the hand-off's
/// cycles once per word, and its consumer's figures are those of its view (`words::streamed`).
pub fn plan_from_folds(model: &Model, hw: &HwConfig, folds: &[Fold]) -> Plan {
    let out_words: Vec<usize> = (0..model.layers.len())
        .map(|i| words::out_words(model, hw, folds, i))
        .collect();
    let view = words::streamed(model, &out_words);
    let model = view.as_ref();
    let mut layers = Vec::new();
    for (i, l) in model.layers.iter().enumerate() {
        let f = folds[i];
        let (cyc, wb, bb, rows) = layer_cost(model, i, f, hw.handoff);
        let cyc = cyc + (out_words[i] as u64 - 1) * hw.handoff.cycles_per_pixel();
        let lanes = if l.kind.weights().is_some() && !l.kind.fully_pruned() {
            f.pe * f.simd * f.taps
        } else {
            0
        };
        layers.push(LayerPlan {
            name: l.name.clone(),
            kind: StageKind::of(&l.kind),
            pe: f.pe,
            simd: f.simd,
            taps: f.taps,
            lanes,
            cycles_per_frame: cyc,
            weight_bits: wb,
            buffer_bits: bb,
            rows,
            weights_in_logic: false,
            ring_groups: 1,
            out_words: out_words[i],
        });
    }
    let input_cycles = (model.input.height * model.input.width) as u64;
    let ii = layers
        .iter()
        .map(|l| l.cycles_per_frame)
        .max()
        .unwrap_or(0)
        .max(input_cycles);
    narrow_rings(model, hw.handoff, &mut layers, ii);
    let depth: u64 = (0..model.layers.len())
        .map(|i| pipeline_depth(model, hw, i))
        .sum();
    let total: u64 =
        layers.iter().map(|l| l.cycles_per_frame).sum::<u64>() + input_cycles + depth + 1;
    Plan {
        format_version: PLAN_FORMAT_VERSION,
        model: model.meta.name.clone(),
        clock_mhz: hw.clock_mhz,
        front_end: hw.front_end,
        popcount_stages: hw.popcount(),
        handoff: hw.handoff,
        weights: hw.weights.unwrap_or_default(),
        cycles_per_frame: ii,
        fps: hw.clock_mhz * 1e6 / ii as f64,
        latency_us: total as f64 / hw.clock_mhz,
        weight_bits: layers.iter().map(|l| l.weight_bits).sum(),
        buffer_bits: layers.iter().map(|l| l.buffer_bits).sum(),
        layers,
    }
}

#[cfg(test)]
mod taps_tests;

#[cfg(test)]
mod stage_kind_tests {
    use super::StageKind;

    /// Plan files keep the strings they had when `kind` was a `String`.
    #[test]
    fn stage_kinds_serialize_to_the_layer_tags() {
        for k in [
            StageKind::Conv,
            StageKind::MaxPool,
            StageKind::Residual,
            StageKind::Dense,
            StageKind::Classifier,
        ] {
            let v = toml::Value::try_from(k).unwrap();
            assert_eq!(v.as_str(), Some(k.as_str()));
            let back: StageKind = v.try_into().unwrap();
            assert_eq!(back, k);
        }
        assert_eq!(format!("{:<10}|", StageKind::Dense), "dense     |");
    }
}
