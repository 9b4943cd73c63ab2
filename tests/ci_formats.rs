//! Output for CI: `--format sarif` validated against the SARIF 2.1.0 JSON schema and checked
//! field by field against the JSON report of the same run; `--format github` annotations,
//! their escaping, and file errors; the rule documents behind `rules`, `explain` and SARIF's
//! rule metadata. Runs the real binary on `fixtures/ci/app` (see its README) and on generated
//! trees.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ro_audit::rules::{self, DOC_SECTIONS};
use serde_json::Value;

mod common;
use common::{run, tree};

const APP: &str = "fixtures/ci/app";
const POSTS: &str = "fixtures/ci/app/src/posts.rs";

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", stdout(output)))
}

// ---------------------------------------------------------------------------------------------
// SARIF

/// The SARIF 2.1.0 schema from the sources of the `serde-sarif` crate, found through
/// `cargo metadata` (the crate is a never-built dev-dependency, pinned by the lock file; a
/// fresh checkout fetches it here).
fn sarif_schema_path() -> PathBuf {
    let metadata = |offline: bool| -> Option<Value> {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.current_dir(repo_root()).args(["metadata", "--format-version", "1"]);
        if offline {
            cmd.arg("--offline");
        }
        let output = cmd.output().ok()?;
        output.status.success().then(|| serde_json::from_slice(&output.stdout).ok()).flatten()
    };
    let metadata = metadata(true)
        .or_else(|| metadata(false))
        .expect("`cargo metadata` runs (it fetches serde-sarif's sources when they are missing)");
    let manifest = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "serde-sarif")
        .and_then(|p| p["manifest_path"].as_str())
        .expect("serde-sarif is in the dependency graph (Cargo.toml, target cfg(any()))");
    let schema = Path::new(manifest).parent().unwrap().join("src/schema.json");
    assert!(schema.is_file(), "{} exists", schema.display());
    schema
}

struct SarifValidator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl SarifValidator {
    fn new() -> SarifValidator {
        let path = sarif_schema_path();
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            schema["title"], "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema",
            "the schema file is SARIF 2.1.0's"
        );
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.enable_format_assertions();
        let location = "file:///sarif-schema-2.1.0.json";
        compiler.add_resource(location, schema).unwrap();
        let index = compiler.compile(location, &mut schemas).unwrap_or_else(|e| panic!("{e:#}"));
        SarifValidator { schemas, index }
    }

    fn errors(&self, log: &Value) -> Option<String> {
        self.schemas.validate(log, self.index).err().map(|e| format!("{e:#}"))
    }
}

fn sarif_log(dir: &Path, args: &[&str]) -> (Output, Value) {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "sarif"]);
    let output = run(dir, &all);
    let log = json_of(&output);
    (output, log)
}

#[test]
fn sarif_validates_against_the_schema_and_says_what_json_says() {
    let validator = SarifValidator::new();
    let (output, log) = sarif_log(repo_root(), &[APP]);
    assert_eq!(output.status.code(), Some(1), "findings: exit status 1");
    if let Some(errors) = validator.errors(&log) {
        panic!("--format sarif is not valid SARIF 2.1.0:\n{errors}\n{log:#}");
    }
    assert_eq!(log["version"], "2.1.0");
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run0 = &runs[0];

    // Tool and rule metadata, from the rule documents.
    let driver = &run0["tool"]["driver"];
    assert_eq!(driver["name"], "ro-audit");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let sarif_rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = sarif_rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, rules::ALL.iter().map(|r| r.id).collect::<Vec<_>>(), "the rules `check` reports");
    assert!(ids.contains(&"ro-write-sql") && ids.contains(&"ro-bad-suppression"));
    for r in sarif_rules {
        let id = r["id"].as_str().unwrap();
        let doc = read_doc(id);
        assert_eq!(r["help"]["markdown"], doc, "{id}: help is the rule's document");
        assert_eq!(r["help"]["text"], doc, "{id}");
        assert_eq!(r["shortDescription"]["text"], doc_summary(&doc), "{id}");
        let full = r["fullDescription"]["text"].as_str().unwrap();
        assert!(full.len() > 100 && doc.contains(full), "{id}: fullDescription is `What it does`: {full}");
        assert_eq!(r["defaultConfiguration"]["level"], "error", "{id}");
    }

    // Relative URIs against %SRCROOT%, the directory the run started in.
    let root_uri = run0["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap();
    assert_eq!(root_uri, format!("file://{}/", repo_root().display()));
    assert_eq!(run0["columnKind"], "unicodeCodePoints");

    // The same findings as the JSON report, located the same way.
    let json = json_of(&run(repo_root(), &["check", APP, "--format", "json"]));
    let findings = json["findings"].as_array().unwrap();
    let results = run0["results"].as_array().unwrap();
    let (suppressed, reported): (Vec<&Value>, Vec<&Value>) =
        results.iter().partition(|r| r.get("suppressions").is_some());
    assert_eq!(reported.len(), findings.len(), "one result per finding");
    assert_eq!(reported.len(), 5);
    let mut fingerprints = BTreeSet::new();
    for (result, finding) in reported.iter().zip(findings) {
        let rule = finding["rule"].as_str().unwrap();
        assert_eq!(result["ruleId"], rule);
        assert_eq!(sarif_rules[result["ruleIndex"].as_u64().unwrap() as usize]["id"], rule);
        assert_eq!(result["level"], "error");
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], finding["file"]);
        assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let region = &location["region"];
        assert_eq!(region["startLine"], finding["line"]);
        assert_eq!(region["startColumn"], finding["column"]);
        assert_eq!(region["endLine"], finding["end_line"]);
        assert_eq!(region["endColumn"], finding["end_column"]);
        let text = result["message"]["text"].as_str().unwrap();
        let fingerprint = result["partialFingerprints"]["roAuditFingerprint/v1"].as_str().unwrap();
        assert!(
            fingerprint.len() == 32 && fingerprint.chars().all(|c| c.is_ascii_hexdigit()),
            "{fingerprint}"
        );
        assert!(fingerprints.insert(fingerprint.to_string()), "fingerprints are unique: {fingerprint}");
        if rule != "ro-bad-suppression" {
            // The binding's origin is related location 1, linked from the message.
            let related = &result["relatedLocations"][0];
            assert_eq!(related["id"], 1);
            assert_eq!(related["physicalLocation"]["region"]["startLine"], finding["binding_line"]);
            assert_eq!(related["physicalLocation"]["artifactLocation"]["uri"], finding["file"]);
            let binding = finding["binding"].as_str().unwrap();
            assert_eq!(related["message"]["text"], format!("`{binding}` is read-only from here"));
            assert!(text.contains(&format!("[line {}](1)", finding["binding_line"])), "{text}");
            assert!(text.starts_with(finding["message"].as_str().unwrap()), "{text}");
            assert_eq!(result["properties"]["function"], finding["function"]);
        } else {
            assert!(result.get("relatedLocations").is_none(), "a bad suppression has no binding");
        }
    }
    // The `%` and `\` SQL: brackets and backslashes escaped in message text.
    let tidy = reported.iter().find(|r| r["properties"]["function"] == "tidy_titles").unwrap();
    assert!(tidy["message"]["text"].as_str().unwrap().ends_with(r"WHERE title LIKE '%\\%%'"), "{tidy:#}");

    // The suppressed finding, with the comment's reason.
    assert_eq!(suppressed.len(), 1);
    let s = suppressed[0];
    assert_eq!(s["ruleId"], "ro-write-sql");
    assert_eq!(s["locations"][0]["physicalLocation"]["region"]["startLine"], 34);
    assert_eq!(s["suppressions"][0]["kind"], "inSource");
    assert_eq!(s["suppressions"][0]["justification"], "the purge job's read-only pool points at the primary");
    assert_eq!(run0["properties"]["summary"]["suppressed"], 1);
    assert_eq!(run0["invocations"][0]["executionSuccessful"], true);

    // Every rule `check` reports is reported by this fixture (`rules::ALL` stays true).
    let seen: BTreeSet<&str> = reported.iter().map(|r| r["ruleId"].as_str().unwrap()).collect();
    assert_eq!(seen, rules::ALL.iter().map(|r| r.id).collect());
}

#[test]
fn the_schema_check_rejects_what_sarif_forbids() {
    // Controls: the validator is live, and the properties our output relies on are checked.
    let validator = SarifValidator::new();
    let (_, log) = sarif_log(repo_root(), &[APP]);
    assert!(validator.errors(&log).is_none());

    let mut wrong_version = log.clone();
    wrong_version["version"] = "2.0.0".into();
    assert!(validator.errors(&wrong_version).is_some(), "version must be 2.1.0");

    let mut line_zero = log.clone();
    line_zero["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0.into();
    assert!(validator.errors(&line_zero).is_some(), "lines start at 1");

    let mut unencoded = log.clone();
    unencoded["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        "src/a file.rs".into();
    assert!(validator.errors(&unencoded).is_some(), "a URI has no spaces");

    let mut unknown = log.clone();
    unknown["runs"][0]["results"][0]["fingerprint"] = "x".into();
    assert!(validator.errors(&unknown).is_some(), "results have no unknown properties");
}

#[test]
fn sarif_with_file_errors_odd_paths_and_no_findings_is_valid() {
    let validator = SarifValidator::new();
    let dir = tree(&[
        ("src/a dir/naïve 100%.rs", WRITE_ON_RO),
        ("src/broken.rs", "// get_db_ro\npub fn f( {\n"),
        ("src/clean.rs", "pub fn f() {}\n"),
    ]);
    let (output, log) = sarif_log(dir.path(), &["src"]);
    assert_eq!(output.status.code(), Some(2), "a file error without --keep-going");
    if let Some(errors) = validator.errors(&log) {
        panic!("not valid SARIF 2.1.0:\n{errors}\n{log:#}");
    }
    let run0 = &log["runs"][0];
    let uri = &run0["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    assert_eq!(uri, "src/a%20dir/na%C3%AFve%20100%25.rs");
    let notes = run0["invocations"][0]["toolExecutionNotifications"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["level"], "error");
    assert_eq!(notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "src/broken.rs");
    assert_eq!(notes[0]["locations"][0]["physicalLocation"]["region"]["startLine"], 2);
    assert_eq!(run0["invocations"][0]["executionSuccessful"], false);

    // Nothing found: still a valid log, with the rules and no results.
    let (output, log) = sarif_log(dir.path(), &["src/clean.rs"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(validator.errors(&log).is_none(), "{log:#}");
    assert_eq!(log["runs"][0]["results"], Value::Array(Vec::new()));
    assert_eq!(log["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap().len(), rules::ALL.len());
}

// ---------------------------------------------------------------------------------------------
// GitHub annotations

const WRITE_ON_RO: &str = "pub async fn bump(state: &AppState) {\n    let db = state.get_db_ro().await?;\n    db.execute(\"UPDATE posts SET views = views + 1\", &[]).await?;\n}\n";

/// A workflow command line: its name, its properties (unescaped) and its message (unescaped).
fn parse_command(line: &str) -> (String, Vec<(String, String)>, String) {
    let rest = line.strip_prefix("::").unwrap_or_else(|| panic!("not a command: {line}"));
    let (head, message) =
        rest.split_once("::").unwrap_or_else(|| panic!("no `::` before the message: {line}"));
    let (name, props) = head.split_once(' ').unwrap_or((head, ""));
    let unescape = |s: &str| {
        s.replace("%0A", "\n")
            .replace("%0D", "\r")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    };
    let props = props
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or_else(|| panic!("property without `=`: {p} in {line}"));
            (k.to_string(), unescape(v))
        })
        .collect();
    assert!(!message.contains('\n') && !message.contains('\r'), "one line");
    (name.to_string(), props, unescape(message))
}

#[test]
fn github_annotations_one_per_finding_escaped() {
    let output = run(repo_root(), &["check", APP, "--format", "github"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "five annotations and the summary:\n{text}");
    assert_eq!(
        lines[5],
        "5 findings in 2 files (5 files checked, 4 parsed, 7 functions, 4 read-only bindings), 1 suppressed"
    );

    let help = "Run it on a read-write handle, or move it out of the read-only code path.";
    let first = format!(
        "::error file={POSTS},line=13,endLine=13,col=5,endColumn=44,title=ro-audit ro-write-sql::\
         UPDATE runs on read-only `db` (through `execute`)%0A\
         writes: UPDATE posts SET views = views + 1 WHERE id = $1%0A\
         `db` is read-only from line 7%0A"
    );
    assert!(lines[0].starts_with(&first) && lines[0].ends_with(help), "{}", lines[0]);
    // A span over two lines: no columns. `%` in the message is `%25`; `:`/`,` stay.
    let second = format!(
        "::error file={POSTS},line=19,endLine=20,title=ro-audit ro-write-sql::\
         UPDATE runs on read-only `conn` (through `execute`)%0A\
         writes: UPDATE posts SET title = replace(title, '%25', '') WHERE title LIKE '%25\\%25%25'%0A\
         `conn` is read-only from line 18%0A"
    );
    assert!(lines[1].starts_with(&second), "{}", lines[1]);
    assert_eq!(
        lines[2],
        format!(
            "::error file={POSTS},line=37,endLine=37,col=5,endColumn=37,title=ro-audit ro-bad-suppression::\
             suppression of `ro-write-sql` gives no reason, so it suppresses nothing%0A\
             comment: // ro-audit: allow(ro-write-sql)%0A\
             Say why the finding is not a problem after the parenthesis: `// ro-audit: allow(RULE) reason`."
        )
    );
    assert!(lines[3].starts_with(&format!("::error file={POSTS},line=38,endLine=38,col=5,endColumn=66,")));
    assert!(
        lines[4].starts_with(&format!(
            "::error file={APP}/src/views.rs,line=12,endLine=12,col=5,endColumn=25,title=ro-audit ro-write-call::\
             `record_view` writes through the read-only `db` it is given (1 step down to the write)%0A\
             writes: INSERT INTO post_views (post_id, at) VALUES ($1, now())%0A"
        )),
        "{}",
        lines[4]
    );

    // Every annotation agrees with the JSON report.
    let json = json_of(&run(repo_root(), &["check", APP, "--format", "json"]));
    for (line, finding) in lines.iter().zip(json["findings"].as_array().unwrap()) {
        let (name, props, message) = parse_command(line);
        assert_eq!(name, "error");
        let get = |k: &str| props.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        assert_eq!(get("file").as_deref(), finding["file"].as_str());
        assert_eq!(get("line"), Some(finding["line"].to_string()));
        assert_eq!(get("endLine"), Some(finding["end_line"].to_string()));
        assert_eq!(get("title"), Some(format!("ro-audit {}", finding["rule"].as_str().unwrap())));
        assert!(message.starts_with(finding["message"].as_str().unwrap()), "{message}");
        assert!(message.contains(finding["evidence"].as_str().unwrap()), "{message}");
    }
    // --quiet: annotations only.
    let quiet = stdout(&run(repo_root(), &["check", APP, "--format", "github", "--quiet"]));
    assert_eq!(quiet.lines().collect::<Vec<_>>(), lines[..5]);
}

#[test]
fn github_property_values_escape_colons_commas_and_percent() {
    let dir = tree(&[("src/v1,v2: 100%.rs", WRITE_ON_RO), ("src/broken.rs", "// get_db_ro\nfn f( {\n")]);
    let output = run(dir.path(), &["check", "src", "--format", "github", "--quiet"]);
    assert_eq!(output.status.code(), Some(2), "a file error");
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with(
            "::error file=src/v1%2Cv2%3A 100%25.rs,line=3,endLine=3,col=5,endColumn=58,title=ro-audit ro-write-sql::"
        ),
        "{}",
        lines[0]
    );
    let (_, props, _) = parse_command(lines[0]);
    assert_eq!(props[0], ("file".to_string(), "src/v1,v2: 100%.rs".to_string()));
    // File errors are annotations too.
    let (name, props, message) = parse_command(lines[1]);
    assert_eq!(name, "error");
    assert_eq!(props[0], ("file".to_string(), "src/broken.rs".to_string()));
    assert_eq!(props[1], ("line".to_string(), "2".to_string()));
    assert_eq!(props[3], ("title".to_string(), "ro-audit file error".to_string()));
    assert!(!message.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Rule documents

fn docs_dir() -> PathBuf {
    repo_root().join("docs/rules")
}

fn read_doc(id: &str) -> String {
    let path = docs_dir().join(format!("{id}.md"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("rule `{id}` has no document {}: {e}", path.display()))
}

/// The paragraph under the title, on one line.
fn doc_summary(doc: &str) -> String {
    let paragraph =
        doc.lines().skip(1).skip_while(|l| l.trim().is_empty()).take_while(|l| !l.trim().is_empty());
    paragraph.map(str::trim).collect::<Vec<_>>().join(" ")
}

#[test]
fn every_rule_has_a_document_and_every_document_a_rule() {
    let documented: BTreeSet<String> = std::fs::read_dir(docs_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            assert_eq!(
                p.extension().and_then(|e| e.to_str()),
                Some("md"),
                "only rule documents: {}",
                p.display()
            );
            p.file_stem().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    let known: BTreeSet<String> = rules::ALL.iter().chain(rules::PLANNED).map(|r| r.id.to_string()).collect();
    assert_eq!(documented, known, "docs/rules/*.md and the rules (reported and planned) differ");

    for rule in rules::ALL.iter().chain(rules::PLANNED) {
        let doc = read_doc(rule.id);
        assert_eq!(rule.doc, doc, "{}: the compiled-in document is the file", rule.id);
        assert_eq!(doc.lines().next(), Some(format!("# {}", rule.id).as_str()), "{}: title", rule.id);
        let summary = doc_summary(&doc);
        assert!(!summary.is_empty() && !summary.starts_with('#'), "{}: a summary under the title", rule.id);
        assert!(summary.ends_with('.'), "{}: the summary is a sentence", rule.id);
        assert_eq!(rule.summary(), summary);
        let headings: Vec<&str> = doc.lines().filter_map(|l| l.strip_prefix("## ")).collect();
        assert_eq!(headings, DOC_SECTIONS, "{}: the sections of ruff's template, in order", rule.id);
        for heading in DOC_SECTIONS {
            let body = rule.section(heading).unwrap_or_default();
            assert!(body.len() > 40, "{}: `{heading}` says something", rule.id);
        }
        for heading in ["Example", "Use instead"] {
            assert!(
                rule.section(heading).unwrap().contains("```rust"),
                "{}: `{heading}` shows code",
                rule.id
            );
        }
    }
}

#[test]
fn rules_lists_and_explain_prints_the_documents() {
    let output = run(repo_root(), &["rules"]);
    assert_eq!(output.status.code(), Some(0));
    let listed: Vec<(String, String)> = stdout(&output)
        .lines()
        .map(|l| {
            let (id, summary) = l.split_once(' ').unwrap();
            (id.to_string(), summary.trim().to_string())
        })
        .collect();
    let expected: Vec<(String, String)> =
        rules::ALL.iter().map(|r| (r.id.to_string(), doc_summary(&read_doc(r.id)))).collect();
    assert_eq!(listed, expected, "`rules` lists the reported rules, with their summaries");
    for rule in rules::PLANNED {
        assert!(!listed.iter().any(|(id, _)| id == rule.id), "planned rules are not listed");
        let planned = stdout(&run(repo_root(), &["explain", rule.id]));
        assert!(planned.starts_with("> Not reported yet"), "{planned}");
        assert!(planned.ends_with(&read_doc(rule.id)));
    }

    for rule in rules::ALL {
        let output = run(repo_root(), &["explain", rule.id]);
        assert_eq!(output.status.code(), Some(0));
        assert_eq!(stdout(&output), read_doc(rule.id), "`explain {}` prints its document", rule.id);
    }

    let unknown = run(repo_root(), &["explain", "ro-write-everything"]);
    assert_eq!(unknown.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("`ro-write-everything` is not a rule") && stderr.contains("ro-write-sql"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// README

#[test]
fn the_readme_ci_examples_use_real_options() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let section =
        readme.split("\n## Running in CI\n").nth(1).expect("README.md has a `## Running in CI` section");
    let section = section.split("\n## ").next().unwrap();
    let help = stdout(&run(repo_root(), &["check", "--help"]));
    let mut commands = 0;
    let mut in_code = false;
    for line in section.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        let Some((_, rest)) = line.split_once("ro-audit check").filter(|_| in_code) else { continue };
        commands += 1;
        for word in rest.split_whitespace().take_while(|w| !matches!(*w, ">" | "|" | "||" | "&&" | ";" | "#"))
        {
            if word.starts_with('-') {
                assert!(
                    help.contains(&format!(" {word} ")) || help.contains(&format!(" {word}\n")),
                    "README: `{word}` in `{}` is not an option of `ro-audit check`",
                    line.trim()
                );
            }
        }
    }
    assert!(commands >= 6, "the section shows its command lines ({commands} found)");
    assert!(section.contains("id: ro-audit"), "the pre-commit snippet names the hook's id");
    assert!(section.contains("github/codeql-action/upload-sarif"), "the GitHub example uploads SARIF");
}
