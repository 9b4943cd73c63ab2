//! `--format json`: one document in the shape DESIGN.md fixes (fields are only ever added).

use std::io::{self, Write};

use serde::Serialize;

use crate::diagnostics::{FileError, Finding};
use crate::pipeline::{Outcome, Summary};

/// Version of the JSON shape.
const VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    findings: &'a [Finding],
    errors: &'a [FileError],
    summary: &'a Summary,
}

pub(super) fn write(outcome: &Outcome, out: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        version: VERSION,
        findings: &outcome.findings,
        errors: &outcome.errors,
        summary: &outcome.summary,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
