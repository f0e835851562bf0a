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

use prost::Message;
use serde_json::Value;

use bnngen::qonnx::proto::{AttributeProto, ModelProto, TensorProto};
use bnngen::qonnx::{ImportOptions, ScoreMap};

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

/// `bnngen import` of `onnx` to `toml`, then `bnngen infer` on the first `count` test images
/// equals qonnx's `execute_onnx` on `onnx` (scripts/qonnx-check.py), its scores mapped back
/// with `map` to within `tolerance`: the same class and all scores on every image.
fn agree_with_qonnx(onnx: &Path, toml: &Path, count: usize, map: ScoreMap, tolerance: f64) {
    let py = common::qonnx_python();
    let what = onnx.display().to_string();
    let bnngen = || Command::new(env!("CARGO_BIN_EXE_bnngen"));
    let import = bnngen()
        .arg("import")
        .arg(onnx)
        .arg("-o")
        .arg(toml)
        .output();
    succeeded(&format!("import {what}"), import.unwrap());
    let infer = bnngen()
        .arg("infer")
        .arg(toml)
        .arg(FASHION)
        .args(["--json", "--limit", &count.to_string()])
        .output();
    let ours: Value = serde_json::from_slice(&succeeded(&what, infer.unwrap())).unwrap();
    // Batch 1: Brevitas writes the flattening as a Reshape to [1, K].
    let qonnx = Command::new(&py)
        .arg("scripts/qonnx-check.py")
        .arg(onnx)
        .arg(FASHION)
        .args(["--count", &count.to_string(), "--batch", "1"])
        .args(["--score-scale", &map.scale.to_string()])
        .args(["--score-offset", &map.offset.to_string()])
        .args(["--score-tolerance", &tolerance.to_string()])
        .output();
    let theirs: Value = serde_json::from_slice(&succeeded(&what, qonnx.unwrap())).unwrap();
    let ours = predictions(&ours);
    let theirs = predictions(&theirs["models"][0]);
    assert_eq!(ours.len(), count, "{what}: bnngen's image count");
    assert_eq!(theirs.len(), count, "{what}: qonnx's image count");
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "{what}: image {i}: bnngen (left) vs qonnx (right)");
    }
}

#[test]
fn brevitas_fixtures_import_and_agree_with_qonnx() {
    let count: usize = std::env::var("BNNGEN_QONNX_IMAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let dir = tempfile::tempdir().unwrap();
    for &(name, identity) in IMPORTABLE {
        let onnx = Path::new(FIXTURES).join(format!("{name}.onnx"));
        let toml = dir.path().join(format!("{name}.toml"));
        let opts = ImportOptions::default();
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
        agree_with_qonnx(&onnx, &toml, count, map, tolerance);
        eprintln!(
            "{name}: class and scores equal on {count} of {count} images (scale {}, offset {})",
            map.scale, map.offset
        );
    }
}

/// `brevitas-mlp-w1a1` with the BipolarQuant of the first layer's weights (node 5) rewritten
/// as an `IntQuant`, the classifier's (node 13) as a `Quant` at scale 0.37, and the first
/// activation's (node 8, after its batch norm) as an `IntQuant` with a zero point of its own,
/// all of bit width 1, signed, zero point 0 (what qonnx computes as +-scale); `edit` then
/// changes the new nodes or their constants.
fn int_quant_rewrite(edit: impl FnOnce(&mut ModelProto)) -> ModelProto {
    let bytes = std::fs::read(Path::new(FIXTURES).join("brevitas-mlp-w1a1.onnx")).unwrap();
    let mut p = ModelProto::decode(bytes.as_slice()).unwrap();
    let g = p.graph.as_mut().unwrap();
    let scalar = |name: &str, v: f32| TensorProto {
        name: name.into(),
        data_type: 1,
        dims: vec![],
        raw_data: v.to_le_bytes().to_vec(),
        ..Default::default()
    };
    g.initializer.extend([
        scalar("iq_zero", 0.0),
        scalar("iq_zero_act", 0.0),
        scalar("iq_bits", 1.0),
        scalar("iq_scale", 0.37),
    ]);
    let attr = |name: &str, i: Option<i64>, s: Option<&str>| AttributeProto {
        name: name.into(),
        r#type: if i.is_some() { 2 } else { 3 },
        i,
        s: s.map(|s| s.as_bytes().to_vec()),
        ..Default::default()
    };
    let rewrites = [
        (5, "IntQuant", None, "iq_zero"),
        (8, "IntQuant", None, "iq_zero_act"),
        (13, "Quant", Some("iq_scale"), "iq_zero"),
    ];
    for (k, op, scale, zero) in rewrites {
        let n = &mut g.node[k];
        assert_eq!(n.op_type, "BipolarQuant", "node {k}");
        n.op_type = op.into();
        if let Some(s) = scale {
            n.input[1] = s.into();
        }
        n.input.extend([zero.to_string(), "iq_bits".to_string()]);
        n.attribute = vec![
            attr("signed", Some(1), None),
            attr("narrow", Some(0), None),
            attr("rounding_mode", None, Some("ROUND")),
        ];
    }
    edit(&mut p);
    p
}

/// 1-bit signed IntQuant (Quant) weights and activations at zero point 0 are read as
/// BipolarQuant ones: the same model as the original file, with the classifier's scale as
/// the score scale, and qonnx's executor agrees on 200 images.
#[test]
fn one_bit_int_quant_weights_are_bipolar_and_agree_with_qonnx() {
    let dir = tempfile::tempdir().unwrap();
    let onnx = dir.path().join("w1a1-intquant.onnx");
    std::fs::write(&onnx, int_quant_rewrite(|_| {}).encode_to_vec()).unwrap();
    let opts = ImportOptions::default();
    let (m, map) = bnngen::qonnx::import_file_scored(&onnx, &opts).unwrap();
    let original = Path::new(FIXTURES).join("brevitas-mlp-w1a1.onnx");
    let mut expected = bnngen::qonnx::import_file(&original, &opts).unwrap();
    expected.meta.name = m.meta.name.clone();
    assert_eq!(
        m, expected,
        "IntQuant weights read unlike BipolarQuant ones"
    );
    assert_eq!(map.scale, f64::from(0.37f32), "{map:?}");

    let toml = dir.path().join("w1a1-intquant.toml");
    agree_with_qonnx(&onnx, &toml, 200, map, ROUNDING);
}

/// An IntQuant of weights or of an activation that does not give +-scale is refused naming
/// it.
#[test]
fn other_int_quant_weights_are_refused_naming_the_node() {
    let set = |name: &'static str, v: f32| {
        move |p: &mut ModelProto| {
            let g = p.graph.as_mut().unwrap();
            let t = g.initializer.iter_mut().find(|t| t.name == name).unwrap();
            t.raw_data = v.to_le_bytes().to_vec();
        }
    };
    let refusal = |p: ModelProto| {
        let bytes = p.encode_to_vec();
        match bnngen::qonnx::import(&bytes, "q.onnx", &ImportOptions::default(), None) {
            Ok(_) => panic!("imported"),
            Err(e) => e.to_string(),
        }
    };
    let node = "q.onnx: node 5 (node__symbolic_1, IntQuant): ";
    let e = refusal(int_quant_rewrite(set("iq_bits", 2.0)));
    assert!(e.contains(node) && e.contains("to [2.0] bits"), "{e}");
    let e = refusal(int_quant_rewrite(set("iq_zero", 0.5)));
    assert!(e.contains(node) && e.contains("has zero point 0.5"), "{e}");
    let e = refusal(int_quant_rewrite(|p| {
        let n = &mut p.graph.as_mut().unwrap().node[5];
        n.attribute[0].i = Some(0);
    }));
    assert!(
        e.contains(node) && e.contains("unsigned 1-bit IntQuant"),
        "{e}"
    );
    let e = refusal(int_quant_rewrite(set("iq_zero_act", -0.5)));
    let node = "q.onnx: node 8 (node__symbolic_2, IntQuant): has zero point -0.5";
    assert!(e.contains(node), "{e}");
}
