//! What a run keeps of a file's first parse once discovery is done: for a file holding a GET
//! handler, only what the classifier and the planner read — its name uses and opt-out lines,
//! its functions' body and name ranges (for a closure's enclosing function), and the
//! read-write names its `use` items name (for planning without a parse); and for any file, its
//! functions' read-write-typed parameters. Every other file's route facts and scan, and the
//! rest of these, go before the index and the summaries are built. It never judges or plans.

use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;

use super::routes::{FileRoutes, Handler, HandlerTarget};
use super::scan::{FileScan, MigrateNames};
use crate::source::TextRange;

/// What is kept of a file holding a handler (or of one with read-write-typed parameters:
/// then only those).
#[derive(Debug, Default)]
pub struct HandlerFile {
    /// Its name uses and opt-out lines, its functions' read-write-typed parameters (no
    /// derefs).
    pub scan: FileScan,
    /// Each function's body and name token, in source order.
    pub bodies: Vec<(TextRange, TextRange)>,
    /// The read-write names (accessors, types) that a `use` item names, by alias or last
    /// segment.
    pub imported: Vec<String>,
}

impl HandlerFile {
    /// The name token of the innermost function whose body holds `range`.
    pub fn enclosing_fn(&self, range: TextRange) -> Option<TextRange> {
        self.bodies
            .iter()
            .filter(|(body, _)| {
                body.start.offset <= range.start.offset && body.end.offset >= range.end.offset
            })
            .max_by_key(|(body, _)| body.start.offset)
            .map(|&(_, name)| name)
    }
}

/// Of each file's first parse (`first`, by slot), what the files holding one of `handlers`
/// keep (`by_path`: slot index of each walked path), and the read-write-typed parameters of
/// the others; `None` for a file with neither.
pub fn handler_files(
    first: Vec<Option<(FileRoutes, FileScan)>>,
    handlers: &[Handler],
    by_path: &HashMap<&Path, usize>,
    names: &MigrateNames,
) -> Vec<Option<HandlerFile>> {
    let mut holds = vec![false; first.len()];
    for h in handlers {
        let file = match &h.target {
            HandlerTarget::Fn(f) => &f.file,
            HandlerTarget::Closure(c) => &c.file,
            HandlerTarget::Unresolved { .. } => continue,
        };
        if let Some(&i) = by_path.get(file.as_path()) {
            holds[i] = true;
        }
    }
    let rw = |name: &String| names.rw_accessors.contains_key(name) || names.rw_types.contains_key(name);
    // On the pool: most of the work is freeing what is not kept.
    first
        .into_par_iter()
        .zip(holds)
        .map(|(parsed, holds)| {
            let (routes, scan) = parsed?;
            if !holds {
                let fns = scan.fns;
                return (!fns.is_empty()).then(|| HandlerFile {
                    scan: FileScan { fns, ..FileScan::default() },
                    ..HandlerFile::default()
                });
            }
            let mut imported: Vec<String> = routes
                .imports
                .iter()
                .flat_map(|i| std::iter::once(&i.alias).chain(i.target.last()))
                .filter(|n| rw(n))
                .cloned()
                .collect();
            imported.sort_unstable();
            imported.dedup();
            Some(HandlerFile {
                scan: FileScan {
                    uses: scan.uses,
                    fns: scan.fns,
                    opt_outs: scan.opt_outs,
                    derefs: Vec::new(),
                },
                bodies: routes.functions.iter().map(|f| (f.body, f.name_range)).collect(),
                imported,
            })
        })
        .collect()
}
