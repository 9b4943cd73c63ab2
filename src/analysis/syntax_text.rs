//! The text of identifiers and string literals, without a string made (or a literal parsed
//! again) each time: proc-macro2 keeps an identifier's text private and only prints it, so
//! `ident.to_string()` costs an allocation (and its free) at every call, method, binding and
//! type the analysis meets; and `LitStr::value` parses every literal character by character.
//!
//! Here an identifier is printed into a buffer of the thread ([`with_ident_text`]), a path of
//! identifiers becomes its shared copy ([`shared_idents`]) with strings made only the first
//! time the file names it, and a literal without escapes is its text between the quotes
//! ([`lit_str_value`]). Never decides anything about a name or a text.

use std::cell::RefCell;
use std::fmt::Write as _;

use proc_macro2::Ident;

use super::facts::{shared_path_by, PathHash, SharedPath};

/// Calls `f` with the text of `ident` (as written, `r#` included), formatted into a buffer of
/// the thread instead of a new string. `f` must not call this again.
pub(crate) fn with_ident_text<R>(ident: &Ident, f: impl FnOnce(&str) -> R) -> R {
    thread_local! {
        static BUFFER: RefCell<String> = const { RefCell::new(String::new()) };
    }
    BUFFER.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        buffer.clear();
        // Writing to a `String` never fails.
        let _ = write!(buffer, "{ident}");
        f(&buffer)
    })
}

/// The path `idents` spell (`crate::store::save`, a method's name alone), shared with every
/// path of the same segments in the file being analysed ([`super::facts::shared_path`]).
pub(crate) fn shared_idents<'a, I>(idents: I) -> SharedPath
where
    I: IntoIterator<Item = &'a Ident>,
    I::IntoIter: Clone,
{
    let idents = idents.into_iter();
    let mut hash = PathHash::default();
    for ident in idents.clone() {
        with_ident_text(ident, |text| hash.segment(text));
    }
    shared_path_by(
        hash.finish(),
        |path| {
            let mut segments = idents.clone();
            path.iter().all(|s| segments.next().is_some_and(|i| *i == s)) && segments.next().is_none()
        },
        || idents.clone().map(Ident::to_string).collect(),
    )
}

/// What `lit` stands for, as [`syn::LitStr::value`] says: a plain literal (`"…"` without
/// escapes, carriage returns or suffix) is its text between the quotes, taken as is; any
/// other is parsed by syn.
pub(crate) fn lit_str_value(lit: &syn::LitStr) -> String {
    let mut text = lit.token().to_string();
    let plain = text.len() >= 2
        && text.starts_with('"')
        && text.ends_with('"')
        && !text[1..text.len() - 1].contains(['\\', '\r', '"']);
    if !plain {
        return lit.value();
    }
    text.pop();
    text.remove(0);
    text
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::analysis::facts::{release_shared, shared_path};

    fn path(p: &str) -> syn::Path {
        syn::parse_str(p).expect("a path")
    }

    fn shared(p: &syn::Path) -> SharedPath {
        shared_idents(p.segments.pairs().map(|s| &s.value().ident))
    }

    #[test]
    fn a_path_of_identifiers_is_the_path_of_their_texts() {
        let save = path("crate::store::save");
        let first = shared(&save);
        assert_eq!(&*first, ["crate", "store", "save"]);
        assert!(Arc::ptr_eq(&first, &shared(&save)));
        let strings: Vec<String> = ["crate", "store", "save"].map(String::from).into();
        assert!(Arc::ptr_eq(&first, &shared_path(&strings)));
        // A prefix, a longer path and a raw identifier are other paths.
        assert_eq!(&*shared(&path("crate::store")), ["crate", "store"]);
        assert_eq!(&*shared(&path("crate::store::save::x")), ["crate", "store", "save", "x"]);
        assert_eq!(&*shared(&path("r#type")), ["r#type"]);
        assert_eq!(&*shared(&path("type_")), ["type_"]);
        let method: Ident = syn::parse_str("execute").expect("an identifier");
        assert_eq!(&*shared_idents([&method]), ["execute"]);
        assert_eq!(with_ident_text(&method, str::len), 7);
        release_shared();
    }

    #[test]
    fn a_literal_is_what_syn_says_it_stands_for() {
        for lit in [
            r#""UPDATE t SET a = 'x' WHERE id = $1""#,
            r#""""#,
            r#""é { } ü""#,
            r#""a\nb \" \u{e9} \x41""#,
            "\"line one\r\nline two\"",
            r#""multi
line""#,
            r###"r#"raw "quoted" \n"#"###,
            r#""suffixed"x"#,
        ] {
            let parsed: syn::LitStr = syn::parse_str(lit).expect("a literal");
            assert_eq!(lit_str_value(&parsed), parsed.value(), "{lit}");
        }
    }
}
