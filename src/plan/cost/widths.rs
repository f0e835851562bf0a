//! Bit widths of counters, addresses and sums: one definition for the RTL, which sizes its
//! signals by them, and the cost model, which counts the same signals.

/// Width of an address that indexes `depth` entries (at least 1).
pub fn addr_width(depth: usize) -> u32 {
    bits_for(depth.saturating_sub(1) as u64)
}

/// Bits needed to hold the unsigned value `v` (at least 1).
pub fn bits_for(v: u64) -> u32 {
    (64 - v.leading_zeros()).max(1)
}

/// Bits of a two's-complement number that holds every value in `lo..=hi`.
pub fn signed_bits_for(lo: i64, hi: i64) -> u32 {
    let mut w = 1;
    while !((-(1i128 << (w - 1))) <= lo as i128 && (hi as i128) < (1i128 << (w - 1))) {
        w += 1;
    }
    w
}

/// Width of a pop count of `n` inputs.
pub fn popcount_width(n: u32) -> u32 {
    if n == 1 {
        1
    } else {
        1 + bits_for(n as u64 - 1)
    }
}
