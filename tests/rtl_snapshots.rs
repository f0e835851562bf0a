//! Golden Verilog for tiny models (insta), deterministic output, and the plan file round trip
//! through the CLI (`plan -o`, edit, `generate --plan`).

use bnngen::model::Model;
use bnngen::plan::{set_folding, HwConfig, Placement};
use bnngen::rtl::{generate, render, GenOptions};
use std::process::Command;

fn all_text(m: &Model, hw: &HwConfig) -> String {
    let plan = set_folding(m, hw).unwrap();
    let d = generate(m, &plan, GenOptions::default()).unwrap();
    render(&d)
        .into_iter()
        .map(|(n, t)| format!("==== {n}\n{t}"))
        .collect()
}

fn tiny() -> Model {
    bnngen::model::load(std::path::Path::new("models/tiny.toml")).unwrap()
}

/// A small random model, saved as a file so that changes to the random generator leave the
/// golden Verilog alone.
fn small_random() -> Model {
    bnngen::model::load(std::path::Path::new(
        "tests/fixtures/models/small-random.toml",
    ))
    .unwrap()
}

#[test]
fn golden_verilog_tiny() {
    insta::assert_snapshot!("tiny_digital", all_text(&tiny(), &HwConfig::default()));
}

#[test]
fn golden_verilog_tiny_sensor() {
    let hw = HwConfig {
        front_end: Placement::Sensor,
        popcount_stages: Some(0),
        ..HwConfig::default()
    };
    insta::assert_snapshot!("tiny_sensor", all_text(&tiny(), &hw));
}

#[test]
fn golden_verilog_small_random() {
    insta::assert_snapshot!(
        "small_random",
        all_text(&small_random(), &HwConfig::default())
    );
}

#[test]
fn generation_is_deterministic() {
    let m = tiny();
    assert_eq!(
        all_text(&m, &HwConfig::default()),
        all_text(&m, &HwConfig::default())
    );
}

#[test]
fn plan_file_round_trip_through_cli() {
    let bin = env!("CARGO_BIN_EXE_bnngen");
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rtl_plan_rt");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let plan = dir.join("plan.toml");
    let st = Command::new(bin)
        .args(["plan", "models/tiny.toml", "-o"])
        .arg(&plan)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    // Edit: fold conv1 onto a single lane.
    let text = std::fs::read_to_string(&plan).unwrap();
    let edited = text.replacen("pe = 4\nsimd = 3", "pe = 1\nsimd = 1", 1);
    assert_ne!(text, edited, "plan file layout changed:\n{text}");
    std::fs::write(&plan, edited).unwrap();
    let out = dir.join("rtl");
    let st = Command::new(bin)
        .args(["generate", "models/tiny.toml", "--plan"])
        .arg(&plan)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let conv1 = std::fs::read_to_string(out.join("tiny_l0_conv1.v")).unwrap();
    assert!(
        conv1.contains("Folding: pe 1 x simd 1"),
        "{}",
        &conv1[..400]
    );
    // A bad edit is a user error (exit 2) naming the layer.
    std::fs::write(
        &plan,
        text.replacen("pe = 4\nsimd = 3", "pe = 3\nsimd = 3", 1),
    )
    .unwrap();
    let st = Command::new(bin)
        .args(["generate", "models/tiny.toml", "--plan"])
        .arg(&plan)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&st.stderr).contains("conv1"));
}
