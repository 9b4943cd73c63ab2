//! `RouterConfig::from_lookup` and `validate`: defaults, every variable, ranges, errors.

use std::collections::HashMap;

use super::*;

fn from(vars: &[(&str, &str)]) -> Result<RouterConfig, ConfigError> {
    let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    RouterConfig::from_lookup(|k| map.get(k).cloned())
}

const PRIMARY: (&str, &str) = ("DB_PRIMARY_URL", "postgres://app:Pa55-word@p:5432/db");

#[test]
fn defaults_follow_the_design() {
    let c = from(&[PRIMARY]).unwrap();
    assert!(c.replicas.is_empty());
    assert_eq!(c.strategy, ReplicaStrategy::RoundRobin);
    assert!(c.fallback);
    assert_eq!(c.health_check_interval, Duration::from_secs(30));
    assert_eq!(c.max_replication_lag, Duration::from_millis(1000));
    assert!(c.lag_check_enabled);
    assert_eq!(c.max_replication_lag_bytes, None);
    assert_eq!(c.lag_sample_interval, Some(Duration::from_millis(250)));
    assert_eq!(c.lag_sample_timeout, Duration::from_millis(1000));
    assert_eq!((c.replica_ban, c.replica_ban_max), (Duration::from_secs(1), Duration::from_secs(30)));
    assert!(!c.pgbouncer);
    assert_eq!(c.fallthrough_url().name(), "p:5432/db");
    assert_eq!(c.spill, SpillPolicy::After);
    assert_eq!(c.spill_wait, Duration::from_millis(100));
    assert_eq!(c.read_your_writes_wait, Duration::from_millis(50));
}

#[test]
fn every_variable_is_read() {
    let c = from(&[
        PRIMARY,
        ("DB_READ_REPLICA_URLS", "postgres://a:b@r1:1,r2:2/db,postgres://a:b@r3/db"),
        ("DB_READ_REPLICA_STRATEGY", "least_connections"),
        ("DB_READ_REPLICA_FALLBACK", "false"),
        ("DB_READ_REPLICA_HEALTH_CHECK_INTERVAL", "0.25"),
        ("DB_HEALTH_CHECK_TIMEOUT_MS", "700"),
        ("DB_MAX_REPLICATION_LAG_MS", "250"),
        ("DB_LAG_CHECK_ENABLED", "no"),
        ("DB_PRIMARY_POOL_MAX", "3"),
        ("DB_RO_POOL_MAX", "4"),
        ("DB_POOL_TIMEOUT_MS", "150"),
        ("DB_PGBOUNCER", "1"),
        ("DB_READ_FALLTHROUGH_URL", "postgres://reader:x@p:5432/db"),
        ("DB_CONNECT_TIMEOUT_MS", "900"),
        ("DB_STATEMENT_TIMEOUT_MS", "0"),
        ("DB_TCP_KEEPALIVE_IDLE", "5"),
        ("DB_TCP_USER_TIMEOUT_MS", "0"),
        ("DB_POOL_STATS_LOG_INTERVAL", "0"),
        ("DB_MAX_REPLICATION_LAG_BYTES", "1048576"),
        ("DB_LAG_SAMPLE_INTERVAL_MS", "0"),
        ("DB_LAG_SAMPLE_TIMEOUT_MS", "300"),
        ("DB_REPLICA_BAN_MS", "50"),
        ("DB_REPLICA_BAN_MAX_MS", "800"),
        ("DB_RO_SPILL", "never"),
        ("DB_RO_SPILL_WAIT_MS", "40"),
        ("DB_READ_YOUR_WRITES_WAIT_MS", "0"),
    ])
    .unwrap();
    assert_eq!(c.max_replication_lag_bytes, Some(1_048_576));
    assert_eq!(c.lag_sample_interval, None);
    assert_eq!(c.lag_sample_timeout, Duration::from_millis(300));
    assert_eq!((c.replica_ban, c.replica_ban_max), (Duration::from_millis(50), Duration::from_millis(800)));
    let names: Vec<&str> = c.replicas.iter().map(|u| u.name()).collect();
    assert_eq!(names, ["r1:1,r2:2/db", "r3:5432/db"]);
    assert_eq!(c.strategy, ReplicaStrategy::LeastConnections);
    assert!(!c.fallback && !c.lag_check_enabled && c.pgbouncer);
    assert_eq!(c.health_check_interval, Duration::from_millis(250));
    assert_eq!(c.health_check_timeout, Duration::from_millis(700));
    assert_eq!(c.max_replication_lag, Duration::from_millis(250));
    assert_eq!((c.primary_pool_max, c.ro_pool_max), (3, 4));
    assert_eq!(c.pool_timeout, Duration::from_millis(150));
    assert_eq!(c.connect_timeout, Duration::from_millis(900));
    assert_eq!(c.statement_timeout, None);
    assert_eq!(c.tcp_keepalive_idle, Duration::from_secs(5));
    assert_eq!(c.tcp_user_timeout, None);
    assert_eq!(c.stats_log_interval, None);
    assert_eq!(c.fallthrough_url().pg_config().get_user(), Some("reader"));
    assert_eq!((c.spill, c.spill_wait), (SpillPolicy::Never, Duration::from_millis(40)));
    assert_eq!(c.read_your_writes_wait, Duration::ZERO);
}

#[test]
fn database_url_is_the_fallback_for_the_primary() {
    let c = from(&[("DATABASE_URL", "postgres://u:p@h/d")]).unwrap();
    assert_eq!(c.primary.name(), "h:5432/d");
    let err = from(&[]).unwrap_err();
    assert_eq!(err, ConfigError::Missing { var: "DB_PRIMARY_URL" });
    assert!(err.to_string().contains("DB_PRIMARY_URL"));
}

#[test]
fn invalid_values_name_their_variable() {
    let cases = [
        ("DB_READ_REPLICA_STRATEGY", "fastest"),
        ("DB_READ_REPLICA_FALLBACK", "maybe"),
        ("DB_READ_REPLICA_HEALTH_CHECK_INTERVAL", "-1"),
        ("DB_READ_REPLICA_HEALTH_CHECK_INTERVAL", "0"),
        ("DB_MAX_REPLICATION_LAG_MS", "1.5"),
        ("DB_LAG_CHECK_ENABLED", "2"),
        ("DB_PRIMARY_POOL_MAX", "0"),
        ("DB_RO_POOL_MAX", "many"),
        ("DB_POOL_TIMEOUT_MS", "0"),
        ("DB_PGBOUNCER", "pgbouncer"),
        ("DB_CONNECT_TIMEOUT_MS", "soon"),
        ("DB_STATEMENT_TIMEOUT_MS", "-5"),
        ("DB_TCP_KEEPALIVE_IDLE", "x"),
        ("DB_POOL_STATS_LOG_INTERVAL", "NaN"),
        ("DB_READ_REPLICA_HEALTH_CHECK_INTERVAL", "1e-10"),
        ("DB_READ_REPLICA_HEALTH_CHECK_INTERVAL", "0.001"),
        ("DB_READ_REPLICA_HEALTH_CHECK_INTERVAL", "1e300"),
        ("DB_POOL_STATS_LOG_INTERVAL", "1e-10"),
        ("DB_HEALTH_CHECK_TIMEOUT_MS", "0"),
        ("DB_HEALTH_CHECK_TIMEOUT_MS", "600001"),
        ("DB_MAX_REPLICATION_LAG_MS", "86400001"),
        ("DB_POOL_TIMEOUT_MS", "18446744073709551615"),
        ("DB_POOL_TIMEOUT_MS", "18446744073709551616"),
        ("DB_CONNECT_TIMEOUT_MS", "0"),
        ("DB_STATEMENT_TIMEOUT_MS", "2147483648"),
        ("DB_TCP_KEEPALIVE_IDLE", "0"),
        ("DB_TCP_KEEPALIVE_IDLE", "0.5"),
        ("DB_TCP_KEEPALIVE_IDLE", "32768"),
        ("DB_TCP_USER_TIMEOUT_MS", "2147483648"),
        ("DB_PRIMARY_POOL_MAX", "10001"),
        ("DB_RO_POOL_MAX", "-1"),
        ("DB_MAX_REPLICATION_LAG_BYTES", "-1"),
        ("DB_MAX_REPLICATION_LAG_BYTES", "1125899906842625"),
        ("DB_LAG_SAMPLE_INTERVAL_MS", "9"),
        ("DB_LAG_SAMPLE_INTERVAL_MS", "60001"),
        ("DB_LAG_SAMPLE_TIMEOUT_MS", "0"),
        ("DB_REPLICA_BAN_MS", "0"),
        ("DB_REPLICA_BAN_MS", "3600001"),
        ("DB_REPLICA_BAN_MAX_MS", "999"),
        ("DB_RO_SPILL", "sometimes"),
        ("DB_RO_SPILL_WAIT_MS", "0"),
        ("DB_RO_SPILL_WAIT_MS", "600001"),
        ("DB_READ_YOUR_WRITES_WAIT_MS", "600001"),
        ("DB_READ_YOUR_WRITES_WAIT_MS", "-1"),
    ];
    for (var, value) in cases {
        let err = from(&[PRIMARY, (var, value)]).unwrap_err();
        assert!(matches!(&err, ConfigError::InvalidVar { var: v, .. } if v == var), "{var}={value}: {err:?}");
        assert!(err.to_string().starts_with(var), "{err}");
    }
}

#[test]
fn range_limits_are_accepted() {
    let c = from(&[
        PRIMARY,
        ("DB_READ_REPLICA_HEALTH_CHECK_INTERVAL", "0.01"),
        ("DB_STATEMENT_TIMEOUT_MS", "2147483647"),
        ("DB_TCP_KEEPALIVE_IDLE", "32767"),
        ("DB_TCP_USER_TIMEOUT_MS", "2147483647"),
        ("DB_PRIMARY_POOL_MAX", "10000"),
        ("DB_MAX_REPLICATION_LAG_MS", "0"),
        ("DB_MAX_REPLICATION_LAG_BYTES", "1125899906842624"),
        ("DB_LAG_SAMPLE_INTERVAL_MS", "10"),
        ("DB_REPLICA_BAN_MS", "3600000"),
        ("DB_REPLICA_BAN_MAX_MS", "3600000"),
    ])
    .unwrap();
    assert_eq!(c.max_replication_lag_bytes, Some(1 << 50));
    assert_eq!(c.lag_sample_interval, Some(Duration::from_millis(10)));
    assert_eq!(c.health_check_interval, Duration::from_millis(10));
    assert_eq!(c.statement_timeout, Some(Duration::from_millis(2_147_483_647)));
    assert_eq!(c.tcp_keepalive_idle, Duration::from_secs(32_767));
    assert_eq!(c.max_replication_lag, Duration::ZERO);
}

#[test]
fn duplicate_replicas_and_wrong_separators_are_errors() {
    let cases = [
        (
            "postgres://a:Zq9x@r1/db,postgres://b:Zq9x@r1:5432/db",
            "entries 1 and 2 are the same replica (r1:5432/db)",
        ),
        ("postgres://a:Zq9x@r1/db;postgres://a:Zq9x@r2/db", "URL 2 follows ';'"),
        ("postgres://a:Zq9x@r1/db,mysql://a:Zq9x@r2/db", "entry 2 is not a valid PostgreSQL URL"),
    ];
    for (list, expect) in cases {
        let err = from(&[PRIMARY, ("DB_READ_REPLICA_URLS", list)]).unwrap_err().to_string();
        assert!(err.starts_with("DB_READ_REPLICA_URLS"), "{err}");
        assert!(err.contains(expect), "{list}: {err}");
        assert!(!err.contains("Zq9"), "{err}");
    }
}

#[test]
fn primary_url_that_picks_a_standby_is_refused() {
    let err = from(&[("DB_PRIMARY_URL", "postgres://u:p@h1,h2/d?target_session_attrs=standby")]).unwrap_err();
    assert!(err.to_string().starts_with("DB_PRIMARY_URL: its target_session_attrs"), "{err}");
    let ok = from(&[("DB_PRIMARY_URL", "postgres://u:p@h1,h2/d?target_session_attrs=read-write")]);
    assert!(ok.is_ok());
}

#[test]
fn invalid_urls_name_the_variable_and_entry_but_not_the_password() {
    let err = from(&[
        PRIMARY,
        ("DB_READ_REPLICA_URLS", "postgres://a:Secret-42@r1/db,postgres://a:Secret-42@r2:xx/db"),
    ])
    .unwrap_err();
    let shown = format!("{err} / {err:?}");
    assert!(shown.contains("DB_READ_REPLICA_URLS entry 2"), "{shown}");
    assert!(!shown.contains("Secret-42"), "{shown}");
    let err = from(&[("DB_PRIMARY_URL", "mysql://root:Secret-42@h/db")]).unwrap_err();
    assert!(err.to_string().contains("DB_PRIMARY_URL"), "{err}");
    assert!(!format!("{err}{err:?}").contains("Secret-42"));
}

#[test]
fn config_debug_and_display_hide_passwords() {
    let c = from(&[PRIMARY, ("DB_READ_REPLICA_URLS", "postgres://a:Pa55-word@r1/db")]).unwrap();
    for shown in [format!("{c}"), format!("{c:?}"), format!("{c:#?}")] {
        assert!(!shown.contains("Pa55"), "{shown}");
        assert!(shown.contains("r1:5432/db"), "{shown}");
    }
}
