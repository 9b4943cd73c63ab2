//! Flattening `use` trees into one name per entry.
//!
//! `use a::{b, c as d, e::{self, *}};` becomes `b → a::b`, `d → a::c`, `e → a::e` and a glob
//! of `a::e`. Paths through `crate`, `self` and `super` are made absolute (starting with
//! `crate`) from the module holding the `use`; other paths stay as written, because only the
//! whole tree can tell an external crate from a child module. `use x as _` brings no name and
//! is left out.

use syn::{UseTree, Visibility};

use super::facts::{Import, ModulePath};

/// The names a `use` item brings into `module` (`within`: the function whose body holds it).
pub(super) fn flatten_use(item: &syn::ItemUse, module: &ModulePath, within: Option<usize>) -> Vec<Import> {
    let mut out = Vec::new();
    let public = !matches!(item.vis, Visibility::Inherited);
    let mut names = Vec::new();
    flatten(&item.tree, &mut Vec::new(), &mut names);
    for (alias, target, glob) in names {
        let mut target = absolute(module, target);
        // Kept for every parsed file until discovery ends: no spare capacity.
        target.shrink_to_fit();
        out.push(Import { module: module.clone(), within, alias, target, glob, public });
    }
    out
}

/// The name an `extern crate` item brings in (`extern crate foo as bar;` → `bar → foo`).
pub(super) fn extern_crate(
    item: &syn::ItemExternCrate,
    module: &ModulePath,
    within: Option<usize>,
) -> Option<Import> {
    let target = item.ident.to_string();
    let alias = match &item.rename {
        Some((_, rename)) => rename.to_string(),
        None => target.clone(),
    };
    if alias == "_" || target == "self" {
        return None;
    }
    Some(Import {
        module: module.clone(),
        within,
        alias,
        target: vec![target],
        glob: false,
        public: !matches!(item.vis, Visibility::Inherited),
    })
}

/// `(alias, target, glob)` for each leaf of `tree`, under `prefix`.
fn flatten(tree: &UseTree, prefix: &mut Vec<String>, out: &mut Vec<(String, Vec<String>, bool)>) {
    match tree {
        UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten(&p.tree, prefix, out);
            prefix.pop();
        }
        UseTree::Name(n) => {
            let name = n.ident.to_string();
            if name == "self" {
                // `use a::b::{self}` names `b`.
                if let Some(last) = prefix.last() {
                    out.push((last.clone(), prefix.clone(), false));
                }
            } else {
                out.push((name.clone(), path_to(prefix, name), false));
            }
        }
        UseTree::Rename(r) => {
            let alias = r.rename.to_string();
            if alias == "_" {
                return;
            }
            let target =
                if r.ident == "self" { prefix.clone() } else { path_to(prefix, r.ident.to_string()) };
            out.push((alias, target, false));
        }
        UseTree::Glob(_) => out.push((String::new(), prefix.clone(), true)),
        UseTree::Group(g) => {
            for item in &g.items {
                flatten(item, prefix, out);
            }
        }
    }
}

/// `prefix` followed by `last`, allocated at its length (imports are kept until discovery
/// ends).
fn path_to(prefix: &[String], last: String) -> Vec<String> {
    let mut path = Vec::with_capacity(prefix.len() + 1);
    path.extend_from_slice(prefix);
    path.push(last);
    path
}

/// `target` as an absolute path when it goes through `crate`, `self` or `super`; as written
/// otherwise.
pub(super) fn absolute(module: &[String], target: Vec<String>) -> Vec<String> {
    match target.first().map(String::as_str) {
        Some("crate") => target,
        Some("self") => {
            let mut out = Vec::with_capacity(module.len() + target.len());
            out.push("crate".to_string());
            out.extend(module.iter().cloned());
            out.extend(target.into_iter().skip(1));
            out
        }
        Some("super") => {
            let ups = target.iter().take_while(|s| *s == "super").count();
            let kept = &module[..module.len().saturating_sub(ups)];
            let mut out = Vec::with_capacity(1 + kept.len() + target.len() - ups);
            out.push("crate".to_string());
            out.extend(kept.iter().cloned());
            out.extend(target.into_iter().skip(ups));
            out
        }
        _ => target,
    }
}
