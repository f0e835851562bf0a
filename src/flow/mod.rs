//! The main job as one library call: a model file through check, plan, generate, verilate,
//! simulate, synth, pnr and report, into one run folder.
//!
//! Each step is the same library call its own subcommand makes, so the flow never computes a
//! figure differently from a command a user would run by hand. The flow reports what it does
//! as [`Event`]s (a step started, a tool or the simulation moved on, a step finished with its
//! one-line result); the command line draws them, and nothing here prints.
//!
//! One design goes from the generate step to the bitstream: it is generated for the synthesis
//! target's RAM family, co-simulated, and synthesized byte for byte (the digests in sim.json
//! and the synthesis report say so). The run is written in a staging folder
//! (`crate::output::Staged`) and put in place at the end, marked FAILED if a step failed, so
//! a run folder never mixes an earlier run's report with new logs.

mod cosim;
mod error;
mod figures;
mod images;

use std::path::{Path, PathBuf};

use crate::model::{self, Model};
use crate::output::{OutputDir, Staged, WriteError};
use crate::plan::{self, HwConfig, Plan};
use crate::report::{ModelFigures, ReportData, REPORT_FORMAT_VERSION};
use crate::rtl::{self, Design};
use crate::sensor::SensorConfig;
use crate::synth::{SynthJob, SynthOutcome, Target};
use crate::tools::progress::{self, Milestone, Stage};
use crate::tools::verilator::{self, BuildOptions, Simulator};

pub use error::FlowError;
pub use images::{is_fashion_mnist, ImageSet, FASHION_DIR};

/// What `--target` asked for.
#[derive(Debug, Clone, Copy)]
pub enum TargetChoice {
    Given(Target),
    /// No synthesis.
    Skip,
    /// The smallest part whose capacity holds the plan's cost estimate ([`default_target`]).
    Auto,
}

/// A flow run's options.
#[derive(Debug, Clone)]
pub struct FlowOptions {
    pub model: PathBuf,
    pub hw: Option<PathBuf>,
    pub target: TargetChoice,
    pub images: Option<PathBuf>,
    pub labels: Option<PathBuf>,
    pub frames: Option<usize>,
    pub seed: u64,
    /// Run folder (default rtl-out/<model name>/).
    pub out: Option<PathBuf>,
    pub pll: bool,
    /// Placement seeds to try from seed 1 until one meets the clock (`synth --tries`).
    pub tries: u32,
    /// A sensor file (docs/sensor.md): the images (given, or the Fashion-MNIST test set) are
    /// passed through it, as in training with a `[sensor]` table.
    pub sensor: Option<PathBuf>,
}

/// The steps of a run, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Check,
    Plan,
    Generate,
    Verilate,
    Simulate,
    Synth,
    Pnr,
    Report,
}

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::Check => "check",
            Step::Plan => "plan",
            Step::Generate => "generate",
            Step::Verilate => "verilate",
            Step::Simulate => "simulate",
            Step::Synth => "synth",
            Step::Pnr => "pnr",
            Step::Report => "report",
        }
    }
}

/// What a run reports as it goes. Paths in messages name the run folder, where the files will
/// be, not the staging folder they are written in.
#[derive(Debug)]
pub enum Event<'a> {
    Started(Step),
    /// What the running step is doing now.
    Doing(&'a str),
    /// The running step's tool moved on (Verilator objects, Yosys passes, nextpnr phases).
    Milestone(&'a Milestone),
    /// The simulation finished `done` of `total` frames.
    Frames {
        done: u64,
        total: u64,
    },
    Finished {
        step: Step,
        result: &'a str,
    },
    Failed(Step),
}

/// Receives [`Event`]s, from the caller's thread and from tool-watcher threads.
pub type Observer<'a> = &'a (dyn Fn(Event) + Sync);

/// A finished run: its folder and the report's figures.
pub struct FlowOutcome {
    pub run_dir: PathBuf,
    pub report: ReportData,
}

/// Run the flow: the options first (nothing is written if one is wrong), then the steps.
pub fn run(opts: &FlowOptions, observer: Observer) -> Result<FlowOutcome, FlowError> {
    let (hw, sensor) = check_options(opts)?;
    let m = step(observer, &|s| s, Step::Check, || check(opts))?;
    // Without an hw file, a given target's device sets the folding (`plan::fit`).
    let hw = hw.unwrap_or_else(|| match opts.target {
        TargetChoice::Given(t) => t.fold_config(),
        _ => HwConfig::default(),
    });
    let p = plan::fit::fold(&m, &hw).map_err(FlowError::options)?;
    let target = choose_target(opts, &m, &p, &hw)?;
    // A folding the hw file chose without the target's device must still hold its blocks.
    if let (Some(path), None, Some((t, _))) = (&opts.hw, hw.device, target) {
        if let Some(device) = t.plan_device() {
            plan::fit::check_blocks(&m, &p, device)
                .map_err(|e| FlowError::Options(format!("{}: {e}", path.display())))?;
        }
    }
    let set = images::choose(
        &m,
        opts.images.as_deref(),
        opts.labels.as_deref(),
        sensor
            .as_ref()
            .map(|s| (opts.sensor.as_deref().unwrap(), s)),
        opts.frames,
        opts.seed,
    )?;
    let run_dir = (opts.out.clone())
        .unwrap_or_else(|| PathBuf::from("rtl-out").join(rtl::ident(&m.meta.name)));
    let inputs: Vec<&Path> = std::iter::once(opts.model.as_path())
        .chain(opts.hw.as_deref())
        .chain(opts.images.as_deref())
        .chain(opts.labels.as_deref())
        .chain(opts.sensor.as_deref())
        .collect();
    let staged = Staged::begin(&run_dir, &inputs)?;
    let run = Run {
        model: &m,
        plan: &p,
        target,
        set: &set,
        opts,
        staged: &staged,
        observer,
    };
    match run.steps() {
        Ok(report) => {
            let run_dir = staged.commit()?;
            Ok(FlowOutcome { run_dir, report })
        }
        Err(e) => {
            let e = e.shown(&|t| staged.shown(t));
            staged.commit_failed(&e.to_string())?;
            Err(e)
        }
    }
}

/// Check the options that need no model: `--frames`, `--images`/`--labels` exist, and the
/// hardware file (returned).
fn check_options(
    opts: &FlowOptions,
) -> Result<(Option<HwConfig>, Option<SensorConfig>), FlowError> {
    if opts.frames == Some(0) {
        return Err(FlowError::Options(
            "--frames 0: the flow needs at least one frame to simulate".into(),
        ));
    }
    let folder = opts.images.as_ref().filter(|p| p.is_dir());
    for path in opts.images.iter().chain(&opts.labels) {
        if !path.is_file() && Some(path) != folder {
            return Err(FlowError::Options(format!(
                "{}: no such file (--images / --labels)",
                path.display()
            )));
        }
    }
    let hw = (opts.hw.as_deref().map(plan::load_hw).transpose()).map_err(FlowError::Hw)?;
    let sensor = (opts.sensor.as_deref().map(SensorConfig::load).transpose())
        .map_err(|e| FlowError::Options(e.to_string()))?;
    Ok((hw, sensor))
}

/// The check step: load and validate the model.
fn check(opts: &FlowOptions) -> Result<(Model, String), FlowError> {
    let m = model::load(&opts.model)?;
    let s = m.summary();
    let line = format!(
        "{} layers, {} stored weight bits, {} of {} tiles kept",
        m.layers.len(),
        s.weight_bits_stored,
        s.kept_tiles,
        s.total_tiles
    );
    Ok((m, line))
}

/// The smallest part whose capacity holds the cost estimate of the plan (`plan::cost`, with
/// the board top and within the budgets of `hw`, as `plan::fit` counts it): the iCE40 UP5K,
/// else the ECP5-25k, else the ECP5-85k (the largest, also when nothing fits; synthesis
/// then says by how much).
pub fn default_target(m: &Model, p: &Plan, hw: &HwConfig) -> Target {
    let estimate = plan::cost::estimate(m, p);
    let fits = |t: Target| {
        t.plan_device()
            .is_some_and(|d| plan::fit::device_use(&estimate, &d.capacity(), hw).fits())
    };
    [Target::Ice40Up5k, Target::Ecp5_25k]
        .into_iter()
        .find(|&t| fits(t))
        .unwrap_or(Target::Ecp5_85k)
}

/// The usual clock of a target when the user gives none ([`Target::default_clock_mhz`]).
pub fn default_clock(t: Target) -> f64 {
    t.default_clock_mhz()
}

/// The target and clock of the synthesis step (None: skipped), checked before the run folder
/// is touched: `--pll` needs a board whose PLL can make the clock, and weights in SPRAM the
/// UP5K (chosen for them when the target is automatic).
fn choose_target(
    opts: &FlowOptions,
    m: &Model,
    p: &Plan,
    hw: &HwConfig,
) -> Result<Option<(Target, f64)>, FlowError> {
    let spram = p.weights == plan::WeightStore::Spram;
    let t = match opts.target {
        TargetChoice::Skip if !spram => return Ok(None),
        TargetChoice::Given(t) if !spram || t == Target::Ice40Up5k => t,
        // Only the UP5K has SPRAM.
        TargetChoice::Auto if spram => Target::Ice40Up5k,
        TargetChoice::Auto => default_target(m, p, hw),
        TargetChoice::Skip | TargetChoice::Given(_) => {
            let file = opts
                .hw
                .as_deref()
                .map_or("the hw file".into(), |h| h.display().to_string());
            return Err(FlowError::Options(format!(
                "{file}: weights: `spram` needs --target ice40-up5k (the only target with SPRAM)"
            )));
        }
    };
    let clock = if opts.hw.is_some() {
        p.clock_mhz
    } else {
        default_clock(t)
    };
    if opts.pll {
        crate::synth::flow::pll_setting(t, clock).map_err(FlowError::options)?;
    }
    Ok(Some((t, clock)))
}

/// Run one step: announce it, then report its result line (paths shown by `shown`) or its
/// failure.
fn step<T>(
    observer: Observer,
    shown: &dyn Fn(String) -> String,
    s: Step,
    f: impl FnOnce() -> Result<(T, String), FlowError>,
) -> Result<T, FlowError> {
    observer(Event::Started(s));
    match f() {
        Ok((value, result)) => {
            observer(Event::Finished {
                step: s,
                result: &shown(result),
            });
            Ok(value)
        }
        Err(e) => {
            observer(Event::Failed(s));
            Err(e)
        }
    }
}

/// A run after its options, model, plan and images were accepted.
struct Run<'a> {
    model: &'a Model,
    plan: &'a Plan,
    target: Option<(Target, f64)>,
    set: &'a ImageSet,
    opts: &'a FlowOptions,
    staged: &'a Staged,
    observer: Observer<'a>,
}

impl Run<'_> {
    /// The steps after check, writing into the staging folder; returns the report's figures.
    fn steps(&self) -> Result<ReportData, FlowError> {
        let out = OutputDir::open(self.staged.path())?;
        let mut report = ReportData {
            format_version: REPORT_FORMAT_VERSION,
            model: ModelFigures::of(self.model),
            plan: Some(figures::plan_figures(self.plan)),
            simulation: None,
            synthesis: None,
            cost: Some(figures::cost_figures(
                self.model,
                self.plan,
                self.target.map(|t| t.0),
            )),
            folds: Some(
                figures::fold_figures(self.model, self.plan, self.target.map(|t| t.0))
                    .map_err(|e| FlowError::Internal(format!("fold sweep: {e}")))?,
            ),
        };
        out.write("model.toml", model::to_toml(self.model).as_bytes(), &[])?;
        self.step(Step::Plan, || self.write_plan(&out))?;
        let design = self.step(Step::Generate, || self.generate())?;
        let sim = self.step(Step::Verilate, || self.verilate(&design))?;
        let figures = self.step(Step::Simulate, || self.simulate(&design, &sim, &out))?;
        report.simulation = Some(figures);
        if let Some((target, clock)) = self.target {
            let done = self.synthesize(&design, target, clock, &out)?;
            report.synthesis = Some(figures::synthesis_figures(&done.report));
        }
        self.step(Step::Report, || {
            crate::report::write(&out, &report, true)?;
            let html = self.staged.path().join("report.html");
            Ok(((), html.display().to_string()))
        })?;
        Ok(report)
    }

    fn step<T>(
        &self,
        s: Step,
        f: impl FnOnce() -> Result<(T, String), FlowError>,
    ) -> Result<T, FlowError> {
        step(self.observer, &|t| self.staged.shown(&t), s, f)
    }

    fn write_plan(&self, out: &OutputDir) -> Result<((), String), FlowError> {
        let p = self.plan;
        let text = toml::to_string(p).map_err(|e| FlowError::Internal(e.to_string()))?;
        out.write("plan.toml", text.as_bytes(), &[])?;
        let line = format!(
            "{} cycles/frame, {:.0} frames/s at {} MHz, {} weight + {} buffer bits",
            p.cycles_per_frame, p.fps, p.clock_mhz, p.weight_bits, p.buffer_bits
        );
        Ok(((), line))
    }

    /// The design for the synthesis target's RAM family (the default family without one).
    fn generate(&self) -> Result<(Design, String), FlowError> {
        let opts = self
            .target
            .map(|(t, _)| t.gen_options())
            .unwrap_or_default();
        let ram = opts.ram;
        let design = rtl::generate(self.model, self.plan, opts).map_err(FlowError::options)?;
        let rtl_dir = self.staged.path().join("rtl");
        rtl::write_dir(&design, &rtl_dir).map_err(|source| WriteError {
            path: rtl_dir.clone(),
            source,
        })?;
        let line = format!(
            "{} modules in {} ({ram:?} memories, {})",
            design.modules.len(),
            rtl_dir.display(),
            rtl::design_digest(&design)
        );
        Ok((design, line))
    }

    /// Build (or reuse) the Verilator model of `design`.
    fn verilate(&self, design: &Design) -> Result<(Simulator, String), FlowError> {
        (self.observer)(Event::Doing("looking for a cached build"));
        let observer = |e: progress::Event| {
            if let progress::Event::Progress { at, .. } = e {
                (self.observer)(Event::Milestone(at));
            }
        };
        let options = BuildOptions {
            debug: false,
            trace: false,
            wload: !design.spram.is_empty(),
        };
        let sim = verilator::build_observed(&rtl::render(design), &design.top, options, &observer)
            .map_err(|e| FlowError::Tool {
                tool: "verilator".into(),
                message: e.to_string(),
            })?;
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
    }

    fn simulate(
        &self,
        design: &Design,
        sim: &Simulator,
        out: &OutputDir,
    ) -> Result<(crate::report::SimulationFigures, String), FlowError> {
        let cosim = cosim::Cosim {
            model: self.model,
            plan: self.plan,
            design,
            sim,
            set: self.set,
            seed: self.opts.seed,
        };
        let total = self.set.images.len() as u64;
        let jobs = cosim.jobs();
        let what = if jobs == 1 {
            "(1 simulator process)".to_string()
        } else {
            format!("({jobs} simulator processes)")
        };
        (self.observer)(Event::Doing(&what));
        (self.observer)(Event::Frames { done: 0, total });
        let f = cosim.run(out, &|done| {
            (self.observer)(Event::Frames { done, total });
        })?;
        let mut line = format!("{}: {} frames bit-exact", self.set.what, f.frames);
        if let Some(c) = f.correct {
            let percent = 100.0 * c as f64 / f.frames.max(1) as f64;
            line += &format!(", accuracy {percent:.2}%");
        }
        if let Some(c) = f.cycles_per_frame_measured {
            line += &format!(", {c:.0} cycles/frame measured");
        }
        Ok((f, line))
    }

    /// Synthesis (`synth`), then place and route with the bitstream (`pnr`, placeable targets),
    /// as two steps, driven by the synthesis flow's events.
    fn synthesize(
        &self,
        design: &Design,
        target: Target,
        clock: f64,
        out: &OutputDir,
    ) -> Result<SynthOutcome, FlowError> {
        let placeable = target.pnr_family().is_some();
        let shown = |t: &str| self.staged.shown(t);
        // A tool's log, where it will be: synth-<target>/ of the run folder (the synthesis job
        // writes in a staging folder of its own inside the flow's).
        let work = out.path().join(format!("synth-{}", target.name()));
        let log_path = |log: &Path| {
            shown(
                &work
                    .join(log.file_name().unwrap_or_default())
                    .display()
                    .to_string(),
            )
        };
        let running = std::sync::Mutex::new(Step::Synth);
        (self.observer)(Event::Started(Step::Synth));
        (self.observer)(Event::Doing(&format!(
            "writing the RTL for {}",
            target.name()
        )));
        let observer = |e: progress::Event| match e {
            progress::Event::Started { stage, log } => {
                let log = log_path(log);
                let doing = match stage {
                    Stage::Pack => format!("packing the bitstream ({log})"),
                    _ => format!("starting ({log})"),
                };
                (self.observer)(Event::Doing(&doing));
            }
            progress::Event::Progress { at, .. } => (self.observer)(Event::Milestone(at)),
            progress::Event::SynthDone(run) => {
                let r = &run.resources;
                let result = format!(
                    "{}: {} LUTs, {} FFs, {} carry, {} BRAMs, {} DSPs (Yosys), {} warnings; {}",
                    target.name(),
                    r.luts,
                    r.ffs,
                    r.carry,
                    r.bram,
                    r.dsp,
                    run.warnings.len(),
                    log_path(&run.log)
                );
                (self.observer)(Event::Finished {
                    step: Step::Synth,
                    result: &result,
                });
                if placeable {
                    *running.lock().expect("step lock") = Step::Pnr;
                    (self.observer)(Event::Started(Step::Pnr));
                    (self.observer)(Event::Doing("starting nextpnr"));
                }
            }
            progress::Event::PlaceRouteDone(_) => {}
        };
        let job = SynthJob {
            model: self.model,
            plan: self.plan,
            design,
            target,
            clock_mhz: clock,
            seed: 1,
            tries: self.opts.tries,
            pll: self.opts.pll,
        };
        let done = match crate::synth::synthesize(&job, out, &observer) {
            Ok(done) => done,
            Err(e) => {
                // The step that was running (synth, or pnr once Yosys finished) failed.
                let step = *running.lock().expect("step lock");
                (self.observer)(Event::Failed(step));
                return Err(e.into());
            }
        };
        if placeable {
            let result = shown(&pnr_line(&done));
            (self.observer)(Event::Finished {
                step: Step::Pnr,
                result: &result,
            });
        }
        Ok(done)
    }
}

/// The pnr step's result line: Fmax against the target, the main resources, the bitstream.
fn pnr_line(done: &SynthOutcome) -> String {
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
    line + &format!("; {}", done.report_md.display())
}
