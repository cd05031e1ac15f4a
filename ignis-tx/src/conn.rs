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
//! # Unnamed statements (PgBouncer transaction pooling)
//! Behind a pooler that hands each transaction (or each statement outside one) whichever
//! server connection is free, as PgBouncer's `pool_mode = transaction` does, a statement
//! prepared under a name on one server connection is unknown on the next one (SQLSTATE 26000
//! "prepared statement does not exist"), or names another client's statement there. With
//! [`StatementMode::Unnamed`] no named prepared statement outlives the transaction that
//! prepared it:
//! - each statement runs as the protocol's unnamed statement, parsed, bound and executed in
//!   one message sequence ending in one Sync (the `postgres` crate's `query_typed` /
//!   `execute_typed`), so the pooler cannot switch server connections in between;
//! - that path needs the parameter types up front. They are learned once per SQL text and
//!   connection (the *shape* cache, bounded like the statement cache): the statement is
//!   prepared under a name and closed again inside one transaction block (its own
//!   `BEGIN` .. `COMMIT` outside a transaction: three round trips, once per text);
//! - the `postgres` crate resolves types it does not know (enums, domains, composites,
//!   extension types) with named statements of its own, which it keeps for the life of the
//!   client. When a shape holds such a type, the block that learned it ends with
//!   `DEALLOCATE ALL` (in the same message as the `COMMIT` or `ROLLBACK`, so on the same server
//!   connection), and the connection is marked [`Conn::typeinfo_stale`]: it is never used to
//!   learn another shape (a pooled connection swaps it for a fresh one first) and is closed
//!   when it goes back to the pool.
//!
//! Each statement is then parsed and planned by the server on every run: the price of running
//! through the pooler, reported by the benchmark.
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

use std::sync::Arc;

use postgres::types::{ToSql, Type};
use postgres::{Client, Row, Statement};

use crate::Error;

/// How statements reach the server ([`crate::DataSourceConfig::statement_mode`]).
///
/// ```
/// use ignis_tx::{DataSourceConfig, StatementMode};
/// let c = DataSourceConfig::from_url("postgres://app@bouncer:6432/shop?pgbouncer=true").unwrap();
/// assert_eq!(c.statement_mode, StatementMode::Unnamed);
/// assert_eq!(DataSourceConfig::default().statement_mode, StatementMode::Prepared);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StatementMode {
    /// Named prepared statements, cached per connection by SQL text: one round trip per
    /// statement after the first. For a direct connection to Postgres, or a pooler in session
    /// mode. The default.
    #[default]
    Prepared,
    /// No named prepared statement outlives a transaction: statements run unnamed, with
    /// parameter types learned once per SQL text (see the module documentation of the
    /// connection). For PgBouncer (1.18 and others without prepared-statement support) in
    /// `pool_mode = transaction` or `statement`. Set by the URL parameter `pgbouncer=true`
    /// (Prisma's name for it) or the variable `POSTGRES_PGBOUNCER=true`.
    ///
    /// What a session keeps between transactions is not kept through such a pooler: a `SET`
    /// outside a transaction, session advisory locks, `LISTEN`, temporary tables and
    /// `WITH HOLD` cursors land on whichever server connection runs that statement. Use
    /// transactions (`SET LOCAL`, `pg_advisory_xact_lock`) instead. Startup options are
    /// refused by PgBouncer, so [`crate::PoolOptions::statement_timeout`] is refused in this
    /// mode (set it on the role or database, or per transaction).
    Unnamed,
}

impl StatementMode {
    /// Reads a `pgbouncer` setting: `true` / `1` / `yes` / `on` is [`StatementMode::Unnamed`],
    /// `false` / `0` / `no` / `off` is [`StatementMode::Prepared`] (any case, surrounding
    /// blanks ignored); anything else is `None`.
    pub fn from_pgbouncer_flag(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(StatementMode::Unnamed),
            "false" | "0" | "no" | "off" => Some(StatementMode::Prepared),
            _ => None,
        }
    }
}

/// `url` without its `pgbouncer` parameter (a URL query parameter or a `pgbouncer=..` word of
/// a key-value string), which the `postgres` crate would refuse as unknown, and the mode it
/// asks for.
///
/// # Errors
/// [`Error::Config`] when the value is not a boolean.
pub(crate) fn take_pgbouncer_param(url: &str) -> Result<(String, Option<StatementMode>), Error> {
    let bad = |v: &str| {
        Error::Config(format!(
            "pgbouncer={v:?} in the connection string: expected true or false"
        ))
    };
    let mut mode = None;
    if url.contains("://") {
        let Some((base, query)) = url.split_once('?') else {
            return Ok((url.to_string(), None));
        };
        let mut kept = Vec::new();
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("pgbouncer", value)) => {
                    mode =
                        Some(StatementMode::from_pgbouncer_flag(value).ok_or_else(|| bad(value))?);
                }
                _ => kept.push(pair),
            }
        }
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return Ok((rest, mode));
    }
    let mut kept = Vec::new();
    for word in url.split_whitespace() {
        match word.split_once('=') {
            Some(("pgbouncer", value)) => {
                mode = Some(StatementMode::from_pgbouncer_flag(value).ok_or_else(|| bad(value))?);
            }
            _ => kept.push(word),
        }
    }
    if mode.is_none() {
        return Ok((url.to_string(), None));
    }
    Ok((kept.join(" "), mode))
}

/// What the unnamed path needs to know of a statement: its parameter types (declared in the
/// Parse message) and its result column types.
struct Shape {
    params: Vec<Type>,
    columns: Vec<Type>,
}

/// A bounded map keyed by SQL text, least recently used evicted beyond its capacity.
struct StatementCache<V> {
    /// Keyed by SQL text with FxHash: a lookup per statement run, on text the caller built,
    /// so SipHash's flood resistance buys nothing here and costs ~10x.
    map: rustc_hash::FxHashMap<Box<str>, (V, u64)>,
    tick: u64,
    capacity: usize,
}

impl<V: Clone> StatementCache<V> {
    fn new(capacity: usize) -> Self {
        StatementCache {
            map: rustc_hash::FxHashMap::default(),
            tick: 0,
            capacity,
        }
    }

    fn get(&mut self, sql: &str) -> Option<V> {
        self.tick += 1;
        let tick = self.tick;
        self.map.get_mut(sql).map(|(s, used)| {
            *used = tick;
            s.clone()
        })
    }

    fn insert(&mut self, sql: &str, stmt: V) {
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
    cache: StatementCache<Statement>,
    /// [`StatementMode::Unnamed`]: statements run unnamed, with types from `shapes`.
    unnamed: bool,
    /// Parameter and column types by SQL text, for the unnamed path.
    shapes: StatementCache<Arc<Shape>>,
    /// The current transaction block learned a shape with a type the `postgres` crate looked
    /// up with its own named statements: the block must end with `DEALLOCATE ALL`
    /// ([`Conn::finish_block`]).
    typeinfo_on_server: bool,
    /// The client holds handles to type-lookup statements that were deallocated: it must not
    /// learn another shape, and the pool closes it on check-in.
    pub(crate) typeinfo_stale: bool,
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
            cache: StatementCache::new(cache_capacity),
            unnamed: false,
            shapes: StatementCache::new(cache_capacity),
            typeinfo_on_server: false,
            typeinfo_stale: false,
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
            // A parameter type no longer matching (after DDL) is learned again next time.
            if matches!(code, "42804" | "42883" | "42P08" | "22P02") {
                self.shapes.map.remove(sql);
            }
        } else if e.is_closed() {
            self.broken = true;
        }
        self.aborted = true;
        Error::from(e)
    }

    /// Whether statements run unnamed ([`StatementMode::Unnamed`]).
    pub(crate) fn is_unnamed(&self) -> bool {
        self.unnamed
    }

    /// A named prepared statement for `sql`, from the cache or prepared now.
    ///
    /// # Errors
    /// In [`StatementMode::Unnamed`], [`Error::Config`]: a named statement handed out could
    /// outlive the transaction (use [`Conn::column_types`]); else the server's error.
    pub(crate) fn prepare(&mut self, sql: &str) -> Result<Statement, Error> {
        if self.unnamed {
            return Err(Error::Config(
                "named prepared statements are off (statement mode unnamed, for PgBouncer \
                 transaction pooling); Executor::column_types gives a statement's column types"
                    .into(),
            ));
        }
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

    /// Runs `sql` inside the current transaction block (a [`crate::Transaction`] or
    /// [`crate::Savepoint`]).
    pub(crate) fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        if self.unnamed {
            return self.query_unnamed(sql, params, true);
        }
        let stmt = self.prepare(sql)?;
        self.query_prepared(&stmt, sql, params)
    }

    /// The result column types of `sql`: from the named statement's description, or in
    /// [`StatementMode::Unnamed`] from the shape cache (learned inside the current block when
    /// `in_block`, else inside a block of its own).
    pub(crate) fn column_types(&mut self, sql: &str, in_block: bool) -> Result<Vec<Type>, Error> {
        if self.unnamed {
            return Ok(self.shape(sql, in_block)?.columns.clone());
        }
        let stmt = self.prepare(sql)?;
        Ok(stmt.columns().iter().map(|c| c.type_().clone()).collect())
    }

    /// Whether the shape of `sql` is known (so running it learns nothing).
    pub(crate) fn has_shape(&self, sql: &str) -> bool {
        self.shapes.map.contains_key(sql)
    }

    /// The shape of `sql`, from the cache or learned now: prepared under a name, described and
    /// closed again inside one transaction block (the caller's when `in_block`, else a
    /// `BEGIN` .. `COMMIT` of its own), so the pooler keeps one server connection for all of it.
    fn shape(&mut self, sql: &str, in_block: bool) -> Result<Arc<Shape>, Error> {
        if let Some(shape) = self.shapes.get(sql) {
            return Ok(shape);
        }
        if !in_block {
            self.batch_execute("BEGIN")?;
        }
        let learned = match self.client.prepare(sql) {
            Ok(stmt) => {
                let shape = Shape {
                    params: stmt.params().to_vec(),
                    columns: stmt.columns().iter().map(|c| c.type_().clone()).collect(),
                };
                // Dropping the statement queues its Close, sent ahead of the next message:
                // still inside this block, so on the same server connection.
                drop(stmt);
                if shape
                    .params
                    .iter()
                    .chain(&shape.columns)
                    .any(|t| Type::from_oid(t.oid()).is_none())
                {
                    self.typeinfo_on_server = true;
                }
                Ok(shape)
            }
            Err(e) => {
                // A failure may come after the client prepared type-lookup statements.
                self.typeinfo_on_server = true;
                Err(self.fail(sql, e))
            }
        };
        if !in_block {
            let end = if learned.is_ok() {
                "COMMIT"
            } else {
                "ROLLBACK"
            };
            let ended = self.finish_block(end);
            if ended.is_err() {
                self.broken = true;
            }
            // The block was ours: a failure inside it does not abort anything of the caller.
            self.aborted = false;
            ended?;
        }
        let shape = Arc::new(learned?);
        self.shapes.insert(sql, shape.clone());
        Ok(shape)
    }

    /// Ends the current transaction block with `end` (`COMMIT` or `ROLLBACK`), deallocating
    /// in the same message the type-lookup statements a shape learned in it left on the server
    /// connection (`DEALLOCATE ALL` before `COMMIT`, after `ROLLBACK`, so it runs whether or not
    /// the block failed); the client's handles to them are then stale.
    ///
    /// # Errors
    /// The server's error for the message.
    pub(crate) fn finish_block(&mut self, end: &str) -> Result<(), Error> {
        if !self.typeinfo_on_server {
            return self.batch_execute(end);
        }
        let sql = if end.eq_ignore_ascii_case("COMMIT") {
            format!("DEALLOCATE ALL; {end}")
        } else {
            format!("{end}; DEALLOCATE ALL")
        };
        self.batch_execute(&sql)?;
        self.typeinfo_on_server = false;
        self.typeinfo_stale = true;
        Ok(())
    }

    /// `params` paired with the shape's parameter types.
    fn typed_params<'p>(
        shape: &Shape,
        params: &[&'p (dyn ToSql + Sync)],
    ) -> Result<Vec<(&'p (dyn ToSql + Sync), Type)>, Error> {
        if shape.params.len() != params.len() {
            return Err(Error::Config(format!(
                "the statement has {} parameters, {} were given",
                shape.params.len(),
                params.len()
            )));
        }
        Ok(params
            .iter()
            .zip(&shape.params)
            .map(|(p, t)| (*p, t.clone()))
            .collect())
    }

    /// Runs `sql` as the unnamed statement (one round trip), with its shape learned first
    /// when unknown (inside the caller's block when `in_block`).
    pub(crate) fn query_unnamed(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        in_block: bool,
    ) -> Result<Vec<Row>, Error> {
        let shape = self.shape(sql, in_block)?;
        let typed = Self::typed_params(&shape, params)?;
        let started = statement_clock();
        let r = self.client.query_typed(sql, &typed);
        if let Some(started) = started {
            tracing::debug!(elapsed = ?started.elapsed(), sql, "query (unnamed)");
        }
        r.map_err(|e| self.fail(sql, e))
    }

    /// [`Conn::query_unnamed`] for the number of rows affected.
    pub(crate) fn execute_unnamed(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        in_block: bool,
    ) -> Result<u64, Error> {
        let shape = self.shape(sql, in_block)?;
        let typed = Self::typed_params(&shape, params)?;
        let started = statement_clock();
        let r = self.client.execute_typed(sql, &typed);
        if let Some(started) = started {
            tracing::debug!(elapsed = ?started.elapsed(), sql, "execute (unnamed)");
        }
        r.map_err(|e| self.fail(sql, e))
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

    /// Runs `sql` inside the current transaction block for its row count.
    pub(crate) fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, Error> {
        if self.unnamed {
            return self.execute_unnamed(sql, params, true);
        }
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
    /// [`crate::DataSourceConfig::statement_mode`].
    pub(crate) statement_mode: StatementMode,
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

/// The pool holds each [`Conn`] boxed: r2d2 moves a connection by value between its idle list
/// and the checked-out handle several times per checkout and check-in, and a box makes each
/// move one pointer instead of the whole client and its statement caches.
impl r2d2::ManageConnection for Manager {
    type Connection = Box<Conn>;
    type Error = ConnectError;

    fn connect(&self) -> Result<Box<Conn>, ConnectError> {
        let client = self.inner.connect().map_err(ConnectError)?;
        let mut conn = Conn::new(client, self.cache_capacity);
        conn.unnamed = self.statement_mode == StatementMode::Unnamed;
        Ok(Box::new(conn))
    }

    /// Called by r2d2 on checkout. A connection returned less than `idle_check_after` ago is
    /// handed out as it is; an older one must answer an empty query within `check_timeout`,
    /// else r2d2 discards it and tries the next (or opens a new one).
    fn is_valid(&self, conn: &mut Box<Conn>) -> Result<(), ConnectError> {
        if conn.returned_at.elapsed() < self.idle_check_after {
            return Ok(());
        }
        conn.client
            .is_valid(self.check_timeout)
            .map_err(ConnectError)
    }

    /// Called by r2d2 on check-in: records the time (for [`Manager::is_valid`]) and tells
    /// whether the connection must be discarded.
    fn has_broken(&self, conn: &mut Box<Conn>) -> bool {
        conn.returned_at = Instant::now();
        conn.broken || conn.tx_unknown || conn.typeinfo_stale || conn.client.is_closed()
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
    fn the_pgbouncer_parameter_is_taken_out_of_urls_and_key_value_strings() {
        let take = |s: &str| take_pgbouncer_param(s).unwrap();
        assert_eq!(
            take("postgres://u@h:6432/db?pgbouncer=true"),
            (
                "postgres://u@h:6432/db".to_string(),
                Some(StatementMode::Unnamed)
            )
        );
        assert_eq!(
            take("postgres://u@h/db?application_name=x&pgbouncer=false&sslmode=disable"),
            (
                "postgres://u@h/db?application_name=x&sslmode=disable".to_string(),
                Some(StatementMode::Prepared)
            )
        );
        assert_eq!(
            take("postgres://u@h/db?application_name=x"),
            ("postgres://u@h/db?application_name=x".to_string(), None)
        );
        assert_eq!(
            take("host=h pgbouncer=1 dbname=db"),
            ("host=h dbname=db".to_string(), Some(StatementMode::Unnamed))
        );
        assert_eq!(
            take("host=h dbname=db"),
            ("host=h dbname=db".to_string(), None)
        );
        let err = take_pgbouncer_param("postgres://h/db?pgbouncer=maybe").unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err}");
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
