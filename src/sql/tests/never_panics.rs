//! No input makes the classifier panic or overflow the stack: pathological nesting, every
//! prefix and suffix of every ground-truth statement, and odd bytes all get a verdict.

use super::ground_truth::rows;
use super::{classify, classify_by_keywords};
use crate::sql::{looks_like_sql, Verdict};

fn classify_everything(sql: &str) -> Verdict {
    let _ = looks_like_sql(sql);
    let _ = classify_by_keywords(sql);
    classify(sql)
}

#[test]
fn deep_nesting_is_a_verdict_not_a_crash() {
    let n = 200_000;
    let deep = format!("SELECT {}1{}", "(".repeat(n), ")".repeat(n));
    assert_eq!(classify_everything(&deep), Verdict::Read);
    let unbalanced = format!("SELECT nextval{}", "(".repeat(n));
    assert!(matches!(classify_everything(&unbalanced), Verdict::Write(_)));
    let explains = format!("{}SELECT nextval('s')", "EXPLAIN ANALYZE ".repeat(20_000));
    assert!(matches!(classify_everything(&explains), Verdict::Write(_)));
    let prepares = format!("{}SELECT 1", "PREPARE x AS ".repeat(20_000));
    assert!(matches!(classify_everything(&prepares), Verdict::Write(_)));
    let comments = format!("{}{}SELECT 1", "/*".repeat(n), "*/".repeat(n));
    assert_eq!(classify_everything(&comments), Verdict::Read);
    let not_deep = "- ".repeat(n) + "1";
    assert!(matches!(classify_everything(&not_deep), Verdict::Write(_)));
    let chain = format!("SELECT 1{}", " + 1".repeat(n));
    assert_eq!(classify_everything(&chain), Verdict::Read);
    let insert_chain = format!("INSERT INTO t SELECT 1{}", " + 1".repeat(n));
    assert!(matches!(classify_everything(&insert_chain), Verdict::Write(_)));
    let call_chain = format!("CALL p({}1{})", "f(".repeat(n), ")".repeat(n));
    assert!(matches!(classify_everything(&call_chain), Verdict::Write(_)));
    let subscripts = format!("SELECT a{}", "[1]".repeat(n));
    assert_eq!(classify_everything(&subscripts), Verdict::Read);
    let just_under = format!("SELECT 1{}", " + 1".repeat(2_499));
    assert_eq!(classify_everything(&just_under), Verdict::Read);
    let nested_calls =
        format!("SELECT {}'on', 'x'{}", "set_config('search_path', ".repeat(n / 4), ", false)".repeat(n / 4));
    assert_eq!(classify_by_keywords(&nested_calls), Verdict::Read);
    let blocks = format!("{}SELECT 1", "CASE WHEN 1 THEN IF 1 THEN ".repeat(500));
    assert!(matches!(classify_everything(&blocks), Verdict::Write(_)));
}

#[test]
fn every_prefix_and_suffix_gets_a_verdict() {
    for row in rows() {
        let sql = row.statement.as_str();
        for (i, _) in sql.char_indices() {
            classify_everything(&sql[..i]);
            classify_everything(&sql[i..]);
        }
    }
}

#[test]
fn odd_characters_get_a_verdict() {
    for sql in [
        "\u{0}",
        "\u{feff}SELECT 1",
        "SELECT\u{a0}1",
        "SELECT 'é' -- ü",
        ";;;",
        "$",
        "$$",
        "E'",
        "U&'\\0041'",
        "'",
        "\"",
        "/*/",
        "*/",
        "((((",
        "))))",
        "SELECT * FROM t WHERE a = $",
    ] {
        classify_everything(sql);
    }
}
