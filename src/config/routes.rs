//! The `[routes]` table of the rule set: the web frameworks' vocabulary that `migrate`'s route
//! discovery matches (registration functions and methods, mounts, fallbacks, route attributes,
//! framework crates). Only names and their checks; what a name means for discovery is
//! `migrate::routes`'.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::raw::{List, Map, RawRules};
use super::{Check, ConfigError, Merger};

/// The `[routes]` table: how web frameworks register routes, for `migrate`'s discovery.
#[derive(Debug, Clone, Default)]
pub struct RouteRules {
    /// Crates whose paths hold route forms -> the framework each is (one of [`FRAMEWORKS`]).
    pub crates: BTreeMap<String, String>,
    /// Framework modules often named without their crate -> the framework.
    pub modules: BTreeMap<String, String>,
    /// Functions, methods and attributes registering a handler for one HTTP method -> that
    /// method (`get(h)`, `.post(h)`, `web::get()`, `#[get("/x")]`).
    pub methods: BTreeMap<String, String>,
    /// Methods of a router registering a typed route -> its method (`.typed_get(h)`).
    pub typed_methods: BTreeMap<String, String>,
    /// A method router for every method (`any(h)`).
    pub any_method: Vec<String>,
    /// A method router for a method filter (`on(MethodFilter::GET, h)`).
    pub method_filters: Vec<String>,
    /// Method-router types built empty (`MethodRouter::new()`).
    pub method_routers: Vec<String>,
    /// Methods taking a path and a method router (`.route(path, get(h))`).
    pub route_methods: Vec<String>,
    /// Method-less mounts taking a path and a handler (`.at(path, ep)`).
    pub mounts: Vec<String>,
    /// Method-less fallbacks (`.fallback(h)`).
    pub fallbacks: Vec<String>,
    /// Methods giving a handler-less route its handler (actix `.to(h)`).
    pub to_methods: Vec<String>,
    /// Attributes taking the path and the methods as arguments (`#[route("/x", method = "GET")]`).
    pub route_attributes: Vec<String>,
    /// Method-less endpoint attributes (poem `#[handler]`).
    pub handler_attributes: Vec<String>,
}

/// The frameworks `[routes] crates` may name.
pub const FRAMEWORKS: &[&str] = &["axum", "poem", "actix-web", "rocket", "poem-openapi", "utoipa"];

/// The methods `[routes] methods` may name (`ANY`: every method).
pub const HTTP_METHODS: &[&str] =
    &["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "ANY"];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoutes {
    crates: Map,
    modules: Map,
    methods: Map,
    typed_methods: Map,
    any_method: List,
    method_filters: List,
    method_routers: List,
    route_methods: List,
    mounts: List,
    fallbacks: List,
    to_methods: List,
    route_attributes: List,
    handler_attributes: List,
}

impl Merger<'_> {
    /// A map table of both files (always merged), keys checked as identifiers and values
    /// against `values`.
    pub(super) fn map(
        &self,
        get: impl Fn(&RawRules) -> &Map,
        key: &str,
        values: &[&str],
    ) -> Result<BTreeMap<String, String>, ConfigError> {
        let mut out = BTreeMap::new();
        for file in std::iter::once(self.defaults).chain(self.project) {
            for (from, to) in get(&file.rules).iter().flatten() {
                if let Some(problem) = Check::Ident.problem(from.get_ref()) {
                    return Err(file.error(from.span(), key, problem));
                }
                if !values.contains(&to.get_ref().as_str()) {
                    let problem = format!("`{}` is not one of {}", to.get_ref(), values.join(", "));
                    return Err(file.error(to.span(), key, problem));
                }
                out.insert(from.get_ref().clone(), to.get_ref().clone());
            }
        }
        Ok(out)
    }

    pub(super) fn routes(&self) -> Result<RouteRules, ConfigError> {
        let list = |get: fn(&RawRoutes) -> &List, key: &str| self.list(|r| get(&r.routes), key, Check::Ident);
        Ok(RouteRules {
            crates: self.map(|r| &r.routes.crates, "routes.crates", FRAMEWORKS)?,
            modules: self.map(|r| &r.routes.modules, "routes.modules", FRAMEWORKS)?,
            methods: self.map(|r| &r.routes.methods, "routes.methods", HTTP_METHODS)?,
            typed_methods: self.map(|r| &r.routes.typed_methods, "routes.typed_methods", HTTP_METHODS)?,
            any_method: list(|r| &r.any_method, "routes.any_method")?,
            method_filters: list(|r| &r.method_filters, "routes.method_filters")?,
            method_routers: list(|r| &r.method_routers, "routes.method_routers")?,
            route_methods: list(|r| &r.route_methods, "routes.route_methods")?,
            mounts: list(|r| &r.mounts, "routes.mounts")?,
            fallbacks: list(|r| &r.fallbacks, "routes.fallbacks")?,
            to_methods: list(|r| &r.to_methods, "routes.to_methods")?,
            route_attributes: list(|r| &r.route_attributes, "routes.route_attributes")?,
            handler_attributes: list(|r| &r.handler_attributes, "routes.handler_attributes")?,
        })
    }
}
