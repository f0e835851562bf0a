//! The synthesis flow end to end on a stand-in accelerator (tests/fixtures/synth): Yosys,
//! nextpnr and the packers must run and their figures must land in the report. Needs yosys,
//! nextpnr-ice40 and icepack (Debian; scripts/setup.sh); it fails, not skips, without them.

use bnngen::synth::{self, PlanFigures, RtlDesign, SynthOptions, Target};
use std::path::{Path, PathBuf};

fn stub() -> RtlDesign {
    RtlDesign {
        dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/synth"),
        sources: vec!["stub_accel.v".into()],
        data: vec![],
        top: "stub_accel".into(),
        input_width: 8,
        output_width: 8,
        pixels: 16,
        load_words: 0,
        load_data_width: 16,
        frame_cycles: 0,
    }
}

fn work(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn figures() -> PlanFigures {
    PlanFigures {
        model: "stub".into(),
        cycles_per_frame: 16,
        latency_cycles: Some(20),
        kept_weight_bits: 0,
        weight_bits_in_bram: 0,
        weight_bits_in_spram: 0,
    }
}

#[test]
fn ice40_up5k_flow_places_routes_and_packs() {
    let opts = SynthOptions {
        target: Target::Ice40Up5k,
        clock_mhz: 48.0,
        seed: 1,
        tries: 1,
        work: work("synth-up5k"),
        pll: false,
        shown_as: None,
    };
    let out = synth::run(&stub(), &figures(), &opts).unwrap_or_else(|e| panic!("{e}"));
    let r = &out.report;
    assert_eq!(r.synth_top, "bnngen_icebreaker_top");
    assert!(
        r.resources.luts > 20 && r.resources.ffs > 20,
        "{:?}",
        r.resources
    );
    let lc = r.utilization["ICESTORM_LC"];
    assert_eq!(lc.available, 5280);
    assert!(lc.used >= r.resources.luts);
    let t = r.timing.as_ref().expect("nextpnr reports Fmax");
    assert_eq!(t.target_mhz, 48.0);
    assert!(t.fmax_mhz > 10.0 && t.fmax_mhz < 500.0, "{}", t.fmax_mhz);
    assert_eq!(t.pass, t.fmax_mhz >= 48.0);
    let p = r.performance.as_ref().unwrap();
    assert_eq!(p.frames_per_s, t.fmax_mhz * 1e6 / 16.0);
    let bit = r.bitstream.as_ref().expect("icepack wrote a bitstream");
    assert!(std::fs::metadata(bit).unwrap().len() > 10_000);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out.report_json).unwrap()).unwrap();
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["resources"]["luts"], r.resources.luts);
    let md = std::fs::read_to_string(&out.report_md).unwrap();
    assert!(md.contains(if t.pass { "PASS" } else { "FAIL" }));
}

#[test]
fn tries_stop_at_the_first_seed_that_meets_the_clock_else_keep_the_fastest() {
    // A clock the stub meets on its first seed: no second placement runs.
    let dir = work("synth-tries-easy");
    let opts = SynthOptions {
        target: Target::Ice40Up5k,
        clock_mhz: 12.0,
        seed: 1,
        tries: 3,
        work: dir.clone(),
        pll: false,
        shown_as: None,
    };
    let out = synth::run(&stub(), &figures(), &opts).unwrap_or_else(|e| panic!("{e}"));
    let t = out.report.timing.as_ref().expect("nextpnr reports Fmax");
    assert!(t.pass, "{} MHz", t.fmax_mhz);
    assert_eq!((t.seed, t.tries.len()), (1, 1), "{:?}", t.tries);
    assert!(dir.join("pnr-seed1.log").is_file());
    assert!(!dir.join("pnr-seed2.log").exists());
    // A clock no seed meets: every seed runs, and the fastest is kept and packed.
    let dir = work("synth-tries-miss");
    let opts = SynthOptions {
        clock_mhz: 1000.0,
        seed: 5,
        tries: 2,
        work: dir.clone(),
        ..opts
    };
    let out = synth::run(&stub(), &figures(), &opts).unwrap_or_else(|e| panic!("{e}"));
    let r = &out.report;
    let t = r.timing.as_ref().expect("nextpnr reports Fmax");
    let seeds: Vec<u64> = t.tries.iter().map(|x| x.seed).collect();
    assert_eq!(seeds, [5, 6]);
    assert!(!t.pass && t.tries.iter().all(|x| !x.pass), "{:?}", t.tries);
    // The fastest, the earlier seed on a tie.
    let top = (t.tries.iter()).fold(f64::MIN, |m, x| m.max(x.fmax_mhz.unwrap()));
    let fastest = t.tries.iter().find(|x| x.fmax_mhz == Some(top)).unwrap();
    assert_eq!((t.seed, t.fmax_mhz), (fastest.seed, top), "{:?}", t.tries);
    let log = dir.join(format!("pnr-seed{}.log", t.seed));
    assert_eq!(r.logs["nextpnr"], log);
    assert!(
        std::fs::metadata(r.bitstream.as_ref().unwrap())
            .unwrap()
            .len()
            > 10_000
    );
    let md = std::fs::read_to_string(&out.report_md).unwrap();
    assert!(
        md.contains(&format!("placement seed {} kept, of 2 tried", t.seed)),
        "{md}"
    );
}

#[test]
fn count_only_targets_report_resources_without_timing() {
    for t in [Target::Generic, Target::Xilinx] {
        let opts = SynthOptions {
            target: t,
            clock_mhz: 100.0,
            seed: 1,
            tries: 1,
            work: work(&format!("synth-{t}")),
            pll: false,
            shown_as: None,
        };
        let out = synth::run(&stub(), &figures(), &opts).unwrap_or_else(|e| panic!("{t}: {e}"));
        let r = &out.report;
        assert_eq!(r.synth_top, "stub_accel", "{t}");
        assert!(r.timing.is_none() && r.bitstream.is_none(), "{t}");
        assert!(r.resources.ffs >= 17, "{t}: {:?}", r.resources);
        assert!(r.resources.luts > 0, "{t}: {:?}", r.resources);
    }
}

#[test]
fn ecp5_25k_flow_uses_the_yowasp_tools() {
    let opts = SynthOptions {
        target: Target::Ecp5_25k,
        clock_mhz: 125.0,
        seed: 1,
        tries: 1,
        work: work("synth-ecp5-25k"),
        pll: false,
        shown_as: None,
    };
    let out = synth::run(&stub(), &figures(), &opts).unwrap_or_else(|e| panic!("{e}"));
    let r = &out.report;
    assert_eq!(r.synth_top, "bnngen_ulx3s_top");
    assert!(r.resources.luts > 20, "{:?}", r.resources);
    assert_eq!(r.utilization["TRELLIS_COMB"].available, 24288);
    let t = r.timing.as_ref().expect("nextpnr-ecp5 reports Fmax");
    assert_eq!(t.target_mhz, 125.0);
    let bit = r.bitstream.as_ref().expect("ecppack wrote a bitstream");
    assert!(std::fs::metadata(bit).unwrap().len() > 100_000);
}
