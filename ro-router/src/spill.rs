//! The spill policy: what a read does when every replica in rotation has all its connections
//! checked out — wait for one, go to the primary (*spill*), or both in turn — and the counts of
//! what happened.
//!
//! Only busy replicas are a matter of spilling: a read goes to the primary for unhealthy or
//! lagging replicas by [`DB_READ_REPLICA_FALLBACK`](crate::env::FALLBACK), whatever the policy.
//! This module decides how long to wait; it never checks a connection out.

use std::{fmt, str::FromStr, time::Duration};

use serde::Serialize;

/// What a read does when the replicas are busy (`DB_RO_SPILL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpillPolicy {
    /// Wait for a replica connection up to `DB_RO_SPILL_WAIT_MS`, then go to the primary.
    #[default]
    After,
    /// Go to the primary at once.
    Immediate,
    /// Never go to the primary for busy replicas: wait up to `DB_POOL_TIMEOUT_MS`, then fail.
    Never,
}

impl SpillPolicy {
    /// The name used in `DB_RO_SPILL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::After => "after",
            Self::Immediate => "immediate",
            Self::Never => "never",
        }
    }
}

impl fmt::Display for SpillPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SpillPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "after" => Ok(Self::After),
            "immediate" => Ok(Self::Immediate),
            "never" => Ok(Self::Never),
            _ => Err(format!("expected after, immediate or never, got {:?}", s.trim())),
        }
    }
}

/// How a read with busy replicas goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BusyReplicas {
    /// Spill to the primary now.
    Spill,
    /// Wait this long for a replica connection; then spill.
    WaitThenSpill(Duration),
    /// Wait this long for a replica connection; then fail.
    WaitThenFail(Duration),
}

/// The plan for a read whose replicas are all busy. With fallback off there is nowhere to
/// spill to: the read waits like any pool checkout, whatever the policy.
pub(crate) fn plan(
    policy: SpillPolicy,
    fallback: bool,
    spill_wait: Duration,
    pool_timeout: Duration,
) -> BusyReplicas {
    match (fallback, policy) {
        (false, _) | (true, SpillPolicy::Never) => BusyReplicas::WaitThenFail(pool_timeout),
        (true, SpillPolicy::Immediate) => BusyReplicas::Spill,
        (true, SpillPolicy::After) => BusyReplicas::WaitThenSpill(spill_wait),
    }
}

/// Why a read spilled to the primary (the `reason` label of `ro_router_spills_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpillReason {
    /// Every replica connection was checked out and the policy is `immediate`.
    Busy = 0,
    /// The read waited `DB_RO_SPILL_WAIT_MS` for a replica connection (policy `after`).
    WaitTimedOut = 1,
}

impl SpillReason {
    /// Every reason, in label order.
    pub const ALL: [SpillReason; 2] = [Self::Busy, Self::WaitTimedOut];

    /// The snake_case name (the `reason` label).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Busy => "busy",
            Self::WaitTimedOut => "wait_timed_out",
        }
    }
}

/// Reads that found every replica connection checked out, since the router started. Spills
/// are also counted among the fallbacks (reason `exhausted`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SpillCounts {
    /// Spilled at once ([`SpillReason::Busy`]).
    pub busy: u64,
    /// Spilled after waiting ([`SpillReason::WaitTimedOut`]).
    pub wait_timed_out: u64,
    /// Waited and were served by a replica.
    pub waited_for_replica: u64,
}

/// The spill policy in a [`HealthReport`](crate::HealthReport), with its counts so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SpillReport {
    /// `DB_RO_SPILL`.
    pub policy: SpillPolicy,
    /// `DB_RO_SPILL_WAIT_MS` (used by `after`).
    pub wait_ms: u64,
    /// What happened so far.
    #[serde(flatten)]
    pub counts: SpillCounts,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names() {
        assert_eq!("after".parse(), Ok(SpillPolicy::After));
        assert_eq!(" Immediate ".parse(), Ok(SpillPolicy::Immediate));
        assert_eq!("NEVER".parse(), Ok(SpillPolicy::Never));
        assert_eq!(
            "sometimes".parse::<SpillPolicy>(),
            Err("expected after, immediate or never, got \"sometimes\"".to_string())
        );
    }

    #[test]
    fn plans_follow_the_policy_and_fallback() {
        let (w, t) = (Duration::from_millis(100), Duration::from_millis(5000));
        assert_eq!(plan(SpillPolicy::After, true, w, t), BusyReplicas::WaitThenSpill(w));
        assert_eq!(plan(SpillPolicy::Immediate, true, w, t), BusyReplicas::Spill);
        assert_eq!(plan(SpillPolicy::Never, true, w, t), BusyReplicas::WaitThenFail(t));
        for policy in [SpillPolicy::After, SpillPolicy::Immediate, SpillPolicy::Never] {
            assert_eq!(plan(policy, false, w, t), BusyReplicas::WaitThenFail(t), "{policy}");
        }
    }
}
