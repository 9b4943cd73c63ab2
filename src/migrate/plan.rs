//! Planning one file's new text: the uses of read-write names rewritten to their twins, the
//! explicit derefs on swapped parameters kept ([`super::derefs`]), the `use` items fixed in the
//! file's style ([`super::imports`]), the result checked to parse. Used by a planned change
//! ([`super::outcome::FileChange`]) for the whole file or, for `--verify`, with only some
//! handlers. It never writes a file.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use super::derefs;
use super::edit::{self, Splice};
use super::imports::{self, Rename};
use super::reexports;
use super::scan::{MigrateNames, NameUse, UseKind};
use super::style::StyleEdition;
use crate::diagnostics::FileError;

/// Tells whether a `use` item of a file may name a name (by its own name or as its alias),
/// from what the file's first parse recorded.
pub type ImportedBy<'a> = &'a dyn Fn(&str) -> bool;

/// The new text of one file: the uses rewritten, the imports fixed, checked to parse.
/// `imported` (when known) lets a rewrite that only swaps names no `use` item names skip the
/// parse.
pub fn plan_file(
    path: &Path,
    text: &str,
    uses: &[NameUse],
    names: &MigrateNames,
    imported: Option<ImportedBy<'_>>,
) -> Result<String, FileError> {
    let error = |message: String| FileError::whole_file(path.to_path_buf(), message);
    // Each module file is read (and lexed) once per name, however many uses and scopes ask.
    let reaches = Memo::new(|prefix: &[String], name: &str| reexports::may_bring_in(path, prefix, name));
    let home =
        Memo::new(|prefix: &[String], name: &str| reexports::home_instead(path, prefix, name, &names.homes));
    // Finding a twin's home reads and parses the tree's files: inside the guard too.
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<String, FileError> {
        let mut seen = BTreeSet::new();
        let mut splices = Vec::new();
        let mut renames = Vec::new();
        let mut swapped = Vec::new();
        for u in uses {
            if !seen.insert(u.range.start.offset) {
                continue;
            }
            let (twin, bare) = match u.kind {
                UseKind::Type { bare } => (names.rw_types.get(&u.name), bare),
                UseKind::Call { bare } => (names.rw_accessors.get(&u.name), bare),
                _ => (names.rw_accessors.get(&u.name), false),
            };
            let Some(Some(to)) = twin else { continue };
            if matches!(u.kind, UseKind::Type { .. }) {
                swapped.push((u.range.start.offset as usize, to.clone()));
            }
            let text = match u.kind {
                UseKind::PatField { shorthand: true } => format!("{to}: {}", u.name),
                _ => to.clone(),
            };
            // A path through a module that cannot have the twin (`store::db::DbRw`, the twin
            // declared in this crate): the whole path becomes the twin's.
            let home = u.qualifier.as_ref().and_then(|q| Some((q.start, home.get(&q.segments, to)?)));
            match home {
                Some((start, home)) => splices.push(Splice {
                    range: start as usize..u.range.end.offset as usize,
                    text: format!("{}::{to}", home.join("::")),
                }),
                None => splices.push(Splice { range: u.range.bytes(), text }),
            }
            renames.push(Rename { from: u.name.clone(), to: to.clone(), bare });
        }
        if swapped.is_empty() && imported.is_some_and(|by_use| only_swaps_names(&splices, &renames, by_use)) {
            return edit::splice(text, &splices).map_err(|e| error(e.to_string()));
        }
        let kept =
            derefs::keep_types(text, &swapped).map_err(|e| error(format!("cannot plan derefs: {e}")))?;
        splices.extend(kept);
        crate::parse::release_spans();
        let rewritten = edit::splice(text, &splices).map_err(|e| error(e.to_string()))?;
        // Parsing the rewritten text for its imports is the check that it parses.
        let glob_names = Memo::new(|prefix: &[String], _: &str| reexports::glob_names(path, prefix));
        let lookup = imports::Lookup {
            reaches: &|p, n| reaches.get(p, n),
            home: &|p, n| home.get(p, n),
            glob_names: &|p| glob_names.get(p, ""),
        };
        imports::fix(&rewritten, &renames, StyleEdition::of_file(path), lookup)
            .map_err(|e| error(e.to_string()))
    }));
    crate::parse::release_spans();
    result.unwrap_or_else(|_| Err(error("internal error while editing this file".into())))
}

/// The answers of `f` about (module path, name) pairs, each computed once.
struct Memo<T, F> {
    f: F,
    known: RefCell<HashMap<(Vec<String>, String), T>>,
}

impl<T: Clone, F: Fn(&[String], &str) -> T> Memo<T, F> {
    fn new(f: F) -> Self {
        Memo { f, known: RefCell::default() }
    }

    fn get(&self, prefix: &[String], name: &str) -> T {
        let key = (prefix.to_vec(), name.to_string());
        if let Some(known) = self.known.borrow().get(&key) {
            return known.clone();
        }
        let answer = (self.f)(prefix, name);
        self.known.borrow_mut().insert(key, answer.clone());
        answer
    }
}

/// Whether `splices` only put identifiers in place of the names `renames` rewrite, no `use`
/// item names one of those (so the imports need no fix), and no twin is named bare (whether a
/// bare twin is in scope takes the file's items: [`imports::fix`]). Such a rewrite keeps the
/// token structure of the text, which parsed when the file was read: it needs no parse. A twin
/// that is not a plain identifier (a keyword) answers `false`, and the file is planned by
/// parsing.
fn only_swaps_names(splices: &[Splice], renames: &[Rename], imported: ImportedBy<'_>) -> bool {
    splices.iter().all(|s| syn::parse_str::<syn::Ident>(&s.text).is_ok())
        && renames.iter().all(|r| !r.bare && !imported(&r.from))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RuleSet;
    use crate::source::{Pos, TextRange};

    /// The uses of `name` in `text` that a handler rewrites: every whole-word occurrence after
    /// the first `fn` (the `use` items above stay the imports).
    fn uses(text: &str, name: &str, kind: UseKind) -> Vec<NameUse> {
        let body = text.find("fn ").unwrap();
        let pos = |offset: usize| Pos { line: 1, column: 1, offset: offset as u32 };
        text.match_indices(name)
            .filter(|&(at, _)| at > body && !text[at + name.len()..].starts_with('_'))
            .map(|(at, _)| NameUse {
                range: TextRange { start: pos(at), end: pos(at + name.len()) },
                name: name.to_string(),
                kind,
                rw: true,
                qualifier: None,
                written: None,
            })
            .collect()
    }

    /// Planning costs no parse when only names are swapped and no `use` item names them; it
    /// parses when an import must be fixed, or when the file's imports are not known. Counted
    /// through a file that does not parse past the handler: planned without a parse, it is
    /// spliced; with one, it is refused.
    #[test]
    fn a_names_only_rewrite_is_planned_without_parsing_the_file() {
        let names = MigrateNames::new(&RuleSet::builtin(Path::new(".")));
        let path = Path::new("src/h.rs");
        let none: ImportedBy<'_> = &|_| false;
        let get_db: ImportedBy<'_> = &|name| name == "get_db";
        let refused = |r: Result<String, FileError>| r.is_err_and(|e| e.message.contains("would not parse"));

        let method = "fn h(s: S) { let db = s.get_db(); db.query(\"SELECT 1\"); }\nfn broken( {\n";
        let method_uses = uses(method, "get_db", UseKind::Method);
        let planned = plan_file(path, method, &method_uses, &names, Some(none)).unwrap();
        assert_eq!(planned, method.replace("s.get_db()", "s.get_db_ro()"));
        assert!(refused(plan_file(path, method, &method_uses, &names, None)), "imports unknown: parsed");

        let imported = "use crate::db::get_db;\nfn h() { let db = get_db(); }\nfn broken( {\n";
        let imported_uses = uses(imported, "get_db", UseKind::Call { bare: true });
        assert!(refused(plan_file(path, imported, &imported_uses, &names, Some(get_db))), "a use names it");

        // A bare call of an accessor no `use` names (defined here, or by a glob): parsed, for
        // whether the twin is in scope.
        let local = "use crate::db::*;\nfn h() { let db = get_db(); }\nfn broken( {\n";
        let local_uses = uses(local, "get_db", UseKind::Call { bare: true });
        assert!(refused(plan_file(path, local, &local_uses, &names, Some(none))), "a bare twin: parsed");

        let fine = "use crate::db::get_db;\nfn h() { let db = get_db(); }\n";
        let fine_uses = uses(fine, "get_db", UseKind::Call { bare: true });
        let planned = plan_file(path, fine, &fine_uses, &names, Some(get_db)).unwrap();
        assert_eq!(planned, "use crate::db::get_db_ro;\nfn h() { let db = get_db_ro(); }\n");
    }
}
