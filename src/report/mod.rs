//! The run report: one self-contained HTML page with SVG plots, and the same numbers as JSON.
//!
//! The report reads figures, it computes none of its own beyond what the model states: the
//! plan, co-simulation and synthesis figures come from those steps' own results, gathered into
//! a [`ReportData`] (which is also the JSON the report writes). That keeps one source for every
//! number a person sees. `data.rs` gathers and converts, `plots.rs` draws, `html.rs` lays out.

mod data;
mod html;
mod plots;

pub use data::*;
pub use html::render_html;

/// Version of the report JSON; bump when a field changes meaning or is removed.
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// Write `report.json` and `report.html` into the run folder `dir` (each listed in its
/// manifest). `json` is false when the JSON is the report's own input (re-rendering).
pub fn write(
    dir: &crate::output::OutputDir,
    data: &ReportData,
    json: bool,
) -> Result<std::path::PathBuf, crate::output::OutputError> {
    if json {
        let text = serde_json::to_string_pretty(data).expect("report data serializes");
        dir.write("report.json", text.as_bytes(), &[])?;
    }
    dir.write("report.html", render_html(data).as_bytes(), &[])
}
