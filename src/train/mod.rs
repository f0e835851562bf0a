//! Training (`bnngen train`): from a dataset (Fashion-MNIST, other IDX files or an image
//! folder, `data`) and a training config to a model file.
//!
//! This module writes model files and nothing else in the crate depends on it (it sits behind
//! the `train` cargo feature). The run is a list of steps: load the config and the data,
//! optionally train a float teacher, train the binary net (GLT / uniform / binary front end,
//! sign STEs, batch norm, block pruning, distillation), fold and export to `model::Model`, then
//! check the export: the reference model (`reference::infer`) must give the same scores as the
//! binarized evaluation graph on every test image. Method and file format: `docs/training.md`.

mod augment;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod export;
pub mod net;
pub mod plot;
pub mod prune;
pub mod rng;
pub mod study;
mod trainer;

pub use config::TrainConfig;
pub use trainer::{default_data_dir, run, run_partial, TrainOptions, TrainReport};

/// Why a training run could not finish.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The config file is unreadable or inconsistent (user error).
    #[error("training config: {0}")]
    Config(String),
    /// A config file with problems at its fields (user error); `summary` is the message.
    #[error("training config: {summary}")]
    ConfigFile {
        summary: String,
        file: String,
        text: String,
        problems: Vec<config::ConfigProblem>,
    },
    /// The dataset is missing or malformed (user error).
    #[error("dataset: {0}")]
    Data(String),
    /// A file could not be read or written.
    #[error("{0}")]
    Io(String),
    /// An output file bnngen refuses to write (special file, input), or could not.
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    /// A broken invariant of the trainer or exporter (a bug).
    #[error("internal error: {0}")]
    Internal(String),
}

impl TrainError {
    /// Whether the user can fix it (exit code 2) rather than a bug or I/O failure (1).
    pub fn is_user_error(&self) -> bool {
        match self {
            TrainError::Config(_) | TrainError::ConfigFile { .. } | TrainError::Data(_) => true,
            TrainError::Output(e) => e.is_user_error(),
            TrainError::Io(_) | TrainError::Internal(_) => false,
        }
    }
}
