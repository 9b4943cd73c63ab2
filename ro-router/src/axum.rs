//! axum integration (feature `axum`): the [`DbRo`] and [`DbRw`] extractors, and the
//! [`read_your_writes`] middleware that carries a [`WriteToken`] from a request that wrote to
//! the next one that reads.
//!
//! Both have the same shape: a tuple struct around the connection, built from a
//! [`DbRouter`] in the app state (any state `S` with `DbRouter: FromRef<S>`), derefing to the
//! connection (and through it to the `tokio-postgres` client), so `db.query(..)` works on
//! either and a GET handler moves from `DbRw` to `DbRo` by renaming the type. Each holds one
//! checkout for the whole request and returns it when the handler's future is dropped, i.e.
//! when the request ends.
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use ro_router::{axum::{DbRo, DbRw}, DbRouter};
//!
//! async fn count(db: DbRo) -> String {
//!     let row = db.query_one("SELECT count(*) FROM items", &[]).await.unwrap();
//!     row.get::<_, i64>(0).to_string()
//! }
//!
//! async fn add(db: DbRw) -> &'static str {
//!     db.execute("INSERT INTO items (name) VALUES ('x')", &[]).await.unwrap();
//!     "ok"
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let router = DbRouter::from_env().await?;
//! let app: Router = Router::new().route("/items", get(count).post(add)).with_state(router);
//! # Ok(()) }
//! ```

use std::{
    ops::{Deref, DerefMut},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use ::axum::{
    extract::{FromRef, FromRequestParts, Request, State},
    http::{
        header::{COOKIE, SET_COOKIE},
        request::Parts,
        HeaderMap, HeaderName, HeaderValue, StatusCode,
    },
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{ConfigError, DbRouter, PrimaryConnection, ReadOnlyConnection, RouterError, WriteToken};

/// A read-only connection for one request ([`DbRouter::get_db_ro`]; behind the
/// [`read_your_writes`] middleware, [`DbRouter::get_db_ro_after`] when the request carries a
/// write token).
#[derive(Debug)]
pub struct DbRo(pub ReadOnlyConnection);

/// A read-write connection to the primary for one request ([`DbRouter::get_db`]; behind the
/// [`read_your_writes`] middleware, its response gets a write token).
#[derive(Debug)]
pub struct DbRw(pub PrimaryConnection);

/// The rejection of [`DbRo`] / [`DbRw`] when no connection can be checked out: answers
/// `503 Service Unavailable` (without the error's details, which are logged instead).
#[derive(Debug)]
pub struct DbUnavailable(pub RouterError);

impl IntoResponse for DbUnavailable {
    fn into_response(self) -> Response {
        tracing::error!(target: "ro_router::axum", error = %self.0, "request rejected: no database connection");
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
    }
}

impl<S> FromRequestParts<S> for DbRo
where
    DbRouter: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = DbUnavailable;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let router = DbRouter::from_ref(state);
        let conn = match parts.extensions.get::<WriteToken>() {
            Some(token) => router.get_db_ro_after(token).await,
            None => router.get_db_ro().await,
        };
        conn.map(DbRo).map_err(DbUnavailable)
    }
}

impl<S> FromRequestParts<S> for DbRw
where
    DbRouter: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = DbUnavailable;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(used) = parts.extensions.get::<UsedPrimary>() {
            used.0.store(true, Ordering::Relaxed);
        }
        DbRouter::from_ref(state).get_db().await.map(DbRw).map_err(DbUnavailable)
    }
}

impl Deref for DbRo {
    type Target = ReadOnlyConnection;

    fn deref(&self) -> &ReadOnlyConnection {
        &self.0
    }
}

impl DerefMut for DbRo {
    fn deref_mut(&mut self) -> &mut ReadOnlyConnection {
        &mut self.0
    }
}

impl Deref for DbRw {
    type Target = PrimaryConnection;

    fn deref(&self) -> &PrimaryConnection {
        &self.0
    }
}

impl DerefMut for DbRw {
    fn deref_mut(&mut self) -> &mut PrimaryConnection {
        &mut self.0
    }
}

/// Where [`read_your_writes`] keeps the token between requests.
#[derive(Debug, Clone)]
enum Carrier {
    /// A cookie (`Path=/; HttpOnly; SameSite=Lax`): browsers send it back by themselves.
    Cookie(String),
    /// A response header; the client sends the same header back.
    Header(HeaderName),
}

/// The state of the [`read_your_writes`] middleware: the router and where the token travels.
#[derive(Debug, Clone)]
pub struct ReadYourWrites {
    router: DbRouter,
    carrier: Carrier,
}

/// The cookie [`ReadYourWrites::new`] uses.
pub const DEFAULT_COOKIE: &str = "ro_router_lsn";

impl ReadYourWrites {
    /// The token in the cookie [`DEFAULT_COOKIE`].
    pub fn new(router: DbRouter) -> Self {
        Self { router, carrier: Carrier::Cookie(DEFAULT_COOKIE.to_string()) }
    }

    /// The token in the cookie `name` (letters, digits, `_` and `-`).
    pub fn cookie(router: DbRouter, name: &str) -> Result<Self, ConfigError> {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            return Err(invalid_name("cookie", name));
        }
        Ok(Self { router, carrier: Carrier::Cookie(name.to_string()) })
    }

    /// The token in the header `name` (e.g. `x-db-write-token`), sent back by the client.
    pub fn header(router: DbRouter, name: &str) -> Result<Self, ConfigError> {
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid_name("header", name))?;
        Ok(Self { router, carrier: Carrier::Header(header) })
    }

    /// The token the request carries: `None` without one, an error for text that is not a
    /// token.
    fn incoming(&self, headers: &HeaderMap) -> Option<Result<WriteToken, crate::TokenError>> {
        let text = match &self.carrier {
            Carrier::Header(name) => headers.get(name).map(|v| v.to_str().unwrap_or("\u{fffd}").to_string()),
            Carrier::Cookie(name) => headers
                .get_all(COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(';'))
                .filter_map(|pair| pair.trim().split_once('='))
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.to_string()),
        };
        text.map(|t| t.parse())
    }

    fn outgoing(&self, headers: &mut HeaderMap, token: WriteToken) {
        let (name, value) = match &self.carrier {
            Carrier::Header(name) => (name.clone(), token.to_string()),
            Carrier::Cookie(name) => (SET_COOKIE, format!("{name}={token}; Path=/; HttpOnly; SameSite=Lax")),
        };
        // A token is hex digits and '/', a cookie name was checked: always a valid value.
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.append(name, value);
        }
    }
}

fn invalid_name(what: &str, name: &str) -> ConfigError {
    ConfigError::InvalidVar {
        var: format!("read-your-writes {what} name"),
        reason: format!("{name:?} is not a valid {what} name"),
    }
}

/// Set in a request's extensions by [`read_your_writes`]; [`DbRw`] marks it.
#[derive(Debug, Clone, Default)]
struct UsedPrimary(Arc<AtomicBool>);

/// Read-your-writes for an axum app: a request that took a [`DbRw`] gets a [`WriteToken`] in
/// its response (a cookie or a header, see [`ReadYourWrites`]), and a later request carrying
/// it gets a [`DbRo`] that sees those writes ([`DbRouter::get_db_ro_after`]). Taking the
/// token costs one primary checkout and round trip after each such request (every `DbRw` is
/// taken to have written); requests without `DbRw` pay nothing. A token that does not parse
/// is ignored (logged at debug level): the read is an ordinary one.
///
/// ```no_run
/// use axum::{middleware, routing::get, Router};
/// use ro_router::{axum::{read_your_writes, DbRo, ReadYourWrites}, DbRouter};
///
/// async fn count(db: DbRo) -> String {
///     let row = db.query_one("SELECT count(*) FROM items", &[]).await.unwrap();
///     row.get::<_, i64>(0).to_string()
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let router = DbRouter::from_env().await?;
/// let app: Router = Router::new()
///     .route("/items", get(count))
///     .layer(middleware::from_fn_with_state(ReadYourWrites::new(router.clone()), read_your_writes))
///     .with_state(router);
/// # Ok(()) }
/// ```
pub async fn read_your_writes(
    State(ryw): State<ReadYourWrites>,
    mut request: Request,
    next: Next,
) -> Response {
    match ryw.incoming(request.headers()) {
        Some(Ok(token)) => {
            request.extensions_mut().insert(token);
        }
        Some(Err(e)) => tracing::debug!(target: "ro_router::axum", error = %e, "write token ignored"),
        None => {}
    }
    let used = UsedPrimary::default();
    request.extensions_mut().insert(used.clone());
    let mut response = next.run(request).await;
    if used.0.load(Ordering::Relaxed) {
        // The handler is done and its connection returned: everything it wrote is committed
        // (or rolled back), so the token covers it.
        let token = match ryw.router.get_db().await {
            Ok(conn) => conn.write_token().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match token {
            Ok(token) => ryw.outgoing(response.headers_mut(), token),
            Err(e) => tracing::warn!(
                target: "ro_router::axum",
                error = %e,
                "no write token for this response: the client's next read may not see its write"
            ),
        }
    }
    response
}
