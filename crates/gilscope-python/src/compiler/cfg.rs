//! The control-flow graph a code object is built in, and the passes CPython 3.11's assembler runs
//! on it (`optimize_cfg`, `duplicate_exits_without_lineno`, `propagate_line_numbers`,
//! `normalize_jumps`), so that jumps, NOPs and line numbers come out as `dis` shows them.

use super::const_key;
use crate::vm::code::{ExcEntry, Op};
use crate::vm::value::Value;

/// Index of a basic block.
pub type BlockId = usize;

/// A jump before its direction is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jump {
    /// Unconditional (becomes `JUMP_FORWARD` or `JUMP_BACKWARD`).
    Always,
    /// `POP_JUMP_*_IF_FALSE`.
    IfFalse,
    /// `POP_JUMP_*_IF_TRUE`.
    IfTrue,
    /// `POP_JUMP_*_IF_NONE`.
    IfNone,
    /// `POP_JUMP_*_IF_NOT_NONE`.
    IfNotNone,
    /// `JUMP_IF_FALSE_OR_POP`.
    IfFalseOrPop,
    /// `JUMP_IF_TRUE_OR_POP`.
    IfTrueOrPop,
    /// `FOR_ITER`.
    ForIter,
    /// `SEND`: to the target once the sub-iterator returns.
    Send,
    /// `JUMP_NO_INTERRUPT`: unconditional, with no eval-breaker checkpoint (the `await` loop).
    NoInterrupt,
}

/// Which handler a block push (`SETUP_*` pseudo-instruction) installs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setup {
    /// `SETUP_FINALLY`: a `try` body's handler (the exception pushed).
    Finally,
    /// `SETUP_CLEANUP`: a handler's own cleanup (lasti and the exception pushed).
    Cleanup,
    /// `SETUP_WITH`: a `with` body's handler (lasti and the exception pushed).
    With,
}

/// An instruction in a block: a plain op, a jump to a block, or one of the pseudo-instructions
/// that bracket a protected range (they become the exception table, then NOPs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ins {
    /// Any non-jump instruction.
    Op(Op),
    /// A jump.
    Jump(Jump, BlockId),
    /// A block push: exceptions raised after it go to the block until the matching `PopBlock`.
    Setup(Setup, BlockId),
    /// `POP_BLOCK`: ends the innermost protected range.
    PopBlock,
}

/// A code object's instructions as laid out, each with its line and source bytes, and its
/// exception table.
pub struct Assembled {
    /// The instructions.
    pub ops: Vec<Op>,
    /// Each one's line (`None`: the line before it).
    pub lines: Vec<Option<u32>>,
    /// Each one's source bytes, where known.
    pub spans: Vec<Option<(u32, u32)>>,
    /// The exception table.
    pub exception_table: Vec<ExcEntry>,
}

/// An instruction with its source line (`None` for artificial ones).
#[derive(Clone, Copy, Debug)]
pub struct Instr {
    /// The instruction.
    pub ins: Ins,
    /// Its line.
    pub line: Option<u32>,
    /// The byte range of the source it was compiled from, for a traceback's carets.
    pub span: Option<(u32, u32)>,
    /// The handler block an exception raised here goes to (`i_except`), once labelled.
    pub except: Option<BlockId>,
}

impl Instr {
    /// An instruction not yet labelled with a handler.
    pub fn new(ins: Ins, line: Option<u32>) -> Self {
        Self {
            ins,
            line,
            span: None,
            except: None,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub(super) struct Block {
    pub(super) instrs: Vec<Instr>,
    pub(super) preds: usize,
    pub(super) visited: bool,
}

/// Whether `ins` leaves the code object (`IS_SCOPE_EXIT_OPCODE`): return, raise, reraise.
fn is_scope_exit(ins: Ins) -> bool {
    matches!(
        ins,
        Ins::Op(Op::ReturnValue | Op::RaiseVarargs(_) | Op::Reraise(_))
    )
}

impl Block {
    pub(super) fn last(&self) -> Option<&Instr> {
        self.instrs.last()
    }
    fn is_exit(&self) -> bool {
        self.last().is_some_and(|i| is_scope_exit(i.ins))
    }
    pub(super) fn no_fallthrough(&self) -> bool {
        self.last().is_some_and(|i| {
            is_scope_exit(i.ins) || matches!(i.ins, Ins::Jump(Jump::Always | Jump::NoInterrupt, _))
        })
    }
    fn jump_target(&self) -> Option<BlockId> {
        match self.last() {
            Some(Instr {
                ins: Ins::Jump(_, t),
                ..
            }) => Some(*t),
            _ => None,
        }
    }
}

/// Blocks in layout order, with the block being filled.
#[derive(Debug, Default)]
pub struct Cfg {
    pub(super) blocks: Vec<Block>,
    order: Vec<BlockId>,
    current: BlockId,
}

const MAX_COPY_SIZE: usize = 4;

/// Instructions that only pop TOS, so they can be reordered instead of swapping stack items.
fn swappable(ins: Ins) -> bool {
    matches!(ins, Ins::Op(Op::StoreFast(_) | Op::PopTop))
}

fn next_swappable(instrs: &[Instr], mut i: usize, line: Option<Option<u32>>) -> Option<usize> {
    while i + 1 < instrs.len() {
        i += 1;
        if let Some(l) = line
            && instrs[i].line != l
        {
            return None;
        }
        match instrs[i].ins {
            Ins::Op(Op::Nop) => continue,
            ins if swappable(ins) => return Some(i),
            _ => return None,
        }
    }
    None
}

/// CPython 3.11's `apply_static_swaps`: a `SWAP n` followed by stores is replaced by reordering
/// the stores.
fn apply_static_swaps(instrs: &mut [Instr], mut i: usize) {
    loop {
        match instrs[i].ins {
            Ins::Op(Op::Swap(n)) => {
                let Some(j) = next_swappable(instrs, i, None) else {
                    return;
                };
                let line = instrs[j].line;
                let mut k = j;
                for _ in 1..n {
                    match next_swappable(instrs, k, Some(line)) {
                        Some(x) => k = x,
                        None => return,
                    }
                }
                instrs[i].ins = Ins::Op(Op::Nop);
                instrs.swap(j, k);
            }
            Ins::Op(Op::Nop) => {}
            ins if swappable(ins) => {}
            _ => return,
        }
        if i == 0 {
            return;
        }
        i -= 1;
    }
}

impl Cfg {
    /// Puts `ops`, each with its line, at the start of the entry block.
    pub fn prepend(&mut self, ops: &[(Op, Option<u32>)]) {
        let entry = &mut self.blocks[0].instrs;
        entry.splice(
            0..0,
            ops.iter().map(|&(op, line)| Instr::new(Ins::Op(op), line)),
        );
    }

    /// Maps every cell and free variable operand through `fixed` (raw number to local slot).
    pub fn map_derefs(&mut self, fixed: &[u32]) {
        for b in &mut self.blocks {
            for i in &mut b.instrs {
                if let Ins::Op(
                    Op::LoadDeref(k)
                    | Op::LoadClassDeref(k)
                    | Op::StoreDeref(k)
                    | Op::DeleteDeref(k)
                    | Op::LoadClosure(k)
                    | Op::MakeCell(k),
                ) = &mut i.ins
                    && let Some(&to) = fixed.get(*k as usize)
                {
                    *k = to;
                }
            }
        }
    }

    /// A graph with one (entry) block.
    pub fn new() -> Self {
        Self {
            blocks: vec![Block::default()],
            order: vec![0],
            current: 0,
        }
    }

    /// A new block, not yet placed.
    pub fn new_block(&mut self) -> BlockId {
        self.blocks.push(Block::default());
        self.blocks.len() - 1
    }

    /// Places `b` next in layout order and makes it current (`compiler_use_next_block`).
    pub fn use_block(&mut self, b: BlockId) {
        self.order.push(b);
        self.current = b;
    }

    /// Appends an instruction to the current block.
    pub fn push(&mut self, ins: Ins, line: Option<u32>) {
        self.push_spanned(ins, line, None);
    }

    /// Appends an instruction compiled from the source bytes `span` to the current block.
    pub fn push_spanned(&mut self, ins: Ins, line: Option<u32>, span: Option<(u32, u32)>) {
        let mut instr = Instr::new(ins, line);
        instr.span = span;
        self.blocks[self.current].instrs.push(instr);
        if matches!(ins, Ins::Jump(..)) || is_scope_exit(ins) {
            // A jump, return or raise ends its block (`is_end_of_basic_block`).
            let next = self.new_block();
            self.use_block(next);
        }
    }

    /// Layout order without empty blocks; jumps to an empty block land on the next non-empty one.
    fn eliminate_empty(&mut self) -> Vec<BlockId> {
        let order = self.order.clone();
        let mut land = vec![usize::MAX; self.blocks.len()];
        let mut next_non_empty = usize::MAX;
        for &b in order.iter().rev() {
            if !self.blocks[b].instrs.is_empty() {
                next_non_empty = b;
            }
            land[b] = next_non_empty;
        }
        for blk in &mut self.blocks {
            for ins in &mut blk.instrs {
                match ins.ins {
                    Ins::Jump(kind, t) if land[t] != usize::MAX => {
                        ins.ins = Ins::Jump(kind, land[t]);
                    }
                    Ins::Setup(kind, t) if land[t] != usize::MAX => {
                        ins.ins = Ins::Setup(kind, land[t]);
                    }
                    _ => {}
                }
            }
        }
        order
            .into_iter()
            .filter(|&b| !self.blocks[b].instrs.is_empty())
            .collect()
    }

    fn next_in_layout(order: &[BlockId], pos: usize) -> Option<BlockId> {
        order.get(pos + 1).copied()
    }

    /// Runs the 3.11 passes and flattens the graph into instructions with resolved jumps.
    /// `consts` gains the tuples folded from constants and loses those after the last one an
    /// instruction still loads.
    pub fn assemble(mut self, consts: &mut Vec<Value>, is_generator: bool) -> Assembled {
        let order = self.eliminate_empty();
        // optimize_basic_block + clean_basic_block
        for &b in &order {
            self.optimize_block(b, consts);
            self.clean_block(b, &order);
        }
        // Jump threading: a jump to a block that starts with an unconditional jump.
        for &b in &order {
            self.thread_jumps(b);
        }
        // extend_block: inline small exit blocks reached by an unconditional jump.
        for &b in order.iter().rev() {
            self.extend_block(b);
        }
        // mark_reachable, then drop unreachable blocks.
        self.mark_reachable(&order);
        for &b in &order {
            if self.blocks[b].preds == 0 && b != order[0] {
                self.blocks[b].instrs.clear();
            }
        }
        let order: Vec<BlockId> = order
            .into_iter()
            .filter(|&b| !self.blocks[b].instrs.is_empty())
            .collect();
        for &b in &order {
            self.clean_block(b, &order);
        }
        // Remove jumps to the next block.
        let mut changed = false;
        for (pos, &b) in order.iter().enumerate() {
            let next = Self::next_in_layout(&order, pos);
            if let Some(Instr {
                ins: Ins::Jump(Jump::Always | Jump::NoInterrupt, t),
                line,
                ..
            }) = self.blocks[b].last().copied()
                && Some(t) == next
            {
                let last = self.blocks[b].instrs.len() - 1;
                self.blocks[b].instrs[last] = Instr::new(Ins::Op(Op::Nop), line);
                changed = true;
            }
        }
        let mut order = order;
        if changed {
            for &b in &order {
                self.clean_block(b, &order);
            }
            order.retain(|&b| !self.blocks[b].instrs.is_empty());
        }
        self.mark_reachable(&order);
        let order = self.duplicate_exits(order);
        self.mark_reachable(&order);
        self.propagate_lines(&order);
        self.guarantee_lineno_for_exits(&order);
        let depths = self.stack_depths(&order, is_generator);
        let lasti = self.label_exception_targets(&order);
        // convert_exception_handlers_to_nops, then clean_basic_block once more.
        for &b in &order {
            for i in &mut self.blocks[b].instrs {
                if matches!(i.ins, Ins::Setup(..) | Ins::PopBlock) {
                    i.ins = Ins::Op(Op::Nop);
                }
            }
        }
        for &b in &order {
            self.clean_block(b, &order);
        }
        let assembled = self.flatten(&order, &depths, &lasti);
        trim_unused_consts(&assembled.ops, consts);
        assembled
    }

    /// `guarantee_lineno_for_exits`: a return still without a line takes the last line seen.
    fn guarantee_lineno_for_exits(&mut self, order: &[BlockId]) {
        let mut line = None;
        for &b in order {
            let blk = &mut self.blocks[b];
            match blk.instrs.last() {
                None => {}
                Some(Instr {
                    ins: Ins::Op(Op::ReturnValue),
                    line: None,
                    ..
                }) => {
                    for i in &mut blk.instrs {
                        i.line = line;
                    }
                }
                Some(last) if last.line.is_some() => line = last.line,
                Some(_) => {}
            }
        }
    }

    fn optimize_block(&mut self, b: BlockId, consts: &mut Vec<Value>) {
        let truthy =
            |consts: &[Value], k: u32| consts.get(k as usize).and_then(|v| v.truthy().ok());
        let is_none =
            |consts: &[Value], k: u32| matches!(consts.get(k as usize), Some(Value::None));
        let instrs = &mut self.blocks[b].instrs;
        let mut i = 0;
        while i < instrs.len() {
            // LOAD_CONST × n; BUILD_TUPLE n  ->  LOAD_CONST of the tuple (`fold_tuple_on_constants`),
            // the tuple appended to the constants unless an equal one is there.
            if let Ins::Op(Op::BuildTuple(n)) = instrs[i].ins
                && !matches!(instrs.get(i + 1).map(|x| x.ins), Some(Ins::Op(Op::UnpackSequence(m))) if m == n)
                && i >= n as usize
            {
                let first = i - n as usize;
                let items: Option<Vec<Value>> = instrs[first..i]
                    .iter()
                    .map(|x| match x.ins {
                        Ins::Op(Op::LoadConst(k)) => consts.get(k as usize).cloned(),
                        _ => None,
                    })
                    .collect();
                if let Some(items) = items {
                    let tuple = Value::Tuple(items.into());
                    let key = const_key(&tuple);
                    let k = match consts.iter().position(|c| const_key(c) == key) {
                        Some(k) => k,
                        None => {
                            consts.push(tuple);
                            consts.len() - 1
                        }
                    };
                    for x in &mut instrs[first..i] {
                        x.ins = Ins::Op(Op::Nop);
                    }
                    instrs[i].ins = Ins::Op(Op::LoadConst(k as u32));
                }
            }
            // PUSH_NULL; LOAD_GLOBAL x  ->  LOAD_GLOBAL (NULL + x)
            if let (Ins::Op(Op::PushNull), Some(Ins::Op(Op::LoadGlobal(n)))) =
                (instrs[i].ins, instrs.get(i + 1).map(|x| x.ins))
                && n & 1 == 0
            {
                instrs[i].ins = Ins::Op(Op::Nop);
                instrs[i + 1].ins = Ins::Op(Op::LoadGlobal(n | 1));
            }
            // BUILD_TUPLE n; UNPACK_SEQUENCE n  ->  nothing, or a SWAP applied statically.
            if let (Ins::Op(Op::BuildTuple(n)), Some(Ins::Op(Op::UnpackSequence(m)))) =
                (instrs[i].ins, instrs.get(i + 1).map(|x| x.ins))
                && n == m
                && (1..=3).contains(&n)
            {
                instrs[i].ins = Ins::Op(Op::Nop);
                instrs[i + 1].ins = Ins::Op(if n == 1 { Op::Nop } else { Op::Swap(n) });
                if n > 1 {
                    apply_static_swaps(instrs, i + 1);
                }
                i += 2;
                continue;
            }
            if let Ins::Op(Op::LoadConst(k)) = instrs[i].ins {
                match instrs.get(i + 1).map(|x| x.ins) {
                    Some(Ins::Jump(j @ (Jump::IfFalse | Jump::IfTrue), t)) => {
                        if let Some(v) = truthy(consts, k) {
                            instrs[i].ins = Ins::Op(Op::Nop);
                            let jump_if_true = j == Jump::IfTrue;
                            instrs[i + 1].ins = if v == jump_if_true {
                                Ins::Jump(Jump::Always, t)
                            } else {
                                Ins::Op(Op::Nop)
                            };
                        }
                    }
                    Some(Ins::Op(Op::IsOp(invert))) if is_none(consts, k) => {
                        if let Some(Ins::Jump(j @ (Jump::IfFalse | Jump::IfTrue), t)) =
                            instrs.get(i + 2).map(|x| x.ins)
                        {
                            let pop_if_false = j == Jump::IfFalse;
                            instrs[i].ins = Ins::Op(Op::Nop);
                            instrs[i + 1].ins = Ins::Op(Op::Nop);
                            let kind = if pop_if_false ^ (invert == 1) {
                                Jump::IfNotNone
                            } else {
                                Jump::IfNone
                            };
                            instrs[i + 2].ins = Ins::Jump(kind, t);
                        }
                    }
                    _ => {}
                }
            }
            i += 1;
        }
    }

    fn first_jump(&self, b: BlockId) -> Option<(Jump, BlockId, Option<u32>)> {
        // The first instruction of the first non-empty block from `b` on is what a jump lands on.
        match self.blocks[b].instrs.first() {
            Some(Instr {
                ins: Ins::Jump(j, t),
                line,
                ..
            }) => Some((*j, *t, *line)),
            _ => None,
        }
    }

    fn thread_jumps(&mut self, b: BlockId) {
        for _ in 0..8 {
            let Some(Instr {
                ins: Ins::Jump(kind, target),
                line,
                ..
            }) = self.blocks[b].last().copied()
            else {
                return;
            };
            let Some((tkind, ttarget, tline)) = self.first_jump(target) else {
                return;
            };
            if tkind != Jump::Always || ttarget == target || line != tline {
                return;
            }
            if !matches!(
                kind,
                Jump::Always
                    | Jump::IfFalse
                    | Jump::IfTrue
                    | Jump::IfFalseOrPop
                    | Jump::IfTrueOrPop
                    | Jump::IfNone
                    | Jump::IfNotNone
            ) {
                return;
            }
            let last = self.blocks[b].instrs.len() - 1;
            self.blocks[b].instrs[last].ins = Ins::Jump(kind, ttarget);
        }
    }

    fn extend_block(&mut self, b: BlockId) {
        let Some(Instr {
            ins: Ins::Jump(Jump::Always, t),
            line,
            ..
        }) = self.blocks[b].last().copied()
        else {
            return;
        };
        let target = &self.blocks[t];
        // 3.11.7 copies only exit blocks without a line number (an implicit `return None`).
        if target.is_exit()
            && target.instrs.len() <= MAX_COPY_SIZE
            && target.instrs.iter().all(|i| i.line.is_none())
        {
            let copy = target.instrs.clone();
            let last = self.blocks[b].instrs.len() - 1;
            self.blocks[b].instrs[last] = Instr::new(Ins::Op(Op::Nop), line);
            self.blocks[b].instrs.extend(copy);
        }
    }

    fn clean_block(&mut self, b: BlockId, order: &[BlockId]) {
        let next_line = {
            let pos = order.iter().position(|&x| x == b);
            pos.and_then(|p| {
                order[p + 1..]
                    .iter()
                    .find(|&&n| !self.blocks[n].instrs.is_empty())
                    .map(|&n| self.blocks[n].instrs[0].line)
            })
        };
        let instrs = std::mem::take(&mut self.blocks[b].instrs);
        let mut out: Vec<Instr> = Vec::with_capacity(instrs.len());
        let mut prev_line: Option<Option<u32>> = None;
        let n = instrs.len();
        let mut instrs = instrs;
        for src in 0..n {
            let line = instrs[src].line;
            if instrs[src].ins == Ins::Op(Op::Nop) {
                if line.is_none() {
                    continue;
                }
                if prev_line == Some(line) {
                    continue;
                }
                if src + 1 < n {
                    let nl = instrs[src + 1].line;
                    if nl.is_none() || nl == line {
                        instrs[src + 1].line = line;
                        continue;
                    }
                } else if let Some(nl) = next_line
                    && nl == line
                {
                    continue;
                }
            }
            out.push(instrs[src]);
            prev_line = Some(line);
        }
        self.blocks[b].instrs = out;
    }

    fn mark_reachable(&mut self, order: &[BlockId]) {
        for b in &mut self.blocks {
            b.preds = 0;
            b.visited = false;
        }
        let Some(&entry) = order.first() else { return };
        self.blocks[entry].preds = 1;
        let mut stack = vec![entry];
        self.blocks[entry].visited = true;
        while let Some(b) = stack.pop() {
            let pos = order.iter().position(|&x| x == b);
            let mut succ = Vec::new();
            if !self.blocks[b].no_fallthrough()
                && let Some(p) = pos
                && let Some(n) = Self::next_in_layout(order, p)
            {
                succ.push(n);
            }
            for ins in &self.blocks[b].instrs {
                if let Ins::Jump(_, t) | Ins::Setup(_, t) = ins.ins {
                    succ.push(t);
                }
            }
            for s in succ {
                self.blocks[s].preds += 1;
                if !self.blocks[s].visited {
                    self.blocks[s].visited = true;
                    stack.push(s);
                }
            }
        }
    }

    fn is_exit_without_line(&self, b: BlockId) -> bool {
        let blk = &self.blocks[b];
        blk.is_exit() && blk.instrs.iter().all(|i| i.line.is_none())
    }

    fn duplicate_exits(&mut self, mut order: Vec<BlockId>) -> Vec<BlockId> {
        let snapshot = order.clone();
        for &b in &snapshot {
            let Some(t) = self.blocks[b].jump_target() else {
                continue;
            };
            if self.is_exit_without_line(t) && self.blocks[t].preds > 1 {
                let mut copy = self.blocks[t].clone();
                let jline = self.blocks[b].last().and_then(|i| i.line);
                if let Some(first) = copy.instrs.first_mut() {
                    first.line = jline;
                }
                copy.preds = 1;
                self.blocks[t].preds -= 1;
                self.blocks.push(copy);
                let nb = self.blocks.len() - 1;
                let last = self.blocks[b].instrs.len() - 1;
                if let Ins::Jump(kind, _) = self.blocks[b].instrs[last].ins {
                    self.blocks[b].instrs[last].ins = Ins::Jump(kind, nb);
                }
                let pos = order
                    .iter()
                    .position(|&x| x == t)
                    .unwrap_or(order.len() - 1);
                order.insert(pos + 1, nb);
            }
        }
        for pos in 0..order.len() {
            let b = order[pos];
            if !self.blocks[b].no_fallthrough()
                && let Some(n) = Self::next_in_layout(&order, pos)
                && self.is_exit_without_line(n)
                && let Some(l) = self.blocks[b].last().and_then(|i| i.line)
            {
                self.blocks[n].instrs[0].line = Some(l);
            }
        }
        order
    }

    fn propagate_lines(&mut self, order: &[BlockId]) {
        for (pos, &b) in order.iter().enumerate() {
            let mut prev: Option<u32> = None;
            for ins in &mut self.blocks[b].instrs {
                if ins.line.is_none() {
                    ins.line = prev;
                } else {
                    prev = ins.line;
                }
            }
            if !self.blocks[b].no_fallthrough()
                && let Some(n) = Self::next_in_layout(order, pos)
                && self.blocks[n].preds == 1
                && let Some(first) = self.blocks[n].instrs.first_mut()
                && first.line.is_none()
            {
                first.line = prev;
            }
            if let Some(t) = self.blocks[b].jump_target()
                && self.blocks[t].preds == 1
            {
                let jl = self.blocks[b].last().and_then(|i| i.line);
                if let Some(first) = self.blocks[t].instrs.first_mut()
                    && first.line.is_none()
                {
                    first.line = jl;
                }
            }
        }
    }

    fn flatten(&self, order: &[BlockId], depths: &[Option<u32>], lasti: &[bool]) -> Assembled {
        let mut start = vec![u32::MAX; self.blocks.len()];
        let mut at = 0u32;
        for &b in order {
            start[b] = at;
            at += self.blocks[b].instrs.len() as u32;
        }
        let mut visited = vec![false; self.blocks.len()];
        let mut ops = Vec::with_capacity(at as usize);
        let mut lines = Vec::with_capacity(at as usize);
        let mut spans = Vec::with_capacity(at as usize);
        // assemble_exception_table: one entry per run of instructions with the same handler.
        let mut runs: Vec<(u32, u32, BlockId)> = Vec::new();
        let mut run: Option<(u32, BlockId)> = None;
        for &b in order {
            visited[b] = true;
            for ins in &self.blocks[b].instrs {
                let here = ops.len() as u32;
                if run.map(|(_, h)| h) != ins.except {
                    if let Some((s0, h)) = run {
                        runs.push((s0, here, h));
                    }
                    run = ins.except.map(|h| (here, h));
                }
                let op = match ins.ins {
                    Ins::Op(op) => op,
                    Ins::Setup(..) | Ins::PopBlock => Op::Nop,
                    Ins::Jump(kind, t) => {
                        let to = start[t];
                        let forward = !visited[t];
                        match (kind, forward) {
                            (Jump::Always, true) => Op::JumpForward(to),
                            (Jump::Always, false) => Op::JumpBackward(to),
                            (Jump::IfFalse, true) => Op::PopJumpForwardIfFalse(to),
                            (Jump::IfFalse, false) => Op::PopJumpBackwardIfFalse(to),
                            (Jump::IfTrue, true) => Op::PopJumpForwardIfTrue(to),
                            (Jump::IfTrue, false) => Op::PopJumpBackwardIfTrue(to),
                            (Jump::IfNone, true) => Op::PopJumpForwardIfNone(to),
                            (Jump::IfNone, false) => Op::PopJumpBackwardIfNone(to),
                            (Jump::IfNotNone, true) => Op::PopJumpForwardIfNotNone(to),
                            (Jump::IfNotNone, false) => Op::PopJumpBackwardIfNotNone(to),
                            (Jump::IfFalseOrPop, _) => Op::JumpIfFalseOrPop(to),
                            (Jump::IfTrueOrPop, _) => Op::JumpIfTrueOrPop(to),
                            (Jump::ForIter, _) => Op::ForIter(to),
                            (Jump::Send, _) => Op::Send(to),
                            (Jump::NoInterrupt, true) => Op::JumpForward(to),
                            (Jump::NoInterrupt, false) => Op::JumpBackwardNoInterrupt(to),
                        }
                    }
                };
                ops.push(op);
                lines.push(ins.line);
                spans.push(ins.span.filter(|_| ins.line.is_some()));
            }
        }
        if let Some((s0, h)) = run {
            runs.push((s0, ops.len() as u32, h));
        }
        let exception_table = runs
            .into_iter()
            .map(|(s0, end, h)| ExcEntry {
                start: s0,
                end,
                target: start[h],
                depth: depths[h]
                    .unwrap_or(1)
                    .saturating_sub(1 + u32::from(lasti[h])),
                lasti: lasti[h],
            })
            .collect();
        Assembled {
            ops,
            lines,
            spans,
            exception_table,
        }
    }
}

/// 3.11's `trim_unused_consts`: drops the constants after the last one a `LOAD_CONST` or
/// `KW_NAMES` uses (the first is always kept, as it may be a docstring).
fn trim_unused_consts(ops: &[Op], consts: &mut Vec<Value>) {
    let last_used = ops
        .iter()
        .filter_map(|op| match op {
            Op::LoadConst(k) | Op::KwNames(k) => Some(*k as usize),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    consts.truncate(last_used + 1);
}
