//! The lag sampler and the rotation verdict built on it.
//!
//! Every `DB_LAG_SAMPLE_INTERVAL_MS` (250 ms by default) one task reads the primary's
//! `pg_current_wal_lsn()`, then one task per replica reads `pg_last_wal_replay_lsn()` and
//! `pg_is_in_recovery()` — each on its own kept connection (not the pools), with a short
//! `statement_timeout` and a client-side `DB_LAG_SAMPLE_TIMEOUT_MS`. A replica that does not
//! answer in time is banned and its connections severed; one that left recovery is banned and
//! drained; one past a lag limit is banned for the base period (see [`crate::bans`]).
//!
//! The verdict `get_db_ro()` reads is a handful of atomics per replica: the instant the
//! replica was last known to have replayed everything the primary had written
//! ([`crate::lag`]), its byte lag, its ban. The time bound grows between samples on its own,
//! so a replica whose replay stops leaves rotation once the bound passes the limit even if no
//! sample ran since. Idle costs: two one-row queries per replica per interval on kept
//! connections; an unchanged primary position adds no sample, and a caught-up replica has
//! no lag. The sampler does not slow down when nothing reads: a hung or promoted replica must
//! be seen within one interval, and a slowed sampler would send the first read after a quiet
//! spell to the primary.
//!
//! The health check ([`crate::inner::check_health`]) reports its observations through
//! [`observe_replica`] too, and so does every pooled connection's wire ([`wire_hook`]: a
//! promoted server's `in_hot_standby = off`, a read ended by the statement timeout): one place
//! decides rotation. Nothing here hands out connections.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex, Weak,
    },
    time::{Duration, Instant},
};

use tokio::{sync::watch, task::JoinHandle};
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::{
    bans::{BanPolicy, BanReason, Clock},
    config::RouterConfig,
    health::{ReplicaHealth, ReplicaStatus},
    inner::{Replica, RouterInner},
    lag::{self, Lag, WalSamples},
    pools::TargetLink,
    supervise,
    wire::{EventHook, WireEvent},
};

/// The sampler's shared state: the primary's positions, and whether it answers.
#[derive(Debug)]
pub(crate) struct SamplerState {
    pub(crate) clock: Clock,
    pub(crate) wal: Mutex<WalSamples>,
    /// False while the primary's position cannot be read: lag is then unknown and does not
    /// take replicas out of rotation (reads go on during a primary outage).
    primary_measured: AtomicBool,
}

impl SamplerState {
    pub(crate) fn new() -> Self {
        Self {
            clock: Clock::new(),
            wal: Mutex::new(WalSamples::default()),
            primary_measured: AtomicBool::new(false),
        }
    }

    pub(crate) fn now(&self) -> u64 {
        self.clock.nanos(Instant::now())
    }

    /// Records a primary observation: its position when a query sent at `sent` ran, or
    /// `None` when it did not answer or is in recovery.
    pub(crate) fn primary_at(&self, sent: Instant, lsn: Option<u64>) {
        if let Some(lsn) = lsn {
            self.wal.lock().unwrap_or_else(|p| p.into_inner()).push(sent, lsn);
        }
        self.primary_measured.store(lsn.is_some(), Ordering::Release);
    }
}

/// What the sampler last found about one replica (atomics: read on every `get_db_ro()`).
#[derive(Debug, Default)]
pub(crate) struct Freshness {
    /// Clock nanoseconds; 0 = unknown (behind every primary sample kept).
    fresh_as_of: AtomicU64,
    measured: AtomicBool,
    lag_bytes: AtomicU64,
    lag_ms: AtomicU64,
    sampled_at: AtomicU64,
}

/// The limits a replica's freshness is held to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Gate {
    enabled: bool,
    max_lag_ns: u64,
    max_bytes: Option<u64>,
    /// With the sampler off the time bound is not extrapolated between health checks.
    extrapolate: bool,
}

impl Gate {
    pub(crate) fn new(config: &RouterConfig) -> Self {
        Self {
            enabled: config.lag_check_enabled,
            max_lag_ns: config.max_replication_lag.as_nanos() as u64,
            max_bytes: config.max_replication_lag_bytes,
            extrapolate: config.lag_sample_interval.is_some(),
        }
    }

    fn exceeded_by(&self, lag: &Lag) -> bool {
        self.enabled
            && (lag.millis.saturating_mul(1_000_000) > self.max_lag_ns
                || lag.fresh_as_of.is_none()
                || self.max_bytes.is_some_and(|b| lag.bytes > b))
    }
}

impl Freshness {
    fn record(&self, clock: &Clock, lag: Option<Lag>, now: u64) {
        if let Some(l) = lag {
            self.fresh_as_of.store(l.fresh_as_of.map_or(0, |at| clock.nanos(at)), Ordering::Relaxed);
            self.lag_bytes.store(l.bytes, Ordering::Relaxed);
            self.lag_ms.store(l.millis, Ordering::Relaxed);
        }
        self.sampled_at.store(now, Ordering::Relaxed);
        self.measured.store(lag.is_some(), Ordering::Release);
    }

    /// Whether the replica is within the limits at `now` (clock nanoseconds).
    fn admits(&self, gate: &Gate, now: u64) -> bool {
        if !gate.enabled || !self.measured.load(Ordering::Acquire) {
            return true;
        }
        if gate.max_bytes.is_some_and(|b| self.lag_bytes.load(Ordering::Relaxed) > b) {
            return false;
        }
        if !gate.extrapolate || gate.max_lag_ns == 0 {
            return self.lag_ms.load(Ordering::Relaxed).saturating_mul(1_000_000) <= gate.max_lag_ns;
        }
        match self.fresh_as_of.load(Ordering::Relaxed) {
            0 => false,
            at => now.saturating_sub(at) <= gate.max_lag_ns,
        }
    }

    /// The bound on how far behind the replica may be at `now`, milliseconds.
    fn bound_ms(&self, now: u64) -> Option<u64> {
        if !self.measured.load(Ordering::Acquire) {
            return None;
        }
        match self.fresh_as_of.load(Ordering::Relaxed) {
            0 => None,
            at => Some(now.saturating_sub(at) / 1_000_000),
        }
    }
}

impl Replica {
    /// The replay position last sampled (`None` while unknown or out of recovery).
    pub(crate) fn replay_lsn(&self) -> Option<u64> {
        Some(self.replayed_at_least().load(Ordering::Relaxed)).filter(|&l| l > 0)
    }

    /// Whether `get_db_ro()` may pick it at `now` (clock nanoseconds): atomics only.
    pub(crate) fn eligible(&self, gate: &Gate, now: u64) -> bool {
        self.state.in_rotation() && !self.ban.active(now) && self.freshness.admits(gate, now)
    }

    /// Its status at `now`: the last observation's, then a running ban, then the lag bound.
    pub(crate) fn status_at(&self, gate: &Gate, now: u64) -> ReplicaStatus {
        if !self.state.in_rotation() {
            self.state.status()
        } else if self.ban.active(now) {
            if self.ban.reason() == BanReason::Lag {
                ReplicaStatus::Lagging
            } else {
                ReplicaStatus::Banned
            }
        } else if !self.freshness.admits(gate, now) {
            ReplicaStatus::Lagging
        } else {
            ReplicaStatus::Healthy
        }
    }

    pub(crate) fn report(&self, gate: &Gate, now: u64) -> ReplicaHealth {
        let mut r = self.state.report(&self.target.link.name);
        r.status = self.status_at(gate, now);
        r.in_rotation = self.eligible(gate, now);
        r.ban = self.ban.report(now);
        r.replay_lsn = self.replay_lsn().map(lag::format_lsn);
        r.staleness_bound_ms = self.freshness.bound_ms(now);
        let sampled = self.freshness.sampled_at.load(Ordering::Relaxed);
        r.sampled_ms_ago = (sampled > 0).then(|| now.saturating_sub(sampled) / 1_000_000);
        r
    }

    /// Bans (or extends the ban); true for a new ban.
    pub(crate) fn ban(&self, inner: &RouterInner, reason: BanReason, now: u64) -> bool {
        let policy = BanPolicy { base: inner.config.replica_ban, max: inner.config.replica_ban_max };
        let new = self.ban.impose(reason, &policy, now);
        if new {
            inner.metrics.ban(&self.target.link.name, reason).inc();
        }
        new
    }
}

/// Who observed a replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Observer {
    Sampler,
    /// The health check: a fresh connection that answers lifts a ban.
    HealthCheck,
    /// A pooled connection's wire ([`wire_hook`]).
    Wire,
}

/// What one observation of a replica found.
#[derive(Debug)]
pub(crate) enum Observation {
    Answered {
        in_recovery: bool,
        replay_lsn: Option<u64>,
    },
    TimedOut(String),
    Failed(String),
    /// A read on it was ended by `statement_timeout`: the server answers, but too slowly (a
    /// replay conflict, a lock, an overloaded server).
    StatementTimedOut,
}

/// What a replica's connections call with their [`WireEvent`]s: the observation goes to
/// [`observe_replica`] on a task of its own (the hook runs inside a connection's poll).
pub(crate) fn wire_hook(inner: Weak<RouterInner>, replica: usize) -> EventHook {
    Arc::new(move |event| {
        let seen = match event {
            WireEvent::Promoted => Observation::Answered { in_recovery: false, replay_lsn: None },
            WireEvent::StatementTimeout => Observation::StatementTimedOut,
        };
        let inner = inner.clone();
        let observe = move || {
            if let Some(inner) = inner.upgrade() {
                observe_replica(&inner, &inner.replicas[replica], seen, Observer::Wire);
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(async move { observe() })),
            Err(_) => observe(),
        }
    })
}

/// Applies an observation: status, lag, bans, severing, draining, logs.
pub(crate) fn observe_replica(inner: &RouterInner, replica: &Replica, seen: Observation, by: Observer) {
    let sampler = &inner.sampler;
    let now_at = Instant::now();
    let now = sampler.clock.nanos(now_at);
    let name = &replica.target.link.name;
    let gate = Gate::new(&inner.config);
    let (status, lag, error) = match &seen {
        Observation::StatementTimedOut => {
            // One is enough: the next reads go elsewhere for the ban period (see the README).
            // The server answers: its status and connections stay as they are.
            if replica.ban(inner, BanReason::Timeout, now) {
                tracing::warn!(
                    target: "ro_router::health",
                    db = %name,
                    "replica {name} banned: a read on it was ended by the statement timeout"
                );
            }
            return;
        }
        Observation::TimedOut(e) => {
            replica.ban(inner, BanReason::Timeout, now);
            (ReplicaStatus::Unreachable, None, Some(e.clone()))
        }
        Observation::Failed(_) if replica.ban.active(now) && replica.ban.reason() == BanReason::Promoted => {
            // Its connections were severed for the promotion (a sample's too): nothing new.
            return;
        }
        Observation::Failed(e) => {
            replica.ban(inner, BanReason::ConnectFailed, now);
            (ReplicaStatus::Unreachable, None, Some(e.clone()))
        }
        Observation::Answered { in_recovery: false, .. } => {
            // No read-your-writes token may be sent to a diverging server.
            replica.replayed_at_least().store(0, Ordering::Relaxed);
            replica.ban(inner, BanReason::Promoted, now);
            (ReplicaStatus::NotInRecovery, None, None)
        }
        Observation::Answered { in_recovery: true, replay_lsn } => {
            let lag = match (sampler.primary_measured.load(Ordering::Acquire), replay_lsn) {
                (true, Some(r)) => {
                    lag::measure(*r, &sampler.wal.lock().unwrap_or_else(|p| p.into_inner()), now_at)
                }
                _ => None,
            };
            if let Some(r) = replay_lsn {
                // Replay only moves forward: a later position a read saw is kept.
                replica.replayed_at_least().fetch_max(*r, Ordering::Relaxed);
            }
            replica.freshness.record(&sampler.clock, lag, now);
            let lagging = lag.is_some_and(|l| gate.exceeded_by(&l));
            let policy = BanPolicy { base: inner.config.replica_ban, max: inner.config.replica_ban_max };
            if lagging {
                replica.ban(inner, BanReason::Lag, now);
            } else if by == Observer::HealthCheck {
                replica.ban.lift();
            } else {
                replica.ban.settle(&policy, now);
            }
            (if lagging { ReplicaStatus::Lagging } else { ReplicaStatus::Healthy }, lag, None)
        }
    };
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
    match &seen {
        Observation::TimedOut(_) => {
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
        Observation::Failed(_) => {
            replica.target.drain_idle();
        }
        Observation::Answered { in_recovery: false, .. } => {
            // A diverging server: no read may go on there, in flight or pooled.
            replica.target.drain_idle();
            replica.target.link.sever();
        }
        Observation::Answered { .. } | Observation::StatementTimedOut => {}
    }
}

const PRIMARY_SQL: &str =
    "SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END";
const REPLICA_SQL: &str = "SELECT pg_is_in_recovery()::text, pg_last_wal_replay_lsn()::text";

/// One sample on a kept connection (opened, or opened again, as needed).
async fn sample(
    link: &TargetLink,
    conn: &mut Option<Client>,
    sql: &str,
    timeout: Duration,
) -> Result<Vec<Option<String>>, Observation> {
    let run = async {
        if conn.as_ref().is_none_or(Client::is_closed) {
            let (client, _driver) = link.open().await?;
            client.simple_query(&format!("SET statement_timeout = {}", timeout.as_millis().max(1))).await?;
            *conn = Some(client);
        }
        Ok::<_, crate::error::OpenError>(conn.as_ref().expect("opened above").simple_query(sql).await?)
    };
    let outcome = tokio::time::timeout(timeout, run).await;
    let row = match outcome {
        Err(_) => Err(Observation::TimedOut(format!(
            "lag sample got no answer within {} ms (DB_LAG_SAMPLE_TIMEOUT_MS)",
            timeout.as_millis()
        ))),
        Ok(Err(e)) => Err(Observation::Failed(format!(
            "lag sample failed: {}",
            link.redactor.redact(crate::error::describe(&e))
        ))),
        Ok(Ok(messages)) => messages
            .into_iter()
            .find_map(|m| match m {
                SimpleQueryMessage::Row(r) => {
                    Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
                }
                _ => None,
            })
            .ok_or_else(|| Observation::Failed("lag sample returned no row".into())),
    };
    if row.is_err() {
        *conn = None;
    }
    row
}

/// Starts the sampler (nothing when `DB_LAG_SAMPLE_INTERVAL_MS` is 0): one primary task that
/// starts each round, one task per replica that follows it.
pub(crate) fn spawn(inner: &Arc<RouterInner>) -> Vec<JoinHandle<()>> {
    let Some(every) = inner.config.lag_sample_interval else { return Vec::new() };
    let timeout = inner.config.lag_sample_timeout;
    let rounds = Arc::new(watch::channel(0u64).0);
    let panics = inner.metrics.task_panics.clone();
    let mut tasks = Vec::new();
    let (weak, link, tx) = (Arc::downgrade(inner), inner.primary.link.clone(), rounds.clone());
    tasks.push(supervise::spawn("lag-sampler", panics.clone(), move || {
        primary_loop(weak.clone(), link.clone(), tx.clone(), every, timeout)
    }));
    for i in 0..inner.replicas.len() {
        let (weak, link, rounds) =
            (Arc::downgrade(inner), inner.replicas[i].target.link.clone(), rounds.clone());
        tasks.push(supervise::spawn("lag-sampler", panics.clone(), move || {
            replica_loop(weak.clone(), link.clone(), rounds.subscribe(), i, timeout)
        }));
    }
    tasks
}

async fn primary_loop(
    weak: Weak<RouterInner>,
    link: Arc<TargetLink>,
    rounds: Arc<watch::Sender<u64>>,
    every: Duration,
    timeout: Duration,
) {
    let mut conn = None;
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let sent = Instant::now();
        let found = sample(&link, &mut conn, PRIMARY_SQL, timeout).await;
        let Some(inner) = weak.upgrade() else { break };
        let lsn = found
            .as_ref()
            .ok()
            .and_then(|row| row.first().cloned().flatten())
            .and_then(|t| lag::parse_lsn(&t));
        inner.sampler.primary_at(sent, lsn);
        inner.metrics.lag_sample(&link.name, outcome(&found)).inc();
        rounds.send_modify(|n| *n = n.wrapping_add(1));
    }
}

async fn replica_loop(
    weak: Weak<RouterInner>,
    link: Arc<TargetLink>,
    mut rounds: watch::Receiver<u64>,
    i: usize,
    timeout: Duration,
) {
    let mut conn = None;
    while rounds.changed().await.is_ok() {
        let found = sample(&link, &mut conn, REPLICA_SQL, timeout).await;
        let Some(inner) = weak.upgrade() else { break };
        inner.metrics.lag_sample(&link.name, outcome(&found)).inc();
        let seen = match found {
            Ok(row) => Observation::Answered {
                in_recovery: row.first().cloned().flatten().as_deref() == Some("true"),
                replay_lsn: row.get(1).cloned().flatten().as_deref().and_then(lag::parse_lsn),
            },
            Err(e) => e,
        };
        observe_replica(&inner, &inner.replicas[i], seen, Observer::Sampler);
    }
}

fn outcome<T>(found: &Result<T, Observation>) -> &'static str {
    match found {
        Ok(_) => "ok",
        Err(Observation::TimedOut(_)) => "timeout",
        Err(_) => "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn gate(extrapolate: bool, max_bytes: Option<u64>) -> Gate {
        Gate { enabled: true, max_lag_ns: 1000 * MS, max_bytes, extrapolate }
    }

    /// A replica sampled at clock time `at` (ns), fresh as of `fresh` (ns), with this lag.
    fn sampled(clock: &Clock, at: u64, fresh: Option<u64>, bytes: u64, millis: u64) -> Freshness {
        let f = Freshness::default();
        let now = Instant::now();
        let base = now - Duration::from_nanos(clock.nanos(now));
        let fresh_as_of = fresh.map(|ns| base + Duration::from_nanos(ns));
        f.record(clock, Some(Lag { bytes, millis, fresh_as_of }), at);
        f
    }

    #[test]
    fn the_bound_grows_between_samples_until_the_limit() {
        let clock = Clock::new();
        let f = sampled(&clock, 5000 * MS, Some(4900 * MS), 0, 0);
        assert!(f.admits(&gate(true, None), 5000 * MS));
        assert!(f.admits(&gate(true, None), 5900 * MS), "exactly the limit behind");
        assert!(!f.admits(&gate(true, None), 5901 * MS), "no sample since: past the limit");
        assert_eq!(f.bound_ms(5400 * MS), Some(500));
    }

    #[test]
    fn behind_every_sample_is_out_and_an_unknown_primary_is_no_reason() {
        let clock = Clock::new();
        let f = sampled(&clock, 5000 * MS, None, 900, 5000);
        assert!(!f.admits(&gate(true, None), 5000 * MS));
        assert_eq!(f.bound_ms(5000 * MS), None);
        // The primary's position could not be read: lag is unknown, the replica serves.
        f.record(&clock, None, 6000 * MS);
        assert!(f.admits(&gate(true, None), 9000 * MS));
    }

    #[test]
    fn the_byte_limit_and_the_switches() {
        let clock = Clock::new();
        let f = sampled(&clock, 5000 * MS, Some(5000 * MS), 4096, 0);
        assert!(f.admits(&gate(true, Some(4096)), 5000 * MS));
        assert!(!f.admits(&gate(true, Some(4095)), 5000 * MS));
        let off = Gate { enabled: false, ..gate(true, Some(1)) };
        assert!(f.admits(&off, u64::MAX), "DB_LAG_CHECK_ENABLED=false");
        // Without the sampler the lag at the last health check decides, not the clock.
        let g = sampled(&clock, 5000 * MS, Some(3000 * MS), 10, 800);
        assert!(g.admits(&gate(false, None), 60_000 * MS));
        let g = sampled(&clock, 5000 * MS, Some(3000 * MS), 10, 1001);
        assert!(!g.admits(&gate(false, None), 5000 * MS));
    }
}
