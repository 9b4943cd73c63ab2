//! poem's own forms. Its method routers (`get(h)`, `get(a).post(b)`, `RouteMethod::new()`)
//! are [`super::axum`]'s shape and found there; here: a method-less `Route::at(path, ep)` or
//! `.nest(path, ep)`, which serves every method, and `RouteMethod::method(Method::GET, ep)`.

use syn::{Expr, ExprMethodCall};

use super::axum::method_constant;
use super::extract::{Chain, Found, Walker};
use super::facts::{Framework, MethodSet};
use super::names::{has, METHOD_WITH_METHOD};
use super::syntax::str_lit;

/// `.at(path, ep)` / `.nest(path, ep)` (every method) and `.method(Method::X, ep)` on a
/// method router.
pub(super) fn method_call<'e>(
    w: &Walker<'_>,
    call: &'e ExprMethodCall,
    name: &str,
    receiver: Option<&Chain>,
    hint: Option<&str>,
) -> Option<Found<'e>> {
    let args: Vec<&Expr> = call.args.iter().collect();
    let at = call.method.span();
    match (name, args.as_slice(), receiver) {
        (METHOD_WITH_METHOD, [method, handler], Some(Chain::MethodRouter(framework))) => Some(Found {
            methods: method_constant(method),
            handler,
            at,
            path: hint.map(str::to_string),
            framework: *framework,
            requires_fn: false,
        }),
        (mount, [path, handler], _) if has(&w.names.mounts, mount) => Some(Found {
            methods: MethodSet::ANY,
            handler,
            at,
            path: str_lit(path),
            framework: w.router_framework(Framework::Poem),
            requires_fn: true,
        }),
        _ => None,
    }
}
