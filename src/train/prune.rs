//! Block pruning: tile importance from the latent weights and the gradual schedule.
//!
//! Importance of a tile (out-block, in-block) is the mean |w| of its latent weights: the sign
//! of a weight near zero flips easily, so a tile of small latent weights carries little. At the
//! end of each epoch in `start_epoch..end_epoch` every prunable layer keeps its most important
//! tiles, `floor(f * tiles)` of them (at least one), where the kept fraction f falls on the
//! cubic schedule `f = f_T + (1 - f_T) (1 - p)^3`, p = progress in (0, 1]. A pruned tile never
//! grows back. A stored-weight-bit budget becomes one kept fraction f_T for all prunable
//! layers: (budget - bits of unprunable layers) / bits of prunable layers.

use super::config::PruningConfig;
use super::net::Net;

/// Stored weight bits of the net with its current masks: (prunable, fixed).
pub fn stored_bits(net: &Net) -> (usize, usize) {
    let (mut p, mut f) = (0, 0);
    let mut add = |prune: bool, bits: usize| if prune { p += bits } else { f += bits };
    for l in &net.convs {
        let g = &l.geo;
        let tile =
            (g.out_channels / g.out_blocks) * (g.in_channels / g.in_blocks) * g.kernel * g.kernel;
        add(g.prune, tile * g.tiles.iter().filter(|&&k| k).count());
    }
    for l in net.denses.iter().chain(std::iter::once(&net.head)) {
        let g = &l.geo;
        let tile = (g.out_features / g.out_blocks) * (g.in_c / g.in_blocks) * g.in_h * g.in_w;
        add(g.prune, tile * g.tiles.iter().filter(|&&k| k).count());
    }
    (p, f)
}

/// The final kept fraction (relative to the tiles kept before pruning starts).
pub fn target_fraction(cfg: &PruningConfig, net: &Net) -> Result<f64, super::TrainError> {
    if let Some(f) = cfg.kept_fraction {
        return Ok(f);
    }
    let budget = cfg.weight_bits.unwrap_or(0);
    let (p, f) = stored_bits(net);
    if budget <= f || p == 0 {
        return Err(super::TrainError::Config(format!(
            "pruning.weight_bits: budget {budget} does not exceed the {f} bits of the layers \
             without `prune = true`"
        )));
    }
    Ok(((budget - f) as f64 / p as f64).min(1.0))
}

/// Kept fraction after the pruning step at the end of `epoch`, or None when no step is due.
pub fn fraction_at(cfg: &PruningConfig, target: f64, epoch: usize) -> Option<f64> {
    if epoch < cfg.start_epoch || epoch >= cfg.end_epoch {
        return None;
    }
    let p = (epoch + 1 - cfg.start_epoch) as f64 / (cfg.end_epoch - cfg.start_epoch) as f64;
    Some(target + (1.0 - target) * (1.0 - p).powi(3))
}

/// Mean |w| of each tile of a weight tensor given as a row-major host vector with `rows`
/// outputs; `col_block(c)` maps a column to its in-block.
fn importance(
    w: &[f32],
    rows: usize,
    out_blocks: usize,
    in_blocks: usize,
    col_block: impl Fn(usize) -> usize,
) -> Vec<f64> {
    let cols = w.len() / rows;
    let opb = rows / out_blocks;
    let mut sum = vec![0f64; out_blocks * in_blocks];
    let mut cnt = vec![0usize; out_blocks * in_blocks];
    for o in 0..rows {
        for c in 0..cols {
            let t = (o / opb) * in_blocks + col_block(c);
            sum[t] += w[o * cols + c].abs() as f64;
            cnt[t] += 1;
        }
    }
    sum.iter()
        .zip(&cnt)
        .map(|(s, &n)| s / n.max(1) as f64)
        .collect()
}

/// Keep the `keep` most important of the currently kept tiles (ties: lower index first).
fn keep_top(tiles: &mut [bool], imp: &[f64], keep: usize) {
    let mut idx: Vec<usize> = (0..tiles.len()).filter(|&t| tiles[t]).collect();
    idx.sort_by(|&a, &b| {
        imp[b]
            .partial_cmp(&imp[a])
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });
    for (r, &t) in idx.iter().enumerate() {
        tiles[t] = r < keep;
    }
}

/// Prune every prunable layer to `fraction` of `initial` kept tiles (one count per layer).
pub fn apply(net: &mut Net, fraction: f64, initial: &[usize]) {
    let keep = |li: usize| ((fraction * initial[li] as f64 + 1e-9).floor() as usize).max(1);
    let convs = net.convs.len();
    for (li, l) in net.convs.iter_mut().enumerate() {
        let g = &mut l.geo;
        if g.prune {
            let (kk, ipb) = (g.kernel * g.kernel, g.in_channels / g.in_blocks);
            let blocks = (g.out_channels, g.out_blocks, g.in_blocks);
            let col_block = |c: usize| (c / kk) / ipb;
            let w = l.weight.val().into_data();
            keep_heaviest(&mut g.tiles, w, blocks, col_block, keep(li));
        }
    }
    let denses = net.denses.iter_mut().chain(std::iter::once(&mut net.head));
    for (li, l) in denses.enumerate() {
        let g = &mut l.geo;
        if g.prune {
            let (hw, ipb) = (g.in_h * g.in_w, g.in_c / g.in_blocks);
            let blocks = (g.out_features, g.out_blocks, g.in_blocks);
            let col_block = |c: usize| (c / hw) / ipb;
            let w = l.weight.val().into_data();
            keep_heaviest(&mut g.tiles, w, blocks, col_block, keep(convs + li));
        }
    }
}

/// Keep the `keep` kept tiles of one layer with the largest mean |w|: `w` is its weight
/// tensor, `(rows, out_blocks, in_blocks)` its tiling, `col_block` as in [`importance`].
fn keep_heaviest(
    tiles: &mut [bool],
    w: burn::tensor::TensorData,
    (rows, out_blocks, in_blocks): (usize, usize, usize),
    col_block: impl Fn(usize) -> usize,
    keep: usize,
) {
    let w: Vec<f32> = w.try_to_vec::<f32>().unwrap();
    let imp = importance(&w, rows, out_blocks, in_blocks, col_block);
    keep_top(tiles, &imp, keep);
}

/// Kept tiles per weight layer (convs, denses, head), the reference counts for `apply`.
pub fn kept_counts(net: &Net) -> Vec<usize> {
    let mut v: Vec<usize> = net
        .convs
        .iter()
        .map(|l| l.geo.tiles.iter().filter(|&&k| k).count())
        .collect();
    v.extend(
        net.denses
            .iter()
            .chain(std::iter::once(&net.head))
            .map(|l| l.geo.tiles.iter().filter(|&&k| k).count()),
    );
    v
}
