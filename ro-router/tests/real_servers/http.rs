//! The example app (`examples/axum_app.rs`) over real HTTP: GET handlers served by a replica
//! through `DbRo` / `get_db_ro()`, POST handlers by the primary through `DbRw` / `get_db()`,
//! one checkout per request, returned when the request ends; `/health` and `/metrics`. And
//! read-your-writes through the `read_your_writes` middleware: the example app's cookie, and a
//! header carrier on a small app of its own.

use std::sync::Arc;

use ro_router::PoolRole;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{
    common::{checkouts, config, router},
    support::{assert_no_password, cluster::free_port, harness::Ctx, name},
};

#[path = "../../examples/axum_app.rs"]
#[allow(dead_code)]
mod axum_app;

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A plain HTTP/1.0 exchange over a real socket.
async fn http(port: u16, method: &str, path: &str, json: Option<&str>) -> Reply {
    http_with(port, method, path, json, "").await
}

/// The same, with extra header lines (`"Cookie: a=b\r\n"`).
async fn http_with(port: u16, method: &str, path: &str, json: Option<&str>, headers: &str) -> Reply {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect to the app");
    let body = json.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: localhost\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP response");
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Reply { status, headers, body: body.to_string() }
}

pub async fn example_app_over_http(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (primary, r1) = (cluster.primary(), cluster.replica(0));
    let router = router(config(primary.port, &[r1.port])).await;
    axum_app::migrate(&router).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router_for_app = router.clone();
    let server = tokio::spawn(async move { axum::serve(listener, axum_app::app(router_for_app)).await });
    let (p0, r0) =
        (checkouts(&router, PoolRole::Primary, primary.port), checkouts(&router, PoolRole::Replica, r1.port));

    let created = http(port, "POST", "/items", Some(r#"{"name":"widget"}"#)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.header("x-db-route"), Some("primary"));
    let id = serde_json::from_str::<serde_json::Value>(&created.body).unwrap()["id"].as_i64().unwrap();
    cluster.wait_replayed(&r1).await;

    let shown = http(port, "GET", &format!("/items/{id}"), None).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert_eq!(shown.header("x-db-route"), Some("replica"));
    assert_eq!(shown.header("x-db-target"), Some(name(r1.port).as_str()));
    assert!(shown.body.contains("widget"), "{}", shown.body);

    let listed = http(port, "GET", "/items", None).await;
    assert_eq!((listed.status, listed.header("x-db-route")), (200, Some("replica")));
    assert!(listed.body.contains(&format!("\"id\":{id}")), "{}", listed.body);

    let renamed = http(port, "POST", &format!("/items/{id}/rename"), Some(r#"{"name":"gadget"}"#)).await;
    assert_eq!((renamed.status, renamed.header("x-db-route")), (204, Some("primary")));
    let missing = http(port, "GET", "/items/987654321", None).await;
    assert_eq!(missing.status, 404);

    // One checkout per request that touched the database, each returned when it ended; plus
    // one for the write token the read-your-writes middleware takes after the DbRw request
    // (the rename takes its connection from the router, not through DbRw).
    assert_eq!(checkouts(&router, PoolRole::Primary, primary.port), p0 + 3);
    assert!(created.header("set-cookie").is_some_and(|c| c.starts_with("ro_router_lsn=")));
    assert_eq!(renamed.header("set-cookie"), None);
    assert_eq!(checkouts(&router, PoolRole::Replica, r1.port), r0 + 3);
    let stats = router.pool_stats();
    assert!(stats.pools.iter().all(|p| p.checked_out == 0), "{stats:?}");
    assert_eq!(stats.fallbacks.total(), 0);

    let health = http(port, "GET", "/health", None).await;
    assert_eq!(health.status, 200);
    let report: serde_json::Value = serde_json::from_str(&health.body).unwrap();
    assert_eq!(report["status"], "ok");
    assert_eq!(report["replicas"][0]["target"], name(r1.port));
    assert_eq!(report["primary"]["target"], name(primary.port));
    let metrics = http(port, "GET", "/metrics", None).await;
    assert_eq!(metrics.status, 200);
    let line =
        format!("ro_router_checkouts_total{{pool=\"replica\",target=\"{}\"}} {}", name(r1.port), r0 + 3);
    assert!(metrics.body.contains(&line), "{}", metrics.body);
    for r in [&created, &shown, &listed, &health, &metrics] {
        assert_no_password("an HTTP response", &r.body);
    }
    server.abort();

    // No primary: a DbRw request is rejected with 503, and says nothing about the database.
    let dead = router_on_dead_primary().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move { axum::serve(listener, axum_app::app(dead)).await });
    let rejected = http(port, "POST", "/items", Some(r#"{"name":"x"}"#)).await;
    assert_eq!(rejected.status, 503);
    assert_eq!(rejected.body, "database unavailable\n");
    let health = http(port, "GET", "/health", None).await;
    assert_eq!(health.status, 503, "no primary and no replica: down");
    assert_no_password("the health report", &health.body);
    server.abort();
}

async fn router_on_dead_primary() -> ro_router::DbRouter {
    let mut c = config(free_port(), &[]);
    c.connect_timeout = std::time::Duration::from_millis(500);
    router(c).await
}

/// Read-your-writes through the example app's middleware: a POST (a `DbRw` request) sets the
/// token cookie; a GET sending it back while replay is paused is served by the primary and
/// sees the new item, one without it by the replica, which does not; once the replica caught
/// up, the GET with the cookie is served by the replica.
pub async fn read_your_writes_over_http(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (primary, r1) = (cluster.primary(), cluster.replica(0));
    let router = router(config(primary.port, &[r1.port])).await;
    axum_app::migrate(&router).await.unwrap();
    cluster.wait_replayed(&r1).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router_for_app = router.clone();
    let server = tokio::spawn(async move { axum::serve(listener, axum_app::app(router_for_app)).await });

    cluster.pause_replay(&r1).await;
    let created = http(port, "POST", "/items", Some(r#"{"name":"mine"}"#)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let set_cookie = created.header("set-cookie").expect("a write sets the token cookie").to_string();
    let (pair, attributes) = set_cookie.split_once(';').unwrap();
    assert_eq!(attributes, " Path=/; HttpOnly; SameSite=Lax");
    let (cookie_name, token) = pair.split_once('=').unwrap();
    assert_eq!(cookie_name, "ro_router_lsn");
    assert!(token.parse::<ro_router::WriteToken>().is_ok(), "{token}");
    let id = serde_json::from_str::<serde_json::Value>(&created.body).unwrap()["id"].as_i64().unwrap();
    let has_item = |r: &Reply| r.body.contains(&format!("\"id\":{id},"));
    let cookie = format!("Cookie: theme=dark; ro_router_lsn={token}\r\n");

    let stale = http(port, "GET", "/items", None).await;
    assert_eq!((stale.status, stale.header("x-db-route")), (200, Some("replica")));
    assert!(!has_item(&stale), "replay is paused: the replica must not list item {id} yet");
    let mine = http_with(port, "GET", "/items", None, &cookie).await;
    assert_eq!((mine.status, mine.header("x-db-route")), (200, Some("primary_fallthrough")));
    assert!(has_item(&mine), "{}", mine.body);
    assert_eq!(mine.header("set-cookie"), None, "a read sets no token");
    let garbage = http_with(port, "GET", "/items", None, "Cookie: ro_router_lsn=not-a-token\r\n").await;
    assert_eq!((garbage.status, garbage.header("x-db-route")), (200, Some("replica")));

    cluster.resume_replay(&r1).await;
    cluster.wait_replayed(&r1).await;
    let caught_up = http_with(port, "GET", "/items", None, &cookie).await;
    assert_eq!((caught_up.status, caught_up.header("x-db-route")), (200, Some("replica")));
    assert!(has_item(&caught_up), "{}", caught_up.body);
    let ryw = router.pool_stats().read_your_writes;
    assert_eq!((ryw.replica_fresh, ryw.waited, ryw.fell_through), (1, 0, 1));
    server.abort();
}

/// The middleware with the token in a header of the app's choosing: the write's response
/// carries it, the client sends it back, and the read sees the write while replay is paused.
/// Names that cannot be a cookie or header name are refused, naming what is wrong.
pub async fn read_your_writes_header_carrier(ctx: Arc<Ctx>) {
    use axum::{middleware, routing::get, Router};
    use ro_router::axum::{read_your_writes, DbRo, DbRw, ReadYourWrites};

    let cluster = &ctx.cluster;
    let (primary, r1) = (cluster.primary(), cluster.replica(0));
    let router = router(config(primary.port, &[r1.port])).await;
    for bad in ["", "a b", "x;y", "é"] {
        let err = ReadYourWrites::cookie(router.clone(), bad).unwrap_err().to_string();
        assert!(err.starts_with("read-your-writes cookie name: "), "{err}");
        let err = ReadYourWrites::header(router.clone(), bad).unwrap_err().to_string();
        assert!(err.starts_with("read-your-writes header name: "), "{err}");
    }
    let ryw = ReadYourWrites::header(router.clone(), "X-Db-Write-Token").unwrap();

    async fn write(db: DbRw) -> String {
        let row = db.query_one("INSERT INTO ticks DEFAULT VALUES RETURNING id", &[]).await.unwrap();
        row.get::<_, i64>(0).to_string()
    }
    async fn read(db: DbRo, axum::extract::Path(id): axum::extract::Path<i64>) -> String {
        let n: i64 = db.query_one("SELECT count(*) FROM ticks WHERE id = $1", &[&id]).await.unwrap().get(0);
        format!("{} {n}", db.routes_to())
    }
    let app = Router::new()
        .route("/write", get(write))
        .route("/read/{id}", get(read))
        .layer(middleware::from_fn_with_state(ryw, read_your_writes))
        .with_state(router.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    cluster.pause_replay(&r1).await;
    let wrote = http(port, "GET", "/write", None).await;
    assert_eq!(wrote.status, 200, "{}", wrote.body);
    assert_eq!(wrote.header("set-cookie"), None, "the token travels in the header only");
    let token = wrote.header("x-db-write-token").expect("the token header").to_string();
    assert!(token.parse::<ro_router::WriteToken>().is_ok(), "{token}");
    let id = &wrote.body;
    let plain = http(port, "GET", &format!("/read/{id}"), None).await;
    assert_eq!(plain.body, "replica 0", "replay is paused");
    let sent_back =
        http_with(port, "GET", &format!("/read/{id}"), None, &format!("x-db-write-token: {token}\r\n")).await;
    assert_eq!(sent_back.body, "primary_fallthrough 1");
    assert_eq!(sent_back.header("x-db-write-token"), None, "a read sets no token");
    server.abort();
}
