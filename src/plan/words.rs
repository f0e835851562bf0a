//! Dense outputs handed on in words: a dense layer whose `LayerPlan::out_words` is above 1
//! hands its C output channels on as that many words of C / out_words channels, one after
//! another, instead of one word of all C; its consumer reads them as a row of pixels.
//!
//! Why: a dense layer's output word, the skid register beside it and the consumer's holding
//! register are each C flip-flops (fashion-default's fc1 and head: about 1,500 of the UP5K's
//! 5,280 logic cells), though the channels come out of the PE lanes a group at a time and the
//! consumer reads them a SIMD chunk at a time. Handed on in 16-bit words, a word is sent as
//! soon as its channels are computed, and the consumer's line buffer is 16 bits wide, the
//! width of an iCE40 RAM4K.
//!
//! The consumer's view (`streamed`): its input 1 x 1 x C becomes 1 x W x C/W (W = out_words),
//! and its window and weights 1 x W taps of C/W channels. The flattened order (tap, channel)
//! is the same as before, so the weight bits, the steps and the results are unchanged; only
//! the stream between the two stages is cut differently. The reference model never sees the
//! view.

use super::{Fold, HwConfig};
use crate::model::{LayerKind, Model, Shape};
use std::borrow::Cow;

/// Words of layer `idx`'s output per pixel when the hardware file asks for dense outputs in
/// words of `bits` channels (`HwConfig::dense_word_bits`), or 1 when the layer cannot:
/// - the layer is a dense layer whose every out-block keeps a tile, so that its PE groups
///   finish in channel order with none left out (a constant block would finish no group);
/// - `bits` is a power of two below its C channels, dividing C, and a multiple of its `pe`;
/// - its consumer is the next layer, a dense or classifier layer of one in-block at one tap
///   per cycle, whose SIMD chunk fits in a word; no residual reads the layer.
pub fn out_words(model: &Model, hw: &HwConfig, folds: &[Fold], idx: usize) -> usize {
    let Some(bits) = hw.dense_word_bits else {
        return 1;
    };
    let layers = &model.layers;
    let LayerKind::Dense(d) = &layers[idx].kind else {
        return 1;
    };
    let w = &d.weights;
    let c = w.out_channels;
    let producer = (0..w.out_blocks).all(|ob| w.kept_in_blocks(ob) > 0)
        && bits.is_power_of_two()
        && bits < c
        && c.is_multiple_of(bits)
        && bits.is_multiple_of(folds[idx].pe);
    let Some(next) = layers.get(idx + 1) else {
        return 1;
    };
    let consumer = match &next.kind {
        LayerKind::Dense(n) => Some(&n.weights),
        LayerKind::Classifier(n) => Some(&n.weights),
        _ => None,
    }
    .is_some_and(|nw| {
        nw.in_blocks == 1
            && nw.kept_tiles() > 0
            && folds[idx + 1].taps == 1
            && bits.is_multiple_of(folds[idx + 1].simd)
            && next.input.height * next.input.width == 1
    });
    let read_by_residual = layers
        .iter()
        .any(|l| matches!(&l.kind, LayerKind::Residual(r) if r.with == idx));
    if producer && consumer && !read_by_residual {
        c / bits
    } else {
        1
    }
}

/// Channels of one word of layer `idx`'s output stream: its output channels, or a word of
/// them when the layer hands its output on in `words` words.
pub fn stream_channels(model: &Model, idx: usize, words: usize) -> usize {
    model.layers[idx].output.channels / words.max(1)
}

/// The model as its stages see their streams: each consumer of a dense layer with
/// `words[i]` > 1 reads a 1 x W x C/W input through a 1 x W window (module doc). Borrowed
/// when no layer hands on words.
pub fn streamed<'a>(model: &'a Model, words: &[usize]) -> Cow<'a, Model> {
    if words.iter().all(|&w| w <= 1) {
        return Cow::Borrowed(model);
    }
    let mut view = model.clone();
    for (i, &n) in words.iter().enumerate().filter(|(_, &n)| n > 1) {
        let c = model.layers[i].output.channels;
        let next = &mut view.layers[i + 1];
        next.input = Shape {
            height: 1,
            width: n,
            channels: c / n,
        };
        let w = match &mut next.kind {
            LayerKind::Dense(d) => &mut d.weights,
            LayerKind::Classifier(cl) => &mut cl.weights,
            _ => unreachable!("`out_words` checked the consumer"),
        };
        w.kernel_h = 1;
        w.kernel_w = n;
        w.in_channels = c / n;
    }
    Cow::Owned(view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LayerKind;
    use std::path::Path;

    /// fashion-up5k: ... -> fc1 (dense, 128) -> head (classifier, one in-block).
    fn up5k() -> Model {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/fashion-up5k.toml");
        crate::model::load(&path).unwrap()
    }

    fn ones(m: &Model) -> Vec<Fold> {
        vec![Fold::lanes(1, 1); m.layers.len()]
    }

    fn words_of(m: &Model, bits: Option<usize>, folds: &[Fold]) -> usize {
        let hw = HwConfig {
            dense_word_bits: bits,
            ..HwConfig::default()
        };
        out_words(m, &hw, folds, m.layer_index("fc1").unwrap())
    }

    #[test]
    fn a_dense_layer_takes_words_only_where_it_and_its_consumer_can() {
        let m = up5k();
        let fc1 = m.layer_index("fc1").unwrap();
        let folds = ones(&m);
        assert_eq!(words_of(&m, None, &folds), 1);
        assert_eq!(words_of(&m, Some(16), &folds), 8);
        assert_eq!(words_of(&m, Some(64), &folds), 2);
        // Not a power of two, not below C.
        assert_eq!(words_of(&m, Some(24), &folds), 1);
        assert_eq!(words_of(&m, Some(128), &folds), 1);
        // A word must hold whole PE groups, and the consumer's SIMD chunk.
        let mut wide = folds.clone();
        wide[fc1] = Fold::lanes(32, 1);
        assert_eq!(words_of(&m, Some(16), &wide), 1);
        wide[fc1] = Fold::lanes(16, 1);
        assert_eq!(words_of(&m, Some(16), &wide), 8);
        let mut chunk = folds.clone();
        chunk[fc1 + 1] = Fold::lanes(1, 32);
        assert_eq!(words_of(&m, Some(16), &chunk), 1);
        assert_eq!(words_of(&m, Some(32), &chunk), 4);
        // Other layers never take words.
        let hw = HwConfig {
            dense_word_bits: Some(16),
            ..HwConfig::default()
        };
        for i in (0..m.layers.len()).filter(|&i| i != fc1) {
            assert_eq!(out_words(&m, &hw, &folds, i), 1, "{}", m.layers[i].name);
        }
    }

    #[test]
    fn a_pruned_out_block_or_a_blocked_consumer_keeps_one_word() {
        let m = up5k();
        let fc1 = m.layer_index("fc1").unwrap();
        let folds = ones(&m);
        let mut pruned = m.clone();
        if let LayerKind::Dense(d) = &mut pruned.layers[fc1].kind {
            d.weights.out_blocks = 2;
            d.weights.in_blocks = 1;
            d.weights.mask = vec![true, false];
        }
        assert_eq!(words_of(&pruned, Some(16), &folds), 1);
        let mut blocked = m.clone();
        if let LayerKind::Classifier(c) = &mut blocked.layers[fc1 + 1].kind {
            c.weights.in_blocks = 2;
            c.weights.mask = vec![true; 2 * c.weights.out_blocks];
        }
        assert_eq!(words_of(&blocked, Some(16), &folds), 1);
    }

    /// The consumer's view reads the same bits in the same order: weight (o, 0, x, c) of the
    /// view is weight (o, 0, 0, 16 x + c) of the model.
    #[test]
    fn the_consumers_view_is_the_same_weights_cut_into_a_row() {
        let m = up5k();
        let fc1 = m.layer_index("fc1").unwrap();
        let mut words = vec![1; m.layers.len()];
        assert!(matches!(streamed(&m, &words), Cow::Borrowed(_)));
        words[fc1] = 8;
        let view = streamed(&m, &words);
        let (head, seen) = (&m.layers[fc1 + 1], &view.layers[fc1 + 1]);
        assert_eq!(
            (seen.input.height, seen.input.width, seen.input.channels),
            (1, 8, 16)
        );
        let (w, v) = (head.kind.weights().unwrap(), seen.kind.weights().unwrap());
        assert_eq!(v.stored_bits(), w.stored_bits());
        for o in 0..w.out_channels {
            for c in 0..128 {
                assert_eq!(v.weight(o, 0, c / 16, c % 16), w.weight(o, 0, 0, c));
            }
        }
        assert_eq!(view.layers[fc1].output, m.layers[fc1].output);
    }
}
