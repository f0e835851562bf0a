//! `bnngen flow`: the main job in one command, from a model file to a report.
//!
//! The flow is a list of named steps (check, plan, generate, verilate, simulate, synth, pnr,
//! report), each the same library call its own subcommand makes, so the flow never computes a
//! figure differently from the command a user would run by hand. Every step prints one result
//! line; the long ones show a bar with an ETA, moved by the tool events of
//! `bnngen::tools::progress` (Verilator objects compiled, Yosys pass headers, nextpnr phases)
//! or by simulated frames. A failing step stops the flow with its own error. The run is
//! written in a staging folder (`bnngen::output::Staged`) and put in place at the end, marked
//! FAILED if a step failed, so a run folder never mixes an earlier run's report with new logs.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressState, ProgressStyle};

use bnngen::input::{self, Image};
use bnngen::model::{self, random::random_image, Model};
use bnngen::output::{OutputDir, Staged};
use bnngen::plan::{self, HwConfig, Plan};
use bnngen::report::{
    ModelFigures, PlanFigures, ReportData, Resource, SimulationFigures, StageFigures,
    SynthesisFigures, REPORT_FORMAT_VERSION,
};
use bnngen::rtl::{self, Design, GenOptions};
use bnngen::synth::{SynthOutcome, SynthReport, Target};
use bnngen::tools::progress::{Event, Milestone, Stage};
use bnngen::tools::verilator::{self, BuildOptions, Simulator};
use bnngen::verify::{self, Stress};

use super::CliError;

/// Where Debian's `dataset-fashion-mnist` puts the test set.
const FASHION_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Take a model all the way: check, plan, generate, co-simulate, synthesize, report.
///
/// Runs into one folder (default rtl-out/<model name>/): plan.toml, rtl/, sim.json,
/// synth-TARGET/, report.html and report.json. The folder must be new, empty, or one bnngen
/// wrote before (listed in its `.bnngen-manifest`); the run is written beside it and put in
/// place when it ends, so a failed run replaces it marked by a FAILED file with its logs, and
/// an interrupted one leaves it as it was. Options are checked before the first step. The co-simulation compares every class and
/// score of the RTL with the reference model as integers, on the whole Fashion-MNIST test set
/// (10,000 images, on two simulator processes) when the model takes 28x28 8-bit grayscale
/// images and has 10 classes (Debian package dataset-fashion-mnist), else on --images, else on
/// seeded random images. Steps: check, plan, generate, verilate, simulate, synth, pnr (place,
/// route and pack, iCE40 and ECP5 targets), report. The Verilator build, the simulation,
/// Yosys and nextpnr show progress bars with an ETA read from the tools' own progress; every
/// step prints a one-line result and the flow ends with a summary table. Any failing step
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
    /// Simulate at most N images (default: all of them: the whole 10,000-image Fashion-MNIST
    /// test set, every --images image, or 16 random ones).
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

/// The step that is running: its bar and when it began.
struct Running {
    name: &'static str,
    bar: ProgressBar,
    start: Instant,
}

/// The flow's steps: the one running (with its bar) and the finished ones. Shared with the
/// tool observers, which run on the log watcher's thread, hence the locks.
struct Steps {
    done: Mutex<Vec<StepLine>>,
    current: Mutex<Option<Running>>,
    /// (staging folder, run folder): results name the run folder, where the files will be.
    paths: std::sync::OnceLock<(String, String)>,
}

/// A spinner with elapsed time, for steps whose length is unknown.
pub(super) fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix:>9} [{elapsed_precise}] {msg}")
        .expect("valid template")
}

/// Seconds left at the step's mean rate so far (`done` of `total` in `elapsed`), or None
/// before the first unit is done. indicatif's own `{eta}` weighs recent updates, which made it
/// climb to hours whenever a tool went quiet for a few seconds between milestones (seen on the
/// chunked simulation under load); the mean rate is steadier and rests on the same evidence.
fn mean_eta(elapsed: Duration, done: u64, total: u64) -> Option<u64> {
    if total > 0 && done >= total {
        return Some(0);
    }
    if done == 0 {
        return None;
    }
    let secs = elapsed.as_secs_f64() * (total - done) as f64 / done as f64;
    Some(secs.round() as u64)
}

/// `{mean_eta}`: [`mean_eta`] as `1m 05s`, `42s` or `?`.
fn write_mean_eta(state: &ProgressState, w: &mut dyn std::fmt::Write) {
    let text = match mean_eta(state.elapsed(), state.pos(), state.len().unwrap_or(0)) {
        None => "?".to_string(),
        Some(s) if s >= 60 => format!("{}m {:02}s", s / 60, s % 60),
        Some(s) => format!("{s}s"),
    };
    let _ = write!(w, "{text:>7}");
}

/// A bar with elapsed time and ETA, for steps that report milestones.
pub(super) fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} {prefix:>9} [{elapsed_precise}] {bar:30} {percent:>3}% ETA {mean_eta} {msg}",
    )
    .expect("valid template")
    .with_key("mean_eta", write_mean_eta)
}

/// Move `bar` to a tool's milestone (switching it to the bar style on first use).
pub(super) fn show(bar: &ProgressBar, m: &Milestone) {
    if bar.length().is_none() {
        bar.set_style(bar_style());
    }
    bar.set_length(m.total);
    bar.set_position(m.done);
    bar.set_message(m.what.clone());
}

impl Steps {
    fn new() -> Steps {
        Steps {
            done: Mutex::new(Vec::new()),
            current: Mutex::new(None),
            paths: std::sync::OnceLock::new(),
        }
    }

    /// From now on, show paths in `staging` as paths in `run_dir`.
    fn show_paths(&self, staging: &Path, run_dir: &Path) {
        let _ = self.paths.set((
            staging.to_string_lossy().into_owned(),
            run_dir.to_string_lossy().into_owned(),
        ));
    }

    /// `text` with staging paths shown as run-folder paths.
    fn shown(&self, text: &str) -> String {
        match self.paths.get() {
            Some((from, to)) => text.replace(from.as_str(), to),
            None => text.to_string(),
        }
    }

    /// Start step `name` under a spinner; returns its bar.
    fn begin(&self, name: &'static str) -> ProgressBar {
        let bar = ProgressBar::new_spinner();
        bar.set_style(spinner_style());
        bar.set_prefix(name);
        bar.enable_steady_tick(Duration::from_millis(120));
        *self.current.lock().expect("steps lock") = Some(Running {
            name,
            bar: bar.clone(),
            start: Instant::now(),
        });
        bar
    }

    /// The running step's bar, if a step is running.
    fn bar(&self) -> Option<ProgressBar> {
        self.current
            .lock()
            .expect("steps lock")
            .as_ref()
            .map(|r| r.bar.clone())
    }

    /// Finish the running step with its one-line result.
    fn finish(&self, result: String) {
        let Some(r) = self.current.lock().expect("steps lock").take() else {
            return;
        };
        r.bar.finish_and_clear();
        let result = self.shown(&result);
        let took = r.start.elapsed();
        eprintln!("{:>9}: {result} ({:.1} s)", r.name, took.as_secs_f64());
        self.done.lock().expect("steps lock").push(StepLine {
            name: r.name,
            result,
            took,
        });
    }

    /// The running step failed: say so (the error itself is printed by `main`).
    fn fail(&self) {
        if let Some(r) = self.current.lock().expect("steps lock").take() {
            r.bar.finish_and_clear();
            eprintln!(
                "{:>9}: FAILED after {:.1} s",
                r.name,
                r.start.elapsed().as_secs_f64()
            );
        }
    }

    /// Run one step: begin, then finish with the closure's result line or fail.
    fn run<T>(
        &self,
        name: &'static str,
        f: impl FnOnce(&ProgressBar) -> Result<(T, String), CliError>,
    ) -> Result<T, CliError> {
        let bar = self.begin(name);
        match f(&bar) {
            Ok((value, result)) => {
                self.finish(result);
                Ok(value)
            }
            Err(e) => {
                self.fail();
                Err(e)
            }
        }
    }

    /// The summary table.
    fn table(&self) -> String {
        let mut table = String::from("\nstep       time     result\n");
        for s in self.done.lock().expect("steps lock").iter() {
            table += &format!(
                "{:<9} {:>6.1} s  {}\n",
                s.name,
                s.took.as_secs_f64(),
                s.result
            );
        }
        table
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
        let all = images.len();
        let n = limit(all).min(all);
        images.truncate(n);
        labels.truncate(n);
        return Ok(ImageSet {
            what: if n == all {
                format!("Fashion-MNIST test set, all {n}")
            } else {
                format!("Fashion-MNIST test set, first {n}")
            },
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

/// Build (or reuse) the Verilator model of `design`, with the compile's progress on `bar`.
fn verilate(design: &Design, bar: &ProgressBar) -> Result<Simulator, CliError> {
    bar.set_message("looking for a cached build");
    let files = rtl::render(design);
    let observer = |e: Event| {
        if let Event::Progress { at, .. } = e {
            show(bar, at);
        }
    };
    verilator::build_observed(
        &files,
        &design.top,
        BuildOptions {
            debug: false,
            trace: false,
        },
        &observer,
    )
    .map_err(|e| tool_error(e, "verilator"))
}

/// Images per simulator run: small enough for a smooth bar, large enough that starting the
/// simulator does not count.
const CHUNK: usize = 200;
/// Simulator processes run side by side (the build machine has 2 cores).
const SIM_JOBS: usize = 2;

/// What one chunk of images gave.
struct ChunkOutcome {
    mismatches: u64,
    failure: Option<String>,
    /// (label, RTL class) per frame, when labels are known.
    labelled: Vec<(usize, usize)>,
}

/// Simulate the `c`-th chunk of `set` and compare it with the reference model.
fn run_chunk(
    m: &Model,
    p: &Plan,
    design: &Design,
    sim: &Simulator,
    set: &ImageSet,
    seed: u64,
    c: usize,
) -> Result<ChunkOutcome, CliError> {
    let lo = c * CHUNK;
    let chunk = &set.images[lo..(lo + CHUNK).min(set.images.len())];
    let stress = Stress::random(seed.wrapping_add(c as u64));
    let stim = verify::stimulus(m, design, p.front_end, chunk, stress, false);
    let text = sim
        .run(&stim, None)
        .map_err(|e| tool_error(e, "verilator"))?;
    let r = verify::compare(m, design, chunk, &text, false, sim.cached)
        .map_err(|e| tool_error(e, "verilator"))?;
    let failure = (!r.passed()).then(|| {
        format!(
            "chunk from frame {lo}: {} mismatches{}",
            r.mismatches.len(),
            if r.timeout { ", timeout" } else { "" }
        )
    });
    let labelled = match &set.labels {
        Some(labels) => r
            .results
            .iter()
            .enumerate()
            .map(|(i, res)| (labels[lo + i] as usize, res.class))
            .collect(),
        None => Vec::new(),
    };
    Ok(ChunkOutcome {
        mismatches: (r.mismatches.len() + chunk.len().saturating_sub(r.results.len())) as u64,
        failure,
        labelled,
    })
}

/// Co-simulate `set` in chunks on SIM_JOBS simulator processes (one build serves all), the bar
/// counting frames with an ETA. Returns the report figures; any mismatch is an error after
/// sim.json is written. Chunks are combined in order, so the figures do not depend on which
/// process finished first.
#[allow(clippy::too_many_arguments)]
fn simulate(
    m: &Model,
    p: &Plan,
    design: &Design,
    sim: &Simulator,
    set: &ImageSet,
    seed: u64,
    bar: &ProgressBar,
    out: &OutputDir,
) -> Result<SimulationFigures, CliError> {
    let n = set.images.len();
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {prefix:>9} [{elapsed_precise}] {bar:30} {pos}/{len} frames, ETA {mean_eta} {msg}",
        )
        .expect("valid template")
        .with_key("mean_eta", write_mean_eta),
    );
    bar.set_length(n as u64);
    bar.set_position(0);
    let chunks = n.div_ceil(CHUNK);
    let jobs = std::thread::available_parallelism()
        .map_or(1, |j| j.get())
        .clamp(1, SIM_JOBS)
        .min(chunks.max(1));
    bar.set_message(if jobs == 1 {
        "(1 simulator process)".to_string()
    } else {
        format!("({jobs} simulator processes)")
    });
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Option<Result<ChunkOutcome, CliError>>>> =
        Mutex::new((0..chunks).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let c = next.fetch_add(1, Ordering::Relaxed);
                if c >= chunks {
                    break;
                }
                let out = run_chunk(m, p, design, sim, set, seed, c);
                let failed = out.is_err();
                if !failed {
                    bar.inc(CHUNK.min(n - c * CHUNK) as u64);
                }
                outcomes.lock().expect("outcomes lock")[c] = Some(out);
                if failed {
                    // Hand out no more chunks: the flow fails on this error.
                    next.store(chunks, Ordering::Relaxed);
                }
            });
        }
    });
    let classes = m.classes();
    let mut confusion = vec![vec![0u64; classes]; classes];
    let (mut mismatches, mut correct) = (0u64, 0u64);
    let mut first_failure = None;
    let outcomes = outcomes.into_inner().expect("outcomes lock");
    for out in outcomes.into_iter().flatten() {
        let o = out?;
        mismatches += o.mismatches;
        if first_failure.is_none() {
            first_failure = o.failure;
        }
        for (label, class) in o.labelled {
            if label < classes && class < classes {
                confusion[label][class] += 1;
            }
            correct += u64::from(label == class);
        }
    }
    // Cycles per frame without stalls, on a few frames, beside the plan's figure.
    let few: Vec<Image> = set
        .images
        .iter()
        .cycle()
        .take(n.clamp(2, 8))
        .cloned()
        .collect();
    let stim = verify::stimulus(m, design, p.front_end, &few, Stress::none(), false);
    let text = sim
        .run(&stim, None)
        .map_err(|e| tool_error(e, "verilator"))?;
    let clean = verify::compare(m, design, &few, &text, false, true)
        .map_err(|e| tool_error(e, "verilator"))?;
    let figures = SimulationFigures {
        frames: n as u64,
        mismatches,
        cycles_per_frame_measured: clean.measured_cycles_per_frame,
        cycles_per_frame_planned: Some(p.cycles_per_frame as f64),
        correct: set.labels.as_ref().map(|_| correct),
        confusion: set.labels.as_ref().map(|_| confusion),
        rtl_digest: Some(rtl::design_digest(design)),
    };
    let json = serde_json::to_string_pretty(&figures).expect("figures serialize");
    out.write("sim.json", json.as_bytes(), &[])?;
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

/// What `--target` asked for: a target, no synthesis, or the flow's choice after the plan.
enum TargetChoice {
    Given(Target),
    Skip,
    Auto,
}

/// The options that need no model, checked before the first step so that a typo costs no
/// simulation time and writes nothing.
struct Options {
    target: TargetChoice,
    hw: Option<HwConfig>,
}

fn check_options(args: &Args) -> Result<Options, CliError> {
    if args.frames == Some(0) {
        return Err(CliError::Usage(
            "--frames 0: the flow needs at least one frame to simulate".into(),
        ));
    }
    for path in args.images.iter().chain(&args.labels) {
        if !path.is_file() {
            return Err(CliError::Usage(format!(
                "{}: no such file (--images / --labels)",
                path.display()
            )));
        }
    }
    let target = match args.target.as_deref() {
        Some("none") => TargetChoice::Skip,
        Some(t) => TargetChoice::Given(Target::parse(t).map_err(CliError::Usage)?),
        None => TargetChoice::Auto,
    };
    let hw = match &args.hw {
        Some(path) => Some(plan::load_hw(path).map_err(|e| CliError::Usage(e.to_string()))?),
        None => None,
    };
    Ok(Options { target, hw })
}

/// The target and clock of the synthesis step (None: skipped), checked before the run folder
/// is touched: `--pll` needs a board whose PLL can make the clock.
fn choose_target(
    args: &Args,
    opts: &Options,
    p: &Plan,
) -> Result<Option<(Target, f64)>, CliError> {
    let t = match opts.target {
        TargetChoice::Skip => return Ok(None),
        TargetChoice::Given(t) => t,
        TargetChoice::Auto => default_target(p),
    };
    let clock = if args.hw.is_some() {
        p.clock_mhz
    } else {
        super::synth::default_clock(t)
    };
    if args.pll {
        bnngen::synth::flow::pll_setting(t, clock).map_err(|e| CliError::Usage(e.to_string()))?;
    }
    Ok(Some((t, clock)))
}

pub fn run(args: Args) -> Result<(), CliError> {
    let opts = check_options(&args)?;
    let steps = Steps::new();
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
    let hw = opts.hw.clone().unwrap_or_default();
    let p = plan::set_folding(&m, &hw).map_err(|e| CliError::Usage(e.to_string()))?;
    let target = choose_target(&args, &opts, &p)?;
    let set = choose_images(&args, &m)?;
    let run_dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("rtl-out").join(rtl::ident(&m.meta.name)));
    let inputs: Vec<&Path> = std::iter::once(args.model.as_path())
        .chain(args.hw.as_deref())
        .chain(args.images.as_deref())
        .chain(args.labels.as_deref())
        .collect();
    let staged = Staged::begin(&run_dir, &inputs)?;
    steps.show_paths(staged.path(), staged.target());
    match run_steps(&steps, &m, &p, target, &set, &args, staged.path()) {
        Ok(()) => {
            staged.commit()?;
            super::print(&steps.table())
        }
        Err(e) => {
            let why = staged.shown(&e.to_string());
            staged.commit_failed(&why)?;
            Err(match e {
                CliError::Tool { tool, .. } => CliError::Tool { tool, message: why },
                CliError::Mismatch(_) => CliError::Mismatch(why),
                other => other,
            })
        }
    }
}

/// The steps after check, writing into the run folder `dir` (a staging folder).
fn run_steps(
    steps: &Steps,
    m: &Model,
    p: &Plan,
    target: Option<(Target, f64)>,
    set: &ImageSet,
    args: &Args,
    dir: &Path,
) -> Result<(), CliError> {
    let mut report = ReportData {
        format_version: REPORT_FORMAT_VERSION,
        model: ModelFigures::of(m),
        plan: None,
        simulation: None,
        synthesis: None,
    };
    let out = OutputDir::open(dir)?;
    let write = |name: &str, text: &str| -> Result<(), CliError> {
        out.write(name, text.as_bytes(), &[])?;
        Ok(())
    };
    write("model.toml", &model::to_toml(m))?;
    steps.run("plan", |_| {
        let text = toml::to_string(p).map_err(|e| CliError::Internal(e.to_string()))?;
        write("plan.toml", &text)?;
        let line = format!(
            "{} cycles/frame, {:.0} frames/s at {} MHz, {} weight + {} buffer bits",
            p.cycles_per_frame, p.fps, p.clock_mhz, p.weight_bits, p.buffer_bits
        );
        Ok(((), line))
    })?;
    report.plan = Some(plan_figures(p));

    // One design from here to the bitstream: generated for the synthesis target's RAM family,
    // co-simulated, then synthesized byte for byte (the digests in sim.json and the synthesis
    // report say so).
    let design = steps.run("generate", |_| {
        let ram = target.map(|(t, _)| t.ram_family()).unwrap_or_default();
        let design = rtl::generate(m, p, GenOptions { ram, ..Default::default() })
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let rtl_dir = dir.join("rtl");
        rtl::write_dir(&design, &rtl_dir).map_err(|source| CliError::Write {
            path: rtl_dir.clone(),
            source,
        })?;
        let line = format!(
            "{} modules in {} ({:?} memories, {})",
            design.modules.len(),
            rtl_dir.display(),
            ram,
            rtl::design_digest(&design)
        );
        Ok((design, line))
    })?;

    let sim = steps.run("verilate", |bar| {
        let sim = verilate(&design, bar)?;
        let line = format!(
            "{} in {}{}",
            design.top,
            sim.dir.display(),
            if sim.cached {
                " (cached build, same RTL and options)"
            } else {
                " (compiled and linked)"
            }
        );
        Ok((sim, line))
    })?;
    let sim = steps.run("simulate", |bar| {
        let f = simulate(m, p, &design, &sim, set, args.seed, bar, &out)?;
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

    if let Some((t, clock)) = target {
        let job = super::synth::SynthJob {
            model: m,
            plan: p,
            design: &design,
            target: t,
            clock,
            seed: 1,
            pll: args.pll,
        };
        let done = synth_steps(steps, &job, &out)?;
        report.synthesis = Some(synthesis_figures(&done.report));
    }

    steps.run("report", |_| {
        super::report::write_report(&out, &report)?;
        Ok(((), dir.join("report.html").display().to_string()))
    })
}

/// Synthesis (`synth`), then place and route with the bitstream (`pnr`, placeable targets),
/// as two steps with their own bars, driven by the synthesis flow's events.
fn synth_steps(
    steps: &Steps,
    job: &super::synth::SynthJob,
    out: &OutputDir,
) -> Result<SynthOutcome, CliError> {
    let t = job.target;
    let bar = steps.begin("synth");
    bar.set_message(format!("writing the RTL for {}", t.name()));
    let placeable = t.pnr_family().is_some();
    let observer = |e: Event| match e {
        Event::Started { stage, log } => {
            if let Some(bar) = steps.bar() {
                let log = steps.shown(&log.display().to_string());
                bar.set_message(match stage {
                    Stage::Pack => format!("packing the bitstream ({log})"),
                    _ => format!("starting ({log})"),
                });
            }
        }
        Event::Progress { at, .. } => {
            if let Some(bar) = steps.bar() {
                show(&bar, at);
            }
        }
        Event::SynthDone(run) => {
            let r = &run.resources;
            steps.finish(format!(
                "{}: {} LUTs, {} FFs, {} carry, {} BRAMs, {} DSPs (Yosys), {} warnings; {}",
                t.name(),
                r.luts,
                r.ffs,
                r.carry,
                r.bram,
                r.dsp,
                run.warnings.len(),
                run.log.display()
            ));
            if placeable {
                steps.begin("pnr").set_message("starting nextpnr");
            }
        }
        Event::PlaceRouteDone(_) => {}
    };
    let done = match super::synth::synthesize(job, out, &observer) {
        Ok(done) => done,
        Err(e) => {
            steps.fail();
            return Err(e);
        }
    };
    if placeable {
        let r = &done.report;
        let mut line = String::new();
        if let Some(tm) = &r.timing {
            line += &format!(
                "Fmax {:.1} MHz vs {:.1} target ({})",
                tm.fmax_mhz,
                tm.target_mhz,
                if tm.pass { "met" } else { "FAILED" }
            );
        }
        for (name, u) in r.utilization.iter().filter(|(_, u)| u.used > 0) {
            if ["ICESTORM_LC", "TRELLIS_COMB", "ICESTORM_RAM", "DP16KD"].contains(&name.as_str()) {
                line += &format!(", {name} {}/{}", u.used, u.available);
            }
        }
        if let Some(b) = &r.bitstream {
            line += &format!("; {}", b.display());
        }
        line += &format!("; {}", done.report_md.display());
        steps.finish(line);
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_eta_extrapolates_the_mean_rate() {
        let s = Duration::from_secs;
        assert_eq!(mean_eta(s(10), 0, 100), None);
        assert_eq!(mean_eta(s(10), 25, 100), Some(30));
        assert_eq!(mean_eta(s(10), 100, 100), Some(0));
        // A quiet spell lowers the mean rate only in proportion to its length.
        assert_eq!(mean_eta(s(40), 1600, 10000), Some(210));
    }
}
