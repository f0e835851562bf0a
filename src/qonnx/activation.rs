//! Import of activations: what turns a layer's sum into the next +-1 tensor, folded into
//! bnngen's integer threshold and direction per channel.
//!
//! Before the activation, channel o holds `v_o = k_o * a + c_o`, with `a` bnngen's integer
//! sum, `k_o` the product of the input's scale and the weights' scale, and `c_o` a bias (both
//! 1 and 0 in bnngen's own export). Two patterns follow:
//! - [Mul by +-1 per channel] -> MultiThreshold (out_scale 2, out_bias -1): `d * v >= thr`;
//! - BatchNormalization -> BipolarQuant, or a 1-bit signed IntQuant at zero point 0 (scale
//!   s > 0, +s when its input is >= 0):
//!   `gamma * (v - mean) / sqrt(var + eps) + beta >= 0`; the output's scale s goes on to the
//!   next layer.
//!
//! Either is `K * a + C >= 0` per channel, folded as docs/model-format.md prescribes: with
//! `tau = -C / K` in double precision, snapped to an integer n when `|tau - n| <= 1e-9 *
//! max(1, |tau|)`, `K > 0` gives `a >= ceil(tau)` (direction 1), `K < 0` gives
//! `a <= floor(tau)` (direction -1), and `K = 0` (or `tau` not finite) a constant output,
//! written as a threshold no sum reaches: `-(N_max + 1)` for 1, `N_max + 1` for 0.

use super::front_end::bipolar_thresholds;
use super::proto::NodeProto;
use super::walk::{attr, ImportError, Walk};
use crate::model::{Direction, Thresholds};

/// `v_o = k[o] * a + c[o]` for each channel o of a layer's sum.
pub(super) struct Affine {
    pub k: Vec<f64>,
    pub c: Vec<f64>,
}

/// Largest threshold magnitude kept as it is; beyond it (where no sum reaches anyway) the
/// threshold is written as `N_max + 1` (the model format's limit is 2^30).
const THRESHOLD_MAX: f64 = (1u64 << 30) as f64;

/// Read the activation reading `w.cur` (a sum of `affine.k.len()` channels) after node kind
/// `after`; `n_max` bounds |a|.
pub(super) fn read(
    w: &mut Walk<'_>,
    after: &str,
    affine: &Affine,
    n_max: i64,
) -> Result<Thresholds, ImportError> {
    let channels = affine.k.len();
    let sum = w.cur.clone();
    if let Some((bi, bn)) = w.take_if("BatchNormalization", &sum) {
        let err = |m: String| w.node_err(bi, bn, m);
        attr::only(bn, &["epsilon", "momentum", "training_mode"]).map_err(err)?;
        if attr::int(bn, "training_mode").map_err(err)?.unwrap_or(0) != 0 {
            return Err(err(
                "is in training mode; export the network for inference".into()
            ));
        }
        let eps = f64::from(attr::float(bn, "epsilon").map_err(err)?.unwrap_or(1e-5));
        let mut p = Vec::with_capacity(4);
        for k in 1..=4 {
            let (_, v) = w.const_floats(bi, bn, k)?;
            if v.len() != channels {
                return Err(err(format!(
                    "input {k} has {} values for {channels} channels",
                    v.len()
                )));
            }
            p.push(v);
        }
        let (gamma, beta, mean, var) = (&p[0], &p[1], &p[2], &p[3]);
        let bad = p.iter().flatten().any(|v| !v.is_finite()) || var.iter().any(|&v| v + eps <= 0.0);
        if bad {
            return Err(err(
                "has a parameter that is not finite, or var + epsilon <= 0".into(),
            ));
        }
        let normed = w.output(bi, bn)?;
        let (qi, q) = match one_bit_int_quant(w, normed)? {
            Some(t) => t,
            None => {
                refuse_int_quant(w, normed)?;
                w.expect("BipolarQuant", normed, "BatchNormalization")?
            }
        };
        let (_, s) = w.const_floats(qi, q, 1)?;
        if s.len() != 1 || !(s[0] > 0.0 && s[0].is_finite()) {
            return Err(w.node_err(
                qi,
                q,
                format!("has scale {s:?}; bnngen reads one positive scale for an activation"),
            ));
        }
        w.cur = w.output(qi, q)?.to_string();
        w.scale = s[0];
        let mut out = empty(channels);
        for o in 0..channels {
            let sigma = (var[o] + eps).sqrt();
            let kk = gamma[o] * affine.k[o] / sigma;
            let cc = gamma[o] * (affine.c[o] - mean[o]) / sigma + beta[o];
            push(&mut out, kk, cc, n_max);
        }
        return Ok(out);
    }
    let mut signs = vec![1.0; channels];
    let mut x = sum.clone();
    if let Some((mi, m)) = w.take_if("Mul", &sum) {
        let (_, d) = w.const_floats(mi, m, 1)?;
        if d.len() != channels || d.iter().any(|&v| v != 1.0 && v != -1.0) {
            return Err(w.node_err(mi, m, format!(
                "multiplies by {} values; bnngen reads a Mul after {after} as the directions: +-1, one per channel",
                d.len()
            )));
        }
        signs = d;
        x = w.output(mi, m)?.to_string();
    }
    refuse_int_quant(w, &x)?;
    let (ti, t) = w.expect(
        "MultiThreshold",
        &x,
        &format!("{after} (an activation: MultiThreshold, or BatchNormalization -> BipolarQuant)"),
    )?;
    let thr = bipolar_thresholds(w, ti, t, channels)?;
    w.cur = w.output(ti, t)?.to_string();
    w.scale = 1.0;
    let mut out = empty(channels);
    for o in 0..channels {
        // d * (k a + c) >= thr
        let kk = signs[o] * affine.k[o];
        let cc = signs[o] * affine.c[o] - thr[o];
        push(&mut out, kk, cc, n_max);
    }
    Ok(out)
}

/// Take a 1-bit IntQuant (or Quant) reading `x`, checked to give +-scale as BipolarQuant
/// does (signed, zero point 0: qonnx computes it as the sign of x / scale).
fn one_bit_int_quant<'a>(
    w: &mut Walk<'a>,
    x: &str,
) -> Result<Option<(usize, &'a NodeProto)>, ImportError> {
    let Some((i, n)) = w.peek() else {
        return Ok(None);
    };
    let int_quant = matches!(n.op_type.as_str(), "IntQuant" | "Quant") && Walk::is_qonnx(n);
    if !int_quant || n.input.first().map(String::as_str) != Some(x) {
        return Ok(None);
    }
    if w.const_floats(i, n, 3).ok().map(|(_, b)| b) != Some(vec![1.0]) {
        return Ok(None);
    }
    w.bipolar_int_quant(i, n)?;
    w.take(i);
    Ok(Some((i, n)))
}

/// Refuse an integer quantizer (IntQuant, or Quant as Brevitas writes it) reading `x` as a
/// layer's activation, naming its bit width: a multi-level activation is outside the format.
fn refuse_int_quant(w: &mut Walk<'_>, x: &str) -> Result<(), ImportError> {
    let Some((i, n)) = w.peek() else {
        return Ok(());
    };
    let int_quant = matches!(n.op_type.as_str(), "IntQuant" | "Quant") && Walk::is_qonnx(n);
    if !int_quant || n.input.first().map(String::as_str) != Some(x) {
        return Ok(());
    }
    let bits = w
        .const_floats(i, n, 3)
        .ok()
        .and_then(|(_, b)| b.first().copied());
    let what = match bits {
        Some(1.0) => "is a 1-bit IntQuant, which bnngen does not read".into(),
        Some(b) if b.fract() == 0.0 && (2.0..=32.0).contains(&b) => format!(
            "quantizes the activation to {b} bits ({} levels)",
            2f64.powf(b)
        ),
        _ => "quantizes the activation to a multi-bit integer".into(),
    };
    Err(w.node_err(i, n, format!(
        "{what}; bnngen's activations are 1 bit (+-1): quantize with BipolarQuant (in Brevitas a binary act_quant, e.g. SignedBinaryActPerTensorConst)"
    )))
}

fn empty(channels: usize) -> Thresholds {
    Thresholds {
        thresholds: Vec::with_capacity(channels),
        directions: Vec::with_capacity(channels),
    }
}

/// Fold `kk * a + cc >= 0` into a threshold and direction (see the module doc).
fn push(out: &mut Thresholds, kk: f64, cc: f64, n_max: i64) {
    let never = n_max + 1;
    let tau = -cc / kk;
    let (t, d) = if kk == 0.0 || !tau.is_finite() {
        (if cc >= 0.0 { -never } else { never }, Direction::Up)
    } else {
        let n = tau.round();
        let tau = if (tau - n).abs() <= 1e-9 * tau.abs().max(1.0) {
            n
        } else {
            tau
        };
        let (v, d) = if kk > 0.0 {
            (tau.ceil(), Direction::Up)
        } else {
            (tau.floor(), Direction::Down)
        };
        if v.abs() > THRESHOLD_MAX {
            (if v > 0.0 { never } else { -never }, d)
        } else {
            (v as i64, d)
        }
    };
    out.thresholds.push(t);
    out.directions.push(d);
}
