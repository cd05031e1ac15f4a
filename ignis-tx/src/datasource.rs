//! [`DataSource`]: the pool and the entry points of atomic scopes.

use std::fmt;
use std::sync::Arc;

use postgres::types::ToSql;
use postgres::{Row, Statement};

use crate::conn::{script_may_open_transaction, statement_controls_transaction, Conn, Manager};
use crate::replica::{ReplicaSet, ReplicaStatus};
use crate::transaction::retry_loop;
use crate::{
    DataSourceConfig, Error, ErrorKind, Executor, HostPort, SslMode, Transaction, TransactionError,
    TransactionOptions,
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
/// # Read replicas
/// With [`DataSourceConfig::read_replicas`], reads outside transactions can go to streaming
/// replicas: [`DataSource::read_connection`] and [`DataSource::read`] take a healthy replica
/// (round robin; one that is down or lags beyond [`crate::ReplicaOptions`] is skipped until it
/// recovers), or the primary when none is usable. Everything else stays on the primary:
/// [`DataSource::connection`] ("may write"), [`DataSource::begin`] and
/// [`DataSource::transaction`], and whatever runs on a connection or transaction the caller
/// holds. [`DataSource::primary_only`] gives a clone that never routes to a replica.
///
/// Read your writes: once a write on the primary has returned (a [`PooledConnection`] from
/// [`DataSource::connection`] that ran a write is dropped, or a transaction that was not
/// `READ ONLY` commits), reads from the same thread through any clone of this datasource see
/// it: they go to a replica that has replayed the write's WAL position, waiting up to
/// [`crate::ReplicaOptions::read_your_writes_wait`] for one, else to the primary. This costs
/// one query (`pg_current_wal_insert_lsn()`) per write connection or transaction, only when
/// replicas are configured. Reads from other threads may see a replica's older state.
///
/// # Failover
/// With a multi-host URL (`postgres://h1:5432,h2:5432/db?target_session_attrs=read-write`),
/// new connections try the hosts in order and keep the first that accepts writes. When the
/// primary stops and a standby is promoted, connections to the old primary fail and are
/// discarded, and new ones reach the new primary; a checkout waits for it at most the pool's
/// `connection_timeout`. Work in flight fails with an error whose [`Error::is_retryable`] is
/// `true` (connection lost, SQLSTATE 57P01 / 57P03 / 25006), which
/// [`DataSource::transaction`] with [`TransactionOptions::retries`] re-runs; a failure during
/// `COMMIT` is [`Error::CommitOutcomeUnknown`] and is not re-run.
///
/// Nothing acknowledged as committed is lost only if every acknowledged commit is on the
/// standby that gets promoted. That holds with synchronous replication: on the primary,
/// `synchronous_standby_names` naming the standbys (e.g. `'ANY 1 (s1, s2)'` or `'*'`) and
/// `synchronous_commit` at `on` (the default), `remote_write` or `remote_apply` (`on` and
/// `remote_apply` wait for the standby's flush to disk; `remote_write` only for its write,
/// which survives a primary crash but not the standby's operating system crashing; promote a
/// standby that confirmed). With asynchronous replication (no `synchronous_standby_names`, or
/// `synchronous_commit = local` / `off`) a commit is acknowledged once it is on the primary's
/// disk and may not have reached the standby when the primary dies: the promotion then loses
/// it.
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
    /// Set by [`DataSource::primary_only`]: reads never go to a replica.
    primary_only: bool,
}

struct Inner {
    pool: r2d2::Pool<Manager>,
    config: DataSourceConfig,
    /// `None` without read replicas: nothing of the replica machinery runs.
    replicas: Option<Arc<ReplicaSet>>,
}

/// Which server a [`PooledConnection`] is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Primary,
    /// A read replica (index into the replica set).
    Replica(usize),
}

#[derive(Debug)]
struct TracingErrorHandler;

impl r2d2::HandleError<crate::conn::ConnectError> for TracingErrorHandler {
    fn handle_error(&self, error: crate::conn::ConnectError) {
        tracing::warn!(%error, "opening a pooled connection failed");
    }
}

impl DataSource {
    /// A datasource over `config`. Opens no connection yet; with read replicas, starts the
    /// thread that checks them (see [`DataSource::replica_status`]).
    ///
    /// # Errors
    /// [`Error::Config`] for `ssl_mode = require` (this build has no TLS), a pool max size of 0,
    /// or when the replica check thread cannot be started.
    pub fn new(config: DataSourceConfig) -> Result<Self, Error> {
        if config.ssl_mode == SslMode::Require {
            return Err(Error::Config(
                "sslmode=require: this build of ignis-tx connects without TLS".into(),
            ));
        }
        if config.pool.max_size == 0 {
            return Err(Error::Config("pool max_size must be at least 1".into()));
        }
        if config.statement_mode == crate::StatementMode::Unnamed
            && config.pool.statement_timeout.is_some()
        {
            return Err(Error::Config(
                "pool statement_timeout is sent as a startup option, which PgBouncer refuses \
                 (statement mode unnamed): set it on the role or database (ALTER ROLE .. SET \
                 statement_timeout), or per transaction (TransactionOptions::statement_timeout)"
                    .into(),
            ));
        }
        let manager = |pg: postgres::Config, check_timeout| Manager {
            inner: r2d2_postgres::PostgresConnectionManager::new(pg, postgres::NoTls),
            cache_capacity: config.pool.statement_cache_capacity,
            statement_mode: config.statement_mode,
            idle_check_after: config.pool.idle_check_after,
            check_timeout,
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
            .build_unchecked(manager(config.pg_config(), config.pool.connection_timeout));
        let replicas = if config.read_replicas.is_empty() {
            None
        } else {
            let nodes = config
                .read_replicas
                .iter()
                .map(|addr| {
                    let pool = r2d2::Pool::builder()
                        .max_size(config.pool.max_size)
                        // Opened on demand: a replica that is down costs no reconnect loop.
                        .min_idle(Some(0))
                        .connection_timeout(config.replica.connect_timeout)
                        .idle_timeout(config.pool.idle_timeout)
                        .max_lifetime(config.pool.max_lifetime)
                        .test_on_check_out(true)
                        .error_handler(Box::new(TracingErrorHandler))
                        .build_unchecked(manager(
                            config.replica_pg_config(addr),
                            config.replica.connect_timeout,
                        ));
                    (addr.clone(), pool)
                })
                .collect();
            Some(ReplicaSet::start(
                nodes,
                pool.clone(),
                config.replica.clone(),
            )?)
        };
        Ok(DataSource {
            inner: Arc::new(Inner {
                pool,
                config,
                replicas,
            }),
            primary_only: false,
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

    /// Checks a connection to the primary out of the pool, waiting up to the pool's
    /// connection timeout: the connection for writes (and for reads that must not go to a
    /// replica). With read replicas configured, dropping it after it ran a write records the
    /// write's WAL position for read-your-writes (see [`PooledConnection::mark_written`]).
    ///
    /// # Errors
    /// [`Error::PoolTimeout`] (carrying the last connection error, e.g. connection refused).
    pub fn connection(&self) -> Result<PooledConnection, Error> {
        self.checkout().map(|conn| PooledConnection {
            conn: Some(conn),
            ds: self.clone(),
            used: false,
            route: Route::Primary,
            wrote: false,
        })
    }

    /// A connection for reads outside a transaction: a usable read replica that has replayed
    /// the calling thread's last write through this datasource (round robin among them), or
    /// the primary when there is none, no replica is configured, or this handle is
    /// [`DataSource::primary_only`]. Without replicas it is [`DataSource::connection`], at no
    /// extra cost. Statements run on it must not write (a replica refuses them with SQLSTATE
    /// 25006). [`PooledConnection::replica`] tells which server it is on.
    ///
    /// # Errors
    /// [`Error::PoolTimeout`] when falling back to the primary fails so.
    pub fn read_connection(&self) -> Result<PooledConnection, Error> {
        let Some(set) = self.routed() else {
            return self.connection();
        };
        match set.pick(set.last_write()) {
            Some((i, conn)) => Ok(PooledConnection {
                conn: Some(conn),
                ds: self.clone(),
                used: false,
                route: Route::Replica(i),
                wrote: false,
            }),
            None => self.connection(),
        }
    }

    /// Runs the read `f` on a [`DataSource::read_connection`]. With read replicas, when `f`
    /// fails because its server went away (connection lost or refused, shut down: see
    /// [`Error::kind`]) or, on a replica, because recovery cancelled its query (SQLSTATE
    /// 40001), the replica is marked unusable and `f` runs again on another replica or on the
    /// primary, at most once per replica plus once more. So `f` must only read: it may run
    /// more than once. Without replicas, `f` runs once on the primary.
    ///
    /// # Errors
    /// `f`'s error; [`Error::PoolTimeout`] when no connection can be had.
    pub fn read<T, E, F>(&self, mut f: F) -> Result<T, E>
    where
        F: FnMut(&mut PooledConnection) -> Result<T, E>,
        E: TransactionError,
    {
        let Some(set) = self.routed() else {
            return f(&mut self.connection()?);
        };
        let mut left = set.nodes.len() + 1;
        loop {
            let mut conn = self.read_connection()?;
            let err = match f(&mut conn) {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let again = err.as_tx_error().is_some_and(|e| {
                e.is_node_failure()
                    || (conn.replica().is_some() && e.kind() == ErrorKind::SerializationFailure)
            });
            if !again || left == 0 {
                return Err(err);
            }
            left -= 1;
            if let (Route::Replica(i), Some(e)) = (conn.route, err.as_tx_error()) {
                set.nodes[i].mark_down(&e.to_string());
            }
            tracing::debug!("a read failed on a server that went away; running it elsewhere");
        }
    }

    /// A clone of this datasource (same pools, same read-your-writes positions) whose reads
    /// never go to a replica: [`DataSource::read_connection`] and [`DataSource::read`] give a
    /// primary connection. For reads that must see every write committed anywhere.
    pub fn primary_only(&self) -> DataSource {
        DataSource {
            inner: self.inner.clone(),
            primary_only: true,
        }
    }

    /// Whether reads of this handle may go to a replica (replicas configured, and not
    /// [`DataSource::primary_only`]).
    pub fn routes_reads(&self) -> bool {
        self.routed().is_some()
    }

    fn routed(&self) -> Option<&Arc<ReplicaSet>> {
        match &self.inner.replicas {
            Some(set) if !self.primary_only => Some(set),
            _ => None,
        }
    }

    /// The read replicas as their last check found them (configuration order; empty without
    /// replicas). Checks run in the background every
    /// [`crate::ReplicaOptions::recheck_after`].
    pub fn replica_status(&self) -> Vec<ReplicaStatus> {
        self.inner
            .replicas
            .as_ref()
            .map_or_else(Vec::new, |set| set.status())
    }

    /// Checks every read replica now (as the background thread does; blocks for up to the
    /// replica connect timeout per unreachable replica) and returns their status. Useful right
    /// after start-up, before the first background check has run.
    pub fn check_replicas(&self) -> Vec<ReplicaStatus> {
        match &self.inner.replicas {
            Some(set) => {
                set.check_all();
                set.status()
            }
            None => Vec::new(),
        }
    }

    /// The connection a read-routed [`PooledConnection`] continues on after its replica failed.
    fn checkout_read(&self) -> Result<(Route, r2d2::PooledConnection<Manager>), Error> {
        if let Some(set) = self.routed() {
            if let Some((i, conn)) = set.pick(set.last_write()) {
                return Ok((Route::Replica(i), conn));
            }
        }
        Ok((Route::Primary, self.checkout()?))
    }

    fn checkout(&self) -> Result<r2d2::PooledConnection<Manager>, Error> {
        // An idle connection is taken at once: `try_get` is the first step of r2d2's `get`
        // without the two clock reads `get` makes for its checkout event (which nothing
        // here listens to). Without one, `get` waits for a connection as usual.
        if let Some(conn) = self.inner.pool.try_get() {
            return Ok(conn);
        }
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
        let tx = match Transaction::begin(self.checkout()?, &options) {
            Ok(tx) => tx,
            Err((first, true)) => {
                tracing::debug!(error = %first, "BEGIN found its connection dead; trying another");
                let conn = self.checkout().map_err(|_| first)?;
                Transaction::begin(conn, &options).map_err(|(e, _)| e)?
            }
            Err((e, false)) => return Err(e),
        };
        Ok(match &self.inner.replicas {
            Some(set) if !options.is_read_only() => tx.recording_writes(set.clone()),
            _ => tx,
        })
    }

    /// Runs `f` in a transaction on the primary: commits when it returns `Ok`, rolls back when
    /// it returns `Err` or panics (the panic then continues; the connection returns to the pool
    /// outside any transaction, or is discarded). With `options.retries(n)`, a failure that
    /// [`Error::is_retryable`] (serialization failure 40001, deadlock 40P01, and the failures
    /// of a server going away or changing role: connection lost, 57P01, 57P03, 25006 outside a
    /// `READ ONLY` transaction), from BEGIN, from `f` or from COMMIT's refusal, re-runs `f` in
    /// a new transaction on a new connection, up to `n` more times with backoff; no other
    /// error is retried, and neither is a connection failing during COMMIT
    /// ([`Error::CommitOutcomeUnknown`]: it may have committed). `f` must therefore be safe to
    /// re-run: keep side effects outside the database out of it.
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
            .field("read_replicas", &self.inner.config.read_replicas)
            .field("primary_only", &self.primary_only)
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
/// that may have reached the server is never re-run. On a read replica
/// ([`DataSource::read_connection`]), the fresh connection comes from another usable replica
/// or the primary, and the dead replica is skipped until it recovers.
///
/// On the primary with read replicas configured, a statement that may write (any statement
/// but `SELECT`, `SHOW`, `VALUES`, `TABLE`, `SET` / `RESET` and cursor commands; every script
/// of several statements; any use of [`Executor::client`]) makes the drop record the write's
/// WAL position for read-your-writes. A `SELECT` that writes through a function is not
/// recognised: call [`PooledConnection::mark_written`] after it.
pub struct PooledConnection {
    /// `None` only after a replacement could not be checked out (the next call tries again).
    conn: Option<r2d2::PooledConnection<Manager>>,
    ds: DataSource,
    /// A statement succeeded, a script ran, a statement was prepared or the raw client was
    /// handed out: the session may hold state the caller relies on (settings, locks, prepared
    /// statements), so it is never swapped for another connection.
    used: bool,
    route: Route,
    /// A statement that may write ran (on the primary, replicas configured): the drop records
    /// the WAL position.
    wrote: bool,
}

impl PooledConnection {
    fn conn(&mut self) -> Result<&mut Conn, Error> {
        if self.conn.is_none() {
            self.checkout_again()?;
        }
        match self.conn.as_deref_mut() {
            Some(conn) => Ok(conn),
            None => Err(Error::TransactionInactive),
        }
    }

    /// A new connection on the same kind of route: the primary, or for a read another usable
    /// replica (the primary when none is).
    fn checkout_again(&mut self) -> Result<(), Error> {
        if let Route::Replica(_) = self.route {
            let (route, conn) = self.ds.checkout_read()?;
            self.route = route;
            self.conn = Some(conn);
        } else {
            self.conn = Some(self.ds.checkout()?);
        }
        Ok(())
    }

    /// The read replica this connection is on; `None` on the primary.
    pub fn replica(&self) -> Option<&HostPort> {
        match (self.route, &self.ds.inner.replicas) {
            (Route::Replica(i), Some(set)) => set.nodes.get(i).map(|n| &n.addr),
            _ => None,
        }
    }

    /// Tells the connection that what it ran wrote, for read-your-writes: when it is dropped,
    /// the write's WAL position is recorded (with read replicas configured, on the primary;
    /// otherwise it does nothing). Needed only for writes the connection does not recognise
    /// (a `SELECT` calling a function that writes).
    pub fn mark_written(&mut self) {
        self.wrote = self.tracks_writes();
    }

    fn tracks_writes(&self) -> bool {
        self.route == Route::Primary && self.ds.inner.replicas.is_some()
    }

    /// After a statement ran: notes a possible write, or marks a replica that went away.
    fn note<T>(
        &mut self,
        r: Result<T, Error>,
        may_write: impl FnOnce() -> bool,
    ) -> Result<T, Error> {
        match &r {
            Ok(_) => {
                if !self.wrote && self.tracks_writes() && may_write() {
                    self.wrote = true;
                }
            }
            Err(e) => {
                if let (Route::Replica(i), Some(set)) = (self.route, &self.ds.inner.replicas) {
                    if e.is_node_failure() {
                        set.nodes[i].mark_down(&e.to_string());
                    }
                }
            }
        }
        r
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

    /// Discards the dead connection and checks out another (for a read, skipping the dead
    /// replica).
    fn replace(&mut self) -> Result<(), Error> {
        if let Some(conn) = self.conn.as_deref_mut() {
            conn.broken = true;
        }
        // Returned (and discarded) before the next checkout, so a pool of one does not wait.
        self.conn = None;
        if let (Route::Replica(i), Some(set)) = (self.route, &self.ds.inner.replicas) {
            set.nodes[i].mark_down("connection closed");
        }
        self.checkout_again()
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

    /// Whether statements run unnamed ([`crate::StatementMode::Unnamed`]).
    fn is_unnamed(&self) -> bool {
        self.conn.as_deref().is_some_and(|c| c.is_unnamed())
    }

    /// The connection for the next unnamed statement, with the shape of `sql` known: learned
    /// inside a block of its own (or inside the block raw SQL may have opened), on a fresh
    /// connection when this one is known dead or may not learn shapes any more (its type
    /// lookups were deallocated), and once more on a fresh connection when learning it finds
    /// this one dead. Returns whether a block may be open.
    fn unnamed_conn(&mut self, sql: &str) -> Result<(&mut Conn, bool), Error> {
        let stale = self
            .conn
            .as_deref()
            .is_some_and(|c| c.typeinfo_stale && !c.tx_unknown && !c.has_shape(sql));
        if stale {
            self.replace()?;
        }
        let conn = self.live_conn()?;
        let in_block = conn.tx_unknown;
        if !conn.has_shape(sql) {
            if let Err(e) = conn.column_types(sql, in_block) {
                if !self.may_replace() {
                    return Err(e);
                }
                tracing::debug!(error = %e, "connection died while learning a statement; retrying on a fresh one");
                self.replace().map_err(|_| e)?;
                self.conn()?.column_types(sql, false)?;
            }
        }
        let conn = self.conn()?;
        let in_block = conn.tx_unknown;
        Ok((conn, in_block))
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
        if self.is_unnamed() {
            let (conn, in_block) = self.unnamed_conn(sql)?;
            conn.tx_unknown |= statement_controls_transaction(sql);
            let rows = conn.query_unnamed(sql, params, in_block);
            let rows = self.note(rows, || statement_may_write(sql))?;
            self.used = true;
            return Ok(rows);
        }
        let stmt = self.statement(sql)?;
        self.query_statement(&stmt, sql, params)
    }

    fn query_statement(
        &mut self,
        stmt: &Statement,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        if self.is_unnamed() {
            return self.query(sql, params);
        }
        let conn = self.conn()?;
        conn.tx_unknown |= statement_controls_transaction(sql);
        let rows = conn.query_prepared(stmt, sql, params);
        let rows = self.note(rows, || statement_may_write(sql))?;
        self.used = true;
        Ok(rows)
    }

    fn execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, Error> {
        if self.is_unnamed() {
            let (conn, in_block) = self.unnamed_conn(sql)?;
            conn.tx_unknown |= statement_controls_transaction(sql);
            let n = conn.execute_unnamed(sql, params, in_block);
            let n = self.note(n, || statement_may_write(sql))?;
            self.used = true;
            return Ok(n);
        }
        let stmt = self.statement(sql)?;
        let conn = self.conn()?;
        conn.tx_unknown |= statement_controls_transaction(sql);
        let n = conn.execute_prepared(&stmt, sql, params);
        let n = self.note(n, || statement_may_write(sql))?;
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
        let r = self.conn()?.batch_execute(sql);
        self.note(r, || sql.contains(';') || statement_may_write(sql))
    }

    fn column_types(&mut self, sql: &str) -> Result<Vec<postgres::types::Type>, Error> {
        if self.is_unnamed() {
            let (conn, in_block) = self.unnamed_conn(sql)?;
            return conn.column_types(sql, in_block);
        }
        let stmt = self.statement(sql)?;
        self.used = true;
        Ok(stmt.columns().iter().map(|c| c.type_().clone()).collect())
    }

    fn statement_mode(&mut self) -> crate::StatementMode {
        match self.conn() {
            Ok(c) if c.is_unnamed() => crate::StatementMode::Unnamed,
            _ => crate::StatementMode::Prepared,
        }
    }

    fn prepare(&mut self, sql: &str) -> Result<Statement, Error> {
        let stmt = self.statement(sql)?;
        // The statement is bound to this connection: keep it.
        self.used = true;
        Ok(stmt)
    }

    fn client(&mut self) -> Result<&mut postgres::Client, Error> {
        self.wrote = self.wrote || self.tracks_writes();
        let conn = self.live_conn()?;
        conn.tx_unknown = true;
        self.used = true;
        Ok(self.conn()?.client())
    }
}

/// Whether one statement may write: anything but a statement whose first keyword (after
/// whitespace and comments) is `SELECT`, `SHOW`, `VALUES`, `TABLE`, `SET`, `RESET`, `DECLARE`,
/// `FETCH`, `MOVE`, `CLOSE`, `LISTEN`, `UNLISTEN`, `DISCARD` or `DEALLOCATE`. `WITH` counts as
/// a write (it may hold a data-modifying statement). Runs only with read replicas configured.
fn statement_may_write(sql: &str) -> bool {
    let mut rest = sql.trim_start();
    loop {
        if let Some(tail) = rest.strip_prefix("--") {
            rest = tail.split_once('\n').map_or("", |(_, t)| t).trim_start();
        } else if let Some(tail) = rest.strip_prefix("/*") {
            // A nested comment ends early here: what follows is then no keyword, so a write.
            rest = tail.split_once("*/").map_or("", |(_, t)| t).trim_start();
        } else {
            break;
        }
    }
    let word: String = rest
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .take(12)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    !matches!(
        word.as_str(),
        "SELECT"
            | "SHOW"
            | "VALUES"
            | "TABLE"
            | "SET"
            | "RESET"
            | "DECLARE"
            | "FETCH"
            | "MOVE"
            | "CLOSE"
            | "LISTEN"
            | "UNLISTEN"
            | "DISCARD"
            | "DEALLOCATE"
    )
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
        if conn.tx_unknown && !conn.broken {
            match conn.finish_block("ROLLBACK") {
                Ok(()) => conn.tx_unknown = false,
                Err(e) => {
                    conn.broken = true;
                    tracing::warn!(error = %e, "ROLLBACK of a returned connection failed; connection discarded");
                }
            }
        }
        if self.wrote && !conn.broken {
            if let Some(set) = &self.ds.inner.replicas {
                set.record_write(conn);
            }
        }
    }
}

impl fmt::Debug for PooledConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledConnection")
            .field("closed", &self.is_closed())
            .field("replica", &self.replica())
            .finish()
    }
}
