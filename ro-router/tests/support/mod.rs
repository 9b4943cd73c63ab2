//! Test support shared by the real-server test binary (`tests/real_servers`) and the benchmark
//! (`bench/router`): a real PostgreSQL 15 primary with streaming replicas and pgBouncer
//! ([`cluster`]), a TCP proxy that can cut the network ([`proxy`]), and a small test harness
//! that owns the cluster and stops it at the end ([`harness`]).
#![allow(dead_code)]

pub mod cluster;
pub mod harness;
pub mod processes;
pub mod provision;
pub mod proxy;
pub mod tls;

use std::time::{Duration, Instant};

/// The password of every server, URL and pgBouncer auth entry. Distinctive, so a leak is
/// found by searching for [`LEAK_MARKER`]; it needs percent-encoding in a URL.
pub const PASSWORD: &str = "Secret_RoRouter#Pw%42";
/// A substring of [`PASSWORD`] that survives percent-encoding.
pub const LEAK_MARKER: &str = "Secret_RoRouter";

/// [`PASSWORD`] percent-encoded for a URL.
pub fn encoded_password() -> String {
    let mut out = String::new();
    for b in PASSWORD.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `postgres://postgres:PASSWORD@127.0.0.1:port/postgres`.
pub fn url(port: u16) -> String {
    format!("postgres://postgres:{}@127.0.0.1:{port}/postgres", encoded_password())
}

/// `127.0.0.1:port/postgres`, the router's name for [`url`]`(port)`.
pub fn name(port: u16) -> String {
    format!("127.0.0.1:{port}/postgres")
}

/// Asserts that `text` holds no trace of the password.
#[track_caller]
pub fn assert_no_password(what: &str, text: &str) {
    for secret in [PASSWORD.to_string(), encoded_password(), LEAK_MARKER.to_string()] {
        assert!(!text.contains(&secret), "{what} contains the password: {text}");
    }
}

/// Polls `cond` until it holds. The deadline only guards against a hang: it is generous and
/// nothing asserts how long the wait took.
pub async fn wait_until<F, Fut>(what: &str, cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    assert!(holds_within(Duration::from_secs(60), cond).await, "gave up waiting for: {what}");
}

/// Polls `cond` until it holds (true) or `limit` has passed (false).
pub async fn holds_within<F, Fut>(limit: Duration, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    loop {
        if cond().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
