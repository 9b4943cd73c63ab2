//! What a file's route walker knows of the names in scope: the first pass over the items
//! ([`Scan`]: `use` names, free functions and modules per module, before any body is read)
//! and the queries the recognisers ask of it — whose function a callee path names, which
//! framework a file's method-less forms belong to. Reads names only; records nothing.

use std::collections::HashSet;

use syn::Item;

use super::extract::Walker;
use super::facts::{Framework, Import, ModulePath};
use super::imports;
use super::names::RouteNames;
use super::syntax::path_segments;

/// What the first pass finds: module-level names.
#[derive(Default)]
pub(super) struct Scan {
    pub(super) imports: Vec<Import>,
    /// (module, name) of free functions.
    pub(super) fns: HashSet<(Vec<String>, String)>,
    /// Declared modules, as full paths.
    pub(super) modules: HashSet<Vec<String>>,
}

impl Scan {
    pub(super) fn items(&mut self, items: &[Item], module: &ModulePath) {
        for item in items {
            match item {
                Item::Use(u) => self.imports.extend(imports::flatten_use(u, module, None)),
                Item::ExternCrate(e) => self.imports.extend(imports::extern_crate(e, module, None)),
                Item::Fn(f) => {
                    self.fns.insert((module.to_vec(), f.sig.ident.to_string()));
                }
                Item::Mod(m) => {
                    let mut inner = module.to_vec();
                    inner.push(m.ident.to_string());
                    if let Some((_, items)) = &m.content {
                        self.items(items, &ModulePath::from(inner.as_slice()));
                    }
                    self.modules.insert(inner);
                }
                _ => {}
            }
        }
    }

    /// The framework of a bare `#[get("/x")]`: rocket or actix-web, as the imports say.
    pub(super) fn file_framework(&self, names: &RouteNames) -> Framework {
        let mentions = |framework: Framework| {
            self.imports
                .iter()
                .any(|i| i.target.first().and_then(|t| names.crate_framework(t)) == Some(framework))
        };
        match (mentions(Framework::Rocket), mentions(Framework::ActixWeb)) {
            (true, false) => Framework::Rocket,
            (false, true) => Framework::ActixWeb,
            _ => Framework::Unknown,
        }
    }
}

impl Walker<'_> {
    /// Whose function `path` (a callee) names: `Some` when it is a framework's — through the
    /// imports, a framework crate or module path, or a bare name that no local function,
    /// module or binding of this scope takes (a glob or a prelude brings it); `None` for the
    /// crate's own functions and other crates'.
    pub(super) fn framework_of(&self, path: &syn::Path) -> Option<Framework> {
        let segments = path_segments(path);
        let first = segments.first()?;
        if path.leading_colon.is_none() {
            if let Some(import) = self.import(first) {
                let root = import.target.first()?;
                return self.names.crate_framework(root);
            }
            if matches!(first.as_str(), "crate" | "self" | "super" | "Self") || self.is_local_name(first) {
                return None;
            }
        }
        if let Some(f) = self.names.crate_framework(first) {
            return Some(f);
        }
        if path.leading_colon.is_some() {
            return None;
        }
        if let Some(f) = self.names.module_framework(first) {
            return Some(self.glob_framework().unwrap_or(f));
        }
        match (segments.len(), self.glob_framework()) {
            (_, Some(f)) => Some(f),
            (1, None) => Some(Framework::Unknown),
            _ => None,
        }
    }

    /// The framework of a file's method-less forms: what its imports name.
    pub(super) fn router_framework(&self, default: Framework) -> Framework {
        let imports = self.scan.imports.iter().chain(&self.block_imports);
        imports
            .filter_map(|i| i.target.first())
            .find_map(|root| self.names.crate_framework(root))
            .filter(|f| matches!(f, Framework::Axum | Framework::Poem | Framework::ActixWeb))
            .unwrap_or(default)
    }

    fn import(&self, alias: &str) -> Option<&Import> {
        self.block_imports.iter().rev().find(|i| !i.glob && i.alias == alias).or_else(|| {
            self.scan.imports.iter().find(|i| !i.glob && i.alias == alias && *i.module == *self.module)
        })
    }

    fn glob_framework(&self) -> Option<Framework> {
        let module_globs = self.scan.imports.iter().filter(|i| *i.module == *self.module);
        self.block_imports
            .iter()
            .chain(module_globs)
            .filter(|i| i.glob)
            .filter_map(|i| i.target.first())
            .find_map(|root| self.names.crate_framework(root))
    }

    pub(super) fn is_local_name(&self, name: &str) -> bool {
        self.has_local(name)
            || self.block_fns.iter().any(|f| f == name)
            || self.scan.fns.contains(&(self.module.to_vec(), name.to_string()))
            || self.scan.modules.contains(&[&self.module[..], &[name.to_string()]].concat())
    }
}
