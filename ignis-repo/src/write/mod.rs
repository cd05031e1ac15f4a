//! Writes: INSERT (`insert`), binary COPY (`copy`), UPDATE with JSON-path assignments
//! (`update`), DELETE, soft delete and restore (`delete`). Each is one statement written with
//! the same [`SqlWriter`](crate::query::sql::SqlWriter) as the reads (the where of an update or
//! delete is the same walk), and a write that returns rows decodes them with the same
//! [`Decoder`]s.

mod common;
pub(crate) use common::returning_plan;
mod copy;
mod create;
mod data;
mod delete;
mod insert;
mod update;

pub use data::{CreateData, PatchData, WriteData, WriteValues};

use crate::filter::{IntoId, IntoWhere};
use crate::repository::{ReadWrite, Repository, Runner, WriteResult};
use crate::rows::{Row, RowDecoder};
use crate::RepoError;

impl<R: Runner, E: Row> Repository<ReadWrite, R, E> {
    /// Inserts one row (Ignis `create`). `data` is a JSON object keyed by property name, or a
    /// typed insert of the repository's model (the `New...` type of `#[derive(Writable)]`,
    /// see [`CreateData`]); missing properties take their column defaults (id, timestamps);
    /// user-audit properties come from the handle's actor unless given. Returns the row as
    /// stored.
    ///
    /// # Errors
    /// [`RepoError::InvalidData`] (unknown property, wrong value type, a column generated
    /// always), or the server's error (e.g. SQLSTATE 23505 for a duplicate); nothing is
    /// written then.
    pub fn create<D: CreateData<E> + ?Sized>(
        &self,
        data: &D,
    ) -> Result<WriteResult<Option<E>>, RepoError> {
        let data = data.write_data();
        self.call(|c| c.create(data, &RowDecoder::new()))
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
    /// order of the property sets' first rows. Typed rows ([`CreateData`]) are grouped by the
    /// properties they set and bound as arrays of their Rust values the same way (no COPY).
    ///
    /// # Errors
    /// As [`Repository::create`]; [`RepoError::InvalidData`] when `data` mixes JSON and
    /// typed rows.
    pub fn create_all<D: CreateData<E>>(
        &self,
        data: &[D],
    ) -> Result<WriteResult<Vec<E>>, RepoError> {
        let model = self.model();
        let rows = insert::Rows::of(model, data)?;
        let groups = rows.groups(model)?;
        if insert::one_statement(model, &groups) {
            return self.call(|c| c.create_all(&rows, groups, &RowDecoder::new()));
        }
        self.atomic(|c| {
            let groups = rows.groups(model)?;
            c.create_all(&rows, groups, &RowDecoder::new())
        })
    }

    /// Updates the row with primary key `id` (Ignis `updateById`): sets the given properties
    /// (a JSON object, or a typed patch of the repository's model that sets only its `Some`
    /// fields, see [`PatchData`]),
    /// `modifiedAt` to now and `modifiedBy` from the actor. Keys may be JSON paths into json /
    /// jsonb properties (`"metadata.a.b": 1` sets that key, creating missing objects, as Ignis
    /// `jsonb_set(.., create_missing true)`). The default filter applies (a soft-deleted row is
    /// not updated).
    ///
    /// # Errors
    /// As [`Repository::create`]; [`RepoError::NoPrimaryKey`]; [`RepoError::InvalidData`] for
    /// a null id.
    pub fn update_by_id<'i, D: PatchData<E> + ?Sized>(
        &self,
        id: impl IntoId<'i>,
        data: &D,
    ) -> Result<WriteResult<Option<E>>, RepoError> {
        let id = id.into_id();
        let data = data.write_data();
        self.call(|c| c.update_by_id(&id, data, &RowDecoder::new()))
    }

    /// Updates every row matching `where` (Ignis `updateAll`); see
    /// [`Repository::update_by_id`]. An empty `where` (one that restricts nothing beyond the
    /// default filter) is refused unless [`Repository::force`].
    ///
    /// # Errors
    /// [`RepoError::EmptyWhere`], and as [`Repository::update_by_id`].
    pub fn update_all<'w, D: PatchData<E> + ?Sized>(
        &self,
        data: &D,
        r#where: impl IntoWhere<'w>,
    ) -> Result<WriteResult<Vec<E>>, RepoError> {
        let r#where = r#where.into_where();
        let data = data.write_data();
        self.call(|c| c.update_all(data, &r#where, &RowDecoder::new()))
    }

    /// Deletes the row with primary key `id` (Ignis `deleteById`); returns it.
    ///
    /// # Errors
    /// [`RepoError::NoPrimaryKey`], a null id or one of the wrong type, or the server's error
    /// (e.g. 23503 when another row references it).
    pub fn delete_by_id<'i>(
        &self,
        id: impl IntoId<'i>,
    ) -> Result<WriteResult<Option<E>>, RepoError> {
        let id = id.into_id();
        self.call(|c| c.delete_by_id(&id, &RowDecoder::new()))
    }

    /// Deletes every row matching `where` (Ignis `deleteAll`); empty where refused unless
    /// forced.
    ///
    /// # Errors
    /// As [`Repository::update_all`].
    pub fn delete_all<'w>(
        &self,
        r#where: impl IntoWhere<'w>,
    ) -> Result<WriteResult<Vec<E>>, RepoError> {
        let r#where = r#where.into_where();
        self.call(|c| c.delete_all(&r#where, &RowDecoder::new()))
    }

    /// Soft delete: sets `deletedAt` to now on the row with primary key `id`.
    ///
    /// # Errors
    /// [`RepoError::NoSoftDelete`], and as [`Repository::update_by_id`].
    pub fn soft_delete_by_id<'i>(
        &self,
        id: impl IntoId<'i>,
    ) -> Result<WriteResult<Option<E>>, RepoError> {
        let id = id.into_id();
        self.call(|c| c.soft_delete_by_id(&id, &RowDecoder::new()))
    }

    /// Soft delete of every row matching `where`.
    ///
    /// # Errors
    /// As [`Repository::soft_delete_by_id`] and [`RepoError::EmptyWhere`].
    pub fn soft_delete_all<'w>(
        &self,
        r#where: impl IntoWhere<'w>,
    ) -> Result<WriteResult<Vec<E>>, RepoError> {
        let r#where = r#where.into_where();
        self.call(|c| c.soft_delete_all(&r#where, &RowDecoder::new()))
    }

    /// Restores a soft-deleted row (`deletedAt` back to null); the default filter is skipped so
    /// the row can be found.
    ///
    /// # Errors
    /// As [`Repository::soft_delete_by_id`].
    pub fn restore_by_id<'i>(
        &self,
        id: impl IntoId<'i>,
    ) -> Result<WriteResult<Option<E>>, RepoError> {
        let id = id.into_id();
        self.call(|c| c.restore_by_id(&id, &RowDecoder::new()))
    }

    /// Restores every soft-deleted row matching `where`.
    ///
    /// # Errors
    /// As [`Repository::soft_delete_all`].
    pub fn restore_all<'w>(
        &self,
        r#where: impl IntoWhere<'w>,
    ) -> Result<WriteResult<Vec<E>>, RepoError> {
        let r#where = r#where.into_where();
        self.call(|c| c.restore_all(&r#where, &RowDecoder::new()))
    }
}
