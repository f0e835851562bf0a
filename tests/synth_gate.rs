//! Gate-level proof in CI: a small model goes through iCE40, ECP5, generic and Xilinx synthesis,
//! each mapped netlist is simulated (with Yosys's cell models for the family) in Verilator,
//! and every class and score must equal the reference model's. The same accelerator is then
//! placed and routed on the iCEBreaker (UP5K) through `bnngen synth`'s flow. Needs yosys,
//! nextpnr-ice40, icepack, verilator, g++, make (scripts/setup.sh installs them); fails,
//! never skips, without them.

use bnngen::plan::{set_folding, HwConfig};
use bnngen::random::random_image;
use bnngen::synth::gate_sim::{rtl_design, simulate_netlist};
use bnngen::synth::{self, PlanFigures, SynthOptions, Target};
use bnngen::verify::Stress;
use std::path::Path;

fn tiny() -> bnngen::model::Model {
    bnngen::model::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models/tiny.toml")).unwrap()
}

/// Synthesize `tiny` for `target`, simulate the mapped netlist on five random images with
/// random gaps and back-pressure, and require every class and score to equal the
/// reference's. Returns the netlist text for target-specific checks.
fn assert_netlist_bit_exact(target: Target, image_seed: u64, stress_seed: u64) -> String {
    let model = tiny();
    let plan = set_folding(&model, &HwConfig::default()).unwrap();
    let images: Vec<_> = (0..5)
        .map(|i| random_image(image_seed + i, &model.input))
        .collect();
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("gate-tiny-{target}"));
    let _ = std::fs::remove_dir_all(&work);
    let g = simulate_netlist(
        &model,
        &plan,
        target,
        &images,
        Stress::random(stress_seed),
        false,
        &work,
    )
    .unwrap_or_else(|e| panic!("{target}: {e}"));
    assert!(g.resources.luts > 0, "{target}: no logic counted");
    let r = &g.report;
    assert_eq!(r.results.len(), 5, "{target}: {}", r.failure());
    assert!(r.passed(), "{target}: gate-level mismatch: {}", r.failure());
    std::fs::read_to_string(&g.netlist).unwrap()
}

#[test]
fn tiny_ice40_netlist_is_bit_exact() {
    let netlist = assert_netlist_bit_exact(Target::Ice40Up5k, 4000, 7);
    assert!(netlist.contains("SB_LUT4"), "a mapped iCE40 netlist");
}

/// ECP5 (synthesized with `-nodsp`: Yosys 0.23 has no MULT18X18D model), with the ECP5 cell
/// library's LUT4, TRELLIS_FF and CCU2C models.
#[test]
fn tiny_ecp5_netlist_is_bit_exact() {
    let netlist = assert_netlist_bit_exact(Target::Ecp5_25k, 4300, 10);
    assert!(netlist.contains("TRELLIS_FF"), "a mapped ECP5 netlist");
}

/// Regression (issue 4): ABC's XOR trees in the generic netlist were miscomputed by
/// Verilator 5.006 until `-fno-const-bit-op-tree` (see tests/sim_xor_fold.rs).
#[test]
fn tiny_generic_netlist_is_bit_exact() {
    let netlist = assert_netlist_bit_exact(Target::Generic, 4100, 8);
    assert!(
        netlist.contains(" ^ ") && !netlist.contains("SB_LUT4"),
        "a generic gate netlist with XOR gates"
    );
}

/// Regression (issue 4): Yosys 0.23 mapped enabled pipeline chains to SRL16E with CE tied
/// high (YosysHQ/yosys#6058); the Xilinx target synthesizes with `-nosrl`.
#[test]
fn tiny_xilinx_netlist_is_bit_exact() {
    let netlist = assert_netlist_bit_exact(Target::Xilinx, 4200, 9);
    assert!(
        netlist.contains("LUT6") && netlist.contains("FDRE"),
        "a 7-series netlist"
    );
    assert!(!netlist.contains("SRL16E"), "SRL inference is off");
}

/// ECP5 block RAM at gate level: a 24x24 model whose line buffers are DP16KD cells with their
/// output register (`rtl::ebr`), simulated with bnngen's gate-level DP16KD model in place of
/// Yosys' empty declaration, so the RTL's behavioural model and the gate-level one are held
/// to the same reference. The scores must vary across the images, so a block RAM that read zeros (or
/// anything but what was written) could not pass by computing a constant.
#[test]
fn ecp5_netlist_with_block_ram_is_bit_exact() {
    let opts = bnngen::random::RandomOptions {
        height: 24,
        width: 24,
        layers: 2,
        max_channels: 16,
        ..Default::default()
    };
    let model = bnngen::random::random_model(2, &opts);
    let plan = set_folding(&model, &HwConfig::default()).unwrap();
    let images: Vec<_> = (0..4)
        .map(|i| random_image(4400 + i, &model.input))
        .collect();
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gate-ecp5-bram");
    let _ = std::fs::remove_dir_all(&work);
    let g = simulate_netlist(
        &model,
        &plan,
        Target::Ecp5_25k,
        &images,
        Stress::random(11),
        false,
        &work,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let netlist = std::fs::read_to_string(&g.netlist).unwrap();
    let brams = netlist.matches("DP16KD #(").count();
    assert!(brams >= 2, "the line buffers map to DP16KD ({brams} found)");
    // bnngen's own cells (`rtl::ebr`), read through their output register.
    assert!(
        netlist.contains(".REGMODE_B(\"OUTREG\")"),
        "the DP16KD cells keep REGMODE_B OUTREG"
    );
    let r = &g.report;
    assert_eq!(r.results.len(), 4, "{}", r.failure());
    assert!(r.passed(), "gate-level mismatch: {}", r.failure());
    let distinct: std::collections::BTreeSet<_> =
        r.results.iter().map(|x| x.scores.clone()).collect();
    assert!(distinct.len() > 1, "the scores depend on the image");
    eprintln!("ecp5 block RAM: {brams} DP16KD, {} LUTs", g.resources.luts);
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
        weight_bits_in_spram: 0,
    };
    let opts = SynthOptions {
        target: Target::Ice40Up5k,
        clock_mhz: 48.0,
        seed: 1,
        tries: 1,
        work: work.clone(),
        pll: false,
        shown_as: None,
    };
    let out = synth::run(&rtl, &figures, &opts).unwrap_or_else(|e| panic!("{e}"));
    let t = out.report.timing.as_ref().unwrap();
    assert!(t.fmax_mhz > 5.0);
    assert!(out.report.bitstream.is_some());
    eprintln!("{}", out.report.to_markdown());
}
