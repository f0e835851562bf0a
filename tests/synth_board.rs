//! Board top in simulation: frames sent over the UART model reach the accelerator and its
//! results come back decoded. Uses the stand-in accelerator (tests/fixtures/synth), whose
//! result is the frame's pixel sum mod 256. Needs Verilator, g++ and make (scripts/setup.sh).

mod common;

use bnngen::synth::board_sim;
use bnngen::synth::RtlDesign;
use std::path::Path;

#[test]
fn frames_round_trip_through_the_uart_bridge() {
    let rtl = RtlDesign {
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
    };
    // Deterministic pseudo-random pixels (xorshift).
    let mut s: u32 = 0x1234_5678;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        (s & 0xff) as u8
    };
    let frames: Vec<Vec<u8>> = (0..3).map(|_| (0..16).map(|_| next()).collect()).collect();
    let words: Vec<Vec<Vec<bool>>> = frames
        .iter()
        .map(|f| {
            f.iter()
                .map(|&p| (0..8).map(|i| p >> i & 1 == 1).collect())
                .collect()
        })
        .collect();
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("board-stub");
    let _ = std::fs::remove_dir_all(&work);
    let got = board_sim::simulate(&rtl, &words, &work).unwrap_or_else(|e| panic!("{e}"));
    for (f, r) in frames.iter().zip(&got) {
        let want = f.iter().fold(0u8, |a, &p| a.wrapping_add(p));
        let got: u8 = r.iter().enumerate().map(|(i, &b)| (b as u8) << i).sum();
        assert_eq!(got, want);
    }
    assert_eq!(got.len(), 3);
}

/// The generated `tiny` accelerator inside the board core: each image goes over the UART as
/// bytes, and the class and scores that come back equal the reference model's.
#[test]
fn tiny_accelerator_answers_over_the_uart_like_the_reference() {
    use bnngen::plan::{set_folding, HwConfig};
    use bnngen::random::random_image;
    let model =
        bnngen::model::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models/tiny.toml"))
            .unwrap();
    let plan = set_folding(&model, &HwConfig::default()).unwrap();
    let design = bnngen::rtl::generate(&model, &plan, Default::default()).unwrap();
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("board-tiny");
    let _ = std::fs::remove_dir_all(&work);
    let rtl_dir = work.join("rtl");
    bnngen::rtl::write_dir(&design, &rtl_dir).unwrap();
    let pixels = model.input.height * model.input.width;
    let rtl = bnngen::synth::gate_sim::rtl_design(&design, pixels, &rtl_dir);
    // Digital front end: s_axis_tdata bit c*B + k is bit k of channel c's pixel code.
    let (b, ch) = (model.input.bits as usize, model.input.channels);
    assert_eq!(design.input_width as usize, b * ch);
    let images: Vec<_> = (0..3)
        .map(|i| random_image(900 + i, &model.input))
        .collect();
    let frames: Vec<Vec<Vec<bool>>> = images
        .iter()
        .map(|img| common::frame_words(&model, img))
        .collect();
    let got =
        board_sim::simulate(&rtl, &frames, &work.join("sim")).unwrap_or_else(|e| panic!("{e}"));
    let (cw, sw) = (design.class_width as usize, design.score_width as usize);
    let field = |bits: &[bool], lo: usize, n: usize| -> u64 {
        (0..n).map(|i| (bits[lo + i] as u64) << i).sum()
    };
    for (img, r) in images.iter().zip(&got) {
        let want = bnngen::reference::infer(&model, img);
        let class = field(r, 0, cw) as usize;
        let scores: Vec<i64> = (0..design.classes)
            .map(|k| {
                let v = field(r, cw + k * sw, sw) as i64;
                if v >> (sw - 1) & 1 == 1 {
                    v - (1 << sw)
                } else {
                    v
                }
            })
            .collect();
        assert_eq!((class, scores), (want.class, want.scores.clone()));
    }
}
