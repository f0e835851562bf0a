//! The write side of a window stage: a ring of `r` row slots, address = {slot, column}, the
//! registered input ready that keeps the writer off rows still read, the count of complete
//! rows written (`wrow`, kept as slacks: `row_slack`), and the per-output-row constants.
//!
//! A stage taking several kernel taps per cycle keeps one copy of the ring per tap, all
//! written with the same pixel at the same address, and reads copy j at tap j's address. That
//! is the smallest change that gives every tap its own read port: the issue side, the row
//! bookkeeping and the no-read-during-write argument below stay as they are for one tap, and
//! any tap count up to the whole window works for any stride and padding. The price is
//! memory: `taps` times the bits of one ring (the plan's buffer bits count it). FINN's
//! sliding-window generator instead shifts a window register per kernel row, which saves the
//! copies but ties the schedule to one output pixel per window shift.
//!
//! A narrow ring (`plan::cost::ring`: on iCE40, a classifier over a 1x1 input reading one
//! chunk at a time) holds each pixel as words of a group of chunks, written one group per
//! cycle from the held input word; `s_ready` rises with the last group, so the pixel, the
//! row count and the input handshake are those of a whole-word ring. A max-pool's narrow ring
//! (`NarrowRing::held`) first takes the pixel into a holding register, in one cycle, and
//! takes the next with its last group: its producer, often the pipeline's slowest stage,
//! then waits no cycle for the groups, and a pixel still counts when its last group is
//! written.

use super::counter::Counter;
use super::row_slack::{first_row, RowSlack, AFTER_STEP, AFTER_STEP_1, ROOM_STEP, ROOM_STEP_1};
use super::{Geometry, Ports};
use crate::plan::cost::ring::NarrowRing;
use crate::rtl::build::{ge_const, select};
use crate::rtl::netlist::{addr_width, bits_for, Expr, Mem, ModuleBuilder, Sig, Stmt};

/// A line-buffer address: the column counter's bits under the slot's (no multiply, no
/// modulo), or the slot alone for one-column rows.
pub(super) fn addr_of(slot: Expr, col: Option<Expr>) -> Expr {
    match col {
        Some(c) => Expr::cat_lsb(vec![c, slot]),
        None => slot,
    }
}

/// Fields of a window stage's row table (`RowTable::build`) besides the slack steps: the
/// slot step to the next row (`DELTA`, and `DNEG` = `DELTA - r`), and the last-row flag,
/// present with padding only (where the padded row position restarts after it).
pub(super) const DELTA: usize = 2;
pub(super) const DNEG: usize = 3;
pub(super) const LAST: usize = 6;

/// What the issue and read sides use of the write side.
pub(super) struct LineBuffer {
    /// Row stride (a power of two), its column bits, and the slot bits.
    pub(super) w2: usize,
    pub(super) cb: u32,
    pub(super) sb: u32,
    /// The row bookkeeping: complete rows written against the current output row's needs and
    /// the write limit, as slacks (`row_slack`).
    pub(super) slack: RowSlack,
    /// One ring per kernel tap taken per cycle, written alike.
    pub(super) lbufs: Vec<Mem>,
    /// The rings are ECP5 block-RAM cells (`rtl::ebr`): the read side instantiates them, with
    /// the write port driven by `wr_en`, `mem_waddr` and `wdata`; no statement writes them.
    pub(super) cells: bool,
    pub(super) wr_en: Expr,
    pub(super) wdata: Expr,
    pub(super) rows: RowTable,
    /// A pixel is written this cycle, at `waddr`; `row_done`: it completes a row.
    pub(super) wr: Expr,
    pub(super) waddr: Expr,
    pub(super) row_done: Expr,
    /// `Some`: the ring is narrow (`plan::cost::ring`): it holds groups of chunks, a pixel's
    /// groups at the low address bits, written one group per cycle (`mem_wr` at
    /// `mem_waddr`), the pixel accepted with its last group.
    pub(super) narrow: Option<NarrowRing>,
    pub(super) mem_wr: Expr,
    pub(super) mem_waddr: Expr,
}

impl LineBuffer {
    pub(super) fn build(
        b: &mut ModuleBuilder,
        g: &Geometry,
        io: &Ports,
        copies: usize,
        ecp5_cells: bool,
        narrow: Option<NarrowRing>,
    ) -> LineBuffer {
        let (h, w, c, r) = (g.h, g.w, g.c, g.r);
        // The row stride is a power of two (`w2`), so an address is a concatenation of the
        // slot and column counters: no multiply, no modulo on any address.
        let w2 = w.next_power_of_two();
        let cb = w2.trailing_zeros();
        let sb = bits_for(r as u64 - 1);
        let aw = addr_width(r * w2);
        assert_eq!(aw, sb + cb, "line-buffer address = slot bits + column bits");
        let in_x = Counter::new(b, "in_x", w, 1);
        let in_slot = Counter::new(b, "in_slot", r, 1);
        // Complete rows written, counted from the first row of the frame being issued (the
        // writer may run up to `r` rows into the next frame), fit `ww` bits; their slacks are
        // signed, one bit more.
        let ww = bits_for((2 * h + r) as u64);
        let slack = RowSlack::new(b, ww + 1);
        // A narrow ring is one copy (a step of one tap).
        assert!(narrow.is_none_or(|_| copies == 1));
        let (mem_w, mem_d) = match narrow {
            Some(n) => (n.group_bits, n.depth(r * w2)),
            None => (c as u32, r * w2),
        };
        let lbufs: Vec<Mem> = (0..copies)
            .map(|j| match j {
                0 => b.memory("lbuf", mem_w, mem_d, None),
                j => b.memory(&format!("lbuf_t{j}"), mem_w, mem_d, None),
            })
            .collect();
        // The writer only writes row `wrow` while `wrow < cap`, the first row the issuing
        // pixels still read plus `r`: the slot it overwrites holds a row no pixel reads any
        // more, and the row it fills is not read before it is complete. So a read never meets
        // the write of its own address, and synthesis may drop the read-during-write bypass.
        // `rw_poison` lets co-simulation check that claim on every test model.
        for &m in &lbufs {
            b.no_rw_check(m);
        }
        let rows = RowTable::build(b, g, ww + 1, sb);
        // Input ready, registered: the next cycle's `wrow < cap` from this cycle's values.
        let s_rdy = b.reg("s_rdy", 1);
        // A narrow ring takes a pixel one group per cycle and accepts it with the last; a
        // held one writes from its holding register (`src`) and empties it with the last.
        let sub = narrow.map(|n| Counter::new(b, "in_sub", n.groups, 1));
        let held = narrow.filter(|n| n.held).map(|_| Held::build(b, io));
        let src_valid = held.as_ref().map_or(b.e(io.s_valid), |h| b.e(h.valid));
        let src_data = held.as_ref().map_or(io.s_data, |h| h.data);
        let ready = match &sub {
            Some(k) => b.e(s_rdy).and(k.last(b)),
            None => b.e(s_rdy),
        };
        let wr = match &held {
            Some(h) => {
                let last = b.let_("wr", b.e(h.valid).and(ready));
                h.drive(b, io, &last);
                last
            }
            None => {
                b.assign(io.s_ready, ready);
                b.let_("wr", b.e(io.s_valid).and(b.e(io.s_ready)))
            }
        };
        let row_done = b.let_("row_done", wr.clone().and(in_x.last(b)));
        let rdy_next = slack.ready_next(b, &row_done);
        b.always(vec![Stmt::if_else(
            b.e(io.rst),
            vec![Stmt::set(s_rdy, Expr::f())],
            vec![Stmt::set(s_rdy, rdy_next)],
        )]);
        let waddr = {
            let col = (cb > 0).then(|| in_x.val(b, cb));
            b.let_("waddr", addr_of(in_slot.val(b, sb), col))
        };
        let cells = ecp5_cells && crate::rtl::ebr::in_block_ram(mem_w, mem_d, false);
        let (mem_wr, mem_waddr) = match (narrow, &sub) {
            (Some(n), Some(k)) => (
                b.let_("wr_sub", src_valid.and(b.e(s_rdy))),
                b.let_(
                    "waddr_sub",
                    Expr::cat_lsb(vec![k.val(b, n.sub_bits), waddr.clone()]),
                ),
            ),
            _ => (wr.clone(), waddr.clone()),
        };
        let mut wdata = b.e(io.s_data);
        let mut wstm: Vec<Stmt> = match (cells, narrow, &sub) {
            (_, Some(n), Some(k)) => {
                let groups: Vec<Expr> = (0..n.groups)
                    .map(|g| {
                        let base = g as u32 * n.group_bits;
                        let have = n.group_bits.min(c as u32 - base);
                        let part = b.slice(src_data, base, have);
                        match have < n.group_bits {
                            true => Expr::cat_lsb(vec![part, Expr::zero(n.group_bits - have)]),
                            false => part,
                        }
                    })
                    .collect();
                let ks = k.sig.expect("a narrow ring has several groups");
                wdata = b.let_("wdata_sub", select(b, &groups, ks));
                // As cells, the read side instantiates the ring with this write port.
                let mut st = match cells {
                    true => Vec::new(),
                    false => vec![Stmt::write(lbufs[0], mem_waddr.clone(), wdata.clone())],
                };
                st.extend(k.inc(b));
                b.always(vec![Stmt::if_else(
                    b.e(io.rst),
                    k.clear(),
                    vec![Stmt::when(mem_wr.clone(), st)],
                )]);
                Vec::new()
            }
            (true, ..) => Vec::new(),
            (false, ..) => (lbufs.iter())
                .map(|&m| Stmt::write(m, waddr.clone(), b.e(io.s_data)))
                .collect(),
        };
        wstm.extend(in_x.inc(b));
        if in_slot.sig.is_some() {
            wstm.push(Stmt::when(row_done.clone(), in_slot.inc(b)));
        }
        let mut clr = in_x.clear();
        clr.extend(in_slot.clear());
        b.always(vec![Stmt::if_else(
            b.e(io.rst),
            clr,
            vec![Stmt::when(wr.clone(), wstm)],
        )]);
        LineBuffer {
            w2,
            cb,
            sb,
            slack,
            lbufs,
            cells,
            wr_en: mem_wr.clone().and(b.e(io.rst).not()),
            wdata,
            rows,
            wr,
            waddr,
            row_done,
            narrow,
            mem_wr,
            mem_waddr,
        }
    }
}

/// Per output row constants, as fields of one word per output row. The current row's are a
/// register loaded from the next row's at the end of a row (and that one from a table read
/// one row ahead), or constants when oh == 1.
///
/// A window stage's fields (`RowTable::build`): the steps of the row slacks to the next row
/// (`row_slack`), the slot step to the next row's first window row (mod r, and minus r), and
/// with padding whether the row is the frame's last.
pub(super) struct RowTable {
    /// One word of field values per output row.
    words: Vec<Vec<u64>>,
    /// Field widths.
    fields: Vec<u32>,
    /// `row_cur`, `row_nxt` and the table index, when there is more than one output row.
    regs: Option<(Sig, Sig, Counter)>,
}

impl RowTable {
    /// A window stage's table. Fields: the slack steps (`row_slack::AFTER_STEP` ...,
    /// `sw` bits each), `DELTA` and `DNEG` (the slot step), and with padding `LAST` (the
    /// frame's last row).
    fn build(b: &mut ModuleBuilder, g: &Geometry, sw: u32, sb: u32) -> RowTable {
        let (h, oh, s, p, r) = (g.h, g.oh, g.s, g.p, g.r);
        let lo = |oy: usize| first_row(g, oy);
        let d0 = |oy: usize| (oy * s) as i64 - p as i64 - lo(oy) as i64;
        let words: Vec<Vec<u64>> = (0..oh)
            .map(|oy| {
                let last = oy + 1 == oh;
                let rel = if last {
                    h - lo(oy)
                } else {
                    lo(oy + 1) - lo(oy)
                };
                let delta = (rel as i64 + d0((oy + 1) % oh) - d0(oy)).rem_euclid(r as i64);
                let dneg = (delta - r as i64).rem_euclid(1i64 << (sb + 1));
                let [a0, r0, a1, r1] = RowSlack::steps(g, oy, sw);
                let mut word = vec![0; 6 + (p > 0) as usize];
                for (k, v) in [
                    (AFTER_STEP, a0),
                    (ROOM_STEP, r0),
                    (DELTA, delta as u64),
                    (DNEG, dneg as u64),
                    (AFTER_STEP_1, a1),
                    (ROOM_STEP_1, r1),
                    (LAST, last as u64),
                ] {
                    if let Some(f) = word.get_mut(k) {
                        *f = v;
                    }
                }
                word
            })
            .collect();
        let mut fields = vec![sw, sw, sb, sb + 1, sw, sw, 1];
        fields.truncate(words[0].len());
        RowTable::new(b, words, fields)
    }

    /// A table of `words` (one per output row, each with a value per field of `fields`
    /// widths), with its registers when there is more than one row.
    pub(super) fn new(b: &mut ModuleBuilder, words: Vec<Vec<u64>>, fields: Vec<u32>) -> RowTable {
        assert!(words.iter().all(|w| w.len() == fields.len()));
        let oh = words.len();
        let tw: u32 = fields.iter().sum();
        let regs = (oh > 1).then(|| {
            let cur = b.reg("row_cur", tw);
            let nxt = b.reg("row_nxt", tw);
            let ti = Counter::new(b, "row_ti", oh, 1);
            (cur, nxt, ti)
        });
        RowTable {
            words,
            fields,
            regs,
        }
    }

    fn row_bits(&self, vals: &[u64]) -> Vec<bool> {
        let mut v = Vec::new();
        for (f, &x) in self.fields.iter().zip(vals) {
            v.extend((0..*f).map(|i| (x >> i) & 1 == 1));
        }
        v
    }

    /// Field `k` of the current row: a slice of `row_cur`, or the constant when oh == 1.
    pub(super) fn field(&self, b: &ModuleBuilder, k: usize) -> Result<Expr, u64> {
        let lo: u32 = self.fields[..k].iter().sum();
        match &self.regs {
            Some((cur, ..)) => Ok(b.slice(*cur, lo, self.fields[k])),
            None => Err(self.words[0][k]),
        }
    }

    /// Field `k` of the current row, `width` bits: the constant as a literal when oh == 1.
    pub(super) fn field_or_lit(&self, b: &ModuleBuilder, k: usize) -> Expr {
        match self.field(b, k) {
            Ok(e) => e,
            Err(v) => Expr::lit(v, self.fields[k]),
        }
    }

    /// `e >= field k`.
    pub(super) fn ge_field(&self, b: &ModuleBuilder, e: Expr, k: usize) -> Expr {
        match self.field(b, k) {
            Ok(f) => e.ge(f),
            Err(v) => ge_const(e, v),
        }
    }

    /// Load the next row's constants at the end of a row (`row_step`); nothing with one row.
    pub(super) fn advance(&self, b: &mut ModuleBuilder, rst: Sig, row_step: &Expr) {
        let Some((cur, nxt, ti)) = &self.regs else {
            return;
        };
        let oh = self.words.len();
        let words: Vec<Expr> = self
            .words
            .iter()
            .map(|t| Expr::bits(self.row_bits(t)))
            .collect();
        let ahead = select(b, &words, ti.sig.expect("oh > 1"));
        let mut adv_st = vec![Stmt::set(*cur, b.e(*nxt)), Stmt::set(*nxt, ahead)];
        adv_st.extend(ti.inc(b));
        b.always(vec![Stmt::if_else(
            b.e(rst),
            vec![
                Stmt::set(*cur, words[0].clone()),
                Stmt::set(*nxt, words[1 % oh].clone()),
            ]
            .into_iter()
            .chain(ti.load(2 % oh))
            .collect(),
            vec![Stmt::when(row_step.clone(), adv_st)],
        )]);
    }
}

/// The holding register of a held narrow ring: the pixel being written, and its valid.
struct Held {
    valid: Sig,
    data: Sig,
}

impl Held {
    fn build(b: &mut ModuleBuilder, io: &Ports) -> Held {
        let width = io.s_data.width;
        Held {
            valid: b.reg("hold_v", 1),
            data: b.reg("hold_d", width),
        }
    }

    /// Input ready: the register is empty or its last group is written this cycle (`last`),
    /// from registers only. A pixel taken (`s_valid && s_ready`) fills it.
    fn drive(&self, b: &mut ModuleBuilder, io: &Ports, last: &Expr) {
        b.assign(io.s_ready, b.e(self.valid).not().or(last.clone()));
        let take = b.let_("take", b.e(io.s_valid).and(b.e(io.s_ready)));
        b.always(vec![Stmt::when(
            take.clone(),
            vec![Stmt::set(self.data, b.e(io.s_data))],
        )]);
        b.always(vec![Stmt::if_else(
            b.e(io.rst),
            vec![Stmt::set(self.valid, Expr::f())],
            vec![Stmt::if_else(
                take,
                vec![Stmt::set(self.valid, Expr::t())],
                vec![Stmt::when(
                    last.clone(),
                    vec![Stmt::set(self.valid, Expr::f())],
                )],
            )],
        )]);
    }
}
