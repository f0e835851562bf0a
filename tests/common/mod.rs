//! Helpers shared by integration tests (each test binary that needs them says `mod common;`).

/// `n / 4` hex digits from a fixed LCG seeded with `salt`: weight strings for hand-written
/// test models that are arbitrary but the same on every run.
#[allow(dead_code)]
pub fn pattern_hex(n: usize, salt: u64) -> String {
    let mut x = salt;
    (0..n / 4)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            char::from_digit(((x >> 60) & 15) as u32, 16).unwrap()
        })
        .collect()
}

/// Whether a model's scores depend on its input: the reference scores differ across five
/// seeded random images. A model that computes a constant agrees with almost any
/// implementation, so differential tests report the share of their models that pass this.
#[allow(dead_code)]
pub fn depends_on_input(model: &bnngen::model::Model, seed: u64) -> bool {
    let engine = bnngen::reference::Engine::new(model);
    let scores: Vec<Vec<i64>> = (0..5)
        .map(|i| {
            let img = bnngen::random::random_image(seed * 5 + i, &model.input);
            engine.infer(&img).scores
        })
        .collect();
    scores.iter().any(|s| *s != scores[0])
}

/// Print and return the share of `models` whose scores depend on the input.
#[allow(dead_code)]
pub fn input_dependence(what: &str, models: &[&bnngen::model::Model]) -> f64 {
    let live = models
        .iter()
        .enumerate()
        .filter(|(i, m)| depends_on_input(m, *i as u64))
        .count();
    let share = live as f64 / models.len().max(1) as f64;
    eprintln!(
        "{what}: {live} of {} models ({:.1}%) give scores that depend on the input",
        models.len(),
        100.0 * share
    );
    share
}

/// The first `n` random models from seed `after + 1` on (sampled options, the front end
/// cycling with the seed) that the RTL generator accepts, with their seeds.
#[allow(dead_code)]
pub fn rtl_random_models(after: u64, n: usize) -> Vec<(u64, bnngen::model::Model)> {
    use bnngen::plan::{set_folding, HwConfig};
    use bnngen::random::{random_model, FrontEndChoice, RandomOptions};
    let mut models = Vec::new();
    let mut seed = after;
    while models.len() < n {
        seed += 1;
        let mut o = RandomOptions::sampled(seed);
        o.front_end = Some(FrontEndChoice::ALL[(seed % 4) as usize]);
        let m = random_model(seed, &o);
        let plan = set_folding(&m, &HwConfig::default()).unwrap();
        if bnngen::rtl::generate(&m, &plan, Default::default()).is_ok() {
            models.push((seed, m));
        }
    }
    models
}

/// The first `n` corner-case random models (`RandomOptions::corner_cases`, sampled options,
/// the front end cycling with the seed) from seed `after + 1` on that hold a fully pruned
/// layer, with their seeds.
#[allow(dead_code)]
pub fn pruned_random_models(after: u64, n: usize) -> Vec<(u64, bnngen::model::Model)> {
    use bnngen::random::{random_model, FrontEndChoice, RandomOptions};
    (after + 1..)
        .map(|seed| {
            let mut o = RandomOptions::sampled(seed);
            o.front_end = Some(FrontEndChoice::ALL[(seed % 4) as usize]);
            o.corner_cases = true;
            (seed, random_model(seed, &o))
        })
        .filter(|(_, m)| m.layers.iter().any(|l| l.kind.fully_pruned()))
        .take(n)
        .collect()
}

/// The project venv's python, asserted to import qonnx and onnxruntime (the QONNX tests fail,
/// never skip, without them).
#[allow(dead_code)]
pub fn qonnx_python() -> std::path::PathBuf {
    let py = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let ok = std::process::Command::new(&py)
        .args(["-c", "import qonnx, onnxruntime"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{} cannot import qonnx and onnxruntime: run scripts/setup.sh (it installs the pinned \
         versions into the project .venv)",
        py.display()
    );
    py
}

#[allow(dead_code)]
/// `s_axis_tdata` of every pixel (digital front end: bit c*B + k is bit k of channel c).
pub fn frame_words(model: &bnngen::model::Model, img: &bnngen::model::Image) -> Vec<Vec<bool>> {
    let (b, ch) = (model.input.bits as usize, model.input.channels);
    let mut f = Vec::new();
    for y in 0..model.input.height {
        for x in 0..model.input.width {
            let mut w = vec![false; b * ch];
            for c in 0..ch {
                for k in 0..b {
                    w[c * b + k] = img.pixel(y, x, c) >> k & 1 == 1;
                }
            }
            f.push(w);
        }
    }
    f
}

/// The docs' `fm6` (`tests/fixtures/models/fm6.toml`, written by `bnngen random-model --seed 6
/// --height 28 --width 28 --layers 4 --max-channels 32` before the generator changed), folded
/// for 48 MHz and 300 frames/s: weight ROMs in block RAM on both families, among them a
/// 13,104-word one-bit head ROM.
#[allow(dead_code)]
pub fn fm6() -> (bnngen::model::Model, bnngen::plan::Plan) {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models/fm6.toml");
    let m = bnngen::model::load(&path).unwrap();
    let hw = bnngen::plan::HwConfig {
        clock_mhz: 48.0,
        fps: Some(300.0),
        ..bnngen::plan::HwConfig::default()
    };
    let p = bnngen::plan::set_folding(&m, &hw).unwrap();
    (m, p)
}
