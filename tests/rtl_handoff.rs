//! The window stage's hand-off, checked on the netlist: its consumer's ready (`m_ready`)
//! reaches only the flags of the skid register (`skid_v`, its complement `room_c` for the
//! issue control, and the registered `m_valid`, `out_v`), or with `handoff = "hold"` only `offer`
//! and the enable registers `adv_r` and `adv_k`; never any other register or memory of the
//! stage. The enables `adv` and `adv_c`, `m_valid` and `m_data` depend on no input within the
//! cycle (`Module::registers_reached_by`, `Module::inputs_reaching`). A stall therefore
//! reaches the stage's enables one cycle later, through a flip-flop; that was measured to
//! matter on the iCE40 UP5K (docs/benchmarks.md, "What each RTL choice measured"). The
//! throughput side, a word every cycle, is measured in `tests/rtl_cycles.rs`.

use bnngen::model::{LayerKind, Model};
use bnngen::plan::{load_hw, set_folding, Handoff, HwConfig};
use bnngen::rtl::{generate, GenOptions};
use std::path::Path;

mod common;

/// Check every window stage of `model` folded for `hw`; returns how many were checked.
fn check_stages(what: &str, model: &Model, hw: &HwConfig) -> usize {
    let plan = set_folding(model, hw).unwrap();
    let d = generate(model, &plan, GenOptions::default()).unwrap();
    let windows = (model.layers.iter())
        .filter(|l| !matches!(l.kind, LayerKind::Residual(_)))
        .count();
    let stages: Vec<_> = (d.modules.iter())
        .filter(|m| m.sigs.iter().any(|s| s.name == "adv"))
        .collect();
    assert_eq!(stages.len(), windows, "{what}: one window stage per layer");
    for m in &stages {
        // A stage with a datapath gives its issue control a copy of the enable's register.
        let copy = m.sigs.iter().any(|s| s.name == "adv_c");
        let flags: &[&str] = match (hw.handoff, copy) {
            (Handoff::Skid, true) => &["out_v", "room_c", "skid_v"],
            (Handoff::Skid, false) => &["out_v", "skid_v"],
            (Handoff::Hold, true) => &["adv_k", "adv_r", "offer"],
            (Handoff::Hold, false) => &["adv_r", "offer"],
        };
        assert_eq!(
            m.registers_reached_by("m_ready"),
            flags,
            "{what}: {} lets its consumer's ready reach more than its hand-off flags",
            m.name
        );
        for sig in ["adv", "adv_c", "m_valid", "m_data"] {
            if !m.sigs.iter().any(|s| s.name == sig) {
                assert_eq!(sig, "adv_c", "{what}: {} has no {sig}", m.name);
                continue;
            }
            assert!(
                m.inputs_reaching(sig).is_empty(),
                "{what}: {}'s {sig} depends combinationally on {:?}",
                m.name,
                m.inputs_reaching(sig)
            );
        }
    }
    stages.len()
}

#[test]
fn consumer_ready_reaches_only_the_skid_flags() {
    let mut checked = 0;
    for (name, hw) in [
        ("tiny", None),
        ("fashion-default", Some("fashion-default")),
        ("fashion-up5k-pruned", Some("fashion-up5k-pruned")),
    ] {
        let m = bnngen::model::load(Path::new(&format!("models/{name}.toml"))).unwrap();
        let hw = hw.map_or_else(HwConfig::default, |h| {
            load_hw(Path::new(&format!("models/{h}.hw.toml"))).unwrap()
        });
        checked += check_stages(name, &m, &hw);
    }
    // Several kernel taps per cycle: an fps target one tap per cycle cannot meet.
    let taps = HwConfig {
        fps: Some(1e8),
        best_effort: true,
        ..HwConfig::default()
    };
    let tiny = bnngen::model::load(Path::new("models/tiny.toml")).unwrap();
    let plan = set_folding(&tiny, &taps).unwrap();
    assert!(plan.layers.iter().any(|l| l.taps > 1), "tiny takes no taps");
    checked += check_stages("tiny, taps", &tiny, &taps);
    let hold = HwConfig {
        handoff: Handoff::Hold,
        ..HwConfig::default()
    };
    for (seed, m) in common::rtl_random_models(0, 12) {
        checked += check_stages(&format!("random seed {seed}"), &m, &HwConfig::default());
        checked += check_stages(&format!("random seed {seed}, hold"), &m, &hold);
    }
    eprintln!("{checked} window stages checked");
}

/// The check catches `adv = !out_valid | m_ready`, the shape measured slow on the UP5K:
/// there the ready reaches `adv` and every register that `adv` enables.
#[test]
fn the_check_sees_a_ready_that_reaches_an_enable() {
    use bnngen::rtl::netlist::{Expr, ModuleBuilder, Stmt};
    let mut b = ModuleBuilder::new("direct");
    let _clk = b.input("clk", 1, "");
    let m_ready = b.input("m_ready", 1, "");
    let ov = b.reg("ov", 1);
    let word = b.reg("word", 4);
    let adv = b.wire("adv", 1);
    b.assign(adv, b.e(ov).not().or(b.e(m_ready)));
    b.always(vec![
        Stmt::when(
            b.e(adv),
            vec![Stmt::set(word, b.e(word).add(Expr::lit(1, 4)))],
        ),
        Stmt::when(b.e(adv), vec![Stmt::set(ov, Expr::t())]),
    ]);
    let m = b.finish();
    assert_eq!(m.inputs_reaching("adv"), ["m_ready"]);
    assert_eq!(m.registers_reached_by("m_ready"), ["ov", "word"]);
}
