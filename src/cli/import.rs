//! `bnngen import`: read a QONNX graph into a bnngen model file.

use std::path::PathBuf;

use serde::Serialize;

use bnngen::model::{self, Summary};
use bnngen::qonnx::{import_file_scored, ImportOptions, ScoreMap};

use super::CliError;

/// Read a QONNX (ONNX) graph into a bnngen model file (TOML).
///
/// Reads the binary subset of QONNX that maps onto the model format exactly (docs/import.md
/// lists the node patterns); anything else is refused with exit status 2, naming the node
/// (index, name, op_type) and why. The model goes to -o FILE (written whole or not at all,
/// never over the input) or to stdout.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// QONNX file (.onnx).
    pub model: PathBuf,
    /// Output model file (default: stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Model name (default: the graph's name, else the file name).
    #[arg(long)]
    pub name: Option<String>,
    /// Pixel bit depth when the file does not record it (default 8; the binary front end's
    /// plane count sets it).
    #[arg(long)]
    pub bits: Option<u32>,
    /// Print a JSON report (with `format_version`) of what was imported.
    #[arg(long)]
    pub json: bool,
}

const REPORT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Report {
    format_version: u32,
    source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
    name: String,
    layers: Vec<LayerJson>,
    summary: Summary,
    /// `file score = scale x bnngen score + offset`, the same for every class.
    score_map: ScoreMapJson,
    /// The model file text, when it was not written to a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    model_toml: Option<String>,
}

#[derive(Serialize)]
struct ScoreMapJson {
    scale: f64,
    offset: f64,
}

#[derive(Serialize)]
struct LayerJson {
    name: String,
    kind: &'static str,
    output: String,
}

pub fn run(args: Args) -> Result<(), CliError> {
    if let Some(out) = &args.output {
        bnngen::output::check_file(out, &[&args.model])?;
    }
    if let Some(b) = args.bits.filter(|b| !(1..=16).contains(b)) {
        return Err(CliError::Usage(format!("--bits must be 1..=16, found {b}")));
    }
    let opts = ImportOptions {
        name: args.name.clone(),
        bits: args.bits,
    };
    let (m, map) =
        import_file_scored(&args.model, &opts).map_err(|e| CliError::Usage(e.to_string()))?;
    let text = model::to_toml(&m);
    if let Some(out) = &args.output {
        super::write_output(out, text.as_bytes(), &[&args.model])?;
    }
    if args.json {
        let report = Report {
            format_version: REPORT_VERSION,
            source: args.model.display().to_string(),
            output: args.output.as_ref().map(|p| p.display().to_string()),
            name: m.meta.name.clone(),
            layers: m
                .layers
                .iter()
                .map(|l| LayerJson {
                    name: l.name.clone(),
                    kind: l.kind.tag(),
                    output: l.output.to_string(),
                })
                .collect(),
            summary: m.summary(),
            score_map: ScoreMapJson {
                scale: map.scale,
                offset: map.offset,
            },
            model_toml: args.output.is_none().then_some(text),
        };
        return super::print_json(&report);
    }
    match &args.output {
        Some(out) => super::print(&written(out, &m, map)),
        None => super::print(&text),
    }
}

/// What `import -o FILE` tells the user: where the model went, its size, and how its scores
/// relate to the file's (the class is the same; the scores are an affine map of each other).
fn written(out: &std::path::Path, m: &model::Model, map: ScoreMap) -> String {
    let s = m.summary();
    format!(
        "{}: {} layers, {} stored weight bits\nscores: file score = {} x bnngen score + {}\n",
        out.display(),
        m.layers.len(),
        s.weight_bits_stored,
        map.scale,
        map.offset
    )
}
