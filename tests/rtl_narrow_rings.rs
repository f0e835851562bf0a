//! Line buffers stored as groups of a pixel word ("narrow rings", `plan::cost::ring`): a
//! max-pool's or a one-tap MAC stage's 16-bit groups where that saves block RAM
//! (`LayerPlan::ring_groups`), and on iCE40 a classifier's, held where its producer must not
//! wait for the groups. These
//! tests hold them to the rules of every other line buffer: bit-exact against the reference
//! model under random gaps and back-pressure with either hand-off, exactly the plan's cycles
//! per frame, the memory the cost model counts, and a plan file that keeps the choice.

use bnngen::model::Model;
use bnngen::plan::cost::ram::RamFamily;
use bnngen::plan::cost::ring::layer_ring;
use bnngen::plan::{set_folding, widen_rings, Handoff, HwConfig, Plan};
use bnngen::random::{random_image, random_model, RandomOptions};
use bnngen::rtl::{generate, render, GenOptions};
use bnngen::synth::Target;
use bnngen::verify::{cosimulate_opts, Stress};
use std::path::Path;
use std::process::Command;

fn fashion_up5k(handoff: Handoff) -> (Model, Plan) {
    let m = bnngen::model::load(Path::new("models/fashion-up5k.toml")).unwrap();
    let hw = bnngen::plan::load_hw(Path::new("models/fashion-up5k.hw.toml")).unwrap();
    let p = set_folding(&m, &HwConfig { handoff, ..hw }).unwrap();
    (m, p)
}

fn groups(p: &Plan) -> Vec<(&str, usize)> {
    (p.layers.iter())
        .filter(|l| l.name.starts_with("pool"))
        .map(|l| (l.name.as_str(), l.ring_groups))
        .collect()
}

/// The Verilog of the stage named `module_part`.
fn stage_text(m: &Model, p: &Plan, module_part: &str) -> String {
    let d = generate(m, p, GenOptions::default()).unwrap();
    render(&d)
        .into_iter()
        .find(|(f, _)| f.contains(module_part))
        .map(|(_, t)| t)
        .unwrap_or_else(|| panic!("no file for {module_part}"))
}

/// Co-simulate `images` under random gaps and back-pressure (seed `stalls`), then without,
/// and hold both to the reference model and the second to the plan's cycles per frame.
fn bit_exact_at_the_plans_cycles(
    m: &Model,
    p: &Plan,
    images: &[bnngen::input::Image],
    stalls: u64,
    opts: GenOptions,
    what: &str,
) {
    let rep = cosimulate_opts(m, p, images, Stress::random(stalls), opts, None).unwrap();
    assert!(rep.passed(), "{what} under stalls: {}", rep.failure());
    let rep = cosimulate_opts(m, p, images, Stress::none(), opts, None).unwrap();
    assert!(rep.passed(), "{what}: {}", rep.failure());
    assert_eq!(
        rep.measured_cycles_per_frame,
        Some(p.cycles_per_frame),
        "{what}: measured cycles per frame against the plan"
    );
}

#[test]
fn narrow_pool_rings_are_bit_exact_and_meet_the_plan_with_either_hand_off() {
    for handoff in [Handoff::Skid, Handoff::Hold] {
        let (m, p) = fashion_up5k(handoff);
        // 16 channels are one group; 32 and 64 are 2 and 4.
        assert_eq!(
            groups(&p),
            [("pool1", 1), ("pool2", 2), ("pool3", 4)],
            "{handoff:?}"
        );
        let text = stage_text(&m, &p, "pool3");
        assert!(text.contains("reg [15:0] lbuf [0:191]"), "{text}");
        assert!(text.contains("hold_v"), "{text}");
        let images: Vec<_> = (0..6).map(|i| random_image(40 + i, &m.input)).collect();
        let what = format!("{handoff:?}");
        bit_exact_at_the_plans_cycles(&m, &p, &images, 3, GenOptions::default(), &what);
    }
}

/// Widened, the rings are whole words again: the RTL declares the 64-bit ring, and the cost
/// model counts the blocks it takes (4 RAM4K for pool3 instead of 1, and for fc1).
#[test]
fn a_widened_plan_keeps_whole_word_rings() {
    let (m, p) = fashion_up5k(Handoff::Hold);
    let wide = widen_rings(&m, p.clone(), |_| true);
    assert!(wide.layers.iter().all(|l| l.ring_groups == 1));
    assert_eq!(wide.cycles_per_frame, p.cycles_per_frame);
    let text = stage_text(&m, &wide, "pool3");
    assert!(text.contains("reg [63:0] lbuf [0:47]"), "{text}");
    assert!(!text.contains("hold_v"), "{text}");
    let ram4k = |p: &Plan| bnngen::plan::cost::estimate(&m, p).total.ice40.bram;
    // As whole words pool2 takes 1 RAM4K more, pool3 3 and fc1 3 (a 64-bit ring of 28 words
    // in 4 blocks, 1 as 16-bit groups).
    assert_eq!(ram4k(&wide), ram4k(&p) + 7);
}

fn bnngen(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bnngen"))
        .args(args)
        .output()
        .unwrap()
}

/// `plan -o` writes each narrow ring's group count; a file that says 1 keeps whole words, and
/// a count the folding cannot give is refused with the file, layer and field named (exit 2).
#[test]
fn ring_groups_round_trip_through_a_plan_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("up5k.plan.toml");
    let out = bnngen(&[
        "plan",
        "models/fashion-up5k.toml",
        "--hw",
        "models/fashion-up5k.hw.toml",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches("ring_groups = ").count(), 3, "{text}");
    let m = bnngen::model::load(Path::new("models/fashion-up5k.toml")).unwrap();
    let p = bnngen::plan::load_plan(&m, &path).unwrap();
    assert_eq!(groups(&p), [("pool1", 1), ("pool2", 2), ("pool3", 4)]);
    std::fs::write(
        &path,
        text.replacen("ring_groups = 4", "ring_groups = 1", 1),
    )
    .unwrap();
    let p = bnngen::plan::load_plan(&m, &path).unwrap();
    assert_eq!(groups(&p), [("pool1", 1), ("pool2", 2), ("pool3", 1)]);
    std::fs::write(
        &path,
        text.replacen("ring_groups = 4", "ring_groups = 3", 1),
    )
    .unwrap();
    let gen = dir.path().join("rtl");
    let run = bnngen(&[
        "generate",
        "models/fashion-up5k.toml",
        "--plan",
        path.to_str().unwrap(),
        "-o",
        gen.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{err}");
    for part in [
        "up5k.plan.toml",
        "ring_groups",
        "pool3",
        "1 (whole words) or 4",
    ] {
        assert!(err.contains(part), "`{part}` not in: {err}");
    }
    assert!(!gen.exists(), "generate wrote {}", gen.display());
}

/// On iCE40 the head's narrow ring (8 groups of 16 of fc1's 128 channels) is written from
/// its producer's word, which holds the producer for the groups: at fashion-up5k's shipped
/// folding fc1 is the slowest stage, so the ring is held there, and fc1 keeps the plan's
/// cycles (unheld, it waited 7 cycles per frame: 36,871 against 36,864). At the UP5K fold of
/// the pruned model fc1 is not the slowest stage, and the ring is written from fc1's word.
#[test]
fn ice40_held_rings_are_bit_exact_at_the_plans_cycles() {
    let (m, p) = fashion_up5k(Handoff::Skid);
    let head = m.layers.iter().position(|l| l.name == "head").unwrap();
    let ring = layer_ring(&m, &p, head, RamFamily::Ice40).unwrap();
    assert_eq!((ring.group_bits, ring.groups, ring.held), (16, 8, true));
    assert!(layer_ring(&m, &p, head, RamFamily::Ecp5).is_none());
    let opts = Target::Ice40Up5k.gen_options();
    let text: String = render(&generate(&m, &p, opts).unwrap())
        .into_iter()
        .filter(|(f, _)| f.contains("head"))
        .map(|(_, t)| t)
        .collect();
    assert!(text.contains("hold_v"), "{text}");
    let images: Vec<_> = (0..6).map(|i| random_image(60 + i, &m.input)).collect();
    bit_exact_at_the_plans_cycles(&m, &p, &images, 4, opts, "fashion-up5k on iCE40");

    let pruned = bnngen::model::load(Path::new("models/fashion-up5k-pruned.toml")).unwrap();
    let dev = bnngen::plan::device::Device::Ice40Up5k;
    let f = bnngen::plan::fit::fit_to_device(&pruned, &bnngen::plan::fit::device_config(dev), dev)
        .unwrap();
    let head = pruned.layers.iter().position(|l| l.name == "head").unwrap();
    let ring = layer_ring(&pruned, &f.plan, head, RamFamily::Ice40).unwrap();
    assert!(!ring.held);
}

/// The fold to a device keeps, of the narrow rings, the pools' rings as whole words and all
/// rings as whole words, the one that fits with the least logic: for the unpruned
/// fashion-up5k on the UP5K (short of logic cells, not of RAM4K once its weights are in
/// SPRAM) whole-word pool rings and fc1's narrow ring, which costs no logic; narrow pool rings
/// for fashion-default on the ECP5-25k, where whole words would take more blocks than the
/// 25k has left.
#[test]
fn the_fold_keeps_narrow_pool_rings_only_where_they_fit_with_less_logic() {
    use bnngen::plan::device::Device;
    use bnngen::plan::fit::{device_config, fit_to_device};
    let up5k = bnngen::model::load(Path::new("models/fashion-up5k.toml")).unwrap();
    let f = fit_to_device(&up5k, &device_config(Device::Ice40Up5k), Device::Ice40Up5k).unwrap();
    assert_eq!(groups(&f.plan), [("pool1", 1), ("pool2", 1), ("pool3", 1)]);
    let fc1 = f.plan.layers.iter().find(|l| l.name == "fc1").unwrap();
    assert_eq!(fc1.ring_groups, 4);
    let narrow = set_folding(&up5k, &f.hw).unwrap();
    assert!(groups(&narrow).iter().any(|&(_, g)| g > 1));
    let fd = bnngen::model::load(Path::new("models/fashion-default.toml")).unwrap();
    let hw = bnngen::plan::load_hw(Path::new("models/fashion-default-25k.hw.toml")).unwrap();
    let f = fit_to_device(&fd, &hw, Device::Ecp5_25k).unwrap();
    assert_eq!(groups(&f.plan), [("pool1", 1), ("pool2", 4), ("pool3", 8)]);
    assert_eq!(f.usage.bram, 53);
}

/// A one-tap MAC stage's narrow ring (`cost::ring::mac_ring_groups`) is built on each family
/// where it takes fewer blocks, and is bit-exact there under random gaps and back-pressure, at
/// the plan's cycles. Random models whose first stage reads 96- or 112-channel pixels (8 input
/// channels through the front end's planes) at a slow folding: seed 6 has narrow MAC rings
/// that save RAM4K, seed 7 one that saves a DP16KD (112 channels x 32 words: 4 blocks as whole
/// words, 1 as 16-bit groups), built as an ECP5 cell.
#[test]
fn mac_narrow_rings_are_bit_exact_on_both_families() {
    let opts = RandomOptions {
        height: 14,
        width: 14,
        channels: 8,
        layers: 2,
        max_channels: 16,
        ..Default::default()
    };
    let hw = HwConfig {
        clock_mhz: 50.0,
        fps: Some(100.0),
        ..HwConfig::default()
    };
    let mut built = [false; 2];
    for seed in [6, 7] {
        let m = random_model(seed, &opts);
        let p = set_folding(&m, &hw).unwrap();
        let mac: Vec<usize> = (0..m.layers.len())
            .filter(|&i| m.layers[i].kind.weights().is_some() && p.layers[i].ring_groups > 1)
            .collect();
        assert!(
            !mac.is_empty(),
            "seed {seed}: no MAC stage with a narrow ring"
        );
        let images: Vec<_> = (0..4).map(|i| random_image(80 + i, &m.input)).collect();
        for (k, (target, fam)) in [
            (Target::Ice40Up5k, RamFamily::Ice40),
            (Target::Ecp5_25k, RamFamily::Ecp5),
        ]
        .into_iter()
        .enumerate()
        {
            let rings = mac
                .iter()
                .filter(|&&i| layer_ring(&m, &p, i, fam).is_some());
            built[k] |= rings.count() > 0;
            let what = format!("seed {seed} {fam:?}");
            bit_exact_at_the_plans_cycles(&m, &p, &images, 5, target.gen_options(), &what);
        }
    }
    assert_eq!(built, [true, true], "a MAC ring built on iCE40 and on ECP5");
}
