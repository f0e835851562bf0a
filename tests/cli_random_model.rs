//! `bnngen random-model` through the binary: determinism, validity, options, atomic output.

use std::process::{Command, Output};

use bnngen::model;

fn bnngen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bnngen"))
        .args(args)
        .output()
        .expect("run bnngen")
}

/// A scratch folder, removed when the returned guard drops (also when the test fails).
fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("bnngen-cli-{name}-"))
        .tempdir()
        .expect("create a scratch folder")
}

#[test]
fn same_seed_same_bytes_different_seed_different_model() {
    let a = bnngen(&["random-model", "--seed", "7"]);
    let b = bnngen(&["random-model", "--seed", "7"]);
    let c = bnngen(&["random-model", "--seed", "8"]);
    for o in [&a, &b, &c] {
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert!(!a.stdout.is_empty());
    assert_eq!(a.stdout, b.stdout);
    assert_ne!(a.stdout, c.stdout);
}

#[test]
fn output_is_a_valid_model_with_the_requested_shape() {
    for seed in 0..6u64 {
        let seed = seed.to_string();
        let out = bnngen(&[
            "random-model",
            "--seed",
            &seed,
            "--height",
            "11",
            "--width",
            "5",
            "--channels",
            "2",
            "--bits",
            "6",
            "--classes",
            "3",
            "--layers",
            "3",
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let m = model::parse(&text, "random").unwrap_or_else(|e| panic!("seed {seed}:\n{e}"));
        assert_eq!(
            (m.input.height, m.input.width, m.input.channels),
            (11, 5, 2)
        );
        assert_eq!(m.input.bits, 6);
        assert_eq!(m.classes(), 3);
        // Writing the parsed model back gives the same bytes.
        assert_eq!(model::to_toml(&m), text);
    }
}

#[test]
fn output_file_matches_stdout_and_leaves_no_temporary_files() {
    let tmp = scratch("rm-file");
    let dir = tmp.path();
    let file = dir.join("m.toml");
    let out = bnngen(&["random-model", "--seed", "3", "-o", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let stdout = bnngen(&["random-model", "--seed", "3"]).stdout;
    assert_eq!(std::fs::read(&file).unwrap(), stdout);
    let names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("m.toml")]);
    // The file is a model `check` accepts.
    assert_eq!(
        bnngen(&["check", file.to_str().unwrap()]).status.code(),
        Some(0)
    );
}

#[test]
fn output_in_a_missing_folder_exits_2_and_creates_nothing() {
    let tmp = scratch("rm-nodir");
    let dir = tmp.path();
    let file = dir.join("missing-dir").join("m.toml");
    let out = bnngen(&["random-model", "--seed", "3", "-o", file.to_str().unwrap()]);
    // A bad -o is an option error (exit 2), like every other.
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    assert!(!file.exists() && !file.parent().unwrap().exists());
}

#[test]
fn bad_options_exit_2() {
    for args in [
        &["random-model", "--seed", "1", "--bits", "17"][..],
        &["random-model", "--seed", "1", "--bits", "0"],
        &["random-model", "--seed", "1", "--height", "0"],
        &["random-model", "--seed", "1", "--classes", "0"],
        &["random-model"],
        &["random-model", "--seed", "x"],
    ] {
        let out = bnngen(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
