//! Baselines for gradual adoption: `--write-baseline FILE` records the findings of a run by
//! fingerprint; `--baseline FILE` then reports only findings that are not recorded.
//!
//! The file is JSON: `{"version": 1, "findings": [{"fingerprint", "rule", "file", "function",
//! "evidence"}]}`. Only `fingerprint` decides; the other fields are there for people reading
//! the file (and no line numbers, so that unrelated edits leave the file unchanged).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diagnostics::Finding;
use crate::fingerprint;
use crate::pipeline::Outcome;

/// Version of the file's shape.
const VERSION: u32 = 1;

/// A baseline that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// Reading failed.
    #[error("{}: cannot read the baseline: {source}", file.display())]
    Unreadable {
        /// The baseline file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a baseline.
    #[error("{}: not a ro-audit baseline: {message}", file.display())]
    Invalid {
        /// The baseline file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Writing failed.
    #[error("{}: cannot write the baseline: {source}", file.display())]
    Unwritable {
        /// The baseline file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    version: u32,
    findings: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    fingerprint: String,
    #[serde(default)]
    rule: String,
    #[serde(default)]
    file: String,
    #[serde(default)]
    function: String,
    #[serde(default)]
    evidence: String,
}

/// The fingerprints of a baseline file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    fingerprints: HashSet<String>,
}

impl Baseline {
    /// Reads the baseline at `path`.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| BaselineError::Unreadable { file: path.to_path_buf(), source })?;
        let invalid = |message: String| BaselineError::Invalid { file: path.to_path_buf(), message };
        let doc: Document = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        if doc.version != VERSION {
            return Err(invalid(format!(
                "version {} is not supported (this ro-audit reads version {VERSION})",
                doc.version
            )));
        }
        Ok(Baseline { fingerprints: doc.findings.into_iter().map(|e| e.fingerprint).collect() })
    }

    /// Writes the fingerprints of `findings` to `path` (replacing it); returns how many.
    pub fn write(path: &Path, findings: &[Finding]) -> Result<usize, BaselineError> {
        let doc = Document {
            version: VERSION,
            findings: findings
                .iter()
                .map(|f| Entry {
                    fingerprint: f.fingerprint.clone(),
                    rule: f.rule.to_string(),
                    file: fingerprint::path_key(&f.file),
                    function: f.function.clone(),
                    evidence: f.evidence.clone(),
                })
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&doc).expect("a baseline serializes");
        text.push('\n');
        let unwritable = |source| BaselineError::Unwritable { file: path.to_path_buf(), source };
        // Written next to the target and renamed over it: a reader never sees half a file.
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        std::fs::write(&tmp, text).map_err(unwritable)?;
        std::fs::rename(&tmp, path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            unwritable(e)
        })?;
        Ok(doc.findings.len())
    }

    /// Whether the baseline records `finding`.
    pub fn contains(&self, finding: &Finding) -> bool {
        self.fingerprints.contains(&finding.fingerprint)
    }

    /// How many findings the baseline records.
    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    /// Whether the baseline records nothing.
    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }

    /// Leaves out of `outcome` the findings this baseline records, counting them in
    /// `summary.baselined`.
    pub fn apply(&self, outcome: &mut Outcome) {
        let before = outcome.findings.len();
        outcome.findings.retain(|f| !self.contains(f));
        outcome.summary.baselined += before - outcome.findings.len();
        outcome.summary.findings = outcome.findings.len();
    }
}
