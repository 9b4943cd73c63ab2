//! Connection errors keep their cause chain and say which cause it is — DNS, refused,
//! authentication, TLS, timeout — produced for real on loopback, without the password.

use std::{error::Error as _, sync::Arc, time::Duration};

use ro_router::{CheckoutFailureKind, DbRouter, DbUrl, FailureCause, RouterError};

use crate::{
    common::config,
    support::{assert_no_password, cluster::free_port, encoded_password, harness::Ctx},
};

/// `get_db()` on a primary URL that fails; returns the error.
async fn primary_error(url: &str, port_for_defaults: u16) -> RouterError {
    let mut c = config(port_for_defaults, &[]);
    c.primary = DbUrl::parse(url).unwrap_or_else(|e| panic!("{e}"));
    c.connect_timeout = Duration::from_millis(800);
    let router = DbRouter::new(c).await.expect("the router builds with servers down");
    let err = router.get_db().await.expect_err("the checkout must fail");
    router.close();
    err
}

/// The error's whole chain as text, checked for the password.
fn chain(err: &RouterError) -> String {
    let mut layers = vec![err.to_string()];
    let mut next = err.source();
    while let Some(e) = next {
        layers.push(e.to_string());
        next = e.source();
    }
    let text = layers.join(" <- ");
    assert_no_password("error chain", &format!("{text} {err:?}"));
    text
}

#[track_caller]
fn assert_cause(err: &RouterError, cause: FailureCause, words: &[&str]) {
    let failure = err.failure().unwrap_or_else(|| panic!("no checkout failure in {err}"));
    assert_eq!(failure.cause(), Some(cause), "{err}");
    let text = chain(err);
    for w in words {
        assert!(text.to_lowercase().contains(&w.to_lowercase()), "{w:?} not in {text}");
    }
}

pub async fn refused_port_says_refused(_: Arc<Ctx>) {
    let port = free_port();
    let err =
        primary_error(&format!("postgres://postgres:{}@127.0.0.1:{port}/postgres", encoded_password()), port)
            .await;
    assert_eq!(err.failure().unwrap().kind(), CheckoutFailureKind::Connect);
    assert_cause(
        &err,
        FailureCause::Refused,
        &["connection refused", "error connecting to server", "os error 111"],
    );
    assert!(err.source().and_then(|s| s.source()).is_some(), "the chain goes below the failure: {err:?}");
}

pub async fn bad_password_says_authentication(ctx: Arc<Ctx>) {
    let port = ctx.cluster.primary().port;
    let err =
        primary_error(&format!("postgres://postgres:Wrong-Zq9%23pw@127.0.0.1:{port}/postgres"), port).await;
    assert_eq!(err.sqlstate(), Some("28P01"));
    assert_cause(&err, FailureCause::Authentication, &["password authentication failed"]);
    assert!(!chain(&err).contains("Zq9"), "{err}");
}

pub async fn unresolvable_host_says_dns(_: Arc<Ctx>) {
    let err = primary_error(
        &format!("postgres://postgres:{}@nonexistent.invalid/postgres", encoded_password()),
        5432,
    )
    .await;
    assert_cause(&err, FailureCause::Dns, &["failed to lookup address"]);
}

pub async fn tls_required_by_a_server_without_tls_says_tls(ctx: Arc<Ctx>) {
    let port = ctx.cluster.primary().port;
    let err = primary_error(
        &format!("postgres://postgres:{}@127.0.0.1:{port}/postgres?sslmode=require", encoded_password()),
        port,
    )
    .await;
    assert_cause(&err, FailureCause::Tls, &["server does not support TLS"]);
}

pub async fn silent_server_says_timeout(_: Arc<Ctx>) {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accept = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let err =
        primary_error(&format!("postgres://postgres:{}@127.0.0.1:{port}/postgres", encoded_password()), port)
            .await;
    accept.abort();
    assert_eq!(err.failure().unwrap().kind(), CheckoutFailureKind::ConnectTimeout, "{err}");
    assert_cause(&err, FailureCause::Timeout, &["DB_CONNECT_TIMEOUT_MS"]);
}
