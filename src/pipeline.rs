//! One `check` run: walk → prefilter → parse → index → analyse → findings.
//!
//! Files are read, screened, parsed and analysed on a rayon pool whose workers have large
//! stacks. A worker turns everything it needs from a syntax tree into owned facts and then
//! releases its thread's span table, so memory stays flat and no span crosses a file. A panic
//! while handling a file becomes an error for that file; the run goes on.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::analysis::facts::{FileFacts, SinkKind};
use crate::analysis::names::Names;
use crate::analysis::{self};
use crate::config::RuleSet;
use crate::diagnostics::{FileError, Finding};
use crate::index::ConstIndex;
use crate::prefilter::{self, Prefilter};
use crate::suppress::{self, Directive, Suppressed};
use crate::walk::{self, MissingPath, WalkedFile};
use crate::{fingerprint, parse, rules, source};

/// Stack of each worker thread. syn recurses on nested input; with the nesting guard's limits
/// the deepest accepted input needs well under this (measured by the nesting tests, which run
/// on this pool).
pub const WORKER_STACK_BYTES: usize = 256 << 20;

/// How many rounds of on-demand parsing for consts a run may take (consts built from consts
/// from other files need one round per level).
const MAX_DEMAND_ROUNDS: usize = 8;

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
    /// Counts.
    pub summary: Summary,
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
    /// Not parsed; the names of the consts its text declares.
    Screened(Vec<String>),
    /// Could not be read or parsed.
    Failed(FileError),
}

/// The worker pool of a run.
pub fn worker_pool() -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK_BYTES)
        .thread_name(|i| format!("ro-audit-worker-{i}"))
        .build()
}

/// Runs `check` on `paths` with `rules`, suppression comments applied.
pub fn check(paths: &[PathBuf], rules: &RuleSet) -> Result<Outcome, RunError> {
    check_with(paths, rules, Options::default())
}

/// Runs `check` on `paths` with `rules` and `options`.
pub fn check_with(paths: &[PathBuf], rules: &RuleSet, options: Options) -> Result<Outcome, RunError> {
    let walked = walk::walk(paths, rules)?;
    let pool = worker_pool()?;
    // Everything that touches facts runs on the pool: SQL text built by long chains nests
    // deeply, and following it needs the workers' large stacks.
    Ok(pool.install(|| check_walked(walked, rules, options)))
}

fn check_walked(walked: walk::Walk, rules: &RuleSet, options: Options) -> Outcome {
    let names = Names::new(rules);
    let screen = Prefilter::new(names.ro_accessors.screening_words().chain(names.ro_types.screening_words()));

    let handled: Vec<(Handled, Vec<Directive>)> =
        walked.files.par_iter().map(|file| handle(file, rules, &names, &screen, options)).collect();

    let mut outcome = Outcome { errors: walked.errors, ..Outcome::default() };
    outcome.summary.files_seen = walked.files.iter().filter(|f| f.reported).count();
    let mut index = ConstIndex::default();
    let mut analysed: Vec<(&Path, FileFacts)> = Vec::new();
    let mut screened: Vec<(&Path, Vec<String>)> = Vec::new();
    let mut directives: HashMap<PathBuf, Vec<Directive>> = HashMap::new();
    for (file, (handled, file_directives)) in walked.files.iter().zip(handled) {
        if !file_directives.is_empty() && !matches!(handled, Handled::Failed(_)) {
            directives.insert(file.path.clone(), file_directives);
        }
        match handled {
            Handled::Parsed(mut facts) => {
                outcome.summary.files_parsed += 1;
                outcome.summary.functions += facts.functions.len();
                outcome.summary.ro_bindings += facts.functions.iter().map(|f| f.ro_bindings).sum::<usize>();
                index.add(&file.path, std::mem::take(&mut facts.consts));
                analysed.push((&file.path, facts));
            }
            Handled::Screened(consts) => screened.push((&file.path, consts)),
            Handled::Failed(err) if file.reported => outcome.errors.push(err),
            Handled::Failed(_) => {}
        }
    }

    let demand_errors = load_missing_consts(&analysed, &mut screened, &mut index, rules, &names);
    outcome.summary.files_parsed += demand_errors.1;
    outcome.errors.extend(demand_errors.0);

    let findings: Vec<Vec<Finding>> =
        analysed.par_iter().map(|(path, facts)| rules::ro_write_sql(path, facts, &index)).collect();
    let mut findings: Vec<Finding> = findings.into_iter().flatten().collect();
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
    outcome.summary.findings = outcome.findings.len();
    outcome.summary.suppressed = outcome.suppressed.len();
    outcome.summary.errors = outcome.errors.len();
    outcome
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
        return (Handled::Screened(prefilter::const_names(&src.text)), directives);
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
            let facts = analysis::analyse_file(names, src, &tree, wants);
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

/// Parses, on demand, the screened-out files that declare consts the findings need, until
/// every needed const is known or no file declares it. Returns the errors of those files and
/// how many were parsed.
fn load_missing_consts(
    analysed: &[(&Path, FileFacts)],
    screened: &mut [(&Path, Vec<String>)],
    index: &mut ConstIndex,
    rules: &RuleSet,
    names: &Names,
) -> (Vec<FileError>, usize) {
    let mut errors = Vec::new();
    let mut parsed = 0;
    for _ in 0..MAX_DEMAND_ROUNDS {
        let mut missing = Vec::new();
        for (_, facts) in analysed {
            for sink in facts.functions.iter().flat_map(|f| &f.sinks) {
                if let (SinkKind::Sql { text, .. }, Some(_)) = (&sink.kind, sink.handle.taint.ro) {
                    index.missing(text, &mut missing);
                }
            }
        }
        missing.sort();
        missing.dedup();
        let wanted: Vec<usize> = screened
            .iter()
            .enumerate()
            .filter(|(_, (_, consts))| consts.iter().any(|c| missing.binary_search(c).is_ok()))
            .map(|(i, _)| i)
            .collect();
        if wanted.is_empty() {
            break;
        }
        let nothing = |_: &str| false;
        let results: Vec<(usize, Handled)> = wanted
            .par_iter()
            .map(|&i| {
                let path = screened[i].0;
                let handled = match source::read(path, rules.max_file_bytes) {
                    Ok(src) => guarded(path, || analyse_source(path, &src, names, &nothing)),
                    Err(err) => Handled::Failed(err),
                };
                (i, handled)
            })
            .collect();
        for (i, handled) in results {
            // Parsed once: never again.
            let (path, consts) = &mut screened[i];
            consts.clear();
            match handled {
                Handled::Parsed(facts) => {
                    parsed += 1;
                    index.add(path, facts.consts);
                }
                Handled::Failed(err) => errors.push(err),
                Handled::Screened(_) => {}
            }
        }
    }
    (errors, parsed)
}
