//! The prepared model: every layer resolved and its weights packed once, then run per image.

use super::bitwise::{max_pool, residual};
use super::conv::Weighted;
use super::front_end::FrontEndPlan;
use super::kernel;
use super::tensor::Packed;
use super::{Prediction, Trace};
use crate::input::Image;
use crate::model::{Direction, LayerKind, Model, ResidualOp, Shape, Thresholds};

/// One layer, ready to run.
#[derive(Debug, Clone)]
enum Step {
    Threshold {
        layer: Weighted,
        activation: Activation,
    },
    MaxPool {
        kernel: usize,
        stride: usize,
        output: Shape,
    },
    Residual {
        with: usize,
        op: ResidualOp,
    },
    Classifier {
        layer: Weighted,
        bias: Vec<i64>,
    },
}

/// A model prepared for repeated bit-exact inference. Build once with [`Engine::new`], then
/// call [`Engine::infer`] or [`Engine::trace`] per image; the engine is immutable, so one can
/// serve several threads.
#[derive(Debug, Clone)]
pub struct Engine {
    front_end: FrontEndPlan,
    steps: Vec<Step>,
}

impl Engine {
    /// Resolve every layer of a validated model and pack its weight rows.
    pub fn new(model: &Model) -> Self {
        let steps = model
            .layers
            .iter()
            .map(|l| match &l.kind {
                LayerKind::Conv(c) => Step::Threshold {
                    layer: Weighted::conv(
                        &c.weights, l.input, l.output, c.stride, c.padding, c.pad_mode,
                    ),
                    activation: Activation::new(&c.activation),
                },
                LayerKind::Dense(d) => Step::Threshold {
                    layer: Weighted::dense(&d.weights, l.input),
                    activation: Activation::new(&d.activation),
                },
                LayerKind::MaxPool(p) => Step::MaxPool {
                    kernel: p.kernel,
                    stride: p.stride,
                    output: l.output,
                },
                LayerKind::Residual(r) => Step::Residual {
                    with: r.with,
                    op: r.op,
                },
                LayerKind::Classifier(c) => Step::Classifier {
                    layer: Weighted::dense(&c.weights, l.input),
                    bias: c.bias.clone(),
                },
            })
            .collect();
        Engine {
            front_end: FrontEndPlan::new(&model.front_end, &model.input),
            steps,
        }
    }

    /// Classify one image.
    pub fn infer(&self, image: &Image) -> Prediction {
        self.run(image).2
    }

    /// Classify one image and keep every intermediate tensor.
    pub fn trace(&self, image: &Image) -> Trace {
        let (front, layers, prediction) = self.run(image);
        Trace {
            front_end: front.to_bit_tensor(),
            layers: layers.iter().map(Packed::to_bit_tensor).collect(),
            prediction,
        }
    }

    /// Front-end planes, each non-classifier layer's output, and the prediction.
    fn run(&self, image: &Image) -> (Packed, Vec<Packed>, Prediction) {
        let front = self.front_end.run(image);
        let mut outputs: Vec<Packed> = Vec::with_capacity(self.steps.len());
        let mut prediction = None;
        for step in &self.steps {
            let cur = outputs.last().unwrap_or(&front);
            let next = match step {
                Step::Threshold { layer, activation } => {
                    let mut out = Packed::zeros(layer.output_shape());
                    let wpp = out.words_per_pixel;
                    layer.sums(cur, |p, a| {
                        activation.pack(a, &mut out.words[p * wpp..(p + 1) * wpp]);
                    });
                    out
                }
                Step::MaxPool {
                    kernel,
                    stride,
                    output,
                } => max_pool(cur, *kernel, *stride, *output),
                Step::Residual { with, op } => residual(cur, &outputs[*with], *op),
                Step::Classifier { layer, bias } => {
                    let mut scores = Vec::new();
                    layer.sums(cur, |_, a| {
                        scores = a.iter().zip(bias).map(|(a, b)| a + b).collect();
                    });
                    prediction = Some(Prediction {
                        class: argmax(&scores),
                        scores,
                    });
                    break;
                }
            };
            debug_assert!(next.padding_is_zero());
            outputs.push(next);
        }
        let prediction = prediction.expect("a validated model ends with a classifier");
        (front, outputs, prediction)
    }
}

/// Threshold activations as one comparison: `a * sign >= bound`, where `Up` is
/// `(1, t)` and `Down` (`a <= t`) is `(-1, -t)`. The sign is kept as a mask `m` (0 or -1)
/// so `a * sign = (a ^ m) - m`, which vectorizes.
#[derive(Debug, Clone)]
struct Activation {
    sign_mask: Vec<i64>,
    bound: Vec<i64>,
}

impl Activation {
    fn new(t: &Thresholds) -> Self {
        let (sign_mask, bound) = t
            .thresholds
            .iter()
            .zip(&t.directions)
            .map(|(&t, d)| match d {
                Direction::Up => (0, t),
                Direction::Down => (-1, -t),
            })
            .unzip();
        Activation { sign_mask, bound }
    }

    /// Pack the output bits of sums `a` into one pixel's words.
    fn pack(&self, a: &[i64], px: &mut [u64]) {
        let chunks = a
            .chunks(64)
            .zip(self.sign_mask.chunks(64))
            .zip(self.bound.chunks(64));
        for (word, ((a, m), b)) in px.iter_mut().zip(chunks) {
            let mut fire = [0u8; 64];
            kernel::fire_bytes(a, m, b, &mut fire[..a.len()]);
            *word = pack_bytes(&fire);
        }
    }
}

/// Pack 64 bytes of 0/1 into a word, byte `i` to bit `i`. Per 8 bytes, the multiply by
/// `0x0102040810204080` moves byte `i`'s bit to bit `56 + i` with no carries.
fn pack_bytes(bytes: &[u8; 64]) -> u64 {
    let mut bits = 0u64;
    for (k, chunk) in bytes.chunks_exact(8).enumerate() {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        bits |= (x.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
    }
    bits
}

/// Index of the largest score, ties to the lowest index.
pub fn argmax(scores: &[i64]) -> usize {
    let mut best = 0;
    for (k, &s) in scores.iter().enumerate() {
        if s > scores[best] {
            best = k;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::{argmax, pack_bytes, Activation};
    use crate::model::{Direction, Thresholds};

    #[test]
    fn pack_bytes_maps_byte_i_to_bit_i() {
        for i in 0..64 {
            let mut b = [0u8; 64];
            b[i] = 1;
            assert_eq!(pack_bytes(&b), 1u64 << i);
        }
        assert_eq!(pack_bytes(&[1; 64]), !0);
    }

    #[test]
    fn activation_matches_fire_on_both_directions() {
        let t = Thresholds {
            thresholds: (0..70).map(|o| o % 7 - 3).collect(),
            directions: (0..70)
                .map(|o| {
                    if o % 3 == 0 {
                        Direction::Down
                    } else {
                        Direction::Up
                    }
                })
                .collect(),
        };
        let act = Activation::new(&t);
        for shift in -4..=4i64 {
            let a: Vec<i64> = (0..70).map(|o| (o % 5) as i64 - 2 + shift).collect();
            let mut px = [0u64; 2];
            act.pack(&a, &mut px);
            for (o, &v) in a.iter().enumerate() {
                assert_eq!(
                    (px[o / 64] >> (o % 64)) & 1 == 1,
                    t.fire(o, v),
                    "o {o} a {v}"
                );
            }
        }
    }

    #[test]
    fn argmax_ties_to_the_lowest_index() {
        assert_eq!(argmax(&[1, 3, 3, 2]), 1);
        assert_eq!(argmax(&[-5, -5]), 0);
        assert_eq!(argmax(&[0, 0, 1]), 2);
    }
}
