//! Bad input: every kind becomes an `errors` entry with file, line and column, the run goes on
//! past it, and nothing panics or aborts. Runs the real binary on generated trees.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

mod common;
use common::tree_bytes as tree;

const WRITE_ON_RO: &str = "pub async fn bump(state: &AppState) {\n    let db = state.get_db_ro().await?;\n    db.execute(\"UPDATE posts SET views = views + 1\", &[]).await?;\n}\n";

fn run(dir: &Path, args: &[&str]) -> (Output, Value) {
    let output = common::run(dir, args);
    let json = if args.contains(&"json") {
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(&output.stdout)))
    } else {
        Value::Null
    };
    (output, json)
}

/// The errors of a JSON report as (file, line, column, message).
fn errors(json: &Value) -> Vec<(String, u64, u64, String)> {
    json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["file"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
                e["column"].as_u64().unwrap(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn finding_files(json: &Value) -> Vec<String> {
    json["findings"].as_array().unwrap().iter().map(|f| f["file"].as_str().unwrap().to_string()).collect()
}

/// A function holding `expr`, in a file that also mentions the accessor so that it is parsed
/// and analysed.
fn deep_file(expr: &str) -> Vec<u8> {
    format!("// get_db_ro\npub fn deep(state: &AppState) {{\n    let db = state.get_db_ro();\n    let x = {expr};\n}}\n")
        .into_bytes()
}

/// One kind of deep nesting: `over` must be refused with a located error, `under` (just inside
/// the guard's limits) must be parsed and analysed, and a good file next to both still yields
/// its finding.
fn deep_case(kind: &str, under: &str, over: &str, expect_in_message: &str) {
    let dir = tree(&[
        ("src/over.rs", &deep_file(over)),
        ("src/under.rs", &deep_file(under)),
        ("src/good.rs", WRITE_ON_RO.as_bytes()),
    ]);
    let (output, json) = run(dir.path(), &["check", "src", "--format", "json"]);
    let errs = errors(&json);
    assert_eq!(errs.len(), 1, "{kind}: exactly the over-deep file fails: {errs:?}");
    let (file, line, column, message) = &errs[0];
    assert_eq!(file, "src/over.rs", "{kind}");
    assert_eq!(*line, 4, "{kind}: located on the line of the nesting: {message}");
    assert!(*column > 1, "{kind}: located at the column where the limit is passed");
    assert!(message.contains(expect_in_message), "{kind}: {message}");
    assert_eq!(finding_files(&json), ["src/good.rs"], "{kind}: the run went on");
    assert_eq!(json["summary"]["files_parsed"], 2, "{kind}: under.rs and good.rs were parsed");
    assert_eq!(output.status.code(), Some(2), "{kind}: a file error without --keep-going");
    let (output, _) = run(dir.path(), &["check", "src", "--format", "json", "--keep-going"]);
    assert_eq!(output.status.code(), Some(1), "{kind}: with --keep-going, findings decide");
}

#[test]
fn deeply_nested_brackets() {
    deep_case(
        "brackets",
        &format!("{}1{}", "(".repeat(240), ")".repeat(240)),
        &format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000)),
        "nest",
    );
}

#[test]
fn deeply_nested_blocks_and_arrays() {
    deep_case(
        "blocks",
        &format!("{}1{}", "{ [".repeat(120), "] }".repeat(120)),
        &format!("{}1{}", "{ [".repeat(50_000), "] }".repeat(50_000)),
        "nest",
    );
}

#[test]
fn long_unary_chains() {
    deep_case(
        "unary",
        &format!("{}true", "!".repeat(3_900)),
        &format!("{}true", "!".repeat(200_000)),
        "chain",
    );
}

#[test]
fn long_operator_chains() {
    deep_case(
        "binary",
        &format!("1{}", " + 1".repeat(3_900)),
        &format!("1{}", " + 1".repeat(200_000)),
        "chain",
    );
}

#[test]
fn long_method_chains() {
    deep_case(
        "method chain",
        &format!("db{}", ".clone()".repeat(3_900)),
        &format!("db{}", ".clone()".repeat(200_000)),
        "chain",
    );
}

#[test]
fn long_chains_of_sql_text_are_followed_without_overflow() {
    let text = format!(
        "pub fn f(state: &AppState) {{\n    let db = state.get_db_ro();\n    let sql = String::from(\"UPDATE t SET a = 1\"){};\n    db.execute(&sql, &[]);\n}}\n",
        " + \" \"".repeat(3_900)
    );
    let dir = tree(&[("src/a.rs", text.as_bytes())]);
    let (output, json) = run(dir.path(), &["check", "--format", "json"]);
    assert_eq!(errors(&json), []);
    assert_eq!(json["findings"][0]["line"], 4, "{json}");
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn chains_around_nested_groups() {
    let nested = |levels: usize, links: usize| {
        format!("{}1{}", "(".repeat(levels), format!("{})", " + 1".repeat(links)).repeat(levels))
    };
    deep_case("nested chains", &nested(200, 18), &nested(200, 1_000), "levels deep");
}

#[test]
fn unparsable_and_non_utf8_files_are_located_errors() {
    let dir = tree(&[
        ("src/broken.rs", b"pub fn ok() {}\n// get_db_ro\npub fn broken(state: &AppState {\n}\n"),
        ("src/latin1.rs", b"// get_db_ro\npub fn f() {\n    let s = \"caf\xe9\";\n}\n"),
        ("src/good.rs", WRITE_ON_RO.as_bytes()),
    ]);
    let (output, json) = run(dir.path(), &["check", ".", "--format", "json"]);
    let errs = errors(&json);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!((errs[0].0.as_str(), errs[0].1), ("src/broken.rs", 3), "{errs:?}");
    assert!(errs[0].3.contains("does not parse"), "{errs:?}");
    assert_eq!((errs[1].0.as_str(), errs[1].1, errs[1].2), ("src/latin1.rs", 3, 17), "{errs:?}");
    assert!(errs[1].3.contains("UTF-8"), "{errs:?}");
    assert_eq!(finding_files(&json), ["src/good.rs"]);
    assert_eq!(json["summary"]["errors"], 2);
    assert_eq!(output.status.code(), Some(2));

    // Human output lists them with their location too.
    let (output, _) = run(dir.path(), &["check", ".", "--no-color"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("src/broken.rs:3:"), "{stdout}");
    assert!(stdout.contains("src/latin1.rs:3:17: error: file is not valid UTF-8"), "{stdout}");
}

#[cfg(unix)]
#[test]
fn dangling_symlinks_and_symlink_loops_are_errors() {
    let dir = tree(&[("src/good.rs", WRITE_ON_RO.as_bytes())]);
    std::os::unix::fs::symlink("does-not-exist.rs", dir.path().join("src/dangling.rs")).unwrap();
    std::os::unix::fs::symlink("loop.rs", dir.path().join("src/loop.rs")).unwrap();
    let (output, json) = run(dir.path(), &["check", "src", "--format", "json"]);
    let errs = errors(&json);
    let files: Vec<&str> = errs.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(files, ["src/dangling.rs", "src/loop.rs"], "{errs:?}");
    assert!(errs[0].3.contains("dangling symbolic link"), "{errs:?}");
    assert!(errs[1].3.contains("symbolic link loop"), "{errs:?}");
    assert!(errs.iter().all(|e| (e.1, e.2) == (1, 1)), "{errs:?}");
    assert_eq!(finding_files(&json), ["src/good.rs"]);
    assert_eq!(output.status.code(), Some(2));

    // Named explicitly, too.
    let (_, json) = run(dir.path(), &["check", "src/loop.rs", "src/good.rs", "--format", "json"]);
    assert_eq!(errors(&json).len(), 1, "{json}");
}

#[test]
fn files_over_the_size_limit_are_errors() {
    let big = format!("{WRITE_ON_RO}{}", "// padding\n".repeat(200));
    let dir = tree(&[("ro-audit.toml", b"max_file_bytes = 1000\n"), ("src/big.rs", big.as_bytes())]);
    let (output, json) = run(dir.path(), &["check", ".", "--format", "json"]);
    let errs = errors(&json);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].3.contains("max_file_bytes"), "{errs:?}");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let dir = tree(&[("src/good.rs", WRITE_ON_RO.as_bytes())]);
    let (output, _) = run(dir.path(), &["check", "src", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nope: no such file or directory"), "{stderr}");
}

#[test]
fn a_broken_config_names_file_line_and_key() {
    let dir = tree(&[
        ("ro-audit.toml", b"[accessors]\nread_only = [\"db_read\"]\nread_wrte = [\"db_write\"]\n"),
        ("src/good.rs", WRITE_ON_RO.as_bytes()),
    ]);
    let (output, _) = run(dir.path(), &["check", "."]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ro-audit.toml:3:"), "{stderr}");
    assert!(stderr.contains("read_wrte"), "{stderr}");

    let (output, _) = run(dir.path(), &["check", ".", "--config", "missing.toml"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.toml"));
}

#[test]
fn usage_errors_exit_with_2() {
    let dir = tree(&[]);
    let (output, _) = run(dir.path(), &["check", "--format", "yaml"]);
    assert_eq!(output.status.code(), Some(2));
    let (output, _) = run(dir.path(), &["frobnicate"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_config_for_db_read_and_db_write_is_one_small_file() {
    let source = "pub fn f(app: &App) {\n    let conn = app.db_read();\n    conn.execute(\"DELETE FROM carts\", &[]);\n    let conn = app.db_write();\n    conn.execute(\"DELETE FROM carts\", &[]);\n}\n";
    let dir = tree(&[
        ("ro-audit.toml", b"[accessors]\nread_only = [\"db_read\"]\nread_write = [\"db_write\"]\n"),
        ("src/a.rs", source.as_bytes()),
    ]);
    let (output, json) = run(dir.path(), &["check", "--format", "json"]);
    let lines: Vec<u64> =
        json["findings"].as_array().unwrap().iter().map(|f| f["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [3]);
    assert_eq!(json["findings"][0]["binding"], "conn");
    assert_eq!(json["findings"][0]["binding_line"], 2);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn hidden_files_target_and_gitignored_files_are_not_walked() {
    let dir = tree(&[
        (".gitignore", b"generated/\n"),
        ("src/good.rs", WRITE_ON_RO.as_bytes()),
        ("target/debug/build/x.rs", WRITE_ON_RO.as_bytes()),
        ("nested/target/y.rs", WRITE_ON_RO.as_bytes()),
        (".hidden/z.rs", WRITE_ON_RO.as_bytes()),
        ("generated/g.rs", WRITE_ON_RO.as_bytes()),
    ]);
    let (_, json) = run(dir.path(), &["check", "--format", "json"]);
    assert_eq!(finding_files(&json), ["src/good.rs"]);
    assert_eq!(json["summary"]["files_seen"], 1);
}

/// Under an address-space limit of 512 MiB (`ulimit -v`, as CI jobs and pre-commit sandboxes
/// set) the workers' stacks must still fit: the run starts and reports as without the limit.
#[test]
fn runs_under_a_512_mib_address_space_limit() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 524288 && exec \"$0\" check --format json \"$1\"")
        .arg(env!("CARGO_BIN_EXE_ro-audit"))
        .arg(&demo)
        .output()
        .expect("sh runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(json["summary"]["findings"], 7, "the demo's seven planted writes");
    assert_eq!(json["errors"].as_array().map(Vec::len), Some(0));
}

#[test]
fn a_reader_that_closes_the_pipe_early_is_no_error() {
    // `ro-audit check … | head -0`: the report goes to a pipe whose reader has gone. The run
    // ends with its own status (findings: 1), without a panic or an error message.
    let dir = tree(&[("src/lib.rs", WRITE_ON_RO.as_bytes())]);
    for command in ["check", "migrate"] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ro-audit"))
            .arg(command)
            .arg(dir.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{command}: {stderr}");
        let expected = if command == "check" { 1 } else { 0 };
        assert_eq!(output.status.code(), Some(expected), "{command}: {stderr}");
    }
}
