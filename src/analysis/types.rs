//! Types as source text names them, turned into owned [`TypeRef`]s for resolving calls by type.
//!
//! Looks through references and parentheses, and keeps the rule set's wrappers with what they
//! wrap (`Arc<Repo>` is `Repo` unless the tree declares a struct `Arc`: [`TypeRef::Wrapped`]); a generic parameter, `impl Trait` and `dyn Trait` become
//! their trait bounds; slices, tuples and arrays are types outside the tree. Never resolves a
//! name: which type a path means is for [`crate::workspace`] to say, once the tree is known.

use syn::{GenericArgument, PathArguments, Type, TypeParamBound};

use super::facts::TypeRef;
use super::names::{last_segment, NameSet};
use super::syntax_text::shared_idents;

/// What the text around a type tells about its names.
#[derive(Debug, Clone, Copy)]
pub struct TypeScope<'a> {
    /// Wrappers looked through to their first type argument.
    pub wrappers: &'a NameSet,
    /// Generic parameters in scope with their trait bounds.
    pub generics: &'a [(String, Vec<String>)],
}

/// How deep wrappers are looked through (`Arc<Mutex<Box<T>>>`).
const MAX_DEPTH: usize = 8;

/// The type `ty` names, if it names one a call can be resolved on.
pub fn type_ref(ty: &Type, scope: TypeScope<'_>) -> Option<TypeRef> {
    type_ref_at(ty, scope, 0)
}

fn type_ref_at(ty: &Type, scope: TypeScope<'_>, depth: usize) -> Option<TypeRef> {
    if depth > MAX_DEPTH {
        return None;
    }
    match ty {
        Type::Reference(r) => type_ref_at(&r.elem, scope, depth + 1),
        Type::Paren(p) => type_ref_at(&p.elem, scope, depth + 1),
        Type::Group(g) => type_ref_at(&g.elem, scope, depth + 1),
        Type::Ptr(p) => type_ref_at(&p.elem, scope, depth + 1),
        Type::Path(p) if p.qself.is_none() => {
            let last = last_segment(&p.path.segments)?;
            let path = shared_idents(p.path.segments.pairs().map(|s| &s.value().ident));
            if path.last().is_some_and(|name| scope.wrappers.matches_name(name)) {
                if let Some(inner) = first_type_argument(&last.arguments) {
                    let inner = type_ref_at(inner, scope, depth + 1)?;
                    return Some(TypeRef::Wrapped { wrapper: path, inner: Box::new(inner) });
                }
            }
            if let [name] = &*path {
                if let Some((_, bounds)) = scope.generics.iter().find(|(g, _)| g == name) {
                    return Some(TypeRef::Bounds(bounds.clone()));
                }
            }
            Some(TypeRef::Named(path))
        }
        Type::TraitObject(t) => Some(TypeRef::Bounds(trait_names(t.bounds.iter()))),
        Type::ImplTrait(t) => Some(TypeRef::Bounds(trait_names(t.bounds.iter()))),
        Type::Slice(_) | Type::Array(_) | Type::Tuple(_) => Some(TypeRef::Outside),
        _ => None,
    }
}

/// The type a function's caller gets after `?` or `.unwrap()`: a declared return type with
/// `Result`/`Option` looked through (`-> Result<Self, Error>` is `Self`).
pub fn return_type_ref(ty: &Type, scope: TypeScope<'_>) -> Option<TypeRef> {
    if let Type::Path(p) = ty {
        if let Some(last) = last_segment(&p.path.segments) {
            if last.ident == "Result" || last.ident == "Option" {
                if let Some(inner) = first_type_argument(&last.arguments) {
                    return type_ref(inner, scope);
                }
            }
        }
    }
    type_ref(ty, scope)
}

fn first_type_argument(args: &PathArguments) -> Option<&Type> {
    let PathArguments::AngleBracketed(args) = args else { return None };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// The last segments of the traits among `bounds` (`Crud + Send` -> [`Crud`, `Send`]).
pub fn trait_names<'b>(bounds: impl Iterator<Item = &'b TypeParamBound>) -> Vec<String> {
    bounds
        .filter_map(|b| match b {
            TypeParamBound::Trait(t) => t.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        })
        .collect()
}

/// Generic type parameters with their bounds, inline and from the `where` clause.
pub fn generics_of(generics: &syn::Generics, out: &mut Vec<(String, Vec<String>)>) {
    for param in generics.type_params() {
        out.push((param.ident.to_string(), trait_names(param.bounds.iter())));
    }
    let Some(clause) = &generics.where_clause else { return };
    for predicate in &clause.predicates {
        let syn::WherePredicate::Type(p) = predicate else { continue };
        let Type::Path(tp) = &p.bounded_ty else { continue };
        let Some(name) = tp.path.get_ident().map(ToString::to_string) else { continue };
        let bounds = trait_names(p.bounds.iter());
        match out.iter_mut().find(|(g, _)| *g == name) {
            Some((_, existing)) => existing.extend(bounds),
            None => out.push((name, bounds)),
        }
    }
}

/// The named fields of a struct (tuple fields as `0`, `1`, …) with the types they name.
pub fn fields_of(fields: &syn::Fields, scope: TypeScope<'_>) -> Vec<(String, TypeRef)> {
    fields
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let name = f.ident.as_ref().map_or_else(|| i.to_string(), ToString::to_string);
            type_ref(&f.ty, scope).map(|t| (name, t))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrapped(ty: &str, generics: &[(String, Vec<String>)]) -> Option<TypeRef> {
        let wrappers = NameSet::new(&["Arc".to_string(), "State".to_string(), "Box".to_string()]);
        let ty: Type = syn::parse_str(ty).expect("a type");
        type_ref(&ty, TypeScope { wrappers: &wrappers, generics })
    }

    fn of(ty: &str, generics: &[(String, Vec<String>)]) -> Option<TypeRef> {
        wrapped(ty, generics).map(|t| t.unwrapped().clone())
    }

    fn named(p: &str) -> Option<TypeRef> {
        Some(TypeRef::Named(p.split("::").map(String::from).collect()))
    }

    #[test]
    fn wrappers_and_references_are_looked_through() {
        assert_eq!(of("&State<Arc<AppState>>", &[]), named("AppState"));
        let inner = TypeRef::Wrapped {
            wrapper: ["Arc".to_string()].into(),
            inner: Box::new(TypeRef::Named(["S".to_string()].into())),
        };
        assert_eq!(
            wrapped("web::State<Arc<S>>", &[]),
            Some(TypeRef::Wrapped {
                wrapper: ["web".to_string(), "State".to_string()].into(),
                inner: Box::new(inner)
            }),
            "the wrappers are kept for the tree to tell its own `State<S>` from an extractor"
        );
        assert_eq!(of("&mut crate::store::Repo", &[]), named("crate::store::Repo"));
        assert_eq!(of("std::collections::HashSet<String>", &[]), named("std::collections::HashSet"));
        assert_eq!(of("&[u8]", &[]), Some(TypeRef::Outside));
        let wrappers = NameSet::new(&[]);
        let ty: Type = syn::parse_str("Result<Arc<Self>, Error>").expect("a type");
        let scope = TypeScope { wrappers: &wrappers, generics: &[] };
        assert_eq!(
            return_type_ref(&ty, scope),
            named("Arc"),
            "Result is looked through, Arc only as a wrapper"
        );
    }

    #[test]
    fn generics_and_trait_objects_are_their_bounds() {
        let generics = vec![("C".to_string(), vec!["Crud".to_string()])];
        assert_eq!(of("&C", &generics), Some(TypeRef::Bounds(vec!["Crud".into()])));
        assert_eq!(
            of("Box<dyn Store + Send>", &[]),
            Some(TypeRef::Bounds(vec!["Store".into(), "Send".into()]))
        );
        assert_eq!(of("&dyn Store", &[]), Some(TypeRef::Bounds(vec!["Store".into()])));
        let item: syn::ItemFn = syn::parse_str("fn f<T: A, U>(t: T) where U: B + C {}").expect("a fn");
        let mut out = Vec::new();
        generics_of(&item.sig.generics, &mut out);
        assert_eq!(
            out,
            [("T".to_string(), vec!["A".to_string()]), ("U".into(), vec!["B".into(), "C".into()])]
        );
    }
}
