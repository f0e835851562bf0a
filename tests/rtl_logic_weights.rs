//! Weight ROMs kept in logic (`LayerPlan::weights_in_logic`), the move the fold to a device
//! makes when it is short of block RAM: the RTL marks the moved ROMs for logic at any size,
//! co-simulates bit-exact under random stalls at the plan's cycles per frame, and Yosys puts
//! exactly the block RAMs the estimate counts. Needs Verilator, g++, make and Yosys
//! (scripts/setup.sh): fails, never skips, without them.

use bnngen::model::Model;
use bnngen::plan::{cost, Plan};
use bnngen::random::random_image;
use bnngen::rtl::{self, bank::RamFamily, GenOptions};
use bnngen::synth::{gate_sim, Target};
use bnngen::verify::{cosimulate_opts, Stress};

mod common;
use common::fm6;

/// `plan` with every weight ROM moved to logic.
fn all_in_logic(model: &Model, plan: &Plan) -> Plan {
    let mut p = plan.clone();
    for (lp, l) in p.layers.iter_mut().zip(&model.layers) {
        lp.weights_in_logic = l.kind.weights().is_some() && !l.kind.fully_pruned();
    }
    assert!(p.layers.iter().any(|l| l.weights_in_logic));
    p
}

fn opts(ram: RamFamily, ecp5_cells: bool) -> GenOptions {
    GenOptions {
        debug: false,
        ram,
        rw_poison: true,
        ecp5_cells,
        spram: false,
    }
}

/// The moved ROMs are declared for logic, none of their banks for block RAM, and the design
/// co-simulates bit-exact under random gaps and back-pressure on both families (ECP5 with its
/// block-RAM cells, which a logic ROM must not become).
#[test]
fn weights_in_logic_cosimulate_bit_exact() {
    let (model, plan) = fm6();
    let moved = all_in_logic(&model, &plan);
    let images: Vec<_> = (0..4)
        .map(|i| random_image(900 + i, &model.input))
        .collect();
    for (k, o) in [opts(RamFamily::Ice40, false), opts(RamFamily::Ecp5, true)]
        .into_iter()
        .enumerate()
    {
        let before: String = rtl::render(&rtl::generate(&model, &plan, o).unwrap())
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        let text: String = rtl::render(&rtl::generate(&model, &moved, o).unwrap())
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        let wrom_lines = |t: &str, style: &str| {
            t.lines()
                .filter(|l| l.contains(style) && l.contains("wrom"))
                .count()
        };
        assert!(
            wrom_lines(&before, "ram_style = \"block\"") > 0 || before.contains("DP16KD"),
            "fm6's weights take block RAM before the move"
        );
        assert_eq!(wrom_lines(&text, "ram_style = \"block\""), 0);
        assert!(wrom_lines(&text, "ram_style = \"logic\"") > 0);
        let r = cosimulate_opts(
            &model,
            &moved,
            &images,
            Stress::random(31 + k as u64),
            o,
            None,
        )
        .unwrap();
        assert!(r.passed(), "{:?}: {}", o.ram, r.failure());
    }
}

/// A logic ROM reads in the same two stages as a block-RAM one: steady-state cycles per frame
/// are the plan's, exactly.
#[test]
fn weights_in_logic_keep_the_plans_cycle_count() {
    let (model, plan) = fm6();
    let moved = all_in_logic(&model, &plan);
    let images: Vec<_> = (0..6).map(|i| random_image(i + 7, &model.input)).collect();
    let o = opts(RamFamily::Ecp5, true);
    let rep = cosimulate_opts(&model, &moved, &images, Stress::none(), o, None).unwrap();
    assert!(rep.passed(), "{}", rep.failure());
    assert_eq!(rep.measured_cycles_per_frame, Some(moved.cycles_per_frame));
}

/// Block RAM stays exact with ROMs in logic: Yosys maps the moved design to the blocks the
/// estimate counts, fewer than before the move, on both families; on ECP5 the mapped netlist
/// is also simulated at gate level (Yosys's cell models) and matches the reference.
#[test]
fn block_ram_estimate_is_exact_with_weights_in_logic() {
    let (model, plan) = fm6();
    let moved = all_in_logic(&model, &plan);
    for target in [Target::Ice40Up5k, Target::Ecp5_25k] {
        let fam = target.ram_family();
        let est = |p: &Plan| {
            let t = cost::estimate(&model, p).total;
            match fam {
                RamFamily::Ice40 => t.ice40,
                RamFamily::Ecp5 => t.ecp5,
            }
        };
        let (e0, e1) = (est(&plan), est(&moved));
        assert!(e1.bram < e0.bram, "{target}: {} -> {}", e0.bram, e1.bram);
        let dir = tempfile::tempdir().unwrap();
        let r = if target == Target::Ecp5_25k {
            let images: Vec<_> = (0..2)
                .map(|i| random_image(950 + i, &model.input))
                .collect();
            let g = gate_sim::simulate_netlist(
                &model,
                &moved,
                target,
                &images,
                Stress::random(5),
                false,
                dir.path(),
            )
            .unwrap_or_else(|e| panic!("{target}: gate-level run failed (scripts/setup.sh): {e}"));
            assert!(g.report.passed(), "{target}: {}", g.report.failure());
            g.resources
        } else {
            let design = bnngen::synth::design_for(&model, &moved, target).unwrap();
            let pixels = model.input.height * model.input.width;
            gate_sim::synthesize_netlist(&design, pixels, target, dir.path())
                .unwrap_or_else(|e| panic!("{target}: Yosys failed (scripts/setup.sh): {e}"))
                .1
        };
        eprintln!(
            "{target}: estimate {} blocks ({} before the move), Yosys {}; LUT {}/{}",
            e1.bram, e0.bram, r.bram, e1.luts, r.luts
        );
        assert_eq!(e1.bram, r.bram, "{target}");
    }
}
