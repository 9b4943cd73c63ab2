//! Real faults: replicas stopped, cut off, silently partitioned, lagging, promoted; all
//! replicas down; the primary down; a standby behind the primary URL. Each test asserts
//! counts (retries, fallbacks by reason, failed reads) and errors, and the recovery.
//!
//! Nothing here asserts how long anything took; a generous deadline only guards against a
//! hang.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use ro_router::{
    CheckoutFailureKind, DbRouter, PoolRole, PrimaryStatus, ReplicaStatus, RouterError, RoutesTo,
};

use crate::{
    common::{checkouts, config, outcome, read, reads, retries, router},
    support::{assert_no_password, harness::Ctx, name, proxy::TcpProxy, wait_until},
};

/// Generous guard against a hang; never a timing assertion.
const HANG_GUARD: Duration = Duration::from_secs(60);

fn replica_status(router: &DbRouter, port: u16) -> (ReplicaStatus, bool) {
    let h = router.health();
    let r = h.replica(&name(port)).expect("replica in the report");
    (r.status, r.in_rotation)
}

async fn wait_status(router: &DbRouter, port: u16, status: ReplicaStatus) {
    wait_until(&format!("{} is {status:?}", name(port)), || async move {
        replica_status(router, port).0 == status
    })
    .await;
}

pub async fn replica_stopped_checkout_is_retried_then_recovers(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (r1, r2) = (cluster.replica(0), cluster.replica(1));
    let router = router(config(cluster.primary().port, &[r1.port, r2.port])).await;
    // Both pools hold idle connections.
    let (warm, failures) = reads(&router, 4).await;
    assert!(failures.is_empty() && warm.len() == 2, "{warm:?} {failures:?}");

    cluster.stop_server(&r1).await;
    // No health check runs in between (interval: 1 h): the router learns at checkout.
    let (by_target, failures) = reads(&router, 10).await;
    assert!(failures.is_empty(), "reads failed: {failures:?}");
    assert_eq!(by_target.get(&name(r2.port)), Some(&10), "{by_target:?}");
    assert_eq!(retries(&router, r1.port), 1, "exactly one checkout hit the dead pool and was retried");
    assert_eq!(retries(&router, r2.port), 0);
    let stats = router.pool_stats();
    assert_eq!(stats.fallbacks.total(), 0);
    assert_eq!(stats.pool(PoolRole::Replica, &name(r1.port)).unwrap().checkout_failures, 1);
    assert_eq!(stats.pool(PoolRole::Replica, &name(r1.port)).unwrap().routes_to, RoutesTo::Disabled);
    assert_eq!(replica_status(&router, r1.port), (ReplicaStatus::CheckoutFailed, false));

    // Recovery: the health check brings it back.
    cluster.start_server(&r1).await;
    router.refresh_health().await;
    assert_eq!(replica_status(&router, r1.port), (ReplicaStatus::Healthy, true));
    let before = checkouts(&router, PoolRole::Replica, r1.port);
    let (by_target, failures) = reads(&router, 4).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(by_target.get(&name(r1.port)), Some(&2), "{by_target:?}");
    assert_eq!(checkouts(&router, PoolRole::Replica, r1.port), before + 2);
    assert_eq!(retries(&router, r1.port), 1);
}

pub async fn replica_network_cut_checkout_is_retried(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (r1, r2) = (cluster.replica(0), cluster.replica(1));
    let proxy = TcpProxy::start(r1.port).await;
    let router = router(config(cluster.primary().port, &[proxy.port, r2.port])).await;
    let held = router.get_db_ro().await.unwrap();
    assert_eq!(held.target(), name(proxy.port), "round robin starts with the first replica");
    held.simple_query("SELECT 1").await.unwrap();

    proxy.cut().await;
    // The connection in use errors (closed), it does not hang.
    let err = tokio::time::timeout(HANG_GUARD, held.simple_query("SELECT 1"))
        .await
        .expect("a query on a cut connection must not hang")
        .expect_err("the network is cut");
    assert!(err.is_closed() || err.to_string().contains("connection"), "{err}");
    drop(held);

    let (by_target, failures) = reads(&router, 10).await;
    assert!(failures.is_empty(), "reads failed: {failures:?}");
    assert_eq!(by_target.get(&name(r2.port)), Some(&10), "{by_target:?}");
    assert_eq!(retries(&router, proxy.port), 1);
    assert_eq!(router.pool_stats().fallbacks.total(), 0);
    assert_eq!(replica_status(&router, proxy.port), (ReplicaStatus::CheckoutFailed, false));

    proxy.restore();
    router.refresh_health().await;
    assert_eq!(replica_status(&router, proxy.port), (ReplicaStatus::Healthy, true));
    let (by_target, _) = reads(&router, 4).await;
    assert_eq!(by_target.get(&name(proxy.port)), Some(&2), "{by_target:?}");
}

pub async fn replica_silent_partition_errors_instead_of_hanging(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (r1, r2) = (cluster.replica(0), cluster.replica(1));
    let proxy = TcpProxy::start(r1.port).await;
    let mut c = config(cluster.primary().port, &[proxy.port, r2.port]);
    c.health_check_interval = Duration::from_millis(200);
    c.health_check_timeout = Duration::from_millis(500);
    let router = router(c).await;
    let held = router.get_db_ro().await.unwrap();
    assert_eq!(held.target(), name(proxy.port));
    held.simple_query("SELECT 1").await.unwrap();

    proxy.partition();
    // TCP stays up and every byte is dropped: neither the statement timeout (the server never
    // sees the query) nor keepalives (the proxy's kernel answers) can end this query. The
    // health task's probe times out and severs the replica's connections.
    let result = tokio::time::timeout(HANG_GUARD, held.simple_query("SELECT 1"))
        .await
        .expect("a query on a silently partitioned connection must not hang");
    let err = result.expect_err("nothing can answer through the partition");
    assert!(err.is_closed(), "the connection was severed: {err}");
    drop(held);

    wait_status(&router, proxy.port, ReplicaStatus::Unreachable).await;
    let report = router.health();
    let r = report.replica(&name(proxy.port)).unwrap();
    assert!(!r.in_rotation);
    assert!(r.last_error.as_deref().unwrap_or("").contains("DB_HEALTH_CHECK_TIMEOUT_MS"), "{r:?}");
    let stats = router.pool_stats();
    assert!(stats.pool(PoolRole::Replica, &name(proxy.port)).unwrap().severed_connections >= 1);

    // Reads reroute: none fails, none waits on the partition, none falls through.
    let (by_target, failures) = reads(&router, 10).await;
    assert!(failures.is_empty(), "reads failed: {failures:?}");
    assert_eq!(by_target.get(&name(r2.port)), Some(&10), "{by_target:?}");
    let stats = router.pool_stats();
    assert_eq!(stats.fallbacks.total(), 0);
    assert_eq!(retries(&router, proxy.port), 0, "it was out of rotation, never tried");

    // Recovery, found by the background task.
    proxy.restore();
    wait_status(&router, proxy.port, ReplicaStatus::Healthy).await;
    let (by_target, failures) = reads(&router, 4).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert!(by_target.get(&name(proxy.port)).copied().unwrap_or(0) >= 1, "{by_target:?}");
}

pub async fn replica_silent_partition_new_connection_times_out_and_retries(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (r1, r2) = (cluster.replica(0), cluster.replica(1));
    let proxy = TcpProxy::start(r1.port).await;
    let mut c = config(cluster.primary().port, &[proxy.port, r2.port]);
    c.connect_timeout = Duration::from_millis(800);
    c.health_check_timeout = Duration::from_millis(800);
    let router = router(c).await;
    assert_eq!(replica_status(&router, proxy.port), (ReplicaStatus::Healthy, true));

    proxy.partition();
    // The proxy pool is empty: the first checkout that picks it opens a connection whose
    // handshake never completes; the connect timeout ends it and the read goes to r2.
    let (by_target, failures) = tokio::time::timeout(HANG_GUARD, reads(&router, 6))
        .await
        .expect("checkouts must not hang on a partition");
    assert!(failures.is_empty(), "reads failed: {failures:?}");
    assert_eq!(by_target.get(&name(r2.port)), Some(&6), "{by_target:?}");
    assert_eq!(retries(&router, proxy.port), 1);
    let report = router.health();
    let r = report.replica(&name(proxy.port)).unwrap();
    assert_eq!((r.status, r.in_rotation), (ReplicaStatus::CheckoutFailed, false));
    assert!(r.last_error.as_deref().unwrap_or("").contains("DB_CONNECT_TIMEOUT_MS"), "{r:?}");

    router.refresh_health().await;
    assert_eq!(replica_status(&router, proxy.port), (ReplicaStatus::Unreachable, false));
    proxy.restore();
    router.refresh_health().await;
    assert_eq!(replica_status(&router, proxy.port), (ReplicaStatus::Healthy, true));
    assert_eq!(router.pool_stats().fallbacks.total(), 0);
}

/// The lag limit of [`replay_paused_past_lag_limit_leaves_rotation`].
const LAG_LIMIT_MS: u64 = 3000;

pub async fn replay_paused_past_lag_limit_leaves_rotation(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (r1, r2) = (cluster.replica(0), cluster.replica(1));
    let mut c = config(cluster.primary().port, &[r1.port, r2.port]);
    c.health_check_interval = Duration::from_millis(200);
    // Well above what a healthy replica lags on a loaded 2-core machine (a trickle of writes
    // every 20 ms; the whole test suite running beside): only the paused one crosses it.
    c.max_replication_lag = Duration::from_millis(LAG_LIMIT_MS);
    let router = router(c).await;

    // A steady trickle of writes on the primary.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, primary) = (stop.clone(), cluster.connect(&cluster.primary()).await);
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                primary.execute("INSERT INTO ticks DEFAULT VALUES", &[]).await.unwrap();
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    cluster.pause_replay(&r1).await;
    wait_status(&router, r1.port, ReplicaStatus::Lagging).await;
    let report = router.health();
    let lagging = report.replica(&name(r1.port)).unwrap().clone();
    assert!(!lagging.in_rotation);
    assert!(lagging.lag_bytes.unwrap() > 0, "{lagging:?}");
    assert!(lagging.lag_ms.unwrap() > LAG_LIMIT_MS, "{lagging:?}");
    // The replica still replaying stays in rotation. Its lag is an upper bound from the
    // samples: on a loaded machine a late sample can lift it past the limit for a moment (the
    // full CI run once saw it `Lagging` right then); it must come back by itself.
    wait_status(&router, r2.port, ReplicaStatus::Healthy).await;
    assert_eq!(replica_status(&router, r2.port), (ReplicaStatus::Healthy, true));
    let metrics = router.render_metrics();
    let gauge = format!("ro_router_replica_healthy{{status=\"lagging\",target=\"{}\"}} 0", name(r1.port));
    assert!(metrics.contains(&gauge), "{metrics}");

    let (by_target, failures) = reads(&router, 10).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(by_target.get(&name(r2.port)), Some(&10), "{by_target:?}");
    assert_eq!(router.pool_stats().fallbacks.total(), 0);

    // Both lagging: reads fall through, counted as `lagging`.
    cluster.pause_replay(&r2).await;
    wait_status(&router, r2.port, ReplicaStatus::Lagging).await;
    for _ in 0..5 {
        let conn = router.get_db_ro().await.unwrap();
        assert_eq!(conn.routes_to(), RoutesTo::PrimaryFallthrough);
        assert_eq!(outcome(conn.batch_execute("INSERT INTO ticks DEFAULT VALUES").await), "25006");
    }
    let stats = router.pool_stats();
    assert_eq!(stats.fallbacks.lagging, 5);
    assert_eq!(stats.fallbacks.total(), 5);

    // Replay resumed: both come back and serve again.
    cluster.resume_replay(&r1).await;
    cluster.resume_replay(&r2).await;
    wait_status(&router, r1.port, ReplicaStatus::Healthy).await;
    wait_status(&router, r2.port, ReplicaStatus::Healthy).await;
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    let (by_target, failures) = reads(&router, 10).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(by_target.len(), 2, "{by_target:?}");
    assert_eq!(router.pool_stats().fallbacks.total(), 5);
}

pub async fn promoted_replica_leaves_rotation(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let r1 = cluster.replica(0);
    let r3 = cluster.add_replica().await;
    cluster.wait_replayed(&r3).await;
    let router = router(config(cluster.primary().port, &[r3.port, r1.port])).await;
    let held = router.get_db_ro().await.unwrap();
    assert_eq!(held.target(), name(r3.port));

    cluster.promote(&r3).await;
    // A session opened before the promotion keeps its read-only default: still no writes.
    wait_until("r3 left recovery", || async {
        let c = cluster.connect(&r3).await;
        !c.query_one("SELECT pg_is_in_recovery()", &[]).await.unwrap().get::<_, bool>(0)
    })
    .await;
    assert_eq!(outcome(held.batch_execute("INSERT INTO ticks DEFAULT VALUES").await), "25006");
    drop(held);

    router.refresh_health().await;
    assert_eq!(replica_status(&router, r3.port), (ReplicaStatus::NotInRecovery, false));
    let stats = router.pool_stats();
    let p = stats.pool(PoolRole::Replica, &name(r3.port)).unwrap();
    assert_eq!((p.routes_to, p.size), (RoutesTo::Disabled, 0), "out of rotation, idle connections dropped");
    let (by_target, failures) = reads(&router, 6).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(by_target.get(&name(r1.port)), Some(&6), "{by_target:?}");
    assert_eq!((stats.fallbacks.total(), stats.retries), (0, 0));

    // Recovery: r3 made a replica again, on the same port.
    cluster.rebuild_replica(&r3).await;
    router.refresh_health().await;
    assert_eq!(replica_status(&router, r3.port), (ReplicaStatus::Healthy, true));
    let (by_target, _) = reads(&router, 4).await;
    assert_eq!(by_target.get(&name(r3.port)), Some(&2), "{by_target:?}");
    cluster.remove_replica(&r3).await;
}

pub async fn all_replicas_down_with_fallback(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (r1, r2) = (cluster.replica(0), cluster.replica(1));
    let router = router(config(cluster.primary().port, &[r1.port, r2.port])).await;
    cluster.stop_server(&r1).await;
    cluster.stop_server(&r2).await;
    router.refresh_health().await;
    assert_eq!(replica_status(&router, r1.port), (ReplicaStatus::Unreachable, false));
    assert_eq!(replica_status(&router, r2.port), (ReplicaStatus::Unreachable, false));
    let report = router.health();
    assert_eq!(report.reads_route_to, RoutesTo::PrimaryFallthrough);
    assert_eq!(report.status, ro_router::OverallStatus::Degraded);

    for _ in 0..5 {
        let conn = router.get_db_ro().await.expect("reads fall through");
        assert_eq!(conn.routes_to(), RoutesTo::PrimaryFallthrough);
        assert_eq!(outcome(conn.batch_execute("INSERT INTO ticks DEFAULT VALUES").await), "25006");
        conn.simple_query("SELECT 1").await.unwrap();
    }
    let stats = router.pool_stats();
    assert_eq!(stats.fallbacks.unhealthy, 5);
    assert_eq!(stats.fallbacks.total(), 5);
    assert_eq!(stats.retries, 0);

    cluster.start_server(&r1).await;
    cluster.start_server(&r2).await;
    router.refresh_health().await;
    let (by_target, failures) = reads(&router, 4).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(by_target.len(), 2, "{by_target:?}");
    assert_eq!(router.pool_stats().fallbacks.total(), 5);
}

pub async fn all_replicas_down_without_fallback(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (r1, r2) = (cluster.replica(0), cluster.replica(1));
    let mut c = config(cluster.primary().port, &[r1.port, r2.port]);
    c.fallback = false;
    let router = router(c).await;
    cluster.stop_server(&r1).await;
    cluster.stop_server(&r2).await;

    // Before any health check notices: both are tried, both fail, the error lists both.
    let err = router.get_db_ro().await.unwrap_err();
    let RouterError::ReadOnlyUnavailable { unusable } = &err else { panic!("{err:?}") };
    assert_eq!(unusable.len(), 2, "{unusable:?}");
    assert!(unusable.iter().all(|u| u.reason.contains("could not connect")), "{unusable:?}");
    assert!(err.to_string().contains("DB_READ_REPLICA_FALLBACK=false"), "{err}");
    assert_no_password("the error", &format!("{err} {err:?}"));
    assert_eq!(
        retries(&router, r1.port) + retries(&router, r2.port),
        1,
        "the first failure was retried on the other"
    );

    // After the health check: no attempt at all, the reasons say why.
    router.refresh_health().await;
    for _ in 0..3 {
        match router.get_db_ro().await {
            Err(RouterError::ReadOnlyUnavailable { unusable }) => {
                assert_eq!(unusable.len(), 2);
                assert!(unusable.iter().all(|u| u.reason == "out of rotation (unreachable)"), "{unusable:?}");
            }
            other => panic!("expected ReadOnlyUnavailable, got {other:?}"),
        }
    }
    let stats = router.pool_stats();
    assert_eq!(stats.fallbacks.total(), 0);
    assert_eq!(checkouts(&router, PoolRole::Fallthrough, cluster.primary().port), 0);
    assert_eq!(retries(&router, r1.port) + retries(&router, r2.port), 1);
    assert_eq!(router.health().reads_route_to, RoutesTo::Disabled);

    cluster.start_server(&r1).await;
    cluster.start_server(&r2).await;
    router.refresh_health().await;
    let (by_target, failures) = reads(&router, 4).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(by_target.len(), 2, "{by_target:?}");
}

pub async fn primary_down_reads_continue_writes_fail_clearly(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let primary = cluster.primary();
    let (r1, r2) = (cluster.replica(0), cluster.replica(1));
    let router = router(config(primary.port, &[r1.port, r2.port])).await;
    assert!(read(&router).await.is_ok());

    cluster.stop_server(&primary).await;
    router.refresh_health().await;
    let report = router.health();
    assert_eq!(report.primary.status, PrimaryStatus::Unreachable);
    assert_eq!(report.status, ro_router::OverallStatus::Degraded);
    for r in &report.replicas {
        // Lag cannot be measured without the primary: reachable standbys stay in rotation.
        assert_eq!((r.status, r.in_rotation, r.lag_bytes), (ReplicaStatus::Healthy, true, None), "{r:?}");
    }
    let (by_target, failures) = reads(&router, 10).await;
    assert!(failures.is_empty(), "reads failed during the primary outage: {failures:?}");
    assert_eq!(by_target.len(), 2, "{by_target:?}");
    assert_eq!(router.pool_stats().fallbacks.total(), 0);

    let err = router.get_db().await.unwrap_err();
    let RouterError::PrimaryUnavailable { target, failure } = &err else { panic!("{err:?}") };
    assert_eq!(target, &name(primary.port));
    assert_eq!(failure.kind(), CheckoutFailureKind::Connect);
    let shown = err.to_string();
    assert!(
        shown.starts_with(&format!("no primary connection from {}: could not connect", name(primary.port))),
        "{shown}"
    );
    assert_no_password("the error", &format!("{shown} {err:?}"));
    assert_eq!(
        router.pool_stats().pool(PoolRole::Primary, &name(primary.port)).unwrap().checkout_failures,
        1
    );

    cluster.start_server(&primary).await;
    let mut db = router.get_db().await.expect("the primary is back");
    db.transaction().await.unwrap().commit().await.unwrap();
    router.refresh_health().await;
    assert_eq!(router.health().primary.status, PrimaryStatus::Healthy);
}

pub async fn standby_as_primary_is_refused(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let primary = cluster.primary();
    let r1 = cluster.replica(0);
    // The primary URL points at a proxy, like a virtual IP that a failover moves.
    let vip = TcpProxy::start(primary.port).await;
    let router = router(config(vip.port, &[r1.port])).await;
    drop(router.get_db().await.expect("the real primary"));
    assert_eq!(router.pool_stats().pool(PoolRole::Primary, &name(vip.port)).unwrap().size, 1);

    vip.retarget(r1.port);
    // Checked when a connection is made: a new connection lands on a standby and is refused.
    let held = router.get_db().await.expect("the idle connection still goes to the primary");
    let err = router.get_db().await.unwrap_err();
    assert_eq!(err.failure().map(|f| f.kind()), Some(CheckoutFailureKind::NotAPrimary), "{err}");
    assert!(err.to_string().contains("DB_PRIMARY_URL"), "{err}");
    drop(held);

    // Checked by the health task: it finds a standby, drops the pool's connections, and
    // get_db() refuses without trying.
    router.refresh_health().await;
    assert_eq!(router.health().primary.status, PrimaryStatus::InRecovery);
    assert_eq!(router.pool_stats().pool(PoolRole::Primary, &name(vip.port)).unwrap().size, 0);
    let err = router.get_db().await.unwrap_err();
    assert_eq!(err.failure().map(|f| f.kind()), Some(CheckoutFailureKind::NotAPrimary));
    assert_eq!(router.pool_stats().pool(PoolRole::Primary, &name(vip.port)).unwrap().checkout_failures, 2);

    vip.retarget(primary.port);
    router.refresh_health().await;
    assert_eq!(router.health().primary.status, PrimaryStatus::Healthy);
    let db = router.get_db().await.expect("a primary again");
    db.execute("INSERT INTO ticks DEFAULT VALUES", &[]).await.unwrap();
}
