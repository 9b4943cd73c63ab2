//! Opening a connection with the router's own socket under tokio-postgres, so that the
//! [`wire`](crate::wire) observer sees every byte, plain TCP included (tokio-postgres never
//! hands a plain socket to a TLS connector, and `Config::connect` gives no other way in).
//!
//! What `Config::connect` does is done here, as libpq does it: every host (or `hostaddr`) in
//! order, or shuffled with `load_balance_hosts=random`, every address a name resolves to,
//! Unix sockets (a host starting with `/`), `connect_timeout` per attempt, `TCP_NODELAY`,
//! keepalives (idle, interval, retries) and `TCP_USER_TIMEOUT`; then the startup over the
//! observed socket (`Config::connect_raw`), and the `target_session_attrs` check
//! (`SHOW transaction_read_only`). The last host's error is returned, cause chain intact.
//!
//! A connection's [`Peer`] (the address reached, the host name TLS checked) is kept, so that
//! a cancel request ([`send_cancel`]) reaches the same server over the same kind of socket.
//!
//! Nothing here decides what a session may do; nothing here logs.

use std::{
    future::{poll_fn, Future},
    io,
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
    pin::{pin, Pin},
    task::{Context, Poll},
    time::Duration,
};

use socket2::{SockRef, TcpKeepalive};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpStream, UnixStream},
};
use tokio_postgres::{
    config::{Host, LoadBalanceHosts, TargetSessionAttrs},
    CancelToken, Client, Config, SimpleQueryMessage,
};

use crate::{
    error::OpenError,
    tls::{MakeTls, TlsStream},
    wire::{Observed, Observer},
};

/// A connection's socket: TCP or a Unix socket.
#[derive(Debug)]
pub(crate) enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

/// A connection as the router drives it: observed below TLS (until TLS starts) and above it.
pub(crate) type PgConnection = tokio_postgres::Connection<Observed<Socket>, Observed<TlsStream>>;

/// A new connection, its task's future, its observer and where it was opened.
pub(crate) type Dialed = (Client, PgConnection, Observer, Peer);

/// Where a connection was opened: the address it reached and the host name TLS checked.
#[derive(Debug, Clone)]
pub(crate) struct Peer {
    place: Place,
    name: Option<String>,
}

#[derive(Debug, Clone)]
enum Place {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

/// Connects as `Config::connect` would, over an observed socket.
pub(crate) async fn connect(config: &Config, tls: &MakeTls) -> Result<Dialed, OpenError> {
    let hosts = config.get_hosts();
    let hostaddrs = config.get_hostaddrs();
    let count = hosts.len().max(hostaddrs.len());
    let ports = config.get_ports();
    let mut order: Vec<usize> = (0..count).collect();
    let random = config.get_load_balance_hosts() == LoadBalanceHosts::Random;
    if random {
        fastrand::shuffle(&mut order);
    }
    let mut last = None;
    for i in order {
        let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        // The host names the server for TLS; hostaddr, when given, is where to connect.
        let name = match hosts.get(i) {
            Some(Host::Tcp(h)) => Some(h.as_str()),
            _ => None,
        };
        let attempt = match (hostaddrs.get(i), hosts.get(i)) {
            (Some(addr), _) => connect_tcp(&[*addr], name, port, config, tls).await,
            (None, Some(Host::Tcp(h))) => match tokio::net::lookup_host((h.as_str(), port)).await {
                Ok(found) => {
                    let mut addrs: Vec<IpAddr> = found.map(|a| a.ip()).collect();
                    if random {
                        fastrand::shuffle(&mut addrs);
                    }
                    connect_tcp(&addrs, name, port, config, tls).await
                }
                Err(e) => Err(OpenError::Connect(e)),
            },
            (None, Some(Host::Unix(dir))) => connect_unix(dir, port, config, tls).await,
            (None, None) => Err(OpenError::Connect(io::Error::new(io::ErrorKind::InvalidInput, "no host"))),
        };
        match attempt {
            Ok(opened) => return Ok(opened),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| OpenError::Connect(io::Error::new(io::ErrorKind::InvalidInput, "no host"))))
}

async fn connect_tcp(
    addrs: &[IpAddr],
    name: Option<&str>,
    port: u16,
    config: &Config,
    tls: &MakeTls,
) -> Result<Dialed, OpenError> {
    let mut last = None;
    for addr in addrs {
        let place = Place::Tcp(SocketAddr::new(*addr, port));
        match reach(&place, config).await {
            Ok(socket) => {
                return start(socket, Peer { place, name: name.map(str::to_string) }, config, tls).await
            }
            Err(e) => last = Some(OpenError::Connect(e)),
        }
    }
    Err(last.unwrap_or_else(|| {
        OpenError::Connect(io::Error::new(io::ErrorKind::InvalidInput, "could not resolve any addresses"))
    }))
}

async fn connect_unix(dir: &Path, port: u16, config: &Config, tls: &MakeTls) -> Result<Dialed, OpenError> {
    let place = Place::Unix(dir.join(format!(".s.PGSQL.{port}")));
    let socket = reach(&place, config).await.map_err(OpenError::Connect)?;
    start(socket, Peer { place, name: None }, config, tls).await
}

/// Opens a socket to `place` with the config's connect timeout and socket options.
async fn reach(place: &Place, config: &Config) -> io::Result<Socket> {
    let timeout = config.get_connect_timeout();
    match place {
        Place::Tcp(addr) => {
            let stream = within(timeout, TcpStream::connect(addr)).await?;
            set_options(&stream, config)?;
            Ok(Socket::Tcp(stream))
        }
        Place::Unix(path) => within(timeout, UnixStream::connect(path)).await.map(Socket::Unix),
    }
}

/// Sends `token`'s cancel request to `peer` over a new socket opened as the connection's was
/// (timeouts, socket options, TLS as `token`'s sslmode asks).
pub(crate) async fn send_cancel(
    token: &CancelToken,
    peer: &Peer,
    config: &Config,
    tls: &MakeTls,
) -> Result<(), OpenError> {
    let socket = reach(&peer.place, config).await.map_err(OpenError::Connect)?;
    let stream = Observed::new(socket, Observer::default());
    token.cancel_query_raw(stream, tls.connector(peer.name.as_deref())).await?;
    Ok(())
}

async fn within<T>(
    timeout: Option<&Duration>,
    connect: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    match timeout {
        Some(t) => tokio::time::timeout(*t, connect)
            .await
            .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "connection timed out"))),
        None => connect.await,
    }
}

fn set_options(stream: &TcpStream, config: &Config) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let socket = SockRef::from(stream);
    #[cfg(target_os = "linux")]
    if let Some(t) = config.get_tcp_user_timeout() {
        socket.set_tcp_user_timeout(Some(*t))?;
    }
    if config.get_keepalives() {
        let mut keepalive = TcpKeepalive::new().with_time(config.get_keepalives_idle());
        #[cfg(not(any(
            target_os = "openbsd",
            target_os = "solaris",
            target_os = "aix",
            target_os = "redox"
        )))]
        {
            if let Some(i) = config.get_keepalives_interval() {
                keepalive = keepalive.with_interval(i);
            }
            if let Some(r) = config.get_keepalives_retries() {
                keepalive = keepalive.with_retries(r);
            }
        }
        socket.set_tcp_keepalive(&keepalive)?;
    }
    Ok(())
}

/// The startup over the observed socket, then the `target_session_attrs` check.
async fn start(socket: Socket, peer: Peer, config: &Config, tls: &MakeTls) -> Result<Dialed, OpenError> {
    let observer = Observer::default();
    let stream = Observed::new(socket, observer.clone());
    let (client, mut connection) = config.connect_raw(stream, tls.connector(peer.name.as_deref())).await?;
    let wanted = config.get_target_session_attrs();
    if wanted != TargetSessionAttrs::Any {
        let mut show = pin!(client.simple_query("SHOW transaction_read_only"));
        let answer = poll_fn(|cx| match Pin::new(&mut connection).poll(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(OpenError::Driver(e))),
            Poll::Ready(Ok(())) => Poll::Ready(Err(OpenError::Connect(io::ErrorKind::UnexpectedEof.into()))),
            Poll::Pending => show.as_mut().poll(cx).map_err(OpenError::Driver),
        })
        .await?;
        let read_only = answer.iter().find_map(|m| match m {
            SimpleQueryMessage::Row(r) => r.get(0).map(|v| v == "on"),
            _ => None,
        });
        let refusal = match (wanted, read_only) {
            (TargetSessionAttrs::ReadWrite, Some(true)) => Some("database does not allow writes"),
            (TargetSessionAttrs::ReadOnly, Some(false)) => Some("database is not read only"),
            (_, None) => Some("SHOW transaction_read_only gave no answer"),
            _ => None,
        };
        if let Some(why) = refusal {
            return Err(OpenError::Connect(io::Error::new(io::ErrorKind::PermissionDenied, why)));
        }
    }
    Ok((client, connection, observer, peer))
}

impl AsyncRead for Socket {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Self::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Self::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_flush(cx),
            Self::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Self::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Self::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Tcp(s) => s.is_write_vectored(),
            Self::Unix(s) => s.is_write_vectored(),
        }
    }
}
