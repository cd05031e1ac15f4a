//! [`DataSource`]: the pool and the entry points of atomic scopes.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::conn::{Conn, Manager};
use crate::executor::impl_executor;
use crate::transaction::retry_loop;
use crate::{DataSourceConfig, Error, SslMode, Transaction, TransactionError, TransactionOptions};

/// Ignis's datasource: a pool of Postgres connections (r2d2 + r2d2_postgres over the blocking
/// `postgres` client) and the entry point of transactions.
///
/// `Send + Sync + Clone`: clones share one pool, so worker threads each hold a clone.
/// Connections are opened lazily (the first checkout connects); [`DataSource::ping`] checks the
/// server is reachable. A connection the server closed (restart, `pg_terminate_backend`) fails
/// the call that was using it and is then dropped by the pool, so the next call gets a fresh one.
///
/// ```no_run
/// use ignis_tx::{DataSource, Executor, IsolationLevel, TransactionOptions};
/// # fn main() -> Result<(), ignis_tx::Error> {
/// let ds = DataSource::from_env()?;
/// ds.ping()?;
/// let options = TransactionOptions::new().isolation_level(IsolationLevel::Serializable).retries(5);
/// let total: i64 = ds.transaction(options, |tx| {
///     tx.execute("UPDATE account SET balance = balance - 10 WHERE id = $1", &[&1i32])?;
///     tx.execute("UPDATE account SET balance = balance + 10 WHERE id = $1", &[&2i32])?;
///     Ok::<_, ignis_tx::Error>(tx.query_one("SELECT sum(balance)::bigint FROM account", &[])?.get(0))
/// })?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DataSource {
    inner: Arc<Inner>,
}

struct Inner {
    pool: r2d2::Pool<Manager>,
    config: DataSourceConfig,
}

#[derive(Debug)]
struct TracingErrorHandler;

impl r2d2::HandleError<crate::conn::ConnectError> for TracingErrorHandler {
    fn handle_error(&self, error: crate::conn::ConnectError) {
        tracing::warn!(%error, "opening a pooled connection failed");
    }
}

impl DataSource {
    /// A datasource over `config`. Opens no connection yet.
    ///
    /// # Errors
    /// [`Error::Config`] for `ssl_mode = require` (this build has no TLS) or a pool max size of 0.
    pub fn new(config: DataSourceConfig) -> Result<Self, Error> {
        if config.ssl_mode == SslMode::Require {
            return Err(Error::Config(
                "sslmode=require: this build of ignis-tx connects without TLS".into(),
            ));
        }
        if config.pool.max_size == 0 {
            return Err(Error::Config("pool max_size must be at least 1".into()));
        }
        let manager = Manager {
            inner: r2d2_postgres::PostgresConnectionManager::new(
                config.pg_config(),
                postgres::NoTls,
            ),
            cache_capacity: config.pool.statement_cache_capacity,
        };
        let pool = r2d2::Pool::builder()
            .max_size(config.pool.max_size)
            .min_idle(config.pool.min_idle)
            .connection_timeout(config.pool.connection_timeout)
            .idle_timeout(config.pool.idle_timeout)
            .max_lifetime(config.pool.max_lifetime)
            .test_on_check_out(false)
            .error_handler(Box::new(TracingErrorHandler))
            .build_unchecked(manager);
        Ok(DataSource {
            inner: Arc::new(Inner { pool, config }),
        })
    }

    /// A datasource from the environment ([`DataSourceConfig::from_env`]: `DATABASE_URL`, else
    /// the `POSTGRES_*` variables), or the Ignis defaults (`localhost:5432`, user and database
    /// `postgres`) when none is set.
    ///
    /// # Errors
    /// As [`DataSourceConfig::from_env`] and [`DataSource::new`].
    pub fn from_env() -> Result<Self, Error> {
        Self::new(DataSourceConfig::from_env()?.unwrap_or_default())
    }

    /// The configuration (its `Display` hides the password).
    pub fn config(&self) -> &DataSourceConfig {
        &self.inner.config
    }

    /// Checks a connection out of the pool, waiting up to the pool's connection timeout.
    ///
    /// # Errors
    /// [`Error::PoolTimeout`] (carrying the last connection error, e.g. connection refused).
    pub fn connection(&self) -> Result<PooledConnection, Error> {
        self.checkout().map(|conn| PooledConnection { conn })
    }

    fn checkout(&self) -> Result<r2d2::PooledConnection<Manager>, Error> {
        self.inner.pool.get().map_err(|e| Error::PoolTimeout {
            timeout: self.inner.config.pool.connection_timeout,
            max_size: self.inner.config.pool.max_size,
            last_error: e
                .to_string()
                .strip_prefix("timed out waiting for connection")
                .and_then(|rest| {
                    let rest = rest.trim_start_matches(':').trim();
                    (!rest.is_empty()).then(|| rest.to_string())
                }),
        })
    }

    /// Health check: runs `SELECT 1` on a pooled connection.
    ///
    /// # Errors
    /// [`Error::PoolTimeout`] when no connection can be had, or the server's error.
    pub fn ping(&self) -> Result<(), Error> {
        self.connection()?.conn.batch_execute("SELECT 1")
    }

    /// Begins a transaction (Ignis `beginTransaction`): checks out a connection and sends
    /// `BEGIN` with the options in one round trip. Commit with [`Transaction::commit`]; dropped
    /// without it, the transaction rolls back. `options.retries` is ignored here (only a
    /// closure can be re-run).
    ///
    /// # Errors
    /// [`Error::PoolTimeout`], or the server's error for BEGIN / SET LOCAL.
    pub fn begin(&self, options: TransactionOptions) -> Result<Transaction, Error> {
        Transaction::begin(self.checkout()?, &options)
    }

    /// Runs `f` in a transaction: commits when it returns `Ok`, rolls back when it returns `Err`
    /// or panics (the panic then continues; the connection returns to the pool outside any
    /// transaction, or is discarded). With `options.retries(n)`, a failure with SQLSTATE 40001
    /// or 40P01 (from `f` or from COMMIT) re-runs `f` in a new transaction, up to `n` more times
    /// with backoff; no other error is retried. `f` must therefore be safe to re-run: keep side
    /// effects outside the database out of it.
    ///
    /// # Errors
    /// `f`'s error; the COMMIT error; [`Error::RetriesExhausted`] (attempts and SQLSTATE) when
    /// every attempt failed with a retryable error.
    pub fn transaction<T, E, F>(&self, options: TransactionOptions, f: F) -> Result<T, E>
    where
        F: FnMut(&mut Transaction) -> Result<T, E>,
        E: TransactionError,
    {
        retry_loop(|| self.begin(options), &options, f)
    }

    /// Pool occupancy: `(open connections, idle connections)`.
    pub fn pool_state(&self) -> (u32, u32) {
        let s = self.inner.pool.state();
        (s.connections, s.idle_connections)
    }
}

impl fmt::Debug for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataSource")
            .field("url", &self.inner.config.redacted())
            .field("pool_state", &self.pool_state())
            .finish()
    }
}

/// A connection checked out of the pool, outside any transaction (each statement autocommits).
/// Returned to the pool when dropped. Runs SQL through [`crate::Executor`].
pub struct PooledConnection {
    conn: r2d2::PooledConnection<Manager>,
}

impl PooledConnection {
    fn conn(&mut self) -> Result<&mut Conn, Error> {
        Ok(self.conn.deref_mut())
    }

    /// `true` when the server closed this connection (it will not go back to the pool).
    pub fn is_closed(&self) -> bool {
        self.conn.deref().is_closed()
    }
}

impl_executor!(PooledConnection);

impl fmt::Debug for PooledConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledConnection")
            .field("closed", &self.is_closed())
            .finish()
    }
}
