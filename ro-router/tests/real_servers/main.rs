//! ro-router against real servers: a PostgreSQL 15 primary, two streaming replicas and
//! pgBouncer (session mode), started once by this `harness = false` binary, shared by its
//! tests (run one after another; the cluster is healed after each) and stopped at the end —
//! also when a test fails or panics. Missing server binaries fail the run with the Debian
//! package to install.

#[path = "../support/mod.rs"]
mod support;

mod cancel;
mod common;
mod enforcement;
mod errors;
mod faults;
mod freshness;
mod guarantees;
#[cfg(feature = "axum")]
mod http;
mod limits;
mod observability;
mod pgbouncer_modes;
mod primary_release;
mod routing;
mod ryw;
mod secrets;
mod spill;
mod tasks;
mod timeouts;
mod tls;
mod urls;

use std::{process::ExitCode, sync::Arc};

use support::{cluster::Cluster, harness};

fn main() -> ExitCode {
    let mut tests = tests![
        routing::cluster_uses_scram_and_streams,
        routing::missing_binaries_name_the_debian_package,
        routing::provisioning_installs_only_as_root_with_apt,
        routing::get_db_is_the_primary_and_writes,
        routing::round_robin_alternates_replicas,
        routing::least_connections_prefers_the_idle_replica,
        routing::random_reaches_every_replica,
        routing::no_replica_configured_reads_fall_through_read_only,
        routing::exhausted_replicas_fall_through_or_wait,
        routing::from_env_builds_a_working_router,
        routing::close_shuts_everything_down,
        cancel::cancel_tokens_reach_the_server_of_each_connection,
        enforcement::fallthrough_matches_tsv,
        enforcement::fallthrough_after_reset_and_discard_matches_tsv,
        enforcement::guard_switched_off_is_reasserted_at_next_checkout,
        enforcement::pgbouncer_matches_tsv_after_reset_and_discard,
        enforcement::pgbouncer_is_detected_from_its_refusal,
        enforcement::standby_matches_tsv,
        guarantees::tricks_never_reach_the_next_checkout,
        guarantees::tricks_never_reach_the_next_checkout_through_pgbouncer,
        guarantees::guard_only_through_pgbouncer_is_proven_from_the_wire,
        guarantees::ordinary_releases_are_proven_from_the_wire,
        primary_release::primary_transactions_left_open_are_rolled_back,
        pgbouncer_modes::transaction_and_statement_mode_are_refused_by_name,
        limits::read_only_role_refuses_every_write,
        limits::superuser_fallthrough_role_is_reported,
        pgbouncer_modes::session_mode_is_accepted_and_writes_go_on,
        faults::replica_stopped_checkout_is_retried_then_recovers,
        faults::replica_network_cut_checkout_is_retried,
        faults::replica_silent_partition_errors_instead_of_hanging,
        faults::replica_silent_partition_new_connection_times_out_and_retries,
        faults::replay_paused_past_lag_limit_leaves_rotation,
        faults::promoted_replica_leaves_rotation,
        faults::all_replicas_down_with_fallback,
        faults::all_replicas_down_without_fallback,
        faults::primary_down_reads_continue_writes_fail_clearly,
        faults::standby_as_primary_is_refused,
        timeouts::statement_timeout_on_a_replica_bans_it,
        freshness::paused_replay_serves_no_read_past_the_limit,
        freshness::hung_replica_stalls_no_read_past_one_timeout,
        freshness::promoted_replica_serves_no_read_after_a_sample,
        freshness::promoted_replica_leaves_at_once_from_its_wire,
        freshness::byte_limit_takes_a_replica_out_and_is_reported,
        observability::stats_health_metrics_name_targets_without_password,
        observability::errors_and_config_never_show_the_password,
        observability::injected_registry_receives_the_metrics,
        observability::periodic_stats_log_line,
        urls::password_with_unencoded_specials_connects,
        urls::multi_host_read_write_urls_serve_reads_and_writes,
        urls::unix_sockets_and_random_hosts_on_the_routers_own_sockets,
        errors::refused_port_says_refused,
        errors::bad_password_says_authentication,
        errors::unresolvable_host_says_dns,
        errors::tls_required_by_a_server_without_tls_says_tls,
        errors::silent_server_says_timeout,
        secrets::random_passwords_never_shown_by_parsing_or_config,
        secrets::random_passwords_never_shown_by_a_running_router,
        tls::every_sslmode_against_a_tls_server,
        tls::prefer_falls_back_on_a_server_without_tls,
        tasks::background_tasks_survive_panics,
        ryw::read_after_write_falls_through_while_replay_is_paused,
        ryw::read_after_write_waits_for_replay,
        ryw::write_tokens_are_checked,
        spill::after_waits_for_a_replica_then_spills,
        spill::immediate_spills_at_once,
        spill::never_waits_then_fails_clearly,
    ];
    // The example app and the extractors need the `axum` feature (CI runs --all-features).
    #[cfg(feature = "axum")]
    tests.extend(tests![
        http::example_app_over_http,
        http::read_your_writes_over_http,
        http::read_your_writes_header_carrier
    ]);
    // Last: everything logged during the whole run.
    tests.extend(tests![observability::logs_of_the_whole_run_hold_no_password]);
    harness::run(harness::Options { replicas: 2, pgbouncer: true, setup: |c| Box::pin(setup(c)) }, tests)
}

/// The objects of `pg15-readonly.tsv` and `pg15-readonly-extra.tsv`, plus tables the tests
/// write to.
async fn setup(cluster: Arc<Cluster>) {
    let primary = cluster.primary();
    for file in ["pg15-readonly-setup.sql", "pg15-readonly-extra-setup.sql"] {
        let setup_sql = std::fs::read_to_string(common::data_file(file))
            .unwrap_or_else(|e| panic!("read fixtures/pg15/{file}: {e}"));
        cluster.sql(&primary, &setup_sql).await;
    }
    cluster
        .sql(&primary, "CREATE TABLE ticks (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())")
        .await;
    for r in cluster.replicas() {
        cluster.wait_replayed(&r).await;
    }
}
