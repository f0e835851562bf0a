//! `bnngen check`: validate a model file and summarize its layers and costs.

use std::path::PathBuf;

use serde::Serialize;

use bnngen::model::{self, FrontEnd, Model, Shape, Summary, ThermometerKind};

use super::CliError;

/// Validate a model file and summarize it.
///
/// Every problem in the file is reported on stderr (naming the file, the layer and the field)
/// and the exit code is 2. A valid model prints one row per layer: shapes, weight bits
/// stored (kept tiles only), kept / total tiles, and binary MACs per frame, then the totals
/// and the front end (kind, M planes per channel, comparators).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Model file (TOML, format_version 1).
    pub model: PathBuf,
    /// Print a JSON report (with `format_version`) instead of the table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let m = model::load(&args.model)?;
    let report = Report::new(&m, &args.model.display().to_string());
    if args.json {
        super::print_json(&report)
    } else {
        super::print(&report.table())
    }
}

/// Version of the JSON report's layout.
const REPORT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Report {
    format_version: u32,
    file: String,
    name: String,
    input: InputJson,
    front_end: FrontEndJson,
    classes: usize,
    class_names: Vec<String>,
    layers: Vec<LayerJson>,
    totals: Summary,
}

#[derive(Serialize)]
struct InputJson {
    height: usize,
    width: usize,
    channels: usize,
    bits: u32,
}

#[derive(Serialize)]
struct ShapeJson {
    height: usize,
    width: usize,
    channels: usize,
}

impl From<Shape> for ShapeJson {
    fn from(s: Shape) -> Self {
        ShapeJson {
            height: s.height,
            width: s.width,
            channels: s.channels,
        }
    }
}

#[derive(Serialize)]
struct FrontEndJson {
    /// `glt`, `uniform` or `binary`.
    kind: &'static str,
    /// M: binary planes per input channel (the bit depth for the binary code).
    levels: usize,
    comparators: usize,
    output: ShapeJson,
}

#[derive(Serialize)]
struct LayerJson {
    index: usize,
    name: String,
    kind: &'static str,
    input: ShapeJson,
    output: ShapeJson,
    weight_bits_stored: usize,
    kept_tiles: usize,
    total_tiles: usize,
    binary_macs_per_frame: u64,
}

fn front_end_kind(f: &FrontEnd) -> &'static str {
    match f {
        FrontEnd::Thermometer(t) => match t.kind {
            ThermometerKind::Glt => "glt",
            ThermometerKind::Uniform => "uniform",
        },
        FrontEnd::Binary => "binary",
    }
}

impl Report {
    fn new(m: &Model, file: &str) -> Self {
        let layers = m
            .layers
            .iter()
            .enumerate()
            .map(|(index, l)| {
                let w = l.kind.weights();
                LayerJson {
                    index,
                    name: l.name.clone(),
                    kind: l.kind.tag(),
                    input: l.input.into(),
                    output: l.output.into(),
                    weight_bits_stored: w.map_or(0, |w| w.stored_bits()),
                    kept_tiles: w.map_or(0, |w| w.kept_tiles()),
                    total_tiles: w.map_or(0, |w| w.total_tiles()),
                    binary_macs_per_frame: Model::layer_macs(l),
                }
            })
            .collect();
        Report {
            format_version: REPORT_VERSION,
            file: file.to_string(),
            name: m.meta.name.clone(),
            input: InputJson {
                height: m.input.height,
                width: m.input.width,
                channels: m.input.channels,
                bits: m.input.bits,
            },
            front_end: FrontEndJson {
                kind: front_end_kind(&m.front_end),
                levels: m.front_end.planes_per_channel(&m.input),
                comparators: m.front_end.comparators(&m.input),
                output: m.front_end_shape().into(),
            },
            classes: m.classes(),
            class_names: m.meta.classes.clone(),
            layers,
            totals: m.summary(),
        }
    }

    fn table(&self) -> String {
        let shape = |s: &ShapeJson| format!("{}x{}x{}", s.height, s.width, s.channels);
        let header = [
            "#",
            "name",
            "kind",
            "input",
            "output",
            "weight bits",
            "tiles",
            "MACs/frame",
        ];
        let mut rows: Vec<[String; 8]> = vec![header.map(String::from)];
        for l in &self.layers {
            let weighted = l.total_tiles > 0;
            rows.push([
                l.index.to_string(),
                l.name.clone(),
                l.kind.to_string(),
                shape(&l.input),
                shape(&l.output),
                if weighted {
                    l.weight_bits_stored.to_string()
                } else {
                    "-".into()
                },
                if weighted {
                    format!("{}/{}", l.kept_tiles, l.total_tiles)
                } else {
                    "-".into()
                },
                if weighted {
                    l.binary_macs_per_frame.to_string()
                } else {
                    "-".into()
                },
            ]);
        }
        let t = &self.totals;
        rows.push([
            String::new(),
            "total".into(),
            String::new(),
            String::new(),
            String::new(),
            t.weight_bits_stored.to_string(),
            format!("{}/{}", t.kept_tiles, t.total_tiles),
            t.binary_macs_per_frame.to_string(),
        ]);
        let widths: Vec<usize> = (0..8)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let numeric = [true, false, false, false, false, true, true, true];

        let mut out = String::new();
        let i = &self.input;
        out.push_str(&format!("model {:?} ({}): valid\n", self.name, self.file));
        out.push_str(&format!(
            "input {}x{}x{} at {} bits; front end {}, M = {} planes per channel, {} comparators, output {}\n",
            i.height,
            i.width,
            i.channels,
            i.bits,
            self.front_end.kind,
            self.front_end.levels,
            self.front_end.comparators,
            shape(&self.front_end.output)
        ));
        let names = if self.class_names.is_empty() {
            String::new()
        } else {
            format!(" ({})", self.class_names.join(", "))
        };
        out.push_str(&format!("{} classes{names}\n\n", self.classes));
        for (r, row) in rows.iter().enumerate() {
            if r + 1 == rows.len() {
                let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
                out.push_str(&"-".repeat(total));
                out.push('\n');
            }
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .zip(numeric)
                .map(|((cell, &w), num)| {
                    if num {
                        format!("{cell:>w$}")
                    } else {
                        format!("{cell:<w$}")
                    }
                })
                .collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
        out.push_str(&format!(
            "\nweight bits: {} stored of {} dense; tiles kept: {}/{}; binary MACs per frame: {}; comparators: {}\n",
            t.weight_bits_stored,
            t.weight_bits_dense,
            t.kept_tiles,
            t.total_tiles,
            t.binary_macs_per_frame,
            t.comparators
        ));
        out
    }
}
