//! The packed activation tensor the engine computes on, and its conversion to [`BitTensor`].
//!
//! Layout: pixel-aligned words. Pixel `(y, x)` owns `words_per_pixel = ceil(C / 64)` words
//! starting at `(y * W + x) * words_per_pixel`; channel `c` is bit `c % 64` of word `c / 64`.
//! Bits past `C` in a pixel's last word are always zero, so word-wise OR, AND and XOR keep
//! the invariant and only XNOR needs a mask. Aligning pixels to words lets the window gather
//! copy whole words whenever the block width is a multiple of 64.

use super::BitTensor;
use crate::model::{Bits, Shape};

/// A binary tensor in pixel-aligned packed form (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    pub shape: Shape,
    pub words_per_pixel: usize,
    pub words: Vec<u64>,
}

impl Packed {
    pub fn zeros(shape: Shape) -> Self {
        let words_per_pixel = shape.channels.div_ceil(64);
        Packed {
            shape,
            words_per_pixel,
            words: vec![0; shape.height * shape.width * words_per_pixel],
        }
    }

    /// The words of pixel (y, x).
    #[inline]
    pub fn pixel(&self, y: usize, x: usize) -> &[u64] {
        let s = (y * self.shape.width + x) * self.words_per_pixel;
        &self.words[s..s + self.words_per_pixel]
    }

    #[inline]
    pub fn pixel_mut(&mut self, y: usize, x: usize) -> &mut [u64] {
        let s = (y * self.shape.width + x) * self.words_per_pixel;
        &mut self.words[s..s + self.words_per_pixel]
    }

    /// Mask of the valid channel bits in word `w` of a pixel.
    pub fn word_mask(&self, w: usize) -> u64 {
        let c = self.shape.channels;
        let end = (c - w * 64).min(64);
        if end == 64 {
            !0
        } else {
            (1u64 << end) - 1
        }
    }

    /// Check the invariant that padding bits are zero (debug builds only call this).
    pub fn padding_is_zero(&self) -> bool {
        let wpp = self.words_per_pixel;
        if wpp == 0 {
            return true;
        }
        let m = self.word_mask(wpp - 1);
        self.words.chunks(wpp).all(|p| p[wpp - 1] & !m == 0)
    }

    /// The flat (y, x, c) bit tensor.
    pub fn to_bit_tensor(&self) -> BitTensor {
        let c = self.shape.channels;
        let mut bits = Bits::zeros(self.shape.len());
        for y in 0..self.shape.height {
            for x in 0..self.shape.width {
                let px = self.pixel(y, x);
                let base = (y * self.shape.width + x) * c;
                for ch in 0..c {
                    if (px[ch / 64] >> (ch % 64)) & 1 == 1 {
                        bits.set(base + ch, true);
                    }
                }
            }
        }
        BitTensor {
            shape: self.shape,
            bits,
        }
    }
}

/// Read `n` (1..=64) bits of `src` starting at bit `off`, LSB first.
#[inline(always)]
pub fn read_bits(src: &[u64], off: usize, n: usize) -> u64 {
    debug_assert!((1..=64).contains(&n));
    let (w, b) = (off / 64, off % 64);
    let mut v = src[w] >> b;
    if b != 0 && b + n > 64 {
        v |= src[w + 1] << (64 - b);
    }
    if n == 64 {
        v
    } else {
        v & ((1u64 << n) - 1)
    }
}

/// OR the low `n` (1..=64) bits of `v` into `dst` at bit `off` (`v` has no bits above `n`).
#[inline(always)]
pub fn or_bits(dst: &mut [u64], off: usize, v: u64, n: usize) {
    debug_assert!((1..=64).contains(&n));
    debug_assert!(n == 64 || v >> n == 0);
    let (w, b) = (off / 64, off % 64);
    dst[w] |= v << b;
    if b != 0 && b + n > 64 {
        dst[w + 1] |= v >> (64 - b);
    }
}

/// OR `len` bits of `src` from bit `src_off` into `dst` at bit `dst_off`.
#[inline]
pub fn copy_bits(dst: &mut [u64], dst_off: usize, src: &[u64], src_off: usize, len: usize) {
    if dst_off.is_multiple_of(64) && src_off.is_multiple_of(64) {
        let (d, s, full) = (dst_off / 64, src_off / 64, len / 64);
        dst[d..d + full].copy_from_slice(&src[s..s + full]);
        let rest = len % 64;
        if rest > 0 {
            dst[d + full] |= src[s + full] & ((1u64 << rest) - 1);
        }
        return;
    }
    let mut done = 0;
    while done < len {
        let n = (len - done).min(64);
        or_bits(dst, dst_off + done, read_bits(src, src_off + done, n), n);
        done += n;
    }
}

/// Set `len` bits of `dst` to one from bit `off`.
#[inline]
pub fn set_ones(dst: &mut [u64], off: usize, len: usize) {
    let mut done = 0;
    while done < len {
        let n = (len - done).min(64);
        let v = if n == 64 { !0 } else { (1u64 << n) - 1 };
        or_bits(dst, off + done, v, n);
        done += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_bits_matches_bitwise_copy_at_any_alignment() {
        let src: Vec<u64> = (0..4u64)
            .map(|i| 0x9e37_79b9_7f4a_7c15u64.wrapping_mul(i + 1))
            .collect();
        for src_off in [0, 1, 13, 63, 64, 70] {
            for dst_off in [0, 5, 60, 64, 127] {
                for len in [1, 7, 63, 64, 65, 128, 150] {
                    if src_off + len > 256 {
                        continue;
                    }
                    let mut dst = vec![0u64; 6];
                    copy_bits(&mut dst, dst_off, &src, src_off, len);
                    for i in 0..384 {
                        let got = (dst[i / 64] >> (i % 64)) & 1;
                        let want = if i >= dst_off && i < dst_off + len {
                            let j = src_off + i - dst_off;
                            (src[j / 64] >> (j % 64)) & 1
                        } else {
                            0
                        };
                        assert_eq!(got, want, "src {src_off} dst {dst_off} len {len} bit {i}");
                    }
                }
            }
        }
    }

    #[test]
    fn set_ones_sets_exactly_the_range() {
        let mut dst = vec![0u64; 3];
        set_ones(&mut dst, 3, 100);
        let ones: usize = dst.iter().map(|w| w.count_ones() as usize).sum();
        assert_eq!(ones, 100);
        assert_eq!(dst[0] & 0b111, 0);
    }
}
