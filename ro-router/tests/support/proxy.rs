//! A TCP proxy in front of a server that can cut the network in two ways: close every socket
//! (and refuse new connections by closing them), or hold every socket open and drop every byte
//! in both directions (a silent partition: TCP stays up, nothing arrives). `restore` forwards
//! again; connections that lived through a partition are closed then, as their byte streams
//! are broken.

use std::sync::Arc;

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
    mode: watch::Sender<Mode>,
    accept: JoinHandle<()>,
}

impl TcpProxy {
    pub async fn start(target_port: u16) -> Arc<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let (mode, _) = watch::channel(Mode::Forward);
        let modes = mode.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let rx = modes.subscribe();
                let current = *rx.borrow();
                match current {
                    Mode::Closed => drop(client),
                    Mode::Blackhole => {
                        tokio::spawn(blackhole(client, rx));
                    }
                    Mode::Forward => {
                        tokio::spawn(async move {
                            if let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)).await
                            {
                                pipe(client, server, rx).await;
                            }
                        });
                    }
                }
            }
        });
        Arc::new(Self { port, mode, accept })
    }

    /// Closes every connection, and every new one at once.
    pub fn cut(&self) {
        self.mode.send_replace(Mode::Closed);
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
