//! LUT4 per XNOR-popcount lane on iCE40 (issue #4): Yosys's own mapping of a `+` chain
//! ("naive") against our compressor tree (`rtl::popcount_tree`), side by side from one run.
//!
//! Run: `cargo bench --no-default-features --bench popcount` (lane counts as arguments to
//! override 32 64 128 256 512). For each lane count and variant it builds one isolated module
//! with the netlist IR, writes it under `<target>/tmp/popcount-bench/`, runs Yosys
//! `synth_ice40` (LUT4, carry, FF counts from `stat -json`) and `nextpnr-ice40 --up5k
//! --pack-only` (logic cells after packing: a LUT4 and its carry share a cell, but a carry-out
//! or a signal carry-in used by logic costs an extra pass-through cell, so LC counts what
//! carry chains really cost), then prints markdown tables. A missing Yosys or nextpnr is an
//! error naming the package, never a skip. With `--fmax` it also places and routes a
//! serial-load variant of each module (same registers and logic, 1-bit input ports so it fits
//! a UP5K package) and prints nextpnr's Fmax.
//!
//! Modules (registers on every input and on the output, so I/O does not count):
//! - *isolated* (the figure): `n` lanes of `a` and `w` registered in, XNOR, pop count,
//!   threshold compare, registered out. Naive: `p = x[0] + x[1] + ...; y <= p >= t`. Ours:
//!   `xnor_popcount` (XNOR absorbed into the leaves) and the compare as the carry-out of
//!   `p + ~t + 1`, the threshold table holding `~t` (thresholds are generation-time constants).
//! - *datapath* (what `window.rs` builds): XNOR registered per lane first, then the pop count
//!   and `y <= p >= t` in both variants. Old: `popcount_adders` (the former adder tree);
//!   new: `popcount` (now the compressor tree).

use bnngen::rtl::netlist::{Expr, Module, ModuleBuilder, Stmt};
use bnngen::rtl::popcount_tree::{popcount, popcount_adders, popcount_width, xnor_popcount};
use bnngen::rtl::print::print_module;
use bnngen::tools::locate::{find, NEXTPNR_ICE40};
use bnngen::tools::yosys::{CellFamily, Yosys};
use std::path::Path;
use std::process::Command;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    IsoNaive,
    IsoOurs,
    DpOld,
    DpNew,
}

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Kind::IsoNaive => "iso_naive",
            Kind::IsoOurs => "iso_ours",
            Kind::DpOld => "dp_old",
            Kind::DpNew => "dp_new",
        }
    }
}

/// The benchmark module for `n` lanes. `serial`: the input registers are shift registers
/// loaded from 1-bit ports (same registers and logic, few enough pins to place on a UP5K).
fn module(kind: Kind, n: u32, serial: bool) -> Module {
    let pw = popcount_width(n);
    let mut b = ModuleBuilder::new("top");
    let _clk = b.input("clk", 1, "clock");
    let (iw, it) = if serial { (1, 1) } else { (n, pw) };
    let a_in = b.input("a_in", iw, "activations");
    let w_in = b.input("w_in", iw, "weights");
    let t_in = b.input("t_in", it, "threshold (ours: its complement)");
    let y = b.output_reg("y", 1, "p >= t");
    let a = b.reg("a", n);
    let w = b.reg("w", n);
    let t = b.reg("t", pw);
    let load = |b: &ModuleBuilder, r: bnngen::rtl::netlist::Sig, i| {
        if serial {
            Expr::cat_lsb(vec![b.e(i), b.slice(r, 0, r.width - 1)])
        } else {
            b.e(i)
        }
    };
    b.always(vec![
        Stmt::set(a, load(&b, a, a_in)),
        Stmt::set(w, load(&b, w, w_in)),
        Stmt::set(t, load(&b, t, t_in)),
    ]);
    let en = Expr::t();
    let xnor = |b: &ModuleBuilder| b.e(a).xor(b.e(w)).not();
    let ge = match kind {
        Kind::IsoNaive => {
            let x = b.let_("x", xnor(&b));
            let xs = bnngen::rtl::build::sig_of(&b, &x);
            let mut p = b.bit(xs, 0).zext(pw);
            for i in 1..n {
                p = p.add(b.bit(xs, i).zext(pw));
            }
            p.ge(b.e(t))
        }
        Kind::IsoOurs => {
            let (ae, we) = (b.e(a), b.e(w));
            let (p, _) = xnor_popcount(&mut b, ae, we, 0, &en, "pop");
            let p = b.let_("p", p);
            let ps = bnngen::rtl::build::sig_of(&b, &p);
            // p >= t  <=>  carry out of p + ~t + 1 (bit 0 swapped: see popcount_tree).
            let lo = |b: &ModuleBuilder, s, other| {
                Expr::cat_lsb(vec![b.bit(other, 0), b.slice(s, 1, pw - 1), Expr::f()])
            };
            let sum = lo(&b, ps, t).add(lo(&b, t, ps)).add(Expr::lit(1, pw + 1));
            let c = b.let_("cmp", sum);
            let cs = bnngen::rtl::build::sig_of(&b, &c);
            b.bit(cs, pw)
        }
        Kind::DpOld | Kind::DpNew => {
            let xn = b.reg("xn", n);
            b.always(vec![Stmt::set(xn, xnor(&b))]);
            let v = b.e(xn);
            let (p, _) = if kind == Kind::DpOld {
                popcount_adders(&mut b, v, 0, &en, "pop")
            } else {
                popcount(&mut b, v, 0, &en, "pop")
            };
            p.ge(b.e(t))
        }
    };
    b.always(vec![Stmt::set(y, ge)]);
    b.finish()
}

#[derive(Default, Clone, Copy)]
struct Figures {
    luts: u64,
    carry: u64,
    ffs: u64,
    lcs: u64,
    /// MHz, from placement and routing of the serial-load variant (`--fmax` only).
    fmax: Option<f64>,
}

fn measure(dir: &Path, kind: Kind, n: u32, fmax: bool) -> Figures {
    let name = format!("{}_{n}", kind.tag());
    std::fs::write(
        dir.join(format!("{name}.v")),
        print_module(&module(kind, n, false)),
    )
    .unwrap();
    let yosys = Yosys::find().unwrap_or_else(|e| fail(&e.to_string()));
    let script = format!("read_verilog {name}.v\nsynth_ice40 -top top\nwrite_json {name}.json");
    let run = yosys
        .run(dir, &name, &script, CellFamily::Ice40)
        .unwrap_or_else(|e| fail(&e.to_string()));
    let nextpnr = find(NEXTPNR_ICE40).unwrap_or_else(|e| fail(&e.to_string()));
    let log = format!("{name}.pnr.log");
    let out = Command::new(&nextpnr.path)
        .current_dir(dir)
        .args(["--up5k", "--pack-only", "-q", "--json"])
        .arg(format!("{name}.json"))
        .args(["-l", &log])
        .output()
        .unwrap_or_else(|e| fail(&format!("running nextpnr-ice40: {e}")));
    let text = std::fs::read_to_string(dir.join(&log)).unwrap_or_default();
    if !out.status.success() {
        fail(&format!(
            "nextpnr-ice40 failed on {name} (log {}):\n{}",
            dir.join(&log).display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let lcs = text
        .lines()
        .filter_map(|l| l.split("ICESTORM_LC:").nth(1))
        .filter_map(|r| r.trim().split('/').next()?.trim().parse().ok())
        .next_back()
        .unwrap_or_else(|| fail(&format!("no ICESTORM_LC count in {}", log)));
    Figures {
        luts: run.resources.luts,
        carry: run.resources.carry,
        ffs: run.resources.ffs,
        lcs,
        fmax: fmax.then(|| place_and_route(dir, kind, n, &nextpnr.path)),
    }
}

/// Fmax (MHz) of the serial-load variant on a UP5K (nextpnr seed 1, 48 MHz target).
fn place_and_route(dir: &Path, kind: Kind, n: u32, nextpnr: &Path) -> f64 {
    let name = format!("{}_{n}_serial", kind.tag());
    std::fs::write(
        dir.join(format!("{name}.v")),
        print_module(&module(kind, n, true)),
    )
    .unwrap();
    let yosys = Yosys::find().unwrap_or_else(|e| fail(&e.to_string()));
    let script = format!("read_verilog {name}.v\nsynth_ice40 -top top\nwrite_json {name}.json");
    yosys
        .run(dir, &name, &script, CellFamily::Ice40)
        .unwrap_or_else(|e| fail(&e.to_string()));
    let log = format!("{name}.pnr.log");
    let out = Command::new(nextpnr)
        .current_dir(dir)
        .args(["--up5k", "--package", "sg48", "--seed", "1", "--freq", "48"])
        .args([
            "--timing-allow-fail",
            "--pcf-allow-unconstrained",
            "-q",
            "--json",
        ])
        .arg(format!("{name}.json"))
        .args(["-l", &log])
        .output()
        .unwrap_or_else(|e| fail(&format!("running nextpnr-ice40: {e}")));
    let text = std::fs::read_to_string(dir.join(&log)).unwrap_or_default();
    if !out.status.success() {
        fail(&format!(
            "nextpnr-ice40 failed on {name} (log {})",
            dir.join(&log).display()
        ));
    }
    text.lines()
        .filter(|l| l.contains("Max frequency for clock"))
        .filter_map(|l| {
            l.split("': ")
                .nth(1)?
                .split(" MHz")
                .next()?
                .trim()
                .parse()
                .ok()
        })
        .next_back()
        .unwrap_or_else(|| fail(&format!("no Fmax in {}", dir.join(&log).display())))
}

fn fail(msg: &str) -> ! {
    eprintln!("popcount bench: {msg}");
    std::process::exit(1)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let fmax = args.iter().any(|a| a == "--fmax");
    let mut lanes: Vec<u32> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if lanes.is_empty() {
        lanes = vec![32, 64, 128, 256, 512];
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("popcount-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let per = |x: u64, n: u32| x as f64 / n as f64;
    let mut iso = Vec::new();
    let mut dp = Vec::new();
    for &n in &lanes {
        let f: Vec<Figures> = [Kind::IsoNaive, Kind::IsoOurs, Kind::DpOld, Kind::DpNew]
            .iter()
            .map(|&k| measure(&dir, k, n, fmax))
            .collect();
        iso.push((n, f[0], f[1]));
        dp.push((n, f[2], f[3]));
        eprintln!("{n} lanes done");
    }
    println!("Isolated XNOR-popcount-threshold, iCE40 (Yosys synth_ice40; LC: nextpnr-ice40 --up5k --pack-only)\n");
    println!("| lanes | naive LUT4 | naive LUT4/lane | ours LUT4 | ours LUT4/lane | ours/naive | naive carry | ours carry | FFs | naive LC | ours LC | naive logic LC/lane | ours logic LC/lane |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (n, a, o) in &iso {
        println!(
            "| {n} | {} | {:.2} | {} | {:.2} | {:.3} | {} | {} | {} | {} | {} | {:.2} | {:.2} |",
            a.luts,
            per(a.luts, *n),
            o.luts,
            per(o.luts, *n),
            o.luts as f64 / a.luts as f64,
            a.carry,
            o.carry,
            a.ffs,
            a.lcs,
            o.lcs,
            per(a.lcs - a.ffs, *n),
            per(o.lcs - o.ffs, *n),
        );
    }
    if fmax {
        println!("\nFmax (MHz), serial-load variants placed and routed on a UP5K (nextpnr-ice40 seed 1), one combinational path from input registers to y\n");
        println!("| lanes | isolated naive | isolated ours | datapath old | datapath new |");
        println!("|---:|---:|---:|---:|---:|");
        for ((n, a, o), (_, d, e)) in iso.iter().zip(&dp) {
            let f = |x: &Figures| x.fmax.map_or("-".into(), |v| format!("{v:.2}"));
            println!("| {n} | {} | {} | {} | {} |", f(a), f(o), f(d), f(e));
        }
    }
    println!("\nDatapath form (XNOR registered per lane, then pop count and compare), as window.rs builds it\n");
    println!("| lanes | old adder tree LUT4 | LUT4/lane | compressor tree LUT4 | LUT4/lane | new/old | old LC | new LC |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (n, a, o) in &dp {
        println!(
            "| {n} | {} | {:.2} | {} | {:.2} | {:.3} | {} | {} |",
            a.luts,
            per(a.luts, *n),
            o.luts,
            per(o.luts, *n),
            o.luts as f64 / a.luts as f64,
            a.lcs,
            o.lcs,
        );
    }
}
