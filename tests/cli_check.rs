//! `bnngen check` through the binary: exit codes, the table, the JSON report against the
//! library's own figures, and `--help` on every subcommand.

use std::path::Path;
use std::process::{Command, Output};

use bnngen::model::{self, Model};
use serde_json::Value;

fn bnngen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bnngen"))
        .args(args)
        .output()
        .expect("run bnngen")
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).expect("utf-8 output")
}

#[test]
fn valid_model_prints_a_table_with_every_layer_and_the_totals() {
    let out = bnngen(&["check", "models/tiny.toml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let m = model::load(Path::new("models/tiny.toml")).unwrap();
    let s = m.summary();
    for l in &m.layers {
        let row = stdout
            .lines()
            .find(|line| line.split_whitespace().nth(1) == Some(l.name.as_str()))
            .unwrap_or_else(|| panic!("no row for {}:\n{stdout}", l.name));
        assert!(row.contains(l.kind.tag()), "{row}");
        assert!(row.contains(&l.output.to_string()), "{row}");
        if let Some(w) = l.kind.weights() {
            let tiles = format!("{}/{}", w.kept_tiles(), w.total_tiles());
            assert!(row.contains(&tiles), "{row}");
            assert!(row.contains(&Model::layer_macs(l).to_string()), "{row}");
        }
    }
    assert!(stdout.contains(&format!(
        "binary MACs per frame: {}",
        s.binary_macs_per_frame
    )));
    assert!(stdout.contains(&format!(
        "{} stored of {} dense",
        s.weight_bits_stored, s.weight_bits_dense
    )));
    assert!(
        stdout.contains("front end glt, M = 3 planes per channel, 3 comparators"),
        "{stdout}"
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn json_report_matches_the_library() {
    let out = bnngen(&["check", "models/tiny.toml", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let j: Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let m = model::load(Path::new("models/tiny.toml")).unwrap();
    assert_eq!(j["format_version"], 1);
    assert_eq!(j["name"], "tiny");
    assert_eq!(j["input"]["bits"], 4);
    assert_eq!(j["front_end"]["kind"], "glt");
    assert_eq!(j["front_end"]["levels"], 3);
    assert_eq!(j["front_end"]["comparators"], 3);
    assert_eq!(j["front_end"]["output"]["channels"], 3);
    assert_eq!(j["classes"], 3);
    assert_eq!(j["class_names"], serde_json::json!(["a", "b", "c"]));
    let layers = j["layers"].as_array().unwrap();
    assert_eq!(layers.len(), m.layers.len());
    for (i, (jl, l)) in layers.iter().zip(&m.layers).enumerate() {
        assert_eq!(jl["index"], i);
        assert_eq!(jl["name"], l.name.as_str());
        assert_eq!(jl["kind"], l.kind.tag());
        assert_eq!(jl["input"]["height"], l.input.height);
        assert_eq!(jl["output"]["channels"], l.output.channels);
        assert_eq!(jl["binary_macs_per_frame"], Model::layer_macs(l));
        let stored = l.kind.weights().map_or(0, |w| w.stored_bits());
        assert_eq!(jl["weight_bits_stored"], stored);
        if i + 1 < layers.len() {
            assert_eq!(jl["output"], layers[i + 1]["input"], "shapes chain");
        }
    }
    let s = m.summary();
    assert_eq!(j["totals"], serde_json::to_value(&s).unwrap());
    // conv2 keeps 3 of its 4 tiles: the stored bits are below the dense count.
    assert_eq!(layers[1]["kept_tiles"], 3);
    assert_eq!(layers[1]["total_tiles"], 4);
    assert!(s.weight_bits_stored < s.weight_bits_dense);
}

#[test]
fn output_is_deterministic() {
    let a = bnngen(&["check", "models/tiny.toml", "--json"]);
    let b = bnngen(&["check", "models/tiny.toml", "--json"]);
    assert_eq!(a.stdout, b.stdout);
    let a = bnngen(&["check", "models/tiny.toml"]);
    let b = bnngen(&["check", "models/tiny.toml"]);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn invalid_or_missing_model_exits_2_with_nothing_on_stdout() {
    for args in [
        &["check", "tests/bad_models/several_errors.toml"][..],
        &["check", "tests/bad_models/several_errors.toml", "--json"],
        &["check", "tests/bad_models/no_such_file.toml"],
    ] {
        let out = bnngen(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let stderr = text(&out.stderr);
        // A code first, then the message naming the file (tests/diagnostics_rendered.rs
        // pins the whole report).
        assert!(stderr.starts_with("bnngen::model::"), "{stderr}");
        assert!(stderr.contains("x tests/bad_models/"), "{stderr}");
    }
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(bnngen(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(bnngen(&["check"]).status.code(), Some(2));
    assert_eq!(
        bnngen(&["check", "models/tiny.toml", "--bogus"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn every_subcommand_has_help() {
    let out = bnngen(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let top = text(&out.stdout);
    let subs: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .filter(|s| s != "help")
        .collect();
    for s in ["check", "infer", "random-model"] {
        assert!(
            subs.iter().any(|x| x == s),
            "{s} missing from --help:\n{top}"
        );
    }
    // The command list is a list: one summary line per command, no paragraph.
    let list: Vec<&str> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    for l in &list {
        assert!(l.len() <= 100, "a paragraph in the command list:\n{l}");
    }
    for s in &subs {
        let out = bnngen(&[s, "--help"]);
        assert_eq!(out.status.code(), Some(0), "{s} --help");
        let help = text(&out.stdout);
        assert!(help.contains(&format!("Usage: bnngen {s}")), "{help}");
        // A description of more than the one-line summary.
        assert!(help.lines().count() > 8, "{s} --help is too thin:\n{help}");
    }
}

#[test]
fn simulate_without_inputs_names_both_ways_to_give_them() {
    let out = bnngen(&["simulate", "models/tiny.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--images"), "{stderr}");
    assert!(stderr.contains("--random"), "{stderr}");
}
