//! Tests of the SQL classifier: the measured ground truth (`ground_truth`), variants generated
//! from it (`variants`), and one small case per policy point (`policy_points`).

mod functions;
mod ground_truth;
mod lexer;
mod never_panics;
mod policy_points;
mod settled;
mod variants;

use super::{classify, classify_with, Engine, Verdict};

/// A verdict as one short line: `read`, or `write <Reason>: <what>`.
fn render(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Read => "read".to_string(),
        Verdict::Write(w) => format!("write {:?}: {}", w.why, w.what),
    }
}

/// `read` or `write`, the TSV's verdict words.
fn verdict_word(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Read => "read",
        Verdict::Write(_) => "write",
    }
}

/// The keyword fallback alone, as if `sqlparser` had rejected every statement.
fn classify_by_keywords(sql: &str) -> Verdict {
    classify_with(sql, Engine::KeywordsOnly)
}

/// `classify(sql)` must render as `expect`; the keyword fallback alone must agree on read
/// or write.
fn check(sql: &str, expect: &str) {
    let got = render(&classify(sql));
    assert_eq!(got, expect, "classify({sql:?})");
    let fallback = classify_by_keywords(sql);
    assert_eq!(
        verdict_word(&fallback),
        expect.split(' ').next().unwrap_or_default(),
        "keyword fallback for {sql:?} gave {}",
        render(&fallback)
    );
}
