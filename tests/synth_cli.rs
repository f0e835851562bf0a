//! `bnngen synth` from the command line: a report on the generic target, user errors exit 2,
//! and a missing tool exits 1 naming the package that provides it.

use std::path::Path;
use std::process::Command;

fn bnngen() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bnngen"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn generic_target_writes_json_report() {
    let out = tmp("cli-generic");
    let o = bnngen()
        .args([
            "synth",
            "models/tiny.toml",
            "--target",
            "generic",
            "--json",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["target"], "generic");
    assert!(v["resources"]["ffs"].as_u64().unwrap() > 100);
    assert!(v["timing"].is_null());
    assert!(v["performance"]["cycles_per_frame"].as_u64().unwrap() > 0);
    let on_disk: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("synth-generic/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(on_disk, v);
    assert!(out.join("synth-generic/report.md").is_file());
}

#[test]
fn unknown_target_is_a_usage_error() {
    let o = bnngen()
        .args(["synth", "models/tiny.toml", "--target", "ice41"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("ice41") && e.contains("ecp5-25k") && e.contains("generic"),
        "{e}"
    );
}

#[test]
fn missing_nextpnr_names_its_package() {
    // A PATH with Yosys and its ABC but no nextpnr.
    let out = tmp("cli-missing");
    let bin = out.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for t in ["yosys", "berkeley-abc", "yosys-abc"] {
        if let Some(p) = which(t) {
            std::os::unix::fs::symlink(p, bin.join(t)).unwrap();
        }
    }
    assert!(
        bin.join("yosys").exists(),
        "yosys not on PATH; run scripts/setup.sh"
    );
    let o = bnngen()
        .args(["synth", "models/tiny.toml", "--target", "ice40-hx8k", "-o"])
        .arg(out.join("run"))
        .env("PATH", &bin)
        .env_remove("BNNGEN_NEXTPNR_ICE40")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("nextpnr-ice40 not found") && e.contains("Debian package `nextpnr-ice40`"),
        "{e}"
    );
}

#[test]
fn failing_tool_shows_its_message_and_log() {
    // A Yosys that always fails, standing in for a real synthesis error.
    let dir = tmp("cli-failing-tool");
    std::fs::create_dir_all(&dir).unwrap();
    let fake = dir.join("yosys");
    std::fs::write(
        &fake,
        "#!/bin/sh\nwhile [ $# -gt 0 ]; do [ \"$1\" = -l ] && log=$2; shift; done\necho 'ERROR: Module `x'\"'\"' referenced is not part of the design.' > \"$log\"\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = bnngen()
        .args(["synth", "models/tiny.toml", "--target", "generic", "-o"])
        .arg(dir.join("out"))
        .env("BNNGEN_YOSYS", &fake)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("yosys failed"), "{e}");
    assert!(e.contains("referenced is not part of the design"), "{e}");
    assert!(e.contains("synth.log"), "{e}");
    // The failed run is in place, marked failed, with the log the error names.
    let work = dir.join("out/synth-generic");
    assert!(work.join("FAILED").is_file() && work.join("synth.log").is_file());
    assert!(!work.join("report.json").exists());
    assert!(
        e.contains(&work.join("synth.log").display().to_string()),
        "{e}"
    );
}

fn which(tool: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// `--weights spram` is refused on a target without SPRAM, with exit 2 and nothing written.
#[test]
fn weights_in_spram_on_a_target_without_spram_is_a_usage_error() {
    let out = tmp("cli-spram-ecp5");
    let o = bnngen()
        .args([
            "synth",
            "models/tiny.toml",
            "--target",
            "ecp5-25k",
            "--weights",
            "spram",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("ice40-up5k") && e.contains("ecp5-25k"), "{e}");
    assert!(!out.exists(), "nothing written");
}

/// `weights` in the hw file: `spram` for a target without SPRAM, or an unknown value, exits 2
/// naming the file and the field, with nothing written; `--weights bram` overrides the file.
#[test]
fn weights_key_in_the_hw_file_is_checked_and_the_flag_overrides_it() {
    let dir = tmp("cli-spram-key");
    std::fs::create_dir_all(&dir).unwrap();
    let spram = dir.join("spram.toml");
    std::fs::write(&spram, "clock_mhz = 48.0\nweights = \"spram\"\n").unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "weights = \"sram\"\n").unwrap();
    let run = |hw: &Path, target: &str, extra: &[&str], out: &Path| {
        bnngen()
            .args(["synth", "models/tiny.toml", "--target", target, "--hw"])
            .arg(hw)
            .args(extra)
            .arg("-o")
            .arg(out)
            .output()
            .unwrap()
    };
    let out = dir.join("out-ecp5");
    let o = run(&spram, "ecp5-25k", &[], &out);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("spram.toml") && e.contains("weights") && e.contains("ice40-up5k"),
        "{e}"
    );
    assert!(!out.exists(), "nothing written");
    let out = dir.join("out-bad");
    let o = run(&bad, "ice40-up5k", &[], &out);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("bad.toml:1") && e.contains("weights") && e.contains("spram"),
        "{e}"
    );
    assert!(!out.exists(), "nothing written");
    // `flow` refuses it for another target the same way.
    let out = dir.join("out-flow");
    let o = bnngen()
        .args(["flow", "models/tiny.toml", "--target", "ecp5-25k", "--hw"])
        .arg(&spram)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("spram.toml: weights"), "{e}");
    assert!(!out.exists(), "nothing written");
    // The flag wins over the file: the generic target synthesizes with block-RAM weights.
    let out = dir.join("out-generic");
    let o = run(&spram, "generic", &["--weights", "bram", "--json"], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!out.join("synth-generic").join("weights.bin").exists());
}
