//! One semantic index of the analysed workspace, shared by `check` and `migrate`.
//!
//! [`crates`] reads the crate graph from `Cargo.toml`; [`location`] places a file in its crate's
//! module tree; [`loader`] parses, on demand, the files that declare the names [`demand`] says
//! are missing; [`symbols`] hashes the tree's functions, types and impls; [`calls`] resolves a
//! call by its receiver's type and its path. [`Workspace`] gathers what the parsed files
//! declared and turns their functions into [`TreeFn`]s. Nothing here parses a file or judges a
//! write: the pipelines feed it facts, the writer summaries and rules ask it questions.

pub mod calls;
pub mod crates;
pub mod demand;
pub mod discovered;
pub mod fns;
pub mod hash;
pub mod imports;
pub mod loader;
pub mod location;
pub mod symbols;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::analysis::facts::{FileFacts, FnFacts, ImplFacts, TypeFacts};
use crate::writers::{FnId, TreeFn};

use self::crates::{CrateGraph, CrateId};
use self::fns::TreeFns;
use self::imports::Imports;
use self::loader::Slot;
use self::symbols::Symbols;

/// Where a file's functions are: the module path of the file and its crate.
type Place = (Arc<[String]>, Option<CrateId>);

/// The functions of `files` (the file, its place, its functions moved in) as [`TreeFn`]s in
/// crate and module, and per file the ids its functions got: each file's vector built on the
/// pool (see [`fns`]), then numbered in file order.
fn placed_fns(files: Vec<(Arc<Path>, Place, Vec<FnFacts>)>) -> (TreeFns, Vec<Vec<FnId>>) {
    let placed: Vec<Vec<TreeFn>> = files
        .into_par_iter()
        .map(|(file, (place_module, krate), functions)| {
            let placed = functions.into_iter().map(|f| {
                let module = match f.module.is_empty() {
                    true => Arc::clone(&place_module),
                    false => place_module.iter().chain(&f.module).cloned().collect(),
                };
                TreeFn { file: Arc::clone(&file), krate, module, facts: f }
            });
            placed.collect()
        })
        .collect();
    let mut fns = TreeFns::default();
    let ids = placed.into_iter().map(|functions| fns.push_file(functions)).collect();
    (fns, ids)
}

/// What the tree declares besides functions: crates, types, impls.
#[derive(Debug, Default)]
pub struct Workspace {
    /// The crate graph.
    pub crates: CrateGraph,
    /// Structs, enums, unions and traits of the parsed files.
    pub types: Vec<TypeFacts>,
    /// `impl Trait for Type` blocks of the parsed files.
    pub impls: Vec<ImplFacts>,
    /// Type names declared in files that were not parsed.
    pub screened_types: Vec<String>,
    /// The `use` items of the parsed files, by crate and module.
    pub imports: Imports,
    /// First segments of the module paths of every file of the tree (parsed or not).
    pub modules: Vec<String>,
    /// Files placed by a `#[path = "…"]` attribute: their module path.
    path_modules: HashMap<PathBuf, Vec<String>>,
}

impl Workspace {
    /// The workspace of the files at `paths` (reads their manifests).
    pub fn discover<'a>(paths: impl IntoIterator<Item = &'a Path> + Clone) -> Workspace {
        Workspace::with_crates(CrateGraph::discover(paths.clone()), paths)
    }

    /// The workspace of the files at `paths`, whose crate graph is `crates`.
    pub fn with_crates<'a>(crates: CrateGraph, paths: impl IntoIterator<Item = &'a Path>) -> Workspace {
        let mut modules: Vec<String> =
            paths.into_iter().filter_map(|p| location::locate(p).module.first().cloned()).collect();
        modules.sort();
        modules.dedup();
        Workspace { crates, modules, ..Workspace::default() }
    }

    /// Notes the modules the files of `slots` declare with `#[path = "…"]`; call before
    /// [`Workspace::add_slots`].
    pub fn add_path_mods(&mut self, slots: &[Slot]) {
        for slot in slots {
            let declared: Vec<(Vec<String>, String)> = match &slot.facts {
                Some(facts) => facts.path_mods.clone(),
                None => {
                    slot.declared.path_mods.iter().map(|(name, p)| (vec![name.clone()], p.clone())).collect()
                }
            };
            let dir = slot.path.parent().unwrap_or(Path::new(""));
            for (inside, path) in declared {
                let mut module = location::locate(&slot.path).module;
                module.extend(inside);
                self.path_modules.insert(location::normalise(&dir.join(path)), module);
            }
        }
    }

    /// The module path of the file at `path`: from a `#[path]` attribute, else from its path.
    pub fn module_of(&self, path: &Path) -> Vec<String> {
        self.path_modules.get(path).cloned().unwrap_or_else(|| location::locate(path).module)
    }

    /// Where the file at `path` is: its module path ([`Workspace::module_of`]) and crate.
    fn place_of(&self, path: &Path) -> Place {
        (self.module_of(path).into(), self.crates.crate_of(path))
    }

    /// Takes the types, impls and imports of a parsed file placed at `place`.
    fn add_placed(&mut self, (module, krate): &Place, facts: &mut FileFacts) {
        self.types.append(&mut facts.types);
        self.impls.append(&mut facts.impls);
        self.imports.add(*krate, module, std::mem::take(&mut facts.imports));
    }

    /// Every file of `slots` at once, each placed once: the types, impls and imports of the
    /// parsed ones taken (the type names of the others), while their functions move out into
    /// [`TreeFn`]s in crate and module (facts are held once); per slot the ids its functions
    /// got. Check's and migrate's index alike.
    pub fn add_slots(&mut self, slots: &mut [Slot]) -> (TreeFns, Vec<Vec<FnId>>) {
        let places: Vec<Place> = slots.par_iter().map(|s| self.place_of(&s.path)).collect();
        let files: Vec<(Arc<Path>, Place, Vec<FnFacts>)> = slots
            .iter_mut()
            .zip(&places)
            .map(|(s, place)| {
                let functions = s.facts.as_mut().map_or_else(Vec::new, |f| std::mem::take(&mut f.functions));
                (Arc::from(s.path.as_path()), place.clone(), functions)
            })
            .collect();
        let (fns, ()) = rayon::join(
            || placed_fns(files),
            || {
                for (slot, place) in slots.iter_mut().zip(&places) {
                    match &mut slot.facts {
                        Some(facts) => self.add_placed(place, facts),
                        None => self.screened_types.append(&mut slot.declared.types),
                    }
                }
            },
        );
        fns
    }

    /// The hashed index of `fns` and of what this workspace declares (its types move into
    /// the index), with the crate graph and the imports; the rest is dropped here, before
    /// calls are resolved.
    pub fn into_index(self, fns: &TreeFns) -> (Symbols, CrateGraph, Imports) {
        let Workspace { crates, types, impls, screened_types, mut imports, modules, .. } = self;
        // The imports placed while the symbols are hashed (neither reads the other).
        let (mut symbols, ()) = rayon::join(
            || {
                let impls = impls.iter().map(|i| (i.self_ty.as_str(), i.trait_name.as_str()));
                Symbols::new(fns, types, impls, screened_types.iter().map(String::as_str))
            },
            || imports.place(fns),
        );
        symbols.add_modules(modules);
        (symbols, crates, imports)
    }
}
