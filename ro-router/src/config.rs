//! Router configuration: the struct, its defaults, and reading it from the environment.
//!
//! Parsing never echoes a URL (it may hold a password); an invalid value is an error that
//! names its variable.

use std::{fmt, time::Duration};

use crate::{
    conninfo::{MAX_TCP_KEEP_SECS, MAX_TCP_USER_TIMEOUT_MS},
    error::ConfigError,
    spill::SpillPolicy,
    strategy::ReplicaStrategy,
    target::{split_url_list_as, DbUrl},
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
    /// What a read does when every replica connection is checked out: `after` (default: wait
    /// up to `DB_RO_SPILL_WAIT_MS`, then go to the primary), `immediate` or `never`.
    pub const RO_SPILL: &str = "DB_RO_SPILL";
    /// Milliseconds a read waits for a busy replica before spilling to the primary, with
    /// `DB_RO_SPILL=after` (default 100).
    pub const RO_SPILL_WAIT_MS: &str = "DB_RO_SPILL_WAIT_MS";
    /// Milliseconds a read after a write waits for a replica to replay it before going to the
    /// primary (default 50; 0 = no wait).
    pub const READ_YOUR_WRITES_WAIT_MS: &str = "DB_READ_YOUR_WRITES_WAIT_MS";
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
    /// What a read does when every replica connection is checked out.
    pub spill: SpillPolicy,
    /// How long a read waits for a busy replica before spilling, with [`SpillPolicy::After`].
    pub spill_wait: Duration,
    /// How long a read after a write waits for a replica to replay it before going to the
    /// primary (zero: at once).
    pub read_your_writes_wait: Duration,
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
            spill: SpillPolicy::After,
            spill_wait: Duration::from_millis(100),
            read_your_writes_wait: Duration::from_millis(50),
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
            for (i, text) in split_url_list_as(&list, env::REPLICA_URLS)?.iter().enumerate() {
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
            config.health_check_interval = seconds(env::HEALTH_CHECK_INTERVAL, &v)?;
        }
        if let Some(v) = get(env::HEALTH_CHECK_TIMEOUT_MS) {
            config.health_check_timeout = millis(env::HEALTH_CHECK_TIMEOUT_MS, &v)?;
        }
        if let Some(v) = get(env::MAX_REPLICATION_LAG_MS) {
            config.max_replication_lag = millis(env::MAX_REPLICATION_LAG_MS, &v)?;
        }
        if let Some(v) = get(env::LAG_CHECK_ENABLED) {
            config.lag_check_enabled = parse_bool(env::LAG_CHECK_ENABLED, &v)?;
        }
        if let Some(v) = get(env::PRIMARY_POOL_MAX) {
            config.primary_pool_max = whole(env::PRIMARY_POOL_MAX, &v)?;
        }
        if let Some(v) = get(env::RO_POOL_MAX) {
            config.ro_pool_max = whole(env::RO_POOL_MAX, &v)?;
        }
        if let Some(v) = get(env::POOL_TIMEOUT_MS) {
            config.pool_timeout = millis(env::POOL_TIMEOUT_MS, &v)?;
        }
        if let Some(v) = get(env::PGBOUNCER) {
            config.pgbouncer = parse_bool(env::PGBOUNCER, &v)?;
        }
        if let Some(v) = get(env::CONNECT_TIMEOUT_MS) {
            config.connect_timeout = millis(env::CONNECT_TIMEOUT_MS, &v)?;
        }
        if let Some(v) = get(env::STATEMENT_TIMEOUT_MS) {
            config.statement_timeout = off_if_zero(millis(env::STATEMENT_TIMEOUT_MS, &v)?);
        }
        if let Some(v) = get(env::TCP_KEEPALIVE_IDLE) {
            config.tcp_keepalive_idle = Duration::from_secs(whole(env::TCP_KEEPALIVE_IDLE, &v)?);
        }
        if let Some(v) = get(env::TCP_USER_TIMEOUT_MS) {
            config.tcp_user_timeout = off_if_zero(millis(env::TCP_USER_TIMEOUT_MS, &v)?);
        }
        if let Some(v) = get(env::STATS_LOG_INTERVAL) {
            config.stats_log_interval = off_if_zero(seconds(env::STATS_LOG_INTERVAL, &v)?);
        }
        if let Some(v) = get(env::RO_SPILL) {
            config.spill = v.parse().map_err(|reason| invalid(env::RO_SPILL, reason))?;
        }
        if let Some(v) = get(env::RO_SPILL_WAIT_MS) {
            config.spill_wait = millis(env::RO_SPILL_WAIT_MS, &v)?;
        }
        if let Some(v) = get(env::READ_YOUR_WRITES_WAIT_MS) {
            config.read_your_writes_wait = millis(env::READ_YOUR_WRITES_WAIT_MS, &v)?;
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks every value against its range (naming the variable that sets it), that no two
    /// replicas are the same server, and that the primary's URL can reach a primary.
    /// [`from_env`](Self::from_env) and [`DbRouter::new`](crate::DbRouter::new) call it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let ms = Duration::from_millis;
        let durations = [
            (env::HEALTH_CHECK_INTERVAL, Some(self.health_check_interval), ms(10), ms(86_400_000)),
            (env::HEALTH_CHECK_TIMEOUT_MS, Some(self.health_check_timeout), ms(1), ms(600_000)),
            (
                env::MAX_REPLICATION_LAG_MS,
                Some(self.max_replication_lag).filter(|d| !d.is_zero()),
                ms(1),
                ms(86_400_000),
            ),
            (env::POOL_TIMEOUT_MS, Some(self.pool_timeout), ms(1), ms(600_000)),
            (env::CONNECT_TIMEOUT_MS, Some(self.connect_timeout), ms(1), ms(600_000)),
            // PostgreSQL's own maximum for statement_timeout.
            (env::STATEMENT_TIMEOUT_MS, self.statement_timeout, ms(1), ms(i32::MAX as u64)),
            (env::TCP_KEEPALIVE_IDLE, Some(self.tcp_keepalive_idle), ms(1000), ms(MAX_TCP_KEEP_SECS * 1000)),
            (env::TCP_USER_TIMEOUT_MS, self.tcp_user_timeout, ms(1), ms(MAX_TCP_USER_TIMEOUT_MS)),
            (env::STATS_LOG_INTERVAL, self.stats_log_interval, ms(10), ms(86_400_000)),
            (env::RO_SPILL_WAIT_MS, Some(self.spill_wait), ms(1), ms(600_000)),
            (
                env::READ_YOUR_WRITES_WAIT_MS,
                Some(self.read_your_writes_wait).filter(|d| !d.is_zero()),
                ms(1),
                ms(600_000),
            ),
        ];
        for (var, value, min, max) in durations {
            if let Some(d) = value.filter(|d| *d < min || *d > max) {
                return Err(invalid(var, format!("{d:?} is out of range: expected {min:?} to {max:?}")));
            }
        }
        if self.tcp_keepalive_idle.subsec_nanos() != 0 {
            return Err(invalid(env::TCP_KEEPALIVE_IDLE, "the kernel takes whole seconds"));
        }
        for (var, size) in
            [(env::PRIMARY_POOL_MAX, self.primary_pool_max), (env::RO_POOL_MAX, self.ro_pool_max)]
        {
            if !(1..=MAX_POOL_SIZE).contains(&size) {
                return Err(invalid(var, format!("{size} is out of range: expected 1 to {MAX_POOL_SIZE}")));
            }
        }
        for (i, url) in self.replicas.iter().enumerate() {
            if let Some(j) = self.replicas[..i].iter().position(|u| u.name() == url.name()) {
                return Err(invalid(
                    env::REPLICA_URLS,
                    format!(
                        "entries {} and {} are the same replica ({url}); list each server once",
                        j + 1,
                        i + 1
                    ),
                ));
            }
        }
        if !self.primary.session_attrs().admits_primary() {
            return Err(invalid(
                env::PRIMARY_URL,
                "its target_session_attrs (read-only, standby or prefer-standby) would pick a standby; \
                 use read-write, primary or any",
            ));
        }
        Ok(())
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
             health_check_interval={:?} max_replication_lag={:?} lag_check_enabled={} spill={} \
             spill_wait={:?} read_your_writes_wait={:?}",
            self.primary,
            replicas.join(", "),
            self.fallthrough_url(),
            self.strategy,
            self.fallback,
            self.pgbouncer,
            self.health_check_interval,
            self.max_replication_lag,
            self.lag_check_enabled,
            self.spill,
            self.spill_wait,
            self.read_your_writes_wait,
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

/// The largest pool size accepted (far beyond PostgreSQL's usual `max_connections`).
const MAX_POOL_SIZE: usize = 10_000;

fn whole<T: std::str::FromStr>(var: &str, v: &str) -> Result<T, ConfigError> {
    v.trim().parse().map_err(|_| invalid(var, format!("expected a whole number, got {:?}", v.trim())))
}

fn millis(var: &str, v: &str) -> Result<Duration, ConfigError> {
    whole(var, v).map(Duration::from_millis)
}

/// Seconds, fractions allowed; the range is checked by `validate`, so a tiny value like
/// `1e-10` is refused there, not rounded to 0.
fn seconds(var: &str, v: &str) -> Result<Duration, ConfigError> {
    match v.trim().parse::<f64>() {
        // A positive value too small for a Duration stays positive, for `validate` to refuse.
        Ok(s) if (0.0..1e12).contains(&s) => {
            Ok(Duration::from_secs_f64(s).max(Duration::from_nanos(u64::from(s > 0.0))))
        }
        _ => Err(invalid(var, format!("expected a number of seconds (e.g. 30 or 0.5), got {:?}", v.trim()))),
    }
}

fn off_if_zero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
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
            ("DB_RO_SPILL", "never"),
            ("DB_RO_SPILL_WAIT_MS", "40"),
            ("DB_READ_YOUR_WRITES_WAIT_MS", "0"),
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
            ("DB_RO_SPILL", "sometimes"),
            ("DB_RO_SPILL_WAIT_MS", "0"),
            ("DB_RO_SPILL_WAIT_MS", "600001"),
            ("DB_READ_YOUR_WRITES_WAIT_MS", "600001"),
            ("DB_READ_YOUR_WRITES_WAIT_MS", "-1"),
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
    fn range_limits_are_accepted() {
        let c = from(&[
            PRIMARY,
            ("DB_READ_REPLICA_HEALTH_CHECK_INTERVAL", "0.01"),
            ("DB_STATEMENT_TIMEOUT_MS", "2147483647"),
            ("DB_TCP_KEEPALIVE_IDLE", "32767"),
            ("DB_TCP_USER_TIMEOUT_MS", "2147483647"),
            ("DB_PRIMARY_POOL_MAX", "10000"),
            ("DB_MAX_REPLICATION_LAG_MS", "0"),
        ])
        .unwrap();
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
        let err =
            from(&[("DB_PRIMARY_URL", "postgres://u:p@h1,h2/d?target_session_attrs=standby")]).unwrap_err();
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
}
