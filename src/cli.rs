//! The command line: arguments, the rule set they select, the run, the exit status.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::baseline::Baseline;
use crate::config::RuleSet;
use crate::pipeline::{self, Options};
use crate::report::{self, Format, Style};
use crate::rules::{self, Rule};
use crate::timings::Timings;

/// Exit status: no findings, no errors.
pub const EXIT_CLEAN: u8 = 0;
/// Exit status: findings (or, for `migrate`, changes to make).
pub const EXIT_FINDINGS: u8 = 1;
/// Exit status: a usage or configuration error, a missing path, or a file error.
pub const EXIT_ERROR: u8 = 2;

/// Finds writes on read-only PostgreSQL handles in Rust code.
#[derive(Debug, Parser)]
#[command(name = "ro-audit", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Report write SQL executed on read-only bindings.
    Check(CheckArgs),
    /// Classify GET handlers and move the pure-read ones to the read-only accessor.
    Migrate(MigrateArgs),
    /// List the rules `check` reports, with a one-line summary each.
    Rules,
    /// Print the documentation of a rule.
    Explain {
        /// The rule id (`ro-write-sql`, …; `ro-audit rules` lists them).
        rule: String,
    },
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Files or directories to check.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Use this configuration file instead of looking for `ro-audit.toml`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Exit with 1 or 0 (by the findings) even when some files could not be read or parsed.
    #[arg(long)]
    keep_going: bool,
    /// Never use colours.
    #[arg(long)]
    no_color: bool,
    /// Print findings and errors only, no summary line.
    #[arg(short, long)]
    quiet: bool,
    /// Ignore `// ro-audit: allow(…)` comments: report every finding, judge no comment.
    #[arg(long)]
    no_suppress: bool,
    /// Report only findings not recorded in this baseline file (see `--write-baseline`).
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Record the current findings in this baseline file (replacing it), then report as if
    /// with `--baseline FILE`.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// List, on stderr, the calls with a handle whose callee could not be told (file:line,
    /// the callee as written, why); the summary counts them as `unresolved_calls`.
    #[arg(long)]
    explain_unresolved: bool,
    /// Print, on stderr, the wall-clock time of each phase of the run (also with
    /// `RO_AUDIT_TIMINGS=1`).
    #[arg(long)]
    timings: bool,
}

#[derive(Debug, Args)]
struct MigrateArgs {
    /// Files or directories whose handlers to migrate.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Write the rewrite (without it: print the table, the counts and the diff).
    #[arg(long)]
    apply: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = MigrateFormat::Human)]
    format: MigrateFormat,
    /// Treat functions outside the analysed tree that receive a handle as reading.
    #[arg(long)]
    trust_external: bool,
    /// Rewrite files even when git shows uncommitted changes in them.
    #[arg(long)]
    allow_dirty: bool,
    /// Only the handler of this name (`name` or `Type::name`).
    #[arg(long, value_name = "NAME")]
    handler: Option<String>,
    /// Plan and apply the rest when some files cannot be read or parsed (they are listed;
    /// handlers they may define are `unresolved`); exit by the result, not 2.
    #[arg(long)]
    keep_going: bool,
    /// After `--apply`, run CMD in the tree's root (split like a shell would, e.g.
    /// `--verify "cargo check --all-targets --offline"`); revert the handlers whose rewrite
    /// makes it fail (`rewrite-failed`, with the first error) and exit 2 if any was reverted.
    #[arg(long, value_name = "CMD", requires = "apply")]
    verify: Option<String>,
    /// Print, on stderr, the wall-clock time and resident memory of each phase of the run
    /// (also with `RO_AUDIT_TIMINGS=1`).
    #[arg(long)]
    timings: bool,
    /// Use this configuration file instead of looking for `ro-audit.toml`.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Never use colours.
    #[arg(long)]
    no_color: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum MigrateFormat {
    Human,
    Json,
}

/// Runs the command line; returns the exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { EXIT_ERROR } else { EXIT_CLEAN });
        }
    };
    match cli.command {
        Command::Check(args) => ExitCode::from(check(args)),
        Command::Migrate(args) => ExitCode::from(migrate(args)),
        Command::Rules => ExitCode::from(list_rules()),
        Command::Explain { rule } => ExitCode::from(explain(&rule)),
    }
}

fn list_rules() -> u8 {
    let width = rules::ALL.iter().map(|r| r.id.len()).max().unwrap_or(0);
    let mut text = String::new();
    for rule in rules::ALL {
        text.push_str(&format!("{:width$}  {}\n", rule.id, rule.summary()));
    }
    print_out(&text)
}

fn explain(id: &str) -> u8 {
    let Some(rule) = Rule::find(id) else {
        let known: Vec<&str> = rules::ALL.iter().map(|r| r.id).collect();
        return fail(&format!("`{id}` is not a rule; the rules are: {}", known.join(", ")));
    };
    let mut text = String::new();
    if !rule.is_reported() {
        text.push_str(
            "> Not reported yet: this version of ro-audit documents this rule but does not check it.\n\n",
        );
    }
    text.push_str(rule.doc);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    print_out(&text)
}

/// Prints `text` on stdout; a closed pipe is not an error.
fn print_out(text: &str) -> u8 {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => fail(&err),
        _ => EXIT_CLEAN,
    }
}

fn check(args: CheckArgs) -> u8 {
    let start = args.paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
    let rules = match RuleSet::load(args.config.as_deref(), &start) {
        Ok(rules) => rules,
        Err(err) => return fail(&err),
    };
    let baseline = match args.baseline.as_deref().map(Baseline::load).transpose() {
        Ok(baseline) => baseline,
        Err(err) => return fail(&err),
    };
    let options = Options { suppress: !args.no_suppress };
    let mut outcome = match pipeline::check_with(&args.paths, &rules, options) {
        Ok(outcome) => outcome,
        Err(err) => return fail(&err),
    };
    if let Some(path) = &args.write_baseline {
        // Recorded before `--baseline` filters: the new file holds every current finding, so
        // findings fixed since the old baseline drop out of it.
        match Baseline::write(path, &outcome.findings) {
            Ok(n) => eprintln!("ro-audit: recorded {n} finding(s) in the baseline {}", path.display()),
            Err(err) => return fail(&err),
        }
        let written = Baseline::load(path);
        match written {
            Ok(written) => written.apply(&mut outcome),
            Err(err) => return fail(&err),
        }
    }
    if let Some(baseline) = &baseline {
        baseline.apply(&mut outcome);
    }
    if args.timings || Timings::wanted_by_env() {
        eprint!("{}", outcome.timings);
    }
    if args.explain_unresolved {
        for call in &outcome.unresolved {
            eprintln!(
                "{}:{}: unresolved call `{}` in `{}`: {}",
                call.file.display(),
                call.line,
                call.callee,
                call.function,
                call.why
            );
        }
    }
    let color = !args.no_color
        && args.format == Format::Human
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal();
    let style = Style { color, quiet: args.quiet };
    // Buffered: a report of many findings is written in large blocks, not a line at a time.
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    if let Err(err) = report::write(&outcome, args.format, style, &mut stdout).and_then(|()| stdout.flush()) {
        if err.kind() != std::io::ErrorKind::BrokenPipe {
            return fail(&err);
        }
    }
    if !outcome.errors.is_empty() && !args.keep_going {
        EXIT_ERROR
    } else if !outcome.findings.is_empty() {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

fn migrate(args: MigrateArgs) -> u8 {
    use crate::migrate::{apply, pipeline as mp, report as mr, verify};
    let start = args.paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
    let rules = match RuleSet::load(args.config.as_deref(), &start) {
        Ok(rules) => rules,
        Err(err) => return fail(&err),
    };
    let command = match args.verify.as_deref().map(verify::VerifyCommand::parse).transpose() {
        Ok(command) => command,
        Err(err) => return fail(&err),
    };
    let options = mp::Options { trust_external: args.trust_external, handler: args.handler.clone() };
    let mut outcome = match mp::run(&args.paths, &rules, &options) {
        Ok(outcome) => outcome,
        Err(err) => return fail(&err),
    };
    let working = std::mem::take(&mut outcome.working);
    if command.is_some() {
        // `--verify` runs a build for a while: the working data is freed meanwhile.
        drop(working);
    } else {
        working.abandon();
    }
    let mut applied = false;
    let mut reverted = 0;
    if args.apply && (outcome.errors.is_empty() || args.keep_going) {
        // `--verify` plans files again from their texts before the rewrite: read them first.
        let olds = match command.as_ref().map(|_| outcome.changes.iter().map(|c| c.old()).collect()) {
            Some(Err(err)) => return fail(&format!("{}: {}", err.file.display(), err.message)),
            Some(Ok(olds)) => olds,
            None => Vec::new(),
        };
        if let Err(err) = apply::apply(&outcome.changes, &rules, args.allow_dirty) {
            return fail(&err);
        }
        applied = true;
        if let Some(command) = &command {
            match verify::verify(&mut outcome, &olds, command, &verify::root_of(&start), &rules) {
                Ok(verified) => {
                    reverted = verified.reverted.len();
                    eprintln!(
                        "ro-audit: `{}` ran {} time(s); {} handler(s) reverted",
                        command.text, verified.runs, reverted
                    );
                }
                Err(err) => return fail(&err),
            }
        }
    }
    let color = !args.no_color
        && args.format == MigrateFormat::Human
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal();
    // Buffered: the JSON document is written in small pieces, a line-buffered stdout would
    // make a system call per line.
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let printed = match args.format {
        MigrateFormat::Human => {
            mr::human(&outcome, applied, color, &crate::migrate::scan::MigrateNames::new(&rules), &mut stdout)
        }
        MigrateFormat::Json => mr::json(&outcome, applied, &mut stdout),
    };
    if let Err(err) = printed.and_then(|()| stdout.flush()) {
        if err.kind() != std::io::ErrorKind::BrokenPipe {
            return fail(&err);
        }
    }
    if args.timings || Timings::wanted_by_env() {
        outcome.timings.lap(if applied { "apply, report" } else { "report" });
        eprint!("{}", outcome.timings);
    }
    if !outcome.errors.is_empty() && !args.keep_going {
        if args.apply {
            eprintln!("ro-audit: error: nothing written: some files could not be read, parsed or edited (--keep-going writes the rest)");
        }
        EXIT_ERROR
    } else if reverted > 0 {
        EXIT_ERROR
    } else if args.apply || outcome.changes.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    }
}

fn fail(err: &dyn std::fmt::Display) -> u8 {
    eprintln!("ro-audit: error: {err}");
    EXIT_ERROR
}
