//! Every malformed model in `tests/bad_models/` fails to load, and the full rendered
//! diagnostics are snapshotted (one snapshot per file, named after it) so a change in any
//! message is reviewed. A few files also go through the binary to check exit code 2 and that
//! stderr names the file, the layer and the field.

use std::path::{Path, PathBuf};
use std::process::Command;

use bnngen::model;

fn bad_models() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("tests/bad_models")
        .expect("tests/bad_models exists (run from the package root)")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_bad_model_is_rejected_with_a_snapshotted_diagnostic() {
    let files = bad_models();
    assert!(files.len() >= 30, "corpus too small: {} files", files.len());
    for path in files {
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        let errors = match model::load(&path) {
            Ok(_) => panic!("{} was accepted but should be rejected", path.display()),
            Err(e) => e,
        };
        assert!(!errors.diagnostics.is_empty());
        insta::assert_snapshot!(stem, errors.to_string());
    }
}

#[test]
fn errors_are_collected_not_just_the_first() {
    let e = model::load(Path::new("tests/bad_models/several_errors.toml")).unwrap_err();
    assert_eq!(e.diagnostics.len(), 5, "{e}");
}

#[test]
fn the_corpus_base_model_is_valid() {
    // Each corpus file is this model with one thing broken; it must itself be valid, or the
    // snapshots would show the base's problem instead of the intended one.
    let text = std::fs::read_to_string("tests/bad_models/several_errors.toml").unwrap();
    let fixed = text
        .replace("author = \"me\"\n", "")
        .replace("directions = [1, 0]", "directions = [1, -1]")
        .replace("\"01234567z\"", "\"012345678\"")
        .replace(
            "name = \"conv1\"\nout_features",
            "name = \"head\"\nout_features",
        );
    assert_ne!(fixed, text);
    if let Err(e) = model::parse(&fixed, "base") {
        panic!("base model invalid:\n{e}");
    }
}

fn run_check(file: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bnngen"))
        .args(["check", file])
        .output()
        .expect("run bnngen");
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout for an invalid model"
    );
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn binary_exits_2_and_names_file_layer_and_field() {
    for (file, needles) in [
        (
            "tests/bad_models/weights_wrong_length.toml",
            &["layers[0] (conv1)", ".weights:"][..],
        ),
        (
            "tests/bad_models/mask_row_bad.toml",
            &["layers[0] (conv1)", ".mask[1]:"],
        ),
        (
            "tests/bad_models/bias_length.toml",
            &["layers[1] (head)", ".bias:"],
        ),
        (
            "tests/bad_models/residual_dangling.toml",
            &["layers[1] (res1)", ".with:"],
        ),
        (
            "tests/bad_models/unknown_field_in_layer.toml",
            &["layers[0] (conv1)", ".dilation:"],
        ),
        (
            "tests/bad_models/thresholds_not_increasing.toml",
            &["front_end.thresholds[1]:"],
        ),
        (
            "tests/bad_models/several_errors.toml",
            &["(5 errors)", "meta.author:", "layers[1] (conv1).name:"],
        ),
    ] {
        let (code, stderr) = run_check(file);
        assert_eq!(code, 2, "{file}: {stderr}");
        assert!(
            stderr.contains(file),
            "{file}: stderr does not name the file:\n{stderr}"
        );
        for n in needles {
            assert!(stderr.contains(n), "{file}: stderr lacks {n:?}:\n{stderr}");
        }
    }
}

#[test]
fn every_diagnostics_snapshot_has_its_bad_model() {
    // A snapshot left behind after its model file was removed would never be checked again.
    for e in std::fs::read_dir("tests/snapshots").unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if let Some(stem) = name
            .strip_prefix("diagnostics__")
            .and_then(|n| n.strip_suffix(".snap"))
        {
            let model = format!("tests/bad_models/{stem}.toml");
            assert!(
                Path::new(&model).exists(),
                "orphan snapshot {name}: no {model}"
            );
        }
    }
}
