//! The hasher of the index's own maps: keys are the tree's names and module paths, hashed
//! millions of times on a large tree, where std's default (SipHash, built to resist chosen
//! keys from a network) costs more than the lookups it serves. Eight bytes at a time: rotate,
//! mix in, multiply by an odd constant. Never used for anything but in-memory lookups. A name
//! ([`Name`]) keeps a short name's bytes in the key itself; a pair of names ([`NamePair`]) is
//! one key, looked up by borrowed parts.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};

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

/// How many bytes a [`Name`] holds in itself (nearly every name of a tree is shorter).
const SHORT: usize = 22;

/// A name as a key of the index: its bytes kept in the key itself when short, so that a probe
/// compares bytes beside the table's slot instead of behind a pointer to memory gone cold.
/// Looked up by a borrowed name's bytes: `map.get(name.as_bytes())`.
#[derive(Clone)]
pub enum Name {
    /// Up to [`SHORT`] bytes, and how many.
    Short(u8, [u8; SHORT]),
    /// A longer name.
    Long(Box<[u8]>),
}

impl Name {
    /// The key of `name`.
    pub fn new(name: &str) -> Name {
        let bytes = name.as_bytes();
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= SHORT => {
                let mut short = [0u8; SHORT];
                short[..bytes.len()].copy_from_slice(bytes);
                Name::Short(len, short)
            }
            _ => Name::Long(bytes.into()),
        }
    }

    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Name::Short(len, bytes) => &bytes[..usize::from(*len)],
            Name::Long(bytes) => bytes,
        }
    }
}

impl Borrow<[u8]> for Name {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// Hashed as its bytes are: a lookup by borrowed bytes finds it.
impl Hash for Name {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Name {}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

/// Two names as one key (a type and one of its methods), each kept as a [`Name`], looked up
/// by borrowed parts: `map.get(&("Repo", "save") as &dyn Pair)`, one probe and no key built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePair {
    first: Name,
    second: Name,
}

impl NamePair {
    /// The key of `first` and `second`.
    pub fn new(first: &str, second: &str) -> NamePair {
        NamePair { first: Name::new(first), second: Name::new(second) }
    }
}

/// The two names of a key, owned or borrowed, as bytes.
pub trait Pair {
    /// The first and second names' bytes.
    fn names(&self) -> (&[u8], &[u8]);
}

impl Pair for NamePair {
    fn names(&self) -> (&[u8], &[u8]) {
        (self.first.as_bytes(), self.second.as_bytes())
    }
}

impl Pair for (&str, &str) {
    fn names(&self) -> (&[u8], &[u8]) {
        (self.0.as_bytes(), self.1.as_bytes())
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
        map.insert(NamePair::new("Repo", "save"), 1);
        map.insert(NamePair::new("save", "Repo"), 2);
        map.insert(NamePair::new("Rep", "osave"), 3);
        let long = "a_name_longer_than_a_short_name_holds";
        map.insert(NamePair::new(long, "save"), 4);
        assert_eq!(map.get(&("Repo", "save") as &dyn Pair), Some(&1));
        assert_eq!(map.get(&("save", "Repo") as &dyn Pair), Some(&2));
        assert_eq!(map.get(&("Rep", "osave") as &dyn Pair), Some(&3));
        assert_eq!(map.get(&(long, "save") as &dyn Pair), Some(&4));
        assert_eq!(map.get(&("Repo", "load") as &dyn Pair), None);
        assert_eq!(map.len(), 4);
    }

    #[test]
    fn maps_keyed_by_names_find_what_was_put() {
        let mut map: NameMap<Vec<String>, usize> = NameMap::default();
        map.insert(vec!["m0".into(), "inner".into()], 1);
        assert_eq!(map.get([String::from("m0"), String::from("inner")].as_slice()), Some(&1));
        assert_eq!(map.get([String::from("m0")].as_slice()), None);
    }

    #[test]
    fn names_short_and_long_are_found_by_their_bytes() {
        let long = "a_name_longer_than_a_short_name_holds";
        let exact = "exactly_22_bytes_long_";
        assert_eq!(exact.len(), SHORT);
        let mut map: NameMap<Name, usize> = NameMap::default();
        for (i, name) in ["", "get", exact, long, "exactly_22_bytes_long"].iter().enumerate() {
            map.insert(Name::new(name), i);
        }
        assert!(matches!(Name::new(exact), Name::Short(..)) && matches!(Name::new(long), Name::Long(_)));
        assert_eq!(map.get("".as_bytes()), Some(&0));
        assert_eq!(map.get("get".as_bytes()), Some(&1));
        assert_eq!(map.get(exact.as_bytes()), Some(&2));
        assert_eq!(map.get(long.as_bytes()), Some(&3));
        assert_eq!(map.get("exactly_22_bytes_long".as_bytes()), Some(&4));
        assert_eq!(map.get("ge".as_bytes()), None);
        assert_eq!(map.get("get\0".as_bytes()), None, "padding is not part of a name");
        assert_eq!(format!("{:?}", Name::new("get")), "\"get\"");
    }
}
