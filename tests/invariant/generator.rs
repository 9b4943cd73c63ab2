//! A seeded generator of small workspaces for the migrate-then-check invariant: two crates
//! (`app` and a sibling library crate whose directory name differs from its crate name), GET
//! handlers in several modules, tree helpers calling each other, ORM calls (diesel builders,
//! sea-orm models and read executors), raw SQL writes (literal, `const`, `format!`), write
//! helpers without a body, helpers that lock the rows they read only when their caller passes
//! `true` (`lock: bool`: given `true`, `false`, their caller's own flag, or an expression),
//! calls inside macro arguments (`json!`, `vec!`, `format!`; the
//! accessor itself inside `tokio::join!`), and the tree's type aliases of the handle types
//! (`Primary`, `Replica`: in `main.rs` from `db`, in `api` through a prelude's re-export, the
//! replica's also by the prelude's rename `Follower`), the replica's used beside the primary.
//!
//! Deterministic: the same seed gives the same tree, so a failure names its seed.

use std::fmt::Write as _;
use std::path::Path;

/// A small deterministic random source (SplitMix64).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A generated tree: relative paths and their text.
pub struct Tree {
    pub files: Vec<(String, String)>,
}

impl Tree {
    /// Writes the tree below `root`.
    pub fn write(&self, root: &Path) {
        for (path, text) in &self.files {
            let dest = root.join(path);
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::write(dest, text).unwrap();
        }
    }

    /// Every file with its text, for a failure message.
    pub fn listing(&self) -> String {
        let mut out = String::new();
        for (path, text) in &self.files {
            let _ = writeln!(out, "==> {path} <==\n{text}");
        }
        out
    }
}

/// The tree's migration: per table, a STABLE function that reads and one that writes.
const MIGRATION: &str = "CREATE TABLE posts (id BIGINT PRIMARY KEY, seen INT);
CREATE TABLE users (id BIGINT PRIMARY KEY, seen INT);
CREATE TABLE tags (id BIGINT PRIMARY KEY, seen INT);

CREATE FUNCTION posts_page(n INT) RETURNS SETOF posts STABLE LANGUAGE sql AS 'SELECT * FROM posts LIMIT n';
CREATE FUNCTION users_page(n INT) RETURNS SETOF users STABLE LANGUAGE sql AS 'SELECT * FROM users LIMIT n';
CREATE FUNCTION tags_page(n INT) RETURNS SETOF tags STABLE LANGUAGE sql AS 'SELECT * FROM tags LIMIT n';

CREATE FUNCTION touch_posts(n BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    UPDATE posts SET seen = seen + 1 WHERE id = n;
END;
$$;
CREATE FUNCTION touch_users(n BIGINT) RETURNS VOID LANGUAGE sql AS $$ SELECT touch_posts(n) $$;
CREATE FUNCTION touch_tags(n BIGINT) RETURNS BIGINT LANGUAGE sql AS $$ SELECT nextval('tag_ids') $$;
";

/// A migration written in Rust (refinery's `V2__archive.rs`): per table, a function that
/// writes, defined in a string literal.
const MIGRATION_RS: &str = r####"pub fn migration() -> String {
    [
        "CREATE FUNCTION archive_posts(n BIGINT) RETURNS VOID LANGUAGE sql AS 'DELETE FROM posts WHERE id = n';",
        "CREATE FUNCTION archive_users(n BIGINT) RETURNS VOID LANGUAGE sql AS 'DELETE FROM users WHERE id = n';",
        r#"CREATE FUNCTION archive_tags(n BIGINT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM tags WHERE id = n;
END $$;"#,
    ]
    .join("\n")
}
"####;

pub const DB_RS: &str = "pub struct Conn;

pub struct DbRw(pub Conn);

pub struct DbRo(pub Conn);

impl Conn {
    pub async fn query(&self, _sql: &str) -> Vec<String> {
        Vec::new()
    }
    pub async fn execute(&self, _sql: &str) -> u64 {
        0
    }
}

pub async fn get_db() -> Conn {
    Conn
}

pub async fn get_db_ro() -> Conn {
    Conn
}
";

const ROOT_CARGO: &str = "[workspace]\nmembers = [\"app\", \"store-lib\"]\nresolver = \"2\"\n";
// `app` registers its routes with axum: its crate graph holds a web framework (migrate
// screens for routes only there).
const APP_CARGO: &str = "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\naxum = \"0.8\"\nstore = { path = \"../store-lib\" }\n";
const STORE_CARGO: &str = "[package]\nname = \"store\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

/// Where a function lives, and how a caller in `app` names it.
#[derive(Clone)]
struct Place {
    /// The module file's index in `Modules`.
    module: usize,
    name: String,
    /// It takes `lock: bool` after the handle, and locks what it reads when that is true.
    flag: bool,
}

/// The modules functions are placed in: (file, path from `app`, path from `store`).
const MODULES: &[(&str, &str, &str)] = &[
    ("app/src/helpers.rs", "crate::helpers", ""),
    ("app/src/api/repo.rs", "crate::api::repo", ""),
    ("store-lib/src/lib.rs", "store", "crate"),
    ("store-lib/src/audit.rs", "store::audit", "crate::audit"),
];

fn in_store(module: usize) -> bool {
    MODULES[module].0.starts_with("store-lib")
}

/// How `caller_module` names a function of `place`.
fn path_to(caller_module: Option<usize>, place: &Place) -> String {
    let (_, from_app, from_store) = MODULES[place.module];
    let base = match caller_module {
        Some(m) if in_store(m) => from_store,
        _ => from_app,
    };
    if base.is_empty() {
        place.name.clone()
    } else {
        format!("{base}::{}", place.name)
    }
}

/// One statement using the handle (`recv` as a receiver, `h` as an argument: a `&Conn`),
/// calling only helpers in `callees`. About half of them read. `own_flag`: the function takes
/// `lock: bool` itself, and may pass it on.
fn statement(
    rng: &mut Rng,
    recv: &str,
    h: &str,
    callees: &[Place],
    caller_module: Option<usize>,
    own_flag: bool,
    out: &mut String,
) {
    let table = ["posts", "users", "tags"][rng.below(3)];
    // A library crate cannot call into the application.
    let reachable: Vec<&Place> =
        callees.iter().filter(|p| caller_module.is_none_or(|m| !in_store(m) || in_store(p.module))).collect();
    let line = match rng.below(33) {
        // Reads.
        0..=2 => format!("let _rows = {recv}.query(\"SELECT * FROM {table} WHERE id = 1\").await;"),
        3 => format!("let _m = {table}::Entity::find_by_id(1).one({h}).await;"),
        4 => format!("let _all = {table}::Entity::find().all({h}).await;"),
        5 => format!("let _r = {table}::table.filter({table}::id.eq(1)).first::<i64>({h});"),
        6 => format!("let _v = vec![{recv}.query(\"SELECT 1\").await, Vec::new()];"),
        7 => format!("let _v = serde_json::json!({{ \"rows\": {recv}.query(\"SELECT 2\").await }});"),
        8 => format!(
            "let _rows = {recv}.query(&format!(\"SELECT * FROM {table} {{}}\", if true {{ \"ORDER BY id\" }} else {{ \"\" }})).await;"
        ),
        // Writes.
        9 => format!("{recv}.execute(\"UPDATE {table} SET seen = seen + 1\").await;"),
        10 => format!("{recv}.execute(&format!(\"DELETE FROM {table} WHERE id = {{}}\", 7)).await;"),
        11 => format!("const Q: &str = \"INSERT INTO {table} (id) VALUES (1)\";\n    {recv}.execute(Q).await;"),
        12 => format!("write_audit({h}, \"{table}\").await;"),
        13 => format!("let _v = serde_json::json!({{ \"n\": write_audit({h}, \"x\"), \"t\": \"{table}\" }});"),
        14 => format!(
            "let active = {table}::ActiveModel {{ id: Set(1), ..Default::default() }};\n    let _m = active.insert({h}).await;"
        ),
        15 => format!("let _n = diesel::insert_into({table}::table).values(&1).execute({h});"),
        16 => format!("let _n = {table}::Entity::delete_many().exec({h}).await;"),
        17 => format!("let mut tx = {recv}.begin().await;\n    tx.execute(\"DELETE FROM {table} WHERE id = 2\").await;"),
        18 => format!("let _r = {recv}.transaction(|c| c.query(\"SELECT * FROM {table}\"));"),
        19 => format!("let _r = {recv}.transaction(|c| c.execute(\"UPDATE {table} SET n = 0\"));"),
        20 => format!("let _v = vec![write_audit({h}, \"v\")];"),
        21 => format!("assert!(record_visit({h}, \"{table}\").await);"),
        23 => format!("let work = async {{ {recv}.execute(\"DELETE FROM {table}\").await }};\n    work.await;"),
        24 => format!("let read = |c: &Conn| c.query(\"SELECT * FROM {table}\");\n    let _ = read({h});"),
        22 => format!("let _b = Bucket::default().insert(\"{table}\");\n    let _rows = {recv}.query(\"SELECT 3\").await;"),
        // SQL functions of the tree's migrations (`MIGRATION`): one only reads, one writes.
        30 => format!("let _rows = {recv}.query(\"SELECT * FROM {table}_page(1)\").await;"),
        31 => format!("let _rows = {recv}.query(\"SELECT touch_{table}(1)\").await;"),
        // … and one a migration written in Rust defines (`MIGRATION_RS`).
        32 => format!("let _rows = {recv}.query(\"SELECT archive_{table}(1)\").await;"),
        // Calls of helpers of the tree.
        _ => match reachable.get(rng.below(reachable.len().max(1))) {
            Some(place) => {
                let path = path_to(caller_module, place);
                let flag = match (place.flag, rng.below(10)) {
                    (false, _) => "",
                    (true, 0..=4) => ", false",
                    (true, 5..=7) => ", true",
                    (true, _) if own_flag => ", lock",
                    (true, _) => ", std::env::var(\"LOCK\").is_ok()",
                };
                if rng.chance(20) {
                    format!("let _v = serde_json::json!({{ \"r\": {path}({h}{flag}).await }});")
                } else {
                    format!("{path}({h}{flag}).await;")
                }
            }
            None => format!("let _rows = {recv}.query(\"SELECT count(*) FROM {table}\").await;"),
        },
    };
    let _ = writeln!(out, "    {line}");
}

fn body(
    rng: &mut Rng,
    recv: &str,
    h: &str,
    callees: &[Place],
    caller_module: Option<usize>,
    own_flag: bool,
    out: &mut String,
) {
    for _ in 0..1 + rng.below(3) {
        statement(rng, recv, h, callees, caller_module, own_flag, out);
    }
}

/// The tree of `seed`.
pub fn tree(seed: u64) -> Tree {
    let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x5EED);
    let mut modules: Vec<String> = MODULES.iter().map(|_| String::new()).collect();
    // `crate::Conn` in store, `crate::db::Conn` in app.
    for (i, text) in modules.iter_mut().enumerate().filter(|(i, _)| *i != 2) {
        let conn = if in_store(i) { "crate::Conn" } else { "crate::db::Conn" };
        let _ = writeln!(text, "use {conn};\n");
    }
    // A tree method that shares a model write's name and reads.
    modules[0].push_str("#[derive(Default)]\npub struct Bucket;\n\nimpl Bucket {\n    pub fn insert(&self, _key: &str) -> bool {\n        true\n    }\n}\n\n");
    // Helpers: each calls only helpers made before it (no recursion, any module).
    let mut helpers: Vec<Place> = Vec::new();
    for k in 0..2 + rng.below(5) {
        let module = rng.below(MODULES.len());
        let place = Place { module, name: format!("helper{k}"), flag: rng.chance(35) };
        let mut text = match place.flag {
            true => format!("pub async fn {}(db: &Conn, lock: bool) {{\n", place.name),
            false => format!("pub async fn {}(db: &Conn) {{\n", place.name),
        };
        if place.flag {
            // The rows it reads are locked only when its caller asks (a replica refuses both).
            let table = ["posts", "users", "tags"][rng.below(3)];
            let choice = match rng.chance(50) {
                true => "if lock { \"FOR UPDATE\" } else { \"\" }",
                false => "if !lock { \"\" } else { \"FOR SHARE\" }",
            };
            let _ = writeln!(
                text,
                "    let _rows = db.query(&format!(\"SELECT * FROM {table} {{}}\", {choice})).await;"
            );
        }
        body(&mut rng, "db", "db", &helpers, Some(module), place.flag, &mut text);
        text.push_str("}\n\n");
        modules[module].push_str(&text);
        helpers.push(place);
    }
    // Handlers, in main.rs or api/mod.rs.
    let mut main_handlers = String::new();
    let mut api_handlers =
        String::from("pub mod repo;\n\nuse crate::db;\nuse crate::db::DbRw;\nuse crate::prelude::*;\n\n");
    let mut routes = Vec::new();
    for k in 0..1 + rng.below(4) {
        let in_api = rng.chance(50);
        let name = format!("handler{k}");
        // A handler may also take the replica, by the type alias the tree declares for it
        // (through the prelude's re-export in `api`, there also by the prelude's rename of it),
        // and use it too: a write there makes the handler no pure read.
        let replica = match rng.chance(30) {
            true if in_api && rng.chance(50) => ", replica: Follower",
            true => ", replica: Replica",
            false => "",
        };
        let only = replica.trim_start_matches(", ");
        let mut text = match rng.below(6) {
            0 => format!("pub async fn {name}(DbRw(conn): DbRw{replica}) -> String {{\n    let db = &conn;\n"),
            // The primary by its alias: migrate does not rewrite an alias.
            5 => format!("pub async fn {name}(primary: Primary{replica}) -> String {{\n    let db = &primary.0;\n"),
            1 => format!(
                "pub async fn {name}(State(state): State<AppState>{replica}) -> String {{\n    let db = state.get_db().await;\n"
            ),
            // The accessor only inside a macro, its handle handed out by the macro's value.
            2 => format!(
                "pub async fn {name}({only}) -> String {{\n    let (db, _n) = tokio::join!(db::get_db(), async {{ 0 }});\n"
            ),
            _ => format!("pub async fn {name}({only}) -> String {{\n    let db = db::get_db().await;\n"),
        };
        body(&mut rng, "db", "&db", &helpers, None, false, &mut text);
        if !replica.is_empty() {
            statement(&mut rng, "replica.0", "&replica.0", &helpers, None, false, &mut text);
        }
        text.push_str("    String::new()\n}\n\n");
        if in_api {
            api_handlers.push_str(&text);
            routes.push(format!("        .route(\"/{name}\", get(api::{name}))\n"));
        } else {
            main_handlers.push_str(&text);
            routes.push(format!("        .route(\"/{name}\", get({name}))\n"));
        }
    }
    let main = format!(
        "use axum::routing::get;\nuse axum::Router;\n\nuse crate::db::{{DbRw, Primary, Replica}};\n\nmod api;\nmod db;\nmod helpers;\nmod prelude;\n\n{main_handlers}pub fn app() -> Router {{\n    Router::new()\n{}}}\n\nfn main() {{}}\n",
        routes.concat()
    );
    let mut store_lib = String::from("pub mod audit;\n\npub struct Conn;\n\n");
    store_lib.push_str(&modules[2]);
    let files = vec![
        ("Cargo.toml".to_string(), ROOT_CARGO.to_string()),
        ("app/Cargo.toml".to_string(), APP_CARGO.to_string()),
        ("store-lib/Cargo.toml".to_string(), STORE_CARGO.to_string()),
        ("store-lib/migrations/V1__tables.sql".to_string(), MIGRATION.to_string()),
        ("store-lib/migrations/V2__archive.rs".to_string(), MIGRATION_RS.to_string()),
        ("app/src/main.rs".to_string(), main),
        (
            "app/src/db.rs".to_string(),
            format!("{DB_RS}\npub type Replica = DbRo;\n\npub type Primary = DbRw;\n"),
        ),
        (
            "app/src/prelude.rs".to_string(),
            "pub use crate::db::{Primary, Replica};\npub use crate::db::Replica as Follower;\n".to_string(),
        ),
        ("app/src/api/mod.rs".to_string(), api_handlers),
        (MODULES[0].0.to_string(), modules[0].clone()),
        (MODULES[1].0.to_string(), modules[1].clone()),
        (MODULES[2].0.to_string(), store_lib),
        (MODULES[3].0.to_string(), modules[3].clone()),
    ];
    Tree { files }
}

/// The three regressions of the engine issue, and a handler that only reads.
pub fn regressions() -> Tree {
    let main = "use axum::routing::get;
use axum::Router;

mod audit;
mod db;

async fn page() -> String {
    let db = db::get_db().await;
    audit::note(&db, \"page\").await;
    db.query(\"SELECT * FROM pages\").await.join(\",\")
}

async fn user(id: i64) -> String {
    let db = db::get_db().await;
    audit::get_or_create(&db, id).await
}

async fn report() -> String {
    let db = db::get_db().await;
    let v = serde_json::json!({ \"x\": write_audit(&db, \"report\") });
    v.to_string()
}

async fn list() -> String {
    let db = db::get_db().await;
    db.query(\"SELECT * FROM pages\").await.join(\",\")
}

async fn touch() -> String {
    let db = db::get_db().await;
    db.query(\"SELECT touch_users(1)\").await.join(\",\")
}

async fn tag_page() -> String {
    let db = db::get_db().await;
    db.query(\"SELECT * FROM tags_page(3)\").await.join(\",\")
}

async fn archive() -> String {
    let db = db::get_db().await;
    db.query(\"SELECT archive_tags(3)\").await.join(\",\")
}

pub fn app() -> Router {
    Router::new()
        .route(\"/page\", get(page))
        .route(\"/user\", get(user))
        .route(\"/report\", get(report))
        .route(\"/list\", get(list))
        .route(\"/touch\", get(touch))
        .route(\"/tags\", get(tag_page))
        .route(\"/archive\", get(archive))
}
";
    let audit = "use crate::db::Conn;

pub async fn note(db: &Conn, what: &str) {
    write_audit(db, what).await;
}

pub async fn get_or_create(db: &Conn, id: i64) -> String {
    if let Some(u) = users::Entity::find_by_id(id).one(db).await.unwrap() {
        return u.name;
    }
    let active = users::ActiveModel { id: Set(id), ..Default::default() };
    active.insert(db).await.unwrap().name
}
";
    Tree {
        files: vec![
            ("src/main.rs".into(), main.into()),
            ("src/audit.rs".into(), audit.into()),
            ("src/db.rs".into(), DB_RS.into()),
            ("migrations/V1__tables.sql".into(), MIGRATION.into()),
            ("migrations/V2__archive.rs".into(), MIGRATION_RS.into()),
        ],
    }
}
