//! Fixing `use` items after accessors and types are rewritten to their twins: the twin is
//! imported where the original was imported by name and the twin is named bare; an import made
//! unused is removed (or renamed to the twin when the twin needs one). Every `use` of the name
//! is fixed — the file's, an inline module's, a function body's — for what its own scope says
//! ([`Scopes`]: whether the name is still used there, whether the twin is in scope there; a
//! body sees its module's names, a module its parent's only through `use super::*`). The twin
//! comes in through the path that brought the original, a glob's included, when that path's
//! module may bring it in ([`Reaches`]); else the rewrite is refused. Edits are minimal and
//! keep rustfmt's layout: a group stays sorted in the order of the file's style edition
//! ([`StyleEdition`]), a vertical list stays one name per line, a group left with one item
//! loses its braces, a whole `use` left with nothing is removed with its line. Aliased imports
//! are left alone.
//!
//! [`plan`] parses the already-rewritten text on a worker and keeps no span.

use std::collections::HashSet;

use self::edits::{alone, change, insert_use, remove_item, Action};
use self::scopes::{collect, find_leaves, Scopes};
use super::edit::{parse_checked, splice_checked, EditError, Splice};
use super::style::StyleEdition;
use crate::source::SourceText;

/// One rewrite's effect on imports: `from` was rewritten to `to`; `bare` when some rewritten
/// use names `to` by a single-segment path (so `to` must be in scope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rename {
    /// The read-write name.
    pub from: String,
    /// Its twin.
    pub to: String,
    /// Whether the twin is now named bare.
    pub bare: bool,
}

/// Whether the module a `use` path names (its segments) may bring a name in:
/// [`super::reexports::may_bring_in`] for the file being fixed.
pub type Reaches<'a> = &'a dyn Fn(&[String], &str) -> bool;

/// The module (`crate::…` segments) to import a name from instead of the one a `use` path
/// names (its segments): [`super::reexports::home_instead`] for the file being fixed.
pub type Home<'a> = &'a dyn Fn(&[String], &str) -> Option<Vec<String>>;

/// Every name a glob of a module (its `use` path's segments) brings in, when all are known
/// and none is a trait: [`super::reexports::glob_names`] for the file being fixed.
pub type GlobNames<'a> = &'a dyn Fn(&[String]) -> Option<Vec<String>>;

/// Where names can come from, for the file being fixed.
#[derive(Clone, Copy)]
pub struct Lookup<'a> {
    /// Whether a `use` path's module may bring a name in.
    pub reaches: Reaches<'a>,
    /// Where to import a twin from when a `use` path's module cannot bring it in.
    pub home: Home<'a>,
    /// What a glob of a module brings in, to remove one the rewrite left bringing nothing used.
    pub glob_names: GlobNames<'a>,
}

#[cfg(test)]
impl Lookup<'static> {
    /// Every module may bring every name in; no twin is imported from elsewhere; what a glob
    /// brings is never known.
    pub fn trusting() -> Lookup<'static> {
        Lookup { reaches: &|_, _| true, home: &|_, _| None, glob_names: &|_| None }
    }
}

/// `text` (already rewritten) with its imports fixed for `renames`, checked to parse; an error
/// when a twin the rewrite names bare cannot be brought into scope by changing a `use` of the
/// name it replaces, or the module that `use` names does not bring the twin in (`reaches`:
/// the rewrite would not compile). A round
/// of [`plan`] makes one change per group (splices that stay apart), so a group holding two
/// renamed names (`use crate::db::{get_db, DbRw};`) takes a round each: planned again on the
/// fixed text until no rename waits (each round settles at least one). Parses the text once
/// per round and releases the span table after each: run on a worker that holds no syntax tree.
pub fn fix(
    text: &str,
    renames: &[Rename],
    style: StyleEdition,
    lookup: Lookup<'_>,
) -> Result<String, EditError> {
    let mut fixed: Option<String> = None;
    // A round settles at least one of the renamed names: one more round than names is a bound.
    for _ in 0..=renames.len() {
        let current = fixed.as_deref().unwrap_or(text);
        let round = plan(current, renames, style, lookup);
        crate::parse::release_spans();
        let Planned { splices, waiting } = round?;
        if splices.is_empty() {
            break;
        }
        let next = splice_checked(current, &splices);
        crate::parse::release_spans();
        fixed = Some(next?);
        if !waiting {
            break;
        }
    }
    Ok(fixed.unwrap_or_else(|| text.to_string()))
}

/// One round of import fixes.
struct Planned {
    splices: Vec<Splice>,
    /// Whether a rename that needs a change was left for a later round (its group changed).
    waiting: bool,
}

/// The splices that fix the imports of `text` (already rewritten) for `renames`, one change per
/// group. Parses `text` (an error when it does not parse: the check of a rewrite).
fn plan(
    text: &str,
    renames: &[Rename],
    style: StyleEdition,
    lookup: Lookup<'_>,
) -> Result<Planned, EditError> {
    let reaches = lookup.reaches;
    let src = SourceText::new(text.to_string());
    let file = parse_checked(src.parser_text())?;
    let mut items = Vec::new();
    let mut scopes = Scopes::new();
    collect(&src, &file.items, 0, &mut scopes, &mut items);
    drop(file);

    let mut splices = Vec::new();
    let mut waiting = false;
    let mut groups_done: HashSet<usize> = HashSet::new();
    let mut pairs: Vec<&Rename> = Vec::new();
    for r in renames {
        if let Some(p) = pairs.iter_mut().find(|p| p.from == r.from) {
            if r.bare && !p.bare {
                *p = r;
            }
        } else {
            pairs.push(r);
        }
    }
    for r in pairs {
        let leaves = find_leaves(&items, &r.from);
        if leaves.is_empty() {
            // No `use` names it. Bound here another way (defined in the file, as another
            // name's alias, through a glob) and the twin nowhere (no glob's module brings it
            // in): nothing to change brings the twin in, and the rewrite would not compile.
            // Bound in a way the file does not show: the twin may be bound alike, and is left
            // as it is.
            let anywhere = |name: &str| {
                scopes.all.iter().any(|s| s.bound.contains(name) || s.globs.iter().any(|g| reaches(g, name)))
            };
            if r.bare && !anywhere(&r.to) && anywhere(&r.from) {
                // Named through a glob: say whose.
                let glob = scopes.all.iter().flat_map(|s| &s.globs).find(|g| reaches(g, &r.from));
                return Err(match glob {
                    Some(g) if !scopes.all.iter().any(|s| s.bound.contains(&r.from)) => {
                        EditError::NotExported { module: g.join("::"), name: r.to.clone() }
                    }
                    _ => EditError::NotInScope(r.to.clone()),
                });
            }
            if let Some(glob) = globs::unused_glob(text, &items, &scopes, &r.from, lookup) {
                if groups_done.insert(items[glob].range.start) {
                    splices.push(remove_item(text, &items[glob]));
                }
            }
            continue;
        }
        // Every `use` naming it: at the top, in an inline module, in a function's body; each
        // fixed for what its own scope still names.
        for leaf in &leaves {
            let item = &items[leaf.item];
            let from_unused = !scopes.uses(item.scope, &r.from, &[&r.from]);
            let need_twin = r.bare
                && scopes.uses(item.scope, &r.to, &[&r.to, &r.from])
                && !scopes.in_scope(item.scope, &r.to, reaches);
            let action = match (from_unused, need_twin) {
                (true, true) => Action::Replace,
                (true, false) => Action::Remove,
                (false, true) => Action::Add,
                (false, false) => continue,
            };
            // The twin comes in by the path that brought the old name, unless that path cannot
            // bring it and a module of this crate has it: then from there, on a line of its own.
            let home = if action == Action::Remove { None } else { (lookup.home)(&leaf.prefix, &r.to) };
            if action != Action::Remove && home.is_none() && !reaches(&leaf.prefix, &r.to) {
                return Err(EditError::NotExported { module: leaf.prefix.join("::"), name: r.to.clone() });
            }
            // One change per group (or item) per round keeps splices apart; a second rename
            // in the same group waits for the next round ([`fix`]).
            let key = leaf.group.as_ref().map_or(item.range.start, |g| g.0.start);
            if !groups_done.insert(key) {
                waiting = true;
                continue;
            }
            let old_path = format!("{}::{}", leaf.prefix.join("::"), r.from);
            let new_path = match home {
                Some(home) => format!("{}::{}", home.join("::"), r.to),
                // `use a::b::from;` alone on its lines: renamed, it moves to rustfmt's place
                // among its neighbours (`get_db_ro` after `get_db_helper`).
                None if action == Action::Replace
                    && alone(text, item)
                    && text[item.range.clone()] == format!("use {old_path};") =>
                {
                    format!("{}::{}", leaf.prefix.join("::"), r.to)
                }
                None => {
                    splices.push(change(text, item, leaf, action, (&r.from, &r.to), style));
                    continue;
                }
            };
            let removed = (action == Action::Replace)
                .then(|| change(text, item, leaf, Action::Remove, (&r.from, &r.to), style));
            splices.extend(insert_use(text, &items, leaf.item, &new_path, removed, style));
        }
    }
    Ok(Planned { splices, waiting })
}

mod edits;
mod globs;
mod scopes;
#[cfg(test)]
mod tests;
