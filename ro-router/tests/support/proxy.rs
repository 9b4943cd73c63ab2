//! A TCP proxy in front of a server that can cut the network in two ways: close every socket
//! (and refuse new connections by closing them), or hold every socket open and drop every byte
//! in both directions (a silent partition: TCP stays up, nothing arrives). `restore` forwards
//! again; connections that lived through a partition are closed then, as their byte streams
//! are broken.

use std::sync::{
    atomic::{AtomicU16, AtomicUsize, Ordering},
    Arc,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinHandle,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Forward,
    Closed,
    Blackhole,
}

#[derive(Debug)]
pub struct TcpProxy {
    pub port: u16,
    target: Arc<AtomicU16>,
    open: Arc<AtomicUsize>,
    mode: watch::Sender<Mode>,
    accept: JoinHandle<()>,
}

/// Counts a proxied connection while its task runs.
struct Open(Arc<AtomicUsize>);

impl Open {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count.clone())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl TcpProxy {
    pub async fn start(target_port: u16) -> Arc<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let (mode, _) = watch::channel(Mode::Forward);
        let modes = mode.clone();
        let target = Arc::new(AtomicU16::new(target_port));
        let open = Arc::new(AtomicUsize::new(0));
        let (t, o) = (target.clone(), open.clone());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let rx = modes.subscribe();
                let current = *rx.borrow();
                let counted = Open::new(&o);
                match current {
                    Mode::Closed => drop(client),
                    Mode::Blackhole => {
                        tokio::spawn(async move {
                            blackhole(client, rx).await;
                            drop(counted);
                        });
                    }
                    Mode::Forward => {
                        let port = t.load(Ordering::SeqCst);
                        tokio::spawn(async move {
                            if let Ok(server) = TcpStream::connect(("127.0.0.1", port)).await {
                                pipe(client, server, rx).await;
                            }
                            drop(counted);
                        });
                    }
                }
            }
        });
        Arc::new(Self { port, target, open, mode, accept })
    }

    /// New connections go to `port` (existing ones stay where they are), like a virtual IP
    /// moved to another server.
    pub fn retarget(&self, port: u16) {
        self.target.store(port, Ordering::SeqCst);
    }

    /// Connections currently proxied (or held in a partition).
    pub fn open_connections(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Closes every connection, and every new one at once; returns once the proxy's side of
    /// every connection is closed.
    pub async fn cut(&self) {
        self.mode.send_replace(Mode::Closed);
        super::wait_until("the proxy closed its connections", || async { self.open_connections() == 0 })
            .await;
    }

    /// Holds every connection open and drops every byte; new connections are accepted and
    /// get the same treatment.
    pub fn partition(&self) {
        self.mode.send_replace(Mode::Blackhole);
    }

    /// Forwards again.
    pub fn restore(&self) {
        self.mode.send_replace(Mode::Forward);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accept.abort();
        // Dropping the sender ends every connection task.
        self.mode.send_replace(Mode::Closed);
    }
}

async fn blackhole(mut client: TcpStream, mut mode: watch::Receiver<Mode>) {
    let mut buf = [0u8; 8192];
    loop {
        tokio::select! {
            r = client.read(&mut buf) => if matches!(r, Ok(0) | Err(_)) { return },
            changed = mode.changed() => {
                if changed.is_err() || *mode.borrow_and_update() != Mode::Blackhole {
                    return;
                }
            }
        }
    }
}

async fn pipe(mut client: TcpStream, mut server: TcpStream, mut mode: watch::Receiver<Mode>) {
    let (mut cr, mut cw) = client.split();
    let (mut sr, mut sw) = server.split();
    let mut up = [0u8; 16384];
    let mut down = [0u8; 16384];
    let mut silent = false;
    loop {
        tokio::select! {
            r = cr.read(&mut up) => {
                let n = match r { Ok(0) | Err(_) => return, Ok(n) => n };
                if !silent && sw.write_all(&up[..n]).await.is_err() { return }
            }
            r = sr.read(&mut down) => {
                let n = match r { Ok(0) | Err(_) => return, Ok(n) => n };
                if !silent && cw.write_all(&down[..n]).await.is_err() { return }
            }
            changed = mode.changed() => {
                if changed.is_err() { return }
                match *mode.borrow_and_update() {
                    Mode::Closed => return,
                    Mode::Blackhole => silent = true,
                    Mode::Forward => if silent { return },
                }
            }
        }
    }
}
