//! The crate graph of the analysed tree, from its `Cargo.toml` files.
//!
//! A file belongs to the package whose manifest is the nearest above it. A package's crate is
//! named by its `[lib] name`, else its package name, with `-` as `_`; the directory name does
//! not matter. Workspace `members` (globs in their last component included) and `path`
//! dependencies (renamed ones by the name the code uses) are read too, so that
//! `other_crate::f(..)` names the right sibling. Reads manifests only, never sources; a
//! manifest that cannot be read or parsed is a directory without a package, never an error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::hash::NameMap;

/// Index of a crate in [`CrateGraph`].
pub type CrateId = usize;

/// How many manifests one run reads at most (a guard against a pathological tree).
const MAX_MANIFESTS: usize = 4096;
/// Manifests larger than this are not read.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// One package of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crate {
    /// The library's name as code writes it (`my_app_db` for package `my-app-db`).
    pub name: String,
    /// The directory of its `Cargo.toml`.
    pub dir: PathBuf,
    /// Its path dependencies: the name the code uses, and the dependency's directory.
    pub deps: Vec<(String, PathBuf)>,
}

/// Packages by directory and by name.
#[derive(Debug, Default)]
pub struct CrateGraph {
    crates: Vec<Crate>,
    by_dir: NameMap<PathBuf, CrateId>,
    by_name: NameMap<String, Vec<CrateId>>,
    /// Directory -> the manifest directory that owns it (memo of the upward search).
    owner: HashMap<PathBuf, Option<PathBuf>>,
}

impl CrateGraph {
    /// The graph of the packages that own `files`, their workspaces' members and their path
    /// dependencies.
    pub fn discover<'a>(files: impl IntoIterator<Item = &'a Path>) -> CrateGraph {
        let mut graph = CrateGraph::default();
        let mut todo: Vec<PathBuf> = Vec::new();
        for file in files {
            if let Some(dir) = graph.manifest_dir_of(file) {
                todo.push(dir);
            }
        }
        let mut read = 0;
        while let Some(dir) = todo.pop() {
            if graph.by_dir.contains_key(&dir) || read >= MAX_MANIFESTS {
                continue;
            }
            read += 1;
            // The workspace above a package lists its siblings.
            if let Some(above) = dir.parent().and_then(self_or_above_manifest) {
                todo.push(above);
            }
            let Some(manifest) = read_manifest(&dir) else { continue };
            todo.extend(workspace_members(&dir, &manifest));
            let Some(name) = crate_name(&manifest) else {
                // A virtual workspace manifest: no crate of its own.
                graph.by_dir.insert(dir, usize::MAX);
                continue;
            };
            let deps = path_dependencies(&dir, &manifest);
            todo.extend(deps.iter().map(|(_, d)| d.clone()));
            let id = graph.crates.len();
            graph.by_name.entry(name.clone()).or_default().push(id);
            graph.by_dir.insert(dir.clone(), id);
            graph.crates.push(Crate { name, dir, deps });
        }
        graph.by_dir.retain(|_, id| *id != usize::MAX);
        graph
    }

    /// The crate `id`.
    pub fn get(&self, id: CrateId) -> &Crate {
        &self.crates[id]
    }

    /// The crate a source file belongs to: the package of the nearest manifest above it.
    pub fn crate_of(&self, file: &Path) -> Option<CrateId> {
        file.ancestors().skip(1).find_map(|dir| self.by_dir.get(dir).copied())
    }

    /// The crate `name` means in code of crate `from`: a path dependency by the name the code
    /// uses, else the only crate of the tree with that name.
    pub fn named(&self, from: Option<CrateId>, name: &str) -> Option<CrateId> {
        if let Some(from) = from {
            let krate = &self.crates[from];
            if let Some((_, dir)) = krate.deps.iter().find(|(n, _)| n == name) {
                return self.by_dir.get(dir).copied();
            }
            if krate.name == name {
                return Some(from);
            }
        }
        match self.by_name.get(name).map(Vec::as_slice) {
            Some([only]) => Some(*only),
            _ => None,
        }
    }

    /// The directory of the manifest nearest above `file`, remembered per directory.
    fn manifest_dir_of(&mut self, file: &Path) -> Option<PathBuf> {
        let mut walked = Vec::new();
        let mut found = None;
        for dir in file.ancestors().skip(1) {
            if let Some(known) = self.owner.get(dir) {
                found = known.clone();
                break;
            }
            walked.push(dir.to_path_buf());
            if dir.join("Cargo.toml").is_file() {
                found = Some(dir.to_path_buf());
                break;
            }
        }
        for dir in walked {
            self.owner.insert(dir, found.clone());
        }
        found
    }
}

/// The nearest directory at or above `dir` that holds a `Cargo.toml`.
fn self_or_above_manifest(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().find(|d| d.join("Cargo.toml").is_file()).map(Path::to_path_buf)
}

fn read_manifest(dir: &Path) -> Option<toml::Table> {
    let bytes = crate::source::read_bytes(&dir.join("Cargo.toml"), MAX_MANIFEST_BYTES).ok()?;
    toml::from_str(std::str::from_utf8(&bytes).ok()?).ok()
}

/// The library name of the package whose manifest is in `dir` ([`crate_name`]), if it has
/// a readable one.
pub(crate) fn library_name(dir: &Path) -> Option<String> {
    crate_name(&read_manifest(dir)?)
}

/// `[lib] name`, else `[package] name`, with `-` as `_`.
fn crate_name(manifest: &toml::Table) -> Option<String> {
    let lib = manifest.get("lib").and_then(|l| l.get("name")).and_then(|n| n.as_str());
    let package = manifest.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str());
    lib.or(package).map(|n| n.replace('-', "_"))
}

/// The member directories of a `[workspace]`, with `*` in a member's last component expanded.
fn workspace_members(dir: &Path, manifest: &toml::Table) -> Vec<PathBuf> {
    let Some(members) = manifest.get("workspace").and_then(|w| w.get("members")).and_then(|m| m.as_array())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for member in members.iter().filter_map(|m| m.as_str()) {
        let path = Path::new(member);
        let last = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !last.contains('*') {
            out.push(dir.join(path));
            continue;
        }
        let parent = dir.join(path.parent().unwrap_or(Path::new("")));
        let (prefix, suffix) = last.split_once('*').unwrap_or((last, ""));
        let Ok(entries) = std::fs::read_dir(&parent) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(prefix) && name.ends_with(suffix) && entry.path().join("Cargo.toml").is_file()
            {
                out.push(entry.path());
            }
        }
    }
    out
}

/// Path dependencies of every dependency table: (the name code uses, the directory).
fn path_dependencies(dir: &Path, manifest: &toml::Table) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for_each_dependency(manifest, &mut |key, spec| {
        if let Some(path) = spec.and_then(|s| s.get("path")).and_then(|p| p.as_str()) {
            out.push((key.replace('-', "_"), super::location::normalise(&dir.join(path))));
        }
    });
    out
}

/// Calls `f(name, spec)` for every dependency of every dependency table of a manifest (`spec`
/// is the table of a `name = { .. }` entry).
pub(crate) fn for_each_dependency(table: &toml::Table, f: &mut dyn FnMut(&str, Option<&toml::Table>)) {
    const TABLES: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];
    let mut visit = |deps: Option<&toml::Value>| {
        for (name, spec) in deps.and_then(toml::Value::as_table).into_iter().flatten() {
            f(name, spec.as_table());
        }
    };
    for key in TABLES {
        visit(table.get(key));
    }
    if let Some(targets) = table.get("target").and_then(toml::Value::as_table) {
        for target in targets.values() {
            for key in TABLES {
                visit(target.get(key));
            }
        }
    }
    visit(table.get("workspace").and_then(|w| w.get("dependencies")));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn crates_are_named_by_their_manifest_not_their_directory() {
        let tmp = tempfile::tempdir().expect("a temp dir");
        let root = tmp.path();
        write(root, "Cargo.toml", "[workspace]\nmembers = [\"crates/*\", \"app\"]\n");
        write(root, "app/Cargo.toml", "[package]\nname = \"my-app\"\n[dependencies]\nstore = { path = \"../crates/db-layer\", package = \"acme-store\" }\n");
        write(root, "app/src/main.rs", "");
        write(root, "crates/db-layer/Cargo.toml", "[package]\nname = \"acme-store\"\n");
        write(root, "crates/db-layer/src/lib.rs", "");
        write(root, "crates/util/Cargo.toml", "[package]\nname = \"u\"\n[lib]\nname = \"util_lib\"\n");
        let main = root.join("app/src/main.rs");
        let graph = CrateGraph::discover([main.as_path()]);
        let app = graph.crate_of(&main).expect("the app crate");
        assert_eq!(graph.get(app).name, "my_app");
        let store = graph.named(Some(app), "store").expect("the renamed dependency");
        assert_eq!(graph.get(store).name, "acme_store");
        assert_eq!(graph.named(None, "acme_store"), Some(store));
        assert!(graph.named(None, "util_lib").is_some(), "a glob member by its [lib] name");
        assert_eq!(graph.crate_of(&root.join("crates/db-layer/src/lib.rs")), Some(store));
        assert_eq!(graph.named(None, "db_layer"), None, "the directory name is not the crate's");
    }
}
