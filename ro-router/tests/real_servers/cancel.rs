//! Cancel tokens: the router opens its sockets itself, so tokio-postgres' own token cannot
//! reach the server ("unknown host"); the connections' own `cancel_token()` can. A
//! `SELECT pg_sleep(30)` on a replica, on the primary and on the read-only fallthrough is
//! cancelled from another task and fails with SQLSTATE 57014 (query_canceled).

use std::{sync::Arc, time::Duration};

use ro_router::{CancelToken, RoutesTo};
use tokio_postgres::NoTls;

use crate::{
    common::{config, outcome, router},
    support::{cluster::Server, harness::Ctx, wait_until},
};

/// Guards the sleeping query against a hang (it would run 30 s uncancelled); never a timing
/// assertion.
const HANG_GUARD: Duration = Duration::from_secs(25);
pub const SLEEP: &str = "SELECT pg_sleep(30) /* cancel-me */";

/// Waits until `server` runs [`SLEEP`], then cancels it with `token`.
pub async fn cancel_when_running(ctx: &Ctx, server: &Server, token: CancelToken) {
    let watcher = ctx.cluster.connect(server).await;
    let watcher = &watcher;
    wait_until("the sleeping query runs", || async move {
        let row = watcher
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%cancel-me%' \
                 AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .expect("pg_stat_activity");
        row.get::<_, i64>(0) == 1
    })
    .await;
    // The call shape of tokio-postgres' token: the TLS argument is accepted and not used.
    token.cancel_query(NoTls).await.expect("the cancel request is sent");
}

pub async fn cancel_tokens_reach_the_server_of_each_connection(ctx: Arc<Ctx>) {
    let primary = ctx.cluster.primary();
    let replica = ctx.cluster.replica(0);
    let router = router(config(primary.port, &[replica.port])).await;

    let ro = router.get_db_ro().await.expect("a replica connection");
    assert_eq!(ro.routes_to(), RoutesTo::Replica);
    // Why the router's own token is needed: tokio-postgres' does not know the socket.
    let theirs = (**ro).cancel_token().cancel_query(NoTls).await;
    assert!(theirs.is_err(), "tokio-postgres' own token reached the server: {theirs:?}");
    let (ran, ()) = tokio::time::timeout(HANG_GUARD, async {
        tokio::join!(ro.simple_query(SLEEP), cancel_when_running(&ctx, &replica, ro.cancel_token()))
    })
    .await
    .expect("the replica's query was cancelled");
    assert_eq!(outcome(ran), "57014", "a cancelled query on the replica");

    let rw = router.get_db().await.expect("a primary connection");
    let (ran, ()) = tokio::time::timeout(HANG_GUARD, async {
        tokio::join!(rw.simple_query(SLEEP), cancel_when_running(&ctx, &primary, rw.cancel_token()))
    })
    .await
    .expect("the primary's query was cancelled");
    assert_eq!(outcome(ran), "57014", "a cancelled query on the primary");
    drop((ro, rw));

    // The fallthrough pool (no replica): its token reaches the primary.
    let router = crate::common::router(config(primary.port, &[])).await;
    let ft = router.get_db_ro().await.expect("a fallthrough connection");
    assert_eq!(ft.routes_to(), RoutesTo::PrimaryFallthrough);
    let token = ft.cancel_token();
    let (ran, ()) = tokio::time::timeout(HANG_GUARD, async {
        tokio::join!(ft.simple_query(SLEEP), async move { cancel_when_running(&ctx, &primary, token).await })
    })
    .await
    .expect("the fallthrough query was cancelled");
    assert_eq!(outcome(ran), "57014", "a cancelled query on the fallthrough pool");
    // The connection is usable again once its error is answered.
    ft.simple_query("SELECT 1").await.expect("the connection works after the cancel");
}
