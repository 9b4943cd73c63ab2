//! The callee paths of a file's call sinks, one shared copy per distinct path: a tree calls
//! the same few names (`get`, `insert`, `Repo::new`) at most of its call sites, and every
//! sink would otherwise own a vector and a string of its own. Paths are shared within the
//! file being analysed on this thread and forgotten when it is done
//! ([`release_callee_paths`]); they never decide anything about a call.

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Arc;

/// A callee as written: path segments (`crate::store::bump`) or a method's name.
pub type CalleePath = Arc<[String]>;

thread_local! {
    /// The paths of the file this thread is analysing.
    static PATHS: RefCell<HashSet<CalleePath>> = RefCell::new(HashSet::new());
}

/// `path`, shared with every call of the same path in the file being analysed.
pub fn callee_path(path: &[String]) -> CalleePath {
    PATHS.with_borrow_mut(|paths| match paths.get(path) {
        Some(shared) => shared.clone(),
        None => {
            let shared: CalleePath = Arc::from(path);
            paths.insert(shared.clone());
            shared
        }
    })
}

/// Forgets this thread's paths (the sinks keep theirs): called when a file's analysis ends.
pub fn release_callee_paths() {
    PATHS.with_borrow_mut(|paths| *paths = HashSet::new());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_shared_until_released() {
        let get = || callee_path(&["Repo".to_string(), "get".to_string()]);
        let (a, b) = (get(), get());
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*a, ["Repo", "get"]);
        assert!(!Arc::ptr_eq(&callee_path(&["get".to_string()]), &a));
        release_callee_paths();
        let c = get();
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(a, c);
    }
}
