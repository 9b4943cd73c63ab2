//! Names the first pass discovers in the tree, that the run then matches like the rule set's:
//! accessor wrappers (analysed functions returning a read-only handle) and type aliases of
//! handle types. Reads facts only; never parses.

use std::collections::{BTreeMap, BTreeSet};

use crate::analysis::facts::TypeRef;
use crate::analysis::names::{HandleAlias, Names};

use super::loader::Slot;
use super::location::locate;

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
/// Replica = DbRo;`, `type Shared = Arc<DbRw>;`), each with the module declaring it: only a
/// name the parsed files declare once, as that alias, and that is no handle type itself (two
/// declarations, or a struct of that name elsewhere: which one a file means is not known).
pub fn handle_aliases(slots: &[Slot], names: &Names) -> Vec<HandleAlias> {
    let types = || {
        slots
            .iter()
            .filter_map(|s| Some((s, &s.facts.as_ref()?.types)))
            .flat_map(|(s, t)| t.iter().map(move |t| (s, t)))
    };
    // Most trees have none: only then is every declaration of their names counted.
    let mut found: BTreeMap<&str, HandleAlias> = BTreeMap::new();
    for (slot, t) in types() {
        let roles = t.alias.as_ref().map_or((false, false), |a| alias_roles(a, names));
        let handle_type = names.ro_types.matches_name(&t.name) || names.rw_types.matches_name(&t.name);
        if (roles.0 || roles.1) && !handle_type {
            let module = locate(&slot.path).module.into_iter().chain(t.module.iter().cloned()).collect();
            found.insert(&t.name, HandleAlias { name: t.name.clone(), module, roles });
        }
    }
    if found.is_empty() {
        return Vec::new();
    }
    let mut declarations: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, t) in types().filter(|(_, t)| found.contains_key(t.name.as_str())) {
        *declarations.entry(&t.name).or_default() += 1;
    }
    found.into_iter().filter(|(name, _)| declarations.get(name) == Some(&1)).map(|(_, alias)| alias).collect()
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
        ];
        let found: Vec<(String, Vec<String>, (bool, bool))> =
            handle_aliases(&slots, &names).into_iter().map(|a| (a.name, a.module, a.roles)).collect();
        assert_eq!(
            found,
            [
                ("Primary".to_string(), vec!["db".to_string()], (false, true)),
                ("Replica".to_string(), vec!["db".to_string()], (true, false)),
            ]
        );
    }
}
