//! From one parsed file to owned [`FileFacts`].
//!
//! Walks the items of a file (free functions, `impl` and trait methods with default bodies,
//! inline modules, consts and statics), runs the flow analysis of [`bindings`] on the bodies
//! that can matter, and keeps what it finds as owned data. Nothing returned refers to syn or
//! holds a span: the caller releases the thread's span table right after.

pub mod bindings;
pub mod facts;
pub mod imports;
pub mod macro_code;
pub mod names;
pub(crate) mod spans;
pub(crate) mod syntax_text;
pub mod types;

use std::path::Path;

use syn::{ImplItem, Item, TraitItem};

use self::bindings::{EnvRoom, FileScope, FnAnalysis};
use self::facts::{ConstFacts, DeferredFn, FileFacts, FnFacts, ImplFacts, SigFacts, Taint, TypeFacts};
use self::names::Names;
pub(crate) use self::spans::span_range;
use self::types::TypeScope;
use crate::source::{SourceText, TextRange};

/// Decides which function bodies are worth analysing, by their text.
pub trait Screen {
    /// Whether a function whose source text is `text` can matter.
    fn wants(&self, text: &str) -> bool;

    /// Whether the function `name` with source text `text` can matter (by default: by its
    /// text).
    fn wants_fn(&self, name: &str, text: &str) -> bool {
        let _ = name;
        self.wants(text)
    }
}

impl<F: Fn(&str) -> bool> Screen for F {
    fn wants(&self, text: &str) -> bool {
        self(text)
    }
}

/// Analyses every item of `file`, the file at `path` (which tells its crate and module).
pub fn analyse_file(
    names: &Names,
    path: &Path,
    src: &SourceText,
    file: &syn::File,
    screen: &dyn Screen,
) -> FileFacts {
    let imports = imports::imports_of(&file.items);
    let mut scope = FileScope::of(&file.items, &imports, names, path);
    let walk = |scope: &FileScope| {
        let mut walker = Walker {
            names,
            src,
            screen,
            module: Vec::new(),
            facts: FileFacts::default(),
            scope,
            returning_builders: Vec::new(),
            room: EnvRoom::default(),
        };
        walker.items(&file.items);
        (walker.facts, walker.returning_builders)
    };
    let (mut facts, builder_fns) = walk(&scope);
    if !builder_fns.is_empty() {
        // Functions of this file return write builders: once more, with their calls as
        // builders (`mark_paid_stmt(id).execute(&mut conn)`). Helpers in other files need the
        // index.
        scope.builder_fns = builder_fns;
        facts = walk(&scope).0;
    }
    // The module's imports first, then those of bodies (rarely any: no copy then).
    let body_imports = std::mem::replace(&mut facts.imports, imports);
    facts.imports.extend(body_imports);
    facts::release_shared();
    // Kept for the whole run: no room left to grow into.
    facts.functions.shrink_to_fit();
    facts.types.shrink_to_fit();
    facts.imports.shrink_to_fit();
    facts.deferred.shrink_to_fit();
    facts
}

/// What an `impl` or trait tells its functions.
#[derive(Default)]
struct Context {
    trait_of: Option<String>,
    in_trait: bool,
    generics: Vec<(String, Vec<String>)>,
}

struct Walker<'a> {
    names: &'a Names,
    src: &'a SourceText,
    screen: &'a dyn Screen,
    module: Vec<String>,
    facts: FileFacts,
    /// What the file says to the analysis of each function.
    scope: &'a FileScope,
    /// The functions this walk found returning a write builder.
    returning_builders: Vec<(String, String)>,
    /// The room of the bindings of the function analysed last.
    room: EnvRoom,
}

impl<'a> Walker<'a> {
    fn items(&mut self, items: &[Item]) {
        for item in items {
            self.item(item);
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Fn(f) => self.function(None, &f.sig, Some(&f.block), &Context::default()),
            Item::Impl(imp) => {
                let owner = type_name(&imp.self_ty);
                let trait_of = imp
                    .trait_
                    .as_ref()
                    .and_then(|(_, path, _)| path.segments.last())
                    .map(|s| s.ident.to_string());
                if let (Some(self_ty), Some(trait_name)) = (&owner, &trait_of) {
                    self.facts
                        .impls
                        .push(ImplFacts { self_ty: self_ty.clone(), trait_name: trait_name.clone() });
                }
                let mut context = Context { trait_of, ..Context::default() };
                types::generics_of(&imp.generics, &mut context.generics);
                for it in &imp.items {
                    match it {
                        ImplItem::Fn(f) => self.function(owner.clone(), &f.sig, Some(&f.block), &context),
                        ImplItem::Const(c) => self.constant(owner.clone(), &c.ident, &c.expr),
                        _ => {}
                    }
                }
            }
            Item::Trait(tr) => {
                let owner = Some(tr.ident.to_string());
                self.push_type(&tr.ident, None);
                let mut context = Context { in_trait: true, ..Context::default() };
                types::generics_of(&tr.generics, &mut context.generics);
                for it in &tr.items {
                    match it {
                        TraitItem::Fn(f) => {
                            self.function(owner.clone(), &f.sig, f.default.as_ref(), &context)
                        }
                        TraitItem::Const(c) => {
                            if let Some((_, expr)) = &c.default {
                                self.constant(owner.clone(), &c.ident, expr);
                            }
                        }
                        _ => {}
                    }
                }
            }
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    self.module.push(m.ident.to_string());
                    self.items(items);
                    self.module.pop();
                } else if let Some(path) = m.attrs.iter().find_map(path_attribute) {
                    let mut module = self.module.clone();
                    module.push(m.ident.to_string());
                    self.facts.path_mods.push((module, path));
                }
            }
            Item::Const(c) => self.constant(None, &c.ident, &c.expr),
            Item::Static(s) => self.constant(None, &s.ident, &s.expr),
            Item::Struct(st) => self.push_type(&st.ident, Some((&st.fields, &st.generics))),
            Item::Enum(e) => self.push_type(&e.ident, None),
            Item::Union(u) => self.push_type(&u.ident, None),
            Item::Type(t) => {
                self.push_type(&t.ident, None);
                let mut params = Vec::new();
                types::generics_of(&t.generics, &mut params);
                let scope = TypeScope { wrappers: &self.names.wrapper_types, generics: &params };
                if let Some(last) = self.facts.types.last_mut() {
                    last.alias = types::type_ref(&t.ty, scope);
                }
            }
            _ => {}
        }
    }

    /// Records a type of the tree, with its fields' types.
    fn push_type(&mut self, ident: &syn::Ident, fields: Option<(&syn::Fields, &syn::Generics)>) {
        let fields = fields.map_or_else(Vec::new, |(fields, generics)| {
            let mut params = Vec::new();
            types::generics_of(generics, &mut params);
            types::fields_of(fields, TypeScope { wrappers: &self.names.wrapper_types, generics: &params })
        });
        self.facts.types.push(TypeFacts {
            name: ident.to_string(),
            module: self.module.clone(),
            fields,
            alias: None,
        });
    }

    fn function(
        &mut self,
        owner: Option<String>,
        sig: &syn::Signature,
        body: Option<&syn::Block>,
        context: &Context,
    ) {
        // From `fn` to the closing brace, from the two tokens' spans: `Spanned::span()` on an
        // item would turn the whole item back into tokens.
        let start = spans::parser_start(self.src, sig.fn_token.span);
        let end = body.map_or(start, |b| spans::parser_end(self.src, b.brace_token.span.close()));
        let text = self.src.parser_text().get(start..end).unwrap_or("");
        let range = self.range(sig.ident.span());
        let mut facts = FnFacts {
            name: sig.ident.to_string(),
            owner: owner.as_deref().map(facts::shared_label),
            module: self.module.clone(),
            range,
            analysed: false,
            has_body: body.is_some(),
            params: Vec::new(),
            returns: Taint::NONE,
            sinks: Vec::new(),
            derived: Vec::new(),
            ro_bindings: 0,
            sig: SigFacts {
                trait_of: context.trait_of.as_deref().map(facts::shared_label),
                in_trait: context.in_trait,
                arity: sig.inputs.len(),
                has_self: sig.receiver().is_some(),
                returns: None,
                generics: context.generics.clone(),
            },
        };
        types::generics_of(&sig.generics, &mut facts.sig.generics);
        if let syn::ReturnType::Type(_, ty) = &sig.output {
            let scope = TypeScope { wrappers: &self.names.wrapper_types, generics: &facts.sig.generics };
            facts.sig.returns = types::return_type_ref(ty, scope);
        }
        if let Some(body) = body {
            // `use` items at the top of a body: kept with the module's imports (they name
            // the same things for the calls of this body; other bodies rarely reuse the name).
            self.facts.imports.extend(imports::body_imports(&body.stmts, &self.module));
            // Methods of a handle type hold a handle in `self`, though their text may not name it.
            let handle_owner = facts
                .owner
                .as_deref()
                .is_some_and(|o| self.names.ro_types.matches_name(o) || self.names.rw_types.matches_name(o));
            let selected =
                handle_owner || self.screen.wants_fn(&facts.name, text) || self.scope.names_handle_fn(text);
            // Whether it may return a write builder matters only to a body not selected (a
            // selected one notes what it returns anyway): its text is searched only then.
            let builder = !selected && self.may_return_builder(sig, text);
            // Every body is analysed while its tree is at hand; one no screen selected is
            // deferred, so that wanting it later costs no second parse.
            let room = std::mem::take(&mut self.room);
            let analysis = self.analysis(facts.owner.as_deref(), &facts.sig.generics).in_room(room);
            let body_facts = analysis.function(sig, body);
            self.room = body_facts.room;
            if selected || builder {
                // Its callers may execute the write builder it returns.
                self.note_builder(sig, body_facts.returns_builder.as_deref());
            }
            if selected {
                facts.analysed = true;
                facts.params = body_facts.params;
                facts.returns = body_facts.returns;
                facts.sinks = body_facts.sinks;
                facts.derived = body_facts.derived;
                facts.ro_bindings = body_facts.ro_bindings;
            } else {
                self.facts.deferred.push(DeferredFn {
                    index: self.facts.functions.len(),
                    params: body_facts.params,
                    returns: body_facts.returns,
                    sinks: body_facts.sinks,
                    derived: body_facts.derived,
                    ro_bindings: body_facts.ro_bindings,
                });
            }
        }
        self.facts.functions.push(facts);
    }

    fn analysis<'b>(&'b self, owner: Option<&str>, generics: &'b [(String, Vec<String>)]) -> FnAnalysis<'b> {
        FnAnalysis::new(self.names, self.src).with_owner(owner).with_scope(self.scope).with_generics(generics)
    }

    /// Whether a function declares a result and its text names a write builder.
    fn may_return_builder(&self, sig: &syn::Signature, text: &str) -> bool {
        matches!(sig.output, syn::ReturnType::Type(..)) && self.names.may_name_a_write_builder(text)
    }

    fn note_builder(&mut self, sig: &syn::Signature, builder: Option<&str>) {
        if let Some(builder) = builder {
            self.returning_builders.push((sig.ident.to_string(), builder.to_string()));
        }
    }

    fn constant(&mut self, owner: Option<String>, ident: &syn::Ident, expr: &syn::Expr) {
        if let Some(text) = FnAnalysis::new(self.names, self.src).with_scope(self.scope).const_text(expr) {
            self.facts.consts.push(ConstFacts {
                name: ident.to_string(),
                module: self.module.clone(),
                owner,
                text,
            });
        }
    }

    fn range(&self, span: proc_macro2::Span) -> TextRange {
        span_range(self.src, span)
    }
}

/// The file a `#[path = "…"]` attribute names.
fn path_attribute(attr: &syn::Attribute) -> Option<String> {
    let syn::Meta::NameValue(nv) = &attr.meta else { return None };
    if !nv.path.is_ident("path") {
        return None;
    }
    match &nv.value {
        syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
        _ => None,
    }
}

/// The last segment of an `impl`'s self type (`impl Repo`, `impl<'a> Store<'a>`, `impl Crud for
/// Post` -> `Post`). Also used by migrate's route extraction for handler owners.
pub(crate) fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        syn::Type::Reference(r) => type_name(&r.elem),
        syn::Type::Paren(p) => type_name(&p.elem),
        syn::Type::Group(g) => type_name(&g.elem),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RuleSet;

    /// Selects the bodies whose text names `get_db_ro` (the others are deferred).
    struct ByText;

    impl Screen for ByText {
        fn wants(&self, text: &str) -> bool {
            text.contains("get_db_ro")
        }
    }

    fn analyse(text: &str, screen: &ByText) -> FileFacts {
        let names = Names::new(&RuleSet::builtin(std::path::Path::new(".")));
        let src = SourceText::new(text.to_string());
        let tree = syn::parse_file(text).expect("parses");
        let facts = analyse_file(&names, Path::new("src/lib.rs"), &src, &tree, screen);
        crate::parse::release_spans();
        facts
    }

    const FILE: &str = "fn handler(state: &State) { let db = state.get_db_ro(); save(&db); }\n\
                        fn save(db: &Db) { db.execute(\"DELETE FROM t\", &[]); }\n";

    #[test]
    fn unselected_bodies_are_deferred_with_the_facts_a_selected_analysis_gives() {
        let deferring = analyse(FILE, &ByText);
        assert!(deferring.functions[0].analysed && !deferring.functions[1].analysed);
        assert_eq!(deferring.deferred.len(), 1);
        assert_eq!(deferring.deferred[0].index, 1);
        // Promoted, `save` has exactly the facts of an analysis that selected it.
        let mut promoted = deferring.clone();
        assert_eq!(promoted.promote(|name| name == "save"), 1);
        let selected = analyse_file(
            &Names::new(&RuleSet::builtin(std::path::Path::new("."))),
            Path::new("src/lib.rs"),
            &SourceText::new(FILE.to_string()),
            &syn::parse_file(FILE).expect("parses"),
            &|_: &str| true,
        );
        crate::parse::release_spans();
        let (p, s) = (&promoted.functions[1], &selected.functions[1]);
        assert!(p.analysed && s.analysed);
        assert_eq!(
            (&p.params, p.returns, &p.sinks, p.ro_bindings),
            (&s.params, s.returns, &s.sinks, s.ro_bindings)
        );
        assert_eq!(p.sinks.len(), 1, "the DELETE on the parameter");
        assert!(promoted.deferred.is_empty());
    }
}
