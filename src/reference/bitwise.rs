//! The layers without weights: max-pool (OR over a window) and residual (bitwise combine).

use super::tensor::Packed;
use crate::model::{ResidualOp, Shape};

/// OR over each `kernel x kernel` window at `stride`, no padding.
pub fn max_pool(input: &Packed, kernel: usize, stride: usize, output: Shape) -> Packed {
    debug_assert_eq!(output.channels, input.shape.channels);
    let mut out = Packed::zeros(output);
    for oy in 0..output.height {
        for ox in 0..output.width {
            for ky in 0..kernel {
                for kx in 0..kernel {
                    let src = input.pixel(oy * stride + ky, ox * stride + kx);
                    for (d, s) in out.pixel_mut(oy, ox).iter_mut().zip(src) {
                        *d |= s;
                    }
                }
            }
        }
    }
    out
}

/// `op(current, earlier)` bit by bit; both tensors have the same shape.
pub fn residual(current: &Packed, earlier: &Packed, op: ResidualOp) -> Packed {
    assert_eq!(current.shape, earlier.shape, "residual shapes differ");
    let mut out = current.clone();
    for (d, s) in out.words.iter_mut().zip(&earlier.words) {
        *d = match op {
            ResidualOp::Or => *d | s,
            ResidualOp::And => *d & s,
            ResidualOp::Xor => *d ^ s,
            ResidualOp::Xnor => !(*d ^ s),
        };
    }
    if op == ResidualOp::Xnor {
        // XNOR sets the zero padding bits; clear them again.
        let wpp = out.words_per_pixel;
        let masks: Vec<u64> = (0..wpp).map(|w| out.word_mask(w)).collect();
        for px in out.words.chunks_mut(wpp) {
            for (d, m) in px.iter_mut().zip(&masks) {
                *d &= m;
            }
        }
    }
    out
}
