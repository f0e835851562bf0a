//! The walk over the layer list: names, order, the classifier last, and each layer's shape
//! chained from the one before.

use std::collections::HashMap;

use super::layers::{check_layer, layer_name, Place};
use super::*;

pub(super) fn check_layers(
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
            .and_then(|shape| {
                let place = Place {
                    names: &all_names,
                    outputs: &outputs,
                    index: i,
                    meta,
                };
                check_layer(layer, shape, &place, &s, cx)
            })
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

/// A tensor (the front end's or a layer's output) within the channel and size limits; its
/// figures come from checked sides, so the products cannot wrap.
pub(super) fn check_tensor(shape: Shape, s: &Section, cx: &mut Ctx) -> Option<Shape> {
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
