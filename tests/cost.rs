//! The cost model against Yosys: `plan::cost::estimate` beside `synthesize_netlist` (the bare
//! accelerator, as `bnngen synth` maps it) on random models, for iCE40 and ECP5.
//!
//! Block RAM must be exact. LUTs and flip-flops: within 15% on every model and 10% on average,
//! the goal (seeds 1-3 measured 2026-12-08: mean 6.9%, largest -13.5%, ECP5
//! flip-flops of seed 1). Seeds 4-6 do not meet it yet (seed 4's flip-flops +22% on iCE40 and
//! +19% on ECP5, seed 6's ECP5 LUTs +21%), so `BNNGEN_COST_SEEDS=6` fails, naming them. The shipped models take many minutes each on a shared machine, so
//! they are compared by the benches (`cargo bench --bench cost`, `--bench cost_fit`),
//! not here. CI compares random models of seeds 1-3 (six Yosys runs, a few minutes on two
//! cores); `BNNGEN_COST_SEEDS=10 cargo test --test cost` compares seeds 1-10, the run that
//! docs/benchmarks.md reports. Needs Yosys (`scripts/setup.sh`): fails, never skips, without
//! it.

use bnngen::plan::{self, cost, HwConfig};
use bnngen::random::{random_model, RandomOptions};
use bnngen::synth::{gate_sim, Target};

/// Relative difference allowed on LUTs and flip-flops: on any one model, and on average.
const TOLERANCE: f64 = 0.15;
const MEAN_TOLERANCE: f64 = 0.10;

/// Compare one model on one target; pushes the LUT and FF relative errors to `errors`.
fn check(seed: u64, target: Target, errors: &mut Vec<f64>) -> Vec<String> {
    let m = random_model(seed, &RandomOptions::default());
    let p = plan::set_folding(&m, &HwConfig::default()).unwrap();
    let est = cost::estimate(&m, &p);
    let e = match target.ram_family() {
        cost::ram::RamFamily::Ice40 => est.total.ice40,
        cost::ram::RamFamily::Ecp5 => est.total.ecp5,
    };
    let design = bnngen::synth::design_for(&m, &p, target).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pixels = m.input.height * m.input.width;
    let (_, r) =
        gate_sim::synthesize_netlist(&design, pixels, target, dir.path()).unwrap_or_else(|e| {
            panic!("seed {seed} {target}: Yosys failed (is it installed? scripts/setup.sh): {e}")
        });
    let mut bad = Vec::new();
    let line = format!(
        "seed {seed} {target}: LUT {}/{} FF {}/{} BRAM {}/{} LUTRAM {}/{}",
        e.luts, r.luts, e.ffs, r.ffs, e.bram, r.bram, e.lutram, r.lutram
    );
    eprintln!("{line}");
    if e.bram != r.bram {
        bad.push(format!("{line}: block RAM differs"));
    }
    for (what, est, meas) in [("LUT", e.luts, r.luts), ("FF", e.ffs, r.ffs)] {
        let err = (est as f64 - meas as f64).abs() / (meas.max(1) as f64);
        errors.push(err);
        if err > TOLERANCE {
            bad.push(format!("{line}: {what} off by {:.0}%", err * 100.0));
        }
    }
    bad
}

#[test]
fn estimate_matches_yosys_on_random_models() {
    let mut bad = Vec::new();
    let mut errors = Vec::new();
    let seeds: u64 = match std::env::var("BNNGEN_COST_SEEDS") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("BNNGEN_COST_SEEDS={v:?}: a count of seeds")),
        Err(_) => 3,
    };
    for seed in 1..=seeds {
        for target in [Target::Ice40Up5k, Target::Ecp5_25k] {
            bad.extend(check(seed, target, &mut errors));
        }
    }
    let mean = errors.iter().sum::<f64>() / errors.len() as f64;
    eprintln!("mean LUT/FF error {:.1}%", mean * 100.0);
    if mean > MEAN_TOLERANCE {
        bad.push(format!("mean LUT/FF error {:.1}%", mean * 100.0));
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
