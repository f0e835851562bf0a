//! Networks written by Brevitas itself (tests/fixtures/qonnx/, made by
//! scripts/qonnx-fixtures.py; their accuracies are in the README.md there), imported by
//! `bnngen import` and judged by the QONNX ecosystem's own executor: on Fashion-MNIST test
//! images, `bnngen infer` on the imported model and qonnx's `execute_onnx` on the original
//! file (scripts/qonnx-check.py) give the same class on every image, and scores equal under
//! the affine map of docs/import.md (file score = m x bnngen score + c) that the importer
//! states (`import_file_scored`). With +-1 weights and activations (m = 1, c = 0) every
//! score is an integer that float32 holds exactly, and "equal" is exact; with a weight scale
//! from statistics or a TensorNorm, qonnx's float32 arithmetic rounds, and its scores must
//! lie within [`ROUNDING`] of the mapped integers (far closer to them than to any other).
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

/// The importable fixtures, and whether the importer's score map must be the identity
/// (scores exact in float32) or need not (the check then allows [`ROUNDING`]).
const IMPORTABLE: &[(&str, bool)] = &[
    ("brevitas-mlp-w1a1", true),
    ("brevitas-cnn-thermo", true),
    ("brevitas-mlp-wscale", false),
    ("brevitas-mlp-tnorm", false),
];

/// How far qonnx's score, mapped back to bnngen's units, may lie from an integer. The worst
/// case here is the classifier of `brevitas-mlp-wscale`: 64 terms of +-m summed in float32
/// are off by at most 64 x 64 x 2^-24 m (2.4e-4 m); TensorNorm's four scalar steps add a
/// few float32 roundings of the score.
const ROUNDING: f64 = 1e-3;

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
    for &(name, identity) in IMPORTABLE {
        let onnx = Path::new(FIXTURES).join(format!("{name}.onnx"));
        let toml = dir.path().join(format!("{name}.toml"));
        let opts = bnngen::qonnx::ImportOptions::default();
        let (_, map) = bnngen::qonnx::import_file_scored(&onnx, &opts).unwrap();
        let tolerance = if identity {
            assert_eq!((map.scale, map.offset), (1.0, 0.0), "{name}'s score map");
            0.0
        } else {
            assert_ne!(
                map.scale, 1.0,
                "{name} is meant to have a score scale other than 1"
            );
            ROUNDING
        };
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
            .args(["--score-scale", &map.scale.to_string()])
            .args(["--score-offset", &map.offset.to_string()])
            .args(["--score-tolerance", &tolerance.to_string()])
            .output();
        let theirs: Value = serde_json::from_slice(&succeeded(name, qonnx.unwrap())).unwrap();
        let ours = predictions(&ours);
        let theirs = predictions(&theirs["models"][0]);
        assert_eq!(ours.len(), count, "{name}: bnngen's image count");
        assert_eq!(theirs.len(), count, "{name}: qonnx's image count");
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(a, b, "{name}: image {i}: bnngen (left) vs qonnx (right)");
        }
        eprintln!(
            "{name}: class and scores equal on {count} of {count} images (scale {}, offset {})",
            map.scale, map.offset
        );
    }
}
