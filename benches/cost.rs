//! The cost model against Yosys on the shipped models: prints a Markdown table of estimate
//! against measured (LUTs, flip-flops, carry cells, block RAM) per model and family, as in
//! docs/benchmarks.md. Each model is folded by its shipped hw file and synthesized bare (no
//! board top) as `bnngen synth` maps it; a run takes tens of minutes on a shared machine,
//! which is why this is a bench and `tests/cost.rs` covers small random models.
//!
//! `cargo bench --bench cost` (all shipped models), or name models and targets:
//! `cargo bench --bench cost -- fashion-up5k ice40-up5k`.

use bnngen::plan::cost::{self, ram::RamFamily};
use bnngen::synth::{gate_sim, Target};
use std::path::Path;

const MODELS: [&str; 4] = [
    "tiny",
    "fashion-up5k-pruned",
    "fashion-up5k",
    "fashion-default",
];
const TARGETS: [Target; 2] = [Target::Ice40Up5k, Target::Ecp5_85k];

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let models: Vec<&str> = MODELS
        .into_iter()
        .filter(|m| args.is_empty() || args.iter().any(|a| a == m))
        .collect();
    let targets: Vec<Target> = TARGETS
        .into_iter()
        .filter(|t| {
            !args.iter().any(|a| Target::parse(a).is_ok()) || args.iter().any(|a| a == t.name())
        })
        .collect();
    println!("| model | target | LUT est / Yosys | FF est / Yosys | carry est / Yosys | block RAM est / Yosys |");
    println!("|---|---|---:|---:|---:|---:|");
    for name in models {
        let model_path = Path::new("models").join(format!("{name}.toml"));
        let hw = Path::new("models").join(format!("{name}.hw.toml"));
        let m = bnngen::model::load(&model_path).expect("shipped model");
        let p = if hw.is_file() {
            bnngen::plan::fold_hw_file(&m, &hw)
                .expect("shipped hw file")
                .1
        } else {
            bnngen::plan::set_folding(&m, &Default::default()).expect("default plan")
        };
        let est = cost::estimate(&m, &p);
        for &t in &targets {
            let e = match t.ram_family() {
                RamFamily::Ice40 => est.total.ice40,
                RamFamily::Ecp5 => est.total.ecp5,
            };
            let design = bnngen::synth::design_for(&m, &p, t).expect("design");
            let dir = tempfile::tempdir().expect("temporary folder");
            let pixels = m.input.height * m.input.width;
            let (_, r) = gate_sim::synthesize_netlist(&design, pixels, t, dir.path())
                .unwrap_or_else(|e| panic!("{name} {t}: Yosys failed (scripts/setup.sh): {e}"));
            let pct = |a: u64, b: u64| 100.0 * (a as f64 - b as f64) / b.max(1) as f64;
            println!(
                "| {name} | {t} | {} / {} ({:+.0}%) | {} / {} ({:+.0}%) | {} / {} | {} / {} |",
                e.luts,
                r.luts,
                pct(e.luts, r.luts),
                e.ffs,
                r.ffs,
                pct(e.ffs, r.ffs),
                e.carry,
                r.carry,
                e.bram,
                r.bram
            );
        }
    }
}
