//! Block-RAM geometry of each FPGA family, and where Yosys puts a memory of a given shape.
//!
//! Why here: the RTL (`rtl::bank`) sizes its ROM banks by this geometry, and the cost model
//! counts blocks by it, so both read one table. The mapping rule follows Yosys 0.23's
//! `memory_libmap` (the pass `synth_ice40` and `synth_ecp5` run): a memory goes to the cheapest
//! of soft logic, LUT RAM and block RAM, where soft logic costs 1 per bit for a RAM and 1/16
//! per bit for a ROM, a LUT RAM (ECP5 `TRELLIS_DPR16X4`, 16 x 4, RAMs only) costs 4, a block
//! costs 64 (iCE40 `SB_RAM40_4K`) or 128 (ECP5 `DP16KD`), and each memory split over several
//! blocks by depth adds half a cost unit per data bit for the read mux and per block for the
//! write decode. A tie goes to logic. `ram_style` overrides the choice.

/// Block-RAM geometry used to size weight-ROM banks and to count blocks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RamFamily {
    /// ECP5 DP16KD / PDPW16KD: 16 Kbit, 1 to 36 bits wide (also a fair rule for Xilinx
    /// RAMB18 and for generic synthesis).
    #[default]
    Ecp5,
    /// iCE40 SB_RAM40_4K: 4 Kbit, 1 to 16 bits wide.
    Ice40,
}

/// On iCE40, a table of at most this many bits is kept in logic (`ram_style = "logic"`), not
/// in a 4 Kbit block: a third of a block. The UP5K has only 30 blocks, and a fashion-sized
/// model is short of blocks before it is short of logic cells; a 1280-bit ROM costs about
/// 160 LUT4 (Yosys 0.23, measured), about 3% of the device, and frees a whole block.
pub const ICE40_LOGIC_ROM_BITS: usize = 4096 / 3;

/// Words per bank of a ROM kept in logic (`ICE40_LOGIC_ROM_BITS`): a 6-input function per
/// bit, three LUT4 levels.
pub const LOGIC_BANK: usize = 64;

/// A memory of this many bits or more is marked for block RAM (`ram_style = "block"`).
pub const BLOCK_RAM_BITS: usize = 4096;

/// How the RTL marks a memory for synthesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    /// No attribute: the tool chooses.
    Auto,
    /// `ram_style = "block"`.
    Block,
    /// `ram_style = "logic"`.
    Logic,
}

/// Where a memory ends up after synthesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Placed {
    /// Soft logic: flip-flops (a RAM) or LUTs (a ROM).
    Logic,
    /// This many LUT RAM cells (ECP5 TRELLIS_DPR16X4).
    LutRam(u64),
    /// This many block RAMs.
    Block(u64),
    /// This many iCE40 UP5K SPRAMs (SB_SPRAM256KA): a weight ROM of a plan with
    /// `weights = "spram"` (`spram::assign`).
    Spram(u64),
}

/// Soft-logic cost of one ROM bit relative to one RAM bit (Yosys's `-logic-cost-rom`).
const LOGIC_COST_ROM: f64 = 1.0 / 16.0;
/// Cost of one LUT RAM cell and its geometry (ECP5 `lutrams.txt`).
const LUTRAM_COST: f64 = 4.0;
const LUTRAM_GEOMETRY: (u32, usize) = (4, 16);
/// Cost of the read mux per data bit and of the write decode per block, per extra block in
/// depth (Yosys's FACTOR_MUX and FACTOR_DEMUX).
const FACTOR_MUX: f64 = 0.5;

impl RamFamily {
    /// The family as reports write it.
    pub fn name(self) -> &'static str {
        match self {
            RamFamily::Ice40 => "ice40",
            RamFamily::Ecp5 => "ecp5",
        }
    }

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

    /// Cost of one block in Yosys's unit (its `brams.txt`).
    fn block_cost(self) -> f64 {
        match self {
            RamFamily::Ecp5 => 128.0,
            RamFamily::Ice40 => 64.0,
        }
    }

    /// Bits of one block, as the synthesis report counts them.
    pub fn block_bits(self) -> u64 {
        match self {
            RamFamily::Ecp5 => 18432,
            RamFamily::Ice40 => 4096,
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

    /// Blocks kept and cost of the cheapest block configuration for a memory. A RAM cannot
    /// use iCE40's one-bit trick (its write port is at least two bits wide).
    fn blocks(self, m: &Shape) -> (u64, f64) {
        let mut best: Option<(u64, f64)> = None;
        for &(w, d) in self.configs() {
            if !m.rom && self == RamFamily::Ice40 && w == 1 {
                continue;
            }
            let (n, c) = split_cost(m, (w, d), self.block_cost(), true);
            if best.is_none_or(|(_, bc)| c < bc) {
                best = Some((n, c));
            }
        }
        best.expect("at least one configuration")
    }

    /// Where Yosys puts memory `m`: the choice is made on its declared shape, then the
    /// cells that hold no used column are removed.
    pub fn place(self, m: &Shape) -> Placed {
        match m.style {
            Style::Logic => return Placed::Logic,
            Style::Block => return Placed::Block(self.blocks(m).0),
            Style::Auto => {}
        }
        let bits = (m.width as usize * m.depth) as f64;
        let logic = if m.rom { bits * LOGIC_COST_ROM } else { bits };
        let (blocks, block) = self.blocks(m);
        let lutram = (self == RamFamily::Ecp5 && !m.rom)
            .then(|| split_cost(m, LUTRAM_GEOMETRY, LUTRAM_COST, false));
        let mut best = (Placed::Logic, logic);
        if let Some((n, c)) = lutram {
            if c < best.1 {
                best = (Placed::LutRam(n), c);
            }
        }
        if block < best.1 {
            best = (Placed::Block(blocks), block);
        }
        best.0
    }
}

/// A memory's shape as synthesis sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    pub width: u32,
    pub depth: usize,
    /// Read-only (no write port).
    pub rom: bool,
    pub style: Style,
    /// Which bit columns the stage reads (`width` entries).
    pub used: Vec<bool>,
}

/// Cells kept and cost of a memory in cells of geometry `(w, d)` costing `unit` each: side
/// by side for the width, one row of cells per `d` words, plus the read mux and write
/// decode. With `drop_unread`, a column of cells none of whose bits is read is removed after
/// the choice (Yosys 0.23 does so for block RAM, not for LUT RAM).
fn split_cost(m: &Shape, (w, d): (u32, usize), unit: f64, drop_unread: bool) -> (u64, f64) {
    let rows = m.depth.div_ceil(d);
    let cols = (m.width as usize).div_ceil(w as usize);
    let kept = if drop_unread {
        let read = m.used.chunks(w as usize).filter(|c| c.iter().any(|&u| u));
        read.count()
    } else {
        cols
    };
    let mux = (rows - 1) as f64 * m.width as f64 * FACTOR_MUX;
    let demux = if m.rom || rows == 1 {
        0.0
    } else {
        rows as f64 * FACTOR_MUX
    };
    (
        (rows * kept) as u64,
        (rows * cols) as f64 * unit + mux + demux,
    )
}

#[cfg(test)]
mod tests {
    use super::{Placed, RamFamily, Shape, Style};

    fn auto(width: u32, depth: usize, rom: bool) -> Shape {
        Shape {
            width,
            depth,
            rom,
            style: Style::Auto,
            used: vec![true; width as usize],
        }
    }

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

    /// Shapes measured with Yosys 0.23 (`synth_ice40` / `synth_ecp5` of one memory with a
    /// registered read, `no_rw_check`).
    #[test]
    fn auto_memories_go_where_yosys_puts_them() {
        let ice = |w, d, rom| RamFamily::Ice40.place(&auto(w, d, rom));
        let ecp = |w, d, rom| RamFamily::Ecp5.place(&auto(w, d, rom));
        assert_eq!(ice(4, 8, false), Placed::Logic);
        assert_eq!(ice(2, 32, false), Placed::Logic);
        assert_eq!(ice(32, 4, false), Placed::Logic);
        assert_eq!(ice(8, 16, false), Placed::Block(1));
        assert_eq!(ice(4, 32, false), Placed::Block(1));
        assert_eq!(ice(64, 8, false), Placed::Block(4));
        assert_eq!(ice(40, 16, false), Placed::Block(3));
        assert_eq!(ice(8, 128, true), Placed::Logic);
        assert_eq!(ice(8, 256, true), Placed::Block(1));
        assert_eq!(ecp(1, 4, false), Placed::Logic);
        assert_eq!(ecp(2, 4, false), Placed::LutRam(1));
        assert_eq!(ecp(8, 16, false), Placed::LutRam(2));
        assert_eq!(ecp(40, 16, false), Placed::LutRam(10));
        assert_eq!(ecp(8, 256, true), Placed::Logic);
        assert_eq!(ecp(8, 320, true), Placed::Block(1));
        assert_eq!(ecp(16, 160, true), Placed::Block(1));
    }

    /// A 24 x 96 line buffer of which only channels 0..8 are read (measured on a random
    /// model): iCE40 maps it to two 16-bit blocks and drops the unread one; ECP5 chooses a
    /// block for the full width rather than LUT RAM.
    #[test]
    fn unread_columns_drop_cells_after_the_choice() {
        let mut m = auto(24, 96, false);
        m.used = (0..24).map(|c| c < 8).collect();
        assert_eq!(RamFamily::Ice40.place(&m), Placed::Block(1));
        assert_eq!(RamFamily::Ecp5.place(&m), Placed::Block(1));
    }
}
