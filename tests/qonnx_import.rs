//! `bnngen import` of QONNX graphs: the round trip `import(export(m)) == m` (same weights,
//! thresholds, directions, masks, front end, classes) on random models covering every layer
//! kind, and the refusals: each names the node (index, name, op_type) and why, exit status 2.

use std::path::Path;
use std::process::Command;

use prost::Message;

use bnngen::model::{self, LayerKind, Model};
use bnngen::qonnx::proto::{ModelProto, TensorProto};
use bnngen::qonnx::{export, import, ImportOptions};
use bnngen::random::{random_model, FrontEndChoice, RandomOptions};

fn round_trip(m: &Model) -> Model {
    let bytes = export(m).unwrap_or_else(|e| panic!("{}: export: {e}", m.meta.name));
    import(&bytes, "<exported>", &ImportOptions::default(), None)
        .unwrap_or_else(|e| panic!("{}: import: {e}", m.meta.name))
}

#[test]
fn import_of_export_is_the_same_model_for_random_models() {
    let mut kinds = std::collections::BTreeSet::new();
    let mut n = 0;
    for seed in 1..=48u64 {
        let mut o = RandomOptions::sampled(seed);
        o.front_end = Some(FrontEndChoice::ALL[seed as usize % 4]);
        o.corner_cases = seed % 5 == 0;
        let m = random_model(seed, &o);
        for l in &m.layers {
            kinds.insert(l.kind.tag());
            if let Some(w) = l.kind.weights() {
                if w.kept_tiles() < w.total_tiles() {
                    kinds.insert("pruned");
                }
            }
        }
        assert_eq!(round_trip(&m), m, "seed {seed}");
        n += 1;
    }
    assert!(n >= 30);
    for k in [
        "conv",
        "maxpool",
        "residual",
        "dense",
        "classifier",
        "pruned",
    ] {
        assert!(kinds.contains(k), "no random model has {k}");
    }
}

#[test]
fn import_of_export_is_the_same_model_for_shipped_models() {
    for name in [
        "tiny",
        "fashion-default",
        "fashion-up5k-pruned",
        "fashion-up5k",
        "fashion-sensor",
        "fashion-paper",
    ] {
        let m = model::load(Path::new(&format!("models/{name}.toml"))).unwrap();
        assert_eq!(round_trip(&m), m, "{name}");
    }
}

/// Export `models/tiny.toml`, change the graph with `edit`, and import it.
fn import_edited(edit: impl FnOnce(&mut ModelProto)) -> String {
    let m = model::load(Path::new("models/tiny.toml")).unwrap();
    let mut p = ModelProto::decode(export(&m).unwrap().as_slice()).unwrap();
    edit(&mut p);
    refusal(&p, "t.onnx")
}

/// The import's error for graph `p`, named `file` (it must be refused).
fn refusal(p: &ModelProto, file: &str) -> String {
    match import(&p.encode_to_vec(), file, &ImportOptions::default(), None) {
        Ok(_) => panic!("the edited graph was imported"),
        Err(e) => e.to_string(),
    }
}

/// The first initializer of `p` that `pick` accepts.
fn initializer(p: &mut ModelProto, pick: impl Fn(&TensorProto) -> bool) -> &mut TensorProto {
    let g = p.graph.as_mut().unwrap();
    g.initializer.iter_mut().find(|t| pick(t)).unwrap()
}

fn node_index(p: &ModelProto, name: &str) -> usize {
    p.graph
        .as_ref()
        .unwrap()
        .node
        .iter()
        .position(|n| n.name == name)
        .unwrap()
}

#[test]
fn refusals_name_the_node_and_why() {
    // Two thresholds per channel: a 3-level (2-bit) activation.
    let e = import_edited(|p| {
        let t = initializer(p, |t| t.name == "l0_thresholds");
        t.dims = vec![2, 2];
    });
    assert!(
        e.contains("(conv1/threshold, MultiThreshold)") && e.contains("3-level"),
        "{e}"
    );
    // A weight that is not +-1.
    let e = import_edited(|p| {
        let t = initializer(p, |t| t.name == "l0_weights");
        t.raw_data[0..4].copy_from_slice(&0.5f32.to_le_bytes());
    });
    assert!(
        e.contains("(conv1, Conv)") && e.contains("weight [0, 0, 0, 0] is 0.5"),
        "{e}"
    );
    // An operator outside the subset.
    let e = import_edited(|p| {
        let i = node_index(p, "pool1");
        p.graph.as_mut().unwrap().node[i].op_type = "AveragePool".into();
    });
    assert!(
        e.contains("(pool1, AveragePool)") && e.contains("not in the subset"),
        "{e}"
    );
    // A multi-bit output scale.
    let e = import_edited(|p| {
        let i = node_index(p, "front_end");
        let n = &mut p.graph.as_mut().unwrap().node[i];
        n.attribute
            .iter_mut()
            .find(|a| a.name == "out_scale")
            .unwrap()
            .f = Some(1.0);
    });
    assert!(
        e.contains("(front_end, MultiThreshold)") && e.contains("out_scale 2"),
        "{e}"
    );
    // A classifier bias that is not an integer.
    let e = import_edited(|p| {
        let t = initializer(p, |t| t.name.ends_with("_bias"));
        t.raw_data[0..4].copy_from_slice(&0.25f32.to_le_bytes());
    });
    assert!(
        e.contains("(head, MatMul)") && e.contains("is not an integer"),
        "{e}"
    );
}

#[test]
fn cli_import_exits_2_and_writes_nothing_on_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.onnx");
    std::fs::write(&bad, b"\x08\x07this is not protobuf\xff\xff").unwrap();
    let out = dir.path().join("out.toml");
    let o = Command::new(env!("CARGO_BIN_EXE_bnngen"))
        .arg("import")
        .arg(&bad)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.onnx: not an ONNX model"));
    assert!(!out.exists(), "a partial output was left");
    // Export refuses to overwrite its input.
    let toml = dir.path().join("m.toml");
    std::fs::copy("models/tiny.toml", &toml).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_bnngen"))
        .args(["export", "--qonnx", "-o"])
        .arg(&toml)
        .arg(&toml)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        std::fs::read(&toml).unwrap(),
        std::fs::read("models/tiny.toml").unwrap()
    );
}

#[test]
fn cli_round_trip_writes_the_same_model_file() {
    let dir = tempfile::tempdir().unwrap();
    let onnx = dir.path().join("tiny.onnx");
    let back = dir.path().join("tiny.toml");
    let run = |args: &[&std::ffi::OsStr]| {
        let o = Command::new(env!("CARGO_BIN_EXE_bnngen"))
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(&[
        "export".as_ref(),
        "models/tiny.toml".as_ref(),
        "--qonnx".as_ref(),
        "-o".as_ref(),
        onnx.as_os_str(),
    ]);
    run(&[
        "import".as_ref(),
        onnx.as_os_str(),
        "-o".as_ref(),
        back.as_os_str(),
    ]);
    let a = model::load(Path::new("models/tiny.toml")).unwrap();
    let b = model::load(&back).unwrap();
    assert_eq!(a, b);
    assert!(matches!(
        b.layers.last().unwrap().kind,
        LayerKind::Classifier(_)
    ));
}

/// Truncated and corrupted files are refused with an error, never a panic or a huge
/// allocation.
#[test]
fn damaged_files_are_errors_not_panics() {
    let mut o = RandomOptions::sampled(7);
    o.front_end = Some(FrontEndChoice::Binary);
    for m in [
        model::load(Path::new("models/tiny.toml")).unwrap(),
        random_model(7, &o),
    ] {
        let bytes = export(&m).unwrap();
        let opts = ImportOptions::default();
        for cut in (0..bytes.len()).step_by(7) {
            let _ = import(&bytes[..cut], "cut.onnx", &opts, None);
        }
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..3000 {
            let mut b = bytes.clone();
            for _ in 0..3 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let at = (x % b.len() as u64) as usize;
                b[at] = (x >> 32) as u8;
            }
            let _ = import(&b, "flipped.onnx", &opts, None);
        }
    }
}

/// A threshold beyond 2^24 (where float32 stops holding every integer) is refused by the
/// export, naming the layer and the field, rather than written approximately.
#[test]
fn export_refuses_what_float32_cannot_hold_exactly() {
    let text = std::fs::read_to_string("models/tiny.toml").unwrap();
    let text = text.replacen(
        "thresholds = [0, 1, -1, 2]",
        "thresholds = [0, 16777217, -1, 2]",
        1,
    );
    let m = model::parse(&text, "big.toml").unwrap();
    let e = export(&m).unwrap_err().to_string();
    assert!(
        e.contains("layers[0] (conv1): thresholds[1] = 16777217"),
        "{e}"
    );
}

/// Brevitas' own export of a network with 2-bit hidden activations
/// (tests/fixtures/qonnx/brevitas-mlp-a2.onnx, scripts/qonnx-fixtures.py): exit 2 naming the
/// first IntQuant node and its bit width, and no output file.
#[test]
fn brevitas_two_bit_activations_are_refused_naming_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a2.toml");
    let o = Command::new(env!("CARGO_BIN_EXE_bnngen"))
        .args(["import", "tests/fixtures/qonnx/brevitas-mlp-a2.onnx", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("brevitas-mlp-a2.onnx: node 8 (node__symbolic_2, Quant): quantizes the activation to 2 bits (4 levels); bnngen's activations are 1 bit"),
        "{err}"
    );
    assert!(!out.exists(), "a partial output was left");
}

/// Brevitas' 1-bit input quantizer (`x / 255 * 2 - 1` -> BipolarQuant in
/// tests/fixtures/qonnx/brevitas-mlp-w1a1.onnx) is a 1-plane thermometer at pixel 128; the
/// same chain with other constants is refused when it decreases with the pixel, or when
/// float32 and exact arithmetic disagree on a pixel code.
#[test]
fn brevitas_input_quantizer_is_read_exactly_or_refused() {
    let file = "tests/fixtures/qonnx/brevitas-mlp-w1a1.onnx";
    let bytes = std::fs::read(file).unwrap();
    let m = import(&bytes, file, &ImportOptions::default(), None).unwrap();
    let model::FrontEnd::Thermometer(t) = &m.front_end else {
        panic!("front end {:?}", m.front_end);
    };
    assert_eq!((t.levels, &t.thresholds), (1, &vec![vec![128u32]]));
    // Set the constants of the Div, Mul and Sub steps (nodes 0, 1, 2) and import.
    let with_steps = |div: f32, mul: f32, sub: f32| {
        let mut p = ModelProto::decode(bytes.as_slice()).unwrap();
        let nodes = p.graph.as_ref().unwrap().node.clone();
        for (k, (op, v)) in [("Div", div), ("Mul", mul), ("Sub", sub)]
            .into_iter()
            .enumerate()
        {
            assert_eq!(nodes[k].op_type, op);
            let t = initializer(&mut p, |t| t.name == nodes[k].input[1]);
            t.raw_data = v.to_le_bytes().to_vec();
        }
        refusal(&p, "q.onnx")
    };
    // 1 - 2v/255 >= 0: +1 up to code 127, a decreasing bit.
    let e = with_steps(255.0, -2.0, -1.0);
    assert!(
        e.contains("node 3 (node__symbolic, BipolarQuant)")
            && e.contains("gives +1 for pixel code 0 but -1 for code 128"),
        "{e}"
    );
    // 1 / 3 * 7 - 2.3333335: 0 in float32 (+1), below 0 exactly (-1).
    let e = with_steps(3.0, 7.0, 2.333_333_5);
    assert!(
        e.contains("node 3 (node__symbolic, BipolarQuant)")
            && e.contains("quantizes pixel code 1 to +1 in float32 but to -1 in exact"),
        "{e}"
    );
}

/// FINN's TensorNorm after the classifier, as Brevitas exports it
/// (tests/fixtures/qonnx/brevitas-mlp-tnorm.onnx: Sub mean -> Div std -> Mul weight -> Add
/// bias on the scores) is a positive scale and an offset shared by every class: the import
/// keeps the integer scores and states the map, `w / std` and `bias - mean * w / std`. A
/// negative (or infinite) scale is refused naming its node.
#[test]
fn brevitas_tensor_norm_is_a_score_map_or_refused() {
    let file = "tests/fixtures/qonnx/brevitas-mlp-tnorm.onnx";
    let bytes = std::fs::read(file).unwrap();
    let proto = ModelProto::decode(bytes.as_slice()).unwrap();
    let scalar = |p: &ModelProto, name: &str| -> f64 {
        let g = p.graph.as_ref().unwrap();
        let t = g.initializer.iter().find(|t| t.name == name).unwrap();
        f64::from(f32::from_le_bytes(t.raw_data[..4].try_into().unwrap()))
    };
    let (mean, std) = (scalar(&proto, "norm.running_mean"), scalar(&proto, "pow_1"));
    let (weight, bias) = (scalar(&proto, "norm.weight"), scalar(&proto, "norm.bias"));
    let (m, map) =
        bnngen::qonnx::import_file_scored(Path::new(file), &ImportOptions::default()).unwrap();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
    assert!(close(map.scale, weight / std), "{map:?}");
    assert!(close(map.offset, bias - mean * weight / std), "{map:?}");
    let model::LayerKind::Classifier(c) = &m.layers.last().unwrap().kind else {
        panic!("the last layer is not the classifier");
    };
    assert!(c.bias.iter().all(|&b| b == 0), "{:?}", c.bias);

    // `bnngen import` states the map: in its JSON report and in its text summary.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tnorm.toml");
    let cli = |json: bool| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_bnngen"));
        c.args(["import", file, "-o"]).arg(&out);
        if json {
            c.arg("--json");
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let report: serde_json::Value = serde_json::from_str(&cli(true)).unwrap();
    assert_eq!(report["score_map"]["scale"].as_f64(), Some(map.scale));
    assert_eq!(report["score_map"]["offset"].as_f64(), Some(map.offset));
    let text = cli(false);
    let line = format!("file score = {} x bnngen score + {}", map.scale, map.offset);
    assert!(text.contains(&line), "{text}");

    let refused = |name: &str, value: f32| {
        let mut p = proto.clone();
        initializer(&mut p, |t| t.name == name).raw_data = value.to_le_bytes().to_vec();
        refusal(&p, "n.onnx")
    };
    // A negative weight reverses the classes' order: read exactly by flipping every
    // classifier weight, which negates each score, with a positive map scale.
    let mut p = proto.clone();
    initializer(&mut p, |t| t.name == "norm.weight").raw_data = (-1.5f32).to_le_bytes().to_vec();
    let w_neg = -1.5f64;
    let neg_file = dir.path().join("neg.onnx");
    std::fs::write(&neg_file, p.encode_to_vec()).unwrap();
    let (neg, neg_map) =
        bnngen::qonnx::import_file_scored(&neg_file, &ImportOptions::default()).unwrap();
    assert!(close(neg_map.scale, -w_neg / std), "{neg_map:?}");
    assert!(
        close(neg_map.offset, bias - mean * w_neg / std),
        "{neg_map:?}"
    );
    let (model::LayerKind::Classifier(a), model::LayerKind::Classifier(b)) = (
        &m.layers.last().unwrap().kind,
        &neg.layers.last().unwrap().kind,
    ) else {
        panic!("the last layer is not the classifier");
    };
    assert!(a
        .weights
        .bits
        .iter()
        .zip(b.weights.bits.iter())
        .all(|(x, y)| x != y));
    let images = bnngen::input::load_images(Path::new(
        "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz",
    ))
    .unwrap();
    let (pos_e, neg_e) = (
        bnngen::reference::Engine::new(&m),
        bnngen::reference::Engine::new(&neg),
    );
    for img in &images[..50] {
        let (x, y) = (pos_e.infer(img), neg_e.infer(img));
        let negated: Vec<i64> = x.scores.iter().map(|s| -s).collect();
        assert_eq!(y.scores, negated);
        // The file's scores, from either model through its own map, are the same numbers.
        for (sx, sy) in x.scores.iter().zip(&y.scores) {
            let file = w_neg / std * (*sx as f64) + (bias - mean * w_neg / std);
            assert!(close(neg_map.scale * (*sy as f64) + neg_map.offset, file));
        }
    }
    let e = refused("pow_1", 0.0);
    assert!(
        e.contains("node 16 (node_div_1, Div): scales the classifier's scores by inf"),
        "{e}"
    );
}
