//! Resolution by type on small hand-built trees: what a `TypeRef` is, and which bodies a call
//! runs.

use std::path::Path;
use std::sync::Arc;

use super::calls::{Answered, CallScope, Resolved, Typed};
use super::crates::CrateGraph;
use super::fns::TreeFns;
use super::imports::Imports;
use super::symbols::{Symbols, Ty};
use crate::analysis::facts::{FnFacts, SigFacts, SinkKind, TypeFacts, TypeRef};
use crate::source::TextRange;
use crate::writers::TreeFn;

fn named(p: &str) -> TypeRef {
    TypeRef::Named(p.split("::").map(String::from).collect())
}

/// `owner::name(params)` returning `returns`; `trait_of` for an `impl Trait for owner` method.
fn func(
    owner: Option<&str>,
    name: &str,
    arity: usize,
    returns: Option<TypeRef>,
    trait_of: Option<&str>,
) -> TreeFn {
    TreeFn {
        file: Path::new("src/lib.rs").into(),
        krate: None,
        module: Vec::new().into(),
        facts: FnFacts {
            name: name.into(),
            owner: owner.map(Arc::from),
            module: Vec::new(),
            range: TextRange::default(),
            analysed: true,
            has_body: true,
            params: Vec::new(),
            returns: Default::default(),
            sinks: Vec::new(),
            derived: Vec::new(),
            ro_bindings: 0,
            sig: SigFacts {
                trait_of: trait_of.map(Arc::from),
                arity,
                has_self: owner.is_some() && arity > 0,
                returns,
                ..SigFacts::default()
            },
        },
    }
}

fn tree() -> (TreeFns, Symbols) {
    let fns: TreeFns = vec![
        func(Some("Repo"), "new", 0, Some(named("Self")), None),
        func(Some("Repo"), "save", 2, None, None),
        func(Some("Bucket"), "save", 2, None, None),
        func(Some("Repo"), "store", 1, Some(named("crate::store::Store")), None),
        func(Some("Store"), "flush", 2, None, Some("Flush")),
        func(None, "handler", 1, None, None),
    ]
    .into();
    let types = [TypeFacts {
        name: "AppState".into(),
        module: Vec::new(),
        fields: vec![("repo".into(), named("Repo")), ("seen".into(), named("HashSet"))],
        alias: None,
    }];
    let symbols = Symbols::new(&fns, types, [("Store", "Flush")], ["Bucket", "Repo", "Store"]);
    (fns, symbols)
}

fn call(name: &str, args: usize, receiver: Option<TypeRef>) -> SinkKind {
    SinkKind::Call {
        callee: Arc::from([name.to_string()]),
        method: true,
        arg: 1,
        args,
        builder: None,
        receiver: receiver.map(Arc::new),
        flags: Default::default(),
    }
}

#[test]
fn types_come_from_constructors_fields_and_returns() {
    let (fns, symbols) = tree();
    let ty =
        |t: TypeRef| symbols.type_of(&fns, 5, &t, &|_, _, path| path.first().is_some_and(|p| p == "std"));
    let returns = |callee: &str, on: Option<TypeRef>| TypeRef::Returns {
        callee: callee.split("::").map(String::from).collect(),
        on: on.map(Arc::new),
    };
    assert_eq!(ty(returns("Repo::new", None)), Ty::Tree("Repo".into()), "`-> Self` of Repo");
    assert_eq!(ty(returns("Vec::new", None)), Ty::Outside);
    assert_eq!(ty(returns("Bucket", None)), Ty::Tree("Bucket".into()), "a tuple struct");
    assert_eq!(ty(returns("Bucket::with_capacity", None)), Ty::Tree("Bucket".into()), "a constructor");
    let state = named("AppState");
    assert_eq!(ty(TypeRef::Field(Arc::new(state.clone()), "repo".into())), Ty::Tree("Repo".into()));
    assert_eq!(ty(TypeRef::Field(Arc::new(state), "seen".into())), Ty::Outside);
    assert_eq!(ty(returns("store", Some(named("Repo")))), Ty::Tree("Store".into()), "a method's return");
    assert_eq!(ty(returns("make_thing", None)), Ty::Unknown);
    assert_eq!(ty(named("std::Repo")), Ty::Outside, "a path the imports place outside the tree");
    let guard = returns("lock", Some(TypeRef::Field(Arc::new(named("AppState")), "repo".into())));
    assert_eq!(ty(guard), Ty::Tree("Repo".into()), "a guard derefs to the value");
    assert_eq!(ty(TypeRef::Bounds(vec!["Flush".into(), "Send".into()])), Ty::Traits(vec!["Flush".into()]));
}

#[test]
fn method_calls_resolve_by_receiver_type_and_never_to_unrelated_bodies() {
    let (fns, symbols) = tree();
    let crates = CrateGraph::default();
    let imports = Imports::default();
    let scope = CallScope { fns: &fns, symbols: &symbols, crates: &crates, imports: &imports };
    assert_eq!(scope.resolve(5, &call("save", 1, Some(named("Repo")))), Resolved::Tree(vec![1]));
    assert_eq!(scope.resolve(5, &call("save", 1, Some(named("sea_orm::ActiveModel")))), Resolved::External);
    assert!(matches!(scope.resolve(5, &call("save", 1, None)), Resolved::Unresolved(_)), "two `save`s");
    assert_eq!(scope.resolve(5, &call("store", 0, None)), Resolved::Tree(vec![3]), "unique with its arity");
    assert_eq!(scope.resolve(5, &call("store", 2, None)), Resolved::External, "the arity does not fit");
    let flush = call("flush", 1, Some(TypeRef::Bounds(vec!["Flush".into()])));
    assert_eq!(scope.resolve(5, &flush), Resolved::Tree(vec![4]), "every impl of the bound");
}

#[test]
fn a_traits_methods_are_found_once_and_answered_alike_after() {
    // Two traits; `Flush` has two implementations and its own default `flush`.
    let fns: TreeFns = vec![
        func(Some("Store"), "flush", 1, None, Some("Flush")),
        func(Some("Flush"), "flush", 1, None, None),
        func(Some("Cache"), "flush", 1, None, Some("Flush")),
        func(Some("Cache"), "close", 1, None, Some("Close")),
        func(Some("Close"), "flush", 1, None, None),
    ]
    .into();
    let impls = [("Store", "Flush"), ("Cache", "Flush"), ("Cache", "Close")];
    let symbols = Symbols::new(&fns, Vec::new(), impls, ["Store", "Cache", "Flush", "Close"]);
    let flush = Ty::Traits(vec!["Flush".into()]);
    let first = symbols.methods_of(&flush, "flush");
    assert_eq!(first, [0, 1, 2], "the default and both implementations");
    assert_eq!(symbols.methods_of(&flush, "flush"), first, "answered again from what was found");
    // `Close`'s default and `Cache::flush` (Cache implements Close, and its methods are its own).
    assert_eq!(symbols.methods_of(&Ty::Traits(vec!["Close".into()]), "flush"), [2, 4], "another trait's");
    assert_eq!(
        symbols.methods_of(&Ty::Traits(vec!["Flush".into()]), "close"),
        [3],
        "Cache has none: its traits'"
    );
    let both = Ty::Traits(vec!["Flush".into(), "Close".into()]);
    assert_eq!(symbols.methods_of(&both, "flush"), [0, 1, 2, 4], "both traits, once each");
}

#[test]
fn globs_that_import_each_other_end_and_re_exports_are_followed() {
    use crate::analysis::facts::ImportFacts;
    let glob = |path: &str| ImportFacts {
        module: Vec::new(),
        alias: String::new(),
        path: path.split("::").map(String::from).collect(),
        glob: true,
        public: true,
    };
    let mut fns = vec![func(None, "caller", 0, None, None), func(None, "purge", 1, None, None)];
    fns[0].module = vec!["a".into()].into();
    fns[1].module = vec!["c".into()].into();
    let fns: TreeFns = fns.into();
    let symbols = Symbols::new(&fns, Vec::new(), [], []);
    let mut imports = Imports::default();
    imports.add(None, &["a".to_string()], vec![glob("crate::b")]);
    imports.add(None, &["b".to_string()], vec![glob("crate::a"), glob("crate::c")]);
    let crates = CrateGraph::default();
    let scope = CallScope { fns: &fns, symbols: &symbols, crates: &crates, imports: &imports };
    let free = |name: &str| SinkKind::Call {
        callee: Arc::from([name.to_string()]),
        method: false,
        arg: 0,
        args: 1,
        builder: None,
        receiver: None,
        flags: Default::default(),
    };
    assert_eq!(scope.resolve(0, &free("purge")), Resolved::Tree(vec![1]), "a -> b (glob) -> c (glob)");
    assert_eq!(scope.resolve(0, &free("nowhere")), Resolved::External, "a <-> b ends");
}

#[test]
fn functions_are_numbered_across_files_in_file_order() {
    let mut fns = TreeFns::default();
    assert_eq!(
        fns.push_file(vec![func(None, "a", 0, None, None), func(None, "b", 0, None, None)]),
        vec![0, 1]
    );
    assert_eq!(fns.push_file(Vec::new()), Vec::<usize>::new());
    assert_eq!(fns.push_file(vec![func(None, "c", 0, None, None)]), vec![2]);
    let names: Vec<&str> = fns.iter().map(|f| f.facts.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!((fns.len(), fns[2].facts.name.as_str()), (3, "c"));
    assert!(fns.get(3).is_none());
    use rayon::prelude::*;
    let mut on_the_pool: Vec<(usize, String)> =
        fns.par_iter_mut().map(|(id, f)| (id, f.facts.name.clone())).collect();
    on_the_pool.sort();
    assert_eq!(on_the_pool, [(0, "a".to_string()), (1, "b".into()), (2, "c".into())]);
}

#[test]
fn a_call_is_resolved_once_for_all_its_sinks_and_a_different_call_again() {
    let asked = std::cell::Cell::new(0);
    let resolve = || {
        asked.set(asked.get() + 1);
        Resolved::Tree(vec![1])
    };
    let receiver = Arc::new(named("Repo"));
    let sink = |arg: usize, receiver: &Arc<TypeRef>| SinkKind::Call {
        callee: Arc::from(["save".to_string()]),
        method: true,
        arg,
        args: 2,
        builder: None,
        receiver: Some(Arc::clone(receiver)),
        flags: Default::default(),
    };
    let (first, second) = (sink(0, &receiver), sink(2, &receiver));
    let other_receiver = sink(0, &Arc::new(named("Bucket")));
    let same_receiver_copied = sink(1, &Arc::new(named("Repo")));
    let mut answered = Answered::default();
    assert_eq!(answered.answer(&first, resolve), Resolved::Tree(vec![1]));
    assert_eq!(answered.answer(&second, resolve), Resolved::Tree(vec![1]));
    assert_eq!(asked.get(), 1, "the second argument of one call is not resolved again");
    answered.answer(&other_receiver, resolve);
    assert_eq!(asked.get(), 2, "another receiver type is another call");
    answered.answer(&same_receiver_copied, resolve);
    assert_eq!(asked.get(), 2, "an equal receiver type, not shared, is the same call");
    let sql = SinkKind::RunsText { text: 0 };
    answered.answer(&sql, || Resolved::External);
    answered.answer(&sql, resolve);
    assert_eq!(asked.get(), 3, "only calls are remembered");
}

#[test]
fn a_receiver_is_typed_once_for_all_its_calls_and_an_equal_one_elsewhere_again() {
    let typed_times = std::cell::Cell::new(0);
    let type_of = || {
        typed_times.set(typed_times.get() + 1);
        Ty::Tree("Repo".into())
    };
    let (receiver, elsewhere) = (Arc::new(named("Repo")), Arc::new(named("Repo")));
    let mut typed = Typed::default();
    assert_eq!(typed.ty(&receiver, type_of), Ty::Tree("Repo".into()));
    assert_eq!(typed.ty(&receiver, type_of), Ty::Tree("Repo".into()));
    assert_eq!(typed_times.get(), 1, "one receiver, typed once");
    typed.ty(&elsewhere, type_of);
    assert_eq!(typed_times.get(), 2, "known by where it is: an equal type elsewhere is typed again");
}

#[test]
fn imports_placed_per_function_answer_as_the_module_lookup_does() {
    use crate::analysis::facts::ImportFacts;
    let mut fns = vec![func(None, "spawn", 0, None, None), func(None, "other", 0, None, None)];
    fns[0].module = vec!["jobs".into()].into();
    let fns: TreeFns = fns.into();
    let symbols = Symbols::new(&fns, Vec::new(), [], ["Command"]);
    let mut imports = Imports::default();
    let import = ImportFacts {
        module: Vec::new(),
        alias: "Command".into(),
        path: ["tokio", "process", "Command"].iter().map(|s| s.to_string()).collect(),
        glob: false,
        public: false,
    };
    imports.add(None, &["jobs".to_string()], vec![import]);
    let crates = CrateGraph::default();
    let command = named("Command");
    let types = |imports: &Imports| {
        let scope = CallScope { fns: &fns, symbols: &symbols, crates: &crates, imports };
        (scope.type_of(0, &command), scope.type_of(1, &command))
    };
    let expected = (Ty::Outside, Ty::Tree("Command".into()));
    assert_eq!(types(&imports), expected, "looked up by module");
    imports.place(&fns);
    assert_eq!(types(&imports), expected, "looked up by the function's placement");
}
