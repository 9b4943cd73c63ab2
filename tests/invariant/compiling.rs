//! A seeded generator of small axum services that rustc compiles with nothing but a stub
//! `axum` crate ([`AXUM_STUB`], no registry), for the property "a service that compiles with
//! `-D warnings` still does after `migrate --apply`".
//!
//! What varies is what a rewrite has to keep compiling: how a file names the accessors and the
//! handle types ([`Style`]: a `use` per name, a group, a vertical group, a nested group, the
//! module, full paths, a glob, an alias, `super::`, `use` inside each body, a prelude, a group
//! with `self`), handlers next to code that keeps using the read-write names, handlers in
//! inline modules (with their own imports or the parent's through `use super::*`), extractor
//! parameters whose type is swapped (also destructured), the accessor as a method of the
//! state, generic handlers registered with a turbofish, handlers that are associated
//! functions, helpers taking the handle, and the accessors' module in a sibling crate (its
//! directory not its name) that the service's root re-exports.
//!
//! Deterministic: the same seed gives the same service, so a failure names its seed.

use std::fmt::Write as _;

pub use self::sources::{AXUM_STUB, CARGO, STORE_CARGO, WORKSPACE_CARGO};
use self::sources::{PRELUDE_RS, PRELUDE_RW_RS, UTIL_RS};
use super::generator::{Rng, Tree, DB_RS};

mod sources;

/// How a file names what `crate::db` defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `use crate::db::get_db;`, one item per name.
    Single,
    /// `use crate::db::{get_db, DbRw};`
    Group,
    /// The same group, one name per line.
    Vertical,
    /// `use crate::{db::{get_db, DbRw}, util::label};`
    Nested,
    /// `use crate::db;` and `db::get_db()`.
    Module,
    /// `crate::db::get_db()`, no `use`.
    Full,
    /// `use crate::db::*;`
    Glob,
    /// `use crate::db::get_db as primary;` (the other names one item each).
    Alias,
    /// `use super::db::get_db;` (`super::super::` one module down).
    Super,
    /// A `use` at the top of every body for the names it uses; signatures spell full paths.
    Body,
    /// `use crate::prelude::{get_db, DbRw};`: the names as the service's prelude re-exports
    /// them.
    Prelude,
    /// `use crate::prelude::*;`
    PreludeGlob,
    /// `use crate::db::{self, get_db};`: functions bare, types through the module.
    GroupSelf,
}

const STYLES: [Style; 13] = [
    Style::GroupSelf,
    Style::Prelude,
    Style::PreludeGlob,
    Style::Single,
    Style::Group,
    Style::Vertical,
    Style::Nested,
    Style::Module,
    Style::Full,
    Style::Glob,
    Style::Alias,
    Style::Super,
    Style::Body,
];

/// What a handler does with the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
    HelperRead,
    HelperWrite,
    ExtractRead,
    ExtractWrite,
    DestructRead,
    AlreadyRo,
    NoDb,
    /// The accessor as a method of the application's state (`state.get_db()`).
    StateRead,
    StateWrite,
}

const KINDS: [Kind; 11] = [
    Kind::StateRead,
    Kind::StateWrite,
    Kind::Read,
    Kind::Write,
    Kind::HelperRead,
    Kind::HelperWrite,
    Kind::ExtractRead,
    Kind::ExtractWrite,
    Kind::DestructRead,
    Kind::AlreadyRo,
    Kind::NoDb,
];

/// The names of `crate::db` a scope uses, in the order rustfmt sorts them (version-sorted:
/// upper case first).
#[derive(Default)]
struct Used(Vec<&'static str>);

impl Used {
    fn add(&mut self, name: &'static str) {
        if !self.0.contains(&name) {
            self.0.push(name);
            self.0.sort_unstable();
        }
    }
}

/// One module scope being written: the file's top level or an inline module in it.
struct Scope {
    style: Style,
    /// Modules between this scope and the crate root.
    depth: usize,
    /// Path prefix from this scope to the file's top level (`super::` in an inline module).
    to_file: &'static str,
    used: Used,
    label_used: bool,
    /// [`Style::GroupSelf`]: a name was written through `db::`.
    self_used: bool,
    text: String,
    /// Handlers that are associated functions of `Api` (`get(m0::Api::h1)`).
    methods: String,
    /// How the file spells the accessors' module: `crate::db`, or `store::db` when the
    /// module is a sibling crate's (which the crate root also re-exports as `crate::db`).
    db: &'static str,
    /// The prelude re-exports the read-write names only ([`PRELUDE_RW_RS`]).
    prelude_rw_only: bool,
    /// With such a prelude, the read-only names a prelude-style scope imports from `db`.
    direct: Used,
}

impl Scope {
    fn new(style: Style, depth: usize, to_file: &'static str, db: &'static str) -> Scope {
        Scope {
            style,
            depth,
            to_file,
            used: Used::default(),
            label_used: false,
            self_used: false,
            text: String::new(),
            methods: String::new(),
            db,
            prelude_rw_only: false,
            direct: Used::default(),
        }
    }

    /// How a body names `name` of `crate::db` (recording the use).
    fn name(&mut self, name: &'static str, body: &mut Used) -> String {
        match self.style {
            Style::Module => {
                self.used.add(name);
                format!("db::{name}")
            }
            Style::Full => format!("{}::{name}", self.db),
            Style::Body => {
                body.add(name);
                name.to_string()
            }
            Style::Alias if name == "get_db" => {
                self.used.add(name);
                "primary".to_string()
            }
            Style::Prelude | Style::PreludeGlob if self.prelude_rw_only && name.ends_with(['o', 'O']) => {
                // `get_db_ro`, `DbRo`: not in the prelude.
                self.direct.add(name);
                name.to_string()
            }
            Style::GroupSelf if name.starts_with(char::is_uppercase) => {
                self.self_used = true;
                format!("db::{name}")
            }
            _ => {
                self.used.add(name);
                name.to_string()
            }
        }
    }

    /// How a signature names a type of `crate::db`.
    fn sig_type(&mut self, name: &'static str) -> String {
        match self.style {
            Style::Body => format!("{}::{name}", self.db),
            _ => self.name(name, &mut Used::default()),
        }
    }

    /// Puts the associated-function handlers into `pub struct Api; impl Api { … }`.
    fn close_methods(&mut self) {
        if !self.methods.is_empty() {
            let methods = indent(&std::mem::take(&mut self.methods));
            let _ = write!(self.text, "pub struct Api;\n\nimpl Api {{\n{}}}\n\n", methods.trim_end());
        }
    }

    fn label(&mut self) -> &'static str {
        if self.style == Style::Nested {
            self.label_used = true;
            "label"
        } else {
            "crate::util::label"
        }
    }

    /// The `use` items this scope needs at its top.
    fn imports(&self) -> String {
        let mut out = self.main_imports();
        match self.direct.0.as_slice() {
            [] => {}
            [one] => {
                let _ = writeln!(out, "use {}::{one};", self.db);
            }
            many => {
                let _ = writeln!(out, "use {}::{{{}}};", self.db, many.join(", "));
            }
        }
        out
    }

    fn main_imports(&self) -> String {
        let names = &self.used.0;
        let from = match self.style {
            Style::Super => format!("{}db", "super::".repeat(self.depth)),
            Style::Prelude => "crate::prelude".to_string(),
            _ => self.db.to_string(),
        };
        let mut out = String::new();
        match self.style {
            Style::Full | Style::Body => {}
            Style::GroupSelf => {
                let mut items: Vec<&str> = names.to_vec();
                if self.self_used {
                    items.insert(0, "self");
                }
                match items.as_slice() {
                    [] => {}
                    ["self"] => {
                        let _ = writeln!(out, "use {from};");
                    }
                    [one] => {
                        let _ = writeln!(out, "use {from}::{one};");
                    }
                    many => {
                        let _ = writeln!(out, "use {from}::{{{}}};", many.join(", "));
                    }
                }
            }
            _ if names.is_empty() && self.style != Style::Nested => {}
            Style::Module => {
                let _ = writeln!(out, "use {from};");
            }
            Style::Glob => {
                let _ = writeln!(out, "use {from}::*;");
            }
            Style::PreludeGlob => out.push_str("use crate::prelude::*;\n"),
            Style::Group | Style::Prelude if names.len() > 1 => {
                let _ = writeln!(out, "use {from}::{{{}}};", names.join(", "));
            }
            Style::Vertical if names.len() > 1 => {
                let _ = writeln!(out, "use {from}::{{");
                for n in names {
                    let _ = writeln!(out, "    {n},");
                }
                out.push_str("};\n");
            }
            Style::Nested => {
                let db = match names.as_slice() {
                    [] => String::new(),
                    [one] => format!("db::{one}"),
                    many => format!("db::{{{}}}", many.join(", ")),
                };
                let util = if self.label_used { "util::label" } else { "" };
                match (db.is_empty(), util.is_empty()) {
                    (false, false) => {
                        let _ = writeln!(out, "use crate::{{{db}, {util}}};");
                    }
                    (false, true) => {
                        let _ = writeln!(out, "use crate::{db};");
                    }
                    (true, false) => {
                        let _ = writeln!(out, "use crate::{util};");
                    }
                    (true, true) => {}
                }
            }
            Style::Alias => {
                for n in names {
                    if *n == "get_db" {
                        let _ = writeln!(out, "use {from}::get_db as primary;");
                    } else {
                        let _ = writeln!(out, "use {from}::{n};");
                    }
                }
            }
            _ => {
                for n in names {
                    let _ = writeln!(out, "use {from}::{n};");
                }
            }
        }
        out
    }
}

/// A handler or function body's `use` item (the [`Style::Body`] style), indented for a body.
fn body_use(db: &str, used: &Used) -> String {
    match used.0.as_slice() {
        [] => String::new(),
        [one] => format!("    use {db}::{one};\n"),
        many => format!("    use {db}::{{{}}};\n", many.join(", ")),
    }
}

/// Writes a handler of `kind` named `name` into `scope`.
fn handler(scope: &mut Scope, kind: Kind, name: &str, shape: Shape) {
    let mut body_names = Used::default();
    let label = scope.label();
    let helpers = scope.to_file;
    let (params, body) = match kind {
        Kind::Read | Kind::Write | Kind::HelperRead | Kind::HelperWrite => {
            let get_db = scope.name("get_db", &mut body_names);
            let last = match kind {
                Kind::Read => {
                    format!("let rows = db.query(\"SELECT id FROM posts\").await;\n    {label}(rows.len())")
                }
                Kind::Write => format!(
                    "let n = db.execute(\"UPDATE posts SET seen = seen + 1\").await;\n    {label}(n as usize)"
                ),
                Kind::HelperRead => format!("{label}({helpers}count_rows(&db).await)"),
                _ => format!("{label}({helpers}bump(&db).await as usize)"),
            };
            (String::new(), format!("    let db = {get_db}().await;\n    {last}\n"))
        }
        Kind::ExtractRead | Kind::ExtractWrite => {
            let ty = scope.sig_type("DbRw");
            let last = if kind == Kind::ExtractRead {
                format!("let rows = db.0.query(\"SELECT id FROM tags\").await;\n    {label}(rows.len())")
            } else {
                format!(
                    "let n = db.0.execute(\"DELETE FROM tags WHERE id = 1\").await;\n    {label}(n as usize)"
                )
            };
            (format!("db: {ty}"), format!("    {last}\n"))
        }
        Kind::DestructRead => {
            let ty = scope.sig_type("DbRw");
            (
                format!("{ty}(conn): {ty}"),
                format!(
                    "    let rows = conn.query(\"SELECT id FROM users\").await;\n    {label}(rows.len())\n"
                ),
            )
        }
        Kind::AlreadyRo => {
            let get_db_ro = scope.name("get_db_ro", &mut body_names);
            (
                String::new(),
                format!(
                    "    let db = {get_db_ro}().await;\n    let rows = db.query(\"SELECT 1\").await;\n    {label}(rows.len())\n"
                ),
            )
        }
        Kind::NoDb => (String::new(), format!("    {label}(0)\n")),
        Kind::StateRead | Kind::StateWrite => {
            let run = if kind == Kind::StateRead {
                "let n = db.query(\"SELECT id FROM posts\").await.len();"
            } else {
                "let n = db.execute(\"UPDATE tags SET seen = 0\").await as usize;"
            };
            (
                "state: crate::util::AppState".to_string(),
                format!("    let db = state.get_db().await;\n    {run}\n    {label}(n)\n"),
            )
        }
    };
    let generics = if shape.generic { "<T: Default>" } else { "" };
    let uses_t = if shape.generic { "    let _t = T::default();\n" } else { "" };
    let text = format!(
        "pub async fn {name}{generics}({params}) -> String {{\n{}{uses_t}{body}}}\n\n",
        body_use(scope.db, &body_names)
    );
    if shape.method {
        scope.methods.push_str(&text);
    } else {
        scope.text.push_str(&text);
    }
}

/// Where and how a handler is declared.
#[derive(Clone, Copy)]
struct Shape {
    /// Generic, registered with a turbofish (`get(m0::h1::<u8>)`).
    generic: bool,
    /// An associated function of the scope's `Api` (`get(m0::Api::h1)`).
    method: bool,
}

/// A function that is not a handler and keeps using the read-write accessor.
fn job(scope: &mut Scope, name: &str) {
    let mut body_names = Used::default();
    let get_db = scope.name("get_db", &mut body_names);
    let _ = write!(
        scope.text,
        "pub async fn {name}() -> u64 {{\n{}    let db = {get_db}().await;\n    db.execute(\"DELETE FROM posts WHERE seen = 0\").await\n}}\n\n",
        body_use(scope.db, &body_names)
    );
}

/// The helpers a file's handlers call (at the file's top level).
fn helpers(scope: &mut Scope) {
    let conn = scope.sig_type("Conn");
    let _ = write!(
        scope.text,
        "pub async fn count_rows(db: &{conn}) -> usize {{\n    db.query(\"SELECT count(*) FROM posts\").await.len()\n}}\n\n\
         pub async fn bump(db: &{conn}) -> u64 {{\n    db.execute(\"UPDATE users SET seen = 1\").await\n}}\n\n"
    );
}

/// One handler file: its text and the routes of its handlers (paths from the file's module).
fn file(
    rng: &mut Rng,
    depth: usize,
    routes: &mut Vec<String>,
    module: &str,
    service: (bool, bool),
) -> String {
    let (sibling, prelude_rw_only) = service;
    let style = STYLES[rng.below(STYLES.len())];
    let db = if sibling && rng.chance(50) { "store::db" } else { "crate::db" };
    let mut top = Scope::new(style, depth, "", db);
    top.prelude_rw_only = prelude_rw_only;
    let mut kinds: Vec<Kind> = (0..1 + rng.below(4)).map(|_| KINDS[rng.below(KINDS.len())]).collect();
    // Every file touches the database at least once (its imports are then used).
    if kinds.iter().all(|k| *k == Kind::NoDb) {
        kinds.push(Kind::Read);
    }
    let helpers_needed = kinds.iter().any(|k| matches!(k, Kind::HelperRead | Kind::HelperWrite));
    // Some handlers go to an inline module, with imports of its own or the parent's.
    let inner_style = match rng.below(4) {
        0 => Some(None),
        1 if style != Style::Body => Some(Some(())),
        _ => None,
    };
    let mut inner = inner_style.map(|_| Scope::new(style, depth + 1, "super::", db));
    if let Some(inner) = inner.as_mut() {
        inner.prelude_rw_only = prelude_rw_only;
    }
    let inherit = matches!(inner_style, Some(Some(())));
    if inherit {
        // Through `use super::*` the inline module names things as its parent does; its
        // helpers are the parent's too.
        if let Some(inner) = inner.as_mut() {
            inner.to_file = "";
        }
    }
    for (k, kind) in kinds.iter().enumerate() {
        let name = format!("h{k}");
        let shape = Shape { generic: rng.chance(15), method: rng.chance(15) };
        let into_inner = inner.is_some() && rng.chance(50);
        let owner = if shape.method { "::Api" } else { "" };
        let turbofish = if shape.generic { "::<u8>" } else { "" };
        match (into_inner, inner.as_mut()) {
            (true, Some(scope)) => {
                handler(scope, *kind, &name, shape);
                routes.push(format!("{module}::inner{owner}::{name}{turbofish}"));
            }
            _ => {
                handler(&mut top, *kind, &name, shape);
                routes.push(format!("{module}{owner}::{name}{turbofish}"));
            }
        }
    }
    if rng.chance(30) {
        job(&mut top, "job");
    }
    top.close_methods();
    if let Some(inner) = inner.as_mut() {
        inner.close_methods();
    }
    if helpers_needed {
        helpers(&mut top);
    }
    let mut out = String::new();
    if let Some(mut inner) = inner {
        if inherit {
            // `use super::*` only where the module names something through it.
            let names_parent = !inner.used.0.is_empty()
                || !inner.direct.0.is_empty()
                || inner.label_used
                || inner.self_used
                || inner.text.contains("count_rows(")
                || inner.text.contains("bump(");
            // The parent imports what the module uses.
            for n in std::mem::take(&mut inner.used.0) {
                top.used.add(n);
            }
            for n in std::mem::take(&mut inner.direct.0) {
                top.direct.add(n);
            }
            top.label_used |= inner.label_used;
            top.self_used |= inner.self_used;
            out.push_str(&top.imports());
            out.push('\n');
            out.push_str(&top.text);
            let glob = if names_parent { "    use super::*;\n\n" } else { "" };
            let _ = write!(out, "pub mod inner {{\n{glob}{}}}\n", indent(&inner.text));
        } else {
            out.push_str(&top.imports());
            out.push('\n');
            out.push_str(&top.text);
            let imports = inner.imports();
            let _ = write!(out, "pub mod inner {{\n{}\n{}}}\n", indent(&imports), indent(&inner.text));
        }
    } else {
        out.push_str(&top.imports());
        out.push('\n');
        out.push_str(&top.text);
    }
    out
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| if l.is_empty() { "\n".to_string() } else { format!("    {l}\n") })
        .collect::<String>()
        .trim_end_matches('\n')
        .to_string()
        + "\n"
}

/// The service of `seed`: `lib.rs` registers every handler; handler files at the crate's top
/// and one module down (`api/`). In some services the accessors' module is a sibling crate's
/// (`store-core/`, crate `store`), re-exported by the service's root (`pub use store::db;`).
pub fn service(seed: u64) -> Tree {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xC0DE);
    let sibling = rng.chance(40);
    let prelude_rw_only = rng.chance(30);
    let app = if sibling { "app/" } else { "" };
    let mut files = vec![
        (format!("{app}src/util.rs"), UTIL_RS.to_string()),
        (
            format!("{app}src/prelude.rs"),
            if prelude_rw_only { PRELUDE_RW_RS } else { PRELUDE_RS }.to_string(),
        ),
    ];
    let mut lib = String::new();
    if sibling {
        files.push(("Cargo.toml".to_string(), WORKSPACE_CARGO.to_string()));
        files
            .push(("app/Cargo.toml".to_string(), format!("{CARGO}store = {{ path = \"../store-core\" }}\n")));
        files.push(("store-core/Cargo.toml".to_string(), STORE_CARGO.to_string()));
        files.push(("store-core/src/lib.rs".to_string(), "pub mod db;\n".to_string()));
        files.push(("store-core/src/db.rs".to_string(), DB_RS.to_string()));
        lib.push_str("pub use store::db;\n");
    } else {
        files.push(("Cargo.toml".to_string(), CARGO.to_string()));
        files.push(("src/db.rs".to_string(), DB_RS.to_string()));
        lib.push_str("pub mod db;\n");
    }
    lib.push_str("pub mod prelude;\npub mod util;\n");
    let flags = (sibling, prelude_rw_only);
    handler_files(
        &mut rng,
        &format!("{app}src/"),
        &mut lib,
        &mut files,
        &mut |rng, depth, module, routes| file(rng, depth, routes, module, flags),
    );
    files.push((format!("{app}src/lib.rs"), lib));
    Tree { files }
}

/// What writes one handler file: the generator, the module's depth below the crate root (1 or
/// 2), its path (`m0`, `api::a1`), and the routes it adds (`module::handler`).
pub type MakeFile<'a> = dyn FnMut(&mut Rng, usize, &str, &mut Vec<String>) -> String + 'a;

/// Handler files below `src` (`src/` or `app/src/`): 1 to 3 at the crate's top (`m0.rs`…) and 0
/// to 2 in `api/` (`api/a0.rs`…), each written by `make` and declared in `lib`, which then ends
/// with an `app()` registering every route they add.
pub fn handler_files(
    rng: &mut Rng,
    src: &str,
    lib: &mut String,
    files: &mut Vec<(String, String)>,
    make: &mut MakeFile<'_>,
) {
    let mut routes = Vec::new();
    let top_files = 1 + rng.below(3);
    let api_files = rng.below(3);
    for f in 0..top_files {
        let module = format!("m{f}");
        let _ = writeln!(lib, "pub mod {module};");
        files.push((format!("{src}{module}.rs"), make(rng, 1, &module, &mut routes)));
    }
    if api_files > 0 {
        lib.push_str("pub mod api;\n");
        let mut api = String::new();
        for f in 0..api_files {
            let module = format!("a{f}");
            let _ = writeln!(api, "pub mod {module};");
            files.push((
                format!("{src}api/{module}.rs"),
                make(rng, 2, &format!("api::{module}"), &mut routes),
            ));
        }
        files.push((format!("{src}api/mod.rs"), api));
    }
    lib.push_str(
        "\nuse axum::routing::get;\nuse axum::Router;\n\npub fn app() -> Router {\n    Router::new()\n",
    );
    for route in &routes {
        let _ = writeln!(lib, "        .route(\"/{}\", get({route}))", route.replace("::", "/"));
    }
    lib.push_str("}\n");
}
