//! The TOML shape of a rule file (`rules/default.toml`, a project's `ro-audit.toml`), parsed
//! with every error located: file, line, column and the key it is under. Every field is
//! optional so that a project file may set any subset; the built-in file sets all of them
//! (checked by a test). Only parses: merging and checking values is the parent module's.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::routes::RawRoutes;
use super::ConfigError;
use crate::source::line_column;

pub(super) type List = Option<Spanned<Vec<Spanned<String>>>>;
pub(super) type Map = Option<BTreeMap<Spanned<String>, Spanned<String>>>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRules {
    pub(super) extend: Option<bool>,
    pub(super) exclude: List,
    pub(super) max_file_bytes: Option<Spanned<i64>>,
    #[serde(default)]
    pub(super) accessors: RawHandleNames,
    #[serde(default)]
    pub(super) types: RawHandleNames,
    #[serde(default)]
    pub(super) handles: RawHandles,
    #[serde(default)]
    pub(super) sql: RawSql,
    #[serde(default)]
    pub(super) orm: RawOrm,
    #[serde(default)]
    pub(super) write_helpers: RawWriteHelpers,
    #[serde(default)]
    pub(super) outside: RawOutside,
    #[serde(default)]
    pub(super) routes: RawRoutes,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOutside {
    pub(super) inert: List,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOrm {
    pub(super) write_builders: List,
    pub(super) executors: List,
    pub(super) model_writes: List,
    pub(super) models: List,
    pub(super) read_executors: List,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHandleNames {
    pub(super) read_only: List,
    pub(super) read_write: List,
    pub(super) migrate: Map,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHandles {
    pub(super) derive: List,
    pub(super) transparent: List,
    pub(super) wrappers: List,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSql {
    pub(super) methods: List,
    pub(super) builders: List,
    pub(super) macros: List,
    pub(super) string_macros: List,
    pub(super) file_macros: List,
    pub(super) writing_functions: List,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWriteHelpers {
    pub(super) patterns: List,
    pub(super) allow: List,
}

/// One parsed TOML file with the text its spans point into.
pub(super) struct RawFile<'a> {
    pub(super) path: PathBuf,
    pub(super) text: &'a str,
    pub(super) rules: RawRules,
}

impl RawFile<'_> {
    pub(super) fn error(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> ConfigError {
        let (line, column) = line_column(self.text, span.start);
        ConfigError::Invalid {
            file: self.path.clone(),
            line,
            column,
            key: key.to_string(),
            message: message.into(),
        }
    }
}

pub(super) fn parse_raw<'a>(path: &Path, text: &'a str) -> Result<RawFile<'a>, ConfigError> {
    match toml::from_str::<RawRules>(text) {
        Ok(rules) => Ok(RawFile { path: path.to_path_buf(), text, rules }),
        Err(err) => {
            let span = err.span().unwrap_or(0..0);
            let (line, column) = line_column(text, span.start);
            let message = err.message().trim().to_string();
            let key = if message.starts_with("unknown field") {
                key_at(text, span.clone())
            } else {
                enclosing_key(text, span.start)
            };
            Err(ConfigError::Invalid { file: path.to_path_buf(), line, column, key, message })
        }
    }
}

/// The key written at `span` (an unknown field's span covers the key).
fn key_at(text: &str, span: Range<usize>) -> String {
    let key = text.get(span.clone()).unwrap_or("").trim().trim_matches('"').to_string();
    let table = current_table(text, span.start);
    match (table.is_empty(), key.is_empty()) {
        (_, true) => "-".to_string(),
        (true, false) => key,
        (false, false) => format!("{table}.{key}"),
    }
}

/// The key whose value contains `offset`: the table header above it plus the line's key.
fn enclosing_key(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let mut key = String::new();
    // The nearest line above (or this one) that starts with `name =`.
    for line in text[..line_start + line_of(text, offset).len()].lines().rev() {
        let line = line.trim_start();
        if let Some((k, _)) = line.split_once('=') {
            let k = k.trim();
            if !k.is_empty() && !k.starts_with('#') && !k.starts_with('[') {
                key = k.trim_matches('"').to_string();
                break;
            }
        }
        if line.starts_with('[') {
            break;
        }
    }
    let table = current_table(text, offset);
    match (table.is_empty(), key.is_empty()) {
        (true, true) => "-".to_string(),
        (true, false) => key,
        (false, true) => table,
        (false, false) => format!("{table}.{key}"),
    }
}

fn line_of(text: &str, offset: usize) -> &str {
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    &text[start..end]
}

/// The `[table]` header in force at `offset`.
fn current_table(text: &str, offset: usize) -> String {
    text[..offset.min(text.len())]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && l.contains(']'))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string())
        .unwrap_or_default()
}
