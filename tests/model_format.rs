//! The shipped example model parses, summarizes as hand-counted, and survives a write/read
//! round trip unchanged.

use bnngen::model::{self, LayerKind};

#[test]
fn tiny_model_parses_with_hand_counted_figures() {
    let m = model::load(std::path::Path::new("models/tiny.toml")).expect("tiny.toml is valid");
    assert_eq!(m.layers.len(), 6);
    assert_eq!(m.front_end_shape().channels, 3);
    let s = m.summary();
    // conv1 4x27, conv2 3 kept tiles x 2 outputs x 18, fc1 8x36, head 3x8.
    assert_eq!(s.weight_bits_stored, 108 + 108 + 288 + 24);
    assert_eq!((s.kept_tiles, s.total_tiles), (6, 7));
    assert_eq!(s.comparators, 3);
    // MACs: 36 pixels x (108 + 108) for the convolutions, then 288 and 24 once.
    assert_eq!(s.binary_macs_per_frame, 36 * 216 + 288 + 24);
    let LayerKind::Conv(c2) = &m.layers[1].kind else {
        panic!("layer 1 is a conv")
    };
    assert_eq!(c2.weights.tile_index(0, 1), None);
    assert_eq!(c2.weights.tile_index(1, 1), Some(2));
}

#[test]
fn write_then_read_is_identity() {
    let m = model::load(std::path::Path::new("models/tiny.toml")).unwrap();
    let text = model::to_toml(&m);
    let again = model::parse(&text, "round-trip").expect("written model is valid");
    assert_eq!(again, m);
    assert_eq!(model::to_toml(&again), text, "writing is deterministic");
}
