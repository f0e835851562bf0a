//! Folding to a device (`plan::fit`): the search keeps the fastest folding whose estimate fits
//! within the budgets, honours the budgets the user sets, and says what does not fit (exit 2)
//! when nothing does. Estimates only: no synthesis tool runs here except in the ignored
//! placement check of the UP5K goal (`cargo test --test plan_fit -- --ignored`, several
//! minutes on two cores; needs yosys, nextpnr-ice40 and icepack from scripts/setup.sh).

use std::process::Command;

use bnngen::model::{self, Model};
use bnngen::plan::device::Device;
use bnngen::plan::fit::{self, FitError};
use bnngen::plan::{cost, set_folding, sweep, Handoff, HwConfig, PlanError, WeightStore};
use bnngen::random::{random_model, RandomOptions};

fn shipped(name: &str) -> Model {
    model::load(std::path::Path::new(&format!("models/{name}.toml"))).unwrap()
}

/// Every plan `set_folding` makes at a spread of frame-rate targets with either hand-off (an
/// enumeration independent of the search's own candidate budgets).
fn spread_of_plans(m: &Model, hw: &HwConfig) -> Vec<bnngen::plan::Plan> {
    let mut out = Vec::new();
    for handoff in [Handoff::Skid, Handoff::Hold] {
        for k in 0..240 {
            let fps = 10f64.powf(k as f64 / 30.0);
            let at = HwConfig {
                fps: Some(fps),
                handoff,
                best_effort: true,
                device: None,
                ..hw.clone()
            };
            out.push(set_folding(m, &at).unwrap());
        }
    }
    out
}

/// The chosen plan fits, and no plan of the spread that is faster fits.
fn assert_fastest_fitting(m: &Model, device: Device, hw: &HwConfig) -> fit::Fitted {
    let cap = device.capacity();
    let f = fit::fit_to_device(m, hw, device).unwrap();
    assert!(f.usage.fits(), "{:?}", f.usage);
    assert_eq!(
        f.usage,
        fit::device_use(&cost::estimate(m, &f.plan), &cap, hw)
    );
    for p in spread_of_plans(m, hw) {
        if p.cycles_per_frame < f.plan.cycles_per_frame {
            let u = fit::device_use(&cost::estimate(m, &p), &cap, hw);
            assert!(
                !u.fits(),
                "{}: a plan of {} cycles/frame ({:?}) fits ({:?}) but the search chose {}",
                m.meta.name,
                p.cycles_per_frame,
                p.handoff,
                u,
                f.plan.cycles_per_frame
            );
        }
    }
    f
}

#[test]
fn search_picks_the_fastest_fitting_folding() {
    let m = shipped("fashion-up5k-pruned");
    let f = assert_fastest_fitting(
        &m,
        Device::Ice40Up5k,
        &fit::device_config(Device::Ice40Up5k),
    );
    assert_eq!(f.plan.clock_mhz, 48.0, "the device's default clock");
    assert!(f.tried > 10, "{} candidates", f.tried);
    for seed in 1..=4 {
        let m = random_model(seed, &RandomOptions::default());
        for device in [Device::Ice40Up5k, Device::Ecp5_25k] {
            let hw = HwConfig {
                max_logic_percent: 30.0,
                ..fit::device_config(device)
            };
            match fit::fit_to_device(&m, &hw, device) {
                Ok(_) => {
                    assert_fastest_fitting(&m, device, &hw);
                }
                Err(PlanError::Fit(FitError::NothingFits { .. })) => {}
                Err(e) => panic!("seed {seed} {device}: {e}"),
            }
        }
    }
}

/// The default budgets fold fashion-up5k-pruned for the UP5K to a folding measured on the
/// tools: conv1 8 x 8, conv2 8 x 4, conv3 4 x 8, fc1 1 x 4 (hand-off hold, one pop-count stage
/// for trees of at most 8 inputs, 14,896 cycles per frame, 3,222 frames/s at 48 MHz), which
/// places, routes and meets 48 MHz (`fashion_up5k_pruned_places_on_the_up5k_without_an_hw_file`;
/// docs/hw-config.md, "Folding to a device"), ten times the frame rate of the hand-tuned file
/// (48 MHz, 300 frames/s: 113,680 cycles per frame), which must stay slower than it.
#[test]
fn fashion_up5k_pruned_folds_for_the_up5k_as_measured() {
    let m = shipped("fashion-up5k-pruned");
    let f = fit::fit_to_device(
        &m,
        &fit::device_config(Device::Ice40Up5k),
        Device::Ice40Up5k,
    )
    .unwrap();
    let hand = bnngen::plan::fold_hw_file(
        &m,
        std::path::Path::new("models/fashion-up5k-pruned.hw.toml"),
    )
    .unwrap()
    .1;
    assert_eq!(f.plan.handoff, Handoff::Hold);
    let folds: Vec<(usize, usize)> = (f.plan.layers.iter())
        .filter(|l| l.lanes > 0)
        .map(|l| (l.pe, l.simd))
        .collect();
    assert_eq!(folds, [(8, 8), (8, 4), (4, 8), (1, 4), (1, 1)]);
    assert_eq!(f.plan.cycles_per_frame, 14_896);
    // Trees of at most 8 inputs: one pop-count stage, as measured.
    assert_eq!(f.plan.popcount_stages, 1);
    assert!(f.plan.cycles_per_frame * 7 <= hand.cycles_per_frame);
}

/// With no hw file, the fold to the UP5K places, routes and meets the device's 48 MHz within
/// three placement seeds, at no less than the hand-tuned file's 300 frames/s.
#[test]
#[ignore = "runs Yosys and nextpnr for several minutes: cargo test --test plan_fit -- --ignored"]
fn fashion_up5k_pruned_places_on_the_up5k_without_an_hw_file() {
    let out = tempfile::tempdir().unwrap();
    let run = bnngen(&[
        "synth",
        "models/fashion-up5k-pruned.toml",
        "--target",
        "ice40-up5k",
        "--tries",
        "3",
        "--json",
        "-o",
        out.path().to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "bnngen synth failed (needs yosys, nextpnr-ice40, icepack: scripts/setup.sh): {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let lc = &r["utilization"]["ICESTORM_LC"];
    assert!(
        lc["used"].as_u64().unwrap() <= lc["available"].as_u64().unwrap(),
        "{lc}"
    );
    // The device's default clock, met within three placement seeds.
    assert_eq!(r["timing"]["target_mhz"], 48.0, "{}", r["timing"]);
    assert_eq!(r["timing"]["pass"], true, "{}", r["timing"]);
    let cycles = r["performance"]["cycles_per_frame"].as_u64().unwrap();
    assert!(48e6 / cycles as f64 >= 300.0, "{cycles} cycles per frame");
}

#[test]
fn a_lower_logic_budget_gives_a_slower_folding_within_it() {
    let m = shipped("fashion-up5k-pruned");
    let wide = fit::fit_to_device(
        &m,
        &HwConfig {
            max_logic_percent: 100.0,
            ..fit::device_config(Device::Ice40Up5k)
        },
        Device::Ice40Up5k,
    )
    .unwrap();
    // Just under what the fastest fitting design needs: that design is out.
    let pct = 100.0 * (wide.usage.logic - 1) as f64 / wide.usage.logic_capacity as f64;
    let hw = HwConfig {
        max_logic_percent: pct,
        ..fit::device_config(Device::Ice40Up5k)
    };
    let tight = assert_fastest_fitting(&m, Device::Ice40Up5k, &hw);
    assert!(tight.usage.logic < wide.usage.logic);
    assert!(tight.usage.logic <= tight.usage.logic_limit);
    assert!(
        tight.plan.cycles_per_frame >= wide.plan.cycles_per_frame,
        "{} < {}",
        tight.plan.cycles_per_frame,
        wide.plan.cycles_per_frame
    );
}

#[test]
fn explicit_folds_and_the_hw_clock_are_kept() {
    let m = shipped("tiny");
    let mut hw = fit::device_config(Device::Ice40Hx8k);
    hw.clock_mhz = 12.0;
    hw.layers
        .insert("conv1".into(), bnngen::plan::Fold::lanes(1, 1));
    let f = fit::fit_to_device(&m, &hw, Device::Ice40Hx8k).unwrap();
    let conv1 = f.plan.layers.iter().find(|l| l.name == "conv1").unwrap();
    assert_eq!((conv1.pe, conv1.simd), (1, 1));
    assert_eq!(f.plan.clock_mhz, 12.0);
}

#[test]
fn nothing_fits_names_the_resource_and_the_shortfall() {
    // fashion-up5k's memories need more RAM4K than the UP5K has, at any folding, with its
    // weights in block RAM.
    let m = shipped("fashion-up5k");
    let bram = HwConfig {
        weights: Some(WeightStore::Bram),
        ..fit::device_config(Device::Ice40Up5k)
    };
    let e = fit::fit_to_device(&m, &bram, Device::Ice40Up5k).unwrap_err();
    let PlanError::Fit(FitError::NothingFits { shortfalls, .. }) = &e else {
        panic!("{e}");
    };
    let cost = cost::estimate(&m, &set_folding(&m, &HwConfig::default()).unwrap());
    assert!(cost.total.ice40.bram > 30);
    assert!(
        shortfalls
            .iter()
            .any(|s| s.starts_with("needs ") && s.contains(" RAM4K of 30")),
        "{e}"
    );
}

fn bnngen(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bnngen"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn cli_device_folds_and_reports_the_use() {
    let out = bnngen(&["plan", "models/tiny.toml", "--device", "ice40-up5k"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("folded to ice40-up5k (board top included)"),
        "{text}"
    );
    assert!(text.contains("at 48 MHz"), "{text}");
    let out = bnngen(&[
        "plan",
        "models/tiny.toml",
        "--device",
        "ice40-up5k",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let u = &v["device_use"];
    assert_eq!(u["device"], "ice40-up5k");
    assert_eq!(u["logic_capacity"], 5280);
    assert!(
        u["logic"].as_u64().unwrap() <= u["logic_limit"].as_u64().unwrap(),
        "{u}"
    );
}

#[test]
fn cli_nothing_fits_exits_2_with_the_shortfall() {
    let out = bnngen(&[
        "plan",
        "models/tiny.toml",
        "--device",
        "ice40-up5k",
        "--max-bram-percent",
        "5",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("does not fit ice40-up5k") && err.contains("RAM4K of 30 (the budget is 1, 5%"),
        "{err}"
    );
    let out = bnngen(&[
        "plan",
        "models/tiny.toml",
        "--device",
        "ice40-up5k",
        "--max-logic-percent",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--max-logic-percent 0"));
}

#[test]
fn hw_file_device_takes_its_default_clock_and_checks_budgets() {
    let dir = tempfile::tempdir().unwrap();
    let hw = dir.path().join("hw.toml");
    std::fs::write(&hw, "device = \"ice40-up5k\"\nmax_logic_percent = 90.0\n").unwrap();
    let out = bnngen(&["plan", "models/tiny.toml", "--hw", hw.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("at 48 MHz") && text.contains("at 90%"),
        "{text}"
    );

    std::fs::write(&hw, "device = \"ice40\"\n").unwrap();
    let out = bnngen(&["plan", "models/tiny.toml", "--hw", hw.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("hw.toml:1") && err.contains("ice40-up5k"),
        "{err}"
    );

    std::fs::write(&hw, "device = \"ice40-up5k\"\nmax_bram_percent = 120.0\n").unwrap();
    let out = bnngen(&["plan", "models/tiny.toml", "--hw", hw.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("hw.toml:2: max_bram_percent"), "{err}");

    // An fps the fitting folding cannot reach is an error in the `fps` field.
    std::fs::write(&hw, "device = \"ice40-up5k\"\nfps = 1e9\n").unwrap();
    let out = bnngen(&["plan", "models/tiny.toml", "--hw", hw.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("hw.toml:2: fps:") && err.contains("within the budgets"),
        "{err}"
    );
}

/// `generate --target T` and `simulate --target T` without an hw file build the design that
/// `synth --target T` synthesizes: the same device folding, not the default one (a digest or
/// cycle count that differed would mean the simulated RTL is not the shipped RTL).
#[test]
fn generate_and_simulate_with_a_target_fold_to_its_device() {
    let model = "models/fashion-up5k-pruned.toml";
    let plan_cycles = |extra: &[&str]| {
        let mut args = vec!["plan", model, "--json"];
        args.extend_from_slice(extra);
        let out = bnngen(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["cycles_per_frame"]
            .as_u64()
            .expect("cycles_per_frame in plan --json")
    };
    let device = plan_cycles(&["--device", "ice40-up5k"]);
    let default = plan_cycles(&[]);
    assert_ne!(
        device, default,
        "the test needs a model whose device folding differs"
    );
    let dir = tempfile::tempdir().unwrap();
    let rtl = dir.path().join("rtl");
    let out = bnngen(&[
        "generate",
        model,
        "--target",
        "ice40-up5k",
        "-o",
        rtl.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!(", {device} cycles/frame,")),
        "{text}"
    );
    let out = bnngen(&[
        "simulate",
        model,
        "--target",
        "ice40-up5k",
        "--random",
        "1",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["plan_cycles_per_frame"].as_u64(), Some(device), "{v}");
}

#[test]
fn block_ram_efficiency_counts_what_each_block_memory_holds() {
    // The memory listing the estimate reports is the one its block counts come from, and
    // `bram_bits` is the bits those memories hold (every column of fashion-up5k is read).
    use cost::ram::{Placed, RamFamily};
    let m = shipped("fashion-up5k");
    let c = cost::estimate(&m, &set_folding(&m, &HwConfig::default()).unwrap());
    for fam in [RamFamily::Ice40, RamFamily::Ecp5] {
        let (mut blocks, mut held, mut line_buffer_blocks) = (0, 0, 0);
        for p in &c.parts {
            let mems = match fam {
                RamFamily::Ice40 => &p.memories.ice40,
                RamFamily::Ecp5 => &p.memories.ecp5,
            };
            for u in mems {
                if let Placed::Block(n) = u.placed {
                    blocks += n;
                    held += u.width as u64 * u.depth as u64;
                    assert!(u.width as u64 * u.depth as u64 <= n * fam.block_bits());
                    if u.role == cost::memory::Role::LineBuffer {
                        line_buffer_blocks += n;
                    }
                }
            }
        }
        let total = match fam {
            RamFamily::Ice40 => c.total.ice40,
            RamFamily::Ecp5 => c.total.ecp5,
        };
        assert_eq!((total.bram, total.bram_bits), (blocks, held), "{fam:?}");
        let e = total.bram_efficiency(fam).unwrap();
        assert!(e > 0.0 && e < 1.0, "{fam:?} {e}");
        if fam == RamFamily::Ice40 {
            // Where the UP5K's blocks go: the line buffers, at most 16 bits wide per block,
            // take 12 RAM4K for 16,384 bits, one of them the head's narrow ring; pool2's and
            // pool3's narrow rings take one each instead of 2 and 4 (docs/benchmarks.md,
            // "Block-RAM efficiency").
            assert_eq!(line_buffer_blocks, 12);
            let ring = |name: &str| {
                let p = c.parts.iter().find(|p| p.name == name).unwrap();
                let u = p
                    .memories
                    .ice40
                    .iter()
                    .find(|u| u.role == cost::memory::Role::LineBuffer);
                let u = u.unwrap();
                (u.width, u.depth, u.placed)
            };
            assert_eq!(ring("pool2"), (16, 192, Placed::Block(1)));
            assert_eq!(ring("pool3"), (16, 192, Placed::Block(1)));
            assert_eq!(ring("pool1"), (16, 192, Placed::Block(1)));
        }
    }
}

#[test]
fn the_report_gives_the_block_ram_efficiency_of_the_estimate() {
    use bnngen::report::{render_html, CostFigures, ReportData};
    let m = shipped("fashion-up5k");
    let c = cost::estimate(&m, &set_folding(&m, &HwConfig::default()).unwrap());
    let fam = cost::ram::RamFamily::Ice40;
    let mut d = ReportData::of_model(&m);
    d.cost = Some(CostFigures::of(&c, fam, None));
    let e = c.total.ice40.bram_efficiency(fam).unwrap();
    let line = format!("Block RAM efficiency: {:.1}% of the allocated", 100.0 * e);
    assert!(render_html(&d).contains(&line), "{line}");
}

/// The invariants of a fold sweep (`plan::sweep`): it starts at one lane per layer, ends at
/// the widest folding, and each point is faster and no narrower than the one before.
fn assert_sweep_spans_the_folds(m: &Model, plan: &bnngen::plan::Plan) -> usize {
    let points = sweep::fold_sweep(m, plan).unwrap();
    let name = &m.meta.name;
    let first = &points[0].plan;
    for (l, layer) in first.layers.iter().zip(&m.layers) {
        if layer.kind.weights().is_some() && !layer.kind.fully_pruned() {
            assert_eq!(
                (l.pe, l.simd, l.taps),
                (1, 1, 1),
                "{name}: layer {}",
                l.name
            );
        }
    }
    let widest = set_folding(m, &sweep::at_budget(plan, 1)).unwrap();
    let last = &points.last().unwrap().plan;
    assert_eq!(last.cycles_per_frame, widest.cycles_per_frame, "{name}");
    let lanes = |p: &bnngen::plan::Plan| p.layers.iter().map(|l| l.lanes).sum::<usize>();
    for w in points.windows(2) {
        assert!(
            w[1].plan.cycles_per_frame < w[0].plan.cycles_per_frame,
            "{name}: cycles must fall along the sweep"
        );
        assert!(
            lanes(&w[1].plan) >= lanes(&w[0].plan),
            "{name}: lanes shrank"
        );
        assert_eq!(w[1].plan.clock_mhz, plan.clock_mhz);
        assert_eq!(w[1].plan.handoff, plan.handoff);
    }
    points.len()
}

#[test]
fn the_fold_sweep_runs_from_one_lane_per_layer_to_the_widest_folding() {
    let m = shipped("fashion-up5k-pruned");
    let hw =
        bnngen::plan::load_hw(std::path::Path::new("models/fashion-up5k-pruned.hw.toml")).unwrap();
    let plan = set_folding(&m, &hw).unwrap();
    let n = assert_sweep_spans_the_folds(&m, &plan);
    // 903,168 cycles at one lane per layer down to the widest folding: many halvings.
    assert!(n >= 10, "only {n} points");
    let points = sweep::fold_sweep(&m, &plan).unwrap();
    let luts = |i: usize| points[i].cost.total.ice40.luts;
    assert!(
        luts(n - 1) > 2 * luts(0),
        "the widest folding must cost more logic"
    );
    for seed in 0..12 {
        let m = random_model(seed, &RandomOptions::sampled(seed));
        let plan = set_folding(&m, &HwConfig::default()).unwrap();
        assert_sweep_spans_the_folds(&m, &plan);
    }
}

/// `flow` without `--target` synthesizes for the smallest part whose capacity holds the
/// plan's estimate (block RAM and logic, with the board top), not its memory bits alone: each
/// shipped model with its hw file, and random models at the input rate.
#[test]
fn the_automatic_target_is_the_smallest_part_the_estimate_fits() {
    use bnngen::flow::default_target;
    use bnngen::synth::Target;
    let order = [Target::Ice40Up5k, Target::Ecp5_25k, Target::Ecp5_85k];
    let mut cases: Vec<(String, Model, HwConfig)> = Vec::new();
    for name in [
        "tiny",
        "fashion-default",
        "fashion-up5k",
        "fashion-up5k-pruned",
        "fashion-sensor",
        "fashion-paper",
    ] {
        let hw_path = format!("models/{name}.hw.toml");
        let hw = if std::path::Path::new(&hw_path).exists() {
            bnngen::plan::load_hw(std::path::Path::new(&hw_path)).unwrap()
        } else {
            HwConfig::default()
        };
        cases.push((name.into(), shipped(name), hw));
    }
    for seed in 0..6 {
        let m = random_model(seed, &RandomOptions::sampled(seed));
        cases.push((format!("random {seed}"), m, HwConfig::default()));
    }
    let mut chosen = Vec::new();
    for (name, m, hw) in &cases {
        let plan = set_folding(m, hw).unwrap();
        let t = default_target(m, &plan, hw);
        let estimate = cost::estimate(m, &plan);
        let fits = |t: Target| fit::device_use(&estimate, &t.capacity().unwrap(), hw).fits();
        let at = order.iter().position(|&o| o == t).unwrap();
        for smaller in &order[..at] {
            assert!(
                !fits(*smaller),
                "{name}: {smaller:?} fits, yet {t:?} was chosen"
            );
        }
        if t != Target::Ecp5_85k {
            assert!(
                fits(t),
                "{name}: {t:?} chosen but the estimate does not fit it"
            );
        }
        chosen.push((name.clone(), t));
    }
    let of = |n: &str| chosen.iter().find(|c| c.0 == n).unwrap().1;
    assert_eq!(of("fashion-up5k-pruned"), Target::Ice40Up5k);
    assert_eq!(of("fashion-default"), Target::Ecp5_85k);
    assert_eq!(of("fashion-sensor"), Target::Ecp5_25k);
    assert_eq!(of("fashion-paper"), Target::Ecp5_85k);
    assert_eq!(of("tiny"), Target::Ice40Up5k);
}

/// The unpruned fashion-up5k places, routes and meets the UP5K's 48 MHz with no hw file: the
/// fold finds nothing in block RAM, takes the SPRAMs, and pipelines its 32-input pop-count
/// trees in two stages (docs/hw-config.md, "Folding to a device"); within three placement
/// seeds, faster at its Fmax than the pruned model's hand-tuned 300 frames/s.
#[test]
#[ignore = "runs Yosys and nextpnr for several minutes: cargo test --test plan_fit -- --ignored"]
fn fashion_up5k_unpruned_places_on_the_up5k_without_an_hw_file() {
    let out = tempfile::tempdir().unwrap();
    let run = bnngen(&[
        "synth",
        "models/fashion-up5k.toml",
        "--target",
        "ice40-up5k",
        "--tries",
        "3",
        "--json",
        "-o",
        out.path().join("run").to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "bnngen synth failed (needs yosys, nextpnr-ice40, icepack: scripts/setup.sh): {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let u = &r["utilization"];
    for cell in ["ICESTORM_LC", "ICESTORM_RAM", "ICESTORM_SPRAM"] {
        assert!(
            u[cell]["used"].as_u64().unwrap() <= u[cell]["available"].as_u64().unwrap(),
            "{cell}: {}",
            u[cell]
        );
    }
    // Weights in SPRAM: the fold takes it when nothing fits in block RAM.
    assert!(u["ICESTORM_SPRAM"]["used"].as_u64().unwrap() > 0, "{u}");
    assert_eq!(r["timing"]["pass"], true, "{}", r["timing"]);
    assert_eq!(r["timing"]["target_mhz"], 48.0, "{}", r["timing"]);
    let fps = r["performance"]["frames_per_s"].as_f64().unwrap();
    assert!(fps >= 300.0, "{fps} frames/s at the achieved Fmax");
}

/// With `weights = "spram"` the UP5K estimate counts the SPRAMs beside the RAM4K and leaves the
/// weight ROMs they hold out of the RAM4K: fashion-up5k at its shipped folding needs 36 RAM4K
/// with block-RAM weights and 12 RAM4K + 4 SPRAM with SPRAM weights (with fc1's narrow ring;
/// 15 + 4 with whole-word rings, what Yosys maps, docs/benchmarks.md), so folding it to the
/// UP5K is short of logic cells only.
#[test]
fn spram_weights_free_ram4k_for_the_fit() {
    let m = shipped("fashion-up5k");
    let hw = bnngen::plan::load_hw(std::path::Path::new("models/fashion-up5k.hw.toml")).unwrap();
    let bram = cost::estimate(&m, &set_folding(&m, &hw).unwrap())
        .total
        .ice40;
    let spram_hw = HwConfig {
        weights: Some(WeightStore::Spram),
        ..hw.clone()
    };
    let plan = set_folding(&m, &spram_hw).unwrap();
    assert_eq!(plan.weights, WeightStore::Spram);
    let sp = cost::estimate(&m, &plan).total.ice40;
    assert_eq!((bram.bram, bram.spram), (36, 0));
    assert_eq!((sp.bram, sp.spram), (12, 4));
    // ECP5 has no SPRAM: its estimate is the same either way.
    let ecp = |p| cost::estimate(&m, p).total.ecp5;
    assert_eq!(ecp(&plan), ecp(&set_folding(&m, &hw).unwrap()));
    let fit_hw = HwConfig {
        weights: Some(WeightStore::Spram),
        ..fit::device_config(Device::Ice40Up5k)
    };
    match fit::fit_to_device(&m, &fit_hw, Device::Ice40Up5k) {
        Ok(f) => assert!(f.usage.bram <= 30 && f.usage.spram > 0, "{:?}", f.usage),
        Err(PlanError::Fit(e @ FitError::NothingFits { .. })) => {
            let e = e.to_string();
            assert!(e.contains("logic cells") && !e.contains("RAM4K"), "{e}");
        }
        Err(e) => panic!("{e}"),
    }
}

/// Folding to a device without `popcount_stages` gives the pop-count trees one pipeline stage
/// per `popcount_levels_per_stage` adder levels of the deepest tree it folds to (at least
/// one); a value the user sets, on the command line's hw or in a hw file, is kept.
#[test]
fn the_fold_sets_pop_count_stages_by_the_depth_of_its_trees() {
    let levels = |p: &bnngen::plan::Plan| {
        (p.layers.iter().filter(|l| l.lanes > 0))
            .map(|l| {
                ((l.simd * l.taps) as u64)
                    .next_power_of_two()
                    .trailing_zeros()
            })
            .max()
            .unwrap()
    };
    for (name, device) in [
        ("fashion-up5k-pruned", Device::Ice40Up5k),
        ("fashion-up5k", Device::Ice40Up5k),
        ("fashion-up5k", Device::Ecp5_25k),
        ("tiny", Device::Ecp5_85k),
    ] {
        let m = shipped(name);
        let auto = fit::device_config(device);
        assert_eq!(auto.popcount_stages, None);
        let f = fit::fit_to_device(&m, &auto, device).unwrap();
        let per = device.popcount_levels_per_stage();
        let want = levels(&f.plan).div_ceil(per).max(1);
        // Each stage holds at most `per` levels, and one stage fewer would not.
        assert!(levels(&f.plan) <= per * want);
        assert!(want == 1 || levels(&f.plan) > per * (want - 1));
        if f.plan.popcount_stages == want {
            assert_eq!(f.hw.popcount_stages, Some(want));
        } else {
            // The pipeline's registers did not fit beside this folding: it keeps one stage,
            // and a folding with `want` stages is slower.
            assert_eq!(f.plan.popcount_stages, 1, "{name} on {device}");
            let set = HwConfig {
                popcount_stages: Some(want),
                ..auto.clone()
            };
            let g = fit::fit_to_device(&m, &set, device).unwrap();
            assert!(g.plan.fps < f.plan.fps, "{name} on {device}");
        }
        let set = HwConfig {
            popcount_stages: Some(0),
            ..auto.clone()
        };
        let g = fit::fit_to_device(&m, &set, device).unwrap();
        assert_eq!(g.plan.popcount_stages, 0, "{name} on {device}");
    }
    // A hw file with a device: absent means chosen, present means kept (the pruned model's
    // UP5K folding has trees of at most 8 inputs, so one stage when chosen).
    let m = shipped("fashion-up5k-pruned");
    let dir = tempfile::tempdir().unwrap();
    let hw = dir.path().join("hw.toml");
    for (text, stages) in [
        ("device = \"ice40-up5k\"\n", 1),
        ("device = \"ice40-up5k\"\npopcount_stages = 3\n", 3),
    ] {
        std::fs::write(&hw, text).unwrap();
        let (_, plan) = bnngen::plan::fold_hw_file(&m, &hw).unwrap();
        assert_eq!(plan.popcount_stages, stages, "{text}");
    }
}

/// With no `weights` set, folding to the UP5K keeps the weights in block RAM when some
/// folding fits that way, and takes the SPRAMs only when none does: the unpruned fashion-up5k
/// (42 RAM4K at best in block RAM) folds to the UP5K with its largest ROMs in SPRAM, and a
/// plan file records the choice; the pruned model, which fits in block RAM, stays there;
/// `weights = "bram"` set by the user is kept (nothing fits); ECP5 has no SPRAM to try; and
/// when neither fits, the error says both were tried.
#[test]
fn the_fold_to_the_up5k_takes_spram_only_when_nothing_fits_in_block_ram() {
    let up5k = fit::device_config(Device::Ice40Up5k);
    assert_eq!(up5k.weights, None);
    let unpruned = shipped("fashion-up5k");
    let f = fit::fit_to_device(&unpruned, &up5k, Device::Ice40Up5k).unwrap();
    assert_eq!(f.plan.weights, WeightStore::Spram);
    assert_eq!(f.hw.weights, Some(WeightStore::Spram));
    assert!(f.usage.fits() && f.usage.spram > 0, "{:?}", f.usage);
    assert!(f.plan.fps >= 300.0, "{} frames/s", f.plan.fps);
    let bram = HwConfig {
        weights: Some(WeightStore::Bram),
        ..up5k.clone()
    };
    match fit::fit_to_device(&unpruned, &bram, Device::Ice40Up5k) {
        Err(PlanError::Fit(e @ FitError::NothingFits { .. })) => {
            let e = e.to_string();
            assert!(e.contains("RAM4K of 30") && !e.contains("SPRAM"), "{e}");
        }
        other => panic!(
            "block-RAM weights must not fit: {:?}",
            other.map(|f| f.usage)
        ),
    }
    let pruned = shipped("fashion-up5k-pruned");
    let f = fit::fit_to_device(&pruned, &up5k, Device::Ice40Up5k).unwrap();
    assert_eq!(f.plan.weights, WeightStore::Bram);
    assert_eq!(f.usage.spram, 0);
    let ecp = fit::device_config(Device::Ecp5_25k);
    let f = fit::fit_to_device(&unpruned, &ecp, Device::Ecp5_25k).unwrap();
    assert_eq!(f.plan.weights, WeightStore::Bram);
    // fashion-default fits only with its weights in SPRAM and fc1's output in 16-bit words
    // (docs/hw-config.md, "Dense outputs in words"); under a tighter logic budget nothing
    // does, and the error says what was tried.
    let default = shipped("fashion-default");
    let f = fit::fit_to_device(&default, &up5k, Device::Ice40Up5k).unwrap();
    assert_eq!(f.plan.weights, WeightStore::Spram);
    assert_eq!(f.hw.dense_word_bits, Some(fit::DENSE_WORD_BITS));
    let fc1 = default.layer_index("fc1").unwrap();
    assert_eq!(f.plan.layers[fc1].out_words, 512 / fit::DENSE_WORD_BITS);
    let tight = HwConfig {
        max_logic_percent: 50.0,
        ..up5k.clone()
    };
    match fit::fit_to_device(&default, &tight, Device::Ice40Up5k) {
        Err(PlanError::Fit(e @ FitError::NothingFits { .. })) => {
            let e = e.to_string();
            assert!(
                e.contains(
                    "at any folding with weights in block RAM or in SPRAM, dense outputs \
                     whole or in words"
                ),
                "{e}"
            );
        }
        other => panic!(
            "fashion-default fits no half UP5K: {:?}",
            other.map(|f| f.usage)
        ),
    }
    // The command line and a plan file say where the weights went.
    let dir = tempfile::tempdir().unwrap();
    let plan_file = dir.path().join("up5k.plan.toml");
    let out = bnngen(&[
        "plan",
        "models/fashion-up5k.toml",
        "--device",
        "ice40-up5k",
        "-o",
        plan_file.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("SPRAM 4/4"), "{text}");
    let written = std::fs::read_to_string(&plan_file).unwrap();
    assert!(written.contains("weights = \"spram\""), "{written}");
}

/// A device short of block RAM but not of logic: the fold keeps the folding the hw file asks
/// for and moves the emptiest weight ROMs into logic until the blocks fit. fashion-default at
/// its shipped folding needs 61 DP16KD; on the ECP5-25k (56) conv2's 72 x 256-bit ROM (8
/// blocks at 12% full) goes to logic, and nothing else.
#[test]
fn a_device_short_of_blocks_takes_the_emptiest_weight_roms_into_logic() {
    let m = shipped("fashion-default");
    let shipped_hw =
        bnngen::plan::load_hw(std::path::Path::new("models/fashion-default.hw.toml")).unwrap();
    let shipped_plan = set_folding(&m, &shipped_hw).unwrap();
    assert_eq!(cost::estimate(&m, &shipped_plan).total.ecp5.bram, 61);
    let hw =
        bnngen::plan::load_hw(std::path::Path::new("models/fashion-default-25k.hw.toml")).unwrap();
    let f = fit::fit_to_device(&m, &hw, Device::Ecp5_25k).unwrap();
    let folds = |p: &bnngen::plan::Plan| -> Vec<(usize, usize, usize)> {
        p.layers.iter().map(|l| (l.pe, l.simd, l.taps)).collect()
    };
    assert_eq!(folds(&f.plan), folds(&shipped_plan));
    assert_eq!(f.plan.cycles_per_frame, shipped_plan.cycles_per_frame);
    let moved: Vec<&str> = (f.plan.layers.iter())
        .filter(|l| l.weights_in_logic)
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(moved, ["conv2"]);
    assert_eq!((f.usage.bram, f.usage.bram_capacity), (53, 56));
    let est = cost::estimate(&m, &f.plan);
    assert!(est.total.ecp5.luts > cost::estimate(&m, &shipped_plan).total.ecp5.luts);
    // ECP5 logic is counted as nextpnr counts LUT4s: logic, two per carry cell, six per LUT
    // RAM cell (fashion-default's head ring is LUT RAM), plus the board top.
    let e = est.total.ecp5;
    assert!(e.carry > 0 && e.lutram > 0);
    assert_eq!(
        f.usage.logic,
        e.luts + 2 * e.carry + 6 * e.lutram + fit::BOARD_TOP.luts
    );
    // The moved ROMs are in logic in the listing the counts come from.
    let conv2 = est.parts.iter().find(|p| p.name == "conv2").unwrap();
    assert!(conv2.memories.ecp5.iter().any(|u| {
        u.role == cost::memory::Role::Weights && u.placed == cost::ram::Placed::Logic
    }));
    // A device with blocks to spare moves nothing.
    let f85 = fit::fit_to_device(&m, &hw, Device::Ecp5_85k).unwrap();
    assert!(f85.plan.layers.iter().all(|l| !l.weights_in_logic));
}

/// The ECP5-25k goal on the real tools: fashion-default at its shipped folding, with the ROM
/// the fold moves into logic, places and routes on the ECP5-25k in at most its 56
/// DP16KD and meets the hw file's 50 MHz.
#[test]
#[ignore = "runs Yosys and nextpnr-ecp5 for several minutes: cargo test --test plan_fit -- --ignored"]
fn fashion_default_places_on_the_ecp5_25k_at_its_shipped_folding() {
    let out = tempfile::tempdir().unwrap();
    let run = bnngen(&[
        "synth",
        "models/fashion-default.toml",
        "--hw",
        "models/fashion-default-25k.hw.toml",
        "--target",
        "ecp5-25k",
        "--json",
        "-o",
        out.path().to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "bnngen synth failed (needs yosys and the yowasp nextpnr-ecp5 of scripts/setup.sh): {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let bram = &r["utilization"]["DP16KD"];
    assert!(bram["used"].as_u64().unwrap() <= 56, "{bram}");
    assert_eq!(bram["available"].as_u64(), Some(56), "{bram}");
    assert_eq!(r["timing"]["pass"], true, "{}", r["timing"]);
    let cycles = r["performance"]["cycles_per_frame"].as_u64().unwrap();
    assert_eq!(cycles, 18432, "the shipped folding's cycles per frame");
}

/// The choice is part of the plan: `plan -o` writes `weights_in_logic = true` for the moved
/// layers, `generate --plan` reads it back, and a layer without a weight ROM refuses it with
/// the file, layer and field named (exit 2).
#[test]
fn weights_in_logic_round_trips_through_a_plan_file() {
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("fd25k.plan.toml");
    let out = bnngen(&[
        "plan",
        "models/fashion-default.toml",
        "--hw",
        "models/fashion-default-25k.hw.toml",
        "-o",
        plan_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&plan_path).unwrap();
    assert_eq!(text.matches("weights_in_logic = true").count(), 1, "{text}");
    let m = shipped("fashion-default");
    let p = bnngen::plan::load_plan(&m, &plan_path).unwrap();
    let moved: Vec<&str> = (p.layers.iter())
        .filter(|l| l.weights_in_logic)
        .map(|l| l.name.as_str())
        .collect();
    assert_eq!(moved, ["conv2"]);
    assert_eq!(cost::estimate(&m, &p).total.ecp5.bram, 53);
    // On pool1 (no weights) the field is an error.
    let bad = text.replacen(
        "name = \"pool1\"",
        "name = \"pool1\"\nweights_in_logic = true",
        1,
    );
    assert_ne!(bad, text);
    let bad_path = dir.path().join("bad.plan.toml");
    std::fs::write(&bad_path, bad).unwrap();
    let out = bnngen(&[
        "generate",
        "models/fashion-default.toml",
        "--plan",
        bad_path.to_str().unwrap(),
        "-o",
        dir.path().join("out").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad.plan.toml") && err.contains("weights_in_logic") && err.contains("pool1"),
        "{err}"
    );
    assert!(
        !dir.path().join("out").exists(),
        "nothing written on a bad plan"
    );
}

/// `synth` and `flow` with an hw file that names no device and a target whose blocks the
/// folding cannot fit: refused at once (exit 2), with the hw file, the exact block count and
/// the way out, and nothing written, instead of failing in placement after the synthesis.
#[test]
fn a_folding_over_the_targets_blocks_is_refused_before_any_tool_runs() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in ["synth", "flow"] {
        let out = dir.path().join(cmd);
        let run = bnngen(&[
            cmd,
            "models/fashion-default.toml",
            "--hw",
            "models/fashion-default.hw.toml",
            "--target",
            "ecp5-25k",
            "-o",
            out.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{cmd}: {err}");
        for part in [
            "models/fashion-default.hw.toml",
            "needs 61 DP16KD of the 56 that ecp5-25k has",
            "device = \"ecp5-25k\"",
        ] {
            assert!(err.contains(part), "{cmd}: `{part}` not in: {err}");
        }
        assert!(!out.exists(), "{cmd} wrote {}", out.display());
    }
}
