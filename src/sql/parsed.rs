//! The syntax-tree judge: classifies one statement that `sqlparser` parsed.
//!
//! Reads are an explicit list of statement kinds (queries without locks or writes, SHOW,
//! SET of other settings, transaction control, cursors over reads, plain EXPLAIN, COPY … TO,
//! weak LOCK modes, UNLISTEN, PREPARE/EXECUTE of reads); a query is walked in full —
//! CTEs, set operations, subqueries, function calls in any position, FROM-clause functions —
//! for locking clauses, `SELECT … INTO`, data-modifying statements and writing functions.
//! Every other statement kind is a write, named by its leading keywords. It must never
//! return a read for a kind it does not handle explicitly.

use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, CopySource, CopyTarget, Declare, DeclareType, DescribeAlias, Expr, FunctionArg,
    FunctionArgExpr, FunctionArgOperator, FunctionArguments, Ident, LockTableMode, LockType, ObjectName,
    Query, Reset, Select, Set, Statement, TableFactor, TransactionAccessMode, TransactionMode, UtilityOption,
    Value, Visit, Visitor,
};

use super::policy::{self, Arg};
use super::{keywords, lexer, Session, Verdict, Write, WriteReason};

/// Classifies one parsed statement.
pub(super) fn classify(statement: &Statement, session: &mut Session) -> Verdict {
    match statement {
        Statement::Query(query) => scan(query.as_ref()),
        Statement::Explain {
            describe_alias: DescribeAlias::Explain, analyze, options, statement, ..
        } => explain(*analyze || analyze_option(options.as_deref()), statement, session),
        Statement::Copy { to: true, target, .. } if !matches!(target, CopyTarget::Stdout) => {
            policy::write("COPY … TO a server file or program", WriteReason::BypassesGuard)
        }
        Statement::Copy { to: true, source, .. } => match source {
            CopySource::Query(query) => scan(query.as_ref()),
            CopySource::Table { .. } => Verdict::Read,
        },
        Statement::Set(set) => set_statement(set, statement),
        Statement::Reset(reset) => reset_statement(&reset.reset),
        Statement::StartTransaction { modes, begin, statements, exception, .. }
            if statements.is_empty() && exception.is_none() =>
        {
            start_transaction(modes, *begin)
        }
        Statement::Declare { stmts } => declare(stmts, statement),
        Statement::Lock(lock) => {
            let mode = lock.lock_mode.as_ref().map_or("access exclusive", lock_mode_words);
            policy::lock_table(mode).unwrap_or_else(|| Verdict::Write(named(statement)))
        }
        Statement::Prepare { name, statement, .. } => {
            let prepared = classify(statement, session);
            session.prepare(ident_key(name), prepared)
        }
        Statement::Execute { name: Some(name), parameters, immediate: false, into, using, .. }
            if into.is_empty() && using.is_empty() =>
        {
            execute(name, parameters, session).unwrap_or_else(|| Verdict::Write(named(statement)))
        }
        Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Savepoint { .. }
        | Statement::ReleaseSavepoint { .. }
        | Statement::Fetch { into: None, .. }
        | Statement::Close { .. }
        | Statement::Deallocate { .. }
        | Statement::Discard { .. }
        | Statement::ShowVariable { .. }
        | Statement::UNLISTEN { .. } => Verdict::Read,
        _ => Verdict::Write(named(statement)),
    }
}

/// RESET: a read, unless it resets the guard.
fn reset_statement(reset: &Reset) -> Verdict {
    match reset {
        Reset::ConfigurationParameter(name) => match single_name(name) {
            Some(n) if policy::is_guard_setting(&n) => {
                policy::write(format!("RESET {}", n.to_ascii_lowercase()), WriteReason::GuardOff)
            }
            _ => Verdict::Read,
        },
        Reset::ALL | Reset::SessionAuthorization => Verdict::Read,
    }
}

/// BEGIN / START TRANSACTION: a read, unless READ WRITE.
fn start_transaction(modes: &[TransactionMode], begin: bool) -> Verdict {
    match (read_write(modes), begin) {
        (true, true) => policy::write("BEGIN READ WRITE", WriteReason::GuardOff),
        (true, false) => policy::write("START TRANSACTION READ WRITE", WriteReason::GuardOff),
        (false, _) => Verdict::Read,
    }
}

/// DECLARE … CURSOR FOR query: what the query does. Other DECLAREs are not PostgreSQL's.
fn declare(declarations: &[Declare], statement: &Statement) -> Verdict {
    let queries: Option<Vec<&Query>> = declarations
        .iter()
        .map(|d| match (&d.declare_type, &d.for_query) {
            (Some(DeclareType::Cursor), Some(query)) => Some(query.as_ref()),
            _ => None,
        })
        .collect();
    match queries {
        Some(queries) => first_write(queries.into_iter().map(scan)),
        None => Verdict::Write(named(statement)),
    }
}

/// EXECUTE name (arguments): a write in the arguments, else what the prepared statement
/// does; `None` for a name PostgreSQL would not accept.
fn execute(name: &ObjectName, arguments: &[Expr], session: &Session) -> Option<Verdict> {
    let [part] = name.0.as_slice() else {
        return None;
    };
    let ident = part.as_ident()?;
    Some(match first_write(arguments.iter().map(scan)) {
        Verdict::Read => session.execute(&ident_key(ident)),
        write => write,
    })
}

/// Names the write of a statement from its leading keywords (as `sqlparser` prints it).
fn named(statement: &Statement) -> Write {
    let text = statement.to_string();
    match lexer::lex(&text) {
        Ok(tokens) if !tokens.is_empty() => keywords::named_write(&tokens),
        _ => Write { what: "unrecognised SQL".to_string(), why: WriteReason::Unrecognised },
    }
}

fn first_write(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
    verdicts.into_iter().find(|v| matches!(v, Verdict::Write(_))).unwrap_or(Verdict::Read)
}

/// Walks a query (or any node) for the first thing in it that writes.
fn scan(node: &impl Visit) -> Verdict {
    match node.visit(&mut QueryScan::default()) {
        ControlFlow::Break(write) => Verdict::Write(write),
        ControlFlow::Continue(()) => Verdict::Read,
    }
}

/// Finds what writes inside a query: locking clauses, `SELECT … INTO`, data-modifying
/// statements (in CTEs, after WITH, as COPY's query), calls of writing functions.
#[derive(Default)]
struct QueryScan {
    /// How many of the queries around the current node have a WITH clause.
    inside_with: usize,
}

impl Visitor for QueryScan {
    type Break = Write;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<Write> {
        self.inside_with += usize::from(query.with.is_some());
        match query.locks.first() {
            Some(lock) => {
                let strength = match lock.lock_type {
                    LockType::Update => "UPDATE",
                    LockType::Share => "SHARE",
                };
                read_only_refusal(format!("SELECT … FOR {strength}"))
            }
            None => ControlFlow::Continue(()),
        }
    }

    fn post_visit_query(&mut self, query: &Query) -> ControlFlow<Write> {
        self.inside_with -= usize::from(query.with.is_some());
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<Write> {
        match select.into {
            Some(_) => read_only_refusal("SELECT … INTO".to_string()),
            None => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<Write> {
        let what = named(statement).what;
        match self.inside_with {
            0 => read_only_refusal(what),
            _ => read_only_refusal(format!("WITH … {what}")),
        }
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<Write> {
        match expr {
            Expr::Function(function) => {
                let args = match &function.args {
                    FunctionArguments::List(list) => list.args.as_slice(),
                    FunctionArguments::None | FunctionArguments::Subquery(_) => &[],
                };
                call(&function.name, args)
            }
            _ => ControlFlow::Continue(()),
        }
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<Write> {
        match factor {
            TableFactor::Table { name, args: Some(args), .. } => call(name, &args.args),
            TableFactor::Function { name, args, .. } => call(name, args),
            _ => ControlFlow::Continue(()),
        }
    }
}

fn read_only_refusal(what: String) -> ControlFlow<Write> {
    ControlFlow::Break(Write { what, why: WriteReason::ReadOnlyTransaction })
}

/// A call of the function `name`: breaks when it is a writing built-in.
fn call(name: &ObjectName, args: &[FunctionArg]) -> ControlFlow<Write> {
    let Some(function) = name.0.last().and_then(|part| part.as_ident()) else {
        return ControlFlow::Continue(());
    };
    let args: Vec<Arg> = args.iter().map(argument).collect();
    match policy::function_call(&function.value, &args) {
        Some(write) => ControlFlow::Break(write),
        None => ControlFlow::Continue(()),
    }
}

/// One call argument: positional, or named with `=>` or `:=` (which `sqlparser` reads in
/// three different shapes). Any other shape is a named argument no one asks for.
fn argument(arg: &FunctionArg) -> Arg {
    let named = |name: &Ident, value: Option<String>| Arg { name: Some(ident_key(name)), literal: value };
    let operator_ok = |op: &FunctionArgOperator| {
        matches!(op, FunctionArgOperator::RightArrow | FunctionArgOperator::Assignment)
    };
    match arg {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::BinaryOp {
            left,
            op: BinaryOperator::Assignment,
            right,
        })) => match left.as_ref() {
            Expr::Identifier(name) => named(name, literal(right)),
            _ => opaque_argument(),
        },
        FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => Arg { name: None, literal: literal(expr) },
        FunctionArg::Unnamed(_) => Arg { name: None, literal: None },
        FunctionArg::Named { name, arg: FunctionArgExpr::Expr(expr), operator } if operator_ok(operator) => {
            named(name, literal(expr))
        }
        FunctionArg::ExprNamed {
            name: Expr::Identifier(name),
            arg: FunctionArgExpr::Expr(expr),
            operator,
        } if operator_ok(operator) => named(name, literal(expr)),
        _ => opaque_argument(),
    }
}

fn opaque_argument() -> Arg {
    Arg { name: Some(String::new()), literal: None }
}

/// The value of a literal expression (casts and parentheses see through), or `None`.
fn literal(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Value(value) => match &value.value {
            Value::SingleQuotedString(s)
            | Value::EscapedStringLiteral(s)
            | Value::NationalStringLiteral(s)
            | Value::UnicodeStringLiteral(s) => Some(s.clone()),
            Value::DollarQuotedString(s) => Some(s.value.clone()),
            Value::Number(n, _) => Some(n.to_string()),
            Value::Boolean(b) => Some(b.to_string()),
            _ => None,
        },
        Expr::Cast { expr, .. } | Expr::Nested(expr) => literal(expr),
        _ => None,
    }
}

/// EXPLAIN: a read, unless ANALYZE runs a statement that writes.
fn explain(analyze: bool, statement: &Statement, session: &mut Session) -> Verdict {
    if !analyze {
        return Verdict::Read;
    }
    match classify(statement, session) {
        Verdict::Write(w) => policy::write(format!("EXPLAIN ANALYZE {}", w.what), w.why),
        Verdict::Read => Verdict::Read,
    }
}

/// True when the EXPLAIN options turn ANALYZE on (`ANALYZE`, `ANALYZE true`, anything but
/// an explicit false).
fn analyze_option(options: Option<&[UtilityOption]>) -> bool {
    options.unwrap_or_default().iter().any(|option| {
        let name = option.name.value.to_ascii_lowercase();
        let off = match &option.arg {
            Some(Expr::Identifier(ident)) => policy::means_off(&ident.value),
            Some(expr) => literal(expr).is_some_and(|v| policy::means_off(&v)),
            None => false,
        };
        (name == "analyze" || name == "analyse") && !off
    })
}

/// SET: a read unless it switches the guard off.
fn set_statement(set: &Set, statement: &Statement) -> Verdict {
    match set {
        Set::SingleAssignment { variable, values, .. } => match single_name(variable) {
            Some(name) if policy::is_guard_setting(&name) => {
                let value = match values.as_slice() {
                    [Expr::Identifier(ident)] if ident.quote_style.is_none() => {
                        Some(ident.value.to_ascii_lowercase())
                    }
                    [value] => literal(value),
                    _ => None,
                };
                policy::guard_set(&name, value.as_deref())
            }
            Some(_) => Verdict::Read,
            None => Verdict::Write(named(statement)),
        },
        Set::SetTransaction { modes, session, .. } => match (read_write(modes), session) {
            (true, true) => {
                policy::write("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", WriteReason::GuardOff)
            }
            (true, false) => policy::write("SET TRANSACTION READ WRITE", WriteReason::GuardOff),
            (false, _) => Verdict::Read,
        },
        Set::SetSessionAuthorization(_)
        | Set::SetSessionParam(_)
        | Set::SetRole { .. }
        | Set::SetTimeZone { .. }
        | Set::SetNames { .. }
        | Set::SetNamesDefault {} => Verdict::Read,
        Set::ParenthesizedAssignments { .. } | Set::MultipleAssignments { .. } => {
            Verdict::Write(named(statement))
        }
    }
}

fn read_write(modes: &[TransactionMode]) -> bool {
    modes.iter().any(|m| matches!(m, TransactionMode::AccessMode(TransactionAccessMode::ReadWrite)))
}

/// The name of a one-part object name (`search_path`), as written.
fn single_name(name: &ObjectName) -> Option<String> {
    match name.0.as_slice() {
        [part] => part.as_ident().map(|i| i.value.clone()),
        _ => None,
    }
}

/// How PostgreSQL keys a name: unquoted names fold to lower case.
fn ident_key(ident: &Ident) -> String {
    match ident.quote_style {
        None => ident.value.to_ascii_lowercase(),
        Some(_) => ident.value.clone(),
    }
}

fn lock_mode_words(mode: &LockTableMode) -> &'static str {
    match mode {
        LockTableMode::AccessShare => "access share",
        LockTableMode::RowShare => "row share",
        LockTableMode::RowExclusive => "row exclusive",
        LockTableMode::ShareUpdateExclusive => "share update exclusive",
        LockTableMode::Share => "share",
        LockTableMode::ShareRowExclusive => "share row exclusive",
        LockTableMode::Exclusive => "exclusive",
        LockTableMode::AccessExclusive => "access exclusive",
    }
}
