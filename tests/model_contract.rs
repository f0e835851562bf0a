//! docs/model-format.md is the contract: each point a reader could not tell from it before
//! (issue 14, section 4) is stated there and pinned here, on `models/tiny.toml` with one
//! thing changed.

use bnngen::model::{self, limits, Model, ModelErrors};

fn tiny() -> String {
    std::fs::read_to_string("models/tiny.toml").unwrap()
}

fn edit(old: &str, new: &str) -> String {
    let text = tiny();
    assert!(text.contains(old), "tiny.toml lacks {old:?}");
    text.replacen(old, new, 1)
}

fn parse(text: &str) -> Result<Model, ModelErrors> {
    model::parse(text, "m.toml")
}

fn rejected(text: &str, needles: &[&str]) {
    let e = parse(text).expect_err("should be rejected").to_string();
    for n in needles {
        assert!(e.contains(n), "{e:?} lacks {n:?}");
    }
}

const CONV1: &str = "kernel = [3, 3]\npadding = 1\npad_mode = \"minus_one\"";

#[test]
fn padding_is_below_the_larger_kernel_side() {
    // conv1: kernel [1, 3] with padding 2 (tests/fixtures/models/pad_beyond_kernel.toml).
    let text = std::fs::read_to_string("tests/fixtures/models/pad_beyond_kernel.toml").unwrap();
    let m = parse(&text).expect("padding 2 < max(1, 3) is valid");
    // Input rows -2 and -1 are wholly padding: (9 + 4 - 1) / 2 + 1 = 7 output rows.
    assert_eq!(m.layers[0].output.height, 7);
    rejected(
        &text.replacen("padding = 2", "padding = 3", 1),
        &["layers[0] (conv1).padding", "smaller than the kernel"],
    );
}

#[test]
fn pad_mode_is_required_even_with_padding_0() {
    rejected(
        &edit(CONV1, "kernel = [3, 3]"),
        &["layers[0] (conv1)", "pad_mode"],
    );
}

#[test]
fn maxpool_stride_has_no_default_and_its_kernel_is_one_integer() {
    rejected(
        &edit("kernel = 2\nstride = 2", "kernel = 2"),
        &["layers[3] (pool1)", "stride"],
    );
    rejected(
        &edit("kernel = 2\nstride = 2", "kernel = [2, 2]\nstride = 2"),
        &["layers[3] (pool1)", "kernel"],
    );
}

#[test]
fn upper_case_hex_means_the_same_bits() {
    let lower = parse(&tiny()).unwrap();
    let upper = parse(&edit("weights = \"1cb3f2\"", "weights = \"1CB3F2\"")).unwrap();
    assert_eq!(lower, upper);
}

#[test]
fn glt_takes_exactly_one_threshold_list() {
    rejected(
        &edit(
            "thresholds = [3, 7, 12]",
            "thresholds = [3, 7, 12]\nchannel_thresholds = [[3, 7, 12]]",
        ),
        &["front_end", "exactly one of"],
    );
    rejected(
        &edit("thresholds = [3, 7, 12]\n", ""),
        &["front_end", "exactly one of"],
    );
}

#[test]
fn thresholds_directions_and_bias_have_no_default() {
    rejected(
        &edit("thresholds = [0, 1, -1, 2]\n", ""),
        &["layers[0] (conv1)", "thresholds"],
    );
    rejected(
        &edit("directions = [1, 1, -1, 1]\n", ""),
        &["layers[0] (conv1)", "directions"],
    );
    rejected(
        &edit("bias = [0, 1, -1]\n", ""),
        &["layers[5] (head)", "bias"],
    );
}

#[test]
fn thresholds_of_i64_min_are_outside_the_limit_like_1e14() {
    for t in ["-9223372036854775808", "100000000000000", "-1073741825"] {
        rejected(
            &edit(
                "thresholds = [0, 1, -1, 2]",
                &format!("thresholds = [{t}, 1, -1, 2]"),
            ),
            &["layers[0] (conv1).thresholds[0]", "outside"],
        );
    }
    parse(&edit(
        "thresholds = [0, 1, -1, 2]",
        "thresholds = [-1073741824, 1, -1, 2]",
    ))
    .expect("-2^30 is inside the limit");
}

#[test]
fn the_limits_table_states_every_limit() {
    let doc = std::fs::read_to_string("docs/model-format.md").unwrap();
    let section = &doc[doc.find("## Limits").expect("a Limits section")..];
    for (what, text) in [
        (
            "MAX_FILE_BYTES",
            format!("{} MiB", limits::MAX_FILE_BYTES >> 20),
        ),
        ("MAX_SIDE", limits::MAX_SIDE.to_string()),
        ("MAX_INPUT_CHANNELS", limits::MAX_INPUT_CHANNELS.to_string()),
        ("MAX_CHANNELS", "65,536".to_string()),
        ("MAX_TENSOR_BITS", "2^24 = 16,777,216".to_string()),
        ("MAX_TILES", "2^20 = 1,048,576".to_string()),
        ("MAX_LAYER_WEIGHTS", "2^32".to_string()),
        ("MAX_LAYERS", limits::MAX_LAYERS.to_string()),
    ] {
        assert!(section.contains(&text), "{what}: the doc lacks {text:?}");
    }
    assert_eq!(limits::MAX_CHANNELS, 65_536);
    assert_eq!(limits::MAX_TENSOR_BITS, 16_777_216);
    assert_eq!(limits::MAX_TILES, 1_048_576);
    assert_eq!(limits::MAX_LAYER_WEIGHTS, 1 << 32);
}

/// The batch-norm folding rule as the exporter applies it (docs/model-format.md, "Deriving
/// them from batch norm").
#[cfg(feature = "train")]
mod fold_rule {
    use bnngen::train::export::{fold_threshold, TIE_TOLERANCE};

    /// tau = mu - beta * sigma / gamma with var + eps = 1 (sigma = 1): tau = mu - beta / gamma.
    fn fold(gamma: f64, beta: f64, mu: f64) -> (i64, bool) {
        fold_threshold(gamma, beta, mu, 1.0, 0.0, 100)
    }

    #[test]
    fn a_tau_within_the_tolerance_of_an_integer_is_that_integer() {
        // Near 0 the tolerance is absolute: tau = 1e-12 is 0, so a = 0 fires (t = 0, not 1).
        assert_eq!(fold(1.0, 0.0, 1e-12), (0, true));
        assert_eq!(fold(-1.0, 0.0, -1e-12), (0, false));
        // Away from 0 it is relative: 3 + 2e-9 is within 1e-9 * 3 of 3.
        assert_eq!(fold(1.0, 0.0, 3.0 + 2e-9), (3, true));
        // Outside the tolerance the rule is plain ceil / floor.
        assert_eq!(fold(1.0, 0.0, 3.0 + 1e-6), (4, true));
        assert_eq!(fold(-1.0, 0.0, 3.0 - 1e-6), (2, false));
        assert_eq!(fold(1.0, 0.0, 2.5), (3, true));
        assert_eq!(fold(-1.0, 0.0, 2.5), (2, false));
        assert_eq!(TIE_TOLERANCE, 1e-9);
    }

    #[test]
    fn gamma_0_is_a_constant_beyond_every_sum() {
        // n_max = 100: constant 1 is d = 1, t = -101; constant 0 is d = 1, t = 101.
        assert_eq!(fold(0.0, 0.5, 7.0), (-101, true));
        assert_eq!(fold(0.0, 0.0, 7.0), (-101, true));
        assert_eq!(fold(0.0, -0.5, 7.0), (101, true));
        // Thresholds past the reachable range are clamped to it; no output changes.
        assert_eq!(fold(1.0, -1e6, 0.0), (101, true));
        assert_eq!(fold(-1.0, -1e6, 0.0), (-101, false));
    }
}
