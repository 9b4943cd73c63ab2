//! The fixture suite of `ro-audit check`, run through the real binary.
//!
//! Every case under `fixtures/check/` is service code of a realistic shape (a `.rs` file, or a
//! directory of them for cases that span files). A line where a finding must start ends with
//! `//~ RULE` (several rule ids for several findings on the line); every other line must give
//! none, so a file without markers is a pure trap. The tests compare the exact multiset of
//! (file, line, rule) the binary reports with the markers, and print what is missing and what
//! is unexpected, with the line's text, when they differ.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The fixture tree, relative to the package root.
const FIXTURES: &str = "fixtures/check";
/// What starts an expectation at the end of a line.
const MARKER: &str = "//~";
/// The rule ids a marker may name (a rule that starts reporting on these cases joins the list,
/// and its findings are marked like the others).
const RULES: &[&str] = &["ro-write-sql", "ro-write-call"];

/// (file as reported, 1-based line, rule) -> how many findings.
type Expectations = BTreeMap<(String, u64, String), usize>;

/// One run of the binary.
struct Run {
    code: Option<i32>,
    json: Value,
}

fn package_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `ro-audit check PATHS --format json` from the package root.
fn check(paths: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_ro-audit"))
        .current_dir(package_root())
        .arg("check")
        .args(paths)
        .args(["--format", "json"])
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "ro-audit check {paths:?} panicked:\n{stderr}");
    let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "ro-audit check {paths:?} did not print JSON ({e}):\n{}\n{stderr}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    Run { code: output.status.code(), json }
}

/// A path under the package root, as the binary reports it (`/`-separated).
fn reported(path: &Path) -> String {
    let relative = path.strip_prefix(package_root()).unwrap_or(path);
    relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// The `.rs` files under `path` (itself, if it is one), sorted.
fn rust_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return if path.extension().is_some_and(|e| e == "rs") {
            vec![path.to_path_buf()]
        } else {
            Vec::new()
        };
    }
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(path).expect("a fixture directory").map(|e| e.expect("an entry").path()).collect();
    entries.sort();
    entries.iter().flat_map(|p| rust_files(p)).collect()
}

/// The cases, as paths relative to the package root: every `.rs` file directly in the fixture
/// tree, and every directory with `.rs` files in it (`sql/` only holds `include_str!` data).
fn cases() -> Vec<String> {
    let mut cases: Vec<String> = std::fs::read_dir(package_root().join(FIXTURES))
        .expect("the fixture tree")
        .map(|e| e.expect("an entry").path())
        .filter(|p| !rust_files(p).is_empty())
        .map(|p| reported(&p))
        .collect();
    cases.sort();
    cases
}

/// The markers of every `.rs` file under `case`.
fn expectations(case: &str) -> Expectations {
    let mut expected = Expectations::new();
    for file in rust_files(&package_root().join(case)) {
        let text = std::fs::read_to_string(&file).expect("a UTF-8 fixture");
        for (index, line) in text.lines().enumerate() {
            let Some(at) = line.find(MARKER) else { continue };
            let rules: Vec<&str> = line[at + MARKER.len()..].split_whitespace().collect();
            assert!(!rules.is_empty(), "{}:{}: a marker without a rule id", reported(&file), index + 1);
            for rule in rules {
                assert!(
                    RULES.contains(&rule),
                    "{}:{}: unknown rule `{rule}` in a marker",
                    reported(&file),
                    index + 1
                );
                *expected.entry((reported(&file), index as u64 + 1, rule.to_string())).or_default() += 1;
            }
        }
    }
    expected
}

/// What a run reported, in the same shape as the markers.
fn reported_findings(json: &Value) -> Expectations {
    let mut found = Expectations::new();
    for f in findings(json) {
        let key = (
            f["file"].as_str().expect("file").to_string(),
            f["line"].as_u64().expect("line"),
            f["rule"].as_str().expect("rule").to_string(),
        );
        *found.entry(key).or_default() += 1;
    }
    found
}

fn findings(json: &Value) -> &Vec<Value> {
    json["findings"].as_array().expect("a findings array")
}

/// The text of a 1-based line of a file under the package root.
fn line_text(file: &str, line: u64) -> String {
    std::fs::read_to_string(package_root().join(file))
        .ok()
        .and_then(|t| t.lines().nth(line as usize - 1).map(|l| l.trim().to_string()))
        .unwrap_or_else(|| "<no such line>".to_string())
}

/// `None` when both are the same; else what is missing and what is unexpected, one per line.
fn difference(expected: &Expectations, found: &Expectations) -> Option<String> {
    let mut missing = String::new();
    let mut unexpected = String::new();
    let keys: std::collections::BTreeSet<_> = expected.keys().chain(found.keys()).collect();
    for key in keys {
        let (want, got) = (expected.get(key).copied().unwrap_or(0), found.get(key).copied().unwrap_or(0));
        let (file, line, rule) = key;
        let entry = |n: usize| format!("  {file}:{line}: {rule} (x{n})\n      {}\n", line_text(file, *line));
        if want > got {
            missing.push_str(&entry(want - got));
        } else if got > want {
            unexpected.push_str(&entry(got - want));
        }
    }
    if missing.is_empty() && unexpected.is_empty() {
        return None;
    }
    let mut out = String::new();
    if !missing.is_empty() {
        let _ = write!(out, "missing (marked, not reported):\n{missing}");
    }
    if !unexpected.is_empty() {
        let _ = write!(out, "unexpected (reported, not marked):\n{unexpected}");
    }
    Some(out)
}

fn errors_of(json: &Value) -> &Vec<Value> {
    json["errors"].as_array().expect("an errors array")
}

#[test]
fn every_fixture_parses_as_rust() {
    // The binary parses only the files the prefilter passes (and those it needs consts from):
    // the others must be valid Rust too, or they would test nothing.
    let files = rust_files(&package_root().join(FIXTURES));
    assert!(files.len() >= 110, "the suite has {} files", files.len());
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a UTF-8 fixture");
        if let Err(e) = syn::parse_file(&text) {
            panic!("{} does not parse: {e} at {:?}", reported(&file), e.span().start());
        }
    }
}

#[test]
fn the_whole_tree_reports_exactly_the_marked_findings() {
    let cases = cases();
    assert!(cases.len() >= 110, "{} cases", cases.len());
    let mut expected = Expectations::new();
    for case in &cases {
        expected.extend(expectations(case));
    }
    let positives: usize = expected.values().sum();
    assert!(positives >= 260, "{positives} marked findings");
    let calls: usize =
        expected.iter().filter(|((_, _, rule), _)| rule == "ro-write-call").map(|(_, n)| n).sum();
    assert!(calls >= 55, "{calls} marked ro-write-call findings");
    let traps = cases.iter().filter(|c| expectations(c).is_empty()).count();
    assert!(traps >= 5, "{traps} cases are pure traps");

    let run = check(&[FIXTURES]);
    assert_eq!(errors_of(&run.json), &Vec::<Value>::new(), "no file errors");
    if let Some(diff) = difference(&expected, &reported_findings(&run.json)) {
        panic!("`ro-audit check {FIXTURES}` differs from the markers:\n{diff}");
    }
    assert_eq!(run.code, Some(1), "findings: exit status 1");
    let summary = &run.json["summary"];
    assert_eq!(summary["findings"], positives, "the summary counts every finding");
    assert_eq!(summary["errors"], 0);
    let files = rust_files(&package_root().join(FIXTURES)).len();
    assert_eq!(summary["files_seen"], files, "every fixture is walked");
    assert!(
        summary["files_parsed"].as_u64().expect("files_parsed") < files as u64,
        "files that name no accessor are screened out, not parsed: {summary}"
    );
}

#[test]
fn each_case_alone_reports_its_markers_with_the_right_exit_status() {
    let mut failures = String::new();
    for case in cases() {
        let expected = expectations(&case);
        let run = check(&[&case]);
        if !errors_of(&run.json).is_empty() {
            let _ = writeln!(failures, "{case}: file errors: {:?}", errors_of(&run.json));
        }
        if let Some(diff) = difference(&expected, &reported_findings(&run.json)) {
            let _ = writeln!(failures, "{case}:\n{diff}");
        }
        let status = if expected.is_empty() { 0 } else { 1 };
        if run.code != Some(status) {
            let _ = writeln!(failures, "{case}: exit status {:?}, expected {status}", run.code);
        }
    }
    assert!(failures.is_empty(), "cases run alone differ from their markers:\n{failures}");
}

#[test]
fn a_const_in_a_file_the_prefilter_skipped_is_parsed_on_demand() {
    let case = format!("{FIXTURES}/cross_file");
    let run = check(&[&case]);
    assert_eq!(errors_of(&run.json), &Vec::<Value>::new());
    let summary = &run.json["summary"];
    assert_eq!(summary["files_seen"], 4, "{summary}");
    // handlers.rs names the accessor; queries.rs is parsed for its consts, then tables.rs for
    // the one `PURGE_SPAM` is built from; retention.rs declares only consts nobody needs.
    assert_eq!(summary["files_parsed"], 3, "{summary}");
    let purge =
        find(&run.json, &format!("{case}/handlers.rs"), "db.batch_execute(crate::queries::PURGE_SPAM)");
    assert_eq!(purge["evidence"], "DELETE FROM posts WHERE spam_score > 0.9");
    assert_eq!(purge["function"], "purge_spam");
}

/// The 1-based line of the only line of `file` that contains `needle`.
fn line_of(file: &str, needle: &str) -> u64 {
    let text = std::fs::read_to_string(package_root().join(file)).expect("a fixture");
    let lines: Vec<usize> =
        text.lines().enumerate().filter(|(_, l)| l.contains(needle)).map(|(i, _)| i + 1).collect();
    assert_eq!(lines.len(), 1, "{file}: `{needle}` must be on exactly one line, is on {lines:?}");
    lines[0] as u64
}

/// The 1-based column (in characters) where `needle` starts on `line`, and the exclusive column
/// where it ends.
fn columns_of(file: &str, line: u64, needle: &str) -> (u64, u64) {
    let text = line_text_raw(file, line);
    let at = text.find(needle).unwrap_or_else(|| panic!("{file}:{line}: no `{needle}`"));
    let start = text[..at].chars().count() as u64 + 1;
    (start, start + needle.chars().count() as u64)
}

/// The nearest line above `line` that contains `needle`.
fn nearest_above(file: &str, line: u64, needle: &str) -> u64 {
    (1..line).rev().find(|&l| line_text_raw(file, l).contains(needle)).unwrap_or_else(|| {
        panic!("{file}: no `{needle}` above line {line}");
    })
}

fn line_text_raw(file: &str, line: u64) -> String {
    let text = std::fs::read_to_string(package_root().join(file)).expect("a fixture");
    text.lines().nth(line as usize - 1).expect("the line exists").to_string()
}

/// The one finding of `json` in `file` on the line holding `needle`.
fn find<'a>(json: &'a Value, file: &str, needle: &str) -> &'a Value {
    let line = line_of(file, needle);
    let matching: Vec<&Value> =
        findings(json).iter().filter(|f| f["file"] == file && f["line"] == line).collect();
    assert_eq!(matching.len(), 1, "{file}:{line}: one finding expected, got {matching:?}");
    matching[0]
}

#[test]
fn findings_carry_the_span_binding_and_evidence() {
    let run = check(&[FIXTURES]);
    let json = &run.json;
    for f in findings(json).iter().filter(|f| f["rule"] == "ro-write-sql") {
        assert_eq!(f["chain"], Value::Array(Vec::new()), "ro-write-sql has no call chain: {f}");
        let (line, binding_line) = (f["line"].as_u64().unwrap(), f["binding_line"].as_u64().unwrap());
        assert!(binding_line >= 1 && f["end_line"].as_u64().unwrap() >= line, "{f}");
        assert!(
            !f["binding"].as_str().unwrap().is_empty() && !f["evidence"].as_str().unwrap().is_empty(),
            "{f}"
        );
    }

    // A builder chain spans from `sqlx::query(` to the end of the call that executes it.
    let file = format!("{FIXTURES}/builder_sqlx_query_bind_execute.rs");
    let chain = find(json, &file, "sqlx::query(\"UPDATE orders SET status = 'cancelled'");
    let start = line_of(&file, "sqlx::query(\"UPDATE orders SET status = 'cancelled'");
    let end = start + 3;
    assert_eq!(line_text_raw(&file, end).trim(), ".execute(&mut *db)");
    assert_eq!(chain["column"], columns_of(&file, start, "sqlx::query(").0);
    assert_eq!(chain["end_line"], end);
    assert_eq!(chain["end_column"], columns_of(&file, end, ".execute(&mut *db)").1, "not through `.await?`");
    assert_eq!(chain["binding"], "db");
    assert_eq!(chain["binding_line"], start - 1);
    assert_eq!(line_text_raw(&file, start - 1).trim(), "let mut db = state.get_db_ro().acquire().await?;");
    assert_eq!(chain["function"], "cancel_order");
    assert_eq!(chain["evidence"], "UPDATE orders SET status = 'cancelled', reason = $2 WHERE id = $1");

    // Columns count characters: the `é` before the end is two bytes, one column.
    let one_line = find(json, &file, "SET note = 'café'");
    let line = one_line["line"].as_u64().unwrap();
    let text = line_text_raw(&file, line);
    let chain_text = &text[text.find("sqlx::query(").unwrap()..text.find(".await?").unwrap()];
    let (column, end_column) = columns_of(&file, line, chain_text);
    assert_eq!(
        (one_line["column"].as_u64(), one_line["end_column"].as_u64()),
        (Some(column), Some(end_column))
    );
    assert_eq!(one_line["end_line"], line);

    // An accessor used in place is named as written, and became read-only right there.
    let file = format!("{FIXTURES}/in_place_accessor_write.rs");
    let in_place = find(json, &file, "state.get_db_ro().await?.execute(\"DELETE FROM comments");
    assert_eq!(in_place["binding"], "state.get_db_ro()");
    assert_eq!(in_place["binding_line"], in_place["line"]);
    assert_eq!(in_place["column"], 5);
    assert_eq!(in_place["function"], "delete_comment");

    // A derived handle is its own binding, read-only from its `let`.
    let file = format!("{FIXTURES}/derive_transaction_tokio_postgres.rs");
    let tx = find(json, &file, "tx.execute(\"UPDATE cards SET column_id = $2, position = $3");
    assert_eq!(tx["binding"], "tx");
    let line = tx["line"].as_u64().unwrap();
    assert_eq!(tx["binding_line"], nearest_above(&file, line, "let tx = db.transaction().await?;"));

    // The latest assignment that made the binding read-only, not its `let`.
    let file = format!("{FIXTURES}/reassignment_ends_read_only.rs");
    let reassigned = find(json, &file, "'republished'");
    assert_eq!(reassigned["binding_line"], reassigned["line"].as_u64().unwrap() - 1);
    assert_eq!(
        line_text_raw(&file, reassigned["line"].as_u64().unwrap() - 1).trim(),
        "db = state.get_db_ro().await?;"
    );

    // Loop-carried: the assignment is below the write it reaches.
    let file = format!("{FIXTURES}/while_let_loops.rs");
    let carried =
        find(json, &file, "db.execute(\"UPDATE queue SET done = true WHERE id = $1\", &[&id]).await?; //~");
    assert!(carried["binding_line"].as_u64() > carried["line"].as_u64(), "{carried}");

    // A closure parameter of `transaction(|conn| ..)` on a read-only connection.
    let file = format!("{FIXTURES}/closure_params_of_transaction_methods.rs");
    let param =
        find(json, &file, "diesel::sql_query(\"UPDATE polls SET closed_at = now() WHERE id = $1\") //~");
    assert_eq!(param["binding"], "conn");
    assert_eq!(param["binding_line"], param["line"].as_u64().unwrap() - 1);

    // Evidence is the SQL text on one line: a multi-line raw string folded, a file read with
    // `include_str!`, and a trait default method named with its trait.
    let file = format!("{FIXTURES}/sql_raw_string_literals.rs");
    let raw = find(json, &file, "let n = db //~");
    assert_eq!(
        raw["evidence"],
        "WITH archived AS ( UPDATE boards SET archived_at = now() WHERE id = $1 RETURNING id ) SELECT count(*) FROM archived"
    );
    let file = format!("{FIXTURES}/sql_include_str.rs");
    let included = find(json, &file, "include_str!(\"sql/expire_sessions.sql\")).await?; //~");
    assert_eq!(
        included["evidence"],
        "-- Sessions idle for a day are expired. UPDATE sessions SET expired_at = now() \
         WHERE last_seen_at < now() - interval '1 day' AND expired_at IS NULL;"
    );
    let file = format!("{FIXTURES}/trait_default_method_bodies.rs");
    let default_body = find(json, &file, "UPDATE records SET deleted_at = now()");
    assert_eq!(default_body["function"], "SoftDelete::soft_delete");
    assert_eq!(default_body["binding"], "db");
}

/// The `chain` of a finding as (function, file, line, evidence) tuples.
fn chain_of(finding: &Value) -> Vec<(String, String, u64, String)> {
    finding["chain"]
        .as_array()
        .expect("a chain array")
        .iter()
        .map(|step| {
            (
                step["function"].as_str().expect("function").to_string(),
                step["file"].as_str().expect("file").to_string(),
                step["line"].as_u64().expect("line"),
                step["evidence"].as_str().expect("evidence").to_string(),
            )
        })
        .collect()
}

#[test]
fn write_call_findings_carry_the_chain_down_to_the_write() {
    let case = format!("{FIXTURES}/call_chain_across_modules/src");
    let run = check(&[&format!("{FIXTURES}/call_chain_across_modules")]);
    assert_eq!(errors_of(&run.json), &Vec::<Value>::new());
    let (handlers, accounts, store) =
        (format!("{case}/handlers.rs"), format!("{case}/service/accounts.rs"), format!("{case}/store.rs"));
    let close = find(&run.json, &handlers, "accounts::close_account(&db, id).await?;");
    assert_eq!(close["rule"], "ro-write-call");
    assert_eq!(close["function"], "close");
    assert_eq!(close["binding"], "db");
    assert_eq!(close["binding_line"], line_of(&handlers, "pub async fn close(") + 1);
    // The span is the call at the caller's site, not through `.await?`.
    let line = close["line"].as_u64().unwrap();
    let (column, end_column) = columns_of(&handlers, line, "accounts::close_account(&db, id)");
    assert_eq!((close["column"].as_u64(), close["end_column"].as_u64()), (Some(column), Some(end_column)));
    assert_eq!(close["evidence"], "DELETE FROM sessions WHERE account_id = $1");
    assert_eq!(
        chain_of(close),
        [
            ("close".to_string(), handlers.clone(), line, "passes `db` to `close_account`".to_string()),
            (
                "close_account".to_string(),
                accounts.clone(),
                line_of(&accounts, "crate::store::delete_account_sessions(db, id)"),
                "passes it to `delete_account_sessions`".to_string()
            ),
            (
                "delete_account_sessions".to_string(),
                store.clone(),
                line_of(&store, "DELETE FROM sessions WHERE account_id = $1"),
                "DELETE FROM sessions WHERE account_id = $1".to_string()
            ),
        ]
    );
    assert!(close["message"].as_str().unwrap().contains("2 steps down to the write"), "{close}");
    assert!(!close["message"].as_str().unwrap().contains("ambiguous"), "{close}");

    // An ORM write builder: one step, the write itself, with the builder as evidence.
    let file = format!("{FIXTURES}/orm_diesel_update_execute.rs");
    let run = check(&[&file]);
    let update = find(
        &run.json,
        &file,
        "diesel::update(posts.find(post_id)).set(published.eq(true)).execute(&mut conn) //~",
    );
    assert_eq!(update["evidence"], "diesel::update(…)");
    let line = update["line"].as_u64().unwrap();
    assert_eq!(
        chain_of(update),
        [("publish_post".to_string(), file.clone(), line, "diesel::update(…) … .execute(conn)".to_string())]
    );
    let (column, end_column) = columns_of(
        &file,
        line,
        "diesel::update(posts.find(post_id)).set(published.eq(true)).execute(&mut conn)",
    );
    assert_eq!((update["column"].as_u64(), update["end_column"].as_u64()), (Some(column), Some(end_column)));
    assert!(update["message"].as_str().unwrap().contains("through `execute`"), "{update}");
}

#[test]
fn an_ambiguous_callee_is_named_ambiguous_with_its_candidates() {
    let case = format!("{FIXTURES}/call_ambiguous_callee");
    let run = check(&[&case]);
    let handlers = format!("{case}/handlers.rs");
    let call = find(&run.json, &handlers, "sync_follower_counts(&db, user).await?;");
    let message = call["message"].as_str().expect("a message");
    let jobs = format!("{case}/jobs.rs");
    let views = format!("{case}/views.rs");
    let at = |file: &str| format!("{file}:{}", line_of(file, "pub async fn sync_follower_counts("));
    assert!(
        message.contains("ambiguous: 2 functions of the tree may be `sync_follower_counts`"),
        "{message}"
    );
    assert!(message.contains(&at(&jobs)) && message.contains(&at(&views)), "{message}");
    assert!(message.contains("1 of them writes"), "{message}");
    // The chain follows the candidate that writes.
    let chain = chain_of(call);
    assert_eq!(chain.len(), 2, "{chain:?}");
    assert_eq!(chain[1].1, jobs);
    assert!(chain[1].3.starts_with("UPDATE users SET followers"), "{chain:?}");
    // `follower_count_of` is just as ambiguous, but neither candidate writes.
    assert_eq!(findings(&run.json).len(), 1, "{}", run.json);
}
