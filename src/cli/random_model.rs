//! `bnngen random-model`: write a seeded random valid model, for tests and fuzzing.

use std::path::PathBuf;

use bnngen::model::limits::{
    MAX_CHANNELS, MAX_INPUT_CHANNELS, MAX_LAYERS, MAX_SIDE, MAX_TENSOR_BITS,
};
use bnngen::random::{random_model, RandomOptions};
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
    /// Largest channel count of a hidden layer. With the sizes, it must keep every layer's
    /// weights within RANDOM_MAX_WEIGHTS (2^26) and every tensor within the model limits.
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
    check_size(&args)?;
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

/// Largest weight count of one layer the generator may draw (it draws every bit), so a
/// random model is written in well under a second.
const RANDOM_MAX_WEIGHTS: u128 = 1 << 26;

/// Refuse options whose worst case exceeds the model limits or `RANDOM_MAX_WEIGHTS`, before
/// generating anything. The worst case: each conv may grow the image by 3 rows and columns
/// (kernel 1, padding 2), every tensor may have the widest channel count, and a dense layer's
/// kernel is its whole input.
fn check_size(args: &Args) -> Result<(), CliError> {
    for (flag, v, max) in [
        ("--height", args.height, MAX_SIDE),
        ("--width", args.width, MAX_SIDE),
        ("--channels", args.channels, MAX_INPUT_CHANNELS),
        ("--max-channels", args.max_channels, MAX_CHANNELS),
        ("--classes", args.classes, MAX_CHANNELS),
        ("--layers", args.layers, MAX_LAYERS - 1),
    ] {
        if v > max {
            return Err(CliError::Usage(format!(
                "{flag} {v} is above the limit of {max}"
            )));
        }
    }
    let planes = RandomOptions::default().max_levels.max(16) as u128;
    let grow = 3 * args.layers as u128;
    let side = (args.height as u128 + grow) * (args.width as u128 + grow);
    let widest = (args.max_channels as u128)
        .max(args.channels as u128 * planes)
        .max(args.classes as u128);
    let tensor = side * widest;
    let weights = side * widest * widest;
    if tensor > MAX_TENSOR_BITS as u128 || weights > RANDOM_MAX_WEIGHTS {
        return Err(CliError::Usage(format!(
            "these sizes allow a layer of up to {weights} weights on a tensor of up to {tensor} \
             bits; random-model draws at most {RANDOM_MAX_WEIGHTS} weights per layer and \
             {MAX_TENSOR_BITS} bits per tensor: lower --max-channels, --layers or the image size"
        )));
    }
    Ok(())
}
