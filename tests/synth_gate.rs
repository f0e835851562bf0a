//! Gate-level proof in CI: a small model goes through iCE40 synthesis, its mapped netlist is
//! simulated with Yosys's iCE40 cell models in Verilator, and every class and score must equal
//! the reference model's. The same accelerator is then placed and routed on the iCEBreaker
//! (UP5K) through `bnngen synth`'s flow. Needs yosys, nextpnr-ice40, icepack, verilator, g++,
//! make (scripts/setup.sh installs them); fails, never skips, without them.

use bnngen::model::random::random_image;
use bnngen::plan::{set_folding, HwConfig};
use bnngen::synth::gate_sim::{rtl_design, simulate_netlist};
use bnngen::synth::{self, PlanFigures, SynthOptions, Target};
use bnngen::verify::Stress;
use std::path::Path;

fn tiny() -> bnngen::model::Model {
    bnngen::model::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models/tiny.toml")).unwrap()
}

#[test]
fn tiny_ice40_netlist_is_bit_exact() {
    let model = tiny();
    let plan = set_folding(&model, &HwConfig::default()).unwrap();
    let images: Vec<_> = (0..5)
        .map(|i| random_image(4000 + i, &model.input))
        .collect();
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gate-tiny-up5k");
    let _ = std::fs::remove_dir_all(&work);
    let g = simulate_netlist(
        &model,
        &plan,
        Target::Ice40Up5k,
        &images,
        Stress::random(7),
        false,
        &work,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let netlist = std::fs::read_to_string(&g.netlist).unwrap();
    assert!(netlist.contains("SB_LUT4"), "a mapped iCE40 netlist");
    assert!(g.resources.luts > 0);
    let r = &g.report;
    assert_eq!(r.results.len(), 5, "timeout={}", r.timeout);
    assert!(
        r.passed(),
        "gate-level mismatch: {:?}",
        r.mismatches.first()
    );
}

#[test]
fn tiny_places_and_routes_on_up5k() {
    let model = tiny();
    let plan = set_folding(&model, &HwConfig::default()).unwrap();
    let design = bnngen::rtl::generate(&model, &plan, Default::default()).unwrap();
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("synth-tiny-up5k");
    let _ = std::fs::remove_dir_all(&work);
    let rtl_dir = work.join("rtl");
    bnngen::rtl::write_dir(&design, &rtl_dir).unwrap();
    let rtl = rtl_design(&design, 36, &rtl_dir);
    let figures = PlanFigures {
        model: "tiny".into(),
        cycles_per_frame: plan.cycles_per_frame,
        latency_cycles: None,
        kept_weight_bits: model.summary().weight_bits_stored as u64,
        weight_bits_in_bram: 0,
    };
    let opts = SynthOptions {
        target: Target::Ice40Up5k,
        clock_mhz: 48.0,
        seed: 1,
        work: work.clone(),
    };
    let out = synth::run(&rtl, &figures, &opts).unwrap_or_else(|e| panic!("{e}"));
    let t = out.report.timing.as_ref().unwrap();
    assert!(t.fmax_mhz > 5.0);
    assert!(out.report.bitstream.is_some());
    eprintln!("{}", out.report.to_markdown());
}
