//! `migrate --apply --verify CMD`: after the rewrite is written, run `CMD` in the tree's root;
//! when it fails, find the handlers whose rewrite breaks it — bisecting by file, then by
//! handler within each failing file — revert them, and mark them `rewrite-failed` with the
//! first compiler error. The tree ends as it was plus every rewrite that keeps `CMD` passing.
//!
//! Every file is written whole and atomically ([`super::apply::write`]); the text of a file
//! with some of its handlers reverted is planned again from the original text, read before the
//! rewrite was written ([`super::outcome::FileChange::new_text`]), never patched. This module never judges a handler: it only runs
//! the command.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::apply::{self, ApplyError};
use super::classify::{Class, Reason};
use super::outcome::{self, FileChange, Outcome};
use super::scan::MigrateNames;
use crate::diagnostics::FileError;

/// The command `--verify` runs, split like a shell would split it (no shell runs it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyCommand {
    /// As given.
    pub text: String,
    program: String,
    args: Vec<String>,
}

impl VerifyCommand {
    /// Splits `text` into words (quotes and backslashes as in a POSIX shell).
    pub fn parse(text: &str) -> Result<VerifyCommand, VerifyError> {
        let words = shlex::split(text).filter(|w| !w.is_empty());
        let mut words = words.ok_or_else(|| VerifyError::BadCommand(text.to_string()))?.into_iter();
        let program = words.next().ok_or_else(|| VerifyError::BadCommand(text.to_string()))?;
        Ok(VerifyCommand { text: text.to_string(), program, args: words.collect() })
    }

    /// Runs it in `root`: `None` when it succeeds, else its first error.
    fn run(&self, root: &Path) -> Result<Option<String>, VerifyError> {
        let output = Command::new(&self.program)
            .args(&self.args)
            .current_dir(root)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| VerifyError::Spawn(self.text.clone(), e))?;
        if output.status.success() {
            return Ok(None);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        Ok(Some(first_error(&stderr, &stdout).unwrap_or_else(|| format!("exited with {}", output.status))))
    }
}

/// Why `--verify` could not decide.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The command is empty or its quotes do not close.
    #[error("--verify: cannot split `{0}` into words (empty, or an unclosed quote)")]
    BadCommand(String),
    /// The command could not be started.
    #[error("--verify: cannot run `{0}`: {1}; every file was restored")]
    Spawn(String, std::io::Error),
    /// The command fails on the tree without any rewrite: nothing can be blamed.
    #[error(
        "--verify: `{0}` fails without the rewrite too ({1}); every file was restored, nothing is rewritten"
    )]
    FailsBefore(String, String),
    /// Writing a file failed.
    #[error("--verify: {0} (files restored as far as possible)")]
    Write(#[from] ApplyError),
    /// Planning a file again failed.
    #[error("--verify: {}:{}: {}", .0.file.display(), .0.line, .0.message)]
    Replan(FileError),
}

/// What `--verify` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Handlers reverted (by index in [`Outcome::handlers`]), with the first error.
    pub reverted: Vec<(usize, String)>,
    /// How many times the command ran.
    pub runs: usize,
}

/// The first error of a compiler's output: the first line starting with `error` that is not a
/// summary, with the `-->` location line after it.
fn first_error(stderr: &str, stdout: &str) -> Option<String> {
    for text in [stderr, stdout] {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            let summary = t.starts_with("error: could not compile") || t.starts_with("error: aborting");
            if !t.starts_with("error") || summary {
                continue;
            }
            let place = lines[i + 1..].iter().take(3).map(|l| l.trim_start()).find(|l| l.starts_with("--> "));
            return Some(match place {
                Some(place) => format!("{} {}", t.trim_end(), place.trim_end()),
                None => t.trim_end().to_string(),
            });
        }
    }
    stderr.lines().chain(stdout.lines()).map(str::trim).find(|l| !l.is_empty()).map(str::to_string)
}

/// The tree on disk during a verification: which handlers of which changed file are written.
struct Tree<'a> {
    changes: &'a [FileChange],
    /// Each changed file's text before the rewrite.
    olds: &'a [String],
    names: MigrateNames,
    written: BTreeMap<usize, BTreeSet<usize>>,
    command: &'a VerifyCommand,
    root: &'a Path,
    runs: usize,
}

impl Tree<'_> {
    /// Writes file `f` with the handlers `keep`.
    fn write(&mut self, f: usize, keep: BTreeSet<usize>) -> Result<(), VerifyError> {
        let change = &self.changes[f];
        let text = change.new_text(&self.olds[f], Some(&keep), &self.names).map_err(VerifyError::Replan)?;
        apply::write(&change.path, &text)?;
        self.written.insert(f, keep);
        Ok(())
    }

    fn run(&mut self) -> Result<Option<String>, VerifyError> {
        self.runs += 1;
        self.command.run(self.root)
    }

    /// Adds `adds` (file → handlers) to what is written and runs the command: kept when it
    /// passes, taken back when it fails (its error returned).
    fn try_add(&mut self, adds: &[(usize, BTreeSet<usize>)]) -> Result<Option<String>, VerifyError> {
        let before: Vec<(usize, BTreeSet<usize>)> =
            adds.iter().map(|(f, _)| (*f, self.written.get(f).cloned().unwrap_or_default())).collect();
        for (f, handlers) in adds {
            let mut keep = self.written.get(f).cloned().unwrap_or_default();
            keep.extend(handlers);
            self.write(*f, keep)?;
        }
        let failure = self.run()?;
        if failure.is_some() {
            for (f, keep) in before {
                self.write(f, keep)?;
            }
        }
        Ok(failure)
    }
}

/// A test run: `None` when the command passes, else its first error.
type RunResult = Result<Option<String>, VerifyError>;

/// Adaptive group testing: adds `items` to the tree, halving the groups that fail, down to
/// the single items that fail on their own. `known` is the error of `items` as a whole when
/// it is already known to fail.
fn bisect<T: Clone>(
    items: &[T],
    known: Option<String>,
    try_add: &mut dyn FnMut(&[T]) -> RunResult,
) -> Result<Vec<(T, String)>, VerifyError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let failure = match known {
        Some(err) => Some(err),
        None => try_add(items)?,
    };
    let Some(err) = failure else { return Ok(Vec::new()) };
    if items.len() == 1 {
        return Ok(vec![(items[0].clone(), err)]);
    }
    let (left, right) = items.split_at(items.len() / 2);
    let mut bad = bisect(left, None, try_add)?;
    // When the left half is kept whole, the failure of the whole is the right half's.
    let right_known = bad.is_empty().then_some(err);
    bad.extend(bisect(right, right_known, try_add)?);
    Ok(bad)
}

/// Runs the command on the applied tree and reverts what breaks it; updates `outcome`
/// (classes, reasons, changes, counts). The changes must have been written already; `olds`
/// are their files' texts before (read with [`FileChange::old`] before writing). When it
/// cannot decide (the command does not start, a file cannot be written), every changed file is
/// restored to its original text as far as possible and the error returned.
pub fn verify(
    outcome: &mut Outcome,
    olds: &[String],
    command: &VerifyCommand,
    root: &Path,
    rules: &crate::config::RuleSet,
) -> Result<Verified, VerifyError> {
    let result = bisect_tree(outcome, olds, command, root, rules);
    if result.is_err() {
        for (change, old) in outcome.changes.iter().zip(olds) {
            let _ = apply::write(&change.path, old);
        }
    }
    result
}

fn bisect_tree(
    outcome: &mut Outcome,
    olds: &[String],
    command: &VerifyCommand,
    root: &Path,
    rules: &crate::config::RuleSet,
) -> Result<Verified, VerifyError> {
    let all: BTreeMap<usize, BTreeSet<usize>> = outcome
        .changes
        .iter()
        .enumerate()
        .map(|(f, c)| (f, c.handlers.iter().map(|(h, _)| *h).collect()))
        .collect();
    let names = MigrateNames::new(rules);
    let mut tree =
        Tree { changes: &outcome.changes, olds, names, written: all.clone(), command, root, runs: 0 };
    let Some(whole) = tree.run()? else {
        return Ok(Verified { reverted: Vec::new(), runs: tree.runs });
    };
    for f in 0..tree.changes.len() {
        tree.write(f, BTreeSet::new())?;
    }
    if let Some(err) = tree.run()? {
        return Err(VerifyError::FailsBefore(command.text.clone(), err));
    }
    // By file, then by handler within each failing file.
    let files: Vec<usize> = (0..tree.changes.len()).collect();
    let bad_files = bisect(&files, Some(whole), &mut |group: &[usize]| {
        let adds: Vec<(usize, BTreeSet<usize>)> = group.iter().map(|f| (*f, all[f].clone())).collect();
        tree.try_add(&adds)
    })?;
    let mut reverted = Vec::new();
    for (f, err) in bad_files {
        let handlers: Vec<usize> = all[&f].iter().copied().collect();
        let known = Some(err);
        reverted.extend(bisect(&handlers, known, &mut |group: &[usize]| {
            tree.try_add(&[(f, group.iter().copied().collect())])
        })?);
    }
    let runs = tree.runs;
    let written = tree.written;
    record(outcome, olds, &written, &reverted, command)?;
    Ok(Verified { reverted, runs })
}

/// Puts what is on disk into `outcome`: the reverted handlers' class and reason, the kept
/// changes' texts, the counts.
fn record(
    outcome: &mut Outcome,
    olds: &[String],
    written: &BTreeMap<usize, BTreeSet<usize>>,
    reverted: &[(usize, String)],
    command: &VerifyCommand,
) -> Result<(), VerifyError> {
    for (h, err) in reverted {
        let report = &mut outcome.handlers[*h];
        report.class = Class::RewriteFailed;
        report.edits.clear();
        report.reasons = vec![Reason {
            line: report.line,
            message: format!("reverted: `{}` fails with this rewrite: {err}", command.text),
            chain: Vec::new(),
        }];
    }
    let mut kept = Vec::new();
    for (f, (mut change, old)) in std::mem::take(&mut outcome.changes).into_iter().zip(olds).enumerate() {
        let keep = written.get(&f).cloned().unwrap_or_default();
        change.handlers.retain(|(h, _)| keep.contains(h));
        let text = std::fs::read_to_string(&change.path)
            .map_err(|e| VerifyError::Write(ApplyError::Write(change.path.clone(), e)))?;
        if &text != old {
            kept.push(change);
        }
    }
    outcome.changes = kept;
    outcome.counts = outcome::counts(outcome);
    Ok(())
}

/// The directory `--verify` runs in: the nearest directory holding a `Cargo.toml` at or above
/// the first path, else that path's directory.
pub fn root_of(path: &Path) -> PathBuf {
    let start = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().unwrap_or(Path::new(".")).to_path_buf()
    };
    let start = if start.as_os_str().is_empty() { PathBuf::from(".") } else { start };
    let absolute = std::fs::canonicalize(&start).unwrap_or_else(|_| start.clone());
    absolute.ancestors().find(|d| d.join("Cargo.toml").is_file()).map_or(start, Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_like_a_shell() {
        let c = VerifyCommand::parse("cargo check --all-targets 'a b' \"c\\\"d\"").unwrap();
        assert_eq!(c.program, "cargo");
        assert_eq!(c.args, ["check", "--all-targets", "a b", "c\"d"]);
        assert!(VerifyCommand::parse("  ").is_err());
        assert!(VerifyCommand::parse("cargo 'check").is_err());
    }

    #[test]
    fn the_first_compiler_error_with_its_place() {
        let stderr = "    Checking app v0.1.0\nerror[E0277]: the trait bound `&Ro: Executor` is not satisfied\n  --> src/lib.rs:9:20\n   |\nerror[E0308]: mismatched\nerror: could not compile `app`\n";
        assert_eq!(
            first_error(stderr, "").unwrap(),
            "error[E0277]: the trait bound `&Ro: Executor` is not satisfied --> src/lib.rs:9:20"
        );
        assert_eq!(
            first_error("error: could not compile `x`\n", "boom\n").unwrap(),
            "error: could not compile `x`"
        );
        assert_eq!(first_error("", "").as_deref(), None);
    }

    /// Bisection finds exactly the items that fail on their own, however they are placed.
    #[test]
    fn bisection_finds_each_failing_item() {
        for bad in [vec![], vec![0], vec![6], vec![2, 3], vec![0, 4, 6], vec![0, 1, 2, 3, 4, 5, 6]] {
            let items: Vec<usize> = (0..7).collect();
            let mut kept: BTreeSet<usize> = BTreeSet::new();
            let mut runs = 0;
            let mut try_add = |group: &[usize]| -> Result<Option<String>, VerifyError> {
                runs += 1;
                match group.iter().find(|i| bad.contains(i)) {
                    Some(i) => Ok(Some(format!("error in {i}"))),
                    None => {
                        kept.extend(group);
                        Ok(None)
                    }
                }
            };
            let known = (!bad.is_empty()).then(|| format!("error in {}", bad[0]));
            let found = bisect(&items, known, &mut try_add).unwrap();
            let found_items: Vec<usize> = found.iter().map(|(i, _)| *i).collect();
            assert_eq!(found_items, bad);
            for (i, err) in &found {
                assert_eq!(err, &format!("error in {i}"));
            }
            let good: BTreeSet<usize> = items.iter().copied().filter(|i| !bad.contains(i)).collect();
            assert_eq!(kept, good);
            assert!(runs <= 14, "{runs} runs for {bad:?}");
        }
    }
}
