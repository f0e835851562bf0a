//! The standard AXI4-Stream face of a design: `<model>_axis`, a thin wrapper around
//! `<model>_top` with the names, polarity and widths that AXI4-Stream (ARM IHI 0051) defines,
//! so an IP integrator or an AXI4-Stream verification IP accepts the accelerator as it is.
//!
//! The core top keeps its compact ports (TDATA of exactly the pixel or result width, `rst`
//! active high), which the board tops and the simulation harnesses use. The wrapper adds:
//! - `aclk` and `aresetn` (active low, synchronous to `aclk`);
//! - TDATA padded to whole bytes, the payload in the low bits and zeros above, on both streams;
//! - `s_axis_tready` and `m_axis_tvalid` held low while `aresetn` is low (by `up`, a register
//!   of `aresetn`), so no beat is taken or offered before the core has left reset. The core's
//!   own `s_axis_tready` is high during reset.
//!
//! The core already keeps the stream rules that matter here: its output beat is the last
//! pipeline register, held (data and last) while `m_axis_tready` is low, and its valid is a
//! register that never waits for ready.

use super::netlist::{Conn, Expr, Module, ModuleBuilder, Sig, Stmt};

/// The pixel (`s_axis_*`) and result (`m_axis_*`) stream ports, as the core top and the
/// wrapper both declare them.
pub struct Streams {
    pub s_tdata: Sig,
    pub s_tvalid: Sig,
    pub s_tready: Sig,
    pub s_tlast: Sig,
    pub m_tdata: Sig,
    pub m_tvalid: Sig,
    pub m_tready: Sig,
    pub m_tlast: Sig,
}

/// Declare the stream ports in their order, each TDATA with its width and comment.
pub fn stream_ports(b: &mut ModuleBuilder, s_tdata: (u32, &str), m_tdata: (u32, &str)) -> Streams {
    let s_td = b.input("s_axis_tdata", s_tdata.0, s_tdata.1);
    let s_tvalid = b.input("s_axis_tvalid", 1, "pixel valid");
    let s_tready = b.output_wire("s_axis_tready", 1, "pixel accepted when tvalid && tready");
    let s_tlast = b.input("s_axis_tlast", 1, "last pixel of the frame");
    let m_td = b.output_wire("m_axis_tdata", m_tdata.0, m_tdata.1);
    Streams {
        s_tdata: s_td,
        s_tvalid,
        s_tready,
        s_tlast,
        m_tdata: m_td,
        m_tvalid: b.output_wire("m_axis_tvalid", 1, "result valid"),
        m_tready: b.input("m_axis_tready", 1, "result accepted when tvalid && tready"),
        m_tlast: b.output_wire("m_axis_tlast", 1, "always 1: one result beat per frame"),
    }
}

/// Bits of a TDATA that carries `width` payload bits: the next whole number of bytes.
pub fn byte_lanes(width: u32) -> u32 {
    width.div_ceil(8) * 8
}

/// The AXI4-Stream wrapper `<prefix>_axis` of `top` (input payload `in_w` bits, output payload
/// `out_w` bits). `top` must have the core's ports and no debug taps.
pub fn wrapper(prefix: &str, top: &Module, in_w: u32, out_w: u32) -> Module {
    let (in_bytes, out_bytes) = (byte_lanes(in_w), byte_lanes(out_w));
    let mut b = ModuleBuilder::new(&format!("{prefix}_axis"));
    doc_header(&mut b, &top.name, in_w, out_w);

    let aclk = b.input("aclk", 1, "clock, rising edge");
    b.set_clock("aclk");
    let aresetn = b.input("aresetn", 1, "reset, active low, synchronous to aclk");
    let Streams {
        s_tdata,
        s_tvalid,
        s_tready,
        s_tlast,
        m_tdata,
        m_tvalid,
        m_tready,
        m_tlast,
    } = stream_ports(
        &mut b,
        (
            in_bytes,
            "one pixel in the low bits (as the core's), zeros above",
        ),
        (
            out_bytes,
            "{class and scores as the core's} in the low bits, zeros above",
        ),
    );
    let frame_done = b.output_wire("frame_done", 1, "one-cycle pulse after a result is taken");
    let frame_error = b.output_wire(
        "frame_error",
        1,
        "sticky: tlast disagreed with the frame size, or a pad bit was set",
    );

    // Up from the first clock edge that samples aresetn high, the same edge at which the
    // core leaves reset.
    let up = b.reg("up", 1);
    b.always(vec![Stmt::set(up, b.e(aresetn))]);
    let rst = b.let_("rst", b.e(aresetn).not());
    let (c_tready, c_tvalid, c_tdata) = (
        b.wire("core_s_tready", 1),
        b.wire("core_m_tvalid", 1),
        b.wire("core_m_tdata", out_w),
    );
    let c_error = b.wire("core_frame_error", 1);
    let s_in = b.slice(s_tdata, 0, in_w);
    let conns = vec![
        ("clk", Conn::In(b.e(aclk))),
        ("rst", Conn::In(rst)),
        ("s_axis_tdata", Conn::In(s_in)),
        ("s_axis_tvalid", Conn::In(b.e(s_tvalid).and(b.e(up)))),
        ("s_axis_tready", Conn::Out(c_tready)),
        ("s_axis_tlast", Conn::In(b.e(s_tlast))),
        ("m_axis_tdata", Conn::Out(c_tdata)),
        ("m_axis_tvalid", Conn::Out(c_tvalid)),
        ("m_axis_tready", Conn::In(b.e(m_tready))),
        ("m_axis_tlast", Conn::Out(m_tlast)),
        ("frame_done", Conn::Out(frame_done)),
        ("frame_error", Conn::Out(c_error)),
    ];
    b.instance(top, "u_core", conns);
    b.assign(s_tready, b.e(c_tready).and(b.e(up)));
    b.assign(m_tvalid, b.e(c_tvalid).and(b.e(up)));
    let padded = if out_bytes > out_w {
        Expr::cat_lsb(vec![b.e(c_tdata), Expr::zero(out_bytes - out_w)])
    } else {
        b.e(c_tdata)
    };
    b.assign(m_tdata, padded);
    // The pad bits of an input beat must be zero; a beat taken with one set is flagged like
    // a wrong tlast, so a host that packs pixels differently finds out.
    let pad_error = if in_bytes > in_w {
        let pad = b.slice(s_tdata, in_w, in_bytes - in_w).any();
        let taken = b.e(s_tvalid).and(b.e(s_tready));
        let seen = b.reg("pad_error", 1);
        b.always(vec![Stmt::if_else(
            b.e(aresetn).not(),
            vec![Stmt::set(seen, Expr::f())],
            vec![Stmt::when(taken.and(pad), vec![Stmt::set(seen, Expr::t())])],
        )]);
        b.e(seen)
    } else {
        Expr::f()
    };
    b.assign(frame_error, b.e(c_error).or(pad_error));
    b.finish()
}

fn doc_header(b: &mut ModuleBuilder, top: &str, in_w: u32, out_w: u32) {
    b.doc(format!(
        "AXI4-Stream wrapper of `{top}`: the standard's names, aresetn and byte lanes."
    ));
    b.doc("");
    b.doc("Ports (all synchronous to aclk; aresetn is synchronous, active low):");
    b.doc(format!(
        "  s_axis_tdata[{}:0]: the core's pixel word in bits [{}:0], zeros above.",
        byte_lanes(in_w) - 1,
        in_w - 1
    ));
    b.doc(format!(
        "  m_axis_tdata[{}:0]: the core's result word in bits [{}:0], zeros above.",
        byte_lanes(out_w) - 1,
        out_w - 1
    ));
    b.doc("  s_axis_tready and m_axis_tvalid are low while reset is applied.");
    b.doc("  frame_error: sticky, set when tlast disagrees with the frame size or a pixel beat");
    b.doc("  is taken with a pad bit set.");
}
