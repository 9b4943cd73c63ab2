//! A `get_db()` connection given back with a transaction open — left open, aborted, or a
//! `BEGIN` still queued in the driver when it was dropped — is rolled back before the next
//! user gets it: the next user's statements run in their own transactions (committed at
//! once), and what the first user wrote inside the open transaction never commits.

use std::sync::Arc;

use ro_router::PrimaryConnection;

use crate::{
    common::{config, poll_once, router},
    support::harness::Ctx,
};

async fn leave(conn: &PrimaryConnection, how: usize) {
    match how {
        0 => {
            let _ = conn.batch_execute("BEGIN; INSERT INTO release_probe VALUES (-1)").await;
        }
        1 => {
            let _ = conn.batch_execute("BEGIN; INSERT INTO release_probe VALUES (-1); SELECT 1/0").await;
        }
        _ => poll_once(conn.batch_execute("BEGIN; INSERT INTO release_probe VALUES (-1)")).await,
    }
}

pub async fn primary_transactions_left_open_are_rolled_back(ctx: Arc<Ctx>) {
    let primary = ctx.cluster.primary();
    ctx.cluster
        .sql(&primary, "CREATE TABLE IF NOT EXISTS release_probe (n int); TRUNCATE release_probe")
        .await;
    let mut c = config(primary.port, &[]);
    c.primary_pool_max = 1;
    let router = router(c).await;
    let n = 150;
    let mut in_transaction = 0;
    for i in 0..n {
        let conn = router.get_db().await.expect("checkout");
        leave(&conn, i % 3).await;
        drop(conn);
        let conn = router.get_db().await.expect("checkout");
        // A simple query outside a transaction block is a transaction of its own, started
        // with the statement.
        let answer = conn
            .simple_query("SELECT (transaction_timestamp() = statement_timestamp())::text")
            .await
            .expect("a read");
        let own = answer.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_string),
            _ => None,
        });
        if own.as_deref() != Some("true") {
            in_transaction += 1;
        }
        conn.batch_execute(&format!("INSERT INTO release_probe VALUES ({i})")).await.expect("an insert");
    }
    drop(router);
    let check = ctx.cluster.connect(&primary).await;
    let count = |sql: &'static str| {
        let check = &check;
        async move { check.query_one(sql, &[]).await.expect("count").get::<_, i64>(0) }
    };
    assert_eq!(in_transaction, 0, "checkouts that started inside a previous user's transaction");
    assert_eq!(
        count("SELECT count(*) FROM release_probe WHERE n = -1").await,
        0,
        "left-open writes committed"
    );
    assert_eq!(count("SELECT count(*) FROM release_probe WHERE n >= 0").await, n as i64, "writes lost");
}
