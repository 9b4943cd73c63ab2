//! Routes declared by attributes on functions: actix-web and rocket (`#[get("/x")]`,
//! `#[route("/x", method = "GET", method = "HEAD")]`, `#[route(GET, uri = "/x")]`), poem's
//! endpoint marker `#[handler]`, poem-openapi's `#[oai(path = "/x", method = "get")]` and
//! utoipa's `#[utoipa::path(get, path = "/x")]` / `#[utoipa::path(method(get, head), ..)]`.
//!
//! Attribute arguments are read as tokens (split at top-level commas), not as expressions:
//! OpenAPI attributes hold things like `body = [Pet]` and `("id" = u64, Path)`. An attribute
//! that does not have the shape of a route is not one; a route attribute whose method cannot
//! be read serves every method.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::{Attribute, Meta};

use super::facts::{AttrRoute, Framework, MethodSet};
use super::names::{has, RouteNames, METHOD_KEY, OAI_ATTR, PATH_KEYS, UTOIPA_CRATE, UTOIPA_PATH_ATTR};
use crate::analysis::span_range;
use crate::source::SourceText;

/// The routes `attrs` declare. `file_framework` names the framework of a bare `#[get("/x")]`
/// (actix-web and rocket spell it alike) as the file's imports tell; `names`, the attributes.
pub(super) fn attr_routes(
    attrs: &[Attribute],
    src: &SourceText,
    file_framework: Framework,
    names: &RouteNames,
) -> Vec<AttrRoute> {
    let mut routes = Vec::new();
    for attr in attrs {
        let segments: Vec<String> = attr.path().segments.iter().map(|s| s.ident.to_string()).collect();
        let Some((name, qualifier)) = segments.split_last() else { continue };
        let at = span_range(src, attr.pound_token.spans[0]).start;
        let qualified_by = qualifier.first().map(String::as_str);
        let crate_framework = qualified_by.and_then(|q| names.crate_framework(q));
        if qualified_by.is_some() && crate_framework.is_none() {
            continue;
        }
        let route = match (name.as_str(), &attr.meta) {
            (method, Meta::List(list)) if names.method(method).is_some() => method_attr(
                names.method(method),
                &args(list.tokens.clone()),
                crate_framework.unwrap_or(file_framework),
            ),
            (route, Meta::List(list)) if has(&names.route_attributes, route) => {
                route_attr(&args(list.tokens.clone()), crate_framework.unwrap_or(file_framework))
            }
            (handler, _)
                if has(&names.handler_attributes, handler)
                    && matches!(crate_framework, None | Some(Framework::Poem)) =>
            {
                Some(AttrRoute { methods: None, path: None, line: 0, column: 0, framework: Framework::Poem })
            }
            (OAI_ATTR, Meta::List(list)) => oai_attr(&args(list.tokens.clone())),
            (UTOIPA_PATH_ATTR, Meta::List(list))
                if matches!(qualified_by, None | Some(UTOIPA_CRATE)) && qualifier.len() <= 1 =>
            {
                utoipa_attr(&args(list.tokens.clone()))
            }
            _ => None,
        };
        if let Some(route) = route {
            routes.push(AttrRoute { line: at.line, column: at.column, ..route });
        }
    }
    routes
}

/// `#[get("/x")]`, `#[post("/x", rank = 2)]`: a route only with a path string first.
fn method_attr(methods: Option<MethodSet>, args: &[AttrArg], framework: Framework) -> Option<AttrRoute> {
    let Some(AttrArg::Str(path)) = args.first() else { return None };
    let methods = methods?;
    Some(AttrRoute { methods: Some(methods), path: Some(path.clone()), line: 0, column: 0, framework })
}

/// `#[route("/x", method = "GET", method = "HEAD")]` (actix), `#[route(GET, uri = "/x")]`
/// (rocket).
fn route_attr(args: &[AttrArg], framework: Framework) -> Option<AttrRoute> {
    let mut methods = MethodSet::NONE;
    let mut path = None;
    for arg in args {
        match arg {
            AttrArg::Str(s) if path.is_none() => path = Some(s.clone()),
            AttrArg::Flag(m) => methods = methods.union(method_value(m)),
            AttrArg::KeyValue(k, ArgValue::Str(m) | ArgValue::Ident(m)) if k == METHOD_KEY => {
                methods = methods.union(method_value(m));
            }
            AttrArg::KeyValue(k, ArgValue::Str(p)) if PATH_KEYS.contains(&k.as_str()) => {
                path = Some(p.clone())
            }
            _ => {}
        }
    }
    if methods.is_empty() {
        methods = MethodSet::ANY;
    }
    Some(AttrRoute { methods: Some(methods), path, line: 0, column: 0, framework })
}

/// `#[oai(path = "/x", method = "get")]`; an `#[oai]` without a method is not an operation.
fn oai_attr(args: &[AttrArg]) -> Option<AttrRoute> {
    let mut methods = MethodSet::NONE;
    let mut path = None;
    for arg in args {
        match arg {
            AttrArg::KeyValue(k, ArgValue::Str(m) | ArgValue::Ident(m)) if k == METHOD_KEY => {
                methods = methods.union(method_value(m));
            }
            AttrArg::KeyValue(k, ArgValue::Str(p)) if PATH_KEYS.contains(&k.as_str()) => {
                path = Some(p.clone())
            }
            _ => {}
        }
    }
    (!methods.is_empty()).then_some(AttrRoute {
        methods: Some(methods),
        path,
        line: 0,
        column: 0,
        framework: Framework::PoemOpenApi,
    })
}

/// `#[utoipa::path(get, path = "/x", ..)]`, `#[utoipa::path(method(get, head), ..)]`.
fn utoipa_attr(args: &[AttrArg]) -> Option<AttrRoute> {
    let mut methods = MethodSet::NONE;
    let mut path = None;
    for arg in args {
        match arg {
            AttrArg::Flag(m)
                if m.bytes().all(|b| b.is_ascii_lowercase()) && MethodSet::named(m).is_some() =>
            {
                methods = methods.union(method_value(m));
            }
            AttrArg::Call(k, inner) if k == METHOD_KEY => {
                for m in inner {
                    if let AttrArg::Flag(m) = m {
                        methods = methods.union(method_value(m));
                    }
                }
            }
            AttrArg::KeyValue(k, ArgValue::Str(p)) if PATH_KEYS.contains(&k.as_str()) => {
                path = Some(p.clone())
            }
            _ => {}
        }
    }
    (!methods.is_empty()).then_some(AttrRoute {
        methods: Some(methods),
        path,
        line: 0,
        column: 0,
        framework: Framework::Utoipa,
    })
}

/// A method as an attribute spells it; an unknown one is some other method.
fn method_value(name: &str) -> MethodSet {
    MethodSet::named(name).unwrap_or(MethodSet::OTHER)
}

/// One top-level argument of an attribute.
#[derive(Debug, Clone, PartialEq)]
enum AttrArg {
    /// A string literal.
    Str(String),
    /// A lone identifier (`get`, `GET`).
    Flag(String),
    /// `key = value`.
    KeyValue(String, ArgValue),
    /// `key(args)`.
    Call(String, Vec<AttrArg>),
    /// Anything else.
    Other,
}

/// The value of `key = value`.
#[derive(Debug, Clone, PartialEq)]
enum ArgValue {
    Str(String),
    /// An identifier or path (`GET`, `Method::GET`): its last identifier.
    Ident(String),
    Other,
}

/// The arguments of an attribute's list, split at top-level commas.
fn args(tokens: TokenStream) -> Vec<AttrArg> {
    let mut out = Vec::new();
    let mut piece: Vec<TokenTree> = Vec::new();
    for tt in tokens {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' => out.push(arg(&std::mem::take(&mut piece))),
            _ => piece.push(tt),
        }
    }
    if !piece.is_empty() {
        out.push(arg(&piece));
    }
    out
}

fn arg(piece: &[TokenTree]) -> AttrArg {
    match piece {
        [TokenTree::Literal(lit)] => str_value(lit).map_or(AttrArg::Other, AttrArg::Str),
        [TokenTree::Ident(id)] => AttrArg::Flag(id.to_string()),
        [TokenTree::Ident(key), TokenTree::Punct(eq), value @ ..] if eq.as_char() == '=' => {
            AttrArg::KeyValue(key.to_string(), arg_value(value))
        }
        [TokenTree::Ident(key), TokenTree::Group(g)] if g.delimiter() == Delimiter::Parenthesis => {
            AttrArg::Call(key.to_string(), args(g.stream()))
        }
        _ => AttrArg::Other,
    }
}

fn arg_value(value: &[TokenTree]) -> ArgValue {
    match value {
        [TokenTree::Literal(lit)] => str_value(lit).map_or(ArgValue::Other, ArgValue::Str),
        _ if !value.is_empty()
            && value.iter().all(|t| {
                matches!(t, TokenTree::Ident(_)) || matches!(t, TokenTree::Punct(p) if p.as_char() == ':')
            }) =>
        {
            match value.last() {
                Some(TokenTree::Ident(id)) => ArgValue::Ident(id.to_string()),
                _ => ArgValue::Other,
            }
        }
        _ => ArgValue::Other,
    }
}

fn str_value(lit: &proc_macro2::Literal) -> Option<String> {
    match syn::Lit::new(lit.clone()) {
        syn::Lit::Str(s) => Some(s.value()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(tokens: &str) -> Vec<AttrArg> {
        args(tokens.parse().unwrap())
    }

    #[test]
    fn arguments_split_at_top_level_commas() {
        let a =
            parsed(r#"get, path = "/pets/{id}", responses((status = 200, body = [Pet])), method(get, head)"#);
        assert_eq!(a[0], AttrArg::Flag("get".into()));
        assert_eq!(a[1], AttrArg::KeyValue("path".into(), ArgValue::Str("/pets/{id}".into())));
        assert!(matches!(&a[2], AttrArg::Call(k, inner) if k == "responses" && inner.len() == 1));
        assert_eq!(
            a[3],
            AttrArg::Call("method".into(), vec![AttrArg::Flag("get".into()), AttrArg::Flag("head".into())])
        );
        assert_eq!(a.len(), 4);
    }

    #[test]
    fn key_values_keep_the_last_identifier_of_a_path() {
        let a = parsed(r#""/x", method = Method::GET, rank = 2, r"raw" "#);
        assert_eq!(a[0], AttrArg::Str("/x".into()));
        assert_eq!(a[1], AttrArg::KeyValue("method".into(), ArgValue::Ident("GET".into())));
        assert_eq!(a[2], AttrArg::KeyValue("rank".into(), ArgValue::Other));
        assert_eq!(a[3], AttrArg::Str("raw".into()));
    }
}
