//! The task that drives one connection ([`Driver`]), and its drain barrier:
//! [`Barrier::after_drain`] runs a callback once the connection, polled after the call, went
//! back to waiting with every write and the final flush done — so every request sent before
//! the call is on the wire and the [`Observer`]'s record covers it — or once the connection
//! ended.
//!
//! tokio-postgres queues a request on a channel at its first poll and its connection task
//! writes it later: what the wire shows at a release says nothing of requests still queued,
//! hence this barrier. The connection future lives in the barrier, so that a release can poll
//! it at once (with the driving task's waker: every wake-up still goes to that task) instead
//! of waiting for the task to be scheduled; when the task is polling it right then, the
//! callback waits for the task's next poll.
//!
//! Nothing here judges a session (see [`crate::proof`]).

use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard},
    task::{Context, Poll, Waker},
};

use crate::wire::{Observer, Seen};

/// What runs after the drain: `Some(seen)` after a clean poll, `None` when the connection
/// ended (or its task was dropped) first.
pub(crate) type AfterDrain = Box<dyn FnOnce(Option<Seen>) + Send>;

type Connection = Pin<Box<dyn Future<Output = Result<(), tokio_postgres::Error>> + Send>>;

struct State {
    /// `None` once it ended.
    connection: Option<Connection>,
    /// How it ended, when a release's poll saw it end (the task reports it).
    outcome: Option<Result<(), tokio_postgres::Error>>,
    /// The driving task's waker.
    waker: Option<Waker>,
    waiting: Option<AfterDrain>,
    /// Counts the callbacks armed: a poll settles only the one armed before it began.
    armed: u64,
}

/// The meeting point of a connection's releaser and its task; owns the connection future.
pub(crate) struct Barrier {
    state: Mutex<State>,
    observer: Observer,
}

impl std::fmt::Debug for Barrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Barrier")
    }
}

/// What one poll of the connection showed.
enum Polled {
    Ended,
    /// Waiting, every write flushed: what the wire showed.
    Drained(Seen),
    /// Waiting with a write or flush pending (or not polled, or not judged).
    Busy,
}

impl Barrier {
    /// The barrier of `connection`, and the task future that drives it.
    pub(crate) fn new<F>(connection: F, observer: Observer) -> (Arc<Self>, Driver)
    where
        F: Future<Output = Result<(), tokio_postgres::Error>> + Send + 'static,
    {
        let barrier = Arc::new(Self {
            state: Mutex::new(State {
                connection: Some(Box::pin(connection)),
                outcome: None,
                waker: None,
                waiting: None,
                armed: 0,
            }),
            observer,
        });
        (barrier.clone(), Driver(barrier))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Polls the connection once with `waker` (the driving task's). What the wire showed is
    /// taken only when `judged` (a callback waits for it): the task's other polls, most of
    /// them, skip the observer's lock and the copy of its record.
    fn poll_once(&self, s: &mut State, waker: &Waker, judged: bool) -> Polled {
        let Some(connection) = s.connection.as_mut() else { return Polled::Ended };
        if judged {
            self.observer.start_poll();
        }
        match connection.as_mut().poll(&mut Context::from_waker(waker)) {
            Poll::Ready(outcome) => {
                s.connection = None;
                s.outcome = Some(outcome);
                Polled::Ended
            }
            Poll::Pending if !judged => Polled::Busy,
            Poll::Pending => match self.observer.seen_if_flushed() {
                Some(seen) => Polled::Drained(seen),
                None => Polled::Busy,
            },
        }
    }

    /// Runs `then` once the connection drained what was sent before this call (see the
    /// module docs): at once when a poll here shows it, otherwise on the driving task.
    pub(crate) fn after_drain(&self, then: AfterDrain) {
        let mut s = self.state();
        let polled = match s.waker.clone() {
            Some(waker) => {
                let polled = self.poll_once(&mut s, &waker, true);
                if matches!(polled, Polled::Ended) {
                    waker.wake(); // The task reports the outcome.
                }
                polled
            }
            None if s.connection.is_none() => Polled::Ended,
            None => Polled::Busy, // Never polled yet: the task's first poll settles it.
        };
        match polled {
            Polled::Ended => {
                drop(s);
                then(None);
            }
            Polled::Drained(seen) => {
                drop(s);
                then(Some(seen));
            }
            Polled::Busy => {
                s.armed += 1;
                let earlier = s.waiting.replace(then);
                drop(s);
                if let Some(earlier) = earlier {
                    earlier(None);
                }
            }
        }
    }
}

/// The future of the task that drives a connection (see [`Barrier::new`]).
pub(crate) struct Driver(Arc<Barrier>);

impl Future for Driver {
    type Output = Result<(), tokio_postgres::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let barrier = &self.0;
        let mut s = barrier.state();
        if !s.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            s.waker = Some(cx.waker().clone());
        }
        let armed = s.waiting.is_some().then_some(s.armed);
        let polled = barrier.poll_once(&mut s, cx.waker(), armed.is_some());
        let settled = match (&polled, armed) {
            (Polled::Ended, _) => s.waiting.take().map(|then| (then, None)),
            (Polled::Drained(seen), Some(armed)) if s.armed == armed => {
                s.waiting.take().map(|then| (then, Some(seen.clone())))
            }
            _ => None,
        };
        let outcome = match polled {
            Polled::Ended => Some(s.outcome.take().unwrap_or(Ok(()))),
            _ => None,
        };
        drop(s);
        if let Some((then, seen)) = settled {
            then(seen);
        }
        match outcome {
            Some(outcome) => Poll::Ready(outcome),
            None => Poll::Pending,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let waiting = {
            let mut s = self.0.state();
            s.connection = None;
            s.waker = None;
            s.waiting.take()
        };
        if let Some(then) = waiting {
            then(None);
        }
    }
}
