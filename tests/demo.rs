//! The bundled demo (`fixtures/demo/`): the real binary's human and JSON output must match the
//! reviewed golden files, the findings must be exactly the planted bugs, and the README must
//! open with the quick start and show output that the real run produces.
//!
//! `UPDATE_GOLDEN=1 cargo test -p ro-audit --test demo` rewrites `expected.txt` and
//! `expected.json`; review the diff by hand before committing it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

/// The demo tree, as passed to the binary (relative to the repository root, so that the paths
/// in the output are stable).
const DEMO: &str = "fixtures/demo";

/// The planted bugs, as listed in `fixtures/demo/README.md`: file, line of the finding, and a
/// piece of the evidence (the SQL that writes).
const PLANTED: &[(&str, u64, &str)] = &[
    // read-only on one branch of an `if`, UPDATE after it
    ("fixtures/demo/src/routes/packages.rs", 165, "UPDATE readmes SET rendered"),
    // sqlx builder chain executed on the search replica
    ("fixtures/demo/src/routes/search.rs", 58, "INSERT INTO search_log"),
    // literal upsert
    ("fixtures/demo/src/routes/stats.rs", 63, "ON CONFLICT (package_id, day) DO UPDATE"),
    // a const from queries.rs
    ("fixtures/demo/src/routes/users.rs", 66, "UPDATE users SET last_seen_at = now()"),
    // format!-built UPDATE
    ("fixtures/demo/src/routes/users.rs", 90, "WHERE unsubscribe_token = $1"),
    // SELECT … FOR UPDATE on the replica (the lock is past the evidence's length limit)
    ("fixtures/demo/src/routes/versions.rs", 36, "SELECT v.id, v.num, v.checksum"),
    // nextval
    ("fixtures/demo/src/routes/versions.rs", 72, "nextval('download_ticket_seq')"),
];

/// The quick start the README must open with.
const QUICK_START: &[&str] =
    &["cargo run --release -- check fixtures/demo", "cargo test --workspace --all-features"];

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> Output {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ro-audit"))
        .current_dir(repo_root())
        .env_remove("NO_COLOR")
        .args(args)
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.is_empty(), "nothing on stderr:\n{stderr}");
    output
}

/// Compares `actual` with the golden file `name` in the demo folder, or rewrites the golden
/// file when `UPDATE_GOLDEN` is set.
fn assert_golden(name: &str, actual: &str) {
    let path: PathBuf = repo_root().join(DEMO).join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| !v.is_empty()) {
        std::fs::write(&path, actual).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("reading {}: {e} (UPDATE_GOLDEN=1 creates it; review it by hand)", path.display())
    });
    if expected != actual {
        let first_difference = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the output, first at line {} (rerun with UPDATE_GOLDEN=1 and review \
             the diff if the change is intended)\n--- expected\n{}\n--- actual\n{}",
            path.display(),
            first_difference + 1,
            expected.lines().nth(first_difference).unwrap_or("<end of file>"),
            actual.lines().nth(first_difference).unwrap_or("<end of output>"),
        );
    }
}

fn planted_locations() -> BTreeSet<(String, u64)> {
    PLANTED.iter().map(|(file, line, _)| (file.to_string(), *line)).collect()
}

#[test]
fn json_output_matches_the_golden_file_and_the_planted_bugs() {
    let output = run(&["check", DEMO, "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "findings and no file errors: exit status 1");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    assert_golden("expected.json", &stdout);

    let json: Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(json["version"], 1);
    assert_eq!(json["errors"], Value::Array(Vec::new()), "the demo parses cleanly");
    let findings = json["findings"].as_array().expect("a findings array");
    let found: BTreeSet<(String, u64)> = findings
        .iter()
        .map(|f| (f["file"].as_str().unwrap().to_string(), f["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(found.len(), findings.len(), "one finding per planted bug: {findings:#?}");
    assert_eq!(found, planted_locations(), "the findings are exactly the planted bugs");
    assert_eq!(json["summary"]["findings"], PLANTED.len());
    assert_eq!(json["summary"]["errors"], 0);

    for (file, line, evidence) in PLANTED {
        let finding = findings
            .iter()
            .find(|f| f["file"] == *file && f["line"] == *line)
            .unwrap_or_else(|| panic!("no finding at {file}:{line}"));
        assert_eq!(finding["rule"], "ro-write-sql", "{file}:{line}");
        assert_eq!(finding["binding"], "db", "{file}:{line}");
        let binding_line = finding["binding_line"].as_u64().unwrap();
        assert!(binding_line < *line, "{file}:{line}: the binding became read-only before the write");
        let text = finding["evidence"].as_str().unwrap();
        assert!(text.contains(evidence), "{file}:{line}: evidence {text:?} lacks {evidence:?}");
    }
}

#[test]
fn human_output_matches_the_golden_file_and_the_planted_bugs() {
    let output = run(&["check", DEMO, "--no-color"]);
    assert_eq!(output.status.code(), Some(1), "findings and no file errors: exit status 1");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    assert!(!stdout.contains('\u{1b}'), "--no-color: no escape sequences");
    assert_golden("expected.txt", &stdout);

    // Each report names its location as `╭─[ file:line:column ]`.
    let found: BTreeSet<(String, u64)> = stdout
        .lines()
        .filter_map(|l| l.split_once("╭─[ ")?.1.strip_suffix(" ]"))
        .map(|location| {
            let mut parts = location.rsplitn(3, ':');
            let _column = parts.next();
            let line = parts.next().and_then(|l| l.parse().ok()).expect("file:line:column");
            (parts.next().expect("file:line:column").to_string(), line)
        })
        .collect();
    assert_eq!(found, planted_locations(), "the reports are exactly the planted bugs");
    assert_eq!(stdout.matches("[ro-write-sql] Error:").count(), PLANTED.len());
    assert!(
        stdout
            .lines()
            .last()
            .is_some_and(|l| l.starts_with(&format!("{} findings in 5 files", PLANTED.len()))),
        "the summary line comes last:\n{stdout}"
    );
}

#[test]
fn demo_readme_lists_every_planted_bug() {
    let readme = std::fs::read_to_string(repo_root().join(DEMO).join("README.md")).unwrap();
    for (file, line, _) in PLANTED {
        let relative = file.strip_prefix("fixtures/demo/").unwrap();
        assert!(
            readme.contains(&format!("`{relative}:{line}`")),
            "fixtures/demo/README.md lacks {relative}:{line}"
        );
    }
    let rows = readme.lines().filter(|l| l.starts_with("| ") && l.contains("`src/")).count();
    assert_eq!(rows, PLANTED.len(), "one table row per planted bug");
}

/// The fenced code blocks of a Markdown text, each as its lines (fences left out).
fn code_blocks(markdown: &str) -> Vec<Vec<&str>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => current = Some(Vec::new()),
            }
        } else if let Some(block) = current.as_mut() {
            block.push(line);
        }
    }
    assert!(current.is_none(), "an unclosed code fence");
    blocks
}

fn readme() -> String {
    std::fs::read_to_string(repo_root().join("README.md")).expect("README.md at the repository root")
}

#[test]
fn readme_opens_with_the_two_quick_start_commands() {
    let readme = readme();
    let blocks = code_blocks(&readme);
    let first = blocks.first().expect("a fenced code block");
    let commands: Vec<&str> = first.iter().map(|l| l.trim()).filter(|l| !l.is_empty()).collect();
    assert_eq!(commands, QUICK_START, "the README's first code block is the quick start");
    let before: &str = readme.split("```").next().unwrap();
    assert!(
        before.lines().filter(|l| !l.trim().is_empty()).count() <= 3,
        "the quick start opens the README (only a title and a line may come before it):\n{before}"
    );
}

#[test]
fn readme_sample_output_comes_from_the_demo_run() {
    // ariadne pads some lines with spaces; editors may strip them from the README.
    let trim_lines = |text: &str| text.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
    let expected = trim_lines(&std::fs::read_to_string(repo_root().join(DEMO).join("expected.txt")).unwrap());
    let readme = readme();
    let blocks = code_blocks(&readme);
    let sample = blocks
        .iter()
        .find(|b| b.iter().any(|l| l.contains("[ro-write-sql] Error:")))
        .expect("a code block with sample human output");
    // Parts of the run, cut where the README shows `[…]`: each part is verbatim output.
    let text = trim_lines(&sample.join("\n"));
    let parts: Vec<&str> = text.split("[…]\n").collect();
    assert!(parts.len() >= 2, "the sample shows part of the output and marks the cut with `[…]`");
    for part in parts {
        assert!(expected.contains(part), "README sample output not in the demo's output:\n{part}");
    }
    assert!(text.ends_with(expected.lines().last().unwrap()), "the sample ends with the summary line");
}
