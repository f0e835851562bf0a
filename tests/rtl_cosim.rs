//! Differential co-simulation: generated RTL in Verilator vs the reference model, as integers.

use bnngen::model::random::{random_image, random_model, RandomOptions};
use bnngen::model::Model;
use bnngen::plan::{set_folding, HwConfig};
use bnngen::verify::{cosimulate, Stress};

fn run(
    model: &Model,
    hw: &HwConfig,
    n: usize,
    seed: u64,
    debug: bool,
) -> bnngen::verify::SimReport {
    let plan = set_folding(model, hw).unwrap();
    let images: Vec<_> = (0..n)
        .map(|i| random_image(seed * 1000 + i as u64, &model.input))
        .collect();
    let rep = cosimulate(model, &plan, &images, Stress::random(seed), debug, None).unwrap();
    assert!(
        rep.passed(),
        "model {} seed {seed}: timeout={} mismatches={:?} first tap mismatch={:?}",
        model.meta.name,
        rep.timeout,
        rep.mismatches.first(),
        rep.first_tap_mismatch
    );
    eprintln!(
        "{} frames, results {:?}, measured {:?}",
        rep.frames,
        rep.results
            .iter()
            .map(|r| (r.class, r.scores.clone(), r.cycle))
            .collect::<Vec<_>>(),
        rep.measured_cycles_per_frame
    );
    rep
}

#[test]
fn tiny_model_bit_exact_under_backpressure() {
    let model = bnngen::model::load(std::path::Path::new("models/tiny.toml")).unwrap();
    run(&model, &HwConfig::default(), 6, 1, true);
}

fn opts(seed: u64) -> RandomOptions {
    let mut o = RandomOptions::sampled(seed);
    o.front_end = Some(bnngen::model::random::FrontEndChoice::ALL[(seed % 4) as usize]);
    o
}

fn supported(m: &Model) -> bool {
    m.layers
        .iter()
        .all(|l| l.kind.weights().is_none_or(|w| w.kept_tiles() > 0))
}

#[test]
fn random_models_bit_exact() {
    let mut done = 0;
    let mut seed = 100;
    let want: usize = std::env::var("BNN_RANDOM_MODELS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    while done < want {
        seed += 1;
        let m = random_model(seed, &opts(seed));
        if !supported(&m) {
            continue;
        }
        eprintln!(
            "seed {seed}: {}",
            m.layers
                .iter()
                .map(|l| format!("{}:{}->{}", l.kind.tag(), l.input, l.output))
                .collect::<Vec<_>>()
                .join(" ")
        );
        run(&m, &HwConfig::default(), 4, seed, true);
        done += 1;
    }
}
