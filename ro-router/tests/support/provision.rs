//! Provisioning of the server binaries the cluster needs: PostgreSQL 15 and pgBouncer.
//!
//! When one is missing, [`decide`] says what to do: as root on a machine with `apt-get`, run
//! the repository's own `ro-router/scripts/install-test-servers` (Debian packages, services
//! kept from starting, once under a lock); otherwise fail with a message that names the
//! package. `RO_ROUTER_NO_INSTALL=1` turns the install off. Nothing here is ever skipped
//! silently: the cluster either gets its binaries or the run fails saying which are missing.

use std::path::{Path, PathBuf};

/// A Debian package the cluster needs, and why (the binary that was not found).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub package: &'static str,
    pub why: String,
}

/// What to do about missing binaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Everything is there.
    Ready,
    /// Run the install script for these packages.
    Install(Vec<&'static str>),
    /// Fail with this message.
    Fail(String),
}

/// What the machine allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    pub root: bool,
    pub apt_get: bool,
    pub install_allowed: bool,
}

impl Machine {
    /// This machine, as the harness sees it.
    pub fn current() -> Self {
        let root = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("Uid:"))
                    .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
            })
            .unwrap_or(false);
        let apt_get = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join("apt-get").is_file()))
            .unwrap_or(false);
        let install_allowed =
            std::env::var_os("RO_ROUTER_NO_INSTALL").is_none_or(|v| v.is_empty() || v == "0");
        Self { root, apt_get, install_allowed }
    }
}

/// The packages missing for a cluster with PostgreSQL's binaries in `bin` and pgBouncer at
/// `pgbouncer` (`None` = not found; pass `Some` of anything when pgBouncer is not wanted).
pub fn missing(bin: &Path, pgbouncer: Option<&Path>) -> Vec<Missing> {
    let mut out = Vec::new();
    if let Some(tool) =
        ["initdb", "pg_ctl", "pg_basebackup", "postgres"].iter().find(|t| !bin.join(t).exists())
    {
        out.push(Missing {
            package: "postgresql-15",
            why: format!("{} not found", bin.join(tool).display()),
        });
    }
    if pgbouncer.is_none() {
        out.push(Missing { package: "pgbouncer", why: "pgbouncer not found".to_string() });
    }
    out
}

/// Decides between going on, installing and failing.
pub fn decide(missing: &[Missing], machine: Machine) -> Decision {
    if missing.is_empty() {
        return Decision::Ready;
    }
    if machine.root && machine.apt_get && machine.install_allowed {
        return Decision::Install(missing.iter().map(|m| m.package).collect());
    }
    let why: Vec<String> = missing.iter().map(|m| m.why.clone()).collect();
    let packages: Vec<&str> = missing.iter().map(|m| m.package).collect();
    let cannot = if !machine.install_allowed {
        "RO_ROUTER_NO_INSTALL is set"
    } else if !machine.root {
        "not running as root"
    } else {
        "apt-get not found"
    };
    Decision::Fail(format!(
        "{}: the real-server tests need PostgreSQL 15's server binaries and pgBouncer — install \
         the Debian package {} (apt-get install {}; {} could not do it here: {cannot}), or point \
         RO_ROUTER_PG_BIN at PostgreSQL 15's bin directory",
        why.join("; "),
        packages.join(" and "),
        packages.join(" "),
        script().display(),
    ))
}

/// The repository's install script.
pub fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/install-test-servers")
}

/// Makes sure the binaries are there: installs them when [`decide`] says so, and panics with
/// the message naming the package otherwise. `find` looks the binaries up (again after an
/// install).
pub fn ensure(find: impl Fn() -> Vec<Missing>) {
    match decide(&find(), Machine::current()) {
        Decision::Ready => {}
        Decision::Fail(message) => panic!("{message}"),
        Decision::Install(packages) => {
            eprintln!("installing {} with {}", packages.join(" "), script().display());
            let status = std::process::Command::new(script())
                .stdin(std::process::Stdio::null())
                .status()
                .unwrap_or_else(|e| panic!("could not run {}: {e}", script().display()));
            let still = find();
            if !status.success() || !still.is_empty() {
                let why: Vec<String> = still.iter().map(|m| format!("{} ({})", m.why, m.package)).collect();
                panic!(
                    "{} failed ({status}); still missing: {} — install the Debian package(s) by hand",
                    script().display(),
                    why.join("; ")
                );
            }
        }
    }
}
