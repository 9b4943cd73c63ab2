//! poem: `#[handler]` with `get(h)`, `Route::at(path, h)` serving every method,
//! `RouteMethod`, poem-openapi `#[oai]`, and utoipa's `#[utoipa::path]`.

use super::{check, extract_tree};
use crate::migrate::routes::Framework;

#[test]
fn handlers_registered_with_method_routers_and_bare_at() {
    let main = r#"use poem::{get, handler, post, Route, RouteMethod, http::Method};

#[handler]
fn hello() -> String {
    "hello".into()
}

#[handler]
fn submit() -> String {
    String::new()
}

#[handler]
fn anything() -> String {
    String::new()
}

#[handler]
fn version() -> String {
    String::new()
}

#[handler]
fn status() -> String {
    String::new()
}

#[handler]
fn unmounted() -> String { String::new() }

fn app() -> Route {
    Route::new()
        .at("/hello", get(hello).post(submit))
        .at("/anything", anything)
        .at("/version", RouteMethod::new().get(version))
        .at("/status", RouteMethod::new().method(Method::GET, status))
        .at("/status2", status.with(Tracing))
        .nest("/api", api())
}
"#;
    // `#[handler]` marks an endpoint; the route and its method come from the router.
    let files = extract_tree(&[("src/main.rs", main)]);
    let unmounted = files[0].functions.iter().find(|f| f.name == "unmounted").expect("recorded");
    let marker = &unmounted.attr_routes[..];
    assert!(
        matches!(marker, [r] if r.methods.is_none() && r.framework == Framework::Poem && r.line == 28),
        "{marker:?}"
    );
    check(
        &[("src/main.rs", main)],
        &[
            "crate::hello get-only GET /hello@src/main.rs:33",
            "crate::anything not-get-only ANY /anything@src/main.rs:34",
            "crate::version get-only GET /version@src/main.rs:35",
            "crate::status not-get-only GET /status@src/main.rs:36, ANY /status2@src/main.rs:37",
        ],
    );
}

#[test]
fn openapi_operations() {
    let api = r#"use poem_openapi::{payload::Json, OpenApi};

pub struct Api;

#[OpenApi]
impl Api {
    #[oai(path = "/pets", method = "get")]
    async fn list_pets(&self) -> Json<Vec<Pet>> {
        Json(vec![])
    }

    #[oai(path = "/pets", method = "post")]
    async fn add_pet(&self, pet: Json<Pet>) -> Json<i64> {
        Json(1)
    }

    #[oai(path = "/pets/:id", method = "get", method = "delete")]
    async fn pet(&self) -> Json<()> { Json(()) }
}
"#;
    check(
        &[("src/api.rs", api)],
        &[
            "api::Api::list_pets get-only GET /pets@src/api.rs:7",
            "api::Api::pet not-get-only GET|DELETE /pets/:id@src/api.rs:17",
        ],
    );
}

#[test]
fn utoipa_paths_name_the_method() {
    let lib = r#"use axum::routing::{get, post};

#[utoipa::path(get, path = "/todos", responses((status = 200, description = "List", body = [Todo])))]
pub async fn list_todos() -> Json<Vec<Todo>> { Json(vec![]) }

#[utoipa::path(method(get, head), path = "/todos/{id}", params(("id" = u64, Path, description = "Todo id")))]
pub async fn get_todo() -> Json<Todo> { Json(Todo::default()) }

#[utoipa::path(post, path = "/todos", request_body = Todo)]
pub async fn create_todo() {}

/// Documented as a POST, routed as a GET: served by both, so not GET-only.
#[utoipa::path(post, path = "/todos/search")]
pub async fn search() -> Json<Vec<Todo>> { Json(vec![]) }

pub fn router() -> axum::Router {
    axum::Router::new().route("/todos/search", get(search))
}
"#;
    check(
        &[("src/lib.rs", lib)],
        &[
            "crate::list_todos get-only GET /todos@src/lib.rs:3",
            "crate::get_todo get-only GET|HEAD /todos/{id}@src/lib.rs:6",
            "crate::search not-get-only POST /todos/search@src/lib.rs:13, GET /todos/search@src/lib.rs:17",
        ],
    );
}

/// A `#[handler]` names no method: mounted without a method router it serves every method,
/// so it is listed (GET reaches it) but never GET-only.
#[test]
fn method_less_handlers_are_not_get_only() {
    let main = r#"use poem::{get, handler, EndpointExt, Route};

mod pages {
    use poem::handler;

    #[handler]
    pub fn about() -> String {
        "about".into()
    }
}

#[handler]
fn index() -> String {
    "index".into()
}

#[handler]
fn feed() -> String {
    "feed".into()
}

fn app() -> Route {
    Route::new()
        .at("/", index)
        .at("/about", pages::about.data(1))
        .at("/feed", get(feed))
        .at("/feed2", feed)
}
"#;
    check(
        &[("src/main.rs", main)],
        &[
            "crate::index not-get-only ANY /@src/main.rs:24",
            "pages::about not-get-only ANY /about@src/main.rs:25",
            "crate::feed not-get-only GET /feed@src/main.rs:26, ANY /feed2@src/main.rs:27",
        ],
    );
}
