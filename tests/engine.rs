//! The shared engine on generated and small trees, through the real binary: calls resolved by
//! type (field types from files the first pass skipped), unresolved calls counted and
//! explained, and a tree built to explode path combinations giving one bounded chain.

mod common;

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// Far more than any of these trees needs; only there so that a regression cannot hang CI.
const ANTI_HANG: Duration = Duration::from_secs(300);

/// `ro-audit check src --format json --explain-unresolved` in `dir`, killed after
/// [`ANTI_HANG`]: the document and stderr.
fn check(dir: &std::path::Path) -> (Value, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_ro-audit"))
        .current_dir(dir)
        .args(["check", "src", "--format", "json", "--explain-unresolved"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let pid = child.id();
    // Both pipes are drained while waiting (a full pipe would block the child).
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = send.send(child.wait_with_output());
    });
    let Ok(output) = receive.recv_timeout(ANTI_HANG) else {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        panic!("ro-audit check did not finish within {ANTI_HANG:?}");
    };
    let output = output.expect("the output");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "the tool panicked:\n{stderr}");
    let json = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(&output.stdout)));
    (json, stderr)
}

/// (line, function) of every finding.
fn findings(json: &Value) -> Vec<(u64, String)> {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| (f["line"].as_u64().expect("line"), f["function"].as_str().expect("function").to_string()))
        .collect()
}

#[test]
fn a_field_typed_in_a_file_the_first_pass_skipped_picks_the_method() {
    let dir = common::tree(&[
        ("src/ctx.rs", "pub struct Ctx {\n    pub store: crate::store::Store,\n    pub cache: Cache,\n}\n"),
        (
            "src/store.rs",
            "pub struct Store;\nimpl Store {\n    pub async fn save(&self, db: &Client) {\n        db.execute(\"INSERT INTO t VALUES (1)\", &[]).await;\n    }\n}\n",
        ),
        (
            "src/cache.rs",
            "pub struct Cache;\nimpl Cache {\n    pub async fn save(&self, db: &Client) {\n        db.query(\"SELECT 1\", &[]).await;\n    }\n}\n",
        ),
        (
            "src/api.rs",
            "pub async fn handler(ctx: &Ctx, state: &AppState) {\n    let db = state.get_db_ro().await;\n    ctx.cache.save(&db).await;\n    ctx.store.save(&db).await;\n}\n",
        ),
    ]);
    let (json, stderr) = check(dir.path());
    assert_eq!(findings(&json), [(4, "handler".to_string())], "only the store's save writes; {stderr}");
    assert_eq!(json["summary"]["unresolved_calls"], 0);
}

#[test]
fn an_unknown_receiver_resolves_to_a_unique_method_only_and_is_otherwise_explained() {
    let dir = common::tree(&[(
        "src/lib.rs",
        "pub struct Orders;\npub struct Notes;\n\
impl Orders {\n    pub async fn archive(&self, db: &Client) { db.execute(\"DELETE FROM orders\", &[]).await; }\n    pub async fn refresh(&self, db: &Client) { db.execute(\"REFRESH MATERIALIZED VIEW totals\", &[]).await; }\n}\n\
impl Notes {\n    pub async fn archive(&self, db: &Client) { db.query(\"SELECT 1\", &[]).await; }\n}\n\
pub async fn handler(state: &AppState) {\n    let db = state.get_db_ro().await;\n    let item = lookup();\n    item.archive(&db).await;\n    item.refresh(&db).await;\n}\n",
    )]);
    let (json, stderr) = check(dir.path());
    // `refresh` is the only method of that name: resolved. `archive` is two types' method and
    // the receiver's type is unknown: neither body is taken, the call is explained.
    assert_eq!(findings(&json), [(14, "handler".to_string())]);
    assert_eq!(json["summary"]["unresolved_calls"], 1);
    let expected = format!(
        "{}:13: unresolved call `archive` in `handler`: the receiver's type is not known and 2 methods of the tree are named `archive`",
        std::path::Path::new("src").join("lib.rs").display()
    );
    assert!(stderr.lines().any(|l| l == expected), "missing `{expected}` in:\n{stderr}");
}

#[test]
fn a_type_imported_from_another_crate_is_not_the_tree_type_of_that_name() {
    let dir = common::tree(&[
        (
            "src/jobs.rs",
            "pub struct Command {}
impl Command {
    pub async fn output(&self, db: &Client) {
        db.execute(\"DELETE FROM jobs\", &[]).await;
    }
}
",
        ),
        (
            "src/api.rs",
            "use std::process::Command;

pub async fn handler(state: &AppState) {
    let db = state.get_db_ro().await;
    let shell = Command::new(\"ls\");
    shell.output(&db).await;
    let job = crate::jobs::Command {};
    job.output(&db).await;
}
",
        ),
    ]);
    let (json, stderr) = check(dir.path());
    assert_eq!(findings(&json), [(8, "handler".to_string())], "only the tree's Command writes; {stderr}");
    assert_eq!(json["summary"]["unresolved_calls"], 0);
}

/// `TYPES` types, each with the methods `write`, `feed` and `process`; every method calls all
/// three on the next type's field and all three on a receiver of unknown type, and only the
/// last type's `write` runs SQL that writes. Resolving by name would join every body into every
/// other; resolving by type gives one chain through the types.
fn exploding_tree(types: usize) -> String {
    let mut src = String::new();
    for i in 0..types {
        let next = (i + 1).min(types - 1);
        let _ = writeln!(src, "pub struct T{i} {{ pub next: Box<T{next}> }}\nimpl T{i} {{");
        for m in ["write", "feed", "process"] {
            let _ = writeln!(src, "    pub async fn {m}(&self, db: &Client) {{");
            if i == types - 1 && m == "write" {
                let _ = writeln!(src, "        db.execute(\"INSERT INTO log VALUES (1)\", &[]).await;");
            } else if i < types - 1 {
                for callee in ["write", "feed", "process"] {
                    let _ = writeln!(src, "        self.next.{callee}(db).await;");
                }
            }
            let _ = writeln!(src, "        let other = pick();");
            for callee in ["write", "feed", "process"] {
                let _ = writeln!(src, "        other.{callee}(db).await;");
            }
            let _ = writeln!(src, "    }}");
        }
        let _ = writeln!(src, "}}");
    }
    let _ = writeln!(
        src,
        "pub async fn handler(state: &AppState, root: &T0) {{\n    let db = state.get_db_ro().await;\n    root.process(&db).await;\n}}"
    );
    src
}

#[test]
fn a_tree_built_to_explode_path_combinations_gives_one_bounded_chain() {
    const TYPES: usize = 120;
    let dir = common::tree(&[("src/lib.rs", &exploding_tree(TYPES))]);
    let (json, stderr) = check(dir.path());
    let all = json["findings"].as_array().expect("findings");
    assert_eq!(all.len(), 1, "one call in the handler reaches the write: {all:?}");
    let chain = all[0]["chain"].as_array().expect("a chain");
    // One step per type down to the write, its middle cut at the chain limit (32 steps below
    // the handler's): never one per path, and always ending at the write.
    assert_eq!(chain.len(), 33, "{chain:?}");
    assert_eq!(chain.last().expect("a last step")["evidence"], "INSERT INTO log VALUES (1)");
    // Every `other.…(db)` call: 3 per method, 3 methods per type; each name has TYPES bodies.
    assert_eq!(json["summary"]["unresolved_calls"], (TYPES * 9) as u64);
    assert_eq!(stderr.lines().filter(|l| l.contains("unresolved call")).count(), TYPES * 9);
}

/// A file named by its absolute path while the project around it is walked from `.`: one file,
/// one slot — its functions are not doubled into "ambiguous" calls, and it is parsed once.
#[test]
fn a_file_named_by_its_absolute_path_is_one_file_with_its_context() {
    let dir = common::tree(&[
        (".git/HEAD", "ref: refs/heads/main\n"),
        (
            "src/a.rs",
            "struct Repo;\n\
             impl Repo {\n\
             \x20   async fn bump(&self, db: &Client) {\n\
             \x20       db.execute(\"UPDATE t SET n = n + 1\", &[]).await;\n\
             \x20   }\n\
             }\n\
             async fn handler(state: &AppState) {\n\
             \x20   let db = state.get_db_ro();\n\
             \x20   Repo.bump(&db).await;\n\
             }\n",
        ),
        ("src/b.rs", "pub const Q: &str = \"SELECT 1\";\n"),
    ]);
    let named = dir.path().join("src/a.rs");
    for arg in [named.to_str().expect("a UTF-8 temp path"), "src/a.rs"] {
        let output = common::run(dir.path(), &["check", arg, "--format", "json"]);
        let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let messages: Vec<&str> = json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| f["message"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(messages.len(), 1, "{arg}: {json:#}");
        assert!(!messages[0].contains("ambiguous"), "{arg}: {}", messages[0]);
        assert_eq!(json["summary"]["files_seen"], 1, "{arg}");
        assert_eq!(json["summary"]["files_parsed"], 1, "{arg}: {json:#}");
    }
}

/// A service that SELECTs a SQL function, and a migration that defines it to write.
const SELECTS_A_FUNCTION: &str = "\
pub async fn replay(state: &AppState) {
    let db = state.get_db_ro().await?;
    db.query(\"SELECT * FROM replay_events($1)\", &[&1]).await?;
}
";
const WRITING_FUNCTION: &str =
    "CREATE FUNCTION replay_events(n INT) RETURNS SETOF events LANGUAGE plpgsql AS $$
BEGIN
    UPDATE events SET replayed = true WHERE id > n;
    RETURN QUERY SELECT * FROM events WHERE id > n;
END $$;
";

/// The same findings as walked from `src/`: `replay.rs`, and the SQL file under `root`.
fn found_from_src(found: &[(String, u64, String)], root: &std::path::Path) -> Vec<(String, u64, String)> {
    let defined_at = format!("defined at {}/migrations/", root.display());
    found
        .iter()
        .map(|(file, line, message)| {
            let file = file.strip_prefix("src/").unwrap_or(file).to_string();
            (file, *line, message.replace("defined at migrations/", &defined_at))
        })
        .collect()
}

/// `ro-audit check ARGS --format json` in `dir`: the findings' (file, line, message).
fn check_args(dir: &std::path::Path, args: &[&str]) -> Vec<(String, u64, String)> {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let output = common::run(dir, &all);
    let json: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(&output.stderr)));
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let text = |k: &str| f[k].as_str().expect(k).to_string();
            (text("file"), f["line"].as_u64().expect("line"), text("message"))
        })
        .collect()
}

#[test]
fn the_walked_sql_files_teach_which_functions_write_and_the_skipped_ones_do_not() {
    let dir = common::tree(&[
        ("src/replay.rs", SELECTS_A_FUNCTION),
        ("migrations/V7__replay.sql", WRITING_FUNCTION),
    ]);
    let found = check_args(dir.path(), &["."]);
    assert_eq!(found.len(), 1, "{found:?}");
    let (file, line, message) = &found[0];
    assert_eq!((file.as_str(), *line), ("src/replay.rs", 3));
    assert!(
        message.starts_with(
            "replay_events() (writes: UPDATE, defined at migrations/V7__replay.sql:1) runs on read-only `db`"
        ),
        "{message}"
    );
    // Outside any project (no repository, no config file), only the paths walked teach: `src`
    // alone does not reach `migrations/`, unless the SQL file is named too.
    assert_eq!(check_args(dir.path(), &["src"]), Vec::new());
    assert_eq!(check_args(dir.path(), &["src", "migrations/V7__replay.sql"]), found);
    // In a repository, a file named alone (a pre-commit hook) and a directory below its root
    // are checked with the repository's SQL files as context.
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    assert_eq!(check_args(dir.path(), &["src/replay.rs"]), found);
    assert_eq!(check_args(dir.path(), &["src"]), found);
    // From `src/` itself, the repository above is named by its absolute path.
    let root = dir.path().canonicalize().unwrap();
    assert_eq!(check_args(&dir.path().join("src"), &["."]), found_from_src(&found, &root));

    // SQL files the walk skips (build output, hidden directories, ignored and excluded paths)
    // teach nothing, and a file that is not UTF-8 breaks nothing.
    let dir = common::tree_bytes(&[
        ("src/replay.rs", SELECTS_A_FUNCTION.as_bytes()),
        ("target/V7__replay.sql", WRITING_FUNCTION.as_bytes()),
        (".cache/V7__replay.sql", WRITING_FUNCTION.as_bytes()),
        ("ignored/V7__replay.sql", WRITING_FUNCTION.as_bytes()),
        ("legacy/V7__replay.sql", WRITING_FUNCTION.as_bytes()),
        (".gitignore", b"ignored/\n"),
        ("ro-audit.toml", b"exclude = [\"legacy/**\"]\n"),
        ("migrations/latin1.sql", b"CREATE FUNCTION caf\xe9() RETURNS INT LANGUAGE sql AS 'DELETE FROM t';"),
    ]);
    assert_eq!(check_args(dir.path(), &["."]), Vec::new());
}
