//! Synthesis for FPGAs: targets (device, board, scripts), the flow that runs Yosys, nextpnr
//! and the bitstream packers over generated RTL, and the report it writes.
//!
//! The tools themselves sit behind the typed drivers in `crate::tools`; this module decides
//! what to run for a target and turns the results into one `SynthReport`.

pub mod board_files;
pub mod board_sim;
pub mod cells;
pub mod flash;
pub mod flow;
pub mod gate_sim;
pub mod job;
pub mod placement;
pub mod pll;
pub mod report;
pub mod target;

pub use flow::{run, PlanFigures, RtlDesign, SynthError, SynthOptions, SynthOutcome};
pub use job::{design_for, synthesize, JobError, SynthJob};
pub use report::{SynthReport, REPORT_FORMAT_VERSION};
pub use target::Target;
