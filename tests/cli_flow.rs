//! `bnngen flow` end to end on the tiny model: every step runs, the co-simulation is
//! bit-exact, the report lands; a failing step stops the flow and leaves no report.

use std::path::Path;
use std::process::Command;

fn bnngen() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bnngen"))
}

fn fresh_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("bnngen-flow-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn flow_runs_every_step_and_writes_the_report() {
    let dir = fresh_dir("ok");
    let out = bnngen()
        .args([
            "flow",
            "models/tiny.toml",
            "--target",
            "generic",
            "--frames",
            "6",
            "-o",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "flow failed: {stderr}\n{stdout}");
    for step in ["check", "plan", "generate", "simulate", "synth", "report"] {
        assert!(
            stdout.contains(&format!("\n{step}")),
            "summary lacks step {step}: {stdout}"
        );
    }
    for f in [
        "model.toml",
        "plan.toml",
        "rtl/files.f",
        "sim.json",
        "report.html",
        "report.json",
    ] {
        assert!(dir.join(f).exists(), "{f} missing from the run folder");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["format_version"], 1);
    assert_eq!(report["simulation"]["frames"], 6);
    assert_eq!(report["simulation"]["mismatches"], 0);
    assert_eq!(report["synthesis"]["target"], "generic");
    let planned = report["simulation"]["cycles_per_frame_planned"]
        .as_f64()
        .unwrap();
    let measured = report["simulation"]["cycles_per_frame_measured"]
        .as_f64()
        .unwrap();
    assert!(
        (measured - planned).abs() <= 0.1 * planned,
        "measured {measured} vs plan {planned}"
    );
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("bit-exact"));
}

#[test]
fn a_failing_step_stops_the_flow_and_leaves_no_report() {
    let dir = fresh_dir("bad");
    // A first, good run leaves a report that the failing run must not let stand.
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("report.html"), "stale").unwrap();
    let out = bnngen()
        .args([
            "flow",
            "models/tiny.toml",
            "--target",
            "no-such-fpga",
            "--frames",
            "2",
            "-o",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-fpga"));
    assert!(
        !Path::new(&dir.join("report.html")).exists(),
        "a stale report was left behind"
    );
}
