//! Functions that run a text parameter as SQL on another parameter, across files: those its
//! file found by syntax ([`SinkKind::RunsText`] marks), and those handing both parameters to
//! such a function (fuel-indexer's `queries::execute_query(conn, query)` →
//! `postgres::execute_query(c, query)`), to a fixed point. Then every call handing SQL text and
//! a handle to one ([`SinkKind::TextGiven`]: `execute_query(&mut conn, "DELETE …")`) becomes
//! that SQL run on that handle at the call, as its file would have judged it.
//!
//! Runs once, after the handles derived by calls are settled: afterwards no mark is left, and
//! the functions whose sinks changed are said (their calls are resolved again). Never judges
//! and never reports.

use crate::analysis::facts::{bit_positions as params, Sink, SinkKind};
use crate::workspace::calls::Resolved;

use super::{FnId, TreeFn};
use crate::workspace::fns::TreeFns;

/// (text parameter, handle parameter) pairs a function runs.
type Runs = Vec<(usize, usize)>;

/// A call handing parameters at two positions or more: the caller, the functions it may run,
/// and the caller's parameter bits at each position.
type Forward = (FnId, Vec<FnId>, Vec<(usize, u64)>);

/// Whether `sink` is a mark this module settles.
pub(super) fn is_mark(sink: &Sink) -> bool {
    matches!(sink.kind, SinkKind::RunsText { .. } | SinkKind::TextGiven { .. })
}

/// Settles the marks of `fns` (see the module's text); `marked` says whether any sink of `fns`
/// is one ([`is_mark`]; the caller notes it in a pass that reads every sink anyway), `resolve`
/// what a call may run. Returns the functions whose sinks changed, in order.
pub(super) fn settle(
    fns: &mut TreeFns,
    marked: bool,
    resolve: impl Fn(&TreeFns, FnId, &SinkKind) -> Resolved,
) -> Vec<FnId> {
    if !marked {
        return Vec::new();
    }
    let mut changed = Vec::new();
    let mut runs: Vec<Runs> = fns.iter().map(own_runs).collect();
    // Calls handing two parameters to the same callee, found once.
    let forwards: Vec<Forward> = (0..fns.len())
        .filter(|&id| fns[id].facts.analysed)
        .flat_map(|id| forwarding_calls(fns, id, &resolve))
        .collect();
    // Each round adds a pair or ends; at most one per (function, pair) in all.
    loop {
        let mut changed = false;
        for (caller, callees, args) in &forwards {
            for &c in callees {
                for (text, handle) in runs[c].clone() {
                    let bits = |arg: usize| args.iter().find(|(a, _)| *a == arg).map_or(0, |(_, b)| *b);
                    for i in params(bits(text)) {
                        for j in params(bits(handle)).filter(|&j| j != i) {
                            if !runs[*caller].contains(&(i, j)) {
                                runs[*caller].push((i, j));
                                changed = true;
                            }
                        }
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    for id in 0..fns.len() {
        let mut found: Vec<Sink> = Vec::new();
        for sink in &fns[id].facts.sinks {
            let SinkKind::TextGiven { call, text_arg, text } = &sink.kind else { continue };
            let SinkKind::Call { callee, arg, .. } = &**call else { continue };
            let Resolved::Tree(callees) = resolve(fns, id, call) else { continue };
            if callees.iter().any(|&c| runs[c].contains(&(*text_arg, *arg))) {
                let method = callee.last().map_or_else(Box::default, |m| Box::from(m.as_str()));
                let kind = SinkKind::Sql { text: text.clone(), method, known_method: true };
                let sql = Sink { range: sink.range, handle: sink.handle.clone(), kind };
                // The file may have judged it already (a function of the same file).
                if !fns[id].facts.sinks.contains(&sql) && !found.contains(&sql) {
                    found.push(sql);
                }
            }
        }
        let sinks = &mut fns[id].facts.sinks;
        let before = sinks.len();
        sinks.retain(|s| !is_mark(s));
        if sinks.len() != before || !found.is_empty() {
            changed.push(id);
        }
        if !found.is_empty() {
            sinks.extend(found);
            sinks.sort_by_key(|s| s.range);
        }
    }
    changed
}

/// The pairs a function's file found it runs.
fn own_runs(f: &TreeFn) -> Runs {
    let marks = f.facts.sinks.iter().filter_map(|s| match s.kind {
        SinkKind::RunsText { text } => Some(params(s.handle.taint.params).map(move |h| (text, h))),
        _ => None,
    });
    marks.flatten().collect()
}

/// Calls of `id` handing parameters at two positions or more: what they may run, and the
/// parameter bits at each position.
fn forwarding_calls(
    fns: &TreeFns,
    id: FnId,
    resolve: &impl Fn(&TreeFns, FnId, &SinkKind) -> Resolved,
) -> Vec<Forward> {
    let sinks = &fns[id].facts.sinks;
    let mut out = Vec::new();
    let mut i = 0;
    while i < sinks.len() {
        // Sinks are in range order: one call's arguments are side by side.
        let same = sinks[i..].iter().take_while(|s| s.range == sinks[i].range).count();
        let args: Vec<(usize, u64)> = sinks[i..i + same]
            .iter()
            .filter_map(|s| match &s.kind {
                SinkKind::Call { arg, builder: None, .. } if s.handle.taint.params != 0 => {
                    Some((*arg, s.handle.taint.params))
                }
                _ => None,
            })
            .collect();
        let call = sinks[i..i + same].iter().find(|s| matches!(s.kind, SinkKind::Call { builder: None, .. }));
        if let (true, Some(call)) = (args.len() >= 2, call) {
            if let Resolved::Tree(callees) = resolve(fns, id, &call.kind) {
                out.push((id, callees, args));
            }
        }
        i += same;
    }
    out
}
