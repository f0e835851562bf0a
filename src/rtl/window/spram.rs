//! A weight ROM held in the iCE40 UP5K's single-port RAM (SB_SPRAM256KA, 16K x 16 bits),
//! written once after reset through the load bus and then read like `rtl::bank::rom2`.
//!
//! Why this shape: the bitstream cannot initialize SPRAM, so the board's loader
//! (`constraints/common/bnngen_spi_loader.v`) copies the weight image from SPI flash, one
//! 16-bit word per cycle on `wl_we` / `wl_addr` / `wl_data`, while the accelerator is held in
//! reset. A word of `width` bits is cut into 16-bit slices, one memory each, side by side;
//! slice j answers the image addresses `base + j * rows ..` (`plan::cost::spram`), and a
//! slice deeper than one SPRAM is cut into banks of 16K rows, read together. Each
//! memory has one address, the load address while `wl_we` hits it and the read address
//! otherwise, so Yosys (`synth_ice40 -spram`, `ram_style = "huge"`) maps it to one SPRAM.
//! The read takes the same two stages (`READ_STAGES`) as a block-RAM ROM, so the stage's
//! cycles do not change.

use crate::plan::cost::spram::{
    pack_of, rows_of, SpramStore, LOAD_ADDR_WIDTH, SPRAM_DEPTH, SPRAM_WIDTH,
};
use crate::rtl::bank::READ_STAGES;
use crate::rtl::build::{delay, ge_const, lt_const, select, sig_of};
use crate::rtl::netlist::{addr_width, Expr, ModuleBuilder, Sig, Stmt};

/// The load bus of a stage (and of the top): write enable, image address, image word.
#[derive(Debug, Clone, Copy)]
pub struct LoadBus {
    pub we: Sig,
    pub addr: Sig,
    pub data: Sig,
}

impl LoadBus {
    /// Declare the load bus as inputs of `b`, with the low `data_width` bits of the image word
    /// (all that its stores keep).
    pub fn inputs(b: &mut ModuleBuilder, data_width: u32) -> LoadBus {
        LoadBus {
            we: b.input(
                "wl_we",
                1,
                "weight load: write the image word (only in reset)",
            ),
            addr: b.input(
                "wl_addr",
                LOAD_ADDR_WIDTH,
                "weight load: image word address",
            ),
            data: b.input("wl_data", data_width, "weight load: image word, low bits"),
        }
    }

    /// Bits of the image word that `store`'s memories keep.
    pub fn data_width(store: &SpramStore) -> u32 {
        (store.width * store.pack() as u32).min(SPRAM_WIDTH)
    }
}

/// The table `words` in SPRAM, its slices at image address `base` on; read at `addr` when
/// `en`, the word `READ_STAGES` cycles later. A load bus word is written one cycle after it
/// is on the bus, so the bus must be idle for a cycle before reset ends.
pub fn weight_store(
    b: &mut ModuleBuilder,
    name: &str,
    words: Vec<Vec<bool>>,
    addr: Sig,
    en: &Expr,
    base: usize,
    bus: LoadBus,
) -> Expr {
    assert_eq!(READ_STAGES, 2, "SPRAM register plus one fabric register");
    let width = words.first().map_or(0, |w| w.len());
    let depth = words.len();
    assert!(
        depth >= 2 && width > 0,
        "{name}: an SPRAM store has a word and an address"
    );
    // A narrow word is packed, `pack` to a row (`plan::cost::spram`): read the row at the
    // high address bits, pick the word with the low ones once the row is out.
    let pack = pack_of(width as u32);
    let lg = pack.ilog2();
    let rows = rows_of(width as u32, depth);
    let words: Vec<Vec<bool>> = (0..rows)
        .map(|r| {
            (0..pack)
                .flat_map(|k| match words.get(r * pack + k) {
                    Some(w) => w.clone(),
                    None => vec![false; width],
                })
                .collect()
        })
        .collect();
    let (word_w, width) = (width, width * pack);
    let aw = addr_width(rows);
    let row_addr = match addr.width > lg {
        true => b.slice(addr, lg, addr.width - lg),
        false => Expr::zero(1),
    };
    let row_addr = match row_addr.width >= aw {
        true => b.slice_of(row_addr, 0, aw, &format!("{name}_row")),
        false => row_addr.zext(aw),
    };
    let pick = (lg > 0).then(|| {
        let lo = b.slice(addr, 0, lg.min(addr.width));
        let d = delay(b, lo, READ_STAGES, en, &format!("{name}_pick"));
        sig_of(b, &d)
    });
    // A slice deeper than one SPRAM is cascaded: every bank is read at the low row bits, and
    // the high bits, registered with the read, pick the bank whose row comes out.
    let banks = rows.div_ceil(SPRAM_DEPTH);
    let bank_aw = addr_width(rows.min(SPRAM_DEPTH));
    let row_addr = match banks {
        1 => row_addr,
        _ => b.let_(&format!("{name}_ra"), row_addr),
    };
    let bank = (banks > 1).then(|| {
        let hi = b.slice(sig_of(b, &row_addr), bank_aw, aw - bank_aw);
        let d = delay(b, hi, READ_STAGES - 1, en, &format!("{name}_bank"));
        sig_of(b, &d)
    });
    let slices = width.div_ceil(SPRAM_WIDTH as usize);
    let mut outs = Vec::with_capacity(slices);
    for j in 0..slices {
        let lo_bit = j * SPRAM_WIDTH as usize;
        let sw = (width - lo_bit).min(SPRAM_WIDTH as usize);
        let mut qs = Vec::with_capacity(banks);
        for k in 0..banks {
            let first_row = k * SPRAM_DEPTH;
            let bank_rows = (rows - first_row).min(SPRAM_DEPTH);
            let image: Vec<u16> = words[first_row..first_row + bank_rows]
                .iter()
                .map(|w| {
                    (0..sw)
                        .filter(|&i| w[lo_bit + i])
                        .fold(0, |v, i| v | 1 << i)
                })
                .collect();
            let sname = match banks {
                1 => format!("{name}_s{j}"),
                _ => format!("{name}_s{j}b{k}"),
            };
            let bank = Bank {
                name: sname,
                image,
                width: sw as u32,
                first: (base + j * rows + first_row) as u64,
            };
            qs.push(spram_bank(b, bank, &row_addr, en, bus));
        }
        let q = match bank {
            Some(sel) => select(b, &qs, sel),
            None => qs.pop().expect("one bank"),
        };
        let q2 = b.reg(&format!("{name}_s{j}_q2"), sw as u32);
        b.always(vec![Stmt::when(en.clone(), vec![Stmt::set(q2, q)])]);
        outs.push(b.e(q2));
    }
    let row = b.let_(&format!("{name}_w"), Expr::cat_lsb(outs));
    let Some(pick) = pick else { return row };
    let row = sig_of(b, &row);
    let parts: Vec<Expr> = (0..1usize << pick.width)
        .map(|k| b.slice(row, (k * word_w) as u32, word_w as u32))
        .collect();
    b.let_(&format!("{name}_pw"), select(b, &parts, pick))
}

/// One SB_SPRAM256KA of a store: its memory's name, its rows as the image holds them, their
/// width, and the image address of its first row.
struct Bank {
    name: String,
    image: Vec<u16>,
    width: u32,
    first: u64,
}

/// `bank` written from `bus` and read at the low bits of `row_addr` when `en`; returns its
/// read register.
fn spram_bank(b: &mut ModuleBuilder, bank: Bank, row_addr: &Expr, en: &Expr, bus: LoadBus) -> Expr {
    let Bank {
        name: sname,
        image,
        width: sw,
        first,
    } = bank;
    let sname = sname.as_str();
    let depth = image.len();
    let aw = addr_width(depth);
    let m = b.memory(sname, sw, depth, None);
    b.spram(m, image);
    let hit = ge_const(b.e(bus.addr), first).and(lt_const(b.e(bus.addr), first + depth as u64));
    // The decoded write is registered, so the address compare and subtraction are not in
    // the path into the SPRAM's address; a write lands one cycle after the bus word.
    // Only the low `aw` bits of the difference are kept: subtract modulo 2^aw.
    let local = (b.slice(bus.addr, 0, aw)).sub(Expr::lit(first & ((1 << aw) - 1), aw));
    let we_r = b.reg(&format!("{sname}_we"), 1);
    let la_r = b.reg(&format!("{sname}_wa"), aw);
    let d_r = b.reg(&format!("{sname}_wd"), sw);
    b.always(vec![
        Stmt::set(we_r, b.e(bus.we).and(hit)),
        Stmt::set(la_r, local),
        Stmt::set(d_r, b.slice(bus.data, 0, sw)),
    ]);
    let we = b.e(we_r);
    // The bank's rows are the low bits of the row address (all of it without a cascade).
    let read_addr = match row_addr.width == aw {
        true => row_addr.clone(),
        false => b.slice(sig_of(b, row_addr), 0, aw),
    };
    let a = b.let_(&format!("{sname}_a"), we.clone().mux(b.e(la_r), read_addr));
    let data = b.e(d_r);
    let q = b.reg(&format!("{sname}_q"), sw);
    let rd = b.read(m, a.clone());
    b.always(vec![Stmt::if_else(
        we,
        vec![Stmt::write(m, a, data)],
        vec![Stmt::when(en.clone(), vec![Stmt::set(q, rd)])],
    )]);
    b.e(q)
}
