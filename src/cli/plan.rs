//! `bnngen plan`: fold each layer onto PE x SIMD lanes and report cycles, memory and speed.

use std::path::PathBuf;

use bnngen::model;
use bnngen::plan::{self, HwConfig, Plan};

use super::CliError;

/// Fold the model onto hardware and print the plan.
///
/// For each layer: lanes (PE x SIMD), cycles per frame from the kept work only, weight and
/// buffer bits; then frames/s and latency at the target clock. With --hw, the hardware
/// configuration (docs/hw-config.md) sets the target clock and fps or explicit folds. The
/// TOML written by -o is a plan you can edit and feed back with `generate --plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Model file (TOML).
    pub model: PathBuf,
    /// Hardware configuration file (TOML).
    #[arg(long)]
    pub hw: Option<PathBuf>,
    /// Print the plan as JSON (with format_version).
    #[arg(long)]
    pub json: bool,
    /// Also write the plan as an editable TOML file here.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// Load the hardware config (or the default) and fold the model; shared by the RTL commands.
pub fn make_plan(
    m: &model::Model,
    hw: Option<&PathBuf>,
    plan_file: Option<&PathBuf>,
) -> Result<Plan, CliError> {
    let usage = |e: plan::PlanError| CliError::Usage(e.to_string());
    if let Some(p) = plan_file {
        return plan::load_plan(m, p).map_err(usage);
    }
    match hw {
        Some(p) => Ok(plan::fold_hw_file(m, p).map_err(usage)?.1),
        None => plan::set_folding(m, &HwConfig::default()).map_err(usage),
    }
}

pub fn run(args: Args) -> Result<(), CliError> {
    let mut inputs = vec![args.model.as_path()];
    inputs.extend(args.hw.as_deref());
    if let Some(out) = &args.output {
        bnngen::output::check_file(out, &inputs)?;
    }
    let m = model::load(&args.model)?;
    let p = make_plan(&m, args.hw.as_ref(), None)?;
    if let Some(out) = &args.output {
        let text = toml::to_string(&p).map_err(|e| CliError::Internal(e.to_string()))?;
        super::write_output(out, text.as_bytes(), &inputs)?;
    }
    if args.json {
        return super::print_json(&p);
    }
    super::print(&table(&p))
}

/// The plan as a text table.
pub fn table(p: &Plan) -> String {
    let mut s = format!(
        "plan for `{}` at {} MHz, front end {:?}\n",
        p.model, p.clock_mhz, p.front_end
    );
    s.push_str(&format!(
        "{:<16} {:<10} {:>4} {:>5} {:>6} {:>12} {:>12} {:>12}\n",
        "layer", "kind", "pe", "simd", "lanes", "cycles/frame", "weight bits", "buffer bits"
    ));
    for l in &p.layers {
        let mark = if l.cycles_per_frame == p.cycles_per_frame {
            " <- slowest"
        } else {
            ""
        };
        s.push_str(&format!(
            "{:<16} {:<10} {:>4} {:>5} {:>6} {:>12} {:>12} {:>12}{mark}\n",
            l.name, l.kind, l.pe, l.simd, l.lanes, l.cycles_per_frame, l.weight_bits, l.buffer_bits
        ));
    }
    s.push_str(&format!(
        "cycles/frame {} | {:.1} frames/s | latency <= {:.2} us | weight bits {} | buffer bits {}\n",
        p.cycles_per_frame, p.fps, p.latency_us, p.weight_bits, p.buffer_bits
    ));
    s
}
