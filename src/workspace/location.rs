//! Which crate and module a file is, from its path alone.
//!
//! Cargo's conventions: under the last `src/` directory, `lib.rs` and `main.rs` are the crate
//! root, `a/b.rs` is `a::b`, `a/mod.rs` is `a`; `src/bin/x.rs` and `src/bin/x/main.rs` are
//! crate roots of their own. A file outside any `src/` (a test, an example, a file named on
//! the command line) is a module of its directory: `lib.rs`/`main.rs`/`mod.rs` the root,
//! `x.rs` the module `x`. `#[path = ".."]` attributes are [`super::Workspace`]'s to apply.
//! Never reads the disk.

use std::path::{Component, Path, PathBuf};

/// A file's place in its crate.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleLocation {
    /// What identifies the crate: its `src` directory (or `src/bin/x` directory, or the
    /// `src/bin/x.rs` file, or the directory of a file outside any `src`).
    pub crate_root: PathBuf,
    /// The module path from the crate root (empty for the root).
    pub module: Vec<String>,
}

/// The crate and module of the file at `path` (as walked: relative or absolute).
pub fn locate(path: &Path) -> ModuleLocation {
    let parts: Vec<String> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let prefix_of = |n: usize| -> PathBuf {
        // The path up to and including its n-th normal component, with any root or `..` kept.
        let mut out = PathBuf::new();
        let mut seen = 0;
        for c in path.components() {
            if seen == n {
                break;
            }
            out.push(c.as_os_str());
            if matches!(c, Component::Normal(_)) {
                seen += 1;
            }
        }
        out
    };
    let Some((file, dirs)) = parts.split_last() else {
        return ModuleLocation { crate_root: PathBuf::new(), module: Vec::new() };
    };
    let stem = file.strip_suffix(".rs").unwrap_or(file);
    // The crate's `src`: the last one below which every directory can be a module (so
    // `~/.cargo/registry/src/index.crates.io-…/pkg/tests/x.rs` is outside any crate's `src`).
    let src = dirs.iter().rposition(|d| d == "src").filter(|&i| dirs[i + 1..].iter().all(|d| is_ident(d)));
    let Some(src) = src else {
        let crate_root = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let module = if matches!(stem, "lib" | "main" | "mod") { Vec::new() } else { vec![stem.to_string()] };
        return ModuleLocation { crate_root, module };
    };
    let mut inner: Vec<&str> = dirs[src + 1..].iter().map(String::as_str).collect();
    let mut crate_root = prefix_of(src + 1);
    if inner.first() == Some(&"bin") {
        if inner.len() == 1 {
            // src/bin/x.rs: a crate of one file.
            return ModuleLocation { crate_root: path.to_path_buf(), module: Vec::new() };
        }
        crate_root = prefix_of(src + 3);
        inner.drain(..2);
        if inner.is_empty() && stem == "main" {
            return ModuleLocation { crate_root, module: Vec::new() };
        }
    } else if inner.is_empty() && matches!(stem, "lib" | "main") {
        return ModuleLocation { crate_root, module: Vec::new() };
    }
    let mut module: Vec<String> = inner.iter().map(|s| s.to_string()).collect();
    if stem != "mod" {
        module.push(stem.to_string());
    }
    ModuleLocation { crate_root, module }
}

/// The crate and module of an item written in inline module `inline` (`mod a { mod b { … } }`:
/// `["a", "b"]`) of the file at `path`.
pub fn locate_within(path: &Path, inline: &[String]) -> ModuleLocation {
    let mut place = locate(path);
    place.module.extend(inline.iter().cloned());
    place
}

/// Whether a directory name can be a module name.
fn is_ident(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// `a/b/../c` as `a/c`, without touching the disk (so paths compare as walked).
pub fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir if out.file_name().is_some_and(|n| n != "..") => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(path: &str) -> Vec<String> {
        locate(Path::new(path)).module
    }

    fn root(path: &str) -> PathBuf {
        locate(Path::new(path)).crate_root
    }

    #[test]
    fn modules_follow_cargo_conventions() {
        assert_eq!(module("src/api/users.rs"), ["api", "users"]);
        assert_eq!(module("src/lib.rs"), Vec::<String>::new());
        assert_eq!(module("./src/main.rs"), Vec::<String>::new());
        assert_eq!(module("src/api/mod.rs"), ["api"]);
        assert_eq!(module("src/api.rs"), ["api"]);
        assert_eq!(module("src/api/main.rs"), ["api", "main"], "main.rs below the root is a module");
        assert_eq!(module("crates/web/src/routes/mod.rs"), ["routes"]);
    }

    #[test]
    fn crates_are_told_apart() {
        assert_eq!(root("crates/web/src/routes/mod.rs"), Path::new("crates/web/src"));
        assert_eq!(root("src/lib.rs"), root("src/api/users.rs"));
        assert_ne!(root("crates/a/src/lib.rs"), root("crates/b/src/lib.rs"));
        assert_eq!(root("/abs/app/src/api.rs"), Path::new("/abs/app/src"));
    }

    #[test]
    fn binaries_are_crates_of_their_own() {
        let one = locate(Path::new("src/bin/tool.rs"));
        assert_eq!((one.crate_root.as_path(), one.module.len()), (Path::new("src/bin/tool.rs"), 0));
        let dir = locate(Path::new("src/bin/tool/main.rs"));
        assert_eq!((dir.crate_root.as_path(), dir.module.len()), (Path::new("src/bin/tool"), 0));
        assert_eq!(module("src/bin/tool/helpers.rs"), ["helpers"]);
        assert_eq!(root("src/bin/tool/helpers.rs"), Path::new("src/bin/tool"));
    }

    #[test]
    fn files_outside_src_are_modules_of_their_directory() {
        assert_eq!(module("tests/api.rs"), ["api"]);
        assert_eq!(root("tests/api.rs"), Path::new("tests"));
        assert_eq!(module("examples/main.rs"), Vec::<String>::new());
        assert_eq!(module("app.rs"), ["app"]);
        let registry = "/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/axum-0.8.9";
        assert_eq!(module(&format!("{registry}/tests/panic_location.rs")), ["panic_location"]);
        assert_eq!(
            root(&format!("{registry}/tests/panic_location.rs")),
            Path::new(&format!("{registry}/tests"))
        );
        assert_eq!(module(&format!("{registry}/src/routing/mod.rs")), ["routing"]);
    }
}
