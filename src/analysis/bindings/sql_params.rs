//! Functions of a file that execute a text parameter as SQL on another parameter
//! (`fn execute_query(tx: &mut Transaction<'_>, query: &str) { tx.execute(query, &[]) }`), so
//! that a call handing them SQL (`Self::execute_query(&mut tx, REMOVE_ALL)`) is judged at the
//! caller, where the text is known.
//!
//! Found by syntax alone, from the file's items: a method of the rule set's SQL methods called
//! directly on one parameter with another, text-typed, parameter as its first argument; or
//! called on the text parameter made a query (by a query builder of the rule set and its
//! transparent methods, through `let` bindings: fuel-indexer's
//! `let q = QueryBuilder::new(query).build(); q.execute(conn)`) with another parameter as an
//! argument. It never looks beyond the file and never decides whether anything writes.

use syn::visit::Visit;
use syn::{Expr, ExprMethodCall, FnArg, ImplItem, Item, Local, Pat, Signature, TraitItem, Type};

use crate::analysis::names::{elements, Names};

/// A function executing a parameter as SQL: its name, whether it takes `self`, and the input
/// positions (receiver counted) of the text and of the handle it runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SqlParamFn {
    pub name: String,
    pub has_self: bool,
    pub text: usize,
    pub handle: usize,
}

/// The functions of `items` (inline modules, impls and trait defaults included) that execute a
/// text parameter on another parameter.
pub(crate) fn sql_param_fns(items: &[Item], names: &Names, out: &mut Vec<SqlParamFn>) {
    for item in items {
        match item {
            Item::Fn(f) => scan(&f.sig, &f.block, names, out),
            Item::Impl(i) => i.items.iter().for_each(|it| {
                if let ImplItem::Fn(f) = it {
                    scan(&f.sig, &f.block, names, out);
                }
            }),
            Item::Trait(t) => t.items.iter().for_each(|it| {
                if let TraitItem::Fn(f) = it {
                    if let Some(body) = &f.default {
                        scan(&f.sig, body, names, out);
                    }
                }
            }),
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    sql_param_fns(items, names, out);
                }
            }
            _ => {}
        }
    }
}

fn scan(sig: &Signature, body: &syn::Block, names: &Names, out: &mut Vec<SqlParamFn>) {
    // Most functions take no text parameter: nothing to look for, and no names to make.
    let text_param = |input: &FnArg| match input {
        FnArg::Typed(t) => matches!(&*t.pat, Pat::Ident(_)) && is_text_type(&t.ty),
        FnArg::Receiver(_) => false,
    };
    if !elements(&sig.inputs).any(text_param) {
        return;
    }
    let params: Vec<(String, bool)> = sig
        .inputs
        .iter()
        .map(|input| match input {
            FnArg::Receiver(_) => ("self".to_string(), false),
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) => (p.ident.to_string(), is_text_type(&t.ty)),
                _ => (String::new(), false),
            },
        })
        .collect();
    let mut finder = Finder { names, params: &params, queries: Vec::new(), found: Vec::new() };
    finder.visit_block(body);
    let has_self = matches!(sig.inputs.first(), Some(FnArg::Receiver(_)));
    for (text, handle) in finder.found {
        let found = SqlParamFn { name: sig.ident.to_string(), has_self, text, handle };
        if !out.contains(&found) {
            out.push(found);
        }
    }
}

/// `&str`, `&'a str`, `String`, `&String`.
fn is_text_type(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => is_text_type(&r.elem),
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "str" || s.ident == "String"),
        _ => false,
    }
}

struct Finder<'a> {
    names: &'a Names,
    params: &'a [(String, bool)],
    /// Locals bound (so far, in source order) to a text parameter or a query made of it, with
    /// the parameter; a later `let` of the name that holds no such value ends it.
    queries: Vec<(String, usize)>,
    found: Vec<(usize, usize)>,
}

impl Finder<'_> {
    /// The parameter an expression names, through `&`, `&mut`, `*` and parentheses.
    fn param(&self, expr: &Expr) -> Option<usize> {
        match expr {
            Expr::Reference(r) => self.param(&r.expr),
            Expr::Unary(u) => self.param(&u.expr),
            Expr::Paren(p) => self.param(&p.expr),
            Expr::Path(p) => {
                let ident = p.path.get_ident()?.to_string();
                self.params.iter().position(|(name, _)| *name == ident)
            }
            _ => None,
        }
    }

    /// The text parameter an expression is, or is a query made of: the parameter or a local
    /// holding it, through `&`, `*`, `?`, `.await`, a query builder of the rule set
    /// (`QueryBuilder::new(query)`, `sqlx::query(&query)`) and transparent methods (`.build()`).
    fn text(&self, expr: &Expr) -> Option<usize> {
        match expr {
            Expr::Reference(r) => self.text(&r.expr),
            Expr::Unary(u) => self.text(&u.expr),
            Expr::Paren(p) => self.text(&p.expr),
            Expr::Try(t) => self.text(&t.expr),
            Expr::Await(a) => self.text(&a.base),
            Expr::Path(p) => {
                let ident = p.path.get_ident()?.to_string();
                if let Some((_, text)) = self.queries.iter().rev().find(|(name, _)| *name == ident) {
                    return Some(*text);
                }
                self.params.iter().position(|(name, text)| *text && *name == ident)
            }
            Expr::Call(c) => {
                let Expr::Path(f) = &*c.func else { return None };
                let path: Vec<String> = f.path.segments.iter().map(|s| s.ident.to_string()).collect();
                match self.names.sql_builders.matches_path(&path) {
                    true => self.text(c.args.first()?),
                    false => None,
                }
            }
            Expr::MethodCall(m) if self.names.transparent_methods.matches_name(&m.method.to_string()) => {
                self.text(&m.receiver)
            }
            _ => None,
        }
    }
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_local(&mut self, local: &'ast Local) {
        syn::visit::visit_local(self, local);
        let Pat::Ident(p) = &local.pat else { return };
        let name = p.ident.to_string();
        self.queries.retain(|(n, _)| *n != name);
        if let Some(text) = local.init.as_ref().and_then(|init| self.text(&init.expr)) {
            self.queries.push((name, text));
        }
    }

    fn visit_expr_method_call(&mut self, call: &'ast ExprMethodCall) {
        if self.names.sql_methods.matches_name(&call.method.to_string()) {
            // `tx.execute(query, &[])`: the text given to a method of the handle.
            let handle = self.param(&call.receiver);
            let text = call.args.first().and_then(|a| self.text(a));
            if let (Some(handle), Some(text)) = (handle, text) {
                if handle != text {
                    self.found.push((text, handle));
                }
            }
            // `QueryBuilder::new(query).build().execute(conn)`: the query made of the text, run
            // on the handle it is given.
            if let Some(text) = self.text(&call.receiver) {
                let handles = call.args.iter().filter_map(|a| self.param(a)).filter(|&h| h != text);
                let found: Vec<(usize, usize)> = handles.map(|h| (text, h)).collect();
                self.found.extend(found);
            }
        }
        syn::visit::visit_expr_method_call(self, call);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RuleSet;

    fn found(text: &str) -> Vec<SqlParamFn> {
        let names = Names::new(&RuleSet::builtin(std::path::Path::new(".")));
        let file = syn::parse_file(text).unwrap();
        let mut out = Vec::new();
        sql_param_fns(&file.items, &names, &mut out);
        crate::parse::release_spans();
        out
    }

    #[test]
    fn a_text_parameter_run_on_another_parameter_is_found_with_its_positions() {
        let text = "impl Q { fn a(tx: &mut Tx, q: &str) { tx.execute(q, &[]); } \
                    fn b(&self, db: &Db, sql: String) { db.query(&sql, &[]); } }";
        let want = [
            SqlParamFn { name: "a".into(), has_self: false, text: 1, handle: 0 },
            SqlParamFn { name: "b".into(), has_self: true, text: 2, handle: 1 },
        ];
        assert_eq!(found(text), want);
    }

    #[test]
    fn a_text_parameter_made_a_query_and_run_on_another_parameter_is_found() {
        // fuel-indexer's `execute_query`: the parameter's name shadowed by the built query.
        let text = "async fn execute_query(conn: &mut PoolConnection<Postgres>, query: String) -> usize { \
                    let mut builder = sqlx::QueryBuilder::new(query); let query = builder.build(); \
                    query.execute(conn).await.unwrap().rows_affected() as usize } \
                    fn direct(db: &PgPool, sql: &str) { sqlx::query(&sql).fetch_all(db); }";
        let want = [
            SqlParamFn { name: "execute_query".into(), has_self: false, text: 1, handle: 0 },
            SqlParamFn { name: "direct".into(), has_self: false, text: 1, handle: 0 },
        ];
        assert_eq!(found(text), want);
    }

    #[test]
    fn a_local_rebound_to_other_text_no_longer_holds_the_parameter() {
        let text = "fn a(conn: &mut Conn, query: String) { let q = QueryBuilder::new(query); \
                    let q = QueryBuilder::new(\"SELECT 1\"); q.build().execute(conn); } \
                    fn b(conn: &mut Conn, name: String) { let q = QueryBuilder::new(\"SELECT 1\"); \
                    q.build().bind(name).execute(conn); }";
        assert_eq!(found(text), []);
    }

    #[test]
    fn a_parameter_that_is_no_text_or_not_executed_is_not_sql() {
        let text = "fn a(tx: &Tx, id: i64) { tx.execute(id, &[]); } \
                    fn b(tx: &Tx, q: &str) { log(q); tx.execute(\"SELECT 1\", &[]); }";
        assert_eq!(found(text), []);
    }
}
