//! The judge's part for calls whose callee has no body in the tree: an ORM write builder
//! executed on the handle, a model write (`active.save(&db)`, on a receiver that may be a model:
//! `hasher.update(bytes)` on `Sha256::new()` is none), a write helper by name, a read
//! executor of the rule set (`Entity::find_by_id(id).one(db)`), the handle's own method, or
//! else code outside the tree that nothing can be said about. For `migrate`, also whether such
//! code may query with a value it is given that is no handle (the accessor's owner,
//! [`may_query_with`]).
//!
//! Fed only by the rule set; never looks for the callee in the tree (that is
//! [`super::tree`]'s part, and a callee of the tree always wins over a name here).

use crate::analysis::facts::{Sink, SinkKind, TypeRef};
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
    let SinkKind::Call { callee, method, arg, args, builder, receiver, .. } = &sink.kind else {
        return OutsideVerdict::Read;
    };
    let Some(name) = callee.last() else { return OutsideVerdict::Unknown };
    if let Some(builder) = builder {
        return OutsideVerdict::Write(OutsideWrite::Builder {
            builder: builder.to_string(),
            executor: name.clone(),
        });
    }
    if *method
        && *arg == 1
        && *args == 1
        && rules.orm.model_writes.iter().any(|w| w == name)
        && may_be_a_model(rules, receiver.as_deref())
    {
        return OutsideVerdict::Write(OutsideWrite::Model { method: name.clone() });
    }
    if let Some(pattern) = rules.write_helpers.matching_path(callee) {
        return OutsideVerdict::Write(OutsideWrite::Helper {
            name: callee.join("::"),
            pattern: pattern.to_string(),
        });
    }
    if *method && (*arg == 0 || rules.orm.read_executors.iter().any(|r| r == name)) {
        return OutsideVerdict::Read;
    }
    // `drop(conn)`, `Error::Database(e)`, `Json(x)`: code that never queries with what it is
    // given (the rule set's `[outside] inert`), or data built around it.
    if is_constructor(callee) || is_inert(rules, callee) {
        return OutsideVerdict::Read;
    }
    OutsideVerdict::Unknown
}

/// Whether a method call's receiver, of type `receiver` as its function can tell, may be a
/// model of `[orm] models`: not when it is known to be of another type — built by an
/// associated function of a type that is no model (`Sha256::new()`,
/// `Hmac::<Sha224>::new_from_slice(key).unwrap()`, looked through the rule set's transparent
/// methods), or text, a scalar, a standard collection or a literal. A receiver of any other
/// type (a parameter's, a struct literal's, what a method returns) may be one: names of
/// declared types are not trusted to tell (a model imported under another name).
fn may_be_a_model(rules: &RuleSet, receiver: Option<&TypeRef>) -> bool {
    let Some(mut ty) = receiver else { return true };
    loop {
        match ty.unwrapped() {
            TypeRef::Returns { callee, on: Some(on) }
                if callee.len() == 1 && rules.transparent_methods.contains(&callee[0]) =>
            {
                ty = on
            }
            TypeRef::Returns { callee, on: None } => {
                return match &callee[..] {
                    [.., owner, _] if owner.starts_with(char::is_uppercase) => {
                        rules.orm.models.contains(owner)
                    }
                    _ => true,
                };
            }
            other => return other.may_hold_a_handle(),
        }
    }
}

/// For `migrate`: whether the call of code outside the tree at `sink` may run queries with
/// the value it is given there (the accessor's owner `&context`, or a read-write handle), for
/// it might call back into the tree (activitypub-federation's `id.dereference(&context)`).
/// Not when the value is the receiver (its own method: a getter, `Deref`, `clone`), or the
/// judge says the call reads: a read executor, a constructor (`Json(x)`, `Some(x)`: a
/// CamelCase last segment), a path of the rule set's `[outside] inert` list (std, serde,
/// tracing).
pub fn may_query_with(rules: &RuleSet, sink: &Sink) -> bool {
    let SinkKind::Call { method, arg, .. } = &sink.kind else { return false };
    !(*method && *arg == 0) && judge(rules, sink) != OutsideVerdict::Read
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
    use crate::analysis::facts::{HandleUse, Taint, TypeRef};

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
                flags: Default::default(),
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
        assert_eq!(judge(call("serde_json::to_json", false, 0, 1, None)), OutsideVerdict::Read, "inert");
        assert_eq!(judge(call("drop", false, 0, 1, None)), OutsideVerdict::Read, "inert");
        assert_eq!(judge(call("Error::Database", false, 0, 1, None)), OutsideVerdict::Read, "a variant");
        assert_eq!(judge(call("webhooks::notify", false, 0, 1, None)), OutsideVerdict::Unknown);
        assert_eq!(
            judge(call("one", false, 0, 1, None)),
            OutsideVerdict::Unknown,
            "a function, not a method"
        );
    }

    #[test]
    fn a_model_write_needs_a_receiver_that_may_be_a_model() {
        let rules = RuleSet::builtin(Path::new("."));
        let on = |receiver: Option<TypeRef>| {
            let mut sink = call("update", true, 1, 1, None);
            if let SinkKind::Call { receiver: r, .. } = &mut sink.kind {
                *r = receiver.map(std::sync::Arc::new);
            }
            matches!(judge(&rules, &sink), OutsideVerdict::Write(OutsideWrite::Model { .. }))
        };
        let path = |p: &str| p.split("::").map(String::from).collect::<std::sync::Arc<[String]>>();
        let built_by = |p: &str| TypeRef::Returns { callee: path(p), on: None };
        let method =
            |m: &str, on: TypeRef| TypeRef::Returns { callee: [m.to_string()].into(), on: Some(on.into()) };
        assert!(on(None), "a receiver of unknown type");
        assert!(on(Some(TypeRef::Named(path("api_token::ActiveModel")))), "a model named by its type");
        assert!(on(Some(TypeRef::Named(path("Token")))), "a declared type may be a model imported renamed");
        assert!(on(Some(built_by("api_token::ActiveModel::new"))), "a model built by `ActiveModel::new()`");
        assert!(
            on(Some(method("into_active_model", TypeRef::Named(path("Model"))))),
            "what a method returns"
        );
        assert!(!on(Some(built_by("Sha256::new"))), "`Sha256::new()` builds no model");
        assert!(
            !on(Some(method("unwrap", built_by("Hmac::new_from_slice")))),
            "`Hmac::<Sha224>::new_from_slice(key).unwrap()`: through a transparent method"
        );
        assert!(!on(Some(TypeRef::Named(path("std::collections::HashSet")))), "a standard collection");
        assert!(!on(Some(TypeRef::Outside)), "a literal");
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
