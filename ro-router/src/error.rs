//! Errors of configuration and checkout. Every message says what to do, and none ever carries
//! a password: URLs appear as `host:port/db` and server messages pass through the router's
//! redactor before they are stored.

use std::fmt;

use crate::{stats::FallbackReason, target::Redactor};

/// A configuration value that cannot be used. Names the variable (or field) at fault and never
/// echoes a URL, which could hold a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is not set.
    #[error("{var} is not set: set it to the primary's URL, e.g. postgres://user:password@host:5432/db")]
    Missing {
        /// The variable that must be set.
        var: &'static str,
    },
    /// A variable holds a value of the wrong shape.
    #[error("{var}: {reason}")]
    InvalidVar {
        /// The variable at fault.
        var: String,
        /// What was expected and what was found.
        reason: String,
    },
    /// A URL does not parse. The URL itself is not repeated (it may hold a password).
    #[error(
        "{what} is not a valid PostgreSQL URL ({reason}); expected postgres://user:password@host:port/db"
    )]
    InvalidUrl {
        /// Which URL: a variable name and entry number, or "database URL".
        what: String,
        /// The parser's complaint, with any secret removed.
        reason: String,
    },
}

/// Why a connection could not be opened: the driver's error, or the router's own socket
/// (see [`crate::dial`]) failing before the driver got it.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// tokio-postgres' error (shown as it is: its cause chain is its own).
    Driver(tokio_postgres::Error),
    /// Resolving, connecting or setting up the socket failed (the I/O error is the cause).
    Connect(std::io::Error),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Driver(e) => write!(f, "{e}"),
            Self::Connect(_) => f.write_str("error connecting to server"),
        }
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Driver(e) => std::error::Error::source(e),
            Self::Connect(e) => Some(e),
        }
    }
}

impl From<tokio_postgres::Error> for OpenError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Driver(e)
    }
}

/// The server's own error behind `e`, if the server answered.
fn db_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a tokio_postgres::error::DbError> {
    if let Some(pg) = e.downcast_ref::<tokio_postgres::Error>() {
        return pg.as_db_error();
    }
    match e.downcast_ref::<OpenError>() {
        Some(OpenError::Driver(pg)) => pg.as_db_error(),
        _ => None,
    }
}

/// A driver (or [`OpenError`]) error as one line: the server's own message and SQLSTATE when
/// the server answered (tokio-postgres' `Display` says only "db error" then), otherwise every
/// layer of its cause chain ("error connecting to server: Connection refused (os error
/// 111)"). Not redacted: the caller passes it through the router's redactor.
pub(crate) fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    match db_error(e) {
        Some(db) => format!("{}: {} (SQLSTATE {})", db.severity(), db.message(), db.code().code()),
        None => {
            let mut layers: Vec<String> = vec![e.to_string()];
            let mut next = e.source();
            while let Some(cause) = next {
                let text = cause.to_string();
                if !layers.iter().any(|l| l.contains(&text)) {
                    layers.push(text);
                }
                next = cause.source();
            }
            layers.join(": ")
        }
    }
}

/// Why a connection could not be opened or used, read from the driver error's cause chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureCause {
    /// The host name did not resolve.
    Dns,
    /// Nothing listens on the port (TCP connection refused).
    Refused,
    /// The server refused the credentials (SQLSTATE 28P01 or 28000), or the authentication
    /// exchange failed.
    Authentication,
    /// TLS could not be set up: the server offers none where it is required, or its
    /// certificate was not accepted.
    Tls,
    /// The server or the network did not answer in time.
    Timeout,
    /// The operating system refused a socket option (keepalive, `TCP_USER_TIMEOUT`).
    SocketOption,
    /// The connection was closed or reset.
    Closed,
    /// The server answered with another error (see the SQLSTATE).
    Server,
    /// Anything else (see the message).
    Other,
}

impl FailureCause {
    /// Classifies a driver error by its cause chain.
    pub(crate) fn of(e: &(dyn std::error::Error + 'static)) -> Self {
        use std::io::ErrorKind;
        if let Some(db) = db_error(e) {
            return match db.code().code() {
                "28P01" | "28000" => Self::Authentication,
                _ => Self::Server,
            };
        }
        match e.to_string().as_str() {
            "error performing TLS handshake" => return Self::Tls,
            "authentication error" => return Self::Authentication,
            "timeout waiting for server" => return Self::Timeout,
            "connection closed" => return Self::Closed,
            _ => {}
        }
        let mut next = Some(e);
        while let Some(cause) = next {
            if let Some(io) = cause.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    ErrorKind::ConnectionRefused => return Self::Refused,
                    ErrorKind::TimedOut => return Self::Timeout,
                    ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted | ErrorKind::UnexpectedEof => {
                        return Self::Closed
                    }
                    ErrorKind::InvalidInput if io.raw_os_error().is_some() => return Self::SocketOption,
                    _ if io.to_string().contains("failed to lookup address") => return Self::Dns,
                    _ => {}
                }
            }
            next = cause.source();
        }
        Self::Other
    }
}

impl fmt::Display for FailureCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Dns => "the host name does not resolve",
            Self::Refused => "connection refused",
            Self::Authentication => "authentication failed",
            Self::Tls => "TLS failed",
            Self::Timeout => "timed out",
            Self::SocketOption => "a socket option was refused",
            Self::Closed => "connection closed",
            Self::Server => "the server returned an error",
            Self::Other => "other error",
        })
    }
}

/// One layer of a failure's cause chain, already redacted (so that the chain can be kept,
/// cloned and shown without ever holding a password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    message: String,
    source: Option<Box<Cause>>,
}

impl Cause {
    /// The redacted chain of `e` (its own message first).
    pub(crate) fn chain(e: &(dyn std::error::Error + 'static), redactor: &Redactor) -> Self {
        Self {
            message: redactor.redact(e.to_string()),
            source: e.source().map(|s| Box::new(Self::chain(s, redactor))),
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|c| c as _)
    }
}

/// What went wrong with one checkout attempt, already redacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckoutFailureKind {
    /// Every connection of the pool stayed busy for the whole pool timeout.
    PoolExhausted,
    /// Opening a connection (TCP, authentication, session setup) took longer than the connect
    /// timeout: the server or the network is not answering.
    ConnectTimeout,
    /// The connection could not be opened (refused, reset, closed).
    Connect,
    /// The server answered with an error (see [`CheckoutFailure::sqlstate`]).
    Server,
    /// The server behind the primary URL is in recovery: it is a standby, not a primary.
    NotAPrimary,
}

/// One failed checkout attempt on one pool. Its [`source`](std::error::Error::source) is the
/// driver's cause chain (redacted); [`cause`](Self::cause) says which kind of cause it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutFailure {
    pub(crate) kind: CheckoutFailureKind,
    pub(crate) message: String,
    pub(crate) sqlstate: Option<String>,
    pub(crate) cause: Option<FailureCause>,
    pub(crate) source: Option<Cause>,
}

impl CheckoutFailure {
    /// A failure without a driver error behind it (its message already redacted).
    pub(crate) fn new(kind: CheckoutFailureKind, message: String, cause: Option<FailureCause>) -> Self {
        Self { kind, message, sqlstate: None, cause, source: None }
    }

    /// A failure from a driver error: the server's SQLSTATE, the cause and the chain, all
    /// redacted.
    pub(crate) fn from_driver(e: &(dyn std::error::Error + 'static), redactor: &Redactor) -> Self {
        let (kind, sqlstate) = match db_error(e) {
            Some(db) => (CheckoutFailureKind::Server, Some(db.code().code().to_string())),
            None => (CheckoutFailureKind::Connect, None),
        };
        let message = match db_error(e) {
            Some(db) => format!("{}: {}", db.severity(), db.message()),
            None => describe(e),
        };
        Self {
            kind,
            message: redactor.redact(message),
            sqlstate,
            cause: Some(FailureCause::of(e)),
            source: Some(Cause::chain(e, redactor)),
        }
    }

    /// Which kind of cause is behind it (DNS, refused, authentication, TLS, timeout, …),
    /// when a connection attempt failed.
    pub fn cause(&self) -> Option<FailureCause> {
        self.cause
    }

    /// The kind of failure.
    pub fn kind(&self) -> CheckoutFailureKind {
        self.kind
    }

    /// The SQLSTATE the server answered with, if it answered at all.
    pub fn sqlstate(&self) -> Option<&str> {
        self.sqlstate.as_deref()
    }

    /// The redacted detail message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::error::Error for CheckoutFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|c| c as _)
    }
}

impl fmt::Display for CheckoutFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            CheckoutFailureKind::PoolExhausted => write!(f, "{}", self.message),
            CheckoutFailureKind::ConnectTimeout => write!(
                f,
                "{}: the server or the network is not answering (raise DB_CONNECT_TIMEOUT_MS only if it is merely slow)",
                self.message
            ),
            CheckoutFailureKind::Connect => match self.cause {
                Some(cause) => write!(f, "could not connect ({cause}): {}", self.message),
                None => write!(f, "could not connect: {}", self.message),
            },
            CheckoutFailureKind::Server => match &self.sqlstate {
                Some(code) => write!(f, "the server refused: {} (SQLSTATE {code})", self.message),
                None => write!(f, "the server refused: {}", self.message),
            },
            CheckoutFailureKind::NotAPrimary => write!(
                f,
                "{}: pg_is_in_recovery() is true; point DB_PRIMARY_URL at the current primary",
                self.message
            ),
        }
    }
}

/// Why a replica could not serve a read-only checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable {
    /// The replica, as `host:port/db`.
    pub target: String,
    /// Why (out of rotation and its health status, or the checkout failure).
    pub reason: String,
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.target, self.reason)
    }
}

struct List<'a>(&'a [Unusable]);

impl fmt::Display for List<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return write!(f, "no replica is configured (DB_READ_REPLICA_URLS is empty)");
        }
        for (i, u) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{u}")?;
        }
        Ok(())
    }
}

/// An error of the router: configuration, or a checkout that could not be served.
#[derive(Debug, thiserror::Error)]
pub enum RouterError {
    /// The configuration cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `get_db()` could not check out a primary connection.
    #[error("no primary connection from {target}: {failure}")]
    PrimaryUnavailable {
        /// The primary, as `host:port/db`.
        target: String,
        /// What went wrong.
        #[source]
        failure: CheckoutFailure,
    },
    /// `get_db_ro()` found no usable replica and fallback to the primary is off.
    #[error("no read-only connection: {}; fallback to the primary is off (DB_READ_REPLICA_FALLBACK=false): turn it on or bring a replica back", List(.unusable))]
    ReadOnlyUnavailable {
        /// Each replica and why it could not serve.
        unusable: Vec<Unusable>,
    },
    /// `get_db_ro()` waited on a busy replica pool (fallback off) and timed out.
    #[error("no read-only connection from {target}: {failure}")]
    ReplicaExhausted {
        /// The replica, as `host:port/db`.
        target: String,
        /// What went wrong.
        #[source]
        failure: CheckoutFailure,
    },
    /// `get_db_ro()` fell through to the primary (`reason`) and that failed too.
    #[error("no read-only connection: replicas unusable ({reason}: {}) and the fallthrough pool to {target} failed: {failure}", List(.unusable))]
    FallthroughUnavailable {
        /// Why the read fell through.
        reason: FallbackReason,
        /// Each replica and why it could not serve.
        unusable: Vec<Unusable>,
        /// The fallthrough target, as `host:port/db`.
        target: String,
        /// What went wrong on the fallthrough pool.
        #[source]
        failure: CheckoutFailure,
    },
    /// The router was closed with [`DbRouter::close`](crate::DbRouter::close).
    #[error("the router is closed (DbRouter::close was called); build a new DbRouter")]
    Closed,
    /// The Prometheus collectors could not be registered.
    #[error("could not register ro-router's metrics: {0}; give each DbRouter its own prometheus::Registry")]
    Metrics(String),
}

impl RouterError {
    /// The checkout failure behind this error, if there is one.
    pub fn failure(&self) -> Option<&CheckoutFailure> {
        match self {
            Self::PrimaryUnavailable { failure, .. }
            | Self::ReplicaExhausted { failure, .. }
            | Self::FallthroughUnavailable { failure, .. } => Some(failure),
            _ => None,
        }
    }

    /// The SQLSTATE the server answered with, if the error came from a server.
    pub fn sqlstate(&self) -> Option<&str> {
        self.failure().and_then(CheckoutFailure::sqlstate)
    }
}
