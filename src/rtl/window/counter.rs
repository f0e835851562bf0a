//! Counters of the issue side, shared by the issue logic and the MAC datapath (which reads the
//! entry, weight-address and chunk counters).

use crate::rtl::build::{eq_const, fit};
use crate::rtl::netlist::{bits_for, Expr, ModuleBuilder, Sig, Stmt};

/// A counter 0..n-1 stepping on `step`, absent (constant 0, always last) when n == 1. Its
/// "at the last value" flag is a register updated with it, so no comparator sits between
/// the counter and the logic that decides the next step.
pub(super) struct Counter {
    pub(super) sig: Option<Sig>,
    last_r: Option<Sig>,
    n: usize,
}

impl Counter {
    pub(super) fn new(b: &mut ModuleBuilder, name: &str, n: usize, width: u32) -> Counter {
        assert!(n >= 1);
        let sig = (n > 1).then(|| b.reg(name, width.max(bits_for(n as u64 - 1))));
        let last_r = (n > 1).then(|| b.reg(&format!("{name}_last"), 1));
        Counter { sig, last_r, n }
    }
    pub(super) fn last(&self, b: &ModuleBuilder) -> Expr {
        match self.last_r {
            Some(l) => b.e(l),
            None => Expr::t(),
        }
    }
    pub(super) fn first(&self, b: &ModuleBuilder) -> Expr {
        match self.sig {
            Some(s) => eq_const(b.e(s), 0),
            None => Expr::t(),
        }
    }
    /// Statements: load the constant `v` (< n).
    pub(super) fn load(&self, v: usize) -> Vec<Stmt> {
        assert!(v < self.n);
        match (self.sig, self.last_r) {
            (Some(s), Some(l)) => vec![
                Stmt::set(s, Expr::lit(v as u64, s.width)),
                Stmt::set(l, Expr::lit((v + 1 == self.n) as u64, 1)),
            ],
            _ => vec![],
        }
    }
    /// Statements: reset to 0.
    pub(super) fn clear(&self) -> Vec<Stmt> {
        self.load(0)
    }
    /// Statements: wrap to 0 at the end, else increment.
    pub(super) fn inc(&self, b: &ModuleBuilder) -> Vec<Stmt> {
        match (self.sig, self.last_r) {
            (Some(s), Some(l)) => vec![Stmt::if_else(
                b.e(l),
                self.clear(),
                vec![
                    Stmt::set(s, b.e(s).add(Expr::lit(1, s.width))),
                    Stmt::set(l, eq_const(b.e(s), self.n as u64 - 2)),
                ],
            )],
            _ => vec![],
        }
    }
    /// Value at `w` bits (0 when absent).
    pub(super) fn val(&self, b: &ModuleBuilder, w: u32) -> Expr {
        match self.sig {
            Some(s) => fit(b, s, w),
            None => Expr::zero(w),
        }
    }
}

/// Nested counters, innermost first: steps the innermost, carries outward.
pub(super) fn nest(b: &ModuleBuilder, cs: &[&Counter]) -> Vec<Stmt> {
    let Some((inner, rest)) = cs.split_first() else {
        return vec![];
    };
    if inner.sig.is_none() {
        return nest(b, rest);
    }
    let mut carry = inner.clear();
    carry.extend(nest(b, rest));
    vec![Stmt::if_else(inner.last(b), carry, inner.inc(b))]
}
