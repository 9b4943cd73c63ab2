//! From every file's routes to the tree's GET handlers, with the GET-only rule.
//!
//! Each registration's handler is resolved ([`super::resolve`]); attribute routes belong to
//! their function already. The routes are grouped by what they reach — a function, a closure,
//! or an unresolved reference — and only what some route serves GET (or HEAD) is kept: a
//! function no GET request can reach is not a GET handler and is not listed. A function is
//! [`RouteClass::GetOnly`] when every route reaching it serves GET or HEAD and nothing else;
//! any route with another method, or with every method, makes it
//! [`RouteClass::NotGetOnly`]. A reference that resolves to no function of the tree is
//! [`RouteClass::Unresolved`] — except a method-less mount's (which takes services and
//! routers too), dropped instead. A registration whose bare callee no import placed
//! ([`super::Registration::unplaced_callee`]) is dropped when that name is a function of the
//! tree.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rayon::prelude::*;

use super::facts::{FileRoutes, FnDef, Framework, HandlerRef, MethodSet};
use super::resolve::{RefScope, TreeIndex};
use crate::source::TextRange;
use crate::workspace::crates::CrateGraph;

/// A function of the tree, as later stages need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnId {
    /// Its file, as walked.
    pub file: PathBuf,
    /// Its module path from the crate root.
    pub module: Vec<String>,
    /// The `impl` self type or trait of a method.
    pub owner: Option<String>,
    /// Its name.
    pub name: String,
    /// The name token.
    pub name_range: TextRange,
    /// Attributes through the closing brace.
    pub item: TextRange,
    /// The signature, `async`/`fn` through the return type or `where` clause.
    pub signature: TextRange,
    /// The body, braces included.
    pub body: TextRange,
}

/// A closure given to a route in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosureId {
    /// Its file, as walked.
    pub file: PathBuf,
    /// The module it is written in.
    pub module: Vec<String>,
    /// The function whose body holds it.
    pub enclosing: Option<String>,
    /// The whole closure.
    pub range: TextRange,
    /// Its body.
    pub body: TextRange,
}

/// What a group of routes reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandlerTarget {
    /// A function of the tree.
    Fn(FnId),
    /// A closure.
    Closure(ClosureId),
    /// A reference that names no function of the tree, as written where it was found.
    Unresolved {
        /// The file of (the first of) the routes naming it.
        file: PathBuf,
        /// The module it is written in.
        module: Vec<String>,
        /// As written.
        reference: String,
    },
}

/// One route reaching a handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteRef {
    /// The methods it serves.
    pub methods: MethodSet,
    /// Its path, when written as a literal next to the registration or in the attribute.
    pub path: Option<String>,
    /// Where it is declared: the file …
    pub file: PathBuf,
    /// … line (of the registering token or of the attribute) …
    pub line: u32,
    /// … and column (characters, 1-based).
    pub column: u32,
    /// Whose form it is.
    pub framework: Framework,
    /// Declared by an attribute on the function (`#[get("/x")]`) rather than registered by
    /// router-building code.
    pub attribute: bool,
}

/// What the routes reaching a handler allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteClass {
    /// Every route serves GET or HEAD only: a candidate for the read-only accessor.
    GetOnly,
    /// Some route serves another method, or every method: listed, never rewritten.
    NotGetOnly,
    /// The reference names no function of the tree: listed, never rewritten. Says which path
    /// could not be resolved and why (`` `x::f`: crate `x` has no function `f` ``).
    Unresolved(String),
}

/// A function (or closure, or unresolved reference) some GET route reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handler {
    /// What the routes reach.
    pub target: HandlerTarget,
    /// Every route reaching it, in file and source order.
    pub routes: Vec<RouteRef>,
    /// The GET-only verdict.
    pub class: RouteClass,
}

impl Handler {
    /// The function, for a resolved one.
    pub fn function(&self) -> Option<&FnId> {
        match &self.target {
            HandlerTarget::Fn(f) => Some(f),
            _ => None,
        }
    }
}

/// Groups of routes, by what they reach.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Fn(usize, usize),
    Closure(usize, usize),
    /// (file, module, reference as written, why it resolves to nothing).
    Unresolved(usize, Vec<String>, String, String),
}

/// The GET handlers of a tree: every file's routes resolved and classified, sorted by file
/// and line. The order of `files` does not matter.
pub fn discover(files: &[FileRoutes]) -> Vec<Handler> {
    let files: Vec<&FileRoutes> = files.iter().collect();
    discover_in(&files, &CrateGraph::default())
}

/// [`discover`], with `crates` naming the sibling crates a path may go into
/// (`acme_store::list` into the package `acme-store`, whatever its directory).
pub fn discover_in(files: &[&FileRoutes], crates: &CrateGraph) -> Vec<Handler> {
    let index = TreeIndex::new(files, crates);
    // Each file's routes resolved on the pool, then grouped in file order.
    let found: Vec<Vec<(Key, RouteRef)>> =
        files.par_iter().enumerate().map(|(fi, file)| routes_of(&index, fi, file)).collect();
    let mut groups: BTreeMap<Key, Vec<RouteRef>> = BTreeMap::new();
    for (key, route) in found.into_iter().flatten() {
        groups.entry(key).or_default().push(route);
    }

    let mut handlers: Vec<Handler> = groups
        .into_iter()
        .filter(|(_, routes)| routes.iter().any(|r| r.methods.serves_get()))
        .filter_map(|(key, mut routes)| {
            routes.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
            let get_only = routes.iter().filter(|r| !r.methods.is_empty()).all(|r| r.methods.is_get_only());
            let class = if get_only { RouteClass::GetOnly } else { RouteClass::NotGetOnly };
            let (target, class) = match key {
                Key::Fn(fi, i) => (HandlerTarget::Fn(fn_id(files[fi], &files[fi].functions[i])), class),
                Key::Closure(fi, ri) => {
                    let file = &files[fi];
                    let reg = &file.registrations[ri];
                    let HandlerRef::Closure { range, body } = reg.handler else { return None };
                    let enclosing = reg.within.map(|w| file.functions[w].name.clone());
                    let id = ClosureId {
                        file: file.file.clone(),
                        module: reg.module.to_vec(),
                        enclosing,
                        range,
                        body,
                    };
                    (HandlerTarget::Closure(id), class)
                }
                Key::Unresolved(fi, module, reference, why) => (
                    HandlerTarget::Unresolved { file: files[fi].file.clone(), module, reference },
                    RouteClass::Unresolved(why),
                ),
            };
            Some(Handler { target, routes, class })
        })
        .collect();
    // Every kept handler has a route (one serving GET).
    handlers
        .sort_by(|a, b| (&a.routes[0].file, a.routes[0].line).cmp(&(&b.routes[0].file, b.routes[0].line)));
    handlers
}

/// The routes of file `fi` (attributes, then registrations, in source order), each with what
/// it reaches.
fn routes_of(index: &TreeIndex<'_>, fi: usize, file: &FileRoutes) -> Vec<(Key, RouteRef)> {
    let mut found = Vec::new();
    for (i, f) in file.functions.iter().enumerate() {
        for attr in &f.attr_routes {
            let Some(methods) = attr.methods else { continue };
            found.push((
                Key::Fn(fi, i),
                RouteRef {
                    methods,
                    path: attr.path.clone(),
                    file: file.file.clone(),
                    line: attr.line,
                    column: attr.column,
                    framework: attr.framework,
                    attribute: true,
                },
            ));
        }
    }
    for (ri, reg) in file.registrations.iter().enumerate() {
        let scope =
            RefScope { file: fi, module: &reg.module, within: reg.within, owner: reg.owner.as_deref() };
        if let Some(callee) = &reg.unplaced_callee {
            if index.resolve(std::slice::from_ref(callee), scope).is_some() {
                // `get` is the crate's own function: not a route.
                continue;
            }
        }
        let key = match &reg.handler {
            HandlerRef::Path { segments, text } => match index.resolve(segments, scope) {
                Some((f, i)) => Key::Fn(f, i),
                None if reg.requires_fn => continue,
                None => {
                    let why = index.why_unresolved(segments, text, scope);
                    Key::Unresolved(fi, reg.module.to_vec(), text.clone(), why)
                }
            },
            HandlerRef::Closure { .. } => Key::Closure(fi, ri),
            HandlerRef::Opaque { .. } if reg.requires_fn => continue,
            HandlerRef::Opaque { text } => {
                let why = format!("`{text}`: a local value or parameter, not a function");
                Key::Unresolved(fi, reg.module.to_vec(), text.clone(), why)
            }
        };
        found.push((
            key,
            RouteRef {
                methods: reg.methods,
                path: reg.path.clone(),
                file: file.file.clone(),
                line: reg.at.start.line,
                column: reg.at.start.column,
                framework: reg.framework,
                attribute: false,
            },
        ));
    }
    found
}

fn fn_id(file: &FileRoutes, f: &FnDef) -> FnId {
    FnId {
        file: file.file.clone(),
        module: f.module.to_vec(),
        owner: f.owner.clone(),
        name: f.name.clone(),
        name_range: f.name_range,
        item: f.item,
        signature: f.signature,
        body: f.body,
    }
}
