//! Typed Verilog IR: modules, signals, width-checked expressions, clocked processes,
//! memories and instances.
//!
//! Every expression knows its width when it is built, and every constructor asserts the
//! widths it combines (a mismatch is a generator bug, never a user error). The IR is small on
//! purpose: only what the generated accelerator needs, all of it printable as plain
//! Verilog-2005 that is clean under `verilator -Wall` (see `print.rs`).

/// A handle to a declared signal (port, wire or reg) of one module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sig {
    pub(crate) idx: usize,
    pub width: u32,
}

/// A handle to a declared memory of one module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mem {
    pub(crate) idx: usize,
    pub width: u32,
    pub depth: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigKind {
    Input,
    /// Output driven by a continuous assignment or an instance.
    OutputWire,
    /// Output driven from a clocked process.
    OutputReg,
    Wire,
    Reg,
}

impl SigKind {
    fn is_reg(self) -> bool {
        matches!(self, SigKind::Reg | SigKind::OutputReg)
    }
    pub fn is_port(self) -> bool {
        matches!(
            self,
            SigKind::Input | SigKind::OutputWire | SigKind::OutputReg
        )
    }
}

#[derive(Debug, Clone)]
pub struct SigDecl {
    pub name: String,
    pub width: u32,
    pub kind: SigKind,
    /// One-line description printed beside port declarations.
    pub doc: String,
    /// An input read by nothing, by design (the data of a stage whose output is constant):
    /// the printer waives Verilator's UNUSEDSIGNAL for this declaration alone.
    pub unread: bool,
}

#[derive(Debug, Clone)]
pub struct MemDecl {
    pub name: String,
    pub width: u32,
    pub depth: usize,
    /// Initial contents (a ROM), one hex word per address, printed into the module itself
    /// (an `initial` block), so the RTL loads the same from any working directory; a
    /// `$readmemh` file name would be resolved against the simulator's or synthesizer's
    /// working directory, and some simulators load nothing without a word when it is wrong.
    pub init: Option<Vec<String>>,
    pub block_ram: bool,
    /// Keep out of block RAM (`ram_style = "logic"`): a small ROM that would waste a block.
    pub logic: bool,
    /// No read ever hits the address written in the same cycle (`no_rw_check`), so synthesis
    /// needs no read-during-write bypass (on ECP5 and iCE40 that bypass cost more flip-flops
    /// and LUTs than the line buffers' own addressing).
    pub no_rw_check: bool,
    /// Holds a layer's weights (a weight ROM or one of its banks): the synthesis report
    /// counts these bits as weights in block RAM or SPRAM. Set by
    /// [`ModuleBuilder::mark_weights`].
    pub weights: bool,
    /// Held in the iCE40 UP5K's single-port RAM (`ram_style = "huge"`), which the bitstream
    /// cannot initialize: these are the words the board's loader writes, one per address
    /// (`rtl::window::spram`). Never printed into the module.
    pub load_image: Option<Vec<u16>>,
    /// Built from vendor block-RAM cells instantiated in the module (`rtl::ebr`), so the
    /// printer declares no array for it; kept here so that everything counting the
    /// module's memories (block RAM, weight bits) sees it.
    pub cells: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    And,
    Or,
    Xor,
    Add,
    Sub,
    Mul,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedOp {
    And,
    Or,
}

/// An expression with its width. Build through the constructors, which check widths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    pub(crate) kind: ExprKind,
    pub width: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExprKind {
    Sig(usize),
    /// Bits LSB first.
    Const(Vec<bool>),
    /// `sig[lo +: width]` of a named signal.
    Slice(usize, u32),
    /// Parts MSB first, as Verilog writes them.
    Concat(Vec<Expr>),
    Not(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// Comparison; `true` = signed operands.
    Cmp(CmpOp, bool, Box<Expr>, Box<Expr>),
    Mux(Box<Expr>, Box<Expr>, Box<Expr>),
    Reduce(RedOp, Box<Expr>),
    MemRead(usize, Box<Expr>),
}

pub use crate::plan::cost::widths::{addr_width, bits_for, signed_bits_for};

// Named like the operator traits on purpose: these are width-checked constructors.
#[allow(clippy::should_implement_trait)]
impl Expr {
    /// Unsigned constant `value` in `width` bits; asserts it fits.
    pub fn lit(value: u64, width: u32) -> Expr {
        assert!(width >= 1);
        assert!(
            width >= 64 || value >> width == 0,
            "constant {value} does not fit {width} bits"
        );
        let bits = (0..width)
            .map(|i| i < 64 && (value >> i) & 1 == 1)
            .collect();
        Expr {
            kind: ExprKind::Const(bits),
            width,
        }
    }
    /// Two's-complement constant `value` in `width` bits; asserts it fits.
    pub fn slit(value: i64, width: u32) -> Expr {
        assert!(
            width >= signed_bits_for(value, value),
            "constant {value} does not fit {width} signed bits"
        );
        let bits = (0..width).map(|i| (value >> i.min(63)) & 1 == 1).collect();
        Expr {
            kind: ExprKind::Const(bits),
            width,
        }
    }
    /// Constant from explicit bits, LSB first.
    pub fn bits(bits: Vec<bool>) -> Expr {
        assert!(!bits.is_empty());
        let width = bits.len() as u32;
        Expr {
            kind: ExprKind::Const(bits),
            width,
        }
    }
    pub fn zero(width: u32) -> Expr {
        Expr::bits(vec![false; width as usize])
    }
    pub fn ones(width: u32) -> Expr {
        Expr::bits(vec![true; width as usize])
    }
    pub fn t() -> Expr {
        Expr::lit(1, 1)
    }
    pub fn f() -> Expr {
        Expr::lit(0, 1)
    }
    /// Concatenate, LSB part first (the order the generator computes in).
    pub fn cat_lsb(parts: Vec<Expr>) -> Expr {
        assert!(!parts.is_empty());
        if parts.len() == 1 {
            return parts.into_iter().next().unwrap();
        }
        let width = parts.iter().map(|p| p.width).sum();
        let mut msb = parts;
        msb.reverse();
        Expr {
            kind: ExprKind::Concat(msb),
            width,
        }
    }
    pub fn not(self) -> Expr {
        let width = self.width;
        Expr {
            kind: ExprKind::Not(Box::new(self)),
            width,
        }
    }
    fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
        assert_eq!(a.width, b.width, "{op:?} of mismatched widths");
        let width = a.width;
        Expr {
            kind: ExprKind::Bin(op, Box::new(a), Box::new(b)),
            width,
        }
    }
    pub fn and(self, b: Expr) -> Expr {
        Expr::bin(BinOp::And, self, b)
    }
    pub fn or(self, b: Expr) -> Expr {
        Expr::bin(BinOp::Or, self, b)
    }
    pub fn xor(self, b: Expr) -> Expr {
        Expr::bin(BinOp::Xor, self, b)
    }
    /// Modular addition (result width = operand width).
    pub fn add(self, b: Expr) -> Expr {
        Expr::bin(BinOp::Add, self, b)
    }
    pub fn sub(self, b: Expr) -> Expr {
        Expr::bin(BinOp::Sub, self, b)
    }
    pub fn mul(self, b: Expr) -> Expr {
        Expr::bin(BinOp::Mul, self, b)
    }
    fn cmp(op: CmpOp, signed: bool, a: Expr, b: Expr) -> Expr {
        assert_eq!(a.width, b.width, "{op:?} of mismatched widths");
        Expr {
            kind: ExprKind::Cmp(op, signed, Box::new(a), Box::new(b)),
            width: 1,
        }
    }
    pub fn eq(self, b: Expr) -> Expr {
        Expr::cmp(CmpOp::Eq, false, self, b)
    }
    pub fn ne(self, b: Expr) -> Expr {
        Expr::cmp(CmpOp::Ne, false, self, b)
    }
    pub fn lt(self, b: Expr) -> Expr {
        Expr::cmp(CmpOp::Lt, false, self, b)
    }
    pub fn le(self, b: Expr) -> Expr {
        Expr::cmp(CmpOp::Le, false, self, b)
    }
    pub fn gt(self, b: Expr) -> Expr {
        Expr::cmp(CmpOp::Gt, false, self, b)
    }
    pub fn ge(self, b: Expr) -> Expr {
        Expr::cmp(CmpOp::Ge, false, self, b)
    }
    pub fn sle(self, b: Expr) -> Expr {
        Expr::cmp(CmpOp::Le, true, self, b)
    }
    pub fn sge(self, b: Expr) -> Expr {
        Expr::cmp(CmpOp::Ge, true, self, b)
    }
    pub fn sgt(self, b: Expr) -> Expr {
        Expr::cmp(CmpOp::Gt, true, self, b)
    }
    /// `self ? t : f`; `self` must be 1 bit wide.
    pub fn mux(self, t: Expr, f: Expr) -> Expr {
        assert_eq!(self.width, 1, "mux select must be 1 bit");
        assert_eq!(t.width, f.width, "mux arms of mismatched widths");
        let width = t.width;
        Expr {
            kind: ExprKind::Mux(Box::new(self), Box::new(t), Box::new(f)),
            width,
        }
    }
    pub fn any(self) -> Expr {
        if self.width == 1 {
            return self;
        }
        Expr {
            kind: ExprKind::Reduce(RedOp::Or, Box::new(self)),
            width: 1,
        }
    }
    pub fn all(self) -> Expr {
        if self.width == 1 {
            return self;
        }
        Expr {
            kind: ExprKind::Reduce(RedOp::And, Box::new(self)),
            width: 1,
        }
    }
    /// Zero-extend to `width` (>= current).
    pub fn zext(self, width: u32) -> Expr {
        assert!(width >= self.width, "zext narrows");
        if width == self.width {
            return self;
        }
        let pad = width - self.width;
        Expr::cat_lsb(vec![self, Expr::zero(pad)])
    }
    /// Constant value if this is a literal that fits 64 bits.
    pub fn const_value(&self) -> Option<u64> {
        match &self.kind {
            ExprKind::Const(b) if b.len() <= 64 => {
                Some(b.iter().enumerate().map(|(i, &x)| (x as u64) << i).sum())
            }
            _ => None,
        }
    }
}

/// A statement inside a clocked process.
#[derive(Debug, Clone)]
pub enum Stmt {
    /// Non-blocking assignment to a whole reg.
    Set(usize, Expr),
    /// Non-blocking assignment to `reg[lo +: width]`.
    SetSlice(usize, u32, Expr),
    MemWrite(usize, Expr, Expr),
    If(Expr, Vec<Stmt>, Vec<Stmt>),
}

impl Stmt {
    pub fn set(r: Sig, e: Expr) -> Stmt {
        assert_eq!(r.width, e.width, "assignment of mismatched widths");
        Stmt::Set(r.idx, e)
    }
    pub fn set_slice(r: Sig, lo: u32, e: Expr) -> Stmt {
        assert!(lo + e.width <= r.width, "slice assignment out of range");
        Stmt::SetSlice(r.idx, lo, e)
    }
    pub fn write(m: Mem, addr: Expr, data: Expr) -> Stmt {
        assert_eq!(addr.width, addr_width(m.depth), "memory address width");
        assert_eq!(data.width, m.width, "memory data width");
        Stmt::MemWrite(m.idx, addr, data)
    }
    pub fn when(c: Expr, then: Vec<Stmt>) -> Stmt {
        assert_eq!(c.width, 1);
        Stmt::If(c, then, Vec::new())
    }
    pub fn if_else(c: Expr, then: Vec<Stmt>, els: Vec<Stmt>) -> Stmt {
        assert_eq!(c.width, 1);
        Stmt::If(c, then, els)
    }
}

#[derive(Debug, Clone)]
pub enum Conn {
    In(Expr),
    Out(Sig),
    /// A one-bit output port driving bit `.1` of a wire (a vendor primitive's scalar data
    /// outputs, gathered into one word).
    OutBit(Sig, u32),
}

#[derive(Debug, Clone)]
pub enum Item {
    Assign(usize, Expr),
    /// `always @(posedge clk)` with these statements.
    Always(Vec<Stmt>),
    Instance {
        module: String,
        name: String,
        /// Parameter overrides `(name, Verilog value)`, printed as `#(...)` when any.
        params: Vec<(String, String)>,
        conns: Vec<(String, Conn)>,
    },
}

/// A finished module, ready to print.
#[derive(Debug, Clone)]
pub struct Module {
    pub name: String,
    /// Header comment lines (without the `//`).
    pub doc: Vec<String>,
    pub sigs: Vec<SigDecl>,
    pub mems: Vec<MemDecl>,
    pub items: Vec<Item>,
    /// The clock every `always` block runs on: `clk`, or `aclk` in the AXI4-Stream wrapper.
    pub clock: String,
}

impl Module {
    /// Port (name, kind, width) in declaration order.
    pub fn ports(&self) -> impl Iterator<Item = &SigDecl> {
        self.sigs.iter().filter(|s| s.kind.is_port())
    }
    pub fn port(&self, name: &str) -> Option<&SigDecl> {
        self.ports().find(|s| s.name == name)
    }
}

/// Builds one module; checks names are unique and drivers are of the right kind.
pub struct ModuleBuilder {
    m: Module,
    driven: Vec<bool>,
    /// Bits of wires driven one at a time by `Conn::OutBit` (signal, bit).
    driven_bits: std::collections::BTreeSet<(usize, u32)>,
}

impl ModuleBuilder {
    pub fn new(name: &str) -> ModuleBuilder {
        ModuleBuilder {
            m: Module {
                name: name.to_string(),
                doc: Vec::new(),
                sigs: Vec::new(),
                mems: Vec::new(),
                items: Vec::new(),
                clock: "clk".to_string(),
            },
            driven: Vec::new(),
            driven_bits: Default::default(),
        }
    }
    pub fn name(&self) -> &str {
        &self.m.name
    }
    /// The signal named `name`, if declared.
    pub fn named(&self, name: &str) -> Option<Sig> {
        let idx = self.m.sigs.iter().position(|s| s.name == name)?;
        Some(Sig {
            idx,
            width: self.m.sigs[idx].width,
        })
    }
    /// The name of the clock every `always` block runs on.
    pub fn clock_name(&self) -> String {
        self.m.clock.clone()
    }
    /// Run every `always` block of the module on `clock` (an input declared by the caller).
    pub fn set_clock(&mut self, clock: &str) {
        self.m.clock = clock.to_string();
    }
    pub fn doc(&mut self, line: impl Into<String>) {
        self.m.doc.push(line.into());
    }
    fn decl(&mut self, name: &str, width: u32, kind: SigKind, doc: &str) -> Sig {
        assert!(width >= 1, "zero-width signal {name}");
        assert!(
            !self.m.sigs.iter().any(|s| s.name == name)
                && !self.m.mems.iter().any(|m| m.name == name),
            "duplicate signal {name} in {}",
            self.m.name
        );
        self.m.sigs.push(SigDecl {
            name: name.to_string(),
            width,
            kind,
            doc: doc.to_string(),
            unread: false,
        });
        self.driven.push(kind == SigKind::Input);
        Sig {
            idx: self.m.sigs.len() - 1,
            width,
        }
    }
    pub fn input(&mut self, name: &str, width: u32, doc: &str) -> Sig {
        self.decl(name, width, SigKind::Input, doc)
    }
    /// An input the module never reads (see `SigDecl::unread`).
    pub fn input_unread(&mut self, name: &str, width: u32, doc: &str) -> Sig {
        let s = self.decl(name, width, SigKind::Input, doc);
        self.m.sigs[s.idx].unread = true;
        s
    }
    pub fn output_wire(&mut self, name: &str, width: u32, doc: &str) -> Sig {
        self.decl(name, width, SigKind::OutputWire, doc)
    }
    pub fn output_reg(&mut self, name: &str, width: u32, doc: &str) -> Sig {
        self.decl(name, width, SigKind::OutputReg, doc)
    }
    pub fn wire(&mut self, name: &str, width: u32) -> Sig {
        self.decl(name, width, SigKind::Wire, "")
    }
    pub fn reg(&mut self, name: &str, width: u32) -> Sig {
        self.decl(name, width, SigKind::Reg, "")
    }
    /// Declare a wire driven by `e`, returning it as an expression.
    pub fn let_(&mut self, name: &str, e: Expr) -> Expr {
        let w = self.wire(name, e.width);
        self.assign(w, e);
        self.e(w)
    }
    pub fn e(&self, s: Sig) -> Expr {
        Expr {
            kind: ExprKind::Sig(s.idx),
            width: s.width,
        }
    }
    /// `s[lo +: width]`.
    pub fn slice(&self, s: Sig, lo: u32, width: u32) -> Expr {
        assert!(
            width >= 1 && lo + width <= s.width,
            "slice [{lo} +: {width}] of {}-bit signal",
            s.width
        );
        if lo == 0 && width == s.width {
            return self.e(s);
        }
        Expr {
            kind: ExprKind::Slice(s.idx, lo),
            width,
        }
    }
    pub fn bit(&self, s: Sig, i: u32) -> Expr {
        self.slice(s, i, 1)
    }
    /// Slice of an arbitrary expression (materializes a wire unless it is a signal).
    pub fn slice_of(&mut self, e: Expr, lo: u32, width: u32, hint: &str) -> Expr {
        if let ExprKind::Sig(idx) = e.kind {
            let s = Sig {
                idx,
                width: e.width,
            };
            return self.slice(s, lo, width);
        }
        if let ExprKind::Const(bits) = &e.kind {
            return Expr::bits(bits[lo as usize..(lo + width) as usize].to_vec());
        }
        if lo == 0 && width == e.width {
            return e;
        }
        let name = self.fresh(hint);
        let w = self.wire(&name, e.width);
        self.assign(w, e);
        self.slice(w, lo, width)
    }
    /// A signal name not used yet, starting with `hint`.
    pub fn fresh(&self, hint: &str) -> String {
        if !self.m.sigs.iter().any(|s| s.name == hint) {
            return hint.to_string();
        }
        (0..)
            .map(|i| format!("{hint}_{i}"))
            .find(|n| !self.m.sigs.iter().any(|s| &s.name == n))
            .unwrap()
    }
    pub fn assign(&mut self, s: Sig, e: Expr) {
        let kind = self.m.sigs[s.idx].kind;
        assert!(
            matches!(kind, SigKind::Wire | SigKind::OutputWire),
            "assign to non-wire {}",
            self.m.sigs[s.idx].name
        );
        assert!(
            !self.driven[s.idx],
            "second driver of {}",
            self.m.sigs[s.idx].name
        );
        assert_eq!(
            s.width, e.width,
            "assign to {} of mismatched width",
            self.m.sigs[s.idx].name
        );
        self.driven[s.idx] = true;
        self.m.items.push(Item::Assign(s.idx, e));
    }
    pub fn always(&mut self, stmts: Vec<Stmt>) {
        fn check(b: &ModuleBuilder, st: &[Stmt], seen: &mut Vec<usize>) {
            for s in st {
                match s {
                    Stmt::Set(i, _) | Stmt::SetSlice(i, _, _) => {
                        assert!(
                            b.m.sigs[*i].kind.is_reg(),
                            "clocked assignment to non-reg {}",
                            b.m.sigs[*i].name
                        );
                        seen.push(*i);
                    }
                    Stmt::MemWrite(..) => {}
                    Stmt::If(_, t, e) => {
                        check(b, t, seen);
                        check(b, e, seen);
                    }
                }
            }
        }
        let mut seen = Vec::new();
        check(self, &stmts, &mut seen);
        for i in seen {
            self.driven[i] = true;
        }
        self.m.items.push(Item::Always(stmts));
    }
    pub fn memory(
        &mut self,
        name: &str,
        width: u32,
        depth: usize,
        init: Option<Vec<Vec<bool>>>,
    ) -> Mem {
        assert!(depth >= 2 && width >= 1, "memory {name} too small");
        assert!(
            !self.m.mems.iter().any(|m| m.name == name)
                && !self.m.sigs.iter().any(|s| s.name == name)
        );
        let block_ram = (width as usize) * depth >= crate::plan::cost::ram::BLOCK_RAM_BITS;
        let init = init.map(|words| {
            assert_eq!(words.len(), depth, "memory {name} init length");
            let digits = (width as usize).div_ceil(4);
            let hex_word = |w: &Vec<bool>| -> String {
                assert_eq!(w.len(), width as usize);
                (0..digits)
                    .rev()
                    .map(|d| {
                        let v = (0..4)
                            .filter(|b| w.get(d * 4 + b).copied().unwrap_or(false))
                            .fold(0, |v, b| v | (1 << b));
                        char::from_digit(v, 16).unwrap()
                    })
                    .collect()
            };
            words.iter().map(hex_word).collect()
        });
        self.m.mems.push(MemDecl {
            name: name.to_string(),
            width,
            depth,
            init,
            block_ram,
            logic: false,
            no_rw_check: false,
            weights: false,
            load_image: None,
            cells: false,
        });
        Mem {
            idx: self.m.mems.len() - 1,
            width,
            depth,
        }
    }
    /// Put memory `m` (no initial contents) in SPRAM, to be written with `image` after reset.
    pub fn spram(&mut self, m: Mem, image: Vec<u16>) {
        let mem = &mut self.m.mems[m.idx];
        assert!(mem.init.is_none() && mem.width <= 16 && image.len() == mem.depth);
        mem.block_ram = false;
        mem.load_image = Some(image);
    }
    /// Mark memory `m` for block RAM whatever its size (a bank of a larger table).
    pub fn force_block_ram(&mut self, m: Mem) {
        self.m.mems[m.idx].block_ram = true;
    }
    /// Number of memories declared so far: the mark for [`ModuleBuilder::mark_weights`].
    pub fn mem_count(&self) -> usize {
        self.m.mems.len()
    }
    /// Mark every memory declared since `from` (a [`ModuleBuilder::mem_count`]) as holding
    /// weights: a weight ROM and all its banks, whatever they are named.
    pub fn mark_weights(&mut self, from: usize) {
        for mem in &mut self.m.mems[from..] {
            mem.weights = true;
        }
    }
    /// Mark memory `m` as built from instantiated block-RAM cells (see `MemDecl::cells`):
    /// no statement of the module may read or write it.
    pub fn implement_as_cells(&mut self, m: Mem) {
        let mem = &mut self.m.mems[m.idx];
        mem.block_ram = true;
        mem.cells = true;
    }
    /// Promise that memory `m` is never read at the address written in the same cycle.
    pub fn no_rw_check(&mut self, m: Mem) {
        self.m.mems[m.idx].no_rw_check = true;
    }
    /// Mark read-only memory `m` for logic (LUTs), never block RAM, whatever its size (a
    /// large one only when the plan moved it there, `LayerPlan::weights_in_logic`).
    pub fn force_logic(&mut self, m: Mem) {
        let mem = &mut self.m.mems[m.idx];
        assert!(
            !mem.cells && mem.init.is_some(),
            "only ROMs that are not cells go to logic"
        );
        mem.block_ram = false;
        mem.logic = true;
    }
    /// `read` of a memory marked `no_rw_check`; with `poison` (`GenOptions::rw_poison`, a
    /// test aid) the word comes back inverted when `we` writes `waddr == addr` this cycle.
    pub fn read_checked(&self, m: Mem, addr: Expr, poison: bool, we: Expr, waddr: Expr) -> Expr {
        let word = self.read(m, addr.clone());
        if poison {
            we.and(waddr.eq(addr)).mux(word.clone().not(), word)
        } else {
            word
        }
    }
    pub fn read(&self, m: Mem, addr: Expr) -> Expr {
        assert_eq!(addr.width, addr_width(m.depth), "memory address width");
        Expr {
            kind: ExprKind::MemRead(m.idx, Box::new(addr)),
            width: m.width,
        }
    }
    /// Instantiate `child`, connecting every port by name; widths are checked.
    pub fn instance(&mut self, child: &Module, name: &str, conns: Vec<(&str, Conn)>) {
        self.instance_with_params(child, name, Vec::new(), conns);
    }
    /// [`ModuleBuilder::instance`] with parameter overrides (`name`, Verilog value text).
    /// A wire driven bit by bit (`Conn::OutBit`) must get every bit, each once.
    pub fn instance_with_params(
        &mut self,
        child: &Module,
        name: &str,
        params: Vec<(String, String)>,
        conns: Vec<(&str, Conn)>,
    ) {
        assert_eq!(
            conns.len(),
            child.ports().count(),
            "instance {name} of {}: every port must connect",
            child.name
        );
        let mut out = Vec::new();
        for (port, c) in conns {
            let p = child
                .port(port)
                .unwrap_or_else(|| panic!("{} has no port {port}", child.name));
            match &c {
                Conn::In(e) => {
                    assert_eq!(p.kind, SigKind::Input, "{port} is not an input");
                    assert_eq!(e.width, p.width, "port {port} of {name}");
                }
                Conn::Out(s) => {
                    assert_ne!(p.kind, SigKind::Input, "{port} is not an output");
                    assert_eq!(s.width, p.width, "port {port} of {name}");
                    self.drive_wire(*s);
                }
                Conn::OutBit(s, bit) => {
                    assert_ne!(p.kind, SigKind::Input, "{port} is not an output");
                    assert_eq!(p.width, 1, "port {port} of {name} is one bit");
                    assert!(*bit < s.width, "bit {bit} of a {}-bit wire", s.width);
                    assert!(
                        self.driven_bits.insert((s.idx, *bit)),
                        "second driver of {}[{bit}]",
                        self.m.sigs[s.idx].name
                    );
                    let all = (0..s.width).all(|i| self.driven_bits.contains(&(s.idx, i)));
                    if all {
                        self.drive_wire(*s);
                    }
                }
            }
            out.push((port.to_string(), c));
        }
        self.m.items.push(Item::Instance {
            module: child.name.clone(),
            name: name.to_string(),
            params,
            conns: out,
        });
    }
    fn drive_wire(&mut self, s: Sig) {
        assert!(matches!(
            self.m.sigs[s.idx].kind,
            SigKind::Wire | SigKind::OutputWire
        ));
        assert!(
            !self.driven[s.idx],
            "second driver of {}",
            self.m.sigs[s.idx].name
        );
        self.driven[s.idx] = true;
    }
    /// Finish; asserts every non-input signal has a driver.
    pub fn finish(self) -> Module {
        for (i, s) in self.m.sigs.iter().enumerate() {
            assert!(
                self.driven[i],
                "signal {} of {} has no driver",
                s.name, self.m.name
            );
        }
        self.m
    }
}
