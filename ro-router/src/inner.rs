//! The state every clone of a [`DbRouter`](crate::DbRouter) shares — pools, rotation and
//! primary state, the lag sampler's state, bans, metrics, background tasks — and what is read
//! from it: the health report, the pool statistics, and the health check that updates it.
//!
//! Nothing here hands out connections (that is [`crate::router`]).

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use prometheus::Registry;
use tokio::task::JoinHandle;

use crate::{
    bans::Ban,
    config::RouterConfig,
    health::{
        probe_primary, probe_replica, HealthReport, OverallStatus, PrimaryState, PrimaryStatus, ProbeError,
        ReplicaProbe, ReplicaState,
    },
    metrics::{RouterMetrics, RouterState},
    pools::TargetLink,
    read_your_writes::{ReadYourWritesCounts, ReadYourWritesOutcome, ReadYourWritesReport},
    sampler::{observe_replica, Freshness, Gate, Observation, Observer, SamplerState},
    spill::{SpillCounts, SpillReason, SpillReport},
    stats::{FallbackCounts, FallbackReason, PoolStats, RouterStats, RoutesTo},
    target_pool::Target,
};

/// A replica pool and its rotation state.
#[derive(Debug)]
pub(crate) struct Replica {
    pub(crate) target: Target,
    pub(crate) state: ReplicaState,
    pub(crate) freshness: Freshness,
    pub(crate) ban: Ban,
    /// The replay position last sampled or probed (raised by reads after a write that asked
    /// the replica since); 0 while unknown or out of recovery.
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
    pub(crate) sampler: SamplerState,
    pub(crate) health_lock: tokio::sync::Mutex<()>,
    pub(crate) cursor: AtomicUsize,
    pub(crate) metrics: RouterMetrics,
    pub(crate) registry: Registry,
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
        let (gate, now) = (Gate::new(&self.config), self.sampler.now());
        let replicas: Vec<_> = self.replicas.iter().map(|r| r.report(&gate, now)).collect();
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
            max_replication_lag_bytes: self.config.max_replication_lag_bytes,
            lag_sample_interval_ms: self.config.lag_sample_interval.map(|d| d.as_millis() as u64),
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
        let (gate, now) = (Gate::new(&self.config), self.sampler.now());
        for r in &self.replicas {
            let routes = if r.eligible(&gate, now) { RoutesTo::Replica } else { RoutesTo::Disabled };
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
        proofs_observed: c.proofs_observed.get(),
        proofs_round_trip: c.proofs_round_trip.get(),
        pgbouncer: target.link.pgbouncer(),
    }
}

/// One health check of every target: the probes of [`crate::health`], then the primary's
/// state and, per replica, [`observe_replica`] (rotation, lag, bans, severing). Checks never
/// run concurrently.
pub(crate) async fn check_health(router: &RouterInner) {
    let _one_at_a_time = router.health_lock.lock().await;
    let timeout = router.config.health_check_timeout;
    let sent = Instant::now();
    let primary_task = tokio::spawn(probe_primary(router.primary.link.clone(), timeout));
    let replica_tasks: Vec<_> =
        router.replicas.iter().map(|r| tokio::spawn(probe_replica(r.target.link.clone(), timeout))).collect();
    let primary =
        primary_task.await.unwrap_or_else(|e| Err(ProbeError::Failed(format!("probe task ended: {e}"))));

    let primary_name = &router.primary.link.name;
    let (primary_status, primary_lsn) = match &primary {
        Ok(p) if !p.in_recovery => (PrimaryStatus::Healthy, p.lsn),
        Ok(_) => (PrimaryStatus::InRecovery, None),
        Err(_) => (PrimaryStatus::Unreachable, None),
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
    if router.config.lag_sample_interval.is_none() {
        // Without the sampler the health check's positions are the only ones.
        router.sampler.primary_at(sent, primary_lsn);
    }

    for (replica, task) in router.replicas.iter().zip(replica_tasks) {
        let mut probe =
            task.await.unwrap_or_else(|e| Err(ProbeError::Failed(format!("probe task ended: {e}"))));
        if router.config.lag_sample_interval.is_none() {
            probe = catch_up(router, &replica.target.link, probe, primary_lsn, sent).await;
        }
        let seen = match probe {
            Err(e @ ProbeError::TimedOut(_)) => Observation::TimedOut(e.to_string()),
            Err(e) => Observation::Failed(e.to_string()),
            Ok(r) => Observation::Answered { in_recovery: r.in_recovery, replay_lsn: r.replay_lsn },
        };
        observe_replica(router, replica, seen, Observer::HealthCheck);
    }
}

/// Without the sampler the health check's primary position is the only one the replica can be
/// measured against: a replica probed concurrently may not yet have replayed WAL the primary
/// wrote a moment before (a running-xacts record, say), and would then count as lagging until
/// the next check. It is probed again, backing off, until it has replayed that position or
/// `min(DB_HEALTH_CHECK_TIMEOUT_MS, DB_MAX_REPLICATION_LAG_MS)` has passed since the primary
/// was asked — a replica that catches up within the lag limit of that instant is within it.
async fn catch_up(
    router: &RouterInner,
    link: &Arc<TargetLink>,
    mut probe: Result<ReplicaProbe, ProbeError>,
    primary_lsn: Option<u64>,
    sent: Instant,
) -> Result<ReplicaProbe, ProbeError> {
    let Some(target) = primary_lsn else { return probe };
    let bound = router.config.health_check_timeout.min(router.config.max_replication_lag);
    let mut pause = Duration::from_millis(10);
    while let Ok(ReplicaProbe { in_recovery: true, replay_lsn: Some(replayed) }) = &probe {
        if *replayed >= target || sent.elapsed() + pause > bound {
            break;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
        probe = probe_replica(link.clone(), router.config.health_check_timeout).await;
    }
    probe
}
