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
        if mentions(ty, &self.names.ro_types, tuples) || (is_self && self.self_taint.0) {
            taint.ro = Some(at);
        }
        if mentions(ty, &self.names.rw_types, tuples) || (is_self && self.self_taint.1) {
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
        Type::Path(p) => p.path.segments.last().is_some_and(|s| is_std_collection(&s.ident.to_string())),
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
    match ty {
        Type::Path(p) => {
            let segments: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
            if names.matches_path(&segments) {
                return true;
            }
            p.path.segments.iter().any(|s| match &s.arguments {
                syn::PathArguments::AngleBracketed(args) => args.args.iter().any(|a| match a {
                    syn::GenericArgument::Type(t) => mentions(t, names, tuples),
                    _ => false,
                }),
                _ => false,
            })
        }
        Type::Reference(r) => mentions(&r.elem, names, tuples),
        Type::Paren(p) => mentions(&p.elem, names, tuples),
        Type::Group(g) => mentions(&g.elem, names, tuples),
        Type::Ptr(p) => mentions(&p.elem, names, tuples),
        // `&dyn DynDatabase`, `impl ReadOnlyPool`, `Box<dyn Db + Send>`: the trait's name.
        Type::TraitObject(t) => bounds_mention(&t.bounds, names),
        Type::ImplTrait(t) => bounds_mention(&t.bounds, names),
        Type::Tuple(t) => tuples && t.elems.iter().any(|e| mentions(e, names, tuples)),
        Type::Slice(s) => mentions(&s.elem, names, tuples),
        Type::Array(a) => mentions(&a.elem, names, tuples),
        _ => false,
    }
}

fn bounds_mention(bounds: &Punctuated<syn::TypeParamBound, Token![+]>, names: &NameSet) -> bool {
    bounds.iter().any(|bound| match bound {
        syn::TypeParamBound::Trait(t) => {
            let segments: Vec<String> = t.path.segments.iter().map(|s| s.ident.to_string()).collect();
            names.matches_path(&segments)
        }
        _ => false,
    })
}

/// Whether a type names `Self` (`&Self`, `Arc<Self>`).
fn type_mentions_self(ty: &Type) -> bool {
    thread_local! {
        static SELF: NameSet = NameSet::new(&["Self".to_string()]);
    }
    SELF.with(|set| type_mentions(ty, set))
}
