//! `cargo xtask test`: every test of the workspace, against a database that is reachable;
//! `cargo xtask test --pgbouncer`: the repository and runtime tests through PgBouncer in
//! transaction pooling mode.

use std::error::Error;
use std::ffi::OsString;

use crate::db;

/// The test files of `ignis-tests` that `--pgbouncer` runs (see [`PGBOUNCER_EXCLUDED`] for the
/// others and why).
pub const PGBOUNCER_TESTS: &[&str] = &[
    "pgbouncer",
    "repository",
    "filters",
    "filter_props",
    "typed_repository",
    "typed_filters",
    "runtime",
    "recovery",
    "integrity",
    "derive",
    "derive_more",
    "quickstart",
    "locale",
    "streaming",
];

/// The test files `--pgbouncer` leaves out, with the reason.
pub const PGBOUNCER_EXCLUDED: &[(&str, &str)] = &[(
    "migrate*",
    "the migrator's concurrent index phase and versioned files hold a session-level advisory \
     lock and session settings across statements, which transaction pooling does not keep: \
     migrations run against the server directly (DIRECT_URL)",
)];

/// Tests of [`PGBOUNCER_TESTS`] that `--pgbouncer` skips (`cargo test -- --skip NAME`), with
/// the reason: each observes what only a direct connection shows.
pub const PGBOUNCER_SKIPPED: &[(&str, &str)] = &[
    (
        "terminated_idle_connections_are_replaced_before_any_caller_sees_them",
        "terminates server backends by pid: PgBouncer absorbs that, its client connections stay open",
    ),
    (
        "a_statement_that_finds_its_connection_dead_before_sending_runs_on_a_fresh_one",
        "terminates server backends by pid (see above)",
    ),
    (
        "a_connection_that_dies_after_session_setup_is_not_silently_replaced",
        "terminates server backends by pid (see above)",
    ),
    (
        "a_connection_killed_by_the_server_fails_once_and_the_next_call_succeeds",
        "terminates server backends by pid (see above)",
    ),
    (
        "statements_are_prepared_once_per_connection_and_the_cache_is_bounded",
        "counts the named statements of the cache, which unnamed statements replace \
         (pgbouncer.rs checks that none is left on any server connection)",
    ),
    (
        "large_create_all_batches_are_copied_and_store_what_insert_stores",
        "asserts create_all uses COPY, which prepares a named statement: under unnamed \
         statements create_all inserts with INSERT .. unnest instead",
    ),
    (
        "copied_batches_coerce_values_as_insert_does",
        "compares what COPY stores with what INSERT stores (see above)",
    ),
];

/// Options of `cargo xtask test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Run the tests through PgBouncer in transaction pooling mode instead: PgBouncer is
    /// started in front of the local cluster, `DATABASE_URL` points at it with
    /// `pgbouncer=true` (unnamed statements; `POSTGRES_PGBOUNCER=true` too, for the processes
    /// the tests start), `DIRECT_URL` at the cluster itself (for the tests' plain clients) and
    /// `PGBOUNCER_URL` at PgBouncer without the setting. Without
    /// CARGO_TEST_ARGS, runs the `ignis-tests` files of `PGBOUNCER_TESTS`.
    #[arg(long)]
    pub pgbouncer: bool,
    /// Arguments for `cargo test`, as you would give them to it: `cargo xtask test -p
    /// ignis-tests migrate -- --nocapture` runs `cargo test -p ignis-tests migrate --
    /// --nocapture` (`--workspace` is added unless a package is selected).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CARGO_TEST_ARGS"
    )]
    pub args: Vec<OsString>,
}

/// Resolves the database ([`db::resolve`]), checks that it answers, then runs
/// `$CARGO test --workspace ARGS...` with `DATABASE_URL` set to it. Every test creates its own
/// database on that server (so the user needs `CREATE DATABASE`; the local cluster's `postgres`
/// superuser has it). Returns cargo's exit code.
///
/// # Errors
/// No database can be found or reached, or cargo cannot be run.
pub fn run(args: &TestArgs) -> Result<u8, Box<dyn Error>> {
    if args.pgbouncer {
        return run_pgbouncer(args);
    }
    let url = db::resolve(None)?;
    db::check_reachable(&url)?;
    let mut cargo_args: Vec<OsString> = vec!["test".into()];
    if !selects_packages(&args.args) {
        cargo_args.push("--workspace".into());
    }
    cargo_args.extend(args.args.iter().cloned());
    db::run_cargo_with_database(&url, cargo_args)
}

/// The PgBouncer pass: starts the local cluster and PgBouncer in front of it (through
/// `ignis-cluster`, as `cargo xtask db start --pgbouncer` does), then runs `cargo test` with
/// `DATABASE_URL` = PgBouncer with `pgbouncer=true`, `DIRECT_URL` = the cluster and
/// `PGBOUNCER_URL` = PgBouncer. Returns cargo's exit code.
///
/// # Errors
/// The cluster or PgBouncer cannot be started (PgBouncer not installed: `apt-get install
/// pgbouncer`), or cargo cannot be run.
fn run_pgbouncer(args: &TestArgs) -> Result<u8, Box<dyn Error>> {
    let mut cluster = ignis_cluster::LocalCluster::open(&db::workspace_root())?;
    cluster.start()?;
    let direct = db::local_url(cluster.current_port()?);
    let (port, _) = cluster.start_pgbouncer()?;
    for warning in cluster.take_warnings() {
        eprintln!("{warning}");
    }
    let bouncer = db::local_url(port);
    db::check_reachable(&bouncer)?;
    eprintln!("running the tests through PgBouncer (transaction pooling) at {bouncer}");
    for (files, why) in PGBOUNCER_EXCLUDED {
        eprintln!("not run through PgBouncer: {files}: {why}");
    }
    let mut cargo_args: Vec<OsString> = vec!["test".into()];
    if args.args.is_empty() {
        cargo_args.extend(["-p".into(), "ignis-tests".into()]);
        for name in PGBOUNCER_TESTS {
            cargo_args.extend(["--test".into(), OsString::from(name)]);
        }
        cargo_args.push("--".into());
        for (name, why) in PGBOUNCER_SKIPPED {
            eprintln!("skipped through PgBouncer: {name}: {why}");
            cargo_args.extend(["--skip".into(), OsString::from(name)]);
        }
    } else {
        if !selects_packages(&args.args) {
            cargo_args.push("--workspace".into());
        }
        cargo_args.extend(args.args.iter().cloned());
    }
    run_cargo_with_env(
        cargo_args,
        &[
            ("DATABASE_URL", format!("{bouncer}?pgbouncer=true")),
            // For processes the tests start, which read the database from the environment
            // (`DataSourceConfig::from_env`) with a URL that has no `pgbouncer` parameter.
            ("POSTGRES_PGBOUNCER", "true".to_string()),
            ("DIRECT_URL", direct),
            ("PGBOUNCER_URL", bouncer),
        ],
    )
}

/// Runs `$CARGO args...` (cargo as it started xtask, else `cargo` from PATH) in the workspace
/// root with the variables `env` set; returns its exit code (1 when killed by a signal).
///
/// # Errors
/// Cargo cannot be started.
fn run_cargo_with_env(args: Vec<OsString>, env: &[(&str, String)]) -> Result<u8, Box<dyn Error>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = std::process::Command::new(&cargo);
    cmd.args(args).current_dir(db::workspace_root());
    for (name, value) in env {
        cmd.env(name, value);
    }
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {}: {e}", cargo.to_string_lossy()))?;
    Ok(status
        .code()
        .map_or(1, |code| u8::try_from(code).unwrap_or(1)))
}

/// Whether the `cargo test` arguments (before a `--`) choose packages themselves.
fn selects_packages(args: &[OsString]) -> bool {
    args.iter()
        .map(|a| a.to_string_lossy())
        .take_while(|a| a != "--")
        .any(|a| {
            a == "-p"
                || a == "--package"
                || a == "--workspace"
                || a == "--all"
                || a.starts_with("--package=")
                || (a.starts_with("-p") && !a.starts_with("--"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn workspace_is_added_unless_packages_are_chosen() {
        assert!(!selects_packages(&args(&[])));
        assert!(!selects_packages(&args(&["migrate", "--", "--nocapture"])));
        assert!(!selects_packages(&args(&["--", "-p"])));
        assert!(selects_packages(&args(&["-p", "ignis-tests"])));
        assert!(selects_packages(&args(&["-pignis-tests"])));
        assert!(selects_packages(&args(&["--package=ignis-tx"])));
    }
}
