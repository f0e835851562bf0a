//! QONNX graph -> Model: the node patterns bnngen's export writes, read back exactly, and
//! every other graph refused naming the node (index, name, op_type) and why.
//!
//! The graph is walked in its (topological) node order as a chain: first the front end that
//! reads the graph input, then one layer pattern at a time, each reading the previous
//! layer's output (a residual also reads an earlier layer's output). Constants are
//! initializers or Constant nodes. The result goes through the model validator, so an
//! imported model obeys every rule of docs/model-format.md. docs/import.md lists the patterns.

use std::collections::HashMap;
use std::path::Path;

use prost::Message;

use super::proto::{attribute_type, DimValue, ModelProto, NodeProto, TensorProto};
use super::{keys, tensor, FINN_DOMAIN, QONNX_DOMAIN};
use crate::model::{self, limits, InputSpec, Layer, Meta, Model, ModelErrors, Shape};

/// Choices the file may not record.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Model name (default: the graph's name, else the file's stem).
    pub name: Option<String>,
    /// Pixel bit depth B (default: the file's `bnngen.input_bits`, else the binary front
    /// end's plane count, else 8).
    pub bits: Option<u32>,
}

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

/// Read and import an ONNX file of at most the model-file size limit.
pub fn import_file(path: &Path, opts: &ImportOptions) -> Result<Model, ImportError> {
    let bytes = read_bytes(path).map_err(|source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    import(&bytes, &path.display().to_string(), opts, stem)
}

/// The file's bytes, refusing more than [`limits::MAX_FILE_BYTES`] (and folders, and endless
/// devices, after the cap).
fn read_bytes(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "is a directory, not a file",
        ));
    }
    let cap = limits::MAX_FILE_BYTES;
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than the {} MiB limit", cap >> 20),
        ));
    }
    Ok(bytes)
}

/// Import ONNX bytes; `file` names the source in errors, `stem` is the fallback model name.
pub fn import(
    bytes: &[u8],
    file: &str,
    opts: &ImportOptions,
    stem: Option<String>,
) -> Result<Model, ImportError> {
    let proto = ModelProto::decode(bytes).map_err(|e| ImportError::Decode {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let graph = proto.graph.as_ref().ok_or_else(|| ImportError::Graph {
        file: file.to_string(),
        message: "the model has no graph".into(),
    })?;
    let meta_props: HashMap<&str, &str> = proto
        .metadata_props
        .iter()
        .map(|e| (e.key.as_str(), e.value.as_str()))
        .collect();
    let mut w = Walk::new(file, &graph.node, &graph.initializer, &meta_props)?;
    let (input_name, mut input) = graph_input(file, graph, &w.consts)?;
    if let Some(b) = opts.bits.or_else(|| {
        meta_props
            .get(keys::INPUT_BITS)
            .and_then(|v| v.parse().ok())
    }) {
        if !(1..=16).contains(&b) {
            return Err(ImportError::Graph {
                file: file.to_string(),
                message: format!("the pixel bit depth is {b}; bnngen reads 1..=16 bits"),
            });
        }
        input.bits = b;
    }
    let front_end = super::front_end::read(&mut w, &input_name, &mut input, opts.bits.is_some())?;
    let mut layers: Vec<Layer> = Vec::new();
    let mut cur_shape = front_end.output_shape(&input);
    while w.peek().is_some() {
        let layer = super::layers::read(&mut w, cur_shape, &layers)?;
        cur_shape = layer.output;
        let last = matches!(layer.kind, model::LayerKind::Classifier(_));
        layers.push(layer);
        if last {
            break;
        }
    }
    if let Some((index, node)) = w.peek() {
        return Err(w.node_err(index, node, "follows the classifier; the classifier (MatMul + Add writing the graph output) must be the last node".into()));
    }
    let Some(last) = layers
        .last()
        .filter(|l| matches!(l.kind, model::LayerKind::Classifier(_)))
    else {
        return Err(ImportError::Graph {
            file: file.into(),
            message: "the graph ends without a classifier: bnngen needs Flatten -> MatMul -> Add (the integer scores) as the last layer".into(),
        });
    };
    let outputs: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
    if outputs != [w.cur.as_str()] {
        return Err(ImportError::Graph {
            file: file.into(),
            message: format!(
                "the graph outputs are {outputs:?}; expected exactly the classifier's scores `{}` (of layer {})",
                w.cur, last.name
            ),
        });
    }
    let classes: Vec<String> = meta_props
        .get(keys::CLASSES)
        .and_then(|v| serde_json::from_str::<Vec<String>>(v).ok())
        .filter(|c| c.len() == last.output.channels)
        .unwrap_or_default();
    let name = opts
        .name
        .clone()
        .or_else(|| Some(graph.name.clone()).filter(|n| !n.trim().is_empty()))
        .or(stem)
        .unwrap_or_else(|| "imported".into());
    let provenance = match meta_props.get(keys::PROVENANCE) {
        Some(p) => p.to_string(),
        None => format!(
            "imported from QONNX ({} {})",
            if proto.producer_name.is_empty() {
                "unknown producer"
            } else {
                &proto.producer_name
            },
            proto.producer_version
        )
        .trim_end()
        .to_string(),
    };
    let m = Model {
        meta: Meta {
            name,
            description: proto.doc_string.clone(),
            provenance,
            classes,
        },
        input,
        front_end,
        layers,
    };
    // The validator has the last word: every rule of the model format, with its diagnostics.
    model::parse(&model::to_toml(&m), file).map_err(|errors| ImportError::Model {
        file: file.into(),
        errors,
    })
}

/// The graph's one data input: float [1, C, H, W] (or [N, C, H, W] with a symbolic N).
/// Initializers listed as inputs too (older exporters) are skipped.
fn graph_input(
    file: &str,
    graph: &super::proto::GraphProto,
    consts: &HashMap<String, &TensorProto>,
) -> Result<(String, InputSpec), ImportError> {
    let err = |message: String| ImportError::Graph {
        file: file.into(),
        message,
    };
    let data: Vec<_> = graph
        .input
        .iter()
        .filter(|i| !consts.contains_key(&i.name))
        .collect();
    let [inp] = data.as_slice() else {
        return Err(err(format!(
            "the graph has {} data inputs; bnngen reads one image input",
            data.len()
        )));
    };
    let dims: Vec<Option<i64>> = inp
        .r#type
        .as_ref()
        .and_then(|t| t.tensor_type.as_ref())
        .and_then(|t| t.shape.as_ref())
        .map(|s| {
            s.dim
                .iter()
                .map(|d| match &d.value {
                    Some(DimValue::Value(v)) => Some(*v),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let size = |d: Option<i64>, max: usize, what: &str| -> Result<usize, ImportError> {
        match d.and_then(|v| usize::try_from(v).ok()) {
            Some(v) if (1..=max).contains(&v) => Ok(v),
            _ => Err(err(format!(
                "input `{}`: {what} is {d:?}; expected a fixed size 1..={max}",
                inp.name
            ))),
        }
    };
    if dims.len() != 4 {
        return Err(err(format!(
            "input `{}` has {} dimensions; expected an NCHW image [1, C, H, W]",
            inp.name,
            dims.len()
        )));
    }
    let input = InputSpec {
        channels: size(dims[1], limits::MAX_INPUT_CHANNELS, "channels")?,
        height: size(dims[2], limits::MAX_SIDE, "height")?,
        width: size(dims[3], limits::MAX_SIDE, "width")?,
        bits: 8,
    };
    Ok((inp.name.clone(), input))
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
}

impl<'a> Walk<'a> {
    fn new(
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
        // BipolarQuant of a constant (weights, scale) is a constant too, read as +-1 weights
        // and a scale by the layer that uses it; the walk skips it.
        let weight_quants = nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.op_type == "BipolarQuant" && Walk::is_qonnx(n))
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

    /// Input `k` of node `n` as weights: a float constant, or BipolarQuant of one (+1 where
    /// the value is >= 0, else -1). Returns (shape, values, scales: one, or one per output
    /// channel along `channel_axis` of the weights).
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
        let signs = v
            .iter()
            .map(|&x| if x >= 0.0 { 1.0 } else { -1.0 })
            .collect();
        Ok((shape, signs, s))
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
