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
    assert!(
        rep.passed(),
        "timeout={} mismatches={:?}",
        rep.timeout,
        rep.mismatches.first()
    );
    assert_eq!(rep.frames, 3);
}

/// A random model whose every MAC layer is folded to one lane, so a dense layer or the
/// classifier reads one channel at a time out of a small line buffer: the first seed whose
/// RTL splits that wide chunk select over the two read stages (`ch_hi`, `window.rs`).
fn split_select_model() -> (Model, Plan) {
    for seed in 0..400 {
        let opts = RandomOptions {
            height: 4,
            width: 4,
            layers: 3,
            max_channels: 32,
            ..RandomOptions::default()
        };
        let m = random_model(seed, &opts);
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
        let Ok(d) = generate(&m, &p, GenOptions::default()) else {
            continue;
        };
        if bnngen::rtl::render(&d)
            .iter()
            .any(|(_, text)| text.contains("ch_hi"))
        {
            return (m, p);
        }
    }
    panic!("no seed below 400 gives a split chunk select");
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
    assert!(
        rep.passed(),
        "model {}: timeout={} mismatches={:?}",
        m.meta.name,
        rep.timeout,
        rep.mismatches.first()
    );
    assert_eq!(rep.frames, 4);
}
