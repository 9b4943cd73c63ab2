//! Functions of a file that execute a text parameter as SQL on another parameter
//! (`fn execute_query(tx: &mut Transaction<'_>, query: &str) { tx.execute(query, &[]) }`), so
//! that a call handing them SQL (`Self::execute_query(&mut tx, REMOVE_ALL)`) is judged at the
//! caller, where the text is known.
//!
//! Found by syntax alone, from the file's items: a method of the rule set's SQL methods called
//! directly on one parameter with another, text-typed, parameter as its first argument. It
//! never looks beyond the file and never decides whether anything writes.

use syn::visit::Visit;
use syn::{Expr, ExprMethodCall, FnArg, ImplItem, Item, Pat, Signature, TraitItem, Type};

use crate::analysis::names::Names;

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
    if !params.iter().any(|(_, text)| *text) {
        return;
    }
    let mut finder = Finder { names, params: &params, found: Vec::new() };
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
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_expr_method_call(&mut self, call: &'ast ExprMethodCall) {
        if self.names.sql_methods.matches_name(&call.method.to_string()) {
            let handle = self.param(&call.receiver);
            let text = call.args.first().and_then(|a| self.param(a)).filter(|&i| self.params[i].1);
            if let (Some(handle), Some(text)) = (handle, text) {
                if handle != text {
                    self.found.push((text, handle));
                }
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
    fn a_parameter_that_is_no_text_or_not_executed_is_not_sql() {
        let text = "fn a(tx: &Tx, id: i64) { tx.execute(id, &[]); } \
                    fn b(tx: &Tx, q: &str) { log(q); tx.execute(\"SELECT 1\", &[]); }";
        assert_eq!(found(text), []);
    }
}
