//! The stage outputs under back-pressure: a window stage has no output FIFO (its last
//! pipeline registers and a skid register hold its words while `adv` is low), a one-lane
//! classifier takes its argmax serially, and a 1x1-input dense or classifier picks its chunk
//! group before the first read register. These tests co-simulate a model built to stress
//! exactly those structures, bit-exact against the reference model, with heavy output
//! back-pressure and a fast stage feeding a slow one (internal back-pressure).

use bnngen::model::Model;
use bnngen::plan::{set_folding, Fold, HwConfig};
use bnngen::random::random_image;
use bnngen::rtl::{generate, GenOptions};
use bnngen::verify::{cosimulate, Stress};

mod common;
use common::pattern_hex as hex;

/// 4x4 input, conv 8 -> conv 8 -> dense 32 -> classifier 4. Classes 1 and 2 have the same
/// weight row and bias, and so do classes 0 and 3: every frame has ties, which must go to the
/// lowest index (2 and 3 never win).
fn model() -> Model {
    let r0 = hex(32, 11);
    let r1 = hex(32, 12);
    let head = format!("{r0}{r1}{r1}{r0}");
    let text = format!(
        r#"format_version = 1
[meta]
name = "stall"
[input]
height = 4
width = 4
channels = 1
bits = 4
[front_end]
kind = "glt"
thresholds = [3, 7, 12]
[[layers]]
kind = "conv"
name = "conv1"
out_channels = 8
kernel = [3, 3]
padding = 1
pad_mode = "zero"
thresholds = [0, 1, -1, 2, 0, -2, 1, 0]
directions = [1, 1, -1, 1, 1, -1, 1, 1]
weights = "{}"
[[layers]]
kind = "conv"
name = "conv2"
out_channels = 8
kernel = [3, 3]
padding = 1
pad_mode = "minus_one"
thresholds = [0, 2, -2, 0, 4, -4, 0, 1]
directions = [1, -1, 1, 1, -1, 1, 1, -1]
weights = "{}"
[[layers]]
kind = "dense"
name = "fc1"
out_features = 32
thresholds = [{}]
directions = [{}]
weights = "{}"
[[layers]]
kind = "classifier"
name = "head"
out_features = 4
bias = [1, 0, 0, 1]
weights = "{head}"
"#,
        hex(3 * 9 * 8, 3),
        hex(8 * 9 * 8, 4),
        (0..32)
            .map(|i| ((i % 7) as i64 * 2 - 6).to_string())
            .collect::<Vec<_>>()
            .join(", "),
        (0..32)
            .map(|i| if i % 3 == 0 { "-1" } else { "1" })
            .collect::<Vec<_>>()
            .join(", "),
        hex(4 * 4 * 8 * 32, 5),
    );
    bnngen::model::parse(&text, "stall.toml").unwrap()
}

/// conv1 at full width (one output pixel per 9 cycles), conv2 and fc1 on one lane (hundreds
/// of cycles per pixel), so conv1 waits on conv2's line buffer; the head on `head_pe` lanes.
fn hw(head_pe: usize) -> HwConfig {
    let mut hw = HwConfig::default();
    hw.layers.insert("conv1".into(), Fold::lanes(8, 3));
    hw.layers.insert("conv2".into(), Fold::lanes(1, 1));
    hw.layers.insert("fc1".into(), Fold::lanes(1, 1));
    hw.layers.insert("head".into(), Fold::lanes(head_pe, 1));
    hw
}

fn heavy(seed: u64) -> Stress {
    Stress {
        seed,
        gap_percent: 20,
        max_gap: 3,
        stall_percent: 85,
    }
}

/// Co-simulate; `debug` adds the taps (and makes a different design, so two tests running at
/// once never build the same one).
fn run(head_pe: usize, stress: Stress, frames: usize, debug: bool) -> bnngen::verify::SimReport {
    let m = model();
    let plan = set_folding(&m, &hw(head_pe)).unwrap();
    let images: Vec<_> = (0..frames)
        .map(|i| random_image(900 + i as u64, &m.input))
        .collect();
    let rep = cosimulate(&m, &plan, &images, stress, debug, None).unwrap();
    assert!(rep.passed(), "head pe {head_pe}: {}", rep.failure());
    assert_eq!(rep.results.len(), frames);
    rep
}

#[test]
fn generated_structure_has_no_stage_fifo_and_a_serial_argmax() {
    let m = model();
    let plan = set_folding(&m, &hw(1)).unwrap();
    let d = generate(&m, &plan, GenOptions::default()).unwrap();
    let names: Vec<&str> = d.modules.iter().map(|md| md.name.as_str()).collect();
    assert!(
        names.iter().all(|n| !n.contains("fifo")),
        "no residual, so no FIFO module: {names:?}"
    );
    let head = d
        .modules
        .iter()
        .find(|md| md.name.ends_with("_head"))
        .unwrap();
    let text = bnngen::rtl::print::print_module(head);
    assert!(text.contains("amx_best"), "one-lane head: serial argmax");
    assert!(!text.contains("amx0_"), "one-lane head: no argmax tree");
    assert!(
        text.contains("lb_word"),
        "1x1 input: group picked before rd"
    );
    // The tree is still used when the head has a lane per class.
    let plan4 = set_folding(&m, &hw(4)).unwrap();
    let d4 = generate(&m, &plan4, GenOptions::default()).unwrap();
    let h4 = d4.modules.iter().find(|md| md.name.ends_with("_head"));
    let t4 = bnngen::rtl::print::print_module(h4.unwrap());
    assert!(t4.contains("amx0_") && !t4.contains("amx_best"));
}

#[test]
fn serial_argmax_ties_and_stalls_bit_exact() {
    let rep = run(1, heavy(3), 6, true);
    // Ties by construction: classes 2 and 3 can never win.
    assert!(rep.results.iter().all(|r| r.class < 2), "{:?}", rep.results);
}

#[test]
fn argmax_tree_and_stalls_bit_exact() {
    run(4, heavy(4), 4, true);
}

#[test]
fn internal_backpressure_keeps_plan_throughput() {
    // No output stalls: conv1 still waits on conv2 inside the pipeline. Cycles per frame
    // stay those of the slowest stage (conv2), as planned.
    let m = model();
    let plan = set_folding(&m, &hw(1)).unwrap();
    let rep = run(1, Stress::none(), 5, false);
    assert_eq!(
        rep.measured_cycles_per_frame,
        Some(plan.cycles_per_frame),
        "measured cycles per frame in steady state against the plan"
    );
}

#[test]
fn ice40_logic_rom_banks_bit_exact_under_stalls() {
    // On iCE40 the head's 128-word weight ROM (128 bits, under `ICE40_LOGIC_ROM_BITS`) is
    // kept in logic, in banks of `LOGIC_BANK` words with the bank mux after the registers.
    use bnngen::rtl::bank::{RamFamily, LOGIC_BANK};
    let m = model();
    let plan = set_folding(&m, &hw(1)).unwrap();
    let opts = GenOptions {
        ram: RamFamily::Ice40,
        ..Default::default()
    };
    let d = generate(&m, &plan, opts).unwrap();
    let head = d.modules.iter().find(|md| md.name.ends_with("_head"));
    let banks: Vec<_> = (head.unwrap().mems.iter())
        .filter(|mem| mem.name.starts_with("wrom_b"))
        .collect();
    assert_eq!(banks.len(), 128 / LOGIC_BANK, "{banks:?}");
    assert!(banks.iter().all(|mem| mem.logic && !mem.block_ram));
    let images: Vec<_> = (0..4).map(|i| random_image(950 + i, &m.input)).collect();
    let rep = bnngen::verify::cosimulate_opts(&m, &plan, &images, heavy(9), opts, None).unwrap();
    assert!(rep.passed(), "{}", rep.failure());
}

#[test]
fn fashion_up5k_pruned_generates_for_ice40() {
    // The shipped pruned model on iCE40 at 300 and 1000 frames/s: small tables (conv3's entry
    // table, the head's weights) go to logic banks; generation must not trip over names.
    use bnngen::rtl::bank::RamFamily;
    let m = bnngen::model::load(std::path::Path::new("models/fashion-up5k-pruned.toml")).unwrap();
    for fps in [300.0, 1000.0] {
        let hw = HwConfig {
            clock_mhz: 48.0,
            fps: Some(fps),
            ..HwConfig::default()
        };
        let plan = set_folding(&m, &hw).unwrap();
        let opts = GenOptions {
            ram: RamFamily::Ice40,
            ..Default::default()
        };
        let d = generate(&m, &plan, opts).unwrap();
        let logic = (d.modules.iter().flat_map(|md| md.mems.iter()))
            .filter(|mem| mem.logic)
            .count();
        assert!(logic > 0, "{fps} frames/s: some table in logic");
    }
}
