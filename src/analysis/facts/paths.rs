//! Paths as written — callees of a file's calls (`crate::store::bump`, a method's name) and
//! the types it names (`Repo`, `sqlx::PgPool`) — one shared copy per distinct path: a tree
//! calls the same few names (`get`, `insert`, `Repo::new`) at most of its call sites, and
//! every sink and type would otherwise own a vector and strings of its own. Paths are shared
//! within the file being analysed on this thread and forgotten when its analysis ends
//! ([`release_shared_paths`]); this module never decides anything about what they name.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Arc;

/// A path as written, its segments in order (shared: see the module).
pub type SharedPath = Arc<[String]>;

thread_local! {
    /// The paths of the file this thread is analysing.
    static PATHS: RefCell<HashSet<SharedPath>> = RefCell::new(HashSet::new());
}

/// `path`, shared with every use of the same path in the file being analysed.
pub fn shared_path(path: &[String]) -> SharedPath {
    PATHS.with_borrow_mut(|paths| match paths.get(path) {
        Some(shared) => shared.clone(),
        None => {
            let shared: SharedPath = Arc::from(path);
            paths.insert(shared.clone());
            shared
        }
    })
}

/// Forgets this thread's paths (the facts keep theirs): called when a file's analysis ends.
pub fn release_shared_paths() {
    PATHS.with_borrow_mut(|paths| *paths = HashSet::new());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_shared_until_released() {
        let get = || shared_path(&["Repo".to_string(), "get".to_string()]);
        let (a, b) = (get(), get());
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*a, ["Repo", "get"]);
        assert!(!Arc::ptr_eq(&shared_path(&["get".to_string()]), &a));
        release_shared_paths();
        let c = get();
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(a, c);
    }
}
