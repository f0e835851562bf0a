//! Lower one sliding-window layer (conv, dense, classifier, max-pool) to a stage module.
//!
//! A stage has three parts:
//! 1. the write side: input pixels go into a line buffer of `rows` rows (a ring of row slots,
//!    block RAM when large), counted by `rows_avail`;
//! 2. the issue side: output pixels in raster order; a pixel starts once every input row its
//!    window needs is written, then visits one (entry, ky, kx, chunk) step per cycle, where the
//!    entries are the kept (out-group, in-block) tiles only (skip logic: pruned tiles cost no
//!    cycle and no weight bit), and releases rows no later pixel needs at the end of a row;
//! 3. the datapath: read word -> chunk select and padding -> PE x SIMD XNOR -> pipelined pop
//!    count -> accumulate (a = 2p - N) -> threshold or score; max-pool ORs words instead.
//!
//! All pipeline registers advance together when the output FIFO has room (`adv`), so
//! back-pressure stalls the stage without losing or repeating anything.

use super::build::{
    and_all, delay, eq_const, fit, ge_const, lt_const, popcount, popcount_width, rom, select, sext,
};
use super::netlist::{
    addr_width, bits_for, signed_bits_for, Conn, Expr, Module, ModuleBuilder, Sig, Stmt,
};
use crate::model::{BlockWeights, Direction, PadMode, Shape, Thresholds};

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
fn max_taps(w: &BlockWeights) -> usize {
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
struct Entry {
    group: usize,
    ib: usize,
    first: bool,
    last: bool,
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

/// A counter 0..n-1 stepping on `step`, absent (constant 0, always last) when n == 1.
struct Counter {
    sig: Option<Sig>,
    n: usize,
}

impl Counter {
    fn new(b: &mut ModuleBuilder, name: &str, n: usize, width: u32) -> Counter {
        assert!(n >= 1);
        let sig = (n > 1).then(|| b.reg(name, width.max(bits_for(n as u64 - 1))));
        Counter { sig, n }
    }
    fn last(&self, b: &ModuleBuilder) -> Expr {
        match self.sig {
            Some(s) => eq_const(b.e(s), self.n as u64 - 1),
            None => Expr::t(),
        }
    }
    fn first(&self, b: &ModuleBuilder) -> Expr {
        match self.sig {
            Some(s) => eq_const(b.e(s), 0),
            None => Expr::t(),
        }
    }
    /// Statements: reset to 0.
    fn clear(&self) -> Vec<Stmt> {
        self.sig
            .map(|s| vec![Stmt::set(s, Expr::zero(s.width))])
            .unwrap_or_default()
    }
    /// Statements: wrap to 0 at the end, else increment.
    fn inc(&self, b: &ModuleBuilder) -> Vec<Stmt> {
        match self.sig {
            Some(s) => vec![Stmt::if_else(
                self.last(b),
                vec![Stmt::set(s, Expr::zero(s.width))],
                vec![Stmt::set(s, b.e(s).add(Expr::lit(1, s.width)))],
            )],
            None => vec![],
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

/// Build the stage module. `fifo` is the output FIFO module (width = `out_width()`).
pub fn lower(spec: &WindowSpec, fifo: &Module) -> Module {
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
    let lo_last = ((oh - 1) * s).saturating_sub(p);
    assert!(
        h - lo_last <= r,
        "line buffer too small for the last window row"
    );
    let f_width = spec.out_width();
    let mut b = ModuleBuilder::new(&spec.module);
    let vw = bits_for(2 * (h.max(w) + kh.max(kw) + p + r + s * oh.max(ow) + 2) as u64);

    let clk = b.input("clk", 1, "clock, rising edge");
    let rst = b.input("rst", 1, "synchronous reset, active high");
    let s_valid = b.input("s_valid", 1, "input pixel valid");
    let s_ready = b.output_wire("s_ready", 1, "input pixel accepted when s_valid && s_ready");
    let s_data = b.input("s_data", c as u32, "input pixel, channel c at bit c");
    let m_valid = b.output_wire("m_valid", 1, "output valid");
    let m_ready = b.input("m_ready", 1, "output accepted when m_valid && m_ready");
    let m_data = b.output_wire("m_data", f_width, "output pixel (or scores and class)");
    let _ = clk;

    // ---- write side: ring of row slots -------------------------------------------------
    let in_x = Counter::new(&mut b, "in_x", w, vw);
    let in_slot = Counter::new(&mut b, "in_slot", r, vw);
    let rows_avail = b.reg("rows_avail", vw);
    b.assign(s_ready, lt_const(b.e(rows_avail), r as u64));
    let wr = b.let_("wr", b.e(s_valid).and(b.e(s_ready)));
    let row_done = b.let_("row_done", wr.clone().and(in_x.last(&b)));
    let aw = addr_width(r * w);
    let lbuf = b.memory("lbuf", c as u32, r * w, None);
    let waddr = {
        let slot = in_slot.val(&b, aw);
        let row = if w > 1 {
            slot.mul(Expr::lit(w as u64, aw))
        } else {
            slot
        };
        b.let_("waddr", row.add(in_x.val(&b, aw)))
    };
    let mut wstm = vec![Stmt::write(lbuf, waddr, b.e(s_data))];
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
    let f_s_ready = b.wire("f_s_ready", 1);
    let adv = b.e(f_s_ready);
    let ix0 = b.reg("ix0", vw);
    let iy0 = b.reg("iy0", vw);
    let top_slot = b.reg("top_slot", vw);
    let busy = b.reg("busy", 1);
    let ch = Counter::new(&mut b, "ch", chunks, 1);
    let kx = Counter::new(&mut b, "kx", kw, vw);
    let ky = Counter::new(&mut b, "ky", kh, vw);
    let ent = Counter::new(&mut b, "ent", n_ent, addr_width(n_ent));
    let depth_w = n_ent * kh * kw * chunks;
    let wa = Counter::new(&mut b, "wa", depth_w, addr_width(depth_w));
    let lit = |v: usize| Expr::lit(v as u64, vw);
    let tap_last = b.let_(
        "tap_last",
        and_all(vec![ch.last(&b), kx.last(&b), ky.last(&b)]),
    );
    let pix_end = b.let_("pix_end", tap_last.clone().and(ent.last(&b)));
    let sat = |e: Expr, k: usize| -> Expr {
        if k == 0 {
            e
        } else {
            ge_const(e.clone(), k as u64).mux(e.sub(lit(k)), lit(0))
        }
    };
    let lo_cur = b.let_("lo_cur", sat(b.e(iy0), p));
    let last_row = b.let_("last_row", eq_const(b.e(iy0), ((oh - 1) * s) as u64));
    let row_end = b.let_("row_end", eq_const(b.e(ix0), ((ow - 1) * s) as u64));
    // Rows a pixel needs: its window, and (when the stride skips rows) every row up to the
    // next output row's first, since those are released at the end of this row.
    let hi_excl = b.let_("hi_excl", sat(b.e(iy0).add(lit(kh.max(s))), p));
    let need = last_row.clone().mux(
        lit(h).sub(lo_cur.clone()),
        lt_const(hi_excl.clone(), h as u64)
            .mux(hi_excl.clone(), lit(h))
            .sub(lo_cur.clone()),
    );
    let start_ok = b.let_("start_ok", b.e(rows_avail).ge(need));
    let iss = b.let_("iss", b.e(busy).or(start_ok));
    let step = b.let_("step", iss.clone().and(adv.clone()));
    let lo_next = sat(b.e(iy0).add(lit(s)), p);
    let rel = b.let_(
        "rel",
        step.clone().and(pix_end.clone()).and(row_end.clone()).mux(
            last_row
                .clone()
                .mux(lit(h).sub(lo_cur.clone()), lo_next.sub(lo_cur.clone())),
            lit(0),
        ),
    );
    let done_v = row_done.zext(vw);
    let slot_sum = b.let_("slot_sum", b.e(top_slot).add(rel.clone()));
    b.always(vec![Stmt::if_else(
        b.e(rst),
        vec![
            Stmt::set(rows_avail, lit(0)),
            Stmt::set(top_slot, lit(0)),
            Stmt::set(busy, Expr::f()),
            Stmt::set(ix0, lit(0)),
            Stmt::set(iy0, lit(0)),
        ],
        vec![
            Stmt::set(rows_avail, b.e(rows_avail).add(done_v).sub(rel)),
            Stmt::set(
                top_slot,
                ge_const(slot_sum.clone(), r as u64).mux(slot_sum.clone().sub(lit(r)), slot_sum),
            ),
            Stmt::when(
                step.clone(),
                vec![Stmt::if_else(
                    pix_end.clone(),
                    vec![
                        Stmt::set(busy, Expr::f()),
                        Stmt::if_else(
                            row_end.clone(),
                            vec![
                                Stmt::set(ix0, lit(0)),
                                Stmt::set(iy0, last_row.clone().mux(lit(0), b.e(iy0).add(lit(s)))),
                            ],
                            vec![Stmt::set(ix0, b.e(ix0).add(lit(s)))],
                        ),
                    ],
                    vec![Stmt::set(busy, Expr::t())],
                )],
            ),
        ],
    )]);
    // Tap counters and the weight address: clear at reset and at the end of a pixel.
    let mut cl = Vec::new();
    for k in [&ch, &kx, &ky, &ent, &wa] {
        cl.extend(k.clear());
    }
    if !cl.is_empty() {
        let mut adv_st = nest(&b, &[&ch, &kx, &ky, &ent]);
        adv_st.extend(wa.inc(&b));
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
    let in_img = |base: Sig, k: &Counter, extent: usize| -> Expr {
        if p == 0 {
            return Expr::t();
        }
        let pos = b.e(base).add(k.val(&b, vw));
        ge_const(pos.clone(), p as u64).and(lt_const(pos, (extent + p) as u64))
    };
    let pad = if p > 0 {
        let inside = in_img(iy0, &ky, h).and(in_img(ix0, &kx, w));
        Some(b.let_("pad", inside.not()))
    } else {
        None
    };
    let dw = aw.max(bits_for(2 * r as u64));
    let modp = |k: u32| Expr::lit(p as u64 & ((1u64 << k) - 1), k);
    let d_dw = if p == 0 {
        ky.val(&b, dw)
    } else {
        ge_const(b.e(iy0), p as u64).mux(
            ky.val(&b, dw),
            fit(&b, iy0, dw).add(ky.val(&b, dw)).sub(modp(dw)),
        )
    };
    let d_sig = b.wire("row_d", dw);
    b.assign(d_sig, d_dw);
    let sum_dw = b.let_("row_sum", fit(&b, top_slot, dw).add(b.e(d_sig)));
    let base_aw = fit(&b, top_slot, aw).add(fit(&b, d_sig, aw));
    let r_aw = Expr::lit(r as u64 & ((1u64 << aw.min(63)) - 1), aw);
    let slot_aw = ge_const(sum_dw, r as u64).mux(base_aw.clone().sub(r_aw), base_aw);
    let raddr = if w > 1 {
        let col = fit(&b, ix0, aw).add(kx.val(&b, aw)).sub(modp(aw));
        b.let_("raddr", slot_aw.mul(Expr::lit(w as u64, aw)).add(col))
    } else {
        b.let_("raddr", slot_aw)
    };
    let rd = b.reg("rd", c as u32);
    b.always(vec![Stmt::when(
        adv.clone(),
        vec![Stmt::set(rd, b.read(lbuf, raddr))],
    )]);

    // ---- stage 1 control ----------------------------------------------------------------
    let v1 = b.reg("v1", 1);
    b.always(vec![Stmt::if_else(
        b.e(rst),
        vec![Stmt::set(v1, Expr::f())],
        vec![Stmt::when(adv.clone(), vec![Stmt::set(v1, iss.clone())])],
    )]);
    let tap_first = and_all(vec![ch.first(&b), kx.first(&b), ky.first(&b)]);
    let tf1 = delay(&mut b, tap_first, 1, &adv, "tf");
    let pl1 = delay(&mut b, pix_end.clone(), 1, &adv, "pl");

    let (fifo_valid, fifo_data) = match &spec.op {
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
            (b.e(v1).and(pl1), acc_next)
        }
        WindowOp::Mac {
            w: wt,
            pop_stages,
            out,
            ..
        } => {
            let mac = MacCtx {
                wt,
                pe,
                simd,
                chunks,
                kh,
                kw,
                pad_mode: spec.pad_mode,
                pop_stages: *pop_stages,
            };
            mac.datapath(
                &mut b, &adv, rst, &groups, &entries, &ent, &wa, &ch, rd, v1, tf1, tap_last, pl1,
                pad, out,
            )
        }
    };
    let f_m_valid = b.wire("f_m_valid", 1);
    let f_m_data = b.wire("f_m_data", f_width);
    b.instance(
        fifo,
        "u_fifo",
        vec![
            ("clk", Conn::In(b.e(clk))),
            ("rst", Conn::In(b.e(rst))),
            ("s_valid", Conn::In(fifo_valid)),
            ("s_ready", Conn::Out(f_s_ready)),
            ("s_data", Conn::In(fifo_data)),
            ("m_valid", Conn::Out(f_m_valid)),
            ("m_ready", Conn::In(b.e(m_ready))),
            ("m_data", Conn::Out(f_m_data)),
        ],
    );
    b.assign(m_valid, b.e(f_m_valid));
    b.assign(m_data, b.e(f_m_data));
    b.finish()
}

struct MacCtx<'a> {
    wt: &'a BlockWeights,
    pe: usize,
    simd: usize,
    chunks: usize,
    kh: usize,
    kw: usize,
    pad_mode: PadMode,
    pop_stages: u32,
}

impl MacCtx<'_> {
    /// XNOR-popcount-accumulate datapath; returns the FIFO's (valid, data).
    #[allow(clippy::too_many_arguments)]
    fn datapath(
        &self,
        b: &mut ModuleBuilder,
        adv: &Expr,
        rst: Sig,
        groups: &[(usize, usize)],
        entries: &[Entry],
        ent: &Counter,
        wa: &Counter,
        ch: &Counter,
        rd: Sig,
        v1: Sig,
        tf1: Expr,
        tap_last: Expr,
        pl1: Expr,
        pad: Option<Expr>,
        out: &MacOut,
    ) -> (Expr, Expr) {
        let wt = self.wt;
        let (pe, simd) = (self.pe, self.simd);
        let ipb = wt.in_per_block();
        let opb = wt.out_per_block();
        let nq = wt.in_channels / simd;
        // Entry table: chunk base (when several in-blocks), first/last flags (when a group has
        // several kept in-blocks).
        let multi_ib = wt.in_blocks > 1;
        let multi_ent = entries.iter().any(|e| !(e.first && e.last));
        let gv = groups.len();
        let need_last = gv > 1;
        let qw = bits_for(nq as u64 - 1);
        let mut ent_words = Vec::new();
        for e in entries {
            let mut word = Vec::new();
            if multi_ib {
                let qb = (e.ib * (ipb / simd)) as u64;
                word.extend((0..qw).map(|i| (qb >> i) & 1 == 1));
            }
            if multi_ent {
                word.push(e.first);
                if need_last {
                    word.push(e.last);
                }
            }
            ent_words.push(word);
        }
        let (qb1, fog1, log1) = if multi_ib || multi_ent {
            let q = rom(b, "etab", ent_words, ent.sig, adv);
            let qsig = b.let_("etab_w", q);
            let qs = super::build::sig_of(b, &qsig);
            let qb = multi_ib.then(|| b.slice(qs, 0, qw));
            let off = if multi_ib { qw } else { 0 };
            let f = if multi_ent { b.bit(qs, off) } else { Expr::t() };
            let l = if multi_ent && need_last {
                b.bit(qs, off + 1)
            } else {
                Expr::t()
            };
            (qb, f, l)
        } else {
            (None, Expr::t(), Expr::t())
        };
        // Weight ROM: one PE x SIMD word per issue step, kept tiles only.
        let mut wwords = Vec::new();
        for e in entries {
            let (ob, g) = groups[e.group];
            for ky in 0..self.kh {
                for kx in 0..self.kw {
                    for c in 0..self.chunks {
                        let mut word = Vec::with_capacity(pe * simd);
                        for lane in 0..pe {
                            let o = ob * opb + g * pe + lane;
                            for si in 0..simd {
                                let ci = e.ib * ipb + c * simd + si;
                                word.push(wt.weight(o, ky, kx, ci).expect("kept tile"));
                            }
                        }
                        wwords.push(word);
                    }
                }
            }
        }
        let wq = rom(b, "wrom", wwords, wa.sig, adv);
        let wsig =
            if wq.const_value().is_none() && matches!(wq.kind, super::netlist::ExprKind::Sig(_)) {
                Some(super::build::sig_of(b, &wq))
            } else {
                None
            };
        // Chunk select.
        let ch1 = ch.sig.map(|s| {
            let d = delay(b, b.e(s), 1, adv, "ch");
            super::build::sig_of(b, &d)
        });
        let x = if nq == 1 {
            b.e(rd)
        } else {
            let q = match (qb1, ch1) {
                (Some(qb), Some(c1)) => qb.add(fit(b, c1, qw)),
                (Some(qb), None) => qb,
                (None, Some(c1)) => fit(b, c1, qw),
                (None, None) => unreachable!("several chunks need an index"),
            };
            let qv = b.let_("q", q);
            let qs = super::build::sig_of(b, &qv);
            let words: Vec<Expr> = (0..nq)
                .map(|i| b.slice(rd, (i * simd) as u32, simd as u32))
                .collect();
            select(b, &words, qs)
        };
        let pad1 = pad.map(|p| delay(b, p, 1, adv, "pad"));
        let x = match (&pad1, self.pad_mode) {
            (Some(p), PadMode::MinusOne) => p.clone().mux(Expr::zero(simd as u32), x),
            (Some(p), PadMode::PlusOne) => p.clone().mux(Expr::ones(simd as u32), x),
            _ => x,
        };
        let xv = b.let_("x", x);
        let first1 = fog1.and(tf1);
        let last1 = need_last.then(|| {
            let tl1 = delay(b, tap_last, 1, adv, "tl");
            b.let_("last1", log1.and(tl1))
        });
        let pl1 = b.let_("pl1", pl1);
        // Stage 2: XNOR lanes registered.
        let mut xn = Vec::new();
        for lane in 0..pe {
            let wl = match wsig {
                Some(ws) => b.slice(ws, (lane * simd) as u32, simd as u32),
                None => b.slice_of(wq.clone(), (lane * simd) as u32, simd as u32, "wconst"),
            };
            let r = b.reg(&format!("xn{lane}"), simd as u32);
            b.always(vec![Stmt::when(
                adv.clone(),
                vec![Stmt::set(r, xv.clone().xor(wl).not())],
            )]);
            xn.push(r);
        }
        let v2 = b.reg("v2", 1);
        b.always(vec![Stmt::if_else(
            b.e(rst),
            vec![Stmt::set(v2, Expr::f())],
            vec![Stmt::when(adv.clone(), vec![Stmt::set(v2, b.e(v1))])],
        )]);
        let counted = match (&pad1, self.pad_mode) {
            (Some(p), PadMode::Zero) => Some(delay(b, p.clone().not(), 1, adv, "cnt")),
            _ => None,
        };
        let first2 = delay(b, first1, 1, adv, "first");
        let last2 = last1.clone().map(|l| delay(b, l, 1, adv, "last"));
        let pl2 = delay(b, pl1.clone(), 1, adv, "pix");
        // Group counter at stage 1 addresses the per-group constants (thresholds or biases).
        let gcnt = (gv > 1).then(|| b.reg("gcnt", addr_width(gv)));
        if let Some(g) = gcnt {
            let v1_last = b.e(v1).and(last1.unwrap());
            b.always(vec![Stmt::if_else(
                b.e(rst),
                vec![Stmt::set(g, Expr::zero(g.width))],
                vec![Stmt::when(
                    adv.clone().and(v1_last),
                    vec![Stmt::if_else(
                        pl1,
                        vec![Stmt::set(g, Expr::zero(g.width))],
                        vec![Stmt::set(g, b.e(g).add(Expr::lit(1, g.width)))],
                    )],
                )],
            )]);
        }
        // Pop counts.
        let mut pops = Vec::new();
        let mut lat = 0;
        for (lane, &r) in xn.iter().enumerate() {
            let (pc, l) = popcount(b, b.e(r), self.pop_stages, adv, &format!("pop{lane}"));
            lat = l;
            pops.push(pc);
        }
        let va = delay_valid(b, v2, lat, adv, rst);
        let counted = counted.map(|c| delay(b, c, lat, adv, "cnt"));
        let firsta = delay(b, first2, lat, adv, "first");
        let lasta = last2.map(|l| delay(b, l, lat, adv, "last"));
        let pla = delay(b, pl2, lat, adv, "pix");
        // Accumulate a = sum (2p - N).
        let n_max = max_taps(wt);
        let pw = popcount_width(simd as u32);
        let aw = signed_bits_for(-(n_max as i64), n_max as i64).max(pw + 1);
        let mut accs = Vec::new();
        for (lane, pc) in pops.into_iter().enumerate() {
            let acc = b.reg(&format!("acc{lane}"), aw);
            let two_p = Expr::cat_lsb(vec![Expr::f(), pc.zext(aw - 1)]);
            let contrib = two_p.sub(Expr::lit(simd as u64, aw));
            let contrib = match &counted {
                Some(cn) => cn.clone().mux(contrib, Expr::zero(aw)),
                None => contrib,
            };
            let base = firsta.clone().mux(Expr::zero(aw), b.e(acc));
            let next = b.wire(&format!("acc_next{lane}"), aw);
            b.assign(next, base.add(contrib));
            b.always(vec![Stmt::when(
                adv.clone().and(va.clone()),
                vec![Stmt::set(acc, b.e(next))],
            )]);
            accs.push(next);
        }
        match out {
            MacOut::Threshold(th) => self.thresholds(
                b, adv, rst, groups, gcnt, lat, &accs, aw, th, va, lasta, pla,
            ),
            MacOut::Scores(bias) => self.scores(
                b, adv, rst, groups, gcnt, lat, &accs, aw, bias, va, lasta, pla,
            ),
        }
    }

    /// Per-group constant table (thresholds / biases), aligned with the accumulate stage.
    fn group_table(
        &self,
        b: &mut ModuleBuilder,
        name: &str,
        words: Vec<Vec<bool>>,
        gcnt: Option<Sig>,
        lat: u32,
        adv: &Expr,
    ) -> Expr {
        let q = rom(b, name, words, gcnt, adv);
        if q.const_value().is_some() || !matches!(q.kind, super::netlist::ExprKind::Sig(_)) {
            return q;
        }
        delay(b, q, lat, adv, name)
    }

    #[allow(clippy::too_many_arguments)]
    fn thresholds(
        &self,
        b: &mut ModuleBuilder,
        adv: &Expr,
        _rst: Sig,
        groups: &[(usize, usize)],
        gcnt: Option<Sig>,
        lat: u32,
        accs: &[Sig],
        aw: u32,
        th: &Thresholds,
        va: Expr,
        lasta: Option<Expr>,
        pla: Expr,
    ) -> (Expr, Expr) {
        let wt = self.wt;
        let pe = self.pe;
        let opb = wt.out_per_block();
        let n = max_taps(wt) as i64;
        let tw = aw + 1;
        let mut words = Vec::new();
        for &(ob, g) in groups {
            let mut word = Vec::new();
            for lane in 0..pe {
                let o = ob * opb + g * pe + lane;
                let t = th.thresholds[o].clamp(-(n + 1), n + 1);
                word.extend((0..tw).map(|i| (t >> i.min(63)) & 1 == 1));
                word.push(th.directions[o] == Direction::Down);
            }
            words.push(word);
        }
        let tq = self.group_table(b, "ttab", words, gcnt, lat, adv);
        let tq = b.let_("ttab_w", tq);
        let tqs = super::build::sig_of(b, &tq);
        let mut bits = Vec::new();
        for (lane, &a) in accs.iter().enumerate() {
            let base = lane as u32 * (tw + 1);
            let t = b.slice(tqs, base, tw);
            let down = b.bit(tqs, base + tw);
            let av = sext(b, a, tw);
            bits.push(down.mux(av.clone().sle(t.clone()), av.sge(t)));
        }
        let new_bits = b.let_("grp_bits", Expr::cat_lsb(bits));
        let gv = groups.len();
        let visited = if gv > 1 {
            let sh = b.reg("obits", ((gv - 1) * pe) as u32);
            let shifted = if gv > 2 {
                Expr::cat_lsb(vec![
                    b.slice(sh, pe as u32, ((gv - 2) * pe) as u32),
                    new_bits.clone(),
                ])
            } else {
                new_bits.clone()
            };
            b.always(vec![Stmt::when(
                adv.clone().and(va.clone()).and(lasta.unwrap()),
                vec![Stmt::set(sh, shifted)],
            )]);
            Expr::cat_lsb(vec![b.e(sh), new_bits])
        } else {
            new_bits
        };
        let vis = b.let_("visited", visited);
        let vsig = super::build::sig_of(b, &vis);
        // Assemble all output channels: visited groups in order, constants for empty blocks.
        let mut parts = Vec::new();
        let mut vi = 0u32;
        for ob in 0..wt.out_blocks {
            if wt.kept_in_blocks(ob) > 0 {
                parts.push(b.slice(vsig, vi, opb as u32));
                vi += opb as u32;
            } else {
                parts.push(Expr::bits(
                    (0..opb).map(|k| th.fire(ob * opb + k, 0)).collect(),
                ));
            }
        }
        (va.and(pla), Expr::cat_lsb(parts))
    }

    #[allow(clippy::too_many_arguments)]
    fn scores(
        &self,
        b: &mut ModuleBuilder,
        adv: &Expr,
        _rst: Sig,
        groups: &[(usize, usize)],
        gcnt: Option<Sig>,
        lat: u32,
        accs: &[Sig],
        _aw: u32,
        bias: &[i64],
        va: Expr,
        lasta: Option<Expr>,
        pla: Expr,
    ) -> (Expr, Expr) {
        let wt = self.wt;
        let pe = self.pe;
        let opb = wt.out_per_block();
        let (sw, cw) = score_layout(wt, bias);
        let mut words = Vec::new();
        for &(ob, g) in groups {
            let mut word = Vec::new();
            for lane in 0..pe {
                let o = ob * opb + g * pe + lane;
                word.extend((0..sw).map(|i| (bias[o] >> i.min(63)) & 1 == 1));
            }
            words.push(word);
        }
        let bq = self.group_table(b, "btab", words, gcnt, lat, adv);
        let bq = b.let_("btab_w", bq);
        let bqs = super::build::sig_of(b, &bq);
        let mut sc = Vec::new();
        for (lane, &a) in accs.iter().enumerate() {
            let bi = b.slice(bqs, lane as u32 * sw, sw);
            sc.push(sext(b, a, sw).add(bi));
        }
        let new_sc = b.let_("grp_scores", Expr::cat_lsb(sc));
        let gv = groups.len();
        let gw = (pe as u32) * sw;
        let visited = if gv > 1 {
            let sh = b.reg("oscores", (gv as u32 - 1) * gw);
            let shifted = if gv > 2 {
                Expr::cat_lsb(vec![b.slice(sh, gw, (gv as u32 - 2) * gw), new_sc.clone()])
            } else {
                new_sc.clone()
            };
            b.always(vec![Stmt::when(
                adv.clone().and(va.clone()).and(lasta.unwrap()),
                vec![Stmt::set(sh, shifted)],
            )]);
            Expr::cat_lsb(vec![b.e(sh), new_sc])
        } else {
            new_sc
        };
        let vis = b.let_("visited", visited);
        let vsig = super::build::sig_of(b, &vis);
        let mut score_exprs = Vec::new();
        let mut vi = 0u32;
        for ob in 0..wt.out_blocks {
            for k in 0..opb {
                if wt.kept_in_blocks(ob) > 0 {
                    score_exprs.push(b.slice(vsig, vi, sw));
                    vi += sw;
                } else {
                    score_exprs.push(Expr::slit(bias[ob * opb + k], sw));
                }
            }
        }
        let all = b.let_("scores", Expr::cat_lsb(score_exprs));
        let alls = super::build::sig_of(b, &all);
        // Argmax, ties to the lowest index: scan ascending, replace only on strictly greater.
        let k = wt.out_channels;
        let mut best = b.slice(alls, 0, sw);
        let mut idx = Expr::zero(cw);
        for i in 1..k {
            let si = b.slice(alls, i as u32 * sw, sw);
            let gt = b.let_(&format!("gt{i}"), si.clone().sgt(best.clone()));
            idx = b.let_(
                &format!("idx{i}"),
                gt.clone().mux(Expr::lit(i as u64, cw), idx),
            );
            if i + 1 < k {
                best = b.let_(&format!("best{i}"), gt.mux(si, best));
            }
        }
        if k == 1 {
            let _ = best;
        }
        (va.and(pla), Expr::cat_lsb(vec![idx, b.e(alls)]))
    }
}

/// A valid bit delayed `n` stages (reset to 0).
fn delay_valid(b: &mut ModuleBuilder, v: Sig, n: u32, adv: &Expr, rst: Sig) -> Expr {
    let mut cur = b.e(v);
    for i in 0..n {
        let r = b.reg(&format!("va{i}"), 1);
        b.always(vec![Stmt::if_else(
            b.e(rst),
            vec![Stmt::set(r, Expr::f())],
            vec![Stmt::when(adv.clone(), vec![Stmt::set(r, cur)])],
        )]);
        cur = b.e(r);
    }
    cur
}
