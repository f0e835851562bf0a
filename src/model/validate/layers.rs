//! Each `[[layers]]` table on its own: its schema, its fields, and its output shape given
//! the shape that reaches it.

use std::collections::HashMap;

use super::weights::{check_activation, check_magnitudes, check_weights, WeightSpec};
use super::*;

/// Deserialize each layer table on its own so a bad layer is named by index and name.
pub(super) fn read_layers(
    v: Option<&toml::Value>,
    cx: &mut Ctx,
) -> Vec<(LayerRef, Option<RawLayer>)> {
    let list = match v {
        None => {
            cx.err(
                &Section::File,
                "layers",
                "missing; a model needs at least a classifier",
            );
            return Vec::new();
        }
        Some(toml::Value::Array(a)) if a.len() > MAX_LAYERS => {
            cx.err(
                &Section::File,
                "layers",
                format!("{} layers are above the limit of {MAX_LAYERS}", a.len()),
            );
            return Vec::new();
        }
        Some(toml::Value::Array(a)) => a,
        Some(_) => {
            cx.err(
                &Section::File,
                "layers",
                "must be an array of tables ([[layers]])",
            );
            return Vec::new();
        }
    };
    list.iter()
        .enumerate()
        .map(|(index, v)| {
            let name = v.get("name").and_then(|n| n.as_str()).map(str::to_string);
            let r = LayerRef { index, name };
            let raw = cx.de::<RawLayer>(&Section::Layer(r.clone()), v.clone());
            (r, raw)
        })
        .collect()
}

pub(super) fn layer_name(l: &RawLayer) -> &str {
    match l {
        RawLayer::Conv { name, .. }
        | RawLayer::Maxpool { name, .. }
        | RawLayer::Residual { name, .. }
        | RawLayer::Dense { name, .. }
        | RawLayer::Classifier { name, .. } => name,
    }
}

/// Where a layer stands in the list: what the residual and classifier checks look up.
pub(super) struct Place<'a> {
    /// Every layer's name (first use) with its index.
    pub(super) names: &'a HashMap<&'a str, usize>,
    /// The output shape of each earlier layer, `None` where it did not validate.
    pub(super) outputs: &'a [Option<Shape>],
    pub(super) index: usize,
    pub(super) meta: Option<&'a Meta>,
}

/// Check one layer against the shape that reaches it; dispatch to the layer kind's checks.
pub(super) fn check_layer(
    layer: &RawLayer,
    input: Shape,
    place: &Place,
    s: &Section,
    cx: &mut Ctx,
) -> Option<Layer> {
    let name = layer_name(layer).to_string();
    let (output, kind) = match (layer, weight_spec(layer)) {
        (
            RawLayer::Conv {
                kernel,
                stride,
                padding,
                pad_mode,
                thresholds,
                directions,
                ..
            },
            Some(spec),
        ) => {
            let geometry = ConvGeometry {
                kernel: *kernel,
                stride: *stride,
                padding: *padding,
                pad_mode: *pad_mode,
            };
            let t = Thresholded {
                spec,
                thresholds,
                directions,
            };
            check_conv(&geometry, &t, input, s, cx)?
        }
        (RawLayer::Maxpool { kernel, stride, .. }, _) => {
            check_maxpool(*kernel, *stride, input, s, cx)?
        }
        (RawLayer::Residual { with, op, .. }, _) => check_residual(with, *op, input, place, s, cx)?,
        (
            RawLayer::Dense {
                thresholds,
                directions,
                ..
            },
            Some(spec),
        ) => {
            let t = Thresholded {
                spec,
                thresholds,
                directions,
            };
            check_dense(&t, input, s, cx)?
        }
        (RawLayer::Classifier { bias, .. }, Some(spec)) => {
            check_classifier(&spec, bias, input, place.meta, s, cx)?
        }
        (RawLayer::Conv { .. } | RawLayer::Dense { .. } | RawLayer::Classifier { .. }, None) => {
            unreachable!("`weight_spec` names the weights of every weighted layer")
        }
    };
    Some(Layer {
        name,
        input,
        output,
        kind,
    })
}

/// The weight fields of a weighted layer (conv, dense, classifier), `None` for the others.
fn weight_spec(layer: &RawLayer) -> Option<WeightSpec<'_>> {
    let out_field = match layer {
        RawLayer::Conv { .. } => "out_channels",
        _ => "out_features",
    };
    match layer {
        RawLayer::Conv {
            out_channels: out,
            in_blocks,
            out_blocks,
            mask,
            weights,
            ..
        }
        | RawLayer::Dense {
            out_features: out,
            in_blocks,
            out_blocks,
            mask,
            weights,
            ..
        }
        | RawLayer::Classifier {
            out_features: out,
            in_blocks,
            out_blocks,
            mask,
            weights,
            ..
        } => Some(WeightSpec::new(
            (out_field, *out),
            (*in_blocks, *out_blocks),
            mask,
            weights,
        )),
        RawLayer::Maxpool { .. } | RawLayer::Residual { .. } => None,
    }
}

/// A conv layer's window: kernel, stride, padding and what the padding reads as.
struct ConvGeometry {
    kernel: [i64; 2],
    stride: i64,
    padding: i64,
    pad_mode: RawPadMode,
}

/// A conv or dense layer's weights and the thresholds that binarize its sums.
struct Thresholded<'a> {
    spec: WeightSpec<'a>,
    thresholds: &'a [i64],
    directions: &'a [i64],
}

impl Thresholded<'_> {
    /// Check the weights over a window of `kernel` on `in_channels` channels, and the
    /// activation; both report their errors before either fails.
    fn check(
        &self,
        in_channels: usize,
        kernel: (usize, usize),
        s: &Section,
        cx: &mut Ctx,
    ) -> Option<(BlockWeights, Thresholds)> {
        let w = check_weights(&self.spec, in_channels, kernel, s, cx);
        let a = check_activation(self.thresholds, self.directions, self.spec.out, s, cx);
        Some((w?, a?))
    }
}

fn check_conv(
    g: &ConvGeometry,
    t: &Thresholded,
    input: Shape,
    s: &Section,
    cx: &mut Ctx,
) -> Option<(Shape, LayerKind)> {
    let kh = bounded(g.kernel[0], MAX_SIDE, s, "kernel[0]", cx);
    let kw = bounded(g.kernel[1], MAX_SIDE, s, "kernel[1]", cx);
    let st = bounded(g.stride, MAX_SIDE, s, "stride", cx);
    let padding = g.padding;
    let pad = if padding < 0 {
        cx.err(s, "padding", format!("must be 0 or more, found {padding}"));
        None
    } else {
        Some(padding as usize)
    };
    let (kh, kw, st, pad) = (kh?, kw?, st?, pad?);
    if pad >= kh.max(kw) && pad > 0 {
        cx.err(
            s,
            "padding",
            format!("padding {pad} must be smaller than the kernel ({kh}x{kw})"),
        );
        return None;
    }
    let (ph, pw) = (input.height + 2 * pad, input.width + 2 * pad);
    if kh > ph || kw > pw {
        cx.err(
            s,
            "kernel",
            format!("kernel {kh}x{kw} is larger than the padded input {ph}x{pw}"),
        );
        return None;
    }
    let (weights, activation) = t.check(input.channels, (kh, kw), s, cx)?;
    let out = Shape {
        height: (ph - kh) / st + 1,
        width: (pw - kw) / st + 1,
        channels: weights.out_channels,
    };
    let pad_mode = match g.pad_mode {
        RawPadMode::MinusOne => PadMode::MinusOne,
        RawPadMode::PlusOne => PadMode::PlusOne,
        RawPadMode::Zero => PadMode::Zero,
    };
    let conv = Conv {
        stride: st,
        padding: pad,
        pad_mode,
        weights,
        activation,
    };
    Some((out, LayerKind::Conv(conv)))
}

fn check_maxpool(
    kernel: i64,
    stride: i64,
    input: Shape,
    s: &Section,
    cx: &mut Ctx,
) -> Option<(Shape, LayerKind)> {
    let k = bounded(kernel, MAX_SIDE, s, "kernel", cx);
    let st = bounded(stride, MAX_SIDE, s, "stride", cx);
    let (k, st) = (k?, st?);
    if k > input.height || k > input.width {
        cx.err(
            s,
            "kernel",
            format!("pool kernel {k} is larger than the input {input}"),
        );
        return None;
    }
    let out = Shape {
        height: (input.height - k) / st + 1,
        width: (input.width - k) / st + 1,
        channels: input.channels,
    };
    let pool = MaxPool {
        kernel: k,
        stride: st,
    };
    Some((out, LayerKind::MaxPool(pool)))
}

/// A residual names an earlier layer whose output has the current tensor's shape.
fn check_residual(
    with: &str,
    op: RawResidualOp,
    input: Shape,
    place: &Place,
    s: &Section,
    cx: &mut Ctx,
) -> Option<(Shape, LayerKind)> {
    let j = match place.names.get(with) {
        Some(&j) if j < place.index => j,
        Some(&j) => {
            cx.err(
                s,
                "with",
                format!(
                    "layer {with:?} is layers[{j}], which does not come before this \
                     one; a residual combines with an earlier layer's output"
                ),
            );
            return None;
        }
        None => {
            cx.err(s, "with", format!("no layer is named {with:?}"));
            return None;
        }
    };
    match place.outputs[j] {
        Some(shape) if shape == input => {}
        Some(shape) => {
            cx.err(
                s,
                "with",
                format!(
                    "shape mismatch: layer {with:?} outputs {shape}, the current tensor is {input}"
                ),
            );
            return None;
        }
        None => return None,
    }
    let op = match op {
        RawResidualOp::Or => ResidualOp::Or,
        RawResidualOp::And => ResidualOp::And,
        RawResidualOp::Xor => ResidualOp::Xor,
        RawResidualOp::Xnor => ResidualOp::Xnor,
    };
    Some((input, LayerKind::Residual(Residual { with: j, op })))
}

fn check_dense(
    t: &Thresholded,
    input: Shape,
    s: &Section,
    cx: &mut Ctx,
) -> Option<(Shape, LayerKind)> {
    let kernel = (input.height, input.width);
    let (weights, activation) = t.check(input.channels, kernel, s, cx)?;
    let out = Shape::vector(weights.out_channels);
    let dense = Dense {
        weights,
        activation,
    };
    Some((out, LayerKind::Dense(dense)))
}

/// The classifier: one bias per class, and as many classes as `meta.classes` names.
fn check_classifier(
    spec: &WeightSpec,
    bias: &[i64],
    input: Shape,
    meta: Option<&Meta>,
    s: &Section,
    cx: &mut Ctx,
) -> Option<(Shape, LayerKind)> {
    let out_features = spec.out;
    let w = check_weights(spec, input.channels, (input.height, input.width), s, cx);
    if bias.len() as i64 != out_features {
        cx.err(
            s,
            "bias",
            format!(
                "expected {out_features} values (one per class), found {}",
                bias.len()
            ),
        );
    }
    check_magnitudes(bias, "bias", s, cx);
    if let Some(m) = meta {
        if !m.classes.is_empty() && m.classes.len() as i64 != out_features {
            cx.err(
                s,
                "out_features",
                format!(
                    "meta.classes names {} classes, the classifier has {out_features}",
                    m.classes.len()
                ),
            );
        }
    }
    let w = w?;
    let out = Shape::vector(w.out_channels);
    let classifier = Classifier {
        weights: w,
        bias: bias.to_vec(),
    };
    Some((out, LayerKind::Classifier(classifier)))
}
