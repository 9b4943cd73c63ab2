use crate::support::harness::Ctx;
use std::sync::Arc;
pub async fn example_app_over_http(_ctx: Arc<Ctx>) {}
