//! Classifying a GET handler by what its body does with read-write handles (DESIGN,
//! "`ro-audit migrate`"): `pure-read`, `mixed` (with every reason and its line), `no-db`,
//! `already-ro`, `opted-out`, and the route verdicts `not-get-only` and `unresolved`.
//!
//! Works on owned facts only: the handler's [`FnFacts`] (its read-write-tainted sinks), the
//! [`Writers`] summaries of the tree, and the name uses of [`super::scan`]. Whether a use
//! writes is never decided here: the one judge ([`crate::judge`]) answers, as for `check`.
//! A handler is `pure-read` only if nothing its calls reach writes through a read-write handle,
//! whatever the call passes (the accessor's owner, `&context`, included).

use serde::Serialize;

use super::escapes;
use super::scan::{FileScan, MigrateNames, NameUse};
use crate::analysis::facts::{FnFacts, Sink, SinkKind};
use crate::diagnostics::ChainStep;
use crate::judge::{Judge, OutsideWrite, Site, TreeWrite, Verdict};
use crate::source::TextRange;
use crate::sql::WriteReason;
use crate::writers::{FnId, Writers};

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
    /// The judge of every use of a handle.
    pub judge: &'a Judge<'a>,
    /// The rule set's names for `migrate`.
    pub names: &'a MigrateNames,
    /// Write summaries.
    pub writers: &'a Writers,
    /// Read-write-typed parameters, by function of [`Writers`] (bit per parameter).
    pub rw_params: &'a [u64],
    /// `--trust-external`.
    pub trust_external: bool,
    /// What the escape searches of this run have cleared.
    pub cleared: escapes::Cleared,
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
    /// The file, as walked.
    pub file: &'a std::path::Path,
}

fn inside(inner: TextRange, outer: TextRange) -> bool {
    inner.start.offset >= outer.start.offset && inner.end.offset <= outer.end.offset
}

/// Whether the handler at `range` of the file `scan` scanned names a read-write accessor or
/// type. Only such a handler's class asks what it, or anything it calls, does with a handle
/// (the summaries): one naming none is `no-db` or `already-ro` whatever its callees do.
pub fn names_read_write(scan: &FileScan, range: TextRange) -> bool {
    scan.uses.iter().any(|u| u.rw && inside(u.range, range))
}

/// The class of a resolved GET-only handler that is not opted out, its reasons, and the uses
/// to rewrite (only for `pure-read`).
pub fn classify(ctx: &Context<'_>, body: &Body<'_>) -> (Class, Vec<Reason>, Vec<NameUse>) {
    let uses: Vec<&NameUse> = body.scan.uses.iter().filter(|u| inside(u.range, body.range)).collect();
    let rw: Vec<NameUse> = uses.iter().filter(|u| u.rw).map(|u| (*u).clone()).collect();
    // A handler naming no read-write handle ends here, before anything asks the summaries
    // (`names_read_write` tells the pipeline so before it builds them).
    if rw.is_empty() {
        let class = if uses.is_empty() { Class::NoDb } else { Class::AlreadyRo };
        return (class, Vec::new(), Vec::new());
    }
    let mut reasons = Vec::new();
    for u in &rw {
        if u.kind == super::scan::UseKind::Alias {
            reasons.push(Reason {
                line: u.range.start.line,
                message: format!(
                    "{} `{}` under an alias (`use … as …`), which migrate does not rewrite",
                    if ctx.names.rw_types.contains_key(&u.name) { "names" } else { "calls" },
                    u.name
                ),
                chain: Vec::new(),
            });
            continue;
        }
        if u.kind == super::scan::UseKind::TypeAlias {
            reasons.push(Reason {
                line: u.range.start.line,
                message: match &u.written {
                    Some(written) => format!(
                        "names `{written}` (`{}` under the name a `use` gives it), a type alias of a read-write handle type, which migrate does not rewrite",
                        u.name
                    ),
                    None => format!(
                        "names `{}`, a type alias of a read-write handle type, which migrate does not rewrite",
                        u.name
                    ),
                },
                chain: Vec::new(),
            });
            continue;
        }
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
        let sinks = || facts.sinks.iter().filter(|s| inside(s.range, body.range));
        let owners = escapes::owners(sinks());
        for sink in sinks() {
            // Its own uses of a read-write handle; and the writes on a read-only one, which
            // `check` reports: a handler that writes there is no pure read either.
            let taint = &sink.handle.taint;
            let own = match (taint.rw.is_some(), taint.ro.is_some()) {
                (true, _) => sink_reason(ctx, body, facts, sink, false),
                (false, true) => sink_reason(ctx, body, facts, sink, true),
                (false, false) => None,
            };
            let reason = own
                .or_else(|| reached_write(ctx, body, facts, sink))
                .or_else(|| escape_reason(ctx, body, facts, sink, owners));
            if let Some(reason) = reason {
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

/// Why the use `sink` makes the handler mixed, if it does; `writes_only`: only a write counts
/// (a read-only handle's use, which the rewrite does not change: its SQL not known statically,
/// or the handle handed to a read-write parameter or outside the tree, is as it was).
fn sink_reason(
    ctx: &Context<'_>,
    body: &Body<'_>,
    facts: &FnFacts,
    sink: &Sink,
    writes_only: bool,
) -> Option<Reason> {
    let line = sink.range.start.line;
    let reason = |message: String| Some(Reason { line, message, chain: Vec::new() });
    let handle = &sink.handle.label;
    let site = Site { file: body.file, function: facts, id: body.id };
    let SinkKind::Call { callee, arg, .. } = &sink.kind else {
        return match ctx.judge.sink(ctx.writers, site, sink) {
            Verdict::WriteSql { text, write } => {
                // Text that reads by itself names the SQL function of the tree that writes.
                let why = match write.why {
                    WriteReason::TreeFunction => format!(" — {}", write.what),
                    _ => String::new(),
                };
                reason(format!("write SQL on `{handle}`: {}{why}", one_line(&text)))
            }
            Verdict::UnknownSql if !writes_only => {
                reason(format!("SQL on `{handle}` whose text is not known statically"))
            }
            _ => None,
        };
    };
    match ctx.judge.sink(ctx.writers, site, sink) {
        Verdict::TreeWrite(write) => {
            Some(tree_reason(ctx, line, &format!("passes `{handle}` to"), "writes", write))
        }
        Verdict::TreeRead(candidates) if !writes_only => {
            let &t = candidates
                .iter()
                .find(|&&c| ctx.rw_params.get(c).copied().unwrap_or(0) & (1u64 << (*arg).min(63)) != 0)?;
            reason(format!(
                "passes `{handle}` to `{}`, whose parameter has a read-write type: the rewrite would not compile",
                ctx.writers.function(t).facts.display_name()
            ))
        }
        Verdict::OutsideWrite(OutsideWrite::Builder { builder, .. }) => {
            reason(format!("write builder `{builder}` executed on `{handle}`"))
        }
        Verdict::OutsideWrite(OutsideWrite::Model { method }) => {
            reason(format!("model write `.{method}({handle})` (a model write of the rule set)"))
        }
        Verdict::OutsideWrite(OutsideWrite::Helper { name, pattern }) => {
            reason(format!("passes `{handle}` to `{name}`, a write helper by its name (pattern `{pattern}`)"))
        }
        Verdict::UnknownOutside if !ctx.trust_external && !writes_only => reason(format!(
            "passes `{handle}` to `{}`, outside the analysed tree (--trust-external to treat it as reading)",
            callee.join("::")
        )),
        _ => None,
    }
}

/// A call of the handler, whatever it passes (the accessor's owner, `&context`), that runs a
/// function of the tree writing through a read-write handle of its own: after the rewrite that
/// write stays on the primary while the handler's reads move to the replica.
fn reached_write(ctx: &Context<'_>, body: &Body<'_>, facts: &FnFacts, sink: &Sink) -> Option<Reason> {
    let site = Site { file: body.file, function: facts, id: body.id };
    let own = ctx.judge.own_write(ctx.writers, site, sink)?;
    let writes = format!("writes through `{}`", own.handle);
    Some(tree_reason(ctx, sink.range.start.line, "calls", &writes, own.write))
}

/// A call handing the accessor's owner (or a read-write handle), directly or through functions
/// of the tree, to code outside the tree that may query with it (see [`escapes`]).
fn escape_reason(
    ctx: &Context<'_>,
    body: &Body<'_>,
    facts: &FnFacts,
    sink: &Sink,
    owners: u64,
) -> Option<Reason> {
    if ctx.trust_external {
        return None;
    }
    let escape = escapes::from_handler(
        ctx.judge.rules,
        ctx.writers,
        escapes::Handler { id: body.id?, file: body.file, facts },
        sink,
        owners,
        &ctx.cleared,
    )?;
    let path: Vec<&str> = escape.chain.iter().map(|s| s.function.as_str()).collect();
    Some(Reason {
        line: sink.range.start.line,
        message: format!(
            "passes `{}` to code outside the analysed tree that may query with it: `{}` ({} → {}) \
             (--trust-external to treat it as reading)",
            sink.handle.label,
            escape.callee,
            path.join(" → "),
            escape.callee
        ),
        chain: escape.chain,
    })
}

/// `passes `h` to `f`, which writes (h → f → … → SQL)` (`how`: `passes `h` to`, or `calls`
/// when what is passed does not matter), with the chain.
fn tree_reason(ctx: &Context<'_>, line: u32, how: &str, writes: &str, write: TreeWrite) -> Reason {
    let target = ctx.writers.function(write.writing[0]);
    let path: Vec<String> = write.chain.iter().map(|s| s.function.clone()).collect();
    let last = write.chain.last().map(|s| s.evidence.clone()).unwrap_or_default();
    Reason {
        line,
        message: format!(
            "{how} `{}`, which {writes} ({} → {})",
            target.facts.display_name(),
            path.join(" → "),
            one_line(&last)
        ),
        chain: write.chain,
    }
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
