use super::*;

fn project(text: &str) -> Result<RuleSet, ConfigError> {
    RuleSet::from_project_text(Path::new("ro-audit.toml"), text, Path::new("."))
}

fn invalid(text: &str) -> (usize, usize, String, String) {
    match project(text) {
        Err(ConfigError::Invalid { line, column, key, message, .. }) => (line, column, key, message),
        other => panic!("expected an invalid-config error, got {other:?}"),
    }
}

#[test]
fn builtin_rules_load_and_have_every_section() {
    let rules = RuleSet::builtin(Path::new("."));
    assert_eq!(rules.accessors.read_only, ["get_db_ro"]);
    assert_eq!(rules.accessors.read_write, ["get_db"]);
    assert_eq!(rules.accessors.migrate.get("get_db").map(String::as_str), Some("get_db_ro"));
    assert_eq!(rules.types.migrate.get("DbRw").map(String::as_str), Some("DbRo"));
    assert!(rules.sql_methods.iter().any(|m| m == "batch_execute"));
    assert!(rules.string_macros.iter().any(|m| m == "concatcp"));
    assert_eq!(rules.write_helpers.matching("save_post"), Some("save_*"));
    assert_eq!(rules.write_helpers.matching("save_state_dir"), None, "allow-listed");
    assert!(rules.source.is_none());
}

#[test]
fn a_list_replaces_the_default_unless_extend_is_set() {
    let rules = project("[accessors]\nread_only = [\"db_read\"]\nread_write = [\"db_write\"]\n").unwrap();
    assert_eq!(rules.accessors.read_only, ["db_read"]);
    assert_eq!(rules.accessors.read_write, ["db_write"]);
    // Lists the file does not set keep their defaults.
    assert!(rules.sql_methods.iter().any(|m| m == "execute"));

    let rules = project("extend = true\n[accessors]\nread_only = [\"db_read\"]\n").unwrap();
    assert_eq!(rules.accessors.read_only, ["get_db_ro", "db_read"]);
}

#[test]
fn migrate_maps_always_merge() {
    let rules = project("[accessors.migrate]\ndb_write = \"db_read\"\n").unwrap();
    assert_eq!(rules.accessors.migrate.len(), 2);
    assert_eq!(rules.accessors.migrate["db_write"], "db_read");
    assert_eq!(rules.accessors.migrate["get_db"], "get_db_ro");
}

#[test]
fn unknown_keys_are_errors_naming_line_and_key() {
    let (line, _, key, message) = invalid("[accessors]\nread_only = [\"a\"]\nread_olny = [\"b\"]\n");
    assert_eq!(line, 3);
    assert!(key.contains("read_olny"), "{key}");
    assert!(message.contains("unknown"), "{message}");

    let (line, _, key, _) = invalid("exclude = []\n[acessors]\nread_only = []\n");
    assert_eq!(line, 2);
    assert!(key.contains("acessors"), "{key}");
}

#[test]
fn bad_values_are_errors_naming_line_and_key() {
    let (line, column, key, message) = invalid("[accessors]\nread_only = [\"get db\"]\n");
    assert_eq!((line, column), (2, 14));
    assert_eq!(key, "accessors.read_only");
    assert!(message.contains("get db"), "{message}");

    let (line, _, key, _) = invalid("max_file_bytes = -3\n");
    assert_eq!((line, key.as_str()), (1, "max_file_bytes"));

    let (line, _, key, _) = invalid("[write_helpers]\npatterns = [\"save_[\"]\n");
    assert_eq!((line, key.as_str()), (2, "write_helpers.patterns"));

    let (line, _, _, _) = invalid("[accessors]\nread_only = \"get_db_ro\"\n");
    assert_eq!(line, 2, "a string where a list belongs");
}

#[test]
fn malformed_toml_is_located() {
    let (line, _, _, _) = invalid("[accessors]\nread_only = [\"a\"\n\n");
    assert!(line >= 2, "line {line}");
}

#[test]
fn exclusions_match_paths_relative_to_the_root() {
    let rules = RuleSet::from_project_text(
        Path::new("proj/ro-audit.toml"),
        "exclude = [\"fixtures/**\", \"**/generated.rs\"]\n",
        Path::new("proj"),
    )
    .unwrap();
    assert!(rules.exclude.is_excluded(Path::new("proj"), Path::new("proj/fixtures/a/b.rs")));
    assert!(rules.exclude.is_excluded(Path::new("proj"), Path::new("proj/src/generated.rs")));
    assert!(!rules.exclude.is_excluded(Path::new("proj"), Path::new("proj/src/api.rs")));
}

#[test]
fn discovery_walks_up_to_the_repository_root() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("crates/app/src")).unwrap();
    assert_eq!(discover(&repo.join("crates/app/src")), None);
    std::fs::write(dir.path().join(CONFIG_FILE_NAME), "").unwrap();
    assert_eq!(discover(&repo.join("crates/app/src")), None, "stops at the repository root");
    std::fs::write(repo.join(CONFIG_FILE_NAME), "").unwrap();
    assert_eq!(discover(&repo.join("crates/app/src")), Some(repo.join(CONFIG_FILE_NAME)));
}

#[test]
fn the_orm_table_has_builders_executors_and_model_writes() {
    let rules = RuleSet::builtin(Path::new("."));
    for builder in
        ["insert_into", "update", "delete", "replace_into", "insert_or_ignore_into", "delete_by_id"]
    {
        assert!(rules.orm.write_builders.iter().any(|b| b == builder), "{builder}");
    }
    for executor in ["execute", "get_result", "execute_async", "exec"] {
        assert!(rules.orm.executors.iter().any(|e| e == executor), "{executor}");
    }
    assert!(rules.orm.model_writes.iter().any(|m| m == "save"));
    assert_eq!(rules.orm.models, ["ActiveModel", "Model"]);
    for read in ["first", "load", "one", "all", "count", "fetch_all"] {
        assert!(rules.orm.read_executors.iter().any(|r| r == read), "{read}");
    }
    assert!(!rules.orm.read_executors.iter().any(|r| r == "execute"), "no executor of writes reads");
    assert!(rules.sql_file_macros.iter().any(|m| m == "query_file_as"));

    let rules = project("[orm]\nread_executors = [\"peek\"]\n").unwrap();
    assert_eq!(rules.orm.read_executors, ["peek"]);
    let rules = project("[orm]\nexecutors = [\"run_on\"]\n").unwrap();
    assert_eq!(rules.orm.executors, ["run_on"], "a project list replaces the default");
    assert!(rules.orm.write_builders.iter().any(|b| b == "insert_into"), "lists not set keep their default");
    let rules = project("extend = true\n[orm]\nwrite_builders = [\"db::upsert\"]\n").unwrap();
    assert!(rules.orm.write_builders.iter().any(|b| b == "insert_into"));
    assert_eq!(rules.orm.write_builders.last().map(String::as_str), Some("db::upsert"));
}

#[test]
fn orm_errors_name_line_and_key() {
    let (line, _, key, message) = invalid("[orm]\nexecutors = [\"exec\"]\nexecutor = [\"run\"]\n");
    assert_eq!(line, 3);
    assert!(key.contains("orm.executor"), "{key}");
    assert!(message.contains("unknown"), "{message}");

    let (line, column, key, message) = invalid("[orm]\nexecutors = [\"exec\", \"db::run\"]\n");
    assert_eq!((line, column), (2, 22));
    assert_eq!(key, "orm.executors");
    assert!(message.contains("db::run"), "{message}");

    let (line, _, key, _) = invalid("[orm]\nwrite_builders = [\"insert into\"]\n");
    assert_eq!((line, key.as_str()), (2, "orm.write_builders"));

    let (line, _, key, _) = invalid("[sql]\nfile_macros = [\"query file\"]\n");
    assert_eq!((line, key.as_str()), (2, "sql.file_macros"));
}

#[test]
fn the_routes_table_merges_maps_extends_lists_and_locates_bad_values() {
    let rules = RuleSet::builtin(Path::new("."));
    assert_eq!(rules.routes.methods.get("get").map(String::as_str), Some("GET"));
    assert_eq!(rules.routes.crates.get("actix_web").map(String::as_str), Some("actix-web"));
    assert!(rules.routes.mounts.iter().any(|m| m == "nest_service"));

    let rules =
        project("extend = true\n[routes]\nmounts = [\"mount\"]\n[routes.methods]\ncached_get = \"GET\"\n")
            .unwrap();
    assert_eq!(rules.routes.methods.get("cached_get").map(String::as_str), Some("GET"));
    assert_eq!(rules.routes.methods.get("post").map(String::as_str), Some("POST"), "maps merge");
    assert!(
        rules.routes.mounts.iter().any(|m| m == "mount") && rules.routes.mounts.iter().any(|m| m == "at")
    );

    let (line, column, key, message) = invalid("[routes.methods]\ncached_get = \"FETCH\"\n");
    assert_eq!((line, column, key.as_str()), (2, 14, "routes.methods"));
    assert!(message.contains("FETCH") && message.contains("GET"), "{message}");
    let (line, _, key, message) = invalid("[routes.crates]\nweb_kit = \"flask\"\n");
    assert_eq!((line, key.as_str()), (2, "routes.crates"));
    assert!(message.contains("axum"), "{message}");
    let (line, _, key, _) = invalid("[routes]\nfallbacks = [\"fall back\"]\n");
    assert_eq!((line, key.as_str()), (2, "routes.fallbacks"));
}

#[test]
fn sql_writing_functions_are_empty_by_default_and_checked_as_names() {
    assert!(RuleSet::builtin(Path::new(".")).sql_writing_functions.is_empty());
    let rules = project("[sql]\nwriting_functions = [\"append_event\", \"Upsert_Row\"]\n").unwrap();
    assert_eq!(rules.sql_writing_functions, ["append_event", "Upsert_Row"]);
    assert!(rules.sql_methods.iter().any(|m| m == "execute"), "the other [sql] lists keep their default");
    let (line, column, key, message) = invalid("[sql]\nwriting_functions = [\"ok\", \"events.append\"]\n");
    assert_eq!((line, column, key.as_str()), (2, 28, "sql.writing_functions"));
    assert!(message.contains("events.append"), "{message}");
}

#[test]
fn a_write_helper_pattern_with_segments_matches_the_callee_s_last_segments() {
    let rules = project("[write_helpers]\npatterns = [\"Audit::*\", \"log::write_*\", \"store_*\"]\nallow = [\"store_key\"]\n")
        .unwrap();
    let helpers = &rules.write_helpers;
    assert_eq!(helpers.matching_path(&["Audit", "record"]), Some("Audit::*"));
    assert_eq!(helpers.matching_path(&["crate", "audit", "Audit", "record"]), Some("Audit::*"));
    assert_eq!(helpers.matching_path(&["my", "log", "write_entry"]), Some("log::write_*"));
    // Fewer segments than the pattern, or other segments before the name: no match.
    assert_eq!(helpers.matching_path(&["record"]), None);
    assert_eq!(helpers.matching_path(&["Other", "record"]), None);
    assert_eq!(helpers.matching_path(&["write_entry"]), None);
    // A one-segment pattern still matches the last segment whatever comes before it.
    assert_eq!(helpers.matching_path(&["repo", "store_user"]), Some("store_*"));
    assert_eq!(helpers.matching_path(&["repo", "store_key"]), None, "allow-listed");
    assert_eq!(helpers.matching("store_user"), Some("store_*"));

    for bad in ["Audit::", "::record", "a::::b"] {
        let (line, _, key, message) = invalid(&format!("[write_helpers]\npatterns = [\"{bad}\"]\n"));
        assert_eq!((line, key.as_str()), (2, "write_helpers.patterns"), "{bad}");
        assert!(message.contains("empty segment"), "{bad}: {message}");
    }

    let builtin = RuleSet::builtin(Path::new("."));
    let listener = ["sqlx", "postgres", "PgListener", "connect_with"];
    assert_eq!(builtin.write_helpers.matching_path(&listener), Some("PgListener::connect_with"));
    assert_eq!(builtin.write_helpers.matching_path(&["PoolMetrics", "connect_with"]), None);
}
