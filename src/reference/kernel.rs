//! The XNOR-popcount inner loops, compiled several times and picked at run time.
//!
//! The crate builds for the default target (no `-C target-cpu=native`), where `count_ones`
//! lowers to a bit-twiddling sequence. The portable loops are therefore also compiled with
//! `popcnt`, `avx2` and `avx512vpopcntdq` enabled, and the best level the CPU supports is
//! chosen once per process. The tile kernels have hand-written AVX2 and AVX-512 variants
//! (the compiler vectorizes the wrong loop otherwise); unit tests check them against the
//! portable bodies, and `BNNGEN_KERNEL` lets the whole test suite run at a lower level.
//! [`level`] names the level in use so benchmark figures say what they measured.

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
/// fn with the same signature), optionally with hand-written AVX2 and AVX-512 variants.
macro_rules! dispatch {
    ($(#[$doc:meta])* pub fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $body:ident;) => {
        dispatch! {
            $(#[$doc])* pub fn $name($($arg: $ty),*) -> $ret = $body, avx2: $body, avx512: $body;
        }
    };
    ($(#[$doc:meta])* pub fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty
        = $body:ident, avx2: $fast2:path, avx512: $fast:path;) => {
        $(#[$doc])*
        #[inline]
        pub fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "popcnt")]
                fn popcnt($($arg: $ty),*) -> $ret { $body($($arg),*) }
                #[target_feature(enable = "avx2,popcnt")]
                fn avx2($($arg: $ty),*) -> $ret { $fast2($($arg),*) }
                #[target_feature(enable = "avx512f,avx512bw,avx512vpopcntdq,popcnt")]
                fn avx512($($arg: $ty),*) -> $ret { $fast($($arg),*) }
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

/// Output channels per lane group in the transposed row layout of [`tile_counts`].
pub const LANES: usize = 8;

dispatch! {
    /// Mismatch counts of one out-block over its kept tiles. `rows` holds, for each group of
    /// `LANES` output channels, for each tile `t`, `rw` words of `LANES` lanes (word `w` of
    /// channel `l` at `(t * rw + w) * LANES + l` within the group); tile `t` is compared with
    /// the patch at `patches[offsets[t]..][..rw]`. Sets `out[g * LANES + l]` to the channel's
    /// total `popcount(patch ^ row)`. Lanes map to vector lanes: no horizontal sums.
    pub fn tile_counts(patches: &[u64], offsets: &[usize], rw: usize, rows: &[u64], out: &mut [u32]) -> ()
        = tile_counts_body, avx2: x86::tile_counts_avx2, avx512: x86::tile_counts;
}

dispatch! {
    /// As [`tile_counts`], counting only bits set in `valid` (laid out like `patches`).
    pub fn tile_counts_masked(patches: &[u64], valid: &[u64], offsets: &[usize], rw: usize, rows: &[u64], out: &mut [u32]) -> ()
        = tile_counts_masked_body, avx2: x86::tile_counts_masked_avx2, avx512: x86::tile_counts_masked;
}

dispatch! {
    /// The machine's XNOR-popcount peak loop: `reps` passes of `sum popcount(!(a ^ b))` over
    /// two equal word slices (keep them in L1). Returns the sum so the work cannot be elided.
    pub fn xnor_popcount_peak(a: &[u64], b: &[u64], reps: usize) -> u64 = peak_body;
}

#[inline(always)]
fn tile_counts_body(patches: &[u64], offsets: &[usize], rw: usize, rows: &[u64], out: &mut [u32]) {
    let group_len = offsets.len() * rw * LANES;
    debug_assert_eq!(rows.len(), group_len * (out.len() / LANES));
    for (group, o) in rows
        .chunks_exact(group_len)
        .zip(out.chunks_exact_mut(LANES))
    {
        let mut acc = [0u64; LANES];
        for (tile, &off) in group.chunks_exact(rw * LANES).zip(offsets) {
            for (p, w) in patches[off..off + rw].iter().zip(tile.chunks_exact(LANES)) {
                let w: &[u64; LANES] = w.try_into().expect("lane group");
                for l in 0..LANES {
                    acc[l] += u64::from((p ^ w[l]).count_ones());
                }
            }
        }
        for l in 0..LANES {
            o[l] = acc[l] as u32;
        }
    }
}

#[inline(always)]
fn tile_counts_masked_body(
    patches: &[u64],
    valid: &[u64],
    offsets: &[usize],
    rw: usize,
    rows: &[u64],
    out: &mut [u32],
) {
    let group_len = offsets.len() * rw * LANES;
    debug_assert_eq!(rows.len(), group_len * (out.len() / LANES));
    for (group, o) in rows
        .chunks_exact(group_len)
        .zip(out.chunks_exact_mut(LANES))
    {
        let mut acc = [0u64; LANES];
        for (tile, &off) in group.chunks_exact(rw * LANES).zip(offsets) {
            let words = patches[off..off + rw].iter().zip(&valid[off..off + rw]);
            for ((p, v), w) in words.zip(tile.chunks_exact(LANES)) {
                let w: &[u64; LANES] = w.try_into().expect("lane group");
                for l in 0..LANES {
                    acc[l] += u64::from(((p ^ w[l]) & v).count_ones());
                }
            }
        }
        for l in 0..LANES {
            o[l] = acc[l] as u32;
        }
    }
}

dispatch! {
    /// `a[i] = n - 2 * d[i]`: signed sums from mismatch counts.
    pub fn sums_from_mismatches(n: i64, d: &[u32], a: &mut [i64]) -> () = sums_body;
}

dispatch! {
    /// `fire[i] = (((n - 2 * d[i]) ^ m[i]) - m[i] >= b[i])` as 0/1: threshold activations
    /// straight from mismatch counts, with the direction as a sign mask `m` (0 for up, -1 for
    /// down with the bound negated), so `(a ^ m) - m` is `a` or `-a` without a branch.
    pub fn fire_from_mismatches(n: i64, d: &[u32], m: &[i64], b: &[i64], fire: &mut [u8]) -> () = fire_from_mismatches_body;
}

#[inline(always)]
fn fire_from_mismatches_body(n: i64, d: &[u32], m: &[i64], b: &[i64], fire: &mut [u8]) {
    for (f, ((&d, &m), &b)) in fire.iter_mut().zip(d.iter().zip(m).zip(b)) {
        let a = n - 2 * i64::from(d);
        *f = u8::from((a ^ m) - m >= b);
    }
}

#[inline(always)]
fn sums_body(n: i64, d: &[u32], a: &mut [i64]) {
    for (v, &d) in a.iter_mut().zip(d) {
        *v = n - 2 * i64::from(d);
    }
}

/// Hand-written AVX2 and AVX-512 kernels: one output channel per 64-bit vector lane, so the
/// compiler cannot pick the word loop for vectorization instead (it does, and transposes).
///
/// The portable bodies and the AVX-512 kernels repeat one loop (lane groups, tiles, words),
/// plain and masked, on purpose: this is the per-CPU code the dispatcher picks from, each
/// level's word step is other code (`count_ones` on `u64`, 512-bit `vpopcntq`), and the
/// loop has to sit inside the `#[target_feature]` function for its intrinsics to inline.
/// The copies are kept in step by the tests below, which run every variant against the
/// portable body on the same random inputs. (The two AVX2 kernels share one body, the mask
/// an `Option`.)
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::LANES;
    use std::arch::x86_64::*;

    /// Per-byte popcount of a 256-bit vector (nibble lookup).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn byte_counts(x: __m256i) -> __m256i {
        let lut = _mm256_setr_epi8(
            0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2,
            3, 3, 4,
        );
        let low = _mm256_set1_epi8(0x0f);
        let lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(x, low));
        let hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16::<4>(x), low));
        _mm256_add_epi8(lo, hi)
    }

    /// The AVX2 body shared by the plain and masked kernels: lanes 0-3 and 4-7 in two
    /// vectors, byte counts summed for up to 31 words (31 * 8 < 256) before widening.
    #[inline]
    #[target_feature(enable = "avx2,popcnt")]
    fn tile_counts_avx2_impl(
        patches: &[u64],
        valid: Option<&[u64]>,
        offsets: &[usize],
        rw: usize,
        rows: &[u64],
        out: &mut [u32],
    ) {
        let group_len = offsets.len() * rw * LANES;
        assert_eq!(rows.len(), group_len * (out.len() / LANES));
        let zero = _mm256_setzero_si256();
        for (group, o) in rows
            .chunks_exact(group_len)
            .zip(out.chunks_exact_mut(LANES))
        {
            let (mut tot0, mut tot1) = (zero, zero);
            let (mut b0, mut b1) = (zero, zero);
            let mut pending = 0;
            for (tile, &off) in group.chunks_exact(rw * LANES).zip(offsets) {
                for w in 0..rw {
                    let p = _mm256_set1_epi64x(patches[off + w] as i64);
                    let lanes = &tile[w * LANES..w * LANES + LANES];
                    // SAFETY: `lanes` holds 8 words: two unaligned 256-bit loads.
                    let (w0, w1) = unsafe {
                        (
                            _mm256_loadu_si256(lanes.as_ptr().cast()),
                            _mm256_loadu_si256(lanes.as_ptr().add(4).cast()),
                        )
                    };
                    let (mut x0, mut x1) = (_mm256_xor_si256(p, w0), _mm256_xor_si256(p, w1));
                    if let Some(v) = valid {
                        let v = _mm256_set1_epi64x(v[off + w] as i64);
                        x0 = _mm256_and_si256(x0, v);
                        x1 = _mm256_and_si256(x1, v);
                    }
                    b0 = _mm256_add_epi8(b0, byte_counts(x0));
                    b1 = _mm256_add_epi8(b1, byte_counts(x1));
                    pending += 1;
                    if pending == 31 {
                        tot0 = _mm256_add_epi64(tot0, _mm256_sad_epu8(b0, zero));
                        tot1 = _mm256_add_epi64(tot1, _mm256_sad_epu8(b1, zero));
                        (b0, b1, pending) = (zero, zero, 0);
                    }
                }
            }
            tot0 = _mm256_add_epi64(tot0, _mm256_sad_epu8(b0, zero));
            tot1 = _mm256_add_epi64(tot1, _mm256_sad_epu8(b1, zero));
            let mut lanes = [0u64; LANES];
            // SAFETY: `lanes` holds 8 u64 (64 bytes): two unaligned 256-bit stores.
            unsafe {
                _mm256_storeu_si256(lanes.as_mut_ptr().cast(), tot0);
                _mm256_storeu_si256(lanes.as_mut_ptr().add(4).cast(), tot1);
            }
            for (o, l) in o.iter_mut().zip(lanes) {
                *o = l as u32;
            }
        }
    }

    #[target_feature(enable = "avx2,popcnt")]
    pub fn tile_counts_avx2(
        patches: &[u64],
        offsets: &[usize],
        rw: usize,
        rows: &[u64],
        out: &mut [u32],
    ) {
        tile_counts_avx2_impl(patches, None, offsets, rw, rows, out)
    }

    #[target_feature(enable = "avx2,popcnt")]
    pub fn tile_counts_masked_avx2(
        patches: &[u64],
        valid: &[u64],
        offsets: &[usize],
        rw: usize,
        rows: &[u64],
        out: &mut [u32],
    ) {
        tile_counts_avx2_impl(patches, Some(valid), offsets, rw, rows, out)
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vpopcntdq,popcnt")]
    pub fn tile_counts(
        patches: &[u64],
        offsets: &[usize],
        rw: usize,
        rows: &[u64],
        out: &mut [u32],
    ) {
        let group_len = offsets.len() * rw * LANES;
        assert_eq!(rows.len(), group_len * (out.len() / LANES));
        for &off in offsets {
            assert!(off + rw <= patches.len());
        }
        // Two lane groups per pass share each patch-word broadcast.
        let mut pairs = rows.chunks_exact(2 * group_len);
        let mut outs = out.chunks_exact_mut(2 * LANES);
        for (pair, o) in (&mut pairs).zip(&mut outs) {
            let (ga, gb) = pair.split_at(group_len);
            let (mut acc0, mut acc1) = (_mm512_setzero_si512(), _mm512_setzero_si512());
            for (t, &off) in offsets.iter().enumerate() {
                let ta = &ga[t * rw * LANES..(t + 1) * rw * LANES];
                let tb = &gb[t * rw * LANES..(t + 1) * rw * LANES];
                for (w, &p) in patches[off..off + rw].iter().enumerate() {
                    let p = _mm512_set1_epi64(p as i64);
                    // SAFETY: `ta` and `tb` hold `rw * LANES` words each.
                    let (wa, wb) = unsafe {
                        (
                            _mm512_loadu_si512(ta.as_ptr().add(w * LANES).cast()),
                            _mm512_loadu_si512(tb.as_ptr().add(w * LANES).cast()),
                        )
                    };
                    acc0 = _mm512_add_epi64(acc0, _mm512_popcnt_epi64(_mm512_xor_si512(p, wa)));
                    acc1 = _mm512_add_epi64(acc1, _mm512_popcnt_epi64(_mm512_xor_si512(p, wb)));
                }
            }
            // SAFETY: `o` holds exactly 2 * LANES = 16 u32 values (64 bytes).
            unsafe {
                _mm256_storeu_si256(o.as_mut_ptr().cast(), _mm512_cvtepi64_epi32(acc0));
                _mm256_storeu_si256(
                    o.as_mut_ptr().add(LANES).cast(),
                    _mm512_cvtepi64_epi32(acc1),
                );
            }
        }
        for (group, o) in pairs
            .remainder()
            .chunks_exact(group_len)
            .zip(outs.into_remainder().chunks_exact_mut(LANES))
        {
            let mut acc = _mm512_setzero_si512();
            for (tile, &off) in group.chunks_exact(rw * LANES).zip(offsets) {
                let patch = &patches[off..off + rw];
                for (w, &p) in patch.iter().enumerate() {
                    // SAFETY: `tile` holds `rw * LANES` words, so lanes w*8..w*8+8 are in bounds.
                    let wv = unsafe { _mm512_loadu_si512(tile.as_ptr().add(w * LANES).cast()) };
                    let x = _mm512_xor_si512(_mm512_set1_epi64(p as i64), wv);
                    acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
                }
            }
            let narrow = _mm512_cvtepi64_epi32(acc);
            // SAFETY: `o` holds exactly LANES = 8 u32 values (32 bytes).
            unsafe { _mm256_storeu_si256(o.as_mut_ptr().cast(), narrow) };
        }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vpopcntdq,popcnt")]
    pub fn tile_counts_masked(
        patches: &[u64],
        valid: &[u64],
        offsets: &[usize],
        rw: usize,
        rows: &[u64],
        out: &mut [u32],
    ) {
        let group_len = offsets.len() * rw * LANES;
        assert_eq!(rows.len(), group_len * (out.len() / LANES));
        for (group, o) in rows
            .chunks_exact(group_len)
            .zip(out.chunks_exact_mut(LANES))
        {
            let mut acc = _mm512_setzero_si512();
            for (tile, &off) in group.chunks_exact(rw * LANES).zip(offsets) {
                let words = patches[off..off + rw].iter().zip(&valid[off..off + rw]);
                for (w, (&p, &v)) in words.enumerate() {
                    // SAFETY: `tile` holds `rw * LANES` words.
                    let wv = unsafe { _mm512_loadu_si512(tile.as_ptr().add(w * LANES).cast()) };
                    let x = _mm512_xor_si512(_mm512_set1_epi64(p as i64), wv);
                    let x = _mm512_and_si512(x, _mm512_set1_epi64(v as i64));
                    acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
                }
            }
            let narrow = _mm512_cvtepi64_epi32(acc);
            // SAFETY: `o` holds exactly LANES = 8 u32 values (32 bytes).
            unsafe { _mm256_storeu_si256(o.as_mut_ptr().cast(), narrow) };
        }
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
        // Two tiles of two words; patches at offsets 2 and 0. Channel 0's rows: tile 0 =
        // (0b0001, !0), tile 1 = (0, 0); channel 1's rows are zero.
        let patches = [0b0110u64, 0, 0b1011, !0];
        let mut rows = [0u64; 2 * 2 * LANES];
        rows[0] = 0b0001;
        rows[LANES] = !0;
        let mut out = [0u32; LANES];
        tile_counts(&patches, &[2, 0], 2, &rows, &mut out);
        // Channel 0: 2 + 0 (tile 0) + 2 (tile 1); channel 1: 3 + 64 + 2.
        assert_eq!(out[..2], [4, 69]);
        let valid = [!0u64, 0, 0b11, 0];
        tile_counts_masked(&patches, &valid, &[2, 0], 2, &rows, &mut out);
        assert_eq!(out[..2], [1 + 2, 2 + 2]);
        assert_eq!(xnor_popcount_peak(&[0], &[0], 1), 64);
    }

    /// The dispatched variant in use (AVX-512 where available) agrees with the portable body.
    #[test]
    fn dispatched_kernels_agree_with_the_portable_bodies() {
        let mut r = crate::prng::SplitMix64::new(5);
        for rw in [1usize, 2, 5, 9, 17, 40] {
            for tiles in 1..=3usize {
                let groups = 3;
                let patches: Vec<u64> = (0..4 * rw).map(|_| r.next_u64()).collect();
                let valid: Vec<u64> = (0..4 * rw).map(|_| r.next_u64()).collect();
                let offsets: Vec<usize> = (0..tiles).map(|t| (3 - t) * rw).collect();
                let rows: Vec<u64> = (0..groups * tiles * rw * LANES)
                    .map(|_| r.next_u64())
                    .collect();
                let (mut fast, mut slow) = ([0u32; 24], [0u32; 24]);
                tile_counts(&patches, &offsets, rw, &rows, &mut fast);
                tile_counts_body(&patches, &offsets, rw, &rows, &mut slow);
                assert_eq!(fast, slow, "rw {rw} tiles {tiles}");
                tile_counts_masked(&patches, &valid, &offsets, rw, &rows, &mut fast);
                tile_counts_masked_body(&patches, &valid, &offsets, rw, &rows, &mut slow);
                assert_eq!(fast, slow, "masked rw {rw} tiles {tiles}");
                #[cfg(target_arch = "x86_64")]
                if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("popcnt") {
                    // SAFETY: the features were just detected.
                    unsafe { x86::tile_counts_avx2(&patches, &offsets, rw, &rows, &mut fast) };
                    tile_counts_body(&patches, &offsets, rw, &rows, &mut slow);
                    assert_eq!(fast, slow, "avx2 rw {rw} tiles {tiles}");
                    let v = &valid;
                    // SAFETY: as above.
                    unsafe {
                        x86::tile_counts_masked_avx2(&patches, v, &offsets, rw, &rows, &mut fast)
                    };
                    tile_counts_masked_body(&patches, v, &offsets, rw, &rows, &mut slow);
                    assert_eq!(fast, slow, "avx2 masked rw {rw} tiles {tiles}");
                }
            }
        }
    }
}
