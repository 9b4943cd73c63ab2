//! `ro-audit migrate`: moving pure-read GET handlers to the read-only accessor.
//!
//! So far this holds only [`routes`], the discovery of GET handlers (which functions every
//! route reaching them serves with GET or HEAD only). Classifying their bodies (pure-read,
//! mixed, no-db, …), the report and the rewrite come later, in their own modules; they read
//! what [`routes`] found and never re-parse for it.

pub mod routes;
