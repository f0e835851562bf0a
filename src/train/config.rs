//! The training config file (`*.train.toml`): topology and schedule of one training run.
//!
//! The file is read with `deny_unknown_fields` everywhere so a misspelt key is an error, not
//! a silently ignored setting; [`TrainConfig::check`] then collects every inconsistency
//! (shapes that do not chain, blocks that do not divide channels, budgets out of range) with
//! the field it comes from. `docs/training.md` documents every key.

use serde::Deserialize;

use crate::model::annotate::{self, Annotated, FileKind, Problem};
use crate::model::toml_lines::{line_col, line_of, Seg};
use std::path::Path;

/// One training run, as written in the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    #[serde(default)]
    pub meta: MetaConfig,
    #[serde(default)]
    pub data: DataConfig,
    pub front_end: FrontEndConfig,
    pub layers: Vec<LayerConfig>,
    #[serde(default)]
    pub classifier: ClassifierConfig,
    #[serde(default)]
    pub schedule: ScheduleConfig,
    #[serde(default)]
    pub pruning: Option<PruningConfig>,
    #[serde(default)]
    pub distill: Option<DistillConfig>,
    /// Train and test on what an image sensor would deliver (`docs/sensor.md`).
    #[serde(default)]
    pub sensor: Option<crate::sensor::SensorConfig>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct MetaConfig {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// Where the data is and how much of it one run uses.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// Directory with the four Fashion-MNIST gzip IDX files, or an image folder with `train/`
    /// and `test/` class folders (`input::folder`); `--data` overrides it.
    pub dir: Option<String>,
    /// Training images used (0 = all that remain after the validation split).
    pub train_subset: usize,
    /// Images held out of the training set for validation (taken from its end).
    pub validation: usize,
    /// Test images used for the final figures (0 = all 10,000).
    pub test_subset: usize,
    /// Class names in label order, for IDX data other than Fashion-MNIST (an image folder's
    /// classes are its folder names; if given, they must be those).
    pub classes: Vec<String>,
    /// Random shifts and mirror images of the training images (`train::augment`).
    pub augment: Option<AugmentConfig>,
}

/// How training images are varied each time they are drawn (never the test images).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AugmentConfig {
    /// Largest shift in pixels, up, down, left or right; pixels moved in are code 0.
    #[serde(default)]
    pub shift: usize,
    /// Mirror left-right with probability 1/2.
    #[serde(default)]
    pub flip: bool,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            dir: None,
            train_subset: 0,
            validation: 5000,
            test_subset: 0,
            classes: Vec::new(),
            augment: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrontEndKind {
    /// Learned ordered thresholds (Generic Learned Thermometer).
    Glt,
    /// Fixed evenly spaced thresholds (`model::uniform_thresholds`).
    Uniform,
    /// Natural-binary ADC planes: bit k of the pixel.
    Binary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdInit {
    Uniform,
    /// Quantiles of the training pixels: threshold k starts where a fraction (k+1)/(M+1) of
    /// the training pixels lies below it (`net::quantile_thresholds`).
    Quantile,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontEndConfig {
    pub kind: FrontEndKind,
    /// M, thresholds per channel; for `binary`, the ADC's bits (the top M bits of the code).
    #[serde(default = "default_levels")]
    pub levels: usize,
    /// Surrogate temperature on the 0..1 pixel scale (glt only).
    #[serde(default = "default_temperature")]
    pub temperature: f64,
    #[serde(default = "default_init")]
    pub init: ThresholdInit,
    /// Learning-rate multiplier for the thresholds (glt only).
    #[serde(default = "one")]
    pub lr_scale: f64,
    /// One set of learned thresholds per input channel instead of one shared set (glt only;
    /// the model file's `channel_thresholds`).
    #[serde(default)]
    pub per_channel: bool,
}

/// Output (height, width) of a `kernel` x `kernel` window at `stride` over an input of `hw`
/// with `padding` on each side (the caller has checked that the window fits).
fn window_out(hw: (usize, usize), kernel: usize, stride: usize, padding: usize) -> (usize, usize) {
    let side = |x: usize| (x + 2 * padding - kernel) / stride + 1;
    (side(hw.0), side(hw.1))
}

fn default_levels() -> usize {
    8
}
fn default_temperature() -> f64 {
    0.05
}
fn default_init() -> ThresholdInit {
    ThresholdInit::Uniform
}
fn one() -> f64 {
    1.0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PadModeConfig {
    Zero,
    MinusOne,
    PlusOne,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LayerConfig {
    Conv {
        name: String,
        channels: usize,
        #[serde(default = "three")]
        kernel: usize,
        #[serde(default = "one_usize")]
        stride: usize,
        #[serde(default = "one_usize")]
        padding: usize,
        #[serde(default = "default_pad")]
        pad_mode: PadModeConfig,
        /// Tiles: the layer is cut into out_blocks x in_blocks (out-block, in-block) tiles.
        #[serde(default = "one_usize")]
        in_blocks: usize,
        #[serde(default = "one_usize")]
        out_blocks: usize,
        /// Keep only the diagonal tiles (a grouped convolution); needs in_blocks == out_blocks.
        #[serde(default)]
        grouped: bool,
        /// Whether block pruning may remove tiles of this layer.
        #[serde(default)]
        prune: bool,
    },
    Maxpool {
        #[serde(default)]
        name: Option<String>,
        #[serde(default = "two")]
        kernel: usize,
        #[serde(default = "two")]
        stride: usize,
    },
    Dense {
        name: String,
        features: usize,
        #[serde(default = "one_usize")]
        in_blocks: usize,
        #[serde(default = "one_usize")]
        out_blocks: usize,
        #[serde(default)]
        prune: bool,
    },
}

impl LayerConfig {
    /// The (channels, height, width) this layer makes of `(c, h, w)`: the one walk of the
    /// layer list that the config check and the network builder both take.
    pub(crate) fn output_shape(&self, (c, h, w): (usize, usize, usize)) -> (usize, usize, usize) {
        match self {
            LayerConfig::Conv {
                channels,
                kernel,
                stride,
                padding,
                ..
            } => {
                let (h, w) = window_out((h, w), *kernel, *stride, *padding);
                (*channels, h, w)
            }
            LayerConfig::Maxpool { kernel, stride, .. } => {
                let (h, w) = window_out((h, w), *kernel, *stride, 0);
                (c, h, w)
            }
            LayerConfig::Dense { features, .. } => (*features, 1, 1),
        }
    }
}

fn three() -> usize {
    3
}
fn two() -> usize {
    2
}
fn one_usize() -> usize {
    1
}
fn default_pad() -> PadModeConfig {
    PadModeConfig::Zero
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifierConfig {
    #[serde(default = "head")]
    pub name: String,
    #[serde(default = "one_usize")]
    pub in_blocks: usize,
    #[serde(default)]
    pub prune: bool,
}

fn head() -> String {
    "head".into()
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        ClassifierConfig {
            name: head(),
            in_blocks: 1,
            prune: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    pub epochs: usize,
    pub batch: usize,
    /// Peak Adam learning rate; cosine decay to zero over the run.
    pub lr: f64,
    pub seed: u64,
    /// Checkpoint file written after every epoch (optional).
    pub checkpoint: Option<String>,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            epochs: 10,
            batch: 100,
            lr: 0.005,
            seed: 1,
            checkpoint: None,
        }
    }
}

/// Gradual block pruning to a target (exactly one of the two targets).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PruningConfig {
    /// Fraction of the prunable layers' tiles kept at the end, in (0, 1].
    pub kept_fraction: Option<f64>,
    /// Stored weight bits of the whole model at the end.
    pub weight_bits: Option<usize>,
    /// Epoch (0-based) at which pruning starts; the kept fraction then falls on a cubic
    /// schedule and reaches the target at `end_epoch`.
    #[serde(default)]
    pub start_epoch: usize,
    pub end_epoch: usize,
}

/// Knowledge distillation from a float teacher (by default of the student's topology).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistillConfig {
    /// Epochs to train the teacher (skipped when `teacher_checkpoint` exists).
    pub teacher_epochs: usize,
    /// Softmax temperature T of the KL term.
    pub temperature: f64,
    /// Weight w: loss = (1 - w) * CE + w * T^2 * KL.
    pub weight: f64,
    /// Teacher parameters are saved here after training and loaded from here if present.
    pub teacher_checkpoint: Option<String>,
    /// The teacher's layers (`[[distill.teacher_layers]]`, as `[[layers]]`), when the float
    /// teacher should be larger than the student; default: the student's layers.
    #[serde(default)]
    pub teacher_layers: Option<Vec<LayerConfig>>,
    /// The teacher's peak learning rate (default: `schedule.lr`, the student's).
    #[serde(default)]
    pub teacher_lr: Option<f64>,
    /// The teacher's own augmentation (`[distill.teacher_augment]`, as `[data.augment]`),
    /// so that a stronger teacher can be trained for a student that sees plain images;
    /// default: the student's.
    #[serde(default)]
    pub teacher_augment: Option<AugmentConfig>,
}

/// The data's image size and depth, which the config's layers must fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputDims {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub bits: u32,
}

/// The error for `problems` of [`TrainConfig::check_for`] in the config file `file` whose text
/// is `text`: every problem with its place, for the diagnostic to point at.
pub fn problems_error(file: &str, text: &str, problems: &[String]) -> super::TrainError {
    super::TrainError::ConfigFile {
        summary: format!("{file}:\n  {}", problems.join("\n  ")),
        file: file.to_string(),
        text: text.to_string(),
        problems: problems
            .iter()
            .map(|p| ConfigProblem::from_check(p))
            .collect(),
    }
}

/// One problem in a training config: where (`layers[1] (conv2).in_blocks`, as messages name
/// it; empty for the file as a whole), what, and the bytes to underline when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub place: String,
    pub message: String,
    pub span: Option<std::ops::Range<usize>>,
}

impl ConfigProblem {
    /// Split a message of [`TrainConfig::check`] (`PLACE: MESSAGE`) or of serde (`unknown
    /// field ...`, no place) into its parts.
    fn from_check(p: &str) -> ConfigProblem {
        let looks_like_place = |s: &str| {
            !s.is_empty()
                && (!s.contains(' ') || s.starts_with("layers[") || s.starts_with("distill."))
        };
        match p.split_once(": ") {
            Some((place, message)) if looks_like_place(place) => ConfigProblem {
                place: place.to_string(),
                message: message.to_string(),
                span: None,
            },
            _ => ConfigProblem {
                place: String::new(),
                message: p.to_string(),
                span: None,
            },
        }
    }

    /// The field path in the file (`layers[1].in_blocks`): the place without the layer
    /// name that messages add in parentheses.
    fn path(&self) -> Vec<Seg<'_>> {
        let mut segs = Vec::new();
        for part in self.place.split('.') {
            let part = part.split(" (").next().unwrap_or(part);
            let (key, rest) = part.split_once('[').unwrap_or((part, ""));
            segs.push(Seg::Key(key));
            if let Ok(i) = rest.trim_end_matches(']').parse() {
                segs.push(Seg::Index(i));
            }
        }
        segs
    }
}

/// The config error `e` as diagnostics with source lines, a caret under each field and help
/// lines; `None` for errors that are not about a config file's fields.
pub fn annotated(e: &super::TrainError) -> Option<Annotated> {
    let super::TrainError::ConfigFile {
        file,
        text,
        problems,
        ..
    } = e
    else {
        return None;
    };
    let source = annotate::source(file, text);
    let items = problems
        .iter()
        .map(|p| {
            let path = p.path();
            let line = (1..=path.len())
                .rev()
                .find_map(|n| line_of(text, &path[..n]));
            let line = line.or_else(|| p.span.as_ref().map(|s| line_col(text, s.start).0));
            let key = p.place.rsplit('.').next().unwrap_or("");
            let key = key.split(" (").next().unwrap_or(key);
            // serde names an unknown or mistyped field but not its table: take the first line
            // that sets a key of that name.
            let named = (key.is_empty())
                .then(|| field_named_in(&p.message))
                .flatten();
            let line = line.or_else(|| named.as_deref().and_then(|k| first_line_setting(text, k)));
            let key = named.as_deref().unwrap_or(key);
            Annotated::problem(&Problem {
                kind: FileKind::TrainConfig,
                file,
                source: Some(&source),
                line,
                span: p.span.clone(),
                place: p.place.clone(),
                key,
                message: &p.message,
            })
        })
        .collect();
    Some(Annotated::file(FileKind::TrainConfig, file, items))
}

/// The field a serde message names (`unknown field `colour`, ...`).
fn field_named_in(message: &str) -> Option<String> {
    let start = message.find("field `")? + "field `".len();
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_string())
}

/// The 1-based line of the first `key = ...` in `text`.
fn first_line_setting(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

impl TrainConfig {
    /// Read and check a config file.
    pub fn load(path: &Path) -> Result<TrainConfig, super::TrainError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            super::TrainError::Config(format!("cannot read {}: {e}", path.display()))
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, file: &str) -> Result<TrainConfig, super::TrainError> {
        Self::parse_with(text, file, &[])
    }

    /// Read and check a config file with `KEY=VALUE` overrides applied (see
    /// [`TrainConfig::parse_with`]).
    pub fn load_with(path: &Path, overrides: &[String]) -> Result<TrainConfig, super::TrainError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            super::TrainError::Config(format!("cannot read {}: {e}", path.display()))
        })?;
        Self::parse_with(&text, &path.display().to_string(), overrides)
    }

    /// Parse a config after applying overrides `a.b.c=VALUE` (`--set`), so that one config file
    /// serves a whole family of runs and each run's command line says how it differs. A path
    /// step that is a number indexes an array (`layers.0.channels=8`); VALUE is a TOML value,
    /// or a bare string when it does not parse as one (`front_end.kind=uniform`). The result is
    /// checked like the file itself, so an override to an unknown key is an error.
    pub fn parse_with(
        text: &str,
        file: &str,
        overrides: &[String],
    ) -> Result<TrainConfig, super::TrainError> {
        let cfg_err = |m: String| super::TrainError::Config(format!("{file}: {m}"));
        let file_err =
            |summary: String, problems: Vec<ConfigProblem>| super::TrainError::ConfigFile {
                summary,
                file: file.to_string(),
                text: text.to_string(),
                problems,
            };
        let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let problem = ConfigProblem {
                place: String::new(),
                message: format!("TOML syntax error: {}", e.message().trim()),
                span: e.span(),
            };
            file_err(format!("{file}: {e}"), vec![problem])
        })?;
        for o in overrides {
            apply_override(&mut table, o).map_err(|m| cfg_err(format!("--set {o}: {m}")))?;
        }
        let cfg: TrainConfig = toml::Value::Table(table).try_into().map_err(|e| {
            let e: toml::de::Error = e;
            let problem = ConfigProblem::from_check(e.message().trim());
            match overrides.is_empty() {
                true => file_err(format!("{file}: {e}"), vec![problem]),
                false => cfg_err(format!("{e}")),
            }
        })?;
        let problems = cfg.check();
        if problems.is_empty() {
            Ok(cfg)
        } else {
            Err(problems_error(file, text, &problems))
        }
    }

    /// Every inconsistency that does not depend on the data, each naming its field (empty
    /// when the config may be usable); [`TrainConfig::check_for`] with the data's shape adds
    /// the rest.
    pub fn check(&self) -> Vec<String> {
        self.check_for(None)
    }

    /// Every inconsistency, each naming its field, for images of `input` (height, width,
    /// channels, bits of the data; the sensor's bits replace the data's). Without `input`,
    /// the spatial chain is not checked and the front end may have up to 255 levels.
    pub fn check_for(&self, input: Option<InputDims>) -> Vec<String> {
        let mut p = Vec::new();
        let fe = &self.front_end;
        let bits = match (&self.sensor, input) {
            (Some(s), _) => s.bits,
            (None, Some(i)) => i.bits,
            (None, None) => 16,
        };
        if let Some(s) = &self.sensor {
            p.extend(s.check());
        }
        let max_levels = match fe.kind {
            FrontEndKind::Binary => bits as usize,
            _ => ((1usize << bits.min(16)) - 1).min(255),
        };
        if !(1..=max_levels).contains(&fe.levels) {
            p.push(format!(
                "front_end.levels: expected 1..={max_levels} for {bits}-bit pixels, found {}",
                fe.levels
            ));
        }
        if fe.per_channel && fe.kind != FrontEndKind::Glt {
            p.push(
                "front_end.per_channel: only the glt front end learns per-channel thresholds"
                    .into(),
            );
        }
        if fe.temperature <= 0.0 {
            p.push(format!(
                "front_end.temperature: must be > 0, found {}",
                fe.temperature
            ));
        }
        if let (Some(a), Some(i)) = (self.data.augment, input) {
            let side = i.height.min(i.width);
            if 2 * a.shift >= side {
                p.push(format!(
                    "data.augment.shift: {} would move a {}x{} image out of view; expected < {}",
                    a.shift,
                    i.height,
                    i.width,
                    side.div_ceil(2)
                ));
            }
        }
        let mut channels = fe.levels * input.map_or(1, |i| i.channels);
        // Without the data's size, a size no layer can outgrow (the spatial checks pass).
        let (mut h, mut w) = input.map_or((1 << 30, 1 << 30), |i| (i.height, i.width));
        let mut names = Vec::new();
        // The first layer's input channels are M x C, with C known only with the data.
        let mut known = input.is_some();
        for (i, l) in self.layers.iter().enumerate() {
            match l {
                LayerConfig::Conv {
                    name,
                    channels: out,
                    kernel,
                    stride,
                    padding,
                    in_blocks,
                    out_blocks,
                    grouped,
                    ..
                } => {
                    names.push(name.clone());
                    if *kernel == 0 || *stride == 0 || *out == 0 {
                        p.push(format!(
                            "layers[{i}] ({name}): kernel, stride and channels must be >= 1"
                        ));
                        continue;
                    }
                    if *in_blocks == 0 || (known && !channels.is_multiple_of(*in_blocks)) {
                        p.push(format!("layers[{i}] ({name}).in_blocks: {in_blocks} does not divide {channels} input channels"));
                    }
                    known = true;
                    if *out_blocks == 0 || out % out_blocks != 0 {
                        p.push(format!("layers[{i}] ({name}).out_blocks: {out_blocks} does not divide {out} output channels"));
                    }
                    if *grouped && in_blocks != out_blocks {
                        p.push(format!("layers[{i}] ({name}).grouped: needs in_blocks == out_blocks, found {in_blocks} and {out_blocks}"));
                    }
                    if h + 2 * padding < *kernel || w + 2 * padding < *kernel {
                        p.push(format!("layers[{i}] ({name}): kernel {kernel} larger than the padded {h}x{w} input"));
                        continue;
                    }
                }
                LayerConfig::Maxpool { kernel, stride, .. } => {
                    if *kernel == 0 || *stride == 0 || *kernel > h || *kernel > w {
                        p.push(format!("layers[{i}] (maxpool): kernel {kernel} / stride {stride} do not fit the {h}x{w} input"));
                        continue;
                    }
                }
                LayerConfig::Dense {
                    name,
                    features,
                    in_blocks,
                    out_blocks,
                    ..
                } => {
                    names.push(name.clone());
                    if *in_blocks == 0 || (known && !channels.is_multiple_of(*in_blocks)) {
                        p.push(format!("layers[{i}] ({name}).in_blocks: {in_blocks} does not divide {channels} input channels"));
                    }
                    known = true;
                    if *out_blocks == 0 || *features == 0 || features % out_blocks != 0 {
                        p.push(format!("layers[{i}] ({name}).out_blocks: {out_blocks} does not divide {features} features"));
                    }
                }
            }
            (channels, h, w) = l.output_shape((channels, h, w));
        }
        if self.classifier.in_blocks == 0
            || (known && !channels.is_multiple_of(self.classifier.in_blocks))
        {
            p.push(format!(
                "classifier.in_blocks: {} does not divide {channels} input channels",
                self.classifier.in_blocks
            ));
        }
        names.push(self.classifier.name.clone());
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != names.len() {
            p.push("layers: names must be unique".into());
        }
        let s = &self.schedule;
        if s.epochs == 0 || s.batch == 0 || s.lr <= 0.0 {
            p.push("schedule: epochs, batch and lr must be > 0".into());
        }
        if let Some(pr) = &self.pruning {
            match (pr.kept_fraction, pr.weight_bits) {
                (Some(f), None) if !(f > 0.0 && f <= 1.0) => {
                    p.push(format!("pruning.kept_fraction: expected (0, 1], found {f}"))
                }
                (Some(_), None) | (None, Some(_)) => {}
                _ => p.push("pruning: give exactly one of kept_fraction and weight_bits".into()),
            }
            if pr.end_epoch < pr.start_epoch || pr.end_epoch > s.epochs {
                p.push(format!(
                    "pruning: need start_epoch <= end_epoch <= schedule.epochs ({}), found {}..{}",
                    s.epochs, pr.start_epoch, pr.end_epoch
                ));
            }
            let any = self.classifier.prune
                || self.layers.iter().any(|l| {
                    matches!(
                        l,
                        LayerConfig::Conv { prune: true, .. }
                            | LayerConfig::Dense { prune: true, .. }
                    )
                });
            if !any {
                p.push("pruning: no layer has `prune = true`".into());
            }
        }
        if let Some(d) = &self.distill {
            if !(0.0..=1.0).contains(&d.weight) || d.temperature <= 0.0 {
                p.push("distill: need 0 <= weight <= 1 and temperature > 0".into());
            }
            if d.teacher_lr.is_some_and(|lr| lr.is_nan() || lr <= 0.0) {
                p.push("distill.teacher_lr: must be > 0".into());
            }
            if d.teacher_layers.is_some() || d.teacher_augment.is_some() {
                // The teacher's config is the student's with these two swapped in, so its
                // problems are named by the key that put them there.
                let own_augment = d.teacher_augment.is_some();
                p.extend(self.teacher_config().check_for(input).into_iter().map(|m| {
                    match m.strip_prefix("data.augment.") {
                        Some(rest) if own_augment => format!("distill.teacher_augment.{rest}"),
                        _ => format!("distill.teacher_layers: {m}"),
                    }
                }));
            }
        }
        p
    }

    /// The float teacher's config: the student's, with `distill.teacher_layers` as its layers,
    /// `distill.teacher_lr` as its learning rate and `distill.teacher_augment` as its
    /// augmentation (if given), and without pruning or distillation of its own.
    pub fn teacher_config(&self) -> TrainConfig {
        let mut t = self.clone();
        if let Some(d) = &self.distill {
            if let Some(layers) = &d.teacher_layers {
                t.layers = layers.clone();
            }
            if let Some(lr) = d.teacher_lr {
                t.schedule.lr = lr;
            }
            if let Some(a) = d.teacher_augment {
                t.data.augment = Some(a);
            }
        }
        t.pruning = None;
        t.distill = None;
        t
    }
}

/// Apply one `a.b.c=VALUE` override to a parsed config (missing tables are created).
fn apply_override(table: &mut toml::Table, spec: &str) -> Result<(), String> {
    let (key, raw) = spec
        .split_once('=')
        .ok_or_else(|| "expected KEY=VALUE".to_string())?;
    let path: Vec<&str> = key.trim().split('.').collect();
    if path.iter().any(|p| p.is_empty()) {
        return Err(format!("bad key `{key}`"));
    }
    let raw = raw.trim();
    let value = match format!("v = {raw}").parse::<toml::Table>() {
        Ok(mut t) => t.remove("v").expect("the key just written"),
        Err(_) => toml::Value::String(raw.to_string()),
    };
    let mut root = toml::Value::Table(std::mem::take(table));
    let done = set_path(&mut root, &path, value, "");
    if let toml::Value::Table(t) = root {
        *table = t;
    }
    done
}

/// Set `path` below `at` (`above` is the path walked so far, for messages).
fn set_path(
    at: &mut toml::Value,
    path: &[&str],
    value: toml::Value,
    above: &str,
) -> Result<(), String> {
    let (step, rest) = path.split_first().expect("a non-empty path");
    let here = if above.is_empty() {
        step.to_string()
    } else {
        format!("{above}.{step}")
    };
    let slot = match at {
        toml::Value::Table(t) if rest.is_empty() => {
            t.insert(step.to_string(), value);
            return Ok(());
        }
        toml::Value::Table(t) => t
            .entry(step.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new())),
        toml::Value::Array(a) => {
            let n = a.len();
            let idx: usize = step
                .parse()
                .map_err(|_| format!("`{above}` is an array: `{step}` is not an index"))?;
            let item = a
                .get_mut(idx)
                .ok_or_else(|| format!("`{above}` has {n} entries, no index {idx}"))?;
            if rest.is_empty() {
                *item = value;
                return Ok(());
            }
            item
        }
        _ => return Err(format!("`{above}` is neither a table nor an array")),
    };
    set_path(slot, rest, value, &here)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
[front_end]
kind = "glt"
levels = 8
[[layers]]
kind = "conv"
name = "conv1"
channels = 16
[[layers]]
kind = "maxpool"
"#;

    fn with(overrides: &[&str]) -> Result<TrainConfig, String> {
        let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        TrainConfig::parse_with(BASE, "base.toml", &o).map_err(|e| e.to_string())
    }

    /// The first layer sees M x C channels: blocks of 3 fit 2 levels of an RGB image, not of a
    /// grey one, so the file alone passes and the data decides.
    #[test]
    fn the_first_layers_blocks_are_checked_against_the_datas_channels() {
        let c = with(&["front_end.levels=2", "layers.0.in_blocks=3"]).unwrap();
        let dims = |channels| InputDims {
            height: 8,
            width: 8,
            channels,
            bits: 8,
        };
        assert!(c.check_for(Some(dims(3))).is_empty());
        let e = c.check_for(Some(dims(1))).join("; ");
        assert!(e.contains("3 does not divide 2 input channels"), "{e}");
        let e = c.check_for(Some(dims(3)).map(|d| InputDims { height: 1, ..d }));
        assert!(e.join("; ").contains("do not fit the 1x8 input"), "{e:?}");
    }

    #[test]
    fn an_augmentation_shift_must_leave_the_image_in_view() {
        let c = with(&["data.augment.shift=4", "data.augment.flip=true"]).unwrap();
        let a = c.data.augment.expect("augment read");
        assert!(a.flip && a.shift == 4);
        let dims = |side| InputDims {
            height: side,
            width: 28,
            channels: 1,
            bits: 8,
        };
        assert!(c.check_for(Some(dims(9))).is_empty());
        let e = c.check_for(Some(dims(8))).join("; ");
        assert!(e.contains("data.augment.shift: 4"), "{e}");
        let bad = format!("{BASE}\n[data.augment]\nshift = 1\nmirror = true\n");
        let e = TrainConfig::parse(&bad, "aug.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("mirror"), "{e}");
    }

    #[test]
    fn overrides_set_bare_strings_numbers_new_tables_and_array_entries() {
        let c = with(&[
            "front_end.kind=uniform",
            "front_end.levels=4",
            "front_end.init=\"quantile\"",
            "layers.0.channels=8",
            "schedule.lr=0.5",
        ])
        .unwrap();
        assert_eq!(c.front_end.kind, FrontEndKind::Uniform);
        assert_eq!(c.front_end.levels, 4);
        assert_eq!(c.front_end.init, ThresholdInit::Quantile);
        assert!(matches!(c.layers[0], LayerConfig::Conv { channels: 8, .. }));
        assert_eq!(c.schedule.lr, 0.5);
        // Without overrides the file is read as written.
        let plain = with(&[]).unwrap();
        assert_eq!(plain.front_end.kind, FrontEndKind::Glt);
        assert_eq!(plain.schedule.lr, ScheduleConfig::default().lr);
    }

    #[test]
    fn a_teacher_may_have_its_own_layers_checked_like_the_students() {
        let kd = format!(
            "{BASE}\n[distill]\nteacher_epochs = 1\ntemperature = 4.0\nweight = 0.7\n\
             [[distill.teacher_layers]]\nkind = \"conv\"\nname = \"t1\"\nchannels = 64\n"
        );
        let c = TrainConfig::parse(&kd, "kd.toml").unwrap();
        let t = c.teacher_config();
        assert!(matches!(
            t.layers[..],
            [LayerConfig::Conv { channels: 64, .. }]
        ));
        assert!(t.distill.is_none() && t.pruning.is_none());
        assert!(matches!(
            c.layers[0],
            LayerConfig::Conv { channels: 16, .. }
        ));
        assert_eq!(
            t.schedule.lr, c.schedule.lr,
            "the student's rate by default"
        );
        let o = vec!["distill.teacher_lr=0.002".to_string()];
        let c = TrainConfig::parse_with(&kd, "kd.toml", &o).unwrap();
        assert_eq!(c.teacher_config().schedule.lr, 0.002);
        assert_eq!(c.schedule.lr, ScheduleConfig::default().lr);
        // A kernel larger than the input: known only once the data's size is.
        let bad = kd.replace("channels = 64", "channels = 64\nkernel = 99");
        let c = TrainConfig::parse(&bad, "kd.toml").unwrap();
        let fashion = InputDims {
            height: 28,
            width: 28,
            channels: 1,
            bits: 8,
        };
        let e = c.check_for(Some(fashion)).join("; ");
        assert!(e.contains("distill.teacher_layers: layers[0] (t1)"), "{e}");
        assert!(e.contains("larger than the padded 28x28 input"), "{e}");
    }

    #[test]
    fn a_teacher_may_have_its_own_augmentation_checked_like_the_students() {
        let kd = format!(
            "{BASE}\n[distill]\nteacher_epochs = 1\ntemperature = 4.0\nweight = 0.7\n\
             [distill.teacher_augment]\nshift = 2\nflip = true\n"
        );
        let c = TrainConfig::parse(&kd, "kd.toml").unwrap();
        assert!(c.data.augment.is_none(), "the student sees plain images");
        let a = c.teacher_config().data.augment.expect("the teacher's own");
        assert_eq!((a.shift, a.flip), (2, true));
        let fashion = InputDims {
            height: 28,
            width: 28,
            channels: 1,
            bits: 8,
        };
        assert!(c.check_for(Some(fashion)).is_empty());
        let c = TrainConfig::parse(&kd.replace("shift = 2", "shift = 14"), "kd.toml").unwrap();
        let e = c.check_for(Some(fashion)).join("; ");
        assert!(e.contains("distill.teacher_augment.shift: 14"), "{e}");
        let bad = kd.replace("flip = true", "mirror = true");
        let e = TrainConfig::parse(&bad, "kd.toml").unwrap_err().to_string();
        assert!(e.contains("mirror"), "{e}");
    }

    #[test]
    fn bad_overrides_are_errors_naming_the_override() {
        for (o, want) in [
            ("front_end.colour=3", "colour"),
            ("front_end.kind=thermo", "thermo"),
            ("layers.5.channels=3", "no index 5"),
            ("layers.x.channels=3", "not an index"),
            ("front_end.levels.x=1", "neither a table nor an array"),
            ("front_end.levels", "expected KEY=VALUE"),
            ("front_end..levels=2", "bad key"),
        ] {
            let e = with(&[o]).expect_err(o);
            assert!(e.contains("base.toml"), "{o}: {e}");
            assert!(e.contains(want), "{o}: `{e}` lacks `{want}`");
        }
    }
}
