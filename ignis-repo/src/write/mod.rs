//! Writes: INSERT (`insert`), binary COPY (`copy`), UPDATE with JSON-path assignments
//! (`update`), DELETE, soft delete and restore (`delete`). Each is one statement written with
//! the same [`SqlWriter`](crate::query::sql::SqlWriter) as the reads (the where of an update or
//! delete is the same walk), and a write that returns rows decodes them with the same
//! [`Decoder`]s.

mod copy;
mod delete;
mod insert;
mod update;

use ignis_schema::{quote_ident, Column, Model};
use ignis_tx::postgres::types::ToSql;
use serde_json::Value as JsonValue;

use crate::filter::{check_value_depth, coerce_value, BoundValue};
use crate::repository::{Call, ReadWrite, Repository, Returning, Runner, WriteResult};
use crate::rows::{Decoder, JsonRows, RowSet};
use crate::RepoError;

impl<R: Runner> Repository<ReadWrite, R> {
    /// Inserts one row (Ignis `create`). `data` is an object keyed by property name; missing
    /// properties take their column defaults (id, timestamps); user-audit properties come from
    /// the handle's actor. Returns the row as stored.
    ///
    /// # Errors
    /// [`RepoError::InvalidData`] (unknown property, wrong value type), or the server's error
    /// (e.g. SQLSTATE 23505 for a duplicate); nothing is written then.
    pub fn create(&self, data: &JsonValue) -> Result<WriteResult<Option<JsonValue>>, RepoError> {
        self.call(|c| c.create(data, &JsonRows))
    }

    /// Inserts many rows (Ignis `createAll`), all or none. Rows giving the same set of
    /// properties go in one INSERT (`INSERT .. SELECT * FROM unnest($1::type[], ..)`, whose SQL
    /// does not depend on the number of rows; a multi-row `VALUES` list when a column is an
    /// array, which unnest would flatten); several sets are one statement of data-modifying
    /// CTEs, so the call is atomic however its rows are shaped. Only a call binding more than
    /// 65,535 parameters (VALUES lists of array columns) needs several statements: on the pool
    /// they run in one transaction, through [`Repository::on`] on the caller's executor (atomic
    /// in a transaction or savepoint). A batch of 1,000 rows or more with one property set, on a
    /// handle with `should_return(false)`, into a table without row-level security whose given
    /// columns are all integers, floats, booleans or text, is loaded with binary
    /// `COPY .. FROM STDIN` instead (about half the server's work). Returned rows come in the
    /// order of the property sets' first rows.
    ///
    /// # Errors
    /// As [`Repository::create`].
    pub fn create_all(&self, data: &[JsonValue]) -> Result<WriteResult<Vec<JsonValue>>, RepoError> {
        let model = self.model();
        let groups = insert::group_by_keys(model, data)?;
        if insert::one_statement(model, &groups) {
            return self.call(|c| c.create_all(data, groups, &JsonRows));
        }
        self.atomic(|c| {
            let groups = insert::group_by_keys(model, data)?;
            c.create_all(data, groups, &JsonRows)
        })
    }

    /// Updates the row with primary key `id` (Ignis `updateById`): sets the given properties,
    /// `modifiedAt` to now and `modifiedBy` from the actor. Keys may be JSON paths into json /
    /// jsonb properties (`"metadata.a.b": 1` sets that key, creating missing objects, as Ignis
    /// `jsonb_set(.., create_missing true)`). The default filter applies (a soft-deleted row is
    /// not updated).
    ///
    /// # Errors
    /// As [`Repository::create`]; [`RepoError::NoPrimaryKey`]; [`RepoError::InvalidData`] for
    /// a null id.
    pub fn update_by_id(
        &self,
        id: &JsonValue,
        data: &JsonValue,
    ) -> Result<WriteResult<Option<JsonValue>>, RepoError> {
        self.call(|c| c.update_by_id(id, data, &JsonRows))
    }

    /// Updates every row matching `where` (Ignis `updateAll`); see
    /// [`Repository::update_by_id`]. An empty `where` (one that restricts nothing beyond the
    /// default filter) is refused unless [`Repository::force`].
    ///
    /// # Errors
    /// [`RepoError::EmptyWhere`], and as [`Repository::update_by_id`].
    pub fn update_all(
        &self,
        data: &JsonValue,
        r#where: &JsonValue,
    ) -> Result<WriteResult<Vec<JsonValue>>, RepoError> {
        self.call(|c| c.update_all(data, r#where, &JsonRows))
    }

    /// Deletes the row with primary key `id` (Ignis `deleteById`); returns it.
    ///
    /// # Errors
    /// [`RepoError::NoPrimaryKey`], a null id or one of the wrong type, or the server's error
    /// (e.g. 23503 when another row references it).
    pub fn delete_by_id(
        &self,
        id: &JsonValue,
    ) -> Result<WriteResult<Option<JsonValue>>, RepoError> {
        self.call(|c| c.delete_by_id(id, &JsonRows))
    }

    /// Deletes every row matching `where` (Ignis `deleteAll`); empty where refused unless
    /// forced.
    ///
    /// # Errors
    /// As [`Repository::update_all`].
    pub fn delete_all(
        &self,
        r#where: &JsonValue,
    ) -> Result<WriteResult<Vec<JsonValue>>, RepoError> {
        self.call(|c| c.delete_all(r#where, &JsonRows))
    }

    /// Soft delete: sets `deletedAt` to now on the row with primary key `id`.
    ///
    /// # Errors
    /// [`RepoError::NoSoftDelete`], and as [`Repository::update_by_id`].
    pub fn soft_delete_by_id(
        &self,
        id: &JsonValue,
    ) -> Result<WriteResult<Option<JsonValue>>, RepoError> {
        self.call(|c| c.soft_delete_by_id(id, &JsonRows))
    }

    /// Soft delete of every row matching `where`.
    ///
    /// # Errors
    /// As [`Repository::soft_delete_by_id`] and [`RepoError::EmptyWhere`].
    pub fn soft_delete_all(
        &self,
        r#where: &JsonValue,
    ) -> Result<WriteResult<Vec<JsonValue>>, RepoError> {
        self.call(|c| c.soft_delete_all(r#where, &JsonRows))
    }

    /// Restores a soft-deleted row (`deletedAt` back to null); the default filter is skipped so
    /// the row can be found.
    ///
    /// # Errors
    /// As [`Repository::soft_delete_by_id`].
    pub fn restore_by_id(
        &self,
        id: &JsonValue,
    ) -> Result<WriteResult<Option<JsonValue>>, RepoError> {
        self.call(|c| c.restore_by_id(id, &JsonRows))
    }

    /// Restores every soft-deleted row matching `where`.
    ///
    /// # Errors
    /// As [`Repository::soft_delete_all`].
    pub fn restore_all(
        &self,
        r#where: &JsonValue,
    ) -> Result<WriteResult<Vec<JsonValue>>, RepoError> {
        self.call(|c| c.restore_all(r#where, &JsonRows))
    }
}

/// Indexes of the columns a write returns: every column but hidden ones.
fn visible_columns(model: &Model) -> Vec<usize> {
    (0..model.columns.len())
        .filter(|&i| !model.is_hidden(&model.columns[i].property))
        .collect()
}

fn returning_sql(model: &Model, columns: &[usize]) -> String {
    let mut s = String::from(" RETURNING ");
    for (n, &i) in columns.iter().enumerate() {
        if n > 0 {
            s.push_str(", ");
        }
        s.push_str(&quote_ident(&model.columns[i].column));
    }
    s
}

/// `Ok` unless `col` is an identity `GENERATED ALWAYS`, which Postgres fills itself and refuses
/// to take from an INSERT or UPDATE: then [`RepoError::InvalidData`] naming `property`.
fn writable(model: &Model, col: &Column, property: &str) -> Result<(), RepoError> {
    let generated_always = col
        .identity
        .as_ref()
        .is_some_and(|i| i.generation == ignis_schema::IdentityGeneration::Always);
    if generated_always {
        return Err(invalid(
            model,
            format!("`{property}` is generated always by the database and cannot be written"),
        ));
    }
    Ok(())
}

/// `value` written to `col` (property `property`): [`writable`], then coerced to the column's
/// type as filters coerce it.
fn written_value(
    model: &Model,
    col: &Column,
    property: &str,
    value: &JsonValue,
) -> Result<BoundValue, RepoError> {
    writable(model, col, property)?;
    Ok(coerce_value(property, &col.pg_type, value)?)
}

fn invalid(model: &Model, message: String) -> RepoError {
    RepoError::InvalidData {
        model: model.name.clone(),
        message,
    }
}

/// The first row of a by-id write's result.
fn first<T>(r: WriteResult<Vec<T>>) -> WriteResult<Option<T>> {
    WriteResult {
        count: r.count,
        data: r.data.into_iter().next(),
    }
}

impl<'a> Call<'a> {
    /// [`crate::FilterError`] when a value of `data` (an object of property values) nests
    /// deeper than `FilterLimits::max_value_depth`: refused before anything recursive
    /// (coercion, serialisation) touches it.
    fn check_data(&self, data: &JsonValue) -> Result<(), RepoError> {
        if let Some(obj) = data.as_object() {
            let max = self.shared.limits.max_value_depth;
            for (key, value) in obj {
                check_value_depth(key, value, max)?;
            }
        }
        Ok(())
    }

    /// The handle's actor ([`Repository::with_actor`]), or null without one.
    fn actor(&self) -> &'a JsonValue {
        self.opts.actor.as_deref().unwrap_or(&JsonValue::Null)
    }

    /// The handle's actor (null without one) coerced to the type of the audit column `col`.
    fn actor_bound(&self, col: &Column) -> Result<BoundValue, RepoError> {
        Ok(coerce_value(&col.property, &col.pg_type, self.actor())?)
    }

    /// The columns a write returns and its ` RETURNING ..` clause (every visible column), or
    /// `None` with `should_return(false)`. Built once per repository.
    fn returning(&self) -> Option<&'a Returning> {
        let shared = self.shared;
        if !self.opts.should_return {
            return None;
        }
        Some(shared.plans.returning.get_or_init(|| {
            let model = &shared.schema.models()[shared.model];
            let columns = visible_columns(model);
            let sql = returning_sql(model, &columns);
            let out = columns.iter().copied().enumerate().collect();
            (columns, out, sql)
        }))
    }

    /// Runs a write `sql` with `params`; with `returning`, its rows built by `decoder` (the SQL
    /// must end with that clause). Returns the number of rows written and the rows.
    fn run_write<D: Decoder>(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        returning: Option<&Returning>,
        decoder: &D,
    ) -> Result<(u64, Vec<D::Row>), RepoError> {
        let Some((columns, out, _)) = returning.filter(|r| !r.0.is_empty()) else {
            let n = self.exec.execute(sql, params)?;
            return Ok((n, Vec::new()));
        };
        // A write that autocommits cannot be undone once it ran: every returned column must
        // be decodable before it runs (the statement's column types, from the prepared
        // statement the query below reuses), so decoding cannot fail after the commit.
        let stmt = self.exec.prepare(sql)?;
        if let Some((n, col)) = stmt
            .columns()
            .iter()
            .enumerate()
            .find(|(_, c)| !decoder.accepts(c.type_()))
        {
            let model = self.model();
            return Err(RepoError::Decode {
                model: model.name.clone(),
                property: columns
                    .get(n)
                    .map(|&i| model.columns[i].property.clone())
                    .unwrap_or_default(),
                message: format!(
                    "Postgres type `{}` has no decoding; the write was not run (use \
                     should_return(false), or give the column a decodable type)",
                    col.type_().name()
                ),
            });
        }
        let rows = self.exec.query(sql, params)?;
        let set = RowSet::plain(self.shared.model, rows, out, columns);
        let data = set.decode(self.schema(), decoder)?;
        Ok((data.len() as u64, data))
    }
}
