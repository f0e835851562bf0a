//! The packed reference model against a deliberately naive one written straight from the
//! arithmetic in the model docs (one tap at a time over `Vec<bool>` and `i64`, weights decoded
//! here from the model file's hex and masks, not through `BlockWeights`, so a weight-layout bug
//! shared by the reference model and the RTL cannot pass), on random models and images; plus
//! hand-computed cases that pin the arithmetic itself, not just the agreement of two
//! implementations.

use bnngen::input::Image;
use bnngen::model::{parse, LayerKind, Model, PadMode, Shape};
use bnngen::random::{random_image, random_model, FrontEndChoice, RandomOptions};
use bnngen::reference::{infer, trace, Engine, Trace};
use proptest::prelude::*;

mod common;

/// A tensor as the naive model holds it: (y, x, c), channel fastest.
struct T {
    shape: Shape,
    bits: Vec<bool>,
}

impl T {
    fn at(&self, y: usize, x: usize, c: usize) -> bool {
        self.bits[(y * self.shape.width + x) * self.shape.channels + c]
    }
}

/// A weighted layer's weights as the model file writes them (docs/model-format.md, "Weight
/// stream order"): kept tiles in mask order, out-block major; in a tile, its output channels
/// in order; per output channel a row (ky, kx, ci) with ci fastest. Hex digits carry four
/// bits each, the first in the most significant position.
struct FileWeights {
    kernel_h: usize,
    kernel_w: usize,
    in_channels: usize,
    out_channels: usize,
    /// mask[ob][ib]: tile kept.
    mask: Vec<Vec<bool>>,
    bits: Vec<bool>,
}

impl FileWeights {
    /// Weights of layer `i` of the model file `text`, which must be a weighted layer.
    fn read(text: &str, m: &Model, i: usize) -> FileWeights {
        let doc: toml::Value = toml::from_str(text).expect("model file is TOML");
        let t = &doc["layers"][i];
        let int = |k: &str, d: i64| t.get(k).and_then(|v| v.as_integer()).unwrap_or(d) as usize;
        let l = &m.layers[i];
        let (kernel_h, kernel_w) = match t.get("kernel").and_then(|k| k.as_array()) {
            Some(k) => (
                k[0].as_integer().unwrap() as usize,
                k[1].as_integer().unwrap() as usize,
            ),
            None => (l.input.height, l.input.width),
        };
        let out_channels = t
            .get("out_channels")
            .or_else(|| t.get("out_features"))
            .and_then(|v| v.as_integer())
            .unwrap() as usize;
        let (ib, ob) = (int("in_blocks", 1), int("out_blocks", 1));
        let mask = match t.get("mask").and_then(|v| v.as_array()) {
            Some(rows) => rows
                .iter()
                .map(|r| r.as_str().unwrap().chars().map(|c| c == '1').collect())
                .collect(),
            None => vec![vec![true; ib]; ob],
        };
        let hex = t["weights"].as_str().unwrap();
        let bits = hex
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '_')
            .flat_map(|c| {
                let d = c.to_digit(16).expect("hex digit");
                (0..4).rev().map(move |k| (d >> k) & 1 == 1)
            })
            .collect();
        FileWeights {
            kernel_h,
            kernel_w,
            in_channels: l.input.channels,
            out_channels,
            mask,
            bits,
        }
    }

    /// Weight bit of output `o` at tap (ky, kx) and input channel `ci`; None when pruned.
    fn weight(&self, o: usize, ky: usize, kx: usize, ci: usize) -> Option<bool> {
        let (obs, ibs) = (self.mask.len(), self.mask[0].len());
        let (opb, ipb) = (self.out_channels / obs, self.in_channels / ibs);
        let (ob, ib) = (o / opb, ci / ipb);
        if !self.mask[ob][ib] {
            return None;
        }
        let tile = self
            .mask
            .iter()
            .flatten()
            .take(ob * ibs + ib)
            .filter(|k| **k)
            .count();
        let row = self.kernel_h * self.kernel_w * ipb;
        let at = (tile * opb + o % opb) * row + (ky * self.kernel_w + kx) * ipb + ci % ipb;
        Some(self.bits[at])
    }
}

/// Signed sums of a conv-shaped layer, one tap at a time.
fn naive_sums(
    w: &FileWeights,
    input: &T,
    output: Shape,
    stride: usize,
    pad: usize,
    mode: PadMode,
) -> Vec<i64> {
    let mut sums = Vec::new();
    for oy in 0..output.height {
        for ox in 0..output.width {
            for o in 0..output.channels {
                let (mut p, mut n) = (0i64, 0i64);
                for ky in 0..w.kernel_h {
                    for kx in 0..w.kernel_w {
                        for ci in 0..w.in_channels {
                            let Some(wbit) = w.weight(o, ky, kx, ci) else {
                                continue;
                            };
                            let iy = (oy * stride + ky) as i64 - pad as i64;
                            let ix = (ox * stride + kx) as i64 - pad as i64;
                            let inside = iy >= 0
                                && ix >= 0
                                && (iy as usize) < input.shape.height
                                && (ix as usize) < input.shape.width;
                            let bit = if inside {
                                input.at(iy as usize, ix as usize, ci)
                            } else {
                                match mode {
                                    PadMode::MinusOne => false,
                                    PadMode::PlusOne => true,
                                    PadMode::Zero => continue,
                                }
                            };
                            n += 1;
                            if bit == wbit {
                                p += 1;
                            }
                        }
                    }
                }
                sums.push(2 * p - n);
            }
        }
    }
    sums
}

/// Front-end planes, every non-classifier layer output, and the classifier scores.
/// `text` is the model file the weights are decoded from.
fn naive(m: &Model, text: &str, img: &Image) -> (T, Vec<T>, Vec<i64>) {
    let fe_shape = m.front_end_shape();
    let planes = m.front_end.planes_per_channel(&m.input);
    let mut fe = vec![false; fe_shape.len()];
    for y in 0..m.input.height {
        for x in 0..m.input.width {
            for c in 0..m.input.channels {
                for k in 0..planes {
                    let v = u32::from(img.pixel(y, x, c));
                    fe[(y * fe_shape.width + x) * fe_shape.channels + c * planes + k] =
                        m.front_end.plane(&m.input, c, k, v);
                }
            }
        }
    }
    let front = T {
        shape: fe_shape,
        bits: fe,
    };
    let mut outs: Vec<T> = Vec::new();
    for (i, l) in m.layers.iter().enumerate() {
        let cur = outs.last().unwrap_or(&front);
        let bits = match &l.kind {
            LayerKind::Conv(c) => {
                let w = FileWeights::read(text, m, i);
                let a = naive_sums(&w, cur, l.output, c.stride, c.padding, c.pad_mode);
                a.iter()
                    .enumerate()
                    .map(|(i, &v)| c.activation.fire(i % l.output.channels, v))
                    .collect()
            }
            LayerKind::Dense(d) => {
                let w = FileWeights::read(text, m, i);
                let a = naive_sums(&w, cur, l.output, 1, 0, PadMode::MinusOne);
                a.iter()
                    .enumerate()
                    .map(|(o, &v)| d.activation.fire(o, v))
                    .collect()
            }
            LayerKind::Classifier(c) => {
                let w = FileWeights::read(text, m, i);
                let a = naive_sums(&w, cur, l.output, 1, 0, PadMode::MinusOne);
                let scores = a.iter().zip(&c.bias).map(|(a, b)| a + b).collect();
                return (front, outs, scores);
            }
            LayerKind::MaxPool(p) => {
                let mut v = Vec::new();
                for oy in 0..l.output.height {
                    for ox in 0..l.output.width {
                        for c in 0..l.output.channels {
                            let mut any = false;
                            for ky in 0..p.kernel {
                                for kx in 0..p.kernel {
                                    any |= cur.at(oy * p.stride + ky, ox * p.stride + kx, c);
                                }
                            }
                            v.push(any);
                        }
                    }
                }
                v
            }
            LayerKind::Residual(r) => {
                let other = &outs[r.with];
                cur.bits
                    .iter()
                    .zip(&other.bits)
                    .map(|(&a, &b)| r.op.apply(a, b))
                    .collect()
            }
        };
        outs.push(T {
            shape: l.output,
            bits,
        });
    }
    panic!("model without a classifier");
}

fn naive_class(scores: &[i64]) -> usize {
    let max = *scores.iter().max().unwrap();
    scores.iter().position(|&s| s == max).unwrap()
}

/// Compare every tensor; the message names the first layer that differs.
fn check_agreement(m: &Model, img: &Image) -> Result<(), String> {
    check_agreement_with_file(m, &bnngen::model::to_toml(m), img)
}

/// `check_agreement`, the naive model decoding the weights from the file `text`.
fn check_agreement_with_file(m: &Model, text: &str, img: &Image) -> Result<(), String> {
    let t: Trace = trace(m, img);
    let (front, layers, scores) = naive(m, text, img);
    let bits = |tensor: &bnngen::reference::BitTensor| tensor.bits.iter().collect::<Vec<bool>>();
    if t.front_end.shape != front.shape || bits(&t.front_end) != front.bits {
        return Err("front end differs".into());
    }
    if t.layers.len() != layers.len() {
        return Err(format!(
            "{} traced layers, expected {}",
            t.layers.len(),
            layers.len()
        ));
    }
    for (i, (got, want)) in t.layers.iter().zip(&layers).enumerate() {
        if got.shape != want.shape || bits(got) != want.bits {
            return Err(format!("layer {i} ({}) differs", m.layers[i].name));
        }
    }
    if t.prediction.scores != scores {
        return Err(format!(
            "scores {:?}, naive {:?}",
            t.prediction.scores, scores
        ));
    }
    if t.prediction.class != naive_class(&scores) {
        return Err(format!(
            "class {}, naive {}",
            t.prediction.class,
            naive_class(&scores)
        ));
    }
    if infer(m, img) != t.prediction {
        return Err("infer and trace disagree".into());
    }
    Ok(())
}

/// Sampled options; odd seeds also draw the corner cases (fully pruned layers, thresholds
/// far outside the sums' range, residuals of a layer with itself).
fn options(seed: u64) -> RandomOptions {
    let mut o = RandomOptions::sampled(seed);
    o.front_end = Some(FrontEndChoice::ALL[(seed % 4) as usize]);
    o.corner_cases = seed % 2 == 1;
    o
}

/// A fixed sweep over the same seeds whose coverage `random` tests assert (every
/// front end, pad mode, stride, mask kind, pooling and residual op appear in it).
#[test]
fn packed_agrees_with_naive_on_a_seed_sweep() {
    let models: Vec<Model> = (0..600).map(|s| random_model(s, &options(s))).collect();
    let live: Vec<&Model> = models.iter().step_by(2).collect();
    let share = common::input_dependence("reference sweep, even seeds (no corner cases)", &live);
    assert!(share >= 0.6, "the sweep has too little power: {share}");
    for (seed, m) in (0u64..).zip(&models) {
        for k in 0..2 {
            let img = random_image(seed * 7 + k, &m.input);
            if let Err(e) = check_agreement(m, &img) {
                panic!("seed {seed}, image {k}: {e}\n{}", bnngen::model::to_toml(m));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn packed_agrees_with_naive(seed in any::<u64>(), image_seed in any::<u64>()) {
        let m = random_model(seed, &options(seed));
        let img = random_image(image_seed, &m.input);
        prop_assert_eq!(check_agreement(&m, &img), Ok(()));
    }

    /// Word-aligned in-blocks: 8 or 16 input channels of 8-bit binary planes give 64 or 128
    /// front-end channels, so in-blocks of 64 take the engine's whole-word gather path.
    #[test]
    fn packed_agrees_with_naive_on_word_aligned_blocks(
        seed in any::<u64>(),
        image_seed in any::<u64>(),
        wide in any::<bool>(),
    ) {
        let o = RandomOptions {
            height: 5,
            width: 4,
            channels: if wide { 16 } else { 8 },
            bits: 8,
            layers: 3,
            max_channels: 70,
            front_end: Some(FrontEndChoice::Binary),
            ..RandomOptions::default()
        };
        let m = random_model(seed, &o);
        let img = random_image(image_seed, &m.input);
        prop_assert_eq!(check_agreement(&m, &img), Ok(()));
    }

    /// Wide layers: channel counts past one 64-bit word, unaligned in-blocks.
    #[test]
    fn packed_agrees_with_naive_on_wide_layers(seed in any::<u64>(), image_seed in any::<u64>()) {
        let mut o = options(seed);
        o.max_channels = 150;
        o.height = o.height.min(5);
        o.width = o.width.min(5);
        o.layers = o.layers.min(3);
        let m = random_model(seed, &o);
        let img = random_image(image_seed, &m.input);
        prop_assert_eq!(check_agreement(&m, &img), Ok(()));
    }
}

#[test]
fn engine_is_reusable_and_deterministic() {
    let m = random_model(11, &RandomOptions::default());
    let e = Engine::new(&m);
    for s in 0..20 {
        let img = random_image(s, &m.input);
        assert_eq!(e.trace(&img), trace(&m, &img));
        assert_eq!(e.infer(&img), e.infer(&img));
    }
}

#[test]
fn tiny_model_agrees_with_naive() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/models/tiny.toml"))
        .expect("models/tiny.toml");
    let m = parse(&text, "tiny.toml").expect("tiny.toml is valid");
    for s in 0..200 {
        let img = random_image(s, &m.input);
        check_agreement_with_file(&m, &text, &img).unwrap_or_else(|e| panic!("image {s}: {e}"));
    }
}

// ---- Hand-computed cases -------------------------------------------------------------------

const HEAD: &str = r#"
format_version = 1
[meta]
name = "hand"
[input]
height = 2
width = 2
channels = 1
bits = 2
[front_end]
kind = "glt"
thresholds = [1, 3]
"#;

/// Pixels 0, 1 / 2, 3 through thresholds [1, 3] give planes (v >= 1, v >= 3):
/// (0,0) = 00, (0,1) = 10, (1,0) = 10, (1,1) = 11: four ones among eight bits.
fn hand_image() -> Image {
    Image {
        height: 2,
        width: 2,
        channels: 1,
        pixels: vec![0, 1, 2, 3],
    }
}

fn bools(t: &bnngen::reference::BitTensor) -> Vec<u8> {
    t.bits.iter().map(u8::from).collect()
}

#[test]
fn hand_front_end_and_classifier_scores() {
    // Class 0: all weights +1, p = 4 ones, a = 2*4 - 8 = 0. Class 1: the planes themselves
    // (0,0,1,0,1,0,1,1 = "2b"), p = 8, a = 8. Bias [3, -6] gives scores [3, 2]: class 0.
    // Class 2: weights 1,0,0,0,0,0,0,0 ("80") match the planes at positions 1, 3, 5 only:
    // p = 3, a = -2.
    let text = format!(
        "{HEAD}[[layers]]\nkind = \"classifier\"\nname = \"head\"\nout_features = 3\nbias = [3, -6, 0]\nweights = \"ff2b80\"\n"
    );
    let m = parse(&text, "hand").unwrap();
    let t = trace(&m, &hand_image());
    assert_eq!(bools(&t.front_end), [0, 0, 1, 0, 1, 0, 1, 1]);
    assert_eq!(t.prediction.scores, [3, 2, -2]);
    assert_eq!(t.prediction.class, 0);
}

/// A 3x3 conv, padding 1, stride 2 on the 2x2x2 planes: one output pixel whose window holds
/// the four pixels at taps (1..=2, 1..=2) and five padded taps (ten bits). All weights +1,
/// so in-image taps give p = 4 of 8. minus_one: p = 4, N = 18, a = -10. plus_one: p = 14,
/// N = 18, a = 10. zero: p = 4, N = 8, a = 0. Four outputs with thresholds
/// [a, a+1, a-1, a] and directions [up, up, down, down] read back as bits 1, 0, 0, 1,
/// which pins a exactly. The classifier then sees two ones of four: score 0 + bias 0.
#[test]
fn hand_padding_modes() {
    for (mode, a) in [("minus_one", -10i64), ("plus_one", 10), ("zero", 0)] {
        let text = format!(
            "{HEAD}[[layers]]\nkind = \"conv\"\nname = \"c\"\nout_channels = 4\nkernel = [3, 3]\n\
             stride = 2\npadding = 1\npad_mode = \"{mode}\"\n\
             thresholds = [{a}, {}, {}, {a}]\ndirections = [1, 1, -1, -1]\nweights = \"{}\"\n\
             [[layers]]\nkind = \"classifier\"\nname = \"head\"\nout_features = 1\nbias = [0]\nweights = \"f\"\n",
            a + 1,
            a - 1,
            "f".repeat(18)
        );
        let m = parse(&text, "hand").unwrap();
        let t = trace(&m, &hand_image());
        assert_eq!(
            t.layers[0].shape,
            Shape {
                height: 1,
                width: 1,
                channels: 4
            }
        );
        assert_eq!(bools(&t.layers[0]), [1, 0, 0, 1], "pad mode {mode}");
        assert_eq!(t.prediction.scores, [0]);
    }
}

/// A 1x1 conv with two in-blocks and two out-blocks, mask 10 / 00: output 0 sees plane 0
/// only through weight +1 (a = +1 where v >= 1, else -1); output 1's out-block is fully
/// pruned, so a = 0 everywhere. Thresholds [1, 0] up: output 0 = plane 0, output 1 = 1.
/// Then a residual XNOR with that conv's own output (all ones), a 2x2 max-pool (OR), and a
/// classifier with two in-blocks, out-blocks [1 class each], mask 01 / 10 and bias [-1, 0]:
/// class 0 sees pooled channel 1 (= 1) through weight -1: a = -1, score -2;
/// class 1 sees pooled channel 0 (= 1) through weight +1: a = 1, score 1.
#[test]
fn hand_blocks_pruning_residual_pool() {
    let text = format!(
        "{HEAD}[[layers]]\nkind = \"conv\"\nname = \"c\"\nout_channels = 2\nkernel = [1, 1]\n\
         pad_mode = \"zero\"\nin_blocks = 2\nout_blocks = 2\nmask = [\"10\", \"00\"]\n\
         thresholds = [1, 0]\ndirections = [1, 1]\nweights = \"8\"\n\
         [[layers]]\nkind = \"residual\"\nname = \"r\"\nwith = \"c\"\nop = \"xnor\"\n\
         [[layers]]\nkind = \"maxpool\"\nname = \"p\"\nkernel = 2\nstride = 2\n\
         [[layers]]\nkind = \"classifier\"\nname = \"head\"\nout_features = 2\nin_blocks = 2\n\
         out_blocks = 2\nmask = [\"01\", \"10\"]\nbias = [-1, 0]\nweights = \"4\"\n"
    );
    let m = parse(&text, "hand").unwrap();
    let t = trace(&m, &hand_image());
    assert_eq!(bools(&t.layers[0]), [0, 1, 1, 1, 1, 1, 1, 1]);
    // x XNOR x = 1 everywhere.
    assert_eq!(bools(&t.layers[1]), [1; 8]);
    assert_eq!(bools(&t.layers[2]), [1, 1]);
    assert_eq!(t.prediction.scores, [-2, 1]);
    assert_eq!(t.prediction.class, 1);
}

/// Dense layer with the window order (y, x, c): weight row = the planes themselves
/// (0,0,1,0,1,0,1,1 = hex "2b") matches all eight bits, a = 8; the inverted row
/// ("d4") matches none, a = -8. Thresholds 8 up and -8 down fire both; thresholds 9 up and
/// -9 down fire neither. The classifier ties (two equal rows, no bias): class 0.
#[test]
fn hand_dense_order_and_argmax_ties() {
    let text = format!(
        "{HEAD}[[layers]]\nkind = \"dense\"\nname = \"fc\"\nout_features = 4\n\
         thresholds = [8, -8, 9, -9]\ndirections = [1, -1, 1, -1]\nweights = \"2bd42bd4\"\n\
         [[layers]]\nkind = \"classifier\"\nname = \"head\"\nout_features = 2\nbias = [0, 0]\nweights = \"cc\"\n"
    );
    let m = parse(&text, "hand").unwrap();
    let t = trace(&m, &hand_image());
    assert_eq!(bools(&t.layers[0]), [1, 1, 0, 0]);
    assert_eq!(t.prediction.scores, [4, 4]);
    assert_eq!(t.prediction.class, 0);
}

/// The binary front end: plane k is bit k of the pixel, LSB first.
#[test]
fn hand_binary_front_end() {
    let text = HEAD.replace("kind = \"glt\"\nthresholds = [1, 3]", "kind = \"binary\"")
        + "[[layers]]\nkind = \"classifier\"\nname = \"head\"\nout_features = 1\nbias = [0]\nweights = \"00\"\n";
    let m = parse(&text, "hand").unwrap();
    let t = trace(&m, &hand_image());
    // 0 -> 00, 1 -> 10, 2 -> 01, 3 -> 11 (LSB plane first).
    assert_eq!(bools(&t.front_end), [0, 0, 1, 0, 0, 1, 1, 1]);
    // Weights all -1: p = zeros = 4, a = 0.
    assert_eq!(t.prediction.scores, [0]);
}
