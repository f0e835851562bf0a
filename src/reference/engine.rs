//! The prepared model: every layer resolved and its weights packed once, then run per image.

use super::bitwise::{max_pool, residual};
use super::conv::Weighted;
use super::front_end::FrontEndPlan;
use super::tensor::Packed;
use super::{Prediction, Trace};
use crate::model::Image;
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
                    layer.threshold(cur, &activation.sign_mask, &activation.bound, &mut out);
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
    use super::{argmax, Activation};
    use crate::model::{Direction, Thresholds};
    use crate::reference::kernel;

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
        // a = n - 2d over a range that crosses every threshold from both sides.
        for n in [0i64, 3, 8] {
            let d: Vec<u32> = (0..70).map(|o| (o % 9) as u32).collect();
            let mut fire = [0u8; 70];
            kernel::fire_from_mismatches(n, &d, &act.sign_mask, &act.bound, &mut fire);
            for (o, &d) in d.iter().enumerate() {
                let a = n - 2 * i64::from(d);
                assert_eq!(fire[o] == 1, t.fire(o, a), "o {o} a {a}");
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
