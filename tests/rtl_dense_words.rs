//! A dense layer handing its output on in words (`plan::words`, `dense_word_bits` in the
//! hardware file): the words are cut where the plan says, the stages stay bit-exact against
//! the reference model under random gaps and back-pressure with either hand-off, every word
//! on the debug taps equals the reference's channels, the cycles per frame are the plan's,
//! the estimate counts the narrower registers, and a plan file keeps the choice.

use bnngen::model::Model;
use bnngen::plan::{set_folding, Fold, Handoff, HwConfig, Plan};
use bnngen::random::{random_image, random_model, RandomOptions};
use bnngen::rtl::{generate, render, GenOptions};
use bnngen::verify::{cosimulate_opts, Stress};
use std::path::Path;
use std::process::Command;

fn fashion_up5k(hw: HwConfig) -> (Model, Plan) {
    let m = bnngen::model::load(Path::new("models/fashion-up5k.toml")).unwrap();
    let file = bnngen::plan::load_hw(Path::new("models/fashion-up5k.hw.toml")).unwrap();
    let p = set_folding(
        &m,
        &HwConfig {
            handoff: hw.handoff,
            dense_word_bits: hw.dense_word_bits,
            ..file
        },
    )
    .unwrap();
    (m, p)
}

fn words(p: &Plan) -> Vec<(&str, usize)> {
    (p.layers.iter())
        .map(|l| (l.name.as_str(), l.out_words))
        .collect()
}

fn hw(handoff: Handoff, bits: Option<usize>) -> HwConfig {
    HwConfig {
        handoff,
        dense_word_bits: bits,
        ..HwConfig::default()
    }
}

/// The Verilog of the stage named `module_part`.
fn stage_text(m: &Model, p: &Plan, module_part: &str) -> String {
    let d = generate(m, p, GenOptions::default()).unwrap();
    render(&d)
        .into_iter()
        .find(|(f, _)| f.contains(module_part))
        .map(|(_, t)| t)
        .unwrap_or_else(|| panic!("no file for {module_part}"))
}

/// Co-simulate `images` with the debug taps under random gaps and back-pressure, then
/// plainly, built with `opts`, and hold both to the reference model (every tapped word too)
/// and the second to the plan's cycles per frame.
fn bit_exact_at_the_plans_cycles_with(
    m: &Model,
    p: &Plan,
    images: &[bnngen::input::Image],
    opts: GenOptions,
    what: &str,
) {
    let debug = GenOptions {
        debug: true,
        ..opts
    };
    let rep = cosimulate_opts(m, p, images, Stress::random(5), debug, None).unwrap();
    assert!(rep.passed(), "{what} under stalls: {}", rep.failure());
    assert!(
        rep.first_tap_mismatch.is_none(),
        "{what}: {:?}",
        rep.first_tap_mismatch
    );
    let rep = cosimulate_opts(m, p, images, Stress::none(), opts, None).unwrap();
    assert!(rep.passed(), "{what}: {}", rep.failure());
    assert_eq!(
        rep.measured_cycles_per_frame,
        Some(p.cycles_per_frame),
        "{what}: measured cycles per frame against the plan"
    );
}

fn bit_exact_at_the_plans_cycles(m: &Model, p: &Plan, images: &[bnngen::input::Image], what: &str) {
    bit_exact_at_the_plans_cycles_with(m, p, images, GenOptions::default(), what);
}

/// fashion-up5k's fc1 (128 channels) hands on 8 words of 16; the head reads them as a row of
/// 8 pixels. Bit-exact with either hand-off; the held one spends a cycle per word.
#[test]
fn fashion_up5k_hands_fc1_on_in_16_bit_words_bit_exact_with_either_hand_off() {
    for handoff in [Handoff::Skid, Handoff::Hold] {
        let (m, whole) = fashion_up5k(hw(handoff, None));
        let (_, p) = fashion_up5k(hw(handoff, Some(16)));
        assert_eq!(
            words(&p).iter().filter(|(_, n)| *n > 1).collect::<Vec<_>>(),
            [&("fc1", 8)],
            "{handoff:?}"
        );
        let fc1 = m.layer_index("fc1").unwrap();
        let extra = 7 * handoff.cycles_per_pixel();
        assert_eq!(
            p.layers[fc1].cycles_per_frame,
            whole.layers[fc1].cycles_per_frame + extra
        );
        let text = stage_text(&m, &p, "fc1");
        assert!(text.contains("output wire [15:0] m_data"), "{text}");
        let head = stage_text(&m, &p, "head");
        assert!(head.contains("input  wire [15:0] s_data"), "{head}");
        let images: Vec<_> = (0..6).map(|i| random_image(70 + i, &m.input)).collect();
        bit_exact_at_the_plans_cycles(&m, &p, &images, &format!("{handoff:?}"));
    }
}

/// The same with the ECP5's block-RAM cells (`DP16KD` line buffers and tables, as `synth
/// --target ecp5-*` builds it).
#[test]
fn words_are_bit_exact_with_ecp5_cells() {
    let (m, p) = fashion_up5k(hw(Handoff::Skid, Some(16)));
    let fc1 = m.layer_index("fc1").unwrap();
    assert_eq!(p.layers[fc1].out_words, 8);
    let images: Vec<_> = (0..4).map(|i| random_image(90 + i, &m.input)).collect();
    let opts = bnngen::synth::Target::Ecp5_25k.gen_options();
    assert!(opts.ecp5_cells);
    bit_exact_at_the_plans_cycles_with(&m, &p, &images, opts, "ecp5 cells");
}

/// The estimate counts the narrower output, skid and holding registers: fewer flip-flops
/// than with one word, and the same block RAM bits in the buffers.
#[test]
fn words_take_fewer_flip_flops_in_the_estimate() {
    let (m, whole) = fashion_up5k(hw(Handoff::Skid, None));
    let (_, p) = fashion_up5k(hw(Handoff::Skid, Some(16)));
    let ffs = |p: &Plan| bnngen::plan::cost::estimate(&m, p).total.ice40.ffs;
    assert!(
        ffs(&p) + 128 < ffs(&whole),
        "{} against {}",
        ffs(&p),
        ffs(&whole)
    );
    assert_eq!(p.buffer_bits, whole.buffer_bits);
}

/// Random models whose classifier follows a dense layer of a multiple of 8 channels, at
/// several PE foldings (a word of one PE group, or of several): bit-exact, and the taps hold
/// every word.
#[test]
fn random_dense_layers_hand_on_words_bit_exact() {
    let opts = RandomOptions {
        layers: 3,
        max_channels: 40,
        ..RandomOptions::default()
    };
    let mut built = Vec::new();
    for seed in 0..5000u64 {
        let m = random_model(seed, &opts);
        let last = m.layers.len() - 2;
        let l = &m.layers[last];
        if l.kind.tag() != "dense" || l.output.channels < 16 || !l.output.channels.is_multiple_of(8)
        {
            continue;
        }
        let w = l.kind.weights().unwrap();
        let pe = [1, 2, 4, 8][built.len() % 4];
        if !w.out_per_block().is_multiple_of(pe) {
            continue;
        }
        let mut layers = std::collections::BTreeMap::new();
        layers.insert(l.name.clone(), Fold::lanes(pe, 1));
        let h = HwConfig {
            layers,
            ..hw(Handoff::Skid, Some(8))
        };
        let Ok(p) = set_folding(&m, &h) else { continue };
        if p.layers[last].out_words <= 1 {
            continue;
        }
        let images: Vec<_> = (0..3)
            .map(|i| random_image(seed * 10 + i, &m.input))
            .collect();
        bit_exact_at_the_plans_cycles(&m, &p, &images, &format!("seed {seed}, pe {pe}"));
        built.push((seed, pe, l.output.channels));
        if built.len() == 3 {
            break;
        }
    }
    assert_eq!(
        built.len(),
        3,
        "three random models hand on words: {built:?}"
    );
}

fn bnngen(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bnngen"))
        .args(args)
        .output()
        .unwrap()
}

/// `plan -o` writes the word count; a count the folding cannot give is refused with the
/// file, layer and field named (exit 2), and so is a word width that is no power of two.
#[test]
fn out_words_round_trip_through_a_plan_file() {
    let dir = tempfile::tempdir().unwrap();
    let hw_path = dir.path().join("words.hw.toml");
    std::fs::write(
        &hw_path,
        "clock_mhz = 48.0\nfps = 1000.0\ndense_word_bits = 16\n",
    )
    .unwrap();
    let path = dir.path().join("up5k.plan.toml");
    let out = bnngen(&[
        "plan",
        "models/fashion-up5k.toml",
        "--hw",
        hw_path.to_str().unwrap(),
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches("out_words = 8").count(), 1, "{text}");
    let table = bnngen(&[
        "plan",
        "models/fashion-up5k.toml",
        "--hw",
        hw_path.to_str().unwrap(),
    ]);
    let table = String::from_utf8_lossy(&table.stdout);
    let fc1 = table.lines().find(|l| l.starts_with("fc1 ")).unwrap();
    assert!(fc1.ends_with("(output in 8 words)"), "{table}");
    let m = bnngen::model::load(Path::new("models/fashion-up5k.toml")).unwrap();
    let p = bnngen::plan::load_plan(&m, &path).unwrap();
    let (_, want) = fashion_up5k(hw(Handoff::Skid, Some(16)));
    assert_eq!(words(&p), words(&want));
    assert_eq!(p.cycles_per_frame, want.cycles_per_frame);
    std::fs::write(&path, text.replacen("out_words = 8", "out_words = 3", 1)).unwrap();
    let gen = dir.path().join("rtl");
    let out = bnngen(&[
        "generate",
        "models/fashion-up5k.toml",
        "--plan",
        path.to_str().unwrap(),
        "-o",
        gen.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for part in ["up5k.plan.toml", "out_words", "fc1", "3 output words"] {
        assert!(err.contains(part), "`{part}` not in: {err}");
    }
    assert!(!gen.exists(), "generate wrote {}", gen.display());
    std::fs::write(&hw_path, "dense_word_bits = 12\n").unwrap();
    let out = bnngen(&[
        "plan",
        "models/fashion-up5k.toml",
        "--hw",
        hw_path.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("dense_word_bits") && err.contains("power of two"),
        "{err}"
    );
}
