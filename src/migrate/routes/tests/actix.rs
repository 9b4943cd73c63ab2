//! actix-web: attribute routes mounted with `.service(h)`, `#[route]` with methods,
//! `web::get().to(h)`, bare `get().to(h)` after a glob import, resources, guards, `web::to`.

use super::{check, extract_tree};
use crate::migrate::routes::{discover, Framework, HandlerTarget};

#[test]
fn attribute_handlers_mounted_with_service() {
    let handlers = r#"use actix_web::{get, post, route, web, HttpResponse, Responder};

#[get("/posts")]
pub async fn list(pool: web::Data<PgPool>) -> impl Responder {
    HttpResponse::Ok().finish()
}

#[post("/posts")]
pub async fn create(pool: web::Data<PgPool>) -> impl Responder {
    HttpResponse::Created().finish()
}

#[route("/posts/{id}", method = "GET", method = "HEAD")]
pub async fn show(path: web::Path<i64>) -> impl Responder {
    HttpResponse::Ok().finish()
}

#[route("/posts/{id}/edit", method = "GET", method = "POST")]
pub async fn edit(path: web::Path<i64>) -> impl Responder {
    HttpResponse::Ok().finish()
}

#[actix_web::get("/health")]
pub async fn health() -> &'static str {
    "ok"
}
"#;
    let main = r#"mod handlers;
use actix_web::{App, HttpServer};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(|| {
        App::new()
            .service(handlers::list)
            .service(handlers::create)
            .service(handlers::show)
            .service(handlers::edit)
            .service(handlers::health)
    })
    .bind(("127.0.0.1", 8080))?
    .run()
    .await
}
"#;
    let tree = [("src/main.rs", main), ("src/handlers.rs", handlers)];
    check(
        &tree,
        &[
            "handlers::list get-only GET /posts@src/handlers.rs:3",
            "handlers::show get-only GET|HEAD /posts/{id}@src/handlers.rs:13",
            "handlers::edit not-get-only GET|POST /posts/{id}/edit@src/handlers.rs:18",
            "handlers::health get-only GET /health@src/handlers.rs:23",
        ],
    );
    let found = discover(&extract_tree(&tree));
    assert!(found.iter().all(|h| h.routes.iter().all(|r| r.framework == Framework::ActixWeb && r.attribute)));
}

#[test]
fn routes_built_with_web_functions() {
    let main = r#"mod users;
use actix_web::{guard, http::Method, web, App};

fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/users", web::get().to(users::list))
        .service(
            web::resource("/users/{id}")
                .route(web::get().to(users::show))
                .route(web::post().to(users::update)),
        )
        .service(web::resource("/users/{id}/raw").to(users::raw))
        .route("/m", web::route().method(Method::GET).to(users::by_method))
        .route("/g", web::route().guard(guard::Get()).to(users::by_guard))
        .route("/any", web::route().to(users::any_method))
        .route("/gh", web::route().guard(guard::Any(guard::Get()).or(guard::Head())).to(users::get_or_head))
        .default_service(web::to(users::fallback));
}
"#;
    let users = r#"pub async fn list() {}
pub async fn show() {}
pub async fn update() {}
pub async fn raw() {}
pub async fn by_method() {}
pub async fn by_guard() {}
pub async fn any_method() {}
pub async fn get_or_head() {}
pub async fn fallback() {}
"#;
    check(
        &[("src/main.rs", main), ("src/users.rs", users)],
        &[
            "users::list get-only GET /users@src/main.rs:5",
            "users::show get-only GET /users/{id}@src/main.rs:8",
            "users::raw not-get-only ANY /users/{id}/raw@src/main.rs:11",
            "users::by_method get-only GET /m@src/main.rs:12",
            "users::by_guard get-only GET /g@src/main.rs:13",
            "users::any_method not-get-only ANY /any@src/main.rs:14",
            "users::get_or_head get-only GET|HEAD /gh@src/main.rs:15",
            "users::fallback not-get-only ANY -@src/main.rs:16",
        ],
    );
}

#[test]
fn bare_get_after_a_glob_import() {
    let main = r#"use actix_web::web::*;
use actix_web::App;

use crate::handlers::users;

mod handlers {
    pub mod users {
        pub async fn index() {}
        pub async fn remove() {}
    }
}

fn app() -> App {
    App::new()
        .route("/users", get().to(users::index))
        .route("/users", delete().to(users::remove))
}
"#;
    check(&[("src/main.rs", main)], &["handlers::users::index get-only GET /users@src/main.rs:15"]);
}

#[test]
fn resolution_through_use_into_another_file() {
    let main = r#"mod api;
use actix_web::web;
use crate::api::v1::orders as o;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(web::scope("/v1").route("/orders", web::get().to(o::list)));
}
"#;
    let orders = "pub async fn list() -> String {\n    String::new()\n}\n";
    let tree = [("src/main.rs", main), ("src/api/mod.rs", "pub mod v1;\n"), ("src/api/v1/orders.rs", orders)];
    check(&tree, &["api::v1::orders::list get-only GET /orders@src/main.rs:6"]);
    let found = discover(&extract_tree(&tree));
    let HandlerTarget::Fn(f) = &found[0].target else { panic!("not resolved: {found:?}") };
    assert_eq!(f.file, std::path::Path::new("src/api/v1/orders.rs"));
    assert_eq!(&orders[f.body.bytes()], "{\n    String::new()\n}");
}
