//! rocket: method attributes, `#[route(GET, uri = ..)]`, qualified attributes.

use super::{check, extract_tree};
use crate::migrate::routes::{discover, Framework};

const LIB: &str = r#"#[macro_use]
extern crate rocket;

mod posts;

#[get("/")]
fn index() -> &'static str {
    "Hello, world!"
}

#[post("/login", data = "<form>")]
fn login(form: Form<Login>) -> Redirect {
    Redirect::to("/")
}

#[route(GET, uri = "/about")]
fn about() -> &'static str {
    "about"
}

#[rocket::get("/hello/<name>?<lang>", rank = 2)]
fn hello(name: &str, lang: Option<&str>) -> String {
    format!("hi {name}")
}

#[launch]
fn rocket() -> _ {
    rocket::build().mount("/", routes![index, login, about, hello, posts::show, posts::remove])
}
"#;

const POSTS: &str = r#"use rocket::{delete, get};

#[get("/posts/<id>")]
pub async fn show(id: i64, db: Db) -> Option<String> {
    None
}

#[delete("/posts/<id>")]
pub async fn remove(id: i64, db: Db) {}
"#;

#[test]
fn rocket_route_attributes() {
    let tree = [("src/lib.rs", LIB), ("src/posts.rs", POSTS)];
    check(
        &tree,
        &[
            "crate::index get-only GET /@src/lib.rs:6",
            "crate::about get-only GET /about@src/lib.rs:16",
            "crate::hello get-only GET /hello/<name>?<lang>@src/lib.rs:21",
            "posts::show get-only GET /posts/<id>@src/posts.rs:3",
        ],
    );
    let found = discover(&extract_tree(&tree));
    assert!(found.iter().flat_map(|h| &h.routes).all(|r| r.framework == Framework::Rocket), "{found:?}");
}

#[test]
fn attributes_that_are_not_routes() {
    let lib = r#"#[get]
fn getter() {}

#[tokio::get("/x")]
fn other_crate() {}

#[route = "/x"]
fn name_value() {}
"#;
    check(&[("src/lib.rs", lib)], &[]);
}
