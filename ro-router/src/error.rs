//! Errors of configuration and checkout. Every message says what to do, and none ever carries
//! a password: URLs appear as `host:port/db` and server messages pass through the router's
//! redactor before they are stored.

use std::fmt;

use crate::stats::FallbackReason;

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

/// A driver error as one line: the server's own message and SQLSTATE when the server answered
/// (tokio-postgres' `Display` says only "db error" then).
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {} (SQLSTATE {})", db.severity(), db.message(), db.code().code()),
        None => e.to_string(),
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

/// One failed checkout attempt on one pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutFailure {
    pub(crate) kind: CheckoutFailureKind,
    pub(crate) message: String,
    pub(crate) sqlstate: Option<String>,
}

impl CheckoutFailure {
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

impl fmt::Display for CheckoutFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            CheckoutFailureKind::PoolExhausted => write!(f, "{}", self.message),
            CheckoutFailureKind::ConnectTimeout => write!(
                f,
                "{}: the server or the network is not answering (raise DB_CONNECT_TIMEOUT_MS only if it is merely slow)",
                self.message
            ),
            CheckoutFailureKind::Connect => write!(f, "could not connect: {}", self.message),
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
