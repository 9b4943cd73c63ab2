//! What must not count as a handler (issue 11, item 1): test request builders, status-code
//! routes, redirects, strings and other non-paths given where a handler goes, and doc-only
//! stubs (a route attribute on a function with an empty or `todo!()` body).

use super::check;

#[test]
fn request_builders_status_codes_and_redirects_are_not_handlers() {
    let routes = r#"use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::Redirect;
use axum::routing::get;
use axum::Router;

pub async fn feed() -> &'static str {
    "feed"
}

pub fn router() -> Router {
    Router::new()
        .route("/feed", get(feed))
        .route("/health", get(StatusCode::OK))
        .route("/old", get(|| async { Redirect::to("/feed") }))
}

fn request(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

#[test]
fn feed_works() {
    let a = Request::get("/feed").body(Body::empty()).unwrap();
    let b = Request::get(format!("/feed/{}", 1)).body(Body::empty()).unwrap();
    let c = axum::http::Request::get(request("/x").uri().clone());
}
"#;
    check(
        &[("src/main.rs", "mod routes;\nfn main() {}\n"), ("src/routes.rs", routes)],
        &[
            "routes::feed get-only GET /feed@src/routes.rs:13",
            "closure@src/routes.rs:15 get-only GET /old@src/routes.rs:15",
        ],
    );
}

#[test]
fn strings_and_calls_are_never_handler_names() {
    let app = r#"use actix_web::{web, App, HttpResponse};

pub async fn index() -> HttpResponse {
    HttpResponse::Ok().finish()
}

pub fn app() -> App {
    App::new()
        .route("/", web::get().to(index))
        .route("/old", web::get().to("/"))
        .route("/built", web::get().to(make_handler()))
        .service(web::Redirect::to("/new"))
        .service(web::resource("/r").to(format!("/{}", 1)))
}
"#;
    check(&[("src/lib.rs", app)], &["crate::index get-only GET /@src/lib.rs:9"]);
}

#[test]
fn doc_only_stubs_are_not_handlers() {
    let docs = r#"/// The OpenAPI document only: the real handlers live elsewhere.
#[utoipa::path(get, path = "/pets")]
pub async fn list_pets() {}

#[utoipa::path(get, path = "/pets/{id}")]
pub async fn show_pet() -> Json<Pet> {
    unimplemented!()
}

#[utoipa::path(get, path = "/owners")]
pub async fn owners() -> Json<Vec<Owner>> {
    todo!("documented only");
}

#[utoipa::path(get, path = "/stats")]
pub async fn stats(db: Db) -> Json<Stats> {
    Json(db.stats().await)
}
"#;
    check(&[("src/lib.rs", docs)], &["crate::stats get-only GET /stats@src/lib.rs:15"]);
}
