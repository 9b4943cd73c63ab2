//! What one file yields for route discovery, as owned data.
//!
//! A worker turns a parsed file into a [`FileRoutes`] and then releases its span table, so
//! nothing here refers to syn or holds a span: positions are [`TextRange`]s in the file as on
//! disk, references are the segments and text as written. Resolving references across files
//! ([`super::resolve`]) and the GET-only rule ([`super::classify`]) work on these alone.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::source::TextRange;
use crate::workspace::location::ModuleLocation;

/// A module path from the crate root, shared by the functions, `use` names and registrations
/// written in that module (one allocation per module of a file, not one per item).
pub type ModulePath = Arc<[String]>;

/// A set of HTTP methods a route serves.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MethodSet(u16);

/// HTTP method names in bit order (the last bit, [`MethodSet::OTHER`], is any other method).
const METHOD_NAMES: [&str; 9] =
    ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"];

impl MethodSet {
    /// No method (a route whose guards can never all match).
    pub const NONE: MethodSet = MethodSet(0);
    /// GET.
    pub const GET: MethodSet = MethodSet(1);
    /// HEAD.
    pub const HEAD: MethodSet = MethodSet(1 << 1);
    /// POST.
    pub const POST: MethodSet = MethodSet(1 << 2);
    /// A method outside the nine standard ones (`PURGE`, a WebDAV method, …).
    pub const OTHER: MethodSet = MethodSet(1 << 9);
    /// Every method: a method-less route (`any(h)`, poem's `Route::at(path, h)`, actix's
    /// `web::to(h)`), or one whose method could not be read.
    pub const ANY: MethodSet = MethodSet((1 << 10) - 1);

    /// The standard method named `name`, in any case (`get`, `GET`, rocket's `Get`).
    pub fn named(name: &str) -> Option<MethodSet> {
        METHOD_NAMES.iter().position(|m| m.eq_ignore_ascii_case(name)).map(|i| MethodSet(1 << i))
    }

    /// Both sets.
    pub fn union(self, other: MethodSet) -> MethodSet {
        MethodSet(self.0 | other.0)
    }

    /// What both sets serve (two guards that must both match).
    pub fn intersection(self, other: MethodSet) -> MethodSet {
        MethodSet(self.0 & other.0)
    }

    /// Whether no method is served.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every method is served.
    pub fn is_any(self) -> bool {
        self == MethodSet::ANY
    }

    /// Whether a GET or HEAD request can reach the route.
    pub fn serves_get(self) -> bool {
        !self.intersection(MethodSet::GET.union(MethodSet::HEAD)).is_empty()
    }

    /// Whether the route serves something, and nothing but GET and HEAD.
    pub fn is_get_only(self) -> bool {
        !self.is_empty() && self.intersection(MethodSet(!(MethodSet::GET.0 | MethodSet::HEAD.0))).is_empty()
    }

    /// The method names in the set (`OTHER` as `"OTHER"`); `["ANY"]` for every method.
    pub fn names(self) -> Vec<&'static str> {
        if self.is_any() {
            return vec!["ANY"];
        }
        let mut names: Vec<&'static str> = METHOD_NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, m)| *m)
            .collect();
        if self.0 & MethodSet::OTHER.0 != 0 {
            names.push("OTHER");
        }
        names
    }
}

impl fmt::Display for MethodSet {
    /// `GET|HEAD`, `ANY`, or `NONE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("NONE");
        }
        f.write_str(&self.names().join("|"))
    }
}

impl fmt::Debug for MethodSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MethodSet({self})")
    }
}

/// The framework a route form belongs to, as far as the file tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Framework {
    /// axum (`get(h)` method routers, `on(MethodFilter::GET, h)`, `.fallback(h)`).
    Axum,
    /// actix-web (`web::get().to(h)`, `#[get("/x")]`, `#[route(..)]`).
    ActixWeb,
    /// rocket (`#[get("/x")]`, `#[route(GET, uri = "/x")]`).
    Rocket,
    /// poem (`get(h)` endpoints, `Route::at(path, h)`, `#[handler]`).
    Poem,
    /// poem-openapi (`#[oai(path = "/x", method = "get")]`).
    PoemOpenApi,
    /// utoipa (`#[utoipa::path(get, path = "/x")]`).
    Utoipa,
    /// A form several frameworks share, in a file that does not say which.
    Unknown,
}

/// A function with a body: free, `impl` method, trait default, or an item inside a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnDef {
    /// Module path from the crate root (the file's module, then inline modules).
    pub module: ModulePath,
    /// The `impl`'s self type (last segment) or the trait, for methods.
    pub owner: Option<String>,
    /// The function's name.
    pub name: String,
    /// The name token.
    pub name_range: TextRange,
    /// From the first attribute (or the visibility, or the signature) to the closing brace.
    pub item: TextRange,
    /// From `async`/`const`/`unsafe`/`extern`/`fn` to the end of the signature (the return type
    /// or `where` clause, without the whitespace before the body).
    pub signature: TextRange,
    /// The body block, braces included.
    pub body: TextRange,
    /// The function whose body holds this one (an item inside a block), as an index into
    /// [`FileRoutes::functions`].
    pub parent: Option<usize>,
    /// Routes its attributes declare.
    pub attr_routes: Vec<AttrRoute>,
}

/// A route declared by an attribute on a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrRoute {
    /// The methods; `None` for an endpoint marker that takes its method from a router
    /// registration (poem's `#[handler]`), which is not a route by itself.
    pub methods: Option<MethodSet>,
    /// The route's path, when the attribute names one.
    pub path: Option<String>,
    /// Line of the attribute.
    pub line: u32,
    /// Column of the attribute's `#` (characters, 1-based).
    pub column: u32,
    /// Whose attribute it is.
    pub framework: Framework,
}

/// A `use` (or `extern crate`) name, flattened: `use a::{b, c as d}` gives `b → a::b` and
/// `d → a::c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The module holding the `use`.
    pub module: ModulePath,
    /// For a `use` inside a function body: that function (index into
    /// [`FileRoutes::functions`]); the name is visible in that body only.
    pub within: Option<usize>,
    /// The name it brings into scope (empty for a glob).
    pub alias: String,
    /// The full path. Paths through `crate`, `self` and `super` are made absolute and start with
    /// `crate`; any other path is kept as written (an external crate, or a child module of
    /// [`Self::module`] — only the whole tree can tell).
    pub target: Vec<String>,
    /// `use a::b::*`: [`Self::target`] is the module whose names are all brought in.
    pub glob: bool,
    /// `pub use` (any `pub(..)` counts): a re-export.
    pub public: bool,
}

/// How a route names its handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandlerRef {
    /// A path (`list_posts`, `handlers::list`, `Self::show`, `crate::api::users::me`).
    Path {
        /// Its segments, without generic arguments.
        segments: Vec<String>,
        /// As written.
        text: String,
    },
    /// A closure written in place (or bound to a local that the route names).
    Closure {
        /// The whole closure.
        range: TextRange,
        /// Its body.
        body: TextRange,
    },
    /// An expression that is not a function's name (a call that builds a handler, a local of
    /// unknown value): never resolvable.
    Opaque {
        /// As written.
        text: String,
    },
}

/// A route registration found in router-building code: a method set given to a handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The methods the route serves.
    pub methods: MethodSet,
    /// The handler.
    pub handler: HandlerRef,
    /// The route's path, when it is a literal next to the registration (`.route("/x", get(h))`,
    /// a `("/x", get(h))` table entry, `web::resource("/x")`). Prefixes of nested routers are
    /// not applied.
    pub path: Option<String>,
    /// The token that registers the method (`get` in `get(h)`, `post` in `.post(h)`, `to` in
    /// `.to(h)`).
    pub at: TextRange,
    /// Whose form it is.
    pub framework: Framework,
    /// The module the registration is written in.
    pub module: ModulePath,
    /// The innermost function whose body holds it (index into [`FileRoutes::functions`]).
    pub within: Option<usize>,
    /// The self type of the `impl` it is written in (for `Self::x`).
    pub owner: Option<String>,
    /// A method-less mount (`.at(path, x)`, `.nest(path, x)`, `.fallback(x)`, …) also takes
    /// services, routers and values: it counts only when `x` resolves to a function or is a
    /// closure, and is dropped otherwise instead of being listed as unresolved.
    pub requires_fn: bool,
    /// The callee's name when it is a bare name that neither an import nor a framework glob
    /// places (`get(h)` after `use crate::prelude::*`): the registration counts only when that
    /// name is not a function of the tree.
    pub unplaced_callee: Option<String>,
}

/// Everything one file yields for route discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRoutes {
    /// The file, as walked.
    pub file: PathBuf,
    /// Its crate and module path, from its path.
    pub location: ModuleLocation,
    /// Every function with a body, in source order.
    pub functions: Vec<FnDef>,
    /// Every `use` and `extern crate` name, module-level and in bodies.
    pub imports: Vec<Import>,
    /// Modules the file declares (`mod a;` and inline `mod a { … }`), as full module paths.
    pub modules: Vec<Vec<String>>,
    /// Route registrations in router-building code.
    pub registrations: Vec<Registration>,
}

impl FileRoutes {
    /// The module-level `use` names of `module` (globs left out), alias → full path.
    pub fn import_map(&self, module: &[String]) -> std::collections::BTreeMap<&str, &[String]> {
        self.imports
            .iter()
            .filter(|i| i.within.is_none() && !i.glob && *i.module == *module)
            .map(|i| (i.alias.as_str(), i.target.as_slice()))
            .collect()
    }
}
