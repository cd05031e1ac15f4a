//! Where the database is and how the pool behaves: [`DataSourceConfig`] and [`PoolOptions`].

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::{Error, StatementMode};

/// Whether the connection uses TLS (libpq's `sslmode`).
///
/// This build connects without TLS (the `postgres` crate's `NoTls`): `Disable` and `Prefer` both
/// connect in plain text (as libpq's `prefer` does when the server offers no TLS), and `Require`
/// is refused by [`crate::DataSource::new`] with [`Error::Config`] rather than silently
/// connecting in plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SslMode {
    /// Never use TLS.
    Disable,
    /// Use TLS when available (the libpq default); plain text otherwise.
    #[default]
    Prefer,
    /// Always use TLS; refused by this build.
    Require,
}

impl SslMode {
    fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
        }
    }
}

/// Pool options. Defaults are documented per field; all durations are wall-clock times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolOptions {
    /// Most connections open at once. Default 10 (Ignis/`pg` pool default).
    pub max_size: u32,
    /// Idle connections the pool keeps open; `None` (default) = `max_size`, as r2d2.
    pub min_idle: Option<u32>,
    /// How long a checkout waits for a free connection before [`Error::PoolTimeout`], and the
    /// connect timeout of a new connection. Default 30 000 ms.
    pub connection_timeout: Duration,
    /// Idle connections above `min_idle` are closed after this long. Default 10 min.
    pub idle_timeout: Option<Duration>,
    /// Connections are closed after this long in the pool. Default 30 min.
    pub max_lifetime: Option<Duration>,
    /// Server-side `statement_timeout` for every statement of the pool's connections (set at
    /// connect time; a transaction can override it with `SET LOCAL`). Default `None` (the
    /// server's setting).
    pub statement_timeout: Option<Duration>,
    /// Prepared statements kept per connection, keyed by SQL text (least recently used evicted
    /// beyond it). Default 256.
    pub statement_cache_capacity: usize,
    /// A connection that sat idle in the pool longer than this is checked with an empty query
    /// (one round trip, waiting at most `connection_timeout`) before it is handed out; a dead
    /// one (server restarted, backend terminated) is discarded and the next or a new connection
    /// is tried, so the caller never sees its error. A connection returned more recently is
    /// handed out without the check, so a busy pool pays nothing (HikariCP's
    /// `aliveBypassWindowMs`, which is also 500 ms). `Duration::ZERO` checks every checkout;
    /// `Duration::MAX` never checks. Default 500 ms.
    pub idle_check_after: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_size: 10,
            min_idle: None,
            connection_timeout: Duration::from_millis(30_000),
            idle_timeout: Some(Duration::from_secs(600)),
            max_lifetime: Some(Duration::from_secs(1800)),
            statement_timeout: None,
            statement_cache_capacity: 256,
            idle_check_after: Duration::from_millis(500),
        }
    }
}

/// A server's address: host name, IP address or Unix socket directory, and port. Used for the
/// hosts after the first of a multi-host URL ([`DataSourceConfig::failover_hosts`]) and for
/// read replicas ([`DataSourceConfig::read_replicas`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// Host name, IP address, or a Unix socket directory (a path starting with `/`).
    pub host: String,
    /// TCP port (or the socket file's port suffix).
    pub port: u16,
}

impl HostPort {
    /// `host` and `port`.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        HostPort {
            host: host.into(),
            port,
        }
    }
}

impl fmt::Display for HostPort {
    /// `host:port`, `[v6addr]:port` for an IPv6 address.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Which server of a multi-host configuration a new connection accepts (libpq's
/// `target_session_attrs`): with `ReadWrite`, the hosts are tried in order and a server in
/// recovery (a standby) or otherwise read-only is passed over, so after a failover new
/// connections reach whichever host is the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TargetSessionAttrs {
    /// The first host that accepts the connection (libpq's default).
    #[default]
    Any,
    /// The first host whose sessions allow writes (`target_session_attrs=read-write`).
    ReadWrite,
}

/// How reads are routed to read replicas ([`DataSourceConfig::read_replicas`]): when a
/// replica counts as healthy, and how long a read waits for one to catch up with the
/// caller's last write. Durations are wall-clock times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaOptions {
    /// A replica further behind the primary than this (measured to within `recheck_after`:
    /// the age of the oldest primary WAL position it has not replayed) is skipped until it
    /// catches up. Default 5 s.
    pub max_lag: Duration,
    /// A replica whose replayed WAL position is more than this many bytes behind the
    /// primary's (at the last check) is skipped until it catches up. `None`: no byte bound.
    /// Default 16 MiB.
    pub max_lag_bytes: Option<u64>,
    /// How often a background thread checks every replica (one query per replica and one on
    /// the primary per round; nothing on the read path). A replica that is down, lagging or
    /// no longer in recovery is skipped until a check finds it healthy again. Default 1 s.
    pub recheck_after: Duration,
    /// How long a read that must see the calling thread's last write waits for a replica to
    /// replay it before it reads from the primary instead. Default 100 ms.
    pub read_your_writes_wait: Duration,
    /// Connect timeout of replica connections, and how long a read waits for a free
    /// connection of a replica's pool before it tries another replica or the primary.
    /// Default 2 s.
    pub connect_timeout: Duration,
}

impl Default for ReplicaOptions {
    fn default() -> Self {
        ReplicaOptions {
            max_lag: Duration::from_secs(5),
            max_lag_bytes: Some(16 << 20),
            recheck_after: Duration::from_secs(1),
            read_your_writes_wait: Duration::from_millis(100),
            connect_timeout: Duration::from_secs(2),
        }
    }
}

/// Where the database is: the Ignis datasource settings (`host`, `port`, `database`, `user`,
/// `password`) plus TLS mode, `application_name` and pool options.
///
/// Its `Display` and `Debug` forms never show the password (`***` stands in for it); only
/// [`DataSourceConfig::connection_string`] contains it.
///
/// ```
/// use ignis_tx::DataSourceConfig;
/// let config = DataSourceConfig::from_url("postgres://app:s3cret@db.local:6543/shop").unwrap();
/// assert_eq!(config.port, 6543);
/// assert_eq!(config.to_string(), "postgresql://app:***@db.local:6543/shop");
/// assert!(!format!("{config:?}").contains("s3cret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct DataSourceConfig {
    /// Host name, IP address, or a Unix socket directory (a path starting with `/`).
    pub host: String,
    /// TCP port (or the socket file's port suffix). Default 5432.
    pub port: u16,
    /// Database name. Default `postgres`.
    pub database: String,
    /// User name. Default `postgres`.
    pub user: String,
    /// Password, if any.
    pub password: Option<String>,
    /// TLS mode.
    pub ssl_mode: SslMode,
    /// `application_name` shown in `pg_stat_activity`. Default `ignis-rs`.
    pub application_name: Option<String>,
    /// Pool options.
    pub pool: PoolOptions,
    /// The hosts after the first (`host`, `port`) of a multi-host URL
    /// (`postgres://h1:p1,h2:p2/db?target_session_attrs=read-write`), tried in order when
    /// a connection to an earlier one fails or is refused by `target_session_attrs`. Empty by
    /// default.
    pub failover_hosts: Vec<HostPort>,
    /// Which host new connections accept (`target_session_attrs`). Default
    /// [`TargetSessionAttrs::Any`].
    pub target_session_attrs: TargetSessionAttrs,
    /// Streaming replicas of this server that serve reads outside transactions (see
    /// [`crate::DataSource::read_connection`]). They share the primary's database, user,
    /// password, TLS mode and application name: a physical standby is a copy of the primary's
    /// cluster. Empty (the default): every statement goes to the primary, at no extra cost.
    pub read_replicas: Vec<HostPort>,
    /// How reads are routed to `read_replicas`.
    pub replica: ReplicaOptions,
    /// How statements reach the server: named prepared statements (default), or unnamed ones
    /// for PgBouncer transaction pooling (URL parameter `pgbouncer=true`, variable
    /// `POSTGRES_PGBOUNCER=true`). See [`StatementMode`].
    pub statement_mode: StatementMode,
}

impl Default for DataSourceConfig {
    /// The Ignis defaults: `localhost:5432`, database and user `postgres`, no password.
    fn default() -> Self {
        DataSourceConfig {
            host: "localhost".into(),
            port: 5432,
            database: "postgres".into(),
            user: "postgres".into(),
            password: None,
            ssl_mode: SslMode::Prefer,
            application_name: Some("ignis-rs".into()),
            pool: PoolOptions::default(),
            failover_hosts: Vec::new(),
            target_session_attrs: TargetSessionAttrs::Any,
            read_replicas: Vec::new(),
            replica: ReplicaOptions::default(),
            statement_mode: StatementMode::Prepared,
        }
    }
}

impl DataSourceConfig {
    /// Parses a libpq connection URL (`postgres://` or `postgresql://user:password@host:port/db
    /// ?sslmode=..&application_name=..&target_session_attrs=..`) or key-value string
    /// (`host=.. user=..`), as the `postgres` crate reads them. Missing parts take the
    /// [`Default`] values.
    ///
    /// A multi-host URL (`postgres://h1:5432,h2:5433/db?target_session_attrs=read-write`) keeps
    /// its first host in `host` / `port` and the others in `failover_hosts`; a single port
    /// applies to every host, as in libpq.
    ///
    /// ```
    /// use ignis_tx::{DataSourceConfig, HostPort, TargetSessionAttrs};
    /// let c = DataSourceConfig::from_url(
    ///     "postgres://app:pw@db1:5432,db2:5433/shop?target_session_attrs=read-write",
    /// ).unwrap();
    /// assert_eq!((c.host.as_str(), c.port), ("db1", 5432));
    /// assert_eq!(c.failover_hosts, vec![HostPort::new("db2", 5433)]);
    /// assert_eq!(c.target_session_attrs, TargetSessionAttrs::ReadWrite);
    /// assert_eq!(c.to_string(), "postgresql://app:***@db1:5432,db2:5433/shop?target_session_attrs=read-write");
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] when the string does not parse, has as many ports as neither one nor
    /// its hosts, or asks `target_session_attrs=read-only` (a primary must accept writes;
    /// configure read-only servers as `read_replicas`). The message never contains the
    /// password.
    pub fn from_url(url: &str) -> Result<Self, Error> {
        // `pgbouncer=true` is ignis-rs's (and Prisma's), unknown to the `postgres` crate.
        let (stripped, statement_mode) = crate::conn::take_pgbouncer_param(url)?;
        let url = stripped.as_str();
        let parsed = postgres::Config::from_str(url).map_err(|e| {
            Error::Config(format!(
                "cannot parse the connection string {}: {e}",
                redact_url(url)
            ))
        })?;
        let mut config = DataSourceConfig::default();
        let mut hosts = hosts_of(&parsed, &redact_url(url))?.into_iter();
        if let Some(first) = hosts.next() {
            config.host = first.host;
            config.port = first.port;
        }
        config.failover_hosts = hosts.collect();
        config.target_session_attrs = match parsed.get_target_session_attrs() {
            postgres::config::TargetSessionAttrs::ReadWrite => TargetSessionAttrs::ReadWrite,
            postgres::config::TargetSessionAttrs::Any => TargetSessionAttrs::Any,
            _ => {
                return Err(Error::Config(format!(
                    "{}: target_session_attrs other than any / read-write is not supported for \
                     the primary; list read-only servers as read replicas",
                    redact_url(url)
                )))
            }
        };
        if let Some(db) = parsed.get_dbname() {
            config.database = db.to_string();
        } else if let Some(user) = parsed.get_user() {
            // libpq: the database defaults to the user name.
            config.database = user.to_string();
        }
        if let Some(user) = parsed.get_user() {
            config.user = user.to_string();
        }
        if let Some(pw) = parsed.get_password() {
            config.password = Some(String::from_utf8(pw.to_vec()).map_err(|_| {
                Error::Config("the password in the connection string is not UTF-8".into())
            })?);
        }
        config.ssl_mode = match parsed.get_ssl_mode() {
            postgres::config::SslMode::Disable => SslMode::Disable,
            postgres::config::SslMode::Require => SslMode::Require,
            _ => SslMode::Prefer,
        };
        if let Some(app) = parsed.get_application_name() {
            config.application_name = Some(app.to_string());
        }
        config.statement_mode = statement_mode.unwrap_or_default();
        Ok(config)
    }

    /// Reads the environment as Ignis does: `DATABASE_URL` if set, else `POSTGRES_HOST`,
    /// `POSTGRES_PORT`, `POSTGRES_DATABASE`, `POSTGRES_USER`, `POSTGRES_PASSWORD` if any of them
    /// is set (the others take the defaults `localhost`, `5432`, `postgres`, `postgres`).
    /// Then `POSTGRES_READ_REPLICAS`, if set, gives the read replicas: a comma-separated list
    /// as [`DataSourceConfig::with_read_replicas`] reads it (`replica1:5432,replica2:5432`).
    /// `POSTGRES_PGBOUNCER=true` (or `false`) sets [`DataSourceConfig::statement_mode`] over
    /// what the URL says. Returns `Ok(None)` when none of the server variables is set.
    ///
    /// # Errors
    /// [`Error::Config`] when `DATABASE_URL` does not parse, `POSTGRES_PORT` is not a port, or
    /// an entry of `POSTGRES_READ_REPLICAS` does not parse, or `POSTGRES_PGBOUNCER` is not a
    /// boolean.
    pub fn from_env() -> Result<Option<Self>, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`DataSourceConfig::from_env`] over any variable lookup (for tests and embedding).
    ///
    /// # Errors
    /// As [`DataSourceConfig::from_env`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, Error> {
        let replicas = lookup("POSTGRES_READ_REPLICAS").filter(|r| !r.trim().is_empty());
        let mut config = match Self::primary_from_lookup(&lookup)? {
            Some(config) => config,
            None if replicas.is_some() => DataSourceConfig::default(),
            None => return Ok(None),
        };
        if let Some(flag) = lookup("POSTGRES_PGBOUNCER").filter(|v| !v.trim().is_empty()) {
            config.statement_mode = StatementMode::from_pgbouncer_flag(&flag).ok_or_else(|| {
                Error::Config(format!(
                    "POSTGRES_PGBOUNCER={flag:?}: expected true or false"
                ))
            })?;
        }
        match replicas {
            Some(list) => config
                .with_read_replicas(list.split(','))
                .map_err(|e| match e {
                    Error::Config(m) => Error::Config(format!("POSTGRES_READ_REPLICAS: {m}")),
                    e => e,
                })
                .map(Some),
            None => Ok(Some(config)),
        }
    }

    fn primary_from_lookup(
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, Error> {
        if let Some(url) = lookup("DATABASE_URL").filter(|u| !u.is_empty()) {
            return Self::from_url(&url).map(Some);
        }
        let vars = [
            "POSTGRES_HOST",
            "POSTGRES_PORT",
            "POSTGRES_DATABASE",
            "POSTGRES_USER",
            "POSTGRES_PASSWORD",
        ];
        let values: Vec<Option<String>> = vars.iter().map(|v| lookup(v)).collect();
        if values.iter().all(Option::is_none) {
            return Ok(None);
        }
        let mut config = DataSourceConfig::default();
        if let Some(host) = &values[0] {
            config.host = host.clone();
        }
        if let Some(port) = &values[1] {
            config.port = port
                .trim()
                .parse()
                .map_err(|_| Error::Config(format!("POSTGRES_PORT is not a TCP port: {port:?}")))?;
        }
        if let Some(db) = &values[2] {
            config.database = db.clone();
        }
        if let Some(user) = &values[3] {
            config.user = user.clone();
        }
        config.password = values[4].clone();
        Ok(Some(config))
    }

    /// The same server with another database (e.g. a per-test database).
    pub fn with_database(mut self, database: impl Into<String>) -> Self {
        self.database = database.into();
        self
    }

    /// Replaces the pool options.
    pub fn with_pool(mut self, pool: PoolOptions) -> Self {
        self.pool = pool;
        self
    }

    /// Adds read replicas (see [`DataSourceConfig::read_replicas`]). Each entry is one of:
    /// - `host`, `host:port` or `[v6addr]:port` (the port defaults to the primary's);
    /// - a connection URL or key-value string (`postgres://replica1:5432/shop`), whose hosts
    ///   are all taken as replicas (a multi-host URL is several replicas). Its database, user
    ///   and password, when it names them, must be the primary's.
    ///
    /// Empty entries (and surrounding spaces) are ignored, so a trailing comma is harmless.
    ///
    /// ```
    /// use ignis_tx::{DataSourceConfig, HostPort};
    /// let c = DataSourceConfig::from_url("postgres://app@db:5432/shop").unwrap()
    ///     .with_read_replicas(["db-r1", "db-r2:6432", "postgres://app@[::1]:7000/shop"])
    ///     .unwrap();
    /// assert_eq!(c.read_replicas, vec![
    ///     HostPort::new("db-r1", 5432), HostPort::new("db-r2", 6432), HostPort::new("::1", 7000),
    /// ]);
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] naming the entry (never its password) when it does not parse, its
    /// port is not a TCP port, or its URL names another database, user or password.
    pub fn with_read_replicas<I>(mut self, entries: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        for entry in entries {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            let found = self.parse_replica(entry)?;
            self.read_replicas.extend(found);
        }
        Ok(self)
    }

    /// Replaces the replica routing options.
    pub fn with_replica_options(mut self, options: ReplicaOptions) -> Self {
        self.replica = options;
        self
    }

    fn parse_replica(&self, entry: &str) -> Result<Vec<HostPort>, Error> {
        let is_url = entry.starts_with("postgres://")
            || entry.starts_with("postgresql://")
            || entry.contains('=');
        if !is_url {
            return parse_host_port(entry, self.port).map(|hp| vec![hp]);
        }
        let shown = redact_url(entry);
        let parsed = postgres::Config::from_str(entry)
            .map_err(|e| Error::Config(format!("cannot parse the replica {shown}: {e}")))?;
        if parsed.get_dbname().is_some_and(|d| d != self.database) {
            return Err(Error::Config(format!(
                "the replica {shown} names another database than the primary's {:?}",
                self.database
            )));
        }
        if parsed.get_user().is_some_and(|u| u != self.user) {
            return Err(Error::Config(format!(
                "the replica {shown} names another user than the primary's {:?}",
                self.user
            )));
        }
        if let Some(pw) = parsed.get_password() {
            if Some(pw) != self.password.as_deref().map(str::as_bytes) {
                return Err(Error::Config(format!(
                    "the replica {shown} has another password than the primary's"
                )));
            }
        }
        let hosts = hosts_of(&parsed, &shown)?;
        if hosts.is_empty() {
            return Err(Error::Config(format!("the replica {shown} names no host")));
        }
        Ok(hosts)
    }

    /// The Ignis connection string `postgresql://user:password@host:port/database`, with user,
    /// password and database percent-encoded. It contains the password: never log it; use
    /// [`DataSourceConfig::redacted`] or `Display` for messages.
    pub fn connection_string(&self) -> String {
        self.render(self.password.as_deref().map(percent_encode))
    }

    /// [`DataSourceConfig::connection_string`] with the password replaced by `***`.
    pub fn redacted(&self) -> String {
        self.render(self.password.as_ref().map(|_| "***".to_string()))
    }

    fn render(&self, password: Option<String>) -> String {
        let mut s = String::from("postgresql://");
        s.push_str(&percent_encode(&self.user));
        if let Some(pw) = password {
            s.push(':');
            s.push_str(&pw);
        }
        s.push('@');
        if self.host.starts_with('/') && self.failover_hosts.is_empty() {
            s.push(':');
            s.push_str(&self.port.to_string());
            s.push('/');
            s.push_str(&percent_encode(&self.database));
            s.push_str("?host=");
            s.push_str(&percent_encode(&self.host));
            self.push_session_attrs(&mut s, '&');
            return s;
        }
        if self.host.starts_with('/') || self.failover_hosts.iter().any(|h| h.host.starts_with('/'))
        {
            // Socket directories cannot go in the authority: every host as parameters.
            s.push('/');
            s.push_str(&percent_encode(&self.database));
            // The URL's `host` parameter takes one host: repeated, one per host.
            s.push_str("?host=");
            s.push_str(&percent_encode(&self.host));
            let mut ports = self.port.to_string();
            for h in &self.failover_hosts {
                s.push_str("&host=");
                s.push_str(&percent_encode(&h.host));
                ports.push(',');
                ports.push_str(&h.port.to_string());
            }
            s.push_str("&port=");
            s.push_str(&ports);
            self.push_session_attrs(&mut s, '&');
            return s;
        }
        s.push_str(&HostPort::new(self.host.clone(), self.port).to_string());
        for h in &self.failover_hosts {
            s.push(',');
            s.push_str(&h.to_string());
        }
        s.push('/');
        s.push_str(&percent_encode(&self.database));
        self.push_session_attrs(&mut s, '?');
        s
    }

    fn push_session_attrs(&self, s: &mut String, sep: char) {
        if self.target_session_attrs == TargetSessionAttrs::ReadWrite {
            s.push(sep);
            s.push_str("target_session_attrs=read-write");
        }
    }

    /// The `postgres` crate's config for connecting (built field by field, no string round
    /// trip): every host in order, with `target_session_attrs`.
    pub(crate) fn pg_config(&self) -> postgres::Config {
        let mut c = self.pg_config_for(&HostPort::new(self.host.clone(), self.port));
        for h in &self.failover_hosts {
            c.host(&h.host).port(h.port);
        }
        if self.target_session_attrs == TargetSessionAttrs::ReadWrite {
            c.target_session_attrs(postgres::config::TargetSessionAttrs::ReadWrite);
        }
        c
    }

    /// The config for one read replica: the primary's settings on `node`, with the replica
    /// connect timeout.
    pub(crate) fn replica_pg_config(&self, node: &HostPort) -> postgres::Config {
        let mut c = self.pg_config_for(node);
        c.connect_timeout(self.replica.connect_timeout);
        c
    }

    fn pg_config_for(&self, node: &HostPort) -> postgres::Config {
        let mut c = postgres::Config::new();
        c.host(&node.host)
            .port(node.port)
            .dbname(&self.database)
            .user(&self.user)
            .connect_timeout(self.pool.connection_timeout)
            .ssl_mode(match self.ssl_mode {
                SslMode::Disable => postgres::config::SslMode::Disable,
                SslMode::Prefer => postgres::config::SslMode::Prefer,
                SslMode::Require => postgres::config::SslMode::Require,
            });
        if let Some(pw) = &self.password {
            c.password(pw);
        }
        if let Some(app) = &self.application_name {
            c.application_name(app);
        }
        if let Some(t) = self.pool.statement_timeout {
            c.options(&format!("-c statement_timeout={}", t.as_millis()));
        }
        c
    }
}

impl fmt::Display for DataSourceConfig {
    /// The redacted connection string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DataSourceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataSourceConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("ssl_mode", &self.ssl_mode.as_str())
            .field("application_name", &self.application_name)
            .field("pool", &self.pool)
            .field("statement_mode", &self.statement_mode)
            .field("failover_hosts", &self.failover_hosts)
            .field("target_session_attrs", &self.target_session_attrs)
            .field("read_replicas", &self.read_replicas)
            .field("replica", &self.replica)
            .finish()
    }
}

/// The hosts of a parsed connection string with their ports (one port for all, or one per
/// host; 5432 when none), as the `postgres` crate connects to them.
fn hosts_of(parsed: &postgres::Config, shown: &str) -> Result<Vec<HostPort>, Error> {
    let ports = parsed.get_ports();
    let hosts = parsed.get_hosts();
    if ports.len() > 1 && ports.len() != hosts.len() {
        return Err(Error::Config(format!(
            "{shown}: {} hosts but {} ports (give one port, or one per host)",
            hosts.len(),
            ports.len()
        )));
    }
    Ok(hosts
        .iter()
        .enumerate()
        .map(|(i, host)| HostPort {
            host: match host {
                postgres::config::Host::Tcp(h) => h.clone(),
                #[cfg(unix)]
                postgres::config::Host::Unix(p) => p.display().to_string(),
            },
            port: ports.get(i).or(ports.first()).copied().unwrap_or(5432),
        })
        .collect())
}

/// `host`, `host:port` or `[v6addr]:port` (an IPv6 address without brackets is a host
/// without port); `default_port` when no port is given.
fn parse_host_port(entry: &str, default_port: u16) -> Result<HostPort, Error> {
    let bad_port = |p: &str| Error::Config(format!("{entry:?}: the port {p:?} is not a TCP port"));
    if let Some(rest) = entry.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return Err(Error::Config(format!("{entry:?}: unclosed '['")));
        };
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad_port(p))?,
            None if after.is_empty() => default_port,
            None => return Err(Error::Config(format!("{entry:?}: expected [address]:port"))),
        };
        return Ok(HostPort::new(host, port));
    }
    match entry.split_once(':') {
        Some((host, port)) if !port.contains(':') => {
            if host.is_empty() {
                return Err(Error::Config(format!("{entry:?}: no host")));
            }
            Ok(HostPort::new(
                host,
                port.parse().map_err(|_| bad_port(port))?,
            ))
        }
        // An IPv6 address without brackets: no port.
        Some(_) => Ok(HostPort::new(entry, default_port)),
        None => Ok(HostPort::new(entry, default_port)),
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Best-effort redaction of a connection string that failed to parse: hides the part between
/// `scheme://user:` and `@`, and any `password=` value of a key-value string.
pub(crate) fn redact_url(url: &str) -> String {
    if let Some(rest) = url.split_once("://") {
        let (scheme, rest) = rest;
        if let Some(at) = rest.rfind('@') {
            let userinfo = &rest[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            return format!("{scheme}://{masked}@{}", &rest[at + 1..]);
        }
        return url.to_string();
    }
    url.split_whitespace()
        .map(|kv| {
            if kv.to_ascii_lowercase().starts_with("password=") {
                "password=***".to_string()
            } else {
                kv.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls_and_key_values() {
        let c = DataSourceConfig::from_url(
            "postgresql://us%40er:p%3Ass@127.0.0.1:55432/my_db?application_name=x",
        )
        .unwrap();
        assert_eq!(c.user, "us@er");
        assert_eq!(c.password.as_deref(), Some("p:ss"));
        assert_eq!(c.host, "127.0.0.1");
        assert_eq!(c.port, 55432);
        assert_eq!(c.database, "my_db");
        assert_eq!(c.application_name.as_deref(), Some("x"));
        assert_eq!(
            c.connection_string(),
            "postgresql://us%40er:p%3Ass@127.0.0.1:55432/my_db"
        );
        let back = DataSourceConfig::from_url(&c.connection_string()).unwrap();
        assert_eq!(back.password, c.password);
        let kv = DataSourceConfig::from_url("host=/tmp/sock port=5433 user=a dbname=b").unwrap();
        assert_eq!((kv.host.as_str(), kv.port), ("/tmp/sock", 5433));
        assert_eq!(kv.redacted(), "postgresql://a@:5433/b?host=%2Ftmp%2Fsock");
    }

    #[test]
    fn never_shows_the_password() {
        let c = DataSourceConfig::from_url("postgres://u:hunter2@h/d").unwrap();
        for shown in [c.to_string(), format!("{c:?}"), c.redacted()] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        let err = DataSourceConfig::from_url("postgres://u:hunter2@h:notaport/d").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(!format!("{err:?}").contains("hunter2"));
    }

    #[test]
    fn multi_host_urls_keep_every_host_in_order() {
        let c = DataSourceConfig::from_url(
            "postgresql://app:pw@10.0.0.1:5432,10.0.0.2:5433,[::1]:5434/shop?target_session_attrs=read-write",
        )
        .unwrap();
        assert_eq!((c.host.as_str(), c.port), ("10.0.0.1", 5432));
        assert_eq!(
            c.failover_hosts,
            vec![HostPort::new("10.0.0.2", 5433), HostPort::new("::1", 5434)]
        );
        assert_eq!(c.target_session_attrs, TargetSessionAttrs::ReadWrite);
        assert_eq!(
            c.redacted(),
            "postgresql://app:***@10.0.0.1:5432,10.0.0.2:5433,[::1]:5434/shop?target_session_attrs=read-write"
        );
        // The rendered string parses back to the same configuration.
        assert_eq!(
            DataSourceConfig::from_url(&c.connection_string()).unwrap(),
            c
        );
        // One port for all hosts; hosts without one take it, as in libpq.
        let one_port = DataSourceConfig::from_url("host=a,b port=6000 user=u dbname=d").unwrap();
        assert_eq!(one_port.failover_hosts, vec![HostPort::new("b", 6000)]);
        assert_eq!(one_port.target_session_attrs, TargetSessionAttrs::Any);
        // The connection config has every host.
        let pg = c.pg_config();
        assert_eq!(pg.get_hosts().len(), 3);
        assert_eq!(pg.get_ports(), &[5432, 5433, 5434]);
        assert_eq!(
            pg.get_target_session_attrs(),
            postgres::config::TargetSessionAttrs::ReadWrite
        );
        // Socket directories among the hosts render as parameters and parse back.
        let sock = DataSourceConfig::from_url("host=/tmp/a,db2 port=1,2 user=u dbname=d").unwrap();
        assert_eq!(
            DataSourceConfig::from_url(&sock.connection_string()).unwrap(),
            sock
        );
    }

    #[test]
    fn bad_multi_host_urls_are_refused_without_the_password() {
        for url in [
            "postgres://u:hunter2@a:1,b:2,c:3/d?port=1,2",
            "host=a,b,c port=1,2 user=u password=hunter2",
            "postgres://u:hunter2@a,b/d?target_session_attrs=read-only",
        ] {
            let err = DataSourceConfig::from_url(url).unwrap_err();
            assert!(matches!(err, Error::Config(_)), "{url}: {err:?}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn read_replicas_parse_from_hosts_and_urls() {
        let primary = DataSourceConfig::from_url("postgres://app:pw@db:6000/shop").unwrap();
        let c = primary
            .clone()
            .with_read_replicas([
                " r1 ",
                "r2:7000",
                "[fe80::1]:7001",
                "fe80::2",
                "",
                "postgres://app:pw@r3:7002,r4/shop",
                "host=r5 port=7003",
            ])
            .unwrap();
        assert_eq!(
            c.read_replicas,
            vec![
                HostPort::new("r1", 6000),
                HostPort::new("r2", 7000),
                HostPort::new("fe80::1", 7001),
                HostPort::new("fe80::2", 6000),
                HostPort::new("r3", 7002),
                HostPort::new("r4", 5432),
                HostPort::new("r5", 7003),
            ]
        );
        // A replica serves the primary's database as the primary's user.
        for bad in [
            "r1:notaport",
            "r1:70000",
            ":7000",
            "[::1",
            "[::1]x",
            "postgres://app:pw@r1/othershop",
            "postgres://someone@r1/shop",
            "postgres://app:hunter2@r1/shop",
            "postgres://app@r1:nope/shop",
        ] {
            let err = primary.clone().with_read_replicas([bad]).unwrap_err();
            assert!(matches!(&err, Error::Config(_)), "{bad}: {err:?}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
        // The replica connection: the replica's address, the primary's credentials.
        let pg = c.replica_pg_config(&c.read_replicas[1]);
        assert_eq!(pg.get_ports(), &[7000]);
        assert_eq!(pg.get_dbname(), Some("shop"));
        assert_eq!(pg.get_password(), Some(&b"pw"[..]));
        assert_eq!(
            pg.get_target_session_attrs(),
            postgres::config::TargetSessionAttrs::Any
        );
    }

    #[test]
    fn read_replicas_come_from_the_environment() {
        let c = DataSourceConfig::from_lookup(|k| match k {
            "DATABASE_URL" => Some("postgres://app@db:5432/shop".into()),
            "POSTGRES_READ_REPLICAS" => Some("r1:5433, r2:5434,".into()),
            _ => None,
        })
        .unwrap()
        .unwrap();
        assert_eq!(
            c.read_replicas,
            vec![HostPort::new("r1", 5433), HostPort::new("r2", 5434)]
        );
        let with_vars = DataSourceConfig::from_lookup(|k| match k {
            "POSTGRES_HOST" => Some("db".into()),
            "POSTGRES_READ_REPLICAS" => Some("postgres://postgres@r1:5433/postgres".into()),
            _ => None,
        })
        .unwrap()
        .unwrap();
        assert_eq!(with_vars.read_replicas, vec![HostPort::new("r1", 5433)]);
        // Replicas alone: the primary takes the defaults.
        let alone =
            DataSourceConfig::from_lookup(|k| (k == "POSTGRES_READ_REPLICAS").then(|| "r1".into()))
                .unwrap()
                .unwrap();
        assert_eq!(alone.host, "localhost");
        assert_eq!(alone.read_replicas, vec![HostPort::new("r1", 5432)]);
        // A multi-host URL does not fit a comma-separated list: its second host is refused.
        let err = DataSourceConfig::from_lookup(|k| {
            (k == "POSTGRES_READ_REPLICAS").then(|| "postgres://postgres@r1:1,r2:2/postgres".into())
        })
        .unwrap_err();
        assert!(
            matches!(&err, Error::Config(m) if m.starts_with("POSTGRES_READ_REPLICAS")),
            "{err:?}"
        );
        // Empty: no replicas.
        let none =
            DataSourceConfig::from_lookup(|k| (k == "POSTGRES_READ_REPLICAS").then(|| " ".into()))
                .unwrap();
        assert!(none.is_none());
    }

    #[test]
    fn environment_follows_ignis_names_and_defaults() {
        let none = DataSourceConfig::from_lookup(|_| None).unwrap();
        assert!(none.is_none());
        let c = DataSourceConfig::from_lookup(|k| match k {
            "POSTGRES_HOST" => Some("db".into()),
            "POSTGRES_PASSWORD" => Some("pw".into()),
            _ => None,
        })
        .unwrap()
        .unwrap();
        assert_eq!(
            c.connection_string(),
            "postgresql://postgres:pw@db:5432/postgres"
        );
        let url = DataSourceConfig::from_lookup(|k| {
            (k == "DATABASE_URL").then(|| "postgres://x@y:1/z".to_string())
        })
        .unwrap()
        .unwrap();
        assert_eq!(url.redacted(), "postgresql://x@y:1/z");
        let bad = DataSourceConfig::from_lookup(|k| (k == "POSTGRES_PORT").then(|| "abc".into()));
        assert!(matches!(bad, Err(Error::Config(m)) if m.contains("POSTGRES_PORT")));
    }
}
