//! Model text -> check -> plan -> generate (no simulator): any input may be rejected with a
//! diagnostic, none may panic, hang or allocate without bound. Crashes found here become
//! files in tests/fuzz_regressions/, replayed by tests/fuzz_regressions.rs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bnngen_fuzz_one(data);
});

fn bnngen_fuzz_one(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(model) = bnngen::model::parse(text, "fuzz") else {
        return;
    };
    let _ = model.summary();
    let Ok(plan) = bnngen::plan::set_folding(&model, &bnngen::plan::HwConfig::default()) else {
        return;
    };
    let _ = bnngen::rtl::generate(&model, &plan, bnngen::rtl::GenOptions::default());
}
