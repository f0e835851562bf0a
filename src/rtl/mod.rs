//! Lower a validated `Model` and its `Plan` to a netlist of stage modules and a top module,
//! and write them as Verilog-2005 files.
//!
//! `generate` reads as its steps: front end, one stage per layer (window stages for
//! conv/pool/dense/classifier, a combine for residuals), forks and skip FIFOs where a layer's
//! output feeds a residual, then the top that wires the streams together. See the
//! "Generated hardware" section of docs/architecture.md.

pub mod axis;
pub mod bank;
pub mod build;
pub mod fusesoc;
pub mod mac;
pub mod netlist;
pub mod popcount_tree;
pub mod print;
pub mod stream;
pub mod window;

use crate::model::{FrontEnd, LayerKind, Model};
use crate::plan::{window_of, Plan};
use netlist::{Conn, Expr, Module, ModuleBuilder, Sig, Stmt};
use std::collections::BTreeMap;
use std::path::Path;
use window::{MacOut, WindowOp, WindowSpec};

/// Options that change the generated top (not the computation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GenOptions {
    /// Expose every layer's output stream on `dbg_fire` / `dbg_data` ports.
    pub debug: bool,
    /// Block-RAM geometry of the target family, for weight-ROM banks (`bank.rs`).
    pub ram: bank::RamFamily,
    /// Test aid, never for hardware: a line-buffer or skip-FIFO read at the address written
    /// in the same cycle returns the inverted word. Those memories carry `no_rw_check`
    /// (synthesis may return anything on such a collision); co-simulating with this on
    /// shows that no collision reaches the datapath, since any that did would be a mismatch.
    pub rw_poison: bool,
}

/// A generated design: modules (top last) and the other files to write.
#[derive(Debug, Clone)]
pub struct Design {
    /// Identifier of the model (`meta.name` made a Verilog identifier): file and core name.
    pub name: String,
    pub top: String,
    pub modules: Vec<Module>,
    /// Extra files (tables, such as the comparator levels of a sensor front end): (file name,
    /// contents).
    pub files: Vec<(String, String)>,
    /// Bit layout of the output word: class width, score width, classes.
    pub class_width: u32,
    pub score_width: u32,
    pub classes: usize,
    pub input_width: u32,
    /// Width of each debug tap (front end, then every layer).
    pub tap_widths: Vec<u32>,
}

/// A Verilog identifier made from a model or layer name.
pub fn ident(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, "m_");
    }
    s
}

/// One stream between stages, as wires of the top.
#[derive(Clone, Copy)]
struct Stream {
    valid: Sig,
    ready: Sig,
    data: Sig,
}

/// A child's stream port: the names of its valid, ready and data signals.
type Port = [&'static str; 3];
/// Every stage consumes on `s_*` and produces on `m_*`; a residual adds consumes `a_*`, `b_*`.
const S: Port = ["s_valid", "s_ready", "s_data"];
const M: Port = ["m_valid", "m_ready", "m_data"];
const A: Port = ["a_valid", "a_ready", "a_data"];
const B: Port = ["b_valid", "b_ready", "b_data"];

impl Stream {
    /// Connections for a child that consumes this stream on `port`.
    fn sink(self, t: &ModuleBuilder, port: Port) -> [(&'static str, Conn); 3] {
        [
            (port[0], Conn::In(t.e(self.valid))),
            (port[1], Conn::Out(self.ready)),
            (port[2], Conn::In(t.e(self.data))),
        ]
    }

    /// Connections for a child that produces this stream on `port`.
    fn source(self, t: &ModuleBuilder, port: Port) -> [(&'static str, Conn); 3] {
        [
            (port[0], Conn::Out(self.valid)),
            (port[1], Conn::In(t.e(self.ready))),
            (port[2], Conn::Out(self.data)),
        ]
    }
}

/// A clocked child's connections: `clk`, `rst`, then its stream ports and any `extra` ones,
/// in the child's port order.
fn clocked(
    t: &ModuleBuilder,
    clk: Sig,
    rst: Sig,
    streams: Vec<[(&'static str, Conn); 3]>,
    extra: Vec<(&'static str, Conn)>,
) -> Vec<(&'static str, Conn)> {
    let mut v = vec![("clk", Conn::In(t.e(clk))), ("rst", Conn::In(t.e(rst)))];
    v.extend(streams.into_iter().flatten());
    v.extend(extra);
    v
}

/// Why a valid model cannot be lowered (yet).
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("layer `{0}` has no kept tile, so its output is constant; fully pruned layers are not supported by the RTL generator (prune the layer from the model instead)")]
    FullyPruned(String),
    #[error("the plan has {0} layers, the model {1}")]
    PlanMismatch(usize, usize),
}

/// Lower `model` folded by `plan` to a design.
pub fn generate(model: &Model, plan: &Plan, opts: GenOptions) -> Result<Design, GenError> {
    if plan.layers.len() != model.layers.len() {
        return Err(GenError::PlanMismatch(
            plan.layers.len(),
            model.layers.len(),
        ));
    }
    for l in &model.layers {
        if l.kind.weights().is_some_and(|w| w.kept_tiles() == 0) {
            return Err(GenError::FullyPruned(l.name.clone()));
        }
    }
    let prefix = ident(&model.meta.name);
    let mut mods: BTreeMap<String, Module> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let add = |m: Module, mods: &mut BTreeMap<String, Module>, order: &mut Vec<String>| {
        if !mods.contains_key(&m.name) {
            order.push(m.name.clone());
            mods.insert(m.name.clone(), m);
        }
    };
    let top_name = format!("{prefix}_top");
    let mut t = ModuleBuilder::new(&top_name);
    let fe_shape = model.front_end_shape();
    let in_w = stream::input_width(&model.front_end, &model.input, plan.front_end);
    let last = model.layers.last().expect("a model has a classifier");
    let LayerKind::Classifier(cls) = &last.kind else {
        panic!("last layer must be the classifier")
    };
    let (sw, cw) = window::score_layout(&cls.weights, &cls.bias);
    let k = cls.weights.out_channels;
    let out_w = cw + sw * k as u32;
    top_doc(&mut t, model, plan, in_w, cw, sw, k, opts);

    let clk = t.input("clk", 1, "clock, rising edge");
    let rst = t.input("rst", 1, "synchronous reset, active high");
    let s_tdata = t.input("s_axis_tdata", in_w, "one pixel, all channels (see header)");
    let s_tvalid = t.input("s_axis_tvalid", 1, "pixel valid");
    let s_tready = t.output_wire("s_axis_tready", 1, "pixel accepted when tvalid && tready");
    let s_tlast = t.input("s_axis_tlast", 1, "last pixel of the frame");
    let m_tdata = t.output_wire("m_axis_tdata", out_w, "{score[K-1], ..., score[0], class}");
    let m_tvalid = t.output_wire("m_axis_tvalid", 1, "result valid");
    let m_tready = t.input("m_axis_tready", 1, "result accepted when tvalid && tready");
    let m_tlast = t.output_wire("m_axis_tlast", 1, "always 1: one result beat per frame");
    let frame_done = t.output_reg(
        "frame_done",
        1,
        "one-cycle pulse after a result is accepted",
    );
    let frame_error = t.output_wire(
        "frame_error",
        1,
        "sticky: s_axis_tlast disagreed with the frame size",
    );

    // Step 1: front end.
    let fe = stream::front_end(
        &format!("{prefix}_front_end"),
        &model.front_end,
        &model.input,
        plan.front_end,
    );
    let mk = |t: &mut ModuleBuilder, name: &str, w: u32| Stream {
        valid: t.wire(&format!("{name}_valid"), 1),
        ready: t.wire(&format!("{name}_ready"), 1),
        data: t.wire(&format!("{name}_data"), w),
    };
    let fe_out = mk(&mut t, "fe", fe_shape.channels as u32);
    t.instance(&fe, "u_front_end", {
        let axis = Stream {
            valid: s_tvalid,
            ready: s_tready,
            data: s_tdata,
        };
        let mut c = clocked(&t, clk, rst, vec![axis.sink(&t, S)], vec![]);
        c.push(("s_last", Conn::In(t.e(s_tlast))));
        c.extend(fe_out.source(&t, M));
        c.push(("frame_error", Conn::Out(frame_error)));
        c
    });
    add(fe, &mut mods, &mut order);

    // Step 2: consumers of each layer's output (next layer + residual skips), for forks.
    let n = model.layers.len();
    let mut skip_users: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (j, l) in model.layers.iter().enumerate() {
        if let LayerKind::Residual(r) = &l.kind {
            // A residual with the layer just before reads one stream (`stream::residual_self`).
            if r.with + 1 != j {
                skip_users[r.with].push(j);
            }
        }
    }
    // Stream feeding each consumer: main input of layer j, skip input of residual j.
    let mut main_in: Vec<Option<Stream>> = vec![None; n];
    let mut skip_in: Vec<Option<Stream>> = vec![None; n];
    let mut taps: Vec<(Expr, Expr)> =
        vec![(t.e(fe_out.valid).and(t.e(fe_out.ready)), t.e(fe_out.data))];
    let mut tap_widths = vec![fe_shape.channels as u32];
    main_in[0] = Some(fe_out);

    // Step 3: one stage per layer, each followed by its fork when its output is shared.
    for (i, l) in model.layers.iter().enumerate() {
        let lp = &plan.layers[i];
        let name = format!("{prefix}_l{i}_{}", ident(&l.name));
        let input = main_in[i].expect("wired by the previous layer");
        let out_bits = if i + 1 == n {
            out_w
        } else {
            l.output.channels as u32
        };
        let out = mk(&mut t, &format!("l{i}"), out_bits);
        // A stage with one input stream (`s_*` -> `m_*`), instantiated after the match.
        let one_input = match &l.kind {
            LayerKind::Residual(r) if r.with + 1 == i => {
                Some(stream::residual_self(&name, out_bits, r.op))
            }
            LayerKind::Residual(r) => {
                let m = stream::residual(&name, out_bits, r.op);
                let skip = skip_in[i].expect("skip stream wired");
                let fname = format!("{prefix}_fifo_w{out_bits}_d{}", lp.rows);
                let f = stream::fifo(&fname, out_bits, lp.rows, opts.rw_poison);
                let sk = mk(&mut t, &format!("skip{i}"), out_bits);
                t.instance(
                    &f,
                    &format!("u_skip{i}"),
                    clocked(
                        &t,
                        clk,
                        rst,
                        vec![skip.sink(&t, S), sk.source(&t, M)],
                        vec![],
                    ),
                );
                t.instance(
                    &m,
                    &format!("u_l{i}"),
                    clocked(
                        &t,
                        clk,
                        rst,
                        vec![input.sink(&t, A), sk.sink(&t, B), out.source(&t, M)],
                        vec![],
                    ),
                );
                add(f, &mut mods, &mut order);
                add(m, &mut mods, &mut order);
                None
            }
            kind => {
                let (kh, kw, stride, pad) = window_of(l).unwrap();
                let op = match kind {
                    LayerKind::MaxPool(_) => WindowOp::Or,
                    LayerKind::Conv(c) => WindowOp::Mac {
                        w: &c.weights,
                        pe: lp.pe,
                        simd: lp.simd,
                        pop_stages: plan.popcount_stages,
                        out: MacOut::Threshold(&c.activation),
                    },
                    LayerKind::Dense(d) => WindowOp::Mac {
                        w: &d.weights,
                        pe: lp.pe,
                        simd: lp.simd,
                        pop_stages: plan.popcount_stages,
                        out: MacOut::Threshold(&d.activation),
                    },
                    LayerKind::Classifier(c) => WindowOp::Mac {
                        w: &c.weights,
                        pe: lp.pe,
                        simd: lp.simd,
                        pop_stages: plan.popcount_stages,
                        out: MacOut::Scores(&c.bias),
                    },
                    LayerKind::Residual(_) => unreachable!(),
                };
                let pad_mode = match kind {
                    LayerKind::Conv(c) => c.pad_mode,
                    _ => crate::model::PadMode::Zero,
                };
                let spec = WindowSpec {
                    module: name.clone(),
                    input: l.input,
                    out_h: l.output.height,
                    out_w: l.output.width,
                    kh,
                    kw,
                    stride,
                    pad,
                    pad_mode,
                    rows: lp.rows,
                    ram: opts.ram,
                    rw_poison: opts.rw_poison,
                    op,
                };
                let mut m = window::lower(&spec);
                m.doc.insert(
                    0,
                    format!(
                        "Layer {i} `{}` ({}), {} -> {}.",
                        l.name,
                        l.kind.tag(),
                        l.input,
                        l.output
                    ),
                );
                m.doc.insert(
                    1,
                    format!(
                        "Folding: pe {} x simd {}, line buffer {} rows.",
                        lp.pe, lp.simd, lp.rows
                    ),
                );
                Some(m)
            }
        };
        if let Some(m) = one_input {
            t.instance(
                &m,
                &format!("u_l{i}"),
                clocked(
                    &t,
                    clk,
                    rst,
                    vec![input.sink(&t, S), out.source(&t, M)],
                    vec![],
                ),
            );
            add(m, &mut mods, &mut order);
        }
        if i + 1 < n {
            taps.push((t.e(out.valid).and(t.e(out.ready)), t.e(out.data)));
            tap_widths.push(out_bits);
        }
        // Consumers: next layer's main input, then residual skips.
        let mut consumers: Vec<(bool, usize)> = Vec::new();
        if i + 1 < n {
            consumers.push((true, i + 1));
        }
        consumers.extend(skip_users[i].iter().map(|&j| (false, j)));
        if i + 1 == n {
            t.assign(m_tvalid, t.e(out.valid));
            t.assign(out.ready, t.e(m_tready));
            t.assign(m_tdata, t.e(out.data));
        } else if consumers.len() == 1 {
            main_in[i + 1] = Some(out);
        } else {
            let fname = format!("{prefix}_fork_w{out_bits}_n{}", consumers.len());
            let f = stream::fork(&fname, out_bits, consumers.len());
            let nc = consumers.len() as u32;
            let fv = t.wire(&format!("f{i}_valid"), nc);
            let fd = t.wire(&format!("f{i}_data"), out_bits);
            let mut readies = Vec::new();
            for (c, &(is_main, j)) in consumers.iter().enumerate() {
                let s = mk(&mut t, &format!("f{i}_{c}"), out_bits);
                t.assign(s.valid, t.bit(fv, c as u32));
                t.assign(s.data, t.e(fd));
                readies.push(t.e(s.ready));
                if is_main {
                    main_in[j] = Some(s);
                } else {
                    skip_in[j] = Some(s);
                }
            }
            t.instance(
                &f,
                &format!("u_fork{i}"),
                clocked(
                    &t,
                    clk,
                    rst,
                    vec![out.sink(&t, S)],
                    vec![
                        ("m_valid", Conn::Out(fv)),
                        ("m_ready", Conn::In(Expr::cat_lsb(readies))),
                        ("m_data", Conn::Out(fd)),
                    ],
                ),
            );
            add(f, &mut mods, &mut order);
        }
    }

    // Step 4: result side and debug taps.
    t.assign(m_tlast, Expr::t());
    t.always(vec![Stmt::if_else(
        t.e(rst),
        vec![Stmt::set(frame_done, Expr::f())],
        vec![Stmt::set(frame_done, t.e(m_tvalid).and(t.e(m_tready)))],
    )]);
    if opts.debug {
        let dv = t.output_wire(
            "dbg_fire",
            taps.len() as u32,
            "debug: handshake of each tapped stream",
        );
        let total: u32 = tap_widths.iter().sum();
        let dd = t.output_wire(
            "dbg_data",
            total,
            "debug: data of each tapped stream, front end at bit 0",
        );
        let (f, d): (Vec<Expr>, Vec<Expr>) = taps.into_iter().unzip();
        t.assign(dv, Expr::cat_lsb(f));
        t.assign(dd, Expr::cat_lsb(d));
    }
    let top = t.finish();
    let mut modules: Vec<Module> = order
        .into_iter()
        .map(|n| mods.remove(&n).unwrap())
        .collect();
    if !opts.debug {
        modules.push(axis::wrapper(&prefix, &top, in_w, cw + sw * k as u32));
    }
    modules.push(top);
    let mut files = Vec::new();
    if let (FrontEnd::Thermometer(th), stream::Placement::Sensor) =
        (&model.front_end, plan.front_end)
    {
        let mut csv = String::from("channel,plane,level\n");
        for (c, ts) in th.thresholds.iter().enumerate() {
            for (k, v) in ts.iter().enumerate() {
                csv.push_str(&format!("{c},{k},{v}\n"));
            }
        }
        files.push(("comparator_levels.csv".to_string(), csv));
    }
    Ok(Design {
        name: prefix.to_string(),
        top: top_name,
        modules,
        files,
        class_width: cw,
        score_width: sw,
        classes: k,
        input_width: in_w,
        tap_widths,
    })
}

#[allow(clippy::too_many_arguments)]
fn top_doc(
    t: &mut ModuleBuilder,
    model: &Model,
    plan: &Plan,
    in_w: u32,
    cw: u32,
    sw: u32,
    k: usize,
    opts: GenOptions,
) {
    let i = &model.input;
    t.doc(format!(
        "Top of the `{}` accelerator: {}x{}x{} pixels of {} bits -> {} classes.",
        model.meta.name, i.height, i.width, i.channels, i.bits, k
    ));
    t.doc("");
    t.doc("Ports (AXI4-Stream style, all synchronous to clk; rst is synchronous, active high):");
    match plan.front_end {
        stream::Placement::Digital => t.doc(format!(
            "  s_axis_tdata[{}:0]: one pixel per beat in raster order, channel c at bits [c*{b} +: {b}].",
            in_w - 1,
            b = i.bits
        )),
        stream::Placement::Sensor => t.doc(format!(
            "  s_axis_tdata[{}:0]: binary planes of one pixel, bit c*M + k = plane k of channel c.",
            in_w - 1
        )),
    }
    t.doc("  s_axis_tvalid / s_axis_tready: handshake; s_axis_tlast marks the frame's last pixel.");
    t.doc(format!(
        "  m_axis_tdata: class index in bits [{}:0], then score k (signed, {sw} bits) at bit {cw} + k*{sw}.",
        cw - 1
    ));
    t.doc("  m_axis_tvalid / m_axis_tready: one result beat per frame; m_axis_tlast = 1.");
    t.doc("  frame_done: one-cycle pulse after a result beat is accepted.");
    t.doc("  frame_error: sticky, set when s_axis_tlast disagrees with the frame size.");
    if opts.debug {
        t.doc(
            "  dbg_fire / dbg_data: debug taps of the front end and every layer's output stream.",
        );
    }
    t.doc(format!(
        "Plan: {} cycles per frame at full rate.",
        plan.cycles_per_frame
    ));
}

/// The digest of an RTL file set: SHA-256 over each file's name, length and bytes, in name
/// order, as `sha256:<hex>`. Computed over the files a simulator or synthesizer reads (Verilog
/// sources and memory images), so the RTL that was co-simulated and the RTL that was
/// synthesized have the same digest exactly when the tools read the same bytes.
pub fn digest<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    use sha2::{Digest, Sha256};
    let mut files: Vec<(&str, &[u8])> = files.into_iter().collect();
    files.sort();
    let mut h = Sha256::new();
    for (name, bytes) in files {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// [`digest`] of the files of `design` that tools read: every module's Verilog and the memory
/// images (not `files.f` or the FuseSoC core, which only list them).
pub fn design_digest(design: &Design) -> String {
    let sources: Vec<(String, String)> = (design.modules.iter())
        .map(|m| (format!("{}.v", m.name), print::print_module(m)))
        .chain(design.files.iter().cloned())
        .collect();
    digest(sources.iter().map(|(n, t)| (n.as_str(), t.as_bytes())))
}

/// Verilog text of every module, by file name, plus the file list `files.f` and the FuseSoC
/// core `<name>.core` (both in compile order, top last).
pub fn render(design: &Design) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut sources = Vec::new();
    for m in &design.modules {
        let f = format!("{}.v", m.name);
        out.push((f.clone(), print::print_module(m)));
        sources.push(f);
    }
    out.extend(design.files.iter().cloned());
    let list: String = sources.iter().map(|f| format!("{f}\n")).collect();
    out.push(("files.f".to_string(), list));
    out.push((
        format!("{}.core", design.name),
        fusesoc::core_file(&design.name, &design.top, &sources),
    ));
    out
}

/// Write the design's files into the new folder `dir` (an error if it exists). Callers write
/// into a staging folder (`bnngen::output::Staged`), so replacing an old design never deletes
/// anything here.
pub fn write_dir(design: &Design, dir: &Path) -> std::io::Result<()> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::create_dir(dir)?;
    write_files(design, dir)
}

/// Write the design's files into the existing folder `dir` (a staging folder).
pub fn write_files(design: &Design, dir: &Path) -> std::io::Result<()> {
    for (name, text) in render(design) {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}
