#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]

mod bans;
mod cancel;
mod config;
mod connection;
mod conninfo;
mod dial;
mod driver;
mod enforcement;
mod error;
mod health;
mod inner;
mod inspect;
mod lag;
mod metrics;
mod pools;
mod proof;
mod read_your_writes;
mod router;
mod sampler;
mod spill;
mod stats;
mod strategy;
mod supervise;
mod target;
mod target_pool;
mod tls;
mod token;
mod url;
mod wire;

#[cfg(feature = "axum")]
pub mod axum;

pub use crate::bans::{BanReason, BanReport};
pub use crate::cancel::{CancelError, CancelToken};
pub use crate::config::{env, RouterConfig};
pub use crate::connection::{PrimaryConnection, ReadOnlyConnection};
pub use crate::error::{
    Cause, CheckoutFailure, CheckoutFailureKind, ConfigError, FailureCause, RouterError, Unusable,
};
pub use crate::health::{
    HealthReport, OverallStatus, PrimaryHealth, PrimaryStatus, ReplicaHealth, ReplicaStatus,
};
pub use crate::inspect::RoleReport;
pub use crate::read_your_writes::{ReadYourWritesCounts, ReadYourWritesOutcome, ReadYourWritesReport};
pub use crate::router::DbRouter;
pub use crate::spill::{SpillCounts, SpillPolicy, SpillReason, SpillReport};
pub use crate::stats::{FallbackCounts, FallbackReason, PoolRole, PoolStats, RouterStats, RoutesTo};
pub use crate::strategy::ReplicaStrategy;
pub use crate::target::{split_url_list, DbUrl};
pub use crate::token::{TokenError, WriteToken};

/// The `deadpool-postgres` client wrapper that every checkout derefs to (it derefs in turn to
/// [`tokio_postgres::Client`]).
pub use deadpool_postgres::ClientWrapper;
pub use prometheus;
pub use tokio_postgres;
