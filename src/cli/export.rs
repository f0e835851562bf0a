//! `bnngen export`: write a model in another format (QONNX) for the wider ecosystem.

use std::path::PathBuf;

use bnngen::model;

use super::CliError;

/// Write a model as a QONNX graph, for FINN, qonnx and other QONNX consumers.
///
/// The graph is ONNX with QONNX's MultiThreshold and computes bnngen's integer scores
/// exactly (its `scores` output equals the reference model's scores); docs/import.md
/// describes the node patterns. The output file is
/// written whole or not at all, and only over a regular file that is not the input.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Model file (TOML).
    pub model: PathBuf,
    /// Write QONNX (the only export format so far; required so later formats stay explicit).
    #[arg(long, required = true)]
    pub qonnx: bool,
    /// Output file (.onnx).
    #[arg(short, long)]
    pub output: PathBuf,
}

pub fn run(args: Args) -> Result<(), CliError> {
    bnngen::output::check_file(&args.output, &[&args.model])?;
    let m = model::load(&args.model)?;
    let bytes = bnngen::qonnx::export(&m)
        .map_err(|e| CliError::Usage(format!("{}: {e}", args.model.display())))?;
    super::write_output(&args.output, &bytes, &[&args.model])
}
