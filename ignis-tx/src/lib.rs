//! # ignis-tx: the ignis-rs runtime
//!
//! What every repository call runs on, blocking, on Postgres:
//! - [`DataSourceConfig`] / [`DataSource`]: Ignis's datasource settings (from `DATABASE_URL` or
//!   `POSTGRES_HOST/PORT/DATABASE/USER/PASSWORD`) and an r2d2 pool of `postgres` connections,
//!   with a bounded prepared-statement cache per connection, no round trip on checkout unless
//!   the connection sat idle longer than [`PoolOptions::idle_check_after`] (so connections that
//!   died while idle, after a server restart, are never handed out), and connections that go
//!   back to the pool only outside any transaction block (see [`PooledConnection`]);
//! - [`Executor`]: the one trait all SQL of the workspace runs through, implemented by a
//!   [`PooledConnection`], a [`Transaction`] and a [`Savepoint`];
//! - atomic scopes: [`DataSource::transaction`] (closure: commit on `Ok`, rollback on `Err` or
//!   panic, opt-in retry of serialization failures and deadlocks), [`DataSource::begin`]
//!   (explicit, as Ignis `beginTransaction`; rollback on drop), nested scopes as savepoints, and
//!   [`TransactionOptions`] (isolation level, read only, deferrable, per-transaction timeouts);
//! - [`Error`]: one error enum; server errors carry SQLSTATE, table, column and constraint.
//!
//! ```no_run
//! use ignis_tx::{DataSource, Executor, TransactionOptions};
//! # fn main() -> Result<(), ignis_tx::Error> {
//! let ds = DataSource::from_env()?;
//! // Explicit form, as Ignis:
//! let mut tx = ds.begin(TransactionOptions::default())?;
//! tx.execute("INSERT INTO log (msg) VALUES ($1)", &[&"hello"])?;
//! tx.transaction(|sp| {
//!     // an inner failure rolls back to the savepoint; the outer transaction continues
//!     sp.execute("INSERT INTO log (msg) VALUES ($1)", &[&"maybe"]).map(|_| ())
//! }).ok();
//! tx.commit()?;
//! # Ok(()) }
//! ```

mod config;
mod conn;
mod datasource;
mod error;
mod executor;
mod replica;
mod transaction;

pub use config::{
    DataSourceConfig, HostPort, PoolOptions, ReplicaOptions, SslMode, TargetSessionAttrs,
};
pub use conn::StatementMode;
pub use datasource::{DataSource, PooledConnection};
pub use error::{DatabaseError, Error, ErrorKind, TransactionError};
pub use executor::Executor;
pub use replica::ReplicaStatus;
pub use transaction::{IsolationLevel, Savepoint, Transaction, TransactionOptions};

/// The `postgres` crate as ignis-tx uses it (rows, `ToSql` / `FromSql`, types).
pub use postgres;
