//! axum integration (feature `axum`): the [`DbRo`] and [`DbRw`] extractors.
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

use std::ops::{Deref, DerefMut};

use ::axum::{
    extract::{FromRef, FromRequestParts},
    http::{request::Parts, StatusCode},
    response::{IntoResponse, Response},
};

use crate::{DbRouter, PrimaryConnection, ReadOnlyConnection, RouterError};

/// A read-only connection for one request ([`DbRouter::get_db_ro`]).
#[derive(Debug)]
pub struct DbRo(pub ReadOnlyConnection);

/// A read-write connection to the primary for one request ([`DbRouter::get_db`]).
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

    async fn from_request_parts(_parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        DbRouter::from_ref(state).get_db_ro().await.map(DbRo).map_err(DbUnavailable)
    }
}

impl<S> FromRequestParts<S> for DbRw
where
    DbRouter: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = DbUnavailable;

    async fn from_request_parts(_parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
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
