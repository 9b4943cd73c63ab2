//! Which functions of the tree a call may run: by the receiver's type, by path through crates
//! and modules, never by a bare name shared by unrelated types.
//!
//! A method on a receiver of a tree type runs that type's methods or its traits' default
//! bodies; on a trait-typed receiver (a generic bound, `dyn`, `Self` in a trait default), every
//! implementation. A receiver outside the tree runs no tree body. An unknown receiver runs a
//! tree method only when it is the only method of that name with a fitting arity; otherwise the
//! call is *unresolved* and says why. Pure lookups; never judges what writes.

use crate::analysis::facts::SinkKind;
use crate::writers::{FnId, TreeFn};

use super::crates::CrateGraph;
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
    pub fns: &'a [TreeFn],
    /// Their index.
    pub symbols: &'a Symbols,
    /// The crates.
    pub crates: &'a CrateGraph,
}

impl CallScope<'_> {
    /// The functions a call sink of `caller` may run.
    pub fn resolve(&self, caller: FnId, call: &SinkKind) -> Resolved {
        let SinkKind::Call { callee, method, builder, args, receiver, .. } = call else {
            return Resolved::External;
        };
        if builder.is_some() {
            // An ORM executor (`.execute(conn)` on `diesel::update(…)`), not a function of the tree.
            return Resolved::External;
        }
        let Some((name, qualifiers)) = callee.split_last() else { return Resolved::External };
        if *method {
            let ty = receiver.as_ref().map_or(Ty::Unknown, |t| self.symbols.type_of(self.fns, caller, t));
            return self.method(name, &ty, *args);
        }
        self.path(caller, name, qualifiers)
    }

    fn method(&self, name: &str, ty: &Ty, args: usize) -> Resolved {
        match ty {
            // A type outside the tree runs no tree body, but for a blanket implementation
            // (`impl<T: Executor> DbExt for T`) of the tree.
            Ty::Outside => tree_or_external(
                self.symbols
                    .named(name)
                    .iter()
                    .copied()
                    .filter(|&id| {
                        let f = &self.fns[id].facts;
                        f.owner.as_ref().is_some_and(|o| f.sig.generics.iter().any(|(g, _)| g == o))
                    })
                    .collect(),
            ),
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
                let fits: Vec<FnId> = self
                    .symbols
                    .named(name)
                    .iter()
                    .copied()
                    .filter(|&id| {
                        let sig = &self.fns[id].facts.sig;
                        self.fns[id].facts.owner.is_some() && sig.has_self && sig.arity == args + 1
                    })
                    .collect();
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

    fn path(&self, caller: FnId, name: &str, qualifiers: &[String]) -> Resolved {
        let from = &self.fns[caller];
        let syms = self.symbols;
        let free = || syms.named(name).iter().copied().filter(|&id| self.fns[id].facts.owner.is_none());
        let qualifier = qualifiers.iter().rev().find(|q| !matches!(q.as_str(), "crate" | "super" | "self"));
        match qualifier.map(String::as_str) {
            Some("Self") => {
                let ty = syms.type_of(
                    self.fns,
                    caller,
                    &crate::analysis::facts::TypeRef::Named(vec!["Self".into()]),
                );
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
            Some(_) => {
                // `other_crate::f`, `crate::store::save`, `store::save`.
                let first = qualifiers.first().map(String::as_str).unwrap_or("");
                let into = if first == "crate" {
                    Some(from.krate)
                } else if matches!(first, "self" | "super") {
                    None
                } else {
                    self.crates.named(from.krate, first).filter(|&c| Some(c) != from.krate).map(Some)
                };
                let in_crate: Vec<FnId> = match into {
                    Some(krate) => free().filter(|&id| self.fns[id].krate == krate).collect(),
                    None => free().collect(),
                };
                // The module the path names, when it is absolute; else the last qualifier.
                let module: Vec<&str> = match into {
                    Some(_) => qualifiers[1..].iter().map(String::as_str).collect(),
                    None => Vec::new(),
                };
                let exact: Vec<FnId> =
                    in_crate.iter().copied().filter(|&id| self.fns[id].module_is(&module)).collect();
                if into.is_some() && !exact.is_empty() {
                    return Resolved::Tree(exact);
                }
                if into.is_some() && first != "crate" {
                    // A re-export (`pub use`) of another crate: any of its functions of that name.
                    return tree_or_external(in_crate);
                }
                let last = qualifier.map(String::as_str).unwrap_or("");
                tree_or_external(
                    in_crate
                        .into_iter()
                        .filter(|&id| self.fns[id].module.last().is_some_and(|m| m == last))
                        .collect(),
                )
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

fn tree_or_external(found: Vec<FnId>) -> Resolved {
    if found.is_empty() {
        Resolved::External
    } else {
        Resolved::Tree(found)
    }
}
