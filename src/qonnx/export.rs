//! Model -> QONNX graph, one fixed node pattern per layer kind, exact in float32.
//!
//! Binary tensors are float32 NCHW tensors of +-1 (bit 1 is +1). A weighted layer's sum `a`
//! is a standard ONNX Conv or MatMul over +-1 inputs with weights in {-1, 0, +1}: a kept tap
//! contributes +-1 and a pruned tile's zero weights contribute nothing, which is exactly
//! bnngen's rule that N counts kept tiles only. Padding is an explicit Pad node with the pad
//! mode's value (-1, +1, or 0 for `zero`, whose taps then contribute nothing), so the Conv
//! itself never pads. The activation is QONNX's MultiThreshold (`x >= t`, out_scale 2,
//! out_bias -1 gives +-1); a channel with direction -1 is first multiplied by -1 and
//! compared with -t. The classifier's scores are MatMul + Add(bias): bnngen's integer scores
//! exactly (identity affine map). All sums, thresholds and scores stay within 2^24, where
//! float32 holds every integer, or the export is refused naming the layer.

use super::graph::{attr_float, attr_int, attr_ints, attr_str, value_info, GraphBuilder, Value};
use super::proto::{ModelProto, OperatorSetIdProto, StringStringEntryProto};
use super::{keys, F32_EXACT, ONNX_OPSET, QONNX_DOMAIN};
use crate::model::{
    BlockWeights, Conv, Direction, FrontEnd, Layer, LayerKind, Model, PadMode, ResidualOp,
    Thresholds,
};
use prost::Message;

/// The ONNX IR version written (ONNX 1.13 and later read it; opset 13 needs at least 7).
const IR_VERSION: i64 = 8;
/// Name of the graph input: pixel codes as float32, NCHW.
pub const INPUT_NAME: &str = "pixels";
/// Name of the graph output: the classifier's scores, [1, classes].
pub const OUTPUT_NAME: &str = "scores";

/// Why a model cannot be written as an exact QONNX graph.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// A figure of the layer lies beyond 2^24, where float32 stops holding every integer.
    #[error("layers[{index}] ({name}): {what} is beyond 2^24 = 16777216, so float32 (which QONNX computes in) would not hold it exactly; bnngen does not export an approximation")]
    NotExact {
        index: usize,
        name: String,
        what: String,
    },
}

/// The model as a QONNX graph (ONNX protobuf bytes), deterministic for a given model.
pub fn export(m: &Model) -> Result<Vec<u8>, ExportError> {
    check_exact(m)?;
    let mut g = GraphBuilder::default();
    let input = Value {
        name: INPUT_NAME.to_string(),
        shape: vec![1, m.input.channels, m.input.height, m.input.width],
    };
    let mut cur = front_end(&mut g, m, &input);
    let mut outputs: Vec<Value> = Vec::with_capacity(m.layers.len());
    for (i, layer) in m.layers.iter().enumerate() {
        cur = layer_nodes(&mut g, i, layer, &cur, &outputs);
        outputs.push(cur.clone());
    }
    g.graph.name = m.meta.name.clone();
    g.graph.input = vec![value_info(INPUT_NAME, &input.shape)];
    // The graph output's shape is declared once, in `output`, not in `value_info` as well.
    g.graph.value_info.retain(|v| v.name != OUTPUT_NAME);
    g.graph.output = vec![value_info(OUTPUT_NAME, &cur.shape)];
    let proto = ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![
            OperatorSetIdProto {
                domain: String::new(),
                version: ONNX_OPSET,
            },
            OperatorSetIdProto {
                domain: QONNX_DOMAIN.to_string(),
                version: 1,
            },
        ],
        producer_name: "bnngen".to_string(),
        producer_version: env!("CARGO_PKG_VERSION").to_string(),
        doc_string: m.meta.description.clone(),
        graph: Some(g.graph),
        metadata_props: metadata(m),
        ..Default::default()
    };
    Ok(proto.encode_to_vec())
}

/// The nodes of layer `i`, reading `cur` (and, for a residual, an earlier output).
fn layer_nodes(
    g: &mut GraphBuilder,
    i: usize,
    layer: &Layer,
    cur: &Value,
    outputs: &[Value],
) -> Value {
    match &layer.kind {
        LayerKind::Conv(c) => conv(g, i, layer, c, cur),
        LayerKind::MaxPool(p) => {
            let shape = nchw(layer.output);
            let attrs = vec![
                attr_ints("kernel_shape", &[p.kernel as i64, p.kernel as i64]),
                attr_ints("strides", &[p.stride as i64, p.stride as i64]),
            ];
            let out = format!("l{i}_out");
            g.node(
                ("", "MaxPool"),
                &layer.name,
                &[&cur.name],
                attrs,
                &out,
                &shape,
            )
        }
        LayerKind::Residual(r) => {
            let other = outputs[r.with].name.clone();
            let shape = nchw(layer.output);
            let out = format!("l{i}_out");
            let op = match r.op {
                ResidualOp::Or => "Max",
                ResidualOp::And => "Min",
                ResidualOp::Xnor | ResidualOp::Xor => "Mul",
            };
            let ins = [cur.name.as_str(), other.as_str()];
            if r.op == ResidualOp::Xor {
                let prod = format!("l{i}_xnor");
                g.node(("", op), &layer.name, &ins, vec![], &prod, &shape);
                let neg = format!("{}/not", layer.name);
                g.node(("", "Neg"), &neg, &[&prod], vec![], &out, &shape)
            } else {
                g.node(("", op), &layer.name, &ins, vec![], &out, &shape)
            }
        }
        LayerKind::Dense(d) => {
            let sum = matmul(g, i, layer, &d.weights, cur);
            let act = activation(g, i, layer, &d.activation, &sum);
            let shape = [1, layer.output.channels, 1, 1];
            let target = g.int64s(&format!("l{i}_shape"), &[4], &[-1, shape[1] as i64, 1, 1]);
            let name = format!("{}/reshape", layer.name);
            let out = format!("l{i}_out");
            g.node(
                ("", "Reshape"),
                &name,
                &[&act.name, &target],
                vec![],
                &out,
                &shape,
            )
        }
        LayerKind::Classifier(c) => {
            let sum = matmul(g, i, layer, &c.weights, cur);
            let bias: Vec<f32> = c.bias.iter().map(|&b| b as f32).collect();
            let b = g.floats(&format!("l{i}_bias"), &[1, bias.len()], &bias);
            let name = format!("{}/bias", layer.name);
            let shape = sum.shape.clone();
            g.node(
                ("", "Add"),
                &name,
                &[&sum.name, &b.name],
                vec![],
                OUTPUT_NAME,
                &shape,
            )
        }
    }
}

/// Refuse a model whose sums, thresholds or scores float32 would not hold exactly.
fn check_exact(m: &Model) -> Result<(), ExportError> {
    for (index, l) in m.layers.iter().enumerate() {
        let Some(w) = l.kind.weights() else {
            continue;
        };
        let err = |what: String| ExportError::NotExact {
            index,
            name: l.name.clone(),
            what,
        };
        let n_max = (w.kernel_h * w.kernel_w * w.in_channels) as i64;
        if n_max > F32_EXACT {
            return Err(err(format!("the largest sum |a| <= {n_max}")));
        }
        let (values, field) = match &l.kind {
            LayerKind::Conv(c) => (&c.activation.thresholds, "thresholds"),
            LayerKind::Dense(d) => (&d.activation.thresholds, "thresholds"),
            LayerKind::Classifier(c) => (&c.bias, "bias"),
            _ => unreachable!("only weighted layers have weights"),
        };
        for (k, &v) in values.iter().enumerate() {
            let reach = if field == "bias" {
                v.abs() + n_max
            } else {
                v.abs()
            };
            if reach > F32_EXACT {
                return Err(err(format!("{field}[{k}] = {v} (with sums up to {n_max})")));
            }
        }
    }
    Ok(())
}

/// NCHW shape of a binary tensor.
fn nchw(s: crate::model::Shape) -> Vec<usize> {
    vec![1, s.channels, s.height, s.width]
}

/// Pixels to +-1 planes: Gather repeats each input channel once per plane (plane k of channel
/// c is channel c * P + k), then a thermometer is one MultiThreshold (threshold t[c][k] on
/// channel c * P + k), and the binary code takes bit k as floor(v / 2^k) mod 2 >= 1.
fn front_end(g: &mut GraphBuilder, m: &Model, input: &Value) -> Value {
    let c = m.input.channels;
    let planes = m.front_end.planes_per_channel(&m.input);
    let shape = nchw(m.front_end_shape());
    let idx: Vec<i64> = (0..c * planes).map(|j| (j / planes) as i64).collect();
    let idx = g.int64s("fe_channels", &[idx.len()], &idx);
    let gather = g.node(
        ("", "Gather"),
        "front_end/planes",
        &[&input.name, &idx],
        vec![attr_int("axis", 1)],
        "fe_repeated",
        &shape,
    );
    let (levels, thresholds): (Value, Vec<f32>) = match &m.front_end {
        FrontEnd::Thermometer(t) => {
            let thr = t.thresholds.iter().flatten().map(|&v| v as f32).collect();
            (gather, thr)
        }
        FrontEnd::Binary => {
            let pow: Vec<f32> = (0..c * planes)
                .map(|j| (1u32 << (j % planes)) as f32)
                .collect();
            let pow = g.floats("fe_bit_weights", &[1, pow.len(), 1, 1], &pow);
            let two = g.floats("fe_two", &[], &[2.0]);
            let div = g.node(
                ("", "Div"),
                "front_end/shift",
                &[&gather.name, &pow.name],
                vec![],
                "fe_shifted",
                &shape,
            );
            let floor = g.node(
                ("", "Floor"),
                "front_end/floor",
                &[&div.name],
                vec![],
                "fe_floor",
                &shape,
            );
            let bit = g.node(
                ("", "Mod"),
                "front_end/bit",
                &[&floor.name, &two.name],
                vec![attr_int("fmod", 1)],
                "fe_bits",
                &shape,
            );
            (bit, vec![1.0; c * planes])
        }
    };
    let thr = g.floats("fe_thresholds", &[thresholds.len(), 1], &thresholds);
    g.node(
        (QONNX_DOMAIN, "MultiThreshold"),
        "front_end",
        &[&levels.name, &thr.name],
        bipolar_attrs(),
        "fe_out",
        &shape,
    )
}

/// MultiThreshold attributes that map the count of reached thresholds (0 or 1) to -1 / +1.
fn bipolar_attrs() -> Vec<super::proto::AttributeProto> {
    vec![
        attr_str("out_dtype", "BIPOLAR"),
        attr_float("out_scale", 2.0),
        attr_float("out_bias", -1.0),
    ]
}

/// A weight value of output `o` at tap (ky, kx), input channel `ci`: +-1, or 0 when pruned.
fn weight_value(w: &BlockWeights, o: usize, ky: usize, kx: usize, ci: usize) -> f32 {
    match w.weight(o, ky, kx, ci) {
        Some(true) => 1.0,
        Some(false) => -1.0,
        None => 0.0,
    }
}

/// Conv: [Pad] -> Conv (no padding, group 1, weights [O, C, kh, kw]) -> activation.
fn conv(g: &mut GraphBuilder, i: usize, layer: &Layer, c: &Conv, cur: &Value) -> Value {
    let w = &c.weights;
    let mut x = cur.clone();
    if c.padding > 0 {
        let p = c.padding as i64;
        let pads = g.int64s(&format!("l{i}_pads"), &[8], &[0, 0, p, p, 0, 0, p, p]);
        let fill = match c.pad_mode {
            PadMode::MinusOne => -1.0,
            PadMode::PlusOne => 1.0,
            PadMode::Zero => 0.0,
        };
        let fill = g.floats(&format!("l{i}_pad_value"), &[], &[fill]);
        let shape = vec![
            1,
            layer.input.channels,
            layer.input.height + 2 * c.padding,
            layer.input.width + 2 * c.padding,
        ];
        let name = format!("{}/pad", layer.name);
        let out = format!("l{i}_padded");
        x = g.node(
            ("", "Pad"),
            &name,
            &[&x.name, &pads, &fill.name],
            vec![attr_str("mode", "constant")],
            &out,
            &shape,
        );
    }
    let mut data = Vec::with_capacity(w.out_channels * w.in_channels * w.kernel_h * w.kernel_w);
    for o in 0..w.out_channels {
        for ci in 0..w.in_channels {
            for ky in 0..w.kernel_h {
                for kx in 0..w.kernel_w {
                    data.push(weight_value(w, o, ky, kx, ci));
                }
            }
        }
    }
    let wshape = [w.out_channels, w.in_channels, w.kernel_h, w.kernel_w];
    let weights = g.floats(&format!("l{i}_weights"), &wshape, &data);
    let attrs = vec![
        attr_ints("kernel_shape", &[w.kernel_h as i64, w.kernel_w as i64]),
        attr_ints("strides", &[c.stride as i64, c.stride as i64]),
        attr_ints("pads", &[0, 0, 0, 0]),
        attr_ints("dilations", &[1, 1]),
        attr_int("group", 1),
    ];
    let out = format!("l{i}_sum");
    let sum = g.node(
        ("", "Conv"),
        &layer.name,
        &[&x.name, &weights.name],
        attrs,
        &out,
        &nchw(layer.output),
    );
    activation(g, i, layer, &c.activation, &sum)
}

/// Dense or classifier sum: Flatten (NCHW order: c, y, x) -> MatMul with weights [K, O].
fn matmul(g: &mut GraphBuilder, i: usize, layer: &Layer, w: &BlockWeights, cur: &Value) -> Value {
    let (h, wd, c) = (layer.input.height, layer.input.width, layer.input.channels);
    let k = h * wd * c;
    let name = format!("{}/flatten", layer.name);
    let flat = g.node(
        ("", "Flatten"),
        &name,
        &[&cur.name],
        vec![attr_int("axis", 1)],
        &format!("l{i}_flat"),
        &[1, k],
    );
    let o_n = w.out_channels;
    let mut data = vec![0f32; k * o_n];
    for ci in 0..c {
        for y in 0..h {
            for x in 0..wd {
                let row = (ci * h + y) * wd + x;
                for o in 0..o_n {
                    data[row * o_n + o] = weight_value(w, o, y, x, ci);
                }
            }
        }
    }
    let weights = g.floats(&format!("l{i}_weights"), &[k, o_n], &data);
    g.node(
        ("", "MatMul"),
        &layer.name,
        &[&flat.name, &weights.name],
        vec![],
        &format!("l{i}_sum"),
        &[1, o_n],
    )
}

/// Threshold activation: [Mul by the directions] -> MultiThreshold to +-1.
fn activation(g: &mut GraphBuilder, i: usize, layer: &Layer, t: &Thresholds, sum: &Value) -> Value {
    let o_n = t.thresholds.len();
    let sign = |d: Direction| if d == Direction::Up { 1.0f32 } else { -1.0 };
    let mut x = sum.clone();
    if t.directions.contains(&Direction::Down) {
        let mut dshape = vec![1usize; sum.shape.len()];
        dshape[1] = o_n;
        let dirs: Vec<f32> = t.directions.iter().map(|&d| sign(d)).collect();
        let d = g.floats(&format!("l{i}_directions"), &dshape, &dirs);
        let name = format!("{}/direction", layer.name);
        x = g.node(
            ("", "Mul"),
            &name,
            &[&sum.name, &d.name],
            vec![],
            &format!("l{i}_signed"),
            &sum.shape,
        );
    }
    let thr: Vec<f32> = t
        .thresholds
        .iter()
        .zip(&t.directions)
        .map(|(&v, &d)| v as f32 * sign(d))
        .collect();
    let thr = g.floats(&format!("l{i}_thresholds"), &[o_n, 1], &thr);
    let name = format!("{}/threshold", layer.name);
    g.node(
        (QONNX_DOMAIN, "MultiThreshold"),
        &name,
        &[&x.name, &thr.name],
        bipolar_attrs(),
        &format!("l{i}_act"),
        &sum.shape,
    )
}

/// What the graph does not say but the model file does (see [`keys`]).
fn metadata(m: &Model) -> Vec<StringStringEntryProto> {
    let entry = |key: &str, value: String| StringStringEntryProto {
        key: key.to_string(),
        value,
    };
    let fe = match &m.front_end {
        FrontEnd::Binary => "binary",
        FrontEnd::Thermometer(t) => match (t.kind, t.shared) {
            (crate::model::ThermometerKind::Uniform, _) => "uniform",
            (_, true) => "glt_shared",
            (_, false) => "glt",
        },
    };
    let mut props = vec![
        entry(keys::INPUT_BITS, m.input.bits.to_string()),
        entry(keys::FRONT_END, fe.to_string()),
    ];
    props.push(entry(keys::PROVENANCE, m.meta.provenance.clone()));
    if !m.meta.classes.is_empty() {
        let json = serde_json::to_string(&m.meta.classes).expect("strings serialize");
        props.push(entry(keys::CLASSES, json));
    }
    for l in &m.layers {
        if let LayerKind::Conv(c) = &l.kind {
            if c.padding == 0 {
                let key = format!("{}{}", keys::PAD_MODE_PREFIX, l.name);
                props.push(entry(&key, c.pad_mode.as_str().to_string()));
            }
        }
        if let Some(w) = l.kind.weights() {
            if (w.in_blocks, w.out_blocks) != (1, 1) {
                let key = format!("{}{}", keys::BLOCKS_PREFIX, l.name);
                props.push(entry(&key, format!("{}x{}", w.in_blocks, w.out_blocks)));
            }
        }
    }
    props
}
