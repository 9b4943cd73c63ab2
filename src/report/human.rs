//! `--format human`: each finding as an ariadne report with the write and the binding's origin
//! labelled, then the file errors, then a summary line.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use ariadne::{Color, Config, IndexType, Label, Report, ReportKind, Source};

use crate::diagnostics::Finding;
use crate::pipeline::Outcome;
use crate::{rules, source};

use super::Style;

/// Files are re-read for their snippets; past this size a finding is printed without one.
const MAX_SNIPPET_FILE_BYTES: u64 = 16 << 20;

pub(super) fn write(outcome: &Outcome, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let mut sources: HashMap<PathBuf, Option<Source<String>>> = HashMap::new();
    for finding in &outcome.findings {
        let src = sources.entry(finding.file.clone()).or_insert_with(|| load(&finding.file));
        match src {
            Some(src) => snippet(finding, src, style, out)?,
            None => plain(finding, out)?,
        }
    }
    for err in &outcome.errors {
        writeln!(out, "{}:{}:{}: error: {}", err.file.display(), err.line, err.column, err.message)?;
    }
    if !style.quiet {
        summary(outcome, out)?;
    }
    Ok(())
}

fn load(path: &Path) -> Option<Source<String>> {
    let bytes = source::read_bytes(path, MAX_SNIPPET_FILE_BYTES).ok()?;
    String::from_utf8(bytes).ok().map(Source::from)
}

fn snippet(finding: &Finding, src: &Source<String>, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let id = finding.file.display().to_string();
    let span = finding.span.bytes();
    let origin = finding.origin.bytes();
    let is_write = finding.rule != rules::RO_BAD_SUPPRESSION;
    let label = if is_write { format!("writes: {}", finding.evidence) } else { "this comment".to_string() };
    let mut report = Report::build(ReportKind::Error, (id.clone(), span.clone()))
        .with_code(finding.rule)
        .with_message(&finding.message)
        .with_config(Config::default().with_color(style.color).with_index_type(IndexType::Byte))
        .with_label(
            Label::new((id.clone(), span.clone())).with_message(label).with_color(Color::Red).with_order(1),
        );
    if is_write && (origin.end <= span.start || origin.start >= span.end) {
        report = report.with_label(
            Label::new((id.clone(), origin))
                .with_message(format!("`{}` is read-only from here", finding.binding))
                .with_color(Color::Cyan)
                .with_order(0),
        );
    }
    report = report.with_help(help(finding));
    let cache = (id, src.clone());
    report.finish().write(cache, &mut *out)?;
    writeln!(out)
}

/// The help line of a finding.
pub(super) fn help(finding: &Finding) -> String {
    if finding.rule == rules::RO_BAD_SUPPRESSION {
        finding.why.clone()
    } else {
        format!("{} Run it on a read-write handle, or move it out of the read-only code path.", finding.why)
    }
}

/// A finding whose file cannot be shown (gone, changed, too large).
fn plain(finding: &Finding, out: &mut dyn Write) -> io::Result<()> {
    if finding.rule == rules::RO_BAD_SUPPRESSION {
        return writeln!(
            out,
            "{}:{}:{}: error[{}]: {}\n  comment: {}\n",
            finding.file.display(),
            finding.line,
            finding.column,
            finding.rule,
            finding.message,
            finding.evidence
        );
    }
    writeln!(
        out,
        "{}:{}:{}: error[{}]: {}\n  evidence: {}\n  `{}` is read-only from line {}\n",
        finding.file.display(),
        finding.line,
        finding.column,
        finding.rule,
        finding.message,
        finding.evidence,
        finding.binding,
        finding.binding_line
    )
}

/// The summary line that ends a human (and a GitHub) report.
pub(super) fn summary(outcome: &Outcome, out: &mut dyn Write) -> io::Result<()> {
    let s = &outcome.summary;
    let files_with_findings = {
        let mut files: Vec<&Path> = outcome.findings.iter().map(|f| f.file.as_path()).collect();
        files.dedup();
        files.len()
    };
    writeln!(
        out,
        "{} in {} ({} checked, {} parsed, {} functions, {} read-only bindings){}{}{}",
        plural(s.findings, "finding"),
        plural(files_with_findings, "file"),
        plural(s.files_seen, "file"),
        s.files_parsed,
        s.functions,
        s.ro_bindings,
        if s.suppressed > 0 { format!(", {} suppressed", s.suppressed) } else { String::new() },
        if s.baselined > 0 { format!(", {} in the baseline", s.baselined) } else { String::new() },
        if s.errors > 0 { format!(", {}", plural(s.errors, "file error")) } else { String::new() },
    )
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
