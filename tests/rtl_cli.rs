//! The RTL subcommands end to end through the binary: simulate (JSON report, VCD trace, exit
//! status) and the typed error for a model the generator cannot lower.

mod common;
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
fn fully_pruned_layer_generates() {
    // The first corner-case random model with a fully pruned layer.
    let (_, m) = common::pruned_random_models(199, 1).remove(0);
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
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (i, l) = (m.layers.iter().enumerate())
        .find(|(_, l)| l.kind.fully_pruned())
        .unwrap();
    let stage = std::fs::read_dir(d.join("rtl"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.contains(&format!("_l{i}_{}", bnngen::rtl::ident(&l.name))) && n.ends_with(".v")
        })
        .unwrap();
    let text = std::fs::read_to_string(stage).unwrap();
    assert!(text.contains("Fully pruned"), "{text}");
    assert!(
        !text.contains(" [0:"),
        "no memory in a fully pruned stage: {text}"
    );
}

#[test]
fn generate_and_simulate_take_the_synthesis_targets_memories() {
    let d = tmp("target");
    let bin = env!("CARGO_BIN_EXE_bnngen");
    let m = bnngen::model::load(std::path::Path::new("models/tiny.toml")).unwrap();
    // Without --hw, the target's device sets the folding, as in `synth --target`.
    let digest = |t: &str| {
        let target = bnngen::synth::Target::parse(t).unwrap();
        let p = bnngen::plan::fit::fold(&m, &target.fold_config()).unwrap();
        bnngen::rtl::design_digest(&bnngen::rtl::generate(&m, &p, target.gen_options()).unwrap())
    };
    for t in ["ice40-up5k", "ecp5-25k"] {
        let out = Command::new(bin)
            .args(["generate", "models/tiny.toml", "--target", t, "-o"])
            .arg(d.join(t))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(&digest(t)), "{t}: {stdout}");
    }
    assert_ne!(digest("ice40-up5k"), digest("ecp5-25k"));
    // The iCE40 RTL co-simulates bit-exact, as it will be synthesized.
    let out = Command::new(bin)
        .args([
            "simulate",
            "models/tiny.toml",
            "--random",
            "3",
            "--target",
            "ice40-up5k",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = Command::new(bin)
        .args(["generate", "models/tiny.toml", "--target", "ice41", "-o"])
        .arg(d.join("bad"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(!d.join("bad").exists());
}

/// `generate --target` writes RTL whose block RAM does not fit the target (it may still be
/// simulated), and says so on stderr; within the target it says nothing.
#[test]
fn generate_warns_when_the_folding_needs_more_blocks_than_the_target_has() {
    let d = tmp("over");
    let bin = env!("CARGO_BIN_EXE_bnngen");
    let run = |hw: &str, t: &str| {
        Command::new(bin)
            .args([
                "generate",
                "models/fashion-up5k.toml",
                "--hw",
                hw,
                "--target",
                t,
                "-o",
            ])
            .arg(d.join(t))
            .output()
            .unwrap()
    };
    let out = run("models/fashion-up5k.hw.toml", "ice40-up5k");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(d.join("ice40-up5k").join("files.f").exists());
    for part in ["warning:", "36", "RAM4K", "refuse"] {
        assert!(err.contains(part), "`{part}` not in: {err}");
    }
    let out = run("models/fashion-up5k.hw.toml", "ecp5-25k");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("warning"), "{err}");
}
