//! ECP5 block RAM instantiated as `DP16KD` cells with `REGMODE = "OUTREG"`, for the tables and
//! line buffers whose read ends in two registers (`bank::READ_STAGES`).
//!
//! Why: Yosys 0.23 absorbs the first read register into the EBR but never the second, so the
//! EBR runs without its output register and its slow clock-to-out (about 6 ns in nextpnr)
//! plus the routing to the fabric register set the clock (the critical path of
//! fashion-default on the ECP5-85k). Instantiated by hand, each EBR holds both read stages:
//! the read latch loads on the read enable, the output register on the same enable, so the
//! word arrives exactly when `rd2` delivered it and the cycle count does not change.
//!
//! A memory of `width` bits and `depth` words takes the block configuration the plan's RAM
//! family counts (`RamFamily::bank_depth`), with the word cut into columns of one block each.
//! Port A writes (line buffers), port B reads; at width 36 the pair is the cell's pseudo
//! dual-port mode, as Yosys maps `PDPW16KD`. ROM contents go into `INITVAL_xx` parameters in
//! the row layout `synth::cells::DP16KD` models.
//!
//! Co-simulation needs the cell's behaviour: [`SIM_MODEL`] is written beside the RTL (listed
//! in `files.f`, never in synthesis), and the gate-level run simulates the mapped netlist
//! with the same model (`synth::cells`), so both checks rest on one reading of the cell.

use super::build::sig_of;
use super::netlist::{Conn, Expr, Mem, Module, ModuleBuilder, Sig, SigDecl, SigKind};
use crate::plan::cost::ram::{Placed, RamFamily, Shape, Style, BLOCK_RAM_BITS};

/// File name of the behavioural model written beside RTL that instantiates `DP16KD`.
pub const SIM_MODEL_FILE: &str = "DP16KD.v";

/// Behavioural model of `DP16KD`, in every configuration Yosys maps memories onto (a
/// superset of what this module instantiates).
pub const SIM_MODEL: &str = include_str!("ebr/DP16KD.v");

/// Rows of 18 bits in one block, and rows per `INITVAL_xx` parameter.
const ROWS: usize = 1024;
const ROWS_PER_INIT: usize = 16;

/// One block configuration: data bits per word, words, and the low address bit of a word
/// address in `ADx[13:0]` (which addresses in bit units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Config {
    width: u32,
    depth: usize,
    lsb: u32,
}

const CONFIGS: [Config; 6] = [
    Config {
        width: 1,
        depth: 16384,
        lsb: 0,
    },
    Config {
        width: 2,
        depth: 8192,
        lsb: 1,
    },
    Config {
        width: 4,
        depth: 4096,
        lsb: 2,
    },
    Config {
        width: 9,
        depth: 2048,
        lsb: 3,
    },
    Config {
        width: 18,
        depth: 1024,
        lsb: 4,
    },
    Config {
        width: 36,
        depth: 512,
        lsb: 5,
    },
];

impl Config {
    /// The configuration the cost model counts for a memory of this shape.
    fn of(width: u32, depth: usize) -> Config {
        let d = RamFamily::Ecp5.bank_depth(width, depth);
        let c = *CONFIGS
            .iter()
            .find(|c| c.depth == d)
            .expect("an ECP5 depth");
        assert!(
            depth <= c.depth,
            "a {depth}-word memory fits one block's depth"
        );
        c
    }

    /// Row and bit offset in the row of word `a`'s first bit. A 9-bit word is half a row; a
    /// narrower one is one of `8 / width` words in the low 8 bits of a half; a 36-bit word
    /// is rows 2a (low half) and 2a + 1.
    fn place(self, a: usize) -> (usize, usize) {
        match self.width {
            36 => (2 * a, 0),
            18 => (a, 0),
            w => {
                let per = if w == 9 { 1 } else { 8 / w as usize };
                (a / (2 * per), 9 * ((a / per) % 2) + w as usize * (a % per))
            }
        }
    }

    /// `INITVAL_00..3F` for `words` (each this configuration's width or narrower), as
    /// Verilog values; all-zero parameters are left at their default.
    fn initvals(self, words: &[Vec<bool>]) -> Vec<(String, String)> {
        let mut rows = vec![[false; 18]; ROWS];
        for (a, word) in words.iter().enumerate() {
            let (row, lane) = self.place(a);
            for (i, &bit) in word.iter().enumerate() {
                rows[row + (lane + i) / 18][(lane + i) % 18] = bit;
            }
        }
        let mut out = Vec::new();
        for (k, chunk) in rows.chunks(ROWS_PER_INIT).enumerate() {
            if chunk.iter().all(|r| r.iter().all(|&b| !b)) {
                continue;
            }
            let mut bits = [false; 320];
            for (i, row) in chunk.iter().enumerate() {
                bits[20 * i..20 * i + 18].copy_from_slice(row);
            }
            let hex: String = (0..80)
                .rev()
                .map(|d| {
                    let v = (0..4).fold(0, |v, b| v | (bits[4 * d + b] as u32) << b);
                    char::from_digit(v, 16).unwrap().to_ascii_uppercase()
                })
                .collect();
            out.push((format!("INITVAL_{k:02X}"), format!("320'h{hex}")));
        }
        out
    }
}

/// The write side of a RAM: a word `data` is written at `addr` when `we`.
pub struct Write {
    pub we: Expr,
    pub addr: Expr,
    pub data: Expr,
}

/// A ROM of `words` read at `addr` when `en`: the word, from the EBR's output register, two
/// `en` cycles later (`bank::READ_STAGES`).
pub fn rom(b: &mut ModuleBuilder, name: &str, words: &[Vec<bool>], addr: Expr, en: &Expr) -> Expr {
    let width = words[0].len() as u32;
    let m = b.memory(name, width, words.len(), Some(words.to_vec()));
    blocks(b, m, name, Some(words), None, addr, en)
}

/// RAM `m` (declared, with no statement reading or writing it), written by `write`, read at
/// `addr` when `en`: the word two `en` cycles later. `name` prefixes the cells and wires.
pub fn ram(b: &mut ModuleBuilder, m: Mem, name: &str, write: Write, addr: Expr, en: &Expr) -> Expr {
    blocks(b, m, name, None, Some(write), addr, en)
}

/// Whether Yosys would put a memory of this shape, unmarked or marked for block RAM by size
/// (`BLOCK_RAM_BITS`), into ECP5 block RAM: those are the memories built from cells.
pub fn in_block_ram(width: u32, depth: usize, rom: bool) -> bool {
    let style = if width as usize * depth >= BLOCK_RAM_BITS {
        Style::Block
    } else {
        Style::Auto
    };
    let shape = Shape {
        width,
        depth,
        rom,
        style,
        used: vec![true; width as usize],
    };
    matches!(RamFamily::Ecp5.place(&shape), Placed::Block(_))
}

/// The columns of blocks of one memory; returns the read word (a wire).
fn blocks(
    b: &mut ModuleBuilder,
    m: Mem,
    name: &str,
    init: Option<&[Vec<bool>]>,
    write: Option<Write>,
    raddr: Expr,
    en: &Expr,
) -> Expr {
    let (width, depth) = (m.width, m.depth);
    b.implement_as_cells(m);
    let cfg = Config::of(width, depth);
    let cell = dp16kd_ports();
    let q = b.wire(&format!("{name}_q2"), width);
    let raddr = as_sig(b, raddr, &format!("{name}_raddr"));
    let write = write.map(|w| {
        let addr = as_sig(b, w.addr, &format!("{name}_waddr"));
        let data = as_sig(b, w.data, &format!("{name}_wdata"));
        (w.we, addr, data)
    });
    let columns = width.div_ceil(cfg.width);
    for col in 0..columns {
        let lo = col * cfg.width;
        let bits = cfg.width.min(width - lo);
        let mut params = vec![
            ("DATA_WIDTH_A".to_string(), cfg.width.to_string()),
            ("DATA_WIDTH_B".to_string(), cfg.width.to_string()),
            ("REGMODE_A".to_string(), "\"OUTREG\"".to_string()),
            ("REGMODE_B".to_string(), "\"OUTREG\"".to_string()),
            ("RESETMODE".to_string(), "\"SYNC\"".to_string()),
            ("WRITEMODE_A".to_string(), "\"NORMAL\"".to_string()),
            ("WRITEMODE_B".to_string(), "\"NORMAL\"".to_string()),
            ("GSR".to_string(), "\"DISABLED\"".to_string()),
        ];
        if let Some(words) = init {
            let part: Vec<Vec<bool>> = (words.iter())
                .map(|w| w[lo as usize..(lo + bits) as usize].to_vec())
                .collect();
            params.extend(cfg.initvals(&part));
        }
        let unused = (bits < 36).then(|| b.wire(&format!("{name}_c{col}_unused"), 36 - bits));
        let column = Column {
            cfg,
            bits,
            lo,
            write: &write,
            raddr,
            en,
            q,
            unused,
        };
        let conns = connections(b, &column);
        b.instance_with_params(&cell, &format!("{name}_c{col}"), params, conns);
    }
    b.e(q)
}

/// `e` as a signal: itself, or a wire named `name` that carries it.
fn as_sig(b: &mut ModuleBuilder, e: Expr, name: &str) -> Sig {
    if let super::netlist::ExprKind::Sig(_) = e.kind {
        return sig_of(b, &e);
    }
    let n = b.fresh(name);
    let w = b.let_(&n, e);
    sig_of(b, &w)
}

/// One block of a memory: column bits `[lo, lo + bits)` of the word, written on port A, read
/// on port B at `raddr` when `en` into `q`, outputs it does not use into `unused`.
struct Column<'a> {
    cfg: Config,
    bits: u32,
    lo: u32,
    /// Write enable, address and data (line buffers); `None` for a ROM.
    write: &'a Option<(Expr, Sig, Sig)>,
    raddr: Sig,
    en: &'a Expr,
    q: Sig,
    unused: Option<Sig>,
}

/// Every port of the block `col`.
fn connections(b: &ModuleBuilder, col: &Column) -> Vec<(&'static str, Conn)> {
    let Column {
        cfg,
        bits,
        lo,
        write,
        raddr,
        en,
        q,
        unused,
    } = *col;
    let clk = b.e(b.named(&b.clock_name()).expect("the module's clock input"));
    let f = Expr::f;
    let mut c: Vec<(&'static str, Conn)> = Vec::new();
    // Address bit i of ADx for a word address `a`: byte enables (all on) below the word
    // address at widths 18 and 36, zeros otherwise, and zeros above the address.
    let ad = |a: Sig, i: u32, byte_enable: bool| -> Expr {
        if i < cfg.lsb {
            let be = match cfg.width {
                18 => i < 2,
                36 => i < 4,
                _ => false,
            };
            if be && byte_enable {
                Expr::t()
            } else {
                f()
            }
        } else if i - cfg.lsb < a.width {
            b.bit(a, i - cfg.lsb)
        } else {
            f()
        }
    };
    // Data in: column bit j of the write data, DIA first, then DIB at width 36.
    let din = |j: u32| -> Expr {
        match write {
            Some((_, _, data)) if j < bits => b.bit(*data, lo + j),
            _ => f(),
        }
    };
    let (we, waddr) = match write {
        Some((we, waddr, _)) => (we.clone(), Some(*waddr)),
        None => (f(), None),
    };
    let wide = cfg.width == 36;
    let mut next_unused = 0;
    let mut out = |j: u32| -> Conn {
        if j < bits {
            Conn::OutBit(q, lo + j)
        } else {
            next_unused += 1;
            Conn::OutBit(
                unused.expect("a block with unused outputs"),
                next_unused - 1,
            )
        }
    };
    for i in 0..18 {
        c.push((DIA[i as usize], Conn::In(din(i))));
    }
    for i in 0..14 {
        let e = waddr.map_or_else(f, |a| ad(a, i, true));
        c.push((ADA[i as usize], Conn::In(e)));
    }
    let oce_a = if wide { en.clone() } else { f() };
    c.push(("CEA", Conn::In(we.clone())));
    c.push(("OCEA", Conn::In(oce_a)));
    c.push(("CLKA", Conn::In(clk.clone())));
    c.push(("WEA", Conn::In(we)));
    c.push(("RSTA", Conn::In(f())));
    for p in ["CSA2", "CSA1", "CSA0"] {
        c.push((p, Conn::In(f())));
    }
    // Read data: DOB at widths below 36; DOA low and DOB high at 36.
    let (doa_from, dob_from) = if wide { (Some(0), 18) } else { (None, 0) };
    for i in 0..18 {
        let conn = match doa_from {
            Some(base) => out(base + i),
            None => out(u32::MAX),
        };
        c.push((DOA[i as usize], conn));
    }
    for i in 0..18 {
        let e = if wide { din(18 + i) } else { f() };
        c.push((DIB[i as usize], Conn::In(e)));
    }
    for i in 0..14 {
        c.push((ADB[i as usize], Conn::In(ad(raddr, i, false))));
    }
    c.push(("CEB", Conn::In(en.clone())));
    c.push(("OCEB", Conn::In(en.clone())));
    c.push(("CLKB", Conn::In(clk)));
    c.push(("WEB", Conn::In(f())));
    c.push(("RSTB", Conn::In(f())));
    for p in ["CSB2", "CSB1", "CSB0"] {
        c.push((p, Conn::In(f())));
    }
    for i in 0..18 {
        c.push((DOB[i as usize], out(dob_from + i)));
    }
    c
}

/// The pins `<bus>0` .. `<bus>17` of one of the cell's 18-bit buses, in bit order.
macro_rules! bus {
    ($bus:literal) => {
        bus!($bus; 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17)
    };
    ($bus:literal; $($bit:literal)+) => {
        [$(concat!($bus, $bit)),+]
    };
}

/// The low 14 pins of a bus: the address buses `ADx` are 14 bits wide.
const fn address(bus: [&'static str; 18]) -> [&'static str; 14] {
    match bus.first_chunk() {
        Some(a) => *a,
        None => unreachable!(),
    }
}

const DIA: [&str; 18] = bus!("DIA");
const DIB: [&str; 18] = bus!("DIB");
const DOA: [&str; 18] = bus!("DOA");
const DOB: [&str; 18] = bus!("DOB");
const ADA: [&str; 14] = address(bus!("ADA"));
const ADB: [&str; 14] = address(bus!("ADB"));

/// The cell's ports (never printed: the cell is the vendor's, or [`SIM_MODEL`] in
/// simulation), so an instance is checked like any other.
fn dp16kd_ports() -> Module {
    let mut sigs = Vec::new();
    let mut port = |name: &str, kind: SigKind| {
        sigs.push(SigDecl {
            name: name.to_string(),
            width: 1,
            kind,
            doc: String::new(),
            unread: false,
        })
    };
    for side in [
        (
            &DIA,
            &ADA,
            ["CEA", "OCEA", "CLKA", "WEA", "RSTA", "CSA2", "CSA1", "CSA0"],
            &DOA,
        ),
        (
            &DIB,
            &ADB,
            ["CEB", "OCEB", "CLKB", "WEB", "RSTB", "CSB2", "CSB1", "CSB0"],
            &DOB,
        ),
    ] {
        let (di, ad, ctl, dout) = side;
        for p in di.iter().chain(ad.iter()).chain(ctl.iter()) {
            port(p, SigKind::Input);
        }
        for p in dout.iter() {
            port(p, SigKind::OutputWire);
        }
    }
    Module {
        name: "DP16KD".to_string(),
        doc: Vec::new(),
        sigs,
        mems: Vec::new(),
        items: Vec::new(),
        clock: "clk".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_sit_where_the_cell_model_reads_them() {
        let c = |w| *CONFIGS.iter().find(|c| c.width == w).unwrap();
        assert_eq!(c(36).place(3), (6, 0));
        assert_eq!(c(18).place(5), (5, 0));
        assert_eq!(c(9).place(5), (2, 9));
        assert_eq!(c(4).place(6), (1, 9));
        assert_eq!(c(4).place(5), (1, 4));
        assert_eq!(c(2).place(7), (0, 15));
        assert_eq!(c(1).place(17), (1, 1));
        assert_eq!(c(1).place(8), (0, 9));
    }

    #[test]
    fn initvals_hold_the_rows_and_skip_zero_parameters() {
        let cfg = Config::of(18, 1024);
        assert_eq!(cfg.width, 18);
        let mut words = vec![vec![false; 18]; 17];
        words[0][0] = true; // row 0, bit 0 of INITVAL_00
        words[1][17] = true; // row 1, bit 20 + 17 of INITVAL_00
        words[16][1] = true; // row 16: INITVAL_01 bit 1
        let p = cfg.initvals(&words);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].0, "INITVAL_00");
        let v00 = &p[0].1["320'h".len()..];
        // Bit 37 is hex digit 9 (from the right), value 2; bit 0 digit 0, value 1.
        assert_eq!(&v00[80 - 10..], "2000000001");
        assert_eq!(&p[1].1[p[1].1.len() - 1..], "2");
        assert_eq!(p[1].0, "INITVAL_01");
    }

    #[test]
    fn the_configuration_is_the_one_the_cost_model_counts() {
        assert_eq!(Config::of(64, 512).width, 36);
        assert_eq!(Config::of(16, 1024).width, 18);
        assert_eq!(Config::of(8, 2048).width, 9);
    }
}
