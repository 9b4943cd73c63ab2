//! The read-only guarantee at every checkout, tried as an attacker and as a careless user
//! through the public API only: a previous user of the pooled connection plays a trick (leaves
//! a read-write transaction open, switches the guard off, leaves the protocol out of step, …)
//! and drops the connection; the next `get_db_ro()` must get a clean, read-only session in
//! step: its INSERT refused, its `SELECT n` answering n.
//!
//! One pooled connection (`DB_RO_POOL_MAX=1`), so every checkout reuses the tricked one. Tries
//! per trick: `RO_ROUTER_TRICK_TRIES`, or the defaults below (what keeps the suite short on
//! the project's 2-core machine with a debug build); printed with the results.
//!
//! The release of a connection is proven clean either from what its wire showed or with a
//! verification round trip (`pool_stats()`: `proofs_observed`, `proofs_round_trip`): the
//! tests also count which path each tricked release took — never the wire alone when the
//! trick left something behind — and that ordinary checkouts do take the wire path.

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use ro_router::{DbRouter, PoolRole, ReadOnlyConnection};

use crate::{
    common::{config, poll_once, router},
    support::{harness::Ctx, name},
};

/// Tries per trick on a direct connection when `RO_ROUTER_TRICK_TRIES` is not set.
const DIRECT_TRIES: usize = 1000;
/// Through pgBouncer, where a refused COPY costs pgBouncer ~0.25 s to settle.
const PGBOUNCER_TRIES: usize = 50;

fn tries(default: usize) -> usize {
    std::env::var("RO_ROUTER_TRICK_TRIES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

type TrickFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// A previous user's trick, played on a checkout that is then dropped. Errors are part of
/// the trick (a refused COPY is the point), so they are ignored.
struct Trick {
    name: &'static str,
    play: for<'a> fn(&'a ReadOnlyConnection) -> TrickFuture<'a>,
    /// The trick leaves the session clean and in step: its release may be proven from the
    /// wire alone. Every other trick's release must take the round trip.
    leaves_clean: bool,
}

const fn trick(name: &'static str, play: for<'a> fn(&'a ReadOnlyConnection) -> TrickFuture<'a>) -> Trick {
    Trick { name, play, leaves_clean: false }
}

async fn sql(conn: &ReadOnlyConnection, sql: &str) {
    let _ = conn.batch_execute(sql).await;
}

/// A refused `COPY … FROM STDIN` through the copy protocol (extended query).
async fn refused_copy_in(conn: &ReadOnlyConnection) {
    if let Ok(sink) = conn.copy_in::<_, &'static [u8]>("COPY guard_probe FROM STDIN").await {
        let mut sink = std::pin::pin!(sink);
        let _ = sink.send(&b"1\n"[..]).await;
        let _ = sink.as_mut().finish().await;
    }
}

/// Sends a statement and drops the future before its answer arrives: the request is queued
/// in the driver (or already on the wire) when the connection goes back to the pool.
async fn in_flight(conn: &ReadOnlyConnection, sql: &str) {
    poll_once(conn.batch_execute(sql)).await;
}

/// The same through the extended protocol: a prepared statement's Bind/Execute/Sync queued,
/// then dropped.
async fn in_flight_extended(conn: &ReadOnlyConnection, sql: &str) {
    if let Ok(statement) = conn.prepare(sql).await {
        poll_once(conn.execute(&statement, &[])).await;
    }
}

/// Starts a statement and gives up after 2 ms: it is still running on the server when the
/// connection goes back to the pool.
async fn running(conn: &ReadOnlyConnection, sql: &str) {
    let _ = tokio::time::timeout(Duration::from_millis(2), conn.batch_execute(sql)).await;
}

/// Prepared statements kept past their connection's release.
static KEPT: Mutex<Vec<tokio_postgres::Statement>> = Mutex::new(Vec::new());

/// Prepares a statement and keeps it; a task drops it (its Close goes to the connection)
/// while the connection is released and handed to the next user.
async fn statement_dropped_after_release(conn: &ReadOnlyConnection) {
    if let Ok(statement) = conn.prepare("SELECT $1::int").await {
        KEPT.lock().unwrap().push(statement);
        tokio::spawn(async {
            tokio::task::yield_now().await;
            let kept = std::mem::take(&mut *KEPT.lock().unwrap());
            drop(kept);
        });
    }
}

/// A `COPY … TO STDOUT` whose stream is dropped after its first row.
async fn abandoned_copy_out(conn: &ReadOnlyConnection) {
    if let Ok(stream) = conn.copy_out("COPY (SELECT generate_series(1, 10000)) TO STDOUT").await {
        let mut stream = std::pin::pin!(stream);
        let _ = stream.next().await;
    }
}

const TRICKS: &[Trick] = &[
    trick("BEGIN READ WRITE left open", |c| Box::pin(sql(c, "BEGIN READ WRITE"))),
    trick("BEGIN; SET TRANSACTION READ WRITE left open", |c| {
        Box::pin(sql(c, "BEGIN; SET TRANSACTION READ WRITE"))
    }),
    trick("BEGIN left aborted", |c| Box::pin(sql(c, "BEGIN READ WRITE; SELECT 1/0"))),
    trick("SET default_transaction_read_only = off", |c| {
        Box::pin(sql(c, "SET default_transaction_read_only = off"))
    }),
    trick("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", |c| {
        Box::pin(sql(c, "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE"))
    }),
    trick("RESET ALL; SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", |c| {
        Box::pin(sql(c, "RESET ALL; SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE"))
    }),
    trick("set_config('default_transaction_read_only', 'off', false)", |c| {
        Box::pin(sql(c, "SELECT set_config('default_transaction_read_only', 'off', false)"))
    }),
    trick("SET off, then RESET ALL and DISCARD ALL, then SET off again", |c| {
        Box::pin(async move {
            sql(c, "SET default_transaction_read_only = off; RESET ALL").await;
            sql(c, "DISCARD ALL").await;
            sql(c, "RESET default_transaction_read_only; SET default_transaction_read_only = off").await;
        })
    }),
    trick("refused COPY FROM STDIN, then reuse", |c| Box::pin(refused_copy_in(c))),
    // One implicit transaction, read-only from its start: the COPY is refused and the SET
    // rolled back with it, so the session is left clean.
    Trick {
        name: "guard off, then COPY FROM STDIN in a simple query, abandoned",
        play: |c| Box::pin(sql(c, "SET default_transaction_read_only = off; COPY guard_probe FROM STDIN")),
        leaves_clean: true,
    },
    trick("COPY TO STDOUT abandoned after its first row", |c| Box::pin(abandoned_copy_out(c))),
    trick("SET off still in flight when dropped", |c| {
        Box::pin(in_flight(c, "SET default_transaction_read_only = off"))
    }),
    trick("BEGIN READ WRITE still in flight when dropped", |c| Box::pin(in_flight(c, "BEGIN READ WRITE"))),
    trick("SET SESSION CHARACTERISTICS … READ WRITE in flight when dropped", |c| {
        Box::pin(in_flight(c, "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE"))
    }),
    trick("set_config off (extended protocol) in flight when dropped", |c| {
        Box::pin(in_flight_extended(c, "SELECT set_config('default_transaction_read_only', 'off', false)"))
    }),
    trick("SET off, then pg_sleep still running when dropped", |c| {
        Box::pin(running(c, "SET default_transaction_read_only = off; SELECT pg_sleep(0.01)"))
    }),
    Trick {
        name: "a prepared statement dropped after the release",
        play: |c| Box::pin(statement_dropped_after_release(c)),
        leaves_clean: true,
    },
];

/// What reverts the guard behind pgBouncer, where it is a session `SET` (directly it is a
/// startup option, which `RESET ALL` and `DISCARD ALL` keep), inside and outside
/// transactions; and what switches it off only for a transaction that then ends.
const PGBOUNCER_TRICKS: &[Trick] = &[
    trick("RESET ALL", |c| Box::pin(sql(c, "RESET ALL"))),
    trick("DISCARD ALL", |c| Box::pin(sql(c, "DISCARD ALL"))),
    trick("RESET default_transaction_read_only", |c| Box::pin(sql(c, "RESET default_transaction_read_only"))),
    trick("BEGIN; SET default_transaction_read_only = off; COMMIT", |c| {
        Box::pin(sql(c, "BEGIN; SET default_transaction_read_only = off; COMMIT"))
    }),
    trick("BEGIN; RESET ALL; COMMIT", |c| Box::pin(sql(c, "BEGIN; RESET ALL; COMMIT"))),
    trick("BEGIN; RESET ALL (own statement), left open", |c| {
        Box::pin(async move {
            sql(c, "BEGIN").await;
            sql(c, "RESET ALL").await;
        })
    }),
    trick("RESET ALL, then SET … = on in a transaction rolled back", |c| {
        Box::pin(async move {
            sql(c, "RESET ALL").await;
            sql(c, "BEGIN; SET default_transaction_read_only = on; ROLLBACK").await;
        })
    }),
    // One simple query is one transaction: the ROLLBACK undoes the RESET ALL before it too.
    Trick {
        name: "RESET ALL; BEGIN; SET … = on; ROLLBACK (one query)",
        play: |c| Box::pin(sql(c, "RESET ALL; BEGIN; SET default_transaction_read_only = on; ROLLBACK")),
        leaves_clean: true,
    },
    Trick {
        name: "BEGIN; RESET ALL (own statement); ROLLBACK",
        play: |c| {
            Box::pin(async move {
                sql(c, "BEGIN").await;
                sql(c, "RESET ALL").await;
                sql(c, "ROLLBACK").await;
            })
        },
        leaves_clean: true,
    },
    Trick {
        name: "BEGIN; SET LOCAL default_transaction_read_only = off; COMMIT",
        play: |c| Box::pin(sql(c, "BEGIN; SET LOCAL default_transaction_read_only = off; COMMIT")),
        leaves_clean: true,
    },
];

#[derive(Debug, Default)]
struct Tally {
    tries: usize,
    writes: usize,
    shifted: usize,
    failed_checkouts: Vec<String>,
    /// Tricked releases proven from the wire alone.
    observed: u64,
    leaves_clean: bool,
}

/// The fallthrough pool's proofs so far: (observed, round trip).
fn proofs(router: &DbRouter) -> (u64, u64) {
    let stats = router.pool_stats();
    let ft = stats.pools.iter().find(|p| p.pool == PoolRole::Fallthrough).expect("a fallthrough pool");
    (ft.proofs_observed, ft.proofs_round_trip)
}

/// Plays every trick `n` times on `router`'s fallthrough pool and returns the tallies.
async fn attack(router: &DbRouter, n: usize, tricks: &[Trick]) -> Vec<(&'static str, Tally)> {
    let mut out = Vec::new();
    for trick in tricks {
        let mut tally = Tally { leaves_clean: trick.leaves_clean, ..Tally::default() };
        let started = std::time::Instant::now();
        for i in 0..n {
            let conn = match router.get_db_ro().await {
                Ok(c) => c,
                Err(e) => {
                    tally.failed_checkouts.push(e.to_string());
                    continue;
                }
            };
            (trick.play)(&conn).await;
            // One pooled connection: the next checkout gets it once its release is proven.
            let (before, _) = proofs(router);
            drop(conn);
            let conn = match router.get_db_ro().await {
                Ok(c) => c,
                Err(e) => {
                    tally.failed_checkouts.push(e.to_string());
                    continue;
                }
            };
            tally.observed += proofs(router).0 - before;
            tally.tries += 1;
            let answer = conn.simple_query(&format!("SELECT {i}")).await;
            let got = answer.ok().and_then(|m| {
                m.iter().find_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
                    _ => None,
                })
            });
            if got.as_deref() != Some(i.to_string().as_str()) {
                tally.shifted += 1;
            }
            if conn.batch_execute(&format!("INSERT INTO guard_probe VALUES ({i})")).await.is_ok() {
                tally.writes += 1;
            }
        }
        println!(
            "    {:<66} tries {:>6}  writes {}  shifted {}  failed checkouts {}  from the wire {}  ({:.1}s)",
            trick.name,
            tally.tries,
            tally.writes,
            tally.shifted,
            tally.failed_checkouts.len(),
            tally.observed,
            started.elapsed().as_secs_f64()
        );
        out.push((trick.name, tally));
    }
    out
}

fn assert_held(results: &[(&'static str, Tally)], n: usize) {
    for (name, t) in results {
        assert_eq!(
            t.writes, 0,
            "{name}: {} of {} writes succeeded on a read-only checkout",
            t.writes, t.tries
        );
        assert_eq!(t.shifted, 0, "{name}: {} of {} answers were shifted", t.shifted, t.tries);
        assert!(t.failed_checkouts.is_empty(), "{name}: checkouts failed: {:?}", &t.failed_checkouts[..1]);
        assert_eq!(t.tries, n, "{name}");
        if !t.leaves_clean {
            assert_eq!(t.observed, 0, "{name}: a tricked release was taken as clean from the wire");
        }
    }
}

async fn probe_table(ctx: &Ctx) {
    let primary = ctx.cluster.primary();
    ctx.cluster.sql(&primary, "CREATE TABLE IF NOT EXISTS guard_probe (n int); TRUNCATE guard_probe").await;
}

async fn rows_written(ctx: &Ctx) -> i64 {
    let c = ctx.cluster.connect(&ctx.cluster.primary()).await;
    c.query_one("SELECT count(*) FROM guard_probe", &[]).await.expect("count").get(0)
}

pub async fn tricks_never_reach_the_next_checkout(ctx: Arc<Ctx>) {
    probe_table(&ctx).await;
    let primary = ctx.cluster.primary();
    let mut c = config(primary.port, &[]);
    c.ro_pool_max = 1;
    let router = router(c).await;
    let n = tries(DIRECT_TRIES);
    println!("  direct fallthrough pool, {n} tries per trick:");
    let results = attack(&router, n, TRICKS).await;
    assert_held(&results, n);
    assert_eq!(rows_written(&ctx).await, 0, "rows reached the primary");
    let ft = router.pool_stats().pool(PoolRole::Fallthrough, &name(primary.port)).unwrap().clone();
    println!("    repairs {}  discarded {}", ft.read_only_reasserts, ft.discarded_connections);
    // Every trick that leaves the session unclean was repaired, not ignored.
    assert!(ft.read_only_reasserts >= n as u64 * 5, "repairs: {}", ft.read_only_reasserts);
    // The untricked releases (the checkout that checks each trick) are proven from the wire.
    let untricked = (n * TRICKS.len()) as u64;
    println!("    proofs from the wire {}  round trips {}", ft.proofs_observed, ft.proofs_round_trip);
    assert!(ft.proofs_observed * 10 >= untricked * 9, "{} of {untricked}", ft.proofs_observed);
}

/// Ordinary checkouts (a `SELECT 1`, a refused INSERT, a one-off prepared statement, a
/// committed read-only transaction)
/// are proven clean from their wire, without a round trip.
pub async fn ordinary_releases_are_proven_from_the_wire(ctx: Arc<Ctx>) {
    probe_table(&ctx).await;
    let primary = ctx.cluster.primary();
    let mut c = config(primary.port, &[]);
    c.ro_pool_max = 1;
    let router = router(c).await;
    let n = 300;
    for i in 0..n {
        let mut conn = router.get_db_ro().await.expect("checkout");
        match i % 4 {
            0 => drop(conn.simple_query("SELECT 1").await.expect("SELECT 1")),
            1 => assert!(conn.batch_execute("INSERT INTO guard_probe VALUES (1)").await.is_err()),
            // The statement is prepared, run and dropped: its Close is still in flight.
            2 => drop(conn.query_one("SELECT $1::int", &[&(i as i32)]).await.expect("a read")),
            _ => {
                let tx = conn.transaction().await.expect("BEGIN");
                tx.query_one("SELECT $1::int", &[&(i as i32)]).await.expect("a read");
                tx.commit().await.expect("COMMIT");
            }
        }
    }
    // The last release is proven before this checkout gets the connection.
    drop(router.get_db_ro().await.expect("checkout"));
    let (observed, round_trips) = proofs(&router);
    println!("    {n} releases: proofs from the wire {observed}  round trips {round_trips}");
    assert!(observed * 10 >= n * 9, "only {observed} of {n} releases were proven from the wire");
    assert_eq!(rows_written(&ctx).await, 0, "rows reached the primary");
}

pub async fn tricks_never_reach_the_next_checkout_through_pgbouncer(ctx: Arc<Ctx>) {
    probe_table(&ctx).await;
    let bouncer = ctx.cluster.pgbouncer_port();
    let mut c = config(bouncer, &[]);
    c.pgbouncer = true;
    c.ro_pool_max = 1;
    let router = router(c).await;
    let n = tries(PGBOUNCER_TRIES);
    println!("  fallthrough pool through pgBouncer (session mode), {n} tries per trick:");
    let results = attack(&router, n, TRICKS).await;
    assert_held(&results, n);
    assert_eq!(rows_written(&ctx).await, 0, "rows reached the primary");
    // Behind pgBouncer the settings are re-sent at every checkout: never the wire alone.
    assert_eq!(proofs(&router).0, 0, "a release through pgBouncer was proven from the wire");
}

/// Behind a session-mode pgBouncer with the guard as the only setting (no statement timeout,
/// no URL options), releases are proven from the wire once each connection showed that the
/// server's reports of the guard reach it: every trick, and those that revert the guard
/// there, still never reach the next checkout, and none of them is taken as clean from the
/// wire unless it left the session clean.
pub async fn guard_only_through_pgbouncer_is_proven_from_the_wire(ctx: Arc<Ctx>) {
    probe_table(&ctx).await;
    let bouncer = ctx.cluster.pgbouncer_port();
    let mut c = config(bouncer, &[]);
    c.pgbouncer = true;
    c.statement_timeout = None;
    c.ro_pool_max = 1;
    let router = router(c).await;
    let n = tries(PGBOUNCER_TRIES);
    println!("  fallthrough pool through pgBouncer (session mode), guard only, {n} tries per trick:");
    let mut results = attack(&router, n, TRICKS).await;
    results.extend(attack(&router, n, PGBOUNCER_TRICKS).await);
    assert_held(&results, n);
    assert_eq!(rows_written(&ctx).await, 0, "rows reached the primary");
    let untricked = (n * results.len()) as u64;
    let (observed, round_trips) = proofs(&router);
    let tricked_observed: u64 = results.iter().map(|(_, t)| t.observed).sum();
    println!("    proofs from the wire {observed} (tricked {tricked_observed})  round trips {round_trips}");
    // The untricked releases (the checkout that checks each trick) are proven from the wire.
    let untricked_observed = observed - tricked_observed;
    assert!(untricked_observed * 10 >= untricked * 8, "{untricked_observed} of {untricked}");
}
