//! Text screening before parsing.
//!
//! Parsing is ~40× slower than reading, so a file is parsed only when its text mentions a
//! name that can make it matter (an accessor, a handle type). Files that are not parsed still
//! have their `const`/`static` names listed by a cheap lexical scan, so that the index can
//! parse them on demand when a finding needs one of their consts: screening never makes a const
//! invisible.

use aho_corasick::AhoCorasick;

/// A set of words looked for in source text.
#[derive(Debug, Clone)]
pub struct Prefilter {
    matcher: Option<AhoCorasick>,
    /// The words, by the matcher's pattern index.
    words: Vec<String>,
}

impl Prefilter {
    /// Looks for any of `words` (empty words are ignored).
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Prefilter {
        let mut words: Vec<&str> = words.into_iter().filter(|w| !w.is_empty()).collect();
        words.sort_unstable();
        words.dedup();
        let matcher = if words.is_empty() { None } else { AhoCorasick::new(&words).ok() };
        Prefilter { matcher, words: words.into_iter().map(str::to_string).collect() }
    }

    /// Whether it has no word (it matches no text).
    pub fn is_empty(&self) -> bool {
        self.matcher.is_none()
    }

    /// Whether `text` holds one of the words as a whole identifier.
    pub fn matches(&self, text: &str) -> bool {
        self.matches_where(text, |_, _| true)
    }

    /// Whether `text` holds one of the words as a whole identifier where `keep` takes it
    /// (given the word and the byte offset it starts at).
    pub fn matches_where(&self, text: &str, keep: impl Fn(&str, usize) -> bool) -> bool {
        let Some(matcher) = &self.matcher else { return false };
        let bytes = text.as_bytes();
        // Overlapping search: `get_db` inside `get_db_ro` must not hide `get_db_ro`.
        matcher.find_overlapping_iter(text).any(|m| {
            let before = m.start().checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(m.end()).copied();
            !before.is_some_and(is_ident_byte)
                && !after.is_some_and(is_ident_byte)
                && keep(&self.words[m.pattern().as_usize()], m.start())
        })
    }
}

/// Whether the identifier starting at byte `start` of `text` is a method's name: the last byte
/// before it other than whitespace is a lone `.` outside a line comment (`map.get(k)` and
/// `x\n    .get(k)` are method calls; `get(h)`, `routing::get(h)`, `0..get` and `get(h)` under a
/// comment ending in a full stop are not). A `//` inside a string on the dot's line makes it a
/// comment too: wrong only towards "not a method".
pub fn is_method_name_at(text: &str, start: usize) -> bool {
    let before = &text.as_bytes()[..start];
    let Some(dot) = before.iter().rposition(|b| !b.is_ascii_whitespace()) else { return false };
    if before[dot] != b'.' || (dot > 0 && before[dot - 1] == b'.') {
        return false;
    }
    let line_start = before[..dot].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    !before[line_start..dot].windows(2).any(|w| w == b"//")
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Names declared by `const NAME` or `static [mut] NAME` in `text`, found lexically (comments
/// and strings are not skipped: a false name only costs a parse).
pub fn const_names(text: &str) -> Vec<String> {
    declared_names(text, &["const", "static"])
}

/// Names declared by `fn NAME` in `text`, found lexically like [`const_names`].
pub fn fn_names(text: &str) -> Vec<String> {
    declared_names(text, &["fn"])
}

/// Names declared by `struct`, `enum`, `union`, `trait` or `type` in `text`, found lexically
/// like [`const_names`].
pub fn type_names(text: &str) -> Vec<String> {
    declared_names(text, &["struct", "enum", "union", "trait", "type"])
}

/// Names `use` items in `text` bind (`use a::b;`, `pub use a::{b, c as d};` -> `b`, `d`),
/// found lexically: within `use … ;`, the identifiers followed by `,`, `}` or `;`. A file that
/// re-exports a function under a name is loaded like one that declares it.
pub fn use_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("use") {
        let start = from + found;
        from = start + 3;
        let bytes = text.as_bytes();
        let boundary_before = start == 0 || !is_ident_byte(bytes[start - 1]);
        if !boundary_before || !text[from..].starts_with(char::is_whitespace) {
            continue;
        }
        let Some(end) = text[from..].find(';') else { break };
        let item = &text[from..from + end + 1];
        // Identifier tokens; one is a bound name when the next token is `,`, `}` or `;`.
        let mut ident = String::new();
        let mut last: Option<String> = None;
        for c in item.chars() {
            if c.is_alphanumeric() || c == '_' {
                if ident.is_empty() {
                    last = None;
                }
                ident.push(c);
                continue;
            }
            if !ident.is_empty() {
                last = Some(std::mem::take(&mut ident));
            }
            if c.is_whitespace() {
                continue;
            }
            if let Some(name) = last.take() {
                if matches!(c, ',' | '}' | ';') && !name.starts_with(|c: char| c.is_ascii_digit()) {
                    names.push(name);
                }
            }
        }
        from += end + 1;
    }
    names.sort();
    names.dedup();
    names
}

/// Modules declared with a `#[path = "…"]` attribute in `text` (`#[path = "v2/api.rs"] mod api;`
/// -> (`api`, `v2/api.rs`)), found lexically.
pub fn path_mods(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("#[path") {
        from += found + 6;
        let rest = &text[from..];
        let Some(open) = rest.find('"') else { break };
        let Some(close) = rest[open + 1..].find('"') else { break };
        let path = &rest[open + 1..open + 1 + close];
        let after = &rest[open + close + 2..];
        // The next `mod NAME` (other attributes and a visibility may come first).
        let Some(at) = after.find("mod ") else { continue };
        if after[..at].contains(';') || after[..at].contains('{') {
            continue;
        }
        let name: String =
            after[at + 4..].trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if !name.is_empty() {
            out.push((name, path.to_string()));
        }
    }
    out
}

fn declared_names(text: &str, keywords: &[&str]) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut names = Vec::new();
    for keyword in keywords {
        let mut from = 0;
        while let Some(found) = text[from..].find(keyword) {
            let start = from + found;
            from = start + keyword.len();
            if start > 0 && is_ident_byte(bytes[start - 1]) {
                continue;
            }
            let mut rest = &text[from..];
            if !rest.starts_with(char::is_whitespace) {
                continue;
            }
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix("mut") {
                if after.starts_with(char::is_whitespace) {
                    rest = after.trim_start();
                }
            }
            rest = rest.strip_prefix("r#").unwrap_or(rest);
            let len = rest.bytes().take_while(|&b| is_ident_byte(b)).count();
            let name = &rest[..len];
            if !name.is_empty() && name != "fn" && name != "_" && !name.as_bytes()[0].is_ascii_digit() {
                names.push(name.to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_whole_identifiers_only() {
        let filter = Prefilter::new(["get_db_ro", "DbRo"]);
        assert!(filter.matches("let db = state.get_db_ro().await?;"));
        assert!(filter.matches("fn h(DbRo(conn): DbRo) {}"));
        assert!(!filter.matches("let db = state.get_db_ro_pool();"));
        assert!(filter.matches("x.get_db_ro_pool(); y.get_db_ro();"));
        assert!(!filter.matches("struct DbRole;"));
        assert!(!Prefilter::new([]).matches("get_db_ro"));
    }

    #[test]
    fn a_word_is_kept_where_the_caller_says_with_the_word_and_its_place() {
        let screen = Prefilter::new(["get", "route"]);
        let outside_methods = |text: &str| screen.matches_where(text, |_, at| !is_method_name_at(text, at));
        for method in ["map.get(k)", "x\n    .get(k)", "a.b().get::<T>(k)", "s. get(k)"] {
            assert!(screen.matches(method), "{method}");
            assert!(!outside_methods(method), "{method}");
        }
        for free in
            ["get(h)", "routing::get(h)", "axum::routing::get(h)", "0..get(n)", "(get(a))", "x.y(get(h))"]
        {
            assert!(outside_methods(free), "{free}");
        }
        assert!(outside_methods("// Listing and creation share a path.\n    get(list).post(create)"));
        assert!(outside_methods("/// Reads it.\nget(h)") && outside_methods("/* a. */ get(h)"));
        assert!(!outside_methods("// a comment.\nx\n    .get(k)"));
        assert!(outside_methods("map.get(k); let r = get(h);"));
        assert!(!outside_methods("map.get(k); let getter = 1;"));
        // Each whole word is handed as matched, with where it starts; parts of words never are.
        let seen = std::cell::RefCell::new(Vec::new());
        assert!(!screen.matches_where("r.route(x); m.get(k); getter", |w, at| {
            seen.borrow_mut().push((w.to_string(), at));
            false
        }));
        assert_eq!(seen.into_inner(), [("route".to_string(), 2), ("get".to_string(), 14)]);
        assert!(!Prefilter::new(Vec::<&str>::new()).matches_where("get(h)", |_, _| true));
    }

    #[test]
    fn overlapping_words_are_all_tried() {
        // `get_db` is a prefix of `get_db_ro`: a file with only `get_db_ro` still matches `get_db_ro`.
        let filter = Prefilter::new(["get_db", "get_db_ro"]);
        assert!(filter.matches("state.get_db_ro()"));
        assert!(filter.matches("state.get_db()"));
    }

    #[test]
    fn const_names_are_listed() {
        let text = "pub const SQL: &str = \"x\";\nstatic mut COUNT: u32 = 0;\nconst fn f() {}\npub(crate) static  Q2 : &str = \"\";\nlet constant = 1;";
        assert_eq!(const_names(text), ["COUNT", "Q2", "SQL"]);
        assert_eq!(fn_names(text), ["f"]);
        assert_eq!(
            path_mods("#[path = \"v2/api.rs\"]\n#[cfg(test)]\npub mod api;\n#[path=\"x\"] fn f() {}"),
            [("api".to_string(), "v2/api.rs".to_string())]
        );
        assert_eq!(
            use_names("pub use crate::views::tally as view_tally;\nuse a::{b, c::d as e};\nlet user = 1;"),
            ["b", "e", "view_tally"]
        );
        assert_eq!(
            type_names("pub struct Repo;\nenum E {}\ntrait Store {}\nlet structure = 1;"),
            ["E", "Repo", "Store"]
        );
        assert_eq!(
            fn_names(
                "pub async fn save_post(db: &Db) {}\nimpl X { fn r#type(&self) {} }\nlet f = |x| x; // fnord"
            ),
            ["save_post", "type"]
        );
    }
}
