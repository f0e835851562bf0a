//! Weighted layers (conv, dense, classifier) as XNOR-popcount over packed windows.
//!
//! Preparation packs every kept weight row once, per out-block: for out-block `ob`, its
//! output channels in groups of `LANES` (the last group padded with zero rows), and within a
//! group each kept in-block's tile rows stored transposed word by word, so one patch word
//! meets `LANES` output channels in one vector operation and a channel's mismatches over all
//! its kept tiles add up in a register. Per output pixel, the window of each used in-block
//! is gathered once into a packed patch in the same bit order as a weight row ((ky, kx,
//! ci-in-block), ci fastest). With `d` mismatches over `N` counted taps, the sum is
//! `a = p - (N - p) = N - 2d`. Out-of-image taps get the pad mode's constant bit (and
//! count), or with `PadMode::Zero` are masked out of both the mismatches and `N` by a
//! validity mask. An out-block with no kept tile gets `a = 0`. Dense and classifier layers
//! are the convolution whose window is the whole input.

use super::kernel::{self, LANES};
use super::tensor::{copy_bits, set_ones, Packed};
use crate::model::{BlockWeights, PadMode, Shape};

/// Kept rows of one out-block, packed.
#[derive(Debug, Clone)]
struct OutBlockRows {
    /// Kept in-blocks, ascending.
    ins: Vec<usize>,
    /// Word offset of each kept in-block's patch in the scratch patch buffer.
    offsets: Vec<usize>,
    /// For each lane group of `LANES` output channels, for each kept in-block, `row_words`
    /// words of `LANES` lanes: word `w` of tile `t` for channel `g * LANES + l` is at
    /// `((g * ins.len() + t) * row_words + w) * LANES + l`.
    rows: Vec<u64>,
}

/// A conv, dense or classifier layer prepared for packed inference.
#[derive(Debug, Clone)]
pub struct Weighted {
    input: Shape,
    output: Shape,
    kernel_h: usize,
    kernel_w: usize,
    stride: usize,
    padding: usize,
    pad_mode: PadMode,
    in_per_block: usize,
    in_blocks: usize,
    out_per_block: usize,
    row_len: usize,
    row_words: usize,
    /// In-blocks kept by at least one out-block: the patches to gather.
    used_in_blocks: Vec<usize>,
    out_block_rows: Vec<OutBlockRows>,
}

/// What `for_each_pixel` reports.
enum Visit<'a> {
    /// Out-block `ob` of the current pixel: N counted taps, mismatches per channel (padded).
    Block { ob: usize, n: i64, d: &'a [u32] },
    /// Every out-block of pixel `p` (index y * width + x) has been reported.
    PixelDone(usize),
}

/// Where one output pixel's window lies in the input: its top-left tap `(y0, x0)` (negative
/// over a padded border), whether it lies wholly inside the image, and whether its taps need
/// a validity mask (zero padding at the border).
#[derive(Clone, Copy)]
struct WindowAt {
    y0: isize,
    x0: isize,
    inside: bool,
    masked: bool,
}

/// Scratch space reused across output pixels of one layer.
struct Scratch {
    /// One patch of `row_words` words per in-block.
    patches: Vec<u64>,
    valid: Vec<u64>,
    /// Counted taps N per in-block.
    counted: Vec<i64>,
    /// Mismatches of one out-block, padded to whole lane groups.
    mismatches: Vec<u32>,
}

impl Weighted {
    /// Prepare a dense or classifier layer: a conv with the whole input as its window.
    pub fn dense(w: &BlockWeights, input: Shape) -> Self {
        let output = Shape::vector(w.out_channels);
        Self::conv(w, input, output, 1, 0, PadMode::MinusOne)
    }

    /// Prepare a convolution.
    pub fn conv(
        w: &BlockWeights,
        input: Shape,
        output: Shape,
        stride: usize,
        padding: usize,
        pad_mode: PadMode,
    ) -> Self {
        assert_eq!(
            w.in_channels, input.channels,
            "weights do not match the input channels"
        );
        assert_eq!(
            w.out_channels, output.channels,
            "weights do not match the output channels"
        );
        let row_len = w.row_len();
        let row_words = row_len.div_ceil(64);
        let opb = w.out_per_block();
        let groups = opb.div_ceil(LANES);
        let mut row = vec![0u64; row_words];
        let mut out_block_rows = Vec::new();
        for ob in 0..w.out_blocks {
            let ins: Vec<usize> = (0..w.in_blocks).filter(|&ib| w.kept(ob, ib)).collect();
            let tiles = ins.len();
            let mut rows = vec![0u64; groups * tiles * row_words * LANES];
            for j in 0..opb {
                let (g, l) = (j / LANES, j % LANES);
                for (t, &ib) in ins.iter().enumerate() {
                    let start = w.row_start(ob * opb + j, ib).expect("tile is kept");
                    row.fill(0);
                    copy_bits(&mut row, 0, w.bits.words(), start, row_len);
                    for (k, &word) in row.iter().enumerate() {
                        rows[((g * tiles + t) * row_words + k) * LANES + l] = word;
                    }
                }
            }
            let offsets = ins.iter().map(|&ib| ib * row_words).collect();
            out_block_rows.push(OutBlockRows { ins, offsets, rows });
        }
        let used_in_blocks = (0..w.in_blocks)
            .filter(|&ib| (0..w.out_blocks).any(|ob| w.kept(ob, ib)))
            .collect();
        Weighted {
            input,
            output,
            kernel_h: w.kernel_h,
            kernel_w: w.kernel_w,
            stride,
            padding,
            pad_mode,
            in_per_block: w.in_per_block(),
            in_blocks: w.in_blocks,
            out_per_block: opb,
            row_len,
            row_words,
            used_in_blocks,
            out_block_rows,
        }
    }

    pub fn output_shape(&self) -> Shape {
        self.output
    }

    /// Signed sums `a` of every output pixel and channel, (y, x, o) order, calling `emit` with
    /// the pixel index and the channel sums.
    pub fn sums(&self, input: &Packed, mut emit: impl FnMut(usize, &[i64])) {
        let mut a = vec![0i64; self.output.channels];
        let opb = self.out_per_block;
        self.for_each_pixel(input, |v| match v {
            Visit::Block { ob, n, d } => {
                kernel::sums_from_mismatches(n, &d[..opb], &mut a[ob * opb..(ob + 1) * opb]);
            }
            Visit::PixelDone(p) => emit(p, &a),
        });
    }

    /// Threshold activations of every output pixel into `out`: channel `o` fires when
    /// `(a ^ sign_mask[o]) - sign_mask[o] >= bound[o]` (see `kernel::fire_from_mismatches`).
    pub fn threshold(&self, input: &Packed, sign_mask: &[i64], bound: &[i64], out: &mut Packed) {
        debug_assert_eq!(out.shape, self.output);
        let opb = self.out_per_block;
        let wpp = out.words_per_pixel;
        let mut fire = vec![0u8; wpp * 64];
        self.for_each_pixel(input, |v| match v {
            Visit::Block { ob, n, d } => {
                let span = ob * opb..(ob + 1) * opb;
                let (m, b) = (&sign_mask[span.clone()], &bound[span.clone()]);
                kernel::fire_from_mismatches(n, &d[..opb], m, b, &mut fire[span]);
            }
            Visit::PixelDone(p) => {
                let words = &mut out.words[p * wpp..(p + 1) * wpp];
                for (word, bytes) in words.iter_mut().zip(fire.chunks_exact(64)) {
                    *word = pack_bytes(bytes.try_into().expect("64 bytes"));
                }
            }
        });
    }

    /// Run the windows of every output pixel: per out-block a `Visit::Block` with N and the
    /// mismatch counts (N = 0 and no mismatches for a fully pruned block), then
    /// `Visit::PixelDone` with the pixel index.
    fn for_each_pixel(&self, input: &Packed, mut visit: impl FnMut(Visit)) {
        debug_assert_eq!(input.shape, self.input, "layer input shape");
        let words = self.in_blocks * self.row_words;
        let mut s = Scratch {
            patches: vec![0; words],
            valid: vec![0; words],
            counted: vec![0; self.in_blocks],
            mismatches: vec![0; self.out_per_block.div_ceil(LANES) * LANES],
        };
        let zeros = vec![0u32; s.mismatches.len()];
        let rw = self.row_words;
        for oy in 0..self.output.height {
            for ox in 0..self.output.width {
                let masked = self.gather_all(input, oy, ox, &mut s);
                for (ob, rows) in self.out_block_rows.iter().enumerate() {
                    if rows.ins.is_empty() {
                        visit(Visit::Block {
                            ob,
                            n: 0,
                            d: &zeros,
                        });
                        continue;
                    }
                    let n: i64 = rows.ins.iter().map(|&ib| s.counted[ib]).sum();
                    let d = &mut s.mismatches;
                    if masked {
                        kernel::tile_counts_masked(
                            &s.patches,
                            &s.valid,
                            &rows.offsets,
                            rw,
                            &rows.rows,
                            d,
                        );
                    } else {
                        kernel::tile_counts(&s.patches, &rows.offsets, rw, &rows.rows, d);
                    }
                    visit(Visit::Block { ob, n, d });
                }
                visit(Visit::PixelDone(oy * self.output.width + ox));
            }
        }
    }

    /// Gather the patches of every used in-block for output pixel (oy, ox); return whether
    /// they carry a validity mask (zero padding at the border).
    fn gather_all(&self, input: &Packed, oy: usize, ox: usize, s: &mut Scratch) -> bool {
        let y0 = (oy * self.stride) as isize - self.padding as isize;
        let x0 = (ox * self.stride) as isize - self.padding as isize;
        let inside = y0 >= 0
            && x0 >= 0
            && y0 as usize + self.kernel_h <= self.input.height
            && x0 as usize + self.kernel_w <= self.input.width;
        let masked = !inside && self.pad_mode == PadMode::Zero;
        let at = WindowAt {
            y0,
            x0,
            inside,
            masked,
        };
        for &ib in &self.used_in_blocks {
            s.counted[ib] = self.gather(input, at, ib, s) as i64;
        }
        masked
    }

    /// Fill in-block `ib`'s patch (and validity mask when `at.masked`) with its window at
    /// `at`; return the number of counted taps N.
    fn gather(&self, input: &Packed, at: WindowAt, ib: usize, s: &mut Scratch) -> usize {
        let WindowAt {
            y0,
            x0,
            inside,
            masked,
        } = at;
        let ipb = self.in_per_block;
        let src_off = ib * ipb;
        let span = ib * self.row_words..(ib + 1) * self.row_words;
        let patch = &mut s.patches[span.clone()];
        if inside && ipb.is_multiple_of(64) {
            // Word-aligned blocks: every tap is whole words, copied without shifts, and they
            // fill the patch exactly (row_len is a whole number of words), so no clearing.
            let (n, first, wpp) = (ipb / 64, src_off / 64, input.words_per_pixel);
            let mut k = 0;
            for ky in 0..self.kernel_h {
                let row = ((y0 as usize + ky) * self.input.width + x0 as usize) * wpp + first;
                for kx in 0..self.kernel_w {
                    let src = &input.words[row + kx * wpp..row + kx * wpp + n];
                    for (d, &w) in patch[k..k + n].iter_mut().zip(src) {
                        *d = w;
                    }
                    k += n;
                }
            }
            return self.row_len;
        }
        patch.fill(0);
        if inside {
            let mut off = 0;
            for ky in 0..self.kernel_h {
                for kx in 0..self.kernel_w {
                    let px = input.pixel(y0 as usize + ky, x0 as usize + kx);
                    copy_bits(patch, off, px, src_off, ipb);
                    off += ipb;
                }
            }
            return self.row_len;
        }
        let valid = &mut s.valid[span];
        if masked {
            valid.fill(0);
        }
        let mut counted = 0;
        let mut off = 0;
        for ky in 0..self.kernel_h {
            for kx in 0..self.kernel_w {
                let (y, x) = (y0 + ky as isize, x0 + kx as isize);
                let in_image = y >= 0
                    && x >= 0
                    && (y as usize) < self.input.height
                    && (x as usize) < self.input.width;
                if in_image {
                    copy_bits(
                        patch,
                        off,
                        input.pixel(y as usize, x as usize),
                        src_off,
                        ipb,
                    );
                    if masked {
                        set_ones(valid, off, ipb);
                    }
                    counted += ipb;
                } else {
                    match self.pad_mode {
                        PadMode::PlusOne => set_ones(patch, off, ipb),
                        PadMode::MinusOne => {}
                        PadMode::Zero => {}
                    }
                    if self.pad_mode != PadMode::Zero {
                        counted += ipb;
                    }
                }
                off += ipb;
            }
        }
        counted
    }
}

/// Pack 64 bytes of 0/1 into a word, byte `i` to bit `i`. Per 8 bytes, the multiply by
/// `0x0102040810204080` moves byte `i`'s bit to bit `56 + i` with no carries.
pub fn pack_bytes(bytes: &[u8; 64]) -> u64 {
    let mut bits = 0u64;
    for (k, chunk) in bytes.chunks_exact(8).enumerate() {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        bits |= (x.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::pack_bytes;

    #[test]
    fn pack_bytes_maps_byte_i_to_bit_i() {
        for i in 0..64 {
            let mut b = [0u8; 64];
            b[i] = 1;
            assert_eq!(pack_bytes(&b), 1u64 << i);
        }
        assert_eq!(pack_bytes(&[1; 64]), !0);
    }
}
