//! `cargo xtask db ...`: the local PostgreSQL cluster for development and tests (its
//! standbys and PgBouncer too), and the database resolution that every command needing a
//! database shares ([`resolve`]).
//!
//! The servers themselves are [`ignis_cluster::LocalCluster`]'s: the layout under
//! `target/ignis-pg/`, the locale of a new cluster, running as the `postgres` OS user when root
//! and the choice of ports are documented there. This module is the command line over it.
//!
//! `IGNIS_PG_DIR` names another state directory than `<workspace>/target/ignis-pg` (for
//! example a second cluster to try `--replicas` on beside the one in use); every `db`
//! subcommand and the local-cluster fallback of [`resolve`] use it.

use std::error::Error;
use std::ffi::{OsStr, OsString};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::Duration;

use ignis_cluster::{ctype_folds_ascii_only, LocalCluster, NodeId, NodeStatus, Role, Started};
use ignis_tx::DataSourceConfig;

type Result<T, E = Box<dyn Error>> = std::result::Result<T, E>;

/// The database superuser of the local cluster, and the user of the local URL.
const DB_USER: &str = ignis_cluster::DB_USER;
/// The environment variables of the Ignis datasource settings.
const POSTGRES_VARS: &str = "POSTGRES_HOST/PORT/DATABASE/USER/PASSWORD";
/// The environment variable naming another state directory for the local cluster.
const STATE_DIR_VAR: &str = "IGNIS_PG_DIR";

/// The subcommands of `cargo xtask db`.
#[derive(Debug, clap::Subcommand)]
pub enum DbCommand {
    /// Start the local cluster (initdb on first start); does nothing if it is running.
    /// With --replicas N, also N streaming standbys (pg_basebackup -R); with --pgbouncer,
    /// PgBouncer in transaction pooling mode in front of it.
    Start {
        /// How many streaming standbys of the cluster to start (made on first use, numbered
        /// from 1).
        #[arg(long, value_name = "N", default_value_t = 0)]
        replicas: usize,
        /// Start PgBouncer (transaction pooling) in front of the cluster.
        #[arg(long)]
        pgbouncer: bool,
    },
    /// Stop everything started: PgBouncer, the standbys, the cluster (`pg_ctl stop -m fast`).
    Stop,
    /// Print whether the local cluster is running, and its port (exit code 3 when stopped);
    /// with standbys or PgBouncer, each node's port, role and replay lag.
    Status,
    /// Print the local cluster's URL (starting it if needed), e.g. for `psql "$(cargo xtask db url)"`;
    /// or a running standby's, or PgBouncer's.
    Url {
        /// The URL of standby N instead (it must be running).
        #[arg(long, value_name = "N", conflicts_with = "pgbouncer")]
        replica: Option<usize>,
        /// The URL of PgBouncer instead (it must be running).
        #[arg(long)]
        pgbouncer: bool,
    },
    /// Promote standby N to a primary (`pg_ctl promote`); waits until it accepts writes.
    Promote {
        /// The standby's number (1-based, as `db status` shows it).
        #[arg(value_name = "N")]
        standby: usize,
    },
    /// Run psql on the local cluster (starting it if needed); arguments are passed to psql.
    Psql {
        /// Arguments for psql, e.g. `-c 'select version()'`.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "PSQL_ARGS"
        )]
        args: Vec<OsString>,
    },
}

/// The local cluster: `$IGNIS_PG_DIR` when set, else `<workspace>/target/ignis-pg`.
///
/// # Errors
/// Server binaries not found (or, as root, no `postgres` OS user).
pub fn open_cluster() -> Result<LocalCluster> {
    let root = workspace_root();
    let cluster = match std::env::var_os(STATE_DIR_VAR).filter(|d| !d.is_empty()) {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            let dir = if dir.is_absolute() {
                dir
            } else {
                std::env::current_dir()?.join(dir)
            };
            LocalCluster::open_dir(&root, &dir)?
        }
        None => LocalCluster::open(&root)?,
    };
    Ok(cluster)
}

/// Prints the cluster's gathered warnings on stderr.
fn print_warnings(cluster: &mut LocalCluster) {
    for warning in cluster.take_warnings() {
        eprintln!("{warning}");
    }
}

/// Runs a `cargo xtask db` subcommand; returns the process exit code.
///
/// # Errors
/// Server binaries not found, or a server command that failed (the message includes its output
/// and the end of the server log).
pub fn run(command: &DbCommand) -> Result<u8> {
    let mut cluster = open_cluster()?;
    let code = match command {
        DbCommand::Start {
            replicas,
            pgbouncer,
        } => start(&mut cluster, *replicas, *pgbouncer)?,
        DbCommand::Stop => {
            let stopped = cluster.stop_all()?;
            if stopped.pgbouncer {
                println!("pgbouncer stopped");
            }
            for n in &stopped.standbys {
                println!("standby {n} stopped");
            }
            if stopped.primary {
                println!("local Postgres stopped");
            } else {
                println!("local Postgres is not running");
            }
            0
        }
        DbCommand::Status => status(&cluster)?,
        DbCommand::Url {
            replica: Some(n), ..
        } => {
            let port = cluster.standby_port(*n)?.ok_or_else(|| {
                format!(
                    "standby {n} is not running: `cargo xtask db start --replicas {n}` starts it"
                )
            })?;
            println!("{}", local_url(port));
            0
        }
        DbCommand::Url {
            pgbouncer: true, ..
        } => {
            let port = cluster
                .pgbouncer_port()
                .ok_or("pgbouncer is not running: `cargo xtask db start --pgbouncer` starts it")?;
            println!("{}", local_url(port));
            0
        }
        DbCommand::Url { .. } => {
            let port = ensure_running_quietly(&mut cluster)?;
            println!("{}", local_url(port));
            0
        }
        DbCommand::Promote { standby } => {
            let port = cluster.promote(*standby)?;
            println!(
                "standby {standby} promoted: it accepts writes on port {port}, {} (it no longer \
                 follows the local cluster; `cargo xtask db start --replicas {standby}` makes it \
                 a standby again)",
                local_url(port)
            );
            0
        }
        DbCommand::Psql { args } => {
            let port = ensure_running_quietly(&mut cluster)?;
            let psql = cluster.psql()?;
            let mut cmd = Command::new(&psql);
            cmd.arg("--dbname").arg(local_url(port)).args(args);
            // Replace this process, so psql owns the terminal and Ctrl-C.
            let err = cmd.exec();
            return Err(format!("cannot run {}: {err}", psql.display()).into());
        }
    };
    print_warnings(&mut cluster);
    Ok(code)
}

/// `db start [--replicas N] [--pgbouncer]`.
fn start(cluster: &mut LocalCluster, replicas: usize, pgbouncer: bool) -> Result<u8> {
    let started = cluster.start()?;
    print_warnings(cluster);
    match started {
        Started::AlreadyRunning(port) => {
            println!("local Postgres already running on port {port}");
        }
        Started::Now { port, created } => {
            let what = if created {
                "created and started"
            } else {
                "started"
            };
            println!(
                "local Postgres {} {what} on port {port} ({})",
                cluster.version(),
                cluster.display(cluster.state_dir())
            );
        }
    }
    let port = cluster.current_port()?;
    println!("{}", local_url(port));
    if let Some(warning) = ctype_warning(cluster, port) {
        eprintln!("{warning}");
    }
    if replicas > 0 {
        for (n, standby_port, what) in cluster.start_standbys(replicas)? {
            let what = match what {
                Started::AlreadyRunning(_) => "already running",
                Started::Now { created: true, .. } => "created and started",
                Started::Now { created: false, .. } => "started",
            };
            println!(
                "standby {n} {what} on port {standby_port}: {}",
                local_url(standby_port)
            );
        }
        print_warnings(cluster);
    }
    if pgbouncer {
        let (bouncer_port, now) = cluster.start_pgbouncer()?;
        let what = if now { "started" } else { "already running" };
        println!(
            "pgbouncer {what} on port {bouncer_port} (transaction pooling in front of port \
             {port}): {}",
            local_url(bouncer_port)
        );
        print_warnings(cluster);
    }
    Ok(0)
}

/// `db status`: the primary's line as always (exit code 3 when it is stopped), then one line
/// per node when there are standbys or PgBouncer.
fn status(cluster: &LocalCluster) -> Result<u8> {
    let code = match cluster.running_port()? {
        Some(port) => {
            println!(
                "running: PostgreSQL {} on port {port}, {} (data {}, log {})",
                cluster.version(),
                local_url(port),
                cluster.display(&cluster.data_dir()),
                cluster.display(&cluster.log_file())
            );
            if let Some(warning) = ctype_warning(cluster, port) {
                eprintln!("{warning}");
            }
            0
        }
        None if cluster.initialized() => {
            match cluster.recorded_port()? {
                Some(port) => {
                    println!("stopped (port {port}); `cargo xtask db start` starts it")
                }
                None => println!("stopped; `cargo xtask db start` starts it"),
            }
            3
        }
        None => {
            println!("stopped (not created yet); `cargo xtask db start` creates it");
            return Ok(3);
        }
    };
    let nodes = cluster.status()?;
    if nodes.len() > 1 {
        println!();
        for line in node_table(cluster, &nodes) {
            println!("{line}");
        }
    }
    Ok(code)
}

/// One line per node: name, port, state, role, WAL position, replay lag, log.
fn node_table(cluster: &LocalCluster, nodes: &[NodeStatus]) -> Vec<String> {
    let mut rows = vec![[
        "node".to_string(),
        "port".into(),
        "state".into(),
        "role".into(),
        "wal".into(),
        "replay lag".into(),
        "log".into(),
    ]];
    for node in nodes {
        let state = match (node.running, node.replay_paused) {
            (false, _) => "stopped".to_string(),
            (true, Some(true)) => "running (replay paused)".to_string(),
            (true, _) => "running".to_string(),
        };
        let role = match (node.role, &node.error) {
            (Some(Role::Pooler), _) => "pooler (transaction)".to_string(),
            (Some(role), _) => role.to_string(),
            (None, Some(error)) => format!("? ({error})"),
            (None, None) => "-".to_string(),
        };
        let lag = match (node.node, node.lag_bytes, node.lag_time) {
            (NodeId::Standby(_), Some(bytes), Some(time)) => {
                format!("{bytes} bytes, {:.3} s", time.as_secs_f64())
            }
            (NodeId::Standby(_), Some(bytes), None) => format!("{bytes} bytes"),
            _ => "-".to_string(),
        };
        rows.push([
            node.node.to_string(),
            node.port.map_or("-".to_string(), |p| p.to_string()),
            state,
            role,
            node.lsn.map_or("-".to_string(), |l| l.to_string()),
            lag,
            cluster.display(&cluster.node_log(node.node)),
        ]);
    }
    let mut widths = [0usize; 7];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect()
}

/// Starts the primary if needed (messages on stderr) and returns its port.
fn ensure_running_quietly(cluster: &mut LocalCluster) -> Result<u16> {
    let started = cluster.start()?;
    print_warnings(cluster);
    match started {
        Started::AlreadyRunning(port) => Ok(port),
        Started::Now { port, created } => {
            let what = if created {
                "created and started"
            } else {
                "started"
            };
            eprintln!(
                "local Postgres {} {what} on port {port} ({})",
                cluster.version(),
                cluster.display(cluster.state_dir())
            );
            Ok(port)
        }
    }
}

/// A warning when the running local cluster on `port` creates databases whose `LC_CTYPE` folds
/// ASCII letters only (a cluster made by `initdb --locale=C`), saying how to recreate it; `None`
/// when it folds, or when the server cannot be asked (this is advice, never an error).
fn ctype_warning(cluster: &LocalCluster, port: u16) -> Option<String> {
    // New databases (every test's) copy template1's locale.
    let ctype = cluster.template1_ctype(port)?;
    if !ctype_folds_ascii_only(&ctype) {
        return None;
    }
    let mut delete = cluster.display(cluster.state_dir());
    if cluster.home_dir() != cluster.state_dir() {
        delete = format!("{delete} and {}", cluster.home_dir().display());
    }
    Some(format!(
        "warning: the local cluster's LC_CTYPE is {ctype}, so `ilike`, `upper` and `lower` fold \
         ASCII letters only (`'émile%'` does not match `Émile`). To recreate it with a UTF-8 \
         locale (its databases are lost): `cargo xtask db stop`, delete {delete}, \
         `cargo xtask db start`."
    ))
}

/// The URL of the local cluster on `port`.
pub fn local_url(port: u16) -> String {
    format!("postgres://{DB_USER}@127.0.0.1:{port}/postgres")
}

/// The workspace root: the parent of this crate's directory (xtask is a workspace member).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map_or_else(|| manifest.to_path_buf(), Path::to_path_buf)
}

/// Finds the database a command uses and prints one line saying which (to stderr, password
/// redacted): `flag` (`--database-url`) if given, else `DATABASE_URL`, else the
/// `POSTGRES_HOST/PORT/DATABASE/USER/PASSWORD` variables if any is set, else the local cluster,
/// started if needed. Returns the connection string (with the password, if any).
///
/// # Errors
/// A URL or `POSTGRES_PORT` that does not parse, or the local cluster cannot be started.
pub fn resolve(flag: Option<&str>) -> Result<String> {
    if let Some(url) = flag.filter(|u| !u.is_empty()) {
        let config = DataSourceConfig::from_url(url)?;
        eprintln!("using database {} (from --database-url)", config.redacted());
        return Ok(url.to_string());
    }
    if let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        let config = DataSourceConfig::from_url(&url)?;
        eprintln!("using database {} (from DATABASE_URL)", config.redacted());
        return Ok(url);
    }
    if let Some(config) = DataSourceConfig::from_env()? {
        eprintln!(
            "using database {} (from {POSTGRES_VARS})",
            config.redacted()
        );
        return Ok(config.connection_string());
    }
    let mut cluster = open_cluster()?;
    let started = cluster.start()?;
    print_warnings(&mut cluster);
    let (port, how) = match started {
        Started::AlreadyRunning(port) => (port, ""),
        Started::Now {
            port,
            created: true,
        } => (port, ", created and started now"),
        Started::Now {
            port,
            created: false,
        } => (port, ", started now"),
    };
    let url = local_url(port);
    let shown = DataSourceConfig::from_url(&url)?.redacted();
    eprintln!(
        "using database {shown} (local cluster {}{how})",
        cluster.display(cluster.state_dir())
    );
    Ok(url)
}

/// Runs `$CARGO args...` (cargo as it started xtask, else `cargo` from PATH) in the workspace
/// root with `DATABASE_URL` set to `url`; returns its exit code (1 when killed by a signal).
///
/// # Errors
/// Cargo cannot be started.
pub fn run_cargo_with_database<I, S>(url: &str, args: I) -> Result<u8>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.args(args)
        .env("DATABASE_URL", url)
        .current_dir(workspace_root());
    tracing::debug!(?cargo, args = ?cmd.get_args().collect::<Vec<_>>(), "running cargo");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {}: {e}", cargo.to_string_lossy()))?;
    Ok(match status.code() {
        Some(code) => u8::try_from(code).unwrap_or(1),
        // Killed by a signal.
        None => 1,
    })
}

/// Opens one connection (single attempt, 10 s connect timeout) and closes it, so an unreachable
/// server fails at once with the reason (e.g. connection refused) instead of after a pool's
/// timeout.
///
/// # Errors
/// The connection string does not parse, or the server cannot be reached or refuses the login.
pub fn check_reachable(url: &str) -> Result<()> {
    let shown = DataSourceConfig::from_url(url)?.redacted();
    let mut config = ignis_tx::postgres::Config::from_str(url)?;
    config.connect_timeout(Duration::from_secs(10));
    let client = config
        .connect(ignis_tx::postgres::NoTls)
        .map_err(|e| ReachError { shown, source: e })?;
    drop(client);
    Ok(())
}

/// A database that cannot be reached: names it (password redacted) and keeps the cause.
#[derive(Debug)]
struct ReachError {
    shown: String,
    source: ignis_tx::postgres::Error,
}

impl std::fmt::Display for ReachError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot reach the database {}", self.shown)
    }
}

impl Error for ReachError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// `cargo xtask db ...` as the command line parses it.
    #[derive(Debug, clap::Parser)]
    struct Db {
        #[command(subcommand)]
        command: DbCommand,
    }

    fn parse(args: &[&str]) -> std::result::Result<DbCommand, clap::Error> {
        Db::try_parse_from(std::iter::once("db").chain(args.iter().copied())).map(|d| d.command)
    }

    #[test]
    fn start_and_url_flags_parse() {
        assert!(matches!(
            parse(&["start"]).unwrap(),
            DbCommand::Start {
                replicas: 0,
                pgbouncer: false
            }
        ));
        assert!(matches!(
            parse(&["start", "--replicas", "2", "--pgbouncer"]).unwrap(),
            DbCommand::Start {
                replicas: 2,
                pgbouncer: true
            }
        ));
        assert!(matches!(
            parse(&["url", "--replica", "1"]).unwrap(),
            DbCommand::Url {
                replica: Some(1),
                pgbouncer: false
            }
        ));
        assert!(matches!(
            parse(&["promote", "2"]).unwrap(),
            DbCommand::Promote { standby: 2 }
        ));
        assert!(parse(&["url", "--replica", "1", "--pgbouncer"]).is_err());
        assert!(parse(&["start", "--replicas", "-1"]).is_err());
        assert!(parse(&["promote"]).is_err());
    }

    /// A cluster in a scratch workspace, stopped and deleted when dropped.
    struct ScratchCluster {
        root: PathBuf,
        cluster: LocalCluster,
    }

    impl ScratchCluster {
        /// A cluster workspace under the temporary directory, unique to this process and
        /// moment (`kind` names the test in the directory's name).
        fn new(kind: &str) -> Self {
            let root = std::env::temp_dir().join(format!(
                "ignis-xtask-{kind}-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos())
            ));
            std::fs::create_dir_all(root.join("target")).unwrap();
            ScratchCluster {
                cluster: LocalCluster::open(&root).unwrap(),
                root,
            }
        }
    }

    impl Drop for ScratchCluster {
        fn drop(&mut self) {
            let _ = self.cluster.stop_all();
            if self.cluster.home_dir() != self.cluster.state_dir() {
                let _ = std::fs::remove_dir_all(self.cluster.home_dir());
            }
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    #[test]
    fn a_new_cluster_folds_non_ascii_letters() {
        if let Err(e) = ignis_cluster::find_server_bin() {
            eprintln!("skipped: a new cluster cannot be created here: {e}");
            return;
        }
        let mut scratch = ScratchCluster::new("locale");
        let port = match scratch.cluster.start().unwrap() {
            Started::Now {
                port,
                created: true,
            } => port,
            Started::Now { created: false, .. } | Started::AlreadyRunning(_) => {
                panic!("the scratch cluster existed before")
            }
        };
        let mut client =
            ignis_tx::postgres::Client::connect(&local_url(port), ignis_tx::postgres::NoTls)
                .unwrap();
        // Every new database (a test's, an application's) copies template1.
        client.batch_execute("CREATE DATABASE fresh").unwrap();
        let url = format!("postgres://{DB_USER}@127.0.0.1:{port}/fresh");
        let mut fresh =
            ignis_tx::postgres::Client::connect(&url, ignis_tx::postgres::NoTls).unwrap();
        let row = fresh
            .query_one(
                "SELECT current_setting('lc_ctype'), 'Émile' ILIKE 'émile%', upper('é'), \
                 lower('É'), 'b' < 'é' AND 'Z' < 'a'",
                &[],
            )
            .unwrap();
        let ctype: String = row.get(0);
        assert!(
            row.get::<_, bool>(1),
            "'Émile' ILIKE 'émile%' under {ctype}"
        );
        assert_eq!(row.get::<_, String>(2), "É", "upper('é') under {ctype}");
        assert_eq!(row.get::<_, String>(3), "é", "lower('É') under {ctype}");
        // Text still sorts in code point order.
        assert!(row.get::<_, bool>(4), "code point order under {ctype}");
        assert_eq!(ctype_warning(&scratch.cluster, port), None);
        drop(fresh);
        drop(client);
        assert!(scratch.cluster.stop().unwrap());
    }

    /// The words of `node`'s line in a `db status` table.
    fn role_of(table: &[String], node: &str) -> Vec<String> {
        let line = table
            .iter()
            .find(|l| l.starts_with(node))
            .unwrap_or_else(|| panic!("no {node} line in {table:#?}"));
        line.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn a_cluster_gets_a_standby_and_pgbouncer_and_stop_stops_them_all() {
        let mut scratch = ScratchCluster::new("replicas");
        let cluster = &mut scratch.cluster;
        let primary = cluster.start().unwrap().port();
        let standbys = cluster.start_standbys(1).unwrap();
        assert!(
            matches!(
                standbys.as_slice(),
                [(1, _, Started::Now { created: true, .. })]
            ),
            "{standbys:?}"
        );
        let (bouncer, now) = cluster.start_pgbouncer().unwrap();
        assert!(now);
        let mut through =
            ignis_tx::postgres::Client::connect(&local_url(bouncer), ignis_tx::postgres::NoTls)
                .unwrap();
        let port: i32 = through
            .query_one("SELECT current_setting('port')::int", &[])
            .unwrap()
            .get(0);
        assert_eq!(port, i32::from(primary));
        drop(through);

        // `db status`: one line per node with its role.
        let table = node_table(cluster, &cluster.status().unwrap());
        assert!(table[0].starts_with("node"), "{table:#?}");
        let line = role_of(&table, "primary");
        assert_eq!(&line[1..4], [&primary.to_string(), "running", "primary"]);
        let line = role_of(&table, "standby 1");
        assert_eq!(&line[3..5], ["running", "standby"], "{table:#?}");
        assert!(table
            .iter()
            .any(|l| l.starts_with("pgbouncer") && l.contains("pooler")));

        // `db promote 1`, then `db start --replicas 1` makes it a standby again.
        let promoted = cluster.promote(1).unwrap();
        let line = role_of(
            &node_table(cluster, &cluster.status().unwrap()),
            "standby 1",
        );
        assert_eq!(&line[2..5], [&promoted.to_string(), "running", "primary"]);
        let again = cluster.start_standbys(1).unwrap();
        assert!(
            matches!(
                again.as_slice(),
                [(1, _, Started::Now { created: true, .. })]
            ),
            "{again:?}"
        );
        let line = role_of(
            &node_table(cluster, &cluster.status().unwrap()),
            "standby 1",
        );
        assert_eq!(line[4], "standby");

        // `db stop` stops everything it started.
        let stopped = cluster.stop_all().unwrap();
        assert_eq!(
            stopped,
            ignis_cluster::Stopped {
                pgbouncer: true,
                standbys: vec![1],
                primary: true
            }
        );
        assert!(cluster.status().unwrap().iter().all(|s| !s.running));
    }

    #[test]
    fn local_url_parses_and_has_no_password() {
        let url = local_url(54321);
        let config = DataSourceConfig::from_url(&url).unwrap();
        assert_eq!(config.port, 54321);
        assert_eq!(config.host, "127.0.0.1");
        assert_eq!(
            config.redacted(),
            "postgresql://postgres@127.0.0.1:54321/postgres"
        );
    }
}
