//! Baselines on the real binary: `--write-baseline` records the findings of a run,
//! `--baseline` hides exactly those — across edits that move them — and reports every new one,
//! including a second copy of a recorded write.

use std::path::Path;

use serde_json::Value;

mod common;
use common::run;

const SHOW: &str = "\
pub async fn show(state: &AppState) {
    let db = state.get_db_ro().await?;
    db.execute(\"UPDATE posts SET views = views + 1\", &[]).await?;
}
";

const PURGE: &str = "\
pub async fn purge(state: &AppState) {
    let db = state.get_db_ro().await?;
    db.execute(\"DELETE FROM posts\", &[]).await?;
}
";

fn check(dir: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    common::check_src_json(dir, extra)
}

/// (function, line, evidence) of each finding.
fn reported(json: &Value) -> Vec<(String, u64, String)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["function"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["evidence"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn finding(function: &str, line: u64, evidence: &str) -> (String, u64, String) {
    (function.to_string(), line, evidence.to_string())
}

fn write_src(dir: &Path, text: &str) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/api.rs"), text).unwrap();
}

fn with_baseline(dir: &Path) -> (Option<i32>, Value) {
    let (code, json) = check(dir, &["--baseline", "ro-audit-baseline.json"]);
    (code, json)
}

#[test]
fn a_baseline_hides_recorded_findings_across_edits_and_reports_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    write_src(dir, &format!("{SHOW}\n{PURGE}"));

    // Record: the run reports nothing, and the file holds both findings, without lines.
    let output =
        run(dir, &["check", "src", "--format", "json", "--write-baseline", "ro-audit-baseline.json"]);
    assert_eq!(output.status.code(), Some(0), "recorded findings do not count");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("recorded 2 finding(s) in the baseline ro-audit-baseline.json"), "{stderr}");
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(reported(&json), []);
    assert_eq!(json["summary"]["baselined"], 2);
    assert_eq!(json["summary"]["findings"], 0);
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ro-audit-baseline.json")).unwrap()).unwrap();
    assert_eq!(file["version"], 1);
    let entries = file["findings"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["rule"], "ro-write-sql");
    assert_eq!(entries[0]["file"], "src/api.rs");
    assert_eq!(entries[0]["function"], "show");
    assert_eq!(entries[0]["evidence"], "UPDATE posts SET views = views + 1");
    assert_eq!(entries[1]["function"], "purge");
    assert!(entries.iter().all(|e| e.get("line").is_none()), "no line numbers in a baseline");
    assert_ne!(entries[0]["fingerprint"], entries[1]["fingerprint"]);

    // Without the baseline both are reported; with it, none.
    let (code, json) = check(dir, &[]);
    assert_eq!((code, reported(&json).len()), (Some(1), 2));
    let (code, json) = with_baseline(dir);
    assert_eq!((code, reported(&json)), (Some(0), vec![]));
    assert_eq!(json["summary"]["baselined"], 2);

    // An unrelated edit shifts every line: nothing new.
    let header = "//! The API.\n\nuse crate::state::AppState;\n\nconst LIMIT: usize = 10;\n\n";
    let show_edited = SHOW.replace(
        "    db.execute(",
        "    let rows = db.query(\"SELECT * FROM posts LIMIT 10\", &[]).await?;\n    tracing::info!(\"{}\", rows.len());\n    db.execute(",
    );
    write_src(dir, &format!("{header}{show_edited}\n{PURGE}"));
    let (code, json) = check(dir, &[]);
    let lines: Vec<u64> = reported(&json).iter().map(|f| f.1).collect();
    assert_eq!(lines, [11, 16], "the findings moved");
    let (code_b, json) = with_baseline(dir);
    assert_eq!((code, code_b), (Some(1), Some(0)));
    assert_eq!(reported(&json), []);
    assert_eq!(json["summary"]["baselined"], 2);

    // The same SQL added again further down in the same function: reported.
    let show_twice = show_edited.replace(
        "    db.execute(\"UPDATE posts SET views = views + 1\", &[]).await?;\n",
        "    db.execute(\"UPDATE posts SET views = views + 1\", &[]).await?;\n    if rows.is_empty() {\n        db.execute(\"UPDATE posts SET views = views + 1\", &[]).await?;\n    }\n",
    );
    write_src(dir, &format!("{header}{show_twice}\n{PURGE}"));
    let (code, json) = with_baseline(dir);
    assert_eq!(reported(&json), [finding("show", 13, "UPDATE posts SET views = views + 1")]);
    assert_eq!(json["summary"]["baselined"], 2);
    assert_eq!(code, Some(1));

    // The same SQL added in another function of the same file: reported.
    let other = SHOW.replace("fn show", "fn other");
    write_src(dir, &format!("{header}{show_edited}\n{PURGE}\n{other}"));
    let (code, json) = with_baseline(dir);
    assert_eq!(reported(&json), [finding("other", 21, "UPDATE posts SET views = views + 1")]);
    assert_eq!(code, Some(1));

    // A fixed finding stays fixed; writing the baseline again drops it from the file.
    write_src(dir, &format!("{header}{show_edited}"));
    let (code, json) = with_baseline(dir);
    assert_eq!((code, json["summary"]["baselined"].as_u64()), (Some(0), Some(1)));
    let output = run(dir, &["check", "src", "--write-baseline", "ro-audit-baseline.json", "--quiet"]);
    assert_eq!(output.status.code(), Some(0));
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ro-audit-baseline.json")).unwrap()).unwrap();
    assert_eq!(file["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn a_copy_added_before_a_recorded_write_is_one_new_finding() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    write_src(dir, SHOW);
    let output = run(dir, &["check", "src", "--write-baseline", "ro-audit-baseline.json"]);
    assert_eq!(output.status.code(), Some(0));
    let doubled = SHOW.replace(
        "    db.execute(",
        "    db.execute(\"UPDATE posts SET views = views + 1\", &[]).await?;\n    db.execute(",
    );
    write_src(dir, &doubled);
    let (code, json) = with_baseline(dir);
    assert_eq!(code, Some(1));
    assert_eq!(reported(&json).len(), 1, "one of the two is new: {json:#}");
    assert_eq!(json["summary"]["baselined"], 1);
}

#[test]
fn baseline_fingerprints_are_sarifs() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    write_src(dir, &format!("{SHOW}\n{PURGE}"));
    run(dir, &["check", "src", "--write-baseline", "b.json"]);
    let file: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("b.json")).unwrap()).unwrap();
    let recorded: Vec<&Value> =
        file["findings"].as_array().unwrap().iter().map(|e| &e["fingerprint"]).collect();
    let sarif: Value =
        serde_json::from_slice(&run(dir, &["check", "src", "--format", "sarif"]).stdout).unwrap();
    let printed: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["partialFingerprints"]["roAuditFingerprint/v1"])
        .collect();
    assert_eq!(recorded, printed);
}

#[test]
fn a_missing_or_broken_baseline_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    write_src(dir, SHOW);
    let output = run(dir, &["check", "src", "--baseline", "nope.json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("ro-audit: error: nope.json: cannot read the baseline"), "{stderr}");

    std::fs::write(dir.join("bad.json"), "{\"version\": 2, \"findings\": []}").unwrap();
    let output = run(dir, &["check", "src", "--baseline", "bad.json"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.json: not a ro-audit baseline: version 2 is not supported"), "{stderr}");

    std::fs::write(dir.join("bad.json"), "[1, 2]").unwrap();
    let output = run(dir, &["check", "src", "--baseline", "bad.json"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a ro-audit baseline"));
}
