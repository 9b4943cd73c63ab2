use super::*;

/// The names of a project config (`None`: the built-in rules).
fn names_of(config: Option<&str>) -> MigrateNames {
    let dir = std::path::Path::new(".");
    let rules = match config {
        Some(text) => RuleSet::from_project_text(std::path::Path::new("ro-audit.toml"), text, dir).unwrap(),
        None => RuleSet::builtin(dir),
    };
    MigrateNames::new(&rules)
}

/// [`scan`] of `text` as `src/lib.rs`.
fn scan_text(names: &MigrateNames, text: &str) -> FileScan {
    scan_at(names, "src/lib.rs", text)
}

/// [`scan`] of `text` as the file at `path`.
fn scan_at(names: &MigrateNames, path: &str, text: &str) -> FileScan {
    let src = SourceText::new(text.to_string());
    let file = syn::parse_file(src.parser_text()).unwrap();
    let found = scan(names, std::path::Path::new(path), &src, &file);
    crate::parse::release_spans();
    found
}

#[test]
fn opt_out_comments_name_migrate() {
    let text = "// ro-audit: allow(migrate) replica lag\nfn a() {}\n/* ro-audit: allow(ro-write-sql, migrate) x */\n// ro-audit: allow(ro-write-sql) y\n";
    assert_eq!(opt_out_lines(text), [1, 3]);
}

#[test]
fn uses_are_found_with_file_offsets_after_a_bom() {
    let text =
        "\u{feff}fn h(DbRw(c): DbRw) { let a = get_db(); let b = s.get_db(); let r = x::get_db_ro(); }";
    let found = scan_text(&names_of(None), text);
    let got: Vec<(&str, &str, bool)> =
        found.uses.iter().map(|u| (&text[u.range.bytes()], u.name.as_str(), u.rw)).collect();
    assert_eq!(
        got,
        [
            ("DbRw", "DbRw", true),
            ("DbRw", "DbRw", true),
            ("get_db", "get_db", true),
            ("get_db", "get_db", true),
            ("get_db_ro", "get_db_ro", false)
        ]
    );
    assert_eq!(found.uses[2].kind, UseKind::Call { bare: true });
    assert_eq!(found.uses[3].kind, UseKind::Method);
    assert_eq!(found.fns.len(), 1);
    assert_eq!(found.fns[0].rw_typed, 1);
}

#[test]
fn uses_inside_macro_arguments_are_found_where_they_are_written() {
    let text = "fn h(s: S) {
    tokio::try_join!(s.get_db().ping(), async { get_db_ro().ping().await });
    let v = json!({ \"n\": x::get_db().count(), \"all\": vec![s.get_db.len()] });
    tokio::select! { r = get_db().query(q) => r, _ = sleep() => None };
    assert!(format!(\"{}\", get_db().ping()).is_empty(), \"{}\", 1);
    println!(\"get_db() in a literal is no use\");
}";
    let found = scan_text(&names_of(None), text);
    let got: Vec<(usize, &str, UseKind)> =
        found.uses.iter().map(|u| (u.range.start.offset as usize, u.name.as_str(), u.kind)).collect();
    let at = |needle: &str| text.find(needle).unwrap() + needle.find("get_db").unwrap();
    assert_eq!(
        got,
        [
            (at("s.get_db().ping()"), "get_db", UseKind::Method),
            (at("get_db_ro().ping().await"), "get_db_ro", UseKind::Call { bare: true }),
            (at("x::get_db()"), "get_db", UseKind::Call { bare: false }),
            (at("get_db.len()"), "get_db", UseKind::Field),
            (at("get_db().query(q)"), "get_db", UseKind::Call { bare: true }),
            (at("get_db().ping()).is_empty"), "get_db", UseKind::Call { bare: true }),
        ]
    );
}

#[test]
fn a_ref_parameter_takes_a_twin_that_derefs_to_its_type() {
    let names =
        names_of(Some("[types]\nread_write = [\"PgPool\"]\n[types.migrate]\nPgPool = \"ReadOnlyPgPool\"\n"));
    let text = "impl std::ops::Deref for ReadOnlyPgPool { type Target = PgPool; fn deref(&self) -> &PgPool { &self.0 } }
fn by_ref(a: i32, pool: &PgPool) {}
fn owned(pool: web::Data<PgPool>, other: &PgPool) {}";
    let found = scan_text(&names, text);
    assert_eq!(found.derefs, [("ReadOnlyPgPool".to_string(), "PgPool".to_string())]);
    let by_ref = found.fns.iter().find(|f| text[f.name_range.bytes()] == *"by_ref").unwrap();
    let owned = found.fns.iter().find(|f| text[f.name_range.bytes()] == *"owned").unwrap();
    assert_eq!((by_ref.rw_typed, owned.rw_typed), (0b10, 0b11));
    assert_eq!(blocking_params(by_ref, &names, &found.derefs), 0, "deref coercion");
    assert_eq!(blocking_params(owned, &names, &found.derefs), 0b01, "`web::Data<PgPool>` is not coerced");
    assert_eq!(blocking_params(by_ref, &names, &[]), 0b10, "no `impl Deref` in the tree");
}

#[test]
fn struct_pattern_fields_named_as_accessors_are_uses() {
    let names = names_of(Some("[accessors]\nread_write = [\"database\"]\nread_only = [\"database_ro\"]\n"));
    let text = "fn h(State(S { database: db, .. }): State<S>) { let S { database, .. } = s; let S { database_ro, .. } = s; let x = S { database }; }";
    let found = scan_text(&names, text);
    let got: Vec<(usize, UseKind, bool)> =
        found.uses.iter().map(|u| (u.range.start.offset as usize, u.kind, u.rw)).collect();
    let at = |needle: &str| text.find(needle).unwrap();
    assert_eq!(
        got,
        [
            (at("database: db"), UseKind::PatField { shorthand: false }, true),
            (at("database, .. } = s"), UseKind::PatField { shorthand: true }, true),
            (at("database_ro"), UseKind::PatField { shorthand: true }, false),
        ],
        "a struct expression builds, it does not bind: no use"
    );
}

#[test]
fn a_type_named_through_another_crate_keeps_its_path_for_the_rewrite() {
    let names = names_of(None);
    let text = "use crate::db::{self, get_db};\nmod local;\n\
fn h(a: store::db::DbRw, b: db::DbRw, c: local::DbRw, d: ::store::DbRw, e: DbRw, f: Vec<store::DbRw>) {}\n";
    let found = scan_text(&names, text);
    let qualifiers: Vec<Option<(String, String)>> = found
        .uses
        .iter()
        .filter(|u| u.name == "DbRw")
        .map(|u| {
            u.qualifier
                .as_ref()
                .map(|q| (q.segments.join("::"), text[q.start as usize..].chars().take(7).collect()))
        })
        .collect();
    let q = |path: &str, at: &str| Some((path.to_string(), at.to_string()));
    // `db` (bound by `self` in the group) and `local` (a `mod`) keep their prefix.
    assert_eq!(
        qualifiers,
        [q("store::db", "store::"), None, None, q("store", "::store"), None, q("store", "store::")]
    );
}

/// `pub type Replica = …;` in the `db` module of the crate at `crate_root`, with `roles`.
fn replica_of(crate_root: &str, roles: (bool, bool)) -> HandleAlias {
    HandleAlias {
        name: "Replica".into(),
        module: ModuleLocation { crate_root: crate_root.into(), module: vec!["db".into()] },
        reexported_by: Vec::new(),
        roles,
        renames: None,
    }
}

#[test]
fn a_type_alias_counts_where_the_path_leads_to_its_crate_and_module() {
    // `Replica` of the api crate's `db` module (`api/src/db.rs`), scanned from files of the
    // api crate and of a worker crate with a `db` module of its own.
    let mut names = names_of(None);
    names.type_aliases = vec![replica_of("api/src", (true, false))];
    let aliased = |path: &str, text: &str| {
        scan_at(&names, path, text).uses.iter().filter(|u| u.kind == UseKind::TypeAlias).count()
    };
    let handler = "fn h(db: Replica) {}\n";
    assert_eq!(aliased("api/src/handlers.rs", &format!("use crate::db::Replica;\n{handler}")), 1);
    assert_eq!(aliased("api/src/handlers/feed.rs", &format!("use super::super::db::Replica;\n{handler}")), 1);
    assert_eq!(aliased("worker/src/jobs.rs", &format!("use api::db::Replica;\n{handler}")), 1);
    assert_eq!(
        aliased("worker/src/jobs.rs", &format!("use api::db::Replica as Ro;\n{}", "fn h(db: Ro) {}\n")),
        1
    );
    // A `super::` path to an item of the file names what the file names; one that leaves the
    // file is resolved.
    let inline = "use crate::db::Replica;\nmod m {\n    use super::Replica;\n    fn h(db: Replica) {}\n}\n";
    assert_eq!(aliased("api/src/handlers.rs", inline), 1);
    assert_eq!(aliased("worker/src/jobs.rs", &format!("use super::db::Replica;\n{handler}")), 0);
    // The worker's own `db` module: another type of that name.
    assert_eq!(aliased("worker/src/jobs.rs", &format!("use crate::db::Replica;\n{handler}")), 0);
    assert_eq!(aliased("worker/src/lib.rs", &format!("mod jobs {{ use crate::db::Replica;\n{handler}}}")), 0);
    assert_eq!(
        aliased("worker/src/jobs.rs", &format!("use crate::db::Replica as Ro;\n{}", "fn h(db: Ro) {}\n")),
        0
    );
}

#[test]
fn of_two_crates_aliases_of_one_name_the_one_the_import_brings_counts() {
    // `api` names the replica `Replica`; `worker` names its primary `Replica` too.
    let mut names = names_of(None);
    names.type_aliases = vec![replica_of("api/src", (true, false)), replica_of("worker/src", (false, true))];
    let read_write = |path: &str, text: &str| {
        let found = scan_at(&names, path, text);
        found.uses.iter().filter(|u| u.kind == UseKind::TypeAlias).map(|u| u.rw).collect::<Vec<bool>>()
    };
    let text = "use crate::db::Replica;\nfn h(db: Replica) {}\n";
    assert_eq!(read_write("api/src/handlers.rs", text), [false]);
    assert_eq!(read_write("worker/src/jobs.rs", text), [true]);
    assert_eq!(read_write("worker/src/jobs.rs", "use api::db::Replica as R;\nfn h(db: R) {}\n"), [false]);
}
