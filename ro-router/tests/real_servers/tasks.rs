//! The background tasks never die: a panic inside one — here from the application's own log
//! writer, which runs inside the router's tasks whenever they log — is caught, logged,
//! counted (`ro_router_background_task_panics_total{task}`), and the task runs again.

use std::{sync::Arc, time::Duration};

use ro_router::DbRouter;

use crate::{
    common::{config, router},
    support::{harness::Ctx, name, wait_until},
};

fn panics(router: &DbRouter, task: &str) -> u64 {
    let needle = format!("ro_router_background_task_panics_total{{task=\"{task}\"}} ");
    router
        .render_metrics()
        .lines()
        .find_map(|l| l.strip_prefix(needle.as_str()).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0)
}

fn stats_lines(ctx: &Ctx) -> usize {
    ctx.logs.text().lines().filter(|l| l.contains("ro_router::stats:")).count()
}

pub async fn background_tasks_survive_panics(ctx: Arc<Ctx>) {
    let primary = ctx.cluster.primary();
    let replica = ctx.cluster.replica(0);
    let target = name(replica.port);
    let mut c = config(primary.port, &[replica.port]);
    c.health_check_interval = Duration::from_millis(200);
    c.stats_log_interval = Some(Duration::from_millis(100));
    let router = router(c).await;
    let (router, ctx) = (&router, &ctx);

    // The stats task panics on its next line, then logs again.
    ctx.logs.panic_once_on(&format!("replica {target} routes_to"));
    wait_until("the stats task's panic is counted", || async move { panics(router, "stats") == 1 }).await;
    let after_panic = stats_lines(ctx);
    wait_until("the restarted stats task logs", || async move { stats_lines(ctx) > after_panic + 2 }).await;

    // The health task panics when it logs that the replica left rotation; restarted, it
    // brings the replica back once it answers again.
    ctx.logs.panic_once_on(&format!("replica {target} left rotation"));
    ctx.cluster.stop_server(&replica).await;
    wait_until("the health task's panic is counted", || async move { panics(router, "health") == 1 }).await;
    assert!(!router.health().replica(&target).unwrap().in_rotation);
    ctx.cluster.start_server(&replica).await;
    let target = &target;
    wait_until("the restarted health task brings the replica back", || async move {
        router.health().replica(target).is_some_and(|r| r.in_rotation)
    })
    .await;
    let logs = ctx.logs.text();
    assert!(logs.contains("background task stats panicked"), "no log line for the stats panic");
    assert!(logs.contains("background task health panicked"), "no log line for the health panic");
    assert_eq!((panics(router, "stats"), panics(router, "health")), (1, 1));
}
