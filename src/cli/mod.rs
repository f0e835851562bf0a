//! The command line: one file per subcommand, the typed error every subcommand returns, and
//! small output helpers.
//!
//! Adding a subcommand: write `src/cli/NAME.rs` with a documented `Args` struct (clap derive;
//! its doc comment is the `--help` text) and `pub fn run(args: Args) -> Result<(), CliError>`,
//! then add one `Variant => NAME,` line to the `subcommands!` list below.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use bnngen::input::InputError;
use bnngen::model::annotate::{Annotated, FileKind};
use bnngen::model::ModelErrors;
use bnngen::output::{OutputError, WriteError};

/// Declare the subcommand modules, the `Command` enum and its dispatch from one list.
macro_rules! subcommands {
    ($($variant:ident => $module:ident,)*) => {
        $(mod $module;)*

        #[derive(Debug, Subcommand)]
        pub enum Command {
            $($variant($module::Args),)*
        }

        impl Command {
            pub fn run(self) -> Result<(), CliError> {
                match self {
                    $(Command::$variant(args) => $module::run(args),)*
                }
            }
        }
    };
}

pub mod render;

subcommands! {
    Check => check,
    Infer => infer,
    RandomModel => random_model,
    Report => report,
    Flow => flow,
    Plan => plan,
    Generate => generate,
    Simulate => simulate,
    Synth => synth,
    Train => train,
    Export => export,
    Import => import,
    Weights => weights,
}

/// Turn a trained fully-binarized network into bit-exact, synthesizable Verilog.
///
/// Exit codes: 0 success, 2 bad input (model, image or option errors), 1 internal or tool
/// error, or a command this build leaves out (`train` without the cargo feature `train`).
#[derive(Debug, Parser)]
#[command(name = "bnngen", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What can go wrong in a subcommand; each variant knows its exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The model file is invalid (every diagnostic is in the value).
    #[error(transparent)]
    Model(#[from] ModelErrors),
    /// An input image or label file is unreadable or does not fit the model.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A sensor file (`--sensor`) is unreadable or invalid.
    #[error(transparent)]
    Sensor(#[from] bnngen::sensor::SensorError),
    /// A hardware config or plan file (`kind` says which) that cannot be used, or a folding
    /// that does not fit the model.
    #[error("{error}")]
    Config {
        kind: FileKind,
        error: bnngen::plan::PlanError,
    },
    /// A file the user wrote, with problems at its fields (a training config).
    #[error("{0}")]
    File(Box<Annotated>),
    /// Options that parse but make no sense together.
    #[error("{0}")]
    Usage(String),
    /// An output that bnngen refuses to write (not its own, special, an input), or could not.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// An output file or stream could not be written.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A broken internal invariant: a bug in bnngen.
    #[error("internal error (a bug in bnngen): {0}")]
    Internal(String),
    /// An external tool failed (Verilator, Yosys, nextpnr: used by the tool subcommands).
    #[error("{tool}: {message}")]
    Tool { tool: String, message: String },
    /// The simulated RTL disagrees with the reference model.
    #[error("RTL mismatch: {0}")]
    Mismatch(String),
    /// The command needs a cargo feature this binary was built without. Not the user's
    /// input at fault, so exit 1, not 2.
    #[cfg_attr(feature = "train", allow(dead_code))]
    #[error(
        "`bnngen {command}` needs the cargo feature `{feature}`, and this bnngen was built \
         without it; install a build with it: `cargo install --path . --features {feature}`"
    )]
    MissingFeature {
        command: &'static str,
        feature: &'static str,
    },
}

/// What a build for a device starts from: `synth` and `weights` take the same two inputs.
#[derive(Debug, clap::Args)]
pub struct DeviceBuild {
    /// Model file (TOML, format_version 1).
    pub model: PathBuf,
    /// Hardware configuration (TOML): the folding and the clock. Without it, the folding is
    /// the fastest whose estimate fits the target's device (docs/hw-config.md, "Folding to a
    /// device"; count-only targets: one pixel per cycle).
    #[arg(long)]
    pub hw: Option<PathBuf>,
}

impl CliError {
    /// A hardware-config error (`--hw`).
    pub fn hw(error: bnngen::plan::PlanError) -> CliError {
        CliError::Config {
            kind: FileKind::Hw,
            error,
        }
    }

    /// The error as a diagnostic with code, source line and help, when it is about a file
    /// the user wrote; `None` for tool, output and internal errors, which print as one line.
    pub fn annotated(&self) -> Option<Annotated> {
        match self {
            CliError::Model(e) => Some(e.annotated()),
            CliError::Config { kind, error } => error.annotated(*kind),
            CliError::File(a) => Some((**a).clone()),
            CliError::Input(e) => Some(e.annotated()),
            _ => None,
        }
    }

    /// 2 for bad input the user can fix, 1 for internal or tool failures and a missing
    /// cargo feature.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Model(_)
            | CliError::Input(_)
            | CliError::Sensor(_)
            | CliError::Config { .. }
            | CliError::File(_)
            | CliError::Usage(_) => 2,
            CliError::Output(e) if e.is_user_error() => 2,
            CliError::Write(_)
            | CliError::Output(_)
            | CliError::Internal(_)
            | CliError::Tool { .. }
            | CliError::Mismatch(_)
            | CliError::MissingFeature { .. } => 1,
        }
    }
}

/// Write `text` to stdout; a closed pipe (`bnngen ... | head`) is not an error.
pub fn print(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Write(WriteError {
            path: PathBuf::from("<stdout>"),
            source: e,
        })),
        _ => Ok(()),
    }
}

/// Serialize a report as pretty JSON with a trailing newline and print it.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::Internal(format!("JSON serialization failed: {e}")))?;
    print(&(text + "\n"))
}

/// The lines under a run's headline that say what went wrong, if anything: a timeout, the
/// first ten frames that differ, and a debug run's first wrong bit; for `simulate` and
/// the gate-level run (`synth::simulate_netlist`) alike.
pub fn failure_lines(r: &bnngen::verify::SimReport, frames: usize) -> String {
    let mut s = String::new();
    if r.timeout {
        s.push_str(&format!(
            "  timeout after {} cycles: {} of {} results\n",
            r.cycles,
            r.results.len(),
            frames
        ));
    }
    for mm in r.mismatches.iter().take(10) {
        s.push_str(&format!(
            "  frame {}: expected class {} scores {:?}, got class {:?} scores {:?}\n",
            mm.frame, mm.expected.class, mm.expected.scores, mm.got_class, mm.got_scores
        ));
    }
    if let Some(t) = &r.first_tap_mismatch {
        s.push_str(&format!(
            "  first wrong bit: layer `{}`, frame {}, pixel (y {}, x {}), channel {} (expected {})\n",
            t.layer, t.frame, t.y, t.x, t.channel, u8::from(t.expected)
        ));
    }
    s
}

/// Write the output file `path` (a regular file or a new path, never one of `inputs`) whole
/// or not at all; see `bnngen::output`.
pub fn write_output(path: &Path, bytes: &[u8], inputs: &[&Path]) -> Result<(), CliError> {
    Ok(bnngen::output::write_file(path, bytes, inputs)?)
}
