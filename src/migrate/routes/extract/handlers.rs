//! The registrations a walk finds, and how each names its handler: a function path, a
//! closure (by location), a local bound to either, or an opaque expression (by its text).
//! Part of [`super`]'s walker; only records, never resolves a path.

use syn::Expr;

use super::super::facts::{HandlerRef, Registration};
use super::super::shapes::names_a_handler;
use super::super::syntax::{chain_root, path_segments, strip};
use super::{Found, Local, Walker};

impl Walker<'_> {
    pub(super) fn register(&mut self, found: Found<'_>, unplaced_callee: Option<String>) {
        if !names_a_handler(found.handler) {
            return;
        }
        let handler = self.handler_ref(found.handler);
        if found.requires_fn && matches!(handler, HandlerRef::Opaque { .. }) {
            return;
        }
        self.out.registrations.push(Registration {
            methods: found.methods,
            handler,
            path: found.path,
            at: self.range(found.at),
            framework: found.framework,
            module: self.module.clone(),
            within: self.within,
            owner: self.owner.clone(),
            requires_fn: found.requires_fn,
            unplaced_callee,
        });
    }

    /// How `expr`, given as a handler, names it.
    fn handler_ref(&self, expr: &Expr) -> HandlerRef {
        match strip(expr) {
            Expr::Closure(c) => {
                let (range, body) = self.closure_ranges(c);
                HandlerRef::Closure { range, body }
            }
            Expr::Path(p) if p.qself.is_none() => {
                let segments = path_segments(&p.path);
                if let [single] = segments.as_slice() {
                    match self.local(single) {
                        Some(Local::Closure { range, body }) => {
                            return HandlerRef::Closure { range: *range, body: *body }
                        }
                        Some(Local::Path { segments, text }) => {
                            return HandlerRef::Path { segments: segments.clone(), text: text.clone() }
                        }
                        Some(Local::Chain(_) | Local::Value) => {
                            return HandlerRef::Opaque { text: single.clone() }
                        }
                        None => {}
                    }
                }
                HandlerRef::Path { segments, text: self.text(expr) }
            }
            // A handler with a layer or state attached: `h.layer(..)`, `h.with(..)`.
            Expr::MethodCall(m)
                if matches!(strip(chain_root(&m.receiver)), Expr::Path(_) | Expr::Closure(_)) =>
            {
                self.handler_ref(chain_root(&m.receiver))
            }
            _ => HandlerRef::Opaque { text: self.text(expr) },
        }
    }
}
