//! One synthesis run of a generated design into a run folder: the call `bnngen synth` and
//! `bnngen flow` share, so the flow never synthesizes differently from the command.

use crate::model::Model;
use crate::output::{OutputDir, OutputError, WriteError};
use crate::plan::Plan;
use crate::rtl::netlist::MemDecl;
use crate::rtl::{self, Design, GenOptions};
use crate::tools::progress::Observer;

use super::gate_sim::rtl_design;
use super::{PlanFigures, SynthOptions, SynthOutcome, Target};

/// What to synthesize and how. The design must have been generated for the target's RAM
/// family ([`design_for`]); `flow` passes the very design it co-simulated.
pub struct SynthJob<'a> {
    pub model: &'a Model,
    pub plan: &'a Plan,
    pub design: &'a Design,
    pub target: Target,
    pub clock_mhz: f64,
    /// Placement seed, and how many seeds from it to try until one meets the clock.
    pub seed: u64,
    pub tries: u32,
    pub pll: bool,
}

/// Why a synthesis job did not finish.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The generator cannot lower the model (a user error).
    #[error("{0}")]
    Generate(String),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A tool failed; the message names its log, where the run folder keeps it.
    #[error("{tool}: {message}")]
    Tool { tool: String, message: String },
}

/// The flash image of the weights in SPRAM, in a synthesis run's folder.
pub const WEIGHTS_FILE: &str = "weights.bin";

/// The design `synth` and `flow` build for `target`: its RAM family's memories.
pub fn design_for(m: &Model, p: &Plan, target: Target) -> Result<Design, JobError> {
    design_with(m, p, target, false)
}

/// [`design_for`], with the largest weight ROMs in SPRAM when `spram` (iCE40 UP5K only).
pub fn design_with(m: &Model, p: &Plan, target: Target, spram: bool) -> Result<Design, JobError> {
    if spram && target != Target::Ice40Up5k {
        return Err(JobError::Generate(format!(
            "weights in SPRAM need --target ice40-up5k, not {}",
            target.name()
        )));
    }
    let opts = GenOptions {
        spram,
        ..target.gen_options()
    };
    rtl::generate(m, p, opts).map_err(|e| JobError::Generate(e.to_string()))
}

/// Synthesize `job.design` into the folder `synth-<target>/` of `out`, reporting the tools'
/// progress to `observer`. The run is written in a staging folder: a finished run replaces
/// the previous `synth-<target>/` whole; a failed one replaces it marked by a `FAILED` file,
/// with the logs the error names, so an earlier run's report or bitstream never sits beside
/// new logs.
pub fn synthesize(
    job: &SynthJob,
    out: &OutputDir,
    observer: Observer,
) -> Result<SynthOutcome, JobError> {
    let target = job.target;
    let staged = out.stage(&format!("synth-{}", target.name()), &[])?;
    let work = staged.path().to_path_buf();
    let rtl_dir = work.join("rtl");
    rtl::write_dir(job.design, &rtl_dir).map_err(|source| WriteError {
        path: staged.target().join("rtl"),
        source,
    })?;
    if !job.design.spram.is_empty() {
        // The weight image for `iceprog -o 1M weights.bin` (docs/synthesis.md).
        let bytes = super::flash::image_bytes(&job.design.load_image());
        std::fs::write(work.join(WEIGHTS_FILE), bytes).map_err(|source| WriteError {
            path: staged.target().join(WEIGHTS_FILE),
            source,
        })?;
    }
    let m = job.model;
    let rtl = rtl_design(job.design, m.input.height * m.input.width, &rtl_dir);
    let opts = SynthOptions {
        target,
        clock_mhz: job.clock_mhz,
        seed: job.seed,
        tries: job.tries,
        work,
        pll: job.pll,
        shown_as: Some(staged.target().to_path_buf()),
    };
    match super::flow::run_observed(&rtl, &plan_figures(job), &opts, observer) {
        Ok(mut done) => {
            let home = staged.commit()?;
            done.report_md = home.join("report.md");
            done.report_json = home.join("report.json");
            Ok(done)
        }
        Err(e) => {
            let message = staged.shown(&e.to_string());
            staged.commit_failed(&message)?;
            Err(JobError::Tool {
                tool: format!("synth {}", target.name()),
                message,
            })
        }
    }
}

/// The figures the synthesis report takes from the model, plan and design.
fn plan_figures(job: &SynthJob) -> PlanFigures {
    let (m, p) = (job.model, job.plan);
    let weight_bits = |keep: fn(&MemDecl) -> bool| -> u64 {
        (job.design.modules.iter())
            .flat_map(|md| md.mems.iter())
            .filter(|mem| mem.weights && keep(mem))
            .map(|mem| mem.width as u64 * mem.depth as u64)
            .sum()
    };
    PlanFigures {
        model: m.meta.name.clone(),
        cycles_per_frame: p.cycles_per_frame,
        latency_cycles: Some((p.latency_us * p.clock_mhz).round() as u64),
        kept_weight_bits: m.summary().weight_bits_stored as u64,
        weight_bits_in_bram: weight_bits(|mem| mem.block_ram),
        weight_bits_in_spram: weight_bits(|mem| mem.load_image.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{fit, HwConfig, WeightStore};

    /// With `weights = "spram"` the report counts the weights the loader writes into SPRAM
    /// (it said 0 weight bits in memories before), and with block RAM none are in SPRAM.
    #[test]
    fn weights_in_spram_are_counted_as_weights_in_memory() {
        let m = crate::model::load(std::path::Path::new("models/tiny.toml")).unwrap();
        let figures = |weights| {
            let hw = HwConfig {
                weights: Some(weights),
                ..Target::Ice40Up5k.fold_config()
            };
            let p = fit::fold(&m, &hw).unwrap();
            let spram = weights == WeightStore::Spram;
            let d = design_with(&m, &p, Target::Ice40Up5k, spram).unwrap();
            let job = SynthJob {
                model: &m,
                plan: &p,
                design: &d,
                target: Target::Ice40Up5k,
                clock_mhz: 48.0,
                seed: 1,
                tries: 1,
                pll: false,
            };
            let f = plan_figures(&job);
            let stored: u64 = d
                .spram
                .iter()
                .map(|s| s.width as u64 * s.depth as u64)
                .sum();
            (f, stored)
        };
        let (f, stored) = figures(WeightStore::Spram);
        assert!(f.weight_bits_in_spram > 0, "{f:?}");
        assert_eq!(f.weight_bits_in_spram, stored);
        let (f, _) = figures(WeightStore::Bram);
        assert_eq!(f.weight_bits_in_spram, 0, "{f:?}");
    }
}
