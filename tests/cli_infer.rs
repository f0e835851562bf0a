//! `bnngen infer` through the binary: PGM, PNG and gzip IDX inputs written by the tests,
//! accuracy with labels checked against the library's reference model, input errors with
//! exit 2, and the real Fashion-MNIST test set.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bnngen::input::Image;
use bnngen::model::{self, Model};
use bnngen::reference::{self, Engine};
use serde_json::Value;

fn bnngen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bnngen"))
        .args(args)
        .output()
        .expect("run bnngen")
}

fn stdout(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr_of_failure(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(2),
        "stdout: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(o.stdout.is_empty());
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// A scratch folder, removed when the returned guard drops (also when the test fails).
fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("bnngen-cli-{name}-"))
        .tempdir()
        .expect("create a scratch folder")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `models/tiny.toml` with 8-bit pixels (its thresholds 3, 7, 12 fit both depths).
fn tiny8(dir: &Path) -> (PathBuf, Model) {
    let text = std::fs::read_to_string("models/tiny.toml")
        .unwrap()
        .replace("bits = 4", "bits = 8");
    let path = dir.join("tiny8.toml");
    std::fs::write(&path, &text).unwrap();
    (path.clone(), model::parse(&text, "tiny8").unwrap())
}

/// A deterministic pseudo-random image (xorshift), codes below `1 << bits`.
fn image(seed: u64, h: usize, w: usize, bits: u32) -> Image {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let pixels = (0..h * w)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % (1 << bits)) as u16
        })
        .collect();
    Image {
        height: h,
        width: w,
        channels: 1,
        pixels,
    }
}

fn pgm(img: &Image, maxval: u16) -> Vec<u8> {
    let mut b = format!("P5\n{} {}\n{maxval}\n", img.width, img.height).into_bytes();
    b.extend(img.pixels.iter().map(|&p| p as u8));
    b
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn idx_images(imgs: &[Image]) -> Vec<u8> {
    let mut b = 0x0803u32.to_be_bytes().to_vec();
    for d in [imgs.len(), imgs[0].height, imgs[0].width] {
        b.extend((d as u32).to_be_bytes());
    }
    for i in imgs {
        b.extend(i.pixels.iter().map(|&p| p as u8));
    }
    b
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut b = 0x0801u32.to_be_bytes().to_vec();
    b.extend((labels.len() as u32).to_be_bytes());
    b.extend_from_slice(labels);
    b
}

#[test]
fn pgm_with_raw_4_bit_codes_matches_the_reference() {
    let tmp = scratch("infer-pgm");
    let dir = tmp.path();
    let m = model::load(Path::new("models/tiny.toml")).unwrap();
    let img = image(1, 6, 6, 4);
    let f = dir.join("a.pgm");
    std::fs::write(&f, pgm(&img, 15)).unwrap();
    let p = reference::infer(&m, &img);

    let text = stdout(&bnngen(&["infer", "models/tiny.toml", s(&f)]));
    let scores: Vec<String> = p.scores.iter().map(|v| v.to_string()).collect();
    let name = &m.meta.classes[p.class];
    assert_eq!(
        text,
        format!(
            "{}: class {} ({name})  scores [{}]\n",
            f.display(),
            p.class,
            scores.join(", ")
        )
    );

    let j: Value = serde_json::from_str(&stdout(&bnngen(&[
        "infer",
        "models/tiny.toml",
        s(&f),
        "--json",
    ])))
    .unwrap();
    assert_eq!(j["format_version"], 1);
    assert_eq!(j["images"], 1);
    assert_eq!(j["predictions"][0]["index"], 0);
    assert_eq!(j["predictions"][0]["class"], p.class);
    assert_eq!(j["predictions"][0]["class_name"], name.as_str());
    assert_eq!(j["predictions"][0]["scores"], serde_json::json!(p.scores));
    assert!(j.get("accuracy").is_none());
}

#[test]
fn png_8_bit_matches_the_reference() {
    let tmp = scratch("infer-png");
    let dir = tmp.path();
    let (model_path, m) = tiny8(dir);
    let img = image(2, 6, 6, 8);
    let f = dir.join("a.png");
    let buf =
        image::GrayImage::from_raw(6, 6, img.pixels.iter().map(|&p| p as u8).collect()).unwrap();
    buf.save(&f).unwrap();
    let j: Value = serde_json::from_str(&stdout(&bnngen(&[
        "infer",
        s(&model_path),
        s(&f),
        "--json",
    ])))
    .unwrap();
    assert_eq!(
        j["predictions"][0]["scores"],
        serde_json::json!(reference::infer(&m, &img).scores)
    );
}

#[test]
fn gzip_idx_with_labels_reports_the_exact_accuracy() {
    let tmp = scratch("infer-idx");
    let dir = tmp.path();
    let (model_path, m) = tiny8(dir);
    let imgs: Vec<Image> = (0..25).map(|i| image(100 + i, 6, 6, 8)).collect();
    let preds: Vec<usize> = imgs.iter().map(|i| reference::infer(&m, i).class).collect();
    // Even images labelled with the prediction, odd ones with another class: 13 of 25 right.
    let labels: Vec<u8> = preds
        .iter()
        .enumerate()
        .map(|(i, &p)| if i % 2 == 0 { p } else { (p + 1) % 3 } as u8)
        .collect();
    let (fi, fl) = (dir.join("images.idx3.bin"), dir.join("labels.gz"));
    std::fs::write(&fi, gzip(&idx_images(&imgs))).unwrap();
    std::fs::write(&fl, gzip(&idx_labels(&labels))).unwrap();

    let text = stdout(&bnngen(&[
        "infer",
        s(&model_path),
        s(&fi),
        "--labels",
        s(&fl),
    ]));
    assert!(
        text.starts_with("classified 25 images from 1 file"),
        "{text}"
    );
    assert!(text.ends_with("accuracy: 13/25 (52.00%)\n"), "{text}");
    let counted: usize = (0..3)
        .map(|c| preds.iter().filter(|&&p| p == c).count())
        .max()
        .unwrap();
    assert!(text.contains(&format!(": {counted}")), "{text}");

    let j: Value = serde_json::from_str(&stdout(&bnngen(&[
        "infer",
        s(&model_path),
        s(&fi),
        "--labels",
        s(&fl),
        "--json",
    ])))
    .unwrap();
    let list = j["predictions"].as_array().unwrap();
    assert_eq!(list.len(), 25);
    for (i, (jp, img)) in list.iter().zip(&imgs).enumerate() {
        let p = reference::infer(&m, img);
        assert_eq!(jp["index"], i);
        assert_eq!(jp["class"], p.class);
        assert_eq!(jp["scores"], serde_json::json!(p.scores));
        assert_eq!(jp["label"], labels[i]);
    }
    assert_eq!(j["accuracy"]["correct"], 13);
    assert_eq!(j["accuracy"]["total"], 25);

    // --limit keeps the first N images (and their labels); --verbose prints every line.
    let text = stdout(&bnngen(&[
        "infer",
        s(&model_path),
        s(&fi),
        "--labels",
        s(&fl),
        "--limit",
        "4",
        "--verbose",
    ]));
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(
        text.starts_with(&format!("{}[0]: class", fi.display())),
        "{text}"
    );
    assert!(text.ends_with("accuracy: 2/4 (50.00%)\n"), "{text}");

    // The same set uncompressed gives the same answer.
    let plain = dir.join("images-plain");
    std::fs::write(&plain, idx_images(&imgs)).unwrap();
    let a = bnngen(&["infer", s(&model_path), s(&plain), "--json"]);
    let b = bnngen(&["infer", s(&model_path), s(&fi), "--json"]);
    let strip = |o: &Output| {
        let mut v: Value = serde_json::from_slice(&o.stdout).unwrap();
        for p in v["predictions"].as_array_mut().unwrap() {
            p.as_object_mut().unwrap().remove("file");
        }
        v
    };
    assert_eq!(strip(&a), strip(&b));
}

#[test]
fn input_errors_exit_2_and_name_file_image_and_field() {
    let tmp = scratch("infer-bad");
    let dir = tmp.path();
    let (model8, _) = tiny8(dir);
    let cases: Vec<(PathBuf, Vec<u8>, &str, Vec<&str>)> = vec![
        // An 8-bit image for the 4-bit model: refused, not rescaled.
        (
            PathBuf::from("models/tiny.toml"),
            pgm(&image(1, 6, 6, 8), 255),
            "depth.pgm",
            vec!["8-bit", "4-bit"],
        ),
        (
            model8.clone(),
            pgm(&image(1, 5, 6, 8), 255),
            "short.pgm",
            vec!["image 0", "height is 5", "expects 6"],
        ),
        (
            PathBuf::from("models/tiny.toml"),
            b"P5\n6 6\n15\n\x00\x01".to_vec(),
            "trunc.pgm",
            vec!["truncated"],
        ),
        (
            model8.clone(),
            {
                let mut imgs: Vec<Image> = (0..3).map(|i| image(i, 6, 6, 8)).collect();
                imgs[2] = image(9, 6, 6, 8);
                let mut b = idx_images(&imgs);
                b.truncate(b.len() - 1);
                gzip(&b)
            },
            "trunc.idx.gz",
            vec!["truncated", "3 x 6 x 6"],
        ),
        (
            model8.clone(),
            {
                let mut b = idx_images(&[image(1, 6, 6, 8)]);
                b[3] = 0x02;
                b
            },
            "magic.idx",
            vec!["bad IDX magic 0x00000802"],
        ),
        (
            model8.clone(),
            {
                let mut b = idx_images(&[image(1, 6, 6, 8)]);
                b[3] = 0x01;
                b
            },
            "labels-as-images.idx",
            vec!["bad IDX magic 0x00000801"],
        ),
        (
            model8.clone(),
            vec![0x1f, 0x8b, 1, 2, 3],
            "broken.gz",
            vec!["gzip"],
        ),
    ];
    for (model_path, bytes, name, needles) in cases {
        let f = dir.join(name);
        std::fs::write(&f, bytes).unwrap();
        let err = stderr_of_failure(&bnngen(&["infer", s(&model_path), s(&f)]));
        assert!(err.contains(s(&f)), "{name}: {err}");
        for n in needles {
            assert!(err.contains(n), "{name}: {err:?} lacks {n:?}");
        }
    }

    // A pixel above the model's range inside an otherwise fine 16-bit PGM for a 12-bit model.
    let text = std::fs::read_to_string("models/tiny.toml")
        .unwrap()
        .replace("bits = 4", "bits = 12");
    let m12 = dir.join("tiny12.toml");
    std::fs::write(&m12, text).unwrap();
    let mut b = b"P5\n6 6\n65535\n".to_vec();
    for i in 0..36u16 {
        b.extend((if i == 8 { 5000 } else { i }).to_be_bytes());
    }
    let f = dir.join("wide.pgm");
    std::fs::write(&f, b).unwrap();
    let err = stderr_of_failure(&bnngen(&["infer", s(&m12), s(&f)]));
    assert!(
        err.contains("image 0: pixel (y 1, x 2, channel 0) is 5000"),
        "{err}"
    );

    // Labels that do not fit.
    let fi = dir.join("two.idx");
    std::fs::write(&fi, idx_images(&[image(1, 6, 6, 8), image(2, 6, 6, 8)])).unwrap();
    for (labels, needle) in [
        (&[0u8][..], "1 labels for 2 images"),
        (&[0, 3], "label 1 is 3"),
    ] {
        let fl = dir.join("labels.idx");
        std::fs::write(&fl, idx_labels(labels)).unwrap();
        let err = stderr_of_failure(&bnngen(&["infer", s(&model8), s(&fi), "--labels", s(&fl)]));
        assert!(err.contains(needle) && err.contains(s(&fl)), "{err}");
    }
}

#[test]
fn fashion_mnist_test_set_through_a_28x28_model() {
    let data = Path::new("/usr/share/datasets/fashion-mnist");
    let images = data.join("t10k-images-idx3-ubyte.gz");
    let labels = data.join("t10k-labels-idx1-ubyte.gz");
    assert!(
        images.exists() && labels.exists(),
        "Fashion-MNIST is missing at {}: run scripts/setup.sh (Debian package dataset-fashion-mnist)",
        data.display()
    );
    let tmp = scratch("infer-fashion");
    let dir = tmp.path();
    let model_path = dir.join("fm.toml");
    let out = bnngen(&[
        "random-model",
        "--seed",
        "11",
        "--height",
        "28",
        "--width",
        "28",
        "--channels",
        "1",
        "--bits",
        "8",
        "--classes",
        "10",
        "--layers",
        "4",
        "-o",
        s(&model_path),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&bnngen(&[
        "infer",
        s(&model_path),
        s(&images),
        "--labels",
        s(&labels),
    ]));

    // The same count, computed here through the library.
    let m = model::load(&model_path).unwrap();
    let engine = Engine::new(&m);
    let imgs = bnngen::input::read_idx_images(&images).unwrap();
    let truth = bnngen::input::read_idx_labels(&labels).unwrap();
    assert_eq!((imgs.len(), truth.len()), (10000, 10000));
    let correct = imgs
        .iter()
        .zip(&truth)
        .filter(|(i, &l)| engine.infer(i).class == usize::from(l))
        .count();
    assert!(
        text.starts_with("classified 10000 images from 1 file"),
        "{text}"
    );
    let pct = format!("{:.2}", 100.0 * correct as f64 / 10000.0);
    assert!(
        text.ends_with(&format!("accuracy: {correct}/10000 ({pct}%)\n")),
        "{text}"
    );
}

#[test]
fn rgb_ppm_and_16_bit_png_match_the_reference() {
    use bnngen::random::{random_image, random_model, RandomOptions};
    let tmp = scratch("infer-rgb");
    let dir = tmp.path();
    for (bits, seed) in [(8u32, 21u64), (12, 22)] {
        let opts = RandomOptions {
            height: 5,
            width: 4,
            channels: 3,
            bits,
            ..RandomOptions::default()
        };
        let m = random_model(seed, &opts);
        let model_path = dir.join(format!("rgb{bits}.toml"));
        std::fs::write(&model_path, model::to_toml(&m)).unwrap();
        let img = random_image(seed, &m.input);
        let f = if bits == 8 {
            let f = dir.join("a.ppm");
            let mut b = b"P6\n4 5\n255\n".to_vec();
            b.extend(img.pixels.iter().map(|&p| p as u8));
            std::fs::write(&f, b).unwrap();
            f
        } else {
            let f = dir.join("a.png");
            let buf: image::ImageBuffer<image::Rgb<u16>, Vec<u16>> =
                image::ImageBuffer::from_raw(4, 5, img.pixels.clone()).unwrap();
            buf.save(&f).unwrap();
            f
        };
        let j: Value = serde_json::from_str(&stdout(&bnngen(&[
            "infer",
            s(&model_path),
            s(&f),
            "--json",
        ])))
        .unwrap();
        let p = reference::infer(&m, &img);
        assert_eq!(j["predictions"][0]["class"], p.class, "{bits} bits");
        assert_eq!(
            j["predictions"][0]["scores"],
            serde_json::json!(p.scores),
            "{bits} bits"
        );
    }
}

/// `--sensor`: image i of the file is what the sensor delivers for test image i
/// (`SensorConfig::apply` with `Stream::Test` and index i), checked against the library's
/// sensor model and reference; a sensor whose code depth is not the model's, and a bad sensor
/// file, are exit 2 naming the file.
#[test]
fn sensor_option_passes_images_through_the_sensor_model() {
    use bnngen::sensor::{SensorConfig, Stream};
    let tmp = scratch("infer-sensor");
    let dir = tmp.path();
    // tiny with 10-bit pixels: what a 10-bit sensor delivers.
    let text = std::fs::read_to_string("models/tiny.toml")
        .unwrap()
        .replace("bits = 4", "bits = 10")
        .replace("thresholds = [3, 7, 12]", "thresholds = [40, 200, 700]");
    assert!(
        text.contains("thresholds = [40, 200, 700]"),
        "tiny's thresholds moved"
    );
    let model_path = dir.join("tiny10.toml");
    std::fs::write(&model_path, &text).unwrap();
    let m = model::parse(&text, "tiny10").unwrap();
    let sensor_path = dir.join("sensor.toml");
    std::fs::write(
        &sensor_path,
        "[sensor]\nbits = 10\nread_noise = 2.0\nexposure_stops = [-3.0, 0.0]\nseed = 7\n",
    )
    .unwrap();
    let sensor = SensorConfig::load(&sensor_path).unwrap();
    let imgs: Vec<Image> = (0..12).map(|i| image(300 + i, 6, 6, 8)).collect();
    let fi = dir.join("images.idx.gz");
    std::fs::write(&fi, gzip(&idx_images(&imgs))).unwrap();

    let j: Value = serde_json::from_str(&stdout(&bnngen(&[
        "infer",
        s(&model_path),
        s(&fi),
        "--sensor",
        s(&sensor_path),
        "--json",
    ])))
    .unwrap();
    let list = j["predictions"].as_array().unwrap();
    assert_eq!(list.len(), imgs.len());
    let engine = Engine::new(&m);
    let mut distinct = std::collections::BTreeSet::new();
    for (i, (jp, img)) in list.iter().zip(&imgs).enumerate() {
        let sensed = Image {
            pixels: sensor.apply(&img.pixels, 8, Stream::Test, i as u64),
            ..img.clone()
        };
        assert_ne!(sensed.pixels, img.pixels);
        let p = engine.infer(&sensed);
        assert_eq!(jp["class"], p.class, "image {i}");
        assert_eq!(jp["scores"], serde_json::json!(p.scores), "image {i}");
        distinct.insert(p.scores.clone());
    }
    assert!(distinct.len() > 1, "the scores should vary across images");

    // Without the sensor, the 8-bit file does not fit the 10-bit model.
    let err = stderr_of_failure(&bnngen(&["infer", s(&model_path), s(&fi)]));
    assert!(err.contains("8-bit pixels"), "{err}");
    // A 12-bit sensor does not fit it either.
    let s12 = dir.join("sensor12.toml");
    std::fs::write(&s12, "[sensor]\nbits = 12\n").unwrap();
    let err = stderr_of_failure(&bnngen(&[
        "infer",
        s(&model_path),
        s(&fi),
        "--sensor",
        s(&s12),
    ]));
    assert!(
        err.contains("12-bit codes") && err.contains("10-bit"),
        "{err}"
    );
    // A bad sensor file names itself and the field.
    let bad = dir.join("bad-sensor.toml");
    std::fs::write(&bad, "[sensor]\nbits = 10\nfull_wel = 100.0\n").unwrap();
    let err = stderr_of_failure(&bnngen(&[
        "infer",
        s(&model_path),
        s(&fi),
        "--sensor",
        s(&bad),
    ]));
    assert!(
        err.contains("bad-sensor.toml") && err.contains("full_wel"),
        "{err}"
    );
}
