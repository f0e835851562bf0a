//! `bnngen random-model`: write a seeded random valid model, for tests and fuzzing.

use std::path::PathBuf;

use bnngen::model::random::{random_model, RandomOptions};
use bnngen::model::{self, to_toml};

use super::CliError;

/// Write a random valid model (TOML) to a file or stdout.
///
/// The same seed and options always give the same bytes. An output file is written whole or
/// not at all (a new temporary file, then rename), and only over a regular file.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seed of the random generator.
    #[arg(long)]
    pub seed: u64,
    /// Input image height in pixels.
    #[arg(long, default_value_t = RandomOptions::default().height)]
    pub height: usize,
    /// Input image width in pixels.
    #[arg(long, default_value_t = RandomOptions::default().width)]
    pub width: usize,
    /// Input channels (1 gray, 3 RGB, ...).
    #[arg(long, default_value_t = RandomOptions::default().channels)]
    pub channels: usize,
    /// Pixel bit depth, 1..=16.
    #[arg(long, default_value_t = RandomOptions::default().bits)]
    pub bits: u32,
    /// Conv / pool / residual / dense layers before the classifier.
    #[arg(long, default_value_t = RandomOptions::default().layers)]
    pub layers: usize,
    /// Largest channel count of a hidden layer.
    #[arg(long, default_value_t = RandomOptions::default().max_channels)]
    pub max_channels: usize,
    /// Classifier outputs.
    #[arg(long, default_value_t = RandomOptions::default().classes)]
    pub classes: usize,
    /// Output file (default: stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<(), CliError> {
    if let Some(out) = &args.output {
        bnngen::output::check_file(out, &[])?;
    }
    for (flag, v) in [
        ("--height", args.height),
        ("--width", args.width),
        ("--channels", args.channels),
        ("--max-channels", args.max_channels),
        ("--classes", args.classes),
    ] {
        if v == 0 {
            return Err(CliError::Usage(format!(
                "{flag} must be at least 1, found 0"
            )));
        }
    }
    if !(1..=16).contains(&args.bits) {
        return Err(CliError::Usage(format!(
            "--bits must be 1..=16, found {}",
            args.bits
        )));
    }
    let opts = RandomOptions {
        height: args.height,
        width: args.width,
        channels: args.channels,
        bits: args.bits,
        layers: args.layers,
        max_channels: args.max_channels,
        classes: args.classes,
        ..RandomOptions::default()
    };
    let text = to_toml(&random_model(args.seed, &opts));
    // The generator and writer must agree with the validator; a disagreement is a bug.
    if let Err(e) = model::parse(&text, "<random model>") {
        return Err(CliError::Internal(format!(
            "random model does not validate:\n{e}"
        )));
    }
    match &args.output {
        Some(path) => super::write_output(path, text.as_bytes(), &[]),
        None => super::print(&text),
    }
}
