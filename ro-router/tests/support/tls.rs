//! A TLS-enabled PostgreSQL for the TLS tests: certificates made at test time with the
//! `openssl` command (a CA, a second CA nobody trusts, a server certificate for `localhost`
//! only, a client certificate), and a replica of the cluster restarted with `ssl = on` that
//! also takes certificate authentication for one role.

use std::{
    os::unix::fs::{chown, MetadataExt, PermissionsExt},
    path::{Path, PathBuf},
    process::Command,
};

use super::cluster::{Cluster, Server};

/// The role that logs in with a client certificate (no password) on the TLS server.
pub const CERT_USER: &str = "ro_cert_user";

/// Certificate files of one test run.
pub struct Certificates {
    pub dir: PathBuf,
}

impl Certificates {
    pub fn ca(&self) -> String {
        self.path("ca.crt")
    }

    pub fn other_ca(&self) -> String {
        self.path("other-ca.crt")
    }

    pub fn client_cert(&self) -> String {
        self.path("client.crt")
    }

    pub fn client_key(&self) -> String {
        self.path("client.key")
    }

    fn path(&self, file: &str) -> String {
        self.dir.join(file).display().to_string()
    }

    /// Makes the CAs and certificates in `dir`. Fails naming the Debian package when the
    /// `openssl` command is missing.
    pub fn make(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).expect("create the certificate directory");
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        for ca in ["ca", "other-ca"] {
            let mut args = vec!["req", "-x509", "-days", "2"];
            args.extend(ec);
            let (key, crt, subj) =
                (format!("{ca}.key"), format!("{ca}.crt"), format!("/CN=ro-router test {ca}"));
            args.extend(["-keyout", &key, "-out", &crt, "-subj", &subj]);
            args.extend([
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ]);
            openssl(dir, &args);
        }
        for (name, cn, usage, san) in [
            ("server", "localhost", "serverAuth", "subjectAltName=DNS:localhost\n"),
            ("client", CERT_USER, "clientAuth", ""),
        ] {
            let (key, csr, crt) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.crt"));
            let subj = format!("/CN={cn}");
            let mut args = vec!["req"];
            args.extend(ec);
            args.extend(["-keyout", &key, "-out", &csr, "-subj", &subj]);
            openssl(dir, &args);
            let ext = format!("{name}.ext");
            std::fs::write(
                dir.join(&ext),
                format!("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage={usage}\n{san}"),
            )
            .expect("write the extension file");
            openssl(
                dir,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &csr,
                    "-CA",
                    "ca.crt",
                    "-CAkey",
                    "ca.key",
                    "-set_serial",
                    "2",
                    "-days",
                    "2",
                    "-out",
                    &crt,
                    "-extfile",
                    &ext,
                ],
            );
        }
        Self { dir: dir.to_path_buf() }
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().unwrap_or_else(|e| {
        panic!("cannot run openssl ({e}): install the Debian package `openssl` (apt-get install openssl)")
    });
    assert!(out.status.success(), "openssl {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
}

/// A new replica of `cluster` restarted with `ssl = on`, the server certificate of `certs`,
/// their CA for client certificates, and certificate authentication for [`CERT_USER`] (a role
/// made on the primary first). Remove it with `Cluster::remove_replica`.
pub async fn tls_replica(cluster: &Cluster, certs: &Certificates) -> Server {
    let primary = cluster.primary();
    cluster.sql(&primary, &format!("DROP ROLE IF EXISTS {CERT_USER}; CREATE ROLE {CERT_USER} LOGIN")).await;
    let server = cluster.add_replica().await;
    cluster.stop_server(&server).await;
    let owner = std::fs::metadata(&server.dir).expect("replica directory");
    for (from, to) in [("server.crt", "server.crt"), ("server.key", "server.key"), ("ca.crt", "root.crt")] {
        let target = server.dir.join(to);
        std::fs::copy(certs.dir.join(from), &target).expect("copy a certificate file");
        chown(&target, Some(owner.uid()), Some(owner.gid())).expect("chown a certificate file");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    append(
        &server.dir.join("postgresql.conf"),
        "\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\nssl_ca_file = 'root.crt'\n",
    );
    let hba = server.dir.join("pg_hba.conf");
    let rest = std::fs::read_to_string(&hba).expect("read pg_hba.conf");
    std::fs::write(&hba, format!("hostssl all {CERT_USER} 127.0.0.1/32 cert\n{rest}"))
        .expect("write pg_hba.conf");
    cluster.start_server(&server).await;
    cluster.wait_replayed(&server).await;
    server
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).expect("open postgresql.conf");
    f.write_all(text.as_bytes()).expect("append to postgresql.conf");
}
