//! GET handler discovery: which functions every route reaching them serves with GET (or HEAD)
//! only.
//!
//! Two steps, in the pipeline's one direction:
//!
//! 1. Per file, on the worker that parsed it: [`extract`] turns the syntax tree into owned
//!    [`FileRoutes`] — route registrations in router-building code (axum, actix-web, poem),
//!    routes declared by attributes (actix-web, rocket, poem, poem-openapi, utoipa), every
//!    function with its ranges, every `use` name — and keeps no span, so the worker can release
//!    the span table right after.
//! 2. Over the whole tree: [`discover`] resolves each handler reference to its `fn` through
//!    module paths and `use` names, groups the routes by function and applies the GET-only
//!    rule ([`RouteClass`]).
//!
//! [`RouteNames::markers`] lists the words a file must contain to register a route, for the
//! text prefilter; every framework name comes from the rule set's `[routes]` table
//! ([`RouteNames`]). A file that defines handlers but registers none (`src/api/users.rs`) is not
//! screened in by them: resolution needs its [`FileRoutes`] too, so the pipeline parses the
//! files that define the names [`Handler`]s left unresolved and runs [`discover`] again.
//!
//! What is not recognised: routes built by a project's own macros or helper functions taking
//! the handler as a parameter (`fn add(r: Router, h: H) -> Router { r.route("/", get(h)) }`
//! registers `h`, a parameter: unresolved), prefixes of nested routers (paths are the literal
//! next to each registration), `#[path = ".."]` module attributes, and macro invocations at item
//! level whose bodies are not items (`lazy_static!`).

mod actix;
mod attributes;
mod axum;
mod classify;
mod extract;
mod facts;
mod imports;
mod names;
mod poem;
mod resolve;
mod scope;
mod shapes;
mod syntax;

#[cfg(test)]
mod tests;

pub use crate::workspace::location::{locate, ModuleLocation};
pub use classify::{discover, discover_in, ClosureId, FnId, Handler, HandlerTarget, RouteClass, RouteRef};
pub use extract::extract;
pub use facts::{AttrRoute, FileRoutes, FnDef, Framework, HandlerRef, Import, MethodSet, Registration};
pub use resolve::{FnKey, RefScope, TreeIndex};

pub use names::RouteNames;
