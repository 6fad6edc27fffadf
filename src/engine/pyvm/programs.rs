//! The benchmark's Python functions (`calc`, `py_update`, `num_update`, and the io kernel) as the
//! bytecode CPython 3.11 runs for them, plus their source text for the teaching panel.

use std::rc::Rc;

use super::code::{Asm, Attr, BinOp, Code, Op};
use super::value::{Builtin, Value};
use crate::engine::config::Kernel;
use crate::engine::workload::{DX2, DY2};

/// Source of the module the workers run (the source post's code, plus the io kernel).
pub const MODULE_SOURCE: &str = r#"dx = 0.1
dy = 0.1
dx2 = dx*dx
dy2 = dy*dy

def num_update(u):
    u[1:-1,1:-1] = ((u[2:,1:-1]+u[:-2,1:-1])*dy2 +
                    (u[1:-1,2:] + u[1:-1,:-2])*dx2) / (2*(dx2+dy2))

def py_update(u):
    nx, ny = u.shape
    for i in range(1,nx-1):
        for j in range(1, ny-1):
            u[i,j] = ((u[i+1, j] + u[i-1, j]) * dy2 +
                      (u[i, j+1] + u[i, j-1]) * dx2) / (2*(dx2+dy2))

def io_update(u):
    reply = recv()            # blocking read: the GIL is released
    total = 0
    for b in range(64):       # parse the reply: pure Python
        total = total + b
    num_update(u)

def calc(N, Niter=100, func=py_update, icl=[1]):
    for ic in icl:
        u = zeros((N, N))
        u[0] = ic
        for i in range(Niter):
            func(u)
            _tick(u)          # gilscope: progress and live grid
        _done(u)              # gilscope: the problem's checksum
"#;

/// Names of the module globals, in slot order.
pub const GLOBAL_NAMES: [&str; 10] = [
    "range",
    "zeros",
    "dx2",
    "dy2",
    "_tick",
    "_done",
    "recv",
    "num_update",
    "py_update",
    "io_update",
];

const G_RANGE: u32 = 0;
const G_ZEROS: u32 = 1;
const G_DX2: u32 = 2;
const G_DY2: u32 = 3;
const G_TICK: u32 = 4;
const G_DONE: u32 = 5;
const G_RECV: u32 = 6;
const G_NUM_UPDATE: u32 = 7;

fn global(a: &mut Asm, idx: u32) {
    a.op(Op::LoadGlobal { idx, null: false });
}

fn global_call(a: &mut Asm, idx: u32) {
    a.op(Op::LoadGlobal { idx, null: true });
}

fn bin(a: &mut Asm, op: BinOp) {
    a.op(Op::BinaryOp(op));
}

fn call(a: &mut Asm, n: u32) {
    a.op(Op::Precall(n));
    a.op(Op::Call(n));
}

fn return_none(a: &mut Asm) {
    a.konst(Value::None);
    a.op(Op::ReturnValue);
}

/// `u[i+di, j+dj]` loaded onto the stack, the way CPython 3.11 compiles it.
fn load_cell(a: &mut Asm, di: i64, dj: i64) {
    a.load("u");
    a.load("i");
    if di != 0 {
        a.int(1);
        bin(a, if di > 0 { BinOp::Add } else { BinOp::Sub });
    }
    a.load("j");
    if dj != 0 {
        a.int(1);
        bin(a, if dj > 0 { BinOp::Add } else { BinOp::Sub });
    }
    a.op(Op::BuildTuple(2));
    a.op(Op::BinarySubscr);
}

/// The stencil both updates share, in the order the source writes it:
/// `((S + N) * dy2 + (E + W) * dx2) / (2*(dx2+dy2))`; `load` pushes the neighbour at an offset
/// (a cell for `py_update`, a shifted view for `num_update`).
fn stencil(a: &mut Asm, load: impl Fn(&mut Asm, (i64, i64))) {
    load(a, (1, 0));
    load(a, (-1, 0));
    bin(a, BinOp::Add);
    global(a, G_DY2);
    bin(a, BinOp::Mul);
    load(a, (0, 1));
    load(a, (0, -1));
    bin(a, BinOp::Add);
    global(a, G_DX2);
    bin(a, BinOp::Mul);
    bin(a, BinOp::Add);
    a.int(2);
    global(a, G_DX2);
    global(a, G_DY2);
    bin(a, BinOp::Add);
    bin(a, BinOp::Mul);
    bin(a, BinOp::TrueDiv);
}

/// `py_update(u)`: the in-place pure-Python sweep.
pub fn py_update() -> Code {
    let mut a = Asm::new("py_update", &["u"], &["nx", "ny", "i", "j"]);
    a.load("u");
    a.op(Op::LoadAttr(Attr::Shape));
    a.op(Op::UnpackSequence(2));
    a.store("nx");
    a.store("ny");
    global_call(&mut a, G_RANGE);
    a.int(1);
    a.load("nx");
    a.int(1);
    bin(&mut a, BinOp::Sub);
    call(&mut a, 2);
    a.op(Op::GetIter);
    let outer = a.op(Op::ForIter(0));
    a.store("i");
    global_call(&mut a, G_RANGE);
    a.int(1);
    a.load("ny");
    a.int(1);
    bin(&mut a, BinOp::Sub);
    call(&mut a, 2);
    a.op(Op::GetIter);
    let inner = a.op(Op::ForIter(0));
    a.store("j");
    // ((u[i+1, j] + u[i-1, j]) * dy2 + (u[i, j+1] + u[i, j-1]) * dx2) / (2*(dx2+dy2))
    stencil(&mut a, |a, (di, dj)| load_cell(a, di, dj));
    // u[i,j] = ...
    a.load("u");
    a.load("i");
    a.load("j");
    a.op(Op::BuildTuple(2));
    a.op(Op::StoreSubscr);
    a.op(Op::JumpBackward(inner));
    let inner_exit = a.op(Op::JumpBackward(outer));
    a.patch_exit(inner, inner_exit);
    let outer_exit = a.here();
    a.patch_exit(outer, outer_exit);
    return_none(&mut a);
    a.finish()
}

/// `u[r0:r1, c0:c1]` built with `BUILD_SLICE` and `BUILD_TUPLE`, then subscripted or stored.
fn slice2(a: &mut Asm, rows: (Option<i64>, Option<i64>), cols: (Option<i64>, Option<i64>)) {
    for (start, stop) in [rows, cols] {
        a.konst(start.map_or(Value::None, Value::Int));
        a.konst(stop.map_or(Value::None, Value::Int));
        a.op(Op::BuildSlice(2));
    }
    a.op(Op::BuildTuple(2));
}

/// `num_update(u)`: the whole-array (Jacobi) update, each array operation releasing the GIL.
pub fn num_update() -> Code {
    let mut a = Asm::new("num_update", &["u"], &[]);
    let inner = (Some(1), Some(-1));
    let from2 = (Some(2), None);
    let to_m2 = (None, Some(-2));
    // u[2:,1:-1] is the cell below, u[:-2,1:-1] above, u[1:-1,2:] right, u[1:-1,:-2] left.
    let view = |d: i64| match d {
        1 => from2,
        -1 => to_m2,
        _ => inner,
    };
    stencil(&mut a, |a, (di, dj)| {
        a.load("u");
        slice2(a, view(di), view(dj));
        a.op(Op::BinarySubscr);
    });
    a.load("u");
    slice2(&mut a, inner, inner);
    a.op(Op::StoreSubscr);
    return_none(&mut a);
    a.finish()
}

/// `io_update(u)`: a blocking receive, a little pure-Python parsing, then `num_update(u)`.
pub fn io_update() -> Code {
    let mut a = Asm::new("io_update", &["u"], &["reply", "total", "b"]);
    global_call(&mut a, G_RECV);
    call(&mut a, 0);
    a.store("reply");
    a.int(0);
    a.store("total");
    global_call(&mut a, G_RANGE);
    a.int(64);
    call(&mut a, 1);
    a.op(Op::GetIter);
    let top = a.op(Op::ForIter(0));
    a.store("b");
    a.load("total");
    a.load("b");
    bin(&mut a, BinOp::Add);
    a.store("total");
    let exit = a.op(Op::JumpBackward(top));
    a.patch_exit(top, exit + 1);
    global_call(&mut a, G_NUM_UPDATE);
    a.load("u");
    call(&mut a, 1);
    a.op(Op::PopTop);
    return_none(&mut a);
    a.finish()
}

/// `calc(N, Niter, func, icl)`: the per-worker driver of the source benchmark.
pub fn calc() -> Code {
    let mut a = Asm::new("calc", &["N", "Niter", "func", "icl"], &["ic", "u", "i"]);
    a.load("icl");
    a.op(Op::GetIter);
    let outer = a.op(Op::ForIter(0));
    a.store("ic");
    global_call(&mut a, G_ZEROS);
    a.load("N");
    a.load("N");
    a.op(Op::BuildTuple(2));
    call(&mut a, 1);
    a.store("u");
    a.load("ic");
    a.load("u");
    a.int(0);
    a.op(Op::StoreSubscr);
    global_call(&mut a, G_RANGE);
    a.load("Niter");
    call(&mut a, 1);
    a.op(Op::GetIter);
    let inner = a.op(Op::ForIter(0));
    a.store("i");
    a.op(Op::PushNull);
    a.load("func");
    a.load("u");
    call(&mut a, 1);
    a.op(Op::PopTop);
    global_call(&mut a, G_TICK);
    a.load("u");
    call(&mut a, 1);
    a.op(Op::PopTop);
    let inner_back = a.op(Op::JumpBackward(inner));
    a.patch_exit(inner, inner_back + 1);
    global_call(&mut a, G_DONE);
    a.load("u");
    call(&mut a, 1);
    a.op(Op::PopTop);
    let outer_back = a.op(Op::JumpBackward(outer));
    a.patch_exit(outer, outer_back + 1);
    return_none(&mut a);
    a.finish()
}

/// The compiled module: every function and the globals table.
pub struct Program {
    /// `calc`.
    pub calc: Rc<Code>,
    /// `py_update`.
    pub py_update: Rc<Code>,
    /// `num_update`.
    pub num_update: Rc<Code>,
    /// `io_update`.
    pub io_update: Rc<Code>,
}

impl Program {
    /// Compiles the module.
    pub fn new() -> Self {
        Self {
            calc: Rc::new(calc()),
            py_update: Rc::new(py_update()),
            num_update: Rc::new(num_update()),
            io_update: Rc::new(io_update()),
        }
    }

    /// The update function a kernel runs.
    pub fn update_fn(&self, kernel: Kernel) -> Rc<Code> {
        Rc::clone(match kernel {
            Kernel::Python => &self.py_update,
            Kernel::Numpy => &self.num_update,
            Kernel::Io => &self.io_update,
        })
    }

    /// The module globals, in [`GLOBAL_NAMES`] order.
    pub fn globals(&self) -> Vec<Value> {
        vec![
            Value::Builtin(Builtin::Range),
            Value::Builtin(Builtin::Zeros),
            Value::Float(DX2),
            Value::Float(DY2),
            Value::Builtin(Builtin::Tick),
            Value::Builtin(Builtin::Done),
            Value::Builtin(Builtin::Recv),
            Value::Function(Rc::clone(&self.num_update)),
            Value::Function(Rc::clone(&self.py_update)),
            Value::Function(Rc::clone(&self.io_update)),
        ]
    }
}

impl Default for Program {
    fn default() -> Self {
        Self::new()
    }
}

/// The `dis`-style listing of the update function a kernel runs.
pub fn disassembly(kernel: Kernel) -> String {
    let code = match kernel {
        Kernel::Python => py_update(),
        Kernel::Numpy => num_update(),
        Kernel::Io => io_update(),
    };
    code.disassemble(&GLOBAL_NAMES)
}
