//! # xtask: the developer commands of ignis-rs
//!
//! Run as `cargo xtask <command>` (an alias in `.cargo/config.toml`):
//! - `db start [--replicas N] [--pgbouncer] | stop | status | url [--replica N | --pgbouncer] |
//!   promote N | psql [ARGS...]`: one local PostgreSQL cluster under `target/ignis-pg/`, created
//!   on first start with a UTF-8 locale, listening on 127.0.0.1 on a port chosen once, with
//!   optional streaming standbys and PgBouncer in front ([`db`], over `ignis-cluster`);
//! - `migrate [check | generate NAME | pull] [--dry-run] [--schema FILE] [--database-url URL]
//!   [--allow-data-loss] [--drop-unknown] [--concurrent-indexes] [--migrations DIR]
//!   [--versioned-only]`: run pending
//!   versioned files, then make the database match the models (the Ignis example application by
//!   default); `check` exits 1 when they differ, `generate` writes the plan as a versioned file,
//!   `pull` prints the schema file of an existing database ([`migrate`]);
//! - `query [--schema FILE] [--database-url URL]`: every repository operation (reads, writes,
//!   soft delete and restore, transactions of several steps) as JSON-line requests on stdin,
//!   answers on stdout ([`query`]);
//! - `test [CARGO_TEST_ARGS...]`: `cargo test --workspace` with `DATABASE_URL` set ([`mod@test`]);
//! - `bench [--quick] [--database-url URL]`: ignis-rs against the raw `postgres` client and
//!   Diesel, report in `target/bench/report.md`; `bench --instructions [--only 1,2,6]
//!   [--route ROUTES] [--ops N] [--repeat N]`: instructions per operation on the client for workloads 1, 2
//!   and 6, counted with callgrind, table in `target/bench/instructions.md` ([`mod@bench`]).
//!
//! Every command that needs a database takes `--database-url` (where offered), else
//! `DATABASE_URL`, else the Ignis variables `POSTGRES_HOST/PORT/DATABASE/USER/PASSWORD`, else the
//! local cluster, which it starts if needed; it prints one line on stderr saying which database
//! it uses, without the password. Logs go to stderr, filtered by `RUST_LOG` (default `warn`).

mod bench;
mod db;
mod migrate;
mod query;
mod test;

use std::error::Error;
use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Developer commands of ignis-rs: a local Postgres, migrations and tests.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: XtaskCommand,
}

/// The commands.
#[derive(Debug, Subcommand)]
enum XtaskCommand {
    /// Manage the local PostgreSQL cluster under target/ignis-pg (and its standbys and
    /// PgBouncer).
    Db {
        /// The db subcommand.
        #[command(subcommand)]
        command: db::DbCommand,
    },
    /// Make the database match the models (the Ignis example application by default): run
    /// pending versioned files, then push; or check, generate a versioned file, pull.
    Migrate(migrate::MigrateArgs),
    /// Answer Ignis repository requests (reads, writes, soft delete and restore, transactions)
    /// given as JSON lines on stdin, with JSON lines on stdout.
    Query(query::QueryArgs),
    /// Run every test of the workspace (`cargo test --workspace`) against a database.
    Test(test::TestArgs),
    /// Benchmark ignis-rs against the raw postgres client and Diesel (release build); the
    /// report goes to stdout and target/bench/report.md. With --instructions: instructions
    /// per operation of workloads 1, 2 and 6, counted with valgrind's callgrind.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Fails only if a subscriber is already set, which nothing here does.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();

    let cli = Cli::parse_from(keep_test_separator(std::env::args_os().collect()));
    let result = match &cli.command {
        XtaskCommand::Db { command } => db::run(command),
        XtaskCommand::Migrate(args) => db::resolve(args.database_url.as_deref())
            .and_then(|url| db::check_reachable(&url).map(|()| url))
            .and_then(|url| migrate::run(args, &url)),
        XtaskCommand::Query(args) => db::resolve(args.database_url.as_deref())
            .and_then(|url| db::check_reachable(&url).map(|()| url))
            .and_then(|url| query::run(args, &url))
            .map(|()| 0),
        XtaskCommand::Test(args) => test::run(args),
        XtaskCommand::Bench(args) => db::resolve(args.database_url.as_deref())
            .and_then(|url| db::check_reachable(&url).map(|()| url))
            .and_then(|url| bench::run(args, &url)),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            report(error.as_ref());
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask test ARGS` passes ARGS to `cargo test` as given, so `cargo xtask test --
/// --nocapture` must keep its `--` (clap would take a leading `--` as its own separator).
fn keep_test_separator(mut argv: Vec<OsString>) -> Vec<OsString> {
    if argv.get(1).is_some_and(|a| a == "test") && argv.get(2).is_some_and(|a| a == "--") {
        argv.insert(2, OsString::from("--"));
    }
    argv
}

/// Prints `error: ...` and the chain of sources, skipping a source whose text the line before
/// already contains (errors that embed their source's message).
fn report(error: &dyn Error) {
    let mut previous = error.to_string();
    eprintln!("error: {previous}");
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !previous.contains(&text) {
            eprintln!("  caused by: {text}");
        }
        previous = text;
        source = cause.source();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cargo_test_args(argv: &[&str]) -> Vec<String> {
        let argv = argv.iter().map(OsString::from).collect();
        match Cli::try_parse_from(keep_test_separator(argv))
            .unwrap()
            .command
        {
            XtaskCommand::Test(t) => t
                .args
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
            other => panic!("not a test command: {other:?}"),
        }
    }

    #[test]
    fn test_arguments_reach_cargo_test_as_given() {
        assert!(cargo_test_args(&["x", "test"]).is_empty());
        assert_eq!(
            cargo_test_args(&["x", "test", "--", "--nocapture"]),
            ["--", "--nocapture"]
        );
        assert_eq!(
            cargo_test_args(&[
                "x",
                "test",
                "-p",
                "ignis-tests",
                "migrate",
                "--",
                "--nocapture"
            ]),
            ["-p", "ignis-tests", "migrate", "--", "--nocapture"]
        );
        assert_eq!(cargo_test_args(&["x", "test", "--release"]), ["--release"]);
    }

    #[test]
    fn psql_arguments_pass_through() {
        let cli = Cli::try_parse_from(["x", "db", "psql", "-c", "select 1"]).unwrap();
        match cli.command {
            XtaskCommand::Db {
                command: db::DbCommand::Psql { args },
            } => assert_eq!(args, ["-c", "select 1"]),
            other => panic!("not psql: {other:?}"),
        }
    }

    #[test]
    fn bench_flags_parse() {
        let cli =
            Cli::try_parse_from(["x", "bench", "--quick", "--database-url", "postgres://h/db"])
                .unwrap();
        match cli.command {
            XtaskCommand::Bench(args) => {
                assert!(args.quick);
                assert_eq!(args.database_url.as_deref(), Some("postgres://h/db"));
            }
            other => panic!("not bench: {other:?}"),
        }
    }

    #[test]
    fn bench_instruction_flags_parse() {
        let cli = Cli::try_parse_from([
            "x",
            "bench",
            "--instructions",
            "--only",
            "1,6",
            "--route",
            "json,raw",
            "--ops",
            "20",
        ])
        .unwrap();
        match cli.command {
            XtaskCommand::Bench(args) => {
                assert!(args.instructions && !args.quick);
                assert_eq!(args.only.as_deref(), Some("1,6"));
                assert_eq!(args.route.as_deref(), Some("json,raw"));
                assert_eq!(args.ops, Some(20));
            }
            other => panic!("not bench: {other:?}"),
        }
        // The counting options need --instructions; --quick is for timed runs.
        assert!(Cli::try_parse_from(["x", "bench", "--ops", "20"]).is_err());
        assert!(Cli::try_parse_from(["x", "bench", "--instructions", "--quick"]).is_err());
    }

    #[test]
    fn migrate_flags_parse() {
        let cli = Cli::try_parse_from(["x", "migrate", "--dry-run", "--schema", "s.json"]).unwrap();
        match cli.command {
            XtaskCommand::Migrate(args) => {
                assert!(args.dry_run);
                assert_eq!(args.schema.as_deref(), Some(std::path::Path::new("s.json")));
                assert_eq!(args.database_url, None);
            }
            other => panic!("not migrate: {other:?}"),
        }
    }
}
