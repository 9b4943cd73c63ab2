//! Flow-sensitive tracking of handles and SQL text through one function body.
//!
//! An abstract interpreter over syn's statements and expressions. Its state maps every
//! binding in scope to a [`Value`](state::Value): the handles it may hold ([`Taint`]:
//! read-only, read-write, from which parameter) and the SQL text it may hold. Statement order
//! matters: reassignment and shadowing end read-only-ness, block scopes restore outer bindings,
//! and at every join (after `if`, `match`, loops, `break`s) a binding holds what it held on
//! *any* path into that point. Closures and async blocks are part of the enclosing body.
//! The SQL text a binding holds is bounded ([`SqlText::bounded`]): texts joined or grown in
//! loops are widened past the bound, so a loop reaches its fixed point instead of unrolling.
//!
//! The interpreter records [`Sink`]s — SQL executed on a handle, a handle handed to a call —
//! and never decides whether something is a finding: that is the rules' job, once consts and
//! callees are known. It never holds a span past the function: everything it yields is owned.
//!
//! This module holds the entry points (a function's parameters and body, a const's text) and
//! the positions and labels of what it records. The interpreter's parts:
//! [`state`] (values and scopes), [`patterns`] (bindings and assignments), [`control`]
//! (statements, blocks, branches, loops, closures), [`expr`] (expressions, paths, fields),
//! [`calls`] (calls and method calls: accessors, SQL executed, handles handed on),
//! [`macros`] (macro bodies and SQL built by string macros), [`types`] (handle types named
//! in type syntax).

mod calls;
mod control;
mod expr;
mod macros;
mod patterns;
mod scope;
mod sql_params;
mod state;
mod types;

use std::rc::Rc;
use std::sync::Arc;

use proc_macro2::Span;
use syn::{Block, Expr, FnArg, Pat, Signature};

pub(crate) use self::scope::FileScope;
pub(crate) use self::state::EnvRoom;
use self::state::{Env, LoopFrame, Value};
use super::facts::{
    bit_positions, shared_label, shared_path, Derivation, Derived, HandleUse, Sink, SinkKind, SqlText, Taint,
    TypeRef, MAX_FLAG_PARAMS,
};
use super::names::{elements, Names};
use super::spans::Located;
use super::syntax_text::with_ident_text;
use super::types::TypeScope;
use crate::source::{SourceText, TextRange};

/// The analysis of one function body.
pub(crate) struct FnAnalysis<'a> {
    names: &'a Names,
    src: &'a SourceText,
    env: Env,
    sinks: Vec<Sink>,
    /// Values calls and fields may have derived from handles (see [`Derived`]).
    derived: Vec<Derived>,
    returns: Taint,
    closure_depth: usize,
    loops: Vec<LoopFrame>,
    local_consts: Vec<(String, SqlText)>,
    ro_sites: Vec<TextRange>,
    /// What `Self` is, when the `impl` is of a handle type (`impl DbRo { fn f(&self) }`).
    self_taint: (bool, bool),
    /// The type of the `impl` (or trait) the function belongs to, if any.
    owner: Option<String>,
    /// What it knows of the rest of its file.
    scope: &'a FileScope,
    /// The write builder this function returns, if any.
    returned_builder: Option<Rc<str>>,
    /// Generic parameters in scope with their trait bounds.
    generics: &'a [(String, Vec<String>)],
    /// The calls whose result may be a handle derived from an input (call, input position):
    /// index i is [`Taint::via`] bit i.
    derivations: Vec<(TextRange, usize)>,
    /// Each parameter's declared type, when the signature names one (`self`: none).
    param_types: Vec<Option<TypeRef>>,
}

/// What one function body yields.
pub(crate) struct BodyFacts {
    pub params: Vec<Arc<str>>,
    pub returns: Taint,
    /// The ORM write builder it returns, if any (`diesel::update(…)`).
    pub returns_builder: Option<String>,
    pub sinks: Vec<Sink>,
    pub derived: Vec<Derived>,
    pub ro_bindings: usize,
    /// The room of its bindings, for the next function ([`FnAnalysis::in_room`]).
    pub room: EnvRoom,
}

impl<'a> FnAnalysis<'a> {
    pub(crate) fn new(names: &'a Names, src: &'a SourceText) -> FnAnalysis<'a> {
        FnAnalysis {
            names,
            src,
            env: Env::new(),
            sinks: Vec::new(),
            derived: Vec::new(),
            returns: Taint::NONE,
            closure_depth: 0,
            loops: Vec::new(),
            local_consts: Vec::new(),
            ro_sites: Vec::new(),
            self_taint: (false, false),
            owner: None,
            scope: &scope::EMPTY,
            returned_builder: None,
            generics: &[],
            derivations: Vec::new(),
            param_types: Vec::new(),
        }
    }

    /// Binds names in `room` (left by the function analysed before) instead of a new vector.
    pub(crate) fn in_room(mut self, room: EnvRoom) -> FnAnalysis<'a> {
        self.env = Env::in_room(room);
        self
    }

    /// The generic parameters in scope (`C: Crud`), so that `c: &C` is typed by its bounds.
    pub(crate) fn with_generics(mut self, generics: &'a [(String, Vec<String>)]) -> FnAnalysis<'a> {
        self.generics = generics;
        self
    }

    /// What the function's file says (renaming imports, extensions, tuple and builder
    /// functions).
    pub(crate) fn with_scope(mut self, scope: &'a FileScope) -> FnAnalysis<'a> {
        self.scope = scope;
        self
    }

    /// The function belongs to `impl OWNER` (or trait `OWNER`): where `OWNER` is a read-only
    /// (read-write) handle type, `self` and `Self` are too.
    pub(crate) fn with_owner(mut self, owner: Option<&str>) -> FnAnalysis<'a> {
        self.owner = owner.map(str::to_string);
        if let Some(owner) = owner {
            self.self_taint =
                (self.names.ro_types.matches_name(owner), self.names.rw_types.matches_name(owner));
        }
        self
    }

    /// Analyses a function: parameters, then the body.
    pub(crate) fn function(mut self, sig: &Signature, body: &Block) -> BodyFacts {
        let mut params = Vec::new();
        for (index, input) in elements(&sig.inputs).enumerate() {
            match input {
                FnArg::Receiver(receiver) => {
                    params.push(shared_label("self"));
                    self.param_types.push(None);
                    let mut taint = Taint::param(index);
                    taint =
                        taint.join(self.type_taint(&receiver.ty, || self.range(receiver.self_token.span)));
                    let ty = TypeRef::Named(shared_path(&["Self".to_string()]));
                    self.env.declare("self", Value::handle(taint).typed(Some(ty)));
                }
                FnArg::Typed(typed) => {
                    params.push(shared_label(&pat_name(&typed.pat)));
                    let ty = self.type_ref(&typed.ty);
                    // `count: u64`, `enabled: bool`: plain data is given, never a handle, whatever
                    // the caller computed it from (`pool.size()`).
                    let param = match ty.as_ref().is_some_and(TypeRef::is_plain_data) {
                        true => Taint::NONE,
                        false => Taint::param(index),
                    };
                    let taint = param.join(self.type_taint(&typed.ty, || self.at(&*typed.pat)));
                    // `for_update: bool`: what an `if` on it chooses, the caller chooses.
                    let flag = (index < MAX_FLAG_PARAMS && ty.as_ref().is_some_and(TypeRef::is_bool))
                        .then_some(index as u8);
                    self.param_types.push(ty.clone());
                    self.bind_pat(&typed.pat, &Value { flag, ..Value::handle(taint) }.typed(ty));
                }
            }
        }
        self.mark_text_runs(sig);
        if let syn::ReturnType::Type(_, ty) = &sig.output {
            // A declared `-> Self` of `impl DbRo` is not a read-only handle by itself: a
            // constructor or `from_request` would otherwise become an accessor by its name,
            // matching the read-write type's function of that name too.
            let self_taint = std::mem::take(&mut self.self_taint);
            self.returns = self.whole_type_taint(ty, || self.range(sig.ident.span()));
            self.self_taint = self_taint;
        }
        let tail = self.block(body);
        self.returns = self.returns.join(self.returned_taint(&tail));
        self.note_returned(&tail);
        let mut sinks = self.sinks;
        merge_duplicate_sinks(&mut sinks);
        let derived = live_derivations(self.derived, &sinks, self.returns.via);
        self.ro_sites.sort();
        self.ro_sites.dedup();
        BodyFacts {
            params,
            returns: self.returns,
            returns_builder: self.returned_builder.map(|b| b.to_string()),
            sinks,
            derived,
            ro_bindings: self.ro_sites.len(),
            room: self.env.into_room(),
        }
    }

    /// What returning `value` returns as a handle ([`Value::returned_taint`]). A struct or
    /// tuple built of two parameters of one declared type (`Self { primary, replica:
    /// Some(replica) }` of `with_replica(primary: PgPool, replica: PgPool)`) is a set of
    /// handles, derived from neither: given the primary and the replica, it is not the replica.
    fn returned_taint(&self, value: &Value) -> Taint {
        let Some(parts) = value.parts.as_deref() else { return value.returned_taint() };
        let type_of = |bit: usize| self.param_types.get(bit).and_then(Option::as_ref);
        let held: Vec<u64> = parts.iter().map(|(_, part)| part.taint.params).collect();
        let pair = held.iter().enumerate().any(|(i, &mine)| {
            held[i + 1..].iter().any(|&theirs| {
                bit_positions(mine).any(|a| {
                    bit_positions(theirs).any(|b| a != b && type_of(a).is_some() && type_of(a) == type_of(b))
                })
            })
        });
        match pair {
            true => Taint::NONE,
            false => value.returned_taint(),
        }
    }

    /// What the function returns (its tail or a `return`): a write builder is kept.
    fn note_returned(&mut self, value: &Value) {
        if self.returned_builder.is_none() {
            self.returned_builder.clone_from(&value.builder);
        }
    }

    /// The SQL text a const initializer builds, if any.
    pub(crate) fn const_text(mut self, expr: &Expr) -> Option<SqlText> {
        self.expr(expr).sql.map(|t| (*t).clone())
    }

    // -----------------------------------------------------------------------------------------
    // Positions and labels

    /// The type a type annotation names, for resolving calls by type.
    fn type_ref(&self, ty: &syn::Type) -> Option<TypeRef> {
        let scope = TypeScope { wrappers: &self.names.wrapper_types, generics: self.generics };
        crate::analysis::types::type_ref(ty, scope)
    }

    fn range(&self, span: Span) -> TextRange {
        super::span_range(self.src, span)
    }

    /// Where a call, field or expression is, from its tokens (never printed again).
    fn at(&self, node: &impl Located) -> TextRange {
        node.range_in(self.src)
    }

    /// How the source names a handle: the expression without `&`, `*`, `?`, `.await`,
    /// parentheses and pass-through methods, as written (whitespace folded).
    fn label(&self, expr: &Expr) -> String {
        self.with_label(expr, str::to_string)
    }

    /// Calls `f` with [`FnAnalysis::label`]'s text, made into a string only if it is no
    /// binding's name (`db`: printed into a buffer of the thread).
    fn with_label<R>(&self, expr: &Expr, f: impl FnOnce(&str) -> R) -> R {
        let shortened = |label: &str| match label.len() > 60 && label.chars().count() > 60 {
            true => f(&(label.chars().take(57).collect::<String>() + "...")),
            false => f(label),
        };
        let core = self.strip(expr);
        // A binding (`db`): its name is its text, with no position to look up.
        match core {
            Expr::Path(p) if p.attrs.is_empty() && p.qself.is_none() => match p.path.get_ident() {
                Some(ident) => with_ident_text(ident, shortened),
                None => shortened(&self.written(core)),
            },
            _ => shortened(&self.written(core)),
        }
    }

    /// An expression's text as written, whitespace folded.
    fn written(&self, expr: &Expr) -> String {
        let range = self.at(expr);
        let text = self.src.text.get(range.bytes()).unwrap_or("");
        let mut label = String::with_capacity(text.len());
        for word in text.split_whitespace() {
            if !label.is_empty() {
                label.push(' ');
            }
            label.push_str(word);
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
                Expr::MethodCall(m) if with_ident_text(&m.method, |name| self.is_transparent(name)) => {
                    &m.receiver
                }
                other => return other,
            };
        }
    }

    /// Whether a method hands its receiver through: the rule set's transparent methods and the
    /// file's extensions of `Result`/`Option`.
    fn is_transparent(&self, method: &str) -> bool {
        self.names.transparent_methods.matches_name(method) || self.is_extension(method)
    }

    /// Whether a method is one of the file's extensions of `Result`/`Option`.
    fn is_extension(&self, method: &str) -> bool {
        self.scope.extensions.iter().any(|e| e == method)
    }

    fn push_sink(&mut self, range: TextRange, handle_expr: &Expr, taint: Taint, kind: SinkKind) {
        let label = self.with_label(handle_expr, shared_label);
        self.sinks.push(Sink { range, handle: HandleUse { label, taint }, kind });
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

/// The derivations worth settling, one per bit (loops record one twice: inputs joined): those
/// whose value reaches a sink's handle or what the function returns, directly or through a
/// derivation that does. `foo(db).await?;` drops what `foo` returns, so settling it would be
/// memory and work for nothing.
fn live_derivations(recorded: Vec<Derived>, sinks: &[Sink], returned: u64) -> Vec<Derived> {
    if recorded.is_empty() {
        return recorded;
    }
    // One per bit, the first recorded (a field's inputs joined), in the order of the bits.
    let mut by_bit: Vec<Derived> = Vec::with_capacity(recorded.len());
    for d in recorded {
        match by_bit.iter_mut().find(|prev| prev.bit % 64 == d.bit % 64).map(|prev| &mut prev.by) {
            Some(Derivation::Field(prev)) => {
                if let Derivation::Field(field) = d.by {
                    prev.input = prev.input.join(field.input)
                }
            }
            Some(_) => {}
            None => by_bit.push(d),
        }
    }
    by_bit.sort_unstable_by_key(|d| d.bit % 64);
    let mut live = sinks.iter().fold(returned, |bits, s| bits | s.handle.taint.via);
    // A live derivation keeps the derivations its input came from alive (at most 64 rounds).
    loop {
        let next = by_bit
            .iter()
            .filter(|d| live & Taint::derived(d.bit).via != 0)
            .fold(live, |b, d| b | d.input(sinks).via);
        if next == live {
            break;
        }
        live = next;
    }
    by_bit.retain(|d| live & Taint::derived(d.bit).via != 0);
    by_bit
}

/// After loops ran twice, the same sink may be recorded twice: keep one, with every origin.
/// Merged in place: the sinks kept move to the front, in order, the others are dropped.
fn merge_duplicate_sinks(sinks: &mut Vec<Sink>) {
    sinks.sort_by_key(|s| s.range);
    let mut kept = 0;
    for next in 0..sinks.len() {
        let sink = &sinks[next];
        let same = (0..kept)
            .rev()
            .take_while(|&k| sinks[k].range == sink.range)
            .find(|&k| sinks[k].kind == sink.kind && sinks[k].handle.label == sink.handle.label);
        match same {
            Some(k) => {
                let taint = sinks[next].handle.taint;
                sinks[k].handle.taint = sinks[k].handle.taint.join(taint);
            }
            None => {
                sinks.swap(kept, next);
                kept += 1;
            }
        }
    }
    sinks.truncate(kept);
    // Kept for the whole run: the room of the duplicates merged away is given back.
    sinks.shrink_to_fit();
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::analysis::facts::{MAX_TEXT_NODES, MAX_TEXT_PIECES};
    use crate::config::RuleSet;

    /// The text a block builds, as the interpreter tracks it.
    fn built_text(block: &str) -> SqlText {
        let names = Names::new(&RuleSet::builtin(Path::new(".")));
        let src = SourceText::new(block.to_string());
        let expr: Expr = syn::parse_str(block).expect("parses");
        let text = FnAnalysis::new(&names, &src).const_text(&expr);
        crate::parse::release_spans();
        text.expect("the block builds text")
    }

    /// The body of `fixtures/check/string_built_in_two_loops.rs` (kellnr's manifest).
    const TWO_LOOPS: &str = r##"{
        let mut m = String::new();
        let _ = write!(m, r#"version = "{}""#, 2);
        for t in targets {
            let _ = write!(m, r#"[pkg.{}]"#, t.name);
            for p in &t.parts {
                let _ = write!(m, r#"[[pkg.{}.parts]] name = "{}""#, t.name, p);
            }
        }
        for t in targets {
            let _ = write!(m, r#"[pkg2.{}]"#, t.name);
            for p in &t.parts {
                let _ = write!(m, r#"[pkg2.{}.x] url = "{}""#, t.name, p);
            }
        }
        m
    }"##;

    #[test]
    fn text_built_in_two_nested_loops_stays_within_the_bound() {
        let text = built_text(TWO_LOOPS);
        assert!(text.nodes() <= 5 * MAX_TEXT_PIECES + 2, "{} nodes", text.nodes());
        assert!(text.nodes() <= MAX_TEXT_NODES);
        // Widened, it starts as the text starts and still has every piece the loops append.
        let SqlText::Alt(alts) = &text else { panic!("widened to alternatives: {text:?}") };
        let version = || SqlText::Lit("version = \"".into());
        assert!(alts.contains(&SqlText::Concat(vec![version(), SqlText::Hole])));
        let pkg2 = SqlText::Lit("[pkg2.".into());
        assert!(alts.contains(&SqlText::Concat(vec![version(), SqlText::Hole, pkg2, SqlText::Hole])));
    }
}
