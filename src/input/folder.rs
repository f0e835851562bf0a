//! Image-folder datasets: one folder per class, one image file per example.
//!
//! A dataset folder holds `train/` and `test/`, each with one sub-folder per class
//! (`DIR/train/<class>/*.png`); an evaluation folder is either such a dataset (its `test/`
//! split is used) or a folder of class folders. Classes are the folder names in byte order,
//! so the same folders always give the same class indices. Each file is decoded by the
//! shared raster reader (PGM/PPM with raw codes, PNG), so a folder gives exactly the codes
//! `bnngen infer FILE` would see; every image must have the first image's size, channels and
//! declared bit depth. Limits on the number of classes, files and pixel codes are checked
//! before anything is held in memory, and every error names the file or folder.

use std::path::{Path, PathBuf};

use super::{load_image_set, Image, InputError, MAX_PIXELS};

/// Largest number of classes (labels are bytes).
pub const MAX_CLASSES: usize = 256;

/// Largest number of image files in one split.
pub const MAX_FILES: usize = 1 << 20;

/// File name extensions read as images (case-insensitive); other files are ignored.
const EXTENSIONS: [&str; 3] = ["png", "pgm", "ppm"];

/// The images of one split with their labels (indices into `classes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledSet {
    pub images: Vec<Image>,
    pub labels: Vec<u8>,
    /// Class folder names in byte order.
    pub classes: Vec<String>,
    /// The bit depth every file declares.
    pub depth: u32,
    /// The file of each image, for error messages.
    pub files: Vec<PathBuf>,
}

/// Whether `dir` is a dataset folder (it has `train/` and `test/` folders).
pub fn is_dataset(dir: &Path) -> bool {
    dir.join("train").is_dir() && dir.join("test").is_dir()
}

/// The folder of class folders to evaluate on: `DIR/test` for a dataset folder, else `DIR`.
pub fn evaluation_dir(dir: &Path) -> PathBuf {
    if is_dataset(dir) {
        dir.join("test")
    } else {
        dir.to_path_buf()
    }
}

/// Read a dataset folder: its `train/` and `test/` splits, which must name the same classes
/// and hold images of the same shape and depth.
pub fn read_dataset(dir: &Path) -> Result<(LabelledSet, LabelledSet), InputError> {
    let train = read_split(&dir.join("train"))?;
    let test = read_split(&dir.join("test"))?;
    let bad = |message: String| InputError::Malformed {
        path: dir.join("test"),
        message,
    };
    if test.classes != train.classes {
        return Err(bad(format!(
            "the class folders are {:?}, but train/ has {:?}; both splits need the same classes",
            test.classes, train.classes
        )));
    }
    let (a, b) = (&train.images[0], &test.images[0]);
    if (a.height, a.width, a.channels, train.depth) != (b.height, b.width, b.channels, test.depth) {
        return Err(bad(format!(
            "images are {}x{}x{} at {} bits, but train/ has {}x{}x{} at {} bits",
            b.height, b.width, b.channels, test.depth, a.height, a.width, a.channels, train.depth
        )));
    }
    Ok((train, test))
}

/// Read a folder of class folders: every image file of every class, classes in byte order
/// of their names, files in byte order of theirs.
pub fn read_split(dir: &Path) -> Result<LabelledSet, InputError> {
    let classes = class_folders(dir)?;
    let mut files = Vec::new();
    let mut labels = Vec::new();
    for (label, name) in classes.iter().enumerate() {
        let found = image_files(&dir.join(name))?;
        if found.is_empty() {
            return Err(InputError::Malformed {
                path: dir.join(name),
                message: "the class folder holds no .png, .pgm or .ppm file".into(),
            });
        }
        if files.len() + found.len() > MAX_FILES {
            return Err(InputError::Malformed {
                path: dir.to_path_buf(),
                message: format!("more than {MAX_FILES} image files"),
            });
        }
        labels.extend(std::iter::repeat_n(label as u8, found.len()));
        files.extend(found);
    }
    let (images, depth) = read_same_shape(&files)?;
    Ok(LabelledSet {
        images,
        labels,
        classes,
        depth,
        files,
    })
}

/// The class folder names of `dir` in byte order (hidden entries and files are skipped).
fn class_folders(dir: &Path) -> Result<Vec<String>, InputError> {
    let mut names = Vec::new();
    for entry in read_dir(dir)? {
        let entry = entry.map_err(|e| InputError::io(dir, e))?;
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            return Err(InputError::Malformed {
                path,
                message: "the class folder name is not UTF-8 (it becomes the class name)".into(),
            });
        };
        if name.starts_with('.') {
            continue;
        }
        names.push(name);
        if names.len() > MAX_CLASSES {
            return Err(InputError::Malformed {
                path: dir.to_path_buf(),
                message: format!("more than {MAX_CLASSES} class folders"),
            });
        }
    }
    if names.is_empty() {
        return Err(InputError::Malformed {
            path: dir.to_path_buf(),
            message: "no class folders; expected one folder per class holding its images \
                      (DIR/<class>/*.png), or DIR/train/<class>/ and DIR/test/<class>/"
                .into(),
        });
    }
    names.sort();
    Ok(names)
}

/// The image files of one class folder in byte order of their names.
fn image_files(dir: &Path) -> Result<Vec<PathBuf>, InputError> {
    let mut files = Vec::new();
    for entry in read_dir(dir)? {
        let path = entry.map_err(|e| InputError::io(dir, e))?.path();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if !hidden && ext.is_some_and(|e| EXTENSIONS.contains(&e.as_str())) && path.is_file() {
            files.push(path);
            if files.len() > MAX_FILES {
                return Err(InputError::Malformed {
                    path: dir.to_path_buf(),
                    message: format!("more than {MAX_FILES} image files"),
                });
            }
        }
    }
    files.sort();
    Ok(files)
}

fn read_dir(dir: &Path) -> Result<std::fs::ReadDir, InputError> {
    std::fs::read_dir(dir).map_err(|e| InputError::io(dir, e))
}

/// Decode every file (one image each); all must match the first in shape and declared depth,
/// and together stay within [`MAX_PIXELS`] codes.
fn read_same_shape(files: &[PathBuf]) -> Result<(Vec<Image>, u32), InputError> {
    let mut images: Vec<Image> = Vec::new();
    let mut depth = 0;
    let mut total = 0usize;
    for path in files {
        let mut set = load_image_set(path)?;
        if set.images.len() != 1 {
            return Err(InputError::Malformed {
                path: path.clone(),
                message: format!(
                    "holds {} images; an image folder takes one image per file",
                    set.images.len()
                ),
            });
        }
        let image = set.images.remove(0);
        if let Some(first) = images.first() {
            let (f, s) = (
                (first.height, first.width, first.channels, depth),
                (image.height, image.width, image.channels, set.depth),
            );
            if f != s {
                return Err(InputError::Malformed {
                    path: path.clone(),
                    message: format!(
                        "image is {}x{}x{} at {} bits, but {} is {}x{}x{} at {} bits; every \
                         image of a folder needs the same height, width, channels and depth",
                        s.0,
                        s.1,
                        s.2,
                        s.3,
                        files[0].display(),
                        f.0,
                        f.1,
                        f.2,
                        f.3
                    ),
                });
            }
        } else {
            depth = set.depth;
        }
        total += image.pixels.len();
        if total > MAX_PIXELS {
            return Err(InputError::Malformed {
                path: path.clone(),
                message: format!(
                    "the folder's images hold more than {MAX_PIXELS} pixel codes, above the \
                     limit held in memory"
                ),
            });
        }
        images.push(image);
    }
    Ok((images, depth))
}

/// Labels of `set` as indices into a model's classes: by name when the model names its
/// classes, else by folder position (which must be below `classes`).
pub fn labels_for_model(
    set: &LabelledSet,
    dir: &Path,
    names: &[String],
    classes: usize,
) -> Result<Vec<u8>, InputError> {
    let mut map = Vec::with_capacity(set.classes.len());
    for (i, folder) in set.classes.iter().enumerate() {
        let index = if names.is_empty() {
            (i < classes).then_some(i)
        } else {
            names.iter().position(|n| n == folder)
        };
        let Some(index) = index else {
            let known = if names.is_empty() {
                format!("the model has {classes} unnamed classes")
            } else {
                format!("the model's classes are {names:?}")
            };
            return Err(InputError::Labels {
                path: dir.join(folder),
                message: format!("class folder `{folder}` is not a class of the model: {known}"),
            });
        };
        map.push(index as u8);
    }
    Ok(set.labels.iter().map(|&l| map[usize::from(l)]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pgm(path: &Path, w: usize, h: usize, maxval: u16, px: &[u8]) {
        let mut bytes = format!("P5\n{w} {h}\n{maxval}\n").into_bytes();
        bytes.extend_from_slice(px);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    #[test]
    fn classes_sort_by_name_and_labels_follow_them() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        pgm(&root.join("train/b/1.pgm"), 2, 1, 16, &[1, 2]);
        pgm(&root.join("train/a/2.pgm"), 2, 1, 16, &[3, 4]);
        pgm(&root.join("train/a/1.PGM"), 2, 1, 16, &[5, 16]);
        std::fs::write(root.join("train/a/notes.txt"), "ignored").unwrap();
        pgm(&root.join("test/a/x.pgm"), 2, 1, 16, &[0, 0]);
        pgm(&root.join("test/b/y.pgm"), 2, 1, 16, &[9, 9]);
        let (train, test) = read_dataset(root).unwrap();
        assert_eq!(train.classes, ["a", "b"]);
        assert_eq!(train.labels, [0, 0, 1]);
        assert_eq!(train.images[0].pixels, [5, 16]);
        assert_eq!(train.depth, 5);
        assert_eq!(test.labels, [0, 1]);
        assert_eq!(evaluation_dir(root), root.join("test"));
        // A model naming its classes maps folders by name; one without, by position.
        let names = vec!["z".to_string(), "b".into(), "a".into()];
        assert_eq!(labels_for_model(&test, root, &names, 3).unwrap(), [2u8, 1]);
        assert_eq!(labels_for_model(&test, root, &[], 2).unwrap(), [0u8, 1]);
        let e = labels_for_model(&test, root, &names[..2], 2).unwrap_err();
        assert!(e.to_string().contains("class folder `a`"), "{e}");
        let e = labels_for_model(&test, root, &[], 1).unwrap_err();
        assert!(e.to_string().contains("class folder `b`"), "{e}");
    }

    #[test]
    fn errors_name_the_file() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        pgm(&root.join("a/1.pgm"), 2, 1, 16, &[1, 2]);
        pgm(&root.join("b/1.pgm"), 1, 2, 16, &[1, 2]);
        let e = read_split(root).unwrap_err().to_string();
        assert!(e.contains("b/1.pgm") && e.contains("1x2x1"), "{e}");
        pgm(&root.join("b/1.pgm"), 2, 1, 255, &[1, 2]);
        let e = read_split(root).unwrap_err().to_string();
        assert!(e.contains("b/1.pgm") && e.contains("8 bits"), "{e}");
        std::fs::write(root.join("b/1.pgm"), b"P5\n2 1\n16\n\x01").unwrap();
        let e = read_split(root).unwrap_err().to_string();
        assert!(e.contains("b/1.pgm"), "{e}");
        std::fs::remove_file(root.join("b/1.pgm")).unwrap();
        let e = read_split(root).unwrap_err().to_string();
        assert!(e.contains("holds no .png"), "{e}");
        let empty = tempfile::tempdir().unwrap();
        let e = read_split(empty.path()).unwrap_err().to_string();
        assert!(e.contains("no class folders"), "{e}");
        let e = read_split(&root.join("missing")).unwrap_err().to_string();
        assert!(e.contains("missing"), "{e}");
    }

    #[test]
    fn splits_must_agree_on_classes() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        pgm(&root.join("train/a/1.pgm"), 1, 1, 16, &[1]);
        pgm(&root.join("train/b/1.pgm"), 1, 1, 16, &[1]);
        pgm(&root.join("test/a/1.pgm"), 1, 1, 16, &[1]);
        let e = read_dataset(root).unwrap_err().to_string();
        assert!(e.contains("same classes"), "{e}");
    }
}
