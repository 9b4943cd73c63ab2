//! Observability: `pool_stats()`, `health()`, Prometheus metrics and the periodic log line
//! name targets as `host:port/db`, and no password appears anywhere — not in those, not in
//! `Debug`/`Display` of configuration and errors, not in any log line of the whole run.

use std::{collections::HashMap, sync::Arc, time::Duration};

use prometheus::Registry;
use ro_router::{DbRouter, DbUrl, PoolRole, RouterConfig, RouterError, RoutesTo};

use crate::{
    common::{config, reads, router},
    support::{
        assert_no_password, cluster::free_port, encoded_password, harness::Ctx, name, wait_until, PASSWORD,
    },
};

pub async fn stats_health_metrics_name_targets_without_password(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (primary, r1, r2) = (cluster.primary(), cluster.replica(0), cluster.replica(1));
    let router = router(config(primary.port, &[r1.port, r2.port])).await;
    let (_, failures) = reads(&router, 4).await;
    assert!(failures.is_empty(), "{failures:?}");
    drop(router.get_db().await.unwrap());

    let stats = router.pool_stats();
    let json = stats.to_json();
    assert_no_password("pool_stats JSON", &json);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let pools = v["pools"].as_array().unwrap();
    let shape: Vec<(String, String, String)> = pools
        .iter()
        .map(|p| {
            (
                p["pool"].as_str().unwrap().into(),
                p["target"].as_str().unwrap().into(),
                p["routes_to"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("primary".into(), name(primary.port), "primary".into()),
            ("replica".into(), name(r1.port), "replica".into()),
            ("replica".into(), name(r2.port), "replica".into()),
            ("fallthrough".into(), name(primary.port), "primary_fallthrough".into()),
        ]
    );
    for p in pools {
        for field in ["max_size", "size", "available", "waiting", "checked_out", "checkouts"] {
            assert!(p[field].is_u64(), "{field} in {p}");
        }
    }
    assert_eq!(pools[1]["checkouts"], 2);
    assert_eq!(pools[1]["size"].as_u64(), pools[1]["available"].as_u64(), "all returned");
    assert_eq!(v["fallbacks"]["unhealthy"], 0);

    let health = router.health().to_json();
    assert_no_password("health JSON", &health);
    let h: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["primary"]["target"], name(primary.port));
    assert_eq!(h["replicas"][0]["target"], name(r1.port));
    assert_eq!(h["replicas"][1]["status"], "healthy");
    assert!(h["replicas"][0]["lag_bytes"].is_u64(), "{h}");

    let metrics = router.render_metrics();
    assert_no_password("metrics", &metrics);
    let expected = [
        format!("ro_router_checkouts_total{{pool=\"replica\",target=\"{}\"}} 2", name(r1.port)),
        format!("ro_router_checkouts_total{{pool=\"primary\",target=\"{}\"}} 1", name(primary.port)),
        format!("ro_router_checkout_retries_total{{pool=\"replica\",target=\"{}\"}} 0", name(r2.port)),
        "ro_router_fallbacks_total{reason=\"unhealthy\"} 0".into(),
        "ro_router_fallbacks_total{reason=\"lagging\"} 0".into(),
        "ro_router_fallbacks_total{reason=\"exhausted\"} 0".into(),
        "ro_router_fallbacks_total{reason=\"none_configured\"} 0".into(),
        format!("ro_router_pool_size{{pool=\"replica\",target=\"{}\"}} 1", name(r1.port)),
        format!("ro_router_pool_available{{pool=\"replica\",target=\"{}\"}} 1", name(r1.port)),
        format!("ro_router_pool_waiting{{pool=\"replica\",target=\"{}\"}} 0", name(r1.port)),
        format!(
            "ro_router_pool_routes_to{{pool=\"fallthrough\",routes_to=\"primary_fallthrough\",target=\"{}\"}} 1",
            name(primary.port)
        ),
        format!("ro_router_pool_routes_to{{pool=\"replica\",routes_to=\"replica\",target=\"{}\"}} 1", name(r2.port)),
        format!("ro_router_replica_healthy{{status=\"healthy\",target=\"{}\"}} 1", name(r1.port)),
        format!("ro_router_primary_healthy{{status=\"healthy\",target=\"{}\"}} 1", name(primary.port)),
        format!("ro_router_replica_lag_bytes{{target=\"{}\"}}", name(r2.port)),
        format!("ro_router_replica_lag_seconds{{target=\"{}\"}}", name(r2.port)),
    ];
    for line in expected {
        assert!(metrics.contains(&line), "missing `{line}` in:\n{metrics}");
    }

    // Debug of the router and of connections.
    let conn = router.get_db_ro().await.unwrap();
    let shown = format!("{router:?} {conn:?} {:?}", router.config());
    assert_no_password("Debug of router and connection", &shown);
    assert!(shown.contains(&name(r1.port)), "{shown}");
}

pub async fn errors_and_config_never_show_the_password(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let primary = cluster.primary();
    let r1 = cluster.replica(0);
    let c = config(primary.port, &[r1.port]);
    for shown in [format!("{c}"), format!("{c:?}"), format!("{c:#?}")] {
        assert_no_password("config", &shown);
        assert!(shown.contains(&name(r1.port)), "{shown}");
    }

    // A wrong (and just as distinctive) password: the server's refusal, with its SQLSTATE,
    // and neither password anywhere.
    let wrong = "Wrong_Pass_RoRouter_77";
    let url = |port: u16| format!("postgres://postgres:{wrong}@127.0.0.1:{port}/postgres");
    let mut bad = RouterConfig::new(DbUrl::parse(&url(primary.port)).unwrap());
    bad.replicas = vec![DbUrl::parse(&url(r1.port)).unwrap()];
    bad.health_check_interval = Duration::from_secs(3600);
    bad.stats_log_interval = None;
    let router = DbRouter::new(bad.clone()).await.unwrap();
    let primary_err = router.get_db().await.unwrap_err();
    assert_eq!(primary_err.sqlstate(), Some("28P01"), "{primary_err}");
    let ro_err = router.get_db_ro().await.unwrap_err();
    let RouterError::FallthroughUnavailable { failure, unusable, .. } = &ro_err else { panic!("{ro_err:?}") };
    assert_eq!(failure.sqlstate(), Some("28P01"));
    assert_eq!(unusable.len(), 1, "{unusable:?}");
    let health = router.health();
    assert!(
        health.primary.last_error.as_deref().unwrap_or("").contains("authentication failed"),
        "{health:?}"
    );
    let everything = format!(
        "{primary_err} {primary_err:?} {ro_err} {ro_err:?} {bad} {bad:?} {} {}",
        health.to_json(),
        router.render_metrics()
    );
    assert_no_password("errors", &everything);
    assert!(!everything.contains(wrong), "the wrong password leaked: {everything}");

    // Configuration errors.
    let vars = HashMap::from([(
        "DB_PRIMARY_URL",
        format!("postgres://postgres:{}@127.0.0.1:notaport/postgres", encoded_password()),
    )]);
    let err = RouterConfig::from_lookup(|k| vars.get(k).cloned()).unwrap_err();
    assert_no_password("a config error", &format!("{err} {err:?}"));
    assert!(err.to_string().contains("DB_PRIMARY_URL"), "{err}");
    let raw = format!("postgres://postgres:{PASSWORD}@127.0.0.1:5432/postgres?sslmode=bogus");
    if let Err(err) = DbUrl::parse(&raw) {
        assert_no_password("a URL error", &format!("{err} {err:?}"));
    }
}

pub async fn injected_registry_receives_the_metrics(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let registry = Registry::new();
    let c = config(cluster.primary().port, &[cluster.replica(0).port]);
    let router = DbRouter::with_registry(c.clone(), registry.clone()).await.unwrap();
    let (_, failures) = reads(&router, 3).await;
    assert!(failures.is_empty());
    let families = registry.gather();
    let checkouts =
        families.iter().find(|f| f.name() == "ro_router_checkouts_total").expect("checkouts family");
    let total: f64 = checkouts.get_metric().iter().map(|m| m.get_counter().get_value()).sum();
    assert_eq!(total, 3.0);
    assert!(families.iter().any(|f| f.name() == "ro_router_pool_size"));
    // One router per registry: a second registration is a clear error...
    let err = DbRouter::with_registry(c.clone(), registry.clone()).await.unwrap_err();
    assert!(matches!(err, RouterError::Metrics(_)));
    assert!(err.to_string().contains("its own prometheus::Registry"), "{err}");
    // ... until the first router is gone.
    drop(router);
    assert!(registry.gather().iter().all(|f| !f.name().starts_with("ro_router_")));
    let again = DbRouter::with_registry(c, registry.clone()).await.expect("registry free again");
    drop(again.get_db_ro().await.unwrap());
    assert!(registry.gather().iter().any(|f| f.name() == "ro_router_checkouts_total"));
}

pub async fn periodic_stats_log_line(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let r1 = cluster.replica(0);
    let mut c = config(cluster.primary().port, &[r1.port]);
    c.stats_log_interval = Some(Duration::from_millis(100));
    // One connection per pool: a released read-only connection is back (size 1, available 1)
    // once its release was proven clean.
    c.ro_pool_max = 1;
    let router = router(c).await;
    let (_, failures) = reads(&router, 2).await;
    assert!(failures.is_empty());
    let needle =
        format!("replica {} routes_to=replica size=1 available=1 waiting=0 checked_out=0", name(r1.port));
    let logs = &ctx.logs;
    let needle = &needle;
    wait_until("a stats line", || async move { logs.text().lines().any(|l| l.contains(needle)) }).await;
    let text = logs.text();
    let line = text.lines().find(|l| l.contains(needle.as_str())).unwrap();
    assert!(line.contains("ro_router::stats"), "{line}");
    assert!(
        line.contains(&format!("fallthrough {} routes_to=primary_fallthrough", name(cluster.primary().port))),
        "{line}"
    );
    assert!(
        line.contains(
            "fallbacks unhealthy=0 lagging=0 exhausted=0 none_configured=0 behind_write_token=0; retries=0; \
             spills busy=0 wait_timed_out=0 waited_for_replica=0; \
             read_your_writes replica_fresh=0 waited=0 fell_through=0"
        ),
        "{line}"
    );
    assert_no_password("the stats line", line);
    router.close();
}

pub async fn logs_of_the_whole_run_hold_no_password(ctx: Arc<Ctx>) {
    // Make sure this run logged a fault and a stats line, even when run alone.
    let cluster = &ctx.cluster;
    let dead = free_port();
    let mut c = config(cluster.primary().port, &[cluster.replica(0).port, dead]);
    c.stats_log_interval = Some(Duration::from_millis(50));
    let router = router(c).await;
    assert_eq!(
        router.pool_stats().pool(PoolRole::Replica, &name(dead)).unwrap().routes_to,
        RoutesTo::Disabled
    );
    let logs = &ctx.logs;
    wait_until("a stats line", || async move { logs.text().contains("ro_router::stats") }).await;
    router.close();

    let text = ctx.logs.text();
    assert!(text.contains(&format!("replica {} left rotation", name(dead))), "the fault was logged");
    assert!(text.contains("router started"));
    assert_no_password("the logs of the whole run", &text);
}
