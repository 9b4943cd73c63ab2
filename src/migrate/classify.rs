//! Classifying a GET handler by what its body does with read-write handles (DESIGN,
//! "`ro-audit migrate`"): `pure-read`, `mixed` (with every reason and its line), `no-db`,
//! `already-ro`, `opted-out`, and the route verdicts `not-get-only` and `unresolved`.
//!
//! Works on owned facts only: the handler's [`FnFacts`] (its read-write-tainted sinks), the
//! [`Writers`] summaries of the tree, and the name uses of [`super::scan`].

use serde::Serialize;

use super::scan::{FileScan, MigrateNames, NameUse};
use crate::analysis::facts::{FnFacts, Sink, SinkKind};
use crate::config::RuleSet;
use crate::diagnostics::ChainStep;
use crate::index::{ConstIndex, Scope};
use crate::source::TextRange;
use crate::sql::{self, Verdict};
use crate::writers::{Callee, FnId, Writers};

/// A handler's class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// Uses a read-write handle and only reads: rewritten.
    PureRead,
    /// Writes, or might: listed with the reasons.
    Mixed,
    /// No accessor or handle type at all.
    NoDb,
    /// Only read-only accessors and types.
    AlreadyRo,
    /// An `allow(migrate)` comment opts it out.
    OptedOut,
    /// Some route serves another method too.
    NotGetOnly,
    /// The route names no function of the tree.
    Unresolved,
    /// Rewritten, then reverted by `--verify` because the tree stopped compiling.
    RewriteFailed,
}

impl Class {
    /// As printed.
    pub fn label(self) -> &'static str {
        match self {
            Class::PureRead => "pure-read",
            Class::Mixed => "mixed",
            Class::NoDb => "no-db",
            Class::AlreadyRo => "already-ro",
            Class::OptedOut => "opted-out",
            Class::NotGetOnly => "not-get-only",
            Class::Unresolved => "unresolved",
            Class::RewriteFailed => "rewrite-failed",
        }
    }
}

/// Why a handler is `mixed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The line in the handler's file.
    pub line: u32,
    /// What happens there.
    pub message: String,
    /// For a tree writer receiving the handle: the steps down to the write.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<ChainStep>,
}

/// What the classification needs from the whole run.
pub struct Context<'a> {
    /// The rule set.
    pub rules: &'a RuleSet,
    /// Its names for `migrate`.
    pub names: &'a MigrateNames,
    /// Write summaries.
    pub writers: &'a Writers,
    /// Consts of the parsed files.
    pub index: &'a ConstIndex,
    /// Read-write-typed parameters, per function of [`Writers`] (bit per parameter).
    pub rw_params: &'a dyn Fn(FnId) -> u64,
    /// `--trust-external`.
    pub trust_external: bool,
}

/// The body a handler's uses and sinks are taken from.
pub struct Body<'a> {
    /// The handler's function facts (for a closure: the enclosing function's).
    pub facts: Option<&'a FnFacts>,
    /// Its id in [`Writers`].
    pub id: Option<FnId>,
    /// The range whose sinks and uses count (the function's item, or the closure).
    pub range: TextRange,
    /// The file's scan.
    pub scan: &'a FileScan,
    /// The file's text.
    pub text: &'a str,
    /// The file, as walked.
    pub file: &'a std::path::Path,
}

fn inside(inner: TextRange, outer: TextRange) -> bool {
    inner.start.offset >= outer.start.offset && inner.end.offset <= outer.end.offset
}

/// The class of a resolved GET-only handler that is not opted out, its reasons, and the uses
/// to rewrite (only for `pure-read`).
pub fn classify(ctx: &Context<'_>, body: &Body<'_>) -> (Class, Vec<Reason>, Vec<NameUse>) {
    let uses: Vec<&NameUse> = body.scan.uses.iter().filter(|u| inside(u.range, body.range)).collect();
    let rw: Vec<NameUse> = uses.iter().filter(|u| u.rw).map(|u| (*u).clone()).collect();
    if rw.is_empty() {
        let class = if uses.is_empty() { Class::NoDb } else { Class::AlreadyRo };
        return (class, Vec::new(), Vec::new());
    }
    let mut reasons = Vec::new();
    for u in &rw {
        let twin = match u.kind {
            super::scan::UseKind::Type { .. } => ctx.names.rw_types.get(&u.name),
            _ => ctx.names.rw_accessors.get(&u.name),
        };
        if !matches!(twin, Some(Some(_))) {
            let table =
                if matches!(u.kind, super::scan::UseKind::Type { .. }) { "types" } else { "accessors" };
            reasons.push(Reason {
                line: u.range.start.line,
                message: format!("`{}` has no read-only twin in [{table}.migrate]", u.name),
                chain: Vec::new(),
            });
        }
    }
    if let Some(facts) = body.facts {
        for sink in facts.sinks.iter().filter(|s| inside(s.range, body.range)) {
            if sink.handle.taint.rw.is_none() {
                continue;
            }
            if let Some(reason) = sink_reason(ctx, body, facts, sink) {
                reasons.push(reason);
            }
        }
    }
    reasons.sort_by(|a, b| (a.line, &a.message).cmp(&(b.line, &b.message)));
    reasons.dedup();
    if reasons.is_empty() {
        (Class::PureRead, Vec::new(), rw)
    } else {
        (Class::Mixed, reasons, Vec::new())
    }
}

fn sink_reason(ctx: &Context<'_>, body: &Body<'_>, facts: &FnFacts, sink: &Sink) -> Option<Reason> {
    let line = sink.range.start.line;
    let reason = |message: String| Some(Reason { line, message, chain: Vec::new() });
    let handle = &sink.handle.label;
    match &sink.kind {
        SinkKind::Sql { text, known_method, .. } => {
            let scope = Scope { file: body.file, module: &facts.module, owner: facts.owner.as_deref() };
            let candidates = ctx.index.expand(scope, text);
            let write = candidates.iter().find(|c| {
                !crate::index::is_unknown(c)
                    && (*known_method || sql::looks_like_sql(c))
                    && matches!(sql::classify(c), Verdict::Write(_))
            });
            if let Some(sql) = write {
                return reason(format!("write SQL on `{handle}`: {}", one_line(sql)));
            }
            if *known_method
                && !candidates.is_empty()
                && candidates.iter().all(|c| crate::index::is_unknown(c))
            {
                return reason(format!("SQL on `{handle}` whose text is not known statically"));
            }
            None
        }
        SinkKind::Call { callee, method, arg, .. } => {
            let name = callee.last()?;
            let chain_text = body.text.get(sink.range.bytes()).unwrap_or("");
            if *method && *arg >= 1 {
                if let Some(builder) = write_builder(name, chain_text) {
                    return reason(format!("write builder `{builder}` executed on `{handle}`"));
                }
            }
            let resolved = body.id.map(|id| ctx.writers.resolve(id, &sink.kind)).unwrap_or(Callee::External);
            match resolved {
                Callee::Tree(candidates) => {
                    if let Some(&w) =
                        candidates.iter().find(|&&c| ctx.writers.writes_through(c, *arg).is_some())
                    {
                        let target = ctx.writers.function(w);
                        let mut chain = vec![ChainStep {
                            function: facts.display_name(),
                            file: body.file.to_path_buf(),
                            line,
                            evidence: format!("passes `{handle}` to `{}`", target.facts.display_name()),
                        }];
                        chain.extend(ctx.writers.chain(w, *arg));
                        let path: Vec<String> = chain.iter().map(|s| s.function.clone()).collect();
                        let last = chain.last().map(|s| s.evidence.clone()).unwrap_or_default();
                        return Some(Reason {
                            line,
                            message: format!(
                                "passes `{handle}` to `{}`, which writes ({} → {})",
                                target.facts.display_name(),
                                path.join(" → "),
                                one_line(&last)
                            ),
                            chain,
                        });
                    }
                    if let Some(&t) =
                        candidates.iter().find(|&&c| (ctx.rw_params)(c) & (1u64 << (*arg).min(63)) != 0)
                    {
                        return reason(format!(
                            "passes `{handle}` to `{}`, whose parameter has a read-write type: the rewrite would not compile",
                            ctx.writers.function(t).facts.display_name()
                        ));
                    }
                    None
                }
                Callee::External => {
                    if *method && *arg == 0 {
                        // The handle's own method (`commit`, `query` with a prepared statement):
                        // what it runs is judged at the SQL sinks.
                        return None;
                    }
                    if let Some(pattern) = ctx.rules.write_helpers.matching(name) {
                        return reason(format!(
                            "passes `{handle}` to `{}`, a write helper by its name (pattern `{pattern}`)",
                            callee.join("::")
                        ));
                    }
                    if ctx.trust_external {
                        return None;
                    }
                    reason(format!(
                        "passes `{handle}` to `{}`, outside the analysed tree (--trust-external to treat it as reading)",
                        callee.join("::")
                    ))
                }
            }
        }
    }
}

/// The write builder named in a call chain (`diesel::insert_into(t)…execute(&mut db)`), or the
/// method itself when it is one (sea-orm `model.insert(&db)`).
fn write_builder(method: &str, chain: &str) -> Option<String> {
    let builders = super::routes::write_builders();
    if builders.contains(&method) {
        return Some(method.to_string());
    }
    let bytes = chain.as_bytes();
    for b in builders {
        let mut from = 0;
        while let Some(i) = chain[from..].find(b) {
            let at = from + i;
            let end = at + b.len();
            let before_ok = at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
            let after = chain[end..].trim_start();
            if before_ok && (after.starts_with('(') || after.starts_with("::<")) {
                return Some(b.to_string());
            }
            from = end;
        }
    }
    None
}

fn one_line(text: &str) -> String {
    let folded: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.chars().count() > 80 {
        let cut: String = folded.chars().take(77).collect();
        format!("{cut}...")
    } else {
        folded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_builders_are_found_in_chains_as_calls_only() {
        assert_eq!(
            write_builder("execute", "diesel::insert_into(users::table).values(&u).execute(&mut db)"),
            Some("insert_into".into())
        );
        assert_eq!(write_builder("insert", "model.insert(&db)"), Some("insert".into()));
        assert_eq!(write_builder("load", "users.filter(updated.eq(true)).load(&mut db)"), None);
        assert_eq!(
            write_builder("execute", "diesel::update (t).set(x).execute(&mut db)"),
            Some("update".into())
        );
    }
}
