//! Resolving handler references through module paths and every shape of `use`.

use super::{check, extract_tree};
use crate::workspace::crates::CrateGraph;

const MAIN: &str = "mod api;\nmod web;\n\nfn main() {}\n";
const API_MOD: &str = "pub mod handlers;\npub mod v2;\n\npub use self::handlers::reexported;\n";
const HANDLERS: &str = r#"pub async fn list() {}
pub async fn show() {}
pub async fn aliased() {}
pub async fn grouped() {}
pub async fn globbed() {}
pub async fn absolute() {}
pub async fn reexported() {}
pub async fn from_body() {}
"#;
const V2: &str = "pub async fn relative() {}\n\npub mod deep {\n    pub async fn inner() {}\n}\n";

#[test]
fn every_import_shape() {
    let web = r#"use axum::routing::get;
use axum::Router;

use crate::api::handlers;
use crate::api::handlers::aliased as renamed;
use crate::{api::{handlers::{self as h, grouped}}};
use super::api::handlers::*;

pub fn router() -> Router {
    use crate::api::handlers::from_body;
    Router::new()
        .route("/1", get(handlers::list))
        .route("/2", get(h::show))
        .route("/3", get(renamed))
        .route("/4", get(grouped))
        .route("/5", get(globbed))
        .route("/6", get(crate::api::handlers::absolute))
        .route("/7", get(crate::api::reexported))
        .route("/8", get(from_body))
        .route("/9", get(super::api::v2::relative))
        .route("/10", get(crate::api::v2::deep::inner))
}
"#;
    check(
        &[
            ("src/main.rs", MAIN),
            ("src/api/mod.rs", API_MOD),
            ("src/api/handlers.rs", HANDLERS),
            ("src/api/v2.rs", V2),
            ("src/web.rs", web),
        ],
        &[
            "api::handlers::list get-only GET /1@src/web.rs:12",
            "api::handlers::show get-only GET /2@src/web.rs:13",
            "api::handlers::aliased get-only GET /3@src/web.rs:14",
            "api::handlers::grouped get-only GET /4@src/web.rs:15",
            "api::handlers::globbed get-only GET /5@src/web.rs:16",
            "api::handlers::absolute get-only GET /6@src/web.rs:17",
            "api::handlers::reexported get-only GET /7@src/web.rs:18",
            "api::handlers::from_body get-only GET /8@src/web.rs:19",
            "api::v2::relative get-only GET /9@src/web.rs:20",
            "api::v2::deep::inner get-only GET /10@src/web.rs:21",
        ],
    );
}

#[test]
fn self_and_type_paths_reach_impl_methods() {
    let lib = r#"use axum::routing::get;
use axum::Router;

pub struct Pages;

impl Pages {
    pub fn router() -> Router {
        Router::new().route("/", get(Self::index)).route("/about", get(Pages::about))
    }

    async fn index() {}
    async fn about() {}
}

pub struct Other;

impl Other {
    async fn index() {}
}
"#;
    check(
        &[("src/lib.rs", lib)],
        &[
            "crate::Pages::index get-only GET /@src/lib.rs:8",
            "crate::Pages::about get-only GET /about@src/lib.rs:8",
        ],
    );
}

#[test]
fn local_items_and_locals_shadow_module_functions() {
    let lib = r#"use axum::routing::get;

async fn index() {}
async fn status() {}

pub fn app(status: MethodRouter) -> axum::Router {
    async fn index() {}
    axum::Router::new().route("/", get(index)).route("/status", get(status))
}
"#;
    let files = extract_tree(&[("src/lib.rs", lib)]);
    let inner = files[0].functions.iter().position(|f| f.name == "index" && f.parent.is_some());
    assert!(inner.is_some(), "{:?}", files[0].functions);
    // The inner `index` is the handler; the parameter `status` is not the function `status`.
    check(
        &[("src/lib.rs", lib)],
        &["crate::index get-only GET /@src/lib.rs:8", "?status unresolved GET /status@src/lib.rs:8"],
    );
    let handlers = crate::migrate::routes::discover(&files);
    let f = handlers[0].function().expect("resolved");
    assert_eq!(f.name_range.start.line, 7, "the nested fn, not the module-level one");
}

#[test]
fn crates_of_a_workspace_do_not_mix() {
    let web = "mod handlers;\nuse axum::routing::get;\npub fn app() -> axum::Router { axum::Router::new().route(\"/\", get(handlers::home)) }\n";
    let other_handlers = "pub async fn home() {}\n";
    check(
        &[("crates/web/src/lib.rs", web), ("crates/admin/src/handlers.rs", other_handlers)],
        &["?handlers::home unresolved GET /@crates/web/src/lib.rs:3"],
    );
    check(
        &[
            ("crates/web/src/lib.rs", web),
            ("crates/web/src/handlers.rs", other_handlers),
            ("crates/admin/src/handlers.rs", other_handlers),
        ],
        &["handlers::home get-only GET /@crates/web/src/lib.rs:3"],
    );
}

#[test]
fn paths_through_the_package_name_and_2015_paths() {
    let main = "use axum::routing::get;\nfn main() { let app = axum::Router::new().route(\"/\", get(my_app::pages::home)).route(\"/b\", get(pages::about)); }\n";
    let lib = "pub mod pages;\npub mod web;\n";
    let pages = "pub async fn home() {}\npub async fn about() {}\n";
    let bin = "use axum::routing::get;\nfn main() { let app = axum::Router::new().route(\"/h\", get(my_app::pages::home)); }\n";
    // Inside the library, `other::pages::home` is another crate's, not `crate::pages::home`.
    let web = "use axum::routing::get;\npub fn app() -> axum::Router { axum::Router::new().route(\"/o\", get(other::pages::home)) }\n";
    check(
        &[
            ("src/main.rs", main),
            ("src/lib.rs", lib),
            ("src/pages.rs", pages),
            ("src/bin/tool.rs", bin),
            ("src/web.rs", web),
        ],
        &[
            "pages::home get-only GET /h@src/bin/tool.rs:2, GET /@src/main.rs:2",
            "pages::about get-only GET /b@src/main.rs:2",
            "?other::pages::home unresolved GET /o@src/web.rs:2",
        ],
    );
}

#[test]
fn imports_are_flattened_with_full_paths() {
    let lib = r#"mod a {
    pub mod b {
        use super::super::x::{self, y as z, w::*};
        pub use self::c::d;
        use crate::e;
        extern crate serde as sd;
        use std::fmt as _;
    }
}
"#;
    let files = extract_tree(&[("src/lib.rs", lib)]);
    let module = vec!["a".to_string(), "b".to_string()];
    let map = files[0].import_map(&module);
    let full = |alias: &str| map.get(alias).map(|p| p.join("::"));
    assert_eq!(full("x").as_deref(), Some("crate::x"));
    assert_eq!(full("z").as_deref(), Some("crate::x::y"));
    assert_eq!(full("d").as_deref(), Some("crate::a::b::c::d"));
    assert_eq!(full("e").as_deref(), Some("crate::e"));
    assert_eq!(full("sd").as_deref(), Some("serde"));
    assert_eq!(map.len(), 5, "{map:?}");
    let globs: Vec<String> =
        files[0].imports.iter().filter(|i| i.glob).map(|i| i.target.join("::")).collect();
    assert_eq!(globs, ["crate::x::w"]);
    assert!(files[0].imports.iter().any(|i| i.alias == "d" && i.public));
    assert_eq!(files[0].modules, [vec!["a".to_string()], module]);
}

#[test]
fn a_sibling_crate_is_found_by_its_package_name_not_its_directory() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let root = tmp.path();
    let manifests = [
        ("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n"),
        ("crates/web/Cargo.toml", "[package]\nname = \"web\"\n"),
        ("crates/db-layer/Cargo.toml", "[package]\nname = \"acme-store\"\n"),
    ];
    for (rel, text) in manifests {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    let web = root.join("crates/web/src/lib.rs");
    let store = root.join("crates/db-layer/src/lib.rs");
    let (web, store) = (web.to_string_lossy().into_owned(), store.to_string_lossy().into_owned());
    let files = extract_tree(&[
        (&web, "use axum::routing::get;\npub fn app() -> axum::Router { axum::Router::new().route(\"/\", get(acme_store::home)) }\n"),
        (&store, "pub async fn home() {}\n"),
    ]);
    let graph = CrateGraph::discover(files.iter().map(|f| f.file.as_path()));
    let handlers = crate::migrate::routes::discover_in(&files.iter().collect::<Vec<_>>(), &graph);
    let f = handlers[0].function().expect("resolved into the sibling crate");
    assert_eq!(f.name, "home");
    // Without the crate graph, `acme_store` names nothing the tree knows.
    let alone = crate::migrate::routes::discover(&files);
    assert!(alone[0].function().is_none());
}

#[test]
fn turbofish_handlers_resolve_to_their_generic_fn() {
    let api = r#"use actix_web::{web, HttpResponse};

async fn route_get<Data: Perform>(data: web::Query<Data>) -> HttpResponse {
    data.perform().await
}

async fn route_post<Data: Perform>(data: web::Json<Data>) -> HttpResponse {
    data.perform().await
}

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v3")
            .route("/site", web::get().to(route_get::<GetSite>))
            .route("/post", web::get().to(route_get::<GetPost>))
            .route("/post", web::post().to(route_post::<CreatePost>)),
    );
}
"#;
    let web = r#"use axum::routing::get;
use crate::store;

pub async fn list<S: Store>(s: S) -> String {
    s.name()
}

pub fn app() -> axum::Router {
    axum::Router::new()
        .route("/l", get(list::<Pg>))
        .route("/s", get(store::show::<Pg, 2>).head(self::list::<Sqlite>))
}
"#;
    let store = "pub async fn show<S, const N: usize>() -> String {\n    String::new()\n}\n";
    check(
        &[
            ("src/lib.rs", "pub mod api;\npub mod store;\npub mod web;\n"),
            ("src/api.rs", api),
            ("src/store.rs", store),
            ("src/web.rs", web),
        ],
        &[
            "api::route_get get-only GET /site@src/api.rs:14, GET /post@src/api.rs:15",
            "web::list get-only GET /l@src/web.rs:10, HEAD /s@src/web.rs:11",
            "store::show get-only GET /s@src/web.rs:11",
        ],
    );
}

/// kellnr's shape: two functions of one name in two modules of a sibling crate, named by
/// their module through a `use` of the modules, or by the full path.
#[test]
fn same_name_in_two_modules_of_a_sibling_crate_resolves_by_module_path() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let root = tmp.path();
    let manifests = [
        ("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n"),
        ("crates/web/Cargo.toml", "[package]\nname = \"web\"\n"),
        ("crates/registry/Cargo.toml", "[package]\nname = \"kellnr_registry\"\n"),
    ];
    for (rel, text) in manifests {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    let path = |rel: &str| root.join(rel).to_string_lossy().into_owned();
    let (web, lib, cratesio, kellnr) = (
        path("crates/web/src/lib.rs"),
        path("crates/registry/src/lib.rs"),
        path("crates/registry/src/cratesio_api.rs"),
        path("crates/registry/src/kellnr_api.rs"),
    );
    let routes = r#"use axum::routing::get;
use kellnr_registry::{cratesio_api, kellnr_api};

pub fn app() -> axum::Router {
    axum::Router::new()
        .route("/cratesio/dl", get(cratesio_api::download))
        .route("/kellnr/dl", get(kellnr_api::download))
        .route("/full", get(kellnr_registry::kellnr_api::download))
        .route("/missing", get(kellnr_api::upload))
}
"#;
    let files = extract_tree(&[
        (&web, routes),
        (&lib, "pub mod cratesio_api;\npub mod kellnr_api;\n"),
        (&cratesio, "pub async fn download() -> Vec<u8> {\n    Vec::new()\n}\n"),
        (&kellnr, "pub async fn download() -> Vec<u8> {\n    vec![1]\n}\n"),
    ]);
    let graph = CrateGraph::discover(files.iter().map(|f| f.file.as_path()));
    let handlers = crate::migrate::routes::discover_in(&files.iter().collect::<Vec<_>>(), &graph);
    let found: Vec<(String, String, usize)> = handlers
        .iter()
        .map(|h| match (&h.target, &h.class) {
            (crate::migrate::routes::HandlerTarget::Fn(f), _) => {
                (f.module.join("::"), f.name.clone(), h.routes.len())
            }
            (_, crate::migrate::routes::RouteClass::Unresolved(why)) => {
                ("?".into(), why.clone(), h.routes.len())
            }
            _ => ("closure".into(), String::new(), h.routes.len()),
        })
        .collect();
    assert_eq!(
        found,
        [
            ("cratesio_api".to_string(), "download".to_string(), 1),
            ("kellnr_api".to_string(), "download".to_string(), 2),
            (
                "?".to_string(),
                "`kellnr_api::upload`: crate `kellnr_registry` has no function `kellnr_api::upload`"
                    .to_string(),
                1
            ),
        ]
    );
}

#[test]
fn unresolved_entries_say_which_path_and_why() {
    let lib = r#"use axum::routing::get;

mod api {
    pub async fn list() -> String {
        String::new()
    }
}

pub fn app(h: axum::routing::MethodRouter) -> axum::Router {
    axum::Router::new()
        .route("/a", get(api::show))
        .route("/b", get(metrics::handler))
        .route("/c", get(h))
        .route("/d", get(download))
}

mod cratesio_api {
    pub async fn download() -> Vec<u8> {
        Vec::new()
    }
}

mod kellnr_api {
    pub async fn download() -> Vec<u8> {
        vec![1]
    }
}
"#;
    let handlers = crate::migrate::routes::discover(&extract_tree(&[("src/lib.rs", lib)]));
    let why: Vec<&str> = handlers
        .iter()
        .filter_map(|h| match &h.class {
            crate::migrate::routes::RouteClass::Unresolved(why) => Some(why.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        why,
        [
            "`api::show`: no function `api::show` in this crate",
            "`metrics::handler`: `metrics` is no module of this crate and no crate of the tree",
            "`h`: a local value or parameter, not a function",
            "`download`: no function `download` in scope; 2 of that name elsewhere \
             (cratesio_api::download, kellnr_api::download): name its module",
        ]
    );
}
