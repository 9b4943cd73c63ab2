//! The invariant of the one judge: right after `migrate --apply`, `check` (same rule set)
//! reports nothing inside a handler that migrate rewrote. Tested on every tree under
//! `fixtures/` and on thousands of generated trees ([`generator`]), in-process through the
//! library API (the same code the binary runs).

mod generator;

use std::path::{Path, PathBuf};

use ro_audit::config::RuleSet;
use ro_audit::migrate::classify::Class;
use ro_audit::migrate::pipeline::{self as migrate, Options};
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
