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
//! One function decides it, for the RTL (`rtl::window`) and the cost model (`memory.rs`)
//! alike, so the memory the estimate counts is the one the RTL declares.

use super::ram::RamFamily;
use super::widths::bits_for;
use crate::model::BlockWeights;

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

impl NarrowRing {
    /// Words of the narrow ring: each line-buffer word's groups at the low address bits.
    pub fn depth(&self, words: usize) -> usize {
        words << self.sub_bits
    }
}
