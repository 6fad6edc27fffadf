//! The two assembler passes that turn `SETUP_*`/`POP_BLOCK` into an exception table, as CPython
//! 3.11's `stackdepth` and `label_exception_targets` do: the stack depth each block starts at
//! (a handler's entry depth is the table's `[depth]`), and the handler of every instruction.

use super::cfg::{BlockId, Cfg, Ins, Jump, Setup};
use crate::vm::code::Op;

/// `stack_effect(opcode, oparg, jump)`: how many values an instruction leaves on the stack,
/// on the jump (`jump`) or the fall-through path.
pub(super) fn stack_effect(ins: Ins, jump: bool) -> i32 {
    match ins {
        Ins::Jump(kind, _) => match kind {
            Jump::Always | Jump::NoInterrupt => 0,
            Jump::Send => {
                if jump {
                    -1
                } else {
                    0
                }
            }
            Jump::IfFalse | Jump::IfTrue | Jump::IfNone | Jump::IfNotNone => -1,
            Jump::IfFalseOrPop | Jump::IfTrueOrPop => {
                if jump {
                    0
                } else {
                    -1
                }
            }
            Jump::ForIter => {
                if jump {
                    -1
                } else {
                    1
                }
            }
        },
        Ins::Setup(kind, _) => match (kind, jump) {
            (_, false) => 0,
            (Setup::Finally | Setup::With, true) => 1,
            (Setup::Cleanup, true) => 2,
        },
        Ins::PopBlock => 0,
        Ins::Op(op) => op_effect(op),
    }
}

fn op_effect(op: Op) -> i32 {
    let n = |k: u32| k as i32;
    match op {
        Op::Nop
        | Op::SetupAnnotations
        | Op::ExtendedArg(_)
        | Op::Resume
        | Op::ResumeAfterYield
        | Op::ResumeAfterYieldFrom
        | Op::ResumeAfterAwait
        | Op::GetAwaitable(_)
        | Op::GetAiter
        | Op::AsyncGenWrap
        | Op::GetYieldFromIter
        | Op::JumpBackwardNoInterrupt(_)
        | Op::Swap(_)
        | Op::UnaryPositive
        | Op::UnaryNegative
        | Op::UnaryNot
        | Op::UnaryInvert
        | Op::GetIter
        | Op::YieldValue
        | Op::DeleteName(_)
        | Op::DeleteGlobal(_)
        | Op::DeleteFast(_)
        | Op::DeleteDeref(_)
        | Op::LoadAttr(_)
        | Op::CheckExcMatch
        | Op::JumpForward(_)
        | Op::JumpBackward(_)
        | Op::ReturnGenerator
        | Op::KwNames(_)
        | Op::MakeCell(_)
        | Op::CopyFreeVars(_)
        | Op::ListToTuple => 0,
        Op::PopTop
        | Op::ImportStar
        | Op::ListAppend(_)
        | Op::BinarySubscr
        | Op::ReturnValue
        | Op::PopExcept
        | Op::StoreName(_)
        | Op::StoreGlobal(_)
        | Op::CompareOp(_)
        | Op::IsOp(_)
        | Op::ContainsOp(_)
        | Op::ImportName(_)
        | Op::Reraise(_)
        | Op::StoreFast(_)
        | Op::Call(_)
        | Op::StoreDeref(_)
        | Op::ListExtend(_)
        | Op::DictMerge(_)
        | Op::BinaryOp(_)
        | Op::PopJumpForwardIfFalse(_)
        | Op::PopJumpForwardIfTrue(_)
        | Op::PopJumpForwardIfNone(_)
        | Op::PopJumpForwardIfNotNone(_)
        | Op::PopJumpBackwardIfFalse(_)
        | Op::PopJumpBackwardIfTrue(_)
        | Op::PopJumpBackwardIfNone(_)
        | Op::PopJumpBackwardIfNotNone(_) => -1,
        // On the fall-through path; the jump's -1 is `stack_effect`'s.
        Op::Send(_) => 0,
        Op::MapAdd(_) | Op::DeleteSubscr | Op::StoreAttr(_) | Op::EndAsyncFor => -2,
        Op::DeleteAttr(_) => -1,
        Op::StoreSubscr => -3,
        Op::UnpackSequence(k) => n(k) - 1,
        Op::UnpackEx(k) => n(k & 0xff) + n(k >> 8),
        Op::DictUpdate(_) => -1,
        Op::ForIter(_) => 1,
        Op::LoadConst(_)
        | Op::LoadName(_)
        | Op::ImportFrom(_)
        | Op::PushExcInfo
        | Op::WithExceptStart
        | Op::LoadFast(_)
        | Op::LoadClosure(_)
        | Op::LoadDeref(_)
        | Op::BeforeWith
        | Op::BeforeAsyncWith
        | Op::LoadMethod(_)
        | Op::LoadAssertionError
        | Op::LoadBuildClass
        | Op::LoadClassDeref(_)
        | Op::Copy(_)
        | Op::GetAnext
        | Op::PushNull => 1,
        Op::BuildTuple(k) | Op::BuildList(k) | Op::BuildString(k) | Op::BuildSet(k) => 1 - n(k),
        Op::SetAdd(_) | Op::SetUpdate(_) => -1,
        Op::BuildMap(k) => 1 - 2 * n(k),
        Op::BuildConstKeyMap(k) => -n(k),
        Op::JumpIfFalseOrPop(_) | Op::JumpIfTrueOrPop(_) => -1,
        Op::LoadGlobal(k) => n(k & 1) + 1,
        Op::RaiseVarargs(k) | Op::Precall(k) => -n(k),
        Op::CallFunctionEx(k) => -2 - n(k & 1),
        Op::MakeFunction(k) => -((k & 0xf).count_ones() as i32),
        Op::BuildSlice(k) => {
            if k == 3 {
                -2
            } else {
                -1
            }
        }
        Op::FormatValue(k) => {
            if k & 4 != 0 {
                -1
            } else {
                0
            }
        }
    }
}

/// Whether the rest of a block after `ins` is dead (`stackdepth`'s list).
fn ends_flow(ins: Ins) -> bool {
    matches!(
        ins,
        Ins::Jump(Jump::Always | Jump::NoInterrupt, _)
            | Ins::Op(Op::ReturnValue | Op::RaiseVarargs(_) | Op::Reraise(_))
    )
}

impl Cfg {
    /// `stackdepth`: the depth each reachable block starts at, by block id.
    pub(super) fn stack_depths(&self, order: &[BlockId], is_generator: bool) -> Vec<Option<u32>> {
        let mut start: Vec<Option<u32>> = vec![None; self.blocks.len()];
        let Some(&entry) = order.first() else {
            return start;
        };
        let next_of = |b: BlockId| {
            order
                .iter()
                .position(|&x| x == b)
                .and_then(|p| order.get(p + 1).copied())
        };
        let mut todo = Vec::new();
        let push = |start: &mut Vec<Option<u32>>, todo: &mut Vec<BlockId>, b: BlockId, d: i32| {
            if start[b].is_none() {
                start[b] = Some(d.max(0) as u32);
                todo.push(b);
            }
        };
        push(&mut start, &mut todo, entry, i32::from(is_generator));
        while let Some(b) = todo.pop() {
            let mut depth = start[b].unwrap_or(0) as i32;
            let mut next = next_of(b);
            for i in &self.blocks[b].instrs {
                if let Ins::Jump(_, t) | Ins::Setup(_, t) = i.ins {
                    push(&mut start, &mut todo, t, depth + stack_effect(i.ins, true));
                }
                depth += stack_effect(i.ins, false);
                if ends_flow(i.ins) {
                    next = None;
                    break;
                }
            }
            if let Some(n) = next {
                push(&mut start, &mut todo, n, depth);
            }
        }
        start
    }

    /// `label_exception_targets`: walks the graph with a stack of handlers, giving every
    /// instruction the handler innermost at it; returns which handler blocks keep lasti.
    pub(super) fn label_exception_targets(&mut self, order: &[BlockId]) -> Vec<bool> {
        let nblocks = self.blocks.len();
        let mut lasti = vec![false; nblocks];
        let Some(&entry) = order.first() else {
            return lasti;
        };
        let next_of = |b: BlockId| {
            order
                .iter()
                .position(|&x| x == b)
                .and_then(|p| order.get(p + 1).copied())
        };
        let mut visited = vec![false; nblocks];
        let mut stacks: Vec<Option<Vec<Option<BlockId>>>> = vec![None; nblocks];
        stacks[entry] = Some(vec![None]);
        visited[entry] = true;
        let mut todo = vec![entry];
        while let Some(b) = todo.pop() {
            let mut stack = stacks[b].take().unwrap_or_else(|| vec![None]);
            let mut handler = stack.last().copied().flatten();
            let no_fallthrough = self.blocks[b].no_fallthrough();
            let n = self.blocks[b].instrs.len();
            for k in 0..n {
                let ins = self.blocks[b].instrs[k].ins;
                match ins {
                    Ins::Setup(kind, t) => {
                        if !visited[t] {
                            stacks[t] = Some(stack.clone());
                            visited[t] = true;
                            todo.push(t);
                        }
                        if matches!(kind, Setup::With | Setup::Cleanup) {
                            lasti[t] = true;
                        }
                        stack.push(Some(t));
                        handler = Some(t);
                    }
                    Ins::PopBlock => {
                        if stack.len() > 1 {
                            stack.pop();
                        }
                        handler = stack.last().copied().flatten();
                    }
                    Ins::Jump(_, t) => {
                        self.blocks[b].instrs[k].except = handler;
                        if !visited[t] {
                            stacks[t] = Some(stack.clone());
                            visited[t] = true;
                            todo.push(t);
                        }
                    }
                    Ins::Op(_) => self.blocks[b].instrs[k].except = handler,
                }
            }
            if !no_fallthrough
                && let Some(nx) = next_of(b)
                && !visited[nx]
            {
                stacks[nx] = Some(stack);
                visited[nx] = true;
                todo.push(nx);
            }
        }
        lasti
    }
}
