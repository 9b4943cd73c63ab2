//! ro-audit: keeps Rust services honest about read replicas.
//!
//! `check` finds writes on read-only PostgreSQL handles. The pipeline runs one way:
//! [`walk`] → [`prefilter`] → [`parse`] → [`analysis`] (per file, owned facts) → [`index`] →
//! [`rules`] → [`report`]; [`pipeline`] drives it. See `ARCHITECTURE.md`.

pub mod analysis;
pub mod baseline;
pub mod cli;
pub mod config;
pub mod diagnostics;
pub mod fingerprint;
pub mod heap;
pub mod index;
pub mod judge;
pub mod migrate;
pub mod nesting;
pub mod parse;
pub mod pipeline;
pub mod prefilter;
pub mod report;
pub mod rules;
pub mod source;
pub mod sql;
pub mod suppress;
pub mod timings;
pub mod walk;
pub mod workspace;
pub mod writers;
