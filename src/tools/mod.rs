//! External tools at the edge of bnngen: each driver finds its tool, runs it with a log and
//! parses its output into structs. [`locate`] is the one lookup (override variable, `PATH`,
//! project venv) and the one error type for all of them.

pub mod child;
pub mod locate;
pub mod nextpnr;
mod nextpnr_result;
pub mod pack;
pub mod progress;
pub mod verilator;
pub mod yosys;
mod yosys_result;

pub use locate::{find, Tool, ToolError, ToolSpec};
