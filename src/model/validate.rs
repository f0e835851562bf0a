//! Turn model-file text into a validated `Model`, collecting every problem found.
//!
//! Reading goes in steps: TOML syntax, `format_version`, top-level keys, each section and
//! each layer through its serde schema, then the semantic checks that walk the shapes from
//! the input to the classifier. A step that fails stops only what depends on it, so one run
//! reports as many independent problems as it can.

use std::collections::HashMap;
use std::path::Path;

use serde::de::DeserializeOwned;

use super::error::{Diagnostic, LayerRef, ModelErrors, Section};
use super::limits::*;
use super::locate::{field_by_value, field_in_message, line_of_diagnostic, plain_types};
use super::schema::*;
use super::toml_lines::line_col;
use super::*;

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
            diagnostics: vec![Diagnostic {
                section: Section::File,
                field: String::new(),
                message: format!("cannot read the file: {e}"),
                line: None,
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

fn read(text: &str, cx: &mut Ctx) -> Option<Model> {
    let file = Section::File;
    let table: toml::Table = match text.parse() {
        Ok(t) => t,
        Err(e) => {
            let msg = e.message().trim().to_string();
            let at = e
                .span()
                .map(|s| {
                    let (l, c) = line_col(text, s.start);
                    let line = text.lines().nth(l - 1).unwrap_or("").trim();
                    format!(" at line {l}, column {c} ({line:?})")
                })
                .unwrap_or_default();
            cx.err(&file, "", format!("TOML syntax error{at}: {msg}"));
            return None;
        }
    };

    match table.get("format_version") {
        None => {
            cx.err(
                &file,
                "format_version",
                format!("missing; expected {FORMAT_VERSION}"),
            );
            return None;
        }
        Some(toml::Value::Integer(v)) if *v == FORMAT_VERSION as i64 => {}
        Some(v) => {
            cx.err(
                &file,
                "format_version",
                format!("unsupported version {v}; this build reads version {FORMAT_VERSION}"),
            );
            return None;
        }
    }
    for key in table.keys() {
        if !TOP_KEYS.contains(&key.as_str()) {
            cx.err(
                &file,
                key.clone(),
                format!(
                    "unknown top-level field; expected one of {}",
                    TOP_KEYS.join(", ")
                ),
            );
        }
    }

    let section = |name: &'static str, cx: &mut Ctx| -> Option<toml::Value> {
        let v = table.get(name).cloned();
        if v.is_none() {
            cx.err(&Section::File, name, "missing section");
        }
        v
    };
    let meta: Option<RawMeta> = section("meta", cx).and_then(|v| cx.de(&Section::Named("meta"), v));
    let input: Option<RawInput> =
        section("input", cx).and_then(|v| cx.de(&Section::Named("input"), v));
    let front: Option<RawFrontEnd> =
        section("front_end", cx).and_then(|v| cx.de(&Section::Named("front_end"), v));

    let input = input.and_then(|i| check_input(&i, cx));
    let front_end = match (&front, &input) {
        (Some(f), Some(i)) => check_front_end(f, i, cx),
        _ => None,
    };

    let raw_layers = read_layers(table.get("layers"), cx);
    let meta = meta.map(|m| Meta {
        name: m.name,
        description: m.description,
        provenance: m.provenance,
        classes: m.classes,
    });
    if let Some(m) = &meta {
        if m.name.trim().is_empty() {
            cx.err(&Section::Named("meta"), "name", "must not be empty");
        }
    }
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

fn check_input(raw: &RawInput, cx: &mut Ctx) -> Option<InputSpec> {
    let s = Section::Named("input");
    let before = cx.diags.len();
    for (field, v, max) in [
        ("height", raw.height, MAX_SIDE),
        ("width", raw.width, MAX_SIDE),
        ("channels", raw.channels, MAX_INPUT_CHANNELS),
    ] {
        if v == 0 {
            cx.err(&s, field, "must be at least 1, found 0");
        } else if v > max {
            cx.err(&s, field, format!("{v} is above the limit of {max}"));
        }
    }
    if !(1..=16).contains(&raw.bits) {
        cx.err(
            &s,
            "bits",
            format!("pixel bit depth must be 1..=16, found {}", raw.bits),
        );
    }
    (cx.diags.len() == before).then_some(InputSpec {
        height: raw.height,
        width: raw.width,
        channels: raw.channels,
        bits: raw.bits,
    })
}

/// Check one threshold list: length 1..=255, strictly increasing, inside 0..=max.
fn check_levels(list: &[i64], max: u32, field: &str, cx: &mut Ctx) -> Option<Vec<u32>> {
    let s = Section::Named("front_end");
    let before = cx.diags.len();
    if list.is_empty() || list.len() > 255 {
        cx.err(
            &s,
            field,
            format!("needs 1..=255 thresholds, found {}", list.len()),
        );
    }
    for (k, &t) in list.iter().enumerate() {
        if t < 0 || t > max as i64 {
            cx.err(
                &s,
                format!("{field}[{k}]"),
                format!("threshold {t} outside the pixel range 0..={max}"),
            );
        }
        if k > 0 && t <= list[k - 1] {
            cx.err(
                &s,
                format!("{field}[{k}]"),
                format!(
                    "thresholds must be strictly increasing; found {} then {t}",
                    list[k - 1]
                ),
            );
        }
    }
    (cx.diags.len() == before).then(|| list.iter().map(|&t| t as u32).collect())
}

fn check_front_end(raw: &RawFrontEnd, input: &InputSpec, cx: &mut Ctx) -> Option<FrontEnd> {
    let s = Section::Named("front_end");
    let max = input.max_pixel();
    match raw {
        RawFrontEnd::Binary {} => Some(FrontEnd::Binary),
        RawFrontEnd::Uniform { levels } => {
            if *levels < 1 || *levels > 255 || *levels > max as i64 {
                cx.err(
                    &s,
                    "levels",
                    format!(
                        "M must be 1..={} for {}-bit pixels, found {levels}",
                        max.min(255),
                        input.bits
                    ),
                );
                return None;
            }
            let t = uniform_thresholds(*levels as usize, input.bits);
            Some(FrontEnd::Thermometer(Thermometer {
                kind: ThermometerKind::Uniform,
                levels: *levels as usize,
                shared: true,
                thresholds: vec![t; input.channels],
            }))
        }
        RawFrontEnd::Glt {
            thresholds,
            channel_thresholds,
        } => {
            let (shared, lists) = match (thresholds, channel_thresholds) {
                (Some(t), None) => (
                    true,
                    vec![check_levels(t, max, "thresholds", cx)?; input.channels],
                ),
                (None, Some(per)) => {
                    if per.len() != input.channels {
                        cx.err(
                            &s,
                            "channel_thresholds",
                            format!(
                                "expected one list per input channel ({}), found {}",
                                input.channels,
                                per.len()
                            ),
                        );
                        return None;
                    }
                    let mut lists = Vec::new();
                    for (c, l) in per.iter().enumerate() {
                        lists.push(check_levels(
                            l,
                            max,
                            &format!("channel_thresholds[{c}]"),
                            cx,
                        ));
                    }
                    let lists: Option<Vec<_>> = lists.into_iter().collect();
                    let lists = lists?;
                    if lists.iter().any(|l| l.len() != lists[0].len()) {
                        cx.err(
                            &s,
                            "channel_thresholds",
                            "every channel needs the same number M of thresholds",
                        );
                        return None;
                    }
                    (false, lists)
                }
                _ => {
                    cx.err(
                        &s,
                        "thresholds",
                        "glt needs exactly one of `thresholds` (shared) or `channel_thresholds`",
                    );
                    return None;
                }
            };
            Some(FrontEnd::Thermometer(Thermometer {
                kind: ThermometerKind::Glt,
                levels: lists[0].len(),
                shared,
                thresholds: lists,
            }))
        }
    }
}

/// Deserialize each layer table on its own so a bad layer is named by index and name.
fn read_layers(v: Option<&toml::Value>, cx: &mut Ctx) -> Vec<(LayerRef, Option<RawLayer>)> {
    let list = match v {
        None => {
            cx.err(
                &Section::File,
                "layers",
                "missing; a model needs at least a classifier",
            );
            return Vec::new();
        }
        Some(toml::Value::Array(a)) if a.len() > MAX_LAYERS => {
            cx.err(
                &Section::File,
                "layers",
                format!("{} layers are above the limit of {MAX_LAYERS}", a.len()),
            );
            return Vec::new();
        }
        Some(toml::Value::Array(a)) => a,
        Some(_) => {
            cx.err(
                &Section::File,
                "layers",
                "must be an array of tables ([[layers]])",
            );
            return Vec::new();
        }
    };
    list.iter()
        .enumerate()
        .map(|(index, v)| {
            let name = v.get("name").and_then(|n| n.as_str()).map(str::to_string);
            let r = LayerRef { index, name };
            let raw = cx.de::<RawLayer>(&Section::Layer(r.clone()), v.clone());
            (r, raw)
        })
        .collect()
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

/// A tensor (the front end's or a layer's output) within the channel and size limits; its
/// figures come from checked sides, so the products cannot wrap.
fn check_tensor(shape: Shape, s: &Section, cx: &mut Ctx) -> Option<Shape> {
    let bits = shape
        .height
        .checked_mul(shape.width)
        .and_then(|p| p.checked_mul(shape.channels));
    if shape.channels > MAX_CHANNELS {
        cx.err(
            s,
            "",
            format!(
                "the output has {} channels, above the limit of {MAX_CHANNELS}",
                shape.channels
            ),
        );
        return None;
    }
    match bits {
        Some(b) if b <= MAX_TENSOR_BITS => Some(shape),
        _ => {
            cx.err(
                s,
                "",
                format!(
                    "the output tensor {shape} has {} bits, above the limit of {MAX_TENSOR_BITS}",
                    bits.map_or("too many".to_string(), |b| b.to_string())
                ),
            );
            None
        }
    }
}

/// Parameters shared by every weighted layer, before the input shape is applied.
struct WeightSpec<'a> {
    out: i64,
    out_field: &'static str,
    in_blocks: i64,
    out_blocks: i64,
    mask: &'a Option<Vec<String>>,
    weights: &'a str,
}

fn check_weights(
    w: &WeightSpec,
    in_channels: usize,
    kernel: (usize, usize),
    s: &Section,
    cx: &mut Ctx,
) -> Option<BlockWeights> {
    let before = cx.diags.len();
    let out = bounded(w.out, MAX_CHANNELS, s, w.out_field, cx);
    let ib = positive(w.in_blocks, s, "in_blocks", cx);
    let ob = positive(w.out_blocks, s, "out_blocks", cx);
    let (out, ib, ob) = (out?, ib?, ob?);
    if !in_channels.is_multiple_of(ib) {
        cx.err(
            s,
            "in_blocks",
            format!("input channels ({in_channels}) are not divisible by in_blocks ({ib})"),
        );
    }
    if !out.is_multiple_of(ob) {
        cx.err(
            s,
            "out_blocks",
            format!(
                "{} ({out}) is not divisible by out_blocks ({ob})",
                w.out_field
            ),
        );
    }
    // Weight counts in 64 bits from checked figures: out and in <= MAX_CHANNELS, the kernel
    // <= MAX_SIDE squared (or a tensor for dense layers), so no product wraps.
    let dense = out as u64 * kernel.0 as u64 * kernel.1 as u64 * in_channels as u64;
    if dense > MAX_LAYER_WEIGHTS {
        cx.err(
            s,
            "weights",
            format!(
                "{dense} weights ({out} outputs x {}x{} x {in_channels} inputs) are above the \
                 limit of {MAX_LAYER_WEIGHTS} per layer",
                kernel.0, kernel.1
            ),
        );
    }
    if ib.saturating_mul(ob) > MAX_TILES {
        cx.err(
            s,
            "in_blocks",
            format!("{ib} x {ob} tiles are above the limit of {MAX_TILES} per layer",),
        );
    }
    if cx.diags.len() != before {
        return None;
    }
    let mut mask = vec![true; ib * ob];
    if let Some(rows) = w.mask {
        if rows.len() != ob {
            cx.err(
                s,
                "mask",
                format!(
                    "expected {ob} rows (one per out-block), found {}",
                    rows.len()
                ),
            );
        }
        for (r, row) in rows.iter().enumerate().take(ob) {
            let chars: Vec<char> = row.chars().collect();
            if chars.len() != ib || chars.iter().any(|&c| c != '0' && c != '1') {
                cx.err(
                    s,
                    format!("mask[{r}]"),
                    format!(
                        "expected {ib} characters of '0'/'1' (one per in-block), found {row:?}"
                    ),
                );
                continue;
            }
            for (c, ch) in chars.iter().enumerate() {
                mask[r * ib + c] = *ch == '1';
            }
        }
    }
    if cx.diags.len() != before {
        return None;
    }
    let mut bw = BlockWeights {
        in_channels,
        out_channels: out,
        kernel_h: kernel.0,
        kernel_w: kernel.1,
        in_blocks: ib,
        out_blocks: ob,
        mask,
        bits: Bits::default(),
    };
    let len = bw.stored_bits();
    match Bits::from_hex(w.weights, len) {
        Ok(b) => bw.bits = b,
        Err(e) => {
            cx.err(
                s,
                "weights",
                format!(
                    "{e}; the layer stores {len} bits = {} kept tile{} x {} outputs x {} bits per row",
                    bw.kept_tiles(),
                    if bw.kept_tiles() == 1 { "" } else { "s" },
                    bw.out_per_block(),
                    bw.row_len()
                ),
            );
            return None;
        }
    }
    Some(bw)
}

fn check_activation(
    thresholds: &[i64],
    directions: &[i64],
    out: i64,
    s: &Section,
    cx: &mut Ctx,
) -> Option<Thresholds> {
    let before = cx.diags.len();
    for (field, len) in [
        ("thresholds", thresholds.len()),
        ("directions", directions.len()),
    ] {
        if len as i64 != out {
            cx.err(
                s,
                field,
                format!("expected {out} values (one per output), found {len}"),
            );
        }
    }
    check_magnitudes(thresholds, "thresholds", s, cx);
    let mut dirs = Vec::new();
    for (o, &d) in directions.iter().enumerate() {
        match d {
            1 => dirs.push(Direction::Up),
            -1 => dirs.push(Direction::Down),
            _ => cx.err(
                s,
                format!("directions[{o}]"),
                format!("must be 1 or -1, found {d}"),
            ),
        }
    }
    (cx.diags.len() == before).then(|| Thresholds {
        thresholds: thresholds.to_vec(),
        directions: dirs,
    })
}

fn check_magnitudes(values: &[i64], field: &str, s: &Section, cx: &mut Ctx) {
    if let Some((i, v)) = values
        .iter()
        .enumerate()
        .find(|(_, v)| v.unsigned_abs() > MAX_INTEGER as u64)
    {
        cx.err(
            s,
            format!("{field}[{i}]"),
            format!("{v} is outside -{MAX_INTEGER}..={MAX_INTEGER}"),
        );
    }
}

fn check_layers(
    raw: &[(LayerRef, Option<RawLayer>)],
    start: Option<Shape>,
    meta: Option<&Meta>,
    cx: &mut Ctx,
) -> Option<Vec<Layer>> {
    let before = cx.diags.len();
    let mut names: HashMap<&str, usize> = HashMap::new();
    // Every layer's name (first use), so a residual naming a later layer is told so.
    let mut all_names: HashMap<&str, usize> = HashMap::new();
    for (i, (_, layer)) in raw.iter().enumerate() {
        if let Some(l) = layer {
            all_names.entry(layer_name(l)).or_insert(i);
        }
    }
    let mut outputs: Vec<Option<Shape>> = Vec::new();
    let mut layers = Vec::new();
    let mut cur = start;
    for (i, (r, layer)) in raw.iter().enumerate() {
        let s = Section::Layer(r.clone());
        let Some(layer) = layer else {
            outputs.push(None);
            cur = None;
            continue;
        };
        let name = layer_name(layer);
        if name.trim().is_empty() {
            cx.err(&s, "name", "must not be empty");
        } else if let Some(first) = names.get(name) {
            cx.err(
                &s,
                "name",
                format!("duplicate layer name; layers[{first}] has it already"),
            );
        } else {
            names.insert(name, i);
        }
        let is_last = i + 1 == raw.len();
        if matches!(layer, RawLayer::Classifier { .. }) && !is_last {
            cx.err(&s, "kind", "the classifier must be the last layer");
        }
        let built = cur
            .and_then(|shape| check_layer(layer, shape, &all_names, &outputs, i, meta, &s, cx))
            .and_then(|l| check_tensor(l.output, &s, cx).map(|_| l));
        cur = built.as_ref().map(|l| l.output);
        outputs.push(cur);
        if let Some(l) = built {
            layers.push(l);
        }
    }
    match raw.last() {
        Some((_, Some(RawLayer::Classifier { .. }))) | Some((_, None)) => {}
        Some((r, Some(_))) => {
            cx.err(
                &Section::Layer(r.clone()),
                "kind",
                "the last layer must be a classifier",
            );
        }
        None => cx.err(
            &Section::File,
            "layers",
            "empty; a model needs at least a classifier",
        ),
    }
    (cx.diags.len() == before && layers.len() == raw.len()).then_some(layers)
}

fn layer_name(l: &RawLayer) -> &str {
    match l {
        RawLayer::Conv { name, .. }
        | RawLayer::Maxpool { name, .. }
        | RawLayer::Residual { name, .. }
        | RawLayer::Dense { name, .. }
        | RawLayer::Classifier { name, .. } => name,
    }
}

#[allow(clippy::too_many_arguments)]
fn check_layer(
    layer: &RawLayer,
    input: Shape,
    names: &HashMap<&str, usize>,
    outputs: &[Option<Shape>],
    index: usize,
    meta: Option<&Meta>,
    s: &Section,
    cx: &mut Ctx,
) -> Option<Layer> {
    let name = layer_name(layer).to_string();
    let (output, kind) = match layer {
        RawLayer::Conv {
            out_channels,
            kernel,
            stride,
            padding,
            pad_mode,
            in_blocks,
            out_blocks,
            mask,
            thresholds,
            directions,
            weights,
            ..
        } => {
            let kh = bounded(kernel[0], MAX_SIDE, s, "kernel[0]", cx);
            let kw = bounded(kernel[1], MAX_SIDE, s, "kernel[1]", cx);
            let st = bounded(*stride, MAX_SIDE, s, "stride", cx);
            let pad = if *padding < 0 {
                cx.err(s, "padding", format!("must be 0 or more, found {padding}"));
                None
            } else {
                Some(*padding as usize)
            };
            let (kh, kw, st, pad) = (kh?, kw?, st?, pad?);
            if pad >= kh.max(kw) && pad > 0 {
                cx.err(
                    s,
                    "padding",
                    format!("padding {pad} must be smaller than the kernel ({kh}x{kw})"),
                );
                return None;
            }
            let (ph, pw) = (input.height + 2 * pad, input.width + 2 * pad);
            if kh > ph || kw > pw {
                cx.err(
                    s,
                    "kernel",
                    format!("kernel {kh}x{kw} is larger than the padded input {ph}x{pw}"),
                );
                return None;
            }
            let spec = WeightSpec {
                out: *out_channels,
                out_field: "out_channels",
                in_blocks: *in_blocks,
                out_blocks: *out_blocks,
                mask,
                weights,
            };
            let w = check_weights(&spec, input.channels, (kh, kw), s, cx);
            let a = check_activation(thresholds, directions, *out_channels, s, cx);
            let out = Shape {
                height: (ph - kh) / st + 1,
                width: (pw - kw) / st + 1,
                channels: w.as_ref()?.out_channels,
            };
            let pad_mode = match pad_mode {
                RawPadMode::MinusOne => PadMode::MinusOne,
                RawPadMode::PlusOne => PadMode::PlusOne,
                RawPadMode::Zero => PadMode::Zero,
            };
            (
                out,
                LayerKind::Conv(Conv {
                    stride: st,
                    padding: pad,
                    pad_mode,
                    weights: w?,
                    activation: a?,
                }),
            )
        }
        RawLayer::Maxpool { kernel, stride, .. } => {
            let k = bounded(*kernel, MAX_SIDE, s, "kernel", cx);
            let st = bounded(*stride, MAX_SIDE, s, "stride", cx);
            let (k, st) = (k?, st?);
            if k > input.height || k > input.width {
                cx.err(
                    s,
                    "kernel",
                    format!("pool kernel {k} is larger than the input {input}"),
                );
                return None;
            }
            let out = Shape {
                height: (input.height - k) / st + 1,
                width: (input.width - k) / st + 1,
                channels: input.channels,
            };
            (
                out,
                LayerKind::MaxPool(MaxPool {
                    kernel: k,
                    stride: st,
                }),
            )
        }
        RawLayer::Residual { with, op, .. } => {
            let j = match names.get(with.as_str()) {
                Some(&j) if j < index => j,
                Some(&j) => {
                    cx.err(
                        s,
                        "with",
                        format!(
                            "layer {with:?} is layers[{j}], which does not come before this \
                             one; a residual combines with an earlier layer's output"
                        ),
                    );
                    return None;
                }
                None => {
                    cx.err(s, "with", format!("no layer is named {with:?}"));
                    return None;
                }
            };
            match outputs[j] {
                Some(shape) if shape == input => {}
                Some(shape) => {
                    cx.err(
                        s,
                        "with",
                        format!(
                            "shape mismatch: layer {with:?} outputs {shape}, the current tensor is {input}"
                        ),
                    );
                    return None;
                }
                None => return None,
            }
            let op = match op {
                RawResidualOp::Or => ResidualOp::Or,
                RawResidualOp::And => ResidualOp::And,
                RawResidualOp::Xor => ResidualOp::Xor,
                RawResidualOp::Xnor => ResidualOp::Xnor,
            };
            (input, LayerKind::Residual(Residual { with: j, op }))
        }
        RawLayer::Dense {
            out_features,
            in_blocks,
            out_blocks,
            mask,
            thresholds,
            directions,
            weights,
            ..
        } => {
            let spec = WeightSpec {
                out: *out_features,
                out_field: "out_features",
                in_blocks: *in_blocks,
                out_blocks: *out_blocks,
                mask,
                weights,
            };
            let w = check_weights(&spec, input.channels, (input.height, input.width), s, cx);
            let a = check_activation(thresholds, directions, *out_features, s, cx);
            let w = w?;
            let out = Shape {
                height: 1,
                width: 1,
                channels: w.out_channels,
            };
            (
                out,
                LayerKind::Dense(Dense {
                    weights: w,
                    activation: a?,
                }),
            )
        }
        RawLayer::Classifier {
            out_features,
            in_blocks,
            out_blocks,
            mask,
            bias,
            weights,
            ..
        } => {
            let spec = WeightSpec {
                out: *out_features,
                out_field: "out_features",
                in_blocks: *in_blocks,
                out_blocks: *out_blocks,
                mask,
                weights,
            };
            let w = check_weights(&spec, input.channels, (input.height, input.width), s, cx);
            if bias.len() as i64 != *out_features {
                cx.err(
                    s,
                    "bias",
                    format!(
                        "expected {out_features} values (one per class), found {}",
                        bias.len()
                    ),
                );
            }
            check_magnitudes(bias, "bias", s, cx);
            if let Some(m) = meta {
                if !m.classes.is_empty() && m.classes.len() as i64 != *out_features {
                    cx.err(
                        s,
                        "out_features",
                        format!(
                            "meta.classes names {} classes, the classifier has {out_features}",
                            m.classes.len()
                        ),
                    );
                }
            }
            let w = w?;
            let out = Shape {
                height: 1,
                width: 1,
                channels: w.out_channels,
            };
            (
                out,
                LayerKind::Classifier(Classifier {
                    weights: w,
                    bias: bias.clone(),
                }),
            )
        }
    };
    Some(Layer {
        name,
        input,
        output,
        kind,
    })
}
