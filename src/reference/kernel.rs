//! The XNOR-popcount inner loops, compiled several times and picked at run time.
//!
//! The crate builds for the default target (no `-C target-cpu=native`), where `count_ones`
//! lowers to a bit-twiddling sequence. The same portable loop is therefore also compiled with
//! `popcnt`, `avx2` and `avx512vpopcntdq` enabled, and the best one the CPU supports is chosen
//! once per process. All variants are the same source, so they agree to the bit; only speed
//! differs. [`level`] names the variant in use so benchmark figures say what they measured.

use std::sync::OnceLock;

/// Instruction-set level of the kernels in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Portable,
    Popcnt,
    Avx2,
    Avx512,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Portable => "portable (no popcnt)",
            Level::Popcnt => "x86-64 popcnt",
            Level::Avx2 => "x86-64 avx2+popcnt",
            Level::Avx512 => "x86-64 avx512 vpopcntdq",
        }
    }
}

/// The kernel level chosen for this CPU (detected once). `BNNGEN_KERNEL=portable|popcnt|avx2`
/// caps it, to compare levels or to reproduce a slower machine.
pub fn level() -> Level {
    static LEVEL: OnceLock<Level> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let best = detect();
        let cap = match std::env::var("BNNGEN_KERNEL").as_deref() {
            Ok("portable") => Level::Portable,
            Ok("popcnt") => Level::Popcnt,
            Ok("avx2") => Level::Avx2,
            _ => Level::Avx512,
        };
        let rank = |l: Level| l as u8;
        if rank(cap) < rank(best) {
            cap
        } else {
            best
        }
    })
}

#[cfg(target_arch = "x86_64")]
fn detect() -> Level {
    if is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512vpopcntdq")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("popcnt")
    {
        Level::Avx512
    } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("popcnt") {
        Level::Avx2
    } else if is_x86_feature_detected!("popcnt") {
        Level::Popcnt
    } else {
        Level::Portable
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn detect() -> Level {
    Level::Portable
}

/// Defines a public dispatcher `$name` over the portable body `$body` (an `#[inline(always)]`
/// fn with the same signature).
macro_rules! dispatch {
    ($(#[$doc:meta])* pub fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $body:ident;) => {
        $(#[$doc])*
        #[inline]
        pub fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "popcnt")]
                fn popcnt($($arg: $ty),*) -> $ret { $body($($arg),*) }
                #[target_feature(enable = "avx2,popcnt")]
                fn avx2($($arg: $ty),*) -> $ret { $body($($arg),*) }
                #[target_feature(enable = "avx512f,avx512bw,avx512vpopcntdq,popcnt")]
                fn avx512($($arg: $ty),*) -> $ret { $body($($arg),*) }
                // SAFETY: each variant is only called when `level()` detected its features.
                unsafe {
                    match level() {
                        Level::Avx512 => return avx512($($arg),*),
                        Level::Avx2 => return avx2($($arg),*),
                        Level::Popcnt => return popcnt($($arg),*),
                        Level::Portable => {}
                    }
                }
            }
            $body($($arg),*)
        }
    };
}

dispatch! {
    /// `out[j] = popcount(patch ^ row_j)` for consecutive rows of `patch.len()` words.
    pub fn xor_counts(patch: &[u64], rows: &[u64], out: &mut [u32]) -> () = xor_counts_body;
}

dispatch! {
    /// `out[j] = popcount((patch ^ row_j) & valid)` for consecutive rows of `patch.len()` words.
    pub fn xor_counts_masked(patch: &[u64], valid: &[u64], rows: &[u64], out: &mut [u32]) -> () = xor_counts_masked_body;
}

dispatch! {
    /// The machine's XNOR-popcount peak loop: `reps` passes of `sum popcount(!(a ^ b))` over
    /// two equal word slices (keep them in L1). Returns the sum so the work cannot be elided.
    pub fn xnor_popcount_peak(a: &[u64], b: &[u64], reps: usize) -> u64 = peak_body;
}

#[inline(always)]
fn xor_counts_body(patch: &[u64], rows: &[u64], out: &mut [u32]) {
    let rw = patch.len();
    debug_assert_eq!(rows.len(), rw * out.len());
    for (row, o) in rows.chunks_exact(rw).zip(out.iter_mut()) {
        let mut s = 0u32;
        for (a, b) in patch.iter().zip(row) {
            s += (a ^ b).count_ones();
        }
        *o = s;
    }
}

#[inline(always)]
fn xor_counts_masked_body(patch: &[u64], valid: &[u64], rows: &[u64], out: &mut [u32]) {
    let rw = patch.len();
    debug_assert_eq!(rows.len(), rw * out.len());
    for (row, o) in rows.chunks_exact(rw).zip(out.iter_mut()) {
        let mut s = 0u32;
        for ((a, b), v) in patch.iter().zip(row).zip(valid) {
            s += ((a ^ b) & v).count_ones();
        }
        *o = s;
    }
}

#[inline(always)]
fn peak_body(a: &[u64], b: &[u64], reps: usize) -> u64 {
    let mut total = 0u64;
    for r in 0..reps {
        let mut s = 0u64;
        for (x, y) in a.iter().zip(b) {
            s += u64::from((!(x ^ y)).count_ones());
        }
        // Fold in the pass index so the passes are not merged into one.
        total = total.wrapping_add(s ^ r as u64);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_count_mismatches() {
        let patch = [0b1011u64, !0];
        let rows = [0b0001u64, !0, 0, 0];
        let mut out = [0u32; 2];
        xor_counts(&patch, &rows, &mut out);
        assert_eq!(out, [2, 3 + 64]);
        xor_counts_masked(&patch, &[0b11, 0], &rows, &mut out);
        assert_eq!(out, [1, 2]);
        assert_eq!(xnor_popcount_peak(&[0], &[0], 1), 64);
    }
}
