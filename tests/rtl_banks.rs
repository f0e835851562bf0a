//! Weight ROMs deeper than one block RAM are split into banks (`src/rtl/bank.rs`): the banked
//! RTL must still be bit-exact against the reference model, and the banks must hold every
//! kept weight bit exactly once, each bank no deeper than one block. A wide chunk select split
//! over the two read stages (`window.rs`) must be bit-exact too.

use bnngen::model::Model;
use bnngen::plan::{set_folding, HwConfig, Plan};
use bnngen::random::{random_image, random_model, RandomOptions};
use bnngen::rtl::bank::RamFamily;
use bnngen::rtl::{generate, GenOptions};
use bnngen::verify::{cosimulate_opts, Stress};

mod common;
use common::fm6;

/// (bank count, bits in banks, deepest bank) of every layer's weight ROM, from the generated design.
fn wrom_banks(m: &Model, p: &Plan, ram: RamFamily) -> Vec<(usize, u64, usize)> {
    let d = generate(
        m,
        p,
        GenOptions {
            ram,
            ..Default::default()
        },
    )
    .unwrap();
    d.modules
        .iter()
        .filter_map(|md| {
            let banks: Vec<_> = md
                .mems
                .iter()
                .filter(|x| x.name == "wrom" || x.name.starts_with("wrom_b"))
                .collect();
            (!banks.is_empty()).then(|| {
                let bits = banks.iter().map(|x| x.width as u64 * x.depth as u64).sum();
                let deepest = banks.iter().map(|x| x.depth).max().unwrap();
                (banks.len(), bits, deepest)
            })
        })
        .collect()
}

/// The synthesis report finds weight ROMs by their `weights` marker, not their names: on fm6
/// and the tiny model, for both RAM families, the marked memories are exactly the weight
/// ROMs and their banks, and on fm6 they hold the plan's weight bits.
#[test]
fn weight_roms_carry_the_weights_marker() {
    let tiny = bnngen::model::load(std::path::Path::new("models/tiny.toml")).unwrap();
    let tiny_plan = set_folding(&tiny, &HwConfig::default()).unwrap();
    let (m6, p6) = fm6();
    for (m, p) in [(&m6, &p6), (&tiny, &tiny_plan)] {
        for ram in [RamFamily::Ecp5, RamFamily::Ice40] {
            let d = generate(
                m,
                p,
                GenOptions {
                    ram,
                    ..Default::default()
                },
            )
            .unwrap();
            let mems = || d.modules.iter().flat_map(|md| md.mems.iter());
            let mut marked_bits = 0;
            for x in mems() {
                let named = x.name == "wrom" || x.name.starts_with("wrom_b");
                assert_eq!(x.weights, named, "{} in {}", x.name, m.meta.name);
                if x.weights {
                    marked_bits += x.width as u64 * x.depth as u64;
                }
            }
            if std::ptr::eq(m, &m6) {
                assert_eq!(marked_bits, p.weight_bits, "fm6 on {ram:?}");
            }
        }
    }
}

#[test]
fn ice40_banks_hold_every_weight_once_and_fit_one_block() {
    let (m, p) = fm6();
    let ecp5 = wrom_banks(&m, &p, RamFamily::Ecp5);
    let ice40 = wrom_banks(&m, &p, RamFamily::Ice40);
    eprintln!("ecp5 {ecp5:?}\nice40 {ice40:?}");
    // The head's 13,104 one-bit words: one 16 Kbit EBR on ECP5, four 4096-word banks on
    // iCE40 (one 4 Kbit block each; the last bank holds 816 words).
    assert!(ecp5.contains(&(1, 13104, 13104)), "{ecp5:?}");
    assert!(ice40.contains(&(4, 13104, 4096)), "{ice40:?}");
    let total = |v: &[(usize, u64, usize)]| v.iter().map(|x| x.1).sum::<u64>();
    assert_eq!(total(&ecp5), total(&ice40));
    assert_eq!(total(&ecp5), p.weight_bits);
}

#[test]
fn banked_weight_rom_is_bit_exact() {
    let (m, p) = fm6();
    let images: Vec<_> = (0..3).map(|i| random_image(600 + i, &m.input)).collect();
    let opts = GenOptions {
        ram: RamFamily::Ice40,
        ..Default::default()
    };
    let rep = cosimulate_opts(&m, &p, &images, Stress::random(6), opts, None).unwrap();
    assert!(rep.passed(), "{}", rep.failure());
    assert_eq!(rep.frames, 3);
}

/// Random models (4x4 inputs, 3 layers, up to `max_channels` channels) whose every MAC layer
/// is folded to one lane, so a dense layer or the classifier reads one channel at a time out
/// of a small line buffer: the first `n` seeds whose RTL under `opts` contains `marker`.
fn one_lane_models(
    max_channels: usize,
    opts: GenOptions,
    marker: &str,
    n: usize,
) -> Vec<(Model, Plan)> {
    let mut out = Vec::new();
    for seed in 0..2000 {
        let ropts = RandomOptions {
            height: 4,
            width: 4,
            layers: 3,
            max_channels,
            ..RandomOptions::default()
        };
        let m = random_model(seed, &ropts);
        let mut hw = HwConfig::default();
        for l in &m.layers {
            if l.kind.weights().is_some() {
                hw.layers
                    .insert(l.name.clone(), bnngen::plan::Fold::lanes(1, 1));
            }
        }
        let Ok(p) = set_folding(&m, &hw) else {
            continue;
        };
        let Ok(d) = generate(&m, &p, opts) else {
            continue;
        };
        if bnngen::rtl::render(&d)
            .iter()
            .any(|(_, text)| text.contains(marker))
        {
            out.push((m, p));
            if out.len() == n {
                return out;
            }
        }
    }
    panic!("fewer than {n} seeds below 2000 give `{marker}`");
}

/// The first such model whose RTL splits that wide chunk select over the two read stages
/// (`ch_hi`, `window.rs`).
fn split_select_model() -> (Model, Plan) {
    one_lane_models(32, GenOptions::default(), "ch_hi", 1).remove(0)
}

#[test]
fn split_chunk_select_is_bit_exact() {
    let (m, p) = split_select_model();
    let images: Vec<_> = (0..4).map(|i| random_image(700 + i, &m.input)).collect();
    let rep = cosimulate_opts(
        &m,
        &p,
        &images,
        Stress::random(7),
        GenOptions::default(),
        None,
    )
    .unwrap();
    assert!(rep.passed(), "model {}: {}", m.meta.name, rep.failure());
    assert_eq!(rep.frames, 4);
}

/// Models whose classifier reads a 1x1 input one lane at a time and whose iCE40 RTL therefore
/// stores the ring narrow (groups of chunks written one per cycle, `plan::cost::ring`).
fn narrow_ring_models(n: usize) -> Vec<(Model, Plan)> {
    one_lane_models(48, ICE40_POISON, "in_sub", n)
}

const ICE40_POISON: GenOptions = GenOptions {
    debug: false,
    ram: RamFamily::Ice40,
    rw_poison: true,
    ecp5_cells: false,
    spram: false,
};

/// A narrow ring is bit-exact under random gaps and back-pressure, with reads checked never
/// to meet a write of their own address (`rw_poison`), and keeps the plan's cycles per frame
/// exactly: its groups are written while the stage issues the frame before.
#[test]
fn narrow_ring_is_bit_exact_at_the_plans_cycles() {
    for (k, (m, p)) in narrow_ring_models(3).into_iter().enumerate() {
        let images: Vec<_> = (0..6).map(|i| random_image(800 + i, &m.input)).collect();
        let rep = cosimulate_opts(
            &m,
            &p,
            &images,
            Stress::random(9 + k as u64),
            ICE40_POISON,
            None,
        )
        .unwrap();
        assert!(rep.passed(), "model {}: {}", m.meta.name, rep.failure());
        let rep = cosimulate_opts(&m, &p, &images, Stress::none(), ICE40_POISON, None).unwrap();
        assert!(rep.passed(), "{}", rep.failure());
        assert_eq!(
            rep.measured_cycles_per_frame,
            Some(p.cycles_per_frame),
            "model {}",
            m.meta.name
        );
    }
}

/// fashion-up5k-pruned's head on iCE40 (128 channels read one at a time: 8 groups of 16) is a
/// narrow ring in one RAM4K, and the shipped design stays bit-exact with it.
#[test]
fn the_up5k_heads_narrow_ring_is_bit_exact() {
    let m = bnngen::model::load(std::path::Path::new("models/fashion-up5k-pruned.toml")).unwrap();
    let p = bnngen::plan::fold_hw_file(
        &m,
        std::path::Path::new("models/fashion-up5k-pruned.hw.toml"),
    )
    .unwrap()
    .1;
    let d = generate(&m, &p, ICE40_POISON).unwrap();
    let head = bnngen::rtl::render(&d)
        .into_iter()
        .find(|(name, _)| name.contains("head"))
        .unwrap()
        .1;
    assert!(
        head.contains("reg [15:0] lbuf [0:31]"),
        "the head's ring: 32 x 16 bits"
    );
    let images: Vec<_> = (0..2).map(|i| random_image(810 + i, &m.input)).collect();
    let rep = cosimulate_opts(&m, &p, &images, Stress::random(12), ICE40_POISON, None).unwrap();
    assert!(rep.passed(), "{}", rep.failure());
}
