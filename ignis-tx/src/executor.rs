//! [`Executor`]: the one way SQL runs in ignis-rs, implemented by a pooled connection, a
//! transaction and a savepoint alike.

use postgres::types::ToSql;
use postgres::{Row, Statement};

use crate::Error;

/// Runs SQL with statements from the connection's cache (prepared once per connection, keyed by
/// SQL text). Implemented by [`crate::PooledConnection`], [`crate::Transaction`] and
/// [`crate::Savepoint`], so code written against `&mut impl Executor` (or `&mut dyn Executor`)
/// reads the same inside and outside a transaction.
///
/// Parameters are bound in the binary protocol; their Rust types must match the Postgres types
/// of the placeholders (`i32` for `integer`, `i64` for `bigint`, ...).
///
/// ```no_run
/// use ignis_tx::{DataSource, Executor, TransactionOptions};
/// fn count_users(exec: &mut impl Executor) -> Result<i64, ignis_tx::Error> {
///     Ok(exec.query_one("SELECT count(*) FROM \"User\"", &[])?.get(0))
/// }
/// # fn main() -> Result<(), ignis_tx::Error> {
/// let ds = DataSource::from_env()?;
/// let outside = count_users(&mut ds.connection()?)?;
/// let inside = ds.transaction(TransactionOptions::default(), |tx| count_users(tx))?;
/// # Ok(()) }
/// ```
pub trait Executor {
    /// Runs a statement and returns all rows.
    ///
    /// # Errors
    /// [`Error::Database`] with the server's SQLSTATE, [`Error::Client`] when the connection
    /// failed or a parameter does not convert, [`Error::TransactionInactive`] on a finished
    /// transaction.
    fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, Error>;

    /// [`Executor::query`] of `sql` with `stmt`, the statement [`Executor::prepare`] of this
    /// executor gave for `sql`, so the statement cache is not searched a second time (for a
    /// caller that read the statement's description first). The default runs
    /// [`Executor::query`].
    ///
    /// # Errors
    /// As [`Executor::query`].
    fn query_statement(
        &mut self,
        stmt: &Statement,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        let _ = stmt;
        self.query(sql, params)
    }

    /// Runs a statement that must return exactly one row.
    ///
    /// # Errors
    /// As [`Executor::query`], and [`Error::RowCount`] for zero or several rows.
    fn query_one(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row, Error> {
        let mut rows = self.query(sql, params)?;
        if rows.len() == 1 {
            if let Some(row) = rows.pop() {
                return Ok(row);
            }
        }
        Err(Error::RowCount(rows.len()))
    }

    /// Runs a statement that returns at most one row.
    ///
    /// # Errors
    /// As [`Executor::query`], and [`Error::RowCount`] for several rows.
    fn query_opt(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, Error> {
        let mut rows = self.query(sql, params)?;
        match rows.len() {
            0 => Ok(None),
            1 => Ok(rows.pop()),
            n => Err(Error::RowCount(n)),
        }
    }

    /// Runs a statement and returns the number of rows it affected.
    ///
    /// # Errors
    /// As [`Executor::query`].
    fn execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, Error>;

    /// Runs one or more `;`-separated statements without parameters, in the simple query
    /// protocol (DDL, `SET`). Not cached.
    ///
    /// # Errors
    /// As [`Executor::query`]; statements before the failing one have run (inside a
    /// transaction they are rolled back with it).
    fn batch_execute(&mut self, sql: &str) -> Result<(), Error>;

    /// The prepared statement for `sql`, from the cache or prepared now (to read its parameter
    /// and column types).
    ///
    /// # Errors
    /// As [`Executor::query`]; [`Error::Config`] in [`crate::StatementMode::Unnamed`], where no
    /// named statement is handed out (it could outlive its transaction behind a pooler): use
    /// [`Executor::column_types`].
    fn prepare(&mut self, sql: &str) -> Result<Statement, Error>;

    /// The result column types of `sql` as the server describes it, without running it (to
    /// check a result can be decoded before a write that cannot be undone). From the
    /// connection's statement cache, or in [`crate::StatementMode::Unnamed`] from its cache of
    /// statement shapes; the default asks [`Executor::prepare`].
    ///
    /// # Errors
    /// As [`Executor::query`].
    fn column_types(&mut self, sql: &str) -> Result<Vec<postgres::types::Type>, Error> {
        Ok(self
            .prepare(sql)?
            .columns()
            .iter()
            .map(|c| c.type_().clone())
            .collect())
    }

    /// How this executor's connection sends statements ([`crate::StatementMode`]): code that
    /// uses the raw [`Executor::client`], whose `COPY` and `query` prepare named statements,
    /// must not do so outside a transaction under [`crate::StatementMode::Unnamed`]. The
    /// default answers [`crate::StatementMode::Prepared`].
    fn statement_mode(&mut self) -> crate::StatementMode {
        crate::StatementMode::Prepared
    }

    /// The underlying `postgres` client, for what this trait does not cover (`COPY`,
    /// notifications). Statements run on it bypass the cache and the failed-transaction
    /// tracking: a failed statement inside a transaction must be reported by returning an
    /// error from the scope.
    ///
    /// # Errors
    /// [`Error::TransactionInactive`] on a finished transaction.
    fn client(&mut self) -> Result<&mut postgres::Client, Error>;
}

/// Implements [`Executor`] for a type with `fn conn(&mut self) -> Result<&mut Conn, Error>`.
macro_rules! impl_executor {
    ($ty:ty) => {
        impl $crate::Executor for $ty {
            fn query(
                &mut self,
                sql: &str,
                params: &[&(dyn postgres::types::ToSql + Sync)],
            ) -> Result<Vec<postgres::Row>, $crate::Error> {
                self.conn()?.query(sql, params)
            }
            fn query_statement(
                &mut self,
                stmt: &postgres::Statement,
                sql: &str,
                params: &[&(dyn postgres::types::ToSql + Sync)],
            ) -> Result<Vec<postgres::Row>, $crate::Error> {
                let conn = self.conn()?;
                if conn.is_unnamed() {
                    return conn.query(sql, params);
                }
                conn.query_prepared(stmt, sql, params)
            }
            fn execute(
                &mut self,
                sql: &str,
                params: &[&(dyn postgres::types::ToSql + Sync)],
            ) -> Result<u64, $crate::Error> {
                self.conn()?.execute(sql, params)
            }
            fn batch_execute(&mut self, sql: &str) -> Result<(), $crate::Error> {
                self.conn()?.batch_execute(sql)
            }
            fn prepare(&mut self, sql: &str) -> Result<postgres::Statement, $crate::Error> {
                self.conn()?.prepare(sql)
            }
            fn column_types(
                &mut self,
                sql: &str,
            ) -> Result<Vec<postgres::types::Type>, $crate::Error> {
                self.conn()?.column_types(sql, true)
            }
            fn statement_mode(&mut self) -> $crate::StatementMode {
                match self.conn() {
                    Ok(c) if c.is_unnamed() => $crate::StatementMode::Unnamed,
                    _ => $crate::StatementMode::Prepared,
                }
            }
            fn client(&mut self) -> Result<&mut postgres::Client, $crate::Error> {
                Ok(self.conn()?.client())
            }
        }
    };
}
pub(crate) use impl_executor;

impl<E: Executor + ?Sized> Executor for &mut E {
    fn query(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>, Error> {
        (**self).query(sql, params)
    }
    fn query_statement(
        &mut self,
        stmt: &Statement,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        (**self).query_statement(stmt, sql, params)
    }
    fn execute(&mut self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, Error> {
        (**self).execute(sql, params)
    }
    fn batch_execute(&mut self, sql: &str) -> Result<(), Error> {
        (**self).batch_execute(sql)
    }
    fn prepare(&mut self, sql: &str) -> Result<Statement, Error> {
        (**self).prepare(sql)
    }
    fn column_types(&mut self, sql: &str) -> Result<Vec<postgres::types::Type>, Error> {
        (**self).column_types(sql)
    }
    fn statement_mode(&mut self) -> crate::StatementMode {
        (**self).statement_mode()
    }
    fn client(&mut self) -> Result<&mut postgres::Client, Error> {
        (**self).client()
    }
}
