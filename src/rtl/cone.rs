//! Combinational reach over one module's netlist: which inputs a signal depends on within the
//! same clock cycle, and which registers and memories an input reaches before a clock edge.
//!
//! Timing claims about the generated RTL are made on this, not on names: a window stage
//! promises that its consumer's ready (`m_ready`) reaches no enable of its pipeline, only the
//! flags of its skid register (`window::output_stage`), and `tests/rtl_handoff.rs` checks
//! that promise on the netlist of every stage. Registers cut a path; a memory read depends
//! on its address; an instance's outputs are taken to depend on all of its inputs (the
//! analysis sees one module, so it assumes the worst about a child).

use super::netlist::{Conn, Expr, ExprKind, Item, Module, SigKind, Stmt};
use std::collections::BTreeSet;

impl Module {
    /// Names of the inputs that signal `name` depends on combinationally, sorted.
    ///
    /// Panics if the module has no signal `name` (a bug in the caller).
    pub fn inputs_reaching(&self, name: &str) -> Vec<String> {
        let idx = self.sig_index(name);
        let mut cone = Cone::new(self);
        let set = cone.of_sig(idx);
        self.names(set)
    }

    /// Names of the registers and memories whose next state depends combinationally on input
    /// `input` (through their data, address or any enclosing condition), sorted.
    ///
    /// Panics if the module has no input `input` (a bug in the caller).
    pub fn registers_reached_by(&self, input: &str) -> Vec<String> {
        let idx = self.sig_index(input);
        assert_eq!(self.sigs[idx].kind, SigKind::Input, "{input} is no input");
        let mut cone = Cone::new(self);
        let mut hit = BTreeSet::new();
        for item in &self.items {
            if let Item::Always(stmts) = item {
                cone.targets_reached(stmts, &BTreeSet::new(), idx, &mut hit);
            }
        }
        hit.into_iter().collect()
    }

    fn sig_index(&self, name: &str) -> usize {
        (self.sigs.iter().position(|s| s.name == name))
            .unwrap_or_else(|| panic!("{} has no signal {name}", self.name))
    }

    fn names(&self, set: BTreeSet<usize>) -> Vec<String> {
        let mut v: Vec<String> = set.into_iter().map(|i| self.sigs[i].name.clone()).collect();
        v.sort();
        v
    }
}

/// The inputs each signal depends on combinationally, computed on demand and memoized.
struct Cone<'a> {
    m: &'a Module,
    /// Per signal: the expressions that drive it combinationally (an assignment, or every
    /// input connection of the instance that drives it).
    drivers: Vec<Vec<&'a Expr>>,
    memo: Vec<Option<BTreeSet<usize>>>,
    /// Signals being expanded, to stop on a combinational loop instead of recursing forever.
    open: Vec<bool>,
}

impl<'a> Cone<'a> {
    fn new(m: &'a Module) -> Cone<'a> {
        let mut drivers: Vec<Vec<&Expr>> = vec![Vec::new(); m.sigs.len()];
        for item in &m.items {
            match item {
                Item::Assign(s, e) => drivers[*s].push(e),
                Item::Instance { conns, .. } => {
                    let ins: Vec<&Expr> = (conns.iter())
                        .filter_map(|(_, c)| match c {
                            Conn::In(e) => Some(e),
                            Conn::Out(_) | Conn::OutBit(..) => None,
                        })
                        .collect();
                    for (_, c) in conns {
                        if let Conn::Out(s) | Conn::OutBit(s, _) = c {
                            drivers[s.idx].extend(ins.iter().copied());
                        }
                    }
                }
                Item::Always(_) => {}
            }
        }
        Cone {
            m,
            drivers,
            memo: vec![None; m.sigs.len()],
            open: vec![false; m.sigs.len()],
        }
    }

    /// Inputs signal `i` depends on: itself if an input, none if a register.
    fn of_sig(&mut self, i: usize) -> BTreeSet<usize> {
        match self.m.sigs[i].kind {
            SigKind::Input => return BTreeSet::from([i]),
            SigKind::Reg | SigKind::OutputReg => return BTreeSet::new(),
            SigKind::Wire | SigKind::OutputWire => {}
        }
        if let Some(s) = &self.memo[i] {
            return s.clone();
        }
        assert!(
            !self.open[i],
            "combinational loop through {} in {}",
            self.m.sigs[i].name, self.m.name
        );
        self.open[i] = true;
        let mut set = BTreeSet::new();
        for e in self.drivers[i].clone() {
            set.extend(self.of_expr(e));
        }
        self.open[i] = false;
        self.memo[i] = Some(set.clone());
        set
    }

    fn of_expr(&mut self, e: &Expr) -> BTreeSet<usize> {
        match &e.kind {
            ExprKind::Sig(i) | ExprKind::Slice(i, _) => self.of_sig(*i),
            ExprKind::Const(_) => BTreeSet::new(),
            ExprKind::Concat(parts) => parts.iter().flat_map(|p| self.of_expr(p)).collect(),
            ExprKind::Not(a) | ExprKind::Reduce(_, a) | ExprKind::MemRead(_, a) => self.of_expr(a),
            ExprKind::Bin(_, a, b) | ExprKind::Cmp(_, _, a, b) => {
                let mut s = self.of_expr(a);
                s.extend(self.of_expr(b));
                s
            }
            ExprKind::Mux(c, t, f) => {
                let mut s = self.of_expr(c);
                s.extend(self.of_expr(t));
                s.extend(self.of_expr(f));
                s
            }
        }
    }

    /// Add to `hit` the names of the registers and memories assigned in `stmts` whose data,
    /// address or condition (`conds`: inputs of the enclosing conditions) depends on `input`.
    fn targets_reached(
        &mut self,
        stmts: &[Stmt],
        conds: &BTreeSet<usize>,
        input: usize,
        hit: &mut BTreeSet<String>,
    ) {
        for st in stmts {
            let (name, mut deps) = match st {
                Stmt::Set(r, e) | Stmt::SetSlice(r, _, e) => {
                    (self.m.sigs[*r].name.clone(), self.of_expr(e))
                }
                Stmt::MemWrite(mem, a, d) => {
                    let mut s = self.of_expr(a);
                    s.extend(self.of_expr(d));
                    (self.m.mems[*mem].name.clone(), s)
                }
                Stmt::If(c, t, f) => {
                    let mut inner = conds.clone();
                    inner.extend(self.of_expr(c));
                    self.targets_reached(t, &inner, input, hit);
                    self.targets_reached(f, &inner, input, hit);
                    continue;
                }
            };
            deps.extend(conds.iter().copied());
            if deps.contains(&input) {
                hit.insert(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rtl::netlist::{ModuleBuilder, Stmt};

    /// A register enabled by `go & !stop` is reached by `stop` through its condition; one
    /// behind a register is not; a wire reports the inputs of its whole cone.
    #[test]
    fn reach_follows_wires_and_conditions_and_stops_at_registers() {
        let mut b = ModuleBuilder::new("m");
        let go = b.input("go", 1, "");
        let stop = b.input("stop", 1, "");
        let d = b.input("d", 4, "");
        let stop_r = b.reg("stop_r", 1);
        let en = b.let_("en", b.e(go).and(b.e(stop).not()));
        let en_r = b.let_("en_r", b.e(go).and(b.e(stop_r).not()));
        let a = b.reg("a", 4);
        let c = b.reg("c", 4);
        let mem = b.memory("mem", 4, 4, None);
        b.always(vec![
            Stmt::set(stop_r, b.e(stop)),
            Stmt::when(en, vec![Stmt::set(a, b.e(d))]),
            Stmt::when(en_r.clone(), vec![Stmt::set(c, b.e(d))]),
            Stmt::when(en_r, vec![Stmt::write(mem, b.slice(d, 0, 2), b.e(c))]),
        ]);
        let o = b.output_wire("o", 4, "");
        b.assign(o, b.e(stop_r).mux(b.e(a), b.e(c)));
        let q = b.output_wire("q", 1, "");
        b.assign(q, b.e(go).xor(b.e(stop_r)));
        let m = b.finish();
        assert_eq!(m.registers_reached_by("stop"), ["a", "stop_r"]);
        assert_eq!(m.registers_reached_by("d"), ["a", "c", "mem"]);
        assert_eq!(m.registers_reached_by("go"), ["a", "c", "mem"]);
        assert!(m.inputs_reaching("o").is_empty());
        assert_eq!(m.inputs_reaching("q"), ["go"]);
        assert_eq!(m.inputs_reaching("en"), ["go", "stop"]);
    }
}
