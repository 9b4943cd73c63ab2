//! The frameworks' vocabulary: function, method, attribute and crate names of route forms.
//!
//! TODO(rule set): these are framework markers and belong in `rules/default.toml` (a
//! `[routes]` table), like every other name the analysis matches; they live here until the
//! rule set grows that table. No other module of `routes` spells a framework name.

/// HTTP method names as the frameworks spell their functions, methods and attributes
/// (axum/poem `get(h)`, `.post(h)`; actix `web::get()`; actix/rocket `#[get("/x")]`).
pub(super) const HTTP_METHODS: &[&str] =
    &["get", "head", "post", "put", "delete", "patch", "options", "trace", "connect"];

/// axum-extra's typed routes, `Router::typed_get(h)` (the path comes from the handler's
/// `TypedPath` argument): the method is the name after `typed_`.
pub(super) const TYPED_METHODS: &[&str] = &[
    "typed_get",
    "typed_head",
    "typed_post",
    "typed_put",
    "typed_delete",
    "typed_patch",
    "typed_options",
    "typed_trace",
    "typed_connect",
];
pub(super) const TYPED_PREFIX: &str = "typed_";

/// A method router for every method: axum `any(h)`.
pub(super) const ANY_METHOD_FN: &str = "any";
/// A method router for a method filter: axum `on(MethodFilter::GET, h)` (also a method).
pub(super) const FILTER_FN: &str = "on";
/// Method-router types built empty and filled by method calls: axum `MethodRouter::new()`,
/// poem `RouteMethod::new()`.
pub(super) const METHOD_ROUTER_TYPES: &[&str] = &["MethodRouter", "RouteMethod"];
/// poem's `RouteMethod::method(Method::GET, ep)`.
pub(super) const METHOD_WITH_METHOD: &str = "method";

/// actix route constructors taking no handler: `web::route()`, `web::method(Method::GET)`,
/// `web::resource("/x")`, and the types behind them.
pub(super) const ACTIX_ROUTE_FN: &str = "route";
pub(super) const ACTIX_METHOD_FN: &str = "method";
pub(super) const ACTIX_RESOURCE_FN: &str = "resource";
pub(super) const ACTIX_ROUTE_TYPE: &str = "Route";
pub(super) const ACTIX_RESOURCE_TYPE: &str = "Resource";
/// actix's `web::scope("/x")`: an empty route path inside it is the scope's path.
pub(super) const ACTIX_SCOPE_FN: &str = "scope";
/// actix methods binding a handler to a route: `.to(h)`.
pub(super) const ACTIX_TO_METHODS: &[&str] = &["to", "to_async"];
/// actix's free `web::to(h)`: a handler for every method.
pub(super) const ACTIX_TO_FN: &str = "to";
/// actix methods narrowing a route to guards: `.method(Method::GET)`, `.guard(guard::Get())`.
pub(super) const ACTIX_GUARD_METHOD: &str = "guard";
/// actix guard combinators: `guard::Any(a).or(b)`.
pub(super) const ACTIX_ANY_GUARD: &str = "Any";
pub(super) const ACTIX_METHOD_GUARD: &str = "Method";
pub(super) const OR_METHOD: &str = "or";

/// Method-less mounts of a handler, endpoint, service or router, with the path first:
/// poem `.at(path, ep)`, `.nest(path, ep)`; axum `.route_service(path, svc)`,
/// `.nest_service(path, svc)`. A function mounted there serves every method.
pub(super) const MOUNT_METHODS: &[&str] = &["at", "nest", "nest_no_strip", "route_service", "nest_service"];
/// Method-less fallbacks: axum `.fallback(h)`, `.fallback_service(svc)`, actix
/// `.default_service(svc)`.
pub(super) const FALLBACK_METHODS: &[&str] = &["fallback", "fallback_service", "default_service"];
/// Methods taking a path and then a route/method router: axum `.route(path, get(h))`, actix
/// `App::route(path, web::get().to(h))`; with [`MOUNT_METHODS`], where a path literal is
/// found for the registrations inside.
pub(super) const ROUTE_METHOD: &str = "route";

/// Crates whose paths hold route functions, with the framework each is.
pub(super) const FRAMEWORK_CRATES: &[(&str, super::Framework)] = &[
    ("axum", super::Framework::Axum),
    ("poem", super::Framework::Poem),
    ("actix_web", super::Framework::ActixWeb),
    ("rocket", super::Framework::Rocket),
    ("poem_openapi", super::Framework::PoemOpenApi),
    ("utoipa", super::Framework::Utoipa),
];
/// Framework modules often named without their crate (after a glob import of the crate):
/// axum's `routing::get(h)`, actix's `web::get()`.
pub(super) const FRAMEWORK_MODULES: &[(&str, super::Framework)] =
    &[("routing", super::Framework::Axum), ("web", super::Framework::ActixWeb)];

/// Route attributes: `#[route("/x", method = "GET")]` (actix), `#[route(GET, uri = "/x")]`
/// (rocket); the method-named ones are [`HTTP_METHODS`].
pub(super) const ROUTE_ATTR: &str = "route";
/// Keys of route attributes naming a method or the path.
pub(super) const METHOD_KEY: &str = "method";
pub(super) const PATH_KEYS: &[&str] = &["path", "uri"];
/// poem's endpoint marker `#[handler]`: the method comes from the router.
pub(super) const HANDLER_ATTR: &str = "handler";
/// poem-openapi's operation attribute `#[oai(path = "/x", method = "get")]`.
pub(super) const OAI_ATTR: &str = "oai";
/// utoipa's `#[utoipa::path(get, path = "/x")]` (also `method(get, head)`).
pub(super) const UTOIPA_PATH_ATTR: &str = "path";
pub(super) const UTOIPA_CRATE: &str = "utoipa";

/// Words a file must contain (as whole identifiers) to hold any route form above: the
/// prefilter's screen for route discovery. Built from the lists above so that they never
/// drift apart.
pub(super) fn route_markers() -> Vec<&'static str> {
    let mut words: Vec<&'static str> = HTTP_METHODS.to_vec();
    words.extend(TYPED_METHODS);
    words.extend([ANY_METHOD_FN, FILTER_FN, METHOD_WITH_METHOD, ACTIX_ROUTE_FN, ACTIX_METHOD_FN]);
    words.extend(METHOD_ROUTER_TYPES);
    words.extend([ACTIX_RESOURCE_FN, ACTIX_ROUTE_TYPE, ACTIX_RESOURCE_TYPE, ACTIX_TO_FN]);
    words.extend(ACTIX_TO_METHODS);
    words.extend(MOUNT_METHODS);
    words.extend(FALLBACK_METHODS);
    words.extend([ROUTE_METHOD, ROUTE_ATTR, HANDLER_ATTR, OAI_ATTR, UTOIPA_CRATE]);
    words.sort_unstable();
    words.dedup();
    words
}
