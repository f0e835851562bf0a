//! `bnngen flow`: the main job in one command, from a model file to a report.
//!
//! The flow is a list of named steps (check, plan, generate, simulate, synth, report), each the
//! same library call its own subcommand makes, so the flow never computes a figure
//! differently from the command a user would run by hand. Every step prints one result line;
//! steps that take long show a progress bar. A failing step stops the flow with its own error;
//! the report of an earlier run in the same folder is removed first, so a failed run never
//! leaves a report that looks complete.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use bnngen::input::{self, Image};
use bnngen::model::{self, random::random_image, Model};
use bnngen::plan::Plan;
use bnngen::report::{
    ModelFigures, PlanFigures, ReportData, Resource, SimulationFigures, StageFigures,
    SynthesisFigures, REPORT_FORMAT_VERSION,
};
use bnngen::rtl::{self, GenOptions};
use bnngen::synth::{SynthReport, Target};
use bnngen::tools::verilator::{self, BuildOptions};
use bnngen::verify::{self, Stress};

use super::CliError;

/// Where Debian's `dataset-fashion-mnist` puts the test set.
const FASHION_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Take a model all the way: check, plan, generate, co-simulate, synthesize, report.
///
/// Runs into one folder (default rtl-out/<model name>/): plan.toml, rtl/, sim.json,
/// synth-TARGET/, report.html and report.json. The co-simulation compares every class and
/// score of the RTL with the reference model as integers, on the Fashion-MNIST test set when
/// the model takes 28x28 8-bit grayscale images and has 10 classes (Debian package
/// dataset-fashion-mnist), else on --images, else on seeded random images. Any failing step
/// stops the flow with its error and log path; exit status 1 on any mismatch.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Model file (TOML, format_version 1).
    pub model: PathBuf,
    /// Hardware configuration (TOML): clock, frames/s target, folding, front-end placement.
    #[arg(long)]
    pub hw: Option<PathBuf>,
    /// FPGA target for synthesis: ice40-up5k, ice40-hx8k, ecp5-25k, ecp5-85k, xilinx,
    /// generic, or none to skip synthesis. Default: the smallest iCE40/ECP5 part whose block
    /// RAM holds the plan's memory bits.
    #[arg(long)]
    pub target: Option<String>,
    /// Images to simulate (PGM/PPM/PNG/IDX) instead of the default set.
    #[arg(long)]
    pub images: Option<PathBuf>,
    /// IDX label file for --images, to report accuracy and a confusion matrix.
    #[arg(long, requires = "images")]
    pub labels: Option<PathBuf>,
    /// Simulate at most N images (default: 1000 of a data set, 16 random ones otherwise).
    #[arg(long)]
    pub frames: Option<usize>,
    /// Seed for random images and for the input-gap / back-pressure pattern.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Run folder (default rtl-out/<model name>/).
    #[arg(short = 'o', long)]
    pub out: Option<PathBuf>,
    /// Clock the board top from the FPGA's PLL at the timing target (as `bnngen synth --pll`).
    #[arg(long)]
    pub pll: bool,
}

/// One finished step, for the summary table.
struct StepLine {
    name: &'static str,
    result: String,
    took: Duration,
}

struct Steps {
    done: Vec<StepLine>,
}

impl Steps {
    /// Run one step under a spinner with elapsed time, then print its one-line result.
    fn run<T>(
        &mut self,
        name: &'static str,
        f: impl FnOnce(&ProgressBar) -> Result<(T, String), CliError>,
    ) -> Result<T, CliError> {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix:>9} [{elapsed_precise}] {msg}")
                .expect("valid template"),
        );
        bar.set_prefix(name);
        bar.enable_steady_tick(Duration::from_millis(120));
        let start = Instant::now();
        let out = f(&bar);
        bar.finish_and_clear();
        let took = start.elapsed();
        match out {
            Ok((value, result)) => {
                eprintln!("{name:>9}: {result} ({:.1} s)", took.as_secs_f64());
                self.done.push(StepLine { name, result, took });
                Ok(value)
            }
            Err(e) => {
                eprintln!("{name:>9}: FAILED after {:.1} s", took.as_secs_f64());
                Err(e)
            }
        }
    }
}

/// Images to simulate and their labels, if known.
struct ImageSet {
    what: String,
    images: Vec<Image>,
    labels: Option<Vec<u8>>,
}

fn is_fashion_mnist(m: &Model) -> bool {
    let i = &m.input;
    (i.height, i.width, i.channels, i.bits) == (28, 28, 1, 8) && m.classes() == 10
}

fn choose_images(args: &Args, m: &Model) -> Result<ImageSet, CliError> {
    let limit = |n: usize| args.frames.unwrap_or(n);
    if let Some(path) = &args.images {
        let mut images = input::load_images_for(path, &m.input)?;
        let labels = match &args.labels {
            Some(l) => Some(input::load_labels_for(l, images.len(), m.classes())?),
            None => None,
        };
        let n = limit(images.len()).min(images.len());
        images.truncate(n);
        let labels = labels.map(|mut l| {
            l.truncate(n);
            l
        });
        return Ok(ImageSet {
            what: path.display().to_string(),
            images,
            labels,
        });
    }
    if is_fashion_mnist(m) {
        let dir = Path::new(FASHION_DIR);
        let images_path = dir.join("t10k-images-idx3-ubyte.gz");
        if !images_path.exists() {
            return Err(CliError::Usage(format!(
                "{} is missing: install the Debian package dataset-fashion-mnist \
                 (scripts/setup.sh does), or pass --images",
                images_path.display()
            )));
        }
        let mut images = input::load_images_for(&images_path, &m.input)?;
        let mut labels = input::idx::read_idx_labels(&dir.join("t10k-labels-idx1-ubyte.gz"))?;
        let n = limit(1000).min(images.len());
        images.truncate(n);
        labels.truncate(n);
        return Ok(ImageSet {
            what: format!("Fashion-MNIST test set, first {n}"),
            images,
            labels: Some(labels),
        });
    }
    let n = limit(16);
    let images = (0..n)
        .map(|i| {
            random_image(
                args.seed.wrapping_mul(1_000_003).wrapping_add(i as u64),
                &m.input,
            )
        })
        .collect();
    Ok(ImageSet {
        what: format!("{n} random images (seed {})", args.seed),
        images,
        labels: None,
    })
}

/// The smallest placeable part whose block RAM holds the plan's memory bits.
fn default_target(p: &Plan) -> Target {
    let bits = p.weight_bits + p.buffer_bits;
    // Block RAM capacity: iCE40 UP5K 30 x 4 Kbit, ECP5-25k 56 x 18 Kbit (a margin is kept
    // for packing losses). ECP5 packs wide shallow ROMs and line buffers poorly: the 419 Kbit
    // fashion-default of session 1 took 45 of the 56 DP16KD, the 717 Kbit one of session 2
    // needs 61 (Yosys 0.23 synth_ecp5), so the 25k is chosen only up to 60% of its bits.
    if bits * 10 <= 120 * 1024 * 8 {
        Target::Ice40Up5k
    } else if bits * 10 <= 56 * 18 * 1024 * 6 {
        Target::Ecp5_25k
    } else {
        Target::Ecp5_85k
    }
}

fn tool_error(e: impl std::fmt::Display, tool: &str) -> CliError {
    CliError::Tool {
        tool: tool.into(),
        message: e.to_string(),
    }
}

/// Co-simulate `set` in chunks so the bar can show progress and an ETA; one Verilator build
/// serves every chunk. Returns the report figures and the number of mismatching frames.
fn simulate(
    m: &Model,
    p: &Plan,
    set: &ImageSet,
    seed: u64,
    bar: &ProgressBar,
    run_dir: &Path,
) -> Result<SimulationFigures, CliError> {
    let design =
        rtl::generate(m, p, GenOptions::default()).map_err(|e| CliError::Usage(e.to_string()))?;
    bar.set_message("building the Verilator model");
    let files = rtl::render(&design);
    let sim = verilator::build(
        &files,
        &design.top,
        BuildOptions {
            debug: false,
            trace: false,
        },
    )
    .map_err(|e| tool_error(e, "verilator"))?;
    let n = set.images.len();
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {prefix:>9} [{elapsed_precise}] {bar:30} {pos}/{len} frames, ETA {eta}",
        )
        .expect("valid template"),
    );
    bar.set_length(n as u64);
    bar.set_position(0);
    let classes = m.classes();
    let mut confusion = vec![vec![0u64; classes]; classes];
    let (mut mismatches, mut correct) = (0u64, 0u64);
    let mut first_failure = None;
    const CHUNK: usize = 200;
    for (c, chunk) in set.images.chunks(CHUNK).enumerate() {
        let stress = Stress::random(seed.wrapping_add(c as u64));
        let stim = verify::stimulus(m, &design, p.front_end, chunk, stress, false);
        let text = sim
            .run(&stim, None)
            .map_err(|e| tool_error(e, "verilator"))?;
        let r = verify::compare(m, &design, chunk, &text, false, sim.cached)
            .map_err(|e| tool_error(e, "verilator"))?;
        if !r.passed() && first_failure.is_none() {
            first_failure = Some(format!(
                "chunk from frame {}: {} mismatches{}",
                c * CHUNK,
                r.mismatches.len(),
                if r.timeout { ", timeout" } else { "" }
            ));
        }
        mismatches += (r.mismatches.len() + chunk.len().saturating_sub(r.results.len())) as u64;
        if let Some(labels) = &set.labels {
            for (i, res) in r.results.iter().enumerate() {
                let label = labels[c * CHUNK + i] as usize;
                if label < classes && res.class < classes {
                    confusion[label][res.class] += 1;
                }
                correct += u64::from(label == res.class);
            }
        }
        bar.inc(chunk.len() as u64);
    }
    // Cycles per frame without stalls, on a few frames, beside the plan's figure.
    let few: Vec<Image> = set
        .images
        .iter()
        .cycle()
        .take(n.clamp(2, 8))
        .cloned()
        .collect();
    let stim = verify::stimulus(m, &design, p.front_end, &few, Stress::none(), false);
    let text = sim
        .run(&stim, None)
        .map_err(|e| tool_error(e, "verilator"))?;
    let clean = verify::compare(m, &design, &few, &text, false, true)
        .map_err(|e| tool_error(e, "verilator"))?;
    let figures = SimulationFigures {
        frames: n as u64,
        mismatches,
        cycles_per_frame_measured: clean.measured_cycles_per_frame,
        cycles_per_frame_planned: Some(p.cycles_per_frame as f64),
        correct: set.labels.as_ref().map(|_| correct),
        confusion: set.labels.as_ref().map(|_| confusion),
    };
    let json = serde_json::to_string_pretty(&figures).expect("figures serialize");
    super::write_atomic(&run_dir.join("sim.json"), json.as_bytes())?;
    if let Some(f) = first_failure {
        return Err(CliError::Mismatch(format!(
            "{mismatches} of {n} frames differ from the reference model ({f}); \
             rerun `bnngen simulate --debug` to locate the first wrong bit"
        )));
    }
    Ok(figures)
}

fn plan_figures(p: &Plan) -> PlanFigures {
    PlanFigures {
        clock_mhz: p.clock_mhz,
        frames_per_second: p.fps,
        latency_us: p.latency_us,
        layers: p
            .layers
            .iter()
            .map(|l| StageFigures {
                name: l.name.clone(),
                kind: l.kind.clone(),
                lanes: l.lanes as u64,
                cycles_per_frame: l.cycles_per_frame,
                memory_bits: l.weight_bits + l.buffer_bits,
            })
            .collect(),
    }
}

fn synthesis_figures(r: &SynthReport) -> SynthesisFigures {
    let resources = if r.utilization.is_empty() {
        let x = &r.resources;
        [
            ("LUT", x.luts),
            ("FF", x.ffs),
            ("carry", x.carry),
            ("BRAM", x.bram),
            ("DSP", x.dsp),
        ]
        .into_iter()
        .map(|(name, used)| Resource {
            name: name.into(),
            used,
            available: None,
        })
        .collect()
    } else {
        r.utilization
            .iter()
            .filter(|(_, u)| u.available > 0 && u.used > 0)
            .map(|(name, u)| Resource {
                name: name.clone(),
                used: u.used,
                available: Some(u.available),
            })
            .collect()
    };
    SynthesisFigures {
        target: r.target.clone(),
        device: r.device.clone(),
        resources,
        fmax_mhz: r.timing.as_ref().map(|t| t.fmax_mhz),
        target_mhz: r.target_clock_mhz,
        timing_met: r.timing.as_ref().is_some_and(|t| t.pass),
    }
}

pub fn run(args: Args) -> Result<(), CliError> {
    let mut steps = Steps { done: Vec::new() };
    let m = steps.run("check", |_| {
        let m = model::load(&args.model)?;
        let s = m.summary();
        let line = format!(
            "{} layers, {} stored weight bits, {} of {} tiles kept",
            m.layers.len(),
            s.weight_bits_stored,
            s.kept_tiles,
            s.total_tiles
        );
        Ok((m, line))
    })?;
    let run_dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("rtl-out").join(rtl::ident(&m.meta.name)));
    std::fs::create_dir_all(&run_dir).map_err(|source| CliError::Write {
        path: run_dir.clone(),
        source,
    })?;
    for stale in ["report.html", "report.json", "sim.json"] {
        let _ = std::fs::remove_file(run_dir.join(stale));
    }
    let mut report = ReportData {
        format_version: REPORT_FORMAT_VERSION,
        model: ModelFigures::of(&m),
        plan: None,
        simulation: None,
        synthesis: None,
    };
    super::write_atomic(&run_dir.join("model.toml"), model::to_toml(&m).as_bytes())?;

    let p = steps.run("plan", |_| {
        let p = super::plan::make_plan(&m, args.hw.as_ref(), None)?;
        let text = toml::to_string(&p).map_err(|e| CliError::Internal(e.to_string()))?;
        super::write_atomic(&run_dir.join("plan.toml"), text.as_bytes())?;
        let line = format!(
            "{} cycles/frame, {:.0} frames/s at {} MHz, {} weight + {} buffer bits",
            p.cycles_per_frame, p.fps, p.clock_mhz, p.weight_bits, p.buffer_bits
        );
        Ok((p, line))
    })?;
    report.plan = Some(plan_figures(&p));

    steps.run("generate", |_| {
        let design = rtl::generate(&m, &p, GenOptions::default())
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let dir = run_dir.join("rtl");
        rtl::write_dir(&design, &dir).map_err(|source| CliError::Write {
            path: dir.clone(),
            source,
        })?;
        Ok((
            (),
            format!("{} modules in {}", design.modules.len(), dir.display()),
        ))
    })?;

    let set = choose_images(&args, &m)?;
    let sim = steps.run("simulate", |bar| {
        let f = simulate(&m, &p, &set, args.seed, bar, &run_dir)?;
        let mut line = format!("{}: {} frames bit-exact", set.what, f.frames);
        if let Some(c) = f.correct {
            line += &format!(
                ", accuracy {:.2}%",
                100.0 * c as f64 / f.frames.max(1) as f64
            );
        }
        if let Some(c) = f.cycles_per_frame_measured {
            line += &format!(", {c:.0} cycles/frame measured");
        }
        Ok((f, line))
    })?;
    report.simulation = Some(sim);

    let target = match args.target.as_deref() {
        Some("none") => None,
        Some(t) => Some(Target::parse(t).map_err(CliError::Usage)?),
        None => Some(default_target(&p)),
    };
    if let Some(t) = target {
        let clock = if args.hw.is_some() {
            p.clock_mhz
        } else {
            super::synth::default_clock(t)
        };
        if args.pll {
            bnngen::synth::flow::pll_setting(t, clock)
                .map_err(|e| CliError::Usage(e.to_string()))?;
        }
        let done = steps.run("synth", |bar| {
            bar.set_message(format!("Yosys and nextpnr for {}", t.name()));
            let done = super::synth::synthesize(&m, &p, t, clock, 1, args.pll, &run_dir)?;
            let r = &done.report;
            let mut line = format!(
                "{}: {} LUTs, {} FFs, {} BRAMs",
                t.name(),
                r.resources.luts,
                r.resources.ffs,
                r.resources.bram
            );
            if let Some(tm) = &r.timing {
                line += &format!(
                    ", Fmax {:.1} MHz vs {:.1} target ({})",
                    tm.fmax_mhz,
                    tm.target_mhz,
                    if tm.pass { "met" } else { "FAILED" }
                );
            }
            line += &format!("; {}", done.report_md.display());
            Ok((done, line))
        })?;
        report.synthesis = Some(synthesis_figures(&done.report));
    }

    steps.run("report", |_| {
        super::report::write_report(&run_dir, &report)?;
        Ok(((), run_dir.join("report.html").display().to_string()))
    })?;

    let mut table = String::from("\nstep       time     result\n");
    for s in &steps.done {
        table += &format!(
            "{:<9} {:>6.1} s  {}\n",
            s.name,
            s.took.as_secs_f64(),
            s.result
        );
    }
    super::print(&table)
}
