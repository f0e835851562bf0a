//! Replays every input in `tests/fuzz_regressions/` through the path the fuzzer drives
//! (`fuzz/fuzz_targets/model_to_verilog.rs`: parse and check, plan, generate) and asserts that
//! none panics. Each file is an input that once crashed bnngen (found by the fuzzer or by
//! hand, issue 14); the fuzzer itself needs nightly and cargo-fuzz, this replay runs anywhere.

use std::panic::catch_unwind;
use std::path::PathBuf;

fn run(text: &str) {
    let Ok(model) = bnngen::model::parse(text, "fuzz") else {
        return;
    };
    let _ = model.summary();
    let Ok(plan) = bnngen::plan::set_folding(&model, &bnngen::plan::HwConfig::default()) else {
        return;
    };
    let _ = bnngen::rtl::generate(&model, &plan, bnngen::rtl::GenOptions::default());
}

#[test]
fn every_fuzz_regression_runs_without_panic() {
    let mut files: Vec<PathBuf> = std::fs::read_dir("tests/fuzz_regressions")
        .expect("tests/fuzz_regressions exists (run from the package root)")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 2, "regression corpus missing: {files:?}");
    let mut failed = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if catch_unwind(|| run(&text)).is_err() {
            failed.push(f.display().to_string());
        }
    }
    assert!(failed.is_empty(), "panicked on: {failed:?}");
}
