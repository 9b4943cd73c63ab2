//! What the analysis of one file yields, as owned data.
//!
//! Syntax trees and spans never leave the worker thread that parsed them (their span table is
//! released after every file). Everything later stages need — functions, what flows into
//! which call, SQL text, consts — is turned into these plain values first. Nothing here
//! refers to syn.
//!
//! SQL text is bounded in one place, its own module ([`SqlText::bounded`]): joins and appends past
//! [`MAX_TEXT_NODES`] nodes or [`MAX_TEXT_BYTES`] bytes widen it to its pieces after what
//! starts it, never to a product of alternatives that doubles with every loop path.

use std::sync::Arc;

use crate::source::TextRange;

mod flags;
mod shared;
mod sql_text;
mod taint;
#[cfg(test)]
mod tests;

pub use self::flags::{FlagArg, FlagArgs, MAX_FLAG_PARAMS};
pub use self::shared::{
    release_shared, shared_label, shared_path, shared_path_by, shared_type, PathHash, SharedPath,
};
pub use self::sql_text::{SqlText, MAX_TEXT_BYTES, MAX_TEXT_NODES, MAX_TEXT_PIECES};
pub use self::taint::{bit_positions, Origin, Taint};

/// What happens to a handle (or to SQL text) at one place in a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sink {
    /// From the root of the call chain to the end of the call that executes.
    pub range: TextRange,
    /// The handle involved.
    pub handle: HandleUse,
    /// What is done with it.
    pub kind: SinkKind,
}

/// A handle as used at a sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandleUse {
    /// How the source names it: a binding (`db`), a field (`state.ro`), or an accessor used in
    /// place (`state.get_db_ro()`); shared by the file's sinks of the same label.
    pub label: Arc<str>,
    /// Where it came from.
    pub taint: Taint,
}

/// The kinds of sinks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkKind {
    /// SQL text executed (or prepared) on the handle.
    Sql {
        /// The text.
        text: SqlText,
        /// The method that takes it (`execute`, `fetch_one`, …).
        method: Box<str>,
        /// Whether `method` is a known SQL method (else only text that looks like SQL counts).
        known_method: bool,
    },
    /// The handle passed to a call (`helper(&db)`, `repo.save(&db)`).
    Call {
        /// The callee as written: path segments (`crate::store::bump`) or the method name
        /// (shared by the file's calls of the same path).
        callee: SharedPath,
        /// Whether it is a method call (`x.save(..)`).
        method: bool,
        /// Argument position; for a method call, 0 is the receiver.
        arg: usize,
        /// How many arguments the call has (the receiver not counted).
        args: usize,
        /// When the call is an ORM executor (`.execute(conn)`, `.exec(&db)`) run on a write
        /// builder (`diesel::update(…)`, `Post::delete_many()`): the builder as written,
        /// shortened (`diesel::update(…)`). The handle is then the executor's argument.
        builder: Option<Box<str>>,
        /// For a method call: what the receiver's type is, as far as the function can tell
        /// (shared with the value it was the type of, never copied).
        receiver: Option<Arc<TypeRef>>,
        /// What the call passes for the callee's `bool` parameters (literals, or the caller's
        /// own flags passed on).
        flags: FlagArgs,
    },
    /// The function runs its text parameter `text` as SQL on the sink's handle (a parameter):
    /// a mark for its callers, settled (and removed) by the writer summaries.
    RunsText {
        /// The text parameter's position (`self` counted).
        text: usize,
    },
    /// SQL text handed to a call of a function along with the sink's handle: SQL run on that
    /// handle if the callee runs that text parameter on that handle parameter (settled by the
    /// writer summaries into a [`SinkKind::Sql`] of the call, or removed).
    TextGiven {
        /// The call, as a [`SinkKind::Call`] with the handle's position.
        call: Box<SinkKind>,
        /// The text's position.
        text_arg: usize,
        /// The text.
        text: SqlText,
    },
}

/// A value a call or a field access may have derived from a handle (what a call given it
/// returns, a field of it): [`Taint::via`] bit `bit` of the values holding it. Settled (and
/// dropped) by the writer summaries, which know what the callee returns and what type the
/// field has. Kept apart from the sinks, small: a function has one per such call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// Where the call or field is.
    pub range: TextRange,
    /// The bit of [`Taint::via`] it stands for.
    pub bit: u8,
    /// How the value is derived (and from what: [`Derived::input`]).
    pub by: Derivation,
}

impl Derived {
    /// What the value is derived from (a handle, parameters, other derivations): a call's
    /// input is what its [`SinkKind::Call`] sink of that position hands over (`sinks` in range
    /// order, as a function's are), a field's is kept with it.
    pub fn input(&self, sinks: &[Sink]) -> Taint {
        match &self.by {
            Derivation::Call { arg } => {
                call_sink_at(sinks, self.range, *arg).map_or(Taint::NONE, |s| s.handle.taint)
            }
            Derivation::Field(field) => field.input,
        }
    }
}

/// The call sink at `range` handing a handle as argument `arg`, in `sinks` sorted by range.
pub fn call_sink_at(sinks: &[Sink], range: TextRange, arg: usize) -> Option<&Sink> {
    call_sink_index(sinks, range, arg).map(|i| &sinks[i])
}

/// The index of [`call_sink_at`]'s sink in `sinks`.
pub fn call_sink_index(sinks: &[Sink], range: TextRange, arg: usize) -> Option<usize> {
    let first = sinks.partition_point(|s| s.range < range);
    let mut same = sinks[first..].iter().take_while(|s| s.range == range);
    let at = same.position(|s| matches!(s.kind, SinkKind::Call { arg: a, .. } if a == arg))?;
    Some(first + at)
}

/// How a value may be derived from a handle (see [`Derived`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Derivation {
    /// Returned by a call given the handle as argument `arg`: the function's
    /// [`SinkKind::Call`] sink of the same range and position says which call
    /// ([`FnFacts::call_at`]; not copied here, as every call given a handle has one).
    Call {
        /// The input's position (`self` or the receiver counted).
        arg: usize,
    },
    /// Field `name` of a value that calls may have derived (`conn.requester`): a handle only
    /// if the field's declared type may hold one (`of`: the value's type, when known).
    Field(Box<FieldOf>),
}

/// A field of a value that calls may have derived (see [`Derivation::Field`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldOf {
    /// The field.
    pub name: String,
    /// The type of the value it is a field of.
    pub of: Option<TypeRef>,
    /// The derivations the value may come from (its `via` bits).
    pub input: Taint,
}

/// A type as one function can name it, resolved against the tree's types later (by
/// [`crate::workspace`]). References are looked through; the common wrappers (`Box`, `Arc`,
/// `State`, `Data`, `Extension`, guards) are kept with what they wrap ([`TypeRef::Wrapped`]).
/// The base of a field and the receiver of a call are shared (`Arc`): a method chain's types
/// build on each other without copying.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TypeRef {
    /// A named type (`Repo`, `crate::store::Repo`, `Self`, `sqlx::PgPool`).
    Named(SharedPath),
    /// A type parameter or `impl`/`dyn` type known only by its trait bounds.
    Bounds(Vec<String>),
    /// The type of field `1` of a value of type `0` (`self.repo`, `state.store`).
    Field(Arc<TypeRef>, String),
    /// What a call returns: a function by path, or a method called on a receiver.
    Returns {
        /// The callee as written (the method name for a method call), shared with the call's
        /// sinks.
        callee: SharedPath,
        /// The receiver's type, for a method call.
        on: Option<Arc<TypeRef>>,
    },
    /// A type that is certainly not the tree's (a literal, a collection built in place).
    Outside,
    /// A rule-set wrapper around a type (`Arc<Repo>`, `State<AppState>`): what it wraps,
    /// unless the tree declares a struct of the wrapper's name (pict-rs' own `State<S>`).
    Wrapped {
        /// The wrapper as written (`web::Data`, `State`).
        wrapper: SharedPath,
        /// What it wraps.
        inner: Box<TypeRef>,
    },
}

impl TypeRef {
    /// Whether a value of this declared type may hold a handle: not the language's scalars and
    /// text, nor the standard collections, nor a tuple, slice or array (taken for data).
    pub fn may_hold_a_handle(&self) -> bool {
        match self.unwrapped() {
            TypeRef::Named(path) => !path.last().is_some_and(|last| {
                [PLAIN_DATA, TEXT, COLLECTIONS].iter().any(|list| list.contains(&last.as_str()))
            }),
            TypeRef::Outside => false,
            _ => true,
        }
    }

    /// Whether this is `bool`.
    pub fn is_bool(&self) -> bool {
        matches!(self, TypeRef::Named(path) if path.len() == 1 && path[0] == "bool")
    }

    /// Whether a value of this declared type is plain data, neither a handle nor SQL text nor
    /// anything holding one: a number, a flag, a duration, an instant, an id (`count: u64`). A
    /// collection or tuple may still hold handles, text may be SQL.
    pub fn is_plain_data(&self) -> bool {
        match self.unwrapped() {
            TypeRef::Named(path) => path.last().is_some_and(|last| PLAIN_DATA.contains(&last.as_str())),
            _ => false,
        }
    }

    /// The type with the wrappers looked through (`State<Arc<AppState>>` is `AppState`): what a
    /// file alone can tell.
    pub fn unwrapped(&self) -> &TypeRef {
        let mut t = self;
        while let TypeRef::Wrapped { inner, .. } = t {
            t = inner;
        }
        t
    }
}

/// Types that are plain data: the language's scalars, durations, instants and ids.
const PLAIN_DATA: &[&str] = &[
    "bool",
    "char",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "f32",
    "f64",
    "Duration",
    "Instant",
    "SystemTime",
    "Uuid",
];

/// Text, which holds no handle (but may be SQL).
const TEXT: &[&str] = &["str", "String"];

/// The standard collections, taken for data when declared as what a function returns.
const COLLECTIONS: &[&str] = &["Vec", "HashMap", "HashSet", "BTreeMap", "BTreeSet", "VecDeque"];

/// One function (free, associated, method, trait default) of a parsed file.
#[derive(Debug, Clone)]
pub struct FnFacts {
    /// Its name.
    pub name: String,
    /// The `impl` self type or the trait it belongs to.
    pub owner: Option<Arc<str>>,
    /// Module path inside the file (inline `mod`s).
    pub module: Vec<String>,
    /// The name's place.
    pub range: TextRange,
    /// Whether the analysis ran on its body (only functions that can matter are analysed).
    pub analysed: bool,
    /// Whether it has a body (false: a trait method declared without a default body).
    pub has_body: bool,
    /// Parameter names (`self` included), in order (shared like the sinks' labels).
    pub params: Vec<Arc<str>>,
    /// What its return value may hold.
    pub returns: Taint,
    /// What it does with handles and SQL.
    pub sinks: Vec<Sink>,
    /// Values its calls and fields may have derived from handles (settled, then dropped, by
    /// the writer summaries).
    pub derived: Vec<Derived>,
    /// Read-only bindings it makes (distinct binding sites).
    pub ro_bindings: usize,
    /// What its signature says about types: for resolving calls by type.
    pub sig: SigFacts,
}

/// The types a function's signature names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SigFacts {
    /// The trait an `impl Trait for Type` method implements.
    pub trait_of: Option<Arc<str>>,
    /// Whether it is declared in a trait (a default body, or none).
    pub in_trait: bool,
    /// How many parameters it takes, `self` included.
    pub arity: usize,
    /// Whether its first parameter is `self`.
    pub has_self: bool,
    /// Its declared return type, if it names one (`Self` kept as written).
    pub returns: Option<TypeRef>,
    /// Generic parameters with their trait bounds (`C: Crud` -> (`C`, `[Crud]`)), from the
    /// function and its `impl` or trait.
    pub generics: Vec<(String, Vec<String>)>,
}

/// A struct, enum, union, trait or type alias of a parsed file, with its named fields' types
/// (or the aliased type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeFacts {
    /// Its name.
    pub name: String,
    /// Module path inside the file.
    pub module: Vec<String>,
    /// Named fields and their types (tuple fields as `0`, `1`, …).
    pub fields: Vec<(String, TypeRef)>,
    /// For a type alias (`type ArcRepo = Arc<dyn UploadRepo>`): the type it stands for.
    pub alias: Option<TypeRef>,
}

/// One name a `use` item brings in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFacts {
    /// The inline module path it is written in.
    pub module: Vec<String>,
    /// The name it binds (empty for a glob).
    pub alias: String,
    /// The path as written (`crate::store::save`; a glob's module).
    pub path: Vec<String>,
    /// `use path::*`.
    pub glob: bool,
    /// `pub use`: a re-export.
    pub public: bool,
}

/// An `impl Trait for Type` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImplFacts {
    /// The self type's last segment.
    pub self_ty: String,
    /// The trait's last segment.
    pub trait_name: String,
}

impl FnFacts {
    /// Whether what it returns may hold a handle: not when it is declared to return a value
    /// that holds none (`-> bool`, `-> Result<i64, E>`, `-> String`, `-> Vec<u8>`), whatever
    /// its body computes from its parameters.
    pub fn may_return_a_handle(&self) -> bool {
        self.sig.returns.as_ref().is_none_or(TypeRef::may_hold_a_handle)
    }

    /// The call sink at `range` handing a handle as argument `arg` (sinks are in range order).
    pub fn call_at(&self, range: TextRange, arg: usize) -> Option<&SinkKind> {
        call_sink_at(&self.sinks, range, arg).map(|s| &s.kind)
    }

    /// The callees (last segments) of the calls whose results the `via` bits stand for
    /// ([`Derived`]), through the fields of such results.
    pub fn via_callees(&self, via: u64) -> Vec<&str> {
        let (mut bits, mut seen, mut out) = (via, 0u64, Vec::new());
        while bits & !seen != 0 {
            let pending = bits & !seen;
            seen |= pending;
            for d in &self.derived {
                if pending & Taint::derived(d.bit).via == 0 {
                    continue;
                }
                match &d.by {
                    Derivation::Call { arg } => {
                        if let Some(SinkKind::Call { callee, .. }) = self.call_at(d.range, *arg) {
                            out.extend(callee.last().map(String::as_str))
                        }
                    }
                    Derivation::Field(field) => bits |= field.input.via,
                }
            }
        }
        out
    }

    /// `Type::method` or `name`.
    pub fn display_name(&self) -> String {
        match &self.owner {
            Some(owner) => format!("{owner}::{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// A `const` or `static` holding SQL-like text.
#[derive(Debug, Clone)]
pub struct ConstFacts {
    /// Its name.
    pub name: String,
    /// Module path inside the file.
    pub module: Vec<String>,
    /// The `impl`/trait it belongs to, if any.
    pub owner: Option<String>,
    /// Its value.
    pub text: SqlText,
}

/// Everything one parsed file yields.
#[derive(Debug, Clone, Default)]
pub struct FileFacts {
    /// Its functions.
    pub functions: Vec<FnFacts>,
    /// Its string consts and statics.
    pub consts: Vec<ConstFacts>,
    /// Its structs, enums, unions and traits.
    pub types: Vec<TypeFacts>,
    /// Its `impl Trait for Type` blocks.
    pub impls: Vec<ImplFacts>,
    /// Its `use` items (module level and inline modules).
    pub imports: Vec<ImportFacts>,
    /// Modules it declares with `#[path = "…"]`: (module path inside the file, ending with
    /// the module's name; the path as written).
    pub path_mods: Vec<(Vec<String>, String)>,
    /// The analyses of function bodies no screen selected, kept until loading is done: a
    /// function wanted later is promoted from here instead of parsing the file again.
    pub deferred: Vec<DeferredFn>,
}

/// The analysis of one body that was not selected (its [`FnFacts`] stays unanalysed until
/// [`FileFacts::promote`] moves this in).
#[derive(Debug, Clone)]
pub struct DeferredFn {
    /// Index of the function in [`FileFacts::functions`].
    pub index: usize,
    /// Parameter names.
    pub params: Vec<Arc<str>>,
    /// What its return value may hold.
    pub returns: Taint,
    /// What it does with handles and SQL.
    pub sinks: Vec<Sink>,
    /// Values its calls and fields may have derived from handles (settled by the summaries).
    pub derived: Vec<Derived>,
    /// Read-only bindings it makes.
    pub ro_bindings: usize,
}

impl FileFacts {
    /// Makes the deferred functions that `wanted` names analysed (as if their file had been
    /// analysed again with them selected); returns how many.
    pub fn promote(&mut self, wanted: impl Fn(&str) -> bool) -> usize {
        let mut promoted = 0;
        let mut kept = Vec::new();
        for d in std::mem::take(&mut self.deferred) {
            match self.functions.get_mut(d.index) {
                Some(f) if wanted(&f.name) => {
                    f.analysed = true;
                    f.params = d.params;
                    f.returns = d.returns;
                    f.sinks = d.sinks;
                    f.derived = d.derived;
                    f.ro_bindings = d.ro_bindings;
                    promoted += 1;
                }
                Some(_) => kept.push(d),
                None => {}
            }
        }
        self.deferred = kept;
        promoted
    }
}
