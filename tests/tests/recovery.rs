//! Recovery of the pool on a real Postgres: connections that die while idle in the pool (a
//! server restart, `pg_terminate_backend`) are never handed to a caller, and a statement that
//! finds its connection dead before it was sent runs on a fresh one.
//!
//! The restart tests run their own throwaway cluster ([`Cluster`]: `initdb` into a folder under
//! `target/`, a free port, `pg_ctl`), never the shared one. They skip with a message when the
//! server binaries are not installed.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failed setup is a failed test

use std::collections::HashSet;
use std::ffi::OsStr;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use ignis_tests::TestDb;
use ignis_tx::{DataSource, DataSourceConfig, Error, Executor, PoolOptions, TransactionOptions};
use rayon::prelude::*;

/// The OS user Postgres runs as when the tests run as root (Postgres refuses to run as root).
const SERVER_OS_USER: &str = "postgres";

/// A throwaway Postgres cluster for one test: created and started by [`Cluster::start`],
/// stopped and deleted when dropped (also when the test fails).
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_server_user: bool,
}

impl Cluster {
    /// `initdb` into a new folder under `target/ignis-recovery/`, then `pg_ctl start` on a free
    /// port (TCP on 127.0.0.1 only). `None` when no server binaries are installed.
    fn start() -> Option<Cluster> {
        let Some(bin) = server_bin() else {
            eprintln!(
                "skipped: no PostgreSQL server binaries (initdb, pg_ctl) under \
                 /usr/lib/postgresql/*/bin or on PATH; install the `postgresql` package"
            );
            return None;
        };
        let as_server_user = is_root();
        let target = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .join("target")
            .join("ignis-recovery");
        let dir = target.join(uuid::Uuid::new_v4().simple().to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let mut cluster = Cluster {
            dir,
            bin,
            port: 0,
            as_server_user,
        };
        if as_server_user {
            let out = Command::new("chown")
                .arg("-R")
                .arg(format!("{SERVER_OS_USER}:"))
                .arg(&cluster.dir)
                .output()
                .unwrap();
            assert!(out.status.success(), "chown: {out:?}");
        }
        let data = cluster.dir.join("data");
        cluster.run(
            "initdb",
            &[
                OsStr::new("-D"),
                data.as_os_str(),
                OsStr::new("-U"),
                OsStr::new("postgres"),
                OsStr::new("--auth=trust"),
                OsStr::new("-E"),
                OsStr::new("UTF8"),
                OsStr::new("--locale=C"),
                OsStr::new("--no-sync"),
            ],
        );
        cluster.port = free_port();
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories= \
             -c max_connections=40 -c shared_buffers=16MB -c fsync=off",
            cluster.port
        );
        let log = cluster.dir.join("postgres.log");
        cluster.run(
            "pg_ctl",
            &[
                OsStr::new("-D"),
                data.as_os_str(),
                OsStr::new("-l"),
                log.as_os_str(),
                OsStr::new("-o"),
                OsStr::new(&options),
                OsStr::new("-w"),
                OsStr::new("start"),
            ],
        );
        Some(cluster)
    }

    /// The cluster's URL (database and user `postgres`).
    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl restart -m fast`: every backend is terminated (SQLSTATE 57P01), the server is up
    /// again when this returns.
    fn restart(&self) {
        let data = self.dir.join("data");
        // The server's output goes to the log, not to this process's pipes (which would then
        // stay open as long as the server runs).
        let log = self.dir.join("postgres.log");
        self.run(
            "pg_ctl",
            &[
                OsStr::new("-D"),
                data.as_os_str(),
                OsStr::new("-l"),
                log.as_os_str(),
                OsStr::new("-m"),
                OsStr::new("fast"),
                OsStr::new("-w"),
                OsStr::new("restart"),
            ],
        );
    }

    fn command(&self, tool: &str, args: &[&OsStr]) -> Command {
        let program = self.bin.join(tool);
        let mut cmd = if self.as_server_user {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", SERVER_OS_USER, "--"]).arg(program);
            cmd
        } else {
            Command::new(program)
        };
        cmd.args(args).current_dir("/").stdin(Stdio::null());
        cmd
    }

    fn output(&self, tool: &str, args: &[&OsStr]) -> Output {
        self.command(tool, args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"))
    }

    fn run(&self, tool: &str, args: &[&OsStr]) {
        let out = self.output(tool, args);
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}\n{}\nserver log:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default()
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = self.output(
            "pg_ctl",
            &[
                OsStr::new("-D"),
                data.as_os_str(),
                OsStr::new("-m"),
                OsStr::new("immediate"),
                OsStr::new("-w"),
                OsStr::new("stop"),
            ],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The folder of initdb and pg_ctl: the highest version under `/usr/lib/postgresql/*/bin`, else
/// the folder of `initdb` on PATH.
fn server_bin() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin");
            has_tools(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|path| std::env::split_paths(&path).find(|d| has_tools(d)))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A pool of 10 over `config` whose 10 connections are all open and idle; returns their
/// backend pids.
fn ten_idle_connections(config: DataSourceConfig) -> (DataSource, HashSet<i32>) {
    let ds = DataSource::new(config.with_pool(PoolOptions {
        max_size: 10,
        ..PoolOptions::default()
    }))
    .unwrap();
    let mut held: Vec<_> = (0..10).map(|_| ds.connection().unwrap()).collect();
    let pids: HashSet<i32> = held
        .iter_mut()
        .map(|c| c.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0))
        .collect();
    assert_eq!(pids.len(), 10);
    drop(held);
    assert_eq!(ds.pool_state(), (10, 10));
    (ds, pids)
}

/// Waits past the pool's idle window, so the next checkouts check their connections.
fn wait_past_idle_window() {
    std::thread::sleep(PoolOptions::default().idle_check_after + Duration::from_millis(200));
}

/// One call as an application makes it: a checkout and a statement, or a transaction.
fn call(ds: &DataSource, i: i32) -> Result<i32, Error> {
    if i % 2 == 0 {
        Ok(ds
            .connection()?
            .query_one("SELECT $1::int + 1", &[&i])?
            .get(0))
    } else {
        ds.transaction(TransactionOptions::default(), |tx| {
            Ok(tx.query_one("SELECT $1::int + 1", &[&i])?.get(0))
        })
    }
}

#[test]
fn after_a_server_restart_no_caller_sees_a_dead_idle_connection() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let config = DataSourceConfig::from_url(&cluster.url()).unwrap();
    let (ds, old_pids) = ten_idle_connections(config);
    wait_past_idle_window();
    cluster.restart();
    for i in 0..10 {
        assert_eq!(call(&ds, i).unwrap(), i + 1, "call {i} after the restart");
    }
    let pid: i32 = ds
        .connection()
        .unwrap()
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    assert!(!old_pids.contains(&pid));

    // Worker threads, all at once, on connections that died while idle.
    let mut conns: Vec<_> = (0..10).map(|_| ds.connection().unwrap()).collect();
    for c in &mut conns {
        c.query_one("SELECT 1", &[]).unwrap();
    }
    drop(conns);
    wait_past_idle_window();
    cluster.restart();
    let results: Vec<Result<i32, Error>> = (0..10).into_par_iter().map(|i| call(&ds, i)).collect();
    for (i, r) in results.into_iter().enumerate() {
        assert_eq!(
            r.unwrap(),
            i as i32 + 1,
            "worker call {i} after the restart"
        );
    }
    let barrier = Arc::new(Barrier::new(10));
    let threads: Vec<_> = (0..10)
        .map(|i| {
            let ds = ds.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                call(&ds, i)
            })
        })
        .collect();
    for (i, t) in threads.into_iter().enumerate() {
        assert_eq!(t.join().unwrap().unwrap(), i as i32 + 1, "thread {i}");
    }
}

#[test]
fn terminated_idle_connections_are_replaced_before_any_caller_sees_them() {
    let db = TestDb::new();
    let (ds, pids) = ten_idle_connections(db.config());
    wait_past_idle_window();
    let pids: Vec<i32> = pids.into_iter().collect();
    let terminated: i64 = db
        .client()
        .query_one(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000)) \
             FROM unnest($1::int[]) AS pid",
            &[&pids],
        )
        .unwrap()
        .get(0);
    assert_eq!(terminated, 10);
    for i in 0..10 {
        assert_eq!(call(&ds, i).unwrap(), i + 1, "call {i}");
    }
}

/// A pool of one whose connection is never checked on checkout, its backend terminated while
/// idle: only the statement-level recovery can help.
fn unchecked_single_connection(db: &TestDb) -> (DataSource, i32) {
    let ds = db.datasource_with(PoolOptions {
        max_size: 1,
        idle_check_after: Duration::MAX,
        ..PoolOptions::default()
    });
    let pid = terminate_idle(db, &ds);
    (ds, pid)
}

/// Terminates the backend of the (only) idle connection of `ds`, after running the cached
/// statement `SELECT pg_backend_pid()` on it; returns the pid.
fn terminate_idle(db: &TestDb, ds: &DataSource) -> i32 {
    let pid: i32 = ds
        .connection()
        .unwrap()
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let killed: bool = db
        .client()
        .query_one("SELECT pg_terminate_backend($1, 10000)", &[&pid])
        .unwrap()
        .get(0);
    assert!(killed);
    pid
}

#[test]
fn a_statement_that_finds_its_connection_dead_before_sending_runs_on_a_fresh_one() {
    let db = TestDb::new();
    let (ds, pid) = unchecked_single_connection(&db);

    // Preparing a new statement finds the connection dead: nothing of it ran, so it runs on a
    // fresh connection.
    let mut conn = ds.connection().unwrap();
    let new_pid: i32 = conn
        .query_one("SELECT pg_backend_pid() AS fresh", &[])
        .unwrap()
        .get(0);
    assert_ne!(new_pid, pid);
    drop(conn);

    // A statement already prepared on the dead connection is sent: it fails and is not re-run
    // (it may have reached the server). The next statement on the same pooled connection
    // knows the connection is closed before sending, and runs on a fresh one.
    let pid = terminate_idle(&db, &ds);
    let mut conn = ds.connection().unwrap();
    assert!(conn.query_one("SELECT pg_backend_pid()", &[]).is_err());
    assert!(conn.is_closed());
    let next: i32 = conn
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    assert_ne!(next, pid);
    assert!(!conn.is_closed());
    drop(conn);
    assert_eq!(ds.pool_state().0, 1);

    // BEGIN on a dead connection: nothing of the transaction ran, so it begins on another.
    let pid = terminate_idle(&db, &ds);
    let in_tx: i32 = ds
        .transaction(TransactionOptions::default(), |tx| {
            Ok::<_, Error>(tx.query_one("SELECT pg_backend_pid()", &[])?.get(0))
        })
        .unwrap();
    assert_ne!(in_tx, pid);
}

#[test]
fn a_connection_that_dies_after_session_setup_is_not_silently_replaced() {
    let db = TestDb::new();
    let ds = db.datasource_with(PoolOptions {
        max_size: 1,
        idle_check_after: Duration::MAX,
        ..PoolOptions::default()
    });
    let mut conn = ds.connection().unwrap();
    conn.batch_execute("SET application_name = 'set up by the caller'")
        .unwrap();
    let pid: i32 = conn
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    db.client()
        .execute("SELECT pg_terminate_backend($1, 10000)", &[&pid])
        .unwrap();
    // A fresh connection would not have the caller's setting: every later statement fails.
    assert!(conn.query_one("SELECT 1 AS first", &[]).is_err());
    assert!(conn.query_one("SELECT 1 AS second", &[]).is_err());
    drop(conn);
    let name: String = ds
        .connection()
        .unwrap()
        .query_one("SELECT current_setting('application_name')", &[])
        .unwrap()
        .get(0);
    assert_eq!(name, "ignis-rs");
}
