//! `ro-write-call`: a call that writes receives a read-only binding — an ORM write builder
//! executed on it, a function of the tree whose body writes through that parameter (followed
//! through helpers to the write), or, for a callee with no body in the tree, a model write
//! method (`active.save(&db)`) or a name matching the rule set's write-helper patterns.

use std::path::Path;

use crate::analysis::facts::{FnFacts, Sink, SinkKind};
use crate::diagnostics::{ChainStep, Finding};
use crate::writers::{Callee, External, ExternalWrite, FnId, Writers};

use super::RO_WRITE_CALL;

/// Findings of `ro-write-call` in one function, `id` in `writers`; calls outside the tree are
/// judged by `external`.
pub fn findings(
    file: &Path,
    function: &FnFacts,
    id: FnId,
    writers: &Writers,
    external: &External<'_>,
) -> Vec<Finding> {
    function.sinks.iter().filter_map(|sink| finding(file, function, id, sink, writers, external)).collect()
}

fn finding(
    file: &Path,
    function: &FnFacts,
    id: FnId,
    sink: &Sink,
    writers: &Writers,
    external: &External<'_>,
) -> Option<Finding> {
    let SinkKind::Call { callee, arg, .. } = &sink.kind else { return None };
    let origin = sink.handle.taint.ro?;
    let binding = &sink.handle.label;
    let written = callee.join("::");
    let here = |evidence: String| ChainStep {
        function: function.display_name(),
        file: file.to_path_buf(),
        line: sink.range.start.line,
        evidence,
    };
    let (message, evidence, chain, why) = match writers.resolve(id, &sink.kind) {
        Callee::Tree(candidates) => {
            let writing: Vec<FnId> =
                candidates.iter().copied().filter(|&c| writers.writes_through(c, *arg).is_some()).collect();
            let &first = writing.first()?;
            let target = writers.function(first);
            let mut chain = vec![here(format!("passes `{binding}` to `{}`", target.facts.display_name()))];
            chain.extend(writers.chain(first, *arg));
            let evidence = chain.last().map(|s| s.evidence.clone()).unwrap_or_default();
            let mut message = format!(
                "`{}` writes through the read-only `{binding}` it is given ({} step{} down to the write)",
                target.facts.display_name(),
                chain.len() - 1,
                if chain.len() == 2 { "" } else { "s" }
            );
            if candidates.len() > 1 {
                let names: Vec<String> = candidates
                    .iter()
                    .map(|&c| {
                        let f = writers.function(c);
                        format!(
                            "`{}` at {}:{}",
                            f.facts.display_name(),
                            f.file.display(),
                            f.facts.range.start.line
                        )
                    })
                    .collect();
                message.push_str(&format!(
                    "; ambiguous: {} functions of the tree may be `{written}` ({}); {} of them write{}",
                    candidates.len(),
                    names.join(", "),
                    writing.len(),
                    if writing.len() == 1 { "s" } else { "" }
                ));
            }
            let why = "The callee's body writes through this parameter; on a read-only connection PostgreSQL refuses the write.";
            (message, evidence, chain, why)
        }
        Callee::External => {
            let write = external.judge(sink)?;
            let step = vec![here(write.evidence(binding))];
            match &write {
                ExternalWrite::Builder { builder, executor } => (
                    format!("ORM write builder `{builder}` is executed on the read-only `{binding}` (through `{executor}`)"),
                    builder.clone(),
                    step,
                    "An ORM insert, update or delete runs as a write statement; on a read-only connection PostgreSQL refuses it.",
                ),
                ExternalWrite::Model { method } => (
                    format!(
                        "`.{method}(..)` writes a model with the read-only `{binding}` (a model write of the rule set; the call runs no method of the analysed tree)"
                    ),
                    format!(".{method}({binding})"),
                    step,
                    "An ORM model's insert, update, save or delete runs as a write statement; on a read-only connection PostgreSQL refuses it.",
                ),
                ExternalWrite::Helper { pattern, .. } => (
                    format!(
                        "`{written}` receives the read-only `{binding}` and is a write helper by its name (pattern `{pattern}`; its body is not in the analysed tree)"
                    ),
                    format!("call of `{written}`"),
                    Vec::new(),
                    "Functions named like this write; the rule set's write-helper patterns judge callees whose body cannot be seen.",
                ),
            }
        }
    };
    Some(Finding {
        rule: RO_WRITE_CALL,
        file: file.to_path_buf(),
        line: sink.range.start.line,
        column: sink.range.start.column,
        end_line: sink.range.end.line,
        end_column: sink.range.end.column,
        function: function.display_name(),
        binding: binding.clone(),
        binding_line: origin.start.line,
        message,
        evidence,
        chain,
        fingerprint: String::new(),
        span: sink.range,
        origin,
        why: why.to_string(),
    })
}
