//! Generated RTL is clean under `verilator --lint-only -Wall` (zero warnings, and no waiver
//! but one: the input data of a fully pruned layer's stage, which nothing reads by design)
//! and passes Yosys `synth; check -assert` with no latches. Missing tools fail the test with
//! the package to install; they never skip it.

use bnngen::model::Model;
use bnngen::plan::{set_folding, HwConfig, Placement};
use bnngen::random::{random_model, FrontEndChoice, RandomOptions};
use bnngen::rtl::{generate, write_dir, GenOptions};
use bnngen::tools::locate::YOSYS;
use bnngen::tools::{find, verilator};
use std::path::{Path, PathBuf};

mod common;

fn out_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("rtl_lint")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn gen(model: &Model, hw: &HwConfig, name: &str, debug: bool) -> (PathBuf, String) {
    let plan = set_folding(model, hw).unwrap();
    let d = generate(
        model,
        &plan,
        GenOptions {
            debug,
            ..Default::default()
        },
    )
    .unwrap();
    let dir = out_dir(name);
    write_dir(&d, &dir).unwrap();
    (dir, d.top)
}

fn yosys_check(dir: &Path, top: &str) {
    let yosys = find(YOSYS).unwrap_or_else(|e| panic!("{e}")).path;
    let files: Vec<String> = std::fs::read_to_string(dir.join("files.f"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let script = format!(
        "read_verilog {}; synth -top {top}; check -assert",
        files.join(" ")
    );
    let out = std::process::Command::new(yosys)
        .current_dir(dir)
        .args(["-l", "yosys.log", "-q", "-p", &script])
        .output()
        .unwrap();
    let log = std::fs::read_to_string(dir.join("yosys.log")).unwrap_or_default();
    assert!(
        out.status.success(),
        "yosys failed in {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    for bad in ["Latch inferred", "$dlatch", "Warning:"] {
        assert!(
            !log.contains(bad),
            "yosys log of {} contains `{bad}`",
            dir.display()
        );
    }
}

fn tiny() -> Model {
    bnngen::model::load(Path::new("models/tiny.toml")).unwrap()
}

fn random(seed: u64) -> Model {
    let mut o = RandomOptions::sampled(seed);
    o.front_end = Some(FrontEndChoice::ALL[(seed % 4) as usize]);
    random_model(seed, &o)
}

#[test]
fn lint_clean_for_several_models_and_foldings() {
    let mut cases: Vec<(String, Model, HwConfig, bool)> = vec![
        ("tiny".into(), tiny(), HwConfig::default(), false),
        ("tiny_debug".into(), tiny(), HwConfig::default(), true),
        (
            "tiny_sensor".into(),
            tiny(),
            HwConfig {
                front_end: Placement::Sensor,
                ..HwConfig::default()
            },
            false,
        ),
        (
            "tiny_fast".into(),
            tiny(),
            HwConfig {
                fps: Some(1e7),
                popcount_stages: Some(0),
                ..HwConfig::default()
            },
            false,
        ),
        (
            "tiny_pop3".into(),
            tiny(),
            HwConfig {
                popcount_stages: Some(3),
                ..HwConfig::default()
            },
            false,
        ),
    ];
    let mut seed = 200;
    while cases.len() < 14 {
        seed += 1;
        let m = random(seed);
        if m.layers.iter().any(|l| l.kind.fully_pruned()) {
            continue;
        }
        let hw = HwConfig {
            fps: Some(1e8 / (1 + seed % 7 * 500) as f64),
            ..HwConfig::default()
        };
        cases.push((format!("random_{seed}"), m, hw, seed % 2 == 0));
    }
    for (name, m, hw, debug) in &cases {
        let (dir, top) = gen(m, hw, name, *debug);
        verilator::lint(&dir, &top).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The AXI4-Stream wrapper (absent from debug designs, whose top has tap ports).
        let axis = top.replace("_top", "_axis");
        assert_eq!(dir.join(format!("{axis}.v")).exists(), !*debug, "{name}");
        if !*debug {
            verilator::lint(&dir, &axis).unwrap_or_else(|e| panic!("{name} wrapper: {e}"));
        }
    }
}

#[test]
fn yosys_synth_check_passes() {
    for (name, m) in [("tiny", tiny()), ("random_204", random(204))] {
        let (dir, top) = gen(&m, &HwConfig::default(), &format!("ys_{name}"), false);
        yosys_check(&dir, &top);
        yosys_check(&dir, &top.replace("_top", "_axis"));
    }
}

/// Fully pruned layers (first, middle, classifier) lint clean, pass `check -assert`, and
/// carry the one waiver: on their stage's unread `s_data`, nowhere else.
#[test]
fn fully_pruned_layers_lint_and_check_clean() {
    let models = common::pruned_random_models(200, 6);
    for (seed, m) in &models {
        let name = format!("pruned_{seed}");
        let (dir, top) = gen(m, &HwConfig::default(), &name, seed % 2 == 0);
        verilator::lint(&dir, &top).unwrap_or_else(|e| panic!("{name}: {e}"));
        yosys_check(&dir, &top);
        let mut waived = 0;
        for f in std::fs::read_dir(&dir).unwrap() {
            let text = std::fs::read_to_string(f.unwrap().path()).unwrap_or_default();
            let n = text.matches("lint_off").count();
            if n > 0 {
                assert_eq!(n, 1);
                assert!(text.contains("lint_off UNUSEDSIGNAL */\n  input  wire"));
                assert!(text.contains("s_data, // input pixel, not read"));
            }
            waived += n;
        }
        let pruned = m.layers.iter().filter(|l| l.kind.fully_pruned()).count();
        assert_eq!(waived, pruned, "{name}: one waiver per fully pruned layer");
    }
}

/// Several kernel taps per cycle (`Fold::taps`): every MAC layer at the largest legal tap
/// count, and at the one below it (part of a kernel row or some rows), on the tiny model and
/// two random models, lints clean in Verilator (-Wall) and passes
/// Yosys `check -assert`.
#[test]
fn taps_lint_and_check_clean() {
    use bnngen::plan::{tap_counts, Fold};
    let models = [
        ("tiny", tiny()),
        ("random_204", random(204)),
        ("random_211", random(211)),
    ];
    for (name, m) in &models {
        for (k, pick) in [("max", 1usize), ("mid", 2)] {
            let mut hw = HwConfig::default();
            for l in &m.layers {
                if let Some(w) = l.kind.weights() {
                    let tc = tap_counts(w.kernel_h, w.kernel_w);
                    let taps = tc[tc.len().saturating_sub(pick)];
                    hw.layers.insert(
                        l.name.clone(),
                        Fold {
                            pe: 1,
                            simd: 1,
                            taps,
                        },
                    );
                }
            }
            let plan = set_folding(m, &hw).unwrap();
            assert!(
                plan.layers.iter().any(|l| l.taps > 1),
                "{name} {k}: no taps"
            );
            let (dir, top) = gen(m, &hw, &format!("taps_{name}_{k}"), false);
            verilator::lint(&dir, &top).unwrap_or_else(|e| panic!("{name} {k}: {e}"));
            yosys_check(&dir, &top);
        }
    }
}
