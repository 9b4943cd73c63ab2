//! Cancelling a running query: [`CancelToken`], what a connection's `cancel_token()` gives.
//!
//! The router opens its sockets itself, so tokio-postgres' own token does not know where to
//! send a cancel request ("unknown host"). This token keeps tokio-postgres' (the backend's key
//! and the sslmode) with the place the connection was opened, and sends the request there
//! through the router's own dialing, as the pool opens connections (timeouts, socket options,
//! TLS).
//!
//! Nothing here decides routing or changes a session.

use std::{fmt, sync::Arc};

use crate::{dial::Peer, error::OpenError, pools::TargetLink};

/// The capability to cancel the query running on one connection, from
/// [`PrimaryConnection::cancel_token`](crate::PrimaryConnection::cancel_token) or
/// [`ReadOnlyConnection::cancel_token`](crate::ReadOnlyConnection::cancel_token). It may be
/// kept, cloned and used from another task after the connection went back to its pool (as
/// with tokio-postgres, the request then reaches whatever that backend runs, if anything).
#[derive(Clone)]
pub struct CancelToken {
    token: tokio_postgres::CancelToken,
    peer: Peer,
    link: Arc<TargetLink>,
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken").field("target", &self.link.name).finish_non_exhaustive()
    }
}

impl CancelToken {
    pub(crate) fn new(token: tokio_postgres::CancelToken, peer: Peer, link: Arc<TargetLink>) -> Self {
        Self { token, peer, link }
    }

    /// Asks the server to cancel the query running on the connection: the query fails with
    /// SQLSTATE 57014 (`query_canceled`). As with tokio-postgres, success only means the
    /// request was sent; the query may have finished first.
    ///
    /// Shaped like [`tokio_postgres::CancelToken::cancel_query`] so that
    /// `conn.cancel_token().cancel_query(NoTls)` keeps compiling, with two differences: `tls`
    /// is not used (the request goes as the pool's connections do, with their TLS settings),
    /// and the error is a [`CancelError`].
    pub async fn cancel_query<T>(&self, _tls: T) -> Result<(), CancelError> {
        self.cancel().await
    }

    /// [`cancel_query`](Self::cancel_query) without the unused TLS argument.
    pub async fn cancel(&self) -> Result<(), CancelError> {
        self.link
            .send_cancel(&self.token, &self.peer)
            .await
            .map_err(|e| CancelError { target: self.link.name.clone(), error: e })
    }
}

/// A cancel request that could not be sent: the server could not be reached (the cause chain
/// says why). Shows no credential.
#[derive(Debug)]
pub struct CancelError {
    target: String,
    error: OpenError,
}

impl fmt::Display for CancelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not send a cancel request to {}: {}", self.target, self.error)
    }
}

impl std::error::Error for CancelError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.error)
    }
}
