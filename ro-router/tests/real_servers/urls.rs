//! Connection strings against the real servers: a password with unencoded special characters,
//! a libpq key=value string, and multi-host URLs with `target_session_attrs=read-write` for
//! the primary, a replica pool and the fallthrough pool.

use std::{collections::HashMap, sync::Arc};

use ro_router::{DbRouter, DbUrl, RouterConfig, RoutesTo};

use crate::{
    common::config,
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
