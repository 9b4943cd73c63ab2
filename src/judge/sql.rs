//! The judge's SQL part: SQL text executed on a handle, expanded with the consts of the tree
//! and classified by [`crate::sql::classify`] (remembered for the whole run, shared by the
//! threads: a tree runs the same statements in many places, and the summaries and rules phases
//! judge the same texts on different threads). Text given to a method that is not a known SQL
//! method counts only when it looks like SQL.
//!
//! Never decides on its own that unknown text reads: text whose every expansion is unknown,
//! run by a known SQL method, is [`SqlVerdict::Unknown`].

use std::sync::{OnceLock, PoisonError, RwLock};

use crate::analysis::facts::SqlText;
use crate::index::{self, ConstIndex, Scope};
use crate::sql::{self, SqlFunctions, Verdict, Write};
use crate::workspace::hash::NameMap as HashMap;

/// How many verdicts the run remembers before it forgets them all (bounds the memo's memory).
const MEMO_ENTRIES: usize = 16_384;

/// Verdicts of the texts classified so far: [`sql::classify`] depends on the text alone. The
/// lock is held for a lookup (shared: the threads look up at once) or an insert only, never
/// while classifying.
fn verdicts() -> &'static RwLock<HashMap<String, Verdict>> {
    static VERDICTS: OnceLock<RwLock<HashMap<String, Verdict>>> = OnceLock::new();
    VERDICTS.get_or_init(RwLock::default)
}

/// [`sql::classify`], remembered (at most [`MEMO_ENTRIES`] texts).
fn classify(text: &str) -> Verdict {
    let memo = verdicts();
    if let Some(verdict) = memo.read().unwrap_or_else(PoisonError::into_inner).get(text).cloned() {
        return verdict;
    }
    let verdict = sql::classify(text);
    let mut memo = memo.write().unwrap_or_else(PoisonError::into_inner);
    if memo.len() >= MEMO_ENTRIES {
        memo.clear();
    }
    memo.insert(text.to_string(), verdict.clone());
    verdict
}

/// What SQL executed on a handle does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlVerdict {
    /// Some expansion of the text writes.
    Write {
        /// The expansion that writes.
        text: String,
        /// Why.
        write: Write,
    },
    /// Only reads (or is no SQL at all).
    Read,
    /// A known SQL method runs text of which nothing is known statically.
    Unknown,
}

/// Judges `text` run through a method (`known_method`: one of the rule set's SQL methods);
/// `functions`: the SQL functions the tree defines (a read that calls one that writes writes).
pub fn judge(
    index: &ConstIndex,
    functions: &SqlFunctions,
    scope: Scope<'_>,
    text: &SqlText,
    known_method: bool,
) -> SqlVerdict {
    // A literal is its one expansion: judged as it is, not copied.
    let expanded;
    let candidates: &[String] = match text {
        SqlText::Lit(lit) => std::slice::from_ref(lit),
        _ => {
            expanded = index.expand(scope, text);
            &expanded
        }
    };
    for candidate in candidates {
        if index::is_unknown(candidate) || (!known_method && !sql::looks_like_sql(candidate)) {
            continue;
        }
        let write = match classify(candidate) {
            Verdict::Write(write) => Some(write),
            Verdict::Read => functions.write_called(candidate),
        };
        if let Some(write) = write {
            return SqlVerdict::Write { text: candidate.clone(), write };
        }
    }
    if known_method && !candidates.is_empty() && candidates.iter().all(|c| index::is_unknown(c)) {
        return SqlVerdict::Unknown;
    }
    SqlVerdict::Read
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn run(text: SqlText, known: bool) -> SqlVerdict {
        let scope = Scope { file: Path::new("src/a.rs"), module: &[], owner: None };
        judge(&ConstIndex::default(), &SqlFunctions::default(), scope, &text, known)
    }

    #[test]
    fn writes_reads_and_unknown_text() {
        let update = SqlText::Lit("UPDATE t SET a = 1".into());
        assert!(
            matches!(run(update.clone(), true), SqlVerdict::Write { ref text, .. } if text == "UPDATE t SET a = 1")
        );
        assert!(matches!(run(update, false), SqlVerdict::Write { .. }), "looks like SQL");
        assert_eq!(run(SqlText::Lit("SELECT 1".into()), true), SqlVerdict::Read);
        assert_eq!(run(SqlText::Hole, true), SqlVerdict::Unknown);
        assert_eq!(run(SqlText::Hole, false), SqlVerdict::Read, "unknown text to an unknown method");
        assert_eq!(run(SqlText::Lit("cache refreshed".into()), false), SqlVerdict::Read);
        let either = SqlText::either(SqlText::Lit("SELECT 1".into()), SqlText::Lit("DELETE FROM t".into()));
        assert!(matches!(run(either, true), SqlVerdict::Write { .. }), "any alternative that writes");
    }

    #[test]
    fn remembered_verdicts_are_those_of_their_own_text() {
        for _ in 0..2 {
            assert_eq!(classify("SELECT 1"), Verdict::Read);
            assert!(matches!(classify("DELETE FROM t"), Verdict::Write(ref w) if w.what == "DELETE"));
            assert_eq!(classify("SELECT 1 "), Verdict::Read);
            assert!(matches!(classify("SELECT 1 FOR UPDATE"), Verdict::Write(_)));
        }
    }
}
