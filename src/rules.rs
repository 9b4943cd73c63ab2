//! The rules: from the facts of analysed functions (and the index) to findings.
//!
//! The analysis records what happens to handles; the judge ([`crate::judge`]) says whether a
//! use writes; only here is it decided what is a problem (a write on a read-only binding).

pub mod write_call;

use std::path::Path;

use crate::analysis::facts::{FnFacts, Sink, SinkKind};
use crate::diagnostics::Finding;
use crate::judge::{Judge, Site, SqlVerdict};

/// Write SQL executed on a read-only binding.
pub const RO_WRITE_SQL: &str = "ro-write-sql";

/// A suppression comment that gives no reason, names no rule, or suppresses nothing.
pub const RO_BAD_SUPPRESSION: &str = "ro-bad-suppression";

/// A call that writes receives a read-only binding: a writer of the tree, or a write helper by
/// name.
pub const RO_WRITE_CALL: &str = "ro-write-call";

/// Every rule `check` reports, in the order they are documented.
pub const ALL: &[Rule] = &[
    Rule { id: RO_WRITE_SQL, level: Level::Error, doc: include_str!("../docs/rules/ro-write-sql.md") },
    Rule { id: RO_WRITE_CALL, level: Level::Error, doc: include_str!("../docs/rules/ro-write-call.md") },
    Rule {
        id: RO_BAD_SUPPRESSION,
        level: Level::Error,
        doc: include_str!("../docs/rules/ro-bad-suppression.md"),
    },
];

/// Rules that are documented but not reported yet (a later version moves them to [`ALL`]).
pub const PLANNED: &[Rule] = &[];

/// The headings every rule document has, in this order (ruff's template).
pub const DOC_SECTIONS: &[&str] = &["What it does", "Why is this bad?", "Example", "Use instead"];

/// How a rule's findings are reported unless configured otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Fails the run.
    Error,
    /// Reported, for information.
    Warning,
}

impl Level {
    /// The SARIF `level` of this level.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
        }
    }
}

/// A rule's metadata. Its documentation (`docs/rules/<id>.md`, compiled in) is the one source
/// of its summary, its description and its help text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The stable id (`ro-write-sql`).
    pub id: &'static str,
    /// The default level.
    pub level: Level,
    /// The Markdown document: `# id`, a one-line summary, then the [`DOC_SECTIONS`].
    pub doc: &'static str,
}

impl Rule {
    /// The rule with `id`, reported or planned.
    pub fn find(id: &str) -> Option<&'static Rule> {
        ALL.iter().chain(PLANNED).find(|rule| rule.id == id)
    }

    /// Whether `check` reports this rule (false: documented, planned).
    pub fn is_reported(&self) -> bool {
        ALL.iter().any(|rule| rule.id == self.id)
    }

    /// The one-line summary: the paragraph under the title, on one line.
    pub fn summary(&self) -> String {
        let body = self.doc.split_once('\n').map_or("", |(_, rest)| rest);
        let paragraph = body.trim_start().split("\n\n").next().unwrap_or("");
        if paragraph.starts_with('#') {
            return String::new();
        }
        paragraph.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The text under the `## heading` of the document (trimmed), if it has that section.
    pub fn section(&self, heading: &str) -> Option<&'static str> {
        let marker = format!("\n## {heading}\n");
        let start = self.doc.find(&marker)? + marker.len();
        let rest = &self.doc[start..];
        let end = rest.find("\n## ").unwrap_or(rest.len());
        Some(rest[..end].trim())
    }

    /// The headings of the document's `##` sections, in order.
    pub fn headings(&self) -> Vec<&'static str> {
        self.doc.lines().filter_map(|line| line.strip_prefix("## ")).map(str::trim).collect()
    }

    /// The title of the document (the `# ` line it starts with).
    pub fn title(&self) -> Option<&'static str> {
        self.doc.lines().next()?.strip_prefix("# ").map(str::trim)
    }
}

/// How long evidence text may be before it is shortened.
const MAX_EVIDENCE_CHARS: usize = 200;

/// Findings of `ro-write-sql` in one file (its functions): what the judge calls write SQL on a
/// read-only binding.
pub fn ro_write_sql<'a>(
    file: &Path,
    functions: impl IntoIterator<Item = &'a FnFacts>,
    judge: &Judge<'_>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for function in functions.into_iter().filter(|f| f.analysed) {
        for sink in &function.sinks {
            if let Some(finding) = sql_finding(Site { file, function, id: None }, sink, judge) {
                findings.push(finding);
            }
        }
    }
    findings
}

fn sql_finding(site: Site<'_>, sink: &Sink, judge: &Judge<'_>) -> Option<Finding> {
    let SinkKind::Sql { text, method, known_method } = &sink.kind else { return None };
    let origin = sink.handle.taint.ro.get()?;
    let SqlVerdict::Write { text: sql_text, write } = judge.sql(site.scope(), text, *known_method) else {
        return None;
    };
    let binding = &sink.handle.label;
    Some(Finding {
        rule: RO_WRITE_SQL,
        file: site.file.to_path_buf(),
        line: sink.range.start.line,
        column: sink.range.start.column,
        end_line: sink.range.end.line,
        end_column: sink.range.end.column,
        function: site.function.display_name(),
        binding: binding.to_string(),
        binding_line: origin.start.line,
        message: format!("{} runs on read-only `{binding}` (through `{method}`)", write.what),
        evidence: evidence(&sql_text),
        chain: Vec::new(),
        fingerprint: String::new(),
        span: sink.range,
        origin,
        why: write.why.describe().to_string(),
    })
}

/// SQL text on one line, shortened.
fn evidence(sql: &str) -> String {
    let folded = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.chars().count() <= MAX_EVIDENCE_CHARS {
        folded
    } else {
        folded.chars().take(MAX_EVIDENCE_CHARS - 1).chain(std::iter::once('…')).collect()
    }
}
