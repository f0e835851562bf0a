//! Import of the front end: the node pattern that turns the pixel input into +-1 planes.
//!
//! - Gather (channel c repeated P times, plane k of channel c at c * P + k) -> MultiThreshold
//!   with one threshold per plane: a thermometer (`v >= t` is `v >= ceil(t)` for integer
//!   pixels). Without the Gather, a MultiThreshold of one threshold per channel is M = 1.
//! - Gather -> Div by 2^k -> Floor -> Mod 2 -> MultiThreshold (a threshold in (0, 1]): the
//!   natural-binary code, bit k of each pixel.

use super::import::{attr, ImportError, Walk};
use super::keys;
use super::proto::NodeProto;
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
