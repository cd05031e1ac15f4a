//! A pooled connection's state: the `postgres` client, its statement cache, and what the pool
//! needs to know (broken, inside a failed transaction).
//!
//! # Statement cache
//! The `postgres` crate prepares a statement on every `client.query(&str, ..)` call (one extra
//! round trip, ~140 µs against ~43 µs for a prepared primary-key lookup on this project's
//! machine). Each connection therefore keeps its prepared statements in a map keyed by SQL text.
//! The map is bounded ([`crate::PoolOptions::statement_cache_capacity`]); beyond it the least
//! recently used statement is evicted (an O(n) scan that only runs on a miss at capacity). SQL
//! whose text varies with input size would flood it: callers bind lists as one array parameter
//! (`col = ANY($1)`), as the repositories do. A statement the server invalidated (SQLSTATE 0A000
//! "cached plan must not change result type" after DDL, 26000 unknown statement) is dropped from
//! the cache when it fails, so the next call prepares it afresh.

use std::time::Instant;

use postgres::types::ToSql;
use postgres::{Client, Row, Statement};

use crate::Error;

struct StatementCache {
    /// Keyed by SQL text with FxHash: a lookup per statement run, on text the caller built,
    /// so SipHash's flood resistance buys nothing here and costs ~10x.
    map: rustc_hash::FxHashMap<Box<str>, (Statement, u64)>,
    tick: u64,
    capacity: usize,
}

impl StatementCache {
    fn get(&mut self, sql: &str) -> Option<Statement> {
        self.tick += 1;
        let tick = self.tick;
        self.map.get_mut(sql).map(|(s, used)| {
            *used = tick;
            s.clone()
        })
    }

    fn insert(&mut self, sql: &str, stmt: Statement) {
        if self.capacity == 0 {
            return;
        }
        if self.map.len() >= self.capacity {
            if let Some(oldest) = self
                .map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            {
                self.map.remove(&oldest);
            }
        }
        self.map.insert(sql.into(), (stmt, self.tick));
    }
}

/// One server connection with its cache and state, as the pool holds it.
pub struct Conn {
    client: Client,
    cache: StatementCache,
    /// Set when the connection must not go back to the pool (closed, fatal error, failed
    /// rollback); r2d2 then drops it (`has_broken`).
    pub(crate) broken: bool,
    /// Set when a statement failed inside the current transaction, so COMMIT would silently
    /// roll back: [`crate::Transaction::commit`] reports it instead. Cleared by BEGIN and by
    /// rolling back to a savepoint.
    pub(crate) aborted: bool,
    /// Counter for savepoint names (`ignis_sp_{n}`).
    pub(crate) savepoint_seq: u64,
}

impl Conn {
    pub(crate) fn new(client: Client, cache_capacity: usize) -> Self {
        Conn {
            client,
            cache: StatementCache {
                map: rustc_hash::FxHashMap::default(),
                tick: 0,
                capacity: cache_capacity,
            },
            broken: false,
            aborted: false,
            savepoint_seq: 0,
        }
    }

    pub(crate) fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Records a failure: decides whether the connection is broken and whether a cached
    /// statement must go.
    fn fail(&mut self, sql: &str, e: postgres::Error) -> Error {
        if self.client.is_closed() {
            self.broken = true;
        }
        if let Some(db) = e.as_db_error() {
            let code = db.code().code();
            // 57P0x: admin shutdown / crash shutdown / cannot connect now; 08xxx: connection
            // exceptions; FATAL and PANIC end the session.
            if code.starts_with("57P")
                || code.starts_with("08")
                || matches!(db.severity(), "FATAL" | "PANIC")
            {
                self.broken = true;
            }
            if code == "0A000" || code == "26000" {
                self.cache.map.remove(sql);
            }
        } else if e.is_closed() {
            self.broken = true;
        }
        self.aborted = true;
        Error::from(e)
    }

    pub(crate) fn prepare(&mut self, sql: &str) -> Result<Statement, Error> {
        if let Some(s) = self.cache.get(sql) {
            return Ok(s);
        }
        match self.client.prepare(sql) {
            Ok(s) => {
                self.cache.insert(sql, s.clone());
                Ok(s)
            }
            Err(e) => Err(self.fail(sql, e)),
        }
    }

    pub(crate) fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        let stmt = self.prepare(sql)?;
        let started = Instant::now();
        let r = self.client.query(&stmt, params);
        tracing::debug!(elapsed = ?started.elapsed(), sql, "query");
        r.map_err(|e| self.fail(sql, e))
    }

    pub(crate) fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, Error> {
        let stmt = self.prepare(sql)?;
        let started = Instant::now();
        let r = self.client.execute(&stmt, params);
        tracing::debug!(elapsed = ?started.elapsed(), sql, "execute");
        r.map_err(|e| self.fail(sql, e))
    }

    pub(crate) fn batch_execute(&mut self, sql: &str) -> Result<(), Error> {
        let started = Instant::now();
        let r = self.client.batch_execute(sql);
        tracing::debug!(elapsed = ?started.elapsed(), sql, "batch");
        r.map_err(|e| self.fail(sql, e))
    }
}

/// The r2d2 connection manager: r2d2_postgres's manager for connecting and validating, plus a
/// statement cache per connection and broken-connection detection.
///
/// r2d2's default `test_on_check_out` runs a query on every checkout (~29 µs here); the pool is
/// built with it off, and a connection is instead dropped when it is returned broken
/// (`has_broken`: closed by the server, a fatal error, or a failed rollback).
pub(crate) struct Manager {
    pub(crate) inner: r2d2_postgres::PostgresConnectionManager<postgres::NoTls>,
    pub(crate) cache_capacity: usize,
}

/// A connection error whose message includes its cause chain (`error connecting to server:
/// Connection refused (os error 111)`): r2d2 keeps only the message of the last error, and the
/// `postgres` crate's own message leaves the cause out.
#[derive(Debug)]
pub(crate) struct ConnectError(pub(crate) postgres::Error);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = std::error::Error::source(&self.0);
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

impl std::error::Error for ConnectError {}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = ConnectError;

    fn connect(&self) -> Result<Conn, ConnectError> {
        let client = self.inner.connect().map_err(ConnectError)?;
        Ok(Conn::new(client, self.cache_capacity))
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), ConnectError> {
        conn.client
            .simple_query("")
            .map(|_| ())
            .map_err(ConnectError)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.broken || conn.client.is_closed()
    }
}
