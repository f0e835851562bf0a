//! The training config file (`*.train.toml`): topology and schedule of one training run.
//!
//! The file is read with `deny_unknown_fields` everywhere so a misspelt key is an error, not
//! a silently ignored setting; [`TrainConfig::check`] then collects every inconsistency
//! (shapes that do not chain, blocks that do not divide channels, budgets out of range) with
//! the field it comes from. `docs/training.md` documents every key.

use serde::Deserialize;
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
    /// Directory with the four Fashion-MNIST gzip IDX files; `--data` overrides it.
    pub dir: Option<String>,
    /// Training images used (0 = all that remain after the validation split).
    pub train_subset: usize,
    /// Images held out of the training set for validation (taken from its end).
    pub validation: usize,
    /// Test images used for the final figures (0 = all 10,000).
    pub test_subset: usize,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            dir: None,
            train_subset: 0,
            validation: 5000,
            test_subset: 0,
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
    /// M, thresholds per channel (ignored by `binary`, which has B = 8 planes).
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

/// Knowledge distillation from a float teacher of the same topology.
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
        let cfg: TrainConfig =
            toml::from_str(text).map_err(|e| super::TrainError::Config(format!("{file}: {e}")))?;
        let problems = cfg.check();
        if problems.is_empty() {
            Ok(cfg)
        } else {
            Err(super::TrainError::Config(format!(
                "{file}:\n  {}",
                problems.join("\n  ")
            )))
        }
    }

    /// Every inconsistency, each naming its field (empty when the config is usable).
    pub fn check(&self) -> Vec<String> {
        let mut p = Vec::new();
        let fe = &self.front_end;
        if fe.kind != FrontEndKind::Binary && !(1..=255).contains(&fe.levels) {
            p.push(format!(
                "front_end.levels: expected 1..=255, found {}",
                fe.levels
            ));
        }
        if fe.temperature <= 0.0 {
            p.push(format!(
                "front_end.temperature: must be > 0, found {}",
                fe.temperature
            ));
        }
        let mut channels = match fe.kind {
            FrontEndKind::Binary => 8,
            _ => fe.levels,
        };
        let (mut h, mut w) = (28usize, 28usize);
        let mut names = Vec::new();
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
                    if *in_blocks == 0 || channels % in_blocks != 0 {
                        p.push(format!("layers[{i}] ({name}).in_blocks: {in_blocks} does not divide {channels} input channels"));
                    }
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
                    h = (h + 2 * padding - kernel) / stride + 1;
                    w = (w + 2 * padding - kernel) / stride + 1;
                    channels = *out;
                }
                LayerConfig::Maxpool { kernel, stride, .. } => {
                    if *kernel == 0 || *stride == 0 || *kernel > h || *kernel > w {
                        p.push(format!("layers[{i}] (maxpool): kernel {kernel} / stride {stride} do not fit the {h}x{w} input"));
                        continue;
                    }
                    h = (h - kernel) / stride + 1;
                    w = (w - kernel) / stride + 1;
                }
                LayerConfig::Dense {
                    name,
                    features,
                    in_blocks,
                    out_blocks,
                    ..
                } => {
                    names.push(name.clone());
                    if *in_blocks == 0 || channels % in_blocks != 0 {
                        p.push(format!("layers[{i}] ({name}).in_blocks: {in_blocks} does not divide {channels} input channels"));
                    }
                    if *out_blocks == 0 || *features == 0 || features % out_blocks != 0 {
                        p.push(format!("layers[{i}] ({name}).out_blocks: {out_blocks} does not divide {features} features"));
                    }
                    channels = *features;
                    h = 1;
                    w = 1;
                }
            }
        }
        if self.classifier.in_blocks == 0 || channels % self.classifier.in_blocks != 0 {
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
        }
        p
    }
}
