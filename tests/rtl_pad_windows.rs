//! Windows wholly in the padding (issue 14): `check` accepts padding up to one less than the
//! larger kernel side, so with kernel [1, 3] or [3, 1], padding 2 and stride 2 whole output
//! rows or columns read no pixel. `generate` once panicked on them ("line buffer too small");
//! now the RTL computes them (in `zero` mode N = 0 and a = 0, so the output is `0 >= t`) and
//! matches the reference bit for bit, with the line buffer's read-during-write poison on.

use std::path::Path;

use bnngen::plan::{set_folding, HwConfig};
use bnngen::random::random_image;
use bnngen::reference;
use bnngen::rtl::GenOptions;
use bnngen::verify::{cosimulate_opts, Stress};

const MODEL: &str = "tests/fixtures/models/pad_beyond_kernel.toml";

#[test]
fn padding_only_windows_are_bit_exact_in_rtl() {
    let model = bnngen::model::load(Path::new(MODEL)).unwrap();
    // The fixture must keep exercising the case: conv1's first output row and conv2's
    // first output column read only padding.
    let c1 = &model.layers[0];
    let c2 = &model.layers[1];
    assert_eq!((c1.output.height, c1.output.width), (7, 5), "conv1 output");
    assert_eq!((c2.output.height, c2.output.width), (5, 5), "conv2 output");
    let plan = set_folding(&model, &HwConfig::default()).unwrap();
    let images: Vec<_> = (0..12)
        .map(|i| random_image(1400 + i, &model.input))
        .collect();
    let opts = GenOptions {
        rw_poison: true,
        debug: true,
        ..Default::default()
    };
    let rep = cosimulate_opts(&model, &plan, &images, Stress::random(14), opts, None).unwrap();
    assert!(rep.passed(), "{}", rep.failure());
    assert_eq!(rep.results.len(), images.len());
}

#[test]
fn a_padding_only_window_in_zero_mode_has_a_zero() {
    // conv1 (zero mode, kernel [1, 3], padding 2, stride 2): output row 0 reads input row -2,
    // wholly padding, so every channel's bit is `0 >= t` (direction 1) or `0 <= t` (-1):
    // thresholds [0, -2, 2] with directions [1, -1, 1] give 1, 0, 0 at every column.
    let model = bnngen::model::load(Path::new(MODEL)).unwrap();
    let image = random_image(7, &model.input);
    let trace = reference::trace(&model, &image);
    let conv1 = &trace.layers[0];
    for x in 0..model.layers[0].output.width {
        let w = conv1.shape.width;
        let bits: Vec<bool> = (0..3).map(|c| conv1.bits.get(x * 3 + c)).collect();
        assert_eq!(w, 5);
        assert_eq!(bits, [true, false, false], "column {x}");
    }
}
