//! The images a flow co-simulates: the user's, the Fashion-MNIST test set, or seeded random
//! images.

use std::path::{Path, PathBuf};

use crate::input::{self, Image};
use crate::model::Model;
use crate::random::random_image;
use crate::sensor::SensorConfig;

use super::FlowError;

/// Where Debian's `dataset-fashion-mnist` puts the test set.
pub const FASHION_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Random images simulated when the model is not Fashion-MNIST's and no images are given.
const RANDOM_IMAGES: usize = 16;

/// Images to simulate, their labels if known, and a phrase that says what they are.
pub struct ImageSet {
    pub what: String,
    pub images: Vec<Image>,
    pub labels: Option<Vec<u8>>,
}

/// Whether `m` takes Fashion-MNIST's images (28x28 grayscale, 10 classes), 8-bit or at the
/// bit depth of the sensor they are passed through.
pub fn is_fashion_mnist(m: &Model, sensor: Option<&SensorConfig>) -> bool {
    let i = &m.input;
    let bits = sensor.map_or(8, |s| s.bits);
    (i.height, i.width, i.channels, i.bits) == (28, 28, 1, bits) && m.classes() == 10
}

/// The images of a run: `images` (with `labels`), else the Fashion-MNIST test set for a
/// Fashion-MNIST model, else seeded random images; at most `frames` of them.
pub fn choose(
    m: &Model,
    images: Option<&Path>,
    labels: Option<&Path>,
    sensor: Option<(&Path, &SensorConfig)>,
    frames: Option<usize>,
    seed: u64,
) -> Result<ImageSet, FlowError> {
    let limit = |n: usize| frames.unwrap_or(n).min(n);
    let through = |what: String| match sensor {
        Some((path, _)) => format!("{what}, through the sensor {}", path.display()),
        None => what,
    };
    let sensor_config = sensor.map(|(_, s)| s);
    if let Some(path) = images {
        // A folder of class folders labels its images by their folder names.
        let input::Labelled {
            mut images,
            labels: folder_labels,
        } = input::load_labelled_through(path, m, sensor_config)?;
        let mut labels = match labels {
            Some(l) => Some(input::load_labels_for(l, images.len(), m.classes())?),
            None => folder_labels,
        };
        let n = limit(images.len());
        images.truncate(n);
        if let Some(l) = &mut labels {
            l.truncate(n);
        }
        return Ok(ImageSet {
            what: through(path.display().to_string()),
            images,
            labels,
        });
    }
    if is_fashion_mnist(m, sensor_config) {
        let mut set = fashion_test_set(m, sensor_config, limit)?;
        set.what = through(set.what);
        return Ok(set);
    }
    if let Some((path, _)) = sensor {
        return Err(FlowError::Options(format!(
            "--sensor {}: give --images too (the sensor applies to the Fashion-MNIST test set \
             or to given images, not to random images)",
            path.display()
        )));
    }
    let n = frames.unwrap_or(RANDOM_IMAGES);
    let images = (0..n)
        .map(|i| {
            random_image(
                seed.wrapping_mul(1_000_003).wrapping_add(i as u64),
                &m.input,
            )
        })
        .collect();
    Ok(ImageSet {
        what: format!("{n} random images (seed {seed})"),
        images,
        labels: None,
    })
}

fn fashion_test_set(
    m: &Model,
    sensor: Option<&SensorConfig>,
    limit: impl Fn(usize) -> usize,
) -> Result<ImageSet, FlowError> {
    let dir = PathBuf::from(FASHION_DIR);
    let images_path = dir.join("t10k-images-idx3-ubyte.gz");
    if !images_path.exists() {
        return Err(FlowError::Options(format!(
            "{} is missing: install the Debian package dataset-fashion-mnist \
             (scripts/setup.sh does), or pass --images",
            images_path.display()
        )));
    }
    let mut images = input::load_images_through(&images_path, &m.input, sensor)?;
    let mut labels = input::idx::read_idx_labels(&dir.join("t10k-labels-idx1-ubyte.gz"))?;
    let all = images.len();
    let n = limit(all);
    images.truncate(n);
    labels.truncate(n);
    Ok(ImageSet {
        what: if n == all {
            format!("Fashion-MNIST test set, all {n}")
        } else {
            format!("Fashion-MNIST test set, first {n}")
        },
        images,
        labels: Some(labels),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::{random_model, RandomOptions};
    use crate::sensor::Stream;

    fn sensor(bits: u32) -> SensorConfig {
        toml::from_str(&format!("bits = {bits}\nseed = 5\n")).unwrap()
    }

    /// A folder of class folders gives its images with labels from the folder names, matched
    /// to the model's class names; `--labels` still wins.
    #[test]
    fn a_class_folder_labels_its_images() {
        let m = crate::model::load(Path::new("models/tiny.toml")).unwrap();
        assert_eq!(m.meta.classes, ["a", "b", "c"]);
        let i = m.input;
        let dir = tempfile::tempdir().unwrap();
        for (class, name) in [("c", "1.pgm"), ("a", "2.pgm"), ("a", "3.pgm")] {
            let mut bytes = format!("P5\n{} {}\n15\n", i.width, i.height).into_bytes();
            bytes.extend(std::iter::repeat_n(7u8, i.width * i.height));
            std::fs::create_dir_all(dir.path().join(class)).unwrap();
            std::fs::write(dir.path().join(class).join(name), bytes).unwrap();
        }
        let set = choose(&m, Some(dir.path()), None, None, None, 1).unwrap();
        assert_eq!(set.images.len(), 3);
        assert_eq!(set.labels, Some(vec![0, 0, 2]));
        let set = choose(&m, Some(dir.path()), None, None, Some(2), 1).unwrap();
        assert_eq!(set.labels, Some(vec![0, 0]));
    }

    /// With a sensor, a 28x28 model at the sensor's depth takes the Fashion-MNIST test set
    /// through it: image i is what the sensor gives for test image i.
    #[test]
    fn fashion_test_set_goes_through_the_sensor() {
        let opts = RandomOptions {
            height: 28,
            width: 28,
            bits: 10,
            classes: 10,
            layers: 1,
            ..Default::default()
        };
        let m = random_model(1, &opts);
        let s = sensor(10);
        let path = Path::new("sensor.toml");
        assert!(!is_fashion_mnist(&m, None) && is_fashion_mnist(&m, Some(&s)));
        let set = choose(&m, None, None, Some((path, &s)), Some(3), 1).unwrap();
        assert_eq!(set.images.len(), 3);
        assert!(
            set.what.contains("through the sensor sensor.toml"),
            "{}",
            set.what
        );
        let plain = input::load_images(&Path::new(FASHION_DIR).join("t10k-images-idx3-ubyte.gz"))
            .expect("Fashion-MNIST test set (scripts/setup.sh installs it)");
        for (i, img) in set.images.iter().enumerate() {
            assert_eq!(
                img.pixels,
                s.apply(&plain[i].pixels, 8, Stream::Test, i as u64)
            );
        }
        // A sensor of another depth does not make the set fit.
        assert!(!is_fashion_mnist(&m, Some(&sensor(12))));
    }

    /// Random images are not sensor images: a sensor without images is refused.
    #[test]
    fn a_sensor_needs_real_images() {
        let m = random_model(2, &RandomOptions::default());
        let s = sensor(8);
        let err = choose(&m, None, None, Some((Path::new("s.toml"), &s)), None, 1)
            .err()
            .expect("refused");
        assert!(err.to_string().contains("--sensor s.toml"), "{err}");
    }
}
