//! Property test: random passwords, with every ASCII special character, encoded and not, are
//! never shown — not by parsing, parse errors, `Debug`/`Display` of URLs, configuration and
//! errors, nor (against the real servers) by tracing logs, `pool_stats()`, Prometheus text
//! and `health()` JSON.
//!
//! The rule checked: no 3-character window of the password (nor of its percent-encoded form)
//! that holds one of its letters appears in any output. Passwords are drawn (seeded, so a
//! failure repeats) from five uppercase letters that no output of the router contains next to
//! punctuation (`Q X J K V`: not in log levels, timestamps, metric or JSON names), mixed
//! with the 32 ASCII punctuation characters and the space. A window of punctuation only
//! (`":"`) is not checked: it occurs in any JSON.

use std::{collections::HashMap, sync::Arc};

use ro_router::{DbRouter, DbUrl, RouterConfig};

use crate::{
    common::config,
    support::{cluster::scram_secret, harness::Ctx},
};

const LETTERS: &[u8] = b"QXJKV";
const SPECIALS: &[u8] = b" !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
const SEED: u64 = 0x5EC2E75;

/// A password of 6 to 24 characters, about half of them punctuation, holding each of
/// `forced` for sure (so that a set of passwords uses every special character).
fn password(rng: &mut fastrand::Rng, forced: &[u8]) -> String {
    let len = rng.usize(6..=24);
    let mut pw: Vec<u8> = (0..len)
        .map(|_| {
            if rng.bool() {
                LETTERS[rng.usize(..LETTERS.len())]
            } else {
                SPECIALS[rng.usize(..SPECIALS.len())]
            }
        })
        .collect();
    let mut positions: Vec<usize> = (0..len).collect();
    rng.shuffle(&mut positions);
    for (&at, &c) in positions.iter().zip(forced) {
        pw[at] = c;
    }
    String::from_utf8(pw).expect("ASCII")
}

fn percent_encoded(pw: &str) -> String {
    pw.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// The three ways a user writes a password: percent-encoded in a URL, as is in a URL, and
/// quoted in a key=value string.
fn forms(user: &str, pw: &str, port: u16) -> [(&'static str, String); 3] {
    let quoted = pw.replace('\\', "\\\\").replace('\'', "\\'");
    [
        ("encoded URL", format!("postgres://{user}:{}@127.0.0.1:{port}/postgres", percent_encoded(pw))),
        ("unencoded URL", format!("postgres://{user}:{pw}@127.0.0.1:{port}/postgres")),
        ("key=value", format!("host=127.0.0.1 port={port} dbname=postgres user={user} password='{quoted}'")),
    ]
}

#[track_caller]
fn assert_hidden(pw: &str, what: &str, text: &str) {
    for shown_as in [pw.to_string(), percent_encoded(pw)] {
        let chars: Vec<char> = shown_as.chars().collect();
        for w in chars.windows(3) {
            if w.iter().any(|c| LETTERS.contains(&(*c as u8))) {
                let fragment: String = w.iter().collect();
                assert!(!text.contains(&fragment), "{what} shows {fragment:?} of password {pw:?}:\n{text}");
            }
        }
    }
}

/// Parsing, parse errors, Debug and Display of URLs, configurations and configuration errors
/// (duplicate replicas, `;` separator, a non-postgres entry): 2,000 passwords, no server.
pub async fn random_passwords_never_shown_by_parsing_or_config(_: Arc<Ctx>) {
    let mut rng = fastrand::Rng::with_seed(SEED);
    let (mut parsed, mut refused) = (0, 0);
    for i in 0..2_000 {
        let pw = password(&mut rng, &[SPECIALS[i % SPECIALS.len()]]);
        for (form, text) in forms("app", &pw, 5432) {
            let what = format!("{form} of {pw:?}");
            match DbUrl::parse(&text) {
                Ok(u) => {
                    parsed += 1;
                    assert_hidden(&pw, &what, &format!("{u} {u:?} {u:#?} {:?}", u.pg_config()));
                }
                Err(e) => {
                    refused += 1;
                    assert_hidden(&pw, &what, &format!("{e} {e:?}"));
                }
            }
            let lists = [
                format!("{text},{text}"),
                format!("postgres://a@h/d;{text}"),
                format!("{text},mysql://root:{pw}@h/d"),
                format!("{text}, postgres://b:{}@other/d", percent_encoded(&pw)),
            ];
            for list in lists {
                let vars: HashMap<&str, String> =
                    [("DB_PRIMARY_URL", text.clone()), ("DB_READ_REPLICA_URLS", list)].into_iter().collect();
                let shown = match RouterConfig::from_lookup(|k| vars.get(k).cloned()) {
                    Ok(c) => format!("{c} {c:?} {c:#?}"),
                    Err(e) => format!("{e} {e:?}"),
                };
                assert_hidden(&pw, &what, &shown);
            }
        }
    }
    // Both paths were exercised: most passwords parse, those with a '?' or a stray '%' in an
    // unencoded URL do not.
    assert!(parsed > 4_000 && refused > 100, "parsed {parsed}, refused {refused}");
    // The case: an unencoded '@' in the password. "ssw" is left out of the windows
    // checked: it is in the word "password", which messages may use.
    let u = DbUrl::parse("postgres://app:P@ssw0rd-42@host/db").unwrap();
    assert_eq!(u.name(), "host:5432/db");
    assert_eq!(u.pg_config().get_password(), Some(&b"P@ssw0rd-42"[..]));
    let shown = format!("{u} {u:?} {:?}", u.pg_config());
    let chars: Vec<char> = "P@ssw0rd-42".chars().collect();
    for w in chars.windows(3).map(|w| w.iter().collect::<String>()).filter(|w| w != "ssw") {
        assert!(!shown.contains(&w), "{w:?} in {shown}");
    }
}

/// Against the real servers: a role gets each random password; routers built on every form
/// (and on a wrong password) serve, fail, log, count and report, and none of it shows it.
pub async fn random_passwords_never_shown_by_a_running_router(ctx: Arc<Ctx>) {
    let cluster = &ctx.cluster;
    let (primary, r1) = (cluster.primary(), cluster.replica(0));
    cluster.sql(&primary, "DROP ROLE IF EXISTS ro_secret; CREATE ROLE ro_secret LOGIN").await;
    let mut rng = fastrand::Rng::with_seed(SEED ^ 1);
    let mut passwords = Vec::new();
    // 22 passwords of 3 forced specials each: all 33 are used twice.
    for forced in SPECIALS.chunks(3).cycle().take(22) {
        let pw = password(&mut rng, forced);
        // A SCRAM secret of few iterations, as the cluster's own (a debug-build client spends
        // ~50 ms on each 4096-iteration login).
        cluster.sql(&primary, &format!("ALTER ROLE ro_secret PASSWORD '{}'", scram_secret(&pw, 16))).await;
        cluster.wait_replayed(&r1).await;
        let replica_forms = forms("ro_secret", &pw, r1.port);
        for (n, (form, text)) in forms("ro_secret", &pw, primary.port).into_iter().enumerate() {
            let what = format!("{form} of {pw:?}");
            let parsed = DbUrl::parse(&text).and_then(|p| Ok((p, DbUrl::parse(&replica_forms[n].1)?)));
            let (primary_url, replica_url) = match parsed {
                Ok(urls) => urls,
                Err(e) => {
                    assert!(form == "unencoded URL" && (pw.contains('?') || pw.contains('%')), "{what}: {e}");
                    assert_hidden(&pw, &what, &format!("{e} {e:?}"));
                    continue;
                }
            };
            let mut c = config(primary.port, &[]);
            c.primary = primary_url;
            c.replicas = vec![replica_url];
            let router = DbRouter::new(c).await.unwrap();
            router.refresh_health().await;
            let mut shown = format!("{router:?}");
            match router.get_db().await {
                Ok(conn) => {
                    conn.simple_query("SELECT 1").await.unwrap();
                    drop(conn);
                    let ro = router.get_db_ro().await.unwrap_or_else(|e| panic!("{what}: {e}"));
                    ro.simple_query("SELECT 1").await.unwrap();
                }
                // A '%' followed by two hex digits decodes to another password.
                Err(e) => {
                    assert!(form == "unencoded URL" && pw.contains('%'), "{what}: {e}");
                    shown += &format!("{e} {e:?}");
                }
            }
            shown += &format!(
                "{} {} {}",
                router.pool_stats().to_json(),
                router.health().to_json(),
                router.render_metrics()
            );
            assert_hidden(&pw, &what, &shown);
            router.close();
        }
        // A wrong password: errors, health and logs of failures.
        let wrong = format!("{pw}QX");
        let mut c = config(primary.port, &[]);
        c.primary = DbUrl::parse(&forms("ro_secret", &wrong, primary.port)[0].1).unwrap();
        c.replicas = vec![DbUrl::parse(&forms("ro_secret", &wrong, r1.port)[0].1).unwrap()];
        let router = DbRouter::new(c).await.unwrap();
        router.refresh_health().await;
        let err = router.get_db().await.expect_err("wrong password");
        assert_eq!(err.sqlstate(), Some("28P01"), "{err}");
        let ro_err = router.get_db_ro().await.expect_err("wrong password on every pool");
        let shown = format!(
            "{err} {err:?} {ro_err} {ro_err:?} {} {}",
            router.health().to_json(),
            router.pool_stats().to_json()
        );
        assert_hidden(&wrong, "errors with a wrong password", &shown);
        router.close();
        passwords.push(pw);
        passwords.push(wrong);
    }
    let logs = ctx.logs.text();
    for pw in &passwords {
        assert_hidden(pw, "the logs", &logs);
    }
    cluster.sql(&primary, "DROP ROLE ro_secret").await;
}
