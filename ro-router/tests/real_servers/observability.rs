use crate::support::harness::Ctx;
use std::sync::Arc;
pub async fn stats_health_metrics_name_targets_without_password(_ctx: Arc<Ctx>) {}
pub async fn errors_and_config_never_show_the_password(_ctx: Arc<Ctx>) {}
pub async fn injected_registry_receives_the_metrics(_ctx: Arc<Ctx>) {}
pub async fn periodic_stats_log_line(_ctx: Arc<Ctx>) {}
pub async fn logs_of_the_whole_run_hold_no_password(_ctx: Arc<Ctx>) {}
