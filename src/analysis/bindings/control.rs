//! Control flow: statements and blocks, `if`, `match`, loops with their fixed point,
//! `break`/`continue` with labels, and closures and async blocks as nested bodies.
//!
//! It decides which state reaches which point; what an expression holds is [`super::expr`]'s
//! business, and it never records a sink itself.

use std::rc::Rc;

use syn::{Block, Expr, ExprClosure, ExprForLoop, ExprIf, ExprLoop, ExprMatch, ExprWhile, Label, Stmt};

use super::state::{LoopFrame, Value};
use super::FnAnalysis;
use crate::analysis::facts::{SqlText, Taint};
use crate::analysis::names::elements;

impl FnAnalysis<'_> {
    pub(super) fn block(&mut self, block: &Block) -> Value {
        self.env.push_scope();
        let value = self.stmts(&block.stmts);
        self.env.pop_scope();
        value
    }

    pub(super) fn stmts(&mut self, stmts: &[Stmt]) -> Value {
        let mut value = Value::default();
        for stmt in stmts {
            value = Value::default();
            match stmt {
                Stmt::Local(local) => {
                    if let Some(init) = &local.init {
                        self.bind_from(&local.pat, &init.expr);
                        if let Some((_, diverge)) = &init.diverge {
                            let saved = self.env.clone();
                            self.expr(diverge);
                            self.env = saved;
                        }
                    } else {
                        self.bind_pat(&local.pat, &Value::default());
                    }
                }
                Stmt::Item(item) => self.local_item(item),
                Stmt::Expr(expr, semi) => {
                    let v = self.expr(expr);
                    if semi.is_none() {
                        value = v;
                    }
                }
                Stmt::Macro(m) => {
                    let v = self.mac(&m.mac);
                    if m.semi_token.is_none() {
                        value = v;
                    }
                }
            }
        }
        value
    }

    pub(super) fn local_item(&mut self, item: &syn::Item) {
        let (ident, expr) = match item {
            syn::Item::Const(c) => (&c.ident, &*c.expr),
            syn::Item::Static(s) => (&s.ident, &*s.expr),
            _ => return, // nested fns are functions of their own
        };
        if let Some(text) = self.expr(expr).sql {
            self.local_consts.push((ident.to_string(), (*text).clone()));
        }
    }

    /// A closure or async body: its `return`s and divergence are its own.
    pub(super) fn nested_body(&mut self, body: impl FnOnce(&mut Self) -> Value) -> Value {
        let reachable = self.env.reachable;
        let loops = std::mem::take(&mut self.loops);
        self.closure_depth += 1;
        let value = body(self);
        self.closure_depth -= 1;
        self.loops = loops;
        self.env.reachable = reachable;
        value
    }

    /// A closure whose parameters hold `params`; what its body evaluates to.
    pub(super) fn closure(&mut self, closure: &ExprClosure, params: Taint) -> Value {
        self.env.push_scope();
        for input in elements(&closure.inputs) {
            self.bind_pat(input, &Value::handle(params));
        }
        let value = self.nested_body(|this| this.expr(&closure.body));
        self.env.pop_scope();
        value
    }

    pub(super) fn if_expr(&mut self, e: &ExprIf) -> Value {
        let before = self.env.clone();
        self.env.push_scope();
        let flag = self.flag_condition(&e.cond);
        let then_value = self.block(&e.then_branch);
        self.env.pop_scope();
        let then_env = std::mem::replace(&mut self.env, before);
        let else_value = match &e.else_branch {
            Some((_, else_expr)) => self.expr(else_expr),
            None => Value::default(),
        };
        self.env.join(&then_env);
        // `if for_update { "FOR UPDATE" } else { "" }`: the text the caller's flag chooses.
        let chosen = match (flag, &then_value.sql, &else_value.sql) {
            (Some((param, holds)), Some(then_sql), Some(else_sql)) => {
                let (yes, no) = if holds { (then_sql, else_sql) } else { (else_sql, then_sql) };
                Some(SqlText::flag(param, (**yes).clone(), (**no).clone()))
            }
            _ => None,
        };
        let value = then_value.join(else_value);
        match chosen {
            Some(text) => Value { sql: Some(Rc::new(text)), ..value },
            None => value,
        }
    }

    /// Analyses an `if`'s condition; when it is one of the function's `bool` parameters as
    /// given (`for_update`, `!for_update`), that parameter and whether the `then` branch runs
    /// when it is true.
    fn flag_condition(&mut self, cond: &Expr) -> Option<(u8, bool)> {
        let value = self.expr(cond);
        match cond {
            Expr::Path(p) if p.path.get_ident().is_some() => value.flag.map(|f| (f, true)),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) && matches!(&*u.expr, Expr::Path(_)) => {
                let Expr::Path(p) = &*u.expr else { return None };
                let ident = p.path.get_ident()?;
                self.env.lookup_ident(ident).and_then(|v| v.flag).map(|f| (f, false))
            }
            _ => None,
        }
    }

    pub(super) fn match_expr(&mut self, m: &ExprMatch) -> Value {
        let scrutinee = self.expr(&m.expr);
        let before = self.env.clone();
        let mut after = before.unreachable_copy();
        let mut value = Value::default();
        for arm in &m.arms {
            self.env = before.clone();
            self.env.push_scope();
            self.bind_pat(&arm.pat, &scrutinee);
            if let Some((_, guard)) = &arm.guard {
                self.expr(guard);
            }
            value = value.join(self.expr(&arm.body));
            self.env.pop_scope();
            after.join(&self.env);
        }
        self.env = after;
        value
    }

    pub(super) fn labeled(
        &mut self,
        label: Option<&Label>,
        is_loop: bool,
        body: impl FnOnce(&mut Self) -> Value,
    ) -> Value {
        if label.is_none() && !is_loop {
            return body(self);
        }
        self.loops.push(LoopFrame::new(label, is_loop));
        let value = body(self);
        let frame = self.loops.pop().expect("pushed above");
        if let Some(exit) = frame.exit {
            self.env.join(&exit);
        }
        value.join(frame.value)
    }

    /// `break` (with the value it carries) or `continue` (`None`): the current state flows to
    /// the loop's exit or next iteration; what follows is unreachable.
    pub(super) fn jump(&mut self, label: Option<String>, broken_with: Option<Value>) {
        let frame = self.loops.iter_mut().rev().find(|f| match &label {
            Some(l) => f.label.as_deref() == Some(l.as_str()),
            None => f.is_loop,
        });
        if let Some(frame) = frame {
            let exit = broken_with.is_some();
            if let Some(value) = broken_with {
                frame.value = std::mem::take(&mut frame.value).join(value);
            }
            let slot = if exit { &mut frame.exit } else { &mut frame.next };
            match slot {
                Some(env) => env.join(&self.env),
                None => *slot = Some(self.env.clone()),
            }
        }
        self.env.reachable = false;
    }

    /// Runs a loop body until the state entering it stops changing (at most twice more), then
    /// leaves the state after the loop: exits by `break`, and for loops that may stop on their
    /// own (`while`, `for`), the state at the condition. Returns what its `break`s carry.
    pub(super) fn run_loop(
        &mut self,
        label: Option<&Label>,
        may_stop: bool,
        mut iteration: impl FnMut(&mut Self),
    ) -> Value {
        let entry = self.env.clone();
        self.loops.push(LoopFrame::new(label, true));
        let mut head = entry.clone();
        for _ in 0..3 {
            self.env = head.clone();
            iteration(self);
            let mut next_head = head.clone();
            next_head.join(&self.env);
            if let Some(next) = self.loops.last_mut().and_then(|f| f.next.take()) {
                next_head.join(&next);
            }
            if next_head == head {
                break;
            }
            head = next_head;
        }
        let frame = self.loops.pop().expect("pushed above");
        let mut after = if may_stop { head } else { entry.unreachable_copy() };
        if let Some(exit) = frame.exit {
            after.join(&exit);
        }
        self.env = after;
        frame.value
    }

    pub(super) fn loop_expr(&mut self, l: &ExprLoop) -> Value {
        self.run_loop(l.label.as_ref(), false, |this| {
            this.block(&l.body);
        })
    }

    pub(super) fn while_loop(&mut self, w: &ExprWhile) -> Value {
        self.run_loop(w.label.as_ref(), true, |this| {
            this.env.push_scope();
            this.expr(&w.cond);
            this.block(&w.body);
            this.env.pop_scope();
        });
        Value::default()
    }

    pub(super) fn for_loop(&mut self, f: &ExprForLoop) -> Value {
        let items = self.expr(&f.expr);
        self.run_loop(f.label.as_ref(), true, |this| {
            this.env.push_scope();
            this.bind_pat(&f.pat, &Value::handle(items.taint));
            this.block(&f.body);
            this.env.pop_scope();
        });
        Value::default()
    }
}
