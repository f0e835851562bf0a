//! Dense weight tensors (+-1 kept, 0 pruned) back to bnngen's block layout: in- and
//! out-blocks, the mask of kept tiles and the weight bit stream.
//!
//! The block counts come from the file's `bnngen.blocks.<layer>` entry when the zeros agree
//! with it, else from a grouped Conv's `group` (diagonal blocks), else from the fewest tiles
//! whose every tile is either all zero (pruned) or all +-1 (kept). A zero inside a kept tile
//! is refused: bnngen has no per-weight pruning.

use super::keys;
use super::proto::NodeProto;
use super::walk::{ImportError, Walk};
use crate::model::{limits, Bits, BlockWeights};

/// Largest weight count of one layer once its groups are expanded (2^28).
const MAX_EXPANDED: u128 = 1 << 28;

/// A layer's weights as read from the file, before blocking.
pub(super) struct Dense<'a> {
    pub out_channels: usize,
    pub in_channels: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    /// Convolution groups of the node (1 for MatMul).
    pub group: usize,
    /// Weight (o, ci, ky, kx) for ci in the whole input (0 outside o's group).
    pub get: &'a dyn Fn(usize, usize, usize, usize) -> f64,
}

/// Cut the weights into blocks (see the module doc) and pack the kept tiles' bits.
pub(super) fn block_weights(
    w: &Walk<'_>,
    i: usize,
    n: &NodeProto,
    layer: &str,
    d: &Dense<'_>,
) -> Result<BlockWeights, ImportError> {
    let (o_n, c_n) = (d.out_channels, d.in_channels);
    // A grouped conv expands to O x C x kh x kw weights: bound that before allocating.
    let expanded = (o_n as u128) * (c_n as u128) * (d.kernel_h as u128) * (d.kernel_w as u128);
    if o_n > limits::MAX_CHANNELS || c_n > limits::MAX_CHANNELS || expanded > MAX_EXPANDED {
        return Err(w.node_err(i, n, format!(
            "has {o_n} x {c_n} x {} x {} weights once groups are expanded; bnngen imports layers of at most {MAX_EXPANDED} weights and {} channels",
            d.kernel_h, d.kernel_w, limits::MAX_CHANNELS
        )));
    }
    // kept[o * c_n + ci]: whether (o, ci) has any non-zero tap; mixed taps are an error.
    let taps = d.kernel_h * d.kernel_w;
    let mut kept = vec![false; o_n * c_n];
    for o in 0..o_n {
        for ci in 0..c_n {
            let mut zeros = 0;
            for t in 0..taps {
                let v = (d.get)(o, ci, t / d.kernel_w, t % d.kernel_w);
                if v == 0.0 {
                    zeros += 1;
                } else if v != 1.0 && v != -1.0 {
                    return Err(w.node_err(i, n, format!(
                        "weight [{o}, {ci}, {}, {}] is {v}: bnngen's weights are +-1 (0 only for whole pruned tiles); quantize weights with BipolarQuant",
                        t / d.kernel_w,
                        t % d.kernel_w
                    )));
                }
            }
            if zeros != 0 && zeros != taps {
                return Err(w.node_err(i, n, format!(
                    "weights of output {o}, input channel {ci} are partly zero: bnngen prunes whole tiles of channels, not single weights"
                )));
            }
            kept[o * c_n + ci] = zeros == 0;
        }
    }
    let fits = |ib: usize, ob: usize| tiles_fit(&kept, o_n, c_n, ib, ob);
    let hint = w
        .meta
        .get(format!("{}{layer}", keys::BLOCKS_PREFIX).as_str())
        .and_then(|v| v.split_once('x'))
        .and_then(|(a, b)| Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()?)));
    let (ib, ob) = match hint {
        Some((ib, ob)) if ib > 0 && ob > 0 && c_n % ib == 0 && o_n % ob == 0 && fits(ib, ob) => (ib, ob),
        _ if d.group > 1 && fits(d.group, d.group) => (d.group, d.group),
        _ => fewest_tiles(o_n, c_n, &fits).ok_or_else(|| {
            w.node_err(i, n, "the zero (pruned) weights do not form whole tiles of any block split of the channels".into())
        })?,
    };
    let mut mask = Vec::with_capacity(ib * ob);
    let (ipb, opb) = (c_n / ib, o_n / ob);
    for t_o in 0..ob {
        for t_i in 0..ib {
            mask.push(kept[t_o * opb * c_n + t_i * ipb]);
        }
    }
    let mut bits = Bits::default();
    for t_o in 0..ob {
        for t_i in 0..ib {
            if !mask[t_o * ib + t_i] {
                continue;
            }
            for o in t_o * opb..(t_o + 1) * opb {
                for ky in 0..d.kernel_h {
                    for kx in 0..d.kernel_w {
                        for ci in t_i * ipb..(t_i + 1) * ipb {
                            bits.push((d.get)(o, ci, ky, kx) > 0.0);
                        }
                    }
                }
            }
        }
    }
    Ok(BlockWeights {
        in_channels: c_n,
        out_channels: o_n,
        kernel_h: d.kernel_h,
        kernel_w: d.kernel_w,
        in_blocks: ib,
        out_blocks: ob,
        mask,
        bits,
    })
}

/// Whether every (ob, ib) tile of the kept map is all kept or all pruned.
fn tiles_fit(kept: &[bool], o_n: usize, c_n: usize, ib: usize, ob: usize) -> bool {
    let (ipb, opb) = (c_n / ib, o_n / ob);
    (0..o_n).all(|o| {
        (0..c_n).all(|ci| {
            let first = kept[(o / opb * opb) * c_n + ci / ipb * ipb];
            kept[o * c_n + ci] == first
        })
    })
}

/// The block split with the fewest tiles (then the fewest in-blocks) that fits.
fn fewest_tiles(
    o_n: usize,
    c_n: usize,
    fits: &dyn Fn(usize, usize) -> bool,
) -> Option<(usize, usize)> {
    let divisors = |n: usize| (1..=n).filter(move |d| n.is_multiple_of(*d));
    let mut pairs: Vec<(usize, usize)> = divisors(c_n)
        .flat_map(|ib| divisors(o_n).map(move |ob| (ib, ob)))
        .filter(|&(ib, ob)| ib * ob <= limits::MAX_TILES)
        .collect();
    pairs.sort_by_key(|&(ib, ob)| (ib * ob, ib));
    pairs.into_iter().find(|&(ib, ob)| fits(ib, ob))
}
