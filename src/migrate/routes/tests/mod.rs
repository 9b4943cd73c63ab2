//! Route discovery on small, realistic source trees.
//!
//! One helper, many small trees: [`check`] runs extraction on each file (as the pipeline does:
//! parse, extract, release spans) and discovery on the tree, and compares a one-line summary
//! per handler with the expected lines, written by hand:
//!
//! `<target> <class> <routes>` where the target is `module::Owner::name` (`crate` for the
//! root module), `closure@<file>:<line>` or `?<reference as written>`, the class is
//! `get-only`, `not-get-only` or `unresolved`, and each route is `METHODS path@file:line`
//! (`-` when the path is not a literal), in order.

mod actix;
mod axum;
mod mistakes;
mod poem;
mod positions;
mod resolve;
mod rocket;

use std::path::Path;

use super::*;
use crate::parse;
use crate::prefilter::Prefilter;
use crate::source::SourceText;

/// The built-in rule set's `[routes]` table.
pub(super) fn builtin_names() -> RouteNames {
    RouteNames::new(&crate::config::RuleSet::builtin(Path::new(".")).routes)
}

/// Extracts every file of `tree` (path, text), releasing spans after each, and checks on the
/// way that the route-marker screen lets through every file that has routes.
pub(super) fn extract_tree(tree: &[(&str, &str)]) -> Vec<FileRoutes> {
    let names = builtin_names();
    let screen = Prefilter::new(names.markers());
    tree.iter()
        .map(|(path, text)| {
            let src = SourceText::new(text.to_string());
            let syntax = match parse::parse(Path::new(path), &src) {
                Ok(syntax) => syntax,
                Err(err) => panic!("{path} does not parse: {err:?}"),
            };
            let facts = extract(Path::new(path), &src, &syntax, &names);
            drop(syntax);
            parse::release_spans();
            let declares = facts.functions.iter().any(|f| !f.attr_routes.is_empty());
            if !facts.registrations.is_empty() || declares {
                assert!(screen.matches(text), "{path} has routes but the route markers screen it out");
            }
            facts
        })
        .collect()
}

/// One line per handler, as the module docs say.
pub(super) fn summary(handlers: &[Handler]) -> Vec<String> {
    handlers
        .iter()
        .map(|h| {
            let target = match &h.target {
                HandlerTarget::Fn(f) => {
                    let mut parts: Vec<&str> = if f.module.is_empty() {
                        vec!["crate"]
                    } else {
                        f.module.iter().map(String::as_str).collect()
                    };
                    parts.extend(f.owner.as_deref());
                    parts.push(&f.name);
                    parts.join("::")
                }
                HandlerTarget::Closure(c) => format!("closure@{}:{}", c.file.display(), c.range.start.line),
                HandlerTarget::Unresolved { reference, .. } => format!("?{reference}"),
            };
            let class = match &h.class {
                RouteClass::GetOnly => "get-only",
                RouteClass::NotGetOnly => "not-get-only",
                RouteClass::Unresolved(_) => "unresolved",
            };
            let routes: Vec<String> = h
                .routes
                .iter()
                .map(|r| {
                    format!(
                        "{} {}@{}:{}",
                        r.methods,
                        r.path.as_deref().unwrap_or("-"),
                        r.file.display(),
                        r.line
                    )
                })
                .collect();
            format!("{target} {class} {}", routes.join(", "))
        })
        .collect()
}

/// Discovers the handlers of `tree` and compares their summaries with `expected`.
#[track_caller]
pub(super) fn check(tree: &[(&str, &str)], expected: &[&str]) {
    let handlers = discover(&extract_tree(tree));
    let got = summary(&handlers);
    assert_eq!(got, expected, "\ngot:\n{}\n", got.join("\n"));
}

#[test]
fn markers_name_every_form() {
    let names = builtin_names();
    let markers = names.markers();
    for word in [
        "get",
        "head",
        "route",
        "to",
        "at",
        "on",
        "any",
        "handler",
        "oai",
        "utoipa",
        "RouteMethod",
        "fallback",
    ] {
        assert!(markers.contains(&word), "{word} is not a route marker");
    }
    let screen = Prefilter::new(markers);
    assert!(
        !screen.matches("pub async fn list(db: Db) -> Json<Vec<Post>> { let c = state.get_db().await?; }")
    );
}

#[test]
fn method_sets_print_and_judge() {
    let get_head = MethodSet::GET.union(MethodSet::HEAD);
    assert_eq!(get_head.to_string(), "GET|HEAD");
    assert!(get_head.is_get_only() && get_head.serves_get());
    assert!(!MethodSet::ANY.is_get_only() && MethodSet::ANY.serves_get());
    assert_eq!(MethodSet::ANY.to_string(), "ANY");
    assert!(!MethodSet::POST.serves_get());
    assert!(!MethodSet::NONE.is_get_only());
    assert_eq!(MethodSet::named("Get"), Some(MethodSet::GET));
    assert_eq!(MethodSet::named("PURGE"), None);
    assert!(!MethodSet::GET.union(MethodSet::OTHER).is_get_only());
    assert_eq!(MethodSet::ANY.intersection(MethodSet::POST), MethodSet::POST);
}
