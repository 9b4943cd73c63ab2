//! Writing a run's outcome: findings, file errors and the summary, in each output format.
//!
//! Reporters only format: they never decide what is a finding.

mod github;
mod human;
mod json;
mod sarif;

use std::io::{self, Write};

use crate::pipeline::Outcome;

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Source snippets with the write and the binding's origin labelled (default).
    Human,
    /// One JSON document (`version`, `findings`, `errors`, `summary`).
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub) and SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands: one `::error` annotation per finding and file error.
    Github,
}

/// How to write a human report.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// ANSI colours.
    pub color: bool,
    /// Leave out the summary line.
    pub quiet: bool,
}

/// Writes `outcome` in `format` to `out`.
pub fn write(outcome: &Outcome, format: Format, style: Style, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Human => human::write(outcome, style, out),
        Format::Json => json::write(outcome, out),
        Format::Sarif => sarif::write(outcome, out),
        Format::Github => github::write(outcome, style, out),
    }
}
