//! `migrate --apply` on a real axum service using ro-router compiles afterwards; `--verify`
//! reverts exactly the rewrites that break a real build.
//!
//! `fixtures/migrate-compile/` is copied to a temporary directory (its ro-router dependency
//! pointed at this workspace's), classified, migrated, compared with the hand-written
//! `expected/lib.rs`, and then `cargo check --offline` runs on it with `#![deny(warnings)]`. The
//! dependencies are built once into `target/migrate-compile` and reused by later runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn ro_audit(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ro-audit")).current_dir(dir).args(args).output().expect("ro-audit runs")
}

#[test]
fn a_migrated_axum_service_still_compiles() {
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("app");
    copy_dir(&workspace().join("fixtures/migrate-compile"), &app);
    let manifest = std::fs::read_to_string(app.join("Cargo.toml")).unwrap();
    let router = workspace().join("ro-router");
    std::fs::write(app.join("Cargo.toml"), manifest.replace("@RO_ROUTER@", router.to_str().unwrap()))
        .unwrap();
    // The workspace's lock file: the same versions, already downloaded, no network needed.
    std::fs::copy(workspace().join("Cargo.lock"), app.join("Cargo.lock")).unwrap();
    let expected = std::fs::read_to_string(app.join("expected/lib.rs")).unwrap();
    std::fs::remove_dir_all(app.join("expected")).unwrap();
    let before = std::fs::read_to_string(app.join("src/lib.rs")).unwrap();

    // Classes: two pure-read GET handlers; `stats` hands its `DbRw` to a `&mut DbRw` helper.
    let out = ro_audit(&app, &["migrate", ".", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "something would change:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let class_of = |name: &str| -> String {
        let handlers = json["handlers"].as_array().expect("handlers");
        let handler = handlers
            .iter()
            .find(|h| h["handler"].as_str().is_some_and(|n| n == name || n.ends_with(&format!("::{name}"))))
            .unwrap_or_else(|| panic!("{name} listed: {json:#}"));
        handler["class"].as_str().unwrap().to_string()
    };
    assert_eq!(class_of("list_items"), "pure-read");
    assert_eq!(class_of("show_item"), "pure-read");
    assert_eq!(class_of("stats"), "mixed");

    // The dry run's diff shows the three kinds of change.
    let out = ro_audit(&app, &["migrate", ".", "--no-color"]);
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        diff.contains("+    let db = state.db.get_db_ro().await.map_err(internal)?;"),
        "accessor:\n{diff}"
    );
    assert!(diff.contains("+async fn list_items(db: DbRo)"), "extractor type:\n{diff}");
    assert!(diff.contains("+use ro_router::axum::{DbRo, DbRw};"), "import:\n{diff}");
    assert_eq!(std::fs::read_to_string(app.join("src/lib.rs")).unwrap(), before, "a dry run writes nothing");

    let out = ro_audit(&app, &["migrate", ".", "--apply", "--allow-dirty"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(app.join("src/lib.rs")).unwrap(), expected);

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .current_dir(&app)
        .args(["check", "--offline", "--quiet"])
        .env("CARGO_TARGET_DIR", workspace().join("target/migrate-compile"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "the migrated service does not compile:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Copies `fixtures/NAME` (without `expected/`) to a temporary directory; returns it and the
/// hand-written expected files.
fn fixture_project(name: &str) -> (tempfile::TempDir, Vec<(PathBuf, String)>) {
    fixture_project_expecting(name, "expected")
}

/// As [`fixture_project`], with the expected files of `expected` (every `expected*` folder is
/// left out of the copy).
fn fixture_project_expecting(name: &str, expected_dir: &str) -> (tempfile::TempDir, Vec<(PathBuf, String)>) {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&workspace().join("fixtures").join(name), tmp.path());
    let mut expected = Vec::new();
    for entry in std::fs::read_dir(tmp.path().join(expected_dir)).unwrap() {
        let path = entry.unwrap().path();
        let rel = PathBuf::from("src").join(path.file_name().unwrap());
        expected.push((rel, std::fs::read_to_string(&path).unwrap()));
    }
    for entry in std::fs::read_dir(tmp.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with("expected") {
            std::fs::remove_dir_all(path).unwrap();
        }
    }
    (tmp, expected)
}

/// Migrates `app` with `--verify "cargo check"` (building into `target/migrate-verify`),
/// requires exit 0 — nothing reverted, so every rewrite compiled as planned — and the
/// expected files.
fn migrate_compiles_as_expected(app: &Path, expected: &[(PathBuf, String)]) {
    let out = ro_audit_building(
        app,
        "migrate-verify",
        &[
            "migrate",
            ".",
            "--apply",
            "--allow-dirty",
            "--no-color",
            "--verify",
            "cargo check --offline --quiet",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{}\n{stderr}", String::from_utf8_lossy(&out.stdout));
    assert!(stderr.contains("0 handler(s) reverted"), "{stderr}");
    for (rel, want) in expected {
        assert_eq!(&std::fs::read_to_string(app.join(rel)).unwrap(), want, "{}", rel.display());
    }
}

/// `fixtures/migrate-derefs/`: the read-only pool is a newtype that derefs to the read-write
/// pool; `&**pool` (through `Data` and `Arc`), `&*pool` (through `ReqData`), `pool.get_ref()`
/// and `pool.as_ref()` feed a generic `E: Executor` only `&PgPool` implements. Each gets one
/// more deref, and the service builds (without them: E0277).
#[test]
fn swapped_pools_keep_the_type_their_derefs_feed_to_generic_code() {
    let (tmp, expected) = fixture_project("migrate-derefs");
    migrate_compiles_as_expected(tmp.path(), &expected);
}

/// The same service when the newtype has no `Deref` and the tree reaches the pool by its field
/// (`&pool.0` in the handler already on the twin): the shape is learned, every form becomes
/// `&pool.0`, and the service builds.
#[test]
fn swapped_pools_follow_the_field_shape_the_tree_uses() {
    let (tmp, expected) = fixture_project_expecting("migrate-derefs", "expected-field");
    let app = tmp.path();
    let db = std::fs::read_to_string(app.join("src/db.rs")).unwrap();
    let (head, rest) = db.split_once("// deref: begin").unwrap();
    let (_, tail) = rest.split_once("// deref: end\n").unwrap();
    std::fs::write(app.join("src/db.rs"), format!("{head}{tail}")).unwrap();
    let lib = std::fs::read_to_string(app.join("src/lib.rs")).unwrap();
    std::fs::write(app.join("src/lib.rs"), lib.replace("fetch_all(&***pool)", "fetch_all(&pool.0)")).unwrap();
    migrate_compiles_as_expected(app, &expected);
}

/// The same service before any handler used the twin: no `use` brings `ReadOnlyPgPool` in,
/// and the one that brought `PgPool` names `sqlx`, whose file has no `ReadOnlyPgPool`.
/// Renaming that import would not compile (E0432: it wrote `use sqlx::ReadOnlyPgPool;` once,
/// and was refused later): the twin is imported from `crate::db`, which declares it, in
/// rustfmt's place, the old import goes, and the service builds.
#[test]
fn a_twin_the_importing_module_lacks_is_imported_from_where_it_is_declared() {
    let (tmp, expected) = fixture_project("migrate-derefs");
    let app = tmp.path();
    // Without the handler already on the twin (and so without its import).
    let without_users = |text: &str| {
        let (head, rest) = text.split_once("/// Already on the read-only pool").unwrap();
        let (_, tail) = rest.split_once("pub fn app()").unwrap();
        format!("{head}pub fn app(){tail}").replace("        .route(\"/users\", web::get().to(users))\n", "")
    };
    let lib = std::fs::read_to_string(app.join("src/lib.rs")).unwrap();
    let lib = without_users(&lib).replace("use crate::db::ReadOnlyPgPool;\n", "");
    assert!(!lib.contains("ReadOnlyPgPool"), "{lib}");
    std::fs::write(app.join("src/lib.rs"), &lib).unwrap();
    let expected: Vec<(PathBuf, String)> = expected
        .into_iter()
        .map(|(rel, text)| {
            let text = if rel == Path::new("src/lib.rs") { without_users(&text) } else { text };
            (rel, text)
        })
        .collect();
    assert!(expected.iter().any(|(_, t)| t.contains("use crate::db::ReadOnlyPgPool;\nuse actix_web")));
    migrate_compiles_as_expected(app, &expected);
}

/// The same, with `sqlx` a crate of its own (a path dependency): `use sqlx::PgPool;` now names
/// another crate, which cannot bring in a type this crate declares, and whose files migrate
/// does not place (it used to trust it and wrote `use sqlx::ReadOnlyPgPool;`, E0432). The
/// twin is imported from `crate::db`, a full path through `sqlx` becomes the twin's
/// (`sqlx::PgPool` → `crate::db::ReadOnlyPgPool`), and the service builds.
#[test]
fn a_twin_declared_here_is_not_imported_through_another_crate() {
    let (tmp, expected) = fixture_project("migrate-derefs");
    let app = tmp.path();
    sqlx_as_a_crate(app);
    // One handler names the pool by its full path through the other crate: the twin's is
    // written whole (`sqlx::ReadOnlyPgPool` would be E0412).
    let lib = handlers_without_sqlx_module(&read(app, "src/lib.rs"))
        .replace("use crate::db::ReadOnlyPgPool;\n", "")
        .replace(POSTS, "async fn posts(pool: web::Data<sqlx::PgPool>)");
    assert!(lib.contains("use sqlx::PgPool;") && !lib.contains("ReadOnlyPgPool"), "{lib}");
    write(app, "src/lib.rs", &lib);
    let expected: Vec<(PathBuf, String)> = expected
        .into_iter()
        .map(|(rel, text)| {
            let text = if rel == Path::new("src/lib.rs") {
                handlers_without_sqlx_module(&text)
                    .replace(POSTS_RO, "async fn posts(pool: web::Data<crate::db::ReadOnlyPgPool>)")
            } else {
                text
            };
            (rel, text)
        })
        .collect();
    assert!(expected.iter().any(|(_, t)| t.contains("web::Data<crate::db::ReadOnlyPgPool>")));
    migrate_compiles_as_expected(app, &expected);
}

/// The same handlers in a binary beside the library: `src/main.rs` declares `mod routes;`,
/// `src/lib.rs` declares `pub mod db;` with the twin. In the binary's module `crate::db` does
/// not exist (it wrote `use crate::db::ReadOnlyPgPool;` before, E0432: `lib.rs` was taken for
/// the root of every file of `src/`): the twin is named through the library, by the
/// package's name (`use migrate_derefs_app::db::ReadOnlyPgPool;`, and the full path
/// `migrate_derefs_app::db::ReadOnlyPgPool`), and the binary builds.
#[test]
fn a_twin_the_library_declares_is_named_through_the_library_in_a_binary() {
    let (tmp, expected) = fixture_project("migrate-derefs");
    let app = tmp.path();
    sqlx_as_a_crate(app);
    module_as_a_crate(app, "actix_web", "actix-web");
    // lib.rs keeps the pools; its handlers move to the binary's `routes`.
    let as_routes =
        |text: &str| handlers_without_sqlx_module(text).replace("pub mod actix_web;\npub mod db;\n\n", "");
    let routes = as_routes(&read(app, "src/lib.rs"))
        .replace("use crate::db::ReadOnlyPgPool;\n", "")
        .replace(POSTS, "async fn posts(pool: web::Data<sqlx::PgPool>)");
    assert!(!routes.contains("mod ") && !routes.contains("ReadOnlyPgPool"), "{routes}");
    write(app, "src/routes.rs", &routes);
    write(app, "src/lib.rs", "//! The library: the pools.\n\npub mod db;\n");
    write(app, "src/main.rs", "mod routes;\n\nfn main() {\n    let _app = routes::app();\n}\n");
    let (_, migrated) = expected.into_iter().find(|(rel, _)| rel == Path::new("src/lib.rs")).unwrap();
    let want = as_routes(&migrated)
        .replace(
            "use crate::db::ReadOnlyPgPool;\nuse actix_web::{web, App};\n",
            "use actix_web::{web, App};\nuse migrate_derefs_app::db::ReadOnlyPgPool;\n",
        )
        .replace(POSTS_RO, "async fn posts(pool: web::Data<migrate_derefs_app::db::ReadOnlyPgPool>)");
    assert!(want.contains("use migrate_derefs_app::db::ReadOnlyPgPool;\n"), "{want}");
    migrate_compiles_as_expected(app, &[(PathBuf::from("src/routes.rs"), want)]);
}

/// `posts` of `fixtures/migrate-derefs/src/lib.rs`, before and after `migrate`.
const POSTS: &str = "async fn posts(pool: web::Data<PgPool>)";
const POSTS_RO: &str = "async fn posts(pool: web::Data<ReadOnlyPgPool>)";

fn read(app: &Path, rel: &str) -> String {
    std::fs::read_to_string(app.join(rel)).unwrap()
}

fn write(app: &Path, rel: &str, text: &str) {
    let path = app.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Makes `src/sqlx.rs` of a copy of `fixtures/migrate-derefs` the crate `sqlx`
/// (`sqlx-stub/`), a path dependency of the service: `use sqlx::PgPool;` then names another
/// crate, which cannot bring in a type the service declares.
fn sqlx_as_a_crate(app: &Path) {
    module_as_a_crate(app, "sqlx", "sqlx");
    write(app, "src/db.rs", &read(app, "src/db.rs").replace("use crate::sqlx::PgPool;", "use sqlx::PgPool;"));
}

/// Moves `src/MODULE.rs` to a crate of its own, package `package` in `MODULE-stub/`, and makes
/// it a path dependency of the service.
fn module_as_a_crate(app: &Path, module: &str, package: &str) {
    let stub = format!("{module}-stub");
    write(
        app,
        &format!("{stub}/Cargo.toml"),
        &format!("[package]\nname = \"{package}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
    );
    write(app, &format!("{stub}/src/lib.rs"), &read(app, &format!("src/{module}.rs")));
    std::fs::remove_file(app.join(format!("src/{module}.rs"))).unwrap();
    let dependency = format!("{package} = {{ path = \"{stub}\" }}\n");
    let manifest = read(app, "Cargo.toml");
    let manifest = match manifest.contains("[dependencies]\n") {
        true => manifest.replace("[dependencies]\n", &format!("[dependencies]\n{dependency}")),
        false => manifest.replace("[workspace]", &format!("[dependencies]\n{dependency}\n[workspace]")),
    };
    write(app, "Cargo.toml", &manifest);
}

/// The handlers of `fixtures/migrate-derefs/src/lib.rs` (or its expected form) without the
/// one already on the twin and without `mod sqlx;` (now a crate).
fn handlers_without_sqlx_module(text: &str) -> String {
    let (head, rest) = text.split_once("/// Already on the read-only pool").unwrap();
    let (_, tail) = rest.split_once("pub fn app()").unwrap();
    format!("{head}pub fn app(){tail}")
        .replace("        .route(\"/users\", web::get().to(users))\n", "")
        .replace("pub mod sqlx;\n", "")
}

/// `ro-audit ARGS` in `dir`, with cargo building into `target/NAME` of this workspace.
fn ro_audit_building(dir: &Path, target: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ro-audit"))
        .current_dir(dir)
        .args(args)
        .env("CARGO_TARGET_DIR", workspace().join("target").join(target))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("ro-audit runs")
}

fn source_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(dir.join("src"))
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            (PathBuf::from("src").join(path.file_name().unwrap()), std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// `fixtures/migrate-verify/`: four pure-read handlers in two files; `pages::audit` hands its
/// handle to generic code bounded by a trait only the primary's type implements, which the
/// classifier cannot see. `--verify` bisects (file, then handler), reverts `audit` alone with
/// the compiler's E0277, keeps the three others (and the imports they need), exits 2; the
/// tree compiles.
#[test]
fn verify_reverts_exactly_the_rewrite_that_breaks_the_build() {
    let (tmp, expected) = fixture_project("migrate-verify");
    let app = tmp.path();
    let before = source_files(app);
    let verify = [
        "migrate",
        ".",
        "--apply",
        "--allow-dirty",
        "--format",
        "json",
        "--verify",
        "cargo check --offline --quiet",
    ];
    let out = ro_audit_building(app, "migrate-verify", &verify);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "a handler was reverted: {stderr}");
    assert!(stderr.contains("1 handler(s) reverted"), "{stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let handler = |name: &str| -> Value {
        json["handlers"].as_array().unwrap().iter().find(|h| h["handler"] == name).cloned().unwrap()
    };
    for name in ["list_posts", "count_posts", "about"] {
        assert_eq!(handler(name)["class"], "pure-read", "{name}");
    }
    let audit = handler("audit");
    assert_eq!(audit["class"], "rewrite-failed");
    assert_eq!(audit["edits"], Value::Array(Vec::new()));
    let reason = audit["reasons"][0]["message"].as_str().unwrap();
    assert!(reason.contains("error[E0277]") && reason.contains("src/pages.rs:11"), "{reason}");
    assert_eq!(json["summary"]["rewrite_failed"], 1);
    assert_eq!(json["summary"]["pure_read"], 3);

    let mut after = source_files(app);
    after.retain(|(p, _)| expected.iter().any(|(q, _)| q == p));
    let mut want = expected.clone();
    want.sort();
    assert_eq!(after, want, "the tree is the original plus the rewrites that compile");
    let untouched: Vec<_> =
        source_files(app).into_iter().filter(|(p, _)| !want.iter().any(|(q, _)| q == p)).collect();
    let original: Vec<_> = before.into_iter().filter(|(p, _)| !want.iter().any(|(q, _)| q == p)).collect();
    assert_eq!(untouched, original);

    // Again: `audit` is planned and reverted again; nothing else changes.
    let settled = source_files(app);
    let out = ro_audit_building(app, "migrate-verify", &verify);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(source_files(app), settled);
}

/// When the command fails on the tree before any rewrite, nothing can be blamed: every file is
/// restored and the run fails with a message saying so.
#[test]
fn verify_blames_nothing_when_the_tree_did_not_build_before() {
    let (tmp, _) = fixture_project("migrate-verify");
    let app = tmp.path();
    let db = app.join("src/db.rs");
    let broken =
        std::fs::read_to_string(&db).unwrap() + "\npub fn broken() -> u32 {\n    \"not a number\"\n}\n";
    std::fs::write(&db, broken).unwrap();
    let before = source_files(app);
    let out = ro_audit_building(
        app,
        "migrate-verify",
        &["migrate", ".", "--apply", "--allow-dirty", "--verify", "cargo check --offline --quiet"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("fails without the rewrite too") && stderr.contains("E0308"), "{stderr}");
    assert_eq!(source_files(app), before);
}

/// A command that cannot start decides nothing: every file is restored, exit 2.
#[test]
fn verify_with_a_command_that_cannot_run_restores_the_tree() {
    let (tmp, _) = fixture_project("migrate-verify");
    let app = tmp.path();
    let before = source_files(app);
    let out = ro_audit_building(
        app,
        "migrate-verify",
        &["migrate", ".", "--apply", "--allow-dirty", "--verify", "no-such-command-ro-audit --check"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot run `no-such-command-ro-audit --check`"), "{stderr}");
    assert_eq!(source_files(app), before);
}
