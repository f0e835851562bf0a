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

use super::keys;
use super::proto::{DimValue, ModelProto, TensorProto};
use super::score_map::ScoreMap;
pub use super::walk::ImportError;
use super::walk::Walk;
use crate::model::{self, limits, InputSpec, Layer, Meta, Model};

/// Choices the file may not record.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Model name (default: the graph's name, else the file's stem).
    pub name: Option<String>,
    /// Pixel bit depth B (default: the file's `bnngen.input_bits`, else the binary front
    /// end's plane count, else 8).
    pub bits: Option<u32>,
}

/// Read and import an ONNX file of at most the model-file size limit.
pub fn import_file(path: &Path, opts: &ImportOptions) -> Result<Model, ImportError> {
    import_file_scored(path, opts).map(|(m, _)| m)
}

/// As [`import_file`], with the map from the model's integer scores to the file's float
/// scores (one positive scale and one offset for every class: the class is the same).
pub fn import_file_scored(
    path: &Path,
    opts: &ImportOptions,
) -> Result<(Model, ScoreMap), ImportError> {
    let bytes = read_bytes(path).map_err(|source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    import_scored(&bytes, &path.display().to_string(), opts, stem)
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
    import_scored(bytes, file, opts, stem).map(|(m, _)| m)
}

fn import_scored(
    bytes: &[u8],
    file: &str,
    opts: &ImportOptions,
    stem: Option<String>,
) -> Result<(Model, ScoreMap), ImportError> {
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
    let m = model::parse(&model::to_toml(&m), file).map_err(|errors| ImportError::Model {
        file: file.into(),
        errors,
    })?;
    let scores = w.score_map.ok_or_else(|| ImportError::Graph {
        file: file.into(),
        message: "the classifier's scores were not read".into(),
    })?;
    Ok((m, scores))
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
