//! The row bookkeeping of a window stage, kept as slacks: how far the rows written run ahead
//! of what the current output row needs, of what the next one needs, and of the write limit.
//!
//! The issue side starts a row's pixels once the complete rows written reach the row's need,
//! and the write side takes a pixel while they stay under the write limit. Counting the rows
//! and comparing the count with the row table's constants put a carry chain between `row_cur`
//! and the registered decisions `iss_r` and `s_rdy`: on the ECP5-85k, fashion-default's worst
//! paths were `row_cur -> wrow >= need -> iss_r` (8-9 logic steps) and `wrow >= cap -> s_rdy`.
//! So each compare is kept instead as a signed difference register, and a decision reads its
//! sign bit. A difference moves by +1 when a row completes, and by the table's per-row step
//! when the issue side moves to the next output row.
//!
//! The rows are counted across frames: output row `oy` of frame `k` needs `need(oy) + k h`
//! input rows from the first frame's first row. So a frame's end moves no difference, and the
//! decisions are those of a row count dropped by `h` at the frame end, cycle for cycle.

use super::Geometry;
use crate::rtl::netlist::{Expr, ModuleBuilder, Sig, Stmt};

/// Fields of a window stage's row table (`RowTable::build`) that the slacks step by.
pub(super) const AFTER_STEP: usize = 0;
pub(super) const ROOM_STEP: usize = 1;
pub(super) const AFTER_STEP_1: usize = 4;
pub(super) const ROOM_STEP_1: usize = 5;

/// The slack registers, each `wrow - x` in two's complement, where `wrow` counts complete
/// input rows and `x` is, in rows counted across frames: `need`, the current output row's
/// need; `after`, the next output row's; `room`, the write limit minus one (the writer may
/// write row `wrow` while `wrow < cap`, the first row still read plus the ring's `r` rows).
pub(super) struct RowSlack {
    need: Sig,
    after: Sig,
    room: Sig,
}

/// Input rows (from the frame's first) that output row `oy`'s pixels wait for: the rows their
/// window reads and a stride more, and the whole frame for the last row (so trailing rows no
/// window reads are consumed too).
pub(super) fn need_rows(g: &Geometry, oy: usize) -> usize {
    if oy + 1 == g.oh {
        g.h
    } else {
        (oy * g.s + g.kh.max(g.s)).saturating_sub(g.p).min(g.h)
    }
}

/// Input rows output row `k` (counted across frames) waits for.
fn need_at(g: &Geometry, k: usize) -> u64 {
    (need_rows(g, k % g.oh) + (k / g.oh) * g.h) as u64
}

/// The write limit while output row `k` (counted across frames) is issued: its first input
/// row plus `r`.
fn cap_at(g: &Geometry, k: usize) -> u64 {
    (first_row(g, k % g.oh) + g.r + (k / g.oh) * g.h) as u64
}

/// The first input row output row `oy` reads (0 for rows that start in the padding).
pub(super) fn first_row(g: &Geometry, oy: usize) -> usize {
    (oy * g.s).saturating_sub(g.p).min(g.h)
}

impl RowSlack {
    /// The registers, `width` bits (signed): one more than the row count's.
    pub(super) fn new(b: &mut ModuleBuilder, width: u32) -> RowSlack {
        RowSlack {
            need: b.reg("slk_need", width),
            after: b.reg("slk_after", width),
            room: b.reg("slk_room", width),
        }
    }

    /// Output row `oy`'s table fields, `width` bits each, at `AFTER_STEP`, `ROOM_STEP`,
    /// `AFTER_STEP_1` and `ROOM_STEP_1`: minus the step of `after` and of `room` to the next
    /// row, and one minus each (for a row completing in the same cycle).
    pub(super) fn steps(g: &Geometry, oy: usize, width: u32) -> [u64; 4] {
        let d_after = need_at(g, oy + 2) - need_at(g, oy + 1);
        let d_room = cap_at(g, oy + 1) - cap_at(g, oy);
        let neg = |d: u64, plus: i64| (plus - d as i64).rem_euclid(1i64 << width) as u64;
        [
            neg(d_after, 0),
            neg(d_room, 0),
            neg(d_after, 1),
            neg(d_room, 1),
        ]
    }

    /// The input ready of the next cycle, from this cycle's values: `wrow < cap - 1` when a
    /// row completes (`row_done`), else `wrow < cap` (a row release shows one cycle late,
    /// which only delays the writer).
    pub(super) fn ready_next(&self, b: &ModuleBuilder, row_done: &Expr) -> Expr {
        let neg = self.sign(b, self.room);
        let zero = b.e(self.room).any().not();
        row_done.clone().mux(neg.clone(), neg.or(zero))
    }

    /// The issue decision of a new pixel: `wrow >= after` when the issue side moves to the
    /// next row this cycle (`row_step`), else `wrow >= need` (a row completed this cycle
    /// shows one cycle late, which only delays a start).
    pub(super) fn issue_next(&self, b: &ModuleBuilder, row_step: &Expr) -> Expr {
        row_step.clone().mux(
            self.sign(b, self.after).not(),
            self.sign(b, self.need).not(),
        )
    }

    /// Reset to the first row of a frame with no row written, and step on `row_done` and
    /// `row_step`, by the current row's table `field`s: (reset statements, clock statements).
    pub(super) fn update(
        &self,
        b: &ModuleBuilder,
        g: &Geometry,
        field: &dyn Fn(usize) -> Expr,
        row_done: &Expr,
        row_step: &Expr,
    ) -> (Vec<Stmt>, Vec<Stmt>) {
        let w = self.need.width;
        let lit = |v: i64| Expr::lit(v.rem_euclid(1i64 << w) as u64, w);
        let on_rst = vec![
            Stmt::set(self.need, lit(-(need_at(g, 0) as i64))),
            Stmt::set(self.after, lit(-(need_at(g, 1) as i64))),
            Stmt::set(self.room, lit(1 - cap_at(g, 0) as i64)),
        ];
        let plus1 = |s: Sig| b.e(s).add(lit(1));
        let (after, room) = (self.after, self.room);
        let moved = |s: Sig, k0: usize, k1: usize| {
            row_step.clone().mux(
                row_done
                    .clone()
                    .mux(b.e(s).add(field(k1)), b.e(s).add(field(k0))),
                row_done.clone().mux(plus1(s), b.e(s)),
            )
        };
        let need_next = row_step.clone().mux(
            row_done.clone().mux(plus1(after), b.e(after)),
            row_done.clone().mux(plus1(self.need), b.e(self.need)),
        );
        let on_clk = vec![
            Stmt::set(self.need, need_next),
            Stmt::set(after, moved(after, AFTER_STEP, AFTER_STEP_1)),
            Stmt::set(room, moved(room, ROOM_STEP, ROOM_STEP_1)),
        ];
        (on_rst, on_clk)
    }

    fn sign(&self, b: &ModuleBuilder, s: Sig) -> Expr {
        b.bit(s, s.width - 1)
    }
}
