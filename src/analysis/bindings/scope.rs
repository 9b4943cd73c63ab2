//! What the analysis of one function knows about the rest of its file: renaming imports,
//! the file's error-mapping extensions of `Result`/`Option`, functions whose declared result is
//! a tuple of handles, functions that return a write builder, and functions that execute a
//! text parameter as SQL.
//!
//! Gathered from item signatures and `use` trees (and, for builders, from a first walk of the
//! file's bodies by [`crate::analysis`]). It never looks beyond the file, but for the tree's
//! type aliases of handle types the run found ([`Names::handle_aliases`]): the same facts for
//! other files need the workspace index.

use std::path::Path;

use syn::{FnArg, ImplItem, Item, Signature, Type};

use super::sql_params::{sql_param_fns, SqlParamFn};
use super::types::type_mentions;
use crate::analysis::facts::ImportFacts;
use crate::analysis::names::{within_file, Names};
use crate::workspace::location::{locate_within, ModuleLocation};

/// A struct's fields by declared type: (name, read-only, read-write).
pub(crate) type FieldKinds = Vec<(String, bool, bool)>;

/// What a function's analysis knows of its file.
#[derive(Debug, Clone, Default)]
pub(crate) struct FileScope {
    /// Renaming imports (`use a::B as C;`): alias -> the path it stands for.
    pub aliases: Vec<(String, Vec<String>)>,
    /// The aliases of those that stand for an accessor (`use crate::db::get_db_ro as
    /// replica;`): a function calling one is screened in like one naming the accessor.
    pub accessor_aliases: Vec<String>,
    /// The aliases of handle types (`use crate::db::DbRo as Replica;`): alias -> (read-only,
    /// read-write), so that `Replica` in a signature is the handle type.
    pub type_aliases: Vec<(String, (bool, bool))>,
    /// Methods of the file's traits implemented for `Result`/`Option` (error-mapping
    /// extensions): they hand their receiver through like the rule set's transparent methods.
    pub extensions: Vec<String>,
    /// Functions whose declared result is a tuple with handle-typed elements
    /// (`-> Result<(DbRw, DbRo), E>`): name -> per element, (read-only, read-write).
    pub tuple_fns: Vec<(String, Vec<(bool, bool)>)>,
    /// Functions returning an ORM write builder: name -> the builder.
    pub builder_fns: Vec<(String, String)>,
    /// Structs of the file with handle-typed fields (`struct Ctx { pool: DbRw, ro: DbRo }`):
    /// name -> per field, (name, read-only, read-write).
    pub structs: Vec<(String, FieldKinds)>,
    /// Functions executing a text parameter as SQL on another parameter.
    pub sql_param_fns: Vec<SqlParamFn>,
}

/// The scope of a function analysed without its file (consts, tests).
pub(crate) static EMPTY: FileScope = FileScope {
    aliases: Vec::new(),
    accessor_aliases: Vec::new(),
    type_aliases: Vec::new(),
    extensions: Vec::new(),
    tuple_fns: Vec::new(),
    builder_fns: Vec::new(),
    structs: Vec::new(),
    sql_param_fns: Vec::new(),
};

/// The type aliases of handle types a file names: those it declares (`type Replica = DbRo;`),
/// and the tree's ([`Names::handle_aliases`]) it imports by a path through the module that
/// declares them (`use crate::db::Replica;`, `use super::db::*;`) or a module re-exporting them
/// (`use crate::prelude::*;`), unless it declares a type of that name itself. A path through
/// another module (`crate::archive::Replica`) may name another type of that name: it is not
/// followed, and a file importing one such (in any of its modules) takes none for the alias.
fn handle_type_aliases(
    items: &[Item],
    imports: &[ImportFacts],
    names: &Names,
    path: &Path,
    out: &mut Vec<(String, (bool, bool))>,
) {
    let mut declared = Vec::new();
    for item in items {
        match item {
            Item::Type(t) => {
                let roles = (type_mentions(&t.ty, &names.ro_types), type_mentions(&t.ty, &names.rw_types));
                if roles.0 || roles.1 {
                    out.push((t.ident.to_string(), roles));
                }
                declared.push(t.ident.to_string());
            }
            Item::Struct(s) => declared.push(s.ident.to_string()),
            Item::Enum(e) => declared.push(e.ident.to_string()),
            Item::Union(u) => declared.push(u.ident.to_string()),
            Item::Trait(t) => declared.push(t.ident.to_string()),
            _ => {}
        }
    }
    if names.handle_aliases.is_empty() {
        return;
    }
    // The module each `use` is written in.
    let sites: Vec<ModuleLocation> = imports.iter().map(|i| locate_within(path, &i.module)).collect();
    for alias in names.handle_aliases.iter().filter(|a| !declared.contains(&a.name)) {
        // The module path a `use` names leads to the alias's module or one re-exporting it.
        let through = |module: &[String], at: usize| alias.reached_through(module, &sites[at]);
        // A file importing a type of the alias's name from elsewhere too (in another inline
        // module) names two types by it: which one a function means is not followed. An inline
        // module's `use super::Replica;` names what the file names.
        let elsewhere = imports.iter().enumerate().any(|(at, i)| {
            !i.glob
                && i.alias == alias.name
                && !within_file(&i.path, i.module.len())
                && i.path.split_last().is_none_or(|(_, module)| !through(module, at))
        });
        if elsewhere {
            continue;
        }
        for (at, import) in imports.iter().enumerate() {
            let bound = if import.glob {
                through(&import.path, at).then(|| alias.name.clone())
            } else {
                match import.path.split_last() {
                    Some((last, module)) if *last == alias.name && through(module, at) => {
                        Some(import.alias.clone())
                    }
                    _ => None,
                }
            };
            if let Some(bound) = bound.filter(|b| !out.iter().any(|(name, _)| name == b)) {
                out.push((bound, alias.roles));
            }
        }
    }
}

impl FileScope {
    /// What the items of a file (the file at `path`, which tells its crate and module) say by
    /// their signatures and `use` trees.
    pub(crate) fn of(items: &[Item], imports: &[ImportFacts], names: &Names, path: &Path) -> FileScope {
        // Renaming imports (`use crate::queries::X as Y;`, `use crate::queries as q;`).
        let aliases: Vec<(String, Vec<String>)> = imports
            .iter()
            .filter(|i| !i.glob && i.path.last() != Some(&i.alias))
            .map(|i| (i.alias.clone(), i.path.clone()))
            .collect();
        let accessor_aliases = aliases
            .iter()
            .filter(|(_, path)| {
                names.ro_accessors.matches_path(path) || names.rw_accessors.matches_path(path)
            })
            .map(|(alias, _)| alias.clone())
            .collect();
        let mut type_aliases: Vec<(String, (bool, bool))> = aliases
            .iter()
            .map(|(alias, path)| {
                (alias, (names.ro_types.matches_path(path), names.rw_types.matches_path(path)))
            })
            .filter(|(_, (ro, rw))| *ro || *rw)
            .map(|(alias, roles)| (alias.clone(), roles))
            .collect();
        handle_type_aliases(items, imports, names, path, &mut type_aliases);
        let mut scope = FileScope { aliases, accessor_aliases, type_aliases, ..FileScope::default() };
        scope.extensions = extension_methods(items);
        each_signature(items, &mut |sig| {
            if let syn::ReturnType::Type(_, ty) = &sig.output {
                if let Some(elements) = tuple_elements(ty, names) {
                    scope.tuple_fns.push((sig.ident.to_string(), elements));
                }
            }
        });
        handle_structs(items, names, &mut scope.structs);
        sql_param_fns(items, names, &mut scope.sql_param_fns);
        scope
    }

    /// What field `field` of a value of struct `name` holds by its declared type:
    /// (read-only, read-write), when the file declares that struct with handle-typed fields.
    pub(crate) fn field_kind(&self, name: &str, field: &str) -> Option<(bool, bool)> {
        let (_, fields) = self.structs.iter().find(|(n, _)| n == name)?;
        fields.iter().find(|(f, _, _)| f == field).map(|&(_, ro, rw)| (ro, rw))
    }

    /// Whether `text` names a function of the file that returns a read-only handle in a tuple,
    /// a write builder, or a struct with a read-only field (such a function's callers, or the
    /// functions given such a struct, can matter though they name no accessor), or an
    /// accessor or a handle type by an alias.
    pub(crate) fn names_handle_fn(&self, text: &str) -> bool {
        let tuple = self.tuple_fns.iter().filter(|(_, elements)| elements.iter().any(|&(ro, _)| ro));
        let structs = self.structs.iter().filter(|(_, fields)| fields.iter().any(|&(_, ro, _)| ro));
        tuple
            .map(|(name, _)| name)
            .chain(self.builder_fns.iter().map(|(name, _)| name))
            .chain(structs.map(|(name, _)| name))
            .chain(&self.accessor_aliases)
            .chain(self.type_aliases.iter().map(|(alias, _)| alias))
            .any(|n| text.contains(n.as_str()))
    }

    /// The accessor `path` calls by an alias (`replica` -> `crate::db::get_db_ro`), when it
    /// is one of [`Self::accessor_aliases`]; any other path is matched as written.
    pub(crate) fn aliased_accessor(&self, path: &[String]) -> Option<&[String]> {
        let [name] = path else { return None };
        if !self.accessor_aliases.contains(name) {
            return None;
        }
        self.aliases.iter().find(|(alias, _)| alias == name).map(|(_, full)| full.as_slice())
    }
}

/// The methods taking `self` of traits implemented for `Result<T, E>` or `Option<T>` in
/// `items` (inline modules included): the service's own error-mapping extensions
/// (`impl<T, E> OrInternal<T> for Result<T, E> { fn or_internal(self) -> … }`).
fn extension_methods(items: &[Item]) -> Vec<String> {
    let mut out = Vec::new();
    for item in items {
        match item {
            Item::Impl(imp) if imp.trait_.is_some() && is_result_or_option(&imp.self_ty) => {
                for it in &imp.items {
                    if let ImplItem::Fn(f) = it {
                        if matches!(f.sig.inputs.first(), Some(FnArg::Receiver(r)) if r.reference.is_none()) {
                            out.push(f.sig.ident.to_string());
                        }
                    }
                }
            }
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    out.extend(extension_methods(items));
                }
            }
            _ => {}
        }
    }
    out
}

/// `Result<…>`, `Option<…>` (language types, not domain names).
fn is_result_or_option(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => {
            p.qself.is_none()
                && p.path.segments.last().is_some_and(|s| s.ident == "Result" || s.ident == "Option")
        }
        _ => false,
    }
}

/// Every function signature of `items`: free functions and methods, in inline modules too.
fn each_signature(items: &[Item], f: &mut impl FnMut(&Signature)) {
    for item in items {
        match item {
            Item::Fn(func) => f(&func.sig),
            Item::Impl(imp) => imp.items.iter().for_each(|it| {
                if let ImplItem::Fn(func) = it {
                    f(&func.sig);
                }
            }),
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    each_signature(items, f);
                }
            }
            _ => {}
        }
    }
}

/// A result type that is a tuple (`(DbRw, DbRo)`, also as `Result<(…), E>`, `Option<(…)>`,
/// `&(…)`) with at least one handle-typed element: per element, (read-only, read-write).
fn tuple_elements(ty: &Type, names: &Names) -> Option<Vec<(bool, bool)>> {
    let tuple = match ty {
        Type::Tuple(t) => t,
        Type::Reference(r) => return tuple_elements(&r.elem, names),
        Type::Paren(p) => return tuple_elements(&p.elem, names),
        Type::Path(p) if is_result_or_option(ty) => {
            let syn::PathArguments::AngleBracketed(args) = &p.path.segments.last()?.arguments else {
                return None;
            };
            return match args.args.first()? {
                syn::GenericArgument::Type(inner) => tuple_elements(inner, names),
                _ => None,
            };
        }
        _ => return None,
    };
    let elements: Vec<(bool, bool)> = tuple
        .elems
        .iter()
        .map(|e| (type_mentions(e, &names.ro_types), type_mentions(e, &names.rw_types)))
        .collect();
    elements.iter().any(|&(ro, rw)| ro || rw).then_some(elements)
}

/// The structs of `items` (inline modules too) with at least one handle-typed named field.
fn handle_structs(items: &[Item], names: &Names, out: &mut Vec<(String, FieldKinds)>) {
    for item in items {
        match item {
            Item::Struct(s) => {
                let fields: FieldKinds = s
                    .fields
                    .iter()
                    .filter_map(|f| {
                        let name = f.ident.as_ref()?.to_string();
                        Some((
                            name,
                            type_mentions(&f.ty, &names.ro_types),
                            type_mentions(&f.ty, &names.rw_types),
                        ))
                    })
                    .collect();
                if fields.iter().any(|&(_, ro, rw)| ro || rw) {
                    out.push((s.ident.to_string(), fields));
                }
            }
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    handle_structs(items, names, out);
                }
            }
            _ => {}
        }
    }
}
