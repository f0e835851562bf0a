//! Import of the front end: the node pattern that turns the pixel input into +-1 planes.
//!
//! - Gather (channel c repeated P times, plane k of channel c at c * P + k) -> MultiThreshold
//!   with one threshold per plane: a thermometer (`v >= t` is `v >= ceil(t)` for integer
//!   pixels). Without the Gather, a MultiThreshold of one threshold per channel is M = 1.
//! - Gather -> Div by 2^k -> Floor -> Mod 2 -> MultiThreshold (a threshold in (0, 1]): the
//!   natural-binary code, bit k of each pixel.
//! - Brevitas' 1-bit input quantizer: Div, Mul, Sub or Add by scalar constants on the pixels
//!   -> BipolarQuant. Read as M = 1, its pixel threshold found by evaluating the chain on
//!   every pixel code (see [`input_quantizer`]).

use super::keys;
use super::proto::NodeProto;
use super::walk::{attr, ImportError, Walk};
use crate::model::{uniform_thresholds, FrontEnd, InputSpec, Thermometer, ThermometerKind};

/// Read the front end reading graph input `input_name`; sets `input.bits` for the binary
/// code when the bit depth was not given.
pub(super) fn read(
    w: &mut Walk<'_>,
    input_name: &str,
    input: &mut InputSpec,
    bits_given: bool,
) -> Result<FrontEnd, ImportError> {
    let c = input.channels;
    if let Some((_, n)) = w.peek() {
        let compares = n.op_type == "GreaterOrEqual" || n.op_type == "Greater";
        if compares && n.input.first().map(String::as_str) == Some(input_name) {
            return comparisons(w, input_name, input);
        }
    }
    if let Some((_, n)) = w.peek() {
        let scales = matches!(n.op_type.as_str(), "Div" | "Mul" | "Sub" | "Add");
        if (scales || n.op_type == "BipolarQuant") && n.input.contains(&input_name.to_string()) {
            return input_quantizer(w, input_name, input);
        }
    }
    if let Some((i, mt)) = w.take_if("MultiThreshold", input_name) {
        let thr = bipolar_thresholds(w, i, mt, c)?;
        w.cur = w.output(i, mt)?.to_string();
        return thermometer(w, input, 1, &thr);
    }
    let (gi, gather) = w.expect(
        "Gather",
        input_name,
        "the graph input (the front end: Gather or MultiThreshold)",
    )?;
    let axis = attr::int(gather, "axis")
        .map_err(|e| w.node_err(gi, gather, e))?
        .unwrap_or(0);
    if axis != 1 {
        return Err(w.node_err(
            gi,
            gather,
            format!("gathers along axis {axis}; the front end repeats channels (axis 1)"),
        ));
    }
    let (_, idx) = w.const_ints(gi, gather, 1)?;
    if idx.is_empty() || idx.len() % c != 0 || idx.len() / c > 255 {
        return Err(w.node_err(
            gi,
            gather,
            format!(
                "has {} indices; expected P planes (1..=255) for each of the {c} channels",
                idx.len()
            ),
        ));
    }
    let planes = idx.len() / c;
    if idx
        .iter()
        .enumerate()
        .any(|(j, &v)| v != (j / planes) as i64)
    {
        return Err(w.node_err(gi, gather, format!("indices are not each channel repeated {planes} times in order (plane k of channel c at c * {planes} + k)")));
    }
    let gathered = w.output(gi, gather)?;
    if let Some((i, mt)) = w.take_if("MultiThreshold", gathered) {
        let thr = bipolar_thresholds(w, i, mt, idx.len())?;
        w.cur = w.output(i, mt)?.to_string();
        return thermometer(w, input, planes, &thr);
    }
    // The natural-binary code.
    let (di, div) = w.expect("Div", gathered, "the front end's Gather")?;
    let (_, pow) = w.const_floats(di, div, 1)?;
    let want: Vec<f64> = (0..idx.len())
        .map(|j| (1u64 << (j % planes).min(62)) as f64)
        .collect();
    if pow != want {
        return Err(w.node_err(
            di,
            div,
            format!("divisors are not 2^k for plane k of {planes} planes per channel"),
        ));
    }
    let (fi, floor) = w.expect("Floor", w.output(di, div)?, "the front end's Div")?;
    let (mi, modulo) = w.expect("Mod", w.output(fi, floor)?, "the front end's Floor")?;
    let (_, two) = w.const_floats(mi, modulo, 1)?;
    if two != [2.0] {
        return Err(w.node_err(
            mi,
            modulo,
            format!("takes the remainder by {two:?}; expected 2 (the bit)"),
        ));
    }
    let (ti, mt) = w.expect(
        "MultiThreshold",
        w.output(mi, modulo)?,
        "the front end's Mod",
    )?;
    let thr = bipolar_thresholds(w, ti, mt, idx.len())?;
    if thr.iter().any(|&t| !(t > 0.0 && t <= 1.0)) {
        return Err(w.node_err(
            ti,
            mt,
            "thresholds of the bit planes must lie in (0, 1] so that a plane is its bit".into(),
        ));
    }
    if bits_given && input.bits as usize != planes {
        return Err(w.node_err(
            gi,
            gather,
            format!(
                "the binary code has {planes} planes but --bits is {}",
                input.bits
            ),
        ));
    }
    input.bits = planes as u32;
    w.cur = w.output(ti, mt)?.to_string();
    Ok(FrontEnd::Binary)
}

/// A thermometer written as comparisons: one GreaterOrEqual (or Greater) of the input with a
/// scalar constant per plane, each [-> Cast to float], -> Concat (axis 1, planes in order)
/// -> Mul 2 -> Sub 1 (or Add -1). Every channel is compared with the same thresholds. Concat
/// puts planes outermost (plane k of channel c at k * C + c), which is bnngen's order
/// (c * M + k) only for a single input channel; for several, the next weighted layer reads
/// its input channels in that order (`layers::file_channel`).
fn comparisons(
    w: &mut Walk<'_>,
    input_name: &str,
    input: &InputSpec,
) -> Result<FrontEnd, ImportError> {
    let mut planes: Vec<String> = Vec::new();
    let mut thr: Vec<f64> = Vec::new();
    while let Some((i, n)) = w.peek() {
        let reads = |name: &str| n.input.first().map(String::as_str) == Some(name);
        if (n.op_type == "GreaterOrEqual" || n.op_type == "Greater") && reads(input_name) {
            let (i, n) = w.take_if(&n.op_type, input_name).expect("peeked");
            let (_, t) = w.const_floats(i, n, 1)?;
            let [t] = t[..] else {
                return Err(w.node_err(
                    i,
                    n,
                    format!(
                        "compares with {} values; bnngen reads one threshold per comparison",
                        t.len()
                    ),
                ));
            };
            if !t.is_finite() {
                return Err(w.node_err(i, n, format!("compares with {t}")));
            }
            // For integer pixels, v > t is v >= floor(t) + 1.
            thr.push(if n.op_type == "Greater" {
                t.floor() + 1.0
            } else {
                t
            });
            planes.push(w.output(i, n)?.to_string());
        } else if n.op_type == "Cast" && planes.iter().any(|p| reads(p)) {
            let src = n.input[0].clone();
            let (i, n) = w.take_if("Cast", &src).expect("peeked");
            if attr::int(n, "to").map_err(|e| w.node_err(i, n, e))? != Some(1) {
                return Err(w.node_err(
                    i,
                    n,
                    "casts a comparison to a type other than float (1)".into(),
                ));
            }
            let k = planes.iter().position(|p| *p == src).expect("found above");
            planes[k] = w.output(i, n)?.to_string();
        } else {
            let _ = i;
            break;
        }
    }
    let (ci, concat) = w.expect("Concat", &planes[0], "the comparisons")?;
    if concat.input != planes
        || attr::int(concat, "axis").map_err(|e| w.node_err(ci, concat, e))? != Some(1)
    {
        return Err(w.node_err(
            ci,
            concat,
            "does not concatenate exactly the comparisons, in order, along axis 1".into(),
        ));
    }
    let (mi, mul) = w.expect("Mul", w.output(ci, concat)?, "Concat")?;
    let (si, sub) = match w.take_if("Sub", w.output(mi, mul)?) {
        Some(t) => t,
        None => w.expect("Add", w.output(mi, mul)?, "Mul")?,
    };
    let (_, two) = w.const_floats(mi, mul, 1)?;
    let (_, one) = w.const_floats(si, sub, 1)?;
    let minus_one = if sub.op_type == "Sub" {
        one == [1.0]
    } else {
        one == [-1.0]
    };
    if two != [2.0] || !minus_one {
        return Err(w.node_err(si, sub, "maps the comparisons' 0 / 1 other than to -1 / +1 (expected Mul 2, then Sub 1 or Add -1)".into()));
    }
    w.cur = w.output(si, sub)?.to_string();
    let levels = thr.len();
    if levels > 255 {
        return Err(w.node_err(
            ci,
            concat,
            format!("concatenates {levels} planes; bnngen's thermometer has at most 255"),
        ));
    }
    if input.channels > 1 {
        w.planes_outermost = Some((input.channels, levels));
    }
    // Every channel is compared with the same thresholds.
    thermometer(w, input, levels, &thr.repeat(input.channels))
}

/// One step of an input quantizer's scaling: `op` with a scalar constant, which is the
/// first operand when `const_first`.
struct Step {
    op: String,
    value: f32,
    const_first: bool,
}

impl Step {
    fn apply<T>(&self, x: T, c: T) -> T
    where
        T: std::ops::Div<Output = T>
            + std::ops::Mul<Output = T>
            + std::ops::Sub<Output = T>
            + std::ops::Add<Output = T>,
    {
        let (a, b) = if self.const_first { (c, x) } else { (x, c) };
        match self.op.as_str() {
            "Div" => a / b,
            "Mul" => a * b,
            "Sub" => a - b,
            _ => a + b,
        }
    }
}

/// Brevitas' 1-bit input quantizer: Div, Mul, Sub or Add by scalar constants on the pixel
/// codes (for example `x / 255 * 2 - 1`) -> BipolarQuant (one scale s > 0; +s where its
/// input is >= 0). That is a 1-plane thermometer (M = 1) whose threshold is the least pixel
/// code that gives +s. The chain is evaluated on every code 0..2^B - 1 twice, in float32 as
/// ONNX executors compute it and in double precision; the import is refused when the two
/// disagree on any code (a code within rounding of the threshold) or when the codes that
/// give +s are not all those from one code up.
fn input_quantizer(
    w: &mut Walk<'_>,
    input_name: &str,
    input: &InputSpec,
) -> Result<FrontEnd, ImportError> {
    let mut steps: Vec<Step> = Vec::new();
    let mut x = input_name.to_string();
    while let Some((_, n)) = w.peek() {
        if !matches!(n.op_type.as_str(), "Div" | "Mul" | "Sub" | "Add") || !n.input.contains(&x) {
            break;
        }
        let (i, n) = w.take_if(&n.op_type, &n.input[0].clone()).expect("peeked");
        let const_first = n.input.get(1) == Some(&x);
        let (_, v) = w.const_floats(i, n, usize::from(!const_first))?;
        let [value] = v[..] else {
            return Err(w.node_err(i, n, format!(
                "scales the input by {} values; bnngen reads an input quantizer whose scaling is one scalar per step",
                v.len()
            )));
        };
        steps.push(Step {
            op: n.op_type.clone(),
            value: value as f32,
            const_first,
        });
        x = w.output(i, n)?.to_string();
    }
    let (qi, q) = w.expect(
        "BipolarQuant",
        &x,
        "the input's scaling (the input quantizer: Div, Mul, Sub, Add by scalars -> BipolarQuant)",
    )?;
    let (_, s) = w.const_floats(qi, q, 1)?;
    if s.len() != 1 || !(s[0] > 0.0 && s[0].is_finite()) {
        return Err(w.node_err(
            qi,
            q,
            format!("has scale {s:?}; bnngen reads one positive scale for the input quantizer"),
        ));
    }
    let codes = 1u32 << input.bits;
    let fires = |v: u32| -> (bool, bool) {
        let (mut a, mut b) = (v as f32, f64::from(v));
        for st in &steps {
            a = st.apply(a, st.value);
            b = st.apply(b, f64::from(st.value));
        }
        (a >= 0.0, b >= 0.0)
    };
    let mut first = None;
    for v in 0..codes {
        let (f32_fires, exact_fires) = fires(v);
        if f32_fires != exact_fires {
            return Err(w.node_err(qi, q, format!(
                "quantizes pixel code {v} to {} in float32 but to {} in exact arithmetic: the threshold lies within float rounding of a pixel code, so the input bit is not defined exactly",
                if f32_fires { "+1" } else { "-1" },
                if exact_fires { "+1" } else { "-1" }
            )));
        }
        match (f32_fires, first) {
            (true, None) => first = Some(v),
            (false, Some(t)) => {
                return Err(w.node_err(qi, q, format!(
                    "gives +1 for pixel code {t} but -1 for code {v}; bnngen's input bit is +1 from one code up (a thermometer), so the scaling must increase with the pixel"
                )))
            }
            _ => {}
        }
    }
    w.cur = w.output(qi, q)?.to_string();
    w.scale = s[0];
    let t = f64::from(first.unwrap_or(codes));
    thermometer(w, input, 1, &vec![t; input.channels])
}

/// A thermometer of `levels` planes per channel from the per-plane thresholds.
fn thermometer(
    w: &Walk<'_>,
    input: &InputSpec,
    levels: usize,
    thr: &[f64],
) -> Result<FrontEnd, ImportError> {
    let lists: Vec<Vec<u32>> = thr
        .chunks(levels)
        .map(|ch| {
            ch.iter()
                .map(|&t| t.ceil().clamp(0.0, f64::from(u32::MAX)) as u32)
                .collect()
        })
        .collect();
    let all_same = lists.iter().all(|l| *l == lists[0]);
    let hint = w.meta.get(keys::FRONT_END).copied();
    let uniform = all_same && lists[0] == uniform_thresholds(levels, input.bits);
    let (kind, shared) = match hint {
        Some("uniform") if uniform => (ThermometerKind::Uniform, true),
        Some("glt") => (ThermometerKind::Glt, false),
        _ => (ThermometerKind::Glt, all_same),
    };
    Ok(FrontEnd::Thermometer(Thermometer {
        kind,
        levels,
        shared,
        thresholds: lists,
    }))
}

/// The thresholds of a MultiThreshold that maps to +-1 (out_scale 2, out_bias -1, one
/// threshold per channel or one for all), repeated to `channels` values.
pub(super) fn bipolar_thresholds(
    w: &Walk<'_>,
    i: usize,
    n: &NodeProto,
    channels: usize,
) -> Result<Vec<f64>, ImportError> {
    let err = |m: String| w.node_err(i, n, m);
    if !Walk::is_qonnx(n) {
        return Err(err(format!(
            "is in domain `{}`; MultiThreshold is QONNX's (qonnx.custom_op.general)",
            n.domain
        )));
    }
    attr::only(n, &["out_dtype", "out_scale", "out_bias", "data_layout"]).map_err(err)?;
    let scale = attr::float(n, "out_scale").map_err(err)?.unwrap_or(1.0);
    let bias = attr::float(n, "out_bias").map_err(err)?.unwrap_or(0.0);
    if (scale, bias) != (2.0, -1.0) {
        return Err(err(format!(
            "maps to {bias} and {} (out_scale {scale}, out_bias {bias}); bnngen's activations are +-1: out_scale 2, out_bias -1",
            scale + bias
        )));
    }
    let layout = attr::string(n, "data_layout")
        .map_err(err)?
        .unwrap_or_else(|| "NCHW".into());
    if layout != "NCHW" && layout != "NC" {
        return Err(err(format!(
            "has data_layout {layout}; bnngen reads channels-first (NCHW) graphs"
        )));
    }
    let (shape, thr) = w.const_floats(i, n, 1)?;
    let steps = shape.get(1).copied().unwrap_or(1);
    if shape.len() != 2 || steps != 1 {
        return Err(err(format!(
            "has thresholds of shape {shape:?}: {steps} thresholds per channel make a {}-level activation; bnngen's activations are 1 bit (one threshold per channel)",
            steps + 1
        )));
    }
    if let Some(t) = thr.iter().find(|t| !t.is_finite()) {
        return Err(err(format!(
            "has a threshold {t}; thresholds must be finite"
        )));
    }
    match thr.len() {
        1 => Ok(vec![thr[0]; channels]),
        k if k == channels => Ok(thr),
        k => Err(err(format!("has {k} thresholds for {channels} channels"))),
    }
}
