//! The SQL functions a tree's own SQL files define ([`SqlFunctions`]): which write, and which
//! calls in read-only text reach them.

use std::path::PathBuf;

use crate::sql::{SqlFunctions, WriteReason};

/// The functions of `files` (name, text), written into a fresh directory in that order.
fn functions(files: &[(&str, &str)]) -> (tempfile::TempDir, SqlFunctions) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut paths: Vec<PathBuf> = Vec::new();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        paths.push(path);
    }
    (dir, SqlFunctions::new(paths, 1 << 20))
}

/// What the call in `sql` writes, as `what`, or `None`.
fn writes(functions: &SqlFunctions, sql: &str) -> Option<String> {
    functions.write_called(sql).map(|w| {
        assert_eq!(w.why, WriteReason::TreeFunction);
        w.what
    })
}

const APPEND: &str = "
CREATE OR REPLACE FUNCTION append_to_store(stream TEXT, payload JSONB) RETURNS INTEGER AS $$
DECLARE n INTEGER;
BEGIN
    SELECT count(*) INTO n FROM events WHERE id = stream; -- INSERT in a comment is no write
    INSERT INTO events (id, body) VALUES (stream, payload);
    RETURN n + 1;
END;
$$ LANGUAGE plpgsql;
";

#[test]
fn a_plpgsql_body_that_inserts_writes_and_is_named_with_its_file_and_line() {
    let (dir, f) = functions(&[("V1__append.sql", APPEND)]);
    let what = writes(&f, "SELECT * FROM append_to_store($1::text, $2)").expect("a write");
    let file = dir.path().join("V1__append.sql");
    assert_eq!(what, format!("append_to_store() (writes: INSERT, defined at {}:2)", file.display()));
    assert!(writes(&f, "SELECT public.APPEND_TO_STORE($1, $2)").is_some(), "schema and case");
    assert!(writes(&f, "SELECT x FROM t, LATERAL append_to_store(t.a, t.b) AS y").is_some());
}

#[test]
fn other_names_strings_and_comments_are_no_call() {
    let (_dir, f) = functions(&[("V1__append.sql", APPEND)]);
    assert_eq!(writes(&f, "SELECT append_to_store_count($1)"), None);
    assert_eq!(writes(&f, "SELECT 'append_to_store(1)' AS note"), None);
    assert_eq!(writes(&f, "SELECT 1 -- append_to_store(1)"), None);
    assert_eq!(writes(&f, "SELECT \"append_to_store\" FROM t"), None, "a column, not a call");
}

#[test]
fn bodies_that_only_read_and_functions_declared_pure_do_not_write() {
    let (_dir, f) = functions(&[(
        "V1__read.sql",
        "CREATE FUNCTION events_since(s TEXT) RETURNS SETOF events LANGUAGE plpgsql AS $$
         BEGIN RETURN QUERY SELECT * FROM events WHERE id = s ORDER BY updated_at; END; $$;
         CREATE FUNCTION bump(a INT) RETURNS INT IMMUTABLE LANGUAGE sql AS 'SELECT a + 1';
         CREATE FUNCTION odd(a INT) RETURNS INT STABLE LANGUAGE plpgsql AS $$ BEGIN DELETE FROM t; RETURN a; END $$;
         CREATE FUNCTION native(a INT) RETURNS INT LANGUAGE c AS 'lib', 'native_update';",
    )]);
    for call in ["SELECT * FROM events_since($1)", "SELECT bump(1)", "SELECT odd(1)", "SELECT native(1)"] {
        assert_eq!(writes(&f, call), None, "{call}");
    }
}

#[test]
fn every_kind_of_write_in_a_body_is_seen() {
    let cases = [
        ("LANGUAGE sql AS 'UPDATE t SET a = 1'", "UPDATE"),
        ("LANGUAGE plpgsql AS $$ BEGIN PERFORM 1 FROM t FOR UPDATE; END $$", "FOR UPDATE"),
        ("LANGUAGE plpgsql AS $$ BEGIN PERFORM 1 FROM t FOR KEY SHARE; END $$", "FOR SHARE"),
        (
            "LANGUAGE plpgsql AS $$ BEGIN EXECUTE format('DELETE FROM %I', tbl); END $$",
            "EXECUTE of dynamic SQL",
        ),
        ("LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'VACUUM t'; END $$", "EXECUTE … VACUUM"),
        ("LANGUAGE plpgsql AS $$ BEGIN IF a THEN CREATE TEMP TABLE x (a INT); END IF; END $$", "CREATE"),
        ("LANGUAGE plpgsql AS $$ BEGIN RETURN nextval('s'); END $$", "nextval()"),
        ("LANGUAGE sql BEGIN ATOMIC SELECT 1; DELETE FROM t WHERE a = 1; END", "DELETE"),
        ("LANGUAGE sql RETURN setval('s', 1)", "setval()"),
    ];
    for (rest, what) in cases {
        let text = format!("CREATE FUNCTION f(a INT, tbl TEXT) RETURNS INT {rest};\nCREATE FUNCTION later() RETURNS INT LANGUAGE sql AS 'SELECT 1';");
        let (_dir, f) = functions(&[("V1.sql", &text)]);
        let found = writes(&f, "SELECT f(1, 'x')").unwrap_or_else(|| panic!("{rest}: no write"));
        assert!(found.starts_with(&format!("f() (writes: {what},")), "{rest}: {found}");
        assert_eq!(writes(&f, "SELECT later()"), None, "{rest}: the next definition is its own");
    }
}

#[test]
fn a_function_that_calls_a_writing_one_writes_whichever_file_defines_which() {
    let (_dir, f) = functions(&[
        (
            "V1__outer.sql",
            "CREATE FUNCTION outer_fn() RETURNS VOID LANGUAGE plpgsql AS $$ BEGIN PERFORM middle(); END $$;",
        ),
        ("V2__middle.sql", "CREATE FUNCTION middle() RETURNS VOID LANGUAGE sql AS $$ SELECT inner_fn() $$;"),
        ("V3__inner.sql", APPEND.replace("append_to_store", "inner_fn").as_str()),
    ]);
    let what = writes(&f, "SELECT outer_fn()").expect("through two calls");
    assert!(what.starts_with("outer_fn() (writes: a call of middle(),"), "{what}");
    assert!(writes(&f, "SELECT middle()").is_some_and(|w| w.contains("a call of inner_fn()")));
}

#[test]
fn a_dropped_function_is_forgotten_and_a_redefinition_that_writes_counts() {
    let (_dir, f) = functions(&[
        ("V1.sql", &format!("{APPEND}\nCREATE FUNCTION keep() RETURNS INT LANGUAGE sql AS 'SELECT 1';")),
        ("V2.sql", "DROP FUNCTION IF EXISTS public.append_to_store(TEXT, JSONB), other(INT);"),
        (
            "V3.sql",
            "CREATE OR REPLACE FUNCTION keep() RETURNS INT LANGUAGE sql AS 'DELETE FROM t RETURNING 1';",
        ),
    ]);
    assert_eq!(writes(&f, "SELECT append_to_store($1, $2)"), None, "dropped");
    assert!(writes(&f, "SELECT keep()").is_some_and(|w| w.starts_with("keep() (writes: DELETE,")));
}

#[test]
fn files_that_cannot_teach_are_skipped_and_a_broken_file_teaches_up_to_its_break() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        path
    };
    let big = write("big.sql", APPEND.replace("append_to_store", "big_fn").repeat(400).as_bytes());
    let latin1 =
        write("latin1.sql", b"CREATE FUNCTION caf\xe9() RETURNS INT LANGUAGE sql AS 'DELETE FROM t';");
    let broken = write(
        "broken.sql",
        format!(
            "{}\nCREATE FUNCTION never() RETURNS INT AS $$ BEGIN DELETE FROM t;",
            APPEND.replace("append_to_store", "first_fn")
        )
        .as_bytes(),
    );
    let missing = dir.path().join("missing.sql");
    let f = SqlFunctions::new(vec![big, latin1, broken, missing, dir.path().to_path_buf()], 4096);
    assert_eq!(writes(&f, "SELECT big_fn(1, 2)"), None, "over the size limit");
    assert!(writes(&f, "SELECT first_fn(1, 2)").is_some(), "before the unterminated body");
    assert_eq!(writes(&f, "SELECT never()"), None, "inside the unterminated body");
}

#[test]
fn a_tree_without_sql_files_reads_nothing() {
    let f = SqlFunctions::new(Vec::new(), 1 << 20);
    assert_eq!(writes(&f, "SELECT append_to_store(1)"), None);
    assert_eq!(writes(&SqlFunctions::default(), "SELECT append_to_store(1)"), None);
}

#[test]
fn undo_migrations_define_and_drop_nothing() {
    let drop = "DROP FUNCTION append_to_store;";
    let (_dir, f) = functions(&[
        ("V1__append.sql", APPEND),
        ("V2__later.down.sql", drop),
        ("down.sql", drop),
        ("U3__undo.sql", drop),
        ("u4__undo.sql", drop),
        ("V5__reads.down.sql", "CREATE FUNCTION only_down() RETURNS INT LANGUAGE sql AS 'DELETE FROM t';"),
        ("update_down.sql", "CREATE FUNCTION not_undo() RETURNS INT LANGUAGE sql AS 'DELETE FROM t';"),
    ]);
    assert!(writes(&f, "SELECT append_to_store(1, 2)").is_some(), "no undo file dropped it");
    assert_eq!(writes(&f, "SELECT only_down()"), None, "defined only by an undo file");
    assert!(writes(&f, "SELECT not_undo()").is_some(), "a name that merely ends in `down.sql`");
}

#[test]
fn functions_the_rule_set_declares_write_and_so_do_the_tree_functions_that_call_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("V1.sql");
    std::fs::write(
        &path,
        "CREATE FUNCTION wrapper() RETURNS VOID LANGUAGE sql AS $$ SELECT Append_Event(1) $$;",
    )
    .expect("write");
    let declared = ["append_event".to_string(), "REMOTE_UPSERT".to_string()];
    let f = SqlFunctions::new(vec![path], 1 << 20).with_declared(&declared);
    assert_eq!(
        writes(&f, "SELECT * FROM append_event($1)").as_deref(),
        Some("append_event() (declared writing by the rule set's `sql.writing_functions`)")
    );
    assert!(writes(&f, "SELECT remote_upsert(1)").is_some(), "any letter case");
    assert!(writes(&f, "SELECT wrapper()")
        .is_some_and(|w| w.starts_with("wrapper() (writes: a call of append_event(),")));
    // Without SQL files, the declared functions alone.
    let f = SqlFunctions::new(Vec::new(), 1 << 20).with_declared(&declared);
    assert!(writes(&f, "SELECT append_event(1)").is_some());
    assert_eq!(writes(&f, "SELECT wrapper()"), None);
}

#[test]
fn each_definition_is_named_at_its_own_line() {
    let text = "-- one\nCREATE FUNCTION a() RETURNS INT LANGUAGE sql AS 'DELETE FROM t';\n\n\
                CREATE FUNCTION b() RETURNS INT LANGUAGE sql AS 'SELECT 1';\n\
                CREATE FUNCTION c()\nRETURNS INT LANGUAGE sql\nAS $$\nUPDATE t SET a = 1\n$$;\n\
                CREATE FUNCTION d() RETURNS INT LANGUAGE sql AS 'INSERT INTO t VALUES (1)';\n";
    let (dir, f) = functions(&[("V1.sql", text)]);
    let at = |name: &str, line: usize| {
        let what = writes(&f, &format!("SELECT {name}()")).unwrap_or_else(|| panic!("{name} writes"));
        assert!(what.ends_with(&format!("{}:{line})", dir.path().join("V1.sql").display())), "{what}");
    };
    at("a", 2);
    at("c", 5);
    at("d", 10);
}

#[test]
fn string_literals_of_rust_files_define_functions_at_their_own_lines_and_doc_comments_do_not() {
    // A refinery-style migration in Rust: one raw string, one string with escapes, a doc
    // comment and a line comment that only talk about a definition.
    let migration = r####"//! CREATE FUNCTION from_inner_doc() RETURNS INT LANGUAGE sql AS 'DELETE FROM t';

/// CREATE FUNCTION from_doc() RETURNS INT LANGUAGE sql AS 'DELETE FROM t';
pub fn migration() -> String {
    // CREATE FUNCTION from_comment() RETURNS INT LANGUAGE sql AS 'DELETE FROM t';
    let mut m = String::new();
    m.push_str(r#"
CREATE OR REPLACE FUNCTION touch_job(id UUID) RETURNS VOID AS $$
BEGIN
    UPDATE job_queue SET heartbeat = now() WHERE job_queue.id = touch_job.id;
END;
$$ LANGUAGE plpgsql;"#);
    m.push_str("CREATE FUNCTION \"count_jobs\"() RETURNS BIGINT\n    LANGUAGE sql STABLE AS 'SELECT count(*) FROM job_queue';");
    m.push_str("CREATE FUNCTION drop_job() RETURNS VOID LANGUAGE sql AS 'DELETE FROM job_queue';");
    m
}
"####;
    let (dir, f) = functions(&[("V6__jobs.rs", migration)]);
    let file = dir.path().join("V6__jobs.rs");
    assert_eq!(
        writes(&f, "SELECT touch_job($1)").as_deref(),
        Some(format!("touch_job() (writes: UPDATE, defined at {}:8)", file.display()).as_str())
    );
    let drop_job = writes(&f, "SELECT drop_job()").expect("drop_job writes");
    assert!(drop_job.ends_with(&format!("{}:14)", file.display())), "{drop_job}");
    assert_eq!(writes(&f, "SELECT count_jobs()"), None, "STABLE");
    for name in ["from_inner_doc", "from_doc", "from_comment"] {
        assert_eq!(writes(&f, &format!("SELECT {name}()")), None, "{name}: not a string literal");
    }

    // A file that does not lex as Rust, and a Rust file that drops a function an earlier SQL
    // file defined: definitions and drops are taken in path order across both kinds.
    let (_dir, f) = functions(&[
        ("V1__jobs.sql", "CREATE FUNCTION drop_job() RETURNS VOID LANGUAGE sql AS 'DELETE FROM job_queue';"),
        ("V2__forget.rs", "pub const DOWN: &str = \"DROP FUNCTION drop_job()\";"),
        ("V3__broken.rs", "fn f() { \"CREATE FUNCTION x() RETURNS INT LANGUAGE sql AS 'DELETE FROM t'\" "),
    ]);
    assert_eq!(writes(&f, "SELECT drop_job()"), None, "dropped by the Rust migration");
    assert_eq!(writes(&f, "SELECT x()"), None, "an unterminated file lexes to nothing");
}

#[test]
fn rust_files_nested_too_deeply_or_odd_teach_nothing_and_break_nothing() {
    let deep = format!(
        "fn f() {{ {}\"CREATE FUNCTION deep() RETURNS INT LANGUAGE sql AS 'DELETE FROM t'\"{} }}",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let (_dir, f) = functions(&[
        ("deep.rs", deep.as_str()),
        (
            "bytes.rs",
            "b\"CREATE FUNCTION bytes() RETURNS INT LANGUAGE sql AS 'DELETE FROM t'\"; 'x' function",
        ),
        (
            "raw.rs",
            "const A: &str = r##\"CREATE FUNCTION \"raw\"() RETURNS INT LANGUAGE sql AS 'DELETE FROM t'\"##;",
        ),
        (
            "doc_arg.rs",
            "fn f(doc: &Doc) { run(doc, \"CREATE FUNCTION beside_doc() RETURNS INT LANGUAGE sql AS 'DELETE FROM t'\"); }",
        ),
    ]);
    assert_eq!(writes(&f, "SELECT deep()"), None, "refused like the parse refuses it");
    assert_eq!(writes(&f, "SELECT bytes()"), None, "a byte string is no SQL text");
    assert!(writes(&f, "SELECT raw()").is_some(), "a raw string is");
    assert!(writes(&f, "SELECT beside_doc()").is_some(), "a binding named `doc` is no doc comment");
}
