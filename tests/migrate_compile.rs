//! `migrate --apply` on a real axum service using ro-router compiles afterwards.
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
