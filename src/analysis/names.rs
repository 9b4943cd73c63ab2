//! The rule set's names, prepared for matching against syntax.
//!
//! Built once per run from the [`RuleSet`] (plus the accessor wrappers the run discovers);
//! the analysis asks it questions like "is this call a read-only accessor?". Matching is by
//! name: a plain entry (`get_db_ro`) matches the last segment of a path or a method/field
//! name; a qualified entry (`db::get_db_ro`) matches paths ending with those segments.

use syn::punctuated::{Pair, Punctuated};

use super::syntax_text::with_ident_text;
use crate::config::RuleSet;
use crate::workspace::hash::NameSet as HashedNames;
use crate::workspace::location::ModuleLocation;

/// The segments of a path as syn gives them.
pub type Segments = Punctuated<syn::PathSegment, syn::Token![::]>;

/// The last segment of a path (`Punctuated::last` would allocate an iterator).
pub(crate) fn last_segment(segments: &Segments) -> Option<&syn::PathSegment> {
    segments.get(segments.len().checked_sub(1)?)
}

/// The elements of a punctuated sequence (arguments, fields, tuple elements), in order:
/// `Punctuated::iter` (and `for x in &punctuated`) allocates a boxed iterator, its pairs do not.
pub(crate) fn elements<T, P>(
    punctuated: &Punctuated<T, P>,
) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator + Clone {
    punctuated.pairs().map(Pair::into_value)
}

/// A set of names and qualified paths.
#[derive(Debug, Clone, Default)]
pub struct NameSet {
    plain: HashedNames<String>,
    qualified: Vec<Vec<String>>,
}

impl NameSet {
    /// From rule-set entries.
    pub fn new<'a>(entries: impl IntoIterator<Item = &'a String>) -> NameSet {
        let mut set = NameSet::default();
        for entry in entries {
            set.insert(entry);
        }
        set
    }

    /// Adds one entry.
    pub fn insert(&mut self, entry: &str) {
        if entry.contains("::") {
            self.qualified.push(entry.split("::").map(str::to_string).collect());
        } else {
            self.plain.insert(entry.to_string());
        }
    }

    /// Whether a method or field name matches (qualified entries match by their last segment).
    pub fn matches_name(&self, name: &str) -> bool {
        self.plain.contains(name) || self.qualified.iter().any(|q| q.last().is_some_and(|l| l == name))
    }

    /// Whether a path (`crate::db::get_db_ro`) matches.
    pub fn matches_path(&self, path: &[String]) -> bool {
        let Some(last) = path.last() else { return false };
        self.plain.contains(last) || self.qualified.iter().any(|q| path.ends_with(q))
    }

    /// Whether a path given by its syntax's segments matches, like [`NameSet::matches_path`]
    /// without turning the path into strings (only the last identifier is formatted, into a
    /// buffer of the thread).
    pub fn matches_segments(&self, segments: &Segments) -> bool {
        let Some(last) = last_segment(segments) else { return false };
        if !self.plain.is_empty() && with_ident_text(&last.ident, |name| self.plain.contains(name)) {
            return true;
        }
        self.matches_qualified(segments)
    }

    /// [`NameSet::matches_segments`] of a path whose last identifier's text is `last`.
    pub(crate) fn matches_segments_named(&self, segments: &Segments, last: &str) -> bool {
        self.plain.contains(last) || self.matches_qualified(segments)
    }

    fn matches_qualified(&self, segments: &Segments) -> bool {
        let len = segments.len();
        self.qualified.iter().any(|q| {
            q.len() <= len
                && q.iter()
                    .enumerate()
                    .all(|(i, name)| segments.get(len - q.len() + i).is_some_and(|s| s.ident == name))
        })
    }

    /// Every name, plain or the last segment of a qualified one (for text screening).
    pub fn screening_words(&self) -> impl Iterator<Item = &str> {
        self.plain
            .iter()
            .map(String::as_str)
            .chain(self.qualified.iter().filter_map(|q| q.last().map(String::as_str)))
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.qualified.is_empty()
    }
}

/// A type alias of the tree that stands for a handle type (`pub type Replica = DbRo;` in
/// `src/db.rs`), found by the run: a file names it as that handle type where it imports it by
/// a path through its module ([`crate::analysis::bindings`]'s file scope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandleAlias {
    /// The alias.
    pub name: String,
    /// The crate and module declaring it (`["db"]` of the crate whose `src` holds `db.rs`;
    /// empty: the crate's root).
    pub module: ModuleLocation,
    /// Modules re-exporting it (`pub use crate::db::Replica;` in `src/prelude.rs`: `["prelude"]`
    /// of that crate).
    pub reexported_by: Vec<ModuleLocation>,
    /// Whether it stands for a read-only handle type, a read-write one.
    pub roles: (bool, bool),
    /// The alias this one re-exports under another name (`pub use crate::db::Replica as
    /// Reader;` in `src/prelude.rs`: `Reader`, declared by `prelude`, renames `Replica`).
    pub renames: Option<String>,
}

impl HandleAlias {
    /// Whether a module path as a `use` written in module `site` writes it (`crate::db`,
    /// `super::prelude`) leads to a module that declares or re-exports the alias (see
    /// [`leads_to`]).
    pub fn reached_through(&self, written: &[String], site: &ModuleLocation) -> bool {
        std::iter::once(&self.module).chain(&self.reexported_by).any(|module| leads_to(written, site, module))
    }
}

/// Whether module path `written`, as a `use` written in module `site` writes it, leads to
/// `module`. A path from `crate`, `self` or `super` names a module of the site's crate: the
/// same crate and module path (when both files lie under a crate's `src/`, where a file's path
/// tells its crate). Any other (another crate's, a module beside the site) is matched by its
/// last segment: a heuristic on names, which takes two modules of one name in different crates
/// for each other.
pub fn leads_to(written: &[String], site: &ModuleLocation, module: &ModuleLocation) -> bool {
    let by_name = |written: &[String]| module.module.last().is_some_and(|last| written.last() == Some(last));
    match resolved(written, &site.module) {
        Some(path) if in_src(site) && in_src(module) => {
            site.crate_root == module.crate_root && path == module.module
        }
        Some(path) if module.module.is_empty() => path.is_empty(),
        Some(path) => by_name(&path),
        None => by_name(written),
    }
}

/// Whether a location's crate is known from its file's path: it lies under a `src/` directory
/// (`src/bin/x` too). Elsewhere (a `[lib] path` outside `src/`) each directory is taken for a
/// crate of its own.
fn in_src(place: &ModuleLocation) -> bool {
    place.crate_root.components().any(|c| c.as_os_str() == "src")
}

/// Whether a `use` path written `inline_depth` inline modules deep in a file names an item of
/// that file: `self::…` at any depth, or `super::…` with no more `super`s than that depth (an
/// inline module's `use super::Replica;` names what the file names).
pub fn within_file(written: &[String], inline_depth: usize) -> bool {
    let supers = written.iter().take_while(|s| *s == "super").count();
    written.first().is_some_and(|s| s == "self") || (supers > 0 && supers <= inline_depth)
}

/// The module path from the crate's root that `written` names from module `site`, when it
/// starts at `crate`, `self` or `super` (and has no more `super`s than `site` is deep).
fn resolved(written: &[String], site: &[String]) -> Option<Vec<String>> {
    let (first, rest) = written.split_first()?;
    match first.as_str() {
        "crate" => Some(rest.to_vec()),
        "self" => Some(site.iter().chain(rest).cloned().collect()),
        "super" => {
            let supers = written.iter().take_while(|s| *s == "super").count();
            let kept = site.len().checked_sub(supers)?;
            Some(site[..kept].iter().chain(&written[supers..]).cloned().collect())
        }
        _ => None,
    }
}

/// Everything the analysis matches by name.
#[derive(Debug, Clone)]
pub struct Names {
    /// Read-only accessors (calls, methods, fields), wrappers included.
    pub ro_accessors: NameSet,
    /// Fields that are read-only handles: the rule set's read-only accessors only. A wrapper
    /// the run discovers is a function (`fn db(state) -> &PgPool`), so a field that shares
    /// its name (`self.db`) is not one.
    pub ro_fields: NameSet,
    /// Read-write accessors.
    pub rw_accessors: NameSet,
    /// Read-only handle types.
    pub ro_types: NameSet,
    /// Read-write handle types.
    pub rw_types: NameSet,
    /// The tree's type aliases of handle types, declared in one file and named in others.
    pub handle_aliases: Vec<HandleAlias>,
    /// Methods deriving a handle from a handle.
    pub derive_methods: NameSet,
    /// Accessor wrappers of the tree named like a derive method (`fn get_connection(&self)`):
    /// `Owner::name` for a method, `name` for a free function. They win over the derive rule
    /// only on a receiver (argument) that is no handle of the rule set, where the call is the
    /// tree's own.
    pub derive_wrappers: NameSet,
    /// Methods handing their receiver through.
    pub transparent_methods: NameSet,
    /// Generic wrappers looked through to their type argument (`Arc<T>`, `State<T>`).
    pub wrapper_types: NameSet,
    /// Methods of a handle that take SQL.
    pub sql_methods: NameSet,
    /// Query-builder functions.
    pub sql_builders: NameSet,
    /// Query-builder macros.
    pub sql_macros: NameSet,
    /// String-building macros.
    pub string_macros: NameSet,
    /// Query macros reading SQL from a file relative to the crate root.
    pub sql_file_macros: NameSet,
    /// Functions starting an ORM write builder.
    pub write_builders: NameSet,
    /// Methods running a builder on the handle they are given.
    pub orm_executors: NameSet,
    /// [`Self::write_builders`]' words, searched for in one pass over a text.
    write_builder_words: Option<aho_corasick::AhoCorasick>,
    /// The sets of [`Role`] each name is in by [`NameSet::matches_name`]: one look-up for
    /// all of them. Those sets are fixed once built: `ro_accessors` and `derive_wrappers`,
    /// which the run extends with the wrappers it finds, have no role.
    roles: HashedNames<RoleEntry>,
}

/// A set of names a call or method is tested against, by the name alone.
#[derive(Debug, Clone, Copy)]
pub enum Role {
    /// [`Names::rw_accessors`].
    RwAccessor,
    /// [`Names::transparent_methods`].
    Transparent,
    /// [`Names::derive_methods`].
    DeriveMethod,
    /// [`Names::sql_methods`].
    SqlMethod,
    /// [`Names::sql_builders`].
    SqlBuilder,
    /// [`Names::write_builders`].
    WriteBuilder,
    /// [`Names::orm_executors`].
    OrmExecutor,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 7] = [
        Role::RwAccessor,
        Role::Transparent,
        Role::DeriveMethod,
        Role::SqlMethod,
        Role::SqlBuilder,
        Role::WriteBuilder,
        Role::OrmExecutor,
    ];
}

/// The [`Role`]s of one name (see [`Names::roles`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Roles(u16);

impl Roles {
    /// Whether the name matches the set of `role` ([`NameSet::matches_name`]).
    pub fn has(self, role: Role) -> bool {
        self.0 & (1 << role as u16) != 0
    }
}

/// A name and its roles, looked up by the name.
#[derive(Debug, Clone)]
struct RoleEntry(String, Roles);

impl PartialEq for RoleEntry {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for RoleEntry {}

impl std::hash::Hash for RoleEntry {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl std::borrow::Borrow<str> for RoleEntry {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl Names {
    /// From the rule set.
    pub fn new(rules: &RuleSet) -> Names {
        let mut names = Names {
            ro_accessors: NameSet::new(&rules.accessors.read_only),
            ro_fields: NameSet::new(&rules.accessors.read_only),
            rw_accessors: NameSet::new(&rules.accessors.read_write),
            ro_types: NameSet::new(&rules.types.read_only),
            rw_types: NameSet::new(&rules.types.read_write),
            handle_aliases: Vec::new(),
            derive_methods: NameSet::new(&rules.derive_methods),
            derive_wrappers: NameSet::default(),
            transparent_methods: NameSet::new(&rules.transparent_methods),
            wrapper_types: NameSet::new(&rules.wrapper_types),
            sql_methods: NameSet::new(&rules.sql_methods),
            sql_builders: NameSet::new(&rules.sql_builders),
            sql_macros: NameSet::new(&rules.sql_macros),
            string_macros: NameSet::new(&rules.string_macros),
            sql_file_macros: NameSet::new(&rules.sql_file_macros),
            write_builders: NameSet::new(&rules.orm.write_builders),
            orm_executors: NameSet::new(&rules.orm.executors),
            write_builder_words: None,
            roles: HashedNames::default(),
        };
        // No words, or an automaton that cannot be built: no text names a write builder.
        let words: Vec<&str> = names.write_builders.screening_words().collect();
        names.write_builder_words =
            (!words.is_empty()).then(|| aho_corasick::AhoCorasick::new(&words).ok()).flatten();
        let mut by_name: HashedNames<RoleEntry> = HashedNames::default();
        for role in Role::ALL {
            for word in names.set(role).screening_words() {
                let mut entry =
                    by_name.take(word).unwrap_or_else(|| RoleEntry(word.to_string(), Roles::default()));
                entry.1 .0 |= 1 << role as u16;
                by_name.insert(entry);
            }
        }
        names.roles = by_name;
        names
    }

    /// Whether `text` holds a word of [`Self::write_builders`] (as text: a screen).
    pub fn may_name_a_write_builder(&self, text: &str) -> bool {
        self.write_builder_words.as_ref().is_some_and(|words| words.is_match(text))
    }

    /// The roles of `name` (a method's name, a path's last segment): which sets it matches
    /// by name, found at once.
    pub fn roles(&self, name: &str) -> Roles {
        self.roles.get(name).map_or(Roles::default(), |entry| entry.1)
    }

    /// Whether `path`, whose last segment has `roles`, matches the set of `role`
    /// ([`NameSet::matches_path`]; the set is only asked when the name has the role).
    pub fn path_is(&self, role: Role, roles: Roles, path: &[String]) -> bool {
        roles.has(role) && self.set(role).matches_path(path)
    }

    /// The set of `role`.
    pub fn set(&self, role: Role) -> &NameSet {
        match role {
            Role::RwAccessor => &self.rw_accessors,
            Role::Transparent => &self.transparent_methods,
            Role::DeriveMethod => &self.derive_methods,
            Role::SqlMethod => &self.sql_methods,
            Role::SqlBuilder => &self.sql_builders,
            Role::WriteBuilder => &self.write_builders,
            Role::OrmExecutor => &self.orm_executors,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Vec<String> {
        p.split("::").map(str::to_string).collect()
    }

    #[test]
    fn plain_entries_match_any_path_ending() {
        let set = NameSet::new(&["get_db_ro".to_string()]);
        assert!(set.matches_path(&path("get_db_ro")));
        assert!(set.matches_path(&path("crate::db::get_db_ro")));
        assert!(!set.matches_path(&path("get_db_ro_pool")));
        assert!(set.matches_name("get_db_ro"));
    }

    #[test]
    fn roles_are_the_sets_a_name_matches() {
        let mut rules = RuleSet::builtin(std::path::Path::new("."));
        rules.sql_methods.push("db::run".to_string());
        let names = Names::new(&rules);
        for name in ["get_db_ro", "execute", "insert_into", "unwrap", "run", "update", "nothing", ""] {
            for role in Role::ALL {
                let set = names.set(role);
                assert_eq!(names.roles(name).has(role), set.matches_name(name), "{name} {role:?}");
                for path in [path(name), path(&format!("db::{name}")), path(&format!("x::{name}"))] {
                    let by_roles = names.path_is(role, names.roles(name), &path);
                    assert_eq!(by_roles, set.matches_path(&path), "{path:?} {role:?}");
                }
            }
        }
        assert!(names.roles("run").has(Role::SqlMethod) && !names.roles("nothing").has(Role::SqlMethod));
    }

    #[test]
    fn qualified_entries_match_only_that_path() {
        let set = NameSet::new(&["db::read".to_string()]);
        assert!(set.matches_path(&path("db::read")));
        assert!(set.matches_path(&path("crate::db::read")));
        assert!(!set.matches_path(&path("file::read")));
        assert!(!set.matches_path(&path("read")));
        assert!(set.matches_name("read"));
    }
}
