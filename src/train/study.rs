//! The results study's numbers: docs/study/runs.csv read back, grouped by setting (a row id
//! without its seed), and the three plots of docs/results.md drawn from them: accuracy against
//! the planes M per front end, accuracy against stored weight bits, and the learned tone
//! curves over the data's pixel histogram.
//!
//! Why in the library: the table in docs/results.md, the plots and the test that keeps them in
//! step (`tests/train_plot.rs`) must all read the same mean and spread from the same file, so
//! they share one parser and one summary. Pure computation and drawing: no burn, no I/O.

use plotters::prelude::*;

use super::plot::{bits_chart, legend, COLORS, OK};
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
    /// The front end's integer thresholds after training (the last column, `fe_thresholds`;
    /// empty for the binary ADC).
    pub thresholds: Vec<u32>,
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
    let has_thresholds = header.last() == Some(&"fe_thresholds");
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
            thresholds: match has_thresholds {
                true => last_thresholds(line).ok_or_else(|| bad("fe_thresholds"))?,
                false => Vec::new(),
            },
        });
    }
    Ok(out)
}

/// The last column of a runs.csv line, `fe_thresholds`: a quoted, space-separated list of
/// integers (empty, `""`, for the binary ADC).
fn last_thresholds(line: &str) -> Option<Vec<u32>> {
    let (_, list) = line.strip_suffix('"')?.rsplit_once('"')?;
    list.split_whitespace().map(|t| t.parse().ok()).collect()
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
    legend(chart);
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// A titled SVG of `panels` charts side by side, each drawn by `draw(area, index)`.
fn side_by_side(title: &str, panels: usize, draw: impl Fn(&Area, usize)) -> String {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (1000, 440)).into_drawing_area();
        root.fill(&WHITE).expect(OK);
        let root = root.titled(title, ("sans-serif", 18)).expect(OK);
        for (i, area) in root.split_evenly((1, panels.max(1))).iter().enumerate() {
            draw(area, i);
        }
        root.present().expect(OK);
    }
    out
}

/// Test accuracy against the number of planes M: one panel per kind of data (plain, sensor),
/// one curve per front end, each point the mean over seeds with a bar of +-1 standard
/// deviation. Deterministic.
pub fn front_end_svg(settings: &[Setting]) -> String {
    let title = "Front end: test accuracy vs planes per pixel M (mean +- std over seeds)";
    side_by_side(title, 2, |area, i| {
        let data = ["plain", "sensor"][i];
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
    })
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

/// One panel of the tone plot: a kind of data, its pixel histogram and the thresholds of
/// some runs, each drawn as the staircase `code -> number of thresholds at or below it`.
#[derive(Debug, Clone, PartialEq)]
pub struct TonePanel {
    pub title: String,
    /// Pixel count of every code `0..histogram.len()`.
    pub histogram: Vec<u64>,
    /// One staircase per run: its label and its thresholds.
    pub curves: Vec<(String, Vec<u32>)>,
}

/// The panel for `data` (`plain` or `sensor`) at M = 8: GLT from a uniform start (every seed),
/// the uniform thermometer and GLT from a quantile start (first seed of each).
pub fn tone_panel(runs: &[Run], data: &str, histogram: Vec<u64>) -> TonePanel {
    let mut curves = Vec::new();
    for (setting, label, all_seeds) in [
        ("fe-{}-glt-m8", "GLT", true),
        ("fe-{}-uniform-m8", "uniform thermometer", false),
        ("qi-{}-glt-m8", "GLT, quantile start", false),
    ] {
        let setting = setting.replace("{}", data);
        let of_setting = runs.iter().filter(|r| r.setting == setting);
        for r in of_setting.take(if all_seeds { usize::MAX } else { 1 }) {
            curves.push((format!("{label}, seed {}", r.seed), r.thresholds.clone()));
        }
    }
    TonePanel {
        title: format!("{data} data"),
        histogram,
        curves,
    }
}

/// The step curve of a thermometer: the level (thresholds at or below the code) from code 0 to
/// `max_code`.
fn staircase(thresholds: &[u32], max_code: f64) -> Vec<(f64, f64)> {
    let mut t: Vec<f64> = thresholds.iter().map(|&t| t as f64).collect();
    t.sort_by(f64::total_cmp);
    let mut level = t.iter().filter(|&&x| x <= 0.0).count() as f64;
    let mut pts = vec![(0.0, level)];
    for x in t.into_iter().filter(|&x| x > 0.0) {
        pts.push((x, level));
        level += 1.0;
        pts.push((x, level));
    }
    pts.push((max_code, level));
    pts
}

/// Learned tone curves over the data's pixel histogram (grey bars, log scale, 64 bins), one
/// panel per kind of data. Deterministic.
pub fn tone_svg(panels: &[TonePanel]) -> String {
    let title = "Thermometer tone curves (M = 8) over the test images' pixel histogram";
    side_by_side(title, panels.len(), |area, i| {
        tone_panel_chart(area, &panels[i])
    })
}

fn tone_panel_chart(area: &Area, panel: &TonePanel) {
    let max_code = panel.histogram.len().saturating_sub(1).max(1) as f64;
    let levels = panel
        .curves
        .iter()
        .map(|c| c.1.len())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(38)
        .y_label_area_size(40)
        .build_cartesian_2d(0f64..max_code, 0f64..levels + 0.2)
        .expect(OK);
    chart
        .configure_mesh()
        .x_desc("pixel code")
        .y_desc("thermometer level (planes at 1)")
        .draw()
        .expect(OK);
    // 64 bins, bar height log(1 + count) scaled to the top level.
    let bins = 64usize;
    let per_bin = panel.histogram.len().div_ceil(bins).max(1);
    let counts: Vec<u64> = panel
        .histogram
        .chunks(per_bin)
        .map(|c| c.iter().sum())
        .collect();
    let top = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let grey = RGBColor(200, 200, 200);
    chart
        .draw_series(counts.iter().enumerate().map(|(i, &n)| {
            let x0 = (i * per_bin) as f64;
            let h = levels * (1.0 + n as f64).ln() / (1.0 + top).ln();
            Rectangle::new([(x0, 0.0), (x0 + per_bin as f64, h)], grey.filled())
        }))
        .expect(OK)
        .label("pixel histogram (log scale)")
        .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 16, y + 4)], grey.filled()));
    // Seeds of one front end share a colour.
    let front_end = |label: &str| label.split(", seed").next().unwrap_or(label).to_string();
    let mut front_ends: Vec<String> = Vec::new();
    for (label, thresholds) in &panel.curves {
        let f = front_end(label);
        let k = match front_ends.iter().position(|x| *x == f) {
            Some(k) => k,
            None => {
                front_ends.push(f);
                front_ends.len() - 1
            }
        };
        let c = COLORS[k % COLORS.len()];
        chart
            .draw_series(LineSeries::new(
                staircase(thresholds, max_code),
                c.stroke_width(2),
            ))
            .expect(OK)
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c));
    }
    legend(&mut chart);
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str =
        "row,config,seed,front_end,m,data,init,weight_bits,test_accuracy,command,fe_thresholds\n\
        fe-plain-glt-m8-s1,c,1,glt,8,plain,uniform,61696,0.8742,\"a,b\",\"1 5 9\"\n\
        fe-plain-glt-m8-s2,c,2,glt,8,plain,uniform,61696,0.8760,\"a,b\",\"2 6 10\"\n\
        fe-plain-glt-m8-s3,c,3,glt,8,plain,uniform,61696,0.8742,x,\"3 7 11\"\n\
        dense-b50000-s1,c,1,binary,8,plain,uniform,39392,0.8433,x,\"\"\n";

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
        let runs = parse_runs(CSV).unwrap();
        assert_eq!(runs[1].thresholds, vec![2, 6, 10]);
        assert!(runs[3].thresholds.is_empty());
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
        let panel = tone_panel(&parse_runs(CSV).unwrap(), "plain", vec![5; 256]);
        assert_eq!(panel.curves.len(), 3, "every seed of the GLT setting");
        let tone = tone_svg(std::slice::from_ref(&panel));
        assert!(tone == tone_svg(&[panel]) && tone.contains("GLT, seed 3"));
    }

    #[test]
    fn a_staircase_climbs_one_level_at_each_threshold() {
        assert_eq!(
            staircase(&[9, 0, 4], 15.0),
            vec![
                (0.0, 1.0),
                (4.0, 1.0),
                (4.0, 2.0),
                (9.0, 2.0),
                (9.0, 3.0),
                (15.0, 3.0)
            ]
        );
    }
}
