//! Repositories: [`ReadableRepository`] and [`DefaultCrudRepository`] over one model.
//!
//! A [`Repository`] is a handle: the model, the schema, the datasource and the call options
//! (actor, default filter, `shouldReturn`, `force`), plus where it runs ([`Runner`]): on a
//! pooled connection per call ([`Pooled`], the default) or on an executor the caller holds
//! ([`On`], from [`Repository::on`]: a transaction, a savepoint or a connection). Every method
//! is written once, for both; the work is the query engine's (`query`) and the writers'
//! (`write`).

use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::Arc;

use ignis_schema::{Model, Schema};
use ignis_tx::{DataSource, Executor, TransactionOptions};
use serde::de::DeserializeOwned;
use serde_json::Value as JsonValue;

use crate::context::{Call, CallOptions, Plans, Shared};
use crate::filter::{FilterLimits, IntoFilter, IntoId, IntoWhere};
use crate::query::export::{CopyFormat, CopyReport};
use crate::query::sql::SchemaSql;
use crate::query::stream::{ExecSource, RowStream};
use crate::query::RangeResult;
use crate::rows::{Row, RowDecoder, SerdeRows};
use crate::{FromRow, RepoError};

/// Marker of a read-only repository: [`ReadableRepository`] has no write methods at all (a
/// compile error, where Ignis throws at run time).
#[derive(Debug)]
pub enum ReadOnly {}

/// Marker of a read-write repository: [`DefaultCrudRepository`].
#[derive(Debug)]
pub enum ReadWrite {}

/// Ignis `ReadableRepository`: find, find_one, find_by_id, count, exists_with, find with range.
/// `T` is the row type: JSON objects by default, or a [`FromRow`] type
/// (`ReadableRepository<User>` with `#[derive(FromRow)]`).
pub type ReadableRepository<T = JsonValue> = Repository<ReadOnly, Pooled, T>;

/// Ignis `DefaultCrudRepository`: the reads, plus create, create_all, update_by_id, update_all,
/// delete_by_id, delete_all, and soft delete / restore for models with `deletedAt`. `T` is the
/// row type, as for [`ReadableRepository`].
pub type DefaultCrudRepository<T = JsonValue> = Repository<ReadWrite, Pooled, T>;

/// A repository bound to an executor (see [`Repository::on`]): the same methods, run on that
/// transaction, savepoint or connection.
pub type Scope<'a, M, T = JsonValue> = Repository<M, On<'a>, T>;

mod sealed {
    pub trait Sealed {}
}

/// Where a [`Repository`] handle runs its statements: [`Pooled`] (a connection from the
/// datasource's pool per call) or [`On`] (an executor the caller holds). Sealed: the two are
/// all there is.
pub trait Runner: sealed::Sealed {
    /// Runs `f` on an executor.
    ///
    /// # Errors
    /// Checking out a connection; `f`'s errors; [`RepoError::HandleInUse`].
    #[doc(hidden)]
    fn run<T>(
        &self,
        ds: &DataSource,
        f: impl FnOnce(&mut dyn Executor) -> Result<T, RepoError>,
    ) -> Result<T, RepoError>;

    /// Runs `f` atomically: in a transaction of its own on the pool (retried on serialization
    /// failures and deadlocks, so `f` may run more than once), or on the caller's executor as
    /// it is (a transaction or savepoint is atomic; a bare connection is not).
    ///
    /// # Errors
    /// As [`Runner::run`].
    #[doc(hidden)]
    fn atomic<T>(
        &self,
        ds: &DataSource,
        f: impl FnMut(&mut dyn Executor) -> Result<T, RepoError>,
    ) -> Result<T, RepoError>;

    /// Runs the read `f`: on the pool through [`DataSource::read`] (a read replica when the
    /// datasource has usable ones, else the primary; run again elsewhere when its server goes
    /// away, so `f` may run more than once), or on the caller's executor as it is.
    ///
    /// # Errors
    /// As [`Runner::run`].
    #[doc(hidden)]
    fn read<T>(
        &self,
        ds: &DataSource,
        f: impl FnMut(&mut dyn Executor) -> Result<T, RepoError>,
    ) -> Result<T, RepoError>;
}

/// A handle that runs each call on a connection checked out of the datasource's pool, each
/// statement autocommitted (the default [`Runner`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Pooled;

impl sealed::Sealed for Pooled {}

impl Runner for Pooled {
    fn run<T>(
        &self,
        ds: &DataSource,
        f: impl FnOnce(&mut dyn Executor) -> Result<T, RepoError>,
    ) -> Result<T, RepoError> {
        let mut conn = ds.connection()?;
        f(&mut conn)
    }

    fn atomic<T>(
        &self,
        ds: &DataSource,
        mut f: impl FnMut(&mut dyn Executor) -> Result<T, RepoError>,
    ) -> Result<T, RepoError> {
        ds.transaction(TransactionOptions::default(), |tx| f(tx))
    }

    fn read<T>(
        &self,
        ds: &DataSource,
        mut f: impl FnMut(&mut dyn Executor) -> Result<T, RepoError>,
    ) -> Result<T, RepoError> {
        ds.read(|conn| f(conn))
    }
}

/// A handle that runs every call on one executor the caller holds: a
/// [`ignis_tx::Transaction`], a [`ignis_tx::Savepoint`] or a pooled connection (Ignis's
/// `options.transaction`). See [`Repository::on`].
pub struct On<'a>(RefCell<&'a mut dyn Executor>);

impl std::fmt::Debug for On<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("On(..)")
    }
}

impl sealed::Sealed for On<'_> {}

impl Runner for On<'_> {
    fn run<T>(
        &self,
        _: &DataSource,
        f: impl FnOnce(&mut dyn Executor) -> Result<T, RepoError>,
    ) -> Result<T, RepoError> {
        let mut exec = self
            .0
            .try_borrow_mut()
            .map_err(|_| RepoError::HandleInUse)?;
        f(&mut **exec)
    }

    fn atomic<T>(
        &self,
        ds: &DataSource,
        f: impl FnMut(&mut dyn Executor) -> Result<T, RepoError>,
    ) -> Result<T, RepoError> {
        self.run(ds, f)
    }

    fn read<T>(
        &self,
        ds: &DataSource,
        f: impl FnMut(&mut dyn Executor) -> Result<T, RepoError>,
    ) -> Result<T, RepoError> {
        self.run(ds, f)
    }
}

/// A repository over one model of a [`Schema`], on a [`DataSource`].
///
/// `M` is [`ReadOnly`] or [`ReadWrite`]; `R` is where calls run ([`Pooled`], or [`On`] an
/// executor: see [`Repository::on`]). A [`Pooled`] handle is `Send + Sync + Clone`: the model,
/// schema and pool are shared behind an `Arc`, so a clone costs two reference counts and rayon
/// worker threads can share one. On the pool each statement autocommits (`create_all` in
/// several statements runs in its own transaction); through [`Repository::on`] the same
/// methods run on the caller's transaction, savepoint or connection.
///
/// Rows are JSON objects keyed by property name (see the crate docs for the value shapes),
/// serde types (the `_as` methods) or [`FromRow`] types (the `_into` methods); the three are
/// decoded from the same queries. Hidden properties never appear in them.
///
/// ```no_run
/// use std::sync::Arc;
/// use serde_json::json;
/// use ignis_repo::prelude::*;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let schema: Arc<ignis_schema::Schema> = unimplemented!();
/// let ds = DataSource::from_env()?;
/// let users = DefaultCrudRepository::new(ds.clone(), schema, "User")?;
/// let created = users.create(&json!({"name": "Ada", "email": "ada@example.com"}))?;
/// let found = users.find(&json!({"where": {"name": {"ilike": "a%"}}, "order": "name", "limit": 10}))?;
/// ds.transaction(TransactionOptions::default(), |tx| {
///     users.on(tx).update_all(&json!({"status": "ACTIVE"}), &json!({"name": "Ada"}))?;
///     Ok::<_, RepoError>(())
/// })?;
/// # Ok(()) }
/// ```
pub struct Repository<M, R = Pooled, T = JsonValue> {
    shared: Arc<Shared>,
    opts: CallOptions,
    runner: R,
    _mode: PhantomData<fn() -> (M, T)>,
}

impl<M, E> Clone for Repository<M, Pooled, E> {
    fn clone(&self) -> Self {
        Repository {
            shared: self.shared.clone(),
            opts: self.opts.clone(),
            runner: Pooled,
            _mode: PhantomData,
        }
    }
}

impl<M, R, E> std::fmt::Debug for Repository<M, R, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository")
            .field(
                "model",
                &self.shared.schema.models()[self.shared.model].name,
            )
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

impl<M> Repository<M, Pooled> {
    /// A repository over the model named `model` of `schema`, with default [`FilterLimits`].
    /// Rows are JSON objects; [`Repository::for_model`] makes a repository whose rows are a
    /// derived model type, and [`Repository::typed`] turns this one into one.
    ///
    /// # Errors
    /// [`RepoError::UnknownModel`].
    pub fn new(ds: DataSource, schema: Arc<Schema>, model: &str) -> Result<Self, RepoError> {
        Self::build(ds, schema, model)
    }

    /// The same repository (model, options, plans) with rows read as `U`, a [`FromRow`] type:
    /// `users.typed::<User>().find(..)` returns `Vec<User>`.
    pub fn typed<U: FromRow>(&self) -> Repository<M, Pooled, U> {
        Repository {
            shared: self.shared.clone(),
            opts: self.opts.clone(),
            runner: Pooled,
            _mode: PhantomData,
        }
    }
}

impl<M, E> Repository<M, Pooled, E> {
    /// The repository over model `model` of `schema`, rows read as `E`.
    fn build(ds: DataSource, schema: Arc<Schema>, model: &str) -> Result<Self, RepoError> {
        let index = schema
            .models()
            .iter()
            .position(|m| m.name == model)
            .ok_or_else(|| RepoError::UnknownModel(model.to_string()))?;
        Ok(Repository {
            shared: Arc::new(Shared {
                ds,
                sql: SchemaSql::new(&schema),
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
            runner: Pooled,
            _mode: PhantomData,
        })
    }

    /// A repository over the model `E` describes (`#[derive(Model)]`: the model named
    /// [`ModelDef::MODEL_NAME`](ignis_schema::ModelDef::MODEL_NAME)) in `schema`, its rows read
    /// as `E` (`#[derive(FromRow)]`): `DefaultCrudRepository::<User>::for_model(ds, schema)`.
    ///
    /// # Errors
    /// [`RepoError::UnknownModel`] when `schema` has no such model.
    pub fn for_model(ds: DataSource, schema: Arc<Schema>) -> Result<Self, RepoError>
    where
        E: ignis_schema::ModelDef,
    {
        Self::build(ds, schema, E::MODEL_NAME)
    }

    /// The same repository with other filter limits.
    pub fn with_limits(&self, limits: FilterLimits) -> Self {
        Repository {
            shared: Arc::new(Shared {
                ds: self.shared.ds.clone(),
                schema: self.shared.schema.clone(),
                model: self.shared.model,
                limits,
                sql: SchemaSql::new(&self.shared.schema),
                plans: Plans::default(),
            }),
            opts: self.opts.clone(),
            runner: Pooled,
            _mode: PhantomData,
        }
    }

    fn with_opts(&self, f: impl FnOnce(&mut CallOptions)) -> Self {
        let mut r = self.clone();
        f(&mut r.opts);
        r
    }

    /// A handle whose writes fill the user-audit properties (`createdBy` on create, `modifiedBy`
    /// on create and update) with `actor` (coerced to the column's type), unless the data sets
    /// them itself. Without an actor they are written as null (Ignis `allowAnonymous`).
    pub fn with_actor(&self, actor: impl Into<JsonValue>) -> Self {
        let actor = Arc::new(actor.into());
        self.with_opts(|o| o.actor = Some(actor))
    }

    /// A handle that ignores the model's default filter (Ignis `shouldSkipDefaultFilter`), e.g.
    /// to see soft-deleted rows. Include scopes keep their own setting.
    pub fn skip_default_filter(&self) -> Self {
        self.with_opts(|o| o.skip_default_filter = true)
    }

    /// A handle whose writes return rows (`true`, the default: RETURNING) or only the count
    /// (Ignis `shouldReturn`).
    pub fn should_return(&self, should_return: bool) -> Self {
        self.with_opts(|o| o.should_return = should_return)
    }

    /// A handle whose `update_all` / `delete_all` accept an empty where (Ignis `force`).
    pub fn force(&self) -> Self {
        self.with_opts(|o| o.force = true)
    }

    /// This handle's methods on `exec`: a transaction, a savepoint or a pooled connection
    /// (Ignis's `options.transaction`). The returned handle borrows `exec` mutably for its
    /// life; each of its calls runs there, with this handle's options.
    pub fn on<'a>(&self, exec: &'a mut dyn Executor) -> Scope<'a, M, E> {
        Repository {
            shared: self.shared.clone(),
            opts: self.opts.clone(),
            runner: On(RefCell::new(exec)),
            _mode: PhantomData,
        }
    }
}

impl<M, R: Runner, E: Row> Repository<M, R, E> {
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

    /// How many find statements this repository keeps by filter document: `find`, `find_as`
    /// and `find_into` keep the statement of a filter without `fields` or `include` (at most
    /// 16), and answer a filter that differs from a kept one only in its values with it,
    /// unparsed. For tests and diagnostics.
    #[doc(hidden)]
    pub fn kept_finds(&self) -> usize {
        self.shared.plans.find_templates.len()
    }

    /// Runs `f` as one call on this handle's executor.
    pub(crate) fn call<T>(
        &self,
        f: impl FnOnce(&mut Call<'_>) -> Result<T, RepoError>,
    ) -> Result<T, RepoError> {
        self.runner.run(&self.shared.ds, |exec| {
            f(&mut Call {
                shared: &self.shared,
                opts: &self.opts,
                exec,
            })
        })
    }

    /// Runs the read `f` as one call (see [`Runner::read`]: on a pooled handle, a read replica
    /// may serve it).
    pub(crate) fn read_call<T>(
        &self,
        mut f: impl FnMut(&mut Call<'_>) -> Result<T, RepoError>,
    ) -> Result<T, RepoError> {
        self.runner.read(&self.shared.ds, |exec| {
            f(&mut Call {
                shared: &self.shared,
                opts: &self.opts,
                exec,
            })
        })
    }

    /// Runs `f` as one atomic call (see [`Runner::atomic`]).
    pub(crate) fn atomic<T>(
        &self,
        mut f: impl FnMut(&mut Call<'_>) -> Result<T, RepoError>,
    ) -> Result<T, RepoError> {
        self.runner.atomic(&self.shared.ds, |exec| {
            f(&mut Call {
                shared: &self.shared,
                opts: &self.opts,
                exec,
            })
        })
    }

    /// Rows matching an Ignis filter (`where`, `fields`, `order`, `limit`, `skip` / `offset`,
    /// `include`), with the model's default filter merged under it. `filter` is the filter
    /// JSON (`null` or `{}` for all rows). Rows are JSON objects keyed by property name, with
    /// included relations nested under their names.
    ///
    /// A service usually sends the same filter with other values. The repository keeps the
    /// statement of each filter without `fields` or `include` it plans (up to 16 documents;
    /// with a default filter, only for a [`Repository::skip_default_filter`] handle), and runs
    /// it for a later filter that equals that one except for values compared with a column
    /// (`{"status": "paid"}`, `{"total": {"gt": 10}}`, an `inq` list), which are coerced as the
    /// parser coerces them. That filter is not parsed again; a filter that differs in anything
    /// else (another key, operator, order or limit; a null, an array or an object where a
    /// value was; a value the column refuses) is parsed as usual, with the same rows and
    /// errors.
    ///
    /// # Errors
    /// [`RepoError::Filter`] for an invalid filter (nothing is sent), or a database error.
    pub fn find<'f>(&self, filter: impl IntoFilter<'f>) -> Result<Vec<E>, RepoError> {
        let filter = filter.into_filter();
        self.read_call(|c| c.find_json(&filter, &RowDecoder::new()))
    }

    /// [`Repository::find`], each row deserialized into `T` straight from the Postgres values
    /// (no JSON row in between; includes as nested fields).
    ///
    /// # Errors
    /// As [`Repository::find`], and [`RepoError::Deserialize`].
    pub fn find_as<'f, T: DeserializeOwned>(
        &self,
        filter: impl IntoFilter<'f>,
    ) -> Result<Vec<T>, RepoError> {
        let filter = filter.into_filter();
        self.read_call(|c| c.find_json(&filter, &SerdeRows::new()))
    }

    /// [`Repository::find`], each row built by `T`'s [`FromRow`] straight from the Postgres
    /// values (the fastest typed route: no serde, no text for timestamps).
    ///
    /// # Errors
    /// As [`Repository::find`], and whatever `T::from_row` returns.
    pub fn find_into<'f, T: FromRow>(
        &self,
        filter: impl IntoFilter<'f>,
    ) -> Result<Vec<T>, RepoError> {
        let filter = filter.into_filter();
        self.read_call(|c| c.find_json(&filter, &RowDecoder::<T>::new()))
    }

    fn first<T>(rows: Vec<T>) -> Option<T> {
        rows.into_iter().next()
    }

    /// The first row matching the filter (its `limit` replaced by 1), or `None`.
    ///
    /// # Errors
    /// As [`Repository::find`].
    pub fn find_one<'f>(&self, filter: impl IntoFilter<'f>) -> Result<Option<E>, RepoError> {
        let filter = filter.into_filter();
        self.read_call(|c| {
            let mut f = c.parse_filter(&filter)?;
            f.limit = Some(1);
            c.find(&f, &RowDecoder::new()).map(Self::first)
        })
    }

    /// [`Repository::find_one`], the row deserialized into `T` (includes as nested fields).
    ///
    /// # Errors
    /// As [`Repository::find`], and [`RepoError::Deserialize`].
    pub fn find_one_as<'f, T: DeserializeOwned>(
        &self,
        filter: impl IntoFilter<'f>,
    ) -> Result<Option<T>, RepoError> {
        let filter = filter.into_filter();
        self.read_call(|c| {
            let mut f = c.parse_filter(&filter)?;
            f.limit = Some(1);
            c.find(&f, &SerdeRows::new()).map(Self::first)
        })
    }

    /// The row whose primary key is `id` (and which the default filter lets through), or
    /// `None`.
    ///
    /// # Errors
    /// As [`Repository::find`], [`RepoError::NoPrimaryKey`], or an id of the wrong type.
    pub fn find_by_id<'i>(&self, id: impl IntoId<'i>) -> Result<Option<E>, RepoError> {
        let id = id.into_id();
        self.read_call(|c| c.find_by_id(&id, &JsonValue::Null, &RowDecoder::new()))
    }

    /// [`Repository::find_by_id`] with a filter: its `fields` and `include` apply, its `where`
    /// is ANDed (`order`, `limit` and `skip` mean nothing for one row).
    ///
    /// # Errors
    /// As [`Repository::find_by_id`].
    pub fn find_by_id_with<'i, 'f>(
        &self,
        id: impl IntoId<'i>,
        filter: impl IntoFilter<'f>,
    ) -> Result<Option<E>, RepoError> {
        let (id, filter) = (id.into_id(), filter.into_filter());
        self.read_call(|c| c.find_by_id(&id, &filter, &RowDecoder::new()))
    }

    /// [`Repository::find_by_id`], the row deserialized into `T`.
    ///
    /// # Errors
    /// As [`Repository::find_by_id`], and [`RepoError::Deserialize`].
    pub fn find_by_id_as<'i, 'f, T: DeserializeOwned>(
        &self,
        id: impl IntoId<'i>,
        filter: impl IntoFilter<'f>,
    ) -> Result<Option<T>, RepoError> {
        let (id, filter) = (id.into_id(), filter.into_filter());
        self.read_call(|c| c.find_by_id(&id, &filter, &SerdeRows::new()))
    }

    /// [`Repository::find_by_id`], the row built by `T`'s [`FromRow`].
    ///
    /// # Errors
    /// As [`Repository::find_by_id`], and whatever `T::from_row` returns.
    pub fn find_by_id_into<'i, 'f, T: FromRow>(
        &self,
        id: impl IntoId<'i>,
        filter: impl IntoFilter<'f>,
    ) -> Result<Option<T>, RepoError> {
        let (id, filter) = (id.into_id(), filter.into_filter());
        self.read_call(|c| c.find_by_id(&id, &filter, &RowDecoder::<T>::new()))
    }

    /// Number of rows matching a where (Ignis `count`).
    ///
    /// # Errors
    /// As [`Repository::find`].
    pub fn count<'w>(&self, r#where: impl IntoWhere<'w>) -> Result<u64, RepoError> {
        let r#where = r#where.into_where();
        self.read_call(|c| c.count(&c.parse_where(&r#where, false)?))
    }

    /// Whether any row matches a where (Ignis `existsWith`).
    ///
    /// # Errors
    /// As [`Repository::find`].
    pub fn exists_with<'w>(&self, r#where: impl IntoWhere<'w>) -> Result<bool, RepoError> {
        let r#where = r#where.into_where();
        self.read_call(|c| c.exists(&c.parse_where(&r#where, false)?))
    }

    /// [`Repository::find`] with the position of the rows in the whole result (Ignis
    /// `shouldQueryRange`): one count query and one find.
    ///
    /// # Errors
    /// As [`Repository::find`].
    pub fn find_with_range<'f>(
        &self,
        filter: impl IntoFilter<'f>,
    ) -> Result<RangeResult<E>, RepoError> {
        let filter = filter.into_filter();
        self.read_call(|c| c.find_with_range(&c.parse_filter(&filter)?, &RowDecoder::new()))
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn is<T: Send + Sync + Clone>() {}
    is::<ReadableRepository>();
    is::<DefaultCrudRepository>();
}

/// Streaming reads and exports (see `query::stream` and `query::export`): the pooled handle's
/// stream runs in a transaction of its own, the bound handle's in the caller's.
impl<M, E: Row> Repository<M, Pooled, E> {
    /// The rows of an Ignis filter, read through a server-side cursor in batches inside a
    /// `REPEATABLE READ READ ONLY` transaction of the stream's own: an iterator of
    /// `Result<E, RepoError>` holding one batch of rows at a time
    /// ([`RowStream::batch_size`]). The filter means what it means for
    /// [`Repository::find`] (`where`, `fields`, `order`, `limit`, `skip`, the default filter,
    /// hidden properties), and the rows are the same, decoded the same way. `include` is
    /// supported: each batch's rows get their related rows, one query per relation and level
    /// per batch.
    ///
    /// The transaction (and its pooled connection) ends when the stream is exhausted, yields
    /// an error (the iterator then ends) or is dropped.
    ///
    /// # Errors
    /// [`RepoError::Filter`] for an invalid filter (nothing is sent); checking out a
    /// connection, `BEGIN` or `DECLARE` failing. Errors while reading are items of the
    /// stream.
    pub fn find_iter<'f>(
        &self,
        filter: impl IntoFilter<'f>,
    ) -> Result<RowStream<'static, E>, RepoError> {
        let filter = filter.into_filter();
        RowStream::pooled(
            self.shared.clone(),
            self.opts.clone(),
            &self.shared.ds,
            &filter,
        )
    }
}

impl<'a, M, E: Row> Repository<M, On<'a>, E> {
    /// [`Repository::find_iter`] inside the transaction or savepoint this handle is bound to:
    /// the cursor is declared there (no transaction of its own), and closed when the stream is
    /// exhausted, yields an error or is dropped. The executor is borrowed per batch, so the
    /// handle can run other calls between the stream's items. A bare connection has no
    /// transaction block: the server refuses the cursor (SQLSTATE 25P01).
    ///
    /// # Errors
    /// [`RepoError::Filter`] for an invalid filter (nothing is sent);
    /// [`RepoError::HandleInUse`]; `DECLARE` failing. Errors while reading are items of the
    /// stream; a server error leaves the caller's transaction failed (commit reports it).
    pub fn find_iter<'f>(
        &self,
        filter: impl IntoFilter<'f>,
    ) -> Result<RowStream<'_, E>, RepoError> {
        let filter = filter.into_filter();
        RowStream::on(
            self.shared.clone(),
            self.opts.clone(),
            &self.runner,
            &filter,
        )
    }
}

impl ExecSource for On<'_> {
    fn with_exec(
        &self,
        f: &mut dyn FnMut(&mut dyn Executor) -> Result<(), RepoError>,
    ) -> Result<(), RepoError> {
        let mut exec = self
            .0
            .try_borrow_mut()
            .map_err(|_| RepoError::HandleInUse)?;
        f(&mut **exec)
    }
}

impl<M, R: Runner, E: Row> Repository<M, R, E> {
    /// Exports the model's table with `COPY .. TO STDOUT` in `format`, streamed to `writer` as
    /// the server sends it (one row in memory at a time): the model's columns in model order,
    /// hidden properties left out, a CSV header of property names when asked; every row, or
    /// the rows the model's default filter lets through unless this handle skips it. On a
    /// bound handle the export runs in the caller's transaction (its snapshot).
    ///
    /// Returns the rows exported and the bytes written.
    ///
    /// # Errors
    /// [`RepoError::Unsupported`] when the default filter binds values (`COPY` takes none);
    /// the server's error; [`RepoError::Output`] when `writer` fails (the export stops).
    pub fn copy_to(
        &self,
        mut writer: impl std::io::Write,
        format: CopyFormat,
    ) -> Result<CopyReport, RepoError> {
        // The raw client's COPY prepares a named statement: behind PgBouncer's transaction
        // pooling (StatementMode::Unnamed) it must run inside one transaction.
        if self.shared.ds.config().statement_mode == ignis_tx::StatementMode::Unnamed {
            return self.atomic(|c| c.copy_to(&mut writer, format));
        }
        self.call(|c| c.copy_to(&mut writer, format))
    }
}
