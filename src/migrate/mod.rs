//! `ro-audit migrate`: moving pure-read GET handlers to the read-only accessor.
//!
//! [`routes`] discovers the GET handlers; [`scan`] collects, per parsed file, the uses of
//! handle names and the opt-out comments; [`classify`] judges each handler on owned facts
//! ([`escapes`]: the accessor's owner handed to outside code);
//! [`pipeline`] drives a run into an [`outcome`], [`plan`] plans one file's new text (screening for routes only when [`frameworks`] finds a web
//! framework in the crate graph, or cannot tell); [`imports`] fixes `use` items after a rewrite (in the order of the file's
//! [`style`] edition); [`derefs`] keeps the
//! types of explicit derefs on a swapped parameter; [`edit`] splices,
//! checks and writes; [`apply`] writes a plan; [`verify`] runs `--verify CMD` and reverts the
//! handlers whose rewrite breaks it; [`diff`] and [`report`] print the dry run.

pub mod apply;
pub mod classify;
pub mod derefs;
pub mod diff;
pub mod edit;
pub mod escapes;
pub mod frameworks;
pub mod imports;
pub mod kept;
pub mod outcome;
pub mod pipeline;
pub mod plan;
pub mod reexports;
pub mod report;
pub mod routes;
pub mod scan;
pub mod style;
pub mod verify;
