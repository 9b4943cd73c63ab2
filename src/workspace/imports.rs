//! `use` resolution: the tree's imports by crate and module, and paths made absolute.
//!
//! A path written in a module becomes (crate, module path + name) through `crate::`,
//! `self::`, `super::`, another crate's name (from the crate graph), an import of that module
//! (renames included), or — as Rust 2018 reads it — a child module. Globs and `pub use`
//! re-exports are followed by [`super::calls`] when a module has no function of the name.
//! Pure lookups over owned facts; never reads files.

use std::hash::{BuildHasher, BuildHasherDefault};

use rayon::prelude::*;

use crate::analysis::facts::ImportFacts;
use crate::writers::{FnId, TreeFn};

use super::crates::{CrateGraph, CrateId};
use super::fns::TreeFns;
use super::hash::{NameHasher, NameMap};

/// How many imports a path may go through (aliases of aliases, re-exports).
pub const MAX_DEPTH: usize = 8;

/// A module of a crate (the crate unknown when no manifest owns the file).
pub type ModuleKey = (Option<CrateId>, Vec<String>);

/// The imports of the tree, by crate and the module they are written in (looked up by a
/// borrowed module path: no key is built per question).
#[derive(Debug, Default)]
pub struct Imports {
    /// Per crate, per module path: where its imports are in `modules`.
    by_module: NameMap<Option<CrateId>, NameMap<Vec<String>, u32>>,
    modules: Vec<ModuleImports>,
    /// Per function of the tree, once [`Imports::place`]d: where the imports of the module it
    /// is written in are (asked for every type a receiver is resolved with).
    of_fn: Vec<Option<u32>>,
}

/// The imports written in one module.
#[derive(Debug, Default)]
struct ModuleImports {
    /// In the order written.
    all: Vec<ImportFacts>,
    /// The non-glob imports as (hash of the name they bind, index into `all`), sorted: a
    /// binary search over these small pairs, side by side in memory, where one over the names
    /// themselves followed a pointer per probe; a name is compared only where its hash matches.
    by_alias: Vec<(u32, u32)>,
}

/// The hash a module's imports are sorted by: the low 32 bits of the index's hasher (the
/// best mixed, those its tables index by).
fn alias_hash(name: &str) -> u32 {
    BuildHasherDefault::<NameHasher>::default().hash_one(name) as u32
}

impl ModuleImports {
    fn sort(&mut self) {
        // Held until the run ends: no spare capacity.
        self.all.shrink_to_fit();
        let all = &self.all;
        self.by_alias =
            (0..all.len()).filter(|&i| !all[i].glob).map(|i| (alias_hash(&all[i].alias), i as u32)).collect();
        self.by_alias.sort_unstable();
    }

    /// The first non-glob import binding `name` (of those sharing its hash, in index order).
    fn named(&self, name: &str) -> Option<&ImportFacts> {
        let hash = alias_hash(name);
        let at = self.by_alias.partition_point(|&(h, _)| h < hash);
        let same_hash = self.by_alias[at..].iter().take_while(|&&(h, _)| h == hash);
        same_hash.map(|&(_, i)| &self.all[i as usize]).find(|import| import.alias == name)
    }
}

impl Imports {
    /// Adds the imports of a file in `krate` whose module path is `file_module`.
    pub fn add(&mut self, krate: Option<CrateId>, file_module: &[String], imports: Vec<ImportFacts>) {
        let by_module = self.by_module.entry(krate).or_default();
        let mut touched: Vec<Vec<String>> = Vec::new();
        // Where the imports of the last module touched go.
        let mut last_at: Option<u32> = None;
        for import in imports {
            // Consecutive imports are mostly of one module: its path is built and looked up once.
            let same = touched.last().is_some_and(|m| {
                m.len() == file_module.len() + import.module.len()
                    && m[file_module.len()..] == import.module[..]
                    && m[..file_module.len()] == *file_module
            });
            if !same {
                touched.push(file_module.iter().chain(&import.module).cloned().collect());
                last_at = None;
            }
            let Some(module) = touched.last() else { continue };
            let at = match last_at.or_else(|| by_module.get(module.as_slice()).copied()) {
                Some(at) => at,
                None => {
                    let Ok(at) = u32::try_from(self.modules.len()) else { continue };
                    by_module.insert(module.clone(), at);
                    self.modules.push(ModuleImports::default());
                    at
                }
            };
            last_at = Some(at);
            self.modules[at as usize].all.push(import);
        }
        for module in touched {
            if let Some(&at) = by_module.get(&module) {
                self.modules[at as usize].sort();
            }
        }
    }

    /// Notes, per function of `fns`, the module it is written in; call once every import is
    /// added (see [`Imports::named_for`]).
    pub fn place(&mut self, fns: &TreeFns) {
        let this = &*self;
        let of_fn =
            (0..fns.len()).into_par_iter().map(|id| this.at(fns[id].krate, &fns[id].module)).collect();
        self.of_fn = of_fn;
    }

    fn at(&self, krate: Option<CrateId>, module: &[String]) -> Option<u32> {
        self.by_module.get(&krate)?.get(module).copied()
    }

    fn module(&self, krate: Option<CrateId>, module: &[String]) -> Option<&ModuleImports> {
        Some(&self.modules[self.at(krate, module)? as usize])
    }

    /// The non-glob import that binds `name` where function `id` (`f`) is written: from the
    /// placement made by [`Imports::place`] when there is one (no module path hashed).
    pub fn named_for(&self, id: FnId, f: &TreeFn, name: &str) -> Option<&ImportFacts> {
        match self.of_fn.get(id) {
            Some(at) => self.modules[(*at)? as usize].named(name),
            None => self.named_in(f.krate, &f.module, name),
        }
    }

    /// The imports written in `module`.
    pub fn of(&self, module: &ModuleKey) -> &[ImportFacts] {
        self.module(module.0, &module.1).map_or(&[], |m| m.all.as_slice())
    }

    /// The non-glob import that binds `name` in `module`.
    pub fn named(&self, module: &ModuleKey, name: &str) -> Option<&ImportFacts> {
        self.named_in(module.0, &module.1, name)
    }

    /// The non-glob import that binds `name` in `module` of `krate`.
    pub fn named_in(&self, krate: Option<CrateId>, module: &[String], name: &str) -> Option<&ImportFacts> {
        self.module(krate, module)?.named(name)
    }

    /// `path` written in `module`, made absolute: the crate and every segment after it (the
    /// last one is the named item).
    pub fn absolute(&self, crates: &CrateGraph, module: &ModuleKey, path: &[String]) -> Option<ModuleKey> {
        self.absolute_at(crates, module, path, 0)
    }

    fn absolute_at(
        &self,
        crates: &CrateGraph,
        from: &ModuleKey,
        path: &[String],
        depth: usize,
    ) -> Option<ModuleKey> {
        let (krate, module) = from;
        let (first, rest) = path.split_first()?;
        match first.as_str() {
            "crate" => Some((*krate, rest.to_vec())),
            "self" => Some((*krate, [module.as_slice(), rest].concat())),
            "super" => {
                let ups = path.iter().take_while(|s| *s == "super").count();
                let base = &module[..module.len().checked_sub(ups)?];
                Some((*krate, [base, &path[ups..]].concat()))
            }
            _ => {
                if depth < MAX_DEPTH {
                    if let Some(import) = self.named(from, first) {
                        let expanded = [import.path.as_slice(), rest].concat();
                        return self.absolute_at(crates, from, &expanded, depth + 1);
                    }
                }
                match crates.named(*krate, first).filter(|&c| Some(c) != *krate) {
                    Some(other) => Some((Some(other), rest.to_vec())),
                    None => Some((*krate, [module.as_slice(), path].concat())),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(alias: &str, path: &str, glob: bool) -> ImportFacts {
        ImportFacts {
            module: Vec::new(),
            alias: alias.into(),
            path: path.split("::").map(String::from).collect(),
            glob,
            public: false,
        }
    }

    #[test]
    fn a_name_finds_the_first_import_binding_it_and_never_a_glob() {
        let mut imports = Imports::default();
        let written = vec![
            import("Repo", "crate::a::Repo", false),
            import("", "crate::b", true),
            import("Store", "crate::a::Store", false),
            import("Repo", "crate::c::Repo", false),
            import("Rep", "crate::d::Rep", false),
        ];
        imports.add(None, &["m".to_string()], written);
        let path = |name: &str| imports.named_in(None, &["m".to_string()], name).map(|i| i.path.join("::"));
        assert_eq!(path("Repo").as_deref(), Some("crate::a::Repo"));
        assert_eq!(path("Store").as_deref(), Some("crate::a::Store"));
        assert_eq!(path("Rep").as_deref(), Some("crate::d::Rep"));
        assert_eq!(path(""), None, "a glob binds no name");
        assert_eq!(path("Repos"), None);
        assert_eq!(imports.named_in(None, &[], "Repo").map(|i| i.alias.as_str()), None, "another module");
    }
}
