//! A small test harness for a `harness = false` test binary that owns one cluster: it starts
//! the cluster, runs the selected tests one after another (each in its own task, so a panic
//! fails that test only), puts the cluster back after each test, stops the cluster at the end
//! (also on Ctrl-C), and exits non-zero if any test failed. `cargo test -- NAME` filters by
//! substring, `-- --list` lists; no test is ever skipped or ignored.

use std::{
    future::Future,
    io::Write,
    pin::Pin,
    process::ExitCode,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use super::cluster::Cluster;

pub type TestFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

pub struct Test {
    pub name: &'static str,
    pub run: fn(Arc<Ctx>) -> TestFuture,
}

/// What every test gets.
pub struct Ctx {
    pub cluster: Arc<Cluster>,
    pub logs: LogCapture,
}

/// Everything the `ro_router` crate logged during the run (tracing, all levels). Like an
/// application's own log writer, it can misbehave on demand: [`panic_once_on`] makes it
/// panic inside whatever task logs a matching line.
///
/// [`panic_once_on`]: LogCapture::panic_once_on
#[derive(Clone, Default)]
pub struct LogCapture {
    buf: Arc<Mutex<Vec<u8>>>,
    echo: bool,
    panic_on: Arc<Mutex<Option<String>>>,
}

impl LogCapture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().unwrap()).into_owned()
    }

    /// The next log line containing `pattern` makes the writer panic (once), in the task that
    /// logs it.
    pub fn panic_once_on(&self, pattern: &str) {
        *self.panic_on.lock().unwrap() = Some(pattern.to_string());
    }
}

impl Write for LogCapture {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.lock().unwrap().extend_from_slice(data);
        if self.echo {
            std::io::stderr().write_all(data)?;
        }
        let text = String::from_utf8_lossy(data);
        let hit = {
            let mut armed = self.panic_on.lock().unwrap();
            let hit = armed.as_deref().is_some_and(|p| text.contains(p));
            if hit {
                *armed = None;
            }
            hit
        };
        if hit {
            panic!("the application's log writer panicked (on purpose)");
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Registers test functions: `tests![module::test_fn, ...]`.
#[macro_export]
macro_rules! tests {
    ($($path:path),* $(,)?) => {
        vec![$($crate::support::harness::Test {
            name: stringify!($path),
            run: |ctx| Box::pin($path(ctx)),
        }),*]
    };
}

/// Per-test guard against a hang; generous, never asserted as a timing. Raised with
/// `RO_ROUTER_TEST_DEADLINE_SECS` for long runs (`RO_ROUTER_TRICK_TRIES=10000`).
fn test_deadline() -> Duration {
    let secs = std::env::var("RO_ROUTER_TEST_DEADLINE_SECS").ok().and_then(|v| v.parse().ok());
    Duration::from_secs(secs.unwrap_or(300))
}

pub struct Options {
    pub replicas: usize,
    pub pgbouncer: bool,
    /// Run on the primary once it is up (schema for the tests).
    pub setup: fn(Arc<Cluster>) -> TestFuture,
}

pub fn run(options: Options, tests: Vec<Test>) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let exact = args.iter().any(|a| a == "--exact");
    let selected: Vec<&Test> =
        tests
            .iter()
            .filter(|t| {
                filters.is_empty()
                    || filters.iter().any(|f| {
                        if exact {
                            t.name == f.as_str()
                        } else {
                            t.name.contains(f.as_str())
                        }
                    })
            })
            .collect();
    if args.iter().any(|a| a == "--list") {
        for t in &selected {
            println!("{}: test", t.name);
        }
        return ExitCode::SUCCESS;
    }

    let logs = LogCapture { echo: std::env::var_os("RO_ROUTER_TEST_LOG").is_some(), ..Default::default() };
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let started = Instant::now();
    let total = selected.len();
    let failed = runtime.block_on(async move {
        println!(
            "\nstarting PostgreSQL 15: primary + {} replicas{}",
            options.replicas,
            if options.pgbouncer { " + pgBouncer" } else { "" }
        );
        let cluster = Arc::new(Cluster::start(options.replicas, options.pgbouncer).await);
        let for_signal = cluster.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("interrupted: stopping the cluster");
                for_signal.shutdown();
                std::process::exit(130);
            }
        });
        (options.setup)(cluster.clone()).await;
        let ctx = Arc::new(Ctx { cluster: cluster.clone(), logs });
        println!("running {} tests", selected.len());
        let mut failed = Vec::new();
        for t in &selected {
            let t0 = Instant::now();
            let handle = tokio::spawn((t.run)(ctx.clone()));
            let abort = handle.abort_handle();
            let deadline = test_deadline();
            let outcome = match tokio::time::timeout(deadline, handle).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) if e.is_panic() => Err("panicked".to_string()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => {
                    abort.abort();
                    Err(format!("hung for {deadline:?}"))
                }
            };
            match &outcome {
                Ok(()) => println!("test {} ... ok ({:.1}s)", t.name, t0.elapsed().as_secs_f64()),
                Err(why) => {
                    println!("test {} ... FAILED ({why})", t.name);
                    failed.push(t.name);
                }
            }
            // Whatever the test did (or failed to undo), the next one starts from a whole cluster.
            cluster.heal().await;
        }
        drop(ctx);
        cluster.shutdown();
        failed
    });
    runtime.shutdown_timeout(Duration::from_secs(5));
    let passed = total - failed.len();
    if failed.is_empty() {
        println!(
            "\ntest result: ok. {passed} passed; 0 failed; finished in {:.1}s\n",
            started.elapsed().as_secs_f64()
        );
        ExitCode::SUCCESS
    } else {
        println!("\nfailures:");
        for f in &failed {
            println!("    {f}");
        }
        println!(
            "\ntest result: FAILED. {passed} passed; {} failed; finished in {:.1}s\n",
            failed.len(),
            started.elapsed().as_secs_f64()
        );
        ExitCode::FAILURE
    }
}
