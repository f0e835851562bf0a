//! The accuracy-against-stored-weight-bits plot of docs/results.md (SVG, plotters).
//!
//! The data is a small CSV (`docs/results-pruning.csv`: series, kept fraction, stored weight
//! bits, test accuracy in percent), written by hand from the runs' reports so the table and the
//! plot come from the same numbers; `tests/train_plot.rs` checks that docs/results-pruning.svg
//! is what this code draws from it. Pure drawing: no burn, no I/O.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

pub(crate) const OK: &str = "plotters draws into a String and cannot fail";
pub(crate) const COLORS: [RGBColor; 4] = [
    RGBColor(66, 133, 244),
    RGBColor(219, 68, 55),
    RGBColor(46, 125, 50),
    RGBColor(150, 100, 0),
];

/// One measured point: which series, the kept fraction, stored weight bits, test accuracy (%).
#[derive(Debug, Clone, PartialEq)]
pub struct PruningPoint {
    pub series: String,
    pub kept_fraction: f64,
    pub weight_bits: usize,
    pub accuracy: f64,
}

/// Parse the CSV (header line, then `series,kept_fraction,weight_bits,accuracy_percent`).
pub fn parse_csv(text: &str) -> Result<Vec<PruningPoint>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').map(str::trim).collect();
        let bad = |what: &str| format!("line {}: {what}: {line:?}", n + 1);
        if f.len() != 4 {
            return Err(bad("expected 4 fields"));
        }
        out.push(PruningPoint {
            series: f[0].to_string(),
            kept_fraction: f[1].parse().map_err(|_| bad("kept_fraction"))?,
            weight_bits: f[2].parse().map_err(|_| bad("weight_bits"))?,
            accuracy: f[3].parse().map_err(|_| bad("accuracy"))?,
        });
    }
    Ok(out)
}

/// The axes of an accuracy (%) against stored weight bits plot.
pub(crate) fn bits_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    max_bits: f64,
    accuracy: std::ops::Range<f64>,
) -> ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>> {
    let mut chart = ChartBuilder::on(root)
        .caption(
            "Block pruning: test accuracy vs stored weight bits",
            ("sans-serif", 18),
        )
        .margin(14)
        .x_label_area_size(42)
        .y_label_area_size(52)
        .build_cartesian_2d(0f64..max_bits * 1.08, accuracy)
        .expect(OK);
    chart
        .configure_mesh()
        .x_desc("stored weight bits")
        .y_desc("test accuracy (%)")
        .x_label_formatter(&|v| format!("{:.0}k", v / 1000.0))
        .draw()
        .expect(OK);
    chart
}

/// The series legend, in the lower right corner.
pub(crate) fn legend<'a, 'b: 'a>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
) {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .draw()
        .expect(OK);
}

/// Accuracy (%) against stored weight bits, one line per series, points labelled with the kept
/// fraction. Deterministic output for the same points.
pub fn pruning_svg(points: &[PruningPoint]) -> String {
    let mut series: Vec<&str> = Vec::new();
    for p in points {
        if !series.contains(&p.series.as_str()) {
            series.push(&p.series);
        }
    }
    let max_bits = points.iter().map(|p| p.weight_bits).max().unwrap_or(1) as f64;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (640, 400)).into_drawing_area();
        root.fill(&WHITE).expect(OK);
        let mut chart = bits_chart(&root, max_bits, 0f64..100f64);
        for (i, name) in series.iter().enumerate() {
            let c = COLORS[i % COLORS.len()];
            let mut pts: Vec<(f64, f64, f64)> = points
                .iter()
                .filter(|p| p.series == *name)
                .map(|p| (p.weight_bits as f64, p.accuracy, p.kept_fraction))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|p| (p.0, p.1)),
                    c.stroke_width(2),
                ))
                .expect(OK)
                .label(name.replace(['<', '>', '&', '"'], "_"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c));
            chart
                .draw_series(pts.iter().map(|p| {
                    EmptyElement::at((p.0, p.1))
                        + Circle::new((0, 0), 4, c.filled())
                        + Text::new(format!("{}", p.2), (6, -14), ("sans-serif", 12).into_font())
                }))
                .expect(OK);
        }
        legend(&mut chart);
        root.present().expect(OK);
    }
    out
}
