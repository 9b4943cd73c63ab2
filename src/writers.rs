//! Which functions of the tree write through which parameters, to a fixed point.
//!
//! Input: the owned facts of analysed functions (their sinks: SQL executed on a handle, a
//! handle passed to a call — both tagged with the parameters the handle flows from). A
//! parameter is *written through* when write SQL runs on it, when an ORM write builder is
//! executed on it, when it is given to a model write (`active.save(db)`) or to a write helper
//! by name whose body is not in the tree, or when it is passed to a callee of the tree that
//! writes through the matching parameter. What a sink does by itself is the answer of
//! [`crate::judge`] (fed by the rule set). Callees are resolved by name and
//! path as far as syntax allows; a call that resolves to several functions is ambiguous and
//! said to be so. The result keeps, per written parameter, the first step down to the write,
//! so a finding can show the whole chain.
//!
//! This module is pure: it never reads files or parses; the pipeline feeds it the functions a
//! read-only binding can reach.

use std::path::{Path, PathBuf};

use crate::analysis::facts::{FnFacts, SinkKind};
use crate::diagnostics::ChainStep;
use crate::index::Scope;
use crate::judge::Judge;

/// Index of a function in [`Writers`].
pub type FnId = usize;

/// How many steps a chain may have (recursion is cut here).
const MAX_CHAIN: usize = 32;

/// One function of the tree.
#[derive(Debug, Clone)]
pub struct TreeFn {
    /// Its file.
    pub file: PathBuf,
    /// Its module path: the file's module followed by inline modules.
    pub module: Vec<String>,
    /// Its facts.
    pub facts: FnFacts,
}

/// Why a parameter is written through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// It is written through directly at `line`: write SQL runs on it, an ORM write builder
    /// is executed on it, or it is given to a model write or a write helper without a body.
    Direct {
        /// Line of the execution.
        line: u32,
        /// The SQL text, the builder (`diesel::update(…)`), or the call.
        evidence: String,
    },
    /// It is passed to `callee`'s parameter `param`, which is written through.
    Call {
        /// Line of the call.
        line: u32,
        /// The callee.
        callee: FnId,
        /// The callee's parameter.
        param: usize,
    },
}

/// Write summaries of the functions of the tree.
#[derive(Debug, Default)]
pub struct Writers {
    fns: Vec<TreeFn>,
    /// Per function, per parameter (up to 64): why it is written through.
    writes: Vec<Vec<Option<Write>>>,
}

/// What a call resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callee {
    /// No function of the tree has that name and shape.
    External,
    /// Exactly these functions may be meant (more than one: ambiguous).
    Tree(Vec<FnId>),
}

impl Writers {
    /// Summarises `fns`; what each sink does by itself is the judge's answer.
    pub fn new(fns: Vec<TreeFn>, judge: &Judge<'_>) -> Writers {
        let writes = fns.iter().map(|f| vec![None; f.facts.params.len().min(64)]).collect();
        let mut writers = Writers { fns, writes };
        writers.direct_writes(judge);
        writers.propagate();
        writers
    }

    /// The function `id`.
    pub fn function(&self, id: FnId) -> &TreeFn {
        &self.fns[id]
    }

    /// Whether `id` writes through parameter `param`.
    pub fn writes_through(&self, id: FnId, param: usize) -> Option<&Write> {
        self.writes.get(id)?.get(param)?.as_ref()
    }

    fn direct_writes(&mut self, judge: &Judge<'_>) {
        for id in 0..self.fns.len() {
            let f = &self.fns[id];
            let scope = Scope { file: &f.file, module: &f.facts.module, owner: f.facts.owner.as_deref() };
            for sink in &f.facts.sinks {
                if sink.handle.taint.params == 0 {
                    continue;
                }
                let outside = self.resolve(id, &sink.kind) == Callee::External;
                let Some(evidence) = judge.direct_write(scope, sink, outside) else { continue };
                for param in sink.handle.taint.param_indices() {
                    if let Some(slot) = self.writes[id].get_mut(param) {
                        slot.get_or_insert(Write::Direct {
                            line: sink.range.start.line,
                            evidence: evidence.clone(),
                        });
                    }
                }
            }
        }
    }

    fn propagate(&mut self) {
        // Each round can only add writes; there are at most 64 per function.
        loop {
            let mut changed = false;
            for id in 0..self.fns.len() {
                for sink in &self.fns[id].facts.sinks {
                    let SinkKind::Call { arg, .. } = &sink.kind else { continue };
                    if sink.handle.taint.params == 0 {
                        continue;
                    }
                    let Callee::Tree(callees) = self.resolve(id, &sink.kind) else { continue };
                    let Some(&callee) = callees.iter().find(|&&c| self.writes_through(c, *arg).is_some())
                    else {
                        continue;
                    };
                    for param in sink.handle.taint.param_indices() {
                        let slot = self.writes[id].get(param);
                        if matches!(slot, Some(None)) {
                            self.writes[id][param] =
                                Some(Write::Call { line: sink.range.start.line, callee, param: *arg });
                            changed = true;
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// The functions a call sink of function `caller` may mean.
    pub fn resolve(&self, caller: FnId, call: &SinkKind) -> Callee {
        let SinkKind::Call { callee, method, builder, .. } = call else { return Callee::External };
        if builder.is_some() {
            // An ORM executor (`.execute(conn)` on `diesel::update(…)`), not a function of the tree.
            return Callee::External;
        }
        let from = &self.fns[caller];
        let Some((name, qualifiers)) = callee.split_last() else { return Callee::External };
        // Only functions with a body can be judged: a trait's declaration without a default body
        // is not a candidate (its impls are).
        let named = self.fns.iter().enumerate().filter(|(_, f)| &f.facts.name == name && f.facts.has_body);
        let found: Vec<FnId> = if *method {
            named.filter(|(_, f)| f.facts.owner.is_some()).map(|(i, _)| i).collect()
        } else {
            let qualifier =
                qualifiers.iter().rev().find(|q| !matches!(q.as_str(), "crate" | "super" | "self"));
            match qualifier.map(String::as_str) {
                Some("Self") => {
                    named.filter(|(_, f)| f.facts.owner == from.facts.owner).map(|(i, _)| i).collect()
                }
                Some(q) if q.starts_with(char::is_uppercase) => {
                    let owned: Vec<FnId> = named
                        .clone()
                        .filter(|(_, f)| f.facts.owner.as_deref() == Some(q))
                        .map(|(i, _)| i)
                        .collect();
                    // `Crud::create(..)` of a trait that only declares it, or `T::create(..)` on a
                    // type parameter: any implementation of that name may be meant.
                    let trait_decl = self.fns.iter().any(|f| {
                        &f.facts.name == name && !f.facts.has_body && f.facts.owner.as_deref() == Some(q)
                    });
                    let type_param = q.len() == 1;
                    // `Post::delete(..)` where `Post` has no `delete` of its own: a trait's
                    // default body (`impl Crud for Post {}`) is meant; which trait, syntax cannot
                    // say, so every method of that name is a candidate.
                    let inherited = owned.is_empty();
                    if owned.is_empty() && (trait_decl || type_param || inherited) {
                        named.filter(|(_, f)| f.facts.owner.is_some()).map(|(i, _)| i).collect()
                    } else {
                        owned
                    }
                }
                Some(q) => named
                    .filter(|(_, f)| f.facts.owner.is_none() && f.module.last().is_some_and(|m| m == q))
                    .map(|(i, _)| i)
                    .collect(),
                None => {
                    let free: Vec<(FnId, &TreeFn)> = named.filter(|(_, f)| f.facts.owner.is_none()).collect();
                    let local: Vec<FnId> = free
                        .iter()
                        .filter(|(_, f)| f.file == from.file && f.module == from.module)
                        .map(|(i, _)| *i)
                        .collect();
                    if local.is_empty() {
                        free.into_iter().map(|(i, _)| i).collect()
                    } else {
                        local
                    }
                }
            }
        };
        if found.is_empty() {
            Callee::External
        } else {
            Callee::Tree(found)
        }
    }

    /// The steps from a write through parameter `param` of `id` down to the SQL.
    pub fn chain(&self, id: FnId, param: usize) -> Vec<ChainStep> {
        let mut steps = Vec::new();
        let (mut id, mut param) = (id, param);
        while steps.len() < MAX_CHAIN {
            let f = &self.fns[id];
            match self.writes_through(id, param) {
                Some(Write::Direct { line, evidence }) => {
                    steps.push(step(f, *line, evidence.clone()));
                    break;
                }
                Some(Write::Call { line, callee, param: next }) => {
                    let target = &self.fns[*callee];
                    steps.push(step(f, *line, format!("passes it to `{}`", target.facts.display_name())));
                    (id, param) = (*callee, *next);
                }
                None => break,
            }
        }
        steps
    }
}

fn step(f: &TreeFn, line: u32, evidence: String) -> ChainStep {
    ChainStep { function: f.facts.display_name(), file: f.file.clone(), line, evidence }
}

/// The module path of a file from its path below a source root (`src/api/users.rs` ->
/// `api::users`; `lib.rs`, `main.rs` -> the crate root; `mod.rs` -> its directory).
pub fn file_module(path: &Path) -> Vec<String> {
    let mut parts: Vec<String> =
        path.iter().map(|c| c.to_string_lossy().into_owned()).skip_while(|c| c != "src").skip(1).collect();
    if parts.is_empty() {
        // Not below a `src/`: the file's own name is all we know.
        parts = path.file_name().map(|n| n.to_string_lossy().into_owned()).into_iter().collect();
    }
    if let Some(last) = parts.pop() {
        let stem = last.strip_suffix(".rs").unwrap_or(&last).to_string();
        if !matches!(stem.as_str(), "mod" | "lib" | "main") {
            parts.push(stem);
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::facts::{HandleUse, Sink, SqlText, Taint};
    use crate::config::RuleSet;
    use crate::index::ConstIndex;
    use crate::source::{Pos, TextRange};

    fn at(line: u32) -> TextRange {
        let pos = Pos { line, column: 1, offset: 0 };
        TextRange { start: pos, end: pos }
    }

    fn sql_sink(line: u32, param: usize, sql: &str) -> Sink {
        Sink {
            range: at(line),
            handle: HandleUse { label: "db".into(), taint: Taint::param(param) },
            kind: SinkKind::Sql {
                text: SqlText::Lit(sql.into()),
                method: "execute".into(),
                known_method: true,
            },
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
            },
        }
    }

    fn function(file: &str, owner: Option<&str>, name: &str, params: &[&str], sinks: Vec<Sink>) -> TreeFn {
        TreeFn {
            file: PathBuf::from(file),
            module: file_module(Path::new(file)),
            facts: FnFacts {
                name: name.into(),
                owner: owner.map(String::from),
                module: Vec::new(),
                range: at(1),
                analysed: true,
                has_body: true,
                params: params.iter().map(|p| p.to_string()).collect(),
                returns: Taint::NONE,
                sinks,
                ro_bindings: 0,
            },
        }
    }

    fn summaries(fns: Vec<TreeFn>) -> Writers {
        let rules = RuleSet::builtin(Path::new("."));
        let index = ConstIndex::default();
        Writers::new(fns, &Judge::new(&rules, &index))
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
        assert!(
            matches!(writers.writes_through(3, 0), Some(Write::Direct { line: 12, .. })),
            "helper by name"
        );
        assert!(matches!(writers.writes_through(4, 0), Some(Write::Call { line: 15, callee: 0, param: 0 })));
        assert_eq!(
            writers.resolve(0, &fns[0].facts.sinks[0].kind),
            Callee::External,
            "an executor is no tree fn"
        );
    }

    #[test]
    fn file_modules() {
        assert_eq!(file_module(Path::new("src/api/users.rs")), ["api", "users"]);
        assert_eq!(file_module(Path::new("crates/x/src/api/mod.rs")), ["api"]);
        assert!(file_module(Path::new("src/main.rs")).is_empty());
        assert_eq!(file_module(Path::new("loose.rs")), ["loose"]);
    }
}
