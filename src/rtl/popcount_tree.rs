//! Pop counts as compressor trees of carry-chain row adders, shaped for LUT4 + carry fabrics
//! (iCE40) and written so that Yosys keeps the shape (issue #4).
//!
//! Why: left to itself, Yosys turns a `+` chain into one `$macc` and maps it to a tree of LUT
//! full adders, about 2 LUT4 per reduced bit (2.7 LUT4 per XNOR lane with the XNOR). A
//! carry-chain row adder `A + B + ci` of two k-bit numbers costs k LUT4 (one per sum bit; the
//! carry cells are free and the carry-out is the top bit) and removes k bits, so it reduces at
//! 1 LUT4 per bit. The tree here is therefore:
//!
//! 1. *Leaves*, one LUT4 per input lane or less:
//!    - `xnor_popcount`: pairs of lanes `(a0, w0, a1, w1)` become the 2-bit number
//!      `{x0 & x1, x0 ^ x1}` (x = XNOR; two LUT4, both 4-input, so the XNOR is absorbed), and
//!      about a third of the lanes stay *singles* (`x`, one LUT4 each);
//!    - `popcount` (bits already computed, e.g. registered XNORs): groups of three bits become
//!      the 2-bit number `{maj, xor}` (a LUT full adder), about a quarter stay singles.
//! 2. *Rounds* of row adders: numbers sorted by their largest value, paired, and each pair
//!    added with one single as the carry-in, so singles cost no extra LUT. Leaves are chosen so
//!    that there is at most one single per adder.
//!
//! Keeping the shape: Yosys's `alumacc` merges an adder whose output feeds another adder
//! *exactly* into one `$macc` (it ignores `keep`), which undoes the tree. Column 0 of an
//! addition is commutative, so each adder swaps bit 0 of its two operands: the operands are no
//! longer exactly a previous adder's output, nothing is merged, and the sum is unchanged.
//!
//! `popcount` (which picks the tree from 4 bits on, else `popcount_adders`) and
//! `xnor_popcount` keep one contract: `stages` pipeline registers spread over
//! the levels (leaves, then one level per round), enabled by `en`; the result has
//! `popcount_width(n)` bits; the latency in cycles is returned.

use super::build::sig_of;
use super::netlist::{bits_for, Expr, ModuleBuilder, Stmt};
use std::collections::VecDeque;

/// A partial count: 1-bit expressions, LSB first, and the largest value it can take.
#[derive(Debug, Clone)]
struct Num {
    bits: Vec<Expr>,
    max: u64,
}

impl Num {
    fn value(&self, width: u32) -> Expr {
        Expr::cat_lsb(self.bits.clone()).zext(width)
    }
}

/// Materialize `e` as a named wire and return its bits.
fn bits_of(b: &mut ModuleBuilder, name: &str, e: Expr) -> Vec<Expr> {
    let w = e.width;
    let nm = b.fresh(name);
    let s = b.let_(&nm, e);
    let sig = sig_of(b, &s);
    (0..w).map(|i| b.bit(sig, i)).collect()
}

/// `x + y + z` as one carry-chain row adder (bit 0 of the operands swapped, see the module
/// doc).
fn row_add(b: &mut ModuleBuilder, mut x: Num, mut y: Num, z: Option<Expr>, name: &str) -> Num {
    let max = x.max + y.max + u64::from(z.is_some());
    let w = bits_for(max);
    std::mem::swap(&mut x.bits[0], &mut y.bits[0]);
    let mut sum = x.value(w).add(y.value(w));
    if let Some(z) = z {
        sum = sum.add(z.zext(w));
    }
    Num {
        bits: bits_of(b, name, sum),
        max,
    }
}

/// Register every live value of the tree behind `en` (one pipeline stage).
fn register(
    b: &mut ModuleBuilder,
    nums: Vec<Num>,
    singles: VecDeque<Expr>,
    en: &Expr,
    name: &str,
) -> (Vec<Num>, VecDeque<Expr>) {
    let reg = |b: &mut ModuleBuilder, bits: Vec<Expr>| -> Vec<Expr> {
        let w = bits.len() as u32;
        let r = b.reg(&b.fresh(name), w);
        b.always(vec![Stmt::when(
            en.clone(),
            vec![Stmt::set(r, Expr::cat_lsb(bits))],
        )]);
        (0..w).map(|i| b.bit(r, i)).collect()
    };
    let nums = nums
        .into_iter()
        .map(|n| Num {
            bits: reg(b, n.bits),
            max: n.max,
        })
        .collect();
    let singles = if singles.is_empty() {
        singles
    } else {
        reg(b, singles.into_iter().collect()).into()
    };
    (nums, singles)
}

/// Reduce leaves to one count in rounds, with the pipelining contract of `popcount`.
fn reduce(
    b: &mut ModuleBuilder,
    mut nums: Vec<Num>,
    mut singles: VecDeque<Expr>,
    n: u32,
    stages: u32,
    en: &Expr,
    name: &str,
) -> (Expr, u32) {
    assert!(!nums.is_empty() && singles.len() < nums.len());
    let rounds = bits_for(nums.len() as u64 - 1) * u32::from(nums.len() > 1);
    let levels = 1 + rounds;
    let stages = stages.min(levels);
    let reg_after = crate::plan::cost::pipeline::cuts(levels, stages);
    let mut latency = 0;
    for level in 1..=levels {
        if level > 1 {
            nums.sort_by_key(|x| x.max);
            let mut next = Vec::with_capacity(nums.len().div_ceil(2));
            let mut it = nums.into_iter();
            while let Some(x) = it.next() {
                match it.next() {
                    Some(y) => {
                        let z = singles.pop_front();
                        next.push(row_add(b, x, y, z, &format!("{name}_s{level}")));
                    }
                    None => next.push(x),
                }
            }
            nums = next;
        }
        if reg_after.contains(&level) {
            latency += 1;
            (nums, singles) = register(b, nums, singles, en, &format!("{name}_r{level}"));
        }
    }
    assert!(
        nums.len() == 1 && singles.is_empty(),
        "tree left values over"
    );
    let out = nums.pop().unwrap();
    (out.value(popcount_width(n)), latency)
}

/// Pop count of the bits of `v` as a compressor tree (full-adder leaves, row adders).
/// Needs at least 4 bits; `popcount` handles fewer.
fn compressor(b: &mut ModuleBuilder, v: Expr, stages: u32, en: &Expr, name: &str) -> (Expr, u32) {
    let n = v.width;
    assert!(n >= 4, "popcount tree of {n} bits");
    let bits = bits_of(b, &format!("{name}_in"), v);
    // f full adders and at most f - 1 singles: 3f + (f - 1) >= n.
    let f = (n as usize + 1).div_ceil(4);
    let mut nums = Vec::with_capacity(f);
    for (g, grp) in bits.chunks(3).take(f).enumerate() {
        let nm = format!("{name}_fa{g}");
        nums.push(match grp {
            [p, q, r] => {
                let s = p.clone().xor(q.clone()).xor(r.clone());
                let c = p.clone().and(q.clone()).or(p.clone().and(r.clone()));
                let c = c.or(q.clone().and(r.clone()));
                Num {
                    bits: bits_of(b, &nm, Expr::cat_lsb(vec![s, c])),
                    max: 3,
                }
            }
            [p, q] => Num {
                bits: bits_of(
                    b,
                    &nm,
                    Expr::cat_lsb(vec![p.clone().xor(q.clone()), p.clone().and(q.clone())]),
                ),
                max: 2,
            },
            [p] => Num {
                bits: vec![p.clone()],
                max: 1,
            },
            _ => unreachable!(),
        });
    }
    let singles: VecDeque<Expr> = bits.iter().skip(3 * f).cloned().collect();
    reduce(b, nums, singles, n, stages, en, name)
}

/// Pop count of `XNOR(x, w)` lane by lane, with the XNOR absorbed into the leaves (pairs of
/// lanes in one LUT4 each for the sum and the carry). Needs at least 4 lanes.
pub fn xnor_popcount(
    b: &mut ModuleBuilder,
    x: Expr,
    w: Expr,
    stages: u32,
    en: &Expr,
    name: &str,
) -> (Expr, u32) {
    assert_eq!(x.width, w.width, "xnor_popcount of mismatched widths");
    let n = x.width;
    assert!(n >= 4, "xnor_popcount tree of {n} lanes");
    let xs = bits_of(b, &format!("{name}_x"), x);
    let ws = bits_of(b, &format!("{name}_w"), w);
    let lane = |i: usize| xs[i].clone().xor(ws[i].clone()).not();
    // p pairs and at most p - 1 singles: 2p + (p - 1) >= n.
    let p = (n as usize + 1).div_ceil(3);
    let mut nums = Vec::with_capacity(p);
    for k in 0..p {
        let nm = format!("{name}_pr{k}");
        let (i, j) = (2 * k, 2 * k + 1);
        nums.push(if j < n as usize {
            let s = lane(i).xor(lane(j));
            let c = lane(i).and(lane(j));
            Num {
                bits: bits_of(b, &nm, Expr::cat_lsb(vec![s, c])),
                max: 2,
            }
        } else {
            Num {
                bits: bits_of(b, &nm, lane(i)),
                max: 1,
            }
        });
    }
    let mut singles = VecDeque::new();
    for i in (2 * p).min(n as usize)..n as usize {
        let nm = format!("{name}_sx{i}");
        singles.extend(bits_of(b, &nm, lane(i)));
    }
    reduce(b, nums, singles, n, stages, en, name)
}

/// A pop count of the bits of `v` with up to `stages` pipeline registers spread over its
/// levels (enabled by `en`). Returns the count (width `popcount_width(n)`) and its latency in
/// cycles. From 4 bits on it is the compressor tree below (fewer LUT4 on iCE40,
/// see docs/benchmarks.md); below, a plain adder tree.
pub fn popcount(b: &mut ModuleBuilder, v: Expr, stages: u32, en: &Expr, name: &str) -> (Expr, u32) {
    if v.width >= 4 {
        return compressor(b, v, stages, en, name);
    }
    popcount_adders(b, v, stages, en, name)
}

/// `popcount` as an adder tree of `ceil(log2 n)` levels (`+` chains that Yosys maps itself).
pub fn popcount_adders(
    b: &mut ModuleBuilder,
    v: Expr,
    stages: u32,
    en: &Expr,
    name: &str,
) -> (Expr, u32) {
    let n = v.width;
    let mut level: Vec<Expr> = if n == 1 {
        vec![v]
    } else {
        let vs = b.let_(&b.fresh(&format!("{name}_in")), v);
        let vsig = sig_of(b, &vs);
        (0..n).map(|i| b.bit(vsig, i)).collect()
    };
    let levels = if n == 1 { 0 } else { bits_for(n as u64 - 1) };
    let stages = stages.min(levels.max(1));
    // Register after these levels (1-based; level 0 = the inputs when the tree is empty).
    let reg_after = crate::plan::cost::pipeline::cuts(levels, stages);
    let mut latency = 0;
    let mut reg_level = |b: &mut ModuleBuilder, level: Vec<Expr>, lvl: u32| -> Vec<Expr> {
        if !reg_after.contains(&lvl) {
            return level
                .into_iter()
                .enumerate()
                .map(|(i, e)| {
                    if lvl == 0 {
                        return e;
                    }
                    let nm = b.fresh(&format!("{name}_l{lvl}_{i}"));
                    b.let_(&nm, e)
                })
                .collect();
        }
        latency += 1;
        level
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let r = b.reg(&b.fresh(&format!("{name}_r{lvl}_{i}")), e.width);
                b.always(vec![Stmt::when(en.clone(), vec![Stmt::set(r, e)])]);
                b.e(r)
            })
            .collect()
    };
    if levels == 0 {
        level = reg_level(b, level, 0);
    }
    for lvl in 1..=levels {
        let w = level[0].width + 1;
        let next: Vec<Expr> = level
            .chunks(2)
            .map(|pair| {
                if pair.len() == 2 {
                    pair[0].clone().zext(w).add(pair[1].clone().zext(w))
                } else {
                    pair[0].clone().zext(w)
                }
            })
            .collect();
        level = reg_level(b, next, lvl);
    }
    assert_eq!(level.len(), 1);
    (level.pop().unwrap(), latency)
}

pub use crate::plan::cost::widths::popcount_width;
