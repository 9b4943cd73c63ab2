//! What a file's facts repeat, one shared copy each: paths as written — callees of its calls
//! (`crate::store::bump`, a method's name) and the types it names (`Repo`, `sqlx::PgPool`) —,
//! the labels of the handles its sinks use (`db`, `self.pool`), and the types of values (a
//! call's receiver). A tree calls the same few names (`get`, `insert`, `Repo::new`) on the
//! same few handles at most of its call sites, and every sink and type would otherwise own
//! vectors and strings of its own. The copies are
//! shared within the file being analysed on this thread and forgotten when its analysis ends
//! ([`release_shared`]); this module never decides anything about what they name.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Arc;

use super::TypeRef;

/// A path as written, its segments in order (shared: see the module).
pub type SharedPath = Arc<[String]>;

/// What the file being analysed on this thread has shared so far.
#[derive(Default)]
struct Shared {
    paths: HashSet<SharedPath>,
    labels: HashSet<Arc<str>>,
    types: HashSet<Arc<TypeRef>>,
}

thread_local! {
    static SHARED: RefCell<Shared> = RefCell::new(Shared::default());
}

/// `path`, shared with every use of the same path in the file being analysed.
pub fn shared_path(path: &[String]) -> SharedPath {
    SHARED.with_borrow_mut(|shared| share(&mut shared.paths, path))
}

/// `label`, shared with every sink of the file being analysed that uses the same label.
pub fn shared_label(label: &str) -> Arc<str> {
    SHARED.with_borrow_mut(|shared| share(&mut shared.labels, label))
}

/// `ty`, shared with every value of the same type in the file being analysed.
pub fn shared_type(ty: TypeRef) -> Arc<TypeRef> {
    SHARED.with_borrow_mut(|shared| match shared.types.get(&ty) {
        Some(shared) => shared.clone(),
        None => {
            let ty = Arc::new(ty);
            shared.types.insert(ty.clone());
            ty
        }
    })
}

/// Forgets what this thread shared (the facts keep their copies): called when a file's
/// analysis ends.
pub fn release_shared() {
    SHARED.with_borrow_mut(|shared| *shared = Shared::default());
}

fn share<T: ?Sized + Eq + std::hash::Hash>(table: &mut HashSet<Arc<T>>, value: &T) -> Arc<T>
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
    }
}
