//! Export: fold batch norm into integer thresholds and directions, pack the kept tiles' weight
//! bits in stream order, and build a `model::Model` that round-trips through the validated
//! text format.
//!
//! Folding (derivation in `docs/training.md`): the training graph outputs bit 1 iff
//! `y = gamma * (a - mu) / sqrt(var + eps) + beta >= 0`. With `s = sqrt(var + eps)` and
//! `theta = mu - beta * s / gamma`: gamma > 0 gives `a >= theta`, i.e. `a >= ceil(theta)`
//! (Up) because `a` is an integer; gamma < 0 gives `a <= floor(theta)` (Down); gamma = 0 gives
//! a constant bit (beta >= 0), written as an Up threshold below or above every reachable sum.
//! The tie `y = 0` is bit 1 in training (`y >= 0`), which the `>=` / `<=` forms keep. The fold
//! is in the `a = 2p - N` domain, so it holds for zero padding where N changes at the borders.

use super::config::{LayerConfig, PadModeConfig, TrainConfig};
use super::net::{ConvGeo, DenseGeo, Folded, Net, Step};
use crate::model::{
    self, Bits, BlockWeights, Classifier, Conv, Dense, Direction, FrontEnd, InputSpec, Layer,
    LayerKind, MaxPool, Meta, Model, PadMode, Shape, Thermometer, ThermometerKind, Thresholds,
};
use burn::nn::BatchNorm;

fn host(t: burn::tensor::Tensor<1>) -> Vec<f64> {
    t.into_data()
        .try_to_vec::<f32>()
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect()
}

/// Fold one batch norm into (threshold, up?) per channel; `n_max` bounds |a|.
pub fn fold_bn(bn: &BatchNorm, n_max: usize) -> (Vec<i64>, Vec<bool>) {
    let gamma = host(bn.gamma.val());
    let beta = host(bn.beta.val());
    let mu = host(bn.running_mean.value());
    let var = host(bn.running_var.value());
    (0..gamma.len())
        .map(|c| fold_threshold(gamma[c], beta[c], mu[c], var[c], bn.epsilon, n_max))
        .unzip()
}

/// Relative distance to an integer within which `tau` is taken to be that integer
/// (docs/model-format.md, "Deriving them from batch norm").
pub const TIE_TOLERANCE: f64 = 1e-9;

/// The batch-norm folding rule of docs/model-format.md for one channel, in f64: the threshold
/// and whether the direction is up (`d = 1`). `tau = mu - beta * sigma / gamma`; a `tau`
/// within `TIE_TOLERANCE * max(1, |tau|)` of an integer is that integer, so the tie `a = tau`
/// fires as `y >= 0` does; then `ceil` (gamma > 0, up) or `floor` (gamma < 0, down). A
/// constant output (gamma = 0, or tau not finite) is `d = 1` with `t = -(n_max + 1)` for a
/// constant 1 (beta >= 0) and `t = n_max + 1` for a constant 0; thresholds beyond
/// `±(n_max + 1)` are clamped to it, since `|a| <= n_max` the output is the same.
pub fn fold_threshold(
    gamma: f64,
    beta: f64,
    mu: f64,
    var: f64,
    eps: f64,
    n_max: usize,
) -> (i64, bool) {
    let lim = n_max as i64 + 1;
    let sigma = (var + eps).sqrt();
    let tau = mu - beta * sigma / gamma;
    let snapped = {
        let r = tau.round();
        if (tau - r).abs() <= TIE_TOLERANCE * tau.abs().max(1.0) {
            r
        } else {
            tau
        }
    };
    let clamp = |t: f64| t.clamp(-lim as f64, lim as f64) as i64;
    if gamma > 0.0 && tau.is_finite() {
        (clamp(snapped.ceil()), true)
    } else if gamma < 0.0 && tau.is_finite() {
        (clamp(snapped.floor()), false)
    } else if beta >= 0.0 {
        (-lim, true)
    } else {
        (lim, true)
    }
}

/// Fold every layer of a trained binary net.
pub fn fold(net: &Net) -> Folded {
    let conv_act = net
        .convs
        .iter()
        .map(|l| fold_bn(&l.bn, l.geo.in_channels * l.geo.kernel * l.geo.kernel))
        .collect();
    let dense_act = net
        .denses
        .iter()
        .map(|l| fold_bn(l.bn.as_ref().unwrap(), l.geo.in_c * l.geo.in_h * l.geo.in_w))
        .collect();
    let scale = host(net.head.log_scale.as_ref().unwrap().val())[0].exp();
    let head_bias = host(net.head.bias.as_ref().unwrap().val())
        .into_iter()
        .map(|b| (b / scale).round() as i64)
        .collect();
    Folded {
        fe_thresholds: net.fe_thresholds(),
        conv_act,
        dense_act,
        head_bias,
    }
}

fn conv_weights(g: &ConvGeo, w: &[f32]) -> BlockWeights {
    signs(
        BlockWeights {
            in_channels: g.in_channels,
            out_channels: g.out_channels,
            kernel_h: g.kernel,
            kernel_w: g.kernel,
            in_blocks: g.in_blocks,
            out_blocks: g.out_blocks,
            mask: g.tiles.clone(),
            bits: Bits::zeros(0),
        },
        w,
    )
}

/// Dense rows are (y, x, c in block); the latent matrix's columns are burn's (c, y, x), so
/// it is a conv weight whose kernel is the whole input.
fn dense_weights(g: &DenseGeo, w: &[f32]) -> BlockWeights {
    signs(
        BlockWeights {
            in_channels: g.in_c,
            out_channels: g.out_features,
            kernel_h: g.in_h,
            kernel_w: g.in_w,
            in_blocks: g.in_blocks,
            out_blocks: g.out_blocks,
            mask: g.tiles.clone(),
            bits: Bits::zeros(0),
        },
        w,
    )
}

/// `shape` with the signs of the latent weights `w` (burn's (out, in, ky, kx) order) as its
/// bits: the kept tiles' rows, each (ky, kx, c in block).
fn signs(mut shape: BlockWeights, w: &[f32]) -> BlockWeights {
    let (ic, kh, kw) = (shape.in_channels, shape.kernel_h, shape.kernel_w);
    let (opb, ipb) = (shape.out_channels / shape.out_blocks, ic / shape.in_blocks);
    let mut bits = Bits::zeros(0);
    for ob in 0..shape.out_blocks {
        for ib in 0..shape.in_blocks {
            if !shape.mask[ob * shape.in_blocks + ib] {
                continue;
            }
            for o in ob * opb..(ob + 1) * opb {
                for ky in 0..kh {
                    for kx in 0..kw {
                        for ci in ib * ipb..(ib + 1) * ipb {
                            bits.push(w[((o * ic + ci) * kh + ky) * kw + kx] >= 0.0);
                        }
                    }
                }
            }
        }
    }
    shape.bits = bits;
    shape
}

fn thresholds(act: &(Vec<i64>, Vec<bool>)) -> Thresholds {
    Thresholds {
        thresholds: act.0.clone(),
        directions: act
            .1
            .iter()
            .map(|&u| if u { Direction::Up } else { Direction::Down })
            .collect(),
    }
}

fn host_w<const D: usize>(t: burn::tensor::Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap()
}

/// Build the model file's `Model` from a trained net and its fold, with the data's class
/// names, validated by a round trip through the text format.
pub fn build_model(
    cfg: &TrainConfig,
    net: &Net,
    f: &Folded,
    classes: &[String],
    provenance: String,
) -> Result<Model, super::TrainError> {
    let shape = net.spec.shape;
    let input = InputSpec {
        height: shape.height,
        width: shape.width,
        channels: shape.channels,
        bits: net.spec.bits,
    };
    let front_end = match cfg.front_end.kind {
        super::config::FrontEndKind::Binary => FrontEnd::Binary,
        k => FrontEnd::Thermometer(Thermometer {
            kind: if k == super::config::FrontEndKind::Glt {
                ThermometerKind::Glt
            } else {
                ThermometerKind::Uniform
            },
            levels: net.spec.planes,
            shared: net.spec.glt_sets == 1,
            thresholds: if net.spec.glt_sets == 1 {
                vec![f.fe_thresholds.clone(); shape.channels]
            } else {
                f.fe_thresholds
                    .chunks(net.spec.planes)
                    .map(<[u32]>::to_vec)
                    .collect()
            },
        }),
    };
    let mut shape = front_end.output_shape(&input);
    let mut layers = Vec::new();
    let mut pools = 0;
    let pool_names: Vec<Option<String>> = cfg
        .layers
        .iter()
        .filter_map(|l| match l {
            LayerConfig::Maxpool { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    for s in &net.spec.steps {
        let layer = match *s {
            Step::Conv(i) => {
                let l = &net.convs[i];
                let g = &l.geo;
                let out = Shape {
                    height: (shape.height + 2 * g.padding - g.kernel) / g.stride + 1,
                    width: (shape.width + 2 * g.padding - g.kernel) / g.stride + 1,
                    channels: g.out_channels,
                };
                Layer {
                    name: g.name.clone(),
                    input: shape,
                    output: out,
                    kind: LayerKind::Conv(Conv {
                        stride: g.stride,
                        padding: g.padding,
                        pad_mode: match g.pad_mode {
                            PadModeConfig::Zero => PadMode::Zero,
                            PadModeConfig::MinusOne => PadMode::MinusOne,
                            PadModeConfig::PlusOne => PadMode::PlusOne,
                        },
                        weights: conv_weights(g, &host_w(l.weight.val())),
                        activation: thresholds(&f.conv_act[i]),
                    }),
                }
            }
            Step::Pool { kernel, stride } => {
                let name = pool_names[pools]
                    .clone()
                    .unwrap_or(format!("pool{}", pools + 1));
                pools += 1;
                let out = Shape {
                    height: (shape.height - kernel) / stride + 1,
                    width: (shape.width - kernel) / stride + 1,
                    channels: shape.channels,
                };
                Layer {
                    name,
                    input: shape,
                    output: out,
                    kind: LayerKind::MaxPool(MaxPool { kernel, stride }),
                }
            }
            Step::Dense(i) => {
                let l = &net.denses[i];
                let out = Shape {
                    height: 1,
                    width: 1,
                    channels: l.geo.out_features,
                };
                Layer {
                    name: l.geo.name.clone(),
                    input: shape,
                    output: out,
                    kind: LayerKind::Dense(Dense {
                        weights: dense_weights(&l.geo, &host_w(l.weight.val())),
                        activation: thresholds(&f.dense_act[i]),
                    }),
                }
            }
        };
        shape = layer.output;
        layers.push(layer);
    }
    let h = &net.head;
    layers.push(Layer {
        name: h.geo.name.clone(),
        input: shape,
        output: Shape {
            height: 1,
            width: 1,
            channels: net.spec.classes,
        },
        kind: LayerKind::Classifier(Classifier {
            weights: dense_weights(&h.geo, &host_w(h.weight.val())),
            bias: f.head_bias.clone(),
        }),
    });
    let m = Model {
        meta: Meta {
            name: cfg.meta.name.clone(),
            description: cfg.meta.description.clone(),
            provenance,
            classes: classes.to_vec(),
        },
        input,
        front_end,
        layers,
    };
    let text = model::to_toml(&m);
    let back = model::parse(&text, "exported model").map_err(|e| {
        super::TrainError::Internal(format!("exported model does not validate: {e}"))
    })?;
    if back != m {
        return Err(super::TrainError::Internal(
            "exported model changes when written and read back".into(),
        ));
    }
    Ok(back)
}

/// Write the model file whole or not at all, over a regular file only (`crate::output`).
pub fn write_model(m: &Model, path: &std::path::Path) -> Result<(), super::TrainError> {
    Ok(crate::output::write_file(
        path,
        model::to_toml(m).as_bytes(),
        &[],
    )?)
}
