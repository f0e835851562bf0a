//! `bnngen generate`: write the accelerator's Verilog, memory images and file list.

use std::path::PathBuf;

use bnngen::model;
use bnngen::output::{Staged, WriteError};
use bnngen::synth::Target;
use bnngen::rtl::{self, GenOptions};

use super::plan::ModelFiles;
use super::CliError;

/// Generate synthesizable Verilog-2005 for a model.
///
/// Writes one module per file, with its weight and table ROMs (kept tiles only) inside it, so
/// the RTL loads the same from any working directory, `files.f` (top last), the FuseSoC core `<name>.core` and, for the sensor front-end placement,
/// `comparator_levels.csv`. The output folder (default rtl-out/<model name>/) must be new,
/// empty, or one bnngen wrote before (it lists its files in `.bnngen-manifest`); it is
/// replaced whole when the new design is complete, so a failure leaves it as it was. Same
/// inputs, same bytes.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub files: ModelFiles,
    /// A plan file from `bnngen plan -o` (possibly edited), instead of folding anew.
    #[arg(long, conflicts_with = "hw")]
    pub plan: Option<PathBuf>,
    /// Output directory.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Add debug tap ports (dbg_fire, dbg_data) to the top.
    #[arg(long)]
    pub debug: bool,
    /// Generate the RTL exactly as `synth --target T` and `flow --target T` synthesize it:
    /// that target's block-RAM family (ice40-* or ecp5-*, xilinx, generic) and, without
    /// `--hw` or `--plan`, the folding they choose for its device. Default: the ECP5 family
    /// and the default folding.
    #[arg(long)]
    pub target: Option<Target>,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let target_opts = args.target.map(Target::gen_options).unwrap_or_default();
    let mut inputs = args.files.paths();
    inputs.extend(args.plan.as_deref());
    let m = model::load(&args.files.model)?;
    let dir = args
        .output
        .unwrap_or_else(|| PathBuf::from("rtl-out").join(rtl::ident(&m.meta.name)));
    let staged = Staged::begin(&dir, &inputs)?;
    let p = super::plan::make_plan(&m, &args.files, args.plan.as_ref(), args.target)?;
    // RTL that will not fit its target is still worth simulating, so this is a warning here;
    // `synth` and `flow` refuse it before any tool runs.
    if let Some(device) = args.target.and_then(Target::plan_device) {
        if let Err(e) = bnngen::plan::fit::check_blocks(&m, &p, device) {
            eprintln!("warning: {e}; `synth` and `flow` with this target refuse it");
        }
    }
    let design = rtl::generate(
        &m,
        &p,
        GenOptions {
            debug: args.debug,
            ..target_opts
        },
    )
    .map_err(|e| CliError::Usage(e.to_string()))?;
    rtl::write_files(&design, staged.path()).map_err(|source| WriteError {
        path: dir.clone(),
        source,
    })?;
    staged.commit()?;
    super::print(&format!(
        "wrote {} modules to {} (top `{}`, {} cycles/frame, RTL {})\n",
        design.modules.len(),
        dir.display(),
        design.top,
        p.cycles_per_frame,
        rtl::design_digest(&design)
    ))
}
