//! Atomic scopes: [`Transaction`] (BEGIN .. COMMIT / ROLLBACK) and [`Savepoint`] (nested scopes),
//! with their [`TransactionOptions`].

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crate::conn::{Conn, Manager};
use crate::executor::impl_executor;
use crate::replica::ReplicaSet;
use crate::{Error, ErrorKind, TransactionError};

/// Transaction isolation level (Postgres manual, 13.2 "Transaction Isolation"; Ignis
/// `IsolationLevels`). Postgres runs `READ UNCOMMITTED` as `READ COMMITTED`, so it is not offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IsolationLevel {
    /// `READ COMMITTED`, the Postgres and Ignis default: each statement sees what was committed
    /// before it began.
    #[default]
    ReadCommitted,
    /// `REPEATABLE READ`: one snapshot for the whole transaction; concurrent updates of the same
    /// row fail with SQLSTATE 40001.
    RepeatableRead,
    /// `SERIALIZABLE`: as if transactions ran one after another; conflicts fail with 40001.
    Serializable,
}

impl IsolationLevel {
    /// The SQL spelling (`READ COMMITTED`, ...).
    pub fn as_sql(self) -> &'static str {
        match self {
            IsolationLevel::ReadCommitted => "READ COMMITTED",
            IsolationLevel::RepeatableRead => "REPEATABLE READ",
            IsolationLevel::Serializable => "SERIALIZABLE",
        }
    }
}

impl fmt::Display for IsolationLevel {
    /// The spelling of `SHOW transaction_isolation` (`read committed`, ...).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_sql().to_ascii_lowercase())
    }
}

impl FromStr for IsolationLevel {
    type Err = Error;

    /// Accepts the SQL spelling in any case, with spaces, `_` or `-` (`SERIALIZABLE`,
    /// `read committed`, `REPEATABLE_READ`: Ignis's constant names).
    fn from_str(s: &str) -> Result<Self, Error> {
        let norm: String = s
            .trim()
            .chars()
            .map(|c| {
                if c == '_' || c == '-' {
                    ' '
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        match norm.as_str() {
            "read committed" => Ok(IsolationLevel::ReadCommitted),
            "repeatable read" => Ok(IsolationLevel::RepeatableRead),
            "serializable" => Ok(IsolationLevel::Serializable),
            _ => Err(Error::Config(format!(
                "unknown isolation level {s:?} (expected read committed, repeatable read or serializable)"
            ))),
        }
    }
}

/// How a transaction begins (Postgres `BEGIN` / `SET TRANSACTION` and `SET LOCAL`) and whether
/// [`crate::DataSource::transaction`] retries it.
///
/// ```
/// use std::time::Duration;
/// use ignis_tx::{IsolationLevel, TransactionOptions};
/// let options = TransactionOptions::new()
///     .isolation_level(IsolationLevel::Serializable)
///     .read_only(true)
///     .deferrable(true)
///     .statement_timeout(Duration::from_secs(5))
///     .lock_timeout(Duration::from_millis(500))
///     .retries(3);
/// assert_eq!(options.begin_sql(), "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE; \
///     SET LOCAL statement_timeout = 5000; SET LOCAL lock_timeout = 500");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TransactionOptions {
    isolation_level: IsolationLevel,
    read_only: bool,
    deferrable: bool,
    statement_timeout: Option<Duration>,
    lock_timeout: Option<Duration>,
    retries: u32,
}

impl TransactionOptions {
    /// READ COMMITTED, read-write, no timeouts of its own, no retries.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the isolation level.
    pub fn isolation_level(mut self, level: IsolationLevel) -> Self {
        self.isolation_level = level;
        self
    }

    /// `READ ONLY`: any write fails with SQLSTATE 25006 (read_only_sql_transaction).
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// `DEFERRABLE`: only meaningful for SERIALIZABLE READ ONLY, where the transaction waits for a
    /// safe snapshot and then cannot fail with a serialization error.
    pub fn deferrable(mut self, deferrable: bool) -> Self {
        self.deferrable = deferrable;
        self
    }

    /// `SET LOCAL statement_timeout` for this transaction only (milliseconds precision).
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = Some(timeout);
        self
    }

    /// `SET LOCAL lock_timeout` for this transaction only (milliseconds precision).
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.lock_timeout = Some(timeout);
        self
    }

    /// Re-runs the whole closure of [`crate::DataSource::transaction`] up to `retries` more
    /// times when it fails with an error that [`Error::is_retryable`]: SQLSTATE 40001
    /// (serialization failure), 40P01 (deadlock), or the server going away or changing role
    /// (connection lost, 57P01, 57P03, and 25006 unless the transaction is `READ ONLY`), with
    /// exponential backoff (2 ms doubling, capped at 128 ms) and jitter (a random wait between
    /// half and all of it). A retry after a failover waits for the new primary in the checkout
    /// (at most the pool's `connection_timeout`). Default 0. Ignored by
    /// [`crate::DataSource::begin`].
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// The isolation level asked for.
    pub fn get_isolation_level(&self) -> IsolationLevel {
        self.isolation_level
    }

    /// The retry bound.
    pub fn get_retries(&self) -> u32 {
        self.retries
    }

    /// Whether the transaction is `READ ONLY`.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// [`TransactionOptions::begin_sql`], borrowed from a constant when no timeout is set
    /// (the common case: nothing is formatted per transaction).
    pub(crate) fn begin_statement(&self) -> Cow<'static, str> {
        /// `BEGIN` for each isolation level (in declaration order), `READ ONLY` and
        /// `DEFERRABLE`.
        const BEGIN: [[[&str; 2]; 2]; 3] = [
            [
                [
                    "BEGIN ISOLATION LEVEL READ COMMITTED",
                    "BEGIN ISOLATION LEVEL READ COMMITTED DEFERRABLE",
                ],
                [
                    "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY",
                    "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY DEFERRABLE",
                ],
            ],
            [
                [
                    "BEGIN ISOLATION LEVEL REPEATABLE READ",
                    "BEGIN ISOLATION LEVEL REPEATABLE READ DEFERRABLE",
                ],
                [
                    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY DEFERRABLE",
                ],
            ],
            [
                [
                    "BEGIN ISOLATION LEVEL SERIALIZABLE",
                    "BEGIN ISOLATION LEVEL SERIALIZABLE DEFERRABLE",
                ],
                [
                    "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY",
                    "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE",
                ],
            ],
        ];
        if self.statement_timeout.is_some() || self.lock_timeout.is_some() {
            return Cow::Owned(self.begin_sql());
        }
        let level = match self.isolation_level {
            IsolationLevel::ReadCommitted => 0,
            IsolationLevel::RepeatableRead => 1,
            IsolationLevel::Serializable => 2,
        };
        Cow::Borrowed(BEGIN[level][usize::from(self.read_only)][usize::from(self.deferrable)])
    }

    /// The statements that begin the transaction, sent in one round trip.
    pub fn begin_sql(&self) -> String {
        let mut sql = format!("BEGIN ISOLATION LEVEL {}", self.isolation_level.as_sql());
        if self.read_only {
            sql.push_str(" READ ONLY");
        }
        if self.deferrable {
            sql.push_str(" DEFERRABLE");
        }
        if let Some(t) = self.statement_timeout {
            sql.push_str(&format!(
                "; SET LOCAL statement_timeout = {}",
                t.as_millis()
            ));
        }
        if let Some(t) = self.lock_timeout {
            sql.push_str(&format!("; SET LOCAL lock_timeout = {}", t.as_millis()));
        }
        sql
    }
}

/// A transaction on a pooled connection: Ignis's `beginTransaction` result.
///
/// Created by [`crate::DataSource::begin`] (explicit form) or handed to the closure of
/// [`crate::DataSource::transaction`]. [`Transaction::commit`] makes its writes visible;
/// [`Transaction::rollback`] discards them; dropped without either (an early `?` return, a
/// panic), it rolls back. The connection then goes back to the pool outside any transaction, or
/// is discarded when the rollback itself failed. Runs SQL through [`crate::Executor`].
pub struct Transaction {
    conn: Option<r2d2::PooledConnection<Manager>>,
    isolation_level: IsolationLevel,
    read_only: bool,
    /// With read replicas: where a successful commit records its WAL position.
    record: Option<Arc<ReplicaSet>>,
}

impl Transaction {
    /// Sends BEGIN (with the options) on `conn`. On failure, also tells whether the connection
    /// turned out dead (closed or a fatal error), so nothing of the transaction has run and
    /// [`crate::DataSource::begin`] may try once more on another connection.
    pub(crate) fn begin(
        mut conn: r2d2::PooledConnection<Manager>,
        options: &TransactionOptions,
    ) -> Result<Self, (Error, bool)> {
        conn.aborted = false;
        if let Err(e) = conn.batch_execute(&options.begin_statement()) {
            let dead = conn.broken;
            // BEGIN itself (or a SET LOCAL) failed: leave no transaction open on the
            // connection. If even ROLLBACK fails, the pool discards it.
            if dead || conn.batch_execute("ROLLBACK").is_err() {
                conn.broken = true;
            }
            return Err((e, dead));
        }
        conn.aborted = false;
        Ok(Transaction {
            conn: Some(conn),
            isolation_level: options.isolation_level,
            read_only: options.read_only,
            record: None,
        })
    }

    /// Makes a successful commit record its WAL position for read-your-writes.
    pub(crate) fn recording_writes(mut self, set: Arc<ReplicaSet>) -> Self {
        self.record = Some(set);
        self
    }

    /// Marks the connection for discarding (it reached a server that refuses writes), so the
    /// next attempt connects anew.
    fn discard_connection(&mut self) {
        if let Some(conn) = self.conn.as_mut() {
            conn.broken = true;
        }
    }

    fn conn(&mut self) -> Result<&mut Conn, Error> {
        match self.conn.as_mut() {
            Some(c) if !c.broken => Ok(&mut **c),
            _ => Err(Error::TransactionInactive),
        }
    }

    /// Commits. With read replicas configured, a successful commit then asks its connection
    /// for its WAL position, so reads of this thread see the transaction's writes.
    ///
    /// # Errors
    /// The server's error when COMMIT fails (e.g. a deferred constraint or a serialization
    /// failure detected at commit, SQLSTATE 40001): the transaction is then rolled back. When a
    /// statement of this transaction failed earlier (so Postgres would turn COMMIT into a silent
    /// ROLLBACK), the transaction is rolled back and SQLSTATE 25P02 (in_failed_sql_transaction)
    /// is returned instead of a false success. When the connection fails while COMMIT is on
    /// its way (connection lost, server shut down), [`Error::CommitOutcomeUnknown`]: the
    /// server may have committed.
    pub fn commit(mut self) -> Result<(), Error> {
        let Some(mut conn) = self.conn.take() else {
            return Err(Error::TransactionInactive);
        };
        if conn.broken {
            return Err(Error::TransactionInactive);
        }
        if conn.aborted {
            if conn.finish_block("ROLLBACK").is_err() {
                conn.broken = true;
            }
            return Err(Error::Database(Box::new(crate::DatabaseError {
                code: "25P02".into(),
                severity: "ERROR".into(),
                message: "current transaction is aborted by an earlier failed statement; \
                          it was rolled back, not committed"
                    .into(),
                detail: None,
                hint: Some(
                    "roll back to a savepoint after an expected error, or return the error".into(),
                ),
                schema: None,
                table: None,
                column: None,
                constraint: None,
            })));
        }
        let r = conn.finish_block("COMMIT");
        if r.is_err() && !conn.is_closed() {
            // A failed COMMIT ends the transaction on the server; make sure nothing stays open.
            if conn.finish_block("ROLLBACK").is_err() {
                conn.broken = true;
            }
        }
        match r {
            Ok(()) => {
                if let Some(set) = &self.record {
                    set.record_write(&mut conn);
                }
                Ok(())
            }
            Err(e) if e.is_node_failure() => {
                conn.broken = true;
                Err(Error::CommitOutcomeUnknown(Box::new(e)))
            }
            Err(e) => Err(e),
        }
    }

    /// Rolls back.
    ///
    /// # Errors
    /// The connection failed; it is discarded from the pool (the server rolls back a
    /// transaction whose connection ends).
    pub fn rollback(mut self) -> Result<(), Error> {
        self.finish_rollback()
    }

    fn finish_rollback(&mut self) -> Result<(), Error> {
        let Some(mut conn) = self.conn.take() else {
            return Ok(());
        };
        if conn.broken {
            return Ok(());
        }
        let r = conn.finish_block("ROLLBACK");
        if r.is_err() {
            conn.broken = true;
        }
        conn.aborted = false;
        r
    }

    /// `true` until the transaction is committed or rolled back, and while its connection is
    /// usable (Ignis `isActive`). A statement error makes Postgres abort the transaction: it
    /// stays "active" in this sense but [`Transaction::commit`] will report the failure.
    pub fn is_active(&self) -> bool {
        self.conn.as_ref().is_some_and(|c| !c.broken)
    }

    /// The isolation level the transaction began with (Ignis `isolationLevel`).
    pub fn isolation_level(&self) -> IsolationLevel {
        self.isolation_level
    }

    /// Whether the transaction is READ ONLY.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Opens a nested scope (`SAVEPOINT`). See [`Savepoint`].
    ///
    /// # Errors
    /// The server's error (SQLSTATE 25P02 when the transaction already failed).
    pub fn savepoint(&mut self) -> Result<Savepoint<'_>, Error> {
        Savepoint::open(self.conn()?)
    }

    /// Runs `f` in a nested scope: releases the savepoint on `Ok`, rolls back to it on `Err` (the
    /// outer transaction continues, as if `f` never ran) and on panic.
    ///
    /// # Errors
    /// `f`'s error, or the savepoint could not be opened or released.
    pub fn transaction<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Savepoint<'_>) -> Result<T, E>,
        E: From<Error>,
    {
        run_in_savepoint(self.conn()?, f)
    }
}

impl_executor!(Transaction);

impl Drop for Transaction {
    fn drop(&mut self) {
        if self.conn.is_some() {
            if let Err(e) = self.finish_rollback() {
                tracing::warn!(error = %e, "rollback of a dropped transaction failed; connection discarded");
            }
        }
    }
}

impl fmt::Debug for Transaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transaction")
            .field("active", &self.is_active())
            .field("isolation_level", &self.isolation_level)
            .field("read_only", &self.read_only)
            .finish()
    }
}

fn run_in_savepoint<T, E, F>(conn: &mut Conn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Savepoint<'_>) -> Result<T, E>,
    E: From<Error>,
{
    let mut sp = Savepoint::open(conn)?;
    match f(&mut sp) {
        Ok(v) => {
            sp.release()?;
            Ok(v)
        }
        Err(e) => {
            sp.rollback()?;
            Err(e)
        }
    }
}

/// A nested scope inside a transaction (Postgres `SAVEPOINT`, manual: SQL Commands).
///
/// [`Savepoint::release`] keeps its writes as part of the enclosing transaction;
/// [`Savepoint::rollback`] (or dropping it) undoes everything since it was opened, and clears a
/// failed statement so the enclosing transaction can go on and commit. Savepoints nest. Runs SQL
/// through [`crate::Executor`].
pub struct Savepoint<'a> {
    conn: &'a mut Conn,
    name: String,
    done: bool,
}

impl<'a> Savepoint<'a> {
    fn open(conn: &'a mut Conn) -> Result<Self, Error> {
        conn.savepoint_seq += 1;
        let name = format!("ignis_sp_{}", conn.savepoint_seq);
        conn.batch_execute(&format!("SAVEPOINT {name}"))?;
        Ok(Savepoint {
            conn,
            name,
            done: false,
        })
    }

    fn conn(&mut self) -> Result<&mut Conn, Error> {
        if self.done || self.conn.broken {
            return Err(Error::TransactionInactive);
        }
        Ok(self.conn)
    }

    /// Keeps the writes (`RELEASE SAVEPOINT`).
    ///
    /// # Errors
    /// The server's error; SQLSTATE 25P02 when a statement inside failed (roll back instead).
    pub fn release(mut self) -> Result<(), Error> {
        self.done = true;
        let sql = format!("RELEASE SAVEPOINT {}", self.name);
        self.conn.batch_execute(&sql)
    }

    /// Undoes everything since the savepoint was opened (`ROLLBACK TO SAVEPOINT` then
    /// `RELEASE SAVEPOINT`); the enclosing transaction continues.
    ///
    /// # Errors
    /// The connection failed.
    pub fn rollback(mut self) -> Result<(), Error> {
        self.undo()
    }

    fn undo(&mut self) -> Result<(), Error> {
        self.done = true;
        if self.conn.broken {
            return Ok(());
        }
        let sql = format!(
            "ROLLBACK TO SAVEPOINT {0}; RELEASE SAVEPOINT {0}",
            self.name
        );
        let r = self.conn.batch_execute(&sql);
        if r.is_ok() {
            self.conn.aborted = false;
        }
        r
    }

    /// The savepoint's name (`ignis_sp_{n}`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Opens a savepoint nested in this one.
    ///
    /// # Errors
    /// The server's error.
    pub fn savepoint(&mut self) -> Result<Savepoint<'_>, Error> {
        Savepoint::open(self.conn()?)
    }

    /// Runs `f` in a savepoint nested in this one; see [`Transaction::transaction`].
    ///
    /// # Errors
    /// `f`'s error, or the savepoint could not be opened or released.
    pub fn transaction<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Savepoint<'_>) -> Result<T, E>,
        E: From<Error>,
    {
        run_in_savepoint(self.conn()?, f)
    }
}

impl_executor!(Savepoint<'_>);

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        if !self.done {
            if let Err(e) = self.undo() {
                tracing::warn!(error = %e, "rollback to a dropped savepoint failed");
            }
        }
    }
}

impl fmt::Debug for Savepoint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Savepoint")
            .field("name", &self.name)
            .finish()
    }
}

/// The retry loop of [`crate::DataSource::transaction`].
pub(crate) fn retry_loop<T, E, F>(
    begin: impl Fn() -> Result<Transaction, Error>,
    options: &TransactionOptions,
    mut f: F,
) -> Result<T, E>
where
    F: FnMut(&mut Transaction) -> Result<T, E>,
    E: TransactionError,
{
    let attempts = options.retries.saturating_add(1);
    let mut attempt = 1;
    loop {
        let err = match begin() {
            Err(e) => E::from(e),
            Ok(mut tx) => match f(&mut tx) {
                Ok(v) => match tx.commit() {
                    Ok(()) => return Ok(v),
                    Err(e) => E::from(e),
                },
                Err(e) => {
                    if e.as_tx_error().map(Error::kind) == Some(ErrorKind::ReadOnlyTransaction) {
                        // A server that refuses writes (a demoted primary): connect anew.
                        tx.discard_connection();
                    }
                    if let Err(rb) = tx.rollback() {
                        tracing::warn!(error = %rb, "rollback after a failed transaction scope failed");
                    }
                    e
                }
            },
        };
        // 25006 in a READ ONLY transaction is the caller's write, not a demoted server.
        let retryable = err.as_tx_error().is_some_and(|e| {
            e.is_retryable() && !(options.read_only && e.kind() == ErrorKind::ReadOnlyTransaction)
        });
        if !retryable || options.retries == 0 {
            return Err(err);
        }
        if attempt >= attempts {
            let (sqlstate, message) = match err.as_tx_error() {
                Some(e) => (e.sqlstate().unwrap_or_default().to_string(), e.to_string()),
                None => (String::new(), String::new()),
            };
            return Err(E::from(Error::RetriesExhausted {
                attempts,
                sqlstate,
                message,
            }));
        }
        let cap_ms = 2u64 << (attempt - 1).min(6);
        let wait = fastrand::u64(cap_ms * 500..=cap_ms * 1000);
        tracing::debug!(
            attempt,
            wait_us = wait,
            "retrying transaction after {}",
            err.as_tx_error().and_then(Error::sqlstate).unwrap_or("")
        );
        std::thread::sleep(Duration::from_micros(wait));
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_constant_begin_statements_are_begin_sql() {
        for level in [
            IsolationLevel::ReadCommitted,
            IsolationLevel::RepeatableRead,
            IsolationLevel::Serializable,
        ] {
            for read_only in [false, true] {
                for deferrable in [false, true] {
                    let options = TransactionOptions::new()
                        .isolation_level(level)
                        .read_only(read_only)
                        .deferrable(deferrable);
                    assert!(matches!(options.begin_statement(), Cow::Borrowed(_)));
                    assert_eq!(options.begin_statement(), options.begin_sql());
                    let timed = options.lock_timeout(Duration::from_millis(250));
                    assert_eq!(timed.begin_statement(), timed.begin_sql());
                }
            }
        }
    }
}
