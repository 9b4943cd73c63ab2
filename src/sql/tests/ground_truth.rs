//! The measured ground truth: every statement row of `fixtures/pg15/pg15-readonly.tsv` and of
//! ro-audit's own addition `pg15-readonly-extra.tsv` (the guard's limits) must
//! get its `verdict`, from `classify` and from the keyword fallback alone; the reason given
//! must fit the refusals PostgreSQL measured; and the committed copy must stay current.

use super::{classify, classify_by_keywords, render, verdict_word};
use crate::sql::{Verdict, WriteReason};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/pg15/pg15-readonly.tsv");
const EXTRA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/pg15/pg15-readonly-extra.tsv");
const SETUP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/pg15/pg15-readonly-setup.sql");
const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/pg15-readonly.tsv");
const SHARED_SETUP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/pg15-readonly-setup.sql");
const HEADER: &str = "statement\tread_only_txn\tstandby\tverdict\tnote";

/// One measured statement.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub statement: String,
    pub read_only_txn: String,
    pub standby: String,
    pub verdict: String,
}

/// Parses the TSV: `#` comment lines, the header, then five tab-separated fields per row.
fn parse(text: &str) -> Result<Vec<Row>, String> {
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    if lines.next() != Some(HEADER) {
        return Err(format!("the first non-comment line is not {HEADER:?}"));
    }
    let rows = lines
        .enumerate()
        .map(|(i, line)| parse_row(line).map_err(|e| format!("row {}: {e}: {line:?}", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    if rows.is_empty() {
        return Err("no statement rows".to_string());
    }
    Ok(rows)
}

fn parse_row(line: &str) -> Result<Row, String> {
    let fields: Vec<&str> = line.split('\t').collect();
    let [statement, read_only_txn, standby, verdict, _note] = fields.as_slice() else {
        return Err(format!("{} fields, not 5", fields.len()));
    };
    let fact = |f: &str| f == "ok" || (f.len() == 5 && f.chars().all(|c| c.is_ascii_alphanumeric()));
    if statement.trim().is_empty() || !fact(read_only_txn) || !fact(standby) {
        return Err("empty statement, or a fact that is neither ok nor a SQLSTATE".to_string());
    }
    if !matches!(*verdict, "read" | "write") {
        return Err(format!("verdict {verdict:?} is neither read nor write"));
    }
    Ok(Row {
        statement: statement.to_string(),
        read_only_txn: read_only_txn.to_string(),
        standby: standby.to_string(),
        verdict: verdict.to_string(),
    })
}

/// The rows of the committed fixture and of the extra one.
pub(super) fn rows() -> Vec<Row> {
    [FIXTURE, EXTRA]
        .iter()
        .flat_map(|file| {
            let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
            parse(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
        })
        .collect()
}

/// Runs `classifier` on every row; the failures, one line each.
fn mismatches(classifier: fn(&str) -> Verdict) -> Vec<String> {
    rows()
        .iter()
        .filter_map(|row| {
            let got = classifier(&row.statement);
            (verdict_word(&got) != row.verdict)
                .then(|| format!("{:?}: want {}, got {}", row.statement, row.verdict, render(&got)))
        })
        .collect()
}

#[test]
fn every_row_gets_its_verdict() {
    let failures = mismatches(classify);
    assert!(failures.is_empty(), "{} rows:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn keyword_fallback_alone_gets_every_verdict() {
    let failures = mismatches(classify_by_keywords);
    assert!(failures.is_empty(), "{} rows:\n{}", failures.len(), failures.join("\n"));
}

/// The reasons that fit what PostgreSQL answered in a read-only transaction and on a standby.
fn fitting_reasons(row: &Row) -> &'static [WriteReason] {
    use WriteReason::*;
    match (row.read_only_txn.as_str(), row.standby.as_str()) {
        ("25006", _) => &[ReadOnlyTransaction, Opaque],
        ("ok", "25006") => &[HotStandby],
        (_, "0A000") => &[GuardOff],
        ("ok", "ok") => &[GuardOff, Opaque, BypassesGuard],
        // Refused on a standby by other means than 25006 (XX000, 55000: no OIDs, WAL or
        // strong locks during recovery).
        ("ok", _) => &[HotStandby],
        _ => &[GuardOff, Opaque],
    }
}

#[test]
fn write_reasons_fit_the_measured_refusals() {
    let failures: Vec<String> = rows()
        .iter()
        .filter_map(|row| match classify(&row.statement) {
            Verdict::Write(w) if !fitting_reasons(row).contains(&w.why) => Some(format!(
                "{:?} ({} / {}): {:?} is not one of {:?}",
                row.statement,
                row.read_only_txn,
                row.standby,
                w.why,
                fitting_reasons(row)
            )),
            _ => None,
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn committed_copy_is_current() {
    let copy = std::fs::read(FIXTURE).unwrap_or_else(|e| panic!("{FIXTURE}: {e}"));
    let setup = std::fs::read(SETUP).unwrap_or_else(|e| panic!("{SETUP}: {e}"));
    if std::path::Path::new(SHARED).exists() {
        println!("checked: {FIXTURE} is byte-identical to {SHARED}");
        let shared = std::fs::read(SHARED).unwrap_or_else(|e| panic!("{SHARED}: {e}"));
        assert!(copy == shared, "{FIXTURE} differs from {SHARED}: copy it again");
        let shared_setup = std::fs::read(SHARED_SETUP).unwrap_or_else(|e| panic!("{SHARED_SETUP}: {e}"));
        assert!(setup == shared_setup, "{SETUP} differs from {SHARED_SETUP}: copy it again");
    } else {
        println!("checked: {SHARED} is absent (a clean clone), so {FIXTURE} was checked to be non-empty and well-formed");
        let text = String::from_utf8(copy).expect("the fixture is UTF-8");
        let rows = parse(&text).unwrap_or_else(|e| panic!("{FIXTURE}: {e}"));
        assert!(rows.len() >= 50, "{FIXTURE} has only {} rows", rows.len());
        assert!(!setup.is_empty(), "{SETUP} is empty");
    }
}

#[test]
fn malformed_tables_are_rejected() {
    let good = format!("# comment\n{HEADER}\nSELECT 1\tok\tok\tread\tnote\n");
    assert_eq!(parse(&good).map(|r| r.len()), Ok(1));
    for bad in [
        String::new(),
        format!("{HEADER}\n"),
        format!("{HEADER}\nSELECT 1\tok\tok\tread\n"),
        format!("{HEADER}\nSELECT 1\tok\tok\tmaybe\tnote\n"),
        format!("{HEADER}\nSELECT 1\tfine\tok\tread\tnote\n"),
    ] {
        assert!(parse(&bad).is_err(), "accepted {bad:?}");
    }
}
