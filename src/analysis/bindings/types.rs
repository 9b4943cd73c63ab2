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
    pub(super) fn type_taint(&self, ty: &Type, at: TextRange) -> Taint {
        let mut taint = Taint::NONE;
        let is_self = (self.self_taint.0 || self.self_taint.1) && type_mentions_self(ty);
        if type_mentions(ty, &self.names.ro_types) || (is_self && self.self_taint.0) {
            taint.ro = Some(at);
        }
        if type_mentions(ty, &self.names.rw_types) || (is_self && self.self_taint.1) {
            taint.rw = Some(at);
        }
        taint
    }
}

/// Whether a type names one of `names`, also inside references and generic arguments
/// (`&mut DbRo`, `web::Data<ReadOnlyPgPool>`, `State<Arc<DbRo>>`).
pub(crate) fn type_mentions(ty: &Type, names: &NameSet) -> bool {
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
                    syn::GenericArgument::Type(t) => type_mentions(t, names),
                    _ => false,
                }),
                _ => false,
            })
        }
        Type::Reference(r) => type_mentions(&r.elem, names),
        Type::Paren(p) => type_mentions(&p.elem, names),
        Type::Group(g) => type_mentions(&g.elem, names),
        Type::Ptr(p) => type_mentions(&p.elem, names),
        // `&dyn DynDatabase`, `impl ReadOnlyPool`, `Box<dyn Db + Send>`: the trait's name.
        Type::TraitObject(t) => bounds_mention(&t.bounds, names),
        Type::ImplTrait(t) => bounds_mention(&t.bounds, names),
        Type::Tuple(t) => t.elems.iter().any(|e| type_mentions(e, names)),
        Type::Slice(s) => type_mentions(&s.elem, names),
        Type::Array(a) => type_mentions(&a.elem, names),
        _ => false,
    }
}

pub(super) fn bounds_mention(bounds: &Punctuated<syn::TypeParamBound, Token![+]>, names: &NameSet) -> bool {
    bounds.iter().any(|bound| match bound {
        syn::TypeParamBound::Trait(t) => {
            let segments: Vec<String> = t.path.segments.iter().map(|s| s.ident.to_string()).collect();
            names.matches_path(&segments)
        }
        _ => false,
    })
}

/// Whether a type names `Self` (`&Self`, `Arc<Self>`).
pub(super) fn type_mentions_self(ty: &Type) -> bool {
    thread_local! {
        static SELF: NameSet = NameSet::new(&["Self".to_string()]);
    }
    SELF.with(|set| type_mentions(ty, set))
}
