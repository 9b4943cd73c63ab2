//! The hasher of the index's own maps: keys are the tree's names and module paths, hashed
//! millions of times on a large tree, where std's default (SipHash, built to resist chosen
//! keys from a network) costs more than the lookups it serves. Eight bytes at a time: rotate,
//! mix in, multiply by an odd constant. Never used for anything but in-memory lookups. A pair
//! of names ([`NamePair`]) is one key, looked up by borrowed parts.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::Arc;

/// A hash map keyed by the tree's names.
pub type NameMap<K, V> = HashMap<K, V, BuildHasherDefault<NameHasher>>;

/// A hash set of the tree's names.
pub type NameSet<K> = HashSet<K, BuildHasherDefault<NameHasher>>;

/// An odd constant whose bits are well mixed (from the fractional digits of π).
const MULTIPLIER: u64 = 0x243f_6a88_85a3_08d3;

/// The hasher behind [`NameMap`] and [`NameSet`].
#[derive(Debug, Default, Clone, Copy)]
pub struct NameHasher {
    hash: u64,
}

impl NameHasher {
    fn mix(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut le = [0u8; 8];
            le.copy_from_slice(word);
            self.mix(u64::from_le_bytes(le));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut le = [0u8; 8];
            le[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(le) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.mix(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.mix(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.mix(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }

    /// The high bits carry the most mixing; hash tables index by the low ones.
    fn finish(&self) -> u64 {
        self.hash.rotate_left(26)
    }
}

/// Two names as one key (a type and one of its methods), owned by the map and looked up by
/// borrowed parts: `map.get(&("Repo", "save") as &dyn Pair)`, one probe and no key built.
#[derive(Debug, Clone)]
pub struct NamePair {
    first: Arc<str>,
    second: Box<str>,
}

impl NamePair {
    /// The key of `first` and `second`.
    pub fn new(first: Arc<str>, second: &str) -> NamePair {
        NamePair { first, second: second.into() }
    }
}

/// The two names of a key, owned or borrowed.
pub trait Pair {
    /// The first and second names.
    fn names(&self) -> (&str, &str);
}

impl Pair for NamePair {
    fn names(&self) -> (&str, &str) {
        (&self.first, &self.second)
    }
}

impl Pair for (&str, &str) {
    fn names(&self) -> (&str, &str) {
        *self
    }
}

impl<'a> Borrow<dyn Pair + 'a> for NamePair {
    fn borrow(&self) -> &(dyn Pair + 'a) {
        self
    }
}

impl Hash for dyn Pair + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.names().hash(state);
    }
}

impl PartialEq for dyn Pair + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.names() == other.names()
    }
}

impl Eq for dyn Pair + '_ {}

/// Hashed as its borrowed form is: a lookup by parts finds it.
impl Hash for NamePair {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.names().hash(state);
    }
}

impl PartialEq for NamePair {
    fn eq(&self, other: &Self) -> bool {
        self.names() == other.names()
    }
}

impl Eq for NamePair {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn hash(s: &str) -> u64 {
        BuildHasherDefault::<NameHasher>::default().hash_one(s)
    }

    #[test]
    fn equal_keys_hash_alike_and_near_keys_apart() {
        assert_eq!(hash("fetch_all"), hash("fetch_all"));
        let names = ["a", "b", "ab", "ba", "get", "get_", "Ledger1Repo", "Ledger2Repo", "", "\0"];
        let hashes: NameSet<u64> = names.iter().map(|n| hash(n)).collect();
        assert_eq!(hashes.len(), names.len());
        // Nearby names spread over the low bits a table indexes by.
        let buckets: NameSet<u64> = (0..1000).map(|i| hash(&format!("list_0_{i}")) & 1023).collect();
        assert!(buckets.len() > 500, "{} buckets of 1024 used", buckets.len());
    }

    #[test]
    fn pairs_are_found_by_borrowed_parts_and_only_in_their_order() {
        let mut map: NameMap<NamePair, usize> = NameMap::default();
        map.insert(NamePair::new("Repo".into(), "save"), 1);
        map.insert(NamePair::new("save".into(), "Repo"), 2);
        map.insert(NamePair::new("Rep".into(), "osave"), 3);
        assert_eq!(map.get(&("Repo", "save") as &dyn Pair), Some(&1));
        assert_eq!(map.get(&("save", "Repo") as &dyn Pair), Some(&2));
        assert_eq!(map.get(&("Rep", "osave") as &dyn Pair), Some(&3));
        assert_eq!(map.get(&("Repo", "load") as &dyn Pair), None);
        assert_eq!(map.len(), 3);
    }

    #[test]
    fn maps_keyed_by_names_find_what_was_put() {
        let mut map: NameMap<Vec<String>, usize> = NameMap::default();
        map.insert(vec!["m0".into(), "inner".into()], 1);
        assert_eq!(map.get([String::from("m0"), String::from("inner")].as_slice()), Some(&1));
        assert_eq!(map.get([String::from("m0")].as_slice()), None);
    }
}
