//! Import of layers: one node pattern per layer kind, each reading the previous layer's
//! output (`Walk::cur`).
//!
//! - conv: [Pad (constant -1, +1 or 0)] -> Conv (no bias; Conv's own pads mean `zero`) ->
//!   activation;
//! - activation: [Mul by +-1 per channel (the directions)] -> MultiThreshold to +-1;
//! - maxpool: MaxPool without padding;
//! - residual: Max (or), Min (and), Mul (xnor), Mul -> Neg (xor) of the current tensor and an
//!   earlier layer's output;
//! - dense: Flatten (or Reshape to N x K; nothing after a dense layer's N x O output) ->
//!   MatMul or Gemm -> activation [-> Reshape to N x O x 1 x 1];
//! - classifier: Flatten -> MatMul -> Add (integer bias) [-> TensorNorm's scalar steps,
//!   `scores.rs`], writing the graph output.

use super::activation::{self, Affine};
use super::blocks::{block_weights, Dense as DenseWeights};
use super::proto::NodeProto;
use super::scores;
use super::walk::{attr, out_shape, ImportError, Walk};
use crate::model::{
    limits, Bits, Classifier, Conv, Dense, Layer, LayerKind, MaxPool, PadMode, Residual,
    ResidualOp, Shape,
};

/// Read the next layer, which reads tensor `w.cur` of shape `cur`.
pub(super) fn read(w: &mut Walk<'_>, cur: Shape, layers: &[Layer]) -> Result<Layer, ImportError> {
    let (i, n) = w.peek().expect("the caller checked for a next node");
    if !n.input.contains(&w.cur) {
        return Err(w.node_err(i, n, format!(
            "does not read `{}`, the output of the layer before; bnngen reads a chain of layers (with residuals to earlier outputs)",
            w.cur
        )));
    }
    let (name, kind, output) = match n.op_type.as_str() {
        "Pad" | "Conv" => conv(w, cur)?,
        "MaxPool" => maxpool(w, cur)?,
        "Max" | "Min" | "Mul" if w.planes_outermost.is_some() => {
            return Err(w.node_err(i, n, "combines the thermometer's plane-major planes (k * C + c) before a weighted layer has put them in bnngen's channel-major order (c * M + k)".into()));
        }
        "Max" | "Min" | "Mul" => residual(w, cur, layers)?,
        "Flatten" | "Reshape" | "MatMul" | "Gemm" => dense(w, cur)?,
        other => {
            return Err(w.node_err(i, n, format!(
                "{other} is not in the subset bnngen imports here; a layer starts with Conv (or Pad), MaxPool, Max/Min/Mul (a residual) or Flatten / Reshape (dense or classifier; MatMul / Gemm straight after a dense layer); see docs/import.md"
            )))
        }
    };
    if matches!(
        kind,
        LayerKind::Conv(_) | LayerKind::Dense(_) | LayerKind::Classifier(_)
    ) {
        // Its weights were read in bnngen's channel order: the planes are in place.
        w.planes_outermost = None;
    }
    let name = unique_name(name, layers, &kind);
    w.outputs.push(w.cur.clone());
    w.out_scales.push(w.scale);
    Ok(Layer {
        name,
        input: cur,
        output,
        kind,
    })
}

/// The node's name, or `<kind><index>` when it is empty or already taken.
fn unique_name(name: String, layers: &[Layer], kind: &LayerKind) -> String {
    if !name.trim().is_empty() && !layers.iter().any(|l| l.name == name) {
        return name;
    }
    let mut k = layers.len();
    loop {
        let n = format!("{}{k}", kind.tag());
        if !layers.iter().any(|l| l.name == n) {
            return n;
        }
        k += 1;
    }
}

type Read = (String, LayerKind, Shape);

/// The file's channel of bnngen's input channel `c`: the same, but after a plane-major
/// thermometer of C channels and M planes (`Walk::planes_outermost`), bnngen's `c * M + k`
/// is the file's `k * C + c`.
fn file_channel(planes_outermost: Option<(usize, usize)>, c: usize) -> usize {
    match planes_outermost {
        Some((channels, m)) => (c % m) * channels + c / m,
        None => c,
    }
}

/// A list attribute of two equal values (or absent: `default`).
fn pair(
    w: &Walk<'_>,
    i: usize,
    n: &NodeProto,
    name: &str,
    default: i64,
) -> Result<usize, ImportError> {
    let v = attr::ints(n, name).map_err(|e| w.node_err(i, n, e))?;
    let v = v.unwrap_or_else(|| vec![default; 2]);
    let ok = v.len() >= 2 && v.iter().all(|&x| x == v[0]) && v[0] >= 0;
    match usize::try_from(v[0])
        .ok()
        .filter(|_| ok)
        .filter(|&x| x <= limits::MAX_SIDE)
    {
        Some(x) => Ok(x),
        None => Err(w.node_err(
            i,
            n,
            format!(
                "{name} is {v:?}; bnngen needs the same value (0..={}) in every direction",
                limits::MAX_SIDE
            ),
        )),
    }
}

/// `(size + 2 * pad - k) / s + 1`, or an error when the window does not fit.
fn out_side(
    w: &Walk<'_>,
    i: usize,
    n: &NodeProto,
    size: usize,
    pad: usize,
    k: usize,
    s: usize,
) -> Result<usize, ImportError> {
    match (size + 2 * pad).checked_sub(k) {
        Some(r) if k > 0 && s > 0 => Ok(r / s + 1),
        _ => Err(w.node_err(
            i,
            n,
            format!(
                "kernel {k} is larger than the padded input {} (or stride 0)",
                size + 2 * pad
            ),
        )),
    }
}

fn conv(w: &mut Walk<'_>, cur: Shape) -> Result<Read, ImportError> {
    let mut pad = (0usize, PadMode::Zero);
    let mut x = w.cur.clone();
    if let Some((pi, p)) = w.take_if("Pad", &x.clone()) {
        pad = read_pad(w, pi, p)?;
        if w.scale != 1.0 && pad.1 != PadMode::Zero {
            return Err(w.node_err(
                pi,
                p,
                format!(
                    "pads a tensor of +-{} with +-1; pad with 0 or with the tensor's own values",
                    w.scale
                ),
            ));
        }
        x = w.output(pi, p)?.to_string();
    }
    let (ci, c) = w.expect("Conv", &x, "Pad")?;
    let err = |m: String| w.node_err(ci, c, m);
    attr::only(
        c,
        &[
            "kernel_shape",
            "strides",
            "pads",
            "dilations",
            "group",
            "auto_pad",
        ],
    )
    .map_err(err)?;
    let bias = if c.input.len() > 2 && !c.input[2].is_empty() {
        Some(w.const_floats(ci, c, 2)?.1)
    } else {
        None
    };
    let auto = attr::string(c, "auto_pad")
        .map_err(err)?
        .unwrap_or_else(|| "NOTSET".into());
    if auto != "NOTSET" {
        return Err(err(format!("has auto_pad {auto}; write explicit pads")));
    }
    if pair(w, ci, c, "dilations", 1)? != 1 {
        return Err(err(
            "is dilated; bnngen's convolutions have dilation 1".into()
        ));
    }
    let stride = pair(w, ci, c, "strides", 1)?;
    let own_pad = attr::ints(c, "pads").map_err(err)?.unwrap_or_default();
    if !own_pad.iter().all(|&p| p == own_pad[0]) {
        return Err(err(format!(
            "pads {own_pad:?} differ by side; bnngen pads all four sides alike"
        )));
    }
    let own_pad = own_pad.first().copied().unwrap_or(0);
    if own_pad > 0 {
        if pad.0 > 0 {
            return Err(err(
                "pads again after a Pad node; bnngen has one padding per layer".into(),
            ));
        }
        pad = (pair(w, ci, c, "pads", 0)?, PadMode::Zero);
    }
    let group = attr::int(c, "group").map_err(err)?.unwrap_or(1);
    let (shape, data, wscale) = w.weights(ci, c, 1, 0)?;
    let [o_n, cpg, kh, kw] = shape[..] else {
        return Err(err(format!(
            "has weights of shape {shape:?}; expected [out, in / group, kh, kw]"
        )));
    };
    let g = usize::try_from(group)
        .ok()
        .filter(|&g| g >= 1 && cpg * g == cur.channels && o_n % g == 0);
    let Some(g) = g else {
        return Err(err(format!(
            "weights [{o_n}, {cpg}, ..] with group {group} do not fit {} input channels",
            cur.channels
        )));
    };
    let opg = o_n / g;
    let perm = w.planes_outermost;
    let get = |o: usize, c: usize, ky: usize, kx: usize| {
        let c = file_channel(perm, c);
        if c / cpg != o / opg {
            return 0.0;
        }
        data[((o * cpg + c % cpg) * kh + ky) * kw + kx]
    };
    let name = c.name.clone();
    if pad.0 == 0 {
        let key = format!("{}{name}", super::keys::PAD_MODE_PREFIX);
        pad.1 = match w.meta.get(key.as_str()).copied() {
            Some("minus_one") => PadMode::MinusOne,
            Some("plus_one") => PadMode::PlusOne,
            _ => PadMode::Zero,
        };
    }
    let d = DenseWeights {
        out_channels: o_n,
        in_channels: cur.channels,
        kernel_h: kh,
        kernel_w: kw,
        group: g,
        get: &get,
    };
    let weights = block_weights(w, ci, c, &name, &d)?;
    let oh = out_side(w, ci, c, cur.height, pad.0, kh, stride)?;
    let ow = out_side(w, ci, c, cur.width, pad.0, kw, stride)?;
    let bias = bias.unwrap_or_else(|| vec![0.0; o_n]);
    if bias.len() != o_n {
        return Err(err(format!("has {} biases for {o_n} outputs", bias.len())));
    }
    let affine = affine(w.scale, &wscale, bias);
    w.cur = w.output(ci, c)?.to_string();
    let n_max = (kh * kw * cur.channels) as i64;
    let activation = activation::read(w, "Conv", &affine, n_max)?;
    let kind = LayerKind::Conv(Conv {
        stride,
        padding: pad.0,
        pad_mode: pad.1,
        weights,
        activation,
    });
    Ok((name, kind, out_shape(oh, ow, o_n)))
}

/// A constant Pad of H and W only, by the same amount on all sides, with -1, +1 or 0.
fn read_pad(w: &Walk<'_>, i: usize, n: &NodeProto) -> Result<(usize, PadMode), ImportError> {
    let err = |m: String| w.node_err(i, n, m);
    let mode = attr::string(n, "mode")
        .map_err(err)?
        .unwrap_or_else(|| "constant".into());
    if mode != "constant" {
        return Err(err(format!(
            "pads in mode {mode}; bnngen pads with a constant"
        )));
    }
    let (pads, value) = match attr::ints(n, "pads").map_err(err)? {
        Some(p) => (
            p,
            f64::from(attr::float(n, "value").map_err(err)?.unwrap_or(0.0)),
        ),
        None => {
            let (_, p) = w.const_ints(i, n, 1)?;
            let v = if n.input.get(2).is_some_and(|s| !s.is_empty()) {
                w.const_floats(i, n, 2)?.1
            } else {
                vec![0.0]
            };
            (p, v.first().copied().unwrap_or(0.0))
        }
    };
    let p = pads.get(2).copied().unwrap_or(-1);
    if pads.len() != 8 || pads != [0, 0, p, p, 0, 0, p, p] || p < 1 {
        return Err(err(format!(
            "pads {pads:?}; bnngen pads height and width alike: [0, 0, p, p, 0, 0, p, p]"
        )));
    }
    let mode = if value == -1.0 {
        PadMode::MinusOne
    } else if value == 1.0 {
        PadMode::PlusOne
    } else if value == 0.0 {
        PadMode::Zero
    } else {
        return Err(err(format!(
            "pads with {value}; bnngen pads with -1, +1 or 0 (a tap that counts nothing)"
        )));
    };
    let p = usize::try_from(p)
        .ok()
        .filter(|&p| p <= limits::MAX_SIDE)
        .ok_or_else(|| err(format!("pads {p} is above {}", limits::MAX_SIDE)))?;
    Ok((p, mode))
}

/// The sum's affine map per channel: input scale times weight scale, and the bias.
fn affine(in_scale: f64, wscale: &[f64], bias: Vec<f64>) -> Affine {
    let k = (0..bias.len())
        .map(|o| in_scale * wscale[if wscale.len() == 1 { 0 } else { o }])
        .collect();
    Affine { k, c: bias }
}

fn maxpool(w: &mut Walk<'_>, cur: Shape) -> Result<Read, ImportError> {
    let (i, n) = w.expect("MaxPool", &w.cur.clone(), "the layer before")?;
    let err = |m: String| w.node_err(i, n, m);
    attr::only(
        n,
        &[
            "kernel_shape",
            "strides",
            "pads",
            "ceil_mode",
            "dilations",
            "auto_pad",
            "storage_order",
        ],
    )
    .map_err(err)?;
    let k = pair(w, i, n, "kernel_shape", 0)?;
    let s = pair(w, i, n, "strides", 1)?;
    if pair(w, i, n, "pads", 0)? != 0
        || attr::int(n, "ceil_mode").map_err(err)?.unwrap_or(0) != 0
        || pair(w, i, n, "dilations", 1)? != 1
    {
        return Err(err(
            "pads, rounds up or dilates; bnngen's max-pool has none of these".into(),
        ));
    }
    let auto = attr::string(n, "auto_pad")
        .map_err(err)?
        .unwrap_or_else(|| "NOTSET".into());
    if auto != "NOTSET" && auto != "VALID" {
        return Err(err(format!(
            "has auto_pad {auto}; bnngen's max-pool has no padding"
        )));
    }
    let oh = out_side(w, i, n, cur.height, 0, k, s)?;
    let ow = out_side(w, i, n, cur.width, 0, k, s)?;
    w.cur = w.output(i, n)?.to_string();
    Ok((
        n.name.clone(),
        LayerKind::MaxPool(MaxPool {
            kernel: k,
            stride: s,
        }),
        out_shape(oh, ow, cur.channels),
    ))
}

fn residual(w: &mut Walk<'_>, cur: Shape, layers: &[Layer]) -> Result<Read, ImportError> {
    let (i, n) = w.peek().expect("peeked by the caller");
    let first = n.input.first().cloned().unwrap_or_default();
    let (i, n) = w
        .take_if(&n.op_type, &first)
        .ok_or_else(|| w.node_err(i, n, "has no inputs".into()))?;
    let other = match n.input.as_slice() {
        [a, b] if *a == w.cur => b,
        [a, b] if *b == w.cur => a,
        _ => {
            return Err(w.node_err(
                i,
                n,
                "expected two inputs, the current tensor and an earlier layer's output".into(),
            ))
        }
    };
    let Some(with) = w.outputs.iter().rposition(|o| o == other) else {
        let why = if w.consts.contains_key(other) {
            "a constant"
        } else {
            "not a layer's output"
        };
        return Err(w.node_err(
            i,
            n,
            format!("combines with `{other}`, {why}; a residual combines two layer outputs"),
        ));
    };
    debug_assert!(with < layers.len());
    if w.scale != 1.0 || w.out_scales[with] != 1.0 {
        return Err(w.node_err(i, n, "combines tensors of +-s with s != 1 (a scaled BipolarQuant); bnngen's residuals combine +-1 tensors".into()));
    }
    let out = w.output(i, n)?;
    let op = match n.op_type.as_str() {
        "Max" => ResidualOp::Or,
        "Min" => ResidualOp::And,
        _ => match w.take_if("Neg", out) {
            Some((ni, neg)) => {
                w.cur = w.output(ni, neg)?.to_string();
                ResidualOp::Xor
            }
            None => ResidualOp::Xnor,
        },
    };
    if op != ResidualOp::Xor {
        w.cur = out.to_string();
    }
    Ok((
        n.name.clone(),
        LayerKind::Residual(Residual { with, op }),
        cur,
    ))
}

/// Flatten (or Reshape to [N, K]) -> MatMul or Gemm [-> Add], then an activation (dense)
/// or nothing (the classifier, whose output is the graph output).
fn dense(w: &mut Walk<'_>, cur: Shape) -> Result<Read, ImportError> {
    let flat = flatten(w, cur)?;
    let (mi, m) = match w.take_if("MatMul", &flat) {
        Some(t) => t,
        None => w.expect("Gemm", &flat, "Flatten")?,
    };
    let err = |msg: String| w.node_err(mi, m, msg);
    let gemm = m.op_type == "Gemm";
    let trans_b = if gemm {
        attr::only(m, &["alpha", "beta", "transA", "transB"]).map_err(err)?;
        if attr::int(m, "transA").map_err(err)?.unwrap_or(0) != 0 {
            return Err(err(
                "transposes its input (transA); bnngen reads transA = 0".into(),
            ));
        }
        attr::int(m, "transB").map_err(err)?.unwrap_or(0) != 0
    } else {
        false
    };
    let (shape, data, wscale) = w.weights(mi, m, 1, if trans_b { 0 } else { 1 })?;
    let k = cur.len();
    let (rows, o_n) = match (shape.as_slice(), trans_b) {
        (&[r, o], false) => (r, o),
        (&[o, r], true) => (r, o),
        _ => {
            return Err(err(format!(
                "has weights of shape {shape:?}; expected [inputs, outputs]"
            )))
        }
    };
    if rows != k || o_n == 0 {
        return Err(err(format!(
            "has {rows} weight rows for {k} inputs ({cur} flattened)"
        )));
    }
    // Flatten of NCHW: row (c * H + y) * W + x.
    let (h, wd) = (cur.height, cur.width);
    let perm = w.planes_outermost;
    let get = |o: usize, c: usize, y: usize, x: usize| {
        let row = (file_channel(perm, c) * h + y) * wd + x;
        data[if trans_b {
            o * rows + row
        } else {
            row * o_n + o
        }]
    };
    let name = m.name.clone();
    let d = DenseWeights {
        out_channels: o_n,
        in_channels: cur.channels,
        kernel_h: h,
        kernel_w: wd,
        group: 1,
        get: &get,
    };
    let mut weights = block_weights(w, mi, m, &name, &d)?;
    let mut bias = vec![0.0; o_n];
    let mut scale = w.scale;
    if gemm {
        scale *= f64::from(attr::float(m, "alpha").map_err(err)?.unwrap_or(1.0));
        if m.input.len() > 2 && !m.input[2].is_empty() {
            let beta = f64::from(attr::float(m, "beta").map_err(err)?.unwrap_or(1.0));
            let (_, c) = w.const_floats(mi, m, 2)?;
            add_bias(w, mi, m, &mut bias, &c, beta)?;
        }
    }
    w.cur = w.output(mi, m)?.to_string();
    if let Some((ai, a)) = w.take_if("Add", &w.cur.clone()) {
        let (_, b) = w.const_floats(ai, a, 1)?;
        add_bias(w, ai, a, &mut bias, &b, 1.0)?;
        w.cur = w.output(ai, a)?.to_string();
    }
    let affine = affine(scale, &wscale, bias);
    let out = out_shape(1, 1, o_n);
    let activation_next = w.peek().is_some_and(|(_, n)| {
        n.input.first() == Some(&w.cur)
            && matches!(
                n.op_type.as_str(),
                "Mul" | "MultiThreshold" | "BatchNormalization"
            )
    });
    if !activation_next {
        let scores = scores::read(w, mi, m, affine)?;
        if scores.flip {
            weights.bits = Bits::from_bools(weights.bits.iter().map(|b| !b).collect::<Vec<_>>());
        }
        w.score_map = Some(scores.map);
        return Ok((
            name,
            LayerKind::Classifier(Classifier {
                weights,
                bias: scores.bias,
            }),
            out,
        ));
    }
    let n_max = k as i64;
    let activation = activation::read(w, "MatMul", &affine, n_max)?;
    if let Some((ri, r)) = w.take_if("Reshape", &w.cur.clone()) {
        let (_, s) = w.const_ints(ri, r, 1)?;
        if !(s.len() == 4
            && (s[0] == 1 || s[0] == -1)
            && s[1] == o_n as i64
            && s[2] == 1
            && s[3] == 1)
        {
            return Err(w.node_err(ri, r, format!("reshapes to {s:?}; after a dense layer bnngen reads only [-1 or 1, {o_n}, 1, 1]")));
        }
        w.cur = w.output(ri, r)?.to_string();
    }
    Ok((
        name,
        LayerKind::Dense(Dense {
            weights,
            activation,
        }),
        out,
    ))
}

/// Flatten at axis 1, or a Reshape to [N, K] (N 1, -1 or 0; K the flattened size or -1):
/// returns the flattened tensor's name. After a dense layer written without its Reshape
/// back to [N, O, 1, 1] (as PyTorch exports Linear -> Linear), the tensor is already
/// [N, O] and a MatMul or Gemm reads it as it is.
fn flatten(w: &mut Walk<'_>, cur: Shape) -> Result<String, ImportError> {
    let x = w.cur.clone();
    let matmul_next = w.peek().is_some_and(|(_, n)| {
        matches!(n.op_type.as_str(), "MatMul" | "Gemm") && n.input.first() == Some(&x)
    });
    if matmul_next && cur.height == 1 && cur.width == 1 {
        return Ok(x);
    }
    if let Some((ri, r)) = w.take_if("Reshape", &x) {
        let (_, s) = w.const_ints(ri, r, 1)?;
        let k = cur.len() as i64;
        if !(s.len() == 2 && [1, -1, 0].contains(&s[0]) && (s[1] == k || s[1] == -1)) {
            return Err(w.node_err(ri, r, format!("reshapes to {s:?}; before a dense layer bnngen reads a flattening [1, {k}] (NCHW order)")));
        }
        return Ok(w.output(ri, r)?.to_string());
    }
    let (fi, f) = w.expect("Flatten", &x, "the layer before")?;
    if attr::int(f, "axis")
        .map_err(|e| w.node_err(fi, f, e))?
        .unwrap_or(1)
        != 1
    {
        return Err(w.node_err(
            fi,
            f,
            "flattens at an axis other than 1; bnngen flattens each image (axis 1)".into(),
        ));
    }
    Ok(w.output(fi, f)?.to_string())
}

/// Add `factor * values` (one per output, or one for all) to `bias`.
fn add_bias(
    w: &Walk<'_>,
    i: usize,
    n: &NodeProto,
    bias: &mut [f64],
    values: &[f64],
    factor: f64,
) -> Result<(), ImportError> {
    if values.len() != bias.len() && values.len() != 1 {
        return Err(w.node_err(
            i,
            n,
            format!("adds {} values to {} outputs", values.len(), bias.len()),
        ));
    }
    for (o, b) in bias.iter_mut().enumerate() {
        *b += factor * values[if values.len() == 1 { 0 } else { o }];
    }
    Ok(())
}
