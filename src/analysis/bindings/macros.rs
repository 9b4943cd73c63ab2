//! Macros: SQL text built by string macros (`format!` with positional, named and inline
//! arguments, `concat!`), `write!` appending to SQL text, query macros and SQL-file macros,
//! diverging macros, and macro bodies analysed as expressions or statements where they parse.
//!
//! Macro names come from the rule set (plus the standard library's own `write!`, `panic!`
//! and `include_str!`); it never expands a macro it cannot parse into anything but a hole.

use std::rc::Rc;

use syn::{Expr, Lit, Macro};

use super::state::Value;
use super::FnAnalysis;
use crate::analysis::facts::SqlText;
use crate::analysis::macro_code::{self, MacroCode, MacroGroup, MacroPart};
use crate::analysis::names::elements;
use crate::analysis::syntax_text::shared_idents;

/// Macros that append formatted text to their first argument (`write!(sql, " AND id = {}", id)`).
const WRITE_MACROS: &[&str] = &["write", "writeln"];
/// Macros after which control does not continue.
const DIVERGING_MACROS: &[&str] = &["panic", "unreachable", "todo", "unimplemented"];

impl FnAnalysis<'_> {
    pub(super) fn mac(&mut self, mac: &Macro) -> Value {
        let path = shared_idents(mac.path.segments.pairs().map(|s| &s.value().ident));
        let path: &[String] = &path;
        let name = path.last().map_or("", String::as_str);
        if self.names.string_macros.matches_path(path) {
            return self.string_macro(name, mac);
        }
        if WRITE_MACROS.contains(&name) {
            return self.write_macro(mac);
        }
        if name == "include_str" {
            if let Ok(lit) = mac.parse_body::<syn::LitStr>() {
                return Value::sql(SqlText::File(lit.value()));
            }
        }
        let code = MacroCode::parse(mac);
        if self.names.sql_file_macros.matches_path(path) {
            // `sqlx::query_file!("queries/x.sql", args…)`, `query_file_as!(Row, "q.sql")`.
            let mut file = None;
            if let MacroCode::Args(args) = &code {
                for arg in args {
                    match arg {
                        Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) if file.is_none() => {
                            file = Some(s.value())
                        }
                        other => {
                            self.expr(other);
                        }
                    }
                }
            }
            return Value { sql: file.map(|f| Rc::new(SqlText::CrateFile(f))), ..Value::default() };
        }
        if DIVERGING_MACROS.contains(&name) {
            if let MacroCode::Args(args) = &code {
                elements(args).for_each(|a| {
                    self.expr(a);
                });
            }
            self.env.reachable = false;
            return Value::default();
        }
        match code {
            MacroCode::Args(args) => {
                let values: Vec<Value> = elements(&args).map(|a| self.expr(a)).collect();
                if self.names.sql_macros.matches_path(path) {
                    // `sqlx::query!(SQL, args…)`: a builder carrying SQL.
                    let sql = values.iter().find_map(|v| v.sql.clone());
                    return Value { sql, ..Value::default() };
                }
                if name == "vec" {
                    // `vec![…]`: the standard library's vector, data whatever goes in.
                    return Value { collection: true, ..Value::default() };
                }
                // Any other macro may hand out what it is given: `tokio::join!(get_db(), f())`
                // is a tuple of its arguments (`let (db, n) = …`), `dbg!(db)` its argument.
                Value::composite(
                    values.into_iter().enumerate().map(|(i, v)| (i.to_string().into(), v)).collect(),
                )
            }
            // A macro holding statements (`db_run! { … }`), analysed as a block.
            MacroCode::Stmts(stmts) => {
                self.env.push_scope();
                let value = self.stmts(&stmts);
                self.env.pop_scope();
                value
            }
            MacroCode::Parts(parts) => self.macro_parts(&parts),
        }
    }

    /// Best effort for macro bodies that are neither expressions nor statements
    /// (`tokio::select! { r = fut => { … } }`, `db_run! { conn => { … } }`, `db_run! { conn:
    /// postgresql { … } }`, `json!({ "key": value, … })`), split by [`macro_code::parts`]: a
    /// part that is an expression is analysed as one, each group of another in a scope of its
    /// own.
    fn macro_parts(&mut self, parts: &[MacroPart]) -> Value {
        let mut value = Value::default();
        for part in parts {
            match part {
                // `counter!("requests_total", "route" => r)`: what the parts hold, but their
                // text is the macro's argument, not SQL it yields (as for a macro of arguments).
                MacroPart::Expr(expr) => value = value.join(Value { sql: None, ..self.expr(expr) }),
                MacroPart::Bind(pat, expr) => {
                    // `conn = pool.get() => { … }`: a `select!` branch binds its future's value.
                    let bound = self.expr(expr);
                    self.bind_pat(pat, &bound);
                }
                MacroPart::Groups(groups) => {
                    for group in groups {
                        self.env.push_scope();
                        value = value.join(match group {
                            MacroGroup::Stmts(stmts) => self.stmts(stmts),
                            MacroGroup::Parts(parts) => self.macro_parts(parts),
                        });
                        self.env.pop_scope();
                    }
                }
            }
        }
        value
    }

    /// `format!`, `concat!`, `concatcp!`, `formatcp!`: literal parts are SQL text; holes are
    /// filled with what their argument holds, if it is SQL text, else unknown.
    pub(super) fn string_macro(&mut self, name: &str, mac: &Macro) -> Value {
        let Ok(args) = macro_code::args(mac) else {
            return Value::sql(SqlText::Hole);
        };
        let args: Vec<&Expr> = args.iter().collect();
        self.string_macro_args(name, &args)
    }

    /// `write!(sql, "…", args…)`, `writeln!(…)`: the formatted text is appended to `sql` when it
    /// holds SQL text.
    pub(super) fn write_macro(&mut self, mac: &Macro) -> Value {
        let Ok(args) = macro_code::args(mac) else {
            return Value::default();
        };
        let args: Vec<&Expr> = args.iter().collect();
        if let Some((target, format)) = args.split_first() {
            self.expr(target);
            let text = self.string_macro_args("format", format);
            self.append_sql(target, &text);
        }
        Value::default()
    }

    /// The text built by a string macro from its arguments (`format!`'s: the format string
    /// first).
    pub(super) fn string_macro_args(&mut self, name: &str, args: &[&Expr]) -> Value {
        let mut positional = Vec::new();
        let mut named: Vec<(String, Value)> = Vec::new();
        for (i, arg) in args.iter().enumerate() {
            if let (true, Expr::Assign(a)) = (i > 0, arg) {
                if let Expr::Path(p) = &*a.left {
                    let value = self.expr(&a.right);
                    named.push((path_text(&p.path), value));
                    continue;
                }
            }
            positional.push(self.expr(arg));
        }
        let is_concat = name.starts_with("concat");
        if is_concat {
            let parts = args
                .iter()
                .zip(&positional)
                .map(|(arg, v)| match arg {
                    Expr::Lit(l) if !matches!(l.lit, Lit::Str(_)) => SqlText::Lit(lit_text(&l.lit)),
                    _ => v.sql_or_hole(),
                })
                .collect();
            return Value::sql(SqlText::Concat(parts));
        }
        let Some(Expr::Lit(syn::ExprLit { lit: Lit::Str(format), .. })) = args.first() else {
            return Value::sql(SqlText::Hole);
        };
        let mut parts = Vec::new();
        let mut next_positional = 1;
        for piece in format_pieces(&format.value()) {
            match piece {
                FormatPiece::Text(text) => parts.push(SqlText::Lit(text)),
                FormatPiece::Hole(spec) => {
                    let value = if spec.is_empty() {
                        next_positional += 1;
                        positional.get(next_positional - 1).cloned()
                    } else if let Ok(index) = spec.parse::<usize>() {
                        positional.get(index + 1).cloned()
                    } else {
                        named
                            .iter()
                            .find(|(n, _)| *n == spec)
                            .map(|(_, v)| v.clone())
                            .or_else(|| self.inline_capture(&spec))
                    };
                    parts.push(value.map_or(SqlText::Hole, |v| v.sql_or_hole()));
                }
            }
        }
        Value::sql(SqlText::Concat(parts))
    }

    /// What an inline capture (`format!("{CTE} SELECT …")`, `"{column}"`) holds: a binding, a
    /// local const, or a const of the tree by name (expanded once consts are known).
    fn inline_capture(&mut self, name: &str) -> Option<Value> {
        let path = syn::parse_str::<syn::ExprPath>(name).ok()?;
        Some(self.path(&path))
    }
}

enum FormatPiece {
    Text(String),
    /// The argument part of `{…}` (before any `:`), trimmed.
    Hole(String),
}

fn format_pieces(format: &str) -> Vec<FormatPiece> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut spec = String::new();
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                    spec.push(c);
                }
                if !text.is_empty() {
                    pieces.push(FormatPiece::Text(std::mem::take(&mut text)));
                }
                let arg = spec.split(':').next().unwrap_or("").trim().to_string();
                pieces.push(FormatPiece::Hole(arg));
            }
            other => text.push(other),
        }
    }
    if !text.is_empty() {
        pieces.push(FormatPiece::Text(text));
    }
    pieces
}

fn lit_text(lit: &Lit) -> String {
    match lit {
        Lit::Int(i) => i.base10_digits().to_string(),
        Lit::Float(f) => f.base10_digits().to_string(),
        Lit::Bool(b) => b.value.to_string(),
        Lit::Char(c) => c.value().to_string(),
        _ => String::new(),
    }
}

fn path_text(path: &syn::Path) -> String {
    path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::")
}
