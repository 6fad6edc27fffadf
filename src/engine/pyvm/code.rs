//! Instructions and code objects, with a small assembler and a `dis`-style listing.

use std::fmt::Write as _;

use super::value::Value;

/// Binary operators of `BINARY_OP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    TrueDiv,
}

impl BinOp {
    fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::TrueDiv => "/",
        }
    }
}

/// Attributes `LOAD_ATTR` can read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attr {
    /// `ndarray.shape`
    Shape,
}

/// One instruction, named and shaped after CPython 3.11's opcodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Function entry; an eval-breaker checkpoint.
    Resume,
    /// Push local `n`.
    LoadFast(u32),
    /// Pop into local `n`.
    StoreFast(u32),
    /// Push constant `n`.
    LoadConst(u32),
    /// Push global `n`, with a NULL below it when `null` (3.11's `LOAD_GLOBAL (NULL + name)`).
    LoadGlobal {
        /// Index into the global names.
        idx: u32,
        /// Whether a NULL is pushed first.
        null: bool,
    },
    /// Push NULL (before a callable loaded from a local).
    PushNull,
    /// Replace TOS by one of its attributes.
    LoadAttr(Attr),
    /// Unpack a sequence of `n` items onto the stack, first item on top.
    UnpackSequence(u32),
    /// Pop two operands, push the result.
    BinaryOp(BinOp),
    /// `TOS1[TOS]`.
    BinarySubscr,
    /// `TOS1[TOS] = TOS2`.
    StoreSubscr,
    /// Pop `n` items into a tuple.
    BuildTuple(u32),
    /// Pop start and stop into a slice.
    BuildSlice(u32),
    /// Replace TOS by an iterator over it.
    GetIter,
    /// Advance the iterator at TOS, or pop it and jump to the target when exhausted.
    ForIter(u32),
    /// Jump back to the target; an eval-breaker checkpoint.
    JumpBackward(u32),
    /// Prepare a call of `n` arguments (a no-op here, as mostly in 3.11).
    Precall(u32),
    /// Call with `n` arguments; an eval-breaker checkpoint.
    Call(u32),
    /// Pop and discard TOS.
    PopTop,
    /// Return TOS to the caller.
    ReturnValue,
}

/// A compiled function: instructions, constants, local names.
#[derive(Debug)]
pub struct Code {
    /// Function name.
    pub name: &'static str,
    /// Number of positional arguments.
    pub argcount: usize,
    /// Local variable names (arguments first).
    pub varnames: Vec<&'static str>,
    /// Constants.
    pub consts: Vec<Value>,
    /// Instructions.
    pub ops: Vec<Op>,
}

impl Code {
    /// A listing in the style of `dis.dis`, with global names resolved through `globals`.
    pub fn disassemble(&self, globals: &[&str]) -> String {
        let mut out = String::new();
        let targets: Vec<u32> = self
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::ForIter(t) | Op::JumpBackward(t) => Some(*t),
                _ => None,
            })
            .collect();
        for (pc, op) in self.ops.iter().enumerate() {
            let mark = if targets.contains(&(pc as u32)) {
                ">>"
            } else {
                "  "
            };
            let (name, arg) = match *op {
                Op::Resume => ("RESUME", "0".to_owned()),
                Op::LoadFast(n) => ("LOAD_FAST", self.local(n)),
                Op::StoreFast(n) => ("STORE_FAST", self.local(n)),
                Op::LoadConst(n) => ("LOAD_CONST", self.konst(n)),
                Op::LoadGlobal { idx, null } => {
                    let g = globals.get(idx as usize).copied().unwrap_or("?");
                    let arg = if null {
                        format!("(NULL + {g})")
                    } else {
                        format!("({g})")
                    };
                    ("LOAD_GLOBAL", arg)
                }
                Op::PushNull => ("PUSH_NULL", String::new()),
                Op::LoadAttr(Attr::Shape) => ("LOAD_ATTR", "(shape)".to_owned()),
                Op::UnpackSequence(n) => ("UNPACK_SEQUENCE", n.to_string()),
                Op::BinaryOp(b) => ("BINARY_OP", format!("({})", b.symbol())),
                Op::BinarySubscr => ("BINARY_SUBSCR", String::new()),
                Op::StoreSubscr => ("STORE_SUBSCR", String::new()),
                Op::BuildTuple(n) => ("BUILD_TUPLE", n.to_string()),
                Op::BuildSlice(n) => ("BUILD_SLICE", n.to_string()),
                Op::GetIter => ("GET_ITER", String::new()),
                Op::ForIter(t) => ("FOR_ITER", format!("(to {})", t * 2)),
                Op::JumpBackward(t) => ("JUMP_BACKWARD", format!("(to {})", t * 2)),
                Op::Precall(n) => ("PRECALL", n.to_string()),
                Op::Call(n) => ("CALL", n.to_string()),
                Op::PopTop => ("POP_TOP", String::new()),
                Op::ReturnValue => ("RETURN_VALUE", String::new()),
            };
            let _ = writeln!(out, "{mark} {:>4} {name:<16} {arg}", pc * 2);
        }
        out
    }

    fn local(&self, n: u32) -> String {
        format!(
            "({})",
            self.varnames.get(n as usize).copied().unwrap_or("?")
        )
    }

    fn konst(&self, n: u32) -> String {
        match self.consts.get(n as usize) {
            Some(Value::Int(i)) => format!("({i})"),
            Some(Value::Float(f)) => format!("({f})"),
            Some(Value::None) => "(None)".to_owned(),
            Some(v) => format!("<{}>", v.type_name()),
            None => "?".to_owned(),
        }
    }
}

/// Builds a [`Code`] instruction by instruction.
pub struct Asm {
    code: Code,
}

impl Asm {
    /// Starts a function with the given argument and local names.
    pub fn new(name: &'static str, args: &[&'static str], locals: &[&'static str]) -> Self {
        let mut varnames = args.to_vec();
        varnames.extend_from_slice(locals);
        Self {
            code: Code {
                name,
                argcount: args.len(),
                varnames,
                consts: Vec::new(),
                ops: vec![Op::Resume],
            },
        }
    }

    /// Appends an instruction and returns its index.
    pub fn op(&mut self, op: Op) -> u32 {
        self.code.ops.push(op);
        (self.code.ops.len() - 1) as u32
    }

    /// Index of the next instruction.
    pub fn here(&self) -> u32 {
        self.code.ops.len() as u32
    }

    /// The slot of a local variable.
    pub fn local(&self, name: &str) -> u32 {
        self.code
            .varnames
            .iter()
            .position(|v| *v == name)
            .map_or(u32::MAX, |p| p as u32)
    }

    /// `LOAD_FAST name`.
    pub fn load(&mut self, name: &str) {
        let n = self.local(name);
        self.op(Op::LoadFast(n));
    }

    /// `STORE_FAST name`.
    pub fn store(&mut self, name: &str) {
        let n = self.local(name);
        self.op(Op::StoreFast(n));
    }

    /// `LOAD_CONST value`, reusing an equal int or None constant.
    pub fn konst(&mut self, v: Value) {
        let found = self.code.consts.iter().position(|c| match (c, &v) {
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::None, Value::None) => true,
            _ => false,
        });
        let idx = found.unwrap_or_else(|| {
            self.code.consts.push(v);
            self.code.consts.len() - 1
        });
        self.op(Op::LoadConst(idx as u32));
    }

    /// `LOAD_CONST n` for an int.
    pub fn int(&mut self, n: i64) {
        self.konst(Value::Int(n));
    }

    /// Points the `FOR_ITER` at `at` to the exit `target`.
    pub fn patch_exit(&mut self, at: u32, target: u32) {
        if let Some(Op::ForIter(t)) = self.code.ops.get_mut(at as usize) {
            *t = target;
        }
    }

    /// The finished code object.
    pub fn finish(self) -> Code {
        self.code
    }
}
