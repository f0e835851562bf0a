//! Fold to a device: the fastest folding whose estimated cost fits a device within budgets.
//!
//! `set_folding` answers "how many lanes for this frame rate"; a user with a chip asks the
//! reverse: "how fast can this model run on it". This search answers that with the pieces that
//! exist, and changes none of them: a layer's folding only changes at the cycle budgets where
//! one of its (PE, SIMD) choices starts or stops meeting the budget, so the search folds at
//! each of those budgets with each hand-off (`set_folding`), estimates the design
//! (`cost::estimate`, plus the board top that `synth` places around it), and keeps the plan
//! with the fewest cycles per frame whose estimate is within the budgets (ties: the smaller
//! design). Nothing fitting is an error that says what does not fit and by how much.
//!
//! The budgets are margins under the device's capacity: logic (iCE40 logic cells, ECP5 LUTs)
//! because the LUT estimate is fitted, not exact, and because a nearly full iCE40 places with
//! long routes and a lower Fmax; block RAM at 100% by default because its estimate is exact.

use serde::Serialize;

use super::cost::{self, ram::RamFamily, Capacity, Cells, DesignCost};
use super::device::Device;
use super::{
    divisors, layer_cost, set_folding, spram_fold, tap_counts, Fold, Handoff, HwConfig, Plan,
    PlanError, WeightStore,
};
use crate::model::{LayerKind, Model};

/// Default logic budget, in percent of the device's logic cells (iCE40) or LUTs (ECP5).
pub const DEFAULT_MAX_LOGIC_PERCENT: f64 = 91.0;

/// Default block-RAM budget, in percent of the device's blocks.
pub const DEFAULT_MAX_BRAM_PERCENT: f64 = 100.0;

/// Most logic, in percent of the device's, that a design with weight ROMs moved into logic may
/// take, whatever the logic budget: ROMs in logic are wide LUT and mux trees (ECP5 PFUMX and
/// L6MUX21 cells) that place less densely than the rest. Measured on the ECP5-25k
/// (docs/benchmarks.md, "Block-RAM efficiency"): fashion-default with 23,552 ROM bits in
/// logic at 44% of the LUT4s placed; with 92,160 at 90% it did not place.
pub const MOVED_ROMS_MAX_LOGIC_PERCENT: f64 = 50.0;

/// What the board top (`constraints/`: UART bridge, UART, power-on reset) adds around the
/// accelerator, as `synth` reports it for iCE40 (about 95 LUTs and 80 flip-flops); taken as
/// the same on ECP5.
pub const BOARD_TOP: Cells = Cells {
    luts: 95,
    ffs: 80,
    carry: 0,
    bram: 0,
    spram: 0,
    lutram: 0,
    bram_bits: 0,
};

/// What the SPI-flash loader (`constraints/common/bnngen_spi_loader.v`) adds to the board top
/// of a design with weights in SPRAM: Yosys 0.23's count for fashion-up5k's
/// (`synth_ice40 -spram -noflatten`; it hardly depends on the model).
pub const SPI_LOADER: Cells = Cells {
    luts: 108,
    ffs: 105,
    carry: 46,
    bram: 0,
    spram: 0,
    lutram: 0,
    bram_bits: 0,
};

/// What a design takes of a device, beside the device's capacity and the budgets' limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeviceUse {
    /// Logic cells (iCE40) or LUT4s with carry and LUT RAM (ECP5), the board top included.
    pub logic: u64,
    pub logic_capacity: u64,
    pub logic_limit: u64,
    pub bram: u64,
    pub bram_capacity: u64,
    pub bram_limit: u64,
    /// SPRAMs holding weights (iCE40 UP5K with `weights = "spram"`), and the device's.
    pub spram: u64,
    pub spram_capacity: u64,
    /// Name of the logic unit ("logic cells", "LUTs") and of the block RAM ("RAM4K").
    pub logic_unit: &'static str,
    pub bram_unit: &'static str,
}

impl DeviceUse {
    pub fn fits(&self) -> bool {
        self.logic <= self.logic_limit
            && self.bram <= self.bram_limit
            && self.spram <= self.spram_capacity
    }

    /// How far over its limits a design is: the worse ratio of use to limit, then the sum of
    /// both (1.0 = at the limit), to compare designs that do not fit.
    fn overflow(&self) -> (f64, f64) {
        let r = |a: u64, b: u64| a as f64 / b.max(1) as f64;
        let (l, b) = (
            r(self.logic, self.logic_limit),
            r(self.bram, self.bram_limit),
        );
        (l.max(b), l + b)
    }

    /// One phrase per resource over its limit: "needs 31 RAM4K of 30 (the budget is 30, 100%;
    /// 1 over)".
    pub fn shortfalls(&self, budget_logic: f64, budget_bram: f64) -> Vec<String> {
        let mut out = Vec::new();
        let mut over = |need: u64, cap: u64, limit: u64, unit: &str, pct: f64| {
            if need > limit {
                out.push(format!(
                    "needs {need} {unit} of {cap} (the budget is {limit}, {pct}%; {} over)",
                    need - limit
                ));
            }
        };
        over(
            self.spram,
            self.spram_capacity,
            self.spram_capacity,
            "SPRAM",
            100.0,
        );
        over(
            self.bram,
            self.bram_capacity,
            self.bram_limit,
            self.bram_unit,
            budget_bram,
        );
        over(
            self.logic,
            self.logic_capacity,
            self.logic_limit,
            self.logic_unit,
            budget_logic,
        );
        out
    }
}

/// What `cost` (the accelerator's estimate) and the board top (with the flash loader when
/// weights are in SPRAM) take of a device with capacity `cap`, against the budgets in `hw`.
pub fn device_use(cost: &DesignCost, cap: &Capacity, hw: &HwConfig) -> DeviceUse {
    let mut cells = match cap.family {
        RamFamily::Ice40 => cost.total.ice40,
        RamFamily::Ecp5 => cost.total.ecp5,
    };
    cells += BOARD_TOP;
    if cells.spram > 0 {
        cells += SPI_LOADER;
    }
    let (logic, logic_unit, bram_unit) = match cap.family {
        RamFamily::Ice40 => (
            cost::logic::ice40_logic_cells(&cells),
            "logic cells",
            "RAM4K",
        ),
        // What nextpnr-ecp5 counts against the device's LUT4s ("Total LUT4s"): logic LUTs,
        // two per carry cell (CCU2C) and six per LUT RAM cell (TRELLIS_DPR16X4: four RAM
        // LUTs and two write LUTs). Counting logic LUTs alone let a fold to the ECP5-25k
        // choose fashion-default at 22,926 logic LUTs, 27,358 LUT4s in all: no placement.
        RamFamily::Ecp5 => (
            (cells.luts + 2 * cells.carry + 6 * cells.lutram).max(cells.ffs),
            "LUTs",
            "DP16KD",
        ),
    };
    let limit = |cap: u64, pct: f64| (cap as f64 * pct / 100.0).floor() as u64;
    DeviceUse {
        logic,
        logic_capacity: cap.luts,
        logic_limit: limit(cap.luts, hw.max_logic_percent),
        bram: cells.bram,
        bram_capacity: cap.bram,
        bram_limit: limit(cap.bram, hw.max_bram_percent),
        spram: cells.spram,
        spram_capacity: cap.spram,
        logic_unit,
        bram_unit,
    }
}

/// Why no folding was chosen for a device.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error(
        "model `{model}` does not fit {device} within the budgets at any folding{weights}; the one \
         closest to fitting ({fps:.1} frames/s at {clock_mhz} MHz, hand-off {handoff}) {}; raise \
         max_logic_percent / max_bram_percent (docs/hw-config.md) or choose a larger device",
        shortfalls.join("; ")
    )]
    NothingFits {
        model: String,
        device: Device,
        fps: f64,
        clock_mhz: f64,
        handoff: &'static str,
        /// Where the weights were tried, when not only where the hw file put them.
        weights: &'static str,
        shortfalls: Vec<String>,
    },
    #[error(
        "model `{model}` at this folding needs {need} {unit} of the {have} that {device} has \
         (block RAM is estimated exactly, docs/hw-config.md); add `device = \"{device}\"` to \
         the hw file to fold to it (weight ROMs may move into logic), fold it narrower, or \
         choose a larger target"
    )]
    TooManyBlocks {
        model: String,
        device: Device,
        need: u64,
        have: u64,
        unit: &'static str,
    },
    #[error(
        "{wanted} frames/s is not reachable on {device} at {clock_mhz} MHz within the \
         budgets: the fastest folding that fits reaches {best:.1} frames/s; lower fps or set \
         best_effort = true to build that"
    )]
    TooSlow {
        device: Device,
        wanted: f64,
        best: f64,
        clock_mhz: f64,
    },
}

/// The search's answer: the plan, the hardware configuration that folds to it (the device's
/// clock, the chosen hand-off, the frame-rate budget), what it takes of the device, and how
/// many candidate foldings were estimated.
#[derive(Debug, Clone)]
pub struct Fitted {
    pub plan: Plan,
    pub hw: HwConfig,
    pub usage: DeviceUse,
    pub tried: usize,
}

/// Fold `model` with `hw` (explicit folds, clock, pop-count stages and budgets kept) to the
/// fastest plan whose estimate fits `device`; see the module doc. With `weights` unset, the
/// weights go to block RAM when some folding fits that way, else (on a device with SPRAM) to
/// SPRAM: the bitstream then holds no SPRAM weight, and the board needs the flash image too.
pub fn fit_to_device(model: &Model, hw: &HwConfig, device: Device) -> Result<Fitted, PlanError> {
    let stores = match hw.weights {
        Some(w) => vec![w],
        None if device.capacity().spram > 0 => vec![WeightStore::Bram, WeightStore::Spram],
        None => vec![WeightStore::Bram],
    };
    // Dense outputs in words cost no cycle with the skid hand-off and save logic; tried only
    // where whole words fit nothing, so a design that fits keeps the stream it had.
    let words = match hw.dense_word_bits {
        Some(b) => vec![Some(b)],
        None => vec![None, Some(DENSE_WORD_BITS)],
    };
    let mut tries = stores
        .iter()
        .flat_map(|&s| words.iter().map(move |&w| (s, w)));
    let (store, word) = tries.next().expect("one store and one word width");
    let mut result = fastest_fit(model, &with_words(hw, word), store, device, "");
    for (store, word) in tries {
        if !matches!(result, Err(PlanError::Fit(FitError::NothingFits { .. }))) {
            break;
        }
        let note = match (stores.len() > 1, words.len() > 1) {
            (true, true) => {
                " with weights in block RAM or in SPRAM, dense outputs whole or in words"
            }
            (true, false) => " with weights in block RAM or in SPRAM",
            (false, true) => " with dense outputs whole or in words",
            (false, false) => "",
        };
        result = fastest_fit(model, &with_words(hw, word), store, device, note);
    }
    let fitted = result?;
    if let Some(wanted) = hw.fps {
        if fitted.plan.fps < wanted && !hw.best_effort {
            return Err(FitError::TooSlow {
                device,
                wanted,
                best: fitted.plan.fps,
                clock_mhz: hw.clock_mhz,
            }
            .into());
        }
    }
    Ok(fitted)
}

/// Channels per word of a dense layer's output that folding to a device tries when whole
/// words fit nothing (`HwConfig::dense_word_bits`): the width of an iCE40 RAM4K read.
pub const DENSE_WORD_BITS: usize = 16;

/// `hw` with dense outputs in words of `bits` channels (or whole, `None`).
fn with_words(hw: &HwConfig, bits: Option<usize>) -> HwConfig {
    HwConfig {
        dense_word_bits: bits,
        ..hw.clone()
    }
}

/// The fastest plan with the weights in `store` whose estimate fits `device`, or an error
/// with what comes closest (`tried_note` says where the weights were tried).
fn fastest_fit(
    model: &Model,
    hw: &HwConfig,
    store: WeightStore,
    device: Device,
    tried_note: &'static str,
) -> Result<Fitted, PlanError> {
    let hw = &HwConfig {
        weights: Some(store),
        ..hw.clone()
    };
    let cap = device.capacity();
    let mut best: Option<Fitted> = None;
    let mut smallest: Option<(Plan, DeviceUse)> = None;
    let mut tried = 0;
    for handoff in [Handoff::Skid, Handoff::Hold] {
        for budget in candidate_budgets(model, hw, handoff) {
            let mut at = budget_config(hw, handoff, budget);
            let mut plan = set_folding(model, &at)?;
            // Unless the user sets them, each candidate gets the pipeline stages its trees
            // need at the device's clock (`popcount_stages_for`), and the estimate counts
            // their registers: a folding that fits only without them misses the clock.
            if hw.popcount_stages.is_none() {
                at.popcount_stages = Some(popcount_stages_for(model, &plan, device));
                plan = set_folding(model, &at)?;
            }
            if at.weights == Some(WeightStore::Spram) {
                plan = spram_fold::widen_for_spram(model, plan, &at, cap.spram as usize);
            }
            let (plan, usage) = rings_for_device(model, plan, &cap, hw);
            tried += 1;
            if usage.fits() {
                let key = (plan.cycles_per_frame, usage.logic, usage.bram);
                if best
                    .as_ref()
                    .is_none_or(|b| key < (b.plan.cycles_per_frame, b.usage.logic, b.usage.bram))
                {
                    best = Some(Fitted {
                        plan,
                        hw: at,
                        usage,
                        tried: 0,
                    });
                }
            } else if smallest
                .as_ref()
                .is_none_or(|(_, u)| usage.overflow() < u.overflow())
            {
                smallest = Some((plan, usage));
            }
        }
    }
    let Some(mut fitted) = best else {
        let (plan, usage) = smallest.expect("at least one candidate budget");
        return Err(FitError::NothingFits {
            model: model.meta.name.clone(),
            device,
            fps: plan.fps,
            clock_mhz: plan.clock_mhz,
            handoff: handoff_name(plan.handoff),
            weights: tried_note,
            shortfalls: usage.shortfalls(hw.max_logic_percent, hw.max_bram_percent),
        }
        .into());
    };
    fitted.tried = tried;
    Ok(fitted)
}

/// Pipeline stages for the pop-count trees of `plan` on `device`, when the user sets none:
/// one stage per `Device::popcount_levels_per_stage` adder levels of the deepest tree (a
/// tree of n inputs has ceil(log2 n) levels), and at least one. Why: the fastest folding
/// that fits is often one of wide trees (fashion-up5k on the UP5K: 32 inputs), whose adder
/// chain in one stage missed the device's default clock.
pub fn popcount_stages_for(model: &Model, plan: &Plan, device: Device) -> u32 {
    let levels = (model.layers.iter().zip(&plan.layers))
        .filter(|(l, _)| l.kind.weights().is_some() && !l.kind.fully_pruned())
        .map(|(_, lp)| {
            ((lp.simd * lp.taps) as u64)
                .next_power_of_two()
                .trailing_zeros()
        })
        .max()
        .unwrap_or(0);
    levels.div_ceil(device.popcount_levels_per_stage()).max(1)
}

/// `plan` fitted to the device (`move_weights_to_logic`) with its narrow rings, with its
/// max-pools' rings as whole words, or with every ring as whole words
/// (`plan::widen_rings`): whichever fits with the least logic, the wider on a tie; when none
/// fits, the first.
/// A pool's narrow ring saves blocks but costs logic (measured with Yosys 0.23 on
/// fashion-up5k: pool2 +28 LUT4 and one RAM4K fewer, pool3 +53 and three fewer), so it is
/// kept only where the blocks are needed: fashion-default on the ECP5-25k (whole words would
/// move the head's ROM into logic too), not the UP5K folds, which are short of logic cells
/// (the unpruned model with SPRAM weights: 4,739 logic cells and 49.26 MHz on the third
/// seed with narrow rings, 4,622 and 48.54 MHz on the first with whole words). A one-tap MAC
/// stage's narrow ring costs about no logic (fashion-up5k's fc1: +1 LUT4, -49 flip-flops,
/// three RAM4K fewer), so it may stay where the pools' go.
fn rings_for_device(model: &Model, plan: Plan, cap: &Capacity, hw: &HwConfig) -> (Plan, DeviceUse) {
    let is_pool = |i: usize| matches!(model.layers[i].kind, LayerKind::MaxPool(_));
    let narrow: Vec<usize> = (0..plan.layers.len())
        .filter(|&i| plan.layers[i].ring_groups > 1)
        .collect();
    let mut candidates = vec![plan.clone()];
    if narrow.iter().any(|&i| is_pool(i)) {
        candidates.push(super::widen_rings(model, plan.clone(), is_pool));
    }
    if narrow.iter().any(|&i| !is_pool(i)) {
        candidates.push(super::widen_rings(model, plan.clone(), |_| true));
    }
    let mut best: Option<(Plan, DeviceUse)> = None;
    for c in candidates {
        let (p, u) = move_weights_to_logic(model, c, cap, hw);
        let better = match &best {
            None => true,
            Some((_, b)) => u.fits() && (!b.fits() || u.logic <= b.logic),
        };
        if better {
            best = Some((p, u));
        }
    }
    best.expect("at least the plan itself")
}

/// `plan` with weight ROMs moved from block RAM into logic, the emptiest blocks first, until
/// its estimate is within the block-RAM budget, and what it takes of the device; `plan` as
/// it was when it is within that budget already, or when no such move fits the device (so
/// that a design that fits nowhere is reported by its block RAM, not by the logic that
/// moving every ROM would take).
///
/// Why: a shallow, wide ROM takes a block per 36 bits (ECP5) or 16 bits (iCE40) of its word
/// however few words it has (fashion-default's conv2: 72 words of 256 bits, 8 DP16KD at 12%),
/// so a design can be short of blocks while most of the device's LUTs are free. In logic such
/// a ROM costs LUTs instead (a 6-input function per bit and bank, `RomLayout::in_logic`),
/// which the estimate counts, so the logic budget still decides whether the result fits, and
/// the result must stay within `MOVED_ROMS_MAX_LOGIC_PERCENT` of the device's logic.
pub fn move_weights_to_logic(
    model: &Model,
    plan: Plan,
    cap: &Capacity,
    hw: &HwConfig,
) -> (Plan, DeviceUse) {
    let cost = cost::estimate(model, &plan);
    let usage = device_use(&cost, cap, hw);
    if usage.bram <= usage.bram_limit {
        return (plan, usage);
    }
    let mut cands = weight_blocks(model, &cost, cap.family);
    // Emptiest first: fewest weight bits per block freed; then layer order.
    cands.sort_by(|a, b| (a.2 * b.1).cmp(&(b.2 * a.1)).then(a.0.cmp(&b.0)));
    let mut moved = plan.clone();
    let mut freed = 0;
    for (idx, blocks, _) in cands {
        moved.layers[idx].weights_in_logic = true;
        freed += blocks;
        if usage.bram - freed <= usage.bram_limit {
            let u = device_use(&cost::estimate(model, &moved), cap, hw);
            let placeable =
                u.logic as f64 <= u.logic_capacity as f64 * MOVED_ROMS_MAX_LOGIC_PERCENT / 100.0;
            if u.fits() && placeable {
                return (moved, u);
            }
            break;
        }
    }
    (plan, usage)
}

/// (layer, blocks, bits) of every weight ROM that `cost` puts in block RAM on `fam`.
fn weight_blocks(model: &Model, cost: &DesignCost, fam: RamFamily) -> Vec<(usize, u64, u64)> {
    let mut out = Vec::new();
    for (idx, part) in cost.parts[1..].iter().enumerate() {
        debug_assert_eq!(part.name, model.layers[idx].name);
        let mems = match fam {
            RamFamily::Ice40 => &part.memories.ice40,
            RamFamily::Ecp5 => &part.memories.ecp5,
        };
        let (mut blocks, mut bits) = (0, 0);
        for m in mems
            .iter()
            .filter(|m| m.role == cost::memory::Role::Weights)
        {
            if let cost::ram::Placed::Block(n) = m.placed {
                blocks += n;
                bits += m.width as u64 * m.depth as u64;
            }
        }
        if blocks > 0 {
            out.push((idx, blocks, bits));
        }
    }
    out
}

/// A plan folded without a device, built for `device` anyway (`synth --target` with an hw file
/// that names none): refused before any tool runs when its block RAM, which the estimate
/// counts exactly, cannot fit the device; placement would fail after minutes of synthesis.
pub fn check_blocks(model: &Model, plan: &Plan, device: Device) -> Result<(), FitError> {
    let cap = device.capacity();
    let u = device_use(&cost::estimate(model, plan), &cap, &HwConfig::default());
    let over = |need: u64, have: u64, unit: &'static str| FitError::TooManyBlocks {
        model: model.meta.name.clone(),
        device,
        need,
        have,
        unit,
    };
    if u.bram > u.bram_capacity {
        return Err(over(u.bram, u.bram_capacity, u.bram_unit));
    }
    if u.spram > u.spram_capacity {
        return Err(over(u.spram, u.spram_capacity, "SPRAM"));
    }
    Ok(())
}

/// The configuration that folds to `device` when the user gave no hardware file: the
/// device's default clock and the default budgets.
pub fn device_config(device: Device) -> HwConfig {
    HwConfig {
        clock_mhz: device.default_clock_mhz(),
        device: Some(device),
        ..HwConfig::default()
    }
}

/// Fold by `hw`: to its `device` when it names one (`fit_to_device`), else by `set_folding`.
pub fn fold(model: &Model, hw: &HwConfig) -> Result<Plan, PlanError> {
    match hw.device {
        Some(d) => Ok(fit_to_device(model, hw, d)?.plan),
        None => set_folding(model, hw),
    }
}

/// The hand-off as written in hardware and plan files.
pub fn handoff_name(h: Handoff) -> &'static str {
    match h {
        Handoff::Skid => "skid",
        Handoff::Hold => "hold",
    }
}

/// `hw` folding to at most `budget` cycles per frame with `handoff`: an fps target whose
/// budget (`floor(clock / fps)`) is exactly `budget`.
fn budget_config(hw: &HwConfig, handoff: Handoff, budget: u64) -> HwConfig {
    HwConfig {
        fps: Some(hw.clock_mhz * 1e6 / (budget as f64 + 0.5)),
        handoff,
        best_effort: true,
        device: None,
        ..hw.clone()
    }
}

/// Every cycles-per-frame figure of some (PE, SIMD, taps) choice of a layer that `hw` leaves to the
/// automatic folding, no lower than the input rate (one pixel per cycle bounds the frame rate,
/// so a tighter budget only adds lanes), ascending, with the input rate itself.
fn candidate_budgets(model: &Model, hw: &HwConfig, handoff: Handoff) -> Vec<u64> {
    let input = (model.input.height * model.input.width) as u64;
    let mut out = vec![input];
    for (i, l) in model.layers.iter().enumerate() {
        let Some(w) = l.kind.weights() else {
            continue;
        };
        if hw.layers.contains_key(&l.name) {
            continue;
        }
        for taps in tap_counts(w.kernel_h, w.kernel_w) {
            for pe in divisors(w.out_per_block()) {
                for simd in divisors(w.in_per_block()) {
                    let fold = Fold { pe, simd, taps };
                    let (cycles, ..) = layer_cost(model, i, fold, handoff);
                    if cycles >= input {
                        out.push(cycles);
                    }
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}
