//! Which web frameworks the crate graph of a run depends on, read cheaply from `Cargo.toml`
//! files: the manifest nearest to each walked file's directory (inside the paths the run was
//! given: a manifest above them may not own the files), and the manifests of the path
//! dependencies they name (so a framework re-exported by a sibling core crate counts). A
//! dependency counts by its key or its `package = ".."` rename, in every dependency table
//! (`[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`, `[target.*.*]`,
//! `[workspace.dependencies]`).
//!
//! `migrate` screens a file for route markers only when its crate's graph holds a framework, or
//! when no manifest owns it (a loose tree of sources: nothing is known, it is screened).
//! When no crate graph holds one, [`stand_in`] still tells whether the tree writes a module
//! named like a framework (`src/axum.rs`: a stand-in, as offline test projects do); with
//! neither, no file can register a route and `migrate` parses nothing.
//! It reads `Cargo.toml` files and file names only and never decides what a route is.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::workspace::crates::for_each_dependency;

/// For each of `files`: whether it may register routes — the crate graph of the crate that
/// owns it depends on one of `crates` (crate names with `_`; a `-` in a dependency name counts
/// as `_`), or no manifest inside `roots` owns it (nothing is known).
pub fn route_screens(roots: &[PathBuf], files: &[&Path], crates: &[&str]) -> Vec<bool> {
    let roots: Vec<PathBuf> = roots
        .iter()
        .filter_map(|r| std::fs::canonicalize(r).ok())
        .map(|r| if r.is_dir() { r } else { r.parent().map(Path::to_path_buf).unwrap_or(r) })
        .collect();
    let mut nearest: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
    let mut by_dir: HashMap<PathBuf, bool> = HashMap::new();
    let mut graph = Graph { crates, known: HashMap::new() };
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if let Some(&screen) = by_dir.get(dir) {
            out.push(screen);
            continue;
        }
        let manifest = std::fs::canonicalize(dir).ok().and_then(|abs| {
            let root = roots.iter().find(|r| abs.starts_with(r))?;
            nearest_manifest(&abs, root, &mut nearest)
        });
        let screen = manifest.is_none_or(|m| graph.uses_framework(&m));
        by_dir.insert(dir.to_path_buf(), screen);
        out.push(screen);
    }
    out
}

/// Whether one of `files` is a module file named like one of `crates` (`axum.rs`,
/// `actix_web/mod.rs`): the tree writes a stand-in of that framework, which its manifests
/// cannot show.
pub fn stand_in(files: &[&Path], crates: &[&str]) -> bool {
    files.iter().any(|file| {
        let module = match file.file_stem().and_then(|s| s.to_str()) {
            Some("mod") => file.parent().and_then(Path::file_name).and_then(|s| s.to_str()),
            stem => stem,
        };
        file.extension().is_some_and(|e| e == "rs") && module.is_some_and(|m| crates.contains(&m))
    })
}

/// Manifests read so far, and whether their crate graph holds a framework.
struct Graph<'a> {
    crates: &'a [&'a str],
    known: HashMap<PathBuf, bool>,
}

impl Graph<'_> {
    fn uses_framework(&mut self, manifest: &Path) -> bool {
        let key = std::fs::canonicalize(manifest).unwrap_or_else(|_| manifest.to_path_buf());
        if let Some(&known) = self.known.get(&key) {
            return known;
        }
        // A cycle of path dependencies ends here.
        self.known.insert(key.clone(), false);
        let table = std::fs::read_to_string(&key).ok().and_then(|t| t.parse::<toml::Table>().ok());
        let Some(table) = table else { return false };
        let dir = key.parent().unwrap_or(Path::new("/")).to_path_buf();
        let mut found = false;
        let mut paths = Vec::new();
        for_each_dependency(&table, &mut |name, spec| {
            let package = spec.and_then(|s| s.get("package")).and_then(toml::Value::as_str).unwrap_or(name);
            found |= self.crates.iter().any(|c| package.replace('-', "_") == *c);
            if let Some(path) = spec.and_then(|s| s.get("path")).and_then(toml::Value::as_str) {
                paths.push(dir.join(path).join("Cargo.toml"));
            }
        });
        let found = found || paths.iter().any(|p| self.uses_framework(p));
        self.known.insert(key, found);
        found
    }
}

/// The `Cargo.toml` at or above `dir` (absolute) but not above `root`, memoised per directory.
fn nearest_manifest(
    dir: &Path,
    root: &Path,
    memo: &mut HashMap<PathBuf, Option<PathBuf>>,
) -> Option<PathBuf> {
    let mut climbed = Vec::new();
    let mut found = None;
    for d in dir.ancestors().take_while(|d| d.starts_with(root)) {
        if let Some(known) = memo.get(d) {
            found = known.clone();
            break;
        }
        climbed.push(d.to_path_buf());
        let candidate = d.join("Cargo.toml");
        if candidate.is_file() {
            found = Some(candidate);
            break;
        }
    }
    for d in climbed {
        memo.insert(d, found.clone());
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    const CRATES: &[&str] = &["axum", "actix_web"];

    #[test]
    fn a_framework_is_found_directly_renamed_or_behind_a_path_dependency() {
        let direct = tree(&[("Cargo.toml", "[dependencies]\naxum = \"0.8\"\n"), ("src/main.rs", "")]);
        let file = direct.path().join("src/main.rs");
        assert_eq!(route_screens(&[direct.path().to_path_buf()], &[&file], CRATES), vec![true]);

        let renamed = tree(&[
            (
                "Cargo.toml",
                "[target.'cfg(unix)'.dependencies]\nweb = { package = \"actix-web\", version = \"4\" }\n",
            ),
            ("src/lib.rs", ""),
        ]);
        let file = renamed.path().join("src/lib.rs");
        assert_eq!(route_screens(&[renamed.path().to_path_buf()], &[&file], CRATES), vec![true]);

        // `api` depends on `core` by path; `core` re-exports axum.
        let graph = tree(&[
            ("api/Cargo.toml", "[dependencies]\napp_core = { path = \"../core\" }\n"),
            ("api/src/routes.rs", ""),
            ("core/Cargo.toml", "[dependencies]\naxum = { workspace = true }\n"),
        ]);
        let file = graph.path().join("api/src/routes.rs");
        assert_eq!(route_screens(&[graph.path().to_path_buf()], &[&file], CRATES), vec![true]);
    }

    #[test]
    fn no_framework_or_no_manifest() {
        // Per crate: the one without a framework is not screened for routes.
        let two = tree(&[
            ("web/Cargo.toml", "[dependencies]\naxum = \"0.8\"\n"),
            ("web/src/a.rs", ""),
            ("util/Cargo.toml", "[dependencies]\nserde = \"1\"\n"),
            ("util/src/b.rs", ""),
        ]);
        let (a, b) = (two.path().join("web/src/a.rs"), two.path().join("util/src/b.rs"));
        assert_eq!(route_screens(&[two.path().to_path_buf()], &[&a, &b], CRATES), vec![true, false]);
        let plain = tree(&[
            ("Cargo.toml", "[dependencies]\nserde = \"1\"\naxum-extra-ish = \"1\"\n"),
            ("src/a.rs", ""),
        ]);
        let file = plain.path().join("src/a.rs");
        assert_eq!(route_screens(&[plain.path().to_path_buf()], &[&file], CRATES), vec![false]);
        assert!(!stand_in(&[&a, &b], CRATES));
        assert!(stand_in(&[&a, Path::new("util/src/axum.rs")], CRATES));
        assert!(stand_in(&[Path::new("src/actix_web/mod.rs")], CRATES));
        assert!(!stand_in(&[Path::new("src/axum/routing.rs"), Path::new("src/axum.txt")], CRATES));
        let loose = tempfile::tempdir().unwrap();
        let file = loose.path().join("a.rs");
        std::fs::write(&file, "").unwrap();
        assert_eq!(route_screens(&[loose.path().to_path_buf()], &[&file], CRATES), vec![true]);
    }
}
