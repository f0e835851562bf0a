//! Weights in the UP5K's SPRAM (`GenOptions::spram`): the accelerator loaded over its load bus
//! co-simulates bit-exact, the board core loads the image from the behavioural SPI flash and
//! answers over the UART like the reference, and a second model of the same topology and plan
//! runs on the first model's unchanged RTL with only its flash image swapped.
//! Needs Verilator, g++ and make (scripts/setup.sh).

mod common;

use bnngen::input::Image;
use bnngen::model::{LayerKind, Model};
use bnngen::plan::{set_folding, HwConfig, Plan, WeightStore};
use bnngen::random::random_image;
use bnngen::rtl::{self, bank::RamFamily, Design, GenOptions};
use bnngen::synth::{board_sim, gate_sim, Target};
use bnngen::verify::{cosimulate_opts, Stress};
use std::path::Path;

const OPTS: GenOptions = GenOptions {
    debug: false,
    ram: RamFamily::Ice40,
    rw_poison: false,
    ecp5_cells: false,
    spram: true,
};

fn tiny() -> (Model, Plan) {
    let m = bnngen::model::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models/tiny.toml"))
        .unwrap();
    let p = set_folding(&m, &HwConfig::default()).unwrap();
    (m, p)
}

/// `model` with every weight bit of the layers in SPRAM flipped where a xorshift stream
/// says so (about half of them); everything else, thresholds and biases included, as it was.
fn reweighted(model: &Model, design: &Design) -> Model {
    let mut m = model.clone();
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    for st in &design.spram {
        let w = match &mut m.layers[st.layer].kind {
            LayerKind::Conv(c) => &mut c.weights,
            LayerKind::Dense(d) => &mut d.weights,
            LayerKind::Classifier(c) => &mut c.weights,
            _ => unreachable!("only MAC layers have weight ROMs"),
        };
        for i in 0..w.bits.len() {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            if s & 1 == 1 {
                let v = w.bits.get(i);
                w.bits.set(i, !v);
            }
        }
    }
    m
}

fn images(model: &Model, n: u64) -> Vec<Image> {
    (0..n)
        .map(|i| random_image(700 + i, &model.input))
        .collect()
}

/// Bit-exact on the default folding (narrow words, packed several to a row) and on a fast
/// one (words wider than 16 bits, cut into slices).
#[test]
fn weights_in_spram_cosimulate_bit_exact_after_the_load() {
    let (model, slow) = tiny();
    let hw = HwConfig {
        fps: Some(2_000_000.0),
        ..HwConfig::default()
    };
    let fast = set_folding(&model, &hw).unwrap();
    let (mut packed, mut sliced) = (false, false);
    for (k, plan) in [slow, fast].iter().enumerate() {
        let design = rtl::generate(&model, plan, OPTS).unwrap();
        assert!(!design.spram.is_empty(), "tiny puts a weight ROM in SPRAM");
        packed |= design.spram.iter().any(|s| s.pack() > 1);
        sliced |= design.spram.iter().any(|s| s.slices() > 1);
        let image = design.load_image();
        assert!(image.iter().any(|&w| w != 0));
        // The stores are declared for SPRAM and their words never printed as initial contents.
        let text: String = rtl::render(&design).into_iter().map(|(_, t)| t).collect();
        assert!(text.contains("(* ram_style = \"huge\" *)"));
        assert!(!text.contains("wrom_s0[0] ="));
        let imgs = images(&model, 8);
        let r = cosimulate_opts(
            &model,
            plan,
            &imgs,
            Stress::random(11 + k as u64),
            OPTS,
            None,
        )
        .unwrap();
        assert!(r.passed(), "plan {k}: {:?}", r.mismatches);
    }
    assert!(
        packed && sliced,
        "both a packed and a sliced store were exercised"
    );
}

/// The stores read in the same two stages as a block-RAM ROM: measured cycles per frame (no
/// gaps, no back-pressure) equal the plan's, packed and sliced stores alike.
#[test]
fn weights_in_spram_keep_the_plans_cycle_count() {
    let (model, slow) = tiny();
    let hw = HwConfig {
        fps: Some(2_000_000.0),
        ..HwConfig::default()
    };
    let fast = set_folding(&model, &hw).unwrap();
    for plan in [slow, fast] {
        bit_exact_at_the_plans_cycles(&model, &plan);
    }
}

/// Co-simulate steady frames (no gaps, no back-pressure): bit-exact, and the measured cycles
/// per frame equal the plan's.
fn bit_exact_at_the_plans_cycles(model: &Model, plan: &Plan) {
    let imgs = images(model, bnngen::verify::STEADY_FRAMES as u64);
    let r = cosimulate_opts(model, plan, &imgs, Stress::none(), OPTS, None).unwrap();
    assert!(r.passed(), "{}", r.failure());
    assert_eq!(r.measured_cycles_per_frame, Some(plan.cycles_per_frame));
}

/// Gate level: Yosys maps the stores to SB_SPRAM256KA (`synth_ice40 -spram`), and the netlist,
/// simulated with Yosys's own SB_SPRAM256KA model and loaded over the load bus, is bit-exact.
/// The plan's estimate with `weights = "spram"` counts the RAM4K and SPRAM Yosys maps.
#[test]
fn weights_in_spram_netlist_is_bit_exact_with_the_yosys_cell_model() {
    let (model, plan) = tiny();
    let design = gate_level_matches_the_estimate(&model, &plan, "gate-spram", 4, 13);
    // The plan alone generates the same design as the option.
    let spram_plan = Plan {
        weights: WeightStore::Spram,
        ..plan.clone()
    };
    let from_plan = rtl::generate(
        &model,
        &spram_plan,
        GenOptions {
            spram: false,
            ..OPTS
        },
    );
    assert_eq!(rtl::render(&from_plan.unwrap()), rtl::render(&design));
}

/// Simulate `plan`'s netlist with weights in SPRAM on `n` images at gate level (in the
/// scratch folder `name`); assert it is bit-exact, maps one SB_SPRAM256KA per block of every
/// store, and uses the RAM4K and SPRAM the estimate counts. Returns the design.
fn gate_level_matches_the_estimate(
    model: &Model,
    plan: &Plan,
    name: &str,
    n: u64,
    seed: u64,
) -> Design {
    let design = rtl::generate(model, plan, OPTS).unwrap();
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&work);
    let imgs = images(model, n);
    let g = gate_sim::simulate_design_netlist(
        model,
        plan,
        &design,
        Target::Ice40Up5k,
        &imgs,
        Stress::random(seed),
        &work,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let blocks: usize = design.spram.iter().map(|s| s.blocks()).sum();
    assert_eq!(
        g.resources.spram, blocks as u64,
        "one SB_SPRAM256KA per slice and bank"
    );
    let spram_plan = Plan {
        weights: WeightStore::Spram,
        ..plan.clone()
    };
    let est = bnngen::plan::cost::estimate(model, &spram_plan).total.ice40;
    assert_eq!(
        (est.bram, est.spram),
        (g.resources.bram, g.resources.spram),
        "estimated (RAM4K, SPRAM) against Yosys"
    );
    assert!(g.report.passed(), "{}", g.report.failure());
    design
}

#[test]
fn a_second_model_runs_on_the_first_models_rtl_with_its_own_image() {
    let (m1, plan) = tiny();
    let d1 = rtl::generate(&m1, &plan, OPTS).unwrap();
    let m2 = reweighted(&m1, &d1);
    let d2 = rtl::generate(&m2, &plan, OPTS).unwrap();
    // Same RTL, byte for byte: only the SPRAM image differs.
    assert_eq!(rtl::render(&d1), rtl::render(&d2));
    assert_eq!(d1.spram, d2.spram);
    assert_ne!(d1.load_image(), d2.load_image());
    let imgs = images(&m1, 6);
    let differs = imgs.iter().any(|i| {
        bnngen::reference::infer(&m1, i).scores != bnngen::reference::infer(&m2, i).scores
    });
    assert!(
        differs,
        "the second model must answer differently somewhere"
    );
    let r = cosimulate_opts(&m2, &plan, &imgs, Stress::random(12), OPTS, None).unwrap();
    assert!(r.passed(), "{:?}", r.mismatches);

    // The board core of model 1's RTL, with each model's image in the flash.
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("board-spram");
    let _ = std::fs::remove_dir_all(&work);
    let rtl_dir = work.join("rtl");
    rtl::write_dir(&d1, &rtl_dir).unwrap();
    let pixels = m1.input.height * m1.input.width;
    let rtl = gate_sim::rtl_design(&d1, pixels, &rtl_dir);
    let frames: Vec<Vec<Vec<bool>>> = imgs.iter().map(|i| common::frame_words(&m1, i)).collect();
    for (k, (model, image)) in [(&m1, d1.load_image()), (&m2, d2.load_image())]
        .into_iter()
        .enumerate()
    {
        let got =
            board_sim::simulate_with_flash(&rtl, &frames, &image, &work.join(format!("sim{k}")))
                .unwrap_or_else(|e| panic!("{e}"));
        for (img, r) in imgs.iter().zip(&got) {
            let want = bnngen::reference::infer(model, img);
            assert_eq!(
                decode(&d1, r),
                (want.class, want.scores.clone()),
                "model {}",
                k + 1
            );
        }
        assert_eq!(got.len(), imgs.len());
    }
}

/// Class and signed scores of a result word.
fn decode(d: &Design, r: &[bool]) -> (usize, Vec<i64>) {
    let (cw, sw) = (d.class_width as usize, d.score_width as usize);
    let field = |lo: usize, n: usize| -> u64 { (0..n).map(|i| (r[lo + i] as u64) << i).sum() };
    let scores = (0..d.classes)
        .map(|k| {
            let v = field(cw + k * sw, sw) as i64;
            if v >> (sw - 1) & 1 == 1 {
                v - (1 << sw)
            } else {
                v
            }
        })
        .collect();
    (field(0, cw) as usize, scores)
}

/// 8x8x1 input, a 36-channel conv and a classifier of 2,304 x 128 weight bits on 16 lanes:
/// its ROM is 18,432 words of 16 bits, deeper than one SPRAM (16,384 rows), so it is cascaded
/// over two (the second holds 2,048 rows). A classifier's scores are its sums, so one wrong
/// weight word read anywhere (at the bank boundary, say) changes scores.
fn deep() -> (Model, Plan) {
    let list = |n: usize, f: fn(usize) -> i64| {
        (0..n)
            .map(|i| f(i).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let text = format!(
        r#"format_version = 1
[meta]
name = "deep_spram"
[input]
height = 8
width = 8
channels = 1
bits = 4
[front_end]
kind = "glt"
thresholds = [3, 7, 12]
[[layers]]
kind = "conv"
name = "conv1"
out_channels = 36
kernel = [3, 3]
padding = 1
pad_mode = "zero"
thresholds = [{}]
directions = [{}]
weights = "{}"
[[layers]]
kind = "classifier"
name = "head"
out_features = 128
bias = [{}]
weights = "{}"
"#,
        list(36, |i| (i % 5) as i64 - 2),
        list(36, |i| if i % 3 == 0 { -1 } else { 1 }),
        common::pattern_hex(3 * 9 * 36, 21),
        list(128, |i| (i % 7) as i64 - 3),
        common::pattern_hex(2304 * 128, 22),
    );
    let m = bnngen::model::parse(&text, "deep_spram.toml").unwrap();
    let mut hw = HwConfig::default();
    hw.layers
        .insert("head".into(), bnngen::plan::Fold::lanes(16, 1));
    let p = set_folding(&m, &hw).unwrap();
    (m, p)
}

/// A store deeper than one SPRAM is cascaded: two SPRAMs for the head, bit-exact after the
/// load (the image crosses the bank boundary) under random stalls, at the plan's cycles.
#[test]
fn a_store_deeper_than_one_spram_is_cascaded_and_bit_exact() {
    let (model, plan) = deep();
    let design = rtl::generate(&model, &plan, OPTS).unwrap();
    let head = model.layer_index("head").unwrap();
    let s = (design.spram.iter().find(|s| s.layer == head)).expect("the head in SPRAM");
    assert_eq!((s.rows(), s.banks(), s.blocks()), (18_432, 2, 2));
    let text: String = rtl::render(&design).into_iter().map(|(_, t)| t).collect();
    assert!(text.contains("wrom_s0b1"), "a second bank is declared");
    assert!(common::depends_on_input(&model, 3));
    let imgs = images(&model, 6);
    let r = cosimulate_opts(&model, &plan, &imgs, Stress::random(14), OPTS, None).unwrap();
    assert!(r.passed(), "{:?}", r.mismatches);
    bit_exact_at_the_plans_cycles(&model, &plan);
}

/// Gate level: the cascade maps to one SB_SPRAM256KA per bank, and the netlist, with Yosys's
/// cell model, is bit-exact; the plan's estimate counts the same blocks.
#[test]
fn a_cascaded_store_is_bit_exact_at_gate_level() {
    let (model, plan) = deep();
    let design = gate_level_matches_the_estimate(&model, &plan, "gate-spram-deep", 3, 15);
    assert_eq!(design.spram.iter().map(|s| s.banks()).max(), Some(2));
}

/// fashion-default on the UP5K as models/fashion-default-up5k.hw.toml builds it (the folding
/// that places and routes there, docs/benchmarks.md): weights in SPRAM at 30 frames/s and 24
/// MHz, fc1 on one lane cascaded over three SPRAMs and conv3 in the fourth, leaving 22 RAM4K
/// of the 30; fc1 hands its 512 outputs on in 32 words of 16, and every stage holds its word.
/// The board core loads the weight image from the behavioural SPI flash and answers 100
/// Fashion-MNIST test images over the UART, every class and score the reference model's.
#[test]
fn fashion_default_in_spram_answers_100_test_images_on_the_board_core() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = bnngen::model::load(&root.join("models/fashion-default.toml")).unwrap();
    let hw = bnngen::plan::load_hw(&root.join("models/fashion-default-up5k.hw.toml")).unwrap();
    assert_eq!(hw.weights, Some(WeightStore::Spram));
    let plan = set_folding(&model, &hw).unwrap();
    assert!(plan.fps >= 30.0, "{} frames/s", plan.fps);
    let design = rtl::generate(&model, &plan, OPTS).unwrap();
    let fc1 = model.layer_index("fc1").unwrap();
    assert_eq!(plan.layers[fc1].out_words, 32);
    let store = (design.spram.iter().find(|s| s.layer == fc1)).expect("fc1 in SPRAM");
    assert_eq!((store.banks(), store.blocks()), (3, 3));
    let est = bnngen::plan::cost::estimate(&model, &plan).total.ice40;
    assert_eq!((est.bram, est.spram), (22, 4));

    let data = Path::new("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
    assert!(
        data.exists(),
        "Fashion-MNIST is missing at {}: run scripts/setup.sh",
        data.display()
    );
    let mut imgs = bnngen::input::load_images(data).unwrap();
    imgs.truncate(100);
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("board-spram-fashion-default");
    let _ = std::fs::remove_dir_all(&work);
    let rtl_dir = work.join("rtl");
    rtl::write_dir(&design, &rtl_dir).unwrap();
    let rtl = bnngen::synth::RtlDesign {
        frame_cycles: plan.cycles_per_frame,
        ..gate_sim::rtl_design(&design, 28 * 28, &rtl_dir)
    };
    let frames: Vec<Vec<Vec<bool>>> = imgs
        .iter()
        .map(|i| common::frame_words(&model, i))
        .collect();
    let got =
        board_sim::simulate_with_flash(&rtl, &frames, &design.load_image(), &work.join("sim"))
            .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.len(), imgs.len());
    let engine = bnngen::reference::Engine::new(&model);
    for (k, (img, r)) in imgs.iter().zip(&got).enumerate() {
        let want = engine.infer(img);
        assert_eq!(decode(&design, r), (want.class, want.scores), "image {k}");
    }
}

/// What the shipped UP5K file builds places and routes on the UP5K and meets its 24 MHz from
/// the PLL, at the 30 frames/s it asks (docs/benchmarks.md, "Weights in SPRAM on the UP5K").
#[test]
#[ignore = "runs Yosys and nextpnr for several minutes: cargo test --test rtl_spram -- --ignored"]
fn fashion_default_places_and_meets_its_clock_on_the_up5k() {
    let out = tempfile::tempdir().unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_bnngen"))
        .args([
            "synth",
            "models/fashion-default.toml",
            "--hw",
            "models/fashion-default-up5k.hw.toml",
            "--target",
            "ice40-up5k",
            "--pll",
            "--json",
            "-o",
            out.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "bnngen synth failed (needs yosys, nextpnr-ice40, icepack: scripts/setup.sh): {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let lc = &r["utilization"]["ICESTORM_LC"];
    assert!(
        lc["used"].as_u64().unwrap() <= lc["available"].as_u64().unwrap(),
        "{lc}"
    );
    assert_eq!(
        r["utilization"]["ICESTORM_SPRAM"]["used"], 4,
        "{}",
        r["utilization"]
    );
    assert_eq!(r["timing"]["target_mhz"], 24.0, "{}", r["timing"]);
    assert_eq!(r["timing"]["pass"], true, "{}", r["timing"]);
    let cycles = r["performance"]["cycles_per_frame"].as_u64().unwrap();
    assert!(24e6 / cycles as f64 >= 30.0, "{cycles} cycles per frame");
}
