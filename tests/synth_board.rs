//! Board top in simulation: frames sent over the UART model reach the accelerator and its
//! results come back decoded. Uses the stand-in accelerator (tests/fixtures/synth), whose
//! result is the frame's pixel sum mod 256. Needs Verilator, g++ and make (scripts/setup.sh).

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
