//! ro-router benchmark (`bench/router/run`, or `cargo bench -p ro-router --bench router`).
//!
//! On a real PostgreSQL 15 primary + 2 streaming replicas + pgBouncer started for the run
//! (the test suite's cluster support):
//!
//! 1. latency of `get_db_ro()` + `SELECT 1` against a bare deadpool-postgres checkout +
//!    `SELECT 1` on the same server — fallthrough to the primary, a replica, and pgBouncer
//!    (where the router re-sends its settings at every checkout: one round trip; and with
//!    the guard as the only setting, where the wire proves the release);
//!    interleaved rounds, median of the round means, printed as ratios;
//! 2. reads per second through `get_db_ro()` with 0, 1 and 2 replicas at a fixed concurrency;
//! 3. the spill curve: 8 to 128 clients on one replica with `DB_RO_POOL_MAX=16`, reads per
//!    second and the share of reads served by the primary, for each spill policy.
//!
//! Every figure comes from this one run. `--quick` shortens it.
//!
//! `--loop router|bare N [fallthrough] [--current-thread]` runs only N checkouts + `SELECT 1` on
//! a replica (after a warm-up; with `fallthrough`, the router with no replica and the bare pool
//! on the primary; with `--current-thread`, on a one-thread runtime, whose counts repeat),
//! between the lines `READY <pid>` and `DONE` with a second's pause around the loop: attach
//! `perf stat -e instructions:u -p <pid>` (or `perf record`), or run it under
//! `valgrind --tool=callgrind` at two values of N, to count the client's own work per
//! checkout, stable on a loaded machine where µs are not.

#[path = "../../ro-router/tests/support/mod.rs"]
mod support;

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use deadpool_postgres::{Manager, Pool};
use ro_router::{DbRouter, DbUrl, RouterConfig, RoutesTo, SpillPolicy};
use support::{cluster::Cluster, url};

const CONCURRENCY: usize = 32;

struct Plan {
    rounds: usize,
    per_round: usize,
    throughput_for: Duration,
}

fn bare_pool(port: u16) -> Pool {
    let config: tokio_postgres::Config = url(port).parse().expect("url");
    Pool::builder(Manager::new(config, tokio_postgres::NoTls)).max_size(16).build().expect("pool")
}

async fn router(primary: u16, replicas: &[u16], pgbouncer: bool, pool_max: usize) -> DbRouter {
    router_with(primary, replicas, pgbouncer, pool_max, |_| {}).await
}

/// A router with the bench's settings, then `tweak`.
async fn router_with(
    primary: u16,
    replicas: &[u16],
    pgbouncer: bool,
    pool_max: usize,
    tweak: impl FnOnce(&mut RouterConfig),
) -> DbRouter {
    let mut c = RouterConfig::new(DbUrl::parse(&url(primary)).unwrap());
    c.replicas = replicas.iter().map(|&p| DbUrl::parse(&url(p)).unwrap()).collect();
    c.pgbouncer = pgbouncer;
    c.ro_pool_max = pool_max;
    c.stats_log_interval = None;
    c.health_check_interval = Duration::from_secs(3600);
    tweak(&mut c);
    DbRouter::new(c).await.expect("router")
}

async fn bare_loop(pool: &Pool, n: usize) -> Duration {
    let t = Instant::now();
    for _ in 0..n {
        let c = pool.get().await.expect("bare checkout");
        c.simple_query("SELECT 1").await.expect("SELECT 1");
    }
    t.elapsed()
}

async fn router_loop(router: &DbRouter, n: usize) -> Duration {
    let t = Instant::now();
    for _ in 0..n {
        let c = router.get_db_ro().await.expect("get_db_ro");
        c.simple_query("SELECT 1").await.expect("SELECT 1");
    }
    t.elapsed()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Interleaved rounds of both loops; returns the median µs per operation of each.
async fn compare(pool: &Pool, router: &DbRouter, plan: &Plan) -> (f64, f64) {
    bare_loop(pool, 200).await;
    router_loop(router, 200).await;
    let (mut bare, mut routed) = (Vec::new(), Vec::new());
    for round in 0..plan.rounds {
        let per = |d: Duration| d.as_secs_f64() * 1e6 / plan.per_round as f64;
        if round % 2 == 0 {
            bare.push(per(bare_loop(pool, plan.per_round).await));
            routed.push(per(router_loop(router, plan.per_round).await));
        } else {
            routed.push(per(router_loop(router, plan.per_round).await));
            bare.push(per(bare_loop(pool, plan.per_round).await));
        }
    }
    (median(bare), median(routed))
}

/// `clients` readers for `for_` (after a warm-up), each pausing `think` between reads: reads
/// per second, and the share of the reads served by the primary.
async fn throughput(
    router: &DbRouter,
    sql: &'static str,
    clients: usize,
    think: Option<Duration>,
    for_: Duration,
) -> (f64, f64) {
    let done = Arc::new(AtomicU64::new(0));
    let on_primary = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (router, done, on_primary, stop) =
                (router.clone(), done.clone(), on_primary.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let c = router.get_db_ro().await.expect("get_db_ro");
                    c.simple_query(sql).await.expect("read");
                    done.fetch_add(1, Ordering::Relaxed);
                    if c.routes_to() == RoutesTo::PrimaryFallthrough {
                        on_primary.fetch_add(1, Ordering::Relaxed);
                    }
                    drop(c);
                    if let Some(think) = think {
                        tokio::time::sleep(think).await;
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await; // warm-up
    let (start, start_primary) = (done.load(Ordering::Relaxed), on_primary.load(Ordering::Relaxed));
    let t = Instant::now();
    tokio::time::sleep(for_).await;
    let n = done.load(Ordering::Relaxed) - start;
    let n_primary = on_primary.load(Ordering::Relaxed) - start_primary;
    let secs = t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("reader");
    }
    (n as f64 / secs, n_primary as f64 / n.max(1) as f64)
}

/// `--loop router|bare N` (see the module docs).
fn loop_only(runtime: &tokio::runtime::Runtime, which: &str, n: usize, fallthrough: bool) {
    runtime.block_on(async {
        let cluster = Cluster::start(1, false).await;
        let (primary, replica) = (cluster.primary().port, cluster.replica(0).port);
        let (server, replicas) = if fallthrough { (primary, vec![]) } else { (replica, vec![replica]) };
        let pool = bare_pool(server);
        let router = router(primary, &replicas, false, 16).await;
        bare_loop(&pool, 500).await;
        router_loop(&router, 500).await;
        println!("READY {}", std::process::id());
        tokio::time::sleep(Duration::from_secs(1)).await;
        let took = match which {
            "bare" => bare_loop(&pool, n).await,
            _ => router_loop(&router, n).await,
        };
        println!("DONE {which} {n} {:.1} µs/op", took.as_secs_f64() * 1e6 / n as f64);
        tokio::time::sleep(Duration::from_secs(1)).await;
        router.close();
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--loop") {
        let which = args.get(i + 1).map_or("router", String::as_str);
        let n = args.get(i + 2).and_then(|n| n.parse().ok()).unwrap_or(20_000);
        let fallthrough = args.iter().any(|a| a == "fallthrough");
        // One thread: no wake-ups across worker threads, so instruction counts repeat.
        let mut builder = if args.iter().any(|a| a == "--current-thread") {
            tokio::runtime::Builder::new_current_thread()
        } else {
            tokio::runtime::Builder::new_multi_thread()
        };
        let runtime = builder.enable_all().build().expect("runtime");
        return loop_only(&runtime, which, n, fallthrough);
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let plan = if quick {
        Plan { rounds: 5, per_round: 1000, throughput_for: Duration::from_secs(1) }
    } else {
        Plan { rounds: 9, per_round: 4000, throughput_for: Duration::from_secs(3) }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        eprintln!("starting PostgreSQL 15: primary + 2 replicas + pgBouncer ...");
        let cluster = Cluster::start(2, true).await;
        let primary = cluster.primary().port;
        let (r1, r2) = (cluster.replica(0).port, cluster.replica(1).port);
        let bouncer = cluster.pgbouncer_port();
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        println!("ro-router benchmark ({cores} cores; client, servers and pgBouncer share them)\n");

        println!(
            "1. one client, checkout + SELECT 1, median of {} interleaved rounds x {} ops",
            plan.rounds, plan.per_round
        );
        println!("   {:<44} {:>10} {:>10} {:>7}", "", "bare µs", "router µs", "ratio");
        // (label, primary, replicas, pgBouncer mode, guard only)
        let cases: [(&str, u16, Vec<u16>, bool, bool); 4] = [
            ("get_db_ro() fallthrough to the primary", primary, vec![], false, false),
            ("get_db_ro() on a replica", primary, vec![r1], false, false),
            ("get_db_ro() through pgBouncer (pgbouncer mode)", bouncer, vec![], true, false),
            ("  the same, DB_STATEMENT_TIMEOUT_MS=0", bouncer, vec![], true, true),
        ];
        let mut ratios = Vec::new();
        for (label, primary_port, replicas, pgbouncer, guard_only) in cases {
            let server = replicas.first().copied().unwrap_or(primary_port);
            let pool = bare_pool(server);
            // Guard only: `DB_STATEMENT_TIMEOUT_MS=0` and no URL options (proven from the wire
            // behind pgBouncer too).
            let router = router_with(primary_port, &replicas, pgbouncer, 16, |c| {
                if guard_only {
                    c.statement_timeout = None;
                }
            })
            .await;
            let (bare, routed) = compare(&pool, &router, &plan).await;
            let ratio = routed / bare;
            println!("   {label:<44} {bare:>10.1} {routed:>10.1} {ratio:>7.3}");
            let stats = router.pool_stats();
            let sum = |f: fn(&ro_router::PoolStats) -> u64| stats.pools.iter().map(f).sum::<u64>();
            println!(
                "   {:<44} releases proven from the wire {}, by a round trip {}; connections {}",
                "",
                sum(|p| p.proofs_observed),
                sum(|p| p.proofs_round_trip),
                stats.pools.iter().map(|p| p.size).sum::<usize>()
            );
            ratios.push(ratio);
            router.close();
        }
        let direct = ratios[0].max(ratios[1]);
        println!(
            "\n   direct overhead (worst of fallthrough/replica): {:.3}  target <= 1.05: {}",
            direct,
            if direct <= 1.05 { "met" } else { "NOT met" }
        );
        println!(
            "   pgBouncer mode: {:.3} (the settings re-sent at every checkout: one extra round trip); \
             with the guard as the only setting: {:.3} (proven from the wire)",
            ratios[2], ratios[3]
        );

        println!(
            "\n2. reads per second through get_db_ro(), {CONCURRENCY} concurrent clients, {:?} each",
            plan.throughput_for
        );
        println!("   {:<36} {:>12} {:>12} {:>12}", "query", "0 replicas", "1 replica", "2 replicas");
        for (label, sql) in [
            ("SELECT 1", "SELECT 1"),
            (
                "SELECT count(*) FROM generate_series(1, 20000)",
                "SELECT count(*) FROM generate_series(1, 20000)",
            ),
        ] {
            let mut row = Vec::new();
            for replicas in [vec![], vec![r1], vec![r1, r2]] {
                let router = router(primary, &replicas, false, CONCURRENCY).await;
                row.push(throughput(&router, sql, CONCURRENCY, None, plan.throughput_for).await.0);
                router.close();
            }
            println!(
                "   {label:<36} {:>12.0} {:>12.0} {:>12.0}   (x{:.2}, x{:.2} of 0 replicas)",
                row[0],
                row[1],
                row[2],
                row[1] / row[0],
                row[2] / row[0]
            );
        }

        println!(
            "\n3. spill curve: get_db_ro() on 1 replica, DB_RO_POOL_MAX=16, {:?} each: reads/s and the \
             share of reads on the primary",
            plan.throughput_for
        );
        let policies = [SpillPolicy::After, SpillPolicy::Immediate, SpillPolicy::Never];
        let workloads: [(&str, &'static str, Option<Duration>); 2] = [
            ("SELECT 1, back to back", "SELECT 1", None),
            (
                "SELECT pg_sleep(0.001), then 1 ms without a connection",
                "SELECT pg_sleep(0.001)",
                Some(Duration::from_millis(1)),
            ),
        ];
        for (label, sql, think) in workloads {
            println!("   {label}");
            print!("   {:>8}", "clients");
            for p in policies {
                print!(
                    "   {:>22}",
                    format!("{p}{}", if p == SpillPolicy::default() { " (default)" } else { "" })
                );
            }
            println!();
            for clients in [8, 16, 32, 64, 128] {
                print!("   {clients:>8}");
                for policy in policies {
                    let router = router_with(primary, &[r1], false, 16, |c| c.spill = policy).await;
                    let (rate, share) = throughput(&router, sql, clients, think, plan.throughput_for).await;
                    print!("   {rate:>12.0} {:>8.1} %", share * 100.0);
                    router.close();
                }
                println!();
            }
        }
        drop(cluster);
    });
}
