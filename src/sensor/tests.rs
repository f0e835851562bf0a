//! The sensor model's contract: fixed per index, the right noise statistics, a monotone
//! transfer, and codes inside the bit depth.

use super::*;

fn flat(v: u16, n: usize) -> Vec<u16> {
    vec![v; n]
}

fn at(ev: f64) -> SensorConfig {
    SensorConfig {
        exposure_stops: [ev, ev],
        ..SensorConfig::default()
    }
}

fn mean_var(codes: &[u16]) -> (f64, f64) {
    let n = codes.len() as f64;
    let m = codes.iter().map(|&c| c as f64).sum::<f64>() / n;
    let v = codes.iter().map(|&c| (c as f64 - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, v)
}

#[test]
fn an_image_is_fixed_by_its_stream_and_index() {
    let s = SensorConfig::default();
    let img: Vec<u16> = (0..784).map(|i| (i % 256) as u16).collect();
    let a = s.apply(&img, 8, Stream::Test, 17);
    assert_eq!(a, s.apply(&img, 8, Stream::Test, 17));
    // Visiting other images first changes nothing (no shared generator state).
    let _ = s.apply(&img, 8, Stream::Test, 3);
    assert_eq!(a, s.apply(&img, 8, Stream::Test, 17));
    assert_ne!(a, s.apply(&img, 8, Stream::Test, 18));
    assert_ne!(a, s.apply(&img, 8, Stream::Train, 17));
    let other_seed = SensorConfig {
        seed: 2,
        ..s.clone()
    };
    assert_ne!(a, other_seed.apply(&img, 8, Stream::Test, 17));
    // Exposures spread over the whole range, none outside it.
    let evs: Vec<f64> = (0..2000).map(|i| s.exposure(Stream::Train, i)).collect();
    assert!(evs.iter().all(|&e| (-4.0..=1.0).contains(&e)));
    let mean = evs.iter().sum::<f64>() / evs.len() as f64;
    assert!((mean - -1.5).abs() < 0.1, "mean exposure {mean}");
    assert!(evs.iter().any(|&e| e < -3.9) && evs.iter().any(|&e| e > 0.9));
}

#[test]
fn noise_has_the_shot_and_read_statistics() {
    // Mid-grey at -1 stop: about 0.2158 * 0.5 * 6000 = 647 electrons.
    let s = at(-1.0);
    let codes = s.apply(&flat(128, 200_000), 8, Stream::Train, 5);
    let (m, v) = mean_var(&codes);
    let gain = s.max_code() as f64 / s.full_well; // codes per electron
    let e = s.mean_electrons(128, 8, -1.0);
    assert!((e - 647.5).abs() < 1.0, "mean electrons {e}");
    // Variance in codes: (shot e + read^2) gain^2 plus the rounding's 1/12.
    let want = (e + s.read_noise.powi(2)) * gain * gain + 1.0 / 12.0;
    assert!(
        (m - e * gain).abs() < 0.05,
        "mean code {m}, want {}",
        e * gain
    );
    assert!((v / want - 1.0).abs() < 0.03, "variance {v}, want {want}");

    // Few electrons (exact Poisson branch): a dark pixel at -4 stops; 16-bit codes (11 codes
    // per electron) so that the rounding adds almost nothing.
    let dark = SensorConfig {
        bits: 16,
        read_noise: 0.0,
        ..at(-4.0)
    };
    let e = dark.mean_electrons(40, 8, -4.0);
    assert!(e > 3.0 && e < 30.0, "{e}");
    let codes = dark.apply(&flat(40, 200_000), 8, Stream::Test, 9);
    let g = dark.max_code() as f64 / dark.full_well;
    let electrons: Vec<f64> = codes.iter().map(|&c| c as f64 / g).collect();
    let n = electrons.len() as f64;
    let em = electrons.iter().sum::<f64>() / n;
    let ev = electrons.iter().map(|x| (x - em).powi(2)).sum::<f64>() / (n - 1.0);
    assert!((em / e - 1.0).abs() < 0.02, "Poisson mean {em}, want {e}");
    assert!(
        (ev / e - 1.0).abs() < 0.05,
        "Poisson variance {ev}, want {e}"
    );

    // Without light only the read noise is left: at 16 bits (a code is 0.09 e-), the negative
    // half clips to code 0 and the positive half has the read noise's spread.
    let s16 = SensorConfig {
        bits: 16,
        ..at(0.0)
    };
    let black = s16.apply(&flat(0, 100_000), 8, Stream::Test, 1);
    let zeros = black.iter().filter(|&&c| c == 0).count() as f64 / 1e5;
    assert!((zeros - 0.5).abs() < 0.02, "fraction of zero codes {zeros}");
    let g = s16.max_code() as f64 / s16.full_well;
    let pos: Vec<f64> = black
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| c as f64 / g)
        .collect();
    let rms = (pos.iter().map(|e| e * e).sum::<f64>() / pos.len() as f64).sqrt();
    assert!(
        (rms / s16.read_noise - 1.0).abs() < 0.03,
        "read noise {rms} e- rms"
    );
}

#[test]
fn the_transfer_is_monotone_and_linear_in_light() {
    let s = SensorConfig::default();
    let mut last = -1.0;
    for v in 0..=255u16 {
        let e = s.mean_electrons(v, 8, 0.0);
        assert!(e > last || (v == 0 && e == 0.0), "not increasing at {v}");
        last = e;
    }
    // Linear light, not the code: mid-grey code 128 is about 21.6% of white.
    assert!((s.mean_electrons(128, 8, 0.0) / s.full_well - 0.2158).abs() < 0.001);
    // One stop doubles the charge.
    let r = s.mean_electrons(200, 8, -1.0) / s.mean_electrons(200, 8, -2.0);
    assert!((r - 2.0).abs() < 1e-12);
    // The mean noisy code rises with the pixel code too.
    let s = at(-2.0);
    let mut prev = -1.0;
    for v in (0..=255u16).step_by(15) {
        let (m, _) = mean_var(&s.apply(&flat(v, 20_000), 8, Stream::Train, v as u64));
        assert!(m > prev, "mean code {m} at pixel {v} after {prev}");
        prev = m;
    }
    // The sRGB curve meets at its knee.
    let k = 0.040_45;
    assert!((srgb_to_linear(k) - ((k + 0.055) / 1.055f64).powf(2.4)).abs() < 1e-6);
    assert_eq!(srgb_to_linear(1.0), 1.0);
}

#[test]
fn codes_stay_inside_the_bit_depth() {
    for bits in [1, 8, 10, 12, 16] {
        let s = SensorConfig { bits, ..at(1.0) };
        let img: Vec<u16> = (0..=255).collect();
        let codes = s.apply(&img, 8, Stream::Train, 0);
        let max = (1u32 << bits) - 1;
        assert!(codes.iter().all(|&c| (c as u32) <= max), "bits {bits}");
        // One stop over, white saturates: the well clips and the code is the largest.
        assert_eq!(*codes.last().unwrap() as u32, max, "bits {bits}");
        assert_eq!(s.max_code() as u32, max);
    }
    // 16-bit input codes are read on their own scale.
    let s = at(0.0);
    assert_eq!(
        s.mean_electrons(65535, 16, 0.0),
        s.mean_electrons(255, 8, 0.0)
    );
}

#[test]
fn bad_parameters_are_reported_by_field() {
    let bad = SensorConfig {
        bits: 17,
        full_well: 0.0,
        read_noise: -1.0,
        exposure_stops: [1.0, -1.0],
        seed: 0,
    };
    let p = bad.check().join("\n");
    for field in [
        "sensor.bits",
        "sensor.full_well",
        "sensor.read_noise",
        "sensor.exposure_stops",
    ] {
        assert!(p.contains(field), "{field} missing in:\n{p}");
    }
    assert!(SensorConfig::default().check().is_empty());
}

#[test]
fn a_sensor_file_is_read_and_checked() {
    let dir = tempfile::TempDir::new().unwrap();
    let good = dir.path().join("s.toml");
    std::fs::write(&good, "[sensor]\nbits = 12\nread_noise = 2.0\n").unwrap();
    let s = SensorConfig::load(&good).unwrap();
    assert_eq!((s.bits, s.read_noise), (12, 2.0));
    assert_eq!(s.full_well, SensorConfig::default().full_well);
    let bad = dir.path().join("b.toml");
    std::fs::write(&bad, "[sensor]\nbits = 20\n").unwrap();
    let e = SensorConfig::load(&bad).unwrap_err().to_string();
    assert!(e.contains("b.toml") && e.contains("sensor.bits"), "{e}");
    std::fs::write(&bad, "[sensor]\ngain = 2\n").unwrap();
    let e = SensorConfig::load(&bad).unwrap_err().to_string();
    assert!(e.contains("b.toml") && e.contains("gain"), "{e}");
}
