//! The figures a run's report takes from the plan and the synthesis report.

use crate::model::Model;
use crate::plan::{cost, Plan};
use crate::report::{
    CostFigures, FoldSweepFigures, PlanFigures, Resource, StageFigures, SynthesisFigures,
};
use crate::synth::SynthReport;

/// The plan's figures for the report.
pub fn plan_figures(p: &Plan) -> PlanFigures {
    PlanFigures {
        clock_mhz: p.clock_mhz,
        frames_per_second: p.fps,
        latency_us: p.latency_us,
        layers: p
            .layers
            .iter()
            .map(|l| StageFigures {
                name: l.name.clone(),
                kind: l.kind.to_string(),
                lanes: l.lanes as u64,
                cycles_per_frame: l.cycles_per_frame,
                memory_bits: l.weight_bits + l.buffer_bits,
            })
            .collect(),
    }
}

/// The cost estimate for the report: for the synthesis target's family and beside its
/// capacity, or for iCE40 when the run synthesizes nothing.
pub fn cost_figures(m: &Model, p: &Plan, target: Option<crate::synth::Target>) -> CostFigures {
    let c = cost::estimate(m, p);
    let family = target.map_or(cost::ram::RamFamily::Ice40, |t| t.ram_family());
    CostFigures::of(&c, family, target.and_then(|t| t.capacity()))
}

/// The fold sweep for the report (`plan::sweep`), estimated for the synthesis target's family
/// (iCE40 when the run synthesizes nothing), with the run's plan beside it.
pub fn fold_figures(
    m: &Model,
    p: &Plan,
    target: Option<crate::synth::Target>,
) -> Result<FoldSweepFigures, crate::plan::PlanError> {
    let family = target.map_or(cost::ram::RamFamily::Ice40, |t| t.ram_family());
    FoldSweepFigures::of(m, p, family)
}

/// The synthesis report's figures for the run report: utilization against the device when
/// placed, else the counts.
pub fn synthesis_figures(r: &SynthReport) -> SynthesisFigures {
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
