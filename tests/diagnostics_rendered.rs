//! What a person reads when a file they wrote is wrong: the real `bnngen` binary on broken
//! model, hardware-config, plan, training-config and image files. Each report is pinned
//! whole (insta snapshot `diagnostics_rendered__KIND_NAME`): the code, the message naming the
//! file, line, layer and field, the source line with a caret under the field, and the help
//! line. stderr is a pipe here, as in a CI log, so the report must be plain ASCII without
//! escape codes or wrapped lines; the exit status stays 2.

use std::process::Command;

/// Run `bnngen ARGS` from the package root (so paths in reports are relative and the
/// snapshots portable); return its stderr after checking the exit status and plainness.
fn report(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_bnngen"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .output()
        .expect("bnngen runs");
    let stderr = String::from_utf8(out.stderr).expect("stderr is UTF-8");
    assert_eq!(out.status.code(), Some(2), "{args:?}:\n{stderr}");
    assert!(
        stderr.is_ascii() && !stderr.contains('\u{1b}'),
        "{args:?}: a report to a pipe must be plain ASCII:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// The report names the file, the field, and carries a code, a caret and a help line.
fn assert_annotated(stderr: &str, file: &str, field: &str, code: &str) {
    for want in [file, field, code, "help:"] {
        assert!(stderr.contains(want), "`{want}` missing from:\n{stderr}");
    }
}

/// The caret line: `^` under the text the report points at.
fn assert_caret_under(stderr: &str, text: &str) {
    let lines: Vec<&str> = stderr.lines().collect();
    let ok = lines.windows(2).any(|w| {
        w[0].find(text).is_some_and(|col| {
            let under = w[1].get(col..col + 1);
            under == Some("^") || under == Some("|")
        })
    });
    assert!(ok, "no caret under `{text}`:\n{stderr}");
}

#[test]
fn model_errors_point_at_the_field() {
    let e = report(&["check", "tests/bad_models/zero_stride.toml"]);
    assert_annotated(
        &e,
        "zero_stride.toml:22",
        "layers[0] (conv1).stride",
        "bnngen::model::out_of_range",
    );
    assert_caret_under(&e, "stride = 0");
    insta::assert_snapshot!("model_zero_stride", e);

    let e = report(&["check", "tests/bad_models/unknown_layer_kind.toml"]);
    assert_annotated(
        &e,
        "unknown_layer_kind.toml:18",
        "layers[0] (conv1).kind",
        "bnngen::model::unknown_value",
    );
    insta::assert_snapshot!("model_unknown_layer_kind", e);

    let e = report(&["check", "tests/bad_models/toml_syntax.toml"]);
    assert_annotated(
        &e,
        "toml_syntax.toml",
        "TOML syntax error",
        "bnngen::model::syntax",
    );
    insta::assert_snapshot!("model_toml_syntax", e);
}

#[test]
fn every_problem_of_a_model_is_reported_each_with_its_own_caret() {
    let e = report(&["check", "tests/bad_models/several_errors.toml"]);
    assert!(e.contains("invalid model (5 errors)"), "{e}");
    for code in ["unknown_field", "bad_hex", "out_of_range", "duplicate_name"] {
        assert!(
            e.contains(&format!("bnngen::model::{code}")),
            "{code}:\n{e}"
        );
    }
    assert_eq!(
        e.matches("help:").count(),
        6,
        "a help line each and one for the headline:\n{e}"
    );
    insta::assert_snapshot!("model_several_errors", e);
}

#[test]
fn hardware_config_errors_point_at_the_field() {
    let model = "models/tiny.toml";
    let e = report(&[
        "plan",
        model,
        "--hw",
        "tests/bad_inputs/hw_fold_not_divisor.toml",
    ]);
    assert_annotated(
        &e,
        "hw_fold_not_divisor.toml",
        "pe",
        "bnngen::hw::not_divisor",
    );
    insta::assert_snapshot!("hw_fold_not_divisor", e);

    let e = report(&[
        "plan",
        model,
        "--hw",
        "tests/bad_inputs/hw_clock_string.toml",
    ]);
    assert_annotated(
        &e,
        "hw_clock_string.toml:1",
        "clock_mhz",
        "bnngen::hw::wrong_type",
    );
    assert_caret_under(&e, "clock_mhz");
    insta::assert_snapshot!("hw_clock_string", e);

    let e = report(&[
        "plan",
        model,
        "--hw",
        "tests/bad_inputs/hw_unknown_field.toml",
    ]);
    assert_annotated(
        &e,
        "hw_unknown_field.toml",
        "clock",
        "bnngen::hw::unknown_field",
    );
    insta::assert_snapshot!("hw_unknown_field", e);
}

#[test]
fn plan_file_errors_point_at_the_field() {
    let out = tempfile::tempdir().unwrap();
    let out = out.path().join("o");
    let e = report(&[
        "generate",
        "models/tiny.toml",
        "--plan",
        "tests/bad_inputs/plan_pe_string.toml",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(!out.exists(), "nothing is written for a bad plan");
    assert_annotated(
        &e,
        "plan_pe_string.toml",
        "layers[0].pe",
        "bnngen::plan::wrong_type",
    );
    insta::assert_snapshot!("plan_pe_string", e);
}

#[cfg(feature = "train")]
#[test]
fn training_config_errors_point_at_the_field() {
    let dir = "tests/bad_train_configs";
    let out = tempfile::tempdir().unwrap();
    let out = out.path().join("model.toml");
    let train = |config: &str| {
        let e = report(&[
            "train",
            "--config",
            &format!("{dir}/{config}.train.toml"),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(!out.exists(), "nothing is written for a bad config");
        e
    };
    let e = train("in_blocks_not_divisor");
    assert_annotated(
        &e,
        "in_blocks_not_divisor.train.toml:10",
        "layers[0] (conv1).in_blocks",
        "bnngen::train_config::not_divisor",
    );
    assert_caret_under(&e, "in_blocks = 3");
    insta::assert_snapshot!("train_config_in_blocks_not_divisor", e);

    let e = train("unknown_field");
    assert_annotated(
        &e,
        "unknown_field.train.toml",
        "colour",
        "bnngen::train_config::unknown_field",
    );
    assert_caret_under(&e, "colour = 3");
    insta::assert_snapshot!("train_config_unknown_field", e);

    let e = train("syntax");
    assert_annotated(
        &e,
        "syntax.train.toml",
        "TOML syntax error",
        "bnngen::train_config::syntax",
    );
    insta::assert_snapshot!("train_config_syntax", e);
}

#[test]
fn image_errors_carry_a_code_and_help() {
    let e = report(&[
        "infer",
        "models/tiny.toml",
        "tests/bad_inputs/images_empty.pgm",
    ]);
    assert_annotated(
        &e,
        "images_empty.pgm",
        "images_empty.pgm",
        "bnngen::image::malformed",
    );
    insta::assert_snapshot!("image_empty_pgm", e);

    let e = report(&[
        "infer",
        "tests/bad_inputs/model8.toml",
        "tests/bad_inputs/images_wrong_size.idx",
    ]);
    assert_annotated(
        &e,
        "images_wrong_size.idx",
        "height",
        "bnngen::image::shape",
    );
    insta::assert_snapshot!("image_wrong_size", e);
}
