//! The `[front_end]` section: how pixels become bit planes (binary, uniform or learned
//! thermometer thresholds).

use super::*;

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

pub(super) fn check_front_end(
    raw: &RawFrontEnd,
    input: &InputSpec,
    cx: &mut Ctx,
) -> Option<FrontEnd> {
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
