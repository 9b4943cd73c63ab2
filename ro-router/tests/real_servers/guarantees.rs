//! The read-only guarantee at every checkout, tried as an attacker and as a careless user
//! through the public API only: a previous user of the pooled connection plays a trick (leaves
//! a read-write transaction open, switches the guard off, leaves the protocol out of step, …)
//! and drops the connection; the next `get_db_ro()` must get a clean, read-only session in
//! step: its INSERT refused, its `SELECT n` answering n.
//!
//! One pooled connection (`DB_RO_POOL_MAX=1`), so every checkout reuses the tricked one. Tries
//! per trick: `RO_ROUTER_TRICK_TRIES`, or the defaults below (what keeps the suite short on
//! the project's 2-core machine with a debug build); printed with the results.

use std::{future::Future, pin::Pin, sync::Arc};

use futures_util::SinkExt;
use ro_router::{DbRouter, PoolRole, ReadOnlyConnection};

use crate::{
    common::{config, router},
    support::{harness::Ctx, name},
};

/// Tries per trick on a direct connection when `RO_ROUTER_TRICK_TRIES` is not set.
const DIRECT_TRIES: usize = 300;
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

/// Sends a statement and drops the future before its answer arrives: the request is on the
/// wire when the connection goes back to the pool.
async fn in_flight(conn: &ReadOnlyConnection, sql: &str) {
    let mut f = std::pin::pin!(conn.batch_execute(sql));
    std::future::poll_fn(|cx| {
        let _ = f.as_mut().poll(cx);
        std::task::Poll::Ready(())
    })
    .await;
}

const TRICKS: &[Trick] = &[
    Trick { name: "BEGIN READ WRITE left open", play: |c| Box::pin(sql(c, "BEGIN READ WRITE")) },
    Trick {
        name: "BEGIN; SET TRANSACTION READ WRITE left open",
        play: |c| Box::pin(sql(c, "BEGIN; SET TRANSACTION READ WRITE")),
    },
    Trick { name: "BEGIN left aborted", play: |c| Box::pin(sql(c, "BEGIN READ WRITE; SELECT 1/0")) },
    Trick {
        name: "SET default_transaction_read_only = off",
        play: |c| Box::pin(sql(c, "SET default_transaction_read_only = off")),
    },
    Trick {
        name: "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
        play: |c| Box::pin(sql(c, "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")),
    },
    Trick {
        name: "set_config('default_transaction_read_only', 'off', false)",
        play: |c| Box::pin(sql(c, "SELECT set_config('default_transaction_read_only', 'off', false)")),
    },
    Trick {
        name: "SET off, then RESET ALL and DISCARD ALL, then SET off again",
        play: |c| {
            Box::pin(async move {
                sql(c, "SET default_transaction_read_only = off; RESET ALL").await;
                sql(c, "DISCARD ALL").await;
                sql(c, "RESET default_transaction_read_only; SET default_transaction_read_only = off").await;
            })
        },
    },
    Trick { name: "refused COPY FROM STDIN, then reuse", play: |c| Box::pin(refused_copy_in(c)) },
    Trick {
        name: "guard off, then COPY FROM STDIN in a simple query, abandoned",
        play: |c| Box::pin(sql(c, "SET default_transaction_read_only = off; COPY guard_probe FROM STDIN")),
    },
    Trick {
        name: "SET off still in flight when dropped",
        play: |c| Box::pin(in_flight(c, "SET default_transaction_read_only = off")),
    },
    Trick {
        name: "BEGIN READ WRITE still in flight when dropped",
        play: |c| Box::pin(in_flight(c, "BEGIN READ WRITE")),
    },
];

#[derive(Debug, Default)]
struct Tally {
    tries: usize,
    writes: usize,
    shifted: usize,
    failed_checkouts: Vec<String>,
}

/// Plays every trick `n` times on `router`'s fallthrough pool and returns the tallies.
async fn attack(router: &DbRouter, n: usize) -> Vec<(&'static str, Tally)> {
    let mut out = Vec::new();
    for trick in TRICKS {
        let mut tally = Tally::default();
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
            drop(conn);
            let conn = match router.get_db_ro().await {
                Ok(c) => c,
                Err(e) => {
                    tally.failed_checkouts.push(e.to_string());
                    continue;
                }
            };
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
            "    {:<62} tries {:>6}  writes {}  shifted {}  failed checkouts {}  ({:.1}s)",
            trick.name,
            tally.tries,
            tally.writes,
            tally.shifted,
            tally.failed_checkouts.len(),
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
    let results = attack(&router, n).await;
    assert_held(&results, n);
    assert_eq!(rows_written(&ctx).await, 0, "rows reached the primary");
    let ft = router.pool_stats().pool(PoolRole::Fallthrough, &name(primary.port)).unwrap().clone();
    println!("    repairs {}  discarded {}", ft.read_only_reasserts, ft.discarded_connections);
    // Every trick that leaves the session unclean was repaired, not ignored.
    assert!(ft.read_only_reasserts >= n as u64 * 5, "repairs: {}", ft.read_only_reasserts);
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
    let results = attack(&router, n).await;
    assert_held(&results, n);
    assert_eq!(rows_written(&ctx).await, 0, "rows reached the primary");
}
