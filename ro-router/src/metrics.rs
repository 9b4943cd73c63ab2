//! Prometheus metrics. Counters are updated on the checkout path through pre-resolved
//! handles (no label lookup per checkout); gauges (pools, routes_to, health, lag) are read from
//! the router's state when the registry is gathered, so they are never stale.
//!
//! Labels carry targets as `host:port/db` and never a password.

use std::sync::{Mutex, Weak};

use prometheus::{
    core::{Collector, Desc},
    proto::MetricFamily,
    GaugeVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
};

use crate::{
    health::HealthReport,
    read_your_writes::ReadYourWritesOutcome,
    spill::SpillReason,
    stats::{FallbackReason, RouterStats},
};

/// What the gauges are read from when the registry is gathered (the router's shared state).
pub(crate) trait RouterState: Send + Sync {
    fn pool_stats(&self) -> RouterStats;
    fn health(&self) -> HealthReport;
}

/// The counters of one pool.
#[derive(Debug, Clone)]
pub(crate) struct TargetCounters {
    pub(crate) checkouts: IntCounter,
    pub(crate) failures: IntCounter,
    pub(crate) retries: IntCounter,
    pub(crate) reasserts: IntCounter,
    pub(crate) severed: IntCounter,
    pub(crate) discarded: IntCounter,
    /// Released connections proven clean from what their wire showed (no SQL).
    pub(crate) proofs_observed: IntCounter,
    /// Connections verified with a round trip (see `crate::proof`).
    pub(crate) proofs_round_trip: IntCounter,
}

/// Every counter the router updates.
#[derive(Debug)]
pub(crate) struct RouterMetrics {
    checkouts: IntCounterVec,
    failures: IntCounterVec,
    retries: IntCounterVec,
    reasserts: IntCounterVec,
    severed: IntCounterVec,
    discarded: IntCounterVec,
    proofs: IntCounterVec,
    pub(crate) task_panics: IntCounterVec,
    fallback_vec: IntCounterVec,
    pub(crate) fallbacks: [IntCounter; 5],
    spill_vec: IntCounterVec,
    spills: [IntCounter; 2],
    pub(crate) replica_waits: IntCounter,
    ryw_vec: IntCounterVec,
    read_your_writes: [IntCounter; 3],
    bans: IntCounterVec,
    lag_samples: IntCounterVec,
}

fn counter_vec(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric definition")
}

impl RouterMetrics {
    pub(crate) fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let checkouts = counter_vec(
            "ro_router_checkouts_total",
            "Connections checked out, by pool and target.",
            &["pool", "target"],
        );
        let failures = counter_vec(
            "ro_router_checkout_failures_total",
            "Checkout attempts that failed, by pool and target.",
            &["pool", "target"],
        );
        let retries = counter_vec(
            "ro_router_checkout_retries_total",
            "Read-only checkouts retried on another target after this target failed.",
            &["pool", "target"],
        );
        let reasserts = counter_vec(
            "ro_router_read_only_reasserts_total",
            "Read-only checkouts that re-sent the session settings: pgBouncer mode (every \
             checkout), or a repair of a session a previous user left unclean (a transaction \
             open, default_transaction_read_only switched off).",
            &["pool", "target"],
        );
        let severed = counter_vec(
            "ro_router_connections_severed_total",
            "Connections ended because their target stopped answering health checks.",
            &["pool", "target"],
        );
        let discarded = counter_vec(
            "ro_router_connections_discarded_total",
            "Pooled read-only connections closed at checkout instead of handed out: out of step \
             (a refused COPY FROM STDIN, a desynchronised protocol) or unclean after a repair.",
            &["pool", "target"],
        );
        let proofs = counter_vec(
            "ro_router_checkout_proofs_total",
            "How released connections were proven clean: path=observed from the protocol \
             messages seen on their wire (no SQL), path=round_trip with a verification statement.",
            &["pool", "target", "path"],
        );
        let task_panics = counter_vec(
            "ro_router_background_task_panics_total",
            "Panics caught in a background task (health, stats), which was then restarted.",
            &["task"],
        );
        let fallback_vec = counter_vec(
            "ro_router_fallbacks_total",
            "Read-only checkouts served by the fallthrough pool to the primary, by reason.",
            &["reason"],
        );
        let spill_vec = counter_vec(
            "ro_router_spills_total",
            "Reads sent to the primary because every replica connection was checked out, by reason \
             (busy: at once, DB_RO_SPILL=immediate; wait_timed_out: after DB_RO_SPILL_WAIT_MS).",
            &["reason"],
        );
        let replica_waits = IntCounter::new(
            "ro_router_replica_waits_total",
            "Reads that found every replica connection checked out, waited, and were served by a replica.",
        )
        .expect("valid metric definition");
        let ryw_vec = counter_vec(
            "ro_router_read_your_writes_total",
            "Reads after a write (get_db_ro_after), by outcome: replica_fresh, waited (for replay), \
             fell_through (to the primary).",
            &["outcome"],
        );
        let bans = counter_vec(
            "ro_router_replica_bans_total",
            "Replica bans (timeout, connect_failed, promoted, lag); a ban extended while the \
             failure goes on counts once.",
            &["target", "reason"],
        );
        let lag_samples = counter_vec(
            "ro_router_lag_samples_total",
            "Lag samples taken by the sampler, by target and outcome (ok, timeout, failed).",
            &["target", "outcome"],
        );
        let all = [
            &checkouts,
            &failures,
            &retries,
            &reasserts,
            &severed,
            &discarded,
            &proofs,
            &task_panics,
            &fallback_vec,
            &spill_vec,
            &ryw_vec,
            &bans,
            &lag_samples,
        ];
        for (i, c) in all.iter().enumerate() {
            if let Err(e) = registry.register(Box::new((*c).clone())) {
                // Leave the registry as it was.
                for done in &all[..i] {
                    let _ = registry.unregister(Box::new((*done).clone()));
                }
                return Err(e);
            }
        }
        if let Err(e) = registry.register(Box::new(replica_waits.clone())) {
            for done in &all {
                let _ = registry.unregister(Box::new((*done).clone()));
            }
            return Err(e);
        }
        let fallbacks = FallbackReason::ALL.map(|r| fallback_vec.with_label_values(&[r.as_str()]));
        let spills = SpillReason::ALL.map(|r| spill_vec.with_label_values(&[r.as_str()]));
        let read_your_writes = ReadYourWritesOutcome::ALL.map(|o| ryw_vec.with_label_values(&[o.as_str()]));
        Ok(Self {
            checkouts,
            failures,
            retries,
            reasserts,
            severed,
            discarded,
            proofs,
            task_panics,
            fallback_vec,
            fallbacks,
            spill_vec,
            spills,
            replica_waits,
            ryw_vec,
            read_your_writes,
            bans,
            lag_samples,
        })
    }

    /// Removes the router's collectors from `registry` (when the router is dropped), so that a
    /// new router can register there. `with_state` also removes the state collector.
    pub(crate) fn unregister(&self, registry: &Registry, with_state: bool) {
        for c in [
            &self.checkouts,
            &self.failures,
            &self.retries,
            &self.reasserts,
            &self.severed,
            &self.discarded,
            &self.proofs,
            &self.task_panics,
            &self.fallback_vec,
            &self.spill_vec,
            &self.ryw_vec,
            &self.bans,
            &self.lag_samples,
        ] {
            let _ = registry.unregister(Box::new(c.clone()));
        }
        let _ = registry.unregister(Box::new(self.replica_waits.clone()));
        if with_state {
            let _ = registry.unregister(Box::new(StateCollector::detached()));
        }
    }

    pub(crate) fn target(&self, pool: &str, target: &str) -> TargetCounters {
        let l = [pool, target];
        TargetCounters {
            checkouts: self.checkouts.with_label_values(&l),
            failures: self.failures.with_label_values(&l),
            retries: self.retries.with_label_values(&l),
            reasserts: self.reasserts.with_label_values(&l),
            severed: self.severed.with_label_values(&l),
            discarded: self.discarded.with_label_values(&l),
            proofs_observed: self.proofs.with_label_values(&[pool, target, "observed"]),
            proofs_round_trip: self.proofs.with_label_values(&[pool, target, "round_trip"]),
        }
    }

    pub(crate) fn fallback(&self, reason: FallbackReason) -> &IntCounter {
        &self.fallbacks[reason as usize]
    }

    pub(crate) fn spill(&self, reason: SpillReason) -> &IntCounter {
        &self.spills[reason as usize]
    }

    pub(crate) fn read_your_writes(&self, outcome: ReadYourWritesOutcome) -> &IntCounter {
        &self.read_your_writes[outcome as usize]
    }

    pub(crate) fn ban(&self, target: &str, reason: crate::BanReason) -> IntCounter {
        self.bans.with_label_values(&[target, reason.as_str()])
    }

    pub(crate) fn lag_sample(&self, target: &str, outcome: &str) -> IntCounter {
        self.lag_samples.with_label_values(&[target, outcome])
    }
}

struct StateGauges {
    size: IntGaugeVec,
    max_size: IntGaugeVec,
    available: IntGaugeVec,
    waiting: IntGaugeVec,
    checked_out: IntGaugeVec,
    routes_to: IntGaugeVec,
    replica_healthy: IntGaugeVec,
    replica_lag_bytes: IntGaugeVec,
    replica_lag_seconds: GaugeVec,
    replica_staleness_bound_seconds: GaugeVec,
    replica_banned: IntGaugeVec,
    primary_healthy: IntGaugeVec,
    fallthrough_role_can_write: IntGaugeVec,
}

fn gauge_vec(name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric definition")
}

impl StateGauges {
    fn new() -> Self {
        let pool = &["pool", "target"];
        Self {
            size: gauge_vec("ro_router_pool_size", "Open connections of the pool.", pool),
            max_size: gauge_vec("ro_router_pool_max_size", "Maximum size of the pool.", pool),
            available: gauge_vec("ro_router_pool_available", "Idle connections of the pool.", pool),
            waiting: gauge_vec(
                "ro_router_pool_waiting",
                "Checkouts waiting for a connection of the pool.",
                pool,
            ),
            checked_out: gauge_vec(
                "ro_router_pool_checked_out",
                "Connections of the pool checked out right now.",
                pool,
            ),
            routes_to: gauge_vec(
                "ro_router_pool_routes_to",
                "1 for what the pool serves now: primary, replica, primary_fallthrough or disabled.",
                &["pool", "target", "routes_to"],
            ),
            replica_healthy: gauge_vec(
                "ro_router_replica_healthy",
                "1 when the replica is in rotation.",
                &["target", "status"],
            ),
            replica_lag_bytes: gauge_vec(
                "ro_router_replica_lag_bytes",
                "WAL bytes the replica has not replayed (primary's current LSN minus replay LSN).",
                &["target"],
            ),
            replica_lag_seconds: GaugeVec::new(
                Opts::new("ro_router_replica_lag_seconds", "Replication lag in time."),
                &["target"],
            )
            .expect("valid metric definition"),
            replica_staleness_bound_seconds: GaugeVec::new(
                Opts::new(
                    "ro_router_replica_staleness_bound_seconds",
                    "At most this far behind the primary now, from the lag samples (reads go \
                     elsewhere past DB_MAX_REPLICATION_LAG_MS); absent while unknown.",
                ),
                &["target"],
            )
            .expect("valid metric definition"),
            replica_banned: gauge_vec(
                "ro_router_replica_banned",
                "1 while the replica is banned, with the ban's reason.",
                &["target", "reason"],
            ),
            primary_healthy: gauge_vec(
                "ro_router_primary_healthy",
                "1 when the primary answers and is not in recovery.",
                &["target", "status"],
            ),
            fallthrough_role_can_write: gauge_vec(
                "ro_router_fallthrough_role_can_write",
                "1 when the fallthrough pool's role is a superuser or holds a write privilege (only \
                 the session setting keeps its reads from writing), 0 for a read-only role; absent \
                 until the primary answered.",
                &["target", "role", "superuser"],
            ),
        }
    }

    fn collectors(&self) -> [&dyn Collector; 13] {
        [
            &self.size,
            &self.max_size,
            &self.available,
            &self.waiting,
            &self.checked_out,
            &self.routes_to,
            &self.replica_healthy,
            &self.replica_lag_bytes,
            &self.replica_lag_seconds,
            &self.replica_staleness_bound_seconds,
            &self.replica_banned,
            &self.primary_healthy,
            &self.fallthrough_role_can_write,
        ]
    }
}

/// Reads pools, routes and health from the router when the registry is gathered.
pub(crate) struct StateCollector {
    router: Option<Weak<dyn RouterState>>,
    gauges: Mutex<StateGauges>,
    descs: Vec<Desc>,
}

impl StateCollector {
    pub(crate) fn new<R: RouterState + 'static>(router: Weak<R>) -> Self {
        let router: Weak<dyn RouterState> = router;
        Self::with(Some(router))
    }

    /// A collector with the same metric descriptions and no router (to unregister one).
    fn detached() -> Self {
        Self::with(None)
    }

    fn with(router: Option<Weak<dyn RouterState>>) -> Self {
        let gauges = StateGauges::new();
        let descs = gauges.collectors().iter().flat_map(|c| c.desc().into_iter().cloned()).collect();
        Self { router, gauges: Mutex::new(gauges), descs }
    }
}

impl Collector for StateCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let Some(router) = self.router.as_ref().and_then(Weak::upgrade) else {
            return Vec::new();
        };
        let g = self.gauges.lock().unwrap_or_else(|p| p.into_inner());
        g.size.reset();
        g.max_size.reset();
        g.available.reset();
        g.waiting.reset();
        g.checked_out.reset();
        g.routes_to.reset();
        g.replica_healthy.reset();
        g.replica_lag_bytes.reset();
        g.replica_lag_seconds.reset();
        g.replica_staleness_bound_seconds.reset();
        g.replica_banned.reset();
        g.primary_healthy.reset();
        g.fallthrough_role_can_write.reset();
        let stats = router.pool_stats();
        for p in &stats.pools {
            let l = [p.pool.as_str(), p.target.as_str()];
            g.size.with_label_values(&l).set(p.size as i64);
            g.max_size.with_label_values(&l).set(p.max_size as i64);
            g.available.with_label_values(&l).set(p.available as i64);
            g.waiting.with_label_values(&l).set(p.waiting as i64);
            g.checked_out.with_label_values(&l).set(p.checked_out as i64);
            g.routes_to.with_label_values(&[l[0], l[1], p.routes_to.as_str()]).set(1);
        }
        let health = router.health();
        g.primary_healthy
            .with_label_values(&[health.primary.target.as_str(), health.primary.status.as_str()])
            .set(i64::from(health.primary.status.is_healthy()));
        if let Some(role) = &health.fallthrough_role {
            let ft = stats.pools.iter().find(|p| p.pool == crate::stats::PoolRole::Fallthrough);
            let target = ft.map(|p| p.target.as_str()).unwrap_or_default();
            g.fallthrough_role_can_write
                .with_label_values(&[
                    target,
                    role.role.as_str(),
                    if role.superuser { "true" } else { "false" },
                ])
                .set(i64::from(!role.is_read_only()));
        }
        for r in &health.replicas {
            g.replica_healthy
                .with_label_values(&[r.target.as_str(), r.status.as_str()])
                .set(i64::from(r.in_rotation));
            if let Some(bytes) = r.lag_bytes {
                g.replica_lag_bytes
                    .with_label_values(&[r.target.as_str()])
                    .set(i64::try_from(bytes).unwrap_or(i64::MAX));
            }
            if let Some(ms) = r.lag_ms {
                g.replica_lag_seconds.with_label_values(&[r.target.as_str()]).set(ms as f64 / 1000.0);
            }
            if let Some(ms) = r.staleness_bound_ms {
                g.replica_staleness_bound_seconds
                    .with_label_values(&[r.target.as_str()])
                    .set(ms as f64 / 1000.0);
            }
            if let Some(ban) = &r.ban {
                g.replica_banned.with_label_values(&[r.target.as_str(), ban.reason.as_str()]).set(1);
            }
        }
        g.collectors().iter().flat_map(|c| c.collect()).collect()
    }
}
