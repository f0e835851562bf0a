//! The Verilator build cache under concurrent builds of one design: cargo runs the tests of
//! one binary on several threads, and two of them building the same RTL at once used to share
//! one scratch folder (named by process id), so one build deleted the other's files.

use std::path::Path;

use bnngen::plan::{set_folding, HwConfig};
use bnngen::rtl::{self, GenOptions};
use bnngen::tools::verilator::{self, BuildOptions};

#[test]
fn two_threads_building_the_same_design_both_get_a_simulator() {
    // A cache of this test's own, so the design is really built (twice, at once); this binary
    // has no other test that could see the variable.
    let cache = tempfile::Builder::new()
        .prefix("bnngen-sim-cache-test-")
        .tempdir()
        .expect("scratch folder");
    std::env::set_var("BNNGEN_SIM_CACHE", cache.path());
    let model = bnngen::model::load(Path::new("models/tiny.toml")).expect("tiny model");
    let plan = set_folding(&model, &HwConfig::default()).expect("plan");
    let design = rtl::generate(&model, &plan, GenOptions::default()).expect("rtl");
    let files = rtl::render(&design);
    let opts = BuildOptions {
        debug: false,
        trace: false,
        wload: false,
    };
    let results: Vec<_> = std::thread::scope(|s| {
        let builds: Vec<_> = (0..2)
            .map(|_| s.spawn(|| verilator::build(&files, &design.top, opts)))
            .collect();
        builds.into_iter().map(|b| b.join().unwrap()).collect()
    });
    for r in &results {
        let sim = r
            .as_ref()
            .unwrap_or_else(|e| panic!("a concurrent build failed: {e}"));
        assert!(sim.dir.join("obj").join("Vdut").is_file(), "{:?}", sim.dir);
    }
    // Scratch folders of both builds are gone: only the finished build (and the shared
    // runtime objects) remain.
    let left: Vec<_> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "scratch left behind: {left:?}");
}
