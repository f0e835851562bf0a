//! What a report shows, as plain serializable figures, and how they are derived from a model.

use serde::{Deserialize, Serialize};

use crate::model::{FrontEnd, Model, Summary, ThermometerKind};

/// Everything the report shows. Sections a run did not reach are `None` and are shown as
/// "not run".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportData {
    pub format_version: u32,
    pub model: ModelFigures,
    pub plan: Option<PlanFigures>,
    pub simulation: Option<SimulationFigures>,
    pub synthesis: Option<SynthesisFigures>,
    /// The cost model's estimate (`plan::cost`), for the synthesis target's family.
    #[serde(default)]
    pub cost: Option<CostFigures>,
    /// Cycles per frame against the estimate as the fold grows (`plan::sweep`).
    #[serde(default)]
    pub folds: Option<FoldSweepFigures>,
}

/// The fold sweep of the run's model, with the run's own plan beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldSweepFigures {
    /// The family the LUT and block-RAM estimates are for: `ice40` or `ecp5`.
    pub family: String,
    pub clock_mhz: f64,
    /// From the narrowest folding to the widest; cycles per frame fall from one to the next.
    pub points: Vec<FoldPoint>,
    /// The run's own plan.
    pub this_run: FoldPoint,
}

/// One folding: its speed and its estimated cost.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FoldPoint {
    pub cycles_per_frame: u64,
    pub frames_per_second: f64,
    /// XNOR lanes of all layers.
    pub lanes: u64,
    pub luts: u64,
    pub ffs: u64,
    pub bram: u64,
}

impl FoldSweepFigures {
    /// The sweep of `model` with `plan`'s settings (`plan::sweep`), estimated for `family`,
    /// with `plan` itself as the run's point.
    pub fn of(
        model: &Model,
        plan: &crate::plan::Plan,
        family: crate::plan::cost::ram::RamFamily,
    ) -> Result<FoldSweepFigures, crate::plan::PlanError> {
        let points = crate::plan::sweep::fold_sweep(model, plan)?;
        Ok(FoldSweepFigures {
            family: family.name().into(),
            clock_mhz: plan.clock_mhz,
            points: (points.iter())
                .map(|x| FoldPoint::of(&x.plan, &x.cost, family))
                .collect(),
            this_run: FoldPoint::of(plan, &crate::plan::cost::estimate(model, plan), family),
        })
    }
}

impl FoldPoint {
    /// The figures of `plan`, whose estimate is `cost`, for `family`.
    pub fn of(
        plan: &crate::plan::Plan,
        cost: &crate::plan::cost::DesignCost,
        family: crate::plan::cost::ram::RamFamily,
    ) -> FoldPoint {
        let cells = CostFigures::cells(&cost.total, family);
        FoldPoint {
            cycles_per_frame: plan.cycles_per_frame,
            frames_per_second: plan.fps,
            lanes: plan.layers.iter().map(|l| l.lanes as u64).sum(),
            luts: cells.luts,
            ffs: cells.ffs,
            bram: cells.bram,
        }
    }
}

/// The resource estimate of the accelerator (without a board top) and its energy per frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostFigures {
    /// `ice40` or `ecp5`.
    pub family: String,
    /// The front end, then each layer, then `total`.
    pub parts: Vec<CostRow>,
    /// The target device's capacity, when it has one.
    pub capacity: Option<CostRow>,
    /// Bits the block-RAM memories hold per block bit allocated (`None`: no blocks).
    #[serde(default)]
    pub bram_efficiency: Option<f64>,
    pub energy_nj: f64,
    /// What the energy figure is (always shown with it).
    pub energy_note: String,
}

/// Cells of one part (or a device's capacity).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostRow {
    pub name: String,
    pub luts: u64,
    pub ffs: u64,
    pub carry: u64,
    pub bram: u64,
    /// iCE40 UP5K SPRAMs holding weights (`weights = "spram"`; absent in older reports: 0).
    #[serde(default)]
    pub spram: u64,
}

impl CostFigures {
    /// The estimate of `c` for `family`, beside `capacity`.
    pub fn of(
        c: &crate::plan::cost::DesignCost,
        family: crate::plan::cost::ram::RamFamily,
        capacity: Option<crate::plan::cost::Capacity>,
    ) -> CostFigures {
        let row = |name: &str, x: &crate::plan::cost::Cells| CostRow {
            name: name.to_string(),
            luts: x.luts,
            ffs: x.ffs,
            carry: x.carry,
            bram: x.bram,
            spram: x.spram,
        };
        let cells = |p: &crate::plan::cost::PartCost| Self::cells(p, family);
        CostFigures {
            family: family.name().into(),
            parts: c
                .parts
                .iter()
                .chain([&c.total])
                .map(|p| row(&p.name, &cells(p)))
                .collect(),
            capacity: capacity.map(|k| CostRow {
                name: "capacity".into(),
                luts: k.luts,
                ffs: k.ffs,
                carry: k.carry,
                bram: k.bram,
                spram: k.spram,
            }),
            bram_efficiency: cells(&c.total).bram_efficiency(family),
            energy_nj: c.energy.total_pj / 1000.0,
            energy_note: c.energy.note.to_string(),
        }
    }

    /// The cells of part `p` in `family`.
    fn cells(
        p: &crate::plan::cost::PartCost,
        family: crate::plan::cost::ram::RamFamily,
    ) -> crate::plan::cost::Cells {
        use crate::plan::cost::ram::RamFamily;
        match family {
            RamFamily::Ice40 => p.ice40,
            RamFamily::Ecp5 => p.ecp5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFigures {
    pub name: String,
    pub description: String,
    pub input: String,
    pub front_end: String,
    pub levels: usize,
    pub pixel_bits: u32,
    /// Thresholds of each input channel (empty for the binary ADC code).
    pub thresholds: Vec<Vec<u32>>,
    /// The figures `bnngen check` prints, as fields of this table.
    #[serde(flatten)]
    pub summary: Summary,
    pub classes: Vec<String>,
    pub tiles: Vec<TileMap>,
}

/// The (out-block, in-block) tile grid of one weighted layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TileMap {
    pub layer: String,
    pub out_blocks: usize,
    pub in_blocks: usize,
    /// Row per out-block, one flag per in-block: true = kept.
    pub kept: Vec<Vec<bool>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanFigures {
    pub clock_mhz: f64,
    pub frames_per_second: f64,
    pub latency_us: f64,
    pub layers: Vec<StageFigures>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageFigures {
    pub name: String,
    pub kind: String,
    pub lanes: u64,
    pub cycles_per_frame: u64,
    pub memory_bits: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationFigures {
    pub frames: u64,
    pub mismatches: u64,
    pub cycles_per_frame_measured: Option<f64>,
    pub cycles_per_frame_planned: Option<f64>,
    /// Correct predictions when labels were known.
    pub correct: Option<u64>,
    /// `confusion[label][predicted]` when labels were known.
    pub confusion: Option<Vec<Vec<u64>>>,
    /// Digest of the simulated RTL (`bnngen::rtl::digest`); equal to the synthesis report's
    /// when the synthesized RTL is the simulated one.
    #[serde(default)]
    pub rtl_digest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthesisFigures {
    pub target: String,
    pub device: String,
    pub resources: Vec<Resource>,
    pub fmax_mhz: Option<f64>,
    pub target_mhz: f64,
    pub timing_met: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resource {
    pub name: String,
    pub used: u64,
    /// The device's capacity, when known.
    pub available: Option<u64>,
}

impl ModelFigures {
    /// Gather the model's own figures.
    pub fn of(model: &Model) -> ModelFigures {
        let s = model.summary();
        let (front_end, levels, thresholds) = match &model.front_end {
            FrontEnd::Binary => (
                "binary ADC code".to_string(),
                model.input.bits as usize,
                vec![],
            ),
            FrontEnd::Thermometer(t) => {
                let kind = match t.kind {
                    ThermometerKind::Glt => "GLT (learned thermometer)",
                    ThermometerKind::Uniform => "uniform thermometer",
                };
                (kind.to_string(), t.levels, t.thresholds.clone())
            }
        };
        let tiles = model
            .layers
            .iter()
            .filter_map(|l| {
                let w = l.kind.weights()?;
                Some(TileMap {
                    layer: l.name.clone(),
                    out_blocks: w.out_blocks,
                    in_blocks: w.in_blocks,
                    kept: (0..w.out_blocks)
                        .map(|ob| (0..w.in_blocks).map(|ib| w.kept(ob, ib)).collect())
                        .collect(),
                })
            })
            .collect();
        ModelFigures {
            name: model.meta.name.clone(),
            description: model.meta.description.clone(),
            input: format!(
                "{}x{}x{} at {} bits",
                model.input.height, model.input.width, model.input.channels, model.input.bits
            ),
            front_end,
            levels,
            pixel_bits: model.input.bits,
            thresholds,
            summary: s,
            classes: model.meta.classes.clone(),
            tiles,
        }
    }
}

impl ReportData {
    /// A report of the model alone; the flow fills in the other sections as steps finish.
    pub fn of_model(model: &Model) -> ReportData {
        ReportData {
            format_version: super::REPORT_FORMAT_VERSION,
            model: ModelFigures::of(model),
            plan: None,
            simulation: None,
            synthesis: None,
            cost: None,
            folds: None,
        }
    }
}

/// The thermometer level (number of planes set) of pixel `v` for ascending thresholds.
pub fn level(thresholds: &[u32], v: u32) -> usize {
    thresholds.iter().filter(|&&t| v >= t).count()
}
