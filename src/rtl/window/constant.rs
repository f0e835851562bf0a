//! The stage of a fully pruned layer: a conv, dense or classifier layer whose mask keeps no
//! tile. Every sum is a = 0 with N = 0 (docs/model-format.md), so its output word is the same
//! at every position of every frame: per channel the activation of 0, or for the classifier
//! the scores `bias_k` and their argmax. The stage has no line buffer, no MAC and no weight
//! memory.
//!
//! What it keeps of a window stage is the stream timing, so the streams around it stay
//! aligned frame by frame (a residual may read it, and skip FIFOs are sized for window
//! stages): it counts complete input rows (`wrow`, the same bookkeeping as the line buffer,
//! with room for one frame ahead since nothing is stored), issues output pixels in raster
//! order, each once the rows its window would need have arrived (`row_slack::need_rows`;
//! the last pixel of a frame waits for the whole frame), and hands each word off through the
//! held output stage of a window stage (`handoff = "hold"`, whatever the plan's hand-off: a
//! stage this cheap never needs the skid register): one issue cycle plus the hand-off cycle
//! per output pixel, which is what `plan::layer_cost` counts. No consumer's ready reaches its
//! enables.

use super::counter::Counter;
use super::line_buffer::RowTable;
use super::row_slack::need_rows;
use super::{held_output, ports, score_layout, Enables, Geometry, Ports};
use crate::model::{LayerKind, Shape};
use crate::rtl::build::ge_const;
use crate::rtl::netlist::{bits_for, Expr, Module, ModuleBuilder, Sig, Stmt};

/// Geometry of a fully pruned layer's stage and its constant output word.
pub struct ConstantSpec {
    pub module: String,
    pub input: Shape,
    pub out_h: usize,
    pub out_w: usize,
    pub kh: usize,
    pub stride: usize,
    pub pad: usize,
    /// The output word, bit 0 first ([`constant_word`]).
    pub word: Vec<bool>,
}

/// The output word of a fully pruned layer, bit 0 first: channel o's bit is the activation
/// of a = 0, or, for the classifier, the class index (the argmax of the bias, ties to the
/// lowest index) in the low bits, then score k = `bias_k` (signed), as the top's result word.
pub fn constant_word(kind: &LayerKind) -> Vec<bool> {
    match kind {
        LayerKind::Conv(c) => (0..c.weights.out_channels)
            .map(|o| c.activation.fire(o, 0))
            .collect(),
        LayerKind::Dense(d) => (0..d.weights.out_channels)
            .map(|o| d.activation.fire(o, 0))
            .collect(),
        LayerKind::Classifier(c) => {
            let (sw, cw) = score_layout(&c.weights, &c.bias);
            let mut class = 0;
            for (k, &b) in c.bias.iter().enumerate() {
                if b > c.bias[class] {
                    class = k;
                }
            }
            let mut word: Vec<bool> = (0..cw).map(|i| (class >> i) & 1 == 1).collect();
            for &b in &c.bias {
                word.extend((0..sw).map(|i| (b >> i.min(63)) & 1 == 1));
            }
            word
        }
        LayerKind::MaxPool(_) | LayerKind::Residual(_) => {
            unreachable!("only a weighted layer is fully pruned")
        }
    }
}

/// Build the stage: input row count, issue of the output pixels, hand-off of the constant.
pub fn lower_constant(spec: &ConstantSpec) -> Module {
    let g = Geometry::new(
        spec.input,
        (spec.out_h, spec.out_w),
        (spec.kh, 1),
        (spec.stride, spec.pad),
        0,
    );
    let mut b = ModuleBuilder::new(&spec.module);
    let io = ports(&mut b, &g, spec.word.len() as u32, false);
    let (wrow, row_done) = count_rows(&mut b, &g, &io);
    let (en, iss) = issue(&mut b, &g, &io, wrow, &row_done);
    held_output(&mut b, &io, &en, iss, Expr::bits(spec.word.clone()));
    b.finish()
}

/// Complete input rows (`wrow`, from the first row of the frame being issued) and the
/// registered input ready: the input runs at most one frame ahead of the issue side. Returns
/// `wrow` and the "a row completes this cycle" flag.
fn count_rows(b: &mut ModuleBuilder, g: &Geometry, io: &Ports) -> (Sig, Expr) {
    let cap = 2 * g.h as u64;
    let wrow = b.reg("wrow", bits_for(cap));
    let in_x = Counter::new(b, "in_x", g.w, 1);
    let s_rdy = b.reg("s_rdy", 1);
    b.assign(io.s_ready, b.e(s_rdy));
    let wr = b.let_("wr", b.e(io.s_valid).and(b.e(io.s_ready)));
    let row_done = b.let_("row_done", wr.clone().and(in_x.last(b)));
    // Registered: the next cycle's `wrow < cap` from this cycle's values (a frame's end
    // shows one cycle late, which only delays the input).
    let rdy_next = row_done.clone().mux(
        ge_const(b.e(wrow), cap - 1).not(),
        ge_const(b.e(wrow), cap).not(),
    );
    b.always(vec![Stmt::if_else(
        b.e(io.rst),
        [vec![Stmt::set(s_rdy, Expr::f())], in_x.clear()].concat(),
        [vec![Stmt::set(s_rdy, rdy_next)], when(wr, in_x.inc(b))].concat(),
    )]);
    (wrow, row_done)
}

/// Output pixels in raster order, one issue cycle each; a pixel issues once `wrow` reaches
/// its row's need. The issue decision is registered one cycle ahead, as in a window stage.
/// Returns the enable wires (driven by the output stage) and the issue flag.
fn issue(
    b: &mut ModuleBuilder,
    g: &Geometry,
    io: &Ports,
    wrow: Sig,
    row_done: &Expr,
) -> (Enables, Expr) {
    let ww = wrow.width;
    // Per output row: need, last row, next row's need in this frame's row numbers.
    let words = (0..g.oh)
        .map(|oy| {
            let last = oy + 1 == g.oh;
            let after = if last {
                g.h + need_rows(g, 0)
            } else {
                need_rows(g, oy + 1)
            };
            vec![need_rows(g, oy) as u64, last as u64, after as u64]
        })
        .collect();
    let rows = RowTable::new(b, words, vec![ww, 1, ww]);
    let en = Enables::single(b);
    let ox = Counter::new(b, "ox", g.ow, 1);
    let iss_r = b.reg("iss_r", 1);
    let iss = b.let_("iss", b.e(iss_r));
    let step = b.let_("step", iss.clone().and(en.ctl(b)));
    let row_step = b.let_("row_step", step.clone().and(ox.last(b)));
    let last_row = rows.field_or_lit(b, 1);
    let fend = b.let_("frame_end", row_step.clone().and(last_row));
    let wrow_n = wrow_next(b, wrow, g.h, row_done, &fend);
    let iss_next = row_step.clone().mux(
        rows.ge_field(b, b.e(wrow), 2),
        rows.ge_field(b, b.e(wrow), 0),
    );
    b.always(vec![Stmt::if_else(
        b.e(io.rst),
        [
            vec![Stmt::set(wrow, Expr::zero(ww)), Stmt::set(iss_r, Expr::f())],
            ox.clear(),
        ]
        .concat(),
        [
            vec![Stmt::set(wrow, wrow_n), Stmt::set(iss_r, iss_next)],
            when(step, ox.inc(b)),
        ]
        .concat(),
    )]);
    rows.advance(b, io.rst, &row_step);
    (en, iss)
}

/// The next value of `wrow` (complete input rows, counted from the first row of the frame
/// being issued): `wrow + row_done - (frame_end ? h : 0)`, as a choice between precomputed
/// sums.
fn wrow_next(b: &ModuleBuilder, wrow: Sig, h: usize, row_done: &Expr, frame_end: &Expr) -> Expr {
    let ww = wrow.width;
    let hm = |k: i64| Expr::lit(k.rem_euclid(1i64 << ww) as u64, ww);
    let fend = frame_end.clone();
    row_done.clone().mux(
        fend.clone()
            .mux(b.e(wrow).add(hm(1 - h as i64)), b.e(wrow).add(hm(1))),
        fend.mux(b.e(wrow).add(hm(-(h as i64))), b.e(wrow)),
    )
}

/// `if (c) st`, or nothing when a counter of one value has no statements.
fn when(c: Expr, st: Vec<Stmt>) -> Vec<Stmt> {
    if st.is_empty() {
        vec![]
    } else {
        vec![Stmt::when(c, st)]
    }
}
