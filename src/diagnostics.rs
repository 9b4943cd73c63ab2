//! Problems with input files, located by file, line and column.
//!
//! A file error never stops a run: the file is left out of the analysis and the error is
//! reported with the findings.

use std::path::PathBuf;

use serde::Serialize;

use crate::source::TextRange;

/// A file that could not be read, decoded, or parsed — or was too large or too deeply nested
/// to parse safely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileError {
    /// The path as walked.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl FileError {
    /// An error about the file as a whole (located at its start).
    pub fn whole_file(file: PathBuf, message: impl Into<String>) -> FileError {
        FileError { file, line: 1, column: 1, message: message.into() }
    }
}

/// One reported problem in the analysed code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Rule id (`ro-write-sql`, …).
    pub rule: &'static str,
    /// The path as walked from the given argument.
    pub file: PathBuf,
    /// 1-based line of the first character of the offending expression.
    pub line: u32,
    /// 1-based column (characters).
    pub column: u32,
    /// Line of the end (exclusive end position).
    pub end_line: u32,
    /// Column of the end, exclusive.
    pub end_column: u32,
    /// The function (`name` or `Type::name`).
    pub function: String,
    /// The read-only binding as the source names it.
    pub binding: String,
    /// The line where the binding became read-only (the latest such assignment on some path).
    pub binding_line: u32,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The SQL text or the call that writes.
    pub evidence: String,
    /// For `ro-write-call`, the steps down to the write.
    pub chain: Vec<ChainStep>,
    /// What identifies this finding across edits that do not touch it (see
    /// [`crate::fingerprint`]); set by the pipeline once all findings are known.
    #[serde(skip)]
    pub fingerprint: String,
    /// Byte range of the offending expression (for rendering).
    #[serde(skip)]
    pub span: TextRange,
    /// Byte range where the binding became read-only.
    #[serde(skip)]
    pub origin: TextRange,
    /// Why this kind of write is a problem, for the help line.
    #[serde(skip)]
    pub why: String,
}

/// One step of a write chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainStep {
    /// The function of this step.
    pub function: String,
    /// Its file.
    pub file: PathBuf,
    /// The line of the call or write.
    pub line: u32,
    /// What happens there.
    pub evidence: String,
}
