//! The task that drives one connection, and its drain barrier: [`Barrier::after_drain`] runs a
//! callback once the connection, polled after the call, went back to waiting with every
//! write and the final flush done — so every request sent before the call is on the wire and
//! the [`Observer`](crate::wire::Observer)'s record covers it — or once the connection ended.
//!
//! tokio-postgres queues a request on a channel at its first poll and its connection task
//! writes it later: what the wire shows at a release says nothing of requests still queued,
//! hence this barrier. Nothing here judges a session (see [`crate::proof`]).

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll, Waker},
};

use crate::wire::{Observer, Seen};

/// What runs after the drain: `Some(seen)` after a clean poll, `None` when the connection
/// ended (or its task was dropped) first.
pub(crate) type AfterDrain = Box<dyn FnOnce(Option<Seen>) + Send>;

#[derive(Default)]
struct State {
    waker: Option<Waker>,
    waiting: Option<AfterDrain>,
    /// Counts the callbacks armed: a poll settles only the one armed before it began.
    armed: u64,
    ended: bool,
}

/// The meeting point of a connection's releaser and its task.
#[derive(Default)]
pub(crate) struct Barrier(Mutex<State>);

impl std::fmt::Debug for Barrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Barrier")
    }
}

impl Barrier {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `then` once the connection task drained what was sent before this call (see the
    /// module docs), on that task; at once with `None` if the connection already ended.
    pub(crate) fn after_drain(&self, then: AfterDrain) {
        let (replaced, waker) = {
            let mut s = self.state();
            if s.ended {
                drop(s);
                then(None);
                return;
            }
            s.armed += 1;
            (s.waiting.replace(then), s.waker.clone())
        };
        if let Some(earlier) = replaced {
            earlier(None);
        }
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn end(&self) {
        let waiting = {
            let mut s = self.state();
            s.ended = true;
            s.waker = None;
            s.waiting.take()
        };
        if let Some(then) = waiting {
            then(None);
        }
    }
}

/// A connection future driven under the barrier.
pub(crate) struct Driven<F> {
    connection: F,
    barrier: Arc<Barrier>,
    observer: Observer,
}

impl<F> Driven<F> {
    pub(crate) fn new(connection: F, barrier: Arc<Barrier>, observer: Observer) -> Self {
        Self { connection, barrier, observer }
    }
}

impl<F: Future + Unpin> Future for Driven<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let armed = {
            let mut s = self.barrier.state();
            if !s.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                s.waker = Some(cx.waker().clone());
            }
            s.waiting.is_some().then_some(s.armed)
        };
        self.observer.start_poll();
        let polled = Pin::new(&mut self.connection).poll(cx);
        if polled.is_ready() {
            self.barrier.end();
            return polled;
        }
        if let Some(armed) = armed {
            if let Some(seen) = self.observer.seen_if_flushed() {
                let then = {
                    let mut s = self.barrier.state();
                    if s.armed == armed {
                        s.waiting.take()
                    } else {
                        None
                    }
                };
                if let Some(then) = then {
                    then(Some(seen));
                }
            }
        }
        Poll::Pending
    }
}

impl<F> Drop for Driven<F> {
    fn drop(&mut self) {
        self.barrier.end();
    }
}
