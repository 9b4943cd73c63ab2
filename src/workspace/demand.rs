//! What the analysed functions miss from files not parsed yet: the names [`super::loader`]
//! is asked to load.
//!
//! Callees that receive a handle (their bodies decide whether that is a write), consts that
//! SQL text refers to, and the types receivers are typed with (their fields' types, so that
//! `state.store.save(..)` resolves on `Store`). Also finds accessor wrappers: analysed
//! functions returning a read-only handle. Reads facts only; never parses.

use std::collections::BTreeSet;

use rayon::prelude::*;

use crate::analysis::facts::{FileFacts, FnFacts, SinkKind, TypeRef};
use crate::index::ConstIndex;

use super::hash::NameSet as HashSet;

use super::loader::{Slot, Wanted};

/// Everything the analysed functions of `slots` miss. With `rw`, read-write handles count too
/// (`migrate` judges what they reach).
pub fn wanted(slots: &[Slot], rw: bool) -> Wanted {
    // Three independent scans of every sink: side by side on the pool, each over the slots in
    // parallel.
    let (fns, (consts, types)) = rayon::join(
        || handle_callees(slots, rw),
        || rayon::join(|| missing_consts(slots, rw), || receiver_types(slots)),
    );
    Wanted { fns, consts, types }
}

/// Names of the functions analysed so far that may return a value derived from a parameter:
/// one their own, or one a call of such a function derived (to a fixed point); a name not
/// analysed (yet) derives nothing.
fn deriving_fns(slots: &[Slot]) -> HashSet<&str> {
    let fns = slots.iter().filter_map(|s| s.facts.as_ref()).flat_map(|f| &f.functions);
    let candidates: Vec<&FnFacts> = fns
        .filter(|f| f.analysed && (f.returns.params | f.returns.via) != 0 && f.may_return_a_handle())
        .collect();
    let mut deriving: HashSet<&str> =
        candidates.iter().filter(|f| f.returns.params != 0).map(|f| f.name.as_str()).collect();
    let mut pending: Vec<(&str, Vec<&str>)> = candidates
        .iter()
        .filter(|f| !deriving.contains(f.name.as_str()))
        .map(|f| (f.name.as_str(), f.via_callees(f.returns.via)))
        .collect();
    loop {
        let before = pending.len();
        pending.retain(|(name, callees)| {
            let derives = callees.iter().any(|c| deriving.contains(c));
            if derives {
                deriving.insert(name);
            }
            !derives
        });
        if pending.len() == before {
            return deriving;
        }
    }
}

/// Names of callees that receive a handle (read-only, or a parameter of a function that may
/// receive one; with `rw`, read-write too).
pub fn handle_callees(slots: &[Slot], rw: bool) -> BTreeSet<String> {
    // Functions analysed so far that may return a value derived from a parameter: a value a
    // call of one of them derived (`via`) may be a handle. Until the callee is analysed (its
    // own call has a handle, so it is loaded), what the value is handed to waits.
    let deriving = deriving_fns(slots);
    // Borrowed while collecting: one string made per distinct name, not one per call.
    let mut names = gather(slots, |facts, names| {
        for f in facts.functions.iter().filter(|f| f.analysed) {
            for sink in &f.sinks {
                // An ORM executor run on a builder is not a function of the tree.
                if let SinkKind::Call { callee, builder: None, .. } = &sink.kind {
                    let taint = sink.handle.taint;
                    let derived =
                        || taint.via != 0 && f.via_callees(taint.via).iter().any(|n| deriving.contains(n));
                    if taint.ro.is_some() || taint.params != 0 || (rw && taint.rw.is_some()) || derived() {
                        names.extend(callee.last().map(String::as_str));
                    }
                }
            }
        }
    });
    // A name imported under another (`use a::tally as view_tally`): the function behind it.
    let imports = slots.iter().filter_map(|s| s.facts.as_ref()).flat_map(|f| &f.imports);
    let behind: Vec<&str> = imports
        .filter(|i| !i.glob && names.contains(i.alias.as_str()))
        .filter_map(|i| i.path.last().map(String::as_str))
        .collect();
    names.extend(behind);
    names.into_iter().map(str::to_string).collect()
}

/// Consts that SQL run on a handle refers to, directly or through known consts, and that no
/// parsed file declares (with `rw`, SQL on read-write handles too).
pub fn missing_consts(slots: &[Slot], rw: bool) -> BTreeSet<String> {
    let mut index = ConstIndex::default();
    for slot in slots {
        if let Some(facts) = &slot.facts {
            index.add(&slot.path, facts.consts.clone());
        }
    }
    let index = &index;
    slots
        .par_iter()
        .filter_map(|s| s.facts.as_ref())
        .fold(Vec::new, |mut missing, facts| {
            for sink in facts.functions.iter().flat_map(|f| &f.sinks) {
                let taint = sink.handle.taint;
                if let SinkKind::Sql { text, .. } = &sink.kind {
                    if taint.ro.is_some() || taint.params != 0 || (rw && taint.rw.is_some()) {
                        index.missing(text, &mut missing);
                    }
                }
            }
            missing
        })
        .flat_map_iter(Vec::into_iter)
        .collect()
}

/// Types named by the receivers of handle calls, and the field types of those already parsed,
/// that no parsed file declares.
pub fn receiver_types(slots: &[Slot]) -> BTreeSet<String> {
    let (parsed, tree_fns) = rayon::join(
        || gather(slots, |facts, parsed| parsed.extend(facts.types.iter().map(|t| t.name.as_str()))),
        // A receiver's type matters only when the tree has a method of that name.
        || {
            slots
                .par_iter()
                .fold(HashSet::default, |mut names, slot| {
                    match &slot.facts {
                        Some(facts) => names.extend(facts.functions.iter().map(|f| f.name.as_str())),
                        None => names.extend(slot.declared.fns.iter().map(String::as_str)),
                    }
                    names
                })
                .reduce(HashSet::default, union)
        },
    );
    let mut named = gather(slots, |facts, named| {
        for sink in facts.functions.iter().flat_map(|f| &f.sinks) {
            if let SinkKind::Call { receiver: Some(t), builder: None, callee, .. } = &sink.kind {
                if callee.last().is_some_and(|m| tree_fns.contains(m.as_str())) {
                    type_names(t, named);
                }
            }
        }
    });
    // Fields of wanted structs that are parsed: one more level per round.
    let mut fields = HashSet::default();
    for t in slots.iter().filter_map(|s| s.facts.as_ref()).flat_map(|f| &f.types) {
        if named.contains(t.name.as_str()) {
            t.fields.iter().for_each(|(_, ty)| type_names(ty, &mut fields));
        }
    }
    named.extend(fields);
    named.into_iter().filter(|n| !parsed.contains(n) && *n != "Self").map(str::to_string).collect()
}

/// The names `each` finds in the facts of every parsed slot, the slots scanned in parallel.
fn gather<'a>(
    slots: &'a [Slot],
    each: impl Fn(&'a FileFacts, &mut HashSet<&'a str>) + Sync,
) -> HashSet<&'a str> {
    slots
        .par_iter()
        .filter_map(|s| s.facts.as_ref())
        .fold(HashSet::default, |mut names, facts| {
            each(facts, &mut names);
            names
        })
        .reduce(HashSet::default, union)
}

/// Two sets of names as one (the smaller poured into the larger).
fn union<'a>(mut a: HashSet<&'a str>, mut b: HashSet<&'a str>) -> HashSet<&'a str> {
    if a.len() < b.len() {
        std::mem::swap(&mut a, &mut b);
    }
    a.extend(b);
    a
}

/// The type names `t` mentions.
fn type_names<'a>(t: &'a TypeRef, out: &mut HashSet<&'a str>) {
    match t {
        TypeRef::Named(path) => out.extend(path.last().map(String::as_str)),
        TypeRef::Field(base, _) => type_names(base, out),
        TypeRef::Returns { callee, on } => {
            if let Some(on) = on {
                type_names(on, out);
            } else if let [.., ty, _] = &callee[..] {
                if ty.starts_with(char::is_uppercase) {
                    out.insert(ty);
                }
            }
        }
        TypeRef::Wrapped { wrapper, inner } => {
            out.extend(wrapper.last().map(String::as_str));
            type_names(inner, out);
        }
        TypeRef::Bounds(_) | TypeRef::Outside => {}
    }
}

/// Analysed functions whose return value is a read-only handle (accessor wrappers): each
/// name with the type of its `impl`, if any.
pub fn read_only_wrappers(slots: &[Slot]) -> BTreeSet<(String, Option<String>)> {
    slots
        .iter()
        .filter_map(|s| s.facts.as_ref())
        .flat_map(|facts| &facts.functions)
        .filter(|f| f.analysed && f.returns.ro.is_some())
        .map(|f| (f.name.clone(), f.owner.as_deref().map(String::from)))
        .collect()
}
