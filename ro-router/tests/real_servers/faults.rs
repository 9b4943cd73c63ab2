use crate::support::harness::Ctx;
use std::sync::Arc;
pub async fn replica_stopped_checkout_is_retried_then_recovers(_ctx: Arc<Ctx>) {}
pub async fn replica_network_cut_checkout_is_retried(_ctx: Arc<Ctx>) {}
pub async fn replica_silent_partition_errors_instead_of_hanging(_ctx: Arc<Ctx>) {}
pub async fn replica_silent_partition_new_connection_times_out_and_retries(_ctx: Arc<Ctx>) {}
pub async fn replay_paused_past_lag_limit_leaves_rotation(_ctx: Arc<Ctx>) {}
pub async fn promoted_replica_leaves_rotation(_ctx: Arc<Ctx>) {}
pub async fn all_replicas_down_with_fallback(_ctx: Arc<Ctx>) {}
pub async fn all_replicas_down_without_fallback(_ctx: Arc<Ctx>) {}
pub async fn primary_down_reads_continue_writes_fail_clearly(_ctx: Arc<Ctx>) {}
pub async fn standby_as_primary_is_refused(_ctx: Arc<Ctx>) {}
