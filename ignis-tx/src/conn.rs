//! A pooled connection's state: the `postgres` client, its statement cache, and what the pool
//! needs to know (broken, inside a failed transaction, possibly inside a transaction block that
//! raw SQL opened, when it was last returned).
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
//!
//! # Check-out and check-in
//! A connection goes back to the pool only outside any transaction block: [`crate::Transaction`]
//! and [`crate::Savepoint`] roll back when dropped, and a [`crate::PooledConnection`] that ran
//! SQL which may have opened a block ([`Conn::tx_unknown`]) sends `ROLLBACK` when dropped, or
//! is discarded when that fails or the thread is panicking ([`Manager::has_broken`] discards
//! any connection still flagged). The `postgres` crate does not expose the transaction status
//! of the protocol's ReadyForQuery message, so the flag is kept from the SQL text instead.
//!
//! A connection that sat idle in the pool longer than
//! [`crate::PoolOptions::idle_check_after`] is checked with an empty query before it is handed
//! out ([`Manager::is_valid`]); one returned more recently is handed out without a round trip,
//! as HikariCP does with its `aliveBypassWindowMs`.

use std::time::{Duration, Instant};

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
    /// Set when SQL that did not come from ignis-tx's own transaction machinery may have opened
    /// (or left open) a transaction block: a transaction-control statement run through a
    /// [`crate::PooledConnection`], or its raw client handed out. Cleared by the `ROLLBACK`
    /// sent when that pooled connection is dropped; a connection returned with it set is
    /// discarded.
    pub(crate) tx_unknown: bool,
    /// When the connection was opened or last returned to the pool: [`Manager::is_valid`]
    /// checks it only when it sat idle longer than the pool's window.
    pub(crate) returned_at: Instant,
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
            tx_unknown: false,
            returned_at: Instant::now(),
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
        self.query_prepared(&stmt, sql, params)
    }

    /// Runs `stmt` (prepared on this connection from `sql`).
    pub(crate) fn query_prepared(
        &mut self,
        stmt: &Statement,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        let started = statement_clock();
        let r = self.client.query(stmt, params);
        if let Some(started) = started {
            tracing::debug!(elapsed = ?started.elapsed(), sql, "query");
        }
        r.map_err(|e| self.fail(sql, e))
    }

    pub(crate) fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, Error> {
        let stmt = self.prepare(sql)?;
        self.execute_prepared(&stmt, sql, params)
    }

    /// Runs `stmt` (prepared on this connection from `sql`) for its row count.
    pub(crate) fn execute_prepared(
        &mut self,
        stmt: &Statement,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, Error> {
        let started = statement_clock();
        let r = self.client.execute(stmt, params);
        if let Some(started) = started {
            tracing::debug!(elapsed = ?started.elapsed(), sql, "execute");
        }
        r.map_err(|e| self.fail(sql, e))
    }

    pub(crate) fn batch_execute(&mut self, sql: &str) -> Result<(), Error> {
        let started = statement_clock();
        let r = self.client.batch_execute(sql);
        if let Some(started) = started {
            tracing::debug!(elapsed = ?started.elapsed(), sql, "batch");
        }
        r.map_err(|e| self.fail(sql, e))
    }
}

/// The start of a statement, for its debug event's `elapsed`: read only when debug events are
/// enabled, so a statement costs no clock read otherwise.
fn statement_clock() -> Option<Instant> {
    tracing::enabled!(tracing::Level::DEBUG).then(Instant::now)
}

/// The r2d2 connection manager: r2d2_postgres's manager for connecting, plus a statement cache
/// per connection, broken-connection detection and the idle check.
///
/// An empty query on every checkout (r2d2's `test_on_check_out` with r2d2_postgres's check)
/// costs ~29 µs here, more than half a primary-key lookup. The pool runs `is_valid` on checkout,
/// but it only sends that query for a connection idle longer than `idle_check_after`; a
/// connection is also dropped when it is returned broken (`has_broken`: closed by the server, a
/// fatal error, a failed rollback, or possibly still inside a transaction block).
pub(crate) struct Manager {
    pub(crate) inner: r2d2_postgres::PostgresConnectionManager<postgres::NoTls>,
    pub(crate) cache_capacity: usize,
    /// [`crate::PoolOptions::idle_check_after`].
    pub(crate) idle_check_after: Duration,
    /// How long the idle check waits for the server's answer.
    pub(crate) check_timeout: Duration,
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

    /// Called by r2d2 on checkout. A connection returned less than `idle_check_after` ago is
    /// handed out as it is; an older one must answer an empty query within `check_timeout`,
    /// else r2d2 discards it and tries the next (or opens a new one).
    fn is_valid(&self, conn: &mut Conn) -> Result<(), ConnectError> {
        if conn.returned_at.elapsed() < self.idle_check_after {
            return Ok(());
        }
        conn.client
            .is_valid(self.check_timeout)
            .map_err(ConnectError)
    }

    /// Called by r2d2 on check-in: records the time (for [`Manager::is_valid`]) and tells
    /// whether the connection must be discarded.
    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.returned_at = Instant::now();
        conn.broken || conn.tx_unknown || conn.client.is_closed()
    }
}

/// Whether one statement (extended protocol: a single statement) may open, close or depend on
/// a transaction block: its first keyword, after whitespace and comments, is a
/// transaction-control command (Postgres manual, "SQL Commands": BEGIN, START TRANSACTION,
/// COMMIT / END, ROLLBACK / ABORT, SAVEPOINT, RELEASE, PREPARE TRANSACTION), or the text starts
/// with a comment that never ends. Runs on every statement of a pooled connection, so it reads
/// only the first word.
pub(crate) fn statement_controls_transaction(sql: &str) -> bool {
    let mut rest = sql.as_bytes();
    loop {
        while let [first, tail @ ..] = rest {
            if first.is_ascii_whitespace() {
                rest = tail;
            } else {
                break;
            }
        }
        if let Some(tail) = rest.strip_prefix(b"--") {
            match tail.iter().position(|&b| b == b'\n') {
                Some(end) => rest = &tail[end..],
                None => return false,
            }
        } else if rest.starts_with(b"/*") {
            match skip_block_comment(rest) {
                Some(tail) => rest = tail,
                None => return true,
            }
        } else {
            break;
        }
    }
    // The common statements (SELECT, INSERT, UPDATE, DELETE, WITH) leave after one or two bytes.
    let upper = |i: usize| rest.get(i).map(u8::to_ascii_uppercase);
    match upper(0) {
        Some(b'B' | b'S' | b'C' | b'E' | b'R' | b'A' | b'P') => {}
        _ => return false,
    }
    if upper(0) == Some(b'S') && upper(1) == Some(b'E') {
        return false;
    }
    let len = rest
        .iter()
        .take(10)
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let word = &rest[..len];
    let candidates: &[&[u8]] = match word.first().map(u8::to_ascii_uppercase) {
        Some(b'B') => &[b"BEGIN"],
        Some(b'S') => &[b"START", b"SAVEPOINT"],
        Some(b'C') => &[b"COMMIT"],
        Some(b'E') => &[b"END"],
        Some(b'R') => &[b"ROLLBACK", b"RELEASE"],
        Some(b'A') => &[b"ABORT"],
        Some(b'P') => &[b"PREPARE"],
        _ => return false,
    };
    candidates.iter().any(|k| word.eq_ignore_ascii_case(k))
}

/// `text` after the (nested) block comment it starts with; `None` when the comment never ends.
fn skip_block_comment(text: &[u8]) -> Option<&[u8]> {
    let mut depth = 0usize;
    let mut i = 0;
    while i + 1 < text.len() {
        match (text[i], text[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(&text[i..]);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Whether a script of `;`-separated statements (simple protocol) may open a transaction block:
/// the word `BEGIN` or `START` appears anywhere in it, in any case (also inside strings, comments
/// and function bodies: a false alarm only costs a `ROLLBACK` when the connection is returned).
pub(crate) fn script_may_open_transaction(sql: &str) -> bool {
    sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
        .any(|w| w.eq_ignore_ascii_case("BEGIN") || w.eq_ignore_ascii_case("START"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_control_is_recognised_through_case_and_comments() {
        for sql in [
            "BEGIN",
            "begin isolation level serializable",
            "  \n\tStart Transaction",
            "-- note\nBEGIN",
            "/* a /* nested */ comment */ commit and chain",
            "END",
            "abort",
            "ROLLBACK",
            "savepoint a",
            "PREPARE TRANSACTION 'x'",
            "/* never closed",
        ] {
            assert!(statement_controls_transaction(sql), "{sql:?}");
        }
        for sql in [
            "SELECT 1",
            "select begin from t",
            "INSERT INTO t (start) VALUES (1)",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "  -- BEGIN\nSELECT 1",
            "/* BEGIN */ SELECT 1",
            "",
            "-- only a comment",
            "beginning",
            "savepoints",
            "rollbacked",
        ] {
            assert!(!statement_controls_transaction(sql), "{sql:?}");
        }
    }

    #[test]
    fn scripts_that_may_begin_are_recognised() {
        assert!(script_may_open_transaction(
            "SELECT 1; begin; INSERT INTO t VALUES (1)"
        ));
        assert!(script_may_open_transaction("START TRANSACTION READ ONLY"));
        assert!(script_may_open_transaction("select 1;BEGIN"));
        assert!(!script_may_open_transaction(
            "SET search_path = app; SELECT 1"
        ));
        assert!(!script_may_open_transaction(
            "CREATE TABLE starts (began int)"
        ));
    }
}
