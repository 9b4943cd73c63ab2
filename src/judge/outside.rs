//! The judge's part for calls whose callee has no body in the tree: an ORM write builder
//! executed on the handle, a model write (`active.save(&db)`), a write helper by name, a read
//! executor of the rule set (`Entity::find_by_id(id).one(db)`), the handle's own method, or
//! else code outside the tree that nothing can be said about. For `migrate`, also whether such
//! code may query with a value it is given that is no handle (the accessor's owner,
//! [`may_query_with`]).
//!
//! Fed only by the rule set; never looks for the callee in the tree (that is
//! [`super::tree`]'s part, and a callee of the tree always wins over a name here).

use crate::analysis::facts::{Sink, SinkKind};
use crate::config::RuleSet;

/// A write by code outside the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutsideWrite {
    /// An ORM write builder run by an executor method.
    Builder {
        /// `diesel::update(…)`.
        builder: String,
        /// `execute`.
        executor: String,
    },
    /// A model write method given the handle (`active.save(&db)`).
    Model {
        /// `save`.
        method: String,
    },
    /// A function whose name matches a write-helper pattern.
    Helper {
        /// The callee as written.
        name: String,
        /// The pattern.
        pattern: String,
    },
}

impl OutsideWrite {
    /// The evidence of a chain step or finding.
    pub fn evidence(&self, handle: &str) -> String {
        match self {
            OutsideWrite::Builder { builder, executor } => format!("{builder} … .{executor}({handle})"),
            OutsideWrite::Model { method } => format!(".{method}({handle}) (model write)"),
            OutsideWrite::Helper { name, pattern } => format!("call of `{name}` (write helper `{pattern}`)"),
        }
    }
}

/// What a call outside the tree does with the handle it is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutsideVerdict {
    /// It writes.
    Write(OutsideWrite),
    /// It reads: a read executor of the rule set, or the handle's own method (whatever SQL it
    /// runs is judged at the SQL sink).
    Read,
    /// Code outside the tree gets the handle; nothing in the rule set says what it does.
    Unknown,
}

/// Judges a call sink whose callee has no body in the tree.
pub fn judge(rules: &RuleSet, sink: &Sink) -> OutsideVerdict {
    let SinkKind::Call { callee, method, arg, args, builder, .. } = &sink.kind else {
        return OutsideVerdict::Read;
    };
    let Some(name) = callee.last() else { return OutsideVerdict::Unknown };
    if let Some(builder) = builder {
        return OutsideVerdict::Write(OutsideWrite::Builder {
            builder: builder.to_string(),
            executor: name.clone(),
        });
    }
    if *method && *arg == 1 && *args == 1 && rules.orm.model_writes.iter().any(|w| w == name) {
        return OutsideVerdict::Write(OutsideWrite::Model { method: name.clone() });
    }
    if let Some(pattern) = rules.write_helpers.matching(name) {
        return OutsideVerdict::Write(OutsideWrite::Helper {
            name: callee.join("::"),
            pattern: pattern.to_string(),
        });
    }
    if *method && (*arg == 0 || rules.orm.read_executors.iter().any(|r| r == name)) {
        return OutsideVerdict::Read;
    }
    OutsideVerdict::Unknown
}

/// For `migrate`: whether the call of code outside the tree at `sink` may run queries with
/// the value it is given there (the accessor's owner `&context`, or a read-write handle), for
/// it might call back into the tree (activitypub-federation's `id.dereference(&context)`).
/// Not when the value is the receiver (its own method: a getter, `Deref`, `clone`), the callee
/// is a read executor, a constructor (`Json(x)`, `Some(x)`: a CamelCase last segment), or a
/// path of the rule set's `[outside] inert` list (std, serde, tracing).
pub fn may_query_with(rules: &RuleSet, sink: &Sink) -> bool {
    let SinkKind::Call { callee, method, arg, .. } = &sink.kind else { return false };
    if (*method && *arg == 0) || is_constructor(callee) || is_inert(rules, callee) {
        return false;
    }
    judge(rules, sink) != OutsideVerdict::Read
}

/// A tuple struct or enum variant built (`Json(x)`, `DbConn::Pool(p)`): data, no code.
fn is_constructor(callee: &[String]) -> bool {
    callee.last().and_then(|s| s.chars().next()).is_some_and(char::is_uppercase)
}

/// Whether an entry of `[outside] inert` is a prefix of the callee as written.
fn is_inert(rules: &RuleSet, callee: &[String]) -> bool {
    rules.inert_calls.iter().any(|entry| {
        let entry: Vec<&str> = entry.split("::").collect();
        entry.len() <= callee.len() && entry.iter().zip(callee).all(|(e, c)| e == c)
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::analysis::facts::{HandleUse, Taint};

    fn call(callee: &str, method: bool, arg: usize, args: usize, builder: Option<&str>) -> Sink {
        Sink {
            range: Default::default(),
            handle: HandleUse { label: "db".into(), taint: Taint::NONE },
            kind: SinkKind::Call {
                callee: callee.split("::").map(String::from).collect(),
                method,
                arg,
                args,
                builder: builder.map(Box::from),
                receiver: None,
            },
        }
    }

    #[test]
    fn writes_reads_and_unknown_calls() {
        let rules = RuleSet::builtin(Path::new("."));
        let judge = |s: Sink| judge(&rules, &s);
        assert!(matches!(
            judge(call("execute", true, 1, 1, Some("diesel::update(…)"))),
            OutsideVerdict::Write(OutsideWrite::Builder { .. })
        ));
        assert!(matches!(
            judge(call("save", true, 1, 1, None)),
            OutsideVerdict::Write(OutsideWrite::Model { .. })
        ));
        assert_eq!(
            judge(call("save", true, 1, 2, None)),
            OutsideVerdict::Unknown,
            "two arguments: no model write"
        );
        assert!(matches!(
            judge(call("audit::write_audit", false, 0, 2, None)),
            OutsideVerdict::Write(OutsideWrite::Helper { .. })
        ));
        assert_eq!(judge(call("one", true, 1, 1, None)), OutsideVerdict::Read, "sea-orm read executor");
        assert_eq!(judge(call("first", true, 1, 1, None)), OutsideVerdict::Read, "diesel read executor");
        assert_eq!(judge(call("commit", true, 0, 0, None)), OutsideVerdict::Read, "the handle's own method");
        assert_eq!(judge(call("serde_json::to_string", false, 0, 1, None)), OutsideVerdict::Unknown);
        assert_eq!(
            judge(call("one", false, 0, 1, None)),
            OutsideVerdict::Unknown,
            "a function, not a method"
        );
    }

    #[test]
    fn what_outside_code_may_query_with_a_value_it_is_given() {
        let rules = RuleSet::builtin(Path::new("."));
        let may = |s: Sink| may_query_with(&rules, &s);
        assert!(may(call("dereference", true, 1, 1, None)), "a method given the owner");
        assert!(may(call("webfinger_resolve_actor", false, 1, 2, None)), "a function given it");
        assert!(may(call("audit::write_audit", false, 0, 1, None)), "a write helper");
        assert!(!may(call("settings", true, 0, 0, None)), "the value's own method");
        assert!(!may(call("first", true, 1, 1, None)), "a read executor");
        assert!(!may(call("Json", false, 0, 1, None)), "a constructor");
        assert!(!may(call("DbConn::Pool", false, 0, 1, None)), "an enum variant");
        assert!(!may(call("serde_json::to_string", false, 0, 1, None)), "inert by the rule set");
        assert!(!may(call("std::mem::take", false, 0, 1, None)), "std");
        assert!(!may(call("drop", false, 0, 1, None)), "a one-segment inert name");
        assert!(may(call("tracing_ext::record", false, 0, 1, None)), "a prefix is whole segments");
    }
}
