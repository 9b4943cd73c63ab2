//! Health and lag: the probes the background task runs every interval (the check that runs
//! them is [`crate::inner::check_health`]), the rotation state of each replica, and the
//! [`HealthReport`].
//!
//! A replica is in rotation when it answered, `pg_is_in_recovery()` is true, it is not banned
//! ([`crate::bans`]), and (with the lag check on and the primary reachable) its lag is within
//! the limit — decided for probes and lag samples alike by [`crate::sampler::observe_replica`]. While the primary is
//! unreachable lag cannot be measured and reachable standbys stay in rotation, so reads go on
//! during a primary outage. A replica whose probe timed out has its connections severed: a
//! silently dropped network must turn into errors, not hung queries.
//!
//! Error texts pass through the redactor; a report never holds a password.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use serde::Serialize;
use tokio_postgres::SimpleQueryMessage;

use crate::{
    lag::{self, Lag},
    pools::TargetLink,
    stats::RoutesTo,
};

/// Health of a replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaStatus {
    /// Not checked yet.
    Unknown,
    /// In rotation.
    Healthy,
    /// Reachable and in recovery, but its lag is past the limit.
    Lagging,
    /// Reachable but not in recovery: promoted (or not a replica at all).
    NotInRecovery,
    /// The health probe failed or timed out.
    Unreachable,
    /// A checkout failed on it; the next health check (or lag sample) decides whether it
    /// comes back — after its ban ends.
    CheckoutFailed,
    /// It answers again, but a ban after a failure has not ended yet (see
    /// [`ReplicaHealth::ban`]).
    Banned,
}

impl ReplicaStatus {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Healthy => "healthy",
            Self::Lagging => "lagging",
            Self::NotInRecovery => "not_in_recovery",
            Self::Unreachable => "unreachable",
            Self::CheckoutFailed => "checkout_failed",
            Self::Banned => "banned",
        }
    }
}

/// Health of the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrimaryStatus {
    /// Not checked yet.
    Unknown,
    /// Reachable and not in recovery.
    Healthy,
    /// Reachable but in recovery: a standby (demoted). `get_db()` refuses until it is a
    /// primary again.
    InRecovery,
    /// The health probe failed or timed out.
    Unreachable,
}

impl PrimaryStatus {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Healthy => "healthy",
            Self::InRecovery => "in_recovery",
            Self::Unreachable => "unreachable",
        }
    }

    /// True for [`PrimaryStatus::Healthy`].
    pub fn is_healthy(self) -> bool {
        self == Self::Healthy
    }
}

/// The primary in a [`HealthReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrimaryHealth {
    /// `host:port/db`.
    pub target: String,
    /// Its status.
    pub status: PrimaryStatus,
    /// The last probe error (redacted).
    pub last_error: Option<String>,
    /// Milliseconds since the last probe.
    pub checked_ms_ago: Option<u64>,
}

/// One replica in a [`HealthReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplicaHealth {
    /// `host:port/db`.
    pub target: String,
    /// Its status.
    pub status: ReplicaStatus,
    /// Whether `get_db_ro()` may pick it.
    pub in_rotation: bool,
    /// WAL bytes not yet replayed (unknown while the primary is unreachable).
    pub lag_bytes: Option<u64>,
    /// Lag in time, milliseconds (unknown while the primary is unreachable).
    pub lag_ms: Option<u64>,
    /// The last probe or checkout error (redacted).
    pub last_error: Option<String>,
    /// Milliseconds since the last probe.
    pub checked_ms_ago: Option<u64>,
    /// The running ban, if any: why, and for how much longer.
    pub ban: Option<crate::BanReport>,
    /// The replay position last sampled (`16/B374D848`); it never goes back.
    pub replay_lsn: Option<String>,
    /// At most this many milliseconds behind the primary now (from the lag samples; `None`
    /// while unknown). Reads go elsewhere once it passes `max_replication_lag_ms`.
    pub staleness_bound_ms: Option<u64>,
    /// Milliseconds since the last lag sample or health probe that answered.
    pub sampled_ms_ago: Option<u64>,
}

/// The overall verdict of a [`HealthReport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OverallStatus {
    /// Primary healthy and every replica in rotation.
    Ok,
    /// Something is out, but reads and writes (or at least reads) are served.
    Degraded,
    /// Neither writes nor reads can be served.
    Down,
}

/// What `DbRouter::health()` reports; serializes to JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthReport {
    /// Overall verdict.
    pub status: OverallStatus,
    /// Where `get_db_ro()` goes now: `replica`, `primary_fallthrough` or `disabled`.
    pub reads_route_to: RoutesTo,
    /// The primary.
    pub primary: PrimaryHealth,
    /// The replicas, in configuration order.
    pub replicas: Vec<ReplicaHealth>,
    /// Whether reads fall through to the primary when no replica can serve.
    pub fallback: bool,
    /// Whether lag takes replicas out of rotation.
    pub lag_check_enabled: bool,
    /// The lag limit, milliseconds.
    pub max_replication_lag_ms: u64,
    /// The lag limit in WAL bytes (`None`: no byte limit).
    pub max_replication_lag_bytes: Option<u64>,
    /// Milliseconds between lag samples (`None`: no sampler).
    pub lag_sample_interval_ms: Option<u64>,
    /// What the fallthrough pool's role may write (measured once the primary answered; `None`
    /// before). A role that [`can write`](crate::RoleReport::is_read_only) is kept from writing
    /// by the session setting alone.
    pub fallthrough_role: Option<crate::RoleReport>,
    /// What reads do when every replica connection is checked out, and what they did.
    pub spill: crate::spill::SpillReport,
    /// Reads after a write: how long they wait for replay, and how they were served.
    pub read_your_writes: crate::read_your_writes::ReadYourWritesReport,
}

impl HealthReport {
    /// The report as a JSON object.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("health reports always serialize")
    }

    /// The replica with this target (`host:port/db`), if configured.
    pub fn replica(&self, target: &str) -> Option<&ReplicaHealth> {
        self.replicas.iter().find(|r| r.target == target)
    }
}

#[derive(Debug, Clone)]
struct Detail<S> {
    status: S,
    lag: Option<Lag>,
    last_error: Option<String>,
    checked_at: Option<Instant>,
}

/// Rotation state of one replica.
#[derive(Debug)]
pub(crate) struct ReplicaState {
    in_rotation: AtomicBool,
    detail: Mutex<Detail<ReplicaStatus>>,
}

impl Default for ReplicaState {
    fn default() -> Self {
        Self {
            in_rotation: AtomicBool::new(true),
            detail: Mutex::new(Detail {
                status: ReplicaStatus::Unknown,
                lag: None,
                last_error: None,
                checked_at: None,
            }),
        }
    }
}

impl ReplicaState {
    pub(crate) fn in_rotation(&self) -> bool {
        self.in_rotation.load(Ordering::Relaxed)
    }

    pub(crate) fn status(&self) -> ReplicaStatus {
        self.detail.lock().unwrap_or_else(|p| p.into_inner()).status
    }

    pub(crate) fn set(&self, status: ReplicaStatus, lag: Option<Lag>, error: Option<String>) -> bool {
        let mut d = self.detail.lock().unwrap_or_else(|p| p.into_inner());
        let was = self.in_rotation.swap(status == ReplicaStatus::Healthy, Ordering::Relaxed);
        d.status = status;
        d.lag = lag;
        d.last_error = error;
        d.checked_at = Some(Instant::now());
        was
    }

    /// Takes the replica out of rotation after a failed checkout (the caller bans it);
    /// returns whether it was in.
    pub(crate) fn mark_checkout_failed(&self, error: String) -> bool {
        let mut d = self.detail.lock().unwrap_or_else(|p| p.into_inner());
        let was = self.in_rotation.swap(false, Ordering::Relaxed);
        d.status = ReplicaStatus::CheckoutFailed;
        d.last_error = Some(error);
        was
    }

    pub(crate) fn report(&self, target: &str) -> ReplicaHealth {
        let d = self.detail.lock().unwrap_or_else(|p| p.into_inner()).clone();
        ReplicaHealth {
            target: target.to_string(),
            status: d.status,
            in_rotation: self.in_rotation(),
            lag_bytes: d.lag.map(|l| l.bytes),
            lag_ms: d.lag.map(|l| l.millis),
            last_error: d.last_error,
            checked_ms_ago: d.checked_at.map(|t| t.elapsed().as_millis() as u64),
            ban: None,
            replay_lsn: None,
            staleness_bound_ms: None,
            sampled_ms_ago: None,
        }
    }
}

/// State of the primary.
#[derive(Debug)]
pub(crate) struct PrimaryState {
    in_recovery: AtomicBool,
    detail: Mutex<Detail<PrimaryStatus>>,
}

impl Default for PrimaryState {
    fn default() -> Self {
        Self {
            in_recovery: AtomicBool::new(false),
            detail: Mutex::new(Detail {
                status: PrimaryStatus::Unknown,
                lag: None,
                last_error: None,
                checked_at: None,
            }),
        }
    }
}

impl PrimaryState {
    /// True when the last probe found the primary in recovery.
    pub(crate) fn in_recovery(&self) -> bool {
        self.in_recovery.load(Ordering::Relaxed)
    }

    pub(crate) fn set(&self, status: PrimaryStatus, error: Option<String>) -> PrimaryStatus {
        let mut d = self.detail.lock().unwrap_or_else(|p| p.into_inner());
        self.in_recovery.store(status == PrimaryStatus::InRecovery, Ordering::Relaxed);
        let before = d.status;
        d.status = status;
        d.last_error = error;
        d.checked_at = Some(Instant::now());
        before
    }

    pub(crate) fn report(&self, target: &str) -> PrimaryHealth {
        let d = self.detail.lock().unwrap_or_else(|p| p.into_inner()).clone();
        PrimaryHealth {
            target: target.to_string(),
            status: d.status,
            last_error: d.last_error,
            checked_ms_ago: d.checked_at.map(|t| t.elapsed().as_millis() as u64),
        }
    }
}

#[derive(Debug)]
pub(crate) enum ProbeError {
    TimedOut(Duration),
    Failed(String),
}

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TimedOut(d) => write!(
                f,
                "health probe got no answer within {} ms (DB_HEALTH_CHECK_TIMEOUT_MS)",
                d.as_millis()
            ),
            Self::Failed(m) => write!(f, "health probe failed: {m}"),
        }
    }
}

#[derive(Debug)]
pub(crate) struct PrimaryProbe {
    pub(crate) in_recovery: bool,
    pub(crate) lsn: Option<u64>,
}

#[derive(Debug)]
pub(crate) struct ReplicaProbe {
    pub(crate) in_recovery: bool,
    pub(crate) replay_lsn: Option<u64>,
}

const PRIMARY_PROBE_SQL: &str = "SELECT pg_is_in_recovery()::text, \
    CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END";

const REPLICA_PROBE_SQL: &str = "SELECT pg_is_in_recovery()::text, pg_last_wal_replay_lsn()::text";

/// The rows of each statement of a simple query.
fn statements(messages: Vec<SimpleQueryMessage>) -> Vec<Vec<Vec<Option<String>>>> {
    let mut out = vec![Vec::new()];
    for m in messages {
        match m {
            SimpleQueryMessage::Row(r) => {
                let row = (0..r.len()).map(|i| r.get(i).map(str::to_string)).collect();
                out.last_mut().expect("never empty").push(row);
            }
            SimpleQueryMessage::CommandComplete(_) => out.push(Vec::new()),
            _ => {}
        }
    }
    out
}

async fn run_probe(
    link: &TargetLink,
    sql: &str,
    timeout: Duration,
) -> Result<Vec<Vec<Vec<Option<String>>>>, ProbeError> {
    let probe = async {
        let (client, _driver) = link.open().await?;
        Ok::<_, crate::error::OpenError>(client.simple_query(sql).await?)
    };
    match tokio::time::timeout(timeout, probe).await {
        Err(_) => Err(ProbeError::TimedOut(timeout)),
        Ok(Err(e)) => Err(ProbeError::Failed(link.redactor.redact(crate::error::describe(&e)))),
        Ok(Ok(messages)) => Ok(statements(messages)),
    }
}

pub(crate) async fn probe_primary(
    link: Arc<TargetLink>,
    timeout: Duration,
) -> Result<PrimaryProbe, ProbeError> {
    let stmts = run_probe(&link, PRIMARY_PROBE_SQL, timeout).await?;
    let first = stmts
        .first()
        .and_then(|rows| rows.first())
        .ok_or_else(|| ProbeError::Failed("the probe query returned no row".into()))?;
    let in_recovery = first.first().cloned().flatten().as_deref() == Some("true");
    let lsn = first.get(1).cloned().flatten().as_deref().and_then(lag::parse_lsn);
    Ok(PrimaryProbe { in_recovery, lsn })
}

pub(crate) async fn probe_replica(
    link: Arc<TargetLink>,
    timeout: Duration,
) -> Result<ReplicaProbe, ProbeError> {
    let stmts = run_probe(&link, REPLICA_PROBE_SQL, timeout).await?;
    let row = stmts
        .first()
        .and_then(|rows| rows.first())
        .ok_or_else(|| ProbeError::Failed("the probe query returned no row".into()))?;
    Ok(ReplicaProbe {
        in_recovery: row.first().cloned().flatten().as_deref() == Some("true"),
        replay_lsn: row.get(1).cloned().flatten().as_deref().and_then(lag::parse_lsn),
    })
}
