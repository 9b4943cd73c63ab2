//! The connections of one pool per target (primary, each replica, the fallthrough): deadpool's
//! managed pool ([`crate::target_pool`]) of `deadpool-postgres`' client wrapper (statement
//! cache).
//!
//! A [`TargetLink`] owns how connections to one target are opened: timeouts and keepalives,
//! the session settings of [`crate::enforcement`], pgBouncer detection, the check that a
//! primary is a primary, and the registry of connection tasks that lets the health task sever
//! every connection to a target that stopped answering (a silent partition would otherwise
//! hang a query until TCP gives up).
//!
//! Nothing here decides routing; nothing here logs a password.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use deadpool::managed::{self, RecycleError, RecycleResult};
use deadpool_postgres::ClientWrapper;
use tokio::task::{AbortHandle, JoinHandle};
use tokio_postgres::{CancelToken, Client, SimpleQueryMessage};

use crate::{
    config::RouterConfig,
    dial::Peer,
    driver::Barrier,
    enforcement::{refuses_startup_parameters, SessionSettings, GUARD_OFF_SQL, VERIFY_SQL},
    error::{CheckoutFailure, CheckoutFailureKind, FailureCause, OpenError},
    inspect::{PoolMode, RoleReport},
    metrics::TargetCounters,
    stats::PoolRole,
    target::{DbUrl, Redactor},
    tls::MakeTls,
    wire::{EventHook, Observer},
};

/// How connections to one target are opened, set up, re-asserted and severed.
pub(crate) struct TargetLink {
    pub(crate) name: String,
    pub(crate) role: PoolRole,
    pgbouncer: AtomicBool,
    startup_config: tokio_postgres::Config,
    plain_config: tokio_postgres::Config,
    settings: SessionSettings,
    connect_sql: String,
    tls: MakeTls,
    pub(crate) checked_out: AtomicUsize,
    drivers: Mutex<Vec<AbortHandle>>,
    pub(crate) counters: TargetCounters,
    pub(crate) redactor: Arc<Redactor>,
    /// How long the proof of a released read-only connection may take.
    pub(crate) verify_timeout: Duration,
    /// Released connections whose proof is running: back in the pool within a round trip.
    pub(crate) proving: AtomicUsize,
    inspection: Mutex<Option<Inspection>>,
    inspecting: tokio::sync::Mutex<()>,
    /// Called with what every connection's wire reports (see [`crate::wire::WireEvent`]).
    wire_events: std::sync::OnceLock<EventHook>,
}

/// What [`crate::inspect`] found about a read-only target.
#[derive(Debug, Clone, Default)]
pub(crate) struct Inspection {
    pub(crate) pool_mode: Option<PoolMode>,
    pub(crate) role: Option<RoleReport>,
}

/// Why a read-only target behind pgBouncer is refused.
pub(crate) fn pool_mode_refusal(mode: PoolMode) -> String {
    format!(
        "pgBouncer pools by {mode} (pool_mode = {mode}): the read-only guard is session state and \
         would stick to server connections that pgBouncer hands to other clients, refusing their \
         writes; give read-only targets a pgBouncer database with pool_mode = session, or connect \
         them to PostgreSQL directly",
        mode = mode.as_str()
    )
}

impl std::fmt::Debug for TargetLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetLink")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("pgbouncer", &self.pgbouncer())
            .finish_non_exhaustive()
    }
}

/// Why opening a pooled connection failed.
#[derive(Debug)]
pub(crate) enum ConnectError {
    Pg(OpenError),
    NotAPrimary,
    /// A read-only target behind a pgBouncer that does not pool by session.
    PoolMode(PoolMode),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Pg(e) => write!(f, "{e}"),
            Self::NotAPrimary => write!(f, "the server is in recovery (a standby)"),
            Self::PoolMode(mode) => write!(f, "{}", pool_mode_refusal(*mode)),
        }
    }
}

impl std::error::Error for ConnectError {}

impl From<tokio_postgres::Error> for ConnectError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Pg(OpenError::Driver(e))
    }
}

impl From<OpenError> for ConnectError {
    fn from(e: OpenError) -> Self {
        Self::Pg(e)
    }
}

impl TargetLink {
    pub(crate) fn new(
        role: PoolRole,
        url: &DbUrl,
        config: &RouterConfig,
        counters: TargetCounters,
        redactor: Arc<Redactor>,
    ) -> Self {
        let read_only = role != PoolRole::Primary;
        let url_options = url.pg_config().get_options().map(str::to_string);
        let settings = SessionSettings::new(
            read_only,
            config.statement_timeout.map(|d| d.as_millis()),
            url_options.as_deref(),
        );
        let mut plain = if read_only { url.read_only_config() } else { url.pg_config().clone() };
        plain
            .connect_timeout(config.connect_timeout)
            .keepalives(true)
            .keepalives_idle(config.tcp_keepalive_idle)
            .keepalives_interval(Duration::from_secs(10))
            .keepalives_retries(3);
        if let Some(t) = config.tcp_user_timeout {
            plain.tcp_user_timeout(t);
        }
        if plain.get_application_name().is_none() {
            plain.application_name("ro-router");
        }
        let mut startup = plain.clone();
        if let Some(options) = settings.startup_options(url_options.as_deref()) {
            startup.options(options);
        }
        // Behind pgBouncer no startup parameter may be sent: not even the URL's own options.
        let plain = without_options(plain);
        Self {
            name: url.name().to_string(),
            role,
            pgbouncer: AtomicBool::new(config.pgbouncer),
            connect_sql: settings.connect_sql(),
            settings,
            tls: url.tls(),
            startup_config: startup,
            plain_config: plain,
            checked_out: AtomicUsize::new(0),
            drivers: Mutex::new(Vec::new()),
            counters,
            redactor,
            verify_timeout: config.connect_timeout,
            proving: AtomicUsize::new(0),
            inspection: Mutex::new(None),
            inspecting: tokio::sync::Mutex::new(()),
            wire_events: std::sync::OnceLock::new(),
        }
    }

    /// Sets what every connection opened from now on calls with its [`WireEvent`]s (once).
    ///
    /// [`WireEvent`]: crate::wire::WireEvent
    pub(crate) fn on_wire_event(&self, hook: EventHook) {
        let _ = self.wire_events.set(hook);
    }

    /// What the inspection found, once it ran.
    pub(crate) fn inspection(&self) -> Option<Inspection> {
        self.inspection.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Inspects a read-only target once (see [`crate::inspect`]): pgBouncer's pool mode, and
    /// the fallthrough pool's role. Fails while the target does not answer (the next call
    /// tries again) and, for good, on a pgBouncer that does not pool by session.
    pub(crate) async fn inspect(&self) -> Result<(), ConnectError> {
        let _one_at_a_time = self.inspecting.lock().await;
        let found = match self.inspection() {
            Some(found) => found,
            None => {
                let found = self.measure().await?;
                self.report(&found);
                *self.inspection.lock().unwrap_or_else(|p| p.into_inner()) = Some(found.clone());
                found
            }
        };
        match found.pool_mode {
            Some(mode @ (PoolMode::Transaction | PoolMode::Statement)) => Err(ConnectError::PoolMode(mode)),
            _ => Ok(()),
        }
    }

    async fn measure(&self) -> Result<Inspection, ConnectError> {
        let (first, _first_driver) = self.open().await?;
        let mut found = Inspection::default();
        if self.pgbouncer() {
            let (second, _second_driver) = self.open().await?;
            found.pool_mode = Some(crate::inspect::pool_mode(&first, &second).await?);
        }
        if found.pool_mode.is_some_and(|m| m != PoolMode::Session) {
            return Ok(found);
        }
        if self.role == PoolRole::Fallthrough {
            // What the role may do is reported, never a reason to refuse reads: a failure to
            // measure it is logged and leaves it unknown.
            match crate::inspect::role_report(&first).await {
                Ok(role) => found.role = Some(role),
                Err(e) => tracing::warn!(
                    target: "ro_router::enforcement",
                    db = %self.name,
                    error = %self.redactor.redact(crate::error::describe(&e)),
                    "could not measure what the fallthrough role may write"
                ),
            }
        }
        Ok(found)
    }

    fn report(&self, found: &Inspection) {
        if let Some(mode) = found.pool_mode.filter(|m| *m != PoolMode::Session) {
            tracing::error!(
                target: "ro_router::enforcement",
                db = %self.name,
                pool = self.role.as_str(),
                pool_mode = mode.as_str(),
                "{} refused: {}",
                self.name,
                pool_mode_refusal(mode)
            );
        }
        let Some(role) = &found.role else { return };
        if role.is_read_only() {
            tracing::info!(
                target: "ro_router::enforcement",
                db = %self.name,
                role = %role.role,
                "the fallthrough role {} is read-only: no superuser, no write privilege",
                role.role
            );
        } else {
            tracing::warn!(
                target: "ro_router::enforcement",
                db = %self.name,
                role = %role.role,
                superuser = role.superuser,
                "the fallthrough role {} can write ({}): reads that fall through to the primary are \
                 kept from writing by the session setting alone, which does not stop every write; \
                 give DB_READ_FALLTHROUGH_URL a read-only role (see ro-router's README)",
                role.role,
                role.can_write.join("; ")
            );
        }
    }

    /// Whether connections are set up for pgBouncer (configured or detected).
    pub(crate) fn pgbouncer(&self) -> bool {
        self.pgbouncer.load(Ordering::Relaxed)
    }

    fn switch_to_pgbouncer(&self, why: &str) {
        if !self.pgbouncer.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                target: "ro_router::enforcement",
                db = %self.name,
                pool = self.role.as_str(),
                "{why}: treating {} as pgBouncer from now on (session settings sent with SET at \
                 connect and re-asserted at every read-only checkout); set DB_PGBOUNCER=true to \
                 skip the detection",
                self.name
            );
        }
    }

    /// Opens a connection and starts the task that drives it. Detects pgBouncer from its
    /// refusal of startup parameters and reconnects without them.
    pub(crate) async fn open(&self) -> Result<(Client, JoinHandle<()>), OpenError> {
        let opened = self.open_observed().await?;
        Ok((opened.client, opened.handle))
    }

    async fn open_observed(&self) -> Result<Opened, OpenError> {
        if !self.pgbouncer() {
            match crate::dial::connect(&self.startup_config, &self.tls).await {
                Ok(opened) => return Ok(self.drive(opened)),
                Err(OpenError::Driver(e)) if refuses_startup_parameters(&e) => {
                    self.switch_to_pgbouncer("the server refused startup parameters");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(self.drive(crate::dial::connect(&self.plain_config, &self.tls).await?))
    }

    fn drive(&self, (client, connection, observer, peer): crate::dial::Dialed) -> Opened {
        let name = self.name.clone();
        let redactor = self.redactor.clone();
        if let Some(hook) = self.wire_events.get() {
            observer.on_event(hook.clone());
        }
        let (barrier, driver) = Barrier::new(connection, observer.clone());
        let handle = tokio::spawn(async move {
            if let Err(e) = driver.await {
                tracing::debug!(
                    target: "ro_router::connection",
                    db = %name,
                    error = %redactor.redact(crate::error::describe(&e)),
                    "connection ended"
                );
            }
        });
        let mut drivers = self.drivers.lock().unwrap_or_else(|p| p.into_inner());
        drivers.retain(|h| !h.is_finished());
        drivers.push(handle.abort_handle());
        Opened { client, handle, observer, barrier, peer }
    }

    /// Ends every open connection to this target (checked out or idle): their queries fail
    /// with "connection closed" instead of waiting on a network that dropped them.
    pub(crate) fn sever(&self) -> usize {
        let drivers: Vec<AbortHandle> = {
            let mut d = self.drivers.lock().unwrap_or_else(|p| p.into_inner());
            d.drain(..).filter(|h| !h.is_finished()).collect()
        };
        for h in &drivers {
            h.abort();
        }
        self.counters.severed.inc_by(drivers.len() as u64);
        drivers.len()
    }

    pub(crate) async fn create(&self) -> Result<PooledClient, ConnectError> {
        if self.settings.read_only() {
            self.inspect().await?;
        }
        let Opened { client, handle, observer, barrier, peer } = self.open_observed().await?;
        let client = ClientWrapper::new(client, handle);
        // One round trip: the pgBouncer-mode settings (if any) and the verification.
        let sql = if self.pgbouncer() {
            format!("{}{VERIFY_SQL}", self.connect_sql)
        } else {
            VERIFY_SQL.to_string()
        };
        let witness = self.guard_may_be_witnessed().then(|| observer.guard_reports().0);
        let answer = match witness {
            // Guard on, off, on again, then the verification: pipelined, one round trip.
            Some(_) => {
                let (on, off, answer) = tokio::join!(
                    client.batch_execute(&self.connect_sql),
                    client.batch_execute(GUARD_OFF_SQL),
                    client.simple_query(&sql)
                );
                on?;
                off?;
                answer?
            }
            None => client.simple_query(&sql).await?,
        };
        let (in_recovery, read_only) = verify_row(&answer);
        let guard_reported = witness.is_some_and(|before| crate::proof::guard_forwarded(before, &observer));
        if self.role == PoolRole::Primary && in_recovery {
            return Err(ConnectError::NotAPrimary);
        }
        if self.settings.read_only() && !read_only {
            // A proxy accepted the startup parameter and dropped it.
            self.switch_to_pgbouncer("the server ignored the read-only startup parameter");
            client.batch_execute(&self.connect_sql).await?;
        }
        let guard_reported = guard_reported && read_only;
        Ok(PooledClient { client, proven_clean: false, guard_reported, observer, barrier, peer })
    }

    /// Hands a pooled connection out again. A read-only one must be proven clean: by its
    /// release (see [`crate::proof`]) or now.
    pub(crate) async fn recycle(&self, c: &mut PooledClient) -> RecycleResult<ConnectError> {
        if c.client.is_closed() {
            return Err(RecycleError::message("connection closed"));
        }
        if !self.settings.read_only() || std::mem::take(&mut c.proven_clean) {
            return Ok(());
        }
        // Timed by the proof, not by the pool: a checkout that needs none starts no timer.
        crate::proof::prove_clean(self, c).await.map_err(|why| RecycleError::Message(why.into()))
    }

    /// Sends a cancel request for `token`'s session to `peer`, opened as this target's
    /// connections are (timeouts, socket options, TLS).
    pub(crate) async fn send_cancel(&self, token: &CancelToken, peer: &Peer) -> Result<(), OpenError> {
        crate::dial::send_cancel(token, peer, &self.plain_config, &self.tls).await
    }

    pub(crate) fn read_only(&self) -> bool {
        self.settings.read_only()
    }

    /// Whether a new connection's wire may show that the server's reports of the guard reach
    /// it (see [`crate::proof`]): behind a pgBouncer found pooling by session, with the guard
    /// as the only setting.
    fn guard_may_be_witnessed(&self) -> bool {
        self.pgbouncer()
            && self.settings.guard_only()
            && self.inspection().is_some_and(|i| i.pool_mode == Some(PoolMode::Session))
    }

    /// The statements that establish the session behind pgBouncer ("" when direct).
    pub(crate) fn pgbouncer_settings(&self) -> &str {
        if self.pgbouncer() {
            &self.connect_sql
        } else {
            ""
        }
    }

    /// Turns a pool error into a redacted failure.
    pub(crate) fn failure(
        &self,
        e: managed::PoolError<ConnectError>,
        pool_max: usize,
        waited: Duration,
    ) -> CheckoutFailure {
        use managed::{PoolError, TimeoutType};
        let (kind, message, cause) = match e {
            PoolError::Timeout(TimeoutType::Wait) => (
                CheckoutFailureKind::PoolExhausted,
                format!(
                    "all {pool_max} connections of the {} pool stayed busy for {} ms (raise {} or {})",
                    self.role.as_str(),
                    waited.as_millis(),
                    if self.role == PoolRole::Primary { "DB_PRIMARY_POOL_MAX" } else { "DB_RO_POOL_MAX" },
                    "DB_POOL_TIMEOUT_MS"
                ),
                None,
            ),
            PoolError::Timeout(_) => (
                CheckoutFailureKind::ConnectTimeout,
                "opening a connection took longer than DB_CONNECT_TIMEOUT_MS".to_string(),
                Some(FailureCause::Timeout),
            ),
            PoolError::Backend(ConnectError::NotAPrimary)
            | PoolError::PostCreateHook(managed::HookError::Backend(ConnectError::NotAPrimary)) => {
                (CheckoutFailureKind::NotAPrimary, "the server is in recovery (a standby)".to_string(), None)
            }
            PoolError::Backend(ConnectError::Pg(e))
            | PoolError::PostCreateHook(managed::HookError::Backend(ConnectError::Pg(e))) => {
                return CheckoutFailure::from_driver(&e, &self.redactor);
            }
            PoolError::Backend(ConnectError::PoolMode(mode))
            | PoolError::PostCreateHook(managed::HookError::Backend(ConnectError::PoolMode(mode))) => {
                (CheckoutFailureKind::Connect, pool_mode_refusal(mode), None)
            }
            PoolError::PostCreateHook(managed::HookError::Message(m)) => {
                (CheckoutFailureKind::Connect, m.to_string(), None)
            }
            PoolError::Closed | PoolError::NoRuntimeSpecified => {
                (CheckoutFailureKind::Connect, "the pool is closed".to_string(), None)
            }
        };
        CheckoutFailure::new(kind, self.redactor.redact(message), cause)
    }
}

fn without_options(mut config: tokio_postgres::Config) -> tokio_postgres::Config {
    // tokio-postgres sends `options` whenever it is set, even empty: rebuild without it.
    if config.get_options().is_some() {
        let mut fresh = tokio_postgres::Config::new();
        if let Some(u) = config.get_user() {
            fresh.user(u);
        }
        if let Some(p) = config.get_password() {
            fresh.password(p);
        }
        if let Some(d) = config.get_dbname() {
            fresh.dbname(d);
        }
        if let Some(a) = config.get_application_name() {
            fresh.application_name(a);
        }
        for h in config.get_hosts() {
            match h {
                tokio_postgres::config::Host::Tcp(h) => fresh.host(h),
                tokio_postgres::config::Host::Unix(p) => fresh.host_path(p),
            };
        }
        for a in config.get_hostaddrs() {
            fresh.hostaddr(*a);
        }
        for p in config.get_ports() {
            fresh.port(*p);
        }
        fresh
            .ssl_mode(config.get_ssl_mode())
            .ssl_negotiation(config.get_ssl_negotiation())
            .target_session_attrs(config.get_target_session_attrs())
            .channel_binding(config.get_channel_binding())
            .load_balance_hosts(config.get_load_balance_hosts())
            .keepalives(config.get_keepalives())
            .keepalives_idle(config.get_keepalives_idle());
        if let Some(t) = config.get_connect_timeout() {
            fresh.connect_timeout(*t);
        }
        if let Some(t) = config.get_tcp_user_timeout() {
            fresh.tcp_user_timeout(*t);
        }
        if let Some(i) = config.get_keepalives_interval() {
            fresh.keepalives_interval(i);
        }
        if let Some(r) = config.get_keepalives_retries() {
            fresh.keepalives_retries(r);
        }
        config = fresh;
    }
    config
}

fn verify_row(messages: &[SimpleQueryMessage]) -> (bool, bool) {
    let row = messages.iter().rev().find_map(|m| match m {
        SimpleQueryMessage::Row(r) => Some(r),
        _ => None,
    });
    match row {
        Some(r) => (r.get(0) == Some("true"), r.get(1) == Some("on")),
        None => (false, false),
    }
}

/// An open connection with its task, the observation of its wire and its drain barrier.
struct Opened {
    client: Client,
    handle: JoinHandle<()>,
    observer: Observer,
    barrier: Arc<Barrier>,
    peer: Peer,
}

/// A pooled connection: `deadpool-postgres`' wrapper, whether its release proved it clean
/// (read-only pools; reset when it is handed out), what its wire showed and its task's drain
/// barrier (see [`crate::proof`]).
#[derive(Debug)]
pub(crate) struct PooledClient {
    pub(crate) client: ClientWrapper,
    pub(crate) proven_clean: bool,
    /// Behind pgBouncer: the server's reports of the guard were seen to reach this
    /// connection's wire when it was opened (see [`crate::proof`]).
    pub(crate) guard_reported: bool,
    pub(crate) observer: Observer,
    pub(crate) barrier: Arc<Barrier>,
    /// Where it was opened (a cancel request goes there).
    pub(crate) peer: Peer,
}
