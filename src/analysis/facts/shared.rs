//! What a file's facts repeat, one shared copy each: paths as written — callees of its calls
//! (`crate::store::bump`, a method's name) and the types it names (`Repo`, `sqlx::PgPool`) —,
//! the labels of the handles its sinks use (`db`, `self.pool`), and the types of values (a
//! call's receiver). A tree calls the same few names (`get`, `insert`, `Repo::new`) on the
//! same few handles at most of its call sites, and every sink and type would otherwise own
//! vectors and strings of its own. The copies are
//! shared within the file being analysed on this thread and forgotten when its analysis ends
//! ([`release_shared`]); this module never decides anything about what they name.
//!
//! Looking a copy up is on the path of every call the analysis meets, so it is cheap: the
//! tables hash with the index's own hasher and keep one copy per hash in place (another copy
//! of the same hash, rare, goes to a short list beside), a path is looked up by the hash of
//! its segments' texts ([`PathHash`]) and a test of its segments (no vector of strings made
//! first: [`shared_path_by`]), and a type is hashed and compared one level deep — the types it
//! is built on are shared copies already, known by their address.

use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use super::TypeRef;
use crate::workspace::hash::{NameHasher, NameMap, NameSet};

/// A path as written, its segments in order (shared: see the module).
pub type SharedPath = Arc<[String]>;

/// The hash a path is shared by: its segments' texts in order, each written whole.
#[derive(Default)]
pub struct PathHash(NameHasher);

impl PathHash {
    /// Adds the next segment, as written (`r#type` with its `r#`).
    pub fn segment(&mut self, text: &str) {
        self.0.write(text.as_bytes());
        self.0.write_u8(0xff);
    }

    /// The hash of the segments added.
    pub fn finish(&self) -> u64 {
        self.0.finish()
    }
}

/// Shared copies by a hash of their own: the first of each hash in the map, the others
/// (another value of a hash already taken, rare) in a list beside it.
struct ByHash<T: ?Sized> {
    first: NameMap<u64, Arc<T>>,
    more: Vec<(u64, Arc<T>)>,
}

impl<T: ?Sized> Default for ByHash<T> {
    fn default() -> Self {
        ByHash { first: NameMap::default(), more: Vec::new() }
    }
}

impl<T: ?Sized> ByHash<T> {
    /// The copy of hash `hash` that `is_it` accepts, if any.
    fn find(&self, hash: u64, is_it: impl Fn(&T) -> bool) -> Option<Arc<T>> {
        match self.first.get(&hash) {
            Some(first) if is_it(first) => Some(first.clone()),
            Some(_) => self.more.iter().find(|(h, v)| *h == hash && is_it(v)).map(|(_, v)| v.clone()),
            None => None,
        }
    }

    /// Keeps `value`, of hash `hash`, which [`ByHash::find`] did not find.
    fn insert(&mut self, hash: u64, value: &Arc<T>) {
        match self.first.entry(hash) {
            Entry::Vacant(slot) => {
                slot.insert(value.clone());
            }
            Entry::Occupied(_) => self.more.push((hash, value.clone())),
        }
    }

    fn clear(&mut self) {
        self.first.clear();
        self.more.clear();
    }
}

/// What the file being analysed on this thread has shared so far.
#[derive(Default)]
struct Shared {
    /// Paths by their [`PathHash`].
    paths: ByHash<[String]>,
    labels: NameSet<Arc<str>>,
    /// Types by their [`shallow_hash`].
    types: ByHash<TypeRef>,
}

thread_local! {
    static SHARED: RefCell<Shared> = RefCell::new(Shared::default());
}

/// `path`, shared with every use of the same path in the file being analysed.
pub fn shared_path(path: &[String]) -> SharedPath {
    let mut hash = PathHash::default();
    for segment in path {
        hash.segment(segment);
    }
    shared_path_by(hash.finish(), |p| p == path, || path.to_vec())
}

/// The path that `hash` (its [`PathHash`]) and `is_it` (whether a path's segments are the
/// ones meant) pick, shared as [`shared_path`] shares it; made by `make` only when the file
/// has not named it yet. `make` and `is_it` must not share anything themselves.
pub fn shared_path_by(
    hash: u64,
    is_it: impl Fn(&[String]) -> bool,
    make: impl FnOnce() -> Vec<String>,
) -> SharedPath {
    SHARED.with_borrow_mut(|shared| {
        if let Some(found) = shared.paths.find(hash, is_it) {
            return found;
        }
        let path = SharedPath::from(make());
        shared.paths.insert(hash, &path);
        path
    })
}

/// `label`, shared with every sink of the file being analysed that uses the same label.
pub fn shared_label(label: &str) -> Arc<str> {
    SHARED.with_borrow_mut(|shared| share(&mut shared.labels, label))
}

/// `ty`, shared with every value of the same type in the file being analysed.
pub fn shared_type(ty: TypeRef) -> Arc<TypeRef> {
    SHARED.with_borrow_mut(|shared| {
        let mut hasher = shared.types.first.hasher().build_hasher();
        shallow_hash(&ty, &mut hasher);
        let hash = hasher.finish();
        if let Some(found) = shared.types.find(hash, |t| shallow_eq(t, &ty)) {
            return found;
        }
        let ty = Arc::new(ty);
        shared.types.insert(hash, &ty);
        ty
    })
}

/// Forgets what this thread shared (the facts keep their copies): called when a file's
/// analysis ends. The tables keep their room for the next file.
pub fn release_shared() {
    SHARED.with_borrow_mut(|shared| {
        shared.paths.clear();
        shared.labels.clear();
        shared.types.clear();
    });
}

fn share<T: ?Sized + Eq + Hash>(table: &mut NameSet<Arc<T>>, value: &T) -> Arc<T>
where
    for<'a> Arc<T>: From<&'a T>,
{
    match table.get(value) {
        Some(shared) => shared.clone(),
        None => {
            let shared = Arc::<T>::from(value);
            table.insert(shared.clone());
            shared
        }
    }
}

/// The address of a shared type or path: what it is known by one level up.
fn address<T: ?Sized>(shared: &Arc<T>) -> usize {
    Arc::as_ptr(shared) as *const () as usize
}

/// A type's hash: its names by content, the shared types it is built on by address (they are
/// copies of this table, alive as long as the types built on them), and its paths by address
/// too (the analysis names paths by their shared copies; a path that is not one only hashes
/// apart from its copy, and is shared less).
fn shallow_hash(ty: &TypeRef, hasher: &mut NameHasher) {
    match ty {
        TypeRef::Named(path) => {
            hasher.write_u8(0);
            hasher.write_usize(address(path));
        }
        TypeRef::Bounds(bounds) => {
            hasher.write_u8(1);
            bounds.hash(hasher);
        }
        TypeRef::Field(base, name) => {
            hasher.write_u8(2);
            hasher.write_usize(address(base));
            name.hash(hasher);
        }
        TypeRef::Returns { callee, on } => {
            hasher.write_u8(3);
            hasher.write_usize(address(callee));
            hasher.write_usize(on.as_ref().map_or(0, address));
        }
        TypeRef::Outside => hasher.write_u8(4),
        TypeRef::Wrapped { wrapper, inner } => {
            hasher.write_u8(5);
            hasher.write_usize(address(wrapper));
            shallow_hash(inner, hasher);
        }
    }
}

/// Whether two types are the same, the shared types they are built on compared by address
/// (the same address is the same type; two copies of one type would only be shared less).
fn shallow_eq(a: &TypeRef, b: &TypeRef) -> bool {
    let same = |x: &Arc<TypeRef>, y: &Arc<TypeRef>| Arc::ptr_eq(x, y);
    match (a, b) {
        (TypeRef::Named(x), TypeRef::Named(y)) => x == y,
        (TypeRef::Bounds(x), TypeRef::Bounds(y)) => x == y,
        (TypeRef::Field(x, m), TypeRef::Field(y, n)) => same(x, y) && m == n,
        (TypeRef::Returns { callee: c, on: x }, TypeRef::Returns { callee: d, on: y }) => {
            c == d
                && match (x, y) {
                    (Some(x), Some(y)) => same(x, y),
                    (None, None) => true,
                    _ => false,
                }
        }
        (TypeRef::Outside, TypeRef::Outside) => true,
        (TypeRef::Wrapped { wrapper: w, inner: x }, TypeRef::Wrapped { wrapper: v, inner: y }) => {
            w == v && shallow_eq(x, y)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_labels_are_shared_until_released() {
        let get = || shared_path(&["Repo".to_string(), "get".to_string()]);
        let (a, b) = (get(), get());
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*a, ["Repo", "get"]);
        assert!(!Arc::ptr_eq(&shared_path(&["get".to_string()]), &a));
        let db = shared_label("db");
        assert!(Arc::ptr_eq(&db, &shared_label("db")));
        assert!(!Arc::ptr_eq(&db, &shared_label("self.db")));
        let repo = || shared_type(TypeRef::Named(shared_path(&["Repo".to_string()])));
        assert!(Arc::ptr_eq(&repo(), &repo()));
        release_shared();
        let c = get();
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(a, c);
        assert!(!Arc::ptr_eq(&db, &shared_label("db")));
        release_shared();
    }

    #[test]
    fn a_path_looked_up_by_hash_is_the_path_shared_by_its_segments() {
        let segments = || vec!["Repo".to_string(), "get".to_string()];
        let mut hash = PathHash::default();
        hash.segment("Repo");
        hash.segment("get");
        let by_hash = || shared_path_by(hash.finish(), |p| p == ["Repo", "get"], segments);
        let first = by_hash();
        assert!(Arc::ptr_eq(&first, &by_hash()));
        assert!(Arc::ptr_eq(&first, &shared_path(&segments())));
        // Another path of the same hash is told apart by its segments, and shared too.
        let other = || shared_path_by(hash.finish(), |p| p == ["get"], || vec!["get".to_string()]);
        let get = other();
        assert_eq!(&*get, ["get"]);
        assert!(!Arc::ptr_eq(&first, &get));
        assert!(Arc::ptr_eq(&get, &other()));
        assert!(Arc::ptr_eq(&first, &by_hash()));
        // Segments are hashed whole: `ab` then `c` is not `a` then `bc`.
        let (mut ab_c, mut a_bc) = (PathHash::default(), PathHash::default());
        ab_c.segment("ab");
        ab_c.segment("c");
        a_bc.segment("a");
        a_bc.segment("bc");
        assert_ne!(ab_c.finish(), a_bc.finish());
        release_shared();
    }

    #[test]
    fn types_built_on_shared_types_are_shared_by_what_they_are_built_on() {
        let named = |n: &str| shared_type(TypeRef::Named(shared_path(&[n.to_string()])));
        let field = |base: Arc<TypeRef>, name: &str| shared_type(TypeRef::Field(base, name.to_string()));
        let (repo, other) = (named("Repo"), named("Other"));
        let a = field(repo.clone(), "pool");
        assert!(Arc::ptr_eq(&a, &field(repo.clone(), "pool")));
        assert!(!Arc::ptr_eq(&a, &field(other.clone(), "pool")));
        assert!(!Arc::ptr_eq(&a, &field(repo.clone(), "db")));
        let returns = |on: Option<Arc<TypeRef>>| {
            shared_type(TypeRef::Returns { callee: shared_path(&["get".to_string()]), on })
        };
        let r = returns(Some(a.clone()));
        assert!(Arc::ptr_eq(&r, &returns(Some(a.clone()))));
        assert!(!Arc::ptr_eq(&r, &returns(None)));
        assert_eq!(*returns(None), TypeRef::Returns { callee: ["get".to_string()].into(), on: None });
        release_shared();
    }
}
