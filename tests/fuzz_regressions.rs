//! Replays every input in `tests/fuzz_regressions/` through `bnngen generate` (parse and
//! check, plan, generate: the path `fuzz/fuzz_targets/model_to_verilog.rs` drives) and asserts
//! that each ends with exit 0 or 2 and no panic. Each file is an input that once crashed
//! bnngen (found by the fuzzer or by hand, issue 14); the fuzzer needs cargo-fuzz
//! (`scripts/fuzz.sh`), this replay only cargo.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn every_fuzz_regression_exits_0_or_2_without_panic() {
    let mut files: Vec<PathBuf> = std::fs::read_dir("tests/fuzz_regressions")
        .expect("tests/fuzz_regressions exists (run from the package root)")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 2, "regression corpus missing: {files:?}");
    let mut failed = Vec::new();
    for f in &files {
        let tmp = tempfile::TempDir::new().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_bnngen"))
            .arg("generate")
            .arg(std::fs::canonicalize(f).unwrap())
            .args(["-o", "rtl"])
            .current_dir(tmp.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        if !matches!(code, Some(0) | Some(2)) || stderr.contains("panicked") {
            failed.push(format!("{}: exit {code:?}: {stderr}", f.display()));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
