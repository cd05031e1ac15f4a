//! Streaming reads: a filter's rows read through a server-side cursor, one batch at a time.
//!
//! [`RowStream`] is what [`Repository::find_iter`](crate::Repository::find_iter) returns. It
//! runs the statement [`Call::fetch`] would run (the same plan: default filter, `fields`,
//! hidden properties, order, limit and skip; the same [`SqlWriter`](super::sql::SqlWriter) and
//! bound values) as `DECLARE <cursor> NO SCROLL CURSOR FOR <select>`, then reads it with
//! `FETCH FORWARD <batch> FROM <cursor>` (PostgreSQL manual, DECLARE and FETCH). Only one batch
//! of rows is in memory at a time; each row is decoded when the iterator yields it, by the
//! same decoders as `find` (JSON rows or the handle's [`FromRow`](crate::FromRow) type).
//!
//! **Includes** are loaded per batch: each batch is a level of its own for the engine's include
//! step ([`Call::include`]), so a filter with includes costs one query per included relation
//! and level per batch, and an include scope's `limit` / `skip` apply per parent as in `find`.
//!
//! **Where the cursor lives.** A cursor exists only inside a transaction block. On a pooled
//! handle the stream opens its own `REPEATABLE READ READ ONLY` transaction (one snapshot for
//! the parents and every batch of included rows; a read-only transaction at that level never
//! fails with a serialization error) and ends it when the stream is exhausted, fails or is
//! dropped, which returns the connection to the pool. On a handle bound to an executor
//! ([`Repository::on`](crate::Repository::on)) the cursor runs in the caller's transaction or
//! savepoint and is closed (`CLOSE`) at the same moments; the transaction stays the caller's.
//! A bare pooled connection has no transaction block, so the server refuses the cursor there
//! (SQLSTATE 25P01).
//!
//! **Statements.** `DECLARE` runs through the executor's statement cache (its text is the
//! select's, so a filter of the same shape reuses it), under a cursor name that is stable per
//! open cursor (`ignis_stream_0`, then the lowest free `ignis_stream_<n>` in the transaction,
//! read from `pg_cursors`), so the cache holds one entry per select shape rather than one per
//! stream. `FETCH` runs as an unnamed statement (`query_typed`: parse, bind, describe and
//! execute in one round trip): a cached `FETCH` would keep the row description of the first
//! cursor of that name, which another select under the same name does not share. A `FETCH`
//! that fails is followed by a `CLOSE` through the executor, which the server refuses in the
//! failed transaction; that refusal is what tells ignis-tx the transaction failed, so a later
//! commit of the caller's transaction reports it rather than silently rolling back.
//!
//! **Errors.** Opening (the filter, the connection, `DECLARE`) fails with the `Err` of
//! `find_iter`; a failure while reading (a `FETCH` the server refuses, a row that does not
//! decode) is one `Err` item, after which the iterator ends.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Arc;

use ignis_tx::{DataSource, Executor, IsolationLevel, Transaction, TransactionOptions};
use serde_json::Value as JsonValue;

use super::{join_column, relation, sql};
use crate::context::{Call, CallOptions, Shared};
use crate::filter::Filter;
use crate::rows::{self, Decoder, Row, RowDecoder, RowRef, RowSet};
use crate::RepoError;

/// Rows per `FETCH` when the caller does not say ([`RowStream::batch_size`]).
pub const DEFAULT_BATCH_SIZE: u32 = 1000;

/// An executor a stream borrows once per batch (a handle bound with
/// [`Repository::on`](crate::Repository::on)): `f` runs on it, or the handle is busy with
/// another call ([`RepoError::HandleInUse`]).
pub(crate) trait ExecSource {
    /// Runs `f` on the executor.
    ///
    /// # Errors
    /// [`RepoError::HandleInUse`], or `f`'s error.
    fn with_exec(
        &self,
        f: &mut dyn FnMut(&mut dyn Executor) -> Result<(), RepoError>,
    ) -> Result<(), RepoError>;
}

/// Where a stream's cursor lives.
enum Source<'h> {
    /// A read-only transaction of the stream's own (boxed: a transaction holds its pooled
    /// connection's state inline); `None` once it ended.
    Own(Option<Box<Transaction>>),
    /// The caller's executor (a transaction or savepoint), borrowed per batch.
    On(&'h dyn ExecSource),
}

/// What the stream reads: the parsed filter (its includes are loaded per batch), the model
/// columns the cursor selects and the `(position, column)` pairs the caller gets.
struct Plan {
    model: usize,
    filter: Filter,
    columns: Vec<usize>,
    out: Vec<(usize, usize)>,
}

/// The rows of a filter, read through a server-side cursor in batches: an iterator of
/// `Result<E, RepoError>` where `E` is the repository's row type (JSON objects or a
/// [`FromRow`](crate::FromRow) type). Made by
/// [`Repository::find_iter`](crate::Repository::find_iter).
///
/// The cursor runs the select `find` would run (`DECLARE .. NO SCROLL CURSOR FOR ..`, the same
/// SQL and bound values), read with `FETCH FORWARD <batch size>`. At most one batch of rows
/// ([`RowStream::batch_size`], default [`DEFAULT_BATCH_SIZE`]) and its included rows are in
/// memory at a time; each batch is decoded as `find` decodes its rows. The stream's
/// transaction (pooled handle) or cursor (handle on an executor) ends when the last row has
/// been read, when an error is yielded (the iterator then ends; the rows before a row that
/// fails to decode are yielded first), or when the stream is dropped. A stream of its own
/// transaction holds a pooled connection until then. The stream is not `Send`: make it on the
/// thread that reads it (repositories are `Send + Sync`).
///
/// ```no_run
/// use ignis_repo::prelude::*;
/// # fn run(users: ReadableRepository) -> Result<(), RepoError> {
/// let mut active = 0;
/// for row in users.find_iter(&serde_json::json!({"where": {"status": "ACTIVE"}}))?.batch_size(500) {
///     let _user = row?;
///     active += 1;
/// }
/// # Ok(()) }
/// ```
pub struct RowStream<'h, E> {
    shared: Arc<Shared>,
    opts: CallOptions,
    source: Source<'h>,
    /// The cursor's name (`ignis_stream_<n>`).
    cursor: String,
    plan: Plan,
    batch_size: u32,
    /// The decoded rows of the current batch not yielded yet.
    rows: std::vec::IntoIter<E>,
    /// The error that ends the current batch, yielded after `rows`.
    error: Option<RepoError>,
    /// The cursor is closed (the last batch is read, or an error ended the stream); rows of
    /// the current batch may remain.
    closed: bool,
    /// Nothing more will be yielded.
    done: bool,
    _row: PhantomData<fn() -> E>,
}

impl<E> std::fmt::Debug for RowStream<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowStream")
            .field("model", &self.shared.schema.models()[self.plan.model].name)
            .field("cursor", &self.cursor)
            .field("batch_size", &self.batch_size)
            .field("own_transaction", &matches!(self.source, Source::Own(_)))
            .field("closed", &self.closed)
            .finish()
    }
}

/// Parses `filter` against the handle's model (default filter merged unless the handle skips
/// it) and plans the cursor's select: the columns `find` would select, plus the join columns
/// the includes need (selected, not returned).
fn plan(shared: &Shared, opts: &CallOptions, filter: &JsonValue) -> Result<Plan, RepoError> {
    let schema = &shared.schema;
    let model = &schema.models()[shared.model];
    let filter = Filter::parse_with_defaults(
        model,
        schema,
        filter,
        &shared.limits,
        opts.skip_default_filter,
    )?;
    let mut joins: Vec<usize> = Vec::new();
    for inc in &filter.include {
        let rel = relation(model, &inc.relation)?;
        joins.push(join_column(model, rel, &rel.fields[0])?);
    }
    let columns = sql::selected_columns(model, &filter, &joins);
    let out: Vec<(usize, usize)> = columns
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, c)| joins.is_empty() || filter.returns(model, &model.columns[c].property))
        .collect();
    Ok(Plan {
        model: shared.model,
        filter,
        columns,
        out,
    })
}

/// `DECLARE <cursor> NO SCROLL CURSOR FOR <the select of plan>` run on `call`.
fn declare(call: &mut Call<'_>, cursor: &str, plan: &Plan) -> Result<(), RepoError> {
    let names = call.names();
    let w = sql::select(names, &plan.columns, &plan.filter);
    let (select, values) = w.finish();
    let mut declare = String::with_capacity(select.len() + 48);
    declare.push_str("DECLARE ");
    declare.push_str(cursor);
    declare.push_str(" NO SCROLL CURSOR FOR ");
    declare.push_str(&select);
    call.exec
        .query(&declare, &values.as_params())
        .map_err(|e| call.name_regexp(plan.filter.r#where.as_ref(), e.into()))?;
    Ok(())
}

/// The name of cursor slot `n`.
fn cursor_name(n: usize) -> String {
    let mut name = String::from("ignis_stream_");
    sql::push_usize(&mut name, n);
    name
}

/// The lowest cursor slot that no cursor open on this connection uses.
fn free_cursor(exec: &mut dyn Executor) -> Result<String, RepoError> {
    let rows = exec.query(
        "SELECT name FROM pg_cursors WHERE name LIKE 'ignis\\_stream\\_%'",
        &[],
    )?;
    let mut used = Vec::with_capacity(rows.len());
    for row in &rows {
        let name: String = row.try_get(0).map_err(ignis_tx::Error::from)?;
        if let Some(n) = name
            .strip_prefix("ignis_stream_")
            .and_then(|n| n.parse::<usize>().ok())
        {
            used.push(n);
        }
    }
    used.sort_unstable();
    let mut n = 0;
    for u in used {
        if u == n {
            n += 1;
        } else if u > n {
            break;
        }
    }
    Ok(cursor_name(n))
}

impl<E: Row> RowStream<'static, E> {
    /// A stream of `filter`'s rows in a `REPEATABLE READ READ ONLY` transaction of its own on
    /// `ds` (see the module documentation).
    ///
    /// # Errors
    /// [`RepoError::Filter`] for an invalid filter (nothing is sent); checking out a
    /// connection, `BEGIN` or `DECLARE` failing.
    pub(crate) fn pooled(
        shared: Arc<Shared>,
        opts: CallOptions,
        ds: &DataSource,
        filter: &JsonValue,
    ) -> Result<Self, RepoError> {
        let plan = plan(&shared, &opts, filter)?;
        let mut tx = ds.begin(
            TransactionOptions::default()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true),
        )?;
        // A fresh transaction has no cursor open: the first slot is free.
        let cursor = cursor_name(0);
        declare(
            &mut Call {
                shared: &shared,
                opts: &opts,
                exec: &mut tx,
            },
            &cursor,
            &plan,
        )?;
        Ok(RowStream::new(
            shared,
            opts,
            Source::Own(Some(Box::new(tx))),
            cursor,
            plan,
        ))
    }
}

impl<'h, E: Row> RowStream<'h, E> {
    /// A stream of `filter`'s rows through a cursor in the transaction of the executor `on`
    /// (see the module documentation).
    ///
    /// # Errors
    /// [`RepoError::Filter`] for an invalid filter (nothing is sent);
    /// [`RepoError::HandleInUse`]; `DECLARE` failing (SQLSTATE 25P01 outside a transaction
    /// block).
    pub(crate) fn on(
        shared: Arc<Shared>,
        opts: CallOptions,
        on: &'h dyn ExecSource,
        filter: &JsonValue,
    ) -> Result<Self, RepoError> {
        let plan = plan(&shared, &opts, filter)?;
        let mut cursor = String::new();
        on.with_exec(&mut |exec| {
            cursor = free_cursor(exec)?;
            declare(
                &mut Call {
                    shared: &shared,
                    opts: &opts,
                    exec,
                },
                &cursor,
                &plan,
            )
        })?;
        Ok(RowStream::new(shared, opts, Source::On(on), cursor, plan))
    }

    fn new(
        shared: Arc<Shared>,
        opts: CallOptions,
        source: Source<'h>,
        cursor: String,
        plan: Plan,
    ) -> Self {
        RowStream {
            shared,
            opts,
            source,
            cursor,
            plan,
            batch_size: DEFAULT_BATCH_SIZE,
            rows: Vec::new().into_iter(),
            error: None,
            closed: false,
            done: false,
            _row: PhantomData,
        }
    }

    /// The same stream reading `rows` rows per `FETCH` (at least 1; default
    /// [`DEFAULT_BATCH_SIZE`]). Takes effect from the next batch. A larger batch means fewer
    /// round trips and more memory: one batch of rows (and of their included rows) is held at
    /// a time.
    pub fn batch_size(mut self, rows: u32) -> Self {
        self.batch_size = rows.max(1);
        self
    }

    /// Runs `f` as one call on the stream's executor.
    fn call<T>(
        &mut self,
        f: impl FnOnce(&mut Call<'_>, &Plan) -> Result<T, RepoError>,
    ) -> Result<T, RepoError> {
        let (shared, opts, plan) = (&*self.shared, &self.opts, &self.plan);
        match &mut self.source {
            Source::Own(Some(tx)) => f(
                &mut Call {
                    shared,
                    opts,
                    exec: &mut **tx,
                },
                plan,
            ),
            Source::Own(None) => Err(RepoError::Database(ignis_tx::Error::TransactionInactive)),
            Source::On(on) => {
                let mut f = Some(f);
                let mut out = None;
                on.with_exec(&mut |exec| {
                    if let Some(f) = f.take() {
                        out = Some(f(&mut Call { shared, opts, exec }, plan));
                    }
                    Ok(())
                })?;
                out.unwrap_or(Err(RepoError::HandleInUse))
            }
        }
    }

    /// Reads the next batch (and its included rows) and decodes it into `self.rows`.
    fn fetch(&mut self) -> Result<(), RepoError> {
        let mut fetch = String::with_capacity(48);
        fetch.push_str("FETCH FORWARD ");
        sql::push_usize(
            &mut fetch,
            usize::try_from(self.batch_size).unwrap_or(usize::MAX),
        );
        fetch.push_str(" FROM ");
        fetch.push_str(&self.cursor);
        let set = self.call(|c, plan| {
            let rows = c
                .exec
                .client()?
                .query_typed(&fetch, &[])
                .map_err(|e| RepoError::from(ignis_tx::Error::from(e)))
                .map_err(|e| c.name_regexp(plan.filter.r#where.as_ref(), e))?;
            let mut set = RowSet {
                model: plan.model,
                rows,
                out: Cow::Owned(plan.out.clone()),
                columns: Cow::Owned(plan.columns.clone()),
                included: Vec::with_capacity(plan.filter.include.len()),
                positions: None,
            };
            for inc in &plan.filter.include {
                let included = c.include(&set, inc)?;
                set.included.push(included);
            }
            Ok(set)
        })?;
        let last = set.rows.len() < usize::try_from(self.batch_size).unwrap_or(usize::MAX);
        if last {
            // Fewer rows than asked: the cursor is exhausted. End the transaction now, so the
            // connection goes back to the pool while the caller reads the last batch.
            self.close()?;
        }
        self.decode(&set);
        Ok(())
    }

    /// Decodes `set` into `self.rows`: the whole batch at once through the engine's decode;
    /// when a row fails, the rows before it and then its error (read row by row).
    fn decode(&mut self, set: &RowSet<'_>) {
        let schema = &self.shared.schema;
        let decoder = RowDecoder::<E>::new();
        match rows::decode(set, schema, &decoder) {
            Ok(rows) => self.rows = rows.into_iter(),
            Err(_) => {
                let mut rows = Vec::new();
                for i in 0..set.rows.len() {
                    match decoder.decode(&RowRef::in_set(schema, set, i)) {
                        Ok(row) => rows.push(row),
                        Err(e) => {
                            self.error = Some(e);
                            break;
                        }
                    }
                }
                self.rows = rows.into_iter();
            }
        }
    }

    /// Ends the cursor: commits the stream's own transaction, or closes the cursor in the
    /// caller's.
    fn close(&mut self) -> Result<(), RepoError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        match &mut self.source {
            Source::Own(tx) => match tx.take() {
                Some(tx) => Ok(tx.commit()?),
                None => Ok(()),
            },
            Source::On(on) => {
                let mut close = String::from("CLOSE ");
                close.push_str(&self.cursor);
                on.with_exec(&mut |exec| {
                    exec.execute(&close, &[])?;
                    Ok(())
                })
            }
        }
    }

    /// Ends the stream after an error: the own transaction rolls back (dropped); in the
    /// caller's transaction the cursor is closed, or, when the transaction failed, the refused
    /// `CLOSE` records the failure in ignis-tx (see the module documentation).
    fn fail(&mut self, e: RepoError) -> RepoError {
        self.done = true;
        self.rows = Vec::new().into_iter();
        if !self.closed {
            match &mut self.source {
                Source::Own(tx) => {
                    self.closed = true;
                    drop(tx.take());
                }
                Source::On(_) => {
                    // A refusal here is the expected outcome in a failed transaction.
                    let _ = self.close();
                }
            }
        }
        e
    }
}

impl<E: Row> Iterator for RowStream<'_, E> {
    type Item = Result<E, RepoError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(row) = self.rows.next() {
                return Some(Ok(row));
            }
            if let Some(e) = self.error.take() {
                return Some(Err(self.fail(e)));
            }
            if self.done || self.closed {
                self.done = true;
                return None;
            }
            if let Err(e) = self.fetch() {
                return Some(Err(self.fail(e)));
            }
        }
    }
}

impl<E> Drop for RowStream<'_, E> {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        match &mut self.source {
            // Dropping the transaction rolls it back and returns the connection.
            Source::Own(tx) => drop(tx.take()),
            Source::On(on) => {
                let mut close = String::from("CLOSE ");
                close.push_str(&self.cursor);
                let r = on.with_exec(&mut |exec| {
                    exec.execute(&close, &[])?;
                    Ok(())
                });
                if let Err(e) = r {
                    tracing::debug!(error = %e, cursor = %self.cursor, "closing a dropped stream's cursor failed");
                }
            }
        }
    }
}
