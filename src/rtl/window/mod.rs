//! Lower one sliding-window layer (conv, dense, classifier, max-pool) to a stage module.
//!
//! `lower` reads as the stage's parts, each in its own file:
//! 1. the line buffer (`line_buffer.rs`): input pixels go into a ring of `rows` row slots
//!    (block RAM when large), its rows counted against each output row's needs
//!    (`row_slack.rs`);
//! 2. the issue side (`issue.rs`): output pixels in raster order; a pixel starts once every
//!    input row its window needs is written, then visits one (entry, ky, kx, chunk) step per
//!    cycle, where the entries are the kept (out-group, in-block) tiles only
//!    (`schedule.rs`: pruned tiles cost no cycle and no weight bit), and releases rows no
//!    later pixel needs at the end of a row;
//! 3. the read stages (`read.rs`): read address, padding and two read registers, for each of
//!    the kernel taps a step takes (the plan's `taps`, one line-buffer copy each);
//! 4. the datapath: chunk select and padding -> PE x SIMD XNOR -> pipelined pop count ->
//!    accumulate (a = 2p - N) -> threshold or score (`mac.rs`), the PE groups gathered into
//!    the output word (`gather.rs`); max-pool ORs words instead;
//! 5. the output stage (here): the last pipeline registers and a skid register.
//!
//! A fully pruned layer keeps the stage's stream timing and hand-off but nothing else
//! (`constant.rs`): its output word is a constant.
//!
//! All pipeline registers advance together on `adv`. The stage has no output FIFO: its last
//! pipeline registers are the output word, and one skid register beside them keeps a word the
//! consumer did not take in the cycle it was offered. So the stage delivers a word every cycle
//! while its consumer takes one every cycle, back-pressure stalls it without losing or
//! repeating anything, and `adv` is a register's output: no consumer's ready reaches the
//! stage's enables (`skid_output`). A plan may trade the skid register for one cycle per
//! output pixel (`Handoff::Hold`, `held_output`), on a device too full for the register.

mod constant;
mod counter;
mod gather;
mod issue;
mod line_buffer;
mod mac;
mod read;
mod row_slack;
mod schedule;
mod spec;
pub mod spram;

pub use constant::{constant_word, lower_constant, ConstantSpec};
pub use spec::{score_layout, MacOut, WindowOp, WindowSpec};

use super::bank::READ_STAGES;
use super::build::{and_all, delay, eq_const};
use super::netlist::{Expr, Module, ModuleBuilder, Sig, Stmt};
use crate::model::Shape;
use crate::plan::Handoff;
use issue::Issue;
use line_buffer::LineBuffer;
use mac::{MacCtx, MacIn};
use read::ReadWord;
use spram::LoadBus;

/// The stage's size figures, checked once: input `h x w x c`, output `oh x ow`, kernel
/// `kh x kw`, stride `s`, padding `p`, line-buffer rows `r`.
struct Geometry {
    h: usize,
    w: usize,
    c: usize,
    oh: usize,
    ow: usize,
    kh: usize,
    kw: usize,
    s: usize,
    p: usize,
    r: usize,
}

impl Geometry {
    /// The figures of a stage over `input` with output `(oh, ow)`, kernel `(kh, kw)`, stride
    /// and padding `(s, p)`, and `r` line-buffer rows; unchecked (`of` checks a window's).
    fn new(
        input: Shape,
        (oh, ow): (usize, usize),
        (kh, kw): (usize, usize),
        (s, p): (usize, usize),
        r: usize,
    ) -> Geometry {
        Geometry {
            h: input.height,
            w: input.width,
            c: input.channels,
            oh,
            ow,
            kh,
            kw,
            s,
            p,
            r,
        }
    }

    fn of(spec: &WindowSpec) -> Geometry {
        let g = Geometry::new(
            spec.input,
            (spec.out_h, spec.out_w),
            (spec.kh, spec.kw),
            (spec.stride, spec.pad),
            spec.rows,
        );
        assert!(g.r >= 2 && g.r >= g.kh.min(g.h));
        // A window may lie wholly in the bottom padding (a kernel lower than the padding, as
        // in kernel [1, 3] with padding 2); it reads no row, so its first row is clamped to `h`.
        let lo_last = ((g.oh - 1) * g.s).saturating_sub(g.p).min(g.h);
        assert!(
            g.h - lo_last <= g.r,
            "line buffer too small for the last window row"
        );
        g
    }
}

/// The stage's stream ports (`clk` is declared and drives every register implicitly).
struct Ports {
    rst: Sig,
    s_valid: Sig,
    s_ready: Sig,
    s_data: Sig,
    m_valid: Sig,
    m_ready: Sig,
    m_data: Sig,
}

/// Build the stage module. Its output is the datapath's last registers or, after a stall, the
/// skid register.
pub fn lower(spec: &WindowSpec) -> Module {
    let g = Geometry::of(spec);
    let mut b = ModuleBuilder::new(&spec.module);
    let io = ports(&mut b, &g, spec.out_width(), true);
    let bus = (spec.spram).map(|s| (s.base, LoadBus::inputs(&mut b, LoadBus::data_width(&s))));
    let (ty, tx) = spec.tap_shape();
    assert!(ty <= g.r, "a step's tap rows fit the line buffer");
    // A ring whose chunk select is split over the read stages keeps its fabric registers or
    // LUT RAM; one of a 1x1 input is narrow (groups of chunks, `plan::cost::ring`).
    let words = g.r * g.w.next_power_of_two();
    let cells = spec.ecp5_cells && read::split_lo(spec, words).is_none();
    let narrow = spec.ring;
    let lb = LineBuffer::build(&mut b, &g, &io, ty * tx, cells, narrow);
    let iss = Issue::build(&mut b, spec, &g, &lb, io.rst);
    let rd = ReadWord::build(&mut b, spec, &g, &lb, &iss);
    let (out_v, out_d) = datapath(&mut b, spec, &g, &iss, &rd, io.rst, bus);
    match spec.handoff {
        Handoff::Skid => skid_output(&mut b, &io, &iss.ctl.en, out_v, out_d),
        Handoff::Hold => held_output(&mut b, &io, &iss.ctl.en, out_v, out_d),
    }
    b.finish()
}

/// The stage's ports; `reads_data` false for a stage whose output does not depend on its
/// input (`constant.rs`), whose `s_data` is then declared unread.
fn ports(b: &mut ModuleBuilder, g: &Geometry, f_width: u32, reads_data: bool) -> Ports {
    b.input("clk", 1, "clock, rising edge");
    let rst = b.input("rst", 1, "synchronous reset, active high");
    let s_valid = b.input("s_valid", 1, "input pixel valid");
    let s_ready = b.output_wire("s_ready", 1, "input pixel accepted when s_valid && s_ready");
    let s_data = if reads_data {
        b.input("s_data", g.c as u32, "input pixel, channel c at bit c")
    } else {
        b.input_unread(
            "s_data",
            g.c as u32,
            "input pixel, not read: the output is constant",
        )
    };
    let m_valid = b.output_wire("m_valid", 1, "output valid");
    let m_ready = b.input("m_ready", 1, "output accepted when m_valid && m_ready");
    let m_data = b.output_wire("m_data", f_width, "output pixel (or scores and class)");
    Ports {
        rst,
        s_valid,
        s_ready,
        s_data,
        m_valid,
        m_ready,
        m_data,
    }
}

/// Stage-1 control aligned with the read word, then the operation: returns (valid one stage
/// ahead of the output registers, output word).
fn datapath(
    b: &mut ModuleBuilder,
    spec: &WindowSpec,
    g: &Geometry,
    iss: &Issue,
    rd: &ReadWord,
    rst: Sig,
    spram: Option<(usize, LoadBus)>,
) -> (Expr, Expr) {
    let ctl = &iss.ctl;
    let adv = &ctl.adv;
    let v0 = b.reg("v0", 1);
    let v1 = b.reg("v1", 1);
    b.always(vec![Stmt::if_else(
        b.e(rst),
        vec![Stmt::set(v0, Expr::f()), Stmt::set(v1, Expr::f())],
        vec![Stmt::when(
            adv.clone(),
            vec![Stmt::set(v0, ctl.iss.clone()), Stmt::set(v1, b.e(v0))],
        )],
    )]);
    let tap_first = |b: &mut ModuleBuilder| {
        let first = and_all(vec![ctl.ch.first(b), ctl.kx.first(b), ctl.ky.first(b)]);
        delay(b, first, READ_STAGES, adv, "tf")
    };
    match &spec.op {
        WindowOp::Or { groups } => {
            let c = g.c as u32;
            let grouped = ctl.ch.sig.filter(|_| *groups > 1);
            let tf1 = grouped.is_none().then(|| tap_first(b));
            let acc = b.reg("acc", c);
            let acc_next = match (tf1, grouped) {
                (Some(tf1), _) => tf1.mux(Expr::zero(c), b.e(acc)).or(b.e(rd.rd)),
                (None, Some(chs)) => pool_groups_next(b, ctl, rd.rd, acc, chs),
                (None, None) => unreachable!("a pool without groups has its first-tap flag"),
            };
            let acc_next = b.let_("acc_next", acc_next);
            b.always(vec![Stmt::when(
                adv.clone().and(b.e(v1)),
                vec![Stmt::set(acc, acc_next.clone())],
            )]);
            if spec.ecp5_cells {
                // On the ECP5 the pixel's maximum is handed on from `acc`, a register, one
                // cycle after its last tap is read: a combinational `acc_next` runs from one
                // stage's block RAM output through the OR and the consumer's mux into the
                // next stage's block RAM input, the longest routed path of fashion-default
                // there. The valid is that of the last tap (`v1 & pl1`), one stage ahead of
                // `acc` as the output registers expect. (On the UP5K, at 84-91% of its
                // logic cells, the extra register did not pay: fashion-up5k-pruned missed
                // its 40 MHz, docs/benchmarks.md.)
                let pl1 = delay(b, ctl.pix_end.clone(), READ_STAGES, adv, "pl");
                (b.e(v1).and(pl1), b.e(acc))
            } else {
                // `pix_end` one stage behind: with `v0`, the valid one stage ahead of
                // `v1 & pl1`.
                let plo = delay(b, ctl.pix_end.clone(), 1, adv, "plo");
                (b.e(v0).and(plo), acc_next)
            }
        }
        WindowOp::Mac {
            w: wt,
            pop_stages,
            out,
            ..
        } => {
            let tf1 = tap_first(b);
            let pl1 = delay(b, ctl.pix_end.clone(), READ_STAGES, adv, "pl");
            let mac = MacCtx {
                wt,
                pe: ctl.steps.pe,
                simd: ctl.steps.simd,
                chunks: ctl.steps.chunks,
                kh: g.kh,
                kw: g.kw,
                ty: ctl.steps.ty,
                tx: ctl.steps.tx,
                pad_mode: spec.pad_mode,
                pop_stages: *pop_stages,
                ram: spec.ram,
                spram,
                weights_in_logic: spec.weights_in_logic,
                ecp5_cells: spec.ecp5_cells,
                split_lo: rd.split_lo,
                out_words: spec.out_words,
            };
            let input = MacIn {
                adv,
                rst,
                groups: &ctl.steps.groups,
                entries: &ctl.steps.entries,
                ent: &ctl.ent,
                wa: &ctl.wa,
                ch: &ctl.ch,
                rd: rd.rd,
                v1,
                tf1,
                tap_last: ctl.tap_last.clone(),
                pl1,
                pad: rd.pad.clone(),
            };
            mac.datapath(b, input, out)
        }
    }
}

/// The next pixel maximum of a pool over a narrow ring: the read word is group `ch` of the
/// pixel at tap (ky, kx), so only that group of `acc` changes, restarted at the window's first
/// tap; the group index and that flag travel with the word through the read stages.
fn pool_groups_next(
    b: &mut ModuleBuilder,
    ctl: &issue::Control,
    rd: Sig,
    acc: Sig,
    chs: Sig,
) -> Expr {
    let adv = &ctl.adv;
    let gw = rd.width;
    let first = and_all(vec![ctl.kx.first(b), ctl.ky.first(b)]);
    let kf1 = delay(b, first, READ_STAGES, adv, "kf");
    let ch1 = delay(b, b.e(chs), READ_STAGES, adv, "chd");
    let c = acc.width;
    let parts = (0..c.div_ceil(gw))
        .map(|k| {
            let base = k * gw;
            let have = gw.min(c - base);
            let old = b.slice(acc, base, have);
            let new = kf1
                .clone()
                .mux(Expr::zero(have), old.clone())
                .or(b.slice(rd, 0, have));
            eq_const(ch1.clone(), k as u64).mux(new, old)
        })
        .collect();
    Expr::cat_lsb(parts)
}

/// The stage's two enable wires, both driven by the output stage from registers: `adv` for
/// the datapath (read stages, MAC, output registers) and `adv_c` for the issue control (its
/// counters, the issue decision, the row bookkeeping). They carry the same value every cycle,
/// from two flip-flops whose D inputs differ in form, so that synthesis does not merge them
/// (Yosys 0.23 merges identical flip-flops even under `(* keep *)`, keeping the cell but
/// not its loads) and neither net fans out to the whole stage: with one, the control's paths
/// ran through the enable's routing over every pipeline register (docs/benchmarks.md,
/// "Critical paths").
/// A stage with no datapath (`constant.rs`) has the one enable, `adv`.
pub(super) struct Enables {
    pub(super) adv: Sig,
    ctl: Option<Sig>,
}

impl Enables {
    pub(super) fn pair(b: &mut ModuleBuilder) -> Enables {
        Enables {
            adv: b.wire("adv", 1),
            ctl: Some(b.wire("adv_c", 1)),
        }
    }
    pub(super) fn single(b: &mut ModuleBuilder) -> Enables {
        Enables {
            adv: b.wire("adv", 1),
            ctl: None,
        }
    }
    /// The issue control's enable.
    pub(super) fn ctl(&self, b: &ModuleBuilder) -> Expr {
        b.e(self.ctl.unwrap_or(self.adv))
    }
}

/// Deliver the last pipeline registers' word through a skid register, one word per cycle.
///
/// The output has two entries: the last pipeline registers themselves (`out_d`, valid `pv`)
/// and the skid register `skid_d` (valid `skid_v`), which holds the older word when both are
/// full. While the skid is empty the stage advances every cycle (`adv = !skid_v`): the word in
/// the pipeline registers is offered, and the same clock edge that moves the next word in
/// copies it into the skid, so a word the consumer did not take this cycle is kept there.
/// A full skid stops the stage until the consumer takes its word. `room_c`, always
/// `!skid_v`, is the issue control's enable (`Enables`).
///
/// How the consumer's ready is kept off the stage's enables: `m_ready` feeds only the D inputs
/// of `skid_v`, `room_c` and `out_v` (the registered `m_valid`); `adv` and every enable of the
/// stage are functions of registers (`skid_v`, `room_c`), so a stall reaches them one cycle
/// later, through a flip-flop. `m_valid` is a register too, and `m_data` is a two-way mux
/// selected by a register. `tests/rtl_handoff.rs` checks this on the netlist of every window
/// stage (`Module::registers_reached_by`, `rtl/cone.rs`).
fn skid_output(b: &mut ModuleBuilder, io: &Ports, en: &Enables, out_v: Expr, out_d: Expr) {
    let adv = b.e(en.adv);
    let pv = b.reg("pv", 1);
    let skid_v = b.reg("skid_v", 1);
    let skid_d = b.reg("skid_d", out_d.width);
    let out_valid = b.reg("out_v", 1);
    b.assign(en.adv, b.e(skid_v).not());
    // The offered word (the skid's, else the pipeline's) stays for the next cycle.
    let kept = b.let_("kept", b.e(out_valid).and(b.e(io.m_ready).not()));
    // `pv` next cycle: it loads on `adv` (= `!skid_v`), else holds.
    let pv_next = b.e(skid_v).mux(b.e(pv), out_v.clone());
    b.always(vec![Stmt::if_else(
        b.e(io.rst),
        vec![
            Stmt::set(pv, Expr::f()),
            Stmt::set(skid_v, Expr::f()),
            Stmt::set(out_valid, Expr::f()),
        ],
        vec![
            Stmt::when(adv.clone(), vec![Stmt::set(pv, out_v)]),
            Stmt::set(skid_v, kept.clone()),
            Stmt::set(out_valid, kept.clone().or(pv_next)),
        ],
    )]);
    if let Some(ctl) = en.ctl {
        // `!skid_v` stored: a different D input, so synthesis does not merge the two.
        let room = b.reg("room_c", 1);
        b.assign(ctl, b.e(room));
        b.always(vec![Stmt::if_else(
            b.e(io.rst),
            vec![Stmt::set(room, Expr::t())],
            vec![Stmt::set(room, kept.not())],
        )]);
    }
    b.always(vec![Stmt::when(
        adv,
        vec![Stmt::set(skid_d, out_d.clone())],
    )]);
    b.assign(io.m_valid, b.e(out_valid));
    b.assign(io.m_data, b.e(skid_v).mux(b.e(skid_d), out_d));
}

/// Hold the word in the last pipeline registers until it is taken (`Handoff::Hold`): no skid
/// register, one cycle more per output pixel. `offer` is the registered `m_valid`, and the
/// enables are registers of their own, `adv_r` and its copy `adv_k` (`Enables`), always equal
/// to `!offer`: the stage advances when no word is offered, and in the cycle after a word was
/// taken. So an enable is a flip-flop's output with no gate between it and the stage's
/// registers; on the UP5K the gate that made it from `offer` sat on the worst path
/// (docs/benchmarks.md, "Critical paths"). Next cycle's enable is `!out_v` when advancing (a
/// new word, if any, is offered) and `m_ready` when offering (taken: advance). `m_ready` feeds
/// only the D inputs of `offer`, `adv_r` and `adv_k`; `adv` and `m_valid` are registers.
fn held_output(b: &mut ModuleBuilder, io: &Ports, en: &Enables, out_v: Expr, out_d: Expr) {
    let offer = b.reg("offer", 1);
    let adv_r = b.reg("adv_r", 1);
    b.assign(en.adv, b.e(adv_r));
    let adv_next = b.let_(
        "adv_next",
        b.e(adv_r).mux(out_v.clone().not(), b.e(io.m_ready)),
    );
    b.always(vec![Stmt::if_else(
        b.e(io.rst),
        vec![Stmt::set(offer, Expr::f()), Stmt::set(adv_r, Expr::t())],
        vec![
            Stmt::set(offer, adv_next.clone().not()),
            Stmt::set(adv_r, adv_next.clone()),
        ],
    )]);
    if let Some(ctl) = en.ctl {
        // The copy's next value from itself: the same value every cycle, but not the same
        // D input as `adv_r`'s, so synthesis does not merge the two flip-flops.
        let adv_k = b.reg("adv_k", 1);
        b.assign(ctl, b.e(adv_k));
        b.always(vec![Stmt::if_else(
            b.e(io.rst),
            vec![Stmt::set(adv_k, Expr::t())],
            vec![Stmt::set(
                adv_k,
                b.e(adv_k).mux(out_v.not(), b.e(io.m_ready)),
            )],
        )]);
    }
    b.assign(io.m_valid, b.e(offer));
    b.assign(io.m_data, out_d);
}
