//! Replication lag from what the health task sees.
//!
//! * Bytes: the primary's `pg_current_wal_lsn()` minus the replica's
//!   `pg_last_wal_replay_lsn()`.
//! * Time: the larger of the primary's `pg_stat_replication.replay_lag` for this replica and
//!   the *stall* — how long ago the primary had already written WAL that the replica has still
//!   not replayed, from the primary positions sampled at earlier checks. The stall catches a
//!   replica whose replay stopped (the walsender's `replay_lag` stays at its last value, or
//!   NULL, until replay moves). When the replica has replayed everything the lag is zero: an
//!   idle primary is not lag (unlike `now() - pg_last_xact_replay_timestamp()`).

use std::{
    collections::VecDeque,
    time::{Duration, Instant},
};

/// Parses `16/B374D848` into a WAL position.
pub(crate) fn parse_lsn(text: &str) -> Option<u64> {
    let (hi, lo) = text.trim().split_once('/')?;
    let hi = u64::from_str_radix(hi, 16).ok()?;
    let lo = u64::from_str_radix(lo, 16).ok()?;
    Some((hi << 32) | lo)
}

const MAX_SAMPLES: usize = 512;

/// The primary's WAL position at past health checks.
#[derive(Debug, Default)]
pub(crate) struct WalSamples {
    samples: VecDeque<(Instant, u64)>,
}

impl WalSamples {
    pub(crate) fn push(&mut self, at: Instant, lsn: u64) {
        if self.samples.back().is_some_and(|&(_, last)| last == lsn) {
            // No new WAL since the last sample: the older sample stays the reference.
            return;
        }
        if self.samples.len() == MAX_SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back((at, lsn));
    }

    /// How long ago the primary had written WAL past `replayed`.
    pub(crate) fn stall(&self, replayed: u64, now: Instant) -> Duration {
        self.samples
            .iter()
            .find(|&&(_, lsn)| lsn > replayed)
            .map(|&(at, _)| now.saturating_duration_since(at))
            .unwrap_or_default()
    }
}

/// Lag of one replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lag {
    pub(crate) bytes: u64,
    pub(crate) millis: u64,
}

pub(crate) fn measure(
    primary_lsn: u64,
    replayed: u64,
    replay_lag_ms: Option<u64>,
    samples: &WalSamples,
    now: Instant,
) -> Lag {
    let bytes = primary_lsn.saturating_sub(replayed);
    if bytes == 0 {
        return Lag { bytes, millis: 0 };
    }
    let stall = samples.stall(replayed, now).as_millis() as u64;
    Lag { bytes, millis: stall.max(replay_lag_ms.unwrap_or(0)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lsns() {
        assert_eq!(parse_lsn("0/0"), Some(0));
        assert_eq!(parse_lsn("16/B374D848"), Some((0x16 << 32) | 0xB374_D848));
        assert_eq!(parse_lsn("nonsense"), None);
    }

    #[test]
    fn caught_up_is_no_lag_however_old_the_last_transaction() {
        let t0 = Instant::now();
        let mut s = WalSamples::default();
        s.push(t0, 100);
        let lag = measure(100, 100, Some(5000), &s, t0 + Duration::from_secs(3600));
        assert_eq!(lag, Lag { bytes: 0, millis: 0 });
    }

    #[test]
    fn a_stalled_replica_lags_since_the_oldest_unreplayed_sample() {
        let t0 = Instant::now();
        let mut s = WalSamples::default();
        s.push(t0, 100);
        s.push(t0 + Duration::from_secs(1), 200);
        s.push(t0 + Duration::from_secs(2), 300);
        let now = t0 + Duration::from_secs(3);
        // Replayed up to 150: the sample at t0+1s (200) is the oldest not replayed.
        assert_eq!(measure(300, 150, None, &s, now), Lag { bytes: 150, millis: 2000 });
        // The walsender's own figure wins when it is larger.
        assert_eq!(measure(300, 150, Some(9000), &s, now).millis, 9000);
        // Replayed everything sampled: only the newest WAL is missing, no stall yet.
        assert_eq!(measure(350, 300, None, &s, now), Lag { bytes: 50, millis: 0 });
    }

    #[test]
    fn repeated_positions_keep_the_oldest_time() {
        let t0 = Instant::now();
        let mut s = WalSamples::default();
        s.push(t0, 100);
        s.push(t0 + Duration::from_secs(5), 100);
        assert_eq!(s.stall(50, t0 + Duration::from_secs(6)), Duration::from_secs(6));
    }
}
