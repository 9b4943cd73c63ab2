//! The fixed files of every generated service: the axum stub, the manifests, the preludes and
//! the util module.

/// The part of axum the services use: any value is a handler.
pub const AXUM_STUB: &str = "pub struct Router;

impl Router {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Router
    }

    pub fn route(self, _path: &str, _method: routing::MethodRouter) -> Self {
        self
    }
}

pub mod routing {
    pub struct MethodRouter;

    pub fn get<H>(_handler: H) -> MethodRouter {
        MethodRouter
    }
}
";

pub const CARGO: &str =
    "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\naxum = \"0.8\"\n";

/// The service's prelude: what a handler file imports, re-exported (the read-only names
/// too, as a prelude written for both would).
pub const PRELUDE_RS: &str =
    "pub use crate::db::{get_db, get_db_ro, Conn, DbRo, DbRw};\npub use crate::util::label;\n";

/// A prelude written before the replica: the read-write names only (the files take the
/// read-only ones from `db`; migrate must not import a twin through it).
pub const PRELUDE_RW_RS: &str = "pub use crate::db::{get_db, Conn, DbRw};\npub use crate::util::label;\n";

pub const WORKSPACE_CARGO: &str = "[workspace]\nmembers = [\"app\", \"store-core\"]\nresolver = \"2\"\n";

/// The sibling crate's manifest: its directory (`store-core`) is not its name (`store`).
pub const STORE_CARGO: &str = "[package]\nname = \"store\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

pub const UTIL_RS: &str = "pub fn label(n: usize) -> String {
    n.to_string()
}

pub struct AppState;

impl AppState {
    pub async fn get_db(&self) -> crate::db::Conn {
        crate::db::Conn
    }

    pub async fn get_db_ro(&self) -> crate::db::Conn {
        crate::db::Conn
    }
}
";
