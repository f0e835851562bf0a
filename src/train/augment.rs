//! Data augmentation: each training image, each time it is drawn, is shifted by a random
//! whole number of pixels and, if asked, mirrored left-right, before the front end sees it.
//!
//! A binary network of fashion-default's size fits its training set a few points better than
//! its validation set, and a float teacher reaches 100% on it, so both overfit. Shifts and
//! mirror images are the cheapest honest cure: the test images are never touched, and the
//! draws come from the schedule's seed, the epoch and the batch, so a run (and a resumed run)
//! repeats exactly. Pixels moved in from outside the image are code 0, the dark background of
//! Fashion-MNIST and of most sensor scenes.

use super::config::AugmentConfig;
use super::data::ImageShape;
use super::rng::Rng;

/// The draws of one batch.
pub struct Augment {
    cfg: AugmentConfig,
    rng: Rng,
}

impl Augment {
    /// The draws for batch `batch` of epoch `epoch` under schedule seed `seed`.
    pub fn new(cfg: AugmentConfig, seed: u64, epoch: usize, batch: usize) -> Augment {
        let mix = (epoch as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ (batch as u64 + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        Augment {
            cfg,
            rng: Rng::new(seed ^ mix ^ 0x5851_f42d_4c95_7f2d),
        }
    }

    /// Appends `img` ((y, x, c), channel fastest) to `out`, shifted and perhaps mirrored.
    pub fn push(&mut self, img: &[u16], shape: ImageShape, out: &mut Vec<u16>) {
        let s = self.cfg.shift as i64;
        let span = 2 * s as u64 + 1;
        let dy = (self.rng.next_u64() % span) as i64 - s;
        let dx = (self.rng.next_u64() % span) as i64 - s;
        let flip = self.cfg.flip && self.rng.next_u64() & 1 == 1;
        out.extend(shifted(img, shape, dy, dx, flip));
    }
}

/// The pixels of `img` moved down by `dy` and right by `dx` (then mirrored if `flip`), with
/// code 0 where the moved image does not cover.
fn shifted(
    img: &[u16],
    shape: ImageShape,
    dy: i64,
    dx: i64,
    flip: bool,
) -> impl Iterator<Item = u16> + '_ {
    let (h, w, c) = (shape.height as i64, shape.width as i64, shape.channels);
    (0..h).flat_map(move |y| {
        (0..w).flat_map(move |x| {
            let xm = if flip { w - 1 - x } else { x };
            let (sy, sx) = (y - dy, xm - dx);
            let inside = (0..h).contains(&sy) && (0..w).contains(&sx);
            let base = if inside {
                ((sy * w + sx) as usize) * c
            } else {
                0
            };
            (0..c).map(move |ch| if inside { img[base + ch] } else { 0 })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAPE: ImageShape = ImageShape {
        height: 2,
        width: 3,
        channels: 1,
    };

    #[test]
    fn a_shift_moves_pixels_and_fills_with_zero() {
        let img = [1, 2, 3, 4, 5, 6];
        let right: Vec<u16> = shifted(&img, SHAPE, 0, 1, false).collect();
        assert_eq!(right, [0, 1, 2, 0, 4, 5]);
        let up: Vec<u16> = shifted(&img, SHAPE, -1, 0, false).collect();
        assert_eq!(up, [4, 5, 6, 0, 0, 0]);
        let mirrored: Vec<u16> = shifted(&img, SHAPE, 0, 0, true).collect();
        assert_eq!(mirrored, [3, 2, 1, 6, 5, 4]);
    }

    #[test]
    fn channels_move_together() {
        let shape = ImageShape {
            height: 1,
            width: 2,
            channels: 2,
        };
        let img = [1, 2, 3, 4];
        let right: Vec<u16> = shifted(&img, shape, 0, 1, false).collect();
        assert_eq!(right, [0, 0, 1, 2]);
        let mirrored: Vec<u16> = shifted(&img, shape, 0, 0, true).collect();
        assert_eq!(mirrored, [3, 4, 1, 2]);
    }

    #[test]
    fn draws_repeat_for_the_same_batch_and_stay_in_range() {
        let cfg = AugmentConfig {
            shift: 1,
            flip: true,
        };
        let img = [1, 2, 3, 4, 5, 6];
        let run = |epoch, batch| {
            let mut a = Augment::new(cfg, 7, epoch, batch);
            let mut out = Vec::new();
            for _ in 0..50 {
                a.push(&img, SHAPE, &mut out);
            }
            out
        };
        assert_eq!(run(0, 0), run(0, 0));
        assert_ne!(run(0, 0), run(0, 1));
        assert_ne!(run(0, 0), run(1, 0));
        let out = run(2, 3);
        let distinct: std::collections::BTreeSet<&[u16]> = out.chunks(6).collect();
        assert!(distinct.len() > 4, "{} distinct images", distinct.len());
        assert!(out
            .chunks(6)
            .all(|im| im.iter().filter(|&&p| p != 0).count() >= 2));
    }
}
