//! Router configuration: the struct, its defaults, and reading it from the environment.
//!
//! Parsing never echoes a URL (it may hold a password); an invalid value is an error that
//! names its variable.

use std::{fmt, time::Duration};

use crate::{
    error::ConfigError,
    strategy::ReplicaStrategy,
    target::{split_url_list, DbUrl},
};

/// Names of the environment variables [`RouterConfig::from_env`] reads, with their defaults.
pub mod env {
    /// The primary's URL (required; `DATABASE_URL` is read when it is unset).
    pub const PRIMARY_URL: &str = "DB_PRIMARY_URL";
    /// Read when `DB_PRIMARY_URL` is unset.
    pub const DATABASE_URL: &str = "DATABASE_URL";
    /// Comma-separated replica URLs (default: none — everything runs on the primary).
    pub const REPLICA_URLS: &str = "DB_READ_REPLICA_URLS";
    /// `round_robin` (default), `random` or `least_connections`.
    pub const STRATEGY: &str = "DB_READ_REPLICA_STRATEGY";
    /// Fall through to the primary when no replica can serve (default `true`).
    pub const FALLBACK: &str = "DB_READ_REPLICA_FALLBACK";
    /// Seconds between health checks (default 30; fractions allowed).
    pub const HEALTH_CHECK_INTERVAL: &str = "DB_READ_REPLICA_HEALTH_CHECK_INTERVAL";
    /// Milliseconds one health probe may take (default 5000).
    pub const HEALTH_CHECK_TIMEOUT_MS: &str = "DB_HEALTH_CHECK_TIMEOUT_MS";
    /// Replication lag, in milliseconds, past which a replica leaves rotation (default 1000).
    pub const MAX_REPLICATION_LAG_MS: &str = "DB_MAX_REPLICATION_LAG_MS";
    /// Whether lag takes replicas out of rotation (default `true`).
    pub const LAG_CHECK_ENABLED: &str = "DB_LAG_CHECK_ENABLED";
    /// Size of the primary pool (default 16).
    pub const PRIMARY_POOL_MAX: &str = "DB_PRIMARY_POOL_MAX";
    /// Size of each replica pool and of the fallthrough pool (default 16).
    pub const RO_POOL_MAX: &str = "DB_RO_POOL_MAX";
    /// Milliseconds a checkout waits for a busy pool (default 5000).
    pub const POOL_TIMEOUT_MS: &str = "DB_POOL_TIMEOUT_MS";
    /// The targets are pgBouncer: no startup parameters (default `false`; also detected).
    pub const PGBOUNCER: &str = "DB_PGBOUNCER";
    /// URL for the fallthrough pool (default: the primary's URL), e.g. a read-only role's.
    pub const FALLTHROUGH_URL: &str = "DB_READ_FALLTHROUGH_URL";
    /// Milliseconds to open a connection, authentication and session setup included
    /// (default 5000).
    pub const CONNECT_TIMEOUT_MS: &str = "DB_CONNECT_TIMEOUT_MS";
    /// Server-side `statement_timeout` of every connection, milliseconds; 0 = none
    /// (default 30000).
    pub const STATEMENT_TIMEOUT_MS: &str = "DB_STATEMENT_TIMEOUT_MS";
    /// Seconds of idleness before TCP keepalive probes start (default 30).
    pub const TCP_KEEPALIVE_IDLE: &str = "DB_TCP_KEEPALIVE_IDLE";
    /// Milliseconds sent data may stay unacknowledged before the socket fails (Linux
    /// `TCP_USER_TIMEOUT`; default 30000; 0 = the kernel's default).
    pub const TCP_USER_TIMEOUT_MS: &str = "DB_TCP_USER_TIMEOUT_MS";
    /// Seconds between `ro_router::stats` log lines (default 60; 0 = never).
    pub const STATS_LOG_INTERVAL: &str = "DB_POOL_STATS_LOG_INTERVAL";
}

/// Everything a [`DbRouter`](crate::DbRouter) needs. Build it with [`RouterConfig::new`] and
/// adjust the public fields, or read it with [`RouterConfig::from_env`].
///
/// `Debug` and `Display` show URLs as `host:port/db`, never a password.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RouterConfig {
    /// The primary. `get_db()` checks out from it; it is verified to be a primary.
    pub primary: DbUrl,
    /// The streaming replicas (may be empty).
    pub replicas: Vec<DbUrl>,
    /// Target of the fallthrough pool; `None` = the primary's URL.
    pub fallthrough: Option<DbUrl>,
    /// How `get_db_ro()` picks a replica.
    pub strategy: ReplicaStrategy,
    /// Fall through to the primary (read-only) when no replica can serve.
    pub fallback: bool,
    /// Time between health checks.
    pub health_check_interval: Duration,
    /// Time one health probe (connect + query) may take before the target counts as
    /// unreachable.
    pub health_check_timeout: Duration,
    /// Replication lag past which a replica leaves rotation.
    pub max_replication_lag: Duration,
    /// Whether lag takes replicas out of rotation.
    pub lag_check_enabled: bool,
    /// Maximum size of the primary pool.
    pub primary_pool_max: usize,
    /// Maximum size of each replica pool and of the fallthrough pool.
    pub ro_pool_max: usize,
    /// How long a checkout waits for a busy pool.
    pub pool_timeout: Duration,
    /// How long opening a connection (TCP, authentication, session setup) may take.
    pub connect_timeout: Duration,
    /// Server-side `statement_timeout` of every connection (`None` = the server's default).
    pub statement_timeout: Option<Duration>,
    /// Idle time before TCP keepalive probes start (probes every 10 s, 3 of them).
    pub tcp_keepalive_idle: Duration,
    /// Linux `TCP_USER_TIMEOUT` (`None` = the kernel's default).
    pub tcp_user_timeout: Option<Duration>,
    /// The targets are pgBouncer: no startup parameters; session settings are sent at
    /// connect and re-asserted at every read-only checkout.
    pub pgbouncer: bool,
    /// Interval of the `ro_router::stats` log line (`None` = never).
    pub stats_log_interval: Option<Duration>,
}

impl RouterConfig {
    /// A configuration with the primary only and every default.
    pub fn new(primary: DbUrl) -> Self {
        Self {
            primary,
            replicas: Vec::new(),
            fallthrough: None,
            strategy: ReplicaStrategy::RoundRobin,
            fallback: true,
            health_check_interval: Duration::from_secs(30),
            health_check_timeout: Duration::from_secs(5),
            max_replication_lag: Duration::from_millis(1000),
            lag_check_enabled: true,
            primary_pool_max: 16,
            ro_pool_max: 16,
            pool_timeout: Duration::from_millis(5000),
            connect_timeout: Duration::from_millis(5000),
            statement_timeout: Some(Duration::from_millis(30_000)),
            tcp_keepalive_idle: Duration::from_secs(30),
            tcp_user_timeout: Some(Duration::from_millis(30_000)),
            pgbouncer: false,
            stats_log_interval: Some(Duration::from_secs(60)),
        }
    }

    /// Adds replicas (builder style).
    pub fn with_replicas(mut self, replicas: impl IntoIterator<Item = DbUrl>) -> Self {
        self.replicas.extend(replicas);
        self
    }

    /// Reads the configuration from the process environment (see [`env`](mod@crate::env) for the variables
    /// and their defaults).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), but reads variables through `lookup` (for tests and
    /// for configuration kept elsewhere).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let (primary_var, primary_text) = match get(env::PRIMARY_URL) {
            Some(v) => (env::PRIMARY_URL, v),
            None => match get(env::DATABASE_URL) {
                Some(v) => (env::DATABASE_URL, v),
                None => return Err(ConfigError::Missing { var: env::PRIMARY_URL }),
            },
        };
        let mut config = Self::new(DbUrl::parse_as(&primary_text, primary_var)?);
        if let Some(list) = get(env::REPLICA_URLS) {
            for (i, text) in split_url_list(&list).iter().enumerate() {
                let what = format!("{} entry {}", env::REPLICA_URLS, i + 1);
                config.replicas.push(DbUrl::parse_as(text, &what)?);
            }
        }
        if let Some(text) = get(env::FALLTHROUGH_URL) {
            config.fallthrough = Some(DbUrl::parse_as(&text, env::FALLTHROUGH_URL)?);
        }
        if let Some(v) = get(env::STRATEGY) {
            config.strategy = v.parse().map_err(|reason| invalid(env::STRATEGY, reason))?;
        }
        if let Some(v) = get(env::FALLBACK) {
            config.fallback = parse_bool(env::FALLBACK, &v)?;
        }
        if let Some(v) = get(env::HEALTH_CHECK_INTERVAL) {
            config.health_check_interval = parse_seconds(env::HEALTH_CHECK_INTERVAL, &v, false)?;
        }
        if let Some(v) = get(env::HEALTH_CHECK_TIMEOUT_MS) {
            config.health_check_timeout = parse_millis(env::HEALTH_CHECK_TIMEOUT_MS, &v, false)?;
        }
        if let Some(v) = get(env::MAX_REPLICATION_LAG_MS) {
            config.max_replication_lag = parse_millis(env::MAX_REPLICATION_LAG_MS, &v, true)?;
        }
        if let Some(v) = get(env::LAG_CHECK_ENABLED) {
            config.lag_check_enabled = parse_bool(env::LAG_CHECK_ENABLED, &v)?;
        }
        if let Some(v) = get(env::PRIMARY_POOL_MAX) {
            config.primary_pool_max = parse_size(env::PRIMARY_POOL_MAX, &v)?;
        }
        if let Some(v) = get(env::RO_POOL_MAX) {
            config.ro_pool_max = parse_size(env::RO_POOL_MAX, &v)?;
        }
        if let Some(v) = get(env::POOL_TIMEOUT_MS) {
            config.pool_timeout = parse_millis(env::POOL_TIMEOUT_MS, &v, false)?;
        }
        if let Some(v) = get(env::PGBOUNCER) {
            config.pgbouncer = parse_bool(env::PGBOUNCER, &v)?;
        }
        if let Some(v) = get(env::CONNECT_TIMEOUT_MS) {
            config.connect_timeout = parse_millis(env::CONNECT_TIMEOUT_MS, &v, false)?;
        }
        if let Some(v) = get(env::STATEMENT_TIMEOUT_MS) {
            let d = parse_millis(env::STATEMENT_TIMEOUT_MS, &v, true)?;
            config.statement_timeout = (!d.is_zero()).then_some(d);
        }
        if let Some(v) = get(env::TCP_KEEPALIVE_IDLE) {
            config.tcp_keepalive_idle = parse_seconds(env::TCP_KEEPALIVE_IDLE, &v, false)?;
        }
        if let Some(v) = get(env::TCP_USER_TIMEOUT_MS) {
            let d = parse_millis(env::TCP_USER_TIMEOUT_MS, &v, true)?;
            config.tcp_user_timeout = (!d.is_zero()).then_some(d);
        }
        if let Some(v) = get(env::STATS_LOG_INTERVAL) {
            let d = parse_seconds(env::STATS_LOG_INTERVAL, &v, true)?;
            config.stats_log_interval = (!d.is_zero()).then_some(d);
        }
        Ok(config)
    }

    /// The fallthrough pool's target: [`fallthrough`](Self::fallthrough) or the primary.
    pub fn fallthrough_url(&self) -> &DbUrl {
        self.fallthrough.as_ref().unwrap_or(&self.primary)
    }
}

impl fmt::Display for RouterConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let replicas: Vec<&str> = self.replicas.iter().map(DbUrl::name).collect();
        write!(
            f,
            "primary={} replicas=[{}] fallthrough={} strategy={} fallback={} pgbouncer={} \
             health_check_interval={:?} max_replication_lag={:?} lag_check_enabled={}",
            self.primary,
            replicas.join(", "),
            self.fallthrough_url(),
            self.strategy,
            self.fallback,
            self.pgbouncer,
            self.health_check_interval,
            self.max_replication_lag,
            self.lag_check_enabled,
        )
    }
}

fn invalid(var: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::InvalidVar { var: var.to_string(), reason: reason.into() }
}

fn parse_bool(var: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(invalid(var, format!("expected true or false, got {:?}", v.trim()))),
    }
}

fn parse_size(var: &str, v: &str) -> Result<usize, ConfigError> {
    match v.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(invalid(var, format!("expected a pool size of at least 1, got {:?}", v.trim()))),
    }
}

fn parse_millis(var: &str, v: &str, zero_ok: bool) -> Result<Duration, ConfigError> {
    match v.trim().parse::<u64>() {
        Ok(n) if n > 0 || zero_ok => Ok(Duration::from_millis(n)),
        _ => Err(invalid(
            var,
            format!(
                "expected a whole number of milliseconds{}, got {:?}",
                if zero_ok { "" } else { " above 0" },
                v.trim()
            ),
        )),
    }
}

fn parse_seconds(var: &str, v: &str, zero_ok: bool) -> Result<Duration, ConfigError> {
    match v.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && (s > 0.0 || (zero_ok && s == 0.0)) && s < 1e9 => {
            Ok(Duration::from_secs_f64(s))
        }
        _ => Err(invalid(
            var,
            format!(
                "expected a number of seconds{} (e.g. 30 or 0.5), got {:?}",
                if zero_ok { "" } else { " above 0" },
                v.trim()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
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
        assert!(!c.pgbouncer);
        assert_eq!(c.fallthrough_url().name(), "p:5432/db");
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
        ])
        .unwrap();
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
        ];
        for (var, value) in cases {
            let err = from(&[PRIMARY, (var, value)]).unwrap_err();
            assert!(
                matches!(&err, ConfigError::InvalidVar { var: v, .. } if v == var),
                "{var}={value}: {err:?}"
            );
            assert!(err.to_string().starts_with(var), "{err}");
        }
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
}
