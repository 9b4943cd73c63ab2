//! Demand-driven loading of the functions read-only bindings can reach.
//!
//! The first pass analyses only functions whose text names an accessor or a handle type. When
//! such a function hands a handle to a call, the callee's body decides whether that is a write,
//! so the files that declare a function of that name (found by a lexical scan kept from the
//! first read) are parsed again and the named functions analysed; their own calls with the
//! handle name more callees, until nothing new is named. Nothing is parsed that no read-only
//! binding can reach.
//!
//! It also finds accessor wrappers: analysed functions whose return value is a read-only handle.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::analysis::facts::{FileFacts, SinkKind};
use crate::diagnostics::FileError;

/// How many rounds of callee loading a run may take (one per level of helpers).
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
    /// Functions its text declares (`fn NAME`), from the first read (unparsed files only).
    pub fn_names: Vec<String>,
    /// Consts and statics its text declares, from the first read (unparsed files only).
    pub const_names: Vec<String>,
    /// Whether reading or parsing it failed (it is not tried again).
    pub failed: bool,
}

/// Re-analyses one file so that the functions named in `wanted` (and those its text screen
/// selects) are analysed.
pub type Analyse<'a> = dyn Fn(&Path, &BTreeSet<String>) -> Result<FileFacts, FileError> + Sync + 'a;

/// Names of callees that receive a handle (read-only, or a parameter of a function that may
/// receive one) in the analysed functions of `slots`.
/// With `rw`, read-write handles count too (`migrate` judges what they reach).
fn handle_callees(slots: &[Slot], rw: bool) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for facts in slots.iter().filter_map(|s| s.facts.as_ref()) {
        for sink in facts.functions.iter().filter(|f| f.analysed).flat_map(|f| &f.sinks) {
            // An ORM executor run on a builder is not a function of the tree.
            if let SinkKind::Call { callee, builder: None, .. } = &sink.kind {
                let taint = sink.handle.taint;
                if taint.ro.is_some() || taint.params != 0 || (rw && taint.rw.is_some()) {
                    if let Some(name) = callee.last() {
                        names.insert(name.clone());
                    }
                }
            }
        }
    }
    names
}

/// Whether `slot` declares a function named in `names` that is not analysed yet.
fn declares_unanalysed(slot: &Slot, names: &BTreeSet<String>) -> bool {
    if slot.failed {
        return false;
    }
    match &slot.facts {
        Some(facts) => facts.functions.iter().any(|f| !f.analysed && names.contains(&f.name)),
        None => slot.fn_names.iter().any(|n| names.contains(n)),
    }
}

/// Loads callees until every function a handle reaches is analysed. Returns the errors of the
/// files parsed for it and how many files were parsed that had not been.
pub fn load_callees(slots: &mut [Slot], analyse: &Analyse<'_>) -> (Vec<FileError>, usize) {
    load_callees_of(slots, analyse, false)
}

/// [`load_callees`], following read-write handles too when `rw` is set (for `migrate`).
pub fn load_callees_of(slots: &mut [Slot], analyse: &Analyse<'_>, rw: bool) -> (Vec<FileError>, usize) {
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    let mut errors = Vec::new();
    let mut newly_parsed = 0;
    for _ in 0..MAX_ROUNDS {
        let named = handle_callees(slots, rw);
        let fresh: BTreeSet<String> = named.difference(&wanted).cloned().collect();
        if fresh.is_empty() {
            break;
        }
        wanted.extend(fresh.iter().cloned());
        let todo: Vec<usize> = (0..slots.len()).filter(|&i| declares_unanalysed(&slots[i], &fresh)).collect();
        if todo.is_empty() {
            continue;
        }
        let results: Vec<(usize, Result<FileFacts, FileError>)> =
            todo.par_iter().map(|&i| (i, analyse(&slots[i].path, &wanted))).collect();
        for (i, result) in results {
            let slot = &mut slots[i];
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
    (errors, newly_parsed)
}

/// Names of analysed functions whose return value is a read-only handle (accessor wrappers).
pub fn read_only_wrappers(slots: &[Slot]) -> BTreeSet<String> {
    slots
        .iter()
        .filter_map(|s| s.facts.as_ref())
        .flat_map(|facts| &facts.functions)
        .filter(|f| f.analysed && f.returns.ro.is_some())
        .map(|f| f.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::facts::{FnFacts, HandleUse, Sink, Taint};
    use crate::source::TextRange;

    fn function(name: &str, analysed: bool, calls: &[(&str, Taint)]) -> FnFacts {
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
                .map(|(callee, taint)| Sink {
                    range: TextRange::default(),
                    handle: HandleUse { label: "db".into(), taint: *taint },
                    kind: SinkKind::Call {
                        callee: vec![callee.to_string()],
                        method: false,
                        arg: 0,
                        args: 1,
                        builder: None,
                    },
                })
                .collect(),
            ro_bindings: 0,
        }
    }

    fn facts(functions: Vec<FnFacts>) -> FileFacts {
        FileFacts { functions, consts: Vec::new() }
    }

    #[test]
    fn callees_are_loaded_level_by_level_and_only_those() {
        let ro = Taint::read_only(TextRange::default());
        let mut slots = vec![
            Slot {
                path: "handler.rs".into(),
                reported: true,
                facts: Some(facts(vec![function(
                    "handler",
                    true,
                    &[("save", ro), ("format_date", Taint::NONE)],
                )])),
                fn_names: vec!["handler".into()],
                const_names: Vec::new(),
                failed: false,
            },
            Slot {
                path: "store.rs".into(),
                reported: true,
                facts: None,
                fn_names: vec!["save".into()],
                const_names: Vec::new(),
                failed: false,
            },
            Slot {
                path: "deep.rs".into(),
                reported: true,
                facts: None,
                fn_names: vec!["bump".into()],
                const_names: Vec::new(),
                failed: false,
            },
            Slot {
                path: "other.rs".into(),
                reported: true,
                facts: None,
                fn_names: vec!["format_date".into()],
                const_names: Vec::new(),
                failed: false,
            },
        ];
        let analyse = |path: &Path, wanted: &BTreeSet<String>| -> Result<FileFacts, FileError> {
            match path.to_str() {
                Some("store.rs") => {
                    assert!(wanted.contains("save"));
                    Ok(facts(vec![function("save", true, &[("bump", Taint::param(0))])]))
                }
                Some("deep.rs") => Ok(facts(vec![function("bump", true, &[])])),
                other => panic!("{other:?} was parsed though no handle reaches it"),
            }
        };
        let (errors, parsed) = load_callees(&mut slots, &analyse);
        assert!(errors.is_empty());
        assert_eq!(parsed, 2);
        assert!(slots[2].facts.is_some() && slots[3].facts.is_none());
    }

    #[test]
    fn wrappers_are_functions_returning_read_only_handles() {
        let mut wrapper = function("replica", true, &[]);
        wrapper.returns = Taint::read_only(TextRange::default());
        let mut param_only = function("conn", true, &[]);
        param_only.returns = Taint::param(0);
        let slots = vec![Slot {
            path: "db.rs".into(),
            reported: true,
            facts: Some(facts(vec![wrapper, param_only])),
            fn_names: Vec::new(),
            const_names: Vec::new(),
            failed: false,
        }];
        assert_eq!(read_only_wrappers(&slots).into_iter().collect::<Vec<_>>(), ["replica"]);
    }
}
