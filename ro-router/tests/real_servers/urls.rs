//! Connection strings against the real servers: a password with unencoded special characters,
//! a libpq key=value string, and multi-host URLs with `target_session_attrs=read-write` for
//! the primary, a replica pool and the fallthrough pool.

use std::{collections::HashMap, sync::Arc};

use ro_router::{DbRouter, DbUrl, RouterConfig, RoutesTo};

use crate::{
    common::{config, proven_from_the_wire},
    support::{assert_no_password, encoded_password, harness::Ctx, PASSWORD},
};

/// The password shape: `@` (twice in the URL), `:`, `/`, `#`, `-` unencoded.
const ODD_PASSWORD: &str = "P@ss:w/rd#-42";

pub async fn password_with_unencoded_specials_connects(ctx: Arc<Ctx>) {
    let primary = ctx.cluster.primary();
    ctx.cluster
        .sql(
            &primary,
            &format!(
                "DROP ROLE IF EXISTS odd_pw; CREATE ROLE odd_pw LOGIN PASSWORD '{ODD_PASSWORD}'; \
                 GRANT pg_read_all_data TO odd_pw"
            ),
        )
        .await;
    let port = primary.port;
    let texts = [
        format!("postgres://odd_pw:{ODD_PASSWORD}@127.0.0.1:{port}/postgres"),
        format!("postgresql://odd_pw:P%40ss%3Aw%2Frd%23-42@127.0.0.1:{port}/postgres"),
        format!("host=127.0.0.1 port={port} user=odd_pw dbname=postgres password='{ODD_PASSWORD}'"),
    ];
    for text in &texts {
        let url = DbUrl::parse(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url.name(), format!("127.0.0.1:{port}/postgres"));
        let mut c = config(port, &[]);
        c.primary = url;
        let router = DbRouter::new(c).await.unwrap();
        let conn = router.get_db().await.unwrap_or_else(|e| panic!("{e}"));
        let user: String = conn.query_one("SELECT current_user::text", &[]).await.unwrap().get(0);
        assert_eq!(user, "odd_pw");
        for shown in [format!("{router:?}"), router.pool_stats().to_json(), router.health().to_json()] {
            for fragment in ["ss:w", "w/rd", "rd#-42"] {
                assert!(!shown.contains(fragment), "{shown}");
            }
        }
        router.close();
    }
    ctx.cluster.sql(&primary, "DROP ROLE odd_pw").await;
}

/// libpq multi-host URLs whose `target_session_attrs=read-write` lists a standby first: the
/// primary pool skips it; the read-only pools (whose sessions are read-only by design) do not
/// let the attribute refuse every host.
pub async fn multi_host_read_write_urls_serve_reads_and_writes(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (primary, r1, r2) = (cluster.primary(), cluster.replica(0), cluster.replica(1));
    let pw = encoded_password();
    let multi = |first: u16, second: u16| {
        format!(
            "postgres://postgres:{pw}@127.0.0.1:{first},127.0.0.1:{second}/postgres?target_session_attrs=read-write"
        )
    };
    let vars: HashMap<&str, String> = [
        ("DB_PRIMARY_URL", multi(r1.port, primary.port)),
        ("DB_READ_REPLICA_URLS", format!("{},{}", multi(r1.port, r2.port), multi(r2.port, r1.port))),
        ("DB_READ_REPLICA_HEALTH_CHECK_INTERVAL", "3600".to_string()),
    ]
    .into_iter()
    .collect();
    let c = RouterConfig::from_lookup(|k| vars.get(k).cloned()).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = c.replicas.iter().map(DbUrl::name).collect();
    let expect_names = [
        format!("127.0.0.1:{},127.0.0.1:{}/postgres", r1.port, r2.port),
        format!("127.0.0.1:{},127.0.0.1:{}/postgres", r2.port, r1.port),
    ];
    assert_eq!(names, expect_names);
    assert_eq!(c.primary.name(), format!("127.0.0.1:{},127.0.0.1:{}/postgres", r1.port, primary.port));

    let router = DbRouter::new(c.clone()).await.unwrap();
    router.refresh_health().await;
    let rw = router.get_db().await.unwrap_or_else(|e| panic!("get_db: {e}"));
    let row = rw.query_one("SELECT pg_is_in_recovery(), current_setting('port')::int", &[]).await.unwrap();
    assert_eq!((row.get::<_, bool>(0), row.get::<_, i32>(1)), (false, i32::from(primary.port)));
    rw.execute("INSERT INTO ticks DEFAULT VALUES", &[]).await.expect("a write on the primary");
    drop(rw);
    for _ in 0..10 {
        let ro = router.get_db_ro().await.unwrap_or_else(|e| panic!("get_db_ro: {e}"));
        assert_eq!(ro.routes_to(), RoutesTo::Replica);
        let in_recovery: bool = ro.query_one("SELECT pg_is_in_recovery()", &[]).await.unwrap().get(0);
        assert!(in_recovery, "a replica pool reached a primary");
    }
    router.close();

    // No replica: reads fall through on the primary's multi-host read-write URL.
    let mut c = c;
    c.replicas.clear();
    let router = DbRouter::new(c).await.unwrap();
    for _ in 0..5 {
        let ro = router.get_db_ro().await.unwrap_or_else(|e| panic!("fallthrough get_db_ro: {e}"));
        assert_eq!(ro.routes_to(), RoutesTo::PrimaryFallthrough);
        let read_only: String = ro.query_one("SHOW default_transaction_read_only", &[]).await.unwrap().get(0);
        assert_eq!(read_only, "on");
        let err = ro.execute("INSERT INTO ticks DEFAULT VALUES", &[]).await.unwrap_err();
        assert_eq!(err.code().map(|c| c.code()), Some("25006"));
    }
    let shown = format!("{router:?} {} {}", router.pool_stats().to_json(), router.health().to_json());
    assert_no_password("router with multi-host URLs", &shown);
    assert!(!shown.contains(PASSWORD));
    router.close();
}

/// The router opens its sockets itself (to observe the protocol on them): a Unix socket
/// (a host that is a directory), and `load_balance_hosts=random` over two replicas with
/// every TCP option set. Releases on both are proven from the wire.
pub async fn unix_sockets_and_random_hosts_on_the_routers_own_sockets(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (primary, r1, r2) = (cluster.primary(), cluster.replica(0), cluster.replica(1));
    let unix = format!(
        "host={} port={} user=postgres dbname=postgres password='{}'",
        cluster.root().display(),
        primary.port,
        crate::support::PASSWORD
    );
    let mut c = config(primary.port, &[]);
    c.fallthrough = Some(DbUrl::parse(&unix).unwrap_or_else(|e| panic!("{e}")));
    let router = DbRouter::new(c).await.unwrap();
    for _ in 0..3 {
        let ro = router.get_db_ro().await.unwrap_or_else(|e| panic!("get_db_ro over a Unix socket: {e}"));
        let over_unix: bool = ro.query_one("SELECT inet_server_addr() IS NULL", &[]).await.unwrap().get(0);
        assert!(over_unix, "not a Unix socket");
    }
    let observed = proven_from_the_wire(&router, 3).await;
    assert!(observed >= 3, "releases over a Unix socket proven from the wire: {observed}");
    router.close();

    let random = format!(
        "postgres://postgres:{}@127.0.0.1:{},127.0.0.1:{}/postgres?load_balance_hosts=random&keepalives_idle=30\
         &keepalives_interval=5&keepalives_count=2&tcp_user_timeout=5000&connect_timeout=2",
        encoded_password(),
        r1.port,
        r2.port
    );
    let mut c = config(primary.port, &[]);
    c.replicas = vec![DbUrl::parse(&random).unwrap_or_else(|e| panic!("{e}"))];
    c.ro_pool_max = 16;
    let router = DbRouter::new(c).await.unwrap();
    router.refresh_health().await;
    let mut held = Vec::new();
    let mut ports = std::collections::BTreeSet::new();
    for _ in 0..16 {
        let ro = router.get_db_ro().await.unwrap_or_else(|e| panic!("get_db_ro on random hosts: {e}"));
        assert_eq!(ro.routes_to(), RoutesTo::Replica);
        let port: i32 = ro.query_one("SELECT current_setting('port')::int", &[]).await.unwrap().get(0);
        ports.insert(port);
        held.push(ro);
    }
    // 16 connections on two hosts chosen at random: both used, but for a 1-in-32768 chance.
    assert_eq!(ports, [i32::from(r1.port), i32::from(r2.port)].into_iter().collect());
    drop(held);
    let observed = proven_from_the_wire(&router, 16).await;
    assert!(observed >= 16, "releases proven from the wire: {observed}");
    router.close();
}
