//! The layout of a read-only table: one memory, or banks of one block's depth (or of
//! `LOGIC_BANK` words for a table kept in logic), and how each is marked for synthesis.
//!
//! Why one place: the cost model counts the blocks of exactly the memories the RTL declares,
//! so the choice of bank depth and marking must be made once and read by both
//! (`memory.rs` lists the banks, `rtl::bank::rom2` builds them). A change of layout then
//! changes the RTL and the estimate together, and `tests/cost.rs` holds them to Yosys.

use super::ram::{RamFamily, Style, BLOCK_RAM_BITS, ICE40_LOGIC_ROM_BITS, LOGIC_BANK};

/// How a table of `depth` words of `width` bits is laid out for a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RomLayout {
    pub width: u32,
    pub depth: usize,
    /// Words per bank: a power of two when banked.
    pub bank: usize,
    /// Kept in logic (iCE40 tables of at most `ICE40_LOGIC_ROM_BITS`).
    pub logic: bool,
    /// Cut into banks of `bank` words, each its own memory.
    pub banked: bool,
}

impl RomLayout {
    pub fn new(width: u32, depth: usize, ram: RamFamily) -> RomLayout {
        let bits = width as usize * depth;
        let needs_block = bits >= BLOCK_RAM_BITS;
        let logic = ram == RamFamily::Ice40 && bits <= ICE40_LOGIC_ROM_BITS;
        let bank = if logic {
            LOGIC_BANK
        } else {
            ram.bank_depth(width, depth)
        };
        let banked = depth > bank && (needs_block || logic);
        RomLayout {
            width,
            depth,
            bank,
            logic,
            banked,
        }
    }

    /// A weight ROM's layout: the family's rule, or in logic when the plan moved it there
    /// (`LayerPlan::weights_in_logic`).
    pub fn weights(width: u32, depth: usize, ram: RamFamily, in_logic: bool) -> RomLayout {
        match in_logic {
            true => RomLayout::in_logic(width, depth),
            false => RomLayout::new(width, depth, ram),
        }
    }

    /// A table kept in logic whatever its size, in banks of `LOGIC_BANK` words: a weight ROM
    /// the plan moved out of block RAM (`LayerPlan::weights_in_logic`) because the device is
    /// short of blocks, not of LUTs.
    pub fn in_logic(width: u32, depth: usize) -> RomLayout {
        RomLayout {
            width,
            depth,
            bank: LOGIC_BANK,
            logic: true,
            banked: depth > LOGIC_BANK,
        }
    }

    /// Words of each memory the table is declared as (a one-word bank is padded to two; a
    /// one-word table is a constant, no memory).
    pub fn memory_depths(&self) -> Vec<usize> {
        if !self.banked {
            return if self.depth > 1 {
                vec![self.depth]
            } else {
                Vec::new()
            };
        }
        let banks = self.depth.div_ceil(self.bank);
        (0..banks)
            .map(|k| (self.depth - k * self.bank).min(self.bank).max(2))
            .collect()
    }

    /// The `ram_style` mark of each memory.
    pub fn style(&self) -> Style {
        if self.logic {
            Style::Logic
        } else if self.banked || self.width as usize * self.depth >= BLOCK_RAM_BITS {
            Style::Block
        } else {
            Style::Auto
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{RamFamily, RomLayout, Style};

    #[test]
    fn deep_tables_are_banked_by_block_and_small_ice40_tables_kept_in_logic() {
        // conv3 of fashion-up5k on iCE40: 576 words of 32 bits, banks of 256 (256 x 16).
        let l = RomLayout::new(32, 576, RamFamily::Ice40);
        assert_eq!(l.memory_depths(), vec![256, 256, 64]);
        assert_eq!(l.style(), Style::Block);
        // 1152 bits: logic, banks of 64 words.
        let l = RomLayout::new(32, 36, RamFamily::Ice40);
        assert_eq!(
            (l.logic, l.banked, l.memory_depths()),
            (true, false, vec![36])
        );
        let l = RomLayout::new(16, 65, RamFamily::Ice40);
        assert_eq!(l.memory_depths(), vec![64, 2]);
        assert_eq!(l.style(), Style::Logic);
        // Below a block on ECP5: one memory, the tool chooses.
        let l = RomLayout::new(8, 300, RamFamily::Ecp5);
        assert_eq!((l.banked, l.style()), (false, Style::Auto));
        assert!(RomLayout::new(8, 1, RamFamily::Ecp5)
            .memory_depths()
            .is_empty());
    }

    #[test]
    fn a_table_moved_to_logic_is_banked_by_logic_banks_at_any_size() {
        // conv2 of fashion-default: 72 words of 256 bits, 8 DP16KD in block RAM.
        let l = RomLayout::in_logic(256, 72);
        assert_eq!((l.memory_depths(), l.style()), (vec![64, 8], Style::Logic));
        let l = RomLayout::in_logic(1, 40);
        assert_eq!((l.memory_depths(), l.style()), (vec![40], Style::Logic));
    }
}
