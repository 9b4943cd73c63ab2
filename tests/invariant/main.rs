//! The invariant of the one judge: right after `migrate --apply`, `check` (same rule set)
//! reports nothing inside a handler that migrate rewrote. Tested on every tree under
//! `fixtures/` and on thousands of generated trees ([`generator`]), in-process through the
//! library API (the same code the binary runs).

mod compiling;
mod generator;
mod homes;

use std::path::{Path, PathBuf};
use std::process::Command;

use ro_audit::config::RuleSet;
use ro_audit::migrate::classify::Class;
use ro_audit::migrate::pipeline::{self as migrate, HandlerReport, Options};
use ro_audit::migrate::scan::MigrateNames;

/// What one migrate-then-check round saw.
#[derive(Debug, Default)]
pub struct Round {
    /// Findings inside a handler migrate rewrote, one line each (empty: the invariant holds).
    pub problems: Vec<String>,
    /// Handlers migrate rewrote.
    pub rewritten: usize,
    /// Handlers migrate left `mixed`.
    pub mixed: usize,
    /// Glob imports (`use crate::prelude::*;`) migrate removed, left bringing nothing used.
    pub globs_removed: usize,
}

/// Migrates the tree at `dir` in place (`--apply --allow-dirty`), then checks it with the same
/// rule set.
pub fn migrate_then_check(dir: &Path) -> Round {
    let rules = RuleSet::load(None, dir).unwrap_or_else(|e| panic!("{}: config: {e}", dir.display()));
    let paths = [dir.to_path_buf()];
    let planned = migrate::run(&paths, &rules, &Options::default()).expect("migrate runs");
    // Imports may move lines: then the spans are taken from the migrated text.
    let names = MigrateNames::new(&rules);
    let moved = planned.changes.iter().any(|c| {
        let (old, new) = c.texts(&names).expect("a planned change plans again");
        old.lines().count() != new.lines().count()
    });
    migrate::apply(&planned.changes, &rules, true).expect("migrate applies");
    let rewritten: Vec<(String, PathBuf)> = planned
        .handlers
        .iter()
        .filter(|h| h.class == Class::PureRead)
        .map(|h| (h.handler.clone(), h.file.clone()))
        .collect();
    let after = if moved {
        migrate::run(&paths, &rules, &Options::default()).expect("migrate runs again").handlers
    } else {
        planned.handlers.clone()
    };
    let checked = ro_audit::pipeline::check(&paths, &rules).expect("check runs");
    let mut round = Round {
        rewritten: rewritten.len(),
        mixed: planned.handlers.iter().filter(|h| h.class == Class::Mixed).count(),
        ..Round::default()
    };
    for h in after.iter().filter(|h| rewritten.contains(&(h.handler.clone(), h.file.clone()))) {
        for f in &checked.findings {
            if f.file == h.file && (h.span[0]..=h.span[1]).contains(&f.line) {
                round.problems.push(format!(
                    "{}:{}: [{}] {} (in migrated handler `{}`, lines {}-{})",
                    f.file.display(),
                    f.line,
                    f.rule,
                    f.message,
                    h.handler,
                    h.span[0],
                    h.span[1]
                ));
            }
        }
    }
    round
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}

/// Every tree under `fixtures/`: each migrate `before` tree, the check cases (one tree with
/// their rule set), the demo, the CI service, the compile fixture.
fn fixture_trees() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut trees: Vec<PathBuf> =
        std::fs::read_dir(root.join("migrate")).unwrap().map(|e| e.unwrap().path().join("before")).collect();
    trees.sort();
    trees.extend(["check", "demo", "ci", "migrate-compile"].map(|t| root.join(t)));
    trees
}

#[test]
fn after_migrate_apply_check_finds_nothing_in_a_migrated_handler_of_any_fixture() {
    let trees = fixture_trees();
    assert!(trees.len() >= 45, "every fixture tree, found {}", trees.len());
    let mut problems = Vec::new();
    for tree in &trees {
        let tmp = tempfile::tempdir().unwrap();
        copy_tree(tree, tmp.path());
        for p in migrate_then_check(tmp.path()).problems {
            problems.push(format!("{}: {p}", tree.display()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_regressions_are_mixed_not_migrated() {
    // handler → tree helper → `write_audit(db, …)`; a get-or-create helper with a sea-orm
    // `ActiveModel.insert(db)`; a write inside `json!({ … })`; a SELECT of a SQL function that
    // the tree's migration defines to write (through another one), or a migration written in
    // Rust does.
    let tree = generator::regressions();
    let tmp = tempfile::tempdir().unwrap();
    tree.write(tmp.path());
    let problems = migrate_then_check(tmp.path()).problems;
    assert!(problems.is_empty(), "{}\n{}", problems.join("\n"), tree.listing());
    let rules = RuleSet::builtin(tmp.path());
    let outcome = migrate::run(&[tmp.path().to_path_buf()], &rules, &Options::default()).unwrap();
    let class = |name: &str| outcome.handlers.iter().find(|h| h.handler == name).map(|h| h.class);
    assert_eq!(class("page"), Some(Class::Mixed), "tree helper calling write_audit");
    assert_eq!(class("user"), Some(Class::Mixed), "get-or-create with ActiveModel.insert");
    assert_eq!(class("report"), Some(Class::Mixed), "write inside json!");
    assert_eq!(class("list"), Some(Class::AlreadyRo), "the reading handler was migrated");
    assert_eq!(class("touch"), Some(Class::Mixed), "SELECT of a writing SQL function of the tree");
    assert_eq!(class("tag_page"), Some(Class::AlreadyRo), "SELECT of a STABLE function: migrated");
    assert_eq!(class("archive"), Some(Class::Mixed), "SELECT of a writing function a Rust migration defines");
}

#[test]
fn thousands_of_generated_trees_keep_the_invariant() {
    const TREES: u64 = 2_000;
    const THREADS: u64 = 2;
    let rounds: Vec<(u64, Round)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                scope.spawn(move || {
                    let mut rounds = Vec::new();
                    for seed in (t..TREES).step_by(THREADS as usize) {
                        let tmp = tempfile::tempdir().unwrap();
                        generator::tree(seed).write(tmp.path());
                        rounds.push((seed, migrate_then_check(tmp.path())));
                    }
                    rounds
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(rounds.len() as u64, TREES);
    if let Some((seed, round)) = rounds.iter().find(|(_, r)| !r.problems.is_empty()) {
        panic!("seed {seed}:\n{}\n\n{}", round.problems.join("\n"), generator::tree(*seed).listing());
    }
    // The trees exercise both sides: handlers rewritten and handlers left mixed.
    let rewritten: usize = rounds.iter().map(|(_, r)| r.rewritten).sum();
    let mixed: usize = rounds.iter().map(|(_, r)| r.mixed).sum();
    assert!(rewritten >= 500 && mixed >= 1_000, "{rewritten} rewritten, {mixed} mixed");
}

/// Plans `migrate` (no apply) on the generated trees of seeds `0..seeds` and calls `f` with
/// each handler report and its text (its span's lines).
fn each_planned_handler(seeds: u64, mut f: impl FnMut(&HandlerReport, &str)) {
    for seed in 0..seeds {
        let tmp = tempfile::tempdir().unwrap();
        generator::tree(seed).write(tmp.path());
        let rules = RuleSet::load(None, tmp.path()).unwrap();
        let planned = migrate::run(&[tmp.path().to_path_buf()], &rules, &Options::default()).unwrap();
        for h in &planned.handlers {
            let text = std::fs::read_to_string(&h.file).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            f(h, &lines[h.span[0] as usize - 1..h.span[1] as usize].join("\n"));
        }
    }
}

#[test]
fn generated_trees_call_helpers_that_lock_on_a_flag() {
    // A handler whose only call of a locking helper passes `false` reads and is migrated; one
    // passing `true` stays mixed by the lock. (The invariant holds only if the flag is read
    // the same way by both commands.)
    let (mut migrated, mut locked) = (0, 0);
    each_planned_handler(300, |h, body| {
        let says = |what: &str| h.reasons.iter().any(|r| r.message.contains(what));
        migrated += usize::from(h.class == Class::PureRead && body.contains(", false).await"));
        locked += usize::from(h.class == Class::Mixed && (says("FOR UPDATE") || says("FOR SHARE")));
    });
    assert!(
        migrated >= 5 && locked >= 5,
        "{migrated} migrated passing `false` to a locking helper, {locked} mixed by a lock"
    );
}

#[test]
fn generated_trees_name_the_handles_by_their_type_aliases_too() {
    // The generator's handlers that take the primary by its alias stay mixed, saying why; those
    // that also take the replica by its alias (or the prelude's rename of it) are migrated
    // when they only read there, and stay mixed when they write there (the invariant then
    // holds only if that write is seen).
    let (mut primary_alias, mut replica_migrated, mut replica_write) = (0, 0, 0);
    let mut renamed_write = 0;
    each_planned_handler(300, |h, body| {
        let says = |what: &str| h.reasons.iter().any(|r| r.message.contains(what));
        primary_alias += usize::from(h.class == Class::Mixed && says("`Primary`, a type alias"));
        if body.contains("replica: Replica") || body.contains("replica: Follower") {
            replica_migrated += usize::from(h.class == Class::PureRead);
            replica_write += usize::from(h.class == Class::Mixed && says("`replica.0`"));
        }
        if body.contains("replica: Follower") {
            renamed_write += usize::from(h.class == Class::Mixed && says("`replica.0`"));
        }
    });
    assert!(
        primary_alias >= 20 && replica_migrated >= 10 && replica_write >= 10 && renamed_write >= 5,
        "{primary_alias} mixed by the primary's alias, {replica_migrated} migrated with the replica's, \
         {replica_write} mixed by a write on the replica's ({renamed_write} by the prelude's rename)"
    );
}

#[test]
fn migrate_json_gives_each_handler_its_span() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/migrate/axum_route_get/before");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ro-audit"))
        .args(["migrate", "--format", "json", "."])
        .current_dir(&dir)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let handler = &doc["handlers"][0];
    assert_eq!(handler["handler"], "list_posts");
    assert_eq!(handler["span"], serde_json::json!([8, 11]), "`async fn list_posts` to its closing brace");
}

/// The rustc that builds this workspace (cargo's `RUSTC`, or the one on `PATH`).
fn rustc() -> String {
    std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string())
}

/// `f` of every seed below `seeds`, on two threads (seeds alternating), in no set order.
fn on_threads<T: Send>(seeds: u64, f: impl Fn(u64) -> T + Sync) -> Vec<(u64, T)> {
    const THREADS: u64 = 2;
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                scope.spawn(move || {
                    (t..seeds).step_by(THREADS as usize).map(|s| (s, f(s))).collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
    })
}

/// Builds [`compiling::AXUM_STUB`] into `dir` as `libaxum.rlib`.
fn build_axum_stub(dir: &Path) -> PathBuf {
    let src = dir.join("axum.rs");
    std::fs::write(&src, compiling::AXUM_STUB).unwrap();
    let out = Command::new(rustc())
        .args(["--edition", "2021", "--crate-type", "rlib", "--crate-name", "axum", "-D", "warnings"])
        .arg("--out-dir")
        .arg(dir)
        .arg(&src)
        .output()
        .expect("rustc runs");
    assert!(out.status.success(), "the axum stub builds:\n{}", String::from_utf8_lossy(&out.stderr));
    dir.join("libaxum.rlib")
}

/// Type-checks the service at `dir` with `-D warnings` (its sibling crate `store-core/` first,
/// when it has one); the compiler's errors if it fails.
fn compile_errors(dir: &Path, axum: &Path) -> Option<String> {
    let out_dir = dir.join("target");
    let rustc_lib = |name: &str, root: PathBuf, externs: &[(&str, PathBuf)], emit: &str| {
        let mut cmd = Command::new(rustc());
        cmd.args(["--edition", "2021", "--crate-type", "lib", "--crate-name", name, emit, "-D", "warnings"]);
        for (krate, lib) in externs {
            cmd.arg("--extern").arg(format!("{krate}={}", lib.display()));
        }
        let out = cmd.arg("--out-dir").arg(&out_dir).arg(root).output().expect("rustc runs");
        (!out.status.success()).then(|| String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let mut externs = vec![("axum", axum.to_path_buf())];
    let app = if dir.join("store-core").is_dir() {
        if let Some(errors) = rustc_lib("store", dir.join("store-core/src/lib.rs"), &[], "--emit=metadata") {
            return Some(errors);
        }
        externs.push(("store", out_dir.join("libstore.rmeta")));
        dir.join("app")
    } else {
        dir.to_path_buf()
    };
    rustc_lib("app", app.join("src/lib.rs"), &externs, "--emit=metadata")
}

#[test]
fn generated_services_still_compile_after_migrate_apply() {
    const SERVICES: u64 = 240;
    let stub = tempfile::tempdir().unwrap();
    let axum = build_axum_stub(stub.path());
    let results: Vec<(u64, Result<Round, String>)> = on_threads(SERVICES, |seed| {
        let tmp = tempfile::tempdir().unwrap();
        compiling::service(seed).write(tmp.path());
        migrate_and_compile(tmp.path(), &axum)
    });
    assert_eq!(results.len() as u64, SERVICES);
    let failures: Vec<(u64, &String)> =
        results.iter().filter_map(|(seed, r)| r.as_ref().err().map(|e| (*seed, e))).collect();
    if let Some((seed, first)) = failures.first() {
        let heads: Vec<String> = failures
            .iter()
            .map(|(s, e)| format!("seed {s}: {}", e.lines().take(3).collect::<Vec<_>>().join(" | ")))
            .collect();
        panic!(
            "{} of {SERVICES} services fail:\n{}\n\nthe first, seed {seed}:\n{first}\n\n{}",
            failures.len(),
            heads.join("\n"),
            compiling::service(*seed).listing()
        );
    }
    let rewritten: usize = results.iter().filter_map(|(_, r)| r.as_ref().ok()).map(|r| r.rewritten).sum();
    let mixed: usize = results.iter().filter_map(|(_, r)| r.as_ref().ok()).map(|r| r.mixed).sum();
    assert!(rewritten >= 200 && mixed >= 100, "{rewritten} rewritten, {mixed} mixed");
    // Every way of naming the accessors is among the services.
    let listings: Vec<String> = (0..SERVICES).map(|seed| compiling::service(seed).listing()).collect();
    for shape in [
        "use crate::db::get_db;",
        "use crate::db::{",
        "use crate::db::{\n",
        "use crate::{db::",
        "use crate::db;",
        "crate::db::get_db()",
        "use crate::db::*;",
        "get_db as primary;",
        "use super::super::db::",
        "    use crate::db::",
        "use crate::prelude::{",
        "use crate::prelude::*;",
        "    use super::*;",
        "(DbRw(conn): DbRw)",
        "use crate::db::{self, ",
        "state.get_db()",
        "impl Api {",
        "::<u8>))",
        "use store::db::",
        "pub use store::db;",
        "pub use crate::db::{get_db, Conn, DbRw};",
    ] {
        let n = listings.iter().filter(|l| l.contains(shape)).count();
        assert!(n >= 5, "`{shape}` in {n} services only");
    }
}

/// The service at `dir` compiles; after `migrate --apply` it still does, `check` finds nothing
/// in a migrated handler, and migrating again changes nothing.
fn migrate_and_compile(dir: &Path, axum: &Path) -> Result<Round, String> {
    if let Some(errors) = compile_errors(dir, axum) {
        return Err(format!("the generated service does not compile before migrate:\n{errors}"));
    }
    let before: Vec<(PathBuf, String)> = walk_rs(dir);
    let mut round = migrate_then_check(dir);
    round.globs_removed = globs_removed(&before, &walk_rs(dir));
    if !round.problems.is_empty() {
        return Err(format!("check after migrate:\n{}", round.problems.join("\n")));
    }
    if let Some(errors) = compile_errors(dir, axum) {
        return Err(format!("does not compile after migrate --apply:\n{errors}\n{}", changed(&before, dir)));
    }
    let rules = RuleSet::load(None, dir).unwrap();
    let again = migrate::run(&[dir.to_path_buf()], &rules, &Options::default()).expect("migrate runs");
    if !again.changes.is_empty() {
        return Err(format!("a second migrate would change {} file(s)", again.changes.len()));
    }
    Ok(round)
}

/// A glob that brought only the read-write accessor, its twin imported by name beside it (the
/// shape the compile property above met at generator seed 50,538, outside the range it runs):
/// the rewrite leaves the glob bringing nothing the file names, so it goes, and the service
/// still compiles with `-D warnings`. When the prelude also holds a trait, what the glob brings
/// is not known (a trait serves method calls that never name it) and the glob stays.
#[test]
fn a_glob_the_rewrite_leaves_unused_goes_only_when_all_it_brings_is_known() {
    let stub = tempfile::tempdir().unwrap();
    let axum = build_axum_stub(stub.path());
    let service = |prelude: &str| {
        let tmp = tempfile::tempdir().unwrap();
        let write = |rel: &str, text: &str| {
            let path = tmp.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("Cargo.toml", "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\naxum = \"0.8\"\n");
        write(
            "src/lib.rs",
            "pub mod db;\npub mod prelude;\npub mod util;\npub mod m0;\n\nuse axum::routing::get;\nuse axum::Router;\n\n\
             pub fn app() -> Router {\n    Router::new().route(\"/m0/h0\", get(m0::h0)).route(\"/m0/h1\", get(m0::h1))\n}\n",
        );
        write(
            "src/db.rs",
            "pub struct Conn;\n\npub struct DbRw(pub Conn);\n\nimpl Conn {\n    \
             pub async fn query(&self, _sql: &str) -> Vec<String> {\n        Vec::new()\n    }\n}\n\n\
             pub async fn get_db() -> Conn {\n    Conn\n}\n\npub async fn get_db_ro() -> Conn {\n    Conn\n}\n",
        );
        write("src/util.rs", "pub fn label(n: usize) -> String {\n    n.to_string()\n}\n");
        write("src/prelude.rs", prelude);
        write(
            "src/m0.rs",
            "use crate::prelude::*;\nuse crate::db::get_db_ro;\n\npub async fn h0() -> String {\n    \
             let db = get_db().await;\n    let rows = db.query(\"SELECT id FROM posts\").await;\n    \
             crate::util::label(rows.len())\n}\n\npub async fn h1() -> String {\n    \
             let db = get_db_ro().await;\n    crate::util::label(db.query(\"SELECT 1\").await.len())\n}\n",
        );
        tmp
    };
    let prelude = "pub use crate::db::{get_db, Conn, DbRw};\npub use crate::util::label;\n";
    let tmp = service(prelude);
    let round = migrate_and_compile(tmp.path(), &axum).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((round.rewritten, round.globs_removed), (1, 1));
    let m0 = std::fs::read_to_string(tmp.path().join("src/m0.rs")).unwrap();
    assert!(
        m0.starts_with(
            "use crate::db::get_db_ro;\n\npub async fn h0() -> String {\n    let db = get_db_ro()"
        ),
        "{m0}"
    );
    let tmp = service(&format!("{prelude}pub trait Tagged {{}}\n"));
    let round = migrate_then_check(tmp.path());
    assert_eq!(round.rewritten, 1);
    let m0 = std::fs::read_to_string(tmp.path().join("src/m0.rs")).unwrap();
    assert!(m0.starts_with("use crate::prelude::*;\nuse crate::db::get_db_ro;\n"), "{m0}");
}

/// How many `use …::*;` lines of the files `before` are gone from the same files `after`.
fn globs_removed(before: &[(PathBuf, String)], after: &[(PathBuf, String)]) -> usize {
    let globs = |text: &str| -> Vec<String> {
        text.lines().filter(|l| l.starts_with("use ") && l.ends_with("::*;")).map(str::to_string).collect()
    };
    before
        .iter()
        .filter_map(|(path, old)| Some((globs(old), globs(&after.iter().find(|(p, _)| p == path)?.1))))
        .map(|(old, new)| old.iter().filter(|g| !new.contains(g)).count())
        .sum()
}

/// The `.rs` files below `dir` (`target/` left out) with their text.
fn walk_rs(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n == "target") {
                    continue;
                }
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }
    out.sort();
    out
}

/// The migrated text of every file migrate changed.
fn changed(before: &[(PathBuf, String)], dir: &Path) -> String {
    let mut out = String::new();
    for (path, after) in walk_rs(dir) {
        if before.iter().any(|(p, t)| *p == path && *t != after) {
            out.push_str(&format!("==> migrated {} <==\n{after}\n", path.display()));
        }
    }
    out
}

/// `rustfmt --check` of the `.rs` files below `dir` (formatting them in place first when
/// `format`); its complaint if it has one. A machine without rustfmt fails the test, naming it.
fn rustfmt(dir: &Path, format: bool) -> Option<String> {
    let files: Vec<PathBuf> = walk_rs(dir).into_iter().map(|(p, _)| p).collect();
    let rustfmt = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".to_string());
    let mut cmd = Command::new(&rustfmt);
    cmd.args(["--edition", "2021"]);
    if !format {
        cmd.arg("--check");
    }
    let out = cmd.args(&files).output().unwrap_or_else(|e| {
        panic!("{rustfmt} does not run ({e}): install it with `rustup component add rustfmt`")
    });
    (!out.status.success())
        .then(|| format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The twin a service declares itself (`DbRo` in `crate::replica`, `crate::pools::ro`, …) while
/// the read-write type comes from a sibling crate (`use store::db::DbRw;`, `use
/// crate::db::DbRw;` through `pub use store::db;`, in every body): migrate imports the twin
/// from where the service declares it — never `use store::db::DbRo;` (E0432) — and every
/// rewritten service still type-checks with `-D warnings`, passes `rustfmt --check` as it did
/// before, and is left alone by a second migrate. Where the handlers are a binary's modules,
/// the twin comes through the library by its name (`use app::replica::DbRo;`), never
/// `crate::replica` (E0432 in the binary).
#[test]
fn a_twin_the_service_declares_is_imported_from_there() {
    const SERVICES: u64 = 120;
    let stub = tempfile::tempdir().unwrap();
    let axum = build_axum_stub(stub.path());
    /// A service's round, where it declares the twin, and whether a file imports it from there.
    type Outcome = Result<(Round, homes::Layout, bool), String>;
    let one = |seed: u64| -> Outcome {
        let tmp = tempfile::tempdir().unwrap();
        let (tree, layout) = homes::service(seed);
        tree.write(tmp.path());
        if let Some(err) = rustfmt(tmp.path(), true) {
            return Err(format!("rustfmt cannot format the generated service:\n{err}"));
        }
        let before = walk_rs(tmp.path());
        let round = migrate_and_compile(tmp.path(), &axum)?;
        if let Some(diff) = rustfmt(tmp.path(), false) {
            return Err(format!("rustfmt would change the migrated service:\n{diff}"));
        }
        // A file that imports the twin from its home now and did not before.
        let import = format!("use {};", layout.path());
        let imported_from_home = walk_rs(tmp.path()).iter().any(|(path, text)| {
            text.contains(&import) && !before.iter().any(|(p, t)| p == path && t.contains(&import))
        });
        Ok((round, layout, imported_from_home))
    };
    let results: Vec<(u64, Outcome)> = on_threads(SERVICES, one);
    let failures: Vec<String> = results
        .iter()
        .filter_map(|(seed, r)| {
            r.as_ref().err().map(|e| format!("seed {seed}: {e}\n{}", homes::service(*seed).0.listing()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {SERVICES} services fail; the first:\n{}",
        failures.len(),
        failures[0]
    );
    let ok: Vec<&(Round, homes::Layout, bool)> =
        results.iter().filter_map(|(_, r)| r.as_ref().ok()).collect();
    let rewritten: usize = ok.iter().map(|(r, ..)| r.rewritten).sum();
    let mixed: usize = ok.iter().map(|(r, ..)| r.mixed).sum();
    assert!(rewritten >= 100 && mixed >= 40, "{rewritten} rewritten, {mixed} mixed");
    for home in [homes::Home::Public, homes::Home::Private, homes::Home::Nested, homes::Home::ReExported] {
        let imported = ok.iter().filter(|(_, l, from_home)| l.home == home && *from_home).count();
        assert!(imported >= 5, "{home:?}: the twin imported from its home in {imported} services");
    }
    let in_binaries = ok.iter().filter(|(_, l, from_home)| l.binary && *from_home).count();
    assert!(in_binaries >= 10, "the twin imported through the library in {in_binaries} binaries");
}
