//! External tools at the edge of bnngen: each driver finds its tool, runs it with a log and
//! parses its output into structs.

pub mod locate;
pub mod nextpnr;
pub mod pack;
pub mod verilator;
pub mod yosys;

use std::path::PathBuf;

/// A tool could not be found or failed.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("`{tool}` not found (set {env} or install the Debian package `{package}`)")]
    Missing {
        tool: String,
        env: String,
        package: String,
    },
    #[error("{env} points at {path}, which is not a file; point it at `{tool}` or unset it and install the Debian package `{package}`")]
    BadOverride {
        tool: String,
        env: String,
        path: PathBuf,
        package: String,
    },
    #[error("{tool} failed: {message}\n(log: {log})")]
    Failed {
        tool: String,
        message: String,
        log: String,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Find `tool`: the environment variable `env` if set, else the first match on PATH.
pub fn find(tool: &str, env: &str, package: &str) -> Result<PathBuf, ToolError> {
    if let Some(p) = std::env::var_os(env) {
        let path = PathBuf::from(p);
        if !path.is_file() {
            return Err(ToolError::BadOverride {
                tool: tool.into(),
                env: env.into(),
                path,
                package: package.into(),
            });
        }
        return Ok(path);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let cand = dir.join(tool);
            if cand.is_file() {
                return Ok(cand);
            }
        }
    }
    Err(ToolError::Missing {
        tool: tool.into(),
        env: env.into(),
        package: package.into(),
    })
}
