//! `bnngen weights`: write only the SPI-flash image of a model's weights in SPRAM, so a model
//! of the same topology and plan runs on a bitstream already built for another.
//!
//! Why a command of its own: with weights in SPRAM the bitstream holds no weight of the SPRAM
//! stores, so changing them needs no Yosys or nextpnr run, only a new `weights.bin`. The image
//! is built as `synth` builds it (the same plan, design and byte order), so the bytes are
//! identical. Reuse is only sound when the second model's design is the first's byte for byte
//! (same topology, pruning, plan, thresholds and block-RAM weights): with `--design`, the
//! RTL digest a synthesis report records is compared with the new design's, and a mismatch
//! is refused before anything is written.

use std::path::{Path, PathBuf};

use bnngen::model;
use bnngen::plan::{self, fit, HwConfig, WeightStore};
use bnngen::rtl;
use bnngen::synth::{self, Target};

use super::CliError;

/// Write the SPRAM weight image (weights.bin) of a model for an existing UP5K bitstream.
///
/// Folds the model as `synth --target ice40-up5k --weights spram` does (with --hw, the file the
/// bitstream was built with, read with `weights = "spram"`; without, the fastest folding that
/// fits the UP5K) and writes the
/// flash image of the weight ROMs in SPRAM, byte-identical to the weights.bin that `synth`
/// writes, for `iceprog -o 1M` (docs/synthesis.md). With --design (the report.json of an
/// earlier `synth` run), the model's RTL must be the one that run synthesized, or the command
/// exits with status 2 and writes nothing.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: super::DeviceBuild,
    /// The report.json of the synth run whose bitstream the image is for: its RTL digest must
    /// be this model's.
    #[arg(long)]
    pub design: Option<PathBuf>,
    /// Output file (the flash image).
    #[arg(short, long)]
    pub output: PathBuf,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let inputs: Vec<&Path> = std::iter::once(args.input.model.as_path())
        .chain(args.input.hw.as_deref())
        .chain(args.design.as_deref())
        .collect();
    bnngen::output::check_file(&args.output, &inputs)?;
    let m = model::load(&args.input.model)?;
    let p = spram_plan(&m, args.input.hw.as_deref())?;
    let design = synth::job::design_with(&m, &p, Target::Ice40Up5k, true)?;
    if design.spram.is_empty() {
        return Err(CliError::Usage(format!(
            "{}: no weight ROM of this plan fits an SPRAM; there is no weight image",
            args.input.model.display()
        )));
    }
    let digest = rtl::design_digest(&design);
    if let Some(report) = &args.design {
        check_design(report, &digest)?;
    }
    let bytes = synth::flash::image_bytes(&design.load_image());
    super::write_output(&args.output, &bytes, &inputs)?;
    super::print(&format!(
        "wrote {} ({} bytes, {} SPRAM stores) for the design {digest}\n",
        args.output.display(),
        bytes.len(),
        design.spram.len()
    ))
}

/// The plan `synth --target ice40-up5k --weights spram` builds with the same `--hw`.
fn spram_plan(m: &model::Model, hw: Option<&Path>) -> Result<plan::Plan, CliError> {
    let spram = Some(WeightStore::Spram);
    match hw {
        Some(path) => Ok(plan::fold_hw_file_with(m, path, spram)
            .map_err(CliError::hw)?
            .1),
        None => {
            let hw = HwConfig {
                weights: spram,
                ..Target::Ice40Up5k.fold_config()
            };
            fit::fold(m, &hw).map_err(CliError::hw)
        }
    }
}

/// The RTL digest in a synth report.json must be `digest`.
fn check_design(report: &Path, digest: &str) -> Result<(), CliError> {
    let text = bnngen::model::limits::read_capped(report, 1 << 24).map_err(|e| {
        CliError::Usage(format!("{}: cannot read the report: {e}", report.display()))
    })?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        CliError::Usage(format!("{}: not a synth report.json: {e}", report.display()))
    })?;
    let Some(want) = v.get("rtl_digest").and_then(|d| d.as_str()) else {
        return Err(CliError::Usage(format!(
            "{}: rtl_digest: missing; expected the report.json of a `bnngen synth` run",
            report.display()
        )));
    };
    if want != digest {
        return Err(CliError::Usage(format!(
            "{}: rtl_digest: the bitstream was built from RTL {want}, this model and plan \
             generate {digest}; only a model of the same topology, pruning, plan, thresholds \
             and block-RAM weights reuses a bitstream; synthesize this one with `bnngen synth`",
            report.display()
        )));
    }
    Ok(())
}
