//! Small lowering helpers shared by every stage: counters, constant comparisons that stay
//! clean under `verilator -Wall`, mux trees, pop counts, sign extension, delay lines and ROMs.

use super::netlist::{Expr, ModuleBuilder, Sig, Stmt};

/// `e >= c` for an unsigned expression and constant, folded when the answer is fixed.
pub fn ge_const(e: Expr, c: u64) -> Expr {
    if c == 0 {
        return Expr::t();
    }
    if e.width < 64 && c >> e.width != 0 {
        return Expr::f();
    }
    let w = e.width;
    e.ge(Expr::lit(c, w))
}

/// `e < c`, folded when fixed.
pub fn lt_const(e: Expr, c: u64) -> Expr {
    ge_const(e, c).not_folded()
}

/// `e == c`, folded when `c` cannot be represented.
pub fn eq_const(e: Expr, c: u64) -> Expr {
    if e.width < 64 && c >> e.width != 0 {
        return Expr::f();
    }
    let w = e.width;
    e.eq(Expr::lit(c, w))
}

trait NotFolded {
    fn not_folded(self) -> Expr;
}
impl NotFolded for Expr {
    fn not_folded(self) -> Expr {
        match self.const_value() {
            Some(v) if self.width == 1 => Expr::lit(1 - v, 1),
            _ => self.not(),
        }
    }
}

/// AND of 1-bit terms, dropping constant-true terms.
pub fn and_all(terms: Vec<Expr>) -> Expr {
    let mut acc: Option<Expr> = None;
    for t in terms {
        match t.const_value() {
            Some(1) => continue,
            Some(_) => return Expr::f(),
            None => {}
        }
        acc = Some(match acc {
            None => t,
            Some(a) => a.and(t),
        });
    }
    acc.unwrap_or_else(Expr::t)
}

/// Signal `s` (or its low bits) at exactly `w` bits, zero-extended when narrower.
/// Only ever slices declared signals, so no wire is left with unused bits.
pub fn fit(b: &ModuleBuilder, s: Sig, w: u32) -> Expr {
    if s.width >= w {
        b.slice(s, 0, w)
    } else {
        b.e(s).zext(w)
    }
}

/// Sign-extend signal `s` to `w` bits.
pub fn sext(b: &ModuleBuilder, s: Sig, w: u32) -> Expr {
    assert!(w >= s.width);
    if w == s.width {
        return b.e(s);
    }
    let msb = b.bit(s, s.width - 1);
    let mut parts = vec![b.e(s)];
    for _ in s.width..w {
        parts.push(msb.clone());
    }
    Expr::cat_lsb(parts)
}

/// Pick `words[idx]` with a balanced mux tree on the bits of signal `idx`; indexes past the
/// end select the last word (they never occur).
pub fn select(b: &ModuleBuilder, words: &[Expr], idx: Sig) -> Expr {
    assert!(!words.is_empty());
    fn go(b: &ModuleBuilder, words: &[Expr], idx: Sig, bit: i32, base: usize) -> Expr {
        if bit < 0 {
            return words[base.min(words.len() - 1)].clone();
        }
        let half = 1usize << bit;
        if base + half >= words.len() {
            return go(b, words, idx, bit - 1, base);
        }
        let lo = go(b, words, idx, bit - 1, base);
        let hi = go(b, words, idx, bit - 1, base + half);
        b.bit(idx, bit as u32).mux(hi, lo)
    }
    if words.len() == 1 {
        return words[0].clone();
    }
    go(b, words, idx, idx.width as i32 - 1, 0)
}

/// The signal behind an expression produced by `let_` or `e`.
pub fn sig_of(b: &ModuleBuilder, e: &Expr) -> Sig {
    let _ = b;
    match e.kind {
        super::netlist::ExprKind::Sig(idx) => Sig {
            idx,
            width: e.width,
        },
        _ => panic!("expression is not a signal"),
    }
}

/// Register `e` behind `n` pipeline stages enabled by `en` (n = 0 returns `e`).
pub fn delay(b: &mut ModuleBuilder, e: Expr, n: u32, en: &Expr, name: &str) -> Expr {
    let mut cur = e;
    for i in 0..n {
        let r = b.reg(&b.fresh(&format!("{name}_d{i}")), cur.width);
        b.always(vec![Stmt::when(en.clone(), vec![Stmt::set(r, cur)])]);
        cur = b.e(r);
    }
    cur
}

/// A read-only table of `words` read synchronously at `addr` (signal) when `en`; returns the
/// registered word. One-word tables are constants, with no memory.
pub fn rom(
    b: &mut ModuleBuilder,
    name: &str,
    words: Vec<Vec<bool>>,
    addr: Option<Sig>,
    en: &Expr,
) -> Expr {
    rom_with(b, name, words, addr, en, false)
}

/// `rom`, with the table kept out of block RAM when `logic` (see `bank::ICE40_LOGIC_ROM_BITS`).
pub fn rom_with(
    b: &mut ModuleBuilder,
    name: &str,
    words: Vec<Vec<bool>>,
    addr: Option<Sig>,
    en: &Expr,
    logic: bool,
) -> Expr {
    assert!(!words.is_empty());
    if words.len() == 1 {
        return Expr::bits(words.into_iter().next().unwrap());
    }
    let addr = addr.expect("a multi-word table needs an address");
    let width = words[0].len() as u32;
    let depth = words.len();
    let m = b.memory(name, width, depth, Some(words));
    if logic {
        b.force_logic(m);
    }
    let q = b.reg(&format!("{name}_q"), width);
    let rd = b.read(m, b.e(addr));
    b.always(vec![Stmt::when(en.clone(), vec![Stmt::set(q, rd)])]);
    b.e(q)
}
