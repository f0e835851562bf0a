//! `bnngen weights`: the SPRAM weight image of a model, the bytes `synth` writes, refused for
//! a design it does not match, never written over an input, and written whole.

use std::path::Path;
use std::process::{Command, Output};

use bnngen::plan::{fit, HwConfig, WeightStore};
use bnngen::synth::{flash, job, Target};

const TINY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/tiny.toml");

fn bnngen(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bnngen"))
        .arg("weights")
        .args(args)
        .output()
        .unwrap()
}

/// The image and RTL digest `synth --target ice40-up5k --weights spram` builds for tiny.
fn synth_image() -> (Vec<u8>, String) {
    let m = bnngen::model::load(Path::new(TINY)).unwrap();
    let hw = HwConfig {
        weights: Some(WeightStore::Spram),
        ..Target::Ice40Up5k.fold_config()
    };
    let p = fit::fold(&m, &hw).unwrap();
    let d = job::design_with(&m, &p, Target::Ice40Up5k, true).unwrap();
    assert!(!d.spram.is_empty());
    (
        flash::image_bytes(&d.load_image()),
        bnngen::rtl::design_digest(&d),
    )
}

#[test]
fn writes_the_synth_image_and_checks_the_design_digest() {
    let dir = tempfile::TempDir::new().unwrap();
    let sentinel = dir.path().join("keep.txt");
    std::fs::write(&sentinel, "not bnngen's").unwrap();
    let (want, digest) = synth_image();
    let report = dir.path().join("report.json");
    std::fs::write(&report, format!("{{\"rtl_digest\": \"{digest}\"}}")).unwrap();
    let out = dir.path().join("weights.bin");
    let o = bnngen(&[
        Path::new(TINY),
        Path::new("--design"),
        &report,
        Path::new("-o"),
        &out,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(&out).unwrap(), want, "the bytes synth writes");

    // Another folding of the same model is another design: refused, nothing written.
    let hw = dir.path().join("fast.toml");
    std::fs::write(&hw, "fps = 2000000.0\nbest_effort = true\n").unwrap();
    let out2 = dir.path().join("other.bin");
    let args = [
        Path::new(TINY),
        Path::new("--hw"),
        &hw,
        Path::new("--design"),
        &report,
        Path::new("-o"),
        &out2,
    ];
    let o = bnngen(&args);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("report.json") && e.contains("rtl_digest"), "{e}");
    assert!(!out2.exists(), "nothing written on a mismatch");

    // Never over an input: the report given as the output is refused and left as it was.
    let before = std::fs::read(&report).unwrap();
    let o = bnngen(&[
        Path::new(TINY),
        Path::new("--design"),
        &report,
        Path::new("-o"),
        &report,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read(&report).unwrap(), before);

    // A folder as the output is refused; a second run replaces the file whole.
    let o = bnngen(&[Path::new(TINY), Path::new("-o"), dir.path()]);
    assert_eq!(o.status.code(), Some(2));
    std::fs::write(
        &out,
        b"stale bytes of a longer earlier file, to be replaced",
    )
    .unwrap();
    let o = bnngen(&[Path::new(TINY), Path::new("-o"), &out]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(&out).unwrap(), want);
    assert_eq!(std::fs::read_to_string(&sentinel).unwrap(), "not bnngen's");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        names.iter().all(|n| !n.contains("tmp")),
        "no temporary file left: {names:?}"
    );
}
