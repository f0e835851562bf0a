//! Write a `Model` back as model-file text (used by `random-model` and the training export).
//! `parse(to_toml(m)) == m` for every valid model.

use super::schema::*;
use super::*;

fn mask_rows(w: &BlockWeights) -> Option<Vec<String>> {
    if w.mask.iter().all(|&k| k) {
        return None;
    }
    Some(
        (0..w.out_blocks)
            .map(|ob| {
                (0..w.in_blocks)
                    .map(|ib| if w.kept(ob, ib) { '1' } else { '0' })
                    .collect()
            })
            .collect(),
    )
}

fn directions(t: &Thresholds) -> Vec<i64> {
    t.directions
        .iter()
        .map(|d| if *d == Direction::Up { 1 } else { -1 })
        .collect()
}

/// A weighted layer's `RawLayer` variant: the fields given, then the tiling and weight fields
/// that every weighted kind writes the same way from its `BlockWeights`.
macro_rules! weighted {
    ($kind:ident { $($field:ident $(: $value:expr)?),* $(,)? }, $weights:expr) => {{
        let w: &BlockWeights = $weights;
        RawLayer::$kind {
            $($field $(: $value)?,)*
            in_blocks: w.in_blocks as i64,
            out_blocks: w.out_blocks as i64,
            mask: mask_rows(w),
            weights: w.bits.to_hex(),
        }
    }};
}

fn raw_layer(m: &Model, l: &Layer) -> RawLayer {
    let name = l.name.clone();
    match &l.kind {
        LayerKind::Conv(c) => weighted!(
            Conv {
                name,
                out_channels: c.weights.out_channels as i64,
                kernel: [c.weights.kernel_h as i64, c.weights.kernel_w as i64],
                stride: c.stride as i64,
                padding: c.padding as i64,
                pad_mode: match c.pad_mode {
                    PadMode::MinusOne => RawPadMode::MinusOne,
                    PadMode::PlusOne => RawPadMode::PlusOne,
                    PadMode::Zero => RawPadMode::Zero,
                },
                thresholds: c.activation.thresholds.clone(),
                directions: directions(&c.activation),
            },
            &c.weights
        ),
        LayerKind::MaxPool(p) => RawLayer::Maxpool {
            name,
            kernel: p.kernel as i64,
            stride: p.stride as i64,
        },
        LayerKind::Residual(r) => RawLayer::Residual {
            name,
            with: m.layers[r.with].name.clone(),
            op: match r.op {
                ResidualOp::Or => RawResidualOp::Or,
                ResidualOp::And => RawResidualOp::And,
                ResidualOp::Xor => RawResidualOp::Xor,
                ResidualOp::Xnor => RawResidualOp::Xnor,
            },
        },
        LayerKind::Dense(d) => weighted!(
            Dense {
                name,
                out_features: d.weights.out_channels as i64,
                thresholds: d.activation.thresholds.clone(),
                directions: directions(&d.activation),
            },
            &d.weights
        ),
        LayerKind::Classifier(c) => weighted!(
            Classifier {
                name,
                out_features: c.weights.out_channels as i64,
                bias: c.bias.clone(),
            },
            &c.weights
        ),
    }
}

/// The model as TOML text, deterministic for a given model.
pub fn to_toml(m: &Model) -> String {
    let front_end = match &m.front_end {
        FrontEnd::Binary => RawFrontEnd::Binary {},
        FrontEnd::Thermometer(t) => match t.kind {
            ThermometerKind::Uniform => RawFrontEnd::Uniform {
                levels: t.levels as i64,
            },
            ThermometerKind::Glt => {
                let lists: Vec<Vec<i64>> = t
                    .thresholds
                    .iter()
                    .map(|l| l.iter().map(|&v| v as i64).collect())
                    .collect();
                if t.shared {
                    RawFrontEnd::Glt {
                        thresholds: Some(lists[0].clone()),
                        channel_thresholds: None,
                    }
                } else {
                    RawFrontEnd::Glt {
                        thresholds: None,
                        channel_thresholds: Some(lists),
                    }
                }
            }
        },
    };
    let raw = RawModel {
        format_version: FORMAT_VERSION,
        meta: RawMeta {
            name: m.meta.name.clone(),
            description: m.meta.description.clone(),
            provenance: m.meta.provenance.clone(),
            classes: m.meta.classes.clone(),
        },
        input: RawInput {
            height: m.input.height,
            width: m.input.width,
            channels: m.input.channels,
            bits: m.input.bits,
        },
        front_end,
        layers: m.layers.iter().map(|l| raw_layer(m, l)).collect(),
    };
    toml::to_string(&raw).expect("a model always serializes")
}
