//! Golden pairs for `ro-audit migrate --apply`: each `fixtures/migrate/<case>/before/` tree is
//! copied to a temporary directory, migrated by the real binary, and compared byte for byte
//! with the hand-written `after/` tree; then migrated again (nothing may change) and dry-run
//! (exit 0: nothing left to do).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

fn files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(path.strip_prefix(root).unwrap().to_path_buf(), std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn copy(from: &Path, to: &Path) {
    for (rel, bytes) in files(from) {
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, bytes).unwrap();
    }
}

fn migrate(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ro-audit"))
        .arg("migrate")
        .args(args)
        .arg(".")
        .current_dir(dir)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

/// `ro-audit migrate --format json ARGS .` in `dir`: the JSON report (stdout only).
fn migrate_json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_ro-audit"))
        .args(["migrate", "--format", "json"])
        .args(args)
        .arg(".")
        .current_dir(dir)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{}: not JSON ({e}): {}", dir.display(), String::from_utf8_lossy(&out.stderr))
    })
}

fn compare(case: &str, got: &Path, want: &Path, round: &str) -> Vec<String> {
    let (got, want) = (files(got), files(want));
    let mut problems = Vec::new();
    for (rel, bytes) in &want {
        match got.get(rel) {
            Some(g) if g == bytes => {}
            Some(g) => problems.push(format!(
                "{case} ({round}): {} differs:\n--- got\n{}\n--- want\n{}",
                rel.display(),
                String::from_utf8_lossy(g),
                String::from_utf8_lossy(bytes)
            )),
            None => problems.push(format!("{case} ({round}): {} missing", rel.display())),
        }
    }
    for rel in got.keys().filter(|r| !want.contains_key(*r)) {
        problems.push(format!("{case} ({round}): unexpected file {}", rel.display()));
    }
    problems
}

#[test]
fn golden_pairs_apply_and_reapply() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/migrate");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    cases.sort();
    assert!(cases.len() >= 30, "at least 30 golden pairs, found {}", cases.len());
    let mut problems = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let tmp = tempfile::tempdir().unwrap();
        copy(&case.join("before"), tmp.path());
        for round in ["first apply", "second apply"] {
            let (code, out) = migrate(tmp.path(), &["--apply", "--allow-dirty", "--no-color"]);
            if code != 0 {
                problems.push(format!("{name} ({round}): exit {code}\n{out}"));
            }
            problems.extend(compare(&name, tmp.path(), &case.join("after"), round));
        }
        let (code, out) = migrate(tmp.path(), &["--no-color"]);
        if code != 0 {
            problems.push(format!("{name} (dry run after apply): exit {code}, expected 0\n{out}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn classes_and_reasons_of_the_before_trees() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/migrate");
    // case → (handler, class, a word the first reason must contain), written by hand.
    let expected: &[(&str, &str, &str, &str)] = &[
        ("axum_route_get", "list_posts", "pure-read", ""),
        ("axum_closure_handler", "closure at src/main.rs:11:13", "pure-read", ""),
        ("handler_in_other_module", "index", "pure-read", ""),
        ("mixed_write_sql", "view", "mixed", "UPDATE posts"),
        ("mixed_tree_writer", "page", "mixed", "touch → bump"),
        ("mixed_write_helper_by_name", "article", "mixed", "record_*"),
        ("mixed_external_call", "report", "mixed", "outside the analysed tree"),
        ("flag_parameter_chooses_the_lock", "balances", "pure-read", ""),
        ("flag_parameter_chooses_the_lock", "reserve", "mixed", "FOR UPDATE"),
        ("error_mapping_and_drop_are_no_outside_uses", "titles", "pure-read", ""),
        ("error_mapping_and_drop_are_no_outside_uses", "authors", "pure-read", ""),
        ("error_mapping_and_drop_are_no_outside_uses", "export", "mixed", "exporter::dump_tables"),
        ("mixed_rw_typed_param", "page", "mixed", "would not compile"),
        ("mixed_write_on_a_read_only_alias", "flag", "mixed", "UPDATE posts SET seen"),
        ("mixed_write_on_a_read_only_alias", "list", "pure-read", ""),
        ("mixed_write_on_a_read_only_alias", "search", "pure-read", ""),
        ("handle_type_aliases_in_handlers", "drafts", "already-ro", ""),
        ("handle_type_aliases_in_handlers", "tags", "mixed", "a type alias of a read-write handle type"),
        ("handle_type_aliases_in_handlers", "posts", "pure-read", ""),
        ("handle_type_aliases_in_handlers", "version", "no-db", ""),
        ("handle_type_aliases_in_handlers", "feed", "already-ro", ""),
        ("handle_type_aliases_in_handlers", "draft_feed", "already-ro", ""),
        ("handle_type_aliases_in_handlers", "archived", "no-db", ""),
        ("handle_type_aliases_in_handlers", "audit_count", "already-ro", ""),
        ("handle_type_aliases_in_handlers", "primary_audit_count", "mixed", "`Leader`, a type alias of a read-write"),
        ("handle_type_aliases_in_handlers", "local_audit_count", "already-ro", ""),
        ("handle_type_aliases_in_handlers", "local_primary_audit_count", "mixed", "names `Writer` (`Primary` under the name a `use` gives it), a type alias of a read-write"),
        ("handle_type_aliases_in_handlers", "mirrored", "no-db", ""),
        ("mixed_write_builder", "visit", "mixed", "insert_into"),
        ("mixed_unpinned_method_on_alias", "claim_upload", "mixed", "PgRepo::claim"),
        ("mixed_unpinned_method_on_alias", "pending", "pure-read", ""),
        ("mixed_self_method_given_text", "healthz", "mixed", "PgRepo::put"),
        ("mixed_generic_state_field", "me", "mixed", "PgAuth::register"),
        ("mixed_generic_state_field", "search", "pure-read", ""),
        ("opted_out", "dashboard", "opted-out", ""),
        ("not_get_only", "posts", "not-get-only", "POST"),
        ("no_db", "version", "no-db", ""),
        ("already_ro", "list", "already-ro", ""),
        ("accessor_imported_under_an_alias", "list", "mixed", "under an alias"),
        ("accessor_imported_under_an_alias", "show", "pure-read", ""),
        ("handle_type_imported_under_an_alias", "list", "mixed", "names `DbRw` under an alias"),
        ("handle_type_imported_under_an_alias", "show", "pure-read", ""),
        ("handle_type_imported_under_an_alias", "feed", "already-ro", ""),
        ("actix_route_attribute_methods", "posts", "pure-read", ""),
        ("actix_route_attribute_methods", "comments", "not-get-only", "GET|POST"),
        ("actix_route_attribute_methods", "feed", "mixed", "UPDATE feed_stats"),
        ("actix_glob_get_to_and_service", "index", "pure-read", ""),
        ("actix_glob_get_to_and_service", "tags", "pure-read", ""),
        ("poem_openapi_oai_methods", "Api::list_pets", "pure-read", ""),
        ("poem_openapi_oai_methods", "Api::count_pets", "mixed", "UPDATE stats"),
        ("poem_openapi_oai_methods", "Api::pet_names", "pure-read", ""),
        ("utoipa_path_axum", "book", "pure-read", ""),
        ("utoipa_path_axum", "search_books", "not-get-only", "POST"),
        ("axum_merged_router_and_route_table", "show", "pure-read", ""),
        ("axum_merged_router_and_route_table", "about", "pure-read", ""),
        ("axum_merged_router_and_route_table", "faq", "not-get-only", "POST"),
        ("handler_by_path_and_use_alias", "list", "pure-read", ""),
        ("handler_by_path_and_use_alias", "index", "pure-read", ""),
        ("poem_route_at_methodless", "search", "not-get-only", "ANY"),
        ("poem_route_at_methodless", "feed", "not-get-only", "ANY"),
        ("poem_route_at_methodless", "index", "pure-read", ""),
        ("unresolved_external_handler", "prometheus_exporter::handler", "unresolved", "no crate of the tree"),
        ("unresolved_external_handler", "status", "pure-read", ""),
        ("read_executors_outside_the_tree", "post", "pure-read", ""),
        ("read_executors_outside_the_tree", "author", "pure-read", ""),
        ("read_executors_outside_the_tree", "archive", "mixed", "diesel::update"),
        ("deref_coercion_to_a_ref_param", "posts", "pure-read", ""),
        ("deref_coercion_to_a_ref_param", "pool_info", "mixed", "would not compile"),
        ("calls_inside_macro_arguments", "report", "mixed", "write_audit"),
        ("calls_inside_macro_arguments", "summary", "pure-read", ""),
        ("calls_inside_macro_arguments", "tags", "mixed", "bump_views"),
        // freighter: the providers reached only inside `try_join!`; accessors called only inside
        // `json!`, `vec!`, `format!`, `assert!`, `select!` and `join!` arguments.
        ("accessor_inside_macro_arguments", "healthcheck", "pure-read", ""),
        (
            "accessor_inside_macro_arguments",
            "revoke_stale",
            "mixed",
            "passes `state.auth` to `PgAuth::revoke`, which writes (revoke_stale → PgAuth::revoke → DELETE FROM tokens",
        ),
        ("accessor_inside_macro_arguments", "stats", "pure-read", ""),
        ("accessor_inside_macro_arguments", "banner", "pure-read", ""),
        ("accessor_inside_macro_arguments", "latest", "pure-read", ""),
        ("accessor_inside_macro_arguments", "quota", "pure-read", ""),
        ("accessor_inside_macro_arguments", "overflow", "mixed", "write SQL on `conn`: UPDATE quotas"),
        ("accessor_inside_macro_arguments", "visit", "mixed", "write SQL on `get_db()`: UPDATE stats"),
        ("accessor_inside_macro_arguments", "sweep", "mixed", "write SQL on `get_db()`: DELETE FROM sessions"),
        ("accessor_inside_macro_arguments", "reset", "mixed", "write SQL on `conn`: UPDATE stats SET views = 0"),
        (
            "accessor_inside_macro_arguments",
            "audited",
            "mixed",
            "audited → record_visit → INSERT INTO visits",
        ),
        // freighter: a token hashed with an HMAC / SHA-256 (`mac.update(bare_token)`) is no
        // model write; a sea-orm model's `update(&self.db)` is.
        ("hasher_update_is_not_a_model_write", "preview", "pure-read", ""),
        (
            "hasher_update_is_not_a_model_write",
            "rename",
            "mixed",
            "rename → TokenStore::rename_token → .update(self.db) (model write)",
        ),
        // pict-rs: a trait object behind an alias, forwarded by `impl<T: Trait> Trait for Arc<T>`.
        ("generic_forwarding_impl", "claim_upload", "mixed", "Arc::claim → PgRepo::claim → DELETE FROM uploads"),
        ("generic_forwarding_impl", "claim_direct", "mixed", "Arc::claim → PgRepo::claim → DELETE FROM uploads"),
        ("generic_forwarding_impl", "upload_hash", "pure-read", ""),
        // lemmy: the accessor's owner given to a helper that writes through the accessor itself.
        (
            "accessor_owner_passed_to_writer",
            "resolve",
            "mixed",
            "calls `fetch_remote`, which writes through `context.pool()` (resolve → fetch_remote → INSERT INTO person",
        ),
        (
            "accessor_owner_passed_to_writer",
            "read_person",
            "mixed",
            "which writes through `context.pool()` (read_person → dereference → from_json → upsert → INSERT INTO person",
        ),
        ("accessor_owner_passed_to_writer", "community", "pure-read", ""),
        // pict-rs: its own `State<S>`, a repository setter given a key, a three-argument `push`.
        ("tree_state_named_like_a_wrapper", "healthz", "mixed", "PgRepo::health_check → PgRepo::set → INSERT INTO settings"),
        (
            "tree_state_named_like_a_wrapper",
            "process_backgrounded",
            "mixed",
            "queue_generate → PgRepo::push → INSERT INTO job_queue",
        ),
        ("tree_state_named_like_a_wrapper", "aliases", "pure-read", ""),
        (
            "tree_state_named_like_a_wrapper",
            "identifier",
            "mixed",
            "AliasAccessRepo::accessed_alias → PgRepo::set_accessed_alias → UPDATE aliases",
        ),
        // fuel-indexer: SQL text carried by sqlx's `QueryBuilder::new(..).build()`.
        (
            "mixed_sqlx_query_builder",
            "get_nonce",
            "mixed",
            "get_nonce → create_nonce → INSERT INTO nonce (uid) VALUES ('{}') RETURNING uid",
        ),
        ("mixed_sqlx_query_builder", "status", "pure-read", ""),
        // eventually-postgres: a SELECT of a SQL function its migration defines to upsert.
        (
            "mixed_select_of_a_writing_sql_function",
            "subscription",
            "mixed",
            "write SQL on `pool`: SELECT * FROM get_or_create_subscription($1) — get_or_create_subscription() (writes: INSERT, defined at migrations/V1__subscriptions.sql:7)",
        ),
        ("mixed_select_of_a_writing_sql_function", "lag", "pure-read", ""),
        // sqlxmq-style: a notification stream opens sqlx's listener (LISTEN) on the pool.
        (
            "mixed_listener_stream",
            "events",
            "mixed",
            "passes `pool` to `PgListener::connect_with`, a write helper by its name (pattern `PgListener::connect_with`)",
        ),
        ("mixed_listener_stream", "job", "pure-read", ""),
        // ZKsync: a DAL struct over a tagged connection, its methods named as derive methods.
        (
            "dal_struct_over_a_tagged_connection",
            "enqueue",
            "mixed",
            "enqueue → RequestsDal::add_request → INSERT INTO requests",
        ),
        ("dal_struct_over_a_tagged_connection", "status", "pure-read", ""),
        // The same with no method named in the rule set: the engine finds the methods that
        // return a value derived from their receiver; a `&'static str` one returns is no handle.
        (
            "handle_derived_by_tree_methods",
            "enqueue",
            "mixed",
            "enqueue → RequestsDal::add_request → INSERT INTO requests",
        ),
        ("handle_derived_by_tree_methods", "status", "pure-read", ""),
        // fuel-indexer: a connection the pool's method takes itself, given with a statement to
        // a function of another file that runs its text on its connection.
        (
            "handle_derived_in_callee_given_text",
            "health_check",
            "mixed",
            "health_check → IndexerPool::is_connected → DELETE FROM nonce",
        ),
        ("handle_derived_in_callee_given_text", "status", "pure-read", ""),
    ];
    // Functions no GET route reaches: not listed at all.
    let absent: &[(&str, &str)] = &[
        ("actix_glob_get_to_and_service", "subscribe"),
        ("poem_openapi_oai_methods", "Api::add_pet"),
        ("axum_merged_router_and_route_table", "contact"),
        ("axum_merged_router_and_route_table", "rename"),
    ];
    for (case, handler, class, reason) in expected {
        let out = Command::new(env!("CARGO_BIN_EXE_ro-audit"))
            .args(["migrate", "--format", "json", "."])
            .current_dir(root.join(case).join("before"))
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let handlers = doc["handlers"].as_array().unwrap();
        let h = handlers
            .iter()
            .find(|h| h["handler"] == *handler)
            .unwrap_or_else(|| panic!("{case}: no {handler}"));
        assert_eq!(h["class"], *class, "{case}");
        let first =
            h["reasons"].get(0).map(|r| r["message"].as_str().unwrap().to_string()).unwrap_or_default();
        assert!(first.contains(reason), "{case}: {first}");
        // The dry run exits 1 when some handler of the tree (not only this one) is rewritten.
        let any_pure = handlers.iter().any(|h| h["class"] == "pure-read");
        assert_eq!(out.status.code(), Some(i32::from(any_pure)), "{case}");
        assert_eq!(h["edits"].as_array().unwrap().is_empty(), *class != "pure-read", "{case}");
    }
    for (case, handler) in absent {
        let doc = migrate_json(&root.join(case).join("before"), &[]);
        let listed = doc["handlers"].as_array().unwrap().iter().any(|h| h["handler"] == *handler);
        assert!(!listed, "{case}: {handler} is listed");
    }
    // Trusting outside code makes the external call a read.
    let doc = migrate_json(&root.join("mixed_external_call/before"), &["--trust-external"]);
    assert_eq!(doc["handlers"][0]["class"], "pure-read");
    // … but never a write helper of the rule set: the listener stream stays `mixed`.
    let doc = migrate_json(&root.join("mixed_listener_stream/before"), &["--trust-external"]);
    let events = doc["handlers"].as_array().unwrap().iter().find(|h| h["handler"] == "events").unwrap();
    assert_eq!(events["class"], "mixed", "{events}");
}

#[test]
fn apply_refuses_a_dirty_git_tree_and_writes_nothing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/migrate/axum_route_get/before");
    let tmp = tempfile::tempdir().unwrap();
    copy(&root, tmp.path());
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(tmp.path())
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if !git(&["init", "-q"]) {
        return; // no git on this machine: nothing to refuse
    }
    git(&["add", "."]);
    let before = files(tmp.path());
    let (code, out) = migrate(tmp.path(), &["--apply"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("uncommitted changes"), "{out}");
    let after: BTreeMap<_, _> =
        files(tmp.path()).into_iter().filter(|(p, _)| !p.starts_with(".git")).collect();
    let before: BTreeMap<_, _> = before.into_iter().filter(|(p, _)| !p.starts_with(".git")).collect();
    assert_eq!(after, before);
}

/// `fixtures/migrate-keep-going/`: one file written for edition 2015 (a trait object without
/// `dyn`) and one cargo-generate template do not parse. Without `--keep-going` nothing is
/// written (exit 2); with it the errors are listed with file:line, the handlers those files
/// define are `unresolved` because of them, and the rest is applied as in `after/`.
#[test]
fn keep_going_applies_the_rest_past_unparsable_files() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/migrate-keep-going");
    let tmp = tempfile::tempdir().unwrap();
    copy(&case.join("before"), tmp.path());
    let before = files(tmp.path());

    let (code, out) = migrate(tmp.path(), &["--apply", "--allow-dirty", "--no-color"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("nothing written"), "{out}");
    assert_eq!(files(tmp.path()), before, "nothing written without --keep-going");

    let (code, out) = migrate(tmp.path(), &["--format", "json", "--keep-going"]);
    assert_eq!(code, 1, "a dry run with changes to make exits 1 under --keep-going:\n{out}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let errors: Vec<String> = doc["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}:{}", e["file"].as_str().unwrap(), e["line"]))
        .collect();
    assert_eq!(errors, ["src/generated.rs:2", "src/legacy.rs:4"], "{out}");
    let handler = |name: &str| {
        doc["handlers"].as_array().unwrap().iter().find(|h| h["handler"] == name).cloned().unwrap()
    };
    assert_eq!(handler("list")["class"], "pure-read");
    for (name, file) in [("legacy::report", "src/legacy.rs"), ("generated::about", "src/generated.rs")] {
        let h = handler(name);
        assert_eq!(h["class"], "unresolved", "{name}");
        let reason = h["reasons"][0]["message"].as_str().unwrap();
        assert!(reason.contains(file) && reason.contains("could not be read or parsed"), "{name}: {reason}");
    }
    assert_eq!(doc["summary"]["unresolved"], 2);

    let (code, out) = migrate(tmp.path(), &["--apply", "--allow-dirty", "--no-color", "--keep-going"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("error: src/legacy.rs:4:"), "errors listed with file:line:\n{out}");
    let problems = compare("migrate-keep-going", tmp.path(), &case.join("after"), "keep going");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// Report cosmetics on `report_route_table_scope_closures`: a route table of
/// `(method, path, router)` tuples prints its method and path, an empty path inside an actix
/// scope prints the scope's path, and closures are named by where they are.
#[test]
fn routes_and_closures_are_printed_by_what_they_are() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/migrate/report_route_table_scope_closures/before");
    let out = Command::new(env!("CARGO_BIN_EXE_ro-audit"))
        .args(["migrate", "--format", "json", "."])
        .current_dir(&dir)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let routes: Vec<(String, String)> = doc["handlers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["handler"].as_str().unwrap().to_string(), h["routes"][0].as_str().unwrap().to_string()))
        .collect();
    let want = [
        ("users", "GET /users"),
        ("closure at src/main.rs:14:26", "GET /a"),
        ("closure at src/main.rs:15:26", "GET /b"),
        ("api_index", "GET /api"),
    ];
    for (handler, route) in want {
        assert!(routes.iter().any(|(h, r)| h == handler && r == route), "{handler} {route} in {routes:?}");
    }
    assert_eq!(routes.len(), 4, "{routes:?}");
}

/// The framework vocabulary comes from the rule set: `fixtures/migrate-user-routes/` registers
/// its handler through a wrapper crate of axum (`web_kit::cached_get(h)`). With the built-in
/// rules nothing there is a route; a rules file whose `[routes]` table names the wrapper crate
/// and its registration function makes `list_items` a GET handler, rewritten like any other.
#[test]
fn a_user_rule_adds_a_registration_name_and_the_handler_is_found() {
    let case = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/migrate-user-routes");
    let tmp = tempfile::tempdir().unwrap();
    copy(&case, tmp.path());
    let handlers = |args: &[&str]| -> Vec<(String, String)> {
        let (_, out) = migrate(tmp.path(), args);
        let doc: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
        doc["handlers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (h["handler"].as_str().unwrap().to_string(), h["class"].as_str().unwrap().to_string()))
            .collect()
    };
    assert_eq!(handlers(&["--format", "json"]), [] as [(String, String); 0], "built-in rules find no route");
    let with_rule = ["--format", "json", "--config", "ro-audit-routes.toml"];
    assert_eq!(handlers(&with_rule), [("list_items".to_string(), "pure-read".to_string())]);

    let (code, out) =
        migrate(tmp.path(), &["--apply", "--allow-dirty", "--no-color", "--config", "ro-audit-routes.toml"]);
    assert_eq!(code, 0, "{out}");
    let main = std::fs::read_to_string(tmp.path().join("src/main.rs")).unwrap();
    assert!(main.contains("let db = get_db_ro().await;"), "{main}");
    assert!(main.contains("use crate::db::get_db_ro;"), "{main}");
}

/// A workspace whose crate graph holds no web framework has no handler to find, and `migrate`
/// reads no source there: a file that does not parse is not even noticed (exit 0, no error).
/// The same tree with axum in its manifest is parsed: the route is found, and the broken file
/// is an error again.
#[test]
fn a_tree_without_a_web_framework_is_not_parsed() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = tmp.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let manifest =
        |deps: &str| format!("[package]\nname = \"lib\"\nversion = \"0.1.0\"\n\n[dependencies]\n{deps}");
    write("Cargo.toml", &manifest("serde = \"1\"\n"));
    write(
        "src/lib.rs",
        "mod broken;\nuse axum::routing::get;\n\npub fn app() -> axum::Router {\n    axum::Router::new().route(\"/\", get(list))\n}\n\nasync fn list() {\n    let db = get_db().await;\n    db.query(\"SELECT 1\").await;\n}\n",
    );
    write("src/broken.rs", "fn broken( {\n    get_db()\n");

    let (code, out) = migrate(tmp.path(), &["--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(doc["handlers"].as_array().unwrap().len(), 0, "{out}");
    assert_eq!(doc["errors"].as_array().unwrap().len(), 0, "{out}");

    write("Cargo.toml", &manifest("axum = \"0.8\"\n"));
    let (code, out) = migrate(tmp.path(), &["--format", "json", "--keep-going"]);
    assert_eq!(code, 1, "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(doc["handlers"][0]["handler"], "list", "{out}");
    assert_eq!(doc["handlers"][0]["class"], "pure-read", "{out}");
    assert_eq!(doc["errors"][0]["file"], "src/broken.rs", "{out}");

    // The human dry run prints the diff, planned again from the file on disk.
    let (_, out) = migrate(tmp.path(), &["--no-color", "--keep-going"]);
    assert!(out.contains("--- a/src/lib.rs\n+++ b/src/lib.rs\n"), "{out}");
    assert!(out.contains("\n-    let db = get_db().await;\n+    let db = get_db_ro().await;\n"), "{out}");
}

/// What read-write handles reach is loaded only when a GET handler names one: a handler naming
/// none is `already-ro` or `no-db` whatever its callees do. Here the only read-write handle is
/// a background job's, which hands it to a file that does not parse: not read, no error. Once a
/// GET handler names `get_db`, what read-write handles reach is loaded, and the broken file is
/// an error again.
#[test]
fn callees_are_loaded_only_when_a_handler_names_a_read_write_handle() {
    let lib = |accessor: &str| {
        format!(
            "mod jobs;\nuse axum::routing::get;\n\npub fn app() -> axum::Router {{\n    axum::Router::new().route(\"/\", get(list))\n}}\n\nasync fn list() {{\n    let db = {accessor}().await;\n    db.query(\"SELECT 1\").await;\n}}\n\npub async fn nightly() {{\n    let db = get_db().await;\n    jobs::sweep(&db).await;\n}}\n"
        )
    };
    let manifest = "[package]\nname = \"svc\"\nversion = \"0.1.0\"\n\n[dependencies]\naxum = \"0.8\"\n";
    let jobs =
        "pub async fn sweep(db: &Pool) {\n    db.execute(\"DELETE FROM t\").await;\n}\n\nfn broken( {\n";

    let tmp =
        common::tree(&[("Cargo.toml", manifest), ("src/lib.rs", &lib("get_db_ro")), ("src/jobs.rs", jobs)]);
    let doc = migrate_json(tmp.path(), &["--keep-going"]);
    assert_eq!(doc["handlers"][0]["class"], "already-ro", "{doc:#}");
    assert_eq!(doc["errors"].as_array().map(Vec::len), Some(0), "{doc:#}");

    let tmp =
        common::tree(&[("Cargo.toml", manifest), ("src/lib.rs", &lib("get_db")), ("src/jobs.rs", jobs)]);
    let doc = migrate_json(tmp.path(), &["--keep-going"]);
    assert_eq!(doc["handlers"][0]["class"], "pure-read", "{doc:#}");
    assert_eq!(doc["errors"][0]["file"], "src/jobs.rs", "{doc:#}");
}
