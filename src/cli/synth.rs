//! `bnngen synth`: generate a model's accelerator and take it through Yosys, nextpnr and the
//! bitstream packer for one FPGA target; print and write the report.

use std::path::{Path, PathBuf};

use indicatif::ProgressBar;

use bnngen::model;
use bnngen::plan::{self, HwConfig};
use bnngen::rtl::{self, GenOptions};
use bnngen::synth::gate_sim::rtl_design;
use bnngen::synth::{self, PlanFigures, SynthOptions, Target};
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
    /// Model file (TOML, format_version 1).
    pub model: PathBuf,
    /// Hardware configuration (TOML); its clock is the timing target unless --clock is given.
    #[arg(long)]
    pub hw: Option<PathBuf>,
    /// FPGA target: ice40-up5k, ice40-hx8k, ecp5-25k, ecp5-85k, xilinx or generic.
    #[arg(long)]
    pub target: String,
    /// Timing target in MHz (default: the --hw clock, else 48 for iCE40, 125 for ECP5, 100
    /// otherwise).
    #[arg(long)]
    pub clock: Option<f64>,
    /// Output folder (default rtl-out/<model name>/); the run goes into synth-<target>/.
    #[arg(short = 'o', long)]
    pub out: Option<PathBuf>,
    /// Placement seed for nextpnr.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print the report as JSON instead of markdown.
    #[arg(long)]
    pub json: bool,
    /// Clock the board top from the FPGA's PLL, set as close to the timing target as its
    /// dividers allow (the report gives the setting; timing is checked at its exact
    /// frequency). Without it the board runs on its oscillator (12 or 25 MHz).
    #[arg(long)]
    pub pll: bool,
}

/// The usual clock of a target when the user gives none.
pub fn default_clock(t: Target) -> f64 {
    match t {
        Target::Ice40Up5k | Target::Ice40Hx8k => 48.0,
        Target::Ecp5_25k | Target::Ecp5_85k => 125.0,
        Target::Xilinx | Target::Generic => 100.0,
    }
}

pub fn run(args: Args) -> Result<(), CliError> {
    let target = Target::parse(&args.target).map_err(CliError::Usage)?;
    let m = model::load(&args.model)?;
    let (hw, p) = match &args.hw {
        Some(path) => plan::fold_hw_file(&m, path).map_err(|e| CliError::Usage(e.to_string()))?,
        None => {
            let hw = HwConfig::default();
            let p = plan::set_folding(&m, &hw).map_err(|e| CliError::Usage(e.to_string()))?;
            (hw, p)
        }
    };
    let clock = match (args.clock, &args.hw) {
        (Some(c), _) if c > 0.0 && c.is_finite() => c,
        (Some(c), _) => return Err(CliError::Usage(format!("--clock {c}: expected MHz > 0"))),
        (None, Some(_)) => hw.clock_mhz,
        (None, None) => default_clock(target),
    };
    if args.pll {
        synth::flow::pll_setting(target, clock).map_err(|e| CliError::Usage(e.to_string()))?;
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("rtl-out").join(rtl::ident(&m.meta.name)));
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
    let done = synthesize(&m, &p, target, clock, args.seed, args.pll, &out, &observer);
    bar.finish_and_clear();
    let done = done?;
    if args.json {
        super::print(&done.report.to_json())
    } else {
        super::print(&done.report.to_markdown())
    }
}

/// What a synthesis run leaves in its work folder that says "this run finished": removed
/// before the tools run, so a run that fails midway never leaves an earlier run's report,
/// netlist or bitstream beside its own logs.
const RUN_OUTPUTS: [&str; 10] = [
    "report.md",
    "report.json",
    "netlist.json",
    "synth.stat.json",
    "pnr.report.json",
    "routed.asc",
    "routed.config",
    "bitstream.bin",
    "bitstream.bit",
    "pack.log",
];

/// Generate `m` folded by `p` and run the synthesis flow for `target` into
/// `out/synth-<target>/` (shared with `bnngen flow`), reporting the tools' progress to
/// `observer`.
#[allow(clippy::too_many_arguments)]
pub fn synthesize(
    m: &model::Model,
    p: &plan::Plan,
    target: Target,
    clock: f64,
    seed: u64,
    pll: bool,
    out: &Path,
    observer: progress::Observer,
) -> Result<synth::SynthOutcome, CliError> {
    let design = rtl::generate(
        m,
        p,
        GenOptions {
            ram: target.ram_family(),
            ..Default::default()
        },
    )
    .map_err(|e| CliError::Usage(e.to_string()))?;
    let work = out.join(format!("synth-{}", target.name()));
    for f in RUN_OUTPUTS {
        let path = work.join(f);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(CliError::Write { path, source: e })
            }
            _ => {}
        }
    }
    let rtl_dir = work.join("rtl");
    rtl::write_dir(&design, &rtl_dir).map_err(|source| CliError::Write {
        path: rtl_dir.clone(),
        source,
    })?;
    let rtl = rtl_design(&design, m.input.height * m.input.width, &rtl_dir);
    let weight_bits_in_bram: u64 = design
        .modules
        .iter()
        .flat_map(|md| md.mems.iter())
        .filter(|mem| mem.block_ram && (mem.name == "wrom" || mem.name.starts_with("wrom_b")))
        .map(|mem| mem.width as u64 * mem.depth as u64)
        .sum();
    let figures = PlanFigures {
        model: m.meta.name.clone(),
        cycles_per_frame: p.cycles_per_frame,
        latency_cycles: Some((p.latency_us * p.clock_mhz).round() as u64),
        kept_weight_bits: m.summary().weight_bits_stored as u64,
        weight_bits_in_bram,
    };
    let opts = SynthOptions {
        target,
        clock_mhz: clock,
        seed,
        work,
        pll,
    };
    synth::flow::run_observed(&rtl, &figures, &opts, observer).map_err(|e| CliError::Tool {
        tool: format!("synth {}", target.name()),
        message: e.to_string(),
    })
}

/// The `simulate --netlist TARGET` mode: synthesize for the target, simulate the mapped
/// netlist with the family's cell models against the reference model (same stimulus with
/// gaps and back-pressure as RTL co-simulation). Exit status 1 on any mismatch.
pub fn simulate_netlist(
    m: &bnngen::model::Model,
    p: &bnngen::plan::Plan,
    target: &str,
    images: &[bnngen::input::Image],
    seed: u64,
    debug: bool,
    json: bool,
) -> Result<(), CliError> {
    use bnngen::synth::gate_sim::{self, GateSimError};
    let target = Target::parse(target).map_err(CliError::Usage)?;
    let work = Path::new("rtl-out")
        .join(rtl::ident(&m.meta.name))
        .join(format!("netlist-{}", target.name()));
    let g = gate_sim::simulate_netlist(
        m,
        p,
        target,
        images,
        bnngen::verify::Stress::random(seed),
        debug,
        &work,
    )
    .map_err(|e| match e {
        GateSimError::Generate(_) => CliError::Usage(e.to_string()),
        _ => CliError::Tool {
            tool: format!("netlist simulation ({})", target.name()),
            message: e.to_string(),
        },
    })?;
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
        if r.timeout {
            s.push_str(&format!(
                "  timeout after {} cycles: {} of {} results\n",
                r.cycles,
                r.results.len(),
                images.len()
            ));
        }
        for mm in r.mismatches.iter().take(10) {
            s.push_str(&format!(
                "  frame {}: expected class {} scores {:?}, got class {:?} scores {:?}\n",
                mm.frame, mm.expected.class, mm.expected.scores, mm.got_class, mm.got_scores
            ));
        }
        if let Some(t) = &r.first_tap_mismatch {
            s.push_str(&format!(
                "  first wrong bit: layer `{}`, frame {}, pixel (y {}, x {}), channel {} (expected {})\n",
                t.layer, t.frame, t.y, t.x, t.channel, u8::from(t.expected)
            ));
        }
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
