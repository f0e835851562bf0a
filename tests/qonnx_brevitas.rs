//! Networks written by Brevitas itself (tests/fixtures/qonnx/, made by
//! scripts/qonnx-fixtures.py; their accuracies are in the README.md there), imported by
//! `bnngen import` and judged by the QONNX ecosystem's own executor: on Fashion-MNIST test
//! images, `bnngen infer` on the imported model and qonnx's `execute_onnx` on the original
//! file (scripts/qonnx-check.py) give the same class on every image, and scores equal under
//! the affine map of docs/import.md (file score = m x bnngen score, with m = 1 for these
//! fixtures: their weights and activations are +-1, so every score is an integer that
//! float32 holds exactly).
//!
//! Needs the project venv with qonnx and onnxruntime (scripts/setup.sh); it fails, never
//! skips, without them. BNNGEN_QONNX_IMAGES sets the image count (default 500;
//! docs/import.md gives the 10,000-image run).

mod common;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const FASHION: &str = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
const FIXTURES: &str = "tests/fixtures/qonnx";

/// The importable fixtures and their score scale m (file score = m x bnngen score).
const IMPORTABLE: &[(&str, f64)] = &[("brevitas-mlp-w1a1", 1.0), ("brevitas-cnn-thermo", 1.0)];

fn succeeded(what: &str, o: Output) -> Vec<u8> {
    assert!(
        o.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

/// (class, scores) per image from a JSON report with a `predictions` list.
fn predictions(json: &Value) -> Vec<(u64, Vec<i64>)> {
    json["predictions"]
        .as_array()
        .expect("a predictions list")
        .iter()
        .map(|p| {
            let scores = p["scores"].as_array().expect("scores");
            let scores = scores.iter().map(|s| s.as_i64().expect("an integer"));
            (p["class"].as_u64().expect("a class"), scores.collect())
        })
        .collect()
}

#[test]
fn brevitas_fixtures_import_and_agree_with_qonnx() {
    let count: usize = std::env::var("BNNGEN_QONNX_IMAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let py = common::qonnx_python();
    let dir = tempfile::tempdir().unwrap();
    for &(name, scale) in IMPORTABLE {
        let onnx = Path::new(FIXTURES).join(format!("{name}.onnx"));
        let toml = dir.path().join(format!("{name}.toml"));
        let bnngen = || Command::new(env!("CARGO_BIN_EXE_bnngen"));
        let import = bnngen()
            .arg("import")
            .arg(&onnx)
            .arg("-o")
            .arg(&toml)
            .output();
        succeeded(&format!("import {name}"), import.unwrap());
        let infer = bnngen()
            .arg("infer")
            .arg(&toml)
            .arg(FASHION)
            .args(["--json", "--limit", &count.to_string()])
            .output();
        let ours: Value = serde_json::from_slice(&succeeded(name, infer.unwrap())).unwrap();
        // Batch 1: Brevitas writes the flattening as a Reshape to [1, K].
        let qonnx = Command::new(&py)
            .arg("scripts/qonnx-check.py")
            .arg(&onnx)
            .arg(FASHION)
            .args(["--count", &count.to_string(), "--batch", "1"])
            .args(["--score-scale", &scale.to_string()])
            .output();
        let theirs: Value = serde_json::from_slice(&succeeded(name, qonnx.unwrap())).unwrap();
        let ours = predictions(&ours);
        let theirs = predictions(&theirs["models"][0]);
        assert_eq!(ours.len(), count, "{name}: bnngen's image count");
        assert_eq!(theirs.len(), count, "{name}: qonnx's image count");
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(a, b, "{name}: image {i}: bnngen (left) vs qonnx (right)");
        }
        eprintln!("{name}: class and scores equal on {count} of {count} images");
    }
}
