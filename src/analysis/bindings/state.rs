//! The interpreter's state: what a binding may hold ([`Value`]), the bindings in scope
//! ([`Env`]) and the loops `break` and `continue` may leave ([`LoopFrame`]).
//!
//! Plain data with joins for the points where paths meet. It never looks at expressions or
//! decides anything about SQL or handles: the interpreter fills it.

use std::rc::Rc;
use std::sync::Arc;

use syn::Label;

use crate::analysis::facts::{shared_type, SqlText, Taint, TypeRef};

/// What an expression or binding may hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Value {
    pub(super) taint: Taint,
    pub(super) sql: Option<Rc<SqlText>>,
    /// An ORM write builder not yet executed (`diesel::update(…)`), as evidence.
    pub(super) builder: Option<Rc<str>>,
    /// What each part holds, when the value was built as a struct or tuple here
    /// (`Ctx { pool, ro_pool }`: fields by name; `(rw, ro)`: elements as `0`, `1`). `taint`
    /// is then what all parts hold together.
    pub(super) parts: Option<Rc<[Part]>>,
    /// A standard collection built here (`HashSet::new()`, `vec![]`, `let s: BTreeSet<_>`):
    /// its methods (`seen.insert(id)`) are neither model writes nor functions of the tree.
    pub(super) collection: bool,
    /// Its type, as far as the function can tell (for resolving method calls by type); shared
    /// with the types built on it (`Returns { on }`, `Field`) instead of copied into each.
    pub(super) ty: Option<Arc<TypeRef>>,
    /// The function's `bool` parameter this value is, as given (`for_update`, or a binding of
    /// it): text an `if` on it chooses is a [`SqlText::Flag`].
    pub(super) flag: Option<u8>,
}

/// A named part of a struct or tuple value (`pool`, `0`) and what it holds.
pub(super) type Part = (Rc<str>, Value);

impl Value {
    pub(super) fn handle(taint: Taint) -> Value {
        Value { taint, ..Value::default() }
    }

    pub(super) fn sql(text: SqlText) -> Value {
        Value { sql: Some(Rc::new(text)), ..Value::default() }
    }

    /// A struct or tuple of `parts`: it holds what they hold together, and each part stays
    /// what it is.
    pub(super) fn composite(parts: Vec<Part>) -> Value {
        let taint = parts.iter().fold(Taint::NONE, |acc, (_, v)| acc.join(v.taint));
        Value { taint, parts: Some(parts.into()), ..Value::default() }
    }

    /// What part `name` holds, when known.
    pub(super) fn part(&self, name: &str) -> Option<&Value> {
        self.parts.as_deref()?.iter().find(|(n, _)| &**n == name).map(|(_, v)| v)
    }

    /// The elements of a tuple of `len` elements built here, if this is one.
    pub(super) fn elements(&self, len: usize) -> Option<Vec<Value>> {
        (0..len)
            .map(|i| self.part(&i.to_string()).cloned())
            .collect::<Option<Vec<_>>>()
            .filter(|_| self.parts.as_deref().is_some_and(|p| p.len() == len))
    }

    /// What a function returning this value returns as a handle: a struct or tuple holding a
    /// read-only handle is no read-only handle, so only the parameters it holds count (and
    /// the handles calls may have derived from them).
    pub(super) fn returned_taint(&self) -> Taint {
        match self.parts {
            Some(_) => Taint { params: self.taint.params, via: self.taint.via, ..Taint::NONE },
            None => self.taint,
        }
    }

    pub(super) fn join(self, other: Value) -> Value {
        let sql = match (self.sql, other.sql) {
            (Some(a), Some(b)) if a == b => Some(a),
            (Some(a), Some(b)) => Some(Rc::new(SqlText::either((*a).clone(), (*b).clone()))),
            (a, b) => a.or(b),
        };
        // Parts known on both paths are joined part by part; a part known on one path only is
        // forgotten (the whole value's taint still holds it).
        let parts = match (self.parts, other.parts) {
            (Some(a), Some(b)) if a == b => Some(a),
            (Some(a), Some(b)) => {
                let joined: Vec<Part> = a
                    .iter()
                    .filter_map(|(name, mine)| {
                        let theirs = b.iter().find(|(n, _)| n == name)?;
                        Some((name.clone(), mine.clone().join(theirs.1.clone())))
                    })
                    .collect();
                Some(joined.into())
            }
            _ => None,
        };
        // Two types on two paths: neither is known.
        let ty = match (self.ty, other.ty) {
            (Some(a), Some(b)) if a != b => None,
            (a, b) => a.or(b),
        };
        Value {
            taint: self.taint.join(other.taint),
            sql,
            builder: self.builder.or(other.builder),
            parts,
            collection: self.collection && other.collection,
            ty,
            flag: self.flag.filter(|f| other.flag == Some(*f)),
        }
    }

    /// The same value, of type `ty` (when known).
    pub(super) fn typed(self, ty: Option<TypeRef>) -> Value {
        Value { ty: ty.map(shared_type).or(self.ty), ..self }
    }

    pub(super) fn sql_or_hole(&self) -> SqlText {
        self.sql.as_deref().cloned().unwrap_or(SqlText::Hole)
    }
}

/// A value with the tuple structure of the expression that made it, for destructuring.
pub(super) enum Shaped {
    /// One value (not a tuple expression, or not destructured).
    One(Value),
    /// A tuple expression's elements.
    Tuple(Vec<Shaped>),
}

impl Shaped {
    /// Everything it holds, as one value (a tuple bound to a single name holds all of it).
    pub(super) fn joined(self) -> Value {
        match self {
            Shaped::One(value) => value,
            Shaped::Tuple(values) => values.into_iter().fold(Value::default(), |acc, v| acc.join(v.joined())),
        }
    }

    /// The same, with `taint` added to every element.
    pub(super) fn with_taint(self, taint: Taint) -> Shaped {
        match self {
            Shaped::One(value) => Shaped::One(Value { taint: value.taint.join(taint), ..value }),
            Shaped::Tuple(values) => Shaped::Tuple(values.into_iter().map(|v| v.with_taint(taint)).collect()),
        }
    }
}

/// Bindings in scope, innermost last.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Env {
    vars: Vec<(Rc<str>, Value)>,
    marks: Vec<usize>,
    pub(super) reachable: bool,
}

/// The room of a function's bindings, handed on to the next function analysed (most functions
/// bind more than a few names: growing a new vector each time is an allocation a function).
#[derive(Default)]
pub(crate) struct EnvRoom(Vec<(Rc<str>, Value)>);

impl Env {
    pub(super) fn new() -> Env {
        Env { vars: Vec::new(), marks: Vec::new(), reachable: true }
    }

    /// An empty state in `room`.
    pub(super) fn in_room(room: EnvRoom) -> Env {
        let mut vars = room.0;
        vars.clear();
        Env { vars, ..Env::new() }
    }

    /// The room of this state's bindings, emptied.
    pub(super) fn into_room(self) -> EnvRoom {
        let mut vars = self.vars;
        vars.clear();
        EnvRoom(vars)
    }

    pub(super) fn lookup(&self, name: &str) -> Option<&Value> {
        self.vars.iter().rev().find(|(n, _)| &**n == name).map(|(_, v)| v)
    }

    /// [`Env::lookup`] of an identifier's text, compared without printing it.
    pub(super) fn lookup_ident(&self, name: &syn::Ident) -> Option<&Value> {
        self.vars.iter().rev().find(|(n, _)| name == &**n).map(|(_, v)| v)
    }

    pub(super) fn declare(&mut self, name: &str, value: Value) {
        self.vars.push((Rc::from(name), value));
    }

    /// Assigns to the innermost binding of `name`; false when there is none.
    pub(super) fn assign(&mut self, name: &str, value: Value) -> bool {
        match self.vars.iter_mut().rev().find(|(n, _)| &**n == name) {
            Some((_, v)) => {
                *v = value;
                true
            }
            None => false,
        }
    }

    pub(super) fn push_scope(&mut self) {
        self.marks.push(self.vars.len());
    }

    pub(super) fn pop_scope(&mut self) {
        let mark = self.marks.pop().unwrap_or(0);
        self.vars.truncate(mark);
    }

    /// The state after either `self` or `other`. `other` may be deeper in scopes than `self`
    /// (the state at a `break` inside nested blocks): only the bindings of `self`'s scopes
    /// are joined, and `self`'s scopes stay as they are.
    pub(super) fn join(&mut self, other: &Env) {
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

    pub(super) fn unreachable_copy(&self) -> Env {
        Env { reachable: false, ..self.clone() }
    }
}

/// A loop or labelled block that `break` (and, for loops, `continue`) may jump out of.
pub(super) struct LoopFrame {
    pub(super) label: Option<String>,
    pub(super) is_loop: bool,
    /// The state at every `break` to it, joined.
    pub(super) exit: Option<Env>,
    /// The state at every `continue` of it, joined.
    pub(super) next: Option<Env>,
    /// What its `break`s carry (`let db = loop { break get_db_ro() }`), joined.
    pub(super) value: Value,
}

impl LoopFrame {
    pub(super) fn new(label: Option<&Label>, is_loop: bool) -> LoopFrame {
        LoopFrame {
            label: label.map(|l| l.name.ident.to_string()),
            is_loop,
            exit: None,
            next: None,
            value: Value::default(),
        }
    }
}
