//! The training run as a list of steps: data, teacher, student epochs (with pruning and
//! checkpoints), fold, export, exactness check against the reference model.

use super::augment::Augment;
use super::checkpoint;
use super::config::{FrontEndKind, ThresholdInit, TrainConfig};
use super::data::{self, Dataset, Split};
use super::export;
use super::net::{hard_planes, nchw_pixels, quantile_thresholds, Folded, Net, NetInput};
use super::prune;
use super::rng::Rng;
use super::TrainError;
use crate::model::Model;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Tensor, TensorData};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What the caller asks for; `None` fields keep the config's value.
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    pub config: PathBuf,
    pub output: PathBuf,
    /// Dataset directory (overrides `data.dir` and the default).
    pub data: Option<PathBuf>,
    /// Continue from `schedule.checkpoint` if it exists.
    pub resume: bool,
    /// Draw progress bars (otherwise one line per epoch on stderr).
    pub progress: bool,
    pub seed: Option<u64>,
    pub epochs: Option<usize>,
    pub train_subset: Option<usize>,
    pub test_subset: Option<usize>,
    /// Stop after this many epochs of the schedule (checkpoint written, no export); continue
    /// later with `resume`. The schedule (cosine, pruning) is that of the full run.
    pub stop_after: Option<usize>,
    /// `KEY=VALUE` overrides of the config (`--set`, `TrainConfig::parse_with`).
    pub overrides: Vec<String>,
}

/// Figures of a finished run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainReport {
    /// Mean training loss of each epoch.
    pub epoch_loss: Vec<f64>,
    /// Mean loss over the first and the last tenth of the first epoch's batches.
    pub first_batches_loss: f64,
    pub last_batches_loss: f64,
    /// Validation accuracy of the exported (folded) graph after each epoch.
    pub val_accuracy: Vec<f64>,
    /// Test accuracy of the reference model on the exported file.
    pub test_accuracy: f64,
    pub test_images: usize,
    /// Test images where the reference model's scores differ from the evaluation graph's
    /// (None when the reference model could not run: a build without it).
    pub disagreements: Option<usize>,
    /// Test images where the float batch-norm graph predicts another class than the folded
    /// one (information only: float rounding at exact threshold ties).
    pub float_bn_disagreements: usize,
    pub teacher_test_accuracy: Option<f64>,
    pub images_per_second: f64,
    pub wall_seconds: f64,
    pub weight_bits_stored: usize,
    pub seed: u64,
    pub epochs: usize,
    /// The front end that was trained: `glt`, `uniform` or `binary`, its planes per pixel, and
    /// its integer thresholds in the pixel domain (empty for `binary`).
    pub front_end: String,
    pub planes: usize,
    pub fe_thresholds: Vec<u32>,
    /// Pixel bit depth of the model's input.
    pub input_bits: u32,
    /// Training images used per epoch.
    pub train_images: usize,
    /// Threshold start of the front end (`uniform` or `quantile`).
    pub init: String,
    /// What the images were: `plain` (the dataset's codes) or `sensor` (`[sensor]`).
    pub data: String,
}

struct Batch {
    pixels: Tensor<4>,
    hard: Tensor<4>,
    onehot: Tensor<2>,
    labels: Vec<u8>,
}

/// The batch of images `idx`, varied by `aug` when training with augmentation.
fn make_batch(
    split: &Split,
    idx: &[usize],
    net: &Net,
    t: &[u32],
    device: &Device,
    mut aug: Option<Augment>,
) -> Batch {
    let b = idx.len();
    let (shape, k) = (net.spec.shape, net.spec.classes);
    let (ch, h, w) = (shape.channels, shape.height, shape.width);
    let mut px: Vec<u16> = Vec::with_capacity(b * split.per_image);
    let mut labels = Vec::with_capacity(b);
    for &i in idx {
        match &mut aug {
            Some(a) => a.push(split.image(i), shape, &mut px),
            None => px.extend_from_slice(split.image(i)),
        }
        labels.push(split.labels[i]);
    }
    let planes = net.spec.planes;
    let hard = if net.spec.binary {
        hard_planes(&px, shape, net.spec.front_end, planes, t)
    } else {
        vec![0.0; b * planes * split.per_image]
    };
    let mut oh = vec![0f32; b * k];
    for (r, &l) in labels.iter().enumerate() {
        oh[r * k + l as usize] = 1.0;
    }
    let pxf = nchw_pixels(&px, shape);
    Batch {
        pixels: Tensor::from_data(TensorData::new(pxf, [b, ch, h, w]), device),
        hard: Tensor::from_data(TensorData::new(hard, [b, ch * planes, h, w]), device),
        onehot: Tensor::from_data(TensorData::new(oh, [b, k]), device),
        labels,
    }
}

fn argmax(row: &[i64]) -> usize {
    let mut best = 0;
    for (k, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = k;
        }
    }
    best
}

fn argmax_f(row: &[f32]) -> usize {
    let mut best = 0;
    for (k, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = k;
        }
    }
    best
}

/// Scores of the folded evaluation graph on a split (plain device, batches of 500).
fn eval_scores(net: &Net, f: &Folded, split: &Split, device: &Device) -> Vec<i64> {
    let mut out = Vec::with_capacity(split.len() * net.spec.classes);
    let idx: Vec<usize> = (0..split.len()).collect();
    for chunk in idx.chunks(500) {
        let b = make_batch(split, chunk, net, &f.fe_thresholds, device, None);
        out.extend(net.eval_folded(b.hard, f));
    }
    out
}

/// Float logits (training graph in inference mode) on a split.
fn float_logits(net: &Net, split: &Split, device: &Device) -> Vec<f32> {
    let t = net.fe_thresholds();
    let mut out = Vec::with_capacity(split.len() * net.spec.classes);
    let idx: Vec<usize> = (0..split.len()).collect();
    for chunk in idx.chunks(500) {
        let b = make_batch(split, chunk, net, &t, device, None);
        out.extend(
            net.forward(b.pixels, b.hard)
                .into_data()
                .try_to_vec::<f32>()
                .unwrap(),
        );
    }
    out
}

/// The fraction of images whose top score (of `k` per image) is their label.
fn accuracy(scores: &[i64], labels: &[u8], k: usize) -> f64 {
    let ok = labels
        .iter()
        .enumerate()
        .filter(|(i, &l)| argmax(&scores[i * k..i * k + k]) == l as usize)
        .count();
    ok as f64 / labels.len().max(1) as f64
}

/// Like [`accuracy`], on float logits.
fn accuracy_f(logits: &[f32], labels: &[u8], k: usize) -> f64 {
    let ok = labels
        .iter()
        .enumerate()
        .filter(|(i, &l)| argmax_f(&logits[i * k..i * k + k]) == l as usize)
        .count();
    ok as f64 / labels.len().max(1) as f64
}

fn lr_at(base: f64, step: usize, total: usize) -> f64 {
    base * 0.5 * (1.0 + (std::f64::consts::PI * step as f64 / total.max(1) as f64).cos())
}

fn bar(progress: bool, len: u64, prefix: String) -> indicatif::ProgressBar {
    let pb = if progress {
        indicatif::ProgressBar::new(len)
    } else {
        indicatif::ProgressBar::hidden()
    };
    pb.set_style(
        indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
            .unwrap()
            .progress_chars("=> "),
    );
    pb.set_prefix(prefix);
    pb
}

/// One call of [`fit`]: which net it trains (its `label` in progress lines), for how many
/// epochs, from which seed, and the teacher (float, plain device) whose distillation term it
/// adds, if any.
struct FitRun<'a> {
    label: &'a str,
    epochs: usize,
    seed: u64,
    teacher: Option<&'a Net>,
}

/// Train one net as `run` says.
fn fit(
    mut net: Net,
    cfg: &TrainConfig,
    ds: &Dataset,
    run: FitRun,
    opts: &TrainOptions,
    report: &mut TrainReport,
) -> Result<(Net, f64), TrainError> {
    let FitRun {
        label,
        epochs,
        seed,
        teacher,
    } = run;
    let device = Device::flex().autodiff();
    let plain = Device::flex();
    let s = &cfg.schedule;
    let binary = net.spec.binary;
    let k = net.spec.classes;
    let mut start = 0;
    let mut initial_kept = prune::kept_counts(&net);
    // The final kept fraction is relative to the unpruned net, so it is taken before a
    // checkpoint's masks are restored: from a pruned net it came out higher, and a resumed
    // run stopped pruning where the checkpoint left it.
    let target = match (&cfg.pruning, binary) {
        (Some(p), true) => Some((p, prune::target_fraction(p, &net)?)),
        _ => None,
    };
    let ckpt = s.checkpoint.as_ref().filter(|_| binary).map(PathBuf::from);
    if let (true, Some(path)) = (opts.resume, &ckpt) {
        if path.exists() {
            let c = checkpoint::load(path)?;
            checkpoint::restore(&mut net, &c, &device)?;
            start = c.epochs_done;
            initial_kept = c.initial_kept;
            eprintln!(
                "resuming {label} from {} after epoch {start}",
                path.display()
            );
        }
    }
    let mut optim = AdamConfig::new().init();
    if let (true, Some(path)) = (opts.resume && start > 0, &ckpt) {
        let (o, found) = checkpoint::load_optimizer(optim, path)?;
        optim = o;
        if !found {
            eprintln!(
                "no optimizer state next to {}: Adam restarts",
                path.display()
            );
        }
    }
    let stop = opts.stop_after.map_or(epochs, |n| n.min(epochs));
    let n = ds.train.len();
    let steps_per_epoch = n.div_ceil(s.batch);
    let total = steps_per_epoch * epochs;
    let mut seen = 0usize;
    let mut train_time = 0f64;
    for epoch in start..stop {
        let mut order: Vec<usize> = (0..n).collect();
        Rng::new(seed ^ (epoch as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d)).shuffle(&mut order);
        let pb = bar(
            opts.progress,
            steps_per_epoch as u64,
            format!("{label} {}/{epochs}", epoch + 1),
        );
        let t0 = Instant::now();
        let (mut loss_sum, mut correct, mut count) = (0f64, 0usize, 0usize);
        let mut batch_losses = Vec::with_capacity(steps_per_epoch);
        for (bi, chunk) in order.chunks(s.batch).enumerate() {
            let t = net.fe_thresholds();
            let aug = cfg.data.augment.map(|a| Augment::new(a, seed, epoch, bi));
            let b = make_batch(&ds.train, chunk, &net, &t, &device, aug);
            let logits = net.forward(b.pixels.clone(), b.hard);
            let logp = log_softmax(logits.clone(), 1);
            let ce = logp.mul(b.onehot).sum_dim(1).mean().neg();
            let loss = match (teacher, &cfg.distill) {
                (Some(tn), Some(d)) => {
                    let tp = b.pixels.clone().inner();
                    let tl = tn.forward(tp.clone(), tp);
                    let tl: Vec<f32> = tl.into_data().try_to_vec::<f32>().unwrap();
                    let tl = Tensor::<2>::from_data(TensorData::new(tl, [chunk.len(), k]), &device);
                    let temp = d.temperature;
                    let pt = softmax(tl.div_scalar(temp), 1);
                    let logq = log_softmax(logits.clone().div_scalar(temp), 1);
                    let kl = pt.clone().mul(pt.log().sub(logq)).sum_dim(1).mean();
                    ce.mul_scalar(1.0 - d.weight)
                        .add(kl.mul_scalar(d.weight * temp * temp))
                }
                _ => ce,
            };
            let lv: f32 = loss.clone().into_scalar();
            let pred: Vec<f32> = logits.into_data().try_to_vec::<f32>().unwrap();
            for (r, &l) in b.labels.iter().enumerate() {
                if argmax_f(&pred[r * k..r * k + k]) == l as usize {
                    correct += 1;
                }
            }
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            let step = epoch * steps_per_epoch + bi;
            net = optim.step(lr_at(s.lr, step, total), net, grads);
            if binary {
                net = clamp_latent(net);
            }
            loss_sum += lv as f64 * chunk.len() as f64;
            batch_losses.push(lv as f64);
            count += chunk.len();
            let secs = t0.elapsed().as_secs_f64();
            pb.inc(1);
            pb.set_message(format!(
                "loss {:.4} acc {:.3} {:.0} img/s",
                loss_sum / count as f64,
                correct as f64 / count as f64,
                count as f64 / secs
            ));
        }
        let secs = t0.elapsed().as_secs_f64();
        train_time += secs;
        seen += count;
        pb.finish_and_clear();
        if epoch == 0 && binary {
            let k = (batch_losses.len() / 10).max(1);
            report.first_batches_loss = batch_losses[..k].iter().sum::<f64>() / k as f64;
            report.last_batches_loss =
                batch_losses[batch_losses.len() - k..].iter().sum::<f64>() / k as f64;
        }
        if let Some((p, f_t)) = target {
            if let Some(f) = prune::fraction_at(p, f_t, epoch) {
                prune::apply(&mut net, f, &initial_kept);
            }
        }
        let valid = net.valid();
        let val_acc = if binary {
            let f = export::fold(&valid);
            accuracy(
                &eval_scores(&valid, &f, &ds.validation, &plain),
                &ds.validation.labels,
                k,
            )
        } else {
            let l = float_logits(&valid, &ds.validation, &plain);
            accuracy_f(&l, &ds.validation.labels, k)
        };
        let (bits, fixed) = prune::stored_bits(&net);
        eprintln!(
            "{label} epoch {}/{epochs}: loss {:.4} train acc {:.4} val acc {:.4} ({:.0} img/s, {:.0} s) weight bits {}",
            epoch + 1,
            loss_sum / count as f64,
            correct as f64 / count as f64,
            val_acc,
            count as f64 / secs,
            secs,
            bits + fixed
        );
        if binary {
            report.epoch_loss.push(loss_sum / count as f64);
            report.val_accuracy.push(val_acc);
            if let Some(path) = &ckpt {
                checkpoint::save_optimizer(&optim, path)?;
                checkpoint::save(
                    &checkpoint::snapshot(&net, epoch + 1, initial_kept.clone()),
                    path,
                )?;
            }
        }
    }
    let ips = if train_time > 0.0 {
        seen as f64 / train_time
    } else {
        0.0
    };
    Ok((net, ips))
}

fn clamp_latent(mut net: Net) -> Net {
    let c = |t: Tensor<4>| t.clamp(-1.0, 1.0).detach().require_grad();
    let d = |t: Tensor<2>| t.clamp(-1.0, 1.0).detach().require_grad();
    for l in net.convs.iter_mut() {
        l.weight = l.weight.clone().map(c);
    }
    for l in net.denses.iter_mut().chain(std::iter::once(&mut net.head)) {
        l.weight = l.weight.clone().map(d);
    }
    net
}

fn teacher(
    cfg: &TrainConfig,
    ds: &Dataset,
    seed: u64,
    opts: &TrainOptions,
    report: &mut TrainReport,
) -> Result<Option<Net>, TrainError> {
    let Some(d) = &cfg.distill else {
        return Ok(None);
    };
    let device = Device::flex().autodiff();
    let tcfg = cfg.teacher_config();
    let mut net = Net::new(&tcfg, net_input(ds), false, seed ^ 0x7eac4e5, &device);
    let path = d.teacher_checkpoint.as_ref().map(PathBuf::from);
    match &path {
        Some(p) if p.exists() => {
            checkpoint::restore(&mut net, &checkpoint::load(p)?, &device)?;
            eprintln!("teacher loaded from {}", p.display());
        }
        _ => {
            let run = FitRun {
                label: "teacher",
                epochs: d.teacher_epochs,
                seed: seed ^ 0x7eac4e5,
                teacher: None,
            };
            net = fit(net, &tcfg, ds, run, opts, report)?.0;
            if let Some(p) = &path {
                checkpoint::save(&checkpoint::snapshot(&net, d.teacher_epochs, Vec::new()), p)?;
            }
        }
    }
    let valid = net.valid();
    let l = float_logits(&valid, &ds.test, &Device::flex());
    report.teacher_test_accuracy = Some(accuracy_f(&l, &ds.test.labels, ds.classes.len()));
    Ok(Some(valid))
}

/// What the data fixes about the net.
fn net_input(ds: &Dataset) -> NetInput {
    NetInput {
        shape: ds.shape,
        bits: ds.bits,
        classes: ds.classes.len(),
    }
}

/// Count test images where the reference model disagrees with the evaluation graph.
fn check_reference(model: &Model, scores: &[i64], test: &Split) -> (usize, f64) {
    let mut bad = 0;
    let mut ok = 0;
    let (k, input) = (model.classes(), model.input);
    for i in 0..test.len() {
        let image = crate::input::Image {
            height: input.height,
            width: input.width,
            channels: input.channels,
            pixels: test.image(i).to_vec(),
        };
        let p = crate::reference::infer(model, &image);
        if p.scores != scores[i * k..i * k + k] {
            bad += 1;
        }
        if p.class == test.labels[i] as usize {
            ok += 1;
        }
    }
    (bad, ok as f64 / test.len().max(1) as f64)
}

/// Check the config against the data's image shape and depth (the checks that need them).
fn check_fits(cfg: &TrainConfig, ds: &Dataset, opts: &TrainOptions) -> Result<(), TrainError> {
    let dims = super::config::InputDims {
        height: ds.shape.height,
        width: ds.shape.width,
        channels: ds.shape.channels,
        bits: ds.bits,
    };
    // The messages give the sizes they compare (`the padded 8x8 input`).
    let problems = cfg.check_for(Some(dims));
    if problems.is_empty() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&opts.config).unwrap_or_default();
    Err(super::config::problems_error(
        &opts.config.display().to_string(),
        &text,
        &problems,
    ))
}

/// Run a whole training: config, data, teacher, student, export, exactness check, write.
/// With `opts.stop_after` set below the schedule's epochs this is an error: use [`run_partial`].
pub fn run(opts: &TrainOptions) -> Result<(Model, TrainReport), TrainError> {
    run_inner(opts)?.ok_or_else(|| {
        TrainError::Config("stop_after ends the run before the schedule: use run_partial".into())
    })
}

/// Train up to `opts.stop_after` epochs (checkpoint only, no export) or, when that reaches the
/// schedule's end, the whole run; `None` when the run stopped early.
pub fn run_partial(opts: &TrainOptions) -> Result<Option<(Model, TrainReport)>, TrainError> {
    run_inner(opts)
}

fn run_inner(opts: &TrainOptions) -> Result<Option<(Model, TrainReport)>, TrainError> {
    let wall = Instant::now();
    let mut cfg = TrainConfig::load_with(&opts.config, &opts.overrides)?;
    if let Some(v) = opts.seed {
        cfg.schedule.seed = v;
    }
    if let Some(v) = opts.epochs {
        cfg.schedule.epochs = v;
    }
    if let Some(v) = opts.train_subset {
        cfg.data.train_subset = v;
    }
    if let Some(v) = opts.test_subset {
        cfg.data.test_subset = v;
    }
    if cfg.meta.name.is_empty() {
        let stem = opts
            .config
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("model");
        cfg.meta.name = stem.trim_end_matches(".train").to_string();
    }
    let problems = cfg.check();
    if !problems.is_empty() {
        return Err(TrainError::Config(problems.join("; ")));
    }
    let dir = opts
        .data
        .clone()
        .or_else(|| cfg.data.dir.as_ref().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(data::DEFAULT_DIR));
    let mut ds = data::load(&dir, &cfg.data, cfg.sensor.as_ref())?;
    check_fits(&cfg, &ds, opts)?;
    if cfg.front_end.kind == FrontEndKind::Binary {
        ds.requantize(cfg.front_end.levels as u32)?;
    }
    let seed = cfg.schedule.seed;
    let mut report = TrainReport {
        epoch_loss: Vec::new(),
        first_batches_loss: f64::NAN,
        last_batches_loss: f64::NAN,
        val_accuracy: Vec::new(),
        test_accuracy: 0.0,
        test_images: ds.test.len(),
        disagreements: None,
        float_bn_disagreements: 0,
        teacher_test_accuracy: None,
        images_per_second: 0.0,
        wall_seconds: 0.0,
        weight_bits_stored: 0,
        seed,
        epochs: cfg.schedule.epochs,
        front_end: format!("{:?}", cfg.front_end.kind).to_lowercase(),
        planes: 0,
        fe_thresholds: Vec::new(),
        input_bits: ds.bits,
        train_images: ds.train.len(),
        init: format!("{:?}", cfg.front_end.init).to_lowercase(),
        data: if cfg.sensor.is_some() {
            "sensor"
        } else {
            "plain"
        }
        .into(),
    };
    let teacher = teacher(&cfg, &ds, seed, opts, &mut report)?;
    let device = Device::flex().autodiff();
    let mut net = Net::new(&cfg, net_input(&ds), true, seed, &device);
    if cfg.front_end.kind == FrontEndKind::Glt && cfg.front_end.init == ThresholdInit::Quantile {
        let (m, ch) = (cfg.front_end.levels, ds.shape.channels);
        let t = if net.spec.glt_sets == 1 {
            quantile_thresholds(&ds.train.pixels, m, ds.bits)
        } else {
            // Each channel's thresholds from its own pixels.
            (0..ch)
                .flat_map(|c| {
                    let px: Vec<u16> = ds
                        .train
                        .pixels
                        .iter()
                        .skip(c)
                        .step_by(ch)
                        .copied()
                        .collect();
                    quantile_thresholds(&px, m, ds.bits)
                })
                .collect()
        };
        net.set_glt_thresholds(&t);
    }
    let run = FitRun {
        label: "train",
        epochs: cfg.schedule.epochs,
        seed,
        teacher: teacher.as_ref(),
    };
    let (net, ips) = fit(net, &cfg, &ds, run, opts, &mut report)?;
    report.images_per_second = ips;
    if opts.stop_after.is_some_and(|n| n < cfg.schedule.epochs) {
        if cfg.schedule.checkpoint.is_none() {
            return Err(TrainError::Config(
                "stop_after needs schedule.checkpoint (nothing would be kept)".into(),
            ));
        }
        return Ok(None);
    }
    let net = net.valid();
    let plain = Device::flex();
    let folded = export::fold(&net);
    report.planes = net.spec.planes;
    report.fe_thresholds = folded.fe_thresholds.clone();
    let scores = eval_scores(&net, &folded, &ds.test, &plain);
    let k = ds.classes.len();
    let eval_acc = accuracy(&scores, &ds.test.labels, k);
    let fl = float_logits(&net, &ds.test, &plain);
    report.float_bn_disagreements = (0..ds.test.len())
        .filter(|&i| argmax_f(&fl[i * k..i * k + k]) != argmax(&scores[i * k..i * k + k]))
        .count();
    let provenance = format!(
        "bnngen train --config {} (seed {seed}, {} epochs, {} training images); evaluation-graph test accuracy {:.4} on {} test images",
        opts.config.display(),
        cfg.schedule.epochs,
        ds.train.len(),
        eval_acc,
        ds.test.len()
    );
    let mut model = export::build_model(&cfg, &net, &folded, &ds.classes, provenance)?;
    let checked = std::panic::catch_unwind(|| check_reference(&model, &scores, &ds.test));
    let (bad, ref_acc) = match checked {
        Ok((bad, acc)) => (Some(bad), acc),
        Err(_) => (None, eval_acc),
    };
    report.disagreements = bad;
    report.test_accuracy = ref_acc;
    let checked_text = match bad {
        Some(n) => format!("test accuracy {ref_acc:.4} under the reference model on {} test images; {n} disagreements with the training evaluation graph", ds.test.len()),
        None => format!("test accuracy {eval_acc:.4} of the training evaluation graph on {} test images (NOT checked against the reference model)", ds.test.len()),
    };
    report.weight_bits_stored = model.summary().weight_bits_stored;
    model.meta.provenance = format!(
        "bnngen train --config {} (seed {seed}, {} epochs, {} training images, {} validation); \
         {checked_text}",
        opts.config.display(),
        cfg.schedule.epochs,
        ds.train.len(),
        ds.validation.len(),
    );
    export::write_model(&model, &opts.output)?;
    report.wall_seconds = wall.elapsed().as_secs_f64();
    Ok(Some((model, report)))
}

/// Convenience for tests: the default dataset directory, overridable by `BNNGEN_DATA`.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("BNNGEN_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(data::DEFAULT_DIR).to_path_buf())
}
