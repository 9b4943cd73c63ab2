//! One `migrate` run: walk → frameworks (none in any crate graph: the run ends, nothing is read)
//! → screen (route markers, handle names) → parse on the pool (route facts, function facts,
//! name uses; spans released per file) → discover GET handlers (files that only define handlers
//! parsed on demand; then only handler files keep anything of their parse) → load what
//! read-write handles reach → write summaries → classify → plan edits (accessor and type uses,
//! then `use` items) and check that each edited file parses, keeping no text.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;

use super::classify::{self, Body, Class, Context, Reason};
use super::escapes;
use super::frameworks;
use super::kept::{self, HandlerFile};
// `apply` and the outcome's types lived here first; callers may still name them here.
pub use super::apply::{apply, ApplyError};
pub use super::outcome::{
    counts, Counts, FileChange, Fingerprint, HandlerReport, Outcome, PlannedEdit, Working,
};
use super::routes::{self, FileRoutes, Handler, HandlerTarget, RouteClass, RouteNames};
use super::scan::{self, FileScan, MigrateNames, NameUse, UseKind};
use crate::analysis;
use crate::analysis::facts::FileFacts;
use crate::analysis::names::Names;
use crate::config::RuleSet;
use crate::diagnostics::FileError;
use crate::index::ConstIndex;
use crate::judge::Judge;
use crate::pipeline::{sql_functions, worker_pool, ByNameOrText, RunError};
use crate::prefilter::{self, Prefilter};
use crate::source::{self, SourceText};
use crate::timings::Timings;
use crate::workspace::crates::CrateGraph;
use crate::workspace::loader::{self, Declared, Slot};
use crate::workspace::{demand, discovered, Workspace};
use crate::writers::Writers;

/// What a run is asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--trust-external`: code outside the tree reads.
    pub trust_external: bool,
    /// `--handler NAME`: only handlers of this name (`name` or `Owner::name`).
    pub handler: Option<String>,
}

/// The uses one handler rewrites, with the index of their file's slot.
type HandlerUses = (usize, Vec<NameUse>);

/// A first read: parsed, or screened out (what its text declares), or an error.
type FirstRead = (Option<Parsed>, Declared, Option<FileError>);

/// What a parsed file yields.
struct Parsed {
    facts: FileFacts,
    routes: FileRoutes,
    scan: FileScan,
}

/// Runs `migrate` (planning only; [`apply`] writes).
pub fn run(paths: &[PathBuf], rules: &RuleSet, options: &Options) -> Result<Outcome, RunError> {
    let mut timings = Timings::start();
    let walked = crate::walk::walk(paths, rules)?;
    timings.lap("walk");
    let files: Vec<&Path> = walked.files.iter().map(|f| f.path.as_path()).collect();
    let names = RunNames {
        names: Names::new(rules),
        mnames: MigrateNames::new(rules),
        routes: RouteNames::new(&rules.routes),
    };
    let crates = names.routes.framework_crates();
    let routes = frameworks::route_screens(paths, &files, &crates);
    timings.lap("frameworks");
    if !routes.contains(&true) && !frameworks::stand_in(&files, &crates) {
        // No crate graph holds a web framework, and the tree writes no stand-in of one: no file
        // can register a route, so there is no handler to find and nothing is read or parsed
        // (a library workspace costs its walk and its manifests).
        return Ok(Outcome { errors: walked.errors, timings, ..Outcome::default() });
    }
    let pool = worker_pool()?;
    Ok(pool.install(|| run_walked(walked, rules, names, options, routes, timings)))
}

struct Screens {
    handles: Prefilter,
    routes: Prefilter,
}

/// The names a migrate run matches.
struct RunNames {
    names: Names,
    mnames: MigrateNames,
    routes: RouteNames,
}

fn parse_one(
    path: &Path,
    src: &SourceText,
    names: &RunNames,
    screen: &Prefilter,
    wanted: &BTreeSet<String>,
) -> Result<Parsed, FileError> {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let tree = crate::parse::parse(path, src)?;
        let facts = analysis::analyse_file(&names.names, path, src, &tree, &ByNameOrText { screen, wanted });
        let mut routes = routes::extract(path, src, &tree, &names.routes);
        let mut scan = scan::scan(&names.mnames, path, src, &tree);
        drop(tree);
        // Held for every parsed file until discovery ends: no spare capacity.
        routes.functions.shrink_to_fit();
        routes.imports.shrink_to_fit();
        routes.registrations.shrink_to_fit();
        scan.uses.shrink_to_fit();
        scan.fns.shrink_to_fit();
        Ok(Parsed { facts, routes, scan })
    }));
    crate::parse::release_spans();
    result.unwrap_or_else(|_| {
        Err(FileError::whole_file(path.to_path_buf(), "internal error while analysing this file"))
    })
}

/// `route_screens`: per walked file, whether to screen it for route markers (false when its
/// crate graph has no web framework: it cannot register a route).
fn run_walked(
    walked: crate::walk::Walk,
    rules: &RuleSet,
    mut names: RunNames,
    options: &Options,
    route_screens: Vec<bool>,
    mut timings: Timings,
) -> Outcome {
    let functions = sql_functions(&walked, rules);
    let mut outcome = Outcome { errors: walked.errors, ..Outcome::default() };
    let mut screens = Screens {
        handles: Prefilter::new(names.mnames.words()),
        routes: Prefilter::new(names.routes.markers()),
    };
    let no_names = BTreeSet::new();

    // First pass: what names a handle or registers a route.
    let first: Vec<FirstRead> = walked
        .files
        .par_iter()
        .zip(route_screens.par_iter())
        .with_max_len(crate::pipeline::FILES_PER_JOB)
        .map(|(file, &route_screen)| {
            let src = match source::read(&file.path, rules.max_file_bytes) {
                Ok(src) => src,
                Err(err) => return (None, Declared::default(), Some(err)),
            };
            let wanted =
                screens.handles.matches(&src.text) || (route_screen && screens.routes.matches(&src.text));
            if !wanted {
                return (None, Declared::of(&src.text), None);
            }
            match parse_one(&file.path, &src, &names, &screens.handles, &no_names) {
                Ok(parsed) => (Some(parsed), Declared::default(), None),
                Err(err) => (None, Declared::default(), Some(err)),
            }
        })
        .collect();
    timings.lap("first pass");
    let mut failed = FailedFiles::default();
    let mut slots = Vec::with_capacity(first.len());
    let mut extras: Vec<Option<(FileRoutes, FileScan)>> = Vec::with_capacity(first.len());
    for (file, (parsed, declared, err)) in walked.files.iter().zip(first) {
        let is_failed = err.is_some();
        if let Some(err) = err {
            failed.add(&err, rules);
            outcome.errors.push(err);
        }
        let (facts, extra) = match parsed {
            Some(p) => (Some(p.facts), Some((p.routes, p.scan))),
            None => (None, None),
        };
        slots.push(Slot {
            facts,
            failed: is_failed,
            ..Slot::screened(file.path.clone(), file.reported, declared)
        });
        extras.push(extra);
    }

    // Type aliases of handle types, as check finds them (`pub type Replica = DbRo;`): the files
    // naming one are parsed again with them known, and the loader's screen names them too. A
    // module re-exporting one (a prelude) names no handle type: parsed only then, it lets the
    // files importing through it name the alias, and they are parsed once more.
    names.names.handle_aliases = discovered::handle_aliases(&slots, &names.names);
    if !names.names.handle_aliases.is_empty() {
        let aliases: Vec<&str> = names.names.handle_aliases.iter().map(|a| a.name.as_str()).collect();
        let naming = Prefilter::new(aliases.iter().copied());
        for round in 0..2 {
            // The second round: the files the first parsed that import an alias through a
            // module it found re-exporting one, and those naming an alias a re-export renamed
            // (`pub use crate::db::Replica as Reader;`).
            let mut through: Option<Vec<bool>> = None;
            let mut renamed = Prefilter::new([]);
            if round == 1 {
                if !discovered::add_reexports(&slots, &mut names.names.handle_aliases) {
                    break;
                }
                let aliases = &names.names.handle_aliases;
                through =
                    Some(slots.iter().map(|s| discovered::imports_through_reexport(s, aliases)).collect());
                renamed = Prefilter::new(discovered::renamed_aliases(aliases));
            }
            names.mnames.type_aliases = names.names.handle_aliases.clone();
            screens.handles = Prefilter::new(names.mnames.words());
            let again: Vec<(usize, Result<Parsed, FileError>)> = walked
                .files
                .par_iter()
                .enumerate()
                .filter(|(i, _)| {
                    !slots[*i].failed && through.as_ref().is_none_or(|t| t[*i] || !renamed.is_empty())
                })
                .filter_map(|(i, file)| {
                    let src = source::read(&file.path, rules.max_file_bytes).ok()?;
                    let again = match &through {
                        None => naming.matches(&src.text),
                        Some(through) => through[i] || renamed.matches(&src.text),
                    };
                    again.then(|| (i, parse_one(&file.path, &src, &names, &screens.handles, &no_names)))
                })
                .collect();
            for (i, parsed) in again {
                match parsed {
                    Ok(parsed) => {
                        slots[i].facts = Some(parsed.facts);
                        slots[i].declared = Declared::default();
                        extras[i] = Some((parsed.routes, parsed.scan));
                    }
                    // Parsed before, it parses now; read for the first time, it is listed as any.
                    Err(err) => {
                        if slots[i].facts.is_none() {
                            slots[i].failed = true;
                            failed.add(&err, rules);
                            outcome.errors.push(err);
                        }
                    }
                }
            }
        }
    }
    let names = &names;
    let mnames = &names.mnames;

    // One loader for what is missing: files that only define handlers (a route names one of
    // their functions), what read-write handles reach, consts, receiver types.
    let crates = CrateGraph::discover(slots.iter().map(|s| s.path.as_path()));
    let reparsed: Mutex<HashMap<PathBuf, (FileRoutes, FileScan)>> = Mutex::new(HashMap::new());
    let analyse = |path: &Path, wanted: &BTreeSet<String>| -> Result<FileFacts, FileError> {
        let src = source::read(path, rules.max_file_bytes)?;
        let parsed = parse_one(path, &src, names, &screens.handles, wanted)?;
        if let Ok(mut map) = reparsed.lock() {
            map.insert(path.to_path_buf(), (parsed.routes, parsed.scan));
        }
        Ok(parsed.facts)
    };
    // Discovery depends only on the files' routes: it runs again only when a round parsed
    // files (most rounds parse none), keyed by how many files were parsed again so far.
    let mut discovered: Option<(usize, Vec<Handler>)> = None;
    // What the files ask is kept between rounds, as in check's loading.
    let mut demand = demand::Demand::new(true);
    // Whether what read-write handles reach is loaded: only once a handler names one, the
    // demand then asked about every slot.
    let mut reaching = false;
    let mut wants = |slots: &[Slot], changed: loader::Changed<'_>| {
        let Ok(map) = reparsed.lock() else { return demand.wanted(slots, changed) };
        if discovered.as_ref().is_none_or(|(n, _)| *n != map.len()) {
            let all: Vec<&FileRoutes> = slots
                .iter()
                .zip(&extras)
                .filter_map(|(slot, extra)| map.get(&slot.path).or(extra.as_ref()))
                .map(|(r, _)| r)
                .collect();
            discovered = Some((map.len(), routes::discover_in(&all, &crates)));
        }
        let handlers = discovered.as_ref().map_or(&[][..], |(_, h)| h.as_slice());
        let newly = !reaching && {
            let by_path: HashMap<&Path, usize> =
                slots.iter().enumerate().map(|(i, s)| (s.path.as_path(), i)).collect();
            any_names_read_write(handlers, |file| {
                map.get(file).or(extras[*by_path.get(file)?].as_ref()).map(|(_, scan)| scan)
            })
        };
        // The first time: every slot is asked about, whatever changed since the last round.
        let changed = if newly { loader::Changed::All } else { changed };
        reaching |= newly;
        let mut wanted = if reaching { demand.wanted(slots, changed) } else { loader::Wanted::default() };
        wanted.fns.extend(handlers.iter().filter_map(|h| match &h.target {
            HandlerTarget::Unresolved { reference, .. } => {
                reference.rsplit("::").next().map(|s| s.trim().to_string())
            }
            _ => None,
        }));
        wanted
    };
    let (errors, _) = loader::load(&mut slots, &mut wants, &analyse);
    for err in &errors {
        failed.add(err, rules);
    }
    outcome.errors.extend(errors);
    timings.lap("load");
    let mut reparsed = reparsed.into_inner().unwrap_or_default();
    let reparsed_count = reparsed.len();
    for (slot, extra) in slots.iter().zip(&mut extras) {
        if let Some(found) = reparsed.remove(&slot.path) {
            *extra = Some(found);
        }
    }
    let handlers = match discovered {
        Some((n, handlers)) if n == reparsed_count => handlers,
        _ => {
            let all: Vec<&FileRoutes> = extras.iter().flatten().map(|(r, _)| r).collect();
            routes::discover_in(&all, &crates)
        }
    };
    // What read-write-typed parameters a twin can stand in for, over the whole tree; then only
    // the files holding a handler keep anything of their first parse, before the index and
    // the summaries are built.
    let derefs: Vec<(String, String)> = extras.iter().flatten().flat_map(|(_, s)| s.derefs.clone()).collect();
    let extras = {
        let by_path: HashMap<&Path, usize> =
            slots.iter().enumerate().map(|(i, s)| (s.path.as_path(), i)).collect();
        kept::handler_files(extras, &handlers, &by_path, mnames)
    };
    timings.lap("discover");

    // The index (consts, crates, types) and write summaries.
    let mut index = ConstIndex::default();
    let mut workspace = Workspace::with_crates(crates, slots.iter().map(|s| s.path.as_path()));
    workspace.add_path_mods(&slots);
    for slot in &mut slots {
        if let Some(facts) = &mut slot.facts {
            index.add(&slot.path, std::mem::take(&mut facts.consts));
        }
    }
    // The functions move into the summaries, as for `check`: from here on a file's functions
    // are read there, through `ids`.
    let (tree_fns, ids) = workspace.add_slots(&mut slots);
    let rw_params: Vec<u64> = tree_fns
        .iter()
        .zip(ids.iter().zip(&extras).flat_map(|(ids, extra)| std::iter::repeat_n(extra, ids.len())))
        .map(|(f, extra)| {
            extra
                .as_ref()
                .and_then(|kept| kept.scan.fns.iter().find(|p| p.name_range == f.facts.range))
                .map_or(0, |p| scan::blocking_params(p, mnames, &derefs))
        })
        .collect();
    drop(derefs);
    let by_path: HashMap<&Path, usize> =
        slots.iter().enumerate().map(|(i, s)| (s.path.as_path(), i)).collect();
    let the_judge = Judge::new(rules, &index, &functions);
    timings.lap("index");
    let summarised =
        any_names_read_write(&handlers, |file| extras[*by_path.get(file)?].as_ref().map(|kept| &kept.scan));
    let writers = if summarised {
        let mut writers = Writers::in_workspace(tree_fns, workspace, &the_judge);
        writers.spread_through_unpinned();
        writers
    } else {
        Writers::unsummarised(tree_fns)
    };
    timings.lap("summaries");
    let ctx = Context {
        judge: &the_judge,
        names: mnames,
        writers: &writers,
        rw_params: &rw_params,
        trust_external: options.trust_external,
        cleared: escapes::Cleared::new(rw_params.len()),
    };

    // Classify, the handlers on the pool (their escape searches share what they cleared, which
    // never changes a class), then in discovery's order.
    let judged: Vec<Option<(HandlerReport, Option<HandlerUses>)>> = handlers
        .par_iter()
        .map(|handler| judge(handler, &ctx, &slots, &extras, &ids, &by_path, options))
        .collect();
    let mut edits_by_file: BTreeMap<usize, Vec<(usize, Vec<NameUse>)>> = BTreeMap::new();
    for (mut report, uses) in judged.into_iter().flatten() {
        if report.class == Class::Unresolved {
            // A file that failed to parse is the likelier cause: it goes before discovery's own.
            if let Some(reason) = failed.reason_for(&report.handler, report.line) {
                report.reasons.insert(0, reason);
            }
        }
        if let Some((i, uses)) = uses.filter(|(_, uses)| !uses.is_empty()) {
            edits_by_file.entry(i).or_default().push((outcome.handlers.len(), uses));
        }
        outcome.handlers.push(report);
    }
    timings.lap("classify");

    // Plan the edits, file by file, on the pool: only files with something to rewrite are
    // read again, and no text is kept (a change is planned again when printed or written).
    let planned: Vec<(FileChange, Result<bool, FileError>)> = edits_by_file
        .into_par_iter()
        .map(|(i, handlers)| plan_change(&slots[i].path, handlers, extras[i].as_ref(), mnames))
        .collect();
    for (change, result) in planned {
        match result {
            Ok(changed) => {
                if changed {
                    outcome.changes.push(change);
                }
            }
            Err(err) => {
                // The file stays as it is: its handlers are not rewritten.
                for (h, _) in &change.handlers {
                    let report = &mut outcome.handlers[*h];
                    report.class = Class::Unresolved;
                    report.edits.clear();
                    report.reasons = vec![Reason {
                        line: report.line,
                        message: format!("the rewrite of this file was refused: {}", err.message),
                        chain: Vec::new(),
                    }];
                }
                outcome.errors.push(err);
            }
        }
    }
    outcome.changes.sort_by(|a, b| a.path.cmp(&b.path));
    outcome.errors.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    outcome.errors.dedup();
    outcome.counts = counts(&outcome);
    timings.lap("plan");
    outcome.timings = timings;
    outcome.working = Working::hold((writers, slots, extras, index, handlers, ids));
    outcome
}

/// Plans the change of the file at `path` (read again) from its handlers' uses, and tells
/// whether it changes the text. `first` is what is kept of its first parse: the names its `use`
/// items name.
fn plan_change(
    path: &Path,
    handlers: Vec<(usize, Vec<NameUse>)>,
    first: Option<&HandlerFile>,
    names: &MigrateNames,
) -> (FileChange, Result<bool, FileError>) {
    let imports = first.map_or(&[][..], |f| &f.imported[..]);
    let mut imported: Vec<String> = handlers
        .iter()
        .flat_map(|(_, uses)| uses.iter().map(|u| &u.name))
        .filter(|name| imports.contains(name))
        .cloned()
        .collect();
    imported.sort_unstable();
    imported.dedup();
    let read = std::fs::read_to_string(path)
        .map_err(|e| FileError::whole_file(path.to_path_buf(), format!("cannot read the file again: {e}")));
    let change = FileChange {
        path: path.to_path_buf(),
        read: Fingerprint::of(read.as_deref().unwrap_or_default()),
        handlers,
        imported,
    };
    let changed = read.and_then(|old| change.new_text(&old, None, names).map(|new| new != old));
    (change, changed)
}

#[allow(clippy::too_many_arguments)]
fn judge(
    handler: &Handler,
    ctx: &Context<'_>,
    slots: &[Slot],
    extras: &[Option<HandlerFile>],
    ids: &[Vec<usize>],
    by_path: &HashMap<&Path, usize>,
    options: &Options,
) -> Option<(HandlerReport, Option<HandlerUses>)> {
    let routes: Vec<String> = handler
        .routes
        .iter()
        .map(|r| format!("{} {}", r.methods, r.path.as_deref().unwrap_or("?")))
        .collect();
    let (name, file, line, item, fn_range) = match &handler.target {
        HandlerTarget::Fn(f) => {
            let name = match &f.owner {
                Some(o) => format!("{o}::{}", f.name),
                None => f.name.clone(),
            };
            (name, f.file.clone(), f.name_range.start.line, f.item, Some(f.name_range))
        }
        HandlerTarget::Closure(c) => {
            // Named by where it is: two closures in one function stay apart.
            let at = c.range.start;
            let name = format!("closure at {}:{}:{}", c.file.display(), at.line, at.column);
            (name, c.file.clone(), at.line, c.range, None)
        }
        HandlerTarget::Unresolved { file, reference, .. } => {
            (reference.clone(), file.clone(), handler.routes[0].line, Default::default(), None)
        }
    };
    if let Some(wanted) = &options.handler {
        let short = name.rsplit("::").next().unwrap_or(&name);
        if wanted != &name && wanted != short {
            return None;
        }
    }
    let slot_index = by_path.get(file.as_path()).copied();
    if slot_index.is_some_and(|i| !slots[i].reported) {
        return None;
    }
    let mut report = HandlerReport {
        handler: name,
        routes,
        file,
        line,
        span: [line, line],
        class: Class::Unresolved,
        reasons: Vec::new(),
        edits: Vec::new(),
    };
    match &handler.class {
        RouteClass::Unresolved(why) => {
            report.reasons.push(Reason { line: report.line, message: why.clone(), chain: Vec::new() });
            return Some((report, None));
        }
        RouteClass::NotGetOnly => {
            report.class = Class::NotGetOnly;
            let others: Vec<String> = handler
                .routes
                .iter()
                .filter(|r| !r.methods.is_get_only())
                .map(|r| format!("{} at line {}", r.methods, r.line))
                .collect();
            report.reasons.push(Reason {
                line: report.line,
                message: format!("also served by {}", others.join(", ")),
                chain: Vec::new(),
            });
            return Some((report, None));
        }
        RouteClass::GetOnly => {}
    }
    let i = slot_index?;
    report.span = [item.start.line, item.end.line];
    let kept = extras[i].as_ref()?;
    let scan = &kept.scan;
    if scan.opt_outs.iter().any(|&l| l + 1 == item.start.line || (l >= item.start.line && l <= item.end.line))
    {
        report.class = Class::OptedOut;
        return Some((report, None));
    }
    // The file's functions, in the summaries since they moved there.
    let fn_ids = ids.get(i).map_or(&[][..], Vec::as_slice);
    let facts_of = |id: usize| &ctx.writers.function(id).facts;
    let position = match fn_range {
        Some(r) => fn_ids.iter().position(|&id| facts_of(id).range == r),
        None => {
            // A closure: the innermost function holding it.
            let name = kept.enclosing_fn(item);
            name.and_then(|name| fn_ids.iter().position(|&id| facts_of(id).range == name))
        }
    };
    let body = Body {
        facts: position.map(|p| facts_of(fn_ids[p])),
        id: position.map(|p| fn_ids[p]),
        range: item,
        scan,
        file: &slots[i].path,
    };
    let (class, reasons, uses) = classify::classify(ctx, &body);
    report.class = class;
    report.reasons = reasons;
    for u in &uses {
        let twin = match u.kind {
            UseKind::Type { .. } => ctx.names.rw_types.get(&u.name),
            _ => ctx.names.rw_accessors.get(&u.name),
        };
        if let Some(Some(to)) = twin {
            report.edits.push(PlannedEdit {
                line: u.range.start.line,
                column: u.range.start.column,
                from: u.name.clone(),
                to: to.clone(),
            });
        }
    }
    Some((report, Some((i, uses))))
}

/// Whether a GET-only handler of `handlers` names a read-write accessor or type (see
/// [`classify::names_read_write`]), the scan of a file found by `scan_of`. When none does,
/// every class is told without the summaries: what read-write handles reach is neither loaded
/// nor summarised.
fn any_names_read_write<'s>(handlers: &[Handler], scan_of: impl Fn(&Path) -> Option<&'s FileScan>) -> bool {
    handlers.iter().filter(|h| h.class == RouteClass::GetOnly).any(|h| {
        let (file, range) = match &h.target {
            HandlerTarget::Fn(f) => (&f.file, f.item),
            HandlerTarget::Closure(c) => (&c.file, c.range),
            HandlerTarget::Unresolved { .. } => return false,
        };
        scan_of(file).is_some_and(|scan| classify::names_read_write(scan, range))
    })
}

/// Files that could not be read or parsed, with the functions their text declares, so that
/// handlers they may define are reported as `unresolved` because of them.
#[derive(Default)]
struct FailedFiles {
    files: Vec<(FileError, Vec<String>)>,
}

impl FailedFiles {
    fn add(&mut self, err: &FileError, rules: &RuleSet) {
        let fns = source::read(&err.file, rules.max_file_bytes)
            .map(|src| prefilter::fn_names(&src.text))
            .unwrap_or_default();
        self.files.push((err.clone(), fns));
    }

    /// Why the reference `handler` may have no function: a failed file declares that name.
    fn reason_for(&self, handler: &str, line: u32) -> Option<Reason> {
        let name = handler.rsplit("::").next()?.trim();
        let (err, _) = self.files.iter().find(|(_, fns)| fns.iter().any(|f| f == name))?;
        Some(Reason {
            line,
            message: format!(
                "`{name}` may be defined in {}, which could not be read or parsed ({}:{}: {})",
                err.file.display(),
                err.file.display(),
                err.line,
                err.message
            ),
            chain: Vec::new(),
        })
    }
}
