//! Read-only enforcement against the ground truth `fixtures/pg15/pg15-readonly.tsv` (a copy of
//! `../shared/pg15-readonly.tsv`) and its addition `pg15-readonly-extra.tsv` (the guard's
//! limits): after the setup files, every statement gets on a
//! `get_db_ro()` connection exactly the outcome of the file's column for that context —
//! `read_only_txn` on the fallthrough pool (fresh, after `RESET ALL` + `DISCARD ALL` on a
//! recycled connection, and through pgBouncer), `standby` on a replica: ok, or that SQLSTATE.
//!
//! The transaction blocks opened here are plain `BEGIN`: they are read-only only because the
//! router made the session read-only.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use ro_router::{DbRouter, PoolRole, ReadOnlyConnection, RoutesTo};

use crate::{
    common::{self, config, data_file, outcome, router, show},
    support::{harness::Ctx, name},
};

#[derive(Debug, Clone)]
pub struct Row {
    pub statement: String,
    pub read_only_txn: String,
    pub standby: String,
    pub verdict: String,
    pub note: String,
}

fn rows_of(file: &str) -> Vec<Row> {
    let path = data_file(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("statement\t") && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "malformed TSV line: {l}");
            Row {
                statement: f[0].into(),
                read_only_txn: f[1].into(),
                standby: f[2].into(),
                verdict: f[3].into(),
                note: f[4].into(),
            }
        })
        .collect()
}

/// Every row of both ground-truth files.
pub fn rows() -> Vec<Row> {
    let shared = rows_of("pg15-readonly.tsv");
    assert!(shared.len() >= 90, "expected the whole TSV, got {} rows", shared.len());
    let extra = rows_of("pg15-readonly-extra.tsv");
    assert!(extra.len() >= 20, "expected the whole extra TSV, got {} rows", extra.len());
    shared.into_iter().chain(extra).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// `read_only_txn` on the fallthrough pool.
    Fallthrough,
    /// `standby` on a replica.
    Standby,
}

impl Row {
    fn expected(&self, ctx: Context) -> &str {
        match ctx {
            Context::Fallthrough => &self.read_only_txn,
            Context::Standby => &self.standby,
        }
    }

    /// Whether the note puts the statement inside a transaction block for this context.
    pub fn in_block(&self, ctx: Context) -> bool {
        match ctx {
            Context::Standby => {
                self.note.contains("standby run inside BEGIN") || self.note.contains("standby (in BEGIN)")
            }
            Context::Fallthrough => {
                !(self.note.contains("not allowed in a txn block")
                    || self.note.starts_with("A: session with default_transaction_read_only=on"))
            }
        }
    }
}

/// Sends one statement the way the TSV measured it (simple query; COPY through the copy
/// protocol).
pub async fn execute(conn: &ReadOnlyConnection, sql: &str) -> Result<(), tokio_postgres::Error> {
    let upper = sql.to_ascii_uppercase();
    if upper.starts_with("COPY") && upper.contains("FROM STDIN") {
        let sink = conn.copy_in::<_, &'static [u8]>(sql).await?;
        let mut sink = std::pin::pin!(sink);
        sink.send(&b"99\tcopied\n"[..]).await?;
        sink.as_mut().finish().await?;
        Ok(())
    } else if upper.starts_with("COPY") && upper.contains("TO STDOUT") {
        let stream = conn.copy_out(sql).await?;
        let mut stream = std::pin::pin!(stream);
        while let Some(chunk) = stream.next().await {
            chunk?;
        }
        Ok(())
    } else {
        conn.batch_execute(sql).await
    }
}

/// Runs a row in its context and returns "ok" or the SQLSTATE.
pub async fn run_row(conn: &ReadOnlyConnection, row: &Row, ctx: Context, in_block: bool) -> String {
    if ctx == Context::Fallthrough && row.note.contains("nextval ran in the session before") {
        // The note's context: the session called nextval() first (in an explicit read-write
        // transaction, the one way a read-only session may write).
        conn.batch_execute("BEGIN READ WRITE; SELECT nextval('s'); COMMIT")
            .await
            .expect("nextval in a read-write transaction");
    }
    if in_block {
        conn.batch_execute("BEGIN").await.expect("BEGIN");
    }
    let result = outcome(execute(conn, &row.statement).await);
    let _ = conn.batch_execute("ROLLBACK").await;
    if row.statement.contains("pg_create_physical_replication_slot") {
        // Not transactional: the slot stays after the ROLLBACK (and would hold WAL).
        let _ = conn.batch_execute("SELECT pg_drop_replication_slot('ro_probe_slot')").await;
    }
    result
}

/// Checks every row on fresh checkouts from `router` (each connection is discarded after its
/// row, so no session state leaks). `recycle` first runs `RESET ALL` and `DISCARD ALL` on the
/// connection, returns it and checks it out again (the same backend) before the row.
async fn check_all(router: &DbRouter, ctx: Context, routes_to: RoutesTo, recycle: bool) -> usize {
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for row in rows() {
        let mut passes = vec![row.in_block(ctx)];
        // A refused write is refused in autocommit too (each statement is its own read-only
        // transaction) — the way most code runs.
        if ctx == Context::Fallthrough && row.read_only_txn == "25006" && row.in_block(ctx) {
            passes.push(false);
        }
        for in_block in passes {
            let conn =
                if recycle { recycled(router).await } else { router.get_db_ro().await.expect("checkout") };
            assert_eq!(conn.routes_to(), routes_to, "checkout served by the wrong pool");
            let got = run_row(&conn, &row, ctx, in_block).await;
            conn.discard();
            compared += 1;
            if got != row.expected(ctx) {
                mismatches.push(format!(
                    "{:?} {}: expected {}, got {got}: {}",
                    ctx,
                    if in_block { "in BEGIN" } else { "autocommit" },
                    row.expected(ctx),
                    row.statement
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
    compared
}

/// A checkout that went through `RESET ALL` and `DISCARD ALL` and back through the pool.
async fn recycled(router: &DbRouter) -> ReadOnlyConnection {
    let conn = router.get_db_ro().await.expect("checkout");
    let pid = common::backend_pid(&conn).await;
    conn.batch_execute("RESET ALL").await.expect("RESET ALL");
    drop(conn);
    let conn = router.get_db_ro().await.expect("checkout after RESET ALL");
    assert_eq!(common::backend_pid(&conn).await, pid, "the pool handed out another connection");
    conn.batch_execute("DISCARD ALL").await.expect("DISCARD ALL");
    drop(conn);
    let conn = router.get_db_ro().await.expect("checkout after DISCARD ALL");
    assert_eq!(common::backend_pid(&conn).await, pid, "the pool handed out another connection");
    assert_eq!(show(&conn, "default_transaction_read_only").await, "on");
    conn
}

pub async fn fallthrough_matches_tsv(ctx: Arc<Ctx>) {
    let primary = ctx.cluster.primary();
    let router = router(config(primary.port, &[])).await;
    let n = check_all(&router, Context::Fallthrough, RoutesTo::PrimaryFallthrough, false).await;
    let stats = router.pool_stats();
    let ft = stats.pool(PoolRole::Fallthrough, &name(primary.port)).unwrap();
    assert_eq!(ft.checkouts, n as u64);
    assert_eq!(stats.fallbacks.none_configured, n as u64);
    assert!(!ft.pgbouncer);
    assert_eq!(ft.read_only_reasserts, 0, "direct connections need no re-assert");
}

pub async fn fallthrough_after_reset_and_discard_matches_tsv(ctx: Arc<Ctx>) {
    let primary = ctx.cluster.primary();
    let mut c = config(primary.port, &[]);
    c.ro_pool_max = 1;
    let router = router(c).await;
    check_all(&router, Context::Fallthrough, RoutesTo::PrimaryFallthrough, true).await;
    let ft = router.pool_stats().pool(PoolRole::Fallthrough, &name(primary.port)).unwrap().clone();
    // The startup parameter survived RESET ALL and DISCARD ALL on its own: no re-assert, no
    // extra round trip.
    assert_eq!(ft.read_only_reasserts, 0);
}

pub async fn guard_switched_off_is_reasserted_at_next_checkout(ctx: Arc<Ctx>) {
    let primary = ctx.cluster.primary();
    let mut c = config(primary.port, &[]);
    c.ro_pool_max = 1;
    let router = router(c).await;
    let switches = [
        "SET default_transaction_read_only = off",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
    ];
    for (i, switch) in switches.iter().enumerate() {
        let conn = router.get_db_ro().await.unwrap();
        let pid = common::backend_pid(&conn).await;
        conn.batch_execute(switch).await.unwrap();
        // Within the same checkout the switch holds: that is what ro-audit reports.
        assert_eq!(show(&conn, "default_transaction_read_only").await, "off");
        drop(conn);
        let conn = router.get_db_ro().await.unwrap();
        assert_eq!(common::backend_pid(&conn).await, pid, "same pooled connection");
        assert_eq!(show(&conn, "default_transaction_read_only").await, "on", "after {switch}");
        assert_eq!(outcome(conn.batch_execute("INSERT INTO t VALUES (7, 'x')").await), "25006");
        let reasserts =
            router.pool_stats().pool(PoolRole::Fallthrough, &name(primary.port)).unwrap().read_only_reasserts;
        assert_eq!(reasserts, i as u64 + 1, "one re-assert per switched-off session");
    }
    // A checkout of an untouched session costs nothing.
    drop(router.get_db_ro().await.unwrap());
    let reasserts =
        router.pool_stats().pool(PoolRole::Fallthrough, &name(primary.port)).unwrap().read_only_reasserts;
    assert_eq!(reasserts, switches.len() as u64);
}

pub async fn pgbouncer_matches_tsv_after_reset_and_discard(ctx: Arc<Ctx>) {
    let bouncer = ctx.cluster.pgbouncer_port();
    let mut c = config(bouncer, &[]);
    c.pgbouncer = true;
    c.ro_pool_max = 1;
    let router = router(c).await;
    let n = check_all(&router, Context::Fallthrough, RoutesTo::PrimaryFallthrough, true).await;
    let ft = router.pool_stats().pool(PoolRole::Fallthrough, &name(bouncer)).unwrap().clone();
    assert!(ft.pgbouncer);
    // Behind pgBouncer the statement timeout comes with SET at connect, and stays.
    let conn = router.get_db_ro().await.unwrap();
    assert_eq!(show(&conn, "statement_timeout").await, "30s");
    assert_eq!(show(&conn, "default_transaction_read_only").await, "on");
    drop(conn);
    // Every checkout of a pooled connection re-asserted the guard (two per row: after RESET
    // ALL and after DISCARD ALL).
    assert_eq!(ft.read_only_reasserts, 2 * n as u64);
}

pub async fn pgbouncer_is_detected_from_its_refusal(ctx: Arc<Ctx>) {
    let bouncer = ctx.cluster.pgbouncer_port();
    let mut c = config(bouncer, &[]);
    c.pgbouncer = false;
    c.ro_pool_max = 1;
    let router = router(c).await;
    check_all(&router, Context::Fallthrough, RoutesTo::PrimaryFallthrough, true).await;
    let stats = router.pool_stats();
    assert!(stats.pool(PoolRole::Fallthrough, &name(bouncer)).unwrap().pgbouncer);
    assert!(stats.pool(PoolRole::Primary, &name(bouncer)).unwrap().pgbouncer);
    assert!(ctx.logs.text().contains("refused startup parameters"));
}

pub async fn standby_matches_tsv(ctx: Arc<Ctx>) {
    let primary = ctx.cluster.primary();
    let replica = ctx.cluster.replica(0);
    let mut c = config(primary.port, &[replica.port]);
    c.fallback = false;
    let router = router(c).await;
    let n = check_all(&router, Context::Standby, RoutesTo::Replica, false).await;
    assert_eq!(common::checkouts(&router, PoolRole::Replica, replica.port), n as u64);
    assert_eq!(router.pool_stats().fallbacks.total(), 0);
}
