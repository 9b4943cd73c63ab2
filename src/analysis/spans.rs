//! Where syntax is in the file, cheaply.
//!
//! A span becomes a [`TextRange`] through the file's own table of line starts
//! ([`SourceText::parser_offset`]), not proc-macro2's `byte_range`, which counts characters
//! (and fills a cache) on every call. The range of an expression is taken from its first and
//! last tokens where the expression's shape gives them (calls, method calls, paths, fields,
//! `&`, `?`, `.await`, literals, macros, …), instead of `Spanned::span`, which turns the whole
//! expression back into tokens: for each call of a long method chain, the whole chain again.
//! Any other shape falls back to `Spanned::span`. Never decides anything about the code.

use std::cell::Cell;

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, ExprCall, ExprField, ExprMethodCall, MacroDelimiter, Member, Pat, UnOp};

use crate::source::{SourceText, TextRange};

/// Where `span` of this file is, in the file as on disk.
pub(crate) fn span_range(src: &SourceText, span: Span) -> TextRange {
    between(src, span, span)
}

/// The byte offset into the parser's text where `span` starts (each end of a span is a
/// look-up in proc-macro2's table of the thread: only the one asked for is looked up).
pub(crate) fn parser_start(src: &SourceText, span: Span) -> usize {
    let start = span.start();
    src.parser_offset(start.line, start.column)
}

/// The byte offset into the parser's text where `span` ends.
pub(crate) fn parser_end(src: &SourceText, span: Span) -> usize {
    let end = span.end();
    src.parser_offset(end.line, end.column)
}

/// A node whose range its tokens tell without printing it.
pub(crate) trait Located: Spanned {
    /// Its first token and its last, when its shape tells them.
    fn ends(&self) -> Option<(Span, Span)>;

    /// Where it is in the file as on disk.
    fn range_in(&self, src: &SourceText) -> TextRange {
        match self.ends() {
            Some((first, last)) => between(src, first, last),
            None => span_range(src, self.span()),
        }
    }
}

/// A node's range, looked up the first time it is needed and then kept: a call records several
/// sinks and derivations at its one range, and most calls none.
pub(crate) struct LazyRange<'n, N: Located> {
    node: &'n N,
    range: Cell<Option<TextRange>>,
}

impl<'n, N: Located> LazyRange<'n, N> {
    pub(crate) fn new(node: &'n N) -> LazyRange<'n, N> {
        LazyRange { node, range: Cell::new(None) }
    }

    /// Where the node is in the file as on disk ([`Located::range_in`]).
    pub(crate) fn get(&self, src: &SourceText) -> TextRange {
        if let Some(range) = self.range.get() {
            return range;
        }
        let range = self.node.range_in(src);
        self.range.set(Some(range));
        range
    }
}

/// A call (`f(..)`, `a::b(..)`): from the callee to the closing parenthesis.
impl Located for ExprCall {
    fn ends(&self) -> Option<(Span, Span)> {
        let first = first_token(&self.func).filter(|_| self.attrs.is_empty())?;
        Some((first, self.paren_token.span.close()))
    }
}

/// A method call, its receiver included (`db.pool().execute(..)`).
impl Located for ExprMethodCall {
    fn ends(&self) -> Option<(Span, Span)> {
        let first = first_token(&self.receiver).filter(|_| self.attrs.is_empty())?;
        Some((first, self.paren_token.span.close()))
    }
}

/// A field access, its base included (`state.db`).
impl Located for ExprField {
    fn ends(&self) -> Option<(Span, Span)> {
        let first = first_token(&self.base).filter(|_| self.attrs.is_empty())?;
        Some((first, member_span(&self.member)))
    }
}

/// Any expression: its shape's first and last tokens.
impl Located for Expr {
    fn ends(&self) -> Option<(Span, Span)> {
        Some((first_token(self)?, last_token(self)?))
    }
}

/// A binding pattern (`db`, `mut db`, `_`): from its first token to its name.
impl Located for Pat {
    fn ends(&self) -> Option<(Span, Span)> {
        match self {
            Pat::Ident(p) if p.attrs.is_empty() && p.by_ref.is_none() && p.subpat.is_none() => {
                let first = p.mutability.map_or_else(|| p.ident.span(), |m| m.span);
                Some((first, p.ident.span()))
            }
            Pat::Wild(p) if p.attrs.is_empty() => Some((p.underscore_token.span, p.underscore_token.span)),
            _ => None,
        }
    }
}

fn member_span(member: &Member) -> Span {
    match member {
        Member::Named(ident) => ident.span(),
        Member::Unnamed(index) => index.span,
    }
}

fn between(src: &SourceText, first: Span, last: Span) -> TextRange {
    // Only the first token's start and the last one's end: each position is a look-up in
    // proc-macro2's table of the thread.
    let (start, end) = (first.start(), last.end());
    TextRange {
        start: src.pos(start.line, start.column, src.parser_offset(start.line, start.column)),
        end: src.pos(end.line, end.column, src.parser_offset(end.line, end.column)),
    }
}

/// The span of the first token of `expr`, for the shapes that tell it without printing.
fn first_token(expr: &Expr) -> Option<Span> {
    match expr {
        Expr::MethodCall(e) if e.attrs.is_empty() => first_token(&e.receiver),
        Expr::Call(e) if e.attrs.is_empty() => first_token(&e.func),
        Expr::Field(e) if e.attrs.is_empty() => first_token(&e.base),
        Expr::Await(e) if e.attrs.is_empty() => first_token(&e.base),
        Expr::Try(e) if e.attrs.is_empty() => first_token(&e.expr),
        Expr::Index(e) if e.attrs.is_empty() => first_token(&e.expr),
        Expr::Binary(e) if e.attrs.is_empty() => first_token(&e.left),
        Expr::Cast(e) if e.attrs.is_empty() => first_token(&e.expr),
        Expr::Reference(e) if e.attrs.is_empty() => Some(e.and_token.span),
        Expr::Paren(e) if e.attrs.is_empty() => Some(e.paren_token.span.open()),
        Expr::Tuple(e) if e.attrs.is_empty() => Some(e.paren_token.span.open()),
        Expr::Array(e) if e.attrs.is_empty() => Some(e.bracket_token.span.open()),
        Expr::Lit(e) if e.attrs.is_empty() => Some(e.lit.span()),
        Expr::Unary(e) if e.attrs.is_empty() => Some(match &e.op {
            UnOp::Deref(t) => t.span,
            UnOp::Not(t) => t.span,
            UnOp::Neg(t) => t.span,
            _ => return None,
        }),
        Expr::Path(e) if e.attrs.is_empty() && e.qself.is_none() => match e.path.leading_colon {
            Some(colon) => Some(colon.spans[0]),
            None => e.path.segments.first().map(|s| s.ident.span()),
        },
        Expr::Macro(e) if e.attrs.is_empty() => match e.mac.path.leading_colon {
            Some(colon) => Some(colon.spans[0]),
            None => e.mac.path.segments.first().map(|s| s.ident.span()),
        },
        _ => None,
    }
}

/// The span of the last token of `expr`, for the shapes that tell it without printing.
fn last_token(expr: &Expr) -> Option<Span> {
    match expr {
        Expr::MethodCall(e) => Some(e.paren_token.span.close()),
        Expr::Call(e) => Some(e.paren_token.span.close()),
        Expr::Field(e) => Some(member_span(&e.member)),
        Expr::Await(e) => Some(e.await_token.span),
        Expr::Try(e) => Some(e.question_token.span),
        Expr::Index(e) => Some(e.bracket_token.span.close()),
        Expr::Binary(e) => last_token(&e.right),
        // `id as u64`: a plain type's last token is its name.
        Expr::Cast(e) => match &*e.ty {
            syn::Type::Path(t) if t.qself.is_none() => {
                t.path.segments.last().filter(|s| s.arguments.is_none()).map(|s| s.ident.span())
            }
            _ => None,
        },
        Expr::Reference(e) => last_token(&e.expr),
        Expr::Unary(e) => last_token(&e.expr),
        Expr::Paren(e) => Some(e.paren_token.span.close()),
        Expr::Tuple(e) => Some(e.paren_token.span.close()),
        Expr::Array(e) => Some(e.bracket_token.span.close()),
        Expr::Lit(e) => Some(e.lit.span()),
        // A last segment with generic arguments (`f::<T>`) ends later: printed instead.
        Expr::Path(e) => e.path.segments.last().filter(|s| s.arguments.is_none()).map(|s| s.ident.span()),
        Expr::Macro(e) => Some(match &e.mac.delimiter {
            MacroDelimiter::Paren(d) => d.span.close(),
            MacroDelimiter::Brace(d) => d.span.close(),
            MacroDelimiter::Bracket(d) => d.span.close(),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Byte offsets into the parser's text of where `span` starts and ends.
    fn parser_bytes(src: &SourceText, span: Span) -> (usize, usize) {
        (parser_start(src, span), parser_end(src, span))
    }

    /// The range of the first statement's expression, by shape and by printing.
    fn both(body: &str) -> (TextRange, TextRange) {
        let src = SourceText::new(format!("fn f() {{\n    let _x = {body};\n}}\n"));
        let file = syn::parse_file(src.parser_text()).unwrap();
        let syn::Item::Fn(f) = &file.items[0] else { panic!("not a function") };
        let syn::Stmt::Local(syn::Local { init: Some(init), .. }) = &f.block.stmts[0] else {
            panic!("not a let statement")
        };
        let expr = &*init.expr;
        let out = (expr.range_in(&src), span_range(&src, expr.span()));
        crate::parse::release_spans();
        out
    }

    #[test]
    fn expressions_span_from_their_first_token_to_their_last() {
        for body in [
            "db.pool().execute(\"UPDATE t SET a = 1\", &[]).await?",
            "&mut *self.state.db",
            "crate::store::save(&db, 1)",
            "::std::mem::take(&mut x)",
            "sqlx::query!(\"SELECT 1\").fetch_one(&pool)",
            "(a + b) as i64 + rows[0].1",
            "!done && -n < 3",
            "\"é\".len()",
            "vec![1, 2]",
            "f::<u8>(x)",
            "x.0",
            "[&id, 2]",
            "(a, &[b])",
            "id as u64 + 1",
            "(x as std::primitive::u8, &y as &dyn Tr, z as Vec<u8>)",
        ] {
            let (shape, printed) = both(body);
            assert_eq!(shape, printed, "{body}");
            assert_eq!((shape.start.line, shape.start.column), (2, 14), "{body}");
        }
    }

    #[test]
    fn binding_patterns_span_as_printed() {
        for pat in ["db", "mut db", "_", "(a, mut b)", "ref x", "Ctx { pool, .. }", "r#type"] {
            let src = SourceText::new(format!("fn f() {{\n    let {pat} = g();\n}}\n"));
            let file = syn::parse_file(src.parser_text()).unwrap();
            let syn::Item::Fn(f) = &file.items[0] else { panic!("not a function") };
            let syn::Stmt::Local(local) = &f.block.stmts[0] else { panic!("not a let statement") };
            let (shape, printed) = (local.pat.range_in(&src), span_range(&src, local.pat.span()));
            crate::parse::release_spans();
            assert_eq!(shape, printed, "{pat}");
            assert_eq!(&src.text[shape.bytes()], pat);
        }
    }

    #[test]
    fn calls_span_from_their_callee_or_receiver_to_the_closing_parenthesis() {
        let src = SourceText::new("fn f() { a.b(1).c(2); g(h(3)); }".to_string());
        let file = syn::parse_file(src.parser_text()).unwrap();
        let syn::Item::Fn(f) = &file.items[0] else { panic!("not a function") };
        let text = |r: TextRange| src.text[r.bytes()].to_string();
        let (syn::Stmt::Expr(Expr::MethodCall(m), _), syn::Stmt::Expr(Expr::Call(c), _)) =
            (&f.block.stmts[0], &f.block.stmts[1])
        else {
            panic!("unexpected statements")
        };
        assert_eq!(text(m.range_in(&src)), "a.b(1).c(2)");
        assert_eq!(text(c.range_in(&src)), "g(h(3))");
        assert_eq!(m.range_in(&src), span_range(&src, m.span()));
        crate::parse::release_spans();
    }

    #[test]
    fn byte_offsets_are_those_proc_macro2_counts() {
        let src =
            SourceText::new("\u{feff}// é\nfn été() -> &'static str {\n\t\"ü\\n\" /* ß */ }\n".to_string());
        let tokens: proc_macro2::TokenStream = src.parser_text().parse().unwrap();
        let mut seen = 0;
        let mut stack: Vec<proc_macro2::TokenTree> = tokens.into_iter().collect();
        while let Some(token) = stack.pop() {
            let span = token.span();
            let bytes = span.byte_range();
            assert_eq!(parser_bytes(&src, span), (bytes.start, bytes.end), "{token}");
            if let proc_macro2::TokenTree::Group(g) = token {
                let (open, close) = (g.span_open().byte_range(), g.span_close().byte_range());
                assert_eq!(parser_bytes(&src, g.span_open()), (open.start, open.end));
                assert_eq!(parser_bytes(&src, g.span_close()), (close.start, close.end));
                stack.extend(g.stream());
            }
            seen += 1;
        }
        assert!(seen >= 10, "only {seen} tokens");
        crate::parse::release_spans();
    }
}
