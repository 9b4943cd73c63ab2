//! Reading a source file into text the parser can take, and mapping positions back.
//!
//! syn strips a UTF-8 byte-order mark and a `#!` first line before parsing, which shifts every
//! byte offset (and the columns of line 1). This module strips them itself, remembers how much
//! it stripped, and turns parser positions back into positions in the file as it is on disk.
//! It never parses.

use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

use crate::diagnostics::FileError;

/// A file's text and where the parser's view of it starts.
#[derive(Debug)]
pub struct SourceText {
    /// The whole file, as on disk.
    pub text: String,
    /// Bytes at the start that the parser does not see (a BOM and/or a shebang line).
    pub prefix_len: usize,
    /// Where each line of [`Self::parser_text`] starts (byte offsets), built on first use.
    line_starts: OnceLock<Vec<usize>>,
}

/// A position in a file: 1-based line, 1-based column counted in characters, byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: u32,
    /// 1-based column in characters.
    pub column: u32,
    /// Byte offset from the start of the file.
    pub offset: u32,
}

/// A range in a file; the end is exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TextRange {
    /// First character.
    pub start: Pos,
    /// Just past the last character.
    pub end: Pos,
}

impl TextRange {
    /// Byte range in the file.
    pub fn bytes(&self) -> std::ops::Range<usize> {
        self.start.offset as usize..self.end.offset as usize
    }
}

impl SourceText {
    /// Wraps text already in memory.
    pub fn new(text: String) -> SourceText {
        let prefix_len = parser_prefix_len(&text);
        SourceText { text, prefix_len, line_starts: OnceLock::new() }
    }

    /// The text the parser sees.
    pub fn parser_text(&self) -> &str {
        &self.text[self.prefix_len..]
    }

    /// The position in the file of a parser position (line 1-based, column 0-based chars,
    /// byte offset into [`Self::parser_text`]).
    pub fn pos(&self, line: usize, column0: usize, parser_offset: usize) -> Pos {
        let mut column = column0 + 1;
        if line == 1 && self.prefix_len > 0 {
            // The stripped prefix never holds a newline: it is all on line 1.
            column += self.text[..self.prefix_len].chars().count();
        }
        Pos { line: line as u32, column: column as u32, offset: (parser_offset + self.prefix_len) as u32 }
    }

    /// The byte offset into [`Self::parser_text`] of a parser position (line 1-based, column
    /// 0-based in characters): what proc-macro2's `Span::byte_range` answers, from this text's
    /// own table of line starts instead of its per-call character counting. Line 0 (no
    /// location) is offset 0; a position past the text is its end.
    pub fn parser_offset(&self, line: usize, column0: usize) -> usize {
        let text = self.parser_text();
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0).chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1)).collect()
        });
        let Some(index) = line.checked_sub(1) else { return 0 };
        let Some(&start) = starts.get(index) else { return text.len() };
        let rest = &text[start..];
        match rest.as_bytes().get(..column0) {
            Some(prefix) if prefix.is_ascii() => start + column0,
            _ => rest.char_indices().nth(column0).map_or(text.len(), |(i, _)| start + i),
        }
    }

    /// The position of a byte offset into the whole file.
    pub fn pos_of_offset(&self, offset: usize) -> Pos {
        let (line, column) = line_column(&self.text, offset);
        Pos { line: line as u32, column: column as u32, offset: offset as u32 }
    }
}

/// Reads `path` as UTF-8 source text, refusing files over `max_bytes`.
pub fn read(path: &Path, max_bytes: u64) -> Result<SourceText, FileError> {
    let bytes = read_bytes(path, max_bytes)?;
    decode(path, bytes)
}

/// Reads at most `max_bytes` bytes of `path`; a larger file is an error.
pub fn read_bytes(path: &Path, max_bytes: u64) -> Result<Vec<u8>, FileError> {
    let file = std::fs::File::open(path).map_err(|e| unreadable(path, &e))?;
    // Sized from the file's length (`take` hides it from `read_to_end`): one read, no regrowth.
    // One byte more, so that reaching the end needs no second allocation; a file that grew
    // since, or a length the system cannot tell (0), still reads whole, up to the limit.
    let len = file.metadata().map_or(0, |m| m.len()).min(max_bytes);
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    file.take(max_bytes.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| unreadable(path, &e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(FileError::whole_file(
            path.to_path_buf(),
            format!(
                "file is larger than max_file_bytes ({max_bytes} bytes): not analysed; raise the limit in ro-audit.toml or exclude the file"
            ),
        ));
    }
    Ok(bytes)
}

/// Decodes bytes as UTF-8; the error points at the first invalid byte.
pub fn decode(path: &Path, bytes: Vec<u8>) -> Result<SourceText, FileError> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceText::new(text)),
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let bytes = err.into_bytes();
            let prefix = std::str::from_utf8(&bytes[..valid]).unwrap_or_default();
            let (line, column) = line_column(prefix, valid);
            Err(FileError {
                file: path.to_path_buf(),
                line,
                column,
                message: format!(
                    "file is not valid UTF-8 (invalid byte 0x{:02x} at byte offset {valid})",
                    bytes[valid]
                ),
            })
        }
    }
}

fn unreadable(path: &Path, err: &std::io::Error) -> FileError {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let what = match err.raw_os_error() {
        Some(40) if is_link => "symbolic link loop".to_string(),
        Some(2) if is_link => "dangling symbolic link (its target does not exist)".to_string(),
        _ => err.to_string(),
    };
    FileError::whole_file(path.to_path_buf(), format!("cannot read file: {what}"))
}

/// Length of what syn would strip before parsing: a BOM, then a `#!` line that is not an
/// inner attribute (`#![...]`).
fn parser_prefix_len(text: &str) -> usize {
    let mut len = 0;
    if text.starts_with('\u{feff}') {
        len = '\u{feff}'.len_utf8();
    }
    let rest = &text[len..];
    if rest.starts_with("#!") && !skip_trivia(&rest[2..]).starts_with('[') {
        len += rest.find('\n').unwrap_or(rest.len());
    }
    len
}

/// Skips whitespace and comments, as syn does when deciding whether `#!` starts a shebang.
fn skip_trivia(mut s: &str) -> &str {
    loop {
        let trimmed = s.trim_start();
        if let Some(after) = trimmed.strip_prefix("//") {
            s = after.find('\n').map_or("", |i| &after[i..]);
        } else if let Some(after) = trimmed.strip_prefix("/*") {
            s = after.find("*/").map_or("", |i| &after[i + 2..]);
        } else {
            return trimmed;
        }
    }
}

/// 1-based line and character column of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_covers_bom_and_shebang_but_not_inner_attributes() {
        assert_eq!(parser_prefix_len("fn main() {}"), 0);
        assert_eq!(parser_prefix_len("\u{feff}fn main() {}"), 3);
        assert_eq!(parser_prefix_len("#!/usr/bin/env run\nfn main() {}"), 18);
        assert_eq!(parser_prefix_len("\u{feff}#!/x\nfn main() {}"), 3 + 4);
        assert_eq!(parser_prefix_len("#![allow(dead_code)]\nfn main() {}"), 0);
        assert_eq!(parser_prefix_len("#! /* c */ [allow(x)]\n"), 0);
    }

    #[test]
    fn positions_on_line_one_count_the_bom() {
        let source = SourceText::new("\u{feff}fn f() {}".to_string());
        assert_eq!(source.parser_text(), "fn f() {}");
        let pos = source.pos(1, 3, 3);
        assert_eq!((pos.line, pos.column, pos.offset), (1, 5, 6));
        assert_eq!(&source.text[pos.offset as usize..pos.offset as usize + 1], "f");
    }

    #[test]
    fn parser_offsets_count_characters_from_the_line_start() {
        let source = SourceText::new("\u{feff}ab\néé x\n\nz".to_string());
        // The parser's text is `ab\néé x\n\nz`: line 2 starts at byte 3, `x` is column 3.
        assert_eq!(source.parser_offset(1, 0), 0);
        assert_eq!(source.parser_offset(1, 2), 2, "the end of line 1 is its newline");
        assert_eq!(source.parser_offset(2, 0), 3);
        assert_eq!(source.parser_offset(2, 3), 3 + 5, "two 2-byte characters and a space");
        assert_eq!(source.parser_offset(3, 0), 10);
        assert_eq!(source.parser_offset(4, 1), 12, "the end of the text");
        assert_eq!(source.parser_offset(4, 9), 12, "past the end of the text");
        assert_eq!(source.parser_offset(9, 0), 12, "past the last line");
        assert_eq!(source.parser_offset(0, 0), 0, "no location");
    }

    #[test]
    fn invalid_utf8_is_located() {
        let err = decode(Path::new("x.rs"), b"fn a() {}\nfn b\xff() {}".to_vec()).unwrap_err();
        assert_eq!((err.line, err.column), (2, 5));
        assert!(err.message.contains("not valid UTF-8"), "{}", err.message);
    }
}
