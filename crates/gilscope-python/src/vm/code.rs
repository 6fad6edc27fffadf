//! Instructions and code objects after CPython 3.11, and their listing in the layout of
//! `python3 -m dis` (offsets count the inline CACHE entries, which are not shown).

use std::fmt::Write as _;
use std::sync::Arc;

use super::value::{Value, float_repr, str_repr};

/// `BINARY_OP`'s operators, numbered as CPython 3.11's `NB_*` (in-place forms are `+ 13`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BinOp(pub u8);

impl BinOp {
    /// `+`
    pub const ADD: BinOp = BinOp(0);
    /// `&`
    pub const AND: BinOp = BinOp(1);
    /// `//`
    pub const FLOOR_DIV: BinOp = BinOp(2);
    /// `<<`
    pub const LSHIFT: BinOp = BinOp(3);
    /// `@`
    pub const MATMUL: BinOp = BinOp(4);
    /// `*`
    pub const MUL: BinOp = BinOp(5);
    /// `%`
    pub const MOD: BinOp = BinOp(6);
    /// `|`
    pub const OR: BinOp = BinOp(7);
    /// `**`
    pub const POW: BinOp = BinOp(8);
    /// `>>`
    pub const RSHIFT: BinOp = BinOp(9);
    /// `-`
    pub const SUB: BinOp = BinOp(10);
    /// `/`
    pub const TRUE_DIV: BinOp = BinOp(11);
    /// `^`
    pub const XOR: BinOp = BinOp(12);

    /// The in-place form (`+=` for `+`).
    pub fn inplace(self) -> BinOp {
        BinOp(self.0 % 13 + 13)
    }

    /// The operation without its in-place flag.
    #[inline(always)]
    pub fn base(self) -> BinOp {
        BinOp(self.0 % 13)
    }

    /// The operator as `dis` shows it.
    pub fn symbol(self) -> String {
        const S: [&str; 13] = [
            "+", "&", "//", "<<", "@", "*", "%", "|", "**", ">>", "-", "/", "^",
        ];
        let s = S[(self.0 % 13) as usize];
        if self.0 >= 13 {
            format!("{s}=")
        } else {
            s.to_owned()
        }
    }
}

/// `COMPARE_OP`'s comparisons, numbered as `dis.cmp_op`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `<`
    Lt = 0,
    /// `<=`
    Le = 1,
    /// `==`
    Eq = 2,
    /// `!=`
    Ne = 3,
    /// `>`
    Gt = 4,
    /// `>=`
    Ge = 5,
}

impl CmpOp {
    /// The operator as `dis` shows it.
    pub fn symbol(self) -> &'static str {
        ["<", "<=", "==", "!=", ">", ">="][self as usize]
    }
}

/// One instruction, named and shaped after CPython 3.11's opcodes. Jump targets are instruction
/// indices; the listing turns them into byte offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// No operation.
    Nop,
    /// Pop and discard TOS.
    PopTop,
    /// Push NULL (before a callable that is not a method).
    PushNull,
    /// Function entry; an eval-breaker checkpoint.
    Resume,
    /// `+x`
    UnaryPositive,
    /// `-x`
    UnaryNegative,
    /// `not x`
    UnaryNot,
    /// `~x`
    UnaryInvert,
    /// `TOS1[TOS]`.
    BinarySubscr,
    /// `TOS1[TOS] = TOS2`.
    StoreSubscr,
    /// Replace TOS by an iterator over it.
    GetIter,
    /// Return TOS to the caller.
    ReturnValue,
    /// Store TOS in the module namespace (module code).
    StoreName(u32),
    /// Unpack a sequence of `n` items onto the stack, first item on top.
    UnpackSequence(u32),
    /// Advance the iterator at TOS, or pop it and jump to the target when exhausted.
    ForIter(u32),
    /// Swap TOS with the item `n` down.
    Swap(u32),
    /// Push a copy of the item `n` down.
    Copy(u32),
    /// Store TOS in a global.
    StoreGlobal(u32),
    /// Push constant `n`.
    LoadConst(u32),
    /// Push a name from the module namespace (module code).
    LoadName(u32),
    /// Pop `n` items into a tuple.
    BuildTuple(u32),
    /// Pop `n` items into a list.
    BuildList(u32),
    /// Pop `n` key/value pairs into a dict.
    BuildMap(u32),
    /// Replace TOS by one of its attributes.
    LoadAttr(u32),
    /// Compare TOS1 with TOS.
    CompareOp(CmpOp),
    /// Import a module (TOS1 = level, TOS = fromlist).
    ImportName(u32),
    /// Push an attribute of the module at TOS.
    ImportFrom(u32),
    /// Pop the module at TOS and bind its public names in the module namespace.
    ImportStar,
    /// Jump forward to the target.
    JumpForward(u32),
    /// Jump to the target if TOS is false, else pop it.
    JumpIfFalseOrPop(u32),
    /// Jump to the target if TOS is true, else pop it.
    JumpIfTrueOrPop(u32),
    /// Pop TOS; jump forward if it is false.
    PopJumpForwardIfFalse(u32),
    /// Pop TOS; jump forward if it is true.
    PopJumpForwardIfTrue(u32),
    /// Push global `n >> 1`, with a NULL below it when `n & 1` (`LOAD_GLOBAL (NULL + name)`).
    LoadGlobal(u32),
    /// `is` (`is not` when the argument is 1).
    IsOp(u32),
    /// `in` (`not in` when the argument is 1).
    ContainsOp(u32),
    /// Push local `n`.
    LoadFast(u32),
    /// Pop into local `n`.
    StoreFast(u32),
    /// Pop TOS; jump forward if it is not None.
    PopJumpForwardIfNotNone(u32),
    /// Pop TOS; jump forward if it is None.
    PopJumpForwardIfNone(u32),
    /// Make a function from the code at TOS (flag 1: defaults tuple below it).
    MakeFunction(u32),
    /// Pop start and stop (and step for 3) into a slice.
    BuildSlice(u32),
    /// Jump back to the target; an eval-breaker checkpoint.
    JumpBackward(u32),
    /// Extend the list `n` down with TOS.
    ListExtend(u32),
    /// Pop `n` values and a key tuple into a dict.
    BuildConstKeyMap(u32),
    /// Push a method and its object, or NULL and the attribute.
    LoadMethod(u32),
    /// Prepare a call of `n` arguments (a no-op here, as mostly in 3.11).
    Precall(u32),
    /// Call with `n` arguments; an eval-breaker checkpoint after a C function returns.
    Call(u32),
    /// Pop TOS; jump back if it is not None; a checkpoint.
    PopJumpBackwardIfNotNone(u32),
    /// Pop TOS; jump back if it is None; a checkpoint.
    PopJumpBackwardIfNone(u32),
    /// Pop TOS; jump back if it is false; a checkpoint.
    PopJumpBackwardIfFalse(u32),
    /// Pop TOS; jump back if it is true; a checkpoint.
    PopJumpBackwardIfTrue(u32),
    /// Binary operation.
    BinaryOp(BinOp),
    /// The high byte of the next instruction's argument.
    ExtendedArg(u32),
    /// Format TOS for an f-string: bits 0-1 the conversion (none, `!s`, `!r`, `!a`), bit 2 a
    /// format spec at TOS above the value.
    FormatValue(u32),
    /// Pop `n` strings and push their concatenation.
    BuildString(u32),
    /// Name the last arguments of the next `CALL` by the tuple constant `n`.
    KwNames(u32),
    /// Call TOS1 (or TOS2, bit 0 set: with the dict at TOS) with the tuple below the dict.
    CallFunctionEx(u32),
    /// Append TOS to the list `n` down.
    ListAppend(u32),
    /// Replace the list at TOS by a tuple of its items.
    ListToTuple,
    /// Merge the mapping at TOS into the dict `n` down, refusing repeated keys.
    DictMerge(u32),
    /// Add the key TOS1 and value TOS to the dict `n` down.
    MapAdd(u32),
    /// Push the value in the cell in local slot `n`.
    LoadDeref(u32),
    /// Pop into the cell in local slot `n`.
    StoreDeref(u32),
    /// Push the cell itself in local slot `n` (for a closure).
    LoadClosure(u32),
    /// Make local slot `n` a cell holding its value.
    MakeCell(u32),
    /// Copy the function's `n` closure cells into the last local slots.
    CopyFreeVars(u32),
    /// Make the frame a generator object and return it to the caller.
    ReturnGenerator,
    /// Suspend the generator, handing TOS to whoever resumed it.
    YieldValue,
    /// `RESUME 1`: where a generator goes on after a yield; an eval-breaker checkpoint.
    ResumeAfterYield,
    /// `RESUME 2`: where a generator goes on after a `yield from` step; a checkpoint.
    ResumeAfterYieldFrom,
    /// `RESUME 3`: where a coroutine goes on after an `await` step; a checkpoint.
    ResumeAfterAwait,
    /// `GET_AWAITABLE where`: TOS becomes the iterator `await` drives (0 plain, 1 after
    /// `__aenter__`, 2 after `__aexit__`).
    GetAwaitable(u32),
    /// `GET_AITER`: TOS becomes its asynchronous iterator (`__aiter__`).
    GetAiter,
    /// `GET_ANEXT`: pushes the awaitable of the next item of the asynchronous iterator at TOS.
    GetAnext,
    /// `END_ASYNC_FOR`: the handler of an `async for`'s `__anext__`: `StopAsyncIteration` ends
    /// the loop (popping the iterator), anything else is raised again.
    EndAsyncFor,
    /// `ASYNC_GEN_WRAP`: marks TOS as a value an async generator yields to its consumer.
    AsyncGenWrap,
    /// `GET_YIELD_FROM_ITER`: TOS becomes the iterator `yield from` drives.
    GetYieldFromIter,
    /// `SEND target`: sends TOS into the iterator TOS1; what it yields replaces TOS, and once it
    /// returns, its value replaces both and the jump is taken.
    Send(u32),
    /// `JUMP_BACKWARD_NO_INTERRUPT`: back to the `SEND`, without an eval-breaker checkpoint.
    JumpBackwardNoInterrupt(u32),
    /// `UNPACK_EX counts`: unpacks TOS into `counts & 0xff` values, a list of the rest, and
    /// `counts >> 8` values (`a, *b, c = …`).
    UnpackEx(u32),
    /// `DICT_UPDATE n`: updates the dict `n` down with the mapping at TOS (`{**m}`).
    DictUpdate(u32),
    /// `PUSH_EXC_INFO`: the exception being handled goes under the one caught.
    PushExcInfo,
    /// `POP_EXCEPT`: restores the exception that was being handled before.
    PopExcept,
    /// `RERAISE oparg`: raises TOS again (oparg > 0: the frame's lasti is at that depth).
    Reraise(u32),
    /// `CHECK_EXC_MATCH`: whether TOS1 is an instance of the class (or tuple) TOS.
    CheckExcMatch,
    /// `RAISE_VARARGS argc`: `raise`, `raise exc`, `raise exc from cause`.
    RaiseVarargs(u32),
    /// `LOAD_ASSERTION_ERROR`.
    LoadAssertionError,
    /// `BEFORE_WITH`: `__exit__` bound, then the result of `__enter__()`.
    BeforeWith,
    /// `BEFORE_ASYNC_WITH`: pushes the bound `__aexit__`, then `__aenter__()`'s awaitable.
    BeforeAsyncWith,
    /// `WITH_EXCEPT_START`: calls `__exit__(type, value, traceback)` of the exception raised.
    WithExceptStart,
    /// `DELETE_FAST`.
    DeleteFast(u32),
    /// `DELETE_NAME`.
    DeleteName(u32),
    /// `DELETE_GLOBAL`.
    DeleteGlobal(u32),
    /// `DELETE_DEREF`.
    DeleteDeref(u32),
    /// `DELETE_SUBSCR`.
    DeleteSubscr,
    /// `LOAD_BUILD_CLASS`: pushes `builtins.__build_class__`.
    LoadBuildClass,
    /// `SETUP_ANNOTATIONS`: makes `__annotations__` a fresh dict in the module or class
    /// namespace unless it has one.
    SetupAnnotations,
    /// `LOAD_CLASSDEREF`: a class body's free name, from its namespace or else the cell.
    LoadClassDeref(u32),
    /// `STORE_ATTR namei`: `TOS.name = TOS1`.
    StoreAttr(u32),
    /// `DELETE_ATTR namei`.
    DeleteAttr(u32),
    /// `BUILD_SET count`.
    BuildSet(u32),
    /// `SET_ADD i`: adds TOS to the set `i` deep.
    SetAdd(u32),
    /// `SET_UPDATE i`: adds TOS's items to the set `i` deep.
    SetUpdate(u32),
}

/// How an instruction's argument is shown.
enum ArgKind {
    None,
    Plain,
    Const,
    Name,
    GlobalName,
    Local,
    Jump,
    Compare,
    BinOp,
    MakeFunction,
    FormatValue,
    Deref,
}

impl Op {
    /// CPython 3.11's opcode name (`BINARY_OP`).
    pub fn opname(self) -> &'static str {
        self.describe().0
    }

    /// CPython 3.11's opcode name, its argument, and how to show it.
    fn describe(self) -> (&'static str, Option<u32>, ArgKind) {
        use ArgKind as K;
        match self {
            Op::Nop => ("NOP", None, K::None),
            Op::PopTop => ("POP_TOP", None, K::None),
            Op::PushNull => ("PUSH_NULL", None, K::None),
            Op::Resume => ("RESUME", Some(0), K::Plain),
            Op::UnaryPositive => ("UNARY_POSITIVE", None, K::None),
            Op::UnaryNegative => ("UNARY_NEGATIVE", None, K::None),
            Op::UnaryNot => ("UNARY_NOT", None, K::None),
            Op::UnaryInvert => ("UNARY_INVERT", None, K::None),
            Op::BinarySubscr => ("BINARY_SUBSCR", None, K::None),
            Op::StoreSubscr => ("STORE_SUBSCR", None, K::None),
            Op::GetIter => ("GET_ITER", None, K::None),
            Op::ReturnValue => ("RETURN_VALUE", None, K::None),
            Op::StoreName(n) => ("STORE_NAME", Some(n), K::Name),
            Op::UnpackSequence(n) => ("UNPACK_SEQUENCE", Some(n), K::Plain),
            Op::ForIter(t) => ("FOR_ITER", Some(t), K::Jump),
            Op::Swap(n) => ("SWAP", Some(n), K::Plain),
            Op::Copy(n) => ("COPY", Some(n), K::Plain),
            Op::StoreGlobal(n) => ("STORE_GLOBAL", Some(n), K::Name),
            Op::LoadConst(n) => ("LOAD_CONST", Some(n), K::Const),
            Op::LoadName(n) => ("LOAD_NAME", Some(n), K::Name),
            Op::BuildTuple(n) => ("BUILD_TUPLE", Some(n), K::Plain),
            Op::BuildList(n) => ("BUILD_LIST", Some(n), K::Plain),
            Op::BuildMap(n) => ("BUILD_MAP", Some(n), K::Plain),
            Op::LoadAttr(n) => ("LOAD_ATTR", Some(n), K::Name),
            Op::CompareOp(c) => ("COMPARE_OP", Some(c as u32), K::Compare),
            Op::ImportName(n) => ("IMPORT_NAME", Some(n), K::Name),
            Op::ImportFrom(n) => ("IMPORT_FROM", Some(n), K::Name),
            Op::ImportStar => ("IMPORT_STAR", None, K::None),
            Op::JumpForward(t) => ("JUMP_FORWARD", Some(t), K::Jump),
            Op::JumpIfFalseOrPop(t) => ("JUMP_IF_FALSE_OR_POP", Some(t), K::Jump),
            Op::JumpIfTrueOrPop(t) => ("JUMP_IF_TRUE_OR_POP", Some(t), K::Jump),
            Op::PopJumpForwardIfFalse(t) => ("POP_JUMP_FORWARD_IF_FALSE", Some(t), K::Jump),
            Op::PopJumpForwardIfTrue(t) => ("POP_JUMP_FORWARD_IF_TRUE", Some(t), K::Jump),
            Op::LoadGlobal(n) => ("LOAD_GLOBAL", Some(n), K::GlobalName),
            Op::IsOp(n) => ("IS_OP", Some(n), K::Plain),
            Op::ContainsOp(n) => ("CONTAINS_OP", Some(n), K::Plain),
            Op::LoadFast(n) => ("LOAD_FAST", Some(n), K::Local),
            Op::StoreFast(n) => ("STORE_FAST", Some(n), K::Local),
            Op::PopJumpForwardIfNotNone(t) => ("POP_JUMP_FORWARD_IF_NOT_NONE", Some(t), K::Jump),
            Op::PopJumpForwardIfNone(t) => ("POP_JUMP_FORWARD_IF_NONE", Some(t), K::Jump),
            Op::MakeFunction(f) => ("MAKE_FUNCTION", Some(f), K::MakeFunction),
            Op::BuildSlice(n) => ("BUILD_SLICE", Some(n), K::Plain),
            Op::JumpBackward(t) => ("JUMP_BACKWARD", Some(t), K::Jump),
            Op::ListExtend(n) => ("LIST_EXTEND", Some(n), K::Plain),
            Op::BuildConstKeyMap(n) => ("BUILD_CONST_KEY_MAP", Some(n), K::Plain),
            Op::LoadMethod(n) => ("LOAD_METHOD", Some(n), K::Name),
            Op::Precall(n) => ("PRECALL", Some(n), K::Plain),
            Op::Call(n) => ("CALL", Some(n), K::Plain),
            Op::PopJumpBackwardIfNotNone(t) => ("POP_JUMP_BACKWARD_IF_NOT_NONE", Some(t), K::Jump),
            Op::PopJumpBackwardIfNone(t) => ("POP_JUMP_BACKWARD_IF_NONE", Some(t), K::Jump),
            Op::PopJumpBackwardIfFalse(t) => ("POP_JUMP_BACKWARD_IF_FALSE", Some(t), K::Jump),
            Op::PopJumpBackwardIfTrue(t) => ("POP_JUMP_BACKWARD_IF_TRUE", Some(t), K::Jump),
            Op::BinaryOp(b) => ("BINARY_OP", Some(u32::from(b.0)), K::BinOp),
            Op::ExtendedArg(n) => ("EXTENDED_ARG", Some(n), K::Plain),
            Op::FormatValue(n) => ("FORMAT_VALUE", Some(n), K::FormatValue),
            Op::BuildString(n) => ("BUILD_STRING", Some(n), K::Plain),
            Op::KwNames(n) => ("KW_NAMES", Some(n), K::Plain),
            Op::CallFunctionEx(n) => ("CALL_FUNCTION_EX", Some(n), K::Plain),
            Op::ListAppend(n) => ("LIST_APPEND", Some(n), K::Plain),
            Op::ListToTuple => ("LIST_TO_TUPLE", None, K::None),
            Op::DictMerge(n) => ("DICT_MERGE", Some(n), K::Plain),
            Op::MapAdd(n) => ("MAP_ADD", Some(n), K::Plain),
            Op::LoadDeref(n) => ("LOAD_DEREF", Some(n), K::Deref),
            Op::StoreDeref(n) => ("STORE_DEREF", Some(n), K::Deref),
            Op::LoadClosure(n) => ("LOAD_CLOSURE", Some(n), K::Deref),
            Op::MakeCell(n) => ("MAKE_CELL", Some(n), K::Deref),
            Op::CopyFreeVars(n) => ("COPY_FREE_VARS", Some(n), K::Plain),
            Op::ReturnGenerator => ("RETURN_GENERATOR", None, K::None),
            Op::YieldValue => ("YIELD_VALUE", None, K::None),
            Op::ResumeAfterYield => ("RESUME", Some(1), K::Plain),
            Op::ResumeAfterYieldFrom => ("RESUME", Some(2), K::Plain),
            Op::ResumeAfterAwait => ("RESUME", Some(3), K::Plain),
            Op::GetAwaitable(n) => ("GET_AWAITABLE", Some(n), K::Plain),
            Op::GetAiter => ("GET_AITER", None, K::None),
            Op::GetAnext => ("GET_ANEXT", None, K::None),
            Op::EndAsyncFor => ("END_ASYNC_FOR", None, K::None),
            Op::AsyncGenWrap => ("ASYNC_GEN_WRAP", None, K::None),
            Op::GetYieldFromIter => ("GET_YIELD_FROM_ITER", None, K::None),
            Op::UnpackEx(n) => ("UNPACK_EX", Some(n), K::Plain),
            Op::DictUpdate(n) => ("DICT_UPDATE", Some(n), K::Plain),
            Op::Send(t) => ("SEND", Some(t), K::Jump),
            Op::JumpBackwardNoInterrupt(t) => ("JUMP_BACKWARD_NO_INTERRUPT", Some(t), K::Jump),
            Op::PushExcInfo => ("PUSH_EXC_INFO", None, K::None),
            Op::PopExcept => ("POP_EXCEPT", None, K::None),
            Op::Reraise(n) => ("RERAISE", Some(n), K::Plain),
            Op::CheckExcMatch => ("CHECK_EXC_MATCH", None, K::None),
            Op::RaiseVarargs(n) => ("RAISE_VARARGS", Some(n), K::Plain),
            Op::LoadAssertionError => ("LOAD_ASSERTION_ERROR", None, K::None),
            Op::BeforeWith => ("BEFORE_WITH", None, K::None),
            Op::BeforeAsyncWith => ("BEFORE_ASYNC_WITH", None, K::None),
            Op::WithExceptStart => ("WITH_EXCEPT_START", None, K::None),
            Op::DeleteFast(n) => ("DELETE_FAST", Some(n), K::Local),
            Op::DeleteName(n) => ("DELETE_NAME", Some(n), K::Name),
            Op::DeleteGlobal(n) => ("DELETE_GLOBAL", Some(n), K::Name),
            Op::DeleteDeref(n) => ("DELETE_DEREF", Some(n), K::Deref),
            Op::DeleteSubscr => ("DELETE_SUBSCR", None, K::None),
            Op::LoadBuildClass => ("LOAD_BUILD_CLASS", None, K::None),
            Op::SetupAnnotations => ("SETUP_ANNOTATIONS", None, K::None),
            Op::LoadClassDeref(n) => ("LOAD_CLASSDEREF", Some(n), K::Deref),
            Op::StoreAttr(n) => ("STORE_ATTR", Some(n), K::Name),
            Op::DeleteAttr(n) => ("DELETE_ATTR", Some(n), K::Name),
            Op::BuildSet(n) => ("BUILD_SET", Some(n), K::Plain),
            Op::SetAdd(n) => ("SET_ADD", Some(n), K::Plain),
            Op::SetUpdate(n) => ("SET_UPDATE", Some(n), K::Plain),
        }
    }

    /// Inline CACHE entries that follow the instruction in CPython 3.11.
    pub fn cache_entries(self) -> u32 {
        match self {
            Op::BinarySubscr => 4,
            Op::StoreSubscr | Op::UnpackSequence(_) | Op::BinaryOp(_) | Op::Precall(_) => 1,
            Op::LoadAttr(_) | Op::Call(_) | Op::StoreAttr(_) => 4,
            Op::CompareOp(_) => 2,
            Op::LoadGlobal(_) => 5,
            Op::LoadMethod(_) => 10,
            _ => 0,
        }
    }

    /// The jump target (an instruction index), if this is a jump.
    pub fn target(self) -> Option<u32> {
        match self {
            Op::ForIter(t)
            | Op::JumpForward(t)
            | Op::JumpIfFalseOrPop(t)
            | Op::JumpIfTrueOrPop(t)
            | Op::PopJumpForwardIfFalse(t)
            | Op::PopJumpForwardIfTrue(t)
            | Op::PopJumpForwardIfNotNone(t)
            | Op::PopJumpForwardIfNone(t)
            | Op::JumpBackward(t)
            | Op::PopJumpBackwardIfNotNone(t)
            | Op::PopJumpBackwardIfNone(t)
            | Op::PopJumpBackwardIfFalse(t)
            | Op::PopJumpBackwardIfTrue(t)
            | Op::Send(t)
            | Op::JumpBackwardNoInterrupt(t) => Some(t),
            _ => None,
        }
    }

    /// Whether a jump goes backwards (its argument counts back).
    fn is_backward(self) -> bool {
        matches!(
            self,
            Op::JumpBackward(_)
                | Op::JumpBackwardNoInterrupt(_)
                | Op::PopJumpBackwardIfNotNone(_)
                | Op::PopJumpBackwardIfNone(_)
                | Op::PopJumpBackwardIfFalse(_)
                | Op::PopJumpBackwardIfTrue(_)
        )
    }

    /// The instruction's argument in CPython's encoding (jumps relative, in code units), given
    /// where every instruction starts (its `EXTENDED_ARG` prefixes included) and how many
    /// prefixes this one has.
    pub fn oparg(self, index: usize, units: &[u32], prefixes: u32) -> Option<u32> {
        let (_, arg, _) = self.describe();
        match self.target() {
            Some(t) => {
                let next = units[index] + prefixes + 1 + self.cache_entries();
                let to = units.get(t as usize).copied().unwrap_or(next);
                Some(if self.is_backward() {
                    next.saturating_sub(to)
                } else {
                    to.saturating_sub(next)
                })
            }
            None => arg,
        }
    }
}

/// Where an instruction's source lies: its first and last line, and 0-based character
/// columns on them (CPython's `co_positions`, in characters as its traceback counts them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// First line.
    pub line: u32,
    /// Last line.
    pub end_line: u32,
    /// Column of the first character.
    pub col: u32,
    /// Column just past the last character.
    pub end_col: u32,
}

/// A compiled code object: a function body or a module's top level.
#[derive(Debug, Clone)]
pub struct Code {
    /// Function name (`<module>` for the top level).
    pub name: Arc<str>,
    /// The file it was compiled from, as given.
    pub filename: Arc<str>,
    /// Line of the `def` (1 for a module).
    pub firstlineno: u32,
    /// Number of positional parameters (the positional-only ones included).
    pub argcount: usize,
    /// How many of the first positional parameters are positional-only.
    pub posonlyargcount: usize,
    /// Number of keyword-only parameters (after the positional ones in `varnames`).
    pub kwonlyargcount: usize,
    /// Whether a `*args` parameter follows the keyword-only ones (`CO_VARARGS`).
    pub varargs: bool,
    /// Whether a `**kwargs` parameter follows (`CO_VARKEYWORDS`).
    pub varkeywords: bool,
    /// Local variable names (parameters first).
    pub varnames: Vec<Arc<str>>,
    /// Names of the locals inner functions read through cells (`co_cellvars`), sorted.
    pub cellvars: Vec<Arc<str>>,
    /// Names of the enclosing functions' variables this code reads (`co_freevars`), sorted.
    pub freevars: Vec<Arc<str>>,
    /// Names of globals, attributes and imports (`co_names`).
    pub names: Vec<Arc<str>>,
    /// Module-namespace slot of each of `names`, for `LOAD_GLOBAL` / `STORE_GLOBAL`.
    pub global_slots: Vec<u32>,
    /// The prefix of its module's names in the namespace (`""` for the program's own file,
    /// `"helper."` for a sibling module's code).
    pub module_prefix: Arc<str>,
    /// Constants (`co_consts`).
    pub consts: Vec<Value>,
    /// Instructions.
    pub ops: Vec<Op>,
    /// Source line of each instruction, where it has one.
    pub lines: Vec<Option<u32>>,
    /// Per instruction, the source it was compiled from (`co_positions`), where known.
    pub positions: Vec<Option<Position>>,
    /// Whether calling it makes a generator (`CO_GENERATOR`) or a coroutine.
    pub is_generator: bool,
    /// Whether it is an `async def`'s code (`CO_COROUTINE`): calling it makes a coroutine.
    pub is_coroutine: bool,
    /// An `async def` that yields (`CO_ASYNC_GENERATOR`).
    pub is_async_generator: bool,
    /// The exception table (`co_exceptiontable`), in instruction indices.
    pub exception_table: Vec<ExcEntry>,
    /// `co_qualname`: `C.method`, `f.<locals>.g`.
    pub qualname: Arc<str>,
    /// Whether this is a class body, whose names live in the class namespace.
    pub is_class_body: bool,
    /// Whether the host sees this function's first argument as the program's state (heat grid).
    pub reports_state: bool,
}

/// One row of a code object's exception table: an exception raised by an instruction in
/// `start..end` goes to `target` with the value stack cut to `depth` (plus lasti, if `lasti`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExcEntry {
    /// First instruction covered.
    pub start: u32,
    /// One past the last instruction covered.
    pub end: u32,
    /// The handler's first instruction.
    pub target: u32,
    /// Stack depth the handler starts from (before lasti and the exception are pushed).
    pub depth: u32,
    /// Whether the offset of the raising instruction is pushed under the exception.
    pub lasti: bool,
}

impl Code {
    /// The handler of an exception raised at instruction `pc`, if one covers it.
    pub fn handler_at(&self, pc: usize) -> Option<ExcEntry> {
        let pc = pc as u32;
        self.exception_table
            .iter()
            .find(|e| e.start <= pc && pc < e.end)
            .copied()
    }

    /// How many slots a frame of this code has: locals, cells, free variables.
    pub fn nlocalsplus(&self) -> usize {
        self.varnames.len()
            + self
                .cellvars
                .iter()
                .filter(|c| !self.varnames.contains(c))
                .count()
            + self.freevars.len()
    }

    /// `co_localsplusnames`: the locals, the cells that are not parameters, the free variables.
    pub fn localsplus_names(&self) -> Vec<Arc<str>> {
        let mut names = self.varnames.clone();
        names.extend(
            self.cellvars
                .iter()
                .filter(|c| !self.varnames.contains(c))
                .cloned(),
        );
        names.extend(self.freevars.iter().cloned());
        names
    }

    /// The global that binds this code's function: its qualified name under its module's
    /// prefix (`work.square` for a function of the script's module `work`).
    pub fn global_name(&self) -> String {
        format!("{}{}", self.module_prefix, self.qualname)
    }

    /// Where the source of instruction `pc` lies, if it has a line of its own.
    pub fn position_at(&self, pc: usize) -> Option<Position> {
        self.positions.get(pc).copied().flatten()
    }

    /// The line of the instruction at `pc`: its own, or the last one before it.
    pub fn line_at(&self, pc: usize) -> u32 {
        self.lines[..=pc.min(self.lines.len().saturating_sub(1))]
            .iter()
            .rev()
            .find_map(|l| *l)
            .unwrap_or(self.firstlineno)
    }

    /// Where each instruction starts, in code units (its `EXTENDED_ARG` prefixes first, its
    /// inline caches after), plus the end; and each one's number of prefixes. A jump's argument
    /// depends on the offsets and the offsets on the arguments' sizes, so this iterates to the
    /// fixed point, as `assemble_jump_offsets` does.
    pub fn unit_offsets(&self) -> (Vec<u32>, Vec<u32>) {
        let mut prefixes = vec![0u32; self.ops.len()];
        loop {
            let mut units = Vec::with_capacity(self.ops.len() + 1);
            let mut at = 0u32;
            for (op, p) in self.ops.iter().zip(&prefixes) {
                units.push(at);
                at += p + 1 + op.cache_entries();
            }
            units.push(at);
            let next: Vec<u32> = self
                .ops
                .iter()
                .enumerate()
                .map(|(i, op)| match op.oparg(i, &units, prefixes[i]) {
                    Some(a) if a > 0xff_ffff => 3,
                    Some(a) if a > 0xffff => 2,
                    Some(a) if a > 0xff => 1,
                    _ => 0,
                })
                .collect();
            if next == prefixes {
                return (units, prefixes);
            }
            prefixes = next;
        }
    }

    /// `<code object NAME at 0x…, file "FILE", line N>` with a stable stand-in address.
    pub fn header(&self) -> String {
        format!(
            "<code object {} at 0x{:012x}, file \"{}\", line {}>",
            self.name,
            self as *const Code as usize & 0xffff_ffff_ffff,
            self.filename,
            self.firstlineno
        )
    }

    /// The listing `dis.dis` prints for this code object alone.
    pub fn disassemble(&self) -> String {
        let (units, prefixes) = self.unit_offsets();
        let mut targets: Vec<u32> = self.ops.iter().filter_map(|op| op.target()).collect();
        targets.extend(self.exception_table.iter().map(|e| e.target));
        let max_line = self.lines.iter().flatten().max().copied().unwrap_or(0);
        let line_width = if max_line >= 1000 {
            max_line.to_string().len()
        } else {
            3
        };
        let max_offset = units.last().copied().unwrap_or(0) * 2;
        let offset_width = if max_offset >= 10_000 {
            max_offset.to_string().len()
        } else {
            4
        };
        let mut out = String::new();
        let mut last_line = None;
        for (i, op) in self.ops.iter().enumerate() {
            let line = self.lines.get(i).copied().flatten();
            let starts = line.is_some() && line != last_line;
            if line.is_some() {
                last_line = line;
            }
            if starts && i > 0 {
                out.push('\n');
            }
            let arg = op.oparg(i, &units, prefixes[i]);
            // The EXTENDED_ARG prefixes come first, with the line and the jump mark.
            let mut rows: Vec<(String, Option<u32>, Option<String>)> = (0..prefixes[i])
                .rev()
                .map(|k| {
                    let high = arg.unwrap_or(0) >> (8 * (k + 1));
                    ("EXTENDED_ARG".to_owned(), Some(high), None)
                })
                .collect();
            let (name, _, kind) = op.describe();
            let repr = arg.map(|a| self.argrepr(*op, a, &kind, i, &units));
            rows.push((name.to_owned(), arg, repr));
            for (r, (name, arg, repr)) in rows.into_iter().enumerate() {
                let first = r == 0;
                let mut fields: Vec<String> = Vec::with_capacity(6);
                fields.push(match (starts && first, line) {
                    (true, Some(l)) => format!("{l:>line_width$}"),
                    _ => " ".repeat(line_width),
                });
                fields.push("   ".to_owned());
                fields.push(
                    if first && targets.contains(&(i as u32)) {
                        ">>"
                    } else {
                        "  "
                    }
                    .to_owned(),
                );
                fields.push(format!("{:>offset_width$}", (units[i] + r as u32) * 2));
                fields.push(format!("{name:<20}"));
                if let Some(arg) = arg {
                    fields.push(format!("{arg:>5}"));
                    if let Some(repr) = repr.filter(|s| !s.is_empty()) {
                        fields.push(format!("({repr})"));
                    }
                }
                out.push_str(fields.join(" ").trim_end());
                out.push('\n');
            }
        }
        if !self.exception_table.is_empty() {
            out.push_str("ExceptionTable:\n");
            let at = |k: u32| units.get(k as usize).copied().unwrap_or(0) * 2;
            for e in &self.exception_table {
                let _ = writeln!(
                    out,
                    "  {} to {} -> {} [{}]{}",
                    at(e.start),
                    at(e.end).saturating_sub(2),
                    at(e.target),
                    e.depth,
                    if e.lasti { " lasti" } else { "" }
                );
            }
        }
        out
    }

    fn argrepr(&self, op: Op, arg: u32, kind: &ArgKind, i: usize, units: &[u32]) -> String {
        let name = |n: u32| {
            self.names
                .get(n as usize)
                .map_or_else(|| "?".to_owned(), |s| s.to_string())
        };
        match kind {
            ArgKind::None | ArgKind::Plain => String::new(),
            ArgKind::Const => self
                .consts
                .get(arg as usize)
                .map_or_else(|| "?".to_owned(), const_repr),
            ArgKind::Name => name(arg),
            ArgKind::GlobalName => {
                let n = name(arg >> 1);
                if arg & 1 == 1 {
                    format!("NULL + {n}")
                } else {
                    n
                }
            }
            ArgKind::Local => self
                .varnames
                .get(arg as usize)
                .map_or_else(|| "?".to_owned(), |s| s.to_string()),
            ArgKind::Deref => self
                .localsplus_names()
                .get(arg as usize)
                .map_or_else(|| "?".to_owned(), |s| s.to_string()),
            ArgKind::Jump => {
                let to = op
                    .target()
                    .and_then(|t| units.get(t as usize))
                    .copied()
                    .unwrap_or(units[i]);
                format!("to {}", to * 2)
            }
            ArgKind::Compare => match op {
                Op::CompareOp(c) => c.symbol().to_owned(),
                _ => String::new(),
            },
            ArgKind::BinOp => BinOp(arg as u8).symbol(),
            ArgKind::MakeFunction => {
                const FLAGS: [&str; 4] = ["defaults", "kwdefaults", "annotations", "closure"];
                FLAGS
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| arg & (1 << k) != 0)
                    .map(|(_, s)| *s)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
            ArgKind::FormatValue => {
                let conv = ["", "str", "repr", "ascii"][(arg & 3) as usize];
                match (conv, arg & 4 != 0) {
                    (c, false) => c.to_owned(),
                    ("", true) => "with format".to_owned(),
                    (c, true) => format!("{c}, with format"),
                }
            }
        }
    }
}

/// `repr` of a constant as `dis` shows it.
pub fn const_repr(v: &Value) -> String {
    match v {
        Value::Code(c) => c.header(),
        Value::Float(f) => float_repr(*f),
        Value::Str(s) => str_repr(s),
        Value::Tuple(items) => {
            let inner: Vec<String> = items.iter().map(const_repr).collect();
            if inner.len() == 1 {
                format!("({},)", inner[0])
            } else {
                format!("({})", inner.join(", "))
            }
        }
        Value::Set(s) => s.repr(const_repr),
        other => other.repr(),
    }
}

/// The listing `python3 -m dis FILE` prints: the code object's own, then every code object in
/// its constants, depth first, each under a `Disassembly of <code object …>:` header.
pub fn disassemble_recursive(code: &Code) -> String {
    let mut out = code.disassemble();
    for c in &code.consts {
        if let Value::Code(inner) = c {
            let _ = writeln!(out, "\nDisassembly of {}:", inner.header());
            out.push_str(&disassemble_recursive(inner));
        }
    }
    out
}

/// The listing of every function of a module, each under its `Disassembly of` header.
pub fn disassemble_functions(module: &Code) -> String {
    let mut out = String::new();
    for c in &module.consts {
        if let Value::Code(code) = c {
            if !out.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(out, "Disassembly of {}:", code.header());
            out.push_str(&code.disassemble());
        }
    }
    out
}
