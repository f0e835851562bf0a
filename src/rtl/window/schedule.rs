//! The skip-logic schedule of a MAC stage: the visited (out-block, PE group) pairs and, for
//! each, one entry per kept in-block. Pruned tiles have no entry, so they cost no cycle and no
//! weight bit.

use crate::model::BlockWeights;

/// One visited (out-group, kept in-block) step of the schedule.
pub(super) struct Entry {
    pub(super) group: usize,
    pub(super) ib: usize,
    pub(super) first: bool,
    pub(super) last: bool,
}

/// The schedule of kept tiles: visited groups (those of non-empty out-blocks) and entries.
pub(super) fn schedule(w: &BlockWeights, pe: usize) -> (Vec<(usize, usize)>, Vec<Entry>) {
    let opb = w.out_per_block();
    let mut groups = Vec::new();
    let mut entries = Vec::new();
    for ob in 0..w.out_blocks {
        let kept: Vec<usize> = (0..w.in_blocks).filter(|&ib| w.kept(ob, ib)).collect();
        if kept.is_empty() {
            continue;
        }
        for g in 0..opb / pe {
            let gi = groups.len();
            groups.push((ob, g));
            for (n, &ib) in kept.iter().enumerate() {
                entries.push(Entry {
                    group: gi,
                    ib,
                    first: n == 0,
                    last: n + 1 == kept.len(),
                });
            }
        }
    }
    (groups, entries)
}
