//! The SQL functions a tree defines in its own SQL files (migrations: diesel's `up.sql`,
//! sqlx's and refinery's `V3__append.sql`) or in string literals of its Rust files (refinery's
//! `V3__append.rs`, sea-orm's `execute_unprepared("CREATE FUNCTION …")`: each literal that
//! names a routine is lexed as SQL of its own, at its own line; doc comments are no literals),
//! and which of them write: a `SELECT` of such a
//! function is a write when its body is seen to write, where a `SELECT` of any other function
//! stays the documented read.
//!
//! A definition is a `CREATE [OR REPLACE] FUNCTION|PROCEDURE name(…)` of language `sql` or
//! `plpgsql` (or a SQL-standard body); its body is read as tokens by [`super::lexer`]. It
//! writes when it
//! * names a data-changing statement or a row lock (`INSERT`, `UPDATE`, `DELETE`, `MERGE`,
//!   `TRUNCATE`, `FOR SHARE`),
//! * starts a statement that changes the schema or the server (`CREATE`, `DROP`, `ALTER`,
//!   `GRANT`, `LOCK`, `NOTIFY`, `COPY`, …),
//! * runs dynamic SQL (`EXECUTE format(…)`; `EXECUTE 'text'` is judged as that text),
//! * calls a writing built-in (`nextval`, `setval`, …) or another function of the tree that
//!   writes (to a fixed point),
//!
//! unless it is declared `IMMUTABLE` or `STABLE` (PostgreSQL refuses writes in those). Files
//! are read in path order (migrations' order) and statements in file order, undo migrations
//! (`down.sql`, `….down.sql`, `U3__….sql`) left out: `DROP FUNCTION` forgets a name; a name
//! defined several times (overloads, replacements) writes when any live definition does.
//! Functions of other languages (`c`, `plpython3u`) cannot be seen into and stay reads, as
//! every function outside the tree does.
//!
//! The rule set may declare more writing functions (`sql.writing_functions`: defined in the
//! database only, or in migrations outside the paths checked); a function of the tree that
//! calls one writes too.
//!
//! The files are read once, the first time a statement that otherwise only reads calls a
//! function (a tree whose SQL never calls one never reads them); only the files that say
//! `function` or `procedure` are lexed. A file that cannot be read,
//! is larger than the run's file limit or is not UTF-8 teaches nothing; a quote that never
//! ends stops its file there. Never classifies statements by itself beyond the bodies: the
//! caller asks [`SqlFunctions::write_called`] only for text [`super::classify`] found to read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use super::lexer::{self, Kind, Token};
use super::{policy, Verdict, Write, WriteReason};
use crate::source;

/// The SQL files of a tree, and what their functions do (learned on first use), with the
/// functions the rule set declares writing.
#[derive(Debug, Default)]
pub struct SqlFunctions {
    files: Vec<PathBuf>,
    max_file_bytes: u64,
    /// Declared by the rule set (`sql.writing_functions`), lower-cased.
    declared: Vec<String>,
    learned: OnceLock<Writing>,
    /// Answers of [`SqlFunctions::write_called`] by text (a tree runs the same statements in
    /// many places, and several phases judge each): at most [`ANSWERS`], then forgotten.
    answers: Mutex<HashMap<String, Option<Write>>>,
}

/// How many answers a run remembers before it forgets them all (bounds the memo's memory).
const ANSWERS: usize = 16_384;

/// Writing functions by lower-cased name.
type Writing = HashMap<String, Origin>;

/// Where a writing function is defined (file and line; none: declared by the rule set) and
/// what in it writes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    place: Option<(PathBuf, usize)>,
    what: String,
}

impl SqlFunctions {
    /// The functions defined in `files` (read in path order; a file over `max_file_bytes` is
    /// skipped).
    pub fn new(mut files: Vec<PathBuf>, max_file_bytes: u64) -> SqlFunctions {
        files.sort();
        files.dedup();
        SqlFunctions { files, max_file_bytes, ..SqlFunctions::default() }
    }

    /// The same, with the functions `names` declared writing whatever the files say (a
    /// function of the tree that calls one writes too).
    pub fn with_declared(mut self, names: &[String]) -> SqlFunctions {
        self.declared = names.iter().map(|n| n.to_lowercase()).collect();
        self
    }

    /// The write of the first call in `sql` of a function of the tree that writes, if any.
    /// `sql` is text [`super::classify`] found to read.
    pub fn write_called(&self, sql: &str) -> Option<Write> {
        if (self.files.is_empty() && self.declared.is_empty()) || !sql.contains('(') {
            return None;
        }
        let writing = self.learned.get_or_init(|| learn(&self.files, self.max_file_bytes, &self.declared));
        if writing.is_empty() {
            return None;
        }
        let answers = || self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(known) = answers().get(sql) {
            return known.clone();
        }
        let answer = first_write_called(writing, sql);
        let mut answers = answers();
        if answers.len() >= ANSWERS {
            answers.clear();
        }
        answers.insert(sql.to_string(), answer.clone());
        answer
    }
}

/// The write of the first call in `sql` of a function of `writing`.
fn first_write_called(writing: &Writing, sql: &str) -> Option<Write> {
    let (tokens, _) = lexer::lex_prefix(sql);
    let (name, origin) = calls(&tokens).find_map(|name| writing.get_key_value(&name))?;
    let what = match &origin.place {
        Some((file, line)) => {
            format!("{name}() (writes: {}, defined at {}:{line})", origin.what, file.display())
        }
        None => format!("{name}() (declared writing by the rule set's `sql.writing_functions`)"),
    };
    Some(Write { what, why: WriteReason::TreeFunction })
}

/// One definition, as the files give it.
struct Definition {
    name: String,
    origin: Origin,
    /// What its body writes by itself (`None`: nothing seen).
    writes: Option<String>,
    /// The functions its body calls (lower-cased).
    calls: Vec<String>,
}

fn learn(files: &[PathBuf], max_file_bytes: u64, declared: &[String]) -> Writing {
    let files: Vec<&PathBuf> = files.iter().filter(|f| !is_undo(f)).collect();
    // Live definitions by name, taken in path order: a drop forgets a name at once.
    let mut live: HashMap<String, Vec<Definition>> = HashMap::new();
    for event in events_of_files(&files, max_file_bytes).into_iter().flatten() {
        match event {
            Event::Define(definition) => live.entry(definition.name.clone()).or_default().push(definition),
            Event::Drop(name) => {
                live.remove(&name);
            }
        }
    }
    // In file and line order, so that what each function is said to write is the same every run.
    let mut live: Vec<Definition> = live.into_values().flatten().collect();
    live.sort_by(|a, b| a.origin.place.cmp(&b.origin.place).then_with(|| a.name.cmp(&b.name)));
    settle(live, declared)
}

/// The events of each file, in the order of `files`: read and lexed on threads of their own
/// (not the run's pool: this runs inside a once-only initialisation that the pool's other
/// jobs wait on, and the caller may hold syntax trees whose spans must stay valid), or, for a
/// share whose thread cannot be started, here without freeing any span.
fn events_of_files(files: &[&PathBuf], max_file_bytes: u64) -> Vec<Vec<Event>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, files.len().max(1));
    let share = |t: usize, own_thread: bool| -> Vec<(usize, Vec<Event>)> {
        let of = |i: usize| (i, file_events(files[i], max_file_bytes, own_thread));
        (t..files.len()).step_by(threads).map(of).collect()
    };
    let mut out: Vec<Vec<Event>> = Vec::new();
    out.resize_with(files.len(), Vec::new);
    std::thread::scope(|scope| {
        let spawned: Vec<_> = (0..threads)
            .map(|t| (t, std::thread::Builder::new().spawn_scoped(scope, move || share(t, true))))
            .collect();
        for (t, handle) in spawned {
            // A thread that panicked teaches nothing.
            let events = match handle {
                Ok(handle) => handle.join().unwrap_or_default(),
                Err(_) => share(t, false),
            };
            for (i, file_events) in events {
                out[i] = file_events;
            }
        }
    });
    out
}

/// The definitions and drops of one file: a `.sql` file's text, or the string literals of a
/// Rust file that name a routine (migrations written in Rust: refinery's `V3__x.rs`,
/// sea-orm's `execute_unprepared(…)`), each lexed as SQL of its own (`release`: see
/// [`rust_strings`]).
fn file_events(file: &Path, max_file_bytes: u64, release: bool) -> Vec<Event> {
    let Some(text) = read(file, max_file_bytes) else { return Vec::new() };
    if !names_a_routine(&text) {
        // Data, schema or code without functions: nothing to lex.
        return Vec::new();
    }
    if file.extension().is_some_and(|e| e == "rs") {
        rust_strings(&text, release)
            .iter()
            .filter(|(_, value)| names_a_routine(value))
            .flat_map(|(line, value)| events(file, value, *line))
            .collect()
    } else {
        events(file, &text, 1)
    }
}

/// Whether `file` undoes a migration (diesel's `down.sql`, sqlx's `….down.sql`, refinery's
/// `U3__….sql`): never run on the way up, so it defines and drops nothing.
fn is_undo(file: &Path) -> bool {
    let Some(name) = file.file_name().and_then(|n| n.to_str()) else { return false };
    let name = name.to_ascii_lowercase();
    let refinery_undo = name.strip_prefix('u').is_some_and(|rest| {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        digits > 0 && rest[digits..].starts_with("__")
    });
    name == "down.sql" || name.ends_with(".down.sql") || refinery_undo
}

/// The text of `file`: `None` for anything but a regular file (a FIFO would block the read),
/// a file over the limit or one that is not UTF-8.
fn read(file: &Path, max_file_bytes: u64) -> Option<String> {
    if !std::fs::metadata(file).is_ok_and(|m| m.is_file()) {
        return None;
    }
    String::from_utf8(source::read_bytes(file, max_file_bytes).ok()?).ok()
}

/// Whether `text` says `function` or `procedure` anywhere (any letter case): a file that
/// does not can neither define nor drop one.
fn names_a_routine(text: &str) -> bool {
    let bytes = text.as_bytes();
    [&b"function"[..], b"procedure"]
        .iter()
        .any(|word| bytes.windows(word.len()).any(|w| w.eq_ignore_ascii_case(word)))
}

/// Spreads writes through calls between the definitions, from callees to callers with a work
/// list (each definition taken once): the writing ones by name.
fn settle(definitions: Vec<Definition>, declared: &[String]) -> Writing {
    let mut writing: Writing =
        declared.iter().map(|name| (name.clone(), Origin { place: None, what: String::new() })).collect();
    let mut callers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, d) in definitions.iter().enumerate() {
        for callee in &d.calls {
            callers.entry(callee.as_str()).or_default().push(i);
        }
        if let Some(what) = &d.writes {
            // The latest writing definition is the one named.
            writing.insert(d.name.clone(), Origin { what: what.clone(), ..d.origin.clone() });
        }
    }
    let mut work: Vec<String> = writing.keys().cloned().collect();
    work.sort_unstable_by(|a, b| b.cmp(a));
    while let Some(callee) = work.pop() {
        for &i in callers.get(callee.as_str()).into_iter().flatten() {
            let d = &definitions[i];
            if !writing.contains_key(&d.name) {
                let what = format!("a call of {callee}()");
                writing.insert(d.name.clone(), Origin { what, ..d.origin.clone() });
                work.push(d.name.clone());
            }
        }
    }
    writing
}

enum Event {
    Define(Definition),
    Drop(String),
}

/// The string literals of a Rust file's text, with the line each starts on; doc comments are
/// no literals. Nothing for text that does not lex as Rust. Lexing leaves spans in the
/// thread's span table: `release` frees it, which only a thread that holds no syntax tree may
/// do (one of [`events_of_files`]' own, never a worker of the run's pool).
fn rust_strings(text: &str, release: bool) -> Vec<(usize, String)> {
    fn walk(tokens: proc_macro2::TokenStream, out: &mut Vec<(usize, String)>) {
        for token in tokens {
            match token {
                proc_macro2::TokenTree::Group(group) => {
                    let stream = group.stream();
                    // `#[doc = "…"]`, which is what `///` and `//!` comments lex into (a
                    // `(doc, "…")` of code is no doc comment).
                    let mut inner = stream.clone().into_iter();
                    let doc = group.delimiter() == proc_macro2::Delimiter::Bracket
                        && matches!(inner.next(), Some(proc_macro2::TokenTree::Ident(i)) if i == "doc")
                        && matches!(inner.next(), Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == '=');
                    if !doc {
                        walk(stream, out);
                    }
                }
                proc_macro2::TokenTree::Literal(literal) => {
                    if let Ok(value) = syn::parse_str::<syn::LitStr>(&literal.to_string()) {
                        out.push((literal.span().start().line, value.value()));
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    // Nested too deeply to walk safely: refused, as the parse refuses it.
    if crate::nesting::check(text).is_err() {
        return out;
    }
    if let Ok(tokens) = text.parse::<proc_macro2::TokenStream>() {
        walk(tokens, &mut out);
    }
    if release {
        // The spans made here are owned by nothing once the values are copied out.
        crate::parse::release_spans();
    }
    out
}

/// The definitions and drops of functions in one text (a file's, or a string literal's that
/// starts on line `first_line` of its file), in order.
fn events(file: &Path, text: &str, first_line: usize) -> Vec<Event> {
    let (tokens, _) = lexer::lex_prefix(text);
    let statements: Vec<&[Token<'_>]> = lexer::statements(&tokens).collect();
    let mut out = Vec::new();
    // Lines are counted from the last definition on (statements come in order).
    let (mut counted_to, mut line) = (0, first_line);
    let mut i = 0;
    while i < statements.len() {
        let statement = statements[i];
        i += 1;
        if let Some(names) = dropped(statement) {
            out.extend(names.into_iter().map(Event::Drop));
            continue;
        }
        let Some((name, rest)) = defined(statement) else { continue };
        let mut body_tokens: Vec<Token<'_>> = Vec::new();
        // A SQL-standard body (`BEGIN ATOMIC … END`) spans the statements up to its `END`.
        if let Some(atomic) = rest.windows(2).position(|w| w[0].is_word("begin") && w[1].is_word("atomic")) {
            body_tokens.extend(rest[atomic + 2..].iter().cloned());
            while let Some(next) = statements.get(i) {
                i += 1;
                if next.len() == 1 && next[0].is_word("end") {
                    break;
                }
                body_tokens.extend(next.iter().cloned());
            }
        }
        let start = statement[0].span.start;
        line += text[counted_to..start].matches('\n').count();
        counted_to = start;
        let origin = Origin { place: Some((file.to_path_buf(), line)), what: String::new() };
        let definition = if declared_pure(rest) || !seen_into(rest) {
            Definition { name, origin, writes: None, calls: Vec::new() }
        } else {
            let bodies: Vec<String> = body_strings(rest);
            let mut writes = judge_body(&body_tokens);
            let mut called: Vec<String> = calls(&body_tokens).collect();
            for body in &bodies {
                let (tokens, _) = lexer::lex_prefix(body);
                writes = writes.or_else(|| judge_body(&tokens));
                called.extend(calls(&tokens));
            }
            if let Some(ret) = rest.iter().position(|t| t.is_word("return")).filter(|_| bodies.is_empty()) {
                // `RETURN expr` (a SQL-standard body without AS).
                writes = writes.or_else(|| judge_body(&rest[ret..]));
                called.extend(calls(&rest[ret..]));
            }
            Definition { name, origin, writes, calls: called }
        };
        out.push(Event::Define(definition));
    }
    out
}

/// `CREATE [OR REPLACE] FUNCTION|PROCEDURE [schema.]name …`: the name (lower-cased) and the
/// tokens after it.
fn defined<'s, 'a>(statement: &'s [Token<'a>]) -> Option<(String, &'s [Token<'a>])> {
    let mut at = 0;
    if !statement.first()?.is_word("create") {
        return None;
    }
    at += 1;
    if statement.get(at)?.is_word("or") && statement.get(at + 1)?.is_word("replace") {
        at += 2;
    }
    let kind = statement.get(at)?;
    if !(kind.is_word("function") || kind.is_word("procedure")) {
        return None;
    }
    at += 1;
    let (name, after) = qualified_name(statement, at)?;
    Some((name, &statement[after..]))
}

/// `DROP FUNCTION|PROCEDURE [IF EXISTS] a(…), b …`: the names dropped.
fn dropped(statement: &[Token<'_>]) -> Option<Vec<String>> {
    let kind = statement.get(1)?;
    if !statement.first()?.is_word("drop") || !(kind.is_word("function") || kind.is_word("procedure")) {
        return None;
    }
    let mut at = 2;
    if statement.get(at).is_some_and(|t| t.is_word("if"))
        && statement.get(at + 1).is_some_and(|t| t.is_word("exists"))
    {
        at += 2;
    }
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut expect_name = true;
    while at < statement.len() {
        let t = &statement[at];
        if t.is_punct('(') {
            depth += 1;
        } else if t.is_punct(')') {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && t.is_punct(',') {
            expect_name = true;
        } else if depth == 0 && expect_name {
            if let Some((name, after)) = qualified_name(statement, at) {
                names.push(name);
                expect_name = false;
                at = after;
                continue;
            }
        }
        at += 1;
    }
    Some(names)
}

/// The last part of `a.b.name` starting at `at` (lower-cased), and where it ends.
fn qualified_name(tokens: &[Token<'_>], mut at: usize) -> Option<(String, usize)> {
    let mut name = tokens.get(at)?.ident()?;
    at += 1;
    while tokens.get(at).is_some_and(|t| t.is_punct('.')) {
        name = tokens.get(at + 1)?.ident()?;
        at += 2;
    }
    Some((name.to_lowercase(), at))
}

/// Whether the attributes after the name declare the function `IMMUTABLE` or `STABLE`.
fn declared_pure(rest: &[Token<'_>]) -> bool {
    rest.iter().any(|t| t.is_word("immutable") || t.is_word("stable"))
}

/// Whether the body's language is one whose text is SQL (`sql`, `plpgsql`, or none named).
fn seen_into(rest: &[Token<'_>]) -> bool {
    match rest.windows(2).find(|w| w[0].is_word("language")) {
        Some(w) => {
            let language = w[1].ident().or_else(|| w[1].literal()).unwrap_or_default().to_lowercase();
            matches!(language.as_str(), "sql" | "plpgsql")
        }
        None => true,
    }
}

/// The string bodies given after `AS` (`AS $$ … $$`, `AS '…'`).
fn body_strings(rest: &[Token<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    let mut after_as = false;
    for t in rest {
        if t.is_word("as") {
            after_as = true;
        } else if after_as && t.kind == Kind::String {
            out.extend(t.literal());
        } else if after_as && !t.is_punct(',') {
            after_as = false;
        }
    }
    out
}

/// Words that change data or lock rows wherever a body names them.
const WRITE_WORDS: &[&str] = &["insert", "update", "delete", "merge", "truncate"];

/// Words that change the schema or the server when they start a statement of a body.
const STATEMENT_WRITES: &[&str] = &[
    "create", "drop", "alter", "grant", "revoke", "lock", "notify", "listen", "refresh", "vacuum", "analyze",
    "cluster", "reindex", "copy", "comment", "security", "import", "reassign",
];

/// What a function body (its tokens) writes by itself, if anything: the first write seen.
fn judge_body(tokens: &[Token<'_>]) -> Option<String> {
    for (i, t) in tokens.iter().enumerate() {
        if t.kind != Kind::Word {
            continue;
        }
        let word = t.text.to_ascii_lowercase();
        let prev = i.checked_sub(1).map(|p| &tokens[p]);
        if WRITE_WORDS.contains(&word.as_str()) {
            let locking = prev.is_some_and(|p| p.is_word("for") || p.is_word("key"));
            return Some(if locking { format!("FOR {}", word.to_uppercase()) } else { word.to_uppercase() });
        }
        if word == "share" && prev.is_some_and(|p| p.is_word("for") || p.is_word("key")) {
            return Some("FOR SHARE".to_string());
        }
        let starts = prev.is_none_or(|p| {
            p.kind == Kind::Semicolon
                || ["begin", "then", "else", "loop", "atomic"].iter().any(|w| p.is_word(w))
        });
        if starts && STATEMENT_WRITES.contains(&word.as_str()) {
            return Some(word.to_uppercase());
        }
        if starts && word == "execute" {
            let next = tokens.get(i + 1);
            match next.filter(|n| n.kind == Kind::String).and_then(Token::literal) {
                Some(text) => {
                    if let Verdict::Write(write) = super::classify(&text) {
                        return Some(format!("EXECUTE … {}", write.what));
                    }
                }
                None => return Some("EXECUTE of dynamic SQL".to_string()),
            }
        }
        let is_call = tokens.get(i + 1).is_some_and(|n| n.is_punct('('));
        if is_call && policy::is_checked_function(&word) {
            return Some(format!("{word}()"));
        }
    }
    None
}

/// The names of the functions `tokens` call (`name(`, `schema.name(`), lower-cased, in order.
fn calls<'t>(tokens: &'t [Token<'_>]) -> impl Iterator<Item = String> + 't {
    tokens
        .windows(2)
        .filter(|w| w[1].is_punct('(') && matches!(w[0].kind, Kind::Word | Kind::QuotedIdent))
        .filter_map(|w| w[0].ident().map(|name| name.to_lowercase()))
}
