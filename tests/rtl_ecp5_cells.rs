//! ECP5 designs build their block RAM from `DP16KD` cells with the output register
//! (`rtl::ebr`), and ship the cell's behavioural model for simulation only. These tests hold
//! that RTL to the same rules as every other: lint-clean with the model, Yosys
//! `check -assert`, bit-exact against the reference model under random gaps and
//! back-pressure, and exactly the plan's cycles per frame. The model inverts a read that
//! collides with a write, so passing also shows the cells are never read at the word being
//! written. (The mapped netlist, with Yosys' view of the cell, is checked in `synth_gate`.)

use bnngen::model::Model;
use bnngen::plan::{set_folding, HwConfig, Plan};
use bnngen::random::{random_image, random_model, RandomOptions};
use bnngen::rtl::{design_digest, generate, render, write_dir, Design, GenOptions};
use bnngen::synth::Target;
use bnngen::tools::locate::YOSYS;
use bnngen::tools::{find, verilator};
use bnngen::verify::{cosimulate_opts, Stress};
use std::path::{Path, PathBuf};

fn out_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("rtl_ecp5_cells")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn shipped(name: &str) -> (Model, Plan) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let m = bnngen::model::load(&root.join(format!("{name}.toml"))).unwrap();
    let hw = bnngen::plan::load_hw(&root.join(format!("{name}.hw.toml"))).unwrap();
    let p = set_folding(&m, &hw).unwrap();
    (m, p)
}

/// Random models large enough that their line buffers and ROMs go to block RAM.
fn random(seed: u64) -> (Model, Plan) {
    let opts = RandomOptions {
        height: 24,
        width: 24,
        layers: 3,
        max_channels: 32,
        ..Default::default()
    };
    let m = random_model(seed, &opts);
    let p = set_folding(&m, &HwConfig::default()).unwrap();
    (m, p)
}

fn ecp5(debug: bool) -> GenOptions {
    GenOptions {
        debug,
        ..Target::Ecp5_25k.gen_options()
    }
}

/// `DP16KD` instances in the design's Verilog, and how many have both output registers on.
fn cells(d: &Design) -> (usize, usize) {
    let text: String = render(d).into_iter().map(|(_, t)| t).collect();
    let n = text.matches("  DP16KD #(").count();
    let outreg = text.matches(".REGMODE_B(\"OUTREG\")").count();
    (n, outreg)
}

#[test]
fn the_cell_model_is_simulated_and_linted_but_never_synthesized() {
    let (m, p) = shipped("fashion-up5k-pruned");
    let d = generate(&m, &p, ecp5(false)).unwrap();
    let (n, outreg) = cells(&d);
    assert!(n >= 4, "block RAM as DP16KD cells ({n} found)");
    assert_eq!(outreg, n, "every cell reads through its output register");
    assert_eq!(d.sim_models.len(), 1);
    let files: std::collections::BTreeMap<String, String> = render(&d).into_iter().collect();
    assert!(files["DP16KD.v"].contains("module DP16KD ("));
    assert_eq!(files["files.f"].lines().next(), Some("DP16KD.v"));
    let core = &files[&format!("{}.core", d.name)];
    assert!(core.contains("  default:\n    filesets: [rtl]\n"), "{core}");
    assert!(core.contains("filesets: [sim, rtl]"), "{core}");
    // What Yosys reads for synthesis: the modules, not the model.
    let dir = out_dir("sources");
    write_dir(&d, &dir).unwrap();
    let rtl = bnngen::synth::gate_sim::rtl_design(&d, 784, &dir);
    assert!(
        !rtl.sources.iter().any(|s| s.contains("DP16KD")),
        "{:?}",
        rtl.sources
    );
    // The digest covers the model: a changed model is a changed design.
    let mut other = d.clone();
    other.sim_models[0].1.push_str("// edited\n");
    assert_ne!(design_digest(&d), design_digest(&other));
    // Other families' Verilog has no cells and no model.
    let ice = generate(&m, &p, Target::Ice40Up5k.gen_options()).unwrap();
    assert_eq!(cells(&ice).0, 0);
    assert!(ice.sim_models.is_empty());
}

#[test]
fn ecp5_designs_lint_clean_and_pass_yosys_check() {
    let mut cases = vec![("up5k_pruned", shipped("fashion-up5k-pruned"), false)];
    for seed in [3, 8] {
        cases.push(("random", random(seed), seed % 2 == 1));
    }
    for (i, (name, (m, p), debug)) in cases.into_iter().enumerate() {
        let d = generate(&m, &p, ecp5(debug)).unwrap();
        assert!(cells(&d).0 > 0, "{name}: no DP16KD cells");
        let dir = out_dir(&format!("lint_{i}_{name}"));
        write_dir(&d, &dir).unwrap();
        verilator::lint(&dir, &d.top).unwrap_or_else(|e| panic!("{name}: {e}"));
        if !debug {
            let axis = d.top.replace("_top", "_axis");
            verilator::lint(&dir, &axis).unwrap_or_else(|e| panic!("{name} wrapper: {e}"));
        }
        yosys_check(&dir, &d.top);
    }
}

/// `synth; check -assert` over the design's modules, with the cell a black box as it is in
/// synthesis (the behavioural model read with `-lib`: synthesizing its 18 Kbit array for
/// every instance would only test Yosys' patience).
fn yosys_check(dir: &Path, top: &str) {
    let yosys = find(YOSYS).unwrap_or_else(|e| panic!("{e}")).path;
    let files = std::fs::read_to_string(dir.join("files.f")).unwrap();
    let reads: Vec<String> = (files.lines())
        .map(|f| match f {
            "DP16KD.v" => format!("read_verilog -lib {f}"),
            _ => format!("read_verilog {f}"),
        })
        .collect();
    let script = format!("{}; synth -top {top}; check -assert", reads.join("; "));
    let out = std::process::Command::new(yosys)
        .current_dir(dir)
        .args(["-l", "yosys.log", "-q", "-p", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "yosys failed in {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let log = std::fs::read_to_string(dir.join("yosys.log")).unwrap_or_default();
    for bad in ["Latch inferred", "$dlatch"] {
        assert!(
            !log.contains(bad),
            "yosys log of {} has `{bad}`",
            dir.display()
        );
    }
}

#[test]
fn ecp5_designs_are_bit_exact_under_stalls_and_meet_the_plan() {
    // fashion-default: fc1's 36 weight blocks in banks, its thresholds in a cell.
    let mut cases = vec![
        ("up5k_pruned", shipped("fashion-up5k-pruned"), 6),
        ("default", shipped("fashion-default"), 2),
    ];
    for seed in [3, 8, 13] {
        cases.push(("random", random(seed), 8));
    }
    let (mut bank_stages, mut table_cells) = (0, 0);
    for (name, (m, p), frames) in cases {
        let d = generate(&m, &p, ecp5(false)).unwrap();
        assert!(cells(&d).0 > 0, "{name}: no DP16KD cells");
        // A weight ROM in block-RAM banks takes one more pipeline stage (`v1b`).
        bank_stages += (d.modules.iter())
            .filter(|m| m.sigs.iter().any(|s| s.name == "v1b"))
            .count();
        // A threshold or bias table in block RAM is a cell too (`ttab_c0`, `btab_c0`).
        let text: String = render(&d).into_iter().map(|(_, t)| t).collect();
        table_cells += text.matches(") ttab_c0 (").count() + text.matches(") btab_c0 (").count();
        let images: Vec<_> = (0..frames)
            .map(|i| random_image(90 + i as u64, &m.input))
            .collect();
        let rep = cosimulate_opts(&m, &p, &images, Stress::random(5), ecp5(false), None)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(rep.passed(), "{name} under stalls: {}", rep.failure());
        let rep = cosimulate_opts(&m, &p, &images, Stress::none(), ecp5(false), None).unwrap();
        assert!(rep.passed(), "{name}: {}", rep.failure());
        if frames >= 6 {
            assert_eq!(
                rep.measured_cycles_per_frame,
                Some(p.cycles_per_frame),
                "{name}: measured cycles per frame against the plan"
            );
        }
    }
    assert!(
        bank_stages > 0,
        "no case has a weight ROM in block-RAM banks"
    );
    assert!(
        table_cells > 0,
        "no case has a group table in a block-RAM cell"
    );
}
