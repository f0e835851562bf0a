//! bnngen installs like a tool: `cargo install` into a temporary prefix, then check, generate,
//! simulate and synth (iCE40 UP5K: Yosys, nextpnr, icepack) on the tiny model from a folder
//! outside the source tree, with the source tree's own `constraints/` and `sim/` not reachable
//! by walking up from there.

use std::path::Path;
use std::process::Command;

#[test]
fn an_installed_bnngen_works_from_any_folder() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"));
    let prefix = tempfile::tempdir().unwrap();
    // Its own target folder (the test's is locked by the running `cargo test`), kept between
    // runs so dependencies compile once; the flow needs no training, so no burn.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("install-target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "install",
            "--quiet",
            "--debug",
            "--no-default-features",
            "--path",
        ])
        .arg(src)
        .arg("--root")
        .arg(prefix.path())
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo install failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = prefix.path().join("bin/bnngen");
    assert!(bin.is_file());

    // A user's folder with a model in it, far from the source tree.
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    assert!(!w.starts_with(src));
    std::fs::copy(src.join("models/tiny.toml"), w.join("tiny.toml")).unwrap();
    let run = |args: &[&str]| {
        let o = Command::new(&bin)
            .args(args)
            .current_dir(w)
            // A cache of its own: the build must come from the installed harness.
            .env("BNNGEN_SIM_CACHE", w.join("sim-cache"))
            .env_remove("BNNGEN_VENV")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(o.status.success(), "bnngen {args:?} failed: {text}");
        text
    };
    assert!(run(&["check", "tiny.toml"]).contains("tiny"));
    // Built without `train`: asked to train, it says which feature is missing, and exits 1
    // (not 2, which would blame the user's config).
    let train = Command::new(&bin)
        .args(["train", "--config", "tiny.train.toml", "-o", "trained.toml"])
        .current_dir(w)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&train.stderr);
    assert_eq!(train.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("feature `train`"), "{stderr}");
    assert!(!w.join("trained.toml").exists());
    run(&["generate", "tiny.toml", "-o", "rtl"]);
    assert!(w.join("rtl/tiny_top.v").is_file());
    let sim = run(&["simulate", "tiny.toml", "--random", "3"]);
    assert!(sim.contains("match"), "{sim}");
    let synth = run(&["synth", "tiny.toml", "--target", "ice40-up5k", "-o", "run"]);
    assert!(synth.contains("Fmax"), "{synth}");
    assert!(w.join("run/synth-ice40-up5k/bitstream.bin").is_file());
    assert!(w
        .join("run/synth-ice40-up5k/board/icebreaker/icebreaker.pcf")
        .is_file());
}
