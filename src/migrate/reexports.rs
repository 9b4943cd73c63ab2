//! Whether the module a `use` path names can bring a name in (`use crate::prelude::get_db_ro;`,
//! `use crate::prelude::*;`), read from that module's file: Cargo's layout places the file
//! ([`crate::workspace::location`]), and a file that never mentions the name as a word and
//! re-exports nothing by glob cannot bring it in. Anything it cannot place (another crate, an
//! inline module, a `#[path]` module, a file it cannot read) may. Never decides that a name is
//! in scope; only that a rewrite naming it through that module would not compile.

use std::path::{Path, PathBuf};

use crate::workspace::location::locate;

/// Whether the module `prefix` names, from the file at `file`, may bring `name` in.
pub fn may_bring_in(file: &Path, prefix: &[String], name: &str) -> bool {
    let Some(module_file) = module_file(file, prefix) else { return true };
    let Ok(text) = std::fs::read_to_string(&module_file) else { return true };
    has_word(&text, name) || text.contains("::*")
}

/// The file of the module `prefix` names from `file` (`crate::`, `self::`, `super::` paths of
/// the same crate only).
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
        _ => return None,
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
    let root = &here.crate_root;
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
        assert!(may_bring_in(&file, &path("store::db"), "get_db_ro"));
        assert!(may_bring_in(&file, &path("crate::nowhere"), "get_db_ro"));
        assert!(!may_bring_in(&file, &path("crate"), "get_db_ro"), "lib.rs names no get_db_ro");
    }
}
