//! Flip-flops of a MAC stage's pop-count pipeline, counted from the shape of the tree that
//! `rtl::popcount_tree::popcount` builds.
//!
//! Why exact: the registers a pipeline stage adds are the live values of the tree at the level
//! it cuts, which near the leaves is about the lane's bit count and near the root its width,
//! and every cycle of latency also delays the stage's controls and its group table. A simple
//! product (lanes x count width x stages) counted fashion-default's pipeline at a fifth of
//! what Yosys keeps, so the fitted constant went to zero and the fold to a device could not
//! tell one stage from three. `tests/popcount_tree.rs` checks this count against the
//! registers of the generated trees.

use super::widths::bits_for;

/// (register bits, latency in cycles) of a pop count of `n` bits with up to `stages` pipeline
/// registers: the compressor tree from 4 bits on, a plain adder tree below.
pub fn popcount_registers(n: u32, stages: u32) -> (u64, u32) {
    if n >= 4 {
        compressor(n, stages)
    } else {
        adders(n, stages)
    }
}

/// Levels (1-based) after which a tree of `levels` levels is registered for `stages` stages:
/// spread evenly, the last after the root. The RTL's trees cut at the same levels.
pub fn cuts(levels: u32, stages: u32) -> Vec<u32> {
    (1..=stages)
        .map(|k| (k * levels).div_ceil(stages))
        .collect()
}

/// The compressor tree: full-adder leaves of up to three bits, the rest singles, then rounds
/// of row adders that pair the numbers by their largest value, each taking one single as its
/// carry-in. A register holds every number's bits and the singles left.
fn compressor(n: u32, stages: u32) -> (u64, u32) {
    let f = (n as u64 + 1).div_ceil(4);
    let mut nums: Vec<u64> = (0..f).map(|g| (n as u64 - 3 * g).min(3)).collect();
    let mut singles = (n as u64).saturating_sub(3 * f);
    let rounds = if nums.len() > 1 {
        bits_for(nums.len() as u64 - 1)
    } else {
        0
    };
    let levels = 1 + rounds;
    let stages = stages.min(levels);
    let cut = cuts(levels, stages);
    let (mut bits, mut latency) = (0, 0);
    for level in 1..=levels {
        if level > 1 {
            nums.sort_unstable();
            nums = nums
                .chunks(2)
                .map(|p| match p {
                    [x, y] => {
                        let z = u64::from(singles > 0);
                        singles -= z;
                        x + y + z
                    }
                    [x] => *x,
                    _ => unreachable!(),
                })
                .collect();
        }
        if cut.contains(&level) {
            latency += 1;
            bits += nums.iter().map(|&m| bits_for(m) as u64).sum::<u64>() + singles;
        }
    }
    (bits, latency)
}

/// A plain adder tree of `ceil(log2 n)` levels for fewer than 4 bits (one bit: a register on
/// the bit itself when any stage is asked for).
fn adders(n: u32, stages: u32) -> (u64, u32) {
    let levels = if n <= 1 { 0 } else { bits_for(n as u64 - 1) };
    let stages = stages.min(levels.max(1));
    let cut = cuts(levels, stages);
    let (mut bits, mut latency) = (0, 0);
    if levels == 0 && cut.contains(&0) {
        return (1, 1);
    }
    let mut count = n as u64;
    for lvl in 1..=levels {
        count = count.div_ceil(2);
        if cut.contains(&lvl) {
            latency += 1;
            bits += count * (lvl as u64 + 1);
        }
    }
    (bits, latency)
}

/// Flip-flops of the classifier's argmax tree (`rtl::window::mac`, `scores`): each registered
/// level holds, per pair, the winner's class index and (below the last level) its score, and
/// the whole word of `k` scores of `score_bits` that travels with the tree. None when the
/// argmax is the serial running compare (one lane, every out-block visited).
pub fn argmax_tree_registers(k: usize, score_bits: u32, serial: bool) -> u64 {
    if serial {
        return 0;
    }
    let class_bits = bits_for(k.saturating_sub(1) as u64) as u64;
    let word = k as u64 * score_bits as u64;
    let (mut n, mut bits) = (k as u64, 0);
    while n > 1 {
        let last = n <= 2;
        n = n.div_ceil(2);
        bits += word + n * (class_bits + if last { 0 } else { score_bits as u64 });
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_stage_no_register() {
        for n in 1..40 {
            assert_eq!(popcount_registers(n, 0), (0, 0), "n = {n}");
        }
    }

    #[test]
    fn one_stage_at_the_root_holds_the_count() {
        // One stage registers the last level: the count itself, as wide as its largest value.
        for n in [4u32, 9, 32, 100, 512] {
            let (bits, lat) = popcount_registers(n, 1);
            assert_eq!(lat, 1);
            assert_eq!(bits, bits_for(n as u64) as u64, "n = {n}");
        }
    }

    #[test]
    fn the_argmax_tree_registers_each_level() {
        // 4 classes of 6-bit scores, 2 class bits: level 1 keeps 2 (index, score) pairs and
        // the 24-bit word, level 2 one index and the word.
        assert_eq!(argmax_tree_registers(4, 6, false), 24 + 2 * 8 + 24 + 2);
        assert_eq!(argmax_tree_registers(4, 6, true), 0);
        assert_eq!(argmax_tree_registers(1, 6, false), 0);
    }

    #[test]
    fn more_stages_keep_more_bits() {
        let (one, _) = popcount_registers(256, 1);
        let (two, l2) = popcount_registers(256, 2);
        let (three, l3) = popcount_registers(256, 3);
        assert_eq!((l2, l3), (2, 3));
        assert!(one < two && two < three, "{one} {two} {three}");
    }
}
