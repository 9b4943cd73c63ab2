//! Variants of every ground-truth row, each of which must keep the row's verdict (from
//! `classify` and from the keyword fallback alone): identifiers renamed (twice, once to names
//! that contain write words), keywords in other letter cases, comments added between tokens
//! and at line ends, and whitespace changed. No table keyed by exact text can pass these.
//!
//! The text is cut into code and non-code (strings, quoted identifiers, dollar quotes,
//! comments) by a scanner of its own, independent of the classifier's lexer; only code is
//! changed, except that a string literal naming a renamed object (`nextval('s')`) is renamed
//! with it.

use super::ground_truth::rows;
use super::{classify, classify_by_keywords, render, verdict_word};

/// Plain new names.
const RENAME_PLAIN: &[(&str, &str)] = &[
    ("t", "orders"),
    ("kv", "settings_store"),
    ("jobs", "work_queue"),
    ("mv", "order_totals"),
    ("s", "order_id_seq"),
    ("a", "amount"),
    ("b", "label"),
    ("k", "skey"),
    ("v", "sval"),
    ("ch", "events"),
    ("p", "archive_orders"),
    ("f", "count_orders"),
    ("w", "purge_orders"),
    ("x", "stmt_one"),
    ("y", "stmt_two"),
    ("d", "gone"),
    ("r", "recent"),
    ("id", "job_id"),
    ("state", "status"),
    ("t2", "orders_copy"),
    ("t3", "orders_snapshot"),
    ("t4", "orders_backup"),
    ("tmp1", "scratch"),
    ("t_a_idx", "orders_amount_idx"),
    ("t_b_idx", "orders_label_idx"),
    ("t_b_idx2", "orders_label_idx2"),
    ("c", "extra"),
    ("sql_text", "query_text"),
    ("no_such_table", "missing_table"),
];

/// New names that contain write words, to prove that words are matched whole.
const RENAME_WRITE_WORDS: &[(&str, &str)] = &[
    ("t", "update_log"),
    ("kv", "insert_cache"),
    ("jobs", "delete_queue"),
    ("mv", "merge_view"),
    ("s", "for_update_seq"),
    ("a", "into_count"),
    ("b", "updated_by"),
    ("k", "deleted"),
    ("v", "inserted_value"),
    ("ch", "notify_me"),
    ("p", "do_work"),
    ("f", "select_stuff"),
    ("w", "nextval_wrapper"),
    ("x", "prep_update"),
    ("y", "prep_read"),
    ("d", "doomed"),
    ("r", "rows_read"),
    ("id", "lock_id"),
    ("state", "share_state"),
    ("t2", "vacuum_2"),
    ("t3", "truncated_3"),
    ("t4", "drop_4"),
    ("tmp1", "created_tmp"),
    ("t_a_idx", "update_log_idx"),
    ("t_b_idx", "update_log_b_idx"),
    ("t_b_idx2", "update_log_b_idx2"),
    ("c", "alter_col"),
    ("sql_text", "delete_sql"),
    ("no_such_table", "grant_table"),
];

/// A piece of SQL text: code, or something that is not code and stays as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Code(String),
    /// A single-quoted string (quotes included).
    Str(String),
    /// A quoted identifier, dollar-quoted string or comment.
    Verbatim(String),
}

fn pieces(sql: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut code = String::new();
    let mut rest = sql;
    while let Some(c) = rest.chars().next() {
        let end = match c {
            '\'' => closing(rest, 1, "'"),
            '"' => closing(rest, 1, "\""),
            '-' if rest.starts_with("--") => rest.find('\n').unwrap_or(rest.len()),
            '/' if rest.starts_with("/*") => closing(rest, 2, "*/"),
            '$' => dollar_quote(rest).unwrap_or(0),
            _ => 0,
        };
        if end == 0 {
            code.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if !code.is_empty() {
            out.push(Piece::Code(std::mem::take(&mut code)));
        }
        let text = rest[..end].to_string();
        out.push(if c == '\'' { Piece::Str(text) } else { Piece::Verbatim(text) });
        rest = &rest[end..];
    }
    if !code.is_empty() {
        out.push(Piece::Code(code));
    }
    out
}

/// The end of a quoted piece that starts with `open_len` bytes and ends with `close`
/// (a doubled quote does not end it).
fn closing(rest: &str, open_len: usize, close: &str) -> usize {
    let mut at = open_len;
    while let Some(i) = rest[at..].find(close) {
        let end = at + i + close.len();
        if close.len() == 1 && rest[end..].starts_with(close) {
            at = end + 1;
            continue;
        }
        return end;
    }
    rest.len()
}

fn dollar_quote(rest: &str) -> Option<usize> {
    let tag_end = rest[1..].find('$')? + 2;
    let tag = &rest[..tag_end];
    if !tag[1..tag_end - 1].chars().all(|c| c.is_ascii_alphabetic() || c == '_') {
        return None;
    }
    Some(tag_end + rest[tag_end..].find(tag)? + tag.len())
}

fn join(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Code(s) | Piece::Str(s) | Piece::Verbatim(s) => s.as_str(),
        })
        .collect()
}

/// Applies `f` to every code piece.
fn map_code(sql: &str, mut f: impl FnMut(&str) -> String) -> String {
    let changed: Vec<Piece> = pieces(sql)
        .into_iter()
        .map(|p| match p {
            Piece::Code(s) => Piece::Code(f(&s)),
            other => other,
        })
        .collect();
    join(&changed)
}

/// Renames whole words of code, and string literals that are exactly a renamed name.
fn rename(sql: &str, names: &[(&str, &str)]) -> String {
    let lookup = |word: &str| names.iter().find(|(from, _)| *from == word).map(|&(_, to)| to);
    let changed: Vec<Piece> = pieces(sql)
        .into_iter()
        .map(|p| match p {
            Piece::Code(s) => Piece::Code(rename_words(&s, &lookup)),
            Piece::Str(s) => match lookup(&s[1..s.len() - 1]) {
                Some(to) => Piece::Str(format!("'{to}'")),
                None => Piece::Str(s),
            },
            other => other,
        })
        .collect();
    join(&changed)
}

fn rename_words<'n>(code: &str, lookup: &impl Fn(&str) -> Option<&'n str>) -> String {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let mut out = String::new();
    let mut word = String::new();
    for c in code.chars().chain(std::iter::once(' ')) {
        if is_word(c) {
            word.push(c);
            continue;
        }
        let starts_with_digit = word.starts_with(|d: char| d.is_ascii_digit() || d == '$');
        match lookup(&word) {
            Some(to) if !starts_with_digit => out.push_str(to),
            _ => out.push_str(&word),
        }
        word.clear();
        out.push(c);
    }
    out.pop();
    out
}

/// A small deterministic generator, so every run checks the same variants.
pub(super) struct Lcg(pub(super) u64);

impl Lcg {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}

fn mixed_case(sql: &str, seed: u64) -> String {
    let mut rng = Lcg(seed);
    map_code(sql, |code| {
        code.chars()
            .map(|c| if rng.next() % 2 == 0 { c.to_ascii_lowercase() } else { c.to_ascii_uppercase() })
            .collect()
    })
}

/// Replaces each run of whitespace in code (and adds some around parentheses and commas)
/// with `sep()`.
fn respace(sql: &str, mut sep: impl FnMut() -> String) -> String {
    map_code(sql, |code| {
        let mut out = String::new();
        let mut in_space = false;
        for c in code.chars() {
            if c.is_whitespace() {
                if !in_space {
                    out.push_str(&sep());
                }
                in_space = true;
                continue;
            }
            in_space = false;
            if matches!(c, '(' | ')' | ',') {
                out.push_str(&sep());
                out.push(c);
                out.push_str(&sep());
            } else {
                out.push(c);
            }
        }
        out
    })
}

fn random_whitespace(sql: &str, seed: u64) -> String {
    let mut rng = Lcg(seed);
    let choices = ["  ", "\n", "\t", "\n\t  ", "\r\n", " \n \t"];
    let body = respace(sql, || choices[(rng.next() % 6) as usize].to_string());
    format!("\n\t {body} \n")
}

/// Every variant of one statement, with a name for failure messages.
pub(super) fn variants(sql: &str, seed: u64) -> Vec<(&'static str, String)> {
    let comments_between = respace(sql, || " /* c */ ".to_string());
    let line_comments = respace(sql, || " -- c\n".to_string());
    vec![
        ("renamed", rename(sql, RENAME_PLAIN)),
        ("renamed to write words", rename(sql, RENAME_WRITE_WORDS)),
        ("lower case", map_code(sql, str::to_lowercase)),
        ("upper case", map_code(sql, str::to_uppercase)),
        ("mixed case", mixed_case(sql, seed)),
        ("mixed case 2", mixed_case(sql, seed ^ 0xdead_beef)),
        ("leading block comment", format!("/* lead */ {sql}")),
        ("leading line comment", format!("-- lead\n{sql}")),
        ("block comments between tokens", comments_between),
        ("line comments at line ends", format!("{line_comments}\n-- end")),
        ("whitespace", random_whitespace(sql, seed)),
        ("everything", {
            let renamed = rename(sql, RENAME_WRITE_WORDS);
            let mixed = mixed_case(&renamed, seed.wrapping_add(7));
            let commented = respace(&mixed, || " /* x */\n".to_string());
            format!("-- lead\n{}", random_whitespace(&commented, seed.wrapping_add(3)))
        }),
    ]
}

#[test]
fn every_variant_keeps_its_verdict() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for (i, row) in rows().iter().enumerate() {
        for (kind, variant) in variants(&row.statement, i as u64 + 1) {
            for (engine, classifier) in
                [("classify", classify as fn(&str) -> _), ("keywords only", classify_by_keywords)]
            {
                checked += 1;
                let got = classifier(&variant);
                if verdict_word(&got) != row.verdict {
                    failures.push(format!(
                        "{engine}, {kind} of {:?}: {variant:?}: want {}, got {}",
                        row.statement,
                        row.verdict,
                        render(&got)
                    ));
                }
            }
        }
    }
    println!("checked {checked} variant classifications");
    assert!(checked >= 1000, "only {checked} variant classifications");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn variants_change_the_text() {
    let sql = "SELECT nextval('s') FROM t WHERE b = 'a' -- t\n";
    assert_eq!(
        rename(sql, RENAME_PLAIN),
        "SELECT nextval('order_id_seq') FROM orders WHERE label = 'amount' -- t\n"
    );
    assert_eq!(map_code("SELECT 'ABC' x", str::to_lowercase), "select 'ABC' x");
    assert_eq!(respace("SELECT f(1, 2)", || "~".to_string()), "SELECT~f~(~1~,~~2~)~");
    assert_eq!(
        pieces("DO $$ a $$ \"q\" 'it''s'"),
        vec![
            Piece::Code("DO ".into()),
            Piece::Verbatim("$$ a $$".into()),
            Piece::Code(" ".into()),
            Piece::Verbatim("\"q\"".into()),
            Piece::Code(" ".into()),
            Piece::Str("'it''s'".into()),
        ]
    );
    for row in rows() {
        let all = variants(&row.statement, 1);
        let changed = all.iter().filter(|(_, v)| *v != row.statement).count();
        assert!(changed >= all.len() - 3, "{:?}: only {changed} variants differ", row.statement);
    }
}
