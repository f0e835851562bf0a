//! Performance claims of the plan, measured in simulation: cycles per frame within 10% of the
//! plan's ideal, and pruning half of the tiles halves both cycles and weight bits.

use bnngen::model::random::random_image;
use bnngen::model::{Bits, Model};
use bnngen::plan::{set_folding, Fold, HwConfig, Plan};
use bnngen::verify::{cosimulate, Stress};

mod common;
use common::pattern_hex as hex;

fn measure(model: &Model, plan: &Plan, frames: usize) -> f64 {
    let images: Vec<_> = (0..frames)
        .map(|i| random_image(i as u64 + 7, &model.input))
        .collect();
    let rep = cosimulate(model, plan, &images, Stress::none(), false, None).unwrap();
    assert!(rep.passed(), "{:?}", rep.mismatches.first());
    rep.measured_cycles_per_frame.unwrap()
}

fn tiny() -> Model {
    bnngen::model::load(std::path::Path::new("models/tiny.toml")).unwrap()
}

#[test]
fn measured_cycles_match_plan() {
    let m = tiny();
    for hw in [
        HwConfig::default(),
        HwConfig {
            fps: Some(1e8 / 2000.0),
            ..HwConfig::default()
        },
    ] {
        let plan = set_folding(&m, &hw).unwrap();
        let got = measure(&m, &plan, 8);
        let want = plan.cycles_per_frame as f64;
        eprintln!(
            "plan {want} measured {got} {:?}",
            plan.layers
                .iter()
                .map(|l| (l.pe, l.simd, l.cycles_per_frame))
                .collect::<Vec<_>>()
        );
        assert!(
            (got - want).abs() <= 0.1 * want,
            "measured {got} cycles/frame, plan {want}"
        );
    }
}

/// A one-conv model with 2 x 2 tiles and the given mask; weights from a fixed pattern.
fn blocky(mask: [&str; 2]) -> Model {
    let kept = mask.iter().map(|r| r.matches('1').count()).sum::<usize>();
    let conv_bits = kept * 4 * 9 * 2;
    let text = format!(
        r#"format_version = 1
[meta]
name = "blocky"
[input]
height = 8
width = 8
channels = 1
bits = 4
[front_end]
kind = "glt"
thresholds = [2, 5, 9, 13]
[[layers]]
kind = "conv"
name = "conv"
out_channels = 8
kernel = [3, 3]
padding = 1
pad_mode = "plus_one"
in_blocks = 2
out_blocks = 2
mask = ["{}", "{}"]
thresholds = [0, 1, -1, 2, 0, -2, 1, 0]
directions = [1, 1, -1, 1, 1, -1, 1, 1]
weights = "{}"
[[layers]]
kind = "classifier"
name = "head"
out_features = 2
bias = [0, 1]
weights = "{}"
"#,
        mask[0],
        mask[1],
        hex(conv_bits, 3),
        hex(8 * 8 * 8 * 2, 5)
    );
    let _ = Bits::default();
    bnngen::model::parse(&text, "blocky.toml").unwrap()
}

#[test]
fn pruning_half_the_tiles_halves_cycles_and_weight_bits() {
    let mut hw = HwConfig::default();
    hw.layers.insert("conv".into(), Fold { pe: 1, simd: 1 });
    let full = blocky(["11", "11"]);
    let half = blocky(["10", "01"]);
    let (pf, ph) = (
        set_folding(&full, &hw).unwrap(),
        set_folding(&half, &hw).unwrap(),
    );
    assert_eq!(pf.layers[0].weight_bits, 2 * ph.layers[0].weight_bits);
    // MAC cycles halve; each of the 64 output pixels adds one hand-off cycle either way.
    let handoff = 64 * bnngen::plan::HANDOFF as u64;
    assert_eq!(
        pf.layers[0].cycles_per_frame - handoff,
        2 * (ph.layers[0].cycles_per_frame - handoff)
    );
    let (cf, ch) = (measure(&full, &pf, 4), measure(&half, &ph, 4));
    eprintln!(
        "full {cf} half {ch} plan {} {}",
        pf.cycles_per_frame, ph.cycles_per_frame
    );
    assert!(
        (ch / cf - 0.5).abs() < 0.02,
        "measured {cf} -> {ch} cycles/frame"
    );
    // Weight memory in the generated RTL: the ROM image holds kept tiles only.
    let rom_bits = |m: &Model, p: &Plan| -> usize {
        let d = bnngen::rtl::generate(m, p, Default::default()).unwrap();
        d.files
            .iter()
            .filter(|(n, _)| n.contains("_l0_") && n.ends_with("wrom.mem"))
            .map(|(_, t)| t.lines().count())
            .sum()
    };
    assert_eq!(rom_bits(&full, &pf), 2 * rom_bits(&half, &ph));
    assert_eq!(
        rom_bits(&half, &ph) as u64,
        ph.layers[0].weight_bits,
        "pe x simd = 1: one bit per ROM word"
    );
}
