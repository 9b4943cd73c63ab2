//! Flow-sensitive tracking of handles and SQL text through one function body.
//!
//! An abstract interpreter over syn's statements and expressions. Its state maps every
//! binding in scope to a [`Value`]: the handles it may hold ([`Taint`]: read-only, read-write,
//! from which parameter) and the SQL text it may hold. Statement order matters: reassignment
//! and shadowing end read-only-ness, block scopes restore outer bindings, and at every join
//! (after `if`, `match`, loops, `break`s) a binding holds what it held on *any* path into that
//! point. Closures and async blocks are part of the enclosing body.
//!
//! The interpreter records [`Sink`]s — SQL executed on a handle, a handle handed to a call —
//! and never decides whether something is a finding: that is the rules' job, once consts and
//! callees are known. It never holds a span past the function: everything it yields is owned.

use std::rc::Rc;

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    BinOp, Block, Expr, ExprCall, ExprClosure, ExprField, ExprForLoop, ExprIf, ExprLoop, ExprMatch,
    ExprMethodCall, ExprWhile, FnArg, Label, Lit, Macro, Member, Pat, Signature, Stmt, Token, Type,
};

use super::facts::{HandleUse, Sink, SinkKind, SqlText, Taint};
use super::names::{NameSet, Names};
use crate::source::{SourceText, TextRange};

/// Functions that hand their (first) argument through: `Some(x)`, `Ok(db)`, `Arc::new(pool)`,
/// `String::from(SQL)`. Language plumbing, not domain names, so not in the rule set.
const PASS_THROUGH_FNS: &[&str] =
    &["Some", "Ok", "Err", "new", "clone", "from", "Borrowed", "Owned", "Box", "identity"];
/// Owners for which `new`/`clone`/`from` pass their argument through.
const PASS_THROUGH_OWNERS: &[&str] =
    &["Arc", "Rc", "Box", "String", "Cow", "Mutex", "RwLock", "RefCell", "Cell", "convert"];
/// Constructors of an empty `String` (`String::new()`, `String::with_capacity(n)`): empty text
/// that `push_str`, `+=` and `write!` then build on.
const EMPTY_STRING_FNS: &[&str] = &["new", "with_capacity", "default"];
/// Macros that append formatted text to their first argument (`write!(sql, " AND id = {}", id)`).
const WRITE_MACROS: &[&str] = &["write", "writeln"];
/// Macros after which control does not continue.
const DIVERGING_MACROS: &[&str] = &["panic", "unreachable", "todo", "unimplemented"];

/// What an expression or binding may hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Value {
    taint: Taint,
    sql: Option<Rc<SqlText>>,
    /// An ORM write builder not yet executed (`diesel::update(…)`), as evidence.
    builder: Option<Rc<str>>,
}

impl Value {
    fn handle(taint: Taint) -> Value {
        Value { taint, sql: None, builder: None }
    }

    fn sql(text: SqlText) -> Value {
        Value { taint: Taint::NONE, sql: Some(Rc::new(text)), builder: None }
    }

    fn join(self, other: Value) -> Value {
        let sql = match (self.sql, other.sql) {
            (Some(a), Some(b)) if a == b => Some(a),
            (Some(a), Some(b)) => Some(Rc::new(SqlText::either((*a).clone(), (*b).clone()))),
            (a, b) => a.or(b),
        };
        Value { taint: self.taint.join(other.taint), sql, builder: self.builder.or(other.builder) }
    }

    fn sql_or_hole(&self) -> SqlText {
        self.sql.as_deref().cloned().unwrap_or(SqlText::Hole)
    }
}

/// A value with the tuple structure of the expression that made it, for destructuring.
enum Shaped {
    /// One value (not a tuple expression, or not destructured).
    One(Value),
    /// A tuple expression's elements.
    Tuple(Vec<Shaped>),
}

impl Shaped {
    /// Everything it holds, as one value (a tuple bound to a single name holds all of it).
    fn joined(self) -> Value {
        match self {
            Shaped::One(value) => value,
            Shaped::Tuple(values) => values.into_iter().fold(Value::default(), |acc, v| acc.join(v.joined())),
        }
    }

    /// The same, with `taint` added to every element.
    fn with_taint(self, taint: Taint) -> Shaped {
        match self {
            Shaped::One(value) => Shaped::One(Value { taint: value.taint.join(taint), ..value }),
            Shaped::Tuple(values) => Shaped::Tuple(values.into_iter().map(|v| v.with_taint(taint)).collect()),
        }
    }
}

/// Bindings in scope, innermost last.
#[derive(Debug, Clone, PartialEq)]
struct Env {
    vars: Vec<(Rc<str>, Value)>,
    marks: Vec<usize>,
    reachable: bool,
}

impl Env {
    fn new() -> Env {
        Env { vars: Vec::new(), marks: Vec::new(), reachable: true }
    }

    fn lookup(&self, name: &str) -> Option<&Value> {
        self.vars.iter().rev().find(|(n, _)| &**n == name).map(|(_, v)| v)
    }

    fn declare(&mut self, name: &str, value: Value) {
        self.vars.push((Rc::from(name), value));
    }

    /// Assigns to the innermost binding of `name`; false when there is none.
    fn assign(&mut self, name: &str, value: Value) -> bool {
        match self.vars.iter_mut().rev().find(|(n, _)| &**n == name) {
            Some((_, v)) => {
                *v = value;
                true
            }
            None => false,
        }
    }

    fn push_scope(&mut self) {
        self.marks.push(self.vars.len());
    }

    fn pop_scope(&mut self) {
        let mark = self.marks.pop().unwrap_or(0);
        self.vars.truncate(mark);
    }

    /// The state after either `self` or `other`. `other` may be deeper in scopes than `self`
    /// (the state at a `break` inside nested blocks): only the bindings of `self`'s scopes
    /// are joined, and `self`'s scopes stay as they are.
    fn join(&mut self, other: &Env) {
        if !other.reachable {
            return;
        }
        if !self.reachable {
            // Only `other` reaches here: its values, in `self`'s scopes (the bindings of the
            // blocks a `break` left are gone).
            let common = self.vars.len().min(other.vars.len());
            self.vars[..common].clone_from_slice(&other.vars[..common]);
            self.reachable = true;
            return;
        }
        for ((_, mine), (_, theirs)) in self.vars.iter_mut().zip(&other.vars) {
            if mine != theirs {
                *mine = std::mem::take(mine).join(theirs.clone());
            }
        }
    }

    fn unreachable_copy(&self) -> Env {
        Env { reachable: false, ..self.clone() }
    }
}

/// A loop or labelled block that `break` (and, for loops, `continue`) may jump out of.
struct LoopFrame {
    label: Option<String>,
    is_loop: bool,
    /// The state at every `break` to it, joined.
    exit: Option<Env>,
    /// The state at every `continue` of it, joined.
    next: Option<Env>,
    /// What its `break`s carry (`let db = loop { break get_db_ro() }`), joined.
    value: Value,
}

impl LoopFrame {
    fn new(label: Option<&Label>, is_loop: bool) -> LoopFrame {
        LoopFrame {
            label: label.map(|l| l.name.ident.to_string()),
            is_loop,
            exit: None,
            next: None,
            value: Value::default(),
        }
    }
}

/// The analysis of one function body.
pub(crate) struct FnAnalysis<'a> {
    names: &'a Names,
    src: &'a SourceText,
    env: Env,
    sinks: Vec<Sink>,
    returns: Taint,
    closure_depth: usize,
    loops: Vec<LoopFrame>,
    local_consts: Vec<(String, SqlText)>,
    ro_sites: Vec<TextRange>,
    /// What `Self` is, when the `impl` is of a handle type (`impl DbRo { fn f(&self) }`).
    self_taint: (bool, bool),
    /// Renaming imports of the file: alias -> the path it stands for.
    aliases: &'a [(String, Vec<String>)],
}

/// What one function body yields.
pub(crate) struct BodyFacts {
    pub params: Vec<String>,
    pub returns: Taint,
    pub sinks: Vec<Sink>,
    pub ro_bindings: usize,
}

impl<'a> FnAnalysis<'a> {
    pub(crate) fn new(names: &'a Names, src: &'a SourceText) -> FnAnalysis<'a> {
        FnAnalysis {
            names,
            src,
            env: Env::new(),
            sinks: Vec::new(),
            returns: Taint::NONE,
            closure_depth: 0,
            loops: Vec::new(),
            local_consts: Vec::new(),
            ro_sites: Vec::new(),
            self_taint: (false, false),
            aliases: &[],
        }
    }

    /// The renaming imports (`use a::B as C;`) in force: alias -> path.
    pub(crate) fn with_aliases(mut self, aliases: &'a [(String, Vec<String>)]) -> FnAnalysis<'a> {
        self.aliases = aliases;
        self
    }

    /// The function belongs to `impl OWNER` (or trait `OWNER`): where `OWNER` is a read-only
    /// (read-write) handle type, `self` and `Self` are too.
    pub(crate) fn with_owner(mut self, owner: Option<&str>) -> FnAnalysis<'a> {
        if let Some(owner) = owner {
            self.self_taint =
                (self.names.ro_types.matches_name(owner), self.names.rw_types.matches_name(owner));
        }
        self
    }

    /// Analyses a function: parameters, then the body.
    pub(crate) fn function(mut self, sig: &Signature, body: &Block) -> BodyFacts {
        let mut params = Vec::new();
        for (index, input) in sig.inputs.iter().enumerate() {
            match input {
                FnArg::Receiver(receiver) => {
                    params.push("self".to_string());
                    let mut taint = Taint::param(index);
                    taint = taint.join(self.type_taint(&receiver.ty, self.range(receiver.self_token.span)));
                    self.env.declare("self", Value::handle(taint));
                }
                FnArg::Typed(typed) => {
                    params.push(pat_name(&typed.pat));
                    let at = self.range(typed.pat.span());
                    let taint = Taint::param(index).join(self.type_taint(&typed.ty, at));
                    self.bind_pat(&typed.pat, &Value::handle(taint));
                }
            }
        }
        if let syn::ReturnType::Type(_, ty) = &sig.output {
            // A declared `-> Self` of `impl DbRo` is not a read-only handle by itself: a
            // constructor or `from_request` would otherwise become an accessor by its name,
            // matching the read-write type's function of that name too.
            let at = self.range(sig.ident.span());
            let self_taint = std::mem::take(&mut self.self_taint);
            self.returns = self.type_taint(ty, at);
            self.self_taint = self_taint;
        }
        let tail = self.block(body);
        self.returns = self.returns.join(tail.taint);
        let mut sinks = self.sinks;
        merge_duplicate_sinks(&mut sinks);
        self.ro_sites.sort();
        self.ro_sites.dedup();
        BodyFacts { params, returns: self.returns, sinks, ro_bindings: self.ro_sites.len() }
    }

    /// The SQL text a const initializer builds, if any.
    pub(crate) fn const_text(mut self, expr: &Expr) -> Option<SqlText> {
        self.expr(expr).sql.map(|t| (*t).clone())
    }

    // -----------------------------------------------------------------------------------------
    // Positions and labels

    fn range(&self, span: Span) -> TextRange {
        super::span_range(self.src, span)
    }

    /// How the source names a handle: the expression without `&`, `*`, `?`, `.await`,
    /// parentheses and pass-through methods, as written (whitespace folded).
    fn label(&self, expr: &Expr) -> String {
        let core = self.strip(expr);
        let range = self.range(core.span());
        let text = self.src.text.get(range.bytes()).unwrap_or("");
        let mut label: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if label.chars().count() > 60 {
            label = label.chars().take(57).collect::<String>() + "...";
        }
        label
    }

    fn strip<'e>(&self, mut expr: &'e Expr) -> &'e Expr {
        loop {
            expr = match expr {
                Expr::Reference(r) => &r.expr,
                Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => &u.expr,
                Expr::Paren(p) => &p.expr,
                Expr::Group(g) => &g.expr,
                Expr::Try(t) => &t.expr,
                Expr::Await(a) => &a.base,
                Expr::MethodCall(m) if self.names.transparent_methods.matches_name(&m.method.to_string()) => {
                    &m.receiver
                }
                other => return other,
            };
        }
    }

    fn type_taint(&self, ty: &Type, at: TextRange) -> Taint {
        let mut taint = Taint::NONE;
        let is_self = (self.self_taint.0 || self.self_taint.1) && type_mentions_self(ty);
        if type_mentions(ty, &self.names.ro_types) || (is_self && self.self_taint.0) {
            taint.ro = Some(at);
        }
        if type_mentions(ty, &self.names.rw_types) || (is_self && self.self_taint.1) {
            taint.rw = Some(at);
        }
        taint
    }

    fn push_sink(&mut self, range: TextRange, handle_expr: &Expr, taint: Taint, kind: SinkKind) {
        let label = self.label(handle_expr);
        self.sinks.push(Sink { range, handle: HandleUse { label, taint }, kind });
    }

    // -----------------------------------------------------------------------------------------
    // Bindings

    fn bind_pat(&mut self, pat: &Pat, value: &Value) {
        match pat {
            Pat::Ident(p) => {
                let at = self.range(p.ident.span());
                let taint = value.taint.rebound(at);
                if taint.ro.is_some() {
                    self.ro_sites.push(at);
                }
                self.env.declare(&p.ident.to_string(), Value { taint, ..value.clone() });
                if let Some((_, sub)) = &p.subpat {
                    self.bind_pat(sub, value);
                }
            }
            Pat::Reference(p) => self.bind_pat(&p.pat, value),
            Pat::Paren(p) => self.bind_pat(&p.pat, value),
            Pat::Tuple(p) => p.elems.iter().for_each(|e| self.bind_pat(e, value)),
            Pat::TupleStruct(p) => p.elems.iter().for_each(|e| self.bind_pat(e, value)),
            Pat::Slice(p) => p.elems.iter().for_each(|e| self.bind_pat(e, value)),
            Pat::Struct(p) => {
                for field in &p.fields {
                    // `AppState { database, .. }`: a field named as an accessor is one.
                    let mut field_value = value.clone();
                    if let Member::Named(name) = &field.member {
                        let at = self.range(name.span());
                        if self.names.ro_accessors.matches_name(&name.to_string()) {
                            field_value.taint = field_value.taint.join(Taint::read_only(at));
                        } else if self.names.rw_accessors.matches_name(&name.to_string()) {
                            field_value.taint = field_value.taint.join(Taint::read_write(at));
                        }
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
                let at = self.range(p.pat.span());
                let value = Value { taint: value.taint.join(self.type_taint(&p.ty, at)), ..value.clone() };
                self.bind_pat(&p.pat, &value);
            }
            _ => {}
        }
    }

    /// `let PAT = EXPR`: element-wise for `let (a, b) = (x, y)`, at every level of nesting
    /// (`let (id, (ro, rw)) = (1, (get_db_ro(), get_db()))`). Every element is evaluated
    /// before anything is bound, as Rust does.
    fn bind_from(&mut self, pat: &Pat, expr: &Expr) {
        let value = self.shaped_for_pat(pat, expr);
        self.bind_shaped(pat, value);
    }

    /// Evaluates `expr`, keeping its tuple structure where `pat` destructures it.
    fn shaped_for_pat(&mut self, pat: &Pat, expr: &Expr) -> Shaped {
        if let (Some((pats, _)), Expr::Tuple(exprs)) = (tuple_pat(pat), unparen(expr)) {
            if pats.elems.len() == exprs.elems.len() {
                return Shaped::Tuple(
                    pats.elems.iter().zip(&exprs.elems).map(|(p, e)| self.shaped_for_pat(p, e)).collect(),
                );
            }
        }
        Shaped::One(self.expr(expr))
    }

    fn bind_shaped(&mut self, pat: &Pat, value: Shaped) {
        match (tuple_pat(pat), value) {
            (Some((pats, ty)), Shaped::Tuple(values)) => {
                // `let (a, b): (A, B) = …`: each element is also what its own type says.
                let types: Vec<Option<&Type>> = match ty {
                    Some(Type::Tuple(t)) if t.elems.len() == pats.elems.len() => {
                        t.elems.iter().map(Some).collect()
                    }
                    _ => vec![ty; pats.elems.len()],
                };
                for ((p, v), ty) in pats.elems.iter().zip(values).zip(types) {
                    let v = match ty {
                        Some(ty) => v.with_taint(self.type_taint(ty, self.range(p.span()))),
                        None => v,
                    };
                    self.bind_shaped(p, v);
                }
            }
            (_, value) => self.bind_pat(pat, &value.joined()),
        }
    }

    /// `PLACE = EXPR`: element-wise for `(a, b) = (b, a)`, at every level of nesting.
    fn assign(&mut self, left: &Expr, right: &Expr) {
        let value = self.shaped_for_place(left, right);
        self.assign_shaped(left, value);
    }

    /// Evaluates `right`, keeping its tuple structure where `left` destructures it.
    fn shaped_for_place(&mut self, left: &Expr, right: &Expr) -> Shaped {
        if let (Expr::Tuple(lefts), Expr::Tuple(rights)) = (unparen(left), unparen(right)) {
            if lefts.elems.len() == rights.elems.len() {
                return Shaped::Tuple(
                    lefts.elems.iter().zip(&rights.elems).map(|(l, r)| self.shaped_for_place(l, r)).collect(),
                );
            }
        }
        Shaped::One(self.expr(right))
    }

    fn assign_shaped(&mut self, left: &Expr, value: Shaped) {
        match (unparen(left), value) {
            (Expr::Tuple(lefts), Shaped::Tuple(values)) => {
                for (l, v) in lefts.elems.iter().zip(values) {
                    self.assign_shaped(l, v);
                }
            }
            (_, value) => self.assign_value(left, value.joined()),
        }
    }

    fn assign_value(&mut self, left: &Expr, value: Value) {
        match left {
            Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
                let ident = &p.path.segments[0].ident;
                let at = self.range(ident.span());
                let taint = value.taint.rebound(at);
                if taint.ro.is_some() {
                    self.ro_sites.push(at);
                }
                self.env.assign(&ident.to_string(), Value { taint, ..value });
            }
            Expr::Tuple(t) => {
                for l in &t.elems {
                    self.assign_value(l, value.clone());
                }
            }
            Expr::Paren(p) => self.assign_value(&p.expr, value),
            other => {
                self.expr(other);
            }
        }
    }

    /// The binding an expression names directly (`sql`, `&sql`, `sql.as_str()`), if any.
    fn binding_name(&self, expr: &Expr) -> Option<String> {
        match self.strip(expr) {
            Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
                Some(p.path.segments[0].ident.to_string())
            }
            _ => None,
        }
    }

    /// `sql += "…"`, `sql.push_str("…")`: the binding's text grows.
    fn append_sql(&mut self, target: &Expr, part: &Value) {
        let Some(name) = self.binding_name(target) else { return };
        if let Some(current) = self.env.lookup(&name).cloned() {
            if current.sql.is_some() {
                let text = SqlText::Concat(vec![current.sql_or_hole(), part.sql_or_hole()]);
                self.env.assign(&name, Value { sql: Some(Rc::new(text)), ..current });
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Statements and blocks

    fn block(&mut self, block: &Block) -> Value {
        self.env.push_scope();
        let value = self.stmts(&block.stmts);
        self.env.pop_scope();
        value
    }

    fn stmts(&mut self, stmts: &[Stmt]) -> Value {
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

    fn local_item(&mut self, item: &syn::Item) {
        let (ident, expr) = match item {
            syn::Item::Const(c) => (&c.ident, &*c.expr),
            syn::Item::Static(s) => (&s.ident, &*s.expr),
            _ => return, // nested fns are functions of their own
        };
        if let Some(text) = self.expr(expr).sql {
            self.local_consts.push((ident.to_string(), (*text).clone()));
        }
    }

    // -----------------------------------------------------------------------------------------
    // Expressions

    fn expr(&mut self, expr: &Expr) -> Value {
        match expr {
            Expr::Array(a) => self.join_all(a.elems.iter()),
            Expr::Tuple(t) => self.join_all(t.elems.iter()),
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
            Expr::Closure(c) => self.closure(c, Taint::NONE),
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
                Lit::Str(s) => Value::sql(SqlText::Lit(s.value())),
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
                    self.returns = self.returns.join(value.taint);
                }
                self.env.reachable = false;
                Value::default()
            }
            Expr::Struct(s) => {
                let mut taint = Taint::NONE;
                for field in &s.fields {
                    taint = taint.join(self.expr(&field.expr).taint);
                }
                if let Some(rest) = &s.rest {
                    taint = taint.join(self.expr(rest).taint);
                }
                Value::handle(taint)
            }
            Expr::Try(t) => self.expr(&t.expr),
            Expr::TryBlock(t) => self.block(&t.block),
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

    fn join_all<'e>(&mut self, exprs: impl Iterator<Item = &'e Expr>) -> Value {
        let mut taint = Taint::NONE;
        for e in exprs {
            taint = taint.join(self.expr(e).taint);
        }
        Value::handle(taint)
    }

    /// A closure or async body: its `return`s and divergence are its own.
    fn nested_body(&mut self, body: impl FnOnce(&mut Self) -> Value) -> Value {
        let reachable = self.env.reachable;
        let loops = std::mem::take(&mut self.loops);
        self.closure_depth += 1;
        let value = body(self);
        self.closure_depth -= 1;
        self.loops = loops;
        self.env.reachable = reachable;
        value
    }

    fn closure(&mut self, closure: &ExprClosure, params: Taint) -> Value {
        self.env.push_scope();
        for input in &closure.inputs {
            self.bind_pat(input, &Value::handle(params));
        }
        self.nested_body(|this| this.expr(&closure.body));
        self.env.pop_scope();
        Value::default()
    }

    fn path(&mut self, p: &syn::ExprPath) -> Value {
        let segments = &p.path.segments;
        if p.qself.is_none() && segments.len() == 1 {
            let name = segments[0].ident.to_string();
            if let Some(value) = self.env.lookup(&name) {
                return value.clone();
            }
            if let Some((_, text)) = self.local_consts.iter().rev().find(|(n, _)| *n == name) {
                return Value::sql(text.clone());
            }
        }
        let mut path: Vec<String> = segments.iter().map(|s| s.ident.to_string()).collect();
        if p.qself.is_none() {
            // `use crate::queries::ARCHIVE as ARCHIVE_SQL;`, `use crate::queries as q;`
            if let Some((_, full)) =
                path.first().and_then(|first| self.aliases.iter().find(|(a, _)| a == first))
            {
                path.splice(0..1, full.iter().cloned());
            }
        }
        if path.last().is_some_and(|last| is_const_like(last)) {
            return Value::sql(SqlText::Const(path));
        }
        Value::default()
    }

    fn field(&mut self, f: &ExprField) -> Value {
        let base = self.expr(&f.base);
        if let Member::Named(name) = &f.member {
            let name = name.to_string();
            if self.names.ro_accessors.matches_name(&name) {
                return Value::handle(Taint::read_only(self.range(f.span())).with_params_of(base.taint));
            }
            if self.names.rw_accessors.matches_name(&name) {
                return Value::handle(Taint::read_write(self.range(f.span())).with_params_of(base.taint));
            }
        }
        Value::handle(base.taint)
    }

    fn call(&mut self, call: &ExprCall) -> Value {
        let path: Option<Vec<String>> = match &*call.func {
            Expr::Path(p) => Some(p.path.segments.iter().map(|s| s.ident.to_string()).collect()),
            other => {
                self.expr(other);
                None
            }
        };
        let args: Vec<Value> = call.args.iter().map(|a| self.expr(a)).collect();
        let Some(path) = path else { return Value::default() };
        if self.names.ro_accessors.matches_path(&path) {
            return Value::handle(Taint::read_only(self.range(call.span())));
        }
        if self.names.rw_accessors.matches_path(&path) {
            return Value::handle(Taint::read_write(self.range(call.span())));
        }
        if self.names.sql_builders.matches_path(&path) {
            if let Some(sql) = args.iter().find_map(|a| a.sql.clone()) {
                return Value { sql: Some(sql), ..Value::default() };
            }
        }
        if is_empty_string(&path) {
            return Value::sql(SqlText::Lit(String::new()));
        }
        if is_pass_through(&path) {
            return args.into_iter().next().unwrap_or_default();
        }
        for (index, (arg, value)) in call.args.iter().zip(&args).enumerate() {
            if value.taint.is_handle() {
                let range = self.range(call.span());
                let kind = SinkKind::Call {
                    callee: path.clone(),
                    method: false,
                    arg: index,
                    args: call.args.len(),
                    builder: None,
                };
                self.push_sink(range, arg, value.taint, kind);
            }
        }
        if self.names.derive_methods.matches_path(&path) {
            // `get_conn(pool)`, `Pool::get(&pool)`: a connection from the handle it is given.
            if let Some(first) = args.first().filter(|a| a.taint.is_handle()) {
                return Value::handle(first.taint);
            }
        }
        if self.names.write_builders.matches_path(&path) {
            // `diesel::update(posts.find(id))`, `Post::delete_many()`: writes once executed.
            return Value {
                builder: Some(Rc::from(format!("{}(…)", path.join("::")))), ..Value::default()
            };
        }
        Value::default()
    }

    fn method_call(&mut self, call: &ExprMethodCall) -> Value {
        let name = call.method.to_string();
        let receiver = self.expr(&call.receiver);
        let mut args = Vec::with_capacity(call.args.len());
        for arg in &call.args {
            let value = match arg {
                // `conn.transaction(|conn| …)`: the closure's parameters are the receiver's handle.
                Expr::Closure(c) if receiver.taint.is_handle() => self.closure(c, receiver.taint),
                other => self.expr(other),
            };
            args.push(value);
        }
        let names = self.names;
        // `self.pool()`: an accessor of a parameter also writes through that parameter.
        if names.ro_accessors.matches_name(&name) {
            return Value::handle(Taint::read_only(self.range(call.span())).with_params_of(receiver.taint));
        }
        if names.rw_accessors.matches_name(&name) {
            return Value::handle(Taint::read_write(self.range(call.span())).with_params_of(receiver.taint));
        }
        if names.transparent_methods.matches_name(&name) {
            return receiver;
        }
        if names.derive_methods.matches_name(&name) && receiver.taint.is_handle() {
            return Value::handle(receiver.taint);
        }
        if name == "push_str" || name == "push" {
            if let Some(part) = args.first() {
                self.append_sql(&call.receiver, part);
            }
            return Value::default();
        }

        let arg_sql = args.iter().find_map(|a| a.sql.clone());
        // A handle from an accessor or type is a better executor candidate than a parameter
        // (`.bind(id)` passes a parameter too).
        let handle_arg = args
            .iter()
            .position(|a| a.taint.ro.is_some() || a.taint.rw.is_some())
            .or_else(|| args.iter().position(|a| a.taint.is_handle()));
        if let (Some(builder), Some(index)) = (&receiver.builder, handle_arg) {
            if names.orm_executors.matches_name(&name) {
                // `diesel::insert_into(t).values(..).execute(conn)`: the builder runs on `conn`.
                let kind = SinkKind::Call {
                    callee: vec![name.clone()],
                    method: true,
                    arg: index + 1,
                    args: args.len(),
                    builder: Some(builder.to_string()),
                };
                self.push_sink(self.range(call.span()), &call.args[index], args[index].taint, kind);
                return Value::default();
            }
        }
        let mut executed = false;
        if receiver.taint.is_handle() {
            if let Some(sql) = &arg_sql {
                // `db.execute(SQL, …)`
                let known_method = names.sql_methods.matches_name(&name);
                let kind = SinkKind::Sql { text: (**sql).clone(), method: name.clone(), known_method };
                self.push_sink(self.range(call.span()), &call.receiver, receiver.taint, kind);
                executed = true;
            }
        }
        if let (Some(sql), Some(index)) = (&receiver.sql, handle_arg) {
            // `sqlx::query(SQL).bind(x).execute(&mut *db)`: a builder executed on a handle.
            let kind = SinkKind::Sql { text: (**sql).clone(), method: name.clone(), known_method: true };
            self.push_sink(self.range(call.span()), &call.args[index], args[index].taint, kind);
            if names.sql_methods.matches_name(&name) {
                return Value::default();
            }
            // Not an executor we know (`.bind(id)` with a parameter): the builder goes on.
            return Value { sql: receiver.sql, ..Value::default() };
        }
        for (index, (arg, value)) in call.args.iter().zip(&args).enumerate() {
            if value.taint.is_handle() {
                let kind = SinkKind::Call {
                    callee: vec![name.clone()],
                    method: true,
                    arg: index + 1,
                    args: args.len(),
                    builder: None,
                };
                self.push_sink(self.range(call.span()), arg, value.taint, kind);
            }
        }
        if receiver.taint.is_handle() && !executed {
            let kind = SinkKind::Call {
                callee: vec![name.clone()],
                method: true,
                arg: 0,
                args: args.len(),
                builder: None,
            };
            self.push_sink(self.range(call.span()), &call.receiver, receiver.taint, kind);
        }
        if receiver.taint.is_handle() && name.starts_with("prepare") {
            // A prepared statement carries its SQL to where it is executed.
            return Value { sql: arg_sql, ..Value::default() };
        }
        if (receiver.sql.is_some() || receiver.builder.is_some()) && !receiver.taint.is_handle() {
            // Builder methods (`.bind(x)`, `.set(..)`, `.filter(..)`) keep the builder.
            return Value { sql: receiver.sql, builder: receiver.builder, ..Value::default() };
        }
        if call.args.is_empty() && receiver.taint.params != 0 {
            // `self.pool()`, `ctx.conn()`: a getter of a parameter may hand out the connection
            // it holds, so what runs on the result runs through that parameter. Only the
            // parameter origin carries over: a getter is no accessor.
            return Value::handle(Taint { params: receiver.taint.params, ..Taint::NONE });
        }
        Value::default()
    }

    // -----------------------------------------------------------------------------------------
    // Control flow

    fn if_expr(&mut self, e: &ExprIf) -> Value {
        let before = self.env.clone();
        self.env.push_scope();
        self.expr(&e.cond);
        let then_value = self.block(&e.then_branch);
        self.env.pop_scope();
        let then_env = std::mem::replace(&mut self.env, before);
        let else_value = match &e.else_branch {
            Some((_, else_expr)) => self.expr(else_expr),
            None => Value::default(),
        };
        self.env.join(&then_env);
        then_value.join(else_value)
    }

    fn match_expr(&mut self, m: &ExprMatch) -> Value {
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

    fn labeled(
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
    fn jump(&mut self, label: Option<String>, broken_with: Option<Value>) {
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
    fn run_loop(
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

    fn loop_expr(&mut self, l: &ExprLoop) -> Value {
        self.run_loop(l.label.as_ref(), false, |this| {
            this.block(&l.body);
        })
    }

    fn while_loop(&mut self, w: &ExprWhile) -> Value {
        self.run_loop(w.label.as_ref(), true, |this| {
            this.env.push_scope();
            this.expr(&w.cond);
            this.block(&w.body);
            this.env.pop_scope();
        });
        Value::default()
    }

    fn for_loop(&mut self, f: &ExprForLoop) -> Value {
        let items = self.expr(&f.expr);
        self.run_loop(f.label.as_ref(), true, |this| {
            this.env.push_scope();
            this.bind_pat(&f.pat, &Value::handle(items.taint));
            this.block(&f.body);
            this.env.pop_scope();
        });
        Value::default()
    }

    // -----------------------------------------------------------------------------------------
    // Macros

    fn mac(&mut self, mac: &Macro) -> Value {
        let path: Vec<String> = mac.path.segments.iter().map(|s| s.ident.to_string()).collect();
        let name = path.last().cloned().unwrap_or_default();
        if self.names.string_macros.matches_path(&path) {
            return self.string_macro(&name, mac);
        }
        if WRITE_MACROS.contains(&name.as_str()) {
            return self.write_macro(mac);
        }
        if name == "include_str" {
            if let Ok(lit) = mac.parse_body::<syn::LitStr>() {
                return Value::sql(SqlText::File(lit.value()));
            }
        }
        let args = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated);
        if self.names.sql_file_macros.matches_path(&path) {
            // `sqlx::query_file!("queries/x.sql", args…)`, `query_file_as!(Row, "q.sql")`.
            let mut file = None;
            for arg in args.iter().flatten() {
                match arg {
                    Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) if file.is_none() => {
                        file = Some(s.value())
                    }
                    other => {
                        self.expr(other);
                    }
                }
            }
            return Value { sql: file.map(|f| Rc::new(SqlText::CrateFile(f))), ..Value::default() };
        }
        if DIVERGING_MACROS.contains(&name.as_str()) {
            if let Ok(args) = &args {
                args.iter().for_each(|a| {
                    self.expr(a);
                });
            }
            self.env.reachable = false;
            return Value::default();
        }
        match args {
            Ok(args) => {
                let values: Vec<Value> = args.iter().map(|a| self.expr(a)).collect();
                if self.names.sql_macros.matches_path(&path) {
                    // `sqlx::query!(SQL, args…)`: a builder carrying SQL.
                    let sql = values.iter().find_map(|v| v.sql.clone());
                    return Value { sql, ..Value::default() };
                }
                Value::default()
            }
            // A macro holding statements (`db_run! { … }`), analysed as a block.
            Err(_) => match mac.parse_body_with(Block::parse_within) {
                Ok(stmts) => {
                    self.env.push_scope();
                    let value = self.stmts(&stmts);
                    self.env.pop_scope();
                    value
                }
                Err(_) => self.macro_segments(mac.tokens.clone()),
            },
        }
    }

    /// Best effort for macro bodies that are neither expressions nor statements
    /// (`tokio::select! { r = fut => { … } }`, `db_run! { conn => { … } }`, `db_run! { conn:
    /// postgresql { … } }`): the tokens are split at top-level `,`, `;` and `=>`; a part that
    /// parses as an expression is analysed as one, else each `{ … }` group in it as a block,
    /// and a group that is neither (`json!({ "k": f(db) })`) part by part (also split at a
    /// key's `:`).
    fn macro_segments(&mut self, tokens: proc_macro2::TokenStream) -> Value {
        use proc_macro2::{Delimiter, Spacing, TokenTree};
        let mut segments: Vec<Vec<TokenTree>> = vec![Vec::new()];
        let mut trees = tokens.into_iter().peekable();
        let mut after_joint_colon = false;
        while let Some(tree) = trees.next() {
            if let TokenTree::Punct(p) = &tree {
                let arrow = p.as_char() == '='
                    && p.spacing() == Spacing::Joint
                    && matches!(trees.peek(), Some(TokenTree::Punct(next)) if next.as_char() == '>');
                if arrow {
                    trees.next();
                }
                // A lone `:` (not a `::` path separator) between a key and a value:
                // `json!({ "n": write_audit(db) })`.
                let key_colon = p.as_char() == ':' && p.spacing() == Spacing::Alone && !after_joint_colon;
                after_joint_colon = p.as_char() == ':' && p.spacing() == Spacing::Joint;
                if arrow || key_colon || matches!(p.as_char(), ',' | ';') {
                    segments.push(Vec::new());
                    continue;
                }
            } else {
                after_joint_colon = false;
            }
            if let Some(last) = segments.last_mut() {
                last.push(tree);
            }
        }
        let mut value = Value::default();
        for segment in segments.into_iter().filter(|s| !s.is_empty()) {
            let stream: proc_macro2::TokenStream = segment.iter().cloned().collect();
            if let Ok(expr) = syn::parse2::<Expr>(stream) {
                value = value.join(self.expr(&expr));
                continue;
            }
            for tree in &segment {
                if let TokenTree::Group(g) = tree {
                    if g.delimiter() == Delimiter::Brace {
                        if let Ok(stmts) = syn::parse::Parser::parse2(Block::parse_within, g.stream()) {
                            self.env.push_scope();
                            value = value.join(self.stmts(&stmts));
                            self.env.pop_scope();
                            continue;
                        }
                    }
                    // Neither an expression nor statements (`{ "key": value, … }`): its
                    // parts, the same way.
                    value = value.join(self.macro_segments(g.stream()));
                }
            }
        }
        value
    }

    /// `format!`, `concat!`, `concatcp!`, `formatcp!`: literal parts are SQL text; holes are
    /// filled with what their argument holds, if it is SQL text, else unknown.
    fn string_macro(&mut self, name: &str, mac: &Macro) -> Value {
        let Ok(args) = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) else {
            return Value::sql(SqlText::Hole);
        };
        let args: Vec<&Expr> = args.iter().collect();
        self.string_macro_args(name, &args)
    }

    /// `write!(sql, "…", args…)`, `writeln!(…)`: the formatted text is appended to `sql` when it
    /// holds SQL text.
    fn write_macro(&mut self, mac: &Macro) -> Value {
        let Ok(args) = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) else {
            return Value::default();
        };
        let args: Vec<&Expr> = args.iter().collect();
        if let Some((target, format)) = args.split_first() {
            self.expr(target);
            let text = self.string_macro_args("format", format);
            self.append_sql(target, &text);
        }
        Value::default()
    }

    /// The text built by a string macro from its arguments (`format!`'s: the format string
    /// first).
    fn string_macro_args(&mut self, name: &str, args: &[&Expr]) -> Value {
        let mut positional = Vec::new();
        let mut named: Vec<(String, Value)> = Vec::new();
        for (i, arg) in args.iter().enumerate() {
            if let (true, Expr::Assign(a)) = (i > 0, arg) {
                if let Expr::Path(p) = &*a.left {
                    let value = self.expr(&a.right);
                    named.push((path_text(&p.path), value));
                    continue;
                }
            }
            positional.push(self.expr(arg));
        }
        let is_concat = name.starts_with("concat");
        if is_concat {
            let parts = args
                .iter()
                .zip(&positional)
                .map(|(arg, v)| match arg {
                    Expr::Lit(l) if !matches!(l.lit, Lit::Str(_)) => SqlText::Lit(lit_text(&l.lit)),
                    _ => v.sql_or_hole(),
                })
                .collect();
            return Value::sql(SqlText::Concat(parts));
        }
        let Some(Expr::Lit(syn::ExprLit { lit: Lit::Str(format), .. })) = args.first() else {
            return Value::sql(SqlText::Hole);
        };
        let mut parts = Vec::new();
        let mut next_positional = 1;
        for piece in format_pieces(&format.value()) {
            match piece {
                FormatPiece::Text(text) => parts.push(SqlText::Lit(text)),
                FormatPiece::Hole(spec) => {
                    let value = if spec.is_empty() {
                        next_positional += 1;
                        positional.get(next_positional - 1).cloned()
                    } else if let Ok(index) = spec.parse::<usize>() {
                        positional.get(index + 1).cloned()
                    } else {
                        named
                            .iter()
                            .find(|(n, _)| *n == spec)
                            .map(|(_, v)| v.clone())
                            .or_else(|| self.env.lookup(&spec).cloned())
                    };
                    parts.push(value.map_or(SqlText::Hole, |v| v.sql_or_hole()));
                }
            }
        }
        Value::sql(SqlText::Concat(parts))
    }
}

enum FormatPiece {
    Text(String),
    /// The argument part of `{…}` (before any `:`), trimmed.
    Hole(String),
}

fn format_pieces(format: &str) -> Vec<FormatPiece> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut spec = String::new();
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                    spec.push(c);
                }
                if !text.is_empty() {
                    pieces.push(FormatPiece::Text(std::mem::take(&mut text)));
                }
                let arg = spec.split(':').next().unwrap_or("").trim().to_string();
                pieces.push(FormatPiece::Hole(arg));
            }
            other => text.push(other),
        }
    }
    if !text.is_empty() {
        pieces.push(FormatPiece::Text(text));
    }
    pieces
}

fn lit_text(lit: &Lit) -> String {
    match lit {
        Lit::Int(i) => i.base10_digits().to_string(),
        Lit::Float(f) => f.base10_digits().to_string(),
        Lit::Bool(b) => b.value.to_string(),
        Lit::Char(c) => c.value().to_string(),
        _ => String::new(),
    }
}

fn path_text(path: &syn::Path) -> String {
    path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::")
}

/// `SQL`, `UPDATE_USER`: a name that reads like a const or static.
fn is_const_like(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase()) && !name.chars().any(|c| c.is_lowercase())
}

fn is_empty_string(path: &[String]) -> bool {
    matches!(path, [.., owner, name] if owner == "String" && EMPTY_STRING_FNS.contains(&name.as_str()))
}

fn is_pass_through(path: &[String]) -> bool {
    match path {
        [single] => PASS_THROUGH_FNS.contains(&single.as_str()) && single != "new" && single != "clone",
        [.., owner, name] => {
            PASS_THROUGH_OWNERS.contains(&owner.as_str()) && PASS_THROUGH_FNS.contains(&name.as_str())
        }
        [] => false,
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

/// A parameter's name for reports (`db`, or the pattern as written).
fn pat_name(pat: &Pat) -> String {
    match pat {
        Pat::Ident(p) => p.ident.to_string(),
        Pat::Type(p) => pat_name(&p.pat),
        Pat::Reference(p) => pat_name(&p.pat),
        Pat::TupleStruct(p) => p.elems.first().map(pat_name).unwrap_or_else(|| "_".to_string()),
        Pat::Tuple(p) => p.elems.first().map(pat_name).unwrap_or_else(|| "_".to_string()),
        _ => "_".to_string(),
    }
}

/// Whether a type names one of `names`, also inside references and generic arguments
/// (`&mut DbRo`, `web::Data<ReadOnlyPgPool>`, `State<Arc<DbRo>>`).
pub(crate) fn type_mentions(ty: &Type, names: &NameSet) -> bool {
    if names.is_empty() {
        return false;
    }
    match ty {
        Type::Path(p) => {
            let segments: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
            if names.matches_path(&segments) {
                return true;
            }
            p.path.segments.iter().any(|s| match &s.arguments {
                syn::PathArguments::AngleBracketed(args) => args.args.iter().any(|a| match a {
                    syn::GenericArgument::Type(t) => type_mentions(t, names),
                    _ => false,
                }),
                _ => false,
            })
        }
        Type::Reference(r) => type_mentions(&r.elem, names),
        Type::Paren(p) => type_mentions(&p.elem, names),
        Type::Group(g) => type_mentions(&g.elem, names),
        Type::Ptr(p) => type_mentions(&p.elem, names),
        // `&dyn DynDatabase`, `impl ReadOnlyPool`, `Box<dyn Db + Send>`: the trait's name.
        Type::TraitObject(t) => bounds_mention(&t.bounds, names),
        Type::ImplTrait(t) => bounds_mention(&t.bounds, names),
        Type::Tuple(t) => t.elems.iter().any(|e| type_mentions(e, names)),
        Type::Slice(s) => type_mentions(&s.elem, names),
        Type::Array(a) => type_mentions(&a.elem, names),
        _ => false,
    }
}

fn bounds_mention(bounds: &Punctuated<syn::TypeParamBound, Token![+]>, names: &NameSet) -> bool {
    bounds.iter().any(|bound| match bound {
        syn::TypeParamBound::Trait(t) => {
            let segments: Vec<String> = t.path.segments.iter().map(|s| s.ident.to_string()).collect();
            names.matches_path(&segments)
        }
        _ => false,
    })
}

/// Whether a type names `Self` (`&Self`, `Arc<Self>`).
fn type_mentions_self(ty: &Type) -> bool {
    thread_local! {
        static SELF: NameSet = NameSet::new(&["Self".to_string()]);
    }
    SELF.with(|set| type_mentions(ty, set))
}

/// After loops ran twice, the same sink may be recorded twice: keep one, with every origin.
fn merge_duplicate_sinks(sinks: &mut Vec<Sink>) {
    sinks.sort_by_key(|s| s.range);
    let mut merged: Vec<Sink> = Vec::with_capacity(sinks.len());
    for sink in sinks.drain(..) {
        if let Some(prev) = merged
            .iter_mut()
            .rev()
            .take_while(|p| p.range == sink.range)
            .find(|p| p.kind == sink.kind && p.handle.label == sink.handle.label)
        {
            prev.handle.taint = prev.handle.taint.join(sink.handle.taint);
            continue;
        }
        merged.push(sink);
    }
    *sinks = merged;
}
