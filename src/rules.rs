//! The rules: from the facts of analysed functions (and the index) to findings.
//!
//! The analysis records what happens to handles; only here is it decided what is a problem.

use std::path::Path;

use crate::analysis::facts::{FileFacts, FnFacts, Sink, SinkKind};
use crate::diagnostics::Finding;
use crate::index::{self, ConstIndex, Scope};
use crate::sql::{self, Verdict};

/// Write SQL executed on a read-only binding.
pub const RO_WRITE_SQL: &str = "ro-write-sql";

/// Every rule id, in the order they are documented.
pub const ALL: &[&str] = &[RO_WRITE_SQL];

/// How long evidence text may be before it is shortened.
const MAX_EVIDENCE_CHARS: usize = 200;

/// Findings of `ro-write-sql` in one file.
pub fn ro_write_sql(file: &Path, facts: &FileFacts, index: &ConstIndex) -> Vec<Finding> {
    let mut findings = Vec::new();
    for function in facts.functions.iter().filter(|f| f.analysed) {
        for sink in &function.sinks {
            if let Some(finding) = sql_finding(file, function, sink, index) {
                findings.push(finding);
            }
        }
    }
    findings
}

fn sql_finding(file: &Path, function: &FnFacts, sink: &Sink, index: &ConstIndex) -> Option<Finding> {
    let SinkKind::Sql { text, method, known_method } = &sink.kind else { return None };
    let origin = sink.handle.taint.ro?;
    let scope = Scope { file, module: &function.module, owner: function.owner.as_deref() };
    let (sql_text, write) = index.expand(scope, text).into_iter().find_map(|candidate| {
        if index::is_unknown(&candidate) || (!known_method && !sql::looks_like_sql(&candidate)) {
            return None;
        }
        match sql::classify(&candidate) {
            Verdict::Write(write) => Some((candidate, write)),
            Verdict::Read => None,
        }
    })?;
    let binding = &sink.handle.label;
    Some(Finding {
        rule: RO_WRITE_SQL,
        file: file.to_path_buf(),
        line: sink.range.start.line,
        column: sink.range.start.column,
        end_line: sink.range.end.line,
        end_column: sink.range.end.column,
        function: function.display_name(),
        binding: binding.clone(),
        binding_line: origin.start.line,
        message: format!("{} runs on read-only `{binding}` (through `{method}`)", write.what),
        evidence: evidence(&sql_text),
        chain: Vec::new(),
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
