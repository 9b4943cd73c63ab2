//! How `get_db_ro()` orders the replicas in rotation: the first is the pick, the rest are the
//! order of retries when a checkout fails.

use std::{
    fmt,
    str::FromStr,
    sync::atomic::{AtomicUsize, Ordering},
};

/// Replica selection strategy (`DB_READ_REPLICA_STRATEGY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaStrategy {
    /// Each checkout takes the next replica in turn.
    #[default]
    RoundRobin,
    /// Each checkout takes a replica at random.
    Random,
    /// Each checkout takes the replica with the fewest connections checked out right now
    /// (ties go round robin).
    LeastConnections,
}

impl ReplicaStrategy {
    /// The name used in `DB_READ_REPLICA_STRATEGY`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RoundRobin => "round_robin",
            Self::Random => "random",
            Self::LeastConnections => "least_connections",
        }
    }
}

impl fmt::Display for ReplicaStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReplicaStrategy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "round_robin" => Ok(Self::RoundRobin),
            "random" => Ok(Self::Random),
            "least_connections" => Ok(Self::LeastConnections),
            _ => Err(format!("expected round_robin, random or least_connections, got {:?}", s.trim())),
        }
    }
}

/// Orders `candidates` (indices of replicas in rotation) in place. `in_use(i)` is the number of
/// connections currently checked out from replica `i`.
pub(crate) fn order(
    strategy: ReplicaStrategy,
    cursor: &AtomicUsize,
    candidates: &mut [usize],
    in_use: impl Fn(usize) -> usize,
) {
    let n = candidates.len();
    if n < 2 {
        return;
    }
    match strategy {
        ReplicaStrategy::RoundRobin => {
            let start = cursor.fetch_add(1, Ordering::Relaxed) % n;
            candidates.rotate_left(start);
        }
        ReplicaStrategy::Random => fastrand::shuffle(candidates),
        ReplicaStrategy::LeastConnections => {
            let start = cursor.fetch_add(1, Ordering::Relaxed) % n;
            candidates.rotate_left(start);
            // Stable: among equals the round-robin order stays.
            candidates.sort_by_key(|&i| in_use(i));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names() {
        assert_eq!("round_robin".parse(), Ok(ReplicaStrategy::RoundRobin));
        assert_eq!("Least-Connections".parse(), Ok(ReplicaStrategy::LeastConnections));
        assert_eq!("random".parse(), Ok(ReplicaStrategy::Random));
        assert!("fastest".parse::<ReplicaStrategy>().is_err());
    }

    #[test]
    fn round_robin_rotates() {
        let cursor = AtomicUsize::new(0);
        let picks: Vec<usize> = (0..6)
            .map(|_| {
                let mut c = [0, 1, 2];
                order(ReplicaStrategy::RoundRobin, &cursor, &mut c, |_| 0);
                c[0]
            })
            .collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn least_connections_prefers_the_idlest_and_spreads_ties() {
        let cursor = AtomicUsize::new(0);
        let load = [3, 0, 0];
        let picks: Vec<usize> = (0..4)
            .map(|_| {
                let mut c = [0, 1, 2];
                order(ReplicaStrategy::LeastConnections, &cursor, &mut c, |i| load[i]);
                assert_eq!(c[2], 0, "the busiest replica is tried last");
                c[0]
            })
            .collect();
        assert!(picks.contains(&1) && picks.contains(&2), "{picks:?}");
    }

    #[test]
    fn random_keeps_every_candidate() {
        let cursor = AtomicUsize::new(0);
        let mut c = [0, 1, 2, 3];
        order(ReplicaStrategy::Random, &cursor, &mut c, |_| 0);
        c.sort();
        assert_eq!(c, [0, 1, 2, 3]);
    }
}
