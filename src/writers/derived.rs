//! Handles derived by calls of the tree: which functions return a value derived from one of
//! their parameters (`connection_tagged(&self)` → `self.connection_inner(..)` →
//! `Connection::from_pool(self.inner.acquire()?, ..)`; `requests_dal(&mut self)` →
//! `RequestsDal { storage: self }`), to a fixed point, and every function's
//! [`Taint::via`] bits settled with it: a value a call may have derived from a handle is that
//! handle when the callee returns a value derived from the input it was given, and nothing
//! otherwise (rows, counts, text).
//!
//! A callee declared to return a value that holds no handle
//! ([`FnFacts::may_return_a_handle`](crate::analysis::facts::FnFacts::may_return_a_handle))
//! derives nothing, whatever its body
//! computes from its parameters (`self.size`). A call that cannot be pinned to functions of
//! the tree derives nothing either.
//!
//! Runs once, on the calls the summaries resolved before settling (the sinks a settled
//! function drops are said, so that those resolutions follow): afterwards no sink holds a `via`
//! bit and no function keeps a [`Derived`](crate::analysis::facts::Derived). Never resolves,
//! judges or reports.

use std::collections::VecDeque;

use rayon::prelude::*;

use crate::analysis::facts::{call_sink_index, Derivation, Taint, TypeRef};

use super::resolutions::Resolutions;
use super::FnId;
use crate::workspace::fns::TreeFns;

/// One derivation of a function: what it was given, and when it holds a handle.
#[derive(Debug, Default, Clone)]
struct Derived {
    input: Taint,
    /// A call's: the input's position and the functions the call may run (live when one
    /// returns a value derived from that parameter). A field's: none, and `field_live`.
    arg: usize,
    callees: Vec<FnId>,
    /// For a field: whether its declared type may hold a handle.
    field_live: bool,
}

impl Derived {
    fn live(&self, returns: &[u64]) -> bool {
        self.field_live || self.callees.iter().any(|&c| returns[c] & bit(self.arg) != 0)
    }
}

/// How the writer summaries answer the questions of settling: what each call sink resolved to
/// (by function and sink, before settling), and whether a field (of a value of a type, seen
/// from a function) may hold a handle by its declared type.
pub(super) struct Lookups<'r, F> {
    pub resolved: &'r Resolutions,
    pub field_may_hold: F,
}

/// Per function whose settling dropped sinks: which of its sinks (as they were) it kept, in
/// function order.
pub(super) type Kept = Vec<(FnId, Vec<bool>)>;

/// Settles the [`Taint::via`] bits of every function of `fns` (see the module's text); says
/// which sinks were kept where some were dropped.
pub(super) fn settle<F>(fns: &mut TreeFns, lookups: Lookups<'_, F>) -> Kept
where
    F: Fn(&TreeFns, FnId, Option<&TypeRef>, &str) -> bool + Sync,
{
    if fns.iter().all(|f| f.facts.derived.is_empty()) {
        return Vec::new();
    }
    let shared: &TreeFns = fns;
    let derivations: Vec<Vec<Derived>> =
        (0..shared.len()).into_par_iter().map(|id| derivations_of(shared, id, &lookups)).collect();
    let returns = returned_params(fns, &derivations);
    // Each function settled by itself: on the pool.
    fns.par_iter_mut()
        .filter_map(|(id, f)| {
            let own = &derivations[id];
            if own.is_empty() {
                return None;
            }
            let settled = settled_inputs(own, |d| d.live(&returns));
            f.facts.derived = Vec::new();
            let kept: Vec<bool> = f
                .facts
                .sinks
                .iter_mut()
                .map(|sink| {
                    let taint = &mut sink.handle.taint;
                    if taint.via != 0 {
                        *taint = through(*taint, &settled);
                        return taint.is_handle();
                    }
                    true
                })
                .collect();
            f.facts.returns = Taint { params: returns[id], ..through(f.facts.returns, &settled) };
            if kept.iter().all(|&k| k) {
                return None;
            }
            let mut at = 0;
            f.facts.sinks.retain(|_| {
                at += 1;
                kept[at - 1]
            });
            Some((id, kept))
        })
        .collect()
}

/// `taint` with its `via` bits replaced by what they settled to.
fn through(taint: Taint, settled: &[Taint]) -> Taint {
    let mut out = Taint { via: 0, ..taint };
    for (b, s) in settled.iter().enumerate() {
        if taint.via & bit(b) != 0 {
            out = out.join(*s);
        }
    }
    out
}

fn bit(index: usize) -> u64 {
    1u64.checked_shl(index as u32).unwrap_or(0)
}

/// The derivations of function `id`, by bit, with the functions each call may run.
fn derivations_of<F>(fns: &TreeFns, id: FnId, lookups: &Lookups<'_, F>) -> Vec<Derived>
where
    F: Fn(&TreeFns, FnId, Option<&TypeRef>, &str) -> bool,
{
    let mut out: Vec<Derived> = Vec::new();
    for derived in &fns[id].facts.derived {
        let b = usize::from(derived.bit);
        if out.len() <= b {
            out.resize(b + 1, Derived::default());
        }
        let d = &mut out[b];
        match &derived.by {
            Derivation::Call { arg } => {
                // The input is what the call's sink hands over (`Derived::input`, found once).
                let sinks = &fns[id].facts.sinks;
                let Some(sink) = call_sink_index(sinks, derived.range, *arg) else { continue };
                d.input = d.input.join(sinks[sink].handle.taint);
                d.arg = *arg;
                let found = lookups.resolved.callees(lookups.resolved.entry(id, sink));
                d.callees = found.iter().copied().filter(|&c| fns[c].facts.may_return_a_handle()).collect();
            }
            Derivation::Field(field) => {
                d.input = d.input.join(field.input);
                d.field_live = (lookups.field_may_hold)(fns, id, field.of.as_ref(), &field.name)
            }
        }
    }
    out
}

/// What each derivation's input settles to (its own `via` bits through the live ones), given
/// which derivations are `live`: at most 64 rounds, each adding to what a bit settles to.
fn settled_inputs(derivations: &[Derived], live: impl Fn(&Derived) -> bool) -> Vec<Taint> {
    let live: Vec<bool> = derivations.iter().map(live).collect();
    let mut settled: Vec<Taint> = vec![Taint::NONE; derivations.len()];
    for _ in 0..=derivations.len() {
        let mut changed = false;
        for (b, d) in derivations.iter().enumerate() {
            if !live[b] {
                continue;
            }
            let next = settled[b].join(through(d.input, &settled));
            if next != settled[b] {
                settled[b] = next;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    settled
}

/// Per function, the parameters (bits) its return value may be a handle derived from: its own
/// (a field of `self`, a getter, a struct holding one) and what its live derivations settle
/// to, spread from callees to callers with a work list until nothing changes.
fn returned_params(fns: &TreeFns, derivations: &[Vec<Derived>]) -> Vec<u64> {
    let mut returns: Vec<u64> =
        fns.iter().map(|f| if f.facts.may_return_a_handle() { f.facts.returns.params } else { 0 }).collect();
    let mut callers: Vec<Vec<FnId>> = vec![Vec::new(); fns.len()];
    for (id, own) in derivations.iter().enumerate() {
        for &c in own.iter().flat_map(|d| &d.callees) {
            callers[c].push(id);
        }
    }
    for list in &mut callers {
        list.sort_unstable();
        list.dedup();
    }
    let mut queued: Vec<bool> = fns.iter().map(|f| f.facts.returns.via != 0).collect();
    let mut queue: VecDeque<FnId> = (0..fns.len()).filter(|&id| queued[id]).collect();
    while let Some(id) = queue.pop_front() {
        queued[id] = false;
        if !fns[id].facts.may_return_a_handle() {
            continue;
        }
        let own = &derivations[id];
        let settled = settled_inputs(own, |d| d.live(&returns));
        let now = returns[id] | through(fns[id].facts.returns, &settled).params;
        if now != returns[id] {
            returns[id] = now;
            for &caller in &callers[id] {
                if !queued[caller] && fns[caller].facts.returns.via != 0 {
                    queued[caller] = true;
                    queue.push_back(caller);
                }
            }
        }
    }
    returns
}
