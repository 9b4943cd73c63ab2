//! `DbRouter`: `get_db()` on the primary, `get_db_ro()` on a replica chosen by the strategy —
//! or, when none can serve, on the read-only fallthrough pool to the primary (fallback on) or
//! an error that says why (fallback off). Busy replicas are waited on or spilled from as
//! [`crate::spill`] plans; `get_db_ro_after()` adds read-your-writes
//! ([`crate::read_your_writes`]).
//!
//! A replica checkout that fails is retried on the next replica (and then the fallthrough):
//! a replica that died since the last health check costs a retry, not a failed read. The
//! failing replica is banned at once ([`crate::bans`]; a timeout also severs its connections)
//! and comes back when its ban ended and the sampler or the health check finds it answering.
//! Which replicas may serve is read from atomics ([`crate::sampler`]): no round trip.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use deadpool::managed::{PoolError, TimeoutType, Timeouts};
use prometheus::{Encoder, Registry, TextEncoder};
use tokio::task::JoinHandle;

use crate::{
    bans::{Ban, BanReason},
    config::{env, RouterConfig},
    connection::{PrimaryConnection, ReadOnlyConnection},
    error::{CheckoutFailureKind, ConfigError, RouterError, Unusable},
    health::{HealthReport, PrimaryState, ReplicaState, ReplicaStatus},
    inner::{check_health, Replica, RouterInner},
    metrics::{RouterMetrics, StateCollector},
    pools::{pool_mode_refusal, ConnectError, TargetLink},
    read_your_writes::{catch_up, CatchUp, ReadYourWritesOutcome},
    sampler::{Freshness, Gate, SamplerState},
    spill::{self, BusyReplicas, SpillReason},
    stats::{FallbackReason, PoolRole, RouterStats},
    strategy, supervise,
    target::Redactor,
    target_pool::Target,
    token::WriteToken,
};

/// The router: a primary pool, one pool per replica, and a read-only fallthrough pool to the
/// primary, with health checks, lag checks, statistics and metrics. Cheap to clone (all
/// clones share the pools); the background tasks end with the last clone or with
/// [`close`](Self::close).
#[derive(Clone)]
pub struct DbRouter {
    inner: Arc<RouterInner>,
}

impl std::fmt::Debug for DbRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.inner.config;
        let replicas: Vec<&str> = c.replicas.iter().map(|u| u.name()).collect();
        f.debug_struct("DbRouter")
            .field("primary", &c.primary.name())
            .field("replicas", &replicas)
            .field("fallthrough", &c.fallthrough_url().name())
            .field("strategy", &c.strategy)
            .field("fallback", &c.fallback)
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl DbRouter {
    /// Builds the router from `DB_*` environment variables (see [`crate::env`]).
    pub async fn from_env() -> Result<Self, RouterError> {
        Self::new(RouterConfig::from_env()?).await
    }

    /// Builds the router with its own Prometheus registry (see
    /// [`metrics_registry`](Self::metrics_registry)).
    pub async fn new(config: RouterConfig) -> Result<Self, RouterError> {
        Self::with_registry(config, Registry::new()).await
    }

    /// Builds the router and registers its metrics in `registry` (one router per registry at a
    /// time; the metrics are unregistered when the last clone of the router is dropped).
    ///
    /// No connection is opened up front except the first health check's probes; the router
    /// is built even when servers are down (reads then fall through, or fail, until they
    /// answer). Must be called inside a Tokio runtime.
    pub async fn with_registry(config: RouterConfig, registry: Registry) -> Result<Self, RouterError> {
        config.validate()?;
        let metrics = RouterMetrics::register(&registry).map_err(|e| RouterError::Metrics(e.to_string()))?;
        let mut redactor = Redactor::default();
        redactor.add(&config.primary);
        config.replicas.iter().for_each(|u| redactor.add(u));
        if let Some(u) = &config.fallthrough {
            redactor.add(u);
        }
        let redactor = Arc::new(redactor);
        let primary = Target::build(
            TargetLink::new(
                PoolRole::Primary,
                &config.primary,
                &config,
                metrics.target("primary", config.primary.name()),
                redactor.clone(),
            ),
            &config,
        );
        let ft_url = config.fallthrough_url().clone();
        let fallthrough = Target::build(
            TargetLink::new(
                PoolRole::Fallthrough,
                &ft_url,
                &config,
                metrics.target("fallthrough", ft_url.name()),
                redactor.clone(),
            ),
            &config,
        );
        let replicas = config
            .replicas
            .iter()
            .map(|u| Replica {
                target: Target::build(
                    TargetLink::new(
                        PoolRole::Replica,
                        u,
                        &config,
                        metrics.target("replica", u.name()),
                        redactor.clone(),
                    ),
                    &config,
                ),
                state: ReplicaState::default(),
                freshness: Freshness::default(),
                ban: Ban::default(),
                replayed: AtomicU64::new(0),
            })
            .collect();
        let inner = Arc::new(RouterInner {
            config,
            primary,
            fallthrough,
            replicas,
            primary_state: PrimaryState::default(),
            sampler: SamplerState::new(),
            health_lock: tokio::sync::Mutex::new(()),
            cursor: AtomicUsize::new(0),
            metrics,
            registry,
            tasks: Mutex::new(Vec::new()),
            state_registered: AtomicBool::new(false),
        });
        inner
            .registry
            .register(Box::new(StateCollector::new(Arc::downgrade(&inner))))
            .map_err(|e| RouterError::Metrics(e.to_string()))?;
        inner.state_registered.store(true, Ordering::Relaxed);
        for (i, replica) in inner.replicas.iter().enumerate() {
            replica.target.link.on_wire_event(crate::sampler::wire_hook(Arc::downgrade(&inner), i));
        }

        check_health(&inner).await;
        inspect_at_start(&inner).await?;
        let mut tasks = vec![spawn_health_task(&inner)];
        tasks.extend(crate::sampler::spawn(&inner));
        if let Some(every) = inner.config.stats_log_interval {
            tasks.push(spawn_stats_task(&inner, every));
        }
        *inner.tasks.lock().unwrap_or_else(|p| p.into_inner()) = tasks;
        tracing::info!(target: "ro_router", config = %inner.config, "router started");
        Ok(Self { inner })
    }

    /// Checks out a read-write connection to the primary.
    ///
    /// Fails with [`RouterError::PrimaryUnavailable`] when the primary cannot be reached,
    /// its pool stays busy past `DB_POOL_TIMEOUT_MS`, or it is in recovery (a standby).
    pub async fn get_db(&self) -> Result<PrimaryConnection, RouterError> {
        let inner = &self.inner;
        let target = &inner.primary;
        if inner.primary_state.in_recovery() {
            target.link.counters.failures.inc();
            return Err(RouterError::PrimaryUnavailable {
                target: target.link.name.clone(),
                failure: crate::error::CheckoutFailure::new(
                    CheckoutFailureKind::NotAPrimary,
                    "the last health check found the server in recovery (a standby)".into(),
                    None,
                ),
            });
        }
        match target.get().await {
            Ok(obj) => Ok(PrimaryConnection::new(obj, &target.link)),
            Err(PoolError::Closed) => Err(RouterError::Closed),
            Err(e) => {
                target.link.counters.failures.inc();
                Err(RouterError::PrimaryUnavailable {
                    target: target.link.name.clone(),
                    failure: target.link.failure(e, target.max_size, inner.config.pool_timeout),
                })
            }
        }
    }

    /// Checks out a read-only connection: from a replica in rotation chosen by the strategy,
    /// retrying the others if a checkout fails; else, with fallback on, from the fallthrough
    /// pool to the primary. Every such connection refuses writes (SQLSTATE 25006).
    ///
    /// When every replica connection is checked out, the spill policy (`DB_RO_SPILL`) decides:
    /// wait for one up to `DB_RO_SPILL_WAIT_MS` and then go to the primary (`after`, the
    /// default), go at once (`immediate`), or wait up to `DB_POOL_TIMEOUT_MS` and fail
    /// (`never`, and always with fallback off).
    pub async fn get_db_ro(&self) -> Result<ReadOnlyConnection, RouterError> {
        self.read_only(None).await.map(|(conn, _)| conn)
    }

    /// A read-only connection that sees every write up to `token` (read-your-writes; take the
    /// token with [`PrimaryConnection::write_token`] after the write).
    ///
    /// A replica known to have replayed the token is preferred (no round trip); otherwise the
    /// replica picked is asked (`pg_last_wal_replay_lsn()`) and, while it is behind, asked
    /// again up to `DB_READ_YOUR_WRITES_WAIT_MS`. Still behind, the read goes to the
    /// fallthrough pool on the primary, which is always up to date (fallback reason
    /// `behind_write_token`); with fallback off it fails instead. Every call is counted by
    /// outcome: `replica_fresh`, `waited` or `fell_through`.
    pub async fn get_db_ro_after(&self, token: &WriteToken) -> Result<ReadOnlyConnection, RouterError> {
        let inner = &*self.inner;
        let count = |outcome| inner.metrics.read_your_writes(outcome).inc();
        let (conn, replica) = self.read_only(Some(*token)).await?;
        let Some(i) = replica else {
            count(ReadYourWritesOutcome::FellThrough);
            return Ok(conn);
        };
        let wait = inner.config.read_your_writes_wait;
        let known = inner.replicas[i].replayed_at_least();
        let (target, reason) = match catch_up(&conn, known, *token, wait, inner.config.connect_timeout).await
        {
            CatchUp::Replayed { waited: false } => {
                count(ReadYourWritesOutcome::ReplicaFresh);
                return Ok(conn);
            }
            CatchUp::Replayed { waited: true } => {
                count(ReadYourWritesOutcome::Waited);
                return Ok(conn);
            }
            CatchUp::Behind { replayed } => {
                let at = replayed.map_or_else(|| "an unknown position".to_string(), |r| r.to_string());
                let why = format!(
                    "replayed up to {at}, behind write token {token} after {} ms (DB_READ_YOUR_WRITES_WAIT_MS)",
                    wait.as_millis()
                );
                let target = conn.target().to_string();
                drop(conn);
                (target, why)
            }
            CatchUp::Unanswered => {
                let target = conn.target().to_string();
                conn.discard();
                let why = format!(
                    "did not say how far it replayed within {} ms (DB_CONNECT_TIMEOUT_MS)",
                    inner.config.connect_timeout.as_millis()
                );
                (target, why)
            }
        };
        let unusable = vec![Unusable { target, reason }];
        if !inner.config.fallback {
            return Err(RouterError::ReadOnlyUnavailable { unusable });
        }
        let conn = self.fall_through(FallbackReason::BehindWriteToken, unusable).await?;
        count(ReadYourWritesOutcome::FellThrough);
        Ok(conn)
    }

    /// A read-only checkout, and the index of the replica that served it (`None`: the
    /// fallthrough pool). With a token, replicas known to have replayed it are tried first.
    async fn read_only(
        &self,
        token: Option<WriteToken>,
    ) -> Result<(ReadOnlyConnection, Option<usize>), RouterError> {
        let inner = &*self.inner;
        // The clock is read only when there are replicas to judge by it.
        let now = if inner.replicas.is_empty() { 0 } else { inner.sampler.now() };
        let gate = Gate::new(&inner.config);
        let eligible = (0..inner.replicas.len()).filter(|&i| inner.replicas[i].eligible(&gate, now));
        // Without an allocation up to 16 replicas.
        let (mut on_stack, mut on_heap) = ([0usize; 16], Vec::new());
        let order: &mut [usize] = if inner.replicas.len() <= on_stack.len() {
            let mut n = 0;
            for i in eligible {
                on_stack[n] = i;
                n += 1;
            }
            &mut on_stack[..n]
        } else {
            on_heap.extend(eligible);
            &mut on_heap
        };
        strategy::order(inner.config.strategy, &inner.cursor, order, |i| {
            inner.replicas[i].target.link.checked_out.load(Ordering::Relaxed)
        });
        if let Some(token) = token {
            // Stable: the strategy's order stays among replicas equally fresh.
            order.sort_by_key(|&i| {
                inner.replicas[i].replayed_at_least().load(Ordering::Relaxed) < token.lsn()
            });
        }

        let mut failed: Vec<Unusable> = Vec::new();
        let mut exhausted: Vec<usize> = Vec::new();
        let mut pending_retry: Option<usize> = None;
        for &i in order.iter() {
            if let Some(prev) = pending_retry.take() {
                inner.replicas[prev].target.link.counters.retries.inc();
            }
            let replica = &inner.replicas[i];
            let target = &replica.target;
            match checkout_replica(target).await {
                Ok(obj) => return Ok((ReadOnlyConnection::new(obj, &target.link), Some(i))),
                Err(PoolError::Timeout(TimeoutType::Wait)) => exhausted.push(i),
                Err(PoolError::Closed) => return Err(RouterError::Closed),
                Err(e) => {
                    target.link.counters.failures.inc();
                    let timed_out = matches!(e, PoolError::Timeout(_));
                    let failure = target.link.failure(e, target.max_size, Duration::ZERO);
                    let reason = if timed_out { BanReason::Timeout } else { BanReason::ConnectFailed };
                    replica.ban(inner, reason, inner.sampler.now());
                    if timed_out {
                        // It stopped answering: queries in flight there must fail, not hang.
                        target.link.sever();
                    }
                    if replica.state.mark_checkout_failed(failure.to_string()) {
                        tracing::warn!(
                            target: "ro_router::health",
                            db = %target.link.name,
                            error = %failure,
                            "replica {} left rotation: checkout failed; retrying elsewhere",
                            target.link.name
                        );
                    }
                    failed.push(Unusable { target: target.link.name.clone(), reason: failure.to_string() });
                    pending_retry = Some(i);
                }
            }
        }
        let mut going_elsewhere = || {
            if let Some(prev) = pending_retry.take() {
                inner.replicas[prev].target.link.counters.retries.inc();
            }
        };

        if let Some(&i) = exhausted.first() {
            let c = &inner.config;
            let plan = spill::plan(c.spill, c.fallback, c.spill_wait, c.pool_timeout);
            let target = &inner.replicas[i].target;
            let spill_reason = match plan {
                BusyReplicas::Spill => SpillReason::Busy,
                BusyReplicas::WaitThenSpill(wait) | BusyReplicas::WaitThenFail(wait) => {
                    going_elsewhere();
                    let timeouts = Timeouts { wait: Some(wait), ..target.no_wait };
                    match target.pool.timeout_get(&timeouts).await {
                        Ok(obj) => {
                            inner.metrics.replica_waits.inc();
                            return Ok((ReadOnlyConnection::new(obj, &target.link), Some(i)));
                        }
                        Err(PoolError::Closed) => return Err(RouterError::Closed),
                        Err(_) if matches!(plan, BusyReplicas::WaitThenSpill(_)) => SpillReason::WaitTimedOut,
                        Err(e) => {
                            target.link.counters.failures.inc();
                            let mut failure = target.link.failure(e, target.max_size, wait);
                            if c.fallback {
                                failure.message.push_str(
                                    "; DB_RO_SPILL=never keeps reads off the primary while replicas are busy \
                                     (DB_RO_SPILL=after would send them there)",
                                );
                            }
                            return Err(RouterError::ReplicaExhausted {
                                target: target.link.name.clone(),
                                failure,
                            });
                        }
                    }
                }
            };
            inner.metrics.spill(spill_reason).inc();
        }

        let reason = self.fallback_reason(order, &failed, &exhausted, &gate, now);
        let mut unusable = failed;
        for (i, r) in inner.replicas.iter().enumerate() {
            if !order.contains(&i) {
                unusable.push(Unusable {
                    target: r.target.link.name.clone(),
                    reason: format!("out of rotation ({})", r.status_at(&gate, now).as_str()),
                });
            } else if exhausted.contains(&i) {
                unusable.push(Unusable {
                    target: r.target.link.name.clone(),
                    reason: format!("all {} connections checked out", r.target.max_size),
                });
            }
        }
        if inner.config.fallback {
            going_elsewhere();
            return self.fall_through(reason, unusable).await.map(|conn| (conn, None));
        }
        Err(RouterError::ReadOnlyUnavailable { unusable })
    }

    /// A checkout from the fallthrough pool, counted under `reason`.
    async fn fall_through(
        &self,
        reason: FallbackReason,
        unusable: Vec<Unusable>,
    ) -> Result<ReadOnlyConnection, RouterError> {
        let inner = &*self.inner;
        let target = &inner.fallthrough;
        match target.get().await {
            Ok(obj) => {
                inner.metrics.fallback(reason).inc();
                tracing::debug!(target: "ro_router", reason = reason.as_str(), "read fell through to the primary");
                Ok(ReadOnlyConnection::new(obj, &target.link))
            }
            Err(PoolError::Closed) => Err(RouterError::Closed),
            Err(e) => {
                target.link.counters.failures.inc();
                Err(RouterError::FallthroughUnavailable {
                    reason,
                    unusable,
                    target: target.link.name.clone(),
                    failure: target.link.failure(e, target.max_size, inner.config.pool_timeout),
                })
            }
        }
    }

    fn fallback_reason(
        &self,
        tried: &[usize],
        failed: &[Unusable],
        exhausted: &[usize],
        gate: &Gate,
        now: u64,
    ) -> FallbackReason {
        let replicas = &self.inner.replicas;
        let lagging = |r: &Replica| r.status_at(gate, now) == ReplicaStatus::Lagging;
        if replicas.is_empty() {
            FallbackReason::NoneConfigured
        } else if !tried.is_empty() && failed.is_empty() && exhausted.len() == tried.len() {
            FallbackReason::Exhausted
        } else if failed.is_empty()
            && replicas.iter().all(|r| r.eligible(gate, now) || lagging(r))
            && replicas.iter().any(lagging)
        {
            FallbackReason::Lagging
        } else {
            FallbackReason::Unhealthy
        }
    }

    /// Runs a health check of every target now (the background task runs one every
    /// `DB_READ_REPLICA_HEALTH_CHECK_INTERVAL`).
    pub async fn refresh_health(&self) {
        check_health(&self.inner).await;
    }

    /// The current health of the primary and every replica.
    pub fn health(&self) -> HealthReport {
        self.inner.health()
    }

    /// Size, availability and routing of every pool, with the checkout counters.
    pub fn pool_stats(&self) -> RouterStats {
        self.inner.pool_stats()
    }

    /// The registry holding the router's metrics.
    pub fn metrics_registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// The registry's metrics in Prometheus' text format (for a `/metrics` endpoint).
    pub fn render_metrics(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.inner.registry.gather(), &mut out)
            .expect("the text encoder writes to memory");
        String::from_utf8(out).expect("the text format is UTF-8")
    }

    /// The configuration the router runs with.
    pub fn config(&self) -> &RouterConfig {
        &self.inner.config
    }

    /// Stops the background tasks and closes every pool: idle connections close now,
    /// checked-out ones when they are returned, and further checkouts fail with
    /// [`RouterError::Closed`].
    pub fn close(&self) {
        let inner = &self.inner;
        for t in inner.tasks.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            t.abort();
        }
        inner.primary.pool.close();
        inner.fallthrough.pool.close();
        for r in &inner.replicas {
            r.target.pool.close();
        }
        tracing::info!(target: "ro_router", "router closed");
    }

    /// True once [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.primary.pool.is_closed()
    }
}

/// A replica checkout that does not wait for connections in use, but does for one whose
/// release is being proven clean (see [`crate::proof`]): it is back within a round trip, and
/// a read must not fall through to the primary for that.
async fn checkout_replica(
    target: &Target,
) -> Result<deadpool::managed::Object<crate::target_pool::TargetManager>, PoolError<ConnectError>> {
    match target.pool.timeout_get(&target.no_wait).await {
        Err(PoolError::Timeout(TimeoutType::Wait)) if target.link.proving.load(Ordering::Relaxed) > 0 => {
            let wait = Timeouts { wait: Some(target.link.verify_timeout), ..target.no_wait };
            target.pool.timeout_get(&wait).await
        }
        other => other,
    }
}

/// Inspects the read-only targets that answer (the others are inspected at their first
/// connection) and refuses to start on a pgBouncer that does not pool by session.
async fn inspect_at_start(inner: &RouterInner) -> Result<(), RouterError> {
    let ft_var = if inner.config.fallthrough.is_some() { env::FALLTHROUGH_URL } else { env::PRIMARY_URL };
    let mut targets = vec![(&inner.fallthrough, ft_var)];
    targets.extend(inner.replicas.iter().map(|r| (&r.target, env::REPLICA_URLS)));
    let timeout = inner.config.health_check_timeout;
    let checks: Vec<_> = targets
        .iter()
        .map(|(t, _)| {
            let link = t.link.clone();
            tokio::spawn(async move { tokio::time::timeout(timeout, link.inspect()).await })
        })
        .collect();
    for ((target, var), check) in targets.iter().zip(checks) {
        if let Ok(Ok(Err(ConnectError::PoolMode(mode)))) = check.await {
            return Err(RouterError::Config(ConfigError::InvalidVar {
                var: var.to_string(),
                reason: format!("{} refused: {}", target.link.name, pool_mode_refusal(mode)),
            }));
        }
    }
    Ok(())
}

/// The health and lag checks, every `DB_READ_REPLICA_HEALTH_CHECK_INTERVAL` (supervised: a
/// panic restarts it).
fn spawn_health_task(inner: &Arc<RouterInner>) -> JoinHandle<()> {
    let weak = Arc::downgrade(inner);
    let every = inner.config.health_check_interval;
    supervise::spawn("health", inner.metrics.task_panics.clone(), move || {
        let weak = weak.clone();
        async move {
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await; // the first check ran when the router was built (or panicked)
            loop {
                ticker.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                check_health(&inner).await;
            }
        }
    })
}

/// The `ro_router::stats` log line, every `DB_POOL_STATS_LOG_INTERVAL` (supervised).
fn spawn_stats_task(inner: &Arc<RouterInner>, every: Duration) -> JoinHandle<()> {
    let weak = Arc::downgrade(inner);
    supervise::spawn("stats", inner.metrics.task_panics.clone(), move || {
        let weak = weak.clone();
        async move {
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                let stats = inner.pool_stats();
                tracing::info!(target: "ro_router::stats", "{}", stats.log_line());
            }
        }
    })
}
