//! Planning one file's new text: the uses of read-write names rewritten to their twins, the
//! explicit derefs on swapped parameters kept ([`super::derefs`]), the `use` items fixed in the
//! file's style ([`super::imports`]), the result checked to parse. Used by the pipeline for the
//! whole plan and by `--verify` for a file with only some handlers ([`replan`]). It never
//! writes a file.

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use super::derefs;
use super::edit::{self, Splice};
use super::imports::{self, Rename};
use super::pipeline::FileChange;
use super::scan::{MigrateNames, NameUse, UseKind};
use super::style::StyleEdition;
use crate::config::RuleSet;
use crate::diagnostics::FileError;

/// The new text of `change`'s file with only the handlers in `keep` rewritten (its old text
/// when none is kept).
pub fn replan(change: &FileChange, keep: &BTreeSet<usize>, rules: &RuleSet) -> Result<String, FileError> {
    let uses: Vec<NameUse> = change
        .handlers
        .iter()
        .filter(|(h, _)| keep.contains(h))
        .flat_map(|(_, u)| u.iter().cloned())
        .collect();
    if uses.is_empty() {
        return Ok(change.old.clone());
    }
    plan_file(&change.path, &change.old, &uses, &MigrateNames::new(rules))
}

/// The new text of one file: the uses rewritten, the imports fixed, checked to parse.
pub fn plan_file(
    path: &Path,
    text: &str,
    uses: &[NameUse],
    names: &MigrateNames,
) -> Result<String, FileError> {
    let error = |message: String| FileError::whole_file(path.to_path_buf(), message);
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
        splices.push(Splice { range: u.range.bytes(), text: to.clone() });
        renames.push(Rename { from: u.name.clone(), to: to.clone(), bare });
    }
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<String, FileError> {
        let kept =
            derefs::keep_types(text, &swapped).map_err(|e| error(format!("cannot plan derefs: {e}")))?;
        splices.extend(kept);
        crate::parse::release_spans();
        let rewritten = edit::splice_checked(text, &splices).map_err(|e| error(e.to_string()))?;
        let fixes = imports::plan(&rewritten, &renames, StyleEdition::of_file(path))
            .map_err(|e| error(format!("cannot fix imports: {e}")))?;
        crate::parse::release_spans();
        edit::splice_checked(&rewritten, &fixes).map_err(|e| error(e.to_string()))
    }));
    crate::parse::release_spans();
    result.unwrap_or_else(|_| Err(error("internal error while editing this file".into())))
}
