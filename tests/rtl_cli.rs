//! The RTL subcommands end to end through the binary: simulate (JSON report, VCD trace, exit
//! status) and the typed error for a model the generator cannot lower.

use bnngen::model::random::{random_model, FrontEndChoice, RandomOptions};
use std::path::PathBuf;
use std::process::Command;

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("rtl_cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn simulate_reports_json_and_writes_a_trace() {
    let d = tmp("sim");
    let vcd = d.join("tiny.vcd");
    let out = Command::new(env!("CARGO_BIN_EXE_bnngen"))
        .args([
            "simulate",
            "models/tiny.toml",
            "--random",
            "3",
            "--seed",
            "9",
            "--debug",
            "--json",
            "--trace",
        ])
        .arg(&vcd)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["passed"], true);
    assert_eq!(v["frames"], 3);
    assert_eq!(v["stressed"]["results"].as_array().unwrap().len(), 3);
    let plan = v["plan_cycles_per_frame"].as_f64().unwrap();
    let measured = v["measured_cycles_per_frame"].as_f64().unwrap();
    // Exactly: tiny reaches its steady state from the first frame (tests/rtl_cycles.rs).
    assert_eq!(measured, plan, "measured cycles per frame");
    let trace = std::fs::read_to_string(&vcd).unwrap();
    assert!(trace.contains("$enddefinitions") && trace.contains("m_axis_tvalid"));
}

#[test]
fn fully_pruned_layer_is_a_typed_user_error() {
    // The first corner-case random model with a fully pruned layer.
    let m = (200..)
        .map(|seed| {
            let mut o = RandomOptions::sampled(seed);
            o.front_end = Some(FrontEndChoice::ALL[(seed % 4) as usize]);
            o.corner_cases = true;
            random_model(seed, &o)
        })
        .find(|m| {
            m.layers
                .iter()
                .any(|l| l.kind.weights().is_some_and(|w| w.kept_tiles() == 0))
        })
        .unwrap();
    let d = tmp("pruned");
    let f = d.join("m.toml");
    std::fs::write(&f, bnngen::model::to_toml(&m)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bnngen"))
        .arg("generate")
        .arg(&f)
        .arg("-o")
        .arg(d.join("rtl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no kept tile"));
    assert!(!d.join("rtl").exists(), "no partial output");
}
