//! Where the database is and how the pool behaves: [`DataSourceConfig`] and [`PoolOptions`].

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::Error;

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
        }
    }
}

impl DataSourceConfig {
    /// Parses a libpq connection URL (`postgres://` or `postgresql://user:password@host:port/db
    /// ?sslmode=..&application_name=..`) or key-value string (`host=.. user=..`), as the
    /// `postgres` crate reads them. Missing parts take the [`Default`] values.
    ///
    /// # Errors
    /// [`Error::Config`] when the string does not parse (the message never contains the
    /// password).
    pub fn from_url(url: &str) -> Result<Self, Error> {
        let parsed = postgres::Config::from_str(url).map_err(|e| {
            Error::Config(format!(
                "cannot parse the connection string {}: {e}",
                redact_url(url)
            ))
        })?;
        let mut config = DataSourceConfig::default();
        if let Some(host) = parsed.get_hosts().first() {
            config.host = match host {
                postgres::config::Host::Tcp(h) => h.clone(),
                #[cfg(unix)]
                postgres::config::Host::Unix(p) => p.display().to_string(),
            };
        }
        if let Some(port) = parsed.get_ports().first() {
            config.port = *port;
        }
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
        Ok(config)
    }

    /// Reads the environment as Ignis does: `DATABASE_URL` if set, else `POSTGRES_HOST`,
    /// `POSTGRES_PORT`, `POSTGRES_DATABASE`, `POSTGRES_USER`, `POSTGRES_PASSWORD` if any of them
    /// is set (the others take the defaults `localhost`, `5432`, `postgres`, `postgres`).
    /// Returns `Ok(None)` when none of these variables is set.
    ///
    /// # Errors
    /// [`Error::Config`] when `DATABASE_URL` does not parse or `POSTGRES_PORT` is not a port.
    pub fn from_env() -> Result<Option<Self>, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`DataSourceConfig::from_env`] over any variable lookup (for tests and embedding).
    ///
    /// # Errors
    /// As [`DataSourceConfig::from_env`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, Error> {
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
        if self.host.starts_with('/') {
            s.push(':');
            s.push_str(&self.port.to_string());
            s.push('/');
            s.push_str(&percent_encode(&self.database));
            s.push_str("?host=");
            s.push_str(&percent_encode(&self.host));
            return s;
        }
        if self.host.contains(':') {
            s.push('[');
            s.push_str(&self.host);
            s.push(']');
        } else {
            s.push_str(&self.host);
        }
        s.push(':');
        s.push_str(&self.port.to_string());
        s.push('/');
        s.push_str(&percent_encode(&self.database));
        s
    }

    /// The `postgres` crate's config for connecting (built field by field, no string round trip).
    pub(crate) fn pg_config(&self) -> postgres::Config {
        let mut c = postgres::Config::new();
        c.host(&self.host)
            .port(self.port)
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
            .finish()
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
