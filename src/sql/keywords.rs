//! The keyword judge: classifies one statement from its tokens, for text that `sqlparser`
//! rejects (`REFRESH MATERIALIZED VIEW`, `FOR NO KEY UPDATE`, `DO`, `TABLE t`, `{}` holes…),
//! and names the writes that the syntax-tree judge finds.
//!
//! A statement is placed by its leading keywords; a query is scanned token by token for
//! locking clauses, data-modifying words, `INTO` and calls of writing functions. Comments and
//! literals never reach it (the lexer drops or wraps them), so a write word inside a string
//! is not seen. It must never place a write as a read: what it cannot place is an
//! `Unrecognised` write, and a stray write word in a query makes the query a write.

use super::lexer::{Kind, Token};
use super::policy::{self, Arg};
use super::{Session, Verdict, Write, WriteReason};

/// Nesting (EXPLAIN of PREPARE of …) beyond which a statement is not placed.
const MAX_DEPTH: usize = 16;

/// Statements that write whatever follows their first keyword, and why.
const WRITE_HEADS: &[(&str, WriteReason)] = &[
    ("insert", WriteReason::ReadOnlyTransaction),
    ("update", WriteReason::ReadOnlyTransaction),
    ("delete", WriteReason::ReadOnlyTransaction),
    ("merge", WriteReason::ReadOnlyTransaction),
    ("truncate", WriteReason::ReadOnlyTransaction),
    ("copy", WriteReason::ReadOnlyTransaction),
    ("create", WriteReason::ReadOnlyTransaction),
    ("alter", WriteReason::ReadOnlyTransaction),
    ("drop", WriteReason::ReadOnlyTransaction),
    ("grant", WriteReason::ReadOnlyTransaction),
    ("revoke", WriteReason::ReadOnlyTransaction),
    ("comment", WriteReason::ReadOnlyTransaction),
    ("refresh", WriteReason::ReadOnlyTransaction),
    ("security", WriteReason::ReadOnlyTransaction),
    ("reassign", WriteReason::ReadOnlyTransaction),
    ("import", WriteReason::ReadOnlyTransaction),
    ("vacuum", WriteReason::HotStandby),
    ("analyze", WriteReason::HotStandby),
    ("analyse", WriteReason::HotStandby),
    ("cluster", WriteReason::HotStandby),
    ("reindex", WriteReason::HotStandby),
    ("listen", WriteReason::HotStandby),
    ("notify", WriteReason::HotStandby),
    ("call", WriteReason::Opaque),
    ("do", WriteReason::Opaque),
];

/// Statements that only read, whatever follows their first keyword.
#[rustfmt::skip]
const READ_HEADS: &[&str] = &[
    "savepoint", "release", "show", "discard", "fetch", "move", "close", "deallocate",
    "unlisten",
];

/// Words that may follow CREATE/ALTER/DROP/… in the short name of a statement.
#[rustfmt::skip]
const OBJECT_WORDS: &[&str] = &[
    "or", "replace", "temp", "temporary", "unlogged", "global", "local", "unique",
    "materialized", "recursive", "trusted", "procedural", "table", "index", "view",
    "sequence", "schema", "function", "procedure", "trigger", "type", "domain", "extension",
    "role", "user", "group", "database", "policy", "rule", "aggregate", "operator", "class",
    "family", "collation", "conversion", "language", "publication", "subscription", "server",
    "statistics", "tablespace", "event", "foreign", "data", "wrapper", "text", "search",
    "configuration", "dictionary", "parser", "template", "cast", "transform", "access",
    "method", "owned", "label", "large", "object", "default", "privileges", "system",
    "mapping", "routine",
];

/// Words that start a data-modifying statement inside a query.
const DATA_MODIFYING: &[&str] = &["insert", "update", "delete", "merge"];

/// Classifies one statement (non-empty tokens, no `;`) by its keywords.
pub(super) fn classify(tokens: &[Token<'_>], session: &mut Session, depth: usize) -> Verdict {
    let Some(head) = tokens.first() else {
        return Verdict::Read;
    };
    if depth > MAX_DEPTH {
        return unrecognised(tokens);
    }
    if head.is_punct('(') {
        return query(tokens);
    }
    let word = if head.kind == Kind::Word { head.text.to_ascii_lowercase() } else { String::new() };
    match word.as_str() {
        "select" | "with" | "values" | "table" => query(tokens),
        "explain" => explain(tokens, session, depth),
        "copy" => copy(tokens, session, depth),
        "set" => set(tokens),
        "reset" => reset(tokens),
        "begin" | "start" => begin(tokens),
        "commit" | "end" | "abort" | "rollback" => finish(tokens),
        "lock" => lock(tokens),
        "prepare" => prepare(tokens, session, depth),
        "execute" => execute(tokens, session),
        "declare" => declare(tokens, session, depth),
        w if READ_HEADS.contains(&w) => Verdict::Read,
        _ => Verdict::Write(named_write(tokens)),
    }
}

/// Names the write of a statement known (or assumed) to write, from its leading keywords:
/// "INSERT … ON CONFLICT", "CREATE TEMP TABLE", "VACUUM", "DO block"… A statement whose
/// first keyword is not a writing one is `Unrecognised`.
pub(super) fn named_write(tokens: &[Token<'_>]) -> Write {
    let Some(head) = tokens.first().filter(|t| t.kind == Kind::Word) else {
        return unrecognised_write(tokens);
    };
    let word = head.text.to_ascii_lowercase();
    let Some(&(_, why)) = WRITE_HEADS.iter().find(|(w, _)| *w == word) else {
        return unrecognised_write(tokens);
    };
    if word == "alter" && tokens.get(1).is_some_and(|t| t.is_word("system")) {
        return Write { what: "ALTER SYSTEM".to_string(), why: WriteReason::BypassesGuard };
    }
    let what = match word.as_str() {
        "do" => "DO block".to_string(),
        "copy" => "COPY … FROM".to_string(),
        "comment" => "COMMENT ON".to_string(),
        "insert" if has_sequence(tokens, &["on", "conflict"]) => "INSERT … ON CONFLICT".to_string(),
        "insert" | "update" | "delete" | "merge" | "call" | "listen" | "notify" => word.to_ascii_uppercase(),
        _ => head_words(tokens),
    };
    Write { what, why }
}

fn unrecognised(tokens: &[Token<'_>]) -> Verdict {
    Verdict::Write(unrecognised_write(tokens))
}

fn unrecognised_write(tokens: &[Token<'_>]) -> Write {
    let what = match tokens.first() {
        Some(t) if policy::STATEMENT_KEYWORDS.iter().any(|k| t.is_word(k)) => t.text.to_ascii_uppercase(),
        _ => "unrecognised SQL".to_string(),
    };
    Write { what, why: WriteReason::Unrecognised }
}

/// The first keyword and the object words after it, upper case: "CREATE TEMP TABLE".
fn head_words(tokens: &[Token<'_>]) -> String {
    let objects = tokens[1..].iter().take(3).take_while(|t| OBJECT_WORDS.iter().any(|w| t.is_word(w)));
    std::iter::once(&tokens[0])
        .chain(objects)
        .map(|t| t.text.to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(" ")
}

/// True when the words `seq` occur in a row somewhere in `tokens`.
fn has_sequence(tokens: &[Token<'_>], seq: &[&str]) -> bool {
    tokens.windows(seq.len()).any(|w| w.iter().zip(seq).all(|(t, k)| t.is_word(k)))
}

fn starts_with_words(tokens: &[Token<'_>], words: &[&str]) -> bool {
    tokens.len() >= words.len() && tokens.iter().zip(words).all(|(t, w)| t.is_word(w))
}

/// A SELECT / WITH / VALUES / TABLE statement, or a parenthesised one.
fn query(tokens: &[Token<'_>]) -> Verdict {
    let open = tokens.iter().take_while(|t| t.is_punct('(')).count();
    let head = match tokens.get(open) {
        Some(h) if policy::QUERY_KEYWORDS.iter().any(|k| h.is_word(k)) => h,
        _ => return unrecognised(tokens),
    };
    match query_write(tokens, &head.text.to_ascii_uppercase()) {
        Some(write) => Verdict::Write(write),
        None => Verdict::Read,
    }
}

/// The first thing in a query that writes: a locking clause, a data-modifying statement,
/// `INTO`, or a call of a writing function.
fn query_write(tokens: &[Token<'_>], head: &str) -> Option<Write> {
    let rot = |what: String| Some(Write { what, why: WriteReason::ReadOnlyTransaction });
    let closes = paren_matches(tokens);
    for (i, token) in tokens.iter().enumerate() {
        if token.is_word("for") {
            if let Some(lock) = locking_clause(&tokens[i + 1..]) {
                return rot(format!("SELECT … FOR {lock}"));
            }
        }
        if let Some(dml) = DATA_MODIFYING.iter().find(|k| token.is_word(k)) {
            return rot(format!("{head} … {}", dml.to_ascii_uppercase()));
        }
        if token.is_word("into") {
            return rot("SELECT … INTO".to_string());
        }
        if let Some(write) = call_at(tokens, i, &closes) {
            return Some(write);
        }
    }
    None
}

/// The lock strength after `FOR`, if it is a locking clause.
fn locking_clause(after_for: &[Token<'_>]) -> Option<&'static str> {
    const LOCKS: &[(&[&str], &str)] = &[
        (&["update"], "UPDATE"),
        (&["no", "key", "update"], "NO KEY UPDATE"),
        (&["share"], "SHARE"),
        (&["key", "share"], "KEY SHARE"),
    ];
    LOCKS.iter().find(|(words, _)| starts_with_words(after_for, words)).map(|&(_, name)| name)
}

/// For each `(`, the index of its `)` (or the end, when it never closes).
fn paren_matches(tokens: &[Token<'_>]) -> Vec<usize> {
    let mut closes = vec![tokens.len(); tokens.len()];
    let mut open = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if t.is_punct('(') {
            open.push(i);
        } else if t.is_punct(')') {
            if let Some(o) = open.pop() {
                closes[o] = i;
            }
        }
    }
    closes
}

/// The write made by a function call at `tokens[i]` (`name (`), if any.
fn call_at(tokens: &[Token<'_>], i: usize, closes: &[usize]) -> Option<Write> {
    let name = tokens[i].ident()?;
    if !tokens.get(i + 1)?.is_punct('(') || !policy::is_checked_function(&name) {
        return None;
    }
    policy::function_call(&name, &call_args(tokens, i + 1, closes))
}

/// The first arguments of the call whose `(` is at `open`; nested parentheses are jumped
/// over, so scanning every call of a statement stays linear.
fn call_args(tokens: &[Token<'_>], open: usize, closes: &[usize]) -> Vec<Arg> {
    const ARGS: usize = 3;
    const LITERAL_TOKENS: usize = 8;
    let mut args = Vec::new();
    let mut current: Vec<Token<'_>> = Vec::new();
    let mut nested = false;
    let mut j = open + 1;
    while j < closes[open] && args.len() < ARGS {
        let t = &tokens[j];
        if t.is_punct(',') {
            args.push(argument(&current, nested));
            (current, nested) = (Vec::new(), false);
        } else if t.is_punct('(') {
            nested = true;
            j = closes[j];
        } else if current.len() < LITERAL_TOKENS {
            current.push(t.clone());
        } else {
            nested = true;
        }
        j += 1;
    }
    if args.len() < ARGS && (!current.is_empty() || !args.is_empty()) {
        args.push(argument(&current, nested));
    }
    args
}

/// One call argument: `value`, `name => value` or `name := value` (`opaque` when it holds
/// more than a literal can).
fn argument(tokens: &[Token<'_>], opaque: bool) -> Arg {
    let named = tokens.len() > 3
        && tokens[0].ident().is_some()
        && ((tokens[1].is_punct('=') && tokens[2].is_punct('>'))
            || (tokens[1].is_punct(':') && tokens[2].is_punct('=')));
    let (name, value) = if named { (tokens[0].ident(), &tokens[3..]) } else { (None, tokens) };
    Arg { name, literal: if opaque { None } else { literal(value) } }
}

/// The value of a literal (optionally cast: `'off'::text`), or `None`.
fn literal(tokens: &[Token<'_>]) -> Option<String> {
    let first = tokens.first()?;
    let cast_only =
        tokens.len() == 1 || (tokens.len() >= 3 && tokens[1].is_punct(':') && tokens[2].is_punct(':'));
    if !cast_only {
        return None;
    }
    if first.is_word("true") || first.is_word("false") {
        return Some(first.text.to_ascii_lowercase());
    }
    first.literal()
}

/// The index of the `)` that closes the `(` at `open`.
fn matching_paren(tokens: &[Token<'_>], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        if t.is_punct('(') {
            depth += 1;
        } else if t.is_punct(')') {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// Splits at `sep` outside parentheses.
fn split_top_level<'t, 'a>(tokens: &'t [Token<'a>], sep: char) -> Vec<&'t [Token<'a>]> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, t) in tokens.iter().enumerate() {
        if t.is_punct('(') {
            depth += 1;
        } else if t.is_punct(')') {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && t.is_punct(sep) {
            parts.push(&tokens[start..i]);
            start = i + 1;
        }
    }
    parts.push(&tokens[start..]);
    parts
}

/// EXPLAIN: a read, unless ANALYZE runs a statement that writes.
fn explain(tokens: &[Token<'_>], session: &mut Session, depth: usize) -> Verdict {
    let Some((analyze, inner)) = explain_parts(&tokens[1..]) else {
        return unrecognised(tokens);
    };
    let explainable = [
        "select", "with", "values", "table", "insert", "update", "delete", "merge", "execute", "declare",
        "create",
    ];
    match inner.first() {
        Some(t) if t.is_punct('(') || explainable.iter().any(|k| t.is_word(k)) => {}
        _ => return unrecognised(tokens),
    }
    if !analyze {
        return Verdict::Read;
    }
    match classify(inner, session, depth + 1) {
        Verdict::Write(w) => policy::write(format!("EXPLAIN ANALYZE {}", w.what), w.why),
        Verdict::Read => Verdict::Read,
    }
}

/// Whether EXPLAIN analyzes, and the explained statement.
fn explain_parts<'t, 'a>(rest: &'t [Token<'a>]) -> Option<(bool, &'t [Token<'a>])> {
    if rest.first()?.is_punct('(') {
        let close = matching_paren(rest, 0)?;
        let analyze = split_top_level(&rest[1..close], ',').into_iter().any(|option| match option {
            [name, value @ ..] if name.is_word("analyze") || name.is_word("analyse") => !value
                .first()
                .is_some_and(|v| v.literal().or_else(|| v.ident()).is_some_and(|v| policy::means_off(&v))),
            _ => false,
        });
        return Some((analyze, &rest[close + 1..]));
    }
    let analyze = rest[0].is_word("analyze") || rest[0].is_word("analyse");
    let mut at = usize::from(analyze);
    if rest.get(at).is_some_and(|t| t.is_word("verbose")) {
        at += 1;
    }
    Some((analyze, &rest[at..]))
}

/// COPY: `… FROM` writes; `… TO` reads, unless its query writes.
fn copy(tokens: &[Token<'_>], session: &mut Session, depth: usize) -> Verdict {
    let rest = &tokens[1..];
    let copy_from = || policy::write("COPY … FROM", WriteReason::ReadOnlyTransaction);
    if rest.first().is_some_and(|t| t.is_punct('(')) {
        let Some(close) = matching_paren(rest, 0) else {
            return unrecognised(tokens);
        };
        return match rest.get(close + 1) {
            Some(t) if t.is_word("to") && copies_to_server(&rest[close + 2..]) => copy_to_server(),
            Some(t) if t.is_word("to") => classify(&rest[1..close], session, depth + 1),
            Some(t) if t.is_word("from") => copy_from(),
            _ => unrecognised(tokens),
        };
    }
    let mut nesting = 0usize;
    let direction = rest.iter().position(|t| {
        if t.is_punct('(') {
            nesting += 1;
        } else if t.is_punct(')') {
            nesting = nesting.saturating_sub(1);
        }
        nesting == 0 && (t.is_word("from") || t.is_word("to"))
    });
    match direction.map(|i| (&rest[i], &rest[i + 1..])) {
        Some((t, after)) if t.is_word("to") && copies_to_server(after) => copy_to_server(),
        Some((t, _)) if t.is_word("to") => Verdict::Read,
        Some(_) => copy_from(),
        None => unrecognised(tokens),
    }
}

/// `COPY … TO 'file'` or `TO PROGRAM …` (what follows `TO`): the server writes a file or runs
/// a program. `TO STDOUT` is the read.
fn copies_to_server(after_to: &[Token<'_>]) -> bool {
    after_to.first().is_some_and(|t| !t.is_word("stdout"))
}

fn copy_to_server() -> Verdict {
    policy::write("COPY … TO a server file or program", WriteReason::BypassesGuard)
}

/// SET: a read, unless it switches the guard off.
fn set(tokens: &[Token<'_>]) -> Verdict {
    let rest = &tokens[1..];
    if starts_with_words(rest, &["transaction"]) || starts_with_words(rest, &["session", "characteristics"]) {
        return transaction_modes(tokens);
    }
    let scope = usize::from(rest.first().is_some_and(|t| t.is_word("session") || t.is_word("local")));
    let Some(name) = rest.get(scope).and_then(Token::ident) else {
        return unrecognised(tokens);
    };
    let qualified = rest.get(scope + 1).is_some_and(|t| t.is_punct('.'));
    if qualified || !policy::is_guard_setting(&name) {
        return Verdict::Read;
    }
    let value = match &rest[scope + 1..] {
        [to, value] if to.is_word("to") || to.is_punct('=') => setting_value(value),
        _ => None,
    };
    policy::guard_set(&name, value.as_deref())
}

/// The value of `SET name = value` when it is a single word, string or number.
fn setting_value(token: &Token<'_>) -> Option<String> {
    match token.kind {
        Kind::Word => Some(token.text.to_ascii_lowercase()),
        _ => token.literal(),
    }
}

/// BEGIN / START TRANSACTION / SET [SESSION CHARACTERISTICS AS] TRANSACTION: a read unless
/// READ WRITE.
fn transaction_modes(tokens: &[Token<'_>]) -> Verdict {
    if !has_sequence(tokens, &["read", "write"]) {
        return Verdict::Read;
    }
    let prefix: Vec<String> = tokens
        .iter()
        .take_while(|t| !["read", "isolation", "deferrable", "not"].iter().any(|w| t.is_word(w)))
        .filter(|t| t.kind == Kind::Word)
        .map(|t| t.text.to_ascii_uppercase())
        .collect();
    policy::write(format!("{} READ WRITE", prefix.join(" ")), WriteReason::GuardOff)
}

/// RESET: a read, unless it resets the guard.
fn reset(tokens: &[Token<'_>]) -> Verdict {
    match tokens.get(1).and_then(Token::ident) {
        Some(name) if policy::is_guard_setting(&name) => {
            policy::write(format!("RESET {}", name.to_ascii_lowercase()), WriteReason::GuardOff)
        }
        Some(_) => Verdict::Read,
        None => unrecognised(tokens),
    }
}

/// BEGIN / START TRANSACTION.
fn begin(tokens: &[Token<'_>]) -> Verdict {
    if tokens[0].is_word("start") && !tokens.get(1).is_some_and(|t| t.is_word("transaction")) {
        return unrecognised(tokens);
    }
    transaction_modes(tokens)
}

/// COMMIT / END / ABORT / ROLLBACK: reads, except COMMIT/ROLLBACK PREPARED.
fn finish(tokens: &[Token<'_>]) -> Verdict {
    if tokens.get(1).is_some_and(|t| t.is_word("prepared")) {
        let what = format!("{} PREPARED", tokens[0].text.to_ascii_uppercase());
        return policy::write(what, WriteReason::HotStandby);
    }
    Verdict::Read
}

/// LOCK [TABLE] names [IN mode MODE] [NOWAIT].
fn lock(tokens: &[Token<'_>]) -> Verdict {
    let Some(at) = tokens.iter().position(|t| t.is_word("in")) else {
        return policy::lock_table("access exclusive").unwrap_or_else(|| unrecognised(tokens));
    };
    let mode: Vec<String> = tokens[at + 1..]
        .iter()
        .take_while(|t| !t.is_word("mode"))
        .map(|t| t.text.to_ascii_lowercase())
        .collect();
    let ends_with_mode = tokens.get(at + 1 + mode.len()).is_some_and(|t| t.is_word("mode"));
    match policy::lock_table(&mode.join(" ")) {
        Some(verdict) if ends_with_mode => verdict,
        _ => unrecognised(tokens),
    }
}

/// PREPARE TRANSACTION, or PREPARE name [(types)] AS statement.
fn prepare(tokens: &[Token<'_>], session: &mut Session, depth: usize) -> Verdict {
    if tokens.get(1).is_some_and(|t| t.is_word("transaction")) {
        return policy::write("PREPARE TRANSACTION", WriteReason::HotStandby);
    }
    let Some(name) = tokens.get(1).and_then(Token::ident) else {
        return unrecognised(tokens);
    };
    let mut at = 2;
    if tokens.get(at).is_some_and(|t| t.is_punct('(')) {
        match matching_paren(tokens, at) {
            Some(close) => at = close + 1,
            None => return unrecognised(tokens),
        }
    }
    if !tokens.get(at).is_some_and(|t| t.is_word("as")) || tokens.len() == at + 1 {
        return unrecognised(tokens);
    }
    let statement = classify(&tokens[at + 1..], session, depth + 1);
    session.prepare(name, statement)
}

/// EXECUTE name [(arguments)]: what the prepared statement does.
fn execute(tokens: &[Token<'_>], session: &Session) -> Verdict {
    let Some(name) = tokens.get(1).and_then(Token::ident) else {
        return unrecognised(tokens);
    };
    let closes = paren_matches(tokens);
    if let Some(write) = (2..tokens.len()).find_map(|i| call_at(tokens, i, &closes)) {
        return Verdict::Write(write);
    }
    session.execute(&name)
}

/// DECLARE name … CURSOR … FOR query.
fn declare(tokens: &[Token<'_>], session: &mut Session, depth: usize) -> Verdict {
    let Some(cursor) = tokens.iter().position(|t| t.is_word("cursor")) else {
        return unrecognised(tokens);
    };
    let Some(at) = tokens[cursor..].iter().position(|t| t.is_word("for")) else {
        return unrecognised(tokens);
    };
    let inner = &tokens[cursor + at + 1..];
    match inner.first() {
        Some(t) if t.is_punct('(') || policy::QUERY_KEYWORDS.iter().any(|k| t.is_word(k)) => {
            classify(inner, session, depth + 1)
        }
        _ => unrecognised(tokens),
    }
}
