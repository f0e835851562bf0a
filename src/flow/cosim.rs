//! The flow's co-simulation: the image set in chunks on two simulator processes sharing one
//! Verilator build, every class and score compared with the reference model as integers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::input::Image;
use crate::model::Model;
use crate::output::OutputDir;
use crate::plan::Plan;
use crate::report::SimulationFigures;
use crate::rtl::{self, Design};
use crate::tools::verilator::Simulator;
use crate::verify::{self, Stress};

use super::images::ImageSet;
use super::FlowError;

/// Images per simulator run: small enough for a smooth progress count, large enough that
/// starting the simulator does not count.
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

/// What the co-simulation runs on.
pub struct Cosim<'a> {
    pub model: &'a Model,
    pub plan: &'a Plan,
    pub design: &'a Design,
    pub sim: &'a Simulator,
    pub set: &'a ImageSet,
    pub seed: u64,
}

fn tool(e: impl std::fmt::Display) -> FlowError {
    FlowError::Tool {
        tool: "verilator".into(),
        message: e.to_string(),
    }
}

impl Cosim<'_> {
    /// Simulate the `c`-th chunk and compare it with the reference model.
    fn chunk(&self, c: usize) -> Result<ChunkOutcome, FlowError> {
        let (m, design, set) = (self.model, self.design, self.set);
        let lo = c * CHUNK;
        let chunk = &set.images[lo..(lo + CHUNK).min(set.images.len())];
        let stress = Stress::random(self.seed.wrapping_add(c as u64));
        let stim = verify::stimulus(m, design, self.plan.front_end, chunk, stress, false);
        let text = self.sim.run(&stim, None).map_err(tool)?;
        let r = verify::compare(m, design, chunk, &text, false, self.sim.cached).map_err(tool)?;
        let failure = (!r.passed()).then(|| {
            format!(
                "chunk from frame {lo}: {} mismatches{}",
                r.mismatches.len(),
                if r.timeout { ", timeout" } else { "" }
            )
        });
        let labelled = match &set.labels {
            Some(labels) => (r.results.iter().enumerate())
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

    /// Run every chunk on up to SIM_JOBS processes, calling `on_frames(done)` as chunks
    /// finish; then measure cycles per frame without stalls and write `sim.json` into `out`.
    /// Chunks are combined in order, so the figures do not depend on which process finished
    /// first. Any mismatch is an error, after sim.json is written.
    pub fn run(
        &self,
        out: &OutputDir,
        on_frames: &(dyn Fn(u64) + Sync),
    ) -> Result<SimulationFigures, FlowError> {
        let n = self.set.images.len();
        let chunks = n.div_ceil(CHUNK);
        let outcomes = self.all_chunks(chunks, on_frames);
        let classes = self.model.classes();
        let mut confusion = vec![vec![0u64; classes]; classes];
        let (mut mismatches, mut correct) = (0u64, 0u64);
        let mut first_failure = None;
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
        let labelled = self.set.labels.is_some();
        let figures = SimulationFigures {
            frames: n as u64,
            mismatches,
            cycles_per_frame_measured: self.measure_cycles()?,
            cycles_per_frame_planned: Some(self.plan.cycles_per_frame as f64),
            correct: labelled.then_some(correct),
            confusion: labelled.then_some(confusion),
            rtl_digest: Some(rtl::design_digest(self.design)),
        };
        let json = serde_json::to_string_pretty(&figures).expect("figures serialize");
        out.write("sim.json", json.as_bytes(), &[])?;
        if let Some(f) = first_failure {
            return Err(FlowError::Mismatch(format!(
                "{mismatches} of {n} frames differ from the reference model ({f}); \
                 rerun `bnngen simulate --debug` to locate the first wrong bit"
            )));
        }
        Ok(figures)
    }

    /// The processes the run uses (1 or 2).
    pub fn jobs(&self) -> usize {
        let chunks = self.set.images.len().div_ceil(CHUNK);
        std::thread::available_parallelism()
            .map_or(1, |j| j.get())
            .clamp(1, SIM_JOBS)
            .min(chunks.max(1))
    }

    /// Every chunk's outcome, in order (None for chunks skipped after a failure).
    fn all_chunks(
        &self,
        chunks: usize,
        on_frames: &(dyn Fn(u64) + Sync),
    ) -> Vec<Option<Result<ChunkOutcome, FlowError>>> {
        let n = self.set.images.len();
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let outcomes: Mutex<Vec<Option<Result<ChunkOutcome, FlowError>>>> =
            Mutex::new((0..chunks).map(|_| None).collect());
        std::thread::scope(|s| {
            for _ in 0..self.jobs() {
                s.spawn(|| loop {
                    let c = next.fetch_add(1, Ordering::Relaxed);
                    if c >= chunks {
                        break;
                    }
                    let out = self.chunk(c);
                    let failed = out.is_err();
                    if !failed {
                        let frames = CHUNK.min(n - c * CHUNK);
                        on_frames((done.fetch_add(frames, Ordering::Relaxed) + frames) as u64);
                    }
                    outcomes.lock().expect("outcomes lock")[c] = Some(out);
                    if failed {
                        // Hand out no more chunks: the flow fails on this error.
                        next.store(chunks, Ordering::Relaxed);
                    }
                });
            }
        });
        outcomes.into_inner().expect("outcomes lock")
    }

    /// Cycles per frame without stalls, in steady state, for comparison with the plan.
    fn measure_cycles(&self) -> Result<Option<f64>, FlowError> {
        let images = &self.set.images;
        let few: Vec<Image> = (images.iter().cycle())
            .take(verify::STEADY_FRAMES)
            .cloned()
            .collect();
        let (m, design) = (self.model, self.design);
        let stim = verify::stimulus(m, design, self.plan.front_end, &few, Stress::none(), false);
        let text = self.sim.run(&stim, None).map_err(tool)?;
        let clean = verify::compare(m, design, &few, &text, false, true).map_err(tool)?;
        Ok(clean.measured_cycles_per_frame.map(|c| c as f64))
    }
}
