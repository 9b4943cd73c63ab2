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
    /// Replication lag, in WAL bytes, past which a replica leaves rotation (default 0: no
    /// byte limit).
    pub const MAX_REPLICATION_LAG_BYTES: &str = "DB_MAX_REPLICATION_LAG_BYTES";
    /// Whether lag takes replicas out of rotation (default `true`).
    pub const LAG_CHECK_ENABLED: &str = "DB_LAG_CHECK_ENABLED";
    /// Milliseconds between lag samples (default 250; 0 = no sampler: lag only from the
    /// health check).
    pub const LAG_SAMPLE_INTERVAL_MS: &str = "DB_LAG_SAMPLE_INTERVAL_MS";
    /// Milliseconds one lag sample may take before the server counts as hung (default 1000).
    pub const LAG_SAMPLE_TIMEOUT_MS: &str = "DB_LAG_SAMPLE_TIMEOUT_MS";
    /// Milliseconds a replica stays banned after its first failure (default 1000).
    pub const REPLICA_BAN_MS: &str = "DB_REPLICA_BAN_MS";
    /// The longest ban, milliseconds, however often a replica fails (default 30000).
    pub const REPLICA_BAN_MAX_MS: &str = "DB_REPLICA_BAN_MAX_MS";
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
    /// Replication lag in WAL bytes past which a replica leaves rotation (`None` = none).
    pub max_replication_lag_bytes: Option<u64>,
    /// Whether lag takes replicas out of rotation.
    pub lag_check_enabled: bool,
    /// Time between lag samples (`None` = no sampler; lag is then only as fresh as the last
    /// health check).
    pub lag_sample_interval: Option<Duration>,
    /// Time one lag sample may take before the server counts as hung: its connections are
    /// severed and it is banned.
    pub lag_sample_timeout: Duration,
    /// Ban period of a replica's first failure; it doubles with each ban in a row.
    pub replica_ban: Duration,
    /// The longest ban period.
    pub replica_ban_max: Duration,
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
            max_replication_lag_bytes: None,
            lag_check_enabled: true,
            lag_sample_interval: Some(Duration::from_millis(250)),
            lag_sample_timeout: Duration::from_millis(1000),
            replica_ban: Duration::from_millis(1000),
            replica_ban_max: Duration::from_millis(30_000),
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
        if let Some(v) = get(env::MAX_REPLICATION_LAG_BYTES) {
            config.max_replication_lag_bytes =
                Some(whole(env::MAX_REPLICATION_LAG_BYTES, &v)?).filter(|&b| b > 0);
        }
        if let Some(v) = get(env::LAG_CHECK_ENABLED) {
            config.lag_check_enabled = parse_bool(env::LAG_CHECK_ENABLED, &v)?;
        }
        if let Some(v) = get(env::LAG_SAMPLE_INTERVAL_MS) {
            config.lag_sample_interval = off_if_zero(millis(env::LAG_SAMPLE_INTERVAL_MS, &v)?);
        }
        if let Some(v) = get(env::LAG_SAMPLE_TIMEOUT_MS) {
            config.lag_sample_timeout = millis(env::LAG_SAMPLE_TIMEOUT_MS, &v)?;
        }
        if let Some(v) = get(env::REPLICA_BAN_MS) {
            config.replica_ban = millis(env::REPLICA_BAN_MS, &v)?;
        }
        if let Some(v) = get(env::REPLICA_BAN_MAX_MS) {
            config.replica_ban_max = millis(env::REPLICA_BAN_MAX_MS, &v)?;
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
            (env::LAG_SAMPLE_INTERVAL_MS, self.lag_sample_interval, ms(10), ms(60_000)),
            (env::LAG_SAMPLE_TIMEOUT_MS, Some(self.lag_sample_timeout), ms(1), ms(600_000)),
            (env::REPLICA_BAN_MS, Some(self.replica_ban), ms(1), ms(3_600_000)),
            (env::REPLICA_BAN_MAX_MS, Some(self.replica_ban_max), ms(1), ms(3_600_000)),
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
        if self.replica_ban_max < self.replica_ban {
            return Err(invalid(
                env::REPLICA_BAN_MAX_MS,
                format!(
                    "{:?} is shorter than DB_REPLICA_BAN_MS ({:?})",
                    self.replica_ban_max, self.replica_ban
                ),
            ));
        }
        if let Some(b) = self.max_replication_lag_bytes.filter(|&b| b == 0 || b > MAX_LAG_BYTES) {
            return Err(invalid(
                env::MAX_REPLICATION_LAG_BYTES,
                format!("{b} is out of range: expected 1 to {MAX_LAG_BYTES} (or 0 for no byte limit)"),
            ));
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
             health_check_interval={:?} max_replication_lag={:?} max_replication_lag_bytes={:?} \
             lag_check_enabled={} lag_sample_interval={:?} spill={} spill_wait={:?} \
             read_your_writes_wait={:?}",
            self.primary,
            replicas.join(", "),
            self.fallthrough_url(),
            self.strategy,
            self.fallback,
            self.pgbouncer,
            self.health_check_interval,
            self.max_replication_lag,
            self.max_replication_lag_bytes,
            self.lag_check_enabled,
            self.lag_sample_interval,
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

/// The largest byte lag limit accepted (1 PiB: far beyond any WAL backlog).
const MAX_LAG_BYTES: u64 = 1 << 50;

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
mod tests;
