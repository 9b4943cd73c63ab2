//! Fingerprints: what identifies a finding across edits that do not touch it.
//!
//! A fingerprint hashes the rule, the file, the function, the evidence (whitespace folded)
//! and the binding — never a line or a column, so code added above a finding leaves it alone —
//! plus the finding's occurrence index among the findings with that same key in the file, in
//! source order, so that a second identical write in the same function gets a fingerprint of
//! its own. SARIF's `partialFingerprints` and baselines both use it.

use std::collections::HashMap;
use std::path::Path;

use crate::diagnostics::Finding;

/// The name of the fingerprint in SARIF's `partialFingerprints` (versioned: a change of what
/// is hashed gets a new name).
pub const SARIF_KEY: &str = "roAuditFingerprint/v1";

/// Sets the fingerprint of every finding in `findings` (one run's findings of one or more
/// rules; occurrence indices count within this slice).
pub fn assign(findings: &mut [Finding]) {
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&findings[a], &findings[b]);
        (&a.file, a.line, a.column, a.end_line, a.end_column).cmp(&(
            &b.file,
            b.line,
            b.column,
            b.end_line,
            b.end_column,
        ))
    });
    let mut occurrences: HashMap<u128, u64> = HashMap::new();
    for i in order {
        let key = key_hash(&findings[i]);
        let index = occurrences.entry(key).or_insert(0);
        let mut hash = Fnv128::new();
        hash.write(&key.to_le_bytes());
        hash.write(&index.to_le_bytes());
        *index += 1;
        findings[i].fingerprint = format!("{:032x}", hash.finish());
    }
}

/// The path as it is written in fingerprints and SARIF: `/`-separated, without a leading `./`.
pub fn path_key(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut rest = text.as_str();
    while let Some(stripped) = rest.strip_prefix("./") {
        rest = stripped;
    }
    rest.to_string()
}

fn key_hash(finding: &Finding) -> u128 {
    let evidence = finding.evidence.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut hash = Fnv128::new();
    for part in [finding.rule, &path_key(&finding.file), &finding.function, &evidence, &finding.binding] {
        hash.write(part.as_bytes());
        // A separator no part contains, so that ("ab", "c") and ("a", "bc") differ.
        hash.write(&[0]);
    }
    hash.finish()
}

/// FNV-1a, 128 bits: simple, stable across platforms and Rust versions (unlike std's hashers).
struct Fnv128(u128);

impl Fnv128 {
    const OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

    fn new() -> Fnv128 {
        Fnv128(Self::OFFSET)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u128::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    fn finish(&self) -> u128 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::source::TextRange;

    fn finding(file: &str, line: u32, function: &str, evidence: &str) -> Finding {
        Finding {
            rule: crate::rules::RO_WRITE_SQL,
            file: PathBuf::from(file),
            line,
            column: 5,
            end_line: line,
            end_column: 40,
            function: function.to_string(),
            binding: "db".to_string(),
            binding_line: 1,
            message: "UPDATE runs on read-only `db`".to_string(),
            evidence: evidence.to_string(),
            chain: Vec::new(),
            fingerprint: String::new(),
            span: TextRange::default(),
            origin: TextRange::default(),
            why: String::new(),
        }
    }

    fn fingerprints(findings: &mut [Finding]) -> Vec<String> {
        assign(findings);
        findings.iter().map(|f| f.fingerprint.clone()).collect()
    }

    #[test]
    fn fnv_matches_the_published_test_vectors() {
        // FNV-1a 128 of "" is the offset basis; of "a", the published value.
        let mut empty = Fnv128::new();
        empty.write(b"");
        assert_eq!(empty.finish(), 0x6c62272e07bb014262b821756295c58d);
        let mut a = Fnv128::new();
        a.write(b"a");
        assert_eq!(a.finish(), 0xd228cb696f1a8caf78912b704e4a8964);
    }

    #[test]
    fn lines_and_columns_do_not_change_a_fingerprint() {
        let before = fingerprints(&mut [finding("src/a.rs", 10, "f", "UPDATE t SET x = 1")]);
        let mut moved = finding("./src/a.rs", 42, "f", "UPDATE  t\n SET x = 1");
        moved.column = 9;
        let after = fingerprints(&mut [moved]);
        assert_eq!(before, after);
        assert_eq!(before[0].len(), 32);
        assert!(before[0].chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn every_part_of_the_key_counts() {
        let base = fingerprints(&mut [finding("src/a.rs", 1, "f", "UPDATE t SET x = 1")])[0].clone();
        let mut other_binding = finding("src/a.rs", 1, "f", "UPDATE t SET x = 1");
        other_binding.binding = "conn".to_string();
        for mut changed in [
            finding("src/b.rs", 1, "f", "UPDATE t SET x = 1"),
            finding("src/a.rs", 1, "g", "UPDATE t SET x = 1"),
            finding("src/a.rs", 1, "f", "UPDATE t SET x = 2"),
            other_binding,
        ] {
            assert_ne!(fingerprints(std::slice::from_mut(&mut changed))[0], base, "{changed:?}");
        }
    }

    #[test]
    fn repeated_findings_are_told_apart_by_their_order() {
        let mut two =
            [finding("src/a.rs", 20, "f", "DELETE FROM t"), finding("src/a.rs", 10, "f", "DELETE FROM t")];
        let prints = fingerprints(&mut two);
        assert_ne!(prints[0], prints[1]);
        // The first in source order (line 10) has the fingerprint a lone finding has.
        let alone = fingerprints(&mut [finding("src/a.rs", 99, "f", "DELETE FROM t")]);
        assert_eq!(prints[1], alone[0]);
    }
}
