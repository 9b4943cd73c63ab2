//! A file's rustfmt style, as far as import edits need it: the style edition that decides how
//! the names of a `use` list are sorted. Read from the nearest `rustfmt.toml` /
//! `.rustfmt.toml` (`style_edition`, else `edition`), else from the nearest `Cargo.toml`'s
//! package edition (`edition.workspace = true` follows to the workspace's `[workspace.package]`),
//! as `cargo fmt` does. It reads configuration files only, never a source file.
//!
//! Style editions 2015–2021 sort `self` first, then names starting with a lower-case letter,
//! then the others, by bytes (`self, stdout, Read, Write`; `NonZeroU16, NonZeroU8`). Style
//! edition 2024 sorts `self`, `super` and `crate` first, then by "version sorting" (the Rust
//! style guide): runs of digits compare as numbers, other text by character with `_` right
//! after a space and before every other character — so upper case comes before lower case
//! (`self, Read, Write, stdout`; `NonZeroU8, NonZeroU16`).

use std::cmp::Ordering;
use std::path::Path;

/// How `use` lists are sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StyleEdition {
    /// 2015, 2018, 2021: lower case first, by bytes.
    #[default]
    Before2024,
    /// 2024 and later: version sorting.
    V2024,
}

impl StyleEdition {
    fn from_year(year: &str) -> StyleEdition {
        match year.trim().parse::<u32>() {
            Ok(y) if y >= 2024 => StyleEdition::V2024,
            _ => StyleEdition::Before2024,
        }
    }

    /// The style edition `cargo fmt` would use for the file at `path`.
    pub fn of_file(path: &Path) -> StyleEdition {
        let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let dirs: Vec<&Path> = absolute.ancestors().skip(1).collect();
        'config: for dir in &dirs {
            for name in ["rustfmt.toml", ".rustfmt.toml"] {
                let Some(table) = read_toml(&dir.join(name)) else { continue };
                let year = table.get("style_edition").or_else(|| table.get("edition"));
                if let Some(year) = year.and_then(toml::Value::as_str) {
                    return StyleEdition::from_year(year);
                }
                // The nearest rustfmt.toml sets no edition: the package's edition decides.
                break 'config;
            }
        }
        let mut inherit = false;
        for dir in &dirs {
            let Some(manifest) = read_toml(&dir.join("Cargo.toml")) else { continue };
            if !inherit {
                if let Some(package) = manifest.get("package") {
                    match package.get("edition") {
                        Some(toml::Value::String(year)) => return StyleEdition::from_year(year),
                        Some(toml::Value::Table(_)) => inherit = true,
                        // No edition: 2015.
                        _ => return StyleEdition::Before2024,
                    }
                }
            }
            let workspace =
                manifest.get("workspace").and_then(|w| w.get("package")).and_then(|p| p.get("edition"));
            if let (true, Some(year)) = (inherit, workspace.and_then(toml::Value::as_str)) {
                return StyleEdition::from_year(year);
            }
        }
        StyleEdition::Before2024
    }

    /// Sorts the items of a `use` list (`self`, `get_db`, `Pool`, `extract::{A, B}`).
    pub fn sort(self, items: &mut [String]) {
        items.sort_by(|a, b| self.compare(a, b));
    }

    /// The order of two items of a `use` list.
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        let (fa, fb) = (first_segment(a), first_segment(b));
        match self {
            StyleEdition::Before2024 => {
                let key = |item: &str, first: &str| {
                    (
                        u8::from(first != "self"),
                        first.starts_with(|c: char| c.is_uppercase()),
                        item.to_string(),
                    )
                };
                key(a, fa).cmp(&key(b, fb))
            }
            StyleEdition::V2024 => {
                let rank =
                    |first: &str| ["self", "super", "crate"].iter().position(|k| *k == first).unwrap_or(3);
                rank(fa).cmp(&rank(fb)).then_with(|| version_compare(a, b))
            }
        }
    }
}

fn first_segment(item: &str) -> &str {
    item.split("::").next().unwrap_or(item).trim()
}

fn read_toml(path: &Path) -> Option<toml::Table> {
    let text = std::fs::read_to_string(path).ok()?;
    text.parse::<toml::Table>().ok()
}

/// The Rust style guide's version sorting: digit runs as numbers (fewer leading zeroes first
/// on a tie), other characters by Unicode with `_` just after a space.
fn version_compare(a: &str, b: &str) -> Ordering {
    let (ca, cb) = (chunks(a), chunks(b));
    let mut zeroes = Ordering::Equal;
    for (x, y) in ca.iter().zip(&cb) {
        let digits = |s: &str| s.starts_with(|c: char| c.is_ascii_digit());
        let order = if digits(x) && digits(y) {
            let (tx, ty) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
            if zeroes == Ordering::Equal {
                zeroes = x.len().cmp(&y.len()).reverse();
            }
            tx.len().cmp(&ty.len()).then_with(|| tx.cmp(ty))
        } else {
            let key = |c: char| match c {
                ' ' => (0, 0),
                '_' => (1, 0),
                c => (2, u32::from(c)),
            };
            x.chars().map(key).cmp(y.chars().map(key))
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    ca.len().cmp(&cb.len()).then(zeroes)
}

/// `NonZeroU16` → `NonZeroU`, `16`.
fn chunks(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<bool> = None;
    for (i, c) in s.char_indices() {
        let digit = c.is_ascii_digit();
        if prev.is_some_and(|p| p != digit) {
            out.push(&s[start..i]);
            start = i;
        }
        prev = Some(digit);
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(style: StyleEdition, items: &[&str]) -> Vec<String> {
        let mut items: Vec<String> = items.iter().map(|s| s.to_string()).collect();
        style.sort(&mut items);
        items
    }

    /// The edition guide's own examples ("Rustfmt: Version sorting").
    #[test]
    fn both_styles_sort_as_the_edition_guide_shows() {
        let io = ["Write", "Read", "stdout", "self"];
        let num = ["NonZeroU32", "NonZeroU16", "NonZeroU8", "NonZeroU64"];
        assert_eq!(sorted(StyleEdition::Before2024, &io), ["self", "stdout", "Read", "Write"]);
        assert_eq!(
            sorted(StyleEdition::Before2024, &num),
            ["NonZeroU16", "NonZeroU32", "NonZeroU64", "NonZeroU8"]
        );
        assert_eq!(sorted(StyleEdition::V2024, &io), ["self", "Read", "Write", "stdout"]);
        assert_eq!(
            sorted(StyleEdition::V2024, &num),
            ["NonZeroU8", "NonZeroU16", "NonZeroU32", "NonZeroU64"]
        );
    }

    #[test]
    fn underscores_sort_before_letters_in_2024() {
        assert_eq!(
            sorted(StyleEdition::V2024, &["get_db_ro", "get_dbx", "get_db", "DbRo", "super::x"]),
            ["super::x", "DbRo", "get_db", "get_db_ro", "get_dbx"]
        );
    }

    #[test]
    fn the_style_edition_comes_from_rustfmt_toml_then_cargo_toml() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("crates/app/src/main.rs");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "").unwrap();
        assert_eq!(StyleEdition::of_file(&file), StyleEdition::Before2024);
        let app = dir.path().join("crates/app/Cargo.toml");
        std::fs::write(&app, "[package]\nname = \"app\"\nedition.workspace = true\n").unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "[workspace.package]\nedition = \"2024\"\n").unwrap();
        assert_eq!(StyleEdition::of_file(&file), StyleEdition::V2024);
        std::fs::write(&app, "[package]\nname = \"app\"\nedition = \"2021\"\n").unwrap();
        assert_eq!(StyleEdition::of_file(&file), StyleEdition::Before2024);
        std::fs::write(dir.path().join("rustfmt.toml"), "style_edition = \"2024\"\n").unwrap();
        assert_eq!(StyleEdition::of_file(&file), StyleEdition::V2024);
    }
}
