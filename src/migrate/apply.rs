//! Writing a planned rewrite: the dirty-tree check, the check that no file changed since it
//! was read, and one atomic write per file, one file's text at a time (each is planned again
//! by its [`FileChange`]). It never judges an edit.

use std::path::PathBuf;

use super::edit;
use super::outcome::FileChange;
use super::scan::MigrateNames;
use crate::config::RuleSet;
use crate::diagnostics::FileError;

/// Why `--apply` wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Files to edit have uncommitted changes.
    #[error("uncommitted changes in files migrate would edit (commit or stash them, or pass --allow-dirty): {}", .0.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    Dirty(Vec<PathBuf>),
    /// git could not tell.
    #[error("{0}")]
    Git(String),
    /// Writing a file failed.
    #[error("{}: cannot write: {}", .0.display(), .1)]
    Write(PathBuf, std::io::Error),
}

/// Writes the planned changes (after the dirty-tree check unless `allow_dirty`), planned with
/// `rules`' names as in the run.
pub fn apply(changes: &[FileChange], rules: &RuleSet, allow_dirty: bool) -> Result<usize, ApplyError> {
    let files: Vec<PathBuf> = changes.iter().map(|c| c.path.clone()).collect();
    if !allow_dirty {
        let dirty = edit::dirty_files(&files).map_err(ApplyError::Git)?;
        if !dirty.is_empty() {
            return Err(ApplyError::Dirty(dirty));
        }
    }
    // No file may have changed since it was read: checked for all before any is written.
    let refused = |err: FileError| ApplyError::Write(err.file, std::io::Error::other(err.message));
    for change in changes {
        change.old().map_err(refused)?;
    }
    let names = MigrateNames::new(rules);
    for change in changes {
        let (_, new) = change.texts(&names).map_err(refused)?;
        write(&change.path, &new)?;
    }
    Ok(changes.len())
}

/// Writes one file atomically (the whole new text or, on error, the old file untouched).
pub fn write(path: &std::path::Path, text: &str) -> Result<(), ApplyError> {
    edit::write_atomic(path, text).map_err(|e| ApplyError::Write(path.to_path_buf(), e))
}
