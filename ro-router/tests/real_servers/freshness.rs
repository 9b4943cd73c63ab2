//! Freshness with the lag sampler's defaults, under load (8 readers through `get_db_ro()`):
//!
//! * replay paused on a replica: no read is more than `DB_MAX_REPLICATION_LAG_MS` + 500 ms
//!   behind, measured from heartbeat rows the test writes every 20–50 ms with its own clock
//!   and reads back on the same clock (not from the router's figures);
//! * a replica hung by SIGSTOP: no read (retries included) takes longer than one connect
//!   timeout plus a 1 s scheduling margin;
//! * a promoted replica: no read starting later than one sampling interval plus a 500 ms
//!   margin after the promotion (seen by a watcher polling the server) is served by it; and,
//!   with the sampler slowed to 10 s, none later than 500 ms (its connections report
//!   `in_hot_standby = off`).
//!
//! Those bounds are what the freshness issue asks for, so they are asserted; the margins
//! absorb scheduling on a loaded 2-core machine. Each test prints its measured figures.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use ro_router::{BanReason, DbRouter, DbUrl, ReplicaStatus, RouterConfig};
use tokio::task::JoinHandle;
use tokio_postgres::SimpleQueryMessage;

use crate::{
    common::{read, router},
    support::{harness::Ctx, name, url, wait_until},
};

const READERS: usize = 8;
/// Guards one read against a hang; never a timing assertion.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// Every default, on these servers (no periodic stats log line).
fn defaults(primary: u16, replicas: &[u16]) -> RouterConfig {
    let mut c = RouterConfig::new(DbUrl::parse(&url(primary)).unwrap())
        .with_replicas(replicas.iter().map(|&p| DbUrl::parse(&url(p)).unwrap()));
    c.stats_log_interval = None;
    c
}

fn now_us() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_micros() as i64
}

fn first_value(messages: &[SimpleQueryMessage]) -> Option<String> {
    messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
        _ => None,
    })
}

/// Reader tasks; aborted when dropped, so a failed test leaves none running.
struct Readers<T>(Vec<JoinHandle<Vec<T>>>);

impl<T> Drop for Readers<T> {
    fn drop(&mut self) {
        self.0.iter().for_each(JoinHandle::abort);
    }
}

/// Runs `READERS` tasks calling `one` until `stop`.
fn readers<T, F, Fut>(router: &DbRouter, stop: &Arc<AtomicBool>, one: F) -> Readers<T>
where
    T: Send + 'static,
    F: Fn(DbRouter) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = T> + Send,
{
    Readers(
        (0..READERS)
            .map(|_| {
                let (router, stop, one) = (router.clone(), stop.clone(), one.clone());
                tokio::spawn(async move {
                    let mut out = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let got = tokio::time::timeout(HANG_GUARD, one(router.clone())).await;
                        out.push(got.expect("a read hung"));
                    }
                    out
                })
            })
            .collect(),
    )
}

async fn gather<T>(mut readers: Readers<T>) -> Vec<T> {
    let mut all = Vec::new();
    for t in std::mem::take(&mut readers.0) {
        all.extend(t.await.expect("reader task"));
    }
    all
}

/// Sets the flag when dropped: background loops of a failed test stop too.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

pub async fn paused_replay_serves_no_read_past_the_limit(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (primary, r1, r2) = (cluster.primary(), cluster.replica(0), cluster.replica(1));
    cluster
        .sql(
            &primary,
            "CREATE TABLE IF NOT EXISTS heartbeat (id int PRIMARY KEY, at_us bigint NOT NULL); \
             INSERT INTO heartbeat VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
        )
        .await;
    let config = defaults(primary.port, &[r1.port, r2.port]);
    let limit_us = config.max_replication_lag.as_micros() as i64;
    let router = router(config).await;

    let stop = Arc::new(AtomicBool::new(false));
    let _stop_writer = StopOnDrop(stop.clone());
    let writer = {
        let (stop, client) = (stop.clone(), cluster.connect(&primary).await);
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                client.execute("UPDATE heartbeat SET at_us = $1 WHERE id = 1", &[&now_us()]).await.unwrap();
                n += 1;
                tokio::time::sleep(Duration::from_millis(20 + (n * 7) % 31)).await;
            }
        })
    };
    // Every server holds a heartbeat before the first read.
    tokio::time::sleep(Duration::from_millis(200)).await;
    cluster.wait_replayed(&r1).await;
    cluster.wait_replayed(&r2).await;
    let tasks = readers(&router, &stop, |router: DbRouter| async move {
        let conn = router.get_db_ro().await.map_err(|e| e.to_string())?;
        let rows = conn.simple_query("SELECT at_us FROM heartbeat WHERE id = 1").await;
        let arrived = now_us();
        let at: i64 =
            first_value(&rows.map_err(|e| e.to_string())?).and_then(|v| v.parse().ok()).expect("at_us");
        Ok::<_, String>((conn.target().to_string(), arrived - at, Instant::now()))
    });

    tokio::time::sleep(Duration::from_secs(1)).await;
    cluster.pause_replay(&r1).await;
    let paused = Instant::now();
    tokio::time::sleep(Duration::from_secs(6)).await;
    // Not vacuous: the replica itself is far behind the limit.
    let direct = cluster.connect(&r1).await;
    let at: i64 = direct.query_one("SELECT at_us FROM heartbeat WHERE id = 1", &[]).await.unwrap().get(0);
    let replica_behind_us = now_us() - at;
    assert!(replica_behind_us > 4 * limit_us, "replay was paused: r1 is {replica_behind_us} µs behind");
    let report = router.health();
    let h = report.replica(&name(r1.port)).unwrap();
    assert_eq!((h.status, h.in_rotation), (ReplicaStatus::Lagging, false), "{h:?}");
    assert!(h.lag_bytes.unwrap() > 0 && h.lag_ms.unwrap() > 1000, "{h:?}");
    let resumed = Instant::now();
    cluster.resume_replay(&r1).await;
    cluster.wait_replayed(&r1).await;
    wait_until("r1 back in rotation", || async {
        router.health().replica(&name(r1.port)).unwrap().in_rotation
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    let reads = gather(tasks).await;

    let failures: Vec<&String> = reads.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failures.is_empty(), "reads failed: {failures:?}");
    let ok: Vec<&(String, i64, Instant)> = reads.iter().filter_map(|r| r.as_ref().ok()).collect();
    let worst = ok.iter().map(|r| r.1).max().unwrap();
    let on_r1 = |from: Instant, to: Instant| {
        ok.iter().filter(|r| r.0 == name(r1.port) && r.2 >= from && r.2 <= to).count()
    };
    let worst_r1 = ok.iter().filter(|r| r.0 == name(r1.port)).map(|r| r.1).max().unwrap_or(0);
    eprintln!(
        "freshness: {} reads, worst staleness {} ms (r1: {} ms; limit {} ms); r1 served {} reads while \
         paused, {} after resuming; replica itself was {} ms behind",
        ok.len(),
        worst / 1000,
        worst_r1 / 1000,
        limit_us / 1000,
        on_r1(paused, resumed),
        on_r1(resumed, Instant::now()),
        replica_behind_us / 1000
    );
    assert!(worst <= limit_us + 500_000, "a read was {worst} µs behind (limit {limit_us} µs + 500 ms)");
    assert!(on_r1(resumed, Instant::now()) > 0, "r1 came back and served reads");
}

pub async fn hung_replica_stalls_no_read_past_one_timeout(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (r1, r2) = (cluster.replica(0), cluster.replica(1));
    let mut config = defaults(cluster.primary().port, &[r1.port, r2.port]);
    config.connect_timeout = Duration::from_secs(2);
    let margin = Duration::from_secs(1);
    let bound = config.connect_timeout + margin;
    let router = router(config).await;

    let stop = Arc::new(AtomicBool::new(false));
    let tasks = readers(&router, &stop, |router: DbRouter| async move {
        let start = Instant::now();
        let mut failed = 0u32;
        let target = loop {
            match read(&router).await {
                Ok(target) => break target,
                Err(_) => failed += 1,
            }
        };
        (start.elapsed(), failed, target, Instant::now())
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    {
        let _frozen = cluster.freeze(&r1);
        // Not vacuous: the server is hung.
        let attempt = tokio::time::timeout(
            Duration::from_millis(500),
            tokio_postgres::connect(&r1.url(), tokio_postgres::NoTls),
        )
        .await;
        assert!(
            attempt.is_err(),
            "a frozen server cannot finish a handshake: {:?}",
            attempt.map(|r| r.map(|_| ()))
        );
        wait_until("r1 banned for a timeout", || async {
            router.health().replica(&name(r1.port)).unwrap().ban.as_ref().map(|b| b.reason)
                == Some(BanReason::Timeout)
        })
        .await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let h = router.health();
        let r = h.replica(&name(r1.port)).unwrap();
        assert!(!r.in_rotation, "{r:?}");
    }
    wait_until("r1 back in rotation", || async {
        router.health().replica(&name(r1.port)).unwrap().in_rotation
    })
    .await;
    let back = Instant::now();
    cluster.sql(&cluster.primary(), "INSERT INTO ticks DEFAULT VALUES").await;
    cluster.wait_replayed(&r1).await; // thawed, it streams and replays again
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let reads = gather(tasks).await;

    let worst = reads.iter().map(|r| r.0).max().unwrap();
    let failed: u32 = reads.iter().map(|r| r.1).sum();
    let r1_after = reads.iter().filter(|r| r.2 == name(r1.port) && r.3 > back).count();
    eprintln!(
        "failover: {} reads, worst stall {} ms (bound {} ms = connect timeout + {} ms margin), {} failed \
         attempts retried",
        reads.len(),
        worst.as_millis(),
        bound.as_millis(),
        margin.as_millis(),
        failed
    );
    assert!(worst <= bound, "a read stalled {worst:?} (bound {bound:?})");
    assert!(r1_after > 0, "r1 serves again once its ban ended and it answers");
    let metrics = router.render_metrics();
    let banned = format!("ro_router_replica_bans_total{{reason=\"timeout\",target=\"{}\"}}", name(r1.port));
    assert!(metrics.contains(&banned), "{metrics}");
}

pub async fn promoted_replica_serves_no_read_after_a_sample(ctx: Arc<Ctx>) {
    promotion_under_load(ctx, "sampling window", |config| {
        config.lag_sample_interval.expect("the sampler is on by default") + Duration::from_millis(500)
    })
    .await;
}

/// With the sampler all but off (10 s), the promoted server's own `in_hot_standby = off`
/// reports (PostgreSQL ≥ 14, to every session at its next answer) take it out at once.
pub async fn promoted_replica_leaves_at_once_from_its_wire(ctx: Arc<Ctx>) {
    promotion_under_load(ctx, "500 ms (the sampler runs every 10 s)", |config| {
        config.lag_sample_interval = Some(Duration::from_secs(10));
        // Else the staleness bound, growing between samples, would take it out by itself.
        config.max_replication_lag = Duration::from_secs(60);
        // The ban outlasts the test (no sample renews it); the status alone keeps it out.
        (config.replica_ban, config.replica_ban_max) = (Duration::from_secs(30), Duration::from_secs(30));
        Duration::from_millis(500)
    })
    .await;
}

/// Promotes a replica under 8 readers; asserts that no read starting more than `window` (set
/// by `tune`, which may change the config) after the promotion is served by it, and that it is
/// out of rotation, banned as promoted.
async fn promotion_under_load(ctx: Arc<Ctx>, what: &str, tune: impl FnOnce(&mut RouterConfig) -> Duration) {
    let cluster = &ctx.cluster;
    let r1 = cluster.replica(0);
    let r3 = cluster.add_replica().await;
    cluster.wait_replayed(&r3).await;
    let mut config = defaults(cluster.primary().port, &[r3.port, r1.port]);
    let window = tune(&mut config);
    let router = router(config).await;

    let stop = Arc::new(AtomicBool::new(false));
    let tasks = readers(&router, &stop, |router: DbRouter| async move {
        let started = Instant::now();
        let conn = router.get_db_ro().await.map_err(|e| e.to_string())?;
        let rows = conn.simple_query("SELECT pg_is_in_recovery()::text").await.map_err(|e| e.to_string())?;
        Ok::<_, String>((started, conn.target().to_string(), first_value(&rows).as_deref() == Some("true")))
    });
    tokio::time::sleep(Duration::from_secs(1)).await;

    // When the server left recovery, as seen from outside the router.
    let watcher = {
        let c = cluster.connect(&r3).await;
        tokio::spawn(async move {
            loop {
                let row = c.query_one("SELECT pg_is_in_recovery()", &[]).await;
                if row.map(|r| !r.get::<_, bool>(0)).unwrap_or(true) {
                    return Instant::now();
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    cluster.promote(&r3).await;
    let promoted = tokio::time::timeout(HANG_GUARD, watcher).await.expect("watcher").unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let reads = gather(tasks).await;

    let r3_name = name(r3.port);
    let ok: Vec<&(Instant, String, bool)> = reads.iter().filter_map(|r| r.as_ref().ok()).collect();
    let diverging: Vec<_> = ok.iter().filter(|r| r.1 == r3_name && !r.2).collect();
    let late = diverging.iter().filter(|r| r.0 > promoted + window).count();
    let last_ms = diverging.iter().map(|r| r.0.saturating_duration_since(promoted).as_millis()).max();
    let failed = reads.iter().filter(|r| r.is_err()).count();
    eprintln!(
        "promotion ({what}): {} reads, {} served by the promoted replica (out of recovery), the last \
         starting {:?} ms after the promotion, {} of them more than {} ms after; {} reads failed on \
         severed connections",
        ok.len(),
        diverging.len(),
        last_ms,
        late,
        window.as_millis(),
        failed
    );
    assert!(ok.iter().any(|r| r.1 == r3_name && r.2), "r3 served reads before its promotion");
    assert_eq!(late, 0, "reads served by the promoted replica after the {what}");
    let report = router.health();
    let h = report.replica(&r3_name).unwrap();
    assert_eq!((h.status, h.in_rotation), (ReplicaStatus::NotInRecovery, false), "{h:?}");
    assert_eq!(h.ban.as_ref().map(|b| b.reason), Some(BanReason::Promoted), "{h:?}");
    router.close();
    cluster.remove_replica(&r3).await;
}

pub async fn byte_limit_takes_a_replica_out_and_is_reported(ctx: Arc<Ctx>) {
    const LIMIT: u64 = 64 * 1024;
    let cluster = &ctx.cluster;
    let (primary, r1, r2) = (cluster.primary(), cluster.replica(0), cluster.replica(1));
    let mut config = defaults(primary.port, &[r1.port, r2.port]);
    // Only the byte limit can take r1 out here.
    config.max_replication_lag = Duration::from_millis(86_400_000);
    // Large enough that r2, replaying normally behind a writer on a loaded machine, stays
    // within it; r1 with replay paused passes it within seconds.
    config.max_replication_lag_bytes = Some(LIMIT);
    let router = router(config).await;
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_writer = StopOnDrop(stop.clone());
    let writer = {
        let (stop, client) = (stop.clone(), cluster.connect(&primary).await);
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                client.execute("INSERT INTO ticks DEFAULT VALUES", &[]).await.unwrap();
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };

    let r1_name = name(r1.port);
    // A replica behind every primary sample has no known bound (and is out): start from one
    // that has replayed a sampled position.
    wait_until("r1 sampled fresh", || async {
        router.health().replica(&r1_name).unwrap().staleness_bound_ms.is_some()
    })
    .await;
    cluster.pause_replay(&r1).await;
    wait_until("r1 past the byte limit", || async {
        router.health().replica(&r1_name).unwrap().lag_bytes.is_some_and(|b| b > LIMIT)
    })
    .await;
    let report = router.health();
    let h = report.replica(&r1_name).unwrap();
    assert_eq!((h.status, h.in_rotation), (ReplicaStatus::Lagging, false), "{h:?}");
    assert_eq!(h.ban.as_ref().map(|b| b.reason), Some(BanReason::Lag), "{h:?}");
    assert!(h.replay_lsn.as_deref().is_some_and(|l| l.contains('/')), "{h:?}");
    assert_eq!((report.max_replication_lag_bytes, report.lag_sample_interval_ms), (Some(LIMIT), Some(250)));
    let json = report.to_json();
    assert!(json.contains("\"reason\":\"lag\"") && json.contains("\"staleness_bound_ms\""), "{json}");
    let metrics = router.render_metrics();
    for expected in [
        format!("ro_router_replica_banned{{reason=\"lag\",target=\"{r1_name}\"}} 1"),
        format!("ro_router_replica_bans_total{{reason=\"lag\",target=\"{r1_name}\"}}"),
        format!("ro_router_lag_samples_total{{outcome=\"ok\",target=\"{r1_name}\"}}"),
        format!("ro_router_replica_staleness_bound_seconds{{target=\"{r1_name}\"}}"),
        format!("ro_router_replica_lag_bytes{{target=\"{r1_name}\"}}"),
    ] {
        assert!(metrics.contains(&expected), "{expected} missing from:\n{metrics}");
    }
    let (by_target, failures) = crate::common::reads(&router, 6).await;
    assert!(failures.is_empty(), "{failures:?}");
    // Never on r1; r2 (or, if r2 happened to be behind too, the fallthrough) serves them.
    assert_eq!(by_target.get(&r1_name), None, "{by_target:?}");
    assert_eq!(by_target.values().sum::<usize>(), 6, "{by_target:?}");

    cluster.resume_replay(&r1).await;
    wait_until("r1 back in rotation", || async { router.health().replica(&r1_name).unwrap().in_rotation })
        .await;
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
}
