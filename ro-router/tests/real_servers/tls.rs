//! TLS against a real PostgreSQL started with `ssl = on` and certificates made at test time:
//! each `sslmode` connects encrypted (as `pg_stat_ssl` says for the backend) or is refused
//! where it must be, `prefer` falls back to plain TCP on a server without TLS, a client
//! certificate logs in, and SCRAM channel binding works over the router's TLS.

use std::sync::Arc;

use ro_router::{DbRouter, DbUrl, FailureCause, RouterError};

use crate::{
    common::{config, proven_from_the_wire},
    support::{
        encoded_password,
        harness::Ctx,
        tls::{tls_replica, Certificates, CERT_USER},
        PASSWORD,
    },
};

/// What one read-only checkout saw: `Ok((ssl, client_dn))` from `pg_stat_ssl`, or the error.
async fn read_only_ssl(primary_port: u16, url: &str) -> Result<(bool, String), String> {
    let mut c = config(primary_port, &[]);
    c.replicas = vec![DbUrl::parse(url).map_err(|e| format!("parse: {e}"))?];
    c.fallback = false;
    let router = DbRouter::new(c).await.map_err(|e| e.to_string())?;
    router.refresh_health().await;
    let outcome = match router.get_db_ro().await {
        Ok(conn) => {
            let row = conn
                .query_one(
                    "SELECT ssl, coalesce(client_dn, '') FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    &[],
                )
                .await
                .map_err(|e| e.to_string())?;
            drop(conn);
            // Plain or TLS, the release is proven from what the wire showed.
            let observed = proven_from_the_wire(&router, 1).await;
            assert_eq!(observed, 1, "the release was not proven from its wire");
            Ok((row.get(0), row.get(1)))
        }
        Err(e) => Err(e.to_string()),
    };
    router.close();
    outcome
}

/// The failure of `get_db()` on `url` (the TLS server is a standby, so even a connection that
/// opened would be refused as not a primary; these fail before that).
async fn connect_error(primary_port: u16, url: &str) -> RouterError {
    let mut c = config(primary_port, &[]);
    c.primary = DbUrl::parse(url).unwrap_or_else(|e| panic!("{e}"));
    let router = DbRouter::new(c).await.unwrap();
    let err = router.get_db().await.expect_err("must be refused");
    router.close();
    err
}

pub async fn every_sslmode_against_a_tls_server(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let certs = Certificates::make(&cluster.root().join("tls"));
    let server = tls_replica(cluster, &certs).await;
    let primary = cluster.primary().port;
    let pw = encoded_password();
    let at =
        |host: &str, query: &str| format!("postgres://postgres:{pw}@{host}:{}/postgres?{query}", server.port);
    let (ca, other_ca) = (certs.ca(), certs.other_ca());

    let encrypted = [
        ("sslmode=disable", at("127.0.0.1", "sslmode=disable"), false),
        ("no sslmode (prefer)", at("127.0.0.1", ""), true),
        ("sslmode=prefer", at("127.0.0.1", "sslmode=prefer"), true),
        ("sslmode=require", at("127.0.0.1", "sslmode=require"), true),
        // The certificate names localhost only: verify-ca does not check the name.
        ("sslmode=verify-ca", at("127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}")), true),
        ("sslmode=verify-full", at("localhost", &format!("sslmode=verify-full&sslrootcert={ca}")), true),
        (
            "verify-full with channel binding",
            at("localhost", &format!("sslmode=verify-full&sslrootcert={ca}&channel_binding=require")),
            true,
        ),
    ];
    let hostaddr_only = format!(
        "hostaddr=127.0.0.1 port={} user=postgres dbname=postgres sslmode=require password='{}'",
        server.port,
        PASSWORD.replace('\\', "\\\\").replace('\'', "\\'")
    );
    let encrypted = encrypted.into_iter().chain([("hostaddr only, key=value", hostaddr_only, true)]);
    for (what, url, ssl) in encrypted {
        let got = read_only_ssl(primary, &url).await.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(got.0, ssl, "{what}: pg_stat_ssl.ssl");
    }

    // A client certificate instead of a password (pg_hba: cert for this role).
    let cert_url = format!(
        "postgres://{CERT_USER}@localhost:{}/postgres?sslmode=verify-full&sslrootcert={ca}&sslcert={}&sslkey={}",
        server.port,
        certs.client_cert(),
        certs.client_key()
    );
    let (ssl, dn) =
        read_only_ssl(primary, &cert_url).await.unwrap_or_else(|e| panic!("client certificate: {e}"));
    assert!(ssl);
    assert_eq!(dn, format!("/CN={CERT_USER}"));
    // Without the certificate the same role is refused.
    let no_cert = format!("postgres://{CERT_USER}@localhost:{}/postgres?sslmode=require", server.port);
    assert!(read_only_ssl(primary, &no_cert).await.is_err());

    let refused = [
        (
            "verify-full on a name the certificate lacks",
            at("127.0.0.1", &format!("sslmode=verify-full&sslrootcert={ca}")),
            "certificate not valid for name \"127.0.0.1\"",
        ),
        (
            "verify-ca with another CA",
            at("localhost", &format!("sslmode=verify-ca&sslrootcert={other_ca}")),
            "UnknownIssuer",
        ),
        (
            "verify-full with another CA",
            at("localhost", &format!("sslmode=verify-full&sslrootcert={other_ca}")),
            "UnknownIssuer",
        ),
        // require with a root file checks the chain, as in libpq.
        (
            "require with another CA",
            at("localhost", &format!("sslmode=require&sslrootcert={other_ca}")),
            "UnknownIssuer",
        ),
    ];
    for (what, url, reason) in refused {
        let err = connect_error(primary, &url).await;
        let failure = err.failure().unwrap_or_else(|| panic!("{what}: {err}"));
        assert_eq!(failure.cause(), Some(FailureCause::Tls), "{what}: {err}");
        assert!(failure.message().contains(reason), "{what}: {err}");
    }

    cluster.remove_replica(&server).await;
    cluster.sql(&cluster.primary(), &format!("DROP ROLE {CERT_USER}")).await;
}

/// `prefer` uses plain TCP when the server has no TLS; `require` is refused there.
pub async fn prefer_falls_back_on_a_server_without_tls(ctx: Arc<Ctx>) {
    let r1 = ctx.cluster.replica(0).port;
    let primary = ctx.cluster.primary().port;
    let pw = encoded_password();
    let prefer = format!("postgres://postgres:{pw}@127.0.0.1:{r1}/postgres?sslmode=prefer");
    assert_eq!(read_only_ssl(primary, &prefer).await, Ok((false, String::new())));
    let require = format!("postgres://postgres:{pw}@127.0.0.1:{r1}/postgres?sslmode=require");
    let err = connect_error(primary, &require).await;
    assert_eq!(err.failure().and_then(|f| f.cause()), Some(FailureCause::Tls), "{err}");
    assert!(err.to_string().contains("server does not support TLS"), "{err}");
}
