//! Helpers shared by integration tests (each test binary that needs them says `mod common;`).

/// `n / 4` hex digits from a fixed LCG seeded with `salt`: weight strings for hand-written
/// test models that are arbitrary but the same on every run.
pub fn pattern_hex(n: usize, salt: u64) -> String {
    let mut x = salt;
    (0..n / 4)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            char::from_digit(((x >> 60) & 15) as u32, 16).unwrap()
        })
        .collect()
}
