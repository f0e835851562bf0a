//! The layout of a window stage's line buffer when it holds groups of chunks instead of whole
//! pixel words (a "narrow ring").
//!
//! Why: a classifier after a dense layer reads one SIMD chunk of hundreds of channels per
//! step from a ring of a few one-pixel rows. Stored as whole words, that ring is a few times
//! the pixel width in flip-flops (fashion-default's head: 4 x 512 bits, about 2,000 of the
//! UP5K's 5,280 logic cells), and the chunk select in front of the read register is a wide
//! mux. Stored as groups of 2^lo chunks, one group per word, the same bits fit a block RAM
//! or LUT RAM a group wide, the read address picks the group (the job the mux did), and the
//! write side takes one cycle per group of each pixel, which such a stage always has: its
//! issue side spends at least a cycle per chunk.
//!
//! A max-pool's ring is narrow too when its pixels are wider than `POOL_GROUP_BITS`: a pool
//! reads a whole pixel word per kernel tap, so a 64- or 128-channel ring of a few dozen words
//! took 4 to 8 blocks of which it filled a fifth (a block reads at most 16 bits per cycle on
//! iCE40, 36 on ECP5). Stored as 16-bit groups it fills one or two, and the pool visits each
//! tap once per group; the plan (`Plan::layers[].ring_groups`) chooses it only where those
//! cycles leave the pipeline's rate alone (`pool_ring_groups`).
//!
//! One function decides each, for the RTL (`rtl::window`) and the cost model (`memory.rs`)
//! alike, so the memory the estimate counts is the one the RTL declares.

use super::ram::{RamFamily, Shape, Style, BLOCK_RAM_BITS};
use super::widths::bits_for;
use crate::model::{BlockWeights, Model};
use crate::plan::Plan;

/// Chunk count from which a chunk select is split over the two read stages
/// (`rtl::window::read`).
pub const SPLIT_CHUNKS: usize = 16;

/// Line-buffer words up to which a split chunk select picks its group before the first read
/// register (a 1x1 input: the ring's slots are its only words), and so up to which the ring
/// is stored narrow.
pub const NARROW_WORDS: usize = 4;

/// How a narrow ring is cut: `2^lo` chunks of `simd` bits per group (a word of the ring),
/// `groups` groups per pixel word, the group index `sub_bits` wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NarrowRing {
    pub lo: u32,
    pub groups: usize,
    pub group_bits: u32,
    pub sub_bits: u32,
    /// The writer takes a pixel into a holding register in one cycle and writes its groups
    /// from there (a max-pool's ring), so the producer is not held for the groups' cycles;
    /// else it writes them from the producer's held word and accepts it with the last.
    pub held: bool,
}

/// `Some(lo)` when a one-tap stage splits its chunk select over the two read stages: a dense
/// or classifier layer of one input block with at least `SPLIT_CHUNKS` chunks of `simd`
/// channels, over a line buffer of at most 16 `words`.
pub fn split_lo(w: &BlockWeights, simd: usize, taps: usize, words: usize) -> Option<u32> {
    let chunks = w.in_per_block() / simd;
    (w.in_blocks == 1 && chunks >= SPLIT_CHUNKS && words <= 16 && taps == 1)
        .then(|| bits_for(chunks as u64 - 1).div_ceil(2))
}

/// The narrow ring's groups for a split select over `c` channels (see `split_lo`).
pub fn narrow_geometry(lo: u32, simd: usize, c: usize) -> NarrowRing {
    let group_bits = (simd << lo) as u32;
    let groups = c.div_ceil(group_bits as usize);
    NarrowRing {
        lo,
        groups,
        group_bits,
        sub_bits: bits_for(groups as u64 - 1),
        held: false,
    }
}

/// The narrow ring of a stage over `c` channels with `words` line-buffer words, built for
/// `ram`, when it has one: on iCE40, a split select whose group is picked before the first
/// read register. (ECP5 keeps the whole-word ring: there it is LUT RAM, 4 x 512 bits in 128
/// cells for fashion-default's head, where the narrow one would take a DP16KD.)
pub fn narrow_ring(
    w: &BlockWeights,
    simd: usize,
    taps: usize,
    words: usize,
    c: usize,
    ram: RamFamily,
) -> Option<NarrowRing> {
    let lo = split_lo(w, simd, taps, words)?;
    (ram == RamFamily::Ice40 && words <= NARROW_WORDS).then(|| narrow_geometry(lo, simd, c))
}

/// Blocks a line buffer of `width` x `depth` takes on `fam` (`ram.rs`, with the style the RTL
/// gives it), 0 when it stays in logic or LUT RAM.
fn ring_blocks(width: u32, depth: usize, fam: RamFamily) -> u64 {
    let style = match width as usize * depth >= BLOCK_RAM_BITS {
        true => Style::Block,
        false => Style::Auto,
    };
    let shape = Shape {
        width,
        depth,
        rom: false,
        style,
        used: vec![true; width as usize],
    };
    match fam.place(&shape) {
        super::ram::Placed::Block(b) => b,
        _ => 0,
    }
}

/// The narrow ring of layer `idx`'s stage built for `ram`, if it has one: a max-pool's 16-bit
/// groups (the plan's `ring_groups`), or a MAC stage's (`narrow_ring`), held where its
/// producer would otherwise wait (`producer_would_wait`). The RTL builds this ring and the
/// cost model counts it.
pub fn layer_ring(model: &Model, plan: &Plan, idx: usize, ram: RamFamily) -> Option<NarrowRing> {
    let l = &model.layers[idx];
    let lp = &plan.layers[idx];
    let Some(w) = l.kind.weights() else {
        return pool_ring(lp.ring_groups);
    };
    let words = lp.rows * l.input.width.next_power_of_two();
    let c = l.input.channels;
    let n = match mac_ring(lp.simd, lp.ring_groups) {
        // A MAC stage's ring is narrow on the families where that takes fewer blocks: its
        // cycles do not depend on it (`mac_ring_groups`).
        Some(n) if fewer_blocks(c, words, &n, ram) => n,
        Some(_) => return None,
        None => narrow_ring(w, lp.simd, lp.taps, words, c, ram)?,
    };
    Some(NarrowRing {
        held: n.held || producer_would_wait(model, plan, idx, n.groups),
        ..n
    })
}

/// Whether layer `idx`'s narrow ring, if written from its producer's held word (`groups`
/// cycles per pixel, the producer waiting `groups - 1` of them for each pixel it hands on),
/// would make the producer as slow as the pipeline's interval. Such a ring is held instead
/// (`NarrowRing::held`): otherwise the producer, being the slowest stage, would miss the
/// plan's cycles per frame (fashion-up5k at its shipped folding on iCE40: fc1 36,871 cycles
/// against 36,864 for the head's 8 groups).
pub fn producer_would_wait(model: &Model, plan: &Plan, idx: usize, groups: usize) -> bool {
    let (cycles, pixels) = match idx.checked_sub(1) {
        None => {
            let px = (model.input.height * model.input.width) as u64;
            (px, px)
        }
        Some(p) => {
            let out = model.layers[p].output;
            let px = (out.height * out.width) as u64;
            (plan.layers[p].cycles_per_frame, px)
        }
    };
    cycles + (groups as u64).saturating_sub(1) * pixels >= plan.cycles_per_frame
}

impl NarrowRing {
    /// Words of the narrow ring: each line-buffer word's groups at the low address bits.
    pub fn depth(&self, words: usize) -> usize {
        words << self.sub_bits
    }
}

/// Bits per word of a max-pool's narrow ring: the widest word of an iCE40 block, and a
/// DP16KD's 16-bit configuration (1024 words) on ECP5, so the choice does not depend on the
/// family and the plan's cycles are the same for every target.
pub const POOL_GROUP_BITS: u32 = 16;

/// The narrow ring of a max-pool of `groups` groups of `POOL_GROUP_BITS` (`groups > 1`).
pub fn pool_ring(groups: usize) -> Option<NarrowRing> {
    (groups > 1).then(|| NarrowRing {
        lo: 0,
        groups,
        group_bits: POOL_GROUP_BITS,
        sub_bits: bits_for(groups as u64 - 1),
        held: true,
    })
}

/// The narrow ring of a MAC stage reading `simd` channels per step, stored as `groups` groups
/// of `POOL_GROUP_BITS` (`groups > 1`, `simd` a power of two of at most 16): the read address
/// picks a step's group by the chunk counter's high bits, and the stage picks its chunk in
/// the group by the low `lo` bits, as a split chunk select does (`rtl::window::read`).
pub fn mac_ring(simd: usize, groups: usize) -> Option<NarrowRing> {
    let fits = simd.is_power_of_two() && simd <= POOL_GROUP_BITS as usize;
    (groups > 1 && fits).then(|| NarrowRing {
        lo: (POOL_GROUP_BITS as usize / simd).trailing_zeros(),
        groups,
        group_bits: POOL_GROUP_BITS,
        sub_bits: bits_for(groups as u64 - 1),
        held: false,
    })
}

/// Groups a max-pool over `c` channels with `words` ring words would store its pixels in, if
/// the narrow ring takes fewer blocks than the whole-word ring on iCE40 and no more on ECP5
/// (each placed by the family's rule, `ram.rs`); else 1. Whether its cycles fit is the
/// plan's call (`plan::plan_from_folds`).
pub fn pool_ring_groups(c: usize, words: usize) -> usize {
    // Whole groups only: a padded group would leave read bits no logic uses.
    if !c.is_multiple_of(POOL_GROUP_BITS as usize) {
        return 1;
    }
    let groups = c / POOL_GROUP_BITS as usize;
    match pool_ring(groups) {
        Some(n) if saves_blocks(c, words, &n) => groups,
        _ => 1,
    }
}

/// Groups a MAC stage with weights `w` at `simd` channels and `taps` taps per step would store
/// its `c`-channel pixels in (`mac_ring`) where that takes fewer blocks on iCE40 or on ECP5;
/// else 1. Unlike a pool's, the choice may differ by family (`layer_ring` builds the narrow
/// ring only where it saves blocks: on ECP5 a small whole-word ring is LUT RAM, where the
/// deeper narrow one would take a DP16KD), since the stage's step reads one chunk either way:
/// only its writer takes a cycle per group, which the plan keeps within the stage's cycles.
///
/// Why only one tap per step and one input block: such a step reads 16 bits or fewer of one
/// pixel, so a 16-bit group holds all of it and the address picks the group before the read,
/// where a step of several taps reads several pixels, and an input block is picked from the
/// entry table one stage after the read. A stage whose chunk select is split already
/// (`split_lo`) keeps its own narrow ring.
pub fn mac_ring_groups(
    w: &BlockWeights,
    simd: usize,
    taps: usize,
    c: usize,
    words: usize,
) -> usize {
    let single = taps == 1 && w.in_blocks == 1 && split_lo(w, simd, taps, words).is_none();
    if !single || !c.is_multiple_of(POOL_GROUP_BITS as usize) {
        return 1;
    }
    let groups = c / POOL_GROUP_BITS as usize;
    let families = [RamFamily::Ice40, RamFamily::Ecp5];
    match mac_ring(simd, groups) {
        Some(n) if families.into_iter().any(|f| fewer_blocks(c, words, &n, f)) => groups,
        _ => 1,
    }
}

/// The narrow ring `n` of a `c`-bit ring of `words` words takes fewer blocks on `fam`.
fn fewer_blocks(c: usize, words: usize, n: &NarrowRing, fam: RamFamily) -> bool {
    ring_blocks(n.group_bits, n.depth(words), fam) < ring_blocks(c as u32, words, fam)
}

/// The narrow ring `n` of a `c`-bit ring of `words` words takes fewer blocks on iCE40 and no
/// more on ECP5, so the choice does not depend on the family.
fn saves_blocks(c: usize, words: usize, n: &NarrowRing) -> bool {
    let wide = |fam| ring_blocks(c as u32, words, fam);
    let narrow = |fam| ring_blocks(n.group_bits, n.depth(words), fam);
    narrow(RamFamily::Ice40) < wide(RamFamily::Ice40)
        && narrow(RamFamily::Ecp5) <= wide(RamFamily::Ecp5)
}

#[cfg(test)]
mod tests {
    use super::pool_ring_groups;

    #[test]
    fn a_pool_ring_is_narrow_only_where_it_saves_blocks() {
        // fashion-up5k's pool3: 64 channels x 48 words, 4 RAM4K as whole words, 1 as 16-bit
        // groups (192 words).
        assert_eq!(pool_ring_groups(64, 48), 4);
        // fashion-default's pool3: 128 x 48, 8 RAM4K / 4 DP16KD -> 2 RAM4K / 1 DP16KD.
        assert_eq!(pool_ring_groups(128, 48), 8);
        // 16 channels are one group already.
        assert_eq!(pool_ring_groups(16, 192), 1);
        // A small ring kept in logic either way saves no block.
        assert_eq!(pool_ring_groups(32, 4), 1);
        // Channels not a multiple of 16 stay whole words.
        assert_eq!(pool_ring_groups(24, 192), 1);
    }
}
