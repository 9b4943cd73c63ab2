//! Which functions of the tree a call may run: by the receiver's type, by path through crates
//! and modules, never by a bare name shared by unrelated types.
//!
//! A method on a receiver of a tree type runs that type's methods or its traits' default
//! bodies; on a trait-typed receiver (a generic bound, `dyn`, `Self` in a trait default), every
//! implementation. A receiver outside the tree runs no tree body. An unknown receiver runs a
//! tree method only when it is the only method of that name with a fitting arity; otherwise the
//! call is *unresolved* and says why. Pure lookups; never judges what writes.

use std::sync::Arc;

use crate::analysis::facts::{SinkKind, TypeRef};
use crate::writers::{FnId, TreeFn};

use super::crates::CrateGraph;
use super::fns::TreeFns;
use super::imports::{Imports, ModuleKey, MAX_DEPTH};
use super::symbols::{Symbols, Ty};

/// What a call resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// No function of the tree: judged by the rule set's tables.
    External,
    /// These functions of the tree (several: a trait's implementations, or an unqualified
    /// free function defined in several modules).
    Tree(Vec<FnId>),
    /// Functions of the tree have that name, but which one cannot be told.
    Unresolved(String),
}

/// The tree a call is resolved in.
#[derive(Debug, Clone, Copy)]
pub struct CallScope<'a> {
    /// Every function.
    pub fns: &'a TreeFns,
    /// Their index.
    pub symbols: &'a Symbols,
    /// The crates.
    pub crates: &'a CrateGraph,
    /// The imports.
    pub imports: &'a Imports,
}

impl CallScope<'_> {
    /// The functions a call sink of `caller` may run.
    pub fn resolve(&self, caller: FnId, call: &SinkKind) -> Resolved {
        self.resolve_typing(caller, call, &mut |t| self.type_of(caller, t))
    }

    /// As [`CallScope::resolve`], for calls of one function `caller` that remember the types of
    /// their receivers in `typed`.
    pub fn resolve_typed<'k>(&self, caller: FnId, call: &'k SinkKind, typed: &mut Typed<'k>) -> Resolved {
        let receiver = match call {
            SinkKind::Call { receiver: Some(receiver), .. } => receiver,
            _ => return self.resolve(caller, call),
        };
        self.resolve_typing(caller, call, &mut |_| typed.ty(receiver, || self.type_of(caller, receiver)))
    }

    /// As [`CallScope::resolve`], a method's receiver typed by `type_of`.
    fn resolve_typing(
        &self,
        caller: FnId,
        call: &SinkKind,
        type_of: &mut dyn FnMut(&Arc<TypeRef>) -> Ty,
    ) -> Resolved {
        let SinkKind::Call { callee, method, builder, args, receiver, .. } = call else {
            return Resolved::External;
        };
        if builder.is_some() {
            // An ORM executor (`.execute(conn)` on `diesel::update(…)`), not a function of the tree.
            return Resolved::External;
        }
        let Some((name, qualifiers)) = callee.split_last() else { return Resolved::External };
        if *method {
            let ty = receiver.as_ref().map_or(Ty::Unknown, type_of);
            return self.method(name, &ty, *args);
        }
        self.path(caller, name, qualifiers)
    }

    fn method(&self, name: &str, ty: &Ty, args: usize) -> Resolved {
        match ty {
            // A type outside the tree runs no tree body, but for a blanket implementation
            // (`impl<T: Executor> DbExt for T`) of the tree.
            Ty::Outside => tree_or_external(self.symbols.blanket(name).to_vec()),
            Ty::Tree(t) => {
                let found = self.symbols.methods_of(ty, name);
                if found.is_empty() && !self.symbols.named(name).is_empty() {
                    return Resolved::Unresolved(format!(
                        "no method `{name}` of the tree's type `{t}` is known"
                    ));
                }
                tree_or_external(found)
            }
            Ty::Traits(_) => tree_or_external(self.symbols.methods_of(ty, name)),
            Ty::Unknown => {
                let fits = self.methods_fitting(name, args);
                match fits.as_slice() {
                    [] => Resolved::External,
                    [one] => Resolved::Tree(vec![*one]),
                    many => Resolved::Unresolved(format!(
                        "the receiver's type is not known and {} methods of the tree are named `{name}`",
                        many.len()
                    )),
                }
            }
        }
    }

    /// The methods of the tree named `name` that take `args` arguments besides `self`: what
    /// a method call on a receiver of unknown type may run.
    pub fn methods_fitting(&self, name: &str, args: usize) -> Vec<FnId> {
        let fits = |&id: &FnId| {
            let f = &self.fns[id].facts;
            f.owner.is_some() && f.sig.has_self && f.sig.arity == args + 1
        };
        self.symbols.named(name).iter().copied().filter(fits).collect()
    }

    fn path(&self, caller: FnId, name: &str, qualifiers: &[String]) -> Resolved {
        let from = &self.fns[caller];
        let syms = self.symbols;
        let free = || syms.named(name).iter().copied().filter(|&id| self.fns[id].facts.owner.is_none());
        let qualifier = qualifiers.iter().rev().find(|q| !matches!(q.as_str(), "crate" | "super" | "self"));
        let by_type = qualifier.is_some_and(|q| q.starts_with(char::is_uppercase));
        if !by_type {
            let found = self.through_modules(caller, name, qualifiers);
            if !found.is_empty() {
                return Resolved::Tree(found);
            }
        }
        match qualifier.map(String::as_str) {
            Some("Self") => {
                let ty = self.type_of(caller, &TypeRef::Named(["Self".to_string()].into()));
                tree_or_external(syms.methods_of(&ty, name))
            }
            Some(q) if q.starts_with(char::is_uppercase) => {
                // `C::op(..)` on a type parameter: every implementation of its bounds.
                if let Some((_, bounds)) = from.facts.sig.generics.iter().find(|(g, _)| g == q) {
                    let traits: Vec<String> = bounds.iter().filter(|b| syms.is_trait(b)).cloned().collect();
                    return tree_or_external(syms.methods_of(&Ty::Traits(traits), name));
                }
                if !syms.declares(q) {
                    return Resolved::External;
                }
                let ty =
                    if syms.is_trait(q) { Ty::Traits(vec![q.to_string()]) } else { Ty::Tree(q.to_string()) };
                tree_or_external(syms.methods_of(&ty, name))
            }
            Some(last) => {
                // No module the path names holds it (a re-export or a module not seen): a
                // function of that name in the crate the path starts with, else in a module
                // named like the last qualifier.
                let first = qualifiers.first().map(String::as_str).unwrap_or("");
                match self.crates.named(from.krate, first).filter(|&c| Some(c) != from.krate) {
                    Some(other) => {
                        tree_or_external(free().filter(|&id| self.fns[id].krate == Some(other)).collect())
                    }
                    None => tree_or_external(
                        free().filter(|&id| self.fns[id].module.last().is_some_and(|m| m == last)).collect(),
                    ),
                }
            }
            None => {
                let all: Vec<FnId> = free().collect();
                let local: Vec<FnId> = all
                    .iter()
                    .copied()
                    .filter(|&id| self.fns[id].file == from.file && self.fns[id].module == from.module)
                    .collect();
                tree_or_external(if local.is_empty() { all } else { local })
            }
        }
    }
}

impl CallScope<'_> {
    /// What `t` is, seen from `caller`, its imports telling std and other crates' types apart
    /// from the tree's.
    pub fn type_of(&self, caller: FnId, t: &TypeRef) -> Ty {
        self.symbols.type_of(self.fns, caller, t, &|id, f, path| self.names_outside(id, f, path))
    }

    /// Whether `path`, written in function `id` (`f`), names something of another crate that
    /// is not the tree's (`std::process::Command`, or `Command` imported from `tokio::process`).
    fn names_outside(&self, id: FnId, f: &TreeFn, path: &[String]) -> bool {
        // Borrowed: asked for every type a receiver is resolved with.
        let written: &[String] = match path {
            [one] => match self.imports.named_for(id, f, one) {
                Some(import) => &import.path,
                None => return false,
            },
            more => more,
        };
        let Some(first) = written.first().map(String::as_str) else { return false };
        if written.len() < 2 || matches!(first, "crate" | "self" | "super" | "Self") {
            return false;
        }
        self.crates.named(f.krate, first).is_none() && !self.symbols.has_module(first)
    }

    /// The free functions a path names through modules, imports, re-exports and crates.
    fn through_modules(&self, caller: FnId, name: &str, qualifiers: &[String]) -> Vec<FnId> {
        let from = &self.fns[caller];
        let here: ModuleKey = (from.krate, from.module.to_vec());
        if qualifiers.is_empty() {
            // The module's own, then a `use` of the name, then its globs.
            let own = self.fns_at(&here, name, &mut Visited::default());
            if !own.is_empty() {
                return own;
            }
            return self.imported(&here, name, &mut Visited::default());
        }
        let written = [qualifiers, &[name.to_string()]].concat();
        match self.imports.absolute(self.crates, &here, &written) {
            Some((krate, mut segments)) => {
                segments.pop();
                self.fns_at(&(krate, segments), name, &mut Visited::default())
            }
            None => Vec::new(),
        }
    }

    /// Free functions `name` of `module`, or what its imports (`pub use`, globs) make `name`.
    fn fns_at(&self, module: &ModuleKey, name: &str, visited: &mut Visited) -> Vec<FnId> {
        let direct: Vec<FnId> = self
            .symbols
            .named(name)
            .iter()
            .copied()
            .filter(|&id| {
                let f = &self.fns[id];
                f.facts.owner.is_none() && f.krate == module.0 && *f.module == *module.1
            })
            .collect();
        // Each (module, name) is looked into once: globs that import each other end here.
        if !direct.is_empty()
            || visited.len() >= MAX_DEPTH * 8
            || !visited.insert((module.clone(), name.to_string()))
        {
            return direct;
        }
        self.imported(module, name, visited)
    }

    /// What the imports of `module` make `name`: a `use` of it, else its globs.
    fn imported(&self, module: &ModuleKey, name: &str, visited: &mut Visited) -> Vec<FnId> {
        if let Some(import) = self.imports.named(module, name) {
            if let Some((krate, mut segments)) = self.imports.absolute(self.crates, module, &import.path) {
                let last = segments.pop().unwrap_or_default();
                return self.fns_at(&(krate, segments), &last, visited);
            }
        }
        let mut found = Vec::new();
        for glob in self.imports.of(module).iter().filter(|i| i.glob) {
            if let Some(target) = self.imports.absolute(self.crates, module, &glob.path) {
                found.extend(self.fns_at(&target, name, visited));
            }
        }
        found
    }
}

/// The calls of one function answered so far, so that a call is resolved once: a call given
/// several handles has a sink per handle, and a function may repeat a call (`Repo::new(db)`).
/// Only the argument position may differ between two sinks of one call, and it is not asked.
#[derive(Debug, Default)]
pub struct Answered<'k> {
    seen: Vec<(&'k SinkKind, Resolved)>,
}

impl<'k> Answered<'k> {
    /// How many answers one function keeps (the rest are resolved each time).
    const KEPT: usize = 32;

    /// What `call` resolves to: the answer for the same call if there was one, else
    /// `resolve()`'s (kept).
    pub fn answer(&mut self, call: &'k SinkKind, resolve: impl FnOnce() -> Resolved) -> Resolved {
        if !matches!(call, SinkKind::Call { .. }) {
            return resolve();
        }
        if let Some((_, known)) = self.seen.iter().rev().find(|(seen, _)| same_call(seen, call)) {
            return known.clone();
        }
        let resolved = resolve();
        if self.seen.len() < Self::KEPT {
            self.seen.push((call, resolved.clone()));
        }
        resolved
    }
}

/// The types of the receivers one function's calls have typed so far (`peer.load(db)`,
/// `peer.save(db)`): a file's analysis shares one receiver type among its calls
/// ([`crate::analysis::facts::shared_type`]), so each is known by where it is.
#[derive(Debug, Default)]
pub struct Typed<'k> {
    known: Vec<(&'k Arc<TypeRef>, Ty)>,
}

impl<'k> Typed<'k> {
    /// How many types one function keeps (the rest are typed each time).
    const KEPT: usize = 32;

    /// The type of `receiver`: the one known for it, else `type_of()`'s (kept).
    pub fn ty(&mut self, receiver: &'k Arc<TypeRef>, type_of: impl FnOnce() -> Ty) -> Ty {
        if let Some((_, ty)) = self.known.iter().find(|(known, _)| Arc::ptr_eq(known, receiver)) {
            return ty.clone();
        }
        let ty = type_of();
        if self.known.len() < Self::KEPT {
            self.known.push((receiver, ty.clone()));
        }
        ty
    }
}

/// Whether two call sinks are one call to resolve: all alike but the argument position.
fn same_call(a: &SinkKind, b: &SinkKind) -> bool {
    let (
        SinkKind::Call { callee, method, builder, args, receiver, .. },
        SinkKind::Call {
            callee: callee2,
            method: method2,
            builder: builder2,
            args: args2,
            receiver: receiver2,
            ..
        },
    ) = (a, b)
    else {
        return false;
    };
    let same_receiver = match (receiver, receiver2) {
        (Some(r), Some(r2)) => Arc::ptr_eq(r, r2) || r == r2,
        (None, None) => true,
        _ => false,
    };
    method == method2
        && args == args2
        && builder == builder2
        && (Arc::ptr_eq(callee, callee2) || callee == callee2)
        && same_receiver
}

/// Modules (and names) already looked into while following imports.
type Visited = super::hash::NameSet<(ModuleKey, String)>;

fn tree_or_external(found: Vec<FnId>) -> Resolved {
    if found.is_empty() {
        Resolved::External
    } else {
        Resolved::Tree(found)
    }
}
