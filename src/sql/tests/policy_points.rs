//! One small case per policy point of DESIGN.md ("What is a write") that the ground-truth
//! table does not cover, plus `looks_like_sql` and the placeholder cases.

use super::check;
use crate::sql::looks_like_sql;

#[test]
fn data_modifying_statements() {
    check("INSERT INTO t VALUES (1) RETURNING *", "write ReadOnlyTransaction: INSERT");
    check(
        "insert into t select * from u on conflict do nothing",
        "write ReadOnlyTransaction: INSERT … ON CONFLICT",
    );
    check("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", "write ReadOnlyTransaction: WITH … INSERT");
    check(
        "WITH i AS (INSERT INTO t VALUES (1) RETURNING a) SELECT * FROM i",
        "write ReadOnlyTransaction: WITH … INSERT",
    );
    check("WITH u AS (UPDATE t SET a = 1 RETURNING a) SELECT 1", "write ReadOnlyTransaction: WITH … UPDATE");
    check("TRUNCATE TABLE t, u CASCADE", "write ReadOnlyTransaction: TRUNCATE TABLE");
    check("COPY t (a, b) FROM STDIN WITH (FORMAT csv)", "write ReadOnlyTransaction: COPY … FROM");
    check("COPY (SELECT * FROM t) TO STDOUT", "read");
    check("COPY (SELECT nextval('s')) TO STDOUT", "write ReadOnlyTransaction: nextval()");
    check("COPY (DELETE FROM t RETURNING *) TO STDOUT", "write ReadOnlyTransaction: DELETE");
}

#[test]
fn ddl_is_a_write() {
    check("CREATE TEMP TABLE x (a int)", "write ReadOnlyTransaction: CREATE TEMPORARY TABLE");
    check("CREATE TEMP TABLE x (LIKE t INCLUDING ALL)", "write ReadOnlyTransaction: CREATE TEMP TABLE");
    check("CREATE TEMPORARY TABLE x AS SELECT 1", "write ReadOnlyTransaction: CREATE TEMPORARY TABLE");
    check("DROP TABLE t", "write ReadOnlyTransaction: DROP TABLE");
    check("DROP INDEX CONCURRENTLY IF EXISTS i", "write ReadOnlyTransaction: DROP INDEX");
    check("ALTER TABLE t ADD COLUMN c int", "write ReadOnlyTransaction: ALTER TABLE");
    check("ALTER ROLE app SET default_transaction_read_only = off", "write ReadOnlyTransaction: ALTER ROLE");
    check("CREATE OR REPLACE VIEW v AS SELECT 1", "write ReadOnlyTransaction: CREATE OR REPLACE VIEW");
    check("SECURITY LABEL ON TABLE t IS 'x'", "write ReadOnlyTransaction: SECURITY LABEL");
    check(
        "REFRESH MATERIALIZED VIEW CONCURRENTLY mv",
        "write ReadOnlyTransaction: REFRESH MATERIALIZED VIEW",
    );
}

#[test]
fn locking_clauses() {
    check("SELECT * FROM t FOR UPDATE OF t NOWAIT", "write ReadOnlyTransaction: SELECT … FOR UPDATE");
    check(
        "SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED",
        "write ReadOnlyTransaction: SELECT … FOR NO KEY UPDATE",
    );
    check("SELECT * FROM t FOR KEY SHARE OF t", "write ReadOnlyTransaction: SELECT … FOR KEY SHARE");
    check("SELECT 1 UNION SELECT a FROM t FOR UPDATE", "write ReadOnlyTransaction: SELECT … FOR UPDATE");
    check("(SELECT 1) UNION (SELECT a FROM t FOR SHARE)", "write ReadOnlyTransaction: SELECT … FOR SHARE");
    check("SELECT * FROM (SELECT * FROM t FOR UPDATE) s", "write ReadOnlyTransaction: SELECT … FOR UPDATE");
    check(
        "WITH l AS (SELECT * FROM t FOR UPDATE) SELECT * FROM l",
        "write ReadOnlyTransaction: SELECT … FOR UPDATE",
    );
    check("SELECT substring(b FROM 1 FOR 2) FROM t", "read");
    check("SELECT 1 INTO TEMP x FROM t", "write ReadOnlyTransaction: SELECT … INTO");
}

#[test]
fn writing_functions_in_any_position() {
    check("SELECT * FROM t WHERE a IN (SELECT nextval('s'))", "write ReadOnlyTransaction: nextval()");
    check("SELECT * FROM nextval('s')", "write ReadOnlyTransaction: nextval()");
    check("SELECT pg_catalog.setval('s', 1, false)", "write ReadOnlyTransaction: setval()");
    check("SELECT \"nextval\"('s')", "write ReadOnlyTransaction: nextval()");
    check(
        "SELECT a, (SELECT max(x) FROM u WHERE x > nextval('s')) FROM t",
        "write ReadOnlyTransaction: nextval()",
    );
    check("SELECT CASE WHEN a > 1 THEN pg_notify('ch', b) END FROM t", "write HotStandby: pg_notify()");
    check("VALUES (txid_current())", "write HotStandby: txid_current()");
    // Measured: PostgreSQL 15 lets large objects through a read-only transaction
    // (pg15-readonly-extra.tsv).
    check("SELECT lo_create(0)", "write HotStandby: lo_create()");
    check("SELECT lo_open(42, 262144)", "read");
    check("SELECT lo_open(42, 131072)", "write HotStandby: lo_open() for writing");
    check("COPY t TO '/tmp/f'", "write BypassesGuard: COPY … TO a server file or program");
    check("COPY (SELECT 1) TO PROGRAM 'cat'", "write BypassesGuard: COPY … TO a server file or program");
    check("COPY t TO STDOUT", "read");
    check("ALTER SYSTEM SET work_mem = '5MB'", "write BypassesGuard: ALTER SYSTEM");
    check("SELECT pg_terminate_backend(42)", "write BypassesGuard: pg_terminate_backend()");
    check("SELECT currval('s')", "read");
    check("SELECT txid_current_if_assigned()", "read");
    check("SELECT nextval FROM t", "read");
    check("SELECT pg_advisory_xact_lock(1)", "read");
    check("SELECT pg_advisory_unlock_all()", "read");
    check("SELECT f()", "read");
    check("SELECT my_schema.f(a) FROM t", "read");
}

#[test]
fn standby_refusals() {
    check("PREPARE TRANSACTION 'x'", "write HotStandby: PREPARE TRANSACTION");
    check("COMMIT PREPARED 'x'", "write HotStandby: COMMIT PREPARED");
    check("ROLLBACK PREPARED 'x'", "write HotStandby: ROLLBACK PREPARED");
    check("VACUUM (FULL, ANALYZE) t", "write HotStandby: VACUUM");
    check("ANALYSE t", "write HotStandby: ANALYSE");
    check("NOTIFY ch, 'payload'", "write HotStandby: NOTIFY");
    check(
        "LOCK TABLE t IN SHARE ROW EXCLUSIVE MODE NOWAIT",
        "write HotStandby: LOCK TABLE … SHARE ROW EXCLUSIVE MODE",
    );
    check("LOCK t", "write HotStandby: LOCK TABLE … ACCESS EXCLUSIVE MODE");
    check("LOCK TABLE ONLY t, u IN ROW SHARE MODE", "read");
}

#[test]
fn transaction_control() {
    check("BEGIN", "read");
    check("BEGIN READ ONLY", "read");
    check("BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE", "read");
    check("START TRANSACTION READ WRITE", "write GuardOff: START TRANSACTION READ WRITE");
    check("BEGIN ISOLATION LEVEL REPEATABLE READ READ WRITE", "write GuardOff: BEGIN READ WRITE");
    check("SET TRANSACTION READ ONLY", "read");
    check("SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "read");
    check("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", "read");
    check("COMMIT", "read");
    check("END", "read");
    check("ROLLBACK", "read");
    check("ABORT", "read");
    check("SAVEPOINT sp", "read");
    check("ROLLBACK TO SAVEPOINT sp", "read");
    check("RELEASE SAVEPOINT sp", "read");
}

#[test]
fn cursors() {
    check("DECLARE c CURSOR FOR SELECT * FROM t", "read");
    check("DECLARE c NO SCROLL CURSOR WITH HOLD FOR SELECT * FROM t WHERE a = 1", "read");
    check(
        "DECLARE c CURSOR FOR SELECT * FROM t FOR UPDATE",
        "write ReadOnlyTransaction: SELECT … FOR UPDATE",
    );
    check(
        "DECLARE c CURSOR FOR SELECT * FROM t FOR NO KEY UPDATE",
        "write ReadOnlyTransaction: SELECT … FOR NO KEY UPDATE",
    );
    check("FETCH 10 FROM c", "read");
    check("FETCH ALL IN c", "read");
    check("MOVE NEXT FROM c", "read");
    check("CLOSE c", "read");
    check("CLOSE ALL", "read");
}

#[test]
fn session_statements() {
    check("SHOW search_path", "read");
    check("SHOW ALL", "read");
    check("RESET search_path", "read");
    check("RESET ALL", "read");
    check("DISCARD ALL", "read");
    check("DEALLOCATE ALL", "read");
    check("UNLISTEN *", "read");
    check("SET search_path = app, public", "read");
    check("SET ROLE reporting", "read");
    check("SET TIME ZONE 'UTC'", "read");
    check("SET statement_timeout TO 0", "read");
}

#[test]
fn guard_switches() {
    check(
        "SET default_transaction_read_only TO false",
        "write GuardOff: SET default_transaction_read_only = false",
    );
    check(
        "SET default_transaction_read_only = 'off'",
        "write GuardOff: SET default_transaction_read_only = off",
    );
    check("SET default_transaction_read_only = 0", "write GuardOff: SET default_transaction_read_only = 0");
    check(
        "SET SESSION default_transaction_read_only = off",
        "write GuardOff: SET default_transaction_read_only = off",
    );
    check("SET LOCAL transaction_read_only TO no", "write GuardOff: SET transaction_read_only = no");
    check(
        "SET \"default_transaction_read_only\" = f",
        "write GuardOff: SET default_transaction_read_only = f",
    );
    check(
        "SET default_transaction_read_only TO DEFAULT",
        "write GuardOff: SET default_transaction_read_only = default",
    );
    check("RESET default_transaction_read_only", "write GuardOff: RESET default_transaction_read_only");
    check("SET transaction_read_only = on", "read");
    check("SET default_transaction_read_only = true", "read");
    check("SET default_transaction_read_only TO 1", "read");
    check("SET default_transaction_read_only = 'yes'", "read");
    check(
        "SELECT set_config('transaction_read_only', 'false', true)",
        "write GuardOff: set_config('transaction_read_only', 'false')",
    );
    check(
        "SELECT set_config('default_transaction_read_only', $1, false)",
        "write GuardOff: set_config('default_transaction_read_only', …)",
    );
    check("SELECT set_config($1, $2, false)", "write GuardOff: set_config() of a setting named at run time");
    check("SELECT set_config('default_transaction_read_only', 'on', false)", "read");
    check("SELECT set_config('statement_timeout', '0', false)", "read");
}

#[test]
fn opaque_statements() {
    check("CALL p()", "write Opaque: CALL");
    check("CALL archive.run(1, 'x')", "write Opaque: CALL");
    check("DO $$ BEGIN PERFORM 1; END $$", "write Opaque: DO block");
    check("DO LANGUAGE plpgsql $body$ BEGIN NULL; END $body$", "write Opaque: DO block");
    check("EXECUTE x", "write Opaque: EXECUTE");
    check("EXECUTE x(1, 2)", "write Opaque: EXECUTE");
    check("PREPARE q (int) AS UPDATE t SET a = $1", "write Opaque: PREPARE … UPDATE");
    check("PREPARE q AS SELECT * FROM t; EXECUTE q", "read");
    check("PREPARE q AS SELECT 1; EXECUTE q(nextval('s'))", "write ReadOnlyTransaction: nextval()");
    check("PREPARE q AS SELECT 1; EXECUTE other", "write Opaque: EXECUTE");
    check("PREPARE q AS SELECT 1; DEALLOCATE q", "read");
}

#[test]
fn explain() {
    check("EXPLAIN SELECT * FROM t", "read");
    check("EXPLAIN UPDATE t SET a = 1", "read");
    check("EXPLAIN (COSTS OFF) INSERT INTO t VALUES (1)", "read");
    check("EXPLAIN ANALYZE INSERT INTO t VALUES (1)", "write ReadOnlyTransaction: EXPLAIN ANALYZE INSERT");
    check("EXPLAIN (ANALYZE, BUFFERS) DELETE FROM t", "write ReadOnlyTransaction: EXPLAIN ANALYZE DELETE");
    check(
        "EXPLAIN (ANALYZE true, FORMAT JSON) UPDATE t SET a = 1",
        "write ReadOnlyTransaction: EXPLAIN ANALYZE UPDATE",
    );
    check("EXPLAIN (ANALYZE false) DELETE FROM t", "read");
    check("EXPLAIN (ANALYZE off) DELETE FROM t", "read");
    check(
        "EXPLAIN ANALYZE VERBOSE SELECT nextval('s')",
        "write ReadOnlyTransaction: EXPLAIN ANALYZE nextval()",
    );
    check(
        "EXPLAIN ANALYZE SELECT * FROM t FOR NO KEY UPDATE",
        "write ReadOnlyTransaction: EXPLAIN ANALYZE SELECT … FOR NO KEY UPDATE",
    );
    check("EXPLAIN ANALYZE SELECT * FROM t", "read");
}

#[test]
fn write_words_in_literals_identifiers_and_comments() {
    check("SELECT 'UPDATE t SET a = 1; DROP TABLE t' AS s", "read");
    check("SELECT E'it\\'s; DELETE FROM t' AS s", "read");
    check("SELECT $tag$ $$ DROP TABLE t; $$ $tag$", "read");
    check("SELECT \"insert\", \"for\" FROM \"update\"", "read");
    check("SELECT updated_at, deleted, inserted_by FROM t", "read");
    check("/* nested /* DELETE FROM t */ still a comment; */ SELECT 1", "read");
    check("SELECT 1 -- ; DELETE FROM t", "read");
    check("SELECT 1 /* ; */ ; /* */", "read");
}

#[test]
fn not_sql_and_empty_text() {
    check("", "read");
    check("   \n\t ", "read");
    check("-- only a comment", "read");
    check("/* only */ /* comments */ ;;", "read");
    check("hello world", "write Unrecognised: unrecognised SQL");
    check("CHECKPOINT", "write Unrecognised: CHECKPOINT");
    check("LOAD 'auto_explain'", "write Unrecognised: LOAD");
    check("SELECT 'unterminated", "write Unrecognised: unterminated quote or comment");
    check("SELECT 1 /* unterminated", "write Unrecognised: unterminated quote or comment");
    check("SELECT $a$ unterminated", "write Unrecognised: unterminated quote or comment");
    check("{} WHERE id = $1", "write Unrecognised: unrecognised SQL");
    check("__ro_hole", "write Unrecognised: unrecognised SQL");
    check("SET", "write Unrecognised: SET");
    check("EXPLAIN", "write Unrecognised: EXPLAIN");
}

#[test]
fn placeholders() {
    check("SELECT * FROM __ro_hole WHERE id = $1", "read");
    check("UPDATE __ro_hole SET a = 1", "write ReadOnlyTransaction: UPDATE");
    check("SELECT * FROM t WHERE id = $1 AND b = $2 ORDER BY __ro_hole LIMIT $3", "read");
    check("SELECT * FROM {} WHERE id = ?", "read");
    check("SELECT __ro_hole FROM __ro_hole __ro_hole", "read");
    check("SELECT * FROM t __ro_hole FOR UPDATE", "write ReadOnlyTransaction: SELECT … FOR UPDATE");
    check("DELETE FROM {} WHERE id = {}", "write ReadOnlyTransaction: DELETE");
    check("SELECT * FROM t WHERE a IN ({}) FOR SHARE", "write ReadOnlyTransaction: SELECT … FOR SHARE");
    check(
        "INSERT INTO __ro_hole (a) VALUES ($1) ON CONFLICT (a) DO UPDATE SET a = EXCLUDED.a",
        "write ReadOnlyTransaction: INSERT … ON CONFLICT",
    );
}

#[test]
fn several_statements() {
    check("SELECT 1; SELECT 2;", "read");
    check("SELECT 1; DELETE FROM t", "write ReadOnlyTransaction: DELETE");
    check("BEGIN READ ONLY; SELECT * FROM t; COMMIT", "read");
    check("BEGIN; UPDATE t SET a = 1; COMMIT", "write ReadOnlyTransaction: UPDATE");
    check(
        "SET search_path = app; SET default_transaction_read_only = off; SELECT 1",
        "write GuardOff: SET default_transaction_read_only = off",
    );
    check("SELECT 1; VACUUM t; INSERT INTO t VALUES (1)", "write HotStandby: VACUUM");
    check("SELECT ';'; SELECT $$;$$; TABLE t", "read");
    check("SELECT 1; hello", "write Unrecognised: unrecognised SQL");
}

#[test]
fn looks_like_sql_cases() {
    for sql in [
        "SELECT 1",
        "  select * from t",
        "-- why\nUPDATE t SET a = 1",
        "/* a */ WITH x AS (SELECT 1) SELECT * FROM x",
        "values (1)",
        "TABLE t",
        "(SELECT 1) UNION (SELECT 2)",
        "CREATE TABLE t (a int)",
        "ALTER TABLE t ADD b int",
        "DROP TABLE t",
        "REFRESH MATERIALIZED VIEW mv",
        "DO $$ BEGIN END $$",
        "CHECKPOINT",
        "ANALYSE t",
        "SELECT * FROM t WHERE name = '",
        "-- it's\nSELECT 'unterminated",
        "Update",
    ] {
        assert!(looks_like_sql(sql), "{sql:?} should look like SQL");
    }
    for text in [
        "",
        "hello world",
        "selection of items",
        "updated_at",
        "'SELECT 1'",
        "\"select\"",
        "-- SELECT 1",
        "(end)",
        "/* SELECT",
        "{}",
        "$1",
        "Could not select a row",
        "it's 'select",
    ] {
        assert!(!looks_like_sql(text), "{text:?} should not look like SQL");
    }
}

#[test]
fn every_reason_has_a_sentence() {
    use crate::sql::WriteReason::*;
    let all = [ReadOnlyTransaction, HotStandby, GuardOff, Opaque, Unrecognised];
    let sentences: Vec<&str> = all.iter().map(|r| r.describe()).collect();
    for s in &sentences {
        assert!(s.ends_with('.') && s.len() > 20, "{s:?}");
    }
    let mut unique = sentences.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), all.len());
}
