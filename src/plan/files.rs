//! Reading hardware-configuration and plan files (docs/hw-config.md).
//!
//! A file is read with a size cap, parsed as TOML, and checked: the values on their own
//! (clock, fps, pop-count stages, plan version), then against the model (layer names, folds).
//! Every problem names the file, the line and the field, so a user can go straight to it;
//! the checks collect every problem they find rather than stopping at the first.

use std::path::Path;

use crate::model::annotate::{self, Annotated, FileKind, Problem};
use crate::model::limits::read_capped;
use crate::model::toml_lines::{line_col, line_of, path_at, Seg};
use crate::model::Model;

use super::fit::{self, FitError};
use super::{
    check_fold, plan_from_folds, set_folding, Fold, HwConfig, Plan, PlanError, WeightStore,
    PLAN_FORMAT_VERSION,
};

/// Largest hardware or plan file read, in bytes.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Largest target clock, in MHz.
pub const MAX_CLOCK_MHZ: f64 = 10_000.0;

/// Most pipeline registers in one pop-count tree (a tree over 2^32 lanes has 32 levels).
pub const MAX_POPCOUNT_STAGES: u32 = 32;

/// One problem in a hardware or plan file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    /// 1-based line, when the field is written in the file.
    pub line: Option<usize>,
    /// Dotted field path, e.g. `layers.conv2.pe` or `layers[3].simd`.
    pub field: String,
    pub message: String,
}

/// One line per problem: `FILE:LINE: FIELD: MESSAGE`.
pub(crate) fn render(path: &str, problems: &[FileProblem]) -> String {
    problems
        .iter()
        .map(|p| {
            let line = p.line.map(|l| format!(":{l}")).unwrap_or_default();
            let field = if p.field.is_empty() {
                String::new()
            } else {
                format!("{}: ", p.field)
            };
            format!("{path}{line}: {field}{}", p.message)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

impl PlanError {
    /// The error as a diagnostic with code, source lines and help, when it is about a `kind`
    /// file (hardware config or plan) the user wrote; `None` for errors of the folding
    /// itself. The file is read again for its source lines (it was read moments before; if
    /// it is gone, the diagnostics come without them).
    pub fn annotated(&self, kind: FileKind) -> Option<Annotated> {
        let e = self;
        match e {
            PlanError::Read { path, source } => Some(Annotated::plain(
                kind,
                "unreadable",
                e.to_string(),
                Some(format!(
                    "check that {path} exists and is readable ({})",
                    source.kind()
                )),
            )),
            PlanError::File { path, problems } => {
                let text = read_capped(Path::new(path), MAX_CONFIG_BYTES).ok();
                let source = text.as_deref().map(|t| annotate::source(path, t));
                let items = problems
                    .iter()
                    .map(|p| {
                        Annotated::problem(&Problem {
                            kind,
                            file: path,
                            source: source.as_ref(),
                            line: p.line,
                            span: None,
                            place: p.field.clone(),
                            key: p.field.rsplit('.').next().unwrap_or(&p.field),
                            message: &p.message,
                        })
                    })
                    .collect();
                Some(Annotated::file(kind, path, items))
            }
            PlanError::Fold { .. } | PlanError::Model { .. } | PlanError::Fit(_) => None,
        }
    }
}

/// The text of one file, its path for messages, and the problems found so far.
struct Source {
    path: String,
    text: String,
    problems: Vec<FileProblem>,
}

impl Source {
    fn read(path: &Path) -> Result<Source, PlanError> {
        let text = read_capped(path, MAX_CONFIG_BYTES).map_err(|e| PlanError::Read {
            path: path.display().to_string(),
            source: e,
        })?;
        Ok(Source {
            path: path.display().to_string(),
            text,
            problems: Vec::new(),
        })
    }

    /// Deserialize the whole file; a syntax or type error names its line and field.
    fn parse<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, PlanError> {
        toml::from_str(&self.text).map_err(|e| {
            let (line, field) = match e.span() {
                Some(s) => (
                    Some(line_col(&self.text, s.start).0),
                    path_at(&self.text, s.start).unwrap_or_default(),
                ),
                None => (None, String::new()),
            };
            // A file that is not TOML at all says so; the rest are type errors of a field.
            let syntax = toml::de::DeTable::parse(&self.text).is_err();
            let message = e.message().trim();
            let message = if syntax {
                format!("TOML syntax error: {message}")
            } else {
                message.to_string()
            };
            let message = message
                .replace("expected f64", "expected a number")
                .replace("expected u32", "expected a non-negative integer")
                .replace("expected usize", "expected a non-negative integer");
            PlanError::File {
                path: self.path.clone(),
                problems: vec![FileProblem {
                    line,
                    field,
                    message,
                }],
            }
        })
    }

    fn problem(&mut self, path: &[Seg], message: impl Into<String>) {
        let field = path
            .iter()
            .map(|s| match s {
                Seg::Key(k) => format!(".{k}"),
                Seg::Index(i) => format!("[{i}]"),
            })
            .collect::<String>();
        self.problems.push(FileProblem {
            line: line_of(&self.text, path),
            field: field.trim_start_matches('.').to_string(),
            message: message.into(),
        });
    }

    /// Fail with every problem found so far, if any.
    fn finish(&mut self) -> Result<(), PlanError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(PlanError::File {
                path: self.path.clone(),
                problems: std::mem::take(&mut self.problems),
            })
        }
    }
}

/// Check the clock and pop-count stages that hardware and plan files share.
fn check_common(src: &mut Source, clock_mhz: f64, popcount_stages: u32) {
    if !(clock_mhz.is_finite() && clock_mhz > 0.0 && clock_mhz <= MAX_CLOCK_MHZ) {
        src.problem(
            &[Seg::Key("clock_mhz")],
            format!(
                "must be a number of MHz above 0 and at most {MAX_CLOCK_MHZ}, found {clock_mhz}"
            ),
        );
    }
    if popcount_stages > MAX_POPCOUNT_STAGES {
        src.problem(
            &[Seg::Key("popcount_stages")],
            format!("must be 0..={MAX_POPCOUNT_STAGES}, found {popcount_stages}"),
        );
    }
}

fn check_hw_values(src: &mut Source, hw: &HwConfig) {
    check_common(src, hw.clock_mhz, hw.popcount());
    for (field, v) in [
        ("max_logic_percent", hw.max_logic_percent),
        ("max_bram_percent", hw.max_bram_percent),
    ] {
        if !(v.is_finite() && v > 0.0 && v <= 100.0) {
            src.problem(
                &[Seg::Key(field)],
                format!("must be a percentage above 0 and at most 100, found {v}"),
            );
        }
    }
    if hw.weights == Some(WeightStore::Spram) {
        if let Some(d) = hw.device.filter(|d| d.capacity().spram == 0) {
            src.problem(
                &[Seg::Key("weights")],
                format!("`spram` needs a device with SPRAM (ice40-up5k), not {d}"),
            );
        }
    }
    if let Some(b) = hw.dense_word_bits.filter(|b| !b.is_power_of_two()) {
        src.problem(
            &[Seg::Key("dense_word_bits")],
            format!("must be a power of two (channels per word), found {b}"),
        );
    }
    if let Some(f) = hw.fps {
        if !(f.is_finite() && f > 0.0) {
            src.problem(
                &[Seg::Key("fps")],
                format!("must be a number of frames per second above 0, found {f}"),
            );
        }
    }
}

/// Parse a hardware file: a `device` without `clock_mhz` takes the device's default clock;
/// `weights`, when given, replaces the file's.
fn parse_hw(src: &mut Source, weights: Option<WeightStore>) -> Result<HwConfig, PlanError> {
    let mut hw: HwConfig = src.parse()?;
    if weights.is_some() {
        hw.weights = weights;
    }
    if let Some(d) = hw.device {
        if line_of(&src.text, &[Seg::Key("clock_mhz")]).is_none() {
            hw.clock_mhz = d.default_clock_mhz();
        }
    }
    check_hw_values(src, &hw);
    Ok(hw)
}

/// Read a hardware configuration file and check its values (not yet against a model).
pub fn load_hw(path: &Path) -> Result<HwConfig, PlanError> {
    let mut src = Source::read(path)?;
    let hw = parse_hw(&mut src, None)?;
    src.finish()?;
    Ok(hw)
}

/// Read a hardware configuration file, check it against the model and fold the model with
/// it: every explicit fold names a layer with weights and divides its blocks, and an `fps`
/// target the folding cannot reach is an error unless `best_effort` is set. With a `device`,
/// the folding is the fastest that fits it (`fit::fit_to_device`), and `fps` is the least
/// frame rate accepted.
pub fn fold_hw_file(model: &Model, path: &Path) -> Result<(HwConfig, Plan), PlanError> {
    fold_hw_file_with(model, path, None)
}

/// [`fold_hw_file`], with `weights` (a command-line flag) in place of the file's `weights`.
pub fn fold_hw_file_with(
    model: &Model,
    path: &Path,
    weights: Option<WeightStore>,
) -> Result<(HwConfig, Plan), PlanError> {
    let mut src = Source::read(path)?;
    let hw = parse_hw(&mut src, weights)?;
    for (name, fold) in &hw.layers {
        let at = [Seg::Key("layers"), Seg::Key(name)];
        match model.layer_index(name) {
            None => src.problem(&at, "no such layer in the model"),
            Some(i) if model.layers[i].kind.weights().is_none() => src.problem(
                &at,
                format!(
                    "a {} layer has no weights and no folding; only conv, dense and \
                     classifier layers take pe, simd and taps",
                    model.layers[i].kind.tag()
                ),
            ),
            Some(i) => {
                if let Err(PlanError::Fold { message, .. }) = check_fold(model, i, *fold) {
                    let field = fold_field(&message);
                    src.problem(&[at[0], at[1], Seg::Key(field)], message);
                }
            }
        }
    }
    src.finish()?;
    let plan = match hw.device {
        Some(d) => match fit::fit_to_device(model, &hw, d) {
            Ok(f) => f.plan,
            Err(PlanError::Fit(e @ FitError::TooSlow { .. })) => {
                src.problem(&[Seg::Key("fps")], e.to_string());
                return Err(src.finish().expect_err("a problem was just recorded"));
            }
            Err(e) => return Err(e),
        },
        None => set_folding(model, &hw)?,
    };
    if hw.device.is_none() {
        if let Err(message) = check_reachable(&hw, &plan) {
            src.problem(&[Seg::Key("fps")], message);
            src.finish()?;
        }
    }
    Ok((hw, plan))
}

/// With an `fps` target and without `best_effort`, the plan must meet the target's cycle
/// budget; otherwise say what it reaches. The message is for the `fps` field.
pub fn check_reachable(hw: &HwConfig, plan: &Plan) -> Result<(), String> {
    let Some(fps) = hw.fps else {
        return Ok(());
    };
    let budget = ((hw.clock_mhz * 1e6 / fps).floor() as u64).max(1);
    if hw.best_effort || plan.cycles_per_frame <= budget {
        return Ok(());
    }
    let slowest = plan
        .layers
        .iter()
        .find(|l| l.cycles_per_frame == plan.cycles_per_frame)
        .map_or("the input stream (one pixel per cycle)".to_string(), |l| {
            format!("layer `{}`", l.name)
        });
    Err(format!(
        "{fps} frames/s is not reachable at {} MHz (a budget of {budget} cycles per frame): \
         the best folding reaches {:.1} frames/s, limited by {slowest} at {} cycles per \
         frame; lower fps, raise clock_mhz, or set best_effort = true to build at {:.1} \
         frames/s",
        hw.clock_mhz, plan.fps, plan.cycles_per_frame, plan.fps
    ))
}

/// Read a plan file written by `bnngen plan` (possibly edited) and re-derive its figures.
pub fn load_plan(model: &Model, path: &Path) -> Result<Plan, PlanError> {
    let mut src = Source::read(path)?;
    let p: Plan = src.parse()?;
    if p.format_version != PLAN_FORMAT_VERSION {
        src.problem(
            &[Seg::Key("format_version")],
            format!(
                "unsupported version {}; this build reads version {PLAN_FORMAT_VERSION}",
                p.format_version
            ),
        );
    }
    check_common(&mut src, p.clock_mhz, p.popcount_stages);
    if p.model != model.meta.name {
        src.problem(
            &[Seg::Key("model")],
            format!(
                "the plan is for model `{}`, not `{}`",
                p.model, model.meta.name
            ),
        );
    }
    if p.layers.len() != model.layers.len() {
        src.problem(
            &[Seg::Key("layers")],
            format!(
                "{} layers, the model has {}",
                p.layers.len(),
                model.layers.len()
            ),
        );
        src.finish()?;
    }
    let mut folds = Vec::new();
    for (i, (lp, l)) in p.layers.iter().zip(&model.layers).enumerate() {
        let at = |k| [Seg::Key("layers"), Seg::Index(i), Seg::Key(k)];
        if lp.name != l.name {
            src.problem(&at("name"), format!("expected layer `{}` here", l.name));
        }
        let f = Fold {
            pe: lp.pe,
            simd: lp.simd,
            taps: lp.taps,
        };
        if l.kind.weights().is_none() && (f.pe, f.simd, f.taps) != (1, 1, 1) {
            src.problem(
                &at("pe"),
                format!(
                    "a {} layer has no weights; its pe, simd and taps must be 1",
                    l.kind.tag()
                ),
            );
        } else if let Err(PlanError::Fold { message, .. }) = check_fold(model, i, f) {
            let field = fold_field(&message);
            src.problem(&at(field), format!("layer `{}`: {message}", l.name));
        }
        if lp.weights_in_logic && (l.kind.weights().is_none() || l.kind.fully_pruned()) {
            src.problem(
                &at("weights_in_logic"),
                format!("layer `{}` has no weight ROM to keep in logic", l.name),
            );
        }
        folds.push(f);
    }
    src.finish()?;
    // The word width of a dense layer's output, from the first layer handing on words.
    let dense_word_bits = (p.layers.iter().zip(&model.layers))
        .find(|(lp, _)| lp.out_words > 1)
        .map(|(lp, l)| l.output.channels / lp.out_words);
    let hw = HwConfig {
        clock_mhz: p.clock_mhz,
        front_end: p.front_end,
        popcount_stages: Some(p.popcount_stages),
        handoff: p.handoff,
        weights: Some(p.weights),
        dense_word_bits,
        ..HwConfig::default()
    };
    let mut plan = plan_from_folds(model, &hw, &folds);
    for (i, (lp, read)) in plan.layers.iter_mut().zip(&p.layers).enumerate() {
        lp.weights_in_logic = read.weights_in_logic;
        if read.out_words != lp.out_words {
            let at = [Seg::Key("layers"), Seg::Index(i), Seg::Key("out_words")];
            src.problem(
                &at,
                format!(
                    "layer `{}`: {} output words, which this folding cannot give; it \
                     gives {} here (words of a power-of-two channel count that the next \
                     layer can read: docs/hw-config.md, `dense_word_bits`)",
                    lp.name, read.out_words, lp.out_words
                ),
            );
        }
        if read.ring_groups != 1 && read.ring_groups != lp.ring_groups {
            let at = [Seg::Key("layers"), Seg::Index(i), Seg::Key("ring_groups")];
            let can = match lp.ring_groups {
                1 => "only 1 (whole words)".to_string(),
                g => format!("1 (whole words) or {g}"),
            };
            src.problem(
                &at,
                format!(
                    "layer `{}`: {} ring groups; at this folding it can have {can}",
                    lp.name, read.ring_groups
                ),
            );
        }
    }
    src.finish()?;
    // A ring the file stores as whole words (or, in files older than narrow rings, does not
    // mention) stays so.
    Ok(super::widen_rings(model, plan, |i| {
        p.layers[i].ring_groups == 1
    }))
}

/// The fold field (`pe`, `simd` or `taps`) a `check_fold` message is about: its first word.
fn fold_field(message: &str) -> &'static str {
    ["pe", "simd", "taps"]
        .into_iter()
        .find(|f| message.starts_with(&format!("{f} ")))
        .unwrap_or("pe")
}
