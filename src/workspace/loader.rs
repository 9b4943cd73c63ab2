//! The one lazy loader: "parse the files that declare these names".
//!
//! The first pass parses only files whose text can matter and keeps, for every other file, the
//! names its text declares (`fn`, `const`/`static`, `struct`/`enum`/`trait`/`type`, found
//! lexically). Later stages say what they miss — callees a handle reaches, consts SQL refers
//! to, types a receiver is typed with, functions a route names — and this module parses the
//! files that declare those names, round by round, until nothing new is asked for. A parsed
//! file's wanted functions are promoted from its deferred analyses (no second parse); the
//! deferred analyses left when loading ends are dropped. Never decides what is wanted, and
//! never judges.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::analysis::facts::FileFacts;
use crate::diagnostics::FileError;
use crate::prefilter;

/// How many rounds a run may take (one per level of helpers, consts of consts, field types).
const MAX_ROUNDS: usize = 16;

/// What the pipeline knows about one file of the tree.
#[derive(Debug)]
pub struct Slot {
    /// The path as walked.
    pub path: PathBuf,
    /// Whether findings in it are reported.
    pub reported: bool,
    /// Its facts, once parsed and analysed.
    pub facts: Option<FileFacts>,
    /// What its text declares (unparsed files only; `check` reads it only once some file is
    /// parsed, since nothing can be wanted before).
    pub declared: Declared,
    /// Whether reading or parsing it failed (it is not tried again).
    pub failed: bool,
}

impl Slot {
    /// A file not parsed yet, with what its text declares.
    pub fn screened(path: PathBuf, reported: bool, declared: Declared) -> Slot {
        Slot { path, reported, facts: None, declared, failed: false }
    }
}

/// Names a file's text declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Declared {
    /// `fn NAME`, and names `use` items bind (a re-export is loaded like a declaration).
    pub fns: Vec<String>,
    /// `const NAME`, `static NAME`.
    pub consts: Vec<String>,
    /// `struct`, `enum`, `union`, `trait`, `type` names.
    pub types: Vec<String>,
    /// Modules declared with `#[path = "…"]`: (name, path as written).
    pub path_mods: Vec<(String, String)>,
}

impl Declared {
    /// What `text` declares, found lexically.
    pub fn of(text: &str) -> Declared {
        let mut fns = prefilter::fn_names(text);
        fns.extend(prefilter::use_names(text));
        fns.sort();
        fns.dedup();
        Declared {
            fns,
            consts: prefilter::const_names(text),
            types: prefilter::type_names(text),
            path_mods: prefilter::path_mods(text),
        }
    }
}

/// Names a stage misses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    /// Functions to analyse.
    pub fns: BTreeSet<String>,
    /// Consts and statics.
    pub consts: BTreeSet<String>,
    /// Types (their fields).
    pub types: BTreeSet<String>,
}

impl Wanted {
    fn minus(&self, asked: &Wanted) -> Wanted {
        let diff = |a: &BTreeSet<String>, b: &BTreeSet<String>| a.difference(b).cloned().collect();
        Wanted {
            fns: diff(&self.fns, &asked.fns),
            consts: diff(&self.consts, &asked.consts),
            types: diff(&self.types, &asked.types),
        }
    }

    fn is_empty(&self) -> bool {
        self.fns.is_empty() && self.consts.is_empty() && self.types.is_empty()
    }

    fn extend(&mut self, other: Wanted) {
        self.fns.extend(other.fns);
        self.consts.extend(other.consts);
        self.types.extend(other.types);
    }
}

/// Which slots changed since a stage was last asked what it wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed<'a> {
    /// Any slot (the first time, or files were parsed).
    All,
    /// Only these slots (by index, in order), whose parsed files had functions promoted.
    Promoted(&'a [usize]),
}

/// Parses and analyses one file so that the functions named in `wanted` (and those the
/// pipeline's text screen selects) are analysed.
pub type Analyse<'a> = dyn Fn(&Path, &BTreeSet<String>) -> Result<FileFacts, FileError> + Sync + 'a;

/// Whether `slot` must be (re)parsed for `fresh`.
fn declares(slot: &Slot, fresh: &Wanted) -> bool {
    if slot.failed {
        return false;
    }
    match &slot.facts {
        // A parsed file knows its consts and types; only functions skipped by its analysis
        // and not deferred (wanted deferred ones are promoted before this is asked).
        Some(facts) => {
            facts.functions.iter().any(|f| f.has_body && !f.analysed && fresh.fns.contains(&f.name))
        }
        None => {
            let d = &slot.declared;
            d.fns.iter().any(|n| fresh.fns.contains(n))
                || d.consts.iter().any(|n| fresh.consts.contains(n))
                || d.types.iter().any(|n| fresh.types.contains(n))
        }
    }
}

/// Loads, round by round, the files that declare what `wants` asks for given the slots so
/// far, until it asks for nothing new (`wants` answers by the slots alone: after a round that
/// promoted and parsed nothing it is not asked again). Returns the errors of the files parsed
/// for it and how many files were parsed that had not been. `wants` is told which slots
/// changed since it was last asked, so that it can keep what the others asked; after a round
/// that only promoted, it may leave out what it asked before (only what is not asked yet is
/// loaded).
pub fn load(
    slots: &mut [Slot],
    wants: &mut dyn FnMut(&[Slot], Changed<'_>) -> Wanted,
    analyse: &Analyse<'_>,
) -> (Vec<FileError>, usize) {
    let mut asked = Wanted::default();
    let mut errors = Vec::new();
    let mut newly_parsed = 0;
    // The slots promoted in the last round; `None`: files were parsed (or it is the first).
    let mut promoted_only: Option<Vec<usize>> = None;
    for _ in 0..MAX_ROUNDS {
        let changed = promoted_only.as_deref().map_or(Changed::All, Changed::Promoted);
        let fresh = wants(slots, changed).minus(&asked);
        if fresh.is_empty() {
            break;
        }
        asked.extend(fresh.clone());
        // Functions of parsed files whose bodies were analysed but not selected: promoted.
        let promoted: Vec<usize> = slots
            .par_iter_mut()
            .enumerate()
            .filter_map(|(i, s)| {
                let promoted = s.facts.as_mut()?.promote(|name| fresh.fns.contains(name));
                (promoted > 0).then_some(i)
            })
            .collect();
        let todo: Vec<usize> =
            (0..slots.len()).into_par_iter().filter(|&i| declares(&slots[i], &fresh)).collect();
        if promoted.is_empty() && todo.is_empty() {
            // The slots are as they were: asked again, `wants` would ask for nothing new.
            break;
        }
        promoted_only = todo.is_empty().then_some(promoted);
        let results: Vec<(usize, Result<FileFacts, FileError>)> =
            todo.par_iter().map(|&i| (i, analyse(&slots[i].path, &asked.fns))).collect();
        for (i, result) in results {
            let slot = &mut slots[i];
            // Parsed once: its declarations are known from its facts from now on.
            slot.declared = Declared::default();
            match result {
                Ok(facts) => {
                    if slot.facts.is_none() {
                        newly_parsed += 1;
                    }
                    slot.facts = Some(facts);
                }
                Err(err) => {
                    slot.failed = true;
                    errors.push(err);
                }
            }
        }
    }
    // Nothing is promoted after loading: the analyses no one wanted are dropped (freed on
    // every worker: on a large tree they are millions of allocations).
    slots.par_iter_mut().filter_map(|s| s.facts.as_mut()).for_each(|facts| facts.deferred = Vec::new());
    (errors, newly_parsed)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analysis::facts::{DeferredFn, FnFacts, HandleUse, Sink, SinkKind, Taint};
    use crate::source::TextRange;

    pub(crate) fn function(name: &str, analysed: bool, calls: &[&str]) -> FnFacts {
        FnFacts {
            name: name.into(),
            owner: None,
            module: Vec::new(),
            range: TextRange::default(),
            analysed,
            has_body: true,
            params: vec!["db".into()],
            returns: Taint::NONE,
            sinks: calls
                .iter()
                .map(|callee| Sink {
                    range: TextRange::default(),
                    handle: HandleUse { label: "db".into(), taint: Taint::param(0) },
                    kind: SinkKind::Call {
                        callee: std::sync::Arc::from([callee.to_string()]),
                        method: false,
                        arg: 0,
                        args: 1,
                        builder: None,
                        receiver: None,
                        flags: Default::default(),
                    },
                })
                .collect(),
            derived: Vec::new(),
            ro_bindings: 0,
            sig: Default::default(),
        }
    }

    pub(crate) fn facts(functions: Vec<FnFacts>) -> FileFacts {
        FileFacts { functions, ..FileFacts::default() }
    }

    pub(crate) fn screened(path: &str, text: &str) -> Slot {
        Slot::screened(path.into(), true, Declared::of(text))
    }

    /// Wants every callee of the analysed functions, and the const `SQL`.
    fn callees(slots: &[Slot]) -> Wanted {
        let mut wanted = Wanted::default();
        for f in slots.iter().filter_map(|s| s.facts.as_ref()).flat_map(|f| &f.functions) {
            for sink in &f.sinks {
                if let SinkKind::Call { callee, .. } = &sink.kind {
                    wanted.fns.extend(callee.last().cloned());
                }
            }
        }
        wanted.consts.insert("SQL".into());
        wanted
    }

    #[test]
    fn files_are_parsed_level_by_level_and_only_those_declaring_wanted_names() {
        let mut slots = vec![
            Slot { facts: Some(facts(vec![function("handler", true, &["save"])])), ..screened("h.rs", "") },
            screened("store.rs", "pub fn save(db: &Db) {}"),
            screened("deep.rs", "fn bump() {}"),
            screened("other.rs", "fn format_date() {} struct Save;"),
            screened("sql.rs", "pub const SQL: &str = \"\";"),
        ];
        let analyse = |path: &Path, wanted: &BTreeSet<String>| -> Result<FileFacts, FileError> {
            match path.to_str() {
                Some("store.rs") => {
                    assert!(wanted.contains("save"));
                    Ok(facts(vec![function("save", true, &["bump"])]))
                }
                Some("deep.rs") => Ok(facts(vec![function("bump", true, &[])])),
                Some("sql.rs") => Ok(facts(Vec::new())),
                other => panic!("{other:?} was parsed though nothing it declares is wanted"),
            }
        };
        let (errors, parsed) = load(&mut slots, &mut |slots, _| callees(slots), &analyse);
        assert!(errors.is_empty());
        assert_eq!(parsed, 3);
        assert!(slots[2].facts.is_some() && slots[3].facts.is_none() && slots[4].facts.is_some());
    }

    #[test]
    fn a_round_that_changes_nothing_ends_the_loading() {
        let mut slots = vec![
            Slot {
                facts: Some(facts(vec![function("handler", true, &["nowhere"])])),
                ..screened("h.rs", "")
            },
            screened("other.rs", "fn elsewhere() {}"),
        ];
        let mut asked = 0;
        let mut wants = |slots: &[Slot], _: Changed<'_>| {
            asked += 1;
            callees(slots)
        };
        let analyse = |path: &Path, _: &BTreeSet<String>| -> Result<FileFacts, FileError> {
            panic!("{path:?} was parsed though nothing it declares is wanted")
        };
        let (errors, parsed) = load(&mut slots, &mut wants, &analyse);
        assert!(errors.is_empty());
        assert_eq!((parsed, asked), (0, 1), "nothing promoted or parsed: not asked a second time");
    }

    /// A deferred analysis of `function(name, …)` at `index`, with its sinks.
    pub(crate) fn deferred(index: usize, f: FnFacts) -> DeferredFn {
        DeferredFn {
            index,
            params: f.params,
            returns: f.returns,
            sinks: f.sinks,
            derived: f.derived,
            ro_bindings: 7,
        }
    }

    #[test]
    fn a_parsed_file_is_never_parsed_again_and_unwanted_analyses_are_dropped() {
        // `h.rs` was parsed once: `handler` selected, `save` and `unused` analysed but deferred.
        let mut parsed = facts(vec![
            function("handler", true, &["save"]),
            function("save", false, &[]),
            function("unused", false, &[]),
        ]);
        parsed.deferred = vec![
            deferred(1, function("save", true, &["bump"])),
            deferred(2, function("unused", true, &["bump"])),
        ];
        let mut slots =
            vec![Slot { facts: Some(parsed), ..screened("h.rs", "") }, screened("deep.rs", "fn bump() {}")];
        let analyse = |path: &Path, _: &BTreeSet<String>| -> Result<FileFacts, FileError> {
            match path.to_str() {
                Some("deep.rs") => Ok(facts(vec![function("bump", true, &[])])),
                other => panic!("{other:?} was parsed again"),
            }
        };
        let (errors, parsed) = load(&mut slots, &mut |slots, _| callees(slots), &analyse);
        assert!(errors.is_empty());
        assert_eq!(parsed, 1, "only deep.rs is parsed");
        let h = slots[0].facts.as_ref().unwrap();
        // `save` promoted with its deferred facts; its call of `bump` was followed.
        assert!(h.functions[1].analysed && h.functions[1].ro_bindings == 7);
        assert_eq!(h.functions[1].sinks.len(), 1);
        // `unused` never wanted: still unanalysed, and its deferred analysis is gone.
        assert!(!h.functions[2].analysed && h.functions[2].sinks.is_empty());
        assert!(h.deferred.is_empty(), "no deferred analysis outlives loading");
        assert!(slots[1].facts.is_some());
    }

    #[test]
    fn wants_is_told_which_slots_a_round_changed() {
        let mut parsed = facts(vec![function("handler", true, &["save"]), function("save", false, &[])]);
        parsed.deferred = vec![deferred(1, function("save", true, &["bump"]))];
        let mut slots =
            vec![Slot { facts: Some(parsed), ..screened("h.rs", "") }, screened("deep.rs", "fn bump() {}")];
        let mut told = Vec::new();
        let mut wants = |slots: &[Slot], changed: Changed<'_>| {
            told.push(match changed {
                Changed::All => None,
                Changed::Promoted(ids) => Some(ids.to_vec()),
            });
            callees(slots)
        };
        let analyse = |_: &Path, _: &BTreeSet<String>| -> Result<FileFacts, FileError> {
            Ok(facts(vec![function("bump", true, &[])]))
        };
        let (errors, parsed) = load(&mut slots, &mut wants, &analyse);
        assert!(errors.is_empty());
        assert_eq!(parsed, 1);
        // First everything; after promoting `save` in h.rs only, that slot; after parsing
        // deep.rs (for `bump`), everything again.
        assert_eq!(told, [None, Some(vec![0]), None]);
    }
}
