//! The pre-commit hook and `exclude`: the hook's own command line (from
//! `.pre-commit-hooks.yaml`) run in a real git repository on the staged files, with a write
//! that is visible only through a const of another, unstaged file; and `exclude` globs applied
//! to walked files, directories and named files alike.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The hook's `key: value` pairs (the file holds one hook).
fn hook() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo_root().join(".pre-commit-hooks.yaml")).unwrap();
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let l = l.trim_start().trim_start_matches("- ");
            let (k, v) = l.split_once(':').unwrap_or_else(|| panic!("not `key: value`: {l}"));
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect()
}

fn hook_value(key: &str) -> String {
    hook()
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("the hook has no `{key}`"))
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Runs the hook as pre-commit does: `entry`, then the hook's `args`, then the file names.
fn run_hook(dir: &Path, args: &[&str], files: &[String]) -> Output {
    let entry = hook_value("entry");
    let mut words = entry.split_whitespace();
    assert_eq!(words.next(), Some("ro-audit"), "the entry runs the installed binary");
    let output = Command::new(env!("CARGO_BIN_EXE_ro-audit"))
        .current_dir(dir)
        .args(words)
        .args(args)
        .args(files)
        .output()
        .expect("the binary runs");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
    output
}

const QUERIES: &str = "\
//! SQL of the service.

pub const POST_BY_ID: &str = \"SELECT id, title FROM posts WHERE id = $1\";
pub const BUMP_VIEWS: &str = \"UPDATE posts SET views = views + 1 WHERE id = $1\";
";

const HANDLERS_BEFORE: &str = "\
use crate::queries;

pub async fn show(state: &AppState, id: i64) -> Result<Post, Error> {
    let db = state.get_db_ro().await?;
    let row = db.query_one(queries::POST_BY_ID, &[&id]).await?;
    Ok(Post::from(row))
}
";

const OTHER_WRITE: &str = "\
pub async fn other(state: &AppState) {
    let db = state.get_db_ro().await?;
    db.execute(\"DELETE FROM sessions\", &[]).await?;
}
";

#[test]
fn the_hook_definition() {
    assert_eq!(hook_value("id"), "ro-audit");
    assert_eq!(hook_value("language"), "rust");
    assert_eq!(hook_value("entry"), "ro-audit check");
    assert_eq!(hook_value("types"), "[rust]");
    assert_eq!(hook_value("pass_filenames"), "true");
    // The package the hook installs (`cargo install --path .`) has the binary.
    let manifest = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"ro-audit\""));
}

#[test]
fn the_hook_reports_the_staged_file_with_consts_from_the_rest_of_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    git(dir, &["init", "-q"]);
    write(dir, "src/queries.rs", QUERIES);
    write(dir, "src/handlers.rs", HANDLERS_BEFORE);
    write(dir, "src/other.rs", "pub fn other() {}\n");
    write(dir, "README.md", "# service\n");
    git(dir, &["add", "."]);
    git(dir, &["-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "init"]);

    // Staged: a write through a const of queries.rs (committed, not staged). Not staged: a
    // write in other.rs, and a change to the README.
    let handlers = HANDLERS_BEFORE.replace(
        "    Ok(Post::from(row))",
        "    db.execute(queries::BUMP_VIEWS, &[&id]).await?;\n    Ok(Post::from(row))",
    );
    write(dir, "src/handlers.rs", &handlers);
    write(dir, "README.md", "# service\n\nchanged\n");
    git(dir, &["add", "src/handlers.rs", "README.md"]);
    write(dir, "src/other.rs", OTHER_WRITE);

    // What pre-commit passes: the staged files of the hook's `types` ([rust]).
    let staged: Vec<String> = git(dir, &["diff", "--cached", "--name-only", "--diff-filter=ACMR"])
        .lines()
        .filter(|f| f.ends_with(".rs"))
        .map(str::to_string)
        .collect();
    assert_eq!(staged, ["src/handlers.rs"]);

    let output = run_hook(dir, &["--format", "json"], &staged);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "only the staged file is reported on: {json:#}");
    assert_eq!(findings[0]["file"], "src/handlers.rs");
    assert_eq!(findings[0]["line"], 6);
    assert_eq!(findings[0]["evidence"], "UPDATE posts SET views = views + 1 WHERE id = $1");
    assert_eq!(json["summary"]["files_seen"], 1);

    // The hook's plain command line (human output) fails the commit the same way.
    let output = run_hook(dir, &[], &staged);
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("src/handlers.rs:6:5") && !text.contains("src/other.rs"), "{text}");

    // Control: without the repository around it, the named file stands alone and the const
    // is unknown — the finding above needed the context walk.
    std::fs::remove_dir_all(dir.join(".git")).unwrap();
    let output = run_hook(dir, &["--format", "json"], &staged);
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["findings"], Value::Array(Vec::new()), "{json:#}");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn the_hook_with_nothing_staged_in_rust_files_passes() {
    // pre-commit does not run a hook with no matching files; when it does pass files that
    // are clean, the hook passes.
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    git(dir, &["init", "-q"]);
    write(dir, "src/queries.rs", QUERIES);
    write(dir, "src/handlers.rs", HANDLERS_BEFORE);
    write(dir, "src/other.rs", OTHER_WRITE);
    let output = run_hook(dir, &[], &["src/handlers.rs".to_string(), "src/queries.rs".to_string()]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
}

// ---------------------------------------------------------------------------------------------
// exclude

const WRITE_ON_RO: &str = "\
pub async fn bump(state: &AppState) {
    let db = state.get_db_ro().await?;
    db.execute(\"UPDATE posts SET views = views + 1\", &[]).await?;
}
";

fn excluded_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    write(dir.path(), "ro-audit.toml", "exclude = [\"generated/**\", \"vendor\", \"**/*_fixture.rs\"]\n");
    for f in
        ["src/app.rs", "src/old_fixture.rs", "generated/api.rs", "vendor/dep/src/lib.rs", "vendored/lib.rs"]
    {
        write(dir.path(), f, WRITE_ON_RO);
    }
    dir
}

fn files_reported(dir: &Path, cwd: &str, args: &[&str]) -> (Option<i32>, Vec<String>) {
    let output = Command::new(env!("CARGO_BIN_EXE_ro-audit"))
        .current_dir(dir.join(cwd))
        .arg("check")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("the binary runs");
    let json: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    let files = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    (output.status.code(), files)
}

#[test]
fn exclude_applies_to_walked_files_and_directories() {
    let dir = excluded_tree();
    let dir = dir.path();
    assert_eq!(
        files_reported(dir, "", &[]),
        (Some(1), vec!["src/app.rs".to_string(), "vendored/lib.rs".to_string()])
    );
    assert_eq!(files_reported(dir, "", &["."]).1, ["src/app.rs", "vendored/lib.rs"]);
    // A directory named explicitly is excluded all the same.
    assert_eq!(files_reported(dir, "", &["vendor"]), (Some(0), vec![]));
    assert_eq!(files_reported(dir, "", &["generated"]), (Some(0), vec![]));
}

#[test]
fn exclude_applies_to_named_files_however_they_are_named() {
    let dir = excluded_tree();
    let dir = dir.path();
    let abs = |f: &str| dir.join(f).to_string_lossy().into_owned();
    for named in [
        "generated/api.rs".to_string(),
        "./generated/api.rs".to_string(),
        "vendor/dep/src/lib.rs".to_string(),
        "src/old_fixture.rs".to_string(),
        abs("generated/api.rs"),
        abs("vendor/dep/src/lib.rs"),
    ] {
        assert_eq!(files_reported(dir, "", &[&named]), (Some(0), vec![]), "{named} is excluded");
    }
    // From a subdirectory, the globs stay relative to the configuration file's directory.
    assert_eq!(files_reported(dir, "src", &["../generated/api.rs"]), (Some(0), vec![]));
    assert_eq!(files_reported(dir, "src", &["old_fixture.rs"]), (Some(0), vec![]));
    assert_eq!(files_reported(dir, "src", &["app.rs"]), (Some(1), vec!["app.rs".to_string()]));
    // What pre-commit passes: a mix; only the files not excluded are reported.
    let (code, files) = files_reported(
        dir,
        "",
        &["src/app.rs", "generated/api.rs", "vendor/dep/src/lib.rs", "vendored/lib.rs"],
    );
    assert_eq!((code, files), (Some(1), vec!["src/app.rs".to_string(), "vendored/lib.rs".to_string()]));
}
