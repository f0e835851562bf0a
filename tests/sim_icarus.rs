//! The second simulator in CI: Icarus Verilog runs the generated RTL with its own
//! plain-Verilog testbench (`sim/icarus_tb.v`) on random models and a shipped model, under
//! random gaps and back-pressure, and every class and score must equal the reference model's
//! as integers. Icarus is 4-state: any X or Z on an output fails the run, so a pass shows no
//! result depends on an uninitialized register. Needs iverilog (scripts/setup.sh); fails,
//! never skips, without it.

use bnngen::model::Model;
use bnngen::plan::{set_folding, HwConfig};
use bnngen::random::random_image;
use bnngen::verify::{icarus, Stress};

mod common;

fn run(model: &Model, hw: &HwConfig, images: &[bnngen::input::Image], seed: u64, tag: &str) {
    let plan = set_folding(model, hw).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join(tag);
    let rep = icarus::cosimulate(model, &plan, images, Stress::random(seed), &work)
        .unwrap_or_else(|e| panic!("{tag}: {e}"));
    assert!(rep.passed(), "{tag}: {}", rep.failure());
    assert_eq!(rep.results.len(), images.len());
}

#[test]
fn random_models_bit_exact_in_icarus() {
    let models = common::rtl_random_models(500, 10);
    let refs: Vec<&Model> = models.iter().map(|(_, m)| m).collect();
    let share = common::input_dependence("Icarus random models", &refs);
    assert!(share >= 0.85, "too little power: {share}");
    for (seed, m) in &models {
        let images: Vec<_> = (0..3)
            .map(|i| random_image(seed * 100 + i, &m.input))
            .collect();
        run(
            m,
            &HwConfig::default(),
            &images,
            *seed,
            &format!("seed{seed}"),
        );
        eprintln!("seed {seed}: 3 frames bit-exact in Icarus");
    }
}

/// Fully pruned layers in a 4-state simulator: their constant stages put no X or Z on the
/// result and agree with the reference model.
#[test]
fn fully_pruned_layers_bit_exact_in_icarus() {
    for (seed, m) in common::pruned_random_models(500, 3) {
        assert!(m.layers.iter().any(|l| l.kind.fully_pruned()));
        let images: Vec<_> = (0..3)
            .map(|i| random_image(seed * 100 + i, &m.input))
            .collect();
        run(
            &m,
            &HwConfig::default(),
            &images,
            seed,
            &format!("pruned{seed}"),
        );
    }
}

#[test]
fn tiny_model_bit_exact_in_icarus() {
    let m = bnngen::model::load(std::path::Path::new("models/tiny.toml")).unwrap();
    let images: Vec<_> = (0..4).map(|i| random_image(90 + i, &m.input)).collect();
    run(&m, &HwConfig::default(), &images, 9, "tiny");
}

/// The main job's model with its shipped hardware file, on the first Fashion-MNIST test image
/// (one frame of 18,432 cycles takes Icarus about 90 s on the 2-core build machine).
#[test]
fn fashion_default_bit_exact_in_icarus() {
    let m = bnngen::model::load(std::path::Path::new("models/fashion-default.toml")).unwrap();
    let hw = bnngen::plan::load_hw(std::path::Path::new("models/fashion-default.hw.toml")).unwrap();
    let data = std::path::Path::new("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
    assert!(
        data.exists(),
        "Fashion-MNIST is missing at {}: run scripts/setup.sh",
        data.display()
    );
    let images = bnngen::input::load_images(data).unwrap();
    run(&m, &hw, &images[..1], 11, "fashion-default");
}

/// The RTL as written by `generate` simulates the same from another working directory: Icarus
/// runs in a folder beside the RTL folder and names the sources by absolute path. The ROMs
/// are inside the modules, so nothing is looked up relative to the simulator's directory
/// (with `$readmemh` of a relative name, Icarus only warns and the ROMs read X).
#[test]
fn written_rtl_simulates_from_another_directory() {
    let m = bnngen::model::load(std::path::Path::new("models/tiny.toml")).unwrap();
    let plan = set_folding(&m, &HwConfig::default()).unwrap();
    let design = bnngen::rtl::generate(&m, &plan, Default::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rtl = dir.path().join("rtl");
    bnngen::rtl::write_dir(&design, &rtl).unwrap();
    for (name, text) in bnngen::rtl::render(&design) {
        assert!(
            !text.contains("$readmem"),
            "{name} reads a file at run time"
        );
    }
    let images: Vec<_> = (0..3).map(|i| random_image(70 + i, &m.input)).collect();
    let work = dir.path().join("elsewhere");
    let rep = icarus::cosimulate_written(&m, &plan, &images, Stress::random(3), &rtl, &work)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(rep.passed(), "{}", rep.failure());
    assert_eq!(rep.results.len(), images.len());
    let left: Vec<_> = std::fs::read_dir(&work)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        !left
            .iter()
            .any(|n| n.to_string_lossy().ends_with(".v") && n != "icarus_tb.v"),
        "the RTL sources stay in their own folder: {left:?}"
    );
}

/// The X check can fail: a stub whose result word is a register nothing writes stops the run
/// with an error naming the X, instead of producing a result.
#[test]
fn an_x_on_the_result_fails_the_icarus_run() {
    let stub = std::fs::read_to_string("tests/fixtures/sim/x_dut.v").unwrap();
    let files = vec![
        ("x_dut.v".to_string(), stub),
        ("files.f".to_string(), "x_dut.v\n".to_string()),
    ];
    let bench = icarus::Bench {
        top: "x_dut".into(),
        in_width: 4,
        out_width: 8,
        pixels: 2,
        frames: 1,
        timeout: 100,
    };
    let stim = icarus::Stimulus {
        pixels: "3\n5\n".into(),
        gaps: "00\n00\n".into(),
        ready: "1\n".into(),
        ready_len: 1,
    };
    let dir = tempfile::tempdir().unwrap();
    let err = icarus::run_bench(dir.path(), &files, &bench, &stim)
        .expect_err("an X on m_axis_tdata must fail the run");
    let msg = err.to_string();
    assert!(
        msg.contains("X or Z") && msg.contains("m_axis_tdata"),
        "{msg}"
    );
}
