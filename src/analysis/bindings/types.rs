//! Handle types named in type syntax: parameter and `let` annotations, return types, trait
//! objects and `impl` bounds, `Self` of an `impl` of a handle type.
//!
//! Matching is by the rule set's type names only; it never resolves a type alias or a path.

use syn::punctuated::Punctuated;
use syn::{Token, Type};

use super::FnAnalysis;
use crate::analysis::facts::Taint;
use crate::analysis::names::NameSet;
use crate::source::TextRange;

impl FnAnalysis<'_> {
    /// The handles a value of type `ty` holds, bound at `at`.
    pub(super) fn type_taint(&self, ty: &Type, at: TextRange) -> Taint {
        self.taint_of_type(ty, at, true)
    }

    /// The same, not looking into tuples: a function returning `(DbRw, DbRo)` returns a pair,
    /// not a read-only handle.
    pub(super) fn whole_type_taint(&self, ty: &Type, at: TextRange) -> Taint {
        self.taint_of_type(ty, at, false)
    }

    fn taint_of_type(&self, ty: &Type, at: TextRange, tuples: bool) -> Taint {
        let mut taint = Taint::NONE;
        let is_self = (self.self_taint.0 || self.self_taint.1) && type_mentions_self(ty);
        if (is_self && self.self_taint.0) || mentions(ty, &self.names.ro_types, tuples) {
            taint.ro = Some(at);
        }
        if (is_self && self.self_taint.1) || mentions(ty, &self.names.rw_types, tuples) {
            taint.rw = Some(at);
        }
        taint
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
        Type::Path(p) => p.path.segments.last().is_some_and(|s| STD_COLLECTIONS.iter().any(|c| s.ident == c)),
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
    mentions_path(ty, &|segments| names.matches_idents(segments), tuples)
}

/// Whether a type names a path that `matches` accepts (given the path's identifiers), also
/// inside references and generic arguments, and in tuple types when `tuples` is set.
fn mentions_path(ty: &Type, matches: &dyn Fn(Idents<'_>) -> bool, tuples: bool) -> bool {
    let inner = |ty: &Type| mentions_path(ty, matches, tuples);
    match ty {
        Type::Path(p) => {
            if matches(idents(&p.path)) {
                return true;
            }
            p.path.segments.iter().any(|s| match &s.arguments {
                syn::PathArguments::AngleBracketed(args) => args.args.iter().any(|a| match a {
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
        Type::Tuple(t) => tuples && t.elems.iter().any(inner),
        Type::Slice(s) => inner(&s.elem),
        Type::Array(a) => inner(&a.elem),
        _ => false,
    }
}

fn bounds_mention(
    bounds: &Punctuated<syn::TypeParamBound, Token![+]>,
    matches: &dyn Fn(Idents<'_>) -> bool,
) -> bool {
    bounds.iter().any(|bound| match bound {
        syn::TypeParamBound::Trait(t) => matches(idents(&t.path)),
        _ => false,
    })
}

/// A path's identifiers, first to last.
type Idents<'t> =
    std::iter::Map<syn::punctuated::Iter<'t, syn::PathSegment>, fn(&syn::PathSegment) -> &proc_macro2::Ident>;

fn idents(path: &syn::Path) -> Idents<'_> {
    path.segments.iter().map(|s| &s.ident)
}

/// Whether a type names `Self` (`&Self`, `Arc<Self>`).
fn type_mentions_self(ty: &Type) -> bool {
    mentions_path(ty, &|mut segments| segments.next_back().is_some_and(|last| last == "Self"), true)
}
