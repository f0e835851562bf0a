//! Differential co-simulation: generated RTL in Verilator vs the reference model, as integers.
//!
//! The random models and the foldings run with `GenOptions::rw_poison`: a line-buffer read
//! at the address being written returns the inverted word, so their passing also shows
//! that the line buffers' `no_rw_check` promise holds on every feature. `tiny` runs the RTL
//! exactly as shipped.

use bnngen::model::Model;
use bnngen::plan::{set_folding, HwConfig};
use bnngen::random::{random_image, random_model, RandomOptions};
use bnngen::rtl::GenOptions;
use bnngen::verify::{cosimulate_opts, Stress};

mod common;

fn run(
    model: &Model,
    hw: &HwConfig,
    n: usize,
    seed: u64,
    debug: bool,
    rw_poison: bool,
) -> bnngen::verify::SimReport {
    let plan = set_folding(model, hw).unwrap();
    let images: Vec<_> = (0..n)
        .map(|i| random_image(seed * 1000 + i as u64, &model.input))
        .collect();
    let opts = GenOptions {
        debug,
        rw_poison,
        ..Default::default()
    };
    let rep = cosimulate_opts(model, &plan, &images, Stress::random(seed), opts, None).unwrap();
    assert!(
        rep.passed(),
        "model {} seed {seed}: {}",
        model.meta.name,
        rep.failure()
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
    run(&model, &HwConfig::default(), 6, 1, true, false);
}

fn opts(seed: u64) -> RandomOptions {
    let mut o = RandomOptions::sampled(seed);
    o.front_end = Some(bnngen::random::FrontEndChoice::ALL[(seed % 4) as usize]);
    o
}

/// Models the RTL generator accepts with their own plan (`rtl::GenError`).
fn supported(m: &Model) -> bool {
    let plan = set_folding(m, &HwConfig::default()).unwrap();
    bnngen::rtl::generate(m, &plan, GenOptions::default()).is_ok()
}

/// Features a model exercises, for the coverage check of the differential test.
fn features(m: &Model) -> Vec<String> {
    use bnngen::model::{FrontEnd, LayerKind};
    let mut f = Vec::new();
    match &m.front_end {
        FrontEnd::Binary => f.push("fe:binary".to_string()),
        FrontEnd::Thermometer(t) => {
            f.push(format!(
                "fe:{:?}:{}",
                t.kind,
                if t.shared { "shared" } else { "per-channel" }
            ));
            f.push(format!(
                "M:{}",
                if t.levels == 1 {
                    "1"
                } else if t.levels >= 8 {
                    ">=8"
                } else {
                    "2..7"
                }
            ));
        }
    }
    for l in &m.layers {
        match &l.kind {
            LayerKind::Conv(c) => {
                f.push(format!("stride:{}", c.stride));
                if c.padding > 0 {
                    f.push(format!("pad:{}", c.pad_mode.as_str()));
                }
            }
            LayerKind::MaxPool(_) => f.push("maxpool".into()),
            LayerKind::Residual(r) => f.push(format!("residual:{}", r.op.as_str())),
            LayerKind::Dense(_) => f.push("dense".into()),
            LayerKind::Classifier(_) => {}
        }
        if let Some(w) = l.kind.weights() {
            if (0..w.out_blocks).any(|ob| w.kept_in_blocks(ob) == 0) {
                f.push("pruned-out-block".into());
            }
            if w.in_blocks > 1 && w.mask.iter().any(|k| !k) {
                f.push("block-mask".into());
            }
        }
    }
    if m.input.height % 2 == 1 || m.input.width % 2 == 1 {
        f.push("odd-size".into());
    }
    f
}

#[test]
fn random_models_bit_exact() {
    use std::collections::BTreeSet;
    let want: usize = std::env::var("BNN_RANDOM_MODELS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let required = [
        "fe:binary",
        "fe:Glt:shared",
        "fe:Glt:per-channel",
        "fe:Uniform:shared",
        "M:1",
        "M:>=8",
        "stride:1",
        "stride:2",
        "pad:minus_one",
        "pad:plus_one",
        "pad:zero",
        "maxpool",
        "dense",
        "residual:or",
        "residual:and",
        "residual:xor",
        "residual:xnor",
        "pruned-out-block",
        "block-mask",
        "odd-size",
    ];
    // Pick models: the first `want` supported seeds, then more only while they add coverage.
    let mut chosen = Vec::new();
    let mut seen = BTreeSet::new();
    let mut seed = 100;
    while seed < 2000 && (chosen.len() < want || !required.iter().all(|r| seen.contains(*r))) {
        seed += 1;
        let m = random_model(seed, &opts(seed));
        if !supported(&m) {
            continue;
        }
        let f = features(&m);
        if chosen.len() >= want
            && f.iter()
                .all(|x| seen.contains(x) || !required.contains(&x.as_str()))
        {
            continue;
        }
        seen.extend(f);
        chosen.push((seed, m));
    }
    let models: Vec<&Model> = chosen.iter().map(|(_, m)| m).collect();
    let share = common::input_dependence("co-simulated random models", &models);
    assert!(
        share >= 0.85,
        "the differential test has too little power: {share}"
    );
    let missing: Vec<_> = required.iter().filter(|r| !seen.contains(**r)).collect();
    assert!(missing.is_empty(), "no random model covers {missing:?}");
    assert!(chosen.len() >= 30.min(want));
    for (seed, m) in &chosen {
        eprintln!(
            "seed {seed}: {}",
            m.layers
                .iter()
                .map(|l| format!("{}:{}->{}", l.kind.tag(), l.input, l.output))
                .collect::<Vec<_>>()
                .join(" ")
        );
        run(m, &HwConfig::default(), 4, *seed, true, true);
    }
    eprintln!("{} models, coverage {:?}", chosen.len(), seen);
}

#[test]
fn foldings_of_one_model_agree() {
    use bnngen::plan::Fold;
    let model = bnngen::model::load(std::path::Path::new("models/tiny.toml")).unwrap();
    let mut explicit = HwConfig {
        popcount_stages: Some(0),
        ..HwConfig::default()
    };
    for (l, pe, simd) in [
        ("conv1", 1, 1),
        ("conv2", 1, 2),
        ("fc1", 4, 1),
        ("head", 3, 2),
    ] {
        explicit.layers.insert(l.into(), Fold::lanes(pe, simd));
    }
    let configs = [
        HwConfig {
            fps: Some(1.0),
            ..HwConfig::default()
        },
        HwConfig {
            fps: Some(1e8 / 3000.0),
            popcount_stages: Some(2),
            ..HwConfig::default()
        },
        HwConfig {
            front_end: bnngen::plan::Placement::Sensor,
            popcount_stages: Some(3),
            ..HwConfig::default()
        },
        explicit,
    ];
    for (i, hw) in configs.iter().enumerate() {
        run(&model, hw, 5, 40 + i as u64, false, true);
    }
}

/// Every memory the design writes (line buffers, residual skip FIFOs) carries `no_rw_check`,
/// and `rw_poison` adds one collision mux per such memory and nothing to the shipped RTL, so
/// the poisoned runs above test the claim.
#[test]
fn written_memories_promise_no_read_during_write() {
    use bnngen::model::LayerKind;
    let tiny = bnngen::model::load(std::path::Path::new("models/tiny.toml")).unwrap();
    let residual = (101..2000)
        .map(|seed| random_model(seed, &opts(seed)))
        .find(|m| {
            supported(m)
                && m.layers
                    .iter()
                    .any(|l| matches!(l.kind, LayerKind::Residual(_)))
        })
        .expect("a random model with a residual");
    for model in [&tiny, &residual] {
        let plan = set_folding(model, &HwConfig::default()).unwrap();
        let text = |rw_poison| {
            let opts = GenOptions {
                rw_poison,
                ..Default::default()
            };
            let d = bnngen::rtl::generate(model, &plan, opts).unwrap();
            bnngen::rtl::render(&d)
                .into_iter()
                .map(|(_, t)| t)
                .collect::<Vec<_>>()
                .join("\n")
        };
        let (shipped, poisoned) = (text(false), text(true));
        // Memory declarations `reg [w:0] name [0:d];`: ROMs are filled by an `initial` block
        // (`name[0] = ...`), every other memory is written and must carry the attribute.
        let decls: Vec<&str> = shipped
            .lines()
            .filter(|l| l.contains("reg ") && l.trim_end().ends_with("];") && l.contains(" [0:"))
            .collect();
        let mut written = 0;
        for d in &decls {
            let name = d.rsplit_once(" [0:").unwrap().0.rsplit(' ').next().unwrap();
            if !shipped.contains(&format!("    {name}[0] = ")) {
                assert!(d.contains("(* no_rw_check *)"), "{d}");
                written += 1;
            }
        }
        assert!(shipped.contains("lbuf [0:"));
        if std::ptr::eq(model, &residual) {
            assert!(
                shipped.contains("_fifo_"),
                "the residual model has a skip FIFO"
            );
        }
        assert!(!shipped.contains("(waddr == raddr)") && !shipped.contains("(wp == rp)"));
        let muxes =
            poisoned.matches("(waddr == raddr)").count() + poisoned.matches("(wp == rp)").count();
        assert_eq!(muxes, written, "one collision mux per written memory");
    }
}

/// Fully pruned layers (their stage issues a constant word with a window stage's timing)
/// agree with the reference model as integers on corner-case random models, under random
/// input gaps and back-pressure, with every layer's stream tapped. The models hold fully
/// pruned layers first, in the middle, as the classifier and read by a residual.
#[test]
fn fully_pruned_layers_bit_exact() {
    let models = common::pruned_random_models(200, 16);
    let (mut first, mut middle, mut head, mut skipped) = (0, 0, 0, 0);
    for (seed, m) in &models {
        let n = m.layers.len();
        for (i, l) in m.layers.iter().enumerate() {
            if !l.kind.fully_pruned() {
                continue;
            }
            match i {
                0 => first += 1,
                i if i + 1 == n => head += 1,
                _ => middle += 1,
            }
            let read_by_residual = m.layers.iter().any(
                |r| matches!(&r.kind, bnngen::model::LayerKind::Residual(res) if res.with == i),
            );
            skipped += read_by_residual as usize;
        }
        eprintln!(
            "seed {seed}: {}",
            (m.layers.iter())
                .map(|l| format!(
                    "{}{}",
                    l.kind.tag(),
                    if l.kind.fully_pruned() {
                        "(pruned)"
                    } else {
                        ""
                    }
                ))
                .collect::<Vec<_>>()
                .join(" ")
        );
        run(m, &HwConfig::default(), 4, *seed, true, true);
    }
    eprintln!("fully pruned: {first} first, {middle} middle, {head} classifier, {skipped} read by a residual");
    assert!(
        first >= 1 && middle >= 1 && head >= 1 && skipped >= 1,
        "{first} {middle} {head} {skipped}"
    );
}

/// Several kernel taps per cycle (`Fold::taps`): random models, every MAC layer at a legal
/// tap count above 1 drawn from the seed (part of a kernel row, whole rows, the whole window)
/// with random PE and SIMD, bit-exact under random stalls and with `rw_poison`, so each
/// line-buffer copy keeps the no-read-during-write promise too. The draws must cover taps
/// above 1 on conv (each pad mode), dense and classifier layers.
#[test]
fn taps_foldings_bit_exact() {
    use bnngen::model::LayerKind;
    use bnngen::plan::{tap_counts, Fold};
    use std::collections::BTreeSet;
    let mut seen = BTreeSet::new();
    let mut runs = 0;
    let mut seed = 500;
    while runs < 12 && seed < 3000 {
        seed += 1;
        let m = random_model(seed, &opts(seed));
        if !supported(&m) {
            continue;
        }
        let mut hw = HwConfig::default();
        let mut rng = bnngen::prng::SplitMix64::new(seed);
        let mut new = Vec::new();
        for l in &m.layers {
            let Some(w) = l.kind.weights() else {
                continue;
            };
            let divs = |n: usize| (1..=n).filter(|d| n.is_multiple_of(*d)).collect::<Vec<_>>();
            let tc = tap_counts(w.kernel_h, w.kernel_w);
            let taps = if tc.len() > 1 { rng.pick(&tc[1..]) } else { 1 };
            let pe = rng.pick(&divs(w.out_per_block()));
            let simd = rng.pick(&divs(w.in_per_block()));
            hw.layers.insert(l.name.clone(), Fold { pe, simd, taps });
            if taps > 1 {
                let tag = match &l.kind {
                    LayerKind::Conv(c) if c.padding > 0 => format!("conv:{}", c.pad_mode.as_str()),
                    k => k.tag().to_string(),
                };
                new.push(tag);
            }
        }
        if new.iter().all(|t| seen.contains(t)) && runs >= 6 {
            continue;
        }
        seen.extend(new);
        hw.popcount_stages = Some((seed % 3) as u32);
        eprintln!("seed {seed}: {:?}", hw.layers);
        run(&m, &hw, 3, seed, false, true);
        runs += 1;
    }
    for want in [
        "conv:zero",
        "conv:minus_one",
        "conv:plus_one",
        "dense",
        "classifier",
    ] {
        assert!(
            seen.contains(want),
            "no draw took taps > 1 on {want}: {seen:?}"
        );
    }
}
