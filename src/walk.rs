//! Finding the Rust files of a run.
//!
//! Directories are walked with the `ignore` crate: `.gitignore` honoured inside and outside git
//! repositories, hidden files and every `target/` directory skipped. Explicitly named files are
//! taken as they are. `exclude` globs apply to both, and to directories: a directory that
//! matches is not entered, and a named file below such a directory is excluded too. When files
//! are named, the rest of their project is walked too, as *context*: its consts and functions
//! are visible to the analysis, but nothing is reported on it (excluded files are not part of
//! the context either). The same walks list the tree's SQL files (`*.sql`: migrations), where
//! the SQL functions its queries call are defined ([`crate::sql::SqlFunctions`]); a SQL file
//! named is one of those, never read as Rust. A directory named below a project's root (the
//! config file's directory, else the repository root: `check src`) gets that project's SQL
//! files as context too, its `migrations/` beside `src/` included. This module
//! only lists paths; it never reads a file.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use crate::config::RuleSet;
use crate::diagnostics::FileError;

/// One file found by the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkedFile {
    /// The path as walked from the given argument.
    pub path: PathBuf,
    /// Whether findings in this file are reported (false: context only).
    pub reported: bool,
}

/// The files of a run, sorted by path, and the paths that could not be walked.
#[derive(Debug, Default)]
pub struct Walk {
    /// Files to read, sorted, without duplicates.
    pub files: Vec<WalkedFile>,
    /// The SQL files of the walked directories (context included), sorted, without duplicates.
    pub sql_files: Vec<PathBuf>,
    /// Entries the walk could not follow (symlink loops and the like).
    pub errors: Vec<FileError>,
}

/// A named path that does not exist: a usage error.
#[derive(Debug, thiserror::Error)]
#[error("{0}: no such file or directory")]
pub struct MissingPath(pub PathBuf);

/// Walks `paths` (files or directories). A path that does not exist is an error before
/// anything is walked.
pub fn walk(paths: &[PathBuf], rules: &RuleSet) -> Result<Walk, MissingPath> {
    for path in paths {
        // symlink_metadata: a dangling symlink named explicitly exists (and fails to read later).
        if std::fs::symlink_metadata(path).is_err() {
            return Err(MissingPath(path.clone()));
        }
    }
    let mut walk = Walk::default();
    let mut named_files = Vec::new();
    for path in paths {
        if path.is_dir() {
            // The walk's filter never sees the directory it starts from.
            if !is_excluded_with_parents(rules, path) {
                walk_dir(path, true, rules, &mut walk);
            }
        } else if path.extension().is_some_and(|e| e == "sql") {
            // A SQL file named teaches its functions; there is no Rust in it to check.
            if !is_excluded_with_parents(rules, path) {
                walk.sql_files.push(clean(path));
            }
        } else {
            named_files.push(path.clone());
            if !is_excluded_with_parents(rules, path) {
                walk.files.push(WalkedFile { path: clean(path), reported: true });
            }
        }
    }
    // A directory inside a project (`check src`) is checked with the project's SQL files as
    // context, as a named file is: its migrations define the functions its queries call.
    let mut sql_roots: Vec<PathBuf> = Vec::new();
    for dir in paths.iter().filter(|p| p.is_dir()) {
        if let Some(root) = project_above(dir, rules) {
            if !sql_roots.contains(&root) {
                let mut context = Walk::default();
                walk_dir(&root, false, rules, &mut context);
                walk.sql_files.extend(context.sql_files);
                sql_roots.push(root);
            }
        }
    }
    if let Some(first) = named_files.first() {
        if let Some(root) = context_root(first, rules) {
            let mut context = Walk::default();
            walk_dir(&root, false, rules, &mut context);
            // Context errors are not the user's concern unless the file is reported.
            drop_respelled(&mut context.files, &walk.files);
            walk.files.extend(context.files);
            walk.sql_files.extend(context.sql_files);
        }
    }
    walk.files.sort_by(|a, b| a.path.cmp(&b.path).then(b.reported.cmp(&a.reported)));
    walk.files.dedup_by(|later, earlier| later.path == earlier.path);
    walk.sql_files.sort();
    walk.sql_files.dedup();
    walk.errors.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(walk)
}

/// Drops from `context` the files that are a `reported` file spelled another way (the project
/// walked from `.` while the file was named by its absolute path, or the other way round):
/// one file, one slot. Only files of the same name are compared on disk.
fn drop_respelled(context: &mut Vec<WalkedFile>, reported: &[WalkedFile]) {
    let mut by_name: HashMap<&OsStr, Vec<&Path>> = HashMap::new();
    for file in reported {
        if let Some(name) = file.path.file_name() {
            by_name.entry(name).or_default().push(&file.path);
        }
    }
    let mut canonical: HashMap<&Path, Option<PathBuf>> = HashMap::new();
    context.retain(|file| {
        let Some(same_name) = file.path.file_name().and_then(|name| by_name.get(name)) else { return true };
        if same_name.contains(&file.path.as_path()) {
            return true; // Spelled alike: the sort's dedup keeps the reported one.
        }
        let Ok(this) = file.path.canonicalize() else { return true };
        !same_name.iter().any(|&named| {
            canonical.entry(named).or_insert_with(|| named.canonicalize().ok()).as_ref() == Some(&this)
        })
    });
}

/// Whether `path` or a directory it is in (as written) matches an `exclude` glob.
fn is_excluded_with_parents(rules: &RuleSet, path: &Path) -> bool {
    if rules.exclude.globs().is_empty() {
        return false;
    }
    path.ancestors().filter(|p| is_named(p)).any(|p| rules.exclude.is_excluded(&rules.root, p))
}

/// Whether `path` names something below the current directory or root (not ``, `.`, `/`).
fn is_named(path: &Path) -> bool {
    path.components().any(|c| matches!(c, std::path::Component::Normal(_)))
}

/// `./src/a.rs` -> `src/a.rs`, so that paths read the same however they were named.
fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for (i, c) in path.components().enumerate() {
        if i == 0 && c == std::path::Component::CurDir && path.components().count() > 1 {
            continue;
        }
        out.push(c);
    }
    out
}

/// The project a named directory is strictly inside of (as [`context_root`] finds it, the
/// directory itself counted as a repository root), if any.
fn project_above(dir: &Path, rules: &RuleSet) -> Option<PathBuf> {
    let abs = dir.canonicalize().ok()?;
    if rules.source.is_none() && abs.join(".git").exists() {
        // The directory is a repository root: its own project.
        return None;
    }
    // `context_root` looks above what it is given: above the directory.
    let root = context_root(&abs, rules)?;
    let abs_root = root.canonicalize().ok()?;
    (abs != abs_root && abs.starts_with(&abs_root)).then_some(root)
}

/// The project a named file belongs to: the directory of the rule set's config file, else the
/// repository root above it. `None` when neither exists (the file stands alone).
fn context_root(file: &Path, rules: &RuleSet) -> Option<PathBuf> {
    if rules.source.is_some() {
        return Some(rules.root.clone());
    }
    let abs = file.canonicalize().ok()?;
    let repo = abs.ancestors().skip(1).find(|d| d.join(".git").exists())?;
    let cwd = std::env::current_dir().ok()?;
    Some(match repo.strip_prefix(&cwd) {
        Ok(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
        Ok(rel) => rel.to_path_buf(),
        Err(_) => repo.to_path_buf(),
    })
}

fn walk_dir(dir: &Path, reported: bool, rules: &RuleSet, out: &mut Walk) {
    let found = Mutex::new(Walk::default());
    WalkBuilder::new(dir)
        .hidden(true)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .require_git(false)
        .follow_links(false)
        .filter_entry({
            // The filter must own what it uses.
            let (exclude, root) = (rules.exclude.clone(), rules.root.clone());
            move |entry| {
                let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                let skipped_target = entry.depth() > 0 && entry.file_name() == "target" && is_dir;
                let excluded = is_dir
                    && !exclude.globs().is_empty()
                    && is_named(entry.path())
                    && exclude.is_excluded(&root, entry.path());
                !(skipped_target || excluded)
            }
        })
        .build_parallel()
        .run(|| {
            let found = &found;
            Box::new(move |entry| {
                match entry {
                    Ok(entry) => {
                        let path = entry.path();
                        let is_file = entry.file_type().is_some_and(|t| t.is_file() || t.is_symlink());
                        let extension = path.extension().and_then(OsStr::to_str).filter(|_| is_file);
                        if matches!(extension, Some("rs" | "sql"))
                            && !rules.exclude.is_excluded(&rules.root, path)
                        {
                            let mut found = found.lock().expect("walk lock");
                            if extension == Some("rs") {
                                found.files.push(WalkedFile { path: clean(path), reported });
                            } else {
                                found.sql_files.push(clean(path));
                            }
                        }
                    }
                    Err(err) => {
                        if let Some(e) = walk_error(err) {
                            found.lock().expect("walk lock").errors.push(e);
                        }
                    }
                }
                WalkState::Continue
            })
        });
    let found = found.into_inner().expect("walk lock");
    out.files.extend(found.files);
    out.sql_files.extend(found.sql_files);
    if reported {
        out.errors.extend(found.errors);
    }
}

fn walk_error(err: ignore::Error) -> Option<FileError> {
    let path = error_path(&err)?;
    if path.extension().is_some_and(|e| e != "rs") && !path.is_dir() {
        return None;
    }
    Some(FileError::whole_file(clean(&path), format!("cannot walk: {}", strip_path(&err.to_string()))))
}

fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => error_path(err),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        ignore::Error::Partial(errs) => errs.iter().find_map(error_path),
        _ => None,
    }
}

/// ignore's messages start with the path, which the error entry carries already.
fn strip_path(message: &str) -> String {
    message.rsplit_once(": ").map_or(message, |(_, m)| m).to_string()
}
