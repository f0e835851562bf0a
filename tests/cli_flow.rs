//! `bnngen flow` end to end on the tiny model: every step runs, the co-simulation is
//! bit-exact, the report lands; a failing step stops the flow, names its log and leaves the
//! run folder marked FAILED with no report (nor an earlier run's synthesis report or
//! bitstream); bad options stop it before it writes anything.

use std::path::Path;
use std::process::Command;

fn bnngen() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bnngen"))
}

/// A scratch folder (removed when the guard drops) and the run folder inside it.
fn fresh_dir() -> (tempfile::TempDir, std::path::PathBuf) {
    let scratch = tempfile::tempdir().unwrap();
    let run = scratch.path().join("run");
    (scratch, run)
}

#[test]
fn flow_runs_every_step_and_writes_the_report() {
    let (_scratch, dir) = fresh_dir();
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
    for step in [
        "check", "plan", "generate", "verilate", "simulate", "synth", "report",
    ] {
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
    // Cycles per frame are the plan's exactly, not approximately.
    assert_eq!(measured, planned, "measured {measured} vs plan {planned}");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("bit-exact"));
    assert_same_rtl_simulated_and_synthesized(&dir, "generic");
}

/// The RTL digest in sim.json equals the synthesis report's (the synthesized files are the
/// simulated ones), and it is the digest of the design for the target's RAM family.
fn assert_same_rtl_simulated_and_synthesized(dir: &Path, target: &str) -> String {
    let json = |p: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let sim = json(&dir.join("sim.json"))["rtl_digest"].clone();
    let synth = json(&dir.join(format!("synth-{target}/report.json")))["rtl_digest"].clone();
    let sim = sim.as_str().expect("sim.json has rtl_digest").to_string();
    assert!(sim.starts_with("sha256:") && sim.len() == 7 + 64, "{sim}");
    assert_eq!(
        Some(sim.as_str()),
        synth.as_str(),
        "simulated and synthesized RTL differ"
    );
    let m = bnngen::model::load(Path::new("models/tiny.toml")).unwrap();
    let t = bnngen::synth::Target::parse(target).unwrap();
    // Without an hw file the flow folds to the target's device.
    let p = bnngen::plan::fit::fold(&m, &t.fold_config()).unwrap();
    let design = bnngen::rtl::generate(&m, &p, t.gen_options()).unwrap();
    assert_eq!(bnngen::rtl::design_digest(&design), sim);
    sim
}

#[test]
fn a_bad_option_stops_the_flow_before_it_writes() {
    let (_scratch, dir) = fresh_dir();
    // A folder of the user's: a bad option must leave it exactly as it was.
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("report.html"), "the user's").unwrap();
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
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("check:"), "no step may run: {stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.join("report.html")).unwrap(),
        "the user's"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

/// A stand-in tool that writes `message` to its `-l` log (or stderr) and exits 1.
fn failing_tool(dir: &Path, name: &str, message: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let fake = dir.join(name);
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nlog=/dev/stderr\nwhile [ $# -gt 0 ]; do [ \"$1\" = -l ] && log=$2; shift; done\necho '{message}' > \"$log\"\nexit 1\n"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    fake
}

/// The rows of the summary table (after the `step  time  result` header), by step name.
fn summary_rows(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("step "))
        .skip(1)
        .filter_map(|l| {
            let (name, rest) = l.split_once(' ')?;
            let (_, result) = rest.split_once(" s  ")?;
            Some((name.to_string(), result.to_string()))
        })
        .collect()
}

#[test]
fn placed_flow_has_a_row_per_tool_step_and_a_failed_rerun_leaves_nothing_stale() {
    let (scratch, dir) = fresh_dir();
    let run = |extra_env: Option<(&str, &Path)>| {
        let mut c = bnngen();
        c.args([
            "flow",
            "models/tiny.toml",
            "--target",
            "ice40-up5k",
            "--frames",
            "4",
            "-o",
        ])
        .arg(&dir);
        if let Some((k, v)) = extra_env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let out = run(None);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "flow failed: {stderr}\n{stdout}");
    let rows = summary_rows(&stdout);
    let names: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["check", "plan", "generate", "verilate", "simulate", "synth", "pnr", "report"],
        "{stdout}"
    );
    let result = |step: &str| rows.iter().find(|(n, _)| n == step).unwrap().1.clone();
    assert!(result("verilate").contains("tiny_top in "), "{stdout}");
    let synth_log = dir.join("synth-ice40-up5k/synth.log").display().to_string();
    assert!(result("synth").contains("LUTs") && result("synth").contains(&synth_log));
    // Messages name the run folder, never the staging folders the run is written in.
    assert!(
        !stdout.contains("bnngen-tmp") && !stderr.contains("bnngen-tmp"),
        "{stdout}{stderr}"
    );
    let pnr = result("pnr");
    assert!(
        pnr.contains("Fmax") && pnr.contains("ICESTORM_LC") && pnr.contains("bitstream.bin"),
        "{pnr}"
    );
    // Each step also printed its one-line result as it finished.
    for step in ["verilate", "synth", "pnr"] {
        assert!(stderr.contains(&format!("{step:>9}: ")), "{stderr}");
    }
    let work = dir.join("synth-ice40-up5k");
    for f in ["report.json", "report.md", "bitstream.bin", "routed.asc"] {
        assert!(work.join(f).is_file(), "{f} missing after a good run");
    }
    // The bitstream's RTL (iCE40 memories) is the co-simulated RTL, not the default ECP5 one.
    let digest = assert_same_rtl_simulated_and_synthesized(&dir, "ice40-up5k");
    let m = bnngen::model::load(Path::new("models/tiny.toml")).unwrap();
    let up5k = bnngen::plan::fit::device_config(bnngen::plan::device::Device::Ice40Up5k);
    let p = bnngen::plan::fit::fold(&m, &up5k).unwrap();
    let ecp5 = bnngen::rtl::generate(&m, &p, Default::default()).unwrap();
    assert_ne!(
        bnngen::rtl::design_digest(&ecp5),
        digest,
        "tiny's RTL should depend on the family"
    );

    // Rerun with a place and route that fails: the error names nextpnr's log, and nothing
    // of the first run that looks like a finished result remains.
    let fake = failing_tool(
        &scratch.path().join("fake-bin"),
        "nextpnr-ice40",
        "ERROR: Unable to place cell u_core: no BEL left",
    );
    let out = run(Some(("BNNGEN_NEXTPNR_ICE40", &fake)));
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("nextpnr-ice40 failed"), "{stderr}");
    assert!(stderr.contains("Unable to place cell"), "{stderr}");
    assert!(
        stderr.contains(&work.join("pnr.log").display().to_string()),
        "{stderr}"
    );
    assert!(stderr.contains("      pnr: FAILED after"), "{stderr}");
    for f in [
        "report.json",
        "report.md",
        "bitstream.bin",
        "routed.asc",
        "pnr.report.json",
    ] {
        assert!(!work.join(f).exists(), "stale {f} left by the first run");
    }
    for f in ["report.html", "report.json"] {
        assert!(!dir.join(f).exists(), "stale {f} in the run folder");
    }
    // The failed run's folder is in place, marked failed, with the log the error names.
    let failed = std::fs::read_to_string(dir.join("FAILED")).unwrap();
    assert!(failed.contains("Unable to place cell"), "{failed}");
    assert!(work.join("pnr.log").is_file() && work.join("synth.log").is_file());
    assert!(dir.join(".bnngen-manifest").is_file());
    // Nothing of the staging folders is left beside it.
    let leftovers: Vec<_> = std::fs::read_dir(scratch.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("bnngen-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn failing_yosys_in_the_flow_names_its_log() {
    let (scratch, dir) = fresh_dir();
    let fake = failing_tool(
        &scratch.path().join("fake-bin"),
        "yosys",
        "ERROR: Module x referenced is not part of the design.",
    );
    let out = bnngen()
        .args([
            "flow",
            "models/tiny.toml",
            "--target",
            "generic",
            "--frames",
            "2",
            "-o",
        ])
        .arg(&dir)
        .env("BNNGEN_YOSYS", &fake)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("    synth: FAILED after"), "{stderr}");
    let log = dir.join("synth-generic/synth.log");
    assert!(stderr.contains(&log.display().to_string()), "{stderr}");
    assert!(
        stderr.contains("referenced is not part of the design"),
        "{stderr}"
    );
    assert!(!dir.join("synth-generic/report.json").exists());
}

#[test]
fn failing_verilator_build_names_its_log() {
    let (scratch, dir) = fresh_dir();
    let fake = failing_tool(
        &scratch.path().join("fake-bin"),
        "verilator",
        "%Error: tiny_top.v:3:1: syntax error (a stand-in failure)",
    );
    let out = bnngen()
        .args(["flow", "models/tiny.toml", "--target", "none", "-o"])
        .arg(&dir)
        .env("BNNGEN_VERILATOR", &fake)
        // A cache of its own, so no earlier build of tiny is reused.
        .env("BNNGEN_SIM_CACHE", scratch.path().join("sim-cache"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(" verilate: FAILED after"), "{stderr}");
    assert!(
        stderr.contains("syntax error (a stand-in failure)"),
        "{stderr}"
    );
    let log_line = stderr
        .lines()
        .find(|l| l.contains("build.log"))
        .unwrap_or_else(|| panic!("no build.log in the error: {stderr}"));
    let log = log_line
        .split_whitespace()
        .find(|w| w.contains("build.log"))
        .unwrap()
        .trim_end_matches(':');
    let text = std::fs::read_to_string(log).unwrap_or_else(|e| panic!("{log}: {e}"));
    assert!(text.contains("syntax error"), "{text}");
    assert!(!dir.join("sim.json").exists());
}
