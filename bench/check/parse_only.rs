//! The benchmark's baseline: walk the same tree as `ro-audit check`, read every Rust file and
//! parse it with syn on the same large-stack pool, the files dealt to its workers as check's
//! first pass deals them (`pipeline::FILES_PER_JOB`), and nothing else. `bench/check/run` prints
//! `check`'s time as a ratio of this one's.
//!
//! Usage: `parse-only PATH...`; prints the number of files parsed and failed.

use std::path::PathBuf;
use std::process::ExitCode;

use rayon::prelude::*;
use ro_audit::config::RuleSet;
use ro_audit::{parse, pipeline, source, walk};

fn main() -> ExitCode {
    // As the ro-audit binary does: both run with the same allocator settings.
    ro_audit::heap::keep_freed_memory();
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        eprintln!("usage: parse-only PATH...");
        return ExitCode::from(2);
    }
    let rules = RuleSet::builtin(&std::env::current_dir().unwrap_or_default());
    let walked = match walk::walk(&paths, &rules) {
        Ok(walked) => walked,
        Err(err) => {
            eprintln!("parse-only: {err}");
            return ExitCode::from(2);
        }
    };
    let pool = match pipeline::worker_pool() {
        Ok(pool) => pool,
        Err(err) => {
            eprintln!("parse-only: {err}");
            return ExitCode::from(2);
        }
    };
    let (parsed, failed) = pool.install(|| {
        walked
            .files
            .par_iter()
            .with_max_len(pipeline::FILES_PER_JOB)
            .map(|file| {
                let ok = source::read(&file.path, rules.max_file_bytes)
                    .map(|src| parse::parse(&file.path, &src).map(|tree| tree.items.len()).is_ok())
                    .unwrap_or(false);
                parse::release_spans();
                if ok {
                    (1, 0)
                } else {
                    (0, 1)
                }
            })
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    println!("parsed {parsed} files, {failed} failed");
    ExitCode::SUCCESS
}
