//! Names the first pass discovers in the tree, that the run then matches like the rule set's:
//! accessor wrappers (analysed functions returning a read-only handle) and type aliases of
//! handle types. Reads facts only; never parses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::analysis::facts::TypeRef;
use crate::analysis::names::{leads_to, HandleAlias, Names};

use super::loader::Slot;
use super::location::{locate, locate_within, ModuleLocation};

/// Analysed functions whose return value is a read-only handle (accessor wrappers): each
/// name with the type of its `impl`, if any.
pub fn read_only_wrappers(slots: &[Slot]) -> BTreeSet<(String, Option<String>)> {
    slots
        .iter()
        .filter_map(|s| s.facts.as_ref())
        .flat_map(|facts| &facts.functions)
        .filter(|f| f.analysed && f.returns.ro.is_some())
        .map(|f| (f.name.clone(), f.owner.as_deref().map(String::from)))
        .collect()
}

/// The type aliases of the parsed files that stand for a handle type of `names` (`pub type
/// Replica = DbRo;`, `type Shared = Arc<DbRw>;`), each with the crate and module declaring it:
/// only a name the parsed files of its crate declare once, as that alias, and that is no
/// handle type itself (two declarations, or a struct of that name elsewhere in the crate:
/// which one a file means is not known). Crates of a workspace may each declare one of a name.
pub fn handle_aliases(slots: &[Slot], names: &Names) -> Vec<HandleAlias> {
    let types = || {
        slots
            .iter()
            .filter_map(|s| Some((s, &s.facts.as_ref()?.types)))
            .flat_map(|(s, t)| t.iter().map(move |t| (s, t)))
    };
    // Most trees have none: only then is every declaration of their names counted.
    let mut found: BTreeMap<(PathBuf, &str), HandleAlias> = BTreeMap::new();
    for (slot, t) in types() {
        let roles = t.alias.as_ref().map_or((false, false), |a| alias_roles(a, names));
        let handle_type = names.ro_types.matches_name(&t.name) || names.rw_types.matches_name(&t.name);
        if (roles.0 || roles.1) && !handle_type {
            let module = locate_within(&slot.path, &t.module);
            found.insert(
                (module.crate_root.clone(), &t.name),
                HandleAlias { name: t.name.clone(), module, reexported_by: Vec::new(), roles, renames: None },
            );
        }
    }
    if found.is_empty() {
        return Vec::new();
    }
    let named: BTreeSet<&str> = found.keys().map(|(_, name)| *name).collect();
    let mut declarations: BTreeMap<(PathBuf, &str), usize> = BTreeMap::new();
    for (slot, t) in types().filter(|(_, t)| named.contains(t.name.as_str())) {
        *declarations.entry((locate(&slot.path).crate_root, &t.name)).or_default() += 1;
    }
    let mut aliases: Vec<HandleAlias> = found
        .into_iter()
        .filter(|(key, _)| declarations.get(key) == Some(&1))
        .map(|(_, alias)| alias)
        .collect();
    add_reexports(slots, &mut aliases);
    aliases
}

/// How many modules deep re-exports are followed (a prelude re-exporting a module that
/// re-exports the alias is two).
const REEXPORT_DEPTH: usize = 2;

/// Adds to each alias the modules re-exporting it by `pub use` (`pub use crate::db::Replica;`,
/// `pub use crate::db::*;` in `src/prelude.rs`), through a module declaring or re-exporting
/// it, [`REEXPORT_DEPTH`] modules deep. A re-export under another name (`pub use
/// crate::db::Replica as Reader;`) declares an alias of that name in the re-exporting module,
/// unless the parsed files declare a type of that name or it is an alias already. Whether it
/// added any.
pub fn add_reexports(slots: &[Slot], aliases: &mut Vec<HandleAlias>) -> bool {
    let mut any = false;
    let public = || {
        slots
            .iter()
            .filter_map(|s| Some((s, &s.facts.as_ref()?.imports)))
            .flat_map(|(s, imports)| imports.iter().filter(|i| i.public).map(move |i| (s, i)))
    };
    for _ in 0..REEXPORT_DEPTH {
        let mut added = false;
        let mut renamed: Vec<HandleAlias> = Vec::new();
        for alias in aliases.iter_mut() {
            let mut found: Vec<ModuleLocation> = Vec::new();
            for (slot, import) in public() {
                // The module the `pub use` is written in, which re-exports what it brings.
                let module = locate_within(&slot.path, &import.module);
                let brings = if import.glob {
                    alias.reached_through(&import.path, &module)
                } else {
                    matches!(import.path.split_last(),
                        Some((last, path)) if *last == alias.name && alias.reached_through(path, &module))
                };
                if !brings {
                    continue;
                }
                if !import.glob && import.alias != alias.name {
                    renamed.push(HandleAlias {
                        name: import.alias.clone(),
                        module,
                        reexported_by: Vec::new(),
                        roles: alias.roles,
                        renames: Some(alias.name.clone()),
                    });
                } else if module != alias.module
                    && !alias.reexported_by.contains(&module)
                    && !found.contains(&module)
                {
                    found.push(module);
                }
            }
            added |= !found.is_empty();
            alias.reexported_by.extend(found);
        }
        for alias in renamed {
            // A name given twice in a crate (two renames, or a type of the crate): which one a
            // file means is not known.
            let crate_root = &alias.module.crate_root;
            let taken = aliases.iter().any(|a| a.name == alias.name && a.module.crate_root == *crate_root);
            if taken || declares_type(slots, crate_root, &alias.name) {
                continue;
            }
            aliases.push(alias);
            added = true;
        }
        any |= added;
        if !added {
            break;
        }
    }
    any
}

/// Whether a parsed file of the crate at `crate_root` declares a type (or an alias) named `name`.
fn declares_type(slots: &[Slot], crate_root: &Path, name: &str) -> bool {
    slots
        .iter()
        .filter(|s| s.facts.as_ref().is_some_and(|f| f.types.iter().any(|t| t.name == name)))
        .any(|s| locate(&s.path).crate_root == crate_root)
}

/// Whether a parsed file imports an alias through a module re-exporting it (`use
/// crate::prelude::Replica;`, `use crate::prelude::*;`, `use crate::prelude::Reader;` of a
/// renamed re-export): its analysis depends on that module being known as one.
pub fn imports_through_reexport(slot: &Slot, aliases: &[HandleAlias]) -> bool {
    let Some(facts) = &slot.facts else { return false };
    let renaming = aliases.iter().filter(|a| a.renames.is_some()).map(|a| &a.module);
    let modules = aliases.iter().flat_map(|a| &a.reexported_by).chain(renaming);
    facts.imports.iter().any(|i| {
        let site = locate_within(&slot.path, &i.module);
        let via = |written: &[String]| modules.clone().any(|module| leads_to(written, &site, module));
        match i.path.split_last() {
            _ if i.glob => via(&i.path),
            Some((last, module)) => aliases.iter().any(|a| a.name == *last) && via(module),
            None => false,
        }
    })
}

/// The names of the aliases that re-exports renamed (`Reader` of `pub use crate::db::Replica as
/// Reader;`): files that name them are handled again once they are found.
pub fn renamed_aliases(aliases: &[HandleAlias]) -> impl Iterator<Item = &str> {
    aliases.iter().filter(|a| a.renames.is_some()).map(|a| a.name.as_str())
}

/// Whether an alias's type is (wraps) a read-only handle type, a read-write one.
fn alias_roles(ty: &TypeRef, names: &Names) -> (bool, bool) {
    match ty {
        TypeRef::Named(path) => (names.ro_types.matches_path(path), names.rw_types.matches_path(path)),
        TypeRef::Wrapped { inner, .. } => alias_roles(inner, names),
        _ => (false, false),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::analysis::facts::{FileFacts, TypeFacts};
    use crate::workspace::loader::tests::screened;

    /// Module `module` of the crate whose sources are under `svc/src`.
    fn place(module: &[&str]) -> ModuleLocation {
        ModuleLocation {
            crate_root: "svc/src".into(),
            module: module.iter().map(|m| m.to_string()).collect(),
        }
    }

    /// `pub type Replica = DbRo;` in `svc/src/db.rs`.
    fn replica() -> HandleAlias {
        HandleAlias {
            name: "Replica".into(),
            module: place(&["db"]),
            reexported_by: Vec::new(),
            roles: (true, false),
            renames: None,
        }
    }

    fn path(text: &str) -> Vec<String> {
        text.split("::").map(String::from).collect()
    }

    #[test]
    fn a_type_alias_of_a_handle_type_declared_once_is_a_handle_alias() {
        let names = crate::analysis::names::Names::new(&crate::config::RuleSet::builtin(Path::new(".")));
        let ty = |name: &str, alias: Option<&str>| TypeFacts {
            name: name.into(),
            module: Vec::new(),
            fields: Vec::new(),
            alias: alias.map(|a| TypeRef::Named(a.split("::").map(String::from).collect())),
        };
        let slot = |path: &str, types: Vec<TypeFacts>| Slot {
            facts: Some(FileFacts { types, ..FileFacts::default() }),
            ..screened(path, "")
        };
        let slots = vec![
            slot(
                "svc/src/db.rs",
                vec![
                    ty("Replica", Some("DbRo")),
                    ty("Primary", Some("crate::db::DbRw")),
                    ty("Rows", Some("Vec")),
                ],
            ),
            // Declared twice (an alias and a struct): which one a file means is not known.
            slot("svc/src/a.rs", vec![ty("Twice", Some("DbRo")), ty("DbRo", Some("DbRo"))]),
            slot("svc/src/b.rs", vec![ty("Twice", None)]),
            // Another crate's alias of the same name (and a struct of the other's name there):
            // each crate declares its own once.
            slot("worker/src/db.rs", vec![ty("Replica", Some("DbRw")), ty("Primary", None)]),
        ];
        let found: Vec<(String, ModuleLocation, (bool, bool))> =
            handle_aliases(&slots, &names).into_iter().map(|a| (a.name, a.module, a.roles)).collect();
        let worker = ModuleLocation { crate_root: "worker/src".into(), module: vec!["db".into()] };
        assert_eq!(
            found,
            [
                ("Primary".to_string(), place(&["db"]), (false, true)),
                ("Replica".to_string(), place(&["db"]), (true, false)),
                ("Replica".to_string(), worker, (false, true)),
            ]
        );
    }

    #[test]
    fn modules_re_exporting_an_alias_are_followed_two_deep_and_only_through_its_module() {
        use crate::analysis::facts::ImportFacts;
        let import = |path: &str, glob: bool, public: bool| ImportFacts {
            module: Vec::new(),
            alias: if glob { String::new() } else { path.rsplit("::").next().unwrap().to_string() },
            path: path.split("::").map(String::from).collect(),
            glob,
            public,
        };
        let slot = |path: &str, imports: Vec<ImportFacts>| Slot {
            facts: Some(FileFacts { imports, ..FileFacts::default() }),
            ..screened(path, "")
        };
        let slots = vec![
            slot("svc/src/prelude.rs", vec![import("crate::db::Replica", false, true)]),
            slot("svc/src/api/mod.rs", vec![import("crate::prelude", true, true)]),
            // Private: brings the alias into the file only.
            slot("svc/src/jobs.rs", vec![import("crate::db::Replica", false, false)]),
            // Another crate's type of the alias's name.
            slot("svc/src/external.rs", vec![import("archive::Replica", false, true)]),
        ];
        let mut aliases = vec![replica()];
        assert!(add_reexports(&slots, &mut aliases));
        assert_eq!(aliases[0].reexported_by, [place(&["prelude"]), place(&["api"])]);
        let root = place(&[]);
        assert!(aliases[0].reached_through(&path("crate::api"), &root));
        assert!(!aliases[0].reached_through(&path("crate::external"), &root));
        // From another crate, `crate::…` names that crate's modules; another crate's path is
        // taken by its last segment.
        let worker = ModuleLocation { crate_root: "worker/src".into(), module: Vec::new() };
        assert!(!aliases[0].reached_through(&path("crate::db"), &worker));
        assert!(aliases[0].reached_through(&path("svc::db"), &worker));
        // `self::` and `super::` from the module the `use` is written in.
        assert!(aliases[0].reached_through(&path("self::db"), &root));
        assert!(aliases[0].reached_through(&path("super::prelude"), &place(&["jobs"])));
        assert!(!aliases[0].reached_through(&path("super::prelude"), &place(&["jobs", "trim"])));
        assert!(aliases[0].reached_through(&path("super::super::prelude"), &place(&["jobs", "trim"])));
        // Outside any `src/` a file's path does not tell its crate: matched by name, as other
        // crates' paths are.
        let flat = |root: &str, module: &[&str]| ModuleLocation {
            crate_root: root.into(),
            module: module.iter().map(|m| m.to_string()).collect(),
        };
        let flat_alias = HandleAlias { module: flat("flat", &["db"]), ..replica() };
        assert!(flat_alias.reached_through(&path("crate::db"), &flat("flat/handlers", &[])));
        assert!(!flat_alias.reached_through(&path("crate::cache"), &flat("flat/handlers", &[])));
        // Nothing more to add.
        assert!(!add_reexports(&slots, &mut aliases));
        // Which files import the alias through a module re-exporting it.
        let through = |imports| imports_through_reexport(&slot("svc/src/h.rs", imports), &aliases);
        assert!(through(vec![import("crate::prelude::Replica", false, false)]));
        assert!(through(vec![import("crate::api", true, false)]));
        assert!(!through(vec![import("crate::db::Replica", false, false)]));
        assert!(!through(vec![import("crate::prelude::Other", false, false)]));
    }

    #[test]
    fn a_re_export_under_another_name_declares_an_alias_of_that_name_in_its_module() {
        use crate::analysis::facts::{ImportFacts, TypeFacts};
        let renamed = |path: &str, alias: &str| ImportFacts {
            module: Vec::new(),
            alias: alias.into(),
            path: path.split("::").map(String::from).collect(),
            glob: false,
            public: true,
        };
        let slot = |path: &str, imports: Vec<ImportFacts>, types: Vec<&str>| Slot {
            facts: Some(FileFacts {
                imports,
                types: types
                    .into_iter()
                    .map(|t| TypeFacts {
                        name: t.into(),
                        module: Vec::new(),
                        fields: Vec::new(),
                        alias: None,
                    })
                    .collect(),
                ..FileFacts::default()
            }),
            ..screened(path, "")
        };
        let slots = vec![
            slot(
                "svc/src/prelude.rs",
                vec![
                    renamed("crate::db::Replica", "Reader"),
                    // A type of the tree has that name: which one a file means is not known.
                    renamed("crate::db::Replica", "Peer"),
                    // Another crate's type of the alias's name, renamed.
                    renamed("archive::Replica", "Cold"),
                ],
                vec![],
            ),
            slot("svc/src/peers.rs", vec![], vec!["Peer"]),
            // The rename, re-exported by a glob of the prelude.
            slot(
                "svc/src/api/mod.rs",
                vec![ImportFacts { glob: true, alias: String::new(), ..renamed("crate::prelude", "") }],
                vec![],
            ),
        ];
        let mut aliases = vec![replica()];
        assert!(add_reexports(&slots, &mut aliases));
        let names: Vec<&str> = aliases.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["Replica", "Reader"]);
        assert_eq!((&aliases[0].reexported_by, aliases[0].renames.as_deref()), (&Vec::new(), None));
        let reader = &aliases[1];
        assert_eq!((&reader.module, &reader.reexported_by), (&place(&["prelude"]), &vec![place(&["api"])]));
        assert_eq!(reader.renames.as_deref(), Some("Replica"));
        assert_eq!(aliases[1].roles, (true, false));
        // Files importing the rename through the prelude (or the module re-exporting it) depend
        // on it.
        let importing = |path: &str| slot("svc/src/h.rs", vec![renamed(path, "Reader")], vec![]);
        assert!(imports_through_reexport(&importing("crate::prelude::Reader"), &aliases));
        assert!(imports_through_reexport(&importing("crate::api::Reader"), &aliases));
        assert!(!imports_through_reexport(&importing("crate::db::Reader"), &aliases));
    }
}
