//! What a glob import of a module of the tree brings in, when that can be known from the
//! module's file: for `imports` to remove a glob a rewrite left bringing nothing the file names.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{module_file, read_small};
use crate::migrate::edit::parse_checked;

/// Every name `use PREFIX::*;` in `file` may bring in, when all of them are known and none
/// can serve a call that never names it: the items of the module's file (any visibility) and
/// the names its `use` items bind, each of those naming an item declared in a module file of
/// the tree. `None` when the module's file is not placed, read or parsed, or it holds a trait
/// (its methods are called without naming it), a glob `use`, a macro, an `extern` item, or a
/// `use` whose item is not found declared (another crate's, a re-export of a re-export): then
/// what the glob brings is not known, and whether a file still needs it is not either.
pub fn glob_names(file: &Path, prefix: &[String]) -> Option<Vec<String>> {
    let module_file = module_file(file, prefix)?;
    let parsed = parse_checked(&read_small(&module_file)?).ok()?;
    let mut names = Vec::new();
    // The items of each module file the `use` items name, parsed once.
    let mut declared = HashMap::new();
    for item in &parsed.items {
        match item {
            syn::Item::Use(u) => {
                use_names(&module_file, &u.tree, &mut Vec::new(), &mut declared, &mut names)?;
            }
            syn::Item::Impl(_) => {}
            other => names.push(plain_item_name(other)?),
        }
    }
    Some(names)
}

/// The name of an item a glob import brings in as a name only (a function, type, const,
/// static or module); `None` for any other.
fn plain_item_name(item: &syn::Item) -> Option<String> {
    let ident = match item {
        syn::Item::Fn(f) => &f.sig.ident,
        syn::Item::Struct(s) => &s.ident,
        syn::Item::Enum(e) => &e.ident,
        syn::Item::Union(u) => &u.ident,
        syn::Item::Type(t) => &t.ident,
        syn::Item::Const(c) => &c.ident,
        syn::Item::Static(s) => &s.ident,
        syn::Item::Mod(m) => &m.ident,
        _ => return None,
    };
    Some(ident.to_string())
}

/// The names a `use` tree of the module file `from` binds, each checked to name an item
/// declared as [`plain_item_name`] says in a module file of the tree (`declared`: the names of
/// the files read so far); `None` at the first that does not (or a glob).
fn use_names(
    from: &Path,
    tree: &syn::UseTree,
    path: &mut Vec<String>,
    declared: &mut HashMap<PathBuf, Option<Vec<String>>>,
    out: &mut Vec<String>,
) -> Option<()> {
    let (name, bound) = match tree {
        syn::UseTree::Path(p) => {
            path.push(p.ident.to_string());
            let found = use_names(from, &p.tree, path, declared, out);
            path.pop();
            return found;
        }
        syn::UseTree::Group(g) => {
            return g.items.iter().try_for_each(|t| use_names(from, t, path, declared, out));
        }
        syn::UseTree::Glob(_) => return None,
        syn::UseTree::Name(n) => (n.ident.to_string(), n.ident.to_string()),
        syn::UseTree::Rename(r) => (r.ident.to_string(), r.rename.to_string()),
    };
    let declared_in = match name.as_str() {
        // `use crate::db::{self, …}`: the module itself.
        "self" => {
            let module = path.pop()?;
            let found = module_file(from, path);
            path.push(module.clone());
            (found?, module)
        }
        _ => (module_file(from, path)?, name),
    };
    let (module_file, name) = declared_in;
    let items = declared.entry(module_file).or_insert_with_key(|file| {
        let parsed = parse_checked(&read_small(file)?).ok()?;
        Some(parsed.items.iter().filter_map(plain_item_name).collect())
    });
    items.as_ref()?.contains(&name).then(|| out.push(if bound == "self" { name } else { bound }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_glob_brings_is_known_only_when_every_name_is_an_item_of_the_tree_and_none_a_trait() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        let write = |file: &str, text: &str| std::fs::write(src.join(file), text).unwrap();
        write("lib.rs", "pub mod db;\npub mod prelude;\npub mod util;\n");
        write(
            "db.rs",
            "pub struct Conn;\npub fn get_db() {}\npub trait Query {}\npub use crate::util::label;\n",
        );
        write("util.rs", "pub fn label() {}\nimpl Conn { pub fn f() {} }\n");
        let file = src.join("h.rs");
        let prelude = vec!["crate".to_string(), "prelude".to_string()];
        let brought = |text: &str| {
            write("prelude.rs", text);
            glob_names(&file, &prelude)
        };
        let names = |list: &[&str]| Some(list.iter().map(|n| n.to_string()).collect::<Vec<_>>());
        assert_eq!(
            brought("pub use crate::db::{self, get_db, Conn as C};\npub use super::util::label;\npub const N: u8 = 1;\n"),
            names(&["db", "get_db", "C", "label", "N"])
        );
        // A trait (its own, or re-exported), a glob, another crate's item, a re-export of a
        // re-export, an item not found, a macro: what the glob brings is not known.
        for text in [
            "pub trait Query {}\n",
            "pub use crate::db::Query;\n",
            "pub use crate::db::*;\n",
            "pub use sqlx::PgPool;\n",
            "pub use crate::db::label;\n",
            "pub use crate::db::nowhere;\n",
            "macro_rules! m { () => {} }\n",
        ] {
            assert_eq!(brought(text), None, "{text}");
        }
        assert_eq!(glob_names(&file, &["crate".to_string(), "nowhere".to_string()]), None);
        assert_eq!(glob_names(&file, &["store".to_string(), "db".to_string()]), None);
    }
}
