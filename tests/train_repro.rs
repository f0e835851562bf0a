//! Reproducibility and resume of `bnngen train` on a small subset (a few seconds):
//! - the same config and seed twice give byte-identical model files;
//! - a run stopped after epoch 1 (`stop_after`) and resumed from its checkpoint (tensors, masks
//!   and Adam's state) writes the same model file as the uninterrupted run;
//! - with `[data.augment]` both hold, and the shifted and mirrored images change the model;
//! - `front_end.init = "quantile"` starts the thresholds at the training pixels' quantiles.
//!
//! Needs the Debian package `dataset-fashion-mnist` (or BNNGEN_DATA=DIR); fails without it.
#![cfg(feature = "train")]

use bnngen::train::{run, run_partial, TrainOptions};
use std::path::{Path, PathBuf};

const CONFIG: &str = r#"
[meta]
name = "repro"
[data]
train_subset = 600
validation = 200
test_subset = 200
[data.augment]
shift = 2
flip = true
[front_end]
kind = "glt"
levels = 4
init = "INIT"
[[layers]]
kind = "conv"
name = "c1"
channels = 8
stride = 2
[[layers]]
kind = "conv"
name = "c2"
channels = 16
in_blocks = 2
out_blocks = 4
prune = true
[[layers]]
kind = "maxpool"
[[layers]]
kind = "dense"
name = "fc"
features = 32
[classifier]
name = "head"
[pruning]
kept_fraction = 0.5
start_epoch = 0
end_epoch = 2
[schedule]
epochs = 2
batch = 50
lr = 0.01
seed = 11
checkpoint = "CKPT"
"#;

fn data_dir() -> PathBuf {
    let dir = bnngen::train::default_data_dir();
    assert!(
        dir.join("train-images-idx3-ubyte.gz").exists()
            || dir.join("train-images-idx3-ubyte").exists(),
        "Fashion-MNIST not found in {}: install the Debian package dataset-fashion-mnist \
         (apt-get install dataset-fashion-mnist) or set BNNGEN_DATA=DIR",
        dir.display()
    );
    dir
}

/// A scratch directory with the config written in it (checkpoint inside it).
fn setup(tag: &str, init: &str) -> (PathBuf, TrainOptions) {
    let tmp = std::env::temp_dir().join(format!("bnngen-train-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let ckpt = tmp.join("run.ckpt.json");
    let text = CONFIG
        .replace("INIT", init)
        .replace("CKPT", &ckpt.display().to_string());
    let cfg = tmp.join("repro.train.toml");
    std::fs::write(&cfg, text).unwrap();
    let opts = TrainOptions {
        config: cfg,
        output: tmp.join("out.toml"),
        data: Some(data_dir()),
        ..Default::default()
    };
    (tmp, opts)
}

fn train_to(opts: &TrainOptions, out: &Path) -> String {
    let opts = TrainOptions {
        output: out.to_path_buf(),
        ..opts.clone()
    };
    let (_, report) = run(&opts).unwrap_or_else(|e| panic!("training failed: {e}"));
    assert_eq!(report.disagreements, Some(0));
    std::fs::read_to_string(out).unwrap()
}

#[test]
fn same_seed_same_model_file_and_resume_is_exact() {
    let (tmp, opts) = setup("repro", "uniform");
    let ckpt = tmp.join("run.ckpt.json");
    let a = train_to(&opts, &tmp.join("a.toml"));
    std::fs::remove_file(&ckpt).unwrap();
    let b = train_to(&opts, &tmp.join("b.toml"));
    assert!(
        a == b,
        "two runs with the same seed wrote different model files"
    );

    // Another seed gives another model (the test can fail).
    std::fs::remove_file(&ckpt).unwrap();
    let other = TrainOptions {
        seed: Some(12),
        ..opts.clone()
    };
    let c = train_to(&other, &tmp.join("c.toml"));
    assert!(a != c, "seed 12 wrote the same model as seed 11");

    // Without augmentation, another model (the draws reach the network).
    std::fs::remove_file(&ckpt).unwrap();
    let plain = tmp.join("plain.train.toml");
    let text = std::fs::read_to_string(&opts.config).unwrap();
    let without = text.replace("[data.augment]\nshift = 2\nflip = true\n", "");
    assert_ne!(text, without);
    std::fs::write(&plain, without).unwrap();
    let plain_opts = TrainOptions {
        config: plain,
        ..opts.clone()
    };
    let e = train_to(&plain_opts, &tmp.join("e.toml"));
    assert!(a != e, "augmentation did not change the model");

    // Stop after epoch 1, then resume: same file as the uninterrupted run.
    std::fs::remove_file(&ckpt).unwrap();
    let first = TrainOptions {
        stop_after: Some(1),
        ..opts.clone()
    };
    let stopped = run_partial(&first).unwrap_or_else(|e| panic!("first half failed: {e}"));
    assert!(stopped.is_none(), "stop_after 1 of 2 epochs still exported");
    let saved = bnngen::train::checkpoint::load(&ckpt).unwrap();
    assert_eq!(saved.epochs_done, 1);
    assert!(
        bnngen::train::checkpoint::optimizer_path(&ckpt).exists(),
        "no optimizer state saved next to the checkpoint"
    );
    let resumed = TrainOptions {
        resume: true,
        ..opts.clone()
    };
    let d = train_to(&resumed, &tmp.join("d.toml"));
    assert!(
        a == d,
        "stopped + resumed run differs from the uninterrupted one"
    );

    // The same with a weight-bit budget, whose kept fraction is taken from the unpruned net:
    // a resumed run must still prune to it (it stopped where the checkpoint left off when
    // the fraction was taken from the restored, pruned net). c2 gets 16 tiles, so that the
    // first pruning step (to floor(0.5625 x 16) = 9) stops short of the budget's 8, and the
    // budget is what `a` stores: the fixed layers and half of c2.
    let kept = bnngen::model::load(&tmp.join("a.toml")).unwrap();
    let bits = bnngen::plan::set_folding(&kept, &Default::default())
        .unwrap()
        .weight_bits;
    let budget = tmp.join("budget.train.toml");
    let text = std::fs::read_to_string(&opts.config).unwrap();
    let with_budget = text
        .replace("kept_fraction = 0.5", &format!("weight_bits = {bits}"))
        .replace("out_blocks = 4", "out_blocks = 8");
    assert_ne!(text, with_budget);
    std::fs::write(&budget, with_budget).unwrap();
    let budget_opts = TrainOptions {
        config: budget,
        ..opts.clone()
    };
    std::fs::remove_file(&ckpt).unwrap();
    let whole = train_to(&budget_opts, &tmp.join("f.toml"));
    std::fs::remove_file(&ckpt).unwrap();
    run_partial(&TrainOptions {
        stop_after: Some(1),
        ..budget_opts.clone()
    })
    .unwrap_or_else(|e| panic!("first half failed: {e}"));
    let again = train_to(
        &TrainOptions {
            resume: true,
            ..budget_opts.clone()
        },
        &tmp.join("g.toml"),
    );
    let stored = |file: &str| {
        let m = bnngen::model::load(&tmp.join(file)).unwrap();
        bnngen::plan::set_folding(&m, &Default::default())
            .unwrap()
            .weight_bits
    };
    assert_eq!(stored("f.toml"), bits, "the budget run missed its budget");
    assert_eq!(
        stored("g.toml"),
        stored("f.toml"),
        "the resumed budget run pruned to another size"
    );
    assert!(
        again == whole,
        "stopped + resumed budget run differs from the uninterrupted one"
    );
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn quantile_init_starts_at_the_pixel_quantiles() {
    // Thresholds of a run with (almost) no learning stay at the quantile start.
    let (tmp, opts) = setup("quantile", "quantile");
    let text = std::fs::read_to_string(&opts.config)
        .unwrap()
        .replace("lr = 0.01", "lr = 0.0000001");
    std::fs::write(&opts.config, text).unwrap();
    let out = tmp.join("q.toml");
    let opts = TrainOptions {
        output: out.clone(),
        ..opts
    };
    let (model, _) = run(&opts).unwrap_or_else(|e| panic!("training failed: {e}"));
    // Quantiles of the same 600 training images, computed here independently.
    let images =
        bnngen::input::idx::read_idx_images(&data_dir().join("train-images-idx3-ubyte.gz"))
            .unwrap();
    let mut px: Vec<u16> = images[..600]
        .iter()
        .flat_map(|im| im.pixels.iter().copied())
        .collect();
    px.sort_unstable();
    let n = px.len();
    let mut want = Vec::new();
    for k in 0..4usize {
        // Smallest T with at least (k+1)/5 of the pixels below T.
        let need = ((k + 1) as f64 / 5.0 * n as f64).ceil() as usize;
        let t = (1..=255u32)
            .find(|&t| px.partition_point(|&p| (p as u32) < t) >= need)
            .unwrap();
        let prev: u32 = want.last().copied().unwrap_or(0);
        want.push(t.max(prev + 1));
    }
    let got = match &model.front_end {
        bnngen::model::FrontEnd::Thermometer(t) => t.thresholds[0].clone(),
        other => panic!("expected a thermometer front end, found {other:?}"),
    };
    assert_eq!(got, want, "exported thresholds are not the pixel quantiles");
    std::fs::remove_dir_all(&tmp).ok();
}
