//! The `taps` fold in plan and hardware files: legal counts, the cycle formula, files without
//! the field, and the error for an illegal count.

use super::*;
use std::path::Path;

fn tiny() -> Model {
    crate::model::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models/tiny.toml")).unwrap()
}

#[test]
fn legal_tap_counts_are_row_runs_or_whole_rows() {
    assert_eq!(tap_counts(3, 3), vec![1, 3, 9]);
    assert_eq!(tap_counts(3, 5), vec![1, 5, 15]);
    assert_eq!(tap_counts(2, 4), vec![1, 2, 4, 8]);
    assert_eq!(tap_shape(3, 3, 9), Some((3, 3)));
    assert_eq!(tap_shape(2, 4, 2), Some((1, 2)));
    assert_eq!(tap_shape(3, 3, 6), None);
    assert_eq!(tap_shape(3, 3, 0), None);
}

#[test]
fn taps_divide_the_steps_and_multiply_the_buffer() {
    let m = tiny();
    let i = m.layer_index("conv1").unwrap();
    let (c1, _, b1, _) = layer_cost(&m, i, Fold::lanes(1, 1), Handoff::Skid);
    let (c9, _, b9, _) = layer_cost(
        &m,
        i,
        Fold {
            pe: 1,
            simd: 1,
            taps: 9,
        },
        Handoff::Skid,
    );
    assert_eq!(c1, 9 * c9);
    assert_eq!(b9, 9 * b1);
    let e = check_fold(
        &m,
        i,
        Fold {
            pe: 1,
            simd: 1,
            taps: 2,
        },
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("taps 2 must be one of [1, 3, 9]"),
        "{e}"
    );
}

/// Files without `taps` mean 1, and a plan at one tap per cycle is written without it, so
/// files from before the field keep their bytes; a plan with taps round-trips.
#[test]
fn taps_in_files() {
    let f: Fold = toml::from_str("pe = 2\nsimd = 1\n").unwrap();
    assert_eq!(f, Fold::lanes(2, 1));
    let m = tiny();
    let plan = set_folding(&m, &HwConfig::default()).unwrap();
    assert!(!toml::to_string(&plan).unwrap().contains("taps"));
    let mut hw = HwConfig::default();
    hw.layers.insert(
        "conv1".into(),
        Fold {
            pe: 1,
            simd: 1,
            taps: 3,
        },
    );
    let plan = set_folding(&m, &hw).unwrap();
    assert_eq!(plan.layers[0].taps, 3);
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("plan.toml");
    std::fs::write(&path, toml::to_string(&plan).unwrap()).unwrap();
    assert_eq!(load_plan(&m, &path).unwrap(), plan);
}

#[test]
fn an_illegal_tap_count_names_file_line_and_field() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("hw.toml");
    std::fs::write(&path, "[layers.conv1]\npe = 1\nsimd = 1\ntaps = 4\n").unwrap();
    let e = fold_hw_file(&tiny(), &path).unwrap_err().to_string();
    assert!(
        e.contains("hw.toml:4: layers.conv1.taps: taps 4 must be one of [1, 3, 9]"),
        "{e}"
    );
}
