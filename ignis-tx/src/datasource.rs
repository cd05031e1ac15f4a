//! [`DataSource`]: the pool and the entry points of atomic scopes.

use std::fmt;
use std::sync::Arc;

use postgres::types::ToSql;
use postgres::{Row, Statement};

use crate::conn::{script_may_open_transaction, statement_controls_transaction, Conn, Manager};
use crate::transaction::retry_loop;
use crate::{
    DataSourceConfig, Error, Executor, SslMode, Transaction, TransactionError, TransactionOptions,
};

/// Ignis's datasource: a pool of Postgres connections (r2d2 + r2d2_postgres over the blocking
/// `postgres` client) and the entry point of transactions.
///
/// `Send + Sync + Clone`: clones share one pool, so worker threads each hold a clone.
/// Connections are opened lazily (the first checkout connects); [`DataSource::ping`] checks the
/// server is reachable.
///
/// Recovery: a connection that sat idle longer than [`crate::PoolOptions::idle_check_after`] is
/// checked before it is handed out, so connections the server closed while they were idle
/// (restart, `pg_terminate_backend`) are replaced without the caller seeing an error. A
/// statement of a [`PooledConnection`] that finds its connection dead before the statement was
/// sent, or a `BEGIN` that does, runs once more on a fresh connection (see
/// [`PooledConnection`]). A connection that dies while a statement runs fails that call (it may
/// have reached the server, so it is never re-run) and is then dropped by the pool.
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
            idle_check_after: config.pool.idle_check_after,
            check_timeout: config.pool.connection_timeout,
        };
        let pool = r2d2::Pool::builder()
            .max_size(config.pool.max_size)
            .min_idle(config.pool.min_idle)
            .connection_timeout(config.pool.connection_timeout)
            .idle_timeout(config.pool.idle_timeout)
            .max_lifetime(config.pool.max_lifetime)
            // `Manager::is_valid` only checks connections idle longer than `idle_check_after`.
            .test_on_check_out(true)
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
        self.checkout().map(|conn| PooledConnection {
            conn: Some(conn),
            ds: self.clone(),
            used: false,
        })
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
        self.checkout()?.batch_execute("SELECT 1")
    }

    /// Begins a transaction (Ignis `beginTransaction`): checks out a connection and sends
    /// `BEGIN` with the options in one round trip. Commit with [`Transaction::commit`]; dropped
    /// without it, the transaction rolls back. `options.retries` is ignored here (only a
    /// closure can be re-run). When BEGIN finds its connection dead (closed by the server
    /// while idle), it is sent once more on another connection: nothing of the transaction
    /// has run yet.
    ///
    /// # Errors
    /// [`Error::PoolTimeout`], or the server's error for BEGIN / SET LOCAL.
    pub fn begin(&self, options: TransactionOptions) -> Result<Transaction, Error> {
        match Transaction::begin(self.checkout()?, &options) {
            Ok(tx) => Ok(tx),
            Err((first, true)) => {
                tracing::debug!(error = %first, "BEGIN found its connection dead; trying another");
                let conn = self.checkout().map_err(|_| first)?;
                Transaction::begin(conn, &options).map_err(|(e, _)| e)
            }
            Err((e, false)) => Err(e),
        }
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
///
/// It goes back to the pool outside any transaction block. SQL run through it that may open or
/// leave one open (a transaction-control statement such as `BEGIN` or `START TRANSACTION`, a
/// script mentioning them, or any use of [`Executor::client`]) makes the drop send `ROLLBACK`
/// (a server WARNING when no transaction was open); if that fails, or the thread is panicking,
/// the connection is discarded instead. So an abandoned `BEGIN` never lets the next user of
/// the connection commit its writes.
///
/// Until a statement has succeeded on it (so its session holds nothing the caller set up), a
/// statement that finds the connection dead before anything of it was sent (the client already
/// knows the connection is closed, or preparing the statement failed because it died) runs once
/// more on a fresh connection from the pool, which then replaces the dead one. A statement
/// that may have reached the server is never re-run.
pub struct PooledConnection {
    /// `None` only after a replacement could not be checked out (the next call tries again).
    conn: Option<r2d2::PooledConnection<Manager>>,
    ds: DataSource,
    /// A statement succeeded, a script ran, a statement was prepared or the raw client was
    /// handed out: the session may hold state the caller relies on (settings, locks, prepared
    /// statements), so it is never swapped for another connection.
    used: bool,
}

impl PooledConnection {
    fn conn(&mut self) -> Result<&mut Conn, Error> {
        if self.conn.is_none() {
            self.conn = Some(self.ds.checkout()?);
        }
        match self.conn.as_deref_mut() {
            Some(conn) => Ok(conn),
            None => Err(Error::TransactionInactive),
        }
    }

    /// `true` when this connection is closed or known dead (the server closed it, or a
    /// statement failed with a fatal or connection error): it will not go back to the pool.
    pub fn is_closed(&self) -> bool {
        self.conn
            .as_deref()
            .is_none_or(|c| c.broken || c.is_closed())
    }

    /// Whether a failure may be cured by running again on a fresh connection: nothing was
    /// set up on this connection since checkout, and the connection is dead.
    fn may_replace(&self) -> bool {
        !self.used && self.conn.is_some() && self.is_closed()
    }

    /// Discards the dead connection and checks out another.
    fn replace(&mut self) -> Result<(), Error> {
        if let Some(conn) = self.conn.as_deref_mut() {
            conn.broken = true;
        }
        // Returned (and discarded) before the next checkout, so a pool of one does not wait.
        self.conn = None;
        self.conn = Some(self.ds.checkout()?);
        Ok(())
    }

    /// The connection for the next statement: a fresh one when this one is known dead and
    /// nothing was set up on it.
    fn live_conn(&mut self) -> Result<&mut Conn, Error> {
        if self.may_replace() {
            tracing::debug!("pooled connection closed before the statement was sent; replacing it");
            self.replace()?;
        }
        self.conn()
    }

    /// `sql` prepared (from the cache, or now), on a fresh connection when preparing it
    /// finds this one dead before the statement ran.
    fn statement(&mut self, sql: &str) -> Result<Statement, Error> {
        match self.live_conn()?.prepare(sql) {
            Ok(stmt) => Ok(stmt),
            Err(e) if self.may_replace() => {
                tracing::debug!(error = %e, "connection died while preparing; retrying on a fresh one");
                self.replace().map_err(|_| e)?;
                self.conn()?.prepare(sql)
            }
            Err(e) => Err(e),
        }
    }
}

impl Executor for PooledConnection {
    fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, Error> {
        let stmt = self.statement(sql)?;
        let conn = self.conn()?;
        conn.tx_unknown |= statement_controls_transaction(sql);
        let rows = conn.query_prepared(&stmt, sql, params)?;
        self.used = true;
        Ok(rows)
    }

    fn execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, Error> {
        let stmt = self.statement(sql)?;
        let conn = self.conn()?;
        conn.tx_unknown |= statement_controls_transaction(sql);
        let n = conn.execute_prepared(&stmt, sql, params)?;
        self.used = true;
        Ok(n)
    }

    fn batch_execute(&mut self, sql: &str) -> Result<(), Error> {
        let may_begin = script_may_open_transaction(sql);
        let conn = self.live_conn()?;
        if may_begin {
            conn.tx_unknown = true;
        }
        // Statements before a failing one have run: the session may hold their settings.
        self.used = true;
        self.conn()?.batch_execute(sql)
    }

    fn prepare(&mut self, sql: &str) -> Result<Statement, Error> {
        let stmt = self.statement(sql)?;
        // The statement is bound to this connection: keep it.
        self.used = true;
        Ok(stmt)
    }

    fn client(&mut self) -> Result<&mut postgres::Client, Error> {
        let conn = self.live_conn()?;
        conn.tx_unknown = true;
        self.used = true;
        Ok(self.conn()?.client())
    }
}

impl Drop for PooledConnection {
    /// Check-in: a connection on which SQL may have left a transaction block open is rolled
    /// back, or discarded when that fails or the thread is panicking (what was interrupted is
    /// unknown, and no round trip is made while unwinding).
    fn drop(&mut self) {
        let Some(conn) = self.conn.as_deref_mut() else {
            return;
        };
        if std::thread::panicking() {
            conn.broken = true;
            return;
        }
        if !conn.tx_unknown || conn.broken {
            return;
        }
        match conn.batch_execute("ROLLBACK") {
            Ok(()) => conn.tx_unknown = false,
            Err(e) => {
                conn.broken = true;
                tracing::warn!(error = %e, "ROLLBACK of a returned connection failed; connection discarded");
            }
        }
    }
}

impl fmt::Debug for PooledConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledConnection")
            .field("closed", &self.is_closed())
            .finish()
    }
}
