//! Stream plumbing stages: the FIFO every stage ends in, the fork that feeds a layer's output
//! to several consumers, the residual combine, and the comparator front end.
//!
//! All use the same valid/ready handshake: a beat moves when `valid && ready`. Readies never
//! depend on the same module's valids, so no combinational loop can form between stages.

use super::build::{eq_const, ge_const};
use super::netlist::{addr_width, bits_for, Expr, Module, ModuleBuilder, Sig, Stmt};
use crate::model::{FrontEnd, InputSpec, ResidualOp};
use crate::plan::Placement;

/// A first-word-fall-through FIFO of `depth` words plus an output register: block RAM with a
/// synchronous read when large. `s_ready` is a register (not full), so the stage behind it
/// sees its stall signal straight from a flip-flop. `rw_poison`: see `GenOptions`.
pub fn fifo(name: &str, width: u32, depth: usize, rw_poison: bool) -> Module {
    assert!(depth >= 2);
    let mut b = ModuleBuilder::new(name);
    b.doc(format!(
        "FIFO: {depth} words of {width} bits plus an output register."
    ));
    let rst = clock_reset(&mut b);
    let s = sink(
        &mut b,
        "s",
        width,
        ["write valid", "room for a word", "write data"],
    );
    let m = source(
        &mut b,
        1,
        width,
        ["read valid", "read accepted", "read data"],
    );
    let aw = addr_width(depth);
    let cw = bits_for(depth as u64);
    let mem = b.memory("mem", width, depth, None);
    // A read needs a word (`cnt != 0`), so `rp == wp` only when the FIFO is full, and then
    // `not_full` is low and nothing is written: a read never meets the write of its address
    // (`no_rw_check`, checked with `rw_poison` like the line buffers).
    b.no_rw_check(mem);
    let wp = b.reg("wp", aw);
    let rp = b.reg("rp", aw);
    let cnt = b.reg("cnt", cw);
    let ov = b.reg("ov", 1);
    let od = b.reg("od", width);
    let nf = b.reg("not_full", 1);
    b.assign(s.ready, b.e(nf));
    let wr = b.let_("wr", b.e(s.valid).and(b.e(s.ready)));
    let rd = b.let_(
        "rd",
        b.e(cnt)
            .ne(Expr::zero(cw))
            .and(b.e(ov).not().or(b.e(m.ready))),
    );
    let wrap = |b: &ModuleBuilder, p| {
        eq_const(b.e(p), depth as u64 - 1).mux(Expr::zero(aw), b.e(p).add(Expr::lit(1, aw)))
    };
    let read = b.read_checked(mem, b.e(rp), rw_poison, wr.clone(), b.e(wp));
    b.always(vec![
        Stmt::when(wr.clone(), vec![Stmt::write(mem, b.e(wp), b.e(s.data))]),
        Stmt::when(rd.clone(), vec![Stmt::set(od, read)]),
    ]);
    b.always(vec![Stmt::if_else(
        b.e(rst),
        vec![
            Stmt::set(wp, Expr::zero(aw)),
            Stmt::set(rp, Expr::zero(aw)),
            Stmt::set(cnt, Expr::zero(cw)),
            Stmt::set(ov, Expr::f()),
            Stmt::set(nf, Expr::t()),
        ],
        vec![
            // Full next cycle only if nothing is read and the count reaches the depth.
            Stmt::set(
                nf,
                rd.clone().or(wr.clone().mux(
                    b.e(cnt).ne(Expr::lit(depth as u64 - 1, cw)),
                    b.e(cnt).ne(Expr::lit(depth as u64, cw)),
                )),
            ),
            Stmt::when(wr.clone(), vec![Stmt::set(wp, wrap(&b, wp))]),
            Stmt::when(rd.clone(), vec![Stmt::set(rp, wrap(&b, rp))]),
            Stmt::set(cnt, b.e(cnt).add(wr.zext(cw)).sub(rd.clone().zext(cw))),
            Stmt::if_else(
                rd,
                vec![Stmt::set(ov, Expr::t())],
                vec![Stmt::when(b.e(m.ready), vec![Stmt::set(ov, Expr::f())])],
            ),
        ],
    )]);
    b.assign(m.valid, b.e(ov));
    b.assign(m.data, b.e(od));
    b.finish()
}

/// Broadcast one stream to `n` consumers; each takes the beat once, in its own time.
pub fn fork(name: &str, width: u32, n: usize) -> Module {
    assert!(n >= 2);
    let mut b = ModuleBuilder::new(name);
    b.doc(format!(
        "Fork: one stream of {width} bits to {n} consumers."
    ));
    let rst = clock_reset(&mut b);
    let s = sink(
        &mut b,
        "s",
        width,
        ["input valid", "input taken by every consumer", "input data"],
    );
    let m = source(
        &mut b,
        n as u32,
        width,
        ["valid per consumer", "ready per consumer", "data, shared"],
    );
    let taken = b.reg("taken", n as u32);
    let mut done = Vec::new();
    for i in 0..n as u32 {
        done.push(b.bit(taken, i).or(b.bit(m.ready, i)));
    }
    let all = b.let_("all_done", Expr::cat_lsb(done).all());
    b.assign(s.ready, all.clone());
    let vv: Vec<Expr> = (0..n as u32)
        .map(|i| b.e(s.valid).and(b.bit(taken, i).not()))
        .collect();
    b.assign(m.valid, Expr::cat_lsb(vv));
    let fire: Vec<Expr> = (0..n as u32)
        .map(|i| b.bit(taken, i).or(b.e(s.valid).and(b.bit(m.ready, i))))
        .collect();
    b.always(vec![Stmt::if_else(
        b.e(rst).or(b.e(s.valid).and(all)),
        vec![Stmt::set(taken, Expr::zero(n as u32))],
        vec![Stmt::set(taken, Expr::cat_lsb(fire))],
    )]);
    b.assign(m.data, b.e(s.data));
    b.finish()
}

/// A stage's valid/ready stream ports.
struct Stream {
    valid: Sig,
    ready: Sig,
    data: Sig,
}

/// The first two ports of every stage; returns the reset.
fn clock_reset(b: &mut ModuleBuilder) -> Sig {
    let _clk = b.input("clk", 1, "clock");
    b.input("rst", 1, "synchronous reset")
}

/// An input stream `<p>_valid`, `<p>_ready`, `<p>_data` with these port comments.
fn sink(b: &mut ModuleBuilder, p: &str, width: u32, doc: [&str; 3]) -> Stream {
    Stream {
        valid: b.input(&format!("{p}_valid"), 1, doc[0]),
        ready: b.output_wire(&format!("{p}_ready"), 1, doc[1]),
        data: b.input(&format!("{p}_data"), width, doc[2]),
    }
}

/// The output stream `m_valid`, `m_ready`, `m_data`; valid and ready have one bit per
/// consumer (`consumers`).
fn source(b: &mut ModuleBuilder, consumers: u32, width: u32, doc: [&str; 3]) -> Stream {
    Stream {
        valid: b.output_wire("m_valid", consumers, doc[0]),
        ready: b.input("m_ready", consumers, doc[1]),
        data: b.output_wire("m_data", width, doc[2]),
    }
}

/// The one-deep output register that ends the residual combines and the front end: a beat
/// moves in (`fire`) when `valid` and the register has `room` (empty, or being read).
/// `readies(room, fire)` names the input readies to drive; returns `fire`.
fn out_stage(
    b: &mut ModuleBuilder,
    rst: Sig,
    valid: Expr,
    data: Expr,
    m: &Stream,
    readies: impl FnOnce(Expr, Expr) -> Vec<(Sig, Expr)>,
) -> Expr {
    let room = b.wire("room", 1);
    let fire = b.let_("fire", valid.and(b.e(room)));
    let ov = b.reg("ov", 1);
    let od = b.reg("od", data.width);
    b.always(vec![Stmt::when(fire.clone(), vec![Stmt::set(od, data)])]);
    b.always(vec![Stmt::if_else(
        b.e(rst),
        vec![Stmt::set(ov, Expr::f())],
        vec![Stmt::if_else(
            fire.clone(),
            vec![Stmt::set(ov, Expr::t())],
            vec![Stmt::when(b.e(m.ready), vec![Stmt::set(ov, Expr::f())])],
        )],
    )]);
    b.assign(room, b.e(ov).not().or(b.e(m.ready)));
    for (ready, e) in readies(b.e(room), fire.clone()) {
        b.assign(ready, e);
    }
    b.assign(m.valid, b.e(ov));
    b.assign(m.data, b.e(od));
    fire
}

/// The output port comments of the residual combines.
const OUTPUT_DOC: [&str; 3] = ["output valid", "output ready", "output data"];

/// `op(x, y)` bit by bit.
fn combine(op: ResidualOp, x: Expr, y: Expr) -> Expr {
    match op {
        ResidualOp::Or => x.or(y),
        ResidualOp::And => x.and(y),
        ResidualOp::Xor => x.xor(y),
        ResidualOp::Xnor => x.xor(y).not(),
    }
}

/// Residual combine of a stream with itself (`with` is the layer just before): `m = op(a, a)`
/// bit by bit. No fork and no skip FIFO: the FIFO's two cycles of latency would hold the
/// producer's word for two extra cycles per pixel (the producer holds its output until every
/// consumer has taken it), so this case gets its own one-input stage.
pub fn residual_self(name: &str, width: u32, op: ResidualOp) -> Module {
    let mut b = ModuleBuilder::new(name);
    b.doc(format!(
        "Residual combine ({}) of the current stream with itself.",
        op.as_str()
    ));
    let rst = clock_reset(&mut b);
    let s = sink(
        &mut b,
        "s",
        width,
        ["input valid", "input ready", "input data"],
    );
    let m = source(&mut b, 1, width, OUTPUT_DOC);
    let data = combine(op, b.e(s.data), b.e(s.data));
    let valid = b.e(s.valid);
    out_stage(&mut b, rst, valid, data, &m, |room, _| {
        vec![(s.ready, room)]
    });
    b.finish()
}

/// Residual combine: `m = op(a, b)` bit by bit, one pixel per beat from each input.
pub fn residual(name: &str, width: u32, op: ResidualOp) -> Module {
    let mut b = ModuleBuilder::new(name);
    b.doc(format!(
        "Residual combine ({}) of the current stream (a) and the skip stream (b).",
        op.as_str()
    ));
    let rst = clock_reset(&mut b);
    let [a, skip] = [("a", "current"), ("b", "skip")].map(|(p, what)| {
        let doc = ["valid", "ready", "data"].map(|f| format!("{what} stream {f}"));
        sink(&mut b, p, width, [&doc[0], &doc[1], &doc[2]])
    });
    let m = source(&mut b, 1, width, OUTPUT_DOC);
    let valid = b.e(a.valid).and(b.e(skip.valid));
    let data = combine(op, b.e(a.data), b.e(skip.data));
    out_stage(&mut b, rst, valid, data, &m, |_, fire| {
        vec![(a.ready, fire.clone()), (skip.ready, fire)]
    });
    b.finish()
}

/// Input width of the accelerator for this front end and placement.
pub fn input_width(fe: &FrontEnd, input: &InputSpec, place: Placement) -> u32 {
    match place {
        Placement::Digital => input.channels as u32 * input.bits,
        Placement::Sensor => fe.output_shape(input).channels as u32,
    }
}

/// The front end: C x M comparators (digital placement) or plain binary planes, a frame
/// counter that checks `tlast`, and one register stage.
pub fn front_end(name: &str, fe: &FrontEnd, input: &InputSpec, place: Placement) -> Module {
    let mut b = ModuleBuilder::new(name);
    let planes = fe.planes_per_channel(input);
    let out_w = (input.channels * planes) as u32;
    let in_w = input_width(fe, input, place);
    b.doc("Front end: pixels to binary planes, channel c*M + k = plane k of input channel c.");
    match (fe, place) {
        (FrontEnd::Thermometer(_), Placement::Digital) => b.doc(format!(
            "{} comparators (pixel >= threshold), the block that replaces the ADC.",
            input.channels * planes
        )),
        (_, Placement::Sensor) => {
            b.doc("Sensor placement: the planes arrive ready-made from the readout chain.")
        }
        (FrontEnd::Binary, _) => {
            b.doc("Binary ADC code: plane k is bit k of the pixel (wiring only).")
        }
    }
    let rst = clock_reset(&mut b);
    let s = sink(
        &mut b,
        "s",
        in_w,
        ["pixel valid", "pixel accepted", "pixel"],
    );
    let s_last = b.input("s_last", 1, "last pixel of the frame");
    let m = source(
        &mut b,
        1,
        out_w,
        ["planes valid", "planes ready", "binary planes"],
    );
    let frame_error = b.output_reg(
        "frame_error",
        1,
        "sticky: s_last disagreed with the frame size",
    );
    let planes_e = match (fe, place) {
        (FrontEnd::Thermometer(t), Placement::Digital) => {
            let bw = input.bits;
            let mut bits = Vec::new();
            for c in 0..input.channels {
                for k in 0..planes {
                    bits.push(ge_const(
                        b.slice(s.data, c as u32 * bw, bw),
                        t.thresholds[c][k] as u64,
                    ));
                }
            }
            Expr::cat_lsb(bits)
        }
        _ => b.e(s.data),
    };
    let valid = b.e(s.valid);
    let fire = out_stage(&mut b, rst, valid, planes_e, &m, |room, _| {
        vec![(s.ready, room)]
    });
    let n = input.height * input.width;
    let last = if n > 1 {
        let pw = bits_for(n as u64 - 1);
        let px = b.reg("px", pw);
        let is_last = b.let_("is_last", eq_const(b.e(px), n as u64 - 1));
        b.always(vec![Stmt::if_else(
            b.e(rst),
            vec![Stmt::set(px, Expr::zero(pw))],
            vec![Stmt::when(
                fire.clone(),
                vec![Stmt::set(
                    px,
                    is_last
                        .clone()
                        .mux(Expr::zero(pw), b.e(px).add(Expr::lit(1, pw))),
                )],
            )],
        )]);
        is_last
    } else {
        Expr::t()
    };
    b.always(vec![Stmt::if_else(
        b.e(rst),
        vec![Stmt::set(frame_error, Expr::f())],
        vec![Stmt::when(
            fire.and(b.e(s_last).ne(last)),
            vec![Stmt::set(frame_error, Expr::t())],
        )],
    )]);
    b.finish()
}
