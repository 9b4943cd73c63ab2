//! Helpers shared by the integration tests that run the real binary.

// Each test crate uses its own subset of these.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Runs `ro-audit` in `dir`; fails the test if it panicked.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_ro-audit"))
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .args(args)
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "the tool panicked:\n{stderr}");
    output
}

/// `ro-audit check src --format json EXTRA…` in `dir`: the exit status and the document.
pub fn check_src_json(dir: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["check", "src", "--format", "json"];
    args.extend_from_slice(extra);
    let output = run(dir, &args);
    let json = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(&output.stdout)));
    (output.status.code(), json)
}

/// A temporary tree with `files` (path, contents).
pub fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let bytes: Vec<(&str, &[u8])> = files.iter().map(|(name, text)| (*name, text.as_bytes())).collect();
    tree_bytes(&bytes)
}

/// A temporary tree with `files` (path, bytes).
pub fn tree_bytes(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, contents) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    dir
}
