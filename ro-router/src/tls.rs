//! TLS for every connection, on rustls (ring): libpq's `sslmode` (`disable`, `prefer`,
//! `require`, `verify-ca`, `verify-full`), `sslrootcert`, and a client certificate
//! (`sslcert` + `sslkey`), plugged into tokio-postgres as the `TlsConnect` of the router's own
//! observed socket (see [`crate::dial`]).
//!
//! What each mode checks, as in libpq: `prefer` and `require` encrypt without checking the
//! server's certificate (`require` with an `sslrootcert` checks it as `verify-ca` does);
//! `verify-ca` checks that a root of `sslrootcert` signed it; `verify-full` also checks that it
//! names the host connected to. `prefer` uses TLS when the server offers it and plain TCP when
//! it does not. Certificate files are read once, when the URL is parsed.
//!
//! Never logs or returns key material; errors name the file setting, not its content.

use std::{
    future::Future,
    io,
    path::Path,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use rustls::{
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    client::WebPkiServerVerifier,
    crypto::{ring as provider, CryptoProvider},
    pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer, ServerName, UnixTime},
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, TlsConnect};

use crate::{dial::Socket, wire::Observed};

/// libpq's `sslmode` (`allow` is not offered: it prefers plain text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub(crate) fn parse(value: &str) -> Result<Self, String> {
        Ok(match value {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            "allow" => {
                return Err("sslmode=allow is not supported (it prefers plain text): use prefer".into())
            }
            _ => return Err("sslmode is not one of disable, prefer, require, verify-ca, verify-full".into()),
        })
    }

    /// What tokio-postgres is told: whether to ask for TLS and whether it is required.
    pub(crate) fn driver_mode(self) -> tokio_postgres::config::SslMode {
        use tokio_postgres::config::SslMode as M;
        match self {
            Self::Disable => M::Disable,
            Self::Prefer => M::Prefer,
            Self::Require | Self::VerifyCa | Self::VerifyFull => M::Require,
        }
    }
}

/// The TLS settings of one URL, before the files are read.
#[derive(Debug, Clone, Default)]
pub(crate) struct TlsOptions {
    pub(crate) mode: Option<SslMode>,
    pub(crate) root_cert: Option<String>,
    pub(crate) cert: Option<String>,
    pub(crate) key: Option<String>,
}

impl TlsOptions {
    /// The mode in force (`prefer` when none is given, as in libpq).
    pub(crate) fn mode(&self) -> SslMode {
        self.mode.unwrap_or(SslMode::Prefer)
    }

    /// Reads the certificate files and builds the connector.
    pub(crate) fn connector(&self) -> Result<MakeTls, String> {
        let mode = self.mode();
        if mode == SslMode::Disable {
            return Ok(MakeTls { config: None });
        }
        // ring's provider is deprecated for lacking post-quantum key exchange; aws-lc-rs has it
        // but needs cmake (and nasm) to build, which this project's machines do not have.
        #[allow(deprecated)]
        let provider = Arc::new(provider::default_provider());
        let roots = match &self.root_cert {
            Some(path) => Some(Arc::new(root_store(path)?)),
            None if matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) => {
                return Err(
                    "sslmode=verify-ca and verify-full need sslrootcert=<file of CA certificates>".into()
                )
            }
            None => None,
        };
        let verifier: Arc<dyn ServerCertVerifier> = match (mode, roots) {
            (SslMode::Prefer, _) | (_, None) => Arc::new(AnyCertificate(provider.clone())),
            (SslMode::VerifyFull, Some(roots)) => web_pki(roots, &provider)?,
            (_, Some(roots)) => Arc::new(SignedByRoot(web_pki(roots, &provider)?)),
        };
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup failed: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let mut config = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                let chain = certificates(cert, "sslcert")?;
                let key = PrivateKeyDer::from_pem_file(key)
                    .map_err(|_| "sslkey: the file cannot be read as a PEM private key".to_string())?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|_| "sslcert and sslkey do not form a usable client certificate".to_string())?
            }
            (None, None) => builder.with_no_client_auth(),
            _ => return Err("sslcert and sslkey must be given together".into()),
        };
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        Ok(MakeTls { config: Some(Arc::new(config)) })
    }
}

fn certificates(path: &str, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let unreadable = || format!("{what}: the file cannot be read as PEM certificates");
    let certs = CertificateDer::pem_file_iter(Path::new(path))
        .map_err(|_| unreadable())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| unreadable())?;
    if certs.is_empty() {
        return Err(format!("{what}: the file holds no certificate"));
    }
    Ok(certs)
}

fn root_store(path: &str) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    for cert in certificates(path, "sslrootcert")? {
        roots
            .add(cert)
            .map_err(|_| "sslrootcert: a certificate in the file is not usable as a root".to_string())?;
    }
    Ok(roots)
}

fn web_pki(
    roots: Arc<RootCertStore>,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, String> {
    WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
        .build()
        .map_err(|e| format!("sslrootcert: {e}"))
}

/// `verify-ca` (and `require` with a root file): the chain must lead to a root; the name is
/// not checked.
#[derive(Debug)]
struct SignedByRoot(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for SignedByRoot {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // webpki checks the chain first and the name last, so a name error means the chain
        // was good.
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `prefer` and `require` without a root file: encryption only, as in libpq. The handshake
/// signatures are still checked (the server must hold the key of the certificate it shows).
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The TLS settings of one URL's connections: one [`TlsConnector`] per host name.
#[derive(Clone)]
pub(crate) struct MakeTls {
    config: Option<Arc<ClientConfig>>,
}

impl std::fmt::Debug for MakeTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MakeTls({})", if self.config.is_some() { "rustls" } else { "disabled" })
    }
}

impl MakeTls {
    /// The connector for a host (`None`: a Unix socket, which never has TLS).
    pub(crate) fn connector(&self, host: Option<&str>) -> TlsConnector {
        // A bad name (a hostaddr-only URL) fails at connect, and only if TLS is used.
        let name = host.and_then(|h| ServerName::try_from(h.to_string()).ok());
        TlsConnector { config: self.config.clone(), name }
    }
}

/// Wraps one connection's socket in TLS; the session is observed above TLS (the socket's own
/// observer stops parsing when the TLS records begin).
pub(crate) struct TlsConnector {
    config: Option<Arc<ClientConfig>>,
    name: Option<ServerName<'static>>,
}

impl TlsConnect<Observed<Socket>> for TlsConnector {
    type Stream = Observed<TlsStream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Observed<TlsStream>>> + Send>>;

    fn connect(self, mut socket: Observed<Socket>) -> Self::Future {
        socket.pass_through();
        let observer = socket.observer().clone();
        Box::pin(async move {
            let config = self.config.ok_or_else(|| io::Error::other("TLS is disabled (sslmode=disable)"))?;
            let name = self.name.ok_or_else(|| {
                io::Error::other("the host is not a valid TLS server name (a host name is needed for TLS)")
            })?;
            let stream = tokio_rustls::TlsConnector::from(config).connect(name, socket).await?;
            Ok(Observed::new(TlsStream(Box::new(stream)), observer))
        })
    }
}

/// A TLS session over a connection's socket.
pub(crate) struct TlsStream(Box<tokio_rustls::client::TlsStream<Observed<Socket>>>);

impl std::fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsStream")
    }
}

impl tokio_postgres::tls::TlsStream for Observed<TlsStream> {
    /// `tls-server-end-point` (RFC 5929): a hash of the server's certificate, so that
    /// SCRAM-SHA-256-PLUS binds the password exchange to this TLS session.
    fn channel_binding(&self) -> ChannelBinding {
        let (_, session) = self.get_ref().0.get_ref();
        match session.peer_certificates().and_then(|c| c.first()) {
            Some(cert) => ChannelBinding::tls_server_end_point(end_point_hash(cert)),
            None => ChannelBinding::none(),
        }
    }
}

/// RFC 5929: the certificate's own signature hash, SHA-256 for SHA-1/MD5/SHA-256 and for
/// anything not recognised.
fn end_point_hash(cert: &[u8]) -> Vec<u8> {
    const SHA384: [&[u8]; 2] = [
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c], // sha384WithRSAEncryption
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03],       // ecdsa-with-SHA384
    ];
    const SHA512: [&[u8]; 2] = [
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d], // sha512WithRSAEncryption
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04],       // ecdsa-with-SHA512
    ];
    let oid = signature_oid(cert).unwrap_or_default();
    let algorithm = if SHA384.contains(&oid) {
        &ring::digest::SHA384
    } else if SHA512.contains(&oid) {
        &ring::digest::SHA512
    } else {
        &ring::digest::SHA256
    };
    ring::digest::digest(algorithm, cert).as_ref().to_vec()
}

/// The OID of `Certificate.signatureAlgorithm`: SEQUENCE { tbs SEQUENCE, alg SEQUENCE { OID } }.
fn signature_oid(der: &[u8]) -> Option<&[u8]> {
    fn header(der: &[u8], tag: u8) -> Option<(usize, usize)> {
        if *der.first()? != tag {
            return None;
        }
        let first = *der.get(1)? as usize;
        if first < 0x80 {
            return Some((2, first));
        }
        let n = first & 0x7f;
        let len = der.get(2..2 + n)?.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
        Some((2 + n, len))
    }
    let (h, _) = header(der, 0x30)?;
    let inner = &der[h..];
    let (th, tlen) = header(inner, 0x30)?;
    let alg = inner.get(th + tlen..)?;
    let (ah, _) = header(alg, 0x30)?;
    let oid = &alg[ah..];
    let (oh, olen) = header(oid, 0x06)?;
    oid.get(oh..oh + olen)
}

impl AsyncRead for TlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}
