//! Weighted layers (conv, dense, classifier) as XNOR-popcount over packed windows.
//!
//! Preparation packs every kept weight row once, grouped by in-block: for in-block `ib`, the
//! rows of all output channels whose out-block keeps `ib`, one after another, each padded to
//! whole words. Per output pixel and in-block the input window is gathered once into a
//! packed patch in the same bit order as a weight row ((ky, kx, ci-in-block), ci fastest), and
//! every row of the group is compared against it with one popcount of `patch ^ row` per word.
//! With `d` mismatches over `N` counted taps, the tile contributes `p - (N - p) = N - 2d`.
//! Out-of-image taps get the pad mode's constant bit (and count), or with `PadMode::Zero` are
//! masked out of both the mismatches and `N` by a validity mask. Dense and classifier layers
//! are the convolution whose window is the whole input.

use super::kernel;
use super::tensor::{copy_bits, set_ones, Packed};
use crate::model::{BlockWeights, PadMode, Shape};

/// Kept rows of one in-block, packed.
#[derive(Debug, Clone)]
struct InBlockRows {
    /// The in-block.
    ib: usize,
    /// Output channels whose out-block keeps `ib`, ascending; row `j` belongs to `outs[j]`.
    outs: Vec<usize>,
    /// Out-blocks that keep `ib`.
    out_blocks: Vec<usize>,
    /// `outs.len() * row_words` words.
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
    out_per_block: usize,
    out_blocks: usize,
    row_len: usize,
    row_words: usize,
    groups: Vec<InBlockRows>,
}

/// Scratch space reused across output pixels of one layer.
struct Scratch {
    patch: Vec<u64>,
    valid: Vec<u64>,
    counts: Vec<u32>,
    mismatches: Vec<u32>,
    counted: Vec<i64>,
}

impl Weighted {
    /// Prepare a convolution.
    pub fn conv(
        w: &BlockWeights,
        input: Shape,
        output: Shape,
        stride: usize,
        padding: usize,
        pad_mode: PadMode,
    ) -> Self {
        Self::new(w, input, output, stride, padding, pad_mode)
    }

    /// Prepare a dense or classifier layer: a conv with the whole input as its window.
    pub fn dense(w: &BlockWeights, input: Shape) -> Self {
        let output = Shape {
            height: 1,
            width: 1,
            channels: w.out_channels,
        };
        Self::new(w, input, output, 1, 0, PadMode::MinusOne)
    }

    fn new(
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
        let mut groups = Vec::new();
        for ib in 0..w.in_blocks {
            let out_blocks: Vec<usize> = (0..w.out_blocks).filter(|&ob| w.kept(ob, ib)).collect();
            if out_blocks.is_empty() {
                continue;
            }
            let outs: Vec<usize> = out_blocks
                .iter()
                .flat_map(|&ob| ob * opb..(ob + 1) * opb)
                .collect();
            let mut rows = vec![0u64; outs.len() * row_words];
            for (j, &o) in outs.iter().enumerate() {
                let start = w.row_start(o, ib).expect("tile is kept");
                copy_bits(
                    &mut rows[j * row_words..(j + 1) * row_words],
                    0,
                    w.bits.words(),
                    start,
                    row_len,
                );
            }
            groups.push(InBlockRows {
                ib,
                outs,
                out_blocks,
                rows,
            });
        }
        Weighted {
            input,
            output,
            kernel_h: w.kernel_h,
            kernel_w: w.kernel_w,
            stride,
            padding,
            pad_mode,
            in_per_block: w.in_per_block(),
            out_per_block: opb,
            out_blocks: w.out_blocks,
            row_len,
            row_words,
            groups,
        }
    }

    pub fn output_shape(&self) -> Shape {
        self.output
    }

    /// Signed sums `a` of every output pixel and channel, (y, x, o) order, calling `emit` with
    /// the pixel index and the channel sums.
    pub fn sums(&self, input: &Packed, mut emit: impl FnMut(usize, &[i64])) {
        debug_assert_eq!(input.shape, self.input, "layer input shape");
        let rw = self.row_words;
        let max_rows = self.groups.iter().map(|g| g.outs.len()).max().unwrap_or(0);
        let mut s = Scratch {
            patch: vec![0; rw],
            valid: vec![0; rw],
            counts: vec![0; max_rows],
            mismatches: vec![0; self.output.channels],
            counted: vec![0; self.out_blocks],
        };
        let mut a = vec![0i64; self.output.channels];
        for oy in 0..self.output.height {
            for ox in 0..self.output.width {
                self.pixel_sums(input, oy, ox, &mut s, &mut a);
                emit(oy * self.output.width + ox, &a);
            }
        }
    }

    fn pixel_sums(&self, input: &Packed, oy: usize, ox: usize, s: &mut Scratch, a: &mut [i64]) {
        let y0 = (oy * self.stride) as isize - self.padding as isize;
        let x0 = (ox * self.stride) as isize - self.padding as isize;
        let inside = y0 >= 0
            && x0 >= 0
            && y0 as usize + self.kernel_h <= self.input.height
            && x0 as usize + self.kernel_w <= self.input.width;
        let masked = !inside && self.pad_mode == PadMode::Zero;
        s.mismatches.fill(0);
        s.counted.fill(0);
        for g in &self.groups {
            let n = self.gather(input, y0, x0, g.ib, inside, masked, s);
            let counts = &mut s.counts[..g.outs.len()];
            if masked {
                kernel::xor_counts_masked(&s.patch, &s.valid, &g.rows, counts);
            } else {
                kernel::xor_counts(&s.patch, &g.rows, counts);
            }
            for (&o, &d) in g.outs.iter().zip(counts.iter()) {
                s.mismatches[o] += d;
            }
            for &ob in &g.out_blocks {
                s.counted[ob] += n as i64;
            }
        }
        for (o, v) in a.iter_mut().enumerate() {
            *v = s.counted[o / self.out_per_block] - 2 * i64::from(s.mismatches[o]);
        }
    }

    /// Fill `s.patch` (and `s.valid` when `masked`) with the window of in-block `ib` at
    /// top-left `(y0, x0)`; return the number of counted taps N.
    #[allow(clippy::too_many_arguments)]
    fn gather(
        &self,
        input: &Packed,
        y0: isize,
        x0: isize,
        ib: usize,
        inside: bool,
        masked: bool,
        s: &mut Scratch,
    ) -> usize {
        let ipb = self.in_per_block;
        let src_off = ib * ipb;
        s.patch.fill(0);
        if inside {
            let mut off = 0;
            for ky in 0..self.kernel_h {
                for kx in 0..self.kernel_w {
                    let px = input.pixel(y0 as usize + ky, x0 as usize + kx);
                    copy_bits(&mut s.patch, off, px, src_off, ipb);
                    off += ipb;
                }
            }
            return self.row_len;
        }
        if masked {
            s.valid.fill(0);
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
                        &mut s.patch,
                        off,
                        input.pixel(y as usize, x as usize),
                        src_off,
                        ipb,
                    );
                    if masked {
                        set_ones(&mut s.valid, off, ipb);
                    }
                    counted += ipb;
                } else {
                    match self.pad_mode {
                        PadMode::PlusOne => set_ones(&mut s.patch, off, ipb),
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
