//! Calls and method calls: accessors (read-only, read-write), handles derived from handles,
//! SQL executed on a handle, query and ORM builders executed on a handle, and handles handed
//! to other functions — each recorded as a [`Sink`](crate::analysis::facts::Sink).
//!
//! It records what happens; it never decides whether that is a finding, and never matches a
//! domain name that does not come from the rule set (only language plumbing like `Some` or
//! `Arc::new`).

use std::rc::Rc;

use syn::{Expr, ExprCall, ExprField, ExprMethodCall, Lit};

use super::state::Value;
use super::types::is_std_collection;
use super::FnAnalysis;
use crate::analysis::facts::{
    shared_label, Derivation, Derived, FieldOf, FlagArg, FlagArgs, SinkKind, SqlText, Taint, TypeRef,
};
use crate::analysis::names::{elements, Role, Roles};
use crate::analysis::spans::{LazyRange, Located};
use crate::analysis::syntax_text::shared_idents;
use crate::source::TextRange;

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
/// Constructors of a standard collection.
const COLLECTION_CTORS: &[&str] = &["new", "with_capacity", "default", "from", "from_iter"];

impl FnAnalysis<'_> {
    pub(super) fn call(&mut self, call: &ExprCall) -> Value {
        let callee = match &*call.func {
            Expr::Path(p) => Some(shared_idents(p.path.segments.pairs().map(|s| &s.value().ident))),
            other => {
                self.expr(other);
                None
            }
        };
        let args: Vec<Value> = elements(&call.args).map(|a| self.expr(a)).collect();
        let Some(callee) = callee else { return Value::default() };
        // An accessor called by its alias (`replica()` of `use crate::db::get_db_ro as
        // replica;`) is matched as the accessor; every other path as written.
        let path: &[String] = self.scope.aliased_accessor(&callee).unwrap_or(&callee);
        let names = self.names;
        // Which of the rule set's names the last segment is: one look-up for the tests below.
        let roles = path.last().map_or(Roles::default(), |last| names.roles(last));
        let at = LazyRange::new(call);
        let returns = TypeRef::Returns { callee: callee.clone(), on: None };
        if names.ro_accessors.matches_path(path) {
            return Value::handle(Taint::read_only(at.get(self.src))).typed(Some(returns));
        }
        if names.path_is(Role::RwAccessor, roles, path) {
            return Value::handle(Taint::read_write(at.get(self.src))).typed(Some(returns));
        }
        if self.names.derive_wrappers.matches_path(path) && args.iter().all(|a| !a.taint.is_known_handle()) {
            // `get_conn(&state)`, `Self::get_connection(self)`: the tree's own accessor wrapper,
            // not the derive method of a handle.
            return Value::handle(Taint::read_only(at.get(self.src))).typed(Some(returns));
        }
        if names.path_is(Role::SqlBuilder, roles, path) {
            if let Some(sql) = args.iter().find_map(|a| a.sql.clone()) {
                return Value { sql: Some(sql), ..Value::default() };
            }
        }
        if is_empty_string(path) {
            return Value::sql(SqlText::Lit(String::new()));
        }
        if matches!(path, [.., owner, ctor] if is_std_collection(owner) && COLLECTION_CTORS.contains(&ctor.as_str()))
        {
            // `HashSet::new()`, `Vec::with_capacity(n)`: data, whatever goes in.
            return Value { collection: true, ..Value::default() }.typed(Some(returns));
        }
        if is_pass_through(path) {
            return args.into_iter().next().unwrap_or_default();
        }
        let input = |i: usize| Some((elements(&call.args).nth(i)?, args.get(i)?));
        self.sql_param_call(path.last(), false, input, &at);
        let flags = flag_args(elements(&call.args), &args, 0);
        let kind = |arg: usize| SinkKind::Call {
            callee: callee.clone(),
            method: false,
            arg,
            args: call.args.len(),
            builder: None,
            receiver: None,
            flags,
        };
        // `postgres::execute_query(&mut conn, "SELECT true;".to_string())`: the text may run on
        // the handle, if the callee (of another file, perhaps) runs that parameter on that one.
        for (t, text) in args.iter().enumerate() {
            let Some(sql) = &text.sql else { continue };
            for (h, (handle_expr, handle)) in elements(&call.args).zip(&args).enumerate() {
                if h != t && handle.taint.is_handle() {
                    let given =
                        SinkKind::TextGiven { call: Box::new(kind(h)), text_arg: t, text: (**sql).clone() };
                    self.push_sink(at.get(self.src), handle_expr, handle.taint, given);
                }
            }
        }
        for (index, (arg, value)) in elements(&call.args).zip(&args).enumerate() {
            if value.taint.is_handle() {
                self.push_sink(at.get(self.src), arg, value.taint, kind(index));
            }
        }
        if names.path_is(Role::DeriveMethod, roles, path) {
            // `get_conn(pool)`, `Pool::get(&pool)`: a connection from the handle it is given.
            if let Some(first) = args.first().filter(|a| a.taint.is_handle()) {
                return Value::handle(first.taint);
            }
        }
        if names.path_is(Role::WriteBuilder, roles, path) {
            // `diesel::update(posts.find(id))`, `Post::delete_many()`: writes once executed.
            return Value {
                builder: Some(Rc::from(format!("{}(…)", path.join("::")))), ..Value::default()
            };
        }
        if let Some((name, builder)) = self.scope.builder_fns.iter().find(|(n, _)| path.last() == Some(n)) {
            // `mark_paid_stmt(id)`: a function of the file returning a write builder.
            let evidence = format!("{builder} returned by {name}(…)");
            return Value { builder: Some(Rc::from(evidence)), ..Value::default() };
        }
        if let Some((_, elements)) = self.scope.tuple_fns.iter().find(|(n, _)| path.last() == Some(n)) {
            // `connect()` of the file declared `-> Result<(DbRw, DbRo), E>`: each element is what
            // its type says.
            let at = at.get(self.src);
            let parts = elements.iter().enumerate().map(|(i, &(ro, rw))| {
                let taint = Taint { ro: ro.then_some(at).into(), rw: rw.then_some(at).into(), ..Taint::NONE };
                (Rc::from(i.to_string()), Value::handle(taint))
            });
            return Value::composite(parts.collect());
        }
        if is_constructor(path) {
            // `ConnectionInner::Pooled(conn)`, `Self(pool)`: a tuple struct or variant holding
            // its arguments, each a part of it.
            let parts = args.into_iter().enumerate().map(|(i, v)| (Rc::from(i.to_string()), v));
            return Value::composite(parts.collect()).typed(Some(returns));
        }
        // `Connection::from_pool(conn, tags)`: a handle if the callee returns one built from
        // what it is given (settled once the callee is known).
        let mut derived = Taint::NONE;
        for (index, value) in args.iter().enumerate() {
            if value.taint.is_handle() {
                derived = derived.join(self.derive(at.get(self.src), index));
            }
        }
        Value::handle(derived).typed(Some(returns))
    }

    pub(super) fn method_call(&mut self, call: &ExprMethodCall) -> Value {
        // What the method returns: known once the receiver's type and the method are.
        let callee = shared_idents([&call.method]);
        let name = &callee[0];
        let at = LazyRange::new(call);
        let receiver = self.expr(&call.receiver);
        let mut args = Vec::with_capacity(call.args.len());
        // What the closures given to a handle's method yield (`conn.transaction(|tx| …)`).
        let mut closure_result: Option<Value> = None;
        for arg in elements(&call.args) {
            let value = match arg {
                // `conn.transaction(|conn| …)`: the closure's parameters are the receiver's handle
                // (but `.map_err(|e| …)` is given the error).
                Expr::Closure(c) if receiver.taint.is_handle() && !ERROR_SIDE.contains(&name.as_str()) => {
                    let result = self.closure(c, receiver.taint);
                    closure_result = Some(closure_result.unwrap_or_default().join(result));
                    Value::default()
                }
                other => self.expr(other),
            };
            args.push(value);
        }
        let names = self.names;
        let roles = names.roles(name);
        let returns = TypeRef::Returns { callee: callee.clone(), on: receiver.ty.clone() };
        let flags = flag_args(elements(&call.args), &args, 1);
        // `self.pool()`: an accessor of a parameter also writes through that parameter.
        if names.ro_accessors.matches_name(name) {
            let taint = Taint::read_only(at.get(self.src)).with_params_of(receiver.taint);
            return Value::handle(taint).typed(Some(returns));
        }
        if roles.has(Role::RwAccessor) {
            let taint = Taint::read_write(at.get(self.src)).with_params_of(receiver.taint);
            return Value::handle(taint).typed(Some(returns));
        }
        if roles.has(Role::Transparent) || self.is_extension(name) {
            return receiver;
        }
        if self.is_tree_wrapper(name, &receiver) {
            // `self.get_connection()` of a tree type whose `get_connection` returns a read-only
            // handle: the wrapper wins over the derive method of that name.
            let taint = Taint::read_only(at.get(self.src)).with_params_of(receiver.taint);
            return Value::handle(taint).typed(Some(returns));
        }
        if roles.has(Role::DeriveMethod) && receiver.taint.is_handle() {
            // `pool.begin()` is a handle; `conn.transaction(|tx| …)` is what the closure yields
            // (rows, a count), so a helper ending in it is no accessor.
            return closure_result.unwrap_or_else(|| Value::handle(receiver.taint));
        }
        // `String::push_str`/`push` take one argument: `repo.push(QUEUE, job, None)` is a call.
        if (name == "push_str" || name == "push") && call.args.len() == 1 {
            if let Some(part) = args.first() {
                self.append_sql(&call.receiver, part);
            }
            return Value::default();
        }

        // diesel's method form `new_user.insert_into(users::table)`: a write builder on a record
        // (a parameter, perhaps), which writes once executed on a handle. Given a handle
        // (`active.update(db)`), it is a model write instead.
        let started_builder = (roles.has(Role::WriteBuilder)
            && receiver.taint.ro.is_none()
            && receiver.taint.rw.is_none()
            && !args.iter().any(|a| a.taint.is_handle()))
        .then(|| Value {
            builder: Some(Rc::from(format!("{}.{name}(…)", self.label(&call.receiver)))),
            ..Value::default()
        });

        let input = |i: usize| match i.checked_sub(1) {
            None => Some((&*call.receiver, &receiver)),
            Some(i) => Some((elements(&call.args).nth(i)?, args.get(i)?)),
        };
        self.sql_param_call(Some(name), true, input, &at);
        let arg_sql = args.iter().find_map(|a| a.sql.clone());
        // A handle from an accessor or type is a better executor candidate than a parameter
        // (`.bind(id)` passes a parameter too).
        let handle_arg = args
            .iter()
            .position(|a| a.taint.ro.is_some() || a.taint.rw.is_some())
            .or_else(|| args.iter().position(|a| a.taint.is_handle()));
        if let (Some(builder), Some(index)) = (&receiver.builder, handle_arg) {
            if roles.has(Role::OrmExecutor) {
                // `diesel::insert_into(t).values(..).execute(conn)`: the builder runs on `conn`.
                let kind = SinkKind::Call {
                    callee: callee.clone(),
                    method: true,
                    arg: index + 1,
                    args: args.len(),
                    builder: Some(Box::from(&**builder)),
                    receiver: None,
                    flags,
                };
                self.push_sink(at.get(self.src), &call.args[index], args[index].taint, kind);
                return Value::default();
            }
        }
        let mut executed = false;
        if receiver.taint.is_handle() {
            if let Some(sql) = &arg_sql {
                // `db.execute(SQL, …)`
                let known_method = roles.has(Role::SqlMethod);
                let kind =
                    SinkKind::Sql { text: (**sql).clone(), method: Box::from(name.as_str()), known_method };
                self.push_sink(at.get(self.src), &call.receiver, receiver.taint, kind);
                // A method of the rule set runs the text; another (`self.set("key", v)`) is also
                // a call whose body may write.
                executed = known_method;
            }
        }
        if let (Some(sql), Some(index)) = (&receiver.sql, handle_arg) {
            // `sqlx::query(SQL).bind(x).execute(&mut *db)`: a builder executed on a handle.
            let kind =
                SinkKind::Sql { text: (**sql).clone(), method: Box::from(name.as_str()), known_method: true };
            self.push_sink(at.get(self.src), &call.args[index], args[index].taint, kind);
            if roles.has(Role::SqlMethod) {
                return Value::default();
            }
            // Not an executor we know (`.bind(id)` with a parameter): the builder goes on.
            return Value { sql: receiver.sql, ..Value::default() };
        }
        for (index, (arg, value)) in elements(&call.args).zip(&args).enumerate() {
            // `seen.insert(id)` on a `HashSet` built here: no model write, no tree method.
            if value.taint.is_handle() && !receiver.collection {
                let kind = SinkKind::Call {
                    callee: callee.clone(),
                    method: true,
                    arg: index + 1,
                    args: args.len(),
                    builder: None,
                    receiver: receiver.ty.clone(),
                    flags,
                };
                self.push_sink(at.get(self.src), arg, value.taint, kind);
            }
        }
        if receiver.taint.is_handle() && !executed {
            let kind = SinkKind::Call {
                callee: callee.clone(),
                method: true,
                arg: 0,
                args: args.len(),
                builder: None,
                receiver: receiver.ty.clone(),
                flags,
            };
            self.push_sink(at.get(self.src), &call.receiver, receiver.taint, kind);
        }
        if receiver.taint.is_handle() && name.starts_with("prepare") {
            // A prepared statement carries its SQL to where it is executed.
            return Value { sql: arg_sql, ..Value::default() };
        }
        if (receiver.sql.is_some() || receiver.builder.is_some()) && !receiver.taint.is_handle() {
            // Builder methods (`.bind(x)`, `.set(..)`, `.filter(..)`) keep the builder.
            return Value { sql: receiver.sql, builder: receiver.builder, ..Value::default() };
        }
        if let Some(builder) = started_builder {
            return builder.typed(Some(returns));
        }
        // `pool.connection_tagged("api")`, `conn.requests_dal()`: a handle if the method
        // returns one built from its receiver (settled once the method is known). Rows a
        // query returned are no handle.
        let derived = match receiver.taint.is_handle() && !executed && !receiver.collection {
            true => self.derive(at.get(self.src), 0),
            false => Taint::NONE,
        };
        if call.args.is_empty() && receiver.taint.params != 0 {
            // `self.pool()`, `ctx.conn()`: a getter of a parameter may hand out the connection
            // it holds, so what runs on the result runs through that parameter. Only the
            // parameter origin carries over: a getter is no accessor.
            let taint = Taint { params: receiver.taint.params, ..Taint::NONE }.join(derived);
            return Value::handle(taint).typed(Some(returns));
        }
        Value::handle(derived).typed(Some(returns))
    }
}

/// What a call passes for the callee's `bool` parameters: a literal, or a flag of the caller
/// passed on by its name. `first`: the callee's input position of the first argument (1 for a
/// method call, whose receiver is 0).
fn flag_args<'e>(exprs: impl Iterator<Item = &'e Expr>, values: &[Value], first: usize) -> FlagArgs {
    let mut flags = FlagArgs::default();
    for (i, (expr, value)) in exprs.zip(values).enumerate() {
        let arg = match expr {
            Expr::Lit(syn::ExprLit { lit: Lit::Bool(b), .. }) => FlagArg::Lit(b.value),
            Expr::Path(p) if p.path.get_ident().is_some() => {
                value.flag.map_or(FlagArg::Unknown, FlagArg::Param)
            }
            _ => FlagArg::Unknown,
        };
        if arg != FlagArg::Unknown {
            flags = flags.with(first + i, arg);
        }
    }
    flags
}

/// `Result`'s methods whose closure is given the error, not the value the receiver holds.
const ERROR_SIDE: &[&str] = &["map_err", "or_else", "unwrap_or_else", "inspect_err", "is_err_and"];

fn is_empty_string(path: &[String]) -> bool {
    matches!(path, [.., owner, name] if owner == "String" && EMPTY_STRING_FNS.contains(&name.as_str()))
}

/// A tuple struct's or enum variant's constructor (`Pooled(conn)`, `ConnectionInner::Pooled`,
/// `Self(pool)`): named like a type. `Some`, `Ok` and the like are passed through before.
fn is_constructor(path: &[String]) -> bool {
    path.last().is_some_and(|name| name.starts_with(|c: char| c.is_ascii_uppercase()))
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

impl FnAnalysis<'_> {
    /// Whether `receiver.name()` calls an accessor wrapper of the tree named like a derive
    /// method: the receiver is no handle of the rule set, and its type (`Self`, a named type, a
    /// field of one) has such a wrapper.
    fn is_tree_wrapper(&self, name: &str, receiver: &Value) -> bool {
        let wrappers = &self.names.derive_wrappers;
        if wrappers.is_empty() || receiver.taint.is_known_handle() {
            return false;
        }
        match receiver.ty.as_deref().map(TypeRef::unwrapped) {
            Some(TypeRef::Named(path)) => {
                let owner = match &path[..] {
                    [only] if only == "Self" => self.owner.as_deref(),
                    [.., last] => Some(last.as_str()),
                    [] => None,
                };
                owner.is_some_and(|o| wrappers.matches_path(&[o.to_string(), name.to_string()]))
            }
            Some(TypeRef::Field(..)) => wrappers.matches_name(name),
            _ => false,
        }
    }

    /// The taint of a value that call `call` at `range` may derive from its input `input`
    /// (holding `taint`): a [`Derived`](crate::analysis::facts::Derived) records it, and [`Taint::via`] bit
    /// stands for it until the writer summaries know whether the callee returns such a value.
    /// The same call and input keep their bit (loops run twice); past 64 of them, nothing.
    /// What the value is derived from is what the call's [`SinkKind::Call`] sink of that
    /// position holds (recorded by the caller of this), not copied.
    fn derive(&mut self, range: TextRange, arg: usize) -> Taint {
        self.derivation((range, arg), Derivation::Call { arg })
    }

    /// Field `f` of `base`: what `base` holds as it is (a parameter's field is the parameter,
    /// as for any value), and what calls may have derived only if the field's declared type
    /// may hold a handle (`conn.requester` of a derived connection is text).
    pub(super) fn field_of_derived(&mut self, f: &ExprField, base: &Value, member: String) -> Taint {
        let taint = Taint { via: 0, ..base.taint };
        if base.taint.via == 0 {
            return taint;
        }
        let key = (self.at(f), usize::MAX);
        let input = Taint { via: base.taint.via, ..Taint::NONE };
        let by =
            Derivation::Field(Box::new(FieldOf { name: member, of: base.ty.as_deref().cloned(), input }));
        taint.join(self.derivation(key, by))
    }

    /// The bit of derivation `key` (a call or field and the input's position), recorded.
    fn derivation(&mut self, key: (TextRange, usize), by: Derivation) -> Taint {
        let range = key.0;
        let bit = match self.derivations.iter().position(|d| *d == key) {
            Some(bit) => bit,
            None if self.derivations.len() < 64 => {
                self.derivations.push(key);
                self.derivations.len() - 1
            }
            None => return Taint::NONE,
        };
        // A value derived from itself (`conn = conn.next()` in a loop) adds nothing: settling
        // joins a bit's input into what the bit already stands for.
        let bit = bit as u8;
        self.derived.push(Derived { range, bit, by });
        Taint::derived(bit)
    }

    /// Marks a function of the file that runs a text parameter on another parameter
    /// ([`SinkKind::RunsText`]), for callers in other files.
    pub(super) fn mark_text_runs(&mut self, sig: &syn::Signature) {
        let has_self = sig.receiver().is_some();
        let scope = self.scope;
        for f in scope.sql_param_fns.iter().filter(|f| sig.ident == f.name && f.has_self == has_self) {
            let at = self.range(sig.ident.span());
            let label = match elements(&sig.inputs).nth(f.handle) {
                Some(syn::FnArg::Typed(t)) => super::pat_name(&t.pat),
                _ => "self".to_string(),
            };
            let handle = crate::analysis::facts::HandleUse {
                label: shared_label(&label),
                taint: Taint::param(f.handle),
            };
            self.sinks.push(crate::analysis::facts::Sink {
                range: at,
                handle,
                kind: SinkKind::RunsText { text: f.text },
            });
        }
    }

    /// A call of a file's function that executes its text parameter on its handle parameter
    /// (`Self::execute_query(&mut tx, REMOVE_ALL)`): the text given runs on the handle given.
    /// `input(i)` is the call's input `i` in the callee's order (a method call's receiver
    /// first), only asked for when the file has such a function of that name.
    fn sql_param_call<'e>(
        &mut self,
        callee: Option<&String>,
        method: bool,
        input: impl Fn(usize) -> Option<(&'e Expr, &'e Value)>,
        at: &LazyRange<'_, impl Located>,
    ) {
        let Some(callee) = callee else { return };
        let scope = self.scope;
        for f in scope.sql_param_fns.iter().filter(|f| f.name == *callee && (f.has_self || !method)) {
            let (Some((_, text)), Some((handle_expr, handle))) = (input(f.text), input(f.handle)) else {
                continue;
            };
            if let (Some(sql), true) = (&text.sql, handle.taint.is_handle()) {
                let kind = SinkKind::Sql {
                    text: (**sql).clone(),
                    method: Box::from(callee.as_str()),
                    known_method: true,
                };
                // The call's range only now, when a sink needs it.
                self.push_sink(at.get(self.src), handle_expr, handle.taint, kind);
            }
        }
    }
}
