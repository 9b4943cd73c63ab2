//! Applying edits: splicing by byte span, checking the result still parses, writing files
//! atomically, and refusing to touch files with uncommitted changes.

use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

/// One replacement of a byte range of a file (offsets in the file as on disk).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Splice {
    /// The bytes replaced.
    pub range: Range<usize>,
    /// What replaces them.
    pub text: String,
}

/// Why an edit was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// Two edits overlap, or one is outside the text or not on character boundaries.
    #[error("overlapping or out-of-range edits at byte {0}")]
    BadRange(usize),
    /// The edited text does not parse.
    #[error("the edited file would not parse ({0}); nothing written")]
    DoesNotParse(String),
    /// A twin named bare by the rewrite would not be in scope: no `use` of the name it
    /// replaces could be changed to bring it in (the name is defined in the file, or imported
    /// under an alias, and the twin is nowhere).
    #[error("`{0}` would not be in scope after the rewrite (no `use` item brings it in); nothing written")]
    NotInScope(String),
    /// The twin would be imported through the module that brought the name it replaces, and
    /// that module's file never names it ([`super::reexports`]).
    #[error(
        "`{module}` does not bring `{name}` in (its file never names it): add it there, or import it from where it is defined; nothing written"
    )]
    NotExported {
        /// The module's path, as the `use` writes it.
        module: String,
        /// The twin.
        name: String,
    },
}

/// `text` with `splices` applied (in any order; they must not overlap).
pub fn splice(text: &str, splices: &[Splice]) -> Result<String, EditError> {
    let mut sorted: Vec<&Splice> = splices.iter().collect();
    sorted.sort_by_key(|s| (s.range.start, s.range.end));
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for s in sorted {
        if s.range.start < at
            || s.range.end < s.range.start
            || s.range.end > text.len()
            || !text.is_char_boundary(s.range.start)
            || !text.is_char_boundary(s.range.end)
        {
            return Err(EditError::BadRange(s.range.start));
        }
        out.push_str(&text[at..s.range.start]);
        out.push_str(&s.text);
        at = s.range.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// `text` with `splices` applied, refused when the result does not parse as Rust. Parses: run
/// it on a worker and release the span table after.
pub fn splice_checked(text: &str, splices: &[Splice]) -> Result<String, EditError> {
    let out = splice(text, splices)?;
    let src = crate::source::SourceText::new(out);
    parse_checked(src.parser_text())?;
    Ok(src.text)
}

/// `text` (a source's parser text) parsed, guarded against deep nesting; an error when it does
/// not parse. Run it on a worker and release the span table after.
pub fn parse_checked(text: &str) -> Result<syn::File, EditError> {
    if crate::nesting::check(text).is_err() {
        return Err(EditError::DoesNotParse("nested too deeply".into()));
    }
    syn::parse_file(text).map_err(|err| {
        let at = err.span().start();
        EditError::DoesNotParse(format!("line {}: {err}", at.line))
    })
}

/// Writes `text` to `path` atomically: a temporary file in the same directory, the original's
/// permissions, flushed, then renamed over the original.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let permissions = std::fs::metadata(path)?.permissions();
    let mut n = 0u32;
    let (tmp, mut file) = loop {
        let tmp = dir.join(format!(".{name}.ro-audit-{}-{n}.tmp", std::process::id()));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => break (tmp, file),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(err) => return Err(err),
        }
    };
    let result = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::set_permissions(&tmp, permissions))
        .and_then(|()| {
            drop(file);
            std::fs::rename(&tmp, path)
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Files among `files` with uncommitted changes in their git work tree (empty outside git).
/// An error when git reports something other than "not a repository".
pub fn dirty_files(files: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut dirty = Vec::new();
    for file in files {
        let abs = std::fs::canonicalize(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let dir = abs.parent().unwrap_or(Path::new("/"));
        let output =
            Command::new("git").arg("-C").arg(dir).args(["status", "--porcelain", "--"]).arg(&abs).output();
        let output = match output {
            Ok(output) => output,
            // No git on the machine: not a git tree as far as we can tell.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(format!("cannot run git: {err}")),
        };
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            if stderr.contains("not a git repository") {
                continue;
            }
            return Err(format!("git status failed for {}: {}", file.display(), stderr.trim()));
        }
        if !output.stdout.is_empty() {
            dirty.push(file.clone());
        }
    }
    Ok(dirty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(range: Range<usize>, text: &str) -> Splice {
        Splice { range, text: text.into() }
    }

    #[test]
    fn splices_keep_every_other_byte() {
        let text = "fn a() { get_db(); /* é */ s.get_db() }";
        let out = splice(text, &[at(30..36, "get_db_ro"), at(9..15, "get_db_ro")]).unwrap();
        assert_eq!(out, "fn a() { get_db_ro(); /* é */ s.get_db_ro() }");
    }

    #[test]
    fn overlapping_and_split_character_edits_are_refused() {
        assert_eq!(splice("abcdef", &[at(1..4, "x"), at(3..5, "y")]), Err(EditError::BadRange(3)));
        assert_eq!(splice("é", &[at(1..2, "x")]), Err(EditError::BadRange(1)));
        assert_eq!(splice("ab", &[at(1..9, "x")]), Err(EditError::BadRange(1)));
    }

    #[test]
    fn an_edit_that_breaks_the_syntax_is_refused() {
        let text = "fn h() { let db = get_db(); }\n";
        assert_eq!(
            splice_checked(text, &[at(18..24, "get_db_ro")]).unwrap(),
            "fn h() { let db = get_db_ro(); }\n"
        );
        // A deliberately bad edit: the call's parentheses replaced by an unclosed bracket.
        let bad = splice_checked(text, &[at(24..26, "[")]);
        crate::parse::release_spans();
        assert!(matches!(bad, Err(EditError::DoesNotParse(_))), "{bad:?}");
    }

    #[test]
    fn atomic_writes_keep_permissions_and_leave_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.rs");
        std::fs::write(&path, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        }
        write_atomic(&path, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
