//! `bnngen export --qonnx` judged by the QONNX ecosystem's own executor: qonnx's
//! `execute_onnx` (scripts/qonnx-check.py) must give the reference model's class and integer
//! scores on every image, for the shipped models on Fashion-MNIST test images and for random
//! models that together use every layer kind, front end, pad mode and direction.
//!
//! Needs the project venv with qonnx and onnxruntime (scripts/setup.sh); it fails, never
//! skips, without them. BNNGEN_QONNX_IMAGES sets the Fashion-MNIST image count (default 500;
//! docs/import.md gives the 10,000-image run).

use std::path::{Path, PathBuf};
use std::process::Command;

use bnngen::input::{self, Image};
use bnngen::model::random::{random_image, random_model, FrontEndChoice, RandomOptions};
use bnngen::model::{self, FrontEnd, LayerKind, Model};
use bnngen::reference::Engine;

const FASHION: &str = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";

fn python() -> PathBuf {
    let py = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let ok = Command::new(&py)
        .args(["-c", "import qonnx, onnxruntime"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{} cannot import qonnx and onnxruntime: run scripts/setup.sh (it installs the pinned \
         versions into the project .venv)",
        py.display()
    );
    py
}

fn export(model: &Path, out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_bnngen"))
        .arg("export")
        .arg(model)
        .arg("--qonnx")
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "export {}: {}",
        model.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Run qonnx's executor over (onnx, images) pairs; per pair, (class, scores) per image.
fn qonnx_scores(pairs: &[(PathBuf, PathBuf)], count: Option<usize>) -> Vec<Vec<(usize, Vec<i64>)>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/qonnx-check.py");
    let mut cmd = Command::new(python());
    cmd.arg(script);
    for (m, i) in pairs {
        cmd.arg(m).arg(i);
    }
    if let Some(n) = count {
        cmd.arg("--count").arg(n.to_string());
    }
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "qonnx-check.py failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["predictions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    let scores = p["scores"].as_array().unwrap();
                    let scores = scores.iter().map(|s| s.as_i64().unwrap()).collect();
                    (p["class"].as_u64().unwrap() as usize, scores)
                })
                .collect()
        })
        .collect()
}

/// Assert qonnx's results equal the reference model's on every image.
fn assert_same(what: &str, m: &Model, images: &[Image], got: &[(usize, Vec<i64>)]) {
    assert_eq!(got.len(), images.len(), "{what}: image count");
    let engine = Engine::new(m);
    for (i, (img, (class, scores))) in images.iter().zip(got).enumerate() {
        let want = engine.infer(img);
        assert_eq!(
            (&want.class, &want.scores),
            (class, scores),
            "{what}: image {i}: reference (left) vs qonnx (right)"
        );
    }
}

/// An IDX file of u8 images, N x H x W (one channel) or N x H x W x C.
fn write_idx(path: &Path, images: &[Image]) {
    let first = &images[0];
    let mut dims = vec![images.len(), first.height, first.width];
    if first.channels > 1 {
        dims.push(first.channels);
    }
    let mut bytes = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        bytes.extend((d as u32).to_be_bytes());
    }
    for img in images {
        bytes.extend(
            img.pixels
                .iter()
                .map(|&p| u8::try_from(p).expect("8-bit pixels")),
        );
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn shipped_models_agree_with_qonnx_on_fashion_mnist() {
    let n: usize = std::env::var("BNNGEN_QONNX_IMAGES").map_or(500, |v| v.parse().unwrap());
    assert!(
        Path::new(FASHION).exists(),
        "{FASHION} is missing: run scripts/setup.sh"
    );
    let dir = tempfile::tempdir().unwrap();
    let names = ["fashion-default", "fashion-up5k-pruned", "fashion-up5k"];
    let mut pairs = Vec::new();
    for name in names {
        let onnx = dir.path().join(format!("{name}.onnx"));
        export(Path::new(&format!("models/{name}.toml")), &onnx);
        pairs.push((onnx, PathBuf::from(FASHION)));
    }
    let got = qonnx_scores(&pairs, Some(n));
    let mut images = input::load_images(Path::new(FASHION)).unwrap();
    images.truncate(n);
    for (name, got) in names.iter().zip(&got) {
        let m = model::load(Path::new(&format!("models/{name}.toml"))).unwrap();
        assert_same(name, &m, &images, got);
        eprintln!(
            "{name}: qonnx agrees with the reference model on {} images",
            got.len()
        );
    }
}

#[test]
fn tiny_and_random_models_agree_with_qonnx() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<(String, Model)> = vec![(
        "tiny".into(),
        model::load(Path::new("models/tiny.toml")).unwrap(),
    )];
    // Seeds 1..=24, then the first later seeds that add a feature none had yet, until the
    // models together use every feature (`FEATURES`).
    let mut seen = std::collections::BTreeSet::new();
    for seed in 1..=2000u64 {
        let mut o = RandomOptions::sampled(seed);
        o.front_end = Some(FrontEndChoice::ALL[seed as usize % 4]);
        o.corner_cases = seed % 6 == 0;
        let m = random_model(seed, &o);
        let f = features(&m);
        if seed <= 24 || !f.is_subset(&seen) {
            seen.extend(f);
            cases.push((format!("random seed {seed}"), m));
        }
        if seed >= 24 && FEATURES.iter().all(|w| seen.contains(*w)) {
            break;
        }
    }
    let missing: Vec<_> = FEATURES.iter().filter(|w| !seen.contains(**w)).collect();
    assert!(
        missing.is_empty(),
        "the random models miss {missing:?}; seen {seen:?}"
    );
    let mut pairs = Vec::new();
    let mut sets = Vec::new();
    for (k, (_, m)) in cases.iter().enumerate() {
        let toml = dir.path().join(format!("m{k}.toml"));
        std::fs::write(&toml, model::to_toml(m)).unwrap();
        let onnx = dir.path().join(format!("m{k}.onnx"));
        export(&toml, &onnx);
        let count = if k == 0 { 500 } else { 64 };
        let images: Vec<Image> = (0..count)
            .map(|i| random_image(k as u64 * 1000 + i, &m.input))
            .collect();
        let idx = dir.path().join(format!("m{k}.idx"));
        write_idx(&idx, &images);
        pairs.push((onnx, idx));
        sets.push(images);
    }
    let got = qonnx_scores(&pairs, None);
    for (((what, m), images), got) in cases.iter().zip(&sets).zip(&got) {
        assert_same(what, m, images, got);
    }
}

/// What the export must cover: every layer kind, front end, pad mode, residual op, strides,
/// both directions and pruned tiles.
const FEATURES: [&str; 18] = [
    "front end binary",
    "front end Glt",
    "front end Uniform",
    "conv",
    "maxpool",
    "residual",
    "dense",
    "classifier",
    "pad minus_one",
    "pad plus_one",
    "pad zero",
    "stride",
    "residual or",
    "residual and",
    "residual xor",
    "residual xnor",
    "pruned tile",
    "direction down",
];

/// The features of `FEATURES` that model `m` uses.
fn features(m: &Model) -> std::collections::BTreeSet<String> {
    let mut seen = std::collections::BTreeSet::new();
    seen.insert(match &m.front_end {
        FrontEnd::Binary => "front end binary".to_string(),
        FrontEnd::Thermometer(t) => format!("front end {:?}", t.kind),
    });
    for l in &m.layers {
        seen.insert(l.kind.tag().to_string());
        match &l.kind {
            LayerKind::Conv(c) => {
                if c.padding > 0 {
                    seen.insert(format!("pad {}", c.pad_mode.as_str()));
                }
                if c.stride > 1 {
                    seen.insert("stride".into());
                }
            }
            LayerKind::Residual(r) => {
                seen.insert(format!("residual {}", r.op.as_str()));
            }
            _ => {}
        }
        if let Some(w) = l.kind.weights() {
            if w.kept_tiles() < w.total_tiles() {
                seen.insert("pruned tile".into());
            }
        }
        let act = match &l.kind {
            LayerKind::Conv(c) => Some(&c.activation),
            LayerKind::Dense(d) => Some(&d.activation),
            _ => None,
        };
        if act.is_some_and(|a| a.directions.contains(&model::Direction::Down)) {
            seen.insert("direction down".into());
        }
    }
    seen
}
