use super::*;
use std::path::Path;

use crate::analysis::facts::{HandleUse, Origin, Sink, SqlText, Taint};
use crate::config::RuleSet;
use crate::index::ConstIndex;
use crate::source::{Pos, TextRange};
use crate::sql::SqlFunctions;

fn summaries(fns: Vec<TreeFn>) -> Writers {
    let rules = RuleSet::builtin(Path::new("."));
    let index = ConstIndex::default();
    Writers::new(fns, &Judge::new(&rules, &index, &SqlFunctions::default()))
}

fn at(line: u32) -> TextRange {
    let pos = Pos { line, column: 1, offset: 0 };
    TextRange { start: pos, end: pos }
}

fn sql_sink(line: u32, param: usize, sql: &str) -> Sink {
    Sink {
        range: at(line),
        handle: HandleUse { label: "db".into(), taint: Taint::param(param) },
        kind: SinkKind::Sql { text: SqlText::Lit(sql.into()), method: "execute".into(), known_method: true },
    }
}

fn call_sink(line: u32, param: usize, callee: &str, method: bool, arg: usize) -> Sink {
    Sink {
        range: at(line),
        handle: HandleUse { label: "db".into(), taint: Taint::param(param) },
        kind: SinkKind::Call {
            callee: callee.split("::").map(String::from).collect(),
            method,
            arg,
            args: 1,
            builder: None,
            receiver: None,
            flags: FlagArgs::default(),
        },
    }
}

/// `repo.claim()` at `line` on the handle of parameter `param`: a method call taking no
/// argument besides its receiver.
fn claim_call(line: u32, param: usize) -> Sink {
    let mut sink = call_sink(line, param, "claim", true, 0);
    if let SinkKind::Call { args, .. } = &mut sink.kind {
        *args = 0;
    }
    sink
}

fn with_flag(mut sink: Sink, input: usize, arg: FlagArg) -> Sink {
    if let SinkKind::Call { flags, .. } = &mut sink.kind {
        *flags = flags.with(input, arg);
    }
    sink
}

fn function(file: &str, owner: Option<&str>, name: &str, params: &[&str], sinks: Vec<Sink>) -> TreeFn {
    TreeFn {
        file: Path::new(file).into(),
        krate: None,
        module: crate::workspace::location::locate(Path::new(file)).module.into(),
        facts: FnFacts {
            name: name.into(),
            owner: owner.map(Arc::from),
            module: Vec::new(),
            range: at(1),
            analysed: true,
            has_body: true,
            params: params.iter().map(|&p| p.into()).collect(),
            returns: Taint::NONE,
            sinks,
            derived: Vec::new(),
            ro_bindings: 0,
            sig: crate::analysis::facts::SigFacts {
                arity: params.len(),
                has_self: params.first() == Some(&"self"),
                ..Default::default()
            },
        },
    }
}

#[test]
fn unpinned_method_calls_spread_writes_only_when_asked() {
    // `repo.claim()` on a receiver of unknown type, two methods named `claim`: the call
    // cannot be pinned. `check` judges it by the tables (a read); `migrate` asks for any
    // method of that name, and one of them deletes.
    let claim = claim_call(3, 0);
    let fns = vec![
        function("src/api.rs", None, "handler", &["repo"], vec![claim]),
        function(
            "src/pg.rs",
            Some("PgRepo"),
            "claim",
            &["self"],
            vec![sql_sink(9, 0, "DELETE FROM uploads")],
        ),
        function("src/mem.rs", Some("MemRepo"), "claim", &["self"], vec![sql_sink(4, 0, "SELECT 1")]),
    ];
    let mut writers = summaries(fns);
    assert_eq!(writers.unresolved().len(), 1, "the call is unpinned");
    assert!(writers.writes_through(0, 0).is_none(), "check: judged by the tables");
    assert_eq!(writers.resolve(0, &writers.function(0).facts.sinks[0].kind), Callee::External);
    assert_eq!(writers.resolve(0, &writers.function(0).facts.sinks[0].kind.clone()), Callee::External);
    writers.spread_through_unpinned();
    let chain: Vec<(String, u32)> =
        writers.chain(0, 0).iter().map(|s| (s.function.clone(), s.line)).collect();
    assert_eq!(chain, [("handler".to_string(), 3), ("PgRepo::claim".to_string(), 9)]);
    assert_eq!(writers.resolve(0, &writers.function(0).facts.sinks[0].kind), Callee::Tree(vec![1, 2]));
    // The sink itself is answered from the stored resolution; an equal call elsewhere (a
    // copy) is resolved again, to the same answer.
    let copy = writers.function(0).facts.sinks[0].kind.clone();
    assert_eq!(writers.resolve(0, &copy), Callee::Tree(vec![1, 2]));
}

#[test]
fn writes_gained_through_unpinned_calls_spread_on_through_calls_already_resolved() {
    // `mid` already writes through `db` before spreading; through the unpinned `repo.claim()`
    // it gains `repo`, which must reach `top` along a call resolved from the start. `mid`
    // comes before the method it reaches, then after it: both orders give the same witnesses.
    let claim = claim_call(7, 1);
    let mid = function(
        "src/mid.rs",
        None,
        "mid",
        &["db", "repo"],
        vec![sql_sink(6, 0, "UPDATE t SET n = 1"), claim],
    );
    let pg = function("src/pg.rs", Some("PgRepo"), "claim", &["self"], vec![sql_sink(9, 0, "DELETE FROM t")]);
    let mem = function("src/mem.rs", Some("MemRepo"), "claim", &["self"], vec![sql_sink(4, 0, "SELECT 1")]);
    let top = function(
        "src/top.rs",
        None,
        "top",
        &["a", "b"],
        vec![call_sink(2, 0, "mid::mid", false, 0), call_sink(3, 1, "mid::mid", false, 1)],
    );
    for (fns, mid_id, pg_id) in [
        (vec![top.clone(), mid.clone(), pg.clone(), mem.clone()], 1, 2),
        (vec![top.clone(), pg.clone(), mem.clone(), mid.clone()], 3, 1),
    ] {
        let mut writers = summaries(fns);
        assert_eq!(writers.writes_through(0, 0), Some(&Write::Call { line: 2, callee: mid_id, param: 0 }));
        assert!(writers.writes_through(0, 1).is_none(), "check: the unpinned call is judged by the tables");
        writers.spread_through_unpinned();
        assert_eq!(
            writers.writes_through(mid_id, 1),
            Some(&Write::Call { line: 7, callee: pg_id, param: 0 })
        );
        assert_eq!(writers.writes_through(0, 0), Some(&Write::Call { line: 2, callee: mid_id, param: 0 }));
        let chain: Vec<(String, u32)> =
            writers.chain(0, 1).iter().map(|s| (s.function.clone(), s.line)).collect();
        assert_eq!(
            chain,
            [("top".to_string(), 3), ("mid".to_string(), 7), ("PgRepo::claim".to_string(), 9)],
            "mid at {mid_id}"
        );
    }
}

#[test]
fn writes_follow_two_levels_of_helpers_and_skip_readers() {
    let fns = vec![
        function("src/api.rs", None, "handler", &["db"], vec![call_sink(3, 0, "store::save", false, 0)]),
        function("src/store.rs", None, "save", &["db"], vec![call_sink(7, 0, "bump", false, 0)]),
        function("src/store.rs", None, "bump", &["db"], vec![sql_sink(12, 0, "UPDATE t SET n = n + 1")]),
        function("src/store.rs", None, "read", &["db"], vec![sql_sink(20, 0, "SELECT 1")]),
    ];
    let writers = summaries(fns);
    assert!(writers.writes_through(3, 0).is_none(), "a reader is not a writer");
    assert_eq!(
        writers.writes_through(2, 0),
        Some(&Write::Direct { line: 12, evidence: "UPDATE t SET n = n + 1".into() })
    );
    let chain = writers.chain(0, 0);
    let summary: Vec<(String, u32)> = chain.iter().map(|s| (s.function.clone(), s.line)).collect();
    assert_eq!(summary, [("handler".to_string(), 3), ("save".to_string(), 7), ("bump".to_string(), 12)]);
}

#[test]
fn recursion_terminates_and_methods_resolve_to_owners() {
    let fns = vec![
        function("src/a.rs", None, "ping", &["db", "n"], vec![call_sink(2, 0, "pong", false, 0)]),
        function("src/a.rs", None, "pong", &["db"], vec![call_sink(5, 0, "ping", false, 0)]),
        function(
            "src/repo.rs",
            Some("Repo"),
            "save",
            &["self", "db"],
            vec![sql_sink(9, 1, "INSERT INTO t VALUES (1)")],
        ),
        function("src/repo.rs", None, "save", &["db"], vec![sql_sink(15, 0, "SELECT 1")]),
        function(
            "src/h.rs",
            None,
            "h",
            &["db", "repo"],
            vec![call_sink(4, 0, "save", true, 1), call_sink(5, 0, "save", false, 0)],
        ),
    ];
    let writers = summaries(fns);
    assert!(writers.writes_through(0, 0).is_none() && writers.writes_through(1, 0).is_none());
    match writers.writes_through(4, 0) {
        Some(Write::Call { line: 4, callee: 2, param: 1 }) => {}
        other => panic!("the method call writes, the free function does not: {other:?}"),
    }
    assert_eq!(writers.resolve(4, &call_sink(0, 0, "Repo::save", false, 1).kind), Callee::Tree(vec![2]));
    assert_eq!(
        writers.resolve(4, &call_sink(0, 0, "crate::repo::save", false, 0).kind),
        Callee::Tree(vec![3])
    );
    assert_eq!(writers.resolve(4, &call_sink(0, 0, "elsewhere", false, 0).kind), Callee::External);
}

fn rw_sql_sink(line: u32, params: u64, sql: &str) -> Sink {
    let mut sink = sql_sink(line, 0, sql);
    sink.handle = HandleUse {
        label: "ctx.pool()".into(),
        taint: Taint { rw: Origin::at(at(line)), params, ..Taint::NONE },
    };
    sink
}

#[test]
fn own_writes_through_a_read_write_handle_spread_to_every_caller_whatever_they_pass() {
    let fns = vec![
        // `fetch(ctx)`: `ctx.pool().execute(INSERT)`, a write through its parameter and its own.
        function(
            "src/a.rs",
            None,
            "fetch",
            &["ctx"],
            vec![rw_sql_sink(2, 1, "INSERT INTO person VALUES (1)")],
        ),
        // `audit()`: a read-write handle of no parameter (`get_pool()`), writing.
        function("src/a.rs", None, "audit", &["id"], vec![rw_sql_sink(5, 0, "DELETE FROM seen")]),
        function("src/a.rs", None, "outer", &["ctx"], vec![call_sink(8, 0, "fetch", false, 0)]),
        // `log(ctx)` calls `audit(ctx)`: `audit` writes nothing through its parameter.
        function("src/a.rs", None, "log", &["ctx"], vec![call_sink(11, 0, "audit", false, 0)]),
        function("src/a.rs", None, "peek", &["ctx"], vec![rw_sql_sink(14, 1, "SELECT 1")]),
        function("src/a.rs", None, "top", &["ctx"], vec![call_sink(17, 0, "log", false, 0)]),
        function("src/a.rs", None, "reader", &["ctx"], vec![call_sink(20, 0, "peek", false, 0)]),
    ];
    let writers = summaries(fns);
    let own = |id| writers.writes_on_its_own(id).map(|o| (o.write.clone(), o.handle.as_str()));
    assert_eq!(
        own(0),
        Some((Write::Direct { line: 2, evidence: "INSERT INTO person VALUES (1)".into() }, "ctx.pool()"))
    );
    assert!(matches!(own(1), Some((Write::Direct { line: 5, .. }, "ctx.pool()"))));
    assert!(writers.writes_through(1, 0).is_none(), "no parameter of `audit` is written through");
    assert_eq!(own(2), Some((Write::Calls { line: 8, callee: 0 }, "ctx.pool()")));
    assert_eq!(own(3), Some((Write::Calls { line: 11, callee: 1 }, "ctx.pool()")));
    assert!(writers.writes_through(3, 0).is_none(), "`log` writes nothing through its parameter");
    assert!(own(4).is_none() && own(6).is_none(), "readers stay readers");
    let chain: Vec<(String, u32)> =
        writers.own_chain(5).iter().map(|s| (s.function.clone(), s.line)).collect();
    assert_eq!(chain, [("top".to_string(), 17), ("log".to_string(), 11), ("audit".to_string(), 5)]);
}

#[test]
fn orm_builders_model_writes_and_helpers_outside_the_tree_write_through_parameters() {
    let mut executor = call_sink(3, 0, "execute", true, 1);
    if let SinkKind::Call { builder, .. } = &mut executor.kind {
        *builder = Some("diesel::insert_into(…)".into());
    }
    let mut two_args = call_sink(9, 0, "save", true, 1);
    if let SinkKind::Call { args, .. } = &mut two_args.kind {
        *args = 2;
    }
    let fns = vec![
        function("src/a.rs", None, "log", &["conn"], vec![executor]),
        function("src/a.rs", None, "persist", &["db"], vec![call_sink(6, 0, "save", true, 1)]),
        function("src/a.rs", None, "cache", &["db"], vec![two_args]),
        function("src/a.rs", None, "audit", &["db"], vec![call_sink(12, 0, "record_visit", false, 0)]),
        function("src/a.rs", None, "outer", &["db"], vec![call_sink(15, 0, "log", false, 0)]),
    ];
    let writers = summaries(fns.clone());
    assert_eq!(
        writers.writes_through(0, 0),
        Some(&Write::Direct { line: 3, evidence: "diesel::insert_into(…) … .execute(db)".into() })
    );
    assert!(matches!(writers.writes_through(1, 0), Some(Write::Direct { line: 6, .. })), "model write");
    assert!(writers.writes_through(2, 0).is_none(), "`save` with two arguments is not a model write");
    assert!(matches!(writers.writes_through(3, 0), Some(Write::Direct { line: 12, .. })), "helper by name");
    assert!(matches!(writers.writes_through(4, 0), Some(Write::Call { line: 15, callee: 0, param: 0 })));
    assert_eq!(
        writers.resolve(0, &fns[0].facts.sinks[0].kind),
        Callee::External,
        "an executor is no tree fn"
    );
}

#[test]
fn a_write_chosen_by_a_flag_reaches_only_the_calls_that_choose_it() {
    // `states(conn, for_update)` locks only `if for_update`; `load(conn, lock)` passes its own
    // flag on. Calls passing `false` read; `true`, or anything else, lock.
    let lock = SqlText::flag(1, SqlText::Lit(" FOR UPDATE".into()), SqlText::Lit(String::new()));
    let mut locking = sql_sink(3, 0, "");
    if let SinkKind::Sql { text, .. } = &mut locking.kind {
        *text = SqlText::Concat(vec![SqlText::Lit("SELECT state FROM proofs".into()), lock]);
    }
    let states = function("src/db.rs", None, "states", &["conn", "for_update"], vec![locking]);
    let load = function(
        "src/db.rs",
        None,
        "load",
        &["conn", "lock"],
        vec![with_flag(call_sink(9, 0, "states", false, 0), 1, FlagArg::Param(1))],
    );
    let writers = summaries(vec![states, load]);
    let given = |arg: FlagArg| FlagArgs::default().with(1, arg);
    for id in [0, 1] {
        assert!(writers.writes_through(id, 0).is_some(), "written through for some value of the flag");
        assert!(
            writers.writes_through_call(id, 0, given(FlagArg::Lit(false))).is_none(),
            "a call passing false reads"
        );
        assert_eq!(writers.writes_through_call(id, 0, given(FlagArg::Lit(true))).map(|w| w.1), Some(None));
        assert_eq!(
            writers.writes_through_call(id, 0, FlagArgs::default()).map(|w| w.1),
            Some(None),
            "unknown: may lock"
        );
        assert_eq!(
            writers.writes_through_call(id, 0, given(FlagArg::Param(3))).map(|w| w.1),
            Some(Some((3, true))),
            "a caller's own flag passed on: its callers choose"
        );
    }
}

#[test]
fn a_write_needing_no_flag_replaces_one_that_needs_one() {
    // `both(conn, for_update)` locks on its flag and also deletes whatever it is given: every
    // call writes.
    let lock = SqlText::flag(1, SqlText::Lit("SELECT 1 FOR UPDATE".into()), SqlText::Lit("SELECT 1".into()));
    let mut locking = sql_sink(3, 0, "");
    if let SinkKind::Sql { text, .. } = &mut locking.kind {
        *text = lock;
    }
    let both = function(
        "src/db.rs",
        None,
        "both",
        &["conn", "for_update"],
        vec![locking, sql_sink(4, 0, "DELETE FROM t")],
    );
    let writers = summaries(vec![both]);
    let given = FlagArgs::default().with(1, FlagArg::Lit(false));
    assert!(writers.writes_through_call(0, 0, given).is_some(), "the DELETE needs no flag");
}

#[test]
fn unpinned_calls_of_one_name_share_one_group_and_every_caller_gets_the_first_witness() {
    // Three callers run `repo.claim()` on receivers of unknown type; four methods are named
    // `claim`: one deletes through `self`, one updates through `self`, one writes through a
    // read-write handle of its own, one reads. Spreading through the unpinned calls goes
    // through the group's calls once per thing given, and must leave every caller as a
    // spreading per (call, method) would: the first writing method's witness, the own write.
    let claim = |line: u32| claim_call(line, 0);
    let fns = vec![
        function("src/pg.rs", Some("PgRepo"), "claim", &["self"], vec![sql_sink(3, 0, "DELETE FROM t")]),
        function("src/mem.rs", Some("MemRepo"), "claim", &["self"], vec![sql_sink(4, 0, "SELECT 1")]),
        function(
            "src/b.rs",
            Some("AuditRepo"),
            "claim",
            &["self"],
            vec![sql_sink(5, 0, "UPDATE t SET n = 1")],
        ),
        function(
            "src/c.rs",
            Some("LogRepo"),
            "claim",
            &["self"],
            vec![rw_sql_sink(6, 0, "INSERT INTO log VALUES (1)")],
        ),
        function("src/x.rs", None, "first", &["repo"], vec![claim(10)]),
        function("src/x.rs", None, "second", &["repo"], vec![claim(20), claim(21)]),
        function("src/x.rs", None, "third", &["repo"], vec![claim(30)]),
        function("src/x.rs", None, "outer", &["repo"], vec![call_sink(40, 0, "third", false, 0)]),
    ];
    let mut writers = summaries(fns);
    assert!((4..8).all(|id| writers.writes_through(id, 0).is_none()), "check: judged by the tables");
    writers.spread_through_unpinned();
    assert_eq!(writers.writes_through(4, 0), Some(&Write::Call { line: 10, callee: 0, param: 0 }));
    assert_eq!(writers.writes_through(5, 0), Some(&Write::Call { line: 20, callee: 0, param: 0 }));
    assert_eq!(writers.writes_through(6, 0), Some(&Write::Call { line: 30, callee: 0, param: 0 }));
    assert_eq!(writers.writes_through(7, 0), Some(&Write::Call { line: 40, callee: 6, param: 0 }));
    let own = |id| writers.writes_on_its_own(id).map(|o| o.write.clone());
    assert_eq!(own(4), Some(Write::Calls { line: 10, callee: 3 }));
    assert_eq!(own(5), Some(Write::Calls { line: 20, callee: 3 }));
    assert_eq!(own(7), Some(Write::Calls { line: 40, callee: 6 }), "spread on along a resolved call");
    assert!(writers.writes_through(1, 0).is_none() && own(1).is_none(), "the reader stays one");
}
