//! `bnngen infer`: classify images with the bit-exact reference model.

use std::path::PathBuf;

use serde::Serialize;

use bnngen::input::{self, Image};
use bnngen::model::{self, Model};
use bnngen::reference::{Engine, Prediction};
use bnngen::sensor::SensorConfig;

use super::CliError;

/// Classify images with the reference model.
///
/// INPUT files may be PGM/PPM, PNG (one image each) or IDX image sets (plain or gzip, e.g.
/// t10k-images-idx3-ubyte.gz), or image folders (DIR/<class>/*.png, or a dataset's DIR with
/// train/ and test/, whose test/ is read). Each image must match the model's input (height,
/// width, channels, bit depth); pixel codes are never rescaled. Up to 20 images print one line
/// each; larger sets print a summary unless --verbose or --json. With --labels (an IDX label
/// file, one label per image over all inputs in order), or when every input is a folder (the
/// class folder names label the images), the accuracy is printed.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Model file (TOML).
    pub model: PathBuf,
    /// Image files: PGM/PPM, PNG, or IDX image sets (plain or gzip), or image folders.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// IDX label file (plain or gzip) giving the true class of every image.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Print a JSON report (with `format_version`) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Classify only the first N images.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Pass every image through this sensor model first (a TOML file with a `[sensor]`
    /// table, docs/sensor.md): image i of a file gets the exposure and noise of test image i.
    #[arg(long, value_name = "SENSOR.toml")]
    pub sensor: Option<PathBuf>,
    /// Print one line per image even for large sets.
    #[arg(short, long)]
    pub verbose: bool,
}

/// Largest image count printed line by line without --verbose.
const LINES_MAX: usize = 20;
const REPORT_VERSION: u32 = 1;

/// One image to classify and where it came from.
struct Item {
    file: usize,
    file_index: usize,
    image: Image,
}

pub fn run(args: Args) -> Result<(), CliError> {
    if args.limit == Some(0) {
        return Err(CliError::Usage("--limit must be at least 1".into()));
    }
    let m = model::load(&args.model)?;
    let sensor = args.sensor.as_deref().map(SensorConfig::load).transpose()?;
    let mut items = Vec::new();
    let mut single = Vec::new();
    let per_image = m.input.height * m.input.width * m.input.channels;
    // Labels from folder names, while every input so far is a folder.
    let mut folder_labels = Some(Vec::new());
    for (file, path) in args.inputs.iter().enumerate() {
        let set = input::load_labelled_through(path, &m, sensor.as_ref())?;
        folder_labels = match (folder_labels, set.labels) {
            (Some(mut all), Some(l)) => {
                all.extend(l);
                Some(all)
            }
            _ => None,
        };
        let images = set.images;
        if (items.len() + images.len()) * per_image > input::MAX_PIXELS {
            return Err(CliError::Usage(format!(
                "{}: the input files hold more than {} pixel codes together, above the limit \
                 held in memory; classify them in several runs",
                path.display(),
                input::MAX_PIXELS
            )));
        }
        single.push(images.len() == 1);
        items.extend(
            images
                .into_iter()
                .enumerate()
                .map(|(file_index, image)| Item {
                    file,
                    file_index,
                    image,
                }),
        );
    }
    let labels = match &args.labels {
        Some(p) => Some(input::load_labels_for(p, items.len(), m.classes())?),
        None => folder_labels,
    };
    if let Some(n) = args.limit {
        items.truncate(n);
    }
    let preds = classify(&m, &items);

    let names = &m.meta.classes;
    let accuracy = labels.as_ref().map(|l| {
        let correct = preds
            .iter()
            .zip(l.iter())
            .filter(|(p, &l)| p.class == usize::from(l))
            .count();
        Accuracy {
            correct,
            total: preds.len(),
            percent: if preds.is_empty() {
                0.0
            } else {
                100.0 * correct as f64 / preds.len() as f64
            },
        }
    });

    if args.json {
        let report = Report {
            format_version: REPORT_VERSION,
            model: args.model.display().to_string(),
            images: preds.len(),
            predictions: items
                .iter()
                .zip(&preds)
                .enumerate()
                .map(|(index, (it, p))| PredictionJson {
                    index,
                    file: args.inputs[it.file].display().to_string(),
                    file_index: it.file_index,
                    class: p.class,
                    class_name: names.get(p.class).cloned(),
                    label: labels.as_ref().map(|l| l[index]),
                    scores: p.scores.clone(),
                })
                .collect(),
            accuracy,
        };
        return super::print_json(&report);
    }

    let mut out = String::new();
    let class_text = |c: usize| match names.get(c) {
        Some(n) => format!("{c} ({n})"),
        None => c.to_string(),
    };
    if preds.len() <= LINES_MAX || args.verbose {
        for (index, (it, p)) in items.iter().zip(&preds).enumerate() {
            let file = args.inputs[it.file].display();
            let place = if single[it.file] {
                file.to_string()
            } else {
                format!("{file}[{}]", it.file_index)
            };
            let scores: Vec<String> = p.scores.iter().map(|s| s.to_string()).collect();
            let label = match &labels {
                Some(l) => format!("  label {}", l[index]),
                None => String::new(),
            };
            out.push_str(&format!(
                "{place}: class {}  scores [{}]{label}\n",
                class_text(p.class),
                scores.join(", ")
            ));
        }
    } else {
        let mut counts = vec![0usize; m.classes()];
        for p in &preds {
            counts[p.class] += 1;
        }
        out.push_str(&format!(
            "classified {} images from {} file{} (use --verbose or --json for every image)\n",
            preds.len(),
            args.inputs.len(),
            if args.inputs.len() == 1 { "" } else { "s" }
        ));
        let per: Vec<String> = counts
            .iter()
            .enumerate()
            .map(|(c, n)| format!("{}: {n}", class_text(c)))
            .collect();
        out.push_str(&format!("predicted classes: {}\n", per.join(", ")));
    }
    if let Some(a) = &accuracy {
        out.push_str(&format!(
            "accuracy: {}/{} ({:.2}%)\n",
            a.correct, a.total, a.percent
        ));
    }
    super::print(&out)
}

/// Run the reference engine over every image, split across the available cores; results
/// come back in input order, so output does not depend on the thread count.
fn classify(m: &Model, items: &[Item]) -> Vec<Prediction> {
    let engine = Engine::new(m);
    let engine = &engine;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|it| engine.infer(&it.image))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("reference inference panicked"))
            .collect()
    })
}

#[derive(Serialize)]
struct Report {
    format_version: u32,
    model: String,
    images: usize,
    predictions: Vec<PredictionJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    accuracy: Option<Accuracy>,
}

#[derive(Serialize)]
struct PredictionJson {
    index: usize,
    file: String,
    file_index: usize,
    class: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    class_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<u8>,
    scores: Vec<i64>,
}

#[derive(Serialize)]
struct Accuracy {
    correct: usize,
    total: usize,
    percent: f64,
}
