//! What the analysed functions miss from files not parsed yet: the names [`super::loader`]
//! is asked to load.
//!
//! Callees that receive a handle (their bodies decide whether that is a write), consts that
//! SQL text refers to, and the types receivers are typed with (their fields' types, so that
//! `state.store.save(..)` resolves on `Store`), found in one scan of the sinks. Also finds
//! accessor wrappers: analysed functions returning a read-only handle. Reads facts only; never
//! parses.

use std::collections::BTreeSet;

use rayon::prelude::*;

use std::sync::Arc;

use crate::analysis::facts::{FileFacts, FnFacts, SharedPath, SinkKind, TypeRef};
use crate::index::ConstIndex;

use super::hash::NameSet as HashSet;

use super::loader::{Changed, Slot, Wanted};

/// What the analysed functions miss, asked round after round by one loading: what each parsed
/// file's sinks ask is kept, so a round that only promoted functions scans only their files.
#[derive(Debug, Default)]
pub struct Demand {
    rw: bool,
    /// Per slot: what its sinks ask (nothing while it is not parsed).
    files: Vec<FileNeeds>,
}

/// What the sinks of one parsed file ask, given the names and consts of the tree when scanned
/// (which only parsing changes: then every file is scanned again). Paths and types are the
/// file's own shared ones (no name is copied).
#[derive(Debug, Default)]
struct FileNeeds {
    /// Callees (their last segments) that receive a handle (read-only, or a parameter of a
    /// function that may receive one; with `rw`, read-write too), each name once.
    callees: Vec<SharedPath>,
    /// Callees given only a value calls derived: each with the callees of those calls (wanted
    /// when one of them may return a value derived from its input, [`deriving_fns`]).
    via: Vec<(String, Vec<String>)>,
    /// Receivers (their type names) of calls of a method the tree has, each type once.
    receivers: Vec<Arc<TypeRef>>,
    /// Consts that SQL run on a handle refers to, directly or through known consts, and that no
    /// parsed file declares.
    consts: Vec<String>,
}

impl Demand {
    /// A demand for one loading; with `rw`, read-write handles count too (`migrate` judges
    /// what they reach).
    pub fn new(rw: bool) -> Demand {
        Demand { rw, files: Vec::new() }
    }

    /// Everything the analysed functions of `slots` miss; `changed` says which slots changed
    /// since the last call.
    pub fn wanted(&mut self, slots: &[Slot], changed: Changed<'_>) -> Wanted {
        // What the scan of the sinks asks about, each over the whole tree, side by side.
        let (deriving, (tree_fns, (parsed, consts))) = rayon::join(
            || deriving_fns(slots),
            || {
                rayon::join(
                    || tree_fn_names(slots),
                    || rayon::join(|| parsed_types(slots), || const_index(slots)),
                )
            },
        );
        let asks = Asks { rw: self.rw, tree_fns: &tree_fns, consts: &consts };
        let scan =
            |slot: &Slot| slot.facts.as_ref().map_or_else(FileNeeds::default, |f| FileNeeds::scan(f, &asks));
        match changed {
            Changed::Promoted(ids) if self.files.len() == slots.len() => {
                // Promotion changes no name and no const: the other files ask what they asked.
                let again: Vec<(usize, FileNeeds)> = ids.par_iter().map(|&i| (i, scan(&slots[i]))).collect();
                for (i, needs) in again {
                    self.files[i] = needs;
                }
            }
            Changed::All | Changed::Promoted(_) => self.files = slots.par_iter().map(scan).collect(),
        }
        let found = self
            .files
            .par_iter()
            .fold(Found::default, |mut found, needs| {
                found.add(needs, &deriving);
                found
            })
            .reduce(Found::default, Found::union);
        Wanted {
            fns: callees_behind_imports(slots, found.callees),
            consts: found.consts.into_iter().map(str::to_string).collect(),
            types: field_types(slots, found.receivers, &parsed),
        }
    }
}

/// What the scan of the sinks is told about the whole tree.
struct Asks<'a> {
    rw: bool,
    /// Every function name of the tree, parsed or not.
    tree_fns: &'a HashSet<&'a str>,
    /// The consts of the parsed files.
    consts: &'a ConstIndex,
}

impl FileNeeds {
    /// Scans every sink of one parsed file once, for the three questions.
    fn scan(facts: &FileFacts, asks: &Asks<'_>) -> FileNeeds {
        // Names and types already kept (a file shares one path or type among its sinks).
        let (mut callees, mut receivers) = (HashSet::default(), HashSet::<*const TypeRef>::default());
        let mut needs = FileNeeds::default();
        for f in &facts.functions {
            for sink in &f.sinks {
                let taint = sink.handle.taint;
                let on_handle = taint.ro.is_some() || taint.params != 0 || (asks.rw && taint.rw.is_some());
                match &sink.kind {
                    // An ORM executor run on a builder is not a function of the tree.
                    SinkKind::Call { callee, builder: None, receiver, .. } => {
                        let name = callee.last().map(String::as_str);
                        match name {
                            Some(name) if f.analysed && on_handle => {
                                // Kept once per name (an arm of its own: never judged as a derived value).
                                let first = callees.insert(name);
                                if first {
                                    needs.callees.push(Arc::clone(callee));
                                }
                            }
                            Some(name) if f.analysed && taint.via != 0 => {
                                let via = f.via_callees(taint.via).into_iter().map(str::to_string).collect();
                                needs.via.push((name.to_string(), via));
                            }
                            _ => {}
                        }
                        // A receiver's type matters only when the tree has a method of that name.
                        if let (Some(t), Some(m)) = (receiver, name) {
                            if asks.tree_fns.contains(m) && receivers.insert(Arc::as_ptr(t)) {
                                needs.receivers.push(Arc::clone(t));
                            }
                        }
                    }
                    SinkKind::Sql { text, .. } if on_handle => asks.consts.missing(text, &mut needs.consts),
                    _ => {}
                }
            }
        }
        needs
    }
}

/// What the files' sinks ask, together.
#[derive(Default)]
struct Found<'a> {
    callees: HashSet<&'a str>,
    consts: HashSet<&'a str>,
    receivers: HashSet<&'a str>,
}

impl<'a> Found<'a> {
    /// Adds what one file asks, its callees given values calls derived only when one of those
    /// calls may have derived a handle.
    fn add(&mut self, needs: &'a FileNeeds, deriving: &HashSet<&str>) {
        self.callees.extend(needs.callees.iter().filter_map(|c| c.last()).map(String::as_str));
        for (name, via) in &needs.via {
            if via.iter().any(|n| deriving.contains(n.as_str())) {
                self.callees.insert(name);
            }
        }
        needs.receivers.iter().for_each(|t| type_names(t, &mut self.receivers));
        self.consts.extend(needs.consts.iter().map(String::as_str));
    }

    fn union(mut a: Found<'a>, b: Found<'a>) -> Found<'a> {
        a.callees = union(a.callees, b.callees);
        a.receivers = union(a.receivers, b.receivers);
        a.consts = union(a.consts, b.consts);
        a
    }
}

/// A name imported under another (`use a::tally as view_tally`) among `names`: the function
/// behind it too.
fn callees_behind_imports<'a>(slots: &'a [Slot], mut names: HashSet<&'a str>) -> BTreeSet<String> {
    let imports = slots.iter().filter_map(|s| s.facts.as_ref()).flat_map(|f| &f.imports);
    let behind: Vec<&str> = imports
        .filter(|i| !i.glob && names.contains(i.alias.as_str()))
        .filter_map(|i| i.path.last().map(String::as_str))
        .collect();
    names.extend(behind);
    names.into_iter().map(str::to_string).collect()
}

/// The consts of the parsed files.
fn const_index(slots: &[Slot]) -> ConstIndex {
    let mut index = ConstIndex::default();
    for slot in slots {
        if let Some(facts) = &slot.facts {
            index.add(&slot.path, facts.consts.clone());
        }
    }
    index
}

/// The type names the parsed files declare.
fn parsed_types(slots: &[Slot]) -> HashSet<&str> {
    gather(slots, |facts, parsed| parsed.extend(facts.types.iter().map(|t| t.name.as_str())))
}

/// Every function name of the tree: of the parsed files' facts, or as the text of the others
/// declares them.
fn tree_fn_names(slots: &[Slot]) -> HashSet<&str> {
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
}

/// The receivers' type names, and the field types of the wanted structs already parsed (one
/// more level per round), that no parsed file declares.
fn field_types<'a>(
    slots: &'a [Slot],
    mut named: HashSet<&'a str>,
    parsed: &HashSet<&str>,
) -> BTreeSet<String> {
    let mut fields = HashSet::default();
    for t in slots.iter().filter_map(|s| s.facts.as_ref()).flat_map(|f| &f.types) {
        if named.contains(t.name.as_str()) {
            t.fields.iter().for_each(|(_, ty)| type_names(ty, &mut fields));
        }
    }
    named.extend(fields);
    named.into_iter().filter(|n| !parsed.contains(n) && *n != "Self").map(str::to_string).collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::loader::tests::{deferred, facts, function, screened};

    #[test]
    fn a_round_that_only_promoted_asks_what_a_full_scan_asks() {
        let mut h = facts(vec![function("handler", true, &["save"]), function("save", false, &[])]);
        h.deferred = vec![deferred(1, function("save", true, &["bump"]))];
        let other = facts(vec![function("list", true, &["put"])]);
        let mut slots = vec![
            Slot { facts: Some(h), ..screened("h.rs", "") },
            Slot { facts: Some(other), ..screened("o.rs", "") },
        ];
        let mut demand = Demand::new(false);
        let first = demand.wanted(&slots, Changed::All);
        assert_eq!(first.fns, ["put", "save"].map(String::from).into());
        let promoted = slots[0].facts.as_mut().map(|f| f.promote(|name| name == "save"));
        assert_eq!(promoted, Some(1));
        let next = demand.wanted(&slots, Changed::Promoted(&[0]));
        assert_eq!(next.fns, ["bump", "put", "save"].map(String::from).into(), "o.rs still asks for `put`");
        assert_eq!(next, Demand::new(false).wanted(&slots, Changed::All), "as a full scan");
    }
}
