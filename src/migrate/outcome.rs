//! What a `migrate` run reports and plans: each GET handler's verdict and planned edits, the
//! files to change (without their texts: [`FileChange`] reads and plans a file again when
//! asked), the counts. Data and the counts only; it never judges a handler or writes a file.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use serde::Serialize;

use super::classify::{Class, Reason};
use super::plan::{plan_file, ImportedBy};
use super::scan::{MigrateNames, NameUse};
use crate::diagnostics::FileError;
use crate::timings::Timings;

/// One planned rewrite of a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedEdit {
    /// 1-based line.
    pub line: u32,
    /// 1-based column (characters).
    pub column: u32,
    /// The read-write name.
    pub from: String,
    /// Its twin.
    pub to: String,
}

/// One GET handler and its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct HandlerReport {
    /// `name`, `Owner::name`, `closure in f`, or the unresolved reference.
    pub handler: String,
    /// Its routes, `METHODS path` each.
    pub routes: Vec<String>,
    /// The handler's file (or the route's, when unresolved).
    pub file: PathBuf,
    /// The handler's line (or the route's).
    pub line: u32,
    /// The lines of the handler's whole item (attributes, signature, body; for a closure, the
    /// closure), first and last; the route's line twice when unresolved.
    pub span: [u32; 2],
    /// Its class.
    pub class: Class,
    /// Why it is `mixed` (or opted out, or not GET-only).
    pub reasons: Vec<Reason>,
    /// The uses that `--apply` rewrites.
    pub edits: Vec<PlannedEdit>,
}

/// A file `--apply` would change. It holds no text: the file is read and planned again (the
/// same uses give the same text) when its diff is printed or it is written, so that a run
/// holds one changed file's text at a time, not every file's old and new text.
#[derive(Debug, Clone)]
pub struct FileChange {
    /// The file as walked.
    pub path: PathBuf,
    /// The text it was planned from: a file that changed since is refused.
    pub read: Fingerprint,
    /// The uses each handler rewrites here (by index in [`Outcome::handlers`]), so that
    /// `--verify` can plan the file again with fewer handlers.
    pub handlers: Vec<(usize, Vec<NameUse>)>,
    /// The rewritten names that a `use` item of the file names (from its first parse): when
    /// none is, and only names are swapped, planning needs no parse.
    pub imported: Vec<String>,
}

impl FileChange {
    /// The file's text, as it was when planned; an error when it cannot be read or changed.
    pub fn old(&self) -> Result<String, FileError> {
        let error = |message: String| FileError::whole_file(self.path.clone(), message);
        let text = std::fs::read_to_string(&self.path)
            .map_err(|e| error(format!("cannot read the file again: {e}")))?;
        if Fingerprint::of(&text) != self.read {
            return Err(error("the file changed while migrate ran".to_string()));
        }
        Ok(text)
    }

    /// The new text of `old` (from [`Self::old`]): every handler's uses rewritten, or with
    /// `keep` only those of the handlers in it (`old` itself when none is kept).
    pub fn new_text(
        &self,
        old: &str,
        keep: Option<&BTreeSet<usize>>,
        names: &MigrateNames,
    ) -> Result<String, FileError> {
        let uses: Vec<NameUse> = self
            .handlers
            .iter()
            .filter(|(h, _)| keep.is_none_or(|keep| keep.contains(h)))
            .flat_map(|(_, u)| u.iter().cloned())
            .collect();
        if keep.is_some() && uses.is_empty() {
            return Ok(old.to_string());
        }
        let imported = |name: &str| self.imported.iter().any(|i| i == name);
        plan_file(&self.path, old, &uses, names, keep.is_none().then_some(&imported as ImportedBy<'_>))
    }

    /// The old text and the new one (every handler's uses rewritten).
    pub fn texts(&self, names: &MigrateNames) -> Result<(String, String), FileError> {
        let old = self.old()?;
        let new = self.new_text(&old, None, names)?;
        Ok((old, new))
    }
}

/// A text's length and hash: enough to tell that a file is the one planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    len: usize,
    hash: u64,
}

impl Fingerprint {
    /// Of `text`.
    pub fn of(text: &str) -> Fingerprint {
        let mut hasher = std::hash::DefaultHasher::new();
        text.hash(&mut hasher);
        Fingerprint { len: text.len(), hash: hasher.finish() }
    }
}

/// The counts of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// GET handlers found (every class).
    pub get_handlers: usize,
    /// `pure-read`.
    pub pure_read: usize,
    /// Uses to rewrite (in the pure-read handlers).
    pub to_rewrite: usize,
    /// `mixed`.
    pub mixed: usize,
    /// `no-db`.
    pub no_db: usize,
    /// `already-ro`.
    pub already_ro: usize,
    /// `opted-out`.
    pub opted_out: usize,
    /// `not-get-only`.
    pub not_get_only: usize,
    /// `unresolved`.
    pub unresolved: usize,
    /// `rewrite-failed` (reverted by `--verify`).
    pub rewrite_failed: usize,
    /// Files to change.
    pub files: usize,
}

/// What a run found and plans.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Every GET handler, by file and line.
    pub handlers: Vec<HandlerReport>,
    /// The files to change, by path.
    pub changes: Vec<FileChange>,
    /// File errors (including refused edits).
    pub errors: Vec<FileError>,
    /// Counts.
    pub counts: Counts,
    /// Time and resident memory per phase (`--timings`).
    pub timings: Timings,
    /// The run's working data, held until the outcome is dropped.
    pub working: Working,
}

/// A run's working data (summaries, facts, route facts): freed on a thread of its own when
/// dropped, while the caller goes on; or never, when the process is about to end
/// ([`Working::abandon`]).
#[derive(Default)]
pub struct Working(Option<Box<dyn Send>>);

impl Working {
    /// Holds `data`.
    pub fn hold(data: impl Send + 'static) -> Working {
        Working(Some(Box::new(data)))
    }

    /// The process ends next and its memory with it: freeing hundreds of MiB of small
    /// allocations would only compete with the report for the cores.
    pub fn abandon(mut self) {
        std::mem::forget(self.0.take());
    }
}

impl Drop for Working {
    fn drop(&mut self) {
        if let Some(data) = self.0.take() {
            crate::pipeline::release_in_background(data);
        }
    }
}

impl std::fmt::Debug for Working {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Working(held)" } else { "Working(none)" })
    }
}

/// The counts of `outcome`'s handlers and changes.
pub fn counts(outcome: &Outcome) -> Counts {
    let mut c =
        Counts { get_handlers: outcome.handlers.len(), files: outcome.changes.len(), ..Counts::default() };
    for h in &outcome.handlers {
        match h.class {
            Class::PureRead => {
                c.pure_read += 1;
                c.to_rewrite += h.edits.len();
            }
            Class::Mixed => c.mixed += 1,
            Class::NoDb => c.no_db += 1,
            Class::AlreadyRo => c.already_ro += 1,
            Class::OptedOut => c.opted_out += 1,
            Class::NotGetOnly => c.not_get_only += 1,
            Class::Unresolved => c.unresolved += 1,
            Class::RewriteFailed => c.rewrite_failed += 1,
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RuleSet;
    use crate::migrate::scan::UseKind;
    use crate::source::{Pos, TextRange};

    /// A change is planned again from the file on disk, and refused once the file changed.
    #[test]
    fn a_change_reads_and_plans_its_file_again_and_refuses_a_changed_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.rs");
        let text = "fn h(s: S) { let db = s.get_db(); }\n";
        std::fs::write(&path, text).unwrap();
        let at = text.find("get_db").unwrap() as u32;
        let pos = |offset| Pos { line: 1, column: offset + 1, offset };
        let uses = vec![NameUse {
            range: TextRange { start: pos(at), end: pos(at + 6) },
            name: "get_db".to_string(),
            kind: UseKind::Method,
            rw: true,
            qualifier: None,
            written: None,
        }];
        let change = FileChange {
            path: path.clone(),
            read: Fingerprint::of(text),
            handlers: vec![(0, uses)],
            imported: vec![],
        };
        let names = MigrateNames::new(&RuleSet::builtin(dir.path()));
        let (old, new) = change.texts(&names).unwrap();
        assert_eq!(old, text);
        assert_eq!(new, "fn h(s: S) { let db = s.get_db_ro(); }\n");
        assert_eq!(change.new_text(&old, Some(&BTreeSet::new()), &names).unwrap(), text, "no handler kept");

        std::fs::write(&path, text.replace("h(", "g(")).unwrap();
        let err = change.old().unwrap_err();
        assert!(err.message.contains("changed while migrate ran"), "{}", err.message);
    }
}
