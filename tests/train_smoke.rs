//! Training smoke test: 2 short epochs (pruning after the first) on 2,000 Fashion-MNIST images with a small net that uses every
//! feature the exporter must get right (minus_one / plus_one / zero padding, stride 2, grouped
//! tiles, pruned tiles, dense in-blocks). The loss must fall and the exported model must give
//! the same scores as the training framework's binarized evaluation graph on every test image.
//! Needs the Debian package `dataset-fashion-mnist` (or BNNGEN_DATA=DIR); fails without it.
#![cfg(feature = "train")]

use bnngen::train::{run, TrainOptions};

const CONFIG: &str = r#"
[meta]
name = "smoke"
[data]
train_subset = 2000
validation = 500
test_subset = 1000
[front_end]
kind = "glt"
levels = 4
[[layers]]
kind = "conv"
name = "c1"
channels = 8
stride = 2
pad_mode = "minus_one"
[[layers]]
kind = "conv"
name = "c2"
channels = 8
pad_mode = "plus_one"
in_blocks = 2
out_blocks = 2
grouped = true
[[layers]]
kind = "conv"
name = "c3"
channels = 16
pad_mode = "zero"
in_blocks = 2
out_blocks = 4
prune = true
[[layers]]
kind = "maxpool"
[[layers]]
kind = "dense"
name = "fc"
features = 32
in_blocks = 4
out_blocks = 2
prune = true
[classifier]
name = "head"
[pruning]
kept_fraction = 0.5
start_epoch = 0
end_epoch = 1
[schedule]
epochs = 2
batch = 50
lr = 0.01
seed = 7
"#;

#[test]
fn one_epoch_trains_and_exports_exactly() {
    let dir = bnngen::train::default_data_dir();
    assert!(
        dir.join("train-images-idx3-ubyte.gz").exists()
            || dir.join("train-images-idx3-ubyte").exists(),
        "Fashion-MNIST not found in {}: install the Debian package dataset-fashion-mnist \
         (apt-get install dataset-fashion-mnist) or set BNNGEN_DATA=DIR",
        dir.display()
    );
    let tmp = std::env::temp_dir().join(format!("bnngen-train-smoke-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let cfg = tmp.join("smoke.train.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let out = tmp.join("smoke.toml");
    let opts = TrainOptions {
        config: cfg,
        output: out.clone(),
        data: Some(dir),
        ..Default::default()
    };
    let (model, report) = run(&opts).unwrap_or_else(|e| panic!("training failed: {e}"));
    assert!(
        report.last_batches_loss < report.first_batches_loss,
        "loss did not fall: first batches {:.4}, last batches {:.4}",
        report.first_batches_loss,
        report.last_batches_loss
    );
    assert_eq!(report.test_images, 1000);
    assert_eq!(
        report.disagreements,
        Some(0),
        "reference model disagrees with the training graph"
    );
    // Pruning happened and pruned tiles are not stored.
    let s = model.summary();
    assert!(s.kept_tiles < s.total_tiles, "no tile was pruned: {s:?}");
    // The written file is the model.
    let back = bnngen::model::load(&out).expect("written model loads");
    assert_eq!(back, model);
    // Clearly better than chance (0.1) after two short epochs of a tiny pruned net.
    assert!(
        report.test_accuracy > 0.2,
        "test accuracy {:.3}",
        report.test_accuracy
    );
    std::fs::remove_dir_all(&tmp).ok();
}

/// With `[sensor]` the net trains on the sensor's codes: the model's input has the sensor's bit
/// depth, a GLT front end's thresholds use that range, a binary front end of M planes is an
/// M-bit ADC (the top M bits), and the export agrees with the training graph on the sensor's
/// test images.
#[test]
fn sensor_data_gives_a_model_with_the_sensors_input_bits() {
    let dir = bnngen::train::default_data_dir();
    let tmp = tempfile::TempDir::new().unwrap();
    let cfg = tmp.path().join("sensor.train.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    let train = |fe: &str, levels: usize| {
        let opts = TrainOptions {
            config: cfg.clone(),
            output: tmp.path().join(format!("{fe}.toml")),
            data: Some(dir.clone()),
            epochs: Some(1),
            train_subset: Some(600),
            test_subset: Some(300),
            overrides: vec![
                "sensor.bits=12".into(),
                format!("front_end.kind={fe}"),
                format!("front_end.levels={levels}"),
                "pruning.end_epoch=1".into(),
            ],
            ..Default::default()
        };
        run(&opts).unwrap_or_else(|e| panic!("{fe} training failed: {e}"))
    };
    let (glt, report) = train("glt", 4);
    assert_eq!(glt.input.bits, 12);
    assert_eq!((report.data.as_str(), report.input_bits), ("sensor", 12));
    assert_eq!(report.disagreements, Some(0));
    assert!(
        report.fe_thresholds.iter().all(|&t| t <= 4095) && report.fe_thresholds[3] > 255,
        "thresholds {:?} are not on the 12-bit scale",
        report.fe_thresholds
    );
    let (adc, report) = train("binary", 5);
    assert_eq!(adc.input.bits, 5, "a 5-bit ADC reads 5-bit codes");
    assert_eq!(report.planes, 5);
    assert_eq!(report.disagreements, Some(0));
}
