//! Keeping the types of expressions on a parameter whose handle type is swapped for its twin.
//!
//! When the twin wraps the read-write type (`pub struct ReadOnlyPgPool(PgPool)` with
//! `Deref<Target = PgPool>`), swapping `pool: web::Data<PgPool>` for
//! `web::Data<ReadOnlyPgPool>` changes what the explicit derefs in the body produce: `&**pool`
//! was a `&PgPool` and becomes a `&ReadOnlyPgPool`, which generic code bounded by a trait only
//! `&PgPool` implements (sqlx's `E: Executor`) refuses (E0277). Deref coercion does not apply
//! to generic arguments, so each such expression gets one more step back to the read-write
//! type:
//!
//! * `&**pool` (as many `*` as the wrappers take to reach the swapped type) → `&***pool`;
//! * `pool.get_ref()`, `pool.as_ref()` given as an argument (a reference to the wrapper's
//!   direct type argument) → `&**pool.get_ref()`.
//!
//! The shape is learned from the file's existing parameters of the twin type when there are
//! any: if they reach the inner handle by its field (`&pool.0`) and never by one more deref,
//! the field is used instead (`&pool.0`). Wrappers take one deref each, except actix-web's
//! `Data<T>`, which derefs to `Arc<T>` (two). A binding shadowed in the body is not followed.
//!
//! [`keep_types`] parses the text on the caller's worker and keeps no span; it only plans
//! splices, never writes.

use std::collections::HashMap;

use syn::visit::Visit;

use super::edit::Splice;
use crate::analysis::span_range;
use crate::source::SourceText;

/// How a body reaches the read-write handle inside the twin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// One more `*` (the twin derefs to the read-write type).
    Deref,
    /// The newtype's field, `.0`.
    Field,
}

/// A parameter binding whose type holds a handle type: how many derefs reach it, and whether
/// it is the outermost wrapper's direct type argument.
#[derive(Debug, Clone)]
struct HandleParam {
    name: String,
    depth: usize,
    direct: bool,
}

/// Derefs to reach the inside of a wrapper named `name`.
fn wrapper_steps(name: &str) -> usize {
    if name == "Data" {
        2
    } else {
        1
    }
}

/// The splices that keep the types of explicit derefs on the parameters whose type names are
/// swapped. `swapped` holds, for each rewritten type name, its byte offset in `text` and its
/// twin.
pub fn keep_types(text: &str, swapped: &[(usize, String)]) -> Result<Vec<Splice>, String> {
    if swapped.is_empty() {
        return Ok(Vec::new());
    }
    let src = SourceText::new(text.to_string());
    let file = syn::parse_file(src.parser_text()).map_err(|e| e.to_string())?;
    let swapped: HashMap<usize, &str> = swapped.iter().map(|(o, t)| (*o, t.as_str())).collect();
    let mut fns = Functions { src: &src, swapped: &swapped, found: Vec::new() };
    fns.visit_file(&file);
    // Learn the shape from the parameters already of a twin type.
    let (mut field, mut deeper) = (false, false);
    for (block, params) in fns.found.iter().filter(|(_, p)| p.iter().any(|(_, twin)| !twin)) {
        let params: Vec<HandleParam> =
            params.iter().filter(|(_, twin)| !twin).map(|(p, _)| p.clone()).collect();
        let mut uses = Uses::new(&src, &params, None);
        uses.visit_block(block);
        field |= uses.field;
        deeper |= uses.deeper;
    }
    let shape = if field && !deeper { Shape::Field } else { Shape::Deref };
    let mut splices = Vec::new();
    for (block, params) in &fns.found {
        let params: Vec<HandleParam> =
            params.iter().filter(|(_, twin)| *twin).map(|(p, _)| p.clone()).collect();
        if params.is_empty() {
            continue;
        }
        let mut uses = Uses::new(&src, &params, Some(shape));
        uses.visit_block(block);
        splices.extend(uses.splices);
    }
    Ok(splices)
}

/// Functions with handle parameters: (body, [(param, swapped here)]). A parameter of the twin
/// type already (not swapped) is recorded with `false`, to learn from.
struct Functions<'a> {
    src: &'a SourceText,
    swapped: &'a HashMap<usize, &'a str>,
    found: Vec<(syn::Block, Vec<(HandleParam, bool)>)>,
}

impl Functions<'_> {
    fn params(&self, sig: &syn::Signature) -> Vec<(HandleParam, bool)> {
        let twins: Vec<&str> = self.swapped.values().copied().collect();
        let mut out = Vec::new();
        for input in &sig.inputs {
            let syn::FnArg::Typed(pt) = input else { continue };
            let (name, ty) = match (&*pt.pat, &*pt.ty) {
                (syn::Pat::Ident(i), ty) => (i.ident.to_string(), ty),
                // `State(pool): State<PgPool>`: the binding is the wrapper's argument.
                (syn::Pat::TupleStruct(ts), syn::Type::Path(tp)) if ts.elems.len() == 1 => {
                    let (syn::Pat::Ident(i), Some(arg)) = (&ts.elems[0], first_type_arg(tp)) else {
                        continue;
                    };
                    (i.ident.to_string(), arg)
                }
                _ => continue,
            };
            let is_swapped = |id: &syn::Ident| {
                self.swapped.contains_key(&(span_range(self.src, id.span()).start.offset as usize))
            };
            if let Some((depth, direct)) = depth_of(ty, &is_swapped) {
                out.push((HandleParam { name: name.clone(), depth, direct }, true));
            } else if let Some((depth, direct)) =
                depth_of(ty, &|id: &syn::Ident| twins.iter().any(|t| id == t))
            {
                out.push((HandleParam { name, depth, direct }, false));
            }
        }
        out
    }

    fn record(&mut self, sig: &syn::Signature, block: &syn::Block) {
        let params = self.params(sig);
        if !params.is_empty() {
            self.found.push((block.clone(), params));
        }
    }
}

impl<'ast> Visit<'ast> for Functions<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.record(&f.sig, &f.block);
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.record(&f.sig, &f.block);
        syn::visit::visit_impl_item_fn(self, f);
    }
}

fn first_type_arg(tp: &syn::TypePath) -> Option<&syn::Type> {
    let syn::PathArguments::AngleBracketed(args) = &tp.path.segments.last()?.arguments else { return None };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// Derefs from `ty` to the handle type `is_handle` picks, and whether it is the outermost
/// wrapper's direct argument (or `ty` itself).
fn depth_of(ty: &syn::Type, is_handle: &dyn Fn(&syn::Ident) -> bool) -> Option<(usize, bool)> {
    match ty {
        syn::Type::Path(tp) => {
            let last = tp.path.segments.last()?;
            if is_handle(&last.ident) {
                return Some((0, true));
            }
            let syn::PathArguments::AngleBracketed(args) = &last.arguments else { return None };
            args.args.iter().find_map(|a| match a {
                syn::GenericArgument::Type(t) => {
                    depth_of(t, is_handle).map(|(d, _)| (wrapper_steps(&last.ident.to_string()) + d, d == 0))
                }
                _ => None,
            })
        }
        syn::Type::Reference(r) => depth_of(&r.elem, is_handle).map(|(d, _)| (d + 1, d == 0)),
        syn::Type::Paren(p) => depth_of(&p.elem, is_handle),
        syn::Type::Group(g) => depth_of(&g.elem, is_handle),
        _ => None,
    }
}

/// The uses of handle parameters in a body: for learning (`field`, `deeper`) or rewriting.
struct Uses<'a> {
    src: &'a SourceText,
    params: &'a [HandleParam],
    /// `None`: only learn.
    shape: Option<Shape>,
    /// Some parameter is reached by its field (`pool.0`).
    field: bool,
    /// Some parameter is dereferenced once more than its wrappers (`&***pool`).
    deeper: bool,
    splices: Vec<Splice>,
}

impl<'a> Uses<'a> {
    fn new(src: &'a SourceText, params: &'a [HandleParam], shape: Option<Shape>) -> Uses<'a> {
        Uses { src, params, shape, field: false, deeper: false, splices: Vec::new() }
    }

    fn param(&self, expr: &syn::Expr) -> Option<&'a HandleParam> {
        let syn::Expr::Path(p) = expr else { return None };
        let ident = p.path.get_ident()?;
        self.params.iter().find(|h| ident == &h.name)
    }

    fn offset(&self, span: proc_macro2::Span) -> std::ops::Range<usize> {
        span_range(self.src, span).bytes()
    }

    /// `&` + `*`×k + a parameter.
    fn reference(&mut self, r: &syn::ExprReference) {
        let mut inner = &*r.expr;
        let mut stars = 0;
        while let syn::Expr::Unary(syn::ExprUnary { op: syn::UnOp::Deref(_), expr, .. }) = inner {
            stars += 1;
            inner = expr;
        }
        let Some(param) = self.param(inner) else { return };
        if stars == param.depth + 1 {
            self.deeper = true;
        }
        if stars != param.depth {
            return;
        }
        match self.shape {
            Some(Shape::Deref) => {
                let at = self.offset(syn::spanned::Spanned::span(&*r.expr)).start;
                self.splices.push(Splice { range: at..at, text: "*".into() });
            }
            Some(Shape::Field) if r.mutability.is_none() => {
                let range = self.offset(syn::spanned::Spanned::span(&*r.expr));
                self.splices.push(Splice { range, text: format!("{}.0", param.name) });
            }
            _ => {}
        }
    }

    /// An argument: `pool.get_ref()` / `pool.as_ref()` on a wrapper of the handle itself.
    fn argument(&mut self, arg: &syn::Expr) {
        let syn::Expr::MethodCall(m) = arg else { return };
        let Some(param) = self.param(&m.receiver) else { return };
        if !m.args.is_empty()
            || !param.direct
            || param.depth == 0
            || !["get_ref", "as_ref"].iter().any(|n| m.method == n)
        {
            return;
        }
        let range = self.offset(syn::spanned::Spanned::span(arg));
        match self.shape {
            Some(Shape::Deref) => {
                self.splices.push(Splice { range: range.start..range.start, text: "&**".into() })
            }
            Some(Shape::Field) => self.splices.push(Splice { range, text: format!("&{}.0", param.name) }),
            None => {}
        }
    }
}

impl<'ast> Visit<'ast> for Uses<'_> {
    fn visit_expr_reference(&mut self, r: &'ast syn::ExprReference) {
        self.reference(r);
        syn::visit::visit_expr_reference(self, r);
    }

    fn visit_expr_field(&mut self, f: &'ast syn::ExprField) {
        let is_zero = matches!(&f.member, syn::Member::Unnamed(i) if i.index == 0);
        if is_zero && self.param(&f.base).is_some() {
            self.field = true;
        }
        syn::visit::visit_expr_field(self, f);
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        c.args.iter().for_each(|a| self.argument(a));
        syn::visit::visit_expr_call(self, c);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        m.args.iter().for_each(|a| self.argument(a));
        syn::visit::visit_expr_method_call(self, m);
    }
}
