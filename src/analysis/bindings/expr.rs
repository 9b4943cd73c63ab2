//! Expressions: what each kind of expression may hold — literals, operators building SQL
//! text, paths (bindings, local and tree consts through renaming imports), fields named as
//! accessors, references, indexing, structs and tuples.
//!
//! Calls and method calls are [`super::calls`]'s, macros [`super::macros`]'s, control flow
//! [`super::control`]'s. It never records a sink itself.

use std::rc::Rc;
use std::sync::Arc;

use syn::{BinOp, Expr, ExprField, Lit, Member};

use super::state::{Part, Value};
use super::FnAnalysis;
use crate::analysis::facts::{SqlText, Taint, TypeRef};
use crate::analysis::names::{elements, last_segment};
use crate::analysis::syntax_text::{lit_str_value, shared_idents, with_ident_text};

impl FnAnalysis<'_> {
    pub(super) fn expr(&mut self, expr: &Expr) -> Value {
        match expr {
            Expr::Array(a) => self.join_all(elements(&a.elems)),
            Expr::Tuple(t) => {
                let elements =
                    elements(&t.elems).enumerate().map(|(i, e)| (Rc::from(i.to_string()), self.expr(e)));
                Value::composite(elements.collect())
            }
            Expr::Assign(a) => {
                self.assign(&a.left, &a.right);
                Value::default()
            }
            Expr::Async(a) => self.nested_body(|this| this.block(&a.block)),
            Expr::Await(a) => self.expr(&a.base),
            Expr::Binary(b) => {
                let left = self.expr(&b.left);
                let right = self.expr(&b.right);
                match b.op {
                    BinOp::Add(_) if left.sql.is_some() || right.sql.is_some() => {
                        Value::sql(SqlText::Concat(vec![left.sql_or_hole(), right.sql_or_hole()]))
                    }
                    BinOp::AddAssign(_) => {
                        self.append_sql(&b.left, &right);
                        Value::default()
                    }
                    _ => Value::default(),
                }
            }
            Expr::Block(b) => self.labeled(b.label.as_ref(), false, |this| this.block(&b.block)),
            Expr::Break(b) => {
                let value = b.expr.as_ref().map(|e| self.expr(e)).unwrap_or_default();
                self.jump(b.label.as_ref().map(|l| l.ident.to_string()), Some(value));
                Value::default()
            }
            Expr::Continue(c) => {
                self.jump(c.label.as_ref().map(|l| l.ident.to_string()), None);
                Value::default()
            }
            Expr::Call(c) => self.call(c),
            Expr::Cast(c) => self.expr(&c.expr),
            Expr::Closure(c) => {
                // A closure as a value holds no handle: what its body yields is its calls'.
                self.closure(c, Taint::NONE);
                Value::default()
            }
            Expr::Const(c) => self.block(&c.block),
            Expr::Field(f) => self.field(f),
            Expr::ForLoop(f) => self.for_loop(f),
            Expr::Group(g) => self.expr(&g.expr),
            Expr::If(i) => self.if_expr(i),
            Expr::Index(i) => {
                let base = self.expr(&i.expr);
                self.expr(&i.index);
                Value::handle(base.taint)
            }
            Expr::Let(l) => {
                let value = self.expr(&l.expr);
                self.bind_pat(&l.pat, &value);
                Value::default()
            }
            Expr::Lit(l) => match &l.lit {
                Lit::Str(s) => Value::sql(SqlText::Lit(lit_str_value(s))),
                _ => Value::default(),
            },
            Expr::Loop(l) => self.loop_expr(l),
            Expr::Macro(m) => self.mac(&m.mac),
            Expr::Match(m) => self.match_expr(m),
            Expr::MethodCall(m) => self.method_call(m),
            Expr::Paren(p) => self.expr(&p.expr),
            Expr::Path(p) => self.path(p),
            Expr::Range(r) => {
                for e in r.start.iter().chain(r.end.iter()) {
                    self.expr(e);
                }
                Value::default()
            }
            Expr::RawAddr(r) => self.expr(&r.expr),
            Expr::Reference(r) => self.expr(&r.expr),
            Expr::Repeat(r) => {
                self.expr(&r.len);
                Value::handle(self.expr(&r.expr).taint)
            }
            Expr::Return(r) => {
                let value = r.expr.as_ref().map(|e| self.expr(e)).unwrap_or_default();
                if self.closure_depth == 0 {
                    self.returns = self.returns.join(self.returned_taint(&value));
                    self.note_returned(&value);
                }
                self.env.reachable = false;
                Value::default()
            }
            Expr::Struct(s) => {
                // `Ctx { pool, ro_pool }`: each field holds its own value.
                let mut parts: Vec<Part> = Vec::with_capacity(s.fields.len());
                for field in elements(&s.fields) {
                    let value = self.expr(&field.expr);
                    parts.push((Rc::from(member_name(&field.member)), value));
                }
                let mut value = Value::composite(parts);
                if let Some(rest) = &s.rest {
                    // `..base`: the other fields are base's; which, syntax does not say.
                    let rest = self.expr(rest);
                    value = Value { taint: value.taint.join(rest.taint), parts: None, ..value };
                }
                let path = shared_idents(s.path.segments.pairs().map(|s| &s.value().ident));
                value.typed(Some(TypeRef::Named(path)))
            }
            Expr::Try(t) => self.expr(&t.expr),
            Expr::TryBlock(t) => self.block(&t.block),
            // `!for_update` is no longer the flag as given (an `if` on it is read in `if_expr`).
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => Value { flag: None, ..self.expr(&u.expr) },
            Expr::Unary(u) => self.expr(&u.expr),
            Expr::Unsafe(u) => self.block(&u.block),
            Expr::While(w) => self.while_loop(w),
            Expr::Yield(y) => {
                if let Some(e) = &y.expr {
                    self.expr(e);
                }
                Value::default()
            }
            _ => Value::default(),
        }
    }

    pub(super) fn join_all<'e>(&mut self, exprs: impl Iterator<Item = &'e Expr>) -> Value {
        let mut taint = Taint::NONE;
        for e in exprs {
            taint = taint.join(self.expr(e).taint);
        }
        Value::handle(taint)
    }

    pub(super) fn path(&mut self, p: &syn::ExprPath) -> Value {
        let segments = &p.path.segments;
        if p.qself.is_none() && segments.len() == 1 {
            // A binding or a local const: looked up by the name, with no string made.
            let ident = &segments[0].ident;
            if let Some(value) = self.env.lookup_ident(ident) {
                return value.clone();
            }
            if let Some((_, text)) = self.local_consts.iter().rev().find(|(n, _)| ident == n) {
                return Value::sql(text.clone());
            }
        }
        // `use crate::queries::ARCHIVE as ARCHIVE_SQL;`, `use crate::queries as q;`: the first
        // segment may stand for a path.
        let first = segments.first().map(|s| &s.ident);
        let alias = first
            .filter(|_| p.qself.is_none())
            .and_then(|first| self.scope.aliases.iter().find(|(a, _)| first == a))
            .map(|(_, full)| full);
        let const_like = match (alias, segments.len()) {
            (Some(full), 1) => full.last().is_some_and(|last| is_const_like(last)),
            _ => last_segment(segments).is_some_and(|last| with_ident_text(&last.ident, is_const_like)),
        };
        if !const_like {
            return Value::default();
        }
        let mut path: Vec<String> = segments.pairs().map(|s| s.value().ident.to_string()).collect();
        if let Some(full) = alias {
            path.splice(0..1, full.iter().cloned());
        }
        Value::sql(SqlText::Const(path))
    }

    pub(super) fn field(&mut self, f: &ExprField) -> Value {
        let base = self.expr(&f.base);
        let member = member_name(&f.member);
        let ty = base.ty.as_ref().map(|t| TypeRef::Field(Arc::clone(t), member.clone()));
        self.field_value(f, base, member).typed(ty)
    }

    fn field_value(&mut self, f: &ExprField, base: Value, member: String) -> Value {
        if let Member::Named(_) = &f.member {
            if self.names.ro_fields.matches_name(&member) {
                return Value::handle(Taint::read_only(self.at(f)).with_params_of(base.taint));
            }
            if self.names.rw_accessors.matches_name(&member) {
                return Value::handle(Taint::read_write(self.at(f)).with_params_of(base.taint));
            }
        }
        // `ctx.pool` of a `Ctx { pool, ro_pool }` built here, `pair.1` of a tuple.
        if let Some(part) = base.part(&member) {
            return part.clone();
        }
        // `ctx.ro_pool` where `ctx: &Ctx` and the file declares `struct Ctx { ro_pool: DbRo, .. }`.
        let declared = match base.ty.as_deref().map(TypeRef::unwrapped) {
            Some(TypeRef::Named(path)) => path.last().and_then(|s| self.scope.field_kind(s, &member)),
            _ => None,
        };
        if let Some((ro, rw)) = declared {
            let at = self.at(f);
            let taint = Taint { ro: ro.then_some(at).into(), rw: rw.then_some(at).into(), ..base.taint };
            return Value::handle(taint);
        }
        let taint = self.field_of_derived(f, &base, member);
        Value::handle(taint)
    }
}

/// `SQL`, `UPDATE_USER`: a name that reads like a const or static.
fn is_const_like(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase()) && !name.chars().any(|c| c.is_lowercase())
}

/// A field's name as a part name: `pool`, or `1` for `pair.1`.
fn member_name(member: &Member) -> String {
    match member {
        Member::Named(name) => name.to_string(),
        Member::Unnamed(index) => index.index.to_string(),
    }
}
