//! Classifies SQL text as a read or a write *for a read-only PostgreSQL connection* — a
//! replica, or a primary connection whose session is `default_transaction_read_only = on`.
//!
//! A write is what PostgreSQL refuses in a read-only transaction or on a hot standby, plus
//! what switches the read-only guard off and what cannot be seen into (`CALL`, `DO`, a
//! `PREPARE` of a write, an `EXECUTE` of an unknown statement). Reads are an explicit list;
//! everything else is a write (`Unrecognised`). The ground truth is
//! `fixtures/pg15/pg15-readonly.tsv`, measured on PostgreSQL 15.
//!
//! Text is first split into statements by a PostgreSQL-exact lexer ([`lexer`]). A plain
//! statement whose tokens settle its verdict is answered from them ([`settled`], exactly as
//! the judges below would); any other is parsed with `sqlparser` and judged on its syntax tree
//! ([`parsed`]), and a statement that `sqlparser` rejects is judged by its keywords
//! ([`keywords`]).
//!
//! It must never call a write a read: when in doubt the answer is a write. It never touches a
//! database, never caches anything between calls, and never panics on any input.
//!
//! A `SELECT` of a function is a read unless the function is a writing built-in — or a
//! function the tree's own SQL files define with a body that writes, which [`SqlFunctions`]
//! learns from those files (the one part of this module that reads files) and the judge asks
//! about text this classifier found to read.

mod functions;
mod keywords;
mod lexer;
mod parsed;
mod policy;
mod settled;
#[cfg(test)]
mod tests;

pub use functions::SqlFunctions;

use std::collections::HashMap;

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// What SQL text does on a read-only connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Only reads: PostgreSQL runs it on a replica and in a read-only transaction.
    Read,
    /// Writes, may write, or weakens the read-only guard.
    Write(Write),
}

/// Why a piece of SQL counts as a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// What writes, short, for a finding message: "UPDATE", "INSERT … ON CONFLICT",
    /// "SELECT … FOR UPDATE", "nextval()", "VACUUM", "LOCK TABLE … SHARE MODE", "DO block",
    /// "SET default_transaction_read_only = off", ...
    pub what: String,
    /// Which kind of write it is.
    pub why: WriteReason,
}

/// The kind of write, for the explanation in a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteReason {
    /// PostgreSQL refuses it in a read-only transaction (and on a standby).
    ReadOnlyTransaction,
    /// Allowed in a read-only transaction but refused on a hot standby.
    HotStandby,
    /// Switches the read-only guard off.
    GuardOff,
    /// Cannot be seen into (CALL, DO, PREPARE of a write, EXECUTE of something unknown): may write.
    Opaque,
    /// Allowed in a read-only transaction and on a hot standby, yet changes the server
    /// (replication slots, server files, settings, statistics, other sessions):
    /// `pg15-readonly-extra.tsv`.
    BypassesGuard,
    /// Not recognised as any known read: treated as a write.
    Unrecognised,
    /// Calls a SQL function that the tree's own SQL files define with a body that writes
    /// ([`SqlFunctions`]).
    TreeFunction,
}

impl WriteReason {
    /// One human sentence saying why this kind of statement is reported.
    pub fn describe(self) -> &'static str {
        match self {
            WriteReason::ReadOnlyTransaction => {
                "PostgreSQL refuses it in a read-only transaction and on a read replica."
            }
            WriteReason::HotStandby => {
                "PostgreSQL allows it in a read-only transaction but refuses it on a hot standby (a read replica)."
            }
            WriteReason::GuardOff => {
                "It switches off the read-only guard, so later writes on this connection would succeed on a primary."
            }
            WriteReason::Opaque => {
                "What it runs cannot be seen from the SQL text, so it may write."
            }
            WriteReason::BypassesGuard => {
                "PostgreSQL lets it through a read-only transaction and a read replica, yet it changes the server; only the role's privileges stop it."
            }
            WriteReason::Unrecognised => {
                "It is not a statement known to only read, so it is treated as a write."
            }
            WriteReason::TreeFunction => {
                "It calls a SQL function that the tree's own migrations (its SQL files, or SQL strings in its Rust) define with a body that writes; PostgreSQL refuses that write in a read-only transaction and on a read replica."
            }
        }
    }
}

/// Classifies SQL text for a read-only connection.
///
/// Several statements (`;`-separated) are a write if any of them is; the first write is
/// reported. Empty text, or text of only comments and whitespace, is a read.
pub fn classify(sql: &str) -> Verdict {
    classify_with(sql, Engine::TokensFirst)
}

/// True when the text starts (after whitespace and comments) with a SQL statement keyword
/// (SELECT, INSERT, UPDATE, DELETE, WITH, VALUES, TABLE, CREATE, ALTER, DROP, ... every
/// statement keyword PostgreSQL knows) — used to decide whether an arbitrary string literal
/// passed to an unknown method is SQL at all. A parenthesised query (`(SELECT …`) counts too.
pub fn looks_like_sql(text: &str) -> bool {
    starts_with_statement_keyword(&lexer::lex_prefix(text).0)
}

/// How statements are judged: settled by their tokens when they can be ([`settled`]), else
/// by `sqlparser` first; or, for tests, by `sqlparser` first always (the reference the
/// shortcut must match) or by keywords only (the fallback).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    TokensFirst,
    #[cfg_attr(not(test), allow(dead_code))]
    ParserFirst,
    #[cfg_attr(not(test), allow(dead_code))]
    KeywordsOnly,
}

/// What earlier statements of the same text left behind: the prepared statements, by name.
#[derive(Debug, Default)]
struct Session {
    prepared: HashMap<String, Verdict>,
}

impl Session {
    /// Records `PREPARE name AS statement`; the PREPARE of a write is itself a write.
    fn prepare(&mut self, name: String, statement: Verdict) -> Verdict {
        self.prepared.insert(name, statement.clone());
        match statement {
            Verdict::Read => Verdict::Read,
            Verdict::Write(write) => Verdict::Write(Write {
                what: format!("PREPARE … {}", write.what),
                why: WriteReason::Opaque,
            }),
        }
    }

    /// `EXECUTE name`: what the statement prepared earlier in the text does, or an opaque
    /// write when it was prepared elsewhere.
    fn execute(&self, name: &str) -> Verdict {
        match self.prepared.get(name) {
            Some(statement) => statement.clone(),
            None => Verdict::Write(Write { what: "EXECUTE".to_string(), why: WriteReason::Opaque }),
        }
    }
}

fn classify_with(sql: &str, engine: Engine) -> Verdict {
    let Ok(tokens) = lexer::lex(sql) else {
        return Verdict::Write(Write {
            what: "unterminated quote or comment".to_string(),
            why: WriteReason::Unrecognised,
        });
    };
    let mut session = Session::default();
    for statement in lexer::statements(&tokens) {
        let verdict = classify_statement(sql, statement, &mut session, engine);
        if let Verdict::Write(write) = verdict {
            return Verdict::Write(write);
        }
    }
    Verdict::Read
}

fn classify_statement(
    sql: &str,
    tokens: &[lexer::Token<'_>],
    session: &mut Session,
    engine: Engine,
) -> Verdict {
    if engine == Engine::TokensFirst {
        if let Some(verdict) = settled::verdict(sql, tokens) {
            return verdict;
        }
    }
    if engine != Engine::KeywordsOnly && tokens.len() <= PARSER_TOKEN_LIMIT {
        let (first, last) = (&tokens[0], &tokens[tokens.len() - 1]);
        let text = &sql[first.span.start..last.span.end];
        if let Some(statement) = parse_one(text) {
            return parsed::classify(&statement, session);
        }
    }
    keywords::classify(tokens, session, 0)
}

/// How deeply `sqlparser` may nest. Its nested *statements* (EXPLAIN of PREPARE of …) recurse
/// without stack protection, about 70 KiB a level in a debug build; 20 levels stay well inside
/// a 2 MiB thread stack, and real queries need fewer than 12. Deeper text goes to the keyword
/// judge.
const PARSER_DEPTH_LIMIT: usize = 20;

/// The longest statement (in tokens) given to `sqlparser`. A long operator chain is parsed
/// without recursion but becomes a tree as deep as the chain, which visiting and dropping
/// then recurse through (about 80 bytes a level); 5,000 tokens keep that under half a MiB.
/// Longer statements (bulk VALUES lists, generated IN lists) go to the keyword judge.
const PARSER_TOKEN_LIMIT: usize = 5_000;

/// Parses one statement with `sqlparser`; `None` when it does not parse as exactly one.
fn parse_one(text: &str) -> Option<sqlparser::ast::Statement> {
    let mut statements = Parser::new(&PostgreSqlDialect {})
        .with_recursion_limit(PARSER_DEPTH_LIMIT)
        .try_with_sql(text)
        .and_then(|mut parser| parser.parse_statements())
        .ok()?;
    match statements.len() {
        1 => statements.pop(),
        _ => None,
    }
}

fn starts_with_statement_keyword(tokens: &[lexer::Token<'_>]) -> bool {
    let open = tokens.iter().take_while(|t| t.is_punct('(')).count();
    let Some(head) = tokens.get(open) else {
        return false;
    };
    let allowed: &[&str] = if open == 0 { policy::STATEMENT_KEYWORDS } else { policy::QUERY_KEYWORDS };
    allowed.iter().any(|k| head.is_word(k))
}
