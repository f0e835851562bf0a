//! Benchmarks (run on demand, figures in docs/benchmarks.md):
//! `cargo test --release --test rtl_bench -- --ignored --nocapture`
//! Generation time of a ~1 Mbit model, and Verilator throughput (frames/s) for it and for a
//! Fashion-MNIST-sized model, each checked bit-exact against the reference model.

use bnngen::model::Model;
use bnngen::plan::{set_folding, HwConfig};
use bnngen::random::random_image;
use bnngen::rtl::{generate, render, GenOptions};
use bnngen::tools::verilator::{build, BuildOptions};
use bnngen::verify::{compare, stimulus, Stress};
use std::time::Instant;

/// A conv net over 28x28x1 8-bit images: GLT front end with `m` levels, then `layers`
/// (kind, out channels); weights from a fixed LCG.
fn net(name: &str, m: usize, layers: &[(&str, usize)]) -> Model {
    let mut x = 0x1234_5678u64;
    let mut hex = |bits: usize| -> String {
        (0..bits.div_ceil(4))
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                char::from_digit(((x >> 60) & 15) as u32, 16).unwrap()
            })
            .collect()
    };
    let th: Vec<String> = (0..m)
        .map(|k| ((k + 1) * 256 / (m + 1)).to_string())
        .collect();
    let mut t = format!(
        "format_version = 1\n[meta]\nname = \"{name}\"\n[input]\nheight = 28\nwidth = 28\nchannels = 1\nbits = 8\n[front_end]\nkind = \"glt\"\nthresholds = [{}]\n",
        th.join(", ")
    );
    let (mut h, mut c) = (28usize, m);
    for (i, &(kind, out)) in layers.iter().enumerate() {
        match kind {
            "conv" => {
                let zeros = vec!["0"; out].join(", ");
                let dirs = vec!["1"; out].join(", ");
                t += &format!("[[layers]]\nkind = \"conv\"\nname = \"conv{i}\"\nout_channels = {out}\nkernel = [3, 3]\npadding = 1\npad_mode = \"zero\"\nthresholds = [{zeros}]\ndirections = [{dirs}]\nweights = \"{}\"\n", hex(out * 9 * c));
                c = out;
            }
            "pool" => {
                t += &format!(
                    "[[layers]]\nkind = \"maxpool\"\nname = \"pool{i}\"\nkernel = 2\nstride = 2\n"
                );
                h /= 2;
            }
            "dense" => {
                let zeros = vec!["0"; out].join(", ");
                let dirs = vec!["1"; out].join(", ");
                t += &format!("[[layers]]\nkind = \"dense\"\nname = \"fc{i}\"\nout_features = {out}\nthresholds = [{zeros}]\ndirections = [{dirs}]\nweights = \"{}\"\n", hex(out * h * h * c));
                h = 1;
                c = out;
            }
            _ => unreachable!(),
        }
    }
    let bias = ["0"; 10].join(", ");
    t += &format!("[[layers]]\nkind = \"classifier\"\nname = \"head\"\nout_features = 10\nbias = [{bias}]\nweights = \"{}\"\n", hex(10 * h * h * c));
    bnngen::model::parse(&t, name).unwrap()
}

fn mbit() -> Model {
    net(
        "mbit",
        8,
        &[
            ("conv", 64),
            ("conv", 64),
            ("pool", 0),
            ("conv", 128),
            ("conv", 128),
            ("pool", 0),
            ("dense", 128),
        ],
    )
}

fn fmnist() -> Model {
    net(
        "fmnist",
        4,
        &[
            ("conv", 32),
            ("pool", 0),
            ("conv", 32),
            ("pool", 0),
            ("dense", 64),
        ],
    )
}

fn throughput(m: &Model, frames: usize) {
    let plan = set_folding(m, &HwConfig::default()).unwrap();
    let t0 = Instant::now();
    let d = generate(m, &plan, GenOptions::default()).unwrap();
    let files = render(&d);
    let gen_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let sim = build(&files, &d.top, BuildOptions::default()).unwrap();
    let build_s = t1.elapsed().as_secs_f64();
    let images: Vec<_> = (0..frames)
        .map(|i| random_image(i as u64, &m.input))
        .collect();
    let stim = stimulus(m, &d, plan.front_end, &images, Stress::none(), false);
    let t2 = Instant::now();
    let text = sim.run(&stim, None).unwrap();
    let run_s = t2.elapsed().as_secs_f64();
    let rep = compare(m, &d, &images, &text, false, sim.cached).unwrap();
    assert!(rep.passed(), "{}", rep.failure());
    println!(
        "{}: {} weight bits, generate+render {:.3} s, verilator build {:.1} s (cached: {}), {} frames in {:.2} s = {:.1} frames/s, {} cycles/frame (plan {}), {:.2} Mcycles/s",
        m.meta.name,
        plan.weight_bits,
        gen_s,
        build_s,
        sim.cached,
        frames,
        run_s,
        frames as f64 / run_s,
        rep.measured_cycles_per_frame.unwrap_or(0),
        plan.cycles_per_frame,
        rep.cycles as f64 / run_s / 1e6
    );
}

#[test]
#[ignore = "benchmark; run with --ignored"]
fn bench_generation_1mbit() {
    let m = mbit();
    let plan = set_folding(&m, &HwConfig::default()).unwrap();
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let d = generate(&m, &plan, GenOptions::default()).unwrap();
        let files = render(&d);
        assert!(!files.is_empty());
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "generation of {} weight bits: best of 3 {:.3} s",
        plan.weight_bits, best
    );
}

#[test]
#[ignore = "benchmark; run with --ignored"]
fn bench_verilator_throughput() {
    throughput(&fmnist(), 20);
    throughput(&mbit(), 4);
}
