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

use proc_macro2::{TokenStream, TokenTree};
use syn::{Item, UseTree};

use super::edit::{parse_checked, splice_checked, EditError, Splice};
use super::style::StyleEdition;
use crate::analysis::span_range;
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

/// An owned use tree with byte ranges in the file.
#[derive(Debug, Clone)]
enum Tree {
    Path(String, Box<Tree>),
    Name(String, std::ops::Range<usize>),
    Rename(String),
    Glob,
    Group(Vec<(std::ops::Range<usize>, Tree)>, std::ops::Range<usize>),
}

struct UseItem {
    /// From the first token to the `;`.
    range: std::ops::Range<usize>,
    tree: Tree,
    /// The scope it imports into (an index in [`Scopes`]).
    scope: usize,
}

/// A scope names resolve in: a module (the file, an inline `mod`) or a function body holding
/// `use` items of its own (a body without any is part of its module's scope).
#[derive(Debug, Default)]
struct Scope {
    parent: Option<usize>,
    /// The scopes nested right in this one.
    children: Vec<usize>,
    /// A function body (it sees its module's names; a module sees none of its parent's).
    body: bool,
    /// Identifiers that can name an import, used in this scope itself (not in a nested scope).
    idents: HashSet<String>,
    /// Names bound here: items defined, names and aliases imported.
    bound: HashSet<String>,
    /// The paths of glob imports (`crate::db` of `use crate::db::*;`): a name their module may
    /// bring in may be in scope.
    globs: Vec<Vec<String>>,
    /// `use super::*;`: the module names what its parent's imports bind.
    super_glob: bool,
}

/// The file's scopes; the first is the file's top level. And whether the file declares a
/// module in a file of its own (`mod routes;`), which may name what the file imports through
/// `use super::*;`.
#[derive(Debug)]
struct Scopes(Vec<Scope>, bool);

impl Scopes {
    fn new() -> Scopes {
        Scopes(vec![Scope::default()], false)
    }

    fn child(&mut self, parent: usize, body: bool) -> usize {
        let id = self.0.len();
        self.0.push(Scope { parent: Some(parent), body, ..Scope::default() });
        self.0[parent].children.push(id);
        id
    }

    /// Whether `name` is used bare in scope `s`, or in a nested scope that names what `s`
    /// binds (a body, a module importing `super::*`) and binds none of `own` itself (there
    /// the name is that scope's: `own` is the name, and for a twin also the name it replaces,
    /// whose `use` in that scope is fixed to bring the twin in).
    fn uses(&self, s: usize, name: &str, own: &[&str]) -> bool {
        self.0[s].idents.contains(name)
            || self.0[s].children.iter().any(|&c| {
                let scope = &self.0[c];
                (scope.body || scope.super_glob)
                    && !own.iter().any(|n| scope.bound.contains(*n))
                    && self.uses(c, name, own)
            })
    }

    /// Whether `name` is in scope in `s` (bound there, or by a glob whose module may bring it
    /// in; a body also sees its module's names).
    fn in_scope(&self, s: usize, name: &str, reaches: Reaches<'_>) -> bool {
        let scope = &self.0[s];
        scope.bound.contains(name)
            || scope.globs.iter().any(|g| reaches(g, name))
            || (scope.body && scope.parent.is_some_and(|p| self.in_scope(p, name, reaches)))
    }
}

/// Where a name is imported: the path to the leaf, as (group range, index in group) steps.
#[derive(Debug, Clone)]
struct Leaf {
    item: usize,
    /// The innermost group holding it and its index there; `None` when the item's tree is a
    /// plain path ending with it.
    group: Option<(std::ops::Range<usize>, usize)>,
    /// The name's range.
    name: std::ops::Range<usize>,
    /// When it ends a path that is an element of a group (`db::get_db` of `use
    /// crate::{db::get_db, util};`): that group and the element's index there.
    element: Option<(std::ops::Range<usize>, usize)>,
    /// The path before the name (`crate::db` of `use crate::{db::{get_db, DbRw}};`).
    prefix: Vec<String>,
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
                scopes.0.iter().any(|s| s.bound.contains(name) || s.globs.iter().any(|g| reaches(g, name)))
            };
            if r.bare && !anywhere(&r.to) && anywhere(&r.from) {
                // Named through a glob: say whose.
                let glob = scopes.0.iter().flat_map(|s| &s.globs).find(|g| reaches(g, &r.from));
                return Err(match glob {
                    Some(g) if !scopes.0.iter().any(|s| s.bound.contains(&r.from)) => {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Add,
    Remove,
    Replace,
}

/// The `use` items of `items` (in scope `scope`) and what every scope binds and names.
fn collect(src: &SourceText, items: &[Item], scope: usize, scopes: &mut Scopes, out: &mut Vec<UseItem>) {
    for item in items {
        if let Some(name) = item_name(item) {
            scopes.0[scope].bound.insert(name);
        }
        match item {
            Item::Use(u) => add_use(src, u, scope, scopes, out),
            Item::Mod(m) => match &m.content {
                Some((_, inner)) => {
                    let module = scopes.child(scope, false);
                    collect(src, inner, module, scopes, out);
                }
                None => {
                    scopes.1 = true;
                    names_in(item, scope, scopes);
                }
            },
            Item::Fn(f) => {
                names_in(&f.sig, scope, scopes);
                body(src, &f.block, scope, scopes, out);
            }
            Item::Impl(imp) => {
                names_in(&imp.self_ty, scope, scopes);
                names_in(&imp.generics, scope, scopes);
                if let Some((_, path, _)) = &imp.trait_ {
                    names_in(path, scope, scopes);
                }
                for it in &imp.items {
                    match it {
                        syn::ImplItem::Fn(f) => {
                            names_in(&f.sig, scope, scopes);
                            body(src, &f.block, scope, scopes, out);
                        }
                        other => names_in(other, scope, scopes),
                    }
                }
            }
            Item::Trait(tr) => {
                names_in(&tr.generics, scope, scopes);
                for bound in &tr.supertraits {
                    names_in(bound, scope, scopes);
                }
                for it in &tr.items {
                    match it {
                        syn::TraitItem::Fn(syn::TraitItemFn { sig, default: Some(block), .. }) => {
                            names_in(sig, scope, scopes);
                            body(src, block, scope, scopes, out);
                        }
                        other => names_in(other, scope, scopes),
                    }
                }
            }
            other => names_in(other, scope, scopes),
        }
    }
}

/// A function body: a scope of its own when it holds `use` items (where a body imports what
/// it calls: `fn h() { use crate::db::get_db; … }`, as the engine reads them), else part of
/// its module's.
fn body(src: &SourceText, block: &syn::Block, scope: usize, scopes: &mut Scopes, out: &mut Vec<UseItem>) {
    let has_use = block.stmts.iter().any(|s| matches!(s, syn::Stmt::Item(Item::Use(_))));
    if !has_use {
        names_in(block, scope, scopes);
        return;
    }
    let inner = scopes.child(scope, true);
    for stmt in &block.stmts {
        match stmt {
            syn::Stmt::Item(Item::Use(u)) => add_use(src, u, inner, scopes, out),
            other => {
                if let syn::Stmt::Item(item) = other {
                    if let Some(name) = item_name(item) {
                        scopes.0[inner].bound.insert(name);
                    }
                }
                names_in(other, inner, scopes);
            }
        }
    }
}

fn add_use(src: &SourceText, u: &syn::ItemUse, scope: usize, scopes: &mut Scopes, out: &mut Vec<UseItem>) {
    let item = use_item(src, u, scope);
    let s = &mut scopes.0[scope];
    tree_bound(&item.tree, &mut s.bound);
    tree_globs(&item.tree, &mut Vec::new(), &mut s.globs);
    s.super_glob |=
        matches!(&u.tree, UseTree::Path(p) if p.ident == "super" && matches!(*p.tree, UseTree::Glob(_)));
    out.push(item);
}

/// The identifiers of `node` that can name an import, counted for `scope`.
fn names_in(node: &impl quote::ToTokens, scope: usize, scopes: &mut Scopes) {
    idents(node.to_token_stream(), &mut scopes.0[scope].idents);
}

fn use_item(src: &SourceText, u: &syn::ItemUse, scope: usize) -> UseItem {
    let start = u.attrs.first().map(|a| a.pound_token.span).unwrap_or_else(|| match &u.vis {
        syn::Visibility::Public(p) => p.span,
        syn::Visibility::Restricted(r) => r.pub_token.span,
        syn::Visibility::Inherited => u.use_token.span,
    });
    let range =
        span_range(src, start).start.offset as usize..span_range(src, u.semi_token.span).end.offset as usize;
    UseItem { range, tree: tree(src, &u.tree), scope }
}

fn item_name(item: &Item) -> Option<String> {
    Some(
        match item {
            Item::Fn(f) => &f.sig.ident,
            Item::Mod(m) => &m.ident,
            Item::Struct(s) => &s.ident,
            Item::Enum(e) => &e.ident,
            Item::Type(t) => &t.ident,
            Item::Const(c) => &c.ident,
            Item::Static(s) => &s.ident,
            Item::Trait(t) => &t.ident,
            Item::Union(u) => &u.ident,
            _ => return None,
        }
        .to_string(),
    )
}

/// Every identifier outside `use … ;` items (macro bodies included) that can name an import:
/// not one after `::` (`crate::db::get_db`, `db::get_db`: the path's first segment is what
/// uses an import) nor after a lone `.` (a method or field, `state.get_db()`).
fn idents(tokens: TokenStream, used: &mut HashSet<String>) {
    let mut in_use = false;
    // The two punctuation characters just before the current token, nearest last (`None`
    // for anything that is not punctuation).
    let mut before: [Option<char>; 2] = [None, None];
    for token in tokens {
        let punct = match &token {
            TokenTree::Punct(p) => Some(p.as_char()),
            _ => None,
        };
        match &token {
            TokenTree::Ident(i) => {
                let name = i.to_string();
                let qualified = before == [Some(':'), Some(':')];
                let member = before[1] == Some('.') && before[0] != Some('.');
                if name == "use" {
                    in_use = true;
                } else if !in_use && !qualified && !member {
                    used.insert(name);
                }
            }
            TokenTree::Punct(p) if p.as_char() == ';' => in_use = false,
            TokenTree::Group(g) if !in_use => idents(g.stream(), used),
            _ => {}
        }
        before = [before[1], punct];
    }
}

fn bytes(src: &SourceText, span: proc_macro2::Span) -> std::ops::Range<usize> {
    span_range(src, span).bytes()
}

fn tree(src: &SourceText, t: &UseTree) -> Tree {
    match t {
        UseTree::Path(p) => Tree::Path(p.ident.to_string(), Box::new(tree(src, &p.tree))),
        UseTree::Name(n) => Tree::Name(n.ident.to_string(), bytes(src, n.ident.span())),
        UseTree::Rename(r) => Tree::Rename(r.rename.to_string()),
        UseTree::Glob(_) => Tree::Glob,
        UseTree::Group(g) => {
            let open = bytes(src, g.brace_token.span.open());
            let close = bytes(src, g.brace_token.span.close());
            let items = g.items.iter().map(|i| (tree_range(src, i), tree(src, i))).collect();
            Tree::Group(items, open.start..close.end)
        }
    }
}

fn tree_range(src: &SourceText, t: &UseTree) -> std::ops::Range<usize> {
    match t {
        UseTree::Path(p) => bytes(src, p.ident.span()).start..tree_range(src, &p.tree).end,
        UseTree::Name(n) => bytes(src, n.ident.span()),
        UseTree::Rename(r) => bytes(src, r.ident.span()).start..bytes(src, r.rename.span()).end,
        UseTree::Glob(g) => bytes(src, g.star_token.spans[0]),
        UseTree::Group(g) => {
            bytes(src, g.brace_token.span.open()).start..bytes(src, g.brace_token.span.close()).end
        }
    }
}

/// The paths of the globs of a use tree (`crate::db` of `crate::{db::*, util}`).
fn tree_globs(t: &Tree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match t {
        Tree::Glob => out.push(prefix.clone()),
        Tree::Path(segment, inner) => {
            prefix.push(segment.clone());
            tree_globs(inner, prefix, out);
            prefix.pop();
        }
        Tree::Group(items, _) => items.iter().for_each(|(_, t)| tree_globs(t, prefix, out)),
        Tree::Name(..) | Tree::Rename(_) => {}
    }
}

/// The names a use tree binds: its leaves' names and its aliases.
fn tree_bound(t: &Tree, out: &mut HashSet<String>) {
    match t {
        Tree::Name(name, _) => {
            out.insert(name.clone());
        }
        Tree::Rename(alias) => {
            out.insert(alias.clone());
        }
        Tree::Path(_, inner) => tree_bound(inner, out),
        Tree::Group(items, _) => items.iter().for_each(|(_, t)| tree_bound(t, out)),
        Tree::Glob => {}
    }
}

fn find_leaves(items: &[UseItem], name: &str) -> Vec<Leaf> {
    /// Where the walk is: the item, the path so far, the group of a direct element.
    struct At<'p> {
        item: usize,
        prefix: &'p [String],
        group: Option<(std::ops::Range<usize>, usize)>,
        element: Option<(std::ops::Range<usize>, usize)>,
    }
    fn walk(t: &Tree, name: &str, at: At<'_>, out: &mut Vec<Leaf>) {
        match t {
            Tree::Name(n, range) if n == name => out.push(Leaf {
                item: at.item,
                group: at.group,
                name: range.clone(),
                prefix: at.prefix.to_vec(),
                element: at.element,
            }),
            Tree::Path(segment, inner) => {
                let prefix: Vec<String> = at.prefix.iter().cloned().chain([segment.clone()]).collect();
                walk(inner, name, At { prefix: &prefix, ..at }, out);
            }
            Tree::Group(elems, range) => {
                for (i, (_, e)) in elems.iter().enumerate() {
                    // Only a direct element is "in" this group; deeper ones are in their own.
                    let group = matches!(e, Tree::Name(..)).then(|| (range.clone(), i));
                    let element = matches!(e, Tree::Path(..)).then(|| (range.clone(), i));
                    walk(e, name, At { item: at.item, prefix: at.prefix, group, element }, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        walk(&item.tree, name, At { item: i, prefix: &[], group: None, element: None }, &mut out);
    }
    out
}

/// The splices that add `use {path};` on a line of its own to the run of `use` items (one per
/// line, in one scope) holding `items[at]`, where rustfmt orders it, indented like that item;
/// with `removed`, the splice that takes the old name out of that run this round. When the
/// new line goes where a removed item was, it takes that item's lines.
fn insert_use(
    text: &str,
    items: &[UseItem],
    at: usize,
    path: &str,
    removed: Option<Splice>,
    style: StyleEdition,
) -> Vec<Splice> {
    let item = &items[at];
    if !alone(text, item) {
        // Sharing its line with other code (`fn h() { use a::B; … }`): the new `use` goes
        // right before it.
        let mut out: Vec<Splice> = removed.into_iter().collect();
        out.push(Splice { range: item.range.start..item.range.start, text: format!("use {path}; ") });
        return out;
    }
    let own_line = |i: &UseItem| line_start(text, i.range.start)..line_end(text, i.range.end);
    // The run: neighbours of the same scope, each on the line right after the one before.
    let (mut first, mut last) = (at, at);
    let joined = |a: &UseItem, b: &UseItem| {
        a.scope == b.scope && alone(text, a) && alone(text, b) && own_line(a).end == own_line(b).start
    };
    while first > 0 && joined(&items[first - 1], &items[first]) {
        first -= 1;
    }
    while last + 1 < items.len() && joined(&items[last], &items[last + 1]) {
        last += 1;
    }
    // A removed whole item (its splice covers it) is not a neighbour to sort against.
    let gone = |i: &UseItem| {
        removed.as_ref().is_some_and(|r| {
            r.text.is_empty() && r.range.start <= i.range.start && i.range.end <= r.range.end
        })
    };
    let key = |i: &UseItem| use_path_text(&text[i.range.clone()]);
    let place = (first..=last)
        .filter(|&j| !gone(&items[j]))
        .find(|&j| compare_use_paths(&key(&items[j]), path, style) == std::cmp::Ordering::Greater);
    let indent: String = {
        let start = line_start(text, item.range.start);
        let before = &text[start..item.range.start];
        if before.trim().is_empty() {
            before.to_string()
        } else {
            String::new()
        }
    };
    let line = format!("{indent}use {path};\n");
    let point = match place {
        Some(j) => line_start(text, items[j].range.start),
        None => own_line(&items[last]).end,
    };
    match removed {
        // The new line goes where the removed item was: it takes that item's lines.
        Some(r)
            if r.text.is_empty()
                && gone(item)
                && own_line(item).start <= point
                && point <= own_line(item).end =>
        {
            vec![Splice { range: own_line(item), text: line }]
        }
        Some(r) => {
            // A removal that spans the insertion point would overlap it: insert after it.
            let point = if r.range.start < point && point < r.range.end { r.range.end } else { point };
            vec![r, Splice { range: point..point, text: line }]
        }
        None => vec![Splice { range: point..point, text: line }],
    }
}

/// Whether a `use` item has its lines to itself (only blanks before it and after it there).
fn alone(text: &str, item: &UseItem) -> bool {
    text[line_start(text, item.range.start)..item.range.start].trim().is_empty()
        && text[item.range.end..line_end(text, item.range.end)].trim().is_empty()
}

/// The path of a `use` item's text (`crate::db::X` of `pub use crate::db::X;`).
fn use_path_text(item: &str) -> String {
    let after = item.find("use ").map_or(item, |i| &item[i + 4..]);
    after.trim_end_matches(';').trim().to_string()
}

/// rustfmt's order of two `use` paths: `self`, `super`, `crate` first, then the style
/// edition's order.
fn compare_use_paths(a: &str, b: &str, style: StyleEdition) -> std::cmp::Ordering {
    let rank = |p: &str| match p.split("::").next().unwrap_or("").trim_start_matches("::") {
        "self" => 0,
        "super" => 1,
        "crate" => 2,
        _ => 3,
    };
    rank(a).cmp(&rank(b)).then_with(|| style.compare(a, b))
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

fn change(
    text: &str,
    item: &UseItem,
    leaf: &Leaf,
    action: Action,
    names: (&str, &str),
    style: StyleEdition,
) -> Splice {
    let (from, to) = names;
    // A path element of a group (`db::get_db` of `crate::{db::get_db, util}`) is renamed or
    // grouped in place like a plain path, but removed from its group.
    let element = leaf.element.as_ref().filter(|_| action == Action::Remove);
    let Some((group, _)) = leaf.group.as_ref().or(element) else {
        // `use a::b::from;`
        return match action {
            Action::Replace => Splice { range: leaf.name.clone(), text: to.to_string() },
            Action::Add => {
                let mut names = [from.to_string(), to.to_string()];
                style.sort(&mut names);
                Splice { range: leaf.name.clone(), text: format!("{{{}}}", names.join(", ")) }
            }
            Action::Remove => remove_item(text, item),
        };
    };
    // In a group: the group's direct elements as text.
    let inner = &text[group.start + 1..group.end - 1];
    let multiline = inner.contains('\n');
    let mut elems: Vec<String> = split_top(inner);
    // rustfmt's vertical layout (`imports_layout = "Vertical"`): one element per line.
    let vertical = multiline && inner.lines().all(|l| split_top(l).len() <= 1);
    let pos = match element {
        Some((_, index)) => Some(*index).filter(|&i| i < elems.len()),
        None => elems.iter().position(|e| e == from),
    };
    match action {
        Action::Add => elems.push(to.to_string()),
        Action::Remove => {
            if let Some(p) = pos {
                elems.remove(p);
            }
        }
        Action::Replace => {
            if let Some(p) = pos {
                elems[p] = to.to_string();
            }
        }
    }
    style.sort(&mut elems);
    if elems.is_empty() {
        return remove_item(text, item);
    }
    let body = if elems.len() == 1 && !elems[0].starts_with("self") {
        elems[0].clone()
    } else if multiline {
        let indent: String = inner.trim_start_matches('\n').chars().take_while(|c| *c == ' ').collect();
        let close_indent: String = text[line_start(text, group.end - 1)..group.end - 1].to_string();
        // Keep rustfmt's mixed layout: names on shared lines as far as they were.
        let mut lines: Vec<String> = Vec::new();
        let mut current = String::new();
        for e in &elems {
            if e.contains('{') || vertical {
                if !current.is_empty() {
                    lines.push(std::mem::take(&mut current));
                }
                lines.push(e.clone());
            } else if current.is_empty() {
                current = e.clone();
            } else {
                current.push_str(", ");
                current.push_str(e);
            }
        }
        if !current.is_empty() {
            lines.push(current);
        }
        let mut out = String::from("{\n");
        for l in lines {
            out.push_str(&indent);
            out.push_str(&l);
            out.push_str(",\n");
        }
        out.push_str(&close_indent);
        out.push('}');
        out
    } else {
        format!("{{{}}}", elems.join(", "))
    };
    // The whole group, braces included (they go when one name is left).
    Splice { range: group.clone(), text: body }
}

/// The top-level comma-separated elements of a group's inside, trimmed.
fn split_top(inner: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in inner.chars() {
        match c {
            '{' => {
                depth += 1;
                cur.push(c);
            }
            '}' => {
                depth -= 1;
                cur.push(c);
            }
            ',' if depth == 0 => {
                out.push(collapse(&cur));
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(collapse(&cur));
    }
    out.retain(|e| !e.is_empty());
    out
}

fn collapse(s: &str) -> String {
    s.trim().to_string()
}

/// Removes a whole `use` item with its line, and a blank line that would be left doubled.
fn remove_item(text: &str, item: &UseItem) -> Splice {
    let start = line_start(text, item.range.start);
    let end = line_end(text, item.range.end);
    let alone =
        text[start..item.range.start].trim().is_empty() && text[item.range.end..end].trim().is_empty();
    if !alone {
        let mut e = item.range.end;
        while text[e..].starts_with(' ') {
            e += 1;
        }
        return Splice { range: item.range.start..e, text: String::new() };
    }
    let blank_before = start == 0 || text[..start].ends_with("\n\n");
    let blank_after = text[end..].starts_with('\n') || text[end..].starts_with("\r\n");
    let end = if blank_before && blank_after { line_end(text, end) } else { end };
    Splice { range: start..end, text: String::new() }
}

mod globs;
#[cfg(test)]
mod tests;
