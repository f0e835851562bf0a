//! Which weight ROMs go to the iCE40 UP5K's single-port RAM (SB_SPRAM256KA), and where each
//! one's words sit in the weight image that the board loads from SPI flash after reset.
//!
//! Why here: the RTL (`rtl/window/spram.rs`) declares these stores, the flash image is their
//! contents in this order, and a second model of the same topology and plan must land at the
//! same addresses to reuse a bitstream; one function decides all three. The rule is simple
//! and keeps the plan's cycle count exact: a weight ROM's word is cut into 16-bit slices side
//! by side, read in the same two stages as a block-RAM ROM. A narrow word (8 bits or fewer)
//! is packed instead: a power of two of words share one 16-bit row, the row is read at the
//! high address bits every step, and the low bits, delayed with the read, pick the word. A
//! slice deeper than one SPRAM (16K rows) is cascaded in depth over several: all of them are
//! read at the low 14 row bits, and the high bits, delayed with the read, pick the one whose
//! row comes out (one read a cycle, so still no extra cycles). So a deep narrow ROM
//! (fashion-default's fc1 at one lane: 589,824 words of 1 bit, 36,864 rows) takes three
//! SPRAMs. The largest ROMs (in bits) are taken first while SPRAMs remain; the others stay in
//! block RAM.

use super::memory::{weight_rom_shape, Memory, Role};
use super::ram::{Shape, Style};
use super::widths::bits_for;
use super::Cells;
use crate::model::Model;
use crate::plan::Plan;

/// Words of one SB_SPRAM256KA.
pub const SPRAM_DEPTH: usize = 16384;
/// Bits of one SPRAM word, and of one word of the weight image.
pub const SPRAM_WIDTH: u32 = 16;
/// SB_SPRAM256KA blocks on the iCE40 UP5K.
pub const UP5K_SPRAMS: usize = 4;
/// Width of the load bus address: one 16-bit image word per address, every SPRAM of a UP5K.
pub const LOAD_ADDR_WIDTH: u32 = 16;

/// One layer's weight ROM held in SPRAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpramStore {
    /// Index of the layer in the model.
    pub layer: usize,
    /// Bits of a weight word, and words (issue steps).
    pub width: u32,
    pub depth: usize,
    /// Image word of slice 0, word 0; slice j's words follow at `base + j * depth`.
    pub base: usize,
}

impl SpramStore {
    /// 16-bit slices of a word, side by side.
    pub fn slices(&self) -> usize {
        self.width.div_ceil(SPRAM_WIDTH) as usize
    }

    /// SPRAMs a slice is cascaded over in depth (`SPRAM_DEPTH` rows each, the last one may
    /// hold fewer).
    pub fn banks(&self) -> usize {
        self.rows().div_ceil(SPRAM_DEPTH)
    }

    /// SB_SPRAM256KA blocks the store takes: every slice over every bank.
    pub fn blocks(&self) -> usize {
        self.slices() * self.banks()
    }

    /// Words per 16-bit row: the largest power of two that fits (1 for a word of 9 bits or
    /// more).
    pub fn pack(&self) -> usize {
        pack_of(self.width)
    }

    /// Rows of each slice (`rows_of`).
    pub fn rows(&self) -> usize {
        rows_of(self.width, self.depth)
    }

    /// Can this ROM go to SPRAM: it has a word and an address, and it fits the UP5K's
    /// SPRAMs (which also bounds its image addresses by the load bus).
    pub fn fits_spram(&self) -> bool {
        self.depth >= 2 && self.width > 0 && self.blocks() <= UP5K_SPRAMS
    }

    /// Image words this store takes.
    pub fn words(&self) -> usize {
        self.slices() * self.rows()
    }

    /// The store as the cost model lists it: one memory of the ROM's shape.
    pub fn memory(&self) -> Memory {
        Memory {
            role: Role::Weights,
            shape: Shape {
                width: self.width,
                depth: self.depth,
                rom: false,
                style: Style::Block,
                used: vec![true; self.width as usize],
            },
        }
    }

    /// The fabric logic `rtl::window::spram::weight_store` adds around the SPRAMs, counted
    /// from its structure (per block of `sw` bits, `aw` row-address bits): the registered
    /// load word, address and write enable (1 + aw + sw flip-flops), the load-or-read
    /// address mux (aw LUTs), the load address's range decode (two 16-bit constant compares,
    /// about 8 LUTs) and its subtraction (aw LUTs and carries); a packed row adds the delayed
    /// word pick (2 lg flip-flops) and its `pack`-way mux per word bit (pack - 1 LUTs each);
    /// a cascade adds the delayed bank pick (2 bb flip-flops) and a `banks`-way mux per row
    /// bit (banks - 1 LUTs each). The read register is the SPRAM's own and the fabric
    /// register is in the stage's fitted figure, as with a block-RAM ROM. Against Yosys 0.23
    /// on fashion-up5k's three stores (docs/benchmarks.md): 122 flip-flops for 133 measured.
    pub fn logic_cells(&self) -> Cells {
        let aw = bits_for(self.rows().min(SPRAM_DEPTH) as u64 - 1).max(1) as u64;
        let blocks = self.blocks() as u64;
        // Bits of a row across the slices.
        let bits = self.width as u64 * self.pack() as u64;
        let lg = self.pack().ilog2() as u64;
        let bb = match self.banks() {
            1 => 0,
            n => bits_for(n as u64 - 1) as u64,
        };
        let pick_luts = (self.pack() as u64 - 1) * self.width as u64;
        let bank_luts = (self.banks() as u64 - 1) * bits;
        Cells {
            luts: blocks * (2 * aw + 8) + pick_luts + bank_luts,
            ffs: blocks * (1 + aw) + bits + 2 * lg + 2 * bb,
            carry: blocks * aw,
            ..Cells::default()
        }
    }
}

/// The weight ROMs of `model` under `plan` that go to SPRAM, in layer order, with their image
/// addresses; at most `sprams` blocks are used.
pub fn assign(model: &Model, plan: &Plan, sprams: usize) -> Vec<SpramStore> {
    let mut cands: Vec<SpramStore> = Vec::new();
    for (i, l) in model.layers.iter().enumerate() {
        let Some(w) = l.kind.weights() else { continue };
        if l.kind.fully_pruned() || plan.layers[i].weights_in_logic {
            continue;
        }
        let (width, depth) = weight_rom_shape(w, &plan.layers[i]);
        let store = SpramStore {
            layer: i,
            width,
            depth,
            base: 0,
        };
        if store.fits_spram() {
            cands.push(store);
        }
    }
    cands.sort_by_key(|s| (std::cmp::Reverse(s.width as usize * s.depth), s.layer));
    let mut used = 0;
    let mut chosen: Vec<SpramStore> = Vec::new();
    for c in cands {
        if used + c.blocks() <= sprams {
            used += c.blocks();
            chosen.push(c);
        }
    }
    chosen.sort_by_key(|s| s.layer);
    let mut base = 0;
    for s in &mut chosen {
        s.base = base;
        base += s.words();
    }
    chosen
}

/// Rows of each slice of a store of `depth` words of `width` bits: the packed rows, at least
/// two in every bank (a memory has an address), so a last bank of one row gets a second.
pub fn rows_of(width: u32, depth: usize) -> usize {
    let rows = depth.div_ceil(pack_of(width)).max(2);
    match rows % SPRAM_DEPTH {
        1 => rows + 1,
        _ => rows,
    }
}

/// Words of `width` bits per 16-bit row.
pub fn pack_of(width: u32) -> usize {
    let fit = (SPRAM_WIDTH / width.max(1)).max(1) as usize;
    1 << fit.ilog2()
}

/// Image words of all stores (what the loader writes).
pub fn image_words(stores: &[SpramStore]) -> usize {
    stores.iter().map(SpramStore::words).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_roms_first_within_the_blocks_and_bases_in_layer_order() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/models/tiny.toml");
        let model = crate::model::load(std::path::Path::new(path)).unwrap();
        let plan = crate::plan::set_folding(&model, &Default::default()).unwrap();
        let all = assign(&model, &plan, 64);
        assert!(!all.is_empty());
        let mut base = 0;
        for s in &all {
            assert_eq!(s.base, base);
            base += s.words();
        }
        assert_eq!(image_words(&all), base);
        // With one block, only the largest single-slice ROM is taken.
        let one = assign(&model, &plan, 1);
        assert!(one.len() <= 1);
        if let Some(s) = one.first() {
            assert_eq!(s.slices(), 1);
            assert_eq!(s.base, 0);
            let bigger = all
                .iter()
                .filter(|t| t.slices() == 1)
                .any(|t| t.width as usize * t.depth > s.width as usize * s.depth);
            assert!(!bigger);
        }
        assert!(assign(&model, &plan, 0).is_empty());
        assert_eq!(
            (pack_of(1), pack_of(2), pack_of(3), pack_of(8), pack_of(9)),
            (16, 8, 4, 2, 1)
        );
        let deep = SpramStore {
            layer: 0,
            width: 2,
            depth: 36864,
            base: 0,
        };
        assert_eq!((deep.slices(), deep.rows(), deep.words()), (1, 4608, 4608));
        assert_eq!((deep.banks(), deep.blocks()), (1, 1));
        // fashion-default's fc1 at one lane: three SPRAMs in depth, the last a quarter full.
        let fc1 = SpramStore {
            depth: 589_824,
            width: 1,
            ..deep
        };
        assert_eq!((fc1.rows(), fc1.banks(), fc1.blocks()), (36_864, 3, 3));
        assert!(fc1.fits_spram());
        // Two slices over three banks: six blocks, more than a UP5K has.
        let wide = SpramStore {
            depth: 40_000,
            width: 32,
            ..deep
        };
        assert_eq!((wide.slices(), wide.banks(), wide.blocks()), (2, 3, 6));
        assert!(!wide.fits_spram());
    }
}
