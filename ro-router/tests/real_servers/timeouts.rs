//! A read ended by the statement timeout (`DB_STATEMENT_TIMEOUT_MS`) bans its replica at once
//! (reason `timeout`), so the next reads go elsewhere; a user's own cancel (same SQLSTATE
//! 57014, "user request") bans nothing.
//!
//! The slow replica: a transaction on the primary holds `LOCK TABLE … IN ACCESS EXCLUSIVE
//! MODE`; the lock is replayed on the replicas, where a `SELECT` on the table waits for it
//! until the statement timeout ends it.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use crate::{
    cancel::{cancel_when_running, SLEEP},
    common::{config, outcome, read, router},
    support::{harness::Ctx, name, wait_until},
};
use ro_router::{BanReason, DbRouter};

/// Guards a query against a hang; never a timing assertion.
const HANG_GUARD: Duration = Duration::from_secs(25);

fn banned_for(router: &DbRouter, target: &str) -> Option<BanReason> {
    router.health().replica(target).and_then(|h| h.ban.as_ref().map(|b| b.reason))
}

async fn targets_of_reads(router: &DbRouter, n: usize) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for _ in 0..n {
        seen.insert(read(router).await.expect("a read"));
    }
    seen
}

pub async fn statement_timeout_on_a_replica_bans_it(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (primary, r1, r2) = (cluster.primary(), cluster.replica(0), cluster.replica(1));
    let mut c = config(primary.port, &[r1.port, r2.port]);
    c.statement_timeout = Some(Duration::from_millis(500));
    // Longer than the test: the ban seen at the end is the one the timeout imposed.
    (c.replica_ban, c.replica_ban_max) = (Duration::from_secs(30), Duration::from_secs(30));
    let router = router(c).await;

    // A user's cancel is not the router's timeout: no ban.
    let conn = router.get_db_ro().await.expect("a replica connection");
    let cancelled = conn.target().to_string();
    let token = conn.cancel_token();
    let (ran, ()) = tokio::time::timeout(HANG_GUARD, async {
        let server = if cancelled == name(r1.port) { &r1 } else { &r2 };
        tokio::join!(conn.simple_query(SLEEP), cancel_when_running(&ctx, server, token))
    })
    .await
    .expect("the sleep ended");
    assert_eq!(outcome(ran), "57014");
    drop(conn);
    let served = targets_of_reads(&router, 10).await;
    assert!(served.contains(&cancelled), "a user's cancel took {cancelled} out of rotation: {served:?}");
    assert_eq!(banned_for(&router, &cancelled), None);

    // The router's statement timeout on a replica waiting for a replayed lock: banned.
    cluster.sql(&primary, "CREATE TABLE held (x int)").await;
    cluster.wait_replayed(&r1).await;
    cluster.wait_replayed(&r2).await;
    let holder = cluster.connect(&primary).await;
    holder.batch_execute("BEGIN; LOCK TABLE held IN ACCESS EXCLUSIVE MODE").await.expect("lock");
    cluster.sql(&primary, "INSERT INTO ticks DEFAULT VALUES").await; // flushes the lock's WAL
    cluster.wait_replayed(&r1).await;
    cluster.wait_replayed(&r2).await;

    let conn = router.get_db_ro().await.expect("a replica connection");
    let slow = conn.target().to_string();
    let ran = tokio::time::timeout(HANG_GUARD, conn.simple_query("SELECT count(*) FROM held"))
        .await
        .expect("the statement timeout ended the read");
    assert_eq!(outcome(ran), "57014", "the read on {slow} waited for the replayed lock");
    drop(conn);
    let (router_ref, slow_ref) = (&router, &slow);
    wait_until("the replica is banned", || async move { banned_for(router_ref, slow_ref).is_some() }).await;
    assert_eq!(banned_for(&router, &slow), Some(BanReason::Timeout));
    let served = targets_of_reads(&router, 10).await;
    assert!(!served.contains(&slow), "reads still went to {slow} after its timeout: {served:?}");
    let metrics = router.render_metrics();
    let counted = format!("ro_router_replica_bans_total{{reason=\"timeout\",target=\"{slow}\"}} 1");
    assert!(metrics.contains(&counted), "{metrics}");

    holder.batch_execute("ROLLBACK").await.expect("unlock");
    cluster.sql(&primary, "DROP TABLE held").await;
    router.close();
}
