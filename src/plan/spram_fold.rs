//! The folding that lets the largest weight ROMs into the UP5K's SPRAMs.
//!
//! Why: a ROM in SPRAM takes a block per 16-bit slice of its word and per 16K rows of depth
//! (`cost::spram`), and a word that does not fill its row wastes the rest: at nine lanes
//! fashion-default's fc1 (589,824 bits) is 65,536 words of 9 bits, one to a row, all four of
//! the UP5K's SPRAMs, where at one lane (16 words to a row) it takes three. The folding for a
//! cycle budget picks lanes for cycles, not for SPRAM. So after the folding for a budget, each
//! automatically folded ROM, largest first, that does not fit the SPRAMs left is refolded to
//! the fold that does with the fewest SPRAMs (then the fewest lanes), within the same budget;
//! the frame rate never drops.

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
            Some(s) if s.blocks() <= left => left -= s.blocks(),
            _ => {
                if let Some((f, blocks)) = spram_fold(model, &plan, hw, i, budget, left) {
                    folds[i] = f;
                    left -= blocks;
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

/// Layer `i`'s weight ROM at `fold` as an SPRAM store, if it fits the UP5K's SPRAMs.
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
                let key = (s.blocks(), pe * simd * taps, usize::MAX - simd, taps);
                if cycles <= budget && s.blocks() <= left && best.is_none_or(|(k, _)| key < k) {
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

    /// fashion-default's fc1 folded to nine taps a step is 65,536 words of 9 bits, one to a row: all
    /// four SPRAMs. With three left, it is refolded to a fold that takes three, within the
    /// plan's cycles; with four it stays; with none nothing changes.
    #[test]
    fn a_rom_that_wastes_its_rows_is_refolded_into_the_sprams_left() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/models/fashion-default.toml");
        let model = crate::model::load(std::path::Path::new(path)).unwrap();
        let hw = HwConfig {
            clock_mhz: 48.0,
            weights: Some(WeightStore::Spram),
            ..HwConfig::default()
        };
        let mut nine = hw.clone();
        nine.layers.insert(
            "fc1".into(),
            Fold {
                pe: 1,
                simd: 1,
                taps: 9,
            },
        );
        let plan = set_folding(&model, &nine).unwrap();
        let fc1 = model.layer_index("fc1").unwrap();
        let s = store_of(&model, &plan, fc1, plan.folds()[fc1]).expect("fc1 fits SPRAM");
        assert_eq!((s.width, s.rows(), s.blocks()), (9, 65_536, 4));
        assert_eq!(widen_for_spram(&model, plan.clone(), &hw, 4), plan);
        let wide = widen_for_spram(&model, plan.clone(), &hw, 3);
        let s = store_of(&model, &wide, fc1, wide.folds()[fc1]).expect("fc1 fits SPRAM");
        assert_eq!(s.blocks(), 3, "{:?}", wide.layers[fc1]);
        assert!(wide.cycles_per_frame <= plan.cycles_per_frame);
        let stores = crate::plan::cost::spram::assign(&model, &wide, 3);
        assert!(stores.iter().any(|s| s.layer == fc1), "{stores:?}");
        // No SPRAM left: nothing changes.
        assert_eq!(widen_for_spram(&model, plan.clone(), &hw, 0), plan);
    }
}
