//! What every weighted layer shares: blocks, the tile mask, the packed weight bits and the
//! threshold activation.

use super::*;

/// Parameters shared by every weighted layer, before the input shape is applied.
pub(super) struct WeightSpec<'a> {
    pub(super) out: i64,
    pub(super) out_field: &'static str,
    pub(super) in_blocks: i64,
    pub(super) out_blocks: i64,
    pub(super) mask: &'a Option<Vec<String>>,
    pub(super) weights: &'a str,
}

impl<'a> WeightSpec<'a> {
    /// The weights of a layer whose output count is the field `out.0`, of value `out.1`.
    pub(super) fn new(
        out: (&'static str, i64),
        (in_blocks, out_blocks): (i64, i64),
        mask: &'a Option<Vec<String>>,
        weights: &'a str,
    ) -> Self {
        WeightSpec {
            out: out.1,
            out_field: out.0,
            in_blocks,
            out_blocks,
            mask,
            weights,
        }
    }
}

pub(super) fn check_weights(
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

pub(super) fn check_activation(
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

pub(super) fn check_magnitudes(values: &[i64], field: &str, s: &Section, cx: &mut Ctx) {
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
