#!/usr/bin/env python3
"""A crate of many small files whose handlers name the read-write pool by its full path through
another crate (`State<sqlx::PgPool>`) while the crate declares the read-only twin itself
(`src/db.rs`): migrate searches the crate for the twin's home (bench/homes/run).

    gen.py DIR [--files N] [--handlers H]
"""
import argparse
import os

p = argparse.ArgumentParser()
p.add_argument("dir")
p.add_argument("--files", type=int, default=15000)
p.add_argument("--handlers", type=int, default=100)
a = p.parse_args()
src = os.path.join(a.dir, "src")
os.makedirs(os.path.join(src, "filler"), exist_ok=True)
os.makedirs(os.path.join(src, "handlers"), exist_ok=True)


def write(rel, text):
    with open(os.path.join(a.dir, rel), "w") as f:
        f.write(text)


write("Cargo.toml", '[package]\nname = "homes"\nversion = "0.1.0"\nedition = "2021"\n\n'
      '[dependencies]\naxum = "0.8"\nsqlx = "0.8"\n')
write("ro-audit.toml", '[types]\nread_only = ["ReadOnlyPgPool"]\nread_write = ["PgPool"]\n\n'
      '[types.migrate]\nPgPool = "ReadOnlyPgPool"\n')
write("src/db.rs", "pub struct ReadOnlyPgPool(pub sqlx::PgPool);\n")
for i in range(a.files):
    write(f"src/filler/f{i}.rs", f"pub fn f{i}(x: u64) -> u64 {{\n    x + {i}\n}}\n")
write("src/filler/mod.rs", "".join(f"pub mod f{i};\n" for i in range(a.files)))
routes = []
for i in range(a.handlers):
    write(f"src/handlers/h{i}.rs",
          "use axum::extract::State;\n\n"
          f"pub async fn list{i}(State(pool): State<sqlx::PgPool>) -> String {{\n"
          f'    let rows = sqlx::query("SELECT id FROM t{i}").fetch_all(&pool).await.unwrap();\n'
          "    rows.len().to_string()\n}\n")
    routes.append(f'        .route("/l{i}", axum::routing::get(handlers::h{i}::list{i}))\n')
write("src/handlers/mod.rs", "".join(f"pub mod h{i};\n" for i in range(a.handlers)))
write("src/lib.rs", "pub mod db;\npub mod filler;\npub mod handlers;\n\n"
      "pub fn app() -> axum::Router {\n    axum::Router::new()\n" + "".join(routes) + "}\n")
