//! The classifier's scores: how the file's float scores map onto bnngen's integer ones.
//!
//! A file's classifier computes `m * a_k + b_k` per class k (`a_k` bnngen's integer sum, m
//! the input scale times the weight scale), possibly followed by a scalar normalization of
//! all scores, as FINN's TensorNorm exports (Sub mean, Div std, Mul weight, Add bias). bnngen
//! keeps the integer part: its scores are `a_k + b_k / m`, exactly when each `b_k / m` is an
//! integer; one positive scale and one offset shared by every class change no class, and
//! are returned as the [`ScoreMap`] (file score = scale x bnngen score + offset) instead of
//! being approximated in the model. A negative shared scale (a TensorNorm with a negative
//! weight) reverses the order of the classes; bnngen reads it exactly by flipping every
//! classifier weight, which negates each class's sum (`2 popcount - N` becomes
//! `N - 2 popcount`), so the map's scale stays positive.

use super::activation::Affine;
use super::proto::NodeProto;
use super::score_map::ScoreMap;
use super::walk::{ImportError, Walk};

/// How bnngen's classifier reproduces the file's scores.
pub(super) struct Scores {
    /// The integer bias of each class.
    pub bias: Vec<i64>,
    pub map: ScoreMap,
    /// Every classifier weight must be flipped (the file's shared scale is negative).
    pub flip: bool,
}

/// The classifier's integer bias and score map, after reading the scalar steps on its scores
/// (TensorNorm) that follow node `n` (index `i`, the MatMul or Gemm), whose sums map as
/// `affine`.
pub(super) fn read(
    w: &mut Walk<'_>,
    i: usize,
    n: &NodeProto,
    mut affine: Affine,
) -> Result<Scores, ImportError> {
    let offset = tensor_norm(w, &mut affine)?;
    let bias = integer_bias(w, i, n, &affine)?;
    let m = affine.k[0];
    Ok(Scores {
        bias,
        map: ScoreMap {
            scale: m.abs(),
            offset,
        },
        flip: m < 0.0,
    })
}

/// Sub, Add, Mul and Div of the scores by one-element constants, in any number and order
/// (TensorNorm exports as Sub -> Div -> Mul -> Add): the factors go into the scale and the
/// per-class bias, the terms into the shared offset, which is returned.
fn tensor_norm(w: &mut Walk<'_>, affine: &mut Affine) -> Result<f64, ImportError> {
    let mut offset = 0.0;
    while let Some((i, n)) = w.peek() {
        let op = n.op_type.as_str();
        if !matches!(op, "Sub" | "Add" | "Mul" | "Div") || !n.domain.is_empty() {
            break;
        }
        // The constant operand: second for Sub and Div, either for Add and Mul.
        let k = match n.input.iter().position(|x| *x == w.cur) {
            Some(0) => 1,
            Some(1) if matches!(op, "Add" | "Mul") => 0,
            _ => break,
        };
        let Some(c) = scalar(w, i, n, k)? else { break };
        match op {
            "Sub" => offset -= c,
            "Add" => offset += c,
            _ => {
                let f = if op == "Mul" { c } else { 1.0 / c };
                if !(f != 0.0 && f.is_finite()) {
                    return Err(w.node_err(i, n, format!(
                        "scales the classifier's scores by {f}; bnngen reads a finite, non-zero scale"
                    )));
                }
                affine.k.iter_mut().for_each(|k| *k *= f);
                affine.c.iter_mut().for_each(|c| *c *= f);
                offset *= f;
            }
        }
        w.take(i);
        w.cur = w.output(i, n)?.to_string();
    }
    Ok(offset)
}

/// Input `k` of node `n` when it is a one-element float constant.
fn scalar(w: &Walk<'_>, i: usize, n: &NodeProto, k: usize) -> Result<Option<f64>, ImportError> {
    let is_const = n.input.get(k).is_some_and(|x| w.consts.contains_key(x));
    if !is_const {
        return Ok(None);
    }
    let (_, v) = w.const_floats(i, n, k)?;
    Ok(match v.as_slice() {
        [c] => Some(*c),
        _ => None,
    })
}

/// The classifier's integer bias: its scores are `m * a + b_k` with one scale m for every
/// class, so bnngen's scores are the file's divided by |m| (with the sums negated when m is
/// negative), exactly when every `b_k / |m|` is an integer (within 1e-9 relative).
fn integer_bias(
    w: &Walk<'_>,
    i: usize,
    n: &NodeProto,
    affine: &Affine,
) -> Result<Vec<i64>, ImportError> {
    let m = affine.k[0];
    if affine.k.iter().any(|&k| k != m) || !(m != 0.0 && m.is_finite()) {
        return Err(w.node_err(i, n, "scales the classes' scores differently (or by zero); bnngen's scores share one scale, so a per-class scale cannot be expressed exactly".into()));
    }
    let m = m.abs();
    let mut out = Vec::with_capacity(affine.c.len());
    for (k, &b) in affine.c.iter().enumerate() {
        let q = b / m;
        let r = q.round();
        if (q - r).abs() > 1e-9 * q.abs().max(1.0) || r.abs() > (1u64 << 30) as f64 {
            return Err(w.node_err(i, n, format!(
                "gives class {k} the bias {b} at score scale {m}: {q} is not an integer (|b| <= 2^30), so the classifier's bias cannot be expressed exactly"
            )));
        }
        out.push(r as i64);
    }
    Ok(out)
}
