//! The compressor-tree pop counts (`rtl::popcount_tree`: `xnor_popcount`, and `popcount`,
//! which uses the tree from 4 bits on) are bit-exact: Verilator simulates every generated pop count on the same
//! vectors and each result is compared with `count_ones` as an integer. The vectors are
//! exhaustive over the low 12 bits (plain) or 6 lanes of `x` and `w` (XNOR), then random
//! with densities from all-zero to all-one. Every pop-count module is also clean under
//! `verilator --lint-only -Wall`. A missing Verilator fails the test with its package name.

use bnngen::rtl::netlist::{Expr, Module, ModuleBuilder};
use bnngen::rtl::popcount_tree::{popcount, popcount_width, xnor_popcount};
use bnngen::rtl::print::print_module;
use bnngen::tools::verilator;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

const W: usize = 512;

struct Dut {
    module: Module,
    n: u32,
    xnor: bool,
    latency: u32,
    clocked: bool,
}

fn dut(n: u32, xnor: bool, stages: u32) -> Dut {
    let name = format!("pc_{}_{n}_s{stages}", if xnor { "xnor" } else { "plain" });
    let mut b = ModuleBuilder::new(&name);
    let clocked = stages > 0;
    let en = if clocked {
        let _clk = b.input("clk", 1, "clock");
        let en = b.input("en", 1, "pipeline enable");
        b.e(en)
    } else {
        Expr::t()
    };
    let x = b.input("x", n, "bits (or activations)");
    let (cnt, latency) = if xnor {
        let w = b.input("w", n, "weights");
        let (xe, we) = (b.e(x), b.e(w));
        xnor_popcount(&mut b, xe, we, stages, &en, "pop")
    } else {
        let xe = b.e(x);
        popcount(&mut b, xe, stages, &en, "pop")
    };
    assert_eq!(cnt.width, popcount_width(n));
    let o = b.output_wire("cnt", cnt.width, "pop count");
    b.assign(o, cnt);
    Dut {
        module: b.finish(),
        n,
        xnor,
        latency,
        clocked,
    }
}

fn duts() -> Vec<Dut> {
    let mut v = Vec::new();
    for n in (1..=13).chain([16, 17, 31, 32, 33, 64, 100, 128, 255, 256, 512]) {
        for stages in [0, 1, 2, 9] {
            v.push(dut(n, false, stages));
            if n >= 4 {
                v.push(dut(n, true, stages));
            }
        }
    }
    v
}

/// Deterministic xorshift64* stream.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// A W-bit vector whose bits are 1 with probability d/8.
    fn vector(&mut self, d: u64) -> Vec<bool> {
        (0..W).map(|_| self.next() % 8 < d).collect()
    }
}

/// Stimulus pairs (x, w): exhaustive low bits first, then random densities.
fn vectors() -> Vec<(Vec<bool>, Vec<bool>)> {
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::new();
    for i in 0..4096u64 {
        let mut x = r.vector(4);
        let mut w = r.vector(4);
        for (k, b) in x.iter_mut().take(12).enumerate() {
            *b = (i >> k) & 1 == 1;
        }
        // XNOR duts read lanes 0..6 of x and w: exhaustive over those 12 bits too.
        for (k, b) in w.iter_mut().take(6).enumerate() {
            *b = (i >> (k + 6)) & 1 == 1;
        }
        out.push((x, w));
    }
    for j in 0..1200u64 {
        let d = j % 9;
        let x = r.vector(d);
        // w = x (all lanes match) or random.
        let w = if j % 3 == 0 {
            x.clone()
        } else {
            r.vector(8 - d)
        };
        out.push((x, w));
    }
    out
}

fn hex(bits: &[bool]) -> String {
    let mut s = String::new();
    for d in (0..bits.len() / 4).rev() {
        let v = (0..4).fold(0, |a, b| a | ((bits[d * 4 + b] as u32) << b));
        s.push(char::from_digit(v, 16).unwrap());
    }
    s
}

fn testbench(duts: &[Dut], nv: usize) -> String {
    let mut t = String::new();
    writeln!(t, "module tb;").unwrap();
    writeln!(t, "  reg clk = 1'b0;").unwrap();
    writeln!(t, "  reg [{}:0] xm [0:{}];", W - 1, nv - 1).unwrap();
    writeln!(t, "  reg [{}:0] wm [0:{}];", W - 1, nv - 1).unwrap();
    writeln!(t, "  reg [{}:0] x, w;", W - 1).unwrap();
    for (i, d) in duts.iter().enumerate() {
        let pw = popcount_width(d.n);
        writeln!(t, "  wire [{}:0] c{i};", pw - 1).unwrap();
        let mut conns = vec![format!(".x(x[{}:0])", d.n - 1)];
        if d.xnor {
            conns.push(format!(".w(w[{}:0])", d.n - 1));
        }
        if d.clocked {
            conns.push(".clk(clk)".into());
            conns.push(".en(1'b1)".into());
        }
        conns.push(format!(".cnt(c{i})"));
        writeln!(t, "  {} u{i}({});", d.module.name, conns.join(", ")).unwrap();
    }
    let fmt: Vec<&str> = duts.iter().map(|_| "%0d").collect();
    let args: Vec<String> = (0..duts.len()).map(|i| format!("c{i}")).collect();
    writeln!(t, "  integer i, f;").unwrap();
    writeln!(t, "  initial begin").unwrap();
    writeln!(t, "    $readmemh(\"x.hex\", xm);").unwrap();
    writeln!(t, "    $readmemh(\"w.hex\", wm);").unwrap();
    writeln!(t, "    f = $fopen(\"out.txt\", \"w\");").unwrap();
    writeln!(t, "    for (i = 0; i < {nv}; i = i + 1) begin").unwrap();
    writeln!(t, "      x = xm[i]; w = wm[i];").unwrap();
    writeln!(t, "      #1;").unwrap();
    writeln!(
        t,
        "      $fwrite(f, \"{}\\n\", {});",
        fmt.join(" "),
        args.join(", ")
    )
    .unwrap();
    writeln!(t, "      clk = 1'b1; #1; clk = 1'b0;").unwrap();
    writeln!(t, "    end").unwrap();
    writeln!(t, "    $fclose(f);").unwrap();
    writeln!(t, "    $finish;").unwrap();
    writeln!(t, "  end").unwrap();
    writeln!(t, "endmodule").unwrap();
    t
}

fn work_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("popcount_tree");
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(dir: &Path, cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{what} failed in {}:\n{text}",
        dir.display()
    );
    text
}

#[test]
fn popcount_trees_match_count_ones_in_verilator() {
    let vl = verilator::verilator().unwrap_or_else(|e| panic!("{e}"));
    let dir = work_dir();
    let duts = duts();
    // Lint every pop-count module on its own, -Wall, no waivers.
    for d in &duts {
        let sub = dir.join(&d.module.name);
        std::fs::create_dir_all(&sub).unwrap();
        let file = format!("{}.v", d.module.name);
        std::fs::write(sub.join(&file), print_module(&d.module)).unwrap();
        std::fs::write(sub.join("files.f"), format!("{file}\n")).unwrap();
        verilator::lint(&sub, &d.module.name)
            .unwrap_or_else(|e| panic!("lint of {}: {e}", d.module.name));
    }
    let vecs = vectors();
    let nv = vecs.len();
    let mut xs = String::new();
    let mut ws = String::new();
    for (x, w) in &vecs {
        writeln!(xs, "{}", hex(x)).unwrap();
        writeln!(ws, "{}", hex(w)).unwrap();
    }
    std::fs::write(dir.join("x.hex"), xs).unwrap();
    std::fs::write(dir.join("w.hex"), ws).unwrap();
    let mut all = String::new();
    for d in &duts {
        all.push_str(&print_module(&d.module));
        all.push('\n');
    }
    std::fs::write(dir.join("duts.v"), all).unwrap();
    std::fs::write(dir.join("tb.v"), testbench(&duts, nv)).unwrap();
    run(
        &dir,
        Command::new(&vl).args([
            "--binary",
            "-Wno-fatal",
            "-j",
            "2",
            "--top-module",
            "tb",
            "-Mdir",
            "obj",
            "tb.v",
            "duts.v",
        ]),
        "verilator --binary",
    );
    run(
        &dir,
        &mut Command::new(dir.join("obj").join("Vtb")),
        "simulation",
    );
    let out = std::fs::read_to_string(dir.join("out.txt")).unwrap();
    let rows: Vec<Vec<u64>> = out
        .lines()
        .map(|l| l.split_whitespace().map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), nv, "one output line per vector");
    let mut checked = 0;
    for (k, d) in duts.iter().enumerate() {
        let lat = d.latency as usize;
        for (i, row) in rows.iter().enumerate().skip(lat) {
            let (x, w) = &vecs[i - lat];
            let want = (0..d.n as usize)
                .filter(|&j| if d.xnor { x[j] == w[j] } else { x[j] })
                .count() as u64;
            assert_eq!(
                row[k],
                want,
                "{} (latency {lat}) on vector {}: got {}, count_ones {want}",
                d.module.name,
                i - lat,
                row[k]
            );
            checked += 1;
        }
    }
    eprintln!(
        "{} pop-count modules, {checked} results compared",
        duts.len()
    );
}

#[test]
fn latency_follows_stages() {
    // Same contract as the former adder tree: at most `stages` registers, at least one when
    // asked, none when not.
    for n in [4, 5, 13, 64, 512] {
        assert_eq!(dut(n, false, 0).latency, 0);
        assert_eq!(dut(n, false, 1).latency, 1);
        assert_eq!(dut(n, true, 0).latency, 0);
        assert_eq!(dut(n, true, 1).latency, 1);
        assert!(dut(n, false, 2).latency == 2);
        assert!(dut(n, false, 99).latency >= 2);
    }
}

/// The cost model counts the pipeline's flip-flops from the tree's shape
/// (`plan::cost::pipeline`) without building it: its count and latency must be those of the
/// registers that `popcount` declares, for every width and depth a MAC stage can ask for.
#[test]
fn cost_model_counts_the_trees_registers() {
    use bnngen::plan::cost::pipeline::popcount_registers;
    use bnngen::rtl::netlist::SigKind;
    for n in (1..=70).chain([96, 127, 128, 129, 255, 256, 384, 512, 576, 1024]) {
        for stages in 0..=5 {
            let d = dut(n, false, stages);
            let regs: u64 = d
                .module
                .sigs
                .iter()
                .filter(|s| matches!(s.kind, SigKind::Reg | SigKind::OutputReg))
                .map(|s| s.width as u64)
                .sum();
            assert_eq!(
                popcount_registers(n, stages),
                (regs, d.latency),
                "{n} bits, {stages} stages"
            );
        }
    }
}
