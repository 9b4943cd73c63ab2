//! Ranges are the file's: after a byte-order mark and a shebang line they still cut the
//! function's signature, body and name out of the text on disk.

use super::extract_tree;
use crate::migrate::routes::{discover, HandlerTarget};

fn assert_cuts(text: &str, what: &str, range: crate::source::TextRange, expected: &str) {
    assert_eq!(&text[range.bytes()], expected, "{what}");
}

#[test]
fn function_ranges_survive_a_bom_and_a_shebang() {
    let cases = [
        ("", (1, 26)),
        ("\u{feff}", (1, 27)),
        ("#!/usr/bin/env rust-script\n", (2, 26)),
        ("\u{feff}#!/x\n", (2, 26)),
    ];
    for (prefix, name_at) in cases {
        let text = format!(
            "{prefix}#[get(\"/\")] pub async fn index(State(app): State<App>) -> String {{ app.name() }}\n\n\
             /// Docs.\n#[utoipa::path(get, path = \"/w\")]\npub(crate) async fn with_where<T>(x: T) -> T\nwhere\n    T: Clone,\n{{\n    x\n}}\n"
        );
        let files = extract_tree(&[("src/lib.rs", &text)]);
        let index = &files[0].functions[0];
        assert_cuts(&text, "signature", index.signature, "async fn index(State(app): State<App>) -> String");
        assert_cuts(&text, "body", index.body, "{ app.name() }");
        assert_cuts(&text, "name", index.name_range, "index");
        assert_cuts(
            &text,
            "item",
            index.item,
            "#[get(\"/\")] pub async fn index(State(app): State<App>) -> String { app.name() }",
        );
        assert_eq!((index.name_range.start.line, index.name_range.start.column), name_at, "{prefix:?}");
        let line1 = name_at.0;

        let with_where = &files[0].functions[1];
        assert_cuts(
            &text,
            "signature",
            with_where.signature,
            "async fn with_where<T>(x: T) -> T\nwhere\n    T: Clone,",
        );
        assert_cuts(&text, "body", with_where.body, "{\n    x\n}");
        assert_cuts(&text, "item", with_where.item, &text[text.find("/// Docs.").unwrap()..text.len() - 1]);
        assert_eq!((with_where.signature.end.line, with_where.signature.end.column), (line1 + 6, 14));

        let handlers = discover(&files);
        assert_eq!(handlers.len(), 2, "{handlers:?}");
        assert_eq!(handlers[0].routes[0].line, line1);
    }
}

#[test]
fn closure_ranges_survive_a_bom() {
    let text = "\u{feff}use axum::routing::get;\nfn app() -> axum::Router { axum::Router::new().route(\"/\", get(|| async { \"hi\" })) }\n";
    let handlers = discover(&extract_tree(&[("src/lib.rs", text)]));
    let HandlerTarget::Closure(c) = &handlers[0].target else { panic!("{handlers:?}") };
    assert_cuts(text, "closure", c.range, "|| async { \"hi\" }");
    assert_cuts(text, "closure body", c.body, "async { \"hi\" }");
    assert_eq!(c.enclosing.as_deref(), Some("app"));
    assert_eq!(c.range.start.line, 2);
}
