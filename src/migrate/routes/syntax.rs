//! Syntactic helpers of the route walker: expressions looked through (parentheses, references,
//! `.clone()`), path segments, string literals, the names a pattern binds, the type an `impl`
//! is for. Pure functions of the syntax tree, with no state.

use syn::{Expr, Pat};

use super::names::ACTIX_SCOPE_FN;
use crate::source::{Pos, SourceText};

/// The position just past the last non-whitespace character before `pos` (columns count
/// from the start of the line in the file, as `SourceText::pos` does).
pub(super) fn before_whitespace(src: &SourceText, pos: Pos) -> Pos {
    let trimmed = src.text[..pos.offset as usize].trim_end();
    let skipped = &src.text[trimmed.len()..pos.offset as usize];
    let line = pos.line - skipped.matches('\n').count() as u32;
    let line_start = trimmed.rfind('\n').map_or(0, |i| i + 1);
    let column = trimmed[line_start..].chars().count() as u32 + 1;
    Pos { line, column, offset: trimmed.len() as u32 }
}

/// Parentheses, groups and references around an expression.
pub(super) fn strip(mut expr: &Expr) -> &Expr {
    loop {
        expr = match expr {
            Expr::Paren(p) => &p.expr,
            Expr::Group(g) => &g.expr,
            Expr::Reference(r) => &r.expr,
            _ => return expr,
        };
    }
}

/// The receiver at the bottom of a method-call chain.
pub(super) fn chain_root(mut expr: &Expr) -> &Expr {
    while let Expr::MethodCall(m) = strip(expr) {
        expr = &m.receiver;
    }
    expr
}

/// The identifiers of a path, without generic arguments.
pub(super) fn path_segments(path: &syn::Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

/// The value of a string literal expression.
/// The path of actix's `web::scope("/x")` at the root of the builder chain `expr`.
pub(super) fn scope_path(mut expr: &Expr) -> Option<String> {
    loop {
        match strip(expr) {
            Expr::MethodCall(m) => expr = &m.receiver,
            Expr::Call(c) => {
                let Expr::Path(p) = strip(&c.func) else { return None };
                let is_scope = p.path.segments.last()?.ident == ACTIX_SCOPE_FN;
                return if is_scope { c.args.first().and_then(str_lit) } else { None };
            }
            _ => return None,
        }
    }
}

pub(super) fn str_lit(expr: &Expr) -> Option<String> {
    match strip(expr) {
        Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
        _ => None,
    }
}

/// The binding of `let NAME = …` / `let NAME: T = …` / `let mut NAME = …`.
pub(super) fn local_name(pat: &Pat) -> Option<String> {
    match pat {
        Pat::Ident(p) if p.subpat.is_none() => Some(p.ident.to_string()),
        Pat::Type(t) => local_name(&t.pat),
        _ => None,
    }
}

/// Every name a pattern binds.
pub(super) fn pattern_idents(pat: &Pat, out: &mut Vec<String>) {
    match pat {
        Pat::Ident(p) => {
            out.push(p.ident.to_string());
            if let Some((_, sub)) = &p.subpat {
                pattern_idents(sub, out);
            }
        }
        Pat::Or(o) => o.cases.iter().for_each(|c| pattern_idents(c, out)),
        Pat::Paren(p) => pattern_idents(&p.pat, out),
        Pat::Reference(r) => pattern_idents(&r.pat, out),
        Pat::Slice(s) => s.elems.iter().for_each(|e| pattern_idents(e, out)),
        Pat::Struct(s) => s.fields.iter().for_each(|f| pattern_idents(&f.pat, out)),
        Pat::Tuple(t) => t.elems.iter().for_each(|e| pattern_idents(e, out)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|e| pattern_idents(e, out)),
        Pat::Type(t) => pattern_idents(&t.pat, out),
        _ => {}
    }
}
