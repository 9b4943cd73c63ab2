//! Handle types named in type syntax: parameter and `let` annotations, return types, trait
//! objects and `impl` bounds, `Self` of an `impl` of a handle type.
//!
//! Matching is by the rule set's type names, and by the names a file's `use` items give them
//! (`use crate::db::DbRo as Replica;`); it never resolves a `type` alias or a path.

use std::cell::Cell;

use syn::punctuated::Punctuated;
use syn::{Token, Type};

use super::FnAnalysis;
use crate::analysis::facts::{Origin, Taint};
use crate::analysis::names::{last_segment, NameSet, Segments};
use crate::analysis::syntax_text::with_ident_text;
use crate::source::TextRange;

impl FnAnalysis<'_> {
    /// The handles a value of type `ty` holds, bound at `at` (asked only if it holds one).
    pub(super) fn type_taint(&self, ty: &Type, at: impl FnOnce() -> TextRange) -> Taint {
        self.taint_of_type(ty, at, true)
    }

    /// The same, not looking into tuples: a function returning `(DbRw, DbRo)` returns a pair,
    /// not a read-only handle.
    pub(super) fn whole_type_taint(&self, ty: &Type, at: impl FnOnce() -> TextRange) -> Taint {
        self.taint_of_type(ty, at, false)
    }

    fn taint_of_type(&self, ty: &Type, at: impl FnOnce() -> TextRange, tuples: bool) -> Taint {
        let is_self = (self.self_taint.0 || self.self_taint.1) && type_mentions_self(ty);
        let sets = (&self.names.ro_types, &self.names.rw_types);
        let (ro, rw) = mentions_either(ty, sets, &self.scope.type_aliases, tuples);
        let ro = (is_self && self.self_taint.0) || ro;
        let rw = (is_self && self.self_taint.1) || rw;
        if !ro && !rw {
            return Taint::NONE;
        }
        let at = Origin::at(at());
        Taint {
            ro: if ro { at } else { Origin::NONE },
            rw: if rw { at } else { Origin::NONE },
            ..Taint::NONE
        }
    }
}

/// The standard library's collections (language plumbing, not domain names): a value built as
/// one holds data, not a connection or a model.
const STD_COLLECTIONS: &[&str] =
    &["HashSet", "HashMap", "BTreeSet", "BTreeMap", "Vec", "VecDeque", "BinaryHeap", "LinkedList"];

/// Whether `name` is one of the standard library's collections.
pub(super) fn is_std_collection(name: &str) -> bool {
    STD_COLLECTIONS.contains(&name)
}

/// Whether a type is a standard collection (`HashSet<i64>`, `std::collections::BTreeMap<K, V>`).
pub(super) fn is_std_collection_type(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => {
            last_segment(&p.path.segments).is_some_and(|s| STD_COLLECTIONS.iter().any(|c| s.ident == c))
        }
        _ => false,
    }
}

/// Whether a type names one of `names`, also inside references and generic arguments
/// (`&mut DbRo`, `web::Data<ReadOnlyPgPool>`, `State<Arc<DbRo>>`).
pub(crate) fn type_mentions(ty: &Type, names: &NameSet) -> bool {
    mentions(ty, names, true)
}

/// [`type_mentions`], looking into tuple types only when `tuples` is set.
fn mentions(ty: &Type, names: &NameSet, tuples: bool) -> bool {
    if names.is_empty() {
        return false;
    }
    mentions_path(ty, &|segments| names.matches_segments(segments), tuples)
}

/// [`mentions`] of two sets at once, walking the type and printing each name once: (whether it
/// names one of the first, one of the second). A single-segment name of `aliases` (a handle
/// type imported under another name) counts for the sets it stands for.
fn mentions_either(
    ty: &Type,
    (first, second): (&NameSet, &NameSet),
    aliases: &[(String, (bool, bool))],
    tuples: bool,
) -> (bool, bool) {
    if first.is_empty() && second.is_empty() {
        return (false, false);
    }
    let found = (Cell::new(false), Cell::new(false));
    let matches = |segments: &Segments| {
        let Some(last) = last_segment(segments) else { return false };
        with_ident_text(&last.ident, |name| {
            let aliased = if segments.len() == 1 {
                aliases.iter().find(|(alias, _)| alias == name).map_or((false, false), |(_, roles)| *roles)
            } else {
                (false, false)
            };
            found.0.set(found.0.get() || aliased.0 || first.matches_segments_named(segments, name));
            found.1.set(found.1.get() || aliased.1 || second.matches_segments_named(segments, name));
        });
        found.0.get() && found.1.get()
    };
    mentions_path(ty, &matches, tuples);
    (found.0.get(), found.1.get())
}

/// Whether a type names a path that `matches` accepts, also inside references and generic
/// arguments, and in tuple types when `tuples` is set. (Sequences are walked by `pairs`: syn's
/// `iter` allocates.)
fn mentions_path(ty: &Type, matches: &dyn Fn(&Segments) -> bool, tuples: bool) -> bool {
    let inner = |ty: &Type| mentions_path(ty, matches, tuples);
    match ty {
        Type::Path(p) => {
            if matches(&p.path.segments) {
                return true;
            }
            p.path.segments.pairs().any(|s| match &s.value().arguments {
                syn::PathArguments::AngleBracketed(args) => args.args.pairs().any(|a| match a.value() {
                    syn::GenericArgument::Type(t) => inner(t),
                    _ => false,
                }),
                _ => false,
            })
        }
        Type::Reference(r) => inner(&r.elem),
        Type::Paren(p) => inner(&p.elem),
        Type::Group(g) => inner(&g.elem),
        Type::Ptr(p) => inner(&p.elem),
        // `&dyn DynDatabase`, `impl ReadOnlyPool`, `Box<dyn Db + Send>`: the trait's name.
        Type::TraitObject(t) => bounds_mention(&t.bounds, matches),
        Type::ImplTrait(t) => bounds_mention(&t.bounds, matches),
        Type::Tuple(t) => tuples && t.elems.pairs().any(|e| inner(e.value())),
        Type::Slice(s) => inner(&s.elem),
        Type::Array(a) => inner(&a.elem),
        _ => false,
    }
}

fn bounds_mention(
    bounds: &Punctuated<syn::TypeParamBound, Token![+]>,
    matches: &dyn Fn(&Segments) -> bool,
) -> bool {
    bounds.pairs().any(|bound| match bound.value() {
        syn::TypeParamBound::Trait(t) => matches(&t.path.segments),
        _ => false,
    })
}

/// Whether a type names `Self` (`&Self`, `Arc<Self>`).
fn type_mentions_self(ty: &Type) -> bool {
    let is_self = |segments: &Segments| last_segment(segments).is_some_and(|last| last.ident == "Self");
    mentions_path(ty, &is_self, true)
}
