//! The read side of a window stage: the padding test, the line-buffer read address, and the
//! two read stages (`READ_STAGES`): the memory's read register `rd`, then `rd2` in the
//! fabric, so nothing but a flip-flop follows a block RAM's slow clock-to-out.
//!
//! A wide chunk select (a dense or classifier layer reading one SIMD chunk of hundreds of
//! channels) is split over the two stages when the line buffer is small enough to be
//! registers or LUT RAM (then `rd` is a fabric register, not a block RAM's output): the high
//! chunk bits pick a group of chunks, the low ones pick in it after `rd2`. With at most
//! `NARROW_WORDS` words (a 1x1 input: the slot mux is one level) the group is picked before
//! `rd` already, so neither read register holds the whole word; on iCE40 that ring is stored
//! narrow (`line_buffer.rs`), and the group is picked by the read address instead of a mux.
//!
//! A step of several kernel taps (`ty` rows x `tx` columns) reads line-buffer copy j at tap
//! j's slot and column; the read registers hold the taps' words side by side (tap j at bits
//! j*c), and each tap has its own padding flag, tested against constants shifted by the tap's
//! offset so no adder sits before the comparators. Such a step never splits its chunk select.

use super::issue::slot_plus;
use super::issue::Issue;
use super::line_buffer::{addr_of, LineBuffer};
use super::{Geometry, WindowOp, WindowSpec};
use crate::plan::cost::ring::{self, NARROW_WORDS};
use crate::rtl::build::{delay, ge_const, lt_const, select, sig_of};
use crate::rtl::ebr;
use crate::rtl::netlist::{Expr, ModuleBuilder, Sig, Stmt};

/// The word the datapath reads (`rd2`: one word per tap of the step), the padding flags of its
/// taps (bit j for tap j), and how the chunk select was split.
pub(super) struct ReadWord {
    pub(super) rd: Sig,
    pub(super) pad: Option<Expr>,
    /// `Some(lo)`: `rd` holds only the 2^lo chunks the high chunk bits picked.
    pub(super) split_lo: Option<u32>,
}

/// What the read side reads from the rest of the stage.
struct Side<'a> {
    spec: &'a WindowSpec<'a>,
    g: &'a Geometry,
    lb: &'a LineBuffer,
    iss: &'a Issue,
}

impl ReadWord {
    pub(super) fn build(
        b: &mut ModuleBuilder,
        spec: &WindowSpec,
        g: &Geometry,
        lb: &LineBuffer,
        iss: &Issue,
    ) -> ReadWord {
        let side = Side { spec, g, lb, iss };
        let steps = &iss.ctl.steps;
        match steps.ty * steps.tx {
            1 => Self::build_one(b, &side),
            _ => Self::build_taps(b, &side),
        }
    }

    /// The read side of a step of one kernel tap.
    fn build_one(b: &mut ModuleBuilder, side: &Side) -> ReadWord {
        let Side { spec, g, lb, iss } = *side;
        let (h, w, c, p, r) = (g.h, g.w, g.c, g.p, g.r);
        let (ctl, pos) = (&iss.ctl, &iss.pos);
        let (chunks, simd) = (ctl.steps.chunks, ctl.steps.simd);
        let adv = &ctl.adv;
        let pad = pos.poss.map(|(_, xpos, _, ypos)| {
            let inside = |pos: Sig, extent: usize| {
                ge_const(b.e(pos), p as u64).and(lt_const(b.e(pos), (extent + p) as u64))
            };
            let e = inside(ypos, h).and(inside(xpos, w)).not();
            b.let_("pad", e)
        });
        let raddr = b.let_(
            "raddr",
            addr_of(b.e(pos.yslot), pos.cols.map(|(_, xcol)| b.e(xcol))),
        );
        let words = r * lb.w2;
        // A MAC stage's narrow ring delivers a group of 2^lo chunks, as a split select does.
        let split_lo = match (&spec.op, lb.narrow) {
            (WindowOp::Mac { .. }, Some(n)) => Some(n.lo),
            _ => split_lo(spec, words),
        };
        // A narrow ring is addressed by the group too: the high chunk bits pick it (a
        // max-pool's: the whole chunk counter, which counts its groups).
        let raddr = match (lb.narrow, split_lo, ctl.ch.sig) {
            (Some(n), Some(lo), Some(chs)) => {
                // The groups of a pixel are fewer than 2^(width - lo), so the group index is
                // the low `sub_bits` of the high chunk bits.
                assert!(n.sub_bits <= chs.width - lo);
                let hi = b.slice(chs, lo, n.sub_bits);
                b.let_("raddr_sub", Expr::cat_lsb(vec![hi, raddr.clone()]))
            }
            (Some(n), None, Some(chs)) => {
                assert_eq!(n.sub_bits, chs.width, "a pool counts its groups");
                b.let_("raddr_sub", Expr::cat_lsb(vec![b.e(chs), raddr.clone()]))
            }
            _ => raddr,
        };
        if lb.cells {
            assert!(
                split_lo.is_none() || lb.narrow.is_some(),
                "a split chunk select keeps its ring in fabric"
            );
            let word = cell_read(b, lb, 0, raddr, adv);
            let rd = b.let_("rd2", word);
            return ReadWord {
                rd: sig_of(b, &rd),
                pad,
                split_lo,
            };
        }
        // The group is picked before `rd`: by the address of a narrow ring, or by a mux.
        let narrow = lb.narrow.is_some() || (split_lo.is_some() && words <= NARROW_WORDS);
        let group = ChunkGroups { chunks, simd, c };
        let lb_read = b.read_checked(
            lb.lbufs[0],
            raddr.clone(),
            spec.rw_poison,
            lb.mem_wr.clone(),
            lb.mem_waddr.clone(),
        );
        let rd_word = match (narrow, split_lo, ctl.ch.sig) {
            _ if lb.narrow.is_some() => lb_read,
            (true, Some(lo), Some(chs)) => {
                let word = b.let_("lb_word", lb_read);
                let ws = sig_of(b, &word);
                group.pick(b, ws, lo, chs, None)
            }
            _ => lb_read,
        };
        let rd = b.reg("rd", rd_word.width);
        b.always(vec![Stmt::when(adv.clone(), vec![Stmt::set(rd, rd_word)])]);
        let rd2_word = match (narrow, split_lo, ctl.ch.sig) {
            (false, Some(lo), Some(chs)) => group.pick(b, rd, lo, chs, Some(adv)),
            _ => b.e(rd),
        };
        let rd2 = b.reg("rd2", rd2_word.width);
        b.always(vec![Stmt::when(
            adv.clone(),
            vec![Stmt::set(rd2, rd2_word)],
        )]);
        ReadWord {
            rd: rd2,
            pad,
            split_lo,
        }
    }

    /// The read side of a step of `ty` x `tx` taps: per tap its slot (`yslot` + row offset,
    /// mod r), column (`xcol` + column offset; the column counter wraps like the ring's
    /// columns) and padding flag, then both read registers over all the taps' words.
    fn build_taps(b: &mut ModuleBuilder, side: &Side) -> ReadWord {
        let Side { spec, g, lb, iss } = *side;
        let (h, w, p, r) = (g.h, g.w, g.p, g.r);
        let (ctl, pos) = (&iss.ctl, &iss.pos);
        let (ty, tx) = (ctl.steps.ty, ctl.steps.tx);
        let adv = &ctl.adv;
        let mut reads = Vec::new();
        let mut pads = Vec::new();
        for a in 0..ty {
            let slot = match a {
                0 => b.e(pos.yslot),
                a => b.let_(&format!("tslot{a}"), slot_plus(b, pos.yslot, a, r)),
            };
            for k in 0..tx {
                let j = a * tx + k;
                let col = pos.cols.map(|(_, xcol)| {
                    b.e(xcol)
                        .add(Expr::lit(k as u64 & ((1u64 << lb.cb) - 1), lb.cb))
                });
                let raddr = b.let_(&format!("raddr_t{j}"), addr_of(slot.clone(), col));
                reads.push(match lb.cells {
                    true => cell_read(b, lb, j, raddr, adv),
                    false => b.read_checked(
                        lb.lbufs[j],
                        raddr,
                        spec.rw_poison,
                        lb.wr.clone(),
                        lb.waddr.clone(),
                    ),
                });
                if let Some((_, xpos, _, ypos)) = pos.poss {
                    // Tap at (ypos + a, xpos + k) lies in the image: p <= pos + off < n + p.
                    let inside = |pos: Sig, off: usize, n: usize| {
                        ge_const(b.e(pos), p.saturating_sub(off) as u64)
                            .and(lt_const(b.e(pos), (n + p).saturating_sub(off) as u64))
                    };
                    pads.push(inside(ypos, a, h).and(inside(xpos, k, w)).not());
                }
            }
        }
        let pad = (!pads.is_empty()).then(|| b.let_("pad", Expr::cat_lsb(pads)));
        let word = Expr::cat_lsb(reads);
        let rd2 = if lb.cells {
            let rd = b.let_("rd2", word);
            sig_of(b, &rd)
        } else {
            let rd = b.reg("rd", word.width);
            b.always(vec![Stmt::when(adv.clone(), vec![Stmt::set(rd, word)])]);
            let rd2 = b.reg("rd2", rd.width);
            b.always(vec![Stmt::when(adv.clone(), vec![Stmt::set(rd2, b.e(rd))])]);
            rd2
        };
        ReadWord {
            rd: rd2,
            pad,
            split_lo: None,
        }
    }
}

/// `Some(lo)` when a one-tap stage splits its chunk select over the two read stages (see the
/// module doc and `plan::cost::ring::split_lo`).
pub(super) fn split_lo(spec: &WindowSpec, words: usize) -> Option<u32> {
    match &spec.op {
        WindowOp::Mac { w, simd, taps, .. } => ring::split_lo(w, *simd, *taps, words),
        _ => None,
    }
}

/// Ring copy `j` read at `raddr` when the rings are ECP5 cells: the word two `adv` cycles
/// later, from the cells' output registers, where `rd2` held it.
fn cell_read(b: &mut ModuleBuilder, lb: &LineBuffer, j: usize, raddr: Expr, adv: &Expr) -> Expr {
    let write = ebr::Write {
        we: lb.wr_en.clone(),
        addr: lb.mem_waddr.clone(),
        data: lb.wdata.clone(),
    };
    let name = match j {
        0 => "lbuf".to_string(),
        j => format!("lbuf_t{j}"),
    };
    ebr::ram(b, lb.lbufs[j], &name, write, raddr, adv)
}

/// Chunks of `simd` channels in a word of `c` channels.
struct ChunkGroups {
    chunks: usize,
    simd: usize,
    c: usize,
}

impl ChunkGroups {
    /// The group of 2^lo chunks of `word` that the high bits of the chunk counter `chs`
    /// pick: now (`early`, `adv` is `None`) or one stage later (delayed on `adv`).
    fn pick(
        &self,
        b: &mut ModuleBuilder,
        word: Sig,
        lo: u32,
        chs: Sig,
        adv: Option<&Expr>,
    ) -> Expr {
        let gw = self.simd << lo;
        let groups_n = self.chunks.div_ceil(1 << lo);
        let words: Vec<Expr> = (0..groups_n)
            .map(|g| {
                let base = g * gw;
                let have = gw.min(self.c - base);
                let part = b.slice(word, base as u32, have as u32);
                if have < gw {
                    Expr::cat_lsb(vec![part, Expr::zero((gw - have) as u32)])
                } else {
                    part
                }
            })
            .collect();
        let hi = b.slice(chs, lo, chs.width - lo);
        let hi = match adv {
            None => {
                let v = b.let_("ch_hi", hi);
                sig_of(b, &v)
            }
            Some(adv) => {
                let d = delay(b, hi, 1, adv, "ch_hi");
                sig_of(b, &d)
            }
        };
        select(b, &words, hi)
    }
}
