//! A real PostgreSQL 15 primary, streaming replicas (`pg_basebackup -R`) and pgBouncer in
//! session mode, started from the server binaries on the machine under a temporary directory,
//! on free loopback ports, as the `postgres` user when run as root (initdb, pg_ctl and
//! pgbouncer refuse root), with SCRAM authentication and [`PASSWORD`] everywhere.
//!
//! The cluster is stopped (`pg_ctl stop -m immediate`, pgBouncer killed) and its directory
//! removed when the [`Cluster`] is dropped — also when a test panics — or on Ctrl-C through
//! [`Cluster::shutdown`]. A run killed outright leaves its directory behind with the owner's
//! pid; the next run stops and removes such leftovers.

use std::{
    os::unix::fs::{chown, PermissionsExt},
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Mutex,
    },
    time::Duration,
};

use tokio::process::Command;
use tokio_postgres::{Client, NoTls};

use super::processes::Frozen;
use super::{holds_within, provision, url, wait_until, PASSWORD};

const DIR_PREFIX: &str = "ro-router-test-";

/// One PostgreSQL server of the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub name: String,
    pub dir: PathBuf,
    pub port: u16,
}

impl Server {
    pub fn url(&self) -> String {
        url(self.port)
    }
}

#[derive(Debug)]
pub struct PgBouncer {
    pub port: u16,
    pidfile: PathBuf,
}

impl PgBouncer {
    pub fn url(&self) -> String {
        url(self.port)
    }
}

#[derive(Debug)]
pub struct Cluster {
    root: PathBuf,
    bin: PathBuf,
    owner: Option<(u32, u32)>,
    primary: Mutex<Option<Server>>,
    replicas: Mutex<Vec<Server>>,
    pgbouncer: Mutex<Option<PgBouncer>>,
    /// pgBouncers in other pool modes, started on demand, by mode.
    other_pgbouncers: Mutex<Vec<(String, PgBouncer)>>,
    next_replica: AtomicUsize,
    stopped: AtomicBool,
}

fn pg_bin() -> PathBuf {
    PathBuf::from(std::env::var("RO_ROUTER_PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into()))
}

fn pgbouncer_bin() -> Option<PathBuf> {
    ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// What is missing to run the cluster, as a message naming the Debian package to install:
/// PostgreSQL 15's server binaries in `bin`, and pgBouncer (`None` = not found).
pub fn missing_binaries(bin: &Path, pgbouncer: Option<&Path>) -> Option<String> {
    let missing = provision::missing(bin, pgbouncer);
    let no_install = provision::Machine { root: false, apt_get: false, install_allowed: false };
    match provision::decide(&missing, no_install) {
        provision::Decision::Fail(message) => Some(message),
        _ => None,
    }
}

/// uid and gid of the `postgres` user, when running as root.
fn postgres_owner() -> Option<(u32, u32)> {
    let me = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid_line = me.lines().find(|l| l.starts_with("Uid:"))?;
    let uid: u32 = uid_line.split_whitespace().nth(1)?.parse().ok()?;
    if uid != 0 {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    let entry = passwd
        .lines()
        .find(|l| l.starts_with("postgres:"))
        .expect("running as root, the servers must run as the `postgres` user, which does not exist: install the Debian package postgresql-15");
    let fields: Vec<&str> = entry.split(':').collect();
    Some((fields[2].parse().expect("uid"), fields[3].parse().expect("gid")))
}

/// A free loopback port (bound and released; the servers bind it right after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

fn pid_alive(pid: &str) -> bool {
    Path::new("/proc").join(pid.trim()).exists()
}

impl Cluster {
    /// Starts a primary, `replicas` streaming replicas and (if asked) pgBouncer in front of
    /// the primary. Installs missing binaries when it can (see [`provision`]), and panics
    /// with the Debian package to install when it cannot.
    pub async fn start(replicas: usize, with_pgbouncer: bool) -> Self {
        let bin = pg_bin();
        provision::ensure(|| {
            let pgbouncer = if with_pgbouncer { pgbouncer_bin() } else { Some(PathBuf::new()) };
            provision::missing(&bin, pgbouncer.as_deref())
        });
        remove_stale_clusters(&bin);
        let root =
            std::env::temp_dir().join(format!("{DIR_PREFIX}{}-{}", std::process::id(), fastrand::u32(..)));
        std::fs::create_dir_all(&root).expect("create the cluster directory");
        std::fs::write(root.join("owner.pid"), std::process::id().to_string()).expect("write owner.pid");
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let owner = postgres_owner();
        if let Some((uid, gid)) = owner {
            chown(&root, Some(uid), Some(gid)).expect("chown the cluster directory to postgres");
        }
        let cluster = Self {
            root,
            bin,
            owner,
            primary: Mutex::new(None),
            replicas: Mutex::new(Vec::new()),
            pgbouncer: Mutex::new(None),
            other_pgbouncers: Mutex::new(Vec::new()),
            next_replica: AtomicUsize::new(1),
            stopped: AtomicBool::new(false),
        };
        cluster.init_primary().await;
        for _ in 0..replicas {
            cluster.add_replica().await;
        }
        if with_pgbouncer {
            let bouncer = cluster.start_pgbouncer("session").await;
            *cluster.pgbouncer.lock().unwrap() = Some(bouncer);
        }
        cluster
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn primary(&self) -> Server {
        self.primary.lock().unwrap().clone().expect("the primary is started")
    }

    pub fn replica(&self, i: usize) -> Server {
        self.replicas.lock().unwrap()[i].clone()
    }

    pub fn replicas(&self) -> Vec<Server> {
        self.replicas.lock().unwrap().clone()
    }

    pub fn pgbouncer_url(&self) -> String {
        self.pgbouncer.lock().unwrap().as_ref().expect("pgbouncer is started").url()
    }

    pub fn pgbouncer_port(&self) -> u16 {
        self.pgbouncer.lock().unwrap().as_ref().expect("pgbouncer is started").port
    }

    fn write_owned(&self, path: &Path, contents: &str) {
        std::fs::write(path, contents).expect("write a cluster file");
        if let Some((uid, gid)) = self.owner {
            chown(path, Some(uid), Some(gid)).expect("chown a cluster file");
        }
    }

    fn append(&self, path: &Path, contents: &str) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(path).expect("open a config file");
        f.write_all(contents.as_bytes()).expect("append to a config file");
    }

    /// Runs a server binary (as postgres when root) and returns its output; panics on failure
    /// unless `allow_failure`.
    async fn run(&self, program: &Path, args: &[&str], allow_failure: bool) -> std::process::Output {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(&self.root)
            .env("PGPASSWORD", PASSWORD)
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some((uid, gid)) = self.owner {
            cmd.uid(uid).gid(gid);
        }
        let out = cmd.output().await.unwrap_or_else(|e| panic!("could not run {}: {e}", program.display()));
        if !out.status.success() && !allow_failure {
            panic!(
                "{} {} failed ({}):\n{}{}",
                program.display(),
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        out
    }

    async fn pg_ctl(&self, args: &[&str], allow_failure: bool) -> std::process::Output {
        let pg_ctl = self.bin.join("pg_ctl");
        self.run(&pg_ctl, args, allow_failure).await
    }

    async fn init_primary(&self) {
        let dir = self.root.join("primary");
        let pwfile = self.root.join("pwfile");
        self.write_owned(&pwfile, &format!("{PASSWORD}\n"));
        let initdb = self.bin.join("initdb");
        self.run(
            &initdb,
            &[
                "-D",
                dir.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                &format!("--pwfile={}", pwfile.display()),
                "--no-sync",
                "--no-locale",
                "-E",
                "UTF8",
            ],
            false,
        )
        .await;
        let port = free_port();
        self.append(
            &dir.join("postgresql.conf"),
            &format!(
                "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\n\
                 wal_level = replica\nmax_wal_senders = 10\nwal_keep_size = 1GB\nhot_standby = on\nfsync = off\n\
                 full_page_writes = off\nshared_buffers = 32MB\ncluster_name = 'primary'\n\
                 wal_receiver_status_interval = 1s\nlog_min_messages = warning\n",
                self.root.display()
            ),
        );
        let server = Server { name: "primary".into(), dir, port };
        *self.primary.lock().unwrap() = Some(server.clone());
        self.start_server(&server).await;
        // Same password, same SCRAM-SHA-256 exchange, but 16 PBKDF2 iterations instead of
        // 4096: a client built without optimisations (the tests) spends ~50 ms on each
        // 4096-iteration login. Replicas inherit the role through the base backup.
        let secret = scram_secret(PASSWORD, 16);
        self.sql(&server, &format!("ALTER ROLE postgres PASSWORD '{secret}'")).await;
    }

    /// A new streaming replica of the primary (base backup with `-R`, its own port).
    pub async fn add_replica(&self) -> Server {
        let n = self.next_replica.fetch_add(1, Ordering::Relaxed);
        let server = Server {
            name: format!("replica{n}"),
            dir: self.root.join(format!("replica{n}")),
            port: free_port(),
        };
        self.base_backup(&server).await;
        self.replicas.lock().unwrap().push(server.clone());
        self.start_server(&server).await;
        server
    }

    async fn base_backup(&self, server: &Server) {
        let primary = self.primary();
        let basebackup = self.bin.join("pg_basebackup");
        let conninfo = format!("host=127.0.0.1 port={} user=postgres", primary.port);
        self.run(
            &basebackup,
            &[
                "-d",
                &conninfo,
                "-D",
                server.dir.to_str().unwrap(),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "--no-sync",
            ],
            false,
        )
        .await;
        // The base backup copied the primary's port and name: give the replica its own.
        self.append(
            &server.dir.join("postgresql.conf"),
            &format!("\nport = {}\ncluster_name = '{}'\n", server.port, server.name),
        );
    }

    pub async fn start_server(&self, server: &Server) {
        let log = self.root.join(format!("{}.log", server.name));
        self.pg_ctl(
            &["-D", server.dir.to_str().unwrap(), "-l", log.to_str().unwrap(), "-w", "-t", "60", "start"],
            false,
        )
        .await;
    }

    pub async fn stop_server(&self, server: &Server) {
        self.pg_ctl(&["-D", server.dir.to_str().unwrap(), "-m", "fast", "-w", "-t", "60", "stop"], false)
            .await;
    }

    pub async fn is_running(&self, server: &Server) -> bool {
        self.pg_ctl(&["-D", server.dir.to_str().unwrap(), "status"], true).await.status.success()
    }

    pub async fn promote(&self, server: &Server) {
        self.pg_ctl(&["-D", server.dir.to_str().unwrap(), "-w", "-t", "60", "promote"], false).await;
    }

    /// Turns a promoted (or broken) replica back into a streaming replica of the primary, on
    /// the same port.
    pub async fn rebuild_replica(&self, server: &Server) {
        if self.is_running(server).await {
            self.stop_server(server).await;
        }
        std::fs::remove_dir_all(&server.dir).expect("remove the old replica");
        self.base_backup(server).await;
        self.start_server(server).await;
    }

    /// Stops a replica made by [`add_replica`](Self::add_replica) and deletes it.
    pub async fn remove_replica(&self, server: &Server) {
        if self.is_running(server).await {
            self.stop_server(server).await;
        }
        std::fs::remove_dir_all(&server.dir).expect("remove the replica");
        self.replicas.lock().unwrap().retain(|s| s != server);
    }

    /// The port of a pgBouncer in front of the primary in `mode` (`transaction`, `statement`),
    /// started on first use and stopped with the cluster.
    pub async fn pgbouncer_in_mode(&self, mode: &str) -> u16 {
        if let Some((_, b)) = self.other_pgbouncers.lock().unwrap().iter().find(|(m, _)| m == mode) {
            return b.port;
        }
        let bouncer = self.start_pgbouncer(mode).await;
        let port = bouncer.port;
        self.other_pgbouncers.lock().unwrap().push((mode.to_string(), bouncer));
        port
    }

    async fn start_pgbouncer(&self, mode: &str) -> PgBouncer {
        let primary = self.primary();
        let port = free_port();
        let name = if mode == "session" { "pgbouncer".to_string() } else { format!("pgbouncer-{mode}") };
        let auth = self.root.join(format!("{name}.auth"));
        let ini = self.root.join(format!("{name}.ini"));
        let pidfile = self.root.join(format!("{name}.pid"));
        self.write_owned(&auth, &format!("\"postgres\" \"{}\"\n", PASSWORD.replace('"', "\"\"")));
        self.write_owned(
            &ini,
            &format!(
                "[databases]\npostgres = host=127.0.0.1 port={} dbname=postgres\n\n[pgbouncer]\n\
                 listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir = {root}\n\
                 auth_type = scram-sha-256\nauth_file = {auth}\npool_mode = {mode}\n\
                 pidfile = {pid}\nlogfile = {root}/{name}.log\nmax_client_conn = 200\n\
                 default_pool_size = 40\n",
                primary.port,
                root = self.root.display(),
                auth = auth.display(),
                pid = pidfile.display(),
            ),
        );
        let bin = pgbouncer_bin().expect("checked at start");
        self.run(&bin, &["-d", ini.to_str().unwrap()], false).await;
        wait_until("pgbouncer accepts connections", || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok()
        })
        .await;
        PgBouncer { port, pidfile }
    }

    /// A superuser connection to a server.
    pub async fn connect(&self, server: &Server) -> Client {
        let (client, conn) = tokio_postgres::connect(&server.url(), NoTls)
            .await
            .unwrap_or_else(|e| panic!("connect to {}: {e}", server.name));
        tokio::spawn(conn);
        client
    }

    pub async fn sql(&self, server: &Server, sql: &str) {
        self.connect(server)
            .await
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("on {}: {sql}: {e}", server.name));
    }

    pub async fn pause_replay(&self, replica: &Server) {
        self.sql(replica, "SELECT pg_wal_replay_pause()").await;
    }

    pub async fn resume_replay(&self, replica: &Server) {
        self.sql(replica, "SELECT pg_wal_replay_resume()").await;
    }

    /// Hangs a server: SIGSTOP to its postmaster and every backend (a frozen VM, a stuck
    /// disk). The guard sends SIGCONT when dropped — also when the test panics — so no test
    /// leaves a frozen server behind.
    pub fn freeze(&self, server: &Server) -> Frozen {
        let pid_file = std::fs::read_to_string(server.dir.join("postmaster.pid"))
            .unwrap_or_else(|e| panic!("{} has no postmaster.pid: {e}", server.name));
        let postmaster: u32 = pid_file.lines().next().and_then(|l| l.trim().parse().ok()).expect("a pid");
        Frozen::stop(postmaster)
    }

    /// Waits until `replica` has replayed everything the primary has written so far.
    pub async fn wait_replayed(&self, replica: &Server) {
        let (lsn, replayed) = self.replays_within(replica, Duration::from_secs(60)).await;
        assert!(replayed, "gave up waiting for: {} replays up to {lsn}", replica.name);
    }

    /// The primary's current position, and whether `replica` replayed up to it within `limit`.
    async fn replays_within(&self, replica: &Server, limit: Duration) -> (String, bool) {
        let primary = self.connect(&self.primary()).await;
        let lsn: String =
            primary.query_one("SELECT pg_current_wal_lsn()::text", &[]).await.expect("primary LSN").get(0);
        let r = self.connect(replica).await;
        let r = &r;
        let at = &lsn;
        let replayed = holds_within(limit, || async move {
            r.query_one("SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", &[at])
                .await
                .map(|row| row.get::<_, bool>(0))
                .unwrap_or(false)
        })
        .await;
        (lsn, replayed)
    }

    /// Puts everything back the way [`start`](Self::start) left it: every server running,
    /// every replica a replica again and replaying.
    pub async fn heal(&self) {
        let primary = self.primary();
        if !self.is_running(&primary).await {
            self.start_server(&primary).await;
        }
        for replica in self.replicas() {
            if !self.is_running(&replica).await {
                self.start_server(&replica).await;
            }
            let c = self.connect(&replica).await;
            let row = c
                .query_one(
                    "SELECT pg_is_in_recovery(), pg_is_in_recovery() AND pg_is_wal_replay_paused()",
                    &[],
                )
                .await
                .expect("replica state");
            if !row.get::<_, bool>(0) {
                self.rebuild_replica(&replica).await;
            } else if row.get::<_, bool>(1) {
                self.resume_replay(&replica).await;
            }
        }
        // A replica whose stream broke while it was cut off or frozen may need WAL the primary
        // no longer keeps (wal_keep_size bounds it): it is rebuilt rather than waited for.
        for replica in self.replicas() {
            if !self.replays_within(&replica, Duration::from_secs(20)).await.1 {
                eprintln!("heal: {} did not catch up within 20 s; rebuilding it", replica.name);
                self.rebuild_replica(&replica).await;
                self.wait_replayed(&replica).await;
            }
        }
    }

    /// Stops every server and pgBouncer and removes the directory. Idempotent; also run by
    /// `Drop`.
    pub fn shutdown(&self) {
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(b) = self.pgbouncer.lock().unwrap_or_else(|p| p.into_inner()).take() {
            kill_pidfile(&b.pidfile);
        }
        for (_, b) in self.other_pgbouncers.lock().unwrap_or_else(|p| p.into_inner()).drain(..) {
            kill_pidfile(&b.pidfile);
        }
        let mut servers: Vec<Server> =
            self.replicas.lock().unwrap_or_else(|p| p.into_inner()).drain(..).collect();
        servers.extend(self.primary.lock().unwrap_or_else(|p| p.into_inner()).take());
        for s in &servers {
            stop_immediately(&self.bin, &s.dir, self.owner);
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn kill_pidfile(pidfile: &Path) {
    if let Ok(pid) = std::fs::read_to_string(pidfile) {
        let _ = std::process::Command::new("kill").arg(pid.trim()).status();
    }
}

fn stop_immediately(bin: &Path, dir: &Path, owner: Option<(u32, u32)>) {
    if !dir.join("postmaster.pid").exists() {
        return;
    }
    let mut cmd = std::process::Command::new(bin.join("pg_ctl"));
    cmd.args(["-D", dir.to_str().unwrap_or_default(), "-m", "immediate", "-w", "-t", "30", "stop"])
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some((uid, gid)) = owner {
        use std::os::unix::process::CommandExt;
        cmd.uid(uid).gid(gid);
    }
    let _ = cmd.status();
}

/// A SCRAM-SHA-256 secret as PostgreSQL stores it (`rolpassword`), with `iterations` rounds.
pub fn scram_secret(password: &str, iterations: u32) -> String {
    use base64::{engine::general_purpose::STANDARD, Engine};
    use hmac::{Hmac, KeyInit, Mac};
    use sha2::{Digest, Sha256};
    type HmacSha256 = Hmac<Sha256>;
    let hmac = |key: &[u8], data: &[u8]| -> Vec<u8> {
        let mut m = HmacSha256::new_from_slice(key).expect("any key length");
        m.update(data);
        m.finalize().into_bytes().to_vec()
    };
    let salt: Vec<u8> = (0..16).map(|_| fastrand::u8(..)).collect();
    let mut u = hmac(password.as_bytes(), &[salt.as_slice(), &1u32.to_be_bytes()].concat());
    let mut salted = u.clone();
    for _ in 1..iterations {
        u = hmac(password.as_bytes(), &u);
        salted.iter_mut().zip(&u).for_each(|(s, x)| *s ^= x);
    }
    let client_key = hmac(&salted, b"Client Key");
    let stored_key = Sha256::digest(&client_key);
    let server_key = hmac(&salted, b"Server Key");
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        STANDARD.encode(&salt),
        STANDARD.encode(stored_key),
        STANDARD.encode(server_key)
    )
}

/// Stops and removes clusters left by runs that were killed outright (their owner is gone).
fn remove_stale_clusters(bin: &Path) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    let owner = postgres_owner();
    for entry in entries.flatten() {
        let path = entry.path();
        let is_ours = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(DIR_PREFIX));
        if !is_ours {
            continue;
        }
        match std::fs::read_to_string(path.join("owner.pid")) {
            Ok(pid) if pid_alive(&pid) => continue,
            _ => {}
        }
        for mode in ["", "-transaction", "-statement"] {
            kill_pidfile(&path.join(format!("pgbouncer{mode}.pid")));
        }
        if let Ok(dirs) = std::fs::read_dir(&path) {
            for d in dirs.flatten() {
                stop_immediately(bin, &d.path(), owner);
            }
        }
        let _ = std::fs::remove_dir_all(&path);
    }
}
