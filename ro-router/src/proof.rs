//! The proof that a pooled read-only connection is clean before anyone gets it again: no
//! transaction open, the guard on, the protocol in step (see [`crate::enforcement`] for what
//! is checked and how).
//!
//! The proof is made when the connection comes back ([`release`]): a task verifies it (one
//! round trip, off the next user's path), repairs it if a previous user left it unclean, and
//! only then returns it to the pool marked as proven, so the next checkout costs nothing. A
//! connection the proof could not be made for (no runtime at drop, a task cut short) goes
//! back unproven and is proven at its next checkout, synchronously. One that fails the proof
//! is discarded.
//!
//! Nothing here hands out a connection; nothing here weakens the guard.

use std::sync::{atomic::Ordering, Arc};

use deadpool::managed::Object;

use crate::{
    enforcement::{repair_sql, Verdict, Verification, REASSERT_SQL},
    pools::{PooledClient, TargetLink, TargetManager},
};

/// Takes a connection back from its user: a read-only one goes back to its pool once proven
/// clean, or is discarded.
pub(crate) fn release(link: &Arc<TargetLink>, mut obj: Object<TargetManager>) {
    if !link.read_only() {
        return;
    }
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return; // Proven at its next checkout.
    };
    let link = link.clone();
    link.proving.fetch_add(1, Ordering::Relaxed);
    runtime.spawn(async move {
        let _done = Proving(&link);
        match tokio::time::timeout(link.verify_timeout, prove_clean(&link, &obj)).await {
            Ok(Ok(())) => obj.proven_clean = true,
            Ok(Err(_)) => drop(Object::take(obj)),
            Err(_) => {
                discarded(&link, "the verification got no answer in time (DB_CONNECT_TIMEOUT_MS)".into());
                drop(Object::take(obj));
            }
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

/// Verifies `c`, repairs it when a previous user left it unclean; Err(why) when it must be
/// discarded (counted and logged here).
pub(crate) async fn prove_clean(link: &TargetLink, c: &PooledClient) -> Result<(), String> {
    if c.client.is_closed() {
        return Err("connection closed".into());
    }
    // Behind pgBouncer the settings go first every time (a RESET ALL or DISCARD ALL there
    // loses them, statement timeout included).
    let settings = link.pgbouncer_settings();
    if !settings.is_empty() {
        link.counters.reasserts.inc();
    }
    let unclean = match verify(c, settings).await {
        Verdict::Clean => return Ok(()),
        Verdict::Unclean(u) => u,
        Verdict::OutOfStep(why) => return Err(discarded(link, why)),
    };
    let settings = if settings.is_empty() { format!("{REASSERT_SQL}; ") } else { settings.to_string() };
    link.counters.reasserts.inc();
    tracing::debug!(
        target: "ro_router::enforcement",
        db = %link.name,
        "repairing a pooled read-only connection: {}",
        unclean.as_str()
    );
    match verify(c, &repair_sql(unclean, &settings)).await {
        Verdict::Clean => Ok(()),
        Verdict::Unclean(u) => Err(discarded(link, format!("still unclean after a repair: {}", u.as_str()))),
        Verdict::OutOfStep(why) => Err(discarded(link, why)),
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
    tracing::warn!(target: "ro_router::enforcement", db = %link.name, "discarded a pooled read-only connection: {why}");
    why
}
