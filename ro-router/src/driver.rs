//! The task that drives one connection ([`Driver`]), and its drain barrier:
//! [`Barrier::after_drain`] runs a callback once the connection, polled after the call, went
//! back to waiting with every write and the final flush done — so every request sent before
//! the call is on the wire and the [`Observer`]'s record covers it — or once the connection
//! ended.
//!
//! tokio-postgres queues a request on a channel at its first poll and its connection task
//! writes it later: what the wire shows at a release says nothing of requests still queued,
//! hence this barrier. The connection future lives in the barrier, so that a release can poll
//! it at once instead of waiting for the task to be scheduled; when the task is polling it
//! right then, the release waits for that poll to end.
//!
//! **Quiet connections need no poll.** The connection is polled with a waker of the
//! barrier's own that counts its wake-ups (*stirs*) before it wakes the driving task; the
//! socket under it is polled with another that only wakes the task
//! ([`Observer::wake_socket_with`]). So the stirs count what can make the connection write: a
//! request queued on its channel, COPY data. A poll that ends waiting with every write
//! flushed *covers* the stirs counted when it began: a request queued before its look at
//! the channel was written and flushed by it, and one queued after that look stirs again
//! (a poll that found nothing more to do left its waker with the channel: the channel's
//! contract). So while the stirs counted equal those the last such poll covered, every
//! request sent so far is in the wire's record — even while the task is polling again (an
//! answer being read, say): a release takes the record as it is, without a poll, without
//! waiting and without the barrier's lock. Anything else (stirred since, no such poll yet,
//! the connection ended) goes the polled way. A record whose last request was answered with
//! an error whose ReadyForQuery has not been read yet ([`Session::Answering`]: tokio-postgres
//! hands the error over first) is settled by the task's poll that reads it.
//!
//! Nothing here judges a session (see [`crate::proof`]).

use std::{
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering::SeqCst},
        Arc, Mutex, MutexGuard,
    },
    task::{Context, Poll, Wake, Waker},
};

use crate::wire::{Observer, Session};

/// What runs after the drain: `Some(session)` after a clean poll, `None` when the connection
/// ended (or its task was dropped) first.
pub(crate) type AfterDrain = Box<dyn FnOnce(Option<Session>) + Send>;

type Connection = Pin<Box<dyn Future<Output = Result<(), tokio_postgres::Error>> + Send>>;

struct State {
    /// `None` once it ended.
    connection: Option<Connection>,
    /// How it ended, when a release's poll saw it end (the task reports it).
    outcome: Option<Result<(), tokio_postgres::Error>>,
    /// Whether the driving task polled once (its waker is in [`Marks`]).
    started: bool,
    waiting: Option<AfterDrain>,
    /// Counts the callbacks armed: a poll settles only the one armed before it began.
    armed: u64,
}

/// The stirs of a connection and what its polls covered (see the module docs), and the
/// driving task's waker. As a [`Waker`] it stirs the connection, then wakes the task.
struct Marks {
    stirs: AtomicU64,
    /// The stirs counted when the last poll that ended drained began; `u64::MAX` before.
    covered: AtomicU64,
    /// The connection ended, or its task was dropped.
    ended: AtomicBool,
    task: Mutex<Option<Waker>>,
}

impl Marks {
    fn task(&self) -> MutexGuard<'_, Option<Waker>> {
        self.task.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wake_task(&self) {
        let task = self.task().clone();
        if let Some(task) = task {
            task.wake();
        }
    }

    /// Whether every request sent before this call is covered by a poll that drained.
    fn quiet(&self) -> bool {
        let stirs = self.stirs.load(SeqCst);
        self.covered.load(SeqCst) == stirs && !self.ended.load(SeqCst)
    }
}

impl Wake for Marks {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.stirs.fetch_add(1, SeqCst);
        self.wake_task();
    }
}

/// The socket's waker: wakes the driving task, stirs nothing.
struct SocketWaker(Arc<Marks>);

impl Wake for SocketWaker {
    fn wake(self: Arc<Self>) {
        self.0.wake_task();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.wake_task();
    }
}

/// The meeting point of a connection's releaser and its task; owns the connection future.
pub(crate) struct Barrier {
    state: Mutex<State>,
    observer: Observer,
    marks: Arc<Marks>,
    /// `marks` as a waker: every poll of the connection uses it.
    waker: Waker,
}

impl std::fmt::Debug for Barrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Barrier")
    }
}

/// What one poll of the connection showed.
enum Polled {
    Ended,
    /// Waiting, every write flushed.
    Drained,
    /// Waiting with a write or flush pending.
    Busy,
}

impl Barrier {
    /// The barrier of `connection`, and the task future that drives it.
    pub(crate) fn new<F>(connection: F, observer: Observer) -> (Arc<Self>, Driver)
    where
        F: Future<Output = Result<(), tokio_postgres::Error>> + Send + 'static,
    {
        let marks = Arc::new(Marks {
            stirs: AtomicU64::new(0),
            covered: AtomicU64::new(u64::MAX),
            ended: AtomicBool::new(false),
            task: Mutex::new(None),
        });
        observer.wake_socket_with(Waker::from(Arc::new(SocketWaker(marks.clone()))));
        let barrier = Arc::new(Self {
            state: Mutex::new(State {
                connection: Some(Box::pin(connection)),
                outcome: None,
                started: false,
                waiting: None,
                armed: 0,
            }),
            observer,
            waker: Waker::from(marks.clone()),
            marks,
        });
        (barrier.clone(), Driver(barrier))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Polls the connection once (the caller holds the state's lock).
    fn poll_once(&self, s: &mut State) -> Polled {
        let Some(connection) = s.connection.as_mut() else { return Polled::Ended };
        let stirs = self.marks.stirs.load(SeqCst);
        self.observer.start_poll();
        match connection.as_mut().poll(&mut Context::from_waker(&self.waker)) {
            Poll::Ready(outcome) => {
                self.marks.ended.store(true, SeqCst);
                s.connection = None;
                s.outcome = Some(outcome);
                Polled::Ended
            }
            Poll::Pending if self.observer.flushed() => {
                self.marks.covered.store(stirs, SeqCst);
                Polled::Drained
            }
            Poll::Pending => Polled::Busy,
        }
    }

    /// The session as the wire shows it, if every request sent before this call is in the
    /// record (see the module docs) and the record says what the session is (when it does
    /// not — an answer still coming — a poll here may read more).
    pub(crate) fn quiet_session(&self) -> Option<Session> {
        if !self.marks.quiet() {
            return None;
        }
        let session = self.observer.session();
        let known = !matches!(session, Session::Unknown(_) | Session::Answering);
        (known && !self.marks.ended.load(SeqCst)).then_some(session)
    }

    /// Runs `then` once the connection drained what was sent before this call (see the
    /// module docs): at once when it is quiet (once the lock is had: see
    /// [`quiet_session`](Self::quiet_session) for the call without it) or a poll here shows
    /// it drained, otherwise on the driving task.
    pub(crate) fn after_drain(&self, then: AfterDrain) {
        let mut s = self.state();
        // The poll that held the lock may have covered what was sent.
        let polled = match self.quiet_session() {
            Some(session) => {
                drop(s);
                return then(Some(session));
            }
            None if s.started => {
                let polled = self.poll_once(&mut s);
                if matches!(polled, Polled::Ended) {
                    self.waker.wake_by_ref(); // The task reports the outcome.
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
            Polled::Drained if self.observer.session() != Session::Answering => {
                let session = self.observer.session();
                drop(s);
                then(Some(session));
            }
            // An error's ReadyForQuery still coming: the task's poll that reads it settles.
            Polled::Drained | Polled::Busy => {
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
        if !s.started {
            s.started = true;
            *barrier.marks.task() = Some(cx.waker().clone());
        } else {
            let mut task = barrier.marks.task();
            if !task.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *task = Some(cx.waker().clone());
            }
        }
        let armed = s.waiting.is_some().then_some(s.armed);
        let polled = barrier.poll_once(&mut s);
        let settled = match (&polled, armed) {
            (Polled::Ended, _) => s.waiting.take().map(|then| (then, None)),
            (Polled::Drained, Some(armed)) if s.armed == armed => match barrier.observer.session() {
                Session::Answering => None,
                session => s.waiting.take().map(|then| (then, Some(session))),
            },
            _ => None,
        };
        let outcome = match polled {
            Polled::Ended => Some(s.outcome.take().unwrap_or(Ok(()))),
            _ => None,
        };
        drop(s);
        if let Some((then, session)) = settled {
            then(session);
        }
        match outcome {
            Some(outcome) => Poll::Ready(outcome),
            None => Poll::Pending,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.0.marks.ended.store(true, SeqCst);
        let waiting = {
            let mut s = self.0.state();
            s.connection = None;
            *self.0.marks.task() = None;
            s.waiting.take()
        };
        if let Some(then) = waiting {
            then(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use super::*;

    /// A connection stand-in: takes every request queued on its channel, as tokio-postgres'
    /// does, and ends when the channel closes.
    fn connection(
        mut requests: tokio::sync::mpsc::UnboundedReceiver<u32>,
        taken: Arc<AtomicU64>,
    ) -> impl Future<Output = Result<(), tokio_postgres::Error>> {
        poll_fn(move |cx| loop {
            match requests.poll_recv(cx) {
                Poll::Ready(Some(_)) => taken.fetch_add(1, SeqCst),
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            };
        })
    }

    #[tokio::test]
    async fn a_request_queued_after_the_last_drained_poll_makes_the_connection_unquiet() {
        let (send, requests) = tokio::sync::mpsc::unbounded_channel();
        let taken = Arc::new(AtomicU64::new(0));
        let (barrier, driver) = Barrier::new(connection(requests, taken.clone()), Observer::default());
        assert!(!barrier.marks.quiet(), "never polled");
        let task = tokio::spawn(driver);
        tokio::task::yield_now().await;
        assert!(barrier.marks.quiet(), "a poll drained and nothing was queued since");
        send.send(1).unwrap();
        assert!(!barrier.marks.quiet(), "a request queued and not taken yet");
        tokio::task::yield_now().await;
        assert_eq!(taken.load(SeqCst), 1);
        assert!(barrier.marks.quiet(), "the poll that took it drained");
        drop(send);
        tokio::task::yield_now().await;
        assert!(task.is_finished());
        assert!(!barrier.marks.quiet(), "the connection ended");
        assert_eq!(barrier.quiet_session(), None);
    }

    #[tokio::test]
    async fn a_release_on_an_unquiet_connection_polls_it_first() {
        let (send, requests) = tokio::sync::mpsc::unbounded_channel();
        let taken = Arc::new(AtomicU64::new(0));
        let (barrier, driver) = Barrier::new(connection(requests, taken.clone()), Observer::default());
        let _task = tokio::spawn(driver);
        tokio::task::yield_now().await;
        send.send(1).unwrap();
        let settled = Arc::new(Mutex::new(None));
        let got = settled.clone();
        barrier.after_drain(Box::new(move |session| *got.lock().unwrap() = Some(session)));
        // Polled by the release itself, on this thread: the request was taken before the
        // callback ran.
        assert_eq!(taken.load(SeqCst), 1);
        assert_eq!(*settled.lock().unwrap(), Some(Some(Session::Unknown("no ReadyForQuery yet"))));
    }
}
