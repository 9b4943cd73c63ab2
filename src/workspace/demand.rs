//! What the analysed functions miss from files not parsed yet: the names [`super::loader`]
//! is asked to load.
//!
//! Callees that receive a handle (their bodies decide whether that is a write), consts that
//! SQL text refers to, and the types receivers are typed with (their fields' types, so that
//! `state.store.save(..)` resolves on `Store`), found in one scan of the sinks. Reads facts
//! only; never parses.

use std::collections::BTreeSet;

use rayon::prelude::*;

use std::sync::Arc;

use crate::analysis::facts::{FileFacts, FnFacts, SinkKind, TypeRef};
use crate::index::ConstIndex;

use super::hash::{Name, NameMap, NameSet as HashSet};

use super::loader::{Changed, Slot, Wanted};

/// What the analysed functions miss, asked round after round by one loading. A round that only
/// promoted functions changes no name, const or type of the tree: what the tree declares is
/// kept from the last round that parsed files, only the promoted functions are scanned, and
/// only what they (and the values they may now derive) ask is answered.
#[derive(Debug, Default)]
pub struct Demand {
    rw: bool,
    /// Per slot: what its sinks ask (nothing while it is not parsed).
    files: Vec<FileNeeds>,
    /// What the tree declares, as of the last round that scanned every file.
    tree: Option<TreeNames>,
    /// The functions analysed so far that may return a value derived from a parameter.
    deriving: Deriving,
}

/// What one parsed file's scan keeps for later rounds (what its sinks ask goes straight into
/// the round's [`Found`]); only parsing changes the tree's names and consts, and then every
/// file is scanned again.
#[derive(Debug, Default)]
struct FileNeeds {
    /// Calls given only values other calls derived, none of which derives (yet, [`Deriving`]):
    /// (function, sink) by index in the file's facts. Once one does, the callee is wanted.
    via: Vec<(usize, usize)>,
    /// Per function of the file: whether its sinks were scanned (it was analysed then).
    scanned: Vec<bool>,
}

/// What the tree declares that the scan and the answer read: unchanged by promotion.
#[derive(Debug, Default)]
struct TreeNames {
    /// Every function name of the tree, parsed or not.
    fns: HashSet<Name>,
    /// The type names the parsed files declare.
    types: HashSet<Name>,
    /// The consts of the parsed files.
    consts: ConstIndex,
    /// Names imported under another (`use a::tally as view_tally`): the names behind them.
    renamed: NameMap<Name, Vec<String>>,
    /// Types of the parsed files with fields, by name: (slot, index in its facts' types).
    with_fields: NameMap<Name, Vec<(usize, usize)>>,
}

impl Demand {
    /// A demand for one loading; with `rw`, read-write handles count too (`migrate` judges
    /// what they reach).
    pub fn new(rw: bool) -> Demand {
        Demand { rw, ..Demand::default() }
    }

    /// What the analysed functions of `slots` miss; `changed` says which slots changed since
    /// the last call. After a round that only promoted functions, what an earlier call answered
    /// may be left out (what the tree misses only grows then; the loader asks only for what it
    /// has not asked for): the answer is what the promoted functions, and the values they may
    /// now derive, miss.
    pub fn wanted(&mut self, slots: &[Slot], changed: Changed<'_>) -> Wanted {
        match changed {
            Changed::Promoted(ids) if self.files.len() == slots.len() && self.tree.is_some() => {
                self.promoted(slots, ids)
            }
            Changed::All | Changed::Promoted(_) => self.everything(slots),
        }
    }

    /// Every file scanned, and what the tree declares gathered again.
    fn everything(&mut self, slots: &[Slot]) -> Wanted {
        let fns = || slots.iter().filter_map(|s| s.facts.as_ref()).flat_map(|f| &f.functions);
        let (deriving, tree) = rayon::join(|| Deriving::of(fns()), || TreeNames::of(slots));
        let asks = Asks { rw: self.rw, tree: &tree, deriving: &deriving.names };
        let (scanned, found) = scan_slots(slots, (0..slots.len()).into_par_iter(), &asks, &[]);
        self.files = (0..slots.len()).map(|_| FileNeeds::default()).collect();
        for (i, needs) in scanned {
            self.files[i] = needs;
        }
        let wanted = tree.answer(slots, found);
        self.tree = Some(tree);
        self.deriving = deriving;
        wanted
    }

    /// Only the functions promoted in `ids` scanned; what they ask, and the calls of other
    /// files given a value a newly deriving function may return.
    fn promoted(&mut self, slots: &[Slot], ids: &[usize]) -> Wanted {
        let promoted = || ids.iter().filter_map(|&i| slots.get(i)?.facts.as_ref());
        let newly = self.deriving.add(promoted().flat_map(|f| &f.functions));
        let Some(tree) = &self.tree else { return Wanted::default() };
        let deriving = &self.deriving.names;
        let asks = Asks { rw: self.rw, tree, deriving };
        let (again, mut found) = scan_slots(slots, ids.par_iter().copied(), &asks, &self.files);
        if newly {
            // The calls given values a newly deriving function may have returned.
            for (slot, needs) in slots.iter().zip(&mut self.files) {
                let Some(facts) = &slot.facts else { continue };
                needs.via.retain(|&(f, sink)| match derived_call(facts, f, sink, deriving) {
                    Some(name) => {
                        found.callees.insert(name);
                        false
                    }
                    None => true,
                });
            }
        }
        let wanted = tree.answer(slots, found);
        // Kept for later rounds: which functions were scanned, and the calls given derived values.
        for (i, mut needs) in again {
            let file = &mut self.files[i];
            file.scanned = needs.scanned;
            file.via.append(&mut needs.via);
        }
        wanted
    }
}

/// What the scan of the sinks is told about the whole tree.
struct Asks<'a> {
    rw: bool,
    tree: &'a TreeNames,
    /// The names of the functions that may return a value derived from their input.
    deriving: &'a HashSet<Name>,
}

/// The parsed slots among `ids` scanned on the pool (their functions not scanned yet, as
/// `files` says): what each keeps, by slot, and what they ask together.
fn scan_slots<'a>(
    slots: &'a [Slot],
    ids: impl ParallelIterator<Item = usize>,
    asks: &Asks<'_>,
    files: &[FileNeeds],
) -> (Vec<(usize, FileNeeds)>, Found<'a>) {
    ids.fold(
        || (Vec::new(), Found::default()),
        |(mut kept, mut found), i| {
            if let Some(facts) = slots.get(i).and_then(|s| s.facts.as_ref()) {
                let scanned = files.get(i).map_or(&[][..], |f| &f.scanned);
                kept.push((i, FileNeeds::scan(facts, asks, scanned, &mut found)));
            }
            (kept, found)
        },
    )
    .reduce(
        || (Vec::new(), Found::default()),
        |(mut kept, found), (more, other)| {
            kept.extend(more);
            (kept, Found::union(found, other))
        },
    )
}

impl FileNeeds {
    /// Scans once, for the three questions, every sink of the functions of one parsed file
    /// not `scanned` already (by index; past its end, none was), into `found`.
    fn scan<'a>(facts: &'a FileFacts, asks: &Asks<'_>, scanned: &[bool], found: &mut Found<'a>) -> FileNeeds {
        // Receiver types already kept (a file shares one type among its sinks).
        let mut receivers = HashSet::<*const TypeRef>::default();
        let mut needs = FileNeeds::default();
        for (i, f) in facts.functions.iter().enumerate() {
            let before = scanned.get(i).copied().unwrap_or(false);
            needs.scanned.push(before || f.analysed);
            if before {
                continue;
            }
            for (at, sink) in f.sinks.iter().enumerate() {
                let taint = sink.handle.taint;
                let on_handle = taint.ro.is_some() || taint.params != 0 || (asks.rw && taint.rw.is_some());
                match &sink.kind {
                    // An ORM executor run on a builder is not a function of the tree.
                    SinkKind::Call { callee, builder: None, receiver, .. } => {
                        let name = callee.last().map(String::as_str);
                        match name {
                            Some(name) if f.analysed && on_handle => {
                                // An arm of its own: never judged as a derived value.
                                found.callees.insert(name);
                            }
                            Some(name) if f.analysed && taint.via != 0 => {
                                if derives(f, taint.via, asks.deriving) {
                                    found.callees.insert(name);
                                } else {
                                    needs.via.push((i, at));
                                }
                            }
                            _ => {}
                        }
                        // A receiver's type matters only when the tree has a method of that name.
                        if let (Some(t), Some(m)) = (receiver, name) {
                            if asks.tree.fns.contains(m.as_bytes()) && receivers.insert(Arc::as_ptr(t)) {
                                type_names(t, &mut found.receivers);
                            }
                        }
                    }
                    SinkKind::Sql { text, .. } if on_handle => {
                        let mut missing = Vec::new();
                        asks.tree.consts.missing(text, &mut missing);
                        found.consts.extend(missing);
                    }
                    _ => {}
                }
            }
        }
        needs
    }
}

/// What the files' sinks ask, together: callees (their last segments) that receive a handle
/// (read-only, or a parameter of a function that may receive one; with `rw`, read-write too)
/// or a value a deriving call returned; the consts SQL run on a handle refers to, directly or
/// through known consts, that no parsed file declares; the type names of the receivers of
/// calls of a method the tree has.
#[derive(Default)]
struct Found<'a> {
    callees: HashSet<&'a str>,
    consts: HashSet<String>,
    receivers: HashSet<&'a str>,
}

impl<'a> Found<'a> {
    fn union(mut a: Found<'a>, b: Found<'a>) -> Found<'a> {
        a.callees = union(a.callees, b.callees);
        a.receivers = union(a.receivers, b.receivers);
        a.consts = union(a.consts, b.consts);
        a
    }
}

/// Whether one of the calls whose results the `via` bits of `f` stand for may return a value
/// derived from its input.
fn derives(f: &FnFacts, via: u64, deriving: &HashSet<Name>) -> bool {
    f.via_callees(via).iter().any(|n| deriving.contains(n.as_bytes()))
}

/// The callee of the call at (function `f`, `sink`) of `facts`, given only values calls derived,
/// when one of those calls may return a value derived from its input.
fn derived_call<'a>(
    facts: &'a FileFacts,
    f: usize,
    sink: usize,
    deriving: &HashSet<Name>,
) -> Option<&'a str> {
    let function = facts.functions.get(f)?;
    let sink = function.sinks.get(sink)?;
    let SinkKind::Call { callee, .. } = &sink.kind else { return None };
    let name = callee.last()?;
    derives(function, sink.handle.taint.via, deriving).then_some(name.as_str())
}

impl TreeNames {
    /// What the files of `slots` declare, gathered side by side.
    fn of(slots: &[Slot]) -> TreeNames {
        let ((fns, types), (consts, (renamed, with_fields))) = rayon::join(
            || rayon::join(|| tree_fn_names(slots), || parsed_types(slots)),
            || rayon::join(|| const_index(slots), || rayon::join(|| renamed(slots), || with_fields(slots))),
        );
        TreeNames { fns, types, consts, renamed, with_fields }
    }

    /// What `found` asks of the tree: the callees with the functions behind the names they
    /// are imported under, the consts, and the receivers' types with the field types of those
    /// already parsed (one more level per round) that no parsed file declares.
    fn answer(&self, slots: &[Slot], found: Found<'_>) -> Wanted {
        let mut fns: BTreeSet<String> = found.callees.iter().map(|n| n.to_string()).collect();
        for name in &found.callees {
            fns.extend(self.renamed.get(name.as_bytes()).into_iter().flatten().cloned());
        }
        let mut fields = HashSet::default();
        for name in &found.receivers {
            for &(slot, at) in self.with_fields.get(name.as_bytes()).into_iter().flatten() {
                let t = slots.get(slot).and_then(|s| s.facts.as_ref()).and_then(|f| f.types.get(at));
                t.into_iter().flat_map(|t| &t.fields).for_each(|(_, ty)| type_names(ty, &mut fields));
            }
        }
        let mut named = found.receivers;
        named.extend(fields);
        Wanted {
            fns,
            consts: found.consts.into_iter().collect(),
            types: named
                .into_iter()
                .filter(|n| !self.types.contains(n.as_bytes()) && *n != "Self")
                .map(str::to_string)
                .collect(),
        }
    }
}

/// Names imported under another name, with the last segments of the paths behind them.
fn renamed(slots: &[Slot]) -> NameMap<Name, Vec<String>> {
    let mut renamed: NameMap<Name, Vec<String>> = NameMap::default();
    let imports = slots.iter().filter_map(|s| s.facts.as_ref()).flat_map(|f| &f.imports);
    for i in imports.filter(|i| !i.glob) {
        match i.path.last() {
            Some(behind) if *behind != i.alias => {
                renamed.entry(Name::new(&i.alias)).or_default().push(behind.clone());
            }
            _ => {}
        }
    }
    renamed
}

/// The parsed types that have fields, by name: where each is.
fn with_fields(slots: &[Slot]) -> NameMap<Name, Vec<(usize, usize)>> {
    let mut types: NameMap<Name, Vec<(usize, usize)>> = NameMap::default();
    for (slot, facts) in slots.iter().enumerate().filter_map(|(i, s)| Some((i, s.facts.as_ref()?))) {
        for (at, t) in facts.types.iter().enumerate().filter(|(_, t)| !t.fields.is_empty()) {
            match types.get_mut(t.name.as_bytes()) {
                Some(places) => places.push((slot, at)),
                None => {
                    types.insert(Name::new(&t.name), vec![(slot, at)]);
                }
            }
        }
    }
    types
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
fn parsed_types(slots: &[Slot]) -> HashSet<Name> {
    gather(slots, |slot, names| {
        let facts = slot.facts.iter().flat_map(|f| &f.types);
        facts.for_each(|t| insert_name(names, &t.name));
    })
}

/// Every function name of the tree: of the parsed files' facts, or as the text of the others
/// declares them.
fn tree_fn_names(slots: &[Slot]) -> HashSet<Name> {
    gather(slots, |slot, names| match &slot.facts {
        Some(facts) => facts.functions.iter().for_each(|f| insert_name(names, &f.name)),
        None => slot.declared.fns.iter().for_each(|n| insert_name(names, n)),
    })
}

/// Adds `name` to `names` (its key made only the first time: most names repeat).
fn insert_name(names: &mut HashSet<Name>, name: &str) {
    if !names.contains(name.as_bytes()) {
        names.insert(Name::new(name));
    }
}

/// The names `each` finds in every slot, the slots scanned in parallel.
fn gather(slots: &[Slot], each: impl Fn(&Slot, &mut HashSet<Name>) + Sync) -> HashSet<Name> {
    slots
        .par_iter()
        .fold(HashSet::default, |mut names, slot| {
            each(slot, &mut names);
            names
        })
        .reduce(HashSet::default, union)
}

/// Names of the functions analysed so far that may return a value derived from a parameter:
/// one their own, or one a call of such a function derived (to a fixed point); a name not
/// analysed (yet) derives nothing. Only grows as functions are promoted.
#[derive(Debug, Default)]
struct Deriving {
    names: HashSet<Name>,
    /// Functions that may return what their calls derived, none of which derives yet: each
    /// name with the callees of those calls.
    pending: Vec<(Name, Vec<Name>)>,
}

impl Deriving {
    /// Those of `fns`.
    fn of<'a>(fns: impl Iterator<Item = &'a FnFacts>) -> Deriving {
        let mut deriving = Deriving::default();
        deriving.add(fns);
        deriving
    }

    /// Adds the analysed functions of `fns` (any already added is skipped or harmless);
    /// returns whether some name derives now that did not before.
    fn add<'a>(&mut self, fns: impl Iterator<Item = &'a FnFacts>) -> bool {
        let before = self.names.len();
        let candidates =
            fns.filter(|f| f.analysed && (f.returns.params | f.returns.via) != 0 && f.may_return_a_handle());
        for f in candidates {
            if self.names.contains(f.name.as_bytes()) {
                continue;
            }
            let name = Name::new(&f.name);
            if f.returns.params != 0 {
                self.names.insert(name);
            } else {
                self.pending.push((name, f.via_callees(f.returns.via).into_iter().map(Name::new).collect()));
            }
        }
        loop {
            let pending = self.pending.len();
            let names = &mut self.names;
            self.pending.retain(|(name, callees)| {
                let derives = callees.iter().any(|c| names.contains(c.as_bytes()));
                if derives {
                    names.insert(name.clone());
                }
                !derives
            });
            if self.pending.len() == pending {
                return self.names.len() > before;
            }
        }
    }
}

/// Two sets as one (the smaller poured into the larger).
fn union<T: Eq + std::hash::Hash>(mut a: HashSet<T>, mut b: HashSet<T>) -> HashSet<T> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::facts::{Derivation, Derived, Taint};
    use crate::source::{Pos, TextRange};
    use crate::workspace::loader::tests::{deferred, facts, function, screened};

    /// What `a` and `b` ask together.
    fn together(mut a: Wanted, b: Wanted) -> Wanted {
        a.fns.extend(b.fns);
        a.consts.extend(b.consts);
        a.types.extend(b.types);
        a
    }

    #[test]
    fn a_round_that_only_promoted_asks_what_the_promoted_functions_add_to_a_full_scan() {
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
        assert_eq!(next.fns, ["bump"].map(String::from).into(), "only `save` is scanned again");
        let full = Demand::new(false).wanted(&slots, Changed::All);
        assert_eq!(together(first, next), full, "with the first round, as a full scan");
    }

    /// `name(db)` whose result, derived from `db`, is handed to `user(..)` alone.
    fn hands_on_what(name: &str, wrap: &str, user: &str) -> FnFacts {
        let at =
            |offset| TextRange { start: Pos { line: 1, column: offset + 1, offset }, end: Pos::default() };
        let mut f = function(name, true, &[wrap, user]);
        f.sinks[0].range = at(1);
        f.sinks[1].range = at(2);
        f.sinks[1].handle.taint = Taint::derived(0);
        f.derived = vec![Derived { range: at(1), bit: 0, by: Derivation::Call { arg: 0 } }];
        f
    }

    #[test]
    fn a_promoted_function_that_derives_makes_other_files_want_what_its_values_reach() {
        // `wrap(db)` returns what it is given once it is analysed: `o.rs` hands its result to `audit`.
        let mut wrap = function("wrap", true, &[]);
        wrap.returns = Taint::param(0);
        let mut h = facts(vec![function("handler", true, &["wrap"]), function("wrap", false, &[])]);
        h.deferred = vec![deferred(1, wrap)];
        let other = facts(vec![hands_on_what("list", "wrap", "audit")]);
        let mut slots = vec![
            Slot { facts: Some(h), ..screened("h.rs", "") },
            Slot { facts: Some(other), ..screened("o.rs", "") },
        ];
        let mut demand = Demand::new(false);
        let first = demand.wanted(&slots, Changed::All);
        assert_eq!(first.fns, ["wrap"].map(String::from).into(), "`wrap` derives nothing yet");
        slots[0].facts.as_mut().map(|f| f.promote(|name| name == "wrap"));
        let next = demand.wanted(&slots, Changed::Promoted(&[0]));
        assert_eq!(next.fns, ["audit"].map(String::from).into(), "o.rs was not promoted, yet asks");
        let full = Demand::new(false).wanted(&slots, Changed::All);
        assert_eq!(together(first, next), full);
    }
}
