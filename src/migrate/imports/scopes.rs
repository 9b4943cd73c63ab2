//! What a file's `use` items are and what each of its scopes binds and names: the file's
//! top level, its inline modules, and function bodies holding `use` items of their own
//! ([`Scopes`]), read from the syntax tree into owned values with byte ranges (no span kept).
//! Decides nothing about a rename: [`super::plan`] does.

use std::collections::HashSet;

use proc_macro2::{TokenStream, TokenTree};
use syn::{Item, UseTree};

use super::Reaches;
use crate::analysis::span_range;
use crate::source::SourceText;

/// An owned use tree with byte ranges in the file.
#[derive(Debug, Clone)]
pub(super) enum Tree {
    Path(String, Box<Tree>),
    Name(String, std::ops::Range<usize>),
    Rename(String),
    Glob,
    Group(Vec<(std::ops::Range<usize>, Tree)>, std::ops::Range<usize>),
}

pub(super) struct UseItem {
    /// From the first token to the `;`.
    pub(super) range: std::ops::Range<usize>,
    pub(super) tree: Tree,
    /// The scope it imports into (an index in [`Scopes`]).
    pub(super) scope: usize,
}

/// A scope names resolve in: a module (the file, an inline `mod`) or a function body holding
/// `use` items of its own (a body without any is part of its module's scope).
#[derive(Debug, Default)]
pub(super) struct Scope {
    pub(super) parent: Option<usize>,
    /// The scopes nested right in this one.
    pub(super) children: Vec<usize>,
    /// A function body (it sees its module's names; a module sees none of its parent's).
    pub(super) body: bool,
    /// Identifiers that can name an import, used in this scope itself (not in a nested scope).
    pub(super) idents: HashSet<String>,
    /// Names bound here: items defined, names and aliases imported.
    pub(super) bound: HashSet<String>,
    /// The paths of glob imports (`crate::db` of `use crate::db::*;`): a name their module may
    /// bring in may be in scope.
    pub(super) globs: Vec<Vec<String>>,
    /// `use super::*;`: the module names what its parent's imports bind.
    pub(super) super_glob: bool,
}

/// The file's scopes; the first is the file's top level. And whether the file declares a
/// module in a file of its own (`mod routes;`), which may name what the file imports through
/// `use super::*;`.
#[derive(Debug)]
pub(super) struct Scopes {
    /// The scopes; the first is the file's top level.
    pub(super) all: Vec<Scope>,
    /// Whether the file declares a module in a file of its own (`mod routes;`).
    pub(super) file_modules: bool,
}

impl Scopes {
    pub(super) fn new() -> Scopes {
        Scopes { all: vec![Scope::default()], file_modules: false }
    }

    fn child(&mut self, parent: usize, body: bool) -> usize {
        let id = self.all.len();
        self.all.push(Scope { parent: Some(parent), body, ..Scope::default() });
        self.all[parent].children.push(id);
        id
    }

    /// Whether `name` is used bare in scope `s`, or in a nested scope that names what `s`
    /// binds (a body, a module importing `super::*`) and binds none of `own` itself (there
    /// the name is that scope's: `own` is the name, and for a twin also the name it replaces,
    /// whose `use` in that scope is fixed to bring the twin in).
    pub(super) fn uses(&self, s: usize, name: &str, own: &[&str]) -> bool {
        self.all[s].idents.contains(name)
            || self.all[s].children.iter().any(|&c| {
                let scope = &self.all[c];
                (scope.body || scope.super_glob)
                    && !own.iter().any(|n| scope.bound.contains(*n))
                    && self.uses(c, name, own)
            })
    }

    /// Whether `name` is in scope in `s` (bound there, or by a glob whose module may bring it
    /// in; a body also sees its module's names).
    pub(super) fn in_scope(&self, s: usize, name: &str, reaches: Reaches<'_>) -> bool {
        let scope = &self.all[s];
        scope.bound.contains(name)
            || scope.globs.iter().any(|g| reaches(g, name))
            || (scope.body && scope.parent.is_some_and(|p| self.in_scope(p, name, reaches)))
    }
}

/// Where a name is imported: the path to the leaf, as (group range, index in group) steps.
#[derive(Debug, Clone)]
pub(super) struct Leaf {
    pub(super) item: usize,
    /// The innermost group holding it and its index there; `None` when the item's tree is a
    /// plain path ending with it.
    pub(super) group: Option<(std::ops::Range<usize>, usize)>,
    /// The name's range.
    pub(super) name: std::ops::Range<usize>,
    /// When it ends a path that is an element of a group (`db::get_db` of `use
    /// crate::{db::get_db, util};`): that group and the element's index there.
    pub(super) element: Option<(std::ops::Range<usize>, usize)>,
    /// The path before the name (`crate::db` of `use crate::{db::{get_db, DbRw}};`).
    pub(super) prefix: Vec<String>,
}

/// The `use` items of `items` (in scope `scope`) and what every scope binds and names.
pub(super) fn collect(
    src: &SourceText,
    items: &[Item],
    scope: usize,
    scopes: &mut Scopes,
    out: &mut Vec<UseItem>,
) {
    for item in items {
        if let Some(name) = item_name(item) {
            scopes.all[scope].bound.insert(name);
        }
        match item {
            Item::Use(u) => add_use(src, u, scope, scopes, out),
            Item::Mod(m) => match &m.content {
                Some((_, inner)) => {
                    let module = scopes.child(scope, false);
                    collect(src, inner, module, scopes, out);
                }
                None => {
                    scopes.file_modules = true;
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
                        scopes.all[inner].bound.insert(name);
                    }
                }
                names_in(other, inner, scopes);
            }
        }
    }
}

fn add_use(src: &SourceText, u: &syn::ItemUse, scope: usize, scopes: &mut Scopes, out: &mut Vec<UseItem>) {
    let item = use_item(src, u, scope);
    let s = &mut scopes.all[scope];
    tree_bound(&item.tree, &mut s.bound);
    tree_globs(&item.tree, &mut Vec::new(), &mut s.globs);
    s.super_glob |=
        matches!(&u.tree, UseTree::Path(p) if p.ident == "super" && matches!(*p.tree, UseTree::Glob(_)));
    out.push(item);
}

/// The identifiers of `node` that can name an import, counted for `scope`.
fn names_in(node: &impl quote::ToTokens, scope: usize, scopes: &mut Scopes) {
    idents(node.to_token_stream(), &mut scopes.all[scope].idents);
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

pub(super) fn find_leaves(items: &[UseItem], name: &str) -> Vec<Leaf> {
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
