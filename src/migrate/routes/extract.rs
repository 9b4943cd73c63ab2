//! From one parsed file to its owned [`FileRoutes`].
//!
//! Two passes over the items. The first collects what scoping needs before any body is read
//! (`use` names, function and module names per module). The second records every function
//! and walks every expression — function bodies, closures, consts and statics, macro
//! arguments that parse as expressions — handing each call and method call to the framework
//! recognisers ([`super::axum`], [`super::poem`], [`super::actix`]). So a `get(h)` counts
//! wherever it is built: in `.route(..)`, in a `vec![("/a", get(a))]` table registered in a
//! loop, in a helper returning a method router.
//!
//! Locals are tracked just enough to see through them: a local bound to a closure or a path
//! stands for it when a route names the local; a local bound to a method router keeps its
//! chain (`let mr = get(a); mr.post(b)`); any other local shadows functions of its name.
//!
//! Nothing returned holds a span or a syntax tree: the caller releases the span table next.

use std::path::Path;

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Block, Expr, ExprCall, ExprClosure, ExprMethodCall, ImplItem, Item, Pat, Stmt, TraitItem};

use super::facts::{FileRoutes, FnDef, Framework, Import, MethodSet, ModulePath};
use super::names::{has, RouteNames};
use super::scope::Scan;
use super::shapes::is_stub;
use super::syntax::{
    before_whitespace, local_name, path_segments, pattern_idents, scope_path, str_lit, strip,
};
use super::{actix, attributes, axum, imports, poem};
use crate::analysis::span_range;
use crate::analysis::type_name;
use crate::source::{SourceText, TextRange};
use crate::workspace::location::locate;

mod handlers;

/// The route facts of one parsed file, the frameworks' forms spelled as `names` says. `path`
/// is the file as walked; its crate and module come from it ([`locate`]).
pub fn extract(path: &Path, src: &SourceText, file: &syn::File, names: &RouteNames) -> FileRoutes {
    let location = locate(path);
    let module = ModulePath::from(location.module.as_slice());
    let mut scan = Scan::default();
    scan.items(&file.items, &module);
    let mut walker = Walker {
        src,
        names,
        file_framework: scan.file_framework(names),
        out: FileRoutes {
            file: path.to_path_buf(),
            location: location.clone(),
            functions: Vec::new(),
            // The module-level `use` names and modules move in from the first pass at the
            // end; bodies' `use` names are recorded here while walking.
            imports: Vec::new(),
            modules: Vec::new(),
            registrations: Vec::new(),
        },
        scan,
        module,
        within: None,
        owner: None,
        locals: Vec::new(),
        block_imports: Vec::new(),
        block_fns: Vec::new(),
    };
    walker.items(&file.items);
    let mut out = walker.out;
    let in_bodies = std::mem::replace(&mut out.imports, walker.scan.imports);
    out.imports.extend(in_bodies);
    out.modules = walker.scan.modules.into_iter().collect();
    out.modules.sort();
    out
}

/// What a method-call chain is building, as far as route discovery cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Chain {
    /// An axum `MethodRouter` or a poem `RouteMethod`: `.post(h)` on it registers `h`.
    MethodRouter(Framework),
    /// An actix `Route` or `Resource`, narrowed by its guards: `.to(h)` registers `h`.
    Actix {
        /// The methods its guards let through.
        methods: MethodSet,
        /// `web::resource("/x")`'s path.
        path: Option<String>,
    },
}

/// What a local binding holds, as far as route discovery cares.
#[derive(Debug, Clone)]
enum Local {
    Closure { range: TextRange, body: TextRange },
    Path { segments: Vec<String>, text: String },
    Chain(Chain),
    Value,
}

/// A registration a recogniser found, still pointing into the syntax tree.
pub(super) struct Found<'e> {
    /// The methods.
    pub methods: MethodSet,
    /// The handler expression.
    pub handler: &'e Expr,
    /// The registering token.
    pub at: Span,
    /// The route's literal path.
    pub path: Option<String>,
    /// Whose form.
    pub framework: Framework,
    /// Method-less mount: counts only for a function or a closure.
    pub requires_fn: bool,
}

/// The second pass.
pub(super) struct Walker<'a> {
    src: &'a SourceText,
    pub(super) names: &'a RouteNames,
    pub(super) scan: Scan,
    file_framework: Framework,
    out: FileRoutes,
    pub(super) module: ModulePath,
    within: Option<usize>,
    owner: Option<String>,
    locals: Vec<(String, Local)>,
    pub(super) block_imports: Vec<Import>,
    pub(super) block_fns: Vec<String>,
}

impl Walker<'_> {
    // -----------------------------------------------------------------------------------------
    // Items

    fn items(&mut self, items: &[Item]) {
        for item in items {
            self.item(item);
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Fn(f) => self.function(&f.attrs, Some(&f.vis), &f.sig, &f.block),
            Item::Impl(imp) => {
                let saved = std::mem::replace(&mut self.owner, type_name(&imp.self_ty));
                for it in &imp.items {
                    match it {
                        ImplItem::Fn(f) => self.function(&f.attrs, Some(&f.vis), &f.sig, &f.block),
                        ImplItem::Const(c) => self.expr(&c.expr, None),
                        _ => {}
                    }
                }
                self.owner = saved;
            }
            Item::Trait(tr) => {
                let saved = self.owner.replace(tr.ident.to_string());
                for it in &tr.items {
                    if let TraitItem::Fn(f) = it {
                        if let Some(body) = &f.default {
                            self.function(&f.attrs, None, &f.sig, body);
                        }
                    }
                }
                self.owner = saved;
            }
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    let inner = [&self.module[..], &[m.ident.to_string()]].concat();
                    let outer = std::mem::replace(&mut self.module, inner.into());
                    let saved = self.owner.take();
                    self.items(items);
                    self.owner = saved;
                    self.module = outer;
                }
            }
            Item::Const(c) => self.expr(&c.expr, None),
            Item::Static(s) => self.expr(&s.expr, None),
            Item::Macro(m) if m.ident.is_none() => {
                let parsed = m.mac.parse_body_with(|input: syn::parse::ParseStream<'_>| {
                    let mut items = Vec::new();
                    while !input.is_empty() {
                        items.push(input.parse::<Item>()?);
                    }
                    Ok(items)
                });
                match parsed {
                    Ok(items) => self.items(&items),
                    Err(_) => self.mac(&m.mac),
                }
            }
            _ => {}
        }
    }

    fn function(
        &mut self,
        attrs: &[syn::Attribute],
        vis: Option<&syn::Visibility>,
        sig: &syn::Signature,
        body: &Block,
    ) {
        let sig_start = sig
            .constness
            .map(|t| t.span)
            .or(sig.asyncness.map(|t| t.span))
            .or(sig.unsafety.map(|t| t.span))
            .or(sig.abi.as_ref().map(|a| a.extern_token.span))
            .unwrap_or(sig.fn_token.span);
        let signature_start = self.range(sig_start).start;
        let body_range = TextRange {
            start: self.range(body.brace_token.span.open()).start,
            end: self.range(body.brace_token.span.close()).end,
        };
        let vis_start = vis.and_then(|v| match v {
            syn::Visibility::Public(p) => Some(self.range(p.span).start),
            syn::Visibility::Restricted(r) => Some(self.range(r.pub_token.span).start),
            syn::Visibility::Inherited => None,
        });
        let attr_start = attrs.iter().map(|a| self.range(a.pound_token.spans[0]).start).min();
        let item_start = [attr_start, vis_start, Some(signature_start)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(signature_start);
        let def = FnDef {
            module: self.module.clone(),
            owner: self.owner.clone(),
            name: sig.ident.to_string(),
            name_range: self.range(sig.ident.span()),
            item: TextRange { start: item_start, end: body_range.end },
            signature: TextRange {
                start: signature_start,
                end: before_whitespace(self.src, body_range.start),
            },
            body: body_range,
            parent: self.within,
            // A route attribute on a stub documents an API; it declares no handler.
            attr_routes: if is_stub(body) {
                Vec::new()
            } else {
                attributes::attr_routes(attrs, self.src, self.file_framework, self.names)
            },
        };
        self.out.functions.push(def);
        let index = self.out.functions.len() - 1;
        if self.src.text.get(body_range.bytes()).is_some_and(|text| !self.names.body_may_register(text)) {
            // Nothing in it can register a route (a registration names its marker where it is
            // written) or declare an item: no need to walk it.
            return;
        }

        // A function item does not see the locals around it; its parameters shadow.
        let saved_within = self.within.replace(index);
        let saved_locals = std::mem::take(&mut self.locals);
        for input in &sig.inputs {
            if let syn::FnArg::Typed(t) = input {
                self.bind_pattern(&t.pat);
            }
        }
        self.block(body);
        self.locals = saved_locals;
        self.within = saved_within;
    }

    // -----------------------------------------------------------------------------------------
    // Statements

    fn block(&mut self, block: &Block) {
        self.stmts(&block.stmts);
    }

    fn stmts(&mut self, stmts: &[Stmt]) {
        let marks = (self.locals.len(), self.block_imports.len(), self.block_fns.len());
        // Items of a block are visible in all of it, whatever their order.
        for stmt in stmts {
            match stmt {
                Stmt::Item(Item::Use(u)) => {
                    let found = imports::flatten_use(u, &self.module, self.within);
                    self.out.imports.extend(found.iter().cloned());
                    self.block_imports.extend(found);
                }
                Stmt::Item(Item::ExternCrate(e)) => {
                    if let Some(found) = imports::extern_crate(e, &self.module, self.within) {
                        self.out.imports.push(found.clone());
                        self.block_imports.push(found);
                    }
                }
                Stmt::Item(Item::Fn(f)) => self.block_fns.push(f.sig.ident.to_string()),
                _ => {}
            }
        }
        for stmt in stmts {
            match stmt {
                Stmt::Local(local) => {
                    if let Some(init) = &local.init {
                        self.expr(&init.expr, None);
                        if let Some((_, diverge)) = &init.diverge {
                            self.expr(diverge, None);
                        }
                    }
                    match (local_name(&local.pat), &local.init) {
                        (Some(name), Some(init)) => {
                            let value = self.local_value(&init.expr);
                            self.locals.push((name, value));
                        }
                        _ => self.bind_pattern(&local.pat),
                    }
                }
                Stmt::Item(item) => {
                    // A function item inside a body: its own scope, under this function.
                    let saved = std::mem::take(&mut self.locals);
                    self.item(item);
                    self.locals = saved;
                }
                Stmt::Expr(e, _) => self.expr(e, None),
                Stmt::Macro(m) => self.mac(&m.mac),
            }
        }
        self.locals.truncate(marks.0);
        self.block_imports.truncate(marks.1);
        self.block_fns.truncate(marks.2);
    }

    fn bind_pattern(&mut self, pat: &Pat) {
        let mut names = Vec::new();
        pattern_idents(pat, &mut names);
        self.locals.extend(names.into_iter().map(|n| (n, Local::Value)));
    }

    fn local_value(&self, init: &Expr) -> Local {
        match strip(init) {
            Expr::Closure(c) => {
                let (range, body) = self.closure_ranges(c);
                Local::Closure { range, body }
            }
            Expr::Path(p) if p.qself.is_none() => {
                let segments = path_segments(&p.path);
                if let [single] = segments.as_slice() {
                    if let Some(local) = self.local(single) {
                        return local.clone();
                    }
                }
                Local::Path { segments, text: self.text(init) }
            }
            other => self.chain(other).map_or(Local::Value, Local::Chain),
        }
    }

    fn local(&self, name: &str) -> Option<&Local> {
        self.locals.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Whether a local binding of this scope takes `name`.
    pub(super) fn has_local(&self, name: &str) -> bool {
        self.local(name).is_some()
    }

    // -----------------------------------------------------------------------------------------
    // Expressions

    /// Walks `expr`; `hint` is the literal route path the expression is registered under.
    fn expr(&mut self, expr: &Expr, hint: Option<&str>) {
        match expr {
            Expr::Call(c) => self.call(c, hint),
            Expr::MethodCall(m) => self.method_call(m, hint),
            Expr::Paren(p) => self.expr(&p.expr, hint),
            Expr::Group(g) => self.expr(&g.expr, hint),
            Expr::Reference(r) => self.expr(&r.expr, hint),
            Expr::Tuple(t) => {
                // A route table entry: `("/a", get(a))`, `("GET", "/a", get(a))`: the path is
                // its first string that is not a method name.
                let is_method = |s: &String| MethodSet::named(s).is_some();
                let path = t.elems.iter().filter_map(str_lit).find(|s| !is_method(s));
                for (i, e) in t.elems.iter().enumerate() {
                    self.expr(e, if i > 0 { path.as_deref() } else { None });
                }
            }
            Expr::Closure(c) => self.closure(c),
            Expr::Array(a) => a.elems.iter().for_each(|e| self.expr(e, None)),
            Expr::Assign(a) => {
                self.expr(&a.left, None);
                self.expr(&a.right, None);
            }
            Expr::Async(a) => self.block(&a.block),
            Expr::Await(a) => self.expr(&a.base, None),
            Expr::Binary(b) => {
                self.expr(&b.left, None);
                self.expr(&b.right, None);
            }
            Expr::Block(b) => self.block(&b.block),
            Expr::Break(b) => b.expr.iter().for_each(|e| self.expr(e, None)),
            Expr::Cast(c) => self.expr(&c.expr, None),
            Expr::Const(c) => self.block(&c.block),
            Expr::Field(f) => self.expr(&f.base, None),
            Expr::ForLoop(f) => {
                self.expr(&f.expr, None);
                let mark = self.locals.len();
                self.bind_pattern(&f.pat);
                self.block(&f.body);
                self.locals.truncate(mark);
            }
            Expr::If(i) => {
                let mark = self.locals.len();
                self.expr(&i.cond, None);
                self.block(&i.then_branch);
                self.locals.truncate(mark);
                if let Some((_, e)) = &i.else_branch {
                    self.expr(e, None);
                }
            }
            Expr::Index(i) => {
                self.expr(&i.expr, None);
                self.expr(&i.index, None);
            }
            Expr::Let(l) => {
                self.expr(&l.expr, None);
                self.bind_pattern(&l.pat);
            }
            Expr::Loop(l) => self.block(&l.body),
            Expr::Macro(m) => self.mac(&m.mac),
            Expr::Match(m) => {
                self.expr(&m.expr, None);
                for arm in &m.arms {
                    let mark = self.locals.len();
                    self.bind_pattern(&arm.pat);
                    if let Some((_, guard)) = &arm.guard {
                        self.expr(guard, None);
                    }
                    self.expr(&arm.body, None);
                    self.locals.truncate(mark);
                }
            }
            Expr::Range(r) => {
                r.start.iter().for_each(|e| self.expr(e, None));
                r.end.iter().for_each(|e| self.expr(e, None));
            }
            Expr::RawAddr(r) => self.expr(&r.expr, None),
            Expr::Repeat(r) => {
                self.expr(&r.expr, None);
                self.expr(&r.len, None);
            }
            Expr::Return(r) => r.expr.iter().for_each(|e| self.expr(e, None)),
            Expr::Struct(s) => {
                s.fields.iter().for_each(|f| self.expr(&f.expr, None));
                s.rest.iter().for_each(|e| self.expr(e, None));
            }
            Expr::Try(t) => self.expr(&t.expr, None),
            Expr::TryBlock(t) => self.block(&t.block),
            Expr::Unary(u) => self.expr(&u.expr, None),
            Expr::Unsafe(u) => self.block(&u.block),
            Expr::While(w) => {
                let mark = self.locals.len();
                self.expr(&w.cond, None);
                self.block(&w.body);
                self.locals.truncate(mark);
            }
            Expr::Yield(y) => y.expr.iter().for_each(|e| self.expr(e, None)),
            // Paths, literals, `continue`, `_`, verbatim tokens: nothing inside.
            _ => {}
        }
    }

    fn closure(&mut self, c: &ExprClosure) {
        let mark = self.locals.len();
        for input in &c.inputs {
            self.bind_pattern(input);
        }
        self.expr(&c.body, None);
        self.locals.truncate(mark);
    }

    fn call(&mut self, call: &ExprCall, hint: Option<&str>) {
        if !self.names_marker(&call.func) {
            // No recogniser takes a call of this name.
        } else if let Some(found) = axum::call(self, call, hint).or_else(|| actix::call(self, call)) {
            // A bare callee no import or framework glob places may be the crate's own
            // function (through a glob of the crate's): the whole tree decides.
            let unplaced = match &*call.func {
                Expr::Path(p) if found.framework == Framework::Unknown => {
                    p.path.get_ident().map(|i| i.to_string())
                }
                _ => None,
            };
            self.register(found, unplaced);
        }
        self.expr(&call.func, None);
        for arg in &call.args {
            self.expr(arg, None);
        }
    }

    fn method_call(&mut self, call: &ExprMethodCall, hint: Option<&str>) {
        let receiver = self.chain(&call.receiver);
        let method = call.method.to_string();
        // No recogniser takes a method that is not a marker.
        let found = if self.names.is_marker(&method) {
            axum::method_call(self, call, &method, receiver.as_ref(), hint)
                .or_else(|| poem::method_call(self, call, &method, receiver.as_ref(), hint))
                .or_else(|| actix::method_call(self, call, &method, receiver.as_ref(), hint))
        } else {
            None
        };
        if let Some(found) = found {
            self.register(found, None);
        }
        // A method router's chain is registered under the same path as the whole chain.
        self.expr(&call.receiver, if receiver.is_some() { hint } else { None });
        let arg_path: Option<(usize, String)> = if call.args.len() >= 2
            && (has(&self.names.route_methods, &method) || has(&self.names.mounts, &method))
        {
            // An empty path inside a scope is the scope's own path.
            let path = call.args.first().and_then(str_lit);
            path.map(|p| if p.is_empty() { scope_path(&call.receiver).unwrap_or(p) } else { p })
                .map(|p| (1, p))
        } else if call.args.len() == 1 && has(&self.names.route_methods, &method) {
            // actix `web::resource("/x").route(web::get().to(h))`.
            match &receiver {
                Some(Chain::Actix { path: Some(p), .. }) => Some((0, p.clone())),
                _ => None,
            }
        } else {
            None
        };
        for (i, arg) in call.args.iter().enumerate() {
            let path = arg_path.as_ref().filter(|(at, _)| *at == i).map(|(_, p)| p.as_str());
            self.expr(arg, path);
        }
    }

    fn mac(&mut self, mac: &syn::Macro) {
        if let Ok(args) = crate::analysis::macro_code::args(mac) {
            for arg in &args {
                self.expr(arg, None);
            }
        } else if let Ok(stmts) = mac.parse_body_with(Block::parse_within) {
            self.stmts(&stmts);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Queries for the recognisers

    /// What `expr` builds, when it is a method router or an actix route.
    pub(super) fn chain(&self, expr: &Expr) -> Option<Chain> {
        match strip(expr) {
            Expr::Path(p) if p.qself.is_none() => {
                let ident = p.path.get_ident()?;
                match self.locals.iter().rev().find(|(n, _)| ident == n).map(|(_, v)| v) {
                    Some(Local::Chain(c)) => Some(c.clone()),
                    _ => None,
                }
            }
            // Every root is a marker called, or a marker type's `new`.
            Expr::Call(c) if self.names_marker(&c.func) || self.marker_new(&c.func) => {
                axum::root(self, c).or_else(|| actix::root(self, c))
            }
            Expr::MethodCall(m) => match self.chain(&m.receiver)? {
                Chain::MethodRouter(f) => Some(Chain::MethodRouter(f)),
                actix @ Chain::Actix { .. } => Some(actix::narrow(actix, m)),
            },
            _ => None,
        }
    }

    /// Whether `func` is a path whose last segment is a route marker (a recogniser may take
    /// a call of it).
    fn names_marker(&self, func: &Expr) -> bool {
        match func {
            Expr::Path(p) => {
                p.path.segments.last().is_some_and(|s| self.names.is_marker(&s.ident.to_string()))
            }
            _ => false,
        }
    }

    /// Whether `func` is a marker type's `new` (`MethodRouter::new`, actix's `Route::new`).
    fn marker_new(&self, func: &Expr) -> bool {
        let Expr::Path(p) = func else { return false };
        let mut segments = p.path.segments.iter().rev();
        let (Some(last), Some(owner)) = (segments.next(), segments.next()) else { return false };
        last.ident == "new" && self.names.is_marker(&owner.ident.to_string())
    }

    // -----------------------------------------------------------------------------------------
    // Positions

    fn range(&self, span: Span) -> TextRange {
        span_range(self.src, span)
    }

    fn text(&self, expr: &Expr) -> String {
        let bytes = expr.span().byte_range();
        self.src.parser_text().get(bytes).unwrap_or_default().to_string()
    }

    fn closure_ranges(&self, c: &ExprClosure) -> (TextRange, TextRange) {
        (self.range(c.span()), self.range(c.body.span()))
    }
}
