//! The XNOR-popcount-accumulate datapath of a MAC window stage (conv, dense, classifier):
//! chunk select and padding, XNOR lanes, pop count, accumulate, then the registered output
//! stage (thresholds, or scores and a registered argmax tree). `lower` (`mod.rs`) calls
//! `MacCtx::datapath` with what the issue and read sides made (`MacIn`); this file reads only
//! the shared pieces (`spec.rs`, `counter.rs`, `schedule.rs`), never `mod.rs`.

use super::counter::Counter;
use super::gather::{gather_groups, word_end, GroupStep};
use super::schedule::Entry;
use super::spec::{max_taps, score_layout, MacOut};
use super::spram::{weight_store, LoadBus};
use crate::model::{BlockWeights, Direction, PadMode, Thresholds};
use crate::rtl::bank::{rom2, rom2_laid_out, Memories, RamFamily, RomLayout, READ_STAGES};
use crate::rtl::build::{delay, rom, select, sext, sig_of};
use crate::rtl::ebr;
use crate::rtl::netlist::{
    addr_width, bits_for, signed_bits_for, Expr, ExprKind, ModuleBuilder, Sig, Stmt,
};
use crate::rtl::popcount_tree::{popcount, popcount_width};

/// One MAC stage's weights and folding, as `window::lower` sees them.
pub(super) struct MacCtx<'a> {
    pub(super) wt: &'a BlockWeights,
    pub(super) pe: usize,
    pub(super) simd: usize,
    pub(super) chunks: usize,
    pub(super) kh: usize,
    pub(super) kw: usize,
    /// Kernel taps per step, `ty` rows x `tx` columns: the read word holds one word per tap
    /// and each lane XNORs `ty * tx * simd` bits.
    pub(super) ty: usize,
    pub(super) tx: usize,
    pub(super) pad_mode: PadMode,
    pub(super) pop_stages: u32,
    pub(super) ram: RamFamily,
    /// `Some((base, bus))`: the weight ROM is in SPRAM at image address `base`, loaded
    /// through `bus` (`spram.rs`).
    pub(super) spram: Option<(usize, LoadBus)>,
    /// The weight ROM is kept in logic (`LayerPlan::weights_in_logic`).
    pub(super) weights_in_logic: bool,
    pub(super) ecp5_cells: bool,
    /// `Some(lo)`: the read word holds only the 2^lo chunks that the high chunk bits picked
    /// one stage earlier (`window.rs`); the select here uses the low `lo` bits.
    pub(super) split_lo: Option<u32>,
    /// Words the output pixel is handed on in (`plan::words`): a word each time its PE
    /// groups finish, every out-block visited (the plan checks it).
    pub(super) out_words: usize,
}

/// What the datapath reads from the issue and read sides, aligned with the read word.
pub(super) struct MacIn<'a> {
    pub(super) adv: &'a Expr,
    pub(super) rst: Sig,
    pub(super) groups: &'a [(usize, usize)],
    pub(super) entries: &'a [Entry],
    /// Entry, weight-address and chunk counters of the issue side.
    pub(super) ent: &'a Counter,
    pub(super) wa: &'a Counter,
    pub(super) ch: &'a Counter,
    /// The read word (`rd2`) and its valid `v1`.
    pub(super) rd: Sig,
    pub(super) v1: Sig,
    /// First tap, last tap of an entry, last step of a pixel; the padding flag.
    pub(super) tf1: Expr,
    pub(super) tap_last: Expr,
    pub(super) pl1: Expr,
    pub(super) pad: Option<Expr>,
}

/// Stage 1 (aligned with the read word): the selected chunk (of every tap) and its flags.
struct Stage1 {
    x: Expr,
    pad1: Option<Expr>,
    first1: Expr,
    last1: Option<Expr>,
    pl1: Expr,
}

/// Stage 2: the XNOR lanes and the flags that travel with them. `counted`: the tap is not
/// padding (zero padding, one tap per step); `n_counted`: the bits counted in this step
/// (zero padding, several taps per step, whose padded taps' lanes are masked to 0).
struct Stage2 {
    xn: Vec<Sig>,
    v2: Sig,
    counted: Option<Expr>,
    n_counted: Option<Expr>,
    first2: Expr,
    last2: Option<Expr>,
    pl2: Expr,
}

/// The accumulators after the last accumulate, with the flags of the output stage.
struct Accumulated {
    gcnt: Option<Sig>,
    /// Cycles from stage 2 to the output stage's input.
    lat: u32,
    accs: Vec<Sig>,
    aw: u32,
    va: Expr,
    lasta: Option<Expr>,
    pla: Expr,
}

impl MacCtx<'_> {
    /// How this stage's tables are built.
    fn mems(&self) -> Memories {
        Memories {
            ram: self.ram,
            ecp5_cells: self.ecp5_cells,
        }
    }

    /// XNOR-popcount-accumulate datapath; returns (valid one stage ahead, data): the first is
    /// the input of the output-valid register that `window.rs` adds, the second comes from
    /// registers that advance only on `adv`, so it holds while the word waits.
    pub(super) fn datapath(&self, b: &mut ModuleBuilder, m: MacIn, out: &MacOut) -> (Expr, Expr) {
        let flags = self.entry_table(b, &m);
        let (wq, wsig, banked) = self.weight_rom(b, &m);
        let s1 = self.stage1(b, &m, flags);
        let (m, s1, wq, wsig) = if banked {
            self.bank_stage(b, m, s1, wq)
        } else {
            (m, s1, wq, wsig)
        };
        let s2 = self.xnor_lanes(b, &m, &s1, wq, wsig);
        let gcnt = self.group_counter(b, &m, s1);
        let acc = self.accumulate(b, &m, s2, gcnt);
        match out {
            MacOut::Threshold(th) => self.thresholds(b, &m, acc, th),
            MacOut::Scores(bias) => self.scores(b, &m, acc, bias),
        }
    }

    /// Several visited groups: the group's last entry is flagged, and a group counter runs.
    fn need_last(m: &MacIn) -> bool {
        m.groups.len() > 1
    }

    /// Entry table: chunk base (when several in-blocks), first/last flags (when a group has
    /// several kept in-blocks). Returns (in-block, first entry, last entry) of the read step.
    fn entry_table(&self, b: &mut ModuleBuilder, m: &MacIn) -> (Option<Expr>, Expr, Expr) {
        let wt = self.wt;
        let multi_ib = wt.in_blocks > 1;
        let multi_ent = m.entries.iter().any(|e| !(e.first && e.last));
        let need_last = Self::need_last(m);
        let qw = bits_for(wt.in_blocks as u64 - 1);
        let mut ent_words = Vec::new();
        for e in m.entries {
            let mut word = Vec::new();
            if multi_ib {
                word.extend((0..qw).map(|i| (e.ib >> i) & 1 == 1));
            }
            if multi_ent {
                word.push(e.first);
                if need_last {
                    word.push(e.last);
                }
            }
            ent_words.push(word);
        }
        if !(multi_ib || multi_ent) {
            return (None, Expr::t(), Expr::t());
        }
        let q = rom2(b, "etab", ent_words, m.ent.sig, m.adv, self.mems());
        let qsig = b.let_("etab_w", q);
        let qs = sig_of(b, &qsig);
        let qb = multi_ib.then(|| b.slice(qs, 0, qw));
        let off = if multi_ib { qw } else { 0 };
        let f = if multi_ent { b.bit(qs, off) } else { Expr::t() };
        let l = if multi_ent && need_last {
            b.bit(qs, off + 1)
        } else {
            Expr::t()
        };
        (qb, f, l)
    }

    /// Weight ROM: one PE x (taps x SIMD) word per issue step, kept tiles only; a lane's
    /// bits are tap-major, as the read word. Returns the word, that word's signal when it is
    /// one, and whether it is an ECP5 block-RAM bank select (`bank_stage`).
    fn weight_rom(&self, b: &mut ModuleBuilder, m: &MacIn) -> (Expr, Option<Sig>, bool) {
        let wt = self.wt;
        let (pe, simd, ty, tx) = (self.pe, self.simd, self.ty, self.tx);
        let (ipb, opb) = (wt.in_per_block(), wt.out_per_block());
        let mut wwords = Vec::new();
        for e in m.entries {
            let (ob, g) = m.groups[e.group];
            for ky in (0..self.kh).step_by(ty) {
                for kx in (0..self.kw).step_by(tx) {
                    for c in 0..self.chunks {
                        let mut word = Vec::with_capacity(pe * ty * tx * simd);
                        for lane in 0..pe {
                            let o = ob * opb + g * pe + lane;
                            for (a, k) in (0..ty).flat_map(|a| (0..tx).map(move |k| (a, k))) {
                                for si in 0..simd {
                                    let ci = e.ib * ipb + c * simd + si;
                                    let wb = wt.weight(o, ky + a, kx + k, ci);
                                    word.push(wb.expect("kept tile"));
                                }
                            }
                        }
                        wwords.push(word);
                    }
                }
            }
        }
        let first = b.mem_count();
        let (wq, banked) = match self.spram {
            Some((base, bus)) => {
                let addr = m.wa.sig.expect("an SPRAM store has several words");
                let q = weight_store(b, "wrom", wwords, addr, m.adv, base, bus);
                (q, false)
            }
            None => {
                let (width, depth) = (wwords[0].len() as u32, wwords.len());
                let layout = RomLayout::weights(width, depth, self.ram, self.weights_in_logic);
                let banked = self.ecp5_cells && layout.banked && !layout.logic;
                let q = rom2_laid_out(b, "wrom", wwords, m.wa.sig, m.adv, self.mems(), layout);
                (q, banked)
            }
        };
        b.mark_weights(first);
        let wsig = if wq.const_value().is_none() && matches!(wq.kind, ExprKind::Sig(_)) {
            Some(sig_of(b, &wq))
        } else {
            None
        };
        (wq, wsig, banked)
    }

    /// One more pipeline stage between stage 1 and the XNOR lanes, for a weight ROM cut into
    /// ECP5 block-RAM banks: the bank select (a mux over blocks spread across the chip) and
    /// the chunk select each end in a register, instead of running on through the XNOR into
    /// its register. On fashion-default at 125 MHz that path (block RAM -> bank select ->
    /// XNOR) was the worst of two nextpnr seeds in three (docs/benchmarks.md, "Critical
    /// paths"). Everything of stage 1 moves one stage on together, on `adv`, so only the
    /// latency grows; cycles per frame do not change.
    fn bank_stage<'a>(
        &self,
        b: &mut ModuleBuilder,
        m: MacIn<'a>,
        s1: Stage1,
        wq: Expr,
    ) -> (MacIn<'a>, Stage1, Expr, Option<Sig>) {
        let adv = m.adv;
        let wr = delay(b, wq, 1, adv, "wbank");
        let wr = sig_of(b, &wr);
        let v1 = b.reg("v1b", 1);
        b.always(vec![Stmt::if_else(
            b.e(m.rst),
            vec![Stmt::set(v1, Expr::f())],
            vec![Stmt::when(adv.clone(), vec![Stmt::set(v1, b.e(m.v1))])],
        )]);
        let s1 = Stage1 {
            x: delay(b, s1.x, 1, adv, "xb"),
            pad1: s1.pad1.map(|p| delay(b, p, 1, adv, "padb")),
            first1: delay(b, s1.first1, 1, adv, "firstb"),
            last1: s1.last1.map(|l| delay(b, l, 1, adv, "lastb")),
            pl1: delay(b, s1.pl1, 1, adv, "pixb"),
        };
        (MacIn { v1, ..m }, s1, b.e(wr), Some(wr))
    }

    /// Stage 1: chunk select (two mux trees, no adder: the in-block from the entry table,
    /// then the chunk in it), padding, and the entry flags.
    fn stage1(
        &self,
        b: &mut ModuleBuilder,
        m: &MacIn,
        (qb1, fog1, log1): (Option<Expr>, Expr, Expr),
    ) -> Stage1 {
        if self.ty * self.tx > 1 {
            return self.stage1_taps(b, m, (qb1, fog1, log1));
        }
        let wt = self.wt;
        let simd = self.simd;
        let ipb = wt.in_per_block();
        let nq = wt.in_channels / simd;
        let (adv, rd) = (m.adv, m.rd);
        // With a split select only the low bits are still needed here, none when the read
        // word is one chunk (a narrow ring of `simd`-bit groups).
        let ch1 = m.ch.sig.filter(|_| self.split_lo != Some(0)).map(|s| {
            let e = match self.split_lo {
                Some(lo) => b.slice(s, 0, lo),
                None => b.e(s),
            };
            let d = delay(b, e, READ_STAGES, adv, "ch");
            sig_of(b, &d)
        });
        let x = if nq == 1 {
            b.e(rd)
        } else {
            let blk = match qb1 {
                Some(qb) => {
                    let ibv = b.let_("ib1", qb);
                    let ibs = sig_of(b, &ibv);
                    let words: Vec<Expr> = (0..wt.in_blocks)
                        .map(|i| b.slice(rd, (i * ipb) as u32, ipb as u32))
                        .collect();
                    let v = b.let_("blk", select(b, &words, ibs));
                    sig_of(b, &v)
                }
                None => rd,
            };
            let chunk = |i: usize| b.slice(blk, (i * simd) as u32, simd as u32);
            match (ch1, self.split_lo) {
                (Some(c1), Some(lo)) => {
                    let words: Vec<Expr> = (0..1usize << lo).map(chunk).collect();
                    assert_eq!(c1.width, lo);
                    select(b, &words, c1)
                }
                (Some(c1), None) => {
                    let words: Vec<Expr> = (0..self.chunks).map(chunk).collect();
                    select(b, &words, c1)
                }
                (None, _) => b.e(blk),
            }
        };
        let pad1 = m.pad.clone().map(|p| delay(b, p, READ_STAGES, adv, "pad"));
        let x = match &pad1 {
            Some(p) => self.fill_padding(p.clone(), x),
            None => x,
        };
        let x = b.let_("x", x);
        self.stage1_flags(b, m, x, pad1, (fog1, log1))
    }

    /// A padded tap's chunk as the pad mode says (zero padding is left to the count).
    fn fill_padding(&self, pad: Expr, x: Expr) -> Expr {
        let simd = self.simd as u32;
        match self.pad_mode {
            PadMode::MinusOne => pad.mux(Expr::zero(simd), x),
            PadMode::PlusOne => pad.mux(Expr::ones(simd), x),
            PadMode::Zero => x,
        }
    }

    /// Stage 1 around its chunk word `x`: the entry flags aligned with it.
    fn stage1_flags(
        &self,
        b: &mut ModuleBuilder,
        m: &MacIn,
        x: Expr,
        pad1: Option<Expr>,
        (fog1, log1): (Expr, Expr),
    ) -> Stage1 {
        let first1 = fog1.and(m.tf1.clone());
        let last1 = Self::need_last(m).then(|| {
            let tl1 = delay(b, m.tap_last.clone(), READ_STAGES, m.adv, "tl");
            b.let_("last1", log1.and(tl1))
        });
        let pl1 = b.let_("pl1", m.pl1.clone());
        Stage1 {
            x,
            pad1,
            first1,
            last1,
            pl1,
        }
    }

    /// Stage 1 of a step of several taps: per tap, the same chunk select as one tap takes, on
    /// that tap's word, and its padding; the chunks side by side (tap j at bits j*simd).
    fn stage1_taps(
        &self,
        b: &mut ModuleBuilder,
        m: &MacIn,
        (qb1, fog1, log1): (Option<Expr>, Expr, Expr),
    ) -> Stage1 {
        let wt = self.wt;
        let (simd, c) = (self.simd, wt.in_channels);
        let taps = self.ty * self.tx;
        let ipb = wt.in_per_block();
        let (adv, rd) = (m.adv, m.rd);
        let ch1 = m.ch.sig.map(|s| {
            let d = delay(b, b.e(s), READ_STAGES, adv, "ch");
            sig_of(b, &d)
        });
        let ib1 = qb1.map(|qb| {
            let v = b.let_("ib1", qb);
            sig_of(b, &v)
        });
        let pad1 = m.pad.clone().map(|p| {
            let d = delay(b, p, READ_STAGES, adv, "pad");
            sig_of(b, &d)
        });
        let mut xs = Vec::new();
        for j in 0..taps {
            let word = b.let_(&format!("tap{j}"), b.slice(rd, (j * c) as u32, c as u32));
            let word = sig_of(b, &word);
            let blk = match ib1 {
                Some(ibs) => {
                    let words: Vec<Expr> = (0..wt.in_blocks)
                        .map(|i| b.slice(word, (i * ipb) as u32, ipb as u32))
                        .collect();
                    let v = b.let_(&format!("blk{j}"), select(b, &words, ibs));
                    sig_of(b, &v)
                }
                None => word,
            };
            let x = match ch1 {
                Some(c1) => {
                    let words: Vec<Expr> = (0..self.chunks)
                        .map(|i| b.slice(blk, (i * simd) as u32, simd as u32))
                        .collect();
                    select(b, &words, c1)
                }
                None => b.slice(blk, 0, simd as u32),
            };
            let x = match pad1 {
                Some(p) => self.fill_padding(b.bit(p, j as u32), x),
                None => x,
            };
            xs.push(x);
        }
        let x = b.let_("x", Expr::cat_lsb(xs));
        self.stage1_flags(b, m, x, pad1.map(|p| b.e(p)), (fog1, log1))
    }

    /// Stage 2: XNOR lanes registered, with the valid and flags delayed alongside.
    fn xnor_lanes(
        &self,
        b: &mut ModuleBuilder,
        m: &MacIn,
        s1: &Stage1,
        wq: Expr,
        wsig: Option<Sig>,
    ) -> Stage2 {
        let (adv, simd) = (m.adv, self.simd);
        let taps = self.ty * self.tx;
        let lw = taps * simd;
        // Several taps with zero padding: a padded tap's lanes are masked to 0 and its bits
        // are left out of the count.
        let masked = match (&s1.pad1, self.pad_mode) {
            (Some(p), PadMode::Zero) if taps > 1 => {
                let ps = sig_of(b, p);
                let mask = (0..taps)
                    .map(|j| {
                        b.bit(ps, j as u32)
                            .mux(Expr::zero(simd as u32), Expr::ones(simd as u32))
                    })
                    .collect();
                Some((ps, b.let_("tmask", Expr::cat_lsb(mask))))
            }
            _ => None,
        };
        let mut xn = Vec::new();
        for lane in 0..self.pe {
            let wl = match wsig {
                Some(ws) => b.slice(ws, (lane * lw) as u32, lw as u32),
                None => b.slice_of(wq.clone(), (lane * lw) as u32, lw as u32, "wconst"),
            };
            let r = b.reg(&format!("xn{lane}"), lw as u32);
            let bits = s1.x.clone().xor(wl).not();
            let bits = match &masked {
                Some((_, mask)) => bits.and(mask.clone()),
                None => bits,
            };
            b.always(vec![Stmt::when(adv.clone(), vec![Stmt::set(r, bits)])]);
            xn.push(r);
        }
        let n_counted = masked.map(|(ps, _)| {
            let nw = bits_for(lw as u64);
            let sum = (0..taps)
                .map(|j| {
                    b.bit(ps, j as u32)
                        .mux(Expr::zero(nw), Expr::lit(simd as u64, nw))
                })
                .reduce(|a, e| a.add(e))
                .expect("several taps");
            delay(b, sum, 1, adv, "ncnt")
        });
        let v2 = b.reg("v2", 1);
        b.always(vec![Stmt::if_else(
            b.e(m.rst),
            vec![Stmt::set(v2, Expr::f())],
            vec![Stmt::when(adv.clone(), vec![Stmt::set(v2, b.e(m.v1))])],
        )]);
        let counted = match (&s1.pad1, self.pad_mode) {
            (Some(p), PadMode::Zero) if taps == 1 => Some(delay(b, p.clone().not(), 1, adv, "cnt")),
            _ => None,
        };
        let first2 = delay(b, s1.first1.clone(), 1, adv, "first");
        let last2 = s1.last1.clone().map(|l| delay(b, l, 1, adv, "last"));
        let pl2 = delay(b, s1.pl1.clone(), 1, adv, "pix");
        Stage2 {
            xn,
            v2,
            counted,
            n_counted,
            first2,
            last2,
            pl2,
        }
    }

    /// Group counter at stage 1: addresses the per-group constants (thresholds or biases).
    fn group_counter(&self, b: &mut ModuleBuilder, m: &MacIn, s1: Stage1) -> Option<Sig> {
        let gv = m.groups.len();
        let g = (gv > 1).then(|| b.reg("gcnt", addr_width(gv)))?;
        let v1_last = b.e(m.v1).and(s1.last1.unwrap());
        b.always(vec![Stmt::if_else(
            b.e(m.rst),
            vec![Stmt::set(g, Expr::zero(g.width))],
            vec![Stmt::when(
                m.adv.clone().and(v1_last),
                vec![Stmt::if_else(
                    s1.pl1,
                    vec![Stmt::set(g, Expr::zero(g.width))],
                    vec![Stmt::set(g, b.e(g).add(Expr::lit(1, g.width)))],
                )],
            )],
        )]);
        Some(g)
    }

    /// Pop counts, then accumulate a = sum (2p - N); then the flags of the output stage,
    /// which computes thresholds / scores from the registered accumulators one cycle after
    /// the last accumulate, so no adder feeds a comparator directly.
    fn accumulate(
        &self,
        b: &mut ModuleBuilder,
        m: &MacIn,
        s2: Stage2,
        gcnt: Option<Sig>,
    ) -> Accumulated {
        let (adv, rst) = (m.adv, m.rst);
        // Bits per lane per step.
        let simd = self.ty * self.tx * self.simd;
        let mut pops = Vec::new();
        let mut lat = 0;
        for (lane, &r) in s2.xn.iter().enumerate() {
            let (pc, l) = popcount(b, b.e(r), self.pop_stages, adv, &format!("pop{lane}"));
            lat = l;
            pops.push(pc);
        }
        let va = delay_valid(b, b.e(s2.v2), lat, adv, rst, "va");
        let counted = s2.counted.map(|c| delay(b, c, lat, adv, "cnt"));
        let n_counted = s2.n_counted.map(|c| delay(b, c, lat, adv, "ncnt"));
        let firsta = delay(b, s2.first2, lat, adv, "first");
        let lasta = s2.last2.map(|l| delay(b, l, lat, adv, "last"));
        let pla = delay(b, s2.pl2, lat, adv, "pix");
        let n_max = max_taps(self.wt);
        let pw = popcount_width(simd as u32);
        let aw = signed_bits_for(-(n_max as i64), n_max as i64).max(pw + 1);
        let mut accs = Vec::new();
        for (lane, pc) in pops.into_iter().enumerate() {
            let acc = b.reg(&format!("acc{lane}"), aw);
            let two_p = Expr::cat_lsb(vec![Expr::f(), pc.zext(aw - 1)]);
            let contrib = match &n_counted {
                Some(n) => two_p.sub(n.clone().zext(aw)),
                None => two_p.sub(Expr::lit(simd as u64, aw)),
            };
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
            accs.push(acc);
        }
        let va = delay_valid(b, va, 1, adv, rst, "vo");
        let lasta = lasta.map(|l| delay(b, l, 1, adv, "lasto"));
        let pla = delay(b, pla, 1, adv, "pixo");
        Accumulated {
            gcnt,
            lat: lat + 1,
            accs,
            aw,
            va,
            lasta,
            pla,
        }
    }

    /// Per-group constant table (thresholds / biases), aligned with the accumulate stage, as
    /// the wire `<name>_w`: one word per visited group, lane 0 first, each lane's bits
    /// `lane_bits(o)` for its output channel `o`.
    fn group_table(
        &self,
        b: &mut ModuleBuilder,
        m: &MacIn,
        acc: &Accumulated,
        name: &str,
        lane_bits: impl Fn(usize) -> Vec<bool>,
    ) -> Sig {
        let opb = self.wt.out_per_block();
        let words: Vec<Vec<bool>> = m
            .groups
            .iter()
            .map(|&(ob, g)| {
                (0..self.pe)
                    .flat_map(|lane| lane_bits(ob * opb + g * self.pe + lane))
                    .collect()
            })
            .collect();
        let (width, depth) = (words[0].len() as u32, words.len());
        // On the ECP5 a table in block RAM is a DP16KD cell with its output register, which
        // takes the first two of the `lat + 1` stages: Yosys 0.23 infers the block without
        // it, and its 5.6 ns clock-to-out then limited fashion-default at 125 MHz (fc1's
        // thresholds, docs/benchmarks.md "Critical paths").
        if self.ecp5_cells && acc.lat >= 2 && depth > 1 && ebr::in_block_ram(width, depth, true) {
            let g = acc
                .gcnt
                .expect("a table of several words has a group counter");
            let q = ebr::rom(b, name, &words, b.e(g), m.adv);
            let q = delay(b, q, acc.lat - 1, m.adv, name);
            let q = b.let_(&format!("{name}_w"), q);
            return sig_of(b, &q);
        }
        let q = rom(b, name, words, acc.gcnt, m.adv);
        let q = if q.const_value().is_some() || !matches!(q.kind, ExprKind::Sig(_)) {
            q
        } else {
            delay(b, q, acc.lat, m.adv, name)
        };
        let q = b.let_(&format!("{name}_w"), q);
        sig_of(b, &q)
    }

    /// The valid and last-accumulation flags of the registered output word (`grp_*`): the
    /// valid takes a register `vq` when `registered`, the last flag always one (`lastq`).
    fn output_flags(
        b: &mut ModuleBuilder,
        m: &MacIn,
        va: Expr,
        lasta: Option<Expr>,
        registered: bool,
    ) -> (Expr, Option<Expr>) {
        let va = if registered {
            delay_valid(b, va, 1, m.adv, m.rst, "vq")
        } else {
            va
        };
        let lasta = lasta.map(|l| delay(b, l, 1, m.adv, "lastq"));
        (va, lasta)
    }

    /// Output stage of a thresholded layer: one comparator per lane, the groups gathered,
    /// constants for empty out-blocks.
    fn thresholds(
        &self,
        b: &mut ModuleBuilder,
        m: &MacIn,
        acc: Accumulated,
        th: &Thresholds,
    ) -> (Expr, Expr) {
        let (adv, groups) = (m.adv, m.groups);
        let (wt, pe) = (self.wt, self.pe);
        let opb = wt.out_per_block();
        let n = max_taps(wt) as i64;
        let tw = acc.aw + 1;
        let tqs = self.group_table(b, m, &acc, "ttab", |o| {
            // One comparator per lane: `a <= t` is `!(a >= t + 1)`.
            let down = th.directions[o] == Direction::Down;
            let t = th.thresholds[o].clamp(-(n + 1), n + 1) + down as i64;
            // Stored offset binary (sign bit flipped): compared unsigned below.
            let t = t ^ (1i64 << (tw - 1));
            let mut bits: Vec<bool> = (0..tw).map(|i| (t >> i.min(63)) & 1 == 1).collect();
            bits.push(down);
            bits
        });
        let Accumulated {
            accs,
            va,
            lasta,
            pla,
            ..
        } = acc;
        let mut bits = Vec::new();
        for (lane, &a) in accs.iter().enumerate() {
            let base = lane as u32 * (tw + 1);
            let t = b.slice(tqs, base, tw);
            let down = b.bit(tqs, base + tw);
            bits.push(offset_binary(b, a, tw).ge(t).xor(down));
        }
        // Registered: the comparators feed a flip-flop, which is the output word.
        let new_bits = delay(b, Expr::cat_lsb(bits), 1, adv, "grp_bits");
        // The output valid is `window.rs`'s register; this is its input: the pixel's last
        // step, or with words, the last step of each word's last group.
        let per_word = groups.len() / self.out_words;
        let pv_in = match self.out_words {
            1 => va.clone().and(pla),
            _ => {
                assert_eq!(per_word * pe * self.out_words, wt.out_channels);
                let last = lasta.clone().expect("words of several groups");
                let word_end = word_end(b, (m.adv, m.rst), va.clone().and(last.clone()), per_word);
                va.clone().and(last).and(word_end)
            }
        };
        let (va, lasta) = Self::output_flags(b, m, va, lasta, groups.len() > 1);
        let step = GroupStep {
            adv,
            valid: &va,
            last: lasta,
        };
        let visited = gather_groups(b, "obits", (per_word, pe as u32), new_bits, step);
        let vis = b.let_("visited", visited);
        let vsig = sig_of(b, &vis);
        if self.out_words > 1 {
            return (pv_in, b.e(vsig));
        }
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
        (pv_in, Expr::cat_lsb(parts))
    }

    /// Output stage of the classifier: scores `a + bias`, then the argmax (serial or a tree).
    fn scores(
        &self,
        b: &mut ModuleBuilder,
        m: &MacIn,
        acc: Accumulated,
        bias: &[i64],
    ) -> (Expr, Expr) {
        let (adv, rst, groups) = (m.adv, m.rst, m.groups);
        let (wt, pe) = (self.wt, self.pe);
        let opb = wt.out_per_block();
        let (sw, cw) = score_layout(wt, bias);
        let bqs = self.group_table(b, m, &acc, "btab", |o| {
            (0..sw).map(|i| (bias[o] >> i.min(63)) & 1 == 1).collect()
        });
        let Accumulated {
            accs,
            aw,
            va,
            lasta,
            pla,
            ..
        } = acc;
        let mut sc = Vec::new();
        for (lane, &a) in accs.iter().enumerate() {
            let bi = b.slice(bqs, lane as u32 * sw, sw);
            // |a| <= N fits the score width; a lane of many taps may count in a wider
            // accumulator (its pop count's width), whose low bits then hold a exactly.
            let a = if aw > sw {
                b.slice(a, 0, sw)
            } else {
                sext(b, a, sw)
            };
            sc.push(a.add(bi));
        }
        // Registered: the bias adders feed a flip-flop, not the argmax.
        let new_sc = delay(b, Expr::cat_lsb(sc), 1, adv, "grp_scores");
        // Valid of the scores register, one stage ahead (the input of `vq & pixq`).
        let vq_in = va.clone().and(pla.clone());
        let k = wt.out_channels;
        let (va, lasta) = Self::output_flags(b, m, va, lasta, groups.len() > 1 || k > 1);
        let pla = if k > 1 {
            delay(b, pla, 1, adv, "pixq")
        } else {
            pla
        };
        let gw = (pe as u32) * sw;
        // One lane and every out-block visited: the scores come one class at a time in class
        // order, so the argmax is a running compare (`argmax_serial`), not a tree.
        let serial =
            pe == 1 && groups.len() > 1 && (0..wt.out_blocks).all(|ob| wt.kept_in_blocks(ob) > 0);
        let cur = serial.then(|| {
            let e = b.let_("cur_score", new_sc.clone());
            sig_of(b, &e)
        });
        let take = lasta.clone().map(|l| adv.clone().and(va.clone()).and(l));
        let step = GroupStep {
            adv,
            valid: &va,
            last: lasta,
        };
        let visited = gather_groups(b, "oscores", (groups.len(), gw), new_sc, step);
        if let (Some(cur), Some(take)) = (cur, take) {
            let cls = argmax_serial(b, rst, cur, cw, take, pla);
            let word = Expr::cat_lsb(vec![cls, visited]);
            if !self.ecp5_cells {
                return (vq_in, word);
            }
            // On ECP5 builds the word takes one more pipeline register, so the running compare
            // (a carry chain and the class mux) ends in a flip-flop instead of running on into
            // the consumer: at 125 MHz, `amx_best` through the board top's result register
            // was the worst path of two seeds in three (16 logic steps, docs/benchmarks.md).
            // Latency only.
            let word = delay(b, word, 1, adv, "amx_out");
            let valid = delay_valid(b, vq_in, 1, adv, rst, "amx_v");
            return (valid, word);
        }
        let vis = b.let_("visited", visited);
        let vsig = sig_of(b, &vis);
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
        let alls = sig_of(b, &all);
        // Argmax, ties to the lowest index, as a tree of registered levels: each pair keeps
        // the lower-index side unless the higher one is strictly greater. The scores word
        // travels with the tree so the result beat stays whole.
        let mut cands: Vec<(Expr, Option<Expr>)> = (0..k)
            .map(|i| {
                (
                    Expr::lit(i as u64, cw),
                    Some(b.slice(alls, i as u32 * sw, sw)),
                )
            })
            .collect();
        // `valid` is the input of the next valid register; the last one is `window.rs`'s.
        let mut valid = if k > 1 { va.and(pla) } else { vq_in };
        let mut word = b.e(alls);
        let mut lvl = 0;
        while cands.len() > 1 {
            let fin = cands.len() <= 2;
            let mut next = Vec::new();
            for (j, pair) in cands.chunks(2).enumerate() {
                let (i, s) = if pair.len() == 2 {
                    let (ia, sa) = (&pair[0].0, pair[0].1.clone().unwrap());
                    let (ib, sb) = (&pair[1].0, pair[1].1.clone().unwrap());
                    let (ua, ub) = (flip_msb(b, sa.clone()), flip_msb(b, sb.clone()));
                    let gt = b.let_(&format!("amx{lvl}_gt{j}"), ub.gt(ua));
                    let s = (!fin).then(|| gt.clone().mux(sb, sa));
                    (gt.mux(ib.clone(), ia.clone()), s)
                } else {
                    pair[0].clone()
                };
                let i = delay(b, i, 1, adv, &format!("amx{lvl}_i{j}"));
                let s = s.map(|s| delay(b, s, 1, adv, &format!("amx{lvl}_s{j}")));
                next.push((i, s));
            }
            cands = next;
            if !fin {
                valid = delay_valid(b, valid, 1, adv, rst, &format!("amx{lvl}_v"));
            }
            word = delay(b, word, 1, adv, &format!("amx{lvl}_w"));
            lvl += 1;
        }
        let idx = cands.pop().unwrap().0;
        (valid, Expr::cat_lsb(vec![idx, word]))
    }
}

/// Running argmax over scores that arrive one class at a time, in class order: `cur` is the
/// score of class `agrp` while `take` (its last accumulation) is high, `pix_end` marks the
/// frame's last class. Keeps the lower index unless a later score is strictly greater, so
/// ties go to the lowest index. Returns the class of the best score including `cur`, from
/// registers and `cur` only, so it holds while the output word waits.
fn argmax_serial(
    b: &mut ModuleBuilder,
    rst: Sig,
    cur: Sig,
    cw: u32,
    take: Expr,
    pix_end: Expr,
) -> Expr {
    let sw = cur.width;
    let best = b.reg("amx_best", sw);
    let best_i = b.reg("amx_best_i", cw);
    let agrp = b.reg("amx_class", cw);
    let first = b.e(agrp).eq(Expr::zero(cw));
    let (ce, be) = (b.e(cur), b.e(best));
    let (uc, ub) = (flip_msb(b, ce), flip_msb(b, be));
    let gt = b.let_("amx_gt", first.or(uc.gt(ub)));
    b.always(vec![Stmt::if_else(
        b.e(rst),
        vec![Stmt::set(agrp, Expr::zero(cw))],
        vec![Stmt::when(
            take.clone(),
            vec![Stmt::if_else(
                pix_end,
                vec![Stmt::set(agrp, Expr::zero(cw))],
                vec![Stmt::set(agrp, b.e(agrp).add(Expr::lit(1, cw)))],
            )],
        )],
    )]);
    b.always(vec![Stmt::when(
        take.and(gt.clone()),
        vec![Stmt::set(best, b.e(cur)), Stmt::set(best_i, b.e(agrp))],
    )]);
    b.let_("amx_cls", gt.mux(b.e(agrp), b.e(best_i)))
}

/// A valid expression delayed `n` stages (reset to 0), registers named from `name`.
fn delay_valid(b: &mut ModuleBuilder, v: Expr, n: u32, adv: &Expr, rst: Sig, name: &str) -> Expr {
    let mut cur = v;
    for i in 0..n {
        let r = b.reg(&b.fresh(&format!("{name}{i}")), 1);
        b.always(vec![Stmt::if_else(
            b.e(rst),
            vec![Stmt::set(r, Expr::f())],
            vec![Stmt::when(adv.clone(), vec![Stmt::set(r, cur)])],
        )]);
        cur = b.e(r);
    }
    cur
}

/// Signal `s` sign-extended to `w` bits, in offset binary (sign bit flipped), so a signed
/// comparison becomes an unsigned one.
fn offset_binary(b: &ModuleBuilder, s: Sig, w: u32) -> Expr {
    assert!(w >= s.width);
    let msb = b.bit(s, s.width - 1);
    let mut parts = Vec::new();
    if s.width > 1 {
        parts.push(b.slice(s, 0, s.width - 1));
    }
    for _ in s.width..w {
        parts.push(msb.clone());
    }
    parts.push(msb.not());
    Expr::cat_lsb(parts)
}

/// A signed expression in offset binary (sign bit flipped).
fn flip_msb(b: &mut ModuleBuilder, e: Expr) -> Expr {
    let w = e.width;
    let s = match e.kind {
        ExprKind::Sig(_) => sig_of(b, &e),
        _ => {
            let name = b.fresh("amx_in");
            let v = b.let_(&name, e);
            sig_of(b, &v)
        }
    };
    if w == 1 {
        return b.e(s).not();
    }
    Expr::cat_lsb(vec![b.slice(s, 0, w - 1), b.bit(s, w - 1).not()])
}
