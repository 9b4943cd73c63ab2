//! Database URLs: parsing, splitting a list of them, and naming them without secrets.
//!
//! A [`DbUrl`] shows itself (Display and Debug) as `host:port/db`; it never prints its
//! password, and neither does anything built from it. [`Redactor`] is the second line of
//! defence: every server or driver message the router stores or logs passes through it.

use std::{fmt, str::FromStr};

use tokio_postgres::config::Host;

use crate::error::ConfigError;

/// A parsed PostgreSQL URL (or libpq key/value string) with a password-free display name.
#[derive(Clone)]
pub struct DbUrl {
    config: tokio_postgres::Config,
    name: String,
    secrets: Vec<String>,
}

impl DbUrl {
    /// Parses a URL such as `postgres://user:password@host:5432/db` (multi-host URLs and
    /// key/value strings work too, as in libpq).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        Self::parse_as(text, "database URL")
    }

    pub(crate) fn parse_as(text: &str, what: &str) -> Result<Self, ConfigError> {
        let raw_secrets = raw_password_candidates(text);
        let config = tokio_postgres::Config::from_str(text.trim()).map_err(|e| {
            let mut reason = e.to_string();
            for s in &raw_secrets {
                if s.len() >= 3 {
                    reason = reason.replace(s.as_str(), "***");
                }
            }
            ConfigError::InvalidUrl { what: what.to_string(), reason }
        })?;
        if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
            return Err(ConfigError::InvalidUrl {
                what: what.to_string(),
                reason: "it names no host".to_string(),
            });
        }
        let name = display_name(&config);
        let mut secrets = raw_secrets;
        if let Some(pw) = config.get_password() {
            let pw = String::from_utf8_lossy(pw).into_owned();
            secrets.push(percent_encode(&pw));
            secrets.push(pw);
        }
        secrets.retain(|s| !s.is_empty());
        secrets.sort();
        secrets.dedup();
        Ok(Self { config, name, secrets })
    }

    /// `host:port/db` (hosts joined by `,` for a multi-host URL). Never holds a password.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The parsed `tokio-postgres` configuration (its own `Debug` redacts the password).
    pub fn pg_config(&self) -> &tokio_postgres::Config {
        &self.config
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

/// The password as written in the text (URL userinfo or `password=` key), before decoding, so
/// that a parse error can be cleaned of it.
fn raw_password_candidates(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(rest) =
        text.trim().strip_prefix("postgres://").or_else(|| text.trim().strip_prefix("postgresql://"))
    {
        if let Some(at) = rest.rfind('@') {
            let userinfo = &rest[..at];
            if let Some((_, pw)) = userinfo.split_once(':') {
                out.push(pw.to_string());
            }
        }
        if let Some(q) = rest.find('?') {
            for pair in rest[q + 1..].split('&') {
                if let Some(v) = pair.strip_prefix("password=") {
                    out.push(v.to_string());
                }
            }
        }
    } else {
        for word in text.split_whitespace() {
            if let Some(v) = word.strip_prefix("password=") {
                out.push(v.trim_matches('\'').to_string());
            }
        }
    }
    out
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Splits a comma-separated list of URLs. A comma starts a new entry only where a URL scheme
/// (`postgres://` or `postgresql://`) follows it, so a libpq multi-host URL
/// (`postgres://u:p@h1:5432,h2:5433/db`) stays whole.
///
/// ```
/// let urls = ro_router::split_url_list(
///     "postgres://u:p@h1:5432,h2:5433/db, postgresql://u:p@h3/db",
/// );
/// assert_eq!(urls, ["postgres://u:p@h1:5432,h2:5433/db", "postgresql://u:p@h3/db"]);
/// ```
pub fn split_url_list(list: &str) -> Vec<String> {
    let list = list.trim().trim_end_matches(',');
    let mut out = Vec::new();
    let mut start = 0;
    for (i, _) in list.match_indices(',') {
        let rest = list[i + 1..].trim_start();
        if rest.starts_with("postgres://") || rest.starts_with("postgresql://") {
            out.push(list[start..i].trim().to_string());
            start = i + 1;
        }
    }
    out.push(list[start..].trim().to_string());
    out.retain(|s| !s.is_empty());
    out
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
        format!("postgres://app:{}@db1.internal:6432/shop", percent_encode(PW))
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
            split_url_list("postgres://a:b@h1:1,h2:2/d,postgres://c@h3/d,"),
            ["postgres://a:b@h1:1,h2:2/d", "postgres://c@h3/d"]
        );
        assert_eq!(split_url_list(""), Vec::<String>::new());
        assert_eq!(split_url_list("postgresql://x@y/z"), ["postgresql://x@y/z"]);
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
        let text = format!("a {PW} b {} c", percent_encode(PW));
        assert_eq!(r.redact(text), "a *** b *** c");
    }
}
