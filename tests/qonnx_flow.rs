//! A network written by Brevitas goes through the whole flow like a native model: `bnngen
//! import` on the thermometer CNN fixture, then `bnngen flow` on the imported file for the
//! iCEBreaker's UP5K. The co-simulation is bit-exact on every frame, each frame takes the
//! plan's cycles exactly, and nextpnr placed, routed and packed the design (the run's
//! report.json names the device's cells in use and the bitstream is written).
//!
//! Its cost is kept small as tests/cli_flow.rs keeps its own: a few Fashion-MNIST frames
//! rather than the 10,000-image default, and one flow run for all the assertions. Needs
//! verilator, yosys and nextpnr-ice40 (scripts/setup.sh); the flow fails, never skips,
//! without them.

use std::path::Path;
use std::process::Command;

const FIXTURE: &str = "tests/fixtures/qonnx/brevitas-cnn-thermo.onnx";
const FRAMES: u64 = 8;

fn bnngen() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bnngen"))
}

fn run(what: &str, cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{} unreadable: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn imported_brevitas_cnn_runs_the_flow_bit_exact_and_places_on_up5k() {
    let scratch = tempfile::tempdir().unwrap();
    let toml = scratch.path().join("cnn.toml");
    let dir = scratch.path().join("run");
    run(
        "import",
        bnngen().arg("import").arg(FIXTURE).arg("-o").arg(&toml),
    );
    let summary = run(
        "flow",
        bnngen()
            .arg("flow")
            .arg(&toml)
            .args(["--target", "ice40-up5k", "--frames", &FRAMES.to_string()])
            .arg("-o")
            .arg(&dir),
    );
    for step in ["simulate", "synth", "pnr", "report"] {
        assert!(
            summary.contains(&format!("\n{step}")),
            "summary lacks step {step}: {summary}"
        );
    }

    let report = json(&dir.join("report.json"));
    let sim = &report["simulation"];
    assert_eq!(sim["frames"], FRAMES, "{sim}");
    assert_eq!(
        sim["mismatches"], 0,
        "RTL and reference model differ: {sim}"
    );
    let planned = sim["cycles_per_frame_planned"].as_f64().unwrap();
    let measured = sim["cycles_per_frame_measured"].as_f64().unwrap();
    assert!(planned > 0.0, "{sim}");
    assert_eq!(measured, planned, "cycles per frame: measured vs plan");

    // The plan the flow wrote is the one a fresh fold of the imported model gives.
    let model = bnngen::model::load(&toml).unwrap();
    let target = bnngen::synth::Target::parse("ice40-up5k").unwrap();
    let plan = bnngen::plan::fit::fold(&model, &target.fold_config()).unwrap();
    assert_eq!(
        planned, plan.cycles_per_frame as f64,
        "report's planned cycles vs the plan"
    );

    let synth = &report["synthesis"];
    assert_eq!(synth["target"], "ice40-up5k");
    assert_eq!(synth["device"], "iCE40UP5K-SG48");
    let used = |cell: &str| -> u64 {
        let rows = synth["resources"].as_array().expect("placed resources");
        let row = rows.iter().find(|r| r["name"] == cell);
        let row = row.unwrap_or_else(|| panic!("no {cell} in {synth}"));
        let (used, available) = (
            row["used"].as_u64().unwrap(),
            row["available"].as_u64().unwrap(),
        );
        assert!(used <= available, "{cell}: {used} of {available}");
        used
    };
    assert!(used("ICESTORM_LC") > 0, "no logic cells placed: {synth}");
    // The weights live in block RAM: 9,728 bits need at least three 4-kbit EBRs.
    assert!(
        used("ICESTORM_RAM") >= 3,
        "weights not in block RAM: {synth}"
    );
    let fmax = synth["fmax_mhz"].as_f64().expect("a routed Fmax");
    assert!(fmax > 0.0, "{synth}");
    let bitstream = dir.join("synth-ice40-up5k/bitstream.bin");
    let size = std::fs::metadata(&bitstream).map(|m| m.len()).unwrap_or(0);
    assert!(size > 0, "no bitstream at {}", bitstream.display());
}
