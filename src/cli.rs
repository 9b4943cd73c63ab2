//! The command line: arguments, the rule set they select, the run, the exit status.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::RuleSet;
use crate::pipeline;
use crate::report::{self, Format, Style};

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
    }
}

fn check(args: CheckArgs) -> u8 {
    let start = args.paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
    let rules = match RuleSet::load(args.config.as_deref(), &start) {
        Ok(rules) => rules,
        Err(err) => return fail(&err),
    };
    let outcome = match pipeline::check(&args.paths, &rules) {
        Ok(outcome) => outcome,
        Err(err) => return fail(&err),
    };
    let color = !args.no_color
        && args.format == Format::Human
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal();
    let style = Style { color, quiet: args.quiet };
    let mut stdout = std::io::stdout().lock();
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

fn fail(err: &dyn std::fmt::Display) -> u8 {
    eprintln!("ro-audit: error: {err}");
    EXIT_ERROR
}
