//! The state every clone of a [`DbRouter`](crate::DbRouter) shares — pools, rotation and
//! primary state, WAL samples, metrics, background tasks — and what is read from it: the
//! health report, the pool statistics, and the health check that updates it.
//!
//! Nothing here hands out connections (that is [`crate::router`]).

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Mutex,
    },
    time::Instant,
};

use deadpool::managed::Timeouts;
use prometheus::Registry;
use tokio::task::JoinHandle;

use crate::{
    config::RouterConfig,
    health::{
        probe_primary, probe_replica, HealthReport, OverallStatus, PrimaryState, PrimaryStatus, ProbeError,
        ReplicaState, ReplicaStatus,
    },
    lag::{self, WalSamples},
    metrics::{RouterMetrics, RouterState},
    pools::Target,
    read_your_writes::{ReadYourWritesCounts, ReadYourWritesOutcome, ReadYourWritesReport},
    spill::{SpillCounts, SpillReason, SpillReport},
    stats::{FallbackCounts, FallbackReason, PoolStats, RouterStats, RoutesTo},
};

/// A replica pool and its rotation state.
#[derive(Debug)]
pub(crate) struct Replica {
    pub(crate) target: Target,
    pub(crate) state: ReplicaState,
    /// The replay position the last health check saw (raised by reads after a write that
    /// asked the replica since).
    pub(crate) replayed: AtomicU64,
}

impl Replica {
    /// A replay position the replica has certainly reached (replay only moves forward), seen
    /// without a round trip.
    pub(crate) fn replayed_at_least(&self) -> &AtomicU64 {
        &self.replayed
    }
}

/// Shared state of a router and its clones.
#[derive(Debug)]
pub(crate) struct RouterInner {
    pub(crate) config: RouterConfig,
    pub(crate) primary: Target,
    pub(crate) fallthrough: Target,
    pub(crate) replicas: Vec<Replica>,
    pub(crate) primary_state: PrimaryState,
    pub(crate) wal_samples: Mutex<WalSamples>,
    pub(crate) health_lock: tokio::sync::Mutex<()>,
    pub(crate) cursor: AtomicUsize,
    pub(crate) metrics: RouterMetrics,
    pub(crate) registry: Registry,
    pub(crate) replica_try: Timeouts,
    pub(crate) tasks: Mutex<Vec<JoinHandle<()>>>,
    pub(crate) state_registered: AtomicBool,
}

impl Drop for RouterInner {
    fn drop(&mut self) {
        for t in self.tasks.get_mut().unwrap_or_else(|p| p.into_inner()).drain(..) {
            t.abort();
        }
        let with_state = self.state_registered.load(Ordering::Relaxed);
        self.metrics.unregister(&self.registry, with_state);
    }
}

impl RouterState for RouterInner {
    fn pool_stats(&self) -> RouterStats {
        RouterInner::pool_stats(self)
    }

    fn health(&self) -> HealthReport {
        RouterInner::health(self)
    }
}

impl RouterInner {
    pub(crate) fn health(&self) -> HealthReport {
        let primary = self.primary_state.report(&self.primary.link.name);
        let replicas: Vec<_> = self.replicas.iter().map(|r| r.state.report(&r.target.link.name)).collect();
        let any_replica = replicas.iter().any(|r| r.in_rotation);
        let reads_route_to = if any_replica {
            RoutesTo::Replica
        } else if self.config.fallback {
            RoutesTo::PrimaryFallthrough
        } else {
            RoutesTo::Disabled
        };
        let primary_ok = primary.status.is_healthy();
        let status = if primary_ok && replicas.iter().all(|r| r.in_rotation) {
            OverallStatus::Ok
        } else if primary_ok || any_replica {
            OverallStatus::Degraded
        } else {
            OverallStatus::Down
        };
        HealthReport {
            status,
            reads_route_to,
            primary,
            replicas,
            fallback: self.config.fallback,
            lag_check_enabled: self.config.lag_check_enabled,
            max_replication_lag_ms: self.config.max_replication_lag.as_millis() as u64,
            fallthrough_role: self.fallthrough.link.inspection().and_then(|i| i.role),
            spill: SpillReport {
                policy: self.config.spill,
                wait_ms: self.config.spill_wait.as_millis() as u64,
                counts: self.spill_counts(),
            },
            read_your_writes: ReadYourWritesReport {
                wait_ms: self.config.read_your_writes_wait.as_millis() as u64,
                counts: self.read_your_writes_counts(),
            },
        }
    }

    pub(crate) fn pool_stats(&self) -> RouterStats {
        let mut pools = vec![pool_stats(&self.primary, RoutesTo::Primary)];
        for r in &self.replicas {
            let routes = if r.state.in_rotation() { RoutesTo::Replica } else { RoutesTo::Disabled };
            pools.push(pool_stats(&r.target, routes));
        }
        let ft_routes = if self.config.fallback { RoutesTo::PrimaryFallthrough } else { RoutesTo::Disabled };
        pools.push(pool_stats(&self.fallthrough, ft_routes));
        let f = |r| self.metrics.fallback(r).get();
        let fallbacks = FallbackCounts {
            unhealthy: f(FallbackReason::Unhealthy),
            lagging: f(FallbackReason::Lagging),
            exhausted: f(FallbackReason::Exhausted),
            none_configured: f(FallbackReason::NoneConfigured),
            behind_write_token: f(FallbackReason::BehindWriteToken),
        };
        let retries = pools.iter().map(|p| p.retries).sum();
        let spills = self.spill_counts();
        let read_your_writes = self.read_your_writes_counts();
        RouterStats { pools, fallbacks, retries, spills, read_your_writes }
    }

    fn spill_counts(&self) -> SpillCounts {
        let m = &self.metrics;
        SpillCounts {
            busy: m.spill(SpillReason::Busy).get(),
            wait_timed_out: m.spill(SpillReason::WaitTimedOut).get(),
            waited_for_replica: m.replica_waits.get(),
        }
    }

    fn read_your_writes_counts(&self) -> ReadYourWritesCounts {
        let o = |outcome| self.metrics.read_your_writes(outcome).get();
        ReadYourWritesCounts {
            replica_fresh: o(ReadYourWritesOutcome::ReplicaFresh),
            waited: o(ReadYourWritesOutcome::Waited),
            fell_through: o(ReadYourWritesOutcome::FellThrough),
        }
    }
}

fn pool_stats(target: &Target, routes_to: RoutesTo) -> PoolStats {
    let status = target.pool.status();
    let c = &target.link.counters;
    PoolStats {
        pool: target.link.role,
        target: target.link.name.clone(),
        routes_to,
        max_size: status.max_size,
        size: status.size,
        available: status.available,
        waiting: status.waiting,
        checked_out: target.link.checked_out.load(Ordering::Relaxed),
        checkouts: c.checkouts.get(),
        checkout_failures: c.failures.get(),
        retries: c.retries.get(),
        read_only_reasserts: c.reasserts.get(),
        severed_connections: c.severed.get(),
        discarded_connections: c.discarded.get(),
        pgbouncer: target.link.pgbouncer(),
    }
}

/// One health check of every target: the probes of [`crate::health`], then rotation, lag and
/// severing. Checks never run concurrently.
pub(crate) async fn check_health(router: &RouterInner) {
    let _one_at_a_time = router.health_lock.lock().await;
    let timeout = router.config.health_check_timeout;
    let primary_task = tokio::spawn(probe_primary(router.primary.link.clone(), timeout));
    let replica_tasks: Vec<_> =
        router.replicas.iter().map(|r| tokio::spawn(probe_replica(r.target.link.clone(), timeout))).collect();
    let primary =
        primary_task.await.unwrap_or_else(|e| Err(ProbeError::Failed(format!("probe task ended: {e}"))));

    let primary_name = &router.primary.link.name;
    let (primary_status, primary_lsn, replay_lag) = match &primary {
        Ok(p) if !p.in_recovery => (PrimaryStatus::Healthy, p.lsn, Some(&p.replay_lag)),
        Ok(_) => (PrimaryStatus::InRecovery, None, None),
        Err(_) => (PrimaryStatus::Unreachable, None, None),
    };
    let error = primary.as_ref().err().map(ToString::to_string);
    let before = router.primary_state.set(primary_status, error.clone());
    if before != primary_status {
        match primary_status {
            PrimaryStatus::Healthy => tracing::info!(
                target: "ro_router::health",
                db = %primary_name,
                "primary {primary_name} is healthy"
            ),
            _ => tracing::warn!(
                target: "ro_router::health",
                db = %primary_name,
                status = primary_status.as_str(),
                error = error.as_deref().unwrap_or(""),
                "primary {primary_name} is {}",
                primary_status.as_str()
            ),
        }
    }
    match &primary {
        Err(ProbeError::TimedOut(_)) => {
            router.primary.link.sever();
            router.fallthrough.link.sever();
        }
        Ok(p) if p.in_recovery => {
            // Writes must not reach a demoted server: drop what the pool holds.
            router.primary.drain_idle();
            router.primary.link.sever();
        }
        _ => {}
    }

    let now = Instant::now();
    if let (Ok(p), Some(lsn)) = (&primary, primary_lsn) {
        router.wal_samples.lock().unwrap_or_else(|e| e.into_inner()).push(p.at, lsn);
    }
    let mut lag_by_name: HashMap<&str, Option<u64>> = HashMap::new();
    for (name, ms) in replay_lag.into_iter().flatten() {
        let entry = lag_by_name.entry(name.as_str()).or_insert(None);
        *entry = (*entry).max(*ms);
    }
    let max_lag_ms = router.config.max_replication_lag.as_millis() as u64;

    for (replica, task) in router.replicas.iter().zip(replica_tasks) {
        let name = &replica.target.link.name;
        let probe = task.await.unwrap_or_else(|e| Err(ProbeError::Failed(format!("probe task ended: {e}"))));
        let (status, lag, error) = match &probe {
            Err(e) => (ReplicaStatus::Unreachable, None, Some(e.to_string())),
            Ok(r) if !r.in_recovery => (ReplicaStatus::NotInRecovery, None, None),
            Ok(r) => {
                let lag = match (primary_lsn, r.replay_lsn) {
                    (Some(p), Some(replayed)) => {
                        let samples = router.wal_samples.lock().unwrap_or_else(|e| e.into_inner());
                        let walsender = lag_by_name.get(r.application_name.as_str()).copied().flatten();
                        Some(lag::measure(p, replayed, walsender, &samples, now))
                    }
                    _ => None,
                };
                let lagging = router.config.lag_check_enabled && lag.is_some_and(|l| l.millis > max_lag_ms);
                let status = if lagging { ReplicaStatus::Lagging } else { ReplicaStatus::Healthy };
                (status, lag, None)
            }
        };
        if let Ok(r) = &probe {
            replica.replayed.store(r.replay_lsn.filter(|_| r.in_recovery).unwrap_or(0), Ordering::Relaxed);
        }
        let was_in = replica.state.set(status, lag, error.clone());
        let is_in = status == ReplicaStatus::Healthy;
        if was_in && !is_in {
            tracing::warn!(
                target: "ro_router::health",
                db = %name,
                status = status.as_str(),
                lag_bytes = lag.map(|l| l.bytes),
                lag_ms = lag.map(|l| l.millis),
                error = error.as_deref().unwrap_or(""),
                "replica {name} left rotation: {}",
                status.as_str()
            );
        } else if !was_in && is_in {
            tracing::info!(target: "ro_router::health", db = %name, "replica {name} is back in rotation");
        }
        match &probe {
            Err(ProbeError::TimedOut(_)) => {
                let n = replica.target.link.sever();
                if n > 0 {
                    tracing::warn!(
                        target: "ro_router::health",
                        db = %name,
                        severed = n,
                        "severed {n} connections to {name}: it stopped answering"
                    );
                }
            }
            Err(ProbeError::Failed(_)) => {
                replica.target.drain_idle();
            }
            Ok(r) if !r.in_recovery => {
                replica.target.drain_idle();
            }
            _ => {}
        }
    }
}
