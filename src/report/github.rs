//! `--format github`: GitHub Actions workflow commands, one `::error` line per finding and per
//! file error, so that each shows as an annotation on the pull request; then the summary line
//! (plain log text) unless `--quiet`.
//!
//! Escaping follows the runner: in the message `%`, CR and LF become `%25`, `%0D`, `%0A`; in
//! property values `:` and `,` too (`%3A`, `%2C`). Columns are given only for a one-line span
//! (GitHub's annotations take columns on one line only); the end column is exclusive.

use std::io::{self, Write};

use crate::diagnostics::Finding;
use crate::pipeline::Outcome;
use crate::rules;

use super::{human, Style};

pub(super) fn write(outcome: &Outcome, style: Style, out: &mut dyn Write) -> io::Result<()> {
    for finding in &outcome.findings {
        annotation(finding, out)?;
    }
    for err in &outcome.errors {
        let file = err.file.to_string_lossy();
        writeln!(
            out,
            "::error file={},line={},col={},title={}::{}",
            property(&file),
            err.line,
            err.column,
            property("ro-audit file error"),
            data(&err.message)
        )?;
    }
    if !style.quiet {
        human::summary(outcome, out)?;
    }
    Ok(())
}

fn annotation(finding: &Finding, out: &mut dyn Write) -> io::Result<()> {
    let file = finding.file.to_string_lossy();
    let mut position = format!("line={},endLine={}", finding.line, finding.end_line);
    if finding.line == finding.end_line {
        position.push_str(&format!(",col={},endColumn={}", finding.column, finding.end_column));
    }
    let message = if finding.rule == rules::RO_BAD_SUPPRESSION {
        format!("{}\ncomment: {}\n{}", finding.message, finding.evidence, finding.why)
    } else {
        format!(
            "{}\nwrites: {}\n`{}` is read-only from line {}\n{}",
            finding.message,
            finding.evidence,
            finding.binding,
            finding.binding_line,
            human::help(finding)
        )
    };
    writeln!(
        out,
        "::error file={},{position},title={}::{}",
        property(&file),
        property(&format!("ro-audit {}", finding.rule)),
        data(&message)
    )
}

/// Escapes a command's message.
fn data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_runner() {
        assert_eq!(data("50% of a\r\nb: c, d"), "50%25 of a%0D%0Ab: c, d");
        assert_eq!(property("C:\\x,y%\n"), "C%3A\\x%2Cy%25%0A");
    }
}
