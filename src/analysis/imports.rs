//! The `use` items of a file and its inline modules, flattened to one owned [`ImportFacts`]
//! per name they bring in (groups expanded, renames and globs kept as such).
//!
//! Only records what the syntax says; which function or module a path means is for
//! [`crate::workspace::imports`] to resolve once the tree is known.

use std::fmt::Write as _;

use syn::{Item, UseTree};

use super::facts::ImportFacts;

/// Every `use` of `items`, with the inline module path it is written in.
pub fn imports_of(items: &[Item]) -> Vec<ImportFacts> {
    // Most files import one name per `use`: the list is allocated once at about its size.
    let uses = items.iter().filter(|i| matches!(i, Item::Use(_))).count();
    let mut out = Vec::with_capacity(uses);
    collect(items, &mut Vec::new(), &mut Prefix::default(), &mut out);
    out
}

/// The `use` items among a function body's statements, as imports of `module`.
pub fn body_imports(stmts: &[syn::Stmt], module: &[String]) -> Vec<ImportFacts> {
    let mut out = Vec::new();
    for stmt in stmts {
        if let syn::Stmt::Item(Item::Use(u)) = stmt {
            flatten(&u.tree, &mut Prefix::default(), module, false, &mut out);
        }
    }
    out
}

fn collect(items: &[Item], module: &mut Vec<String>, prefix: &mut Prefix, out: &mut Vec<ImportFacts>) {
    for item in items {
        match item {
            Item::Use(u) => {
                flatten(&u.tree, prefix, module, matches!(u.vis, syn::Visibility::Public(_)), out)
            }
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    module.push(m.ident.to_string());
                    collect(items, module, prefix, out);
                    module.pop();
                }
            }
            _ => {}
        }
    }
}

/// The path a `use` tree has walked down so far. Its strings are kept when it walks back up,
/// to be written over by the next `use` (most of a file's imports start alike: `crate::`).
#[derive(Default)]
struct Prefix {
    segments: Vec<String>,
    len: usize,
}

impl Prefix {
    fn push(&mut self, ident: &syn::Ident) {
        match self.segments.get_mut(self.len) {
            Some(segment) => {
                segment.clear();
                // Writing to a `String` never fails.
                let _ = write!(segment, "{ident}");
            }
            None => self.segments.push(ident.to_string()),
        }
        self.len += 1;
    }

    fn pop(&mut self) {
        self.len -= 1;
    }

    fn get(&self) -> &[String] {
        &self.segments[..self.len]
    }

    /// The prefix and then `last`, allocated once at its final size.
    fn with(&self, last: Option<&String>) -> Vec<String> {
        let mut path = Vec::with_capacity(self.len + 1);
        path.extend(self.get().iter().chain(last).cloned());
        path
    }
}

fn flatten(tree: &UseTree, prefix: &mut Prefix, module: &[String], public: bool, out: &mut Vec<ImportFacts>) {
    let mut push = |alias: String, path: Vec<String>, glob: bool| {
        out.push(ImportFacts { module: module.to_vec(), alias, path, glob, public });
    };
    match tree {
        UseTree::Path(p) => {
            prefix.push(&p.ident);
            flatten(&p.tree, prefix, module, public, out);
            prefix.pop();
        }
        UseTree::Name(n) if n.ident == "self" => {
            if let Some(last) = prefix.get().last() {
                push(last.clone(), prefix.with(None), false);
            }
        }
        UseTree::Name(n) => {
            let name = n.ident.to_string();
            let path = prefix.with(Some(&name));
            push(name, path, false);
        }
        UseTree::Rename(r) if r.rename != "_" => {
            let name = (r.ident != "self").then(|| r.ident.to_string());
            push(r.rename.to_string(), prefix.with(name.as_ref()), false);
        }
        UseTree::Rename(_) => {}
        UseTree::Glob(_) => push(String::new(), prefix.with(None), true),
        UseTree::Group(g) => g.items.iter().for_each(|t| flatten(t, prefix, module, public, out)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imports(src: &str) -> Vec<(String, String, bool, bool)> {
        let file: syn::File = syn::parse_str(src).expect("a file");
        imports_of(&file.items)
            .into_iter()
            .map(|i| {
                (
                    format!("{}{}", i.module.join("::"), if i.module.is_empty() { "" } else { ":" })
                        + &i.alias,
                    i.path.join("::"),
                    i.glob,
                    i.public,
                )
            })
            .collect()
    }

    #[test]
    fn groups_renames_globs_and_inline_modules_are_flattened() {
        let got = imports(
            "use crate::store::{self, save as persist, queries::*};\npub use super::db::get;\nmod inner { use other_crate::f; }",
        );
        let expected: Vec<(String, String, bool, bool)> = vec![
            ("store".into(), "crate::store".into(), false, false),
            ("persist".into(), "crate::store::save".into(), false, false),
            ("".into(), "crate::store::queries".into(), true, false),
            ("get".into(), "super::db::get".into(), false, true),
            ("inner:f".into(), "other_crate::f".into(), false, false),
        ];
        assert_eq!(got, expected);
        let body: syn::Block = syn::parse_str("{ use crate::jobs::tally as t; t(db); }").expect("a block");
        let found = body_imports(&body.stmts, &["api".to_string()]);
        assert_eq!(
            (found[0].alias.as_str(), found[0].path.join("::")),
            ("t", "crate::jobs::tally".to_string())
        );
        assert_eq!(found[0].module, ["api"]);
    }
}
