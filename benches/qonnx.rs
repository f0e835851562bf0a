//! QONNX import and export time of a model of about 1 Mbit (issue #17 asks for under 1 s).
//!
//! The model is built in code: 28x28x1 8-bit input, uniform M = 8, conv 8->32, pool, conv
//! 32->64, pool, dense 3136->320, classifier 320->10, with seeded random weights and
//! thresholds: 1,027,456 weight bits. Reproduce: `cargo bench --bench qonnx`.

use std::hint::black_box;

use bnngen::model::{parse, Model};
use bnngen::prng::SplitMix64;
use bnngen::qonnx::{export, import, ImportOptions};
use criterion::{criterion_group, criterion_main, Criterion};

/// `bits` random bits as hex (the last digit's padding zero).
fn hex(r: &mut SplitMix64, bits: usize) -> String {
    let mut s: String = (0..bits / 4)
        .map(|_| char::from_digit(r.below(16) as u32, 16).unwrap())
        .collect();
    if !bits.is_multiple_of(4) {
        let keep = bits % 4;
        let v = (r.below(1 << keep) as u32) << (4 - keep);
        s.push(char::from_digit(v, 16).unwrap());
    }
    s
}

fn list(r: &mut SplitMix64, n: usize, lo: i64, hi: i64) -> String {
    let v: Vec<String> = (0..n).map(|_| r.range(lo, hi).to_string()).collect();
    format!("[{}]", v.join(", "))
}

fn conv(r: &mut SplitMix64, name: &str, cin: usize, cout: usize) -> String {
    let (t, w) = (list(r, cout, -4, 4), hex(r, 9 * cin * cout));
    let d = list(r, cout, 0, 1).replace('0', "-1");
    format!(
        "[[layers]]\nkind = \"conv\"\nname = \"{name}\"\nout_channels = {cout}\nkernel = [3, 3]\n\
         padding = 1\npad_mode = \"minus_one\"\nthresholds = {t}\ndirections = {d}\nweights = \"{w}\"\n\n"
    )
}

fn megabit_model() -> Model {
    let mut r = SplitMix64::new(1);
    let pool = |name: &str| {
        format!("[[layers]]\nkind = \"maxpool\"\nname = \"{name}\"\nkernel = 2\nstride = 2\n\n")
    };
    let mut text = String::from(
        "format_version = 1\n[meta]\nname = \"megabit\"\n[input]\nheight = 28\nwidth = 28\n\
         channels = 1\nbits = 8\n[front_end]\nkind = \"uniform\"\nlevels = 8\n\n",
    );
    text += &conv(&mut r, "c1", 8, 32);
    text += &pool("p1");
    text += &conv(&mut r, "c2", 32, 64);
    text += &pool("p2");
    let (t, w) = (list(&mut r, 320, -40, 40), hex(&mut r, 3136 * 320));
    let d = vec!["1"; 320].join(", ");
    text += &format!(
        "[[layers]]\nkind = \"dense\"\nname = \"fc\"\nout_features = 320\nthresholds = {t}\n\
         directions = [{d}]\nweights = \"{w}\"\n\n"
    );
    let (b, w) = (list(&mut r, 10, -5, 5), hex(&mut r, 3200));
    text += &format!(
        "[[layers]]\nkind = \"classifier\"\nname = \"head\"\nout_features = 10\nbias = {b}\nweights = \"{w}\"\n"
    );
    parse(&text, "<megabit>").expect("the bench model is valid")
}

fn bench(c: &mut Criterion) {
    let m = megabit_model();
    let bits = m.summary().weight_bits_stored;
    let bytes = export(&m).unwrap();
    println!(
        "model: {bits} weight bits; QONNX file: {} bytes",
        bytes.len()
    );
    assert_eq!(
        import(&bytes, "<bench>", &ImportOptions::default(), None).unwrap(),
        m
    );
    c.bench_function("qonnx export (1 Mbit)", |b| {
        b.iter(|| export(black_box(&m)).unwrap())
    });
    c.bench_function("qonnx import (1 Mbit)", |b| {
        b.iter(|| {
            import(
                black_box(&bytes),
                "<bench>",
                &ImportOptions::default(),
                None,
            )
            .unwrap()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
