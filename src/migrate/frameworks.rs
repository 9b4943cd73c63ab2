//! Which web frameworks the crate graph of a run depends on, read cheaply from `Cargo.toml`
//! files: the manifest nearest to each walked file's directory (inside the paths the run was
//! given: a manifest above them may not own the files), and the manifests of the path
//! dependencies they name (so a framework re-exported by a sibling core crate counts). A
//! dependency counts by its key or its `package = ".."` rename, in every dependency table
//! (`[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`, `[target.*.*]`,
//! `[workspace.dependencies]`).
//!
//! `migrate` screens files for route markers only when some framework is present, or when no
//! manifest is found at all (a loose tree of sources: nothing is known, everything is screened).
//! It reads `Cargo.toml` files only and never decides what a route is.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// What the manifests say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frameworks {
    /// No manifest was found: unknown.
    Unknown,
    /// No manifest depends on a framework crate.
    Absent,
    /// Some manifest does.
    Present,
}

/// Looks at the manifests of the crates holding `files`, for any of `crates` (crate names with
/// `_`; a `-` in a dependency name counts as `_`).
pub fn present(roots: &[PathBuf], files: &[&Path], crates: &[&str]) -> Frameworks {
    let roots: Vec<PathBuf> = roots
        .iter()
        .filter_map(|r| std::fs::canonicalize(r).ok())
        .map(|r| if r.is_dir() { r } else { r.parent().map(Path::to_path_buf).unwrap_or(r) })
        .collect();
    let mut nearest: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
    let mut manifests: Vec<PathBuf> = Vec::new();
    let mut seen_dirs: HashSet<PathBuf> = HashSet::new();
    for file in files {
        let Some(dir) = file.parent() else { continue };
        if !seen_dirs.insert(dir.to_path_buf()) {
            continue;
        }
        let Ok(dir) = std::fs::canonicalize(if dir.as_os_str().is_empty() { Path::new(".") } else { dir })
        else {
            continue;
        };
        let Some(root) = roots.iter().find(|r| dir.starts_with(r)) else { continue };
        if let Some(manifest) = nearest_manifest(&dir, root, &mut nearest) {
            manifests.push(manifest);
        }
    }
    if manifests.is_empty() {
        return Frameworks::Unknown;
    }
    let mut read: HashSet<PathBuf> = HashSet::new();
    while let Some(manifest) = manifests.pop() {
        let key = std::fs::canonicalize(&manifest).unwrap_or_else(|_| manifest.clone());
        if !read.insert(key) {
            continue;
        }
        let Some(table) = std::fs::read_to_string(&manifest).ok().and_then(|t| t.parse::<toml::Table>().ok())
        else {
            continue;
        };
        let dir = manifest.parent().unwrap_or(Path::new("."));
        let mut found = false;
        for_each_dependency(&table, &mut |name, spec| {
            let package = spec.and_then(|s| s.get("package")).and_then(toml::Value::as_str).unwrap_or(name);
            found |= crates.iter().any(|c| package.replace('-', "_") == *c);
            if let Some(path) = spec.and_then(|s| s.get("path")).and_then(toml::Value::as_str) {
                manifests.push(dir.join(path).join("Cargo.toml"));
            }
        });
        if found {
            return Frameworks::Present;
        }
    }
    Frameworks::Absent
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

/// Calls `f(name, spec)` for every dependency of every dependency table of a manifest (`spec`
/// is the table of a `name = { .. }` entry).
fn for_each_dependency(table: &toml::Table, f: &mut dyn FnMut(&str, Option<&toml::Table>)) {
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
        assert_eq!(present(&[direct.path().to_path_buf()], &[&file], CRATES), Frameworks::Present);

        let renamed = tree(&[
            (
                "Cargo.toml",
                "[target.'cfg(unix)'.dependencies]\nweb = { package = \"actix-web\", version = \"4\" }\n",
            ),
            ("src/lib.rs", ""),
        ]);
        let file = renamed.path().join("src/lib.rs");
        assert_eq!(present(&[renamed.path().to_path_buf()], &[&file], CRATES), Frameworks::Present);

        // `api` depends on `core` by path; `core` re-exports axum.
        let graph = tree(&[
            ("api/Cargo.toml", "[dependencies]\napp_core = { path = \"../core\" }\n"),
            ("api/src/routes.rs", ""),
            ("core/Cargo.toml", "[dependencies]\naxum = { workspace = true }\n"),
        ]);
        let file = graph.path().join("api/src/routes.rs");
        assert_eq!(present(&[graph.path().to_path_buf()], &[&file], CRATES), Frameworks::Present);
    }

    #[test]
    fn no_framework_or_no_manifest() {
        let plain = tree(&[
            ("Cargo.toml", "[dependencies]\nserde = \"1\"\naxum-extra-ish = \"1\"\n"),
            ("src/a.rs", ""),
        ]);
        let file = plain.path().join("src/a.rs");
        assert_eq!(present(&[plain.path().to_path_buf()], &[&file], CRATES), Frameworks::Absent);
        let loose = tempfile::tempdir().unwrap();
        let file = loose.path().join("a.rs");
        std::fs::write(&file, "").unwrap();
        assert_eq!(present(&[loose.path().to_path_buf()], &[&file], CRATES), Frameworks::Unknown);
    }
}
