//! The issue side of a window stage: output pixels in raster order, each started once the
//! rows its window needs are written, then one (entry, ky, kx, chunk) step per cycle over
//! the kept tiles; the window's position (line-buffer slot and column, and the padded
//! coordinates when there is padding); and the release of rows at the end of a row.

use super::counter::{nest, Counter};
use super::line_buffer::{LineBuffer, DELTA, DNEG, LAST};
use super::schedule::{schedule, Entry};
use super::{Enables, Geometry, WindowOp, WindowSpec};
use crate::rtl::build::{eq_const, ge_const, sig_of};
use crate::rtl::netlist::{addr_width, bits_for, Expr, ModuleBuilder, Sig, Stmt};

/// The steps of one output pixel: visited groups, their entries, and the lanes; each step
/// takes a `ty` x `tx` block of kernel taps (`WindowSpec::tap_shape`).
pub(super) struct Steps {
    pub(super) groups: Vec<(usize, usize)>,
    pub(super) entries: Vec<Entry>,
    pub(super) chunks: usize,
    pub(super) simd: usize,
    pub(super) pe: usize,
    pub(super) ty: usize,
    pub(super) tx: usize,
}

impl Steps {
    fn of(spec: &WindowSpec, c: usize) -> Steps {
        let (ty, tx) = spec.tap_shape();
        match &spec.op {
            // A narrow ring's pool visits each tap once per 16-bit group.
            WindowOp::Or { groups } => Steps {
                groups: vec![(0, 0)],
                entries: vec![Entry {
                    group: 0,
                    ib: 0,
                    first: true,
                    last: true,
                }],
                chunks: *groups,
                simd: match groups {
                    1 => c,
                    _ => crate::plan::cost::ring::POOL_GROUP_BITS as usize,
                },
                pe: 1,
                ty,
                tx,
            },
            WindowOp::Mac {
                w: wt, pe, simd, ..
            } => {
                let (groups, entries) = schedule(wt, *pe);
                assert!(
                    !entries.is_empty(),
                    "layer {} has no kept tile",
                    spec.module
                );
                Steps {
                    groups,
                    entries,
                    chunks: wt.in_per_block() / simd,
                    simd: *simd,
                    pe: *pe,
                    ty,
                    tx,
                }
            }
        }
    }
}

/// The issue side: its control and the window position.
pub(super) struct Issue {
    pub(super) ctl: Control,
    pub(super) pos: Position,
}

/// Step counters and the decisions made from them.
pub(super) struct Control {
    pub(super) steps: Steps,
    /// Every pipeline register advances on `adv`, the control's on its copy (`Enables`,
    /// driven by the output stage).
    pub(super) en: Enables,
    pub(super) adv: Expr,
    pub(super) busy: Sig,
    pub(super) ch: Counter,
    pub(super) kx: Counter,
    pub(super) ky: Counter,
    pub(super) ent: Counter,
    pub(super) wa: Counter,
    pub(super) ox: Counter,
    pub(super) tap: Counter,
    pub(super) tap_last: Expr,
    pub(super) pix_end: Expr,
    pub(super) row_end: Expr,
    /// The current output row is the frame's last (with padding only: `LAST`).
    pub(super) last_row: Option<Expr>,
    /// A step is issued this cycle (`iss`), and the pipeline takes it (`step`).
    pub(super) iss: Expr,
    pub(super) step: Expr,
}

/// The window's position: the tap's line-buffer slot, its column (`pxcol`, `xcol`) when rows
/// have several columns, and padded coordinates (`pxpos`, `xpos`, `pypos`, `ypos`) when there
/// is padding.
pub(super) struct Position {
    pub(super) yslot: Sig,
    pub(super) cols: Option<(Sig, Sig)>,
    pub(super) poss: Option<(Sig, Sig, Sig, Sig)>,
}

impl Issue {
    /// The issue steps: counters and the start decision, the window position, the taps.
    pub(super) fn build(
        b: &mut ModuleBuilder,
        spec: &WindowSpec,
        g: &Geometry,
        lb: &LineBuffer,
        rst: Sig,
    ) -> Issue {
        let ctl = counters(b, spec, g, lb, rst);
        let pos = window_position(b, g, lb, rst, &ctl);
        tap_counters(b, &ctl, rst);
        Issue { ctl, pos }
    }
}

/// Step counters, the registered issue decision, and the frame's row bookkeeping.
fn counters(
    b: &mut ModuleBuilder,
    spec: &WindowSpec,
    g: &Geometry,
    lb: &LineBuffer,
    rst: Sig,
) -> Control {
    let steps = Steps::of(spec, g.c);
    // Kernel rows and columns counted in steps of the taps taken per cycle.
    let (kh, kw, chunks) = (g.kh / steps.ty, g.kw / steps.tx, steps.chunks);
    let n_ent = steps.entries.len();
    // Every pipeline register advances on `adv`: no output word, or it was taken; the
    // control's registers on its copy `adv_c`.
    let en = Enables::pair(b);
    let adv = b.e(en.adv);
    let busy = b.reg("busy", 1);
    let ch = Counter::new(b, "ch", chunks, 1);
    let kx = Counter::new(b, "kx", kw, 1);
    let ky = Counter::new(b, "ky", kh, 1);
    let ent = Counter::new(b, "ent", n_ent, addr_width(n_ent));
    let depth_w = n_ent * kh * kw * chunks;
    let wa = Counter::new(b, "wa", depth_w, addr_width(depth_w));
    let ox = Counter::new(b, "ox", g.ow, 1);
    // Steps within the entry, for a registered "last tap" flag; `wa` counts the steps of a
    // pixel, so its flag is the pixel's last step.
    let tap = Counter::new(b, "tapc", kh * kw * chunks, 1);
    let tap_last = b.let_("tap_last", tap.last(b));
    let pix_end = b.let_("pix_end", wa.last(b));
    let row_end = b.let_("row_end", ox.last(b));
    let last_row = (g.p > 0).then(|| lb.rows.field_or_lit(b, LAST));
    // Issue decision, registered one cycle ahead: busy with a pixel, or the row current next
    // cycle has its rows written (`RowSlack::issue_next`).
    let iss_r = b.reg("iss_r", 1);
    let iss = b.let_("iss", b.e(iss_r));
    let step = b.let_("step", iss.clone().and(en.ctl(b)));
    let row_step = b.let_(
        "row_step",
        step.clone().and(pix_end.clone()).and(row_end.clone()),
    );
    let slack = &lb.slack;
    let field = |k: usize| lb.rows.field_or_lit(b, k);
    let (mut on_rst, mut on_clk) = slack.update(b, g, &field, &lb.row_done, &row_step);
    on_rst.push(Stmt::set(iss_r, Expr::f()));
    on_clk.push(Stmt::set(
        iss_r,
        step.clone()
            .mux(pix_end.clone().not(), b.e(busy))
            .or(slack.issue_next(b, &row_step)),
    ));
    b.always(vec![Stmt::if_else(b.e(rst), on_rst, on_clk)]);
    lb.rows.advance(b, rst, &row_step);
    Control {
        steps,
        en,
        adv,
        busy,
        ch,
        kx,
        ky,
        ent,
        wa,
        ox,
        tap,
        tap_last,
        pix_end,
        row_end,
        last_row,
        iss,
        step,
    }
}

/// Window position registers, per pixel (`p*`, the first tap) and per tap: line-buffer slot
/// and column of the tap (the read address), and, with padding, the tap's position in padded
/// coordinates for the in-image test. Per step: new pixel / new entry / next ky / next kx /
/// next chunk.
fn window_position(
    b: &mut ModuleBuilder,
    g: &Geometry,
    lb: &LineBuffer,
    rst: Sig,
    ctl: &Control,
) -> Position {
    let (oh, ow, kh, kw, s, p, r) = (g.oh, g.ow, g.kh, g.kw, g.s, g.p, g.r);
    let (ty, tx) = (ctl.steps.ty, ctl.steps.tx);
    let (sb, cb, w2) = (lb.sb, lb.cb, lb.w2);
    let (busy, row_end, last_row) = (ctl.busy, &ctl.row_end, &ctl.last_row);
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
    let slot_next = slot_next(b, lb, r, pyslot);
    let slot_next = b.let_("slot_next", row_end.clone().mux(slot_next, b.e(pyslot)));
    let slot_inc = slot_plus(b, yslot, ty, r);
    let sl = |x: usize, w: u32| Expr::lit(x as u64 & ((1u64 << w) - 1), w);
    let ky_step = ctl.ch.last(b).and(ctl.kx.last(b));
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
        on_kx.push(Stmt::set(xcol, b.e(xcol).add(sl(tx, cb))));
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
                    .expect("a padded stage's row table has LAST")
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
            Stmt::set(ypos, b.e(ypos).add(sl(ty, yw))),
        ]);
        on_kx.push(Stmt::set(xpos, b.e(xpos).add(sl(tx, xw))));
        for r in [pxpos, xpos] {
            rst_st.push(Stmt::set(r, Expr::zero(xw)));
        }
        for r in [pypos, ypos] {
            rst_st.push(Stmt::set(r, Expr::zero(yw)));
        }
    }
    on_pix.extend(ctl.ox.inc(b));
    rst_st.extend(ctl.ox.clear());
    b.always(vec![Stmt::if_else(
        b.e(rst),
        rst_st,
        vec![Stmt::when(
            ctl.step.clone(),
            vec![Stmt::if_else(
                ctl.pix_end.clone(),
                on_pix,
                vec![Stmt::if_else(
                    ctl.tap_last.clone(),
                    on_ent,
                    vec![Stmt::if_else(
                        ky_step,
                        on_ky,
                        vec![Stmt::if_else(
                            ctl.ch.last(b),
                            on_kx,
                            vec![Stmt::set(busy, Expr::t())],
                        )],
                    )],
                )],
            )],
        )],
    )]);
    Position { yslot, cols, poss }
}

/// Slot `k` rows after `slot` in the ring of `r` slots (k <= r).
pub(super) fn slot_plus(b: &ModuleBuilder, slot: Sig, k: usize, r: usize) -> Expr {
    let sb = slot.width;
    assert!(k <= r);
    if k == 1 {
        return eq_const(b.e(slot), r as u64 - 1)
            .mux(Expr::zero(sb), b.e(slot).add(Expr::lit(1, sb)));
    }
    let wrap = ((k as i64 - r as i64).rem_euclid(1i64 << sb)) as u64;
    ge_const(b.e(slot), (r - k) as u64).mux(
        b.e(slot).add(Expr::lit(wrap, sb)),
        b.e(slot).add(Expr::lit(k as u64 & ((1u64 << sb) - 1), sb)),
    )
}

/// Next pixel's first-tap slot at the end of a row: (pyslot + delta) mod r, from the row
/// table, or from the constants when there is one output row.
fn slot_next(b: &mut ModuleBuilder, lb: &LineBuffer, r: usize, pyslot: Sig) -> Expr {
    let sb = lb.sb;
    match (lb.rows.field(b, DELTA), lb.rows.field(b, DNEG)) {
        (Ok(dp), Ok(dn)) => {
            let s1 = b.e(pyslot).add(dp);
            let s2 = b.let_("slot_wrap", b.e(pyslot).zext(sb + 1).add(dn));
            let s2s = sig_of(b, &s2);
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
        _ => unreachable!("the row table has both slot steps or neither"),
    }
}

/// Tap counters and the weight address: clear at reset and at the end of a pixel.
fn tap_counters(b: &mut ModuleBuilder, ctl: &Control, rst: Sig) {
    let (ch, kx, ky, ent, wa, tap) = (&ctl.ch, &ctl.kx, &ctl.ky, &ctl.ent, &ctl.wa, &ctl.tap);
    let mut cl = Vec::new();
    for k in [ch, kx, ky, ent, wa, tap] {
        cl.extend(k.clear());
    }
    if cl.is_empty() {
        return;
    }
    let mut adv_st = nest(b, &[ch, kx, ky, ent]);
    adv_st.extend(wa.inc(b));
    adv_st.extend(tap.inc(b));
    b.always(vec![Stmt::if_else(
        b.e(rst),
        cl.clone(),
        vec![Stmt::when(
            ctl.step.clone(),
            vec![Stmt::if_else(ctl.pix_end.clone(), cl, adv_st)],
        )],
    )]);
}
