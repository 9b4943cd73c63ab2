//! Read-only enforcement: what makes every `get_db_ro()` connection refuse writes with
//! PostgreSQL's own error, and the proof, at every checkout, that it still does.
//!
//! Direct to PostgreSQL, `default_transaction_read_only = on` goes in the startup packet
//! (`options=-c …`): the session default then survives `RESET ALL` and `DISCARD ALL`.
//! pgBouncer refuses startup parameters (`unsupported startup parameter: options`). Behind it
//! (configured, or detected from that refusal, or from a setting that a proxy silently
//! dropped) the settings are sent with `SET` right after connecting and again at every
//! read-only checkout whose release the wire does not prove clean (see [`crate::proof`]),
//! because pgBouncer's `server_reset_query` (`DISCARD ALL`) or a client's
//! `RESET ALL` puts the server default back.
//!
//! Every read-only checkout of a pooled connection is verified ([`Verification`]): one round trip that
//! proves, from the server's own answer, that no transaction is open, the guard is on and the
//! protocol is in step (the answer carries a nonce). Nothing that the connection's task
//! observed earlier is trusted: what a previous user did (`BEGIN READ WRITE`, `SET … = off`,
//! a refused `COPY FROM STDIN`, a query still running) is only certain once the server has
//! answered a statement sent after it. A session found unclean is repaired in one more round
//! trip (`ROLLBACK`, settings again) and verified again; one out of step is discarded.
//!
//! This module must never weaken the guard: when in doubt it repairs or discards.

use tokio_postgres::{error::SqlState, SimpleQueryMessage};

/// The per-connection session settings the router owns.
#[derive(Debug, Clone)]
pub(crate) struct SessionSettings {
    read_only: bool,
    statement_timeout_ms: Option<u128>,
    /// `-c name=value` pairs from the URL's own `options`, re-sent as `SET` behind pgBouncer.
    url_options: Vec<(String, String)>,
}

impl SessionSettings {
    pub(crate) fn new(
        read_only: bool,
        statement_timeout_ms: Option<u128>,
        url_options: Option<&str>,
    ) -> Self {
        Self {
            read_only,
            statement_timeout_ms,
            url_options: url_options.map(parse_options).unwrap_or_default(),
        }
    }

    pub(crate) fn read_only(&self) -> bool {
        self.read_only
    }

    /// Whether the guard is the only setting (no statement timeout, no URL options): behind
    /// pgBouncer, the only one a round trip would re-send, and one the server reports.
    pub(crate) fn guard_only(&self) -> bool {
        self.read_only && self.statement_timeout_ms.is_none() && self.url_options.is_empty()
    }

    /// The `options` startup parameter for a direct connection: the URL's own options
    /// followed by the router's.
    pub(crate) fn startup_options(&self, url_options: Option<&str>) -> Option<String> {
        let mut parts: Vec<String> = url_options
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| vec![o.to_string()])
            .unwrap_or_default();
        if let Some(ms) = self.statement_timeout_ms {
            parts.push(format!("-c statement_timeout={ms}"));
        }
        if self.read_only {
            parts.push("-c default_transaction_read_only=on".to_string());
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// Statements that establish the session behind pgBouncer (run once at connect).
    pub(crate) fn connect_sql(&self) -> String {
        let mut sql = String::new();
        for (name, value) in &self.url_options {
            sql.push_str(&format!("SET {} = {}; ", quote_ident(name), quote_literal(value)));
        }
        if let Some(ms) = self.statement_timeout_ms {
            sql.push_str(&format!("SET statement_timeout = {ms}; "));
        }
        if self.read_only {
            sql.push_str(REASSERT_SQL);
            sql.push_str("; ");
        }
        sql
    }
}

/// Re-asserts the guard at checkout.
pub(crate) const REASSERT_SQL: &str = "SET default_transaction_read_only = on";

/// Switches the guard off on a new connection behind pgBouncer, between two re-asserts, so
/// that the server reports it off and on again (see [`crate::proof`]); the connection is
/// nobody's yet.
pub(crate) const GUARD_OFF_SQL: &str = "SET default_transaction_read_only = off";

/// Run on every new connection (one round trip): is the server a standby, and is the guard on.
pub(crate) const VERIFY_SQL: &str =
    "SELECT pg_is_in_recovery()::text, current_setting('default_transaction_read_only')";

/// True when the server (pgBouncer) refused the connection because of a startup parameter.
pub(crate) fn refuses_startup_parameters(e: &tokio_postgres::Error) -> bool {
    e.as_db_error().is_some_and(|db| {
        db.message().contains("unsupported startup parameter")
            || (db.code() == &SqlState::PROTOCOL_VIOLATION && db.message().contains("startup"))
    })
}

/// Why a checkout's verification failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// No transaction open, the guard on, the answer in step.
    Clean,
    /// In step, but the session needs a repair before anyone may use it.
    Unclean(Unclean),
    /// The answer was not the verification's own (a desynchronised protocol, an error): the
    /// connection must be discarded.
    OutOfStep(String),
}

/// What a previous user left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unclean {
    /// A transaction block is open (or aborted): it must be rolled back.
    OpenTransaction,
    /// The session default was switched off.
    GuardOff,
}

impl Unclean {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::OpenTransaction => "a transaction was left open",
            Self::GuardOff => "default_transaction_read_only was switched off",
        }
    }
}

/// One checkout's proof: a statement whose answer shows the session's state and carries a
/// nonce, so that an answer meant for someone else is never taken for it.
#[derive(Debug)]
pub(crate) struct Verification {
    nonce: String,
}

impl Verification {
    pub(crate) fn new() -> Self {
        Self { nonce: format!("ro-router-{:016x}", fastrand::u64(..)) }
    }

    /// The statement (a query of its own: see [`crate::pools`]).
    ///
    /// Outside a transaction block a simple query runs in its own transaction, which starts
    /// with the statement: `transaction_timestamp() = statement_timestamp()`. Inside a block
    /// left open by someone, the transaction started earlier.
    pub(crate) fn sql(&self) -> String {
        format!(
            "SELECT '{}', current_setting('transaction_read_only'), \
             current_setting('default_transaction_read_only'), \
             (transaction_timestamp() = statement_timestamp())::text",
            self.nonce
        )
    }

    /// Judges the answer to [`sql`](Self::sql).
    pub(crate) fn judge(&self, answer: Result<Vec<SimpleQueryMessage>, tokio_postgres::Error>) -> Verdict {
        let messages = match answer {
            Ok(m) => m,
            Err(e) if e.code() == Some(&SqlState::IN_FAILED_SQL_TRANSACTION) => {
                return Verdict::Unclean(Unclean::OpenTransaction)
            }
            Err(e) => return Verdict::OutOfStep(crate::error::describe(&e)),
        };
        let rows: Vec<_> = messages
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(r) => Some(r),
                _ => None,
            })
            .collect();
        let [row] = rows.as_slice() else {
            return Verdict::OutOfStep(format!("the verification got {} rows instead of 1", rows.len()));
        };
        if row.len() != 4 || row.get(0) != Some(self.nonce.as_str()) {
            return Verdict::OutOfStep("the verification got an answer meant for another statement".into());
        }
        match (row.get(1), row.get(2), row.get(3)) {
            (Some("on"), Some("on"), Some("true")) => Verdict::Clean,
            (_, _, Some("false")) | (Some("off"), Some("on"), _) => {
                Verdict::Unclean(Unclean::OpenTransaction)
            }
            _ => Verdict::Unclean(Unclean::GuardOff),
        }
    }
}

/// What repairs an unclean session (to be followed by a new verification): `settings` are the
/// statements that establish the guard.
pub(crate) fn repair_sql(unclean: Unclean, settings: &str) -> String {
    match unclean {
        Unclean::OpenTransaction => format!("ROLLBACK; {settings}"),
        Unclean::GuardOff => settings.to_string(),
    }
}

fn parse_options(options: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut words = options.split_whitespace();
    while let Some(word) = words.next() {
        let setting = if word == "-c" {
            words.next()
        } else if let Some(rest) = word.strip_prefix("-c") {
            Some(rest)
        } else {
            word.strip_prefix("--")
        };
        if let Some((name, value)) = setting.and_then(|s| s.split_once('=')) {
            out.push((name.replace('-', "_"), value.to_string()));
        }
    }
    out
}

fn quote_ident(name: &str) -> String {
    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startup_options_keep_the_urls_own() {
        let s = SessionSettings::new(true, Some(30_000), Some("-c search_path=app"));
        assert_eq!(
            s.startup_options(Some("-c search_path=app")).unwrap(),
            "-c search_path=app -c statement_timeout=30000 -c default_transaction_read_only=on"
        );
        let primary = SessionSettings::new(false, None, None);
        assert_eq!(primary.startup_options(None), None);
    }

    #[test]
    fn connect_sql_replays_options_as_set() {
        let s = SessionSettings::new(true, Some(5), Some("-csearch_path=a,b --work-mem=64MB"));
        assert_eq!(
            s.connect_sql(),
            "SET search_path = 'a,b'; SET work_mem = '64MB'; SET statement_timeout = 5; \
             SET default_transaction_read_only = on; "
        );
        assert_eq!(SessionSettings::new(false, None, None).connect_sql(), "");
    }

    #[test]
    fn verification_reads_the_servers_answer() {
        let v = Verification::new();
        assert!(v.sql().starts_with("SELECT 'ro-router-"));
        assert_eq!(
            v.judge(Ok(Vec::new())),
            Verdict::OutOfStep("the verification got 0 rows instead of 1".into())
        );
        assert_eq!(repair_sql(Unclean::OpenTransaction, "SET x = on; "), "ROLLBACK; SET x = on; ");
        assert_eq!(repair_sql(Unclean::GuardOff, "SET x = on; "), "SET x = on; ");
    }
}
