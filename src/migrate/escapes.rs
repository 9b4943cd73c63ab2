//! For `migrate`: whether a handler hands the accessor's owner (`&context`, `state`) or a
//! read-write handle to code outside the tree that may query with it — directly, or through
//! functions of the tree it passes that value to. Such code may call back into the tree and
//! write (activitypub-federation's `id.dereference(&context)` → lemmy's `from_json` → an
//! upsert), so the handler is no pure read.
//!
//! A value counts only where it is passed *itself*: the argument is the parameter (or, in the
//! handler, the read-write handle), not something derived from it (`context.settings()`).
//! Whether the outside callee may query with it is the judge's answer
//! ([`crate::judge::outside::may_query_with`]). Never reports, never judges writes of the tree
//! (the writer summaries do).

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::analysis::facts::{FnFacts, Sink, SinkKind};
use crate::config::RuleSet;
use crate::diagnostics::ChainStep;
use crate::judge::outside::may_query_with;
use crate::writers::{Callee, FnId, Writers};

/// A value reaching code outside the tree that may query with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escape {
    /// The outside callee, as written.
    pub callee: String,
    /// From the handler's call down to the outside call (the handler's call first).
    pub chain: Vec<ChainStep>,
}

/// The (function, parameter) pairs known to hand their value to no outside code that may query
/// with it, shared by the searches of one run: a search that finds no escape clears every pair
/// it visited (none of them can reach one, or the search would have), so the handlers of a tree
/// together walk each function's sinks once, not once per handler.
///
/// Shared by searches running in parallel, in any order: a cleared pair can reach no escape, so
/// skipping it never changes what a search finds (nor the chain it reports), only how much it
/// walks. A bit per parameter of each function (a parameter past the 64th passes nothing
/// itself: it is never searched, so never needs clearing).
#[derive(Debug, Default)]
pub struct Cleared(Vec<AtomicU64>);

impl Cleared {
    /// Nothing cleared yet, for `functions` functions of [`Writers`].
    pub fn new(functions: usize) -> Cleared {
        Cleared((0..functions).map(|_| AtomicU64::new(0)).collect())
    }

    fn contains(&self, (id, param): (FnId, usize)) -> bool {
        let bit = 1u64.checked_shl(param as u32).unwrap_or(0);
        self.0.get(id).is_some_and(|bits| bits.load(Ordering::Relaxed) & bit != 0)
    }

    fn extend(&self, pairs: HashSet<(FnId, usize)>) {
        for (id, param) in pairs {
            if let (Some(bits), Some(bit)) = (self.0.get(id), 1u64.checked_shl(param as u32)) {
                bits.fetch_or(bit, Ordering::Relaxed);
            }
        }
    }
}

/// The parameters (bits) whose accessor a handler's sinks in range use: the accessor's owners
/// (`context` of `context.pool()`).
pub fn owners<'s>(sinks: impl Iterator<Item = &'s Sink>) -> u64 {
    sinks.filter(|s| s.handle.taint.rw.is_some()).fold(0, |bits, s| bits | s.handle.taint.params)
}

/// Whether `sink` hands the value to its callee itself: a read-write handle, or a parameter
/// of `owners` passed as it is (`&context`, `context.clone()`), not a value derived from it.
fn passes_itself(facts: &FnFacts, sink: &Sink, owners: u64, rw_counts: bool) -> bool {
    let taint = &sink.handle.taint;
    if rw_counts && taint.rw.is_some() {
        return true;
    }
    taint.param_indices().any(|i| owners & (1 << i) != 0 && facts.params.get(i) == Some(&sink.handle.label))
}

/// A handler searched for escapes: its id, file and facts.
pub struct Handler<'h> {
    pub id: FnId,
    pub file: &'h std::path::Path,
    pub facts: &'h FnFacts,
}

/// The escape of call `sink` of `handler`, whose accessor's owners are `owners`: the owner or
/// a read-write handle handed to outside code that may query with it, or to a function of the
/// tree that hands it on so.
pub fn from_handler(
    rules: &RuleSet,
    writers: &Writers,
    handler: Handler<'_>,
    sink: &Sink,
    owners: u64,
    cleared: &Cleared,
) -> Option<Escape> {
    let Handler { id, file, facts } = handler;
    if !passes_itself(facts, sink, owners, true) {
        return None;
    }
    let mut search = Search { seen: HashSet::new(), cleared };
    let escape = from_call(rules, writers, id, file, facts, sink, &mut search);
    if escape.is_none() {
        cleared.extend(search.seen);
    }
    escape
}

/// One search: the pairs it visited, and those cleared by earlier searches.
struct Search<'c> {
    seen: HashSet<(FnId, usize)>,
    cleared: &'c Cleared,
}

/// The escape through call `sink` of function `id`, given that it passes the value itself.
fn from_call(
    rules: &RuleSet,
    writers: &Writers,
    id: FnId,
    file: &std::path::Path,
    facts: &FnFacts,
    sink: &Sink,
    search: &mut Search<'_>,
) -> Option<Escape> {
    let SinkKind::Call { callee, arg, .. } = &sink.kind else { return None };
    let step = |to: &str| ChainStep {
        function: facts.display_name(),
        file: file.to_path_buf(),
        line: sink.range.start.line,
        evidence: format!("passes `{}` to `{to}`", sink.handle.label),
    };
    match writers.resolve(id, &sink.kind) {
        Callee::External => may_query_with(rules, sink).then(|| {
            let callee = callee.join("::");
            Escape { chain: vec![step(&callee)], callee }
        }),
        Callee::Tree(candidates) => candidates.into_iter().find_map(|c| {
            if search.cleared.contains((c, *arg)) || !search.seen.insert((c, *arg)) {
                return None;
            }
            let mut escape = through_param(rules, writers, c, *arg, search)?;
            escape.chain.insert(0, step(&writers.function(c).facts.display_name()));
            Some(escape)
        }),
    }
}

/// The escape of parameter `param` of function `id` of the tree: a call passing it itself.
fn through_param(
    rules: &RuleSet,
    writers: &Writers,
    id: FnId,
    param: usize,
    search: &mut Search<'_>,
) -> Option<Escape> {
    let f = writers.function(id);
    f.facts
        .sinks
        .iter()
        .filter(|s| passes_itself(&f.facts, s, 1u64.checked_shl(param as u32).unwrap_or(0), false))
        .find_map(|s| from_call(rules, writers, id, &f.file, &f.facts, s, search))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleared_pairs_are_remembered_by_function_and_parameter() {
        let cleared = Cleared::new(3);
        cleared.extend(HashSet::from([(0, 1), (2, 63), (1, 64), (7, 0)]));
        assert!(cleared.contains((0, 1)));
        assert!(cleared.contains((2, 63)));
        // Not cleared: another parameter, another function, a parameter past the 64th (never
        // searched), a function past the table.
        assert!(!cleared.contains((0, 0)));
        assert!(!cleared.contains((1, 1)));
        assert!(!cleared.contains((1, 64)));
        assert!(!cleared.contains((7, 0)));
    }
}
