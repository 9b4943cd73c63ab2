//! Database URLs: parsing, splitting a list of them, and naming them without secrets.
//!
//! A [`DbUrl`] shows itself (Display and Debug) as `host:port/db`; it never prints its
//! password, and neither does anything built from it. [`Redactor`] is the second line of
//! defence: every server or driver message the router stores or logs passes through it.

use std::{fmt, str::FromStr};

use tokio_postgres::config::{Host, TargetSessionAttrs};

use crate::{
    conninfo::{self, SessionAttrs},
    error::ConfigError,
    tls::MakeTls,
    url::{self, percent_encode},
};

/// A parsed PostgreSQL URL (or libpq key/value string) with a password-free display name.
///
/// Parsed as libpq parses it (see [`DbUrl::parse`]), TLS included: `sslmode` (`disable`,
/// `prefer` — the default —, `require`, `verify-ca`, `verify-full`), `sslrootcert`, `sslcert`,
/// `sslkey`, `sslnegotiation`.
#[derive(Clone)]
pub struct DbUrl {
    config: tokio_postgres::Config,
    session_attrs: SessionAttrs,
    tls: MakeTls,
    name: String,
    secrets: Vec<String>,
}

impl DbUrl {
    /// Parses a URL such as `postgres://user:password@host:5432/db`, or a libpq key/value
    /// string (`host=h user=u password='p w' dbname=d`), as libpq does: percent-decoding,
    /// multi-host lists (`postgres://u:p@h1:5432,h2:5433/db`), query parameters.
    ///
    /// One difference: the user information of a URL ends at its last `@` before the `?`,
    /// so an unencoded `@` in a password works (`postgres://app:P@ss@host/db`); an `@` in the
    /// database name and a `?` in the password must then be percent-encoded. Certificate files
    /// (`sslrootcert`, `sslcert`, `sslkey`) are read here. An error never repeats the text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        Self::parse_as(text, "database URL")
    }

    pub(crate) fn parse_as(text: &str, what: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: String| ConfigError::InvalidUrl { what: what.to_string(), reason };
        let settings = url::settings(text).map_err(invalid)?;
        let built = conninfo::build(settings).map_err(invalid)?;
        let tls = built.tls.connector().map_err(invalid)?;
        let name = display_name(&built.config);
        let mut secrets = Vec::new();
        if let Some(pw) = built.config.get_password() {
            let encoded = percent_encode(pw);
            secrets.push(String::from_utf8_lossy(pw).into_owned());
            secrets.push(encoded.to_ascii_lowercase());
            secrets.push(encoded);
        }
        secrets.retain(|s| !s.is_empty());
        secrets.sort();
        secrets.dedup();
        Ok(Self { config: built.config, session_attrs: built.session_attrs, tls, name, secrets })
    }

    /// `host:port/db` (hosts joined by `,` for a multi-host URL). Never holds a password.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The parsed `tokio-postgres` configuration (its own `Debug` redacts the password).
    /// Its `ssl_mode` is what tokio-postgres knows (`verify-ca` and `verify-full` read as
    /// `require`; the certificate checks are in the router's TLS connector).
    pub fn pg_config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// The configuration for a pool whose sessions are read-only (replicas, fallthrough).
    ///
    /// `target_session_attrs` cannot pick a host there: the router makes every such session
    /// read-only at startup, so `read-write` or `primary` would refuse every host
    /// (tokio-postgres asks `SHOW transaction_read_only`). Such a URL — typically the
    /// primary's failover URL, which the fallthrough pool uses by default — connects to the
    /// first host that answers.
    pub(crate) fn read_only_config(&self) -> tokio_postgres::Config {
        let mut config = self.config.clone();
        config.target_session_attrs(TargetSessionAttrs::Any);
        config
    }

    pub(crate) fn session_attrs(&self) -> SessionAttrs {
        self.session_attrs
    }

    /// The TLS connector for this URL's connections.
    pub(crate) fn tls(&self) -> MakeTls {
        self.tls.clone()
    }

    pub(crate) fn secrets(&self) -> &[String] {
        &self.secrets
    }
}

impl FromStr for DbUrl {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbUrl({})", self.name)
    }
}

fn display_name(config: &tokio_postgres::Config) -> String {
    let ports = config.get_ports();
    let port_at = |i: usize| ports.get(i).or(ports.first()).copied().unwrap_or(5432);
    let mut hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                Host::Tcp(h) => h.clone(),
                Host::Unix(p) => p.display().to_string(),
            };
            bracket(host, port_at(i))
        })
        .collect();
    if hosts.is_empty() {
        hosts = config
            .get_hostaddrs()
            .iter()
            .enumerate()
            .map(|(i, a)| bracket(a.to_string(), port_at(i)))
            .collect();
    }
    let db = config.get_dbname().or(config.get_user()).unwrap_or("postgres");
    format!("{}/{}", hosts.join(","), db)
}

fn bracket(host: String, port: u16) -> String {
    if host.contains(':') && !host.starts_with('/') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Splits a comma-separated list of URLs. A comma starts a new entry only where a URL scheme
/// follows it, so a libpq multi-host URL (`postgres://u:p@h1:5432,h2:5433/db`) stays whole.
/// Entries separated by anything but a comma (`;`, a space) are an error, and so is text
/// before the first URL; an entry of another scheme stays its own entry (and fails to parse
/// as a PostgreSQL URL). Errors never repeat the list.
///
/// ```
/// let urls = ro_router::split_url_list(
///     "postgres://u:p@h1:5432,h2:5433/db, postgresql://u:p@h3/db",
/// )
/// .unwrap();
/// assert_eq!(urls, ["postgres://u:p@h1:5432,h2:5433/db", "postgresql://u:p@h3/db"]);
/// assert!(ro_router::split_url_list("postgres://u:p@h1/db;postgres://u:p@h2/db").is_err());
/// ```
pub fn split_url_list(list: &str) -> Result<Vec<String>, ConfigError> {
    split_url_list_as(list, "the URL list")
}

pub(crate) fn split_url_list_as(list: &str, what: &str) -> Result<Vec<String>, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidVar { var: what.to_string(), reason };
    let list = list.trim();
    let starts = scheme_starts(list);
    if starts.first().is_some_and(|&s| s > 0) {
        return Err(invalid("the list must start with a postgres:// URL".into()));
    }
    let mut out = Vec::new();
    let mut start = 0;
    for (n, &next) in starts.iter().enumerate().skip(1) {
        let before = list[start..next].trim_end();
        let Some(entry) = before.strip_suffix(',') else {
            let sep = match before.chars().last() {
                Some(c) if c.is_ascii_punctuation() => format!("'{c}'"),
                _ => "a space".to_string(),
            };
            return Err(invalid(format!(
                "URLs must be separated by commas, but URL {} follows {sep} (a password with \
                 \"://\" in it must be percent-encoded)",
                n + 1
            )));
        };
        out.push(entry.trim().to_string());
        start = next;
    }
    out.push(list[start..].trim().trim_end_matches(',').trim().to_string());
    out.retain(|s| !s.is_empty());
    Ok(out)
}

/// Byte offsets where a `scheme://` starts.
fn scheme_starts(list: &str) -> Vec<usize> {
    let is_scheme_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.');
    let mut starts = Vec::new();
    for (pos, _) in list.match_indices("://") {
        let start = list[..pos].rfind(|c: char| !is_scheme_char(c)).map_or(0, |i| i + 1);
        if start < pos && url::has_scheme(&list[start..]) {
            starts.push(start);
        }
    }
    starts
}

/// Removes every configured password (as given and percent-encoded) from text before it is
/// stored in an error, a health report or a log line.
#[derive(Clone, Default)]
pub(crate) struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    pub(crate) fn add(&mut self, url: &DbUrl) {
        for s in url.secrets() {
            // A one- or two-character password cannot be told apart from ordinary text.
            if s.len() >= 3 && !self.secrets.contains(s) {
                self.secrets.push(s.clone());
            }
        }
        // Longest first, so that an encoded form is replaced before its decoded substring.
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    pub(crate) fn redact(&self, text: impl Into<String>) -> String {
        let mut text = text.into();
        for s in &self.secrets {
            if text.contains(s.as_str()) {
                text = text.replace(s.as_str(), "***");
            }
        }
        text
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PW: &str = "s3cr#t/pw:x";

    fn url() -> String {
        format!("postgres://app:{}@db1.internal:6432/shop", percent_encode(PW.as_bytes()))
    }

    #[test]
    fn name_is_host_port_db() {
        let u = DbUrl::parse(&url()).unwrap();
        assert_eq!(u.name(), "db1.internal:6432/shop");
        assert_eq!(u.pg_config().get_password(), Some(PW.as_bytes()));
    }

    #[test]
    fn name_defaults_port_and_db() {
        assert_eq!(DbUrl::parse("postgres://u@h").unwrap().name(), "h:5432/u");
        assert_eq!(DbUrl::parse("host=a,b port=1,2 dbname=d user=u").unwrap().name(), "a:1,b:2/d");
        assert_eq!(DbUrl::parse("postgres://u@[::1]:7/d").unwrap().name(), "[::1]:7/d");
    }

    #[test]
    fn display_and_debug_hide_the_password() {
        let u = DbUrl::parse(&url()).unwrap();
        for shown in [format!("{u}"), format!("{u:?}"), format!("{u:#?}")] {
            assert!(!shown.contains("s3cr"), "{shown}");
        }
    }

    #[test]
    fn split_keeps_multi_host_urls_whole() {
        assert_eq!(
            split_url_list("postgres://a:b@h1:1,h2:2/d,postgres://c@h3/d,").unwrap(),
            ["postgres://a:b@h1:1,h2:2/d", "postgres://c@h3/d"]
        );
        assert_eq!(split_url_list("").unwrap(), Vec::<String>::new());
        assert_eq!(split_url_list("postgresql://x@y/z").unwrap(), ["postgresql://x@y/z"]);
        assert_eq!(
            split_url_list("postgres://a:Zq9@h1/d, mysql://a:Zq9@h2/d").unwrap(),
            ["postgres://a:Zq9@h1/d", "mysql://a:Zq9@h2/d"]
        );
    }

    #[test]
    fn split_refuses_other_separators_without_showing_the_list() {
        for (list, sep) in [
            ("postgres://a:Zq9@h1/d;postgres://a:Zq9@h2/d", "';'"),
            ("postgres://a:Zq9@h1/d postgres://a:Zq9@h2/d", "a space"),
            ("postgres://a:Zq9@h1/d ; postgresql://a:Zq9@h2/d", "';'"),
        ] {
            let e = split_url_list(list).unwrap_err().to_string();
            assert!(e.contains(&format!("URL 2 follows {sep}")), "{list}: {e}");
            assert!(!e.contains("Zq9"), "{e}");
        }
        let e = split_url_list("Zq9, postgres://a@h/d").unwrap_err().to_string();
        assert!(e.contains("must start with a postgres:// URL") && !e.contains("Zq9"), "{e}");
    }

    #[test]
    fn invalid_url_error_names_no_password() {
        let err = DbUrl::parse_as("postgres://u:hunter2@h:notaport/db", "DB_PRIMARY_URL").unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("DB_PRIMARY_URL"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(DbUrl::parse("postgres:///db").is_err());
    }

    #[test]
    fn redactor_removes_raw_and_encoded_passwords() {
        let mut r = Redactor::default();
        r.add(&DbUrl::parse(&url()).unwrap());
        let text = format!("a {PW} b {} c", percent_encode(PW.as_bytes()));
        assert_eq!(r.redact(text), "a *** b *** c");
    }
}
