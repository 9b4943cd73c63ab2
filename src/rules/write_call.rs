//! `ro-write-call`: a call that writes receives a read-only binding — an ORM write builder
//! executed on it, a function of the tree whose body writes through that parameter (followed
//! through helpers to the write), or, for a callee with no body in the tree, a model write
//! method (`active.save(&db)`) or a name matching the rule set's write-helper patterns. Whether
//! the call writes is the judge's answer ([`crate::judge`]); this rule only words it.

use std::path::Path;

use crate::analysis::facts::{FnFacts, Sink, SinkKind};
use crate::diagnostics::{ChainStep, Finding};
use crate::judge::{Judge, OutsideWrite, Site, TreeWrite, Verdict};
use crate::writers::{FnId, Writers};

use super::RO_WRITE_CALL;

/// Findings of `ro-write-call` in one function, `id` in `writers`.
pub fn findings(
    file: &Path,
    function: &FnFacts,
    id: FnId,
    writers: &Writers,
    judge: &Judge<'_>,
) -> Vec<Finding> {
    let site = Site { file, function, id: Some(id) };
    function.sinks.iter().filter_map(|sink| finding(site, sink, writers, judge)).collect()
}

fn finding(site: Site<'_>, sink: &Sink, writers: &Writers, judge: &Judge<'_>) -> Option<Finding> {
    let SinkKind::Call { callee, .. } = &sink.kind else { return None };
    let origin = sink.handle.taint.ro.get()?;
    let binding = &sink.handle.label;
    let written = callee.join("::");
    let (message, evidence, chain, why) = match judge.sink(writers, site, sink) {
        Verdict::TreeWrite(write) => tree_write(&write, writers, binding, &written),
        Verdict::OutsideWrite(write) => {
            let step = vec![ChainStep {
                function: site.function.display_name(),
                file: site.file.to_path_buf(),
                line: sink.range.start.line,
                evidence: write.evidence(binding),
            }];
            match &write {
                OutsideWrite::Builder { builder, executor } => (
                    format!("ORM write builder `{builder}` is executed on the read-only `{binding}` (through `{executor}`)"),
                    builder.clone(),
                    step,
                    "An ORM insert, update or delete runs as a write statement; on a read-only connection PostgreSQL refuses it.",
                ),
                OutsideWrite::Model { method } => (
                    format!(
                        "`.{method}(..)` writes a model with the read-only `{binding}` (a model write of the rule set; the call runs no method of the analysed tree)"
                    ),
                    format!(".{method}({binding})"),
                    step,
                    "An ORM model's insert, update, save or delete runs as a write statement; on a read-only connection PostgreSQL refuses it.",
                ),
                OutsideWrite::Helper { pattern, .. } => (
                    format!(
                        "`{written}` receives the read-only `{binding}` and is a write helper by its name (pattern `{pattern}`; its body is not in the analysed tree)"
                    ),
                    format!("call of `{written}`"),
                    Vec::new(),
                    "Functions named like this write; the rule set's write-helper patterns judge callees whose body cannot be seen.",
                ),
            }
        }
        _ => return None,
    };
    Some(Finding {
        rule: RO_WRITE_CALL,
        file: site.file.to_path_buf(),
        line: sink.range.start.line,
        column: sink.range.start.column,
        end_line: sink.range.end.line,
        end_column: sink.range.end.column,
        function: site.function.display_name(),
        binding: binding.to_string(),
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

/// Message, evidence, chain and help of a call into the tree that writes.
fn tree_write(
    write: &TreeWrite,
    writers: &Writers,
    binding: &str,
    written: &str,
) -> (String, String, Vec<ChainStep>, &'static str) {
    let target = writers.function(write.writing[0]);
    let evidence = write.chain.last().map(|s| s.evidence.clone()).unwrap_or_default();
    let steps = write.chain.len() - 1;
    let mut message = format!(
        "`{}` writes through the read-only `{binding}` it is given ({steps} step{} down to the write)",
        target.facts.display_name(),
        if steps == 1 { "" } else { "s" }
    );
    if write.candidates.len() > 1 {
        let names: Vec<String> = write
            .candidates
            .iter()
            .map(|&c| {
                let f = writers.function(c);
                format!("`{}` at {}:{}", f.facts.display_name(), f.file.display(), f.facts.range.start.line)
            })
            .collect();
        message.push_str(&format!(
            "; ambiguous: {} functions of the tree may be `{written}` ({}); {} of them write{}",
            write.candidates.len(),
            names.join(", "),
            write.writing.len(),
            if write.writing.len() == 1 { "s" } else { "" }
        ));
    }
    let why = "The callee's body writes through this parameter; on a read-only connection PostgreSQL refuses the write.";
    (message, evidence, write.chain.clone(), why)
}
