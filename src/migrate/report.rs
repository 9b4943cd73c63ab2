//! Printing a `migrate` run: the human table, counts and diff, or the JSON document.

use std::io::Write;

use rayon::prelude::*;
use serde::Serialize;

use super::outcome::{Counts, FileChange, HandlerReport, Outcome};
use super::scan::MigrateNames;
use crate::diagnostics::FileError;

/// The human report: errors, the table, the counts, the diff (each changed file read and
/// planned again with `names`).
pub fn human(
    outcome: &Outcome,
    applied: bool,
    color: bool,
    names: &MigrateNames,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for e in &outcome.errors {
        writeln!(out, "error: {}:{}:{}: {}", e.file.display(), e.line, e.column, e.message)?;
    }
    let rows: Vec<[String; 5]> = outcome
        .handlers
        .iter()
        .map(|h| {
            let reasons: Vec<String> =
                h.reasons.iter().map(|r| format!("line {}: {}", r.line, r.message)).collect();
            [
                h.handler.clone(),
                h.routes.join("; "),
                format!("{}:{}", h.file.display(), h.line),
                h.class.label().to_string(),
                reasons.join("; "),
            ]
        })
        .collect();
    let header = ["HANDLER", "ROUTE", "LOCATION", "CLASS", "REASONS"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String; 5]| {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i == 4 {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_string()
    };
    if !rows.is_empty() {
        writeln!(out, "{}", line(&header.map(String::from)))?;
        for row in &rows {
            writeln!(out, "{}", line(row))?;
        }
        writeln!(out)?;
    }
    let c = &outcome.counts;
    writeln!(
        out,
        "{} GET handler(s): {} pure-read ({} use(s) to rewrite in {} file(s)), {} mixed, {} no-db, {} already-ro, {} opted-out, {} not GET-only, {} unresolved{}",
        c.get_handlers, c.pure_read, c.to_rewrite, c.files, c.mixed, c.no_db, c.already_ro, c.opted_out, c.not_get_only, c.unresolved,
        if c.rewrite_failed > 0 { format!(", {} rewrite-failed", c.rewrite_failed) } else { String::new() }
    )?;
    if applied {
        writeln!(out, "rewrote {} file(s)", outcome.changes.len())?;
        return Ok(());
    }
    // The files are read and planned again on the pool, a chunk at a time: no more texts held
    // than a chunk's diffs, printed in order.
    let pool = crate::pipeline::worker_pool().ok();
    for chunk in outcome.changes.chunks(DIFF_CHUNK) {
        let diffs: Vec<String> = match &pool {
            Some(pool) => pool.install(|| chunk.par_iter().map(|c| diff(c, names, color)).collect()),
            None => chunk.iter().map(|c| diff(c, names, color)).collect(),
        };
        for d in diffs {
            out.write_all(d.as_bytes())?;
        }
    }
    Ok(())
}

/// How many changed files are diffed together.
const DIFF_CHUNK: usize = 64;

/// A changed file's part of the report: a blank line, then its diff (or why there is none).
fn diff(change: &FileChange, names: &MigrateNames, color: bool) -> String {
    let label = change.path.display().to_string();
    match change.texts(names) {
        Ok((old, new)) => format!("\n{}", super::diff::unified(&label, &old, &new, color)),
        Err(e) => format!("\nerror: {label}: {}\n", e.message),
    }
}

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    applied: bool,
    handlers: &'a [HandlerReport],
    files: Vec<String>,
    errors: Vec<JsonError<'a>>,
    summary: &'a Counts,
}

#[derive(Serialize)]
struct JsonError<'a> {
    file: String,
    line: usize,
    column: usize,
    message: &'a str,
}

/// The JSON document: each handler's class, reasons and edits; the files to change.
pub fn json(outcome: &Outcome, applied: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let doc = Document {
        version: 1,
        applied,
        handlers: &outcome.handlers,
        files: outcome.changes.iter().map(|c| c.path.display().to_string()).collect(),
        errors: outcome
            .errors
            .iter()
            .map(|e: &FileError| JsonError {
                file: e.file.display().to_string(),
                line: e.line,
                column: e.column,
                message: &e.message,
            })
            .collect(),
        summary: &outcome.counts,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
