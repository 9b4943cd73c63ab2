//! Resolving a handler reference to its `fn`, across the files of the tree.
//!
//! Works on owned [`FileRoutes`] only. Scoping follows Rust's, as far as names tell: for a
//! bare name, `fn` items of the enclosing bodies, then `use` names of those bodies, then the
//! module's own functions, its `use` names, its glob imports; for a path, `crate::`,
//! `self::`, `super::`, a `use` name or a child module for its first segment, then the
//! module's globs, then the crate root (2015 paths) and — from `main.rs`, binaries, tests and
//! examples — the package's own name (`my_app::api::list` into the library). Through a module, `pub use` re-exports and globs are
//! followed (to a bounded depth); `Type::method` and `Self::method` find `impl` methods.
//! Crates are told apart by [`ModuleLocation::crate_root`]; a path resolves into another crate
//! only through the package's library or a sibling crate the shared [`CrateGraph`] names
//! (by its `[lib]`/package name, whatever its directory). When two functions match (`#[cfg]` alternatives), the first in file order wins.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::facts::{FileRoutes, ModulePath};
use crate::workspace::crates::CrateGraph;
use crate::workspace::location::ModuleLocation;

/// How deep re-exports and globs are followed.
const MAX_DEPTH: usize = 16;

/// A function of the tree: (index of its file, index in [`FileRoutes::functions`]).
pub type FnKey = (usize, usize);

/// Where a reference is written.
#[derive(Debug, Clone, Copy)]
pub struct RefScope<'a> {
    /// Index of the file.
    pub file: usize,
    /// The module (inline modules included).
    pub module: &'a [String],
    /// The innermost function whose body holds the reference.
    pub within: Option<usize>,
    /// The self type of the enclosing `impl`.
    pub owner: Option<&'a str>,
}

/// The functions, imports and modules of a tree, by crate and module.
pub struct TreeIndex<'a> {
    files: &'a [&'a FileRoutes],
    crates: HashMap<&'a Path, CrateIndex>,
    /// The packages, for paths into a sibling crate by its crate name.
    graph: &'a CrateGraph,
}

#[derive(Default)]
struct CrateIndex {
    /// Module → functions defined at its level (not inside bodies).
    fns: HashMap<ModulePath, Vec<FnKey>>,
    /// Owner type → its methods, anywhere in the crate.
    by_owner: HashMap<String, Vec<FnKey>>,
    /// Module → its module-level imports: (file, import index).
    imports: HashMap<ModulePath, Vec<(usize, usize)>>,
    /// Every module known to exist.
    modules: HashSet<Vec<String>>,
}

impl CrateIndex {
    fn add_module(&mut self, module: &[String]) {
        // A known module's parents are known too (most functions are in one).
        if self.modules.contains(module) {
            return;
        }
        for len in 0..=module.len() {
            self.modules.insert(module[..len].to_vec());
        }
    }
}

impl<'a> TreeIndex<'a> {
    /// Indexes `files`; `graph` names the sibling crates.
    pub fn new(files: &'a [&'a FileRoutes], graph: &'a CrateGraph) -> TreeIndex<'a> {
        let mut crates: HashMap<&Path, CrateIndex> = HashMap::new();
        for (fi, file) in files.iter().enumerate() {
            let krate = crates.entry(file.location.crate_root.as_path()).or_default();
            krate.add_module(&file.location.module);
            for module in &file.modules {
                krate.add_module(module);
            }
            for (i, f) in file.functions.iter().enumerate() {
                krate.add_module(&f.module);
                if f.parent.is_none() {
                    krate.fns.entry(f.module.clone()).or_default().push((fi, i));
                    if let Some(owner) = &f.owner {
                        match krate.by_owner.get_mut(owner) {
                            Some(methods) => methods.push((fi, i)),
                            None => _ = krate.by_owner.insert(owner.clone(), vec![(fi, i)]),
                        }
                    }
                }
            }
            for (i, import) in file.imports.iter().enumerate() {
                if import.within.is_none() {
                    krate.imports.entry(import.module.clone()).or_default().push((fi, i));
                }
            }
        }
        TreeIndex { files, crates, graph }
    }

    /// The function `segments` names, seen from `scope`.
    pub fn resolve(&self, segments: &[String], scope: RefScope<'_>) -> Option<FnKey> {
        let file = &self.files[scope.file];
        let krate = self.crates.get(file.location.crate_root.as_path())?;
        let lookup = Lookup { index: self, krate, file: scope.file };
        match segments {
            [] => None,
            [name] => lookup.bare(name, scope),
            [first, second] if first == "Self" => {
                lookup.method(scope.module, scope.owner?, second, Some(scope.file))
            }
            [first, rest @ ..] => lookup.qualified(first, rest, segments, scope),
        }
    }

    /// Why `segments` (written `text`) resolves to no function, seen from `scope`: the path
    /// it names after a `use` of its first segment, and where it was looked for.
    pub fn why_unresolved(&self, segments: &[String], text: &str, scope: RefScope<'_>) -> String {
        let file = &self.files[scope.file];
        let Some((first, rest)) = segments.split_first() else { return format!("`{text}`: an empty path") };
        let import = file.imports.iter().find(|i| !i.glob && &i.alias == first && *i.module == *scope.module);
        let full = import.map_or_else(|| segments.to_vec(), |i| [i.target.as_slice(), rest].concat());
        let (head, tail) = full.split_first().unwrap_or((first, rest));
        let sibling = self.graph.named(self.graph.crate_of(&file.file), head);
        let in_crate = self.crates.get(file.location.crate_root.as_path()).is_some_and(|k| {
            k.modules.contains(std::slice::from_ref(head))
                || k.modules.contains(&[scope.module, std::slice::from_ref(head)].concat())
        });
        let why = if tail.is_empty() {
            let elsewhere: Vec<String> = self
                .files
                .iter()
                .flat_map(|f| &f.functions)
                .filter(|f| f.parent.is_none() && f.owner.is_none() && &f.name == head)
                .map(|f| [&f.module[..], std::slice::from_ref(head)].concat().join("::"))
                .collect();
            match elsewhere.as_slice() {
                [] => format!("no function `{head}` in scope"),
                found => format!(
                    "no function `{head}` in scope; {} of that name elsewhere ({}): name its module",
                    found.len(),
                    found.join(", ")
                ),
            }
        } else if sibling.is_some() {
            format!("crate `{head}` has no function `{}`", tail.join("::"))
        } else if in_crate || matches!(head.as_str(), "crate" | "self" | "super" | "Self") {
            format!("no function `{}` in this crate", full.join("::"))
        } else {
            format!("`{head}` is no module of this crate and no crate of the tree")
        };
        format!("`{text}`: {why}")
    }
}

/// The `src` directory of the library a file outside it may name by the package's name.
fn package_library(file: &Path, location: &ModuleLocation) -> Option<PathBuf> {
    let root = location.crate_root.as_path();
    let is_main = file.file_name().is_some_and(|n| n == "main.rs") && location.module.is_empty();
    if is_main && root.file_name().is_some_and(|n| n == "src") {
        return Some(root.to_path_buf());
    }
    let mut dir = Some(root);
    while let Some(d) = dir {
        if d.file_name().is_some_and(|n| n == "bin")
            && d.parent().and_then(Path::file_name).is_some_and(|n| n == "src")
        {
            return d.parent().map(Path::to_path_buf);
        }
        dir = d.parent();
    }
    let outside = root.file_name().is_some_and(|n| n == "tests" || n == "examples" || n == "benches");
    outside.then(|| root.parent().unwrap_or(Path::new("")).join("src"))
}

/// Resolution inside one crate.
struct Lookup<'i, 'a> {
    index: &'i TreeIndex<'a>,
    krate: &'i CrateIndex,
    file: usize,
}

impl<'a> Lookup<'_, 'a> {
    fn files(&self) -> &[&'a FileRoutes] {
        self.index.files
    }

    /// Enclosing functions, innermost first.
    fn enclosing(&self, within: Option<usize>) -> Vec<usize> {
        let functions = &self.files()[self.file].functions;
        let mut chain = Vec::new();
        let mut at = within;
        while let Some(i) = at {
            if chain.contains(&i) || i >= functions.len() {
                break;
            }
            chain.push(i);
            at = functions[i].parent;
        }
        chain
    }

    fn bare(&self, name: &str, scope: RefScope<'_>) -> Option<(usize, usize)> {
        let file = &self.files()[self.file];
        let enclosing = self.enclosing(scope.within);
        for &w in &enclosing {
            if let Some(i) = file.functions.iter().position(|f| f.parent == Some(w) && f.name == name) {
                return Some((self.file, i));
            }
            let uses = file.imports.iter().filter(|i| i.within == Some(w));
            for import in uses.clone().filter(|i| !i.glob && i.alias == name) {
                if let Some(found) = self.target(&import.target, &[], &import.module, 0) {
                    return Some(found);
                }
            }
            for import in uses.filter(|i| i.glob) {
                if let Some(found) = self.target(&import.target, &[name.to_string()], &import.module, 0) {
                    return Some(found);
                }
            }
        }
        self.in_module(scope.module, name, 0)
    }

    fn qualified(&self, first: &str, rest: &[String], all: &[String], scope: RefScope<'_>) -> Option<FnKey> {
        let module = scope.module;
        match first {
            "crate" => return self.absolute(rest, 0),
            "self" => return self.absolute(&[module, rest].concat(), 0),
            "super" => {
                let ups = all.iter().take_while(|s| *s == "super").count();
                let base = &module[..module.len().saturating_sub(ups)];
                return self.absolute(&[base, &all[ups..]].concat(), 0);
            }
            _ => {}
        }
        let file = &self.files()[self.file];
        let enclosing = self.enclosing(scope.within);
        let body_import = file
            .imports
            .iter()
            .find(|i| !i.glob && i.alias == first && i.within.is_some_and(|w| enclosing.contains(&w)));
        if let Some(import) = body_import.or_else(|| self.import(module, first)) {
            return self.target(&import.target, rest, &import.module, 0);
        }
        let child = [module, &[first.to_string()]].concat();
        if self.krate.modules.contains(&child) {
            return self.absolute(&[module, all].concat(), 0);
        }
        if let [name] = rest {
            if let Some(found) = self.method(module, first, name, None) {
                return Some(found);
            }
        }
        for (fi, i) in self.imports_of(module).filter(|&(fi, i)| self.files()[fi].imports[i].glob) {
            let import = &self.files()[fi].imports[i];
            if let Some(found) = self.target(&import.target, all, &import.module, 0) {
                return Some(found);
            }
        }
        // A sibling crate by its crate name, a 2015-style path from the crate root, or one
        // through the package's own name.
        self.through_sibling_crate(first, rest)
            .or_else(|| self.absolute(all, 0))
            .or_else(|| self.through_package_name(rest))
    }

    /// `rest` in the sibling crate the crate graph names `first` (a path dependency or a
    /// workspace member, by its `[lib]`/package name, whatever its directory).
    fn through_sibling_crate(&self, first: &str, rest: &[String]) -> Option<FnKey> {
        let graph = self.index.graph;
        let file = &self.files()[self.file];
        let from = graph.crate_of(&file.file);
        let target = graph.named(from, first).filter(|&t| Some(t) != from)?;
        let src = graph.get(target).dir.join("src");
        let krate = self.index.crates.get(src.as_path())?;
        Lookup { index: self.index, krate, file: self.file }.absolute(rest, 0)
    }

    /// `rest` in the package's library, for a path `my_app::rest` written where the library is
    /// another crate: in `src/main.rs`, a binary under `src/bin/`, or `tests/`, `examples/`,
    /// `benches/`. (Inside the library such a path does not compile, so a first segment that
    /// names nothing there is another crate.)
    fn through_package_name(&self, rest: &[String]) -> Option<FnKey> {
        let file = &self.files()[self.file];
        let lib_root = package_library(&file.file, &file.location)?;
        let krate = self.index.crates.get(lib_root.as_path())?;
        Lookup { index: self.index, krate, file: self.file }.absolute(rest, 0)
    }

    /// `name` as seen inside `module`: its function, a `use` name, a glob.
    fn in_module(&self, module: &[String], name: &str, depth: usize) -> Option<FnKey> {
        if depth > MAX_DEPTH {
            return None;
        }
        let own = self.krate.fns.get(module).into_iter().flatten();
        if let Some(&found) = own.clone().find(|&&(fi, i)| {
            let f = &self.files()[fi].functions[i];
            f.owner.is_none() && f.name == name
        }) {
            return Some(found);
        }
        if let Some(import) = self.import(module, name) {
            return self.target(&import.target, &[], &import.module, depth + 1);
        }
        for (fi, i) in self.imports_of(module) {
            let import = &self.files()[fi].imports[i];
            if import.glob {
                if let Some(found) =
                    self.target(&import.target, &[name.to_string()], &import.module, depth + 1)
                {
                    return Some(found);
                }
            }
        }
        None
    }

    /// A crate-absolute path (no leading `crate`).
    fn absolute(&self, segments: &[String], depth: usize) -> Option<FnKey> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (name, modules) = segments.split_last()?;
        let mut module: Vec<String> = Vec::new();
        for (i, seg) in modules.iter().enumerate() {
            let next = [module.as_slice(), std::slice::from_ref(seg)].concat();
            if self.krate.modules.contains(&next) {
                module = next;
                continue;
            }
            if i + 1 == modules.len() {
                if let Some(found) = self.method(&module, seg, name, None) {
                    return Some(found);
                }
            }
            if let Some(import) = self.import(&module, seg) {
                return self.target(&import.target, &segments[i + 1..], &import.module, depth + 1);
            }
            for (fi, ii) in self.imports_of(&module) {
                let import = &self.files()[fi].imports[ii];
                if import.glob {
                    if let Some(found) =
                        self.target(&import.target, &segments[i..], &import.module, depth + 1)
                    {
                        return Some(found);
                    }
                }
            }
            return None;
        }
        self.in_module(&module, name, depth)
    }

    /// An import's target followed by `rest`, as written in `module`.
    fn target(&self, target: &[String], rest: &[String], module: &[String], depth: usize) -> Option<FnKey> {
        let full = [target, rest].concat();
        let first = full.first()?;
        if first == "crate" {
            return self.absolute(&full[1..], depth);
        }
        // A child module of the importing module (2018 paths), or a top-level one (2015).
        if self.krate.modules.contains(&[module, std::slice::from_ref(first)].concat()) {
            return self.absolute(&[module, &full].concat(), depth);
        }
        if self.krate.modules.contains(&vec![first.clone()]) {
            return self.absolute(&full, depth);
        }
        // `use list as l;` of a function of the importing module.
        if let [name] = full.as_slice() {
            return self.in_module(module, name, depth + 1);
        }
        // `use sibling::{a, b};` then `a::f`: the path goes on in the sibling crate.
        self.through_sibling_crate(first, &full[1..])
    }

    /// `Type::name`: a method of `ty`'s `impl` in `module`, else the only method of that name
    /// of a type of that name in the crate (an `impl` may live in another module than its type).
    fn method(&self, module: &[String], ty: &str, name: &str, prefer_file: Option<usize>) -> Option<FnKey> {
        let methods: Vec<FnKey> = self
            .krate
            .by_owner
            .get(ty)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&(fi, i)| self.files()[fi].functions[i].name == name)
            .collect();
        let in_module = methods.iter().find(|&&(fi, i)| *self.files()[fi].functions[i].module == *module);
        let in_file = methods.iter().find(|&&(fi, _)| Some(fi) == prefer_file);
        match (in_module, in_file, methods.as_slice()) {
            (Some(found), _, _) | (None, Some(found), _) => Some(*found),
            (None, None, [only]) => Some(*only),
            _ => None,
        }
    }

    /// The explicit (non-glob) module-level import of `alias` in `module`.
    fn import(&self, module: &[String], alias: &str) -> Option<&super::facts::Import> {
        self.imports_of(module)
            .map(|(fi, i)| &self.files()[fi].imports[i])
            .find(|i| !i.glob && i.alias == alias)
    }

    fn imports_of<'s>(&'s self, module: &[String]) -> impl Iterator<Item = (usize, usize)> + Clone + 's {
        self.krate.imports.get(module).into_iter().flatten().copied()
    }
}
