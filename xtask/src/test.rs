//! `cargo xtask test`: every test of the workspace, against a database that is reachable.

use std::error::Error;
use std::ffi::OsString;

use crate::db;

/// Options of `cargo xtask test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
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
    let url = db::resolve(None)?;
    db::check_reachable(&url)?;
    let mut cargo_args: Vec<OsString> = vec!["test".into()];
    if !selects_packages(&args.args) {
        cargo_args.push("--workspace".into());
    }
    cargo_args.extend(args.args.iter().cloned());
    db::run_cargo_with_database(&url, cargo_args)
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
