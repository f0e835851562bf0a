//! What can stop a flow run, and whether the user can fix it.

use crate::input::InputError;
use crate::model::ModelErrors;
use crate::output::{OutputError, WriteError};
use crate::plan::PlanError;
use crate::synth::JobError;

#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    #[error(transparent)]
    Model(#[from] ModelErrors),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Output(#[from] OutputError),
    /// A hardware config (`--hw`) that cannot be read or is invalid.
    #[error(transparent)]
    Hw(PlanError),
    /// An option, hardware file or plan the flow cannot use.
    #[error("{0}")]
    Options(String),
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A tool failed; the message names its log.
    #[error("{tool}: {message}")]
    Tool { tool: String, message: String },
    /// The RTL disagrees with the reference model.
    #[error("RTL mismatch: {0}")]
    Mismatch(String),
    /// A broken internal invariant: a bug in bnngen.
    #[error("internal error (a bug in bnngen): {0}")]
    Internal(String),
}

impl FlowError {
    /// An option error from anything that displays.
    pub fn options(e: impl std::fmt::Display) -> FlowError {
        FlowError::Options(e.to_string())
    }

    /// True for errors the user fixes (exit status 2).
    pub fn is_user_error(&self) -> bool {
        match self {
            FlowError::Model(_)
            | FlowError::Input(_)
            | FlowError::Hw(_)
            | FlowError::Options(_) => true,
            FlowError::Output(e) => e.is_user_error(),
            FlowError::Write(_)
            | FlowError::Tool { .. }
            | FlowError::Mismatch(_)
            | FlowError::Internal(_) => false,
        }
    }

    /// The error with the staging folder's paths in its messages shown by `shown` (as the run
    /// folder they are put in).
    pub(super) fn shown(self, shown: &dyn Fn(&str) -> String) -> FlowError {
        match self {
            FlowError::Tool { tool, message } => FlowError::Tool {
                tool,
                message: shown(&message),
            },
            FlowError::Mismatch(m) => FlowError::Mismatch(shown(&m)),
            other => other,
        }
    }
}

impl From<JobError> for FlowError {
    fn from(e: JobError) -> FlowError {
        match e {
            JobError::Generate(m) => FlowError::Options(m),
            JobError::Output(e) => FlowError::Output(e),
            JobError::Write(e) => FlowError::Write(e),
            JobError::Tool { tool, message } => FlowError::Tool { tool, message },
        }
    }
}
