//! The guard's limits and the read-only role that closes them: with `DB_READ_FALLTHROUGH_URL`
//! on a role made as ro-router's README says (NOSUPERUSER, `default_transaction_read_only = on`
//! at role level, SELECT only, the large-object and WAL-message functions revoked from PUBLIC),
//! every write of both ground-truth files is refused on the fallthrough pool, but for the
//! rows listed in [`NOT_REFUSED`] with the reason; the router says which kind of role it got,
//! in its log, `health()` and a metric.

use std::sync::Arc;

use ro_router::{DbUrl, PoolRole, RoutesTo};

use crate::{
    common::{config, outcome, router},
    enforcement::{execute, rows, Context},
    support::{cluster::scram_secret, encoded_password, harness::Ctx, name, PASSWORD},
};

/// The README's role, verbatim but for the name and the password.
fn role_sql(password_secret: &str) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let start = readme.find("-- ro-router: read-only fallthrough role").expect("the README's role SQL");
    let end = start + readme[start..].find("```").expect("end of the SQL block");
    readme[start..end]
        .replace("app_reader", "ro_reader")
        .replace("'change-me'", &format!("'{password_secret}'"))
}

/// Writes of the ground truth (verdict `write`) that the read-only role does not get refused,
/// in file order, and why none of them writes data. After each, in the same session (and
/// transaction), an INSERT is still refused: the test checks that too.
const NOT_REFUSED: &[(&str, &str)] = &[
    ("VACUUM t", "skipped with a warning: only the owner may vacuum"),
    ("ANALYZE t", "skipped with a warning: only the owner may analyze"),
    ("LISTEN ch", "registers a listener: no data"),
    ("NOTIFY ch", "a notification to listeners: no data; any role may notify"),
    ("SELECT pg_notify('ch', 'payload')", "a notification to listeners: no data"),
    ("SELECT txid_current()", "assigns a transaction id: no data"),
    ("SELECT pg_current_xact_id()", "assigns a transaction id: no data"),
    ("DO $$ BEGIN PERFORM count(*) FROM t; END $$", "a DO block that only reads"),
    ("PREPARE x AS DELETE FROM t", "prepares only; executing it is refused"),
    ("SET TRANSACTION READ WRITE", "lifts the session setting; the role still may not write"),
    ("SET default_transaction_read_only = off", "lifts the session setting; the role still may not write"),
    ("BEGIN READ WRITE", "lifts the session setting; the role still may not write"),
    (
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
        "lifts the session setting; the role still may not write",
    ),
    ("SET transaction_read_only = off", "lifts the session setting; the role still may not write"),
    (
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "lifts the session setting; the role still may not write",
    ),
    ("SELECT pg_terminate_backend(pg_backend_pid() + 1000000)", "may signal only its own role's sessions"),
    ("SELECT pg_cancel_backend(pg_backend_pid() + 1000000)", "may signal only its own role's sessions"),
];

pub async fn read_only_role_refuses_every_write(ctx: Arc<Ctx>) {
    let primary = ctx.cluster.primary();
    ctx.cluster.sql(&primary, &role_sql(&scram_secret(PASSWORD, 16))).await;
    let mut c = config(primary.port, &[]);
    let ro_url = format!("postgres://ro_reader:{}@127.0.0.1:{}/postgres", encoded_password(), primary.port);
    c.fallthrough = Some(DbUrl::parse(&ro_url).unwrap());
    let router = router(c).await;

    // What the router says about the role.
    let role = router.health().fallthrough_role.expect("the fallthrough role was measured at start-up");
    assert_eq!(role.role, "ro_reader");
    assert!(!role.superuser && role.read_only_by_default, "{role:?}");
    assert!(role.is_read_only(), "{role:?}");
    assert!(router.render_metrics().contains("ro_router_fallthrough_role_can_write{role=\"ro_reader\""));
    assert!(ctx.logs.text().contains("the fallthrough role ro_reader is read-only"));

    let mut not_refused = Vec::new();
    let mut compared = 0;
    for row in rows().into_iter().filter(|r| r.verdict == "write") {
        let conn = router.get_db_ro().await.expect("checkout");
        assert_eq!(conn.routes_to(), RoutesTo::PrimaryFallthrough);
        let in_block = row.in_block(Context::Fallthrough);
        if in_block {
            conn.batch_execute("BEGIN").await.expect("BEGIN");
        }
        let got = outcome(execute(&conn, &row.statement).await);
        if got == "ok" {
            // Whatever the statement did to the session, no data can be written after it.
            let insert = outcome(conn.batch_execute("INSERT INTO t VALUES (99, 'x')").await);
            assert!(insert == "42501" || insert == "25006", "INSERT after {:?}: {insert}", row.statement);
        }
        let _ = conn.batch_execute("ROLLBACK").await;
        conn.discard();
        compared += 1;
        if got == "ok" {
            not_refused.push(row.statement);
        }
    }
    let expected: Vec<&str> = NOT_REFUSED.iter().map(|(s, _)| *s).collect();
    assert_eq!(not_refused, expected, "writes the read-only role was not refused, in file order");
    assert!(compared >= 80, "compared only {compared} writes");
    let ft = router.pool_stats().pool(PoolRole::Fallthrough, &name(primary.port)).unwrap().clone();
    assert_eq!(ft.checkouts, compared as u64);
}

pub async fn superuser_fallthrough_role_is_reported(ctx: Arc<Ctx>) {
    let primary = ctx.cluster.primary();
    let router = router(config(primary.port, &[])).await;
    let role = router.health().fallthrough_role.expect("measured at start-up");
    assert_eq!((role.role.as_str(), role.superuser), ("postgres", true));
    assert_eq!(role.can_write, ["superuser"]);
    let metrics = router.render_metrics();
    assert!(
        metrics.contains(&format!(
            "ro_router_fallthrough_role_can_write{{role=\"postgres\",superuser=\"true\",target=\"{}\"}} 1",
            name(primary.port)
        )),
        "{metrics}"
    );
    assert!(router
        .health()
        .to_json()
        .contains("\"fallthrough_role\":{\"role\":\"postgres\",\"superuser\":true"));
    assert!(ctx.logs.text().contains("the fallthrough role postgres can write (superuser)"));
}
