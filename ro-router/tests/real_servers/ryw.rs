//! Read-your-writes by LSN against a real primary and streaming replica: a write token taken
//! after a write, and `get_db_ro_after` serving the read from a replica only once it has
//! replayed the write — at once, after waiting for replay, or else from the primary.

use std::{sync::Arc, time::Duration};

use ro_router::{DbRouter, RouterError, RoutesTo, WriteToken};

use crate::{
    common::{config, router},
    support::{harness::Ctx, name, wait_until},
};

/// Inserts a tick on the primary; returns its id and the write token taken after it.
async fn write(router: &DbRouter) -> (i64, WriteToken) {
    let conn = router.get_db().await.expect("primary checkout");
    let id: i64 =
        conn.query_one("INSERT INTO ticks DEFAULT VALUES RETURNING id", &[]).await.expect("insert").get(0);
    let token = conn.write_token().await.expect("write token");
    (id, token)
}

/// The same with asynchronous commit: COMMIT returns before its WAL is written out.
async fn write_async_commit(router: &DbRouter) -> (i64, WriteToken) {
    let mut conn = router.get_db().await.expect("primary checkout");
    let tx = conn.transaction().await.expect("begin");
    tx.batch_execute("SET LOCAL synchronous_commit = off").await.expect("async commit");
    let id: i64 =
        tx.query_one("INSERT INTO ticks DEFAULT VALUES RETURNING id", &[]).await.expect("insert").get(0);
    tx.commit().await.expect("commit");
    let token = conn.write_token().await.expect("write token");
    (id, token)
}

/// Whether the tick is visible on this read-only connection.
async fn sees(conn: &ro_router::ReadOnlyConnection, id: i64) -> bool {
    let n: i64 = conn
        .query_one("SELECT count(*) FROM ticks WHERE id = $1", &[&id])
        .await
        .expect("read the tick")
        .get(0);
    n == 1
}

pub async fn read_after_write_falls_through_while_replay_is_paused(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (primary, r1) = (cluster.primary(), cluster.replica(0));
    let router = router(config(primary.port, &[r1.port])).await;
    cluster.pause_replay(&r1).await;
    let (id, token) = write(&router).await;
    assert_eq!(token.to_string().parse::<WriteToken>(), Ok(token), "the token's text parses back");

    // A plain read goes to the replica, which has not replayed the write...
    let plain = router.get_db_ro().await.unwrap();
    assert_eq!(plain.routes_to(), RoutesTo::Replica);
    assert!(!sees(&plain, id).await, "replay is paused: the replica must not have the write yet");
    drop(plain);
    // ... the read after the write goes to the primary and sees it.
    let after = router.get_db_ro_after(&token).await.unwrap();
    assert_eq!(after.routes_to(), RoutesTo::PrimaryFallthrough);
    assert_eq!(after.target(), name(primary.port));
    assert!(sees(&after, id).await);
    drop(after);
    let stats = router.pool_stats();
    assert_eq!(
        (
            stats.read_your_writes.replica_fresh,
            stats.read_your_writes.waited,
            stats.read_your_writes.fell_through
        ),
        (0, 0, 1)
    );
    assert_eq!(stats.fallbacks.behind_write_token, 1);
    assert_eq!(stats.fallbacks.total(), 1);

    // Caught up: the replica serves it, and sees the write.
    cluster.resume_replay(&r1).await;
    cluster.wait_replayed(&r1).await;
    for _ in 0..2 {
        let after = router.get_db_ro_after(&token).await.unwrap();
        assert_eq!(after.routes_to(), RoutesTo::Replica);
        assert!(sees(&after, id).await);
    }
    let stats = router.pool_stats();
    assert_eq!(
        (
            stats.read_your_writes.replica_fresh,
            stats.read_your_writes.waited,
            stats.read_your_writes.fell_through
        ),
        (2, 0, 1)
    );
    let health: serde_json::Value = serde_json::from_str(&router.health().to_json()).unwrap();
    assert_eq!(health["read_your_writes"]["replica_fresh"], 2);
    assert_eq!(health["read_your_writes"]["fell_through"], 1);
    assert_eq!(health["read_your_writes"]["wait_ms"], 50);
    let metrics = router.render_metrics();
    for line in [
        "ro_router_read_your_writes_total{outcome=\"replica_fresh\"} 2",
        "ro_router_read_your_writes_total{outcome=\"waited\"} 0",
        "ro_router_read_your_writes_total{outcome=\"fell_through\"} 1",
        "ro_router_fallbacks_total{reason=\"behind_write_token\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
}

pub async fn read_after_write_waits_for_replay(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (primary, r1) = (cluster.primary(), cluster.replica(0));
    let mut c = config(primary.port, &[r1.port]);
    c.read_your_writes_wait = Duration::from_secs(120); // anti-hang bound, never reached
    let router = router(c).await;
    cluster.pause_replay(&r1).await;
    // The token covers a write committed asynchronously too.
    let (id, token) = write_async_commit(&router).await;
    let read = {
        let router = router.clone();
        tokio::spawn(async move {
            let conn = router.get_db_ro_after(&token).await.expect("read after write");
            let seen = sees(&conn, id).await;
            (conn.routes_to(), seen)
        })
    };
    // The read has asked the replica how far it replayed (and found it behind) ...
    let replica = cluster.connect(&r1).await;
    let replica = &replica;
    wait_until("the read asks the replica for its replay position", || async move {
        let n: i64 = replica
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_last_wal_replay_lsn()::text'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        n > 0
    })
    .await;
    assert!(!read.is_finished(), "replay is paused: the read must still be waiting");
    // ... and is served by the replica once replay resumes.
    cluster.resume_replay(&r1).await;
    let (routes_to, seen) = read.await.unwrap();
    assert_eq!(routes_to, RoutesTo::Replica);
    assert!(seen);
    let stats = router.pool_stats();
    assert_eq!(
        (
            stats.read_your_writes.replica_fresh,
            stats.read_your_writes.waited,
            stats.read_your_writes.fell_through
        ),
        (0, 1, 0)
    );
    assert_eq!(stats.fallbacks.total(), 0);
}

pub async fn write_tokens_are_checked(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (primary, r1) = (cluster.primary(), cluster.replica(0));
    for garbage in ["", "garbage", "16/B374D848; Path=/", "-1/0", "1/2/3", "123456789/0"] {
        let err = garbage.parse::<WriteToken>().unwrap_err().to_string();
        assert!(err.starts_with("not a write token ("), "{garbage:?}: {err}");
        assert!(err.contains("expected a WAL position like 16/B374D848"), "{err}");
    }
    // A token from the future (no server wrote it) never reads stale data: it waits the
    // bound and goes to the primary ...
    let beyond: WriteToken = "FFFFFFFF/FFFFFFFF".parse().unwrap();
    let mut c = config(primary.port, &[r1.port]);
    c.read_your_writes_wait = Duration::ZERO;
    let router = router(c.clone()).await;
    let conn = router.get_db_ro_after(&beyond).await.unwrap();
    assert_eq!(conn.routes_to(), RoutesTo::PrimaryFallthrough);
    drop(conn);
    // ... or, with fallback off, fails saying which replica is behind and what to change.
    c.fallback = false;
    let router = crate::common::router(c).await;
    let err = router.get_db_ro_after(&beyond).await.unwrap_err();
    assert!(matches!(err, RouterError::ReadOnlyUnavailable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&name(r1.port)), "{text}");
    assert!(
        text.contains("behind write token FFFFFFFF/FFFFFFFF after 0 ms (DB_READ_YOUR_WRITES_WAIT_MS)"),
        "{text}"
    );
    assert!(text.contains("DB_READ_REPLICA_FALLBACK=false"), "{text}");
    // A real token from the primary is served by the caught-up replica.
    let (id, token) = write(&router).await;
    assert!(token < beyond);
    cluster.wait_replayed(&r1).await;
    let conn = router.get_db_ro_after(&token).await.unwrap();
    assert_eq!(conn.routes_to(), RoutesTo::Replica);
    assert!(sees(&conn, id).await);
}
