//! axum's method routers — and poem's, which have the same shape.
//!
//! `get(h)`, `routing::get(h)`, `axum::routing::get(h)`, `poem::get(h)`, `any(h)`,
//! `on(MethodFilter::GET, h)`, and on a method router (`get(a).post(b)`,
//! `MethodRouter::new().get(h)`, `.on(filter, h)`) the method of the same name. The method set
//! depends only on the method router, so each is a registration wherever it is built.
//! axum-extra's `Router::typed_get(h)` is a GET too. Method-less forms: `.fallback(h)` and `.route_service(path, h)` / `.nest_service(path, h)`
//! serve every method. A `MethodFilter` that cannot be read serves every method too.

use syn::{BinOp, Expr, ExprCall, ExprMethodCall};

use super::extract::{Chain, Found, Walker};
use super::facts::{Framework, MethodSet};
use super::names::{has, OR_METHOD};
use super::shapes::is_associated_fn;
use super::syntax::{path_segments, str_lit, strip};

/// `get(h)`, `any(h)`, `on(filter, h)` called as functions of a framework.
pub(super) fn call<'e>(w: &Walker<'_>, call: &'e ExprCall, hint: Option<&str>) -> Option<Found<'e>> {
    let Expr::Path(callee) = &*call.func else { return None };
    if callee.qself.is_some() {
        return None;
    }
    let last = callee.path.segments.last()?;
    let name = last.ident.to_string();
    let args: Vec<&Expr> = call.args.iter().collect();
    let names = w.names;
    let (methods, handler) = match (name.as_str(), args.as_slice()) {
        (m, [h]) if names.method(m).is_some() => (names.method(m)?, *h),
        (m, [h]) if has(&names.any_method, m) => (MethodSet::ANY, *h),
        (m, [filter, h]) if has(&names.method_filters, m) => (filter_methods(filter), *h),
        _ => return None,
    };
    let framework = method_router_framework(w, &callee.path)?;
    Some(Found {
        methods,
        handler,
        at: last.ident.span(),
        path: hint.map(str::to_string),
        framework,
        requires_fn: false,
    })
}

/// What a call starts, when it is a method router: `get(h)`, `on(filter, h)`,
/// `MethodRouter::new()`, `RouteMethod::new()`.
pub(super) fn root(w: &Walker<'_>, call: &ExprCall) -> Option<Chain> {
    let Expr::Path(callee) = &*call.func else { return None };
    if callee.qself.is_some() {
        return None;
    }
    let segments = path_segments(&callee.path);
    let name = segments.last()?.as_str();
    let arity = call.args.len();
    let is_router = match arity {
        1 => w.names.method(name).is_some() || has(&w.names.any_method, name),
        2 => has(&w.names.method_filters, name),
        0 => {
            segments.len() >= 2
                && name == "new"
                && has(&w.names.method_routers, &segments[segments.len() - 2])
        }
        _ => false,
    };
    if !is_router {
        return None;
    }
    if arity == 0 {
        // `MethodRouter::new()`: the type names the framework, when the imports do not.
        let framework =
            w.framework_of(&callee.path).unwrap_or(if segments[segments.len() - 2] == "RouteMethod" {
                Framework::Poem
            } else {
                Framework::Axum
            });
        return Some(Chain::MethodRouter(framework));
    }
    method_router_framework(w, &callee.path).map(Chain::MethodRouter)
}

/// `.post(h)`, `.on(filter, h)` on a method router; `.fallback(h)`,
/// `.route_service(path, h)`-style mounts anywhere.
/// `name`: the method's, as written.
pub(super) fn method_call<'e>(
    w: &Walker<'_>,
    call: &'e ExprMethodCall,
    name: &str,
    receiver: Option<&Chain>,
    hint: Option<&str>,
) -> Option<Found<'e>> {
    let args: Vec<&Expr> = call.args.iter().collect();
    let at = call.method.span();
    if let (Some(methods), [handler]) = (w.names.typed_method(name), args.as_slice()) {
        return Some(Found {
            methods,
            handler,
            at,
            path: None,
            framework: Framework::Axum,
            requires_fn: false,
        });
    }
    if let Some(Chain::MethodRouter(framework)) = receiver {
        let (methods, handler) = match (name, args.as_slice()) {
            (m, [h]) if w.names.method(m).is_some() => (w.names.method(m)?, *h),
            (m, [filter, h]) if has(&w.names.method_filters, m) => (filter_methods(filter), *h),
            _ => return fallback(w, call, name, receiver),
        };
        return Some(Found {
            methods,
            handler,
            at,
            path: hint.map(str::to_string),
            framework: *framework,
            requires_fn: false,
        });
    }
    fallback(w, call, name, receiver)
}

/// `.fallback(h)`, `.fallback_service(svc)`, `.default_service(svc)`: every method.
fn fallback<'e>(
    w: &Walker<'_>,
    call: &'e ExprMethodCall,
    name: &str,
    receiver: Option<&Chain>,
) -> Option<Found<'e>> {
    let [handler] = call.args.iter().collect::<Vec<_>>()[..] else { return None };
    if !has(&w.names.fallbacks, name) {
        return None;
    }
    let framework = match receiver {
        Some(Chain::MethodRouter(f)) => *f,
        Some(Chain::Actix { .. }) => Framework::ActixWeb,
        None => w.router_framework(Framework::Unknown),
    };
    Some(Found {
        methods: MethodSet::ANY,
        handler,
        at: call.method.span(),
        path: None,
        framework,
        requires_fn: true,
    })
}

/// The framework of a method-router function, or `None` when the callee is not one (the
/// crate's own `get`, `reqwest::get`, actix's handler-less `web::get()`).
fn method_router_framework(w: &Walker<'_>, callee: &syn::Path) -> Option<Framework> {
    if is_associated_fn(callee) {
        // `Request::get(uri)`: a type's builder, not a method router.
        return None;
    }
    match w.framework_of(callee)? {
        Framework::ActixWeb | Framework::Rocket | Framework::PoemOpenApi | Framework::Utoipa => None,
        f => Some(f),
    }
}

/// The methods of an axum `MethodFilter` expression: `MethodFilter::GET`,
/// `MethodFilter::GET.or(MethodFilter::HEAD)`, `MethodFilter::GET | MethodFilter::HEAD`;
/// every method when it cannot be read.
pub(super) fn filter_methods(expr: &Expr) -> MethodSet {
    match strip(expr) {
        Expr::Path(p) => p
            .path
            .segments
            .last()
            .and_then(|s| MethodSet::named(&s.ident.to_string()))
            .unwrap_or(MethodSet::ANY),
        Expr::MethodCall(m) if m.method == OR_METHOD && m.args.len() == 1 => {
            filter_methods(&m.receiver).union(filter_methods(&m.args[0]))
        }
        Expr::Binary(b) if matches!(b.op, BinOp::BitOr(_)) => {
            filter_methods(&b.left).union(filter_methods(&b.right))
        }
        _ => MethodSet::ANY,
    }
}

/// A path given where a method is expected: `Method::GET`, `http::Method::POST`.
pub(super) fn method_constant(expr: &Expr) -> MethodSet {
    match strip(expr) {
        Expr::Path(p) => {
            let Some(last) = p.path.segments.last() else { return MethodSet::ANY };
            let name = last.ident.to_string();
            match MethodSet::named(&name) {
                Some(m) => m,
                None if name.chars().all(|c| c.is_ascii_uppercase() || c == '_') => MethodSet::OTHER,
                None => MethodSet::ANY,
            }
        }
        Expr::Lit(_) => str_lit(expr).and_then(|m| MethodSet::named(&m)).unwrap_or(MethodSet::OTHER),
        _ => MethodSet::ANY,
    }
}
