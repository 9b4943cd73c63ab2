//! The wire observer: a stream wrapper ([`Observed`]) under tokio-postgres that reads the
//! PostgreSQL protocol's message framing in both directions as the bytes pass, and keeps in an
//! [`Observer`] what a release needs to know about the session without asking the server:
//! how many answers are owed (a startup, every Query and Sync written) and how many
//! ReadyForQuery came back, the last transaction status, the last reported
//! `default_transaction_read_only`, whether a write to the socket had to wait, and anything
//! unusual (COPY, a fatal or protocol error, a message it does not know). Two things the
//! server says are also passed on at once, as a [`WireEvent`], to the hook set with
//! [`Observer::on_event`]: `in_hot_standby` turning from `on` to `off` (PostgreSQL ≥ 14
//! reports it to every session of a promoted server, before its next ReadyForQuery) and a
//! statement ended by `statement_timeout`.
//!
//! It never changes, holds back or reorders a byte, and never decides anything: what the
//! observation proves is judged in [`crate::proof`].

use std::{
    collections::VecDeque,
    io,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    task::{Context, Poll, Waker},
};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What the observer saw of one connection (both directions, over its whole life).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Seen {
    /// The requests whose ReadyForQuery is owed, in order (the startup, every Query, every
    /// Sync): `true` for a batch of Close messages only (a dropped statement), which cannot
    /// change the session.
    in_flight: VecDeque<bool>,
    /// What was written since the last Sync.
    batch: Batch,
    /// The status byte of the last ReadyForQuery (`I`, `T` or `E`; 0 before the first).
    pub(crate) status: u8,
    /// The last reported `default_transaction_read_only` (PostgreSQL ≥ 14 reports it).
    pub(crate) guard_on: Option<bool>,
    /// How many times `default_transaction_read_only` was reported.
    guard_reports: u64,
    /// The last reported `in_hot_standby` (PostgreSQL ≥ 14 reports it).
    in_hot_standby: Option<bool>,
    /// The first unusual thing seen since the last [`Observer::forget_anomaly`]; the
    /// observation proves nothing while it is set.
    pub(crate) anomaly: Option<&'static str>,
    /// The framing was lost: nothing more can be read from the wire, ever.
    blind: bool,
    /// An ErrorResponse was read since the last ReadyForQuery.
    errored: bool,
}

/// Extended-protocol messages written since the last Sync.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Batch {
    #[default]
    Empty,
    /// Close messages only.
    Closes,
    Other,
}

/// The session's state as the observation shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Session {
    /// Every answer is in, no transaction is open; `guard_on` as last reported (`None`: never).
    Idle { guard_on: Option<bool> },
    /// Every answer is in, and a transaction block is open (`T`) or failed (`E`).
    InTransaction,
    /// The one request in flight (dropped statements' Closes aside) was answered with an
    /// error, and its ReadyForQuery is on its way: the server sends it right after the error
    /// (which it flushes on its own), with nothing to run in between. tokio-postgres hands
    /// the error to the user before it.
    Answering,
    /// Not known from the observation (why).
    Unknown(&'static str),
}

impl Seen {
    pub(crate) fn session(&self) -> Session {
        if self.blind {
            return Session::Unknown("the framing of the wire was lost");
        }
        if let Some(why) = self.anomaly {
            return Session::Unknown(why);
        }
        if self.batch != Batch::Empty || self.in_flight.iter().any(|closes_only| !closes_only) {
            let answering = self.batch == Batch::Empty
                && self.errored
                && self.in_flight.iter().skip(1).all(|closes_only| *closes_only);
            return if answering {
                Session::Answering
            } else {
                Session::Unknown("a request is still in flight")
            };
        }
        // What is still in flight closes statements: the session is as the last answer left it.
        match self.status {
            b'I' => Session::Idle { guard_on: self.guard_on },
            b'T' | b'E' => Session::InTransaction,
            _ => Session::Unknown("no ReadyForQuery yet"),
        }
    }

    fn flag(&mut self, why: &'static str) {
        self.anomaly.get_or_insert(why);
    }

    fn sent(&mut self, closes_only: bool) {
        self.in_flight.push_back(closes_only);
    }
}

/// What the server said that someone may have to act on at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WireEvent {
    /// `in_hot_standby` was reported `off` on a session that had it `on`: the server was
    /// promoted. (A session that starts `off` is not on a standby at all: what the sampler and
    /// the health check find out, without this connection's help.)
    Promoted,
    /// A statement failed with SQLSTATE 57014 "canceling statement due to statement timeout"
    /// (not a cancel request, whose message says "user request").
    StatementTimeout,
}

/// What is called with each [`WireEvent`] (on the connection's task: it must not block).
pub(crate) type EventHook = Arc<dyn Fn(WireEvent) + Send + Sync>;

#[derive(Default)]
struct Shared {
    seen: Mutex<Seen>,
    /// A write or flush to the stream returned Pending since [`Observer::start_poll`].
    write_waited: AtomicBool,
    hook: std::sync::OnceLock<EventHook>,
    /// What the socket itself is polled with, once set (see [`Observer::wake_socket_with`]).
    socket_waker: std::sync::OnceLock<Waker>,
}

/// The shared record of one connection's observation.
#[derive(Clone, Default)]
pub(crate) struct Observer(Arc<Shared>);

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Observer").field(&*self.0.seen.lock().unwrap_or_else(|p| p.into_inner())).finish()
    }
}

impl Observer {
    fn with<R>(&self, f: impl FnOnce(&mut Seen) -> R) -> R {
        f(&mut self.0.seen.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Sets what is called with each [`WireEvent`] from now on (once; later calls are no-ops).
    pub(crate) fn on_event(&self, hook: EventHook) {
        let _ = self.0.hook.set(hook);
    }

    fn event(&self, event: WireEvent) {
        if let Some(hook) = self.0.hook.get() {
            hook(event);
        }
    }

    /// What was seen so far.
    #[cfg(test)]
    pub(crate) fn seen(&self) -> Seen {
        self.with(|s| s.clone())
    }

    /// Clears the anomaly once a round trip proved the session in step after it (a finished
    /// COPY, an answered error). Lost framing stays.
    pub(crate) fn forget_anomaly(&self) {
        self.with(|s| s.anomaly = None);
    }

    /// Called before every poll of the connection.
    pub(crate) fn start_poll(&self) {
        self.0.write_waited.store(false, Ordering::SeqCst);
    }

    /// After a poll: whether every write and flush during it completed (otherwise some bytes
    /// the driver meant to send may still be in its buffer).
    pub(crate) fn flushed(&self) -> bool {
        !self.0.write_waited.load(Ordering::SeqCst)
    }

    /// The session as the wire shows it so far.
    pub(crate) fn session(&self) -> Session {
        self.with(|s| s.session())
    }

    /// How many times the guard was reported so far, and its last reported value.
    pub(crate) fn guard_reports(&self) -> (u64, Option<bool>) {
        self.with(|s| (s.guard_reports, s.guard_on))
    }

    /// From now on the socket under the connection is polled with `waker`, not with the
    /// connection's own (once; later calls are no-ops): the socket's wake-ups can be told
    /// apart from those of the driver's request channel (see [`crate::driver`]).
    pub(crate) fn wake_socket_with(&self, waker: Waker) {
        let _ = self.0.socket_waker.set(waker);
    }

    /// Runs `f` with the context the socket is polled with.
    fn on_socket<R>(&self, cx: &mut Context<'_>, f: impl FnOnce(&mut Context<'_>) -> R) -> R {
        match self.0.socket_waker.get() {
            Some(waker) => f(&mut Context::from_waker(waker)),
            None => f(cx),
        }
    }

    fn write_waited(&self) {
        self.0.write_waited.store(true, Ordering::SeqCst);
    }
}

const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;
const CANCEL_REQUEST: u32 = 80_877_102;
const PROTOCOL_3: u32 = 196_608;
/// How much of a message body is kept for reading (ReadyForQuery, ParameterStatus and the
/// first fields of an ErrorResponse fit).
const KEPT: usize = 256;
const GUARD: &[u8] = b"default_transaction_read_only";
const HOT_STANDBY: &[u8] = b"in_hot_standby";

/// The framing of one direction: a header (a tag byte unless untagged, then an i32 length
/// that counts itself), then the body.
#[derive(Debug)]
struct Framing {
    untagged: bool,
    /// The tags whose body is read, one bit per ASCII tag (an untagged message's always is);
    /// others pass uncopied.
    read: u128,
    /// A header split across reads, and how much of it came.
    header: [u8; 5],
    have: usize,
    /// The current message's header was read: its body is passing.
    in_body: bool,
    /// The current message's tag (0 when untagged).
    tag: u8,
    left: usize,
    /// Whether the current message's body is kept.
    keep: bool,
    body: Vec<u8>,
}

impl Framing {
    fn new(untagged: bool, read: &[u8]) -> Self {
        let read = read.iter().fold(0u128, |bits, &t| bits | 1u128.checked_shl(u32::from(t)).unwrap_or(0));
        Self {
            untagged,
            read,
            header: [0; 5],
            have: 0,
            in_body: false,
            tag: 0,
            left: 0,
            keep: false,
            body: Vec::new(),
        }
    }

    fn header_len(&self) -> usize {
        if self.untagged {
            4
        } else {
            5
        }
    }

    /// Feeds bytes; calls `done(untagged, tag, kept body)` for every complete message (`tag`
    /// 0 for an untagged one), which returns whether the messages from now on are tagged.
    /// Err on a length no message has.
    fn feed(&mut self, mut bytes: &[u8], mut done: impl FnMut(bool, u8, &[u8]) -> bool) -> Result<(), ()> {
        while !bytes.is_empty() {
            if !self.in_body {
                let hl = self.header_len();
                let header = if self.have == 0 && bytes.len() >= hl {
                    // The usual case: the whole header is here, read in place.
                    let (header, rest) = bytes.split_at(hl);
                    bytes = rest;
                    header
                } else {
                    let n = (hl - self.have).min(bytes.len());
                    self.header[self.have..self.have + n].copy_from_slice(&bytes[..n]);
                    self.have += n;
                    bytes = &bytes[n..];
                    if self.have < hl {
                        return Ok(());
                    }
                    self.have = 0;
                    &self.header[..hl]
                };
                let len = i32::from_be_bytes(header[hl - 4..].try_into().map_err(|_| ())?);
                let tag = if self.untagged { 0 } else { header[0] };
                self.left = usize::try_from(len).ok().and_then(|l| l.checked_sub(4)).ok_or(())?;
                self.keep = self.untagged || (tag < 128 && (self.read >> tag) & 1 == 1);
                self.tag = tag;
                self.in_body = true;
                self.body.clear();
            }
            let n = self.left.min(bytes.len());
            if self.keep {
                let keep = n.min(KEPT.saturating_sub(self.body.len()));
                self.body.extend_from_slice(&bytes[..keep]);
            }
            self.left -= n;
            bytes = &bytes[n..];
            if self.left == 0 {
                self.in_body = false;
                if done(self.untagged, self.tag, &self.body) {
                    self.untagged = false;
                }
            }
        }
        Ok(())
    }
}

/// A stream whose PostgreSQL traffic is observed as it passes.
#[derive(Debug)]
pub(crate) struct Observed<S> {
    inner: S,
    observer: Observer,
    /// Off once the stream carries TLS records (the TLS session's own wrapper observes).
    parsing: bool,
    front: Framing,
    back: Framing,
    /// An SSLRequest was written: the server answers with one byte.
    ssl_answer_owed: bool,
}

impl<S> Observed<S> {
    pub(crate) fn new(inner: S, observer: Observer) -> Self {
        Self {
            inner,
            observer,
            parsing: true,
            // Frontend messages are told apart by their tag alone.
            front: Framing::new(true, b""),
            back: Framing::new(false, b"ZSE"),
            ssl_answer_owed: false,
        }
    }

    /// The bytes from now on are TLS records: stop parsing them.
    pub(crate) fn pass_through(&mut self) {
        self.parsing = false;
    }

    pub(crate) fn get_ref(&self) -> &S {
        &self.inner
    }

    pub(crate) fn observer(&self) -> &Observer {
        &self.observer
    }

    fn wrote(&mut self, bytes: &[u8]) {
        let observer = &self.observer;
        let mut ssl_request = false;
        let parsed = self.front.feed(bytes, |untagged, tag, body| {
            if untagged {
                // A startup-phase message, told apart by its first field.
                match body.get(..4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])) {
                    Some(SSL_REQUEST) => ssl_request = true,
                    Some(PROTOCOL_3) => {
                        observer.with(|s| s.sent(false));
                        return true;
                    }
                    Some(CANCEL_REQUEST) => {}
                    Some(GSSENC_REQUEST) => observer.with(|s| s.flag("a GSSAPI encryption request")),
                    _ => observer.with(|s| s.flag("an unknown startup message")),
                }
                return false;
            }
            match tag {
                b'Q' => observer.with(|s| s.sent(false)),
                b'S' => observer.with(|s| {
                    let closes_only = s.batch == Batch::Closes;
                    s.sent(closes_only);
                    s.batch = Batch::Empty;
                }),
                b'C' => observer.with(|s| {
                    if s.batch == Batch::Empty {
                        s.batch = Batch::Closes;
                    }
                }),
                b'P' | b'B' | b'D' | b'E' | b'H' => observer.with(|s| s.batch = Batch::Other),
                b'd' | b'c' | b'f' => observer.with(|s| s.flag("COPY data sent")),
                b'X' | b'p' => {}
                _ => observer.with(|s| s.flag("an unknown frontend message")),
            }
            false
        });
        if parsed.is_err() {
            self.observer.with(|s| s.blind = true);
            self.parsing = false;
        }
        if ssl_request {
            self.ssl_answer_owed = true;
        }
    }

    fn read(&mut self, mut bytes: &[u8]) {
        if self.ssl_answer_owed && !bytes.is_empty() {
            self.ssl_answer_owed = false;
            if !matches!(bytes[0], b'S' | b'N') {
                self.observer.with(|s| s.flag("an unknown answer to the SSL request"));
            }
            bytes = &bytes[1..];
        }
        let observer = &self.observer;
        let parsed = self.back.feed(bytes, |_, tag, body| {
            match tag {
                b'Z' => observer.with(|s| {
                    if s.in_flight.pop_front().is_none() {
                        s.flag("a ReadyForQuery no request asked for");
                    }
                    s.errored = false;
                    s.status = body.first().copied().unwrap_or(0);
                }),
                b'S' => {
                    let mut parts = body.split(|b| *b == 0);
                    match parts.next() {
                        Some(GUARD) => {
                            let on = parts.next() == Some(b"on".as_slice());
                            observer.with(|s| {
                                s.guard_on = Some(on);
                                s.guard_reports += 1;
                            });
                        }
                        Some(HOT_STANDBY) => {
                            let on = parts.next() != Some(b"off".as_slice());
                            if observer.with(|s| s.in_hot_standby.replace(on)) == Some(true) && !on {
                                observer.event(WireEvent::Promoted);
                            }
                        }
                        _ => {}
                    }
                }
                b'E' => {
                    observer.with(|s| s.errored = true);
                    if let Some(why) = unusual_error(body) {
                        observer.with(|s| s.flag(why));
                    } else if is_statement_timeout(body) {
                        observer.event(WireEvent::StatementTimeout);
                    }
                }
                b'1' | b'2' | b'3' | b'C' | b'D' | b'I' | b'K' | b'N' | b'A' | b'n' | b'R' | b's' | b'T'
                | b't' | b'v' => {}
                b'G' | b'H' | b'W' | b'd' | b'c' => observer.with(|s| s.flag("COPY mode")),
                _ => observer.with(|s| s.flag("an unknown backend message")),
            }
            false
        });
        if parsed.is_err() {
            self.observer.with(|s| s.blind = true);
            self.parsing = false;
        }
    }
}

/// Why an ErrorResponse is more than an ordinary statement error: a severity other than
/// ERROR (FATAL, PANIC: the session ends) or a protocol violation (class 08).
fn unusual_error(body: &[u8]) -> Option<&'static str> {
    let mut severity = None;
    let mut code = None;
    for field in body.split(|b| *b == 0) {
        match field.split_first() {
            Some((b'V', v)) => severity = Some(v),
            Some((b'S', v)) if severity.is_none() => severity = Some(v),
            Some((b'C', v)) => code = Some(v),
            _ => {}
        }
    }
    if severity != Some(b"ERROR".as_slice()) {
        return Some("an error that ends the session");
    }
    match code {
        Some(c) if c.starts_with(b"08") => Some("a protocol or connection error"),
        Some(_) => None,
        None => Some("an error without a SQLSTATE"),
    }
}

/// Whether an ErrorResponse is a statement ended by `statement_timeout`: SQLSTATE 57014 with
/// the server's message for it (a cancel request gives the same SQLSTATE, "user request").
/// The message is PostgreSQL's English one: with another `lc_messages` it is not recognised.
fn is_statement_timeout(body: &[u8]) -> bool {
    let mut code = false;
    let mut message = false;
    for field in body.split(|b| *b == 0) {
        match field.split_first() {
            Some((b'C', v)) => code = v == b"57014",
            Some((b'M', v)) => message = v == b"canceling statement due to statement timeout",
            _ => {}
        }
    }
    code && message
}

impl<S: AsyncRead + Unpin> AsyncRead for Observed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let polled = this.observer.on_socket(cx, |cx| Pin::new(&mut this.inner).poll_read(cx, buf));
        if this.parsing && matches!(polled, Poll::Ready(Ok(()))) {
            this.read(&buf.filled()[before..]);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Observed<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let polled = this.observer.on_socket(cx, |cx| Pin::new(&mut this.inner).poll_write(cx, buf));
        match &polled {
            Poll::Ready(Ok(n)) if this.parsing => this.wrote(&buf[..*n]),
            Poll::Pending => this.observer.write_waited(),
            _ => {}
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let polled = this.observer.on_socket(cx, |cx| Pin::new(&mut this.inner).poll_flush(cx));
        if polled.is_pending() {
            this.observer.write_waited();
        }
        polled
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        this.observer.on_socket(cx, |cx| Pin::new(&mut this.inner).poll_shutdown(cx))
    }
}

#[cfg(test)]
mod tests;
