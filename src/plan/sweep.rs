//! Cycles per frame against logic as the fold grows: the trade a user makes when choosing a
//! frame rate.
//!
//! The sweep starts from the narrowest folding (one XNOR lane per layer) and halves the
//! cycle budget step by step, folding each budget with [`set_folding`] exactly as an `fps`
//! target in a hardware file would, until the widest folding is reached. Each distinct plan
//! is one point, with its cost estimate (`plan::cost`). The clock, pop-count stages, hand-off
//! and front-end placement are the given plan's, so a run's own plan can be read against its
//! sweep (the report draws both).

use super::{cost, set_folding, Fold, HwConfig, Plan, PlanError};
use crate::model::Model;

/// Most points a sweep takes: each halves the budget, so 48 cover any cycle count below 2^48.
const MAX_STEPS: usize = 48;

/// One folding of the sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPoint {
    pub plan: Plan,
    pub cost: cost::DesignCost,
}

/// The hardware configuration that folds `model` like `plan` does, at `budget` cycles per
/// frame: the plan's clock, pop-count stages, hand-off, placement and
/// weight store; automatic folds.
pub fn at_budget(plan: &Plan, budget: u64) -> HwConfig {
    HwConfig {
        clock_mhz: plan.clock_mhz,
        fps: Some(plan.clock_mhz * 1e6 / budget as f64),
        front_end: plan.front_end,
        popcount_stages: Some(plan.popcount_stages),
        handoff: plan.handoff,
        weights: Some(plan.weights),
        ..HwConfig::default()
    }
}

/// The plan with one lane per layer (the slowest folding) and the widest one, as budgets:
/// the cycles per frame of each.
fn budget_range(model: &Model, plan: &Plan) -> Result<(u64, u64), PlanError> {
    let narrow: Vec<Fold> = model.layers.iter().map(|_| Fold::lanes(1, 1)).collect();
    let hw = at_budget(plan, 1);
    let slowest = super::plan_from_folds(model, &hw, &narrow).cycles_per_frame;
    let fastest = set_folding(model, &hw)?.cycles_per_frame;
    Ok((slowest.max(1), fastest.max(1)))
}

/// The foldings of `model` from the narrowest to the widest, each budget half the one before,
/// with the settings of `plan` (see the module doc). Cycles per frame fall strictly from one
/// point to the next.
pub fn fold_sweep(model: &Model, plan: &Plan) -> Result<Vec<SweepPoint>, PlanError> {
    let (slowest, fastest) = budget_range(model, plan)?;
    let mut points: Vec<SweepPoint> = Vec::new();
    let mut budget = slowest;
    for _ in 0..MAX_STEPS {
        let p = set_folding(model, &at_budget(plan, budget))?;
        if points
            .last()
            .is_none_or(|last| p.cycles_per_frame < last.plan.cycles_per_frame)
        {
            let c = cost::estimate(model, &p);
            points.push(SweepPoint { plan: p, cost: c });
        }
        if budget <= fastest {
            break;
        }
        budget = (budget / 2).max(fastest);
    }
    Ok(points)
}
