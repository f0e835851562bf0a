//! The AXI4-Stream wrapper (`<model>_axis`) under the ecosystem's own verification IP:
//! cocotb with cocotbext-axi's AxiStreamSource and AxiStreamSink, through Icarus Verilog, with
//! random TVALID gaps and random TREADY back-pressure. Every result beat must equal the
//! reference model's word, and a monitor checks the stream rules on every cycle (TVALID held
//! until taken, TDATA and TLAST stable meanwhile; no ready or valid in reset).
//! `sim/cocotb/test_axis.py` is the test; this file writes its frames and runs it. Needs the
//! project venv with cocotb and cocotbext-axi (scripts/setup.sh); fails, never skips, without.

use bnngen::model::Model;
use bnngen::plan::{set_folding, HwConfig};
use bnngen::random::{random_image, random_model, FrontEndChoice, RandomOptions};
use bnngen::rtl::axis::byte_lanes;
use std::path::Path;
use std::process::Command;

/// The result word the core puts on m_axis_tdata: class, then each score (two's complement,
/// `sw` bits) at `cw + k * sw`.
fn result_word(p: &bnngen::reference::Prediction, cw: u32, sw: u32) -> u128 {
    let mut w = p.class as u128;
    for (k, &s) in p.scores.iter().enumerate() {
        let bits = (s as i128 as u128) & ((1u128 << sw) - 1);
        w |= bits << (cw + k as u32 * sw);
    }
    w
}

/// A change to the generated wrapper's text: the line to find and what replaces it.
type Mutation = (&'static str, &'static str);

fn run(tag: &str, model: &Model, hw: &HwConfig, frames: usize, seed: u64) {
    let (ok, text) = cocotb(tag, model, hw, frames, seed, None);
    assert!(ok, "{tag}: cocotb failed:\n{text}");
    assert!(text.contains("cocotb: 1 tests, 0 failed"), "{tag}:\n{text}");
    eprintln!("{tag}: bit-exact through cocotbext-axi");
}

/// Run the cocotb test on the model's wrapper, optionally mutated; whether it passed, and its
/// output.
fn cocotb(
    tag: &str,
    model: &Model,
    hw: &HwConfig,
    frames: usize,
    seed: u64,
    mutation: Option<Mutation>,
) -> (bool, String) {
    let plan = set_folding(model, hw).unwrap();
    let design = bnngen::rtl::generate(model, &plan, Default::default()).unwrap();
    let out_w = design.class_width + design.score_width * design.classes as u32;
    assert!(out_w <= 128, "{tag}: result word too wide for this test");
    let dir = tempfile::tempdir().unwrap();
    let rtl = dir.path().join("rtl");
    bnngen::rtl::write_dir(&design, &rtl).unwrap();
    if let Some((from, to)) = mutation {
        let path = rtl.join(format!("{}_axis.v", design.name));
        let v = std::fs::read_to_string(&path).unwrap();
        assert!(v.contains(from), "{tag}: the wrapper has no line {from:?}");
        std::fs::write(&path, v.replacen(from, to, 1)).unwrap();
    }
    let engine = bnngen::reference::Engine::new(model);
    let words = (design.input_width as usize).div_ceil(32);
    let frames: Vec<serde_json::Value> = (0..frames as u64)
        .map(|i| {
            let img = random_image(seed * 100 + i, &model.input);
            let mut pixels = Vec::new();
            for y in 0..model.input.height {
                for x in 0..model.input.width {
                    let w = bnngen::verify::pixel_words(model, plan.front_end, &img, y, x, words);
                    let v = w.iter().rev().fold(0u128, |a, &v| (a << 32) | v as u128);
                    pixels.push(serde_json::json!(v.to_string()));
                }
            }
            let p = engine.infer(&img);
            let word = result_word(&p, design.class_width, design.score_width);
            serde_json::json!({ "pixels": pixels, "result": word.to_string() })
        })
        .collect();
    let spec = serde_json::json!({
        "in_bytes": byte_lanes(design.input_width) / 8,
        "out_bytes": byte_lanes(out_w) / 8,
        "frames": frames,
    });
    let json = dir.path().join("frames.json");
    std::fs::write(&json, spec.to_string()).unwrap();
    let python = bnngen::tools::locate::venv_dir().join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup.sh (it installs cocotb and cocotbext-axi)",
        python.display()
    );
    let runner = Path::new(env!("CARGO_MANIFEST_DIR")).join("sim/cocotb/run_axis.py");
    let out = Command::new(&python)
        .arg(&runner)
        .arg(&rtl)
        .arg(format!("{}_axis", design.name))
        .arg(&json)
        .arg(seed.to_string())
        .arg(dir.path().join("build"))
        .output()
        .expect("run python");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn tiny_through_cocotbext_axi() {
    let m = bnngen::model::load(Path::new("models/tiny.toml")).unwrap();
    run("tiny", &m, &HwConfig::default(), 4, 1);
}

/// Random models whose pixel and result words are not whole bytes (pad lanes on both sides),
/// with several input channels.
#[test]
fn random_models_through_cocotbext_axi() {
    for (seed, fe) in [
        (11u64, FrontEndChoice::GltPerChannel),
        (12, FrontEndChoice::Binary),
    ] {
        let opts = RandomOptions {
            channels: 2,
            bits: 5,
            front_end: Some(fe),
            ..Default::default()
        };
        let m = random_model(seed, &opts);
        run(
            &format!("random seed {seed}"),
            &m,
            &HwConfig::default(),
            3,
            seed,
        );
    }
}

/// The smallest shipped Fashion-MNIST model, with its shipped hw file, through the same
/// verification IP (random images; the result words are the reference model's).
#[test]
fn fashion_up5k_pruned_through_cocotbext_axi() {
    let m = bnngen::model::load(Path::new("models/fashion-up5k-pruned.toml")).unwrap();
    let hw = bnngen::plan::load_hw(Path::new("models/fashion-up5k-pruned.hw.toml")).unwrap();
    run("fashion-up5k-pruned", &m, &hw, 2, 3);
}

/// The checks can fail: a wrapper whose result data changes while the sink holds TREADY low
/// (and is right again when it takes the beat, so only the stream-rule monitor can see it),
/// and one that raises TREADY during reset, are both caught, each with its rule named.
#[test]
fn the_monitor_catches_a_wrapper_that_breaks_the_stream_rules() {
    let m = bnngen::model::load(Path::new("models/tiny.toml")).unwrap();
    let hw = HwConfig::default();
    for (tag, mutation, expect) in [
        (
            "TDATA changes during a stall",
            (
                "assign m_axis_tdata = {7'h00, core_m_tdata};",
                "assign m_axis_tdata = {7'h00, core_m_tdata ^ {16'h0000, ~m_axis_tready}};",
            ),
            "m_axis: TDATA/TLAST changed while TVALID && !TREADY",
        ),
        (
            "TREADY high in reset",
            (
                "assign s_axis_tready = (core_s_tready & up);",
                "assign s_axis_tready = 1'b1;",
            ),
            "s_axis_tready high during reset",
        ),
    ] {
        let (ok, text) = cocotb(tag, &m, &hw, 4, 1, Some(mutation));
        assert!(!ok, "{tag}: the mutated wrapper passed:\n{text}");
        assert!(text.contains(expect), "{tag}: no {expect:?} in:\n{text}");
    }
}
