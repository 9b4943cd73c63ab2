//! Replication lag from samples of WAL positions — the one place lag is computed.
//!
//! * Bytes: the primary's `pg_current_wal_lsn()` minus the replica's
//!   `pg_last_wal_replay_lsn()`.
//! * Time: an upper bound. Each primary sample records its position and the instant the
//!   query was *sent*: everything committed before that instant lies at or below the position.
//!   A replica that replayed up to `r` is therefore fresh as of the last send instant of a
//!   sample at or below `r` ([`WalSamples::fresh_as_of`]); its lag is at most "now minus
//!   that". This catches a replica whose replay stopped (the *stall*: the walsender's own
//!   `replay_lag` keeps its last value until replay moves) and never understates lag by
//!   the sampling period. A replica that has replayed the newest sample has no lag, however
//!   idle the primary (unlike `now() - pg_last_xact_replay_timestamp()`).
//!
//! Nothing here queries a server.

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

/// Formats a WAL position the way PostgreSQL does (`16/B374D848`).
pub(crate) fn format_lsn(lsn: u64) -> String {
    format!("{:X}/{:X}", lsn >> 32, lsn & 0xFFFF_FFFF)
}

const MAX_SAMPLES: usize = 512;

/// One primary position: when it was first and last seen (send instants).
#[derive(Debug, Clone, Copy)]
struct Sample {
    first: Instant,
    last: Instant,
    lsn: u64,
}

/// The primary's WAL position at past samples, oldest first.
#[derive(Debug, Default)]
pub(crate) struct WalSamples {
    samples: VecDeque<Sample>,
}

impl WalSamples {
    /// Records that the primary was at `lsn` when a query sent at `sent` ran.
    pub(crate) fn push(&mut self, sent: Instant, lsn: u64) {
        if let Some(back) = self.samples.back_mut() {
            if back.lsn == lsn {
                // No new WAL: the position holds until this later instant too.
                back.last = back.last.max(sent);
                return;
            }
            if lsn < back.lsn {
                // A new timeline (a failover): older positions say nothing any more.
                self.samples.clear();
            }
        }
        if self.samples.len() == MAX_SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back(Sample { first: sent, last: sent, lsn });
    }

    /// The newest position sampled.
    pub(crate) fn newest(&self) -> Option<u64> {
        self.samples.back().map(|s| s.lsn)
    }

    /// The last instant at which the primary had written nothing past `replayed`, if any
    /// sample shows it (`None`: the replica is behind every sample kept).
    pub(crate) fn fresh_as_of(&self, replayed: u64) -> Option<Instant> {
        self.samples.iter().rev().find(|s| s.lsn <= replayed).map(|s| s.last)
    }

    /// How long the primary has been past `replayed` at least (the oldest sample past it).
    fn behind_since(&self, replayed: u64) -> Option<Instant> {
        self.samples.iter().find(|s| s.lsn > replayed).map(|s| s.first)
    }
}

/// Lag of one replica at one observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Lag {
    pub(crate) bytes: u64,
    /// At most this far behind in time (at least this far when `fresh_as_of` is `None`).
    pub(crate) millis: u64,
    /// See [`WalSamples::fresh_as_of`].
    pub(crate) fresh_as_of: Option<Instant>,
}

/// The lag of a replica that replayed up to `replayed`, against the samples, at `now`.
/// `None` before any primary sample.
pub(crate) fn measure(replayed: u64, samples: &WalSamples, now: Instant) -> Option<Lag> {
    let newest = samples.newest()?;
    let bytes = newest.saturating_sub(replayed);
    let fresh_as_of = samples.fresh_as_of(replayed);
    let millis = match fresh_as_of {
        _ if bytes == 0 => Duration::ZERO,
        Some(at) => now.saturating_duration_since(at),
        None => {
            samples.behind_since(replayed).map(|at| now.saturating_duration_since(at)).unwrap_or_default()
        }
    };
    Some(Lag { bytes, millis: millis.as_millis() as u64, fresh_as_of })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn parses_and_formats_lsns() {
        assert_eq!(parse_lsn("0/0"), Some(0));
        assert_eq!(parse_lsn("16/B374D848"), Some((0x16 << 32) | 0xB374_D848));
        assert_eq!(parse_lsn("nonsense"), None);
        assert_eq!(format_lsn((0x16 << 32) | 0xB374_D848), "16/B374D848");
        assert_eq!(format_lsn(0), "0/0");
    }

    #[test]
    fn caught_up_is_no_lag_however_old_the_last_transaction() {
        let t0 = Instant::now();
        let mut s = WalSamples::default();
        s.push(t0, 100);
        s.push(t0 + secs(3599), 100);
        let lag = measure(100, &s, t0 + secs(3600)).unwrap();
        assert_eq!((lag.bytes, lag.millis), (0, 0));
        assert_eq!(lag.fresh_as_of, Some(t0 + secs(3599)), "fresh as of the last sample at 100");
    }

    #[test]
    fn a_stalled_replica_lags_since_the_last_sample_it_had_replayed() {
        let t0 = Instant::now();
        let mut s = WalSamples::default();
        s.push(t0, 100);
        s.push(t0 + secs(1), 200);
        s.push(t0 + secs(2), 300);
        let now = t0 + secs(3);
        // Replayed up to 150: at t0 (100) nothing past it was written; at t0+1s (200) it was.
        assert_eq!(measure(150, &s, now), Some(Lag { bytes: 150, millis: 3000, fresh_as_of: Some(t0) }));
        // Replayed the sample at t0+2s but not the newest WAL: the bound counts from then.
        assert_eq!(measure(300, &s, now).unwrap().millis, 0);
        assert_eq!(measure(250, &s, now).unwrap().millis, 2000);
    }

    #[test]
    fn an_idle_primary_moves_the_bound_forward() {
        let t0 = Instant::now();
        let mut s = WalSamples::default();
        s.push(t0, 100);
        s.push(t0 + secs(5), 100);
        s.push(t0 + secs(6), 180);
        // Replayed 100: fresh as of t0+5s (the position held until then), not t0.
        assert_eq!(measure(100, &s, t0 + secs(7)).unwrap().millis, 2000);
    }

    #[test]
    fn behind_every_sample_is_unknown_freshness_and_a_lower_bound() {
        let t0 = Instant::now();
        let mut s = WalSamples::default();
        assert_eq!(measure(10, &s, t0), None, "no primary sample yet");
        s.push(t0, 100);
        s.push(t0 + secs(1), 200);
        let lag = measure(50, &s, t0 + secs(4)).unwrap();
        assert_eq!(lag, Lag { bytes: 150, millis: 4000, fresh_as_of: None });
    }

    #[test]
    fn a_lower_position_starts_over() {
        let t0 = Instant::now();
        let mut s = WalSamples::default();
        s.push(t0, 500);
        s.push(t0 + secs(1), 40);
        assert_eq!(s.newest(), Some(40));
        assert_eq!(s.fresh_as_of(450), Some(t0 + secs(1)));
    }
}
