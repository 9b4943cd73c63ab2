//! The policy tables that both judges share: the statement keywords PostgreSQL knows, the
//! built-in functions that write, the read-only guard settings and PostgreSQL's boolean
//! spelling, and the lock modes a hot standby allows.
//!
//! Only facts of PostgreSQL 15 belong here, each matching `pg15-readonly.tsv` or the server's
//! own source. Nothing here may turn a write into a read: a value it cannot read (a
//! placeholder, an expression) counts as the writing one.

use super::{Verdict, Write, WriteReason};

/// Every keyword a PostgreSQL statement can start with (lower case).
#[rustfmt::skip]
pub(super) const STATEMENT_KEYWORDS: &[&str] = &[
    "abort", "alter", "analyse", "analyze", "begin", "call", "checkpoint", "close",
    "cluster", "comment", "commit", "copy", "create", "deallocate", "declare", "delete",
    "discard", "do", "drop", "end", "execute", "explain", "fetch", "grant", "import",
    "insert", "listen", "load", "lock", "merge", "move", "notify", "prepare", "reassign",
    "refresh", "reindex", "release", "reset", "revoke", "rollback", "savepoint", "security",
    "select", "set", "show", "start", "table", "truncate", "unlisten", "update", "vacuum",
    "values", "with",
];

/// The keywords a query can start with, also inside parentheses (lower case).
pub(super) const QUERY_KEYWORDS: &[&str] = &["select", "with", "values", "table"];

/// Built-in functions that PostgreSQL refuses in a read-only transaction or on a standby.
/// `lo_open` is judged by its mode (see [`function_call`]).
const WRITE_FUNCTIONS: &[(&str, WriteReason)] = &[
    ("nextval", WriteReason::ReadOnlyTransaction),
    ("setval", WriteReason::ReadOnlyTransaction),
    ("pg_notify", WriteReason::HotStandby),
    ("txid_current", WriteReason::HotStandby),
    ("pg_current_xact_id", WriteReason::HotStandby),
    // Large objects: PostgreSQL 15 lets them through a read-only transaction and refuses them
    // on a standby (pg15-readonly-extra.tsv).
    ("lo_creat", WriteReason::HotStandby),
    ("lo_create", WriteReason::HotStandby),
    ("lo_import", WriteReason::HotStandby),
    ("lo_unlink", WriteReason::HotStandby),
    ("lo_truncate", WriteReason::HotStandby),
    ("lo_truncate64", WriteReason::HotStandby),
    ("lo_put", WriteReason::HotStandby),
    ("lo_from_bytea", WriteReason::HotStandby),
    ("lowrite", WriteReason::HotStandby),
    // WAL, catalogs and replication origins (pg15-readonly-extra.tsv).
    ("pg_logical_emit_message", WriteReason::HotStandby),
    ("pg_create_restore_point", WriteReason::HotStandby),
    ("pg_switch_wal", WriteReason::HotStandby),
    ("pg_import_system_collations", WriteReason::HotStandby),
    ("pg_replication_origin_create", WriteReason::HotStandby),
    ("pg_replication_origin_drop", WriteReason::HotStandby),
    ("pg_replication_origin_advance", WriteReason::HotStandby),
    // Let through on a primary and a standby alike (pg15-readonly-extra.tsv).
    ("pg_create_physical_replication_slot", WriteReason::BypassesGuard),
    ("pg_create_logical_replication_slot", WriteReason::BypassesGuard),
    ("pg_drop_replication_slot", WriteReason::BypassesGuard),
    ("pg_copy_physical_replication_slot", WriteReason::BypassesGuard),
    ("pg_copy_logical_replication_slot", WriteReason::BypassesGuard),
    ("pg_replication_slot_advance", WriteReason::BypassesGuard),
    ("pg_stat_reset", WriteReason::BypassesGuard),
    ("pg_stat_reset_shared", WriteReason::BypassesGuard),
    ("pg_stat_reset_slru", WriteReason::BypassesGuard),
    ("pg_stat_reset_single_table_counters", WriteReason::BypassesGuard),
    ("pg_stat_reset_single_function_counters", WriteReason::BypassesGuard),
    ("pg_stat_reset_replication_slot", WriteReason::BypassesGuard),
    ("pg_terminate_backend", WriteReason::BypassesGuard),
    ("pg_cancel_backend", WriteReason::BypassesGuard),
    ("pg_reload_conf", WriteReason::BypassesGuard),
    ("pg_rotate_logfile", WriteReason::BypassesGuard),
];

/// `lo_open` mode `INV_READ` (0x40000): the only mode that does not write.
const LO_INV_READ: &str = "262144";

/// The settings that hold the read-only guard.
const GUARD_SETTINGS: &[&str] = &["default_transaction_read_only", "transaction_read_only"];

/// Lock modes a hot standby grants (`LOCK TABLE` up to ROW EXCLUSIVE).
const STANDBY_LOCK_MODES: &[&str] = &["access share", "row share", "row exclusive"];

/// Lock modes only a primary grants.
const PRIMARY_LOCK_MODES: &[&str] =
    &["share update exclusive", "share", "share row exclusive", "exclusive", "access exclusive"];

/// One argument of a function call, as far as the policy needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Arg {
    /// The name of a named argument (`setting_name => …`), lower case.
    pub name: Option<String>,
    /// The value when it is a literal (string, number or boolean), else `None`.
    pub literal: Option<String>,
}

/// A write verdict.
pub(super) fn write(what: impl Into<String>, why: WriteReason) -> Verdict {
    Verdict::Write(Write { what: what.into(), why })
}

/// True for the names of the read-only guard settings (in any letter case, as PostgreSQL
/// compares setting names).
pub(super) fn is_guard_setting(name: &str) -> bool {
    GUARD_SETTINGS.iter().any(|g| g.eq_ignore_ascii_case(name))
}

/// PostgreSQL's `parse_bool` for "true": `on`, `1`, and any prefix of `true` or `yes`.
pub(super) fn means_on(value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    !v.is_empty() && (v == "on" || v == "1" || "true".starts_with(&v) || "yes".starts_with(&v))
}

/// PostgreSQL's `defGetBoolean` for "false" (an EXPLAIN option value).
pub(super) fn means_off(value: &str) -> bool {
    ["false", "off", "0"].iter().any(|f| f.eq_ignore_ascii_case(value))
}

/// `SET <guard setting> = value` (value `None` when it is not a literal): a read only when
/// it switches the guard on.
pub(super) fn guard_set(name: &str, value: Option<&str>) -> Verdict {
    match value {
        Some(v) if means_on(v) => Verdict::Read,
        _ => write(
            format!("SET {} = {}", name.to_ascii_lowercase(), value.unwrap_or("…")),
            WriteReason::GuardOff,
        ),
    }
}

/// True for the names [`function_call`] can find a write in (any letter case).
pub(super) fn is_checked_function(name: &str) -> bool {
    ["set_config", "lo_open"].iter().any(|f| f.eq_ignore_ascii_case(name))
        || WRITE_FUNCTIONS.iter().any(|(f, _)| f.eq_ignore_ascii_case(name))
}

/// The write a call of the function `name` makes, if it is one of the writing built-ins.
pub(super) fn function_call(name: &str, args: &[Arg]) -> Option<Write> {
    let name = name.to_ascii_lowercase();
    match name.as_str() {
        "set_config" => set_config(args),
        "lo_open" => match argument(args, 1, "mode") {
            Some(Some(mode)) if mode == LO_INV_READ => None,
            _ => Some(Write { what: "lo_open() for writing".to_string(), why: WriteReason::HotStandby }),
        },
        _ => WRITE_FUNCTIONS
            .iter()
            .find(|(f, _)| *f == name)
            .map(|&(f, why)| Write { what: format!("{f}()"), why }),
    }
}

/// The lock a `LOCK TABLE … IN <mode> MODE` takes (`mode` lower case, single spaces):
/// `None` when the mode is not one PostgreSQL knows.
pub(super) fn lock_table(mode: &str) -> Option<Verdict> {
    if STANDBY_LOCK_MODES.contains(&mode) {
        Some(Verdict::Read)
    } else if PRIMARY_LOCK_MODES.contains(&mode) {
        Some(write(format!("LOCK TABLE … {} MODE", mode.to_ascii_uppercase()), WriteReason::HotStandby))
    } else {
        None
    }
}

/// `set_config(setting_name, new_value, is_local)`: a write when it may switch the guard off
/// (a guard setting set to anything but "on", or a setting named at run time).
fn set_config(args: &[Arg]) -> Option<Write> {
    let what = match argument(args, 0, "setting_name") {
        Some(Some(setting)) if !is_guard_setting(setting.trim()) => return None,
        Some(Some(setting)) => {
            let value = match argument(args, 1, "new_value") {
                Some(Some(v)) if means_on(v) => return None,
                Some(Some(v)) => format!("'{v}'"),
                _ => "…".to_string(),
            };
            let setting = setting.trim().to_ascii_lowercase();
            format!("set_config('{setting}', {value})")
        }
        _ => "set_config() of a setting named at run time".to_string(),
    };
    Some(Write { what, why: WriteReason::GuardOff })
}

/// The argument at `position` or named `name`: `None` when absent, `Some(None)` when present
/// but not a literal.
fn argument<'a>(args: &'a [Arg], position: usize, name: &str) -> Option<Option<&'a str>> {
    let named = args.iter().find(|a| a.name.as_deref() == Some(name));
    let positional = args.get(position).filter(|a| a.name.is_none());
    named.or(positional).map(|a| a.literal.as_deref())
}
