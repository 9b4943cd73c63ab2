//! Statements whose tokens alone settle the verdict, judged without `sqlparser`: a plain
//! `SELECT` in which no word can make a query write reads, and a plain `INSERT`, `UPDATE` or
//! `DELETE` writes. Most SQL a service runs has one of these shapes, and parsing it costs far
//! more than lexing it.
//!
//! The answer must be exactly the one the full path gives — the syntax-tree judge when
//! `sqlparser` accepts the statement, the keyword judge when it does not — verdict, reason and
//! words alike; `None` leaves the statement to them. So it answers only for text on which the
//! lexer and `sqlparser` cannot disagree about what is code (printable ASCII; no comments,
//! backslashes or dollar quotes; no number or word that `sqlparser` could split) and in which
//! no word the judges look for occurs at all: it never reads a query, it only rules out what
//! could make one write.

use super::lexer::{Kind, Token};
use super::policy;
use super::{Verdict, Write, WriteReason};

/// Words that can make a query write: a locking clause, `SELECT … INTO`, a data-modifying
/// statement. With the writing functions ([`policy::is_checked_function`]) a plain `SELECT`
/// names none of them.
const QUERY_WRITE_WORDS: &[&str] = &["for", "into", "insert", "update", "delete", "merge"];

/// The word that makes an `INSERT` "INSERT … ON CONFLICT"; a plain write names it nowhere.
const CONFLICT: &[&str] = &["conflict"];

/// Punctuation that only separates or combines the words around it.
const PLAIN_PUNCTUATION: &[u8] = b"(),.=<>*+-/%:[]|";

/// The data-modifying statements answered here; both judges name each by its keyword.
const PLAIN_WRITES: &[&str] = &["INSERT", "UPDATE", "DELETE"];

/// The verdict of one statement (its tokens, non-empty, no `;`) when its tokens settle it.
pub(super) fn verdict(sql: &str, tokens: &[Token<'_>]) -> Option<Verdict> {
    let (first, last) = (tokens.first()?, tokens.last()?);
    if !plain_text(&sql[first.span.start..last.span.end]) || !tokens.iter().all(plain_token) {
        return None;
    }
    if first.is_word("select") {
        let reads = !tokens.iter().any(|t| names(t, QUERY_WRITE_WORDS) || names_writing_function(t));
        return reads.then_some(Verdict::Read);
    }
    let what = PLAIN_WRITES.iter().find(|w| first.is_word(w))?;
    let plain = !tokens.iter().any(|t| names(t, CONFLICT));
    plain.then(|| Verdict::Write(Write { what: (*what).to_string(), why: WriteReason::ReadOnlyTransaction }))
}

/// Printable ASCII and ordinary whitespace, with no comment, escape or dollar quote.
fn plain_text(text: &str) -> bool {
    let characters_plain = text.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x21..=0x7e));
    characters_plain && !text.contains("--") && !text.contains("/*") && !text.contains('\\')
}

/// A token that reads the same to the lexer and to `sqlparser`.
fn plain_token(token: &Token<'_>) -> bool {
    match token.kind {
        Kind::Word => !token.text.contains('$'),
        Kind::QuotedIdent | Kind::Param => true,
        Kind::Number => token.text.bytes().all(|b| b.is_ascii_digit() || b == b'.'),
        Kind::String => token.text.starts_with('\''),
        Kind::Punct => token.text.bytes().all(|b| PLAIN_PUNCTUATION.contains(&b)),
        Kind::Semicolon => false,
    }
}

/// The name a word or quoted identifier spells (a quoted name with a doubled quote in it
/// spells no word this module looks for).
fn name<'a>(token: &Token<'a>) -> Option<&'a str> {
    match token.kind {
        Kind::Word => Some(token.text),
        Kind::QuotedIdent => Some(&token.text[1..token.text.len() - 1]),
        _ => None,
    }
}

/// True when the token names one of `words`, in any letter case and quoted or not.
fn names(token: &Token<'_>, words: &[&str]) -> bool {
    name(token).is_some_and(|n| words.iter().any(|w| w.eq_ignore_ascii_case(n)))
}

/// True when the token names a function that may write, in any letter case and quoted or not.
fn names_writing_function(token: &Token<'_>) -> bool {
    name(token).is_some_and(policy::is_checked_function)
}
