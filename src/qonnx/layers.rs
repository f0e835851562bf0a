//! Import of layers: one node pattern per layer kind, each reading the previous layer's
//! output (`Walk::cur`).
//!
//! - conv: [Pad (constant -1, +1 or 0)] -> Conv (no bias; Conv's own pads mean `zero`) ->
//!   activation;
//! - activation: [Mul by +-1 per channel (the directions)] -> MultiThreshold to +-1;
//! - maxpool: MaxPool without padding;
//! - residual: Max (or), Min (and), Mul (xnor), Mul -> Neg (xor) of the current tensor and an
//!   earlier layer's output;
//! - dense: Flatten -> MatMul -> activation [-> Reshape to N x O x 1 x 1];
//! - classifier: Flatten -> MatMul -> Add (integer bias), writing the graph output.

use super::blocks::{block_weights, Dense as DenseWeights};
use super::front_end::bipolar_thresholds;
use super::import::{attr, out_shape, ImportError, Walk};
use super::proto::NodeProto;
use crate::model::{
    limits, Classifier, Conv, Dense, Direction, Layer, LayerKind, MaxPool, PadMode, Residual,
    ResidualOp, Shape, Thresholds,
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
        "Max" | "Min" | "Mul" => residual(w, cur, layers)?,
        "Flatten" => dense(w, cur)?,
        other => {
            return Err(w.node_err(i, n, format!(
                "{other} is not in the subset bnngen imports here; a layer starts with Conv (or Pad), MaxPool, Max/Min/Mul (a residual) or Flatten (dense or classifier); see docs/import.md"
            )))
        }
    };
    let name = unique_name(name, layers, &kind);
    w.outputs.push(w.cur.clone());
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
    if c.input.len() > 2 && !c.input[2].is_empty() {
        return Err(err(
            "has a bias; fold it into the thresholds (docs/model-format.md) and leave it out"
                .into(),
        ));
    }
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
    let (shape, data) = w.const_floats(ci, c, 1)?;
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
    let get = |o: usize, c: usize, ky: usize, kx: usize| {
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
    w.cur = w.output(ci, c)?.to_string();
    let activation = activation(w, o_n, "Conv")?;
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

/// [Mul by the directions] -> MultiThreshold, reading `w.cur` (the sum of `channels`).
fn activation(w: &mut Walk<'_>, channels: usize, after: &str) -> Result<Thresholds, ImportError> {
    let mut signs = vec![1.0; channels];
    let sum = w.cur.clone();
    let mut x = sum.clone();
    if let Some((mi, m)) = w.take_if("Mul", &sum) {
        let (_, d) = w.const_floats(mi, m, 1)?;
        if d.len() != channels || d.iter().any(|&v| v != 1.0 && v != -1.0) {
            return Err(w.node_err(mi, m, format!("multiplies by {} values; bnngen reads a Mul after {after} as the directions: +-1, one per channel", d.len())));
        }
        signs = d;
        x = w.output(mi, m)?.to_string();
    }
    let (ti, t) = w.expect("MultiThreshold", &x, after)?;
    let thr = bipolar_thresholds(w, ti, t, channels)?;
    w.cur = w.output(ti, t)?.to_string();
    // s * a >= thr: with s = 1, a >= ceil(thr); with s = -1, a <= floor(-thr).
    let mut out = Thresholds {
        thresholds: Vec::with_capacity(channels),
        directions: Vec::with_capacity(channels),
    };
    for (&s, &t) in signs.iter().zip(&thr) {
        let (v, d) = if s > 0.0 {
            (t.ceil(), Direction::Up)
        } else {
            ((-t).floor(), Direction::Down)
        };
        out.thresholds
            .push(v.clamp(-((1u64 << 40) as f64), (1u64 << 40) as f64) as i64);
        out.directions.push(d);
    }
    Ok(out)
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

/// Flatten -> MatMul, then Add (classifier) or an activation (dense).
fn dense(w: &mut Walk<'_>, cur: Shape) -> Result<Read, ImportError> {
    let (fi, f) = w.expect("Flatten", &w.cur.clone(), "the layer before")?;
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
    let (mi, m) = w.expect("MatMul", w.output(fi, f)?, "Flatten")?;
    let (shape, data) = w.const_floats(mi, m, 1)?;
    let k = cur.len();
    let [rows, o_n] = shape[..] else {
        return Err(w.node_err(
            mi,
            m,
            format!("has weights of shape {shape:?}; expected [inputs, outputs]"),
        ));
    };
    if rows != k || o_n == 0 {
        return Err(w.node_err(
            mi,
            m,
            format!("has {rows} weight rows for {k} inputs ({cur} flattened)"),
        ));
    }
    // Flatten of NCHW: row (c * H + y) * W + x.
    let (h, wd) = (cur.height, cur.width);
    let get = |o: usize, c: usize, y: usize, x: usize| data[((c * h + y) * wd + x) * o_n + o];
    let name = m.name.clone();
    let d = DenseWeights {
        out_channels: o_n,
        in_channels: cur.channels,
        kernel_h: h,
        kernel_w: wd,
        group: 1,
        get: &get,
    };
    let weights = block_weights(w, mi, m, &name, &d)?;
    let sum = w.output(mi, m)?.to_string();
    w.cur = sum.clone();
    let out = out_shape(1, 1, o_n);
    if let Some((ai, a)) = w.take_if("Add", &sum) {
        let (_, b) = w.const_floats(ai, a, 1)?;
        if b.len() != o_n
            || b.iter()
                .any(|v| v.fract() != 0.0 || v.abs() > (1u64 << 30) as f64)
        {
            return Err(w.node_err(ai, a, format!(
                "adds {} values; the classifier's bias is one integer per class (|b| <= 2^30). A non-integer or per-class scale cannot be expressed exactly",
                b.len()
            )));
        }
        w.cur = w.output(ai, a)?.to_string();
        let bias = b.iter().map(|&v| v as i64).collect();
        return Ok((
            name,
            LayerKind::Classifier(Classifier { weights, bias }),
            out,
        ));
    }
    let activation = activation(w, o_n, "MatMul")?;
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
