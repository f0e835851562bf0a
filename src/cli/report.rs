//! `bnngen report`: render a run folder's report as one HTML page and its JSON.

use std::path::PathBuf;

use bnngen::output::OutputDir;
use bnngen::report::ReportData;

use super::CliError;

/// Render a run folder's report as report.html and report.json.
///
/// Writes `report.html` in RUN_DIR (as written by `bnngen flow`), one self-contained page
/// with SVG plots (tone curve, per-stage lanes, cycles and memory, pruning map, cycles per
/// frame against logic as the fold grows, resources and Fmax, co-simulation and accuracy), and
/// `report.json` with the same numbers.
///
/// The figures come from `RUN_DIR/report.json` when a flow wrote one (then only report.html
/// is written); otherwise the report shows what the model alone tells (`RUN_DIR/model.toml`,
/// or `--model`), and marks the other sections as not run. RUN_DIR must be new, empty, or a
/// folder bnngen wrote (it lists its files in `.bnngen-manifest`).
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
    let from_json = data_path.exists() && args.model.is_none();
    let data: ReportData = if from_json {
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
    let dir = OutputDir::open(&args.run_dir)?;
    if let Some(model) = &args.model {
        // Refuse to rewrite a model that sits in the run folder under a report's name.
        bnngen::output::check_file(&dir.path().join("report.json"), &[model])?;
        bnngen::output::check_file(&dir.path().join("report.html"), &[model])?;
    }
    let html = bnngen::report::write(&dir, &data, !from_json)?;
    println!("report: {}", html.display());
    Ok(())
}
