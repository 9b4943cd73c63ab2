//! Routing: the cluster itself, `get_db()`, the strategies, fallthrough reasons, exhaustion,
//! configuration from variables, shutdown.

use std::{collections::HashMap, sync::Arc, time::Duration};

use ro_router::{
    CheckoutFailureKind, DbRouter, PoolRole, ReplicaStrategy, RouterConfig, RouterError, RoutesTo,
};

use crate::{
    common::{checkouts, config, outcome, reads, router},
    support::{encoded_password, harness::Ctx, name, wait_until},
};

pub async fn cluster_uses_scram_and_streams(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let primary = cluster.connect(&cluster.primary()).await;
    let row = primary
        .query_one(
            "SELECT pg_is_in_recovery(), (SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'), \
             (SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'postgres'), \
             (SELECT bool_and(auth_method = 'scram-sha-256') FROM pg_hba_file_rules WHERE type = 'host')",
            &[],
        )
        .await
        .unwrap();
    assert!(!row.get::<_, bool>(0), "the primary is not in recovery");
    assert_eq!(row.get::<_, i64>(1), 2, "two replicas stream from the primary");
    assert!(row.get::<_, bool>(2), "the password is stored as a SCRAM secret");
    assert!(row.get::<_, bool>(3), "every TCP connection authenticates with SCRAM");
    for r in cluster.replicas() {
        let c = cluster.connect(&r).await;
        assert!(c.query_one("SELECT pg_is_in_recovery()", &[]).await.unwrap().get::<_, bool>(0));
    }
    // A wrong password is refused: by PostgreSQL with 28P01, by pgBouncer (which sits in
    // front of the primary) with its own 08P01.
    for (port, code) in [
        (cluster.primary().port, "28P01"),
        (cluster.replica(0).port, "28P01"),
        (cluster.pgbouncer_port(), "08P01"),
    ] {
        let url = format!("postgres://postgres:wrong-password@127.0.0.1:{port}/postgres");
        let err = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.err().expect("refused");
        let db = err.as_db_error().expect("a server error");
        assert_eq!(db.code().code(), code, "port {port}: {err}");
        assert!(db.message().contains("authentication failed"), "port {port}: {}", db.message());
    }
    let (bouncer, conn) =
        tokio_postgres::connect(&cluster.pgbouncer_url(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let port: i32 = bouncer.query_one("SELECT inet_server_port()", &[]).await.unwrap().get(0);
    assert_eq!(port, i32::from(cluster.primary().port));
}

/// Without the server binaries the suite fails and says which package to install.
pub async fn missing_binaries_name_the_debian_package(_ctx: Arc<Ctx>) {
    use std::path::Path;

    use crate::support::cluster::missing_binaries;
    let bin = Path::new("/usr/lib/postgresql/15/bin");
    let bouncer = Path::new("/usr/sbin/pgbouncer");
    let missing = missing_binaries(Path::new("/nonexistent/pg/bin"), Some(bouncer)).expect("missing");
    assert!(missing.contains("install the Debian package postgresql-15"), "{missing}");
    assert!(missing.contains("/nonexistent/pg/bin/initdb not found"), "{missing}");
    let missing = missing_binaries(bin, None).expect("missing");
    assert!(missing.contains("install the Debian package pgbouncer"), "{missing}");
    // This machine has both (the suite is running).
    assert_eq!(missing_binaries(bin, Some(bouncer)), None);
}

/// A missing binary is installed by the repository's own script as root with apt-get, and
/// named (with its Debian package) otherwise.
pub async fn provisioning_installs_only_as_root_with_apt(_ctx: Arc<Ctx>) {
    use crate::support::provision::{decide, missing, script, Decision, Machine};
    use std::path::Path;
    let both = missing(Path::new("/nonexistent/pg/bin"), None);
    let packages: Vec<&str> = both.iter().map(|m| m.package).collect();
    assert_eq!(packages, ["postgresql-15", "pgbouncer"]);
    let root_apt = Machine { root: true, apt_get: true, install_allowed: true };
    assert_eq!(decide(&both, root_apt), Decision::Install(vec!["postgresql-15", "pgbouncer"]));
    assert_eq!(decide(&both[1..], root_apt), Decision::Install(vec!["pgbouncer"]));
    assert_eq!(decide(&[], root_apt), Decision::Ready);
    assert_eq!(decide(&[], Machine { root: false, apt_get: false, install_allowed: false }), Decision::Ready);
    for (machine, why) in [
        (Machine { root: false, ..root_apt }, "not running as root"),
        (Machine { apt_get: false, ..root_apt }, "apt-get not found"),
        (Machine { install_allowed: false, ..root_apt }, "RO_ROUTER_NO_INSTALL is set"),
    ] {
        let Decision::Fail(message) = decide(&both[1..], machine) else {
            panic!("{machine:?} must not install");
        };
        assert!(message.contains("install the Debian package pgbouncer"), "{message}");
        assert!(message.contains(why), "{message}");
    }
    // The cluster of this run started, so its binaries are there now (installed by the
    // script at start-up if they were missing): the script's own check agrees.
    let check = std::process::Command::new(script()).arg("--check").output().expect("run the script");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
}

pub async fn get_db_is_the_primary_and_writes(ctx: Arc<Ctx>) {
    let primary = ctx.cluster.primary();
    let ports: Vec<u16> = ctx.cluster.replicas().iter().map(|r| r.port).collect();
    let router = router(config(primary.port, &ports)).await;
    let mut db = router.get_db().await.unwrap();
    assert_eq!(db.routes_to(), RoutesTo::Primary);
    assert_eq!(db.target(), name(primary.port));
    let row = db
        .query_one("SELECT pg_is_in_recovery(), current_setting('transaction_read_only')", &[])
        .await
        .unwrap();
    assert!(!row.get::<_, bool>(0));
    assert_eq!(row.get::<_, String>(1), "off");
    // Every connection carries the router's statement timeout (DB_STATEMENT_TIMEOUT_MS).
    let timeout: String = db.query_one("SHOW statement_timeout", &[]).await.unwrap().get(0);
    assert_eq!(timeout, "30s");
    let tx = db.transaction().await.unwrap();
    let n = tx.execute("INSERT INTO ticks DEFAULT VALUES", &[]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(n, 1);
    drop(db);
    let stats = router.pool_stats();
    let p = stats.pool(PoolRole::Primary, &name(primary.port)).unwrap();
    assert_eq!((p.checkouts, p.checked_out, p.routes_to), (1, 0, RoutesTo::Primary));
    assert_eq!(stats.fallbacks.total(), 0);
}

pub async fn round_robin_alternates_replicas(ctx: Arc<Ctx>) {
    let primary = ctx.cluster.primary();
    let (r1, r2) = (ctx.cluster.replica(0), ctx.cluster.replica(1));
    let router = router(config(primary.port, &[r1.port, r2.port])).await;
    let (by_target, failures) = reads(&router, 10).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(by_target.get(&name(r1.port)), Some(&5), "{by_target:?}");
    assert_eq!(by_target.get(&name(r2.port)), Some(&5), "{by_target:?}");
    let stats = router.pool_stats();
    assert_eq!((stats.fallbacks.total(), stats.retries), (0, 0));
}

pub async fn least_connections_prefers_the_idle_replica(ctx: Arc<Ctx>) {
    let primary = ctx.cluster.primary();
    let (r1, r2) = (ctx.cluster.replica(0), ctx.cluster.replica(1));
    let mut c = config(primary.port, &[r1.port, r2.port]);
    c.strategy = ReplicaStrategy::LeastConnections;
    let router = router(c).await;
    let held = router.get_db_ro().await.unwrap();
    let busy = held.target().to_string();
    let idle = if busy == name(r1.port) { name(r2.port) } else { name(r1.port) };
    let (by_target, failures) = reads(&router, 6).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(
        by_target.get(&idle),
        Some(&6),
        "every read avoids the replica with a checkout: {by_target:?}"
    );
    let busy_port: u16 = busy.split(&[':', '/'][..]).nth(1).unwrap().parse().unwrap();
    let stats = router.pool_stats();
    assert_eq!(stats.pool(PoolRole::Replica, &busy).unwrap().checked_out, 1);
    drop(held);
    assert_eq!(router.pool_stats().pool(PoolRole::Replica, &busy).unwrap().checked_out, 0);
    // Both idle again: the tie goes round robin, so both serve.
    let (by_target, _) = reads(&router, 4).await;
    assert_eq!(by_target.len(), 2, "{by_target:?}");
    assert_eq!(checkouts(&router, PoolRole::Replica, busy_port), 1 + by_target[&busy] as u64);
}

pub async fn random_reaches_every_replica(ctx: Arc<Ctx>) {
    let primary = ctx.cluster.primary();
    let (r1, r2) = (ctx.cluster.replica(0), ctx.cluster.replica(1));
    let mut c = config(primary.port, &[r1.port, r2.port]);
    c.strategy = ReplicaStrategy::Random;
    let router = router(c).await;
    let (by_target, failures) = reads(&router, 100).await;
    assert!(failures.is_empty(), "{failures:?}");
    // The chance that 100 random picks all land on one of two replicas is 2^-99.
    assert_eq!(by_target.len(), 2, "{by_target:?}");
    assert_eq!(by_target.values().sum::<usize>(), 100);
}

pub async fn no_replica_configured_reads_fall_through_read_only(ctx: Arc<Ctx>) {
    let primary = ctx.cluster.primary();
    let router = router(config(primary.port, &[])).await;
    assert_eq!(router.health().reads_route_to, RoutesTo::PrimaryFallthrough);
    for _ in 0..5 {
        let conn = router.get_db_ro().await.unwrap();
        assert_eq!(conn.routes_to(), RoutesTo::PrimaryFallthrough);
        assert_eq!(conn.target(), name(primary.port));
        assert_eq!(outcome(conn.batch_execute("INSERT INTO ticks DEFAULT VALUES").await), "25006");
    }
    let stats = router.pool_stats();
    assert_eq!(stats.fallbacks.none_configured, 5);
    assert_eq!(stats.fallbacks.total(), 5);
    assert_eq!(checkouts(&router, PoolRole::Fallthrough, primary.port), 5);
    assert_eq!(checkouts(&router, PoolRole::Primary, primary.port), 0);
}

pub async fn exhausted_replicas_fall_through_or_wait(ctx: Arc<Ctx>) {
    let primary = ctx.cluster.primary();
    let (r1, r2) = (ctx.cluster.replica(0), ctx.cluster.replica(1));
    let mut c = config(primary.port, &[r1.port, r2.port]);
    c.ro_pool_max = 1;
    let router = router(c.clone()).await;
    let a = router.get_db_ro().await.unwrap();
    let b = router.get_db_ro().await.unwrap();
    assert_ne!(a.target(), b.target());
    let third = router.get_db_ro().await.unwrap();
    assert_eq!(third.routes_to(), RoutesTo::PrimaryFallthrough);
    let stats = router.pool_stats();
    assert_eq!(stats.fallbacks.exhausted, 1);
    assert_eq!(stats.fallbacks.total(), 1);
    assert_eq!(stats.retries, 0, "a busy pool is not a failure");
    drop((a, b, third));

    // Fallback off: a checkout waits for the busy pool and fails after DB_POOL_TIMEOUT_MS.
    c.fallback = false;
    let router = router_with(c.clone()).await;
    let a = router.get_db_ro().await.unwrap();
    let b = router.get_db_ro().await.unwrap();
    let err = router.get_db_ro().await.unwrap_err();
    match &err {
        RouterError::ReplicaExhausted { failure, .. } => {
            assert_eq!(failure.kind(), CheckoutFailureKind::PoolExhausted);
        }
        other => panic!("expected ReplicaExhausted, got {other:?}"),
    }
    assert!(err.to_string().contains("DB_RO_POOL_MAX"), "{err}");
    assert_eq!(router.pool_stats().fallbacks.total(), 0);
    // ... and is served as soon as a connection comes back.
    c.pool_timeout = Duration::from_secs(30);
    let router = router_with(c).await;
    let a2 = router.get_db_ro().await.unwrap();
    let b2 = router.get_db_ro().await.unwrap();
    let freed = a2.target().to_string();
    let waiter = {
        let router = router.clone();
        tokio::spawn(async move { router.get_db_ro().await.map(|c| c.target().to_string()) })
    };
    drop(a2);
    assert_eq!(waiter.await.unwrap().unwrap(), freed);
    drop((a, b, b2));
}

async fn router_with(c: RouterConfig) -> DbRouter {
    router(c).await
}

pub async fn from_env_builds_a_working_router(ctx: Arc<Ctx>) {
    let primary = ctx.cluster.primary();
    let (r1, r2) = (ctx.cluster.replica(0), ctx.cluster.replica(1));
    let pw = encoded_password();
    let vars: HashMap<&str, String> = HashMap::from([
        ("DB_PRIMARY_URL", format!("postgres://postgres:{pw}@127.0.0.1:{}/postgres", primary.port)),
        (
            "DB_READ_REPLICA_URLS",
            format!(
                "postgres://postgres:{pw}@127.0.0.1:{}/postgres, postgres://postgres:{pw}@127.0.0.1:{}/postgres",
                r1.port, r2.port
            ),
        ),
        ("DB_READ_REPLICA_STRATEGY", "least_connections".into()),
        ("DB_READ_REPLICA_FALLBACK", "false".into()),
        ("DB_READ_REPLICA_HEALTH_CHECK_INTERVAL", "0.2".into()),
        ("DB_MAX_REPLICATION_LAG_MS", "5000".into()),
        ("DB_RO_POOL_MAX", "2".into()),
        ("DB_POOL_TIMEOUT_MS", "800".into()),
    ]);
    let config = RouterConfig::from_lookup(|k| vars.get(k).cloned()).unwrap();
    assert_eq!(config.strategy, ReplicaStrategy::LeastConnections);
    let router = DbRouter::new(config).await.unwrap();
    let health = router.health();
    assert_eq!(health.replicas.len(), 2);
    assert!(health.replicas.iter().all(|r| r.in_rotation), "{health:?}");
    let (by_target, failures) = reads(&router, 4).await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(by_target.values().sum::<usize>(), 4);
    assert!(by_target.keys().all(|t| *t == name(r1.port) || *t == name(r2.port)));
    let stats = router.pool_stats();
    assert!(stats.pools.iter().filter(|p| p.pool == PoolRole::Replica).all(|p| p.max_size == 2));
    assert_eq!(stats.pool(PoolRole::Fallthrough, &name(primary.port)).unwrap().routes_to, RoutesTo::Disabled);
}

pub async fn close_shuts_everything_down(ctx: Arc<Ctx>) {
    let primary = ctx.cluster.primary();
    let r1 = ctx.cluster.replica(0);
    let router = router(config(primary.port, &[r1.port])).await;
    let held = router.get_db_ro().await.unwrap();
    drop(router.get_db().await.unwrap());
    router.close();
    assert!(router.is_closed());
    assert!(matches!(router.get_db().await, Err(RouterError::Closed)));
    assert!(matches!(router.get_db_ro().await, Err(RouterError::Closed)));
    // A connection checked out before the close still works, and closes when returned (a
    // read-only one once its release was proven clean: one round trip later).
    held.simple_query("SELECT 1").await.unwrap();
    drop(held);
    let router = &router;
    wait_until("every pool empty", || async move {
        router.pool_stats().pools.iter().all(|p| p.size == 0 && p.checked_out == 0)
    })
    .await;
}
