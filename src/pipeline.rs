//! One `check` run: walk → prefilter → parse → index → analyse → findings.
//!
//! Files are read, screened, parsed and analysed on a rayon pool whose workers have large
//! stacks. A worker turns everything it needs from a syntax tree into owned facts and then
//! releases its thread's span table, so memory stays flat and no span crosses a file. A panic
//! while handling a file becomes an error for that file; the run goes on.

use std::collections::{BTreeSet, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::facts::FileFacts;
use crate::analysis::names::Names;
use crate::analysis::{self};
use crate::config::RuleSet;
use crate::diagnostics::{FileError, Finding};
use crate::index::ConstIndex;
use crate::judge::Judge;
use crate::prefilter::Prefilter;
use crate::sql::SqlFunctions;
use crate::suppress::{self, Directive, Suppressed};
use crate::timings::Timings;
use crate::walk::{self, MissingPath, WalkedFile};
use crate::workspace::loader::{self, Declared, Slot};
use crate::workspace::{demand, discovered, Workspace};
use crate::writers::{UnresolvedCall, Writers};
use crate::{fingerprint, parse, rules, source};

/// Stack of each worker thread. syn recurses on nested input; with the nesting guard's limits
/// the deepest accepted input needs well under this (measured by the nesting tests, which run
/// on this pool).
pub const WORKER_STACK_BYTES: usize = 256 << 20;
/// The stack of each worker under a tight address-space limit: 3x what the nesting guard's
/// worst accepted input needs (~20 MiB in a debug build).
pub const SMALL_WORKER_STACK_BYTES: usize = 64 << 20;

/// Counts for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Files found by the walk that are reported on.
    pub files_seen: usize,
    /// Files parsed (screened in, or parsed on demand for a const).
    pub files_parsed: usize,
    /// Functions in the parsed files.
    pub functions: usize,
    /// Read-only bindings made in the analysed functions.
    pub ro_bindings: usize,
    /// Findings reported.
    pub findings: usize,
    /// Findings silenced by suppression comments.
    pub suppressed: usize,
    /// File errors.
    pub errors: usize,
    /// Calls with a handle whose callee could not be pinned to functions of the tree (the
    /// receiver's type unknown and the name not unique); listed by `--explain-unresolved`.
    pub unresolved_calls: usize,
    /// Findings left out because a baseline (`--baseline`) records them; only in the JSON
    /// when a baseline hid something.
    #[serde(skip_serializing_if = "is_zero")]
    pub baselined: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// How a run treats what it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Apply suppression comments (and report bad ones); `--no-suppress` turns this off.
    pub suppress: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options { suppress: true }
    }
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Findings, sorted by file and position, each with its fingerprint.
    pub findings: Vec<Finding>,
    /// Findings silenced by suppression comments, sorted like `findings`.
    pub suppressed: Vec<Suppressed>,
    /// File errors, sorted by file.
    pub errors: Vec<FileError>,
    /// Unresolved calls in reported files, sorted by file and line.
    pub unresolved: Vec<Unresolved>,
    /// Counts.
    pub summary: Summary,
    /// Time per phase (`--timings`).
    pub timings: Timings,
}

/// A call whose callee could not be told, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unresolved {
    /// The caller's file.
    pub file: PathBuf,
    /// The call's line.
    pub line: u32,
    /// The calling function.
    pub function: String,
    /// The callee as written.
    pub callee: String,
    /// Why it is unresolved.
    pub why: String,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A named path does not exist.
    #[error(transparent)]
    MissingPath(#[from] MissingPath),
    /// The worker pool could not be created.
    #[error("cannot start worker threads: {0}")]
    Pool(#[from] rayon::ThreadPoolBuildError),
}

/// The result of handling one file on a worker.
enum Handled {
    /// Parsed and analysed.
    Parsed(FileFacts),
    /// Not parsed (what its text declares is read later, only if some file was parsed).
    Screened,
    /// Could not be read or parsed.
    Failed(FileError),
}

/// The worker pool of a run.
pub fn worker_pool() -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let stack = worker_stack_bytes(address_space_limit(), threads);
    rayon::ThreadPoolBuilder::new()
        .stack_size(stack)
        .num_threads(threads)
        .thread_name(|i| format!("ro-audit-worker-{i}"))
        .build()
}

/// The stack each of `threads` workers gets: [`WORKER_STACK_BYTES`], unless an address-space
/// limit (`ulimit -v`) would not hold the stacks in a quarter of it; then
/// [`SMALL_WORKER_STACK_BYTES`] (reserving stacks that do not fit makes thread creation fail).
fn worker_stack_bytes(limit: Option<u64>, threads: usize) -> usize {
    match limit {
        Some(limit) if (WORKER_STACK_BYTES as u64) * threads as u64 > limit / 4 => SMALL_WORKER_STACK_BYTES,
        _ => WORKER_STACK_BYTES,
    }
}

/// The process's address-space limit in bytes, from `/proc/self/limits` (Linux); `None` when
/// unlimited or unknown.
fn address_space_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max address space"))?;
    line["Max address space".len()..].split_whitespace().next()?.parse().ok()
}

/// Runs `check` on `paths` with `rules`, suppression comments applied.
pub fn check(paths: &[PathBuf], rules: &RuleSet) -> Result<Outcome, RunError> {
    check_with(paths, rules, Options::default())
}

/// Runs `check` on `paths` with `rules` and `options`.
pub fn check_with(paths: &[PathBuf], rules: &RuleSet, options: Options) -> Result<Outcome, RunError> {
    let mut timings = Timings::start();
    let walked = walk::walk(paths, rules)?;
    let pool = worker_pool()?;
    timings.lap("walk");
    // Everything that touches facts runs on the pool: SQL text built by long chains nests
    // deeply, and following it needs the workers' large stacks.
    Ok(pool.install(|| check_walked(walked, rules, options, timings)))
}

/// The SQL functions a run's tree defines: in its `.sql` files and in string literals of its
/// Rust files (migrations written in Rust), with those the rule set declares writing.
pub(crate) fn sql_functions(walked: &walk::Walk, rules: &RuleSet) -> SqlFunctions {
    let files = walked.sql_files.iter().cloned().chain(walked.files.iter().map(|f| f.path.clone()));
    SqlFunctions::new(files.collect(), rules.max_file_bytes).with_declared(&rules.sql_writing_functions)
}

fn check_walked(walked: walk::Walk, rules: &RuleSet, options: Options, mut timings: Timings) -> Outcome {
    let functions = sql_functions(&walked, rules);
    let mut outcome = Outcome { errors: walked.errors, ..Outcome::default() };
    outcome.summary.files_seen = walked.files.iter().filter(|f| f.reported).count();

    // First pass: analyse what names an accessor or a handle type. A function of the tree that
    // returns a read-only handle is an accessor too: when the pass finds new ones, it runs
    // again with them (a wrapper of a wrapper takes one more round).
    let mut names = Names::new(rules);
    let mut first = first_pass(&walked.files, rules, &names, options);
    timings.lap("first pass");
    // Type aliases of handle types (`pub type Replica = DbRo;`): the files naming one are
    // handled again, where they import it by a path through the module declaring it.
    names.handle_aliases = discovered::handle_aliases(&first.slots, &names);
    if !names.handle_aliases.is_empty() {
        let aliases = Prefilter::new(names.handle_aliases.iter().map(|a| a.name.as_str()));
        rescreen(&walked.files, &mut first, rules, &names, options, |_, f| names_in(f, rules, &aliases));
        // A module re-exporting one (`pub use crate::db::Replica;` in a prelude) names no
        // handle type: parsed just now, it lets the files importing through it name the alias.
        // Those files, parsed just now too, say so by their imports; those naming an alias a
        // re-export renamed (`pub use crate::db::Replica as Reader;`), by their text.
        if discovered::add_reexports(&first.slots, &mut names.handle_aliases) {
            let through: Vec<bool> = first
                .slots
                .iter()
                .map(|s| discovered::imports_through_reexport(s, &names.handle_aliases))
                .collect();
            let renamed = Prefilter::new(discovered::renamed_aliases(&names.handle_aliases));
            rescreen(&walked.files, &mut first, rules, &names, options, |i, f| {
                through[i] || (!renamed.is_empty() && names_in(f, rules, &renamed))
            });
        }
    }
    for _ in 0..MAX_WRAPPER_ROUNDS {
        let wrappers = new_wrappers(&discovered::read_only_wrappers(&first.slots), &mut names);
        if wrappers.is_empty() {
            break;
        }
        // Only files whose text names a new wrapper can change: they alone are handled again.
        let new_names = Prefilter::new(wrappers.iter().map(String::as_str));
        rescreen(&walked.files, &mut first, rules, &names, options, |_, f| names_in(f, rules, &new_names));
    }
    timings.lap("wrappers");
    let FirstPass { mut slots, directives, errors } = first;
    outcome.errors.extend(errors);
    // With no file parsed nothing is wanted and there is nothing to index: a tree that never
    // names an accessor costs a read and a screen per file, no declaration scan, no manifest.
    let parsed_any = slots.iter().any(|s| s.facts.is_some());
    if parsed_any {
        declare_screened(&mut slots, rules);
    }
    timings.lap("declare");

    // Then what the handles reach, parsed on demand: callees, consts, receiver types.
    let screen = screen_for(&names);
    let analyse = |path: &Path, wanted: &BTreeSet<String>| -> Result<FileFacts, FileError> {
        let src = source::read(path, rules.max_file_bytes)?;
        let wants = ByNameOrText { screen: &screen, wanted };
        match guarded(path, || analyse_source(path, &src, &names, &wants)) {
            Handled::Parsed(facts) => Ok(facts),
            Handled::Failed(err) => Err(err),
            Handled::Screened => unreachable_screened(path),
        }
    };
    // What the files ask is kept between rounds (shared paths and types: cheap to drop).
    let mut demand = demand::Demand::new(false);
    let mut wants = |slots: &[Slot], changed: loader::Changed<'_>| demand.wanted(slots, changed);
    let (load_errors, _) = loader::load(&mut slots, &mut wants, &analyse);
    // What the tree declares, as the loader asked it: hash sets of every name, freed beside
    // the index instead of before it.
    release_in_background(demand);
    outcome.errors.extend(load_errors);
    timings.lap("load");

    // The index: consts, crates, types and impls of every parsed file.
    let mut index = ConstIndex::default();
    let mut workspace = if parsed_any {
        Workspace::discover(slots.iter().map(|s| s.path.as_path()))
    } else {
        Workspace::default()
    };
    workspace.add_path_mods(&slots);
    for slot in &mut slots {
        if let Some(facts) = &mut slot.facts {
            index.add(&slot.path, std::mem::take(&mut facts.consts));
        }
    }

    // Summaries of what writes through which parameter, then the rules.
    // The functions move into the summaries: from here on a file's functions are read there.
    let (tree_fns, ids) = workspace.add_slots(&mut slots);
    let judge = Judge::new(rules, &index, &functions);
    timings.lap("index");
    let writers = Writers::in_workspace(tree_fns, workspace, &judge);
    outcome.unresolved = located(&writers, writers.unresolved(), &slots, &ids);
    outcome.summary.unresolved_calls = outcome.unresolved.len();
    timings.lap("summaries");
    let findings: Vec<Vec<Finding>> = slots
        .par_iter()
        .zip(&ids)
        .filter(|(slot, _)| slot.reported)
        .map(|(slot, ids)| {
            let functions = ids.iter().map(|&id| (id, &writers.function(id).facts));
            let mut found = rules::ro_write_sql(&slot.path, functions.clone().map(|(_, f)| f), &judge);
            for (id, function) in functions.filter(|(_, f)| f.analysed) {
                found.extend(rules::write_call::findings(&slot.path, function, id, &writers, &judge));
            }
            found
        })
        .collect();
    let mut findings: Vec<Finding> = findings.into_iter().flatten().collect();
    timings.lap("rules");

    for (slot, ids) in slots.iter().zip(&ids) {
        if slot.facts.is_some() {
            outcome.summary.files_parsed += 1;
            if slot.reported {
                outcome.summary.functions += ids.len();
                outcome.summary.ro_bindings +=
                    ids.iter().map(|&id| writers.function(id).facts.ro_bindings).sum::<usize>();
            }
        }
    }

    // Before suppression: adding or removing a suppression never renumbers other findings.
    fingerprint::assign(&mut findings);
    if options.suppress {
        let applied = suppress::apply(findings, &directives);
        findings = applied.findings;
        outcome.suppressed = applied.suppressed;
        let (mut bad, mut kept): (Vec<Finding>, Vec<Finding>) =
            findings.into_iter().partition(|f| f.rule == rules::RO_BAD_SUPPRESSION);
        fingerprint::assign(&mut bad);
        kept.append(&mut bad);
        findings = kept;
    }
    let order = |a: &Finding, b: &Finding| {
        (&a.file, a.line, a.column, a.rule).cmp(&(&b.file, b.line, b.column, b.rule))
    };
    findings.sort_by(order);
    outcome.suppressed.sort_by(|a, b| order(&a.finding, &b.finding));
    outcome.findings = findings;
    outcome.errors.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    outcome.errors.dedup();
    outcome.summary.findings = outcome.findings.len();
    outcome.summary.suppressed = outcome.suppressed.len();
    outcome.summary.errors = outcome.errors.len();
    timings.lap("finish");
    outcome.timings = timings;
    release_in_background((writers, slots, index));
    outcome
}

/// Frees a run's working data (every function's facts and summaries: hundreds of MiB on a
/// large tree, millions of allocations) on a thread of its own, so the caller reports while
/// it is freed; if no thread can be started, it is freed here.
pub(crate) fn release_in_background<T: Send + 'static>(data: T) {
    let _ = std::thread::Builder::new().name("ro-audit-release".into()).spawn(move || drop(data));
}

/// The most files one job of a pass over the files takes: left to itself, the pool may give
/// one worker a run of dozens of files that the other cannot take from it, and at the end of
/// the pass one worker works alone (80–100 ms of one core at 1 M lines). A file costs
/// milliseconds; a job, microseconds.
pub const FILES_PER_JOB: usize = 4;

/// How many times the first pass may run again for newly found accessor wrappers.
const MAX_WRAPPER_ROUNDS: usize = 3;

/// Adds the newly found accessor wrappers to `names`; returns their names. One named like a
/// derive method (`get_connection`) is kept apart: it is an accessor only where the call is
/// the tree's own (see [`Names::derive_wrappers`]).
fn new_wrappers(found: &BTreeSet<(String, Option<String>)>, names: &mut Names) -> Vec<String> {
    let mut added = Vec::new();
    for (name, owner) in found {
        if is_wrapper_name(name, names) {
            names.ro_accessors.insert(name);
        } else if names.derive_methods.matches_name(name) && !is_generic_name(name) {
            let entry = owner.as_ref().map_or_else(|| name.clone(), |o| format!("{o}::{name}"));
            let path: Vec<String> = entry.split("::").map(str::to_string).collect();
            if names.derive_wrappers.matches_path(&path) {
                continue;
            }
            names.derive_wrappers.insert(&entry);
        } else {
            continue;
        }
        added.push(name.clone());
    }
    added
}

/// Names too generic to become accessors even when a function of that name returns a
/// read-only handle (`map.get(k)` must not become a handle).
fn is_wrapper_name(name: &str, names: &Names) -> bool {
    !names.ro_accessors.matches_name(name)
        && !names.derive_methods.matches_name(name)
        && !names.transparent_methods.matches_name(name)
        && !is_generic_name(name)
}

/// Names of every other type's functions (`map.get(k)`, `T::new()`).
fn is_generic_name(name: &str) -> bool {
    matches!(name, "new" | "default" | "from" | "get" | "call" | "run" | "with" | "main")
}

fn unreachable_screened(path: &Path) -> Result<FileFacts, FileError> {
    Err(FileError::whole_file(path.to_path_buf(), "internal error: a file to analyse was not parsed"))
}

/// The text screen of a run: accessor and handle-type names.
fn screen_for(names: &Names) -> Prefilter {
    let words = names.ro_accessors.screening_words().chain(names.derive_wrappers.screening_words());
    let aliases = names.handle_aliases.iter().filter(|a| a.roles.0).map(|a| a.name.as_str());
    Prefilter::new(words.chain(names.ro_types.screening_words()).chain(aliases))
}

/// Analyses functions named in `wanted`, and those whose text passes `screen`; the other
/// bodies are analysed too and kept deferred (a file the loader parses is then parsed once,
/// however many rounds want its functions). Check's and migrate's loaders alike.
pub(crate) struct ByNameOrText<'a> {
    pub(crate) screen: &'a Prefilter,
    pub(crate) wanted: &'a BTreeSet<String>,
}

impl analysis::Screen for ByNameOrText<'_> {
    fn wants(&self, text: &str) -> bool {
        self.screen.matches(text)
    }

    fn wants_fn(&self, name: &str, text: &str) -> bool {
        self.wanted.contains(name) || self.screen.matches(text)
    }
}

/// What the first pass over the files yields.
struct FirstPass {
    slots: Vec<Slot>,
    directives: HashMap<PathBuf, Vec<Directive>>,
    errors: Vec<FileError>,
}

fn first_pass(files: &[WalkedFile], rules: &RuleSet, names: &Names, options: Options) -> FirstPass {
    let screen = screen_for(names);
    let handled: Vec<(Handled, Vec<Directive>)> = files
        .par_iter()
        .with_max_len(FILES_PER_JOB)
        .map(|file| handle(file, rules, names, &screen, options))
        .collect();
    let mut pass =
        FirstPass { slots: Vec::with_capacity(files.len()), directives: HashMap::new(), errors: Vec::new() };
    for (file, (handled, file_directives)) in files.iter().zip(handled) {
        if !file_directives.is_empty() && !matches!(handled, Handled::Failed(_)) {
            pass.directives.insert(file.path.clone(), file_directives);
        }
        let slot = slot_of(file, handled, &mut pass.errors);
        pass.slots.push(slot);
    }
    pass
}

/// The slot of a handled file; its error, if any, goes to `errors` when it is reported on.
fn slot_of(file: &WalkedFile, handled: Handled, errors: &mut Vec<FileError>) -> Slot {
    let mut slot = Slot::screened(file.path.clone(), file.reported, Declared::default());
    match handled {
        Handled::Parsed(facts) => slot.facts = Some(facts),
        Handled::Screened => {}
        Handled::Failed(err) => {
            slot.failed = true;
            if file.reported {
                errors.push(err);
            }
        }
    }
    slot
}

/// Fills in what the text of each screened-out file declares (read again: the first pass
/// keeps no text), so that the loader can parse the files declaring wanted names.
fn declare_screened(slots: &mut [Slot], rules: &RuleSet) {
    slots.par_iter_mut().filter(|s| s.facts.is_none() && !s.failed).for_each(|slot| {
        if let Ok(src) = source::read(&slot.path, rules.max_file_bytes) {
            slot.declared = Declared::of(&src.text);
        }
    });
}

/// Whether the text of `file` names one of `names`.
fn names_in(file: &WalkedFile, rules: &RuleSet, names: &Prefilter) -> bool {
    source::read(&file.path, rules.max_file_bytes).is_ok_and(|src| names.matches(&src.text))
}

/// Handles again the reported files that `which` picks (by index and file: those naming a new
/// accessor wrapper, whose functions become read-only where they call it); the other files
/// keep their slots.
fn rescreen(
    files: &[WalkedFile],
    pass: &mut FirstPass,
    rules: &RuleSet,
    names: &Names,
    options: Options,
    which: impl Fn(usize, &WalkedFile) -> bool + Sync,
) {
    let screen = screen_for(names);
    let again: Vec<(usize, (Handled, Vec<Directive>))> = files
        .par_iter()
        .enumerate()
        .filter(|(_, file)| file.reported)
        .filter(|(i, file)| which(*i, file))
        .map(|(i, file)| (i, handle(file, rules, names, &screen, options)))
        .collect();
    for (i, (handled, _)) in again {
        // The file was handled before: its error (if it fails again) is already listed, and
        // its suppression comments are unchanged.
        pass.slots[i] = slot_of(&files[i], handled, &mut Vec::new());
    }
}

/// The unresolved calls of reported files, located and sorted.
fn located(
    writers: &Writers,
    calls: &[UnresolvedCall],
    slots: &[Slot],
    ids: &[Vec<usize>],
) -> Vec<Unresolved> {
    let reported: std::collections::HashSet<usize> =
        slots.iter().zip(ids).filter(|(s, _)| s.reported).flat_map(|(_, ids)| ids.iter().copied()).collect();
    let mut out: Vec<Unresolved> = calls
        .iter()
        .filter(|c| reported.contains(&c.caller))
        .map(|c| {
            let f = writers.function(c.caller);
            Unresolved {
                file: f.file.to_path_buf(),
                line: c.line,
                function: f.facts.display_name(),
                callee: c.callee.clone(),
                why: c.why.clone(),
            }
        })
        .collect();
    out.sort_by(|a, b| (&a.file, a.line, &a.callee).cmp(&(&b.file, b.line, &b.callee)));
    out.dedup();
    out
}

/// Reads, screens, parses and analyses one file, and finds its suppression comments if it is
/// reported on. Never panics.
fn handle(
    file: &WalkedFile,
    rules: &RuleSet,
    names: &Names,
    screen: &Prefilter,
    options: Options,
) -> (Handled, Vec<Directive>) {
    let src = match source::read(&file.path, rules.max_file_bytes) {
        Ok(src) => src,
        Err(err) => return (Handled::Failed(err), Vec::new()),
    };
    let directives = if file.reported && options.suppress {
        // The comment lexer is tested on arbitrary text; should it still panic, the file's
        // findings are reported unsuppressed rather than the run aborted.
        catch_unwind(|| suppress::scan(&src.text)).unwrap_or_default()
    } else {
        Vec::new()
    };
    if !file.reported || !screen.matches(&src.text) {
        return (Handled::Screened, directives);
    }
    let wants = |text: &str| screen.matches(text);
    (guarded(&file.path, || analyse_source(&file.path, &src, names, &wants)), directives)
}

/// Parses `src` and analyses the functions `wants` selects (none: consts only).
fn analyse_source(
    path: &Path,
    src: &source::SourceText,
    names: &Names,
    wants: &dyn analysis::Screen,
) -> Handled {
    let outcome = match parse::parse(path, src) {
        Ok(tree) => {
            let facts = analysis::analyse_file(names, path, src, &tree, wants);
            drop(tree);
            Handled::Parsed(facts)
        }
        Err(err) => Handled::Failed(err),
    };
    parse::release_spans();
    outcome
}

/// Runs `f`, turning a panic into an error for `path`.
fn guarded(path: &Path, f: impl FnOnce() -> Handled) -> Handled {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(handled) => handled,
        Err(panic) => {
            parse::release_spans();
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Handled::Failed(FileError::whole_file(
                path.to_path_buf(),
                format!("internal error while analysing this file (please report it): {what}"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_shrink_only_when_an_address_space_limit_would_not_hold_them() {
        assert_eq!(worker_stack_bytes(None, 64), WORKER_STACK_BYTES);
        assert_eq!(worker_stack_bytes(Some(16 << 30), 2), WORKER_STACK_BYTES);
        assert_eq!(worker_stack_bytes(Some(512 << 20), 2), SMALL_WORKER_STACK_BYTES);
        assert_eq!(worker_stack_bytes(Some(4 << 30), 32), SMALL_WORKER_STACK_BYTES);
    }
}
