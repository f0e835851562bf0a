//! `bnngen report`: render a run folder's report as one HTML page and its JSON.

use std::path::PathBuf;

use bnngen::report::{render_html, ReportData};

use super::{write_atomic, CliError};

/// Render the report of a run folder (as written by `bnngen flow`): `report.html`, one
/// self-contained page with SVG plots (tone curve, per-stage lanes, cycles and memory, pruning
/// map, resources and Fmax, co-simulation and accuracy), and `report.json` with the same
/// numbers.
///
/// The figures come from `RUN_DIR/report.json` when a flow wrote one; otherwise the report
/// shows what the model alone tells (`RUN_DIR/model.toml`, or `--model`), and marks the
/// other sections as not run.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run folder, e.g. rtl-out/<model name>/.
    run_dir: PathBuf,
    /// Model file to report on when the run folder has no report.json or model.toml.
    #[arg(long)]
    model: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<(), CliError> {
    let data_path = args.run_dir.join("report.json");
    let data: ReportData = if data_path.exists() && args.model.is_none() {
        let text = std::fs::read_to_string(&data_path)
            .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", data_path.display())))?;
        serde_json::from_str(&text).map_err(|e| {
            CliError::Usage(format!("{}: not a bnngen report: {e}", data_path.display()))
        })?
    } else {
        let model_path = args.model.clone().unwrap_or_else(|| args.run_dir.join("model.toml"));
        if !model_path.exists() {
            return Err(CliError::Usage(format!(
                "{} has neither report.json nor model.toml; pass --model MODEL",
                args.run_dir.display()
            )));
        }
        let model = bnngen::model::load(&model_path)?;
        ReportData::of_model(&model)
    };
    write_report(&args.run_dir, &data)?;
    println!("report: {}", args.run_dir.join("report.html").display());
    Ok(())
}

/// Write `report.html` and `report.json` into `dir` (each atomically).
pub fn write_report(dir: &std::path::Path, data: &ReportData) -> Result<(), CliError> {
    std::fs::create_dir_all(dir)
        .map_err(|source| CliError::Write { path: dir.to_path_buf(), source })?;
    let json = serde_json::to_string_pretty(data).expect("report data serializes");
    write_atomic(&dir.join("report.json"), json.as_bytes())?;
    write_atomic(&dir.join("report.html"), render_html(data).as_bytes())?;
    Ok(())
}
