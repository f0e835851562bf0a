//! The report page in a real browser: Debian's Chromium, headless, loads it without console
//! errors, runs its script, and finds every plot in the DOM.
//!
//! Needs `chromium` (Debian package `chromium`; scripts/test.sh installs it). Without it the
//! test fails with that message: it never skips.

use std::path::Path;
use std::process::Command;

use bnngen::report::*;

/// A report with every section filled, from the tiny model plus stand-in step figures (the
/// figures only have to exercise the layout here; their own tests live with each step).
fn full_report() -> ReportData {
    let model = bnngen::model::load(Path::new("models/tiny.toml")).unwrap();
    let mut d = ReportData::of_model(&model);
    d.plan = Some(PlanFigures {
        clock_mhz: 50.0,
        frames_per_second: 1234.5,
        latency_us: 810.0,
        layers: model
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| StageFigures {
                name: l.name.clone(),
                kind: l.kind.tag().into(),
                lanes: 1 + i as u64,
                cycles_per_frame: 100 * (i as u64 + 1) % 7 + 10,
                memory_bits: bnngen::model::Model::layer_macs(l) / 10,
            })
            .collect(),
    });
    d.simulation = Some(SimulationFigures {
        frames: 30,
        mismatches: 0,
        cycles_per_frame_measured: Some(412.0),
        cycles_per_frame_planned: Some(400.0),
        correct: Some(21),
        confusion: Some(vec![vec![7, 2, 1], vec![1, 8, 1], vec![2, 2, 6]]),
        rtl_digest: Some("sha256:00".into()),
    });
    d.synthesis = Some(SynthesisFigures {
        target: "ice40-up5k".into(),
        device: "iCE40 UP5K".into(),
        resources: vec![
            Resource {
                name: "LUT4".into(),
                used: 2100,
                available: Some(5280),
            },
            Resource {
                name: "FF".into(),
                used: 900,
                available: Some(5280),
            },
            Resource {
                name: "BRAM".into(),
                used: 12,
                available: Some(30),
            },
            Resource {
                name: "carry".into(),
                used: 300,
                available: None,
            },
        ],
        fmax_mhz: Some(41.3),
        target_mhz: 48.0,
        timing_met: false,
    });
    d.folds = Some(fold_sweep_of(&model));
    d
}

/// The tiny model's fold sweep at the default hardware settings.
fn fold_sweep_of(model: &bnngen::model::Model) -> FoldSweepFigures {
    use bnngen::plan::{cost::ram::RamFamily, set_folding, HwConfig};
    let plan = set_folding(model, &HwConfig::default()).unwrap();
    FoldSweepFigures::of(model, &plan, RamFamily::Ice40).unwrap()
}

fn chromium() -> &'static str {
    for c in ["chromium", "chromium-browser"] {
        if Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return c;
        }
    }
    panic!("chromium not found: install the Debian package `chromium` (scripts/test.sh does)");
}

#[test]
fn report_loads_in_headless_chromium_with_every_plot() {
    let data = full_report();
    let html = render_html(&data);
    let tmp = tempdir();
    let dir = tmp.path();
    let page = dir.join("report.html");
    std::fs::write(&page, &html).unwrap();
    let expected_plots = html.matches("<figure class=\"plot\"").count();
    // tone curve, 3 stage charts, 4 tile maps, fold sweep, resources, confusion
    assert_eq!(expected_plots, 1 + 3 + data.model.tiles.len() + 1 + 1 + 1);

    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {log}");
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    assert!(
        dom.contains(&format!("data-plots=\"{expected_plots}\"")),
        "the page script did not count {expected_plots} plots in the DOM; body: {}",
        &dom[dom.find("<body").unwrap_or(0)..][..300.min(dom.len())]
    );
    assert!(
        dom.contains("data-model=\"tiny\""),
        "embedded JSON was not parsed by the page"
    );
    for id in [
        "tone-curve",
        "lanes",
        "cycles",
        "memory",
        "resources",
        "confusion",
        "tiles-conv2",
        "folds",
    ] {
        assert!(
            dom.contains(&format!("data-plot=\"{id}\"")),
            "plot {id} missing from the DOM"
        );
    }
    assert!(
        dom.contains("timing FAILED"),
        "failing timing must be shown as failing"
    );
}

#[test]
fn report_json_round_trips_and_html_is_deterministic() {
    let data = full_report();
    let json = serde_json::to_string(&data).unwrap();
    let back: ReportData = serde_json::from_str(&json).unwrap();
    assert_eq!(back, data);
    assert_eq!(render_html(&data), render_html(&back));
}

#[test]
fn report_escapes_names_from_the_model() {
    let mut data = full_report();
    data.model.name = "</script><b>x".into();
    data.model.description = "a & b <i>".into();
    let html = render_html(&data);
    assert!(!html.contains("<b>x"), "model name must be escaped");
    assert!(html.contains("a &amp; b &lt;i&gt;"));
    assert_eq!(
        html.matches("</script>").count(),
        2,
        "JSON must not close its script element"
    );
}

/// A scratch folder, removed when the returned guard drops (also when the test fails).
fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("bnngen-report-")
        .tempdir()
        .expect("create a scratch folder")
}
