//! The resource cost model: what a plan costs in LUTs, flip-flops, carry cells and block RAM
//! on each FPGA family, and what one frame costs in energy on an ASIC.
//!
//! Why in the plan: a folding is only useful if it fits the device, and that should be known
//! before Yosys and nextpnr run. The estimate is the one place that says what a design
//! costs: `bnngen plan` prints it, the report shows it beside the synthesized counts, and
//! folding to a device (later) chooses by it. It reads the model and the plan only:
//! - block RAM is exact: every memory of the generated RTL is listed with its shape
//!   (`memory.rs`) and placed by the family's geometry and Yosys's mapping rule (`ram.rs`);
//! - LUTs, flip-flops and carry cells are a linear function of each stage's structure
//!   (`logic.rs`), fitted to Yosys 0.23's counts;
//! - energy per frame counts operations, memory bits and register bits per frame and weighs
//!   them by published 45 nm figures (`energy.rs`).

pub mod energy;
pub mod layout;
pub mod logic;
pub mod memory;
pub mod pipeline;
pub mod ram;
pub mod ring;
pub mod spram;
pub mod widths;

use crate::model::Model;
use crate::plan::Plan;
use memory::Memory;
use ram::{Placed, RamFamily, Style};
use serde::Serialize;

/// Estimated cells of one part of a design on one family.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Cells {
    pub luts: u64,
    pub ffs: u64,
    /// Carry cells (iCE40 SB_CARRY; ECP5 CCU2C, two bits each).
    pub carry: u64,
    /// Block RAMs (iCE40 SB_RAM40_4K; ECP5 DP16KD / PDPW16KD): exact.
    pub bram: u64,
    /// iCE40 UP5K SPRAMs (SB_SPRAM256KA) holding weights (`spram.rs`): exact.
    pub spram: u64,
    /// LUT RAM cells (ECP5 TRELLIS_DPR16X4; none on iCE40), by Yosys's rule: within a few
    /// cells (Yosys sometimes drops unread ones).
    pub lutram: u64,
    /// Bits the memories placed in block RAM hold (their read columns): with `bram` times
    /// the family's block bits, the block-RAM efficiency.
    pub bram_bits: u64,
}

impl Cells {
    /// Bits held in block RAM per bit of the blocks allocated (`None` without blocks).
    pub fn bram_efficiency(&self, fam: RamFamily) -> Option<f64> {
        (self.bram > 0).then(|| self.bram_bits as f64 / (self.bram * fam.block_bits()) as f64)
    }
}

impl std::ops::AddAssign for Cells {
    fn add_assign(&mut self, o: Cells) {
        self.luts += o.luts;
        self.ffs += o.ffs;
        self.carry += o.carry;
        self.bram += o.bram;
        self.spram += o.spram;
        self.lutram += o.lutram;
        self.bram_bits += o.bram_bits;
    }
}

/// Block-RAM figures that do not depend on a family's geometry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GenericMemory {
    /// Memories the RTL marks `ram_style = "block"` (each at least one block anywhere).
    pub block_memories: u64,
    /// Bits in those memories.
    pub block_bits: u64,
}

/// One memory of a part's RTL and where synthesis puts it: the layout the RTL declares.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryUse {
    pub role: memory::Role,
    pub width: u32,
    pub depth: usize,
    pub placed: Placed,
}

/// The memories of a part on each family (ROM banks follow the family's geometry).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PartMemories {
    pub ice40: Vec<MemoryUse>,
    pub ecp5: Vec<MemoryUse>,
}

/// The estimate of one layer (or the front end, or the whole design).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartCost {
    pub name: String,
    pub ice40: Cells,
    pub ecp5: Cells,
    pub generic: GenericMemory,
    /// Every memory of the part (none listed for the total).
    pub memories: PartMemories,
}

/// The estimate of a whole design: per part, in total, and energy per frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesignCost {
    /// The front end and stream plumbing first, then one entry per layer.
    pub parts: Vec<PartCost>,
    pub total: PartCost,
    pub energy: energy::FrameEnergy,
}

/// Device capacity to compare an estimate with (`plan::device::Device::capacity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Capacity {
    pub family: RamFamily,
    pub luts: u64,
    pub ffs: u64,
    pub carry: u64,
    pub bram: u64,
    /// SPRAMs (SB_SPRAM256KA; 0 where there are none).
    pub spram: u64,
}

/// Estimate what the design of `model` folded by `plan` costs.
///
/// Each stage is costed as it sees its streams (`plan::words::streamed`).
pub fn estimate(model: &Model, plan: &Plan) -> DesignCost {
    let view = crate::plan::words::streamed(model, &plan.out_words());
    let model = view.as_ref();
    let mut parts = vec![front_end(model, plan)];
    for idx in 0..model.layers.len() {
        parts.push(layer(model, plan, idx));
    }
    let mut total = PartCost {
        name: "total".into(),
        ice40: Cells::default(),
        ecp5: Cells::default(),
        generic: GenericMemory::default(),
        memories: PartMemories::default(),
    };
    for p in &parts {
        total.ice40 += p.ice40;
        total.ecp5 += p.ecp5;
        total.generic.block_memories += p.generic.block_memories;
        total.generic.block_bits += p.generic.block_bits;
    }
    let energy = energy::frame_energy(model, plan, &parts);
    DesignCost {
        parts,
        total,
        energy,
    }
}

/// Memories of layer `idx` placed by `fam`'s rule; on iCE40, with `weights = "spram"`, a
/// weight ROM that `spram::assign` takes is one memory in SPRAM instead of its banks.
pub fn placed_memories(
    model: &Model,
    plan: &Plan,
    idx: usize,
    fam: RamFamily,
) -> Vec<(Memory, Placed)> {
    let mut mems = memory::layer_memories(model, plan, idx, fam);
    let store = spram_store(model, plan, idx, fam);
    if store.is_some() {
        mems.retain(|m| m.role != memory::Role::Weights);
    }
    let mut placed: Vec<(Memory, Placed)> = mems
        .into_iter()
        .map(|m| {
            let p = fam.place(&m.shape);
            (m, p)
        })
        .collect();
    if let Some(s) = store {
        placed.push((s.memory(), Placed::Spram(s.blocks() as u64)));
    }
    placed
}

/// Layer `idx`'s weight ROM when the plan puts it in SPRAM and `fam` has SPRAM.
fn spram_store(
    model: &Model,
    plan: &Plan,
    idx: usize,
    fam: RamFamily,
) -> Option<spram::SpramStore> {
    if fam != RamFamily::Ice40 || plan.weights != crate::plan::WeightStore::Spram {
        return None;
    }
    let stores = spram::assign(model, plan, spram::UP5K_SPRAMS);
    stores.into_iter().find(|s| s.layer == idx)
}

/// Cells of layer `idx` on `fam`.
fn layer_cells(model: &Model, plan: &Plan, idx: usize, fam: RamFamily) -> Cells {
    let mems = placed_memories(model, plan, idx, fam);
    let f = logic::features(model, plan, idx, &mems, fam);
    let (luts, ffs, carry) = logic::cells(fam, &f);
    let mut c = Cells {
        luts,
        ffs,
        carry,
        ..Cells::default()
    };
    for (m, p) in &mems {
        match p {
            Placed::Block(n) => {
                c.bram += n;
                let read = m.shape.used.iter().filter(|&&u| u).count() as u64;
                c.bram_bits += read * m.shape.depth as u64;
            }
            Placed::LutRam(n) => c.lutram += n,
            Placed::Spram(n) => c.spram += n,
            Placed::Logic => {}
        }
    }
    if let Some(s) = spram_store(model, plan, idx, fam) {
        c += s.logic_cells();
    }
    c
}

fn layer(model: &Model, plan: &Plan, idx: usize) -> PartCost {
    let mut generic = GenericMemory::default();
    for m in memory::layer_memories(model, plan, idx, RamFamily::Ecp5) {
        if m.shape.style == Style::Block {
            generic.block_memories += 1;
            generic.block_bits += m.bits();
        }
    }
    let uses = |fam| {
        placed_memories(model, plan, idx, fam)
            .into_iter()
            .map(|(m, placed)| MemoryUse {
                role: m.role,
                width: m.shape.width,
                depth: m.shape.depth,
                placed,
            })
            .collect()
    };
    PartCost {
        name: model.layers[idx].name.clone(),
        ice40: layer_cells(model, plan, idx, RamFamily::Ice40),
        ecp5: layer_cells(model, plan, idx, RamFamily::Ecp5),
        generic,
        memories: PartMemories {
            ice40: uses(RamFamily::Ice40),
            ecp5: uses(RamFamily::Ecp5),
        },
    }
}

/// The comparator front end, the forks and the top's glue.
fn front_end(model: &Model, plan: &Plan) -> PartCost {
    let (ice40, ecp5) = logic::front_end_cells(model, plan);
    PartCost {
        name: "front end".into(),
        ice40,
        ecp5,
        generic: GenericMemory::default(),
        memories: PartMemories::default(),
    }
}
