//! The importer's walk state, shared by the readers of each node pattern (`front_end.rs`,
//! `layers.rs`, `activation.rs`, `blocks.rs`) and by the driver that calls them
//! (`import.rs`): the position in the node list, the current tensor and its scale, the
//! constants, the error type, and attribute lookups. In a file of its own so that the driver
//! and the readers depend on it, not on each other.

use std::collections::HashMap;

use super::proto::{attribute_type, NodeProto, TensorProto};
use super::score_map::ScoreMap;
use super::{tensor, FINN_DOMAIN, QONNX_DOMAIN};
use crate::model::{ModelErrors, Shape};

/// Why a file cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: not an ONNX model (protobuf decoding failed: {message})")]
    Decode { file: String, message: String },
    /// A problem of the graph as a whole (inputs, outputs, opsets).
    #[error("{file}: {message}")]
    Graph { file: String, message: String },
    /// A node outside the supported subset.
    #[error("{file}: node {index} ({name}, {op_type}): {message}")]
    Node {
        file: String,
        index: usize,
        name: String,
        op_type: String,
        message: String,
    },
    /// The graph maps onto a model that the model format rejects.
    #[error("{file}: the imported model is not valid:\n{errors}")]
    Model { file: String, errors: ModelErrors },
}

/// Weights read from a file: shape, values (+-1 or 0), and their scales (one, or one per
/// output channel).
pub(super) type WeightTensor = (Vec<usize>, Vec<f64>, Vec<f64>);

/// The walk over the node list: position, current tensor, constants, metadata.
pub(super) struct Walk<'a> {
    pub file: &'a str,
    nodes: &'a [NodeProto],
    pos: usize,
    pub consts: HashMap<String, &'a TensorProto>,
    pub meta: &'a HashMap<&'a str, &'a str>,
    /// The tensor the next layer reads.
    pub cur: String,
    /// Output tensor of each layer read so far.
    pub outputs: Vec<String>,
    /// The scale of `cur`: its values are +-scale (1 but after a scaled BipolarQuant).
    pub scale: f64,
    /// The scale of each layer's output.
    pub out_scales: Vec<f64>,
    /// BipolarQuant nodes of constant weights, by output: read with their Conv or MatMul.
    weight_quants: HashMap<String, usize>,
    /// How the file's scores map onto bnngen's, once the classifier is read.
    pub score_map: Option<ScoreMap>,
    /// The planes of a C-channel input made by comparisons and Concat come plane-major
    /// (plane k of channel c at k * C + c) while bnngen's are channel-major (c * M + k):
    /// `Some((C, M))` until the first weighted layer has read its inputs in bnngen's order.
    pub planes_outermost: Option<(usize, usize)>,
}

impl<'a> Walk<'a> {
    pub(super) fn new(
        file: &'a str,
        nodes: &'a [NodeProto],
        inits: &'a [TensorProto],
        meta: &'a HashMap<&'a str, &'a str>,
    ) -> Result<Self, ImportError> {
        let mut consts: HashMap<String, &TensorProto> =
            inits.iter().map(|t| (t.name.clone(), t)).collect();
        // Constant nodes are constants too; the walk skips them.
        for n in nodes
            .iter()
            .filter(|n| n.op_type == "Constant" && n.domain.is_empty())
        {
            if let (Some(out), Some(t)) = (
                n.output.first(),
                n.attribute
                    .iter()
                    .find(|a| a.name == "value")
                    .and_then(|a| a.t.as_ref()),
            ) {
                consts.insert(out.clone(), t);
            }
        }
        // BipolarQuant (or IntQuant) of constants (weights, scale) is a constant too, read as
        // +-1 weights and a scale by the layer that uses it; the walk skips it.
        let weight_quants = nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                let op = n.op_type.as_str();
                matches!(op, "BipolarQuant" | "IntQuant" | "Quant") && Walk::is_qonnx(n)
            })
            .filter(|(_, n)| n.input.iter().all(|i| consts.contains_key(i)))
            .filter_map(|(k, n)| Some((n.output.first()?.clone(), k)))
            .collect();
        Ok(Walk {
            file,
            nodes,
            pos: 0,
            consts,
            meta,
            cur: String::new(),
            outputs: Vec::new(),
            scale: 1.0,
            out_scales: Vec::new(),
            weight_quants,
            score_map: None,
            planes_outermost: None,
        })
    }

    /// The next node that is not a Constant, with its index.
    pub fn peek(&mut self) -> Option<(usize, &'a NodeProto)> {
        while let Some(n) = self.nodes.get(self.pos) {
            let weight_quant = n.output.first().and_then(|o| self.weight_quants.get(o));
            if (n.op_type == "Constant" && n.domain.is_empty()) || weight_quant == Some(&self.pos) {
                self.pos += 1;
                continue;
            }
            return Some((self.pos, n));
        }
        None
    }

    /// Take node `index`, the one [`Walk::peek`] returned.
    pub fn take(&mut self, index: usize) {
        self.pos = index + 1;
    }

    /// Take the next node when it is `op_type` (in the standard or QONNX domain) and reads
    /// `input` as its first input.
    pub fn take_if(&mut self, op_type: &str, input: &str) -> Option<(usize, &'a NodeProto)> {
        let (i, n) = self.peek()?;
        if n.op_type == op_type && n.input.first().map(String::as_str) == Some(input) {
            self.pos += 1;
            Some((i, n))
        } else {
            None
        }
    }

    /// Take the next node, which must be `op_type` reading `input`; `after` says what came
    /// before, for the error.
    pub fn expect(
        &mut self,
        op_type: &str,
        input: &str,
        after: &str,
    ) -> Result<(usize, &'a NodeProto), ImportError> {
        if let Some(t) = self.take_if(op_type, input) {
            return Ok(t);
        }
        match self.peek() {
            Some((i, n)) => Err(self.node_err(
                i,
                n,
                format!("expected {op_type} reading `{input}` after {after}"),
            )),
            None => Err(ImportError::Graph {
                file: self.file.into(),
                message: format!("the graph ends after {after}; expected {op_type}"),
            }),
        }
    }

    pub fn node_err(&self, index: usize, n: &NodeProto, message: String) -> ImportError {
        ImportError::Node {
            file: self.file.into(),
            index,
            name: n.name.clone(),
            op_type: n.op_type.clone(),
            message,
        }
    }

    /// The only output of node `n`.
    pub fn output(&self, index: usize, n: &'a NodeProto) -> Result<&'a str, ImportError> {
        match n.output.as_slice() {
            [o] => Ok(o),
            _ => Err(self.node_err(
                index,
                n,
                format!("has {} outputs; expected 1", n.output.len()),
            )),
        }
    }

    /// Input `k` of node `n` as a float constant: (shape, values).
    pub fn const_floats(
        &self,
        index: usize,
        n: &NodeProto,
        k: usize,
    ) -> Result<(Vec<usize>, Vec<f64>), ImportError> {
        let t = self.const_input(index, n, k)?;
        tensor::floats(t)
            .map_err(|e| self.node_err(index, n, format!("input {k} `{}` {e}", t.name)))
    }

    /// Input `k` of node `n` as weights: a float constant, or BipolarQuant of one, or a
    /// 1-bit signed IntQuant of one at zero point 0 (both +1 where value / scale >= 0 in
    /// float32, else -1, as qonnx computes them). Returns (shape, values, scales: one, or one
    /// per output channel along `channel_axis` of the weights).
    pub fn weights(
        &self,
        index: usize,
        n: &NodeProto,
        k: usize,
        channel_axis: usize,
    ) -> Result<WeightTensor, ImportError> {
        let name = n.input.get(k).map(String::as_str).unwrap_or_default();
        let Some(&qi) = self.weight_quants.get(name) else {
            let (shape, v) = self.const_floats(index, n, k)?;
            return Ok((shape, v, vec![1.0]));
        };
        let q = &self.nodes[qi];
        if q.op_type != "BipolarQuant" {
            self.bipolar_int_quant(qi, q)?;
        }
        let (shape, v) = self.const_floats(qi, q, 0)?;
        let (sshape, s) = self.const_floats(qi, q, 1)?;
        let channels = shape.get(channel_axis).copied().unwrap_or(0);
        let per_channel = s.len() == channels
            && sshape
                .iter()
                .enumerate()
                .all(|(a, &d)| a == channel_axis || d == 1);
        if !(s.len() == 1 || per_channel) || s.iter().any(|&x| !(x > 0.0 && x.is_finite())) {
            return Err(self.node_err(qi, q, format!(
                "has scale of shape {sshape:?}; bnngen reads one positive scale, or one per output channel"
            )));
        }
        // The scale of element e: its channel's, when there is one per channel.
        let stride: usize = shape.iter().skip(channel_axis + 1).product();
        let scale_of = |e: usize| {
            s[if s.len() == 1 {
                0
            } else {
                e / stride % channels
            }]
        };
        let signs = v
            .iter()
            .enumerate()
            .map(|(e, &x)| {
                let y = x as f32 / scale_of(e) as f32;
                if y >= 0.0 {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect();
        Ok((shape, signs, s))
    }

    /// Refuse an IntQuant (or Quant) of weights or of an activation unless it gives +-scale:
    /// bit width 1, signed, zero point 0. qonnx computes a signed 1-bit IntQuant as +1 where value / scale + zero
    /// point >= 0, else -1, then subtracts the zero point and multiplies by the scale.
    pub fn bipolar_int_quant(&self, qi: usize, q: &NodeProto) -> Result<(), ImportError> {
        let err = |m: String| self.node_err(qi, q, m);
        attr::only(q, &["signed", "narrow", "rounding_mode"]).map_err(err)?;
        let (_, bits) = self.const_floats(qi, q, 3)?;
        if bits != [1.0] {
            return Err(err(format!(
                "quantizes to {bits:?} bits; bnngen's weights and activations are 1 bit (+-scale): a 1-bit signed IntQuant at zero point 0, or BipolarQuant"
            )));
        }
        if attr::int(q, "signed").map_err(err)?.unwrap_or(1) != 1 {
            return Err(err("is an unsigned 1-bit IntQuant (0 and scale); bnngen's weights and activations are +-scale: set signed = 1, or use BipolarQuant".into()));
        }
        let (_, zero) = self.const_floats(qi, q, 2)?;
        if let Some(z) = zero.iter().find(|&&z| z != 0.0) {
            return Err(err(format!(
                "has zero point {z}; a 1-bit IntQuant gives +-scale (bnngen's weights and activations) only at zero point 0"
            )));
        }
        Ok(())
    }

    /// Input `k` of node `n` as an integer constant.
    pub fn const_ints(
        &self,
        index: usize,
        n: &NodeProto,
        k: usize,
    ) -> Result<(Vec<usize>, Vec<i64>), ImportError> {
        let t = self.const_input(index, n, k)?;
        tensor::ints(t).map_err(|e| self.node_err(index, n, format!("input {k} `{}` {e}", t.name)))
    }

    fn const_input(
        &self,
        index: usize,
        n: &NodeProto,
        k: usize,
    ) -> Result<&'a TensorProto, ImportError> {
        let name = n
            .input
            .get(k)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| self.node_err(index, n, format!("has no input {k}")))?;
        self.consts
            .get(name)
            .copied()
            .ok_or_else(|| self.node_err(index, n, format!("input {k} `{name}` is not a constant (initializer); bnngen needs constant weights and thresholds")))
    }

    /// Whether node `n` is in the QONNX (or older FINN) custom-op domain.
    pub fn is_qonnx(n: &NodeProto) -> bool {
        n.domain == QONNX_DOMAIN || n.domain == FINN_DOMAIN
    }
}

/// Attribute lookups; a missing attribute gives `None`, a wrong type an error message.
pub(super) mod attr {
    use super::*;

    fn find<'n>(n: &'n NodeProto, name: &str) -> Option<&'n super::super::proto::AttributeProto> {
        n.attribute.iter().find(|a| a.name == name)
    }

    pub fn int(n: &NodeProto, name: &str) -> Result<Option<i64>, String> {
        match find(n, name) {
            None => Ok(None),
            Some(a) if a.r#type == attribute_type::INT || a.i.is_some() => Ok(a.i.or(Some(0))),
            Some(_) => Err(format!("attribute {name} is not an integer")),
        }
    }

    pub fn ints(n: &NodeProto, name: &str) -> Result<Option<Vec<i64>>, String> {
        match find(n, name) {
            None => Ok(None),
            Some(a) if a.r#type == attribute_type::INTS || a.r#type == 0 => {
                Ok(Some(a.ints.clone()))
            }
            Some(_) => Err(format!("attribute {name} is not a list of integers")),
        }
    }

    pub fn float(n: &NodeProto, name: &str) -> Result<Option<f32>, String> {
        match find(n, name) {
            None => Ok(None),
            Some(a) if a.r#type == attribute_type::FLOAT || a.f.is_some() => Ok(a.f.or(Some(0.0))),
            Some(_) => Err(format!("attribute {name} is not a float")),
        }
    }

    pub fn string(n: &NodeProto, name: &str) -> Result<Option<String>, String> {
        match find(n, name) {
            None => Ok(None),
            Some(a) if a.r#type == attribute_type::STRING || a.s.is_some() => Ok(Some(
                String::from_utf8_lossy(a.s.as_deref().unwrap_or_default()).into_owned(),
            )),
            Some(_) => Err(format!("attribute {name} is not a string")),
        }
    }

    /// Error when `n` has an attribute not in `known`.
    pub fn only(n: &NodeProto, known: &[&str]) -> Result<(), String> {
        match n
            .attribute
            .iter()
            .find(|a| !known.contains(&a.name.as_str()))
        {
            Some(a) => Err(format!(
                "attribute {} is not supported (bnngen reads {known:?})",
                a.name
            )),
            None => Ok(()),
        }
    }
}

/// The binary tensor shape of an NCHW value.
pub(super) fn out_shape(height: usize, width: usize, channels: usize) -> Shape {
    Shape {
        height,
        width,
        channels,
    }
}
