//! actix-web's route builders.
//!
//! A route starts handler-less — `web::get()` (or bare `get()` after `use actix_web::web::*`),
//! `web::route()`, `web::method(Method::GET)`, `web::resource("/x")`, `Route::new()` — is
//! narrowed by guards (`.method(Method::GET)`, `.guard(guard::Get())`; guards must all match,
//! so sets intersect) and gets its handler from `.to(h)`. `web::to(h)` serves every method.
//! Attribute routes (`#[get("/x")]` mounted by `.service(h)`) are [`super::attributes`]'.
//! A guard that cannot be read narrows nothing.

use syn::{Expr, ExprCall, ExprMethodCall};

use super::axum::method_constant;
use super::extract::{Chain, Found, Walker};
use super::facts::{Framework, MethodSet};
use super::names::{
    has, ACTIX_ANY_GUARD, ACTIX_GUARD_METHOD, ACTIX_METHOD_FN, ACTIX_METHOD_GUARD, ACTIX_RESOURCE_FN,
    ACTIX_RESOURCE_TYPE, ACTIX_ROUTE_FN, ACTIX_ROUTE_TYPE, ACTIX_TO_FN, OR_METHOD,
};
use super::shapes::is_associated_fn;
use super::syntax::{path_segments, str_lit, strip};

/// What a call starts, when it is a handler-less actix route or resource.
pub(super) fn root(w: &Walker<'_>, call: &ExprCall) -> Option<Chain> {
    let Expr::Path(callee) = &*call.func else { return None };
    if callee.qself.is_some() {
        return None;
    }
    let segments = path_segments(&callee.path);
    let name = segments.last()?.as_str();
    let owner = segments.len().checked_sub(2).map(|i| segments[i].as_str());
    let args: Vec<&Expr> = call.args.iter().collect();
    let chain = match (owner, name, args.as_slice()) {
        (_, m, []) if w.names.method(m).is_some() => Chain::Actix { methods: w.names.method(m)?, path: None },
        (_, ACTIX_ROUTE_FN, []) | (Some(ACTIX_ROUTE_TYPE), "new", []) => {
            Chain::Actix { methods: MethodSet::ANY, path: None }
        }
        (_, ACTIX_METHOD_FN, [m]) => Chain::Actix { methods: method_constant(m), path: None },
        (_, ACTIX_RESOURCE_FN, [p]) | (Some(ACTIX_RESOURCE_TYPE), "new", [p]) => {
            Chain::Actix { methods: MethodSet::ANY, path: str_lit(p) }
        }
        _ => return None,
    };
    matches!(w.framework_of(&callee.path)?, Framework::ActixWeb | Framework::Unknown).then_some(chain)
}

/// A route narrowed by one more method call: `.method(M)`, `.guard(g)`; anything else keeps
/// it as it is.
pub(super) fn narrow(chain: Chain, call: &ExprMethodCall) -> Chain {
    let Chain::Actix { methods, path } = chain else { return chain };
    let name = call.method.to_string();
    let narrowed = match (name.as_str(), call.args.len()) {
        (ACTIX_METHOD_FN, 1) => methods.intersection(method_constant(&call.args[0])),
        (ACTIX_GUARD_METHOD, 1) => guard_methods(&call.args[0]).map_or(methods, |g| methods.intersection(g)),
        _ => methods,
    };
    Chain::Actix { methods: narrowed, path }
}

/// `.to(h)` on a route; `hint` is the path of an enclosing `.route("/x", …)`.
pub(super) fn method_call<'e>(
    w: &Walker<'_>,
    call: &'e ExprMethodCall,
    name: &str,
    receiver: Option<&Chain>,
    hint: Option<&str>,
) -> Option<Found<'e>> {
    let Some(Chain::Actix { methods, path }) = receiver else { return None };
    let [handler] = call.args.iter().collect::<Vec<_>>()[..] else { return None };
    if !has(&w.names.to_methods, name) {
        return None;
    }
    Some(Found {
        methods: *methods,
        handler,
        at: call.method.span(),
        path: path.clone().or(hint.map(str::to_string)),
        framework: Framework::ActixWeb,
        requires_fn: false,
    })
}

/// `web::to(h)`: a handler for every method.
pub(super) fn call<'e>(w: &Walker<'_>, call: &'e ExprCall) -> Option<Found<'e>> {
    let Expr::Path(callee) = &*call.func else { return None };
    let last = callee.path.segments.last()?;
    let [handler] = call.args.iter().collect::<Vec<_>>()[..] else { return None };
    if callee.qself.is_some() || last.ident != ACTIX_TO_FN || is_associated_fn(&callee.path) {
        return None;
    }
    let framework = w.framework_of(&callee.path)?;
    if !matches!(framework, Framework::ActixWeb | Framework::Unknown) {
        return None;
    }
    // A bare `to(x)` may be anything: only a function or a closure makes it a route.
    let requires_fn = framework == Framework::Unknown;
    Some(Found {
        methods: MethodSet::ANY,
        handler,
        at: last.ident.span(),
        path: None,
        framework: Framework::ActixWeb,
        requires_fn,
    })
}

/// The methods a guard lets through: `guard::Get()`, `guard::Method(Method::GET)`,
/// `guard::Any(guard::Get()).or(guard::Head())`; `None` for a guard that is not about methods
/// or cannot be read.
fn guard_methods(expr: &Expr) -> Option<MethodSet> {
    match strip(expr) {
        Expr::Call(c) => {
            let Expr::Path(callee) = &*c.func else { return None };
            let name = callee.path.segments.last()?.ident.to_string();
            match (name.as_str(), c.args.len()) {
                (ACTIX_METHOD_GUARD, 1) => Some(method_constant(&c.args[0])),
                (ACTIX_ANY_GUARD, 1) => guard_methods(&c.args[0]),
                (m, 0) if m.chars().next().is_some_and(|c| c.is_ascii_uppercase()) => MethodSet::named(m),
                _ => None,
            }
        }
        Expr::MethodCall(m) if m.method == OR_METHOD && m.args.len() == 1 => {
            Some(guard_methods(&m.receiver)?.union(guard_methods(&m.args[0])?))
        }
        _ => None,
    }
}
