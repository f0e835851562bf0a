//! `bnngen synth`: generate a model's accelerator and take it through Yosys, nextpnr and the
//! bitstream packer for one FPGA target; print and write the report.

use std::path::{Path, PathBuf};

use indicatif::ProgressBar;

use bnngen::model;
use bnngen::output::OutputDir;
use bnngen::plan::{self, fit, HwConfig, WeightStore};
use bnngen::rtl;
use bnngen::synth::{self, Target};
use bnngen::tools::progress;

use super::CliError;

/// Synthesize a model's accelerator for an FPGA and report what it costs.
///
/// Generates the RTL (into OUT/synth-TARGET/rtl), synthesizes it with Yosys for the target,
/// and for iCE40 and ECP5 targets places and routes the board top (UART bridge + accelerator,
/// see constraints/) with nextpnr and packs a bitstream. Writes report.md and report.json
/// (format_version 1) into OUT/synth-TARGET/ and prints the report: LUTs, flip-flops, carry
/// cells, block RAMs, DSPs, device utilization, Fmax against the target clock (a miss is
/// reported as FAIL with the figure), and the plan's cycles per frame, frames/s and latency
/// at the achieved Fmax.
///
/// Targets: ice40-up5k (iCEBreaker), ice40-hx8k (HX8K breakout), ecp5-25k and ecp5-85k
/// (ULX3S; nextpnr-ecp5 and ecppack from the yowasp venv .venv/), xilinx (synth_xilinx,
/// counts only), generic (Yosys gates, counts only).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub input: super::DeviceBuild,
    /// FPGA target: ice40-up5k, ice40-hx8k, ecp5-25k, ecp5-85k, xilinx or generic.
    #[arg(long)]
    pub target: Target,
    /// Timing target in MHz (default: the --hw clock, else 48 for iCE40, 125 for ECP5, 100
    /// otherwise).
    #[arg(long)]
    pub clock: Option<f64>,
    /// Output folder (default rtl-out/<model name>/); the run goes into synth-<target>/.
    #[arg(short = 'o', long = "output", visible_alias = "out")]
    pub out: Option<PathBuf>,
    /// Placement seed for nextpnr.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Place and route with up to N seeds (--seed, --seed + 1, ...), stopping at the first
    /// that meets the clock; the report keeps that run (or the fastest) and lists every seed.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub tries: u32,
    /// Print the report as JSON instead of markdown.
    #[arg(long)]
    pub json: bool,
    /// Clock the board top from the FPGA's PLL, set as close to the timing target as its
    /// dividers allow (the report gives the setting; timing is checked at its exact
    /// frequency). Without it the board runs on its oscillator (12 or 25 MHz).
    #[arg(long)]
    pub pll: bool,
    /// Where the weights go: `bram` (ROMs in block RAM or logic, in the bitstream) or `spram`
    /// (ice40-up5k only: the largest weight ROMs in the four SB_SPRAM256KA, loaded from the
    /// SPI flash after reset; writes weights.bin for `iceprog -o 1M`, docs/synthesis.md).
    /// Default: the --hw file's `weights`, else `bram`.
    #[arg(long, value_parser = parse_weights)]
    pub weights: Option<WeightStore>,
}

/// `--weights bram|spram`.
pub fn parse_weights(s: &str) -> Result<WeightStore, String> {
    match s {
        "bram" => Ok(WeightStore::Bram),
        "spram" => Ok(WeightStore::Spram),
        _ => Err(format!("`{s}`: expected bram or spram")),
    }
}

/// Refuse weights in SPRAM for a target without SPRAM, naming where `spram` was asked for:
/// the flag, or the hardware file's `weights`.
pub fn check_weights_target(
    weights: WeightStore,
    flag: Option<WeightStore>,
    hw: Option<&Path>,
    target: Target,
) -> Result<(), CliError> {
    if weights != WeightStore::Spram || target == Target::Ice40Up5k {
        return Ok(());
    }
    let from = match (flag, hw) {
        (Some(_), _) | (None, None) => "--weights spram".to_string(),
        (None, Some(path)) => format!("{}: weights = \"spram\"", path.display()),
    };
    Err(CliError::Usage(format!(
        "{from} needs --target ice40-up5k (the only target with SPRAM), not {}",
        target.name()
    )))
}

pub fn run(args: Args) -> Result<(), CliError> {
    let target = args.target;
    // Refused before anything is read or written.
    let flag = args.weights;
    check_weights_target(flag.unwrap_or_default(), flag, None, target)?;
    let m = model::load(&args.input.model)?;
    let (hw, p) = match &args.input.hw {
        Some(path) => plan::fold_hw_file_with(&m, path, flag).map_err(CliError::hw)?,
        // No hw file: the fastest folding that fits the target, if it has capacity figures.
        None => {
            let hw = HwConfig {
                weights: flag,
                ..target.fold_config()
            };
            let p = fit::fold(&m, &hw).map_err(CliError::hw)?;
            (hw, p)
        }
    };
    // The hw file's `weights`, checked before anything is written.
    check_weights_target(p.weights, flag, args.input.hw.as_deref(), target)?;
    // A folding the hw file chose without the target's device must still hold its blocks.
    if let (Some(path), None, Some(device)) = (&args.input.hw, hw.device, target.plan_device()) {
        fit::check_blocks(&m, &p, device)
            .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
    }
    let spram = p.weights == WeightStore::Spram;
    let clock = match (args.clock, &args.input.hw) {
        (Some(c), _) if c > 0.0 && c.is_finite() => c,
        (Some(c), _) => return Err(CliError::Usage(format!("--clock {c}: expected MHz > 0"))),
        (None, Some(_)) => hw.clock_mhz,
        (None, None) => bnngen::flow::default_clock(target),
    };
    if args.pll {
        synth::flow::pll_setting(target, clock).map_err(|e| CliError::Usage(e.to_string()))?;
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("rtl-out").join(rtl::ident(&m.meta.name)));
    let out = OutputDir::open(&out)?;
    let bar = ProgressBar::new_spinner();
    bar.set_style(super::flow::spinner_style());
    bar.set_prefix("synth");
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    // The same bars as `bnngen flow`, one tool at a time (hidden when stderr is no terminal).
    let observer = |e: progress::Event| match e {
        progress::Event::Started { stage, log } => {
            bar.set_prefix(match stage {
                progress::Stage::VerilatorBuild => "verilate",
                progress::Stage::Synth => "synth",
                progress::Stage::PlaceRoute => "pnr",
                progress::Stage::Pack => "pack",
            });
            bar.reset();
            bar.set_style(super::flow::bar_style());
            bar.set_length(1);
            bar.set_message(log.display().to_string());
        }
        progress::Event::Progress { at, .. } => super::flow::show(&bar, at),
        progress::Event::SynthDone(_) | progress::Event::PlaceRouteDone(_) => {}
    };
    let design = synth::job::design_with(&m, &p, target, spram)?;
    let job = synth::SynthJob {
        model: &m,
        plan: &p,
        design: &design,
        target,
        clock_mhz: clock,
        seed: args.seed,
        tries: args.tries,
        pll: args.pll,
    };
    let done = synth::synthesize(&job, &out, &observer);
    bar.finish_and_clear();
    let done = done?;
    if args.json {
        super::print(&done.report.to_json())
    } else {
        super::print(&done.report.to_markdown())
    }
}

impl From<synth::JobError> for CliError {
    fn from(e: synth::JobError) -> CliError {
        match e {
            synth::JobError::Generate(m) => CliError::Usage(m),
            synth::JobError::Output(e) => CliError::Output(e),
            synth::JobError::Write(e) => CliError::Write(e),
            synth::JobError::Tool { tool, message } => CliError::Tool { tool, message },
        }
    }
}

/// The `simulate --netlist TARGET` mode: synthesize for the target, simulate the mapped
/// netlist with the family's cell models against the reference model (same stimulus with
/// gaps and back-pressure as RTL co-simulation). Exit status 1 on any mismatch.
pub fn simulate_netlist(
    m: &bnngen::model::Model,
    p: &bnngen::plan::Plan,
    target: Target,
    images: &[bnngen::input::Image],
    seed: u64,
    debug: bool,
    json: bool,
) -> Result<(), CliError> {
    use bnngen::synth::gate_sim::{self, GateSimError};

    let out = OutputDir::open(&Path::new("rtl-out").join(rtl::ident(&m.meta.name)))?;
    let staged = out.stage(&format!("netlist-{}", target.name()), &[])?;
    let g = gate_sim::simulate_netlist(
        m,
        p,
        target,
        images,
        bnngen::verify::Stress::random(seed),
        debug,
        staged.path(),
    );
    let mut g = match g {
        Ok(g) => g,
        Err(e @ GateSimError::Generate(_)) => return Err(CliError::Usage(e.to_string())),
        Err(e) => {
            let message = staged.shown(&e.to_string());
            staged.commit_failed(&message)?;
            return Err(CliError::Tool {
                tool: format!("netlist simulation ({})", target.name()),
                message,
            });
        }
    };
    g.netlist = PathBuf::from(staged.shown(&g.netlist.to_string_lossy()));
    staged.commit()?;
    let r = &g.report;
    let passed = r.passed();
    if json {
        #[derive(serde::Serialize)]
        struct Report<'a> {
            format_version: u32,
            model: &'a str,
            target: &'a str,
            netlist: &'a Path,
            frames: usize,
            passed: bool,
            resources: &'a bnngen::tools::yosys::Resources,
            stressed: &'a bnngen::verify::SimReport,
        }
        super::print_json(&Report {
            format_version: 1,
            model: &m.meta.name,
            target: target.name(),
            netlist: &g.netlist,
            frames: images.len(),
            passed,
            resources: &g.resources,
            stressed: r,
        })?;
    } else {
        let mut s = format!(
            "simulated {} frames of `{}` on the {} netlist ({}; {} LUTs, {} FFs, {} BRAMs) with random gaps and back-pressure: {}\n",
            images.len(),
            m.meta.name,
            target.name(),
            g.netlist.display(),
            g.resources.luts,
            g.resources.ffs,
            g.resources.bram,
            if passed {
                "all classes and scores match the reference"
            } else {
                "MISMATCH"
            }
        );
        s.push_str(&super::failure_lines(r, images.len()));
        super::print(&s)?;
    }
    if passed {
        Ok(())
    } else {
        Err(CliError::Mismatch(format!(
            "{} of {} frames of the {} netlist differ from the reference",
            r.mismatches.len().max(images.len() - r.results.len()),
            images.len(),
            target.name()
        )))
    }
}
