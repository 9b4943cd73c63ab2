//! What a macro call's body holds as code, parsed one way for every reader: the interpreter of
//! a function body ([`super::bindings`]) and `migrate`'s scan of handle names
//! ([`crate::migrate::scan`]) see the same expressions inside `tokio::join!(…)`, `json!({…})`,
//! `vec![…]`, `format!` arguments, `tokio::select! { … }` or a project's `db_run! { … }`.
//!
//! Only parses: never matches a name, never analyses, never expands a macro. A body that is no
//! code at all (a `macro_rules!` pattern, an SQL string) yields what parts of it parse, or
//! nothing.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Block, Expr, Macro, Pat, Stmt, Token};

/// A macro body as code.
pub enum MacroCode {
    /// Comma-separated expressions (`vec![a, b]`, `tokio::join!(f, g)`, `format!("{}", x)`).
    Args(Punctuated<Expr, Token![,]>),
    /// Statements (`db_run! { let x = …; x }`).
    Stmts(Vec<Stmt>),
    /// Neither: the parts of [`parts`] (`select! { r = fut => { … } }`, `json!({ "k": v })`).
    Parts(Vec<MacroPart>),
}

/// One part of a body split by [`parts`].
pub enum MacroPart {
    /// A part that parses as an expression.
    Expr(Box<Expr>),
    /// `pattern = expression`, as a `select!` branch binds what its future gives
    /// (`conn = pool.get() => { … }`): the pattern binds the value for the parts after it.
    Bind(Box<Pat>, Box<Expr>),
    /// A part that does not: its bracketed groups, in order.
    Groups(Vec<MacroGroup>),
}

/// A bracketed group of a part that is no expression.
pub enum MacroGroup {
    /// A `{ … }` holding statements.
    Stmts(Vec<Stmt>),
    /// Any other group, split again by [`parts`] (`{ "key": value }`, `[a, b]`, `(x, y)`).
    Parts(Vec<MacroPart>),
}

/// The body's comma-separated expressions, if it is that (what string macros take).
pub fn args(mac: &Macro) -> syn::Result<Punctuated<Expr, Token![,]>> {
    mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
}

impl MacroCode {
    /// The body of `mac`: comma-separated expressions, else statements, else split in parts.
    pub fn parse(mac: &Macro) -> MacroCode {
        if let Ok(args) = args(mac) {
            return MacroCode::Args(args);
        }
        match mac.parse_body_with(Block::parse_within) {
            Ok(stmts) => MacroCode::Stmts(stmts),
            Err(_) => MacroCode::Parts(parts(mac.tokens.clone())),
        }
    }
}

/// Best effort for bodies that are neither expressions nor statements: the tokens are split
/// at top-level `,`, `;`, `=>` and a lone `:` (not one of a `::`); a part `pattern =
/// expression` binds, one that parses as an expression is one, else each bracketed group in
/// it is statements (a `{ … }` that parses so) or split the same way.
pub fn parts(tokens: TokenStream) -> Vec<MacroPart> {
    let mut segments: Vec<Vec<TokenTree>> = vec![Vec::new()];
    let mut trees = tokens.into_iter().peekable();
    // Whether the previous token was the first `:` of a `::`.
    let mut in_path_sep = false;
    while let Some(tree) = trees.next() {
        if let TokenTree::Punct(p) = &tree {
            let arrow = p.as_char() == '='
                && p.spacing() == Spacing::Joint
                && matches!(trees.peek(), Some(TokenTree::Punct(next)) if next.as_char() == '>');
            if arrow {
                trees.next();
            }
            let path_sep_start = p.as_char() == ':'
                && p.spacing() == Spacing::Joint
                && matches!(trees.peek(), Some(TokenTree::Punct(next)) if next.as_char() == ':');
            let lone_colon = p.as_char() == ':' && !path_sep_start && !in_path_sep;
            in_path_sep = path_sep_start;
            if arrow || lone_colon || matches!(p.as_char(), ',' | ';') {
                segments.push(Vec::new());
                continue;
            }
        } else {
            in_path_sep = false;
        }
        if let Some(last) = segments.last_mut() {
            last.push(tree);
        }
    }
    segments.into_iter().filter(|s| !s.is_empty()).map(part).collect()
}

fn part(segment: Vec<TokenTree>) -> MacroPart {
    let stream: TokenStream = segment.iter().cloned().collect();
    let bind = |input: ParseStream<'_>| {
        let pat = Pat::parse_single(input)?;
        input.parse::<Token![=]>()?;
        Ok((pat, input.parse::<Expr>()?))
    };
    if let Ok((pat, expr)) = Parser::parse2(bind, stream.clone()) {
        return MacroPart::Bind(Box::new(pat), Box::new(expr));
    }
    if let Ok(expr) = syn::parse2::<Expr>(stream) {
        return MacroPart::Expr(Box::new(expr));
    }
    let groups = segment
        .into_iter()
        .filter_map(|tree| match tree {
            TokenTree::Group(g) => Some(g),
            _ => None,
        })
        .map(|g| {
            let stmts = match g.delimiter() {
                Delimiter::Brace => Parser::parse2(Block::parse_within, g.stream()).ok(),
                _ => None,
            };
            match stmts {
                Some(stmts) => MacroGroup::Stmts(stmts),
                None => MacroGroup::Parts(parts(g.stream())),
            }
        })
        .collect();
    MacroPart::Groups(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How `body` of `m!(…)` is seen: `args`/`stmts` counts, or the parts as `e` (an
    /// expression), `s` (a group of statements), `[…]` (a group split again) and `-` (no
    /// expression and no group).
    fn shape(body: &str) -> String {
        fn parts_shape(parts: &[MacroPart]) -> String {
            parts
                .iter()
                .map(|p| match p {
                    MacroPart::Expr(_) => "e".to_string(),
                    MacroPart::Bind(..) => "b".to_string(),
                    MacroPart::Groups(groups) if groups.is_empty() => "-".to_string(),
                    MacroPart::Groups(groups) => groups
                        .iter()
                        .map(|g| match g {
                            MacroGroup::Stmts(_) => "s".to_string(),
                            MacroGroup::Parts(parts) => format!("[{}]", parts_shape(parts)),
                        })
                        .collect::<Vec<_>>()
                        .join(""),
                })
                .collect::<Vec<_>>()
                .join(" ")
        }
        let mac: Macro = syn::parse_str(&format!("m!({body})")).unwrap();
        match MacroCode::parse(&mac) {
            MacroCode::Args(args) => format!("args {}", args.len()),
            MacroCode::Stmts(stmts) => format!("stmts {}", stmts.len()),
            MacroCode::Parts(parts) => parts_shape(&parts),
        }
    }

    #[test]
    fn bodies_are_expressions_statements_or_parts() {
        assert_eq!(shape("a.get_db().ping(), async { b.x().await },"), "args 2");
        assert_eq!(shape("let db = get_db(); db.query(q)"), "stmts 2");
        assert_eq!(shape("r = fut => { f(r); }, else => g()"), "b e - e");
        assert_eq!(shape("Some(c) = rx.recv() => c, x.y = 1 => z"), "b e e e", "a field is no pattern");
        assert_eq!(shape("a == b => c, d <= e"), "e e e", "comparisons bind nothing");
        assert_eq!(shape("conn: postgresql { let x = f(); x }"), "e s");
        assert_eq!(shape("{ \"audit\": audit(&db), \"kind\": k }"), "[e e e e]");
        assert_eq!(shape("crate::db::get_db(): x"), "e e", "`::` does not split");
        assert_eq!(shape(""), "args 0");
    }
}
