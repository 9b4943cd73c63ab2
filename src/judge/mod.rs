//! The one judge: does this use of a handle write, and why. `ro-write-sql`, `ro-write-call`,
//! the writer summaries and `migrate`'s classifier all ask it, so `check` and `migrate` can
//! never disagree about a handler.
//!
//! A use is a sink of the analysis (SQL run on a handle, a handle given to a call). The judge
//! answers from the rule set and the tree only: [`sql`] for SQL text, [`tree`] for calls into
//! the tree (their write summaries), [`outside`] for calls whose body is not in the tree (ORM
//! write builders executed, model writes, write helpers by name, read executors). For
//! `migrate` only, it also answers whether a call reaches a write through a read-write handle
//! of the callee's own ([`Judge::own_write`]).
//!
//! Never reports, never rewrites, never reads Rust files: it only answers. (The tree's SQL
//! files, where its SQL functions are defined, are read once by [`SqlFunctions`] when a
//! statement that otherwise reads calls a function.)

pub mod outside;
pub mod sql;
pub mod tree;

use std::path::Path;

use crate::analysis::facts::{FnFacts, Sink, SinkKind, SqlText};
use crate::config::RuleSet;
use crate::index::{ConstIndex, Scope};
use crate::sql::SqlFunctions;
use crate::writers::{FnId, Writers};

pub use outside::{OutsideVerdict, OutsideWrite};
pub use sql::SqlVerdict;
pub use tree::{OwnTreeWrite, TreeVerdict, TreeWrite};

/// The judge: the rule set and the consts of the tree.
#[derive(Debug, Clone, Copy)]
pub struct Judge<'a> {
    /// Every name it matches.
    pub rules: &'a RuleSet,
    /// Consts, for SQL text built from them.
    pub index: &'a ConstIndex,
    /// The SQL functions the tree's SQL files define.
    pub functions: &'a SqlFunctions,
}

/// Where a sink is: its file and function (and the function's id in the summaries).
#[derive(Debug, Clone, Copy)]
pub struct Site<'s> {
    /// The file, as walked.
    pub file: &'s Path,
    /// The function holding the sink.
    pub function: &'s FnFacts,
    /// Its id in [`Writers`], when it has one.
    pub id: Option<FnId>,
}

impl Site<'_> {
    /// The scope consts are looked up from.
    pub fn scope(&self) -> Scope<'_> {
        Scope { file: self.file, module: &self.function.module, owner: self.function.owner.as_deref() }
    }
}

/// What one use of a handle does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Write SQL runs on the handle.
    WriteSql {
        /// The expansion of the text that writes.
        text: String,
        /// Why it writes.
        write: crate::sql::Write,
    },
    /// A function of the tree writes through the handle it is given.
    TreeWrite(TreeWrite),
    /// Code outside the tree writes with it (by the rule set).
    OutsideWrite(OutsideWrite),
    /// A known SQL method runs text that is not known statically.
    UnknownSql,
    /// The handle is given to code outside the tree that the rule set says nothing about.
    UnknownOutside,
    /// It is given to these functions of the tree, none of which writes through it.
    TreeRead(Vec<FnId>),
    /// It only reads.
    Read,
}

impl Verdict {
    /// Whether the judge knows it writes.
    pub fn writes(&self) -> bool {
        matches!(self, Verdict::WriteSql { .. } | Verdict::TreeWrite(_) | Verdict::OutsideWrite(_))
    }
}

impl<'a> Judge<'a> {
    /// A judge of the rule set, with the consts of `index` and the SQL functions of
    /// `functions`.
    pub fn new(rules: &'a RuleSet, index: &'a ConstIndex, functions: &'a SqlFunctions) -> Judge<'a> {
        Judge { rules, index, functions }
    }

    /// What `sink` of `site` does with its handle, the tree's summaries known.
    pub fn sink(&self, writers: &Writers, site: Site<'_>, sink: &Sink) -> Verdict {
        match &sink.kind {
            SinkKind::Sql { text, known_method, .. } => match self.sql(site.scope(), text, *known_method) {
                SqlVerdict::Write { text, write } => Verdict::WriteSql { text, write },
                SqlVerdict::Unknown => Verdict::UnknownSql,
                SqlVerdict::Read => Verdict::Read,
            },
            SinkKind::Call { .. } => match tree::judge(writers, site.id, site.file, site.function, sink) {
                TreeVerdict::Write(write) => Verdict::TreeWrite(write),
                TreeVerdict::Read(candidates) => Verdict::TreeRead(candidates),
                TreeVerdict::Outside => match outside::judge(self.rules, sink) {
                    OutsideVerdict::Write(write) => Verdict::OutsideWrite(write),
                    OutsideVerdict::Read => Verdict::Read,
                    OutsideVerdict::Unknown => Verdict::UnknownOutside,
                },
            },
            // Settled by the writer summaries before any judging: nothing done with a handle.
            SinkKind::RunsText { .. } | SinkKind::TextGiven { .. } => Verdict::Read,
        }
    }

    /// For `migrate`: whether call `sink` of `site` runs a function of the tree that writes
    /// through a read-write handle of its own, whatever the call passes (see
    /// [`tree::own_write`]; `check` never asks).
    pub fn own_write(&self, writers: &Writers, site: Site<'_>, sink: &Sink) -> Option<OwnTreeWrite> {
        tree::own_write(writers, site.id, site.file, site.function, sink)
    }

    /// What SQL `text` does, run through a method (`known_method`: an SQL method of the rule
    /// set) in `scope`.
    pub fn sql(&self, scope: Scope<'_>, text: &SqlText, known_method: bool) -> SqlVerdict {
        sql::judge(self.index, self.functions, scope, text, known_method)
    }

    /// For the writer summaries: the evidence of a write at `sink` itself (write SQL, or a
    /// call of code outside the tree that writes), without following calls into the tree.
    /// `outside`: the call resolves to no function of the tree.
    pub fn direct_write(&self, site_scope: Scope<'_>, sink: &Sink, outside: bool) -> Option<String> {
        match &sink.kind {
            SinkKind::Sql { text, known_method, .. } => match self.sql(site_scope, text, *known_method) {
                SqlVerdict::Write { text, .. } => Some(text),
                _ => None,
            },
            SinkKind::Call { .. } if outside => match outside::judge(self.rules, sink) {
                OutsideVerdict::Write(write) => Some(write.evidence(&sink.handle.label)),
                _ => None,
            },
            SinkKind::Call { .. } | SinkKind::RunsText { .. } | SinkKind::TextGiven { .. } => None,
        }
    }
}
