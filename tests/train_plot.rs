//! docs/results-pruning.svg is the plot of docs/results-pruning.csv drawn by
//! `bnngen::train::plot`, and every point of the CSV is a row of the table in docs/results.md.
//! Regenerate the SVG after editing the CSV with `BNNGEN_BLESS=1 cargo test --test train_plot`.
#![cfg(feature = "train")]

use bnngen::train::plot::{parse_csv, pruning_svg};

fn fmt_bits(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn pruning_plot_matches_its_data_and_the_table() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let csv = std::fs::read_to_string(root.join("results-pruning.csv")).unwrap();
    let points = parse_csv(&csv).unwrap();
    assert!(points.len() >= 4, "fewer than four budgets in the CSV");
    let svg = pruning_svg(&points);
    assert!(svg.starts_with("<svg"), "not an SVG");
    assert_eq!(svg, pruning_svg(&points), "plot is not deterministic");
    let path = root.join("results-pruning.svg");
    if std::env::var_os("BNNGEN_BLESS").is_some() {
        std::fs::write(&path, &svg).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == svg,
        "docs/results-pruning.svg is stale: run BNNGEN_BLESS=1 cargo test --test train_plot"
    );
    let md = std::fs::read_to_string(root.join("results.md")).unwrap();
    for p in &points {
        let bits = fmt_bits(p.weight_bits);
        let acc = format!("{:.2}%", p.accuracy);
        assert!(
            md.lines().any(|l| l.contains(&bits) && l.contains(&acc)),
            "docs/results.md has no table row with {bits} bits and {acc} ({})",
            p.series
        );
    }
}

/// The study's two plots (docs/study/front-end.svg, docs/study/budget.svg) are what
/// `bnngen::train::study` draws from docs/study/runs.csv, and every setting of the CSV is a row
/// of docs/results.md with its mean and standard deviation, so the page cannot fall behind the
/// runs it reports.
#[test]
fn study_plots_and_table_match_the_runs() {
    use bnngen::train::study::{budget_svg, front_end_svg, parse_runs, summarize};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let csv = std::fs::read_to_string(root.join("study/runs.csv")).unwrap();
    let settings = summarize(&parse_runs(&csv).unwrap());
    assert!(settings.len() >= 20, "fewer than 20 settings in runs.csv");
    for (file, svg) in [
        ("study/front-end.svg", front_end_svg(&settings)),
        ("study/budget.svg", budget_svg(&settings)),
    ] {
        let path = root.join(file);
        if std::env::var_os("BNNGEN_BLESS").is_some() {
            std::fs::write(&path, &svg).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == svg,
            "docs/{file} is stale: run BNNGEN_BLESS=1 cargo test --test train_plot"
        );
    }
    let md = std::fs::read_to_string(root.join("results.md")).unwrap();
    for s in &settings {
        let mean = format!("{:.2}%", s.mean);
        let std = if s.seeds.len() > 1 {
            format!("{:.2}", s.std)
        } else {
            "-".to_string()
        };
        assert!(
            md.lines()
                .any(|l| l.starts_with(&format!("| `{}` |", s.name))
                    && l.contains(&mean)
                    && l.contains(&format!("| {std} |"))),
            "docs/results.md has no row `| `{}` | ...` with mean {mean} and std {std}",
            s.name
        );
    }
}

/// docs/study/tone.svg: the thresholds runs.csv records for M = 8, over the pixel histogram of
/// the 10,000 test images, plain and as the study's sensor delivers them (default sensor,
/// 10-bit codes, each image seeded by its index, as training sees the test set).
#[test]
fn tone_plot_matches_the_runs_and_the_test_images() {
    use bnngen::sensor::{SensorConfig, Stream};
    use bnngen::train::study::{parse_runs, tone_panel, tone_svg};
    let data = std::path::Path::new("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
    assert!(
        data.exists(),
        "{} is missing: scripts/setup.sh installs it (Debian package dataset-fashion-mnist)",
        data.display()
    );
    let images = bnngen::input::load_images(data).unwrap();
    assert_eq!(images.len(), 10_000);
    let sensor = SensorConfig {
        bits: 10,
        ..SensorConfig::default()
    };
    let mut plain = vec![0u64; 256];
    let mut seen = vec![0u64; 1024];
    for (i, im) in images.iter().enumerate() {
        for &v in &im.pixels {
            plain[v as usize] += 1;
        }
        for v in sensor.apply(&im.pixels, 8, Stream::Test, i as u64) {
            seen[v as usize] += 1;
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
    let runs = parse_runs(&std::fs::read_to_string(root.join("study/runs.csv")).unwrap()).unwrap();
    let panels = [
        tone_panel(&runs, "plain", plain),
        tone_panel(&runs, "sensor", seen),
    ];
    for p in &panels {
        assert_eq!(
            p.curves.len(),
            5,
            "{}: 3 GLT seeds, uniform, quantile start",
            p.title
        );
    }
    let svg = tone_svg(&panels);
    let path = root.join("study/tone.svg");
    if std::env::var_os("BNNGEN_BLESS").is_some() {
        std::fs::write(&path, &svg).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == svg,
        "docs/study/tone.svg is stale: run BNNGEN_BLESS=1 cargo test --test train_plot"
    );
}
