//! The spill policy against a real primary and replica: with every replica connection checked
//! out, a read waits for one (`after`, within `DB_RO_SPILL_WAIT_MS`), goes to the primary
//! (`immediate`, or `after` once the wait is over), or waits and fails (`never`) — and spills
//! are counted by reason. Connections are held on purpose, so that "every connection checked
//! out" is a fact of the test, not a matter of timing.

use std::{sync::Arc, time::Duration};

use ro_router::{CheckoutFailureKind, DbRouter, PoolRole, RouterError, RoutesTo, SpillPolicy};

use crate::{
    common::{checkouts, config, router},
    support::{harness::Ctx, name, wait_until},
};

/// Spill counts as (busy, wait_timed_out, waited_for_replica).
fn spills(router: &DbRouter) -> (u64, u64, u64) {
    let s = router.pool_stats().spills;
    (s.busy, s.wait_timed_out, s.waited_for_replica)
}

/// `clients` tasks doing `each` reads of ~5 ms of server time; returns reads per route.
async fn load(router: &DbRouter, clients: usize, each: usize) -> (usize, usize) {
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let router = router.clone();
            tokio::spawn(async move {
                let mut on_primary = 0;
                for _ in 0..each {
                    let conn = router.get_db_ro().await.expect("read");
                    conn.simple_query("SELECT pg_sleep(0.005)").await.expect("query");
                    on_primary += usize::from(conn.routes_to() == RoutesTo::PrimaryFallthrough);
                }
                on_primary
            })
        })
        .collect();
    let mut on_primary = 0;
    for t in tasks {
        on_primary += t.await.unwrap();
    }
    (clients * each - on_primary, on_primary)
}

pub async fn after_waits_for_a_replica_then_spills(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (primary, r1) = (cluster.primary(), cluster.replica(0));
    let mut c = config(primary.port, &[r1.port]);
    c.ro_pool_max = 2;
    c.spill_wait = Duration::from_secs(120); // generous: reads wait rather than spill
    assert_eq!(c.spill, SpillPolicy::After, "the default");
    let router = router(c.clone()).await;

    // Clients > pool size: every read waits its turn on the replica, none reaches the primary.
    let (on_replica, on_primary) = load(&router, 8, 10).await;
    assert_eq!((on_replica, on_primary), (80, 0));
    let stats = router.pool_stats();
    assert_eq!(stats.fallbacks.total(), 0);
    assert_eq!((stats.spills.busy, stats.spills.wait_timed_out), (0, 0));
    assert!(stats.spills.waited_for_replica > 0, "8 clients on 2 connections must have waited: {stats:?}");
    assert_eq!(checkouts(&router, PoolRole::Fallthrough, primary.port), 0);

    // A waiting read is served by the replica connection given back.
    let held = (router.get_db_ro().await.unwrap(), router.get_db_ro().await.unwrap());
    let waiting = {
        let router = router.clone();
        tokio::spawn(async move { router.get_db_ro().await.map(|c| c.routes_to()) })
    };
    let before = spills(&router).2;
    let replica_pool = || router.pool_stats().pool(PoolRole::Replica, &name(r1.port)).map(|p| p.waiting);
    wait_until("the third read waits for the replica", || async { replica_pool() == Some(1) }).await;
    drop(held.0);
    assert_eq!(waiting.await.unwrap().unwrap(), RoutesTo::Replica);
    assert_eq!(spills(&router).2, before + 1);
    drop(held.1);

    // A short wait ends on the primary, counted as a spill after waiting.
    c.spill_wait = Duration::from_millis(20);
    let router = crate::common::router(c).await;
    let _held = (router.get_db_ro().await.unwrap(), router.get_db_ro().await.unwrap());
    let spilled = router.get_db_ro().await.unwrap();
    assert_eq!(spilled.routes_to(), RoutesTo::PrimaryFallthrough);
    assert_eq!(spills(&router), (0, 1, 0));
    assert_eq!(router.pool_stats().fallbacks.exhausted, 1);
    let metrics = router.render_metrics();
    for line in [
        "ro_router_spills_total{reason=\"busy\"} 0",
        "ro_router_spills_total{reason=\"wait_timed_out\"} 1",
        "ro_router_replica_waits_total 0",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    let health: serde_json::Value = serde_json::from_str(&router.health().to_json()).unwrap();
    assert_eq!(health["spill"]["policy"], "after");
    assert_eq!(health["spill"]["wait_ms"], 20);
    assert_eq!(health["spill"]["wait_timed_out"], 1);
}

pub async fn immediate_spills_at_once(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (primary, r1) = (cluster.primary(), cluster.replica(0));
    let mut c = config(primary.port, &[r1.port]);
    c.ro_pool_max = 2;
    c.spill = SpillPolicy::Immediate;
    let router = router(c).await;
    let held = (router.get_db_ro().await.unwrap(), router.get_db_ro().await.unwrap());
    assert_eq!((held.0.routes_to(), held.1.routes_to()), (RoutesTo::Replica, RoutesTo::Replica));
    let spilled = router.get_db_ro().await.unwrap();
    assert_eq!(spilled.routes_to(), RoutesTo::PrimaryFallthrough);
    assert_eq!(spills(&router), (1, 0, 0));
    assert_eq!(router.pool_stats().fallbacks.exhausted, 1);
    // Every read that comes while both are held goes to the primary at once.
    let burst: Vec<_> = (0..6)
        .map(|_| {
            let router = router.clone();
            tokio::spawn(async move { router.get_db_ro().await.map(|c| c.routes_to()) })
        })
        .collect();
    for read in burst {
        assert_eq!(read.await.unwrap().unwrap(), RoutesTo::PrimaryFallthrough);
    }
    let stats = router.pool_stats();
    assert_eq!((stats.spills.busy, stats.fallbacks.exhausted, stats.spills.waited_for_replica), (7, 7, 0));
    drop((held, spilled));
}

pub async fn never_waits_then_fails_clearly(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (primary, r1) = (cluster.primary(), cluster.replica(0));
    let mut c = config(primary.port, &[r1.port]);
    c.ro_pool_max = 1;
    c.spill = SpillPolicy::Never;
    let router = router(c).await;
    let held = router.get_db_ro().await.unwrap();
    let err = router.get_db_ro().await.unwrap_err();
    match &err {
        RouterError::ReplicaExhausted { target, failure } => {
            assert_eq!(target, &name(r1.port));
            assert_eq!(failure.kind(), CheckoutFailureKind::PoolExhausted);
        }
        other => panic!("expected ReplicaExhausted, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("all 1 connections of the replica pool stayed busy for 500 ms"), "{text}");
    assert!(text.contains("DB_RO_SPILL=never keeps reads off the primary"), "{text}");
    assert_eq!(spills(&router), (0, 0, 0));
    assert_eq!(router.pool_stats().fallbacks.total(), 0);
    drop(held);
    assert_eq!(router.get_db_ro().await.unwrap().routes_to(), RoutesTo::Replica);

    // A replica that is down is not a spill: with fallback on, reads go to the primary
    // (reason `unhealthy`) whatever the spill policy.
    cluster.stop_server(&r1).await;
    router.refresh_health().await;
    let conn = router.get_db_ro().await.unwrap();
    assert_eq!(conn.routes_to(), RoutesTo::PrimaryFallthrough);
    let stats = router.pool_stats();
    assert_eq!((stats.fallbacks.unhealthy, stats.fallbacks.total()), (1, 1));
    assert_eq!(spills(&router), (0, 0, 0));
}
