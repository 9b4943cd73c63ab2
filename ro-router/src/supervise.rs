//! Background tasks that never die: each runs inside a supervisor that catches a panic (from
//! the router's own code, or from the application's code that runs inside it — a `tracing`
//! subscriber's layer or writer, a Prometheus collector), logs it, counts it in
//! `ro_router_background_task_panics_total{task}` and starts the task again after a pause.
//!
//! A task that returns (its router is gone) is not restarted; aborting the supervisor aborts
//! the task. Nothing here decides what a task does.

use std::{future::Future, time::Duration};

use prometheus::IntCounterVec;
use tokio::task::JoinHandle;

/// The pause before a task that panicked starts again.
const RESTART_AFTER: Duration = Duration::from_secs(1);

/// Aborts the task it holds when dropped (the supervisor was aborted).
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Spawns `run()` under a supervisor. `run` makes the task's future afresh at each (re)start.
pub(crate) fn spawn<F, Fut>(task: &'static str, panics: IntCounterVec, run: F) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let counter = panics.with_label_values(&[task]);
    tokio::spawn(async move {
        loop {
            let mut running = AbortOnDrop(tokio::spawn(run()));
            match (&mut running.0).await {
                Ok(()) => break,
                Err(e) if e.is_panic() => {
                    counter.inc();
                    let payload = e.into_panic();
                    let message = payload
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "a panic without a message".to_string());
                    tracing::error!(
                        target: "ro_router",
                        task,
                        "background task {task} panicked ({message}); restarting it in {} s",
                        RESTART_AFTER.as_secs()
                    );
                    tokio::time::sleep(RESTART_AFTER).await;
                }
                Err(_) => break, // cancelled
            }
        }
    })
}
