//! Read-only enforcement: what makes every `get_db_ro()` connection refuse writes with
//! PostgreSQL's own error.
//!
//! Direct to PostgreSQL, `default_transaction_read_only = on` goes in the startup packet
//! (`options=-c …`): the session default then survives `RESET ALL` and `DISCARD ALL` and costs
//! nothing per checkout. The server reports the setting (ParameterStatus, PostgreSQL 14+), so a
//! session that switched it off (`SET default_transaction_read_only = off`) is noticed when
//! the connection comes back and gets it re-asserted at its next checkout — still no round
//! trip in the normal case.
//!
//! pgBouncer refuses startup parameters (`unsupported startup parameter: options`). Behind it
//! (configured, or detected from that refusal, or from a setting that a proxy silently
//! dropped) the settings are sent with `SET` right after connecting and re-asserted with one
//! extra round trip at every read-only checkout, because pgBouncer's `server_reset_query`
//! (`DISCARD ALL`) or a client's `RESET ALL` puts the server default back.
//!
//! This module must never weaken the guard: when in doubt it re-asserts.

use std::sync::atomic::{AtomicU8, Ordering};

use tokio_postgres::error::SqlState;

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

const UNKNOWN: u8 = 0;
const ON: u8 = 1;
const OFF: u8 = 2;

/// What the server last reported for `default_transaction_read_only` on one connection.
#[derive(Debug, Default)]
pub(crate) struct SessionGuard {
    state: AtomicU8,
}

impl SessionGuard {
    pub(crate) fn observe(&self, reported: Option<&str>) {
        let state = match reported {
            Some("on") => ON,
            Some(_) => OFF,
            None => UNKNOWN,
        };
        self.state.store(state, Ordering::Release);
    }

    /// True when the server reported the guard off (someone ran `SET … = off`, `RESET ALL`
    /// behind pgBouncer, …).
    pub(crate) fn switched_off(&self) -> bool {
        self.state.load(Ordering::Acquire) == OFF
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
    fn guard_tracks_reports() {
        let g = SessionGuard::default();
        assert!(!g.switched_off());
        g.observe(Some("off"));
        assert!(g.switched_off());
        g.observe(Some("on"));
        assert!(!g.switched_off());
    }
}
