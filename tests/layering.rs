//! The layers of `src/` depend one way (docs/architecture.md, "Allowed directions"): each
//! top-level module may name only the modules listed for it here, and no two files of one
//! folder import each other. A new back edge (say `model` using `rtl`, or `pnm.rs` and
//! `raster.rs` using each other again) fails this test with the file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// What each top-level module of the library may name (besides itself). Keep in step with
/// the diagram in docs/architecture.md.
const ALLOWED: &[(&str, &[&str])] = &[
    ("prng", &[]),
    ("output", &[]),
    ("model", &["prng"]),
    ("sensor", &["model", "prng"]),
    ("qonnx", &["model"]),
    ("input", &["model", "sensor", "prng"]),
    ("reference", &["model", "prng"]),
    ("plan", &["model", "output"]),
    ("random", &["model", "reference", "prng"]),
    ("rtl", &["model", "plan", "output"]),
    ("tools", &["output"]),
    (
        "verify",
        &[
            "model",
            "input",
            "sensor",
            "reference",
            "plan",
            "rtl",
            "tools",
            "prng",
            "output",
            "random",
        ],
    ),
    (
        "synth",
        &[
            "model", "input", "plan", "rtl", "tools", "verify", "output", "prng",
        ],
    ),
    ("report", &["model", "plan", "output"]),
    (
        "flow",
        &[
            "model",
            "input",
            "sensor",
            "reference",
            "plan",
            "rtl",
            "tools",
            "verify",
            "synth",
            "report",
            "output",
            "prng",
            "random",
        ],
    ),
    (
        "train",
        &["model", "input", "sensor", "reference", "output", "prng"],
    ),
];

/// Sibling files that still import each other, each to be split like the others were. Empty:
/// a new pair fails the test until it is split too.
const KNOWN_FILE_LOOPS: &[(&str, &str)] = &[];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Code lines of a file (comments dropped), numbered from 1.
fn code_lines(path: &Path) -> Vec<(usize, String)> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

/// The identifiers that follow `prefix` in `line` (`crate::model::X` gives `model`).
fn names_after<'a>(line: &'a str, prefix: &str) -> Vec<&'a str> {
    line.match_indices(prefix)
        .map(|(i, _)| {
            let rest = &line[i + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|n| !n.is_empty())
        .collect()
}

/// The top-level module a library file belongs to: `src/rtl/window/mac.rs` -> `rtl`.
fn top_module(file: &Path) -> Option<String> {
    let rel = file.strip_prefix("src").ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    Some(first.trim_end_matches(".rs").to_string())
}

#[test]
fn modules_import_only_the_layers_below_them() {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(m, deps)| (*m, deps.iter().copied().collect()))
        .collect();
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    files.sort();
    let mut back_edges = Vec::new();
    for file in &files {
        let Some(module) = top_module(file) else {
            continue;
        };
        // The binary's command line and the crate roots may name every layer.
        if ["cli", "main", "lib"].contains(&module.as_str()) {
            continue;
        }
        let Some(ok) = allowed.get(module.as_str()) else {
            panic!(
                "{}: module `{module}` is not in the allow-list of tests/layering.rs; add it \
                 there and to the diagram in docs/architecture.md",
                file.display()
            );
        };
        for (n, line) in code_lines(file) {
            for used in names_after(&line, "crate::") {
                if used != module && !ok.contains(used) {
                    back_edges.push(format!("{}:{n}: `{module}` uses `{used}`", file.display()));
                }
            }
        }
    }
    assert!(
        back_edges.is_empty(),
        "imports against the allowed directions:\n{}",
        back_edges.join("\n")
    );
}

#[test]
fn no_two_files_of_a_folder_import_each_other() {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    // (file, sibling it names through `super::`), both as paths.
    let mut edges: BTreeSet<(PathBuf, PathBuf)> = BTreeSet::new();
    for file in &files {
        // A folder's mod.rs stands for the folder: `super::` there names the folder's
        // siblings, one level up.
        let dir = if file.file_name().is_some_and(|f| f == "mod.rs") {
            file.parent().unwrap().parent().unwrap()
        } else {
            file.parent().unwrap()
        };
        for (_, line) in code_lines(file) {
            let mut names = names_after(&line, "super::");
            // `use super::{a, b::C}`: every name in the braces.
            if let Some(i) = line.find("super::{") {
                let inner = &line[i + "super::{".len()..];
                let inner = inner.split('}').next().unwrap_or("");
                names.extend(
                    inner
                        .split(',')
                        .map(|s| s.trim().split("::").next().unwrap()),
                );
            }
            for name in names {
                let sibling = dir.join(format!("{name}.rs"));
                let sibling_dir = dir.join(name).join("mod.rs");
                for s in [sibling, sibling_dir] {
                    if s.exists() && &s != file {
                        edges.insert((file.clone(), s));
                    }
                }
            }
        }
    }
    let known: BTreeSet<(PathBuf, PathBuf)> = KNOWN_FILE_LOOPS
        .iter()
        .map(|(a, b)| (PathBuf::from(a), PathBuf::from(b)))
        .collect();
    let mut loops = Vec::new();
    for (a, b) in &edges {
        if a < b
            && edges.contains(&(b.clone(), a.clone()))
            && !known.contains(&(a.clone(), b.clone()))
        {
            loops.push(format!("{} <-> {}", a.display(), b.display()));
        }
    }
    assert!(
        loops.is_empty(),
        "files that import each other (move the shared piece to a file both use):\n{}",
        loops.join("\n")
    );
}

/// The checks above must see a back edge: a made-up file that names a higher layer is caught.
#[test]
fn the_checker_sees_a_back_edge() {
    let line = "use crate::rtl::netlist::Expr; let x = crate::model::Shape::default();";
    assert_eq!(names_after(line, "crate::"), vec!["rtl", "model"]);
    let ok: BTreeSet<&str> = ALLOWED
        .iter()
        .find(|(m, _)| *m == "model")
        .unwrap()
        .1
        .iter()
        .copied()
        .collect();
    assert!(!ok.contains("rtl"), "model must not be allowed to use rtl");
    assert_eq!(
        top_module(Path::new("src/rtl/window/mac.rs")).as_deref(),
        Some("rtl")
    );
}
