//! `use` resolution: the tree's imports by crate and module, and paths made absolute.
//!
//! A path written in a module becomes (crate, module path + name) through `crate::`,
//! `self::`, `super::`, another crate's name (from the crate graph), an import of that module
//! (renames included), or — as Rust 2018 reads it — a child module. Globs and `pub use`
//! re-exports are followed by [`super::calls`] when a module has no function of the name.
//! Pure lookups over owned facts; never reads files.

use std::collections::HashMap;

use crate::analysis::facts::ImportFacts;

use super::crates::{CrateGraph, CrateId};

/// How many imports a path may go through (aliases of aliases, re-exports).
pub const MAX_DEPTH: usize = 8;

/// A module of a crate (the crate unknown when no manifest owns the file).
pub type ModuleKey = (Option<CrateId>, Vec<String>);

/// The imports of the tree, by the module they are written in.
#[derive(Debug, Default)]
pub struct Imports {
    by_module: HashMap<ModuleKey, Vec<ImportFacts>>,
}

impl Imports {
    /// Adds the imports of a file in `krate` whose module path is `file_module`.
    pub fn add(&mut self, krate: Option<CrateId>, file_module: &[String], imports: Vec<ImportFacts>) {
        for import in imports {
            let mut module = file_module.to_vec();
            module.extend(import.module.iter().cloned());
            self.by_module.entry((krate, module)).or_default().push(import);
        }
    }

    /// The imports written in `module`.
    pub fn of(&self, module: &ModuleKey) -> &[ImportFacts] {
        self.by_module.get(module).map_or(&[], Vec::as_slice)
    }

    /// The non-glob import that binds `name` in `module`.
    pub fn named(&self, module: &ModuleKey, name: &str) -> Option<&ImportFacts> {
        self.of(module).iter().find(|i| !i.glob && i.alias == name)
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
