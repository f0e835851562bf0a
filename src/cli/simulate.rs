//! `bnngen simulate`: co-simulate the generated RTL in Verilator against the reference model.

use std::path::PathBuf;

use serde::Serialize;

use bnngen::model;
use bnngen::random::random_image;
use bnngen::verify::{self, SimReport, Stress, VerifyError};
use bnngen::rtl::GenOptions;
use bnngen::sensor::SensorConfig;
use bnngen::synth::Target;
use bnngen::{input, rtl};

use super::plan::ModelFiles;
use super::CliError;

/// Simulate the generated RTL in Verilator and compare with the reference model.
///
/// Streams the images with seeded random input gaps and output back-pressure, compares every
/// class and score as integers, then measures cycles per frame in a second run without
/// stalls, beside the plan's figure. --debug taps every layer and names the first wrong bit
/// as (layer, frame, pixel, channel). Exit status 1 on any mismatch. Builds are cached by a
/// hash of the generated sources ($BNNGEN_SIM_CACHE).
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("stimulus").required(true).args(["images", "random"])))]
pub struct Args {
    #[command(flatten)]
    pub files: ModelFiles,
    /// A plan file from `bnngen plan -o`.
    #[arg(long, conflicts_with = "hw")]
    pub plan: Option<PathBuf>,
    /// Image file or set (PGM/PPM/PNG/IDX, as `infer` reads them).
    #[arg(long, value_name = "FILE")]
    pub images: Option<PathBuf>,
    /// Simulate N seeded random images instead.
    #[arg(long, value_name = "N")]
    pub random: Option<usize>,
    /// Seed for random images and for the gap / back-pressure pattern.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Use only the first N images.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Pass every image of --images through this sensor model first (a TOML file with a
    /// `[sensor]` table, docs/sensor.md), as `infer --sensor` does.
    #[arg(long, value_name = "SENSOR.toml", requires = "images")]
    pub sensor: Option<PathBuf>,
    /// Tap every layer and report the first mismatching bit.
    #[arg(long)]
    pub debug: bool,
    /// Simulate the RTL exactly as `synth --target T` and `flow --target T` synthesize it:
    /// that target's block-RAM family (ice40-* or ecp5-*, xilinx, generic) and, without
    /// `--hw` or `--plan`, the folding they choose for its device. Default: the ECP5 family
    /// and the default folding.
    #[arg(long, conflicts_with = "netlist")]
    pub target: Option<Target>,
    /// Write a VCD trace of the stressed run here.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Print a JSON report (with format_version).
    #[arg(long)]
    pub json: bool,
    /// Simulate the post-synthesis netlist for this target (ice40-up5k, ice40-hx8k,
    /// ecp5-25k, ecp5-85k, xilinx, generic) with the family's cell models instead of the RTL;
    /// the run goes into rtl-out/<model>/netlist-<target>/.
    #[arg(long, conflicts_with = "trace")]
    pub netlist: Option<Target>,
}

#[derive(Serialize)]
struct Report<'a> {
    format_version: u32,
    model: String,
    frames: usize,
    passed: bool,
    plan_cycles_per_frame: u64,
    measured_cycles_per_frame: Option<u64>,
    stressed: &'a SimReport,
}

fn tool(e: VerifyError) -> CliError {
    match e {
        VerifyError::Image { .. } | VerifyError::Generate(_) => CliError::Usage(e.to_string()),
        _ => CliError::Tool {
            tool: "verilator".into(),
            message: e.to_string(),
        },
    }
}

/// `--random N` holds N images in memory: refuse more than [`input::MAX_PIXELS`] pixel codes
/// (and N = 0) before generating any.
fn random_fits(n: usize, spec: &model::InputSpec) -> Result<(), CliError> {
    let per = spec.height * spec.width * spec.channels;
    match n.checked_mul(per) {
        _ if n == 0 => Err(CliError::Usage("--random must be at least 1".into())),
        Some(t) if t <= input::MAX_PIXELS => Ok(()),
        _ => Err(CliError::Usage(format!(
            "--random {n}: {n} images of {per} pixel codes are above the limit of {} codes \
             held in memory; simulate fewer frames",
            input::MAX_PIXELS
        ))),
    }
}

pub fn run(args: Args) -> Result<(), CliError> {
    if args.limit == Some(0) {
        return Err(CliError::Usage("--limit must be at least 1".into()));
    }
    bnngen::tools::verilator::cache_root().map_err(|e| CliError::Usage(e.to_string()))?;
    let target_opts = args.target.map(Target::gen_options).unwrap_or_default();
    let inputs: Vec<&std::path::Path> = args.files.paths().into_iter()
        .chain(args.plan.as_deref())
        .chain(args.images.as_deref())
        .chain(args.sensor.as_deref())
        .collect();
    // The trace is written to a temporary file and renamed into place when the run ends.
    let trace = match &args.trace {
        Some(path) => Some(bnngen::output::FileSlot::reserve(path, &inputs)?),
        None => None,
    };
    let m = model::load(&args.files.model)?;
    let p = super::plan::make_plan(
        &m,
        &args.files,
        args.plan.as_ref(),
        args.target.or(args.netlist),
    )?;
    let sensor = args.sensor.as_deref().map(SensorConfig::load).transpose()?;
    let mut images = match (&args.images, args.random) {
        (Some(path), _) => input::load_labelled_through(path, &m, sensor.as_ref())?.images,
        (None, Some(n)) => {
            random_fits(n, &m.input)?;
            (0..n)
            .map(|i| {
                random_image(
                    args.seed.wrapping_mul(1_000_003).wrapping_add(i as u64),
                    &m.input,
                )
            })
            .collect()
        }
        (None, None) => return Err(CliError::Usage("give --images FILE or --random N".into())),
    };
    if let Some(n) = args.limit {
        images.truncate(n);
    }
    if images.is_empty() {
        return Err(CliError::Usage("no images to simulate".into()));
    }
    if let Some(target) = &args.netlist {
        return super::synth::simulate_netlist(
            &m, &p, *target, &images, args.seed, args.debug, args.json,
        );
    }
    let opts = |debug| GenOptions {
        debug,
        ..target_opts
    };
    let stressed = verify::cosimulate_opts(
        &m,
        &p,
        &images,
        Stress::random(args.seed),
        opts(args.debug),
        trace.as_ref().map(|t| t.tmp()),
    )
    .map_err(tool)?;
    if let Some(t) = trace {
        let written = std::fs::metadata(t.tmp()).is_ok_and(|m| m.len() > 0);
        if !written {
            return Err(CliError::Internal(format!(
                "the simulator wrote no trace to {}",
                t.tmp().display()
            )));
        }
        t.commit()?;
    }
    let clean = if stressed.passed() {
        let few: Vec<_> = (images.iter().cycle())
            .take(verify::STEADY_FRAMES)
            .cloned()
            .collect();
        Some(
            verify::cosimulate_opts(&m, &p, &few, Stress::none(), opts(false), None)
                .map_err(tool)?,
        )
    } else {
        None
    };
    let measured = clean.as_ref().and_then(|c| c.measured_cycles_per_frame);
    let passed = stressed.passed() && clean.as_ref().is_some_and(|c| c.passed());
    if args.json {
        super::print_json(&Report {
            format_version: 1,
            model: m.meta.name.clone(),
            frames: images.len(),
            passed,
            plan_cycles_per_frame: p.cycles_per_frame,
            measured_cycles_per_frame: measured,
            stressed: &stressed,
        })?;
    } else {
        let mut s = format!(
            "simulated {} frames of `{}` (top {}_top) with random gaps and back-pressure: {}\n",
            images.len(),
            m.meta.name,
            rtl::ident(&m.meta.name),
            if passed {
                "all classes and scores match the reference"
            } else {
                "MISMATCH"
            }
        );
        s.push_str(&super::failure_lines(&stressed, images.len()));
        match (measured, clean.as_ref()) {
            (Some(c), _) => {
                s.push_str(&format!(
                    "cycles/frame: measured {c} in steady state, plan {}\n",
                    p.cycles_per_frame
                ));
                if c != p.cycles_per_frame {
                    s.push_str("  the measured cycles per frame differ from the plan\n");
                }
            }
            (None, Some(c)) => s.push_str(&format!(
                "cycles/frame: plan {}; the intervals between results did not settle: {:?}\n",
                p.cycles_per_frame,
                verify::intervals(&c.results)
            )),
            (None, None) => s.push_str(&format!("cycles/frame: plan {}\n", p.cycles_per_frame)),
        }
        super::print(&s)?;
    }
    if passed {
        Ok(())
    } else {
        Err(CliError::Mismatch(format!(
            "{} of {} frames differ from the reference",
            stressed.mismatches.len(),
            images.len()
        )))
    }
}
