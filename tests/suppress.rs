//! Suppression comments on the real binary: what a `// ro-audit: allow(RULE) reason` covers,
//! what `ro-bad-suppression` reports, `summary.suppressed`, `--no-suppress`, `allow(migrate)`,
//! and exit statuses.

use std::path::Path;

use serde_json::Value;

mod common;
use common::{run, tree};

fn check_json(dir: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    common::check_src_json(dir, extra)
}

/// Findings as (rule, line, message).
fn findings(json: &Value) -> Vec<(String, u64, String)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// (rule, line) of each finding.
fn located(json: &Value) -> Vec<(String, u64)> {
    findings(json).into_iter().map(|(rule, line, _)| (rule, line)).collect()
}

fn pairs(expected: &[(&str, u64)]) -> Vec<(String, u64)> {
    expected.iter().map(|(rule, line)| (rule.to_string(), *line)).collect()
}

/// A function with a read-only `db` and `body` after it (lines from 3 on).
fn handler(body: &str) -> String {
    format!("pub async fn h(state: &AppState) {{\n    let db = state.get_db_ro().await?;\n{body}}}\n")
}

#[test]
fn what_a_suppression_covers() {
    let src = handler(concat!(
        // 3: the line above the finding's first line
        "    // ro-audit: allow(ro-write-sql) the stats pool is the primary\n",
        "    db.execute(\"UPDATE a SET n = n + 1\", &[]).await?;\n",
        // 5: a trailing comment on the finding's line
        "    db.execute(\"UPDATE b SET n = 1\", &[]).await?; // ro-audit: allow(ro-write-sql) same pool\n",
        // 6-10: a span over several lines, the comment inside it
        "    db.execute(\n",
        "        // ro-audit: allow(ro-write-sql) migration window, see ticket 12\n",
        "        \"DELETE FROM c\",\n",
        "        &[],\n",
        "    ).await?;\n",
        // 11-13: a blank line between comment and finding: not covered
        "    // ro-audit: allow(ro-write-sql) too far away\n",
        "\n",
        "    db.execute(\"DELETE FROM d\", &[]).await?;\n",
        // 14-15: another rule named: not covered
        "    // ro-audit: allow(ro-write-call) wrong rule\n",
        "    db.execute(\"DELETE FROM e\", &[]).await?;\n",
        // 16-17: several rules, one of which applies
        "    /* ro-audit: allow(ro-write-call, ro-write-sql): both, one used */\n",
        "    db.execute(\"DELETE FROM f\", &[]).await?;\n",
    ));
    let dir = tree(&[("src/a.rs", &src)]);
    let (code, json) = check_json(dir.path(), &[]);
    assert_eq!(
        located(&json),
        pairs(&[
            ("ro-bad-suppression", 11),
            ("ro-write-sql", 13),
            ("ro-bad-suppression", 14),
            ("ro-write-sql", 15),
            ("ro-bad-suppression", 16),
        ]),
        "{json:#}"
    );
    let messages: Vec<String> = findings(&json).into_iter().map(|(_, _, m)| m).collect();
    assert_eq!(
        messages[0],
        "suppression of `ro-write-sql` suppresses nothing: no such finding on this line or the next"
    );
    assert_eq!(
        messages[2],
        "suppression of `ro-write-call` suppresses nothing: no such finding on this line or the next"
    );
    assert_eq!(messages[4], messages[2], "the unused rule of a two-rule comment");
    assert_eq!(json["summary"]["suppressed"], 4, "lines 4, 5, 6 and 17");
    assert_eq!(json["summary"]["findings"], 5);
    assert_eq!(code, Some(1));

    // The bad suppression points at the comment and quotes it.
    let bad = &json["findings"][0];
    assert_eq!((bad["column"].as_u64(), bad["end_column"].as_u64()), (Some(5), Some(50)));
    assert_eq!(bad["evidence"], "// ro-audit: allow(ro-write-sql) too far away");
    assert_eq!(bad["function"], "");
}

#[test]
fn bad_suppressions_are_findings_at_the_comment() {
    let src = handler(concat!(
        "    // ro-audit: allow(ro-write-sql)\n",
        "    db.execute(\"UPDATE a SET n = 1\", &[]).await?;\n",
        "    // ro-audit: allow(ro-write-sql) -\n",
        "    db.execute(\"UPDATE b SET n = 1\", &[]).await?;\n",
        "    // ro-audit: allow(ro-write-everything) no such rule\n",
        "    db.execute(\"UPDATE c SET n = 1\", &[]).await?;\n",
        "    // ro-audit: alow(ro-write-sql) typo\n",
        "    // ro-audit: allow(ro-bad-suppression) cannot be\n",
        "    let x = 1;\n",
    ));
    let dir = tree(&[("src/a.rs", &src)]);
    let (code, json) = check_json(dir.path(), &[]);
    let got = findings(&json);
    let expected = [
        ("ro-bad-suppression", 3, "suppression of `ro-write-sql` gives no reason, so it suppresses nothing"),
        ("ro-write-sql", 4, "UPDATE runs on read-only `db` (through `execute`)"),
        ("ro-bad-suppression", 5, "suppression of `ro-write-sql` gives no reason, so it suppresses nothing"),
        ("ro-write-sql", 6, "UPDATE runs on read-only `db` (through `execute`)"),
        ("ro-bad-suppression", 7, "`ro-write-everything` is not a rule of ro-audit"),
        ("ro-write-sql", 8, "UPDATE runs on read-only `db` (through `execute`)"),
        (
            "ro-bad-suppression",
            9,
            "malformed suppression comment: expected `ro-audit: allow(RULE, …) reason`",
        ),
        ("ro-bad-suppression", 10, "findings of `ro-bad-suppression` cannot be suppressed"),
    ];
    let expected: Vec<(String, u64, String)> =
        expected.iter().map(|(r, l, m)| (r.to_string(), *l, m.to_string())).collect();
    assert_eq!(got, expected, "{json:#}");
    assert_eq!(json["summary"]["suppressed"], 0, "a comment without a reason suppresses nothing");
    assert_eq!(code, Some(1));

    // The human report labels the comment and says what to do.
    let human = String::from_utf8(run(dir.path(), &["check", "src", "--no-color"]).stdout).unwrap();
    assert!(
        human.contains("[ro-bad-suppression] Error: suppression of `ro-write-sql` gives no reason"),
        "{human}"
    );
    assert!(human.contains("this comment"), "{human}");
    assert!(human.contains("Help: Say why the finding is not a problem"), "{human}");
}

#[test]
fn comments_in_string_literals_are_not_suppressions() {
    let src = handler(concat!(
        "    let s = \"// ro-audit: allow(ro-write-sql) inside a string\";\n",
        "    db.execute(\"UPDATE a SET n = 1\", &[]).await?;\n",
        "    let r = r#\"\n",
        "    // ro-audit: allow(ro-write-sql) inside a raw string\"#;\n",
        "    db.execute(\"UPDATE b SET n = 1\", &[]).await?;\n",
        "    db.execute(\"UPDATE c SET n = 1 -- ro-audit: allow(ro-write-sql) SQL comment\", &[]).await?;\n",
    ));
    let dir = tree(&[("src/a.rs", &src)]);
    let (code, json) = check_json(dir.path(), &[]);
    assert_eq!(
        located(&json),
        pairs(&[("ro-write-sql", 4), ("ro-write-sql", 7), ("ro-write-sql", 8)]),
        "nothing suppressed, no bad suppression: {json:#}"
    );
    assert_eq!(json["summary"]["suppressed"], 0);
    assert_eq!(code, Some(1));
}

#[test]
fn allow_migrate_belongs_to_migrate() {
    let src = handler(concat!(
        "    // ro-audit: allow(migrate) must read its own writes\n",
        "    // ro-audit: allow(migrate)\n",
        "    let rows = db.query(\"SELECT 1\", &[]).await?;\n",
        "    // ro-audit: allow(migrate, ro-write-sql) both tools\n",
        "    db.execute(\"UPDATE a SET n = 1\", &[]).await?;\n",
        "    // ro-audit: allow(migrate, ro-write-sql) nothing for check here\n",
        "    let x = 1;\n",
    ));
    let dir = tree(&[("src/a.rs", &src)]);
    let (code, json) = check_json(dir.path(), &[]);
    assert_eq!(
        located(&json),
        pairs(&[("ro-bad-suppression", 8)]),
        "allow(migrate) is never judged; the check part of a mixed comment is: {json:#}"
    );
    assert_eq!(json["summary"]["suppressed"], 1);
    assert_eq!(code, Some(1));
}

#[test]
fn fully_suppressed_runs_exit_clean_and_no_suppress_reports_everything() {
    let src = handler(concat!(
        "    // ro-audit: allow(ro-write-sql) the stats pool is the primary\n",
        "    db.execute(\"UPDATE a SET n = n + 1\", &[]).await?;\n",
    ));
    let dir = tree(&[("src/a.rs", &src), ("src/b.rs", "// ro-audit: allow(ro-write-sql\nfn f() {}\n")]);
    // b.rs mentions no accessor (it is never parsed) but its comment is still judged.
    let (code, json) = check_json(dir.path(), &[]);
    assert_eq!(located(&json), pairs(&[("ro-bad-suppression", 1)]));
    assert_eq!(json["findings"][0]["file"], "src/b.rs");
    assert_eq!(code, Some(1));

    std::fs::remove_file(dir.path().join("src/b.rs")).unwrap();
    let (code, json) = check_json(dir.path(), &[]);
    assert_eq!(located(&json), pairs(&[]));
    assert_eq!(json["summary"]["suppressed"], 1);
    assert_eq!(json["summary"]["findings"], 0);
    assert_eq!(code, Some(0), "suppressed findings do not count");
    let human = String::from_utf8(run(dir.path(), &["check", "src", "--no-color"]).stdout).unwrap();
    assert!(human.trim_end().ends_with(", 1 suppressed"), "{human}");

    let (code, json) = check_json(dir.path(), &["--no-suppress"]);
    assert_eq!(located(&json), pairs(&[("ro-write-sql", 4)]));
    assert_eq!(json["summary"]["suppressed"], 0);
    assert_eq!(code, Some(1));

    // --no-suppress judges no comment either.
    std::fs::write(dir.path().join("src/c.rs"), "// ro-audit: allow(ro-write-sql)\n").unwrap();
    let (_, json) = check_json(dir.path(), &["--no-suppress"]);
    assert_eq!(located(&json), pairs(&[("ro-write-sql", 4)]));
}

#[test]
fn context_files_are_not_judged() {
    // A named file is reported on; the rest of the project is context only, so a stale
    // suppression there is not this run's business.
    let stale = "// ro-audit: allow(ro-write-sql)\npub const Q: &str = \"UPDATE a SET n = 1\";\n";
    let dir = tree(&[
        ("ro-audit.toml", ""),
        ("src/a.rs", &handler("    db.execute(crate::q::Q, &[]).await?;\n")),
        ("src/q.rs", stale),
    ]);
    let output = run(dir.path(), &["check", "src/a.rs", "--format", "json"]);
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(located(&json), pairs(&[("ro-write-sql", 3)]), "{json:#}");
    assert_eq!(json["findings"][0]["evidence"], "UPDATE a SET n = 1");
}
