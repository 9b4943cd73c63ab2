//! Import fixing on texts: renames, groups, scopes, refusals.

use super::*;

fn fix(text: &str, renames: &[(&str, &str, bool)]) -> String {
    let renames: Vec<Rename> =
        renames.iter().map(|(f, t, b)| Rename { from: f.to_string(), to: t.to_string(), bare: *b }).collect();
    super::fix(text, &renames, StyleEdition::Before2024, Lookup::trusting()).unwrap()
}

#[test]
fn a_single_import_is_renamed_or_grouped() {
    assert_eq!(
        fix("use crate::db::get_db;\n\nfn h() { get_db_ro(); }\n", &[("get_db", "get_db_ro", true)]),
        "use crate::db::get_db_ro;\n\nfn h() { get_db_ro(); }\n"
    );
    assert_eq!(
        fix(
            "use crate::db::get_db;\n\nfn h() { get_db_ro(); }\nfn p() { get_db(); }\n",
            &[("get_db", "get_db_ro", true)]
        ),
        "use crate::db::{get_db, get_db_ro};\n\nfn h() { get_db_ro(); }\nfn p() { get_db(); }\n"
    );
}

#[test]
fn groups_stay_sorted_and_lose_braces_when_one_is_left() {
    assert_eq!(
        fix("use x::{DbRo, DbRw};\nfn h(_: DbRo) {}\n", &[("DbRw", "DbRo", true)]),
        "use x::DbRo;\nfn h(_: DbRo) {}\n"
    );
    assert_eq!(
        fix(
            "use x::{get_db, Pool};\nfn h(_: Pool) { get_db_ro(); get_db(); }\n",
            &[("get_db", "get_db_ro", true)]
        ),
        "use x::{get_db, get_db_ro, Pool};\nfn h(_: Pool) { get_db_ro(); get_db(); }\n"
    );
}

#[test]
fn every_renamed_name_of_one_group_is_fixed_in_one_go() {
    // Both names of the group are rewritten and neither is left used: each is replaced by
    // its twin (one round each), never one of them left for a later run.
    let text = "use crate::db::{get_db, DbRw};\n\nasync fn h(_: DbRo) { get_db_ro().await; }\n";
    let renames = [("get_db", "get_db_ro", true), ("DbRw", "DbRo", true)];
    assert_eq!(
        fix(text, &renames),
        "use crate::db::{get_db_ro, DbRo};\n\nasync fn h(_: DbRo) { get_db_ro().await; }\n"
    );
    // Three names of one vertical list: one still used elsewhere keeps its import.
    let text = "use crate::db::{\n    get_db,\n    DbRw,\n    Pool,\n};\n\n\
                fn h(_: DbRo, _: Pool) { get_db_ro(); }\nfn p() { get_db(); }\n";
    let renames = [("get_db", "get_db_ro", true), ("DbRw", "DbRo", true)];
    assert_eq!(
        fix(text, &renames),
        "use crate::db::{\n    get_db,\n    get_db_ro,\n    DbRo,\n    Pool,\n};\n\n\
         fn h(_: DbRo, _: Pool) { get_db_ro(); }\nfn p() { get_db(); }\n"
    );
}

#[test]
fn imports_in_bodies_and_inline_modules_are_fixed_too() {
    let cases = [
        // A body that imports what it calls: the rewritten call needs the twin there.
        (
            "async fn h() {\n    use crate::db::get_db;\n    get_db_ro().await;\n}\n",
            "async fn h() {\n    use crate::db::get_db_ro;\n    get_db_ro().await;\n}\n",
        ),
        // A method's body, and a trait's default body.
        (
            "impl S { fn h(&self) { use crate::db::get_db; get_db_ro(); } }\n",
            "impl S { fn h(&self) { use crate::db::get_db_ro; get_db_ro(); } }\n",
        ),
        (
            "trait T { fn h(&self) { use crate::db::get_db; get_db_ro(); } }\n",
            "trait T { fn h(&self) { use crate::db::get_db_ro; get_db_ro(); } }\n",
        ),
        // Every `use` of the name, not only the first: the file's and an inline module's.
        (
            "use crate::db::get_db;\nfn h() { get_db_ro(); }\nmod inner {\n    use crate::db::get_db;\n    fn i() { get_db_ro(); }\n}\n",
            "use crate::db::get_db_ro;\nfn h() { get_db_ro(); }\nmod inner {\n    use crate::db::get_db_ro;\n    fn i() { get_db_ro(); }\n}\n",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(fix(text, &[("get_db", "get_db_ro", true)]), want, "{text}");
    }
}

#[test]
fn each_scope_is_fixed_for_what_it_names() {
    let cases = [
        // The twin imported in an inline module is not in scope at the top: the top's
        // import is renamed, not removed (E0425 otherwise).
        (
            "use crate::db::get_db;\nfn h() { get_db_ro(); }\nmod inner {\n    use crate::db::get_db_ro;\n    fn i() { get_db_ro(); }\n}\n",
            "use crate::db::get_db_ro;\nfn h() { get_db_ro(); }\nmod inner {\n    use crate::db::get_db_ro;\n    fn i() { get_db_ro(); }\n}\n",
        ),
        // The old name still used at the top does not keep an inline module's import,
        // whose own calls were all rewritten (an unused import otherwise).
        (
            "use crate::db::get_db;\nfn job() { get_db(); }\nmod inner {\n    use crate::db::get_db;\n    fn i() { get_db_ro(); }\n}\n",
            "use crate::db::get_db;\nfn job() { get_db(); }\nmod inner {\n    use crate::db::get_db_ro;\n    fn i() { get_db_ro(); }\n}\n",
        ),
        // A body importing the name itself: its calls are its own, not the module's; the
        // module's import stays for the calls that still use it, and the body's is renamed.
        (
            "use crate::db::get_db;\nfn job() { get_db(); }\nfn h() {\n    use crate::db::get_db;\n    get_db_ro();\n}\n",
            "use crate::db::get_db;\nfn job() { get_db(); }\nfn h() {\n    use crate::db::get_db_ro;\n    get_db_ro();\n}\n",
        ),
        // A body without imports of its own names what its module imports.
        (
            "use crate::db::get_db;\nfn h() {\n    use crate::util::label;\n    label(get_db_ro());\n}\n",
            "use crate::db::get_db_ro;\nfn h() {\n    use crate::util::label;\n    label(get_db_ro());\n}\n",
        ),
        // An inline module importing `super::*` names what its parent imports.
        (
            "use crate::db::get_db;\nfn job() { get_db(); }\nmod inner {\n    use super::*;\n    fn i() { get_db_ro(); }\n}\n",
            "use crate::db::{get_db, get_db_ro};\nfn job() { get_db(); }\nmod inner {\n    use super::*;\n    fn i() { get_db_ro(); }\n}\n",
        ),
        // A module without it does not: the parent's import is unused there.
        (
            "use crate::db::get_db;\nfn h() { get_db_ro(); }\nmod inner {\n    fn i() { crate::db::get_db(); }\n}\n",
            "use crate::db::get_db_ro;\nfn h() { get_db_ro(); }\nmod inner {\n    fn i() { crate::db::get_db(); }\n}\n",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(fix(text, &[("get_db", "get_db_ro", true)]), want, "{text}");
    }
}

#[test]
fn a_twin_no_use_item_can_bring_in_is_refused() {
    let renames = [Rename { from: "get_db".into(), to: "get_db_ro".into(), bare: true }];
    // `get_db` is this file's own function: no `use` to change, and `get_db_ro` is nowhere.
    let text = "fn get_db() {}\nfn h() { get_db_ro(); }\n";
    assert!(matches!(
        super::fix(text, &renames, StyleEdition::Before2024, Lookup::trusting()),
        Err(EditError::NotInScope(name)) if name == "get_db_ro"
    ));
    // The same with `get_db` an alias of something else.
    let text = "use crate::pool::primary as get_db;\nfn h() { get_db_ro(); }\n";
    assert!(matches!(
        super::fix(text, &renames, StyleEdition::Before2024, Lookup::trusting()),
        Err(EditError::NotInScope(name)) if name == "get_db_ro"
    ));
    // Both defined here, the twin brought in by a glob, or `get_db` bound in a way the file
    // does not show (a macro's `use`, say: the twin may be bound alike): no error.
    for text in [
        "fn get_db() {}\nfn get_db_ro() {}\nfn h() { get_db_ro(); }\n",
        "use x::*;\nfn h() { get_db_ro(); }\n",
        "fn h() { get_db_ro(); }\n",
    ] {
        assert_eq!(super::fix(text, &renames, StyleEdition::Before2024, Lookup::trusting()).unwrap(), text);
    }
}

#[test]
fn an_unused_import_is_removed_with_its_line() {
    assert_eq!(
        fix(
            "use a::b;\nuse x::get_db;\nuse x::get_db_ro;\n\nfn h() { get_db_ro(); b(); }\n",
            &[("get_db", "get_db_ro", true)]
        ),
        "use a::b;\nuse x::get_db_ro;\n\nfn h() { get_db_ro(); b(); }\n"
    );
}

#[test]
fn a_name_used_only_qualified_or_as_a_method_does_not_keep_its_import() {
    // `get_db` is left only in a full path and as a method: the import is unused.
    assert_eq!(
        fix(
            "use crate::db::get_db;\n\nfn h() { get_db_ro(); }\nfn p(s: S) { crate::db::get_db(); s.get_db(); }\n",
            &[("get_db", "get_db_ro", true)]
        ),
        "use crate::db::get_db_ro;\n\nfn h() { get_db_ro(); }\nfn p(s: S) { crate::db::get_db(); s.get_db(); }\n"
    );
    // A bare use after a range (`..`) or in a turbofish call still counts.
    assert_eq!(
        fix(
            "use x::get_db;\nfn h() { get_db_ro(); }\nfn p() { let _ = 0..get_db::<u8>(); }\n",
            &[("get_db", "get_db_ro", true)]
        ),
        "use x::{get_db, get_db_ro};\nfn h() { get_db_ro(); }\nfn p() { let _ = 0..get_db::<u8>(); }\n"
    );
}

#[test]
fn globs_and_qualified_uses_need_nothing() {
    let text = "use x::*;\nfn h() { get_db_ro(); }\n";
    assert_eq!(fix(text, &[("get_db", "get_db_ro", true)]), text);
    let text = "use crate::db;\nfn h() { db::get_db_ro(); }\n";
    assert_eq!(fix(text, &[("get_db", "get_db_ro", false)]), text);
}

#[test]
fn a_twin_the_importing_module_does_not_bring_in_is_refused() {
    let renames = [Rename { from: "get_db".into(), to: "get_db_ro".into(), bare: true }];
    // `crate::prelude` re-exports `get_db` but not `get_db_ro`; `crate::db` has both.
    let reaches = |prefix: &[String], name: &str| prefix.join("::") != "crate::prelude" || name == "get_db";
    let lookup = Lookup { reaches: &reaches, home: &|_, _| None, glob_names: &|_| None };
    let fix = |text: &str| super::fix(text, &renames, StyleEdition::Before2024, lookup);
    assert!(matches!(
        fix("use crate::prelude::get_db;\nfn h() { get_db_ro(); }\n"),
        Err(EditError::NotExported { module, name }) if module == "crate::prelude" && name == "get_db_ro"
    ));
    assert!(matches!(
        fix("use crate::{prelude::{get_db, label}, util};\nfn h() { label(get_db_ro()); util::x(); }\nfn j() { get_db(); }\n"),
        Err(EditError::NotExported { module, .. }) if module == "crate::prelude"
    ));
    // Through a glob of that module: no `use` to change, and the twin nowhere.
    assert!(matches!(
        fix("use crate::prelude::*;\nfn h() { get_db_ro(); }\n"),
        Err(EditError::NotExported { module, name }) if module == "crate::prelude" && name == "get_db_ro"
    ));
    // The twin imported from where it is defined; a glob of a module that has it; the old
    // name's import only removed.
    for (text, want) in [
        ("use crate::prelude::*;\nuse crate::db::get_db_ro;\nfn h() { get_db_ro(); }\n", None),
        ("use crate::db::*;\nfn h() { get_db_ro(); }\n", None),
        (
            "use crate::prelude::get_db;\nuse crate::db::get_db_ro;\nfn h() { get_db_ro(); }\n",
            Some("use crate::db::get_db_ro;\nfn h() { get_db_ro(); }\n"),
        ),
    ] {
        assert_eq!(fix(text).unwrap(), want.unwrap_or(text), "{text}");
    }
}

#[test]
fn a_twin_the_path_cannot_bring_is_imported_from_its_home_in_rustfmt_order() {
    let renames = [Rename { from: "PgPool".into(), to: "ReadOnlyPgPool".into(), bare: true }];
    // `sqlx` is another crate's path; the tree declares the twin in `crate::db`.
    let home = |prefix: &[String], name: &str| {
        (prefix.first().is_some_and(|p| p == "sqlx") && name == "ReadOnlyPgPool")
            .then(|| vec!["crate".to_string(), "db".to_string()])
    };
    let lookup = Lookup { reaches: &|_, _| true, home: &home, glob_names: &|_| None };
    let fix = |text: &str| super::fix(text, &renames, StyleEdition::Before2024, lookup).unwrap();
    for (text, want) in [
        // The old import unused: the new line takes its place, before `std` (`crate` first).
        (
            "use sqlx::PgPool;\nuse std::fmt;\n\nfn h(_: ReadOnlyPgPool) {}\n",
            "use crate::db::ReadOnlyPgPool;\nuse std::fmt;\n\nfn h(_: ReadOnlyPgPool) {}\n",
        ),
        // Still used: kept, and the new line goes where rustfmt puts it.
        (
            "use axum::Router;\nuse sqlx::PgPool;\n\nfn h(_: ReadOnlyPgPool) {}\nfn j(_: PgPool, _: Router) {}\n",
            "use crate::db::ReadOnlyPgPool;\nuse axum::Router;\nuse sqlx::PgPool;\n\nfn h(_: ReadOnlyPgPool) {}\nfn j(_: PgPool, _: Router) {}\n",
        ),
        // From a group: the group keeps the rest.
        (
            "use crate::a::B;\nuse sqlx::{PgPool, Row};\n\nfn h(_: ReadOnlyPgPool, _: Row, _: B) {}\n",
            "use crate::a::B;\nuse crate::db::ReadOnlyPgPool;\nuse sqlx::Row;\n\nfn h(_: ReadOnlyPgPool, _: Row, _: B) {}\n",
        ),
        // A path element of a group: only that element goes.
        (
            "use sqlx::{pool::PgPool, Row};\n\nfn h(_: ReadOnlyPgPool, _: Row) {}\n",
            "use crate::db::ReadOnlyPgPool;\nuse sqlx::Row;\n\nfn h(_: ReadOnlyPgPool, _: Row) {}\n",
        ),
        // In a body, indented like the `use` it sits by.
        (
            "fn h() {\n    use sqlx::PgPool;\n    let _p: Option<ReadOnlyPgPool> = None;\n}\n",
            "fn h() {\n    use crate::db::ReadOnlyPgPool;\n    let _p: Option<ReadOnlyPgPool> = None;\n}\n",
        ),
        // A path that can bring it (no home asked for): renamed in place, as before.
        (
            "use crate::pool::PgPool;\n\nfn h(_: ReadOnlyPgPool) {}\n",
            "use crate::pool::ReadOnlyPgPool;\n\nfn h(_: ReadOnlyPgPool) {}\n",
        ),
    ] {
        assert_eq!(fix(text), want, "{text}");
    }
}

#[test]
fn a_path_element_of_a_group_is_removed_alone() {
    let text = "use crate::db::get_db_ro;\nuse crate::{db::get_db, util::label};\n\nfn h() { label(get_db_ro()); }\n";
    let want = "use crate::db::get_db_ro;\nuse crate::util::label;\n\nfn h() { label(get_db_ro()); }\n";
    assert_eq!(fix(text, &[("get_db", "get_db_ro", true)]), want);
    let text = "use crate::db::get_db_ro;\nuse crate::{db::get_db, util::label, x};\n\nfn h() { label(get_db_ro()); x(); }\n";
    let want =
        "use crate::db::get_db_ro;\nuse crate::{util::label, x};\n\nfn h() { label(get_db_ro()); x(); }\n";
    assert_eq!(fix(text, &[("get_db", "get_db_ro", true)]), want);
}

#[test]
fn a_renamed_single_import_moves_to_rustfmt_order() {
    let renames = &[("get_db", "get_db_ro", true)];
    for (text, want) in [
        (
            "use crate::db::get_db;\nuse crate::db::get_db_helper;\n\nfn h() { get_db_ro(); get_db_helper(); }\n",
            "use crate::db::get_db_helper;\nuse crate::db::get_db_ro;\n\nfn h() { get_db_ro(); get_db_helper(); }\n",
        ),
        // Already in order: renamed in place.
        (
            "use crate::a::B;\nuse crate::db::get_db;\nuse std::fmt;\n\nfn h(_: B) { get_db_ro(); }\n",
            "use crate::a::B;\nuse crate::db::get_db_ro;\nuse std::fmt;\n\nfn h(_: B) { get_db_ro(); }\n",
        ),
        // Alone between blank lines: stays there.
        (
            "//! Doc.\n\nuse crate::db::get_db;\n\nfn h() { get_db_ro(); }\n",
            "//! Doc.\n\nuse crate::db::get_db_ro;\n\nfn h() { get_db_ro(); }\n",
        ),
        // Not alone on its line, or re-exported: renamed where it stands.
        (
            "pub use crate::db::get_db;\nuse crate::db::get_db_helper;\n\nfn h() { get_db_ro(); get_db_helper(); }\n",
            "pub use crate::db::get_db_ro;\nuse crate::db::get_db_helper;\n\nfn h() { get_db_ro(); get_db_helper(); }\n",
        ),
    ] {
        assert_eq!(fix(text, renames), want, "{text}");
    }
}

#[test]
fn a_glob_left_bringing_nothing_the_file_names_is_removed_and_any_other_kept() {
    let renames = [Rename { from: "get_db".into(), to: "get_db_ro".into(), bare: true }];
    // `crate::prelude` brings `get_db`, `Conn` and `label` (none a trait); `crate::db` is not known.
    let brought = |prefix: &[String]| {
        (prefix.join("::") == "crate::prelude").then(|| vec!["get_db".into(), "Conn".into(), "label".into()])
    };
    let lookup = Lookup { reaches: &|_, _| true, home: &|_, _| None, glob_names: &brought };
    let fix = |text: &str| super::fix(text, &renames, StyleEdition::Before2024, lookup).unwrap();
    let tail = "use crate::db::get_db_ro;\n\nfn h() {\n    get_db_ro();\n    crate::util::label(1);\n}\n";
    // `label` named only by its full path, `Conn` a method's name: nothing needs the glob now.
    let text = format!("use crate::prelude::*;\n{tail}");
    assert_eq!(fix(&text), tail);
    let text = format!("use crate::prelude::*;\n{}", tail.replace("h() {", "h(c: Other) {\n    c.Conn();"));
    assert_eq!(fix(&text), text.replacen("use crate::prelude::*;\n", "", 1));
    // Kept: another name it brings is named bare (in a macro too), the old name still is, the
    // glob is a re-export or has attributes, a module of the file has a file of its own (it may
    // `use super::*;`), what a glob brings is not known, or two globs may have brought it.
    for text in [
        format!("use crate::prelude::*;\n{}", tail.replace("crate::util::label(1)", "label(1)")),
        format!("use crate::prelude::*;\n{}", tail.replace("crate::util::label(1)", "vec![Conn]")),
        format!("use crate::prelude::*;\n{tail}fn p() {{\n    get_db();\n}}\n"),
        format!("pub use crate::prelude::*;\n{tail}"),
        format!("#[allow(unused_imports)]\nuse crate::prelude::*;\n{tail}"),
        format!("use crate::prelude::*;\n{tail}mod child;\n"),
        format!("use crate::db::*;\n{tail}"),
        format!("use crate::prelude::*;\nuse crate::other::*;\n{tail}"),
    ] {
        assert_eq!(fix(&text), text, "{text}");
    }
}
