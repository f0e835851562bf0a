//! `bnngen generate`: write the accelerator's Verilog, memory images and file list.

use std::path::PathBuf;

use bnngen::model;
use bnngen::rtl::{self, GenOptions};

use super::CliError;

/// Generate synthesizable Verilog-2005 for a model.
///
/// Writes one module per file, `$readmemh` weight/table images (kept tiles only), `files.f`
/// (top last), the FuseSoC core `<name>.core` and, for the sensor front-end placement,
/// `comparator_levels.csv`. The output directory (default rtl-out/<model name>/) is replaced
/// atomically: a failure leaves no partial output. Same inputs, same bytes.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Model file (TOML).
    pub model: PathBuf,
    /// Hardware configuration file (TOML).
    #[arg(long)]
    pub hw: Option<PathBuf>,
    /// A plan file from `bnngen plan -o` (possibly edited), instead of folding anew.
    #[arg(long, conflicts_with = "hw")]
    pub plan: Option<PathBuf>,
    /// Output directory.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Add debug tap ports (dbg_fire, dbg_data) to the top.
    #[arg(long)]
    pub debug: bool,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let m = model::load(&args.model)?;
    let p = super::plan::make_plan(&m, args.hw.as_ref(), args.plan.as_ref())?;
    let design = rtl::generate(
        &m,
        &p,
        GenOptions {
            debug: args.debug,
            ..Default::default()
        },
    )
    .map_err(|e| CliError::Usage(e.to_string()))?;
    let dir = args
        .output
        .unwrap_or_else(|| PathBuf::from("rtl-out").join(rtl::ident(&m.meta.name)));
    rtl::write_dir(&design, &dir).map_err(|e| CliError::Write {
        path: dir.clone(),
        source: e,
    })?;
    super::print(&format!(
        "wrote {} modules to {} (top `{}`, {} cycles/frame)\n",
        design.modules.len(),
        dir.display(),
        design.top,
        p.cycles_per_frame
    ))
}
