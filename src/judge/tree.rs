//! The judge's part for calls into the tree: the callee's write summary (from
//! [`crate::writers`]) for the parameter the handle is given to, with the chain of steps down
//! to the write.
//!
//! Reads summaries only; never resolves a call itself beyond asking [`Writers::resolve`], and
//! never judges SQL or outside code (the summaries were built by the other parts of the judge).

use std::path::Path;

use crate::analysis::facts::{FnFacts, Sink, SinkKind};
use crate::diagnostics::ChainStep;
use crate::writers::{Callee, FnId, Writers};

/// A call into the tree that writes through the handle it is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeWrite {
    /// Every function of the tree the call may mean (more than one: ambiguous).
    pub candidates: Vec<FnId>,
    /// Those of them that write through the parameter.
    pub writing: Vec<FnId>,
    /// From the call down to the write, the call itself first.
    pub chain: Vec<ChainStep>,
}

/// What a call sink resolves to, as the judge sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeVerdict {
    /// No function of the tree: code outside it.
    Outside,
    /// Functions of the tree of which none writes through the parameter.
    Read(Vec<FnId>),
    /// A function of the tree writes through the parameter.
    Write(TreeWrite),
}

/// A call into the tree whose callee writes through a read-write handle of its own (or
/// reaches a function that does), whatever the call passes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnTreeWrite {
    /// The callees and the chain from the call down to the write.
    pub write: TreeWrite,
    /// The read-write handle written through at the end (`context.pool()`).
    pub handle: String,
}

/// For `migrate`: whether a call sink of function `caller` runs a function of the tree that
/// writes through a read-write handle of its own. Never asked by `check`: that write is on no
/// read-only handle.
pub fn own_write(
    writers: &Writers,
    caller: Option<FnId>,
    file: &Path,
    function: &FnFacts,
    sink: &Sink,
) -> Option<OwnTreeWrite> {
    let Callee::Tree(candidates) = writers.resolve(caller?, &sink.kind) else { return None };
    let writing: Vec<FnId> =
        candidates.iter().copied().filter(|&c| writers.writes_on_its_own(c).is_some()).collect();
    let &first = writing.first()?;
    let handle = writers.writes_on_its_own(first)?.handle.clone();
    let mut chain = vec![call_step(writers, file, function, sink, first)];
    chain.extend(writers.own_chain(first));
    Some(OwnTreeWrite { write: TreeWrite { candidates, writing, chain }, handle })
}

fn call_step(writers: &Writers, file: &Path, function: &FnFacts, sink: &Sink, target: FnId) -> ChainStep {
    ChainStep {
        function: function.display_name(),
        file: file.to_path_buf(),
        line: sink.range.start.line,
        evidence: format!(
            "passes `{}` to `{}`",
            sink.handle.label,
            writers.function(target).facts.display_name()
        ),
    }
}

/// Judges a call sink of function `caller` (`function`, in `file`).
pub fn judge(
    writers: &Writers,
    caller: Option<FnId>,
    file: &Path,
    function: &FnFacts,
    sink: &Sink,
) -> TreeVerdict {
    let SinkKind::Call { arg, flags, .. } = &sink.kind else { return TreeVerdict::Outside };
    let Some(caller) = caller else { return TreeVerdict::Outside };
    let Callee::Tree(candidates) = writers.resolve(caller, &sink.kind) else { return TreeVerdict::Outside };
    let writing: Vec<FnId> = candidates
        .iter()
        .copied()
        .filter(|&c| writers.writes_through_call(c, *arg, *flags).is_some())
        .collect();
    let Some(&first) = writing.first() else { return TreeVerdict::Read(candidates) };
    let mut chain = vec![call_step(writers, file, function, sink, first)];
    chain.extend(writers.chain(first, *arg));
    TreeVerdict::Write(TreeWrite { candidates, writing, chain })
}
