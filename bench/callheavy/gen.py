#!/usr/bin/env python3
"""Writes a seeded, call-heavy Cargo workspace for `bench/callheavy/run`.

    gen.py OUT_DIR [--lines N] [--seed S] [--crates C] [--no-accessor] [--no-framework]

Shape (the worst case for an engine that resolves calls by bare method name):
* C crates under `crates/`, whose directory names differ from their package names, every
  third one with a `[lib] name` of its own; each depends on the base crate and on the crate
  before it by path, and imports that crate's types by its lib name.
* every module holds a few repository types; every type has the same methods `new`, `get`,
  `load`, `fetch_all` (reads) and `insert`, `update`, `send`, `write` (writes); every method
  takes or holds a handle and calls two or three methods of the same names on other types
  (same module, another module, the previous crate), and on std / crates.io values whose
  methods share the names (`HashMap::insert`, `Sender::send`, `Sha256::update`,
  `Vec::write`).  Reads only call reads, so a read-only handle passed to reads is clean.
* handlers per module: a read-only handler calling reads (one in BUG_EVERY also calls a
  write: a planted finding, listed in OUT_DIR/expected-findings.txt), a GET handler on the
  read-write accessor that only reads (pure-read, migrate moves it), a GET handler that also
  writes (mixed), a POST handler that writes; each crate registers them in `routes.rs` (axum).
* `--no-accessor`: the same tree, but no file names an accessor (`get_db`, `get_db_ro`): the
  handles come from `primary()` / `replica()`.
* `--no-framework`: the same tree without a web framework: no manifest depends on axum, no
  file imports it, no crate has a `routes.rs`; the handlers stay as plain functions (a library
  workspace that names the accessors everywhere, for `migrate`'s no-framework cost).

Nothing here compiles against real crates; it only has to be valid Rust syntax with the
shapes real services have. The same seed and arguments give the same bytes.
"""

import argparse
import os
import random

WORDS = ["ledger", "orders", "billing", "catalog", "accounts", "notify", "search", "media",
         "audit", "quota", "invoice", "review", "stock", "routing", "session", "payout"]
NOUNS = ["Repo", "Store", "Queue", "Index"]
READS = ["get", "load", "fetch_all"]
WRITES = ["insert", "update", "send", "write"]
TYPES_PER_MODULE = 4
BUG_EVERY = 40
LINES_PER_MODULE = 450  # measured on the output; only used to pick the module count


def camel(word):
    return word[0].upper() + word[1:]


class Crate:
    def __init__(self, index, word):
        self.index = index
        self.word = word
        self.dir = f"crates/svc-{index:02d}-{word}"
        self.package = f"acme-{word}"
        # Every third crate names its library itself; the others use the package name.
        self.lib = f"{word}_core" if index % 3 == 2 else self.package.replace("-", "_")
        self.modules = []

    def type_name(self, module, t):
        return f"{camel(self.word)}{module}{NOUNS[t]}"


def base_crate(no_accessor):
    rw, ro = ("primary", "replica") if no_accessor else ("get_db", "get_db_ro")
    return f"""//! Handles and application state shared by every service crate.

use std::sync::Arc;

#[derive(Clone)]
pub struct Db {{
    inner: Arc<Pool>,
}}

pub struct Pool;
pub struct Row;

impl Db {{
    pub async fn query(&self, sql: &str, params: &[&i64]) -> Vec<Row> {{
        self.inner.run(sql, params).await
    }}

    pub async fn query_one(&self, sql: &str, params: &[&i64]) -> Row {{
        self.inner.run(sql, params).await.pop().unwrap_or(Row)
    }}

    pub async fn execute(&self, sql: &str, params: &[&i64]) -> u64 {{
        self.inner.run(sql, params).await.len() as u64
    }}
}}

impl Pool {{
    async fn run(&self, _sql: &str, _params: &[&i64]) -> Vec<Row> {{
        Vec::new()
    }}
}}

#[derive(Clone)]
pub struct AppState {{
    primary: Db,
    replica: Db,
}}

impl AppState {{
    pub async fn {rw}(&self) -> &Db {{
        &self.primary
    }}

    pub async fn {ro}(&self) -> &Db {{
        &self.replica
    }}
}}
"""


class Gen:
    def __init__(self, args):
        self.rng = random.Random(args.seed)
        self.no_accessor = args.no_accessor
        self.no_framework = args.no_framework
        self.rw, self.ro = ("primary", "replica") if args.no_accessor else ("get_db", "get_db_ro")
        n = max(2, args.crates)
        modules = max(n, args.lines // LINES_PER_MODULE)
        self.crates = [Crate(i, WORDS[i % len(WORDS)] + ("" if i < len(WORDS) else str(i)))
                       for i in range(n)]
        for i in range(modules):
            self.crates[i % n].modules.append(len(self.crates[i % n].modules))
        self.expected = []
        self.table = 0

    def pick(self, crate, module):
        """A type to call: same module, another module of the crate, or the previous crate."""
        roll = self.rng.random()
        if roll < 0.35 or (roll < 0.7 and len(crate.modules) < 2):
            c, m = crate, module
        elif roll < 0.7 or crate.index == 0:
            c, m = crate, self.rng.choice(crate.modules)
        else:
            c = self.crates[crate.index - 1]
            m = self.rng.choice(c.modules)
        return c, m, self.rng.randrange(TYPES_PER_MODULE)

    def ref(self, crate, target, imports):
        c, m, t = target
        name = c.type_name(m, t)
        if c is not crate:
            imports.add(f"use {c.lib}::m{m}::{name};")
        elif c is crate and m != self.current_module:
            imports.add(f"use crate::m{m}::{name};")
        return name

    def sql(self, verb):
        self.table += 1
        t = f"t{self.table % 997}"
        return {
            "get": f"SELECT id, body FROM {t} WHERE id = $1",
            "load": f"SELECT id, body FROM {t} WHERE owner = $1 ORDER BY id",
            "fetch_all": f"SELECT id, body FROM {t} ORDER BY id LIMIT $1",
            "insert": f"INSERT INTO {t} (id, body) VALUES ($1, 'x')",
            "update": f"UPDATE {t} SET body = 'y' WHERE id = $1",
            "send": f"INSERT INTO {t}_outbox (id) VALUES ($1)",
            "write": f"DELETE FROM {t} WHERE id = $1",
        }[verb]

    def call(self, crate, verb_pool, imports, lines, var):
        """One call of a same-named method on another tree type, in one of three shapes."""
        target = self.pick(crate, self.current_module)
        name = self.ref(crate, target, imports)
        verb = self.rng.choice(verb_pool)
        arg = "" if verb == "get" else "db, "
        shape = self.rng.randrange(3)
        if shape == 0:
            lines.append(f"        let {var} = {name}::new(db);")
            lines.append(f"        {var}.{verb}({arg}id).await;")
        elif shape == 1:
            lines.append(f"        {name}::new(db).{verb}({arg}id).await;")
        else:
            lines.append(f"        let {var}: {name} = {name}::new(db);")
            lines.append(f"        let _ = {var}.{verb}({arg}id + 1).await;")

    def method(self, crate, verb, imports):
        read = verb in READS
        head = {
            "get": "pub async fn get(&self, id: i64) -> Option<Row> {",
            "load": "pub async fn load(&self, db: &Db, id: i64) -> Vec<Row> {",
            "fetch_all": "pub async fn fetch_all(&self, db: &Db, id: i64) -> Vec<Row> {",
        }.get(verb, f"pub async fn {verb}(&self, db: &Db, id: i64) -> u64 {{")
        lines = [f"    {head}"]
        if verb == "get":
            lines.append("        let db = &self.db;")
        rows = "db.query_one" if verb == "get" else ("db.query" if read else "db.execute")
        lines.append(f"        let rows = {rows}(\"{self.sql(verb)}\", &[&id]).await;")
        trap = {
            "get": "        let _cached = self.cache.get(&id);",
            "load": "        let _cached = self.cache.get(&id);",
            "fetch_all": "        let _seen: Vec<&Row> = self.cache.values().collect();",
            "insert": "        let mut seen = HashSet::new();\n        seen.insert(id);",
            "update": "        let mut hasher = Sha256::new();\n        hasher.update(id.to_le_bytes());",
            "send": "        let _ = self.events.send(id).await;",
            "write": "        let mut buf = Vec::new();\n        buf.write(b\"audit\").ok();",
        }[verb]
        lines.append(trap)
        for k in range(self.rng.randint(2, 3)):
            self.call(crate, READS if read else READS + WRITES, imports, lines, f"peer{k}")
        if verb == "get":
            lines.append("        let _ = rows;\n        None")
        elif read:
            lines.append("        let _ = rows;\n        Vec::new()")
        else:
            lines.append("        rows")
        lines.append("    }")
        return "\n".join(lines)

    def handler(self, crate, j, h, kind, imports):
        """kind: ro (read-only accessor), pure (GET, rw accessor, reads), mixed, post."""
        fname = f"{ {'ro': 'list', 'pure': 'show', 'mixed': 'touch', 'post': 'save'}[kind] }_{crate.index}_{j}_{h}"
        accessor = self.ro if kind == "ro" else self.rw
        lines = [f"pub async fn {fname}(State(state): State<AppState>, Path(id): Path<i64>) -> Json<u64> {{",
                 f"    let db = state.{accessor}().await;"]
        body = []
        for k in range(2):
            self.call(crate, WRITES if kind == "post" else READS, imports, body, f"repo{k}")
        planted = kind == "ro" and self.rng.randrange(BUG_EVERY) == 0
        if planted or kind == "mixed":
            self.call(crate, WRITES, imports, body, "writer")
        if planted:
            self.expected.append(f"{crate.dir}/src/m{j}.rs {fname}")
        lines += [line[4:] for line in body]
        lines += ["    Json(id as u64)", "}"]
        return fname, "\n".join(lines)

    def module(self, crate, j):
        self.current_module = j
        imports = set()
        items = []
        for t in range(TYPES_PER_MODULE):
            name = crate.type_name(j, t)
            items.append(f"""/// Repository {t} of module {j}.
pub struct {name} {{
    db: Db,
    cache: HashMap<i64, Row>,
    events: mpsc::Sender<i64>,
}}

impl {name} {{
    pub fn new(db: &Db) -> Self {{
        let (events, _) = mpsc::channel(16);
        Self {{ db: db.clone(), cache: HashMap::new(), events }}
    }}
""")
            items.append("\n\n".join(self.method(crate, v, imports) for v in READS + WRITES))
            items.append("}\n")
        routes = []
        for h, kind in enumerate(["ro", "pure", "mixed", "post"]):
            fname, text = self.handler(crate, j, h, kind, imports)
            items.append(text + "\n")
            routes.append((kind, fname))
        web = [] if self.no_framework else ["use axum::extract::{Path, State};", "use axum::Json;"]
        head = ["//! Generated by bench/callheavy/gen.py.", "",
                "use std::collections::{HashMap, HashSet};", "use std::io::Write;", ""] + web + [
                "use sha2::{Digest, Sha256};", "use tokio::sync::mpsc;", "", "use acme_base::{AppState, Db, Row};"]
        head += sorted(imports)
        return "\n".join(head) + "\n\n" + "\n".join(items), routes

    def write(self, out):
        def put(rel, text):
            path = os.path.join(out, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)

        base = Crate(-1, "base")
        base.dir, base.package, base.lib = "crates/shared-handles", "acme-base", "acme_base"
        put(f"{base.dir}/Cargo.toml", '[package]\nname = "acme-base"\nversion = "0.1.0"\nedition = "2021"\n')
        put(f"{base.dir}/src/lib.rs", base_crate(self.no_accessor))
        members = [base.dir]
        for crate in self.crates:
            members.append(crate.dir)
            deps = ['acme-base = { path = "../shared-handles" }', 'axum = "0.8"', 'sha2 = "0.10"',
                    'tokio = { version = "1", features = ["sync"] }']
            if self.no_framework:
                deps.remove('axum = "0.8"')
            if crate.index > 0:
                prev = self.crates[crate.index - 1]
                deps.append(f'{prev.package} = {{ path = "../{os.path.basename(prev.dir)}" }}')
            lib = f'\n[lib]\nname = "{crate.lib}"\n' if crate.lib != crate.package.replace("-", "_") else ""
            put(f"{crate.dir}/Cargo.toml",
                f'[package]\nname = "{crate.package}"\nversion = "0.1.0"\nedition = "2021"\n{lib}\n'
                "[dependencies]\n" + "\n".join(deps) + "\n")
            registrations = []
            for j in crate.modules:
                text, routes = self.module(crate, j)
                put(f"{crate.dir}/src/m{j}.rs", text)
                for kind, fname in routes:
                    method = "post" if kind == "post" else "get"
                    registrations.append(f'        .route("/{crate.word}/{j}/{fname}/{{id}}", {method}(m{j}::{fname}))')
            put(f"{crate.dir}/src/lib.rs", "//! Generated service crate.\n\n"
                + "".join(f"pub mod m{j};\n" for j in crate.modules)
                + ("" if self.no_framework else "pub mod routes;\n"))
            if self.no_framework:
                continue
            put(f"{crate.dir}/src/routes.rs",
                "use axum::routing::{get, post};\nuse axum::Router;\n\nuse acme_base::AppState;\n\n"
                "use crate::*;\n\npub fn router() -> Router<AppState> {\n    Router::new()\n"
                + "\n".join(registrations) + "\n}\n")
        quoted = ",\n".join(f'    "{m}"' for m in members)
        put("Cargo.toml", f"[workspace]\nresolver = \"2\"\nmembers = [\n{quoted},\n]\n")
        with open(os.path.join(out, "expected-findings.txt"), "w") as f:
            f.write("".join(line + "\n" for line in self.expected))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--crates", type=int, default=8)
    parser.add_argument("--no-accessor", action="store_true")
    parser.add_argument("--no-framework", action="store_true")
    args = parser.parse_args()
    if os.path.exists(args.out) and os.listdir(args.out):
        parser.error(f"{args.out} exists and is not empty")
    Gen(args).write(args.out)


if __name__ == "__main__":
    main()
