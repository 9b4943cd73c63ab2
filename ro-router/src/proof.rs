//! The proof that a pooled connection is clean before anyone gets it again: for a read-only
//! one, no transaction open, the guard on, the protocol in step; for a primary one, no
//! transaction left open (see [`crate::enforcement`] for what the round trip checks).
//!
//! The proof is made when the connection comes back ([`release`]), off the next user's path:
//!
//! * **Observed** (read-only, direct to PostgreSQL ≥ 14). Every request the user sent must
//!   be on the wire first: it is when the connection is quiet (a poll that drained covered
//!   every wake-up of its request channel: no poll, no wait), otherwise the release polls the
//!   connection ([`crate::driver::Barrier`]); then, if its wire shows every request
//!   answered, the last ReadyForQuery idle, the guard last reported `on` and nothing unusual
//!   ([`crate::wire`]), the connection is proven without a statement.
//! * **Observed behind pgBouncer**, only where the guard is the only setting
//!   (`DB_STATEMENT_TIMEOUT_MS=0`, no URL `options`: nothing else a `RESET ALL` or `DISCARD
//!   ALL` could silently revert) and the pgBouncer was found pooling by session (one server
//!   session per connection, for the connection's life). There the guard is a session `SET`,
//!   so anything that reverts it changes its value, and PostgreSQL ≥ 14 reports every change
//!   of `default_transaction_read_only` before the next ReadyForQuery. Whether pgBouncer
//!   passes those reports on is witnessed on each new connection before anyone gets it: the
//!   guard set on, off and on again must show as at least two reports ending `on`
//!   ([`guard_forwarded`]); without that witness, every release takes the round trip.
//! * **Round trip** otherwise: a task verifies it (behind pgBouncer re-sending the
//!   settings first), repairs it if a previous user left it unclean, and only then returns it
//!   to the pool.
//!
//! A proven connection is marked so the next checkout costs nothing. One the proof could not
//! be made for (no runtime, a task cut short) goes back unproven and is proven at its next
//! checkout, synchronously. One that fails the proof is discarded. A primary connection
//! whose wire shows the session idle goes straight back; one left in a transaction (or
//! unknown) is rolled back and verified first.
//!
//! Nothing here hands out a connection; nothing here weakens the guard.

use std::sync::{atomic::Ordering, Arc};

use deadpool::managed::Object;

use crate::{
    enforcement::{repair_sql, Unclean, Verdict, Verification, REASSERT_SQL},
    pools::{PooledClient, TargetLink},
    target_pool::TargetManager,
    wire::{Observer, Session},
};

/// Takes a connection back from its user: back to its pool once proven clean, or discarded.
/// A quiet connection (see [`crate::driver`]) is judged here and now, without a poll.
pub(crate) fn release(link: &Arc<TargetLink>, obj: Object<TargetManager>) {
    link.proving.fetch_add(1, Ordering::Relaxed);
    if let Some(session) = obj.barrier.quiet_session() {
        return settle(link, obj, Some(session));
    }
    let barrier = obj.barrier.clone();
    let link = link.clone();
    barrier.after_drain(Box::new(move |session| settle(&link, obj, session)));
}

/// Ends a release once the connection drained (`Some`: the session its wire shows) or ended.
fn settle(link: &Arc<TargetLink>, obj: Object<TargetManager>, session: Option<Session>) {
    match session {
        None => {
            // The connection ended.
            drop(Object::take(obj));
            link.proving.fetch_sub(1, Ordering::Relaxed);
        }
        Some(session) if observed_clean(link, &obj, session) => {
            link.counters.proofs_observed.inc();
            let mut obj = obj;
            obj.proven_clean = link.read_only();
            drop(obj); // Back to the pool before the count drops (see TargetLink::proving).
            link.proving.fetch_sub(1, Ordering::Relaxed);
        }
        Some(_) => round_trip(link.clone(), obj),
    }
}

/// Whether the wire alone proves a drained connection clean: idle, and for a read-only one
/// the guard last reported on, directly to PostgreSQL.
fn observed_clean(link: &TargetLink, c: &PooledClient, session: Session) -> bool {
    if c.client.is_closed() {
        return false;
    }
    match session {
        // Behind pgBouncer only with the reports witnessed (the guard its only setting).
        Session::Idle { guard_on } if link.read_only() => {
            guard_on == Some(true) && (!link.pgbouncer() || c.guard_reported)
        }
        Session::Idle { .. } => true,
        Session::InTransaction | Session::Answering | Session::Unknown(_) => false,
    }
}

/// Whether the guard was reported at least twice since `before` (the count of reports when
/// the guard was set on, off and on again was sent), and last `on`: the server's reports of
/// it reach this connection's wire.
pub(crate) fn guard_forwarded(before: u64, observer: &Observer) -> bool {
    let (reports, guard_on) = observer.guard_reports();
    reports >= before + 2 && guard_on == Some(true)
}

/// Proves `obj` with a round trip in a task, then returns it to the pool or discards it
/// (the release counts it in [`TargetLink::proving`] until then).
fn round_trip(link: Arc<TargetLink>, obj: Object<TargetManager>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        if !link.read_only() {
            // Nothing can roll it back here: it must not reach another user.
            drop(Object::take(obj));
        }
        // A read-only one is proven at its next checkout.
        link.proving.fetch_sub(1, Ordering::Relaxed);
        return;
    };
    runtime.spawn(async move {
        // Declared first, dropped last: the connection is back before the count drops.
        let _done = Proving(&link);
        let mut obj = obj;
        match prove_clean(&link, &obj).await {
            Ok(()) => obj.proven_clean = link.read_only(),
            Err(_) => drop(Object::take(obj)),
        }
    });
}

/// Counts a release whose proof is running (see [`TargetLink::proving`]).
struct Proving<'a>(&'a TargetLink);

impl Drop for Proving<'_> {
    fn drop(&mut self) {
        self.0.proving.fetch_sub(1, Ordering::Relaxed);
    }
}

/// [`verify_and_repair`] within [`TargetLink::verify_timeout`]; Err(why) when `c` must be
/// discarded (counted and logged).
pub(crate) async fn prove_clean(link: &TargetLink, c: &PooledClient) -> Result<(), String> {
    match tokio::time::timeout(link.verify_timeout, verify_and_repair(link, c)).await {
        Ok(proven) => proven,
        Err(_) => {
            Err(discarded(link, "the verification got no answer in time (DB_CONNECT_TIMEOUT_MS)".into()))
        }
    }
}

/// Verifies `c`, repairs it when a previous user left it unclean; Err(why) when it must be
/// discarded (counted and logged here). A primary connection needs no guard: only a
/// transaction left open is repaired (rolled back).
async fn verify_and_repair(link: &TargetLink, c: &PooledClient) -> Result<(), String> {
    if c.client.is_closed() {
        return Err("connection closed".into());
    }
    link.counters.proofs_round_trip.inc();
    // Behind pgBouncer the settings go first every time (a RESET ALL or DISCARD ALL there
    // loses them, statement timeout included).
    let settings = if link.read_only() { link.pgbouncer_settings() } else { "" };
    if !settings.is_empty() {
        link.counters.reasserts.inc();
    }
    let unclean = match judged(link, verify(c, settings).await) {
        Verdict::Clean => {
            c.observer.forget_anomaly();
            return Ok(());
        }
        Verdict::Unclean(u) => u,
        Verdict::OutOfStep(why) => return Err(discarded(link, why)),
    };
    let settings = match (link.read_only(), settings.is_empty()) {
        (false, _) => String::new(),
        (true, true) => format!("{REASSERT_SQL}; "),
        (true, false) => settings.to_string(),
    };
    link.counters.reasserts.inc();
    tracing::debug!(
        target: "ro_router::enforcement",
        db = %link.name,
        "repairing a pooled connection: {}",
        unclean.as_str()
    );
    match judged(link, verify(c, &repair_sql(unclean, &settings)).await) {
        Verdict::Clean => {
            c.observer.forget_anomaly();
            Ok(())
        }
        Verdict::Unclean(u) => Err(discarded(link, format!("still unclean after a repair: {}", u.as_str()))),
        Verdict::OutOfStep(why) => Err(discarded(link, why)),
    }
}

/// A primary session is clean with the guard off.
fn judged(link: &TargetLink, verdict: Verdict) -> Verdict {
    match verdict {
        Verdict::Unclean(Unclean::GuardOff) if !link.read_only() => Verdict::Clean,
        v => v,
    }
}

/// Sends `settings` (if any) and the verification as two queries in one round trip: the
/// verification must be a transaction of its own, started after the settings took effect
/// (`transaction_read_only` is fixed when a transaction starts).
async fn verify(c: &PooledClient, settings: &str) -> Verdict {
    let v = Verification::new();
    let sql = v.sql();
    if settings.is_empty() {
        return v.judge(c.client.simple_query(&sql).await);
    }
    // Both requests are on the wire, in this order, before either answer is awaited.
    let (_settings, answer) = tokio::join!(c.client.batch_execute(settings), c.client.simple_query(&sql));
    v.judge(answer)
}

fn discarded(link: &TargetLink, why: String) -> String {
    link.counters.discarded.inc();
    let why = link.redactor.redact(why);
    tracing::warn!(target: "ro_router::enforcement", db = %link.name, "discarded a pooled connection: {why}");
    why
}
