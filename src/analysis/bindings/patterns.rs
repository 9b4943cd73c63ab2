//! Bindings: `let` patterns, parameters, destructuring (element-wise for tuples), assignment
//! to places, and SQL text grown in place (`sql += …`, `sql.push_str(…)`).
//!
//! It only binds what expressions evaluate to; it never evaluates a call itself or records a
//! sink.

use std::rc::Rc;

use syn::{Expr, Member, Pat, Type};

use super::state::{Shaped, Value};
use super::types::is_std_collection_type;
use super::FnAnalysis;
use crate::analysis::facts::Taint;
use crate::analysis::names::elements;
use crate::analysis::syntax_text::with_ident_text;

impl FnAnalysis<'_> {
    pub(super) fn bind_pat(&mut self, pat: &Pat, value: &Value) {
        match pat {
            Pat::Ident(p) => {
                let taint = self.rebound(value.taint, &p.ident);
                let bound = Value { taint, ..value.clone() };
                with_ident_text(&p.ident, |name| self.env.declare(name, bound));
                if let Some((_, sub)) = &p.subpat {
                    self.bind_pat(sub, value);
                }
            }
            Pat::Reference(p) => self.bind_pat(&p.pat, value),
            Pat::Paren(p) => self.bind_pat(&p.pat, value),
            Pat::Tuple(p) => match value.elements(p.elems.len()) {
                // A tuple built here: each element binds its own value.
                Some(values) => elements(&p.elems).zip(&values).for_each(|(e, v)| self.bind_pat(e, v)),
                None => elements(&p.elems).for_each(|e| self.bind_pat(e, value)),
            },
            Pat::TupleStruct(p) => elements(&p.elems).for_each(|e| self.bind_pat(e, value)),
            Pat::Slice(p) => elements(&p.elems).for_each(|e| self.bind_pat(e, value)),
            Pat::Struct(p) => {
                for field in elements(&p.fields) {
                    // `AppState { database, .. }`: a field named as an accessor is one; a field of
                    // a struct built here is what was put there.
                    let names = self.names;
                    let (mut field_value, ro, rw) = match &field.member {
                        Member::Named(name) => with_ident_text(name, |name| {
                            let part = value.part(name).unwrap_or(value).clone();
                            (part, names.ro_fields.matches_name(name), names.rw_accessors.matches_name(name))
                        }),
                        Member::Unnamed(index) => {
                            (value.part(&index.index.to_string()).unwrap_or(value).clone(), false, false)
                        }
                    };
                    if let (Member::Named(name), true) = (&field.member, ro || rw) {
                        let at = self.range(name.span());
                        let taint = if ro { Taint::read_only(at) } else { Taint::read_write(at) };
                        field_value.taint = field_value.taint.join(taint);
                    }
                    self.bind_pat(&field.pat, &field_value);
                }
            }
            Pat::Or(p) => {
                if let Some(first) = p.cases.first() {
                    self.bind_pat(first, value);
                }
            }
            Pat::Type(p) => {
                let value = Value {
                    taint: value.taint.join(self.type_taint(&p.ty, || self.at(&*p.pat))),
                    collection: value.collection || is_std_collection_type(&p.ty),
                    ..value.clone()
                }
                .typed(self.type_ref(&p.ty));
                self.bind_pat(&p.pat, &value);
            }
            _ => {}
        }
    }

    /// `let PAT = EXPR`: element-wise for `let (a, b) = (x, y)`, at every level of nesting
    /// (`let (id, (ro, rw)) = (1, (get_db_ro(), get_db()))`). Every element is evaluated
    /// before anything is bound, as Rust does.
    pub(super) fn bind_from(&mut self, pat: &Pat, expr: &Expr) {
        let value = self.shaped_for_pat(pat, expr);
        self.bind_shaped(pat, value);
    }

    /// Evaluates `expr`, keeping its tuple structure where `pat` destructures it.
    pub(super) fn shaped_for_pat(&mut self, pat: &Pat, expr: &Expr) -> Shaped {
        if let (Some((pats, _)), Expr::Tuple(exprs)) = (tuple_pat(pat), unparen(expr)) {
            if pats.elems.len() == exprs.elems.len() {
                return Shaped::Tuple(
                    elements(&pats.elems)
                        .zip(elements(&exprs.elems))
                        .map(|(p, e)| self.shaped_for_pat(p, e))
                        .collect(),
                );
            }
        }
        Shaped::One(self.expr(expr))
    }

    pub(super) fn bind_shaped(&mut self, pat: &Pat, value: Shaped) {
        let value = match (tuple_pat(pat), value) {
            (Some((pats, ty)), Shaped::One(value)) => {
                let len = pats.elems.len();
                match value.elements(len) {
                    // `let (rw, ro) = pair` of a tuple built here.
                    Some(elements) => Shaped::Tuple(elements.into_iter().map(Shaped::One).collect()),
                    // `let (rw, ro): (DbRw, DbRo) = connect()`: each element is what its type
                    // says, not the other's.
                    None if matches!(ty, Some(Type::Tuple(t)) if t.elems.len() == len) => {
                        Shaped::Tuple((0..len).map(|_| Shaped::One(value.clone())).collect())
                    }
                    None => Shaped::One(value),
                }
            }
            (_, value) => value,
        };
        match (tuple_pat(pat), value) {
            (Some((pats, ty)), Shaped::Tuple(values)) => {
                // `let (a, b): (A, B) = …`: each element is also what its own type says.
                let types: Vec<Option<&Type>> = match ty {
                    Some(Type::Tuple(t)) if t.elems.len() == pats.elems.len() => {
                        elements(&t.elems).map(Some).collect()
                    }
                    _ => vec![ty; pats.elems.len()],
                };
                for ((p, v), ty) in elements(&pats.elems).zip(values).zip(types) {
                    let v = match ty {
                        Some(ty) => v.with_taint(self.type_taint(ty, || self.at(p))),
                        None => v,
                    };
                    self.bind_shaped(p, v);
                }
            }
            (_, value) => self.bind_pat(pat, &value.joined()),
        }
    }

    /// `PLACE = EXPR`: element-wise for `(a, b) = (b, a)`, at every level of nesting.
    pub(super) fn assign(&mut self, left: &Expr, right: &Expr) {
        let value = self.shaped_for_place(left, right);
        self.assign_shaped(left, value);
    }

    /// Evaluates `right`, keeping its tuple structure where `left` destructures it.
    pub(super) fn shaped_for_place(&mut self, left: &Expr, right: &Expr) -> Shaped {
        if let (Expr::Tuple(lefts), Expr::Tuple(rights)) = (unparen(left), unparen(right)) {
            if lefts.elems.len() == rights.elems.len() {
                return Shaped::Tuple(
                    elements(&lefts.elems)
                        .zip(elements(&rights.elems))
                        .map(|(l, r)| self.shaped_for_place(l, r))
                        .collect(),
                );
            }
        }
        Shaped::One(self.expr(right))
    }

    pub(super) fn assign_shaped(&mut self, left: &Expr, value: Shaped) {
        match (unparen(left), value) {
            (Expr::Tuple(lefts), Shaped::Tuple(values)) => {
                for (l, v) in elements(&lefts.elems).zip(values) {
                    self.assign_shaped(l, v);
                }
            }
            (_, value) => self.assign_value(left, value.joined()),
        }
    }

    pub(super) fn assign_value(&mut self, left: &Expr, value: Value) {
        match left {
            Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
                let ident = &p.path.segments[0].ident;
                let taint = self.rebound(value.taint, ident);
                with_ident_text(ident, |name| self.env.assign(name, Value { taint, ..value }));
            }
            Expr::Tuple(t) => {
                for l in elements(&t.elems) {
                    self.assign_value(l, value.clone());
                }
            }
            Expr::Paren(p) => self.assign_value(&p.expr, value),
            other => {
                self.expr(other);
            }
        }
    }

    /// What a handle bound (or assigned) to `ident` is now: bound there, a read-only binding
    /// site counted. (Only a handle of the rule set has a place to move.)
    fn rebound(&mut self, taint: Taint, ident: &syn::Ident) -> Taint {
        if !taint.is_known_handle() {
            return taint;
        }
        let at = self.range(ident.span());
        if taint.ro.is_some() {
            self.ro_sites.push(at);
        }
        taint.rebound(at)
    }

    /// The binding an expression names directly (`sql`, `&sql`, `sql.as_str()`), if any.
    pub(super) fn binding_name(&self, expr: &Expr) -> Option<String> {
        match self.strip(expr) {
            Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
                Some(p.path.segments[0].ident.to_string())
            }
            _ => None,
        }
    }

    /// `sql += "…"`, `sql.push_str("…")`: the binding's text grows.
    pub(super) fn append_sql(&mut self, target: &Expr, part: &Value) {
        let Some(name) = self.binding_name(target) else { return };
        if let Some(current) = self.env.lookup(&name).cloned() {
            if current.sql.is_some() {
                let text = current.sql_or_hole().append(part.sql_or_hole());
                self.env.assign(&name, Value { sql: Some(Rc::new(text)), ..current });
            }
        }
    }
}

/// The expression inside any parentheses.
fn unparen(mut expr: &Expr) -> &Expr {
    while let Expr::Paren(p) = expr {
        expr = &p.expr;
    }
    expr
}

/// The pattern inside any parentheses.
fn unparen_pat(mut pat: &Pat) -> &Pat {
    while let Pat::Paren(p) = pat {
        pat = &p.pat;
    }
    pat
}

/// A tuple pattern, possibly typed (`(a, b)`, `(a, b): (A, B)`), with its type.
fn tuple_pat(pat: &Pat) -> Option<(&syn::PatTuple, Option<&Type>)> {
    match unparen_pat(pat) {
        Pat::Tuple(t) => Some((t, None)),
        Pat::Type(typed) => match unparen_pat(&typed.pat) {
            Pat::Tuple(t) => Some((t, Some(&*typed.ty))),
            _ => None,
        },
        _ => None,
    }
}
