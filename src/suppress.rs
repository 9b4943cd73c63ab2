//! Suppression comments: `// ro-audit: allow(RULE, …) reason`.
//!
//! A suppression covers the findings of the rules it names that start on the line below it,
//! or whose span includes a line of the comment. It takes effect only with a reason. Every
//! comment that gives no reason, is malformed, names no rule, or suppresses nothing becomes a
//! finding of `ro-bad-suppression` at the comment. `allow(migrate)` belongs to
//! `ro-audit migrate` and is left alone here.
//!
//! Comments are found by a small Rust lexer that knows string, raw string, byte string, char
//! and lifetime tokens and nested block comments, so text inside a string literal is never
//! taken for a comment. Only files whose text holds the marker are lexed; the worker that read
//! a file for the analysis scans it, so no file is read twice.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::diagnostics::Finding;
use crate::rules::{self, Rule};
use crate::source::{line_column, Pos, TextRange};

/// What every directive starts with, after the comment's own markers.
pub const MARKER: &str = "ro-audit:";

/// The pseudo-rule of `ro-audit migrate`'s opt-out comments.
const MIGRATE: &str = "migrate";

/// How long the comment text quoted as a bad suppression's evidence may be.
const MAX_EVIDENCE_CHARS: usize = 200;

/// One `ro-audit:` comment of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// Where the comment is.
    pub range: TextRange,
    /// The comment as written, on one line (for reports).
    pub text: String,
    /// What it says.
    pub kind: DirectiveKind,
}

/// What a directive says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectiveKind {
    /// `allow(rules…) reason`, with `migrate` left out of `rules` (never empty).
    Allow {
        /// The rules named, as written.
        rules: Vec<String>,
        /// The reason, whitespace folded; empty when none is given.
        reason: String,
    },
    /// Not `allow(RULE, …) reason`: what is wrong.
    Malformed(String),
}

/// A finding that a suppression comment silenced.
#[derive(Debug, Clone)]
pub struct Suppressed {
    /// The finding.
    pub finding: Finding,
    /// The reason the comment gives.
    pub reason: String,
    /// The line of the comment.
    pub comment_line: u32,
}

/// The findings of a run after its suppression comments are applied.
#[derive(Debug, Default)]
pub struct Applied {
    /// Findings not suppressed, then one `ro-bad-suppression` finding per bad comment.
    pub findings: Vec<Finding>,
    /// Findings silenced, with the comment that did it.
    pub suppressed: Vec<Suppressed>,
}

/// The directives in `text` (a whole file). Cheap when the file has none.
pub fn scan(text: &str) -> Vec<Directive> {
    if memchr::memmem::find(text.as_bytes(), MARKER.as_bytes()).is_none() {
        return Vec::new();
    }
    comments(text)
        .into_iter()
        .filter_map(|(start, end)| {
            let comment = &text[start..end];
            let body = comment_body(comment);
            let rest = body.strip_prefix(MARKER)?;
            let kind = parse_directive(rest)?;
            let range = TextRange { start: pos(text, start), end: pos(text, end) };
            Some(Directive { range, text: one_line(comment), kind })
        })
        .collect()
}

/// Applies `directives` (by file) to `findings`. Findings of `ro-bad-suppression` cannot be
/// suppressed.
pub fn apply(findings: Vec<Finding>, directives: &HashMap<PathBuf, Vec<Directive>>) -> Applied {
    // For each file's directives: which of their rules silenced something.
    let mut used: HashMap<&PathBuf, Vec<Vec<bool>>> = directives
        .iter()
        .map(|(file, ds)| {
            let flags = ds
                .iter()
                .map(|d| match &d.kind {
                    DirectiveKind::Allow { rules, .. } => vec![false; rules.len()],
                    DirectiveKind::Malformed(_) => Vec::new(),
                })
                .collect();
            (file, flags)
        })
        .collect();
    let mut applied = Applied::default();
    for finding in findings {
        let mut by: Option<(String, u32)> = None;
        if let (Some(ds), Some(flags)) = (directives.get(&finding.file), used.get_mut(&finding.file)) {
            for (d, flags) in ds.iter().zip(flags.iter_mut()) {
                let DirectiveKind::Allow { rules, reason } = &d.kind else { continue };
                if reason.is_empty() || !covers(d, &finding) || finding.rule == rules::RO_BAD_SUPPRESSION {
                    continue;
                }
                for (rule, flag) in rules.iter().zip(flags.iter_mut()) {
                    if rule == finding.rule {
                        *flag = true;
                        by.get_or_insert_with(|| (reason.clone(), d.range.start.line));
                    }
                }
            }
        }
        match by {
            Some((reason, comment_line)) => {
                applied.suppressed.push(Suppressed { finding, reason, comment_line })
            }
            None => applied.findings.push(finding),
        }
    }
    let mut files: Vec<&PathBuf> = directives.keys().collect();
    files.sort();
    for file in files {
        for (d, flags) in directives[file].iter().zip(&used[file]) {
            if let Some(bad) = judge(file, d, flags) {
                applied.findings.push(bad);
            }
        }
    }
    applied
}

/// Whether `d` is on a line of `finding`'s span or on the line above its first line.
fn covers(d: &Directive, finding: &Finding) -> bool {
    let (first, last) = (finding.line.saturating_sub(1), finding.end_line.max(finding.line));
    d.range.start.line <= last && d.range.end.line >= first
}

/// The `ro-bad-suppression` finding for `d`, if it is bad. `used[i]`: rule i silenced
/// something.
fn judge(file: &Path, d: &Directive, used: &[bool]) -> Option<Finding> {
    let (message, help) = match &d.kind {
        DirectiveKind::Malformed(what) => (
            format!("malformed suppression comment: {what}"),
            "Write it as `// ro-audit: allow(RULE) reason`, e.g. `// ro-audit: allow(ro-write-sql) this handle is the primary`.".to_string(),
        ),
        DirectiveKind::Allow { rules, reason } if reason.is_empty() => (
            format!("suppression of {} gives no reason, so it suppresses nothing", quoted(rules)),
            "Say why the finding is not a problem after the parenthesis: `// ro-audit: allow(RULE) reason`."
                .to_string(),
        ),
        DirectiveKind::Allow { rules, .. } => {
            let mut problems = Vec::new();
            let unknown: Vec<String> = rules.iter().filter(|r| Rule::find(r).is_none()).cloned().collect();
            if !unknown.is_empty() {
                problems.push(format!("{} {} not a rule of ro-audit", quoted(&unknown), is_are(unknown.len())));
            }
            if rules.iter().any(|r| r == rules::RO_BAD_SUPPRESSION) {
                problems.push(format!("findings of `{}` cannot be suppressed", rules::RO_BAD_SUPPRESSION));
            }
            let unused: Vec<String> = rules
                .iter()
                .zip(used)
                .filter(|(r, used)| {
                    !**used && Rule::find(r).is_some() && r.as_str() != rules::RO_BAD_SUPPRESSION
                })
                .map(|(r, _)| r.clone())
                .collect();
            if !unused.is_empty() {
                problems.push(format!(
                    "suppression of {} suppresses nothing: no such finding on this line or the next",
                    quoted(&unused)
                ));
            }
            if problems.is_empty() {
                return None;
            }
            let known: Vec<&str> =
                rules::ALL.iter().map(|r| r.id).filter(|id| *id != rules::RO_BAD_SUPPRESSION).collect();
            (
                problems.join("; "),
                format!(
                    "A suppression applies to findings that start on the line below it or whose span includes its line. Remove it if the code it was for is gone. Rules that can be suppressed: {}.",
                    known.join(", ")
                ),
            )
        }
    };
    Some(Finding {
        rule: rules::RO_BAD_SUPPRESSION,
        file: file.to_path_buf(),
        line: d.range.start.line,
        column: d.range.start.column,
        end_line: d.range.end.line,
        end_column: d.range.end.column,
        function: String::new(),
        binding: String::new(),
        binding_line: 0,
        message,
        evidence: shorten(&d.text),
        chain: Vec::new(),
        fingerprint: String::new(),
        span: d.range,
        origin: d.range,
        why: help,
    })
}

fn quoted(rules: &[String]) -> String {
    rules.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", ")
}

fn is_are(n: usize) -> &'static str {
    if n == 1 {
        "is"
    } else {
        "are"
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_EVIDENCE_CHARS {
        text.to_string()
    } else {
        text.chars().take(MAX_EVIDENCE_CHARS - 1).chain(std::iter::once('…')).collect()
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn pos(text: &str, offset: usize) -> Pos {
    let (line, column) = line_column(text, offset);
    Pos { line: line as u32, column: column as u32, offset: offset as u32 }
}

/// The text of a comment without its markers (`//`, `///`, `//!`, `/*`, `/**`, `/*!`, `*/`),
/// trimmed.
fn comment_body(comment: &str) -> &str {
    let body = if let Some(line) = comment.strip_prefix("//") {
        line.strip_prefix(['/', '!']).unwrap_or(line)
    } else {
        let inner = comment.strip_prefix("/*").unwrap_or(comment);
        let inner = inner.strip_suffix("*/").unwrap_or(inner);
        inner.strip_prefix(['*', '!']).unwrap_or(inner)
    };
    body.trim()
}

/// Parses what follows `ro-audit:`. `None`: an `allow` of `migrate` only (not `check`'s).
fn parse_directive(rest: &str) -> Option<DirectiveKind> {
    let expected = "expected `ro-audit: allow(RULE, …) reason`";
    let rest = rest.trim_start();
    let Some(after) = rest.strip_prefix("allow") else {
        return Some(DirectiveKind::Malformed(expected.to_string()));
    };
    let Some(after) = after.trim_start().strip_prefix('(') else {
        return Some(DirectiveKind::Malformed(expected.to_string()));
    };
    let Some((list, reason)) = after.split_once(')') else {
        return Some(DirectiveKind::Malformed(format!("no closing parenthesis; {expected}")));
    };
    let named: Vec<String> = list.split(',').map(|r| r.trim().to_string()).collect();
    if named
        .iter()
        .any(|r| r.is_empty() || !r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        return Some(DirectiveKind::Malformed(format!(
            "`{}` is not a list of rule ids; {expected}",
            list.trim()
        )));
    }
    let rules: Vec<String> = named.into_iter().filter(|r| r != MIGRATE).collect();
    if rules.is_empty() {
        return None;
    }
    let reason = reason.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '-' | '—' | '–'));
    let reason = if reason.chars().any(char::is_alphanumeric) { one_line(reason) } else { String::new() };
    Some(DirectiveKind::Allow { rules, reason })
}

/// Byte ranges of the comments in Rust source `text`: line comments without their newline,
/// block comments (nested) with both markers. Text in string, raw string, byte string and
/// char literals is skipped; an unterminated literal or comment runs to the end.
pub fn comments(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let n = b.len();
    let mut out = Vec::new();
    let mut i = 0;
    let is_ident = |c: u8| c == b'_' || c.is_ascii_alphanumeric() || c >= 0x80;
    while i < n {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = memchr::memchr(b'\n', &b[i..]).map_or(n, |j| i + j);
                let end = if end > i && b[end - 1] == b'\r' { end - 1 } else { end };
                out.push((i, end));
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let start = i;
                let mut depth = 0usize;
                while i < n {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                out.push((start, i.min(n)));
            }
            b'"' => i = skip_string(b, i + 1),
            b'\'' => i = skip_char_or_lifetime(text, i),
            c if is_ident(c) => {
                let start = i;
                while i < n && is_ident(b[i]) {
                    i += 1;
                }
                let word = &b[start..i];
                if matches!(word, b"r" | b"br" | b"cr") {
                    let mut j = i;
                    while j < n && b[j] == b'#' {
                        j += 1;
                    }
                    if b.get(j) == Some(&b'"') {
                        i = skip_raw_string(b, j + 1, j - i);
                    }
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// Past the closing quote of a string whose body starts at `i`.
fn skip_string(b: &[u8], mut i: usize) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// Past the `"` + `hashes` × `#` that closes a raw string whose body starts at `i`.
fn skip_raw_string(b: &[u8], mut i: usize, hashes: usize) -> usize {
    while i < b.len() {
        if b[i] == b'"' && b.len() - (i + 1) >= hashes && b[i + 1..i + 1 + hashes].iter().all(|&c| c == b'#')
        {
            return i + 1 + hashes;
        }
        i += 1;
    }
    b.len()
}

/// At a `'`: past a char literal (`'x'`, `'\n'`, `'\u{1F600}'`, `'"'`), or just past the quote
/// of a lifetime or label (`'a`, `'static`).
fn skip_char_or_lifetime(text: &str, i: usize) -> usize {
    let b = text.as_bytes();
    if b.get(i + 1) == Some(&b'\\') {
        // An escape: the literal ends at the next quote after the escaped character.
        let mut j = i + 3;
        while j < b.len() && b[j] != b'\'' && b[j] != b'\n' {
            j += 1;
        }
        return (j + 1).min(b.len());
    }
    let Some(c) = text.get(i + 1..).and_then(|rest| rest.chars().next()) else { return i + 1 };
    let after = i + 1 + c.len_utf8();
    if b.get(after) == Some(&b'\'') {
        after + 1
    } else {
        i + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment_texts(text: &str) -> Vec<&str> {
        comments(text).into_iter().map(|(s, e)| &text[s..e]).collect()
    }

    #[test]
    fn comments_are_found_outside_literals_only() {
        let text = r####"
fn f<'a>(x: &'a str) -> char {
    let s = "// not a comment /* nor this */";
    let r = r#"still "// a string"# ; // real one
    let b = br##"x"# // inside "##; /* block /* nested */ still */
    let c = '"'; let d = '\''; let e = b'/'; // after chars
    let u = '\u{1F600}'; let q = "\"// escaped quote";
    'outer: loop { break 'outer; } /// doc
    let ident_r = r; let y = r#type; //! inner
}
"####;
        assert_eq!(
            comment_texts(text),
            ["// real one", "/* block /* nested */ still */", "// after chars", "/// doc", "//! inner",]
        );
    }

    #[test]
    fn unterminated_things_run_to_the_end_without_panicking() {
        assert_eq!(comment_texts("let s = \"open // no"), Vec::<&str>::new());
        assert_eq!(comment_texts("/* open /* nested */"), ["/* open /* nested */"]);
        assert_eq!(comment_texts("let c = '"), Vec::<&str>::new());
        assert_eq!(comment_texts("r##\"x\"#"), Vec::<&str>::new());
        assert_eq!(comment_texts("x // é\r\ny"), ["// é"]);
    }

    #[test]
    fn directives_are_parsed() {
        let text = "a(); // ro-audit: allow(ro-write-sql) the primary\n\
                    /* ro-audit: allow(ro-write-sql, ro-write-call): two rules */\n\
                    // ro-audit: allow(ro-write-sql)\n\
                    // ro-audit: allow(migrate) reads must not lag\n\
                    // ro-audit: allow(migrate, ro-write-sql) -- both\n\
                    // ro-audit: alow(ro-write-sql) typo\n\
                    // ro-audit: allow(ro-write-sql typo\n\
                    // see ro-audit: allow(ro-write-sql) not at the start\n\
                    let s = \"// ro-audit: allow(ro-write-sql) in a string\";\n";
        let found: Vec<(u32, DirectiveKind)> =
            scan(text).into_iter().map(|d| (d.range.start.line, d.kind)).collect();
        let allow = |rules: &[&str], reason: &str| DirectiveKind::Allow {
            rules: rules.iter().map(|r| r.to_string()).collect(),
            reason: reason.to_string(),
        };
        assert_eq!(found.len(), 6, "{found:#?}");
        assert_eq!(found[0], (1, allow(&["ro-write-sql"], "the primary")));
        assert_eq!(found[1], (2, allow(&["ro-write-sql", "ro-write-call"], "two rules")));
        assert_eq!(found[2], (3, allow(&["ro-write-sql"], "")));
        assert_eq!(found[3], (5, allow(&["ro-write-sql"], "both")));
        assert!(matches!(found[4], (6, DirectiveKind::Malformed(_))));
        assert!(matches!(found[5], (7, DirectiveKind::Malformed(_))));
    }

    #[test]
    fn directive_positions_are_one_based_character_columns() {
        let text = "let é = 1; // ro-audit: allow(ro-write-sql) why\n";
        let d = &scan(text)[0];
        assert_eq!((d.range.start.line, d.range.start.column), (1, 12));
        assert_eq!((d.range.end.line, d.range.end.column), (1, 48));
        assert_eq!(&text[d.range.bytes()], "// ro-audit: allow(ro-write-sql) why");
    }

    #[test]
    fn arbitrary_text_never_panics_and_gives_comment_ranges() {
        // Deterministic pseudo-random texts over the characters the lexer cares about.
        let alphabet: Vec<char> = "/*'\"r#bc\\\n\r xé😀!ro-audit:allow()".chars().collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let len = (seed % 40) as usize;
            let text: String = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            for (start, end) in comments(&text) {
                assert!(start < end && end <= text.len(), "{text:?}: {start}..{end}");
                assert!(text.is_char_boundary(start) && text.is_char_boundary(end), "{text:?}");
                assert!(text[start..].starts_with("/*") || text[start..].starts_with("//"), "{text:?}");
            }
            let _ = scan(&format!("// ro-audit: {text}\n{text}"));
        }
    }

    #[test]
    fn files_without_the_marker_are_not_lexed() {
        assert!(scan("// ro-audit allow(ro-write-sql) no colon").is_empty());
    }
}
