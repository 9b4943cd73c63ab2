//! The frameworks' vocabulary: function, method, attribute and crate names of route forms.
//!
//! What a project may extend comes from the rule set's `[routes]` table ([`RouteNames`], built
//! from [`RouteRules`]); the constants below are the fixed shapes of the frameworks' own APIs
//! (actix's route builders and guards, poem's `RouteMethod::method`, attribute keys). No other
//! module of `routes` spells a framework name.

use std::collections::{HashMap, HashSet};

use super::facts::{Framework, MethodSet};
use crate::config::RouteRules;
use crate::prefilter::{is_method_name_at, Prefilter};

/// The `[routes]` table as discovery matches it.
#[derive(Debug, Clone, Default)]
pub struct RouteNames {
    crates: Vec<(String, Framework)>,
    modules: Vec<(String, Framework)>,
    methods: HashMap<String, MethodSet>,
    typed_methods: HashMap<String, MethodSet>,
    pub(super) any_method: Vec<String>,
    pub(super) method_filters: Vec<String>,
    pub(super) method_routers: Vec<String>,
    pub(super) route_methods: Vec<String>,
    pub(super) mounts: Vec<String>,
    pub(super) fallbacks: Vec<String>,
    pub(super) to_methods: Vec<String>,
    pub(super) route_attributes: Vec<String>,
    pub(super) handler_attributes: Vec<String>,
    /// What a function body must name to be walked: a route marker, or an item keyword (an
    /// item inside it is recorded). `None`: every body is walked.
    pub(super) body_screen: Option<Prefilter>,
    /// The markers of [`RouteNames::chain_markers`]: they make a body walked only where they
    /// are not a method's name (`map.get(k)`, `iter.any(..)` start no method router).
    chain_words: Vec<String>,
    /// The words of [`RouteNames::markers`], for telling a call or method call that no
    /// recogniser can take without asking each. `None`: any name may be one.
    marker_set: Option<HashSet<String>>,
}

/// Keywords of the items a body may hold that discovery records (functions, `use` and
/// `extern crate` names); impls, traits and inline modules record only through these.
const BODY_ITEM_WORDS: [&str; 3] = ["fn", "use", "extern"];

/// The framework a `[routes.crates]` value names.
fn framework(label: &str) -> Framework {
    match label {
        "axum" => Framework::Axum,
        "poem" => Framework::Poem,
        "actix-web" => Framework::ActixWeb,
        "rocket" => Framework::Rocket,
        "poem-openapi" => Framework::PoemOpenApi,
        "utoipa" => Framework::Utoipa,
        _ => Framework::Unknown,
    }
}

/// The methods a `[routes.methods]` value names.
fn methods(label: &str) -> MethodSet {
    if label == "ANY" {
        MethodSet::ANY
    } else {
        MethodSet::named(label).unwrap_or(MethodSet::ANY)
    }
}

/// Whether `list` holds `name`.
pub(super) fn has(list: &[String], name: &str) -> bool {
    list.iter().any(|n| n == name)
}

impl RouteNames {
    /// From the rule set's `[routes]` table.
    pub fn new(rules: &RouteRules) -> RouteNames {
        let frameworks = |map: &std::collections::BTreeMap<String, String>| {
            map.iter().map(|(name, label)| (name.clone(), framework(label))).collect()
        };
        let methods = |map: &std::collections::BTreeMap<String, String>| {
            map.iter().map(|(name, label)| (name.clone(), methods(label))).collect()
        };
        let mut names = RouteNames {
            crates: frameworks(&rules.crates),
            modules: frameworks(&rules.modules),
            methods: methods(&rules.methods),
            typed_methods: methods(&rules.typed_methods),
            any_method: rules.any_method.clone(),
            method_filters: rules.method_filters.clone(),
            method_routers: rules.method_routers.clone(),
            route_methods: rules.route_methods.clone(),
            mounts: rules.mounts.clone(),
            fallbacks: rules.fallbacks.clone(),
            to_methods: rules.to_methods.clone(),
            route_attributes: rules.route_attributes.clone(),
            handler_attributes: rules.handler_attributes.clone(),
            body_screen: None,
            chain_words: Vec::new(),
            marker_set: None,
        };
        names.body_screen = Some(Prefilter::new(names.markers().into_iter().chain(BODY_ITEM_WORDS)));
        names.chain_words = names.chain_markers().into_iter().map(str::to_string).collect();
        names.marker_set = Some(names.markers().into_iter().map(str::to_string).collect());
        names
    }

    /// Whether a body of this text may register a route or hold an item discovery records:
    /// it names a route marker or an item keyword as a whole identifier. The recognisers know
    /// a registration by the method, mount or builder name written in it.
    pub(super) fn body_may_register(&self, text: &str) -> bool {
        let Some(screen) = &self.body_screen else { return true };
        screen.matches_where(text, |word, at| !has(&self.chain_words, word) || !is_method_name_at(text, at))
    }

    /// Whether `name` is one of [`RouteNames::markers`]: every route form names one as the
    /// function or method called (or, for `Type::new()`, as the type).
    pub(super) fn is_marker(&self, name: &str) -> bool {
        self.marker_set.as_ref().is_none_or(|set| set.contains(name))
    }

    /// The methods a function, method or attribute of this name registers a handler for.
    pub(super) fn method(&self, name: &str) -> Option<MethodSet> {
        self.methods.get(name).copied()
    }

    /// The method of a typed route method (`typed_get`).
    pub(super) fn typed_method(&self, name: &str) -> Option<MethodSet> {
        self.typed_methods.get(name).copied()
    }

    /// The framework of a crate name.
    pub(super) fn crate_framework(&self, name: &str) -> Option<Framework> {
        self.crates.iter().find(|(c, _)| c == name).map(|(_, f)| *f)
    }

    /// The framework of a module named without its crate (`routing`, `web`).
    pub(super) fn module_framework(&self, name: &str) -> Option<Framework> {
        self.modules.iter().find(|(m, _)| m == name).map(|(_, f)| *f)
    }

    /// The crates whose paths hold route forms.
    pub fn framework_crates(&self) -> Vec<&str> {
        self.crates.iter().map(|(c, _)| c.as_str()).collect()
    }

    /// Words a file must contain (as whole identifiers) to hold any route form: the
    /// prefilter's screen for route discovery. Built from the same names as the recognisers,
    /// so that they never drift apart.
    pub fn markers(&self) -> Vec<&str> {
        let mut words = self.anywhere_markers();
        words.extend(self.chain_candidates());
        words.sort_unstable();
        words.dedup();
        words
    }

    /// The markers that register only as a function called (`get(h)`, `any(h)`, `on(f, h)`) or
    /// as a method of a method router the same body starts (`get(a).post(b)`): the methods'
    /// names, `any`, the method filters — unless [`RouteNames::anywhere_markers`] holds them too.
    fn chain_markers(&self) -> Vec<&str> {
        let anywhere = self.anywhere_markers();
        let mut words: Vec<&str> = self.chain_candidates().filter(|w| !anywhere.contains(w)).collect();
        words.sort_unstable();
        words.dedup();
        words
    }

    fn chain_candidates(&self) -> impl Iterator<Item = &str> {
        let lists = [&self.any_method, &self.method_filters];
        self.methods.keys().chain(lists.into_iter().flatten()).map(String::as_str)
    }

    /// The markers a recogniser may take wherever they are written, as a method of anything too
    /// (`.route(..)`, `.to(h)`, `.typed_get(h)`, `.fallback(h)`, attributes, types).
    fn anywhere_markers(&self) -> Vec<&str> {
        let mut words: Vec<&str> = self.typed_methods.keys().map(String::as_str).collect();
        for list in [
            &self.method_routers,
            &self.route_methods,
            &self.mounts,
            &self.fallbacks,
            &self.to_methods,
            &self.route_attributes,
            &self.handler_attributes,
        ] {
            words.extend(list.iter().map(String::as_str));
        }
        words.extend([METHOD_WITH_METHOD, ACTIX_ROUTE_FN, ACTIX_METHOD_FN, ACTIX_RESOURCE_FN]);
        words.extend([ACTIX_ROUTE_TYPE, ACTIX_RESOURCE_TYPE, ACTIX_TO_FN, OAI_ATTR, UTOIPA_CRATE]);
        words
    }
}

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
/// actix's free `web::to(h)`: a handler for every method.
pub(super) const ACTIX_TO_FN: &str = "to";
/// actix methods narrowing a route to guards: `.method(Method::GET)`, `.guard(guard::Get())`.
pub(super) const ACTIX_GUARD_METHOD: &str = "guard";
/// actix guard combinators: `guard::Any(a).or(b)`.
pub(super) const ACTIX_ANY_GUARD: &str = "Any";
pub(super) const ACTIX_METHOD_GUARD: &str = "Method";
pub(super) const OR_METHOD: &str = "or";

/// Keys of route attributes naming a method or the path.
pub(super) const METHOD_KEY: &str = "method";
pub(super) const PATH_KEYS: &[&str] = &["path", "uri"];
/// poem-openapi's operation attribute `#[oai(path = "/x", method = "get")]`.
pub(super) const OAI_ATTR: &str = "oai";
/// utoipa's `#[utoipa::path(get, path = "/x")]` (also `method(get, head)`).
pub(super) const UTOIPA_PATH_ATTR: &str = "path";
pub(super) const UTOIPA_CRATE: &str = "utoipa";
