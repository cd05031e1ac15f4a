//! The workspace's local cluster (`target/ignis-pg`), its standbys and its PgBouncer: what
//! `cargo xtask db` manages.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{ClusterError, Result};
use crate::node::{node_in, settings_with, PgNode, StopMode, DB_USER};
use crate::pgbouncer::{bouncer_in, Bouncer};
use crate::process::{
    chmod, create_dir_all, fnv1a, free_port, log_tail, poll, port_is_free, ServerTools,
    SERVER_OS_USER,
};
use crate::status::{
    bouncer_status, connect, standby_application_name, statuses, NodeId, NodeStatus,
};
use crate::topology::wait_writable;

/// Longest Unix socket path Postgres accepts (`sizeof(sun_path) - 1`).
const SOCKET_PATH_MAX: usize = 107;

/// How long a standby of the local cluster may take to stream after it starts.
const STREAM_TIMEOUT: Duration = Duration::from_secs(30);

/// What [`LocalCluster::start`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// The server was already running on this port.
    AlreadyRunning(u16),
    /// The server was started now (`created`: and initialized now).
    Now {
        /// Its port.
        port: u16,
        /// Whether `initdb` ran now.
        created: bool,
    },
}

impl Started {
    /// The port the server runs on.
    pub fn port(self) -> u16 {
        match self {
            Started::AlreadyRunning(port) | Started::Now { port, .. } => port,
        }
    }
}

/// What [`LocalCluster::stop_all`] stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stopped {
    /// PgBouncer was running and was stopped.
    pub pgbouncer: bool,
    /// The standbys that were running and were stopped.
    pub standbys: Vec<usize>,
    /// The primary was running and was stopped.
    pub primary: bool,
}

/// The local cluster of a workspace: one primary under `<workspace>/target/ignis-pg/` (or a
/// state directory of the caller's choice), standbys `standby-<n>/` beside its data, and
/// PgBouncer in `pgbouncer/`. Unlike a [`crate::Topology`] it outlives the process: `cargo
/// xtask db start` leaves it running for every later command and test run.
///
/// # Layout
/// In the state directory (`target/ignis-pg/`):
/// - `data/`: the primary (`initdb -U postgres --auth=trust -E UTF8 --locale=C.UTF-8` on first
///   start; see [Locale](#locale));
/// - `postgres.log`: its log (`pg_ctl -l`);
/// - `port`: its TCP port, chosen free on first start and reused afterwards (a new one is
///   chosen, with a warning, only if another process took it while the cluster was stopped);
/// - `sock/`: its Unix socket directory, unless its path would exceed the 107-byte limit of a
///   Unix socket path: then `/tmp/ignis-pg-sock-<hash of the workspace path>`;
/// - `standby-<n>/` (`data/`, `postgres.log`, `port`): streaming standby `n`, made with
///   `pg_basebackup -R` from the primary, TCP only;
/// - `pgbouncer/` (`pgbouncer.ini`, `userlist.txt`, `pgbouncer.log`, `pgbouncer.pid`):
///   PgBouncer in transaction pooling mode in front of the primary;
/// - `lock`: held while starting, stopping or promoting, so concurrent commands do not race.
///
/// Every server listens on `127.0.0.1` only, with `trust` authentication for the `postgres`
/// user: a throwaway development database, not reachable from other machines.
///
/// # Locale
/// A new cluster gets the first UTF-8 locale `initdb` accepts, `C.UTF-8` (which glibc and musl
/// provide) or else `en_US.UTF-8`, for every category ([`crate::CLUSTER_LOCALES`]). Its
/// `LC_CTYPE` makes `ilike`, `upper` and `lower` fold non-ASCII letters (`'émile%'` matches
/// `Émile`) as on a Debian or Ubuntu server; `C.UTF-8` sorts text in code point order, which
/// for UTF-8 is the byte order of `C`. When `initdb` accepts neither, the cluster uses `C` and a
/// warning ([`LocalCluster::take_warnings`]) says that case folding is then ASCII only.
///
/// # Running as root
/// Postgres and PgBouncer refuse to run as root. When the effective uid is 0 they run as the
/// `postgres` OS user (`runuser -u postgres --`, or `su postgres -s /bin/sh -c` without
/// `runuser`), and the state directory is given to that user (`chown -R`). If that user cannot
/// reach it (a parent directory such as `/root` with mode 700), the cluster's files go to
/// `/tmp/ignis-pg-<hash of the workspace path>` instead, owned by `postgres` with mode 700, and
/// `<state>/cluster-dir` records that location.
#[derive(Debug)]
pub struct LocalCluster {
    /// Paths inside it are displayed relative to it.
    root: PathBuf,
    /// The state directory: port file, lock, and (usually) the cluster itself.
    state: PathBuf,
    /// Where the servers' files live: `state`, or a directory under /tmp when the `postgres`
    /// OS user cannot reach `state`.
    home: PathBuf,
    /// What names the folders under /tmp: the workspace root for the default state directory.
    hash_key: PathBuf,
    tools: ServerTools,
    warnings: Vec<String>,
}

impl LocalCluster {
    /// The cluster of the workspace at `root` (`root/target/ignis-pg`), not created or started.
    ///
    /// # Errors
    /// [`ClusterError::Missing`] when the server binaries (or, as root, the `postgres` OS user)
    /// are missing.
    pub fn open(root: &Path) -> Result<LocalCluster> {
        let state = root.join("target").join("ignis-pg");
        LocalCluster::open_dir(root, &state)
    }

    /// A cluster whose state directory is `state` (paths shown relative to `root`), not
    /// created or started: a second cluster beside the workspace's, for example.
    ///
    /// # Errors
    /// As [`LocalCluster::open`].
    pub fn open_dir(root: &Path, state: &Path) -> Result<LocalCluster> {
        let home = match fs::read_to_string(state.join("cluster-dir")) {
            Ok(text) if !text.trim().is_empty() => PathBuf::from(text.trim()),
            _ => state.to_path_buf(),
        };
        let hash_key = if state == root.join("target").join("ignis-pg") {
            root.to_path_buf()
        } else {
            state.to_path_buf()
        };
        Ok(LocalCluster {
            root: root.to_path_buf(),
            state: state.to_path_buf(),
            home,
            hash_key,
            tools: ServerTools::detect()?,
            warnings: Vec::new(),
        })
    }

    /// The server binaries and how they are run.
    pub fn tools(&self) -> &ServerTools {
        &self.tools
    }

    /// The state directory (`target/ignis-pg`).
    pub fn state_dir(&self) -> &Path {
        &self.state
    }

    /// Where the servers' files live: the state directory, or the folder under /tmp that
    /// `cluster-dir` names.
    pub fn home_dir(&self) -> &Path {
        &self.home
    }

    /// The primary's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.home.join("data")
    }

    /// The primary's log.
    pub fn log_file(&self) -> PathBuf {
        self.home.join("postgres.log")
    }

    /// `path` relative to the workspace root when inside it.
    pub fn display(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// Warnings gathered since the last call (a locale `initdb` refused, a port taken by
    /// another process), for the caller to show.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn port_file(&self) -> PathBuf {
        self.state.join("port")
    }

    fn primary(&self) -> PgNode {
        PgNode {
            data: self.data_dir(),
            log: self.log_file(),
            socket: Some(self.socket_dir()),
        }
    }

    fn standby_dir(&self, n: usize) -> PathBuf {
        self.home.join(format!("standby-{n}"))
    }

    fn standby(&self, n: usize) -> PgNode {
        node_in(&self.standby_dir(n), None)
    }

    fn bouncer(&self) -> Bouncer {
        bouncer_in(&self.home.join("pgbouncer"))
    }

    /// Whether the primary's data directory holds a cluster.
    pub fn initialized(&self) -> bool {
        self.primary().initialized()
    }

    /// The server's major version, from the cluster's `PG_VERSION`.
    pub fn version(&self) -> String {
        self.primary().version()
    }

    /// The socket directory: `sock/` in the cluster's folder, or one under /tmp when that path
    /// would be too long for a Unix socket.
    pub fn socket_dir(&self) -> PathBuf {
        let local = self.home.join("sock");
        let longest = local.join(".s.PGSQL.65535");
        if longest.as_os_str().len() <= SOCKET_PATH_MAX {
            local
        } else {
            PathBuf::from(format!(
                "/tmp/ignis-pg-sock-{:016x}",
                fnv1a(self.hash_key.as_os_str())
            ))
        }
    }

    /// The primary's port as recorded in the `port` file, if any.
    ///
    /// # Errors
    /// [`ClusterError::Invalid`] when the file holds no port number; [`ClusterError::Io`] when
    /// it cannot be read.
    pub fn recorded_port(&self) -> Result<Option<u16>> {
        read_port(&self.port_file())
    }

    /// The port the primary is running on, or `None` when it is stopped (or not created).
    ///
    /// # Errors
    /// `pg_ctl status` cannot be run or fails unexpectedly.
    pub fn running_port(&self) -> Result<Option<u16>> {
        let primary = self.primary();
        if !primary.initialized() {
            return Ok(None);
        }
        let Some(port) = primary.running_port(&self.tools)? else {
            return Ok(None);
        };
        if port != 0 {
            return Ok(Some(port));
        }
        Ok(self.recorded_port()?.or(Some(port)))
    }

    /// The port of the running primary.
    ///
    /// # Errors
    /// [`ClusterError::Invalid`] saying how to start it when it is stopped.
    pub fn current_port(&self) -> Result<u16> {
        self.running_port()?.ok_or_else(|| {
            ClusterError::Invalid("the local cluster is not running: `cargo xtask db start`".into())
        })
    }

    /// Starts the primary, creating it on first use. Idempotent.
    ///
    /// # Errors
    /// `initdb` or `pg_ctl start` fails (the message has the end of the server log), or the
    /// state directory cannot be prepared.
    pub fn start(&mut self) -> Result<Started> {
        create_dir_all(&self.state)?;
        let _lock = self.lock()?;
        if let Some(port) = self.running_port()? {
            return Ok(Started::AlreadyRunning(port));
        }
        let mut created = false;
        if !self.initialized() {
            if let Some(home) = self.prepare_home()? {
                self.home = home;
            }
            if !self.initialized() {
                let initdb = self.primary().initdb(&self.tools, false)?;
                tracing::info!(locale = initdb.locale, "local cluster created");
                self.warnings.extend(initdb.warning);
                created = true;
            }
        }
        let primary = self.primary();
        if primary.ensure_replication_hba()? {
            tracing::info!("added a replication line for 127.0.0.1 to pg_hba.conf");
        }
        let port = self.choose_port()?;
        primary.start(&self.tools, port, &node_settings())?;
        Ok(Started::Now { port, created })
    }

    /// Holds `<state>/lock` until dropped.
    fn lock(&self) -> Result<fs::File> {
        let path = self.state.join("lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| ClusterError::io("open", &path, e))?;
        file.lock()
            .map_err(|e| ClusterError::io("lock", &path, e))?;
        Ok(file)
    }

    /// Before the first initdb: when running as root, gives the state directory to the
    /// `postgres` user, and if that user cannot reach it, moves the cluster to a folder under
    /// /tmp (returned, and recorded in `cluster-dir`).
    fn prepare_home(&mut self) -> Result<Option<PathBuf>> {
        if !self.tools.runs_as_server_user() {
            create_dir_all(&self.home)?;
            return Ok(None);
        }
        if self.home == self.state {
            self.tools.give_to_server_user(&self.state)?;
            if self.tools.server_can_use(&self.state)? {
                return Ok(None);
            }
        }
        let home = PathBuf::from(format!(
            "/tmp/ignis-pg-{:016x}",
            fnv1a(self.hash_key.as_os_str())
        ));
        if home != self.home {
            self.warnings.push(format!(
                "note: the `{SERVER_OS_USER}` OS user cannot reach {} (a parent folder is not \
                 traversable); the cluster goes to {} instead",
                self.state.display(),
                home.display()
            ));
        }
        create_dir_all(&home)?;
        chmod(&home, 0o700)?;
        self.tools.give_to_server_user(&home)?;
        if !self.tools.server_can_use(&home)? {
            return Err(ClusterError::Invalid(format!(
                "the `{SERVER_OS_USER}` OS user cannot write to {} either",
                home.display()
            )));
        }
        let record = self.state.join("cluster-dir");
        fs::write(&record, format!("{}\n", home.display()))
            .map_err(|e| ClusterError::io("write", &record, e))?;
        Ok(Some(home))
    }

    /// The recorded port if it is still free, else a new free one (recorded).
    fn choose_port(&mut self) -> Result<u16> {
        let file = self.port_file();
        let port = choose_port(&file, &mut self.warnings, "the local cluster")?;
        Ok(port)
    }

    /// Stops the primary (`pg_ctl stop -m fast`); `false` when it was not running.
    ///
    /// # Errors
    /// `pg_ctl stop` fails.
    pub fn stop(&self) -> Result<bool> {
        if !self.state.exists() || !self.initialized() {
            return Ok(false);
        }
        let _lock = self.lock()?;
        self.primary().stop(&self.tools, StopMode::Fast)
    }

    /// Stops PgBouncer, every standby, then the primary (fast), and says which were running.
    ///
    /// # Errors
    /// The first failure; every node is still asked to stop.
    pub fn stop_all(&self) -> Result<Stopped> {
        let mut stopped = Stopped::default();
        if !self.state.exists() {
            return Ok(stopped);
        }
        let _lock = self.lock()?;
        let mut first_error = None;
        match self.bouncer().stop() {
            Ok(was) => stopped.pgbouncer = was,
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
        for n in self.standbys() {
            match self.standby(n).stop(&self.tools, StopMode::Fast) {
                Ok(true) => stopped.standbys.push(n),
                Ok(false) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if self.initialized() {
            match self.primary().stop(&self.tools, StopMode::Fast) {
                Ok(was) => stopped.primary = was,
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(stopped), Err)
    }

    /// The numbers of the standbys that exist (`standby-<n>/` holding a data directory),
    /// ascending.
    pub fn standbys(&self) -> Vec<usize> {
        let mut found: Vec<usize> = fs::read_dir(&self.home)
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| {
                        e.file_name()
                            .to_string_lossy()
                            .strip_prefix("standby-")
                            .and_then(|n| n.parse().ok())
                    })
                    .filter(|n| self.standby(*n).initialized())
                    .collect()
            })
            .unwrap_or_default();
        found.sort_unstable();
        found
    }

    /// Starts standbys 1 to `count` of the running primary: each one that exists is started
    /// (if stopped) and one that does not exist, or that was promoted and no longer follows
    /// the primary, is made anew with `pg_basebackup -R`; returns once each streams (one that
    /// cannot catch up, because the primary no longer has the WAL it needs, is made anew).
    /// Returns `(n, port, what happened)` per standby.
    ///
    /// # Errors
    /// [`ClusterError::Invalid`] when the primary is not running; a failing `pg_basebackup`
    /// or `pg_ctl start` (with the end of the standby's log).
    pub fn start_standbys(&mut self, count: usize) -> Result<Vec<(usize, u16, Started)>> {
        let primary_port = self.current_port()?;
        let _lock = self.lock()?;
        let primary = self.primary();
        if primary.ensure_replication_hba()? {
            primary.reload(&self.tools)?;
        }
        let mut out = Vec::new();
        for n in 1..=count {
            let node = self.standby(n);
            if node.initialized() && !node.is_standby_dir() {
                // Promoted earlier: it no longer follows the primary.
                node.stop(&self.tools, StopMode::Fast)?;
                self.warnings.push(format!(
                    "standby {n} had been promoted; making it anew from the primary"
                ));
            }
            let mut created = false;
            if !node.initialized() || !node.is_standby_dir() {
                self.make_standby(n, primary_port)?;
                created = true;
            }
            if let Some(port) = node.running_port(&self.tools)? {
                out.push((n, port, Started::AlreadyRunning(port)));
                continue;
            }
            let port_file = self.standby_dir(n).join("port");
            let port = choose_port(&port_file, &mut self.warnings, &format!("standby {n}"))?;
            node.start(&self.tools, port, &node_settings())?;
            if !created && wait_streaming(primary_port, n, STREAM_TIMEOUT).is_err() {
                self.warnings.push(format!(
                    "standby {n} does not stream from the primary (end of its log:\n{}\n); \
                     making it anew",
                    log_tail(&node.log, 5)
                ));
                node.stop(&self.tools, StopMode::Immediate)?;
                self.make_standby(n, primary_port)?;
                node.start(&self.tools, port, &node_settings())?;
                created = true;
            }
            if created {
                wait_streaming(primary_port, n, STREAM_TIMEOUT).map_err(|e| {
                    ClusterError::Command(format!(
                        "{e}\nend of {}:\n{}",
                        node.log.display(),
                        log_tail(&node.log, 20)
                    ))
                })?;
            }
            out.push((n, port, Started::Now { port, created }));
        }
        Ok(out)
    }

    /// `pg_basebackup -R` of the primary into `standby-<n>/data` (replacing what is there).
    fn make_standby(&self, n: usize, primary_port: u16) -> Result<()> {
        let dir = self.standby_dir(n);
        create_dir_all(&dir)?;
        self.tools.give_to_server_user(&dir)?;
        self.standby(n).base_backup(
            &self.tools,
            primary_port,
            &standby_application_name(n),
            false,
        )
    }

    /// The port standby `n` runs on; `None` when it is stopped or does not exist.
    ///
    /// # Errors
    /// `pg_ctl status` cannot be run.
    pub fn standby_port(&self, n: usize) -> Result<Option<u16>> {
        self.standby(n).running_port(&self.tools)
    }

    /// Starts PgBouncer in front of the running primary (configuration rewritten for the
    /// primary's current port); returns its port and whether it was started now.
    ///
    /// # Errors
    /// [`ClusterError::Invalid`] when the primary is not running; [`ClusterError::Missing`]
    /// when PgBouncer is not installed; a PgBouncer that does not start or listen.
    pub fn start_pgbouncer(&mut self) -> Result<(u16, bool)> {
        let primary_port = self.current_port()?;
        let _lock = self.lock()?;
        let bouncer = self.bouncer();
        if bouncer.running_pid().is_some() {
            if let Some(port) = bouncer.configured_port() {
                return Ok((port, false));
            }
        }
        self.tools.pgbouncer()?;
        let port = match bouncer.configured_port() {
            Some(port) if port_is_free(port) => port,
            Some(port) => {
                let new = free_port()?;
                self.warnings.push(format!(
                    "warning: port {port} of PgBouncer is taken by another process; using port \
                     {new} from now on"
                ));
                new
            }
            None => free_port()?,
        };
        bouncer.configure(&self.tools, port, primary_port)?;
        bouncer.start(&self.tools, port, Duration::from_secs(30))?;
        Ok((port, true))
    }

    /// PgBouncer's port while it runs, else `None`.
    pub fn pgbouncer_port(&self) -> Option<u16> {
        let bouncer = self.bouncer();
        bouncer.running_pid()?;
        bouncer.configured_port()
    }

    /// Promotes running standby `n` (`pg_ctl promote -w`) and waits until it accepts writes
    /// (at most a minute). It then no longer follows the primary; `start_standbys` makes it
    /// anew.
    ///
    /// # Errors
    /// [`ClusterError::Invalid`] when standby `n` does not exist, is stopped or is no longer a
    /// standby; a failing `pg_ctl promote`; [`ClusterError::Timeout`].
    pub fn promote(&self, n: usize) -> Result<u16> {
        let node = self.standby(n);
        if !node.initialized() {
            return Err(ClusterError::Invalid(format!(
                "there is no standby {n}: `cargo xtask db start --replicas {n}` creates it"
            )));
        }
        if !node.is_standby_dir() {
            return Err(ClusterError::Invalid(format!(
                "standby {n} was already promoted"
            )));
        }
        let _lock = self.lock()?;
        let port = node.running_port(&self.tools)?.ok_or_else(|| {
            ClusterError::Invalid(format!(
                "standby {n} is stopped: `cargo xtask db start --replicas {n}` starts it"
            ))
        })?;
        node.promote(&self.tools)?;
        wait_writable(port, Duration::from_secs(60))?;
        Ok(port)
    }

    /// Every node: the primary (with its recorded port when stopped), each standby that
    /// exists, and PgBouncer when it was ever started; see [`NodeStatus`].
    ///
    /// # Errors
    /// `pg_ctl status` cannot be run, or a port file holds no number.
    pub fn status(&self) -> Result<Vec<NodeStatus>> {
        let mut nodes = Vec::new();
        let running = self.running_port()?;
        let port = match running {
            Some(port) => Some(port),
            None => self.recorded_port()?,
        };
        nodes.push((NodeId::Primary, port, running.is_some()));
        for n in self.standbys() {
            let running = self.standby_port(n)?;
            let port = match running {
                Some(port) => Some(port),
                None => read_port(&self.standby_dir(n).join("port"))?,
            };
            nodes.push((NodeId::Standby(n), port, running.is_some()));
        }
        let mut out = statuses(&nodes);
        let bouncer = self.bouncer();
        if bouncer.ini().is_file() {
            out.push(bouncer_status(&bouncer, bouncer.configured_port()));
        }
        Ok(out)
    }

    /// The log of `node`.
    pub fn node_log(&self, node: NodeId) -> PathBuf {
        match node {
            NodeId::Primary => self.log_file(),
            NodeId::Standby(n) => self.standby(n).log,
            NodeId::PgBouncer => self.bouncer().log(),
        }
    }

    /// The `LC_CTYPE` of `template1` (which every new database copies) on the running primary
    /// on `port`; `None` when the server cannot be asked.
    pub fn template1_ctype(&self, port: u16) -> Option<String> {
        let mut client = connect(port, Duration::from_secs(5))
            .map_err(|e| tracing::debug!("cannot ask the local cluster for its locale: {e}"))
            .ok()?;
        let row = client
            .query_opt(
                "SELECT datctype::text FROM pg_database WHERE datname = 'template1'",
                &[],
            )
            .map_err(|e| tracing::debug!("cannot read template1's locale: {e}"))
            .ok()??;
        row.try_get(0).ok()
    }

    /// psql: next to the server binaries, else on PATH.
    ///
    /// # Errors
    /// [`ClusterError::Missing`] when there is none.
    pub fn psql(&self) -> Result<PathBuf> {
        self.tools.psql()
    }
}

/// The settings every node of the local cluster starts with.
fn node_settings() -> Vec<(String, String)> {
    settings_with(&[("wal_keep_size".to_string(), "256MB".to_string())])
}

/// The port recorded in `file`, if any.
fn read_port(file: &Path) -> Result<Option<u16>> {
    match fs::read_to_string(file) {
        Ok(text) => text.trim().parse().map(Some).map_err(|_| {
            ClusterError::Invalid(format!(
                "{} does not hold a port number: {text:?}",
                file.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ClusterError::io("read", file, e)),
    }
}

/// The port recorded in `file` if it is still free, else a new free one (recorded, with a
/// warning when another process took the old one).
fn choose_port(file: &Path, warnings: &mut Vec<String>, what: &str) -> Result<u16> {
    let record = |port: u16| {
        fs::write(file, format!("{port}\n")).map_err(|e| ClusterError::io("write", file, e))
    };
    if let Some(port) = read_port(file)? {
        if port_is_free(port) {
            return Ok(port);
        }
        let new = free_port()?;
        warnings.push(format!(
            "warning: port {port} of {what} is taken by another process; using port {new} from \
             now on"
        ));
        record(new)?;
        return Ok(new);
    }
    let port = free_port()?;
    record(port)?;
    Ok(port)
}

/// Waits until standby `n` streams from the primary on `primary_port`.
fn wait_streaming(primary_port: u16, n: usize, timeout: Duration) -> Result<()> {
    let name = standby_application_name(n);
    let seen = poll(timeout, || {
        let mut client = connect(primary_port, Duration::from_secs(3)).ok()?;
        let row = client
            .query_opt(
                "SELECT 1 FROM pg_stat_replication \
                 WHERE application_name = $1 AND state = 'streaming'",
                &[&name],
            )
            .ok()?;
        row.map(|_| ())
    });
    seen.ok_or_else(|| ClusterError::Timeout {
        what: format!("standby {n} ({DB_USER} replication as {name}) to stream from the primary"),
        waited: timeout,
    })
}
