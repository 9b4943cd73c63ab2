//! Writing a planned rewrite: the dirty-tree check, the check that no file changed since it
//! was read, and one atomic write per file. It never plans or judges an edit.

use std::path::PathBuf;

use super::edit;
use super::pipeline::FileChange;

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

/// Writes the planned changes (after the dirty-tree check unless `allow_dirty`).
pub fn apply(changes: &[FileChange], allow_dirty: bool) -> Result<usize, ApplyError> {
    let files: Vec<PathBuf> = changes.iter().map(|c| c.path.clone()).collect();
    if !allow_dirty {
        let dirty = edit::dirty_files(&files).map_err(ApplyError::Git)?;
        if !dirty.is_empty() {
            return Err(ApplyError::Dirty(dirty));
        }
    }
    // The file must not have changed since it was read.
    for change in changes {
        let now =
            std::fs::read_to_string(&change.path).map_err(|e| ApplyError::Write(change.path.clone(), e))?;
        if now != change.old {
            let err = std::io::Error::other("the file changed while migrate ran");
            return Err(ApplyError::Write(change.path.clone(), err));
        }
    }
    for change in changes {
        write(&change.path, &change.new)?;
    }
    Ok(changes.len())
}

/// Writes one file atomically (the whole new text or, on error, the old file untouched).
pub fn write(path: &std::path::Path, text: &str) -> Result<(), ApplyError> {
    edit::write_atomic(path, text).map_err(|e| ApplyError::Write(path.to_path_buf(), e))
}
