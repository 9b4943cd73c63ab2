//! axum: `.route(path, get(h))`, chains, `routing::get`, `on(MethodFilter, h)`, nested and
//! merged routers, route tables, closures, fallbacks.

use super::{builtin_names, check};

const MAIN: &str = "mod api;\nmod routes;\n\nfn main() {}\n";

const HANDLERS: &str = r#"use axum::extract::{Path, State};
use axum::Json;

pub async fn list_posts(State(app): State<App>) -> Json<Vec<Post>> {
    let db = app.get_db().await.unwrap();
    Json(load(&db).await)
}

pub async fn create_post(State(app): State<App>, Json(p): Json<Post>) -> Json<Post> {
    Json(p)
}

pub async fn show_post(Path(id): Path<i64>) -> String {
    id.to_string()
}

pub async fn feed() -> &'static str {
    "feed"
}
"#;

#[test]
fn route_with_method_routers_and_chains() {
    let routes = r#"use axum::routing::{get, post};
use axum::Router;

use crate::api::handlers;

pub fn router(state: App) -> Router {
    Router::new()
        .route("/posts", get(handlers::list_posts).post(handlers::create_post))
        .route("/posts/{id}", get(handlers::show_post))
        .with_state(state)
}
"#;
    check(
        &[
            ("src/main.rs", MAIN),
            ("src/api/mod.rs", "pub mod handlers;\n"),
            ("src/api/handlers.rs", HANDLERS),
            ("src/routes.rs", routes),
        ],
        &[
            "api::handlers::list_posts get-only GET /posts@src/routes.rs:8",
            "api::handlers::show_post get-only GET /posts/{id}@src/routes.rs:9",
        ],
    );
}

#[test]
fn get_in_one_place_and_post_in_another_is_not_get_only() {
    let routes = r#"use axum::routing::{get, post};
use axum::Router;
use crate::api::handlers::{feed, show_post};

pub fn router() -> Router {
    let public = Router::new().route("/feed", get(feed));
    let admin = Router::new().route("/admin/feed", post(feed)).route("/p/{id}", get(show_post).head(show_post));
    public.merge(admin)
}
"#;
    check(
        &[
            ("src/main.rs", MAIN),
            ("src/api/mod.rs", "pub mod handlers;\n"),
            ("src/api/handlers.rs", HANDLERS),
            ("src/routes.rs", routes),
        ],
        &[
            "api::handlers::feed not-get-only GET /feed@src/routes.rs:6, POST /admin/feed@src/routes.rs:7",
            "api::handlers::show_post get-only GET /p/{id}@src/routes.rs:7, HEAD /p/{id}@src/routes.rs:7",
        ],
    );
}

#[test]
fn routing_paths_qualified_and_through_module_imports() {
    let routes = r#"use axum::routing;
use axum::Router;

async fn a() {}
async fn b() {}
async fn c() {}
async fn d() {}

pub fn router() -> Router {
    Router::new()
        .route("/a", routing::get(a))
        .route("/b", axum::routing::get(b))
        .route("/c", ::axum::routing::get(c).put(d))
}
"#;
    check(
        &[("src/lib.rs", routes)],
        &[
            "crate::a get-only GET /a@src/lib.rs:11",
            "crate::b get-only GET /b@src/lib.rs:12",
            "crate::c get-only GET /c@src/lib.rs:13",
        ],
    );
}

#[test]
fn on_with_method_filters() {
    let routes = r#"use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;

async fn one() {}
async fn two() {}
async fn three() {}
async fn four() {}
async fn five() {}

pub fn router(filter: MethodFilter) -> Router {
    Router::new()
        .route("/1", on(MethodFilter::GET, one))
        .route("/2", on(MethodFilter::GET.or(MethodFilter::HEAD), two))
        .route("/3", on(MethodFilter::POST, three))
        .route("/4", on(filter, four))
        .route("/5", MethodRouter::new().on(MethodFilter::GET, five).on(MethodFilter::DELETE, five))
}
"#;
    check(
        &[("src/lib.rs", routes)],
        &[
            "crate::one get-only GET /1@src/lib.rs:12",
            "crate::two get-only GET|HEAD /2@src/lib.rs:13",
            "crate::four not-get-only ANY /4@src/lib.rs:15",
            "crate::five not-get-only GET /5@src/lib.rs:16, DELETE /5@src/lib.rs:16",
        ],
    );
}

#[test]
fn nested_and_merged_routers_and_any() {
    let lib = r#"mod api;
use axum::routing::{any, get};
use axum::Router;

async fn health() {}
async fn proxy() {}

pub fn app() -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/proxy/{*rest}", any(proxy))
        .nest("/api", api::router())
        .merge(api::extra())
}
"#;
    let api = r#"use axum::routing::get;
use axum::Router;

async fn users() {}
async fn stats() {}

pub fn router() -> Router {
    Router::new().route("/users", get(users))
}

pub fn extra() -> Router {
    Router::new().route("/stats", get(stats))
}
"#;
    check(
        &[("src/lib.rs", lib), ("src/api.rs", api)],
        &[
            "api::users get-only GET /users@src/api.rs:8",
            "api::stats get-only GET /stats@src/api.rs:12",
            "crate::health get-only GET /health@src/lib.rs:10",
            "crate::proxy not-get-only ANY /proxy/{*rest}@src/lib.rs:11",
        ],
    );
}

#[test]
fn route_tables_registered_in_loops() {
    let lib = r#"use std::sync::LazyLock;
use axum::routing::{get, post, MethodRouter};
use axum::Router;

async fn a() {}
async fn b() {}
async fn c() {}

fn table() -> Vec<(&'static str, MethodRouter)> {
    vec![
        ("/a", get(a)),
        ("/b", post(b)),
    ]
}

static MORE: LazyLock<Vec<(&'static str, MethodRouter)>> = LazyLock::new(|| vec![("/c", get(c))]);

pub fn app() -> Router {
    let mut router = Router::new();
    for (path, method_router) in table() {
        router = router.route(path, method_router);
    }
    router
}
"#;
    check(
        &[("src/lib.rs", lib)],
        &["crate::a get-only GET /a@src/lib.rs:11", "crate::c get-only GET /c@src/lib.rs:16"],
    );
}

#[test]
fn closure_handlers_in_place_and_through_locals() {
    let lib = r#"use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;

pub fn app() -> Router<App> {
    let version = || async { env!("CARGO_PKG_VERSION") };
    Router::new()
        .route("/count", get(|State(s): State<App>| async move {
            let db = s.get_db().await.unwrap();
            count(&db).await
        }))
        .route("/version", get(version))
        .route("/ping", post(|| async { "pong" }))
}
"#;
    check(
        &[("src/lib.rs", lib)],
        &[
            "closure@src/lib.rs:8 get-only GET /count@src/lib.rs:8",
            "closure@src/lib.rs:6 get-only GET /version@src/lib.rs:12",
        ],
    );
}

#[test]
fn fallback_and_services_serve_every_method() {
    let lib = r#"use axum::routing::get;
use axum::Router;
use tower_http::services::ServeDir;

async fn not_found() {}
async fn page() {}

pub fn app() -> Router {
    Router::new()
        .route("/404", get(not_found))
        .route("/page", get(page))
        .route_service("/page2", page)
        .nest_service("/static", ServeDir::new("static"))
        .fallback(not_found)
}
"#;
    check(
        &[("src/lib.rs", lib)],
        &[
            "crate::not_found not-get-only GET /404@src/lib.rs:10, ANY -@src/lib.rs:14",
            "crate::page not-get-only GET /page@src/lib.rs:11, ANY /page2@src/lib.rs:12",
        ],
    );
}

#[test]
fn other_gets_are_not_routes() {
    let lib = r#"use std::collections::HashMap;

fn get(key: &str) -> Option<String> {
    None
}

async fn fetch(url: &str, map: HashMap<String, String>) {
    let body = reqwest::get(url).await;
    let cached = map.get("x");
    let local = get("key");
    let client = Client::new().get(url).send().await;
}

mod routing {
    pub fn get(f: fn()) {}
}

fn warm() {}

fn setup() {
    routing::get(warm);
    let get = |f: fn()| f();
    get(warm);
}
"#;
    check(&[("src/lib.rs", lib)], &[]);
}

#[test]
fn a_helper_get_in_another_module_does_not_hide_axum_get() {
    // `handlers::get` is a handler named `get`; the router module's `get` is axum's.
    let lib = r#"mod handlers {
    pub async fn get() {}
    pub async fn put() {}
}
use axum::routing::{get, put};

pub fn app() -> axum::Router {
    axum::Router::new().route("/item", get(handlers::get).put(handlers::put))
}
"#;
    check(&[("src/lib.rs", lib)], &["handlers::get get-only GET /item@src/lib.rs:8"]);
}

/// A call (`make_handler(prefix)`) names no handler: only paths and closures do, so it is
/// not listed (issue 11: builders and strings are never handler names).
#[test]
fn unresolved_references_are_listed() {
    let lib = r#"use axum::routing::get;
use axum::Router;

pub fn app(prefix: &str) -> Router {
    Router::new()
        .route("/missing", get(missing::handler))
        .route("/built", get(make_handler(prefix)))
        .route("/ext", get(other_crate::handlers::index))
}
"#;
    check(
        &[("src/lib.rs", lib)],
        &[
            "?missing::handler unresolved GET /missing@src/lib.rs:6",
            "?other_crate::handlers::index unresolved GET /ext@src/lib.rs:8",
        ],
    );
}

#[test]
fn method_routers_kept_in_locals_stay_method_routers() {
    let lib = r#"use axum::routing::get;

async fn show() {}
async fn replace() {}

pub fn app() -> axum::Router {
    let item = get(show);
    let item = item.put(replace);
    axum::Router::new().route("/item", item)
}
"#;
    check(&[("src/lib.rs", lib)], &["crate::show get-only GET -@src/lib.rs:7"]);
}

#[test]
fn handlers_with_layers_attached() {
    let lib = r#"use axum::handler::Handler;
use axum::routing::get;

async fn slow() {}

pub fn app() -> axum::Router {
    axum::Router::new().route("/slow", get(slow.layer(TimeoutLayer::new(Duration::from_secs(30)))))
}
"#;
    check(&[("src/lib.rs", lib)], &["crate::slow get-only GET /slow@src/lib.rs:7"]);
}

#[test]
fn a_get_brought_by_a_glob_of_the_crate_is_the_crates() {
    let cache = "pub fn get(f: fn()) {}\npub fn warm() {}\n";
    let user = "use crate::cache::*;\n\nfn main() {\n    get(warm);\n}\n";
    check(&[("src/main.rs", user), ("src/cache.rs", cache)], &[]);
    // With the crate's `get` out of sight, the same call is taken for a route, and listed.
    check(&[("src/main.rs", user)], &["?warm unresolved GET -@src/main.rs:4"]);
}

#[test]
fn typed_routes_of_axum_extra() {
    let lib = r#"use axum_extra::routing::{RouterExt, TypedPath};

#[derive(TypedPath)]
#[typed_path("/users/{id}")]
struct UserPath { id: u32 }

async fn show(path: UserPath) {}
async fn update(path: UserPath) {}
async fn both(path: UserPath) {}

pub fn app() -> axum::Router {
    axum::Router::new().typed_get(show).typed_put(update).typed_get(both).typed_delete(both)
}
"#;
    check(
        &[("src/lib.rs", lib)],
        &[
            "crate::show get-only GET -@src/lib.rs:12",
            "crate::both not-get-only GET -@src/lib.rs:12, DELETE -@src/lib.rs:12",
        ],
    );
}

#[test]
fn a_body_naming_no_route_marker_still_records_the_items_in_it() {
    // Discovery skips bodies that name no route marker, but not the functions and `use`
    // items declared in them.
    let lib = r#"use axum::routing::get;

pub fn helper() -> u32 {
    use std::cmp::max;
    fn inner() -> u32 { 1 }
    max(inner(), 2)
}

pub fn app() -> axum::Router {
    async fn page() {}
    axum::Router::new().route("/page", get(page))
}
"#;
    let files = super::extract_tree(&[("src/lib.rs", lib)]);
    let functions: Vec<(&str, Option<usize>)> =
        files[0].functions.iter().map(|f| (f.name.as_str(), f.parent)).collect();
    assert_eq!(functions, [("helper", None), ("inner", Some(0)), ("app", None), ("page", Some(2))]);
    let in_bodies: Vec<(&str, Option<usize>)> = files[0]
        .imports
        .iter()
        .filter(|i| i.within.is_some())
        .map(|i| (i.alias.as_str(), i.within))
        .collect();
    assert_eq!(in_bodies, [("max", Some(0))]);
    check(&[("src/lib.rs", lib)], &["crate::page get-only GET /page@src/lib.rs:11"]);
}

#[test]
fn a_body_naming_method_router_words_only_as_methods_of_other_values_is_not_walked() {
    // `get`, `post`, `any`, `on` start a method router only as functions called; as methods they
    // register only on a method router, and one begins in the same body. Other markers count
    // wherever they are written.
    let names = builtin_names();
    for skipped in [
        "{ let v = map.get(&k); v.iter().any(|x| x.on) }",
        "{ cache\n    .get(&id)\n    .map(|r| r.post.clone()) }",
    ] {
        assert!(!names.body_may_register(skipped), "{skipped}");
    }
    for walked in [
        "{ get(list).post(create) }",
        "{\n    // Listing and creation share a path.\n    get(list).post(create)\n}",
        "{ let v = map.get(&k); axum::routing::get(h) }",
        "{ Router::new().nest(\"/api\", api()) }",
        "{ r.route(\"/\", x) }",
        "{ MethodRouter::new().get(h) }",
        "{ let m = any(h); m }",
        "{ on(MethodFilter::GET, h) }",
        "{ app.fallback(h) }",
        "{ router.typed_get(h) }",
        "{ fn inner() {} }",
    ] {
        assert!(names.body_may_register(walked), "{walked}");
    }
}
