//! `bnngen train`: train a binary network on Fashion-MNIST or an image-folder dataset from a
//! training config and write the model file. All the work is in `bnngen::train`; this file maps options and errors.

use std::path::PathBuf;

use super::CliError;

/// Train a fully-binarized network on Fashion-MNIST or your own images; write the model.
///
/// The data is Fashion-MNIST's IDX files or an image folder (DIR/train/<class>/*.png and
/// DIR/test/<class>/..., PNG/PGM/PPM): the input shape, bit depth and class names come from
/// the data. GLT, uniform-thermometer or binary-ADC front end, block pruning and distillation, as the
/// config asks; the config format is in docs/training.md. Needs the cargo feature `train`
/// (on by default).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Training config (TOML), e.g. models/fashion-default.train.toml.
    #[arg(long)]
    pub config: PathBuf,
    /// Model file to write.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Dataset directory: the Fashion-MNIST gzip IDX files, or an image folder with train/ and
    /// test/ class folders (overrides the config's `data.dir`) [default:
    /// /usr/share/datasets/fashion-mnist].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Continue from the config's checkpoint file if it exists.
    #[arg(long)]
    pub resume: bool,
    /// Override the config's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override the config's number of epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Override the number of training images (0 = all).
    #[arg(long)]
    pub train_subset: Option<usize>,
    /// Override the number of test images (0 = all).
    #[arg(long)]
    pub test_subset: Option<usize>,
    /// Stop after N epochs of the schedule (checkpoint written, no model); continue with --resume.
    #[arg(long, value_name = "N")]
    pub stop_after: Option<usize>,
    /// Override a config key, e.g. `--set front_end.kind=uniform --set front_end.levels=4`
    /// (repeatable; a number in the path indexes an array: `layers.0.channels=8`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Write the run's figures (accuracy, disagreements, images/s) as JSON here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// No progress bars (one line per epoch on stderr only).
    #[arg(long)]
    pub quiet: bool,
}

#[cfg(feature = "train")]
pub fn run(args: Args) -> Result<(), CliError> {
    use std::io::IsTerminal;
    // Refuse a bad -o or --report now, not after an hour of training.
    let (config, data) = (args.config.clone(), args.data.clone());
    let inputs: Vec<&std::path::Path> = std::iter::once(config.as_path())
        .chain(data.as_deref())
        .collect();
    bnngen::output::check_file(&args.output, &inputs)?;
    if let Some(r) = &args.report {
        bnngen::output::check_file(r, &inputs)?;
        if std::path::absolute(r).ok() == std::path::absolute(&args.output).ok() {
            return Err(CliError::Usage(format!(
                "--report {} is also the model output (-o)",
                r.display()
            )));
        }
    }
    let opts = bnngen::train::TrainOptions {
        config: args.config,
        output: args.output.clone(),
        data: args.data,
        resume: args.resume,
        progress: !args.quiet && std::io::stderr().is_terminal(),
        seed: args.seed,
        epochs: args.epochs,
        train_subset: args.train_subset,
        test_subset: args.test_subset,
        stop_after: args.stop_after,
        overrides: args.set,
    };
    let done = bnngen::train::run_partial(&opts).map_err(|e| {
        if let Some(a) = bnngen::train::config::annotated(&e) {
            CliError::File(Box::new(a))
        } else if e.is_user_error() {
            CliError::Usage(e.to_string())
        } else {
            CliError::Internal(e.to_string())
        }
    })?;
    let Some((_, report)) = done else {
        eprintln!(
            "stopped after {} epochs; checkpoint written, continue with --resume",
            args.stop_after.unwrap_or(0)
        );
        return Ok(());
    };
    eprintln!(
        "wrote {}: test accuracy {:.4} (reference model, {} images), {:?} disagreements, {} stored weight bits, {:.0} img/s, {:.0} s",
        args.output.display(),
        report.test_accuracy,
        report.test_images,
        report.disagreements,
        report.weight_bits_stored,
        report.images_per_second,
        report.wall_seconds
    );
    if let Some(path) = args.report {
        let text = serde_json::to_string_pretty(&report).expect("report serializes");
        super::write_output(&path, text.as_bytes(), &inputs)?;
    }
    match report.disagreements {
        Some(0) => {}
        Some(n) => {
            return Err(CliError::Internal(format!(
                "the exported model disagrees with the training graph on {n} test images"
            )))
        }
        None => {
            return Err(CliError::Internal(
                "the reference model could not run, so the export is unchecked".into(),
            ))
        }
    }
    Ok(())
}

#[cfg(not(feature = "train"))]
pub fn run(_args: Args) -> Result<(), CliError> {
    Err(CliError::MissingFeature {
        command: "train",
        feature: "train",
    })
}
