//! A seeded generator of small axum services whose read-only extractor type is declared in the
//! service itself while the read-write one comes from a sibling crate, for the property "the
//! twin is imported from where the service declares it, the service still compiles with `-D
//! warnings`, and rustfmt still finds nothing to change".
//!
//! The sibling crate (`store-core/`, crate `store`) defines `Conn` and `DbRw`; the service
//! declares `DbRo` in one of several places ([`Home`]): a public module, a private module, a
//! module two levels down, or a private module re-exported by its parent. Handler files name
//! `DbRw` through the other crate (`use store::db::DbRw;`, in a group with `Conn`, in every
//! body) or through the service's re-export of it (`use crate::db::DbRw;` with `pub use
//! store::db;` in `lib.rs`), beside imports that sort before and after the new one; some
//! handlers write (so `DbRw` stays imported), some already take `DbRo`. In some services the
//! handlers are a binary's modules (`src/main.rs` beside `src/lib.rs`, which declares the
//! twin): there they name the library's items through its name (`app::…`), and so must the
//! twin's import.
//!
//! Deterministic: the same seed gives the same service, so a failure names its seed.

use std::fmt::Write as _;

use super::compiling::{handler_files, CARGO, STORE_CARGO, WORKSPACE_CARGO};
use super::generator::{Rng, Tree};

/// The sibling crate's module: the read-write side only.
const STORE_DB_RS: &str = "pub struct Conn;

pub struct DbRw(pub Conn);

impl Conn {
    pub async fn query(&self, _sql: &str) -> Vec<String> {
        Vec::new()
    }
    pub async fn execute(&self, _sql: &str) -> u64 {
        0
    }
}
";

const UTIL_RS: &str = "pub fn label(n: usize) -> String {
    n.to_string()
}

pub fn ms(n: u64) -> u64 {
    n
}
";

const DB_RO: &str = "pub struct DbRo(pub store::db::Conn);\n";

/// Where the service declares `DbRo`, and the path it is imported by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Home {
    /// `pub mod replica;` in `lib.rs`.
    Public,
    /// `mod replica;` in `lib.rs`: private to the root, so in reach of the whole crate.
    Private,
    /// `pub mod pools;` with `pub mod ro;` in `pools/mod.rs`.
    Nested,
    /// `pub mod pools;` with a private `mod ro;` and `pub use self::ro::DbRo;`.
    ReExported,
}

const HOMES: [Home; 4] = [Home::Public, Home::Private, Home::Nested, Home::ReExported];

/// Where a service declares the twin, and whether its handlers are a binary's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub home: Home,
    /// The handlers are modules of `src/main.rs`, `src/lib.rs` has the rest.
    pub binary: bool,
}

impl Layout {
    /// The path a handler file imports `DbRo` by.
    pub fn path(self) -> String {
        let path = self.home.path();
        match self.binary {
            true => path.replacen("crate::", "app::", 1),
            false => path.to_string(),
        }
    }
}

impl Home {
    /// The path a file of the library imports `DbRo` by.
    pub fn path(self) -> &'static str {
        match self {
            Home::Public | Home::Private => "crate::replica::DbRo",
            Home::Nested => "crate::pools::ro::DbRo",
            Home::ReExported => "crate::pools::DbRo",
        }
    }

    /// The `lib.rs` lines and the files declaring it.
    fn files(self) -> (&'static str, Vec<(&'static str, String)>) {
        match self {
            Home::Public => ("pub mod replica;\n", vec![("src/replica.rs", DB_RO.to_string())]),
            // Unused until a handler takes it (the crate does not export it).
            Home::Private => {
                ("mod replica;\n", vec![("src/replica.rs", format!("#[allow(dead_code)]\n{DB_RO}"))])
            }
            Home::Nested => (
                "pub mod pools;\n",
                vec![
                    ("src/pools/mod.rs", "pub mod ro;\n".to_string()),
                    ("src/pools/ro.rs", DB_RO.to_string()),
                ],
            ),
            Home::ReExported => (
                "pub mod pools;\n",
                vec![
                    ("src/pools/mod.rs", "mod ro;\n\npub use self::ro::DbRo;\n".to_string()),
                    ("src/pools/ro.rs", DB_RO.to_string()),
                ],
            ),
        }
    }
}

/// How a handler file names `DbRw`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// `use store::db::DbRw;`
    Extern,
    /// `use store::db::{Conn, DbRw};` (a helper takes `&Conn`).
    ExternGroup,
    /// `use crate::db::DbRw;` through `pub use store::db;` in `lib.rs`.
    ReExport,
    /// `use store::db::DbRw;` at the top of every body that names it.
    Body,
}

const NAMINGS: [Naming; 4] = [Naming::Extern, Naming::ExternGroup, Naming::ReExport, Naming::Body];

/// What a handler does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
    AlreadyRo,
}

/// One handler file: its text, and the routes it registers (`module::handler`). A binary's
/// names the library's items by the library's name.
fn handler_file(rng: &mut Rng, module: &str, layout: Layout, routes: &mut Vec<String>) -> String {
    let text = library_handler_file(rng, module, layout.home, routes);
    match layout.binary {
        true => text.replace("crate::", "app::"),
        false => text,
    }
}

/// One handler file of the library.
fn library_handler_file(rng: &mut Rng, module: &str, home: Home, routes: &mut Vec<String>) -> String {
    let naming = NAMINGS[rng.below(NAMINGS.len())];
    let kinds: Vec<Kind> = (0..1 + rng.below(3))
        .map(|_| match rng.below(6) {
            0..=2 => Kind::Read,
            3..=4 => Kind::Write,
            _ => Kind::AlreadyRo,
        })
        .collect();
    let rw_used = kinds.iter().any(|k| *k != Kind::AlreadyRo);
    let ro_used = kinds.contains(&Kind::AlreadyRo);
    // Imports that sort before the new `crate::…` line and after it.
    let before = rng.chance(50);
    let after = rng.chance(50);
    let mut uses: Vec<String> = Vec::new();
    if before {
        uses.push("use crate::util::label;".to_string());
    }
    if after {
        uses.push("use std::fmt::Write as _;".to_string());
    }
    if rw_used {
        match naming {
            Naming::Extern => uses.push("use store::db::DbRw;".to_string()),
            Naming::ExternGroup => uses.push("use store::db::{Conn, DbRw};".to_string()),
            Naming::ReExport => uses.push("use crate::db::DbRw;".to_string()),
            Naming::Body => {}
        }
    }
    if ro_used {
        uses.push(format!("use {};", home.path()));
    }
    uses.sort();
    let mut text = uses.join("\n");
    text.push_str("\n\n");
    let label = if before { "label" } else { "crate::util::label" };
    for (i, kind) in kinds.iter().enumerate() {
        let name = format!("h{i}");
        // In the body style, `DbRw` is imported in the body and named there too (so that the
        // `use` is needed), and spelt in full in the signature, where that `use` is not in scope.
        let in_body = naming == Naming::Body && *kind != Kind::AlreadyRo;
        let param = match kind {
            Kind::AlreadyRo => "DbRo(conn): DbRo".to_string(),
            _ if in_body => "store::db::DbRw(conn): store::db::DbRw".to_string(),
            _ => "DbRw(conn): DbRw".to_string(),
        };
        let body_use =
            if in_body { "    use store::db::DbRw;\n    let _: Option<DbRw> = None;\n" } else { "" };
        let work = match kind {
            Kind::Write => {
                format!("    let n = conn.execute(\"UPDATE posts SET seen = 1 WHERE id = {i}\").await;\n    {label}(n as usize)\n")
            }
            _ => format!("    let rows = conn.query(\"SELECT id FROM posts LIMIT {i}\").await;\n    {label}(rows.len())\n"),
        };
        let _ = write!(text, "pub async fn {name}({param}) -> String {{\n{body_use}{work}}}\n\n");
        routes.push(format!("{module}::{name}"));
    }
    if after {
        text.push_str("pub fn line(n: u64) -> String {\n    let mut s = String::new();\n    let _ = write!(s, \"{}\", crate::util::ms(n));\n    s\n}\n\n");
    }
    if naming == Naming::ExternGroup && rw_used {
        text.push_str(
            "pub async fn count(conn: &Conn) -> usize {\n    conn.query(\"SELECT 1\").await.len()\n}\n\n",
        );
    }
    text.truncate(text.trim_end().len());
    text.push('\n');
    text
}

/// The service of `seed`: `store-core/` (crate `store`) with the read-write side, `app/` with
/// `DbRo` declared where [`Home`] says, handler files at the top and one module down, and the
/// root registering every handler: `lib.rs`, or in one service of three `main.rs` (then the
/// twin is declared publicly: a private module of the library is out of the binary's reach).
pub fn service(seed: u64) -> (Tree, Layout) {
    let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x4D0E);
    let binary = rng.below(3) == 0;
    let homes: &[Home] = if binary { &[Home::Public, Home::Nested, Home::ReExported] } else { &HOMES };
    let layout = Layout { home: homes[rng.below(homes.len())], binary };
    let (home_lines, home_files) = layout.home.files();
    let mut files = vec![
        ("Cargo.toml".to_string(), WORKSPACE_CARGO.to_string()),
        ("app/Cargo.toml".to_string(), format!("{CARGO}store = {{ path = \"../store-core\" }}\n")),
        ("store-core/Cargo.toml".to_string(), STORE_CARGO.to_string()),
        ("store-core/src/lib.rs".to_string(), "pub mod db;\n".to_string()),
        ("store-core/src/db.rs".to_string(), STORE_DB_RS.to_string()),
        ("app/src/util.rs".to_string(), UTIL_RS.to_string()),
    ];
    for (path, text) in home_files {
        files.push((format!("app/{path}"), text));
    }
    let mut lib = String::from("pub use store::db;\n");
    lib.push_str(home_lines);
    lib.push_str("pub mod util;\n");
    // The binary's helpers (`line`, `count`) are not all used: it has no exports.
    let mut main = String::from("#![allow(dead_code)]\n\n");
    let root = if binary { &mut main } else { &mut lib };
    handler_files(&mut rng, "app/src/", root, &mut files, &mut |rng, _, module, routes| {
        handler_file(rng, module, layout, routes)
    });
    if binary {
        main.push_str("\nfn main() {\n    let _app = app();\n}\n");
        files.push(("app/src/main.rs".to_string(), main));
    }
    files.push(("app/src/lib.rs".to_string(), lib));
    (Tree { files }, layout)
}
