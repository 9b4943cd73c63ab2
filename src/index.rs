//! What the analysis needs from other files: string consts and statics, by name.
//!
//! Filled from every parsed file and, on demand, from files the prefilter passed over but
//! whose text declares a const a finding needs (see [`crate::pipeline`]). Resolving a path
//! prefers what Rust's scoping would pick: the same module of the same file, then a
//! definition whose module, file or owning type matches the path's qualifiers, then any
//! definition of that name in the tree.

use std::path::{Path, PathBuf};

use crate::analysis::facts::{ConstFacts, SqlText};
use crate::workspace::hash::NameMap as HashMap;

/// How many alternative texts one SQL expression may expand to before the rest are dropped.
pub const MAX_ALTERNATIVES: usize = 32;
/// How deep consts may refer to consts.
const MAX_CONST_DEPTH: usize = 16;
/// How many nodes one expansion may visit (texts and const definitions, each counted once
/// per visit): a name defined in many crates of the tree, whose definitions refer to names
/// defined in many others, multiplies at every level; past this, the rest is unknown text.
const MAX_EXPAND_STEPS: usize = 4096;
/// SQL files (`include_str!`) larger than this are not read.
const MAX_SQL_FILE_BYTES: u64 = 1 << 20;
/// A hole (a `format!` argument, an unknown part) in expanded text.
pub const HOLE: &str = "{}";

/// A const or static of the tree.
#[derive(Debug, Clone)]
struct ConstDef {
    file: PathBuf,
    module: Vec<String>,
    owner: Option<String>,
    text: SqlText,
}

/// Consts by name, and by name and file or qualifier (owner, module), so that a lookup is a
/// hash probe and a pick among the few definitions that match.
#[derive(Debug, Default)]
pub struct ConstIndex {
    by_name: HashMap<String, Vec<ConstDef>>,
    /// (name, file) -> indices into `by_name[name]`.
    by_file: HashMap<(String, PathBuf), Vec<usize>>,
    /// (name, owner or module name) -> indices into `by_name[name]`.
    by_qualifier: HashMap<(String, String), Vec<usize>>,
}

/// Where a SQL expression is, for resolving the paths in it.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The file.
    pub file: &'a Path,
    /// The inline module path inside it.
    pub module: &'a [String],
    /// The `impl`/trait the function belongs to.
    pub owner: Option<&'a str>,
}

impl ConstIndex {
    /// Adds the consts of one file.
    pub fn add(&mut self, file: &Path, consts: Vec<ConstFacts>) {
        for c in consts {
            let defs = self.by_name.entry(c.name.clone()).or_default();
            let at = defs.len();
            let mut qualifiers: Vec<String> = c.owner.iter().chain(c.module.last()).cloned().collect();
            qualifiers.extend(file_module(file).map(str::to_string));
            qualifiers.sort();
            qualifiers.dedup();
            for q in qualifiers {
                self.by_qualifier.entry((c.name.clone(), q)).or_default().push(at);
            }
            self.by_file.entry((c.name.clone(), file.to_path_buf())).or_default().push(at);
            defs.push(ConstDef { file: file.to_path_buf(), module: c.module, owner: c.owner, text: c.text });
        }
    }

    /// Whether some const of that name is known.
    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Names of consts `text` refers to, directly or through known consts, that are not known.
    pub fn missing(&self, text: &SqlText, out: &mut Vec<String>) {
        let mut followed = std::collections::HashSet::new();
        self.visit_consts(text, 0, &mut followed, &mut |name| {
            if !self.contains(name) && !out.iter().any(|o| o == name) {
                out.push(name.to_string());
            }
        });
    }

    /// Calls `f` with every const name `text` refers to, and follows each name's definitions
    /// once (`followed`): every definition of a name is visited at most once per walk,
    /// however many texts refer to it.
    fn visit_consts<'s>(
        &'s self,
        text: &'s SqlText,
        depth: usize,
        followed: &mut std::collections::HashSet<&'s str>,
        f: &mut dyn FnMut(&str),
    ) {
        if depth > MAX_CONST_DEPTH {
            return;
        }
        match text {
            SqlText::Const(path) => {
                if let Some(name) = path.last() {
                    f(name);
                    if followed.insert(name.as_str()) {
                        for def in self.by_name.get(name).into_iter().flatten() {
                            self.visit_consts(&def.text, depth + 1, followed, f);
                        }
                    }
                }
            }
            SqlText::Concat(parts) | SqlText::Alt(parts) => {
                parts.iter().for_each(|p| self.visit_consts(p, depth, followed, f));
            }
            SqlText::Flag { yes, no, .. } => {
                self.visit_consts(yes, depth, followed, f);
                self.visit_consts(no, depth, followed, f);
            }
            SqlText::Lit(_) | SqlText::Hole | SqlText::File(_) | SqlText::CrateFile(_) => {}
        }
    }

    /// The definitions `path` most likely means, seen from `scope`: hash probes by name and
    /// file or qualifier, then a pick among the few that match.
    fn lookup(&self, scope: Scope<'_>, path: &[String]) -> Vec<(&ConstDef, PathBuf)> {
        let Some((name, qualifiers)) = path.split_last() else { return Vec::new() };
        let Some(defs) = self.by_name.get(name) else { return Vec::new() };
        let pick = |ids: &[usize]| -> Vec<&ConstDef> { ids.iter().map(|&i| &defs[i]).collect() };
        let qualifier = qualifiers.iter().rev().find(|q| !matches!(q.as_str(), "crate" | "super" | "self"));
        let matching: Vec<&ConstDef> = match qualifier.map(String::as_str) {
            None => {
                // Same file: the same module first, then one not owned by a type.
                let here = pick(map_get(&self.by_file, &(name.clone(), scope.file.to_path_buf())));
                best_by(here, |d| u8::from(d.module == scope.module) * 2 + u8::from(d.owner.is_none()))
            }
            Some("Self") => match scope.owner {
                Some(owner) => {
                    let owned = pick(map_get(&self.by_qualifier, &(name.clone(), owner.to_string())));
                    let owned = owned.into_iter().filter(|d| d.owner.as_deref() == Some(owner)).collect();
                    best_by(owned, |d| u8::from(d.file == scope.file))
                }
                None => Vec::new(),
            },
            Some(q) => {
                let qualified = pick(map_get(&self.by_qualifier, &(name.clone(), q.to_string())));
                best_by(qualified, |d| u8::from(d.file == scope.file))
            }
        };
        // Nothing matches the qualifiers: any definition of that name in the tree.
        let chosen = if matching.is_empty() { defs.iter().collect() } else { matching };
        chosen.into_iter().map(|d| (d, d.file.clone())).collect()
    }

    /// Every text `text` may be, with consts and files resolved and holes as [`HOLE`]; at most
    /// [`MAX_ALTERNATIVES`]. A const that cannot be resolved, or a file that cannot be read, makes
    /// its part a hole.
    pub fn expand(&self, scope: Scope<'_>, text: &SqlText) -> Vec<String> {
        self.expand_counted(scope, text).0
    }

    /// [`ConstIndex::expand`], with how many of its [`MAX_EXPAND_STEPS`] it took.
    fn expand_counted(&self, scope: Scope<'_>, text: &SqlText) -> (Vec<String>, usize) {
        let mut steps = MAX_EXPAND_STEPS;
        let mut out = self.expand_at(scope, text, 0, &mut steps);
        out.sort();
        out.dedup();
        (out, MAX_EXPAND_STEPS - steps)
    }

    fn expand_at(&self, scope: Scope<'_>, text: &SqlText, depth: usize, steps: &mut usize) -> Vec<String> {
        if depth > MAX_CONST_DEPTH || *steps == 0 {
            return vec![HOLE.to_string()];
        }
        *steps -= 1;
        match text {
            SqlText::Lit(s) => vec![s.clone()],
            SqlText::Hole => vec![HOLE.to_string()],
            SqlText::File(rel) => {
                let dir = scope.file.parent().unwrap_or(Path::new(""));
                vec![read_sql_file(&dir.join(rel))]
            }
            SqlText::CrateFile(rel) => vec![read_sql_file(&crate_root(scope.file).join(rel))],
            SqlText::Const(path) => {
                let defs = self.lookup(scope, path);
                if defs.is_empty() {
                    return vec![HOLE.to_string()];
                }
                let mut out = Vec::new();
                for (def, file) in defs {
                    let inner = Scope { file: &file, module: &def.module, owner: def.owner.as_deref() };
                    out.extend(self.expand_at(inner, &def.text, depth + 1, steps));
                    out.truncate(MAX_ALTERNATIVES);
                }
                out
            }
            SqlText::Alt(alts) => {
                let mut out = Vec::new();
                for alt in alts {
                    out.extend(self.expand_at(scope, alt, depth, steps));
                    out.truncate(MAX_ALTERNATIVES);
                }
                out
            }
            SqlText::Flag { yes, no, .. } => {
                let mut out = self.expand_at(scope, yes, depth, steps);
                out.extend(self.expand_at(scope, no, depth, steps));
                out.truncate(MAX_ALTERNATIVES);
                out
            }
            SqlText::Concat(parts) => {
                let mut out = vec![String::new()];
                for part in parts {
                    let options = self.expand_at(scope, part, depth, steps);
                    let mut next = Vec::with_capacity(out.len() * options.len());
                    'outer: for prefix in &out {
                        for option in &options {
                            if next.len() == MAX_ALTERNATIVES {
                                break 'outer;
                            }
                            next.push(format!("{prefix}{option}"));
                        }
                    }
                    out = next;
                }
                out
            }
        }
    }
}

fn map_get<'m, K: std::hash::Hash + Eq>(map: &'m HashMap<K, Vec<usize>>, key: &K) -> &'m [usize] {
    map.get(key).map_or(&[], Vec::as_slice)
}

/// The definitions with the highest `score`.
fn best_by(defs: Vec<&ConstDef>, score: impl Fn(&ConstDef) -> u8) -> Vec<&ConstDef> {
    let best = defs.iter().map(|d| score(d)).max().unwrap_or(0);
    defs.into_iter().filter(|d| score(d) == best).collect()
}

/// The text of a SQL file, or a hole when it cannot be read.
fn read_sql_file(path: &Path) -> String {
    crate::source::read_bytes(path, MAX_SQL_FILE_BYTES)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_else(|| HOLE.to_string())
}

/// The crate root of a source file: the nearest directory above it that holds a `Cargo.toml`,
/// else the file's own directory.
pub fn crate_root(file: &Path) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new(""));
    dir.ancestors()
        .find(|d| d.join("Cargo.toml").is_file())
        .map_or_else(|| dir.to_path_buf(), Path::to_path_buf)
}

/// The module a file is (`src/queries.rs` and `src/queries/mod.rs` -> `queries`).
fn file_module(file: &Path) -> Option<&str> {
    let stem = file.file_stem()?.to_str()?;
    if stem == "mod" {
        file.parent()?.file_name()?.to_str()
    } else {
        Some(stem)
    }
}

/// Whether expanded text is nothing but holes and whitespace (nothing to classify).
pub fn is_unknown(text: &str) -> bool {
    text.replace(HOLE, "").trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> SqlText {
        SqlText::Lit(s.to_string())
    }

    fn def(name: &str, module: &[&str], owner: Option<&str>, text: SqlText) -> ConstFacts {
        ConstFacts {
            name: name.to_string(),
            module: module.iter().map(|m| m.to_string()).collect(),
            owner: owner.map(str::to_string),
            text,
        }
    }

    fn path(p: &str) -> SqlText {
        SqlText::Const(p.split("::").map(str::to_string).collect())
    }

    #[test]
    fn same_file_wins_over_other_files_and_qualifiers_pick_modules() {
        let mut index = ConstIndex::default();
        index.add(Path::new("src/a.rs"), vec![def("SQL", &[], None, lit("DELETE FROM a"))]);
        index.add(Path::new("src/b.rs"), vec![def("SQL", &[], None, lit("SELECT 1"))]);
        index.add(Path::new("src/queries/mod.rs"), vec![def("SQL", &[], None, lit("UPDATE q SET x = 1"))]);
        let scope = Scope { file: Path::new("src/b.rs"), module: &[], owner: None };
        assert_eq!(index.expand(scope, &path("SQL")), ["SELECT 1"]);
        assert_eq!(index.expand(scope, &path("crate::queries::SQL")), ["UPDATE q SET x = 1"]);
        assert_eq!(index.expand(scope, &path("a::SQL")), ["DELETE FROM a"]);
    }

    #[test]
    fn self_consts_resolve_to_the_owner_and_consts_chain() {
        let mut index = ConstIndex::default();
        index.add(
            Path::new("src/repo.rs"),
            vec![
                def("TABLE", &[], None, lit("posts")),
                def("SQL", &[], Some("Repo"), SqlText::Concat(vec![lit("DELETE FROM "), path("TABLE")])),
                def("SQL", &[], Some("Other"), lit("SELECT 2")),
            ],
        );
        let scope = Scope { file: Path::new("src/repo.rs"), module: &[], owner: Some("Repo") };
        assert_eq!(index.expand(scope, &path("Self::SQL")), ["DELETE FROM posts"]);
        let mut missing = Vec::new();
        index.missing(&SqlText::Concat(vec![path("Self::SQL"), path("NOWHERE")]), &mut missing);
        assert_eq!(missing, ["NOWHERE"]);
    }

    /// Consts `A0` … `A9` defined in each of `files` files, each `Ai` the concatenation of
    /// `Ai+1` twice and `MISSING`: every name has a definition per file, so a walk following
    /// every definition of every name visits `(2 × files)^10` texts.
    fn fanned_out(files: usize) -> ConstIndex {
        let mut index = ConstIndex::default();
        for f in 0..files {
            let consts = (0..10)
                .map(|i| {
                    let next = format!("A{}", i + 1);
                    def(
                        &format!("A{i}"),
                        &[],
                        None,
                        SqlText::Concat(vec![path(&next), path(&next), path("MISSING")]),
                    )
                })
                .collect();
            index.add(Path::new(&format!("crate{f}/src/lib.rs")), consts);
        }
        index
    }

    #[test]
    fn consts_defined_in_many_crates_are_followed_once_per_name() {
        let index = fanned_out(6);
        let mut missing = Vec::new();
        index.missing(&path("A0"), &mut missing);
        missing.sort();
        assert_eq!(missing, ["A10", "MISSING"], "each unknown name once");
        let scope = Scope { file: Path::new("other/src/lib.rs"), module: &[], owner: None };
        let (texts, steps) = index.expand_counted(scope, &path("A0"));
        assert_eq!(steps, MAX_EXPAND_STEPS, "the walk is cut at its budget");
        assert!(!texts.is_empty() && texts.len() <= MAX_ALTERNATIVES, "{} texts", texts.len());
        assert!(texts.iter().all(|t| is_unknown(t)), "what the budget leaves is unknown text: {texts:?}");
    }

    #[test]
    fn alternatives_are_capped_and_unknown_text_is_recognised() {
        let index = ConstIndex::default();
        let alts = SqlText::Alt((0..10).map(|i| lit(&i.to_string())).collect());
        let text = SqlText::Concat(vec![alts.clone(), alts]);
        let scope = Scope { file: Path::new("x.rs"), module: &[], owner: None };
        assert_eq!(index.expand(scope, &text).len(), MAX_ALTERNATIVES);
        assert!(is_unknown(" {} {}"));
        assert!(!is_unknown("UPDATE {}"));
    }
}
