//! Repositories: [`ReadableRepository`] and [`DefaultCrudRepository`] over one model.

use std::borrow::Cow;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use ignis_schema::{quote_ident, Model, RelationKind, Schema};
use ignis_tx::postgres::types::ToSql;
use ignis_tx::{DataSource, Executor, TransactionOptions};
use sea_query::{Alias, Expr, PostgresQueryBuilder, Query};
use sea_query_postgres::{PostgresBinder, PostgresValue, PostgresValues};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value as JsonValue};

use crate::error::REGEXP_ERROR_PREFIX;
use crate::filter::{
    any_of, check_value_depth, coerce_value, excerpt, parse_where, parse_where_with_defaults,
    regexp_error, BoundValue, Condition, Filter, FilterError, FilterLimits, MAX_PATH_SEGMENTS,
};
use crate::row::row_to_object;
use crate::RepoError;

/// Marker of a read-only repository: [`ReadableRepository`] has no write methods at all (a
/// compile error, where Ignis throws at run time).
#[derive(Debug)]
pub enum ReadOnly {}

/// Marker of a read-write repository: [`DefaultCrudRepository`].
#[derive(Debug)]
pub enum ReadWrite {}

/// Ignis `ReadableRepository`: find, find_one, find_by_id, count, exists_with, find with range.
pub type ReadableRepository = Repository<ReadOnly>;

/// Ignis `DefaultCrudRepository`: the reads, plus create, create_all, update_by_id, update_all,
/// delete_by_id, delete_all, and soft delete / restore for models with `deletedAt`.
pub type DefaultCrudRepository = Repository<ReadWrite>;

struct Shared {
    ds: DataSource,
    schema: Arc<Schema>,
    model: usize,
    limits: FilterLimits,
    plans: Plans,
}

/// SQL and decoding keys that depend only on the model, built on first use and kept for the
/// repository's life (the schema behind an `Arc` never changes), so the hot paths do not rebuild
/// them per call.
#[derive(Default)]
struct Plans {
    /// The `RETURNING` clause of writes: every visible column.
    returning: OnceLock<ColumnsPlan>,
    /// `SELECT <visible columns> FROM <table> WHERE <pk> = $1`: [`Scope::find_by_id`] without
    /// a filter; `None` when the model has no single-column scalar primary key.
    by_id: OnceLock<Option<(ColumnsPlan, usize)>>,
    /// The quoted table name (`"schema"."table"`) and column names, in model order.
    quoted: OnceLock<(String, Vec<String>)>,
    /// Whether `create_all` may use `COPY` (see [`Scope::copy_allowed`]).
    copy_allowed: OnceLock<bool>,
    /// `find` statements by filter shape (see [`Scope::select_statement`]).
    selects: SelectCache,
}

/// Most statements kept in a repository's [`SelectCache`]; when full it starts over (a working
/// set larger than this is unusual: the key is the filter's shape, not its values).
const SELECT_CACHE_CAPACITY: usize = 512;

/// The SQL of `find` statements, keyed by [`Filter::write_shape`] (model, selected columns,
/// where structure, order, limit, skip): a filter seen before in another shape's clothes (other
/// values, same structure) skips sea-query's building and rendering and only collects its bound
/// values. Shared by every handle of the repository (the schema behind it never changes).
#[derive(Default)]
struct SelectCache {
    map: std::sync::RwLock<rustc_hash::FxHashMap<String, Arc<CachedSelect>>>,
}

/// One cached `find` statement: its SQL and the model indexes of its selected columns, as
/// [`Filter::build_select`] returns them.
struct CachedSelect {
    sql: String,
    columns: Vec<usize>,
}

/// `create_all` batches of at least this many rows, returning no rows, are loaded with binary
/// `COPY` when every column has a plain type (see [`copy_columns`]): the server then does
/// roughly half the work of `INSERT .. SELECT * FROM unnest(..)`.
const COPY_MIN_ROWS: usize = 1000;

/// A statement over a fixed list of columns: its SQL (or SQL fragment), the columns' indexes in
/// the model and their property names (the keys of decoded rows).
struct ColumnsPlan {
    sql: String,
    columns: Vec<usize>,
    keys: Vec<String>,
}

impl ColumnsPlan {
    fn new(model: &Model, sql: String, columns: Vec<usize>) -> Self {
        let keys = columns
            .iter()
            .map(|&i| model.columns[i].property.clone())
            .collect();
        ColumnsPlan { sql, columns, keys }
    }
}

/// Per-handle call options (Ignis passes them per call in `options`; here a handle carries them,
/// and handles are cheap to derive: `repo.with_actor(7).create(..)`).
#[derive(Clone)]
struct CallOptions {
    actor: Option<Arc<JsonValue>>,
    skip_default_filter: bool,
    should_return: bool,
    force: bool,
}

/// A repository over one model of a [`Schema`], on a [`DataSource`].
///
/// `Send + Sync + Clone`: the model, schema and pool are shared behind an `Arc`, so a clone costs
/// two reference counts and rayon worker threads can share one. Every method has two forms with
/// the same code path: on the repository itself (a pooled connection, each statement
/// autocommitted; `create_all` in several statements runs in its own transaction), and through
/// [`Repository::on`] with any [`Executor`]: a [`ignis_tx::Transaction`], a
/// [`ignis_tx::Savepoint`] or a pooled connection (Ignis's `options.transaction`).
///
/// Rows are JSON objects keyed by property name (see [`crate::row`](crate) for the value
/// shapes), or typed with the `_as` methods. Hidden properties never appear in them.
///
/// ```no_run
/// use std::sync::Arc;
/// use serde_json::json;
/// use ignis_repo::DefaultCrudRepository;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let schema: Arc<ignis_schema::Schema> = unimplemented!();
/// let ds = ignis_tx::DataSource::from_env()?;
/// let users = DefaultCrudRepository::new(ds.clone(), schema, "User")?;
/// let created = users.create(&json!({"name": "Ada", "email": "ada@example.com"}))?;
/// let found = users.find(&json!({"where": {"name": {"ilike": "a%"}}, "order": "name", "limit": 10}))?;
/// ds.transaction(ignis_tx::TransactionOptions::default(), |tx| {
///     users.on(tx).update_all(&json!({"status": "ACTIVE"}), &json!({"name": "Ada"}))?;
///     Ok::<_, ignis_repo::RepoError>(())
/// })?;
/// # Ok(()) }
/// ```
pub struct Repository<M> {
    shared: Arc<Shared>,
    opts: CallOptions,
    _mode: PhantomData<fn() -> M>,
}

impl<M> Clone for Repository<M> {
    fn clone(&self) -> Self {
        Repository {
            shared: self.shared.clone(),
            opts: self.opts.clone(),
            _mode: PhantomData,
        }
    }
}

impl<M> std::fmt::Debug for Repository<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository")
            .field("model", &self.model().name)
            .field("skip_default_filter", &self.opts.skip_default_filter)
            .field("should_return", &self.opts.should_return)
            .field("force", &self.opts.force)
            .finish()
    }
}

/// `{count, data}`: what a write returns (Ignis `{count, data}`). `data` holds the written rows
/// (via RETURNING) unless the handle says `should_return(false)`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WriteResult<T> {
    /// Rows written.
    pub count: u64,
    /// The rows as stored (hidden properties left out); `None` / empty with
    /// `should_return(false)`.
    pub data: T,
}

/// `{start, end, total}` of [`Repository::find_with_range`] (Ignis `shouldQueryRange`): rows
/// `start..=end` (0-based, `end` inclusive) of `total` matching rows. With no rows returned,
/// `end` is `start` and `data` is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Range {
    /// Index of the first row returned (the filter's skip).
    pub start: u64,
    /// Index of the last row returned.
    pub end: u64,
    /// Rows matching the where, ignoring limit and skip.
    pub total: u64,
}

/// `{data, range}` of [`Repository::find_with_range`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RangeResult {
    /// The rows.
    pub data: Vec<JsonValue>,
    /// Where they are in the whole result.
    pub range: Range,
}

impl<M> Repository<M> {
    /// A repository over the model named `model` of `schema`, with default [`FilterLimits`].
    ///
    /// # Errors
    /// [`RepoError::UnknownModel`].
    pub fn new(ds: DataSource, schema: Arc<Schema>, model: &str) -> Result<Self, RepoError> {
        let index = schema
            .models()
            .iter()
            .position(|m| m.name == model)
            .ok_or_else(|| RepoError::UnknownModel(model.to_string()))?;
        Ok(Repository {
            shared: Arc::new(Shared {
                ds,
                schema,
                model: index,
                limits: FilterLimits::default(),
                plans: Plans::default(),
            }),
            opts: CallOptions {
                actor: None,
                skip_default_filter: false,
                should_return: true,
                force: false,
            },
            _mode: PhantomData,
        })
    }

    /// The same repository with other filter limits.
    pub fn with_limits(&self, limits: FilterLimits) -> Self {
        Repository {
            shared: Arc::new(Shared {
                ds: self.shared.ds.clone(),
                schema: self.shared.schema.clone(),
                model: self.shared.model,
                limits,
                plans: Plans::default(),
            }),
            opts: self.opts.clone(),
            _mode: PhantomData,
        }
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.shared.schema.models()[self.shared.model]
    }

    /// The schema the repository resolves relations in.
    pub fn schema(&self) -> &Arc<Schema> {
        &self.shared.schema
    }

    /// The datasource.
    pub fn datasource(&self) -> &DataSource {
        &self.shared.ds
    }

    /// A handle whose writes fill the user-audit properties (`createdBy` on create, `modifiedBy`
    /// on create and update) with `actor` (coerced to the column's type), unless the data sets
    /// them itself. Without an actor they are written as null (Ignis `allowAnonymous`).
    pub fn with_actor(&self, actor: impl Into<JsonValue>) -> Self {
        let mut r = self.clone();
        r.opts.actor = Some(Arc::new(actor.into()));
        r
    }

    /// A handle that ignores the model's default filter (Ignis `shouldSkipDefaultFilter`), e.g.
    /// to see soft-deleted rows. Include scopes keep their own setting.
    pub fn skip_default_filter(&self) -> Self {
        let mut r = self.clone();
        r.opts.skip_default_filter = true;
        r
    }

    /// A handle whose writes return rows (`true`, the default: RETURNING) or only the count
    /// (Ignis `shouldReturn`).
    pub fn should_return(&self, should_return: bool) -> Self {
        let mut r = self.clone();
        r.opts.should_return = should_return;
        r
    }

    /// A handle whose `update_all` / `delete_all` accept an empty where (Ignis `force`).
    pub fn force(&self) -> Self {
        let mut r = self.clone();
        r.opts.force = true;
        r
    }

    /// The repository's methods on `exec`: a transaction, a savepoint or a pooled connection.
    pub fn on<'a>(&'a self, exec: &'a mut dyn Executor) -> Scope<'a, M> {
        Scope { repo: self, exec }
    }

    fn pooled<T>(
        &self,
        f: impl FnOnce(&mut Scope<'_, M>) -> Result<T, RepoError>,
    ) -> Result<T, RepoError> {
        let mut conn = self.shared.ds.connection()?;
        f(&mut self.on(&mut conn))
    }

    /// Rows matching an Ignis filter (`where`, `fields`, `order`, `limit`, `skip` / `offset`,
    /// `include`), with the model's default filter merged under it. `filter` is the filter
    /// JSON (`null` or `{}` for all rows).
    ///
    /// # Errors
    /// [`RepoError::Filter`] for an invalid filter (nothing is sent), or a database error.
    pub fn find(&self, filter: &JsonValue) -> Result<Vec<JsonValue>, RepoError> {
        self.pooled(|s| s.find(filter))
    }

    /// [`Repository::find`], each row deserialized into `T`.
    ///
    /// # Errors
    /// As [`Repository::find`], and [`RepoError::Deserialize`].
    pub fn find_as<T: DeserializeOwned>(&self, filter: &JsonValue) -> Result<Vec<T>, RepoError> {
        self.pooled(|s| s.find_as(filter))
    }

    /// The first row matching the filter (its `limit` replaced by 1), or `None`.
    ///
    /// # Errors
    /// As [`Repository::find`].
    pub fn find_one(&self, filter: &JsonValue) -> Result<Option<JsonValue>, RepoError> {
        self.pooled(|s| s.find_one(filter))
    }

    /// [`Repository::find_one`], the row deserialized into `T` (includes as nested fields).
    ///
    /// # Errors
    /// As [`Repository::find`], and [`RepoError::Deserialize`].
    pub fn find_one_as<T: DeserializeOwned>(
        &self,
        filter: &JsonValue,
    ) -> Result<Option<T>, RepoError> {
        self.pooled(|s| s.find_one_as(filter))
    }

    /// [`Repository::find_by_id`], the row deserialized into `T` straight from the Postgres
    /// values (no JSON row in between; includes as nested fields).
    ///
    /// # Errors
    /// As [`Repository::find_by_id`], and [`RepoError::Deserialize`].
    pub fn find_by_id_as<T: DeserializeOwned>(
        &self,
        id: &JsonValue,
        filter: &JsonValue,
    ) -> Result<Option<T>, RepoError> {
        self.pooled(|s| s.find_by_id_as(id, filter))
    }

    /// [`Repository::find`], each row built by `T`'s [`FromRow`](crate::FromRow) straight from
    /// the Postgres values (the fastest typed route: no serde, no text for timestamps).
    ///
    /// # Errors
    /// As [`Repository::find`], and whatever `T::from_row` returns.
    pub fn find_into<T: crate::FromRow>(&self, filter: &JsonValue) -> Result<Vec<T>, RepoError> {
        self.pooled(|s| s.find_into(filter))
    }

    /// [`Repository::find_by_id`], the row built by `T`'s [`FromRow`](crate::FromRow).
    ///
    /// # Errors
    /// As [`Repository::find_by_id`], and whatever `T::from_row` returns.
    pub fn find_by_id_into<T: crate::FromRow>(
        &self,
        id: &JsonValue,
        filter: &JsonValue,
    ) -> Result<Option<T>, RepoError> {
        self.pooled(|s| s.find_by_id_into(id, filter))
    }

    /// The row whose primary key is `id` (and which the default filter lets through), or
    /// `None`. `filter` may give `fields` and `include`; its `where` is ANDed.
    ///
    /// # Errors
    /// As [`Repository::find`], [`RepoError::NoPrimaryKey`], or an id of the wrong type.
    pub fn find_by_id(
        &self,
        id: &JsonValue,
        filter: &JsonValue,
    ) -> Result<Option<JsonValue>, RepoError> {
        self.pooled(|s| s.find_by_id(id, filter))
    }

    /// Number of rows matching a where (Ignis `count`).
    ///
    /// # Errors
    /// As [`Repository::find`].
    pub fn count(&self, r#where: &JsonValue) -> Result<u64, RepoError> {
        self.pooled(|s| s.count(r#where))
    }

    /// Whether any row matches a where (Ignis `existsWith`).
    ///
    /// # Errors
    /// As [`Repository::find`].
    pub fn exists_with(&self, r#where: &JsonValue) -> Result<bool, RepoError> {
        self.pooled(|s| s.exists_with(r#where))
    }

    /// [`Repository::find`] with the position of the rows in the whole result (Ignis
    /// `shouldQueryRange`): one count query and one find.
    ///
    /// # Errors
    /// As [`Repository::find`].
    pub fn find_with_range(&self, filter: &JsonValue) -> Result<RangeResult, RepoError> {
        self.pooled(|s| s.find_with_range(filter))
    }
}

impl Repository<ReadWrite> {
    /// Inserts one row (Ignis `create`). `data` is an object keyed by property name; missing
    /// properties take their column defaults (id, timestamps); user-audit properties come from
    /// the handle's actor. Returns the row as stored.
    ///
    /// # Errors
    /// [`RepoError::InvalidData`] (unknown property, wrong value type), or the server's error
    /// (e.g. SQLSTATE 23505 for a duplicate); nothing is written then.
    pub fn create(&self, data: &JsonValue) -> Result<WriteResult<Option<JsonValue>>, RepoError> {
        self.pooled(|s| s.create(data))
    }

    /// Inserts many rows (Ignis `createAll`), all or none. Rows giving the same set of
    /// properties go in one INSERT (`INSERT .. SELECT * FROM unnest($1::type[], ..)`, whose SQL
    /// does not depend on the number of rows; a multi-row `VALUES` list when a column is an
    /// array, which unnest would flatten); several sets are one statement of data-modifying
    /// CTEs, so the call is atomic however its rows are shaped. Only a call binding more than
    /// 65,535 parameters (VALUES lists of array columns) needs several statements, and they run
    /// in one transaction. A batch of 1,000 rows or more with one property set, on a handle with
    /// `should_return(false)`, into a table without row-level security whose given columns are
    /// all integers, floats, booleans or text, is loaded with binary `COPY .. FROM STDIN`
    /// instead (about half the server's work). Returned rows come in the order of the property
    /// sets' first rows.
    ///
    /// # Errors
    /// As [`Repository::create`].
    pub fn create_all(&self, data: &[JsonValue]) -> Result<WriteResult<Vec<JsonValue>>, RepoError> {
        let model = self.model();
        let groups = group_by_keys(model, data)?;
        let one_statement = groups
            .iter()
            .map(|(keys, rows)| create_all_params(model, keys, rows.len()))
            .sum::<usize>()
            <= MAX_PARAMS;
        if one_statement {
            return self.pooled(|s| s.create_all_grouped(data, groups));
        }
        self.shared
            .ds
            .transaction(TransactionOptions::default(), |tx| {
                self.on(tx).create_all(data)
            })
    }

    /// Updates the row with primary key `id` (Ignis `updateById`): sets the given properties,
    /// `modifiedAt` to now and `modifiedBy` from the actor. Keys may be JSON paths into json /
    /// jsonb properties (`"metadata.a.b": 1` sets that key, creating missing objects, as Ignis
    /// `jsonb_set(.., create_missing true)`). The default filter applies (a soft-deleted row is
    /// not updated).
    ///
    /// # Errors
    /// As [`Repository::create`]; [`RepoError::NoPrimaryKey`].
    pub fn update_by_id(
        &self,
        id: &JsonValue,
        data: &JsonValue,
    ) -> Result<WriteResult<Option<JsonValue>>, RepoError> {
        self.pooled(|s| s.update_by_id(id, data))
    }

    /// Updates every row matching `where` (Ignis `updateAll`); see
    /// [`Repository::update_by_id`]. An empty `where` (judged before the default filter is
    /// merged) is refused unless [`Repository::force`].
    ///
    /// # Errors
    /// [`RepoError::EmptyWhere`], and as [`Repository::update_by_id`].
    pub fn update_all(
        &self,
        data: &JsonValue,
        r#where: &JsonValue,
    ) -> Result<WriteResult<Vec<JsonValue>>, RepoError> {
        self.pooled(|s| s.update_all(data, r#where))
    }

    /// Deletes the row with primary key `id` (Ignis `deleteById`); returns it.
    ///
    /// # Errors
    /// [`RepoError::NoPrimaryKey`], an id of the wrong type, or the server's error (e.g. 23503
    /// when another row references it).
    pub fn delete_by_id(
        &self,
        id: &JsonValue,
    ) -> Result<WriteResult<Option<JsonValue>>, RepoError> {
        self.pooled(|s| s.delete_by_id(id))
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
        self.pooled(|s| s.delete_all(r#where))
    }

    /// Soft delete: sets `deletedAt` to now on the row with primary key `id`.
    ///
    /// # Errors
    /// [`RepoError::NoSoftDelete`], and as [`Repository::update_by_id`].
    pub fn soft_delete_by_id(
        &self,
        id: &JsonValue,
    ) -> Result<WriteResult<Option<JsonValue>>, RepoError> {
        self.pooled(|s| s.soft_delete_by_id(id))
    }

    /// Soft delete of every row matching `where`.
    ///
    /// # Errors
    /// As [`Repository::soft_delete_by_id`] and [`RepoError::EmptyWhere`].
    pub fn soft_delete_all(
        &self,
        r#where: &JsonValue,
    ) -> Result<WriteResult<Vec<JsonValue>>, RepoError> {
        self.pooled(|s| s.soft_delete_all(r#where))
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
        self.pooled(|s| s.restore_by_id(id))
    }

    /// Restores every soft-deleted row matching `where`.
    ///
    /// # Errors
    /// As [`Repository::soft_delete_all`].
    pub fn restore_all(
        &self,
        r#where: &JsonValue,
    ) -> Result<WriteResult<Vec<JsonValue>>, RepoError> {
        self.pooled(|s| s.restore_all(r#where))
    }
}

/// A repository bound to an executor (see [`Repository::on`]): the same methods, run on that
/// transaction, savepoint or connection.
pub struct Scope<'a, M> {
    repo: &'a Repository<M>,
    exec: &'a mut dyn Executor,
}

impl<M> std::fmt::Debug for Scope<'_, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope").field("repo", self.repo).finish()
    }
}

/// Precomputed decoding of one result set: the property name of each selected column.
struct Decoder<'m, 'k> {
    model: &'m Model,
    keys: Cow<'k, [String]>,
}

impl<'m, 'k> Decoder<'m, 'k> {
    fn new(model: &'m Model, columns: &[usize]) -> Self {
        Decoder {
            model,
            keys: Cow::Owned(
                columns
                    .iter()
                    .map(|&i| model.columns[i].property.clone())
                    .collect(),
            ),
        }
    }

    /// A decoder with keys computed once ([`ColumnsPlan::keys`]).
    fn with_keys(model: &'m Model, keys: &'k [String]) -> Self {
        Decoder {
            model,
            keys: Cow::Borrowed(keys),
        }
    }

    fn decode(&self, rows: &[postgres::Row]) -> Result<Vec<Map<String, JsonValue>>, RepoError> {
        rows.iter()
            .map(|row| {
                row_to_object(row, &self.keys).map_err(|(property, message)| RepoError::Decode {
                    model: self.model.name.clone(),
                    property,
                    message,
                })
            })
            .collect()
    }
}

fn run_query(
    exec: &mut dyn Executor,
    sql: &str,
    values: &PostgresValues,
) -> Result<Vec<postgres::Row>, RepoError> {
    Ok(exec.query(sql, &values.as_params())?)
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
fn writable(model: &Model, col: &ignis_schema::Column, property: &str) -> Result<(), RepoError> {
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
    col: &ignis_schema::Column,
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

/// A JSON row object.
type Object = Map<String, JsonValue>;

/// Most bound parameters in one statement (the protocol counts them in 16 bits).
const MAX_PARAMS: usize = 65_535;

/// The quoted names of `columns`, comma-separated: the column list of an INSERT or COPY.
fn column_list(columns: &[(&ignis_schema::Column, bool)]) -> String {
    let mut out = String::with_capacity(16 * columns.len());
    for (n, (col, _)) in columns.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        out.push_str(&quote_ident(&col.column));
    }
    out
}

/// One INSERT of `create_all` without its RETURNING clause, its parameters numbered from `$1`.
struct InsertPart {
    sql: String,
    params: Vec<Box<dyn ToSql + Sync>>,
}

/// `sql` with every parameter `$n` written `$(n + offset)`. Only our own INSERT parts go through
/// it: their text has no `$` but in placeholders (identifiers are quoted model names, which may
/// hold `$`, so a `$` inside double quotes is left alone).
fn renumber_params(sql: &str, offset: usize) -> String {
    if offset == 0 {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut quoted = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '"' {
            quoted = !quoted;
        } else if c == '$' && !quoted {
            let mut n = 0usize;
            let mut digits = false;
            while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                n = n * 10 + d as usize;
                digits = true;
                chars.next();
            }
            if digits {
                out.push_str(&(n + offset).to_string());
            }
        }
    }
    out
}

/// At most how many parameters `create_all` binds for `n` rows giving the properties `keys`:
/// one array per column (plus the two audit columns), or, with an array column, one value per
/// cell of a VALUES list (see [`Scope::create_all`]). Parts of one call whose parameters fit in
/// [`MAX_PARAMS`] run as one statement.
fn create_all_params(model: &Model, keys: &[String], n: usize) -> usize {
    let has_array = keys.iter().any(|k| {
        model
            .column_by_property(k)
            .is_some_and(|c| matches!(c.pg_type, ignis_schema::PgType::Array(_)))
    });
    let per_row = keys.len() + 2;
    if has_array {
        n.saturating_mul(per_row)
    } else {
        per_row
    }
}

/// Rows of `create_all` that give the same properties: (sorted property names, rows).
type KeyGroup<'d> = (Vec<String>, Vec<&'d Object>);

/// Groups rows by their sorted property set (for one unnest INSERT per group), validating that
/// each row is an object of known properties.
fn group_by_keys<'d>(model: &Model, data: &'d [JsonValue]) -> Result<Vec<KeyGroup<'d>>, RepoError> {
    let mut groups: Vec<KeyGroup<'d>> = Vec::new();
    for (n, row) in data.iter().enumerate() {
        let obj = row
            .as_object()
            .ok_or_else(|| invalid(model, format!("row {n} of create_all is not an object")))?;
        // Compare key sets without building one per row (rows usually all give the same).
        let same_keys =
            |k: &Vec<String>| k.len() == obj.len() && k.iter().all(|k| obj.contains_key(k));
        match groups.iter_mut().find(|(k, _)| same_keys(k)) {
            Some((_, rows)) => rows.push(obj),
            None => {
                let mut keys: Vec<String> = obj.keys().cloned().collect();
                keys.sort();
                groups.push((keys, vec![obj]));
            }
        }
    }
    Ok(groups)
}

/// An array parameter as a plain Rust vector when its elements are all of one simple kind, so
/// it is encoded straight from them (sea-query-postgres encodes a `Value::Array` by first
/// cloning every element); other arrays are bound as sea-query-postgres binds them. The bytes
/// sent are the same either way.
fn array_param(value: sea_query::Value) -> Box<dyn ToSql + Sync> {
    use sea_query::Value as V;
    let V::Array(ty, Some(items)) = value else {
        return Box::new(PostgresValue(value));
    };
    macro_rules! typed {
        ($variant:ident) => {
            if items.iter().all(|v| matches!(v, V::$variant(_))) {
                let list: Vec<_> = items
                    .into_iter()
                    .filter_map(|v| match v {
                        V::$variant(x) => Some(x),
                        _ => None,
                    })
                    .collect();
                return Box::new(list);
            }
        };
    }
    typed!(Int);
    typed!(BigInt);
    typed!(SmallInt);
    typed!(Double);
    typed!(Float);
    typed!(Bool);
    typed!(String);
    Box::new(PostgresValue(V::Array(ty, Some(items))))
}

/// One column of a `COPY` batch, in the Rust type whose binary form is the column type's.
enum CopyColumn {
    SmallInt(Vec<Option<i16>>),
    Int(Vec<Option<i32>>),
    BigInt(Vec<Option<i64>>),
    Real(Vec<Option<f32>>),
    Double(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    Text(Vec<Option<String>>, ignis_tx::postgres::types::Type),
}

impl CopyColumn {
    fn pg_type(&self) -> ignis_tx::postgres::types::Type {
        use ignis_tx::postgres::types::Type;
        match self {
            CopyColumn::SmallInt(_) => Type::INT2,
            CopyColumn::Int(_) => Type::INT4,
            CopyColumn::BigInt(_) => Type::INT8,
            CopyColumn::Real(_) => Type::FLOAT4,
            CopyColumn::Double(_) => Type::FLOAT8,
            CopyColumn::Bool(_) => Type::BOOL,
            CopyColumn::Text(_, ty) => ty.clone(),
        }
    }

    /// Row `i`'s value (`i` is below the batch size, which every column has).
    fn cell(&self, i: usize) -> &(dyn ToSql + Sync) {
        const NULL: &Option<i32> = &None;
        match self {
            CopyColumn::SmallInt(v) => v.get(i).map_or(NULL, |x| x),
            CopyColumn::Int(v) => v.get(i).map_or(NULL, |x| x),
            CopyColumn::BigInt(v) => v.get(i).map_or(NULL, |x| x),
            CopyColumn::Real(v) => v.get(i).map_or(NULL, |x| x),
            CopyColumn::Double(v) => v.get(i).map_or(NULL, |x| x),
            CopyColumn::Bool(v) => v.get(i).map_or(NULL, |x| x),
            CopyColumn::Text(v, _) => v.get(i).map_or(NULL, |x| x),
        }
    }
}

/// The columns of a `create_all` batch as [`CopyColumn`]s, when every one has a type whose
/// binary form the coerced values give exactly (integers, floats, boolean, text, varchar, char)
/// and needs no cast; `None` (leaving `bounds` as they were) otherwise.
fn copy_columns(
    columns: &[(&ignis_schema::Column, bool)],
    bounds: &mut [BoundValue],
) -> Option<Vec<CopyColumn>> {
    use ignis_schema::PgType as P;
    use ignis_tx::postgres::types::Type;
    use sea_query::Value as V;
    fn all<F: Fn(&V) -> bool>(b: &BoundValue, f: F) -> bool {
        matches!(&b.value, V::Array(_, Some(items)) if items.iter().all(f))
    }
    let eligible = columns.iter().zip(bounds.iter()).all(|((col, _), b)| {
        b.cast.is_none()
            && match col.pg_type {
                P::SmallInt => all(b, |v| matches!(v, V::SmallInt(_))),
                P::Integer => all(b, |v| matches!(v, V::Int(_))),
                P::BigInt => all(b, |v| matches!(v, V::BigInt(_))),
                P::Real => all(b, |v| matches!(v, V::Float(_))),
                P::DoublePrecision => all(b, |v| matches!(v, V::Double(_))),
                P::Boolean => all(b, |v| matches!(v, V::Bool(_))),
                P::Text | P::Varchar(_) | P::Char(_) => all(b, |v| matches!(v, V::String(_))),
                _ => false,
            }
    });
    if !eligible {
        return None;
    }
    macro_rules! take {
        ($items:expr, $variant:ident) => {
            $items
                .into_iter()
                .filter_map(|v| match v {
                    V::$variant(x) => Some(x),
                    _ => None,
                })
                .collect()
        };
    }
    let mut out = Vec::with_capacity(columns.len());
    for ((col, _), b) in columns.iter().zip(bounds.iter_mut()) {
        let V::Array(_, Some(items)) = std::mem::replace(&mut b.value, V::Bool(None)) else {
            return None;
        };
        out.push(match col.pg_type {
            P::SmallInt => CopyColumn::SmallInt(take!(*items, SmallInt)),
            P::Integer => CopyColumn::Int(take!(*items, Int)),
            P::BigInt => CopyColumn::BigInt(take!(*items, BigInt)),
            P::Real => CopyColumn::Real(take!(*items, Float)),
            P::DoublePrecision => CopyColumn::Double(take!(*items, Double)),
            P::Boolean => CopyColumn::Bool(take!(*items, Bool)),
            P::Varchar(_) => CopyColumn::Text(take!(*items, String), Type::VARCHAR),
            P::Char(_) => CopyColumn::Text(take!(*items, String), Type::BPCHAR),
            _ => CopyColumn::Text(take!(*items, String), Type::TEXT),
        });
    }
    Some(out)
}

/// Streams `n` rows of `data` through `COPY .. FROM STDIN BINARY` (`sql`).
fn copy_rows(
    client: &mut ignis_tx::postgres::Client,
    sql: &str,
    types: &[ignis_tx::postgres::types::Type],
    data: &[CopyColumn],
    n: usize,
) -> Result<u64, ignis_tx::postgres::Error> {
    let sink = client.copy_in(sql)?;
    let mut writer = ignis_tx::postgres::binary_copy::BinaryCopyInWriter::new(sink, types);
    let mut row: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(data.len());
    for i in 0..n {
        row.clear();
        row.extend(data.iter().map(|c| c.cell(i)));
        writer.write(&row)?;
    }
    writer.finish()
}

/// The array parameter of one `create_all` column: each row's value (or `actor` for every row)
/// coerced to the column's type, as `coerce_value` coerces a JSON array to `array_type`, but
/// element by element from the rows, without first copying the cells into a JSON array.
fn coerce_column(
    col: &ignis_schema::Column,
    array_type: &ignis_schema::PgType,
    rows: &[&Object],
    actor: Option<&JsonValue>,
) -> Result<BoundValue, RepoError> {
    let cell = |r: &&Object| -> JsonValue {
        match actor {
            Some(a) => a.clone(),
            None => r.get(&col.property).cloned().unwrap_or(JsonValue::Null),
        }
    };
    // The array's element type and cast, from an empty array; a type that cannot make an array
    // takes the general path, for its error.
    let probe = coerce_value(&col.property, array_type, &JsonValue::Array(Vec::new()));
    let Ok(BoundValue {
        value: sea_query::Value::Array(element_type, _),
        cast,
    }) = probe
    else {
        let cells = rows.iter().map(cell).collect();
        return Ok(coerce_value(
            &col.property,
            array_type,
            &JsonValue::Array(cells),
        )?);
    };
    let mut values = Vec::with_capacity(rows.len());
    for r in rows {
        let v = match actor {
            Some(a) => a,
            None => r.get(&col.property).unwrap_or(&JsonValue::Null),
        };
        values.push(coerce_value(&col.property, &col.pg_type, v)?.value);
    }
    Ok(BoundValue {
        value: sea_query::Value::Array(element_type, Some(Box::new(values))),
        cast,
    })
}

/// Most JSON-path keys (`"metadata.a.b": ..`) in one update's data; sibling keys of one object
/// go into one `jsonb_build_object` per 50 pairs, so any number up to this works.
const MAX_PATH_KEYS: usize = 1000;

/// Most JSON-path keys with an array index (`"tags[0]": ..`) in one update: each nests the
/// column's expression in one more `jsonb_set` call.
const MAX_INDEXED_PATHS: usize = 64;

/// One JSON-path assignment of an update: `metadata.a.b` → (column `metadata`, `["a", "b"]`).
fn split_path(key: &str) -> Option<(&str, Vec<String>)> {
    let first_end = key.find(['.', '['])?;
    let (head, rest) = key.split_at(first_end);
    let mut segments = Vec::new();
    let mut cur = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if !cur.is_empty() {
                    segments.push(std::mem::take(&mut cur));
                }
            }
            '[' => {
                if !cur.is_empty() {
                    segments.push(std::mem::take(&mut cur));
                }
                let mut idx = String::new();
                for d in chars.by_ref() {
                    if d == ']' {
                        break;
                    }
                    idx.push(d);
                }
                if idx.is_empty() || !idx.chars().all(|d| d.is_ascii_digit()) {
                    return None;
                }
                segments.push(idx);
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        segments.push(cur);
    }
    if segments.is_empty()
        || segments.iter().any(|s| {
            !s.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        })
    {
        return None;
    }
    Some((head, segments))
}

impl<'a, M> Scope<'a, M> {
    fn model(&self) -> &'a Model {
        self.repo.model()
    }

    fn schema(&self) -> &'a Schema {
        &self.repo.shared.schema
    }

    fn limits(&self) -> &'a FilterLimits {
        &self.repo.shared.limits
    }

    fn parse_filter(&self, json: &JsonValue) -> Result<Filter, RepoError> {
        Ok(Filter::parse_with_defaults(
            self.model(),
            self.schema(),
            json,
            self.limits(),
            self.repo.opts.skip_default_filter,
        )?)
    }

    fn parse_where(&self, json: &JsonValue, skip_default: bool) -> Result<Condition, RepoError> {
        Ok(parse_where_with_defaults(
            self.model(),
            json,
            self.limits(),
            skip_default || self.repo.opts.skip_default_filter,
        )?)
    }

    /// The statement and bound values of `filter` over model `index` with `extra` columns, as
    /// [`Filter::build_select`] gives them, through the repository's [`SelectCache`]. A shape
    /// is only cached when the values collected by [`Filter::bound_values`] are exactly the
    /// ones sea-query bound while building it, so a cached statement always gets its values in
    /// placeholder order.
    fn select_statement(
        &self,
        index: usize,
        filter: &Filter,
        extra: &[&str],
    ) -> (Arc<CachedSelect>, PostgresValues) {
        let shared = &self.repo.shared;
        let model = &shared.schema.models()[index];
        let cache = &shared.plans.selects.map;
        let mut key = String::with_capacity(96);
        crate::filter::push_usize(&mut key, index);
        key.push('/');
        filter.write_shape(model, extra, &mut key);
        let hit = cache.read().ok().and_then(|m| m.get(&key).cloned());
        if let Some(hit) = hit {
            let values = filter
                .bound_values()
                .into_iter()
                .map(PostgresValue)
                .collect();
            return (hit, PostgresValues(values));
        }
        let (sql, values, columns) = filter.build_select(model, extra);
        let entry = Arc::new(CachedSelect { sql, columns });
        let walked = filter.bound_values();
        let same =
            walked.len() == values.0.len() && walked.iter().zip(&values.0).all(|(a, b)| *a == b.0);
        if same {
            if let Ok(mut map) = cache.write() {
                if map.len() >= SELECT_CACHE_CAPACITY {
                    map.clear();
                }
                map.insert(key, entry.clone());
            }
        }
        (entry, values)
    }

    /// See [`Repository::find`].
    ///
    /// # Errors
    /// As [`Repository::find`].
    pub fn find(&mut self, filter: &JsonValue) -> Result<Vec<JsonValue>, RepoError> {
        let filter = self.parse_filter(filter)?;
        let rows = self.find_parsed(self.repo.shared.model, &filter)?;
        Ok(rows.into_iter().map(JsonValue::Object).collect())
    }

    /// See [`Repository::find_as`].
    ///
    /// # Errors
    /// As [`Repository::find_as`].
    pub fn find_as<T: DeserializeOwned>(
        &mut self,
        filter: &JsonValue,
    ) -> Result<Vec<T>, RepoError> {
        let filter = self.parse_filter(filter)?;
        self.decode_rows(&filter, serde_row(&self.repo.model().name))
    }

    /// Runs `filter` on this repository's model with [`Scope::find_typed`] (the same queries as
    /// `find`: one per level, each level's rows kept as Postgres returned them and grouped per
    /// parent by index) and builds each top-level row with `decode`: no JSON row in between.
    fn decode_rows<T>(
        &mut self,
        filter: &Filter,
        decode: impl Fn(crate::RowRef<'_>) -> Result<T, RepoError>,
    ) -> Result<Vec<T>, RepoError> {
        let repo: &'a Repository<M> = self.repo;
        let (set, _) = self.find_typed(repo.shared.model, filter, None)?;
        (0..set.rows.len())
            .map(|i| decode(crate::RowRef::in_set(&repo.model().name, &set, i)))
            .collect()
    }

    /// The row whose primary key is `id`, built with `decode`: the one-statement path of
    /// [`Scope::fast_by_id_rows`] when it applies, else [`Scope::by_id_filter`] through
    /// [`Scope::decode_rows`].
    fn decode_by_id<T>(
        &mut self,
        id: &JsonValue,
        filter: &JsonValue,
        decode: impl Fn(crate::RowRef<'_>) -> Result<T, RepoError>,
    ) -> Result<Option<T>, RepoError> {
        let repo: &'a Repository<M> = self.repo;
        if let Some((rows, plan)) = self.fast_by_id_rows(id, filter)? {
            return rows
                .first()
                .map(|row| decode(crate::RowRef::plain(&repo.model().name, row, &plan.keys)))
                .transpose();
        }
        let parsed = self.by_id_filter(id, filter)?;
        Ok(self.decode_rows(&parsed, decode)?.into_iter().next())
    }

    /// The typed counterpart of [`Scope::find_parsed`]: runs `filter` on model `index` (one
    /// query, plus one per included relation and level) and keeps the rows undecoded, with
    /// the related rows of each include grouped per row. `extra` is a property to select even
    /// when `fields` leaves it out (the join column a parent level groups on); it is not
    /// returned then. Also returns the statement run, whose `columns` are the model column
    /// index of each selected column.
    fn find_typed(
        &mut self,
        index: usize,
        filter: &Filter,
        extra: Option<&str>,
    ) -> Result<(crate::row_set::RowSet, Arc<CachedSelect>), RepoError> {
        let schema = self.repo.shared.schema.clone();
        let model = &schema.models()[index];
        let mut join_props: Vec<&str> = Vec::with_capacity(filter.include.len() + 1);
        for inc in &filter.include {
            join_props.push(&relation(model, &inc.relation)?.fields[0]);
        }
        join_props.extend(extra);
        let (stmt, values) = self.select_statement(index, filter, &join_props);
        let rows = run_query(self.exec, &stmt.sql, &values)
            .map_err(|e| self.name_regexp(filter.r#where.as_ref(), e))?;
        let wanted = filter.output_columns(model);
        let out = stmt
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| wanted.contains(c))
            .map(|(pos, &c)| (pos, model.columns[c].property.clone()))
            .collect();
        let mut set = crate::row_set::RowSet {
            rows,
            out,
            included: Vec::with_capacity(filter.include.len()),
        };
        for inc in &filter.include {
            let included = self.include_typed(model, &set.rows, &stmt.columns, inc)?;
            set.included.push(included);
        }
        Ok((set, stmt))
    }

    /// One included relation of [`Scope::find_typed`]: the distinct join keys of `parents`
    /// bound as one `= ANY($1)` list, the related rows loaded with the inclusion's scope (and
    /// their own includes), then grouped per parent, with the scope's limit and skip applied
    /// per parent as in [`Scope::load_inclusion`].
    fn include_typed(
        &mut self,
        model: &Model,
        parents: &[postgres::Row],
        columns: &[usize],
        inc: &crate::filter::Inclusion,
    ) -> Result<crate::row_set::Included, RepoError> {
        use crate::row_set::{Included, RowSet};
        use crate::typed::JoinKey;
        let schema = self.repo.shared.schema.clone();
        let (rel, target_index) = relation_target(&schema, model, &inc.relation)?;
        let target = &schema.models()[target_index];
        let (field, reference) = (&rel.fields[0], &rel.references[0]);
        let decode_error =
            |model: &Model, property: &str, e: Box<dyn std::error::Error + Send + Sync>| {
                RepoError::Decode {
                    model: model.name.clone(),
                    property: property.to_string(),
                    message: e.to_string(),
                }
            };
        let position = |model: &Model, columns: &[usize], property: &str| {
            columns
                .iter()
                .position(|&c| model.columns[c].property == property)
                .ok_or_else(|| RepoError::Relation {
                    model: model.name.clone(),
                    relation: inc.relation.clone(),
                    message: format!("join property `{property}` is not a column"),
                })
        };
        let field_pos = position(model, columns, field)?;
        // Each distinct parent key gets a slot (its index in `distinct`); the keys are bound
        // once each.
        let mut slots: rustc_hash::FxHashMap<JoinKey, usize> = rustc_hash::FxHashMap::default();
        slots.reserve(parents.len());
        let mut distinct: Vec<JoinKey> = Vec::new();
        let mut parent_slot: Vec<Option<usize>> = Vec::with_capacity(parents.len());
        for row in parents {
            let key = JoinKey::of(row, field_pos).map_err(|e| decode_error(model, field, e))?;
            parent_slot.push(key.map(|k| {
                *slots.entry(k).or_insert_with(|| {
                    distinct.push(k);
                    distinct.len() - 1
                })
            }));
        }
        let many = rel.kind == RelationKind::Many;
        let Some(first) = parents.first().filter(|_| !distinct.is_empty()) else {
            return Ok(Included {
                name: inc.relation.clone(),
                target: rel.target.clone(),
                many,
                set: RowSet {
                    rows: Vec::new(),
                    out: Vec::new(),
                    included: Vec::new(),
                },
                starts: vec![0; parents.len() + 1],
                indexes: Vec::new(),
            });
        };
        let mut scope = inc.scope.clone().unwrap_or_default();
        // Integer keys bind as they are; any other type goes through the JSON value the
        // dynamic rows show, coerced to the reference column's type as a filter value is.
        let ints: Option<Vec<i64>> = distinct
            .iter()
            .map(|k| match k {
                JoinKey::Int(n) => Some(*n),
                JoinKey::Bytes(..) => None,
            })
            .collect();
        let by_parent =
            match ints.and_then(|ints| crate::filter::any_of_ints(target, reference, &ints)) {
                Some(c) => c,
                None => {
                    let ty = first.columns()[field_pos].type_();
                    let keys = distinct
                        .iter()
                        .map(|k| k.to_json(ty))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| decode_error(model, field, e))?;
                    any_of(target, reference, &keys)?
                }
            };
        scope.r#where = Some(match scope.r#where.take() {
            Some(w) => w.and(by_parent),
            None => by_parent,
        });
        let (limit, skip) = (scope.limit.take(), scope.skip.take());
        let (children, child_stmt) = self.find_typed(target_index, &scope, Some(reference))?;
        let reference_pos = position(target, &child_stmt.columns, reference)?;
        // Children grouped by slot in two passes (count, then place), keeping query order
        // within a slot: one array for all of them rather than a list per parent.
        let nslots = distinct.len();
        let mut child_slot: Vec<usize> = Vec::with_capacity(children.rows.len());
        let mut slot_start = vec![0usize; nslots + 1];
        for row in &children.rows {
            let key =
                JoinKey::of(row, reference_pos).map_err(|e| decode_error(target, reference, e))?;
            let slot = key.and_then(|k| slots.get(&k).copied());
            if let Some(s) = slot {
                slot_start[s + 1] += 1;
            }
            child_slot.push(slot.unwrap_or(usize::MAX));
        }
        for s in 0..nslots {
            slot_start[s + 1] += slot_start[s];
        }
        let mut fill = slot_start.clone();
        let mut by_slot = vec![0usize; slot_start[nslots]];
        for (i, &s) in child_slot.iter().enumerate() {
            if let Some(at) = fill.get_mut(s) {
                by_slot[*at] = i;
                *at += 1;
            }
        }
        let skip = usize::try_from(skip.unwrap_or(0)).unwrap_or(usize::MAX);
        let limit = limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
        let mut starts = Vec::with_capacity(parents.len() + 1);
        let mut indexes = Vec::with_capacity(children.rows.len());
        starts.push(0);
        for slot in &parent_slot {
            if let Some(s) = *slot {
                let group = &by_slot[slot_start[s]..slot_start[s + 1]];
                indexes.extend(group.iter().skip(skip).take(limit));
            }
            starts.push(indexes.len());
        }
        Ok(Included {
            name: inc.relation.clone(),
            target: rel.target.clone(),
            many,
            set: children,
            starts,
            indexes,
        })
    }

    /// See [`Repository::find_one_as`].
    ///
    /// # Errors
    /// As [`Repository::find_one_as`].
    pub fn find_one_as<T: DeserializeOwned>(
        &mut self,
        filter: &JsonValue,
    ) -> Result<Option<T>, RepoError> {
        let mut filter = self.parse_filter(filter)?;
        filter.limit = Some(1);
        let rows = self.decode_rows(&filter, serde_row(&self.repo.model().name))?;
        Ok(rows.into_iter().next())
    }

    /// See [`Repository::find_into`].
    ///
    /// # Errors
    /// As [`Repository::find_into`].
    pub fn find_into<T: crate::FromRow>(
        &mut self,
        filter: &JsonValue,
    ) -> Result<Vec<T>, RepoError> {
        let filter = self.parse_filter(filter)?;
        self.decode_rows(&filter, |row| T::from_row(&row))
    }

    /// See [`Repository::find_by_id_into`].
    ///
    /// # Errors
    /// As [`Repository::find_by_id_into`].
    pub fn find_by_id_into<T: crate::FromRow>(
        &mut self,
        id: &JsonValue,
        filter: &JsonValue,
    ) -> Result<Option<T>, RepoError> {
        self.decode_by_id(id, filter, |row| T::from_row(&row))
    }

    /// See [`Repository::find_by_id_as`].
    ///
    /// # Errors
    /// As [`Repository::find_by_id_as`].
    pub fn find_by_id_as<T: DeserializeOwned>(
        &mut self,
        id: &JsonValue,
        filter: &JsonValue,
    ) -> Result<Option<T>, RepoError> {
        self.decode_by_id(id, filter, serde_row(&self.repo.model().name))
    }

    /// The rows of the by-id statement (`SELECT <visible columns> .. WHERE <pk> = $1`, built
    /// once per repository) and its plan, when this lookup can use it: no filter, no default
    /// filter, and an id that binds as the key's type. `Ok(None)` otherwise: the caller then
    /// runs [`Scope::by_id_filter`], with its errors.
    fn fast_by_id_rows(
        &mut self,
        id: &JsonValue,
        filter: &JsonValue,
    ) -> Result<Option<(Vec<postgres::Row>, &'a ColumnsPlan)>, RepoError> {
        let repo: &'a Repository<M> = self.repo;
        let model = repo.model();
        let no_filter = filter.is_null() || filter.as_object().is_some_and(|o| o.is_empty());
        let default_filter = model.default_filter.is_some() && !repo.opts.skip_default_filter;
        if !no_filter || default_filter {
            return Ok(None);
        }
        let Some((_, bound)) = self.pk_bound(id) else {
            return Ok(None);
        };
        // `pk_bound` built the plan.
        let Some((plan, _)) = repo.shared.plans.by_id.get().and_then(Option::as_ref) else {
            return Ok(None);
        };
        let params = PostgresValues(vec![PostgresValue(bound.value)]);
        let rows = run_query(self.exec, &plan.sql, &params)?;
        Ok(Some((rows, plan)))
    }

    /// `filter` parsed, with `<pk> = id` ANDed to its where, limit 1 and no skip: the general
    /// by-id lookup.
    fn by_id_filter(&self, id: &JsonValue, filter: &JsonValue) -> Result<Filter, RepoError> {
        let mut parsed = self.parse_filter(filter)?;
        let by_id = self.id_condition(id)?;
        parsed.r#where = Some(match parsed.r#where.take() {
            Some(w) => w.and(by_id),
            None => by_id,
        });
        parsed.limit = Some(1);
        parsed.skip = None;
        Ok(parsed)
    }

    /// See [`Repository::find_one`].
    ///
    /// # Errors
    /// As [`Repository::find`].
    pub fn find_one(&mut self, filter: &JsonValue) -> Result<Option<JsonValue>, RepoError> {
        let mut filter = self.parse_filter(filter)?;
        filter.limit = Some(1);
        let rows = self.find_parsed(self.repo.shared.model, &filter)?;
        Ok(rows.into_iter().next().map(JsonValue::Object))
    }

    fn id_condition(&self, id: &JsonValue) -> Result<Condition, RepoError> {
        let model = self.model();
        let pk = model.primary_key();
        let [pk] = pk.as_slice() else {
            return Err(RepoError::NoPrimaryKey(model.name.clone()));
        };
        let column = model
            .column_by_name(pk)
            .ok_or_else(|| RepoError::NoPrimaryKey(model.name.clone()))?;
        Ok(any_of(model, &column.property, std::slice::from_ref(id))?)
    }

    /// See [`Repository::find_by_id`].
    ///
    /// # Errors
    /// As [`Repository::find_by_id`].
    pub fn find_by_id(
        &mut self,
        id: &JsonValue,
        filter: &JsonValue,
    ) -> Result<Option<JsonValue>, RepoError> {
        if let Some(row) = self.find_by_id_fast(id, filter)? {
            return Ok(row);
        }
        let mut parsed = self.parse_filter(filter)?;
        if parsed.r#where.is_none() && parsed.include.is_empty() {
            // Only `fields` (and order / limit / skip, which mean nothing for one row by its
            // unique key): the statement is simple enough to write directly.
            let columns = parsed.output_columns(self.model());
            if let Some(row) = self.select_by_pk(id, &columns)? {
                return Ok(row);
            }
        }
        let by_id = self.id_condition(id)?;
        parsed.r#where = Some(match parsed.r#where.take() {
            Some(w) => w.and(by_id),
            None => by_id,
        });
        parsed.limit = Some(1);
        parsed.skip = None;
        let rows = self.find_parsed(self.repo.shared.model, &parsed)?;
        Ok(rows.into_iter().next().map(JsonValue::Object))
    }

    /// The common `find_by_id(id, {})`, without parsing and compiling a filter: one statement
    /// built once per repository (`SELECT <visible columns> .. WHERE <pk> = $1`, no LIMIT since
    /// the key is unique), the id coerced as the general path coerces it. `Ok(None)` when this
    /// call is not that case (a filter, a default filter, a null id, an id that needs a cast or
    /// does not coerce): the general path then answers, with its errors.
    fn find_by_id_fast(
        &mut self,
        id: &JsonValue,
        filter: &JsonValue,
    ) -> Result<Option<Option<JsonValue>>, RepoError> {
        let Some((rows, plan)) = self.fast_by_id_rows(id, filter)? else {
            return Ok(None);
        };
        let row = Decoder::with_keys(self.repo.model(), &plan.keys)
            .decode(&rows)?
            .into_iter()
            .next();
        Ok(Some(row.map(JsonValue::Object)))
    }

    /// The quoted table name and column names of the model, built once per repository.
    fn quoted(&self) -> &'a (String, Vec<String>) {
        let repo: &'a Repository<M> = self.repo;
        repo.shared.plans.quoted.get_or_init(|| {
            let model = repo.model();
            let columns = model
                .columns
                .iter()
                .map(|c| quote_ident(&c.column))
                .collect();
            (model.quoted_table(), columns)
        })
    }

    /// The primary key's column index and `id` coerced to its type, when the model has a
    /// single-column scalar key and `id` is not null and binds without a cast; `None` sends the
    /// caller to its general path (which then reports any error).
    fn pk_bound(&self, id: &JsonValue) -> Option<(usize, BoundValue)> {
        let repo: &'a Repository<M> = self.repo;
        let model = repo.model();
        if id.is_null() {
            return None;
        }
        let (_, pk) = repo
            .shared
            .plans
            .by_id
            .get_or_init(|| by_id_plan(model))
            .as_ref()?;
        let col = &model.columns[*pk];
        match coerce_value(&col.property, &col.pg_type, id) {
            Ok(b) if b.cast.is_none() => Some((*pk, b)),
            _ => None,
        }
    }

    /// `SELECT <columns> FROM <table> WHERE <pk> = $1` (see [`Scope::pk_bound`]), or `Ok(None)`
    /// when the key or id does not allow it.
    fn select_by_pk(
        &mut self,
        id: &JsonValue,
        columns: &[usize],
    ) -> Result<Option<Option<JsonValue>>, RepoError> {
        let Some((pk, bound)) = self.pk_bound(id) else {
            return Ok(None);
        };
        let (table, quoted) = self.quoted();
        let sql = select_by_pk_sql(table, quoted, columns, pk);
        let params = PostgresValues(vec![PostgresValue(bound.value)]);
        let rows = run_query(self.exec, &sql, &params)?;
        let model = self.model();
        let row = Decoder::new(model, columns)
            .decode(&rows)?
            .into_iter()
            .next();
        Ok(Some(row.map(JsonValue::Object)))
    }

    /// See [`Repository::count`].
    ///
    /// # Errors
    /// As [`Repository::count`].
    pub fn count(&mut self, r#where: &JsonValue) -> Result<u64, RepoError> {
        let cond = self.parse_where(r#where, false)?;
        self.count_condition(&cond)
    }

    fn count_condition(&mut self, cond: &Condition) -> Result<u64, RepoError> {
        let model = self.model();
        let mut q = Query::select();
        q.expr(Expr::cust("count(*)"))
            .from(model.table_ref())
            .cond_where(cond.to_sea_query(None));
        let (sql, values) = q.build_postgres(PostgresQueryBuilder);
        let rows =
            run_query(self.exec, &sql, &values).map_err(|e| self.name_regexp(Some(cond), e))?;
        let n: i64 = rows
            .first()
            .map(|r| r.try_get(0))
            .transpose()
            .map_err(ignis_tx::Error::from)?
            .unwrap_or(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// See [`Repository::exists_with`].
    ///
    /// # Errors
    /// As [`Repository::exists_with`].
    pub fn exists_with(&mut self, r#where: &JsonValue) -> Result<bool, RepoError> {
        let cond = self.parse_where(r#where, false)?;
        let model = self.model();
        let mut q = Query::select();
        q.expr(Expr::cust("1"))
            .from(model.table_ref())
            .cond_where(cond.to_sea_query(None))
            .limit(1);
        let (sql, values) = q.build_postgres(PostgresQueryBuilder);
        let rows =
            run_query(self.exec, &sql, &values).map_err(|e| self.name_regexp(Some(&cond), e))?;
        Ok(!rows.is_empty())
    }

    /// See [`Repository::find_with_range`].
    ///
    /// # Errors
    /// As [`Repository::find_with_range`].
    pub fn find_with_range(&mut self, filter: &JsonValue) -> Result<RangeResult, RepoError> {
        let parsed = self.parse_filter(filter)?;
        let total = match &parsed.r#where {
            Some(w) => self.count_condition(w)?,
            None => self.count_condition(&Condition::And(Vec::new()))?,
        };
        let rows = self.find_parsed(self.repo.shared.model, &parsed)?;
        let start = parsed.skip.unwrap_or(0);
        let len = rows.len() as u64;
        Ok(RangeResult {
            data: rows.into_iter().map(JsonValue::Object).collect(),
            range: Range {
                start,
                end: if len == 0 { start } else { start + len - 1 },
                total,
            },
        })
    }

    /// Runs a parsed filter on model `index`: one query for the rows, then one per included
    /// relation and level (never one per row).
    fn find_parsed(
        &mut self,
        index: usize,
        filter: &Filter,
    ) -> Result<Vec<Map<String, JsonValue>>, RepoError> {
        let schema = self.repo.shared.schema.clone();
        let model = &schema.models()[index];
        // Columns the includes join on must be selected even when `fields` leaves them out.
        let mut join_props: Vec<&str> = Vec::new();
        for inc in &filter.include {
            let rel = relation(model, &inc.relation)?;
            join_props.push(&rel.fields[0]);
        }
        let (stmt, values) = self.select_statement(index, filter, &join_props);
        let rows = run_query(self.exec, &stmt.sql, &values)
            .map_err(|e| self.name_regexp(filter.r#where.as_ref(), e))?;
        let mut objects = Decoder::new(model, &stmt.columns).decode(&rows)?;
        if filter.include.is_empty() {
            return Ok(objects);
        }
        for inc in &filter.include {
            self.load_inclusion(model, &mut objects, inc)?;
        }
        // Drop join columns the caller's `fields` did not ask for.
        let wanted = filter.output_columns(model);
        for prop in join_props {
            let asked = wanted.iter().any(|&i| model.columns[i].property == prop);
            if !asked {
                for o in &mut objects {
                    o.remove(prop);
                }
            }
        }
        Ok(objects)
    }

    fn load_inclusion(
        &mut self,
        model: &Model,
        parents: &mut [Map<String, JsonValue>],
        inc: &crate::filter::Inclusion,
    ) -> Result<(), RepoError> {
        let schema = self.repo.shared.schema.clone();
        let (rel, target_index) = relation_target(&schema, model, &inc.relation)?;
        let target = &schema.models()[target_index];
        let field = &rel.fields[0];
        let reference = &rel.references[0];
        let many = rel.kind == RelationKind::Many;

        let mut keys: Vec<JsonValue> = Vec::new();
        // Join key -> parents that have it: each group of children is moved to the last of its
        // parents and cloned only for the others (parents rarely share a key on a `many`
        // relation; on a `one` relation they do, and each needs its own copy).
        let mut parents_per_key: HashMap<String, usize> = HashMap::new();
        for p in parents.iter() {
            if let Some(v) = p.get(field.as_str()).filter(|v| !v.is_null()) {
                let n = parents_per_key.entry(join_key(v)).or_insert(0);
                if *n == 0 {
                    keys.push(v.clone());
                }
                *n += 1;
            }
        }
        let empty = || {
            if many {
                JsonValue::Array(Vec::new())
            } else {
                JsonValue::Null
            }
        };
        if keys.is_empty() {
            for p in parents.iter_mut() {
                p.insert(inc.relation.clone(), empty());
            }
            return Ok(());
        }
        let mut scope = inc.scope.clone().unwrap_or_default();
        let by_parent = any_of(target, reference, &keys)?;
        scope.r#where = Some(match scope.r#where.take() {
            Some(w) => w.and(by_parent),
            None => by_parent,
        });
        // limit / skip apply per parent (as Ignis's relational queries do), not to the whole
        // batch: load the batch in scope order, then cut per parent.
        let (limit, skip) = (scope.limit.take(), scope.skip.take());
        let children = self.find_parsed_with_join(target_index, &scope, reference)?;
        let mut grouped: HashMap<String, Vec<Map<String, JsonValue>>> = HashMap::new();
        for (key, child) in children {
            grouped.entry(key).or_default().push(child);
        }
        for p in parents.iter_mut() {
            let key = p.get(field.as_str()).filter(|v| !v.is_null()).map(join_key);
            let mut list = match key {
                Some(k) => {
                    let left = parents_per_key.get_mut(&k).map_or(0, |n| {
                        *n -= 1;
                        *n
                    });
                    if left == 0 {
                        grouped.remove(&k).unwrap_or_default()
                    } else {
                        grouped.get(&k).cloned().unwrap_or_default()
                    }
                }
                None => Vec::new(),
            };
            let skip = usize::try_from(skip.unwrap_or(0)).unwrap_or(usize::MAX);
            list.drain(..skip.min(list.len()));
            if let Some(l) = limit {
                list.truncate(usize::try_from(l).unwrap_or(usize::MAX));
            }
            let value = if many {
                JsonValue::Array(list.into_iter().map(JsonValue::Object).collect())
            } else {
                list.into_iter()
                    .next()
                    .map(JsonValue::Object)
                    .unwrap_or(JsonValue::Null)
            };
            p.insert(inc.relation.clone(), value);
        }
        Ok(())
    }

    /// Runs `filter` on a related model and returns each row with the JSON text of its join
    /// column (`reference`), which is kept out of the row unless `fields` asked for it.
    fn find_parsed_with_join(
        &mut self,
        index: usize,
        filter: &Filter,
        reference: &str,
    ) -> Result<Vec<(String, Object)>, RepoError> {
        let schema = self.repo.shared.schema.clone();
        let model = &schema.models()[index];
        let wanted = filter.output_columns(model);
        let asked = wanted
            .iter()
            .any(|&i| model.columns[i].property == reference);
        let mut filter = filter.clone();
        // Select the join column even if fields leave it out (find_parsed keeps only join
        // columns of this level's own includes, so add it through fields when needed).
        if !asked {
            if let Some(crate::filter::Fields::Include(props)) = &mut filter.fields {
                props.push(reference.to_string());
            } else if let Some(crate::filter::Fields::Exclude(props)) = &mut filter.fields {
                props.retain(|p| p != reference);
            }
        }
        let rows = self.find_parsed(index, &filter)?;
        Ok(rows
            .into_iter()
            .map(|mut r| {
                let key = r.get(reference).map(join_key).unwrap_or_default();
                if !asked {
                    r.remove(reference);
                }
                (key, r)
            })
            .collect())
    }

    /// The handle's actor ([`Repository::with_actor`]), or null without one.
    fn actor(&self) -> JsonValue {
        self.repo
            .opts
            .actor
            .as_deref()
            .cloned()
            .unwrap_or(JsonValue::Null)
    }

    fn actor_value(&self, property: &str) -> Result<Option<sea_query::SimpleExpr>, RepoError> {
        let model = self.model();
        let Some(col) = model.column_by_property(property) else {
            return Ok(None);
        };
        let actor = self.actor();
        let bound = coerce_value(property, &col.pg_type, &actor)?;
        Ok(Some(bound.to_expr()))
    }

    /// `e`, or, when it is the server's refusal of a `regexp` / `iregexp` pattern (SQLSTATE
    /// 2201B, see [`RepoError`]'s conversion) in a statement built from `cond`, the filter error
    /// naming the field, operator and pattern ([`regexp_error`], which may ask the server about
    /// each pattern of `cond` on this scope's executor).
    fn name_regexp(&mut self, cond: Option<&Condition>, e: RepoError) -> RepoError {
        let server = match (&e, cond) {
            (RepoError::Filter(FilterError::Malformed { message }), Some(_)) => {
                message.strip_prefix(REGEXP_ERROR_PREFIX)
            }
            _ => None,
        };
        match (server, cond) {
            (Some(server), Some(cond)) => {
                let server = server.to_string();
                RepoError::Filter(regexp_error(cond, self.exec, &server))
            }
            _ => e,
        }
    }

    /// The `RETURNING` clause of writes (every visible column), or `None` with
    /// `should_return(false)`. Built once per repository.
    fn returning(&self) -> Option<&'a ColumnsPlan> {
        let repo: &'a Repository<M> = self.repo;
        if !repo.opts.should_return {
            return None;
        }
        Some(repo.shared.plans.returning.get_or_init(|| {
            let model = repo.model();
            let columns = visible_columns(model);
            ColumnsPlan::new(model, returning_sql(model, &columns), columns)
        }))
    }

    fn run_write(
        &mut self,
        sql: &str,
        values: &PostgresValues,
        returning: Option<&ColumnsPlan>,
    ) -> Result<(u64, Vec<JsonValue>), RepoError> {
        self.run_write_params(sql, &values.as_params(), returning)
    }

    fn run_write_params(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        returning: Option<&ColumnsPlan>,
    ) -> Result<(u64, Vec<JsonValue>), RepoError> {
        let Some(returning) = returning.filter(|r| !r.columns.is_empty()) else {
            let n = self.exec.execute(sql, params)?;
            return Ok((n, Vec::new()));
        };
        // A write that autocommits cannot be undone once it ran: every returned column must
        // have a JSON form before it runs (the statement's column types, from the prepared
        // statement the query below reuses), so decoding cannot fail after the commit.
        let stmt = self.exec.prepare(sql)?;
        if let Some((n, col)) = stmt
            .columns()
            .iter()
            .enumerate()
            .find(|(_, c)| !crate::row::decodable(c.type_()))
        {
            return Err(RepoError::Decode {
                model: self.model().name.clone(),
                property: returning.keys.get(n).cloned().unwrap_or_default(),
                message: format!(
                    "Postgres type `{}` has no JSON decoding; the write was not run (use \
                     should_return(false), or give the column a decodable type)",
                    col.type_().name()
                ),
            });
        }
        let rows = self.exec.query(sql, params)?;
        let objects = Decoder::with_keys(self.model(), &returning.keys).decode(&rows)?;
        Ok((
            objects.len() as u64,
            objects.into_iter().map(JsonValue::Object).collect(),
        ))
    }
}

/// The text an include joins parent and child rows on: distinct for distinct JSON values of the
/// same type, cheaper than `Value::to_string` for the usual strings and numbers.
fn join_key(v: &JsonValue) -> String {
    match v {
        JsonValue::String(s) => {
            let mut k = String::with_capacity(s.len() + 1);
            k.push('"');
            k.push_str(s);
            k
        }
        JsonValue::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// The statement of [`Scope::find_by_id_fast`] and the primary key's column index, for a model
/// with a single-column primary key of a scalar type.
fn by_id_plan(model: &Model) -> Option<(ColumnsPlan, usize)> {
    let keys = model.primary_key();
    let [pk] = keys.as_slice() else {
        return None;
    };
    let pk = model.columns.iter().position(|c| c.column == *pk)?;
    if model.columns[pk].pg_type.element().is_some() {
        return None;
    }
    let columns = visible_columns(model);
    let quoted: Vec<String> = model
        .columns
        .iter()
        .map(|c| quote_ident(&c.column))
        .collect();
    let sql = select_by_pk_sql(&model.quoted_table(), &quoted, &columns, pk);
    Some((ColumnsPlan::new(model, sql, columns), pk))
}

/// `SELECT <columns> FROM <table> WHERE <pk> = $1`, from quoted names (`quoted[i]` is column
/// `i` of the model).
fn select_by_pk_sql(table: &str, quoted: &[String], columns: &[usize], pk: usize) -> String {
    let mut sql = String::with_capacity(64 + 16 * columns.len());
    sql.push_str("SELECT ");
    for (n, &i) in columns.iter().enumerate() {
        if n > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&quoted[i]);
    }
    sql.push_str(" FROM ");
    sql.push_str(table);
    sql.push_str(" WHERE ");
    sql.push_str(&quoted[pk]);
    sql.push_str(" = $1");
    sql
}

/// Decoding of one row into `T` through serde ([`crate::typed::RowDeserializer`]), a failure
/// reported as [`RepoError::Deserialize`] of `model`.
fn serde_row<T: DeserializeOwned>(
    model: &str,
) -> impl Fn(crate::RowRef<'_>) -> Result<T, RepoError> + '_ {
    move |row| {
        T::deserialize(crate::typed::RowDeserializer(row)).map_err(|source| {
            RepoError::Deserialize {
                model: model.to_string(),
                source,
            }
        })
    }
}

/// Relation `name` of `model` (see [`relation`]) and the index of its target model in `schema`.
fn relation_target<'m>(
    schema: &Schema,
    model: &'m Model,
    name: &str,
) -> Result<(&'m ignis_schema::Relation, usize), RepoError> {
    let rel = relation(model, name)?;
    let target = schema
        .models()
        .iter()
        .position(|m| m.name == rel.target)
        .ok_or_else(|| RepoError::UnknownModel(rel.target.clone()))?;
    Ok((rel, target))
}

fn relation<'m>(model: &'m Model, name: &str) -> Result<&'m ignis_schema::Relation, RepoError> {
    let rel = model
        .relation_by_name(name)
        .ok_or_else(|| RepoError::Relation {
            model: model.name.clone(),
            relation: name.to_string(),
            message: "no such relation".into(),
        })?;
    if rel.fields.len() != 1 || rel.references.len() != 1 {
        return Err(RepoError::Relation {
            model: model.name.clone(),
            relation: name.to_string(),
            message: "relations over several columns cannot be included yet".into(),
        });
    }
    Ok(rel)
}

impl<'a> Scope<'a, ReadWrite> {
    /// The SET / VALUES expressions of a write: each given property coerced to its column type,
    /// JSON-path keys (updates only) folded into `jsonb_set` calls.
    fn assignments(
        &self,
        data: &JsonValue,
        allow_paths: bool,
    ) -> Result<Vec<(String, sea_query::SimpleExpr)>, RepoError> {
        let model = self.model();
        let obj = data
            .as_object()
            .ok_or_else(|| invalid(model, "the data to write must be a JSON object".into()))?;
        let mut out: Vec<(String, sea_query::SimpleExpr)> = Vec::with_capacity(obj.len() + 2);
        let mut paths: Vec<(String, Vec<String>, &JsonValue)> = Vec::new();
        for (key, value) in obj {
            match model.column_by_property(key) {
                Some(col) => {
                    let bound = written_value(model, col, key, value)?;
                    out.push((col.column.clone(), bound.to_expr()));
                }
                None => {
                    let parsed = split_path(key).filter(|_| allow_paths);
                    let Some((head, segments)) = parsed else {
                        return Err(invalid(
                            model,
                            format!("unknown property `{}`", excerpt(key)),
                        ));
                    };
                    let col = model
                        .column_by_property(head)
                        .filter(|c| c.pg_type.is_json())
                        .ok_or_else(|| {
                            invalid(
                                model,
                                format!(
                                    "`{}`: `{}` is not a json / jsonb property",
                                    excerpt(key),
                                    excerpt(head)
                                ),
                            )
                        })?;
                    if segments.len() > MAX_PATH_SEGMENTS {
                        return Err(invalid(
                            model,
                            format!(
                                "JSON path `{}` has {} segments; at most {MAX_PATH_SEGMENTS}",
                                excerpt(key),
                                segments.len()
                            ),
                        ));
                    }
                    if paths.len() == MAX_PATH_KEYS {
                        return Err(invalid(
                            model,
                            format!("more than {MAX_PATH_KEYS} JSON-path keys in one update"),
                        ));
                    }
                    check_value_depth(key, value, self.limits().max_value_depth)?;
                    paths.push((col.column.clone(), segments, value));
                }
            }
        }
        // JSON-path assignments, per column. Object paths are merged into one trie and built as
        // nested `obj || jsonb_build_object(key, child)` over the column's current value, so
        // missing intermediate objects are created (Ignis's plain jsonb_set leaves the update a
        // no-op when an intermediate key is missing) and the expression stays linear in the
        // number of paths. Paths with an array index use jsonb_set(.., create_missing true) on
        // top, as Ignis.
        let mut tries: Vec<(String, PathNode)> = Vec::new();
        let mut indexed: Vec<(String, Vec<String>, &JsonValue)> = Vec::new();
        for (column, segments, value) in paths {
            if out.iter().any(|(c, _)| *c == column) {
                return Err(invalid(
                    model,
                    format!("column `{column}` is set both whole and by JSON path"),
                ));
            }
            if segments
                .iter()
                .any(|s| s.chars().all(|c| c.is_ascii_digit()))
            {
                // Each one wraps the column's expression in one more jsonb_set call.
                if indexed.len() == MAX_INDEXED_PATHS {
                    return Err(invalid(
                        model,
                        format!(
                            "more than {MAX_INDEXED_PATHS} JSON paths with an array index in one update"
                        ),
                    ));
                }
                indexed.push((column, segments, value));
                continue;
            }
            let pos = match tries.iter().position(|(c, _)| *c == column) {
                Some(p) => p,
                None => {
                    tries.push((column.clone(), PathNode::default()));
                    tries.len() - 1
                }
            };
            if !tries[pos].1.insert(&segments, value) {
                return Err(invalid(
                    model,
                    format!(
                        "JSON path `{}` of column `{column}` is set twice or inside another path set",
                        excerpt(&segments.join("."))
                    ),
                ));
            }
        }
        let mut by_column: Vec<(String, sea_query::SimpleExpr)> = tries
            .into_iter()
            .map(|(column, node)| {
                let current = format!("{}::jsonb", quote_ident(&column));
                let expr = node.to_expr(&current, &mut Vec::new());
                (column, expr)
            })
            .collect();
        for (column, segments, value) in indexed {
            let path = text_array(segments);
            let json = sea_query::Value::Json(Some(Box::new(value.clone())));
            let base = match by_column.iter().position(|(c, _)| *c == column) {
                Some(i) => by_column.remove(i).1,
                None => Expr::cust(format!(
                    "COALESCE({}::jsonb, '{{}}'::jsonb)",
                    quote_ident(&column)
                )),
            };
            let set = Expr::cust_with_exprs(
                "jsonb_set($1, $2, $3, true)",
                [
                    base,
                    Expr::cust_with_values("$1::text[]", [path]),
                    Expr::cust_with_values("$1::jsonb", [json]),
                ],
            );
            by_column.push((column, set));
        }
        for (column, expr) in by_column {
            let is_json_type = model
                .column_by_name(&column)
                .is_some_and(|c| c.pg_type == ignis_schema::PgType::Json);
            let expr = if is_json_type {
                Expr::cust_with_exprs("($1)::json", [expr])
            } else {
                expr
            };
            out.push((column, expr));
        }
        Ok(out)
    }

    /// [`crate::FilterError`] when a value of `data` (an object of property values) nests deeper
    /// than [`FilterLimits::max_value_depth`]: refused before anything recursive (coercion,
    /// serialisation) touches it.
    fn check_data(&self, data: &JsonValue) -> Result<(), RepoError> {
        if let Some(obj) = data.as_object() {
            let max = self.limits().max_value_depth;
            for (key, value) in obj {
                check_value_depth(key, value, max)?;
            }
        }
        Ok(())
    }

    /// The columns and bound values of an INSERT: each given property coerced to its column
    /// type. Checks and errors as [`Scope::assignments`] without JSON paths.
    fn insert_values(
        &self,
        data: &JsonValue,
    ) -> Result<Vec<(&'a ignis_schema::Column, BoundValue)>, RepoError> {
        let model = self.model();
        let obj = data
            .as_object()
            .ok_or_else(|| invalid(model, "the data to write must be a JSON object".into()))?;
        self.check_data(data)?;
        let mut out = Vec::with_capacity(obj.len() + 2);
        for (key, value) in obj {
            let Some(col) = model.column_by_property(key) else {
                return Err(invalid(
                    model,
                    format!("unknown property `{}`", excerpt(key)),
                ));
            };
            out.push((col, written_value(model, col, key, value)?));
        }
        Ok(out)
    }

    /// The handle's actor (null without one) coerced to the type of the audit column `col`.
    fn actor_bound(&self, col: &ignis_schema::Column) -> Result<BoundValue, RepoError> {
        let actor = self.repo.opts.actor.as_deref().unwrap_or(&JsonValue::Null);
        Ok(coerce_value(&col.property, &col.pg_type, actor)?)
    }

    /// Adds `createdBy` / `modifiedBy` from the actor when the data did not set them.
    fn audit(
        &self,
        out: &mut Vec<(String, sea_query::SimpleExpr)>,
        properties: &[&str],
    ) -> Result<(), RepoError> {
        let model = self.model();
        for prop in properties {
            if let Some(col) = model.column_by_property(prop) {
                if !out.iter().any(|(c, _)| *c == col.column) {
                    if let Some(e) = self.actor_value(prop)? {
                        out.push((col.column.clone(), e));
                    }
                }
            }
        }
        Ok(())
    }

    /// See [`Repository::create`].
    ///
    /// # Errors
    /// As [`Repository::create`].
    pub fn create(
        &mut self,
        data: &JsonValue,
    ) -> Result<WriteResult<Option<JsonValue>>, RepoError> {
        let model = self.model();
        let mut values = self.insert_values(data)?;
        for prop in ["createdBy", "modifiedBy"] {
            if let Some(col) = model.column_by_property(prop) {
                if !values.iter().any(|(c, _)| c.column == col.column) {
                    values.push((col, self.actor_bound(col)?));
                }
            }
        }
        // The INSERT is written here rather than with sea-query: the statement is as simple as
        // SQL gets, and building it through sea-query cost more than the rest of the call.
        let (mut sql, vals) = if values.is_empty() {
            let mut q = Query::insert();
            q.into_table(model.table_ref());
            q.or_default_values();
            q.build_postgres(PostgresQueryBuilder)
        } else {
            let (table, quoted) = self.quoted();
            let mut sql = String::with_capacity(64 + 24 * values.len());
            sql.push_str("INSERT INTO ");
            sql.push_str(table);
            sql.push_str(" (");
            for (n, (col, _)) in values.iter().enumerate() {
                if n > 0 {
                    sql.push_str(", ");
                }
                match model.columns.iter().position(|c| std::ptr::eq(c, *col)) {
                    Some(i) => sql.push_str(&quoted[i]),
                    None => sql.push_str(&quote_ident(&col.column)),
                }
            }
            sql.push_str(") VALUES (");
            for (n, (_, bound)) in values.iter().enumerate() {
                if n > 0 {
                    sql.push_str(", ");
                }
                sql.push('$');
                sql.push_str(&(n + 1).to_string());
                if let Some(cast) = &bound.cast {
                    sql.push_str(cast);
                }
            }
            sql.push(')');
            let params = values
                .into_iter()
                .map(|(_, bound)| PostgresValue(bound.value))
                .collect();
            (sql, PostgresValues(params))
        };
        let ret = self.returning();
        if let Some(r) = ret {
            sql.push_str(&r.sql);
        }
        let (count, rows) = self.run_write(&sql, &vals, ret)?;
        Ok(WriteResult {
            count,
            data: rows.into_iter().next(),
        })
    }

    /// See [`Repository::create_all`]: one statement on the caller's executor, so atomic on any
    /// of them; only a call binding more than 65,535 parameters sends several, which are atomic
    /// when the executor is a transaction or savepoint (on a bare pooled connection, run it in
    /// one).
    ///
    /// # Errors
    /// As [`Repository::create`].
    pub fn create_all(
        &mut self,
        data: &[JsonValue],
    ) -> Result<WriteResult<Vec<JsonValue>>, RepoError> {
        let groups = group_by_keys(self.model(), data)?;
        self.create_all_grouped(data, groups)
    }

    /// [`Scope::create_all`] of `data` already grouped by property set ([`group_by_keys`]).
    fn create_all_grouped(
        &mut self,
        data: &[JsonValue],
        groups: Vec<KeyGroup<'_>>,
    ) -> Result<WriteResult<Vec<JsonValue>>, RepoError> {
        let model = self.model();
        for row in data {
            self.check_data(row)?;
        }
        let ret = self.returning();
        let actor = self.actor();
        let single_group = groups.len() == 1;
        // One INSERT (without RETURNING) per group, or per VALUES chunk of a group with an
        // array column; each numbers its parameters from 1.
        let mut parts: Vec<InsertPart> = Vec::with_capacity(groups.len());
        for (keys, rows) in groups {
            // Columns: the given properties plus the audit ones from the actor.
            let mut columns: Vec<(&ignis_schema::Column, bool)> = Vec::new();
            for k in &keys {
                let col = model
                    .column_by_property(k)
                    .ok_or_else(|| invalid(model, format!("unknown property `{}`", excerpt(k))))?;
                writable(model, col, k)?;
                columns.push((col, false));
            }
            for prop in ["createdBy", "modifiedBy"] {
                if let Some(col) = model.column_by_property(prop) {
                    if !keys.iter().any(|k| k == prop) {
                        columns.push((col, true));
                    }
                }
            }
            if columns.is_empty() {
                // Only defaults: one row per number of a series, no column given.
                let n = i64::try_from(rows.len()).unwrap_or(i64::MAX);
                parts.push(InsertPart {
                    sql: format!(
                        "INSERT INTO {} SELECT FROM generate_series(1, $1::bigint)",
                        model.quoted_table()
                    ),
                    params: vec![Box::new(n)],
                });
                continue;
            }
            if columns
                .iter()
                .any(|(c, _)| matches!(c.pg_type, ignis_schema::PgType::Array(_)))
            {
                // unnest cannot carry array columns (it would flatten them): a multi-row
                // VALUES list instead, one per MAX_PARAMS parameters.
                let per_statement = (MAX_PARAMS / columns.len()).max(1);
                for chunk in rows.chunks(per_statement) {
                    parts.push(self.values_part(&columns, chunk, &actor)?);
                }
                continue;
            }
            let mut bounds = Vec::with_capacity(columns.len());
            for (col, from_actor) in &columns {
                let array_type = ignis_schema::PgType::Array(Box::new(col.pg_type.clone()));
                bounds.push(coerce_column(
                    col,
                    &array_type,
                    &rows,
                    from_actor.then_some(&actor),
                )?);
            }
            if single_group
                && ret.is_none()
                && rows.len() >= COPY_MIN_ROWS
                && self.copy_allowed()?
            {
                if let Some(copy) = copy_columns(&columns, &mut bounds) {
                    let count = self.copy_in(&columns, copy, rows.len())?;
                    return Ok(WriteResult {
                        count,
                        data: Vec::new(),
                    });
                }
            }
            let mut sql = format!(
                "INSERT INTO {} ({}) SELECT * FROM unnest(",
                model.quoted_table(),
                column_list(&columns)
            );
            let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(columns.len());
            for (n, ((col, _), bound)) in columns.iter().zip(bounds).enumerate() {
                if n > 0 {
                    sql.push_str(", ");
                }
                let array_type = ignis_schema::PgType::Array(Box::new(col.pg_type.clone()));
                sql.push_str(&format!(
                    "${}{}::{}",
                    n + 1,
                    bound.cast.as_deref().unwrap_or(""),
                    array_type
                ));
                params.push(array_param(bound.value));
            }
            sql.push(')');
            parts.push(InsertPart { sql, params });
        }
        let mut result = WriteResult {
            count: 0,
            data: Vec::new(),
        };
        // Parts that fit in one statement's parameters go together, as data-modifying CTEs
        // of one statement: atomic on any executor, even a connection in autocommit.
        let mut batch: Vec<InsertPart> = Vec::new();
        let mut batch_params = 0;
        let mut iter = parts.into_iter().peekable();
        while let Some(part) = iter.next() {
            batch_params += part.params.len();
            batch.push(part);
            let full = iter
                .peek()
                .is_none_or(|next| batch_params + next.params.len() > MAX_PARAMS);
            if full {
                let (count, data) = self.run_insert_parts(std::mem::take(&mut batch), ret)?;
                batch_params = 0;
                result.count += count;
                result.data.extend(data);
            }
        }
        Ok(result)
    }

    /// Runs INSERT `parts` as one statement: the part itself (plus RETURNING), or
    /// `WITH g0 AS (<part> RETURNING ..), g1 AS (..) SELECT * FROM g0 UNION ALL ..` (rows in part
    /// order), or without rows to return `.. SELECT (SELECT count(*) FROM g0) + ..`.
    fn run_insert_parts(
        &mut self,
        parts: Vec<InsertPart>,
        ret: Option<&ColumnsPlan>,
    ) -> Result<(u64, Vec<JsonValue>), RepoError> {
        if let [part] = parts.as_slice() {
            let mut sql = part.sql.clone();
            if let Some(r) = ret {
                sql.push_str(&r.sql);
            }
            let refs: Vec<&(dyn ToSql + Sync)> = part.params.iter().map(|p| p.as_ref()).collect();
            return self.run_write_params(&sql, &refs, ret);
        }
        let mut sql = String::from("WITH ");
        let mut offset = 0;
        let mut refs: Vec<&(dyn ToSql + Sync)> = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("g{i} AS ("));
            sql.push_str(&renumber_params(&part.sql, offset));
            match ret {
                Some(r) => sql.push_str(&r.sql),
                None => sql.push_str(" RETURNING 1"),
            }
            sql.push(')');
            offset += part.params.len();
            refs.extend(
                part.params
                    .iter()
                    .map(|p| p.as_ref() as &(dyn ToSql + Sync)),
            );
        }
        if ret.is_some() {
            for i in 0..parts.len() {
                sql.push_str(if i == 0 {
                    " SELECT * FROM g0"
                } else {
                    " UNION ALL SELECT * FROM "
                });
                if i > 0 {
                    sql.push_str(&format!("g{i}"));
                }
            }
            return self.run_write_params(&sql, &refs, ret);
        }
        sql.push_str(" SELECT ");
        for i in 0..parts.len() {
            if i > 0 {
                sql.push_str(" + ");
            }
            sql.push_str(&format!("(SELECT count(*) FROM g{i})"));
        }
        let rows = self.exec.query(&sql, &refs)?;
        let n: i64 = match rows.first() {
            Some(row) => row.try_get(0).map_err(ignis_tx::Error::from)?,
            None => 0,
        };
        Ok((u64::try_from(n).unwrap_or(0), Vec::new()))
    }

    /// `INSERT INTO <table> (<columns>) VALUES ($1, $2::type, ..), (..)`: `rows` (each giving
    /// every column of `columns` that is not from the actor) as one INSERT part.
    fn values_part(
        &self,
        columns: &[(&ignis_schema::Column, bool)],
        rows: &[&Object],
        actor: &JsonValue,
    ) -> Result<InsertPart, RepoError> {
        let model = self.model();
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES ",
            model.quoted_table(),
            column_list(columns)
        );
        let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(rows.len() * columns.len());
        for (r, row) in rows.iter().enumerate() {
            sql.push_str(if r > 0 { ", (" } else { "(" });
            for (n, (col, from_actor)) in columns.iter().enumerate() {
                let value = if *from_actor {
                    actor
                } else {
                    row.get(&col.property).unwrap_or(&JsonValue::Null)
                };
                let bound = written_value(model, col, &col.property, value)?;
                if n > 0 {
                    sql.push_str(", ");
                }
                params.push(Box::new(PostgresValue(bound.value)));
                sql.push('$');
                sql.push_str(&params.len().to_string());
                if let Some(cast) = &bound.cast {
                    sql.push_str(cast);
                }
            }
            sql.push(')');
        }
        Ok(InsertPart { sql, params })
    }

    /// Whether `create_all` may load large batches with `COPY`: the model's table is a plain
    /// (or partitioned) table without row-level security, which `COPY FROM` refuses. Asked of
    /// the catalog once per repository; models the migrator skips (often views) never do.
    fn copy_allowed(&mut self) -> Result<bool, RepoError> {
        let repo: &'a Repository<ReadWrite> = self.repo;
        if let Some(allowed) = repo.shared.plans.copy_allowed.get() {
            return Ok(*allowed);
        }
        let model = repo.model();
        let allowed = !model.skip_migrate
            && {
                let rows = self.exec.query(
                "SELECT c.relkind IN ('r', 'p') AND NOT c.relrowsecurity \
                 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = $1 AND c.relname = $2",
                &[&model.schema, &model.table],
            )?;
                match rows.first() {
                    Some(row) => row.try_get::<_, bool>(0).map_err(ignis_tx::Error::from)?,
                    None => false,
                }
            };
        Ok(*repo.shared.plans.copy_allowed.get_or_init(|| allowed))
    }

    /// `COPY <table> (<columns>) FROM STDIN BINARY` of `n` rows. A failure inside the caller's
    /// transaction leaves it failed, as a failed INSERT would: the COPY runs on the underlying
    /// client, outside ignis-tx's statement tracking, so a statement is sent through the executor
    /// afterwards to let it see the transaction is aborted (and refuse to commit it).
    fn copy_in(
        &mut self,
        columns: &[(&ignis_schema::Column, bool)],
        data: Vec<CopyColumn>,
        n: usize,
    ) -> Result<u64, RepoError> {
        let model = self.model();
        let sql = format!(
            "COPY {} ({}) FROM STDIN BINARY",
            model.quoted_table(),
            column_list(columns)
        );
        let types: Vec<ignis_tx::postgres::types::Type> =
            data.iter().map(CopyColumn::pg_type).collect();
        let client = self.exec.client()?;
        let copied = copy_rows(client, &sql, &types, &data, n);
        match copied {
            Ok(count) => Ok(count),
            Err(e) => {
                let _ = self.exec.execute("SELECT 1", &[]);
                Err(ignis_tx::Error::from(e).into())
            }
        }
    }

    fn update_where(
        &mut self,
        mut values: Vec<(String, sea_query::SimpleExpr)>,
        cond: Condition,
    ) -> Result<WriteResult<Vec<JsonValue>>, RepoError> {
        let model = self.model();
        if let Some(col) = model.column_by_property("modifiedAt") {
            if !values.iter().any(|(c, _)| *c == col.column) {
                values.push((col.column.clone(), Expr::cust("now()")));
            }
        }
        self.audit(&mut values, &["modifiedBy"])?;
        let mut q = Query::update();
        q.table(model.table_ref())
            .values(values.into_iter().map(|(c, e)| (Alias::new(c), e)))
            .cond_where(cond.to_sea_query(None));
        let (mut sql, vals) = q.build_postgres(PostgresQueryBuilder);
        let ret = self.returning();
        if let Some(r) = ret {
            sql.push_str(&r.sql);
        }
        let (count, data) = self
            .run_write(&sql, &vals, ret)
            .map_err(|e| self.name_regexp(Some(&cond), e))?;
        Ok(WriteResult { count, data })
    }

    /// [`RepoError::EmptyWhere`] unless forced when `where` restricts nothing the model's default
    /// filter does not already restrict: absent, `null`, `{}`, `and` / `or` groups that add no
    /// condition at any depth (`{"or": []}`, `{"and": [{}]}`, a chain of nested empty `and`s), an
    /// `or` with a member that matches everything, or conditions that are all part of the
    /// default filter (`default_applies`: the operation merges it). The TypeScript Ignis writes
    /// the whole table in each of these cases.
    ///
    /// # Errors
    /// [`RepoError::EmptyWhere`], or the where's own filter error.
    fn refuse_empty(
        &self,
        operation: &'static str,
        r#where: &JsonValue,
        default_applies: bool,
    ) -> Result<(), RepoError> {
        if self.repo.opts.force {
            return Ok(());
        }
        let model = self.model();
        let refuse = || {
            Err(RepoError::EmptyWhere {
                operation,
                model: model.name.clone(),
            })
        };
        if where_adds_nothing(r#where) {
            return refuse();
        }
        let mut own = Vec::new();
        conjuncts(parse_where(model, r#where, self.limits())?, &mut own);
        let mut defaults = Vec::new();
        if default_applies && !self.repo.opts.skip_default_filter {
            let default_where = model
                .default_filter
                .as_ref()
                .and_then(|f| f.get("where"))
                .filter(|w| !w.is_null());
            if let Some(w) = default_where {
                conjuncts(parse_where(model, w, self.limits())?, &mut defaults);
            }
        }
        if own
            .iter()
            .all(|c| c.matches_everything() || defaults.contains(c))
        {
            return refuse();
        }
        Ok(())
    }

    /// [`RepoError::InvalidData`] when `id` is null (or was missing): Ignis would then write
    /// with `WHERE id IS NULL` or, worse, no where at all.
    fn require_id(&self, operation: &str, id: &JsonValue) -> Result<(), RepoError> {
        if id.is_null() {
            return Err(invalid(
                self.model(),
                format!("{operation} needs an id; it is null or missing"),
            ));
        }
        Ok(())
    }

    /// See [`Repository::update_by_id`].
    ///
    /// # Errors
    /// As [`Repository::update_by_id`].
    pub fn update_by_id(
        &mut self,
        id: &JsonValue,
        data: &JsonValue,
    ) -> Result<WriteResult<Option<JsonValue>>, RepoError> {
        self.require_id("update_by_id", id)?;
        self.check_data(data)?;
        if let Some(r) = self.update_by_id_fast(id, data)? {
            return Ok(r);
        }
        let values = self.assignments(data, true)?;
        let cond = self
            .parse_where(&JsonValue::Null, false)?
            .and(self.id_condition(id)?);
        let r = self.update_where(values, cond)?;
        Ok(WriteResult {
            count: r.count,
            data: r.data.into_iter().next(),
        })
    }

    /// [`Scope::update_by_id`] written directly (`UPDATE .. SET .. WHERE <pk> = $n`) when the
    /// data sets whole columns only (no JSON paths), the model has no default filter to apply
    /// and the id binds plainly; `Ok(None)` otherwise, for the general path. Same checks, errors
    /// (in the same order), `modifiedAt` / `modifiedBy` handling and result.
    fn update_by_id_fast(
        &mut self,
        id: &JsonValue,
        data: &JsonValue,
    ) -> Result<Option<WriteResult<Option<JsonValue>>>, RepoError> {
        let repo: &'a Repository<ReadWrite> = self.repo;
        let model = repo.model();
        if model.default_filter.is_some() && !repo.opts.skip_default_filter {
            return Ok(None);
        }
        let Some(obj) = data.as_object() else {
            return Ok(None);
        };
        // Every key a column (JSON paths take the general path); checked as `assignments`
        // checks them, in its order.
        let mut values: Vec<(usize, Option<BoundValue>)> = Vec::with_capacity(obj.len() + 2);
        for (key, value) in obj {
            let Some(i) = model.columns.iter().position(|c| c.property == *key) else {
                return Ok(None);
            };
            let col = &model.columns[i];
            values.push((i, Some(written_value(model, col, key, value)?)));
        }
        // The id before the actor, as the general path checks them.
        let Some((pk, id_bound)) = self.pk_bound(id) else {
            return Ok(None);
        };
        for (prop, from_actor) in [("modifiedAt", false), ("modifiedBy", true)] {
            let Some(i) = model.columns.iter().position(|c| c.property == prop) else {
                continue;
            };
            let column = &model.columns[i].column;
            if values
                .iter()
                .any(|(j, _)| model.columns[*j].column == *column)
            {
                continue;
            }
            let value = if from_actor {
                Some(self.actor_bound(&model.columns[i])?)
            } else {
                None // now()
            };
            values.push((i, value));
        }
        if values.is_empty() {
            return Ok(None);
        }
        let (table, quoted) = self.quoted();
        let mut sql = String::with_capacity(64 + 24 * values.len());
        sql.push_str("UPDATE ");
        sql.push_str(table);
        sql.push_str(" SET ");
        let mut params = Vec::with_capacity(values.len() + 1);
        for (n, (i, bound)) in values.into_iter().enumerate() {
            if n > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&quoted[i]);
            sql.push_str(" = ");
            match bound {
                None => sql.push_str("now()"),
                Some(b) => {
                    params.push(PostgresValue(b.value));
                    sql.push('$');
                    sql.push_str(&params.len().to_string());
                    if let Some(cast) = &b.cast {
                        sql.push_str(cast);
                    }
                }
            }
        }
        params.push(PostgresValue(id_bound.value));
        sql.push_str(" WHERE ");
        sql.push_str(&quoted[pk]);
        sql.push_str(" = $");
        sql.push_str(&params.len().to_string());
        let ret = self.returning();
        if let Some(r) = ret {
            sql.push_str(&r.sql);
        }
        let (count, data) = self.run_write(&sql, &PostgresValues(params), ret)?;
        Ok(Some(WriteResult {
            count,
            data: data.into_iter().next(),
        }))
    }

    /// See [`Repository::update_all`].
    ///
    /// # Errors
    /// As [`Repository::update_all`].
    pub fn update_all(
        &mut self,
        data: &JsonValue,
        r#where: &JsonValue,
    ) -> Result<WriteResult<Vec<JsonValue>>, RepoError> {
        self.refuse_empty("update_all", r#where, true)?;
        self.check_data(data)?;
        let values = self.assignments(data, true)?;
        let cond = self.parse_where(r#where, false)?;
        self.update_where(values, cond)
    }

    fn delete_where(&mut self, cond: Condition) -> Result<WriteResult<Vec<JsonValue>>, RepoError> {
        let model = self.model();
        let mut q = Query::delete();
        q.from_table(model.table_ref())
            .cond_where(cond.to_sea_query(None));
        let (mut sql, vals) = q.build_postgres(PostgresQueryBuilder);
        let ret = self.returning();
        if let Some(r) = ret {
            sql.push_str(&r.sql);
        }
        let (count, data) = self
            .run_write(&sql, &vals, ret)
            .map_err(|e| self.name_regexp(Some(&cond), e))?;
        Ok(WriteResult { count, data })
    }

    /// See [`Repository::delete_by_id`].
    ///
    /// # Errors
    /// As [`Repository::delete_by_id`].
    pub fn delete_by_id(
        &mut self,
        id: &JsonValue,
    ) -> Result<WriteResult<Option<JsonValue>>, RepoError> {
        self.require_id("delete_by_id", id)?;
        let cond = self
            .parse_where(&JsonValue::Null, false)?
            .and(self.id_condition(id)?);
        let r = self.delete_where(cond)?;
        Ok(WriteResult {
            count: r.count,
            data: r.data.into_iter().next(),
        })
    }

    /// See [`Repository::delete_all`].
    ///
    /// # Errors
    /// As [`Repository::delete_all`].
    pub fn delete_all(
        &mut self,
        r#where: &JsonValue,
    ) -> Result<WriteResult<Vec<JsonValue>>, RepoError> {
        self.refuse_empty("delete_all", r#where, true)?;
        let cond = self.parse_where(r#where, false)?;
        self.delete_where(cond)
    }

    fn deleted_at(&self) -> Result<String, RepoError> {
        let model = self.model();
        model
            .column_by_property("deletedAt")
            .map(|c| c.column.clone())
            .ok_or_else(|| RepoError::NoSoftDelete(model.name.clone()))
    }

    fn set_deleted(
        &mut self,
        cond: Condition,
        deleted: bool,
    ) -> Result<WriteResult<Vec<JsonValue>>, RepoError> {
        let column = self.deleted_at()?;
        let value = if deleted {
            Expr::cust("now()")
        } else {
            Expr::cust("NULL")
        };
        self.update_where(vec![(column, value)], cond)
    }

    /// See [`Repository::soft_delete_by_id`].
    ///
    /// # Errors
    /// As [`Repository::soft_delete_by_id`].
    pub fn soft_delete_by_id(
        &mut self,
        id: &JsonValue,
    ) -> Result<WriteResult<Option<JsonValue>>, RepoError> {
        self.deleted_at()?;
        self.require_id("soft_delete_by_id", id)?;
        let cond = self
            .parse_where(&JsonValue::Null, false)?
            .and(self.id_condition(id)?);
        let r = self.set_deleted(cond, true)?;
        Ok(WriteResult {
            count: r.count,
            data: r.data.into_iter().next(),
        })
    }

    /// See [`Repository::soft_delete_all`].
    ///
    /// # Errors
    /// As [`Repository::soft_delete_all`].
    pub fn soft_delete_all(
        &mut self,
        r#where: &JsonValue,
    ) -> Result<WriteResult<Vec<JsonValue>>, RepoError> {
        self.deleted_at()?;
        self.refuse_empty("soft_delete_all", r#where, true)?;
        let cond = self.parse_where(r#where, false)?;
        self.set_deleted(cond, true)
    }

    /// See [`Repository::restore_by_id`].
    ///
    /// # Errors
    /// As [`Repository::restore_by_id`].
    pub fn restore_by_id(
        &mut self,
        id: &JsonValue,
    ) -> Result<WriteResult<Option<JsonValue>>, RepoError> {
        self.deleted_at()?;
        self.require_id("restore_by_id", id)?;
        let cond = self.id_condition(id)?;
        let r = self.set_deleted(cond, false)?;
        Ok(WriteResult {
            count: r.count,
            data: r.data.into_iter().next(),
        })
    }

    /// See [`Repository::restore_all`].
    ///
    /// # Errors
    /// As [`Repository::restore_all`].
    pub fn restore_all(
        &mut self,
        r#where: &JsonValue,
    ) -> Result<WriteResult<Vec<JsonValue>>, RepoError> {
        self.deleted_at()?;
        self.refuse_empty("restore_all", r#where, false)?;
        let cond = self.parse_where(r#where, true)?;
        self.set_deleted(cond, false)
    }
}

/// Whether a where JSON adds no condition: `null`, `{}`, and `and` / `or` groups of such (an `or`
/// that is empty or has a member adding nothing matches everything). `and` chains are walked
/// without recursion, however deep; an `or` member is judged recursively up to 64 levels (a
/// deeper `or` fails the filter's own depth limit when parsed).
fn where_adds_nothing(json: &JsonValue) -> bool {
    fn walk(json: &JsonValue, or_depth: usize) -> bool {
        let mut pending = vec![json];
        while let Some(v) = pending.pop() {
            match v {
                JsonValue::Null => {}
                JsonValue::Object(map) => {
                    for (key, value) in map {
                        match (key.as_str(), value) {
                            ("and", JsonValue::Array(items)) => pending.extend(items),
                            ("and" | "or", inner @ JsonValue::Object(_)) => pending.push(inner),
                            ("or", JsonValue::Array(items)) => {
                                let empty = items.is_empty()
                                    || (or_depth < 64
                                        && items.iter().any(|i| walk(i, or_depth + 1)));
                                if !empty {
                                    return false;
                                }
                            }
                            _ => return false,
                        }
                    }
                }
                _ => return false,
            }
        }
        true
    }
    walk(json, 0)
}

/// The conjuncts of `cond`, flattened out of nested `And`s (without recursion); an `Or` with a
/// member that matches everything counts as one conjunct matching everything.
fn conjuncts(cond: Condition, out: &mut Vec<Condition>) {
    let mut pending = vec![cond];
    while let Some(c) = pending.pop() {
        match c {
            Condition::And(parts) => pending.extend(parts),
            Condition::Or(parts) if parts.iter().any(Condition::matches_everything) => {
                out.push(Condition::And(Vec::new()));
            }
            other => out.push(other),
        }
    }
}

fn text_array(items: Vec<String>) -> sea_query::Value {
    sea_query::Value::Array(
        sea_query::ArrayType::String,
        Some(Box::new(
            items
                .into_iter()
                .map(|s| sea_query::Value::String(Some(s)))
                .collect(),
        )),
    )
}

/// A trie of JSON-path assignments into one json / jsonb column.
#[derive(Default)]
struct PathNode {
    value: Option<JsonValue>,
    children: Vec<(String, PathNode)>,
}

impl PathNode {
    /// Adds `value` at `path`; `false` when the path (or a prefix of it, or a path below it) is
    /// already assigned.
    fn insert(&mut self, path: &[String], value: &JsonValue) -> bool {
        let Some((first, rest)) = path.split_first() else {
            if self.value.is_some() || !self.children.is_empty() {
                return false;
            }
            self.value = Some(value.clone());
            return true;
        };
        if self.value.is_some() {
            return false;
        }
        let pos = match self.children.iter().position(|(k, _)| k == first) {
            Some(p) => p,
            None => {
                self.children.push((first.clone(), PathNode::default()));
                self.children.len() - 1
            }
        };
        self.children[pos].1.insert(rest, value)
    }

    /// `value`, or: the object at `prefix` in `current` (`{}` when missing or not an object)
    /// `||` an object of the children built the same way.
    fn to_expr(&self, current: &str, prefix: &mut Vec<String>) -> sea_query::SimpleExpr {
        if let Some(v) = &self.value {
            return Expr::cust_with_values(
                "$1::jsonb",
                [sea_query::Value::Json(Some(Box::new(v.clone())))],
            );
        }
        let mut exprs = Vec::with_capacity(2 + 2 * self.children.len());
        let base = format!(
            "(CASE WHEN jsonb_typeof({current} #> $1) = 'object' THEN {current} #> $2 ELSE '{{}}'::jsonb END)"
        );
        let p = text_array(prefix.clone());
        exprs.push(Expr::cust_with_values("$1::text[]", [p.clone()]));
        exprs.push(Expr::cust_with_values("$1::text[]", [p]));
        // jsonb_build_object takes at most 100 arguments (Postgres's FUNC_MAX_ARGS): the keys
        // go in objects of at most 50 pairs, concatenated.
        let mut template = format!("({base} || jsonb_build_object(");
        for (n, (key, child)) in self.children.iter().enumerate() {
            if n > 0 && n % 50 == 0 {
                template.push_str(") || jsonb_build_object(");
            } else if n > 0 {
                template.push_str(", ");
            }
            let k = exprs.len() + 1;
            template.push_str(&format!("${k}::text, ${}", k + 1));
            exprs.push(Expr::val(key.clone()));
            prefix.push(key.clone());
            exprs.push(child.to_expr(current, prefix));
            prefix.pop();
        }
        template.push_str("))");
        Expr::cust_with_exprs(template, exprs)
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync + Clone>() {}
    is::<ReadableRepository>();
    is::<DefaultCrudRepository>();
}
