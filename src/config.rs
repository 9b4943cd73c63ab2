//! The rule set: the built-in `rules/default.toml`, merged with a project's `ro-audit.toml`.
//!
//! Everything the analysis knows by name (accessors, handle types, handle-deriving methods,
//! SQL methods and macros, write-helper patterns) comes from here; no other module hard-codes
//! such a name. Loading never panics: bad TOML, an unknown key or a bad value is a
//! [`ConfigError`] that names the file, the line and the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher, GlobSet, GlobSetBuilder};
use toml::Spanned;

mod raw;
mod routes;

use raw::{parse_raw, List, RawFile, RawHandleNames, RawRules};
pub use routes::{RouteRules, FRAMEWORKS, HTTP_METHODS};

/// The rule set compiled into the binary.
pub const DEFAULT_RULES: &str = include_str!("../rules/default.toml");

/// The file name looked for when no `--config` is given.
pub const CONFIG_FILE_NAME: &str = "ro-audit.toml";

/// A configuration problem, located in its file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read the configuration: {source}")]
    Unreadable {
        /// The configuration file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file was read but something in it is wrong.
    #[error("{file}:{line}:{column}: {key}: {message}")]
    Invalid {
        /// The configuration file.
        file: PathBuf,
        /// 1-based line of the offending key or value.
        line: usize,
        /// 1-based column (characters).
        column: usize,
        /// The key the problem is about (dotted), or `-` when TOML itself is malformed.
        key: String,
        /// What is wrong and what to do.
        message: String,
    },
}

impl ConfigError {
    /// The file, line and column of the problem, for error reports.
    pub fn location(&self) -> (&Path, usize, usize) {
        match self {
            ConfigError::Unreadable { file, .. } => (file, 1, 1),
            ConfigError::Invalid { file, line, column, .. } => (file, *line, *column),
        }
    }
}

/// The analysis' view of the rule set: every list resolved, every pattern compiled.
#[derive(Debug, Clone)]
pub struct RuleSet {
    /// Where the project configuration came from (`None`: built-in rules only).
    pub source: Option<PathBuf>,
    /// The directory exclusion globs are relative to.
    pub root: PathBuf,
    /// Files never analysed.
    pub exclude: ExcludeSet,
    /// Files larger than this are errors, not parsed.
    pub max_file_bytes: u64,
    /// Accessors: calls and fields that give a handle.
    pub accessors: HandleNames,
    /// Handle types of parameters.
    pub types: HandleNames,
    /// Methods deriving a handle from a handle.
    pub derive_methods: Vec<String>,
    /// Methods that hand their receiver through.
    pub transparent_methods: Vec<String>,
    /// Generic types a value is looked through to its type argument when calls are resolved by
    /// type (`Arc<Repo>`, `State<AppState>`, a guard).
    pub wrapper_types: Vec<String>,
    /// Methods of a handle that take SQL.
    pub sql_methods: Vec<String>,
    /// Query-builder functions taking SQL.
    pub sql_builders: Vec<String>,
    /// Query-builder macros taking SQL.
    pub sql_macros: Vec<String>,
    /// String-building macros.
    pub string_macros: Vec<String>,
    /// Query macros that read their SQL from a file relative to the crate root
    /// (`sqlx::query_file!("queries/x.sql")`).
    pub sql_file_macros: Vec<String>,
    /// SQL functions that write although no `.sql` file of the tree says so (defined in the
    /// database only, or in migrations the run does not walk): a `SELECT` of one is a write.
    pub sql_writing_functions: Vec<String>,
    /// ORM write builders, executors, model writes and read executors.
    pub orm: OrmNames,
    /// Write-helper name patterns (for callees without a body in the tree).
    pub write_helpers: NamePatterns,
    /// Paths of code outside the tree that never runs a query with what it is given (std,
    /// serde, tracing): `migrate` does not count the accessor's owner handed to them as
    /// escaping to unknown code.
    pub inert_calls: Vec<String>,
    /// The web frameworks' vocabulary for `migrate`'s route discovery.
    pub routes: RouteRules,
}

/// The `[orm]` table: what an ORM write looks like.
#[derive(Debug, Clone, Default)]
pub struct OrmNames {
    /// Functions that start a write builder (`diesel::insert_into`, `Entity::delete_many`).
    pub write_builders: Vec<String>,
    /// Methods that run a builder on the handle given as their argument (`execute`, `exec`,
    /// `get_result`, `execute_async`).
    pub executors: Vec<String>,
    /// Methods of a model that write with the handle given as their only argument
    /// (`active.save(&db)`), judged only when no method of that name has a body in the tree.
    pub model_writes: Vec<String>,
    /// The types a model write's receiver may have (sea-orm's `ActiveModel`, `Model`): a
    /// receiver known to be of another type (`Sha256::new()`) is no model.
    pub models: Vec<String>,
    /// Methods of code outside the tree that only read with the handle given as their
    /// argument (diesel `first`/`load` on a select, sea-orm `one`/`all`, sqlx `fetch*`): a
    /// handle handed to them is not "passed to outside code".
    pub read_executors: Vec<String>,
}

/// Read-only and read-write names of one kind (accessors or types), with the migrate map.
#[derive(Debug, Clone, Default)]
pub struct HandleNames {
    /// Names giving a read-only handle.
    pub read_only: Vec<String>,
    /// Names giving a read-write handle.
    pub read_write: Vec<String>,
    /// Read-write name -> its read-only twin.
    pub migrate: BTreeMap<String, String>,
}

/// `exclude` globs, matched against paths relative to the rule set's root.
#[derive(Debug, Clone)]
pub struct ExcludeSet {
    globs: Vec<String>,
    set: GlobSet,
}

impl ExcludeSet {
    /// The globs as written.
    pub fn globs(&self) -> &[String] {
        &self.globs
    }

    /// Whether `path` (as walked) is excluded, given the rule set's root.
    pub fn is_excluded(&self, root: &Path, path: &Path) -> bool {
        if self.globs.is_empty() {
            return false;
        }
        let relative = relative_to(root, path);
        self.set.is_match(&relative) || self.set.is_match(path)
    }
}

/// Write-helper name patterns (`save_*`) minus an allow-list. A pattern of one segment matches
/// a callee's last segment; one of several (`PgListener::connect_with`, `Audit::*`) matches as
/// many last segments of the callee as written (`sqlx::postgres::PgListener::connect_with`).
#[derive(Debug, Clone)]
pub struct NamePatterns {
    /// Each pattern as written, with a matcher per segment.
    patterns: Vec<(String, Vec<GlobMatcher>)>,
    /// All the one-segment patterns as one set: most names match none, and one probe of the
    /// set says so.
    any: Option<GlobSet>,
    allow: Vec<String>,
}

impl NamePatterns {
    /// `patterns` checked by [`Check::NameGlob`] (a segment that is no glob matches nothing).
    fn new(patterns: Vec<String>, allow: Vec<String>) -> NamePatterns {
        let mut any = GlobSetBuilder::new();
        let patterns: Vec<(String, Vec<GlobMatcher>)> = patterns
            .into_iter()
            .filter_map(|p| {
                let globs: Vec<Glob> = p.split("::").map(Glob::new).collect::<Result<_, _>>().ok()?;
                if let [glob] = &globs[..] {
                    any.add(glob.clone());
                }
                Some((p, globs.iter().map(Glob::compile_matcher).collect()))
            })
            .collect();
        NamePatterns { any: any.build().ok(), patterns, allow }
    }

    /// The pattern matching a function named `name` (a callee of one segment).
    pub fn matching(&self, name: &str) -> Option<&str> {
        self.matching_path(std::slice::from_ref(&name))
    }

    /// The pattern matching `callee` (its segments as written), unless its last segment is
    /// allowed.
    pub fn matching_path<S: AsRef<str>>(&self, callee: &[S]) -> Option<&str> {
        let name = callee.last()?.as_ref();
        if self.allow.iter().any(|a| a == name) {
            return None;
        }
        let bare_may_match = self.any.as_ref().is_none_or(|set| set.is_match(name));
        self.patterns
            .iter()
            .find(|(_, segments)| match &segments[..] {
                [one] => bare_may_match && one.is_match(name),
                _ => {
                    segments.len() <= callee.len()
                        && segments
                            .iter()
                            .zip(&callee[callee.len() - segments.len()..])
                            .all(|(m, s)| m.is_match(s.as_ref()))
                }
            })
            .map(|(p, _)| p.as_str())
    }
}

fn relative_to(root: &Path, path: &Path) -> PathBuf {
    let strip = |p: &Path| p.strip_prefix(".").map(Path::to_path_buf).unwrap_or_else(|_| p.to_path_buf());
    let path = strip(path);
    if let Ok(rel) = path.strip_prefix(root) {
        return rel.to_path_buf();
    }
    if let (Ok(abs_root), Ok(abs_path)) = (root.canonicalize(), path.canonicalize()) {
        if let Ok(rel) = abs_path.strip_prefix(&abs_root) {
            return rel.to_path_buf();
        }
    }
    path
}

// ---------------------------------------------------------------------------------------------
// Resolution: defaults + project file -> RuleSet.

impl RuleSet {
    /// The built-in rule set alone, with exclusions relative to `root`.
    pub fn builtin(root: &Path) -> RuleSet {
        Self::resolve(None, root).expect("the built-in rule set is valid (tested)")
    }

    /// Loads the rule set for a run: `explicit` (`--config FILE`) if given, else the
    /// `ro-audit.toml` found by walking up from `start` to the repository root.
    pub fn load(explicit: Option<&Path>, start: &Path) -> Result<RuleSet, ConfigError> {
        let file = match explicit {
            Some(file) => Some(file.to_path_buf()),
            None => discover(start),
        };
        match file {
            None => {
                let root = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
                Self::resolve(None, &root)
            }
            Some(file) => {
                let text = std::fs::read_to_string(&file)
                    .map_err(|source| ConfigError::Unreadable { file: file.clone(), source })?;
                let root = file
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
                Self::resolve(Some((&file, &text)), &root)
            }
        }
    }

    /// Parses a project file's text (for tests and `load`).
    pub fn from_project_text(file: &Path, text: &str, root: &Path) -> Result<RuleSet, ConfigError> {
        Self::resolve(Some((file, text)), root)
    }

    fn resolve(project: Option<(&Path, &str)>, root: &Path) -> Result<RuleSet, ConfigError> {
        let defaults = parse_raw(Path::new("<built-in rules/default.toml>"), DEFAULT_RULES)?;
        let project = project.map(|(path, text)| parse_raw(path, text)).transpose()?;
        let extend = project.as_ref().and_then(|p| p.rules.extend).unwrap_or(false);
        let merged = Merger { defaults: &defaults, project: project.as_ref(), extend };

        let exclude_globs = merged.list(|r| &r.exclude, "exclude", Check::Glob)?;
        let mut builder = GlobSetBuilder::new();
        for g in &exclude_globs {
            // Validated by `Check::Glob` above.
            if let Ok(glob) = Glob::new(g) {
                builder.add(glob);
            }
        }
        let exclude_set = builder.build().map_err(|e| {
            let file = project.as_ref().unwrap_or(&defaults);
            file.error(0..0, "exclude", e.to_string())
        })?;

        let max_file_bytes = match project.as_ref().and_then(|p| p.rules.max_file_bytes.as_ref()) {
            Some(v) if *v.get_ref() <= 0 => {
                let file = project.as_ref().unwrap_or(&defaults);
                return Err(file.error(v.span(), "max_file_bytes", "must be a positive number of bytes"));
            }
            Some(v) => *v.get_ref() as u64,
            None => defaults.rules.max_file_bytes.as_ref().map_or(8 << 20, |v| *v.get_ref() as u64),
        };

        let patterns =
            merged.list(|r| &r.write_helpers.patterns, "write_helpers.patterns", Check::NameGlob)?;
        let write_helpers = NamePatterns::new(
            patterns,
            merged.list(|r| &r.write_helpers.allow, "write_helpers.allow", Check::Ident)?,
        );

        Ok(RuleSet {
            source: project.as_ref().map(|p| p.path.clone()),
            root: root.to_path_buf(),
            exclude: ExcludeSet { globs: exclude_globs, set: exclude_set },
            max_file_bytes,
            accessors: merged.handle_names(|r| &r.accessors, "accessors", Check::Path)?,
            types: merged.handle_names(|r| &r.types, "types", Check::Path)?,
            derive_methods: merged.list(|r| &r.handles.derive, "handles.derive", Check::Ident)?,
            transparent_methods: merged.list(
                |r| &r.handles.transparent,
                "handles.transparent",
                Check::Ident,
            )?,
            wrapper_types: merged.list(|r| &r.handles.wrappers, "handles.wrappers", Check::Ident)?,
            sql_methods: merged.list(|r| &r.sql.methods, "sql.methods", Check::Ident)?,
            sql_builders: merged.list(|r| &r.sql.builders, "sql.builders", Check::Path)?,
            sql_macros: merged.list(|r| &r.sql.macros, "sql.macros", Check::Path)?,
            string_macros: merged.list(|r| &r.sql.string_macros, "sql.string_macros", Check::Path)?,
            sql_file_macros: merged.list(|r| &r.sql.file_macros, "sql.file_macros", Check::Path)?,
            sql_writing_functions: merged.list(
                |r| &r.sql.writing_functions,
                "sql.writing_functions",
                Check::Ident,
            )?,
            orm: OrmNames {
                write_builders: merged.list(|r| &r.orm.write_builders, "orm.write_builders", Check::Path)?,
                executors: merged.list(|r| &r.orm.executors, "orm.executors", Check::Ident)?,
                model_writes: merged.list(|r| &r.orm.model_writes, "orm.model_writes", Check::Ident)?,
                models: merged.list(|r| &r.orm.models, "orm.models", Check::Ident)?,
                read_executors: merged.list(|r| &r.orm.read_executors, "orm.read_executors", Check::Ident)?,
            },
            write_helpers,
            inert_calls: merged.list(|r| &r.outside.inert, "outside.inert", Check::Path)?,
            routes: merged.routes()?,
        })
    }
}

/// What a list's items must be.
#[derive(Clone, Copy)]
enum Check {
    /// A Rust identifier.
    Ident,
    /// An identifier or a `::`-separated path of identifiers.
    Path,
    /// A glob.
    Glob,
    /// A glob of a name, or of several `::`-separated segments, none of them empty.
    NameGlob,
}

impl Check {
    fn problem(self, value: &str) -> Option<String> {
        match self {
            Check::Ident if !is_ident(value) => Some(format!("`{value}` is not a Rust identifier")),
            Check::Path if value.split("::").any(|s| !is_ident(s)) => {
                Some(format!("`{value}` is not a Rust name or path (like `get_db_ro` or `db::get_db_ro`)"))
            }
            Check::Glob => Glob::new(value).err().map(|e| format!("`{value}` is not a valid glob: {e}")),
            Check::NameGlob if value.split("::").any(str::is_empty) => Some(format!(
                "`{value}` has an empty segment (a name like `save_*`, or segments like `PgListener::connect_with`)"
            )),
            Check::NameGlob => value.split("::").find_map(|segment| Check::Glob.problem(segment)),
            _ => None,
        }
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

struct Merger<'a> {
    defaults: &'a RawFile<'a>,
    project: Option<&'a RawFile<'a>>,
    extend: bool,
}

impl Merger<'_> {
    fn list(
        &self,
        get: impl Fn(&RawRules) -> &List,
        key: &str,
        check: Check,
    ) -> Result<Vec<String>, ConfigError> {
        let mut out = Vec::new();
        let from_project = self.project.and_then(|p| get(&p.rules).as_ref().map(|l| (p, l)));
        if from_project.is_none() || self.extend {
            if let Some(list) = get(&self.defaults.rules) {
                out.extend(self.checked(self.defaults, list, key, check)?);
            }
        }
        if let Some((file, list)) = from_project {
            for item in self.checked(file, list, key, check)? {
                if !out.contains(&item) {
                    out.push(item);
                }
            }
        }
        Ok(out)
    }

    fn checked(
        &self,
        file: &RawFile<'_>,
        list: &Spanned<Vec<Spanned<String>>>,
        key: &str,
        check: Check,
    ) -> Result<Vec<String>, ConfigError> {
        list.get_ref()
            .iter()
            .map(|item| match check.problem(item.get_ref()) {
                Some(problem) => Err(file.error(item.span(), key, problem)),
                None => Ok(item.get_ref().clone()),
            })
            .collect()
    }

    fn handle_names(
        &self,
        get: impl Fn(&RawRules) -> &RawHandleNames,
        table: &str,
        check: Check,
    ) -> Result<HandleNames, ConfigError> {
        let read_only = self.list(|r| &get(r).read_only, &format!("{table}.read_only"), check)?;
        let read_write = self.list(|r| &get(r).read_write, &format!("{table}.read_write"), check)?;
        let mut migrate = BTreeMap::new();
        let key = format!("{table}.migrate");
        for file in std::iter::once(self.defaults).chain(self.project) {
            for (from, to) in get(&file.rules).migrate.iter().flatten() {
                for item in [from, to] {
                    if let Some(problem) = check.problem(item.get_ref()) {
                        return Err(file.error(item.span(), &key, problem));
                    }
                }
                migrate.insert(from.get_ref().clone(), to.get_ref().clone());
            }
        }
        Ok(HandleNames { read_only, read_write, migrate })
    }
}

/// The `ro-audit.toml` that governs `start`: the nearest one in `start`'s directory or above,
/// stopping at the repository root (a directory holding `.git`).
pub fn discover(start: &Path) -> Option<PathBuf> {
    let start =
        if start.is_absolute() { start.to_path_buf() } else { std::env::current_dir().ok()?.join(start) };
    let mut dir = if start.is_dir() { Some(start.as_path()) } else { start.parent() };
    while let Some(d) = dir {
        let candidate = d.join(CONFIG_FILE_NAME);
        if candidate.is_file() {
            return Some(relative_if_below_cwd(candidate));
        }
        if d.join(".git").exists() {
            return None;
        }
        dir = d.parent();
    }
    None
}

fn relative_if_below_cwd(path: PathBuf) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or(path)
}

#[cfg(test)]
mod tests;
