//! Syntactic shapes route discovery judges before recording anything: what may name a
//! handler, which callee is a type's associated function rather than a framework's method
//! router, and which function body is a documentation stub. Reads syntax only; never
//! resolves a name or records a route.

use syn::{Block, Expr, Stmt};

use super::syntax::{chain_root, strip};

/// Macros whose call as a whole body marks a function that does nothing yet.
const STUB_MACROS: [&str; 2] = ["unimplemented", "todo"];

/// Whether `expr`, given where a handler goes, may name one: a closure, or a path (generic
/// arguments allowed: `h::<T>`) that is not a constant (`StatusCode::OK`), possibly with
/// layers or state attached (`h.with(..)`). Strings, `format!`, calls and builders never are.
pub(super) fn names_a_handler(expr: &Expr) -> bool {
    match strip(expr) {
        Expr::Closure(_) => true,
        Expr::Path(p) => p.path.segments.last().is_some_and(|s| !is_constant_name(&s.ident.to_string())),
        Expr::MethodCall(m) => {
            let root = strip(chain_root(&m.receiver));
            matches!(root, Expr::Path(_) | Expr::Closure(_)) && names_a_handler(root)
        }
        _ => false,
    }
}

/// `SCREAMING_CASE`: a constant's or a static's name, never a function's.
fn is_constant_name(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Whether a callee path is a type's associated function (`Request::get`, `Redirect::to`,
/// `web::Redirect::to`): the segment before the last names a type (starts upper-case).
pub(super) fn is_associated_fn(path: &syn::Path) -> bool {
    let n = path.segments.len();
    n >= 2 && path.segments[n - 2].ident.to_string().starts_with(|c: char| c.is_ascii_uppercase())
}

/// Whether a function body is a documentation stub: empty, or only `unimplemented!(..)` /
/// `todo!(..)`. A route attribute on such a function declares no handler.
pub(super) fn is_stub(body: &Block) -> bool {
    let is_stub_macro = |mac: &syn::Macro| {
        mac.path.segments.last().is_some_and(|s| STUB_MACROS.contains(&s.ident.to_string().as_str()))
    };
    match body.stmts.as_slice() {
        [] => true,
        [Stmt::Macro(m)] => is_stub_macro(&m.mac),
        [Stmt::Expr(Expr::Macro(m), _)] => is_stub_macro(&m.mac),
        _ => false,
    }
}
