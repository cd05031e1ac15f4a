//! `cargo xtask db ...`: one local PostgreSQL cluster for development and tests, and the database
//! resolution that every command needing a database shares ([`resolve`]).
//!
//! # Layout
//! Everything lives under `<workspace>/target/ignis-pg/` (so `cargo clean` removes it):
//! - `data/`: the cluster (`initdb -U postgres --auth=trust -E UTF8 --locale=C.UTF-8` on first
//!   start; see [Locale](#locale));
//! - `postgres.log`: the server log (`pg_ctl -l`);
//! - `port`: the TCP port, chosen free on first start and reused afterwards (a new one is chosen,
//!   with a warning, only if another process took it while the cluster was stopped);
//! - `sock/`: the Unix socket directory, unless its path would exceed the 107-byte limit of a
//!   Unix socket path: then `/tmp/ignis-pg-sock-<hash of the workspace path>`;
//! - `lock`: held while starting or stopping, so concurrent commands do not race `initdb`.
//!
//! The server listens on `127.0.0.1` only, with `trust` authentication for the `postgres` user:
//! it is a throwaway development database, not reachable from other machines.
//!
//! # Locale
//! A new cluster gets the first UTF-8 locale `initdb` accepts, `C.UTF-8` (which glibc and musl
//! provide) or else `en_US.UTF-8`, for every category. Its `LC_CTYPE` makes `ilike`, `upper` and
//! `lower` fold non-ASCII letters (`'émile%'` matches `Émile`) as on a Debian or Ubuntu server;
//! `C.UTF-8` sorts text in code point order, which for UTF-8 is the byte order of `C`. When
//! `initdb` accepts neither, the cluster uses `C` and a warning says that case folding is then
//! ASCII only. A cluster keeps the locale it was created with: `db start` and `db status` warn
//! when its `LC_CTYPE` is `C` or `POSIX`, and recreating it (stop, delete `target/ignis-pg` and
//! the folder `cluster-dir` names, start) gives it the UTF-8 locale.
//!
//! # Running as root
//! Postgres refuses to run as root. When the effective uid is 0, `initdb` and `pg_ctl` run as the
//! `postgres` OS user (`runuser -u postgres --`, or `su postgres -s /bin/sh -c` without
//! `runuser`), and `target/ignis-pg` is given to that user (`chown -R`). If that user cannot reach
//! `target/ignis-pg` (a parent directory such as `/root` with mode 700), the cluster's `data/`,
//! `postgres.log` and `sock/` go to `/tmp/ignis-pg-<hash of the workspace path>` instead, owned
//! by `postgres` with mode 700, and `target/ignis-pg/cluster-dir` records that location.

use std::error::Error;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::str::FromStr;
use std::time::Duration;

use ignis_tx::DataSourceConfig;

type Result<T, E = Box<dyn Error>> = std::result::Result<T, E>;

/// The OS user the server runs as when xtask runs as root.
const SERVER_OS_USER: &str = "postgres";
/// The database superuser `initdb` creates, and the user of the local URL.
const DB_USER: &str = "postgres";
/// Longest Unix socket path Postgres accepts (`sizeof(sun_path) - 1`).
const SOCKET_PATH_MAX: usize = 107;
/// The environment variables of the Ignis datasource settings.
const POSTGRES_VARS: &str = "POSTGRES_HOST/PORT/DATABASE/USER/PASSWORD";
/// The locales a new cluster is created with, the first that `initdb` accepts: UTF-8 locales,
/// so `ilike`, `upper` and `lower` fold non-ASCII letters as on a Debian or Ubuntu server.
/// `C.UTF-8` (glibc, musl) sorts text in code point order, the same order as `C`.
const CLUSTER_LOCALES: [&str; 2] = ["C.UTF-8", "en_US.UTF-8"];
/// The locale of a new cluster when `initdb` accepts none of [`CLUSTER_LOCALES`].
const FALLBACK_LOCALE: &str = "C";

/// The subcommands of `cargo xtask db`.
#[derive(Debug, clap::Subcommand)]
pub enum DbCommand {
    /// Start the local cluster (initdb on first start); does nothing if it is running.
    Start,
    /// Stop the local cluster (`pg_ctl stop -m fast`).
    Stop,
    /// Print whether the local cluster is running, and its port (exit code 3 when stopped).
    Status,
    /// Print the local cluster's URL (starting it if needed), e.g. for `psql "$(cargo xtask db url)"`.
    Url,
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

/// Runs a `cargo xtask db` subcommand; returns the process exit code.
///
/// # Errors
/// Server binaries not found, or a server command that failed (the message includes its output
/// and the end of the server log).
pub fn run(command: &DbCommand) -> Result<u8> {
    let mut cluster = Cluster::open()?;
    match command {
        DbCommand::Start => {
            match cluster.start()? {
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
                        cluster.display(&cluster.state)
                    );
                }
            }
            let port = cluster.current_port()?;
            println!("{}", local_url(port));
            if let Some(warning) = ctype_warning(&cluster, port) {
                eprintln!("{warning}");
            }
            Ok(0)
        }
        DbCommand::Stop => {
            if cluster.stop()? {
                println!("local Postgres stopped");
            } else {
                println!("local Postgres is not running");
            }
            Ok(0)
        }
        DbCommand::Status => match cluster.running_port()? {
            Some(port) => {
                println!(
                    "running: PostgreSQL {} on port {port}, {} (data {}, log {})",
                    cluster.version(),
                    local_url(port),
                    cluster.display(&cluster.data_dir()),
                    cluster.display(&cluster.log_file())
                );
                if let Some(warning) = ctype_warning(&cluster, port) {
                    eprintln!("{warning}");
                }
                Ok(0)
            }
            None if cluster.initialized() => {
                match cluster.recorded_port()? {
                    Some(port) => {
                        println!("stopped (port {port}); `cargo xtask db start` starts it")
                    }
                    None => println!("stopped; `cargo xtask db start` starts it"),
                }
                Ok(3)
            }
            None => {
                println!("stopped (not created yet); `cargo xtask db start` creates it");
                Ok(3)
            }
        },
        DbCommand::Url => {
            let port = cluster.ensure_running_quietly()?;
            println!("{}", local_url(port));
            Ok(0)
        }
        DbCommand::Psql { args } => {
            let port = cluster.ensure_running_quietly()?;
            let psql = cluster.psql()?;
            let mut cmd = Command::new(&psql);
            cmd.arg("--dbname").arg(local_url(port)).args(args);
            // Replace this process, so psql owns the terminal and Ctrl-C.
            let err = cmd.exec();
            Err(format!("cannot run {}: {err}", psql.display()).into())
        }
    }
}

/// Whether an `LC_CTYPE` value folds ASCII letters only (`C`, `POSIX`): Postgres then leaves
/// `É` and `é` apart in `ilike`, `upper` and `lower`.
fn ctype_folds_ascii_only(ctype: &str) -> bool {
    matches!(ctype, "C" | "POSIX")
}

/// A warning when the running local cluster on `port` creates databases whose `LC_CTYPE` folds
/// ASCII letters only (a cluster made by `initdb --locale=C`), saying how to recreate it; `None`
/// when it folds, or when the server cannot be asked (this is advice, never an error).
fn ctype_warning(cluster: &Cluster, port: u16) -> Option<String> {
    let mut config = ignis_tx::postgres::Config::from_str(&local_url(port)).ok()?;
    config.connect_timeout(Duration::from_secs(5));
    let mut client = config
        .connect(ignis_tx::postgres::NoTls)
        .map_err(|e| tracing::debug!("cannot ask the local cluster for its locale: {e}"))
        .ok()?;
    // New databases (every test's) copy template1's locale.
    let row = client
        .query_opt(
            "SELECT datctype::text FROM pg_database WHERE datname = 'template1'",
            &[],
        )
        .map_err(|e| tracing::debug!("cannot read template1's locale: {e}"))
        .ok()??;
    let ctype: String = row.try_get(0).ok()?;
    if !ctype_folds_ascii_only(&ctype) {
        return None;
    }
    let mut delete = cluster.display(&cluster.state);
    if cluster.home != cluster.state {
        delete = format!("{delete} and {}", cluster.home.display());
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
    let mut cluster = Cluster::open()?;
    let (port, how) = match cluster.start()? {
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
        cluster.display(&cluster.state)
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

/// What [`Cluster::start`] did.
enum Started {
    /// The server was already running on this port.
    AlreadyRunning(u16),
    /// The server was started now (`created`: and initialized now).
    Now { port: u16, created: bool },
}

/// How server commands are run when xtask runs as root.
enum RunAs {
    /// `runuser -u postgres -- program args...`
    Runuser(PathBuf),
    /// `su postgres -s /bin/sh -c 'program args...'`
    Su(PathBuf),
}

/// The local cluster of this workspace.
struct Cluster {
    /// The workspace root (paths are displayed relative to it).
    root: PathBuf,
    /// `<workspace>/target/ignis-pg`: port file, lock, and (usually) the cluster itself.
    state: PathBuf,
    /// Where `data/`, `postgres.log` and `sock/` live: `state`, or a directory under /tmp when
    /// the `postgres` OS user cannot reach `state`.
    home: PathBuf,
    /// The directory of initdb, pg_ctl and postgres.
    bin: PathBuf,
    /// Set when running as root.
    run_as: Option<RunAs>,
}

impl Cluster {
    /// The cluster of this workspace (`target/ignis-pg`).
    fn open() -> Result<Cluster> {
        Cluster::open_at(workspace_root())
    }

    /// The cluster of the workspace at `root` (`root/target/ignis-pg`), not created or started.
    fn open_at(root: PathBuf) -> Result<Cluster> {
        let state = root.join("target").join("ignis-pg");
        let home = match fs::read_to_string(state.join("cluster-dir")) {
            Ok(text) if !text.trim().is_empty() => PathBuf::from(text.trim()),
            _ => state.clone(),
        };
        let bin = find_server_bin()?;
        let run_as = if effective_uid()? == 0 {
            Some(root_runner()?)
        } else {
            None
        };
        Ok(Cluster {
            root,
            state,
            home,
            bin,
            run_as,
        })
    }

    fn data_dir(&self) -> PathBuf {
        self.home.join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.home.join("postgres.log")
    }

    fn port_file(&self) -> PathBuf {
        self.state.join("port")
    }

    fn initialized(&self) -> bool {
        self.data_dir().join("PG_VERSION").is_file()
    }

    /// The server's major version, from the cluster's `PG_VERSION`.
    fn version(&self) -> String {
        fs::read_to_string(self.data_dir().join("PG_VERSION"))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|_| "(version unknown)".into())
    }

    /// `path` relative to the workspace root when inside it.
    fn display(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// The socket directory: `sock/` in the cluster's folder, or one under /tmp when that path
    /// would be too long for a Unix socket.
    fn socket_dir(&self) -> PathBuf {
        let local = self.home.join("sock");
        let longest = local.join(".s.PGSQL.65535");
        if longest.as_os_str().len() <= SOCKET_PATH_MAX {
            local
        } else {
            PathBuf::from(format!(
                "/tmp/ignis-pg-sock-{:016x}",
                fnv1a(self.root.as_os_str())
            ))
        }
    }

    fn recorded_port(&self) -> Result<Option<u16>> {
        match fs::read_to_string(self.port_file()) {
            Ok(text) => text.trim().parse().map(Some).map_err(|_| {
                format!(
                    "{} does not hold a port number: {text:?}",
                    self.port_file().display()
                )
                .into()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", self.port_file().display()).into()),
        }
    }

    /// The port the server is running on, or `None` when it is stopped (or not created).
    fn running_port(&self) -> Result<Option<u16>> {
        if !self.initialized() {
            return Ok(None);
        }
        let out = self.server_output(
            "pg_ctl",
            &[
                OsStr::new("status"),
                OsStr::new("-D"),
                self.data_dir().as_os_str(),
            ],
        )?;
        match out.status.code() {
            Some(0) => {}
            // 3: not running; 4: no accessible data directory.
            Some(3) | Some(4) => return Ok(None),
            _ => return Err(command_failed("pg_ctl status", &out).into()),
        }
        // The 4th line of postmaster.pid is the port the running server listens on.
        let from_pid = fs::read_to_string(self.data_dir().join("postmaster.pid"))
            .ok()
            .and_then(|pid| pid.lines().nth(3).and_then(|l| l.trim().parse().ok()));
        match from_pid {
            Some(port) => Ok(Some(port)),
            None => self.recorded_port(),
        }
    }

    /// The port of the running server; an error saying how to start it when stopped.
    fn current_port(&self) -> Result<u16> {
        self.running_port()?
            .ok_or_else(|| "the local cluster is not running: `cargo xtask db start`".into())
    }

    /// Starts the server if needed (messages on stderr) and returns its port.
    fn ensure_running_quietly(&mut self) -> Result<u16> {
        match self.start()? {
            Started::AlreadyRunning(port) => Ok(port),
            Started::Now { port, created } => {
                let what = if created {
                    "created and started"
                } else {
                    "started"
                };
                eprintln!(
                    "local Postgres {} {what} on port {port} ({})",
                    self.version(),
                    self.display(&self.state)
                );
                Ok(port)
            }
        }
    }

    /// Starts the cluster, creating it on first use. Idempotent.
    fn start(&mut self) -> Result<Started> {
        fs::create_dir_all(&self.state)
            .map_err(|e| format!("cannot create {}: {e}", self.state.display()))?;
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
                self.initdb()?;
                created = true;
            }
        }
        let port = self.choose_port()?;
        self.pg_ctl_start(port)?;
        Ok(Started::Now { port, created })
    }

    /// Holds `target/ignis-pg/lock` until dropped.
    fn lock(&self) -> Result<fs::File> {
        let path = self.state.join("lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        file.lock()
            .map_err(|e| format!("cannot lock {}: {e}", path.display()))?;
        Ok(file)
    }

    /// Before the first initdb: when running as root, gives `target/ignis-pg` to the `postgres`
    /// user, and if that user cannot reach it, moves the cluster to a folder under /tmp (returned,
    /// and recorded in `target/ignis-pg/cluster-dir`).
    fn prepare_home(&self) -> Result<Option<PathBuf>> {
        if self.run_as.is_none() {
            fs::create_dir_all(&self.home)
                .map_err(|e| format!("cannot create {}: {e}", self.home.display()))?;
            return Ok(None);
        }
        if self.home == self.state {
            chown_to_server_user(&self.state)?;
            if self.server_can_use(&self.state)? {
                return Ok(None);
            }
        }
        let home = PathBuf::from(format!(
            "/tmp/ignis-pg-{:016x}",
            fnv1a(self.root.as_os_str())
        ));
        if home != self.home {
            eprintln!(
                "note: the `{SERVER_OS_USER}` OS user cannot reach {} (a parent folder is not \
                 traversable); the cluster goes to {} instead",
                self.state.display(),
                home.display()
            );
        }
        fs::create_dir_all(&home).map_err(|e| format!("cannot create {}: {e}", home.display()))?;
        fs::set_permissions(&home, fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot chmod {}: {e}", home.display()))?;
        chown_to_server_user(&home)?;
        if !self.server_can_use(&home)? {
            return Err(format!(
                "the `{SERVER_OS_USER}` OS user cannot write to {} either",
                home.display()
            )
            .into());
        }
        let record = self.state.join("cluster-dir");
        fs::write(&record, format!("{}\n", home.display()))
            .map_err(|e| format!("cannot write {}: {e}", record.display()))?;
        Ok(Some(home))
    }

    /// Whether the server's OS user can write into and traverse `dir`.
    fn server_can_use(&self, dir: &Path) -> Result<bool> {
        let out = self.server_output_of(
            Path::new("/bin/sh"),
            &[
                OsStr::new("-c"),
                OsStr::new(r#"test -w "$1" && test -x "$1""#),
                OsStr::new("sh"),
                dir.as_os_str(),
            ],
        )?;
        Ok(out.status.success())
    }

    /// Creates the cluster with the first locale of [`CLUSTER_LOCALES`] that initdb accepts;
    /// when it accepts none, with the `C` locale and a warning that case folding is then ASCII
    /// only. Returns the locale used.
    fn initdb(&self) -> Result<&'static str> {
        let mut refused = Vec::new();
        for locale in CLUSTER_LOCALES {
            let out = self.initdb_with(locale)?;
            if out.status.success() {
                return Ok(locale);
            }
            refused.push(command_failed(&format!("initdb --locale={locale}"), &out));
        }
        let out = self.initdb_with(FALLBACK_LOCALE)?;
        if !out.status.success() {
            refused.push(command_failed(
                &format!("initdb --locale={FALLBACK_LOCALE}"),
                &out,
            ));
            return Err(refused.join("\n").into());
        }
        eprintln!(
            "warning: initdb accepted none of the locales {}, so the local cluster uses the `C` \
             locale: `ilike`, `upper` and `lower` fold ASCII letters only (install a UTF-8 locale, \
             e.g. the `locales` package, then recreate the cluster; see the README).\n{}",
            CLUSTER_LOCALES.join(", "),
            refused.join("\n")
        );
        Ok(FALLBACK_LOCALE)
    }

    /// One `initdb` run with `locale` (for every category) and UTF-8 encoding, into an empty
    /// `data/` (the remains of an interrupted or refused run are removed first).
    fn initdb_with(&self, locale: &str) -> Result<Output> {
        let data = self.data_dir();
        if data.exists() {
            // An earlier initdb was interrupted or refused: the folder is ours and holds no
            // cluster.
            fs::remove_dir_all(&data)
                .map_err(|e| format!("cannot remove the incomplete {}: {e}", data.display()))?;
        }
        let locale_arg = format!("--locale={locale}");
        self.server_output(
            "initdb",
            &[
                OsStr::new("-D"),
                data.as_os_str(),
                OsStr::new("-U"),
                OsStr::new(DB_USER),
                OsStr::new("--auth=trust"),
                OsStr::new("-E"),
                OsStr::new("UTF8"),
                OsStr::new(&locale_arg),
            ],
        )
    }

    /// The recorded port if it is still free, else a new free one (recorded).
    fn choose_port(&self) -> Result<u16> {
        if let Some(port) = self.recorded_port()? {
            if TcpListener::bind(("127.0.0.1", port)).is_ok() {
                return Ok(port);
            }
            let new = free_port()?;
            eprintln!(
                "warning: port {port} of the local cluster is taken by another process; using \
                 port {new} from now on"
            );
            self.record_port(new)?;
            return Ok(new);
        }
        let port = free_port()?;
        self.record_port(port)?;
        Ok(port)
    }

    fn record_port(&self, port: u16) -> Result<()> {
        fs::write(self.port_file(), format!("{port}\n"))
            .map_err(|e| format!("cannot write {}: {e}", self.port_file().display()).into())
    }

    fn pg_ctl_start(&self, port: u16) -> Result<()> {
        let sock = self.socket_dir();
        fs::create_dir_all(&sock).map_err(|e| format!("cannot create {}: {e}", sock.display()))?;
        fs::set_permissions(&sock, fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot chmod {}: {e}", sock.display()))?;
        if self.run_as.is_some() {
            chown_to_server_user(&sock)?;
        }
        // pg_ctl hands `-o` to a shell: quote the path.
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1",
            shell_quote(&sock.to_string_lossy())
        );
        let out = self.server_output(
            "pg_ctl",
            &[
                OsStr::new("-D"),
                self.data_dir().as_os_str(),
                OsStr::new("-l"),
                self.log_file().as_os_str(),
                OsStr::new("-o"),
                OsStr::new(&options),
                OsStr::new("-w"),
                OsStr::new("-s"),
                OsStr::new("start"),
            ],
        )?;
        if !out.status.success() {
            return Err(format!(
                "{}\nend of {}:\n{}",
                command_failed("pg_ctl start", &out),
                self.log_file().display(),
                log_tail(&self.log_file(), 20)
            )
            .into());
        }
        Ok(())
    }

    /// Stops the server; `false` when it was not running.
    fn stop(&self) -> Result<bool> {
        if !self.state.exists() || !self.initialized() {
            return Ok(false);
        }
        let _lock = self.lock()?;
        if self.running_port()?.is_none() {
            return Ok(false);
        }
        let out = self.server_output(
            "pg_ctl",
            &[
                OsStr::new("-D"),
                self.data_dir().as_os_str(),
                OsStr::new("-m"),
                OsStr::new("fast"),
                OsStr::new("-w"),
                OsStr::new("-s"),
                OsStr::new("stop"),
            ],
        )?;
        if !out.status.success() {
            return Err(command_failed("pg_ctl stop", &out).into());
        }
        Ok(true)
    }

    /// psql: next to the server binaries, else on PATH.
    fn psql(&self) -> Result<PathBuf> {
        let beside = self.bin.join("psql");
        if is_executable(&beside) {
            return Ok(beside);
        }
        which("psql").ok_or_else(|| {
            "psql not found (next to the server binaries or on PATH): install it with \
             `apt-get install postgresql-client`"
                .into()
        })
    }

    /// Runs a server binary (as the `postgres` OS user when root) and captures its output.
    fn server_output(&self, tool: &str, args: &[&OsStr]) -> Result<Output> {
        self.server_output_of(&self.bin.join(tool), args)
    }

    fn server_output_of(&self, program: &Path, args: &[&OsStr]) -> Result<Output> {
        let mut cmd = match &self.run_as {
            None => {
                let mut cmd = Command::new(program);
                cmd.args(args);
                cmd
            }
            Some(RunAs::Runuser(runuser)) => {
                let mut cmd = Command::new(runuser);
                cmd.args(["-u", SERVER_OS_USER, "--"])
                    .arg(program)
                    .args(args);
                cmd
            }
            Some(RunAs::Su(su)) => {
                let mut line = shell_quote(&program.to_string_lossy());
                for arg in args {
                    line.push(' ');
                    line.push_str(&shell_quote(&arg.to_string_lossy()));
                }
                let mut cmd = Command::new(su);
                cmd.args([SERVER_OS_USER, "-s", "/bin/sh", "-c"]).arg(line);
                cmd
            }
        };
        // A folder every user can enter (the server user may not reach the caller's cwd).
        cmd.current_dir("/");
        tracing::debug!(?cmd, "running");
        cmd.output()
            .map_err(|e| format!("cannot run {}: {e}", program.display()).into())
    }
}

/// The folder holding initdb, pg_ctl and postgres: where `initdb` on PATH really lives, else the
/// highest version under `/usr/lib/postgresql/*/bin`.
fn find_server_bin() -> Result<PathBuf> {
    let has_all = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|tool| is_executable(&dir.join(tool)))
    };
    if let Some(initdb) = which("initdb") {
        // /usr/local/bin/initdb may be a link into /usr/lib/postgresql/N/bin.
        let real_dir = fs::canonicalize(&initdb)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf));
        if let Some(dir) = real_dir.filter(|d| has_all(d)) {
            return Ok(dir);
        }
        if let Some(dir) = initdb.parent().filter(|d| has_all(d)) {
            return Ok(dir.to_path_buf());
        }
    }
    let mut best: Option<(Vec<u32>, PathBuf)> = None;
    if let Ok(entries) = fs::read_dir("/usr/lib/postgresql") {
        for entry in entries.flatten() {
            let bin = entry.path().join("bin");
            if !has_all(&bin) {
                continue;
            }
            let version: Vec<u32> = entry
                .file_name()
                .to_string_lossy()
                .split('.')
                .map(|n| n.parse().unwrap_or(0))
                .collect();
            if best.as_ref().is_none_or(|(v, _)| version > *v) {
                best = Some((version, bin));
            }
        }
    }
    best.map(|(_, bin)| bin).ok_or_else(|| {
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres) on PATH or under \
         /usr/lib/postgresql/*/bin. Install them: `sudo apt-get install postgresql` (Debian, \
         Ubuntu), `sudo dnf install postgresql-server` (Fedora), `brew install postgresql` \
         (macOS); or point DATABASE_URL at an existing server"
            .into()
    })
}

/// How to run server commands as the `postgres` OS user (we are root).
fn root_runner() -> Result<RunAs> {
    let exists = Command::new("id")
        .args(["-u", SERVER_OS_USER])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !exists {
        return Err(format!(
            "running as root, and Postgres refuses to run as root, but there is no \
             `{SERVER_OS_USER}` OS user to run it: install the server package \
             (`apt-get install postgresql` creates it), or `useradd --system {SERVER_OS_USER}`, \
             or run as a normal user"
        )
        .into());
    }
    if let Some(runuser) = which("runuser") {
        return Ok(RunAs::Runuser(runuser));
    }
    if let Some(su) = which("su") {
        return Ok(RunAs::Su(su));
    }
    Err(
        "running as root, but neither `runuser` nor `su` is available to run Postgres as the \
         `postgres` OS user"
            .into(),
    )
}

fn chown_to_server_user(path: &Path) -> Result<()> {
    let out = Command::new("chown")
        .arg("-R")
        .arg(format!("{SERVER_OS_USER}:"))
        .arg(path)
        .output()
        .map_err(|e| format!("cannot run chown: {e}"))?;
    if !out.status.success() {
        return Err(command_failed(&format!("chown -R {SERVER_OS_USER}"), &out).into());
    }
    Ok(())
}

/// The effective uid: from /proc/self/status, else `id -u`.
fn effective_uid() -> Result<u32> {
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        let euid = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().nth(1))
            .and_then(|id| id.parse().ok());
        if let Some(euid) = euid {
            return Ok(euid);
        }
    }
    let out = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| format!("cannot run `id -u`: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| "cannot tell the effective user id (`id -u` printed no number)".into())
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| format!("cannot find a free TCP port on 127.0.0.1: {e}"))?;
    Ok(listener.local_addr()?.port())
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// 64-bit FNV-1a: a stable name for per-workspace folders under /tmp.
fn fnv1a(bytes: &OsStr) -> u64 {
    bytes
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

/// Quotes `s` for /bin/sh.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn command_failed(what: &str, out: &Output) -> String {
    let mut msg = format!("{what} failed ({})", out.status);
    for stream in [&out.stderr, &out.stdout] {
        let text = String::from_utf8_lossy(stream);
        if !text.trim().is_empty() {
            msg.push_str(":\n");
            msg.push_str(text.trim_end());
        }
    }
    msg
}

fn log_tail(path: &Path, lines: usize) -> String {
    match fs::read_to_string(path) {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read it: {e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quote_survives_quotes_and_spaces() {
        assert_eq!(shell_quote("/a b/c"), "'/a b/c'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn fnv1a_is_stable() {
        // Folder names under /tmp must not change between builds or Rust versions.
        assert_eq!(fnv1a(OsStr::new("")), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(OsStr::new("a")), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn new_clusters_try_utf8_locales_before_c() {
        assert_eq!(CLUSTER_LOCALES[0], "C.UTF-8");
        assert!(CLUSTER_LOCALES
            .iter()
            .all(|l| l.ends_with(".UTF-8") && !ctype_folds_ascii_only(l)));
        assert!(ctype_folds_ascii_only(FALLBACK_LOCALE));
    }

    #[test]
    fn only_c_and_posix_ctypes_fold_ascii_only() {
        assert!(ctype_folds_ascii_only("C"));
        assert!(ctype_folds_ascii_only("POSIX"));
        for folds in ["C.UTF-8", "C.utf8", "en_US.UTF-8", "de_DE.utf8"] {
            assert!(!ctype_folds_ascii_only(folds), "{folds}");
        }
    }

    /// A cluster in a scratch workspace, stopped and deleted when dropped.
    struct ScratchCluster {
        root: PathBuf,
        cluster: Cluster,
    }

    impl Drop for ScratchCluster {
        fn drop(&mut self) {
            let _ = self.cluster.stop();
            if self.cluster.home != self.cluster.state {
                let _ = fs::remove_dir_all(&self.cluster.home);
            }
            let _ = fs::remove_dir_all(&self.root);
        }
    }

    #[test]
    fn a_new_cluster_folds_non_ascii_letters() {
        if let Err(e) = find_server_bin() {
            eprintln!("skipped: a new cluster cannot be created here: {e}");
            return;
        }
        let root = std::env::temp_dir().join(format!(
            "ignis-xtask-locale-{}-{:x}",
            std::process::id(),
            fnv1a(OsStr::new(&format!("{:?}", std::time::SystemTime::now())))
        ));
        fs::create_dir_all(root.join("target")).unwrap();
        let mut scratch = ScratchCluster {
            cluster: Cluster::open_at(root.clone()).unwrap(),
            root,
        };
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
