//! The folding that lets the largest weight ROMs into the UP5K's SPRAMs.
//!
//! Why: a ROM goes to SPRAM only when its rows fit one SPRAM (`cost::spram`). The folding for
//! a cycle budget takes the fewest lanes that meet it, and for a large dense layer that is a
//! deep, narrow ROM: fashion-default's fc1 (589,824 bits) at two lanes is 294,912 words,
//! 36,864 packed rows, too deep for any SPRAM, so it stays in 154 RAM4K of the UP5K's 30.
//! Folded wider, at 48 lanes, it is 12,288 words of three 16-bit slices: three SPRAMs, and
//! fewer cycles, not more. So after the folding for a budget, each automatically folded ROM,
//! largest first, that does not fit the SPRAMs left is widened to the fold that does with the
//! fewest SPRAMs (then the fewest lanes), within the same budget; the frame rate never drops.

use super::cost::memory::weight_rom_shape;
use super::cost::spram::SpramStore;
use super::{divisors, layer_cost, plan_from_folds, tap_counts, Fold, HwConfig, Plan};
use crate::model::Model;

/// `plan` (folded with `hw` for its cycles per frame) with ROMs widened to fit `sprams`
/// SPRAMs where a wider fold within the plan's cycles per frame does; `plan` as it was when
/// none is.
pub fn widen_for_spram(model: &Model, plan: Plan, hw: &HwConfig, sprams: usize) -> Plan {
    let budget = plan.cycles_per_frame;
    let mut folds = plan.folds();
    let mut order: Vec<usize> = (0..model.layers.len())
        .filter(|&i| {
            let l = &model.layers[i];
            l.kind.weights().is_some()
                && !l.kind.fully_pruned()
                && !plan.layers[i].weights_in_logic
                && !hw.layers.contains_key(&l.name)
        })
        .collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(plan.layers[i].weight_bits), i));
    let mut left = sprams;
    let mut widened = false;
    for i in order {
        match store_of(model, &plan, i, folds[i]) {
            Some(s) if s.slices() <= left => left -= s.slices(),
            Some(_) => {}
            None => {
                if let Some((f, slices)) = spram_fold(model, &plan, hw, i, budget, left) {
                    folds[i] = f;
                    left -= slices;
                    widened = true;
                }
            }
        }
    }
    match widened {
        true => plan_from_folds(model, hw, &folds),
        false => plan,
    }
}

/// Layer `i`'s weight ROM at `fold` as an SPRAM store, if its rows fit one SPRAM.
fn store_of(model: &Model, plan: &Plan, i: usize, fold: Fold) -> Option<SpramStore> {
    let w = model.layers[i].kind.weights()?;
    let mut lp = plan.layers[i].clone();
    (lp.pe, lp.simd, lp.taps) = (fold.pe, fold.simd, fold.taps);
    let (width, depth) = weight_rom_shape(w, &lp);
    let s = SpramStore {
        layer: i,
        width,
        depth,
        base: 0,
    };
    s.fits_spram().then_some(s)
}

/// The fold of layer `i` within `budget` cycles per frame whose ROM fits at most `left`
/// SPRAMs, with the fewest SPRAMs, then the fewest lanes (ties: more SIMD, then fewer taps).
fn spram_fold(
    model: &Model,
    plan: &Plan,
    hw: &HwConfig,
    i: usize,
    budget: u64,
    left: usize,
) -> Option<(Fold, usize)> {
    let w = model.layers[i].kind.weights()?;
    let mut best: Option<((usize, usize, usize, usize), Fold)> = None;
    for taps in tap_counts(w.kernel_h, w.kernel_w) {
        for pe in divisors(w.out_per_block()) {
            for simd in divisors(w.in_per_block()) {
                let f = Fold { pe, simd, taps };
                let (cycles, ..) = layer_cost(model, i, f, hw.handoff);
                let Some(s) = store_of(model, plan, i, f) else {
                    continue;
                };
                let key = (s.slices(), pe * simd * taps, usize::MAX - simd, taps);
                if cycles <= budget && s.slices() <= left && best.is_none_or(|(k, _)| key < k) {
                    best = Some((key, f));
                }
            }
        }
    }
    best.map(|(k, f)| (f, k.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{set_folding, WeightStore};

    /// fashion-default at 150 frames/s (48 MHz): fc1 folds to two lanes, too deep for an
    /// SPRAM; widened, it takes three SPRAMs at fewer cycles, and the frame rate holds.
    #[test]
    fn the_largest_rom_is_widened_into_the_sprams_without_losing_frame_rate() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/models/fashion-default.toml");
        let model = crate::model::load(std::path::Path::new(path)).unwrap();
        let hw = HwConfig {
            clock_mhz: 48.0,
            fps: Some(150.0),
            weights: Some(WeightStore::Spram),
            ..HwConfig::default()
        };
        let plan = set_folding(&model, &hw).unwrap();
        let fc1 = model.layer_index("fc1").unwrap();
        assert!(store_of(&model, &plan, fc1, plan.folds()[fc1]).is_none());
        let wide = widen_for_spram(&model, plan.clone(), &hw, 4);
        let s = store_of(&model, &wide, fc1, wide.folds()[fc1]).expect("fc1 fits SPRAM");
        assert_eq!(s.slices(), 3, "{:?}", wide.layers[fc1]);
        assert!(wide.layers[fc1].cycles_per_frame < plan.layers[fc1].cycles_per_frame);
        assert!(wide.cycles_per_frame <= plan.cycles_per_frame);
        let stores = crate::plan::cost::spram::assign(&model, &wide, 4);
        assert!(stores.iter().any(|s| s.layer == fc1), "{stores:?}");
        // No SPRAM left: nothing changes.
        assert_eq!(widen_for_spram(&model, plan.clone(), &hw, 0), plan);
    }
}
