//! Replica bans: a replica that timed out, refused a connection, was promoted or lagged past
//! the limit is kept out of rotation for a ban period at once — no waiting for the next
//! health check. A replica banned again soon after its ban ended is banned for twice as long
//! (up to `DB_REPLICA_BAN_MAX_MS`); lag bans never grow (lag is no fault of the server).
//!
//! A ban is a few atomics, read on every `get_db_ro()` without a lock. Nothing here talks to
//! a server or decides what the failure was.

use std::{
    sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering},
    time::{Duration, Instant},
};

use serde::Serialize;

/// Why a replica was banned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BanReason {
    /// A checkout, or a lag sample, got no answer in time (a hung or partitioned server).
    Timeout = 0,
    /// A connection could not be opened or was lost (refused, reset, authentication…).
    ConnectFailed = 1,
    /// The replica left recovery: a promoted, diverging server.
    Promoted = 2,
    /// Its replication lag passed `DB_MAX_REPLICATION_LAG_MS` or `DB_MAX_REPLICATION_LAG_BYTES`.
    Lag = 3,
}

impl BanReason {
    /// Every reason, in label order.
    pub const ALL: [BanReason; 4] = [Self::Timeout, Self::ConnectFailed, Self::Promoted, Self::Lag];

    /// The snake_case name (the `reason` label).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::ConnectFailed => "connect_failed",
            Self::Promoted => "promoted",
            Self::Lag => "lag",
        }
    }
}

/// A ban in a [`HealthReport`](crate::HealthReport).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BanReport {
    /// Why.
    pub reason: BanReason,
    /// Milliseconds until it ends (it may be extended while the failure goes on).
    pub remaining_ms: u64,
    /// Bans in a row (the period doubles with each); 1 for the first.
    pub strikes: u32,
}

/// The ban periods: `base` for a first ban, doubling per strike up to `max`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BanPolicy {
    pub(crate) base: Duration,
    pub(crate) max: Duration,
}

impl BanPolicy {
    fn period(&self, strikes: u32) -> Duration {
        let doublings = strikes.saturating_sub(1).min(31);
        self.base.saturating_mul(1 << doublings).min(self.max).max(self.base)
    }
}

/// Instants as nanoseconds since a base, so that they fit an atomic.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    base: Instant,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Self { base: Instant::now() }
    }

    /// Nanoseconds since the base, never 0 (0 means "never" in the atomics).
    pub(crate) fn nanos(&self, at: Instant) -> u64 {
        (at.saturating_duration_since(self.base).as_nanos() as u64).max(1)
    }
}

/// The ban state of one replica.
#[derive(Debug, Default)]
pub(crate) struct Ban {
    until: AtomicU64,
    strikes: AtomicU32,
    reason: AtomicU8,
}

impl Ban {
    /// True while banned.
    pub(crate) fn active(&self, now: u64) -> bool {
        self.until.load(Ordering::Acquire) > now
    }

    /// Bans (or extends a running ban, keeping its strikes). Returns true for a new ban.
    pub(crate) fn impose(&self, reason: BanReason, policy: &BanPolicy, now: u64) -> bool {
        let running = self.active(now);
        let strikes = if running || reason == BanReason::Lag {
            self.strikes.load(Ordering::Relaxed).max(1)
        } else {
            self.strikes.fetch_add(1, Ordering::Relaxed).saturating_add(1)
        };
        let until = now.saturating_add(policy.period(strikes).as_nanos() as u64);
        self.reason.store(reason as u8, Ordering::Relaxed);
        self.until.fetch_max(until, Ordering::AcqRel);
        !running
    }

    /// Ends the ban now (a health check found the replica healthy).
    pub(crate) fn lift(&self) {
        self.until.store(0, Ordering::Release);
        self.strikes.store(0, Ordering::Relaxed);
    }

    /// After a clean sample: forgets the strikes once the replica has stayed good for as long
    /// as its last ban lasted.
    pub(crate) fn settle(&self, policy: &BanPolicy, now: u64) {
        let strikes = self.strikes.load(Ordering::Relaxed);
        if strikes == 0 {
            return;
        }
        let until = self.until.load(Ordering::Acquire);
        if now > until.saturating_add(policy.period(strikes).as_nanos() as u64) {
            self.strikes.store(0, Ordering::Relaxed);
        }
    }

    pub(crate) fn reason(&self) -> BanReason {
        BanReason::ALL[usize::from(self.reason.load(Ordering::Relaxed)) % BanReason::ALL.len()]
    }

    pub(crate) fn report(&self, now: u64) -> Option<BanReport> {
        let until = self.until.load(Ordering::Acquire);
        (until > now).then(|| BanReport {
            reason: self.reason(),
            remaining_ms: (until - now) / 1_000_000,
            strikes: self.strikes.load(Ordering::Relaxed).max(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn policy() -> BanPolicy {
        BanPolicy { base: Duration::from_millis(100), max: Duration::from_millis(350) }
    }

    #[test]
    fn a_ban_lasts_its_period_and_keeps_its_reason() {
        let ban = Ban::default();
        assert!(!ban.active(1));
        assert!(ban.impose(BanReason::Timeout, &policy(), 1000 * MS));
        assert!(ban.active(1099 * MS) && !ban.active(1100 * MS));
        assert_eq!(
            ban.report(1040 * MS),
            Some(BanReport { reason: BanReason::Timeout, remaining_ms: 60, strikes: 1 })
        );
        assert_eq!(ban.report(1100 * MS), None);
    }

    #[test]
    fn repeated_bans_double_up_to_the_maximum_and_extensions_do_not_count() {
        let (ban, p) = (Ban::default(), policy());
        ban.impose(BanReason::ConnectFailed, &p, 0);
        // Still banned: extended from now by the same period, no new strike.
        assert!(!ban.impose(BanReason::Timeout, &p, 50 * MS));
        assert_eq!(
            ban.report(50 * MS).map(|r| (r.reason, r.remaining_ms, r.strikes)),
            Some((BanReason::Timeout, 100, 1))
        );
        // Banned again right after it ended: 200 ms, then 350 (the maximum), then 350.
        assert!(ban.impose(BanReason::Timeout, &p, 160 * MS));
        assert_eq!(ban.report(160 * MS).unwrap().remaining_ms, 200);
        ban.impose(BanReason::Timeout, &p, 400 * MS);
        assert_eq!(ban.report(400 * MS).unwrap().remaining_ms, 350);
        ban.impose(BanReason::Timeout, &p, 800 * MS);
        assert_eq!(ban.report(800 * MS).map(|r| (r.remaining_ms, r.strikes)), Some((350, 4)));
    }

    #[test]
    fn lag_bans_never_grow() {
        let (ban, p) = (Ban::default(), policy());
        for at in [0, 200, 400] {
            ban.impose(BanReason::Lag, &p, at * MS);
            assert_eq!(ban.report(at * MS).unwrap().remaining_ms, 100);
        }
    }

    #[test]
    fn strikes_are_forgotten_after_a_good_spell_or_a_lift() {
        let (ban, p) = (Ban::default(), policy());
        ban.impose(BanReason::Timeout, &p, 0);
        ban.settle(&p, 150 * MS);
        ban.impose(BanReason::Timeout, &p, 150 * MS);
        assert_eq!(ban.report(150 * MS).unwrap().strikes, 2, "too soon: the strike stays");
        ban.settle(&p, 351 * MS + 200 * MS);
        ban.impose(BanReason::Timeout, &p, 600 * MS);
        assert_eq!(ban.report(600 * MS).unwrap().strikes, 1);
        ban.lift();
        assert!(!ban.active(601 * MS));
    }
}
