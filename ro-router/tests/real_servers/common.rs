//! Helpers shared by the real-server tests.

use std::{path::PathBuf, time::Duration};

use ro_router::{DbRouter, DbUrl, PoolRole, ReadOnlyConnection, RouterConfig};

use crate::support::{name, url};

/// A file of the workspace's ground truth, `fixtures/pg15/` (the committed copy of
/// `../shared`, kept byte-identical by ro-audit's ground-truth test).
pub fn data_file(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/pg15").join(file)
}

/// A config on `primary_port` with replicas on `replica_ports`, tuned for tests: no periodic
/// health check and no lag sampler unless a test sets them (tests call `refresh_health()`),
/// short timeouts. `freshness.rs` runs the sampler with its defaults.
pub fn config(primary_port: u16, replica_ports: &[u16]) -> RouterConfig {
    let mut c = RouterConfig::new(DbUrl::parse(&url(primary_port)).unwrap());
    c.replicas = replica_ports.iter().map(|&p| DbUrl::parse(&url(p)).unwrap()).collect();
    c.health_check_interval = Duration::from_secs(3600);
    c.health_check_timeout = Duration::from_secs(2);
    c.connect_timeout = Duration::from_secs(2);
    c.pool_timeout = Duration::from_millis(500);
    c.stats_log_interval = None;
    c.lag_sample_interval = None;
    c
}

pub async fn router(config: RouterConfig) -> DbRouter {
    DbRouter::new(config).await.expect("router builds")
}

/// One read: a checkout and `SELECT 1`. Ok(target) or Err(what failed).
pub async fn read(router: &DbRouter) -> Result<String, String> {
    let conn = router.get_db_ro().await.map_err(|e| format!("checkout: {e}"))?;
    conn.simple_query("SELECT 1").await.map_err(|e| format!("query on {}: {e}", conn.target()))?;
    Ok(conn.target().to_string())
}

/// `reads` reads; returns (per-target counts, failures).
pub async fn reads(
    router: &DbRouter,
    reads: usize,
) -> (std::collections::BTreeMap<String, usize>, Vec<String>) {
    let mut by_target = std::collections::BTreeMap::new();
    let mut failures = Vec::new();
    for _ in 0..reads {
        match read(router).await {
            Ok(t) => *by_target.entry(t).or_insert(0) += 1,
            Err(e) => failures.push(e),
        }
    }
    (by_target, failures)
}

pub fn checkouts(router: &DbRouter, role: PoolRole, port: u16) -> u64 {
    router
        .pool_stats()
        .pool(role, &name(port))
        .unwrap_or_else(|| panic!("no {role:?} pool for port {port}"))
        .checkouts
}

pub fn retries(router: &DbRouter, port: u16) -> u64 {
    router.pool_stats().pool(PoolRole::Replica, &name(port)).expect("replica pool").retries
}

/// The SQLSTATE of a failed statement, or "ok".
pub fn outcome<T>(r: Result<T, tokio_postgres::Error>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => {
            e.code().map(|c| c.code().to_string()).unwrap_or_else(|| format!("error without SQLSTATE: {e}"))
        }
    }
}

pub async fn backend_pid(conn: &ReadOnlyConnection) -> i32 {
    conn.query_one("SELECT pg_backend_pid()", &[]).await.expect("backend pid").get(0)
}

pub async fn show(conn: &ReadOnlyConnection, setting: &str) -> String {
    conn.query_one(&format!("SHOW {setting}"), &[]).await.expect("SHOW").get(0)
}

/// Polls `f` once and drops it: its request is queued in the driver (or already on the wire)
/// when the caller goes on.
pub async fn poll_once<F: std::future::Future>(f: F) {
    let mut f = std::pin::pin!(f);
    std::future::poll_fn(|cx| {
        let _ = f.as_mut().poll(cx);
        std::task::Poll::Ready(())
    })
    .await;
}

/// The releases proven from the wire so far, once there are `n` (or after 5 s: releases
/// proven by a round trip are done in tasks).
pub async fn proven_from_the_wire(router: &DbRouter, n: u64) -> u64 {
    let observed = || router.pool_stats().pools.iter().map(|p| p.proofs_observed).sum::<u64>();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while observed() < n && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    observed()
}
