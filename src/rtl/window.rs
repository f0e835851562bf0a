//! Lower one sliding-window layer (conv, dense, classifier, max-pool) to a stage module.
//!
//! A stage has three parts:
//! 1. the write side: input pixels go into a line buffer of `rows` rows (a ring of row slots,
//!    block RAM when large), counted by `rows_avail`;
//! 2. the issue side: output pixels in raster order; a pixel starts once every input row its
//!    window needs is written, then visits one (entry, ky, kx, chunk) step per cycle, where the
//!    entries are the kept (out-group, in-block) tiles only (skip logic: pruned tiles cost no
//!    cycle and no weight bit), and releases rows no later pixel needs at the end of a row;
//! 3. the datapath: read word (two read stages) -> chunk select and padding -> PE x SIMD XNOR -> pipelined pop
//!    count -> accumulate (a = 2p - N) -> threshold or score; max-pool ORs words instead.
//!
//! All pipeline registers advance together on `adv`. The stage has no output FIFO: its last
//! pipeline registers are the output word, held (`adv` low) until the consumer takes it, and
//! the stage advances the cycle after (`plan::HANDOFF`), so back-pressure stalls the stage
//! without losing or repeating anything and no consumer's ready reaches the stage's enables.

use super::bank::{RamFamily, READ_STAGES};
use super::build::{and_all, delay, eq_const, fit, ge_const, lt_const, popcount_width, select};
use super::mac::MacCtx;
use super::netlist::{
    addr_width, bits_for, signed_bits_for, Expr, Module, ModuleBuilder, Sig, Stmt,
};
use crate::model::{BlockWeights, PadMode, Shape, Thresholds};

/// Chunk count from which a chunk select is split over the two read stages.
const SPLIT_CHUNKS: usize = 16;

/// Line-buffer words up to which a split chunk select picks its group before `rd`.
const NARROW_WORDS: usize = 4;

/// What the stage computes over its window.
pub enum WindowOp<'a> {
    /// Binary max-pool: OR of the window, all channels at once.
    Or,
    /// XNOR-popcount over kept tiles, folded onto `pe` x `simd` lanes.
    Mac {
        w: &'a BlockWeights,
        pe: usize,
        simd: usize,
        pop_stages: u32,
        out: MacOut<'a>,
    },
}

pub enum MacOut<'a> {
    Threshold(&'a Thresholds),
    /// Classifier scores `a + bias`, plus the argmax class.
    Scores(&'a [i64]),
}

/// Geometry and operation of one window stage.
pub struct WindowSpec<'a> {
    pub module: String,
    pub input: Shape,
    pub out_h: usize,
    pub out_w: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: usize,
    pub pad: usize,
    pub pad_mode: PadMode,
    /// Line-buffer rows (row slots of the ring).
    pub rows: usize,
    /// Block-RAM geometry for weight-ROM banks.
    pub ram: RamFamily,
    /// `GenOptions::rw_poison`: invert a line-buffer read that hits the row being written.
    pub rw_poison: bool,
    pub op: WindowOp<'a>,
}

/// Width of a classifier score and of the class index for a layer with these weights/bias.
pub fn score_layout(w: &BlockWeights, bias: &[i64]) -> (u32, u32) {
    let n = max_taps(w) as i64;
    let lo = bias.iter().map(|&b| b - n).min().unwrap_or(0);
    let hi = bias.iter().map(|&b| b + n).max().unwrap_or(0);
    // At least as wide as the accumulator (see `datapath`), so sign extension never narrows.
    let s = signed_bits_for(lo, hi)
        .max(signed_bits_for(-n, n))
        .max(popcount_width(w.in_per_block() as u32) + 1);
    let cw = bits_for(w.out_channels.saturating_sub(1) as u64);
    (s, cw)
}

/// Largest N (counted taps) of any output: kept in-blocks x row length.
pub(super) fn max_taps(w: &BlockWeights) -> usize {
    (0..w.out_blocks)
        .map(|ob| w.kept_in_blocks(ob))
        .max()
        .unwrap_or(0)
        * w.row_len()
}

impl WindowSpec<'_> {
    pub fn out_width(&self) -> u32 {
        match &self.op {
            WindowOp::Or => self.input.channels as u32,
            WindowOp::Mac {
                w,
                out: MacOut::Threshold(_),
                ..
            } => w.out_channels as u32,
            WindowOp::Mac {
                w,
                out: MacOut::Scores(bias),
                ..
            } => {
                let (s, cw) = score_layout(w, bias);
                cw + s * w.out_channels as u32
            }
        }
    }
}

/// One visited (out-group, kept in-block) step of the schedule.
pub(super) struct Entry {
    pub(super) group: usize,
    pub(super) ib: usize,
    pub(super) first: bool,
    pub(super) last: bool,
}

/// The schedule of kept tiles: visited groups (those of non-empty out-blocks) and entries.
fn schedule(w: &BlockWeights, pe: usize) -> (Vec<(usize, usize)>, Vec<Entry>) {
    let opb = w.out_per_block();
    let mut groups = Vec::new();
    let mut entries = Vec::new();
    for ob in 0..w.out_blocks {
        let kept: Vec<usize> = (0..w.in_blocks).filter(|&ib| w.kept(ob, ib)).collect();
        if kept.is_empty() {
            continue;
        }
        for g in 0..opb / pe {
            let gi = groups.len();
            groups.push((ob, g));
            for (n, &ib) in kept.iter().enumerate() {
                entries.push(Entry {
                    group: gi,
                    ib,
                    first: n == 0,
                    last: n + 1 == kept.len(),
                });
            }
        }
    }
    (groups, entries)
}

/// A counter 0..n-1 stepping on `step`, absent (constant 0, always last) when n == 1. Its
/// "at the last value" flag is a register updated with it, so no comparator sits between
/// the counter and the logic that decides the next step.
pub(super) struct Counter {
    pub(super) sig: Option<Sig>,
    last_r: Option<Sig>,
    n: usize,
}

impl Counter {
    fn new(b: &mut ModuleBuilder, name: &str, n: usize, width: u32) -> Counter {
        assert!(n >= 1);
        let sig = (n > 1).then(|| b.reg(name, width.max(bits_for(n as u64 - 1))));
        let last_r = (n > 1).then(|| b.reg(&format!("{name}_last"), 1));
        Counter { sig, last_r, n }
    }
    pub(super) fn last(&self, b: &ModuleBuilder) -> Expr {
        match self.last_r {
            Some(l) => b.e(l),
            None => Expr::t(),
        }
    }
    fn first(&self, b: &ModuleBuilder) -> Expr {
        match self.sig {
            Some(s) => eq_const(b.e(s), 0),
            None => Expr::t(),
        }
    }
    /// Statements: load the constant `v` (< n).
    fn load(&self, v: usize) -> Vec<Stmt> {
        assert!(v < self.n);
        match (self.sig, self.last_r) {
            (Some(s), Some(l)) => vec![
                Stmt::set(s, Expr::lit(v as u64, s.width)),
                Stmt::set(l, Expr::lit((v + 1 == self.n) as u64, 1)),
            ],
            _ => vec![],
        }
    }
    /// Statements: reset to 0.
    fn clear(&self) -> Vec<Stmt> {
        self.load(0)
    }
    /// Statements: wrap to 0 at the end, else increment.
    fn inc(&self, b: &ModuleBuilder) -> Vec<Stmt> {
        match (self.sig, self.last_r) {
            (Some(s), Some(l)) => vec![Stmt::if_else(
                b.e(l),
                self.clear(),
                vec![
                    Stmt::set(s, b.e(s).add(Expr::lit(1, s.width))),
                    Stmt::set(l, eq_const(b.e(s), self.n as u64 - 2)),
                ],
            )],
            _ => vec![],
        }
    }
    /// Value at `w` bits (0 when absent).
    fn val(&self, b: &ModuleBuilder, w: u32) -> Expr {
        match self.sig {
            Some(s) => fit(b, s, w),
            None => Expr::zero(w),
        }
    }
}

/// Nested counters, innermost first: steps the innermost, carries outward.
fn nest(b: &ModuleBuilder, cs: &[&Counter]) -> Vec<Stmt> {
    let Some((inner, rest)) = cs.split_first() else {
        return vec![];
    };
    if inner.sig.is_none() {
        return nest(b, rest);
    }
    let mut carry = inner.clear();
    carry.extend(nest(b, rest));
    vec![Stmt::if_else(inner.last(b), carry, inner.inc(b))]
}

/// Build the stage module. Its output is the datapath's last registers, held by stalling.
pub fn lower(spec: &WindowSpec) -> Module {
    let (h, w, c) = (spec.input.height, spec.input.width, spec.input.channels);
    let (oh, ow, kh, kw, s, p, r) = (
        spec.out_h,
        spec.out_w,
        spec.kh,
        spec.kw,
        spec.stride,
        spec.pad,
        spec.rows,
    );
    assert!(r >= 2 && r >= kh.min(h));
    // A window may lie wholly in the bottom padding (a kernel lower than the padding, as in
    // kernel [1, 3] with padding 2); it reads no row, so its first row is clamped to `h`.
    let lo_last = ((oh - 1) * s).saturating_sub(p).min(h);
    assert!(
        h - lo_last <= r,
        "line buffer too small for the last window row"
    );
    let f_width = spec.out_width();
    let mut b = ModuleBuilder::new(&spec.module);

    let clk = b.input("clk", 1, "clock, rising edge");
    let rst = b.input("rst", 1, "synchronous reset, active high");
    let s_valid = b.input("s_valid", 1, "input pixel valid");
    let s_ready = b.output_wire("s_ready", 1, "input pixel accepted when s_valid && s_ready");
    let s_data = b.input("s_data", c as u32, "input pixel, channel c at bit c");
    let m_valid = b.output_wire("m_valid", 1, "output valid");
    let m_ready = b.input("m_ready", 1, "output accepted when m_valid && m_ready");
    let m_data = b.output_wire("m_data", f_width, "output pixel (or scores and class)");
    let _ = clk;

    // ---- write side: ring of row slots, address = {slot, column} --------------------------
    // The row stride is a power of two (`w2`), so an address is a concatenation of the slot
    // and column counters: no multiply, no modulo on any address.
    let w2 = w.next_power_of_two();
    let cb = w2.trailing_zeros();
    let sb = bits_for(r as u64 - 1);
    let aw = addr_width(r * w2);
    assert_eq!(aw, sb + cb, "line-buffer address = slot bits + column bits");
    let addr_of = |slot: Expr, col: Option<Expr>| -> Expr {
        match col {
            Some(c) => Expr::cat_lsb(vec![c, slot]),
            None => slot,
        }
    };
    let in_x = Counter::new(&mut b, "in_x", w, 1);
    let in_slot = Counter::new(&mut b, "in_slot", r, 1);
    // Complete rows written, counted from the first row of the frame being issued (the
    // writer may run up to `r` rows into the next frame).
    let ww = bits_for((2 * h + r) as u64);
    let wrow = b.reg("wrow", ww);
    let lbuf = b.memory("lbuf", c as u32, r * w2, None);
    // The writer only writes row `wrow` while `wrow < cap`, the first row the issuing pixels
    // still read plus `r`: the slot it overwrites holds a row no pixel reads any more, and
    // the row it fills is not read before it is complete. So a read never meets the write
    // of its own address, and synthesis may drop the read-during-write bypass. `rw_poison`
    // lets co-simulation check that claim on every test model.
    b.no_rw_check(lbuf);

    // Per output row constants, computed here: rows needed before a pixel of the row may
    // start (absolute, from the frame's first row), the write limit while the row is issued
    // (first kept row + r), the slot step to the next row's first window row (mod r, and
    // minus r), whether the row is the frame's last, and the next row's need in this
    // frame's row numbers (h + the first row's need after the last row).
    let lo = |oy: usize| (oy * s).saturating_sub(p).min(h);
    let d0 = |oy: usize| (oy * s) as i64 - p as i64 - lo(oy) as i64;
    let need_of = |oy: usize| {
        if oy + 1 == oh {
            h
        } else {
            (oy * s + kh.max(s)).saturating_sub(p).min(h)
        }
    };
    // Fields: need, cap (write limit), delta, dneg, last row, next need, cap - 1 (so the
    // registered input ready compares `wrow` with two held constants, no `wrow + 1` adder).
    let row_words: Vec<[u64; 7]> = (0..oh)
        .map(|oy| {
            let last = oy + 1 == oh;
            let need = need_of(oy);
            let after = if last {
                h + need_of(0)
            } else {
                need_of(oy + 1)
            };
            let rel = if last {
                h - lo(oy)
            } else {
                lo(oy + 1) - lo(oy)
            };
            let delta = (rel as i64 + d0((oy + 1) % oh) - d0(oy)).rem_euclid(r as i64);
            let dneg = (delta - r as i64).rem_euclid(1i64 << (sb + 1));
            [
                need as u64,
                (lo(oy) + r) as u64,
                delta as u64,
                dneg as u64,
                last as u64,
                after as u64,
                (lo(oy) + r - 1) as u64,
            ]
        })
        .collect();
    let fields = [ww, ww, sb, sb + 1, 1, ww, ww];
    let row_bits = |vals: &[u64; 7]| -> Vec<bool> {
        let mut v = Vec::new();
        for (f, &x) in fields.iter().zip(vals) {
            v.extend((0..*f).map(|i| (x >> i) & 1 == 1));
        }
        v
    };
    let tw: u32 = fields.iter().sum();
    // The current row's constants: a register loaded from the next row's at the end of a
    // row (and that one from a table read one row ahead), or constants when oh == 1.
    let row_reg = (oh > 1).then(|| {
        let cur = b.reg("row_cur", tw);
        let nxt = b.reg("row_nxt", tw);
        let ti = Counter::new(&mut b, "row_ti", oh, 1);
        (cur, nxt, ti)
    });
    let field = |b: &ModuleBuilder, k: usize| -> Result<Expr, u64> {
        let lo: u32 = fields[..k].iter().sum();
        match &row_reg {
            Some((cur, ..)) => Ok(b.slice(*cur, lo, fields[k])),
            None => Err(row_words[0][k]),
        }
    };
    let ge_field = |b: &ModuleBuilder, e: Expr, k: usize| -> Expr {
        match field(b, k) {
            Ok(f) => e.ge(f),
            Err(v) => ge_const(e, v),
        }
    };
    // Input ready, registered: the next cycle's `wrow < cap` from this cycle's values, as
    // `wrow < cap - 1` when a row completes (a row release shows one cycle late, which only
    // delays the writer).
    let s_rdy = b.reg("s_rdy", 1);
    b.assign(s_ready, b.e(s_rdy));
    let wr = b.let_("wr", b.e(s_valid).and(b.e(s_ready)));
    let row_done = b.let_("row_done", wr.clone().and(in_x.last(&b)));
    let rdy_next = row_done.clone().mux(
        ge_field(&b, b.e(wrow), 6).not(),
        ge_field(&b, b.e(wrow), 1).not(),
    );
    b.always(vec![Stmt::if_else(
        b.e(rst),
        vec![Stmt::set(s_rdy, Expr::f())],
        vec![Stmt::set(s_rdy, rdy_next)],
    )]);
    let waddr = {
        let col = (cb > 0).then(|| in_x.val(&b, cb));
        b.let_("waddr", addr_of(in_slot.val(&b, sb), col))
    };
    let mut wstm = vec![Stmt::write(lbuf, waddr.clone(), b.e(s_data))];
    wstm.extend(in_x.inc(&b));
    if in_slot.sig.is_some() {
        wstm.push(Stmt::when(row_done.clone(), in_slot.inc(&b)));
    }
    let mut clr = in_x.clear();
    clr.extend(in_slot.clear());
    b.always(vec![Stmt::if_else(
        b.e(rst),
        clr,
        vec![Stmt::when(wr.clone(), wstm)],
    )]);

    // ---- issue side ---------------------------------------------------------------------
    let (groups, entries, chunks, simd, pe) = match &spec.op {
        WindowOp::Or => (
            vec![(0, 0)],
            vec![Entry {
                group: 0,
                ib: 0,
                first: true,
                last: true,
            }],
            1,
            c,
            1,
        ),
        WindowOp::Mac {
            w: wt, pe, simd, ..
        } => {
            let (g, e) = schedule(wt, *pe);
            assert!(!e.is_empty(), "layer {} has no kept tile", spec.module);
            (g, e, wt.in_per_block() / simd, *simd, *pe)
        }
    };
    let n_ent = entries.len();
    // Every pipeline register advances on `adv`: no output word, or it was taken.
    let adv_w = b.wire("adv", 1);
    let adv = b.e(adv_w);
    let busy = b.reg("busy", 1);
    let ch = Counter::new(&mut b, "ch", chunks, 1);
    let kx = Counter::new(&mut b, "kx", kw, 1);
    let ky = Counter::new(&mut b, "ky", kh, 1);
    let ent = Counter::new(&mut b, "ent", n_ent, addr_width(n_ent));
    let depth_w = n_ent * kh * kw * chunks;
    let wa = Counter::new(&mut b, "wa", depth_w, addr_width(depth_w));
    let ox = Counter::new(&mut b, "ox", ow, 1);
    // Steps within the entry, for a registered "last tap" flag; `wa` counts the steps of a
    // pixel, so its flag is the pixel's last step.
    let tap = Counter::new(&mut b, "tapc", kh * kw * chunks, 1);
    let tap_last = b.let_("tap_last", tap.last(&b));
    let pix_end = b.let_("pix_end", wa.last(&b));
    let row_end = b.let_("row_end", ox.last(&b));
    let last_row = match field(&b, 4) {
        Ok(e) => e,
        Err(v) => Expr::lit(v, 1),
    };
    // Issue decision, registered one cycle ahead: busy with a pixel, or `wrow >= need` of
    // the row current next cycle, from this cycle's `wrow` (a row completed this cycle shows
    // one cycle late, which only delays a start).
    let iss_r = b.reg("iss_r", 1);
    let iss = b.let_("iss", b.e(iss_r));
    let step = b.let_("step", iss.clone().and(adv.clone()));
    let row_step = b.let_(
        "row_step",
        step.clone().and(pix_end.clone()).and(row_end.clone()),
    );
    let fend = b.let_("frame_end", row_step.clone().and(last_row.clone()));
    // wrow + row_done - (frame_end ? h : 0), as a choice between precomputed sums.
    let hm = |k: i64| Expr::lit(k.rem_euclid(1i64 << ww) as u64, ww);
    let wrow_next = row_done.clone().mux(
        fend.clone()
            .mux(b.e(wrow).add(hm(1 - h as i64)), b.e(wrow).add(hm(1))),
        fend.clone().mux(b.e(wrow).add(hm(-(h as i64))), b.e(wrow)),
    );
    b.always(vec![Stmt::if_else(
        b.e(rst),
        vec![Stmt::set(wrow, Expr::zero(ww)), Stmt::set(iss_r, Expr::f())],
        vec![
            Stmt::set(wrow, wrow_next),
            Stmt::set(
                iss_r,
                step.clone()
                    .mux(pix_end.clone().not(), b.e(busy))
                    .or(row_step
                        .clone()
                        .mux(ge_field(&b, b.e(wrow), 5), ge_field(&b, b.e(wrow), 0))),
            ),
        ],
    )]);
    if let Some((cur, nxt, ti)) = &row_reg {
        let words: Vec<Expr> = row_words.iter().map(|t| Expr::bits(row_bits(t))).collect();
        let ahead = select(&b, &words, ti.sig.expect("oh > 1"));
        let mut adv_st = vec![Stmt::set(*cur, b.e(*nxt)), Stmt::set(*nxt, ahead)];
        adv_st.extend(ti.inc(&b));
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

    // Window position registers, per pixel (`p*`, the first tap) and per tap: line-buffer
    // slot and column of the tap (the read address), and, with padding, the tap's position
    // in padded coordinates for the in-image test.
    let pyslot = b.reg("pyslot", sb);
    let yslot = b.reg("yslot", sb);
    let slot_rst = Expr::lit(((r - p % r) % r) as u64, sb);
    let cols = (cb > 0).then(|| (b.reg("pxcol", cb), b.reg("xcol", cb)));
    let col_rst = Expr::lit(((w2 - p % w2) % w2) as u64, cb.max(1));
    let xw = bits_for(((ow - 1) * s + kw) as u64);
    let yw = bits_for(((oh - 1) * s + kh) as u64);
    let poss = (p > 0).then(|| {
        (
            b.reg("pxpos", xw),
            b.reg("xpos", xw),
            b.reg("pypos", yw),
            b.reg("ypos", yw),
        )
    });
    // Next pixel's first-tap slot: same row, or (pyslot + delta) mod r at the end of a row.
    let slot_next = match (field(&b, 2), field(&b, 3)) {
        (Ok(dp), Ok(dn)) => {
            let s1 = b.e(pyslot).add(dp);
            let s2 = b.let_("slot_wrap", b.e(pyslot).zext(sb + 1).add(dn));
            let s2s = super::build::sig_of(&b, &s2);
            b.bit(s2s, sb).mux(s1, b.slice(s2s, 0, sb))
        }
        (Err(dp), _) => {
            // One output row: the same step every row, from the constants.
            let s1 = b.e(pyslot).add(Expr::lit(dp, sb));
            if dp == 0 {
                b.e(pyslot)
            } else {
                ge_const(b.e(pyslot), (r as u64) - dp).mux(
                    b.e(pyslot).add(Expr::lit(
                        ((dp as i64 - r as i64).rem_euclid(1 << sb)) as u64,
                        sb,
                    )),
                    s1,
                )
            }
        }
        _ => unreachable!(),
    };
    let slot_next = b.let_("slot_next", row_end.clone().mux(slot_next, b.e(pyslot)));
    let slot_inc =
        eq_const(b.e(yslot), r as u64 - 1).mux(Expr::zero(sb), b.e(yslot).add(Expr::lit(1, sb)));
    let sl = |x: usize, w: u32| Expr::lit(x as u64 & ((1u64 << w) - 1), w);
    // Per step: new pixel / new entry / next ky / next kx / next chunk.
    let ky_step = ch.last(&b).and(kx.last(&b));
    let mut on_pix = vec![
        Stmt::set(busy, Expr::f()),
        Stmt::set(pyslot, slot_next.clone()),
        Stmt::set(yslot, slot_next),
    ];
    let mut on_ent = vec![Stmt::set(busy, Expr::t()), Stmt::set(yslot, b.e(pyslot))];
    let mut on_ky = vec![Stmt::set(busy, Expr::t()), Stmt::set(yslot, slot_inc)];
    let mut on_kx = vec![Stmt::set(busy, Expr::t())];
    let mut rst_st = vec![
        Stmt::set(busy, Expr::f()),
        Stmt::set(pyslot, slot_rst.clone()),
        Stmt::set(yslot, slot_rst),
    ];
    if let Some((pxcol, xcol)) = cols {
        let nc = b.let_(
            "col_next",
            row_end
                .clone()
                .mux(col_rst.clone(), b.e(pxcol).add(sl(s, cb))),
        );
        on_pix.extend([Stmt::set(pxcol, nc.clone()), Stmt::set(xcol, nc)]);
        on_ent.push(Stmt::set(xcol, b.e(pxcol)));
        on_ky.push(Stmt::set(xcol, b.e(pxcol)));
        on_kx.push(Stmt::set(xcol, b.e(xcol).add(Expr::lit(1, cb))));
        rst_st.extend([
            Stmt::set(pxcol, col_rst.clone()),
            Stmt::set(xcol, col_rst.clone()),
        ]);
    }
    if let Some((pxpos, xpos, pypos, ypos)) = poss {
        let nx = b.let_(
            "xpos_next",
            row_end
                .clone()
                .mux(Expr::zero(xw), b.e(pxpos).add(sl(s, xw))),
        );
        let ny = b.let_(
            "ypos_next",
            row_end.clone().mux(
                last_row
                    .clone()
                    .mux(Expr::zero(yw), b.e(pypos).add(sl(s, yw))),
                b.e(pypos),
            ),
        );
        on_pix.extend([
            Stmt::set(pxpos, nx.clone()),
            Stmt::set(xpos, nx),
            Stmt::set(pypos, ny.clone()),
            Stmt::set(ypos, ny),
        ]);
        on_ent.extend([Stmt::set(xpos, b.e(pxpos)), Stmt::set(ypos, b.e(pypos))]);
        on_ky.extend([
            Stmt::set(xpos, b.e(pxpos)),
            Stmt::set(ypos, b.e(ypos).add(Expr::lit(1, yw))),
        ]);
        on_kx.push(Stmt::set(xpos, b.e(xpos).add(Expr::lit(1, xw))));
        for r in [pxpos, xpos] {
            rst_st.push(Stmt::set(r, Expr::zero(xw)));
        }
        for r in [pypos, ypos] {
            rst_st.push(Stmt::set(r, Expr::zero(yw)));
        }
    }
    on_pix.extend(ox.inc(&b));
    rst_st.extend(ox.clear());
    b.always(vec![Stmt::if_else(
        b.e(rst),
        rst_st,
        vec![Stmt::when(
            step.clone(),
            vec![Stmt::if_else(
                pix_end.clone(),
                on_pix,
                vec![Stmt::if_else(
                    tap_last.clone(),
                    on_ent,
                    vec![Stmt::if_else(
                        ky_step,
                        on_ky,
                        vec![Stmt::if_else(
                            ch.last(&b),
                            on_kx,
                            vec![Stmt::set(busy, Expr::t())],
                        )],
                    )],
                )],
            )],
        )],
    )]);
    // Tap counters and the weight address: clear at reset and at the end of a pixel.
    let mut cl = Vec::new();
    for k in [&ch, &kx, &ky, &ent, &wa, &tap] {
        cl.extend(k.clear());
    }
    if !cl.is_empty() {
        let mut adv_st = nest(&b, &[&ch, &kx, &ky, &ent]);
        adv_st.extend(wa.inc(&b));
        adv_st.extend(tap.inc(&b));
        b.always(vec![Stmt::if_else(
            b.e(rst),
            cl.clone(),
            vec![Stmt::when(
                step.clone(),
                vec![Stmt::if_else(pix_end.clone(), cl, adv_st)],
            )],
        )]);
    }

    // ---- read address and padding ----------------------------------------------------------
    let pad = poss.map(|(_, xpos, _, ypos)| {
        let inside = |pos: Sig, extent: usize| {
            ge_const(b.e(pos), p as u64).and(lt_const(b.e(pos), (extent + p) as u64))
        };
        let e = inside(ypos, h).and(inside(xpos, w)).not();
        b.let_("pad", e)
    });
    let raddr = b.let_(
        "raddr",
        addr_of(b.e(yslot), cols.map(|(_, xcol)| b.e(xcol))),
    );
    // Two read stages (`READ_STAGES`): the memory's read register `rd`, then `rd2` in the
    // fabric, so nothing but a flip-flop follows a block RAM's slow clock-to-out.
    // A wide chunk select (a dense or classifier layer reading one SIMD chunk of hundreds
    // of channels) is split over the two stages when the line buffer is small enough to be
    // registers or LUT RAM (then `rd` is a fabric register, not a block RAM's output): the
    // high chunk bits pick a group of chunks, the low ones pick in it after `rd2`. With at
    // most `NARROW_WORDS` words (a 1x1 input: the slot mux is one level) the group is picked
    // before `rd` already, so neither read register holds the whole word.
    let split_lo = match &spec.op {
        WindowOp::Mac { w: wt, .. }
            if wt.in_blocks == 1 && chunks >= SPLIT_CHUNKS && r * w2 <= 16 =>
        {
            Some(bits_for(chunks as u64 - 1).div_ceil(2))
        }
        _ => None,
    };
    let narrow = split_lo.is_some() && r * w2 <= NARROW_WORDS;
    let group_of = |b: &mut ModuleBuilder, word: Sig, lo: u32, chs: Sig, early: bool| -> Expr {
        let gw = simd << lo;
        let groups_n = chunks.div_ceil(1 << lo);
        let words: Vec<Expr> = (0..groups_n)
            .map(|g| {
                let base = g * gw;
                let have = gw.min(c - base);
                let part = b.slice(word, base as u32, have as u32);
                if have < gw {
                    Expr::cat_lsb(vec![part, Expr::zero((gw - have) as u32)])
                } else {
                    part
                }
            })
            .collect();
        let hi = b.slice(chs, lo, chs.width - lo);
        let hi = if early {
            let v = b.let_("ch_hi", hi);
            super::build::sig_of(b, &v)
        } else {
            let d = delay(b, hi, 1, &adv, "ch_hi");
            super::build::sig_of(b, &d)
        };
        select(b, &words, hi)
    };
    let lb_read = b.read_checked(
        lbuf,
        raddr.clone(),
        spec.rw_poison,
        wr.clone(),
        waddr.clone(),
    );
    let rd_word = match (narrow, split_lo, ch.sig) {
        (true, Some(lo), Some(chs)) => {
            let word = b.let_("lb_word", lb_read);
            let ws = super::build::sig_of(&b, &word);
            group_of(&mut b, ws, lo, chs, true)
        }
        _ => lb_read,
    };
    let rd = b.reg("rd", rd_word.width);
    b.always(vec![Stmt::when(adv.clone(), vec![Stmt::set(rd, rd_word)])]);
    let rd2_word = match (narrow, split_lo, ch.sig) {
        (false, Some(lo), Some(chs)) => group_of(&mut b, rd, lo, chs, false),
        _ => b.e(rd),
    };
    let rd2 = b.reg("rd2", rd2_word.width);
    b.always(vec![Stmt::when(
        adv.clone(),
        vec![Stmt::set(rd2, rd2_word)],
    )]);
    let rd = rd2;

    // ---- stage 1 control (aligned with `rd2`) ---------------------------------------------
    let v0 = b.reg("v0", 1);
    let v1 = b.reg("v1", 1);
    b.always(vec![Stmt::if_else(
        b.e(rst),
        vec![Stmt::set(v0, Expr::f()), Stmt::set(v1, Expr::f())],
        vec![Stmt::when(
            adv.clone(),
            vec![Stmt::set(v0, iss.clone()), Stmt::set(v1, b.e(v0))],
        )],
    )]);
    let tap_first = and_all(vec![ch.first(&b), kx.first(&b), ky.first(&b)]);
    let tf1 = delay(&mut b, tap_first, READ_STAGES, &adv, "tf");

    let (out_v, out_d) = match &spec.op {
        WindowOp::Or => {
            let acc = b.reg("acc", c as u32);
            let acc_next = b.let_(
                "acc_next",
                tf1.mux(Expr::zero(c as u32), b.e(acc)).or(b.e(rd)),
            );
            b.always(vec![Stmt::when(
                adv.clone().and(b.e(v1)),
                vec![Stmt::set(acc, acc_next.clone())],
            )]);
            // `pix_end` one stage behind: with `v0`, the valid one stage ahead of `v1 & pl1`.
            let plo = delay(&mut b, pix_end.clone(), 1, &adv, "plo");
            (b.e(v0).and(plo), acc_next)
        }
        WindowOp::Mac {
            w: wt,
            pop_stages,
            out,
            ..
        } => {
            let pl1 = delay(&mut b, pix_end.clone(), READ_STAGES, &adv, "pl");
            let mac = MacCtx {
                wt,
                pe,
                simd,
                chunks,
                kh,
                kw,
                pad_mode: spec.pad_mode,
                pop_stages: *pop_stages,
                ram: spec.ram,
                split_lo,
            };
            mac.datapath(
                &mut b, &adv, rst, &groups, &entries, &ent, &wa, &ch, rd, v1, tf1, tap_last, pl1,
                pad, out,
            )
        }
    };
    // The output is the last pipeline registers themselves (no FIFO). `pv` is their valid
    // and `offer` the registered `m_valid`: equal, except in the cycle after the word was
    // taken (pv = 1, offer = 0), when the stage advances. While both are high `adv` is low,
    // so the word holds. `adv` and `m_valid` come from this stage's registers only: no
    // consumer's ready reaches the stage's enables, and no logic sits between `m_valid` and
    // the consumer. The cost is one cycle per output pixel, which the plan counts.
    let pv = b.reg("pv", 1);
    let offer = b.reg("offer", 1);
    b.assign(adv_w, b.e(pv).and(b.e(offer)).not());
    b.always(vec![Stmt::if_else(
        b.e(rst),
        vec![Stmt::set(pv, Expr::f()), Stmt::set(offer, Expr::f())],
        vec![Stmt::if_else(
            adv.clone(),
            vec![Stmt::set(pv, out_v.clone()), Stmt::set(offer, out_v)],
            vec![Stmt::set(offer, b.e(m_ready).not())],
        )],
    )]);
    b.assign(m_valid, b.e(offer));
    b.assign(m_data, out_d);
    b.finish()
}
