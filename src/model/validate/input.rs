//! The `[input]` section: the image as the sensor delivers it.

use super::*;

pub(super) fn check_input(raw: &RawInput, cx: &mut Ctx) -> Option<InputSpec> {
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
