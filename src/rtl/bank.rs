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
use super::netlist::{addr_width, Expr, ModuleBuilder, Sig, Stmt};

/// Cycles from a table address to its word: memory read register plus the fabric register.
pub const READ_STAGES: u32 = 2;

/// On iCE40, a table of at most this many bits is kept in logic (`ram_style = "logic"`), not
/// in a 4 Kbit block: a third of a block. The UP5K has only 30 blocks, and a fashion-sized
/// model is short of blocks before it is short of logic cells; a 1280-bit ROM costs about
/// 160 LUT4 (Yosys 0.23, measured), about 3% of the device, and frees a whole block.
pub const ICE40_LOGIC_ROM_BITS: usize = 4096 / 3;

/// Words per bank of a ROM kept in logic (`ICE40_LOGIC_ROM_BITS`): a 6-input function per
/// bit, three LUT4 levels.
pub const LOGIC_BANK: usize = 64;

/// Block-RAM geometry used to size weight-ROM banks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RamFamily {
    /// ECP5 DP16KD / PDPW16KD: 16 Kbit, 1 to 36 bits wide (also a fair rule for Xilinx
    /// RAMB18 and for generic synthesis).
    #[default]
    Ecp5,
    /// iCE40 SB_RAM40_4K: 4 Kbit, 1 to 16 bits wide.
    Ice40,
}

impl RamFamily {
    /// (data width, depth) of each configuration of one block.
    fn configs(self) -> &'static [(u32, usize)] {
        match self {
            RamFamily::Ecp5 => &[
                (1, 16384),
                (2, 8192),
                (4, 4096),
                (9, 2048),
                (18, 1024),
                (36, 512),
            ],
            // One bit wide: Yosys reads 4096 x 1 as 2048 x 2 and picks the bit after the
            // block, so a 4 Kbit block still holds 4096 one-bit words.
            RamFamily::Ice40 => &[(1, 4096), (2, 2048), (4, 1024), (8, 512), (16, 256)],
        }
    }

    /// Bank depth for a table of `depth` words of `width` bits: the block configuration that
    /// needs the fewest blocks in total (ties to the deeper one, fewer banks). Always a power
    /// of two, so a bank's address is the low bits of the table address.
    pub fn bank_depth(self, width: u32, depth: usize) -> usize {
        let mut best: Option<(usize, usize)> = None;
        for &(w, d) in self.configs() {
            let blocks = depth.div_ceil(d) * (width as usize).div_ceil(w as usize);
            if best.is_none_or(|(b, bd)| blocks < b || (blocks == b && d > bd)) {
                best = Some((blocks, d));
            }
        }
        best.expect("at least one configuration").1
    }
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
    ram: RamFamily,
) -> Expr {
    let width = words.first().map_or(0, |w| w.len()) as u32;
    let depth = words.len();
    let needs_block = (width as usize) * depth >= 4096;
    let logic = ram == RamFamily::Ice40 && (width as usize) * depth <= ICE40_LOGIC_ROM_BITS;
    // A logic ROM is banked too, in banks of `LOGIC_BANK` words: each bank's read (a
    // 6-input function per bit) ends in its register, and the bank mux follows the second
    // register, so the read is not one long LUT tree (1280 words: 28 ns on the UP5K).
    let bank = if logic {
        LOGIC_BANK
    } else {
        ram.bank_depth(width, depth)
    };
    if depth <= bank || (!needs_block && !logic) {
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

#[cfg(test)]
mod tests {
    use super::RamFamily;

    #[test]
    fn bank_depth_is_the_deepest_config_without_extra_blocks() {
        // ECP5: 36 x 4000 needs 8 blocks at 512, 1024 or 2048 deep (9 at 4096): 2048.
        assert_eq!(RamFamily::Ecp5.bank_depth(36, 4000), 2048);
        assert_eq!(RamFamily::Ecp5.bank_depth(18, 4000), 2048);
        assert_eq!(RamFamily::Ecp5.bank_depth(1, 20000), 16384);
        assert_eq!(RamFamily::Ecp5.bank_depth(64, 2048), 2048);
        assert_eq!(RamFamily::Ecp5.bank_depth(36, 300), 512);
        // iCE40: 16 x 1000 is four 1024 x 4 blocks; 16 x 200 one 256 x 16 block.
        assert_eq!(RamFamily::Ice40.bank_depth(16, 1000), 1024);
        assert_eq!(RamFamily::Ice40.bank_depth(16, 200), 256);
        assert_eq!(RamFamily::Ice40.bank_depth(2, 5000), 2048);
        assert_eq!(RamFamily::Ice40.bank_depth(1, 13104), 4096);
    }
}
