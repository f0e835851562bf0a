//! How a MAC stage's output word is put together from its PE groups, which finish one after
//! another: the earlier groups wait in a shift register until the word's last group is done
//! (`gather_groups`), and a dense layer that hands its pixel on in words (`plan::words`)
//! counts its finished groups to know which one ends a word (`word_end`).

use crate::rtl::build::eq_const;
use crate::rtl::netlist::{Expr, ModuleBuilder, Sig, Stmt};

/// When a group's output is taken: the pipeline advances (`adv`), the accumulators are valid,
/// and this was the group's last accumulation (`last`, present when there are several groups).
pub(super) struct GroupStep<'a> {
    pub(super) adv: &'a Expr,
    pub(super) valid: &'a Expr,
    pub(super) last: Option<Expr>,
}

/// The outputs of every visited group of one output pixel, side by side: the groups finish one
/// after another, so the earlier ones wait in a shift register named `name` (`gw` bits per
/// group), which advances on each group's last accumulation.
pub(super) fn gather_groups(
    b: &mut ModuleBuilder,
    name: &str,
    (groups, gw): (usize, u32),
    new: Expr,
    step: GroupStep,
) -> Expr {
    let GroupStep { adv, valid, last } = step;
    if groups <= 1 {
        return new;
    }
    let g = groups as u32;
    let sh = b.reg(name, (g - 1) * gw);
    let shifted = if g > 2 {
        Expr::cat_lsb(vec![b.slice(sh, gw, (g - 2) * gw), new.clone()])
    } else {
        new.clone()
    };
    let last = last.expect("several groups have a last-accumulation flag");
    b.always(vec![Stmt::when(
        adv.clone().and(valid.clone()).and(last),
        vec![Stmt::set(sh, shifted)],
    )]);
    Expr::cat_lsb(vec![b.e(sh), new])
}

/// Whether the group finishing when `done` is the last of its output word of `per_word`
/// groups: a counter of finished groups, modulo `per_word` (a power of two, so it wraps).
pub(super) fn word_end(
    b: &mut ModuleBuilder,
    (adv, rst): (&Expr, Sig),
    done: Expr,
    per_word: usize,
) -> Expr {
    if per_word == 1 {
        return Expr::t();
    }
    assert!(per_word.is_power_of_two());
    let wb = per_word.trailing_zeros();
    let wcnt = b.reg("wcnt", wb);
    b.always(vec![Stmt::if_else(
        b.e(rst),
        vec![Stmt::set(wcnt, Expr::zero(wb))],
        vec![Stmt::when(
            adv.clone().and(done),
            vec![Stmt::set(wcnt, b.e(wcnt).add(Expr::lit(1, wb)))],
        )],
    )]);
    eq_const(b.e(wcnt), per_word as u64 - 1)
}
