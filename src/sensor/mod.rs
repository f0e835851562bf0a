//! A documented image-sensor model: what a comparator bank beside the pixel array would see
//! when the scene is a dataset image.
//!
//! Datasets such as Fashion-MNIST hold gamma-encoded, well-exposed 8-bit codes; a sensor's
//! comparators see linear light, at whatever exposure the scene gives, with photon and read
//! noise. The model turns each image into that, step by step (docs/sensor.md gives the
//! parameters and typical values with their sources):
//! 1. linear light: the inverse sRGB transfer of the code;
//! 2. exposure: the image's light times `2^ev`, `ev` drawn per image from a range in stops
//!    (0 stops: a white pixel just fills the well);
//! 3. photon shot noise: Poisson electrons (normal approximation above 30 electrons), clipped
//!    at the full-well capacity;
//! 4. read noise: Gaussian electrons added;
//! 5. quantization: `round(e / full_well * (2^B - 1))`, clamped to `0..=2^B - 1`.
//!
//! Everything random is drawn from a generator seeded by (sensor seed, stream, image index),
//! so an image always gets the same exposure and noise: the sensor test set is fixed, and the
//! training set does not depend on the order in which images are visited.

use crate::prng::SplitMix64;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The sensor's parameters (`[sensor]` in a training config or a sensor file).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SensorConfig {
    /// Code depth B of the sensor's output (the model's input bits), 1..=16.
    pub bits: u32,
    /// Full-well capacity in electrons: the charge at which a pixel saturates.
    pub full_well: f64,
    /// Read noise in electrons rms, added after the shot noise.
    pub read_noise: f64,
    /// Per-image exposure range in stops, `[low, high]`, drawn uniformly; at 0 a white pixel
    /// collects exactly `full_well` electrons on average.
    pub exposure_stops: [f64; 2],
    /// Seed of the exposures and the noise (independent of the training seed, so every run
    /// sees the same sensor images).
    pub seed: u64,
}

impl Default for SensorConfig {
    fn default() -> Self {
        SensorConfig {
            bits: 10,
            full_well: 6000.0,
            read_noise: 3.0,
            exposure_stops: [-4.0, 1.0],
            seed: 1,
        }
    }
}

/// Which set an image belongs to: the same index in two streams gets independent noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// The training file (training and validation images), by index in the file.
    Train,
    /// The test file, by index in the file.
    Test,
}

/// Why a sensor description is unusable.
#[derive(Debug, thiserror::Error)]
pub enum SensorError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

/// A sensor file: one `[sensor]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SensorFile {
    sensor: SensorConfig,
}

impl SensorConfig {
    /// Read a sensor file (a `[sensor]` table, docs/sensor.md) and check it.
    pub fn load(path: &Path) -> Result<SensorConfig, SensorError> {
        let file = path.display().to_string();
        // A sensor file is a few lines: read at most 64 KiB, so a wrong path to a huge file
        // or a device is refused instead of read whole.
        let text = crate::model::limits::read_capped(path, 1 << 16).map_err(|source| {
            SensorError::Read {
                file: file.clone(),
                source,
            }
        })?;
        let parsed: SensorFile = toml::from_str(&text).map_err(|e| SensorError::Invalid {
            file: file.clone(),
            message: e.to_string(),
        })?;
        let problems = parsed.sensor.check();
        if problems.is_empty() {
            Ok(parsed.sensor)
        } else {
            Err(SensorError::Invalid {
                file,
                message: problems.join("; "),
            })
        }
    }

    /// Every inconsistency, each naming its field under `sensor.` (empty when usable).
    pub fn check(&self) -> Vec<String> {
        let mut p = Vec::new();
        if !(1..=16).contains(&self.bits) {
            p.push(format!("sensor.bits: expected 1..=16, found {}", self.bits));
        }
        if !(self.full_well.is_finite() && self.full_well >= 1.0) {
            p.push(format!(
                "sensor.full_well: expected >= 1 electron, found {}",
                self.full_well
            ));
        }
        if !(self.read_noise.is_finite() && self.read_noise >= 0.0) {
            p.push(format!(
                "sensor.read_noise: expected >= 0 electrons, found {}",
                self.read_noise
            ));
        }
        let [lo, hi] = self.exposure_stops;
        if !(lo.is_finite() && hi.is_finite() && lo <= hi && lo.abs() <= 30.0 && hi.abs() <= 30.0) {
            p.push(format!(
                "sensor.exposure_stops: expected [low, high] with low <= high inside -30..30, found [{lo}, {hi}]"
            ));
        }
        p
    }

    /// The largest code the sensor outputs, `2^B - 1`.
    pub fn max_code(&self) -> u16 {
        ((1u32 << self.bits) - 1) as u16
    }

    /// The generator of one image: a function of (seed, stream, index) only.
    fn rng(&self, stream: Stream, index: u64) -> SplitMix64 {
        let tag = match stream {
            Stream::Train => 0x7a1e_u64,
            Stream::Test => 0x7e57_u64,
        };
        let mut mix = SplitMix64::new(self.seed ^ (tag << 48));
        let base = mix.next_u64();
        SplitMix64::new(base ^ index.wrapping_mul(0xd6e8_feb8_6659_fd93))
    }

    /// The exposure of one image in stops (the first draw of its generator).
    pub fn exposure(&self, stream: Stream, index: u64) -> f64 {
        let [lo, hi] = self.exposure_stops;
        lo + (hi - lo) * unit(&mut self.rng(stream, index))
    }

    /// The mean electrons of a pixel code `v` of `in_bits` bits at exposure `ev` (no noise,
    /// no clipping): linear light times the well at that exposure.
    pub fn mean_electrons(&self, v: u16, in_bits: u32, ev: f64) -> f64 {
        let max_in = ((1u32 << in_bits) - 1) as f64;
        srgb_to_linear(v as f64 / max_in) * ev.exp2() * self.full_well
    }

    /// The code the ADC gives for a charge (round to nearest, clamped to the code range).
    pub fn quantize(&self, electrons: f64) -> u16 {
        let max = self.max_code() as f64;
        (electrons / self.full_well * max).round().clamp(0.0, max) as u16
    }

    /// One image as the sensor delivers it: `pixels` are codes of `in_bits` bits (any layout;
    /// each value is one pixel channel), the result has `self.bits` bits per value.
    pub fn apply(&self, pixels: &[u16], in_bits: u32, stream: Stream, index: u64) -> Vec<u16> {
        let mut rng = self.rng(stream, index);
        let [lo, hi] = self.exposure_stops;
        let ev = lo + (hi - lo) * unit(&mut rng);
        pixels
            .iter()
            .map(|&v| {
                let mean = self.mean_electrons(v, in_bits, ev);
                let collected = poisson(&mut rng, mean).min(self.full_well);
                let e = collected + self.read_noise * normal(&mut rng);
                self.quantize(e)
            })
            .collect()
    }
}

/// The inverse sRGB transfer (IEC 61966-2-1): encoded value 0..1 to linear light 0..1.
pub fn srgb_to_linear(c: f64) -> f64 {
    if c <= 0.040_45 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// Uniform in [0, 1).
fn unit(rng: &mut SplitMix64) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A standard normal draw (Box-Muller, one of the pair).
fn normal(rng: &mut SplitMix64) -> f64 {
    let u1 = 1.0 - unit(rng); // (0, 1]: the log is finite
    let u2 = unit(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A Poisson draw of mean `mean` electrons: exact (Knuth's product of uniforms) below 30, the
/// normal approximation `mean + sqrt(mean) z` (rounded, at least 0) above, where the two differ
/// by less than the read noise.
fn poisson(rng: &mut SplitMix64, mean: f64) -> f64 {
    if mean <= 0.0 {
        return 0.0;
    }
    if mean < 30.0 {
        let limit = (-mean).exp();
        let mut k = 0u32;
        let mut p = unit(rng);
        while p > limit {
            k += 1;
            p *= unit(rng);
        }
        return k as f64;
    }
    (mean + mean.sqrt() * normal(rng)).round().max(0.0)
}

#[cfg(test)]
mod tests;
