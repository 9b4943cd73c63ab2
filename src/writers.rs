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
//! Per function it also keeps whether the function writes through a read-write handle of its
//! own (from a read-write accessor or type, whatever its parameters), by itself or through any
//! function its resolved calls reach: one witness, spread the same way. `migrate` asks it (a
//! handler reaching such a write is no pure read); `check` never does (that write is on no
//! read-only handle).
//!
//! This module is pure: it never reads files or parses; the pipeline feeds it the functions a
//! read-only binding can reach.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use crate::analysis::facts::{FlagArg, FlagArgs, FnFacts, Sink, SinkKind, TypeRef};
use crate::diagnostics::ChainStep;
use crate::index::Scope;
use crate::judge::Judge;
use crate::workspace::calls::{Answered, CallScope, Resolved, Typed};
use crate::workspace::crates::{CrateGraph, CrateId};
use crate::workspace::fns::TreeFns;
use crate::workspace::imports::Imports;
use crate::workspace::symbols::{Symbols, Ty};
use crate::workspace::Workspace;

use self::resolutions::{Callers, Delivered, Entry, Joined, Part, Resolutions};

/// Index of a function in [`Writers`].
pub type FnId = usize;

/// How many steps a chain may have (a witness chain never loops; this bounds its report).
const MAX_CHAIN: usize = 32;

/// One function of the tree.
#[derive(Debug, Clone)]
pub struct TreeFn {
    /// Its file (shared by the file's functions).
    pub file: Arc<Path>,
    /// Its crate, when the crate graph knows the file's package.
    pub krate: Option<CrateId>,
    /// Its module path: the file's module followed by inline modules (shared by the functions
    /// of one module of a file).
    pub module: Arc<[String]>,
    /// Its facts.
    pub facts: FnFacts,
}

/// What a callee gives its callers (see [`Writers::gives`]).
#[derive(Debug, Clone, Copy, Default)]
struct Gives {
    /// Bit `p`: a witness for parameter `p` that needs no flag.
    params: u64,
    /// A witness needing a flag, for some parameter.
    flagged: bool,
    /// Writes through a handle of its own.
    own: bool,
}

impl Gives {
    /// Whether giving this to a group's calls, which were given `delivered`, may change one.
    fn adds_to(self, delivered: Delivered) -> bool {
        self.flagged || self.params & !delivered.params != 0 || (self.own && !delivered.own)
    }
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
    /// It calls `callee`, which writes through a read-write handle of its own.
    Calls {
        /// Line of the call.
        line: u32,
        /// The callee.
        callee: FnId,
    },
}

/// The value of one of a function's `bool` parameters a witness holds only with (see
/// [`Writers::writes_through_call`]); `None`: it holds whatever the flags.
pub type Needs = Option<(u8, bool)>;

/// For write SQL at `sink` whose text one of its function's flags chooses (`if for_update {
/// "FOR UPDATE" } else { "" }`): the value of that flag the write needs, when only one value
/// writes. `None` for any other sink, or text chosen by several flags.
fn needed_flag(judge: &Judge<'_>, scope: Scope<'_>, sink: &Sink, outside: bool) -> Needs {
    let SinkKind::Sql { text, method, known_method } = &sink.kind else { return None };
    let flags = text.flag_params();
    if flags.count_ones() != 1 {
        return None;
    }
    let flag = flags.trailing_zeros() as u8;
    let writes = |value: bool| {
        let kind = SinkKind::Sql {
            text: text.assuming(flag, value),
            method: method.clone(),
            known_method: *known_method,
        };
        judge.direct_write(scope, &Sink { kind, ..sink.clone() }, outside).is_some()
    };
    match (writes(true), writes(false)) {
        (true, false) => Some((flag, true)),
        (false, true) => Some((flag, false)),
        _ => None,
    }
}

/// Why a function writes through a read-write handle of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnWrite {
    /// The witness: written directly, handed to a callee writing through that parameter, or a
    /// call of a function writing through a handle of its own.
    pub write: Write,
    /// The read-write handle written through at the end of the chain, as written there
    /// (`context.pool()`).
    pub handle: String,
}

/// Which witness a chain follows: a parameter's, or the function's own writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Param(usize),
    Own,
}

/// A call with a handle that could not be pinned to functions of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnresolvedCall {
    /// The calling function.
    pub caller: FnId,
    /// The line of the call.
    pub line: u32,
    /// The callee as written.
    pub callee: String,
    /// Why it is unresolved.
    pub why: String,
}

/// Write summaries of the functions of the tree.
#[derive(Debug, Default)]
pub struct Writers {
    fns: TreeFns,
    symbols: Symbols,
    crates: CrateGraph,
    imports: Imports,
    /// Per function, per sink: what the call resolves to (calls only).
    resolved: Resolutions,
    /// Per function, per parameter (up to 64): why it is written through (one witness).
    writes: Vec<Vec<Option<Write>>>,
    /// The witnesses of `writes` that hold only when a `bool` parameter of their function has
    /// a value (`SELECT … FOR UPDATE` chosen by `for_update`): (function, parameter) → (flag
    /// parameter, value). Empty in a tree without such text.
    conds: HashMap<(FnId, usize), (u8, bool)>,
    /// Per function: why it writes through a read-write handle of its own (one witness).
    own: Vec<Option<OwnWrite>>,
    unresolved: Vec<UnresolvedCall>,
    /// Set by [`Writers::spread_through_unpinned`]: a method call that could not be pinned
    /// may run any method of the tree of that name and arity.
    unpinned_any: bool,
}

/// What a call resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callee {
    /// No function of the tree is meant (or which one cannot be told: see
    /// [`Writers::unresolved`]); judged by the rule set's tables.
    External,
    /// Exactly these functions may be meant (several: a trait's implementations, or an
    /// unqualified free function of several modules).
    Tree(Vec<FnId>),
}

impl Writers {
    /// Summarises `fns` (no workspace: calls resolve by name and path); what each sink does
    /// by itself is the judge's answer.
    pub fn new(fns: Vec<TreeFn>, judge: &Judge<'_>) -> Writers {
        Self::in_workspace(fns.into(), Workspace::default(), judge)
    }

    /// Summarises `fns` of `workspace` (its crates, types and impls resolve calls by type).
    pub fn in_workspace(fns: TreeFns, workspace: Workspace, judge: &Judge<'_>) -> Writers {
        let (symbols, crates, imports) = workspace.into_index(&fns);
        let writes = fns.iter().map(|f| vec![None; f.facts.params.len().min(64)]).collect();
        let own = vec![None; fns.len()];
        let mut writers = Writers {
            fns,
            symbols,
            crates,
            imports,
            resolved: Resolutions::default(),
            writes,
            conds: HashMap::new(),
            own,
            unresolved: Vec::new(),
            unpinned_any: false,
        };
        let (resolved, unresolved, text_marks) = writers.resolve_all();
        writers.settle(resolved, unresolved, text_marks);
        writers.direct_writes(judge);
        writers.propagate(None);
        writers
    }

    /// Holds `fns` without summarising them: every call judged as outside the tree, no
    /// parameter or function written through. For `migrate` when no handler names a
    /// read-write handle, whose classes then never ask.
    pub fn unsummarised(fns: TreeFns) -> Writers {
        let resolved = Resolutions::external(fns.iter().map(|f| f.facts.sinks.len()));
        Writers { fns, resolved, ..Writers::default() }
    }

    /// Settles the handles calls and fields may have derived (see [`derived`]), then the SQL
    /// text handed to functions that run it (see [`text_runs`]), with every call sink
    /// `resolved` (and `unresolved`) before settling: the resolutions then follow the sinks
    /// settling kept, and the calls of a function whose sinks were rewritten are resolved again.
    /// `text_marks`: whether resolving met a sink [`text_runs`] settles (none: nothing to do).
    fn settle(&mut self, resolved: Resolutions, unresolved: Vec<(usize, UnresolvedCall)>, text_marks: bool) {
        let (symbols, crates, imports) = (&self.symbols, &self.crates, &self.imports);
        let lookups = derived::Lookups {
            resolved: &resolved,
            // A field of a struct of the tree whose declared type holds no handle holds none; a
            // field of a type not known may.
            field_may_hold: |fns: &TreeFns, id: FnId, of: Option<&TypeRef>, name: &str| {
                let Some(base) = of else { return true };
                match (CallScope { fns, symbols, crates, imports }).type_of(id, base) {
                    Ty::Tree(owner) => {
                        let mut declared = symbols.field_types(&owner, name).peekable();
                        declared.peek().is_none() || declared.any(TypeRef::may_hold_a_handle)
                    }
                    _ => true,
                }
            },
        };
        let kept = derived::settle(&mut self.fns, lookups);
        let rewritten =
            text_runs::settle(&mut self.fns, text_marks, |fns: &TreeFns, id: FnId, call: &SinkKind| {
                CallScope { fns, symbols, crates, imports }.resolve(id, call)
            });
        let scope = self.scope();
        let mut fresh = Vec::with_capacity(rewritten.len());
        let mut again = Vec::new();
        for &id in &rewritten {
            let mut part = Part::default();
            resolve_sinks(&scope, id, &mut part, &mut again);
            fresh.push((id, part));
        }
        let dropped = |&(s, ref call): &(usize, UnresolvedCall)| {
            rewritten.binary_search(&call.caller).is_ok()
                || kept.binary_search_by_key(&call.caller, |(id, _)| *id).is_ok_and(|at| !kept[at].1[s])
        };
        let mut unresolved: Vec<UnresolvedCall> =
            unresolved.into_iter().filter(|u| !dropped(u)).map(|(_, call)| call).collect();
        unresolved.extend(again.into_iter().map(|(_, call)| call));
        // Stable: each function's calls stay in sink order.
        unresolved.sort_by_key(|call| call.caller);
        self.resolved = resolved.settled(&kept, fresh);
        self.unresolved = unresolved;
    }

    /// For `migrate`, whose `pure-read` must never be a guess: from now on a method call that
    /// could not be pinned to one type (the receiver's type unknown or an alias, several
    /// methods of that name) may run any method of the tree of that name and arity, and writes
    /// spread through such calls too. `check` never asks for this: it judges those calls by the
    /// rule set's tables (and lists them with `--explain-unresolved`).
    pub fn spread_through_unpinned(&mut self) {
        self.unpinned_any = true;
        let pinned = self.pin_unpinned();
        let fresh = self.resolved.callers_of(&pinned);
        self.propagate(Some(fresh));
    }

    /// Resolves each unpinned method call to the methods it may run (asked once per name and
    /// arity; the calls of one name and arity share one list of callees): the sinks it
    /// resolved, in function and sink order.
    fn pin_unpinned(&mut self) -> Vec<(FnId, usize)> {
        let scope = self.scope();
        let mut answers: HashMap<(&str, usize), usize> = HashMap::new();
        let mut found: Vec<Vec<FnId>> = Vec::new();
        let mut pins: Vec<(FnId, usize, usize)> = Vec::new();
        for id in 0..self.fns.len() {
            for s in 0..self.resolved.sinks(id) {
                if self.resolved.entry(id, s) != Entry::Unresolved {
                    continue;
                }
                let Some((name, args)) = unpinned_method(&self.fns[id].facts.sinks[s].kind) else { continue };
                let at = *answers.entry((name, args)).or_insert_with(|| {
                    found.push(scope.methods_fitting(name, args));
                    found.len() - 1
                });
                if !found[at].is_empty() {
                    pins.push((id, s, at));
                }
            }
        }
        let mut entries: Vec<Option<Entry>> = vec![None; found.len()];
        for &(id, s, at) in &pins {
            match entries[at] {
                Some(entry) => self.resolved.set_entry(id, s, entry),
                None => entries[at] = Some(self.resolved.set(id, s, &found[at])),
            }
        }
        pins.into_iter().map(|(id, s, _)| (id, s)).collect()
    }

    /// The methods of the tree an unpinned method call may run: those of its name taking as
    /// many arguments besides `self`; `None` for any other call, or when there are none.
    fn unpinned(&self, call: &SinkKind) -> Option<Vec<FnId>> {
        let (name, args) = unpinned_method(call)?;
        let found = self.scope().methods_fitting(name, args);
        (!found.is_empty()).then_some(found)
    }

    /// The function `id`.
    pub fn function(&self, id: FnId) -> &TreeFn {
        &self.fns[id]
    }

    /// Whether `id` writes through parameter `param`: the one witness kept.
    pub fn writes_through(&self, id: FnId, param: usize) -> Option<&Write> {
        self.writes.get(id)?.get(param)?.as_ref()
    }

    /// Whether a call passing `flags` writes through `id`'s parameter `param`: not when the
    /// only witness needs a flag the call passes the other value of (`get_states(conn, ids,
    /// false)` of a function that locks only `if for_update`). With the witness, the flag of
    /// the caller it still needs, when the call passes one of its own on.
    pub fn writes_through_call(&self, id: FnId, param: usize, flags: FlagArgs) -> Option<(&Write, Needs)> {
        let write = self.writes_through(id, param)?;
        let Some(&(flag, value)) = self.conds.get(&(id, param)) else { return Some((write, None)) };
        match flags.get(flag as usize) {
            FlagArg::Lit(given) if given != value => None,
            FlagArg::Param(own) => Some((write, Some((own, value)))),
            FlagArg::Lit(_) | FlagArg::Unknown => Some((write, None)),
        }
    }

    /// Whether `id`, or a function its resolved calls reach, writes through a read-write handle
    /// of its own: the one witness kept.
    pub fn writes_on_its_own(&self, id: FnId) -> Option<&OwnWrite> {
        self.own.get(id)?.as_ref()
    }

    /// Calls with a handle that could not be pinned to functions of the tree, in function order.
    pub fn unresolved(&self) -> &[UnresolvedCall] {
        &self.unresolved
    }

    fn scope(&self) -> CallScope<'_> {
        CallScope { fns: &self.fns, symbols: &self.symbols, crates: &self.crates, imports: &self.imports }
    }

    /// Resolves every call sink once (runs of functions in parallel: each resolution only
    /// reads; the sinks of one call answered once), stored flat; the calls that cannot be
    /// pinned with their sinks' indices, in function and sink order; and whether some sink is
    /// a mark of [`text_runs`] (noted here, where every sink is read anyway: a pass of its own
    /// over every sink of the tree costs a cache miss per sink).
    fn resolve_all(&self) -> (Resolutions, UnpinnedCalls, bool) {
        /// Functions per run resolved on one worker.
        const RUN: usize = 64;
        /// Runs resolved before their parts are joined: the parts of a whole large tree may
        /// hold many times what joining keeps (long callee lists stored once).
        const BATCH: usize = 256;
        let scope = self.scope();
        let n = self.fns.len();
        let runs = n.div_ceil(RUN);
        let mut joined = Joined::default();
        let mut unresolved = Vec::new();
        let mut marks = false;
        for batch in (0..runs).step_by(BATCH) {
            let parts: Vec<(Part, UnpinnedCalls, bool)> = (batch..runs.min(batch + BATCH))
                .into_par_iter()
                .map(|run| {
                    let mut part = Part::default();
                    let mut unresolved = Vec::new();
                    let mut marks = false;
                    for id in run * RUN..n.min(run * RUN + RUN) {
                        marks |= resolve_sinks(&scope, id, &mut part, &mut unresolved);
                    }
                    (part, unresolved, marks)
                })
                .collect();
            for (part, calls, run_marks) in parts {
                joined.add(part);
                unresolved.extend(calls);
                marks |= run_marks;
            }
        }
        (joined.finish(), unresolved, marks)
    }

    /// Records `write` as the witness of every parameter the handle of `id`'s sink `sink` came
    /// from, needing flag `needs` when given. A parameter keeps its first witness, unless that
    /// one needed a flag: a witness needing none replaces it, and one needing another flag or
    /// value makes it need none (the witness kept writes for some value of a flag either way).
    fn record(&mut self, id: FnId, sink: usize, write: impl Fn() -> Write, needs: Needs) -> bool {
        let mut changed = false;
        for param in self.fns[id].facts.sinks[sink].handle.taint.param_indices() {
            let Some(slot) = self.writes[id].get_mut(param) else { continue };
            let key = (id, param);
            match (slot.is_some(), self.conds.get(&key).copied()) {
                (false, _) => {
                    *slot = Some(write());
                    if let Some(needs) = needs {
                        self.conds.insert(key, needs);
                    }
                    changed = true;
                }
                (true, Some(had)) if needs != Some(had) => {
                    if needs.is_none() {
                        *slot = Some(write());
                    }
                    self.conds.remove(&key);
                    changed = true;
                }
                (true, _) => {}
            }
        }
        changed
    }

    fn record_own(&mut self, id: FnId, own: impl FnOnce() -> OwnWrite) -> bool {
        let slot = &mut self.own[id];
        let new = slot.is_none();
        if new {
            *slot = Some(own());
        }
        new
    }

    /// What each sink writes by itself: the judge asked for every function in parallel, the
    /// answers recorded in function and sink order.
    fn direct_writes(&mut self, judge: &Judge<'_>) {
        // Per function: (sink, line, evidence, the handle's label when it is a read-write one,
        // the flag the write needs).
        type Direct = (usize, u32, String, Option<String>, Needs);
        let fns = &self.fns;
        let found: Vec<Vec<Direct>> = (0..fns.len())
            .into_par_iter()
            .map(|id| (id, &fns[id]))
            .map(|(id, f)| {
                let mut found = Vec::new();
                for (s, sink) in f.facts.sinks.iter().enumerate() {
                    let rw = sink.handle.taint.rw.is_some();
                    if sink.handle.taint.params == 0 && !rw {
                        continue;
                    }
                    let scope =
                        Scope { file: &f.file, module: &f.facts.module, owner: f.facts.owner.as_deref() };
                    let outside = !matches!(self.resolved.entry(id, s), Entry::Tree { .. });
                    if let Some(evidence) = judge.direct_write(scope, sink, outside) {
                        // Read only now: the range is apart from what the judge reads.
                        let line = sink.range.start.line;
                        let needs = needed_flag(judge, scope, sink, outside);
                        found.push((s, line, evidence, rw.then(|| sink.handle.label.to_string()), needs));
                    }
                }
                found
            })
            .collect();
        for (id, writes) in found.into_iter().enumerate() {
            for (s, line, evidence, rw_handle, needs) in writes {
                if let Some(handle) = rw_handle {
                    let write = Write::Direct { line, evidence: evidence.clone() };
                    self.record_own(id, || OwnWrite { write, handle });
                }
                self.record(id, s, || Write::Direct { line, evidence: evidence.clone() }, needs);
            }
        }
    }

    /// Spreads writes from callees to callers along resolved calls, each call looked at once
    /// per newly writing callee: linear in the calls. `fresh`, when given, holds the only calls
    /// added since a spreading that reached its fixed point: a callee that has gained no
    /// witness since can change nothing through its other calls (its callers already hold
    /// what it gives, and witnesses are only ever added), so only its fresh calls are looked
    /// at. Everything else goes as in a spreading from scratch — the same queue, in the same
    /// order — so the witnesses kept are the same.
    fn propagate(&mut self, mut fresh: Option<Callers>) {
        let mut all: Option<Callers> = None;
        let start: Vec<FnId> = (0..self.fns.len())
            .filter(|&id| self.own[id].is_some() || self.writes[id].iter().any(Option::is_some))
            .collect();
        // Per function: whether it gained a witness in this spreading.
        let mut gained = vec![false; self.fns.len()];
        let mut queue = VecDeque::new();
        for callee in start {
            let callers = match fresh.as_mut() {
                Some(fresh) if !gained[callee] => fresh,
                _ => all.get_or_insert_with(|| self.resolved.callers()),
            };
            self.spread_from(callee, callers, &mut gained, &mut queue);
        }
        // A function is queued again only when it gains a witness: at most once per parameter
        // and once for its own writes.
        while let Some(callee) = queue.pop_front() {
            let callers = all.get_or_insert_with(|| self.resolved.callers());
            self.spread_from(callee, callers, &mut gained, &mut queue);
        }
    }

    /// Gives `callee`'s witnesses to its callers in `callers`, in caller and sink order; a
    /// caller that gains one is marked in `gained` and queued. A group of calls `callee` is a
    /// member of is gone through only when `callee` gives something its calls were not given
    /// yet (see [`Delivered`]): giving it again would change no caller.
    fn spread_from(
        &mut self,
        callee: FnId,
        callers: &mut Callers,
        gained: &mut [bool],
        queue: &mut VecDeque<FnId>,
    ) {
        let gives = self.gives(callee);
        let groups: Vec<u32> = callers
            .groups_of(callee)
            .iter()
            .copied()
            .filter(|&g| gives.adds_to(callers.delivered[g as usize]))
            .collect();
        let mut give = |writers: &mut Writers, (caller, s): (FnId, usize)| {
            if writers.give(callee, caller, s) {
                gained[caller] = true;
                queue.push_back(caller);
            }
        };
        let direct = callers.of(callee);
        if groups.is_empty() {
            direct.iter().for_each(|&call| give(self, call));
        } else {
            let lists = std::iter::once(direct).chain(groups.iter().map(|&g| callers.group(g))).collect();
            resolutions::merged(lists).for_each(|call| give(self, call));
        }
        for g in groups {
            let delivered = &mut callers.delivered[g as usize];
            delivered.params |= gives.params;
            delivered.own |= gives.own;
        }
    }

    /// What `callee` gives every call of it whatever its flags: the parameters its witnesses
    /// hold for without a flag, and whether it writes through a handle of its own; and whether
    /// it has a witness that needs a flag (which may give some calls something, and never
    /// counts as given).
    fn gives(&self, callee: FnId) -> Gives {
        let mut gives = Gives { own: self.own[callee].is_some(), ..Gives::default() };
        for (p, write) in self.writes[callee].iter().enumerate() {
            if write.is_some() {
                if self.conds.contains_key(&(callee, p)) {
                    gives.flagged = true;
                } else {
                    gives.params |= 1 << p;
                }
            }
        }
        gives
    }

    /// Gives `callee`'s witnesses to the call at sink `s` of `caller`: whether `caller` gained one.
    fn give(&mut self, callee: FnId, caller: FnId, s: usize) -> bool {
        let sink = &self.fns[caller].facts.sinks[s];
        let SinkKind::Call { arg, flags, .. } = &sink.kind else { return false };
        let (arg, line, taint) = (*arg, sink.range.start.line, sink.handle.taint);
        let mut changed = false;
        let passes = self.writes_through_call(callee, arg, *flags).map(|(_, needs)| needs);
        let passes_to_writer = passes.is_some();
        if let (Some(needs), true) = (passes, taint.params != 0) {
            changed |= self.record(caller, s, || Write::Call { line, callee, param: arg }, needs);
        }
        if passes_to_writer && taint.rw.is_some() && self.own[caller].is_none() {
            let handle = self.fns[caller].facts.sinks[s].handle.label.to_string();
            let write = Write::Call { line, callee, param: arg };
            changed |= self.record_own(caller, || OwnWrite { write, handle });
        }
        if let (None, Some(below)) = (&self.own[caller], &self.own[callee]) {
            let handle = below.handle.clone();
            changed |= self.record_own(caller, || OwnWrite { write: Write::Calls { line, callee }, handle });
        }
        changed
    }

    /// The functions a call sink of function `caller` may mean. A sink of `caller`'s own facts
    /// (the same place in memory) is answered from what the summaries resolved and stored;
    /// any other call is resolved again, to the same answer.
    pub fn resolve(&self, caller: FnId, call: &SinkKind) -> Callee {
        if let Some(sink) = self.sink_index(caller, call) {
            return match self.resolved.entry(caller, sink) {
                entry @ Entry::Tree { .. } => Callee::Tree(self.resolved.callees(entry).to_vec()),
                // Left unresolved by the summaries (after `spread_through_unpinned`, too): no
                // function of the tree that can be told.
                Entry::External | Entry::Unresolved => Callee::External,
            };
        }
        match self.resolution(caller, call) {
            Resolved::Tree(found) => Callee::Tree(found),
            Resolved::Unresolved(_) if self.unpinned_any => {
                self.unpinned(call).map_or(Callee::External, Callee::Tree)
            }
            Resolved::External | Resolved::Unresolved(_) => Callee::External,
        }
    }

    /// The index of `call` among the sinks of `caller` when it is one of them itself (not an
    /// equal call elsewhere): found from its address, in constant time.
    fn sink_index(&self, caller: FnId, call: &SinkKind) -> Option<usize> {
        let sinks = &self.fns.get(caller)?.facts.sinks;
        let first = std::ptr::from_ref(&sinks.first()?.kind) as usize;
        let offset = (std::ptr::from_ref(call) as usize).checked_sub(first)?;
        let size = std::mem::size_of::<Sink>();
        let index = offset / size;
        let same = sinks.get(index).is_some_and(|s| std::ptr::eq(&s.kind, call));
        (offset % size == 0 && same).then_some(index)
    }

    /// What a call sink of function `caller` resolves to, with the reason when it cannot be
    /// told (hash lookups: as cheap as a cache).
    pub fn resolution(&self, caller: FnId, call: &SinkKind) -> Resolved {
        self.scope().resolve(caller, call)
    }

    /// The steps from a write through parameter `param` of `id` down to the SQL: at most
    /// 32 steps, the last always the write itself (a longer chain loses its middle).
    pub fn chain(&self, id: FnId, param: usize) -> Vec<ChainStep> {
        self.walk(id, Slot::Param(param))
    }

    /// The steps from `id`'s own write through a read-write handle down to the SQL (bounded
    /// as [`Writers::chain`]).
    pub fn own_chain(&self, id: FnId) -> Vec<ChainStep> {
        self.walk(id, Slot::Own)
    }

    fn witness(&self, id: FnId, slot: Slot) -> Option<&Write> {
        match slot {
            Slot::Param(param) => self.writes_through(id, param),
            Slot::Own => self.writes_on_its_own(id).map(|o| &o.write),
        }
    }

    fn walk(&self, id: FnId, slot: Slot) -> Vec<ChainStep> {
        let mut steps = Vec::new();
        let (mut id, mut slot) = (id, slot);
        // A witness points only to callees that wrote before their caller did, so it never
        // loops; the walk is still bounded: each function at most once per kind of witness.
        for _ in 0..=2 * self.fns.len() {
            let f = &self.fns[id];
            match self.witness(id, slot) {
                Some(Write::Direct { line, evidence }) => {
                    if steps.len() >= MAX_CHAIN {
                        steps.truncate(MAX_CHAIN - 1);
                    }
                    steps.push(step(f, *line, evidence.clone()));
                    break;
                }
                Some(Write::Call { line, callee, param: next }) => {
                    if steps.len() < MAX_CHAIN {
                        let target = &self.fns[*callee];
                        steps.push(step(f, *line, format!("passes it to `{}`", target.facts.display_name())));
                    }
                    (id, slot) = (*callee, Slot::Param(*next));
                }
                Some(Write::Calls { line, callee }) => {
                    if steps.len() < MAX_CHAIN {
                        let target = &self.fns[*callee];
                        steps.push(step(f, *line, format!("calls `{}`", target.facts.display_name())));
                    }
                    (id, slot) = (*callee, Slot::Own);
                }
                None => break,
            }
        }
        steps
    }
}

/// Resolves every sink of function `id` into `part` (the sinks of one call answered once);
/// the calls that cannot be pinned go to `unresolved` with their sinks' indices.
/// Calls that could not be pinned, each with its sink's index in its function.
type UnpinnedCalls = Vec<(usize, UnresolvedCall)>;

fn resolve_sinks(
    scope: &CallScope<'_>,
    id: FnId,
    part: &mut Part,
    unresolved: &mut Vec<(usize, UnresolvedCall)>,
) -> bool {
    part.start_fn();
    let mut answered = Answered::default();
    let mut typed = Typed::default();
    let mut marks = false;
    for (s, sink) in scope.fns[id].facts.sinks.iter().enumerate() {
        marks |= text_runs::is_mark(sink);
        let r = answered.answer(&sink.kind, || scope.resolve_typed(id, &sink.kind, &mut typed));
        if let (Resolved::Unresolved(why), SinkKind::Call { callee, .. }) = (&r, &sink.kind) {
            let call = UnresolvedCall {
                caller: id,
                line: sink.range.start.line,
                callee: callee.join("::"),
                why: why.clone(),
            };
            unresolved.push((s, call));
        }
        part.push(r);
    }
    marks
}

/// The name and the number of arguments besides `self` of a method call (`None`: another sink).
fn unpinned_method(call: &SinkKind) -> Option<(&str, usize)> {
    let SinkKind::Call { callee, method: true, args, .. } = call else { return None };
    Some((callee.last()?.as_str(), *args))
}

fn step(f: &TreeFn, line: u32, evidence: String) -> ChainStep {
    ChainStep { function: f.facts.display_name(), file: f.file.to_path_buf(), line, evidence }
}

mod derived;
mod resolutions;
#[cfg(test)]
mod tests;
mod text_runs;
