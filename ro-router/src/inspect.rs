//! What the router finds out about a read-only target before it trusts it, once per target:
//!
//! * **pgBouncer's pool mode.** The read-only guard is session state. Through a pgBouncer in
//!   `transaction` or `statement` pooling mode that state would stick to server connections
//!   that pgBouncer then hands to other clients (the primary pool, plain clients), whose
//!   writes would be refused. Such a target is refused, with an error naming the mode.
//! * **The fallthrough role** (see [`RoleReport`]): whether the role of the read-only pool to
//!   the primary is a superuser or holds write privileges, i.e. whether anything besides the
//!   session setting stands between a read-only handle and a write.
//!
//! The detection of the pool mode compares backend pids: two client connections open at the
//! same time never share a server connection in session mode; in transaction mode an idle
//! client holds none, so the second client gets the first one's (pgBouncer reuses the most
//! recently released), or the first gets another one back while the second holds its own in
//! an open transaction. Statement mode refuses `BEGIN` outright. Session mode is never taken
//! for another mode; a transaction-mode pgBouncer under heavy load could pass unnoticed once,
//! which is why every new read-only connection checks again until a check has run.
//!
//! Nothing here changes a setting of a session that the pools use; nothing here logs a
//! password.

use serde::Serialize;
use tokio_postgres::{Client, SimpleQueryMessage};

/// How a pgBouncer in front of a target pools server connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PoolMode {
    Session,
    Transaction,
    Statement,
}

impl PoolMode {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Transaction => "transaction",
            Self::Statement => "statement",
        }
    }
}

/// The first value of the first row of a simple query's answer.
pub(crate) fn first_value(messages: &[SimpleQueryMessage]) -> Option<String> {
    messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
        _ => None,
    })
}

async fn backend_pid(client: &Client) -> Result<String, tokio_postgres::Error> {
    Ok(first_value(&client.simple_query("SELECT pg_backend_pid()::text").await?).unwrap_or_default())
}

/// Detects the pool mode of the pgBouncer behind `first` and `second`, two client connections
/// opened to the same target (and dropped by the caller after).
pub(crate) async fn pool_mode(first: &Client, second: &Client) -> Result<PoolMode, tokio_postgres::Error> {
    let before = backend_pid(first).await?;
    let mut shared = backend_pid(second).await? == before;
    if !shared {
        // The second holds a server connection in an open transaction while the first asks
        // again.
        if let Err(e) = second.batch_execute("BEGIN").await {
            return refused_begin(e);
        }
        let held = backend_pid(second).await;
        let after = backend_pid(first).await?;
        let held = match held {
            Ok(held) => held,
            Err(e) => return refused_begin(e),
        };
        second.batch_execute("ROLLBACK").await?;
        shared = held == before || after != before;
    }
    if !shared {
        return Ok(PoolMode::Session);
    }
    // Pooled by transaction or by statement: statement mode refuses transaction blocks.
    let block = first.simple_query("BEGIN; SELECT 1").await;
    let end = first.batch_execute("ROLLBACK").await;
    match block.and(end) {
        Ok(()) => Ok(PoolMode::Transaction),
        Err(_) => Ok(PoolMode::Statement),
    }
}

/// A `BEGIN` that failed after plain statements went through: statement mode says so (and
/// closes the connection); anything else is an error of its own.
fn refused_begin(e: tokio_postgres::Error) -> Result<PoolMode, tokio_postgres::Error> {
    let says_statement_mode = e.as_db_error().is_some_and(|db| db.message().contains("statement pool mode"));
    if says_statement_mode || e.is_closed() {
        Ok(PoolMode::Statement)
    } else {
        Err(e)
    }
}

/// What the fallthrough role may do besides reading, measured once the primary answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleReport {
    /// The role's name.
    pub role: String,
    /// `rolsuper`: a superuser bypasses every privilege check; only the session setting stops
    /// its writes, and not all of them (see the README's "limits of the guard").
    pub superuser: bool,
    /// Whether the role itself has `default_transaction_read_only = on` (`ALTER ROLE … SET`).
    pub read_only_by_default: bool,
    /// Why the role could write if the session setting were off: each a short reason
    /// (`superuser`, `INSERT/UPDATE/DELETE/TRUNCATE on 3 tables`, `CREATE on schema public`,
    /// `member of pg_write_server_files`, …). Empty for a read-only role.
    pub can_write: Vec<String>,
}

impl RoleReport {
    /// True when the role is not a superuser and holds no write privilege found.
    pub fn is_read_only(&self) -> bool {
        self.can_write.is_empty()
    }
}

/// One query: the role's attributes and every kind of write privilege it holds, each counted.
/// Owners hold every privilege on what they own, so ownership is covered by the
/// `has_*_privilege` checks.
const ROLE_SQL: &str = "\
WITH r AS (SELECT * FROM pg_roles WHERE rolname = current_user), \
user_rel AS (SELECT c.oid, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' \
    AND n.nspname NOT LIKE 'pg_temp%') \
SELECT r.rolname::text, r.rolsuper::text, \
  COALESCE((SELECT bool_or(s = 'default_transaction_read_only=on') FROM pg_db_role_setting d, \
    unnest(d.setconfig) s WHERE d.setrole = r.oid AND d.setdatabase IN (0, \
    (SELECT oid FROM pg_database WHERE datname = current_database()))), false)::text, \
  (SELECT count(*) FROM user_rel WHERE relkind IN ('r', 'p', 'v', 'f') \
    AND has_table_privilege(oid, 'INSERT, UPDATE, DELETE, TRUNCATE'))::text, \
  (SELECT count(*) FROM user_rel WHERE CASE WHEN relkind = 'S' \
    THEN has_sequence_privilege(oid, 'USAGE, UPDATE') ELSE false END)::text, \
  (SELECT count(*) FROM user_rel WHERE relkind = 'm' AND pg_has_role((SELECT relowner FROM pg_class \
    WHERE pg_class.oid = user_rel.oid), 'USAGE'))::text, \
  (SELECT string_agg(nspname, ', ' ORDER BY nspname) FROM pg_namespace WHERE nspname NOT IN \
    ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg_t%' \
    AND has_schema_privilege(oid, 'CREATE')), \
  has_database_privilege(current_database(), 'CREATE')::text, \
  r.rolcreaterole::text, r.rolcreatedb::text, r.rolreplication::text, \
  (SELECT string_agg(g, ', ' ORDER BY g) FROM unnest(ARRAY['pg_write_server_files', \
    'pg_execute_server_program', 'pg_signal_backend', 'pg_checkpoint', 'pg_write_all_data']) g \
    WHERE pg_has_role(g, 'MEMBER')) \
FROM r";

/// Measures what the connected role may write.
pub(crate) async fn role_report(client: &Client) -> Result<RoleReport, tokio_postgres::Error> {
    let messages = client.simple_query(ROLE_SQL).await?;
    let row = messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(r) => Some(r),
        _ => None,
    });
    let field = |i: usize| row.and_then(|r| r.get(i)).unwrap_or_default().to_string();
    let count = |i: usize| field(i).parse::<u64>().unwrap_or(0);
    let yes = |i: usize| field(i) == "true";
    let mut can_write = Vec::new();
    if yes(1) {
        // Every privilege check passes for a superuser: listing them would say nothing more.
        let role = field(0);
        return Ok(RoleReport {
            role,
            superuser: true,
            read_only_by_default: yes(2),
            can_write: vec!["superuser".into()],
        });
    }
    for (i, what) in [(3, "INSERT/UPDATE/DELETE/TRUNCATE on"), (4, "USAGE/UPDATE (nextval) on")] {
        let n = count(i);
        if n > 0 {
            let kind = if i == 3 { "table" } else { "sequence" };
            can_write.push(format!("{what} {n} {kind}{}", if n == 1 { "" } else { "s" }));
        }
    }
    if count(5) > 0 {
        can_write.push(format!("owns (REFRESH) {} materialized views", count(5)));
    }
    let schemas = field(6);
    if !schemas.is_empty() {
        can_write.push(format!("CREATE on schema {schemas}"));
    }
    if yes(7) {
        can_write.push("CREATE on the database".to_string());
    }
    for (i, attribute) in [(8, "CREATEROLE"), (9, "CREATEDB"), (10, "REPLICATION")] {
        if yes(i) {
            can_write.push(attribute.to_string());
        }
    }
    let roles = field(11);
    if !roles.is_empty() {
        can_write.push(format!("member of {roles}"));
    }
    Ok(RoleReport { role: field(0), superuser: yes(1), read_only_by_default: yes(2), can_write })
}
