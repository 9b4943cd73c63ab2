//! `--format sarif`: one SARIF 2.1.0 log for code scanning.
//!
//! * `tool.driver.rules`: every rule `check` reports, with its summary (short description),
//!   its "What it does" (full description), its whole document (help, text and Markdown) and
//!   its default level — all from `docs/rules/<id>.md`.
//! * `results`: one per finding, located by `physicalLocation` (a URI relative to
//!   `%SRCROOT%`, the directory the run started in, and a region in Unicode code-point
//!   columns, end exclusive); the place where the binding became read-only is the related
//!   location 1, linked from the message; `partialFingerprints` carries the fingerprint that
//!   survives unrelated edits. Suppressed findings are results too, with an `inSource`
//!   suppression and its reason.
//! * File errors are `toolExecutionNotifications` of the invocation.

use std::io::{self, Write};
use std::path::Path;

use serde_json::{json, Value};

use crate::diagnostics::Finding;
use crate::fingerprint::{self, SARIF_KEY};
use crate::pipeline::Outcome;
use crate::rules::{self, Rule};
use crate::source::TextRange;

/// The schema the log declares.
const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The base id relative artifact URIs are resolved against.
const SRCROOT: &str = "%SRCROOT%";

pub(super) fn write(outcome: &Outcome, out: &mut dyn Write) -> io::Result<()> {
    let cwd = std::env::current_dir()?;
    let log = log(outcome, &cwd);
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

/// The SARIF log of `outcome`, with relative paths resolved against `cwd`.
fn log(outcome: &Outcome, cwd: &Path) -> Value {
    let mut results: Vec<Value> = outcome.findings.iter().map(result).collect();
    for s in &outcome.suppressed {
        let mut r = result(&s.finding);
        r["suppressions"] = json!([{
            "kind": "inSource",
            "status": "accepted",
            "justification": s.reason,
        }]);
        results.push(r);
    }
    let notifications: Vec<Value> = outcome
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": "error",
                "descriptor": {"id": "file-error"},
                "message": {"text": e.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": artifact(&e.file),
                    "region": {"startLine": e.line, "startColumn": e.column},
                }}],
            })
        })
        .collect();
    let mut base = file_uri(cwd);
    if !base.ends_with('/') {
        base.push('/');
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ro-audit",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules::ALL.iter().map(descriptor).collect::<Vec<_>>(),
            }},
            "originalUriBaseIds": {SRCROOT: {"uri": base}},
            "columnKind": "unicodeCodePoints",
            "results": results,
            "invocations": [{
                "executionSuccessful": outcome.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "properties": {"summary": outcome.summary},
        }],
    })
}

/// `reportingDescriptor` of a rule.
fn descriptor(rule: &Rule) -> Value {
    json!({
        "id": rule.id,
        "name": rule.id,
        "shortDescription": {"text": rule.summary()},
        "fullDescription": {"text": rule.section("What it does").unwrap_or_default()},
        "help": {"text": rule.doc, "markdown": rule.doc},
        "defaultConfiguration": {"level": rule.level.as_str()},
        "properties": {"tags": ["correctness", "postgresql"], "precision": "high"},
    })
}

fn result(finding: &Finding) -> Value {
    let rule_index = rules::ALL.iter().position(|r| r.id == finding.rule);
    let level = Rule::find(finding.rule).map_or("error", |r| r.level.as_str());
    let has_origin = !finding.binding.is_empty() && finding.binding_line > 0;
    let text = if has_origin {
        format!(
            "{}: `{}` is read-only from [line {}](1). Writes: {}",
            escape(&finding.message),
            escape(&finding.binding),
            finding.binding_line,
            escape(&finding.evidence)
        )
    } else {
        format!("{} ({})", escape(&finding.message), escape(&finding.evidence))
    };
    let mut r = json!({
        "ruleId": finding.rule,
        "level": level,
        "message": {"text": text},
        "locations": [location(&finding.file, &span_range(finding))],
        "partialFingerprints": {SARIF_KEY: finding.fingerprint},
        "properties": {
            "function": finding.function,
            "binding": finding.binding,
            "bindingLine": finding.binding_line,
            "evidence": finding.evidence,
        },
    });
    if let Some(i) = rule_index {
        r["ruleIndex"] = json!(i);
    }
    if has_origin {
        let mut related = location(&finding.file, &finding.origin);
        related["id"] = json!(1);
        related["message"] =
            json!({"text": format!("`{}` is read-only from here", escape(&finding.binding))});
        r["relatedLocations"] = json!([related]);
    }
    r
}

/// The finding's range from its line and column fields (which every reporter uses).
fn span_range(finding: &Finding) -> TextRange {
    let mut range = finding.span;
    range.start.line = finding.line;
    range.start.column = finding.column;
    range.end.line = finding.end_line;
    range.end.column = finding.end_column;
    range
}

fn location(file: &Path, range: &TextRange) -> Value {
    let mut region = json!({"startLine": range.start.line, "startColumn": range.start.column});
    if range.end.line >= range.start.line && range.end.line > 0 {
        region["endLine"] = json!(range.end.line);
        if range.end.line > range.start.line || range.end.column > range.start.column {
            region["endColumn"] = json!(range.end.column);
        }
    }
    json!({"physicalLocation": {"artifactLocation": artifact(file), "region": region}})
}

/// A relative path as a URI reference against `%SRCROOT%`; an absolute one as a `file:` URI.
fn artifact(file: &Path) -> Value {
    if file.is_absolute() {
        json!({"uri": file_uri(file)})
    } else {
        json!({"uri": encode_path(&fingerprint::path_key(file)), "uriBaseId": SRCROOT})
    }
}

fn file_uri(abs: &Path) -> String {
    let path = abs.to_string_lossy().replace('\\', "/");
    let path = if path.starts_with('/') { path } else { format!("/{path}") };
    format!("file://{}", encode_path(&path))
}

/// Percent-encodes a `/`-separated path for a URI: every byte but unreserved characters,
/// sub-delimiters, `@` and `/` (a `:` too, so that a relative path never reads as a scheme).
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=@/".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// SARIF message text: `[`, `]` and `\` are escaped so that only our links are links.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(encode_path("src/a b/é.rs"), "src/a%20b/%C3%A9.rs");
        assert_eq!(encode_path("src/100%#?.rs"), "src/100%25%23%3F.rs");
        assert_eq!(encode_path("c:x.rs"), "c%3Ax.rs");
        assert_eq!(file_uri(Path::new("/work/my repo")), "file:///work/my%20repo");
        assert_eq!(artifact(Path::new("./src/a.rs")), json!({"uri": "src/a.rs", "uriBaseId": "%SRCROOT%"}));
        assert_eq!(artifact(Path::new("/abs/a.rs")), json!({"uri": "file:///abs/a.rs"}));
    }

    #[test]
    fn message_text_escapes_brackets() {
        assert_eq!(escape(r"SELECT a[1] \ x"), r"SELECT a\[1\] \\ x");
    }
}
