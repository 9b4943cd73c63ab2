//! Read-your-writes: whether a replica connection has replayed a [`WriteToken`], waiting for
//! it up to a bound, and the counts of how such reads were served.
//!
//! Replay only moves forward on a replica, so a replay position seen earlier (by the health
//! check, or by an earlier read here) is a lower bound: when it already covers the token no
//! round trip is needed. Otherwise the checked-out connection is asked
//! (`pg_last_wal_replay_lsn()`), again every few milliseconds until the bound.
//!
//! This module never picks a server and never falls through; [`crate::router`] does both.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use serde::Serialize;
use tokio::time::Instant;
use tokio_postgres::SimpleQueryMessage;

use crate::{connection::ReadOnlyConnection, token::WriteToken};

/// How a read after a write ([`DbRouter::get_db_ro_after`](crate::DbRouter::get_db_ro_after))
/// was served (the `outcome` label of `ro_router_read_your_writes_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadYourWritesOutcome {
    /// By a replica that had already replayed the write.
    ReplicaFresh = 0,
    /// By a replica that replayed the write while the read waited (`DB_READ_YOUR_WRITES_WAIT_MS`).
    Waited = 1,
    /// By the primary: no replica caught up in time, or none could serve.
    FellThrough = 2,
}

impl ReadYourWritesOutcome {
    /// Every outcome, in label order.
    pub const ALL: [ReadYourWritesOutcome; 3] = [Self::ReplicaFresh, Self::Waited, Self::FellThrough];

    /// The snake_case name (the `outcome` label).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReplicaFresh => "replica_fresh",
            Self::Waited => "waited",
            Self::FellThrough => "fell_through",
        }
    }
}

/// Reads after a write since the router started, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ReadYourWritesCounts {
    /// [`ReadYourWritesOutcome::ReplicaFresh`].
    pub replica_fresh: u64,
    /// [`ReadYourWritesOutcome::Waited`].
    pub waited: u64,
    /// [`ReadYourWritesOutcome::FellThrough`].
    pub fell_through: u64,
}

/// Read-your-writes in a [`HealthReport`](crate::HealthReport): the wait bound and the
/// outcomes so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReadYourWritesReport {
    /// `DB_READ_YOUR_WRITES_WAIT_MS`.
    pub wait_ms: u64,
    /// The outcomes so far.
    #[serde(flatten)]
    pub counts: ReadYourWritesCounts,
}

/// Whether a replica connection has replayed a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CatchUp {
    /// Yes, at once (`waited` false) or after waiting.
    Replayed { waited: bool },
    /// Not within the bound (last replay position seen, if the replica answered).
    Behind { replayed: Option<WriteToken> },
    /// The replica did not answer the question in time: the connection has a query in flight
    /// and must be discarded.
    Unanswered,
}

/// The longest pause between two questions to the replica.
const MAX_PAUSE: Duration = Duration::from_millis(16);

/// Waits, up to `bound`, for the replica behind `conn` to replay `token`. `known` is the
/// highest replay position seen on that replica; it is raised with every answer. Each
/// question may take up to `ask_timeout`.
pub(crate) async fn catch_up(
    conn: &ReadOnlyConnection,
    known: &AtomicU64,
    token: WriteToken,
    bound: Duration,
    ask_timeout: Duration,
) -> CatchUp {
    if known.load(Ordering::Relaxed) >= token.lsn() {
        return CatchUp::Replayed { waited: false };
    }
    let deadline = Instant::now() + bound;
    let mut pause = Duration::from_millis(1);
    let mut waited = false;
    loop {
        let replayed = match tokio::time::timeout(ask_timeout, replay_position(conn)).await {
            Err(_) => return CatchUp::Unanswered,
            Ok(replayed) => replayed,
        };
        if let Some(r) = replayed {
            known.fetch_max(r.lsn(), Ordering::Relaxed);
            if r >= token {
                return CatchUp::Replayed { waited };
            }
        }
        let now = Instant::now();
        if now >= deadline || replayed.is_none() {
            return CatchUp::Behind { replayed };
        }
        tokio::time::sleep(pause.min(deadline - now)).await;
        pause = (pause * 2).min(MAX_PAUSE);
        waited = true;
    }
}

/// `pg_last_wal_replay_lsn()` on the connection (`None` if the query failed, or on a server
/// that is not replaying).
async fn replay_position(conn: &ReadOnlyConnection) -> Option<WriteToken> {
    let messages = conn.simple_query("SELECT pg_last_wal_replay_lsn()::text").await.ok()?;
    messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => row.get(0).and_then(|t| t.parse().ok()),
        _ => None,
    })
}
