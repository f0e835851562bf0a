//! Turn model-file text into a validated `Model`, collecting every problem found.
//!
//! Reading goes in steps (`read`): TOML syntax, `format_version`, top-level keys, each
//! section through its serde schema and its checks (`input.rs`, `front_end.rs`), each layer
//! table on its own (`layers.rs`, with `weights.rs` for what weighted layers share), then the
//! walk over the layer list that chains the shapes from the input to the classifier
//! (`graph.rs`). A step that fails stops only what depends on it, so one run reports as many
//! independent problems as it can.

mod front_end;
mod graph;
mod input;
mod layers;
mod weights;

use std::path::Path;

use serde::de::DeserializeOwned;

use super::error::{Diagnostic, LayerRef, ModelErrors, Section};
use super::limits::*;
use super::locate::{field_by_value, field_in_message, line_of_diagnostic, plain_types};
use super::schema::*;
use super::toml_lines::line_col;
use super::*;
use front_end::check_front_end;
use graph::{check_layers, check_tensor};
use input::check_input;
use layers::read_layers;

/// Largest magnitude accepted for thresholds and biases: keeps every sum in hardware
/// registers of bounded width.
pub const MAX_INTEGER: i64 = 1 << 30;

/// Read and validate a model file (at most [`MAX_FILE_BYTES`]).
pub fn load(path: &Path) -> Result<Model, ModelErrors> {
    let file = path.display().to_string();
    match read_capped(path, MAX_FILE_BYTES) {
        Ok(text) => parse(&text, &file),
        Err(e) => Err(ModelErrors {
            file,
            text: String::new(),
            diagnostics: vec![Diagnostic {
                section: Section::File,
                field: String::new(),
                message: format!("cannot read the file: {e}"),
                line: None,
                span: None,
            }],
        }),
    }
}

/// Validate model text; `file` names it in diagnostics.
pub fn parse(text: &str, file: &str) -> Result<Model, ModelErrors> {
    let mut cx = Ctx { diags: Vec::new() };
    let model = read(text, &mut cx);
    match model {
        Some(m) if cx.diags.is_empty() => Ok(m),
        _ => {
            assert!(
                !cx.diags.is_empty(),
                "validation failed without a diagnostic"
            );
            for d in &mut cx.diags {
                d.line = line_of_diagnostic(text, d);
            }
            Err(ModelErrors {
                file: file.to_string(),
                text: text.to_string(),
                diagnostics: cx.diags,
            })
        }
    }
}

struct Ctx {
    diags: Vec<Diagnostic>,
}

impl Ctx {
    fn err(&mut self, section: &Section, field: impl Into<String>, message: impl Into<String>) {
        self.diags.push(Diagnostic {
            section: section.clone(),
            field: field.into(),
            message: message.into(),
            line: None,
            span: None,
        });
    }

    /// Deserialize one table through its schema, reporting serde's complaint under `section`
    /// with the path of the field it is about (`kernel`, `kernel[1]`).
    fn de<T: DeserializeOwned>(&mut self, section: &Section, value: toml::Value) -> Option<T> {
        let value_copy = value.clone();
        match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(v) => Some(v),
            Err(e) => {
                let path = e.path().to_string();
                let msg = plain_types(e.inner().message().trim());
                let field = field_in_message(&msg)
                    .or_else(|| (path != ".").then(|| path.clone()))
                    .or_else(|| field_by_value(&value_copy, &msg))
                    .unwrap_or_default();
                self.err(section, field, msg);
                None
            }
        }
    }
}

const TOP_KEYS: [&str; 5] = ["format_version", "meta", "input", "front_end", "layers"];

/// The steps of validation; each one runs when what it depends on has been read.
fn read(text: &str, cx: &mut Ctx) -> Option<Model> {
    let table = parse_toml(text, cx)?;
    check_version(&table, cx)?;
    check_top_keys(&table, cx);
    let meta = read_section::<RawMeta>(&table, "meta", cx);
    let input = read_section::<RawInput>(&table, "input", cx);
    let front = read_section::<RawFrontEnd>(&table, "front_end", cx);
    let input = input.and_then(|i| check_input(&i, cx));
    let front_end = match (&front, &input) {
        (Some(f), Some(i)) => check_front_end(f, i, cx),
        _ => None,
    };
    let raw_layers = read_layers(table.get("layers"), cx);
    let meta = meta.map(|m| check_meta(m, cx));
    let start = match (&input, &front_end) {
        (Some(i), Some(f)) => check_tensor(f.output_shape(i), &Section::Named("front_end"), cx),
        _ => None,
    };
    let layers = check_layers(&raw_layers, start, meta.as_ref(), cx);
    Some(Model {
        meta: meta?,
        input: input?,
        front_end: front_end?,
        layers: layers?,
    })
}

/// TOML syntax: the whole file as one table, or one diagnostic with the line and column.
fn parse_toml(text: &str, cx: &mut Ctx) -> Option<toml::Table> {
    match text.parse() {
        Ok(t) => Some(t),
        Err(e) => {
            let e: toml::de::Error = e;
            let msg = e.message().trim().to_string();
            let at = e
                .span()
                .map(|s| {
                    let (l, c) = line_col(text, s.start);
                    let line = text.lines().nth(l - 1).unwrap_or("").trim();
                    format!(" at line {l}, column {c} ({line:?})")
                })
                .unwrap_or_default();
            cx.err(&Section::File, "", format!("TOML syntax error{at}: {msg}"));
            if let Some(d) = cx.diags.last_mut() {
                d.span = e.span();
            }
            None
        }
    }
}

/// `format_version` must be present and equal to the one this build reads.
fn check_version(table: &toml::Table, cx: &mut Ctx) -> Option<()> {
    let file = Section::File;
    match table.get("format_version") {
        None => {
            cx.err(
                &file,
                "format_version",
                format!("missing; expected {FORMAT_VERSION}"),
            );
            None
        }
        Some(toml::Value::Integer(v)) if *v == FORMAT_VERSION as i64 => Some(()),
        Some(v) => {
            cx.err(
                &file,
                "format_version",
                format!("unsupported version {v}; this build reads version {FORMAT_VERSION}"),
            );
            None
        }
    }
}

fn check_top_keys(table: &toml::Table, cx: &mut Ctx) {
    for key in table.keys() {
        if !TOP_KEYS.contains(&key.as_str()) {
            cx.err(
                &Section::File,
                key.clone(),
                format!(
                    "unknown top-level field; expected one of {}",
                    TOP_KEYS.join(", ")
                ),
            );
        }
    }
}

/// One top-level section through its schema; a missing one is reported under the file.
fn read_section<T: DeserializeOwned>(
    table: &toml::Table,
    name: &'static str,
    cx: &mut Ctx,
) -> Option<T> {
    let v = table.get(name).cloned();
    if v.is_none() {
        cx.err(&Section::File, name, "missing section");
    }
    v.and_then(|v| cx.de(&Section::Named(name), v))
}

/// `[meta]` changes nothing that the model computes; only its name must not be empty (the
/// layers are still checked against its class names).
fn check_meta(m: RawMeta, cx: &mut Ctx) -> Meta {
    if m.name.trim().is_empty() {
        cx.err(&Section::Named("meta"), "name", "must not be empty");
    }
    Meta {
        name: m.name,
        description: m.description,
        provenance: m.provenance,
        classes: m.classes,
    }
}

fn positive(v: i64, s: &Section, field: &str, cx: &mut Ctx) -> Option<usize> {
    if v < 1 {
        cx.err(s, field, format!("must be at least 1, found {v}"));
        None
    } else {
        Some(v as usize)
    }
}

/// A positive integer no larger than `max` (a documented limit).
fn bounded(v: i64, max: usize, s: &Section, field: &str, cx: &mut Ctx) -> Option<usize> {
    let v = positive(v, s, field, cx)?;
    if v > max {
        cx.err(s, field, format!("{v} is above the limit of {max}"));
        return None;
    }
    Some(v)
}
