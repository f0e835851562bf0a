//! The results study's numbers: docs/study/runs.csv read back, grouped by setting (a row id
//! without its seed), and the two plots of docs/results.md drawn from them.
//!
//! Why in the library: the table in docs/results.md, the plots and the test that keeps them in
//! step (`tests/train_plot.rs`) must all read the same mean and spread from the same file, so
//! they share one parser and one summary. Pure computation and drawing: no burn, no I/O.

use plotters::prelude::*;

use super::plot::{bits_chart, COLORS, OK};
use plotters::coord::types::RangedCoordf64;

/// One finished run: the columns of runs.csv the results use.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Row id without the `-s<seed>` suffix, for example `fe-plain-glt-m8`.
    pub setting: String,
    pub seed: u64,
    pub front_end: String,
    pub m: usize,
    /// `plain` or `sensor`.
    pub data: String,
    /// GLT threshold start: `uniform` or `quantile`.
    pub init: String,
    pub weight_bits: usize,
    /// Test accuracy on all 10,000 test images, as a fraction.
    pub accuracy: f64,
}

/// Mean and spread of one setting over its seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub name: String,
    pub front_end: String,
    pub m: usize,
    pub data: String,
    pub init: String,
    pub weight_bits: usize,
    pub seeds: Vec<u64>,
    /// Mean test accuracy in percent.
    pub mean: f64,
    /// Sample standard deviation in percentage points (0 for one run).
    pub std: f64,
    /// Standard error of the mean, `std / sqrt(runs)`.
    pub std_error: f64,
}

/// Parse runs.csv (its header names the columns; the quoted command columns come after the
/// ones read here, so a plain split of the leading fields is exact).
pub fn parse_runs(text: &str) -> Result<Vec<Run>, String> {
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = lines
        .next()
        .ok_or("runs.csv is empty")?
        .1
        .split(',')
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or(format!("runs.csv: no column {name:?}"))
    };
    let (row, seed, fe, m, data, init, bits, acc) = (
        col("row")?,
        col("seed")?,
        col("front_end")?,
        col("m")?,
        col("data")?,
        col("init")?,
        col("weight_bits")?,
        col("test_accuracy")?,
    );
    let last = [row, seed, fe, m, data, init, bits, acc]
        .into_iter()
        .max()
        .unwrap_or(0);
    let mut out = Vec::new();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.splitn(last + 2, ',').collect();
        let bad = |what: &str| format!("runs.csv line {}: {what}", n + 1);
        if f.len() <= last {
            return Err(bad("too few fields"));
        }
        let id = f[row];
        let setting = match id.rsplit_once("-s") {
            Some((s, k)) if !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) => s,
            _ => return Err(bad("row id does not end in -s<seed>")),
        };
        out.push(Run {
            setting: setting.to_string(),
            seed: f[seed].parse().map_err(|_| bad("seed"))?,
            front_end: f[fe].to_string(),
            m: f[m].parse().map_err(|_| bad("m"))?,
            data: f[data].to_string(),
            init: f[init].to_string(),
            weight_bits: f[bits].parse().map_err(|_| bad("weight_bits"))?,
            accuracy: f[acc].parse().map_err(|_| bad("test_accuracy"))?,
        });
    }
    Ok(out)
}

/// Group runs by setting, in the order settings first appear.
pub fn summarize(runs: &[Run]) -> Vec<Setting> {
    let mut out: Vec<Setting> = Vec::new();
    let mut accs: Vec<Vec<f64>> = Vec::new();
    for r in runs {
        let i = match out.iter().position(|s| s.name == r.setting) {
            Some(i) => i,
            None => {
                out.push(Setting {
                    name: r.setting.clone(),
                    front_end: r.front_end.clone(),
                    m: r.m,
                    data: r.data.clone(),
                    init: r.init.clone(),
                    weight_bits: r.weight_bits,
                    seeds: Vec::new(),
                    mean: 0.0,
                    std: 0.0,
                    std_error: 0.0,
                });
                accs.push(Vec::new());
                out.len() - 1
            }
        };
        out[i].seeds.push(r.seed);
        accs[i].push(100.0 * r.accuracy);
    }
    for (s, a) in out.iter_mut().zip(&accs) {
        let n = a.len() as f64;
        s.mean = a.iter().sum::<f64>() / n;
        if a.len() > 1 {
            let var = a.iter().map(|x| (x - s.mean).powi(2)).sum::<f64>() / (n - 1.0);
            s.std = var.sqrt();
            s.std_error = s.std / n.sqrt();
        }
    }
    out
}

/// A curve of the front-end plot: one front end (and threshold start).
fn front_end_series(s: &Setting) -> Option<&'static str> {
    let prefix = s.name.split('-').next()?;
    Some(match (prefix, s.front_end.as_str()) {
        ("fe", "glt") => "GLT",
        ("fe", "uniform") => "uniform thermometer",
        ("fe", "binary") => "natural-binary ADC",
        ("qi", "glt") => "GLT, quantile start",
        _ => return None,
    })
}

/// A curve of the budget plot: one pruned topology.
fn budget_series(s: &Setting) -> Option<&'static str> {
    match s.name.split('-').next()? {
        "dense" => Some("dense topology, block-pruned"),
        "compact" => Some("compact grouped topology, block-pruned"),
        _ => None,
    }
}

/// A named curve of (x, mean, std) points, sorted by x.
type Curve = (&'static str, Vec<(f64, f64, f64)>);

/// Group settings into curves by `series`, in the order curves first appear.
fn curves<'a>(
    settings: impl Iterator<Item = &'a Setting>,
    series: fn(&Setting) -> Option<&'static str>,
    x: impl Fn(&Setting) -> f64,
) -> Vec<Curve> {
    let mut out: Vec<Curve> = Vec::new();
    for s in settings {
        let Some(name) = series(s) else {
            continue;
        };
        let p = (x(s), s.mean, s.std);
        match out.iter_mut().find(|c| c.0 == name) {
            Some(c) => c.1.push(p),
            None => out.push((name, vec![p])),
        }
    }
    for c in &mut out {
        c.1.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    out
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Each curve as a line through its means with +-1 std bars, then the legend.
fn draw_curves<'a, 'b: 'a>(chart: &mut Chart<'a, 'b>, curves: &[Curve]) {
    for (i, (name, pts)) in curves.iter().enumerate() {
        let c = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0, p.1)),
                c.stroke_width(2),
            ))
            .expect(OK)
            .label(*name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c));
        let bar = |p: &(f64, f64, f64)| {
            ErrorBar::new_vertical(p.0, p.1 - p.2, p.1, p.1 + p.2, c.filled(), 8)
        };
        chart.draw_series(pts.iter().map(bar)).expect(OK);
        chart
            .draw_series(pts.iter().map(|p| Circle::new((p.0, p.1), 3, c.filled())))
            .expect(OK);
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.9))
        .draw()
        .expect(OK);
}

/// Test accuracy against the number of planes M: one panel per kind of data (plain, sensor),
/// one curve per front end, each point the mean over seeds with a bar of +-1 standard
/// deviation. Deterministic.
pub fn front_end_svg(settings: &[Setting]) -> String {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (1000, 440)).into_drawing_area();
        root.fill(&WHITE).expect(OK);
        let root = root
            .titled(
                "Front end: test accuracy vs planes per pixel M (mean +- std over seeds)",
                ("sans-serif", 18),
            )
            .expect(OK);
        for (area, data) in root.split_evenly((1, 2)).iter().zip(["plain", "sensor"]) {
            // M = 2, 4, 8 at x = 1, 2, 3 (log2 M).
            let on_data = settings.iter().filter(|s| s.data == data);
            let curves = curves(on_data, front_end_series, |s| (s.m as f64).log2());
            let lowest = curves
                .iter()
                .flat_map(|c| &c.1)
                .map(|p| p.1 - p.2)
                .fold(100.0f64, f64::min);
            let mut chart = ChartBuilder::on(area)
                .caption(format!("{data} data"), ("sans-serif", 15))
                .margin(12)
                .x_label_area_size(38)
                .y_label_area_size(48)
                .build_cartesian_2d(0.7f64..3.3f64, (lowest / 5.0).floor() * 5.0..90f64)
                .expect(OK);
            chart
                .configure_mesh()
                .x_desc("planes per pixel M")
                .y_desc("test accuracy (%)")
                .x_labels(3)
                .x_label_formatter(&|v| format!("{}", 2f64.powf(v.round())))
                .draw()
                .expect(OK);
            draw_curves(&mut chart, &curves);
        }
        root.present().expect(OK);
    }
    out
}

/// Test accuracy against stored weight bits for the pruned topologies (`dense-*` and
/// `compact-*` settings), mean with +-1 std bars where a budget has several seeds.
pub fn budget_svg(settings: &[Setting]) -> String {
    let curves = curves(settings.iter(), budget_series, |s| s.weight_bits as f64);
    let max_bits = curves
        .iter()
        .flat_map(|c| &c.1)
        .map(|p| p.0)
        .fold(1.0, f64::max);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (640, 400)).into_drawing_area();
        root.fill(&WHITE).expect(OK);
        let mut chart = bits_chart(&root, max_bits, 80f64..92f64);
        draw_curves(&mut chart, &curves);
        root.present().expect(OK);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "row,config,seed,front_end,m,data,init,weight_bits,test_accuracy,command\n\
        fe-plain-glt-m8-s1,c,1,glt,8,plain,uniform,61696,0.8742,\"a,b\"\n\
        fe-plain-glt-m8-s2,c,2,glt,8,plain,uniform,61696,0.8760,\"a,b\"\n\
        fe-plain-glt-m8-s3,c,3,glt,8,plain,uniform,61696,0.8742,x\n\
        dense-b50000-s1,c,1,glt,8,plain,uniform,39392,0.8433,x\n";

    #[test]
    fn settings_have_the_mean_and_sample_spread_of_their_seeds() {
        let s = summarize(&parse_runs(CSV).unwrap());
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].seeds, vec![1, 2, 3]);
        assert!((s[0].mean - 87.48).abs() < 1e-9);
        // Deviations -0.06, +0.12, -0.06: sample variance 0.0216 / 2.
        assert!((s[0].std - (0.0108f64).sqrt()).abs() < 1e-9);
        assert!((s[0].std_error - s[0].std / 3f64.sqrt()).abs() < 1e-12);
        assert_eq!((s[1].std, s[1].weight_bits), (0.0, 39392));
    }

    #[test]
    fn a_row_id_without_a_seed_is_an_error() {
        let bad = "row,seed,front_end,m,data,init,weight_bits,test_accuracy\nfe-x,1,glt,8,plain,u,1,0.5\n";
        assert!(parse_runs(bad).unwrap_err().contains("line 2"));
    }

    #[test]
    fn plots_are_deterministic_svg() {
        let s = summarize(&parse_runs(CSV).unwrap());
        let fe = front_end_svg(&s);
        assert!(fe.starts_with("<svg") && fe == front_end_svg(&s));
        assert!(fe.contains("plain data") && fe.contains("sensor data") && fe.contains("GLT"));
        assert!(budget_svg(&s).contains("dense topology"));
    }
}
