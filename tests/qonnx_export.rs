//! `bnngen export --qonnx` judged by the QONNX ecosystem's own executor: qonnx's
//! `execute_onnx` (scripts/qonnx-check.py) must give the reference model's class and integer
//! scores on every image, for the shipped models on Fashion-MNIST test images and for random
//! models that together use every layer kind, front end, pad mode and direction.
//!
//! Needs the project venv with qonnx and onnxruntime (scripts/setup.sh); it fails, never
//! skips, without them. BNNGEN_QONNX_IMAGES sets the Fashion-MNIST image count (default 500;
//! docs/import.md gives the 10,000-image run).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use bnngen::input::{self, Image};
use bnngen::model::{self, Direction, FrontEnd, LayerKind, Model};
use bnngen::prng::SplitMix64;
use bnngen::qonnx::proto::{GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto};
use bnngen::random::{random_image, random_model, FrontEndChoice, RandomOptions};
use bnngen::reference::Engine;
use prost::Message;

const FASHION: &str = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";

fn python() -> PathBuf {
    common::qonnx_python()
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
fn qonnx_scores(
    pairs: &[(PathBuf, PathBuf)],
    count: Option<usize>,
    score_scale: f64,
) -> Vec<Vec<(usize, Vec<i64>)>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/qonnx-check.py");
    let mut cmd = Command::new(python());
    cmd.arg(script);
    for (m, i) in pairs {
        cmd.arg(m).arg(i);
    }
    if let Some(n) = count {
        cmd.arg("--count").arg(n.to_string());
    }
    cmd.arg("--score-scale").arg(score_scale.to_string());
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

/// `count` random images for model `m` (image i from seed `salt + i`), written as IDX file
/// `name` in `dir`.
fn images_file(dir: &Path, name: &str, m: &Model, count: u64, salt: u64) -> (PathBuf, Vec<Image>) {
    let images: Vec<Image> = (0..count)
        .map(|i| random_image(salt + i, &m.input))
        .collect();
    let path = dir.join(name);
    write_idx(&path, &images);
    (path, images)
}

/// An IDX file of images, N x H x W (one channel) or N x H x W x C: unsigned bytes, or
/// big-endian 16-bit codes (type 0x0B) when a pixel needs more than 8 bits.
fn write_idx(path: &Path, images: &[Image]) {
    let first = &images[0];
    let mut dims = vec![images.len(), first.height, first.width];
    if first.channels > 1 {
        dims.push(first.channels);
    }
    let wide = images.iter().any(|im| im.pixels.iter().any(|&p| p > 255));
    let mut bytes = vec![0, 0, if wide { 0x0b } else { 8 }, dims.len() as u8];
    for d in dims {
        bytes.extend((d as u32).to_be_bytes());
    }
    for img in images {
        for &p in &img.pixels {
            if wide {
                bytes.extend(i16::try_from(p).expect("15-bit pixels").to_be_bytes());
            } else {
                bytes.push(p as u8);
            }
        }
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
    let mut images = input::load_images(Path::new(FASHION)).unwrap();
    images.truncate(n);
    // fashion-sensor reads the sensor's 10-bit codes: its test set through its sensor model.
    let sensor = bnngen::sensor::SensorConfig::load(Path::new("models/fashion-sensor.sensor.toml"))
        .unwrap_or_else(|e| panic!("models/fashion-sensor.sensor.toml: {e:?}"));
    let sensed: Vec<Image> = (images.iter().enumerate())
        .map(|(i, im)| Image {
            pixels: sensor.apply(&im.pixels, 8, bnngen::sensor::Stream::Test, i as u64),
            ..im.clone()
        })
        .collect();
    let sensed_file = dir.path().join("sensor-test.idx");
    write_idx(&sensed_file, &sensed);
    let names = [
        "fashion-default",
        "fashion-up5k-pruned",
        "fashion-up5k",
        "fashion-sensor",
        "fashion-paper",
    ];
    let mut pairs = Vec::new();
    for name in names {
        let onnx = dir.path().join(format!("{name}.onnx"));
        export(Path::new(&format!("models/{name}.toml")), &onnx);
        let set = match name {
            "fashion-sensor" => sensed_file.clone(),
            _ => PathBuf::from(FASHION),
        };
        pairs.push((onnx, set));
    }
    let got = qonnx_scores(&pairs, Some(n), 1.0);
    for (name, got) in names.iter().zip(&got) {
        let m = model::load(Path::new(&format!("models/{name}.toml"))).unwrap();
        let images = match *name {
            "fashion-sensor" => &sensed,
            _ => &images,
        };
        assert_same(name, &m, images, got);
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
        let (idx, images) =
            images_file(dir.path(), &format!("m{k}.idx"), m, count, k as u64 * 1000);
        pairs.push((onnx, idx));
        sets.push(images);
    }
    let got = qonnx_scores(&pairs, None, 1.0);
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
        if act.is_some_and(|a| a.directions.contains(&Direction::Down)) {
            seen.insert("direction down".into());
        }
    }
    seen
}

/// Rewrite bnngen's export of `m` the way Brevitas writes a BNN: float weights through
/// BipolarQuant with a positive scale (per output channel for convs, one for dense layers,
/// 0.5 for the classifier, whose bias is scaled alike), and each activation as
/// BatchNormalization -> BipolarQuant instead of MultiThreshold, with batch-norm parameters
/// drawn so that the sign falls half a step away from bnngen's threshold. Layers with pruned
/// tiles keep bnngen's pattern (BipolarQuant has no zero). Returns the graph and the
/// classifier's score scale.
fn brevitas_style(m: &Model, seed: u64) -> (ModelProto, f64) {
    let mut p = ModelProto::decode(bnngen::qonnx::export(m).unwrap().as_slice()).unwrap();
    let mut r = SplitMix64::new(seed);
    let mut unit = move || 0.5 + r.below(1 << 20) as f64 / (1 << 20) as f64 * 1.5;
    let g = p.graph.as_mut().unwrap();
    let score_scale = 0.5;
    for (i, l) in m.layers.iter().enumerate() {
        let Some(wts) = l.kind.weights() else {
            continue;
        };
        if wts.kept_tiles() < wts.total_tiles() {
            continue;
        }
        let o_n = wts.out_channels;
        let classifier = matches!(l.kind, LayerKind::Classifier(_));
        let scales: Vec<f64> = match (&l.kind, classifier) {
            (_, true) => vec![score_scale],
            (LayerKind::Conv(_), _) => (0..o_n).map(|_| unit()).collect(),
            _ => vec![unit()],
        };
        // Weights: float magnitudes with bnngen's signs, quantized by BipolarQuant.
        let wname = format!("l{i}_weights");
        let t = g.initializer.iter_mut().find(|t| t.name == wname).unwrap();
        t.name = format!("l{i}_float_weights");
        let mut wshape: Vec<usize> = t.dims.iter().map(|&d| d as usize).collect();
        let mut vals: Vec<f32> = t
            .raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        // On odd seeds a dense layer or classifier is a Gemm with transB = 1 (weights
        // [O, K]), as PyTorch's Linear exports.
        if wshape.len() == 2 && seed % 2 == 1 {
            let (k, o) = (wshape[0], wshape[1]);
            vals = (0..o * k).map(|j| vals[(j % k) * o + j / k]).collect();
            wshape = vec![o, k];
            t.dims = vec![o as i64, k as i64];
            let sum = format!("l{i}_sum");
            let mm = g.node.iter_mut().find(|n| n.output[0] == sum).unwrap();
            mm.op_type = "Gemm".into();
            mm.attribute.push(bnngen::qonnx::proto::AttributeProto {
                name: "transB".into(),
                r#type: 2,
                i: Some(1),
                ..Default::default()
            });
        }
        t.raw_data = vals
            .iter()
            .flat_map(|&v| (v * unit() as f32).to_le_bytes())
            .collect();
        let sshape: Vec<i64> = if scales.len() == 1 {
            vec![]
        } else {
            vec![o_n as i64, 1, 1, 1]
        };
        g.initializer.push(floats_tensor(
            &format!("l{i}_weight_scale"),
            &sshape,
            &scales,
        ));
        g.node.insert(
            0,
            qnode(
                "BipolarQuant",
                &[
                    &format!("l{i}_float_weights"),
                    &format!("l{i}_weight_scale"),
                ],
                &wname,
            ),
        );
        g.value_info.push(vinfo(&wname, &wshape));
        if classifier {
            let b = g
                .initializer
                .iter_mut()
                .find(|t| t.name == format!("l{i}_bias"))
                .unwrap();
            let vals: Vec<f32> = b
                .raw_data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            b.raw_data = vals
                .iter()
                .flat_map(|&v| (v * score_scale as f32).to_le_bytes())
                .collect();
            continue;
        }
        // Activation: BatchNormalization -> BipolarQuant (scale 1).
        let act = match &l.kind {
            LayerKind::Conv(c) => &c.activation,
            LayerKind::Dense(d) => &d.activation,
            _ => unreachable!(),
        };
        let (mut gamma, mut beta, mut mean, mut var) = (vec![], vec![], vec![], vec![]);
        for o in 0..o_n {
            let s = scales[if scales.len() == 1 { 0 } else { o }];
            let t = act.thresholds[o] as f64;
            let (tau, sign) = match act.directions[o] {
                Direction::Up => (t - 0.5, 1.0),
                Direction::Down => (t + 0.5, -1.0),
            };
            let (gm, vr, bt) = (sign * unit(), unit(), unit() - 1.25);
            let sigma = (vr + 1e-5f32 as f64).sqrt();
            gamma.push(gm);
            var.push(vr);
            beta.push(bt);
            mean.push(s * tau + bt * sigma / gm);
        }
        let names = ["gamma", "beta", "mean", "var"].map(|n| format!("l{i}_bn_{n}"));
        for (n, v) in names.iter().zip([&gamma, &beta, &mean, &var]) {
            g.initializer.push(floats_tensor(n, &[o_n as i64], v));
        }
        g.initializer
            .push(floats_tensor(&format!("l{i}_act_scale"), &[], &[1.0]));
        let (sum, out, bn) = (format!("l{i}_sum"), format!("l{i}_act"), format!("l{i}_bn"));
        let pos = g.node.iter().position(|n| n.output[0] == out).unwrap();
        g.node.remove(pos);
        if g.node[pos - 1].output[0] == format!("l{i}_signed") {
            g.node.remove(pos - 1);
        }
        let at = g.node.iter().position(|n| n.output[0] == sum).unwrap() + 1;
        let mut bnode = qnode(
            "BatchNormalization",
            &[&sum, &names[0], &names[1], &names[2], &names[3]],
            &bn,
        );
        bnode.domain = String::new();
        g.node.insert(at, bnode);
        g.node.insert(
            at + 1,
            qnode("BipolarQuant", &[&bn, &format!("l{i}_act_scale")], &out),
        );
        let shape = g.value_info.iter().find(|v| v.name == sum).unwrap().clone();
        g.value_info.push(ValueInfoProto { name: bn, ..shape });
    }
    (p, score_scale)
}

fn floats_tensor(name: &str, dims: &[i64], v: &[f64]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: 1,
        raw_data: v.iter().flat_map(|&x| (x as f32).to_le_bytes()).collect(),
        ..Default::default()
    }
}

fn qnode(op: &str, inputs: &[&str], out: &str) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        domain: bnngen::qonnx::QONNX_DOMAIN.into(),
        name: out.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![out.into()],
        ..Default::default()
    }
}

fn vinfo(name: &str, shape: &[usize]) -> ValueInfoProto {
    use bnngen::qonnx::proto::{DimValue, Dimension, TensorShapeProto, TensorTypeProto, TypeProto};
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: 1,
                shape: Some(TensorShapeProto {
                    dim: shape
                        .iter()
                        .map(|&d| Dimension {
                            value: Some(DimValue::Value(d as i64)),
                        })
                        .collect(),
                }),
            }),
        }),
    }
}

#[test]
fn brevitas_style_graphs_import_to_the_same_model_and_agree_with_qonnx() {
    let dir = tempfile::tempdir().unwrap();
    let mut pairs = Vec::new();
    let mut cases = Vec::new();
    let mut rewritten = 0;
    let mut gemms = 0;
    // The first 12 random models from seed 101 on whose classifier has no pruned tile (so
    // that every classifier gets the score scale 0.5).
    for seed in 1..=200u64 {
        if cases.len() == 12 {
            break;
        }
        let mut o = RandomOptions::sampled(seed + 100);
        o.front_end = Some(FrontEndChoice::ALL[seed as usize % 4]);
        let m = random_model(seed + 100, &o);
        let head = m.layers.last().unwrap().kind.weights().unwrap();
        if head.kept_tiles() < head.total_tiles() {
            continue;
        }
        let (p, scale) = brevitas_style(&m, seed);
        let nodes = &p.graph.as_ref().unwrap().node;
        gemms += nodes.iter().filter(|n| n.op_type == "Gemm").count();
        rewritten += p
            .graph
            .as_ref()
            .unwrap()
            .node
            .iter()
            .filter(|n| n.op_type == "BatchNormalization")
            .count();
        let onnx = dir.path().join(format!("b{seed}.onnx"));
        std::fs::write(&onnx, p.encode_to_vec()).unwrap();
        // The importer folds batch norm and scales back to bnngen's integers exactly.
        let back = bnngen::qonnx::import_file(&onnx, &Default::default())
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(
            back, m,
            "seed {seed}: the Brevitas-style graph imports to another model"
        );
        let (idx, images) = images_file(dir.path(), &format!("b{seed}.idx"), &m, 64, seed * 77);
        pairs.push((onnx, idx));
        cases.push((m, images));
        assert_eq!(scale, 0.5);
    }
    assert!(gemms >= 4, "only {gemms} Gemm layers");
    assert!(
        rewritten >= 12,
        "only {rewritten} activations were rewritten as batch norm"
    );
    let got = qonnx_scores(&pairs, None, 0.5);
    for (k, ((m, images), got)) in cases.iter().zip(&got).enumerate() {
        assert_same(&format!("Brevitas-style model {k}"), m, images, got);
    }
}

/// Rewrite the thermometer of bnngen's export of a model whose channels share their
/// thresholds as PyTorch writes `torch.cat([(x >= t).float() for t in ts], 1) * 2 - 1`:
/// GreaterOrEqual and Cast per plane, Concat, Mul 2, Sub 1. Concat puts the planes of C > 1
/// channels plane-major (plane k of channel c at k * C + c), so the first weighted layer's
/// input channels are permuted to match, and the graph computes the same function.
fn comparisons_style(m: &Model) -> ModelProto {
    let mut p = ModelProto::decode(bnngen::qonnx::export(m).unwrap().as_slice()).unwrap();
    let FrontEnd::Thermometer(t) = &m.front_end else {
        panic!("a thermometer model")
    };
    assert!(
        t.thresholds.iter().all(|l| *l == t.thresholds[0]),
        "shared thresholds"
    );
    let g = p.graph.as_mut().unwrap();
    let (h, w, ch) = (m.input.height, m.input.width, m.input.channels);
    if ch > 1 {
        plane_major_first_layer(m, g, ch, t.levels);
    }
    g.node
        .retain(|n| n.name != "front_end/planes" && n.name != "front_end");
    let mut nodes = Vec::new();
    let mut planes = Vec::new();
    for (k, &th) in t.thresholds[0].iter().enumerate() {
        let (thr, ge, fl) = (
            format!("fe_t{k}"),
            format!("fe_ge{k}"),
            format!("fe_plane{k}"),
        );
        g.initializer.push(floats_tensor(&thr, &[], &[th as f64]));
        let mut n = qnode("GreaterOrEqual", &["pixels", &thr], &ge);
        n.domain = String::new();
        nodes.push(n);
        let mut c = qnode("Cast", &[&ge], &fl);
        c.domain = String::new();
        c.attribute.push(bnngen::qonnx::proto::AttributeProto {
            name: "to".into(),
            r#type: 2,
            i: Some(1),
            ..Default::default()
        });
        nodes.push(c);
        let mut vi = vinfo(&ge, &[1, ch, h, w]);
        vi.r#type
            .as_mut()
            .unwrap()
            .tensor_type
            .as_mut()
            .unwrap()
            .elem_type = 9;
        g.value_info.push(vi);
        g.value_info.push(vinfo(&fl, &[1, ch, h, w]));
        planes.push(fl);
    }
    let refs: Vec<&str> = planes.iter().map(String::as_str).collect();
    let mut cat = qnode("Concat", &refs, "fe_cat");
    cat.attribute.push(bnngen::qonnx::proto::AttributeProto {
        name: "axis".into(),
        r#type: 2,
        i: Some(1),
        ..Default::default()
    });
    g.initializer.push(floats_tensor("fe_two_", &[], &[2.0]));
    g.initializer.push(floats_tensor("fe_one_", &[], &[1.0]));
    nodes.push(cat);
    nodes.push(qnode("Mul", &["fe_cat", "fe_two_"], "fe_doubled"));
    nodes.push(qnode("Sub", &["fe_doubled", "fe_one_"], "fe_out"));
    for n in nodes.iter_mut().skip(2 * planes.len()) {
        n.domain = String::new();
    }
    let levels = planes.len() * ch;
    g.value_info.push(vinfo("fe_cat", &[1, levels, h, w]));
    g.value_info.push(vinfo("fe_doubled", &[1, levels, h, w]));
    g.node.splice(0..0, nodes);
    p
}

/// Permute the input channels of the first weighted layer's weights from bnngen's order
/// (c * M + k) to the plane-major order of a Concat of comparisons (k * C + c).
fn plane_major_first_layer(m: &Model, g: &mut GraphProto, ch: usize, levels: usize) {
    let first = m
        .layers
        .iter()
        .position(|l| {
            matches!(
                l.kind,
                LayerKind::Conv(_) | LayerKind::Dense(_) | LayerKind::Classifier(_)
            )
        })
        .expect("a weighted layer");
    let name = format!("l{first}_weights");
    let t = g.initializer.iter_mut().find(|t| t.name == name).unwrap();
    let v: Vec<f32> = t
        .raw_data
        .chunks(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let n_in = ch * levels;
    let file = |c: usize| (c % levels) * ch + c / levels;
    let mut out = v.clone();
    if let LayerKind::Conv(_) = m.layers[first].kind {
        // [O, C * M, kh, kw]
        let (o_n, kk) = (t.dims[0] as usize, (t.dims[2] * t.dims[3]) as usize);
        for o in 0..o_n {
            for c in 0..n_in {
                let (src, dst) = ((o * n_in + c) * kk, (o * n_in + file(c)) * kk);
                out[dst..dst + kk].copy_from_slice(&v[src..src + kk]);
            }
        }
    } else {
        // [C * M * H * W, O], rows (c * H + y) * W + x of the layer's input.
        let (rows, o_n) = (t.dims[0] as usize, t.dims[1] as usize);
        let hw = rows / n_in;
        for c in 0..n_in {
            let (src, dst) = (c * hw * o_n, file(c) * hw * o_n);
            out[dst..dst + hw * o_n].copy_from_slice(&v[src..src + hw * o_n]);
        }
    }
    t.raw_data = out.iter().flat_map(|x| x.to_le_bytes()).collect();
}

#[test]
fn comparison_thermometers_import_to_the_same_model_and_agree_with_qonnx() {
    let dir = tempfile::tempdir().unwrap();
    let mut models = vec![model::load(Path::new("models/tiny.toml")).unwrap()];
    for seed in 1..=6u64 {
        let mut o = RandomOptions::sampled(seed + 300);
        o.channels = 1;
        o.front_end = Some(FrontEndChoice::ALL[seed as usize % 3]);
        models.push(random_model(seed + 300, &o));
    }
    // Three channels compared with shared thresholds: plane-major planes.
    for seed in 1..=4u64 {
        let mut o = RandomOptions::sampled(seed + 400);
        o.channels = 3;
        o.front_end = Some(if seed % 2 == 0 {
            FrontEndChoice::Uniform
        } else {
            FrontEndChoice::GltShared
        });
        models.push(random_model(seed + 400, &o));
    }
    let (mut pairs, mut sets) = (Vec::new(), Vec::new());
    for (k, m) in models.iter().enumerate() {
        let onnx = dir.path().join(format!("c{k}.onnx"));
        std::fs::write(&onnx, comparisons_style(m).encode_to_vec()).unwrap();
        let back = bnngen::qonnx::import_file(&onnx, &Default::default())
            .unwrap_or_else(|e| panic!("model {k}: {e}"));
        assert_eq!(
            &back, m,
            "model {k}: the comparison thermometer imports to another model"
        );
        let (idx, images) = images_file(dir.path(), &format!("c{k}.idx"), m, 64, k as u64 * 91);
        pairs.push((onnx, idx));
        sets.push(images);
    }
    let got = qonnx_scores(&pairs, None, 1.0);
    for (k, ((m, images), got)) in models.iter().zip(&sets).zip(&got).enumerate() {
        assert_same(&format!("comparison thermometer model {k}"), m, images, got);
    }
}
