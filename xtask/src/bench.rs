//! `cargo xtask bench`: ignis-rs side by side with the raw `postgres` client and Diesel (the
//! `ignis-bench` crate, built in release mode), against the local cluster or a given database.

use std::error::Error;

use crate::db;

/// Options of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// A smaller run (3 samples of small batches) that finishes in seconds: a smoke test, its
    /// numbers are not meant to be compared.
    #[arg(long)]
    pub quick: bool,
    /// The server to benchmark on (a fresh database `ignis_bench_<uuid>` is created there and
    /// dropped afterwards, so the user needs CREATE DATABASE); default: DATABASE_URL, else
    /// POSTGRES_HOST/PORT/DATABASE/USER/PASSWORD, else the local cluster (started if needed).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

/// Runs `$CARGO run --release -p ignis-bench -- [--quick]` with `DATABASE_URL` set to `url`,
/// from the workspace root. The report goes to stdout and to `target/bench/report.md`. Returns
/// the benchmark's exit code.
///
/// # Errors
/// cargo cannot be run.
pub fn run(args: &BenchArgs, url: &str) -> Result<u8, Box<dyn Error>> {
    let mut cargo_args = vec!["run", "--release", "-p", "ignis-bench", "--"];
    if args.quick {
        cargo_args.push("--quick");
    }
    db::run_cargo_with_database(url, cargo_args)
}
