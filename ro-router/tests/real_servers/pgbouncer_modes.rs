//! pgBouncer in transaction and statement pooling mode, for real (the harness starts them on
//! demand in front of the primary): the router refuses to start on such a read-only target,
//! with an error naming the mode, and leaves nothing behind — a plain client through the same
//! pgBouncer writes as before, and so does the primary pool of a router whose read-only
//! targets are fine.

use std::sync::Arc;

use ro_router::{DbRouter, DbUrl, RouterError};
use tokio_postgres::NoTls;

use crate::{
    common::{config, router},
    support::{harness::Ctx, url},
};

async fn refused(config: ro_router::RouterConfig) -> String {
    match DbRouter::new(config).await {
        Ok(_) => panic!("the router started on a pgBouncer that does not pool by session"),
        Err(e @ RouterError::Config(_)) => e.to_string(),
        Err(e) => panic!("refused with the wrong error: {e}"),
    }
}

/// A plain client through `port` writes, and sees the server default (guard off).
async fn plain_client_writes(port: u16) {
    for _ in 0..5 {
        let (client, conn) = tokio_postgres::connect(&url(port), NoTls).await.expect("plain client connects");
        tokio::spawn(conn);
        let guard: String =
            client.query_one("SHOW default_transaction_read_only", &[]).await.expect("SHOW").get(0);
        assert_eq!(guard, "off", "read-only state leaked to a plain client through pgBouncer");
        client.batch_execute("INSERT INTO ticks DEFAULT VALUES").await.expect("a plain client's INSERT");
    }
}

pub async fn transaction_and_statement_mode_are_refused_by_name(ctx: Arc<Ctx>) {
    let primary = ctx.cluster.primary();
    for mode in ["transaction", "statement"] {
        let port = ctx.cluster.pgbouncer_in_mode(mode).await;
        // Configured as pgBouncer, and left to detection.
        for pgbouncer in [true, false] {
            let mut c = config(port, &[]);
            c.pgbouncer = pgbouncer;
            let message = refused(c).await;
            assert!(message.contains(&format!("pool_mode = {mode}")), "{message}");
            assert!(message.starts_with("DB_PRIMARY_URL: "), "{message}");
        }
        // A direct primary with the fallthrough pool through that pgBouncer.
        let mut c = config(primary.port, &[]);
        c.fallthrough = Some(DbUrl::parse(&url(port)).unwrap());
        let message = refused(c).await;
        assert!(message.starts_with("DB_READ_FALLTHROUGH_URL: "), "{message}");
        assert!(message.contains(&format!("pgBouncer pools by {mode}")), "{message}");
        // A replica behind it.
        let message = refused(config(primary.port, &[port])).await;
        assert!(message.starts_with("DB_READ_REPLICA_URLS: "), "{message}");
        plain_client_writes(port).await;
    }
}

pub async fn session_mode_is_accepted_and_writes_go_on(ctx: Arc<Ctx>) {
    let bouncer = ctx.cluster.pgbouncer_port();
    let mut c = config(bouncer, &[]);
    c.pgbouncer = true;
    let router = router(c).await;
    for i in 0..50 {
        let ro = router.get_db_ro().await.expect("read-only checkout");
        assert_eq!(
            crate::common::outcome(ro.batch_execute("INSERT INTO ticks DEFAULT VALUES").await),
            "25006"
        );
        drop(ro);
        let rw = router.get_db().await.expect("primary checkout");
        rw.batch_execute("INSERT INTO ticks DEFAULT VALUES")
            .await
            .unwrap_or_else(|e| panic!("get_db() write {i} refused after read-only traffic: {e}"));
    }
    plain_client_writes(bouncer).await;
}
