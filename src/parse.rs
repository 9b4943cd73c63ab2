//! Parsing one file with syn, safely.
//!
//! The nesting guard runs first, so input nested deeply enough to overflow a worker's stack is
//! a [`FileError`] instead of an abort. syn's own errors become file errors located at the
//! span syn names. Callers run this on a worker of [`crate::pipeline`]'s pool (large stacks)
//! and call [`release_spans`] once everything they need from the tree is owned data.

use std::path::Path;

use crate::diagnostics::FileError;
use crate::nesting;
use crate::source::SourceText;

/// Parses `src` as a Rust file.
pub fn parse(path: &Path, src: &SourceText) -> Result<syn::File, FileError> {
    let text = src.parser_text();
    if let Err(deep) = nesting::check(text) {
        let pos = src.pos_of_offset(deep.offset + src.prefix_len);
        return Err(FileError {
            file: path.to_path_buf(),
            line: pos.line as usize,
            column: pos.column as usize,
            message: deep.message,
        });
    }
    syn::parse_file(text).map_err(|err| {
        let start = err.span().start();
        let byte = err.span().byte_range().start;
        let pos = src.pos(start.line.max(1), start.column, byte);
        FileError {
            file: path.to_path_buf(),
            line: pos.line as usize,
            column: pos.column as usize,
            message: format!("does not parse as Rust: {err}"),
        }
    })
}

/// Releases the span table of the current thread. Every span and syntax tree made on this
/// thread is invalid afterwards: call it only when nothing holds one.
pub fn release_spans() {
    proc_macro2::extra::invalidate_current_thread_spans();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<usize, FileError> {
        let out = parse(Path::new("t.rs"), &SourceText::new(text.to_string())).map(|f| f.items.len());
        release_spans();
        out
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = parse_text("fn ok() {}\nfn broken( {\n").unwrap_err();
        assert_eq!(err.line, 2, "{err:?}");
        assert!(err.message.starts_with("does not parse as Rust"), "{}", err.message);
    }

    #[test]
    fn syntax_errors_after_a_shebang_count_it() {
        let err = parse_text("#!/usr/bin/env run-cargo-script\nfn broken( {\n").unwrap_err();
        assert_eq!(err.line, 2, "{err:?}");
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let text = format!("fn f() {{ let x = {}1{}; }}", "(".repeat(5000), ")".repeat(5000));
        let err = parse_text(&text).unwrap_err();
        assert_eq!((err.line, err.file.as_path()), (1, Path::new("t.rs")));
        assert!(err.message.contains("not parsed"), "{}", err.message);
    }
}
