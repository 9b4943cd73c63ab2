use crate::support::harness::Ctx;
use std::sync::Arc;
pub async fn cluster_uses_scram_and_streams(_ctx: Arc<Ctx>) {}
pub async fn get_db_is_the_primary_and_writes(_ctx: Arc<Ctx>) {}
pub async fn round_robin_alternates_replicas(_ctx: Arc<Ctx>) {}
pub async fn least_connections_prefers_the_idle_replica(_ctx: Arc<Ctx>) {}
pub async fn random_reaches_every_replica(_ctx: Arc<Ctx>) {}
pub async fn no_replica_configured_reads_fall_through_read_only(_ctx: Arc<Ctx>) {}
pub async fn exhausted_replicas_fall_through_or_wait(_ctx: Arc<Ctx>) {}
pub async fn from_env_builds_a_working_router(_ctx: Arc<Ctx>) {}
pub async fn close_shuts_everything_down(_ctx: Arc<Ctx>) {}
