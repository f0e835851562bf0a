//! SVG plots drawn with plotters, each returned as an inline `<svg>` string.
//!
//! Drawing errors from plotters can only come from a broken chart set-up (the string backend
//! does no I/O), so they are bugs and unwrap with a message.

use plotters::prelude::*;

use super::data::*;
use crate::model::uniform_thresholds;

const OK: &str = "plotters draws into a String and cannot fail";
const KEPT: RGBColor = RGBColor(46, 125, 50);
const PRUNED: RGBColor = RGBColor(224, 224, 224);
const BAR: RGBColor = RGBColor(66, 133, 244);
const HOT: RGBColor = RGBColor(219, 68, 55);
/// The uniform-thermometer baseline of the tone curve: dark enough to read over the grid.
const BASELINE: RGBColor = RGBColor(90, 90, 90);

/// Text safe to put inside SVG text: plotters writes labels verbatim.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '<' | '>' | '&' | '"') {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// Output level against pixel value for the model's front end beside the uniform thermometer
/// with the same M: the learned "global tone curve" made visible.
pub fn tone_curve(m: &ModelFigures) -> String {
    let max = (1u32 << m.pixel_bits) - 1;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (560, 340)).into_drawing_area();
        root.fill(&WHITE).expect(OK);
        let mut chart = ChartBuilder::on(&root)
            .caption("Front-end tone curve", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..max as f64, 0f64..1.02f64)
            .expect(OK);
        chart
            .configure_mesh()
            .light_line_style(RGBColor(245, 245, 245))
            .x_desc("pixel code")
            .y_desc("output level / M")
            .x_label_formatter(&whole)
            .draw()
            .expect(OK);
        let staircase = |t: &[u32], levels: usize| -> Vec<(f64, f64)> {
            let mut pts = Vec::new();
            let mut prev = 0usize;
            pts.push((0.0, level(t, 0) as f64 / levels as f64));
            for v in 1..=max {
                let l = level(t, v);
                if l != prev {
                    pts.push((v as f64, prev as f64 / levels as f64));
                    pts.push((v as f64, l as f64 / levels as f64));
                    prev = l;
                }
            }
            pts.push((max as f64, prev as f64 / levels as f64));
            pts
        };
        let levels = m.levels.max(1);
        let uniform = uniform_thresholds(levels.min(max as usize), m.pixel_bits);
        // Dashed and drawn first, so where the learned curve coincides with it the learned
        // one stays visible on top and the baseline still shows between its dashes.
        chart
            .draw_series(DashedLineSeries::new(
                staircase(&uniform, uniform.len()),
                6,
                4,
                BASELINE.stroke_width(2),
            ))
            .expect(OK)
            .label(format!("uniform thermometer, M = {}", uniform.len()))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BASELINE.stroke_width(2)));
        if m.thresholds.is_empty() {
            let line = [(0.0, 0.0), (max as f64, 1.0)];
            chart
                .draw_series(LineSeries::new(line, BAR.stroke_width(2)))
                .expect(OK)
                .label(format!("binary ADC code, {} bits", m.pixel_bits))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BAR));
        } else {
            let palette = [BAR, HOT, KEPT];
            for (c, t) in m.thresholds.iter().enumerate().take(3) {
                let color = palette[c % palette.len()];
                chart
                    .draw_series(LineSeries::new(
                        staircase(t, t.len()),
                        color.stroke_width(2),
                    ))
                    .expect(OK)
                    .label(format!("{} (channel {c})", clean(&m.front_end)))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
            }
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight);
        root.present().expect(OK);
    }
    out
}

/// The series legend at `pos`, on a light box so the lines under it stay visible.
fn legend<'a, 'b: 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, CT>,
    pos: SeriesLabelPosition,
) {
    chart
        .configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .expect(OK);
}

/// One bar per pipeline stage for a metric; the slowest stage (most cycles) is drawn in red.
/// A count axis label: lanes, cycles, bits and pixel codes are whole numbers, so a tick
/// between two of them gets no label rather than "0.5", and whole ticks print without a
/// decimal point.
fn whole(y: &f64) -> String {
    if y.fract() == 0.0 {
        format!("{y:.0}")
    } else {
        String::new()
    }
}

pub fn stage_bars(plan: &PlanFigures, title: &str, metric: fn(&StageFigures) -> u64) -> String {
    let slowest = plan
        .layers
        .iter()
        .enumerate()
        .max_by_key(|(i, s)| (s.cycles_per_frame, std::cmp::Reverse(*i)))
        .map(|(i, _)| i);
    let n = plan.layers.len().max(1);
    let top = plan.layers.iter().map(metric).max().unwrap_or(0).max(1) as f64 * 1.1;
    let names: Vec<String> = plan.layers.iter().map(|s| clean(&s.name)).collect();
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (560, 300)).into_drawing_area();
        root.fill(&WHITE).expect(OK);
        let mut chart = ChartBuilder::on(&root)
            .caption(clean(title), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d((0..n).into_segmented(), 0f64..top)
            .expect(OK);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_label_formatter(&whole)
            .draw()
            .expect(OK);
        chart
            .draw_series(plan.layers.iter().enumerate().map(|(i, s)| {
                let color = if Some(i) == slowest { HOT } else { BAR };
                let mut bar = Rectangle::new(
                    [
                        (SegmentValue::Exact(i), 0.0),
                        (SegmentValue::Exact(i + 1), metric(s) as f64),
                    ],
                    color.filled(),
                );
                bar.set_margin(0, 0, 8, 8);
                bar
            }))
            .expect(OK);
        root.present().expect(OK);
    }
    out
}

/// The (out-block, in-block) grid of one layer: green tiles kept, grey tiles pruned.
pub fn tile_map(t: &TileMap) -> String {
    let cell = (220 / t.out_blocks.max(t.in_blocks)).clamp(4, 40) as i32;
    let (w, h) = (t.in_blocks as i32 * cell, t.out_blocks as i32 * cell);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, ((w + 20) as u32, (h + 44) as u32))
            .into_drawing_area();
        root.fill(&WHITE).expect(OK);
        root.draw(&Text::new(clean(&t.layer), (10, 4), ("sans-serif", 14)))
            .expect(OK);
        for (ob, row) in t.kept.iter().enumerate() {
            for (ib, &kept) in row.iter().enumerate() {
                let (x, y) = (10 + ib as i32 * cell, 24 + ob as i32 * cell);
                let color = if kept { KEPT } else { PRUNED };
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell - 1, y + cell - 1)],
                    color.filled(),
                ))
                .expect(OK);
            }
        }
        root.present().expect(OK);
    }
    out
}

/// Utilization of each resource against the device's capacity, and Fmax against the target.
/// A target without a device capacity (generic gates, Xilinx counts) gets its cell counts
/// instead, so the chart is never empty.
pub fn resources(s: &SynthesisFigures) -> String {
    let mut bars: Vec<(String, f64, String)> = s
        .resources
        .iter()
        .filter_map(|r| {
            let cap = r.available.filter(|&a| a > 0)?;
            let pct = 100.0 * r.used as f64 / cap as f64;
            Some((clean(&r.name), pct, format!("{} / {}", r.used, cap)))
        })
        .collect();
    if let Some(f) = s.fmax_mhz {
        let pct = 100.0 * f / s.target_mhz;
        bars.push((
            "Fmax / target".into(),
            pct,
            format!("{f:.1} / {:.1} MHz", s.target_mhz),
        ));
    }
    let relative = !bars.is_empty();
    if !relative {
        bars = s
            .resources
            .iter()
            .filter(|r| r.used > 0)
            .map(|r| (clean(&r.name), r.used as f64, r.used.to_string()))
            .collect();
    }
    let (x_desc, floor) = if relative {
        ("% of capacity (Fmax: % of target clock)", 100.0)
    } else {
        ("cells (no device capacity for this target)", 1.0)
    };
    let top = bars.iter().map(|b| b.1).fold(floor, f64::max) * 1.3;
    let n = bars.len().max(1);
    let mut out = String::new();
    {
        let root =
            SVGBackend::with_string(&mut out, (560, 100 + 40 * n as u32)).into_drawing_area();
        root.fill(&WHITE).expect(OK);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("Resources on {}", clean(&s.device)),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(110)
            .build_cartesian_2d(0f64..top, (0..n).into_segmented())
            .expect(OK);
        let names: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .x_desc(x_desc)
            .y_label_formatter(&|y| match y {
                SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .draw()
            .expect(OK);
        chart
            .draw_series(bars.iter().enumerate().map(|(i, b)| {
                let over = relative
                    && if b.0.starts_with("Fmax") {
                        b.1 < 100.0
                    } else {
                        b.1 > 100.0
                    };
                let color = if over { HOT } else { BAR };
                let mut bar = Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(i)),
                        (b.1, SegmentValue::Exact(i + 1)),
                    ],
                    color.filled(),
                );
                bar.set_margin(6, 6, 0, 0);
                bar
            }))
            .expect(OK);
        chart
            .draw_series(bars.iter().enumerate().map(|(i, b)| {
                Text::new(
                    b.2.clone(),
                    (b.1 + top * 0.01, SegmentValue::CenterOf(i)),
                    ("sans-serif", 12),
                )
            }))
            .expect(OK);
        if relative {
            chart
                .draw_series(LineSeries::new(
                    [(100.0, SegmentValue::Exact(0)), (100.0, SegmentValue::Last)],
                    BLACK,
                ))
                .expect(OK);
        }
        root.present().expect(OK);
    }
    out
}

/// Confusion matrix as a heat map: row = label, column = prediction.
pub fn confusion(matrix: &[Vec<u64>], classes: &[String]) -> String {
    let n = matrix.len().max(1);
    let cell = (360 / n).clamp(12, 48) as i32;
    let max = matrix.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    let label_w = 110;
    let mut out = String::new();
    {
        let size = (label_w + n as i32 * cell + 20, 40 + n as i32 * cell + 20);
        let root =
            SVGBackend::with_string(&mut out, (size.0 as u32, size.1 as u32)).into_drawing_area();
        root.fill(&WHITE).expect(OK);
        root.draw(&Text::new(
            "label (rows) vs prediction (columns)",
            (10, 4),
            ("sans-serif", 14),
        ))
        .expect(OK);
        for (r, row) in matrix.iter().enumerate() {
            let name = classes
                .get(r)
                .map(|s| clean(s))
                .unwrap_or_else(|| r.to_string());
            root.draw(&Text::new(
                name,
                (6, 30 + r as i32 * cell + cell / 3),
                ("sans-serif", 11),
            ))
            .expect(OK);
            for (c, &v) in row.iter().enumerate() {
                let shade = 1.0 - v as f64 / max;
                let g = (255.0 * shade) as u8;
                let color = if r == c {
                    RGBColor(g, 255 - (255 - g) / 3, g)
                } else {
                    RGBColor(255, g, g)
                };
                let (x, y) = (label_w + c as i32 * cell, 30 + r as i32 * cell);
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell - 1, y + cell - 1)],
                    color.filled(),
                ))
                .expect(OK);
                if cell >= 24 {
                    root.draw(&Text::new(
                        v.to_string(),
                        (x + 3, y + cell / 3),
                        ("sans-serif", 10),
                    ))
                    .expect(OK);
                }
            }
        }
        root.present().expect(OK);
    }
    out
}

/// Cycles per frame (log scale) against estimated LUTs as the fold grows, the run's own plan
/// in red: how much logic each halving of the frame time costs.
pub fn fold_sweep(f: &FoldSweepFigures) -> String {
    let all = || f.points.iter().chain([&f.this_run]);
    let max_luts = all().map(|p| p.luts).max().unwrap_or(1).max(1) as f64 * 1.08;
    let min_luts = all().map(|p| p.luts).min().unwrap_or(0) as f64 * 0.92;
    let min_cyc = all().map(|p| p.cycles_per_frame).min().unwrap_or(1).max(1) as f64 / 1.5;
    let max_cyc = all().map(|p| p.cycles_per_frame).max().unwrap_or(1).max(2) as f64 * 1.5;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (560, 340)).into_drawing_area();
        root.fill(&WHITE).expect(OK);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("Cycles per frame against {} LUTs (estimate)", f.family),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(80)
            .build_cartesian_2d(min_luts..max_luts, (min_cyc..max_cyc).log_scale())
            .expect(OK);
        chart
            .configure_mesh()
            .x_desc("LUTs (estimate)")
            .y_desc("cycles per frame")
            .light_line_style(WHITE)
            .x_labels(6)
            .y_labels(8)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .expect(OK);
        let pts: Vec<(f64, f64)> = (f.points.iter())
            .map(|p| (p.luts as f64, p.cycles_per_frame as f64))
            .collect();
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), BAR.stroke_width(2)))
            .expect(OK)
            .label("fold sweep")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BAR.stroke_width(2)));
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 3, BAR.filled())))
            .expect(OK);
        let run = &f.this_run;
        chart
            .draw_series([Circle::new(
                (run.luts as f64, run.cycles_per_frame as f64),
                6,
                HOT.filled(),
            )])
            .expect(OK)
            .label("this run")
            .legend(|(x, y)| Circle::new((x + 8, y), 5, HOT.filled()));
        legend(&mut chart, SeriesLabelPosition::LowerLeft);
        root.present().expect(OK);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synth(available: Option<u64>, fmax: Option<f64>) -> SynthesisFigures {
        SynthesisFigures {
            target: "t".into(),
            device: "dev".into(),
            resources: vec![
                Resource {
                    name: "LUT".into(),
                    used: 1234,
                    available,
                },
                Resource {
                    name: "FF".into(),
                    used: 567,
                    available,
                },
            ],
            fmax_mhz: fmax,
            target_mhz: 50.0,
            timing_met: fmax.is_some_and(|f| f >= 50.0),
        }
    }

    fn bars(svg: &str) -> usize {
        svg.matches("<rect").count()
    }

    #[test]
    fn stage_bars_label_counts_as_whole_numbers() {
        let stage = |name: &str, lanes| StageFigures {
            name: name.into(),
            kind: "conv".into(),
            lanes,
            cycles_per_frame: 100,
            memory_bits: 10,
        };
        let plan = PlanFigures {
            clock_mhz: 50.0,
            frames_per_second: 1.0,
            latency_us: 1.0,
            layers: vec![stage("a", 8), stage("b", 1)],
        };
        let svg = stage_bars(&plan, "Lanes", |s| s.lanes);
        let label = |t: &str| svg.contains(&format!(">\n{t}\n<"));
        assert!(label("8") && label("0"), "{svg}");
        assert!(!svg.contains(".0\n<") && !svg.contains(".5\n<"), "{svg}");
    }

    #[test]
    fn counts_only_targets_still_get_one_bar_per_resource() {
        let counts = resources(&synth(None, None));
        let label = |t: &str| counts.contains(&format!(">\n{t}\n<"));
        assert!(label("1234") && label("567"), "{counts}");
        assert!(counts.contains("no device capacity"));
        let empty = resources(&SynthesisFigures {
            resources: vec![],
            ..synth(None, None)
        });
        // Background and plot area only: the counts chart adds exactly one bar per resource.
        assert_eq!(bars(&counts), bars(&empty) + 2);
    }

    #[test]
    fn capacity_targets_show_use_over_capacity_and_fmax_over_target() {
        let svg = resources(&synth(Some(5280), Some(61.5)));
        assert!(
            svg.contains("1234 / 5280") && svg.contains("567 / 5280"),
            "{svg}"
        );
        assert!(svg.contains("61.5 / 50.0 MHz"));
        assert!(svg.contains("% of capacity"));
    }

    #[test]
    fn tone_curve_draws_the_uniform_baseline_dashed() {
        let m = crate::model::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/models/tiny.toml"
        )))
        .expect("tiny model loads");
        let svg = tone_curve(&ModelFigures::of(&m));
        let baseline = "stroke=\"#5A5A5A\"";
        // A dashed series is many short segments; a solid one would be a single polyline.
        assert!(svg.matches(baseline).count() > 10, "{svg}");
    }
}
