//! The lexer: what is code and what is not, written as one line per token.

use crate::sql::lexer::{lex, statements, Kind, Unterminated};

/// Tokens of `sql` as `Kind:text` separated by spaces, or `unterminated`.
fn check(sql: &str, expect: &str) {
    let got = match lex(sql) {
        Ok(tokens) => tokens.iter().map(|t| format!("{:?}:{}", t.kind, t.text)).collect::<Vec<_>>().join(" "),
        Err(Unterminated) => "unterminated".to_string(),
    };
    assert_eq!(got, expect, "lex({sql:?})");
}

#[test]
fn words_numbers_parameters() {
    check("SELECT a$b, _x1 FROM t", "Word:SELECT Word:a$b Punct:, Word:_x1 Word:FROM Word:t");
    check("1.5e-3 .5 42", "Number:1.5e-3 Number:.5 Number:42");
    check("$1 $23x", "Param:$1 Param:$23 Word:x");
    check("a::text", "Word:a Punct:: Punct:: Word:text");
    check("{} ?", "Punct:{ Punct:} Punct:?");
    check("été", "Word:été");
}

#[test]
fn strings_and_quoted_identifiers() {
    check("'it''s'", "String:'it''s'");
    check("'a\\' 'b'", "String:'a\\' String:'b'");
    check("E'a\\'b' e'\\\\'", "String:E'a\\'b' String:e'\\\\'");
    check("namE'x'", "Word:namE String:'x'");
    check("\"up\"\"date\"", "QuotedIdent:\"up\"\"date\"");
    check("$$ a ' b $$", "String:$$ a ' b $$");
    check("$q$ $$ x $q$", "String:$q$ $$ x $q$");
    check("$ x", "Punct:$ Word:x");
}

#[test]
fn comments_are_dropped() {
    check("a -- b\nc", "Word:a Word:c");
    check("a /* b /* c */ d */ e", "Word:a Word:e");
    check("a --", "Word:a");
    check("1--1", "Number:1");
}

#[test]
fn unterminated_text() {
    check("'abc", "unterminated");
    check("\"abc", "unterminated");
    check("$x$ abc", "unterminated");
    check("/* a /* b */", "unterminated");
    check("E'\\'", "unterminated");
}

#[test]
fn statements_split_at_semicolons() {
    let tokens = lex("SELECT ';'; ; SELECT 2 -- x;\n;").expect("lexes");
    let parts: Vec<String> =
        statements(&tokens).map(|s| s.iter().map(|t| t.text).collect::<Vec<_>>().join(" ")).collect();
    assert_eq!(parts, ["SELECT ';'", "SELECT 2"]);
    assert!(tokens.iter().any(|t| t.kind == Kind::Semicolon));
}
