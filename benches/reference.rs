//! Throughput of the packed reference model against the machine's XNOR-popcount peak.
//!
//! The model is built in code: 28x28x1 8-bit input, GLT M = 8, conv 8->64, conv 64->128,
//! pool, grouped conv 128->256 (4 diagonal blocks), block-pruned conv 256->256 (half the
//! tiles), pool, block-pruned dense 12544->64, classifier 64->10: about 1 Mbit of stored
//! weights. The run prints the stored bits and kept MACs per frame, then a table of images/s
//! on one core, the kept-MAC rate that is, the peak rate of a tight XNOR-popcount loop over
//! L1-resident data with the same kernel level, and their ratio (best of 12 alternating
//! 0.3 s slices each, see `measure`). Criterion also times
//! `infer`. Reproduce: `cargo bench --bench reference` (default target flags; the popcount
//! kernel level is picked at run time and printed).

use std::hint::black_box;
use std::time::{Duration, Instant};

use bnngen::input::Image;
use bnngen::model::{
    parse, to_toml, Bits, BlockWeights, Classifier, Conv, Dense, Direction, FrontEnd, InputSpec,
    Layer, LayerKind, MaxPool, Meta, Model, PadMode, Shape, Thermometer, ThermometerKind,
    Thresholds,
};
use bnngen::prng::SplitMix64;
use bnngen::random::random_image;
use bnngen::reference::{kernel, Engine};
use criterion::{criterion_group, criterion_main, Criterion};

fn weights(
    r: &mut SplitMix64,
    cin: usize,
    cout: usize,
    k: (usize, usize),
    blocks: (usize, usize),
    mask: Vec<bool>,
) -> BlockWeights {
    let mut w = BlockWeights {
        in_channels: cin,
        out_channels: cout,
        kernel_h: k.0,
        kernel_w: k.1,
        in_blocks: blocks.0,
        out_blocks: blocks.1,
        mask,
        bits: Bits::default(),
    };
    w.bits = Bits::from_bools((0..w.stored_bits()).map(|_| r.bit()));
    w
}

/// Thresholds near the middle of the reachable range so activations stay mixed.
fn activation(r: &mut SplitMix64, w: &BlockWeights) -> Thresholds {
    let thresholds = (0..w.out_channels)
        .map(|o| {
            let n = (w.kept_in_blocks(o / w.out_per_block()) * w.row_len()) as i64;
            let s = (n as f64).sqrt() as i64 / 2 + 1;
            r.range(-s, s)
        })
        .collect();
    let directions = (0..w.out_channels)
        .map(|_| {
            if r.chance(3, 4) {
                Direction::Up
            } else {
                Direction::Down
            }
        })
        .collect();
    Thresholds {
        thresholds,
        directions,
    }
}

/// Append a 3x3, stride 1, padding 1 (zero mode) conv to `layers`.
fn push_conv(
    r: &mut SplitMix64,
    layers: &mut Vec<Layer>,
    name: &str,
    cout: usize,
    blocks: (usize, usize),
    mask: Vec<bool>,
    cur: &mut Shape,
) {
    let w = weights(r, cur.channels, cout, (3, 3), blocks, mask);
    let out = Shape {
        height: cur.height,
        width: cur.width,
        channels: cout,
    };
    let activation = activation(r, &w);
    let conv = Conv {
        stride: 1,
        padding: 1,
        pad_mode: PadMode::Zero,
        weights: w,
        activation,
    };
    layers.push(Layer {
        name: name.into(),
        input: *cur,
        output: out,
        kind: LayerKind::Conv(conv),
    });
    *cur = out;
}

/// Append a 2x2, stride 2 max-pool.
fn push_pool(layers: &mut Vec<Layer>, name: &str, cur: &mut Shape) {
    let out = Shape {
        height: cur.height / 2,
        width: cur.width / 2,
        channels: cur.channels,
    };
    let kind = LayerKind::MaxPool(MaxPool {
        kernel: 2,
        stride: 2,
    });
    layers.push(Layer {
        name: name.into(),
        input: *cur,
        output: out,
        kind,
    });
    *cur = out;
}

/// The representative model of the module doc, validated through the file format.
fn bench_model() -> Model {
    let mut r = SplitMix64::new(2025);
    let input = InputSpec {
        height: 28,
        width: 28,
        channels: 1,
        bits: 8,
    };
    let front_end = FrontEnd::Thermometer(Thermometer {
        kind: ThermometerKind::Glt,
        levels: 8,
        shared: true,
        thresholds: vec![vec![11, 39, 69, 98, 129, 161, 191, 223]],
    });
    let mut layers = Vec::new();
    let mut cur = front_end.output_shape(&input);
    push_conv(
        &mut r,
        &mut layers,
        "conv1",
        64,
        (1, 1),
        vec![true],
        &mut cur,
    );
    push_conv(
        &mut r,
        &mut layers,
        "conv2",
        128,
        (1, 1),
        vec![true],
        &mut cur,
    );
    push_pool(&mut layers, "pool1", &mut cur);
    let diag: Vec<bool> = (0..16).map(|t| t / 4 == t % 4).collect();
    push_conv(
        &mut r,
        &mut layers,
        "conv3_grouped",
        256,
        (4, 4),
        diag,
        &mut cur,
    );
    // Half the tiles kept: two per out-block, in a rotating pattern.
    let half: Vec<bool> = (0..16).map(|t| (t % 4 + 4 - t / 4) % 4 < 2).collect();
    push_conv(
        &mut r,
        &mut layers,
        "conv4_pruned",
        256,
        (4, 4),
        half,
        &mut cur,
    );
    push_pool(&mut layers, "pool2", &mut cur);
    let mask: Vec<bool> = (0..8).map(|t| t != 1 && t != 6).collect();
    let w = weights(
        &mut r,
        cur.channels,
        64,
        (cur.height, cur.width),
        (4, 2),
        mask,
    );
    let activation = activation(&mut r, &w);
    let out = Shape {
        height: 1,
        width: 1,
        channels: 64,
    };
    layers.push(Layer {
        name: "fc1".into(),
        input: cur,
        output: out,
        kind: LayerKind::Dense(Dense {
            weights: w,
            activation,
        }),
    });
    cur = out;
    let w = weights(&mut r, 64, 10, (1, 1), (1, 1), vec![true]);
    let bias = (0..10).map(|_| r.range(-4, 4)).collect();
    layers.push(Layer {
        name: "head".into(),
        input: cur,
        output: Shape {
            height: 1,
            width: 1,
            channels: 10,
        },
        kind: LayerKind::Classifier(Classifier { weights: w, bias }),
    });
    let m = Model {
        meta: Meta {
            name: "bench".into(),
            ..Meta::default()
        },
        input,
        front_end,
        layers,
    };
    parse(&to_toml(&m), "bench").expect("the bench model is valid")
}

/// Images per second of `engine` over `images`, measured for at least `budget`.
fn images_per_second(engine: &Engine, images: &[Image], budget: Duration) -> f64 {
    let start = Instant::now();
    let mut n = 0usize;
    while start.elapsed() < budget {
        black_box(engine.infer(black_box(&images[n % images.len()])));
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Binary MACs per second of the tight XNOR-popcount loop over 2 x 4 KiB of L1 data.
fn peak_macs_per_second(budget: Duration) -> f64 {
    let mut r = SplitMix64::new(1);
    let a: Vec<u64> = (0..512).map(|_| r.next_u64()).collect();
    let b: Vec<u64> = (0..512).map(|_| r.next_u64()).collect();
    let reps = 500;
    let start = Instant::now();
    let mut words = 0u64;
    while start.elapsed() < budget {
        black_box(kernel::xnor_popcount_peak(
            black_box(&a),
            black_box(&b),
            reps,
        ));
        words += (a.len() * reps) as u64;
    }
    64.0 * words as f64 / start.elapsed().as_secs_f64()
}

/// Alternate short engine and peak measurements and keep the best of each: on a shared
/// machine the best slice is the closest to an uncontended core, and alternating exposes
/// both to the same background load.
fn measure(engine: &Engine, images: &[Image], rounds: usize) -> (f64, f64) {
    let slice = Duration::from_millis(300);
    let (mut ips, mut peak) = (0f64, 0f64);
    for _ in 0..rounds {
        ips = ips.max(images_per_second(engine, images, slice));
        peak = peak.max(peak_macs_per_second(slice));
    }
    (ips, peak)
}

fn report(c: &mut Criterion) {
    let model = bench_model();
    let s = model.summary();
    let engine = Engine::new(&model);
    let images: Vec<Image> = (0..16).map(|i| random_image(i, &model.input)).collect();
    let (ips, peak) = measure(&engine, &images, 12);
    let achieved = ips * s.binary_macs_per_frame as f64;
    println!();
    println!("reference model bench: {}", model.meta.name);
    println!("  kernel level        {}", kernel::level().as_str());
    println!("  stored weight bits  {}", s.weight_bits_stored);
    println!("  kept MACs / frame   {}", s.binary_macs_per_frame);
    println!();
    println!("| images/s | kept MAC/s | peak XNOR-popcount MAC/s | ratio |");
    println!("|---------:|-----------:|-------------------------:|------:|");
    println!(
        "| {ips:.0} | {:.3e} | {:.3e} | {:.2} |",
        achieved,
        peak,
        achieved / peak
    );
    println!();
    c.bench_function("reference infer 28x28 ~1Mbit", |bch| {
        let mut i = 0;
        bch.iter(|| {
            i += 1;
            engine.infer(black_box(&images[i % images.len()]))
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(5));
    targets = report
}
criterion_main!(benches);
