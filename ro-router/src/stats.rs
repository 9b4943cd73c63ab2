//! Pool statistics: `pool_stats()`, its JSON, and the periodic `ro_router::stats` log line.
//! Targets appear as `host:port/db`; nothing here can hold a password.

use std::fmt;

use serde::Serialize;

use crate::{read_your_writes::ReadYourWritesCounts, spill::SpillCounts};

/// Which pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PoolRole {
    /// The primary pool behind `get_db()`.
    Primary,
    /// A replica pool behind `get_db_ro()`.
    Replica,
    /// The read-only pool to the primary that `get_db_ro()` falls through to.
    Fallthrough,
}

impl PoolRole {
    /// `primary`, `replica` or `fallthrough`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Replica => "replica",
            Self::Fallthrough => "fallthrough",
        }
    }
}

/// What a pool serves right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutesTo {
    /// The primary pool: read-write checkouts.
    Primary,
    /// A replica in rotation.
    Replica,
    /// The fallthrough pool, with fallback on: read-only checkouts on the primary.
    PrimaryFallthrough,
    /// Out of rotation (a replica) or fallback off (the fallthrough pool).
    Disabled,
}

impl RoutesTo {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Replica => "replica",
            Self::PrimaryFallthrough => "primary_fallthrough",
            Self::Disabled => "disabled",
        }
    }
}

impl fmt::Display for RoutesTo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a read-only checkout went to the fallthrough pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FallbackReason {
    /// Every replica is out of rotation and at least one is down (or failed its checkout).
    Unhealthy = 0,
    /// Every replica is out of rotation for replication lag.
    Lagging = 1,
    /// Every replica in rotation had all its connections checked out.
    Exhausted = 2,
    /// No replica is configured.
    NoneConfigured = 3,
    /// A read after a write found no replica that had replayed it within
    /// `DB_READ_YOUR_WRITES_WAIT_MS`.
    BehindWriteToken = 4,
}

impl FallbackReason {
    /// Every reason, in label order.
    pub const ALL: [FallbackReason; 5] =
        [Self::Unhealthy, Self::Lagging, Self::Exhausted, Self::NoneConfigured, Self::BehindWriteToken];

    /// The snake_case name (the `reason` label).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unhealthy => "unhealthy",
            Self::Lagging => "lagging",
            Self::Exhausted => "exhausted",
            Self::NoneConfigured => "none_configured",
            Self::BehindWriteToken => "behind_write_token",
        }
    }
}

impl fmt::Display for FallbackReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Fallthrough checkouts since the router started, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FallbackCounts {
    /// [`FallbackReason::Unhealthy`].
    pub unhealthy: u64,
    /// [`FallbackReason::Lagging`].
    pub lagging: u64,
    /// [`FallbackReason::Exhausted`].
    pub exhausted: u64,
    /// [`FallbackReason::NoneConfigured`].
    pub none_configured: u64,
    /// [`FallbackReason::BehindWriteToken`].
    pub behind_write_token: u64,
}

impl FallbackCounts {
    /// The count for one reason.
    pub fn get(&self, reason: FallbackReason) -> u64 {
        match reason {
            FallbackReason::Unhealthy => self.unhealthy,
            FallbackReason::Lagging => self.lagging,
            FallbackReason::Exhausted => self.exhausted,
            FallbackReason::NoneConfigured => self.none_configured,
            FallbackReason::BehindWriteToken => self.behind_write_token,
        }
    }

    /// All reasons together.
    pub fn total(&self) -> u64 {
        self.unhealthy + self.lagging + self.exhausted + self.none_configured + self.behind_write_token
    }
}

/// One pool's numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolStats {
    /// Which pool.
    pub pool: PoolRole,
    /// Its target, as `host:port/db`.
    pub target: String,
    /// What it serves now.
    pub routes_to: RoutesTo,
    /// Maximum number of connections.
    pub max_size: usize,
    /// Open connections.
    pub size: usize,
    /// Idle connections.
    pub available: usize,
    /// Checkouts waiting for a connection.
    pub waiting: usize,
    /// Connections checked out right now.
    pub checked_out: usize,
    /// Checkouts served since the router started.
    pub checkouts: u64,
    /// Checkout attempts that failed.
    pub checkout_failures: u64,
    /// Read-only checkouts retried elsewhere after this pool failed.
    pub retries: u64,
    /// Read-only checkouts that re-sent the session settings (pgBouncer mode: every checkout;
    /// direct: a repair after a previous user left a transaction open or the guard off).
    pub read_only_reasserts: u64,
    /// Connections ended because the target stopped answering health checks.
    pub severed_connections: u64,
    /// Pooled read-only connections closed at checkout instead of handed out (out of step, or
    /// unclean after a repair).
    pub discarded_connections: u64,
    /// Released connections proven clean from their wire alone: every request answered, no
    /// transaction open, the guard reported on (no SQL sent).
    pub proofs_observed: u64,
    /// Connections proven clean (or repaired) with a verification round trip instead.
    pub proofs_round_trip: u64,
    /// Whether connections are set up for pgBouncer (configured or detected).
    pub pgbouncer: bool,
}

/// Every pool plus the router-wide counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouterStats {
    /// Primary first, then the replicas in configuration order, then the fallthrough pool.
    pub pools: Vec<PoolStats>,
    /// Fallthrough checkouts by reason.
    pub fallbacks: FallbackCounts,
    /// Read-only checkouts retried on another target, all pools together.
    pub retries: u64,
    /// Reads that found every replica connection checked out: spills and waits.
    pub spills: SpillCounts,
    /// Reads after a write, by outcome.
    pub read_your_writes: ReadYourWritesCounts,
}

impl RouterStats {
    /// The stats as a JSON object.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("stats always serialize")
    }

    /// The pool of a role and target (`host:port/db`), if any.
    pub fn pool(&self, role: PoolRole, target: &str) -> Option<&PoolStats> {
        self.pools.iter().find(|p| p.pool == role && p.target == target)
    }

    /// The line logged every `DB_POOL_STATS_LOG_INTERVAL` seconds.
    pub fn log_line(&self) -> String {
        let mut line = String::new();
        for (i, p) in self.pools.iter().enumerate() {
            if i > 0 {
                line.push_str("; ");
            }
            line.push_str(&format!(
                "{} {} routes_to={} size={} available={} waiting={} checked_out={}",
                p.pool.as_str(),
                p.target,
                p.routes_to,
                p.size,
                p.available,
                p.waiting,
                p.checked_out
            ));
        }
        let (f, s, r) = (&self.fallbacks, &self.spills, &self.read_your_writes);
        line.push_str(&format!(
            "; fallbacks unhealthy={} lagging={} exhausted={} none_configured={} behind_write_token={}; \
             retries={}; spills busy={} wait_timed_out={} waited_for_replica={}; \
             read_your_writes replica_fresh={} waited={} fell_through={}",
            f.unhealthy,
            f.lagging,
            f.exhausted,
            f.none_configured,
            f.behind_write_token,
            self.retries,
            s.busy,
            s.wait_timed_out,
            s.waited_for_replica,
            r.replica_fresh,
            r.waited,
            r.fell_through
        ));
        line
    }
}
