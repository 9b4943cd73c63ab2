//! libpq settings (keyword, value) turned into a tokio-postgres configuration, the TLS options
//! and libpq's `target_session_attrs`: the one place that knows what each keyword means.
//!
//! A reason for an error names the keyword, never a value (a value may be a password, or a
//! fragment of one in a malformed URL); a keyword ro-router does not know is named only by
//! its position.

use std::{net::IpAddr, time::Duration};

use tokio_postgres::config::{ChannelBinding, LoadBalanceHosts, SslNegotiation, TargetSessionAttrs};

use crate::{
    tls::{SslMode, TlsOptions},
    url::{parse_port, Setting},
};

/// libpq's `target_session_attrs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionAttrs {
    Any,
    ReadWrite,
    ReadOnly,
    Primary,
    Standby,
    PreferStandby,
}

impl SessionAttrs {
    fn parse(value: &str) -> Result<Self, String> {
        Ok(match value {
            "any" => Self::Any,
            "read-write" => Self::ReadWrite,
            "read-only" => Self::ReadOnly,
            "primary" => Self::Primary,
            "standby" => Self::Standby,
            "prefer-standby" => Self::PreferStandby,
            _ => {
                return Err("target_session_attrs is not one of any, read-write, read-only, primary, \
                            standby, prefer-standby"
                    .into())
            }
        })
    }

    /// Whether a server these attributes accept can be a primary that takes writes.
    pub(crate) fn admits_primary(self) -> bool {
        matches!(self, Self::Any | Self::ReadWrite | Self::Primary)
    }

    /// What tokio-postgres checks (it knows any, read-write and read-only).
    fn driver(self) -> TargetSessionAttrs {
        match self {
            Self::Any => TargetSessionAttrs::Any,
            Self::ReadWrite | Self::Primary => TargetSessionAttrs::ReadWrite,
            Self::ReadOnly | Self::Standby | Self::PreferStandby => TargetSessionAttrs::ReadOnly,
        }
    }
}

/// What a connection string says.
pub(crate) struct Built {
    pub(crate) config: tokio_postgres::Config,
    pub(crate) session_attrs: SessionAttrs,
    pub(crate) tls: TlsOptions,
}

/// Applies the settings in order (a later one wins, as in libpq).
pub(crate) fn build(settings: Vec<Setting>) -> Result<Built, String> {
    let mut config = tokio_postgres::Config::new();
    let mut hosts: Vec<String> = Vec::new();
    let mut hostaddrs: Vec<IpAddr> = Vec::new();
    let mut ports: Vec<u16> = Vec::new();
    let mut session_attrs = SessionAttrs::Any;
    let mut tls = TlsOptions::default();
    let mut fallback_application_name = None;
    for (i, (key, value)) in settings.into_iter().enumerate() {
        if key == "password" {
            config.password(value);
            continue;
        }
        let value = String::from_utf8(value)
            .map_err(|_| format!("the value of {} is not UTF-8", describe_key(&key, i)))?;
        match key.as_str() {
            "host" => hosts = value.split(',').map(str::to_string).collect(),
            "hostaddr" => {
                hostaddrs = value
                    .split(',')
                    .map(|a| {
                        a.trim().parse().map_err(|_| "hostaddr is not a list of IP addresses".to_string())
                    })
                    .collect::<Result<_, _>>()?
            }
            "port" => {
                ports = value
                    .split(',')
                    .map(|p| if p.is_empty() { Ok(5432) } else { parse_port(p.trim()) })
                    .collect::<Result<_, _>>()?
            }
            "user" => {
                config.user(shown_name(&key, &value)?);
            }
            "dbname" => {
                config.dbname(shown_name(&key, &value)?);
            }
            "options" => {
                config.options(&value);
            }
            "application_name" => {
                config.application_name(&value);
            }
            "fallback_application_name" => fallback_application_name = Some(value),
            "connect_timeout" => {
                let d = Duration::from_secs(number(&key, &value)?);
                if !d.is_zero() {
                    config.connect_timeout(d);
                }
            }
            "keepalives" => {
                config.keepalives(match value.as_str() {
                    "1" => true,
                    "0" => false,
                    _ => return Err("keepalives is not 0 or 1".into()),
                });
            }
            "keepalives_idle" => {
                config.keepalives_idle(Duration::from_secs(number_at_most(&key, &value, MAX_TCP_KEEP_SECS)?));
            }
            "keepalives_interval" => {
                config.keepalives_interval(Duration::from_secs(number_at_most(
                    &key,
                    &value,
                    MAX_TCP_KEEP_SECS,
                )?));
            }
            "keepalives_count" | "keepalives_retries" => {
                config.keepalives_retries(number_at_most(&key, &value, MAX_TCP_KEEPCNT)? as u32);
            }
            "tcp_user_timeout" => {
                config.tcp_user_timeout(Duration::from_millis(number_at_most(
                    &key,
                    &value,
                    MAX_TCP_USER_TIMEOUT_MS,
                )?));
            }
            "target_session_attrs" => session_attrs = SessionAttrs::parse(&value)?,
            "channel_binding" => {
                config.channel_binding(match value.as_str() {
                    "disable" => ChannelBinding::Disable,
                    "prefer" => ChannelBinding::Prefer,
                    "require" => ChannelBinding::Require,
                    _ => return Err("channel_binding is not one of disable, prefer, require".into()),
                });
            }
            "load_balance_hosts" => {
                config.load_balance_hosts(match value.as_str() {
                    "disable" => LoadBalanceHosts::Disable,
                    "random" => LoadBalanceHosts::Random,
                    _ => return Err("load_balance_hosts is not one of disable, random".into()),
                });
            }
            "sslmode" => tls.mode = Some(SslMode::parse(&value)?),
            "sslnegotiation" => {
                config.ssl_negotiation(match value.as_str() {
                    "postgres" => SslNegotiation::Postgres,
                    "direct" => SslNegotiation::Direct,
                    _ => return Err("sslnegotiation is not one of postgres, direct".into()),
                });
            }
            "sslrootcert" => tls.root_cert = Some(value),
            "sslcert" => tls.cert = Some(value),
            "sslkey" => tls.key = Some(value),
            "client_encoding"
                if value.eq_ignore_ascii_case("utf8") || value.eq_ignore_ascii_case("utf-8") => {}
            "client_encoding" => {
                return Err("client_encoding must be UTF8 (the driver speaks UTF-8 only)".into())
            }
            // libpq's defaults, accepted: SNI is always sent for host names; no GSSAPI.
            "sslsni" if value == "1" => {}
            "gssencmode" if value == "disable" || value == "prefer" => {}
            _ => return Err(format!("{} is not supported by ro-router", describe_key(&key, i))),
        }
    }
    if config.get_application_name().is_none() {
        if let Some(name) = fallback_application_name {
            config.application_name(&name);
        }
    }
    add_servers(&mut config, hosts, hostaddrs, ports)?;
    config.target_session_attrs(session_attrs.driver());
    config.ssl_mode(tls.mode().driver_mode());
    Ok(Built { config, session_attrs, tls })
}

fn add_servers(
    config: &mut tokio_postgres::Config,
    hosts: Vec<String>,
    hostaddrs: Vec<IpAddr>,
    ports: Vec<u16>,
) -> Result<(), String> {
    if hosts.is_empty() && hostaddrs.is_empty() {
        return Err("it names no host".into());
    }
    if !hosts.is_empty() && !hostaddrs.is_empty() && hosts.len() != hostaddrs.len() {
        return Err("host and hostaddr list different numbers of servers".into());
    }
    let servers = hosts.len().max(hostaddrs.len());
    if ports.len() > 1 && ports.len() != servers {
        return Err("port lists a different number of ports than there are hosts".into());
    }
    let name_chars = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '%');
    for h in &hosts {
        if h.is_empty() {
            return Err("a host in the host list is empty".into());
        } else if !(h.starts_with('/') || h.chars().all(name_chars)) {
            return Err("a host holds characters that no host name has (in a URL, percent-encode a \
                        '?' in the password)"
                .into());
        } else if h.starts_with('/') {
            config.host_path(h);
        } else {
            config.host(h);
        }
    }
    // TLS needs a name: a hostaddr-only string uses the address as the name, as libpq does.
    if hosts.is_empty() {
        for a in &hostaddrs {
            config.host(a.to_string());
        }
    }
    for a in hostaddrs {
        config.hostaddr(a);
    }
    for p in ports {
        config.port(p);
    }
    Ok(())
}

/// Linux's limits for the socket options (larger values fail every connection with EINVAL).
pub(crate) const MAX_TCP_KEEP_SECS: u64 = 32_767;
const MAX_TCP_KEEPCNT: u64 = 127;
pub(crate) const MAX_TCP_USER_TIMEOUT_MS: u64 = i32::MAX as u64;

/// A user or database name, which the router shows (`host:port/db`): one holding `=` or `;`
/// is a misplaced setting or a run-on list, maybe with a password in it, and is refused.
fn shown_name<'a>(key: &str, value: &'a str) -> Result<&'a str, String> {
    if value.contains(['=', ';']) {
        return Err(format!("{key} holds '=' or ';': separate settings with spaces and URLs with commas"));
    }
    Ok(value)
}

fn number(key: &str, value: &str) -> Result<u64, String> {
    value.trim().parse().map_err(|_| format!("{key} is not a whole number"))
}

fn number_at_most(key: &str, value: &str, max: u64) -> Result<u64, String> {
    match number(key, value)? {
        n if n <= max => Ok(n),
        _ => Err(format!("{key} is larger than {max}, which the operating system refuses")),
    }
}

/// A keyword for an error message: named when it is a libpq keyword, otherwise by position
/// (an unknown name may be a fragment of a password in a malformed URL).
fn describe_key(key: &str, index: usize) -> String {
    const LIBPQ: &[&str] = &[
        "sslsni",
        "gssencmode",
        "sslpassword",
        "sslcrl",
        "sslcrldir",
        "sslcompression",
        "sslcertmode",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "requirepeer",
        "require_auth",
        "krbsrvname",
        "gsslib",
        "gssdelegation",
        "service",
        "passfile",
        "replication",
    ];
    if LIBPQ.contains(&key) {
        format!("the setting {key}")
    } else {
        format!("setting {} (not a connection parameter ro-router knows)", index + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::settings;

    fn built(text: &str) -> Result<Built, String> {
        build(settings(text)?)
    }

    #[test]
    fn keywords_reach_the_driver_config() {
        let b = built(
            "postgres://u:p@h1:5433,h2/d?target_session_attrs=read-write&sslmode=verify-full\
             &sslrootcert=/ca.pem&connect_timeout=7&application_name=app&keepalives_count=4",
        )
        .unwrap();
        assert_eq!(b.config.get_ports(), [5433, 5432]);
        assert_eq!(b.config.get_target_session_attrs(), TargetSessionAttrs::ReadWrite);
        assert_eq!(b.session_attrs, SessionAttrs::ReadWrite);
        assert_eq!(b.tls.mode(), SslMode::VerifyFull);
        assert_eq!(b.tls.root_cert.as_deref(), Some("/ca.pem"));
        assert_eq!(b.config.get_connect_timeout(), Some(&Duration::from_secs(7)));
        assert_eq!(b.config.get_application_name(), Some("app"));
        assert_eq!(b.config.get_keepalives_retries(), Some(4));
        assert_eq!(b.config.get_password(), Some(&b"p"[..]));
    }

    #[test]
    fn hostaddr_alone_is_also_the_tls_name() {
        let b = built("hostaddr=127.0.0.1 port=5433").unwrap();
        assert_eq!(b.config.get_hosts(), [tokio_postgres::config::Host::Tcp("127.0.0.1".into())]);
        assert_eq!(b.config.get_hostaddrs(), ["127.0.0.1".parse::<IpAddr>().unwrap()]);
    }

    #[test]
    fn default_sslmode_is_prefer() {
        assert_eq!(built("host=h").unwrap().tls.mode(), SslMode::Prefer);
    }

    #[test]
    fn bad_values_name_the_keyword_only() {
        for (text, expect) in [
            ("host=h sslmode=sometimes", "sslmode is not one of"),
            ("host=h sslmode=allow", "sslmode=allow is not supported"),
            ("host=h target_session_attrs=Zqx", "target_session_attrs is not one of"),
            ("host=h port=1,2,3 host=a,b", "port lists a different number"),
            ("host=h keepalives=Zqx", "keepalives is not 0 or 1"),
            ("host=h keepalives_idle=40000", "keepalives_idle is larger than 32767"),
            ("host=h tcp_user_timeout=9999999999", "tcp_user_timeout is larger than 2147483647"),
            ("host=h keepalives_count=128", "keepalives_count is larger than 127"),
            ("host=h Zqxpw=1", "setting 2 (not a connection parameter"),
            ("host=h sslpassword=Zqx", "the setting sslpassword is not supported"),
            ("dbname=d", "it names no host"),
            ("host=h dbname=d,password=Zqx", "dbname holds '=' or ';'"),
            ("host=h user=u;password=Zqx", "user holds '=' or ';'"),
            ("host=h;password=Zqx", "a host holds characters"),
        ] {
            let e = built(text).err().unwrap_or_else(|| panic!("{text} parsed"));
            assert!(e.contains(expect), "{text}: {e}");
            assert!(!e.contains("Zqx"), "{text}: {e}");
        }
    }
}
