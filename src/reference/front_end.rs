//! The front end: pixel codes to binary planes (thermometer or natural binary), packed.

use super::tensor::Packed;
use crate::model::Image;
use crate::model::{FrontEnd, InputSpec, Shape};

/// What the front end compares each pixel against, resolved once per model.
#[derive(Debug, Clone)]
pub struct FrontEndPlan {
    input: InputSpec,
    output: Shape,
    planes: usize,
    /// Per input channel, the M thermometer thresholds; `None` for the binary code.
    thresholds: Option<Vec<Vec<u32>>>,
}

impl FrontEndPlan {
    pub fn new(front_end: &FrontEnd, input: &InputSpec) -> Self {
        FrontEndPlan {
            input: *input,
            output: front_end.output_shape(input),
            planes: front_end.planes_per_channel(input),
            thresholds: match front_end {
                FrontEnd::Thermometer(t) => Some(t.thresholds.clone()),
                FrontEnd::Binary => None,
            },
        }
    }

    /// Planes of one image: channel `c * M + k` of pixel (y, x).
    pub fn run(&self, image: &Image) -> Packed {
        debug_assert_eq!(
            (image.height, image.width, image.channels),
            (self.input.height, self.input.width, self.input.channels),
            "image shape does not match the model input"
        );
        debug_assert!(image
            .pixels
            .iter()
            .all(|&p| u32::from(p) <= self.input.max_pixel()));
        let mut out = Packed::zeros(self.output);
        let (planes, channels) = (self.planes, self.input.channels);
        for y in 0..self.input.height {
            for x in 0..self.input.width {
                let px = out.pixel_mut(y, x);
                for c in 0..channels {
                    let v = u32::from(image.pixel(y, x, c));
                    for k in 0..planes {
                        let on = match &self.thresholds {
                            Some(t) => v >= t[c][k],
                            None => (v >> k) & 1 == 1,
                        };
                        if on {
                            let ch = c * planes + k;
                            px[ch / 64] |= 1u64 << (ch % 64);
                        }
                    }
                }
            }
        }
        out
    }
}
