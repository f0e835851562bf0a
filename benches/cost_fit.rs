//! Data for fitting the cost model's logic constants (`plan::cost::logic`): one CSV row per
//! stage module of many designs, with the stage's structural counts (`logic::features`) and
//! what Yosys 0.23 maps that module to (`synth_ice40 -dsp -noflatten` or
//! `synth_ecp5 -nodsp -noflatten`, the bare accelerator as the gate-level run maps it).
//! `scripts/cost-fit.py` fits the constants from this table.
//!
//! Why per module: a stage's cells are then measured alone, so each row is one stage and the
//! fit sees the stages' structure, not only design totals. The designs span the shipped models
//! with their hw files, foldings of them at other frame rates and pop-count pipeline depths,
//! and random models, so that the fit is not an extrapolation on the large designs.
//!
//! `cargo bench --bench cost_fit > cost-data.csv` (about an hour on two cores), or a subset:
//! `cargo bench --bench cost_fit -- ice40 tiny r3` (families and design names to keep).

use bnngen::model::Model;
use bnngen::plan::cost::{self, logic, ram::RamFamily};
use bnngen::plan::{self, HwConfig, Plan};
use bnngen::random::{random_model, RandomOptions};
use bnngen::synth::Target;
use bnngen::tools::yosys::{classify, CellFamily, Resources, Yosys};
use std::collections::BTreeMap;
use std::path::Path;

/// A design: a name, a model and its plan.
struct Case {
    name: String,
    model: Model,
    plan: Plan,
}

fn shipped(name: &str) -> Model {
    bnngen::model::load(&Path::new("models").join(format!("{name}.toml"))).expect("shipped model")
}

fn shipped_hw(name: &str) -> HwConfig {
    let p = Path::new("models").join(format!("{name}.hw.toml"));
    if p.is_file() {
        plan::load_hw(&p).expect("shipped hw file")
    } else {
        HwConfig::default()
    }
}

/// Every design of the table.
fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let mut push = |name: String, model: &Model, hw: &HwConfig| match plan::set_folding(model, hw) {
        Ok(plan) => out.push(Case {
            name,
            model: model.clone(),
            plan,
        }),
        Err(e) => eprintln!("{name}: no plan ({e}); left out"),
    };
    for name in [
        "tiny",
        "fashion-up5k-pruned",
        "fashion-up5k",
        "fashion-default",
        "fashion-paper",
    ] {
        let m = shipped(name);
        let hw = shipped_hw(name);
        push(name.to_string(), &m, &hw);
        // Other pop-count pipeline depths and twice or four times the frame rate.
        for stages in [1, 2, 3] {
            if stages != hw.popcount() {
                let mut h = hw.clone();
                h.popcount_stages = Some(stages);
                push(format!("{name}-p{stages}"), &m, &h);
            }
        }
        for k in [4.0, 16.0] {
            let mut h = hw.clone();
            h.fps = Some(hw.fps.unwrap_or(100.0) * k);
            h.best_effort = true;
            push(format!("{name}-x{k}"), &m, &h);
        }
        // The other hand-off, as the fold to a device may choose it, also with two pop-count
        // stages and at four times the frame rate.
        let other = match hw.handoff {
            plan::Handoff::Skid => plan::Handoff::Hold,
            plan::Handoff::Hold => plan::Handoff::Skid,
        };
        let h = HwConfig {
            handoff: other,
            ..hw.clone()
        };
        push(format!("{name}-other"), &m, &h);
        let mut h2 = h.clone();
        h2.popcount_stages = Some(2);
        push(format!("{name}-other-p2"), &m, &h2);
        let mut h4 = h;
        h4.fps = Some(hw.fps.unwrap_or(100.0) * 4.0);
        h4.best_effort = true;
        push(format!("{name}-other-x4"), &m, &h4);
    }
    // fashion-default's UP5K file (SPRAM weights, fc1 in words, held hand-offs).
    push(
        "fashion-default-up5k".into(),
        &shipped("fashion-default"),
        &shipped_hw("fashion-default-up5k"),
    );
    for seed in 1..=12u64 {
        let s = seed as usize;
        let h = 8 + 2 * (s % 5);
        let opts = RandomOptions {
            height: h,
            width: h + 1,
            channels: 1 + s % 2,
            layers: 2 + s % 4,
            max_channels: 8 << (s % 3),
            classes: 2 + s % 8,
            ..RandomOptions::default()
        };
        let m = random_model(seed, &opts);
        let mut hw = HwConfig {
            popcount_stages: Some(1 + (seed as u32 % 3)),
            ..HwConfig::default()
        };
        if seed % 2 == 0 {
            hw.fps = Some(20_000.0);
            hw.best_effort = true;
        }
        push(format!("r{seed}"), &m, &hw);
    }
    // What the fold to the UP5K gives each shipped model (the designs users run there, with
    // SPRAM weights and dense outputs in words where it takes them).
    for name in ["fashion-up5k-pruned", "fashion-up5k", "fashion-default"] {
        let m = shipped(name);
        let device = plan::device::Device::Ice40Up5k;
        match plan::fit::fit_to_device(&m, &plan::fit::device_config(device), device) {
            Ok(f) => out.push(Case {
                name: format!("{name}-up5k-fold"),
                model: m,
                plan: f.plan,
            }),
            Err(e) => eprintln!("{name}-up5k-fold: no plan ({e}); left out"),
        }
    }
    out
}

/// Per-module cell counts of `stat -json` (module name -> resources).
fn per_module(stat: &str, fam: CellFamily) -> BTreeMap<String, Resources> {
    let v: serde_json::Value = serde_json::from_str(stat).expect("stat -json");
    let mut out = BTreeMap::new();
    for (name, m) in v["modules"].as_object().expect("modules") {
        let mut cells = BTreeMap::new();
        if let Some(by) = m["num_cells_by_type"].as_object() {
            for (k, n) in by {
                cells.insert(
                    k.trim_start_matches('\\').to_string(),
                    n.as_u64().unwrap_or(0),
                );
            }
        }
        out.insert(
            name.trim_start_matches('\\').to_string(),
            classify(fam, cells),
        );
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let families: Vec<(Target, RamFamily, CellFamily)> = [
        (Target::Ice40Up5k, RamFamily::Ice40, CellFamily::Ice40),
        (Target::Ecp5_85k, RamFamily::Ecp5, CellFamily::Ecp5),
    ]
    .into_iter()
    .filter(|(_, f, _)| {
        !args.iter().any(|a| a == "ice40" || a == "ecp5") || args.contains(&f.name().to_string())
    })
    .collect();
    // `features`: the structural counts of every stage of the same designs, without Yosys,
    // so that a change of the features can be fitted against the measured table in seconds.
    if args.iter().any(|a| a == "features") {
        print_features(&families, &args);
        return;
    }
    let yosys = Yosys::find().expect("Yosys (scripts/setup.sh)");
    print_header();
    let named = names_given(&args);
    for case in cases() {
        if named && !args.contains(&case.name) {
            continue;
        }
        let est = cost::estimate(&case.model, &case.plan);
        for &(target, fam, cfam) in &families {
            let cells_of = |p: &cost::PartCost| match fam {
                RamFamily::Ice40 => p.ice40,
                RamFamily::Ecp5 => p.ecp5,
            };
            // A design with weights in SPRAM exists for iCE40 only.
            let design = match bnngen::synth::design_for(&case.model, &case.plan, target) {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("{} {}: left out ({e})", case.name, fam.name());
                    continue;
                }
            };
            let dir = tempfile::tempdir().expect("temporary folder");
            let work = dir.path().join("rtl");
            bnngen::rtl::write_dir(&design, &work).expect("write RTL");
            let mut script = String::new();
            for m in &design.modules {
                script.push_str(&format!("read_verilog {}.v\n", m.name));
            }
            script.push_str(&match fam {
                RamFamily::Ice40 => format!("synth_ice40 -top {} -dsp -noflatten\n", design.top),
                RamFamily::Ecp5 => format!("synth_ecp5 -top {} -nodsp -noflatten\n", design.top),
            });
            let t0 = std::time::Instant::now();
            if let Err(e) = yosys.run(&work, "fit", &script, cfam) {
                eprintln!("{} {}: Yosys failed: {e}", case.name, fam.name());
                continue;
            }
            let stat = std::fs::read_to_string(work.join("fit.stat.json")).expect("stat");
            let mods = per_module(&stat, cfam);
            eprintln!(
                "{} {}: {:.0} s",
                case.name,
                fam.name(),
                t0.elapsed().as_secs_f64()
            );
            for (mname, r) in &mods {
                let idx = case
                    .model
                    .layers
                    .iter()
                    .enumerate()
                    .find(|(i, l)| {
                        mname.ends_with(&format!("_l{i}_{}", bnngen::rtl::ident(&l.name)))
                    })
                    .map(|(i, _)| i);
                let (part, kind, f, e) = match idx {
                    Some(i) => {
                        let mems = cost::placed_memories(&case.model, &case.plan, i, fam);
                        let f = logic::features(&case.model, &case.plan, i, &mems, fam);
                        let e = cells_of(&est.parts[i + 1]);
                        (
                            case.model.layers[i].name.clone(),
                            case.model.layers[i].kind.tag(),
                            f,
                            e,
                        )
                    }
                    None => {
                        let e = cells_of(&est.parts[0]);
                        let tail = mname.rsplit('_').next().unwrap_or("").to_string();
                        (
                            tail.clone(),
                            "glue",
                            [0.0; logic::FEATURES],
                            if tail == "end" { e } else { Default::default() },
                        )
                    }
                };
                let fs: Vec<String> = f.iter().map(|v| format!("{v}")).collect();
                println!(
                    "{},{},{},{},{},{},{},{},{},{},{}",
                    case.name,
                    fam.name(),
                    part,
                    kind,
                    fs.join(","),
                    r.luts,
                    r.ffs,
                    r.carry,
                    e.luts,
                    e.ffs,
                    e.carry
                );
            }
        }
    }
}

/// The CSV header: the design, the stage, its features, the measured and estimated cells.
fn print_header() {
    let header: Vec<String> = (0..logic::FEATURES).map(|i| format!("f{i}")).collect();
    println!(
        "design,family,part,kind,{},luts,ffs,carry,est_luts,est_ffs,est_carry",
        header.join(",")
    );
}

/// Whether the arguments name designs (anything but the family and mode words).
fn names_given(args: &[String]) -> bool {
    args.iter()
        .any(|a| !matches!(a.as_str(), "ice40" | "ecp5" | "features"))
}

/// One row per MAC, pool or residual stage of every design and family, with the stage's
/// features and estimate (the measured columns 0): the `features` mode.
fn print_features(families: &[(Target, RamFamily, CellFamily)], args: &[String]) {
    print_header();
    let named = names_given(args);
    for case in cases() {
        // A fold to a device depends on the constants of the moment: its features belong to
        // the folding that was measured, which benches/data keeps beside the counts.
        if (named && !args.contains(&case.name)) || case.name.ends_with("-fold") {
            continue;
        }
        let est = cost::estimate(&case.model, &case.plan);
        for &(_, fam, _) in families {
            for (i, l) in case.model.layers.iter().enumerate() {
                let mems = cost::placed_memories(&case.model, &case.plan, i, fam);
                let f = logic::features(&case.model, &case.plan, i, &mems, fam);
                let e = match fam {
                    RamFamily::Ice40 => est.parts[i + 1].ice40,
                    RamFamily::Ecp5 => est.parts[i + 1].ecp5,
                };
                let fs: Vec<String> = f.iter().map(|v| format!("{v}")).collect();
                println!(
                    "{},{},{},{},{},0,0,0,{},{},{}",
                    case.name,
                    fam.name(),
                    l.name,
                    l.kind.tag(),
                    fs.join(","),
                    e.luts,
                    e.ffs,
                    e.carry
                );
            }
        }
    }
}
