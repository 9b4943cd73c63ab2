//! Removing a glob import a rewrite left bringing nothing the file names (an unused import,
//! an error under `-D warnings`), when what the glob brings is known
//! ([`super::Lookup::glob_names`]).

use super::scopes::{Scopes, Tree, UseItem};
use super::Lookup;

/// The `use PATH::*;` at the file's top that brought `from` in (the only glob of the file that
/// may, and nothing else binds it), when the rewrite left it bringing nothing the file names:
/// `from` is named nowhere now, no other name the glob brings is ([`Lookup::glob_names`]: all of
/// them known, no trait among them) in any scope, and no module of the file has a file of its
/// own (it may use the glob's names through `use super::*;`). Left there, it would be an unused
/// import: an error under `-D warnings`. A glob with attributes or a visibility (`pub use`, a
/// re-export) is the module's interface and is kept.
pub(super) fn unused_glob(
    text: &str,
    items: &[UseItem],
    scopes: &Scopes,
    from: &str,
    lookup: Lookup<'_>,
) -> Option<usize> {
    let named = |name: &str| scopes.all.iter().any(|s| s.idents.contains(name) || s.bound.contains(name));
    if scopes.file_modules || named(from) {
        return None;
    }
    let globs = scopes.all.iter().flat_map(|s| &s.globs).filter(|g| (lookup.reaches)(g, from));
    let [path] = globs.collect::<Vec<_>>()[..] else { return None };
    let at = items.iter().position(|item| {
        item.scope == 0
            && plain_glob(&item.tree).as_ref() == Some(path)
            && text[item.range.clone()].starts_with("use ")
    })?;
    let brought = (lookup.glob_names)(path)?;
    let only_from = brought.iter().any(|n| n == from) && brought.iter().all(|n| n == from || !named(n));
    only_from.then_some(at)
}

/// The path of a use tree that is one glob (`crate::prelude` of `crate::prelude::*`).
fn plain_glob(tree: &Tree) -> Option<Vec<String>> {
    match tree {
        Tree::Glob => Some(Vec::new()),
        Tree::Path(segment, inner) => {
            let mut rest = plain_glob(inner)?;
            rest.insert(0, segment.clone());
            Some(rest)
        }
        _ => None,
    }
}
