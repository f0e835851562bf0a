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
mod cone;
pub mod ebr;
pub mod fusesoc;
pub mod netlist;
pub mod popcount_tree;
pub mod print;
pub mod stream;
pub mod window;

use crate::model::{FrontEnd, LayerKind, Model};
use crate::plan::cost::spram::{self, SpramStore, UP5K_SPRAMS};
use crate::plan::{window_of, words, Placement, Plan};
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
    /// Build the block-RAM tables and line buffers from ECP5 `DP16KD` cells with their output
    /// register (`ebr.rs`), shipping the cell's behavioural model for simulation. For ECP5
    /// targets only: other families' Verilog stays plain inferred memories.
    pub ecp5_cells: bool,
    /// Test aid, never for hardware: a line-buffer or skip-FIFO read at the address written
    /// in the same cycle returns the inverted word. Those memories carry `no_rw_check`
    /// (synthesis may return anything on such a collision); co-simulating with this on
    /// shows that no collision reaches the datapath, since any that did would be a mismatch.
    pub rw_poison: bool,
    /// Put the largest weight ROMs in the iCE40 UP5K's SPRAM (`plan::cost::spram`), loaded
    /// after reset through the top's `wl_*` load bus (`window::spram`).
    pub spram: bool,
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
    /// The weight ROMs in SPRAM (empty: no load bus).
    pub spram: Vec<SpramStore>,
    /// Behavioural models of the vendor cells the modules instantiate (file name, Verilog):
    /// simulation reads them (`files.f`, the FuseSoC `sim` fileset), synthesis never does,
    /// since there the cell is the vendor's primitive.
    pub sim_models: Vec<(String, String)>,
}

impl Design {
    /// The weight image the loader writes into SPRAM, one 16-bit word per load address: every
    /// SPRAM memory's words, in module and then declaration order, which is the order of
    /// `plan::cost::spram::assign`.
    pub fn load_image(&self) -> Vec<u16> {
        let image: Vec<u16> = self
            .modules
            .iter()
            .flat_map(|m| m.mems.iter().filter_map(|x| x.load_image.as_ref()))
            .flatten()
            .copied()
            .collect();
        assert_eq!(image.len(), spram::image_words(&self.spram));
        image
    }
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

/// Why a valid model cannot be lowered with this plan.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    #[error("the plan has {0} layers, the model {1}")]
    PlanMismatch(usize, usize),
    #[error("weights in SPRAM need the iCE40 RAM family (target ice40-up5k), not {0}")]
    SpramFamily(&'static str),
}

/// Lower `model` folded by `plan` to a design.
/// Weights go to SPRAM when `opts.spram` or the plan says so (`weights = "spram"`).
pub fn generate(model: &Model, plan: &Plan, opts: GenOptions) -> Result<Design, GenError> {
    check_lowerable(model, plan)?;
    let opts = GenOptions {
        spram: opts.spram || plan.weights == crate::plan::WeightStore::Spram,
        ..opts
    };
    if opts.spram && opts.ram != bank::RamFamily::Ice40 {
        return Err(GenError::SpramFamily(opts.ram.name()));
    }
    // Each stage as it sees its streams: a dense layer's consumer may read words
    // (`plan::words`).
    let view = words::streamed(model, &plan.out_words());
    let model = view.as_ref();
    let layout = Layout::of(model, plan);
    let mut top = Top::new(model, plan, &layout, opts);
    let fe_out = top.front_end(model, plan);
    let mut wiring = Wiring::new(model, &top.t, fe_out);
    for i in 0..model.layers.len() {
        let out = top.layer(model, plan, i, &layout, &wiring);
        top.route(model, i, out, &layout, &mut wiring);
    }
    top.result_side();
    if opts.debug {
        top.debug_taps(&mut wiring);
    }
    Ok(top.finish(model, plan, &layout, wiring.tap_widths))
}

/// Refuse what the RTL generator cannot lower: a plan of another model.
fn check_lowerable(model: &Model, plan: &Plan) -> Result<(), GenError> {
    if plan.layers.len() != model.layers.len() {
        return Err(GenError::PlanMismatch(
            plan.layers.len(),
            model.layers.len(),
        ));
    }
    Ok(())
}

/// Bit widths of the top's two streams.
struct Layout {
    /// `s_axis_tdata`.
    in_w: u32,
    /// Widths of the class index and of a score, and the number of classes.
    cw: u32,
    sw: u32,
    k: usize,
    /// `m_axis_tdata`: `cw + k * sw`.
    out_w: u32,
    /// Width of each layer's output stream: a word of its channels (`plan::words`), the
    /// result word for the classifier.
    stream_bits: Vec<u32>,
}

impl Layout {
    fn of(model: &Model, plan: &Plan) -> Layout {
        let in_w = stream::input_width(&model.front_end, &model.input, plan.front_end);
        let last = model.layers.last().expect("a model has a classifier");
        let LayerKind::Classifier(cls) = &last.kind else {
            panic!("last layer must be the classifier")
        };
        let (sw, cw) = window::score_layout(&cls.weights, &cls.bias);
        let k = cls.weights.out_channels;
        let out_w = cw + sw * k as u32;
        let n = model.layers.len();
        let stream_bits = (0..n)
            .map(|i| match i + 1 == n {
                true => out_w,
                false => words::stream_channels(model, i, plan.layers[i].out_words) as u32,
            })
            .collect();
        Layout {
            in_w,
            cw,
            sw,
            k,
            out_w,
            stream_bits,
        }
    }

    /// Width of layer `i`'s output stream: the result word for the classifier.
    fn out_bits(&self, i: usize) -> u32 {
        self.stream_bits[i]
    }
}

/// The top's ports.
struct Ports {
    io: axis::Streams,
    frame_done: Sig,
    frame_error: Sig,
}

/// Where each layer's input streams come from, and the debug taps collected so far.
struct Wiring {
    /// Residuals that read each layer's output through a skip FIFO.
    skip_users: Vec<Vec<usize>>,
    /// Stream feeding each consumer: main input of layer j, skip input of residual j.
    main_in: Vec<Option<Stream>>,
    skip_in: Vec<Option<Stream>>,
    taps: Vec<(Expr, Expr)>,
    tap_widths: Vec<u32>,
}

impl Wiring {
    /// Consumers of each layer's output (next layer + residual skips), for forks; the front
    /// end feeds layer 0 and is the first tap.
    fn new(model: &Model, t: &ModuleBuilder, fe_out: Stream) -> Wiring {
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
        let mut main_in: Vec<Option<Stream>> = vec![None; n];
        main_in[0] = Some(fe_out);
        Wiring {
            skip_users,
            main_in,
            skip_in: vec![None; n],
            taps: vec![(t.e(fe_out.valid).and(t.e(fe_out.ready)), t.e(fe_out.data))],
            tap_widths: vec![model.front_end_shape().channels as u32],
        }
    }
}

/// The top module being built, its ports, and the child modules it instantiates (each
/// written once, in first-use order).
struct Top {
    t: ModuleBuilder,
    name: String,
    prefix: String,
    clk: Sig,
    rst: Sig,
    ports: Ports,
    opts: GenOptions,
    /// Weight ROMs in SPRAM and the top's load bus (when there are any).
    spram: Vec<SpramStore>,
    bus: Option<window::spram::LoadBus>,
    mods: BTreeMap<String, Module>,
    order: Vec<String>,
}

impl Top {
    /// The header comment and the ports.
    fn new(model: &Model, plan: &Plan, layout: &Layout, opts: GenOptions) -> Top {
        let prefix = ident(&model.meta.name);
        let name = format!("{prefix}_top");
        let mut t = ModuleBuilder::new(&name);
        top_doc(&mut t, model, plan, layout, opts);
        let clk = t.input("clk", 1, "clock, rising edge");
        let rst = t.input("rst", 1, "synchronous reset, active high");
        let io = axis::stream_ports(
            &mut t,
            (layout.in_w, "one pixel, all channels (see header)"),
            (layout.out_w, "{score[K-1], ..., score[0], class}"),
        );
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
        let ports = Ports {
            io,
            frame_done,
            frame_error,
        };
        let spram = match opts.spram {
            true => spram::assign(model, plan, UP5K_SPRAMS),
            false => Vec::new(),
        };
        let data_w = spram.iter().map(window::spram::LoadBus::data_width).max();
        let bus = data_w.map(|w| window::spram::LoadBus::inputs(&mut t, w));
        Top {
            t,
            name,
            prefix,
            clk,
            rst,
            ports,
            opts,
            spram,
            bus,
            mods: BTreeMap::new(),
            order: Vec::new(),
        }
    }

    /// Keep a child module for the output, once per name.
    fn add(&mut self, m: Module) {
        if !self.mods.contains_key(&m.name) {
            self.order.push(m.name.clone());
            self.mods.insert(m.name.clone(), m);
        }
    }

    /// The wires of one stream, `<name>_valid`, `_ready`, `_data`.
    fn stream(&mut self, name: &str, w: u32) -> Stream {
        Stream {
            valid: self.t.wire(&format!("{name}_valid"), 1),
            ready: self.t.wire(&format!("{name}_ready"), 1),
            data: self.t.wire(&format!("{name}_data"), w),
        }
    }

    /// Instantiate a clocked child: `sinks` are streams it consumes, `sources` streams it
    /// produces, each on its port; `extra` connections follow.
    fn place(
        &mut self,
        m: &Module,
        inst: &str,
        sinks: &[(Stream, Port)],
        sources: &[(Stream, Port)],
        extra: Vec<(&'static str, Conn)>,
    ) {
        let t = &self.t;
        let mut streams: Vec<_> = sinks.iter().map(|&(s, p)| s.sink(t, p)).collect();
        streams.extend(sources.iter().map(|&(s, p)| s.source(t, p)));
        let c = clocked(t, self.clk, self.rst, streams, extra);
        self.t.instance(m, inst, c);
    }

    /// Step 1: the front end, fed by `s_axis`; returns its output stream.
    fn front_end(&mut self, model: &Model, plan: &Plan) -> Stream {
        let fe = stream::front_end(
            &format!("{}_front_end", self.prefix),
            &model.front_end,
            &model.input,
            plan.front_end,
        );
        let fe_out = self.stream("fe", model.front_end_shape().channels as u32);
        let t = &self.t;
        let p = &self.ports;
        let axis = Stream {
            valid: p.io.s_tvalid,
            ready: p.io.s_tready,
            data: p.io.s_tdata,
        };
        let mut c = clocked(t, self.clk, self.rst, vec![axis.sink(t, S)], vec![]);
        c.push(("s_last", Conn::In(t.e(p.io.s_tlast))));
        c.extend(fe_out.source(t, M));
        c.push(("frame_error", Conn::Out(p.frame_error)));
        self.t.instance(&fe, "u_front_end", c);
        self.add(fe);
        fe_out
    }

    /// Step 2, per layer: its stage, fed by the streams wired for it; returns its output.
    fn layer(
        &mut self,
        model: &Model,
        plan: &Plan,
        i: usize,
        layout: &Layout,
        wiring: &Wiring,
    ) -> Stream {
        let l = &model.layers[i];
        let name = format!("{}_l{i}_{}", self.prefix, ident(&l.name));
        let input = wiring.main_in[i].expect("wired by the previous layer");
        let out_bits = layout.out_bits(i);
        let out = self.stream(&format!("l{i}"), out_bits);
        let m = match &l.kind {
            LayerKind::Residual(r) if r.with + 1 == i => {
                stream::residual_self(&name, out_bits, r.op)
            }
            LayerKind::Residual(r) => {
                let skip = wiring.skip_in[i].expect("skip stream wired");
                let rows = plan.layers[i].rows;
                self.residual(&name, i, rows, r.op, [input, skip, out], out_bits);
                return out;
            }
            _ if l.kind.fully_pruned() => constant_stage(&name, i, model),
            _ => {
                let store = self.spram.iter().find(|s| s.layer == i).copied();
                window_stage(&name, i, model, plan, self.opts, store)
            }
        };
        let extra = match (self.bus, m.port("wl_data")) {
            (Some(bus), Some(d)) => vec![
                ("wl_we", Conn::In(self.t.e(bus.we))),
                ("wl_addr", Conn::In(self.t.e(bus.addr))),
                ("wl_data", Conn::In(self.t.slice(bus.data, 0, d.width))),
            ],
            _ => vec![],
        };
        self.place(&m, &format!("u_l{i}"), &[(input, S)], &[(out, M)], extra);
        self.add(m);
        out
    }

    /// A residual with an earlier layer: the skip stream through its FIFO, then the combine.
    fn residual(
        &mut self,
        name: &str,
        i: usize,
        rows: usize,
        op: crate::model::ResidualOp,
        [input, skip, out]: [Stream; 3],
        out_bits: u32,
    ) {
        let m = stream::residual(name, out_bits, op);
        let fname = format!("{}_fifo_w{out_bits}_d{rows}", self.prefix);
        let f = stream::fifo(&fname, out_bits, rows, self.opts.rw_poison);
        let sk = self.stream(&format!("skip{i}"), out_bits);
        self.place(&f, &format!("u_skip{i}"), &[(skip, S)], &[(sk, M)], vec![]);
        self.place(
            &m,
            &format!("u_l{i}"),
            &[(input, A), (sk, B)],
            &[(out, M)],
            vec![],
        );
        self.add(f);
        self.add(m);
    }

    /// Step 3, per layer: tap its output, and hand it to its consumers (the next layer and
    /// residual skips, through a fork when there are several), or to `m_axis` for the last.
    fn route(
        &mut self,
        model: &Model,
        i: usize,
        out: Stream,
        layout: &Layout,
        wiring: &mut Wiring,
    ) {
        let n = model.layers.len();
        let out_bits = layout.out_bits(i);
        if i + 1 < n {
            let t = &self.t;
            wiring
                .taps
                .push((t.e(out.valid).and(t.e(out.ready)), t.e(out.data)));
            wiring.tap_widths.push(out_bits);
        }
        let mut consumers: Vec<(bool, usize)> = Vec::new();
        if i + 1 < n {
            consumers.push((true, i + 1));
        }
        consumers.extend(wiring.skip_users[i].iter().map(|&j| (false, j)));
        if i + 1 == n {
            let p = &self.ports;
            let t = &mut self.t;
            t.assign(p.io.m_tvalid, t.e(out.valid));
            t.assign(out.ready, t.e(p.io.m_tready));
            t.assign(p.io.m_tdata, t.e(out.data));
        } else if consumers.len() == 1 {
            wiring.main_in[i + 1] = Some(out);
        } else {
            self.fork(i, out, out_bits, &consumers, wiring);
        }
    }

    /// A fork that broadcasts layer `i`'s output to its consumers (main input when `true`).
    fn fork(
        &mut self,
        i: usize,
        out: Stream,
        out_bits: u32,
        consumers: &[(bool, usize)],
        wiring: &mut Wiring,
    ) {
        let fname = format!("{}_fork_w{out_bits}_n{}", self.prefix, consumers.len());
        let f = stream::fork(&fname, out_bits, consumers.len());
        let nc = consumers.len() as u32;
        let fv = self.t.wire(&format!("f{i}_valid"), nc);
        let fd = self.t.wire(&format!("f{i}_data"), out_bits);
        let mut readies = Vec::new();
        for (c, &(is_main, j)) in consumers.iter().enumerate() {
            let s = self.stream(&format!("f{i}_{c}"), out_bits);
            let t = &mut self.t;
            t.assign(s.valid, t.bit(fv, c as u32));
            t.assign(s.data, t.e(fd));
            readies.push(t.e(s.ready));
            if is_main {
                wiring.main_in[j] = Some(s);
            } else {
                wiring.skip_in[j] = Some(s);
            }
        }
        let extra = vec![
            ("m_valid", Conn::Out(fv)),
            ("m_ready", Conn::In(Expr::cat_lsb(readies))),
            ("m_data", Conn::Out(fd)),
        ];
        self.place(&f, &format!("u_fork{i}"), &[(out, S)], &[], extra);
        self.add(f);
    }

    /// Step 4: `m_axis_tlast` and the `frame_done` pulse.
    fn result_side(&mut self) {
        let p = &self.ports;
        let t = &mut self.t;
        t.assign(p.io.m_tlast, Expr::t());
        t.always(vec![Stmt::if_else(
            t.e(self.rst),
            vec![Stmt::set(p.frame_done, Expr::f())],
            vec![Stmt::set(
                p.frame_done,
                t.e(p.io.m_tvalid).and(t.e(p.io.m_tready)),
            )],
        )]);
    }

    /// Step 5 (`--debug`): every tapped stream's handshake and data on two ports.
    fn debug_taps(&mut self, wiring: &mut Wiring) {
        let t = &mut self.t;
        let taps = std::mem::take(&mut wiring.taps);
        let dv = t.output_wire(
            "dbg_fire",
            taps.len() as u32,
            "debug: handshake of each tapped stream",
        );
        let total: u32 = wiring.tap_widths.iter().sum();
        let dd = t.output_wire(
            "dbg_data",
            total,
            "debug: data of each tapped stream, front end at bit 0",
        );
        let (f, d): (Vec<Expr>, Vec<Expr>) = taps.into_iter().unzip();
        t.assign(dv, Expr::cat_lsb(f));
        t.assign(dd, Expr::cat_lsb(d));
    }

    /// Step 6: the modules (the AXI4-Stream wrapper and the top last) and the sensor's
    /// comparator table.
    fn finish(self, model: &Model, plan: &Plan, layout: &Layout, tap_widths: Vec<u32>) -> Design {
        let Top {
            t,
            name,
            prefix,
            mut mods,
            order,
            opts,
            spram,
            ..
        } = self;
        let mut modules: Vec<Module> = order
            .into_iter()
            .map(|n| mods.remove(&n).unwrap())
            .collect();
        let top = t.finish();
        // The AXI4-Stream wrapper has no load bus: a design with SPRAM is used bare.
        if !opts.debug && spram.is_empty() {
            modules.push(axis::wrapper(&prefix, &top, layout.in_w, layout.out_w));
        }
        modules.push(top);
        let mut files = Vec::new();
        if let (FrontEnd::Thermometer(th), Placement::Sensor) = (&model.front_end, plan.front_end) {
            let mut csv = String::from("channel,plane,level\n");
            for (c, ts) in th.thresholds.iter().enumerate() {
                for (k, v) in ts.iter().enumerate() {
                    csv.push_str(&format!("{c},{k},{v}\n"));
                }
            }
            files.push(("comparator_levels.csv".to_string(), csv));
        }
        let mut sim_models = Vec::new();
        if (modules.iter()).any(|m| m.mems.iter().any(|x| x.cells)) {
            sim_models.push((ebr::SIM_MODEL_FILE.to_string(), ebr::SIM_MODEL.to_string()));
        }
        Design {
            name: prefix,
            top: name,
            modules,
            files,
            class_width: layout.cw,
            score_width: layout.sw,
            classes: layout.k,
            input_width: layout.in_w,
            tap_widths,
            spram,
            sim_models,
        }
    }
}

/// A sliding-window stage (conv, max-pool, dense, classifier) for layer `i`, with its doc.
fn window_stage(
    name: &str,
    i: usize,
    model: &Model,
    plan: &Plan,
    opts: GenOptions,
    spram: Option<SpramStore>,
) -> Module {
    let l = &model.layers[i];
    let lp = &plan.layers[i];
    let (kh, kw, stride, pad) = window_of(l).unwrap();
    let mac = |w, out| WindowOp::Mac {
        w,
        pe: lp.pe,
        simd: lp.simd,
        taps: lp.taps,
        pop_stages: plan.popcount_stages,
        out,
    };
    let op = match &l.kind {
        LayerKind::MaxPool(_) => WindowOp::Or {
            groups: lp.ring_groups,
        },
        LayerKind::Conv(c) => mac(&c.weights, MacOut::Threshold(&c.activation)),
        LayerKind::Dense(d) => mac(&d.weights, MacOut::Threshold(&d.activation)),
        LayerKind::Classifier(c) => mac(&c.weights, MacOut::Scores(&c.bias)),
        LayerKind::Residual(_) => unreachable!("a residual is no window stage"),
    };
    let pad_mode = match &l.kind {
        LayerKind::Conv(c) => c.pad_mode,
        _ => crate::model::PadMode::Zero,
    };
    let spec = WindowSpec {
        module: name.to_string(),
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
        spram,
        weights_in_logic: lp.weights_in_logic,
        ecp5_cells: opts.ecp5_cells,
        rw_poison: opts.rw_poison,
        handoff: plan.handoff,
        ring: crate::plan::cost::ring::layer_ring(model, plan, i, opts.ram),
        out_words: lp.out_words,
        op,
    };
    let mut m = window::lower(&spec);
    m.doc.insert(0, layer_title(i, l));
    // At one tap per cycle the line reads as it did before taps existed.
    let taps = match lp.taps {
        1 => String::new(),
        t => format!(" x taps {t}"),
    };
    m.doc.insert(
        1,
        format!(
            "Folding: pe {} x simd {}{taps}, line buffer {} rows.",
            lp.pe, lp.simd, lp.rows
        ),
    );
    m
}

/// First doc line of layer `i`'s stage module: name, kind and shapes.
fn layer_title(i: usize, l: &crate::model::Layer) -> String {
    format!(
        "Layer {i} `{}` ({}), {} -> {}.",
        l.name,
        l.kind.tag(),
        l.input,
        l.output
    )
}

/// The stage of a fully pruned layer `i`: its constant output word with a window stage's
/// stream timing (`window::lower_constant`), with its doc.
fn constant_stage(name: &str, i: usize, model: &Model) -> Module {
    let l = &model.layers[i];
    let (kh, _, stride, pad) = window_of(l).unwrap();
    let spec = window::ConstantSpec {
        module: name.to_string(),
        input: l.input,
        out_h: l.output.height,
        out_w: l.output.width,
        kh,
        stride,
        pad,
        word: window::constant_word(&l.kind),
    };
    let mut m = window::lower_constant(&spec);
    m.doc.insert(0, layer_title(i, l));
    m.doc.insert(
        1,
        "Fully pruned (no kept tile): every output pixel is the same constant word, so there \
         is no line buffer, MAC or weight memory."
            .to_string(),
    );
    m
}

/// The top's header comment: what it computes, its ports and the plan's rate.
fn top_doc(t: &mut ModuleBuilder, model: &Model, plan: &Plan, layout: &Layout, opts: GenOptions) {
    let Layout {
        in_w, cw, sw, k, ..
    } = *layout;
    let i = &model.input;
    t.doc(format!(
        "Top of the `{}` accelerator: {}x{}x{} pixels of {} bits -> {} classes.",
        model.meta.name, i.height, i.width, i.channels, i.bits, k
    ));
    t.doc("");
    t.doc("Ports (AXI4-Stream style, all synchronous to clk; rst is synchronous, active high):");
    match plan.front_end {
        Placement::Digital => t.doc(format!(
            "  s_axis_tdata[{}:0]: one pixel per beat in raster order, channel c at bits [c*{b} +: {b}].",
            in_w - 1,
            b = i.bits
        )),
        Placement::Sensor => t.doc(format!(
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

/// [`digest`] of the files of `design` that tools read: every module's Verilog, the memory
/// images and the cell models (not `files.f` or the FuseSoC core, which only list them).
pub fn design_digest(design: &Design) -> String {
    let sources: Vec<(String, String)> = (design.modules.iter())
        .map(|m| (format!("{}.v", m.name), print::print_module(m)))
        .chain(design.files.iter().cloned())
        .chain(design.sim_models.iter().cloned())
        .collect();
    digest(sources.iter().map(|(n, t)| (n.as_str(), t.as_bytes())))
}

/// Verilog text of every module, by file name, the cell models, the file list `files.f` (for
/// simulation and lint: cell models first, then the modules in compile order, top last) and
/// the FuseSoC core `<name>.core`.
pub fn render(design: &Design) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut sources = Vec::new();
    for m in &design.modules {
        let f = format!("{}.v", m.name);
        out.push((f.clone(), print::print_module(m)));
        sources.push(f);
    }
    out.extend(design.files.iter().cloned());
    out.extend(design.sim_models.iter().cloned());
    let models: Vec<String> = design.sim_models.iter().map(|(n, _)| n.clone()).collect();
    let list: String = (models.iter().chain(&sources))
        .map(|f| format!("{f}\n"))
        .collect();
    out.push(("files.f".to_string(), list));
    out.push((
        format!("{}.core", design.name),
        fusesoc::core_file(&design.name, &design.top, &sources, &models),
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
