//! A small PostgreSQL lexer: turns SQL text into word, literal and punctuation tokens and
//! splits them into statements at `;`.
//!
//! It follows PostgreSQL's own rules for what is *not* code — `--` and nested `/* */`
//! comments, single-quoted strings (`''` escapes; backslash escapes only in `E'…'`),
//! double-quoted identifiers and dollar-quoted strings (`$$…$$`, `$tag$…$tag$`) — so that a
//! write word inside any of them is never mistaken for code, and code is never hidden inside
//! something it wrongly took for a literal. It must never guess: text whose quote or comment
//! does not end is an error (`lex`); only `looks_like_sql` looks at the tokens before it
//! (`lex_prefix`).

use std::ops::Range;

/// What a token is; comments and whitespace produce no token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A keyword or unquoted identifier (`select`, `__ro_hole`, `t_a_idx`).
    Word,
    /// A double-quoted identifier (`"update"`).
    QuotedIdent,
    /// A string literal of any quoting (`'x'`, `E'x'`, `$$x$$`).
    String,
    /// A numeric literal.
    Number,
    /// A positional parameter (`$1`).
    Param,
    /// `;`, the statement separator.
    Semicolon,
    /// Any other single character (`(`, `,`, `=`, `*`, `{`…).
    Punct,
}

/// One token: its kind and where it is in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token<'a> {
    pub kind: Kind,
    /// The token exactly as written (quotes included).
    pub text: &'a str,
    pub span: Range<usize>,
}

/// The text has a quote, dollar quote or block comment that never ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Unterminated;

impl Token<'_> {
    /// True for the unquoted word `keyword`, in any letter case.
    pub fn is_word(&self, keyword: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(keyword)
    }

    /// True for the single punctuation character `c`.
    pub fn is_punct(&self, c: char) -> bool {
        self.kind == Kind::Punct && self.text.starts_with(c) && self.text.len() == c.len_utf8()
    }

    /// The lower-cased text of an unquoted word, or the content of a quoted identifier.
    pub fn ident(&self) -> Option<String> {
        match self.kind {
            Kind::Word => Some(self.text.to_ascii_lowercase()),
            Kind::QuotedIdent => Some(unquote(self.text, '"')),
            _ => None,
        }
    }

    /// The value of a string literal (escapes resolved well enough to compare setting names
    /// and values), or the text of a number.
    pub fn literal(&self) -> Option<String> {
        match self.kind {
            Kind::Number => Some(self.text.to_string()),
            Kind::String => Some(string_value(self.text)),
            _ => None,
        }
    }
}

/// Lexes `sql` into tokens (comments and whitespace dropped).
pub(super) fn lex(sql: &str) -> Result<Vec<Token<'_>>, Unterminated> {
    match lex_prefix(sql) {
        (tokens, None) => Ok(tokens),
        (_, Some(unterminated)) => Err(unterminated),
    }
}

/// Lexes `sql` as far as it can: the tokens before a quote or comment that never ends, and
/// whether there was one.
pub(super) fn lex_prefix(sql: &str) -> (Vec<Token<'_>>, Option<Unterminated>) {
    let mut tokens = Vec::new();
    let mut at = 0;
    while let Some(c) = sql[at..].chars().next() {
        let rest = &sql[at..];
        let step = match ignored_len(rest, c) {
            Ok(0) => token_at(rest, c).map(|(kind, len)| {
                tokens.push(Token { kind, text: &rest[..len], span: at..at + len });
                len
            }),
            other => other,
        };
        match step {
            Ok(len) => at += len,
            Err(unterminated) => return (tokens, Some(unterminated)),
        }
    }
    (tokens, None)
}

/// Splits tokens into statements at `;`, dropping empty statements.
pub(super) fn statements<'t, 'a>(tokens: &'t [Token<'a>]) -> impl Iterator<Item = &'t [Token<'a>]> {
    tokens.split(|t| t.kind == Kind::Semicolon).filter(|s| !s.is_empty())
}

/// The byte length of the whitespace or comment starting `rest` (whose first char is `c`);
/// 0 when a token starts there.
fn ignored_len(rest: &str, c: char) -> Result<usize, Unterminated> {
    if c.is_whitespace() {
        Ok(c.len_utf8())
    } else if rest.starts_with("--") {
        Ok(rest.find('\n').unwrap_or(rest.len()))
    } else if rest.starts_with("/*") {
        block_comment_len(rest)
    } else {
        Ok(0)
    }
}

/// The kind and byte length of the token starting `rest` (whose first char is `c`).
fn token_at(rest: &str, c: char) -> Result<(Kind, usize), Unterminated> {
    let next = rest[c.len_utf8()..].chars().next();
    Ok(match c {
        '\'' => (Kind::String, quoted_len(rest, '\'', false)?),
        '"' => (Kind::QuotedIdent, quoted_len(rest, '"', false)?),
        'e' | 'E' if next == Some('\'') => (Kind::String, 1 + quoted_len(&rest[1..], '\'', true)?),
        '$' => dollar_token(rest)?,
        ';' => (Kind::Semicolon, 1),
        c if is_ident_start(c) => (Kind::Word, ident_len(rest)),
        c if c.is_ascii_digit() || (c == '.' && next.is_some_and(|n| n.is_ascii_digit())) => {
            (Kind::Number, number_len(rest))
        }
        c => (Kind::Punct, c.len_utf8()),
    })
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || !c.is_ascii()
}

fn is_ident_char(c: char) -> bool {
    is_ident_start(c) || c.is_ascii_digit() || c == '$'
}

fn ident_len(rest: &str) -> usize {
    rest.find(|c: char| !is_ident_char(c)).unwrap_or(rest.len())
}

fn number_len(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    let mut len = 0;
    while len < bytes.len() {
        let b = bytes[len];
        let signed_exponent = (b == b'+' || b == b'-') && len > 0 && matches!(bytes[len - 1], b'e' | b'E');
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || signed_exponent {
            len += 1;
        } else {
            break;
        }
    }
    len
}

/// Length of a `/* … */` comment, nested comments included.
fn block_comment_len(rest: &str) -> Result<usize, Unterminated> {
    let bytes = rest.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Ok(i);
                }
            }
            _ => i += 1,
        }
    }
    Err(Unterminated)
}

/// Length of a literal opened by `quote` (doubled quotes are escapes; with `backslash`,
/// a backslash escapes the next character too).
fn quoted_len(rest: &str, quote: char, backslash: bool) -> Result<usize, Unterminated> {
    let q = quote as u8;
    let bytes = rest.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        let b = bytes[i];
        let escape = (backslash && b == b'\\') || (b == q && bytes.get(i + 1) == Some(&q));
        if escape {
            i += 2;
        } else if b == q {
            return Ok(i + 1);
        } else {
            i += 1;
        }
    }
    Err(Unterminated)
}

/// A `$1` parameter, a dollar-quoted string, or a lone `$`.
fn dollar_token(rest: &str) -> Result<(Kind, usize), Unterminated> {
    let after = &rest[1..];
    if after.starts_with(|c: char| c.is_ascii_digit()) {
        let digits = after.find(|c: char| !c.is_ascii_digit()).unwrap_or(after.len());
        return Ok((Kind::Param, 1 + digits));
    }
    let tag_len = if after.starts_with(|c: char| is_ident_start(c)) {
        after.find(|c: char| !is_ident_start(c) && !c.is_ascii_digit()).unwrap_or(after.len())
    } else {
        0
    };
    if !after[tag_len..].starts_with('$') {
        return Ok((Kind::Punct, 1));
    }
    let delimiter = &rest[..tag_len + 2];
    let body = &rest[delimiter.len()..];
    match body.find(delimiter) {
        Some(end) => Ok((Kind::String, delimiter.len() + end + delimiter.len())),
        None => Err(Unterminated),
    }
}

/// The content of a quoted token with its doubled quotes undone.
fn unquote(text: &str, quote: char) -> String {
    let inner = &text[1..text.len() - 1];
    let doubled: String = [quote, quote].iter().collect();
    inner.replace(&doubled, &quote.to_string())
}

fn string_value(text: &str) -> String {
    if let Some(after) = text.strip_prefix('$') {
        let open = after.find('$').map_or(1, |i| i + 2);
        return text[open..text.len() - open].to_string();
    }
    if text.starts_with(['e', 'E']) {
        return unquote(&text[1..], '\'').replace("\\'", "'");
    }
    unquote(text, '\'')
}
