//! The FuseSoC core that `generate` writes: it lists exactly the generated files in the order
//! of `files.f`, and FuseSoC itself (PyPI `fusesoc` in the project venv, installed by
//! scripts/setup.sh) accepts it and lints the design through Edalize + Verilator `-Wall`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("rtl_fusesoc")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn generate(model: &str, out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_bnngen"))
        .args(["generate", model, "-o"])
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// FuseSoC: `BNNGEN_FUSESOC`, else the project venv, else PATH; absent is a test failure.
fn fusesoc() -> PathBuf {
    if let Some(p) = std::env::var_os("BNNGEN_FUSESOC") {
        return PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/fusesoc");
    if venv.is_file() {
        return venv;
    }
    let on_path = Command::new("fusesoc").arg("--version").output();
    if on_path.map(|o| o.status.success()).unwrap_or(false) {
        return PathBuf::from("fusesoc");
    }
    panic!(
        "fusesoc not found: run scripts/setup.sh (installs PyPI `fusesoc` into .venv/) \
         or set BNNGEN_FUSESOC"
    );
}

fn lint(cores: &Path, work: &Path) -> std::process::Output {
    Command::new(fusesoc())
        .current_dir(work)
        .arg("--cores-root")
        .arg(cores)
        .args(["run", "--target", "lint", "bnngen:accel:tiny"])
        .output()
        .unwrap()
}

#[test]
fn core_lists_every_generated_file_in_order() {
    let d = tmp("list").join("rtl");
    generate("models/tiny.toml", &d);
    let core = std::fs::read_to_string(d.join("tiny.core")).unwrap();
    let list = std::fs::read_to_string(d.join("files.f")).unwrap();
    let sources: Vec<&str> = list.lines().collect();
    assert!(sources.len() > 3 && sources.last() == Some(&"tiny_top.v"));
    let in_core: Vec<&str> = (core.lines())
        .filter_map(|l| l.trim().strip_prefix("- "))
        .filter(|f| f.ends_with(".v"))
        .collect();
    assert_eq!(in_core, sources);
    // ROM contents live in the modules: no file beside them needs copying.
    let others: Vec<String> = (std::fs::read_dir(&d).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|f| !f.ends_with(".v") && f != "files.f" && f != "tiny.core" && !f.starts_with('.'))
        .collect();
    assert!(
        others.is_empty(),
        "unexpected files beside the RTL: {others:?}"
    );
    assert!(core.contains("toplevel: tiny_top"));
}

#[test]
fn fusesoc_lints_the_core_and_catches_a_warning() {
    let d = tmp("lint");
    let cores = d.join("rtl");
    generate("models/tiny.toml", &cores);
    let work = d.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let ok = lint(&cores, &work);
    assert!(
        ok.status.success(),
        "fusesoc lint failed:\n{}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    // The same flow must fail once the top has an unused signal (not named `*unused*`, which
    // Verilator exempts): proof that the lint really runs with -Wall.
    let top = cores.join("tiny_top.v");
    let text = std::fs::read_to_string(&top).unwrap();
    let i = text.find(");\n").expect("end of the port list") + 3;
    let bad = format!(
        "{}  wire bnngen_lint_probe = clk;\n{}",
        &text[..i],
        &text[i..]
    );
    std::fs::write(&top, bad).unwrap();
    let _ = std::fs::remove_dir_all(work.join("build"));
    let fail = lint(&cores, &work);
    assert!(
        !fail.status.success(),
        "lint passed a design with an unused wire"
    );
}
