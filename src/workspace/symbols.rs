//! The tree's functions, types and impls, hashed by name, owner, trait and crate.
//!
//! Built once from the owned facts of the parsed files (and the type names the prefilter saw in
//! files it did not parse); every question is a hash lookup followed by a filter over the few
//! definitions that share a name. Answers what a [`TypeRef`] is (a type of the tree, traits of
//! the tree, or something outside it) and which bodies a method of a type may run. Never
//! parses and never decides what writes.

use std::sync::RwLock;

use crate::analysis::facts::{TypeFacts, TypeRef};
use crate::writers::{FnId, TreeFn};

use super::fns::TreeFns;
use super::hash::{Name, NameMap as HashMap, NamePair, NameSet as HashSet, Pair};

/// How deep a type may be derived from other types (fields of fields, returns of returns).
const MAX_TYPE_DEPTH: usize = 8;

/// Whether a path written in a function (its id, itself) names something outside the tree (by
/// its imports).
pub type Outside<'a> = &'a dyn Fn(FnId, &TreeFn, &[String]) -> bool;

/// What a type is resolved with.
struct Seen<'a> {
    fns: &'a TreeFns,
    outside: Outside<'a>,
}

/// What a [`TypeRef`] turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// A struct, enum or alias of the tree, by name.
    Tree(String),
    /// A value known only by traits of the tree it implements (a generic, `dyn`, `impl`).
    Traits(Vec<String>),
    /// A type the tree does not declare: std, a driver, an ORM.
    Outside,
    /// Not known.
    Unknown,
}

/// The functions one key names: most keys name one, held in place (no list to follow).
#[derive(Debug, Clone)]
enum Ids {
    One(FnId),
    Many(Vec<FnId>),
}

impl Ids {
    fn push(&mut self, id: FnId) {
        match self {
            Ids::One(first) => *self = Ids::Many(vec![*first, id]),
            Ids::Many(ids) => ids.push(id),
        }
    }

    fn as_slice(&self) -> &[FnId] {
        match self {
            Ids::One(id) => std::slice::from_ref(id),
            Ids::Many(ids) => ids,
        }
    }
}

/// What the tree declares under a name: a type (struct, enum, union, alias, a type with
/// methods or impls, or one only screened), a trait, or both.
#[derive(Debug, Clone, Copy, Default)]
struct Declared {
    ty: bool,
    is_trait: bool,
}

/// The hashed index. Keys are [`Name`]s: a short name's bytes are compared in the table.
#[derive(Debug, Default)]
pub struct Symbols {
    /// Functions with a body, by name.
    by_name: HashMap<Name, Ids>,
    /// Functions with a body, by owner type or trait and name (one probe, looked up by
    /// borrowed names).
    by_owner: HashMap<NamePair, Ids>,
    /// Methods with a body of a blanket implementation (`impl<T: Executor> DbExt for T`: the
    /// owner is one of the function's generics), by name: what a receiver outside the tree
    /// may run.
    blanket: HashMap<Name, Ids>,
    /// Type -> the traits it implements.
    traits_of: HashMap<Name, Vec<String>>,
    /// Trait -> the types implementing it.
    impls_of: HashMap<Name, Vec<String>>,
    /// Structs by name, with their fields.
    structs: HashMap<Name, Vec<TypeFacts>>,
    /// (struct, field) -> the field's type, from the first struct of that name declaring it
    /// (one probe where the structs' fields were scanned, their names behind pointers).
    fields: HashMap<NamePair, TypeRef>,
    /// Every type (parsed or only screened) and trait name the tree declares: one probe
    /// answers both questions.
    declared: HashMap<Name, Declared>,
    /// First segments of the module paths of the tree's functions.
    modules: HashSet<Name>,
    /// [`Symbols::trait_methods`]' answers, by (trait, method): a trait of hundreds of
    /// implementations is asked about by every call on a value of it (on the whole cargo
    /// registry, a third of a run went to asking again). Filled by the resolving workers.
    trait_answers: RwLock<HashMap<NamePair, Box<[FnId]>>>,
}

/// The part of [`Symbols`] built from the functions: by name, by owner and name, blanket
/// methods; modules.
#[derive(Default)]
struct FnSymbols {
    by_name: HashMap<Name, Ids>,
    by_owner: HashMap<NamePair, Ids>,
    blanket: HashMap<Name, Ids>,
    modules: HashSet<Name>,
}

impl FnSymbols {
    fn of(fns: &TreeFns) -> FnSymbols {
        let mut s = FnSymbols::default();
        for (id, f) in fns.iter().enumerate() {
            // Names are cloned only the first time they are seen: most repeat.
            if let Some(first) = f.module.first() {
                if !s.modules.contains(first.as_bytes()) {
                    s.modules.insert(Name::new(first));
                }
            }
            let facts = &f.facts;
            if facts.has_body {
                push_at(&mut s.by_name, &facts.name, id);
                if let Some(owner) = &facts.owner {
                    match s.by_owner.get_mut(&(&**owner, facts.name.as_str()) as &dyn Pair) {
                        Some(ids) => ids.push(id),
                        None => {
                            s.by_owner.insert(NamePair::new(owner, &facts.name), Ids::One(id));
                        }
                    }
                    if facts.sig.generics.iter().any(|(g, _)| **g == **owner) {
                        push_at(&mut s.blanket, &facts.name, id);
                    }
                }
            }
        }
        s
    }
}

/// The part of [`Symbols`] that says what names declare (types and traits), and impls both
/// ways.
#[derive(Default)]
struct Declarations {
    declared: HashMap<Name, Declared>,
    traits_of: HashMap<Name, Vec<String>>,
    impls_of: HashMap<Name, Vec<String>>,
}

impl Declarations {
    /// Of the functions' owners, `impls` and `screened_types` (not the structs: see
    /// [`Symbols::new`]).
    fn of<'a>(
        fns: &TreeFns,
        impls: impl IntoIterator<Item = (&'a str, &'a str)>,
        screened_types: impl IntoIterator<Item = &'a str>,
    ) -> Declarations {
        let mut s = Declarations::default();
        for facts in fns.iter().map(|f| &f.facts) {
            if let Some(owner) = &facts.owner {
                s.declare(owner).ty = true;
                if let Some(tr) = &facts.sig.trait_of {
                    s.add_impl(owner, tr);
                } else if facts.sig.in_trait {
                    s.declare(owner).is_trait = true;
                }
            }
        }
        for (self_ty, tr) in impls {
            s.add_impl(self_ty, tr);
        }
        for name in screened_types {
            s.declare(name).ty = true;
        }
        for list in s.traits_of.values_mut().chain(s.impls_of.values_mut()) {
            list.sort();
            list.dedup();
        }
        s
    }

    fn add_impl(&mut self, self_ty: &str, tr: &str) {
        self.declare(self_ty).ty = true;
        self.declare(tr).is_trait = true;
        list_at(&mut self.traits_of, self_ty).push(tr.to_string());
        list_at(&mut self.impls_of, tr).push(self_ty.to_string());
    }

    /// What the tree declares under `name`, to mark (a short name's key allocates nothing).
    fn declare(&mut self, name: &str) -> &mut Declared {
        self.declared.entry(Name::new(name)).or_default()
    }
}

/// The part of [`Symbols`] built from the structs: by name, and each (struct, field)'s type.
#[derive(Default)]
struct StructSymbols {
    structs: HashMap<Name, Vec<TypeFacts>>,
    fields: HashMap<NamePair, TypeRef>,
}

impl StructSymbols {
    /// Of `types`, moved in.
    fn of(types: Vec<TypeFacts>) -> StructSymbols {
        let mut s = StructSymbols::default();
        for t in types {
            for (field, ty) in &t.fields {
                if !s.fields.contains_key(&(t.name.as_str(), field.as_str()) as &dyn Pair) {
                    s.fields.insert(NamePair::new(&t.name, field), ty.clone());
                }
            }
            match s.structs.get_mut(t.name.as_bytes()) {
                Some(defs) => defs.push(t),
                None => {
                    s.structs.insert(Name::new(&t.name), vec![t]);
                }
            }
        }
        s
    }
}

impl Symbols {
    /// Indexes `fns`, the parsed files' `types` (moved in) and `impls`, and the type names of files that
    /// were not parsed.
    pub fn new<'a>(
        fns: &TreeFns,
        types: impl IntoIterator<Item = TypeFacts>,
        impls: impl IntoIterator<Item = (&'a str, &'a str)> + Send,
        screened_types: impl IntoIterator<Item = &'a str> + Send,
    ) -> Symbols {
        // Three groups of maps, each filled in the order it always was, built side by side:
        // functions by name and owner; what names declare (and impls); structs and fields.
        let types: Vec<TypeFacts> = types.into_iter().collect();
        let (fns, (names, structs)) = rayon::join(
            || FnSymbols::of(fns),
            || rayon::join(|| Declarations::of(fns, impls, screened_types), || StructSymbols::of(types)),
        );
        let mut s = Symbols {
            by_name: fns.by_name,
            by_owner: fns.by_owner,
            blanket: fns.blanket,
            modules: fns.modules,
            traits_of: names.traits_of,
            impls_of: names.impls_of,
            declared: names.declared,
            structs: structs.structs,
            fields: structs.fields,
            trait_answers: RwLock::default(),
        };
        // Every struct is a type of the tree.
        for name in s.structs.keys() {
            match s.declared.get_mut(name.as_bytes()) {
                Some(d) => d.ty = true,
                None => {
                    s.declared.insert(name.clone(), Declared { ty: true, is_trait: false });
                }
            }
        }
        s
    }

    /// Whether the tree declares a type or trait of that name.
    pub fn declares(&self, name: &str) -> bool {
        self.declared.contains_key(name.as_bytes())
    }

    /// Notes modules of the tree (first segments of module paths).
    pub fn add_modules(&mut self, modules: impl IntoIterator<Item = String>) {
        self.modules.extend(modules.into_iter().map(|m| Name::new(&m)));
    }

    /// Whether some function or file of the tree is in a module whose path starts with `name`.
    pub fn has_module(&self, name: &str) -> bool {
        self.modules.contains(name.as_bytes())
    }

    /// Whether `name` is a trait of the tree.
    pub fn is_trait(&self, name: &str) -> bool {
        self.declared.get(name.as_bytes()).is_some_and(|d| d.is_trait)
    }

    /// Functions with a body named `name`.
    pub fn named(&self, name: &str) -> &[FnId] {
        self.by_name.get(name.as_bytes()).map_or(&[], Ids::as_slice)
    }

    /// Functions with a body named `name` owned by `owner` (a type's impls or a trait's
    /// default bodies).
    pub fn owned(&self, owner: &str, name: &str) -> &[FnId] {
        self.by_owner.get(&(owner, name) as &dyn Pair).map_or(&[], Ids::as_slice)
    }

    /// Methods with a body named `name` of blanket implementations (their owner is one of
    /// their generics), in id order.
    pub fn blanket(&self, name: &str) -> &[FnId] {
        self.blanket.get(name.as_bytes()).map_or(&[], Ids::as_slice)
    }

    /// The bodies `name` may run on a value of tree type `ty`: its own methods, else the
    /// default bodies of its traits; for a trait, every implementation and its default.
    pub fn methods_of(&self, ty: &Ty, name: &str) -> Vec<FnId> {
        let mut out = Vec::new();
        match ty {
            Ty::Tree(t) if self.is_trait(t) => self.trait_methods(t, name, &mut out),
            Ty::Tree(t) => {
                let own = self.owned(t, name);
                if !own.is_empty() {
                    // One key's ids: in id order, each once.
                    return own.to_vec();
                }
                for tr in self.traits_of.get(t.as_bytes()).into_iter().flatten() {
                    out.extend_from_slice(self.owned(tr, name));
                }
            }
            Ty::Traits(traits) => {
                for tr in traits {
                    self.trait_methods(tr, name, &mut out);
                }
            }
            Ty::Outside | Ty::Unknown => {}
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether the tree defines a type (struct, enum, union or trait; not an alias) named `name`.
    fn defines_type(&self, name: &str) -> bool {
        self.structs.get(name.as_bytes()).is_some_and(|defs| defs.iter().any(|d| d.alias.is_none()))
    }

    /// The declared types of field `field` of the tree's structs named `name` (several
    /// structs may share a name).
    pub fn field_types<'s>(&'s self, name: &str, field: &'s str) -> impl Iterator<Item = &'s TypeRef> {
        let defs = self.structs.get(name.as_bytes()).map_or(&[][..], Vec::as_slice);
        defs.iter().flat_map(move |d| d.fields.iter().filter(move |(f, _)| f == field).map(|(_, t)| t))
    }

    /// The type alias `name` stands for, when every type of the tree so named is that alias.
    fn alias_of(&self, name: &str) -> Option<&TypeRef> {
        let defs = self.structs.get(name.as_bytes())?;
        let first = defs.first()?.alias.as_ref()?;
        defs.iter().all(|d| d.alias.as_ref() == Some(first)).then_some(first)
    }

    /// Every implementation of `name` for trait `tr`, and the trait's default body. A type
    /// implementing `tr` without a method `name` of its own runs its traits' default bodies
    /// (a supertrait's: `dyn FullRepo` calling `AliasAccessRepo::accessed_alias`).
    fn trait_methods(&self, tr: &str, name: &str, out: &mut Vec<FnId>) {
        if let Ok(answers) = self.trait_answers.read() {
            if let Some(found) = answers.get(&(tr, name) as &dyn Pair) {
                out.extend_from_slice(found);
                return;
            }
        }
        let from = out.len();
        self.find_trait_methods(tr, name, out);
        if let Ok(mut answers) = self.trait_answers.write() {
            answers.insert(NamePair::new(tr, name), out[from..].into());
        }
    }

    /// [`Symbols::trait_methods`], found.
    fn find_trait_methods(&self, tr: &str, name: &str, out: &mut Vec<FnId>) {
        out.extend_from_slice(self.owned(tr, name));
        for ty in self.impls_of.get(tr.as_bytes()).into_iter().flatten() {
            let own = self.owned(ty, name);
            out.extend_from_slice(own);
            if own.is_empty() {
                for other in self.traits_of.get(ty.as_bytes()).into_iter().flatten() {
                    out.extend_from_slice(self.owned(other, name));
                }
            }
        }
    }

    /// What `t` is, seen from function `from`. `outside` says whether a path written in a
    /// function names something outside the tree through its imports (`use std::process::Command`
    /// makes `Command` std's even when the tree declares a `Command` of its own).
    pub fn type_of(&self, fns: &TreeFns, from: FnId, t: &TypeRef, outside: Outside<'_>) -> Ty {
        self.type_at(&Seen { fns, outside }, from, t, 0)
    }

    fn type_at(&self, seen: &Seen<'_>, from: FnId, t: &TypeRef, depth: usize) -> Ty {
        let fns = seen.fns;
        if depth > MAX_TYPE_DEPTH {
            return Ty::Unknown;
        }
        match t {
            TypeRef::Outside => Ty::Outside,
            TypeRef::Named(path) => match self.named_type(seen, from, path) {
                // `type ArcRepo = Arc<dyn UploadRepo>`: what the alias stands for, written in its
                // own scope.
                Ty::Tree(name) => match self.alias_of(&name) {
                    Some(target) => self.type_at(seen, usize::MAX, target, depth + 1),
                    None => Ty::Tree(name),
                },
                other => other,
            },
            // A generic with no bound where it is declared (`struct State<A> { auth: A }`,
            // bounded only on the handler) may be any type: not known, not outside.
            TypeRef::Bounds(bounds) if bounds.is_empty() => Ty::Unknown,
            TypeRef::Bounds(bounds) => {
                let tree: Vec<String> = bounds.iter().filter(|b| self.is_trait(b)).cloned().collect();
                if tree.is_empty() && bounds.iter().any(|b| b == "Future") {
                    // `-> impl Future<Output = …>` (ZKsync's `connection_tagged`): awaited, it is
                    // whatever the body yields, which the bounds do not say.
                    Ty::Unknown
                } else if tree.is_empty() {
                    Ty::Outside
                } else {
                    Ty::Traits(tree)
                }
            }
            TypeRef::Field(base, field) => {
                match self.type_at(seen, from, base, depth + 1) {
                    Ty::Tree(name) => {
                        let Some(declared) = self.fields.get(&(name.as_str(), field.as_str()) as &dyn Pair)
                        else {
                            return Ty::Unknown;
                        };
                        // A field's type is written in the struct's scope; `Self` there is the struct.
                        match declared {
                            TypeRef::Named(p) if p.len() == 1 && p[0] == "Self" => Ty::Tree(name),
                            other => self.type_at(seen, usize::MAX, other, depth + 1),
                        }
                    }
                    Ty::Outside => Ty::Outside,
                    _ => Ty::Unknown,
                }
            }
            TypeRef::Returns { callee, on } => self.returned(seen, from, callee, on.as_deref(), depth),
            TypeRef::Wrapped { wrapper, inner } => {
                // The tree's own generic struct named like a wrapper (`State<S>`), unless the
                // function imports the wrapper from elsewhere; else what it wraps.
                let own = wrapper.last().is_some_and(|w| self.defines_type(w))
                    && !fns.get(from).is_some_and(|f| (seen.outside)(from, f, wrapper));
                match wrapper.last() {
                    Some(w) if own => Ty::Tree(w.clone()),
                    _ => self.type_at(seen, from, inner, depth + 1),
                }
            }
        }
    }

    /// A named type: `Self` is the function's owner; a name the tree declares is the tree's.
    fn named_type(&self, seen: &Seen<'_>, id: FnId, path: &[String]) -> Ty {
        let Some(last) = path.last() else { return Ty::Unknown };
        let declared = self.declared.get(last.as_bytes());
        if declared.is_none() && last != "Self" {
            // Outside whatever the imports say: they are not asked.
            return Ty::Outside;
        }
        let from = seen.fns.get(id);
        if from.is_some_and(|f| (seen.outside)(id, f, path)) {
            return Ty::Outside;
        }
        if last == "Self" {
            return match from.and_then(|f| f.facts.owner.as_deref()) {
                Some(owner) if self.is_trait(owner) => Ty::Traits(vec![owner.to_string()]),
                Some(owner) => Ty::Tree(owner.to_string()),
                None => Ty::Unknown,
            };
        }
        match declared {
            Some(d) if d.is_trait => Ty::Traits(vec![last.clone()]),
            Some(_) => Ty::Tree(last.clone()),
            None => Ty::Outside,
        }
    }

    /// The type a call returns, when the callee is one function (or all candidates agree).
    fn returned(
        &self,
        seen: &Seen<'_>,
        from: FnId,
        callee: &[String],
        on: Option<&TypeRef>,
        depth: usize,
    ) -> Ty {
        let fns = seen.fns;
        let Some((name, qualifiers)) = callee.split_last() else { return Ty::Unknown };
        let candidates: Vec<FnId> = match on {
            Some(receiver) => {
                let ty = self.type_at(seen, from, receiver, depth + 1);
                if ty == Ty::Outside {
                    return Ty::Outside;
                }
                let found = self.methods_of(&ty, name);
                if found.is_empty() && is_self_deref(name) {
                    // `self.repo.lock()`, `state.clone()`: a guard or copy of the same value.
                    return ty;
                }
                found
            }
            None => match qualifiers.last() {
                Some(q) if q.starts_with(char::is_uppercase) => {
                    let ty = self.named_type(seen, from, qualifiers);
                    match &ty {
                        Ty::Outside => return Ty::Outside,
                        Ty::Tree(t) => {
                            let found = self.methods_of(&ty, name);
                            if found.is_empty() {
                                // `Repo::new(..)` with no body known: a constructor by convention.
                                return if is_constructor(name) { Ty::Tree(t.clone()) } else { Ty::Unknown };
                            }
                            found
                        }
                        _ => self.methods_of(&ty, name),
                    }
                }
                // `Repo(pool)`: a tuple struct.
                _ if name.starts_with(char::is_uppercase) => return self.named_type(seen, from, callee),
                _ => self.named(name).iter().copied().filter(|&id| fns[id].facts.owner.is_none()).collect(),
            },
        };
        let mut answer: Option<Ty> = None;
        for id in candidates {
            let Some(ret) = &fns[id].facts.sig.returns else { return Ty::Unknown };
            let ty = self.type_at(seen, id, ret, depth + 1);
            match &answer {
                Some(prev) if *prev != ty => return Ty::Unknown,
                _ => answer = Some(ty),
            }
        }
        answer.unwrap_or(Ty::Unknown)
    }
}

/// Appends `id` to the functions of `name`, making the name's key only when it is new.
fn push_at(map: &mut HashMap<Name, Ids>, name: &str, id: FnId) {
    match map.get_mut(name.as_bytes()) {
        Some(ids) => ids.push(id),
        None => {
            map.insert(Name::new(name), Ids::One(id));
        }
    }
}

/// The list of `name` in `map`, made empty when there is none.
fn list_at<'m>(map: &'m mut HashMap<Name, Vec<String>>, name: &str) -> &'m mut Vec<String> {
    map.entry(Name::new(name)).or_default()
}

/// std methods whose result derefs to (or is) the receiver's value: guards of `Mutex`,
/// `RwLock` and `RefCell`, `Deref`, `Clone`, `AsRef`. Language plumbing, not domain names.
fn is_self_deref(name: &str) -> bool {
    matches!(
        name,
        "lock"
            | "read"
            | "write"
            | "try_lock"
            | "borrow"
            | "borrow_mut"
            | "get_mut"
            | "deref"
            | "deref_mut"
            | "as_ref"
            | "as_mut"
            | "clone"
            | "to_owned"
    )
}

/// Names that by convention return `Self`.
fn is_constructor(name: &str) -> bool {
    matches!(name, "new" | "default" | "from" | "builder" | "build")
        || name.starts_with("with_")
        || name.starts_with("from_")
}
