//! Read-only tables with two read stages, and deep ones split into banks of one block RAM.
//!
//! Why: a block RAM's clock-to-out is slow (nextpnr puts an ECP5 DP16KD without its output
//! register at 5.6 ns), so at 125 MHz nothing but a flip-flop may follow it. Every table read
//! here therefore takes two cycles: the memory's own read register, then a second register in
//! the fabric. A table deeper than one block would otherwise be a cascade of blocks joined by
//! an output mux right after the slow read (Yosys 0.23 builds it that way, and the hop between
//! spread-out blocks alone is about 3 ns); instead it is cut into banks of at most one block
//! depth, each its own memory with its own two registers, and the bank mux sits after them,
//! driven by a bank select registered alongside. The mux then feeds the XNOR register.
//!
//! The bank geometry is the target family's block RAM (`RamFamily`); a wide word may still
//! span several blocks side by side, which costs no mux.

use super::build::{delay, fit, rom_with, select, sig_of};
use super::ebr;
use super::netlist::{addr_width, Expr, ModuleBuilder, Sig, Stmt};

/// Cycles from a table address to its word: memory read register plus the fabric register.
pub const READ_STAGES: u32 = 2;

pub use crate::plan::cost::layout::RomLayout;
pub use crate::plan::cost::ram::{RamFamily, BLOCK_RAM_BITS, ICE40_LOGIC_ROM_BITS, LOGIC_BANK};

/// How a stage's tables are built: the family's block geometry, and whether the ones in
/// block RAM are ECP5 cells with their output register (`GenOptions::ecp5_cells`).
#[derive(Debug, Clone, Copy)]
pub struct Memories {
    pub ram: RamFamily,
    pub ecp5_cells: bool,
}

/// A table of `words` read at `addr` when `en`; returns the word `READ_STAGES` cycles later
/// (a constant for a one-word table). Tables that need a block RAM and are deeper than one
/// block are banked (see the module doc); the banks are always marked for block RAM.
pub fn rom2(
    b: &mut ModuleBuilder,
    name: &str,
    words: Vec<Vec<bool>>,
    addr: Option<Sig>,
    en: &Expr,
    mems: Memories,
) -> Expr {
    let width = words.first().map_or(0, |w| w.len()) as u32;
    let layout = RomLayout::new(width, words.len(), mems.ram);
    rom2_laid_out(b, name, words, addr, en, mems, layout)
}

/// `rom2` with the layout given (the plan's, for a weight ROM it moved to logic).
pub fn rom2_laid_out(
    b: &mut ModuleBuilder,
    name: &str,
    words: Vec<Vec<bool>>,
    addr: Option<Sig>,
    en: &Expr,
    mems: Memories,
    layout: RomLayout,
) -> Expr {
    let (width, depth) = (layout.width, layout.depth);
    assert_eq!(depth, words.len(), "the layout is the table's");
    // A logic ROM is banked too, in banks of `LOGIC_BANK` words: each bank's read (a
    // 6-input function per bit) ends in its register, and the bank mux follows the second
    // register, so the read is not one long LUT tree (1280 words: 28 ns on the UP5K).
    let (bank, logic) = (layout.bank, layout.logic);
    if !layout.banked {
        if mems.ecp5_cells && !logic && depth > 1 && ebr::in_block_ram(width, depth, true) {
            let addr = addr.expect("a multi-word table needs an address");
            let a = fit(b, addr, addr_width(depth));
            return ebr::rom(b, name, &words, a, en);
        }
        let q = rom_with(b, name, words, addr, en, logic);
        if q.const_value().is_some() {
            return q;
        }
        return delay(b, q, READ_STAGES - 1, en, &format!("{name}_q"));
    }
    let addr = addr.expect("a multi-word table needs an address");
    let lo_bits = addr_width(bank);
    assert_eq!(bank, 1 << lo_bits, "bank depth is a power of two");
    let banks = depth.div_ceil(bank);
    let mut outs = Vec::with_capacity(banks);
    let mut chunks = words.into_iter();
    for k in 0..banks {
        let mut part: Vec<Vec<bool>> = chunks.by_ref().take(bank).collect();
        if part.len() == 1 {
            // A memory has at least two words; the pad word is never addressed.
            part.push(part[0].clone());
        }
        let bw = addr_width(part.len());
        let bname = format!("{name}_b{k}");
        if mems.ecp5_cells && !logic {
            let a = fit(b, addr, bw);
            outs.push(ebr::rom(b, &bname, &part, a, en));
            continue;
        }
        let m = b.memory(&bname, width, part.len(), Some(part));
        if logic {
            b.force_logic(m);
        } else {
            b.force_block_ram(m);
        }
        let q = b.reg(&format!("{bname}_q"), width);
        let rd = b.read(m, fit(b, addr, bw));
        b.always(vec![Stmt::when(en.clone(), vec![Stmt::set(q, rd)])]);
        let q2 = b.reg(&format!("{bname}_q2"), width);
        b.always(vec![Stmt::when(en.clone(), vec![Stmt::set(q2, b.e(q))])]);
        outs.push(b.e(q2));
    }
    // Bank select: the high address bits, registered with the two read stages.
    let hi = b.slice(addr, lo_bits, addr.width - lo_bits);
    let sel = delay(b, hi, READ_STAGES, en, &format!("{name}_bank"));
    let sel = sig_of(b, &sel);
    let w = b.let_(&format!("{name}_banks"), select(b, &outs, sel));
    w
}
