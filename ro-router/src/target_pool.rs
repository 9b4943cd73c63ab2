//! One target's deadpool pool ([`Target`]) and its manager: how a checkout takes a connection
//! (a free one without starting a timer) and hands creating and recycling one to the target's
//! [`TargetLink`].
//!
//! Nothing here opens, proves or routes a connection.

use std::{sync::Arc, time::Duration};

use deadpool::managed::{self, Metrics, Pool, RecycleResult, Timeouts};

use crate::{
    config::RouterConfig,
    pools::{ConnectError, PooledClient, TargetLink},
    stats::PoolRole,
};

/// deadpool manager for one target.
#[derive(Debug)]
pub(crate) struct TargetManager {
    link: Arc<TargetLink>,
}

/// Boxed: a checkout moves its pooled object a dozen times; a pointer is cheaper to move.
impl managed::Manager for TargetManager {
    type Type = Box<PooledClient>;
    type Error = ConnectError;

    async fn create(&self) -> Result<Box<PooledClient>, ConnectError> {
        self.link.create().await.map(Box::new)
    }

    async fn recycle(&self, client: &mut Box<PooledClient>, _: &Metrics) -> RecycleResult<ConnectError> {
        self.link.recycle(client).await
    }
}

/// The pool type of every target.
pub(crate) type TargetPool = Pool<TargetManager>;

/// A target's pool and its link.
#[derive(Debug)]
pub(crate) struct Target {
    pub(crate) link: Arc<TargetLink>,
    pub(crate) pool: TargetPool,
    pub(crate) max_size: usize,
    /// The pool's timeouts without the wait: a checkout that takes a free connection or
    /// fails at once (deadpool's non-blocking path, which starts no timer).
    pub(crate) no_wait: Timeouts,
}

impl Target {
    /// The pool of `link`'s target, sized and timed by `config`.
    pub(crate) fn build(link: TargetLink, config: &RouterConfig) -> Self {
        let link = Arc::new(link);
        let max_size =
            if link.role == PoolRole::Primary { config.primary_pool_max } else { config.ro_pool_max };
        let no_wait = Timeouts {
            wait: Some(Duration::ZERO),
            create: Some(config.connect_timeout),
            // The proof in `recycle` times itself (TargetLink::verify_timeout).
            recycle: None,
        };
        let pool = Pool::builder(TargetManager { link: link.clone() })
            .max_size(max_size)
            .timeouts(Timeouts { wait: Some(config.pool_timeout), ..no_wait })
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .expect("a pool with a runtime and a size always builds");
        Self { link, pool, max_size, no_wait }
    }

    /// A checkout that waits up to the pool's wait timeout (`DB_POOL_TIMEOUT_MS`) for a
    /// connection. The timer starts only when none is free: a checkout that finds one takes
    /// the non-blocking path first (same connections, same recycling; no clock read, no timer
    /// entry, no semaphore waiter).
    pub(crate) async fn get(
        &self,
    ) -> Result<managed::Object<TargetManager>, managed::PoolError<ConnectError>> {
        match self.pool.timeout_get(&self.no_wait).await {
            Err(managed::PoolError::Timeout(managed::TimeoutType::Wait)) => self.pool.get().await,
            other => other,
        }
    }

    /// Drops the idle connections (a replica that left rotation for good reasons, a closed
    /// router).
    pub(crate) fn drain_idle(&self) -> usize {
        self.pool.retain(|_, _| false).removed.len()
    }
}
