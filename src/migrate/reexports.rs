//! Whether the module a `use` path names can bring a name in (`use crate::prelude::get_db_ro;`,
//! `use crate::prelude::*;`), read from that module's file: Cargo's layout places the file
//! ([`crate::workspace::location`]), and a file whose code never names it (comments and
//! strings do not count) and that re-exports nothing by glob cannot bring it in. Anything it
//! cannot place (another crate, an inline module, a `#[path]` module, a file it cannot read)
//! may. Never decides that a name is in scope; only that a rewrite naming it through that
//! module would not compile.

use std::path::{Path, PathBuf};

use crate::workspace::location::locate;

/// Whether the module `prefix` names, from the file at `file`, may bring `name` in.
pub fn may_bring_in(file: &Path, prefix: &[String], name: &str) -> bool {
    let Some(module_file) = module_file(file, prefix) else { return true };
    let Ok(text) = std::fs::read_to_string(&module_file) else { return true };
    text.contains("::*") || names_ident(&text, name)
}

/// Whether `name` is an identifier of `text`'s code (not in a comment or a string); as a word
/// anywhere when `text` does not lex. The spans this makes are the caller's to release.
fn names_ident(text: &str, name: &str) -> bool {
    fn any(tokens: proc_macro2::TokenStream, name: &str) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == name,
            proc_macro2::TokenTree::Group(g) => any(g.stream(), name),
            _ => false,
        })
    }
    match text.parse::<proc_macro2::TokenStream>() {
        Ok(tokens) => any(tokens, name),
        Err(_) => has_word(text, name),
    }
}

/// The file of the module `prefix` names from `file`: `crate::`, `self::`, `super::` paths of
/// the same crate, and a path starting with a child module of `file`'s (`use sqlx::PgPool;`
/// in `lib.rs` beside `sqlx.rs`); another crate's is not placed.
fn module_file(file: &Path, prefix: &[String]) -> Option<PathBuf> {
    let here = locate(file);
    let (first, rest) = prefix.split_first()?;
    let mut module = match first.as_str() {
        "crate" => Vec::new(),
        "self" => here.module.clone(),
        "super" => {
            let mut m = here.module.clone();
            m.pop()?;
            m
        }
        child => {
            // A child module only when its file is there: else an extern crate's name.
            let module: Vec<String> = here.module.iter().cloned().chain([child.to_string()]).collect();
            let found = module_path_file(&here.crate_root, &module)?;
            if rest.is_empty() {
                return Some(found);
            }
            module
        }
    };
    for segment in rest {
        match segment.as_str() {
            "super" => {
                module.pop()?;
            }
            "self" => {}
            s => module.push(s.to_string()),
        }
    }
    module_path_file(&here.crate_root, &module)
}

/// The file of module `module` of the crate whose source directory is `root`, if there is one.
fn module_path_file(root: &Path, module: &[String]) -> Option<PathBuf> {
    if !root.is_dir() {
        return None;
    }
    let candidates: Vec<PathBuf> = if module.is_empty() {
        vec![root.join("lib.rs"), root.join("main.rs")]
    } else {
        let dir: PathBuf = module.iter().collect();
        let mut file = root.join(&dir);
        file.set_extension("rs");
        vec![file, root.join(&dir).join("mod.rs")]
    };
    candidates.into_iter().find(|p| p.is_file())
}

/// Whether `name` occurs in `text` as a whole identifier.
fn has_word(text: &str, name: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(name)
        .any(|(at, _)| !text[..at].ends_with(is_ident) && !text[at + name.len()..].starts_with(is_ident))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_file_that_never_names_the_twin_does_not_bring_it_in() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        std::fs::create_dir_all(src.join("api")).unwrap();
        std::fs::write(src.join("lib.rs"), "pub mod db;\npub mod prelude;\npub mod api;\n").unwrap();
        std::fs::write(src.join("db.rs"), "pub fn get_db() {}\npub fn get_db_ro() {}\n").unwrap();
        std::fs::write(src.join("prelude.rs"), "pub use crate::db::{get_db, get_db_rox};\n").unwrap();
        std::fs::write(src.join("api/mod.rs"), "pub use crate::db::*;\n").unwrap();
        let file = src.join("api/h.rs");
        let path = |p: &str| p.split("::").map(str::to_string).collect::<Vec<_>>();
        // The prelude names `get_db_rox`, not `get_db_ro`.
        assert!(!may_bring_in(&file, &path("crate::prelude"), "get_db_ro"));
        assert!(may_bring_in(&file, &path("crate::prelude"), "get_db"));
        assert!(may_bring_in(&file, &path("crate::db"), "get_db_ro"));
        assert!(may_bring_in(&file, &path("super::super::db"), "get_db_ro"));
        // A glob re-export may bring anything in; so may what cannot be placed.
        assert!(may_bring_in(&file, &path("super"), "get_db_ro"));
        assert!(may_bring_in(&file, &path("store::db"), "get_db_ro"), "another crate: not placed");
        // A child module named without `self::` (`use sqlx::PgPool;` beside `sqlx.rs`).
        std::fs::write(
            src.join("sqlx.rs"),
            "//! Not `ReadOnlyPgPool`.\npub struct PgPool;\nconst S: &str = \"ReadOnlyPgPool\";\n",
        )
        .unwrap();
        let root_file = src.join("lib.rs");
        assert!(!may_bring_in(&root_file, &path("sqlx"), "ReadOnlyPgPool"));
        assert!(may_bring_in(&root_file, &path("sqlx"), "PgPool"));
        assert!(!may_bring_in(&root_file, &path("db"), "ReadOnlyPgPool"));
        assert!(may_bring_in(&file, &path("sqlx"), "ReadOnlyPgPool"), "no `api::sqlx`: a crate's name");
        assert!(may_bring_in(&file, &path("crate::nowhere"), "get_db_ro"));
        assert!(!may_bring_in(&file, &path("crate"), "get_db_ro"), "lib.rs names no get_db_ro");
    }
}
