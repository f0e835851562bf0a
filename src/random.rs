//! Seeded random valid models and images, for tests, fuzzing and differential checks.
//!
//! The generator owns its RNG ([`SplitMix64`]) so that a seed names the same model forever,
//! whatever crate versions are in the lock file. Models are small by default (tests build
//! thousands) but reach every corner of the format: each front end, M up to 16, any pixel
//! depth, several input channels, odd sizes, non-square kernels, strides 1 and 2, every
//! padding and pad mode, grouped and arbitrary block masks including fully pruned out-blocks
//! and in-block columns, thresholds in both directions, max-pool, residuals with every op,
//! dense layers and a blocked classifier with a bias.
//!
//! By default the models compute something that depends on their input (tests/random_power.rs
//! holds at least 90% of them to it): a model whose scores are constant agrees with almost any
//! implementation, so it gives a differential test no power. Thresholds are drawn near the
//! middle of the sums' range, no weighted layer is fully pruned, and a residual never combines
//! the layer just before with itself. `RandomOptions::corner_cases` turns those corners back
//! on (fully pruned layers, thresholds anywhere around the reachable range, self-residuals)
//! for the tests that need them.

use crate::model::{
    uniform_thresholds, Bits, BlockWeights, Classifier, Conv, Dense, Direction, FrontEnd, Image,
    InputSpec, Layer, LayerKind, MaxPool, Meta, Model, PadMode, Residual, ResidualOp, Shape,
    Thermometer, ThermometerKind, Thresholds,
};
use crate::prng::SplitMix64;

/// Which front end a random model gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontEndChoice {
    /// GLT with one threshold list shared by every channel.
    GltShared,
    /// GLT with one threshold list per channel.
    GltPerChannel,
    Uniform,
    Binary,
}

impl FrontEndChoice {
    pub const ALL: [FrontEndChoice; 4] = [
        FrontEndChoice::GltShared,
        FrontEndChoice::GltPerChannel,
        FrontEndChoice::Uniform,
        FrontEndChoice::Binary,
    ];
}

/// Shape options for `random_model`; `Default` gives a small model that exercises every
/// layer kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RandomOptions {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub bits: u32,
    /// Number of conv / pool / residual / dense layers before the classifier.
    pub layers: usize,
    pub max_channels: usize,
    pub classes: usize,
    /// Front end to use; `None` draws one from the seed.
    pub front_end: Option<FrontEndChoice>,
    /// Largest thermometer M drawn (clipped to what the bit depth allows).
    pub max_levels: usize,
    /// Largest conv kernel side.
    pub max_kernel: usize,
    /// Whether dense layers may appear before the classifier.
    pub allow_dense: bool,
    /// Also draw the corners that make a layer's output constant: fully pruned layers,
    /// thresholds anywhere around the reachable range, a residual of the layer just before
    /// with itself.
    pub corner_cases: bool,
}

impl Default for RandomOptions {
    fn default() -> Self {
        RandomOptions {
            height: 9,
            width: 7,
            channels: 1,
            bits: 8,
            layers: 5,
            max_channels: 16,
            classes: 4,
            front_end: None,
            max_levels: 16,
            max_kernel: 3,
            allow_dense: true,
            corner_cases: false,
        }
    }
}

impl RandomOptions {
    /// Small options drawn from a seed: odd and even sizes 1..=9, 1..=3 channels, 1..=8 bits,
    /// 1..=6 layers, any front end. Lets property tests vary the input as well as the layers.
    pub fn sampled(seed: u64) -> Self {
        let mut r = SplitMix64::new(seed ^ 0x6f70_7473_5eed_0001);
        RandomOptions {
            height: r.urange(1, 9),
            width: r.urange(1, 9),
            channels: r.urange(1, 3),
            bits: r.urange(1, 8) as u32,
            layers: r.urange(1, 6),
            max_channels: r.pick(&[4, 8, 12, 16]),
            classes: r.urange(1, 5),
            front_end: None,
            max_levels: 16,
            max_kernel: 3,
            allow_dense: true,
            corner_cases: false,
        }
    }
}

/// Draws after the first that `random_model` may make to find a model whose scores depend on
/// the input. Each is a whole new model from a stream derived from the seed, so a seed still
/// names one model; a seed whose first draw already depends on its input is unchanged.
const REDRAWS: u64 = 8;

/// Images a drawn model is tried on: its scores must differ across them.
const LIVENESS_IMAGES: u64 = 6;

/// A valid random model: same seed and options, same model.
///
/// Without `corner_cases`, a draw whose scores are the same on a few random images (a chain
/// of max-pools that saturates, a classifier that ignores what changes) is replaced by a new
/// draw, up to `REDRAWS` times. Those constant models are what the corner-case models
/// exercise; here they would only dilute the differential tests.
pub fn random_model(seed: u64, opts: &RandomOptions) -> Model {
    assert!(
        opts.height > 0 && opts.width > 0 && opts.channels > 0,
        "empty input"
    );
    assert!((1..=16).contains(&opts.bits), "bits must be 1..=16");
    assert!(opts.max_channels > 0 && opts.classes > 0 && opts.max_kernel > 0);
    let mut model = draw_model(seed, opts);
    if opts.corner_cases {
        return model;
    }
    for k in 1..=REDRAWS {
        if scores_depend_on_input(&model, seed) {
            break;
        }
        let stream = seed ^ k.wrapping_mul(0xd1b5_4a32_d192_ed03);
        model = draw_model(stream, opts);
        model.meta = draw_meta(seed, opts);
    }
    model
}

/// Whether `model`'s scores differ across `LIVENESS_IMAGES` random images.
fn scores_depend_on_input(model: &Model, seed: u64) -> bool {
    let engine = crate::reference::Engine::new(model);
    let base = seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0x11fe_0001;
    let first = engine.infer(&random_image(base, &model.input)).scores;
    (1..LIVENESS_IMAGES)
        .any(|k| engine.infer(&random_image(base + k, &model.input)).scores != first)
}

fn draw_meta(seed: u64, opts: &RandomOptions) -> Meta {
    Meta {
        name: format!("random-{seed:016x}"),
        description: format!(
            "random model: seed {seed}, input {}x{}x{} at {} bits, {} hidden layers",
            opts.height, opts.width, opts.channels, opts.bits, opts.layers
        ),
        provenance: "bnngen::model::random::random_model".into(),
        classes: Vec::new(),
    }
}

/// One draw of `random_model` from the stream `seed`.
fn draw_model(seed: u64, opts: &RandomOptions) -> Model {
    let mut r = SplitMix64::new(seed);
    let input = InputSpec {
        height: opts.height,
        width: opts.width,
        channels: opts.channels,
        bits: opts.bits,
    };
    let front_end = random_front_end(&mut r, opts, &input);
    let mut cur = front_end.output_shape(&input);
    let mut layers: Vec<Layer> = Vec::new();
    for i in 0..opts.layers {
        let (name, kind, output) = random_hidden_layer(&mut r, opts, cur, &layers, i);
        layers.push(Layer {
            name,
            input: cur,
            output,
            kind,
        });
        cur = output;
    }
    let weights = random_block_weights(
        &mut r,
        opts.corner_cases,
        cur.channels,
        opts.classes,
        (cur.height, cur.width),
        false,
    );
    let span = (weights.row_len() * weights.in_blocks) as i64;
    let bias = (0..opts.classes)
        .map(|_| {
            if r.chance(1, 3) {
                0
            } else {
                r.range(-span.min(6) - 1, span.min(6) + 1)
            }
        })
        .collect();
    layers.push(Layer {
        name: "head".into(),
        input: cur,
        output: Shape::vector(opts.classes),
        kind: LayerKind::Classifier(Classifier { weights, bias }),
    });
    let mut model = Model {
        meta: draw_meta(seed, opts),
        input,
        front_end,
        layers,
    };
    if !opts.corner_cases {
        centre_thresholds(&mut r, &mut model);
    }
    model
}

/// Images the thresholds are placed on.
const CALIBRATION_IMAGES: u64 = 8;

/// Place each conv and dense threshold inside the range of sums the channel actually sees, so
/// that it fires on a random 1/8 to 1/2 of its sums over a few random images and every output
/// position (before a k x k max-pool, 1/(2k^2) to 1/k^2, so the pool's OR does not saturate),
/// layer by layer (each layer sees the outputs of the already placed ones). Without this, biased inputs (after max-pools, thresholds or
/// residuals) leave most channels always or never firing. The sums are computed straight from the definition here; this is
/// not a verification path, only a way to draw thresholds that matter.
fn centre_thresholds(r: &mut SplitMix64, model: &mut Model) {
    let seed = r.next_u64();
    let images: Vec<Image> = (0..CALIBRATION_IMAGES)
        .map(|k| random_image(seed.wrapping_add(k), &model.input))
        .collect();
    for l in 0..model.layers.len() {
        let (w, stride, pad, mode) = match &model.layers[l].kind {
            LayerKind::Conv(c) => (&c.weights, c.stride, c.padding, c.pad_mode),
            LayerKind::Dense(d) => (&d.weights, 1, 0, PadMode::Zero),
            _ => continue,
        };
        let out = model.layers[l].output;
        let mut sums: Vec<Vec<i64>> = vec![Vec::new(); out.channels];
        for img in &images {
            let t = crate::reference::trace(model, img);
            let input = if l == 0 {
                &t.front_end
            } else {
                &t.layers[l - 1]
            };
            for (i, a) in window_sums(w, input, out, stride, pad, mode)
                .into_iter()
                .enumerate()
            {
                sums[i % out.channels].push(a);
            }
        }
        // Before a k x k max-pool, fire on 1/(2k^2) ..= 1/k^2 of the sums, so the pool's OR
        // is not always 1.
        let pool = match model.layers.get(l + 1).map(|n| &n.kind) {
            Some(LayerKind::MaxPool(p)) => p.kernel * p.kernel,
            _ => 1,
        };
        let act = match &mut model.layers[l].kind {
            LayerKind::Conv(c) => &mut c.activation,
            LayerKind::Dense(d) => &mut d.activation,
            _ => unreachable!(),
        };
        for (o, v) in sums.iter_mut().enumerate() {
            v.sort_unstable();
            let n = v.len();
            // The share of sums that fire: 1/8 ..= 1/2, or as above before a pool.
            let (lo, span) = if pool > 1 {
                (n / (2 * pool), n / (2 * pool))
            } else {
                (n / 8, 3 * n / 8)
            };
            let fire = lo + r.below(span.max(1) as u64) as usize;
            let q = match act.directions[o] {
                Direction::Up => n - 1 - fire.min(n - 1),
                Direction::Down => fire.min(n - 1),
            };
            if v[0] != v[n - 1] {
                let t = v[q];
                // `a >= t` (up) or `a <= t` (down): a value strictly inside the range fires
                // for some sums and not others either way.
                act.thresholds[o] = match act.directions[o] {
                    Direction::Up => t.max(v[0] + 1),
                    Direction::Down => t.min(v[n - 1] - 1),
                };
            }
        }
    }
}

/// Sums a = 2p - N of a window layer at every output position (channel fastest).
fn window_sums(
    w: &BlockWeights,
    input: &crate::reference::BitTensor,
    out: Shape,
    stride: usize,
    pad: usize,
    mode: PadMode,
) -> Vec<i64> {
    let s = input.shape;
    let mut v = Vec::with_capacity(out.len());
    for oy in 0..out.height {
        for ox in 0..out.width {
            for o in 0..out.channels {
                let (mut p, mut n) = (0i64, 0i64);
                for ky in 0..w.kernel_h {
                    for kx in 0..w.kernel_w {
                        let iy = (oy * stride + ky) as i64 - pad as i64;
                        let ix = (ox * stride + kx) as i64 - pad as i64;
                        let inside = iy >= 0
                            && ix >= 0
                            && (iy as usize) < s.height
                            && (ix as usize) < s.width;
                        for ci in 0..w.in_channels {
                            let Some(wb) = w.weight(o, ky, kx, ci) else {
                                continue;
                            };
                            let bit = if inside {
                                input
                                    .bits
                                    .get((iy as usize * s.width + ix as usize) * s.channels + ci)
                            } else {
                                match mode {
                                    PadMode::MinusOne => false,
                                    PadMode::PlusOne => true,
                                    PadMode::Zero => continue,
                                }
                            };
                            n += 1;
                            p += i64::from(bit == wb);
                        }
                    }
                }
                v.push(2 * p - n);
            }
        }
    }
    v
}

/// A random image for `input`: same seed, same image. Pixels are uniform over the code range,
/// with the extremes 0 and max drawn more often so thermometer edges get exercised.
pub fn random_image(seed: u64, input: &InputSpec) -> Image {
    let mut r = SplitMix64::new(seed ^ 0x1a4e_5eed_0000_0000);
    let max = input.max_pixel() as u64;
    let pixels = (0..input.height * input.width * input.channels)
        .map(|_| match r.below(16) {
            0 => 0,
            1 => max as u16,
            _ => r.below(max + 1) as u16,
        })
        .collect();
    Image {
        height: input.height,
        width: input.width,
        channels: input.channels,
        pixels,
    }
}

fn random_front_end(r: &mut SplitMix64, opts: &RandomOptions, input: &InputSpec) -> FrontEnd {
    let choice = opts
        .front_end
        .unwrap_or_else(|| r.pick(&FrontEndChoice::ALL));
    let max = input.max_pixel() as usize;
    let levels_cap = |cap: usize| cap.min(opts.max_levels.clamp(1, 255)).max(1);
    match choice {
        FrontEndChoice::Binary => FrontEnd::Binary,
        FrontEndChoice::Uniform => {
            let m = r.urange(1, levels_cap(max));
            FrontEnd::Thermometer(Thermometer {
                kind: ThermometerKind::Uniform,
                levels: m,
                shared: true,
                thresholds: vec![uniform_thresholds(m, input.bits); input.channels],
            })
        }
        FrontEndChoice::GltShared | FrontEndChoice::GltPerChannel => {
            let m = r.urange(1, levels_cap(max + 1));
            let shared = choice == FrontEndChoice::GltShared;
            let thresholds = if shared {
                vec![increasing(r, m, max); input.channels]
            } else {
                (0..input.channels).map(|_| increasing(r, m, max)).collect()
            };
            FrontEnd::Thermometer(Thermometer {
                kind: ThermometerKind::Glt,
                levels: m,
                shared,
                thresholds,
            })
        }
    }
}

/// `m` distinct values of `0..=max`, ascending.
fn increasing(r: &mut SplitMix64, m: usize, max: usize) -> Vec<u32> {
    assert!(m <= max + 1);
    let mut v: Vec<u32> = if 2 * m > max + 1 {
        // Dense case: partial Fisher-Yates over the whole (small) range.
        let mut all: Vec<u32> = (0..=max as u32).collect();
        for i in 0..m {
            let j = r.urange(i, max);
            all.swap(i, j);
        }
        all.truncate(m);
        all
    } else {
        let mut set = std::collections::BTreeSet::new();
        while set.len() < m {
            set.insert(r.urange(0, max) as u32);
        }
        set.into_iter().collect()
    };
    v.sort_unstable();
    v
}

/// Draw one layer that reads `cur`; returns its name, kind and output shape.
fn random_hidden_layer(
    r: &mut SplitMix64,
    opts: &RandomOptions,
    cur: Shape,
    layers: &[Layer],
    i: usize,
) -> (String, LayerKind, Shape) {
    // Earlier layers whose output matches the current tensor: the residual candidates.
    // Without corner cases, not the layer just before: op(x, x) is x or a constant.
    let matching: Vec<usize> = (0..layers.len())
        .filter(|&j| layers[j].output == cur && (opts.corner_cases || j + 1 < i))
        .collect();
    let roll = r.below(100);
    if roll < 14 && !matching.is_empty() {
        // Prefer a genuine skip (not just the previous layer) when one exists.
        let skips: Vec<usize> = matching.iter().copied().filter(|&j| j + 1 < i).collect();
        let with = if !skips.is_empty() && r.chance(3, 4) {
            r.pick(&skips)
        } else {
            r.pick(&matching)
        };
        let op = r.pick(&[
            ResidualOp::Or,
            ResidualOp::And,
            ResidualOp::Xor,
            ResidualOp::Xnor,
        ]);
        return (
            format!("res{i}"),
            LayerKind::Residual(Residual { with, op }),
            cur,
        );
    }
    if roll < 26 {
        let k = r.urange(1, 3.min(cur.height).min(cur.width));
        let stride = r.urange(1, k.clamp(2, 3));
        let output = Shape {
            height: (cur.height - k) / stride + 1,
            width: (cur.width - k) / stride + 1,
            channels: cur.channels,
        };
        return (
            format!("pool{i}"),
            LayerKind::MaxPool(MaxPool { kernel: k, stride }),
            output,
        );
    }
    if roll < 34 && opts.allow_dense {
        let out = r.urange(1, opts.max_channels);
        let (weights, activation) =
            random_weighted(r, opts, cur.channels, out, (cur.height, cur.width), true);
        let output = Shape::vector(weights.out_channels);
        return (
            format!("fc{i}"),
            LayerKind::Dense(Dense {
                weights,
                activation,
            }),
            output,
        );
    }
    random_conv(r, opts, cur, i)
}

fn random_conv(
    r: &mut SplitMix64,
    opts: &RandomOptions,
    cur: Shape,
    i: usize,
) -> (String, LayerKind, Shape) {
    let maxk = opts.max_kernel;
    // A shape-preserving conv (same channel count) feeds residuals; others draw their width.
    let (kh, kw, stride, padding, fixed_out) = if r.chance(2, 5) {
        let k = if maxk >= 3 && r.bit() { 3 } else { 1 };
        (k, k, 1, (k - 1) / 2, Some(cur.channels))
    } else {
        let mut kh = r.urange(1, maxk);
        let mut kw = if r.chance(1, 2) {
            kh
        } else {
            r.urange(1, maxk)
        };
        let mut pad = r.urange(0, kh.max(kw) - 1);
        kh = kh.min(cur.height + 2 * pad);
        kw = kw.min(cur.width + 2 * pad);
        if pad > 0 && pad >= kh.max(kw) {
            pad = kh.max(kw) - 1;
        }
        let stride = if r.chance(1, 3) { 2 } else { 1 };
        (kh, kw, stride, pad, None)
    };
    let pad_mode = r.pick(&[PadMode::MinusOne, PadMode::PlusOne, PadMode::Zero]);
    let out_channels = fixed_out.unwrap_or_else(|| r.urange(1, opts.max_channels));
    let (weights, activation) = random_weighted(
        r,
        opts,
        cur.channels,
        out_channels,
        (kh, kw),
        fixed_out.is_none(),
    );
    let output = Shape {
        height: (cur.height + 2 * padding - kh) / stride + 1,
        width: (cur.width + 2 * padding - kw) / stride + 1,
        channels: weights.out_channels,
    };
    let conv = Conv {
        stride,
        padding,
        pad_mode,
        weights,
        activation,
    };
    (format!("conv{i}"), LayerKind::Conv(conv), output)
}

/// Weights plus thresholds; with `flexible`, out may be changed to fit a grouped block count.
/// Thresholds lie within about one standard deviation of a sum of random signs (sqrt N), so
/// a channel fires for some inputs and not others; with corner cases, half of them are drawn
/// anywhere in -N-1..=N+1, where most never or always fire.
fn random_weighted(
    r: &mut SplitMix64,
    opts: &RandomOptions,
    cin: usize,
    out: usize,
    kernel: (usize, usize),
    flexible: bool,
) -> (BlockWeights, Thresholds) {
    let w = random_block_weights(r, opts.corner_cases, cin, out, kernel, flexible);
    let thresholds = (0..w.out_channels)
        .map(|o| {
            let n = (w.kept_in_blocks(o / w.out_per_block()) * w.row_len()) as i64;
            if !opts.corner_cases {
                let s = ((n as f64).sqrt() / 2.0).ceil() as i64;
                r.range(-s, s)
            } else if r.chance(1, 2) {
                let s = (n as f64).sqrt().ceil() as i64 + 1;
                r.range(-s, s)
            } else {
                r.range(-n - 1, n + 1)
            }
        })
        .collect();
    let directions = (0..w.out_channels)
        .map(|_| {
            if r.chance(2, 3) {
                Direction::Up
            } else {
                Direction::Down
            }
        })
        .collect();
    (
        w,
        Thresholds {
            thresholds,
            directions,
        },
    )
}

fn divisors(n: usize) -> Vec<usize> {
    (1..=n).filter(|&d| n.is_multiple_of(d)).collect()
}

/// Block structure, mask and bits of a weighted layer: in-blocks a divisor of `cin`, then
/// either a grouped (diagonal) mask with as many out-blocks (with `flexible`, `out` is rounded
/// up to fit), or any out-block count dividing `out` with a full or random mask, the latter
/// often with one out-block row and one in-block column fully pruned. Without `corner`, at
/// least one tile is kept.
fn random_block_weights(
    r: &mut SplitMix64,
    corner: bool,
    cin: usize,
    out: usize,
    kernel: (usize, usize),
    flexible: bool,
) -> BlockWeights {
    let in_divs: Vec<usize> = divisors(cin).into_iter().filter(|&d| d <= 8).collect();
    let in_blocks = if r.chance(1, 3) { 1 } else { r.pick(&in_divs) };
    // Grouped (diagonal) masks need as many out-blocks as in-blocks.
    let grouped = in_blocks > 1 && r.chance(1, 3) && (flexible || out.is_multiple_of(in_blocks));
    let (out, out_blocks) = if grouped {
        let opb = out.div_ceil(in_blocks).max(1);
        let out = if flexible { opb * in_blocks } else { out };
        (out, in_blocks)
    } else {
        let out_divs: Vec<usize> = divisors(out).into_iter().filter(|&d| d <= 8).collect();
        (out, if r.chance(1, 3) { 1 } else { r.pick(&out_divs) })
    };
    let mut mask = vec![true; in_blocks * out_blocks];
    if grouped {
        for ob in 0..out_blocks {
            for ib in 0..in_blocks {
                mask[ob * in_blocks + ib] = ob == ib;
            }
        }
    } else if mask.len() > 1 && r.chance(2, 3) {
        for m in mask.iter_mut() {
            *m = r.chance(3, 5);
        }
        if r.chance(1, 2) {
            let ob = r.urange(0, out_blocks - 1);
            for ib in 0..in_blocks {
                mask[ob * in_blocks + ib] = false;
            }
        }
        if r.chance(1, 2) {
            let ib = r.urange(0, in_blocks - 1);
            for ob in 0..out_blocks {
                mask[ob * in_blocks + ib] = false;
            }
        }
        if !corner && !mask.contains(&true) {
            let t = r.below(mask.len() as u64) as usize;
            mask[t] = true;
        }
    }
    let mut w = BlockWeights {
        in_channels: cin,
        out_channels: out,
        kernel_h: kernel.0,
        kernel_w: kernel.1,
        in_blocks,
        out_blocks,
        mask,
        bits: Bits::default(),
    };
    w.bits = Bits::from_bools((0..w.stored_bits()).map(|_| r.bit()));
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{parse, to_toml};

    fn options(seed: u64) -> RandomOptions {
        let mut o = RandomOptions::sampled(seed);
        o.front_end = Some(FrontEndChoice::ALL[(seed % 4) as usize]);
        o.corner_cases = seed % 2 == 1;
        o
    }

    #[test]
    fn same_seed_same_model_and_image() {
        let o = RandomOptions::default();
        assert_eq!(random_model(7, &o), random_model(7, &o));
        assert_ne!(random_model(7, &o), random_model(8, &o));
        let i = random_model(7, &o).input;
        assert_eq!(random_image(3, &i), random_image(3, &i));
        assert_ne!(random_image(3, &i), random_image(4, &i));
    }

    #[test]
    fn random_models_round_trip_through_the_file_format() {
        for seed in 0..400 {
            let o = if seed % 3 == 0 {
                RandomOptions::default()
            } else {
                options(seed)
            };
            let m = random_model(seed, &o);
            let text = to_toml(&m);
            let back =
                parse(&text, "random").unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
            assert_eq!(back, m, "seed {seed}");
            let img = random_image(seed, &m.input);
            assert_eq!(
                img.pixels.len(),
                m.input.height * m.input.width * m.input.channels
            );
            assert!(img
                .pixels
                .iter()
                .all(|&p| u32::from(p) <= m.input.max_pixel()));
        }
    }

    /// Every feature the reference and RTL tests rely on shows up within a few hundred seeds.
    #[test]
    fn random_models_cover_the_format() {
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..600 {
            let m = random_model(seed, &options(seed));
            let tag = |s: &str| s.to_string();
            match &m.front_end {
                FrontEnd::Binary => seen.insert(tag("fe:binary")),
                FrontEnd::Thermometer(t) => {
                    seen.insert(format!("M:{}", t.levels));
                    match (t.kind, t.shared) {
                        (ThermometerKind::Uniform, _) => seen.insert(tag("fe:uniform")),
                        (ThermometerKind::Glt, true) => seen.insert(tag("fe:glt-shared")),
                        (ThermometerKind::Glt, false) => seen.insert(tag("fe:glt-per-channel")),
                    }
                }
            };
            seen.insert(format!("bits:{}", m.input.bits));
            for l in &m.layers {
                if let Some(w) = l.kind.weights() {
                    if w.in_blocks > 1 && w.out_blocks > 1 {
                        seen.insert(tag("blocks"));
                    }
                    if w.in_blocks > 1
                        && (0..w.out_blocks)
                            .all(|ob| (0..w.in_blocks).all(|ib| w.kept(ob, ib) == (ob == ib)))
                    {
                        seen.insert(tag("grouped"));
                    }
                    if (0..w.out_blocks).any(|ob| w.kept_in_blocks(ob) == 0) {
                        seen.insert(tag("pruned-out-block"));
                    }
                    if (0..w.in_blocks).any(|ib| (0..w.out_blocks).all(|ob| !w.kept(ob, ib))) {
                        seen.insert(tag("pruned-in-column"));
                    }
                }
                match &l.kind {
                    LayerKind::Conv(c) => {
                        seen.insert(format!("pad:{}", c.pad_mode.as_str()));
                        seen.insert(format!("stride:{}", c.stride));
                        seen.insert(format!("padding:{}", c.padding));
                        if c.weights.kernel_h != c.weights.kernel_w {
                            seen.insert(tag("non-square"));
                        }
                        let d = &c.activation.directions;
                        if d.contains(&Direction::Down) {
                            seen.insert(tag("down"));
                        }
                    }
                    LayerKind::MaxPool(_) => {
                        seen.insert(tag("maxpool"));
                    }
                    LayerKind::Residual(res) => {
                        seen.insert(format!("res:{}", res.op.as_str()));
                        if m.layer_index(&l.name).is_some_and(|i| res.with + 1 < i) {
                            seen.insert(tag("res:skip"));
                        }
                    }
                    LayerKind::Dense(d) => {
                        seen.insert(tag("dense"));
                        if d.weights.in_blocks > 1 || d.weights.out_blocks > 1 {
                            seen.insert(tag("dense-blocks"));
                        }
                    }
                    LayerKind::Classifier(c) => {
                        if c.weights.in_blocks > 1 || c.weights.out_blocks > 1 {
                            seen.insert(tag("classifier-blocks"));
                        }
                        if c.bias.iter().any(|&b| b != 0) {
                            seen.insert(tag("bias"));
                        }
                    }
                }
            }
            if m.input.channels > 1 {
                seen.insert(tag("multi-channel"));
            }
            if m.input.height % 2 == 1 && m.input.width % 2 == 1 {
                seen.insert(tag("odd-size"));
            }
        }
        let mut want: Vec<String> = [
            "fe:binary",
            "fe:uniform",
            "fe:glt-shared",
            "fe:glt-per-channel",
            "blocks",
            "grouped",
            "pruned-out-block",
            "pruned-in-column",
            "pad:minus_one",
            "pad:plus_one",
            "pad:zero",
            "stride:1",
            "stride:2",
            "padding:0",
            "padding:1",
            "padding:2",
            "non-square",
            "down",
            "maxpool",
            "res:skip",
            "res:or",
            "res:and",
            "res:xor",
            "res:xnor",
            "dense",
            "dense-blocks",
            "classifier-blocks",
            "bias",
            "multi-channel",
            "odd-size",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        want.extend((1..=16).map(|m| format!("M:{m}")));
        want.extend((1..=8).map(|b| format!("bits:{b}")));
        let missing: Vec<&String> = want.iter().filter(|w| !seen.contains(*w)).collect();
        assert!(missing.is_empty(), "never generated: {missing:?}");
    }
}
