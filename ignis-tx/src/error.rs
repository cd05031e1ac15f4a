//! The one error type of ignis-tx.

use std::fmt;
use std::time::Duration;

/// A server error with the fields Postgres reports (Postgres manual, 55.8 "Error and Notice
/// Message Fields"). `code` is the SQLSTATE (Appendix A, "PostgreSQL Error Codes").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseError {
    /// SQLSTATE, five characters (`23505`, `40001`, ...).
    pub code: String,
    /// Severity (`ERROR`, `FATAL`, ...).
    pub severity: String,
    /// The primary message.
    pub message: String,
    /// Optional detail (e.g. `Key (code)=(x) already exists.`).
    pub detail: Option<String>,
    /// Optional hint.
    pub hint: Option<String>,
    /// Schema of the object involved, when the server names one.
    pub schema: Option<String>,
    /// Table involved, when the server names one.
    pub table: Option<String>,
    /// Column involved, when the server names one.
    pub column: Option<String>,
    /// Constraint involved, when the server names one.
    pub constraint: Option<String>,
}

impl fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (SQLSTATE {})", self.message, self.code)?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in ignis-tx. Database errors expose their SQLSTATE through
/// [`Error::sqlstate`]. No variant ever contains the connection password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server rejected a statement.
    #[error("database error: {0}")]
    Database(Box<DatabaseError>),
    /// The client failed without a server error: connection closed or refused, I/O, a value
    /// that does not convert to or from its Postgres type.
    #[error("postgres client error: {0}")]
    Client(#[source] postgres::Error),
    /// No pooled connection became free (or could be opened) within the pool's connection
    /// timeout.
    #[error("pool timeout: no connection within {} ms (pool max size {max_size}){}", timeout.as_millis(), last_error.as_ref().map(|e| format!("; last connection error: {e}")).unwrap_or_default())]
    PoolTimeout {
        /// The configured connection timeout.
        timeout: Duration,
        /// The pool's max size.
        max_size: u32,
        /// The last error opening a connection, if any (e.g. connection refused).
        last_error: Option<String>,
    },
    /// Invalid configuration (unparsable URL, unsupported TLS mode, bad environment variable).
    #[error("invalid datasource configuration: {0}")]
    Config(String),
    /// A retried transaction failed on every attempt with a serialization failure (40001) or
    /// deadlock (40P01).
    #[error("transaction failed after {attempts} attempts (SQLSTATE {sqlstate}): {message}")]
    RetriesExhausted {
        /// Attempts made (1 + retries).
        attempts: u32,
        /// SQLSTATE of the last failure.
        sqlstate: String,
        /// Message of the last failure.
        message: String,
    },
    /// `query_one` found no row or more than one.
    #[error("expected exactly one row, the query returned {0}")]
    RowCount(usize),
    /// A statement was run on a transaction that had already failed and was rolled back (its
    /// connection broke).
    #[error("the transaction is no longer active (its connection failed or it was rolled back)")]
    TransactionInactive,
    /// The connection failed while `COMMIT` was on its way (connection lost, server shut
    /// down): the server may or may not have committed. Never retried by
    /// [`crate::DataSource::transaction`], since re-running a transaction that did commit
    /// would apply it twice; check whether the writes are there, or make the transaction
    /// idempotent and run it again. [`Error::kind`] is [`ErrorKind::CommitOutcomeUnknown`].
    #[error(
        "the connection failed during COMMIT; the transaction may or may not have committed: {0}"
    )]
    CommitOutcomeUnknown(#[source] Box<Error>),
}

/// What kind of failure an [`Error`] is, for callers that decide whether to retry
/// ([`Error::kind`]). The SQLSTATEs are Postgres's (manual, Appendix A "PostgreSQL Error
/// Codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// SQLSTATE 40001: a serializable or repeatable-read conflict, or a standby cancelling a
    /// query that conflicts with recovery. Retryable.
    SerializationFailure,
    /// SQLSTATE 40P01. Retryable.
    Deadlock,
    /// The connection broke without a server error (closed, I/O error), or a connection
    /// exception (SQLSTATE class 08). Retryable: a new connection may reach a live server
    /// (after a failover, the new primary).
    ConnectionLost,
    /// SQLSTATE 57P01 (admin_shutdown) or 57P02 (crash_shutdown): the server is shutting down
    /// or restarting and ended the session. Retryable.
    ServerShutdown,
    /// SQLSTATE 57P03 (cannot_connect_now): the server is starting up or shutting down.
    /// Retryable.
    CannotConnectNow,
    /// SQLSTATE 25006 (read_only_sql_transaction): a write reached a server that only allows
    /// reads, as a primary demoted to a standby does. Retryable, except in a transaction begun
    /// `READ ONLY` by the caller (where it is the caller's own mistake and
    /// [`crate::DataSource::transaction`] does not retry it).
    ReadOnlyTransaction,
    /// [`Error::CommitOutcomeUnknown`]: not retryable.
    CommitOutcomeUnknown,
    /// [`Error::PoolTimeout`]: no connection within the pool's connection timeout (which
    /// bounds how long a checkout waits for a new primary during a failover). Not retryable.
    PoolTimeout,
    /// Anything else: a server error with another SQLSTATE, configuration, row count, ...
    Other,
}

impl Error {
    /// The SQLSTATE of a server error (also of the last failure of [`Error::RetriesExhausted`]).
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            Error::Database(db) => Some(&db.code),
            Error::RetriesExhausted { sqlstate, .. } => Some(sqlstate),
            _ => None,
        }
    }

    /// The server's error fields, when this is a server error.
    pub fn as_database_error(&self) -> Option<&DatabaseError> {
        match self {
            Error::Database(db) => Some(db),
            _ => None,
        }
    }

    /// What kind of failure this is (see [`ErrorKind`]). [`Error::RetriesExhausted`] has the
    /// kind of its last failure's SQLSTATE ([`ErrorKind::ConnectionLost`] when it had none).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Database(db) => kind_of_sqlstate(&db.code),
            Error::RetriesExhausted { sqlstate, .. } if sqlstate.is_empty() => {
                ErrorKind::ConnectionLost
            }
            Error::RetriesExhausted { sqlstate, .. } => kind_of_sqlstate(sqlstate),
            Error::Client(e) if connection_lost(e) => ErrorKind::ConnectionLost,
            Error::CommitOutcomeUnknown(_) => ErrorKind::CommitOutcomeUnknown,
            Error::PoolTimeout { .. } => ErrorKind::PoolTimeout,
            _ => ErrorKind::Other,
        }
    }

    /// `true` for the errors running the whole transaction again (on a new connection) can
    /// cure: serialization failures (40001) and deadlocks (40P01) (Postgres manual, 13.6
    /// "Serialization Failure Handling"), and the failures of a server going away or changing
    /// role: connection lost, 57P01 / 57P02 (shutdown), 57P03 (cannot connect now), 25006
    /// (a write on a server that turned read-only). [`Error::RetriesExhausted`] is not
    /// retryable (its retries were spent), nor is [`Error::CommitOutcomeUnknown`].
    pub fn is_retryable(&self) -> bool {
        if matches!(self, Error::RetriesExhausted { .. }) {
            return false;
        }
        matches!(
            self.kind(),
            ErrorKind::SerializationFailure
                | ErrorKind::Deadlock
                | ErrorKind::ConnectionLost
                | ErrorKind::ServerShutdown
                | ErrorKind::CannotConnectNow
                | ErrorKind::ReadOnlyTransaction
        )
    }

    /// `true` when this error means the connection's server went away or cannot serve it
    /// (connection lost, shutdown, cannot connect now): another server may.
    pub(crate) fn is_node_failure(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::ConnectionLost | ErrorKind::ServerShutdown | ErrorKind::CannotConnectNow
        )
    }
}

fn kind_of_sqlstate(code: &str) -> ErrorKind {
    match code {
        "40001" => ErrorKind::SerializationFailure,
        "40P01" => ErrorKind::Deadlock,
        "57P01" | "57P02" => ErrorKind::ServerShutdown,
        "57P03" => ErrorKind::CannotConnectNow,
        "25006" => ErrorKind::ReadOnlyTransaction,
        c if c.starts_with("08") => ErrorKind::ConnectionLost,
        _ => ErrorKind::Other,
    }
}

/// A client error that means the connection is gone: closed, or an I/O error.
fn connection_lost(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    false
}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => Error::Database(Box::new(DatabaseError {
                code: db.code().code().to_string(),
                severity: db.severity().to_string(),
                message: db.message().to_string(),
                detail: db.detail().map(str::to_string),
                hint: db.hint().map(str::to_string),
                schema: db.schema().map(str::to_string),
                table: db.table().map(str::to_string),
                column: db.column().map(str::to_string),
                constraint: db.constraint().map(str::to_string),
            })),
            None => Error::Client(e),
        }
    }
}

/// An error type a transaction closure may return: it can be made from an ignis-tx [`Error`] and
/// can show the ignis-tx error it carries, so [`crate::DataSource::transaction`] can tell a
/// serialization failure or deadlock (retried) from anything else (not retried).
///
/// Implement it for your own error type when closures return it:
/// ```
/// #[derive(Debug)]
/// enum AppError { Tx(ignis_tx::Error), Rule(String) }
/// impl From<ignis_tx::Error> for AppError {
///     fn from(e: ignis_tx::Error) -> Self { AppError::Tx(e) }
/// }
/// impl ignis_tx::TransactionError for AppError {
///     fn as_tx_error(&self) -> Option<&ignis_tx::Error> {
///         match self { AppError::Tx(e) => Some(e), AppError::Rule(_) => None }
///     }
/// }
/// ```
pub trait TransactionError: From<Error> {
    /// The ignis-tx error inside, if any.
    fn as_tx_error(&self) -> Option<&Error>;
}

impl TransactionError for Error {
    fn as_tx_error(&self) -> Option<&Error> {
        Some(self)
    }
}
