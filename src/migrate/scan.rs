//! What a parsed file yields for `migrate`, besides its routes: every use of a handle name
//! (read-write accessor calls, methods and fields; read-write types in signatures, patterns and
//! annotations; read-only ones too, to tell `already-ro`; inside macro bodies too, as far as
//! [`MacroCode`] parses them for the interpreter), each function's read-write-typed
//! parameters, the `impl Deref` of types (for deref coercion of a twin), and the
//! `allow(migrate)` opt-out comments.
//!
//! Runs on the worker that parsed the file; keeps no span (byte offsets in the file as on
//! disk, through [`span_range`]), so the span table can be released right after.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use proc_macro2::Span;
use syn::visit::{self, Visit};

use crate::analysis::macro_code::{MacroCode, MacroGroup, MacroPart};
use crate::analysis::names::{within_file, HandleAlias};
use crate::analysis::span_range;
use crate::config::RuleSet;
use crate::source::{SourceText, TextRange};
use crate::workspace::location::{locate, ModuleLocation};

/// The rule set's names as `migrate` matches them (by the last segment of a path, or a method
/// or field name).
#[derive(Debug, Clone, Default)]
pub struct MigrateNames {
    /// Read-write accessors → their read-only twin (`None`: no twin in `[accessors.migrate]`).
    pub rw_accessors: BTreeMap<String, Option<String>>,
    /// Read-write types → their read-only twin.
    pub rw_types: BTreeMap<String, Option<String>>,
    /// Read-only accessors.
    pub ro_accessors: Vec<String>,
    /// Read-only types.
    pub ro_types: Vec<String>,
    /// Type aliases the tree declares for handle types (`pub type Replica = DbRo;`), found by
    /// the first pass ([`crate::workspace::discovered::handle_aliases`]).
    pub type_aliases: Vec<HandleAlias>,
    /// Where the tree declares or re-exports names, as learnt while planning with these names
    /// (one run's planning shares it).
    pub homes: std::sync::Arc<super::reexports::Homes>,
}

fn last_segment(name: &str) -> String {
    name.rsplit("::").next().unwrap_or(name).to_string()
}

impl MigrateNames {
    /// From the rule set.
    pub fn new(rules: &RuleSet) -> MigrateNames {
        let map = |list: &[String], twins: &BTreeMap<String, String>| {
            list.iter()
                .map(|rw| {
                    let twin =
                        twins.get(rw).or_else(|| twins.get(&last_segment(rw))).map(|t| last_segment(t));
                    (last_segment(rw), twin)
                })
                .collect::<BTreeMap<_, _>>()
        };
        let mut rw_accessors = map(&rules.accessors.read_write, &rules.accessors.migrate);
        let mut rw_types = map(&rules.types.read_write, &rules.types.migrate);
        // A map entry names a read-write name even when the list leaves it out.
        for (rw, ro) in &rules.accessors.migrate {
            rw_accessors.entry(last_segment(rw)).or_insert_with(|| Some(last_segment(ro)));
        }
        for (rw, ro) in &rules.types.migrate {
            rw_types.entry(last_segment(rw)).or_insert_with(|| Some(last_segment(ro)));
        }
        MigrateNames {
            rw_accessors,
            rw_types,
            ro_accessors: rules.accessors.read_only.iter().map(|n| last_segment(n)).collect(),
            ro_types: rules.types.read_only.iter().map(|n| last_segment(n)).collect(),
            type_aliases: Vec::new(),
            homes: Default::default(),
        }
    }

    /// The accessor `ident` names (as written), and whether it is read-write; compared in
    /// place, with no string made for the many identifiers that name none.
    fn accessor(&self, ident: &syn::Ident) -> Option<(&String, bool)> {
        let rw = self.rw_accessors.keys().find(|n| ident == *n).map(|n| (n, true));
        rw.or_else(|| self.ro_accessors.iter().find(|n| ident == *n).map(|n| (n, false)))
    }

    /// The handle type `ident` names, and whether it is read-write (as [`Self::accessor`]).
    fn handle_type(&self, ident: &syn::Ident) -> Option<(&String, bool)> {
        let rw = self.rw_types.keys().find(|n| ident == *n).map(|n| (n, true));
        rw.or_else(|| self.ro_types.iter().find(|n| ident == *n).map(|n| (n, false)))
    }

    /// Every name, for the text screen.
    pub fn words(&self) -> Vec<&str> {
        self.rw_accessors
            .keys()
            .chain(self.rw_types.keys())
            .chain(&self.ro_accessors)
            .chain(&self.ro_types)
            .map(String::as_str)
            .chain(self.type_aliases.iter().map(|alias| alias.name.as_str()))
            .collect()
    }
}

/// How a handle name is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum UseKind {
    /// A function call; `bare` when called by its name alone (`get_db()`), so the twin must be
    /// in scope by a `use` or a definition.
    Call {
        /// Called by a single-segment path.
        bare: bool,
    },
    /// A method call (`state.get_db()`).
    Method,
    /// A field (`state.db`).
    Field,
    /// A field of a struct pattern (`let State(AppState { db, .. }) = state;`); `shorthand`
    /// when the field names its binding too (the twin then binds it: `db_ro: db`).
    PatField {
        /// Written `db`, not `db: binding`.
        shorthand: bool,
    },
    /// A type (or a tuple-struct pattern of it); `bare` as for calls.
    Type {
        /// Named by a single-segment path.
        bare: bool,
    },
    /// A call of an accessor, or a type, by the alias a `use` gave it (`use crate::db::get_db
    /// as primary;` … `primary()`, `use crate::db::DbRw as Primary;` … `db: Primary`): the name
    /// is the accessor's or the type's; the rewrite would have to change the alias, which
    /// migrate does not.
    Alias,
    /// A type alias the tree declares for a handle type (`pub type Replica = DbRo;` …
    /// `replica: Replica`): the name is the alias's. Its declaration, not its uses, names the
    /// handle type, and migrate does not rewrite it.
    TypeAlias,
}

/// One use of a handle name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameUse {
    /// The name token.
    pub range: TextRange,
    /// The name.
    pub name: String,
    /// How it is used.
    pub kind: UseKind,
    /// Read-write (`true`) or read-only.
    pub rw: bool,
    /// For a type named by a path of several segments (`store::db::DbRw`), the path before
    /// the name: the rewrite may have to name the twin by another path.
    pub qualifier: Option<Qualifier>,
    /// For a type alias named under the name a `use` gives it (`use crate::db::Primary as
    /// Writer;` … `db: Writer`): that name, as written.
    pub written: Option<String>,
}

/// The path before a qualified type's name (`store::db` of `store::db::DbRw`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qualifier {
    /// Where the path starts (its first segment or its leading `::`), as a byte offset.
    pub start: u32,
    /// Its segments.
    pub segments: Vec<String>,
}

/// A function's parameters typed with a read-write type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnParams {
    /// The function's name token (as [`crate::analysis::facts::FnFacts::range`]).
    pub name_range: TextRange,
    /// Bit i: parameter i (`self` is 0) mentions a read-write type.
    pub rw_typed: u64,
    /// Parameters typed as a plain reference to a read-write type (`pool: &PgPool`), with that
    /// type: deref coercion lets a twin that derefs to it stand in.
    pub by_ref: Vec<(usize, String)>,
}

/// What a file yields for `migrate`.
#[derive(Debug, Clone, Default)]
pub struct FileScan {
    /// Every handle-name use outside `use` items (macro bodies in expressions and statements
    /// included, as far as they are code), in source order.
    pub uses: Vec<NameUse>,
    /// Every function with a read-write-typed parameter.
    pub fns: Vec<FnParams>,
    /// Lines of `// ro-audit: allow(migrate) reason` comments.
    pub opt_outs: Vec<u32>,
    /// `impl Deref for Twin { type Target = Type; }`: (`Twin`, `Type`), by last segment.
    pub derefs: Vec<(String, String)>,
}

/// The read-write-typed parameters of `params` that the read-only twin cannot stand in for:
/// all of them, except a `&Type` parameter whose twin derefs to `Type` in the tree (one of
/// `derefs`, as in [`FileScan::derefs`]) — there deref coercion makes the rewrite compile.
pub fn blocking_params(params: &FnParams, names: &MigrateNames, derefs: &[(String, String)]) -> u64 {
    let mut bits = params.rw_typed;
    for (i, rw) in &params.by_ref {
        let Some(Some(twin)) = names.rw_types.get(rw) else { continue };
        if derefs.iter().any(|(from, to)| from == twin && to == rw) {
            bits &= !(1u64 << i);
        }
    }
    bits
}

/// Scans a parsed file, the file at `path` (which tells its crate and module).
pub fn scan(names: &MigrateNames, path: &Path, src: &SourceText, file: &syn::File) -> FileScan {
    let site = locate(path);
    let mut aliases = Aliases {
        names,
        file_depth: site.module.len(),
        site,
        found: Vec::new(),
        bound: HashSet::new(),
        foreign: HashSet::new(),
        brought: Vec::new(),
    };
    aliases.visit_file(file);
    let mut v = Visitor {
        names,
        src,
        aliases: aliases.found,
        bound: aliases.bound,
        foreign: aliases.foreign,
        brought_type_aliases: aliases.brought,
        out: FileScan::default(),
    };
    v.visit_file(file);
    v.out.uses.sort_by_key(|u| u.range.start.offset);
    v.out.opt_outs = opt_out_lines(&src.text);
    v.out
}

/// Lines of the comments that say `ro-audit: allow(…migrate…)`.
pub fn opt_out_lines(text: &str) -> Vec<u32> {
    if !text.contains(crate::suppress::MARKER) {
        return Vec::new();
    }
    crate::suppress::comments(text)
        .into_iter()
        .filter(|&(start, end)| is_migrate_opt_out(&text[start..end]))
        .map(|(start, _)| text[..start].matches('\n').count() as u32 + 1)
        .collect()
}

fn is_migrate_opt_out(comment: &str) -> bool {
    let Some(at) = comment.find(crate::suppress::MARKER) else { return false };
    let rest = comment[at + crate::suppress::MARKER.len()..].trim_start();
    let Some(rest) = rest.strip_prefix("allow") else { return false };
    let Some(rest) = rest.trim_start().strip_prefix('(') else { return false };
    let Some(close) = rest.find(')') else { return false };
    rest[..close].split(',').any(|r| r.trim() == "migrate")
}

struct Visitor<'a> {
    names: &'a MigrateNames,
    src: &'a SourceText,
    /// Aliases the file's `use` items give accessors and handle types.
    aliases: Vec<Alias>,
    /// The names the file's `use` items and `mod` items bind, anywhere in it.
    bound: HashSet<String>,
    /// Type aliases of handle types whose name the file gives another type ([`Aliases::foreign`]).
    foreign: HashSet<String>,
    /// Type aliases of handle types the file's `use` items bring ([`Aliases::brought`]).
    brought_type_aliases: Vec<(String, usize)>,
    out: FileScan,
}

/// A name a `use` item gives an accessor or a handle type.
struct Alias {
    alias: String,
    /// The accessor's or the type's name.
    name: String,
    rw: bool,
    /// A handle type (else an accessor).
    is_type: bool,
}

/// The accessors and handle types a file's `use` items (anywhere in it) import under another
/// name.
struct Aliases<'a> {
    names: &'a MigrateNames,
    /// The module the visit is in (the file's, then its inline modules').
    site: ModuleLocation,
    /// How deep the file's own module is (the inline modules are below it).
    file_depth: usize,
    found: Vec<Alias>,
    /// Every name a `use` or a `mod` item binds.
    bound: HashSet<String>,
    /// The tree's type aliases of handle types ([`MigrateNames::type_aliases`]) whose name the
    /// file gives another type too: a type of its own of that name, or one imported through a
    /// module that neither declares nor re-exports the alias (`use archive::Replica;`).
    foreign: HashSet<String>,
    /// The tree's type aliases of handle types a `use` brings, by the name it gives them (`use
    /// crate::db::Replica;`: `Replica`, `use crate::db::Replica as R;`: `R`), as indices into
    /// [`MigrateNames::type_aliases`] (crates of a workspace may each declare one of a name).
    brought: Vec<(String, usize)>,
}

impl Aliases<'_> {
    /// Notes a type of the file's own named `ident` (not the alias's declaration).
    fn declares(&mut self, ident: &syn::Ident) {
        if let Some(alias) = self.names.type_aliases.iter().find(|a| *ident == a.name) {
            self.foreign.insert(alias.name.clone());
        }
    }

    /// Notes the type aliases a use tree imports from a module that does not bring them.
    fn imports(&mut self, tree: &syn::UseTree, prefix: &mut Vec<String>) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.imports(&p.tree, prefix);
                prefix.pop();
            }
            syn::UseTree::Name(n) => match self.imported(&n.ident, prefix) {
                Some(Ok(at)) => self.brought.push((n.ident.to_string(), at)),
                Some(Err(())) => {
                    self.foreign.insert(n.ident.to_string());
                }
                None => {}
            },
            syn::UseTree::Rename(r) => {
                if let Some(Ok(at)) = self.imported(&r.ident, prefix) {
                    self.brought.push((r.rename.to_string(), at));
                }
            }
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| self.imports(t, prefix)),
            syn::UseTree::Glob(_) => {}
        }
    }

    /// When `ident` is the name of type aliases of handle types: the one (by index) a `use`
    /// of module path `prefix` brings, or `Err` when the path brings none (it names another
    /// type of that name). A path to an item of this file (`use super::Replica;` in an inline
    /// module) is taken as naming what the file names.
    fn imported(&self, ident: &syn::Ident, prefix: &[String]) -> Option<Result<usize, ()>> {
        let own = within_file(prefix, self.site.module.len() - self.file_depth);
        let mut named =
            self.names.type_aliases.iter().enumerate().filter(|(_, a)| *ident == a.name).peekable();
        named.peek()?;
        let mut brings = named.filter(|(_, a)| own || a.reached_through(prefix, &self.site));
        Some(brings.next().map(|(at, _)| at).ok_or(()))
    }
}

impl<'ast> Visit<'ast> for Aliases<'_> {
    fn visit_item_struct(&mut self, item: &'ast syn::ItemStruct) {
        self.declares(&item.ident);
        visit::visit_item_struct(self, item);
    }

    fn visit_item_enum(&mut self, item: &'ast syn::ItemEnum) {
        self.declares(&item.ident);
        visit::visit_item_enum(self, item);
    }

    fn visit_item_union(&mut self, item: &'ast syn::ItemUnion) {
        self.declares(&item.ident);
        visit::visit_item_union(self, item);
    }

    fn visit_item_trait(&mut self, item: &'ast syn::ItemTrait) {
        self.declares(&item.ident);
        visit::visit_item_trait(self, item);
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if !self.names.type_aliases.is_empty() {
            self.imports(&item.tree, &mut Vec::new());
        }
        /// The names a use tree binds (`db` of `crate::db::{self, get_db}` too).
        fn bind(tree: &syn::UseTree, parent: Option<&syn::Ident>, out: &mut HashSet<String>) {
            match tree {
                syn::UseTree::Path(p) => bind(&p.tree, Some(&p.ident), out),
                syn::UseTree::Name(n) if n.ident == "self" => {
                    out.extend(parent.map(|p| p.to_string()));
                }
                syn::UseTree::Name(n) => {
                    out.insert(n.ident.to_string());
                }
                syn::UseTree::Rename(r) => {
                    out.insert(r.rename.to_string());
                }
                syn::UseTree::Group(g) => g.items.iter().for_each(|t| bind(t, parent, out)),
                syn::UseTree::Glob(_) => {}
            }
        }
        bind(&item.tree, None, &mut self.bound);
        visit::visit_item_use(self, item);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.bound.insert(item.ident.to_string());
        self.site.module.push(item.ident.to_string());
        visit::visit_item_mod(self, item);
        self.site.module.pop();
    }

    fn visit_use_rename(&mut self, rename: &'ast syn::UseRename) {
        let accessor = self.names.accessor(&rename.ident).map(|(name, rw)| (name, rw, false));
        let found =
            accessor.or_else(|| self.names.handle_type(&rename.ident).map(|(name, rw)| (name, rw, true)));
        if let Some((name, rw, is_type)) = found {
            let alias = rename.rename.to_string();
            self.found.push(Alias { alias, name: name.clone(), rw, is_type });
        }
    }
}

impl Visitor<'_> {
    fn push(&mut self, span: Span, name: String, kind: UseKind, rw: bool) {
        let range = span_range(self.src, span);
        self.out.uses.push(NameUse { range, name, kind, rw, qualifier: None, written: None });
    }

    fn accessor(&mut self, ident: &syn::Ident, kind: UseKind) {
        if let Some((name, rw)) = self.names.accessor(ident) {
            self.push(ident.span(), name.clone(), kind, rw);
        }
    }

    fn type_path(&mut self, path: &syn::Path, qualified: bool) {
        let bare = !qualified && path.leading_colon.is_none() && path.segments.len() == 1;
        if let Some(last) = path.segments.last() {
            if let Some((name, rw)) = self.names.handle_type(&last.ident) {
                self.push(last.ident.span(), name.clone(), UseKind::Type { bare }, rw);
                // A path whose first segment a `use` or a `mod` of the file binds (`db::DbRw`
                // after `use crate::db;`) keeps its prefix: replacing it could leave that
                // import unused.
                let first_bound =
                    path.segments.first().is_some_and(|s| self.bound.contains(&s.ident.to_string()));
                if !qualified && path.segments.len() > 1 && !first_bound {
                    let prefix = path.segments.iter().take(path.segments.len() - 1);
                    if prefix.clone().all(|s| s.arguments.is_none()) {
                        let first = match &path.leading_colon {
                            Some(colon) => colon.spans[0],
                            None => path.segments[0].ident.span(),
                        };
                        let start = span_range(self.src, first).start.offset;
                        let segments = prefix.map(|s| s.ident.to_string()).collect();
                        if let Some(u) = self.out.uses.last_mut() {
                            u.qualifier = Some(Qualifier { start, segments });
                        }
                    }
                }
            } else if let Some(alias) = self.type_alias(&last.ident) {
                let (name, rw) = (alias.name.clone(), alias.roles.1);
                let written = Some(last.ident.to_string()).filter(|w| *w != name);
                self.push(last.ident.span(), name, UseKind::TypeAlias, rw);
                if let Some(u) = self.out.uses.last_mut() {
                    u.written = written;
                }
            } else if bare {
                self.alias(&last.ident, true);
            }
        }
    }

    /// The tree's type alias of a handle type that `ident` names, unless the file declares or
    /// imports another type of that name ([`Aliases::foreign`]): the one a `use` of the file
    /// brings under that name ([`Aliases::brought`]), else the first of that name.
    fn type_alias(&self, ident: &syn::Ident) -> Option<&HandleAlias> {
        let name = ident.to_string();
        if self.foreign.contains(&name) {
            return None;
        }
        match self.brought_type_aliases.iter().find(|(given, _)| *given == name) {
            Some(&(_, at)) => self.names.type_aliases.get(at),
            None => self.names.type_aliases.iter().find(|a| a.name == name),
        }
    }

    /// A use of `ident` as the alias of a handle type (`is_type`) or an accessor.
    fn alias(&mut self, ident: &syn::Ident, is_type: bool) {
        if let Some(a) = self.aliases.iter().find(|a| a.is_type == is_type && *ident == a.alias) {
            let (name, rw) = (a.name.clone(), a.rw);
            self.push(ident.span(), name, UseKind::Alias, rw);
        }
    }

    fn signature(&mut self, sig: &syn::Signature) {
        let mut rw_typed = 0u64;
        let mut by_ref = Vec::new();
        for (i, input) in sig.inputs.iter().enumerate().take(64) {
            if let syn::FnArg::Typed(t) = input {
                let mut finder = TypeFinder { names: self.names, found: false };
                finder.visit_type(&t.ty);
                if finder.found {
                    rw_typed |= 1 << i;
                    if let Some(name) = referenced_type(&t.ty).filter(|n| self.names.rw_types.contains_key(n))
                    {
                        by_ref.push((i, name));
                    }
                }
            }
        }
        if rw_typed != 0 {
            let name_range = span_range(self.src, sig.ident.span());
            self.out.fns.push(FnParams { name_range, rw_typed, by_ref });
        }
    }
}

/// `T` of `&T` / `&mut T` when `T` is a plain path, by its last segment.
fn referenced_type(ty: &syn::Type) -> Option<String> {
    let syn::Type::Reference(r) = ty else { return None };
    let syn::Type::Path(p) = &*r.elem else { return None };
    let last = p.path.segments.last()?;
    last.arguments.is_none().then(|| last.ident.to_string())
}

/// (`Twin`, `Type`) of `impl Deref for Twin { type Target = Type; }` (std's trait: language
/// plumbing, not a name of the rule set).
fn deref_impl(item: &syn::ItemImpl) -> Option<(String, String)> {
    let (_, trait_path, _) = item.trait_.as_ref()?;
    if trait_path.segments.last()?.ident != "Deref" {
        return None;
    }
    let syn::Type::Path(self_ty) = &*item.self_ty else { return None };
    let from = self_ty.path.segments.last()?.ident.to_string();
    item.items.iter().find_map(|i| match i {
        syn::ImplItem::Type(t) if t.ident == "Target" => match &t.ty {
            syn::Type::Path(p) => Some((from.clone(), p.path.segments.last()?.ident.to_string())),
            _ => None,
        },
        _ => None,
    })
}

impl<'ast> Visit<'ast> for Visitor<'_> {
    fn visit_item_use(&mut self, _: &'ast syn::ItemUse) {}

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        if let Some(deref) = deref_impl(item) {
            self.out.derefs.push(deref);
        }
        visit::visit_item_impl(self, item);
    }

    fn visit_signature(&mut self, sig: &'ast syn::Signature) {
        self.signature(sig);
        visit::visit_signature(self, sig);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*call.func {
            if let Some(last) = p.path.segments.last() {
                let bare = p.qself.is_none() && p.path.leading_colon.is_none() && p.path.segments.len() == 1;
                self.accessor(&last.ident, UseKind::Call { bare });
                if bare {
                    self.alias(&last.ident, false);
                }
            }
        }
        visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        self.accessor(&call.method, UseKind::Method);
        visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_field(&mut self, field: &'ast syn::ExprField) {
        if let syn::Member::Named(ident) = &field.member {
            self.accessor(ident, UseKind::Field);
        }
        visit::visit_expr_field(self, field);
    }

    fn visit_pat_struct(&mut self, pat: &'ast syn::PatStruct) {
        for field in &pat.fields {
            if let syn::Member::Named(ident) = &field.member {
                self.accessor(ident, UseKind::PatField { shorthand: field.colon_token.is_none() });
            }
        }
        visit::visit_pat_struct(self, pat);
    }

    fn visit_type_path(&mut self, ty: &'ast syn::TypePath) {
        self.type_path(&ty.path, ty.qself.is_some());
        visit::visit_type_path(self, ty);
    }

    fn visit_pat_tuple_struct(&mut self, pat: &'ast syn::PatTupleStruct) {
        self.type_path(&pat.path, pat.qself.is_some());
        visit::visit_pat_tuple_struct(self, pat);
    }

    fn visit_expr_macro(&mut self, mac: &'ast syn::ExprMacro) {
        self.macro_code(&mac.mac);
    }

    fn visit_stmt_macro(&mut self, mac: &'ast syn::StmtMacro) {
        self.macro_code(&mac.mac);
    }
}

impl Visitor<'_> {
    /// The code of a macro in a body, as the interpreter sees it ([`MacroCode`]): a use inside
    /// `tokio::join!(state.get_db().ping(), …)`, `json!({ "n": get_db().count() })` or a
    /// `format!` argument is a use like any other.
    fn macro_code(&mut self, mac: &syn::Macro) {
        match MacroCode::parse(mac) {
            MacroCode::Args(args) => args.iter().for_each(|arg| self.visit_expr(arg)),
            MacroCode::Stmts(stmts) => stmts.iter().for_each(|stmt| self.visit_stmt(stmt)),
            MacroCode::Parts(parts) => self.macro_parts(&parts),
        }
    }

    fn macro_parts(&mut self, parts: &[MacroPart]) {
        for part in parts {
            match part {
                MacroPart::Expr(expr) => self.visit_expr(expr),
                MacroPart::Bind(pat, expr) => {
                    self.visit_pat(pat);
                    self.visit_expr(expr);
                }
                MacroPart::Groups(groups) => groups.iter().for_each(|group| match group {
                    MacroGroup::Stmts(stmts) => stmts.iter().for_each(|stmt| self.visit_stmt(stmt)),
                    MacroGroup::Parts(parts) => self.macro_parts(parts),
                }),
            }
        }
    }
}

/// Whether a type mentions a read-write type.
struct TypeFinder<'a> {
    names: &'a MigrateNames,
    found: bool,
}

impl<'ast> Visit<'ast> for TypeFinder<'_> {
    fn visit_path_segment(&mut self, seg: &'ast syn::PathSegment) {
        if self.names.rw_types.keys().any(|n| seg.ident == n) {
            self.found = true;
        }
        visit::visit_path_segment(self, seg);
    }
}

#[cfg(test)]
mod tests;
