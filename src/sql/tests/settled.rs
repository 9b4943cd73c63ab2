//! The token shortcut ([`crate::sql::settled`]) against the full path: on every text of a
//! large corpus — the measured ground truth with its variants, prefixes and suffixes, every
//! string literal and `.sql` file of the fixture trees, every string in these tests, the
//! shapes of the call-heavy benchmark, and random sentences of the words that matter —
//! `classify` with the shortcut gives exactly the verdict `sqlparser` and the keyword judge
//! give without it (reason and words included); and the shortcut answers only for the shapes
//! it is meant for.

use std::fs;
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};

use super::ground_truth::rows;
use super::render;
use super::variants::{variants, Lcg};
use crate::sql::{classify_with, lexer, settled, Engine, Verdict, Write, WriteReason};

/// The call-heavy benchmark's statements (`bench/callheavy/gen.py`), and plain statements of
/// other common shapes.
const PLAIN: &[&str] = &[
    "SELECT id, body FROM t253 WHERE id = $1",
    "SELECT id, body FROM t254 WHERE owner = $1 ORDER BY id",
    "SELECT id, body FROM t255 ORDER BY id LIMIT $1",
    "INSERT INTO t256 (id, body) VALUES ($1, 'x')",
    "UPDATE t257 SET body = 'y' WHERE id = $1",
    "INSERT INTO t258_outbox (id) VALUES ($1)",
    "DELETE FROM t259 WHERE id = $1",
    "select count(*) from \"Users\" u join orders o on o.user_id = u.id where u.name like 'a%'",
    "SELECT a::text, b[1], c || 'x' FROM t WHERE d <> 2.5 AND e >= -1",
    "SELECT 1; SELECT 2",
    "UPDATE t SET a = a + 1 FROM u WHERE t.id = u.id RETURNING t.a",
    "DELETE FROM t USING u WHERE t.id = u.id",
    "INSERT INTO t SELECT * FROM u",
    "INSERT INTO t VALUES (nextval('s'))",
    "UPDATE t SET a = 1 WHERE id IN (SELECT id FROM u FOR UPDATE)",
    "delete from t where id = $1 returning *",
    "INSERT INTO t (a) VALUES (1); UPDATE t SET a = 2; SELECT 3",
];

/// Texts the shortcut must leave to the full path, each for its own reason.
const LEFT_TO_THE_PARSER: &[&str] = &[
    "SELECT nextval('s')",
    "SELECT \"NEXTVAL\"('s')",
    "SELECT pg_catalog.set_config('search_path', 'x', false)",
    "SELECT * FROM t FOR UPDATE",
    "SELECT * FROM t for share",
    "SELECT * INTO u FROM t",
    "SELECT 1into t",
    "SELECT * FROM t WHERE \"for\" = 1",
    "INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING",
    "INSERT INTO t (conflict) VALUES (1)",
    "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
    "(SELECT 1)",
    "SELECT E'\\'' ",
    "SELECT $$x$$",
    "SELECT $tag$ x $tag$",
    "SELECT a$b FROM t",
    "SELECT /* c */ 1",
    "SELECT -- c\n 1",
    "SELECT 'é'",
    "SELECT U&'x'",
    "SELECT {} FROM t",
    "SELECT \u{b} 1",
    "VALUES (1)",
    "TABLE t",
    "MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN DELETE",
    "SHOW search_path",
];

/// Words, literals and punctuation that plain statements and their traps are made of.
#[rustfmt::skip]
const PIECES: &[&str] = &[
    "select", "SELECT", "insert", "update", "delete", "into", "for", "FOR", "share", "on",
    "conflict", "\"conflict\"", "do", "nothing", "values", "set", "from", "where", "with",
    "as", "returning", "merge", "using", "join", "order", "by", "limit", "nextval",
    "\"NEXTVAL\"", "set_config", "lo_open", "count", "t", "a", "\"q\"", "x$y", "(", ")",
    ",", ".", "=", "*", "::", "||", "[", "]", ";", "$1", "1", "2.5", "1e5", "1into", "'x'",
    "'it''s'", "E'\\''", "$$x$$", "/* c */", "-- c\n", "{}", "&", "é", "\u{b}",
];

/// Random sentences of [`PIECES`] led by a statement keyword, most of which `sqlparser`
/// rejects and some of which it reads in unusual ways.
fn random_statements(count: usize) -> Vec<String> {
    let mut rng = Lcg(0x5eed);
    let heads = ["SELECT", "select", "INSERT INTO t", "UPDATE t SET", "DELETE FROM", "(SELECT"];
    (0..count)
        .map(|_| {
            let mut text = heads[(rng.next() % heads.len() as u64) as usize].to_string();
            for _ in 0..1 + rng.next() % 12 {
                text.push(' ');
                text.push_str(PIECES[(rng.next() % PIECES.len() as u64) as usize]);
            }
            text
        })
        .collect()
}

/// Every statement of `sql` the shortcut settles, with its verdict.
fn settled_statements(sql: &str) -> Vec<Option<Verdict>> {
    let Ok(tokens) = lexer::lex(sql) else {
        return Vec::new();
    };
    lexer::statements(&tokens).map(|statement| settled::verdict(sql, statement)).collect()
}

/// The string literals of Rust source (macro arguments included), or its lines when it does
/// not lex as Rust.
fn rust_strings(source: &str) -> Vec<String> {
    fn walk(stream: TokenStream, out: &mut Vec<String>) {
        for tree in stream {
            match tree {
                TokenTree::Group(group) => walk(group.stream(), out),
                TokenTree::Literal(literal) => {
                    if let Ok(text) = syn::parse_str::<syn::LitStr>(&literal.to_string()) {
                        out.push(text.value());
                    }
                }
                TokenTree::Ident(_) | TokenTree::Punct(_) => {}
            }
        }
    }
    let mut out = Vec::new();
    match source.parse::<TokenStream>() {
        Ok(stream) => walk(stream, &mut out),
        Err(_) => out.extend(source.lines().map(str::to_string)),
    }
    out
}

/// The `.rs` and `.sql` files under `dir`, recursively.
fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        panic!("cannot read {}", dir.display());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs" || e == "sql") {
            out.push(path);
        }
    }
}

/// Every text of the corpus (see the module's first lines).
fn corpus() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts: Vec<String> = PLAIN.iter().chain(LEFT_TO_THE_PARSER).map(|s| s.to_string()).collect();
    for (i, row) in rows().iter().enumerate() {
        let sql = row.statement.as_str();
        texts.extend(variants(sql, i as u64 + 1).into_iter().map(|(_, v)| v));
        for (at, _) in sql.char_indices() {
            texts.push(sql[..at].to_string());
            texts.push(sql[at..].to_string());
        }
        texts.push(sql.to_string());
    }
    texts.extend(random_statements(20_000));
    let mut files = Vec::new();
    source_files(&root.join("fixtures"), &mut files);
    source_files(&root.join("src/sql/tests"), &mut files);
    assert!(files.len() > 100, "only {} fixture and test files", files.len());
    for file in files {
        let source = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if file.extension().is_some_and(|e| e == "sql") {
            texts.push(source);
        } else {
            texts.extend(rust_strings(&source));
        }
    }
    texts
}

#[test]
fn the_shortcut_gives_the_full_paths_verdict_on_every_text() {
    let texts = corpus();
    let (mut settled, mut statements, mut failures) = (0, 0, Vec::new());
    for text in &texts {
        let answers = settled_statements(text);
        statements += answers.len();
        settled += answers.iter().filter(|a| a.is_some()).count();
        let shortcut = classify_with(text, Engine::TokensFirst);
        let full = classify_with(text, Engine::ParserFirst);
        if shortcut != full {
            failures.push(format!("{text:?}: shortcut {}, full path {}", render(&shortcut), render(&full)));
        }
    }
    println!("{} texts, {statements} statements, {settled} settled by their tokens", texts.len());
    assert!(texts.len() > 10_000, "only {} texts", texts.len());
    assert!(settled > 1_000, "the shortcut settled only {settled} of {statements} statements");
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn plain_statements_are_settled_by_their_tokens() {
    let write = |what: &str| {
        Some(Verdict::Write(Write { what: what.to_string(), why: WriteReason::ReadOnlyTransaction }))
    };
    let expected = [Some(Verdict::Read), Some(Verdict::Read), Some(Verdict::Read)].into_iter().chain([
        write("INSERT"),
        write("UPDATE"),
        write("INSERT"),
        write("DELETE"),
    ]);
    for (sql, want) in PLAIN.iter().zip(expected) {
        assert_eq!(settled_statements(sql), vec![want], "{sql:?}");
    }
    assert_eq!(settled_statements("SELECT 1; SELECT 2"), vec![Some(Verdict::Read), Some(Verdict::Read)]);
}

#[test]
fn statements_the_judges_must_read_are_left_to_them() {
    for sql in LEFT_TO_THE_PARSER {
        let answers = settled_statements(sql);
        assert!(answers.iter().all(Option::is_none), "{sql:?} was settled: {answers:?}");
    }
}
