//! `bnngen flow`: the main job in one command, from a model file to a report.
//!
//! The flow itself is `bnngen::flow` (check, plan, generate, verilate, simulate, synth, pnr,
//! report); this file parses the options and draws the flow's events: every step prints one
//! result line, the long ones show a bar with an ETA (Verilator objects compiled, Yosys pass
//! headers, nextpnr phases, simulated frames), and a summary table closes the run.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressState, ProgressStyle};

use bnngen::flow::{self, Event, FlowError, FlowOptions, Step, TargetChoice};
use bnngen::synth::Target;
use bnngen::tools::progress::Milestone;

use super::CliError;

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
    /// generic, or none to skip synthesis. Default: the smallest of ice40-up5k, ecp5-25k and
    /// ecp5-85k whose capacity holds the plan's cost estimate (logic and block RAM, with the
    /// board top).
    #[arg(long, value_parser = parse_flow_target)]
    pub target: Option<TargetChoice>,
    /// Images to simulate (PGM/PPM/PNG/IDX) instead of the default set.
    #[arg(long)]
    pub images: Option<PathBuf>,
    /// IDX label file for --images, to report accuracy and a confusion matrix.
    #[arg(long, requires = "images")]
    pub labels: Option<PathBuf>,
    /// Pass the images (given, or the Fashion-MNIST test set) through this sensor model (a
    /// TOML file with a `[sensor]` table, docs/sensor.md), as training with `[sensor]` does.
    #[arg(long, value_name = "SENSOR.toml")]
    pub sensor: Option<PathBuf>,
    /// Simulate at most N images (default: all of them: the whole 10,000-image Fashion-MNIST
    /// test set, every --images image, or 16 random ones).
    #[arg(long)]
    pub frames: Option<usize>,
    /// Seed for random images and for the input-gap / back-pressure pattern.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Run folder (default rtl-out/<model name>/).
    #[arg(short = 'o', long = "output", visible_alias = "out")]
    pub out: Option<PathBuf>,
    /// Clock the board top from the FPGA's PLL at the timing target (as `bnngen synth --pll`).
    #[arg(long)]
    pub pll: bool,
    /// Place and route with up to N seeds, stopping at the first that meets the clock (as
    /// `bnngen synth --tries`).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub tries: u32,
}

/// `--target`: a target name, or `none` for no synthesis.
fn parse_flow_target(s: &str) -> Result<TargetChoice, String> {
    match s {
        "none" => Ok(TargetChoice::Skip),
        t => Target::parse(t).map(TargetChoice::Given),
    }
}

impl Args {
    /// The library's options.
    fn options(&self) -> Result<FlowOptions, CliError> {
        let target = self.target.unwrap_or(TargetChoice::Auto);
        Ok(FlowOptions {
            model: self.model.clone(),
            hw: self.hw.clone(),
            target,
            images: self.images.clone(),
            labels: self.labels.clone(),
            frames: self.frames,
            seed: self.seed,
            out: self.out.clone(),
            pll: self.pll,
            tries: self.tries,
            sensor: self.sensor.clone(),
        })
    }
}

pub fn run(args: Args) -> Result<(), CliError> {
    let opts = args.options()?;
    let steps = Steps::new();
    let observer = |e: Event| steps.on(e);
    match flow::run(&opts, &observer) {
        Ok(_) => super::print(&steps.table()),
        Err(e) => {
            steps.fail();
            Err(match e {
                FlowError::Model(e) => CliError::Model(e),
                FlowError::Input(e) => CliError::Input(e),
                FlowError::Output(e) => CliError::Output(e),
                FlowError::Hw(e) => CliError::hw(e),
                FlowError::Options(m) => CliError::Usage(m),
                FlowError::Write(e) => CliError::Write(e),
                FlowError::Tool { tool, message } => CliError::Tool { tool, message },
                FlowError::Mismatch(m) => CliError::Mismatch(m),
                FlowError::Internal(m) => CliError::Internal(m),
            })
        }
    }
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

/// The flow's steps as the terminal shows them: the one running (with its bar) and the
/// finished ones. Events come from the flow's thread and from tool-watcher threads, hence the
/// locks.
struct Steps {
    done: Mutex<Vec<StepLine>>,
    current: Mutex<Option<Running>>,
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


/// The simulation's bar: frames with an ETA.
fn frames_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} {prefix:>9} [{elapsed_precise}] {bar:30} {pos}/{len} frames, ETA {mean_eta} {msg}",
    )
    .expect("valid template")
    .with_key("mean_eta", write_mean_eta)
}

impl Steps {
    fn new() -> Steps {
        Steps {
            done: Mutex::new(Vec::new()),
            current: Mutex::new(None),
        }
    }

    /// Draw one flow event.
    fn on(&self, e: Event) {
        match e {
            Event::Started(step) => self.begin(step),
            Event::Doing(what) => {
                if let Some(bar) = self.bar() {
                    bar.set_message(what.to_string());
                }
            }
            Event::Milestone(m) => {
                if let Some(bar) = self.bar() {
                    show(&bar, m);
                }
            }
            Event::Frames { done, total } => {
                if let Some(bar) = self.bar() {
                    if bar.length() != Some(total) {
                        bar.set_style(frames_style());
                        bar.set_length(total);
                    }
                    bar.set_position(done);
                }
            }
            Event::Finished { result, .. } => self.finish(result),
            Event::Failed(_) => self.fail(),
        }
    }

    /// Start `step` under a spinner.
    fn begin(&self, step: Step) {
        let bar = ProgressBar::new_spinner();
        bar.set_style(spinner_style());
        bar.set_prefix(step.name());
        bar.enable_steady_tick(Duration::from_millis(120));
        *self.current.lock().expect("steps lock") = Some(Running {
            name: step.name(),
            bar,
            start: Instant::now(),
        });
    }

    /// The running step's bar, if a step is running.
    fn bar(&self) -> Option<ProgressBar> {
        let current = self.current.lock().expect("steps lock");
        current.as_ref().map(|r| r.bar.clone())
    }

    /// Finish the running step with its one-line result.
    fn finish(&self, result: &str) {
        let Some(r) = self.current.lock().expect("steps lock").take() else {
            return;
        };
        r.bar.finish_and_clear();
        let took = r.start.elapsed();
        eprintln!("{:>9}: {result} ({:.1} s)", r.name, took.as_secs_f64());
        self.done.lock().expect("steps lock").push(StepLine {
            name: r.name,
            result: result.to_string(),
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
